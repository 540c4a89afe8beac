"""DESIGN.md's error table, the rows about tensors: each bad input gets the documented
exception type AND a message that names the op and the shapes or values involved."""

from __future__ import annotations

import os
import sys
import warnings
from decimal import Decimal

import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad.nn import functional as F

THIS_FILE = os.path.basename(__file__)


def _line() -> int:
    """The caller's line number."""
    return sys._getframe(1).f_lineno


# ----------------------------------------------------------------------------- shape mismatch

BROADCAST_OPS = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "**": lambda a, b: a**b,
    "maximum": lambda a, b: tg.maximum(a, b),
    "minimum": lambda a, b: tg.minimum(a, b),
    "where": lambda a, b: tg.where(np.ones(a.shape, bool), a, b),
    "matmul": lambda a, b: a @ b,
}


@pytest.mark.parametrize("op", BROADCAST_OPS)
@pytest.mark.parametrize("shapes", [((2, 3), (4,)), ((3, 2), (4, 5)), ((2, 3, 4), (3, 3, 2))])
def test_shape_mismatch_is_a_value_error_with_both_shapes_and_the_op(op, shapes) -> None:
    a = tg.tensor(np.ones(shapes[0]), requires_grad=True)
    b = tg.tensor(np.ones(shapes[1]), requires_grad=True)
    with pytest.raises(ValueError) as info:
        BROADCAST_OPS[op](a, b)
    message = str(info.value)
    assert op in message
    assert str(shapes[0]) in message and str(shapes[1]) in message


@pytest.mark.parametrize("op", ["+", "*", "-"])
def test_shape_mismatch_with_an_ndarray_operand(op) -> None:
    t = tg.tensor(np.ones((2, 3)))
    with pytest.raises(ValueError) as info:
        BROADCAST_OPS[op](np.ones((4,)), t)
    assert op in str(info.value) and "(2, 3)" in str(info.value) and "(4,)" in str(info.value)


def test_where_condition_shape_mismatch_names_the_shapes() -> None:
    a = tg.tensor(np.ones((2, 3)))
    with pytest.raises(ValueError) as info:
        tg.where(np.ones((4,), bool), a, a)
    assert "where" in str(info.value) and "(4,)" in str(info.value)
    assert "(2, 3)" in str(info.value)


@pytest.mark.parametrize(
    "fn, shapes",
    [(lambda x: x.reshape(4, 2), (3, 2)), (lambda x: x.broadcast_to((3, 4)), (2, 4))],
    ids=["reshape", "broadcast_to"],
)
def test_shape_op_errors_name_the_shapes(fn, shapes) -> None:
    x = tg.tensor(np.ones(shapes), requires_grad=True)
    with pytest.raises(ValueError) as info:
        fn(x)
    assert str(shapes) in str(info.value)


ONE_AXIS_OPS = {
    "unsqueeze": lambda x, axis: x.unsqueeze(axis),
    "swapaxes": lambda x, axis: x.swapaxes(axis, 0),
    "flatten": lambda x, axis: x.flatten(axis),
    "stack": lambda x, axis: tg.stack([x, x], axis=axis),
    "concatenate": lambda x, axis: tg.concatenate([x, x], axis=axis),
    "softmax": lambda x, axis: x.softmax(axis=axis),
}


@pytest.mark.parametrize("op", ONE_AXIS_OPS)
@pytest.mark.parametrize("axis", [(0, 1), [0], 1.0, True])
def test_ops_of_one_axis_refuse_several(op, axis) -> None:
    x = tg.tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(TypeError) as info:
        ONE_AXIS_OPS[op](x, axis)
    assert op in str(info.value) and "one int" in str(info.value)
    assert repr(axis) in str(info.value)


@pytest.mark.parametrize("op", ONE_AXIS_OPS)
def test_axis_out_of_range_names_the_axis_and_the_valid_range(op) -> None:
    x = tg.tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ValueError) as info:
        ONE_AXIS_OPS[op](x, 7)
    valid = "-3 to 2" if op in ("unsqueeze", "stack") else "-2 to 1"  # a new axis: one more
    assert op in str(info.value) and "axis 7" in str(info.value) and valid in str(info.value)


def test_swapaxes_of_a_0d_tensor() -> None:
    with pytest.raises(ValueError, match="swapaxes: a 0-d tensor"):
        tg.tensor(1.0).swapaxes(0, 0)


# ----------------------------------------------------------------------------- backward misuse


def test_backward_on_a_non_scalar_without_gradient() -> None:
    x = tg.tensor(np.ones((2, 3)), requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError) as info:
        y.backward()
    message = str(info.value)
    assert "gradient" in message and "(2, 3)" in message
    assert x.grad is None


@pytest.mark.parametrize("bad", [np.ones((3, 2)), np.ones(6), np.ones((2, 3, 1)), 1.0])
def test_gradient_of_the_wrong_shape(bad) -> None:
    x = tg.tensor(np.ones((2, 3)), requires_grad=True)
    y = x * 2
    with pytest.raises(ValueError) as info:
        y.backward(gradient=bad)
    message = str(info.value)
    assert "(2, 3)" in message and str(np.shape(bad)) in message
    assert x.grad is None


def test_gradient_of_the_wrong_shape_in_grad() -> None:
    x = tg.tensor(np.ones(3), requires_grad=True)
    with pytest.raises(ValueError) as info:
        tg.grad([x.sum(), x * 2], [x], grad_outputs=[None, np.ones(4)])
    message = str(info.value)  # names the call and which grad_outputs entry to fix
    assert message.startswith("grad: grad_outputs[1] has shape (4,)") and "(3,)" in message
    with pytest.raises(RuntimeError, match=r"^grad: .*shape \(3,\).*pass grad_outputs\[0\]"):
        tg.grad(x * 2, [x])


@pytest.mark.parametrize(
    "bad, error, message",
    [
        (
            tg.tensor([0.0, 0.0, 0.0]),
            ValueError,
            r"gradient of shape \(3,\) for a tensor of shape \(2,\)",
        ),
        (tg.zeros((3, 2)), ValueError, r"gradient of shape \(3, 2\) for a tensor of shape \(2,\)"),
        (np.zeros(2), TypeError, "got a ndarray for a .grad"),
        (tg.tensor(np.zeros(2, np.float32)), TypeError, "a float32 gradient for a float64 tensor"),
    ],
    ids=["shorter", "broadcasts", "array", "dtype"],
)
def test_a_grad_that_cannot_take_the_gradient_is_refused_when_assigned(bad, error, message):
    """As PyTorch. A (3, 2) .grad took a (2,) gradient by broadcasting; a (3,) one failed
    midway through backward, after z.grad was written and the graph freed."""
    x, z = tg.tensor([1.0, 2.0], requires_grad=True), tg.tensor([1.0], requires_grad=True)
    with pytest.raises(error, match=message):
        x.grad = bad
    assert x.grad is None
    ((z * 3).sum() + (x * 2).sum()).backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])


def test_a_grad_left_from_replaced_data_stops_backward_before_any_grad_changes() -> None:
    """.data replaced by an array of another shape: the old .grad no longer fits, and
    backward says so before it writes any .grad."""
    x, z = tg.tensor([1.0, 2.0], requires_grad=True), tg.tensor([1.0], requires_grad=True)
    (x * 2).sum().backward()
    x.data = np.zeros(3)
    with pytest.raises(
        ValueError, match=r"backward: a gradient of shape \(2,\) for a tensor of shape \(3,\)"
    ):
        ((z * 3).sum() + (x * 2).sum()).backward()
    assert z.grad is None
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])


def test_backward_through_a_freed_graph() -> None:
    x = tg.tensor(np.ones(3), requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"retain_graph=True"):
        y.backward()


def test_backward_on_a_tensor_without_a_graph() -> None:
    with pytest.raises(RuntimeError, match="require"):
        tg.tensor(2.0).backward()


# ----------------------------------------------------------------------------- requires_grad


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, bool])
def test_requires_grad_on_integer_or_bool_data_is_a_type_error(dtype) -> None:
    with pytest.raises(TypeError) as info:
        tg.tensor([1, 0], dtype=dtype, requires_grad=True)
    assert np.dtype(dtype).name in str(info.value)
    with pytest.raises(TypeError):
        tg.Tensor(np.array([1, 0], dtype=dtype), dtype=dtype, requires_grad=True)
    t = tg.tensor([1, 0], dtype=dtype)
    with pytest.raises(TypeError):
        t.requires_grad_()
    assert not t.requires_grad


def test_astype_integer_of_a_tensor_that_requires_grad() -> None:
    x = tg.tensor([1.5, 2.5], requires_grad=True)
    with pytest.raises(TypeError, match="int64"):
        x.astype(np.int64)


# ----------------------------------------------------------------------------- cross_entropy labels


def _logits(n=3, c=4, requires_grad=True):
    return tg.tensor(np.zeros((n, c)), requires_grad=requires_grad)


@pytest.mark.parametrize(
    "labels, bad",
    [
        ([0, 4, 1], "4"),
        ([0, -1, 2], "-1"),
        ([7, 1, 1], "7"),
        # named as given, not as a cast to int64 would wrap them
        (np.array([0.0, np.inf, 1.0]), "inf"),
        (np.array([0, 2**63, 1], dtype=np.uint64), str(2**63)),
    ],
)
def test_cross_entropy_label_out_of_range(labels, bad) -> None:
    with pytest.raises(IndexError) as info:
        F.cross_entropy(_logits(), labels)
    assert f"label {bad} is out of range" in str(info.value)
    assert "4 classes" in str(info.value)


@pytest.mark.parametrize("labels", [[0, 1.5, 2], np.array([0.0, 1.0, 2.25])])
def test_cross_entropy_non_integer_labels(labels) -> None:
    bad = [v for v in np.asarray(labels, dtype=float) if v != int(v)][0]
    with pytest.raises(ValueError) as info:
        F.cross_entropy(_logits(), labels)
    assert str(bad) in str(info.value)


@pytest.mark.parametrize("labels", [[0, 1], [0, 1, 2, 3], [[0, 1, 2]], 1])
def test_cross_entropy_wrong_number_of_labels(labels) -> None:
    with pytest.raises(ValueError) as info:
        F.cross_entropy(_logits(), labels)
    assert "3" in str(info.value)  # the number expected


def test_cross_entropy_label_errors_change_nothing() -> None:
    x = _logits()
    with pytest.raises(IndexError):
        F.cross_entropy(x, [0, 9, 1])
    assert x.grad is None and (x.data == 0).all()


# ----------------------------------------------------------------------------- NaN / inf


def test_nan_and_inf_follow_numpy_semantics_without_anomaly_mode() -> None:
    x = tg.tensor([-1.0, 0.0, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy warns; it does not raise
        y = x.log()
        assert np.isnan(y.data[0]) and y.data[1] == -np.inf and y.data[2] == 0.0
        (y * 0).sum().backward()  # 0 * -inf = nan, as NumPy
        z = tg.tensor(0.0, requires_grad=True)
        z.sqrt().backward()
    with np.errstate(all="ignore"):
        expected = 0.0 * (1 / np.array([-1.0, 0.0, 1.0]))  # NumPy: 0 * inf = nan at 0
    np.testing.assert_array_equal(x.grad.data, expected)
    assert z.grad.item() == np.inf


def test_detect_anomaly_forward_names_the_op_and_where_it_was_created() -> None:
    x = tg.tensor([-1.0, 2.0], requires_grad=True)
    with pytest.raises(FloatingPointError) as info, tg.detect_anomaly():
        h = x * 2
        line = _line() + 1
        y = h.log()  # noqa: F841 -- log(-2): nan from finite inputs
    message = str(info.value)
    assert "log" in message
    assert f"{THIS_FILE}:{line}" in message


def test_detect_anomaly_backward_names_the_op_and_where_it_was_created() -> None:
    x = tg.tensor([0.0, 4.0], requires_grad=True)
    with tg.detect_anomaly():
        line = _line() + 1
        y = x.sqrt()  # finite forward; its gradient 1 / (2 sqrt 0) is inf
        z = (y * 3).sum()
        with pytest.raises(FloatingPointError) as info:
            z.backward()
    message = str(info.value)
    assert "sqrt" in message and "backward" in message
    assert f"{THIS_FILE}:{line}" in message
    assert x.grad is None  # no leaf was half-updated


def test_detect_anomaly_ignores_nan_that_came_in_from_the_inputs() -> None:
    x = tg.tensor([np.nan, 1.0], requires_grad=True)
    with tg.detect_anomaly():
        y = (x * 2).sum()  # nan in, nan out: not this op's doing
    assert np.isnan(y.item())


def test_detect_anomaly_reports_the_first_op_only() -> None:
    x = tg.tensor([-1.0], requires_grad=True)
    with pytest.raises(FloatingPointError) as info, tg.detect_anomaly():
        y = x.sqrt()  # the first nan
        y.log()
    assert "sqrt" in str(info.value) and "'log'" not in str(info.value)


def test_detect_anomaly_is_per_thread() -> None:
    """Anomaly mode, like grad mode, belongs to the thread that turned it on."""
    import threading

    seen = {}

    def worker() -> None:
        x = tg.tensor([-1.0], requires_grad=True)
        with np.errstate(invalid="ignore"):
            seen["y"] = x.log()  # nan, but this thread never entered detect_anomaly

    with tg.detect_anomaly():
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        x = tg.tensor([-1.0], requires_grad=True)
        with pytest.raises(FloatingPointError):
            x.log()  # this thread did
    assert np.isnan(seen["y"].data).all()


def test_no_anomaly_check_outside_the_context() -> None:
    x = tg.tensor([-1.0], requires_grad=True)
    with tg.detect_anomaly():
        pass
    with np.errstate(invalid="ignore"):
        y = x.log()
    assert np.isnan(y.item())


# ------------------------------------------------------------------- writes: nothing half-changed


def _graph_reading(c):
    """A graph that reads constant ``c``: w's gradient is c's values when it was made."""
    w = tg.tensor(np.ones(c.shape), requires_grad=True)
    return w, (w * c).sum()


@pytest.mark.parametrize(
    "value, error, message",
    [
        (
            ["5", "6", "x", "8"],
            TypeError,
            r"item assignment: .*real numbers; got list of dtype <U1",
        ),
        ([5.0, 6.0, None, 8.0], TypeError, r"item assignment: .*got a NoneType among the values"),
        (None, TypeError, r"item assignment: .*got a NoneType among"),
        ("2.5", TypeError, r"item assignment: .*got str"),
        ([1j, 2.0, 3.0, 4.0], TypeError, r"item assignment: .*dtype complex128"),
        ([[1.0], [1.0, 2.0]], ValueError, r"item assignment: .*real numbers; .*inhomogeneous"),
        (np.ones(3), ValueError, r"item assignment: .*shape \(3,\).*shape \(4,\)"),
    ],
    ids=repr,
)
def test_a_refused_item_assignment_writes_nothing(value, error, message):
    """NumPy converts a list element by element as it writes: ["5", "6", "x"] wrote 5 and 6
    before failing, unseen by the graph that read the tensor, whose backward then gave
    w.grad = [5, 6, 3, 4]. (PyTorch refuses str, None and lists of them too.)"""
    c = tg.tensor([1.0, 2.0, 3.0, 4.0])
    w, y = _graph_reading(c)
    with pytest.raises(error, match=message):
        c[:] = value
    np.testing.assert_array_equal(c.data, [1.0, 2.0, 3.0, 4.0])
    y.backward()
    np.testing.assert_array_equal(w.grad.data, [1.0, 2.0, 3.0, 4.0])


def test_an_integer_too_large_for_the_tensor_is_refused_before_any_element_is_written():
    t = tg.tensor([7, 8, 3], dtype=np.int64)
    with pytest.raises(OverflowError, match=r"item assignment: .*too large"):
        t[:] = [7, 9, 2**70]
    np.testing.assert_array_equal(t.data, [7, 8, 3])
    u = tg.tensor([1, 2], dtype=np.uint8)  # a list is read in the tensor's dtype, as NumPy
    with pytest.raises(OverflowError, match=r"item assignment: .*300 out of bounds for uint8"):
        u[:] = [300, 2]
    np.testing.assert_array_equal(u.data, [1, 2])
    u[0] = np.int64(300)  # a NumPy scalar is cast as NumPy casts it (wraps around)
    assert u.data[0] == 300 % 256
    with pytest.raises(IndexError, match=r"item assignment: index 9 .*shape \(3,\).*index 9"):
        t[9] = 1


def test_a_list_holding_a_graph_tensor_is_refused_where_it_would_lose_its_gradient():
    """Read as numbers through __array__, a tensor in a list silently dropped its gradient
    (x * [a, b] gave a.grad None); PyTorch raises there too."""
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    a = tg.tensor(3.0, requires_grad=True)
    buf = tg.zeros(2)
    for make in (
        lambda: x * [a, 1.0],
        lambda: [a, 1.0] @ x,
        lambda: tg.concatenate([x, [a, a]]),
        lambda: tg.maximum(x, (1.0, [a][0])),
        lambda: buf.__setitem__(slice(None), [[a][0], 1.0]),
    ):
        with pytest.raises(RuntimeError, match=r"part of a graph \(shape \(\), op 'leaf'\)"):
            make()
    np.testing.assert_array_equal(buf.data, [0.0, 0.0])
    with tg.no_grad():  # no graph to lose: plain numbers
        np.testing.assert_array_equal((x * [a, 1.0]).data, [3.0, 2.0])


def test_a_refused_in_place_power_on_integers_writes_nothing_and_names_numpys_cause():
    """c **= [2, 2, -1] wrote 4 and 9 before NumPy refused the negative power; the graph
    that read c did not see the change, and the message blamed the shapes."""
    c = tg.tensor([2, 3, 4], dtype=np.int64)
    w, y = _graph_reading(c)
    with pytest.raises(ValueError, match=r"in-place \*\*= on a tensor of dtype int64: Integers"):
        c **= np.array([2, 2, -1])
    np.testing.assert_array_equal(c.data, [2, 3, 4])
    y.backward()
    np.testing.assert_array_equal(w.grad.data, [2.0, 3.0, 4.0])


@pytest.mark.parametrize(
    "other, error, message",
    [
        ([[1.0], [1.0, 2.0]], ValueError, r"in-place \+=: .*real numbers; .*inhomogeneous"),
        (np.ones((2, 3)), ValueError, r"in-place \+=: .*shape \(2, 3\).*shape \(3,\)"),
        (["1", "2", "3"], TypeError, r"in-place \+=: .*dtype <U1"),
    ],
    ids=repr,
)
def test_a_refused_in_place_operator_names_itself_and_changes_nothing(other, error, message):
    t = tg.tensor([1.0, 2.0, 3.0])
    with pytest.raises(error, match=message):
        t += other
    np.testing.assert_array_equal(t.data, [1.0, 2.0, 3.0])


def test_an_in_place_operator_that_numpy_stops_after_writing_still_marks_the_change():
    """Under np.seterr(all="raise") NumPy raises after the loop has written every value:
    the graph that read the tensor must refuse its backward, not use the new values."""
    z = tg.tensor([1.0, 0.0])
    w, y = _graph_reading(z)
    with np.errstate(all="raise"), pytest.raises(FloatingPointError):
        z /= 0.0
    with pytest.raises(RuntimeError, match="changed in place"):
        y.backward()


@pytest.mark.parametrize(
    "gradient, error, message",
    [
        (np.array([1 + 5j, 1.0]), TypeError, r"backward: gradient: .*dtype complex128"),
        (np.array(["1", "2"]), TypeError, r"backward: gradient: .*dtype <U1"),
        ([None, 1.0], TypeError, r"backward: gradient: .*got a NoneType among the values"),
    ],
    ids=repr,
)
def test_a_starting_gradient_must_be_real_numbers(gradient, error, message):
    """np.array(gradient, dtype=float64) dropped an imaginary part with a warning, parsed
    strings and made None a nan; PyTorch refuses a complex grad_output."""
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(error, match=message):
        (x * 2).backward(gradient)
    assert x.grad is None
    with pytest.raises(
        error, match=message.replace("backward: gradient", r"grad: grad_outputs\[0\]")
    ):
        tg.grad(x * 2, [x], grad_outputs=[gradient])


def test_setting_requires_grad_checks_as_requires_grad_does():
    """The attribute was a plain slot: x.requires_grad = True on int data was taken, and
    backward then cut the gradient 0.5 down to the int 0."""
    x = tg.tensor([1, 2], dtype=np.int64)
    with pytest.raises(TypeError, match="only floating tensors can require grad, got dtype int64"):
        x.requires_grad = True
    assert x.requires_grad is False
    h = tg.tensor([1.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="only leaf tensors can stop requiring grad"):
        h.requires_grad = False
    assert h.requires_grad is True
    leaf = tg.tensor([1.0, 2.0])
    leaf.requires_grad = True
    (leaf * 0.5).sum().backward()
    np.testing.assert_array_equal(leaf.grad.data, [0.5, 0.5])


def test_a_string_operand_is_refused_in_both_orders_not_repeated():
    """Returned NotImplemented, t * "x" fell back to str's repetition through __index__:
    "only integer tensors can be used as an index", or "xxx" for a 0-d int tensor."""
    for t in (tg.tensor([1.0, 2.0]), tg.tensor(3, dtype=np.int64)):
        with pytest.raises(TypeError, match=r"for \*: 'Tensor' and 'str'"):
            t * "x"
        with pytest.raises(TypeError, match=r"for \*: 'str' and 'Tensor'"):
            "x" * t


def test_data_and_operands_that_are_not_real_numbers_say_what_they_are():
    with pytest.raises(ValueError, match=r"Tensor: data must be a rectangular array"):
        tg.tensor([[1.0], [1.0, 2.0]])
    with pytest.raises(TypeError, match=r"got ndarray of dtype complex128"):
        tg.tensor([1.0, 2.0]) + np.ones(2) * 1j


def test_format_with_a_number_spec_takes_only_one_element_as_numpy():
    assert f"{tg.tensor(1.23456):.2f}" == "1.23"
    assert f"{tg.tensor([1.0, 2.0])}" == str(tg.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match=r"unsupported format string '.3f'.*shape \(2,\)"):
        format(tg.tensor([1.5, 2.0]), ".3f")


@pytest.mark.parametrize(
    "value, want",
    [
        ([2**70, 1], [2.0**70, 1.0]),  # ints beyond 64 bits: NumPy reads them as objects
        (np.array([1, 2], dtype=object), [1.0, 2.0]),
        ([Decimal("1.5"), 2], [1.5, 2.0]),
    ],
    ids=repr,
)
def test_real_numbers_that_numpy_holds_as_objects_are_written_as_numpy_writes_them(value, want):
    """The first check of written values refused every object array; only None is refused."""
    t = tg.tensor([0.0, 0.0])
    t[:] = value
    np.testing.assert_array_equal(t.data, want)


def test_values_read_as_numbers_lose_no_gradient_where_there_is_none_to_lose():
    """Refusing lists holding graph tensors covers ops that record; argmax, zeros_like and a
    seed without create_graph only read the numbers, and worked before."""
    a, b = tg.tensor(1.0, requires_grad=True), tg.tensor(3.0, requires_grad=True)
    assert tg.argmax([a, b]).item() == 1
    np.testing.assert_array_equal(tg.zeros_like([a, b]).data, [0.0, 0.0])
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).backward(gradient=[a, b])
    np.testing.assert_array_equal(x.grad.data, [2.0, 6.0])
    with pytest.raises(RuntimeError, match=r"backward: gradient: .*part of a graph"):
        (x * 2).backward(gradient=[a, b], create_graph=True)


def test_a_list_that_holds_itself_is_refused_at_once():
    """Walking lists by hand looped forever on one that holds itself; NumPy refuses it."""
    loop = [1.0]
    loop.append(loop)
    with pytest.raises((ValueError, RecursionError)):
        tg.tensor([1.0, 2.0]) * loop


def test_a_refused_integer_in_place_division_raises_numpys_cast_error_and_changes_nothing():
    """Computed aside in float first, it raised FloatingPointError under np.seterr(all=
    "raise") and noted a change that never happened: the graph refused its backward."""
    k = tg.tensor([1, 2], dtype=np.int64)
    w, y = _graph_reading(k)
    with np.errstate(all="raise"), pytest.raises(TypeError, match=r"in-place /= into .*int64"):
        k /= 0
    y.backward()
    np.testing.assert_array_equal(w.grad.data, [1.0, 2.0])


@pytest.mark.parametrize(
    "dtype, value",
    [(np.int64, np.array([5.0, np.nan, 7.0])), (np.float16, 1e6), (np.float16, [1.0, 1e6, 2.0])],
    ids=repr,
)
def test_a_write_that_numpy_refuses_while_casting_writes_nothing(dtype, value):
    """Under np.seterr(all="raise") NumPy raised from the cast into the tensor after
    writing (nan into int64: [5, -9.2e18, 7], unnoted); the values are cast first now."""
    k = tg.tensor([1, 2, 3], dtype=dtype)
    w, y = _graph_reading(k)
    with np.errstate(all="raise"), pytest.raises(FloatingPointError):
        k[:] = value
    np.testing.assert_array_equal(k.data, [1, 2, 3])
    y.backward()  # nothing changed: the graph still runs
    np.testing.assert_array_equal(w.grad.data, [1.0, 2.0, 3.0])


def test_object_values_must_each_be_a_real_number():
    """astype(float) parsed strings and read graph tensors through __float__."""
    t = tg.tensor([0.0, 0.0])
    with pytest.raises(TypeError, match=r"item assignment: .*got a str among the values"):
        t[:] = [2**70, "3"]
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    obj = np.empty(2, object)
    obj[:] = [a[0], a[1]]
    with pytest.raises(TypeError, match=r"in-place \+=: .*got a Tensor among the values"):
        t += obj
    np.testing.assert_array_equal(t.data, [0.0, 0.0])


def test_argmax_of_values_that_are_not_numbers_is_a_type_error():
    for bad in ("abc", None, [1j, 2]):
        with pytest.raises(TypeError, match=r"argmax: expected real numbers"):
            tg.argmax(bad)


def test_an_array_like_may_call_into_tensorgrad_while_it_is_read_as_numbers():
    """Only list and tuple elements are checked for graph tensors: an object's own
    __array__ that uses a tensor which requires grad was refused as if it were one."""
    a = tg.tensor([1.0, 2.0], requires_grad=True)

    class Indices:
        def __array__(self, dtype=None, copy=None):
            return np.array([float(tg.argmax(a).item()), 0.0], dtype=dtype)

    np.testing.assert_array_equal((tg.tensor([1.0, 1.0]) @ Indices()).data, 1.0)


@pytest.mark.parametrize(
    "index, value",
    [(5, 300), (5, "x"), (5, [1, 2, 3]), ((0, 1), 2**70), ((slice(None), 5), 1j)],
    ids=repr,
)
def test_a_bad_index_is_named_first_as_numpy_names_it(index, value):
    """The values used to be converted before NumPy saw the index: t[5] = 300 on two int8
    elements said OverflowError where NumPy says IndexError (the reference: the same write
    into an ndarray). (For an advanced index NumPy converts the values first; here the
    index is checked first for every index. Either way nothing is written.)"""
    reference = np.array([1, 2], np.int8)
    with pytest.raises(IndexError):
        reference[index] = value
    t = tg.tensor([1, 2], dtype=np.int8)
    with pytest.raises(IndexError, match=r"item assignment: .*shape \(2,\).*index"):
        t[index] = value
    np.testing.assert_array_equal(t.data, [1, 2])


@pytest.mark.parametrize(
    "dtype, value, error",
    [
        (np.int8, np.int64(300), OverflowError),
        (np.int64, np.float64("nan"), ValueError),
        (np.int32, np.float32("inf"), OverflowError),
        (np.int16, np.float64(1e6), OverflowError),
    ],
    ids=repr,
)
def test_a_numpy_scalar_out_of_a_signed_tensors_range_is_refused_as_numpy_refuses_it(
    dtype, value, error
):
    """Cast as an array, np.int64(300) wrapped to 44 in int8 and nan became -2**63; NumPy's
    own item assignment refuses them (the reference: the same write into an ndarray)."""
    reference = np.zeros(2, dtype)
    with pytest.raises(error):
        reference[0] = value
    t = tg.tensor([0, 0], dtype=dtype)
    with pytest.raises(error, match="item assignment"):
        t[0] = value
    np.testing.assert_array_equal(t.data, [0, 0])


def test_an_in_place_operand_of_objects_is_refused_as_numpys_ufuncs_refuse_it():
    """Converted to float64 first, [Decimal, int] was added; under np.seterr(all="raise")
    [2**70, 1] then overflowed float16 after writing."""
    reference = np.array([3.0, 1.0])
    with pytest.raises(TypeError):
        np.add(reference, np.array([Decimal("1.5"), 2], dtype=object), out=reference)
    t = tg.tensor([3.0, 1.0], dtype=np.float16)
    for operand in ([Decimal("1.5"), 2], [2**70, 1]):
        with np.errstate(all="raise"), pytest.raises(TypeError, match=r"in-place \+=: .*among"):
            t += operand
    np.testing.assert_array_equal(t.data, [3.0, 1.0])


def test_an_index_in_an_error_is_shown_on_one_short_line():
    """A thousand ids used to be printed whole, over many lines."""
    t = tg.tensor(np.zeros((4, 5)))
    with pytest.raises(IndexError) as info:
        t[np.arange(1000)]
    message = str(info.value)
    assert "index 4 is out of bounds" in message and "(tensor of shape (4, 5), index" in message
    assert "\n" not in message and len(message) < 200 and message.endswith("…)")
    with pytest.raises(IndexError, match=r"item assignment: .*index array\(\[ ?0, .*…\)$"):
        t[np.arange(1000)] = 1.0


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: tg.argmax(tg.ones((2, 3)), axis=3), ValueError, r"argmax: axis 3 is out of range"),
        (lambda: tg.ones((2, 3)).reshape(-1, -1), ValueError, "only one size may be -1"),
        (lambda: tg.arange(0, 1, 0), ValueError, "arange: step must be nonzero"),
        (lambda: iter(tg.tensor(1.0)), TypeError, "iteration over a 0-d tensor"),
        (lambda: tg.gradcheck(lambda x: x, [[1.0, 2.0]]), TypeError, r"inputs\[0\] is a list"),
        (
            lambda: F.binary_cross_entropy(tg.tensor([0.5]), tg.tensor([2.0])),
            ValueError,
            r"target must be probabilities in \[0, 1\], got 2.0",
        ),
        (
            lambda: F.binary_cross_entropy(tg.tensor([0.5]), tg.tensor([np.nan])),
            ValueError,
            r"target must be probabilities in \[0, 1\], got nan",
        ),
        (lambda: tg.nn.Sequential(tg.nn.ReLU())[5], IndexError, "index 5 is out of range for 1"),
        (lambda: tg.nn.MLP(2, 3), TypeError, "nouts must be a list of layer sizes, got 3"),
        (lambda: tg.optim.SGD({tg.Parameter([1.0])}, lr=0.1), TypeError, "got a set"),
        (lambda: tg.tensor([1.0], requires_grad="no"), TypeError, "must be a bool, got 'no'"),
        (lambda: tg.ones(2).requires_grad_(1), TypeError, "requires_grad must be a bool, got 1"),
    ],
    ids=[
        "argmax axis",
        "two -1",
        "arange step",
        "iter 0-d",
        "gradcheck list",
        "bce target",
        "bce nan target",
        "Sequential index",
        "MLP nouts",
        "optimizer set",
        "flag str",
        "flag int",
    ],
)
def test_small_misuses_are_named(call, error, message) -> None:
    """Each used to end in a bare NumPy or Python error that named no op (or, for the set
    and the bce target, to be taken where PyTorch refuses it)."""
    with pytest.raises(error, match=message):
        call()


def test_a_retained_interior_grad_left_from_replaced_data_stops_backward_first() -> None:
    """Interior gradients kept by retain_grad() add up across backwards too: a stale one
    is refused before the leaf's .grad changes."""
    a = tg.tensor([1.0], requires_grad=True)
    b = a.broadcast_to((2,))
    b.retain_grad()
    b.sum().backward(retain_graph=True)
    b.data = np.array([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"gradient of shape \(2,\) for a tensor of shape \(3,\)"):
        b.sum().backward(retain_graph=True)
    np.testing.assert_array_equal(a.grad.data, [2.0])


def test_setting_requires_grad_to_a_non_bool_names_the_attribute_once() -> None:
    t = tg.ones(2)
    with pytest.raises(TypeError, match=r"^requires_grad must be a bool, got 'no'$"):
        t.requires_grad = "no"
    assert t.requires_grad is False
