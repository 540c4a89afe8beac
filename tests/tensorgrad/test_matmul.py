"""``@`` with NumPy semantics, case by case: 1-D operands, N-D batches, broadcast batch dims.

Values and gradients (with a random upstream gradient) come from PyTorch; the error and
dtype checks need no oracle and run without it.
"""

from __future__ import annotations

import numpy as np
import pytest

import tensorgrad as tg


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch", reason="PyTorch (the test oracle) is not installed")


CASES = {
    "1-D @ 1-D": ((3,), (3,)),
    "1-D @ 2-D": ((3,), (3, 4)),
    "2-D @ 1-D": ((2, 3), (3,)),
    "1-D @ 3-D": ((3,), (2, 3, 4)),
    "1-D @ 4-D": ((3,), (2, 1, 3, 4)),
    "3-D @ 1-D": ((2, 5, 3), (3,)),
    "4-D @ 1-D": ((2, 2, 5, 3), (3,)),
    "2-D @ 2-D": ((2, 3), (3, 4)),
    "3-D @ 2-D (folded)": ((2, 5, 3), (3, 4)),
    "4-D @ 2-D (folded)": ((2, 3, 5, 3), (3, 4)),
    "2-D @ 3-D": ((2, 3), (5, 3, 4)),
    "2-D @ 4-D": ((2, 3), (2, 5, 3, 4)),
    "N-D @ N-D same batch": ((5, 2, 3), (5, 3, 4)),
    "N-D @ N-D broadcast (2,1,3,4) @ (5,4,2)": ((2, 1, 3, 4), (5, 4, 2)),
    "N-D @ N-D broadcast both ways": ((1, 4, 2, 3), (6, 1, 3, 2)),
    "N-D @ N-D size-1 batch": ((1, 2, 3), (3, 3, 2)),
    "size-1 everything": ((1, 1), (1, 1)),
    "empty rows": ((0, 3), (3, 4)),
    "empty columns": ((2, 3), (3, 0)),
    "empty inner (2-D)": ((2, 0), (0, 4)),
    "empty batch": ((0, 2, 3), (3, 4)),
    "empty inner, N-D @ 2-D": ((2, 3, 0), (0, 4)),
    "empty columns, N-D @ 2-D": ((2, 3, 4), (4, 0)),
    "empty inner, N-D @ 1-D": ((2, 3, 0), (0,)),
    "empty inner, 1-D @ 1-D": ((0,), (0,)),
}


def _run(torch, shape_a, shape_b, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape_a).astype(dtype)
    b = rng.standard_normal(shape_b).astype(dtype)
    x, y = tg.tensor(a, requires_grad=True), tg.tensor(b, requires_grad=True)
    out = x @ y
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    ref = tx @ ty
    G = np.asarray(rng.standard_normal(tuple(ref.shape))).astype(dtype)
    out.backward(gradient=G)
    ref.backward(torch.as_tensor(G))
    return (x, y, out), (tx, ty, ref)


@pytest.mark.parametrize("name", CASES)
def test_matmul_matches_torch(torch, name) -> None:
    shape_a, shape_b = CASES[name]
    (x, y, out), (tx, ty, ref) = _run(torch, shape_a, shape_b)
    assert out.shape == tuple(ref.shape) == np.matmul(x.data, y.data).shape
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-12, atol=1e-12)
    # the gradients are summed back over the batch dims an operand was broadcast along
    assert x.grad.shape == shape_a and y.grad.shape == shape_b
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(y.grad.data, ty.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", [n for n in CASES if "empty" not in n])
def test_matmul_gradcheck(name) -> None:
    shape_a, shape_b = CASES[name]
    rng = np.random.default_rng(1)
    x = tg.tensor(rng.standard_normal(shape_a), requires_grad=True)
    y = tg.tensor(rng.standard_normal(shape_b), requires_grad=True)
    assert tg.gradcheck(lambda a, b: a @ b, [x, y])


def test_broadcast_batch_gradient_is_summed_hand_math() -> None:
    """(2,1,3,4) @ (5,4,2): b is shared by the 2 outer batches, a by the 5 inner ones."""
    a = np.ones((2, 1, 3, 4))
    b = np.ones((5, 4, 2))
    x, y = tg.tensor(a, requires_grad=True), tg.tensor(b, requires_grad=True)
    out = x @ y
    assert out.shape == (2, 5, 3, 2)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.full(a.shape, 5 * 2.0))  # 5 batches x 2 cols
    np.testing.assert_array_equal(y.grad.data, np.full(b.shape, 2 * 3.0))  # 2 batches x 3 rows


def test_rmatmul_with_ndarray_on_the_left(torch) -> None:
    rng = np.random.default_rng(2)
    c, b = rng.standard_normal((2, 4, 3)), rng.standard_normal((3, 5))
    y = tg.tensor(b, requires_grad=True)
    out = c @ y
    assert isinstance(out, tg.Tensor)
    ty = torch.tensor(b, requires_grad=True)
    ref = torch.as_tensor(c) @ ty
    G = rng.standard_normal(out.shape)
    out.backward(gradient=G)
    ref.backward(torch.as_tensor(G))
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(y.grad.data, ty.grad.numpy(), rtol=1e-12)


def test_only_one_side_requires_grad() -> None:
    a = np.arange(6.0).reshape(2, 3)
    b = np.arange(12.0).reshape(3, 4)
    x, y = tg.tensor(a, requires_grad=True), tg.tensor(b)
    (x @ y).sum().backward()
    np.testing.assert_allclose(x.grad.data, np.ones((2, 4)) @ b.T)  # hand math: G Bᵀ
    assert y.grad is None


@pytest.mark.parametrize(
    "shape_a, shape_b",
    [((2, 3), (4, 5)), ((3,), (4,)), ((2, 3, 4), (5,)), ((5,), (2, 4, 3)), ((2, 3, 4), (3, 4, 5)),
     ((2, 2, 3), (3, 3, 2)), ((2, 3), ())],
)  # fmt: skip
def test_shape_mismatch_is_a_value_error_naming_both_shapes(shape_a, shape_b) -> None:
    x = tg.tensor(np.ones(shape_a), requires_grad=True)
    y = tg.tensor(np.ones(shape_b), requires_grad=True)
    with pytest.raises(ValueError) as info:
        x @ y
    message = str(info.value)
    assert "matmul" in message
    assert str(shape_a) in message and str(shape_b) in message
    assert x.grad is None and y.grad is None


@pytest.mark.parametrize("shape_a, shape_b", [((3,), (3,)), ((2, 3), (3,)), ((4, 2, 3), (3, 5))])
def test_float32_stays_float32(shape_a, shape_b) -> None:
    rng = np.random.default_rng(3)
    x = tg.tensor(rng.standard_normal(shape_a).astype(np.float32), requires_grad=True)
    y = tg.tensor(rng.standard_normal(shape_b).astype(np.float32), requires_grad=True)
    out = x @ y
    assert out.dtype == np.float32
    out.backward(gradient=np.ones(out.shape, dtype=np.float32))
    assert x.grad.dtype == np.float32 and y.grad.dtype == np.float32
    gx, gy = tg.grad((x @ y).sum(), [x, y])
    assert gx.dtype == np.float32 and gy.dtype == np.float32


def test_float32_with_float64_promotes_as_numpy() -> None:
    x = tg.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    y = tg.tensor(np.ones((3, 2)), requires_grad=True)
    out = x @ y
    assert out.dtype == np.result_type(np.float32, np.float64)
    out.sum().backward()
    assert x.grad.dtype == np.float32 and y.grad.dtype == np.float64
