"""Making tensors: from data, filled, ranges and random."""

from __future__ import annotations

import numpy as np

from . import random
from .tensor import Tensor

__all__ = ["zeros", "ones", "full", "zeros_like", "ones_like", "arange", "eye", "randn", "rand"]


def _shape(shape: tuple) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def zeros(*shape, dtype=np.float64, requires_grad: bool = False) -> Tensor:
    return Tensor(np.zeros(_shape(shape), dtype), requires_grad=requires_grad)


def ones(*shape, dtype=np.float64, requires_grad: bool = False) -> Tensor:
    return Tensor(np.ones(_shape(shape), dtype), requires_grad=requires_grad)


def full(shape, value: float, dtype=np.float64, requires_grad: bool = False) -> Tensor:
    return Tensor(np.full(shape, value, dtype), requires_grad=requires_grad)


def zeros_like(t: Tensor, requires_grad: bool = False) -> Tensor:
    return Tensor(np.zeros_like(t.data), requires_grad=requires_grad)


def ones_like(t: Tensor, requires_grad: bool = False) -> Tensor:
    return Tensor(np.ones_like(t.data), requires_grad=requires_grad)


def arange(*args, dtype=np.float64, requires_grad: bool = False) -> Tensor:
    return Tensor(np.arange(*args, dtype=dtype), requires_grad=requires_grad)


def eye(n: int, m: int | None = None, dtype=np.float64, requires_grad: bool = False) -> Tensor:
    return Tensor(np.eye(n, m, dtype=dtype), requires_grad=requires_grad)


def randn(*shape, dtype=np.float64, requires_grad: bool = False, rng=None) -> Tensor:
    """Standard normal samples from ``rng`` (default: tensorgrad's seeded generator)."""
    rng = random.default_rng() if rng is None else rng
    return Tensor(rng.standard_normal(_shape(shape)).astype(dtype), requires_grad=requires_grad)


def rand(*shape, dtype=np.float64, requires_grad: bool = False, rng=None) -> Tensor:
    """Uniform samples in [0, 1) from ``rng`` (default: tensorgrad's seeded generator)."""
    rng = random.default_rng() if rng is None else rng
    return Tensor(rng.random(_shape(shape)).astype(dtype), requires_grad=requires_grad)
