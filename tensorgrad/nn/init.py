"""Weight initialisation, with PyTorch's formulas, and tensorgrad's default generator.

Each ``*_`` function fills a Tensor (or Parameter, or NumPy array) **in place** and
returns it. Fans follow PyTorch: for a weight of shape ``(out, in, *k)``,
``fan_in = in * prod(k)`` and ``fan_out = out * prod(k)`` (so a ``Linear`` weight
``(out, in)`` has ``fan_in = in``). Random draws come from ``rng`` when given (a
``numpy.random.Generator`` or an int seed), else from the default generator that
``manual_seed`` resets -- so ``manual_seed(0)`` makes model construction reproducible.
"""

from __future__ import annotations

import math

import numpy as np

from .. import random as _random
from ..random import as_generator as _as_rng
from ..tensor import Tensor, mark_changed, scalar_constant

__all__ = [
    "manual_seed",
    "default_rng",
    "calculate_gain",
    "uniform_",
    "normal_",
    "constant_",
    "zeros_",
    "ones_",
    "xavier_uniform_",
    "xavier_normal_",
    "kaiming_uniform_",
    "kaiming_normal_",
]


def manual_seed(seed: int) -> np.random.Generator:
    """Reset tensorgrad's default generator to ``seed``; returns the new generator.

    The same as ``tg.manual_seed``: there is one default generator (``tensorgrad.random``).
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"manual_seed: seed must be an int, got {type(seed).__name__}")
    return _random.manual_seed(int(seed))


def default_rng() -> np.random.Generator:
    """The generator used wherever an ``rng`` argument is left as ``None``."""
    return _random.default_rng()


def _array(tensor) -> np.ndarray:
    arr = tensor if isinstance(tensor, np.ndarray) else getattr(tensor, "data", None)
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"init: expected a Tensor or ndarray, got {type(tensor).__name__}")
    if not np.issubdtype(arr.dtype, np.floating):
        raise TypeError(f"init: expected floating data, got dtype {arr.dtype}")
    return arr


def _fill(tensor, values):
    _array(tensor)[...] = values
    if isinstance(tensor, Tensor):
        mark_changed(tensor)  # a graph made before reads the old values: it will refuse
    return tensor


def _fans(arr: np.ndarray) -> tuple[int, int]:
    if arr.ndim < 2:
        raise ValueError(
            f"init: fan in and fan out need a tensor with at least 2 dims, got shape {arr.shape}"
        )
    receptive = math.prod(arr.shape[2:])
    return arr.shape[1] * receptive, arr.shape[0] * receptive


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity (PyTorch's table)."""
    linear = ("linear", "identity", "sigmoid", "conv1d", "conv2d", "conv3d")
    linear += ("conv_transpose1d", "conv_transpose2d", "conv_transpose3d")
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, int | float):
            raise ValueError(f"calculate_gain: negative_slope {slope!r} is not a number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def uniform_(tensor, a: float = 0.0, b: float = 1.0, rng=None):
    """Fill with draws from U(a, b)."""
    arr = _array(tensor)
    a, b = _number("uniform_", "a", a), _number("uniform_", "b", b)
    if not (math.isfinite(a) and math.isfinite(b) and a <= b):
        raise ValueError(f"uniform_: the range needs finite a <= b, got a={a}, b={b}")
    return _fill(tensor, _as_rng(rng).uniform(a, b, size=arr.shape))


def normal_(tensor, mean: float = 0.0, std: float = 1.0, rng=None):
    """Fill with draws from N(mean, std²)."""
    arr = _array(tensor)
    mean, std = _number("normal_", "mean", mean), _number("normal_", "std", std)
    if not std >= 0:
        raise ValueError(f"normal_: std must be >= 0, got {std}")
    return _fill(tensor, _as_rng(rng).normal(mean, std, size=arr.shape))


def constant_(tensor, val: float):
    """Fill with ``val``."""
    _array(tensor)
    return _fill(tensor, _number("constant_", "val", val))


def _number(op: str, name: str, value) -> float:
    """A real number: a Python or NumPy scalar, or a 0-d array or tensor (as PyTorch)."""
    inner = value.data if isinstance(value, Tensor) else value
    if isinstance(inner, np.ndarray) and inner.ndim == 0:
        inner = inner[()]
    number = scalar_constant(inner)
    if number is None:
        raise TypeError(f"{op}: {name} must be a real number, got {type(value).__name__}")
    return number


def zeros_(tensor):
    """Fill with 0."""
    return _fill(tensor, 0.0)


def ones_(tensor):
    """Fill with 1."""
    return _fill(tensor, 1.0)


def xavier_uniform_(tensor, gain: float = 1.0, rng=None):
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""
    fan_in, fan_out = _fans(_array(tensor))
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, rng=rng)


def xavier_normal_(tensor, gain: float = 1.0, rng=None):
    """N(0, std²) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(_array(tensor))
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), rng=rng)


def _kaiming_std(tensor, a: float, mode: str, nonlinearity: str) -> float | None:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    arr = _array(tensor)
    if arr.size == 0:  # PyTorch warns and leaves an empty tensor alone
        return None
    fan_in, fan_out = _fans(arr)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(
    tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", rng=None
):
    """U(-b, b) with b = gain * sqrt(3 / fan) (He et al., 2015); ``a`` is the leaky slope."""
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, rng=rng)


def kaiming_normal_(
    tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", rng=None
):
    """N(0, std²) with std = gain / sqrt(fan)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    return normal_(tensor, 0.0, std, rng=rng)
