"""Reductions over ``axis`` (an int, a negative int, a tuple or None) with ``keepdims``.

The gradient of a reduction puts back the reduced axes as size 1 and broadcasts
the output gradient over them (:func:`expand`), then weighs it: 1 for sum, 1/n
for mean, the tie-sharing mask for max/min, the softmax for logsumexp.
"""

from __future__ import annotations

import math

import numpy as np

from ..tensor import Tensor, _grad_mode, numpy_options, real_array, record
from . import _dual as d


def normalize_axes(op: str, axis, ndim: int) -> tuple[int, ...]:
    """``axis`` as a sorted tuple of non-negative ints, checked against ``ndim``."""
    if axis is None:
        return tuple(range(ndim))
    items = axis if isinstance(axis, (tuple, list)) else (axis,)
    bound = ndim if ndim else 1  # a 0-d tensor accepts axis 0 / -1, as PyTorch does
    axes = []
    for a in items:
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(f"{op}: axis must be an int, a tuple of ints or None, got {a!r}")
        if not -bound <= a < bound:
            raise ValueError(
                f"{op}: axis {a} is out of range for {ndim} dimensions "
                f"(valid: {-bound} to {bound - 1})"
            )
        axes.append(int(a) % bound)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{op}: repeated axis in {axis!r}")
    return tuple(sorted(axes)) if ndim else ()


def one_axis(op: str, axis, ndim: int) -> int:
    """``axis`` as a non-negative int, for ops that take exactly one axis."""
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"{op}: axis must be one int, got {axis!r}")
    return normalize_axes(op, axis, ndim)[0] if ndim else 0


def _kept_shape(shape: tuple, axes: tuple) -> tuple:
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def expand(g, shape: tuple, axes: tuple, keepdims: bool):
    """The output gradient of a reduction, broadcast back to the input's ``shape``."""
    if not keepdims and g.size != 1:  # one number broadcasts anywhere as it is
        g = g.reshape(_kept_shape(shape, axes))
    return d.broadcast_to(g, shape)


def _sum_rule(g, out, args, ctx, needs):
    axes, keepdims = ctx
    return (expand(g, args[0].shape, axes, keepdims),)


def _over_count(a, n: int):
    """``a / n`` for a count ``n``: float16 divides in float32, as PyTorch does (n may not
    fit float16: 2049 is 2048 there, and 70000 is inf)."""
    if a.dtype == np.float16:
        return (a.astype(np.float32) / n).astype(np.float16)
    return a / n


def _mean_rule(g, out, args, ctx, needs):
    # g / n before g is broadcast back: n times fewer divisions, and below a full mean the
    # gradient stays one number broadcast, which the rule under it can use as a number
    # (x * x's does). An empty input (n = 0) gets an empty gradient: nothing to divide.
    axes, keepdims, n = ctx
    if n:
        g = _over_count(g, n)
        if isinstance(g, np.generic):  # a 0-d array over n is a NumPy scalar
            g = np.asarray(g)
    return (expand(g, args[0].shape, axes, keepdims),)


def _weighted_rule(g, out, args, ctx, needs):  # max / min: weight = tie-sharing mask
    axes, keepdims, weight = ctx
    return (expand(g, args[0].shape, axes, keepdims) * weight,)


def _shifted(data: np.ndarray, axes: tuple) -> np.ndarray:
    """``data`` minus its first element along ``axes``, for the forward of var and std: the
    same spread, but a slice of equal values becomes exact zeros, so its spread is exactly
    0 (the rounded mean of (0.1, 0.1, 0.1) left deviations of ±1e-17: a std of 1e-17), and
    data far from 0 loses less to rounding. (float32 and float64 only: float16 is computed
    as PyTorch computes it, bit for bit; integer data has no such rounding.)"""
    if data.dtype not in (np.float32, np.float64) or data.size == 0:
        return data
    return data - data[tuple(slice(0, 1) if i in axes else slice(None) for i in range(data.ndim))]


def _centered(x, out, axes: tuple, keepdims: bool):
    """x - mean(x) along ``axes``, in two passes: the second takes out what the rounded
    first mean left (for data far from 0 it is most of the deviation's error). In a slice
    of equal values, whose spread ``out`` is exactly 0 (see ``_shifted``), the value is
    exactly 0 where rounding would leave ±1e-17 (std's gradient divides it by the std:
    O(1) noise); with create_graph its derivative stays, for the second derivative."""
    centered = x - x.mean(axis=axes, keepdims=True)
    if d.raw(x).dtype in (np.float32, np.float64):  # float16 as PyTorch, bit for bit
        centered = centered - centered.mean(axis=axes, keepdims=True)
    constant = d.raw(out) == 0
    if constant.any():
        mask = expand(constant, d.raw(x).shape, axes, keepdims)
        zero = centered - centered.detach() if isinstance(centered, Tensor) else 0
        centered = d.where(mask, zero, centered)
    return centered


def _var_rule(g, out, args, ctx, needs):  # d var / dx = 2 (x - mean) / (n - ddof)
    axes, keepdims, dof = ctx
    x = args[0]
    centered = _centered(x, out, axes, keepdims)
    scale = 2.0 / dof if dof > 0 else math.inf  # no degrees of freedom: inf, as PyTorch
    return (expand(g, x.shape, axes, keepdims) * centered * scale,)


def _std_rule(g, out, args, ctx, needs):
    # d std / dx = (x - mean) / (dof · std); where std = 0 the slope is taken as 0 (as
    # PyTorch), since every direction that keeps x constant along the axis is flat.
    axes, keepdims, dof = ctx
    x = args[0]
    centered = _centered(x, out, axes, keepdims)
    flat = d.raw(out) == 0
    scale = d.where(flat, 0, _over_count(g / d.where(flat, 1, out), dof))
    return (expand(scale, x.shape, axes, keepdims) * centered,)


def _logsumexp_rule(g, out, args, ctx, needs):  # d lse / dx = softmax(x) = exp(x - lse)
    axes, keepdims = ctx
    x = args[0]
    out_kept = out if keepdims else out.reshape(_kept_shape(x.shape, axes))
    return (expand(g, x.shape, axes, keepdims) * d.exp(x - out_kept),)


def _softmax_rule(g, out, args, ctx, needs):  # J^T g = s * (g - Σ g s)
    axis = ctx
    return (out * (g - (g * out).sum(axis=axis, keepdims=True)),)


def _log_softmax_rule(g, out, args, ctx, needs):  # J^T g = g - softmax * Σ g
    axis = ctx
    return (g - d.exp(out) * g.sum(axis=axis, keepdims=True),)


def sum(  # noqa: A001
    x: Tensor, axis=None, keepdims: bool = False, *, dtype=None, out=None
) -> Tensor:
    if out is not None or dtype is not None:
        x = numpy_options("sum", x, out, dtype)
    axes = normalize_axes("sum", axis, x.ndim)
    # np.sum without its wrapper; dtype= is the accumulator too (int8 stays int8, as NumPy)
    data = np.add.reduce(x.data, axis=axes, keepdims=keepdims, dtype=dtype)
    return record(np.asarray(data), (x,), "sum", _sum_rule, (axes, keepdims))


def mean(x: Tensor, axis=None, keepdims: bool = False, *, dtype=None, out=None) -> Tensor:
    if out is not None or dtype is not None:
        x = numpy_options("mean", x, out, dtype, floating=True)
    axes = normalize_axes("mean", axis, x.ndim)
    n = math.prod(x.shape[a] for a in axes)
    with np.errstate(invalid="ignore", divide="ignore"):  # empty: nan, as NumPy
        data = (
            np.add.reduce(x.data, axis=axes, keepdims=keepdims, dtype=d.accumulator(x.dtype)) / n
            if n
            else np.mean(x.data, axis=axes, keepdims=keepdims)
        )
    return record(
        np.asarray(data, dtype=_float_dtype(x)), (x,), "mean", _mean_rule, (axes, keepdims, n)
    )


def _float_dtype(x: Tensor) -> np.dtype:
    return x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)


def _extremum(op: str, reduce, x: Tensor, axis, keepdims: bool) -> Tensor:
    axes = normalize_axes(op, axis, x.ndim)
    if x.size == 0 and (not axes or any(x.shape[a] == 0 for a in axes) or x.ndim == 0):
        raise ValueError(f"{op}: cannot reduce an empty tensor of shape {x.shape} over axis {axis}")
    kept = reduce(x.data, axis=axes, keepdims=True)
    data = kept if keepdims else kept.reshape([n for i, n in enumerate(x.shape) if i not in axes])
    if not (_grad_mode.enabled and x.requires_grad):
        return record(data, (x,), op, _weighted_rule)  # a constant: no weights to make
    mask = x.data == kept
    if np.count_nonzero(mask) == kept.size and not np.isnan(kept).any():
        weight = mask.astype(_float_dtype(x))  # one winner in every slice: no ties
    else:  # ties share the gradient equally, as NumPy-based peers and PyTorch's amax do
        weight = (mask / mask.sum(axis=axes, keepdims=True)).astype(_float_dtype(x))
    return record(data, (x,), op, _weighted_rule, (axes, keepdims, weight))


def max(x: Tensor, axis=None, keepdims: bool = False, *, out=None) -> Tensor:  # noqa: A001
    """Largest element(s); tied maxima share the gradient equally."""
    if out is not None:
        numpy_options("max", x, out)
    return _extremum("max", np.max, x, axis, keepdims)


def min(x: Tensor, axis=None, keepdims: bool = False, *, out=None) -> Tensor:  # noqa: A001
    """Smallest element(s); tied minima share the gradient equally."""
    if out is not None:
        numpy_options("min", x, out)
    return _extremum("min", np.min, x, axis, keepdims)


def _spread(op: str, numpy_fn, rule, x: Tensor, axis, ddof: int, keepdims: bool) -> Tensor:
    axes = normalize_axes(op, axis, x.ndim)
    n = math.prod(x.shape[a] for a in axes)
    wide = d.accumulator(x.dtype)  # NumPy's float16 var sums in float16: inf past 65,504
    with np.errstate(invalid="ignore", divide="ignore"):
        data = numpy_fn(_shifted(x.data, axes), axis=axes, ddof=ddof, keepdims=keepdims, dtype=wide)
    data = np.asarray(data, dtype=x.dtype if wide else None)
    return record(data, (x,), op, rule, (axes, keepdims, n - ddof))


def var(
    x: Tensor, axis=None, ddof: int = 0, keepdims: bool = False, *, dtype=None, out=None
) -> Tensor:
    """Variance with NumPy's default ``ddof=0`` (PyTorch's default is ``correction=1``)."""
    if out is not None or dtype is not None:
        x = numpy_options("var", x, out, dtype, floating=True)
    return _spread("var", np.var, _var_rule, x, axis, ddof, keepdims)


def std(
    x: Tensor, axis=None, ddof: int = 0, keepdims: bool = False, *, dtype=None, out=None
) -> Tensor:
    """Standard deviation with NumPy's default ``ddof=0``; its gradient is 0 where it is 0."""
    if out is not None or dtype is not None:
        x = numpy_options("std", x, out, dtype, floating=True)
    return _spread("std", np.std, _std_rule, x, axis, ddof, keepdims)


def logsumexp(x: Tensor, axis=None, keepdims: bool = False) -> Tensor:
    """log Σ exp(x), computed stably (max subtraction): finite for inputs of ±1000."""
    axes = normalize_axes("logsumexp", axis, x.ndim)
    data = d.stable_logsumexp(x.data, axes, keepdims)
    return record(np.asarray(data), (x,), "logsumexp", _logsumexp_rule, (axes, keepdims))


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """exp(x) / Σ exp(x) along ``axis``, stable for large inputs."""
    axis = one_axis("softmax", axis, x.ndim)
    data = d.stable_softmax(x.data, axis)[0]
    return record(data, (x,), "softmax", _softmax_rule, axis)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """x - logsumexp(x) along ``axis``, stable for large inputs."""
    axis = one_axis("log_softmax", axis, x.ndim)
    data = d.stable_log_softmax(x.data, axis)
    return record(data, (x,), "log_softmax", _log_softmax_rule, axis)


def _arg_extremum(op: str, numpy_fn, x, axis, keepdims: bool, out) -> Tensor:
    if out is not None:
        numpy_options(op, x, out)
    arr = real_array(op, x, keep_graphs=True)
    if axis is not None:
        one_axis(op, axis, arr.ndim)  # NumPy's own AxisError does not name the op
    return Tensor(numpy_fn(arr, axis=axis, keepdims=keepdims), dtype=np.int64)


def argmax(x: Tensor, axis=None, keepdims: bool = False, *, out=None) -> Tensor:
    """Index of the largest element (an integer tensor; not differentiable)."""
    return _arg_extremum("argmax", np.argmax, x, axis, keepdims, out)


def argmin(x: Tensor, axis=None, keepdims: bool = False, *, out=None) -> Tensor:
    """Index of the smallest element (an integer tensor; not differentiable)."""
    return _arg_extremum("argmin", np.argmin, x, axis, keepdims, out)
