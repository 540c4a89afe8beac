"""Modules and layers: bookkeeping, state dicts, printing, and Linear/losses against PyTorch."""

import sys

import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad import nn
from tensorgrad.nn import functional as F

from ..oracle import torch

# ----------------------------------------------------------------------------- Parameter


def test_parameter_dtypes_and_flags():
    assert tg.Parameter([1, 2]).dtype == np.float64
    assert tg.Parameter(np.arange(3)).dtype == np.float64
    assert tg.Parameter(np.zeros(2, np.float32)).dtype == np.float32
    p = tg.Parameter(tg.tensor([1.0, 2.0]))
    assert p.requires_grad and p.is_leaf and isinstance(p, tg.Tensor)
    assert nn.Parameter is tg.Parameter
    assert repr(p).startswith("Parameter containing:\n")
    assert type(p * 2) is tg.Tensor  # results of ops are plain tensors
    src = np.ones(2)
    q = tg.Parameter(src)
    src[0] = 5
    assert q.data[0] == 1  # a copy
    with pytest.raises(TypeError):
        tg.Parameter(np.arange(3), dtype=np.int64)


# ----------------------------------------------------------------------------- walking


class Block(nn.Module):
    def __init__(self, shared=None):
        super().__init__()
        self.a = nn.Linear(2, 3, rng=0)
        self.scale = tg.Parameter([1.0])
        self.not_a_param = tg.tensor([1.0, 2.0], requires_grad=True)
        self.blocks = [nn.Linear(3, 3, rng=1), (nn.Tanh(), nn.Linear(3, 1, rng=2))]
        self.heads = {"x": tg.Parameter([2.0]), "y": nn.Linear(1, 1, bias=False, rng=3)}
        self.shared = shared
        self.again = self.scale  # shared: counted once, under its first name
        self.numbers = [1, "two", None]


def test_named_parameters_follow_attribute_order_through_containers():
    names = [n for n, _ in Block().named_parameters()]
    assert names == [
        "a.weight",
        "a.bias",
        "scale",
        "blocks.0.weight",
        "blocks.0.bias",
        "blocks.1.1.weight",
        "blocks.1.1.bias",
        "heads.x",
        "heads.y.weight",
    ]
    b = Block()
    assert [id(p) for p in b.parameters()] == [id(p) for _, p in b.named_parameters()]
    assert all(isinstance(p, tg.Parameter) for p in b.parameters())


def test_shared_modules_and_cycles_are_visited_once():
    inner = nn.Linear(2, 2, rng=0)
    outer = Block(shared=inner)
    outer.inner_again = inner
    inner.parent = outer  # a cycle back to the root
    names = [n for n, _ in outer.named_parameters()]
    assert names[-2:] == ["shared.weight", "shared.bias"]
    assert len(names) == len(set(names)) == 11
    mods = [n for n, _ in outer.named_modules()]
    assert mods == ["", "a", "blocks.0", "blocks.1.0", "blocks.1.1", "heads.y", "shared"]
    assert outer.modules()[0] is outer
    assert [n for n, _ in outer.named_children()] == [
        "a",
        "blocks.0",
        "blocks.1.0",
        "blocks.1.1",
        "heads.y",
        "shared",
    ]


def test_deep_module_chains_need_no_recursion():
    class Wrap(nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner
            self.p = tg.Parameter([0.0])

    model = nn.Linear(1, 1, rng=0)
    depth = sys.getrecursionlimit() * 2
    for _ in range(depth):
        model = Wrap(model)
    assert len(model.parameters()) == depth + 2
    assert len(model.modules()) == depth + 1
    assert len(model.state_dict()) == depth + 2
    text = repr(model)
    assert text.endswith(f"Total parameters: {depth + 2:,}")
    model.eval()
    assert not model.inner.inner.training


def test_zero_grad_train_eval():
    model = nn.Sequential(nn.Linear(2, 3, rng=0), nn.Dropout(0.5), nn.Linear(3, 1, rng=1))
    model(tg.ones(4, 2)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    model(tg.ones(4, 2)).sum().backward()
    grads = [p.grad for p in model.parameters()]
    model.zero_grad(set_to_none=False)  # zeros, in the same tensors (as PyTorch)
    assert [p.grad for p in model.parameters()] == grads
    assert all(not g.data.any() for g in grads)
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


# ----------------------------------------------------------------------------- state dicts


def test_state_dict_is_an_ordered_copy():
    model = nn.MLP(3, [4, 2], rng=0)
    state = model.state_dict()
    assert list(state) == ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"]
    assert all(isinstance(v, np.ndarray) for v in state.values())
    state["layers.0.weight"][...] = 0
    assert not (model.layers[0].weight.data == 0).all()


def test_load_state_dict_copies_values_casts_and_accepts_tensors():
    src, dst = nn.MLP(3, [4, 2], rng=0), nn.MLP(3, [4, 2], dtype=np.float32, rng=1)
    state = src.state_dict()
    state["layers.1.bias"] = tg.tensor(state["layers.1.bias"])
    buffers = [p.data for p in dst.parameters()]
    assert dst.load_state_dict(state) == ([], [])
    for p, q, buf in zip(src.parameters(), dst.parameters(), buffers):
        assert q.data is buf and q.dtype == np.float32  # updated in place, dtype kept
        np.testing.assert_allclose(q.data, p.data, rtol=1e-6)


def test_load_state_dict_reports_every_problem_at_once_and_changes_nothing():
    model = nn.MLP(3, [4, 2], rng=0)
    before = model.state_dict()
    state = nn.MLP(3, [4, 2], rng=1).state_dict()
    del state["layers.0.bias"]
    del state["layers.1.weight"]
    state["extra"] = np.zeros(1)
    state["layers.1.bias"] = np.zeros(5)
    state["layers.0.weight"] = np.zeros((4, 3), dtype=object)
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(state)
    msg = str(info.value)
    for text in [
        '"layers.0.bias"',
        '"layers.1.weight"',
        '"extra"',
        "size mismatch for layers.1.bias",
        "(5,)",
        "(2,)",
        "layers.0.weight: dtype object",
    ]:
        assert text in msg
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_load_state_dict_non_strict():
    model = nn.MLP(3, [4, 2], rng=0)
    other = nn.MLP(3, [4, 2], rng=1)
    state = other.state_dict()
    del state["layers.1.bias"]
    state["unused"] = np.zeros(2)
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys == ["layers.1.bias"] and result.unexpected_keys == ["unused"]
    np.testing.assert_array_equal(model.layers[1].weight.data, other.layers[1].weight.data)
    with pytest.raises(RuntimeError, match="size mismatch"):  # shapes are checked even then
        model.load_state_dict({"layers.1.bias": np.zeros(3)}, strict=False)
    with pytest.raises(TypeError, match="mapping"):
        model.load_state_dict([("a", 1)])


def _tie(model):
    """An encoder and a decoder sharing one weight, and the encoder again under a second name."""
    model.enc = model.Linear(3, 3)
    model.dec = model.Linear(3, 3)
    model.dec.weight = model.enc.weight
    model.again = model.enc
    return model


class RunningMean(nn.Module):
    """A batch norm's bookkeeping, cut down: a running mean of the batches, a count, and a
    scratch buffer that is not saved."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.scale = nn.Parameter(np.ones(width))
        self.register_buffer("running_mean", tg.zeros(width))
        self.register_buffer("seen", tg.tensor(0, dtype=np.int64))
        self.register_buffer("scratch", tg.zeros(2), persistent=False)

    def forward(self, x):
        if self.training:
            with tg.no_grad():  # a new tensor in the buffer's place, as PyTorch code does
                self.running_mean = 0.9 * self.running_mean + 0.1 * x.mean(axis=0)
                self.seen += 1
        return (x - self.running_mean) * self.scale


def test_buffers_are_saved_and_loaded_with_the_parameters(tmp_path):
    """Hand math: after batches with means [1, 2] and [3, 4] the running mean is
    0.1·[3, 4] + 0.9·0.1·[1, 2] = [0.39, 0.58], and two batches were seen."""
    model = nn.Sequential(RunningMean(2))
    model(tg.tensor([[0.0, 1.0], [2.0, 3.0]]))
    model(tg.tensor([[3.0, 4.0]]))
    assert list(model.state_dict()) == ["0.scale", "0.running_mean", "0.seen"]
    assert [n for n, _ in model.named_buffers()] == ["0.running_mean", "0.seen", "0.scratch"]
    assert model.parameters() == [model[0].scale]  # the optimizer's reach: no buffers
    np.testing.assert_allclose(model.state_dict()["0.running_mean"], [0.39, 0.58])
    tg.save(model.state_dict(), tmp_path / "bn.npz")
    fresh = nn.Sequential(RunningMean(2)).eval()
    fresh.load_state_dict(tg.load(tmp_path / "bn.npz"))
    np.testing.assert_allclose(fresh[0].running_mean.data, [0.39, 0.58])
    assert fresh[0].seen.item() == 2 and fresh[0].seen.dtype == np.int64
    np.testing.assert_allclose(fresh(tg.tensor([[1.0, 1.0]])).data, [[0.61, 0.42]])


def test_prefix_and_recurse_name_as_torch():
    """named_parameters/named_buffers(prefix=, recurse=) and parameters/buffers(recurse=)
    give the names torch gives the same model (torch lists a module's own Parameters
    before its submodules'; within each module the order is the same)."""

    def running_mean_in_torch():  # RunningMean's Parameter and buffers, in torch
        m = torch.nn.Module()
        m.scale = torch.nn.Parameter(torch.ones(2))
        m.register_buffer("running_mean", torch.zeros(2))
        m.register_buffer("seen", torch.tensor(0))
        m.register_buffer("scratch", torch.zeros(2), persistent=False)
        return m

    model = nn.Sequential(RunningMean(2), nn.Linear(2, 1))
    model.gain = nn.Parameter(np.ones(1))
    th = torch.nn.Sequential(running_mean_in_torch(), torch.nn.Linear(2, 1))
    th.gain = torch.nn.Parameter(torch.ones(1))
    for prefix in ("", "net"):
        for recurse in (True, False):
            for method in ("named_parameters", "named_buffers"):
                ours = getattr(model, method)(prefix=prefix, recurse=recurse)
                theirs = getattr(th, method)(prefix=prefix, recurse=recurse)
                assert sorted(n for n, _ in ours) == sorted(n for n, _ in theirs)
                ours = getattr(model[0], method)(prefix=prefix, recurse=recurse)
                theirs = getattr(th[0], method)(prefix=prefix, recurse=recurse)
                assert [n for n, _ in ours] == [n for n, _ in theirs]
    assert model.parameters(recurse=False) == [model.gain]
    assert model.buffers(recurse=False) == [] and len(model.buffers()) == 3


def test_a_state_dict_without_a_buffer_is_refused_whole():
    model = RunningMean(2)
    state = model.state_dict()
    del state["running_mean"]
    state["scale"] = np.full(2, 5.0)
    with pytest.raises(RuntimeError, match='Missing key.*"running_mean"'):
        model.load_state_dict(state)
    np.testing.assert_array_equal(model.scale.data, [1.0, 1.0])  # nothing was changed
    model.load_state_dict(state, strict=False)
    np.testing.assert_array_equal(model.scale.data, [5.0, 5.0])


def test_buffer_mistakes_are_named():
    model = RunningMean(2)
    with pytest.raises(TypeError, match="running_mean is a buffer; assign a Tensor"):
        model.running_mean = np.zeros(2)
    with pytest.raises(TypeError, match="'extra' must be a Tensor .*ndarray"):
        model.register_buffer("extra", np.zeros(2))
    with pytest.raises(TypeError, match="'extra' must be a Tensor .*Parameter"):
        model.register_buffer("extra", nn.Parameter(np.zeros(2)))
    for taken in ("scale", "training", "forward"):  # a Parameter, a flag, a method
        with pytest.raises(KeyError, match=f"attribute '{taken}' already exists"):
            model.register_buffer(taken, tg.zeros(2))
    assert isinstance(model.scale, nn.Parameter) and model.training is True
    plain = nn.Linear(2, 2)  # no buffers yet: the registry's own name was free to take
    with pytest.raises(KeyError, match="'_buffers' already exists"):
        plain.register_buffer("_buffers", tg.zeros(1))
    assert plain.named_buffers() == []
    with pytest.raises(ValueError, match="identifier"):
        model.register_buffer("a.b", tg.zeros(2))
    model.running_mean = None  # as PyTorch: a buffer may be None, and is then not saved
    assert list(model.state_dict()) == ["scale", "seen"]
    del model.seen  # unregisters it, as PyTorch
    model.seen = 3
    assert list(model.state_dict()) == ["scale"] and model.seen == 3


def test_a_buffer_shared_by_two_modules_is_listed_once():
    shared = tg.zeros(2)
    a, b = RunningMean(2), RunningMean(2)
    a.register_buffer("extra", shared)
    b.register_buffer("extra", shared)
    model = nn.Sequential(a, b)
    assert [n for n, _ in model.named_buffers()].count("1.extra") == 0
    assert sum(buf is shared for buf in model.buffers()) == 1


def test_a_read_only_array_is_reported_before_anything_is_loaded():
    """A buffer may be an op's result whose array is a read-only broadcast view: np.copyto
    failed on it after the Parameters before it had been loaded."""
    model = RunningMean(2)
    model.running_mean = tg.broadcast_to(tg.tensor([0.0]), (2,))
    state = {"scale": np.full(2, 5.0), "running_mean": np.ones(2), "seen": np.array(1)}
    with pytest.raises(RuntimeError, match="running_mean: the model's array is read-only"):
        model.load_state_dict(state)
    np.testing.assert_array_equal(model.scale.data, [1.0, 1.0])


def test_state_dict_lists_shared_parameters_under_every_name_as_torch():
    class Tied(nn.Module):
        Linear = nn.Linear

    class TorchTied(torch.nn.Module):
        Linear = torch.nn.Linear

    model, ref = _tie(Tied()), _tie(TorchTied())
    names = ["enc.weight", "enc.bias", "dec.weight", "dec.bias", "again.weight", "again.bias"]
    assert list(model.state_dict()) == list(ref.state_dict()) == names
    assert [n for n, _ in model.named_parameters()] == ["enc.weight", "enc.bias", "dec.bias"]

    state = model.state_dict()  # a file saved by one model loads into another
    state["dec.weight"] = state["enc.weight"] = np.full((3, 3), 2.0)
    del state["again.weight"]
    fresh = _tie(Tied())
    assert fresh.load_state_dict(state, strict=False).missing_keys == ["again.weight"]
    np.testing.assert_array_equal(fresh.dec.weight.data, np.full((3, 3), 2.0))
    with pytest.raises(RuntimeError, match='Missing key.*"again.weight"'):
        fresh.load_state_dict(state)


def test_a_module_that_holds_itself_is_walked_once() -> None:
    model = nn.Linear(2, 2)
    model.me = model
    assert list(model.state_dict()) == ["weight", "bias"]
    assert [n for n, _ in model.named_modules()] == [""]


# ----------------------------------------------------------------------------- Linear vs torch


def _torch_linear(lin):
    ref = torch.nn.Linear(lin.in_features, lin.out_features, bias=lin.bias is not None)
    ref = ref.to(torch.float64 if lin.weight.dtype == np.float64 else torch.float32)
    with torch.no_grad():
        ref.weight.copy_(torch.from_numpy(lin.weight.data))
        if lin.bias is not None:
            ref.bias.copy_(torch.from_numpy(lin.bias.data))
    return ref


@pytest.mark.parametrize("shape", [(5,), (4, 5), (2, 3, 5), (0, 5)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_forward_and_grads_match_torch(shape, bias):
    lin = nn.Linear(5, 3, bias=bias, rng=0)
    assert lin.weight.shape == (3, 5) and lin.weight.dtype == np.float64
    ref = _torch_linear(lin)
    x_np = np.random.default_rng(1).normal(size=shape)
    x = tg.tensor(x_np, requires_grad=True)
    xt = torch.tensor(x_np, requires_grad=True)
    out, out_t = lin(x), ref(xt)
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), atol=1e-12)
    g = np.random.default_rng(2).normal(size=out.shape)
    (out * tg.tensor(g)).sum().backward()
    (out_t * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(x.grad.data, xt.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(lin.weight.grad.data, ref.weight.grad.numpy(), atol=1e-12)
    if bias:
        np.testing.assert_allclose(lin.bias.grad.data, ref.bias.grad.numpy(), atol=1e-12)
    else:
        assert lin.bias is None and len(lin.parameters()) == 1


def test_linear_float32_and_numpy_input():
    lin = nn.Linear(4, 2, dtype=np.float32, rng=0)
    x = np.ones((3, 4), np.float32)
    out = lin(x)
    assert out.dtype == np.float32 and lin.bias.dtype == np.float32
    ref = _torch_linear(lin)
    np.testing.assert_allclose(out.data, ref(torch.from_numpy(x)).detach().numpy(), atol=1e-6)
    assert "dtype=float32" in repr(lin)


def test_linear_bad_input():
    lin = nn.Linear(4, 2, rng=0)
    with pytest.raises(ValueError, match=r"\(\.\.\., 4\).*\(3, 5\)"):
        lin(tg.ones(3, 5))
    with pytest.raises(ValueError):
        nn.Linear(-1, 2)
    with pytest.raises(TypeError, match="floating"):
        nn.Linear(2, 2, dtype=np.int32)


def test_linear_seeded_construction():
    a, b = nn.Linear(3, 2, rng=7), nn.Linear(3, 2, rng=7)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    assert not np.array_equal(a.weight.data, nn.Linear(3, 2, rng=8).weight.data)


# ------------------------------------------------------------------------ activations and losses


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (nn.ReLU(), torch.nn.ReLU()),
        (nn.Tanh(), torch.nn.Tanh()),
        (nn.Sigmoid(), torch.nn.Sigmoid()),
        (nn.GELU(), torch.nn.GELU()),
        (nn.GELU("tanh"), torch.nn.GELU("tanh")),
        (nn.Identity(), torch.nn.Identity()),
    ],
)
def test_activation_modules_match_torch(ours, theirs):
    x_np = np.random.default_rng(0).normal(size=(4, 5)) * 3
    x, xt = tg.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    out, out_t = ours(x), theirs(xt)
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), atol=1e-12)
    (out**2).sum().backward()
    (out_t**2).sum().backward()
    np.testing.assert_allclose(x.grad.data, xt.grad.numpy(), atol=1e-12)


def _loss_cases():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(6, 4)) * 2
    labels = rng.integers(0, 4, size=6)
    probs = 1 / (1 + np.exp(-rng.normal(size=(6, 3))))
    targets = rng.random(size=(6, 3))
    return [
        ("CrossEntropyLoss", logits, labels, torch.tensor(labels)),
        ("MSELoss", logits, logits[::-1].copy(), torch.tensor(logits[::-1].copy())),
        ("BCELoss", probs, targets, torch.tensor(targets)),
        ("BCEWithLogitsLoss", logits[:, :3] * 5, targets, torch.tensor(targets)),
    ]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", _loss_cases(), ids=lambda c: c[0])
def test_loss_modules_match_torch_through_a_linear_layer(case, reduction):
    name, x_np, target, target_t = case
    lin = nn.Linear(x_np.shape[1], x_np.shape[1], rng=0)
    ref = _torch_linear(lin)
    # feed the layer an input that reproduces x_np at its output, so BCELoss sees probabilities
    x_in = np.linalg.solve(lin.weight.data, (x_np - lin.bias.data).T).T
    loss = getattr(nn, name)(reduction=reduction)(lin(tg.tensor(x_in)), target)
    loss_t = getattr(torch.nn, name)(reduction=reduction)(ref(torch.tensor(x_in)), target_t)
    np.testing.assert_allclose(loss.data, loss_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = np.random.default_rng(1).random(size=loss.shape)
    (loss * tg.tensor(g)).sum().backward()
    (loss_t * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(lin.weight.grad.data, ref.weight.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(lin.bias.grad.data, ref.bias.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_loss_module_bad_reduction():
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")


# ----------------------------------------------------------------------------- Sequential


def test_sequential_container_protocol_and_names():
    layers = [nn.Linear(2, 4, rng=0), nn.ReLU(), nn.Linear(4, 1, rng=1)]
    model = nn.Sequential(*layers)
    assert len(model) == 3 and list(model) == layers and model[-1] is layers[2]
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]  # as torch
    head = model[:2]
    assert isinstance(head, nn.Sequential) and list(head) == layers[:2]
    x = tg.randn(5, 2)
    np.testing.assert_allclose(model(x).data, layers[2](layers[1](layers[0](x))).data)
    model.append(nn.Sigmoid())
    assert len(model) == 4 and (model(x).data > 0).all()
    named = nn.Sequential({"hidden": nn.Linear(2, 3, rng=0), "act": nn.Tanh()})
    assert list(named.state_dict()) == ["hidden.weight", "hidden.bias"]
    assert named[1].__class__ is nn.Tanh
    with pytest.raises(TypeError, match="not a Module"):
        nn.Sequential(nn.ReLU(), lambda x: x)


def test_sequential_slices_keep_their_names_as_torch():
    model = nn.Sequential(nn.Linear(2, 3, rng=0), nn.ReLU(), nn.Linear(3, 1, rng=1))
    ref = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    assert list(model[1:].state_dict()) == list(ref[1:].state_dict()) == ["2.weight", "2.bias"]
    named = nn.Sequential({"fc": nn.Linear(2, 2, rng=0), "act": nn.ReLU()})
    assert list(named[:1].state_dict()) == ["fc.weight", "fc.bias"]


@pytest.mark.parametrize("name", ["forward", "parameters", "state_dict", "a.b", ""])
def test_sequential_refuses_names_that_hide_methods_or_hold_a_dot(name):
    with pytest.raises(ValueError, match=f"Sequential: .*{name!r}"):
        nn.Sequential({"fc": nn.Linear(2, 2, rng=0), name: nn.ReLU()})


def test_sequential_state_dict_loads_into_torch():
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.Tanh(), nn.Linear(4, 2, rng=1))
    ref = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    ref = ref.double()
    ref.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()})
    x = np.random.default_rng(0).normal(size=(5, 3))
    np.testing.assert_allclose(model(x).data, ref(torch.tensor(x)).detach().numpy(), atol=1e-12)


# ----------------------------------------------------------------------------- Dropout


def test_dropout_train_and_eval():
    drop = nn.Dropout(0.3, rng=0)
    x = tg.ones(200, 500, requires_grad=True)
    out = drop(x)
    kept = out.data != 0
    assert abs(1 - kept.mean() - 0.3) < 0.005
    np.testing.assert_allclose(out.data[kept], 1 / 0.7)  # inverted scaling
    assert abs(out.data.mean() - 1) < 0.01  # expectation preserved
    out.sum().backward()
    np.testing.assert_allclose(x.grad.data, kept / 0.7)  # gradient flows through the mask
    drop.eval()
    assert drop(x) is x or np.array_equal(drop(x).data, x.data)
    assert nn.Dropout(1.0)(x).data.sum() == 0
    np.testing.assert_array_equal(nn.Dropout(0.0)(x).data, x.data)


def test_dropout_seeding_and_float32():
    a = nn.Dropout(0.5, rng=3)(tg.ones(50)).data
    b = nn.Dropout(0.5, rng=3)(tg.ones(50)).data
    np.testing.assert_array_equal(a, b)
    tg.manual_seed(1)
    c = nn.Dropout(0.5)(tg.ones(50)).data
    tg.manual_seed(1)
    d = nn.Dropout(0.5)(tg.ones(50)).data
    np.testing.assert_array_equal(c, d)
    assert nn.Dropout(0.5, rng=0)(tg.ones(4, dtype=np.float32)).dtype == np.float32
    for p in (-0.1, 1.5, "half", True):
        with pytest.raises(ValueError, match="probability"):
            nn.Dropout(p)
    assert nn.Dropout(np.float32(0.25)).p == 0.25  # any real number, NumPy's too


def test_functional_dropout_takes_the_rng_forms_every_rng_argument_takes():
    """An int seed, a Generator or None, as for nn.Dropout, init and data."""
    x = tg.ones(50)
    seeded = F.dropout(x, 0.5, rng=3).data
    np.testing.assert_array_equal(seeded, F.dropout(x, 0.5, rng=3).data)
    np.testing.assert_array_equal(seeded, F.dropout(x, 0.5, rng=np.random.default_rng(3)).data)
    assert set(np.unique(seeded)) == {0.0, 2.0}
    tg.manual_seed(1)
    first = F.dropout(x, 0.5).data
    tg.manual_seed(1)
    np.testing.assert_array_equal(first, F.dropout(x, 0.5).data)
    with pytest.raises(TypeError, match="rng must be None, an int seed or a numpy.random.Gen"):
        F.dropout(x, 0.5, rng="3")


# ----------------------------------------------------------------------------- MLP and printing


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear"])
def test_mlp_applies_activation_to_all_but_the_last_layer(activation):
    model = nn.MLP(3, [5, 4, 2], activation=activation, rng=0)
    assert [type(m) for m in model.layers] == [nn.Linear] * 3
    x = np.random.default_rng(0).normal(size=(6, 3))
    h = x
    act = {
        "relu": lambda v: np.maximum(v, 0),
        "tanh": np.tanh,
        "sigmoid": lambda v: 1 / (1 + np.exp(-v)),
        "linear": lambda v: v,
    }[activation]
    for i, layer in enumerate(model.layers):
        h = h @ layer.weight.data.T + layer.bias.data
        if i < 2:
            h = act(h)
    np.testing.assert_allclose(model(tg.tensor(x)).data, h, atol=1e-12)


def test_mlp_bad_arguments():
    with pytest.raises(ValueError, match="activation"):
        nn.MLP(2, [3, 1], activation="gelu")
    with pytest.raises(ValueError, match="at least one"):
        nn.MLP(2, [])


def test_repr_of_a_module_that_refers_back_to_its_parent():
    """A back-reference is shown, not walked again: the repr ends."""

    class Child(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = nn.Linear(1, 1, rng=0)

    class Parent(nn.Module):
        def __init__(self):
            super().__init__()
            self.child = Child()
            self.child.parent = self

    assert repr(Parent()).splitlines()[:5] == [
        "Parent(",
        "  (child): Child(",
        "    (layer): Linear(in_features=1, out_features=1, bias=True)",
        "    (parent): Parent(...)  # a module above this one",
        "  )",
    ]


def test_repr_shows_a_shared_module_under_each_of_its_names():
    """Sequential(Linear, act, Linear, act) with one ReLU: four entries, as PyTorch prints."""
    act = nn.ReLU()
    model = nn.Sequential(nn.Linear(2, 2, rng=0), act, nn.Linear(2, 2, rng=1), act)
    lines = repr(model).splitlines()
    assert [line.split(":")[0].strip() for line in lines[1:5]] == ["(0)", "(1)", "(2)", "(3)"]
    assert lines[2] == "  (1): ReLU()" and lines[4] == "  (3): ReLU()"
    assert len(model.children()) == 3  # children() lists it once, as PyTorch's


def test_train_calls_a_submodules_own_train():
    """As PyTorch: a block whose train() keeps its Dropout in eval mode keeps it so, also
    with a reference back to its parent (which must not loop)."""

    class FrozenDropout(nn.Module):
        def __init__(self):
            super().__init__()
            self.drop = nn.Dropout(0.5)

        def train(self, mode=True):
            super().train(mode)
            self.drop.eval()
            return self

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = FrozenDropout()
            self.other = nn.Dropout(0.5)
            self.block.parent = self

    net = Net()
    assert net.train() is net
    assert net.training and net.other.training and net.block.training
    assert not net.block.drop.training
    net.eval()
    assert not any(m.training for m in net.modules())


def test_repr_is_a_readable_tree_with_parameter_counts():
    model = nn.Sequential(
        nn.Linear(20, 50, rng=0), nn.ReLU(), nn.Dropout(0.1), nn.MLP(50, [10, 3], rng=0)
    )
    text = repr(model)
    assert text.splitlines() == [
        "Sequential(",
        "  (0): Linear(in_features=20, out_features=50, bias=True)",
        "  (1): ReLU()",
        "  (2): Dropout(p=0.1)",
        "  (3): MLP(",
        "    50 -> 10 -> 3, activation='relu'",
        "    (layers.0): Linear(in_features=50, out_features=10, bias=True)",
        "    (layers.1): Linear(in_features=10, out_features=3, bias=True)",
        "  )",
        ")",
        "Total parameters: 1,593",
    ]
    assert model.num_parameters() == 20 * 50 + 50 + 50 * 10 + 10 + 10 * 3 + 3
    assert repr(nn.ReLU()) == "ReLU()"
    model[0].bias.requires_grad = False
    assert repr(model).endswith("Total parameters: 1,593 (1,543 trainable)")


def test_a_plain_tensor_in_a_parameters_place_is_refused_as_in_pytorch():
    """lin.weight = tg.tensor(...) silently took the weight out of parameters() and
    state_dict(), so the optimizer no longer trained it."""
    lin = nn.Linear(2, 3)
    for value in (tg.tensor(np.zeros((3, 2))), np.zeros((3, 2)), 3.0):
        with pytest.raises(TypeError, match=r"Linear.weight is a Parameter; a (Tensor|nd|fl)"):
            lin.weight = value
    assert len(lin.parameters()) == 2
    lin.weight = nn.Parameter(np.zeros((3, 2)))  # a Parameter, or anything else, is fine
    assert lin.parameters()[0] is lin.weight
    lin.bias = None
    assert len(lin.parameters()) == 1


def test_gelu_names_a_bad_approximation():
    with pytest.raises(ValueError, match="GELU: approximate must be 'none' or 'tanh', got 'fast'"):
        nn.GELU("fast")
    with pytest.raises(ValueError, match="gelu: approximate must be 'none' or 'tanh', got 'x'"):
        nn.functional.gelu(tg.ones(2), approximate="x")


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_float16_gelu_is_computed_in_float32_as_torch(approximate):
    """x³ overflows float16 past 40: the tanh form's gradient was nan at 300, and exact
    GELU at -4 was 0 (the true value is -1.3e-4)."""
    a = np.array([-3.0, -4.0, 0.5, 50.0, 300.0], np.float16)
    x = tg.tensor(a, requires_grad=True)
    y = nn.functional.gelu(x, approximate)
    tx = torch.tensor(a, requires_grad=True)
    ty = torch.nn.functional.gelu(tx, approximate=approximate)
    assert y.dtype == np.float16
    np.testing.assert_array_equal(y.data, ty.detach().numpy())
    y.backward(np.ones(5, np.float16))
    ty.backward(torch.ones(5, dtype=torch.float16))
    assert x.grad.dtype == np.float16 and np.isfinite(x.grad.data).all()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=2e-3, atol=1e-6)
