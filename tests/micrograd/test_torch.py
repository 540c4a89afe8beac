"""The scalar engine against PyTorch (float64): every op, edge values, second
derivatives, an MLP with copied weights, and the classic README example."""

from __future__ import annotations

import math
import random

import pytest

torch = pytest.importorskip("torch", reason="PyTorch (the test oracle) is not installed")

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import micrograd  # noqa: E402
from micrograd.engine import Value  # noqa: E402
from micrograd.nn import MLP  # noqa: E402

from .cases import OPS, SECOND, same_float  # noqa: E402


def tensors(xs):
    return [torch.tensor(float(x), dtype=torch.float64, requires_grad=True) for x in xs]


def compare(fn, xs, torch_fn=None, rel=1e-12, abs_=1e-12):
    """Forward value and every input gradient of ``fn`` at ``xs``: ours vs PyTorch."""
    values = [Value(x) for x in xs]
    out = fn(*values)
    out.backward()
    ts = tensors(xs)
    t_out = (torch_fn or fn)(*ts)
    t_out.backward()
    assert same_float(out.data, t_out.item(), rel, abs_), ("value", xs, out.data, t_out.item())
    for i, (v, t) in enumerate(zip(values, ts)):
        t_grad = 0.0 if t.grad is None else t.grad.item()
        assert same_float(v.grad, t_grad, rel, abs_), ("grad", xs, i, v.grad, t_grad)


# ----------------------------------------------------------------------------- every op


@pytest.mark.parametrize("case", OPS, ids=str)
def test_op_matches_torch(case):
    for xs in case.samples(5):
        compare(case.fn, xs, case.torch_fn)


# Points where the math is delicate: kinks, poles, 0 ** y, overflow. PyTorch decides.
EDGES = [
    ("relu(0)", lambda x: x.relu(), (0.0,)),
    ("relu(-0.0)", lambda x: x.relu(), (-0.0,)),
    ("relu(nan)", lambda x: x.relu(), (math.nan,)),
    ("abs(0)", lambda x: abs(x), (0.0,)),
    ("1 / 0", lambda x: 1 / x, (0.0,)),
    ("-1 / 0", lambda x: -1 / x, (0.0,)),
    ("x / y at y = 0", lambda x, y: x / y, (1.0, 0.0)),
    ("0 / 0", lambda x, y: x / y, (0.0, 0.0)),
    ("sqrt(0)", lambda x: x.sqrt(), (0.0,)),
    ("x ** 0.5 at 0", lambda x: x**0.5, (0.0,)),
    ("log(0)", lambda x: x.log(), (0.0,)),
    ("log(nan)", lambda x: x.log(), (math.nan,)),
    ("x ** 0 at 0", lambda x: x**0, (0.0,)),
    ("x ** -1 at 0", lambda x: x**-1, (0.0,)),
    ("x ** y at (0, 0)", lambda x, y: x**y, (0.0, 0.0)),
    ("x ** y at (0, 2)", lambda x, y: x**y, (0.0, 2.0)),
    ("x ** y at (0, -1)", lambda x, y: x**y, (0.0, -1.0)),
    ("x ** y at (-2, 2)", lambda x, y: x**y, (-2.0, 2.0)),
    ("x ** y at (-2, 3)", lambda x, y: x**y, (-2.0, 3.0)),
    ("x ** -1 at -0.0", lambda x: x**-1, (-0.0,)),
    ("x ** -2 at -0.0", lambda x: x**-2, (-0.0,)),
    ("x ** -3 at -1e-300 (overflow)", lambda x: x**-3, (-1e-300,)),
    ("x ** y at (-0.0, -1)", lambda x, y: x**y, (-0.0, -1.0)),
    ("x ** y at (0, nan)", lambda x, y: x**y, (0.0, math.nan)),
    ("0 ** x at nan", lambda x: 0**x, (math.nan,)),
    ("0 ** x at 2", lambda x: 0**x, (2.0,)),
    ("0 ** x at 0", lambda x: 0**x, (0.0,)),
    ("0 ** x at -1", lambda x: 0**x, (-1.0,)),
    ("(-2) ** x at 3", lambda x: (-2) ** x, (3.0,)),
    ("exp(1000)", lambda x: x.exp(), (1000.0,)),
    ("exp(-1000)", lambda x: x.exp(), (-1000.0,)),
    ("tanh(1000)", lambda x: x.tanh(), (1000.0,)),
    ("tanh(-1000)", lambda x: x.tanh(), (-1000.0,)),
    ("sigmoid(1000)", lambda x: x.sigmoid(), (1000.0,)),
    ("sigmoid(-1000)", lambda x: x.sigmoid(), (-1000.0,)),
    ("sigmoid(-745)", lambda x: x.sigmoid(), (-745.0,)),
    ("10 ** 400 overflow", lambda x: x**400, (10.0,)),
    ("sin(inf)", lambda x: x.sin(), (math.inf,)),
    ("cos(-inf)", lambda x: x.cos(), (-math.inf,)),
    ("exp(nan)", lambda x: x.exp(), (math.nan,)),
]


@pytest.mark.parametrize("fn, xs", [e[1:] for e in EDGES], ids=[e[0] for e in EDGES])
def test_edge_values_match_torch(fn, xs):
    compare(fn, xs)


@pytest.mark.parametrize("x", [1000.0, -1000.0])
def test_saturation_matches_torch_and_is_finite(x):
    for op in ("tanh", "sigmoid", "exp"):
        v = Value(x)
        out = getattr(v, op)()
        out.backward()
        t = tensors([x])[0]
        t_out = getattr(t, op)()
        t_out.backward()
        assert same_float(out.data, t_out.item()) and same_float(v.grad, t.grad.item())
        if op != "exp" or x < 0:  # exp(1000) = inf is the right answer
            assert math.isfinite(out.data) and math.isfinite(v.grad)


# ----------------------------------------------------------------------------- second order


def _torch_hessian(fn, xs):
    ts = tensors(xs)
    first = torch.autograd.grad(fn(*ts), ts, create_graph=True)
    rows = []
    for g in first:
        if not g.requires_grad:  # a constant first derivative
            rows.append([0.0] * len(ts))
            continue
        row = torch.autograd.grad(g, ts, allow_unused=True, retain_graph=True)
        rows.append([0.0 if h is None else h.item() for h in row])
    return rows


def _our_hessian(fn, xs):
    values = [Value(x) for x in xs]
    first = micrograd.grad(fn(*values), values, create_graph=True)
    rows = []
    for g in first:
        row = micrograd.grad(g, values, allow_unused=True)
        rows.append([0.0 if h is None else h.data for h in row])
    assert all(v.grad == 0.0 for v in values)  # grad() leaves .grad alone
    return rows


@pytest.mark.parametrize("case", [c for c, _ in SECOND], ids=str)
def test_second_derivatives_match_torch(case):
    for xs in case.samples(4):
        ours, theirs = _our_hessian(case.fn, xs), _torch_hessian(case.on_torch, xs)
        for i, (r1, r2) in enumerate(zip(ours, theirs)):
            for j, (a, b) in enumerate(zip(r1, r2)):
                assert same_float(a, b, rel=1e-11, abs_=1e-12), (xs, i, j, a, b)


def test_mixed_partials_of_pow_match_torch():
    x, y = 1.7, -0.6
    ours, theirs = (
        _our_hessian(lambda a, b: a**b, (x, y)),
        _torch_hessian(lambda a, b: a**b, (x, y)),
    )
    assert ours[0][1] == pytest.approx(theirs[0][1], rel=1e-12)
    assert ours[1][0] == pytest.approx(theirs[1][0], rel=1e-12)
    assert ours[0][1] == pytest.approx(ours[1][0], rel=1e-12)


@pytest.mark.parametrize("name", ["relu", "abs"])
def test_second_derivative_through_relu_or_abs_alone_is_zero_as_torch(name):
    """d²/dw² op(w·x) with x constant: 0 in PyTorch, not "w is not reached"."""
    for w0, x0 in [(2.0, 3.0), (-2.0, 3.0)]:
        w = Value(w0)
        (g,) = micrograd.grad(getattr(w * x0, name)(), [w], create_graph=True)
        (h,) = micrograd.grad(g, [w])
        tw = torch.tensor(w0, dtype=torch.float64, requires_grad=True)
        (tg,) = torch.autograd.grad(getattr(tw * x0, name)(), [tw], create_graph=True)
        (th,) = torch.autograd.grad(tg, [tw])
        assert (g.data, h.data) == (tg.item(), th.item())


def test_third_derivative_matches_torch():
    def f(x):
        return (x**3).tanh() * x.sin()

    v = Value(0.8)
    (g,) = micrograd.grad(f(v), [v], create_graph=True)
    (g,) = micrograd.grad(g, [v], create_graph=True)
    (g,) = micrograd.grad(g, [v])
    t = tensors([0.8])[0]
    (h,) = torch.autograd.grad(f(t), [t], create_graph=True)
    (h,) = torch.autograd.grad(h, [t], create_graph=True)
    (h,) = torch.autograd.grad(h, [t])
    assert g.data == pytest.approx(h.item(), rel=1e-11)


# ----------------------------------------------------------------------------- nn


def _torch_copy(model):
    """The same network as PyTorch tensors: one (W, b, nonlin) per layer."""
    layers = []
    for layer in model.layers:
        W = torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64)
        b = torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64)
        layers.append((W.requires_grad_(), b.requires_grad_(), layer.neurons[0].nonlin))
    return layers


def _torch_forward(layers, x):
    h = x
    for W, b, nonlin in layers:
        h = W @ h + b
        if nonlin:
            h = h.relu()
    return h


def _assert_same_grads(model, layers, rel):
    for layer, (W, b, _) in zip(model.layers, layers):
        for i, n in enumerate(layer.neurons):
            assert [w.grad for w in n.w] == pytest.approx(W.grad[i].tolist(), rel=rel, abs=1e-13)
            assert n.b.grad == pytest.approx(b.grad[i].item(), rel=rel, abs=1e-13)


def test_mlp_output_and_gradients_match_torch():
    random.seed(0)
    model = MLP(3, [4, 4, 1])
    for p in model.parameters():  # non-zero biases, so every path is exercised
        p.data += 0.1
    layers = _torch_copy(model)
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]

    outs = [model(x) for x in xs]
    loss = sum((out - y) ** 2 for out, y in zip(outs, ys))
    model.zero_grad()
    loss.backward()

    t_outs = [_torch_forward(layers, torch.tensor(x, dtype=torch.float64)) for x in xs]
    t_loss = sum((out - y) ** 2 for out, y in zip(t_outs, ys)).sum()
    t_loss.backward()

    assert [o.data for o in outs] == pytest.approx([o.item() for o in t_outs], rel=1e-12)
    assert loss.data == pytest.approx(t_loss.item(), rel=1e-12)
    _assert_same_grads(model, layers, rel=1e-10)


def test_classic_demo_loss_matches_torch():
    # The classic demo's max-margin loss + L2 on MLP(2, [16, 16, 1]).
    rng = random.Random(5)
    X = [[rng.uniform(-1.5, 2.5), rng.uniform(-1, 1.5)] for _ in range(12)]
    Y = [rng.choice((-1.0, 1.0)) for _ in range(12)]
    random.seed(1337)
    model = MLP(2, [16, 16, 1])
    layers = _torch_copy(model)

    inputs = [list(map(Value, xrow)) for xrow in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(Y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum(p * p for p in model.parameters())
    total_loss = data_loss + reg_loss
    model.zero_grad()
    total_loss.backward()

    Xt, Yt = torch.tensor(X, dtype=torch.float64), torch.tensor(Y, dtype=torch.float64)
    t_scores = torch.stack([_torch_forward(layers, x) for x in Xt]).reshape(-1)
    t_params = [t for W, b, _ in layers for t in (W, b)]
    t_total = (1 - Yt * t_scores).relu().mean() + 1e-4 * sum((t * t).sum() for t in t_params)
    t_total.backward()

    assert total_loss.data == pytest.approx(t_total.item(), rel=1e-12)
    _assert_same_grads(model, layers, rel=1e-10)


# ----------------------------------------------------------------------------- the README


def test_classic_readme_example_matches_torch():
    # The classic micrograd README, as written there.
    from micrograd.engine import Value

    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    print(f"{g.data:.4f}")  # prints 24.7041, the outcome of this forward pass
    g.backward()
    print(f"{a.grad:.4f}")  # prints 138.8338, i.e. the numerical value of dg/da
    print(f"{b.grad:.4f}")  # prints 645.5773, i.e. the numerical value of dg/db

    # The same computation in PyTorch.
    at, bt = tensors([-4.0, 2.0])
    ct = at + bt
    dt = at * bt + bt**3
    ct = ct + ct + 1
    ct = ct + 1 + ct + (-at)
    dt = dt + dt * 2 + (bt + at).relu()
    dt = dt + 3 * dt + (bt - at).relu()
    et = ct - dt
    ft = et**2
    gt = ft / 2.0
    gt = gt + 10.0 / ft
    gt.backward()

    assert g.data == pytest.approx(gt.item(), rel=1e-13)
    assert a.grad == pytest.approx(at.grad.item(), rel=1e-13)
    assert b.grad == pytest.approx(bt.grad.item(), rel=1e-13)


def test_classic_test_engine_sanity_check_matches_torch():
    # The classic repository's test_engine.py first example.
    x = Value(-4.0)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()

    xt = tensors([-4.0])[0]
    zt = 2 * xt + 2 + xt
    qt = zt.relu() + zt * xt
    ht = (zt * zt).relu()
    yt = ht + qt + qt * xt
    yt.backward()
    assert y.data == yt.item() and x.grad == xt.grad.item()


# ----------------------------------------------------------------------------- random graphs

# A random program: start from three inputs, apply ops that are safe on the whole real
# line (or made safe), each to earlier results, and sum a few of them at the end.
_UNARY = [
    lambda a: a.tanh(),
    lambda a: a.sigmoid(),
    lambda a: a.sin(),
    lambda a: a.cos(),
    lambda a: -a,
    lambda a: (a * 0.5).exp(),
    lambda a: (a * a + 1).log(),
    lambda a: (a * a + 0.5).sqrt(),
    lambda a: a**2,
    lambda a: 3 - a,
]
_BINARY = [
    lambda a, b: a + b,
    lambda a, b: a - b,
    lambda a, b: a * b,
    lambda a, b: a / (b * b + 1),
    lambda a, b: (a * a + 1) ** b.tanh(),
]


@given(
    inputs=st.lists(st.floats(-2, 2), min_size=3, max_size=3),
    program=st.lists(
        st.tuples(st.integers(0, 14), st.integers(0, 99), st.integers(0, 99)),
        min_size=1,
        max_size=12,
    ),
)
def test_random_programs_match_torch(inputs, program):
    def run(*xs):
        nodes = list(xs)
        for op, i, j in program:
            a, b = nodes[i % len(nodes)], nodes[j % len(nodes)]
            nodes.append(_UNARY[op](a) if op < len(_UNARY) else _BINARY[op - len(_UNARY)](a, b))
        return nodes[-1] + nodes[len(nodes) // 2] * nodes[0]

    compare(run, inputs, rel=1e-9, abs_=1e-10)
