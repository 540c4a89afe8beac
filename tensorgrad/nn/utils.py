"""Gradient clipping, as ``torch.nn.utils``: ``clip_grad_norm_`` and ``clip_grad_value_``.

Both change the parameters' ``.grad`` in place, between ``backward()`` and the
optimizer's ``step()``. Every gradient is checked before any is changed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from ..ops._dual import accumulator
from ..tensor import Tensor, mark_changed

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _gradients(op: str, parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    """The gradients of ``parameters`` that exist, each one writeable in place."""
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    grads = []
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{op}: parameters must be Tensors, got {type(p).__name__} at {i}")
        g = p.grad
        if g is None:
            continue
        if not g.data.flags.writeable:
            raise ValueError(
                f"{op}: the gradient of parameter {i} (shape {g.shape}) is read-only, so it "
                "cannot be changed in place; nothing was changed"
            )
        grads.append(g)
    return grads


def _changed(grads: list[Tensor]) -> None:
    for g in grads:  # a graph that read a gradient must not use the new values silently
        mark_changed(g)


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float | str = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Scale the gradients so that their joint ``norm_type``-norm is at most ``max_norm``.

    The norm is taken over all gradients as if they were one vector (the norm of the
    per-gradient norms); ``norm_type`` is any order NumPy's and PyTorch's vector norms
    take: ``inf`` is the largest absolute value, 0 counts the values that are not 0.
    Each gradient is multiplied by ``min(1, max_norm / (norm + 1e-6))``, as PyTorch does.
    Returns the norm before clipping, as a 0-d tensor.
    """
    op = "clip_grad_norm_"
    p, limit = _number(op, "norm_type", norm_type), _number(op, "max_norm", max_norm)
    grads = _gradients(op, parameters)
    if not grads:
        return Tensor(0.0)
    if p == -math.inf and any(g.data.size == 0 for g in grads):
        raise ValueError(f"{op}: an empty gradient has no norm of order -inf (no smallest value)")
    # Each gradient's norm in its own dtype, then the norm of those (PyTorch's order).
    norms = [_norm(g.data, p) for g in grads]
    total = _norm(np.array(norms, dtype=np.result_type(*norms)), p)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"{op}: the total norm of order {p} of the gradients is {total}, so they cannot "
            "be clipped; nothing was changed (error_if_nonfinite=False scales by it anyway)"
        )
    # PyTorch's max_norm / (total + 1e-6) runs as a reciprocal in total's dtype, then a
    # product with max_norm in its compute type (float32 for float16): so here, to the bit
    kind = total.dtype.type
    wide = np.dtype(accumulator(total.dtype) or total.dtype).type
    reciprocal = kind(1) / (total + kind(1e-6))
    coef = np.minimum(kind(wide(reciprocal) * wide(limit)), kind(1))
    for g in grads:  # multiplied as PyTorch's: float16 in float32, others in their own
        g.data *= np.dtype(accumulator(g.dtype) or g.dtype).type(coef)
    _changed(grads)
    return Tensor(total)


def _number(op: str, name: str, value) -> float:
    """``value`` as a float that is a number (inf and "inf" allowed, nan not)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if math.isnan(number) or isinstance(value, bool):
        raise ValueError(f"{op}: {name} must be a number or inf, got {value!r}")
    return number


def _norm(a: np.ndarray, p: float) -> np.floating:
    """The p-norm of ``a``'s values in ``a``'s dtype; float16 is summed in float32, as
    PyTorch does (the squares of 70,000 ones overflow float16)."""
    wide = accumulator(a.dtype)
    return np.linalg.norm(a.ravel() if wide is None else a.ravel().astype(wide), p).astype(a.dtype)


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clip every gradient element to ``[-clip_value, clip_value]`` (nan stays nan)."""
    v = _number("clip_grad_value_", "clip_value", clip_value)
    grads = _gradients("clip_grad_value_", parameters)
    for g in grads:
        np.clip(g.data, -v, v, out=g.data)
    _changed(grads)
