"""Elementwise ops with NumPy broadcasting: forward and gradient rule side by side.

Broadcasting copies an operand along new or size-1 dimensions, so its gradient
is the sum over those copies: every rule hands its result to :func:`unbroadcast`.
"""

from __future__ import annotations

import math

import numpy as np

from ..tensor import (
    Tensor,
    _grad_mode,
    as_tensor,
    mark_changed,
    numpy_options,
    real_values,
    record,
    scalar_constant,
)
from . import _dual as d


def unbroadcast(g, shape: tuple):
    """Sum ``g`` down to ``shape``, undoing NumPy broadcasting.

    Leading dimensions that broadcasting added are summed away; dimensions where
    ``shape`` has 1 but ``g`` has more are summed with keepdims.
    """
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    if lead:
        g = g.sum(axis=tuple(range(lead)))
    ones = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if ones:
        g = g.sum(axis=ones, keepdims=True)
    return g


def _broadcast_shape(op: str, a: Tensor, b: Tensor) -> None:
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(
            f"{op}: shapes {a.shape} and {b.shape} cannot be broadcast together "
            "(NumPy rules: align from the right; each pair of sizes must be equal or 1)"
        ) from None


def _fits(shape: tuple, target: tuple) -> bool:
    """Whether an operand of ``shape`` broadcasts to exactly ``target`` (``x op= y``)."""
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


# -- binary ops between two tensors ------------------------------------------------------


def _add_rule(g, out, args, ctx, needs):
    a, b = args
    ga = unbroadcast(g, a.shape) if needs[0] else None
    gb = unbroadcast(g, b.shape) if needs[1] else None
    if ga is gb and ga is not None:
        gb = gb * 1  # no rule hands one array to two parents: each .grad owns its memory
    return ga, gb


def _sub_rule(g, out, args, ctx, needs):
    a, b = args
    return (
        unbroadcast(g, a.shape) if needs[0] else None,
        unbroadcast(-g, b.shape) if needs[1] else None,
    )


def _mul_rule(g, out, args, ctx, needs):
    a, b = args
    return (
        unbroadcast(g * b, a.shape) if needs[0] else None,
        unbroadcast(g * a, b.shape) if needs[1] else None,
    )


def _square_rule(g, out, args, ctx, needs):
    # x * x, one node in both slots: d(x²)/dx = 2x, all in the first slot. (Recorded for
    # the node, not seen in the arrays: x.detach() shares x's array but is a constant.)
    a = args[0]
    one = d.broadcast_scalar(g)
    if one is not None:  # g is one number broadcast (below a sum): one pass over x
        ga = a * (2 * one)
    elif isinstance(g, np.ndarray):
        ga = g * a
        ga *= 2  # in place: one temporary less on a hot path (x * x in losses)
    else:
        ga = g * a * 2
    return unbroadcast(ga, a.shape), None


def _div_rule(g, out, args, ctx, needs):
    a, b = args  # d(a/b)/da = 1/b;  d(a/b)/db = -a/b² = -(a/b)/b
    ga = g / b
    return (
        unbroadcast(ga, a.shape) if needs[0] else None,
        unbroadcast(-ga * out, b.shape) if needs[1] else None,
    )


def _pow_rule(g, out, args, ctx, needs):
    a, b = args  # d(a^b)/da = b a^(b-1);  d(a^b)/db = a^b log a
    ga = gb = None
    base, exponent = d.raw(a), d.raw(b)
    if needs[0]:
        # At b = 0 the slope is 0, but b · a^(b-1) is 0 · inf or 0 · nan where a or a^(b-1)
        # is not finite (a = 0, a tiny, inf, nan): 0 there, as PyTorch. Elsewhere the product
        # stays, so that with create_graph its derivative in b (a^(b-1) at b = 0) is kept.
        power = a ** (b - 1)
        slope = g * b * power
        flat = (exponent == 0) & ~(np.isfinite(base) & np.isfinite(d.raw(power)))
        ga = unbroadcast(d.where(flat, 0, slope) if flat.any() else slope, a.shape)
    if needs[1]:
        # log a where it is undefined, as PyTorch takes it: at a = 0, 0 where b >= 0 (the
        # limit of a^b log a) and -inf where b < 0 (a^b · -inf = -inf); nan where a < 0.
        # The product keeps a^b, so create_graph records through it there too.
        dtype = d.raw(out).dtype
        if base.dtype.kind != "f":  # an integer base (a constant): log in the result's type
            a = base.astype(dtype)
        positive = base > 0
        undefined = np.where(base == 0, np.where(exponent >= 0, 0.0, -np.inf), np.nan)
        log_a = d.where(positive, d.log(d.where(positive, a, 1)), undefined.astype(dtype))
        gb = unbroadcast(g * out * log_a, b.shape)
    return ga, gb


def _extremum_rule(g, out, args, ctx, needs):
    wa, wb = ctx  # each side's share of the gradient, see _extremum
    a, b = args
    return (
        unbroadcast(d.gated(g, wa), a.shape) if needs[0] else None,
        unbroadcast(d.gated(g, wb), b.shape) if needs[1] else None,
    )


def _where_rule(g, out, args, ctx, needs):
    a, b = args
    cond = ctx
    return (
        unbroadcast(d.where(cond, g, 0), a.shape) if needs[0] else None,
        unbroadcast(d.where(cond, 0, g), b.shape) if needs[1] else None,
    )


_BINARY = {
    "+": (np.add, _add_rule),
    "-": (np.subtract, _sub_rule),
    "*": (np.multiply, _mul_rule),
    "/": (np.true_divide, _div_rule),
    "**": (np.power, _pow_rule),
}


def _binary(op: str, a: Tensor, b: Tensor) -> Tensor:
    forward, rule = _BINARY[op]
    try:
        data = forward(a.data, b.data)
    except ValueError:
        _broadcast_shape(op, a, b)  # says which shapes did not broadcast
        raise
    if a is b and rule is _mul_rule:
        rule = _square_rule
    return record(data, (a, b), op, rule)


# -- a tensor and a Python/NumPy scalar: the scalar is a constant, not a node -------------


def _same_rule(g, out, args, ctx, needs):  # x + c, x - c
    return (g,)


def _negate_rule(g, out, args, ctx, needs):  # c - x, -x
    return (-g,)


def _scale_rule(g, out, args, ctx, needs):  # x * c
    return (g * ctx,)


def _div_const_rule(g, out, args, ctx, needs):  # x / c
    return (g / ctx,)


def _rdiv_rule(g, out, args, ctx, needs):  # c / x: d/dx = -c/x² = -out/x
    return (-g * out / args[0],)


def _pow_const_rule(g, out, args, ctx, needs):  # x ** c
    if ctx == 0:  # x^0 is constant: slope 0, even at x = 0
        return (g * 0,)
    return (g * ctx * args[0] ** (ctx - 1),)


def _rpow_rule(g, out, args, ctx, needs):  # c ** x: d/dx = c^x log c
    if ctx == 0:  # log 0 taken as 0 where x >= 0 (PyTorch's mask), else -inf: out · log c
        x = d.raw(args[0])  # stays in the formula, so create_graph records through it
        return (g * out * np.where(x >= 0, 0.0, -np.inf).astype(x.dtype),)
    log_c = math.log(ctx) if ctx > 0 else math.nan  # a weak scalar: keeps float32
    return (g * out * log_c,)


_WITH_SCALAR = {  # op -> (forward(x, c), rule, reflected forward(c, x), reflected rule)
    "+": (np.add, _same_rule, None, _same_rule),
    "-": (np.subtract, _same_rule, lambda c, x: c - x, _negate_rule),
    "*": (np.multiply, _scale_rule, None, _scale_rule),
    "/": (np.true_divide, _div_const_rule, lambda c, x: c / x, _rdiv_rule),
    "**": (np.power, _pow_const_rule, lambda c, x: c**x, _rpow_rule),
}


# Rules of ops with a scalar operand (its value is the ctx), for drawings.
SCALAR_RULES = (
    _same_rule,
    _negate_rule,
    _scale_rule,
    _div_const_rule,
    _rdiv_rule,
    _pow_const_rule,
    _rpow_rule,
)
CONSTANT_ON_LEFT = (_negate_rule, _rdiv_rule, _rpow_rule)


def operator(op: str, reflected: bool = False):
    """The method for ``self op other`` (``other op self`` when reflected)."""
    forward, rule, rforward, rrule = _WITH_SCALAR[op]
    if reflected:
        rule = rrule

    def method(self: Tensor, other):
        if isinstance(other, Tensor):
            return _binary(op, other, self) if reflected else _binary(op, self, other)
        c = scalar_constant(other)
        if c is not None:
            if reflected:
                data = rforward(c, self.data) if rforward else forward(c, self.data)
            else:
                data = forward(self.data, c)
            return record(data, (self,), op, rule, c)
        if isinstance(other, (np.ndarray, list, tuple)):
            other = as_tensor(other)
            return _binary(op, other, self) if reflected else _binary(op, self, other)
        if isinstance(other, (str, bytes)):  # not NotImplemented: str * t would repeat str
            left, right = (other, self) if reflected else (self, other)
            raise TypeError(
                f"unsupported operand type(s) for {op}: '{type(left).__name__}' and "
                f"'{type(right).__name__}'"
            )
        return NotImplemented

    return method


def inplace(op: str):
    """``self op= other``, as PyTorch: in place on a leaf outside any graph (a parameter
    update under ``no_grad``), an error on a leaf that records a graph; a graph node, or
    a graph operand, makes a new node instead (``x = x op other``, nothing is lost)."""
    forward = _WITH_SCALAR[op][0]

    def method(self: Tensor, other):
        recording = _grad_mode.enabled
        if (
            not isinstance(other, (Tensor, np.ndarray, list, tuple))
            and scalar_constant(other) is None
        ):
            return NotImplemented
        graph_operand = recording and isinstance(other, Tensor) and other.requires_grad
        if self._prev or graph_operand or not self.data.flags.writeable:
            return NotImplemented  # Python falls back to self = self op other
        if recording and self.requires_grad:
            raise RuntimeError(
                f"in-place {op}= on a leaf tensor that requires grad (shape {self.shape}) would "
                f"change it behind the graph's back; update parameters inside "
                f"'with tg.no_grad():', or write x = x {op} y for a new tensor"
            )
        name = f"in-place {op}="
        value = real_values(name, other)
        shape = np.shape(value)
        if shape != self.shape and not _fits(shape, self.shape):
            raise ValueError(
                f"{name}: an operand of shape {shape} does not fit a tensor of shape "
                f"{self.shape} (the result must keep the tensor's shape)"
            )
        in_place = self.dtype.kind == "f"  # a float op never stops midway through its loop
        try:
            if in_place:
                forward(self.data, value, out=self.data)
            else:  # an integer op can fail midway (a negative power): into a copy first
                self.data[...] = forward(self.data, value, out=np.empty_like(self.data))
        except TypeError as e:  # NumPy refuses to cast, e.g. a float result into ints
            raise TypeError(f"{name} into a tensor of dtype {self.dtype}: {e}") from None
        except ValueError as e:
            raise ValueError(f"{name} on a tensor of dtype {self.dtype}: {e}") from None
        except FloatingPointError:  # np.seterr(all="raise"): in place, NumPy may raise
            if in_place:  # after its loop wrote, so the change is noted to be safe
                mark_changed(self)
            raise
        mark_changed(self)  # a graph that saved this tensor will refuse to use it
        return self

    return method


def maximum(a, b) -> Tensor:
    """Elementwise max; at ties each side gets half the gradient, nan wins (as PyTorch)."""
    return _extremum("maximum", np.maximum, np.less, a, b)


def minimum(a, b) -> Tensor:
    """Elementwise min; at ties each side gets half the gradient, nan wins (as PyTorch)."""
    return _extremum("minimum", np.minimum, np.greater, a, b)


def _pair(a, b) -> tuple[Tensor, Tensor]:
    """Two operands as tensors; a scalar is weak, as in NumPy: it takes the other side's
    dtype when that holds it (float32 stays float32), else promotes (int with 2.5: float)."""
    if (number := scalar_constant(a)) is not None and isinstance(b, Tensor):
        a = np.asarray(number, dtype=np.result_type(b.dtype, number))
    if (number := scalar_constant(b)) is not None and isinstance(a, Tensor):
        b = np.asarray(number, dtype=np.result_type(a.dtype, number))
    return as_tensor(a), as_tensor(b)


def _extremum(op: str, forward, loses, a, b) -> Tensor:
    a, b = _pair(a, b)
    _broadcast_shape(op, a, b)
    x, y = a.data, b.data
    if not (_grad_mode.enabled and (a.requires_grad or b.requires_grad)):
        return record(forward(x, y), (a, b), op, _extremum_rule)  # a constant: no weights
    # A side gets the gradient unless it lost, half of it at a tie. A nan compares false
    # both ways, so where one is nan (the result is nan) both sides get it, as PyTorch.
    dtype = np.result_type(x, y)
    half_at_ties = (x == y) * np.asarray(0.5, dtype)
    wa = (~loses(x, y)).astype(dtype) - half_at_ties
    wb = (~loses(y, x)).astype(dtype) - half_at_ties
    return record(forward(x, y), (a, b), op, _extremum_rule, (wa, wb))


def where(condition, a, b) -> Tensor:
    """``a`` where ``condition`` holds, else ``b`` (broadcast), like ``np.where``.

    Pitfall: the gradient of the branch *not* chosen is multiplied by 0, and
    0 * nan = nan. ``where(x > 0, x.sqrt(), 0)`` has a nan gradient at x < 0
    because sqrt's own rule is nan there; take the sqrt of a safe input instead:
    ``where(x > 0, where(x > 0, x, 1).sqrt(), 0)``.
    """
    # A copy: the rule reads the mask, and the caller may refill it before backward.
    cond = np.array(condition.data if isinstance(condition, Tensor) else condition, dtype=bool)
    a, b = _pair(a, b)
    _broadcast_shape("where", a, b)
    try:
        np.broadcast_shapes(cond.shape, a.shape, b.shape)
    except ValueError:
        raise ValueError(
            f"where: condition shape {cond.shape} does not broadcast with {a.shape} and {b.shape}"
        ) from None
    return record(np.where(cond, a.data, b.data), (a, b), "where", _where_rule, cond)


def masked_fill(x: Tensor, mask, value) -> Tensor:
    """``value`` where the bool ``mask`` holds, else ``x``, in ``x``'s shape and dtype:
    PyTorch's ``masked_fill`` (an attention mask: ``scores.masked_fill(~causal, -np.inf)``),
    ``where(mask, value, x)`` with the mask and the value broadcast to ``x``."""
    x = as_tensor(x)
    m = np.asarray(mask.data if isinstance(mask, Tensor) else mask)
    if m.dtype != bool:
        raise TypeError(f"masked_fill: the mask must be bool, as PyTorch's, got dtype {m.dtype}")
    raw = value.data if isinstance(value, Tensor) else value
    for name, shape in (("mask", m.shape), ("value", np.shape(raw))):
        try:
            fits = np.broadcast_shapes(shape, x.shape) == x.shape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(
                f"masked_fill: {name} of shape {shape} does not broadcast to the tensor's "
                f"shape {x.shape}"
            )
    if isinstance(value, Tensor):  # a differentiable cast to x's dtype, if it differs
        value = value if value.dtype == x.dtype else value.astype(x.dtype)
    else:
        number = np.asarray(value)
        if number.dtype.kind not in "biuf":
            raise TypeError(f"masked_fill: value must be a real number, got {value!r}")
        with np.errstate(over="ignore", invalid="ignore"):
            cast = number.astype(x.dtype)
        # as PyTorch: no inf into an integer tensor, no 1e6 into float16 (it became inf)
        lost = (
            ~np.isfinite(number)
            if x.dtype.kind != "f"
            else np.isfinite(number) & ~np.isfinite(cast)
        )
        if lost.any():
            raise OverflowError(f"masked_fill: value {value!r} does not fit {x.dtype}")
        value = cast
    return where(m, value, x)


# -- unary ops ------------------------------------------------------------------------------


def _exp_rule(g, out, args, ctx, needs):  # exp' = exp
    return (g * out,)


def _log_rule(g, out, args, ctx, needs):  # log' = 1/x
    return (g / args[0],)


def _sqrt_rule(g, out, args, ctx, needs):  # sqrt' = 1/(2 sqrt x)
    return (g / (2 * out),)


def _tanh_rule(g, out, args, ctx, needs):  # tanh' = 1 - tanh²
    return (g * (1 - out * out),)


def _sigmoid_rule(g, out, args, ctx, needs):  # σ' = σ(1 - σ)
    return (g * out * (1 - out),)


def _relu_rule(g, out, args, ctx, needs):  # 1 where out > 0 (out is >= 0, or nan)
    return (d.gated(g, d.locally_constant(out, d.raw(out) != 0)),)  # nan passes g, as PyTorch


def _abs_rule(g, out, args, ctx, needs):  # sign(x), 0 at 0 and at nan (as PyTorch)
    x = d.raw(args[0])
    return (g * d.locally_constant(args[0], np.subtract(x > 0, x < 0, dtype=x.dtype)),)


def _sin_rule(g, out, args, ctx, needs):
    return (g * d.cos(args[0]),)


def _cos_rule(g, out, args, ctx, needs):
    return (-g * d.sin(args[0]),)


def _erf_rule(g, out, args, ctx, needs):  # erf' = 2/√π e^(-x²)
    x = args[0]
    return (g * (_TWO_OVER_SQRT_PI * d.exp(-(x * x))),)


_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
_ERF = np.frompyfunc(math.erf, 1, 1)


def _erf_forward(x: np.ndarray) -> np.ndarray:
    # NumPy has no erf: C's (math.erf), one element at a time (~50 ns each), in the
    # input's floating type. GELU's tanh form takes an eighth of exact GELU's time.
    return np.asarray(_ERF(x), dtype=x.dtype if x.dtype.kind == "f" else np.float64)


def _clip_rule(g, out, args, ctx, needs):  # ctx: where each parent's gradient passes
    return tuple(
        unbroadcast(d.gated(g, mask), x.shape) if need else None
        for x, mask, need in zip(args, ctx, needs)
    )


def _unary(op: str, forward, rule):
    def method(self: Tensor) -> Tensor:
        return record(forward(self.data), (self,), op, rule)

    method.__name__ = op
    method.__doc__ = f"Elementwise {op}, differentiable."
    return method


def _relu_forward(x):
    return np.maximum(x, 0)


def clip(x: Tensor, min=None, max=None, *, out=None, **options) -> Tensor:  # noqa: A002
    """Clamp to [min, max]: numbers, or arrays/tensors that broadcast with ``x``.

    As ``torch.clamp``: the gradient reaches ``x`` where min <= x <= max (boundaries
    included), ``min`` where x < min < max, and ``max`` where x > max or min > max
    (the result is then max, as ``np.clip`` gives).
    """
    if out is not None or options:  # np.clip(t, 0, 1, where=m) passes where= on to here
        numpy_options("clip", x, out, others=options)
    if min is None and max is None:
        raise ValueError("clip: give min, max or both")
    lo, hi = (_clip_bound(v) for v in (min, max))
    data = x.data
    lo_data, hi_data = (v.data if isinstance(v, Tensor) else v for v in (lo, hi))
    try:
        out = np.clip(data, lo_data, hi_data)
    except ValueError:
        shapes = ", ".join(str(np.shape(v)) for v in (data, lo_data, hi_data) if v is not None)
        raise ValueError(f"clip: shapes {shapes} cannot be broadcast together") from None
    inside = np.ones(out.shape, dtype=bool)
    if lo is not None:
        inside &= data >= lo_data
    if hi is not None:
        inside &= data <= hi_data
    parents, masks = [x], [inside]
    if isinstance(lo, Tensor):
        below = data < lo_data
        parents.append(lo)
        masks.append(below if hi is None else below & (lo_data < hi_data))
    if isinstance(hi, Tensor):
        above = data > hi_data
        parents.append(hi)
        masks.append(above if lo is None else above | (lo_data > hi_data))
    return record(out, tuple(parents), "clip", _clip_rule, tuple(masks))


def _clip_bound(bound):
    """None, a Python number (a weak constant: no promotion), or a tensor."""
    if bound is None:
        return None
    c = scalar_constant(bound)
    return c if c is not None else as_tensor(bound)


UNARY = {
    "neg": (np.negative, _negate_rule),
    "exp": (np.exp, _exp_rule),
    "log": (np.log, _log_rule),
    "sqrt": (np.sqrt, _sqrt_rule),
    "tanh": (np.tanh, _tanh_rule),
    "sigmoid": (d.stable_sigmoid, _sigmoid_rule),
    "relu": (_relu_forward, _relu_rule),
    "abs": (np.abs, _abs_rule),
    "sin": (np.sin, _sin_rule),
    "cos": (np.cos, _cos_rule),
    "erf": (_erf_forward, _erf_rule),
}

UNARY_METHODS = {name: _unary(name, fwd, rule) for name, (fwd, rule) in UNARY.items()}
