"""Matrix multiplication with NumPy's semantics, forward and gradient.

``a @ b`` multiplies the last two axes and broadcasts the rest (the batch).
A 1-D operand is a vector: on the left it is promoted to a row (1, k), on the
right to a column (k, 1), and the added axis is dropped from the result.
"""

from __future__ import annotations

import math

import numpy as np

from ..tensor import Tensor, as_tensor, record
from .elementwise import unbroadcast


def _check(a: Tensor, b: Tensor) -> None:
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(
            f"matmul: operands must have at least 1 dimension, got shapes {a.shape} and {b.shape}"
        )
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        raise ValueError(
            f"matmul: shapes {a.shape} and {b.shape} are not aligned: "
            f"{k_a} (last axis of the first) != {k_b} "
            f"({'only' if b.ndim == 1 else 'second-to-last'} axis of the second)"
        )
    if a.ndim <= 2 or b.ndim <= 2:  # one side has no batch axes: nothing to broadcast
        return
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ValueError(
            f"matmul: batch dimensions {a.shape[:-2]} and {b.shape[:-2]} of shapes {a.shape} "
            f"and {b.shape} cannot be broadcast together"
        ) from None


def _matmul_data(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if a.ndim > 2 and b.ndim == 2:
        # N-D @ 2-D: fold the batch into rows, one BLAS call instead of NumPy's loop.
        rows = math.prod(a.shape[:-1])  # explicit, not -1: a size-0 axis is fine
        return (a.reshape(rows, a.shape[-1]) @ b).reshape(a.shape[:-1] + (b.shape[-1],))
    return a @ b


def _matmul_rule(g, out, args, ctx, needs):
    a, b = args
    if a.ndim == 1 and b.ndim == 1:  # a dot product: g is a scalar
        return (g * b if needs[0] else None, g * a if needs[1] else None)
    # Promote 1-D operands as the forward did, and give g the axis the forward dropped.
    a2 = a.reshape((1,) + a.shape) if a.ndim == 1 else a
    b2 = b.reshape(b.shape + (1,)) if b.ndim == 1 else b
    if a.ndim == 1:
        g = g.reshape(g.shape[:-1] + (1, g.shape[-1]))
    elif b.ndim == 1:
        g = g.reshape(g.shape + (1,))

    ga = gb = None
    if b2.ndim == 2 and a2.ndim > 2:
        # Folded batch, as in the forward: dA = dC Bᵀ and dB = Σ_batch Aᵀ dC in one call each.
        m, k = b2.shape[-1], b2.shape[-2]
        rows = math.prod(a2.shape[:-1])
        g_rows = g.reshape(rows, m)
        if needs[0]:
            ga = (g_rows @ b2.T).reshape(a2.shape)
        if needs[1]:
            gb = a2.reshape(rows, k).T @ g_rows
    elif a2.ndim == 2 and b2.ndim == 2:
        if needs[0]:
            ga = g @ b2.T
        if needs[1]:
            gb = _weight_grad(a2, g, b2)
    else:
        # dA = dC Bᵀ, dB = Aᵀ dC; summed over any batch axes an operand was broadcast along.
        if needs[0]:
            ga = unbroadcast(g @ b2.swapaxes(-1, -2), a2.shape)
        if needs[1]:
            gb = unbroadcast(a2.swapaxes(-1, -2) @ g, b2.shape)
    return (
        ga if ga is None or ga.shape == a.shape else ga.reshape(a.shape),
        gb if gb is None or gb.shape == b.shape else gb.reshape(b.shape),
    )


def _weight_grad(a, g, b):
    """Aᵀ G for a 2-D right operand, laid out like ``b``.

    When ``b`` is a transposed view (``x @ W.T``, PyTorch's layout) computing (Gᵀ A)ᵀ
    makes the gradient that reaches ``W`` through the transpose C-contiguous.
    """
    flags = getattr(b, "flags", None)  # raw arrays only; a Tensor takes the plain route
    if flags is not None and flags.f_contiguous and not flags.c_contiguous:
        return (g.T @ a).T
    return a.T @ g


def matmul(a, b) -> Tensor:
    """``a @ b`` with NumPy semantics: 1-D vectors, N-D batches, broadcast batch axes."""
    a, b = as_tensor(a), as_tensor(b)
    _check(a, b)
    return record(_matmul_data(a.data, b.data), (a, b), "matmul", _matmul_rule)


def rmatmul(b: Tensor, a) -> Tensor:
    return matmul(a, b)
