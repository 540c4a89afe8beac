"""Op tables and reference helpers shared by the micrograd tests. No PyTorch here.

Each case is an expression written once: ``fn`` runs on Values and (unless ``torch_fn``
says otherwise) on PyTorch tensors; ``math_fn`` computes the same number on plain
floats with Python's ``math`` module (defaults to ``fn``, which works on floats when it
uses only operators). The references are PyTorch, central finite differences of
``math_fn`` (independent of the engine), or math worked out by hand -- never numbers
taken from the engine's own output.
"""

from __future__ import annotations

import math
import random
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import micrograd

# ----------------------------------------------------------------------------- input domains


def anywhere(rng: random.Random) -> float:
    return rng.uniform(-2.5, 2.5)


def positive(rng: random.Random) -> float:
    return rng.uniform(0.2, 3.0)


def away_from_zero(rng: random.Random) -> float:
    """Keeps finite differences off kinks (abs, relu) and poles (1/x)."""
    return rng.choice((-1.0, 1.0)) * rng.uniform(0.3, 2.5)


def small(rng: random.Random) -> float:
    return rng.uniform(-1.2, 1.2)


# ----------------------------------------------------------------------------- the cases


@dataclass(frozen=True)
class Case:
    name: str
    fn: Callable
    domains: tuple
    math_fn: Callable | None = None
    torch_fn: Callable | None = None

    def __str__(self) -> str:  # the pytest id
        return self.name

    def on_floats(self, *xs: float) -> float:
        return (self.math_fn or self.fn)(*xs)

    def on_torch(self, *ts):
        return (self.torch_fn or self.fn)(*ts)

    def samples(self, n: int = 4) -> list[tuple[float, ...]]:
        """``n`` input tuples from a generator seeded by the case name (stable across runs)."""
        rng = random.Random(zlib.crc32(self.name.encode()))
        return [tuple(domain(rng) for domain in self.domains) for _ in range(n)]


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


A, AZ, P = anywhere, away_from_zero, positive

# Every op of the contract, with numbers or Values on either side.
OPS = [
    Case("x + y", lambda x, y: x + y, (A, A)),
    Case("x + 2.5", lambda x: x + 2.5, (A,)),
    Case("2.5 + x", lambda x: 2.5 + x, (A,)),
    Case("x + 3 (int)", lambda x: x + 3, (A,)),
    Case("x - y", lambda x, y: x - y, (A, A)),
    Case("x - 2.5", lambda x: x - 2.5, (A,)),
    Case("2.5 - x", lambda x: 2.5 - x, (A,)),
    Case("x * y", lambda x, y: x * y, (A, A)),
    Case("x * 2.5", lambda x: x * 2.5, (A,)),
    Case("2.5 * x", lambda x: 2.5 * x, (A,)),
    Case("x * -2 (int)", lambda x: x * -2, (A,)),
    Case("x / y", lambda x, y: x / y, (A, AZ)),
    Case("x / 2.5", lambda x: x / 2.5, (A,)),
    Case("2.5 / x", lambda x: 2.5 / x, (AZ,)),
    Case("x ** 3", lambda x: x**3, (A,)),
    Case("x ** 2 (negative x too)", lambda x: x**2, (A,)),
    Case("x ** 2.5", lambda x: x**2.5, (P,)),
    Case("x ** -1.5", lambda x: x**-1.5, (P,)),
    Case("x ** y", lambda x, y: x**y, (P, A)),
    Case("2 ** x", lambda x: 2**x, (A,)),
    Case("0.5 ** x", lambda x: 0.5**x, (A,)),
    Case("-x", lambda x: -x, (A,)),
    Case("abs(x)", lambda x: abs(x), (AZ,)),
    Case("x.abs()", lambda x: x.abs(), (AZ,), math_fn=abs),
    Case("relu", lambda x: x.relu(), (AZ,), math_fn=lambda x: max(x, 0.0)),
    Case("tanh", lambda x: x.tanh(), (A,), math_fn=math.tanh),
    Case("sigmoid", lambda x: x.sigmoid(), (A,), math_fn=_sigmoid),
    Case("exp", lambda x: x.exp(), (A,), math_fn=math.exp),
    Case("log", lambda x: x.log(), (P,), math_fn=math.log),
    Case("sqrt", lambda x: x.sqrt(), (P,), math_fn=math.sqrt),
    Case("sin", lambda x: x.sin(), (A,), math_fn=math.sin),
    Case("cos", lambda x: x.cos(), (A,), math_fn=math.cos),
    Case("sum([x, y, z]) from 0", lambda x, y, z: sum([x, y, z]), (A, A, A)),
    Case(
        "add_all([x, y, z])",
        lambda x, y, z: micrograd.add_all([x, y, z]),
        (A, A, A),
        math_fn=lambda x, y, z: x + y + z,
        torch_fn=lambda x, y, z: x + y + z,
    ),
    Case(
        "add_all([x, 2.5, y, -1])",
        lambda x, y: micrograd.add_all([x, 2.5, y, -1]),
        (A, A),
        math_fn=lambda x, y: x + 2.5 + y - 1,
        torch_fn=lambda x, y: x + 2.5 + y - 1,
    ),
    Case(
        "add_all of a generator",
        lambda x, y: micrograd.add_all(v * v for v in (x, y, x)),
        (A, A),
        math_fn=lambda x, y: 2 * x * x + y * y,
        torch_fn=lambda x, y: x * x + y * y + x * x,
    ),
    Case(
        "weighted_sum([x, y], [z, x], y): a neuron",
        lambda x, y, z: micrograd.weighted_sum([x, y], [z, x], y),
        (A, A, A),
        math_fn=lambda x, y, z: x * z + y * x + y,
        torch_fn=lambda x, y, z: x * z + y * x + y,
    ),
    Case(
        "weighted_sum([x, 2.0], [y, x]): a number among the inputs",
        lambda x, y: micrograd.weighted_sum([x, 2.0], [y, x]),
        (A, A),
        math_fn=lambda x, y: x * y + 2.0 * x,
        torch_fn=lambda x, y: x * y + 2.0 * x,
    ),
    # Composites: reuse of an input, and several ops in one graph.
    Case(
        "(x * y + x).tanh() * y",
        lambda x, y: (x * y + x).tanh() * y,
        (A, A),
        math_fn=lambda x, y: math.tanh(x * y + x) * y,
    ),
    Case(
        "x.sigmoid() * (y / (1 + x * x)).exp() - x.sin() ** 2",
        lambda x, y: x.sigmoid() * (y / (1 + x * x)).exp() - x.sin() ** 2,
        (A, A),
        math_fn=lambda x, y: _sigmoid(x) * math.exp(y / (1 + x * x)) - math.sin(x) ** 2,
    ),
]

# Second derivatives: f and the Hessian by hand.


def _tanh_x3_second(x: float) -> float:
    # f = tanh(u), u = x³: f' = 3x² s with s = 1 - tanh²(u); s' = -2 tanh(u) s · 3x²
    t = math.tanh(x**3)
    s = 1 - t * t
    return 6 * x * s - 18 * x**4 * t * s


SECOND = [
    # (case, hand-derived Hessian as a function of the inputs)
    (Case("tanh(x**3)", lambda x: (x**3).tanh(), (small,)), lambda x: [[_tanh_x3_second(x)]]),
    (
        Case("x ** y", lambda x, y: x**y, (P, A)),
        lambda x, y: [
            [y * (y - 1) * x ** (y - 2), x ** (y - 1) * (1 + y * math.log(x))],
            [x ** (y - 1) * (1 + y * math.log(x)), x**y * math.log(x) ** 2],
        ],
    ),
    (Case("sin", lambda x: x.sin(), (A,)), lambda x: [[-math.sin(x)]]),
    (Case("cos", lambda x: x.cos(), (A,)), lambda x: [[-math.cos(x)]]),
    (Case("exp", lambda x: x.exp(), (A,)), lambda x: [[math.exp(x)]]),
    (Case("log", lambda x: x.log(), (P,)), lambda x: [[-1 / x**2]]),
    (
        Case("sigmoid", lambda x: x.sigmoid(), (A,)),
        lambda x: [[_sigmoid(x) * (1 - _sigmoid(x)) * (1 - 2 * _sigmoid(x))]],
    ),
    (Case("sqrt", lambda x: x.sqrt(), (P,)), lambda x: [[-0.25 * x**-1.5]]),
    (Case("tanh", lambda x: x.tanh(), (A,)), lambda x: [[-2 * math.tanh(x) / math.cosh(x) ** 2]]),
    (
        Case("x / y", lambda x, y: x / y, (A, AZ)),
        lambda x, y: [[0.0, -1 / y**2], [-1 / y**2, 2 * x / y**3]],
    ),
    (Case("3 / x", lambda x: 3 / x, (AZ,)), lambda x: [[6 / x**3]]),
    (Case("2 ** x", lambda x: 2**x, (A,)), lambda x: [[2**x * math.log(2) ** 2]]),
    (Case("x ** 3.5", lambda x: x**3.5, (P,)), lambda x: [[3.5 * 2.5 * x**1.5]]),
    (
        Case("x * y * x - y", lambda x, y: x * y * x - y, (A, A)),
        lambda x, y: [[2 * y, 2 * x], [2 * x, 0.0]],
    ),
]


# ----------------------------------------------------------------------------- references


def central_difference(f: Callable, xs: tuple[float, ...], i: int) -> float:
    """d f / d xs[i] by a central difference on plain floats."""
    h = 1e-6 * max(1.0, abs(xs[i]))
    up = list(xs)
    down = list(xs)
    up[i] += h
    down[i] -= h
    return (f(*up) - f(*down)) / (2 * h)


def same_float(a: float, b: float, rel: float = 1e-12, abs_: float = 1e-12) -> bool:
    """Equal within tolerance; nan equals nan and infinities must match exactly."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= max(abs_, rel * max(abs(a), abs(b)))
