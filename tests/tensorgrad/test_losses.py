"""Functional losses against PyTorch: cross_entropy, mse_loss, binary_cross_entropy and
binary_cross_entropy_with_logits, every reduction, extreme logits, and the hand math of
the fused gradients."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad.nn import functional as F


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch", reason="PyTorch (the test oracle) is not installed")


REDUCTIONS = ["mean", "sum", "none"]
RNG = np.random.default_rng(1234)
LOGITS = RNG.standard_normal((5, 4)) * 3
LABELS = np.array([0, 3, 3, 1, 2])


def _upstream(shape, seed=7):
    return np.asarray(np.random.default_rng(seed).standard_normal(shape))


def _compare(torch, out, ref, inputs, tinputs, rtol=1e-10, atol=1e-12):
    """Forward values, then gradients with a random upstream gradient."""
    assert out.shape == tuple(ref.shape)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=rtol, atol=atol)
    G = _upstream(out.shape)
    out.backward(gradient=G)
    ref.backward(torch.as_tensor(G, dtype=ref.dtype))
    for x, tx in zip(inputs, tinputs):
        assert x.grad is not None and x.grad.shape == x.shape and x.grad.dtype == x.dtype
        assert np.isfinite(x.grad.data).all()
        np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=rtol, atol=atol)


# ----------------------------------------------------------------------------- cross_entropy


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "labels",
    [LABELS, LABELS.tolist(), tg.tensor(LABELS, dtype=np.int64), tg.tensor(LABELS),
     LABELS.astype(np.int32)],
    ids=["ndarray", "list", "int_tensor", "float_tensor_of_integers", "int32"],
)  # fmt: skip
def test_cross_entropy_matches_torch(torch, reduction, labels) -> None:
    x = tg.tensor(LOGITS, requires_grad=True)
    out = F.cross_entropy(x, labels, reduction=reduction)
    tx = torch.tensor(LOGITS, requires_grad=True)
    ref = torch.nn.functional.cross_entropy(tx, torch.as_tensor(LABELS), reduction=reduction)
    _compare(torch, out, ref, [x], [tx])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_extreme_logits_finite_and_match_torch(torch, reduction) -> None:
    logits = np.array(
        [[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0], [1000.0, 1000.0, -1000.0],
         [-1000.0, 1000.0, 999.0]]
    )  # fmt: skip
    labels = [1, 0, 2, 2]  # includes the hopeless ones: loss 2000 and 1
    x = tg.tensor(logits, requires_grad=True)
    out = F.cross_entropy(x, labels, reduction=reduction)
    assert np.isfinite(out.data).all()
    tx = torch.tensor(logits, requires_grad=True)
    ref = torch.nn.functional.cross_entropy(tx, torch.as_tensor(labels), reduction=reduction)
    _compare(torch, out, ref, [x], [tx])


@pytest.mark.parametrize("scale", [1e3, 1e5])
def test_float32_log_softmax_and_cross_entropy_of_large_equal_logits(scale) -> None:
    """Three equal logits: log_softmax is -log 3 and the loss log 3 (hand math), however
    large they are, in float32 too: the difference is taken after subtracting the max."""
    z = np.full((1, 3), scale, np.float32)
    third = np.float32(-math.log(3))
    np.testing.assert_allclose(tg.tensor(z).log_softmax(axis=1).data, [[third] * 3], rtol=1e-6)
    loss = F.cross_entropy(tg.tensor(z), [1])
    assert loss.dtype == np.float32
    assert loss.item() == pytest.approx(math.log(3), rel=1e-6)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_of_an_empty_batch_matches_torch(torch, reduction) -> None:
    """No rows: the mean is nan, the sum 0, "none" an empty loss; the gradient empty."""
    x = tg.tensor(np.zeros((0, 3)), requires_grad=True)
    with np.errstate(all="ignore"):
        out = F.cross_entropy(x, np.zeros(0, int), reduction=reduction)
    tx = torch.zeros((0, 3), dtype=torch.float64, requires_grad=True)
    ref = torch.nn.functional.cross_entropy(
        tx, torch.zeros(0, dtype=torch.int64), reduction=reduction
    )
    np.testing.assert_array_equal(out.data, ref.detach().numpy())
    out.backward(gradient=np.ones(out.shape))
    assert x.grad.shape == (0, 3)


IGNORED = np.array([0, -100, 3, 1, -100])  # PyTorch's default ignore_index, twice
CLASS_WEIGHTS = np.array([0.5, 2.0, 1.0, 0.25])
CE_OPTIONS = {
    "ignore_index": ({}, IGNORED),
    "ignore_index=3": ({"ignore_index": 3}, LABELS),
    "label_smoothing": ({"label_smoothing": 0.1}, LABELS),
    "weight": ({"weight": CLASS_WEIGHTS}, LABELS),
    "all_three": ({"weight": CLASS_WEIGHTS, "label_smoothing": 0.3}, IGNORED),
    "every_row_ignored": ({}, np.full(5, -100)),
}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("option", CE_OPTIONS)
def test_cross_entropy_options_match_torch(torch, reduction, option) -> None:
    """PyTorch's weight, ignore_index and label_smoothing: the mean divides by the kept
    rows' class weights (nan when no row is kept, as PyTorch)."""
    kw, labels = CE_OPTIONS[option]
    x = tg.tensor(LOGITS, requires_grad=True)
    out = F.cross_entropy(x, labels, reduction=reduction, **kw)
    tx = torch.tensor(LOGITS, requires_grad=True)
    tkw = {k: torch.tensor(v) if k == "weight" else v for k, v in kw.items()}
    ref = torch.nn.functional.cross_entropy(tx, torch.as_tensor(labels), reduction=reduction, **tkw)
    if option == "every_row_ignored" and reduction == "mean":  # a nan loss, zero gradients
        assert np.isnan(out.item()) and np.isnan(ref.item())
    _compare(torch, out, ref, [x], [tx])


def test_cross_entropy_options_in_float32_match_torch(torch) -> None:
    z = LOGITS.astype(np.float32)
    x = tg.tensor(z, requires_grad=True)
    out = F.cross_entropy(x, IGNORED, weight=CLASS_WEIGHTS, label_smoothing=0.2)
    tx = torch.tensor(z, requires_grad=True)
    ref = torch.nn.functional.cross_entropy(
        tx, torch.as_tensor(IGNORED), weight=torch.tensor(CLASS_WEIGHTS, dtype=torch.float32),
        label_smoothing=0.2,
    )  # fmt: skip
    assert out.dtype == np.float32
    _compare(torch, out, ref, [x], [tx], rtol=1e-5, atol=1e-6)
    assert x.grad.dtype == np.float32


def test_cross_entropy_options_by_hand() -> None:
    """Ignored rows weigh nothing and the mean is over the others; smoothing ε aims at
    (1 - ε) onehot + ε / C, so the gradient is softmax minus that."""
    z = LOGITS[:3]
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    x = tg.tensor(z, requires_grad=True)
    loss = F.cross_entropy(x, [2, -100, 0])
    assert loss.item() == pytest.approx(-(logp[0, 2] + logp[2, 0]) / 2, rel=1e-12)
    loss.backward()
    np.testing.assert_array_equal(x.grad.data[1], 0)
    x = tg.tensor(z, requires_grad=True)
    eps, classes = 0.4, 4
    F.cross_entropy(x, [1, 0, 3], label_smoothing=eps, reduction="sum").backward()
    aim = np.full((3, classes), eps / classes) + (1 - eps) * np.eye(classes)[[1, 0, 3]]
    np.testing.assert_allclose(x.grad.data, np.exp(logp) - aim, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("option", [o for o in CE_OPTIONS if o != "every_row_ignored"])
def test_cross_entropy_options_gradcheck(option) -> None:
    kw, labels = CE_OPTIONS[option]
    x = tg.tensor(LOGITS, requires_grad=True)
    assert tg.gradcheck(lambda z: F.cross_entropy(z, labels, **kw), [x])


BAD_LABELS = np.array([0, -100, 7, 1, 2])
BAD_CE_OPTIONS = [
    ({"label_smoothing": 1.5}, LABELS, ValueError, r"label_smoothing must be in \[0, 1\], got 1.5"),
    ({"weight": [1.0, 2.0]}, LABELS, ValueError, r"per class, shape \(4,\), got shape \(2,\)"),
    ({"weight": tg.tensor(CLASS_WEIGHTS, requires_grad=True)}, LABELS, TypeError, "constant"),
    ({}, BAD_LABELS, IndexError, "label 7 is out of range for 4 classes"),
    ({"ignore_index": 7}, BAD_LABELS, IndexError, "label -100 is out of range"),
    ({"ignore_index": 1.5}, LABELS, TypeError, "ignore_index must be an int, got 1.5"),
    ({"label_smoothing": "a"}, LABELS, TypeError, "label_smoothing must be a number, got 'a'"),
]


@pytest.mark.parametrize("kw, labels, error, message", BAD_CE_OPTIONS)
def test_cross_entropy_bad_options_name_themselves(kw, labels, error, message) -> None:
    with pytest.raises(error, match=message):
        F.cross_entropy(tg.tensor(LOGITS), labels, **kw)


def test_cross_entropy_gradient_is_softmax_minus_onehot() -> None:
    """Hand math: d mean(CE)/dz = (softmax(z) - onehot(y)) / N."""
    x = tg.tensor(LOGITS, requires_grad=True)
    F.cross_entropy(x, LABELS).backward()
    e = np.exp(LOGITS - LOGITS.max(axis=1, keepdims=True))
    softmax = e / e.sum(axis=1, keepdims=True)
    onehot = np.eye(4)[LABELS]
    np.testing.assert_allclose(x.grad.data, (softmax - onehot) / len(LABELS), rtol=1e-12)
    x.zero_grad()
    F.cross_entropy(x, LABELS, reduction="sum").backward()
    np.testing.assert_allclose(x.grad.data, softmax - onehot, rtol=1e-12)
    # and the value: logsumexp(z) - z[y]
    loss = F.cross_entropy(x, LABELS, reduction="none")
    lse = np.log(np.exp(LOGITS).sum(axis=1))
    np.testing.assert_allclose(loss.data, lse - LOGITS[np.arange(5), LABELS], rtol=1e-12)


def test_cross_entropy_float32_stays_float32() -> None:
    x = tg.tensor(LOGITS.astype(np.float32), requires_grad=True)
    out = F.cross_entropy(x, LABELS)
    assert out.dtype == np.float32
    out.backward()
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize("logits", [[[1, 2], [3, 5]], np.array([[1, 2], [3, 5]], np.int32)])
def test_cross_entropy_of_integer_logits_is_a_float64_loss(logits) -> None:
    # Hand math: log(e^1 + e^2) - 1 = 1 + log(1 + e^-1); log(e^3 + e^5) - 5 = log(1 + e^-2).
    rows = [1 + math.log1p(math.exp(-1)), math.log1p(math.exp(-2))]
    out = F.cross_entropy(logits, [0, 1], reduction="none")
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.data, rows, rtol=1e-12)
    assert F.cross_entropy(logits, [0, 1]).item() == pytest.approx(sum(rows) / 2, rel=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_gradcheck(reduction) -> None:
    x = tg.tensor(LOGITS, requires_grad=True)
    assert tg.gradcheck(lambda z: F.cross_entropy(z, LABELS, reduction=reduction), [x])


# ----------------------------------------------------------------------------- mse_loss


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(4, 3), (5,), ()])
def test_mse_loss_matches_torch(torch, reduction, shape) -> None:
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal(shape), rng.standard_normal(shape)
    x, t = tg.tensor(a, requires_grad=True), tg.tensor(b, requires_grad=True)
    out = F.mse_loss(x, t, reduction=reduction)
    tx, tt = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    ref = torch.nn.functional.mse_loss(tx, tt, reduction=reduction)
    _compare(torch, out, ref, [x, t], [tx, tt])


def test_mse_loss_with_an_ndarray_target() -> None:
    x = tg.tensor([1.0, 2.0, 4.0], requires_grad=True)
    out = F.mse_loss(x, np.array([1.0, 0.0, 1.0]))
    np.testing.assert_allclose(out.item(), (0 + 4 + 9) / 3)
    out.backward()
    np.testing.assert_allclose(x.grad.data, 2 * np.array([0.0, 2.0, 3.0]) / 3)


@pytest.mark.parametrize(
    "loss",
    [F.mse_loss, F.binary_cross_entropy, F.binary_cross_entropy_with_logits],
    ids=lambda f: f.__name__,
)
@pytest.mark.parametrize("target", [1.0, 0, np.float64(0.5)], ids=repr)
def test_a_number_target_keeps_a_float32_loss(loss, target) -> None:
    """A Python or NumPy number is a constant that does not promote float32 (as x - 0.5)."""
    x = tg.tensor(np.float32(0.3), requires_grad=True)
    out = loss(x, target)
    assert out.dtype == np.float32
    out.backward()
    assert x.grad.dtype == np.float32


def test_mse_loss_shape_mismatch_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"\(3, 1\).*\(3,\)"):
        F.mse_loss(tg.tensor(np.ones((3, 1))), tg.tensor(np.ones(3)))


# ----------------------------------------------------------------------------- binary_cross_entropy


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_matches_torch(torch, reduction) -> None:
    rng = np.random.default_rng(3)
    p = rng.uniform(0.05, 0.95, (4, 3))
    t = rng.uniform(0, 1, (4, 3))  # soft targets: the target gets a gradient too
    t[0] = [0.0, 1.0, 1.0]
    x, y = tg.tensor(p, requires_grad=True), tg.tensor(t, requires_grad=True)
    out = F.binary_cross_entropy(x, y, reduction=reduction)
    tx, ty = torch.tensor(p, requires_grad=True), torch.tensor(t, requires_grad=True)
    ref = torch.nn.functional.binary_cross_entropy(tx, ty, reduction=reduction)
    _compare(torch, out, ref, [x, y], [tx, ty], rtol=1e-9)


def test_binary_cross_entropy_at_probabilities_0_and_1_matches_torch(torch) -> None:
    """log 0 is clamped at -100, as PyTorch: the loss is 100, finite."""
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.5])
    t = np.array([1.0, 0.0, 0.0, 1.0, 1.0])
    x = tg.tensor(p, requires_grad=True)
    out = F.binary_cross_entropy(x, t, reduction="none")
    tx = torch.tensor(p, requires_grad=True)
    ref = torch.nn.functional.binary_cross_entropy(tx, torch.as_tensor(t), reduction="none")
    np.testing.assert_allclose(out.data, ref.detach().numpy())
    np.testing.assert_allclose(out.data[:2], [100.0, 100.0])
    G = _upstream(out.shape)
    out.backward(gradient=G)
    ref.backward(torch.as_tensor(G))
    # gradients of ~1e11 ((p - t) / 1e-12 at the clamp): agree to rounding
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-7)


def test_binary_cross_entropy_rejects_values_outside_0_1() -> None:
    with pytest.raises(ValueError, match="1.5"):
        F.binary_cross_entropy(tg.tensor([0.5, 1.5]), tg.tensor([0.0, 1.0]))


# ----------------------------------------------------------------------------- with logits


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_matches_torch(torch, reduction) -> None:
    rng = np.random.default_rng(4)
    z = rng.standard_normal((3, 4)) * 4
    z[0] = [1000.0, -1000.0, 0.0, 30.0]
    t = rng.uniform(0, 1, (3, 4))
    t[0] = [0.0, 1.0, 0.3, 1.0]
    x, y = tg.tensor(z, requires_grad=True), tg.tensor(t, requires_grad=True)
    out = F.binary_cross_entropy_with_logits(x, y, reduction=reduction)
    assert np.isfinite(out.data).all()
    tx, ty = torch.tensor(z, requires_grad=True), torch.tensor(t, requires_grad=True)
    ref = torch.nn.functional.binary_cross_entropy_with_logits(tx, ty, reduction=reduction)
    _compare(torch, out, ref, [x, y], [tx, ty])


def test_bce_with_logits_at_extreme_logits_hand_math() -> None:
    """loss(1000, t) = 1000 (1 - t); loss(-1000, t) = 1000 t; gradient σ(x) - t."""
    z = np.array([1000.0, 1000.0, -1000.0, -1000.0])
    t = np.array([1.0, 0.0, 1.0, 0.0])
    x = tg.tensor(z, requires_grad=True)
    out = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    np.testing.assert_allclose(out.data, [0.0, 1000.0, 1000.0, 0.0])
    out.sum().backward()
    np.testing.assert_allclose(x.grad.data, [0.0, 1.0, -1.0, 0.0])


def test_bce_with_logits_gradient_at_zero_is_half_minus_target() -> None:
    t = np.array([0.0, 0.25, 1.0])
    x = tg.tensor(np.zeros(3), requires_grad=True)
    out = F.binary_cross_entropy_with_logits(x, t, reduction="sum")
    np.testing.assert_allclose(out.item(), 3 * np.log(2))  # each term is log 2 at x = 0
    out.backward()
    np.testing.assert_array_equal(x.grad.data, 0.5 - t)


def test_losses_gradcheck() -> None:
    rng = np.random.default_rng(5)
    p = tg.tensor(rng.uniform(0.1, 0.9, 4), requires_grad=True)
    z = tg.tensor(rng.standard_normal(4), requires_grad=True)
    t = tg.tensor(rng.uniform(0, 1, 4), requires_grad=True)
    assert tg.gradcheck(lambda a, b: F.binary_cross_entropy(a, b), [p, t])
    assert tg.gradcheck(lambda a, b: F.binary_cross_entropy_with_logits(a, b), [z, t])
    assert tg.gradcheck(lambda a, b: F.mse_loss(a, b, reduction="sum"), [z, t])


def test_binary_cross_entropy_of_a_nan_probability_is_nan_but_a_nan_target_is_refused():
    """A nan input (a model gone astray) follows NumPy: its loss is nan, and detect_anomaly
    finds where the nan came from. A nan target is a bad label: refused, as torch does
    (torch refuses a nan input too)."""
    loss = F.binary_cross_entropy(tg.tensor([np.nan, 0.5]), tg.tensor([1.0, 0.0]))
    assert np.isnan(loss.item())
    with pytest.raises(ValueError, match=r"target must be probabilities in \[0, 1\], got nan"):
        F.binary_cross_entropy(tg.tensor([0.5, 0.5]), tg.tensor([1.0, np.nan]))


def test_cross_entropy_loss_module_takes_torchs_options(torch) -> None:
    """The module's weight is a buffer (in the state dict, as PyTorch's); the loss and
    gradient match PyTorch's module with the same options."""
    kw = {"weight": CLASS_WEIGHTS, "ignore_index": 3, "label_smoothing": 0.15}
    ours = tg.nn.CrossEntropyLoss(**kw)
    ref = torch.nn.CrossEntropyLoss(**{**kw, "weight": torch.tensor(CLASS_WEIGHTS)})
    assert list(ours.state_dict()) == list(ref.state_dict()) == ["weight"]
    x, tx = tg.tensor(LOGITS, requires_grad=True), torch.tensor(LOGITS, requires_grad=True)
    _compare(torch, ours(x, LABELS), ref(tx, torch.as_tensor(LABELS)), [x], [tx])
    with pytest.raises(ValueError, match="label_smoothing must be in .* got -0.1"):
        tg.nn.CrossEntropyLoss(label_smoothing=-0.1)


@pytest.mark.parametrize("kw", [{}, {"label_smoothing": 0.2}, {"weight": [1.0, 2.0, 3.0]}])
def test_every_row_ignored_gives_zero_derivatives_of_every_order(torch, kw) -> None:
    """A batch of padding only: the loss is nan, its gradient and the gradient of that
    gradient are 0, as PyTorch's (nan × an ignored row's 0 made the second one nan)."""
    z = np.array([[0.1, 0.2, 0.3], [1.0, -1.0, 0.0]])
    x = tg.tensor(z, requires_grad=True)
    (g,) = tg.grad(F.cross_entropy(x, [-100, -100], **kw), [x], create_graph=True)
    (h,) = tg.grad((g * g).sum() + g.sum(), [x])
    tx = torch.tensor(z, requires_grad=True)
    tkw = {k: torch.tensor(v, dtype=torch.float64) if k == "weight" else v for k, v in kw.items()}
    loss = torch.nn.functional.cross_entropy(tx, torch.tensor([-100, -100]), **tkw)
    (tg_,) = torch.autograd.grad(loss, tx, create_graph=True)
    (th,) = torch.autograd.grad((tg_ * tg_).sum() + tg_.sum(), tx)
    np.testing.assert_array_equal(g.data, tg_.detach().numpy())
    np.testing.assert_array_equal(h.data, th.numpy())
    np.testing.assert_array_equal(h.data, 0)


def test_a_numpy_float32_label_smoothing_is_read_as_its_number(torch) -> None:
    """ε = np.float32(0.1) kept float32 inside the float64 target: 2e-8 off PyTorch."""
    eps = np.float32(0.1)
    loss = F.cross_entropy(tg.tensor(LOGITS), LABELS, label_smoothing=eps)
    ref = torch.nn.functional.cross_entropy(
        torch.tensor(LOGITS), torch.as_tensor(LABELS), label_smoothing=float(eps)
    )
    assert loss.item() == pytest.approx(ref.item(), rel=1e-14)
    with pytest.raises(TypeError, match="CrossEntropyLoss: label_smoothing must be a number"):
        tg.nn.CrossEntropyLoss(label_smoothing="0.1")
