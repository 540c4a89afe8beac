"""micrograd.grad (functional and higher-order gradients) and grad mode (no_grad & co).

References are math worked out by hand; test_torch.py checks the same against PyTorch.
"""

from __future__ import annotations

import math
import threading

import pytest

import micrograd
from micrograd import Value

from .cases import SECOND, same_float

# ----------------------------------------------------------------------------- grad()


def test_grad_returns_gradients_and_touches_no_grad():
    x, w = Value(2.0), Value(-3.0)
    h = x * w
    y = (h + 1).tanh()
    gx, gw = micrograd.grad(y, [x, w])
    s = 1 - math.tanh(-5.0) ** 2
    assert gx.data == pytest.approx(s * -3.0, rel=1e-14)
    assert gw.data == pytest.approx(s * 2.0, rel=1e-14)
    for node in (x, w, h, y):
        assert node.grad == 0.0


def test_grad_leaves_existing_grads_alone():
    x = Value(1.5)
    y = x * x
    y.backward()
    micrograd.grad(y, [x])
    micrograd.grad(y, [x], create_graph=True)
    assert x.grad == 3.0 and y.grad == 1.0


def test_grad_with_respect_to_an_interior_node():
    x = Value(0.5)
    h = x * 3
    y = h * h
    (gh,) = micrograd.grad(y, [h])
    assert gh.data == 2 * 1.5


def test_grad_of_several_outputs_and_grad_outputs():
    x = Value(2.0)
    y1, y2 = x * x, x.exp()
    (g,) = micrograd.grad([y1, y2], [x])
    assert g.data == pytest.approx(4.0 + math.exp(2.0), rel=1e-14)
    (g,) = micrograd.grad([y1, y2], [x], grad_outputs=[2.0, -1.0])
    assert g.data == pytest.approx(2 * 4.0 - math.exp(2.0), rel=1e-14)
    with pytest.raises(ValueError, match="grad_outputs"):
        micrograd.grad([y1, y2], [x], grad_outputs=[1.0])


def test_allow_unused():
    x, z = Value(1.0), Value(2.0)
    y = x * 5
    with pytest.raises(RuntimeError, match="allow_unused"):
        micrograd.grad(y, [x, z])
    gx, gz = micrograd.grad(y, [x, z], allow_unused=True)
    assert gx.data == 5.0 and gz is None


def test_grad_of_a_non_node_is_a_type_error():
    x = Value(1.0)
    with pytest.raises(TypeError):
        micrograd.grad(x * 2, [3.0])


# ----------------------------------------------------------------------------- higher order


def _hessian(fn, xs):
    """Second derivatives with micrograd.grad(create_graph=True) then grad again."""
    inputs = [Value(x) for x in xs]
    y = fn(*inputs)
    first = micrograd.grad(y, inputs, create_graph=True)
    rows = []
    for g in first:
        row = micrograd.grad(g, inputs, allow_unused=True)
        rows.append([0.0 if h is None else h.data for h in row])
    return rows


@pytest.mark.parametrize("case, hessian", SECOND, ids=[str(c) for c, _ in SECOND])
def test_second_derivatives_match_hand_math(case, hessian):
    for xs in case.samples(3):
        got = _hessian(case.fn, xs)
        want = hessian(*xs)
        for i, (got_row, want_row) in enumerate(zip(got, want)):
            for j, (a, b) in enumerate(zip(got_row, want_row)):
                assert same_float(a, b, rel=1e-10, abs_=1e-12), (xs, i, j, a, b)


@pytest.mark.parametrize(
    "fn, third, x",
    [
        (lambda x: x**4, lambda x: 24 * x, 1.5),
        (lambda x: x.sin(), lambda x: -math.cos(x), 0.7),
        (lambda x: (2 * x).exp(), lambda x: 8 * math.exp(2 * x), -0.4),
        # tanh''' = -2 s (1 - 3 t²), with t = tanh x and s = 1 - t²
        (
            lambda x: x.tanh(),
            lambda x: -2 * (1 - math.tanh(x) ** 2) * (1 - 3 * math.tanh(x) ** 2),
            0.3,
        ),
        (lambda x: x.log(), lambda x: 2 / x**3, 1.7),
    ],
    ids=["x**4", "sin", "exp(2x)", "tanh", "log"],
)
def test_third_derivative(fn, third, x):
    v = Value(x)
    (g1,) = micrograd.grad(fn(v), [v], create_graph=True)
    (g2,) = micrograd.grad(g1, [v], create_graph=True)
    (g3,) = micrograd.grad(g2, [v])
    assert g3.data == pytest.approx(third(x), rel=1e-12)
    assert v.grad == 0.0


@pytest.mark.parametrize("x", [1.5, 2.0, 0.25])
def test_mixed_second_derivative_of_power_at_a_zero_exponent(x):
    """d/dy (y x^(y-1)) = x^(y-1) + y x^(y-1) ln x = 1/x at y = 0, in either order. The
    slope at y = 0 was a constant 0, cut off from y: "input 0 is not reached"."""
    X, Y = Value(x), Value(0.0)
    (gx,) = micrograd.grad(X**Y, [X], create_graph=True)
    assert micrograd.grad(gx, [Y])[0].data == pytest.approx(1 / x)
    (gy,) = micrograd.grad(X**Y, [Y], create_graph=True)
    assert micrograd.grad(gy, [X])[0].data == pytest.approx(1 / x)


def test_power_slope_at_a_zero_exponent_is_zero_for_a_base_whose_inverse_overflows():
    """x^0 is constant (math, and PyTorch): 0, not 0 · (1e-310)^-1 = 0 · inf = nan."""
    x, y = Value(1e-310), Value(0.0)
    (x**y).backward()
    assert x.grad == 0.0
    (g,) = micrograd.grad(x ** (y + 1), [x], create_graph=True)
    assert micrograd.grad(g, [x])[0].data == 0.0  # d²(x^1)/dx²: that product one order up


def test_backward_through_a_gradient_graph():
    # y = x³; g = dy/dx = 3x² as a graph; g.backward() puts d²y/dx² = 6x into x.grad.
    x = Value(1.25)
    (g,) = micrograd.grad(x**3, [x], create_graph=True)
    assert g.data == 3 * 1.25**2
    g.backward()
    assert x.grad == pytest.approx(6 * 1.25, rel=1e-15)


# ----------------------------------------------------------------------------- grad mode


def test_no_grad_context_manager_records_nothing():
    x, y = Value(2.0), Value(3.0)
    with micrograd.no_grad():
        assert not micrograd.is_grad_enabled()
        z = (x * y).tanh() + 1
        assert z._prev == () and z._op == ""
        assert z.data == pytest.approx(math.tanh(6.0) + 1)
    assert micrograd.is_grad_enabled()
    w = x * y
    assert w._prev == (x, y)


def test_no_grad_and_enable_grad_as_decorators():
    @micrograd.no_grad()
    def f(a):
        return a * a

    @micrograd.no_grad
    def g(a):
        return a + a

    @micrograd.enable_grad()
    def h(a):
        return a * 2

    x = Value(3.0)
    assert f(x)._prev == () and g(x)._prev == ()
    assert f(x).data == 9.0 and f.__name__ == "f"
    with micrograd.no_grad():
        assert h(x)._prev == (x,)
        assert (x * 2)._prev == ()
        with micrograd.enable_grad():
            assert (x * 2)._prev == (x,)
        assert (x * 2)._prev == ()
    assert micrograd.is_grad_enabled()


def test_set_grad_enabled_and_restoring_after_an_exception():
    x = Value(1.0)
    with micrograd.set_grad_enabled(False):
        assert (x + 1)._prev == ()
    with pytest.raises(KeyError):
        with micrograd.no_grad():
            raise KeyError("boom")
    assert micrograd.is_grad_enabled()
    assert (x + 1)._prev == (x,)


def test_set_grad_enabled_as_a_plain_call_and_as_a_decorator_like_pytorch():
    x = Value(1.0)
    try:
        micrograd.set_grad_enabled(False)  # a plain call switches at once
        assert not micrograd.is_grad_enabled() and (x + 1)._prev == ()
        with micrograd.enable_grad():
            micrograd.set_grad_enabled(False)
        assert not micrograd.is_grad_enabled()  # enable_grad restored what it found
    finally:
        micrograd.set_grad_enabled(True)
    assert micrograd.is_grad_enabled()

    off = micrograd.set_grad_enabled(False)  # a stored context manager, used twice
    micrograd.set_grad_enabled(True)
    for _ in range(2):
        with off:
            assert (x + 1)._prev == ()
        assert micrograd.is_grad_enabled()

    @micrograd.set_grad_enabled(False)
    def f():
        return micrograd.is_grad_enabled()

    assert micrograd.is_grad_enabled()  # decorating switched nothing
    assert f() is False and f() is False
    assert micrograd.is_grad_enabled()


def test_no_grad_on_a_generator_function_covers_its_body_only():
    @micrograd.no_grad()
    def values(x):
        while True:
            received = yield x * 2  # recorded or not: the decorator decides
            x = received if received is not None else x

    x = Value(3.0)
    gen = values(x)
    first = next(gen)
    assert first._prev == () and micrograd.is_grad_enabled()  # off inside, on between
    assert (x * 2)._prev == (x,)
    second = gen.send(Value(5.0))
    assert second.data == 10.0 and second._prev == ()
    gen.close()
    assert micrograd.is_grad_enabled()

    @micrograd.set_grad_enabled(False)
    def counts():
        yield micrograd.is_grad_enabled()
        return "done"

    assert list(counts()) == [False] and micrograd.is_grad_enabled()


def test_backward_still_works_inside_no_grad():
    x = Value(2.0)
    y = x * x
    with micrograd.no_grad():
        y.backward()
    assert x.grad == 4.0


def test_no_grad_is_thread_local():
    inside, release = threading.Event(), threading.Event()
    seen = {}

    def worker():
        with micrograd.no_grad():
            seen["enabled"] = micrograd.is_grad_enabled()
            seen["prev"] = (Value(1.0) * Value(2.0))._prev
            inside.set()
            release.wait(10)

    t = threading.Thread(target=worker)
    t.start()
    try:
        assert inside.wait(10)
        # The worker is inside no_grad right now; this thread is not.
        assert micrograd.is_grad_enabled()
        x, y = Value(1.0), Value(2.0)
        assert (x * y)._prev == (x, y)
    finally:
        release.set()
        t.join()
    assert seen == {"enabled": False, "prev": ()}


def test_a_new_thread_records_even_when_this_one_does_not():
    seen = {}

    def worker():
        x = Value(1.0)
        seen["enabled"] = micrograd.is_grad_enabled()
        seen["recorded"] = (x * 3)._prev == (x,)

    with micrograd.no_grad():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
        assert not micrograd.is_grad_enabled()
    assert seen == {"enabled": True, "recorded": True}
