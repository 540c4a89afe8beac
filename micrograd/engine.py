"""The scalar engine: a ``Value`` holds one float and the graph that produced it.

A drop-in superset of the classic micrograd ``Value``. Each op below is a forward
function on floats plus a gradient *rule* written once: ``rule(g, out, args, c)``
maps the output gradient ``g`` to one gradient per parent, where ``out`` and
``args`` are either the raw floats (a plain backward, fast) or the Values
themselves (``create_graph=True``: the rule's arithmetic then records a graph, and
that graph can be differentiated again). ``c`` is the op's constant operand, if any.
"""

from __future__ import annotations

import functools
import math
import numbers
import operator
import sys
import warnings
import weakref
from collections.abc import Iterable, Sequence

from . import autodiff

__all__ = ["Value", "add_all", "weighted_sum"]

_grad_mode = autodiff._mode  # read directly: this is on every op's path
_new = object.__new__  # a bare instance; the op methods fill in every slot themselves
_OWN_RULE = object()  # _vjp's default: the node's own rule, as it is when the pass runs


_grad_of = operator.attrgetter("grad")


class Value:
    """A scalar node: ``data`` (float), ``grad`` (float), ``_prev`` (parents), ``_op``."""

    __slots__ = (
        "data",
        "grad",
        "_prev",
        "_op",
        "_rule",
        "_ctx",
        "_depth",
        "_pass_grad",
        "label",
        "__weakref__",
        # The classic Value is a plain object: code keeps its own attributes on it (an
        # optimizer's p.velocity, a name). It costs every node 32 bytes (15%) and some
        # time to make; a dict for the Values made by Value(...) alone, as a subclass,
        # cost a training step 10% instead (its parents' reads see two types).
        "__dict__",
    )
    _retains_grad = True  # every Value shows the gradient of the latest backward

    def __init__(self, data, _children=(), _op: str = "", label: str = "") -> None:
        self.data = _as_float(data)
        self.grad = 0.0
        self._prev = tuple(_children)
        for child in self._prev:
            if not isinstance(child, Value):
                raise TypeError(
                    f"Value(..., _children): children must be Values, got {child!r:.60}"
                )
        self._depth = autodiff.depth_above(self._prev)
        self._op = _op
        # Classic code may build nodes by hand, e.g. Value(a.data * b.data, (a, b), "*"),
        # and then assign their ``_backward`` (see there).
        rule, arity = _RULES_BY_NAME.get(_op, (None, 0))
        self._rule = rule if self._prev and arity in (None, len(self._prev)) else None
        self._ctx = None
        self._pass_grad = None
        self.label = label

    def __repr__(self) -> str:
        return f"Value(data={self.data}, grad={self.grad})"

    def __float__(self) -> float:
        return self.data

    __setstate__ = autodiff.restore_node  # copies take no sum of a running backward pass
    __deepcopy__ = autodiff.copy_graph  # parents first: deep graphs copy without recursion

    @property
    def _const(self) -> tuple[float, str] | None:
        """The constant operand of ``x op c`` or ``c op x`` and its side, for drawings."""
        if self._ctx is None or not self._prev:
            return None
        return self._ctx, "left" if self._rule in _CONSTANT_ON_LEFT else "right"

    # -- arithmetic: see the op table at the bottom of this file ------------------------
    # (__add__, __mul__, ..., tanh, exp, ... are attached there, forward next to rule)

    # -- the backward core's node protocol -----------------------------------------------

    def _vjp(self, g, graph: bool, rule=_OWN_RULE):
        if rule is _OWN_RULE:
            rule = self._rule
        if rule is None:
            # As in the classic micrograd, whose _backward does nothing until assigned: a
            # node built by hand without a rule passes no gradient to its operands.
            warnings.warn(
                f"Value: op {self._op!r} with {len(self._prev)} operand(s) has no gradient "
                "rule, so its operands get no gradient through it (as in the classic "
                "micrograd); assign the node's _backward, or build it with the Value ops",
                RuntimeWarning,
                stacklevel=_user_stacklevel(),
            )
            return (None,) * len(self._prev)
        prev = self._parents
        if graph:
            return rule(g, self, prev, self._ctx)
        # The parents' floats, built without a comprehension: this runs once per node.
        n = len(prev)
        if n == 2:
            args = (prev[0].data, prev[1].data)
        elif n == 1:
            args = (prev[0].data,)
        elif rule is _add:  # an n-ary sum: its rule needs only the count
            args = prev
        else:
            args = [p.data for p in prev]
        return rule(g, self.data, args, self._ctx)

    def _receive_grad(self, g: float) -> None:
        # A leaf accumulates across backward calls (as in PyTorch) until zero_grad;
        # an interior node shows the gradient of the latest backward.
        if self._parents:
            self.grad = g
        else:
            self.grad += g

    @staticmethod
    def _check_grads(leaves: list, retained: list) -> None:
        # Only the leaves: an interior Value's .grad is replaced, not added to.
        if set(map(type, map(_grad_of, leaves))) <= {float}:  # at C speed: the usual case
            return
        for node in leaves:
            if not isinstance(node.grad, numbers.Real | Value):
                raise TypeError(
                    f"backward: {node!r} has a .grad of type {type(node.grad).__name__}, not a "
                    "number; a Value's gradient adds up in a float: reset it with .grad = 0.0 "
                    "(zero_grad() does)"
                )

    def _free_saved(self) -> None:
        """A Value saves nothing beyond its numbers, so there is nothing to free."""

    def _seed(self, gradient, graph: bool, op: str = "backward", arg: str = "gradient"):
        if gradient is None:
            gradient = 1.0
        if isinstance(gradient, Value):
            return gradient if graph else gradient.data
        seed = _as_float(gradient, f"{op}: {arg}")
        return Value(seed) if graph else seed

    @staticmethod
    def _lift(g) -> Value:
        return g if isinstance(g, Value) else Value(g)

    # -- backward --------------------------------------------------------------------------

    def backward(self, gradient: float | None = None) -> None:
        """Add d(self)/d(leaf) into every leaf's ``.grad``; every node shows its gradient.

        Calling it again adds to the leaves again (reset them with ``zero_grad``); no
        interior node is ever counted twice.
        """
        autodiff.backward(self, gradient, retain_graph=True)

    def _apply_rule(self, rule) -> None:
        if not self._prev:
            return
        for parent, pg in zip(self._prev, self._vjp(self.grad, False, rule)):
            if pg is not None:
                parent.grad += pg

    def _get_backward(self):
        _ = self._prev  # a neuron's sum shows its products first: its rule becomes their "+"
        rule = self._rule
        if type(rule) is _ClassicBackward:
            return rule.fn
        # Bound to the rule of now: a wrapper assigned to _backward later calls this one.
        return functools.partial(self._apply_rule, rule)

    def _set_backward(self, fn) -> None:
        if not callable(fn):
            raise TypeError(f"Value._backward must be callable, got {type(fn).__name__}")
        _ = self._prev  # a neuron's sum shows its products first: they are fn's operands
        self._rule = _ClassicBackward(fn, self)

    _backward = property(
        _get_backward,
        _set_backward,
        doc="""Apply this node's rule once by hand: add ``self.grad``'s share into each parent.

        This is the classic lecture's step-by-step backward; ``backward()`` does it for
        every node in the right order. As in the classic micrograd, an op can also be
        defined by hand: build ``out = Value(data, (x,), "op")`` and assign
        ``out._backward`` a function that adds into ``x.grad`` from ``out.grad``.""",
    )


Value._parents = Value._prev  # the same slot: a Value's pass walks the graph it shows


def _user_stacklevel() -> int:
    """The ``stacklevel`` at which a warning from a node's method names its first caller
    outside micrograd and viz: the user's ``backward()``, not the core's loop."""
    frame, level = sys._getframe(2), 2  # 1: the method that warns; 2: its caller
    while frame is not None and frame.f_globals.get("__name__", "").split(".")[0] in (
        "micrograd",
        "viz",
    ):
        frame, level = frame.f_back, level + 1
    return level


class _ClassicBackward:
    """A node's rule made from a ``_backward`` function assigned by hand (classic style).

    The function adds into its operands' ``.grad`` from the node's ``.grad``. As a rule
    it runs with the node's gradient in ``.grad`` and its operands' ``.grad`` at 0, and
    what it added is that operand's gradient; every ``.grad`` it touched is put back,
    so the core sums and stores gradients as for any other node (and ``grad()`` touches
    no ``.grad``). It cannot record a graph of itself: floats go in and out.
    """

    __slots__ = ("fn", "node")

    def __init__(self, fn, node: Value) -> None:
        self.fn = fn
        self.node = weakref.ref(node)  # the function already holds the node: no second cycle

    def __call__(self, g, out, args, c):
        node = self.node()
        if isinstance(out, Value):
            raise RuntimeError(
                f"create_graph=True cannot go through the {node._op!r} node whose _backward was "
                "assigned by hand: it adds floats into .grad and records no graph"
            )
        operands = list(dict.fromkeys(node._prev))  # each once, even for x * x
        saved = [node.grad] + [p.grad for p in operands]
        node.grad = g
        for p in operands:
            p.grad = 0.0
        try:
            self.fn()
            added = {p: p.grad for p in operands}
        finally:
            node.grad = saved[0]
            for p, old in zip(operands, saved[1:]):
                p.grad = old
        # The whole gradient of an operand used twice goes to its first slot.
        return [added.pop(p, None) for p in node._prev]


def _as_float(data, what: str = "Value(...)") -> float:
    """``data`` as a float; ``what`` names the call in the error (the constructor, or
    backward's gradient)."""
    if type(data) is float:
        return data
    if _is_real(data):
        try:
            return float(data)
        except OverflowError:  # an int past the float range, 10 ** 400
            raise OverflowError(
                f"{what} takes a real number within a float's range (±1.8e308); this "
                f"{type(data).__name__} is beyond it"
            ) from None
    if isinstance(data, Value):
        raise TypeError(f"{what} got a Value; use its .data, or the Value itself")
    raise TypeError(f"{what} takes a real number, got {type(data).__name__}: {data!r:.60}")


def _is_real(x) -> bool:
    """int, bool, Fraction, NumPy's number scalars (np.bool_ too, which is no numbers.Real),
    but no arrays."""
    return isinstance(x, numbers.Real) or (
        type(x).__module__ == "numpy" and type(x).__name__ in ("bool", "bool_")
    )


def _constant(x):
    """A plain-number operand as a float, or NotImplemented for anything else."""
    if type(x) is float:
        return x
    if type(x) is int or _is_real(x):
        return float(x)
    return NotImplemented


def _record(data: float, prev: tuple, op: str, rule, ctx=None, depth: int = 0) -> Value:
    """Make the output node of an op (a bare leaf when grad mode is off).

    ``depth`` is one more than the deepest of ``prev`` (the caller knows it cheaply).
    Ops on two Values, the bulk of a graph, make theirs with ``_pair_node``.
    """
    out = _new(Value)
    out.data = data
    out.grad = 0.0
    out._pass_grad = None
    out.label = ""
    if _grad_mode.enabled:
        out._prev = prev
        out._depth = depth
        out._op = op
        out._rule = rule
        out._ctx = ctx
    else:
        out._prev, out._depth, out._op, out._rule, out._ctx = (), 0, "", None, None
    return out


def add_all(values: Iterable) -> Value:
    """Σ values as one n-ary "+" node (fewer nodes than a chain of binary adds).

    Numbers among the values are folded into one constant.
    """
    values = list(values)
    nodes, const = values, 0.0
    for v in values:
        if not isinstance(v, Value):  # numbers among them: fold those into one constant
            nodes = []
            for v in values:
                if isinstance(v, Value):
                    nodes.append(v)
                else:
                    c = _constant(v)
                    if c is NotImplemented:
                        raise TypeError(f"add_all: cannot add {type(v).__name__}")
                    const += c
            break
    if not nodes:
        return Value(const)
    return _sum_node(nodes, [v.data for v in nodes], const, autodiff.depth_above(nodes))


def weighted_sum(weights: Sequence, inputs: Sequence, bias=None) -> Value:
    """Σ wᵢ·xᵢ (+ bias) as one n-ary "+" node over the products wᵢ·xᵢ: a neuron.

    The backward pass takes the node as one step, straight to the weights and inputs
    (d/dwᵢ = xᵢ, d/dxᵢ = wᵢ): the products, most nodes of a network, are not made for
    it. They are made, as the nodes ``w * x`` makes, with the values and gradients they
    have, the moment anyone looks (``_prev``: a drawing, ``_backward()`` by hand, a
    copy); from then on the node is the ordinary sum over them.
    """
    if len(weights) != len(inputs):
        raise ValueError(f"weighted_sum: {len(weights)} weights for {len(inputs)} inputs")
    if _grad_mode.enabled and (bias is None or isinstance(bias, Value)):
        products, deepest = [], 0  # the values wᵢ·xᵢ, and the deepest product's depth
        for w, x in zip(weights, inputs):  # one loop: this is most of a network's forward
            if not (isinstance(w, Value) and isinstance(x, Value)):
                break  # a number among them: the general route below
            products.append(w.data * x.data)
            depth = w._depth if w._depth > x._depth else x._depth
            if depth >= deepest:
                deepest = depth + 1
        else:
            if products:
                return _WeightedSum(weights, inputs, bias, products, deepest)
    terms = list(map(operator.mul, weights, inputs))
    if bias is not None:
        terms.append(bias)
    return add_all(terms)


class _WeightedSum(Value):
    """The node of ``weighted_sum``: Σ wᵢ·xᵢ (+ b), one step for the backward pass.

    ``_parents`` is (w₀, …, wₙ₋₁, x₀, …, xₙ₋₁) and the bias if there is one, and
    ``_products`` the forward values wᵢ·xᵢ, until ``_prev`` is read: that makes the
    product nodes, and the node becomes a "+" over them (``_parents`` is ``_prev``).
    ``_products_grad`` is the gradient the products would show: the node's as the
    latest backward gave it (``.grad`` may have been set by hand since).
    """

    __slots__ = ("_parents", "_products", "_products_grad")

    def __init__(self, weights, inputs, bias, products: list, deepest: int) -> None:
        self._products = tuple(products)
        if bias is None:
            self._parents = (*weights, *inputs)
            self._depth = 1 + deepest
        else:
            self._parents = (*weights, *inputs, bias)
            self._depth = 1 + (deepest if deepest > bias._depth else bias._depth)
            products.append(bias.data)
        self.data = _exact_sum(products)
        self.grad = self._products_grad = 0.0
        self._op = "+"
        self._rule = _weighted
        self._ctx = None
        self._pass_grad = None
        self.label = ""

    @property
    def _prev(self) -> tuple:
        if self._products is not None:
            self._show_products()
        return self._parents

    @_prev.setter
    def _prev(self, prev: tuple) -> None:  # copy.copy / deepcopy restore _prev this way
        if self._products is not None:  # not shown yet: it becomes a "+" over ``prev``
            self._rule, self._products = _add, None
        self._parents = tuple(prev)

    def _receive_grad(self, g: float) -> None:
        self.grad = self._products_grad = g

    def _show_products(self) -> None:
        """Make the product nodes: each has the gradient of the sum (d Σ / d product = 1)."""
        with autodiff.between_passes():
            values = self._products
            if values is None:  # another thread made them meanwhile
                return
            parents, n = self._parents, len(values)
            # Shown midway through a backward: the sum so far, which the pass overwrites
            # if it still reaches the products (it does unless the node's rule has run).
            g = autodiff.gradient_so_far(self)
            if g is None:
                g = self._products_grad
            products = []
            for w, x, data in zip(parents[:n], parents[n : 2 * n], values):
                product = _pair_node(w, x, "*", _mul, data)
                product.grad = g
                products.append(product)
            self._parents = (*products, *parents[2 * n :])
            self._rule = _add
            self._products = None

    def __getstate__(self):
        self._show_products()  # a copy is the ordinary sum over its products
        return super().__getstate__()


def _sum_node(nodes: list, datas: list, const: float, depth: int) -> Value:
    """The n-ary "+" node over ``nodes`` (whose floats are ``datas``) plus a constant."""
    total = _exact_sum(datas)
    return _record(total + const if const else total, tuple(nodes), "+", _add, const or None, depth)


def _exact_sum(datas: list) -> float:
    """Σ datas, exact and then rounded once (no order-dependent error); IEEE at the edges."""
    try:
        return math.fsum(datas)
    except (ValueError, OverflowError):  # inf + -inf, or a partial sum past the float range
        return sum(datas)  # nan or ±inf, as the same sum of plain floats gives


# ----------------------------------------------------------------------------- IEEE helpers
# Python floats raise on 1/0, 0 ** -1 and overflowing ** or exp; NumPy and PyTorch
# follow IEEE 754 (inf, nan) instead. These helpers do the same so the scalar engine
# agrees with its references, and they dispatch on Values so rules stay written once.


def _data(x) -> float:
    return x.data if isinstance(x, Value) else x


def _div(a, b):
    if isinstance(a, Value) or isinstance(b, Value):
        return a / b
    try:
        return a / b
    except ZeroDivisionError:
        if a == 0 or a != a:
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)


def _pow(a, b):
    if isinstance(a, Value) or isinstance(b, Value):
        return a**b
    if a < 0 and math.isfinite(b) and b != math.floor(b):
        raise ValueError(
            f"pow: ({a}) ** {b} is not a real number (negative base, fractional exponent)"
        )
    try:
        return a**b
    except (ZeroDivisionError, OverflowError):  # 0 ** negative, or too big: ±inf as C's pow
        odd = b == int(b) and int(b) % 2 == 1  # (b is finite here: ** handles ±inf itself)
        return -math.inf if odd and math.copysign(1.0, a) < 0 else math.inf  # -0.0 ** -1: -inf


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _sigmoid(x: float) -> float:
    # Split at 0 so exp never overflows: for x < 0 use e^x / (1 + e^x).
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _log(x: float) -> float:
    if x < 0:
        raise ValueError(f"log: undefined for {x} (log needs a positive number)")
    if x > 0:
        return math.log(x)
    return -math.inf if x == 0 else math.nan  # log 0 = -inf; nan stays nan, as IEEE


def _sqrt(x: float) -> float:
    if x < 0:
        raise ValueError(f"sqrt: undefined for {x} (sqrt needs a non-negative number)")
    return math.sqrt(x)


def _sin(x: float) -> float:
    return math.nan if math.isinf(x) else math.sin(x)  # math.sin raises on ±inf; IEEE: nan


def _cos(x: float) -> float:
    return math.nan if math.isinf(x) else math.cos(x)


def _on(fn, method: str):
    """``fn`` for floats, the Value method of the same name for Values."""
    return lambda x: getattr(x, method)() if isinstance(x, Value) else fn(x)


_cos_any = _on(_cos, "cos")
_sin_any = _on(_sin, "sin")
_log_any = _on(_log, "log")


# ----------------------------------------------------------------------------- the rules
# g: output gradient; out, args: output and inputs (floats, or Values when the
# backward is being recorded); c: the constant operand of ``x op c`` / ``c op x``.


def _add(g, out, args, c):  # x + y + ..., x + c, x - c
    return (g,) * len(args)


def _weighted(g, out, args, c):  # Σ wᵢxᵢ (+ b), args w₀…wₙ₋₁, x₀…xₙ₋₁ (, b): see _WeightedSum
    n = len(args) // 2
    grads = [g * x for x in args[n : 2 * n]]  # d/dwᵢ = xᵢ
    grads += [g * w for w in args[:n]]  # d/dxᵢ = wᵢ
    if len(args) % 2:
        grads.append(g)  # d/db = 1
    return grads


def _sub(g, out, args, c):  # x - y
    return g, -g


def _rsub(g, out, args, c):  # c - x
    return (-g,)


def _mul(g, out, args, c):  # x * y
    x, y = args
    return g * y, g * x


def _scale(g, out, args, c):  # x * c
    return (g * c,)


def _truediv(g, out, args, c):  # x / y: d/dy = -x / y² = -out / y
    x, y = args
    q = _div(g, y)
    return q, -q * out


def _div_const(g, out, args, c):  # x / c
    return (_div(g, c),)


def _rdiv(g, out, args, c):  # c / x: d/dx = -c / x² = -out / x
    return (_div(-g * out, args[0]),)


def _pow_const(g, out, args, c):  # x ** c
    if c == 0:  # x ** 0 is constant; PyTorch gives 0 here too (not 0 * inf = nan at x = 0)
        return (g * 0.0,)
    return (g * c * _pow(args[0], c - 1),)


def _pow_var(g, out, args, c):  # x ** y: d/dx = y x^(y-1), d/dy = x^y log x
    x, y = args
    base, exponent = _data(x), _data(y)
    # At y = 0 the slope y x^(y-1) is 0, but 0 · inf or 0 · nan where x or x^(y-1) is not
    # finite (x = 0, x tiny, inf, nan): 0 there (as x ** c above). Elsewhere the product
    # stays, keeping its derivative in y.
    power = _pow(x, y - 1)
    flat = exponent == 0 and not (math.isfinite(base) and math.isfinite(_data(power)))
    gx = g * 0.0 if flat else g * y * power
    if base > 0 or (base == 0 and exponent < 0):  # at 0: inf * log 0 = -inf, as PyTorch
        gy = g * out * _log_any(x)
    else:  # 0 where x = 0 and y >= 0 (the limit of x^y log x); log x undefined for x < 0
        gy = g * (0.0 if base == 0 and exponent >= 0 else math.nan)  # a nan y: nan
    return gx, gy


def _rpow(g, out, args, c):  # c ** x: d/dx = c^x log c
    if c > 0:
        return (g * out * math.log(c),)
    if c == 0:  # 0 for x >= 0 (as x ** y above); c^x · log 0 = ∓inf for x < 0; nan stays
        x = _data(args[0])
        if x < 0:  # c^x is +inf, or -inf for c = -0.0 and an odd x: the sign follows it
            return (g * -math.copysign(math.inf, _data(out)),)
        return (g * (0.0 if x >= 0 else math.nan),)
    return (g * math.nan,)


def _neg(g, out, args, c):
    return (-g,)


def _abs(g, out, args, c):  # sign(x), with 0 at 0 as PyTorch
    x = _data(args[0])
    return (g * _locally_constant(args[0], (x > 0) - (x < 0)),)


def _relu(g, out, args, c):  # 1 where out > 0; nan passes its gradient, as PyTorch
    on = not _data(out) <= 0
    if isinstance(g, Value):  # create_graph: times the slope, a node of derivative 0
        return (g * _locally_constant(out, on),)
    return (g if on else 0.0,)  # 0 outright, not 0 · g (0 · inf is nan)


def _locally_constant(x, value):
    """``value``, a function of ``x`` that is constant around it (relu's or abs's slope).

    With ``create_graph`` (``x`` a Value) it is a node on ``x`` whose derivative is 0,
    so a second derivative through relu or abs is 0, as PyTorch's, rather than "not
    reached" (a constant would cut the gradient's graph off from ``x``).
    """
    if not isinstance(x, Value):
        return value
    return _record(float(value), (x,), "slope", _zero_rule, None, x._depth + 1)


def _zero_rule(g, out, args, c):  # a locally constant function: derivative 0
    return (Value(0.0) if isinstance(g, Value) else 0.0,)


def _tanh(g, out, args, c):  # 1 - tanh²
    return (g * (1 - out * out),)


def _sigmoid_rule(g, out, args, c):  # σ (1 - σ)
    return (g * out * (1 - out),)


def _exp_rule(g, out, args, c):  # exp' = exp
    return (g * out,)


def _log_rule(g, out, args, c):  # 1 / x
    return (_div(g, args[0]),)


def _sqrt_rule(g, out, args, c):  # 1 / (2 sqrt x)
    return (_div(g, 2 * out),)


def _sin_rule(g, out, args, c):
    return (g * _cos_any(args[0]),)


def _cos_rule(g, out, args, c):
    return (-g * _sin_any(args[0]),)


_CONSTANT_ON_LEFT = (_rsub, _rdiv, _rpow)

# Rules of nodes built by hand with Value(data, children, op), and how many children
# they take (None: any number).
_RULES_BY_NAME = {
    "+": (_add, None),
    "*": (_mul, 2),
    "tanh": (_tanh, 1),
    "exp": (_exp_rule, 1),
    "relu": (_relu, 1),
}


# ----------------------------------------------------------------------------- the op table


# The op methods make every node of a graph, so they are written for speed: the node of
# an op on two Values (most nodes) is a _PairValue, the rest go through _record.


class _PairValue(Value):
    """A Value made by an op on two Values -- most nodes of a network (the products).

    It keeps its operands in two slots rather than in a tuple: one object per node
    instead of two, which halves the garbage collector's work on a graph (a collection
    visits every object alive). ``_prev`` builds the tuple when asked.
    """

    __slots__ = ("_a", "_b")

    def _set_prev(self, prev: tuple) -> None:  # copy.copy / deepcopy restore _prev this way
        self._a, self._b = prev

    _prev = property(operator.attrgetter("_a", "_b"), _set_prev, doc="The two operands.")
    _parents = _prev

    def _vjp(self, g, graph: bool, rule=_OWN_RULE):
        if rule is _OWN_RULE:
            rule = self._rule
        a, b = self._a, self._b
        if graph:
            return rule(g, self, (a, b), self._ctx)
        return rule(g, self.data, (a.data, b.data), self._ctx)

    def _receive_grad(self, g: float) -> None:
        self.grad = g  # an interior node: the gradient of the latest backward


def _pair_node(a: Value, b: Value, op: str, rule, data: float) -> Value:
    """The recorded node of ``a op b`` for two Values (the caller checked grad mode)."""
    out = _new(_PairValue)
    out._a = a
    out._b = b
    depth, other = a._depth, b._depth
    out._depth = 1 + (depth if depth > other else other)
    out._op = op
    out._rule = rule
    out._ctx = None
    out.data = data
    out.grad = 0.0
    out._pass_grad = None
    out.label = ""
    return out


def _binary(op: str, forward, both_rule, const_rule):
    """``self op other`` for another Value (rule on both) or a number (rule on self)."""

    def method(self, other):
        if isinstance(other, Value):
            data = forward(self.data, other.data)
            if _grad_mode.enabled:
                return _pair_node(self, other, op, both_rule, data)
            return _record(data, (self, other), op, both_rule)  # no_grad: a bare leaf
        c = _constant(other)
        if c is NotImplemented:
            return NotImplemented
        return _record(forward(self.data, c), (self,), op, const_rule, c, self._depth + 1)

    return method


def _reflected(op: str, forward, rule):
    """``number op self`` (Python calls ``self.__rop__(number)``)."""

    def method(self, other):
        c = _constant(other)
        if c is NotImplemented:
            return NotImplemented
        return _record(forward(c, self.data), (self,), op, rule, c, self._depth + 1)

    return method


def _unary(op: str, forward, rule):
    def method(self):
        return _record(forward(self.data), (self,), op, rule, None, self._depth + 1)

    method.__name__ = op
    method.__doc__ = f"{op}(self), differentiable."
    return method


def _relu_f(x: float) -> float:
    return 0.0 if x < 0 else x  # the classic's form: nan stays nan, as in PyTorch


# The forward of + - * is the C function from ``operator`` (cheaper to call than a lambda).
Value.__add__ = _binary("+", operator.add, _add, _add)
Value.__radd__ = _reflected("+", operator.add, _add)
Value.__sub__ = _binary("-", operator.sub, _sub, _add)
Value.__rsub__ = _reflected("-", operator.sub, _rsub)
Value.__mul__ = _binary("*", operator.mul, _mul, _scale)
Value.__rmul__ = _reflected("*", operator.mul, _scale)
Value.__truediv__ = _binary("/", _div, _truediv, _div_const)
Value.__rtruediv__ = _reflected("/", _div, _rdiv)
Value.__pow__ = _binary("**", _pow, _pow_var, _pow_const)
Value.__rpow__ = _reflected("**", _pow, _rpow)
Value.__neg__ = _unary("neg", operator.neg, _neg)
Value.__abs__ = Value.abs = _unary("abs", abs, _abs)
Value.relu = _unary("relu", _relu_f, _relu)
Value.tanh = _unary("tanh", math.tanh, _tanh)
Value.sigmoid = _unary("sigmoid", _sigmoid, _sigmoid_rule)
Value.exp = _unary("exp", _exp, _exp_rule)
Value.log = _unary("log", _log, _log_rule)
Value.sqrt = _unary("sqrt", _sqrt, _sqrt_rule)
Value.sin = _unary("sin", _sin, _sin_rule)
Value.cos = _unary("cos", _cos, _cos_rule)
