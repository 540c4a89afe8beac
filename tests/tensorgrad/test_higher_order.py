"""Second and higher derivatives: Hessian-vector products through every op of the harness
table (``test_ops.OPS``) and through the losses, against PyTorch's double backward."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tensorgrad as tg
from tensorgrad.nn import functional as F

from .test_matmul import CASES as MATMUL_CASES
from .test_ops import OPS, Case, Op, examples

torch = pytest.importorskip("torch", reason="PyTorch (the test oracle) is not installed")


def _tg_hvp(xs, out, G, V):
    """First gradients (computed by the rules running on Tensors, create_graph=True) and the
    HVP d/dx Σ (g · v), with tensorgrad."""
    gs = tg.grad(out, xs, grad_outputs=G, create_graph=True, allow_unused=True)
    first = [np.zeros(x.shape) if g is None else g.data for g, x in zip(gs, xs)]
    terms = [(g * v).sum() for g, v in zip(gs, V) if g is not None and g.requires_grad]
    if not terms:  # the first gradient does not depend on the inputs: a zero Hessian
        return first, [np.zeros(x.shape) for x in xs]
    s = terms[0]
    for term in terms[1:]:
        s = s + term
    hv = tg.grad(s, xs, allow_unused=True)
    return first, [np.zeros(x.shape) if h is None else h.data for h, x in zip(hv, xs)]


def _torch_hvp(xs, out, G, V):
    gs = torch.autograd.grad(
        out, xs, torch.as_tensor(G, dtype=out.dtype), create_graph=True, allow_unused=True
    )
    gs = [torch.zeros_like(x) if g is None else g for g, x in zip(gs, xs)]
    terms = [(g * torch.as_tensor(v)).sum() for g, v in zip(gs, V) if g.requires_grad]
    first = [g.detach().numpy(force=True) for g in gs]
    if not terms:
        return first, [np.zeros(tuple(x.shape)) for x in xs]
    hv = torch.autograd.grad(sum(terms), xs, allow_unused=True)
    return first, [
        np.zeros(tuple(x.shape)) if h is None else h.numpy(force=True) for h, x in zip(hv, xs)
    ]


def check_hvp(name, case_arrays, tg_fn, torch_fn, seed=0, rtol=1e-9, atol=1e-9):
    xs = [tg.tensor(a, requires_grad=True) for a in case_arrays]
    txs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in case_arrays]
    out, tout = tg_fn(*xs), torch_fn(*txs)
    rng = np.random.default_rng(seed)
    G = np.asarray(rng.standard_normal(out.shape))
    V = [np.asarray(rng.standard_normal(np.shape(a))) for a in case_arrays]
    first, hv = _tg_hvp(xs, out, G, V)
    tfirst, thv = _torch_hvp(txs, tout, G, V)
    for i in range(len(xs)):
        np.testing.assert_allclose(
            first[i], tfirst[i], rtol=rtol, atol=atol, err_msg=f"{name}: grad {i}"
        )
        np.testing.assert_allclose(hv[i], thv[i], rtol=rtol, atol=atol, err_msg=f"{name}: HVP {i}")
    assert all(x.grad is None for x in xs)  # tg.grad touches no .grad


HIGHER = [op for op in OPS if op.higher_order and op.gradcheck]


@pytest.mark.parametrize("op", HIGHER, ids=lambda op: op.name)
@settings(max_examples=examples(0.3))
@given(data=st.data())
def test_hessian_vector_products_match_torch(op: Op, data) -> None:
    case: Case = data.draw(op.case, label="case")
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    check_hvp(
        op.name,
        case.arrays,
        lambda *xs: op.tg(*xs, **case.params),
        lambda *xs: op.torch(*xs, **case.params),
        seed=seed,
    )


def _squared(y):
    return y * y


@pytest.mark.parametrize("op", HIGHER, ids=lambda op: op.name)
@settings(max_examples=examples(0.15))
@given(data=st.data())
def test_hessian_vector_products_with_an_op_after_match_torch(op: Op, data) -> None:
    """The same through y ⊙ y: the op's upstream gradient then depends on the inputs, so
    the graph its rule records is differentiated with a gradient that is not constant (a
    masked branch holding nan then gives 0 · nan = nan, as pow's once did)."""
    case: Case = data.draw(op.case, label="case")
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    check_hvp(
        op.name,
        case.arrays,
        lambda *xs: _squared(op.tg(*xs, **case.params)),
        lambda *xs: _squared(op.torch(*xs, **case.params)),
        seed=seed,
    )


def test_second_derivatives_of_tensor_power_match_torch() -> None:
    """((x ** y) ** 2): both operands require grad and an op follows the power."""
    check_hvp(
        "pow",
        [np.array([0.5, 1.5, 2.0]), np.array([2.0, 3.0, -0.5])],
        lambda x, y: (x**y) ** 2,
        lambda x, y: (x**y) ** 2,
    )


def test_mixed_second_derivative_of_power_at_a_zero_exponent_against_finite_differences():
    """d/dy (y x^(y-1)) = 1/x at y = 0. The slope's y was masked out there, so one order
    of differentiation gave 0 and the other 1/x (PyTorch masks it the same way, so the
    reference is central differences, through gradcheck, and the other order)."""
    x = tg.tensor([1.5, 2.0, 0.25], requires_grad=True)
    y = tg.tensor([0.0, 0.0, 0.0], requires_grad=True)
    assert tg.gradcheck(lambda a, b: tg.grad((a**b).sum(), a, create_graph=True)[0], [x, y])
    (gx,) = tg.grad((x**y).sum(), x, create_graph=True)
    np.testing.assert_allclose(tg.grad(gx.sum(), y)[0].data, [1 / 1.5, 1 / 2.0, 4.0])
    zero = tg.tensor([0.0], requires_grad=True)  # at x = 0 the slope is still 0, as PyTorch
    (gx,) = tg.grad((zero ** y[:1]).sum(), zero, create_graph=True)
    np.testing.assert_array_equal(gx.data, [0.0])


@pytest.mark.parametrize(
    "dtype, tiny", [(np.float64, 1e-310), (np.float32, 1e-39), (np.float16, 1e-5)]
)
def test_power_slope_at_a_zero_exponent_is_zero_for_a_base_whose_inverse_overflows(dtype, tiny):
    """x^0 is constant: slope 0 (math, and PyTorch). Keeping y · x^(y-1) for finite x gave
    0 · inf = nan where 1/x overflows; the same product one order up (d²/dx² of x^1)."""
    x = tg.tensor(np.array([tiny, -tiny], dtype), requires_grad=True)
    y = tg.tensor(np.zeros(2, dtype), requires_grad=True)
    (x**y).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0])
    assert x.grad.dtype == dtype
    (gx,) = tg.grad((x ** (y + 1)).sum(), x, create_graph=True)
    np.testing.assert_array_equal(tg.grad(gx.sum(), x)[0].data, [0.0, 0.0])


def test_second_derivatives_of_power_at_a_zero_base_and_negative_exponent_are_inf():
    """d²(x^y)/dy² = x^y ln²x and d²/dx dy = x^(y-1) (y ln x + 1): both +inf as x -> 0+ at
    y = -1 (PyTorch gives inf too). The first derivative there was a constant, -inf, so
    the second came out nan."""
    x = tg.tensor(0.0, requires_grad=True)
    y = tg.tensor(-1.0, requires_grad=True)
    (gy,) = tg.grad(x**y, y, create_graph=True)
    assert gy.item() == -np.inf
    gyy, gyx = tg.grad(gy, [y, x])
    assert (gyy.item(), gyx.item()) == (np.inf, np.inf)


@pytest.mark.parametrize("name", ["relu", "abs"])
def test_second_derivative_through_relu_or_abs_alone_is_zero_as_torch(name) -> None:
    """f = op(w * x) with x constant: df/dw = slope · x depends on w only through the
    slope, whose derivative is 0. PyTorch answers 0 (not "does not require grad")."""
    w0, x0, v = np.array([2.0, -1.0, 0.5]), np.array([0.3, 0.7, -2.0]), np.array([1.0, -2.0, 3.0])
    w = tg.tensor(w0, requires_grad=True)
    (g,) = tg.grad(getattr(w * tg.tensor(x0), name)().sum(), [w], create_graph=True)
    (h,) = tg.grad((g * tg.tensor(v)).sum(), [w])
    tw = torch.tensor(w0, requires_grad=True)
    (tg_,) = torch.autograd.grad(
        getattr(tw * torch.tensor(x0), name)().sum(), [tw], create_graph=True
    )
    (th,) = torch.autograd.grad((tg_ * torch.tensor(v)).sum(), [tw])
    np.testing.assert_array_equal(g.data, tg_.detach().numpy())
    np.testing.assert_array_equal(h.data, th.numpy(force=True))  # torch: a "ZeroTensor"


@pytest.mark.parametrize("name", [n for n in MATMUL_CASES if "empty" not in n])
def test_matmul_hessian_vector_products_match_torch(name) -> None:
    """Every named matmul case of test_matmul.py (1-D, folded N-D @ 2-D, broadcast batches)."""
    rng = np.random.default_rng(8)
    arrays = [rng.standard_normal(shape) for shape in MATMUL_CASES[name]]
    check_hvp(name, arrays, lambda a, b: a @ b, lambda a, b: a @ b)


# ----------------------------------------------------------------------------- losses

LOSS_CASES = {
    "cross_entropy_mean": (
        lambda z: F.cross_entropy(z, [0, 2, 1]),
        lambda z: torch.nn.functional.cross_entropy(z, torch.tensor([0, 2, 1])),
        [np.random.default_rng(1).standard_normal((3, 4))],
    ),
    "cross_entropy_none": (
        lambda z: F.cross_entropy(z, [3, 3, 0], reduction="none"),
        lambda z: torch.nn.functional.cross_entropy(z, torch.tensor([3, 3, 0]), reduction="none"),
        [np.random.default_rng(2).standard_normal((3, 4))],
    ),
    "cross_entropy_options": (
        lambda z: F.cross_entropy(
            z, [2, -100, 1], weight=[1.0, 0.5, 2.0, 1.5], label_smoothing=0.2
        ),
        lambda z: torch.nn.functional.cross_entropy(
            z,
            torch.tensor([2, -100, 1]),
            weight=torch.tensor([1.0, 0.5, 2.0, 1.5], dtype=z.dtype),
            label_smoothing=0.2,
        ),
        [np.random.default_rng(9).standard_normal((3, 4))],
    ),
    "mse_loss": (
        lambda a, b: F.mse_loss(a, b),
        lambda a, b: torch.nn.functional.mse_loss(a, b),
        [np.random.default_rng(3).standard_normal((2, 3)) for _ in range(2)],
    ),
    "binary_cross_entropy": (
        lambda p, t: F.binary_cross_entropy(p, t, reduction="sum"),
        lambda p, t: torch.nn.functional.binary_cross_entropy(p, t, reduction="sum"),
        [np.random.default_rng(4).uniform(0.1, 0.9, 5), np.random.default_rng(5).uniform(0, 1, 5)],
    ),
    "bce_with_logits": (
        lambda x, t: F.binary_cross_entropy_with_logits(x, t),
        lambda x, t: torch.nn.functional.binary_cross_entropy_with_logits(x, t),
        [np.random.default_rng(6).standard_normal(5), np.random.default_rng(7).uniform(0, 1, 5)],
    ),
}


@pytest.mark.parametrize("name", LOSS_CASES)
def test_loss_hessian_vector_products_match_torch(name) -> None:
    tg_fn, torch_fn, arrays = LOSS_CASES[name]
    check_hvp(name, arrays, tg_fn, torch_fn)


# ----------------------------------------------------------------------------- create_graph


@pytest.mark.filterwarnings("ignore:Using backward.. with create_graph=True")
def test_backward_create_graph_gives_differentiable_grads() -> None:
    a = np.array([0.5, -1.0, 2.0])
    x = tg.tensor(a, requires_grad=True)
    y = (x.sin() * x**2).sum()
    y.backward(create_graph=True)
    g = x.grad
    assert g.requires_grad
    tx = torch.tensor(a, requires_grad=True)
    ty = (tx.sin() * tx**2).sum()
    ty.backward(create_graph=True)
    np.testing.assert_allclose(g.data, tx.grad.detach().numpy(), rtol=1e-12)

    v = np.array([1.0, -2.0, 0.5])
    (hv,) = tg.grad((g * v).sum(), [x])
    (thv,) = torch.autograd.grad((tx.grad * torch.as_tensor(v)).sum(), [tx])
    np.testing.assert_allclose(hv.data, thv.numpy(), rtol=1e-12)


@pytest.mark.filterwarnings("ignore:Using backward.. with create_graph=True")
def test_backward_twice_with_create_graph_accumulates_like_torch() -> None:
    """The second backward goes through the first one's gradient graph and adds into .grad."""
    a = np.array([1.5, -0.5])
    x = tg.tensor(a, requires_grad=True)
    (x**3).sum().backward(create_graph=True)  # x.grad = 3x²
    x.grad.sum().backward()  # adds d/dx Σ 3x² = 6x
    tx = torch.tensor(a, requires_grad=True)
    (tx**3).sum().backward(create_graph=True)
    tx.grad.sum().backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.data, 3 * a**2 + 6 * a, rtol=1e-12)  # hand math


@pytest.mark.parametrize(
    "name, fn, third",
    [
        ("x**4", lambda x: x**4, lambda a: 24 * a),
        ("sin", lambda x: x.sin(), lambda a: -np.cos(a)),
        ("exp(2x)", lambda x: (x * 2).exp(), lambda a: 8 * np.exp(2 * a)),
        (
            "tanh",
            lambda x: x.tanh(),
            lambda a: -2 * (1 - np.tanh(a) ** 2) * (1 - 3 * np.tanh(a) ** 2),
        ),
    ],
)
def test_third_derivatives(name, fn, third) -> None:
    a = np.array([0.3, -1.2, 2.0])
    x = tg.tensor(a, requires_grad=True)
    (g1,) = tg.grad(fn(x).sum(), [x], create_graph=True)
    (g2,) = tg.grad(g1.sum(), [x], create_graph=True)
    (g3,) = tg.grad(g2.sum(), [x])
    np.testing.assert_allclose(g3.data, third(a), rtol=1e-10, err_msg=name)  # hand math

    tx = torch.tensor(a, requires_grad=True)
    (t1,) = torch.autograd.grad(fn_torch(name, tx).sum(), [tx], create_graph=True)
    (t2,) = torch.autograd.grad(t1.sum(), [tx], create_graph=True)
    (t3,) = torch.autograd.grad(t2.sum(), [tx])
    np.testing.assert_allclose(g3.data, t3.numpy(), rtol=1e-10, err_msg=name)


def fn_torch(name, tx):
    return {
        "x**4": lambda: tx**4,
        "sin": lambda: tx.sin(),
        "exp(2x)": lambda: (tx * 2).exp(),
        "tanh": lambda: tx.tanh(),
    }[name]()


def test_full_hessian_of_a_small_function_hand_math() -> None:
    """f(x, y) = x² y + sin(x y): rows of the Hessian by differentiating each gradient entry."""
    x0, y0 = 0.7, -1.3
    p = tg.tensor([x0, y0], requires_grad=True)
    f = p[0] ** 2 * p[1] + (p[0] * p[1]).sin()
    (g,) = tg.grad(f, [p], create_graph=True)
    rows = [tg.grad(g[i], [p], retain_graph=True)[0].data for i in range(2)]
    c, s = np.cos(x0 * y0), np.sin(x0 * y0)
    expected = np.array(
        [[2 * y0 - y0**2 * s, 2 * x0 + c - x0 * y0 * s], [2 * x0 + c - x0 * y0 * s, -(x0**2) * s]]
    )
    np.testing.assert_allclose(np.array(rows), expected, rtol=1e-12)


def test_create_graph_gradients_keep_the_inputs_dtype() -> None:
    """A float64 constant promotes x * c to float64; x's gradient is still float32 (as in a
    plain backward and in PyTorch), and differentiating it again works through the cast."""
    x = tg.tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    c = tg.tensor([3.0, 4.0])  # float64
    (g,) = tg.grad((x * c * x).sum(), [x], create_graph=True)  # 2 c x
    assert g.dtype == np.float32 and g.requires_grad
    np.testing.assert_array_equal(g.data, [6.0, 16.0])
    (h,) = tg.grad(g.sum(), [x])  # 2 c
    assert h.dtype == np.float32
    np.testing.assert_array_equal(h.data, [6.0, 8.0])
    (x * c * x).sum().backward(create_graph=True)
    assert x.grad.dtype == np.float32 and x.grad.requires_grad


def test_create_graph_grads_own_their_memory() -> None:
    """As PyTorch clones them: .grad never shares memory with the seed a user passed, with
    another tensor's .grad, or with a read-only view, so zeroing it in place is safe."""
    v = tg.tensor([5.0, 6.0])
    p = tg.nn.Parameter(np.array([1.0, 2.0]))
    (p * 1).backward(gradient=v, create_graph=True)
    q = tg.nn.Parameter(np.array([1.0, 2.0]))
    q.sum().backward(create_graph=True)  # the gradient of a sum is a broadcast view
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    h = (a * 1).retain_grad()
    h.sum().backward(create_graph=True)
    assert not np.shares_memory(p.grad.data, v.data)
    assert not np.shares_memory(h.grad.data, a.grad.data)
    tg.optim.SGD([p, q], lr=0.1).zero_grad(set_to_none=False)
    np.testing.assert_array_equal(v.data, [5.0, 6.0])
    np.testing.assert_array_equal(q.grad.data, [0.0, 0.0])
    # and the copies are still differentiable: d/dx of d(x³)/dx summed = 6x
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    (x**3).sum().backward(create_graph=True)
    (g,) = tg.grad(x.grad.sum(), [x])
    np.testing.assert_array_equal(g.data, [6.0, 12.0])
