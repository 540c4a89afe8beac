"""randint, multinomial and one_hot: the makemore lectures' sampling and encoding."""

import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad.nn import functional as F

from ..oracle import torch


def test_one_hot_matches_torch():
    labels = np.array([[0, 3], [2, 2]])
    for n in (-1, 6):
        ours = F.one_hot(labels, n)
        ref = torch.nn.functional.one_hot(torch.tensor(labels), n)
        assert ours.dtype == np.int64 and ours.shape == tuple(ref.shape)
        np.testing.assert_array_equal(ours.data, ref.numpy())
    assert F.one_hot(tg.tensor([1, 0]), 2).float().dtype == np.float32  # makemore's .float()


@pytest.mark.parametrize(
    "labels, n, error, message",
    [
        ([0, 5], 3, IndexError, r"label 5 is out of range for 3 classes"),
        ([-1], -1, IndexError, "label -1 is negative"),
        ([0.5], -1, ValueError, "labels must be integers, got 0.5"),
        ([], -1, ValueError, "no labels to take num_classes from"),
        ([0], -3, ValueError, "num_classes must be >= 0"),
    ],
)
def test_one_hot_names_bad_labels(labels, n, error, message):
    with pytest.raises(error, match=message):
        F.one_hot(labels, n)


def test_randint_draws_every_value_of_its_range_uniformly():
    x = tg.randint(3, 7, (40_000,), rng=0)
    assert x.dtype == np.int64 and x.shape == (40_000,)
    counts = np.bincount(x.data - 3, minlength=4)
    assert counts.sum() == 40_000 and set(np.unique(x.data)) == {3, 4, 5, 6}
    # each count is binomial(40000, 1/4): sd ~87, so 5 sd is 433
    assert np.abs(counts - 10_000).max() < 433
    assert tg.randint(5, size=(2, 3), rng=1).shape == (2, 3) and tg.randint(5, rng=1).shape == ()
    with pytest.raises(ValueError, match=r"low must be below high, got \[4, 4\)"):
        tg.randint(4, 4)


def test_multinomial_follows_the_weights():
    """Rows need not sum to 1; the frequencies follow them (binomial bounds, 5 sd)."""
    w = tg.tensor([[1.0, 0.0, 3.0], [0.0, 2.0, 2.0]])
    draws = tg.multinomial(w, 20_000, replacement=True, rng=0)
    assert draws.shape == (2, 20_000) and draws.dtype == np.int64
    freq = np.stack([np.bincount(row, minlength=3) for row in draws.data]) / 20_000
    np.testing.assert_allclose(freq, [[0.25, 0, 0.75], [0, 0.5, 0.5]], atol=5 * 0.0036)
    picks = tg.multinomial(tg.tensor([0.2, 0.5, 0.3]), 3, rng=1).data  # no replacement
    assert sorted(picks) == [0, 1, 2]
    tg.manual_seed(5)
    first = tg.multinomial(tg.tensor([0.5, 0.5]), 4, replacement=True)
    tg.manual_seed(5)
    np.testing.assert_array_equal(first.data, tg.multinomial(tg.tensor([0.5, 0.5]), 4, True).data)


@pytest.mark.parametrize(
    "probs, n, message",
    [
        ([0.5, -0.1], 1, "finite and >= 0"),
        ([0.0, 0.0], 1, "a row of probs sums to 0"),
        ([1.0, 0.0], 2, "2 samples without replacement"),
        ([[[1.0]]], 1, "1-D or 2-D"),
        ([1.0], 0, "num_samples must be >= 1"),
    ],
)
def test_multinomial_names_bad_input(probs, n, message):
    with pytest.raises(ValueError, match=message):
        tg.multinomial(tg.tensor(probs), n)


def test_a_vocabulary_sized_one_hot_takes_memory_for_its_result_only():
    """It indexed a num_classes² identity matrix: 17.5 GB for GPT-2's 50,257 classes, and a
    MemoryError for 200,000."""
    hot = F.one_hot(np.array([1, 199_999]), 200_000)
    assert hot.shape == (2, 200_000) and hot.data.sum() == 2 and hot.data[1, -1] == 1
    with pytest.raises(ValueError, match="labels must be integers, got dtype bool"):
        F.one_hot(np.array([True, False]))  # it said num_classes -1 was not >= 0


def test_randint_takes_torchs_two_argument_form():
    """nanoGPT's torch.randint(len(data) - block_size, (batch_size,))."""
    x = tg.randint(10, (32,), rng=0)
    assert x.shape == (32,) and x.dtype == np.int64 and 0 <= x.data.min() and x.data.max() < 10
    assert x.shape == tuple(torch.randint(10, (32,)).shape)


def test_multinomial_of_no_rows_or_of_huge_weights():
    assert tg.multinomial(np.ones((0, 4)), 2).shape == (0, 2)
    draws = tg.multinomial(np.array([1e308, 1e308]), 1000, replacement=True, rng=0).data
    assert set(np.unique(draws)) == {0, 1}  # the weights' sum overflowed
