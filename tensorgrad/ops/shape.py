"""Shape ops: the gradient moves values back to where they came from.

Reshapes reshape back, permutations apply the inverse permutation, indexing
scatters the gradient into zeros (repeated indices accumulate, via ``np.add.at``),
concatenate and stack slice it apart.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence

import numpy as np

from ..tensor import Tensor, _index_key, as_tensor, record, shown
from . import _dual as d
from .elementwise import unbroadcast
from .reduce import normalize_axes, one_axis


def sizes(op: str, shape: tuple, negative: bool = False) -> tuple:
    """Sizes given as ``f(2, 3)`` or ``f((2, 3))`` (a list, range or 1-D array too), checked
    as NumPy takes them: anything with ``__index__`` (ints, NumPy ints, 0-d int arrays), no
    bools or floats; negative ones only if ``negative`` (reshape's -1, axes)."""
    if len(shape) == 1 and (
        isinstance(shape[0], (tuple, list, range))
        or (isinstance(shape[0], np.ndarray) and shape[0].ndim)
    ):
        shape = tuple(shape[0])
    not_ints = TypeError(f"{op}: sizes must be ints, got {shape!r}")
    if any(isinstance(n, (bool, np.bool_)) for n in shape):  # NumPy refuses them too
        raise not_ints
    try:
        ints = tuple(operator.index(n) for n in shape)
    except TypeError:
        raise not_ints from None
    if not negative and any(n < 0 for n in ints):
        raise ValueError(f"{op}: sizes must not be negative, got {ints}")
    return ints


def _reshape_rule(g, out, args, ctx, needs):
    return (g.reshape(args[0].shape),)


def _reshaped(x: Tensor, shape: tuple, op: str) -> Tensor:
    try:
        data = x.data.reshape(shape)
    except ValueError:
        why = "; only one size may be -1" if shape.count(-1) > 1 else ""
        raise ValueError(
            f"{op}: cannot reshape a tensor of shape {x.shape} ({x.size} elements) into "
            f"{shape}{why}"
        ) from None
    return record(data, (x,), op, _reshape_rule)


def reshape(x: Tensor, *shape, order: str = "C", copy=None) -> Tensor:
    """Same elements, new shape (one axis may be -1); ``x.reshape(2, 3)`` or ``((2, 3))``.
    Elements are read in C order (``np.reshape(t, s)`` passes ``order="C"``)."""
    if order != "C" or copy is not None:  # ValueError: NumPy would swallow a TypeError
        given = f"order={order!r}" if order != "C" else f"copy={copy!r}"
        raise ValueError(f"reshape: only order='C' and copy=None are supported, got {given}")
    return _reshaped(x, sizes("reshape", shape, negative=True), "reshape")


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge axes ``start_dim..end_dim`` into one (all of them by default)."""
    if x.ndim == 0:
        return _reshaped(x, (1,), "flatten")
    start = one_axis("flatten", start_dim, x.ndim)
    end = one_axis("flatten", end_dim, x.ndim)
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    merged = math.prod(x.shape[start : end + 1])
    return _reshaped(x, x.shape[:start] + (merged,) + x.shape[end + 1 :], "flatten")


def squeeze(x: Tensor, axis=None) -> Tensor:
    """Drop axes of size 1 (all of them, or the given ones)."""
    axes = (
        normalize_axes("squeeze", axis, x.ndim)
        if axis is not None
        else tuple(i for i, n in enumerate(x.shape) if n == 1)
    )
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(f"squeeze: axis {a} of shape {x.shape} has size {x.shape[a]}, not 1")
    return _reshaped(x, tuple(n for i, n in enumerate(x.shape) if i not in axes), "squeeze")


def unsqueeze(x: Tensor, axis: int) -> Tensor:
    """Insert an axis of size 1 at ``axis`` (NumPy's expand_dims)."""
    axis = one_axis("unsqueeze", axis, x.ndim + 1)
    return _reshaped(x, x.shape[:axis] + (1,) + x.shape[axis:], "unsqueeze")


def _transpose_rule(g, out, args, ctx, needs):
    return (g.transpose(ctx),)  # ctx: the inverse permutation


def transpose(x: Tensor, *axes) -> Tensor:
    """Permute axes as NumPy does (reversed by default). PyTorch's ``transpose(a, b)``
    is :func:`swapaxes` here."""
    if not axes or (len(axes) == 1 and axes[0] is None):  # reversed (.T; np.transpose(t))
        reverse = tuple(range(x.ndim - 1, -1, -1))  # a permutation that is its own inverse
        return record(x.data.transpose(), (x,), "transpose", _transpose_rule, reverse)
    if len(axes) == 1 and (
        isinstance(axes[0], (tuple, list, range))
        or (isinstance(axes[0], np.ndarray) and axes[0].ndim == 1)  # from np.argsort
    ):
        axes = tuple(axes[0])  # transpose((1, 0)) as transpose(1, 0); normalize_axes checks them
    if (
        sorted(normalize_axes("transpose", axes, x.ndim)) != list(range(x.ndim))
        or len(axes) != x.ndim
    ):
        raise ValueError(
            f"transpose: axes {axes} are not a permutation of the {x.ndim} axes of {x.shape}"
        )
    axes = tuple(a % x.ndim for a in axes)
    inverse = tuple(sorted(range(x.ndim), key=axes.__getitem__))
    return record(x.data.transpose(axes), (x,), "transpose", _transpose_rule, inverse)


def _swapaxes_rule(g, out, args, ctx, needs):
    return (g.swapaxes(*ctx),)


def swapaxes(x: Tensor, axis1: int, axis2: int) -> Tensor:
    """Exchange two axes (PyTorch's ``transpose(dim0, dim1)``)."""
    if x.ndim == 0:
        raise ValueError("swapaxes: a 0-d tensor has no axes to swap")
    a1, a2 = (one_axis("swapaxes", a, x.ndim) for a in (axis1, axis2))
    return record(x.data.swapaxes(a1, a2), (x,), "swapaxes", _swapaxes_rule, (a1, a2))


def _broadcast_rule(g, out, args, ctx, needs):
    return (unbroadcast(g, args[0].shape),)


def broadcast_to(x: Tensor, *shape) -> Tensor:
    """A read-only broadcast view; its gradient sums over the copies."""
    shape = sizes("broadcast_to", shape)
    try:
        data = np.broadcast_to(x.data, shape)
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}") from None
    return record(data, (x,), "broadcast_to", _broadcast_rule)


def _is_basic(key) -> bool:
    parts = key if isinstance(key, tuple) else (key,)
    return all(
        p is None
        or p is Ellipsis
        or isinstance(p, slice)
        or (isinstance(p, (int, np.integer)) and not isinstance(p, bool))
        for p in parts
    )


def _getitem_rule(g, out, args, ctx, needs):
    key, basic = ctx
    return (d.scatter_add(g, args[0].shape, key, basic),)


def getitem(x: Tensor, index) -> Tensor:
    """``x[index]``, basic or advanced (int arrays, bool masks); NumPy semantics."""
    key = _index_key(index)
    if isinstance(key, list):
        key = np.asarray(key)
        if key.size == 0:
            key = key.astype(np.intp)  # x[[]] selects nothing, as NumPy
    try:
        data = x.data[key]
    except IndexError as e:
        raise IndexError(f"index: {e} (tensor of shape {x.shape}, index {shown(index)})") from None
    basic = _is_basic(key)
    if not basic and x.requires_grad:
        key = _own_arrays(key)
    return record(
        np.asarray(data) if np.ndim(data) == 0 else data, (x,), "index", _getitem_rule, (key, basic)
    )


def _own_arrays(key):
    """``key`` with its index arrays and lists copied: the caller may change them before
    backward."""
    if isinstance(key, tuple):
        return tuple(_own_index(k) for k in key)
    return _own_index(key)


def _own_index(k):
    if isinstance(k, np.ndarray):
        return k.copy()
    if isinstance(k, list):  # NumPy reads a list as an integer (or bool) array index
        a = np.array(k)
        return a if a.size else a.astype(np.intp)  # [] is an empty integer index
    return k


def _scatter_rule(g, out, args, ctx, needs):
    key, basic = ctx
    return (g[key],)


def scatter_add(g: Tensor, shape: tuple, index, basic: bool) -> Tensor:
    """Zeros of ``shape`` with ``g`` added at ``index``: the gradient of indexing,
    as a differentiable op (its own gradient is indexing again)."""
    return record(
        d.scatter_add(g.data, shape, index, basic),
        (g,),
        "scatter_add",
        _scatter_rule,
        (index, basic),
    )


def _concatenate_rule(g, out, args, ctx, needs):
    axis, bounds = ctx
    before = (slice(None),) * axis
    return tuple(
        g[before + (slice(lo, hi),)] if need else None for (lo, hi), need in zip(bounds, needs)
    )


def concatenate(tensors: Sequence, axis: int | None = 0) -> Tensor:
    """Join tensors along an existing axis (``axis=None``: flattened first, as NumPy)."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("concatenate: need at least one tensor")
    if axis is None:
        tensors, axis = [t.reshape(-1) for t in tensors], 0
    ndim = tensors[0].ndim
    if ndim == 0:
        raise ValueError("concatenate: 0-d tensors cannot be concatenated; use stack")
    axis = one_axis("concatenate", axis, ndim)
    for t in tensors:
        if (
            t.ndim != ndim
            or t.shape[:axis] + t.shape[axis + 1 :]
            != tensors[0].shape[:axis] + tensors[0].shape[axis + 1 :]
        ):
            raise ValueError(
                f"concatenate: shapes {[u.shape for u in tensors]} differ outside axis {axis}"
            )
    edges = np.cumsum([0] + [t.shape[axis] for t in tensors])
    bounds = tuple(zip(edges[:-1].tolist(), edges[1:].tolist()))
    data = np.concatenate([t.data for t in tensors], axis=axis)
    return record(data, tuple(tensors), "concatenate", _concatenate_rule, (axis, bounds))


def _stack_rule(g, out, args, ctx, needs):
    before = (slice(None),) * ctx
    return tuple(g[before + (i,)] if need else None for i, need in enumerate(needs))


def stack(tensors: Sequence, axis: int = 0) -> Tensor:
    """Join same-shaped tensors along a new axis."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: need at least one tensor")
    if any(t.shape != tensors[0].shape for t in tensors):
        raise ValueError(f"stack: all shapes must be equal, got {[t.shape for t in tensors]}")
    axis = one_axis("stack", axis, tensors[0].ndim + 1)
    data = np.stack([t.data for t in tensors], axis=axis)
    return record(data, tuple(tensors), "stack", _stack_rule, axis)


def _astype_rule(g, out, args, ctx, needs):
    return (g.astype(args[0].dtype),)


def astype(x: Tensor, dtype) -> Tensor:
    """The same values in another dtype; the gradient is cast back."""
    dtype = np.dtype(dtype)
    if dtype.kind not in "biuf":
        raise TypeError(f"astype: a tensor holds real numbers, not {dtype}")
    if x.requires_grad and dtype.kind != "f":
        raise TypeError(
            f"astype: a tensor that requires grad can only become floating, not {dtype}"
        )
    return record(x.data.astype(dtype), (x,), "astype", _astype_rule)
