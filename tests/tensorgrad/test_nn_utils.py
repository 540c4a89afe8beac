"""Gradient clipping (tg.nn.utils) against torch.nn.utils, and by hand."""

import math

import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad.nn.utils import clip_grad_norm_, clip_grad_value_

from ..oracle import torch

SHAPES = [(3, 4), (5,), (), (2, 1, 3)]


def _params(dtype=np.float64, scale=1.0, seed=0, none_at=()):
    """Ours and PyTorch's parameters with the same gradients (None at ``none_at``)."""
    rng = np.random.default_rng(seed)
    ours, theirs = [], []
    for i, shape in enumerate(SHAPES):
        w = rng.normal(size=shape).astype(dtype)
        p, t = tg.Parameter(w), torch.tensor(w, requires_grad=True)
        if i not in none_at:
            g = (scale * rng.normal(size=shape)).astype(dtype)
            p.grad, t.grad = tg.tensor(g), torch.tensor(g)
        ours.append(p)
        theirs.append(t)
    return ours, theirs


def _assert_grads_match(ours, theirs, rtol):
    for p, t in zip(ours, theirs):
        if t.grad is None:
            assert p.grad is None
        else:
            assert p.grad.dtype == p.dtype
            np.testing.assert_allclose(p.grad.data, t.grad.numpy(), rtol=rtol, atol=0)


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-13), (np.float32, 2e-6)])
@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, math.inf, "inf", 0, -math.inf, -2.0])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])  # clipped, and left as it is
def test_clip_grad_norm_matches_torch(dtype, rtol, norm_type, max_norm):
    ours, theirs = _params(dtype, scale=3.0, none_at=(1,))
    total = clip_grad_norm_(ours, max_norm, norm_type)
    ref = torch.nn.utils.clip_grad_norm_(theirs, max_norm, float(norm_type))
    assert isinstance(total, tg.Tensor) and total.shape == () and total.dtype == dtype
    np.testing.assert_allclose(total.item(), ref.item(), rtol=rtol)
    _assert_grads_match(ours, theirs, rtol)


def test_clip_grad_norm_by_hand():
    """Gradients (3, 4) and (0,): norm 5, scaled by 1 / (5 + 1e-6) to norm 1; a single
    tensor may be passed; below max_norm nothing changes."""
    w = tg.Parameter([0.0, 0.0])
    w.grad = tg.tensor([3.0, 4.0])
    assert clip_grad_norm_(w, 1.0).item() == 5.0
    np.testing.assert_allclose(w.grad.data, [3 / (5 + 1e-6), 4 / (5 + 1e-6)], rtol=1e-15)
    assert clip_grad_norm_([w], 2.0).item() == pytest.approx(1.0, rel=1e-6)
    np.testing.assert_allclose(w.grad.data, [3 / (5 + 1e-6), 4 / (5 + 1e-6)], rtol=1e-15)
    assert clip_grad_norm_([tg.Parameter([1.0])], 1.0).item() == 0.0  # no gradients


def test_mixed_dtypes_take_the_wider_norm_and_keep_each_gradients_dtype():
    a32, b64 = tg.Parameter(np.ones(3, np.float32)), tg.Parameter(np.ones(2))
    a32.grad, b64.grad = tg.tensor(np.full(3, 2.0, np.float32)), tg.tensor(np.ones(2))
    total = clip_grad_norm_([a32, b64], 1.0)
    assert total.dtype == np.float64 and total.item() == pytest.approx(math.sqrt(14))
    assert a32.grad.dtype == np.float32
    np.testing.assert_allclose(a32.grad.data, 2 / math.sqrt(14), rtol=1e-6)


def test_a_nonfinite_norm_raises_on_request_and_changes_nothing():
    ours, _ = _params()
    ours[0].grad.data[0, 0] = np.inf
    before = [p.grad.data.copy() for p in ours]
    with pytest.raises(RuntimeError, match="total norm of order 2.0 .* is inf"):
        clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    for p, b in zip(ours, before):
        np.testing.assert_array_equal(p.grad.data, b)


def test_clip_grad_value_matches_torch():
    ours, theirs = _params(scale=2.0, none_at=(2,))
    ours[0].grad.data[1, 1] = theirs[0].grad[1, 1] = np.nan
    assert clip_grad_value_(ours, 0.75) is None
    torch.nn.utils.clip_grad_value_(theirs, 0.75)
    for p, t in zip(ours, theirs):
        if t.grad is not None:
            np.testing.assert_array_equal(p.grad.data, t.grad.numpy())
    assert np.nanmax(np.abs(ours[0].grad.data)) == 0.75  # some values were clipped


def test_a_graph_that_read_a_gradient_refuses_backward_after_clipping():
    """Clipping changes .grad in place: a graph built on the old values must not run."""
    w, x = tg.Parameter([1.0, 2.0]), tg.Parameter([3.0, 4.0])
    w.grad = tg.tensor([30.0, 40.0])
    y = (x * w.grad).sum()
    clip_grad_norm_([w], 1.0)
    with pytest.raises(RuntimeError, match="in place"):
        y.backward()


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda ps: clip_grad_norm_(ps, 1.0, norm_type="nan"), ValueError, "norm_type .* 'nan'"),
        (lambda ps: clip_grad_value_(ps, float("nan")), ValueError, "clip_value .* nan"),
        (lambda ps: clip_grad_norm_(ps, "big"), ValueError, "max_norm must be a number .* 'big'"),
        (lambda ps: clip_grad_norm_(ps, 1.0, "two"), ValueError, "norm_type must be .* 'two'"),
        (lambda ps: clip_grad_norm_([*ps, np.ones(2)], 1.0), TypeError, "ndarray at 2"),
    ],
)
def test_bad_arguments_name_themselves_and_change_nothing(call, error, message):
    ours, _ = _params(scale=5.0, none_at=(3,))
    before = [p.grad.data.copy() for p in ours[:2]]
    with pytest.raises(error, match=message):
        call(ours[:2])
    for p, b in zip(ours[:2], before):
        np.testing.assert_array_equal(p.grad.data, b)


def test_a_read_only_gradient_is_refused_before_any_is_changed():
    a, b = tg.Parameter(np.ones(2)), tg.Parameter(np.ones(2))
    a.grad = tg.tensor([30.0, 40.0])
    b.grad = tg.tensor([9.0, 9.0])
    b.grad.data.flags.writeable = False  # as a gradient made by hand may be
    with pytest.raises(ValueError, match="parameter 1 .* read-only"):
        clip_grad_norm_([a, b], 1.0)
    np.testing.assert_array_equal(a.grad.data, [30.0, 40.0])


@pytest.mark.parametrize("norm_type", [2.0, 3.0, math.inf])
def test_float16_gradients_are_summed_in_float32_as_torch(norm_type):
    """70,000 ones: the squares' sum overflowed float16 (inf), and every gradient was set
    to 0. PyTorch sums in float32 and gives the norm 264.5 in float16."""
    p, t = tg.Parameter(np.zeros(70000, np.float16)), torch.zeros(70000, dtype=torch.float16)
    p.grad, t.grad = tg.ones(70000, dtype=np.float16), torch.ones(70000, dtype=torch.float16)
    total = clip_grad_norm_([p], 1.0, norm_type)
    ref = torch.nn.utils.clip_grad_norm_([t], 1.0, norm_type)
    assert total.dtype == np.float16 and np.isfinite(total.item())
    assert total.item() == ref.item()
    np.testing.assert_array_equal(p.grad.data, t.grad.numpy())


def test_mixed_float16_and_float32_gradients_scale_as_torch():
    """The float32 coefficient used to be rounded to float16 first: 1 ulp off PyTorch."""
    rng = np.random.default_rng(3)
    a16, a32 = (rng.normal(size=50) * 10).astype(np.float16), rng.normal(size=7).astype(np.float32)
    ours = [tg.Parameter(np.zeros_like(a)) for a in (a16, a32)]
    theirs = [torch.zeros(a.shape, dtype=torch.from_numpy(a).dtype) for a in (a16, a32)]
    for p, t, a in zip(ours, theirs, (a16, a32)):
        p.grad, t.grad = tg.tensor(a), torch.tensor(a)
    total = clip_grad_norm_(ours, 1.0)
    ref = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    assert total.dtype == np.float32 and total.item() == pytest.approx(ref.item(), rel=1e-6)
    for p, t in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.data, t.grad.numpy())


def test_an_empty_gradient_has_no_minus_inf_norm():
    p = tg.Parameter(np.zeros(0))
    p.grad = tg.tensor(np.zeros(0))
    with pytest.raises(ValueError, match="empty gradient has no norm of order -inf"):
        clip_grad_norm_([p], 1.0, -math.inf)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
def test_the_clip_coefficient_is_torchs_to_the_last_bit(dtype):
    """Gradients (3, 4): norm exactly 5 in both libraries, so only the coefficient can
    differ. PyTorch computes 1 / (5 + 1e-6) times max_norm; a plain division was 1 ulp off
    for some max_norm."""
    for max_norm in np.linspace(0.05, 4.95, 99):
        p, t = (
            tg.Parameter(np.zeros(2, dtype)),
            torch.zeros(2, dtype=torch.from_numpy(np.zeros(1, dtype)).dtype),
        )
        p.grad, t.grad = (
            tg.tensor(np.array([3.0, 4.0], dtype)),
            torch.tensor(np.array([3.0, 4.0], dtype)),
        )
        clip_grad_norm_([p], float(max_norm))
        torch.nn.utils.clip_grad_norm_([t], float(max_norm))
        np.testing.assert_array_equal(p.grad.data, t.grad.numpy(), err_msg=f"max_norm {max_norm}")
