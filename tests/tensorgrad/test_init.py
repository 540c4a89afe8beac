"""Initialisation: PyTorch's fans and gains, and the statistics of every init function."""

import math

import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad.nn import init

from ..oracle import torch

SHAPE = (400, 300)  # 120,000 draws: mean/std estimates good to well under 1%


def _uniform_checks(a, bound):
    """Draws from U(-bound, bound): range, mean and std, with tolerances that can fail."""
    n = a.size
    assert np.abs(a).max() <= bound
    assert np.abs(a).max() > 0.999 * bound  # really fills the interval
    std = bound / math.sqrt(3)
    assert abs(a.mean()) < 5 * std / math.sqrt(n)
    assert abs(a.std() / std - 1) < 0.01


def _normal_checks(a, mean, std):
    n = a.size
    assert abs(a.mean() - mean) < 5 * std / math.sqrt(n)
    assert abs(a.std() / std - 1) < 0.01
    assert 3.5 * std < np.abs(a - mean).max() < 6 * std  # normal tails, not uniform


@pytest.mark.parametrize("shape", [(5, 3), (7, 4, 3), (2, 6, 3, 5), (1, 1), (3, 0), (10, 20, 1, 1)])
def test_fans_match_torch(shape):
    ours = init._fans(np.zeros(shape))
    theirs = torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))
    assert ours == theirs


def test_fans_need_two_dims():
    with pytest.raises(ValueError, match="at least 2 dims"):
        init.xavier_uniform_(tg.Parameter(np.zeros(5)))


@pytest.mark.parametrize(
    "args",
    [
        ("linear",),
        ("sigmoid",),
        ("tanh",),
        ("relu",),
        ("leaky_relu",),
        ("leaky_relu", 0.2),
        ("leaky_relu", math.sqrt(5)),
        ("selu",),
        ("conv2d",),
        ("conv_transpose1d",),
        ("conv_transpose3d",),
    ],
)
def test_gain_matches_torch(args):
    assert init.calculate_gain(*args) == pytest.approx(torch.nn.init.calculate_gain(*args))


def test_unknown_gain():
    with pytest.raises(ValueError, match="swish"):
        init.calculate_gain("swish")


def test_uniform_and_normal():
    _uniform_checks(init.uniform_(tg.Parameter(np.zeros(SHAPE)), -2.0, 2.0, rng=0).data, 2.0)
    a = init.uniform_(tg.Parameter(np.zeros(SHAPE)), 3.0, 5.0, rng=0).data
    _uniform_checks(a - 4.0, 1.0)
    _normal_checks(init.normal_(tg.Parameter(np.zeros(SHAPE)), 1.5, 0.3, rng=0).data, 1.5, 0.3)


def test_constant_zeros_ones_keep_dtype_and_identity():
    p = tg.Parameter(np.full((3, 2), 7.0, np.float32))
    assert init.zeros_(p) is p and (p.data == 0).all() and p.dtype == np.float32
    assert (init.ones_(p).data == 1).all()
    assert (init.constant_(p, 0.25).data == 0.25).all()
    arr = np.zeros(4)
    assert init.ones_(arr) is arr and (arr == 1).all()


@pytest.mark.parametrize("gain", [1.0, 5.0 / 3])
@pytest.mark.parametrize("shape", [SHAPE, (300, 40, 3, 3)])
def test_xavier(gain, shape):
    fan_in, fan_out = init._fans(np.zeros(shape))
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    u = init.xavier_uniform_(tg.Parameter(np.zeros(shape)), gain=gain, rng=1).data
    _uniform_checks(u, math.sqrt(3) * std)
    _normal_checks(
        init.xavier_normal_(tg.Parameter(np.zeros(shape)), gain=gain, rng=1).data, 0, std
    )
    # PyTorch's draws have the same spread
    t = torch.nn.init.xavier_uniform_(torch.zeros(shape, dtype=torch.float64), gain=gain)
    assert abs(t.abs().max().item() / np.abs(u).max() - 1) < 0.001
    assert abs(t.std().item() / u.std() - 1) < 0.02


@pytest.mark.parametrize(
    "a, mode, nonlinearity",
    [
        (0, "fan_in", "leaky_relu"),
        (math.sqrt(5), "fan_in", "leaky_relu"),
        (0, "fan_out", "relu"),
        (0.1, "fan_out", "leaky_relu"),
        (0, "fan_in", "tanh"),
    ],
)
def test_kaiming(a, mode, nonlinearity):
    shape = (200, 600)
    fan = 600 if mode == "fan_in" else 200
    std = init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    p = tg.Parameter(np.zeros(shape))
    u = init.kaiming_uniform_(p, a=a, mode=mode, nonlinearity=nonlinearity, rng=2).data
    _uniform_checks(u, math.sqrt(3) * std)
    n = init.kaiming_normal_(p, a=a, mode=mode, nonlinearity=nonlinearity, rng=2).data
    _normal_checks(n, 0, std)
    t = torch.zeros(shape, dtype=torch.float64)
    torch.nn.init.kaiming_normal_(t, a=a, mode=mode, nonlinearity=nonlinearity)
    assert abs(t.std().item() / std - 1) < 0.02


def test_kaiming_bad_mode_and_empty_tensors():
    with pytest.raises(ValueError, match="fan_avg"):
        init.kaiming_uniform_(tg.Parameter(np.zeros((2, 2))), mode="fan_avg")
    empty = tg.Parameter(np.zeros((0, 3)))
    assert init.kaiming_uniform_(empty) is empty  # PyTorch leaves empty tensors alone


def test_init_rejects_non_float_and_non_tensors():
    with pytest.raises(TypeError, match="floating"):
        init.uniform_(np.zeros(3, dtype=np.int64))
    with pytest.raises(TypeError, match="Tensor or ndarray"):
        init.uniform_([0.0, 0.0])


def test_linear_default_init_matches_torch_distribution():
    """W and b ~ U(±1/sqrt(in)), as torch.nn.Linear."""
    lin = tg.nn.Linear(500, 400, rng=0)
    bound = 1 / math.sqrt(500)
    _uniform_checks(lin.weight.data, bound)
    assert np.abs(lin.bias.data).max() <= bound
    assert np.abs(lin.bias.data).max() > 0.98 * bound
    ref = torch.nn.Linear(500, 400)
    assert abs(ref.weight.abs().max().item() / np.abs(lin.weight.data).max() - 1) < 0.001
    assert abs(ref.weight.std().item() / lin.weight.data.std() - 1) < 0.02


def test_seeding_makes_init_reproducible():
    a = init.normal_(np.zeros(10), rng=5)
    b = init.normal_(np.zeros(10), rng=np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)
    init.manual_seed(3)
    c = tg.nn.Linear(4, 3)
    tg.manual_seed(3)  # one default generator behind both names
    d = tg.nn.Linear(4, 3)
    np.testing.assert_array_equal(c.weight.data, d.weight.data)
    np.testing.assert_array_equal(c.bias.data, d.bias.data)
    assert init.default_rng() is tg.random.default_rng()
    with pytest.raises(TypeError, match="int"):
        init.manual_seed(1.5)


@pytest.mark.parametrize(
    "fill, error, message",
    [
        (lambda p: init.constant_(p, None), TypeError, r"constant_: val must be a real number"),
        (lambda p: init.constant_(p, "1"), TypeError, r"constant_: val .* got str"),
        (lambda p: init.uniform_(p, 1.0, 0.0), ValueError, r"uniform_: .* a <= b, got a=1.0"),
        (lambda p: init.normal_(p, 0.0, -1.0), ValueError, r"normal_: std must be >= 0, got -1"),
        (lambda p: init.normal_(p, "0"), TypeError, r"normal_: mean must be a real number"),
    ],
)
def test_bad_fill_values_name_the_function_and_change_nothing(fill, error, message):
    """constant_(p, None) filled with nan; NumPy's "high - low < 0" named no function.
    (PyTorch refuses these too.)"""
    p = tg.nn.Parameter([1.0, 2.0])
    with pytest.raises(error, match=message):
        fill(p)
    np.testing.assert_array_equal(p.data, [1.0, 2.0])


def test_fill_values_may_be_0d_tensors_or_arrays_as_in_pytorch():
    p = tg.nn.Parameter([1.0, 2.0])
    init.constant_(p, tg.tensor(3.0))
    np.testing.assert_array_equal(p.data, [3.0, 3.0])
    init.constant_(p, np.array(4.0))
    np.testing.assert_array_equal(p.data, [4.0, 4.0])
    init.uniform_(p, tg.tensor(1.0), np.array(1.0))  # an empty-width range: all 1
    np.testing.assert_array_equal(p.data, [1.0, 1.0])
    with pytest.raises(ValueError, match=r"uniform_: the range needs finite a <= b, got a=0"):
        init.uniform_(p, 0.0, np.inf)
