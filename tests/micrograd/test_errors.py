"""What bad input gets (DESIGN.md, the Value rows): a clear exception, nothing changed."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from micrograd import Value, add_all, grad
from micrograd.nn import MLP, Layer


@pytest.mark.parametrize(
    "bad, type_name",
    [
        ("3", "str"),
        (None, "NoneType"),
        (1 + 2j, "complex"),
        (np.array([1.0, 2.0]), "ndarray"),
        (np.array(1.0), "ndarray"),  # even a 0-d array: a Value holds one float, not arrays
        ([1.0], "list"),
        (Value(1.0), "Value"),
    ],
    ids=["str", "None", "complex", "array", "0-d array", "list", "Value"],
)
def test_value_rejects_non_real_data(bad, type_name):
    with pytest.raises(TypeError, match=type_name):
        Value(bad)


@pytest.mark.parametrize(
    "good, expected",
    [(3, 3.0), (True, 1.0), (np.float64(2.5), 2.5), (np.int64(-4), -4.0), (Fraction(1, 4), 0.25)],
)
def test_value_accepts_real_numbers_as_floats(good, expected):
    v = Value(good)
    assert type(v.data) is float and v.data == expected


@pytest.mark.parametrize(
    "make, op, value",
    [
        (lambda: Value(-1).log(), "log", "-1"),
        (lambda: Value(-8) ** 0.5, "pow", "-8"),
        (lambda: Value(-8) ** Value(0.5), "pow", "-8"),
        (lambda: (-8) ** Value(1 / 3), "pow", "-8"),
        (lambda: Value(-1).sqrt(), "sqrt", "-1"),
        (lambda: Value(-1e-300).sqrt(), "sqrt", "-1e-300"),
    ],
    ids=["log(-1)", "(-8)**0.5", "(-8)**Value(0.5)", "-8**Value(1/3)", "sqrt(-1)", "sqrt(-tiny)"],
)
def test_domain_errors_name_the_op_and_value(make, op, value):
    with pytest.raises(ValueError) as info:
        make()
    message = str(info.value)
    assert op in message and value in message


def test_domain_errors_never_give_complex_numbers():
    # Python's own float ** gives a complex number here; the engine must not.
    assert isinstance((-8.0) ** 0.5, complex)
    for make in (lambda: Value(-8.0) ** 0.5, lambda: Value(-2.0) ** Value(1.5)):
        with pytest.raises(ValueError):
            make()


def test_negative_base_with_an_integer_exponent_is_fine():
    assert (Value(-2.0) ** 3).data == -8.0
    assert (Value(-2.0) ** Value(2.0)).data == 4.0
    assert ((-2) ** Value(3.0)).data == -8.0


@pytest.mark.parametrize(
    "make",
    [
        lambda: Value(1) + "a",
        lambda: "a" + Value(1),
        lambda: Value(1) * None,
        lambda: Value(1) - [1.0],
        lambda: Value(1) / "2",
        lambda: Value(1) ** "2",
        lambda: 1j * Value(1),
        lambda: Value(1) < "a",
    ],
    ids=["V+str", "str+V", "V*None", "V-list", "V/str", "V**str", "complex*V", "V<str"],
)
def test_unsupported_operands_are_type_errors(make):
    with pytest.raises(TypeError):
        make()


def test_add_all_rejects_non_numbers():
    with pytest.raises(TypeError, match="str"):
        add_all([Value(1.0), "x"])


def test_a_failed_op_changes_nothing():
    x = Value(-4.0)
    y = x * 2
    y.backward()
    with pytest.raises(ValueError):
        y.log()
    with pytest.raises(TypeError):
        y + "a"
    assert (x.data, x.grad, y.data, y.grad) == (-4.0, 2.0, -8.0, 1.0)
    assert y._prev == (x,)


def test_a_backward_that_fails_midway_changes_no_grad():
    # A node built by hand whose _backward raises fails when the pass reaches it, after
    # the nodes above it ran their rules: none of their .grad may show a half-done pass.
    x = Value(3.0)
    y = x * 2
    y.backward()  # every node shows this pass's gradient
    h = Value(9.0, (y,), "**2")

    def fail():
        raise RuntimeError("a rule that fails")

    h._backward = fail
    z = h * 2.0 + 1.0
    with pytest.raises(RuntimeError, match="a rule that fails"):
        z.backward()
    assert (z.grad, h.grad, y.grad, x.grad) == (0.0, 0.0, 1.0, 2.0)


def test_a_starting_gradient_that_is_not_a_number_names_the_call():
    """The message said "Value(...) takes a real number", naming a call the user never made."""
    x = Value(1.0)
    with pytest.raises(TypeError, match=r"backward: gradient takes a real number, got str"):
        (x * 2).backward("x")
    with pytest.raises(TypeError, match=r"grad: grad_outputs\[0\] takes a real number, got str"):
        grad(x * 2, [x], grad_outputs=["a"])
    assert x.grad == 0.0


def test_numpy_bools_are_numbers_as_python_bools_are():
    """np.bool_ is no numbers.Real: Value(np.bool_(True)) and add_all with one raised."""
    assert Value(np.bool_(True)).data == 1.0
    assert type(Value(np.bool_(True)).data) is float
    assert add_all([Value(1.0), np.bool_(True)]).data == 2.0
    assert (np.bool_(True) * Value(3.0)).data == 3.0
    with pytest.raises(TypeError, match="ndarray"):
        Value(np.array(True))


@pytest.mark.parametrize("bad", [None, "0", [0.0]], ids=["None", "str", "list"])
def test_a_leaf_grad_that_is_not_a_number_stops_backward_before_any_grad_changes(bad):
    """PyTorch's habit of clearing a gradient with None: backward used to give the other
    leaves their gradients, then fail on ``None += float`` without naming the Value."""
    a, b, c = Value(1.0), Value(2.0), Value(3.0)
    y = a * b + c
    b.grad = bad
    with pytest.raises(TypeError, match=r"Value\(data=2.0.* has a .grad of type \w+, not a number"):
        y.backward()
    assert (a.grad, b.grad, c.grad, y.grad) == (0.0, bad, 0.0, 0.0)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: MLP(2, 3), TypeError, "MLP: nouts must be a list of layer sizes, got 3"),
        (lambda: MLP(-1, [2]), ValueError, "MLP: a layer size must not be negative, got -1"),
        (lambda: MLP(2.5, [2]), TypeError, "MLP: a layer size must be an int, got 2.5"),
        (lambda: MLP(2, [1], activation="gelu"), ValueError, "activation must be one of"),
        (lambda: Layer(2, -3), ValueError, "Layer: nout must not be negative"),
        (lambda: Layer(-1, 0), ValueError, "Layer: nin must not be negative"),
        (lambda: Value(10**400), OverflowError, r"within a float's range .* this int is beyond"),
    ],
    ids=[
        "nouts int",
        "negative",
        "float size",
        "activation",
        "negative nout",
        "negative nin",
        "huge int",
    ],  # fmt: skip
)
def test_bad_sizes_and_numbers_are_named(call, error, message):
    """range(-1) made a neuron without weights silently; a one-layer MLP took any activation
    name (only hidden layers use it); the others were bare Python errors."""
    with pytest.raises(error, match=message):
        call()
