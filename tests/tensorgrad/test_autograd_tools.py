"""``tg.gradcheck`` (it passes for correct gradients and names the input, index and both values
for a wrong one) and ``tg.detect_anomaly`` as a context manager and decorator."""

from __future__ import annotations

import re
import sys

import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad.tensor import record

NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def _numbers_after(message: str, word: str) -> list[float]:
    """The numbers in ``message`` after ``word`` (a NumPy scalar's repr counts as its value)."""
    tail = re.sub(r"np\.float\d+\(", "(", message.split(word, 1)[1])
    return [float(n) for n in NUMBER.findall(tail)]


# ----------------------------------------------------------------------------- gradcheck passes


@pytest.mark.parametrize(
    "fn, shapes",
    [
        (lambda x: (x * x).sin().sum(), [(3, 2)]),
        (lambda x, y: (x @ y).tanh(), [(2, 3), (3, 4)]),  # a non-scalar output
        (lambda x, y: tg.maximum(x, 0.1) * y.exp().mean(axis=0), [(2, 3), (4, 3)]),
        (lambda x: x.softmax(axis=0).log() * x, [(4,)]),
        (lambda x: x.reshape(3, 2).T[::-1, [0, 0, 2]].logsumexp(axis=1), [(6,)]),
        (lambda x: x.var(axis=(0, 1), keepdims=True) + x.std(), [(2, 3)]),
        (lambda x: x.sigmoid().sqrt().abs(), [()]),
    ],
)
def test_gradcheck_passes_for_correct_functions(fn, shapes) -> None:
    rng = np.random.default_rng(len(shapes))  # per case: the same inputs in any test order
    inputs = [tg.tensor(rng.uniform(0.2, 1.5, s), requires_grad=True) for s in shapes]
    before = [x.data.copy() for x in inputs]
    assert tg.gradcheck(fn, inputs) is True
    for x, b in zip(inputs, before):
        np.testing.assert_array_equal(x.data, b)  # the inputs are left as they were
        assert x.grad is None


def test_gradcheck_accepts_one_tensor_and_float32_inputs() -> None:
    x = tg.tensor(np.array([0.5, 1.5], dtype=np.float32), requires_grad=True)
    assert tg.gradcheck(lambda t: t.exp() * t, x)  # checked in float64
    assert x.dtype == np.float32


def test_gradcheck_skips_inputs_that_do_not_require_grad() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    c = tg.tensor([3.0, 4.0])
    assert tg.gradcheck(lambda a, b: a * b, [x, c])


def test_gradcheck_passes_inputs_without_grad_as_they_are() -> None:
    """An integer index tensor stays integer (a float64 copy would be no index at all)."""
    x = tg.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    idx = tg.tensor([2, 0], dtype=np.int64)
    seen = []

    def pick(a, i):
        seen.append(i)
        return a[i]

    assert tg.gradcheck(pick, [x, idx])
    assert all(i is idx for i in seen)


def test_gradcheck_needs_an_input_that_requires_grad_and_a_tensor_output() -> None:
    with pytest.raises(ValueError, match="requires grad"):
        tg.gradcheck(lambda a: a * 2, [tg.tensor([1.0])])
    with pytest.raises(TypeError, match="Tensor"):
        tg.gradcheck(lambda a: 3.0, [tg.tensor([1.0], requires_grad=True)])


# ----------------------------------------------------------------------------- gradcheck fails


def square_zero_at(bad_index):
    """x², whose rule (deliberately wrong) gives 0 instead of 2x at ``bad_index``."""

    def wrong_rule(g, out, args, ctx, needs):
        grad = g * 2 * args[0]
        grad[bad_index] = 0.0
        return (grad,)

    return lambda x: record(x.data**2, (x,), "bad", wrong_rule)


def test_gradcheck_error_names_the_index_and_both_values() -> None:
    a = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    x = tg.tensor(a, requires_grad=True)
    with pytest.raises(tg.GradcheckError) as info:
        tg.gradcheck(square_zero_at((1, 2)), [x])
    message = str(info.value)
    assert "input 0" in message
    assert "(1, 2)" in message
    analytic, numeric = _numbers_after(message, "(1, 2)")[:2]
    assert analytic == 0.0
    # numeric: w · 2x = w · 12 for the check's weight w in [0.5, 1.5]
    assert 0.5 * 12 - 1e-4 <= numeric <= 1.5 * 12 + 1e-4
    assert isinstance(info.value, AssertionError)  # pytest shows it as a failed check


def test_gradcheck_checks_a_transposed_input() -> None:
    # A Fortran-ordered input: every element must still be nudged (a reshape would copy).
    x = tg.tensor(np.arange(1.0, 7.0).reshape(2, 3).T, requires_grad=True)
    assert tg.gradcheck(lambda t: t * t, [x])
    with pytest.raises(tg.GradcheckError, match=r"input 0 \(shape \(3, 2\)\), index \(2, 1\)"):
        tg.gradcheck(square_zero_at((2, 1)), [x])


def test_gradcheck_error_sign_flip() -> None:
    def flipped(x):
        return record(
            np.sin(x.data), (x,), "bad_sin", lambda g, out, args, ctx, n: (-g * np.cos(args[0]),)
        )

    x = tg.tensor([0.3], requires_grad=True)
    with pytest.raises(tg.GradcheckError) as info:
        tg.gradcheck(flipped, [x])
    analytic, numeric = _numbers_after(str(info.value), "(0,)")[:2]
    np.testing.assert_allclose(analytic, -numeric, rtol=1e-6)
    assert numeric > 0  # w cos(0.3), hand math


def test_gradcheck_error_names_the_second_input() -> None:
    def bad_mul(a, b):  # right for a, wrong (a instead of... 2a) for b
        rule = lambda g, out, args, ctx, n: (g * args[1], g * 2 * args[0])  # noqa: E731
        return record(a.data * b.data, (a, b), "bad_mul", rule)

    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = tg.tensor([3.0, 4.0], requires_grad=True)
    with pytest.raises(tg.GradcheckError, match=r"input 1.*\(0,\)"):
        tg.gradcheck(bad_mul, [x, y])


def test_gradcheck_error_names_the_input_by_its_position_in_inputs() -> None:
    """With a constant first input, the wrong gradient belongs to inputs[1]: say "input 1"."""
    c = tg.tensor([[1.0, 2.0]])
    x = tg.tensor([[3.0, 4.0]], requires_grad=True)
    with pytest.raises(tg.GradcheckError, match=r"input 1\b"):
        tg.gradcheck(lambda a, b: a + square_zero_at((0, 1))(b), [c, x])


# ----------------------------------------------------------------------------- detect_anomaly


def _log_of_negative():
    x = tg.tensor([-1.0, 1.0], requires_grad=True)
    return x.log()


def test_gradcheck_checks_a_function_that_takes_a_gradient_itself() -> None:
    """Second derivatives (PyTorch's gradgradcheck): fn calls tg.grad, which needs grad
    mode on while the finite differences run fn too. d/dx 3x² = 6x."""
    x = tg.tensor([0.5, -1.2, 2.0], requires_grad=True)

    def first_derivative(t):
        return tg.grad((t**3).sum(), [t], create_graph=True)[0]

    assert tg.gradcheck(first_derivative, [x])
    with tg.no_grad():  # a caller's grad mode does not matter
        assert tg.gradcheck(first_derivative, [x])
        assert tg.gradcheck(lambda t: (t * t).sum(), [x])
    with pytest.raises(tg.GradcheckError, match=r"index \(0,\): analytic .*0.0.* != numeric"):
        tg.gradcheck(lambda t: first_derivative(t).detach(), [x])  # gradient cut: 0 != 6x


def test_gradcheck_of_an_output_without_a_graph() -> None:
    """A constant output passes (its gradient is 0 both ways); a detach() that hides a
    dependence fails, naming the values, not a RuntimeError from grad()."""
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    assert tg.gradcheck(lambda t: tg.tensor([3.0, 4.0]), [x])
    with pytest.raises(tg.GradcheckError, match=r"input 0 .* analytic .*0.0.* != numeric"):
        tg.gradcheck(lambda t: t.detach() * 2, [x])


def test_detect_anomaly_names_a_user_file_whose_path_starts_like_the_package() -> None:
    """``<repo>/tensorgrad_demo.py`` is the user's file, not part of ``<repo>/tensorgrad``."""
    import types

    from tensorgrad.tensor import _PACKAGE_DIR

    user_file = _PACKAGE_DIR + "_demo.py"  # a function whose frames claim that file
    code = _log_of_negative.__code__.replace(co_filename=user_file)
    in_user_file = types.FunctionType(code, _log_of_negative.__globals__)
    with tg.detect_anomaly(), pytest.raises(FloatingPointError, match=re.escape(user_file)):
        in_user_file()


def test_detect_anomaly_context_manager_on_and_off() -> None:
    with np.errstate(invalid="ignore"):
        assert np.isnan(_log_of_negative().data[0])  # off: NumPy semantics
        with tg.detect_anomaly() as mode:
            assert isinstance(mode, tg.detect_anomaly)
            with pytest.raises(FloatingPointError, match="log"):
                _log_of_negative()
        assert np.isnan(_log_of_negative().data[0])  # off again


def test_detect_anomaly_restored_after_an_exception_and_nested() -> None:
    with np.errstate(invalid="ignore"):
        with pytest.raises(KeyError), tg.detect_anomaly():
            raise KeyError("boom")
        _log_of_negative()  # no raise: the mode was restored
        with tg.detect_anomaly():
            with tg.detect_anomaly():
                pass
            with pytest.raises(FloatingPointError):  # still on after the inner one exits
                _log_of_negative()
        _log_of_negative()


def test_one_detect_anomaly_instance_nested_and_reused() -> None:
    mode = tg.detect_anomaly()
    with mode:
        with mode:
            pass
        with pytest.raises(FloatingPointError):  # still on inside the outer block
            _log_of_negative()

    @tg.detect_anomaly()
    def recurse(n):
        return recurse(n - 1) if n else None

    recurse(2)
    with np.errstate(invalid="ignore"):
        assert np.isnan(_log_of_negative().data[0])  # off again after both


def test_detect_anomaly_as_decorator() -> None:
    @tg.detect_anomaly()
    def f():
        return _log_of_negative()

    with pytest.raises(FloatingPointError, match="test_autograd_tools.py"):
        f()
    with np.errstate(invalid="ignore"):
        _log_of_negative()


def test_detect_anomaly_as_decorator_of_a_generator() -> None:
    """It holds while the generator's body runs, and not in between, in the caller."""
    from tensorgrad.tensor import anomaly_mode

    @tg.detect_anomaly()
    def gen():
        yield anomaly_mode.enabled
        yield _log_of_negative()

    steps = gen()
    assert next(steps) is True
    assert anomaly_mode.enabled is False
    with pytest.raises(FloatingPointError, match="test_autograd_tools.py"):
        next(steps)


def test_detect_anomaly_passes_finite_graphs_through() -> None:
    x = tg.tensor([0.5, 2.0], requires_grad=True)
    with tg.detect_anomaly():
        y = (x.log() * x.exp()).sum()
        y.backward()
    np.testing.assert_allclose(
        x.grad.data, np.exp([0.5, 2.0]) * (1 / np.array([0.5, 2.0]) + np.log([0.5, 2.0]))
    )


@pytest.mark.parametrize("constant", [np.inf, float("nan"), -np.inf], ids=repr)
def test_detect_anomaly_counts_a_scalar_operand_as_an_input(constant) -> None:
    """x + inf made its inf from an input that was not finite, as x + tg.tensor(inf) does;
    the same op with a finite scalar that overflows is reported."""
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with tg.detect_anomaly():
        for y in (x + constant, constant * x, x - tg.tensor(constant)):
            assert not np.isfinite(y.data).all()
        with pytest.raises(FloatingPointError, match=r"forward of '\*'.*from finite inputs"):
            x * 1e308 * 10.0


def test_detect_anomaly_in_backward_of_a_custom_op() -> None:
    def inf_grad(x):
        return record(x.data * 1.0, (x,), "inf_grad", lambda g, out, args, ctx, n: (g * np.inf,))

    x = tg.tensor([1.0], requires_grad=True)
    with tg.detect_anomaly():
        y = inf_grad(x).sum()
        with pytest.raises(FloatingPointError, match="inf_grad"):
            y.backward()


def test_detect_anomaly_with_create_graph_checks_what_a_rule_returns() -> None:
    # pow's rule makes 0 ** -1 = inf at x = 0 and masks it with where: no false alarm.
    with tg.detect_anomaly(), np.errstate(divide="ignore", invalid="ignore"):
        x = tg.tensor([0.0, 1.0], requires_grad=True)
        (g,) = tg.grad((x ** tg.tensor([0.0, 2.0])).sum(), [x], create_graph=True)
        np.testing.assert_array_equal(g.data, [0.0, 2.0])  # d(x⁰)/dx = 0, d(x²)/dx = 2x
        root = x.sqrt()
        line = sys._getframe().f_lineno - 1
        with pytest.raises(FloatingPointError, match=rf"backward of 'sqrt'.*:{line}\)"):
            tg.grad(root.sum(), [x], create_graph=True)  # 1 / (2 sqrt 0): a real inf


def test_detect_anomaly_backward_ignores_inf_that_came_in_with_the_data() -> None:
    with tg.detect_anomaly():
        x = tg.tensor([np.inf, 1.0])  # a constant holding inf
        w = tg.tensor([1.0, 2.0], requires_grad=True)
        (x * w).sum().backward()
    np.testing.assert_array_equal(w.grad.data, [np.inf, 1.0])  # as without anomaly mode


def test_grad_runs_only_the_rules_between_outputs_and_inputs() -> None:
    # As torch.autograd.grad: the part of the graph below the inputs, or off their paths,
    # is not run -- here it has been freed by a backward, so running it would raise.
    calls = []

    def spy(x):
        def rule(g, out, args, ctx, needs):
            calls.append(1)
            return (g,)

        return record(x.data.copy(), (x,), "spy", rule)

    x = tg.tensor([1.0, 2.0], requires_grad=True)
    h = spy(x).exp()
    h.sum().backward()  # frees the graph below h
    calls.clear()
    (gh,) = tg.grad((h * h).sum(), [h])
    np.testing.assert_allclose(gh.data, 2 * np.exp([1.0, 2.0]), rtol=1e-12)
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    (ga,) = tg.grad((a * 2).sum() + h.sum(), [a])  # h's freed branch is off a's path
    np.testing.assert_array_equal(ga.data, [2.0, 2.0])
    assert calls == []
