"""Every Value op: forward against Python's math, gradients against central differences.

The PyTorch comparisons of the same table live in test_torch.py.
"""

from __future__ import annotations

import math

import pytest

from micrograd import Value

from .cases import OPS, central_difference, same_float


@pytest.mark.parametrize("case", OPS, ids=str)
def test_forward_matches_math(case):
    for xs in case.samples():
        out = case.fn(*map(Value, xs))
        assert isinstance(out, Value)
        assert type(out.data) is float
        expected = case.on_floats(*xs)
        assert same_float(out.data, expected, rel=1e-14, abs_=1e-14), (xs, out.data, expected)


@pytest.mark.parametrize("case", OPS, ids=str)
def test_gradient_matches_central_differences(case):
    for xs in case.samples():
        inputs = [Value(x) for x in xs]
        case.fn(*inputs).backward()
        for i, v in enumerate(inputs):
            assert type(v.grad) is float
            fd = central_difference(case.on_floats, xs, i)
            assert same_float(v.grad, fd, rel=1e-6, abs_=1e-8), (xs, i, v.grad, fd)


# ----------------------------------------------------------------------------- reuse


def test_a_plus_a_counts_both_slots():
    a = Value(3.0)
    b = a + a
    assert b._prev == (a, a)
    b.backward()
    assert a.grad == 2.0


def test_a_times_a():
    a = Value(-3.0)
    (a * a).backward()
    assert a.grad == -6.0  # d(a²)/da = 2a


def test_self_cancelling_expressions():
    a = Value(1.7)
    (a - a).backward()
    assert a.grad == 0.0
    b = Value(1.7)
    (b / b).backward()
    assert b.grad == pytest.approx(0.0, abs=1e-15)


def test_diamond():
    # d = (2a) * (a + 3): dd/da = 2(a + 3) + 2a = 4a + 6
    a = Value(1.5)
    b = a * 2
    c = a + 3
    d = b * c
    d.backward()
    assert d.data == 13.5
    assert a.grad == 4 * 1.5 + 6
    assert b.grad == c.data and c.grad == b.data  # every node shows its gradient


def test_paths_of_unequal_length_all_arrive_before_the_node_runs():
    # h reaches y directly and through a chain of three ops: its rule must wait for both.
    # y = cos(sin(e^h))·h + h, h = tanh x
    x = Value(0.4)
    h = x.tanh()
    y = h.exp().sin().cos() * h + h
    y.backward()
    hv = math.tanh(0.4)
    e = math.exp(hv)
    dy_dh = -math.sin(math.sin(e)) * math.cos(e) * e * hv + math.cos(math.sin(e)) + 1
    assert h.grad == pytest.approx(dy_dh, rel=1e-14)
    assert x.grad == pytest.approx(dy_dh * (1 - hv * hv), rel=1e-14)


def test_deep_reuse_sums_every_path():
    # y = x·x·x·x built from one node four times: dy/dx = 4x³
    x = Value(1.3)
    y = x * x * x * x
    y.backward()
    assert x.grad == pytest.approx(4 * 1.3**3, rel=1e-14)


def test_wide_fan_out():
    x = Value(0.5)
    y = sum(x * float(k) for k in range(100))
    y.backward()
    assert x.grad == sum(range(100))


# ----------------------------------------------------------------------------- IEEE numerics


@pytest.mark.parametrize("x", [1000.0, -1000.0, 710.0, -745.0, 1e308, -1e308])
def test_saturating_ops_stay_finite(x):
    # tanh and sigmoid are bounded and flat far out: value ±1 or 0/1 (up to a subnormal
    # at -745, where sigmoid = e^-745 = 5e-324), gradient 0.
    for op, value in [("tanh", math.copysign(1.0, x)), ("sigmoid", 1.0 if x > 0 else 0.0)]:
        v = Value(x)
        out = getattr(v, op)()
        out.backward()
        assert out.data == pytest.approx(value, abs=1e-300)
        assert v.grad == pytest.approx(0.0, abs=1e-300)
        assert math.isfinite(v.grad)


def test_exp_overflows_to_inf_without_raising():
    big, tiny = Value(1000.0), Value(-1000.0)
    y = big.exp()
    y.backward()
    assert y.data == math.inf and big.grad == math.inf
    z = tiny.exp()
    z.backward()
    assert z.data == 0.0 and tiny.grad == 0.0


def test_division_by_zero_is_ieee():
    assert (1 / Value(0.0)).data == math.inf
    assert (-1 / Value(0.0)).data == -math.inf
    assert (Value(2.0) / 0).data == math.inf
    assert (Value(2.0) / Value(-0.0)).data == -math.inf
    assert math.isnan((Value(0.0) / 0.0).data)
    x = Value(0.0)
    (1 / x).backward()
    assert x.grad == -math.inf  # d(1/x)/dx = -1/x²


@pytest.mark.parametrize(
    "c, x, power, slope",
    [
        (0.0, -1.0, math.inf, -math.inf),  # d(c^x)/dx = c^x · log c = inf · -inf
        (-0.0, -1.0, -math.inf, math.inf),  # an odd power of -0: -inf · -inf
        (-0.0, -2.0, math.inf, -math.inf),
        (-0.0, 2.0, 0.0, 0.0),  # the limit of c^x log c as c -> 0, for x > 0
    ],
)
def test_zero_to_a_variable_power_by_hand(c, x, power, slope):
    """The gradient's sign follows c^x; Value ** Value takes the same rule."""
    for constant in (c, Value(c)):
        v = Value(x)
        y = constant**v
        y.backward()
        assert y.data == power and v.grad == slope


def test_relu_gives_no_gradient_where_it_is_flat_even_an_infinite_one():
    """0 outright, as PyTorch's threshold_backward, not 0 · inf = nan; nan passes it on."""
    for data, slope in [(-1.0, 0.0), (0.0, 0.0), (2.0, math.inf)]:
        x = Value(data)
        x.relu().backward(math.inf)
        assert x.grad == slope
    x = Value(math.nan)
    x.relu().backward(3.0)
    assert x.grad == 3.0


def test_edge_values_by_hand():
    assert (Value(0.0) ** -1).data == math.inf
    assert Value(0.0).log().data == -math.inf
    assert Value(0.0).sqrt().data == 0.0
    assert (Value(-10.0) ** 401).data == -math.inf  # overflow keeps the sign of an odd power
    assert (Value(10.0) ** 400).data == math.inf
    assert math.isnan(Value(math.inf).sin().data)
    assert math.isnan(Value(math.nan).log().data)
    x = Value(0.0)
    (x**0).backward()
    assert x.grad == 0.0  # x⁰ is constant (PyTorch agrees; see test_torch.py)
