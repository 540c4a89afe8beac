"""``Tensor``: an ndarray that remembers how it was made, plugged into the shared core.

Every op creates its output with :func:`record`, which stores the parents, the op
name, the op's gradient *rule* and whatever the rule needs saved (``ctx``). The
backward pass itself is ``micrograd.autodiff`` -- the very code the scalar engine
uses -- which calls the protocol methods below (``_vjp``, ``_receive_grad``, ...).

A rule has the signature ``rule(g, out, args, ctx, needs)`` and is written once:
in a plain backward ``g``, ``out`` and ``args`` are ndarrays; with
``create_graph=True`` they are Tensors and the rule's own operations record a
graph. ``needs[i]`` says whether parent ``i`` wants a gradient (None otherwise).
"""

from __future__ import annotations

import decimal
import dis
import math
import numbers
import os
import sys
import threading
import types
import weakref
from collections.abc import Sequence
from itertools import chain
from typing import Any

import numpy as np
from numpy.lib.array_utils import byte_bounds

from micrograd import autodiff

__all__ = ["Tensor", "tensor", "record", "is_tensor", "mark_changed"]

_grad_mode = autodiff._mode  # read directly: this is on every op's path
_depth_above = autodiff.depth_above


class _Freed:
    """Marks a node whose saved values were released by a backward pass."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<freed>"

    def __copy__(self) -> _Freed:
        return self  # one marker: a copied graph is freed as its original (``ctx is FREED``)

    def __deepcopy__(self, memo: dict) -> _Freed:
        return self


FREED = _Freed()
_ONE_NEEDS = (True,)


class _Anomaly(threading.local):
    def __init__(self) -> None:  # per thread; an instance attribute reads fastest
        self.enabled = False
        self.saved: list[bool] = []  # detect_anomaly's stack of modes to restore
        self.in_rule = False  # a rule is recording its own graph (create_graph=True)


anomaly_mode = _Anomaly()


class Tensor:
    """An n-dimensional array with gradients. NumPy semantics, PyTorch-flavoured names.

    ``data`` is the ndarray; ``grad`` is a Tensor (or None) after ``backward()``.
    Floating arrays keep their dtype; Python numbers, lists and integer arrays
    become float64 unless ``dtype=`` says otherwise. Only floating tensors may
    require grad.
    """

    __slots__ = (
        "data",
        "_grad",
        "_requires_grad",
        "_prev",
        "_depth",
        "_pass_grad",
        "_op",
        "_rule",
        "_ctx",
        "_retains_grad",
        "_origin",
        "_version",
        "_made_at",
        "label",
        "__weakref__",
    )
    __array_ufunc__ = None  # np_array * t and np.float64(2) * t come back to Tensor
    __hash__ = object.__hash__  # == is elementwise, identity stays hashable

    def __setstate__(self, state) -> None:
        """Copies and pickles: no sum of a running backward pass (``restore_node``), and a
        state saved when ``.grad`` was a plain slot goes to ``_grad`` unchecked (its
        gradient tensor may still be half restored)."""
        instance_dict, slots = state if isinstance(state, tuple) else (state, None)
        if slots and "grad" in slots:
            slots = {("_grad" if k == "grad" else k): v for k, v in slots.items()}
        autodiff.restore_node(self, (instance_dict, slots))

    def __deepcopy__(self, memo: dict) -> Tensor:
        """A copy of the whole graph below, parents first (no recursion), that refuses its
        backward as the original does (see ``_carry_changes``)."""
        return autodiff.copy_graph(self, memo, _carry_changes)

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        _check_flag("Tensor", requires_grad)
        self.data = _to_array(data, dtype)
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(
                f"Tensor: only floating tensors can require grad, got dtype {self.data.dtype}"
                " (pass float data or dtype=np.float64)"
            )
        _init_leaf(self, self.data)
        self._requires_grad = bool(requires_grad)

    # -- basic properties ---------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def size(self) -> int:
        return self.data.size

    def dim(self) -> int:
        """``ndim``, PyTorch's spelling (``p.dim() >= 2`` picks weight matrices)."""
        return self.data.ndim

    def numel(self) -> int:
        """The number of elements, PyTorch's spelling of ``size`` (``p.numel()`` counts a
        model's parameters)."""
        return self.data.size

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded op (inputs and parameters)."""
        return not self._prev

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self):
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")  # as PyTorch
        return (self[i] for i in range(len(self)))

    def __contains__(self, value: Any) -> bool:
        """``v in t``: whether any element equals ``v`` (as NumPy and PyTorch)."""
        return bool((self.data == _raw(value)).any())

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        if _reading.op and self._requires_grad and _grad_mode.enabled:
            raise RuntimeError(
                f"{_reading.op}: the values hold a tensor that is part of a graph (shape "
                f"{self.shape}, op {self._op or 'leaf'!r}), whose gradient would be dropped; "
                "build the result with tg.stack, tg.concatenate or tg.where instead"
            )
        # NumPy 2 passes copy=True for np.array(t) and trusts us to copy: writing into
        # the result must not change the tensor (or the values a graph saved).
        if copy:
            return np.array(self.data, dtype=dtype, copy=True)
        if dtype is None or dtype == self.data.dtype:
            return self.data
        if copy is False:
            raise ValueError(
                f"__array__: dtype {dtype} differs from the tensor's {self.data.dtype}, "
                "so the array cannot be returned without a copy (copy=False)"
            )
        return self.data.astype(dtype)

    def numpy(self) -> np.ndarray:
        """The data as an ndarray (shared, not copied)."""
        return self.data

    def item(self) -> float:
        if self.data.size != 1:
            raise ValueError(f"item: only one-element tensors convert, got shape {self.shape}")
        return self.data.item()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        """A one-element integer tensor as an index (``items[t.argmax()]``), as NumPy."""
        if self.data.dtype.kind not in "iub":
            raise TypeError(
                f"only integer tensors can be used as an index, got dtype {self.data.dtype}"
            )
        return self.item()

    def __format__(self, spec: str) -> str:
        # f"{loss:.4f}": one element formats as its number, as a NumPy 0-d array does
        if self.data.ndim == 0:
            return format(self.data.item(), spec)
        if spec:
            raise TypeError(
                f"unsupported format string {spec!r} for a tensor of shape {self.shape} "
                "(only 0-d tensors format as numbers)"
            )
        return str(self)

    def tolist(self) -> Any:
        """The data as nested Python lists of Python numbers (a number for a 0-d tensor)."""
        return self.data.tolist()

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(
                f"the truth value of a tensor of shape {self.shape} is ambiguous; "
                "use .any() or .all() on .data"
            )
        return bool(self.data.item())

    def detach(self) -> Tensor:
        """The same data (shared) as a new leaf that records no graph."""
        return _leaf(self.data)

    def to(self, target: Any) -> Tensor:
        """PyTorch's ``x.to(...)``: another floating dtype casts (``astype``, differentiable);
        the tensor's own dtype, or the device ``"cpu"``, gives the tensor itself
        (tensorgrad computes with NumPy, on the CPU)."""
        dtype = target_dtype("to", target)
        return self if dtype is None or dtype == self.data.dtype else self.astype(dtype)

    def float(self) -> Tensor:
        """``to(np.float32)``, PyTorch's spelling."""
        return self.to(np.float32)

    def double(self) -> Tensor:
        """``to(np.float64)``, PyTorch's spelling."""
        return self.to(np.float64)

    def retain_grad(self) -> Tensor:
        """Keep this interior tensor's gradient in ``.grad`` after backward.

        On a tensor that records no graph (a constant, or made under ``no_grad``) there is
        no gradient to keep, and nothing happens (PyTorch raises there).
        """
        if self._prev:
            self._retains_grad = True
        return self

    @property
    def requires_grad(self) -> bool:
        """Whether gradients flow to this tensor; settable on leaves, as ``requires_grad_``."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, requires_grad: bool) -> None:
        _check_flag("requires_grad", requires_grad)
        self.requires_grad_(requires_grad)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        _check_flag("requires_grad_", requires_grad)
        if self._prev and requires_grad:
            return self  # an op's output that requires grad already: nothing to change
        if self._prev:
            raise RuntimeError(
                "requires_grad: only leaf tensors can stop requiring grad; use .detach() "
                "for a copy outside the graph"
            )
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(
                f"requires_grad: only floating tensors can require grad, got dtype {self.dtype}"
            )
        self._requires_grad = bool(requires_grad)
        return self

    def zero_grad(self) -> None:
        self._grad = None

    @property
    def grad(self) -> Tensor | None:
        """The gradient summed into this tensor by backward, a Tensor of its shape and dtype."""
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        # As PyTorch: checked when assigned, where a backward would add into it later.
        if value is not None:
            _check_grad_fits(self, value, "grad")
        self._grad = value

    @property
    def _const(self) -> tuple[float, str] | None:
        """The scalar operand of ``t op c`` or ``c op t`` and its side, for drawings."""
        from .ops.elementwise import CONSTANT_ON_LEFT, SCALAR_RULES

        if self._ctx is None or self._rule not in SCALAR_RULES:  # (-x has no constant)
            return None
        return self._ctx, "left" if self._rule in CONSTANT_ON_LEFT else "right"

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", precision=4, prefix="tensor(")
        extra = f", shape={self.shape}" if self.data.size == 0 and self.data.ndim > 1 else ""
        if self.data.dtype != np.float64:
            extra += f", dtype={self.data.dtype}"
        if self._prev:
            extra += f", op={self._op!r}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    def __setitem__(self, index: Any, value: Any) -> None:
        # Under no_grad (a parameter's init or update, as PyTorch allows) the change goes
        # through; a graph that read the old values refuses its backward (mark_changed).
        if _grad_mode.enabled and (self.requires_grad or self._prev):
            raise RuntimeError(
                f"Tensor: in-place item assignment on a tensor that is part of a graph "
                f"(shape {self.shape}, op {self._op or 'leaf'!r}) would corrupt its gradients; "
                "assign into a copy (t.detach().numpy().copy()) or build a new tensor (or, to "
                "set a parameter's values, assign under 'with tg.no_grad():')"
            )
        if isinstance(value, Tensor) and value.requires_grad and _grad_mode.enabled:
            raise RuntimeError(
                f"item assignment: the value is a tensor that is part of a graph (shape "
                f"{value.shape}, op {value._op or 'leaf'!r}), whose gradient would be dropped; "
                "build the result with tg.where, tg.concatenate or tg.stack instead"
            )
        key = _index_key(index)
        try:
            values = real_values("item assignment", value, self.data.dtype)
        except (TypeError, ValueError, OverflowError):
            self._assign(index, key, None)  # a bad index is named first, as NumPy names it
            raise
        self._assign(index, key, values)
        mark_changed(self)

    def _assign(self, index: Any, key: Any, values: Any) -> None:
        """``data[key] = values``; with ``values`` None only the index is checked."""
        try:  # NumPy checks the index and the shapes before it writes anything
            if values is None:
                self.data[key]  # reading it checks the index
            else:
                self.data[key] = values
        except (IndexError, ValueError, OverflowError) as e:
            raise type(e)(
                f"item assignment: {e} (tensor of shape {self.shape} and dtype {self.dtype}, "
                f"index {shown(index)})"
            ) from None

    # -- backward ---------------------------------------------------------------------------

    def backward(
        self, gradient: Any = None, retain_graph: bool = False, create_graph: bool = False
    ) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` that requires grad.

        ``gradient`` is required unless the tensor has one element. The graph's saved
        values are freed afterwards unless ``retain_graph=True``; ``create_graph=True``
        records the backward pass so the gradients can be differentiated again.
        """
        with np.errstate(**QUIET):
            autodiff.backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph)

    # -- the backward core's node protocol ---------------------------------------------------

    def _vjp(self, g, graph: bool):
        ctx = self._ctx
        if ctx is FREED:
            raise RuntimeError(
                f"backward through the graph a second time: the values saved by "
                f"'{self._op}' (shape {self.shape}) were freed after the first backward. "
                "Pass retain_graph=True to the first backward() if you need to go through "
                "the graph again."
            )
        prev = self._prev
        if self._made_at != clock.now:  # something changed in place since: was it ours?
            _check_versions(self)
        if graph:
            # The ops a rule records are checked as one: by _check_backward, on what the
            # rule returns (a rule may make an inf that it masks out again, as pow's does).
            outer, anomaly_mode.in_rule = anomaly_mode.in_rule, True
            try:
                grads = self._rule(g, self, prev, ctx, [p._requires_grad for p in prev])
            finally:
                anomaly_mode.in_rule = outer
        elif len(prev) == 1:  # a recorded one-parent op: that parent requires grad
            grads = self._rule(g, self.data, (prev[0].data,), ctx, _ONE_NEEDS)
        elif len(prev) == 2:  # most ops; spelled out, this runs once per node
            a, b = prev
            grads = self._rule(
                g, self.data, (a.data, b.data), ctx, (a._requires_grad, b._requires_grad)
            )
        else:
            needs = [p._requires_grad for p in prev]
            grads = self._rule(g, self.data, [p.data for p in prev], ctx, needs)
        if anomaly_mode.enabled:
            _check_backward(self, g, grads)
        return grads

    @staticmethod
    def _check_grads(leaves: list, retained: list) -> None:
        # The .grad setter checks what is assigned; this catches a .grad that no longer
        # fits because .data was replaced since. Retained interior gradients add up too.
        for node in chain(leaves, retained):
            if node._grad is not None and node._requires_grad:
                _check_grad_fits(node, node._grad, "backward")

    def _receive_grad(self, g) -> None:
        if not self._requires_grad:  # a constant leaf
            return
        if not isinstance(g, Tensor):
            # .grad gets memory of its own. No rule hands overlapping memory to two
            # parents (add copies one side; slices of concatenate do not overlap), and
            # seeds are copied, so a gradient that arrives here is private unless it is
            # a read-only broadcast, or belongs to an interior node whose rule passes it
            # on to its parents.
            if g.dtype != self.data.dtype or not g.flags.writeable or self._prev:
                g = np.array(g, dtype=self.data.dtype)
            g = _leaf(g)
        else:  # create_graph: a differentiable copy in this tensor's dtype (never an alias
            g = g.astype(self.data.dtype)  # of the seed, or of another tensor's .grad)
        self._grad = g if self._grad is None else self._grad + g

    def _free_saved(self) -> None:
        # A scalar operand (x * 2) is part of the graph's structure, like the forward
        # values: it stays, so the graph can still be drawn. Saved arrays go.
        if type(self._ctx) not in (bool, int, float):
            self._ctx = FREED

    def _seed(self, gradient, graph: bool, op: str = "backward", arg: str = "gradient"):
        # op and arg name the call and its argument in messages: backward's gradient=, or
        # grad's grad_outputs[i].
        if not self.requires_grad:
            raise RuntimeError(
                f"{op}: this tensor does not require grad and has no graph (was it made "
                "from tensors without requires_grad=True, or under no_grad?)"
            )
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"{op}: the output has shape {self.shape}, so it needs a gradient to start "
                    f"from: pass {arg} (an array of shape {self.shape}), or reduce the output "
                    "to one element first (e.g. .sum())"
                )
            seed = np.ones(self.shape, self.data.dtype)
            return _leaf(seed) if graph else seed
        if isinstance(gradient, Tensor):
            if graph:  # recorded: cast (differentiably) to the output's dtype when it differs
                seed = self._lift(gradient)
            else:
                seed = np.array(gradient.data, dtype=self.data.dtype)
        else:
            # A copy: .grad never aliases it. Without a graph, a tensor in a list loses nothing.
            seed = real_values(f"{op}: {arg}", gradient, self.data.dtype, keep_graphs=not graph)
            seed = np.array(seed, copy=True)
        if seed.shape != self.shape:
            raise ValueError(
                f"{op}: {arg} has shape {seed.shape} but the output has shape "
                f"{self.shape}; pass a gradient of the output's shape"
            )
        if graph and not isinstance(seed, Tensor):
            return _leaf(seed)
        return seed

    def _lift(self, g) -> Tensor:
        """A gradient of this node as a tensor of this node's dtype (a raw one: a constant)."""
        if isinstance(g, Tensor):
            return g if g.data.dtype == self.data.dtype else g.astype(self.data.dtype)
        return _leaf(np.array(g, dtype=self.data.dtype))


Tensor._parents = Tensor._prev  # the same slot: the pass walks the graph a tensor shows


# A backward pass computes without NumPy's floating-point warnings, as PyTorch's never
# warns: sqrt's slope at 0 is inf by the math, and a flat relu above it masks it anyway.
# detect_anomaly() finds the op that makes an inf or nan.
QUIET = {"divide": "ignore", "invalid": "ignore", "over": "ignore"}


def target_dtype(op: str, target: Any) -> np.dtype | None:
    """What ``to(target)`` asks for: a floating dtype, or None for no change (None, or the
    device "cpu", "cpu:0", ...)."""
    if target is None:
        return None
    if isinstance(target, str) and target.split(":")[0].lower() in ("cpu", "cuda", "mps"):
        if target.split(":")[0].lower() != "cpu":
            raise ValueError(f"{op}: tensorgrad computes with NumPy, on the CPU; no {target!r}")
        return None
    try:
        dtype = np.dtype(target)
    except TypeError:
        raise TypeError(f"{op}: expected a floating dtype or 'cpu', got {target!r}") from None
    if dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating dtype or 'cpu', got {dtype}")
    return dtype


def is_tensor(x: Any) -> bool:
    return isinstance(x, Tensor)


# ----------------------------------------------------------------------------- creation


def _to_array(data: Any, dtype: Any = None) -> np.ndarray:
    """Array for a new tensor: floats keep their dtype; numbers, lists, ints become float64."""
    if isinstance(data, Tensor):
        data = data.data
    try:
        arr = np.array(data)  # what the data is, before any dtype= could convert it
    except ValueError as e:  # a ragged list
        raise ValueError(f"Tensor: data must be a rectangular array of numbers ({e})") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"Tensor: data must be real numbers, got dtype {arr.dtype} from {type(data).__name__}"
        )
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"Tensor: dtype must be a real number type, got {arr.dtype}")
    elif arr.dtype.kind in "biu":
        arr = arr.astype(np.float64)
    return arr


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """Make a tensor (a copy of ``data``); see :class:`Tensor`."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


_new = object.__new__


def _init_leaf(t: Tensor, data: np.ndarray) -> None:
    """Fill every slot of ``t``: a leaf around ``data`` that records no graph."""
    t.data = data
    t._grad = None
    t._requires_grad = False
    t._prev = ()
    t._depth = 0
    t._pass_grad = None
    t._op = ""
    t._rule = None
    t._ctx = None
    t._retains_grad = False
    t._origin = None
    t._version = 0
    t._made_at = 0
    t.label = ""


def _leaf(data: np.ndarray) -> Tensor:
    """A tensor around ``data`` (not copied) that records no graph."""
    t = _new(Tensor)
    _init_leaf(t, data)
    return t


def record(data: np.ndarray, parents: tuple, op: str, rule, ctx: Any = None) -> Tensor:
    """The output of an op: a graph node if grad mode is on and a parent requires grad."""
    if type(data) is not np.ndarray:
        data = np.asarray(data)
    if not _grad_mode.enabled:
        return _leaf(data)
    for p in parents:
        if p._requires_grad:
            break
    else:  # no parent needs a gradient: a constant
        return _leaf(data)
    out = _new(Tensor)  # every slot set once: this runs for every op
    out.data = data
    out._grad = None
    out._requires_grad = True
    out._prev = parents
    out._depth = _depth_above(parents)  # the core's backward goes by depth
    out._pass_grad = None
    out._op = op
    out._rule = rule
    out._ctx = ctx
    out._retains_grad = False
    out._origin = None
    out._version = 0
    out._made_at = clock.now  # a parent changed in place after this makes backward raise
    out.label = ""
    if anomaly_mode.enabled:
        out._origin = _user_location()
        if not anomaly_mode.in_rule:
            _check_forward(out)
    return out


def as_tensor(x: Any) -> Tensor:
    """``x`` itself if a Tensor, else a constant tensor that keeps NumPy's dtype rules."""
    if isinstance(x, Tensor):
        return x
    return _leaf(real_array("operand", x))


def numpy_options(
    op: str, x: Any, out: Any = None, dtype: Any = None, others: Any = (), floating: bool = False
) -> Any:
    """What NumPy's functions pass on to a tensor's method (``np.sum(t)`` is
    ``t.sum(axis=None, out=None)``): ``x``, cast to ``dtype`` if one is given (NumPy's and
    PyTorch's dtype= compute in it; only a floating one if ``floating``, for ops whose
    result is one). ``out=`` and the ``others`` named are refused with a ValueError naming
    ``op``: NumPy takes a TypeError from a method for "no such method" and goes on with
    the bare array, outside the graph."""
    refused = ([] if out is None else ["out"]) + sorted(others)
    if refused:
        raise ValueError(
            f"{op}: {', '.join(name + '=' for name in refused)} not supported "
            "(tensorgrad's ops return a new tensor)"
        )
    if dtype is None:
        return x
    try:
        if floating and np.dtype(dtype).kind != "f":
            raise TypeError("its result is floating, so dtype= must be a floating type too")
        return x.astype(dtype)
    except TypeError as e:
        raise TypeError(f"{op}: dtype={dtype!r}: {e}") from None


def real_array(op: str, value: Any, keep_graphs: bool = False) -> np.ndarray:
    """``value`` (a Tensor, an array-like or a number) as an array of real numbers, read as
    :func:`plain_numbers` reads it; anything else is a TypeError naming ``op``."""
    arr = plain_numbers(op, value, keep_graphs=keep_graphs)
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"{op}: expected real numbers (a Tensor, an array or a number), got "
            f"{type(value).__name__} of dtype {arr.dtype}"
        )
    return arr


def scalar_constant(x: Any):
    """A Python/NumPy real scalar as a Python number (a weak operand), else None."""
    if type(x) is float or type(x) is int:
        return x
    if isinstance(x, (bool, np.bool_)):
        return bool(x)  # weak, as NumPy: bool_tensor + True stays bool
    if isinstance(x, numbers.Integral):
        return int(x)
    if isinstance(x, numbers.Real):
        return float(x)
    return None


class _Reading(threading.local):
    op = ""  # while values are read as plain numbers for this op, Tensor.__array__ refuses
    # a tensor that requires grad (its gradient would be silently dropped)


_reading = _Reading()


def plain_numbers(op: str, value: Any, dtype: Any = None, keep_graphs: bool = False):
    """``np.asarray(value, dtype)`` for ``op``; unless ``keep_graphs``, a tensor inside it
    that is part of a graph being recorded is refused (see ``Tensor.__array__``)."""
    # Only a list or tuple holds tensors as elements; an object's own __array__ may call
    # into tensorgrad, which must not be refused.
    reads = not keep_graphs and isinstance(value, (list, tuple))
    outer, _reading.op = _reading.op, (op if reads else "")
    try:
        return np.asarray(value, dtype)
    finally:
        _reading.op = outer


def real_values(op: str, value: Any, dtype: Any = None, keep_graphs: bool = False) -> Any:
    """``value`` (a tensor, a number or an array-like) as real numbers for ``op``, converted
    and checked before anything is written: NumPy converts a list element by element as it
    writes, so a bad element would leave a tensor half-changed. With ``dtype`` (item
    assignment, seeds) the result is in that dtype, converted as NumPy's assignment converts
    (300 into int8 overflows), so the write itself cannot fail. Without it (an in-place
    operator's operand) object values are refused, as NumPy's ufuncs refuse them."""
    try:
        if isinstance(value, Tensor):
            values = value.data
        elif scalar_constant(value) is not None:
            if dtype is None:
                return value  # left to NumPy's casting
            cell = np.empty((), dtype)  # converted by NumPy's own item assignment
            cell[()] = value
            return cell
        else:
            values = plain_numbers(op, value, keep_graphs=keep_graphs)
            if values.dtype.kind == "O":  # ints beyond 64 bits, Decimals; float() would
                for item in values.flat:  # also parse strings and read tensors
                    if not isinstance(item, (numbers.Real, decimal.Decimal)) or dtype is None:
                        raise TypeError(f"got a {type(item).__name__} among the values")
                values = values.astype(dtype)
            elif values.dtype.kind not in "biuf":  # strings, complex numbers
                raise TypeError(f"got {type(value).__name__} of dtype {values.dtype}")
            elif dtype is not None and not isinstance(value, np.ndarray):
                # Python ints checked against dtype
                values = plain_numbers(op, value, dtype, keep_graphs=keep_graphs)
        return values if dtype is None else np.asarray(values, dtype)
    except (TypeError, ValueError, OverflowError) as e:  # a ragged list: ValueError
        raise type(e)(f"{op}: the values must be an array of real numbers; {e}") from None


def shown(value: Any, limit: int = 80) -> str:
    """``repr(value)`` on one line, cut to ``limit`` characters, for error messages (an
    index of a thousand ids would fill the screen)."""
    text = " ".join(repr(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _index_key(index: Any) -> Any:
    """An index with Tensors replaced by their arrays."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index


# ----------------------------------------------------------------------------- anomaly mode

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_CORE_DIR = os.path.dirname(os.path.abspath(autodiff.__file__))


def _user_location() -> str:
    """``file:line`` of the innermost frame outside tensorgrad and the core."""
    frame = sys._getframe(1)
    while frame is not None:
        path = os.path.abspath(frame.f_code.co_filename)
        if not (path.startswith(_PACKAGE_DIR + os.sep) or path.startswith(_CORE_DIR + os.sep)):
            return f"{frame.f_code.co_filename}:{frame.f_lineno}"
        frame = frame.f_back
    return "<unknown>"


class _Clock:
    """Counts in-place changes to tensors; a tensor's ``_version`` is the count at its last."""

    __slots__ = ("now",)

    def __init__(self) -> None:
        self.now = 0


clock = _Clock()


# Changes are noted per block of memory too: tensors that share one (x.detach(), a view
# made by indexing or reshape) see each other's changes, as PyTorch's views share a
# version counter. Per array that owns memory, while it lives: the byte ranges changed
# and the clock at each one's last change (disjoint slices of one array stay apart).
_memory_changes: dict[int, dict[tuple[int, int], int]] = {}
# and each such owner's own bounds (byte_bounds takes ~1 us; an optimizer step marks
# every parameter, an owner, every step)
_owner_bounds: dict[int, tuple[int, int]] = {}
# and the clock at each owner's latest change anywhere in its memory: a graph made after
# that needs no look at byte ranges (BatchNorm's running statistics change every forward,
# an optimizer step every parameter)
_owner_latest: dict[int, int] = {}


def _memory_owner(a: np.ndarray) -> np.ndarray:
    """The outermost array whose memory ``a`` is, or views (through as_strided's too)."""
    owner = a
    while (a := getattr(a, "base", None)) is not None:
        if isinstance(a, np.ndarray):
            owner = a
    return owner


def _check_grad_fits(t: Tensor, grad: Any, op: str) -> None:
    """A tensor's gradient is a Tensor of its shape and dtype, else the error says why."""
    fix = "a tensor's .grad is a Tensor of its shape and dtype, or None (zero_grad())"
    if not isinstance(grad, Tensor):
        raise TypeError(f"{op}: got a {type(grad).__name__} for a .grad; {fix}")
    if grad.shape != t.data.shape:
        raise ValueError(
            f"{op}: a gradient of shape {grad.shape} for a tensor of shape {t.data.shape}; {fix}"
        )
    if grad.dtype != t.data.dtype:
        raise TypeError(f"{op}: a {grad.dtype} gradient for a {t.data.dtype} tensor; {fix}")


def _check_flag(op: str, requires_grad: Any) -> None:
    """As PyTorch: requires_grad is a bool (the string "no" is truthy)."""
    if not isinstance(requires_grad, bool | np.bool_):
        where = f"{op}: " if op != "requires_grad" else ""  # t.requires_grad = ... says it
        raise TypeError(f"{where}requires_grad must be a bool, got {requires_grad!r}")


def mark_changed(t: Tensor) -> None:
    """Note that ``t.data`` was changed in place: a graph made before that reads ``t``, or
    a tensor sharing its memory, refuses to run its backward rather than silently using
    the new values."""
    clock.now += 1
    t._version = clock.now
    _note_change(t.data, clock.now)


def _note_change(a: np.ndarray, at: int) -> None:
    """Note that the bytes within ``a``'s bounds changed at clock ``at``."""
    owner = _memory_owner(a)
    key = id(owner)
    changes = _memory_changes.get(key)
    if changes is None:  # the owner's first change (threads may race to note it)
        _owner_bounds[key] = byte_bounds(owner)  # first: another thread may read it next
        changes = _memory_changes.setdefault(key, new := {})
        if changes is new:
            weakref.finalize(owner, _forget_owner, key)
    bounds = _owner_bounds[key] if a is owner else byte_bounds(a)
    changes[bounds] = max(at, changes.get(bounds, 0))
    if at > _owner_latest.get(key, 0):
        _owner_latest[key] = at


def _forget_owner(key: int) -> None:
    _memory_changes.pop(key, None)
    _owner_bounds.pop(key, None)
    _owner_latest.pop(key, None)


def _carry_changes(original: Tensor, twin: Tensor) -> None:
    """A deep copy's new array takes over the in-place changes noted for the memory of the
    array it copies, so a graph that refused its backward still refuses it in the copy."""
    changed_at = _last_change(original.data)
    if changed_at:
        _note_change(twin.data, changed_at)


def _changed_after(a: np.ndarray, t: int) -> bool:
    """Whether bytes within ``a``'s bounds changed in place after clock ``t``: one lookup
    unless its memory changed somewhere since (then the byte ranges tell)."""
    if _owner_latest.get(id(_memory_owner(a)), 0) <= t:
        return False
    return _last_change(a) > t


def _last_change(a: np.ndarray) -> int:
    """The clock at the last in-place change to bytes within ``a``'s bounds (0: none)."""
    changes = _memory_changes.get(id(_memory_owner(a)))
    if not changes:
        return 0
    low, high = byte_bounds(a)
    return max(
        (at for (start, end), at in changes.items() if start < high and low < end), default=0
    )


# Names through which a function can read its own locals without naming them.
_INDIRECT_READS = frozenset({"locals", "vars", "eval", "exec", "_getframe", "f_locals"})


def _mentions_output(rule) -> bool:
    """Whether the bytecode of a rule ``(g, out, args, ctx, needs)`` names its ``out``
    parameter (a callable without bytecode, or one that may read its locals indirectly,
    counts as naming it)."""
    bound = isinstance(rule, types.MethodType)  # its function's parameters start with self
    code = getattr(rule.__func__ if bound else rule, "__code__", None)
    index = 2 if bound else 1
    if code is None or code.co_argcount <= index or _INDIRECT_READS & set(code.co_names):
        return True
    out = code.co_varnames[index]
    if out in code.co_cellvars:  # read by a function nested in the rule
        return True
    for ins in dis.get_instructions(code):  # 3.13 pairs loads: LOAD_FAST_LOAD_FAST ('g', 'out')
        names = ins.argval if isinstance(ins.argval, tuple) else (ins.argval,)
        if out in names and ("FAST" in ins.opname or "DEREF" in ins.opname):
            return True
    return False


# Fail-safe: should a Python version encode local reads in a way the scan misses, it
# misses this one too, and every rule then counts as reading its output.
_SCAN_WORKS = _mentions_output(lambda g, out, args, ctx, needs: g * out) and not (
    _mentions_output(lambda g, out, args, ctx, needs: g * args[0])
)


def _reads_output(rule) -> bool:
    """Whether a gradient rule may read ``out`` (exp's, tanh's and division's do; mul's and
    sum's do not), so an in-place change to the op's output would spoil its gradient."""
    return not _SCAN_WORKS or _mentions_output(rule)


def _check_versions(node: Tensor) -> None:
    made = node._made_at
    if _changed_after(node.data, made) and _reads_output(node._rule):
        raise RuntimeError(
            f"backward: the output of '{node._op}' (shape {node.shape}) was changed in place "
            "through a tensor sharing its memory (such as its detach() or a view) after the op "
            "made it, so its gradient would be wrong; change a copy instead"
        )
    for i, p in enumerate(node._prev):
        if p._version > made or _changed_after(p.data, made):
            raise RuntimeError(
                f"backward: input {i} of '{node._op}' (shape {p.shape}) was changed in place "
                "(item assignment, an in-place operator, an optimizer step, load_state_dict "
                "or nn.init; itself or a tensor sharing its memory, such as its detach() or a "
                "view) after the op used it, so its gradient would be wrong; recompute the "
                "forward after changing it, or change a copy"
            )


def _nonfinite(a: np.ndarray) -> bool:
    return a.dtype.kind == "f" and not np.isfinite(a).all()


def _raw(x):
    return x.data if isinstance(x, Tensor) else x


def _check_forward(out: Tensor) -> None:
    # A scalar operand (x + inf) is not a parent: the op keeps it in its ctx.
    constant = out._ctx if type(out._ctx) is float else 0.0
    if (
        _nonfinite(out.data)
        and math.isfinite(constant)
        and not any(_nonfinite(p.data) for p in out._prev)
    ):
        raise FloatingPointError(
            f"detect_anomaly: the forward of '{out._op}' (created at {out._origin}) produced "
            f"nan/inf in an output of shape {out.shape} from finite inputs"
        )


def _check_backward(node: Tensor, g, grads: Sequence) -> None:
    inputs = [g, node, *node._prev]  # nan/inf in any of these came in: not made here
    for i, pg in enumerate(grads):
        if pg is None:
            continue
        arr = np.asarray(pg.data if isinstance(pg, Tensor) else pg)
        if _nonfinite(arr) and not any(_nonfinite(np.asarray(_raw(x))) for x in inputs):
            where = node._origin or "an unknown place (enable detect_anomaly before the forward)"
            raise FloatingPointError(
                f"detect_anomaly: the backward of '{node._op}' (created at {where}) produced "
                f"nan/inf in the gradient of its input {i} (shape {np.shape(arr)})"
            )


# The ops are defined next to their rules in tensorgrad/ops and attached here.
from .ops import install as _install_ops  # noqa: E402

_install_ops(Tensor)
