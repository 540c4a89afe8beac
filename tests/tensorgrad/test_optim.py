"""Optimizers against torch.optim: same start, same gradients, same weights (to 1e-10)."""

import warnings

import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad import optim

from ..oracle import torch

SHAPES = [(4, 3), (3,), (2, 2, 2), ()]

SGD_CASES = [
    {"lr": 0.1},
    {"lr": 0.05, "momentum": 0.9},
    {"lr": 0.05, "momentum": 0.9, "dampening": 0.5},
    {"lr": 0.05, "momentum": 0.9, "nesterov": True},
    {"lr": 0.1, "weight_decay": 0.1},
    {"lr": 0.1, "momentum": 0.5, "weight_decay": 0.01, "nesterov": True},
    {"lr": 0.1, "momentum": 0.8, "dampening": 0.2, "weight_decay": 0.05, "maximize": True},
    {"lr": 0.3, "maximize": True},
]
ADAM_CASES = [
    {},
    {"lr": 0.01},
    {"lr": 0.1, "betas": (0.5, 0.9)},
    {"lr": 0.01, "betas": (0.0, 0.99), "eps": 1e-3},
    {"lr": 0.01, "amsgrad": True},
    {"lr": 0.01, "weight_decay": 0.1},
    {"lr": 0.02, "weight_decay": 0.1, "amsgrad": True, "betas": (0.8, 0.95)},
    {"lr": 0.01, "maximize": True, "amsgrad": True},
]
ADAMW_CASES = ADAM_CASES + [{"lr": 0.01, "weight_decay": 0.5}, {"lr": 0.1, "weight_decay": 0.0}]

CASES = (
    [("SGD", kw) for kw in SGD_CASES]
    + [("Adam", kw) for kw in ADAM_CASES]
    + [("AdamW", kw) for kw in ADAMW_CASES]
)


def _ids(case):
    name, kw = case
    return name + "-" + ",".join(f"{k}={v}" for k, v in kw.items())


def _pair(seed=0, shapes=SHAPES):
    rng = np.random.default_rng(seed)
    start = [rng.normal(size=s) for s in shapes]
    ours = [tg.Parameter(a) for a in start]
    theirs = [torch.tensor(a, requires_grad=True) for a in start]
    return ours, theirs


def _optimizers(name, kw, seed):
    """Our optimizer ``name`` and torch's, with the same options, on the same start."""
    ours, theirs = _pair(seed=seed)
    return ours, theirs, getattr(optim, name)(ours, **kw), getattr(torch.optim, name)(theirs, **kw)


def _set_grads(ours, theirs, rng, p_none=0.0):
    for p, t in zip(ours, theirs):
        if rng.random() < p_none:
            p.grad, t.grad = None, None
            continue
        g = rng.normal(size=p.shape)
        p.grad = tg.tensor(g)
        t.grad = torch.tensor(g)


def _steps(ours, theirs, opt, ref, n, seed, p_none=0.0):
    """``n`` steps of both optimizers on the same random gradients."""
    rng = np.random.default_rng(seed)
    for _ in range(n):
        _set_grads(ours, theirs, rng, p_none)
        opt.step()
        ref.step()


def _assert_close(ours, theirs, tol=1e-10):
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=0, atol=tol)


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_matches_torch_for_20_steps(case):
    name, kw = case
    ours, theirs, opt, ref = _optimizers(name, kw, seed=0)
    _steps(ours, theirs, opt, ref, 20, seed=1)
    _assert_close(ours, theirs)
    # the parameters really moved (the comparison is not vacuous)
    start, _ = _pair()
    assert all(not np.allclose(p.data, s.data) for p, s in zip(ours, start))


@pytest.mark.parametrize(
    "case",
    [("SGD", {"lr": 0.1, "momentum": 0.9}), ("Adam", {"lr": 0.05, "amsgrad": True})],
    ids=_ids,
)
def test_params_without_grad_are_skipped_like_torch(case):
    name, kw = case
    ours, theirs, opt, ref = _optimizers(name, kw, seed=2)
    _steps(ours, theirs, opt, ref, 20, seed=3, p_none=0.4)
    _assert_close(ours, theirs)
    ours2, _ = _pair(seed=2)
    optim.SGD(ours2, lr=1.0).step()  # no grads at all: nothing moves
    _, fresh = _pair(seed=2)
    for p, q in zip(ours2, fresh):
        np.testing.assert_array_equal(p.data, q.data)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW"])
def test_param_groups_with_their_own_options_match_torch(name):
    ours, theirs = _pair(seed=4)
    extra = {"momentum": 0.9} if name == "SGD" else {"betas": (0.7, 0.9)}

    def groups(ps):
        return [{"params": ps[:2]}, {"params": ps[2:], "lr": 0.3, **extra}]

    opt = getattr(optim, name)(groups(ours), lr=0.01, weight_decay=0.01)
    ref = getattr(torch.optim, name)(groups(theirs), lr=0.01, weight_decay=0.01)
    assert opt.param_groups[1]["lr"] == 0.3 and opt.param_groups[0]["lr"] == 0.01
    rng = np.random.default_rng(5)
    for step in range(20):
        if step == 10:  # a learning-rate schedule edits the groups, as in PyTorch
            for g in opt.param_groups + ref.param_groups:
                g["lr"] *= 0.5
        _set_grads(ours, theirs, rng)
        opt.step()
        ref.step()
    _assert_close(ours, theirs)


def test_float32_params_stay_float32_and_track_torch():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(5, 5)).astype(np.float32)
    p, t = tg.Parameter(a), torch.tensor(a, requires_grad=True)
    opt, ref = optim.Adam([p], lr=0.01), torch.optim.Adam([t], lr=0.01)
    for _ in range(10):
        g = rng.normal(size=(5, 5)).astype(np.float32)
        p.grad, t.grad = tg.tensor(g), torch.tensor(g)
        opt.step()
        ref.step()
    assert p.dtype == np.float32 and opt.state_dict()["state"][0]["exp_avg"].dtype == np.float32
    np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=0, atol=1e-5)


def test_step_updates_data_in_place_and_never_touches_grad():
    p = tg.Parameter([1.0, 2.0])
    buffer = p.data
    g = np.array([0.5, -1.0])
    p.grad = tg.tensor(g)
    optim.SGD([p], lr=0.1, weight_decay=0.1, maximize=True).step()
    assert p.data is buffer
    np.testing.assert_array_equal(p.grad.data, g)
    np.testing.assert_allclose(p.data, [1.0 + 0.1 * (0.5 - 0.1), 2.0 + 0.1 * (-1.0 - 0.2)])


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    ps = [tg.Parameter([1.0, 2.0]), tg.Parameter([3.0])]
    ps[0].grad = tg.tensor([1.0, 1.0])
    opt = optim.SGD(ps, lr=0.1)
    opt.zero_grad(set_to_none=set_to_none)
    if set_to_none:
        assert ps[0].grad is None
    else:
        np.testing.assert_array_equal(ps[0].grad.data, [0.0, 0.0])
    assert ps[1].grad is None


def test_training_a_real_model_through_backward():
    """The optimizer drives a Tensor graph: least squares converges to the solution."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    w_true = np.array([1.0, -2.0, 0.5])
    y = tg.tensor(X @ w_true)
    w = tg.Parameter(np.zeros(3))
    opt = optim.Adam([w], lr=0.1)
    for _ in range(300):
        opt.zero_grad()
        loss = ((tg.tensor(X) @ w - y) ** 2).mean()
        loss.backward()
        opt.step()
    np.testing.assert_allclose(w.data, w_true, atol=1e-3)


@pytest.mark.parametrize(
    "case",
    [("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}), ("AdamW", {"amsgrad": True})],
    ids=_ids,
)
def test_state_dict_round_trip_continues_exactly(case):
    name, kw = case
    ours, theirs, opt, ref = _optimizers(name, kw, seed=6)
    _steps(ours, theirs, opt, ref, 5, seed=7)
    state = opt.state_dict()
    assert sorted(state) == ["param_groups", "state"]
    assert state["param_groups"][0]["params"] == [0, 1, 2, 3]
    # a fresh optimizer over copies of the weights, loaded from the state dict
    copies = [tg.Parameter(p.data) for p in ours]
    opt2 = getattr(optim, name)(copies, lr=123.0)  # hyper-parameters come from the state
    opt2.load_state_dict(state)
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    grads = np.random.default_rng(8)
    for _ in range(5):
        _set_grads(ours, theirs, grads)
        for c, p in zip(copies, ours):
            c.grad = p.grad
        opt.step()
        opt2.step()
        ref.step()
    for c, p in zip(copies, ours):
        np.testing.assert_array_equal(c.data, p.data)
    _assert_close(ours, theirs)
    # the state dict is a snapshot: later steps did not change it
    assert all(
        not np.array_equal(v, opt.state_dict()["state"][0][k])
        for k, v in state["state"][0].items()
        if isinstance(v, np.ndarray)
    )


@pytest.mark.parametrize("missing", ["maximize", "lr"])
def test_load_state_dict_gives_missing_options_their_defaults(missing):
    """A state dict from a version that lacked an option: the option takes the optimizer's
    default (as PyTorch does for its newer options), and steps go on as the original's."""
    a, b = tg.Parameter([1.0, 2.0]), tg.Parameter([1.0, 2.0])
    opt, opt2 = optim.Adam([a], lr=0.1), optim.Adam([b], lr=0.1)
    state = opt.state_dict()
    del state["param_groups"][0][missing]
    opt2.load_state_dict(state)
    assert opt2.param_groups[0][missing] == opt.param_groups[0][missing]
    for _ in range(3):
        a.grad = b.grad = tg.tensor([0.5, -1.0])
        opt.step()
        opt2.step()
    np.testing.assert_array_equal(a.data, b.data)


def test_a_deep_copy_continues_like_the_original():
    """copy.deepcopy of (parameters, optimizer): the copy's momentum belongs to the copied
    parameters, so the same gradients move both the same way."""
    import copy

    w = tg.Parameter([1.0, 2.0])
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    w.grad = tg.tensor([1.0, 1.0])
    opt.step()
    w2, opt2 = copy.deepcopy((w, opt))
    assert opt2.param_groups[0]["params"][0] is w2
    for p, o in ((w, opt), (w2, opt2)):
        p.grad = tg.tensor([1.0, 1.0])
        o.step()
    np.testing.assert_array_equal(w2.data, w.data)
    assert opt.state[w]["momentum_buffer"] is not opt2.state[w2]["momentum_buffer"]


def test_the_state_travels_by_parameter_position_so_a_pickled_optimizer_keeps_it():
    """pickle (and multiprocessing) store what __reduce_ex__ gives and rebuild the objects
    from it. The state was keyed by id(param), ids the rebuilt parameters do not have: Adam
    restarted from step 0, silently. Here the stored fields are copied with new parameter
    objects, as unpickling in another process makes them, and training goes on alike."""
    import copy

    rng = np.random.default_rng(0)
    w, b = tg.Parameter(rng.standard_normal(3)), tg.Parameter(rng.standard_normal(1))
    opt = optim.Adam([{"params": [w]}, {"params": [b], "lr": 0.01}], lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        ((w * w).sum() + 3 * b.sum()).backward()
        opt.step()
    rebuild, args, stored = opt.__reduce_ex__(2)[:3]
    assert isinstance(stored["state"], list)  # by position: no ids in what is stored
    opt2 = rebuild(*args)
    opt2.__setstate__(copy.deepcopy(stored))  # new parameters, as a fresh process has
    w2, b2 = opt2.param_groups[0]["params"][0], opt2.param_groups[1]["params"][0]
    assert w2 is not w and opt2.state[w2]["step"] == 3
    for p, q, o in ((w, b, opt), (w2, b2, opt2)):
        o.zero_grad()
        ((p * p).sum() + 3 * q.sum()).backward()
        o.step()
    np.testing.assert_array_equal(w2.data, w.data)
    np.testing.assert_array_equal(b2.data, b.data)


def test_state_stored_by_ids_of_another_process_is_dropped_with_a_warning():
    """What a pickle made before the state travelled by position holds: a dict keyed by
    ids the loaded parameters do not have. It used to be zipped with them, and step()
    failed on an int where a state dict should be."""
    w = tg.Parameter([1.0, 2.0])
    opt = optim.Adam([w], lr=0.1)
    stored = opt.__getstate__()
    stored["state"] = {123456789: {"step": 3}}
    new = optim.Adam.__new__(optim.Adam)
    with pytest.warns(RuntimeWarning, match="keys the optimizer's state by id"):
        new.__setstate__(stored)
    assert new.state == {}
    stored["state"] = {}  # nothing was kept (SGD's, or before the first step): no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        optim.Adam.__new__(optim.Adam).__setstate__(stored)
    w.grad = tg.tensor([1.0, 1.0])
    new.step()  # Adam's first step moves each weight by lr
    np.testing.assert_allclose(w.data, [0.9, 1.9])


def test_zeroing_gradients_in_place_is_seen_by_a_graph_that_read_them():
    """zero_grad(set_to_none=False) changes .grad in place: a graph that used it as a
    constant refuses its backward (as PyTorch), and a gradient that is a graph itself
    (create_graph=True) is replaced, so a penalty built on it still differentiates."""
    q = tg.Parameter([3.0, 4.0])
    (q * q).sum().backward()
    w = tg.tensor([1.0, 1.0], requires_grad=True)
    loss = (w * q.grad).sum()
    optim.SGD([q], lr=0.1).zero_grad(set_to_none=False)
    np.testing.assert_array_equal(q.grad.data, [0.0, 0.0])
    with pytest.raises(RuntimeError, match="changed in place"):
        loss.backward()

    p = tg.Parameter([1.0, 2.0])
    (p**3).sum().backward(create_graph=True)  # p.grad = 3p², a graph
    penalty = (p.grad * p.grad).sum()  # 9 Σ p⁴
    optim.SGD([p], lr=0.1).zero_grad(set_to_none=False)
    assert not p.grad.requires_grad and not p.grad.data.any()
    penalty.backward()
    np.testing.assert_allclose(p.grad.data, [36.0, 288.0])  # d(9 p⁴)/dp = 36 p³


def test_load_state_dict_checks_before_changing_anything():
    ps = [tg.Parameter(np.zeros(3)), tg.Parameter(np.zeros(2))]
    opt = optim.Adam(ps, lr=0.1)
    for p in ps:
        p.grad = tg.tensor(np.ones(p.shape))
    opt.step()
    good = opt.state_dict()
    other = optim.Adam([tg.Parameter(np.zeros(3))], lr=0.5)
    with pytest.raises(ValueError, match="1 parameters saved but 2|2 parameters saved but 1"):
        other.load_state_dict(good)
    assert other.param_groups[0]["lr"] == 0.5 and other.state == {}
    bad = opt.state_dict()
    bad["state"][1]["exp_avg"] = np.zeros(5)
    fresh = optim.Adam([tg.Parameter(np.zeros(3)), tg.Parameter(np.zeros(2))], lr=0.7)
    with pytest.raises(ValueError, match="shape"):
        fresh.load_state_dict(bad)
    assert fresh.param_groups[0]["lr"] == 0.7 and fresh.state == {}


@pytest.mark.parametrize("name", optim.__all__[1:])
def test_an_option_changed_to_a_bad_value_is_refused_at_the_step_before_any_change(name):
    """A schedule that sets a group's lr badly: the step checks every group first (it
    updated the groups before the bad one, then failed with NumPy's bare error)."""
    ps = [tg.Parameter([1.0, 2.0]), tg.Parameter([3.0])]
    opt = getattr(optim, name)([{"params": [ps[0]]}, {"params": [ps[1]]}], lr=0.1)
    for p in ps:
        p.grad = tg.tensor(np.ones(p.shape))
    opt.param_groups[1]["lr"] = "0.01"
    before = _snapshot(ps, opt)
    with pytest.raises(ValueError, match=r"Invalid lr value: '0.01'"):
        opt.step()
    _assert_unchanged(ps, opt, before)


def _adam_state_after_a_step():
    p, q = tg.Parameter([1.0, 2.0, 3.0]), tg.Parameter([1.0, 2.0])
    opt = optim.Adam([p, q], lr=0.1)
    p.grad, q.grad = tg.tensor([1.0, 1.0, 1.0]), tg.tensor([1.0, 1.0])
    opt.step()
    return opt, opt.state_dict()


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"step": 3}, r"parameter 1 lacks \['exp_avg', 'exp_avg_sq'\]"),
        ({"momentum_buffer": np.ones(2)}, r"parameter 1 lacks .* unknown entries \['momentum"),
        (
            {"step": "3", "exp_avg": np.ones(2), "exp_avg_sq": np.ones(2)},
            r"'step' must be a whole number >= 0, got '3'",
        ),
        (
            {"step": -1, "exp_avg": np.ones(2), "exp_avg_sq": np.ones(2)},
            r"'step' must be a whole number >= 0, got -1",
        ),
        (
            {"step": 1, "exp_avg": [1.0, 1.0], "exp_avg_sq": np.ones(2)},
            r"'exp_avg' must be an array of real numbers, got list",
        ),
        (
            {"step": 1, "exp_avg": np.ones(2) * 1j, "exp_avg_sq": np.ones(2)},
            r"'exp_avg' must be an array .* dtype complex128",
        ),
        (
            {"step": 1, "exp_avg": np.ones(2), "exp_avg_sq": np.array(["1", "2"])},
            r"'exp_avg_sq' must be an array .* dtype <U1",
        ),
    ],
    ids=repr,
)
def test_load_state_dict_refuses_state_that_the_update_cannot_use(entry, message):
    """Accepted before, such an entry made the next step update some parameters and then
    fail (KeyError 'exp_avg', a list times a float), or dropped an imaginary part."""
    opt, saved = _adam_state_after_a_step()
    before = opt.state_dict()
    saved["state"][1] = entry
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict(saved)
    after = opt.state_dict()
    for i in (0, 1):
        for k, v in before["state"][i].items():
            np.testing.assert_array_equal(after["state"][i][k], v)


def test_a_step_count_saved_as_a_0d_array_or_numpy_int_loads_as_an_int():
    opt, saved = _adam_state_after_a_step()
    saved["state"][0]["step"] = np.array(1)
    saved["state"][1]["step"] = np.int32(1)
    opt.load_state_dict(saved)
    assert [type(s["step"]) for s in opt.state_dict()["state"].values()] == [int, int]


@pytest.mark.parametrize("indices", [range(1), np.array([0]), (0,)], ids=repr)
def test_load_state_dict_takes_the_parameter_indices_as_any_sequence(indices):
    p, q = tg.Parameter([1.0, 2.0]), tg.Parameter([1.0, 2.0])
    opt, other = optim.SGD([p], lr=0.5, momentum=0.9), optim.SGD([q], lr=0.1, momentum=0.9)
    p.grad = tg.tensor([1.0, 1.0])
    opt.step()
    state = opt.state_dict()
    state["param_groups"][0]["params"] = indices
    other.load_state_dict(state)
    assert other.param_groups[0]["lr"] == 0.5
    np.testing.assert_array_equal(other.state_dict()["state"][0]["momentum_buffer"], [1.0, 1.0])


@pytest.mark.parametrize(
    "broken, message",
    [
        (lambda sd: {**sd, "param_groups": [{"lr": 0.1}]}, r"param group 0 .* 'params'"),
        (lambda sd: {**sd, "param_groups": [None]}, r"param group 0 .* got None"),
        (lambda sd: {**sd, "param_groups": [{"params": "0"}]}, r"param group 0 .* indices"),
        (lambda sd: {**sd, "state": {0: None}}, r"state of parameter 0 must be a dict.*NoneType"),
    ],
)
def test_load_state_dict_refuses_a_malformed_dict_with_value_error(broken, message):
    """The docstring's promise: a bad dict raises ValueError, and nothing changes."""
    p = tg.Parameter([1.0, 2.0])
    opt = optim.SGD([p], lr=0.5, momentum=0.9)
    p.grad = tg.tensor([1.0, 1.0])
    opt.step()
    before = opt.state_dict()
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict(broken(opt.state_dict()))
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    np.testing.assert_array_equal(after["state"][0]["momentum_buffer"], [1.0, 1.0])


@pytest.mark.parametrize(
    "make, name, value",
    [
        (lambda p: optim.SGD(p, lr=-0.1), "lr", "-0.1"),
        (lambda p: optim.SGD(p, lr=0.1, momentum=-0.5), "momentum", "-0.5"),
        (lambda p: optim.SGD(p, lr=0.1, weight_decay=-1), "weight_decay", "-1"),
        (lambda p: optim.SGD(p, lr=0.1, dampening=-1), "dampening", "-1"),
        (lambda p: optim.SGD(p, lr=0.1, nesterov=True), "Nesterov", "momentum=0"),
        (
            lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
            "Nesterov",
            "dampening=0.1",
        ),
        (lambda p: optim.Adam(p, lr=-1.0), "lr", "-1.0"),
        (lambda p: optim.Adam(p, eps=-1e-8), "eps", "-1e-08"),
        (lambda p: optim.Adam(p, betas=(1.0, 0.999)), "betas\\[0\\]", "1.0"),
        (lambda p: optim.Adam(p, betas=(0.9, -0.1)), "betas\\[1\\]", "-0.1"),
        (lambda p: optim.AdamW(p, betas=(0.9, 1.5)), "betas\\[1\\]", "1.5"),
        (lambda p: optim.AdamW(p, weight_decay=-0.01), "weight_decay", "-0.01"),
        (lambda p: optim.Adam(p, lr=float("nan")), "lr", "nan"),
        (lambda p: optim.Adam([{"params": p, "lr": -3.0}]), "lr", "-3.0"),
    ],
)
def test_bad_hyper_parameters_raise_value_error_naming_them(make, name, value):
    with pytest.raises(ValueError, match=f"{name}.*{value}"):
        make([tg.Parameter([1.0])])


def test_bad_parameter_lists():
    p = tg.Parameter([1.0])
    with pytest.raises(ValueError, match="empty"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="more than once"):
        optim.SGD([p, p], lr=0.1)
    with pytest.raises(ValueError, match="more than once"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(TypeError, match="Tensors"):
        optim.SGD([np.zeros(2)], lr=0.1)
    with pytest.raises(TypeError, match="unknown"):
        optim.SGD([{"params": [p], "momentun": 0.9}], lr=0.1)
    x = tg.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([x * 2], lr=0.1)


def test_gradient_of_the_wrong_shape_is_reported():
    """.data replaced since the gradient was made (the .grad setter refuses a misfit)."""
    p = tg.Parameter(np.zeros(3))
    p.grad = tg.tensor(np.zeros(3))
    p.data = np.zeros(4)
    with pytest.raises(
        ValueError, match=r"gradient of shape \(3,\) for a parameter of shape \(4,\)"
    ):
        optim.SGD([p], lr=0.1).step()


def test_repr_lists_the_groups():
    text = repr(optim.AdamW([tg.Parameter([1.0])], lr=0.5))
    assert text.startswith("AdamW (") and "lr: 0.5" in text and "weight_decay: 0.01" in text


@pytest.mark.parametrize("name", optim.__all__[1:])
@pytest.mark.parametrize(
    "replacement, message",
    [
        (np.ones(5), r"parameter 1 has shape \(5,\), but its '\w+' state has shape \(4,\)"),
        (np.ones(4, np.int64), r"parameter 1 has dtype int64 \(a parameter must be floating"),
        (np.broadcast_to(np.ones(1), (4,)), "parameter 1 has read-only data"),
    ],
    ids=["new shape", "integer", "read-only"],
)
def test_a_parameter_whose_data_was_replaced_is_refused_before_any_change(
    name, replacement, message
):
    """The step used to update parameter 0 (and parameter 1's step count) before NumPy
    failed on parameter 1's new .data with a bare broadcast or casting error."""
    ps = [tg.Parameter(np.ones(3)), tg.Parameter(np.ones(4))]
    opt = getattr(optim, name)(ps, lr=0.1, **({"momentum": 0.9} if name == "SGD" else {}))
    for p in ps:
        p.grad = tg.tensor(np.ones(p.shape))
    opt.step()  # now each parameter has state of its shape
    ps[1].data = replacement
    if replacement.dtype.kind == "f":  # a gradient for the new data (the old one is kept
        ps[1].grad = tg.tensor(np.ones(replacement.shape))  # for the integers)
    before = _snapshot(ps, opt)
    with pytest.raises(ValueError, match=message + ".*nothing was updated"):
        opt.step()
    _assert_unchanged(ps, opt, before)


def _snapshot(ps, opt):
    return [p.data.copy() for p in ps], opt.state_dict()


def _assert_unchanged(ps, opt, before):
    data, saved = before
    for p, d in zip(ps, data):
        np.testing.assert_array_equal(p.data, d)
    now = opt.state_dict()
    assert now["param_groups"] == saved["param_groups"]
    assert now["state"].keys() == saved["state"].keys()
    for i, entry in saved["state"].items():
        assert now["state"][i].keys() == entry.keys()
        for k, v in entry.items():
            np.testing.assert_array_equal(now["state"][i][k], v)


@pytest.mark.parametrize("name", optim.__all__[1:])
@pytest.mark.parametrize(
    "bad, error, message",
    [
        (tg.tensor([1.0, 1.0, 1.0]), ValueError, r"parameter 1: .*shape \(3,\).*shape \(2,\)"),
        (np.array([1j, 1j]), TypeError, r"parameter 1: .*dtype complex128.*dtype float64"),
        ([1.0, 1.0], TypeError, r"parameter 1: gradient is a list"),
        # -grad (maximize) fails on bools and wraps around on unsigned ints
        (np.array([True, False]), TypeError, r"parameter 1: .*dtype bool.*floating"),
        (np.array([1, 2], np.uint8), TypeError, r"parameter 1: .*dtype uint8.*floating"),
    ],
)
def test_a_bad_gradient_changes_no_parameter_and_no_state(name, bad, error, message):
    ps = [tg.Parameter([1.0, 2.0]), tg.Parameter([3.0, 4.0]), tg.Parameter([5.0])]
    kw = {"lr": 0.1, "momentum": 0.9} if name == "SGD" else {"lr": 0.1, "amsgrad": True}
    opt = getattr(optim, name)(ps, **kw, maximize=True)
    with pytest.raises((TypeError, ValueError)):
        ps[1].grad = bad  # refused when assigned; the step checks again what got past
    for first_step_done in (False, True):
        ps[0].grad, ps[2].grad = tg.tensor([1.0, 1.0]), tg.tensor([1.0])
        ps[1]._grad = bad  # past the setter: the step's own check
        before = _snapshot(ps, opt)
        with pytest.raises(error, match=message):
            opt.step()
        _assert_unchanged(ps, opt, before)
        assert opt.state == {} or first_step_done
        ps[1].grad = tg.tensor([1.0, 1.0])
        opt.step()  # a good step fills the state that the next bad step must not touch


def test_zero_grad_in_place_checks_every_gradient_before_zeroing_any():
    """A gradient set to a list zeroed the parameters before it, then raised a bare
    TypeError."""
    p, q = tg.Parameter([1.0, 2.0]), tg.Parameter([3.0])
    opt = optim.SGD([p, q], lr=0.1)
    p.grad, q._grad = tg.tensor([5.0, 6.0]), [1.0]  # q's past the setter, which refuses it
    with pytest.raises(TypeError, match=r"zero_grad: the gradient of parameter 1 is a list"):
        opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad.data, [5.0, 6.0])


def test_a_step_that_numpy_stops_midway_still_notes_the_parameter_changed():
    """np.seterr(all="raise") stops an update after it wrote inf: a graph that read the
    parameter must refuse its backward rather than use the new values."""
    p = tg.Parameter(np.float32([-3e38, 1.0]))
    y = (p * 2).sum()
    p.grad = tg.tensor(np.float32([3e38, 0.0]))
    with np.errstate(all="raise"), pytest.raises(FloatingPointError):
        optim.SGD([p], lr=1.0).step()
    with pytest.raises(RuntimeError, match="changed in place"):
        y.backward()


def test_a_custom_optimizer_that_declares_no_state_loads_its_own_state_dict():
    """The per-entry checks are for the optimizers that declare their state; a subclass's
    own entries were refused as unknown."""

    class Adagrad(optim.Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, {"lr": lr})

        def _update(self, param, grad, state, group):
            state["sum"] = state.get("sum", 0) + grad * grad
            state["seen"] = grad != 0  # a mask: kept a bool array
            param -= group["lr"] * grad / np.sqrt(state["sum"])

    p = tg.Parameter([1.0, 2.0])
    opt = Adagrad([p])
    p.grad = tg.tensor([1.0, 2.0])
    opt.step()
    other = Adagrad([tg.Parameter([1.0, 2.0])])
    other.load_state_dict(opt.state_dict())
    np.testing.assert_array_equal(other.state_dict()["state"][0]["sum"], [1.0, 4.0])
    assert other.state_dict()["state"][0]["seen"].dtype == bool


def test_zero_grad_in_place_replaces_a_gradient_graph_even_when_its_data_is_read_only():
    """A gradient that is itself a graph gets fresh zeros, so its read-only data is fine."""
    p = tg.Parameter([1.0, 2.0, 3.0])
    s = tg.tensor(2.0, requires_grad=True)
    p.grad = s.broadcast_to(3)
    optim.SGD([p], lr=0.1).zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad.data, [0.0, 0.0, 0.0])


def test_zero_grad_in_place_gives_fresh_zeros_to_a_graph_gradient_of_its_own_shape():
    """A gradient that is a graph (create_graph=True) gets fresh zeros of its own shape,
    even after the parameter's .data was replaced: the setter's check stopped it midway,
    after the gradients before it had been zeroed."""
    p, q = tg.Parameter([1.0, 2.0]), tg.Parameter([3.0, 4.0])
    (p * p).sum().backward()
    (q**3).sum().backward(create_graph=True)
    q.data = np.zeros(3)
    optim.SGD([p, q], lr=0.1).zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad.data, [0.0, 0.0])
    np.testing.assert_array_equal(q.grad.data, [0.0, 0.0])
    assert not q.grad.requires_grad


def test_state_is_keyed_by_the_parameter_as_in_torch():
    """``opt.state[p]``: the same entries and values as PyTorch's; {} before any step
    (PyTorch's state is a defaultdict). It was keyed by id(p): a KeyError."""
    ours, theirs, opt, ref = _optimizers("Adam", {"lr": 0.05, "amsgrad": True}, seed=6)
    assert opt.state[ours[0]] == {} and ref.state[theirs[0]] == {}
    _steps(ours, theirs, opt, ref, 4, seed=7)
    for p, t in zip(ours, theirs):
        mine, its = opt.state[p], ref.state[t]
        assert sorted(mine) == sorted(its)
        assert mine["step"] == int(its["step"]) == 4
        for k in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
            np.testing.assert_allclose(mine[k], its[k].numpy(), rtol=1e-12, atol=1e-15)


def test_a_custom_optimizer_written_as_in_torch_runs_and_matches():
    """A step() that reads and fills ``self.state[p]``, PyTorch's idiom for optimizers
    people write themselves: here a momentum SGD, against PyTorch's own SGD."""

    class Momentum(optim.Optimizer):
        def __init__(self, params, lr, momentum):
            super().__init__(params, dict(lr=lr, momentum=momentum))

        def step(self):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    if "buf" not in state:
                        state["buf"] = p.grad.data.copy()
                    else:
                        state["buf"] = group["momentum"] * state["buf"] + p.grad.data
                    with tg.no_grad():
                        p -= group["lr"] * state["buf"]

    ours, theirs = _pair(seed=8)
    opt = Momentum(ours, lr=0.1, momentum=0.9)
    ref = torch.optim.SGD(theirs, lr=0.1, momentum=0.9)
    _steps(ours, theirs, opt, ref, 10, seed=9, p_none=0.3)
    _assert_close(ours, theirs)


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_step_with_a_closure_returns_its_loss_and_matches_torch(name):
    """``step(closure)``: the closure recomputes loss and gradients, with grad mode on
    even inside no_grad (as PyTorch), and step returns the loss. It was a TypeError."""
    x = np.random.default_rng(10).normal(size=(6, 4))
    ours, theirs = _pair(seed=11, shapes=[(4,)])
    kw = {"lr": 0.1, "momentum": 0.5} if name == "SGD" else {"lr": 0.1}
    opt, ref = getattr(optim, name)(ours, **kw), getattr(torch.optim, name)(theirs, **kw)

    def closure(w, opt, xs):
        def run():
            opt.zero_grad()
            loss = ((xs @ w).tanh() ** 2).mean()
            loss.backward()
            return loss

        return run

    for _ in range(5):
        with tg.no_grad(), torch.no_grad():
            mine = opt.step(closure(ours[0], opt, tg.tensor(x)))
            its = ref.step(closure(theirs[0], ref, torch.tensor(x)))
        assert mine is not None
        np.testing.assert_allclose(mine.item(), its.item(), rtol=1e-12)
    _assert_close(ours, theirs)
    assert opt.step() is None  # without a closure, as PyTorch


def test_nesterov_is_checked_when_made_so_a_schedule_may_take_momentum_to_zero():
    """PyTorch checks nesterov's conditions in the constructor only: with momentum set to
    0 later (a momentum schedule), the step is plain SGD's. Ours refused every step."""
    ours, theirs, opt, ref = _optimizers("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}, 12)
    rng = np.random.default_rng(13)
    for step in range(8):
        if step == 4:
            for group in opt.param_groups + ref.param_groups:
                group["momentum"] = 0.0
        _set_grads(ours, theirs, rng)
        opt.step()
        ref.step()
    _assert_close(ours, theirs)
