"""The Tensor API: construction and dtypes, NumPy interplay, backward semantics, grad mode,
retain_grad, freed graphs, deep chains and reference counting. No PyTorch needed: every
expected value is hand math or NumPy."""

from __future__ import annotations

import copy
import gc
import sys
import threading
import weakref

import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad import Tensor
from tensorgrad.tensor import record

# ----------------------------------------------------------------------------- construction


@pytest.mark.parametrize(
    "data",
    [1, 2.5, True, [1, 2], [[1.0, 2.0]], np.array([1, 2], np.int32), np.array([1, 2]),
     np.array([True, False]), np.uint8(3), np.int64(7)],
    ids=["int", "float", "bool", "int_list", "float_list", "int32", "int64", "bool_array",
         "uint8_scalar", "int64_scalar"],
)  # fmt: skip
def test_numbers_lists_and_integer_arrays_become_float64(data) -> None:
    t = tg.tensor(data)
    assert t.dtype == np.float64
    np.testing.assert_array_equal(t.data, np.asarray(data, dtype=np.float64))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_floating_arrays_keep_their_dtype(dtype) -> None:
    a = np.array([1.5, 2.5], dtype=dtype)
    assert tg.tensor(a).dtype == dtype
    assert Tensor(a, requires_grad=True).dtype == dtype
    assert tg.tensor(dtype(1.5)).dtype == dtype  # a NumPy float scalar too


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mean_gradient_is_the_correctly_rounded_quotient(dtype) -> None:
    """g / n rounded once (as PyTorch's), not g · (1/n), which is 1 ulp off in ~1 case of 4."""
    g = np.random.default_rng(0).uniform(-1, 1, size=(1, 200)).astype(dtype)
    x = tg.tensor(np.zeros((48, 200), dtype), requires_grad=True)
    x.mean(axis=0, keepdims=True).backward(g)
    np.testing.assert_array_equal(x.grad.data, np.broadcast_to(g / dtype(48), (48, 200)))


def test_float16_mean_neither_overflows_nor_loses_its_gradient() -> None:
    """float16 ends at 65504: eight values of 1e4 sum past it, and n = 70000 is inf in it.
    The mean is 1e4 (np.mean accumulates float16 in float32), and d mean/dx = 1/n."""
    big = tg.tensor(np.full(8, 1e4, np.float16), requires_grad=True)
    assert big.mean().item() == 1e4 and big.mean().dtype == np.float16
    ones = tg.tensor(np.ones(70_000, np.float16), requires_grad=True)
    m = ones.mean()
    m.backward()
    assert m.item() == 1.0
    assert ones.grad.dtype == np.float16
    np.testing.assert_array_equal(ones.grad.data, np.float16(1 / 70_000))
    odd = tg.tensor(np.ones(2049, np.float16), requires_grad=True)  # 2049 is 2048 in float16
    odd.mean().backward()
    np.testing.assert_array_equal(odd.grad.data, np.float16(1 / 2049))


@pytest.mark.parametrize("name", ["var", "std"])
def test_float16_var_and_std_of_many_values_do_not_overflow(name) -> None:
    """NumPy's float16 var sums its 70,000 values in float16 and gives inf. Hand math: the
    values alternate 1 and 3, so the mean is 2, the variance 1 and the std 1; d var/dx =
    2 (x - 2) / n = ±2/n, d std/dx = (x - 2) / (n · std) = ±1/n."""
    n = 70_000
    x = tg.tensor(np.tile(np.array([1.0, 3.0], np.float16), n // 2), requires_grad=True)
    y = getattr(x, name)()
    y.backward()
    assert y.dtype == x.grad.dtype == np.float16
    assert y.item() == 1.0
    slope = (2.0 if name == "var" else 1.0) / n
    expected = np.tile(np.array([-slope, slope]), n // 2).astype(np.float16)
    np.testing.assert_array_equal(x.grad.data, expected)


@pytest.mark.parametrize(
    "data, dtype",
    [([1, 2], np.float32), (np.array([1.0, 2.0]), np.float32), ([1.7, 2.2], np.int64),
     ([1, 0], bool), (np.float32(1), np.float64)],
)  # fmt: skip
def test_dtype_argument_wins(data, dtype) -> None:
    t = tg.tensor(data, dtype=dtype)
    assert t.dtype == dtype
    np.testing.assert_array_equal(t.data, np.asarray(data).astype(dtype))


def test_tensor_copies_its_data() -> None:
    a = np.array([1.0, 2.0])
    t = tg.tensor(a)
    a[0] = 99.0
    assert t.data[0] == 1.0


def test_basic_properties() -> None:
    t = tg.tensor(np.zeros((2, 3, 4), np.float32))
    assert t.shape == (2, 3, 4) and t.ndim == 3 and t.size == 24 and len(t) == 2
    assert t.dtype == np.float32 and t.is_leaf and not t.requires_grad and t.grad is None
    assert tg.tensor(3.0).shape == () and tg.tensor(3.0).ndim == 0


@pytest.mark.parametrize("data", ["3", None, [1 + 2j], np.array(["a"]), [1.0, None]])
@pytest.mark.parametrize("dtype", [None, np.float64])
def test_non_numeric_data_is_a_type_error(data, dtype) -> None:
    # with dtype= too: NumPy would turn None into nan, "3.5" into 3.5, drop 2j
    with pytest.raises(TypeError, match="real numbers"):
        tg.tensor(data, dtype=dtype)


@pytest.mark.parametrize(
    "make",
    [lambda d: tg.zeros(2, 3, dtype=d), lambda d: tg.ones((2,), dtype=d),
     lambda d: tg.full((2,), 7, dtype=d), lambda d: tg.eye(2, dtype=d),
     lambda d: tg.zeros_like(tg.tensor([1, 2], dtype=d)), lambda d: tg.ones_like(np.zeros(2, d))],
    ids=["zeros", "ones", "full", "eye", "zeros_like", "ones_like"],
)  # fmt: skip
@pytest.mark.parametrize("dtype", [np.int64, np.int32, bool, np.float32])
def test_creation_functions_make_the_dtype_asked_for(make, dtype) -> None:
    assert make(dtype).dtype == dtype


def test_arange_gives_integers_from_integers_as_numpy_and_pytorch_do() -> None:
    """So the makemore idiom logits[arange(n), labels] picks one logit per row (hand math:
    the gradient of their sum is 1 at each picked place, 0 elsewhere)."""
    assert tg.arange(4).dtype == np.int64 and tg.arange(0.0, 1.0, 0.25).dtype == np.float64
    logits = tg.tensor(np.zeros((3, 4)), requires_grad=True)
    logits[tg.arange(3), np.array([2, 0, 3])].sum().backward()
    np.testing.assert_array_equal(logits.grad.data, [[0, 0, 1, 0], [1, 0, 0, 0], [0, 0, 0, 1]])
    with pytest.raises(TypeError, match="arange: int64 values .* cannot require grad"):
        tg.arange(3, requires_grad=True)  # as torch.arange(3, requires_grad=True) refuses
    assert tg.arange(3, dtype=np.float32, requires_grad=True).requires_grad


def test_creation_function_errors() -> None:
    assert tg.arange(4, dtype=np.int32).dtype == np.int32  # (NumPy has no bool arange)
    with pytest.raises(TypeError, match="full: value must be a real number, got NoneType"):
        tg.full((2,), None)
    with pytest.raises(TypeError, match="randn: .*floating, got int64"):
        tg.randn(2, dtype=np.int64)
    with pytest.raises(TypeError, match="astype: .* not complex64"):
        tg.tensor([1.0]).astype(np.complex64)
    np.testing.assert_array_equal(tg.randn(3, rng=5).data, np.random.default_rng(5).normal(size=3))


def _six() -> tg.Tensor:
    return tg.tensor(np.arange(6.0))


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: tg.zeros(2, -3), ValueError, r"zeros: sizes must not be negative, got \(2, -3\)"),
        (lambda: tg.ones((2, -1)), ValueError, r"ones: .* negative, got \(2, -1\)"),
        (lambda: tg.full((2, -3), 1.0), ValueError, r"full: .* negative, got \(2, -3\)"),
        (lambda: tg.eye(-2), ValueError, r"eye: .* negative, got \(-2, -2\)"),
        (lambda: tg.rand(-1), ValueError, r"rand: .* negative, got \(-1,\)"),
        (lambda: tg.randn(2.5), TypeError, r"randn: sizes must be ints, got \(2.5,\)"),
        (lambda: tg.zeros(True), TypeError, r"zeros: sizes must be ints, got \(True,\)"),
        (lambda: tg.ones((2, False)), TypeError, r"ones: sizes must be ints, got \(2, False\)"),
        # shape ops take sizes the same way (int() truncated 3.7 and parsed "3" before)
        (lambda: _six().reshape(3.7, 2), TypeError, r"reshape: sizes must be ints, got \(3.7, 2\)"),
        (lambda: _six().reshape("3", 2), TypeError, r"reshape: sizes must be ints"),
        (lambda: _six().broadcast_to((2.5, 6)), TypeError, r"broadcast_to: sizes must be ints"),
        (lambda: _six().broadcast_to(-1, 6), ValueError, r"broadcast_to: .* negative"),
        (lambda: _six().reshape(2, 3).transpose(1.0, 0), TypeError, r"transpose: axis .* 1.0"),
    ],
)
def test_creation_and_shape_functions_name_themselves_and_a_bad_size(make, error, message) -> None:
    with pytest.raises(error, match=message):  # NumPy's error types: TypeError for 2.5
        make()


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda: tg.zeros(np.array([2, 3])), (2, 3)),
        (lambda: tg.zeros(np.array(3)), (3,)),  # a 0-d array is one size, as in NumPy
        (lambda: tg.zeros(np.array(2), np.int64(3)), (2, 3)),
        (lambda: tg.full((np.array(2), 3), 1.0), (2, 3)),
        (lambda: tg.eye(np.array(3)), (3, 3)),
        (lambda: tg.randn([2, 1]), (2, 1)),
        (lambda: tg.ones(range(2, 4)), (2, 3)),
        (lambda: _six().reshape(np.array([2, 3])), (2, 3)),
        (lambda: _six().reshape(np.int64(-1), 2), (3, 2)),
        (lambda: _six().reshape((3, 2)).transpose((1, 0)), (2, 3)),
        (lambda: _six().broadcast_to(np.array(2), 6), (2, 6)),
    ],
)
def test_creation_and_shape_functions_take_the_sizes_numpy_takes(make, shape) -> None:
    assert make().shape == shape


def test_a_refused_random_call_draws_nothing() -> None:
    """Bad input changes nothing, the default generator's state included."""
    tg.manual_seed(0)
    first = tg.randn(3).data
    tg.manual_seed(0)
    for bad in (lambda: tg.randn(3, dtype=np.int64), lambda: tg.rand(3, dtype=bool)):
        with pytest.raises(TypeError, match="dtype must be floating"):
            bad()
    np.testing.assert_array_equal(tg.randn(3).data, first)


def test_one_element_tensors_as_numbers_and_indices() -> None:
    t = tg.tensor([1.0, 3.0, 2.0])
    assert int(tg.tensor(2.7)) == 2 and f"{tg.tensor(2.5):.3f}" == "2.500"
    assert ["a", "b", "c"][t.argmax()] == "b" and tg.argmax([1.0, 3.0, 2.0]).item() == 1
    np.testing.assert_array_equal(t[: tg.tensor(2, dtype=np.int64)].data, [1.0, 3.0])
    with pytest.raises(TypeError, match="only integer tensors can be used as an index"):
        ["a"][tg.tensor(0.0)]
    assert repr(tg.tensor(np.zeros((0, 3)))) == "tensor([], shape=(0, 3))"


def test_comparisons_take_numpy_floats_as_weak_scalars_and_masks_combine() -> None:
    t32 = tg.tensor([0.1, 0.5], dtype=np.float32)
    np.testing.assert_array_equal((t32 == np.float64(0.1)).data, (t32 == 0.1).data)
    assert (t32 == 0.1).data[0]  # compared in float32, as arithmetic would
    t = tg.tensor([1.0, 2.0, 3.0])
    mask = (t > 1) & (t < 3)
    np.testing.assert_array_equal(mask.data, [False, True, False])
    np.testing.assert_array_equal((~mask | (t == 1)).data, [True, False, True])
    np.testing.assert_array_equal((True ^ mask).data, [True, False, True])
    with pytest.raises(TypeError, match="~: only bool and integer"):
        _ = ~t
    with pytest.raises(ValueError, match=r"equal: a tensor of shape \(3,\).*shape \(2,\)"):
        _ = t == [1.0, 2.0]


# ----------------------------------------------------------------------------- dtypes of ops

F32 = np.float32


def _t32(requires_grad=True):
    return tg.tensor(np.array([[0.5, 1.5], [2.0, 0.25]], dtype=F32), requires_grad=requires_grad)


SCALAR_OPERANDS = [2, 2.5, np.float64(2), np.float32(2), np.int64(2), True]


@pytest.mark.parametrize("c", SCALAR_OPERANDS, ids=repr)
@pytest.mark.parametrize(
    "op",
    [lambda t, c: t + c, lambda t, c: c + t, lambda t, c: t - c, lambda t, c: c - t,
     lambda t, c: t * c, lambda t, c: c * t, lambda t, c: t / c, lambda t, c: c / t,
     lambda t, c: t**c, lambda t, c: c**t, lambda t, c: tg.maximum(t, c),
     lambda t, c: tg.minimum(c, t), lambda t, c: tg.where(t.data > 1, t, c),
     lambda t, c: t.clip(0, c)],
    ids=["add", "radd", "sub", "rsub", "mul", "rmul", "div", "rdiv", "pow", "rpow",
         "maximum", "minimum", "where", "clip"],
)  # fmt: skip
def test_a_scalar_operand_does_not_promote_float32(op, c) -> None:
    """``t32 * np.float64(2)`` stays float32: a Python or NumPy scalar is a weak constant."""
    t = _t32()
    y = op(t, c)
    assert isinstance(y, Tensor)
    assert y.dtype == F32
    y.sum().backward()
    assert t.grad.dtype == F32
    (g,) = tg.grad(op(t, c).sum(), [t])
    assert g.dtype == F32


@pytest.mark.parametrize("flag", [True, np.True_, False])
@pytest.mark.parametrize(
    "dtype", [np.bool_, np.int8, np.int64, np.float32, np.float64], ids=lambda d: d.__name__
)
def test_a_bool_scalar_is_weak_as_in_numpy(flag, dtype) -> None:
    """``mask + True`` stays bool, ``ints * True`` int8: a bool scalar keeps the tensor's
    dtype, as NumPy's does (it was an int that promoted bools to int64)."""
    data = np.array([0, 1, 1], dtype=dtype)
    t = tg.tensor(data, dtype=dtype)
    for got, want in [(t + flag, data + flag), (flag * t, flag * data), (t**flag, data**flag)]:
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got.data, want)


@pytest.mark.parametrize("op", ["maximum", "minimum"])
def test_maximum_and_minimum_of_bool_and_int_tensors_as_numpy(op) -> None:
    for dtype in (np.bool_, np.int32):
        x = np.array([0, 1, 1, 0], dtype=dtype)
        y = np.array([1, 1, 0, 0], dtype=dtype)
        got = getattr(tg, op)(tg.tensor(x, dtype=dtype), tg.tensor(y, dtype=dtype))
        want = getattr(np, op)(x, y)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got.data, want)


@pytest.mark.parametrize("dtype", [np.bool_, np.int64], ids=lambda d: d.__name__)
@pytest.mark.parametrize("c", [2.5, -0.7, 3, True], ids=repr)
@pytest.mark.parametrize("op", ["maximum", "minimum", "where", "where_reflected", "clip"])
def test_a_scalar_with_an_integer_tensor_promotes_as_numpy(op, c, dtype) -> None:
    """A weak scalar keeps the tensor's dtype only when that holds it: ints with 2.5 give
    floats (2.5 was truncated to 2, and to True for bools)."""
    data = np.array([0, 1, 3], dtype=dtype)
    mask = np.array([True, False, True])
    calls = {
        "maximum": (lambda m: m.maximum, np.maximum),
        "minimum": (lambda m: m.minimum, np.minimum),
        "where": (lambda m: lambda x, c: m.where(mask, x, c), lambda x, c: np.where(mask, x, c)),
        "where_reflected": (
            lambda m: lambda x, c: m.where(mask, c, x),
            lambda x, c: np.where(mask, c, x),
        ),
        "clip": (lambda m: lambda x, c: m.clip(x, 0, c), lambda x, c: np.clip(x, 0, c)),
    }
    ours, numpys = calls[op]
    got, want = ours(tg)(tg.tensor(data, dtype=dtype), c), numpys(data, c)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got.data, want)


UNARY_AND_REDUCTIONS = {
    "neg": lambda t: -t,
    "abs": abs,
    "exp": lambda t: t.exp(),
    "log": lambda t: t.log(),
    "sqrt": lambda t: t.sqrt(),
    "tanh": lambda t: t.tanh(),
    "sigmoid": lambda t: t.sigmoid(),
    "relu": lambda t: t.relu(),
    "sin": lambda t: t.sin(),
    "cos": lambda t: t.cos(),
    "sum": lambda t: t.sum(axis=0),
    "mean": lambda t: t.mean(axis=1, keepdims=True),
    "max": lambda t: t.max(axis=0),
    "min": lambda t: t.min(),
    "var": lambda t: t.var(axis=0),
    "std": lambda t: t.std(),
    "logsumexp": lambda t: t.logsumexp(axis=-1),
    "softmax": lambda t: t.softmax(axis=0),
    "log_softmax": lambda t: t.log_softmax(),
    "reshape": lambda t: t.reshape(4),
    "transpose": lambda t: t.T,
    "index": lambda t: t[[0, 0], 1],
    "mask": lambda t: t[t.data > 1],
    "concatenate": lambda t: tg.concatenate([t, t], axis=1),
    "stack": lambda t: tg.stack([t, t]),
    "broadcast_to": lambda t: t.broadcast_to((3, 2, 2)),
    "matmul": lambda t: t @ t,
    "pow_tensor": lambda t: t**t,
}


@pytest.mark.parametrize("name", UNARY_AND_REDUCTIONS)
def test_float32_ops_and_gradients_stay_float32(name) -> None:
    fn = UNARY_AND_REDUCTIONS[name]
    t = _t32()
    y = fn(t)
    assert y.dtype == F32
    y.backward(gradient=np.ones(y.shape, F32))
    assert t.grad.dtype == F32
    (g,) = tg.grad(fn(t).sum(), [t])
    assert g.dtype == F32, "tg.grad must keep the input's dtype too"


def test_mixed_float_dtypes_promote_as_numpy_and_gradients_keep_input_dtype() -> None:
    a = _t32()
    b = tg.tensor(np.ones((2, 2)), requires_grad=True)
    y = a * b
    assert y.dtype == np.float64  # NumPy's promotion between two arrays
    y.sum().backward()
    assert a.grad.dtype == F32 and b.grad.dtype == np.float64
    ga, gb = tg.grad((a * b).sum(), [a, b])
    assert ga.dtype == F32 and gb.dtype == np.float64


def test_float32_tensor_with_float64_ndarray_promotes_as_numpy() -> None:
    t = _t32()
    assert (t * np.ones(2)).dtype == np.float64  # an array is not a weak scalar
    assert (t * np.ones(2, F32)).dtype == F32


# ----------------------------------------------------------------------------- NumPy interplay


def test_ndarray_on_the_left_gives_a_tensor() -> None:
    t = tg.tensor([1.0, 2.0], requires_grad=True)
    a = np.array([3.0, 4.0])
    results = {
        "+": (a + t, a + t.data),
        "-": (a - t, a - t.data),
        "*": (a * t, a * t.data),
        "/": (a / t, a / t.data),
        "**": (a**t, a**t.data),
        "@": (a @ t, a @ t.data),
    }
    for op, (got, expected) in results.items():
        assert isinstance(got, Tensor), op
        np.testing.assert_allclose(got.data, expected, err_msg=op)
        assert got.requires_grad, op


@pytest.mark.parametrize("scalar", [np.float64(2), np.float32(2), np.int64(2), 2, 2.0])
def test_scalar_on_the_left_gives_a_tensor(scalar) -> None:
    t = tg.tensor([1.0, 4.0], requires_grad=True)
    for got, expected in [
        (scalar * t, [2, 8]),
        (scalar + t, [3, 6]),
        (scalar - t, [1, -2]),
        (scalar / t, [2, 0.5]),
        (scalar**t, [2, 16]),
    ]:
        assert isinstance(got, Tensor)
        np.testing.assert_allclose(got.data, expected)


def test_reflected_operator_gradients_hand_math() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = (2 - x) + (2 / x) + (2**x) + (3 * x) + (1 + x)
    y.sum().backward()
    # d/dx: -1 - 2/x² + 2^x ln 2 + 3 + 1
    xs = np.array([1.0, 2.0])
    np.testing.assert_allclose(x.grad.data, -1 - 2 / xs**2 + 2**xs * np.log(2) + 4)


def test_builtin_sum_starting_from_zero() -> None:
    xs = [tg.tensor(float(i), requires_grad=True) for i in range(1, 4)]
    total = sum(xs)
    assert isinstance(total, Tensor) and total.item() == 6.0
    total.backward()
    assert [x.grad.item() for x in xs] == [1.0, 1.0, 1.0]


def test_np_asarray_gives_the_data() -> None:
    t = tg.tensor([[1.0, 2.0]], requires_grad=True)
    a = np.asarray(t)
    assert isinstance(a, np.ndarray) and a.dtype == np.float64
    assert np.shares_memory(a, t.data)
    np.testing.assert_array_equal(a, [[1.0, 2.0]])
    assert np.asarray(t, dtype=np.float32).dtype == np.float32
    assert np.array(t).shape == (1, 2)


def test_np_array_copies_as_numpy_does() -> None:
    # np.array copies by default: writing into the copy must leave the tensor alone.
    t = tg.tensor([1.0, 2.0])
    for copied in (np.array(t), np.array(t, copy=True), np.array(t, dtype=np.float32)):
        assert not np.shares_memory(copied, t.data)
        copied[0] = 99.0
    np.testing.assert_array_equal(t.data, [1.0, 2.0])
    assert np.array(t, copy=False) is t.data
    with pytest.raises(ValueError, match="float32.*float64.*copy=False"):
        np.array(t, dtype=np.float32, copy=False)


def test_numpy_functions_on_a_tensor_work_on_its_data() -> None:
    t = tg.tensor([1.0, 4.0])
    assert np.sum(np.asarray(t)) == 5.0
    assert float(np.max(np.asarray(t))) == 4.0


X6 = np.arange(6.0).reshape(2, 3)  # [[0, 1, 2], [3, 4, 5]]


@pytest.mark.parametrize(
    "call, value, grad",
    [  # value and gradient by hand; the upstream gradient is 1, 2, 3, ... in y's shape
        (np.sum, 15.0, np.ones((2, 3))),
        (lambda t: np.sum(t, axis=0, keepdims=True), [[3, 5, 7]], [[1, 2, 3], [1, 2, 3]]),
        (lambda t: np.mean(t, axis=1), [1, 4], [[1 / 3] * 3, [2 / 3] * 3]),
        (np.max, 5.0, [[0, 0, 0], [0, 0, 1]]),
        (np.amax, 5.0, [[0, 0, 0], [0, 0, 1]]),
        (lambda t: np.min(t, axis=1), [0, 3], [[1, 0, 0], [2, 0, 0]]),
        (np.var, 17.5 / 6, 2 * (X6 - 2.5) / 6),
        (lambda t: np.std(t, ddof=1), np.sqrt(3.5), (X6 - 2.5) / (5 * np.sqrt(3.5))),
        (lambda t: np.clip(t, 1, 4), np.clip(X6, 1, 4), [[0, 2, 3], [4, 5, 0]]),
        (lambda t: np.reshape(t, (3, 2)), X6.reshape(3, 2), [[1, 2, 3], [4, 5, 6]]),
        (np.transpose, X6.T, [[1, 3, 5], [2, 4, 6]]),
        (lambda t: np.transpose(t, np.argsort([1, 0])), X6.T, [[1, 3, 5], [2, 4, 6]]),
        (lambda t: t.transpose(range(1, -1, -1)), X6.T, [[1, 3, 5], [2, 4, 6]]),
    ],
    ids=[
        "sum",
        "sum-axis",
        "mean",
        "max",
        "amax",
        "min",
        "var",
        "std",
        "clip",
        "reshape",
        "T",
        "T-array",
        "T-range",
    ],  # fmt: skip
)
def test_numpy_functions_on_a_tensor_give_a_tensor_in_the_graph(call, value, grad) -> None:
    """np.sum(t) calls t.sum(axis=None, out=None): the methods take NumPy's options at
    their defaults, so NumPy's functions return a tensor that backward goes through."""
    t = tg.tensor(X6, requires_grad=True)
    y = call(t)
    assert isinstance(y, Tensor) and y.requires_grad
    np.testing.assert_allclose(y.data, value, rtol=1e-12)
    y.backward(gradient=np.arange(1.0, y.size + 1).reshape(y.shape))
    np.testing.assert_allclose(t.grad.data, grad, rtol=1e-12)


@pytest.mark.parametrize("name", ["sum", "mean", "var", "std"])
def test_a_reduction_with_dtype_computes_in_that_dtype(name) -> None:
    """As NumPy's dtype= and PyTorch's sum(dtype=): the input is cast first, and the
    gradient is cast back to the input's dtype. Hand math for x = [1, 2, 4]: mean 7/3,
    variance 14/9 (Σ(x - 7/3)² / 3 = (16 + 1 + 25) / 27); d sum = 1, d mean = 1/3,
    d var = 2 (x - 7/3) / 3, d std = (x - 7/3) / (3 std)."""
    x = np.array([1.0, 2.0, 4.0])
    std = np.sqrt(14 / 9)
    value, grad = {
        "sum": (7.0, np.ones(3)),
        "mean": (7 / 3, np.full(3, 1 / 3)),
        "var": (14 / 9, 2 * (x - 7 / 3) / 3),
        "std": (std, (x - 7 / 3) / (3 * std)),
    }[name]
    t = tg.tensor(x.astype(np.float32), requires_grad=True)
    y = getattr(np, name)(t, dtype=np.float64)
    assert y.dtype == np.float64
    np.testing.assert_allclose(y.data, value, rtol=1e-15)
    y.backward()
    assert t.grad.dtype == np.float32
    np.testing.assert_allclose(t.grad.data, grad, rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int32, bool])
def test_sum_with_an_integer_dtype_sums_in_it_as_numpy_does(dtype) -> None:
    """The reference: NumPy's own sum of the same array (100 · 3 wraps to 44 in int8)."""
    data = np.array([100, 100, 100], np.int8)
    got = np.sum(tg.tensor(data, dtype=np.int8), dtype=dtype)
    want = np.sum(data, dtype=dtype)
    assert got.dtype == want.dtype and got.item() == want


def test_numpy_argmax_on_a_tensor_gives_an_integer_tensor() -> None:
    got = np.argmax(tg.tensor(X6, requires_grad=True), axis=1)
    assert isinstance(got, Tensor) and got.dtype == np.int64
    np.testing.assert_array_equal(got.data, [2, 2])


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda t: np.sum(t, out=np.zeros(())), "sum: out= not supported"),
        (lambda t: np.max(t, axis=0, out=np.zeros(3)), "max: out="),
        (lambda t: np.var(t, out=np.zeros(())), "var: out="),
        (lambda t: np.clip(t, 0, 1, out=np.zeros((2, 3))), "clip: out="),
        (lambda t: np.clip(t, 0, 1, where=X6 > 2), "clip: where= not supported"),
        (lambda t: np.clip(t, 0, 1, casting="unsafe"), "clip: casting="),
        (lambda t: np.argmax(t, axis=1, out=np.zeros(2, np.intp)), "argmax: out="),
        (lambda t: np.reshape(t, 6, order="F"), "reshape: only order='C'.*order='F'"),
        (lambda t: np.reshape(t, 6, copy=True), "reshape: .*copy=True"),
    ],
    ids=[
        "sum-out",
        "max-out",
        "var-out",
        "clip-out",
        "clip-where",
        "clip-casting",
        "argmax-out",
        "reshape-F",
        "reshape-copy",
    ],  # fmt: skip
)
def test_numpy_options_a_tensor_op_cannot_honour_are_refused(call, message) -> None:
    """A ValueError: where NumPy calls the method through _wrapfunc (clip, argmax, reshape)
    it takes a TypeError as "no such method" and goes on with the bare array."""
    t = tg.tensor(X6, requires_grad=True)
    with pytest.raises(ValueError, match=message):
        call(t)
    np.testing.assert_array_equal(t.data, X6)


def test_a_dtype_a_tensor_that_requires_grad_cannot_take_is_refused_naming_the_op() -> None:
    t = tg.tensor(X6, requires_grad=True)
    with pytest.raises(TypeError, match="sum: dtype=.*int64.*only become floating"):
        np.sum(t, dtype=np.int64)
    for name in ("mean", "var", "std"):  # their result is a float: NumPy's would truncate
        with pytest.raises(TypeError, match=f"{name}: dtype=.*int64.*floating type"):
            getattr(np, name)(tg.tensor(X6), dtype=np.int64)


@pytest.mark.parametrize(
    "name, args, expected",
    [
        ("clip", (1.0, 2.0), np.clip(np.arange(6.0), 1.0, 2.0)),
        ("reshape", ((3, 2),), np.arange(6.0).reshape(3, 2)),
        ("flatten", (), np.arange(6.0)),
        ("transpose", (), np.arange(6.0).reshape(2, 3).T),
        ("permute", ((1, 0),), np.arange(6.0).reshape(2, 3).T),
        ("swapaxes", (0, 1), np.arange(6.0).reshape(2, 3).T),
        ("squeeze", (), np.arange(6.0)),
        ("unsqueeze", (0,), np.arange(6.0)[None]),
        ("broadcast_to", ((2, 6),), np.tile(np.arange(6.0), (2, 1))),
        ("softmax", (), np.exp(np.arange(6.0)) / np.exp(np.arange(6.0)).sum()),
        ("logsumexp", (), np.log(np.exp(np.arange(6.0)).sum())),
        ("var", (), 17.5 / 6),  # Σ(i - 2.5)² / 6
        ("std", (), np.sqrt(17.5 / 6)),
        ("argmax", (), 5),
        ("exp", (), np.exp(np.arange(6.0))),
    ],
)
def test_module_functions_take_an_array_as_their_methods_take_a_tensor(name, args, expected):
    """tg.f(array, ...) is tg.tensor(array).f(...), for every tg.f that has a method."""
    data = np.arange(6.0).reshape(1, 6) if name == "squeeze" else np.arange(6.0)
    data = data.reshape(2, 3) if name in ("transpose", "permute", "swapaxes") else data
    got = getattr(tg, name)(data, *args)
    np.testing.assert_allclose(got.data, expected, rtol=1e-12)
    assert getattr(tg, name).__doc__ == getattr(tg.Tensor, name).__doc__


def test_comparisons_give_boolean_tensors() -> None:
    t = tg.tensor([1.0, 2.0, 3.0])
    np.testing.assert_array_equal((t > 1.5).data, [False, True, True])
    np.testing.assert_array_equal((t <= tg.tensor([1.0, 1.0, 4.0])).data, [True, False, True])
    np.testing.assert_array_equal((np.array([2.0, 2.0, 2.0]) < t).data, [False, False, True])


@pytest.mark.parametrize("other", ["a", [1, "a"]], ids=repr)
def test_comparisons_with_what_numpy_cannot_compare(other) -> None:
    """== and != answer as Python (and PyTorch) do: unequal. An ordering is a TypeError
    naming the op and the shapes."""
    t = tg.tensor([1.0, 2.0])
    assert (t == other) is False and (t != other) is True
    with pytest.raises(TypeError, match=r"less: a tensor of shape \(2,\) and dtype float64"):
        t < other  # noqa: B015


def test_in_looks_for_an_equal_element_as_numpy() -> None:
    t = tg.tensor([[1.0, 2.0], [3.0, 4.0]])
    for v in (2.0, 5.0, tg.tensor(4.0), np.float32(3.0)):
        assert (v in t) == (np.asarray(v) in t.data)
    assert 2.0 in t and 5.0 not in t


# ----------------------------------------------------------------------------- data access


def test_item_numpy_float() -> None:
    t = tg.tensor([[2.5]])
    assert t.item() == 2.5 and isinstance(t.item(), float)
    assert float(tg.tensor(3.0)) == 3.0
    assert t.numpy() is t.data
    with pytest.raises(ValueError, match=r"\(2,\)"):
        tg.tensor([1.0, 2.0]).item()


def test_op_results_hold_ndarrays_even_when_0d() -> None:
    """``.data`` (and ``.grad.data``) is an ndarray, also for 0-d results of elementwise ops."""
    x = tg.tensor(2.0, requires_grad=True)
    for y in (x + 1, x * x, x.exp(), -x, x**2, 2 / x, x.sum(), x.reshape(()), x.tanh()):
        assert isinstance(y.data, np.ndarray), (y._op, type(y.data))
        assert y.shape == ()
    z = x * x
    z.backward()
    assert isinstance(x.grad.data, np.ndarray)
    assert x.grad.item() == 4.0


def test_detach_shares_data_and_records_nothing() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d._prev == () and d.is_leaf
    assert np.shares_memory(d.data, y.data)
    z = d * 3
    assert not z.requires_grad and z._prev == ()


# ----------------------------------------------------------------------------- backward


def test_backward_hand_math() -> None:
    x = tg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    np.testing.assert_array_equal(x.grad.data, 2 * x.data)
    assert isinstance(x.grad, Tensor) and x.grad.shape == x.shape
    assert not x.grad.requires_grad and x.grad._prev == ()


def test_design_example() -> None:
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    x = tg.tensor(a, requires_grad=True)
    y = ((x @ x.T + 1).tanh() ** 2).mean()
    y.backward()
    # hand math: y = mean(tanh(S)^2), S = x xᵀ + 1; dy/dS = 2 tanh (1 - tanh²) / 4
    t = np.tanh(a @ a.T + 1)
    dS = 2 * t * (1 - t**2) / 4
    np.testing.assert_allclose(y.item(), np.mean(t**2))
    np.testing.assert_allclose(x.grad.data, (dS + dS.T) @ a)


def test_reuse_and_diamonds_sum() -> None:
    a = tg.tensor(3.0, requires_grad=True)
    (a + a).backward()
    assert a.grad.item() == 2.0
    a.zero_grad()
    (a * a).backward()
    assert a.grad.item() == 6.0
    a.zero_grad()
    b, c = a * 2, a * 5  # diamond: d = b * c = 10 a², dd/da = 20 a
    (b * c).backward()
    assert a.grad.item() == 60.0
    a.zero_grad()
    e = a.exp()
    (e * e + e).backward()  # 2 e² + e at a = 3
    np.testing.assert_allclose(a.grad.item(), 2 * np.exp(6.0) + np.exp(3.0))


def test_leaves_accumulate_across_backward_calls_until_zero_grad() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    h = x * x  # an interior node: its gradient must be computed afresh each time
    y = (h * h).sum()  # x⁴, dy/dx = 4x³
    y.backward(retain_graph=True)
    np.testing.assert_array_equal(x.grad.data, [4.0, 32.0])
    y.backward(retain_graph=True)
    np.testing.assert_array_equal(x.grad.data, [8.0, 64.0])  # exactly doubled
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [12.0, 96.0])
    x.zero_grad()
    assert x.grad is None
    ((x * 3).sum()).backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


def test_backward_gradient_argument() -> None:
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x
    y.backward(gradient=[1.0, 0.5, -2.0])
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0, -12.0])
    x.zero_grad()
    y2 = x * 3
    y2.backward(gradient=tg.tensor([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(x.grad.data, [3.0, 6.0, 9.0])


def test_backward_without_gradient_on_any_one_element_output() -> None:
    x = tg.tensor([[3.0]], requires_grad=True)
    y = x * x  # shape (1, 1): one element, so gradient= may be left out (as PyTorch)
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [[6.0]])


def test_inputs_that_do_not_require_grad_get_none() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    c = tg.tensor([5.0, 6.0])
    (x * c).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [5.0, 6.0])
    assert c.grad is None


def test_retain_grad_keeps_interior_gradients() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    k = x * 4
    h.retain_grad()
    y = (h * h + k).sum()
    y.backward()
    np.testing.assert_array_equal(h.grad.data, 2 * h.data)  # dy/dh = 2h
    assert k.grad is None  # not asked for: not kept
    assert y.grad is None  # the root is interior too
    np.testing.assert_array_equal(x.grad.data, 2 * 9 * x.data + 4)


def test_retain_grad_accumulates_like_torch_and_returns_self() -> None:
    x = tg.tensor(2.0, requires_grad=True)
    h = x * x
    assert h.retain_grad() is h
    y = h * 3
    y.backward(retain_graph=True)
    assert h.grad.item() == 3.0
    y.backward()
    assert h.grad.item() == 6.0


def test_gradients_own_their_memory() -> None:
    """Each ``.grad`` is its own array: changing one in place (``zero_grad(set_to_none=False)``
    in an optimizer, a user's ``g *= 0.5``) must not change another gradient or the
    ``gradient=`` the caller passed in."""
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    b = tg.tensor([3.0, 4.0], requires_grad=True)
    G = tg.tensor([1.0, 1.0])
    h = a + 0
    h.retain_grad()
    (h + b).backward(gradient=G)
    grads = {"a": a.grad.data, "b": b.grad.data, "h": h.grad.data, "G": G.data}
    for i, (n1, g1) in enumerate(grads.items()):
        for n2, g2 in list(grads.items())[i + 1 :]:
            assert not np.shares_memory(g1, g2), f"{n1}.grad shares memory with {n2}"
    a.grad.data *= 10
    np.testing.assert_array_equal(b.grad.data, [1.0, 1.0])
    np.testing.assert_array_equal(G.data, [1.0, 1.0])


@pytest.mark.parametrize("reduction", ["sum", "mean"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_the_gradient_below_a_full_reduction_is_a_private_array(reduction, keepdims) -> None:
    """Below a full sum or mean the gradient is one number broadcast (a stride-0 view);
    what reaches ``.grad`` must still be an array of its own, one element per entry."""
    x = tg.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    getattr(x, reduction)(axis=None, keepdims=keepdims).backward()
    g = x.grad.data
    assert g.dtype == np.float32 and g.shape == (2, 3) and g.flags.writeable
    g[0, 0] = 7.0  # a shared element would change every entry
    expected = np.full((2, 3), 1.0 if reduction == "sum" else 1 / 6, np.float32)
    expected[0, 0] = 7.0
    np.testing.assert_array_equal(g, expected)


def test_a_copy_takes_no_sum_of_a_backward_pass_running_elsewhere() -> None:
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    w._pass_grad = np.array([5.0, 5.0])  # what another thread's pass holds midway
    try:
        for twin in (copy.copy(w), copy.deepcopy(w)):
            (twin * 3).sum().backward()  # a kept sum: the copy would count as reached
            np.testing.assert_array_equal(twin.grad.data, [3.0, 3.0])
            np.testing.assert_array_equal(twin.data, [1.0, 2.0])
            assert twin.requires_grad and twin is not w
    finally:
        w._pass_grad = None


# ----------------------------------------------------------------------------- grad mode


def test_no_grad_records_no_graph() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with tg.no_grad():
        y = (x * 2).exp().sum()
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()
    assert not y.requires_grad and y._prev == () and y.is_leaf
    np.testing.assert_allclose(y.item(), np.exp(2.0) + np.exp(4.0))
    with pytest.raises(RuntimeError):
        y.backward()


def test_no_grad_as_decorator_both_forms() -> None:
    x = tg.tensor(1.0, requires_grad=True)

    @tg.no_grad()
    def f(t):
        return t * 2

    @tg.no_grad
    def g(t):
        return t * 3

    assert not f(x).requires_grad and not g(x).requires_grad
    assert (x * 2).requires_grad


def test_enable_grad_inside_no_grad() -> None:
    x = tg.tensor(1.0, requires_grad=True)
    with tg.no_grad():
        with tg.enable_grad():
            y = x * 2
        z = x * 2
    assert y.requires_grad and y._prev == (x,)
    assert not z.requires_grad
    y.backward()
    assert x.grad.item() == 2.0


def test_grad_mode_restored_after_an_exception() -> None:
    with pytest.raises(KeyError), tg.no_grad():
        raise KeyError("boom")
    assert tg.is_grad_enabled()


def test_grad_mode_is_thread_local() -> None:
    x = tg.tensor(1.0, requires_grad=True)
    seen = {}

    def worker():
        seen["y"] = x * 2

    with tg.no_grad():
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
    assert seen["y"].requires_grad


# ----------------------------------------------------------------------------- tg.grad


def test_grad_returns_gradients_and_touches_no_grad() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    w = tg.tensor([3.0, -1.0], requires_grad=True)
    h = x * w
    h.retain_grad()
    y = (h * h).sum()
    gx, gw = tg.grad(y, [x, w])
    np.testing.assert_array_equal(gx.data, 2 * (x.data * w.data) * w.data)
    np.testing.assert_array_equal(gw.data, 2 * (x.data * w.data) * x.data)
    assert isinstance(gx, Tensor) and not gx.requires_grad
    assert x.grad is None and w.grad is None and h.grad is None


@pytest.mark.parametrize(
    "make_input, message",
    [
        (lambda: tg.tensor([1.0]), "input 1 .* does not require grad"),
        (lambda: tg.tensor([1.0], requires_grad=True), "input 1 .* is not reached"),
    ],
    ids=["constant", "unused"],
)
def test_grad_refuses_an_input_before_the_pass_frees_the_graph(make_input, message) -> None:
    """As PyTorch: the refusal comes first, so the same call without that input still
    works (it used to find the graph freed by the refused call's pass)."""
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp().sum()
    with pytest.raises(RuntimeError, match=message):
        tg.grad(y, [x, make_input()])
    (g,) = tg.grad(y, [x])
    np.testing.assert_allclose(g.data, np.exp([1.0, 2.0]))


def test_grad_with_grad_outputs_and_several_outputs() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y1, y2 = x * 2, x * x
    (g,) = tg.grad([y1, y2], x, grad_outputs=[np.array([1.0, 1.0]), np.array([0.5, -1.0])])
    np.testing.assert_array_equal(g.data, [2 + 0.5 * 2, 2 - 1 * 4])


def test_grad_frees_the_graph_unless_retained() -> None:
    x = tg.tensor(2.0, requires_grad=True)
    y = x.exp() * x
    tg.grad(y, [x], retain_graph=True)
    (g,) = tg.grad(y, [x])  # retain_graph=None: frees (create_graph is False)
    np.testing.assert_allclose(g.item(), np.exp(2.0) * 3)
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        tg.grad(y, [x])


def test_grad_of_an_unreached_input() -> None:
    x = tg.tensor(1.0, requires_grad=True)
    z = tg.tensor(1.0, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="allow_unused"):
        tg.grad(y, [x, z], retain_graph=True)
    gx, gz = tg.grad(y, [x, z], allow_unused=True)
    assert gx.item() == 2.0 and gz is None


def test_requires_grad_on_an_op_output_as_pytorch() -> None:
    x = tg.tensor([1.0], requires_grad=True)
    y = x * 2
    assert y.requires_grad_() is y and y.requires_grad  # already requires it: a no-op
    with pytest.raises(RuntimeError, match="only leaf tensors can stop requiring grad.*detach"):
        y.requires_grad_(False)
    assert y.requires_grad
    c = tg.tensor([1.0]).requires_grad_()
    assert c.requires_grad and c.is_leaf


def test_grad_with_respect_to_a_constant_says_so() -> None:
    x = tg.tensor(1.0, requires_grad=True)
    c = tg.tensor(2.0)  # no requires_grad: torch refuses it too, allow_unused or not
    for allow_unused in (False, True):
        with pytest.raises(RuntimeError, match="input 1 .* does not require grad"):
            tg.grad(x * c, [x, c], retain_graph=True, allow_unused=allow_unused)


def test_grad_create_graph_gives_differentiable_gradients() -> None:
    x = tg.tensor(3.0, requires_grad=True)
    (g,) = tg.grad(x**3, [x], create_graph=True)
    assert g.requires_grad and g.item() == 27.0
    (h,) = tg.grad(g, [x])
    assert h.item() == 18.0
    assert x.grad is None


def test_a_backward_that_fails_midway_changes_no_grad() -> None:
    x = tg.tensor([1.0, 0.0], requires_grad=True)
    with tg.detect_anomaly():
        root = x.sqrt()  # its slope is inf at 0: anomaly mode raises when the pass gets there
        mid = (root * 3).retain_grad()
        y = (mid * 2).sum()
        with pytest.raises(FloatingPointError, match="sqrt"):
            y.backward()
    assert mid.grad is None and x.grad is None  # mid's rule ran, but nothing was stored


# ----------------------------------------------------------------------------- freed graph


def test_second_backward_through_a_freed_graph_raises() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    g1 = x.grad.data.copy()
    with pytest.raises(RuntimeError, match=r"retain_graph=True"):
        y.backward()
    np.testing.assert_array_equal(x.grad.data, g1)  # nothing half-accumulated


def test_retain_graph_allows_a_second_backward_and_doubles_leaf_grads() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    g1 = x.grad.data.copy()
    np.testing.assert_allclose(g1, np.exp(x.data) * (x.data + 1))
    y.backward()
    np.testing.assert_allclose(x.grad.data, 2 * g1)


def test_graph_after_backward_keeps_structure_and_values() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    h = x.exp()
    y = (h * x).sum()
    y.backward()
    assert y._prev[0]._prev == (h, x) and h._prev == (x,)
    assert y._op == "sum" and h._op == "exp" and y._prev[0]._op == "*"
    np.testing.assert_allclose(h.data, np.exp([1.0, 2.0]))
    np.testing.assert_allclose(y.item(), np.sum(np.exp([1.0, 2.0]) * [1.0, 2.0]))
    ops = [n._op for n in _walk(y)]
    assert ops.count("") == 1  # x, reached twice, once as a leaf


def _walk(root):
    from micrograd.autodiff import topological_order

    return topological_order([root])


def test_a_new_graph_over_the_same_leaves_works_after_backward() -> None:
    x = tg.tensor(2.0, requires_grad=True)
    (x * x).backward()
    (x * x).backward()
    assert x.grad.item() == 8.0


# ----------------------------------------------------------------------------- item assignment


def test_item_assignment_on_a_plain_tensor_works() -> None:
    t = tg.tensor([1.0, 2.0, 3.0])
    t[0] = 10.0
    t[1:] = tg.tensor([20.0, 30.0])
    np.testing.assert_array_equal(t.data, [10.0, 20.0, 30.0])


def test_item_assignment_on_a_tensor_in_a_graph_raises_and_changes_nothing() -> None:
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    for t in (y, x):
        before = t.data.copy()
        with pytest.raises(RuntimeError, match="graph"):
            t[0] = 100.0
        np.testing.assert_array_equal(t.data, before)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0, 2.0])


def test_item_assignment_into_a_parameter_under_no_grad_works_and_is_tracked() -> None:
    """As PyTorch's ``with torch.no_grad(): p[0] = 0``; a graph made before refuses."""
    p = tg.tensor([1.0, 2.0], requires_grad=True)
    y = (p * p).sum()
    with tg.no_grad():
        p[0] = 5.0
    np.testing.assert_array_equal(p.data, [5.0, 2.0])
    with pytest.raises(RuntimeError, match="changed in place"):
        y.backward()
    (p * p).sum().backward()  # a graph made after the change
    np.testing.assert_array_equal(p.grad.data, [10.0, 4.0])


def test_assigning_into_a_constant_the_graph_saved_never_gives_a_silent_wrong_gradient() -> None:
    """``c`` is part of the graph of ``x * c`` (its rule reads ``c``). Changing it must raise
    (at the assignment or at backward, as PyTorch's version counter does), never corrupt."""
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    c = tg.tensor([3.0, 4.0])
    y = (x * c).sum()
    try:
        c[0] = 100.0
    except RuntimeError:
        return
    try:
        y.backward()
    except RuntimeError:
        return
    np.testing.assert_array_equal(x.grad.data, [3.0, 4.0])


def test_item_assignment_of_a_graph_tensor_raises_rather_than_dropping_its_gradient() -> None:
    w = tg.tensor(2.0, requires_grad=True)
    buf = tg.zeros(2)
    with pytest.raises(RuntimeError, match=r"item assignment.*graph.*shape \(\).*'\*'"):
        buf[0] = w * 3
    np.testing.assert_array_equal(buf.data, [0.0, 0.0])
    with tg.no_grad():
        buf[0] = w * 3  # no graph is being recorded: a plain copy of the value
    np.testing.assert_array_equal(buf.data, [6.0, 0.0])


def test_index_arrays_and_masks_refilled_before_backward_do_not_change_the_gradient() -> None:
    x = tg.tensor([10.0, 20.0, 30.0], requires_grad=True)
    rows, cols = np.array([0, 0]), np.array([1, 1])
    m = tg.tensor(np.ones((2, 2)), requires_grad=True)
    idx = np.array([0, 1])
    mask = np.array([True, False, True])
    y = x[idx].sum() + tg.where(mask, x, 0.0).sum() + m[rows, cols].sum()
    idx[0], mask[:], rows[1] = 2, False, 1  # a loop refilling its buffers
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 1.0, 1.0])  # x[0] + x[1], x[0] + x[2]
    np.testing.assert_array_equal(m.grad.data, [[0.0, 2.0], [0.0, 0.0]])  # m[0, 1] twice


def _linear_graph():
    layer = tg.nn.Linear(2, 1, rng=0)
    x = tg.tensor(np.ones((1, 2)), requires_grad=True)
    return layer, x, (layer(x) * layer.weight.sum()).sum()  # the rules read the weight


@pytest.mark.parametrize(
    "change",
    [
        lambda layer: tg.nn.init.constant_(layer.weight, 100.0),
        lambda layer: layer.load_state_dict({"weight": np.full((1, 2), 100.0), "bias": [0.0]}),
        lambda layer: tg.optim.SGD(layer.parameters(), lr=0.1).step(),
    ],
    ids=["nn.init", "load_state_dict", "optimizer step"],
)
def test_changing_a_parameter_a_graph_read_makes_its_backward_raise(change) -> None:
    layer, x, y = _linear_graph()
    y.backward(retain_graph=True)  # gives every parameter a gradient (for the step)
    x.grad = None
    change(layer)
    with pytest.raises(RuntimeError, match=r"input \d of '.*' \(shape .*\) was changed in place"):
        y.backward()
    assert x.grad is None


def _change_detached(x):
    d = x.detach()
    d += 10.0


def _set_item_of_detached(x):
    x.detach()[0] = 100.0


def _change_through_a_view(x):
    with tg.no_grad():
        view = x[0:1]  # a basic-index view: x's memory
    view.requires_grad_(False)
    view += 10.0


@pytest.mark.parametrize(
    "change",
    [_change_detached, _set_item_of_detached, _change_through_a_view],
    ids=["detach +=", "detach setitem", "view +="],
)
def test_changing_a_tensor_through_one_sharing_its_memory_makes_backward_raise(change) -> None:
    """x.detach() and views share x's memory; changing them changes what the graph of
    x * x read, so its backward refuses (as PyTorch's shared version counter does)."""
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    change(x)
    with pytest.raises(
        RuntimeError, match=r"input 0 of '\*' \(shape \(2,\)\) was changed in place"
    ):
        y.backward()
    assert x.grad is None


def test_changing_a_disjoint_slice_of_the_same_array_leaves_a_graph_usable() -> None:
    """Two batches wrapping halves of one NumPy array: changing one half in place does not
    touch what a graph of the other read (as PyTorch, whose tensors there do not share a
    version counter); changing an overlapping slice does."""
    data = np.arange(8.0).reshape(4, 2)
    w = tg.tensor(np.ones((2, 1)), requires_grad=True)
    first, second = tg.as_tensor(data[:2]), tg.as_tensor(data[2:])
    loss = (first @ w).sum()
    second -= 1.0
    loss.backward()
    np.testing.assert_array_equal(w.grad.data, [[2.0], [4.0]])  # column sums of rows 0-1
    overlapping = tg.as_tensor(data[1:3])
    loss = (first @ w).sum()
    overlapping += 1.0
    with pytest.raises(RuntimeError, match="changed in place"):
        loss.backward()


def test_changes_through_a_strided_window_view_are_seen() -> None:
    """sliding_window_view (as_strided) hides its array behind a non-array .base."""
    x = tg.tensor(np.arange(5.0))
    windows = tg.as_tensor(np.lib.stride_tricks.sliding_window_view(x.numpy(), 3))
    w = tg.tensor(np.ones(3), requires_grad=True)
    loss = (windows @ w).sum()
    x += 100.0
    with pytest.raises(RuntimeError, match="changed in place"):
        loss.backward()


def test_a_deep_copy_of_a_freed_graph_is_freed_too() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        copy.deepcopy(y).backward()


@pytest.mark.parametrize(
    "change",
    [
        lambda y: y.detach().__setitem__(0, 100.0),
        lambda y: y.detach().__iadd__(0.5),
        lambda y: y.detach()[1:].__setitem__(slice(None), 0.0),  # through a view of it
    ],
    ids=["detach item", "detach +=", "view of detach"],
)
def test_a_change_to_an_ops_own_output_is_seen(change) -> None:
    """exp's rule reads its output: d exp(x)/dx = exp(x). After y's memory changed, a
    backward would silently use the new values (x.grad [100, e] instead of [1, e])."""
    x = tg.tensor([0.0, 1.0], requires_grad=True)
    y = x.exp()
    with tg.no_grad():
        change(y)
    with pytest.raises(RuntimeError, match=r"the output of 'exp' \(shape \(2,\)\) was changed"):
        y.sum().backward()
    assert x.grad is None


def test_a_change_to_an_output_its_rule_does_not_read_is_allowed() -> None:
    """d(3x)/dx = 3 whatever 3x now holds: PyTorch runs this backward, and so do we."""
    x = tg.tensor([0.0, 1.0], requires_grad=True)
    y = x * 3.0
    y.detach()[0] = 100.0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


def test_rules_that_read_their_output_are_told_from_those_that_do_not() -> None:
    """A rule that may read ``out`` counts as reading it (the safe side): nested functions,
    locals(), callables without bytecode (also unhashable ones) all do."""
    import inspect

    from tensorgrad.ops import elementwise, reduce
    from tensorgrad.tensor import _reads_output

    def nested(g, out, args, ctx, needs):
        return (lambda: g * out)()

    def through_locals(g, out, args, ctx, needs):
        return (g * locals()["out"],)

    def through_frame(g, out, args, ctx, needs):
        return (g * inspect.currentframe().f_locals["out"],)

    class Saved:
        def rule(self, g, out, args, ctx, needs):  # a bound method reading out, not g
            return (out,)

        def attribute(self, g, out, args, ctx, needs):  # ctx.out is not the parameter
            return (g * ctx.out,)

    class Rule:  # a callable object; __eq__ without __hash__ makes it unhashable
        __eq__ = object.__eq__
        __hash__ = None

        def __call__(self, g, out, args, ctx, needs):
            return (g,)

    readers = [elementwise._exp_rule, elementwise._tanh_rule, reduce._softmax_rule]
    readers += [elementwise._rpow_rule, elementwise._div_rule, nested, through_locals, Rule()]
    readers += [through_frame, Saved().rule, staticmethod(lambda g, out, args, ctx, needs: out)]
    assert all(map(_reads_output, readers))
    non_readers = [elementwise._mul_rule, reduce._sum_rule, Saved().attribute]
    assert not any(map(_reads_output, non_readers))
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = record(x.data * 3, (x,), "custom", Rule())
    y.detach()[0] = 100.0
    with pytest.raises(RuntimeError, match="the output of 'custom'"):
        y.sum().backward()


def test_a_deep_copy_refuses_a_backward_its_original_refuses() -> None:
    """The copy's arrays are new memory: they take over the changes noted for the old."""
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    x.detach()[0] = 100.0  # through an alias, after the graph read x
    for graph in (y, copy.deepcopy(y)):
        with pytest.raises(RuntimeError, match=r"input \d of '\*' \(shape \(2,\)\) was changed"):
            graph.backward(retain_graph=True)
    z = (x * x).sum()  # made after the change: its copy's backward runs
    x_twin, z_twin = copy.deepcopy((x, z))
    z_twin.backward()
    np.testing.assert_array_equal(x_twin.grad.data, [200.0, 4.0])  # d(Σx²)/dx = 2x


def test_changes_elsewhere_leave_a_graph_usable() -> None:
    layer, x, y = _linear_graph()
    other = tg.tensor([1.0, 2.0])
    other += 1.0  # an in-place change to a tensor this graph never read
    tg.nn.init.zeros_(tg.nn.Linear(2, 1).weight)
    y.backward()
    w = layer.weight.data
    np.testing.assert_allclose(x.grad.data, w * w.sum(), rtol=1e-12)  # d((w·x + b) Σw)/dx


# ----------------------------------------------------------------------------- in-place operators


def test_in_place_update_of_a_parameter_under_no_grad() -> None:
    # The PyTorch idiom: the same object changes, so a model holding it sees the update.
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()  # grad 2w = [2, 4]
    same = w
    with tg.no_grad():
        w -= 0.1 * w.grad
        w *= 2.0
    assert w is same and w.requires_grad and not w._prev
    np.testing.assert_allclose(w.data, [1.6, 3.2])  # (w - 0.1 * 2w) * 2 = 1.6 w


def test_in_place_on_a_leaf_that_requires_grad_raises_and_changes_nothing() -> None:
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    for update in (
        lambda: w.__isub__(1.0),
        lambda: w.__iadd__(np.ones(2)),
        lambda: w.__imul__(tg.tensor(2.0)),
    ):
        with pytest.raises(RuntimeError, match=r"in-place .*= on a leaf .*shape \(2,\).*no_grad"):
            update()
    np.testing.assert_array_equal(w.data, [1.0, 2.0])


def test_in_place_on_a_graph_node_makes_a_new_node_with_the_right_gradient() -> None:
    # total += loss, the usual way to sum losses: the sum must stay differentiable.
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    total = 0
    for k in (1.0, 2.0, 3.0):
        before = total
        total += (w * k).sum()
        assert total is not before
    total.backward()
    np.testing.assert_array_equal(w.grad.data, [6.0, 6.0])  # d/dw of (1 + 2 + 3) Σw


def test_in_place_on_a_constant_with_a_graph_operand_keeps_the_gradient() -> None:
    w = tg.tensor([2.0, 3.0], requires_grad=True)
    buf = tg.zeros(2)
    original = buf
    buf += w * 3
    assert buf is not original and buf.requires_grad
    np.testing.assert_array_equal(original.data, [0.0, 0.0])
    buf.sum().backward()
    np.testing.assert_array_equal(w.grad.data, [3.0, 3.0])


def test_in_place_on_a_constant_changes_it_and_its_version() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    c = tg.tensor([3.0, 4.0])
    y = (x * c).sum()
    same = c
    c += 1.0
    c /= np.array([2.0, 5.0])
    assert c is same
    np.testing.assert_array_equal(c.data, [2.0, 1.0])
    with pytest.raises(RuntimeError, match="changed"):  # the graph saved c before the change
        y.backward()


def test_in_place_errors_name_the_shapes_or_dtype_and_change_nothing() -> None:
    c = tg.tensor([1.0, 2.0])
    with pytest.raises(ValueError, match=r"\+=.*shape \(3,\).*shape \(2,\)"):
        c += np.ones(3)
    i = tg.tensor(np.arange(2), dtype=np.int64)
    with pytest.raises(TypeError, match=r"\+= into a tensor of dtype int64"):
        i += 0.5
    np.testing.assert_array_equal(c.data, [1.0, 2.0])
    np.testing.assert_array_equal(i.data, [0, 1])


def test_in_place_keeps_float32() -> None:
    t = tg.tensor(np.ones(2, np.float32))
    t += np.ones(2)  # a float64 operand, cast into the float32 tensor as NumPy's += does
    t *= 0.5
    assert t.dtype == np.float32
    np.testing.assert_array_equal(t.data, [1.0, 1.0])


# ----------------------------------------------------------------------------- deep chains


def test_100000_op_chain_backward_under_default_recursion_limit() -> None:
    assert sys.getrecursionlimit() <= 10_000  # nothing raised it for us
    n = 100_000
    c = 1.0 + 1e-5
    x = tg.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(n):
        y = y * c
    np.testing.assert_allclose(y.item(), c**n, rtol=1e-9)
    y.backward()
    np.testing.assert_allclose(x.grad.item(), c**n, rtol=1e-9)  # dy/dx = cⁿ
    del y  # freeing a deep chain must not overflow the C stack either


def test_deep_graph_deepcopies_under_the_default_recursion_limit() -> None:
    """copy.deepcopy of a 20,000-op chain: its own graph, whose backward gives cⁿ."""
    assert sys.getrecursionlimit() <= 10_000
    n, c = 20_000, 1.0 + 1e-5
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x
    for _ in range(n):
        y = y * c
    twin = copy.deepcopy(y)
    twin.sum().backward()
    start = twin
    while start._prev:
        start = start._prev[0]
    assert start is not x and x.grad is None
    np.testing.assert_allclose(start.grad.data, [c**n, c**n], rtol=1e-9)


def test_100000_op_chain_functional_grad() -> None:
    n = 100_000
    x = tg.tensor([0.5, 1.0], requires_grad=True)
    y = x
    for _ in range(n):
        y = y + 1e-5
    (g,) = tg.grad(y.sum(), [x])
    np.testing.assert_allclose(g.data, [1.0, 1.0])
    np.testing.assert_allclose(y.data, x.data + n * 1e-5)


# ----------------------------------------------------------------------------- memory


@pytest.fixture
def no_gc():
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def test_graph_freed_by_reference_counting(no_gc) -> None:
    x = tg.tensor(np.ones(3), requires_grad=True)
    h = (x * 2).exp()
    y = (h * x).sum()
    ref_h, ref_y = weakref.ref(h), weakref.ref(y)
    del h
    assert ref_h() is not None  # y still needs it
    del y
    assert ref_y() is None and ref_h() is None


def test_backward_releases_what_the_rules_saved(no_gc) -> None:
    # DESIGN: after a backward without retain_graph, a tensor graph lets go of the arrays
    # its rules saved (here maximum's two weight arrays and where's mask), keeping the rest.
    a = tg.tensor([1.0, 3.0], requires_grad=True)
    m = tg.maximum(a, 2.0)
    w = tg.where(np.array([True, False]), m, 0.0)
    saved = [weakref.ref(arr) for arr in (*m._ctx, w._ctx)]
    w.sum().backward()
    assert all(ref() is None for ref in saved)
    np.testing.assert_array_equal(m.data, [2.0, 3.0])  # forward values stay, for drawings
    r = tg.maximum(a, 2.0)
    kept = weakref.ref(r._ctx[0])
    r.sum().backward(retain_graph=True)
    assert kept() is not None  # asked to retain: kept


def test_graph_freed_by_reference_counting_after_backward(no_gc) -> None:
    x = tg.tensor(np.ones(3), requires_grad=True)
    h = x.tanh()
    h.retain_grad()
    m = h.reshape(3, 1) @ h.reshape(1, 3)
    y = m.max(axis=0).logsumexp() + x[[0, 0]].sum() + tg.where(x.data > 0, h, 0).var()
    refs = [weakref.ref(t) for t in (h, m, y)]
    y.backward()
    del h, m, y
    assert all(r() is None for r in refs)
    assert x.grad is not None


def test_graph_freed_after_create_graph_grad(no_gc) -> None:
    x = tg.tensor(np.ones(2), requires_grad=True)
    y = (x.sin() * x).sum()
    (g,) = tg.grad(y, [x], create_graph=True)
    refs = [weakref.ref(y), weakref.ref(g)]
    del y, g
    assert all(r() is None for r in refs)


def test_training_loop_memory_is_flat(no_gc) -> None:
    """No graph survives an iteration: the live Tensor count does not grow."""
    w = tg.tensor(np.ones((3, 2)), requires_grad=True)
    data = tg.tensor(np.arange(12.0).reshape(4, 3))

    def step():
        loss = ((data @ w).tanh() ** 2).mean()
        loss.backward()
        w.data -= 0.01 * w.grad.data
        w.zero_grad()

    def live():
        return sum(type(o) is Tensor for o in gc.get_objects())

    step()
    before = live()
    for _ in range(20):
        step()
    assert live() <= before


def test_tolist_gives_python_numbers_as_numpy_and_pytorch_do():
    assert tg.tensor([[1.0, 2.0], [3.0, 4.0]]).tolist() == [[1.0, 2.0], [3.0, 4.0]]
    one = tg.tensor(2.5).tolist()
    assert one == 2.5 and type(one) is float
    assert type(tg.tensor([1, 2], dtype=np.int64).tolist()[0]) is int


def test_a_state_saved_when_grad_was_a_plain_slot_restores_into_the_checked_one() -> None:
    """Before .grad became a checked property its slot was called "grad". A pickle may
    restore a tensor before its gradient tensor is whole: the state goes straight to the
    slot, unchecked (the setter read the half-made gradient's shape and failed)."""
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    instance_dict, slots = x.__reduce_ex__(4)[2]
    half_made = Tensor.__new__(Tensor)  # as pickle holds it before its own state arrives
    old = {("grad" if k == "_grad" else k): v for k, v in slots.items()}
    old["grad"] = half_made
    y = Tensor.__new__(Tensor)
    y.__setstate__((instance_dict, old))
    assert y._grad is half_made and y.grad is half_made
    np.testing.assert_array_equal(y.data, [1.0, 2.0])
