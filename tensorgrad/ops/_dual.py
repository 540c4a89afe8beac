"""Functions that accept an ndarray *or* a Tensor, so each gradient rule is written once.

In a plain backward a rule sees ndarrays and these call NumPy; with
``create_graph=True`` it sees Tensors and these call the differentiable op.
"""

from __future__ import annotations

import math

import numpy as np

from ..tensor import Tensor, record


def raw(x):
    """The ndarray behind ``x`` (a constant for masks and the like)."""
    return x.data if isinstance(x, Tensor) else x


def locally_constant(x, values: np.ndarray):
    """``values``, a function of ``x`` that is constant around it (relu's or abs's slope).

    With ``create_graph`` (``x`` a Tensor) it is a node on ``x`` whose derivative is 0, so
    a second derivative through relu or abs is 0, as PyTorch's, rather than "does not
    require grad" (a constant would cut the gradient's graph off from ``x``).
    """
    if not isinstance(x, Tensor):
        return values
    return record(np.asarray(values, dtype=x.dtype), (x,), "slope", _zero_rule)


def gated(g, gate):
    """``g * gate``, where ``gate`` is 0 on the flat side of relu, clip, maximum or minimum.

    There the gradient is exactly 0, even where ``g`` is ±inf or nan: PyTorch selects
    rather than multiplies, so ``relu(x).sqrt()`` at x < 0 gets 0, not 0 · inf = nan (as
    the scalar engine does too). The multiply stays the fast path; the select runs only
    when ``g`` holds a value that is not finite.
    """
    if not np.isfinite(raw(g)).all():
        g = where(raw(gate) == 0, 0, g)
    return g * gate


def _zero_rule(g, out, args, ctx, needs):  # a locally constant function: derivative 0
    zeros = np.zeros(args[0].shape, raw(args[0]).dtype)
    return (Tensor(zeros) if isinstance(g, Tensor) else zeros,)


def _dispatch(numpy_fn, method: str):
    def fn(x):
        return getattr(x, method)() if isinstance(x, Tensor) else numpy_fn(x)

    fn.__name__ = method
    return fn


exp = _dispatch(np.exp, "exp")
log = _dispatch(np.log, "log")
sin = _dispatch(np.sin, "sin")
cos = _dispatch(np.cos, "cos")


def sigmoid(x):
    return x.sigmoid() if isinstance(x, Tensor) else stable_sigmoid(x)


def stable_sigmoid(x: np.ndarray) -> np.ndarray:
    # σ(x) = 1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) for x < 0, in one expression:
    # no exp of a positive number, so ±1000 stay finite, and within 2 ulp of the exact value.
    x = floating(x)
    denominator = np.abs(x, out=np.empty_like(x))  # 1 + e^-|x|, then e^min(x, 0) over it,
    np.negative(denominator, out=denominator)  # in two arrays of x's size
    np.exp(denominator, out=denominator)
    denominator += 1
    out = np.minimum(x, 0, out=np.empty_like(x))
    np.exp(out, out=out)
    out /= denominator
    return out


def floating(x: np.ndarray) -> np.ndarray:
    """Integer or bool data in the float type NumPy's ufuncs give it (int8: float16, int64:
    float64), before ``-x`` or ``x - max`` could wrap around in the integer type."""
    return x if x.dtype.kind == "f" else x.astype(np.result_type(x.dtype, np.float16))


def accumulator(dtype):
    """The dtype to sum values of ``dtype`` in: float32 for float16, as np.mean and PyTorch
    do (65,504 ones overflow float16), else None (their own)."""
    return np.float32 if dtype == np.float16 else None


def _sum_kept(e: np.ndarray, axis) -> np.ndarray:
    """Σ along ``axis``, kept as size 1 (float16 accumulates in float32)."""
    return e.sum(axis=axis, keepdims=True, dtype=accumulator(e.dtype))


def broadcast_scalar(g):
    """The single value of an ndarray that is one number broadcast (every stride 0), else None.

    The gradient below a full ``sum`` or ``mean`` is such a view: a rule can then use
    the number itself and spare a pass over memory.
    """
    if isinstance(g, np.ndarray) and g.size and not any(g.strides):
        return g[(0,) * g.ndim]
    return None


def broadcast_to(x, shape: tuple):
    if isinstance(x, Tensor):
        return x.broadcast_to(shape)
    if x.size == 1 and x.ndim <= len(shape) and x.flags.c_contiguous:
        # One number (the gradient of a full sum or mean): the read-only, all-strides-0
        # view np.broadcast_to would make, without its general machinery (0.7 vs 2.5 us).
        view = np.ndarray(shape, x.dtype, x, 0, (0,) * len(shape))
        view.flags.writeable = False
        return view
    return np.broadcast_to(x, shape)


def where(cond: np.ndarray, a, b):
    """``cond`` is a constant mask; ``a`` / ``b`` arrays, tensors or numbers."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        from .elementwise import where as tensor_where

        return tensor_where(cond, a, b)
    return np.where(cond, a, b)


def logsumexp(x, axis, keepdims: bool):
    if isinstance(x, Tensor):
        return x.logsumexp(axis=axis, keepdims=keepdims)
    return stable_logsumexp(x, axis, keepdims)


def softmax(x, axis):
    if isinstance(x, Tensor):
        return x.softmax(axis=axis)
    return stable_softmax(x, axis)[0]


def _shifted(x: np.ndarray, axis, normalizing: bool) -> tuple[np.ndarray, np.ndarray]:
    """``x - m`` and ``m``, the max along ``axis`` (kept as size 1).

    No term of exp(x - m) exceeds e^0 = 1, so sums of it never overflow. A row that is
    all -inf keeps m out of it (m = 0) to avoid -inf - -inf; so does a row holding +inf,
    whose log-sum-exp is +inf -- unless the result is ``normalizing`` by it (softmax,
    log_softmax), where inf - inf makes the row nan, as in PyTorch.
    """
    m = x.max(axis=axis, keepdims=True)
    if not np.isfinite(m).all():
        m = np.where(np.isneginf(m) if normalizing else ~np.isfinite(m), 0, m)
    return x - m, m


def stable_logsumexp(x: np.ndarray, axis, keepdims: bool):
    # log Σ e^x = m + log Σ e^(x - m) with m = max x.
    x = floating(x)
    if x.size == 0:
        return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))
    shifted, m = _shifted(x, axis, normalizing=False)
    out = (np.log(_sum_kept(np.exp(shifted), axis)) + m).astype(x.dtype, copy=False)
    return out if keepdims else np.squeeze(out, axis=axis)


def stable_log_softmax(x: np.ndarray, axis) -> np.ndarray:
    """x - logsumexp(x) along ``axis``, as (x - m) - log Σ e^(x - m): the difference is
    taken at the scale of x - m, not of m (float32 logits of 1e5 keep their digits)."""
    x = floating(x)
    if x.size == 0:
        return x - stable_logsumexp(x, axis, True)
    shifted, _ = _shifted(x, axis, normalizing=True)
    return (shifted - np.log(_sum_kept(np.exp(shifted), axis))).astype(x.dtype, copy=False)


def stable_softmax(x: np.ndarray, axis) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """softmax(x) along ``axis``, from one exp; with m and log Σ e^(x - m) (kept as size 1),
    whose sum is logsumexp(x)."""
    x = floating(x)
    if x.size == 0:
        lse = stable_logsumexp(x, axis, True)
        return np.exp(x - lse), np.zeros_like(lse), lse
    shifted, m = _shifted(x, axis, normalizing=True)
    e = np.exp(shifted, out=shifted) if shifted.ndim else np.exp(shifted)  # ours to reuse
    total = _sum_kept(e, axis)
    e /= total  # (0-d: e is a NumPy scalar, and this makes it float32 for float16)
    return e.astype(x.dtype, copy=False), m, np.log(total).astype(x.dtype, copy=False)


def scatter_add(g, shape: tuple, index, basic: bool):
    """Zeros of ``shape`` with ``g`` added at ``index`` (repeated indices accumulate).

    ``basic`` (ints, slices, None, ...) never repeats a position, so a plain assignment
    does; advanced indices go through ``np.add.at``: given each element's flat position
    when the index picks whole rows (:func:`_row_starts`), else given the index itself.
    """
    if isinstance(g, Tensor):
        from .shape import scatter_add as tensor_scatter_add

        return tensor_scatter_add(g, shape, index, basic)
    out = np.zeros(shape, dtype=g.dtype)
    if basic:
        out[index] = g
    elif g.size >= FLAT_SCATTER_MIN and (starts := _row_starts(index, shape)) is not None:
        _add_rows(out.reshape(-1), starts, g)
    else:
        np.add.at(out, index, g)
    return out


# From about this many gradient elements on, the flat positions cost less than they save
# (measured: 0.9x at 512, 2x at 2,048, 5.6x at 262,144 for rows of a table).
FLAT_SCATTER_MIN = 1024
SCATTER_BLOCK = 2**18  # positions made at a time (8 bytes each), unless one row is longer


def _row_starts(index, shape: tuple):
    """Where each row that ``index`` picks starts in the flattened ``shape``, in the order
    it picks them, when ``index`` is integer arrays on the leading axes that leave whole
    rows behind (``table[ids]``, ``x[i, j]`` for a 3-D ``x``); else None."""
    arrays = index if isinstance(index, tuple) else (index,)
    if len(arrays) >= len(shape) or not all(
        isinstance(a, np.ndarray) and a.dtype.kind in "iu" for a in arrays
    ):  # an index on every axis already gets the fast loop; slices and masks: none
        return None
    # The arrays broadcast together, as in the forward. "wrap" takes -1 as the last row:
    # right only because the forward has already refused every index out of range.
    starts = np.ravel_multi_index(arrays, shape[: len(arrays)], mode="wrap").reshape(-1)
    starts *= math.prod(shape[len(arrays) :])  # (a new array: ours to change)
    return starts


def _add_rows(flat_out, starts, g) -> None:
    """Add ``g``'s rows into ``flat_out`` at ``starts``, element by element through flat
    positions: given them, ``np.add.at`` runs its fast one-dimensional loop (given the
    rows' index it adds row by row, 5x slower for an embedding table's gradient). A block
    of rows at a time, so the positions never take much memory."""
    if not g.size:
        return
    rows = g.reshape(starts.size, -1)  # a view, unless g is broadcast (below a sum): a copy
    columns = np.arange(rows.shape[1])
    step = max(1, SCATTER_BLOCK // rows.shape[1])
    for lo in range(0, starts.size, step):
        positions = starts[lo : lo + step, None] + columns
        np.add.at(flat_out, positions.reshape(-1), rows[lo : lo + step].reshape(-1))
