"""Making tensors: from data, filled, ranges and random."""

from __future__ import annotations

import numbers
import operator

import numpy as np

from .ops.shape import sizes
from .random import as_generator
from .tensor import Tensor

__all__ = [
    "zeros",
    "ones",
    "full",
    "zeros_like",
    "ones_like",
    "arange",
    "eye",
    "randn",
    "rand",
    "randint",
    "multinomial",
]


def _made(data: np.ndarray, requires_grad: bool) -> Tensor:
    """A tensor of exactly ``data``'s dtype (integer and bool too, unlike a plain list)."""
    return Tensor(data, requires_grad=requires_grad, dtype=data.dtype)


def _floating(dtype, op: str) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"{op}: samples are real numbers; dtype must be floating, got {dtype}")
    return dtype


def zeros(*shape, dtype=np.float64, requires_grad: bool = False) -> Tensor:
    return _made(np.zeros(sizes("zeros", shape), dtype), requires_grad)


def ones(*shape, dtype=np.float64, requires_grad: bool = False) -> Tensor:
    return _made(np.ones(sizes("ones", shape), dtype), requires_grad)


def full(shape, value: float, dtype=np.float64, requires_grad: bool = False) -> Tensor:
    if not isinstance(value, numbers.Real):
        raise TypeError(f"full: value must be a real number, got {type(value).__name__}")
    return _made(np.full(sizes("full", (shape,)), value, dtype), requires_grad)


def zeros_like(t: Tensor, requires_grad: bool = False) -> Tensor:
    """Zeros of ``t``'s shape and dtype."""
    return _made(np.zeros_like(np.asarray(t)), requires_grad)


def ones_like(t: Tensor, requires_grad: bool = False) -> Tensor:
    """Ones of ``t``'s shape and dtype."""
    return _made(np.ones_like(np.asarray(t)), requires_grad)


def arange(start, stop=None, step=None, *, dtype=None, requires_grad: bool = False) -> Tensor:
    """Evenly spaced values, as ``np.arange`` and ``torch.arange``: integers (int64) from
    integer arguments, so ``logits[tg.arange(n), labels]`` picks; float64 from floats."""
    if isinstance(step, numbers.Real) and step == 0:  # NumPy: a bare ZeroDivisionError
        raise ValueError(f"arange: step must be nonzero, got {step!r}")
    data = np.arange(start, stop, step, dtype=dtype)
    if requires_grad and data.dtype.kind != "f":
        raise TypeError(
            f"arange: {data.dtype} values (from integer arguments) cannot require grad; "
            "pass float arguments or dtype=np.float64"
        )
    return _made(data, requires_grad)


def eye(n: int, m: int | None = None, dtype=np.float64, requires_grad: bool = False) -> Tensor:
    n, m = sizes("eye", (n, n if m is None else m))
    return _made(np.eye(n, m, dtype=dtype), requires_grad)


def randn(*shape, dtype=np.float64, requires_grad: bool = False, rng=None) -> Tensor:
    """Standard normal samples from ``rng`` (default: tensorgrad's seeded generator)."""
    dtype, shape = _floating(dtype, "randn"), sizes("randn", shape)  # checked before drawing
    return _made(as_generator(rng).standard_normal(shape).astype(dtype), requires_grad)


def rand(*shape, dtype=np.float64, requires_grad: bool = False, rng=None) -> Tensor:
    """Uniform samples in [0, 1) from ``rng`` (default: tensorgrad's seeded generator)."""
    dtype, shape = _floating(dtype, "rand"), sizes("rand", shape)  # checked before drawing
    return _made(as_generator(rng).random(shape).astype(dtype), requires_grad)


def randint(low: int, high=None, size=(), *, rng=None) -> Tensor:
    """Integers drawn uniformly from [low, high), or [0, low) with one bound, as an int64
    tensor of shape ``size`` (PyTorch's ``randint``: a minibatch's row indices).
    ``randint(high, size)`` with a tuple, as PyTorch's, reads as ``randint(0, high, size)``."""
    if isinstance(high, tuple | list) and size == ():  # PyTorch's randint(high, (n,))
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    for name, bound in (("low", low), ("high", high)):
        if isinstance(bound, bool) or not isinstance(bound, int | np.integer):
            raise TypeError(f"randint: {name} must be an int, got {bound!r}")
    if low >= high:
        raise ValueError(f"randint: low must be below high, got [{low}, {high})")
    shape = sizes("randint", (size,))  # checked before drawing
    return _made(as_generator(rng).integers(low, high, shape, dtype=np.int64), False)


def multinomial(probs, num_samples: int, replacement: bool = False, *, rng=None) -> Tensor:
    """Category indices drawn with the weights ``probs`` (1-D, or one row per draw; need
    not sum to 1), as PyTorch's ``multinomial``: ``num_samples`` per row, each index at
    most once without ``replacement``. Sampling a name, one character at a time."""
    weights = np.asarray(probs.data if isinstance(probs, Tensor) else probs, dtype=np.float64)
    if weights.ndim not in (1, 2) or weights.shape[-1] == 0:
        raise ValueError(
            f"multinomial: probs must be 1-D or 2-D and not empty, got {weights.shape}"
        )
    if not (np.isfinite(weights).all() and (weights >= 0).all()):
        raise ValueError("multinomial: probs must be finite and >= 0")
    rows = weights.reshape(-1, weights.shape[-1])
    n = operator.index(num_samples)
    if n < 1:
        raise ValueError(f"multinomial: num_samples must be >= 1, got {num_samples!r}")
    if not rows.size:  # no rows: no draws
        return _made(np.zeros(weights.shape[:-1] + (n,), np.int64), False)
    largest = rows.max(axis=1, keepdims=True)
    if (largest == 0).any():
        raise ValueError("multinomial: a row of probs sums to 0")
    rows = rows / largest  # each row's largest is 1: its sum cannot overflow (1e308s)
    totals = rows.sum(axis=1)
    if not replacement and (np.count_nonzero(rows, axis=1) < n).any():
        raise ValueError(
            f"multinomial: {n} samples without replacement from a row with fewer "
            "categories that can be drawn"
        )
    generator = as_generator(rng)
    drawn = np.stack(
        [
            generator.choice(row.size, n, replace=replacement, p=row / t)
            for row, t in zip(rows, totals)
        ]
    )
    return _made(drawn.reshape(weights.shape[:-1] + (n,)).astype(np.int64), False)
