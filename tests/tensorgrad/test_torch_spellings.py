"""PyTorch's spellings that ported code uses: masked_fill, view, dim (against PyTorch)."""

import numpy as np
import pytest

import tensorgrad as tg

from ..oracle import torch


def test_a_causal_mask_with_masked_fill_matches_torch():
    """scores.masked_fill(~causal, -inf).softmax(-1): the attention idiom, forward and
    gradient, and a scalar fill keeps float32."""
    rng = np.random.default_rng(0)
    s, g = rng.normal(size=(2, 4, 4)), rng.normal(size=(2, 4, 4))
    causal = np.tril(np.ones((4, 4), bool))
    for dtype in (np.float64, np.float32):
        x = tg.tensor(s.astype(dtype), requires_grad=True)
        y = x.masked_fill(~causal, -np.inf).softmax(axis=-1)
        tx = torch.tensor(s.astype(dtype), requires_grad=True)
        ty = tx.masked_fill(torch.tensor(~causal), float("-inf")).softmax(-1)
        assert y.dtype == dtype
        tol = 1e-12 if dtype == np.float64 else 1e-6
        np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=tol, atol=tol)
        y.backward(g.astype(dtype))
        ty.backward(torch.tensor(g.astype(dtype)))
        np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=tol, atol=tol)
        assert (x.grad.data[:, ~causal] == 0).all()  # the filled places get no gradient


def test_masked_fill_keeps_the_tensors_dtype_as_torch():
    """A float64 value (a tensor or an array) into a float32 tensor stays float32, and an
    integer tensor stays integer; a value tensor still gets its gradient."""
    m = np.eye(2, 3, dtype=bool)
    x = tg.tensor(np.zeros((2, 3), np.float32))
    assert x.masked_fill(m, tg.tensor(-np.inf)).dtype == np.float32
    assert x.masked_fill(m, np.array(-np.inf)).dtype == np.float32
    assert tg.tensor(np.arange(6).reshape(2, 3), dtype=np.int64).masked_fill(m, 7).dtype == np.int64
    v = tg.tensor(2.0, requires_grad=True)
    tg.ones((2, 3)).masked_fill(m, v).sum().backward()
    assert v.grad.item() == 2.0  # two places filled
    tv = torch.tensor(2.0, requires_grad=True)
    torch.ones(2, 3).masked_fill(torch.tensor(m), tv).sum().backward()
    assert tv.grad.item() == 2.0


@pytest.mark.parametrize(
    "mask, value, error, message",
    [
        (np.ones((2, 3), bool), 0.0, ValueError, r"mask of shape \(2, 3\) .* shape \(3,\)"),
        (np.ones(3, bool), np.ones((4, 3)), ValueError, r"value of shape \(4, 3\) .* \(3,\)"),
        (np.ones(3), 0.0, TypeError, "the mask must be bool, as PyTorch's, got dtype float64"),
        (np.ones(3, bool), None, TypeError, "value must be a real number, got None"),
    ],
)
def test_masked_fill_names_what_does_not_fit(mask, value, error, message):
    with pytest.raises(error, match=message):
        tg.ones(3).masked_fill(mask, value)


def test_view_is_reshape_and_dim_is_ndim():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(2, 3, 4))
    x, tx = tg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, ty = x.view(2, -1), tx.view(2, -1)
    assert y.shape == tuple(ty.shape) == (2, 12) and x.dim() == tx.dim() == 3
    w = rng.normal(size=(2, 12))
    (y * tg.tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    np.testing.assert_array_equal(x.grad.data, tx.grad.numpy())
    assert tg.tensor(1.0).dim() == 0


def test_masked_fill_refuses_a_value_its_dtype_cannot_hold():
    """As PyTorch: 1e6 into float16 became inf with only NumPy's warning; -inf into an
    integer tensor is refused. An inf into float16 is a value it holds."""
    m = np.array([True, False])
    with pytest.raises(OverflowError, match="value 1000000.0 does not fit float16"):
        tg.ones(2, dtype=np.float16).masked_fill(m, 1e6)
    with pytest.raises(OverflowError, match="value -inf does not fit int64"):
        tg.tensor([1, 2], dtype=np.int64).masked_fill(m, -np.inf)
    assert tg.ones(2, dtype=np.float16).masked_fill(m, -np.inf).data[0] == -np.inf
