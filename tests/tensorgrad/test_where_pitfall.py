"""``where``'s documented pitfall: the unchosen branch's nan gradient leaks through 0 · nan."""

import numpy as np

import tensorgrad as tg


def test_unchosen_branch_with_nan_gradient_poisons_the_result():
    x = tg.tensor([4.0, -1.0], requires_grad=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        y = tg.where(x.data > 0, x.sqrt(), 0.0)
        y.sum().backward()
    # Chosen branch at x = 4: d sqrt(x)/dx = 1 / (2·2) = 0.25 (hand math).
    assert x.grad.data[0] == 0.25
    # At x = -1 the zero branch is chosen, yet sqrt's rule gave nan and 0 · nan = nan.
    assert np.isnan(x.grad.data[1])


def test_the_safe_pattern_from_the_docstring_gives_the_true_gradient():
    x = tg.tensor([4.0, -1.0], requires_grad=True)
    positive = x.data > 0
    y = tg.where(positive, tg.where(positive, x, 1.0).sqrt(), 0.0)
    y.sum().backward()
    # where(x > 0, sqrt(x), 0) has slope 1/(2 sqrt x) for x > 0 and 0 for x < 0.
    np.testing.assert_array_equal(x.grad.data, [0.25, 0.0])
    np.testing.assert_array_equal(y.data, [2.0, 0.0])
