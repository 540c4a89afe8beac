"""Module API against torch.nn: ModuleList, ModuleDict, apply, requires_grad_, to/float."""

import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad import nn

from ..oracle import torch


def _gpt_like(lib, n_blocks=2, **rng):
    """nanoGPT's layout: a ModuleDict holding an embedding, a ModuleList of blocks and a
    final norm. ``lib`` is tensorgrad's nn or torch's."""

    class Block(lib.Module):
        def __init__(self):
            super().__init__()
            self.ln = lib.LayerNorm(4)
            self.fc = lib.Linear(4, 4, **rng)

        def forward(self, x):
            return x + self.fc(self.ln(x)).tanh()

    class Model(lib.Module):
        def __init__(self):
            super().__init__()
            self.transformer = lib.ModuleDict(
                dict(
                    wte=lib.Embedding(7, 4),
                    h=lib.ModuleList([Block() for _ in range(n_blocks)]),
                    ln_f=lib.LayerNorm(4),
                )
            )
            self.head = lib.Linear(4, 7, **rng)

        def forward(self, ids):
            x = self.transformer.wte(ids)
            for block in self.transformer.h:
                x = block(x)
            return self.head(self.transformer["ln_f"](x))

    return Model()


def test_a_nanogpt_layout_has_torchs_names_and_runs_on_its_weights():
    ours, ref = _gpt_like(nn, rng=0), _gpt_like(torch.nn).double()
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in ref.named_parameters()]
    ours.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    ids = np.array([[1, 4, 6], [0, 2, 2]])
    out, want = ours(ids), ref(torch.tensor(ids))
    np.testing.assert_allclose(out.data, want.detach().numpy(), rtol=1e-12, atol=1e-12)
    out.sum().backward()
    want.sum().backward()
    grads = dict(ref.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.data, grads[name].grad.numpy(), rtol=1e-10, atol=1e-12)


def test_module_list_behaves_as_torchs():
    layers = [nn.Linear(2, 2, rng=i) for i in range(3)]
    ml = nn.ModuleList(layers[:2])
    ref = torch.nn.ModuleList([torch.nn.Linear(2, 2) for _ in range(3)][:2])
    assert len(ml) == 2 and list(ml) == layers[:2] and ml[-1] is layers[1]
    assert ml.append(layers[2]) is ml and len(ml) == 3
    ref.append(torch.nn.Linear(2, 2))
    assert list(ml.state_dict()) == list(ref.state_dict())
    tail = ml[1:]  # a new list, numbered from 0, as torch's
    assert isinstance(tail, nn.ModuleList) and list(tail) == layers[1:]
    assert (
        list(tail.state_dict())
        == list(ref[1:].state_dict())
        == [
            "0.weight",
            "0.bias",
            "1.weight",
            "1.bias",
        ]
    )
    new = nn.Linear(2, 2, rng=9)
    ml[0] = new
    assert ml[0] is new and ml.parameters()[0] is new.weight
    ml.extend([nn.ReLU(), nn.Tanh()])
    assert [type(m).__name__ for m in ml] == ["Linear", "Linear", "Linear", "ReLU", "Tanh"]
    with pytest.raises(NotImplementedError, match="ModuleList does not define forward"):
        ml(1.0)


def test_module_dict_behaves_as_torchs():
    a, b, c = nn.Linear(2, 2, rng=0), nn.ReLU(), nn.Tanh()
    md = nn.ModuleDict({"proj": a, "act": b})
    assert md.keys() == ["proj", "act"] and md.values() == [a, b]
    assert md.items() == [("proj", a), ("act", b)] and list(md) == ["proj", "act"]
    assert "proj" in md and "nope" not in md and md.proj is a and md["act"] is b
    md["act"] = c  # replacing keeps the place, as torch's
    md["out"] = nn.Linear(2, 1, rng=1)
    assert md.keys() == ["proj", "act", "out"] and md.act is c and len(md) == 3
    md.update([("extra", nn.Identity())])
    assert md.keys()[-1] == "extra"
    ref = torch.nn.ModuleDict(
        {"proj": torch.nn.Linear(2, 2), "act": torch.nn.Tanh(), "out": torch.nn.Linear(2, 1)}
    )
    assert list(md.state_dict()) == list(ref.state_dict())


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: nn.ModuleList([nn.ReLU(), "relu"]), TypeError, "'1' is a str, not a Module"),
        (lambda: nn.ModuleList([nn.ReLU()])[1], IndexError, "index 1 is out of range for 1"),
        (lambda: nn.ModuleDict({"keys": nn.ReLU()}), ValueError, "reserved name 'keys'"),
        (lambda: nn.ModuleDict({"training": nn.ReLU()}), ValueError, "reserved name 'train"),
        (lambda: nn.ModuleDict({"a.b": nn.ReLU()}), ValueError, "without '.', got 'a.b'"),
        (lambda: nn.ModuleDict({"a": nn.ReLU()})["b"], KeyError, "no module 'b'"),
    ],
)
def test_container_misuse_names_the_problem(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_a_bad_entry_adds_none_of_its_batch():
    ml = nn.ModuleList([nn.ReLU()])
    with pytest.raises(TypeError, match="'2' is a int"):
        ml.extend([nn.Tanh(), 3])
    assert len(ml) == 1 and not hasattr(ml, "1")
    md = nn.ModuleDict({"a": nn.ReLU()})
    with pytest.raises(ValueError, match="reserved name 'forward'"):
        md.update({"b": nn.Tanh(), "forward": nn.ReLU()})
    assert md.keys() == ["a"]


def test_apply_visits_modules_in_torchs_order():
    """Children's subtrees in turn, each module after its children: the order in which
    an init function draws its random numbers."""
    seen, want = [], []
    ours, ref = _gpt_like(nn, rng=0), _gpt_like(torch.nn)
    assert ours.apply(lambda m: seen.append(type(m).__name__)) is ours
    ref.apply(lambda m: want.append(type(m).__name__))
    assert seen == want and seen[-1] == "Model" and seen.count("Block") == 2


def test_apply_initialises_weights_as_in_torch_scripts():
    def init_weights(m):
        if isinstance(m, nn.Linear):
            nn.init.constant_(m.weight, 0.5)
            nn.init.zeros_(m.bias)

    model = _gpt_like(nn, rng=0).apply(init_weights)
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert len(linears) == 3 and all((m.weight.data == 0.5).all() for m in linears)


def test_requires_grad_freezes_parameters():
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.Tanh(), nn.Linear(4, 1, rng=1))
    assert model[0].requires_grad_(False) is model[0]
    model(tg.ones((2, 3))).sum().backward()
    assert model[0].weight.grad is None and model[0].bias.grad is None
    assert model[2].weight.grad is not None
    with pytest.raises(TypeError, match="requires_grad must be True or False, got 'no'"):
        model.requires_grad_("no")
    assert model[2].weight.requires_grad and not model[0].weight.requires_grad
    model.requires_grad_()
    assert all(p.requires_grad for p in model.parameters())


def test_module_float_casts_in_place_and_matches_torchs_float():
    """model.float(): Parameters, floating buffers and gradients become float32; the
    objects stay (an optimizer made before still moves them); an integer buffer stays.
    Its float32 forward matches PyTorch's model.float() on the same weights."""
    ours = nn.Sequential(
        nn.Linear(3, 4, rng=0), nn.BatchNorm1d(4), nn.Tanh(), nn.Linear(4, 2, rng=1)
    )
    ref = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Tanh(), torch.nn.Linear(4, 2)
    )
    ref.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    opt = tg.optim.SGD(ours.parameters(), lr=0.1)
    x = np.random.default_rng(0).normal(size=(5, 3))
    stale = ours(tg.tensor(x)).sum()  # a graph made before the cast
    weight = ours[0].weight
    weight.grad = tg.tensor(np.ones((4, 3)))
    assert ours.float() is ours and ours[0].weight is weight
    assert weight.dtype == weight.grad.dtype == np.float32
    assert ours[1].running_var.dtype == np.float32
    assert ours[1].num_batches_tracked.dtype == np.int64
    out = ours(tg.tensor(x, dtype=np.float32))
    want = ref.float()(torch.tensor(x, dtype=torch.float32))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, want.detach().numpy(), rtol=1e-5, atol=1e-6)
    before = weight.data.copy()
    opt.step()
    assert weight.dtype == np.float32 and not np.array_equal(weight.data, before)
    with pytest.raises(RuntimeError, match="changed in place"):
        stale.backward()
    assert ours.double()[0].weight.dtype == np.float64


def test_to_a_device_or_a_bad_dtype():
    model = nn.Linear(2, 2, rng=0)
    for nothing in ("cpu", "cpu:0", None):  # None: np.dtype(None) would be float64
        assert model.float().to(nothing) is model and model.weight.dtype == np.float32
        assert tg.ones(2, dtype=np.float32).to(nothing).dtype == np.float32
    model.double()
    with pytest.raises(ValueError, match="on the CPU; no 'cuda'"):
        model.to("cuda")
    with pytest.raises(TypeError, match="expected a floating dtype or 'cpu', got int32"):
        model.to(np.int32)
    assert model.weight.dtype == np.float64
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    assert x.to("cpu") is x and x.double() is x and x.to(np.float64) is x
    y = x.float()
    assert y.dtype == np.float32
    (y * y).sum().backward()  # the cast is differentiable: the gradient comes back float64
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad.data, [2.0, 4.0])


def test_numel_counts_parameters_as_torch_scripts_do():
    ours, ref = _gpt_like(nn, rng=0), _gpt_like(torch.nn)
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in ref.parameters())
    assert tg.zeros((3, 0, 2)).numel() == 0 and tg.tensor(5.0).numel() == 1


def test_module_list_insert_delete_and_add_renumber_as_torchs():
    mods = [nn.Linear(1, 1, rng=i) for i in range(4)]
    ml = nn.ModuleList(mods[:2])
    ref = torch.nn.ModuleList([torch.nn.Linear(1, 1) for _ in range(4)][:2])
    ml.insert(1, mods[2])
    ref.insert(1, torch.nn.Linear(1, 1))
    assert list(ml) == [mods[0], mods[2], mods[1]]
    assert list(ml.state_dict()) == list(ref.state_dict())  # renumbered 0, 1, 2
    del ml[0]
    assert list(ml) == [mods[2], mods[1]] and not hasattr(ml, "2")
    del ml[:1]
    assert list(ml) == [mods[1]] and ml[0] is mods[1]
    ml += [mods[3]]
    both = ml + nn.ModuleList([mods[0]])
    assert list(ml) == [mods[1], mods[3]] and list(both) == [mods[1], mods[3], mods[0]]
    with pytest.raises(TypeError, match="ModuleList: '0' is a str, not a Module"):
        ml.insert(0, "relu")
    with pytest.raises(IndexError, match="index 5 is out of range for 2 modules"):
        del ml[5]
    assert list(ml) == [mods[1], mods[3]]  # the failed calls changed nothing


def test_module_dict_pop_clear_delete_and_copy_as_torchs():
    a, b = nn.Linear(1, 1, rng=0), nn.Tanh()
    md = nn.ModuleDict({"enc": a, "act": b})
    copy = nn.ModuleDict(md)  # from another ModuleDict, as torch's (it raised a ValueError)
    assert copy.items() == md.items()
    assert md.pop("enc") is a and md.keys() == ["act"] and not hasattr(md, "enc")
    del md["act"]
    assert len(md) == 0 and md.parameters() == []
    copy.clear()
    assert copy.keys() == [] and copy.state_dict() == {}
    with pytest.raises(KeyError, match="no module 'enc'"):
        md.pop("enc")
    with pytest.raises(TypeError, match="expected \\(name, module\\) pairs, got 'ab'"):
        md.update(["ab"])
    with pytest.raises(TypeError, match="ModuleDict: module names are strings, got 1"):
        nn.ModuleDict({1: a})
    model = nn.Sequential(nn.Linear(2, 2, rng=0))
    assert model.requires_grad_(np.bool_(False)) is model and not model[0].weight.requires_grad


def test_container_attributes_and_entries_stay_one_and_the_same():
    """del md.b removes the entry (its list of names went stale, and the next read
    failed); a module set as an attribute becomes an entry, as in PyTorch."""
    md = nn.ModuleDict({"a": nn.Identity(), "b": nn.Identity()})
    del md.b
    assert md.keys() == ["a"] and md.items() == [("a", md.a)]
    md.zz = nn.Tanh()
    ref = torch.nn.ModuleDict({"a": torch.nn.Identity()})
    ref.zz = torch.nn.Tanh()
    assert md.keys() == list(ref.keys()) == ["a", "zz"]
    ml = nn.ModuleList([nn.ReLU(), nn.Tanh(), nn.Sigmoid()])
    ml.insert(-1, nn.Identity())  # before the last, as list.insert
    assert [type(m).__name__ for m in ml] == ["ReLU", "Tanh", "Identity", "Sigmoid"]
    del ml[::2]
    assert [type(m).__name__ for m in ml] == ["Tanh", "Sigmoid"] and not hasattr(ml, "2")
    ml += (m for m in [nn.ReLU()])
    assert len(ml) == 3 and list(ml.state_dict()) == []


def test_an_entry_takes_only_a_module():
    """md.a = 5 replaced an entry with a number (iteration gave 5), where PyTorch refuses."""
    md = nn.ModuleDict({"a": nn.Linear(2, 2, rng=0)})
    with pytest.raises(TypeError, match="'a' is an entry; assign a Module to it, not a int"):
        md.a = 5
    assert isinstance(md["a"], nn.Linear)
    seq = nn.Sequential(nn.ReLU())
    with pytest.raises(TypeError, match="'0' is an entry"):
        setattr(seq, "0", None)
