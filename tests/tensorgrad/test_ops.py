"""The table-driven op harness: every op's forward and gradient against PyTorch and gradcheck.

One table row per op (``OPS``): a name, the tensorgrad call, the PyTorch call, a hypothesis
strategy that draws the inputs (shapes with broadcasting, 0-d, size-1 and empty axes,
negative axes, keepdims both ways, axis tuples) and the parameters, and the input domain.
Each row is checked three ways, all in float64:

* the forward value and shape equal PyTorch's;
* ``y.backward(gradient=G)`` with a random, non-uniform ``G`` gives the same input gradients
  as PyTorch's ``y.backward(G)`` (and the gradients keep their input's shape and dtype);
* ``tg.gradcheck`` (central finite differences) agrees.

``test_higher_order.py`` reuses the same table for second derivatives.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import tensorgrad as tg

from ..oracle import torch


def examples(fraction: float) -> int:
    """A share of the profile's max_examples (tests/conftest.py; HYPOTHESIS_MAX_EXAMPLES
    scales it): the table has ~90 rows, so each row gets fewer examples than a lone test."""
    return max(2, round(settings.default.max_examples * fraction))


# Small shapes: gradcheck perturbs every element, and hypothesis shrinks toward the edges.
SHAPE = {"min_dims": 0, "max_dims": 3, "min_side": 0, "max_side": 4}


# ----------------------------------------------------------------------------- domains


def _real(rng, shape):
    return rng.standard_normal(shape)


def _positive(rng, shape):
    return rng.uniform(0.5, 2.0, shape)


def _nonzero(rng, shape):  # away from the kink of abs/relu and the pole of 1/x
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.3, 2.0, shape)


def _distinct(rng, shape):  # no two elements within 0.2 of each other: no ties, no kinks
    n = math.prod(shape)
    return ((rng.permutation(n) - n / 2) * 0.25 + rng.uniform(0, 0.05, n)).reshape(shape)


def _ties(rng, shape):  # integers in {-1, 0, 1}: many ties, to check the gradient is shared
    return rng.integers(-1, 2, shape).astype(np.float64)


def _ties_and_nans(rng, shape):  # as _ties, with some nan: maximum/minimum propagate it
    x = _ties(rng, shape)
    x[rng.random(shape) < 0.25] = np.nan
    return x


def _bounds_low(rng, shape):  # multiples of 0.5: clip bounds that x below never nears
    return rng.integers(-6, 7, shape) * 0.5


def _bounds_high(rng, shape):  # 0.25 off the low bounds' grid: the two never tie
    return rng.integers(-6, 7, shape) * 0.5 + 0.25


def _off_bounds(rng, shape):  # at least 0.075 from every multiple of 0.25: no kink nearby
    return rng.integers(-12, 12, shape) * 0.25 + 0.125 + rng.uniform(-0.05, 0.05, shape)


def _off_clip_bounds(rng, shape):  # at least 0.02 away from the clip bounds ±0.5
    x = rng.standard_normal(shape)
    near = np.abs(np.abs(x) - 0.5) < 0.02
    return np.where(near, x * 1.2, x)


DOMAINS = {
    "real": _real,
    "positive": _positive,
    "nonzero": _nonzero,
    "distinct": _distinct,
    "ties": _ties,
    "ties_and_nans": _ties_and_nans,
    "bounds_low": _bounds_low,
    "bounds_high": _bounds_high,
    "off_bounds": _off_bounds,
    "off_clip_bounds": _off_clip_bounds,
}


# ----------------------------------------------------------------------------- cases


@dataclass
class Case:
    """The differentiable inputs of one call and its other (constant) parameters."""

    arrays: tuple
    params: dict = field(default_factory=dict)


def _rng(draw) -> np.random.Generator:
    return np.random.default_rng(draw(st.integers(0, 2**32 - 1), label="seed"))


def _fill(rng, shapes, domains):
    if isinstance(domains, str):
        domains = (domains,) * len(shapes)
    return tuple(np.asarray(DOMAINS[d](rng, s), dtype=np.float64) for s, d in zip(shapes, domains))


@st.composite
def elementwise(draw, n: int = 1, domains="real", scalars=None, constant=None):
    """``n`` mutually broadcastable inputs; ``scalars``: a list to draw a parameter ``c``
    from; ``constant``: a domain for an ndarray parameter ``c`` broadcastable with them."""
    count = n + (constant is not None)
    if count == 1:
        shapes = (draw(hnp.array_shapes(**SHAPE)),)
    else:
        shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=count, **SHAPE)).input_shapes
    rng = _rng(draw)
    params = {}
    if scalars is not None:
        params["c"] = draw(st.sampled_from(scalars))
    if constant is not None:
        params["c"] = _fill(rng, shapes[-1:], constant)[0]
        shapes = shapes[:-1]
    return Case(_fill(rng, shapes, domains), params)


@st.composite
def where_case(draw, scalar_branch: bool = False):
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=3, **SHAPE)).input_shapes
    rng = _rng(draw)
    cond = rng.random(shapes[0]) < 0.5
    if scalar_branch:
        return Case(_fill(rng, shapes[1:2], "real"), {"cond": cond})
    return Case(_fill(rng, shapes[1:], "real"), {"cond": cond})


@st.composite
def extremum_pair(draw):
    """Two broadcastable inputs that are never within 1e-3 of each other (no ties)."""
    case = draw(elementwise(2))
    a, b = np.broadcast_arrays(*case.arrays)
    assume(np.all(np.abs(a - b) > 1e-3))
    return case


@st.composite
def axis_arg(draw, ndim: int, single: bool = False, allow_none: bool = True):
    """None, one int or a non-empty tuple of distinct ints, each possibly negative."""
    kinds = (["none"] if allow_none else []) + ["int"] + ([] if single else ["tuple"])
    kind = draw(st.sampled_from(kinds))
    if kind == "none":
        return None
    bound = max(ndim, 1)  # a 0-d tensor accepts axis 0 / -1, as NumPy's reductions and torch
    if kind == "int":
        return draw(st.integers(-bound, bound - 1))
    axes = draw(st.lists(st.integers(0, bound - 1), min_size=1, max_size=bound, unique=True))
    return tuple(a - bound if draw(st.booleans()) else a for a in axes)


def _reduced(axis, ndim: int) -> set:
    if axis is None:
        return set(range(ndim))
    axes = axis if isinstance(axis, tuple) else (axis,)
    return {a % ndim for a in axes} if ndim else set()


@st.composite
def reduction(
    draw, domain="real", min_reduced=0, single=False, allow_none=True, keepdims=True, min_dims=0
):
    """One input and an ``axis`` (+ ``keepdims``); reduced axes have at least ``min_reduced``."""
    shape = draw(hnp.array_shapes(**{**SHAPE, "min_dims": min_dims}))
    axis = draw(axis_arg(len(shape), single=single, allow_none=allow_none))
    reduced = _reduced(axis, len(shape))
    shape = tuple(max(n, min_reduced) if i in reduced else n for i, n in enumerate(shape))
    params = {"axis": axis}
    if keepdims:
        params["keepdims"] = draw(st.booleans())
    return Case(_fill(_rng(draw), [shape], domain), params)


@st.composite
def matmul_case(draw):
    shapes = draw(
        hnp.mutually_broadcastable_shapes(
            signature=np.matmul.signature, max_dims=2, min_side=0, max_side=4
        )
    ).input_shapes
    return Case(_fill(_rng(draw), shapes, "real"))


@st.composite
def reshape_case(draw):
    shape = draw(hnp.array_shapes(**SHAPE))
    size = math.prod(shape)
    targets = [(size,), (-1,), tuple(reversed(shape)), (1,) + shape, shape + (1,), ()]
    if shape and math.prod(shape[1:]):
        targets.append((-1,) + shape[1:])
    target = draw(st.sampled_from([t for t in targets if t != () or size == 1]))
    return Case(_fill(_rng(draw), [shape], "real"), {"shape": target})


@st.composite
def permutation_case(draw):
    shape = draw(hnp.array_shapes(**SHAPE))
    ndim = len(shape)
    perm = draw(st.permutations(range(ndim)))
    perm = tuple(p - ndim if draw(st.booleans()) else p for p in perm)
    return Case(_fill(_rng(draw), [shape], "real"), {"axes": perm})


@st.composite
def one_input(draw, min_dims=0):
    return Case(
        _fill(_rng(draw), [draw(hnp.array_shapes(**{**SHAPE, "min_dims": min_dims}))], "real")
    )


@st.composite
def swapaxes_case(draw):
    shape = draw(hnp.array_shapes(**{**SHAPE, "min_dims": 1}))
    n = len(shape)
    a1, a2 = draw(st.integers(-n, n - 1)), draw(st.integers(-n, n - 1))
    return Case(_fill(_rng(draw), [shape], "real"), {"a1": a1, "a2": a2})


@st.composite
def squeeze_case(draw):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=3))
    shape = tuple(1 if draw(st.booleans()) else n for n in shape)  # plenty of size-1 axes
    ones = [i for i, n in enumerate(shape) if n == 1]
    n = len(shape)
    if not ones or draw(st.booleans()):
        axis = None
    else:
        chosen = draw(st.lists(st.sampled_from(ones), min_size=1, unique=True))
        chosen = [a - n if draw(st.booleans()) else a for a in chosen]
        axis = chosen[0] if len(chosen) == 1 and draw(st.booleans()) else tuple(chosen)
    return Case(_fill(_rng(draw), [shape], "real"), {"axis": axis})


@st.composite
def unsqueeze_case(draw):
    shape = draw(hnp.array_shapes(**SHAPE))
    n = len(shape)
    return Case(_fill(_rng(draw), [shape], "real"), {"axis": draw(st.integers(-n - 1, n))})


@st.composite
def broadcast_to_case(draw):
    shape = draw(hnp.array_shapes(**SHAPE))
    other = draw(hnp.broadcastable_shapes(shape, min_dims=0, max_dims=4, min_side=0, max_side=4))
    target = np.broadcast_shapes(shape, other)
    return Case(_fill(_rng(draw), [shape], "real"), {"shape": target})


@st.composite
def flatten_case(draw):
    shape = draw(hnp.array_shapes(**SHAPE))
    n = len(shape)
    if n == 0:
        return Case(_fill(_rng(draw), [shape], "real"), {"start": 0, "end": -1})
    start = draw(st.integers(0, n - 1))
    end = draw(st.integers(start, n - 1))
    start = start - n if draw(st.booleans()) else start
    end = end - n if draw(st.booleans()) else end
    return Case(_fill(_rng(draw), [shape], "real"), {"start": start, "end": end})


@st.composite
def basic_index_case(draw):
    """Ints (negative too), slices (negative steps too), None and Ellipsis."""
    shape = draw(hnp.array_shapes(**SHAPE))
    index = draw(hnp.basic_indices(shape, min_dims=0, allow_newaxis=True, allow_ellipsis=True))
    return Case(_fill(_rng(draw), [shape], "real"), {"index": index})


@st.composite
def int_array_index_case(draw):
    """A tuple of integer arrays (broadcast together), repeats and negatives included."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    index = draw(
        hnp.integer_array_indices(
            shape, result_shape=hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=5)
        )
    )
    return Case(_fill(_rng(draw), [shape], "real"), {"index": index})


@st.composite
def mixed_index_case(draw):
    """``x[:, idx]``, ``x[idx, 1:]``, ``x[..., idx]`` and lists: advanced next to basic."""
    shape = draw(hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=4))
    rng = _rng(draw)
    k = draw(st.integers(0, 6))
    form = draw(st.sampled_from(["second", "first_then_slice", "last", "list", "repeat"]))
    if form == "second":
        index = (slice(None), rng.integers(-shape[1], shape[1], k))
    elif form == "first_then_slice":
        index = (rng.integers(0, shape[0], k), slice(1, None))
    elif form == "last":
        index = (Ellipsis, rng.integers(0, shape[-1], k))
    elif form == "list":  # (an empty list: test_empty_list_index)
        index = rng.integers(0, shape[0], k + 1).tolist()
    else:  # the same element many times: its gradient accumulates
        index = np.zeros(k + 1, dtype=np.int64)
    return Case(_fill(rng, [shape], "real"), {"index": index})


@st.composite
def bool_index_case(draw):
    """A boolean mask over all axes or over the leading ones."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=4))
    lead = draw(st.integers(1, len(shape)))
    rng = _rng(draw)
    mask = rng.random(shape[:lead]) < 0.5
    return Case(_fill(rng, [shape], "real"), {"index": mask})


@st.composite
def concatenate_case(draw):
    base = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=3))
    n = len(base)
    axis = draw(st.integers(-n, n - 1))
    sizes = draw(st.lists(st.integers(0, 3), min_size=1, max_size=3))
    shapes = [base[: axis % n] + (k,) + base[axis % n + 1 :] for k in sizes]
    return Case(_fill(_rng(draw), shapes, "real"), {"axis": axis})


@st.composite
def stack_case(draw):
    shape = draw(hnp.array_shapes(**SHAPE))
    k = draw(st.integers(1, 3))
    n = len(shape)
    axis = draw(st.integers(-n - 1, n))
    return Case(_fill(_rng(draw), [shape] * k, "real"), {"axis": axis})


@st.composite
def layer_norm_case(draw):
    """An input and a weight and bias over its last 1 to ndim axes (each at least 2 long,
    so every normalised slice varies)."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=4))
    k = draw(st.integers(1, len(shape)))
    normalized = shape[len(shape) - k :]
    return Case(_fill(_rng(draw), [shape, normalized, normalized], "real"), {"shape": normalized})


@st.composite
def batch_norm_case(draw):
    """(N, C) or (N, C, L), at least 2 values per channel, with a weight and bias of C."""
    c = draw(st.integers(1, 4))
    shape = draw(st.sampled_from([(draw(st.integers(2, 4)), c), (draw(st.integers(1, 3)), c, 2)]))
    return Case(_fill(_rng(draw), [shape, (c,), (c,)], "real"))


@st.composite
def embedding_case(draw):
    """A table and ids of 0 to 2 dimensions into it, repeats likely."""
    n, dim = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    rng = _rng(draw)
    ids = rng.integers(0, n, draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=4)))
    return Case(_fill(rng, [(n, dim)], "real"), {"ids": ids})


# ----------------------------------------------------------------------------- the table


def tdim(axis, ndim: int):
    """A tensorgrad ``axis`` as a torch ``dim`` (torch reads ``dim=()`` as "all")."""
    return tuple(range(ndim)) if axis is None else axis


def take(x, index):
    """tensorgrad: ``x[index]``."""
    return x[index]


def gather(x, index):
    """torch: ``x[index]`` with NumPy semantics, as a gather of flat positions.

    Torch cannot take negative slice steps and differs from NumPy in some mixed
    advanced/basic cases; NumPy computes *which* elements are picked, torch gathers them
    and scatters the gradient back with its own accumulating index.
    """
    key = np.asarray(index) if isinstance(index, list) else index
    positions = np.arange(math.prod(x.shape)).reshape(tuple(x.shape))[key]
    return x.reshape(-1)[
        torch.as_tensor(np.array(positions, dtype=np.int64))
    ]  # a copy: no negative strides


@dataclass(frozen=True)
class Op:
    name: str
    tg: Callable  # (*tensors, **params) -> Tensor
    torch: Callable  # (*torch tensors, **params) -> torch.Tensor
    case: st.SearchStrategy  # draws a Case
    gradcheck: bool = True  # False at ties (kinks) and for float32 outputs
    higher_order: bool = True  # tested by test_higher_order.py
    rtol: float = 1e-10
    atol: float = 1e-10

    def __repr__(self) -> str:
        return self.name


def _expand(x, *others):
    """``x`` broadcast (differentiably) to the shape it makes with ``others``."""
    return x.expand(torch.broadcast_shapes(x.shape, *(o.shape for o in others)))


def _tt(x):
    return torch.as_tensor(x, dtype=torch.float64)


OPS: list[Op] = [
    # -- binary arithmetic between tensors, with broadcasting --------------------------------
    Op("add", lambda a, b: a + b, lambda a, b: a + b, elementwise(2)),
    Op("sub", lambda a, b: a - b, lambda a, b: a - b, elementwise(2)),
    Op("mul", lambda a, b: a * b, lambda a, b: a * b, elementwise(2)),
    Op("div", lambda a, b: a / b, lambda a, b: a / b, elementwise(2, ("real", "nonzero"))),
    Op("pow", lambda a, b: a**b, lambda a, b: a**b, elementwise(2, ("positive", "real"))),
    Op("self_mul", lambda a: a * a, lambda a: a * a, elementwise(1)),
    # -- a tensor and a Python / NumPy scalar, on either side ------------------------------
    Op(
        "add_scalar",
        lambda x, c: x + c,
        lambda x, c: x + c,
        elementwise(scalars=[2, -1.5, np.float64(0.25)]),
    ),
    Op(
        "radd_scalar",
        lambda x, c: c + x,
        lambda x, c: c + x,
        elementwise(scalars=[2, -1.5, np.float64(0.25)]),
    ),
    Op(
        "sub_scalar",
        lambda x, c: x - c,
        lambda x, c: x - c,
        elementwise(scalars=[2, -1.5, np.float32(3.0)]),
    ),
    Op(
        "rsub_scalar",
        lambda x, c: c - x,
        lambda x, c: c - x,
        elementwise(scalars=[2, -1.5, np.float64(0.5)]),
    ),
    Op(
        "mul_scalar",
        lambda x, c: x * c,
        lambda x, c: x * c,
        elementwise(scalars=[3, -0.5, np.float64(2)]),
    ),
    Op(
        "rmul_scalar",
        lambda x, c: c * x,
        lambda x, c: c * x,
        elementwise(scalars=[3, -0.5, np.float64(2)]),
    ),
    Op(
        "div_scalar",
        lambda x, c: x / c,
        lambda x, c: x / c,
        elementwise(scalars=[3, -0.5, np.float64(2)]),
    ),
    Op(
        "rdiv_scalar",
        lambda x, c: c / x,
        lambda x, c: c / x,
        elementwise(domains="nonzero", scalars=[2, -1.5, np.float64(0.5)]),
    ),
    Op(
        "pow_scalar",
        lambda x, c: x**c,
        lambda x, c: x**c,
        elementwise(domains="positive", scalars=[2, 3, 0.5, -1.5, 1.7, np.float64(2.5)]),
    ),
    Op(
        "pow_int_negative_base",
        lambda x, c: x**c,
        lambda x, c: x**c,
        elementwise(domains="nonzero", scalars=[1, 2, 3, -1, -2, 0]),
    ),
    Op(
        "rpow_scalar",
        lambda x, c: c**x,
        lambda x, c: c**x,
        elementwise(scalars=[2, 0.5, 3.0, np.float64(1.5)]),
    ),
    # -- an ndarray constant on the left (reflected operators through __array_ufunc__ = None)
    Op("radd_array", lambda x, c: c + x, lambda x, c: _tt(c) + x, elementwise(constant="real")),
    Op("rsub_array", lambda x, c: c - x, lambda x, c: _tt(c) - x, elementwise(constant="real")),
    Op("rmul_array", lambda x, c: c * x, lambda x, c: _tt(c) * x, elementwise(constant="real")),
    Op(
        "rdiv_array",
        lambda x, c: c / x,
        lambda x, c: _tt(c) / x,
        elementwise(domains="nonzero", constant="real"),
    ),
    Op("rpow_array", lambda x, c: c**x, lambda x, c: _tt(c) ** x, elementwise(constant="positive")),
    # -- unary ----------------------------------------------------------------------------
    Op("neg", lambda x: -x, lambda x: -x, elementwise()),
    Op("neg_method", lambda x: x.neg(), lambda x: x.neg(), elementwise()),
    Op("abs", lambda x: abs(x), lambda x: abs(x), elementwise(domains="nonzero")),
    Op("abs_method", lambda x: x.abs(), lambda x: x.abs(), elementwise(domains="nonzero")),
    Op("exp", lambda x: x.exp(), torch.exp, elementwise()),
    Op("tg.exp", lambda x: tg.exp(x), torch.exp, elementwise()),
    Op("log", lambda x: x.log(), torch.log, elementwise(domains="positive")),
    Op("sqrt", lambda x: x.sqrt(), torch.sqrt, elementwise(domains="positive")),
    Op("tanh", lambda x: x.tanh(), torch.tanh, elementwise()),
    Op("sigmoid", lambda x: x.sigmoid(), torch.sigmoid, elementwise()),
    Op("relu", lambda x: x.relu(), torch.relu, elementwise(domains="nonzero")),
    Op("sin", lambda x: x.sin(), torch.sin, elementwise()),
    Op("cos", lambda x: x.cos(), torch.cos, elementwise()),
    Op("erf", lambda x: x.erf(), torch.erf, elementwise()),
    Op(
        "gelu",
        lambda x: tg.nn.functional.gelu(x),
        lambda x: torch.nn.functional.gelu(x),
        elementwise(),
    ),
    Op(
        "gelu_tanh",
        lambda x: tg.nn.functional.gelu(x, approximate="tanh"),
        lambda x: torch.nn.functional.gelu(x, approximate="tanh"),
        elementwise(),
    ),
    # -- maximum / minimum / where / clip -------------------------------------------------
    Op("maximum", lambda a, b: tg.maximum(a, b), torch.maximum, extremum_pair()),
    Op("minimum", lambda a, b: tg.minimum(a, b), torch.minimum, extremum_pair()),
    Op("maximum_method", lambda a, b: a.maximum(b), torch.maximum, extremum_pair()),
    Op(
        "maximum_ties",
        lambda a, b: tg.maximum(a, b),
        torch.maximum,
        elementwise(2, "ties"),
        gradcheck=False,
    ),
    Op(
        "minimum_ties",
        lambda a, b: tg.minimum(a, b),
        torch.minimum,
        elementwise(2, "ties"),
        gradcheck=False,
    ),
    Op(
        "maximum_nan",
        lambda a, b: tg.maximum(a, b),
        torch.maximum,
        elementwise(2, "ties_and_nans"),
        gradcheck=False,
    ),
    Op(
        "minimum_nan",
        lambda a, b: tg.minimum(a, b),
        torch.minimum,
        elementwise(2, "ties_and_nans"),
        gradcheck=False,
    ),
    Op(
        "maximum_scalar",
        lambda x: tg.maximum(x, 0.3),
        lambda x: torch.maximum(x, _tt(0.3)),
        elementwise(domains="nonzero"),
    ),
    Op(
        "where",
        lambda a, b, cond: tg.where(cond, a, b),
        lambda a, b, cond: torch.where(torch.as_tensor(cond), a, b),
        where_case(),
    ),
    Op(
        "where_scalar",
        lambda a, cond: tg.where(cond, a, 0.5),
        lambda a, cond: torch.where(torch.as_tensor(cond), a, _tt(0.5)),
        where_case(scalar_branch=True),
    ),
    Op(
        "where_tensor_cond",
        lambda a, b, cond: tg.where(tg.tensor(cond, dtype=bool), a, b),
        lambda a, b, cond: torch.where(torch.as_tensor(cond), a, b),
        where_case(),
    ),
    Op(
        "clip",
        lambda x: x.clip(-0.5, 0.5),
        lambda x: torch.clamp(x, -0.5, 0.5),
        elementwise(domains="off_clip_bounds"),
    ),
    Op(
        "clip_min",
        lambda x: x.clip(min=-0.5),
        lambda x: torch.clamp(x, min=-0.5),
        elementwise(domains="off_clip_bounds"),
    ),
    Op(
        "clip_max",
        lambda x: tg.clip(x, max=0.5),
        lambda x: torch.clamp(x, max=0.5),
        elementwise(domains="off_clip_bounds"),
    ),
    # Tensor bounds, broadcast (some draws cross: min > max, as torch.clamp allows). Bounds
    # may broadcast x to a bigger shape, as np.clip does; torch's backward does not reduce
    # x's gradient then, so the reference expands x first.
    Op(
        "clip_tensor_bounds",
        lambda x, lo, hi: x.clip(lo, hi),
        lambda x, lo, hi: torch.clamp(_expand(x, lo, hi), lo, hi),
        elementwise(3, ("off_bounds", "bounds_low", "bounds_high")),
    ),
    Op(
        "clip_tensor_min",
        lambda x, lo: tg.clip(x, min=lo),
        lambda x, lo: torch.clamp(_expand(x, lo), min=lo),
        elementwise(2, ("off_bounds", "bounds_low")),
    ),
    Op(
        "clip_array_max",
        lambda x, c: x.clip(max=c),
        lambda x, c: torch.clamp(_expand(x, torch.as_tensor(c)), max=torch.as_tensor(c)),
        elementwise(domains="off_bounds", constant="bounds_high"),
    ),
    # -- matmul (more, by name, in test_matmul.py) -----------------------------------------
    Op("matmul", lambda a, b: a @ b, lambda a, b: a @ b, matmul_case()),
    Op("tg.matmul", lambda a, b: tg.matmul(a, b), torch.matmul, matmul_case()),
    # -- reductions -----------------------------------------------------------------------
    Op(
        "sum",
        lambda x, axis, keepdims: x.sum(axis=axis, keepdims=keepdims),
        lambda x, axis, keepdims: torch.sum(x, dim=tdim(axis, x.ndim), keepdim=keepdims),
        reduction(),
    ),
    Op(
        "tg.sum",
        lambda x, axis, keepdims: tg.sum(x, axis, keepdims),
        lambda x, axis, keepdims: torch.sum(x, dim=tdim(axis, x.ndim), keepdim=keepdims),
        reduction(),
    ),
    Op(
        "mean",
        lambda x, axis, keepdims: x.mean(axis=axis, keepdims=keepdims),
        lambda x, axis, keepdims: torch.mean(x, dim=tdim(axis, x.ndim), keepdim=keepdims),
        reduction(),
    ),
    Op(
        "max",
        lambda x, axis, keepdims: x.max(axis=axis, keepdims=keepdims),
        lambda x, axis, keepdims: torch.amax(x, dim=tdim(axis, x.ndim), keepdim=keepdims),
        reduction("distinct", min_reduced=1),
    ),
    Op(
        "min",
        lambda x, axis, keepdims: x.min(axis=axis, keepdims=keepdims),
        lambda x, axis, keepdims: torch.amin(x, dim=tdim(axis, x.ndim), keepdim=keepdims),
        reduction("distinct", min_reduced=1),
    ),
    Op(
        "max_ties",
        lambda x, axis, keepdims: x.max(axis=axis, keepdims=keepdims),
        lambda x, axis, keepdims: torch.amax(x, dim=tdim(axis, x.ndim), keepdim=keepdims),
        reduction("ties", min_reduced=1),
        gradcheck=False,
    ),
    Op(
        "min_ties",
        lambda x, axis, keepdims: tg.min(x, axis=axis, keepdims=keepdims),
        lambda x, axis, keepdims: torch.amin(x, dim=tdim(axis, x.ndim), keepdim=keepdims),
        reduction("ties", min_reduced=1),
        gradcheck=False,
    ),
    Op(
        "var",
        lambda x, axis, keepdims: x.var(axis=axis, keepdims=keepdims),
        lambda x, axis, keepdims: torch.var(
            x, dim=tdim(axis, x.ndim), correction=0, keepdim=keepdims
        ),
        reduction(min_reduced=1),
    ),
    Op(
        "var_ddof1",
        lambda x, axis: tg.var(x, axis=axis, ddof=1),
        lambda x, axis: torch.var(x, dim=tdim(axis, x.ndim), correction=1),
        reduction(min_reduced=2, keepdims=False, min_dims=1),
    ),
    Op(
        "std",
        lambda x, axis, keepdims: x.std(axis=axis, keepdims=keepdims),
        lambda x, axis, keepdims: torch.std(
            x, dim=tdim(axis, x.ndim), correction=0, keepdim=keepdims
        ),
        reduction("distinct", min_reduced=2, min_dims=1),  # no two equal: std > 0, smooth
    ),
    Op(
        "logsumexp",
        lambda x, axis, keepdims: x.logsumexp(axis=axis, keepdims=keepdims),
        lambda x, axis, keepdims: torch.logsumexp(x, dim=tdim(axis, x.ndim), keepdim=keepdims),
        reduction(),
    ),
    Op(
        "softmax",
        lambda x, axis: x.softmax(axis=axis),
        lambda x, axis: torch.softmax(x, dim=axis),
        reduction(single=True, allow_none=False, keepdims=False),
    ),
    Op(
        "log_softmax",
        lambda x, axis: tg.log_softmax(x, axis),
        lambda x, axis: torch.log_softmax(x, dim=axis),
        reduction(single=True, allow_none=False, keepdims=False),
    ),
    # -- shape ----------------------------------------------------------------------------
    Op(
        "reshape",
        lambda x, shape: x.reshape(shape),
        lambda x, shape: x.reshape(shape),
        reshape_case(),
    ),
    Op(
        "reshape_varargs",
        lambda x, shape: x.reshape(*shape),
        lambda x, shape: x.reshape(shape),
        reshape_case(),
    ),
    Op(
        "transpose",
        lambda x, axes: x.transpose(*axes),
        lambda x, axes: torch.permute(x, axes),
        permutation_case(),
    ),
    Op(
        "permute",
        lambda x, axes: x.permute(axes),
        lambda x, axes: torch.permute(x, axes),
        permutation_case(),
    ),
    Op(
        "transpose_default",
        lambda x: x.transpose(),
        lambda x: torch.permute(x, tuple(reversed(range(x.ndim)))),
        one_input(),
    ),
    Op(
        ".T", lambda x: x.T, lambda x: torch.permute(x, tuple(reversed(range(x.ndim)))), one_input()
    ),
    Op(
        "swapaxes",
        lambda x, a1, a2: x.swapaxes(a1, a2),
        lambda x, a1, a2: torch.swapaxes(x, a1, a2),
        swapaxes_case(),
    ),
    Op(
        "squeeze",
        lambda x, axis: x.squeeze(axis),
        lambda x, axis: torch.squeeze(x) if axis is None else torch.squeeze(x, axis),
        squeeze_case(),
    ),
    Op(
        "unsqueeze",
        lambda x, axis: x.unsqueeze(axis),
        lambda x, axis: torch.unsqueeze(x, axis),
        unsqueeze_case(),
    ),
    Op(
        "broadcast_to",
        lambda x, shape: x.broadcast_to(shape),
        lambda x, shape: torch.broadcast_to(x, shape),
        broadcast_to_case(),
    ),
    Op(
        "flatten",
        lambda x, start, end: x.flatten(start, end),
        lambda x, start, end: torch.flatten(x, start, end),
        flatten_case(),
    ),
    Op(
        "index_basic",
        take,
        gather,
        basic_index_case(),
    ),
    Op(
        "index_int_arrays",
        take,
        gather,
        int_array_index_case(),
    ),
    Op(
        "index_mixed",
        take,
        gather,
        mixed_index_case(),
    ),
    Op(
        "index_bool_mask",
        take,
        gather,
        bool_index_case(),
    ),
    Op(
        "index_tensor",
        lambda x, index: x[tg.tensor(index, dtype=index.dtype)],
        gather,
        bool_index_case(),
    ),
    Op(
        "concatenate",
        lambda *xs, axis: tg.concatenate(xs, axis=axis),
        lambda *xs, axis: torch.cat(xs, dim=axis),
        concatenate_case(),
    ),
    Op(
        "concatenate_flat",  # axis=None: NumPy flattens every input first
        lambda *xs: tg.concatenate(xs, axis=None),
        lambda *xs: torch.cat([x.reshape(-1) for x in xs]),
        st.builds(lambda c: Case(c.arrays), elementwise(3)),
    ),
    Op(
        "stack",
        lambda *xs, axis: tg.stack(xs, axis=axis),
        lambda *xs, axis: torch.stack(xs, dim=axis),
        stack_case(),
    ),
    # -- nn.functional: normalisations and the embedding lookup ---------------------------
    Op(
        "layer_norm",
        lambda x, w, b, shape: tg.nn.functional.layer_norm(x, shape, w, b),
        lambda x, w, b, shape: torch.nn.functional.layer_norm(x, shape, w, b),
        layer_norm_case(),
    ),
    Op(
        "batch_norm_training",
        lambda x, w, b: tg.nn.functional.batch_norm(x, None, None, w, b, training=True),
        lambda x, w, b: torch.nn.functional.batch_norm(x, None, None, w, b, training=True),
        batch_norm_case(),
    ),
    Op(
        "embedding",
        lambda table, ids: tg.nn.functional.embedding(ids, table),
        lambda table, ids: torch.nn.functional.embedding(torch.as_tensor(ids), table),
        embedding_case(),
    ),
    Op(
        "astype_float64", lambda x: x.astype(np.float64), lambda x: x.to(torch.float64), one_input()
    ),
    Op(
        "astype_float32",
        lambda x: x.astype(np.float32),
        lambda x: x.to(torch.float32),
        one_input(),
        gradcheck=False,
        rtol=1e-6,
        atol=1e-7,
    ),
]


# ----------------------------------------------------------------------------- the checks


def run_tg(op: Op, case: Case):
    xs = [tg.tensor(a, requires_grad=True) for a in case.arrays]
    return xs, op.tg(*xs, **case.params)


def run_torch(op: Op, case: Case):
    xs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in case.arrays]
    return xs, op.torch(*xs, **case.params)


def torch_grads(xs) -> list[np.ndarray]:
    return [np.zeros(tuple(x.shape)) if x.grad is None else x.grad.detach().numpy() for x in xs]


def check_forward(op: Op, out, ref) -> None:
    ref = ref.detach().numpy()
    assert isinstance(out, tg.Tensor), f"{op.name} returned {type(out).__name__}"
    assert out.shape == ref.shape, f"{op.name}: shape {out.shape}, torch {ref.shape}"
    assert out.dtype == ref.dtype, f"{op.name}: dtype {out.dtype}, torch {ref.dtype}"
    np.testing.assert_allclose(out.data, ref, rtol=op.rtol, atol=op.atol, err_msg=op.name)


def check_grads(op: Op, xs, ref_grads) -> None:
    for i, (x, ref) in enumerate(zip(xs, ref_grads)):
        assert x.grad is not None, f"{op.name}: input {i} got no gradient"
        assert isinstance(x.grad, tg.Tensor)
        assert x.grad.shape == x.shape, f"{op.name}: grad {i} shape {x.grad.shape} != {x.shape}"
        assert x.grad.dtype == x.dtype
        np.testing.assert_allclose(
            x.grad.data, ref, rtol=1e-9, atol=1e-9, err_msg=f"{op.name}: gradient of input {i}"
        )


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
@settings(max_examples=examples(0.6))
@given(data=st.data())
def test_forward_and_vjp_match_torch(op: Op, data) -> None:
    case = data.draw(op.case, label="case")
    xs, out = run_tg(op, case)
    txs, ref = run_torch(op, case)
    check_forward(op, out, ref)

    # A random, non-uniform upstream gradient: catches rules that only work for ones.
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="G seed"))
    G = np.asarray(rng.standard_normal(out.shape))
    out.backward(gradient=G)
    ref.backward(torch.as_tensor(G, dtype=ref.dtype))
    check_grads(op, xs, torch_grads(txs))


GRADCHECK_OPS = [op for op in OPS if op.gradcheck]


@pytest.mark.parametrize("op", GRADCHECK_OPS, ids=lambda op: op.name)
@settings(max_examples=examples(0.4))
@given(data=st.data())
def test_gradcheck(op: Op, data) -> None:
    case = data.draw(op.case, label="case")
    xs = [tg.tensor(a, requires_grad=True) for a in case.arrays]
    assert tg.gradcheck(lambda *ts: op.tg(*ts, **case.params), xs)


# ----------------------------------------------------------------------------- named cases

# The broadcasting pairs the issue names, every binary op, both operand orders.
NAMED_PAIRS = [
    ((3, 1), (1, 4)),
    ((2, 3, 4), (4,)),
    ((5,), ()),
    ((), ()),
    ((0, 3), (3,)),
    ((0, 3), (1, 1)),
    ((2, 1, 3), (4, 1)),
    ((1,), (2, 0)),
]
BINARY = [op for op in OPS if op.name in ("add", "sub", "mul", "div", "pow", "maximum", "minimum")]


@pytest.mark.parametrize("op", BINARY, ids=lambda op: op.name)
@pytest.mark.parametrize("shapes", NAMED_PAIRS + [p[::-1] for p in NAMED_PAIRS], ids=str)
def test_named_broadcast_pairs(op: Op, shapes) -> None:
    rng = np.random.default_rng(0)
    a = _distinct(rng, shapes[0]) + 3.0  # positive (for pow) and tie-free (for maximum)
    b = _distinct(rng, shapes[1]) * 1.1 + 0.01
    case = Case((a, b))
    xs, out = run_tg(op, case)
    txs, ref = run_torch(op, case)
    check_forward(op, out, ref)
    G = np.asarray(rng.standard_normal(out.shape))
    out.backward(gradient=G)
    ref.backward(torch.as_tensor(G))
    check_grads(op, xs, torch_grads(txs))
    assert tg.gradcheck(op.tg, [tg.tensor(a, requires_grad=True), tg.tensor(b, requires_grad=True)])


def test_table_covers_every_op() -> None:
    """A guard: each op the issue lists has at least one row."""
    names = {op.name for op in OPS}
    wanted = {
        "add", "sub", "mul", "div", "pow", "pow_scalar", "rpow_scalar", "rsub_scalar",
        "rdiv_scalar", "neg", "abs", "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "sin",
        "cos", "maximum", "minimum", "where", "clip", "matmul", "sum", "mean", "max", "min",
        "var", "std", "logsumexp", "softmax", "log_softmax", "reshape", "transpose", "permute",
        ".T", "swapaxes", "squeeze", "unsqueeze", "broadcast_to", "flatten", "index_basic",
        "index_int_arrays", "index_bool_mask", "concatenate", "concatenate_flat", "stack",
        "astype_float32", "erf", "gelu",
    }  # fmt: skip
    assert wanted <= names, wanted - names


@pytest.mark.parametrize(
    "index",
    [
        np.array([0, 0, 0, 2]),
        (np.array([1, 1]), np.array([0, 0])),
        (slice(None), np.array([-1, -1, 0])),
        [1, 1, 1],
    ],
    ids=["repeat", "pairs", "negative", "list"],
)
def test_repeated_indices_accumulate(index) -> None:
    """Hand math: every time an element is picked it receives its share of the gradient."""
    a = np.arange(6.0).reshape(3, 2)
    x = tg.tensor(a, requires_grad=True)
    y = x[index]
    G = np.arange(1.0, 1.0 + y.size).reshape(y.shape)
    y.backward(gradient=G)
    expected = np.zeros_like(a)
    np.add.at(expected, np.asarray(index) if isinstance(index, list) else index, G)
    np.testing.assert_array_equal(x.grad.data, expected)
    assert expected.max() > G.max()  # the case really repeats an index


def test_max_ties_share_gradient_equally_hand_math() -> None:
    x = tg.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], requires_grad=True)
    x.max(axis=1).backward(gradient=np.array([6.0, 9.0]))
    np.testing.assert_array_equal(x.grad.data, [[0, 3, 3], [3, 3, 3]])
    y = tg.tensor([5.0, 5.0], requires_grad=True)
    z = tg.tensor([5.0, 1.0], requires_grad=True)
    tg.maximum(y, z).backward(gradient=np.array([2.0, 2.0]))
    np.testing.assert_array_equal(y.grad.data, [1, 2])
    np.testing.assert_array_equal(z.grad.data, [1, 0])


@pytest.mark.parametrize(
    "name, fn, tfn",
    [
        ("exp", lambda x: x.exp(), torch.exp),
        ("sigmoid", lambda x: x.sigmoid(), torch.sigmoid),
        ("tanh", lambda x: x.tanh(), torch.tanh),
        ("logsumexp", lambda x: x.logsumexp(axis=-1), lambda x: torch.logsumexp(x, -1)),
        ("softmax", lambda x: x.softmax(-1), lambda x: torch.softmax(x, -1)),
        ("log_softmax", lambda x: x.log_softmax(-1), lambda x: torch.log_softmax(x, -1)),
    ],
)
def test_stable_at_plus_minus_1000(name, fn, tfn) -> None:
    """Values and gradients stay finite (and equal torch's) for inputs of ±1000."""
    a = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -999.0], [1000.0, 999.0, 1000.0]])
    if name == "exp":
        a = np.array([[-1000.0, 0.5, -700.0]])  # exp(+1000) overflows in every library
    x = tg.tensor(a, requires_grad=True)
    y = fn(x)
    tx = torch.tensor(a, requires_grad=True)
    ty = tfn(tx)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-12, atol=1e-300)
    G = np.random.default_rng(1).standard_normal(y.shape)
    y.backward(gradient=G)
    ty.backward(torch.as_tensor(G))
    assert np.isfinite(y.data).all() and np.isfinite(x.grad.data).all()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda t: np.dtype(t).name)
@pytest.mark.parametrize("name", ["std", "var"])
def test_a_constant_slice_has_spread_and_gradient_exactly_zero(name, dtype) -> None:
    """Hand math: equal values have std = var = 0, and moving them all together keeps it 0,
    so the gradient is 0 (std's is taken as 0 where std is 0, as PyTorch's). The rounded
    mean of (0.1, 0.1, 0.1) made std 1.4e-17 and its gradient -1/3 per element."""
    rng = np.random.default_rng(3)
    for _ in range(200):
        c = rng.standard_normal((2, 1)) * 10.0 ** rng.integers(-3, 4)
        x = tg.tensor(c.astype(dtype), requires_grad=True)
        wide = x.broadcast_to((2, int(rng.integers(2, 9))))  # each row constant
        y = getattr(wide, name)(axis=1)
        y.backward(gradient=np.ones(2, dtype))
        np.testing.assert_array_equal(y.data, [0.0, 0.0])
        np.testing.assert_array_equal(x.grad.data, [[0.0], [0.0]])


@pytest.mark.parametrize("data", ["outlier", "offset 1e4", "offset 1e6"])
@pytest.mark.parametrize("name", ["var", "std"])
def test_spread_gradient_keeps_float32_accuracy(name, data) -> None:
    """Hand math, d var/dx = 2 (x - mean) / n and d std/dx = (x - mean) / (n std), in
    float64 on the same float32 values (math.fsum for the mean). Centring on the first
    element gave each deviation that element's rounding (a median relative error of 5e-5
    beside a 1e4 outlier); centring once on the rounded mean, the mean's rounding (4e-2
    for 1e6 + N(0, 1)); two passes give ~5e-8 in all three."""
    rng = np.random.default_rng(5)
    a = rng.standard_normal(1000)
    if data == "outlier":
        a[0] = 1e4
    else:
        a += float(data.split()[1])
    a = a.astype(np.float32)
    x = tg.tensor(a, requires_grad=True)
    getattr(x, name)().backward()
    a64 = a.astype(np.float64)
    deviation = a64 - math.fsum(a64) / a.size
    exact = 2 * deviation / a.size
    if name == "std":
        exact = deviation / (a.size * math.sqrt(math.fsum(deviation**2) / a.size))
    relative = np.abs(x.grad.data - exact) / np.abs(exact)
    assert x.grad.dtype == np.float32 and np.median(relative) < 1e-6


def test_var_second_derivative_over_a_constant_slice_matches_torch() -> None:
    """The exact zero of a constant slice's deviations keeps its derivative: var's Hessian
    there is 2/n (I - 1/n), not 0 (hand math, and torch)."""
    a, v = np.array([1.0, 1.0, 1.0]), np.array([1.0, 0.0, 0.0])
    x = tg.tensor(a, requires_grad=True)
    (g,) = tg.grad(x.var(), [x], create_graph=True)
    np.testing.assert_array_equal(g.data, 0.0)
    (h,) = tg.grad((g * v).sum(), [x])
    np.testing.assert_allclose(h.data, [4 / 9, -2 / 9, -2 / 9])  # 2/3 (e1 - 1/3)
    tx = torch.tensor(a, requires_grad=True)
    (tgx,) = torch.autograd.grad(tx.var(correction=0), tx, create_graph=True)
    (thv,) = torch.autograd.grad((tgx * torch.tensor(v)).sum(), tx)
    np.testing.assert_allclose(h.data, thv.numpy())


@pytest.mark.parametrize("n", [2050, 5003])
def test_float16_std_gradient_matches_torch_bit_for_bit(n) -> None:
    """It divides by n - 1 in float32, as PyTorch: n - 1 = 2049 or 5002 is not a float16."""
    a = np.random.default_rng(n).standard_normal(n).astype(np.float16)
    x = tg.tensor(a, requires_grad=True)
    x.std(ddof=1).backward()
    tx = torch.tensor(a, requires_grad=True)
    tx.std(correction=1).backward()
    np.testing.assert_array_equal(x.grad.data, tx.grad.numpy())


@pytest.mark.parametrize("name", ["relu", "abs"])
def test_relu_and_abs_slopes_at_nan_and_zero_match_torch(name) -> None:
    """relu passes the gradient at nan (its slope is 0 only where it outputs 0); abs's slope
    is 0 at 0 and at nan."""
    a = np.array([np.nan, -1.0, -0.0, 0.0, 2.0])
    G = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    x = tg.tensor(a, requires_grad=True)
    getattr(x, name)().backward(G)
    tx = torch.tensor(a, requires_grad=True)
    getattr(tx, name)().backward(torch.as_tensor(G))
    np.testing.assert_array_equal(x.grad.data, tx.grad.numpy())


@pytest.mark.parametrize(
    "name, fn, tfn",
    [
        ("logsumexp", lambda x: x.logsumexp(axis=-1), lambda x: torch.logsumexp(x, -1)),
        ("softmax", lambda x: x.softmax(-1), lambda x: torch.softmax(x, -1)),
        ("log_softmax", lambda x: x.log_softmax(-1), lambda x: torch.log_softmax(x, -1)),
    ],
)
def test_rows_with_infinities_match_torch(name, fn, tfn) -> None:
    """A row of all -inf gives torch's values (-inf or nan) without spoiling the other rows,
    and a -inf among finite logits is a probability of exactly 0. A +inf: logsumexp is
    +inf, softmax and log_softmax of its row are nan (inf - inf), as torch."""
    inf = np.inf
    a = np.array(
        [[-inf, -inf, -inf], [0.5, -inf, 2.0], [1000.0, -inf, 999.0], [inf, 1.0, -inf], [inf] * 3]
    )
    with np.errstate(all="ignore"):
        y = fn(tg.tensor(a))
    ref = tfn(torch.tensor(a)).numpy()
    np.testing.assert_array_equal(np.isnan(y.data), np.isnan(ref))
    np.testing.assert_allclose(y.data, ref, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduce", ["sum", "mean"])
def test_square_below_full_reduction(dtype, reduce) -> None:
    """d/dx Σ x² = 2x and d/dx mean x² = 2x / n (hand math; the upstream gradient is one
    number broadcast, which the x * x rule uses directly); the dtype is kept."""
    a = np.random.default_rng(3).standard_normal((4, 5)).astype(dtype)
    x = tg.tensor(a, requires_grad=True)
    getattr(x * x, reduce)().backward()
    expected = 2 * a / (a.size if reduce == "mean" else 1)
    assert x.grad.dtype == dtype
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-6 if dtype == np.float32 else 1e-14)
    # A non-uniform upstream gradient (a weighted sum) takes the general route.
    w = np.arange(20.0, dtype=dtype).reshape(4, 5)
    x.grad = None
    (x * x * w).sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * a * w, rtol=1e-6 if dtype == np.float32 else 1e-14)


@pytest.mark.parametrize("order", ["x * c", "c * x"])
@pytest.mark.parametrize("make_c", ["detach", "leaf on the same array"])
def test_product_with_a_copy_sharing_the_array_is_not_a_square(order, make_c) -> None:
    """x * c where c holds x's very array (x.detach(), or another leaf on it) is not x * x:
    d/dx Σ x·c = c (hand math), not 2x, in either operand order."""
    a = np.array([1.0, -2.0, 3.0])
    x = tg.tensor(a, requires_grad=True)
    c = x.detach() if make_c == "detach" else x.detach().requires_grad_()
    assert c.data is x.data
    ((x * c) if order == "x * c" else (c * x)).sum().backward()
    np.testing.assert_array_equal(x.grad.data, a)
    if make_c != "detach":
        np.testing.assert_array_equal(c.grad.data, a)


def test_pow_gradients_at_zero_base_match_torch() -> None:
    """0 ** b: d/db is 0 for b >= 0 (torch's convention), not nan from log(0), and
    inf * log 0 = -inf for b < 0; d/da a ** 0 is 0 everywhere (a ** 0 is the constant 1),
    not 0 * 0 ** -1 = nan. A nan exponent gives nan."""
    a = np.array([0.0, 0.0, 2.0, 0.0, 0.0, -0.0])
    b = np.array([2.0, 0.0, 1.5, -1.0, np.nan, -2.0])
    x, y = tg.tensor(a, requires_grad=True), tg.tensor(b, requires_grad=True)
    (x**y).sum().backward()
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    (tx**ty).sum().backward()
    np.testing.assert_allclose(y.grad.data, ty.grad.numpy())
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy())


@pytest.mark.parametrize("base_dtype", [np.int64, np.float64])
def test_pow_exponent_gradient_of_a_constant_base_matches_torch(base_dtype) -> None:
    """c ** x with an array c (an integer one too) at c < 0, c = 0 and c > 0: nan, -inf
    for x < 0 at c = 0, c^x log c -- floats, never an integer cast of nan."""
    c = np.array([-1, 0, 2, 0], dtype=base_dtype)
    e = np.array([2.0, -1.0, 0.5, 3.0])
    x = tg.tensor(e, requires_grad=True)
    with np.errstate(all="ignore"):
        (c**x).sum().backward()
    tx = torch.tensor(e, requires_grad=True)
    (torch.tensor(c) ** tx).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy())


def test_pow_scalar_zero_base_matches_torch() -> None:
    """0.0 ** x: d/dx is 0 where x >= 0 and inf · log 0 = -inf where x < 0 (not inf · 0)."""
    e = np.array([-2.0, 0.0, 1.5])
    x = tg.tensor(e, requires_grad=True)
    with np.errstate(all="ignore"):
        (0.0**x).sum().backward()
    tx = torch.tensor(e, requires_grad=True)
    (0.0**tx).sum().backward()
    np.testing.assert_array_equal(x.grad.data, tx.grad.numpy())


def test_gradient_of_zero_to_the_x_can_be_differentiated_again() -> None:
    """d/dx 0^x = 0^x log 0 (0 where x >= 0, as PyTorch): a graph through 0^x, so the
    second derivative 0^x (log 0)² is 0 for x > 0 and inf for x < 0 (inf · inf)."""
    x = tg.tensor([0.5, -1.0], requires_grad=True)
    with np.errstate(all="ignore"):
        (g,) = tg.grad((0.0**x).sum(), [x], create_graph=True)
        assert g.requires_grad
        np.testing.assert_array_equal(g.data, [0.0, -np.inf])
        (h,) = tg.grad(g.sum(), [x])
    np.testing.assert_array_equal(h.data, [0.0, np.inf])


def test_softmax_of_an_integer_tensor_is_a_float_softmax() -> None:
    t = tg.tensor(np.array([[1, 2, 3]]), dtype=np.int64)
    e = np.exp(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(t.softmax(axis=1).data, [e / e.sum()], rtol=1e-15)


EMPTY_REDUCTIONS = {
    "sum": (lambda x, axis: x.sum(axis=axis), lambda x, dim: torch.sum(x, dim=dim)),
    "mean": (lambda x, axis: x.mean(axis=axis), lambda x, dim: torch.mean(x, dim=dim)),
    "var": (lambda x, axis: x.var(axis=axis), lambda x, dim: torch.var(x, dim=dim, correction=0)),
    "logsumexp": (
        lambda x, axis: x.logsumexp(axis=axis),
        lambda x, dim: torch.logsumexp(x, dim=dim),
    ),
}


@pytest.mark.parametrize("name", EMPTY_REDUCTIONS)
@pytest.mark.parametrize("axis", [0, 1, -1, (0, 1), None], ids=str)
def test_reductions_of_empty_input_backward(name, axis) -> None:
    """Reducing a (3, 0) input: values as torch (0, nan, -inf), gradient an empty (3, 0)."""
    fn, tfn = EMPTY_REDUCTIONS[name]
    with np.errstate(all="ignore"):
        x = tg.tensor(np.zeros((3, 0)), requires_grad=True)
        y = fn(x, axis)
        ref = tfn(torch.zeros((3, 0), dtype=torch.float64), tdim(axis, 2))
        assert y.shape == tuple(ref.shape)
        np.testing.assert_allclose(y.data, ref.numpy())
        y.backward(gradient=np.ones(y.shape))
    assert x.grad.shape == (3, 0)


@pytest.mark.parametrize("c", [0, 0.0, 2, 0.5])
def test_pow_scalar_exponent_at_zero_base_matches_torch(c) -> None:
    """x ** c at x = 0: torch gives 0 for c = 0 (a constant) and c >= 1, inf for 0 < c < 1."""
    a = np.array([0.0, 1.5])
    x = tg.tensor(a, requires_grad=True)
    with np.errstate(all="ignore"):
        (x**c).sum().backward()
    tx = torch.tensor(a, requires_grad=True)
    (tx**c).sum().backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy())


@pytest.mark.parametrize("shape, axis", [((), None), ((3, 1), 1), ((1,), 0), ((2, 1, 2), (1,))])
def test_std_over_one_element_has_zero_gradient_as_torch(shape, axis) -> None:
    """The std of one element is the constant 0: torch (and finite differences) give a zero
    gradient there, not 0 / 0 = nan."""
    a = np.random.default_rng(0).standard_normal(shape)
    x = tg.tensor(a, requires_grad=True)
    with np.errstate(all="ignore"):
        y = x.std(axis=axis)
        y.backward(gradient=np.ones(y.shape))
    tx = torch.tensor(a, requires_grad=True)
    torch.std(tx, dim=tdim(axis, len(shape)), correction=0).backward(
        torch.ones(y.shape, dtype=torch.float64)
    )
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy())
    assert tg.gradcheck(lambda t: t.std(axis=axis), [tg.tensor(a, requires_grad=True)])


# Ops with a flat side (slope 0) and the other operands they take, as (tensorgrad, torch).
FLAT_SIDES = {
    "relu": (lambda x, o: x.relu(), lambda x, o: x.relu()),
    "clip numbers": (lambda x, o: x.clip(-0.5, 1.0), lambda x, o: x.clamp(-0.5, 1.0)),
    "clip tensors": (lambda x, o: x.clip(o - 1, o), lambda x, o: x.clamp(o - 1, o)),
    "maximum": (lambda x, o: tg.maximum(x, o), lambda x, o: torch.maximum(x, o)),
    "minimum": (lambda x, o: tg.minimum(o, x), lambda x, o: torch.minimum(o, x)),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda t: np.dtype(t).name)
@pytest.mark.parametrize("name", FLAT_SIDES)
def test_flat_side_gets_zero_even_from_an_infinite_gradient_as_torch(name, dtype) -> None:
    """Where relu, clip, maximum or minimum is flat, torch selects 0 for the gradient, so an
    upstream ±inf or nan becomes 0 there, not 0 · inf = nan; elsewhere it passes as is."""
    inf, nan = np.inf, np.nan
    x0 = np.array([[-2.0, -1.0, 0.0, 0.5, 2.0, 3.0]] * 3, dtype=dtype)
    other0 = np.array([[0.5], [0.0], [-1.0]], dtype=dtype)  # broadcast along the rows
    g0 = np.array([[inf, -inf, nan, inf, -inf, nan]] * 2 + [[1.0, inf, 2.0, nan, -inf, 3.0]])
    g0 = g0.astype(dtype)
    fn, tfn = FLAT_SIDES[name]
    x, other = tg.tensor(x0, requires_grad=True), tg.tensor(other0, requires_grad=True)
    with np.errstate(all="ignore"):  # torch does not warn; NumPy would, in the reference
        fn(x, other).backward(gradient=g0)
    tx, tother = (torch.tensor(a, requires_grad=True) for a in (x0, other0))
    tfn(tx, tother).backward(torch.tensor(g0))
    np.testing.assert_array_equal(x.grad.data, tx.grad.numpy())
    assert x.grad.dtype == dtype
    if tother.grad is not None:
        np.testing.assert_array_equal(other.grad.data, tother.grad.numpy())


@pytest.mark.parametrize("name", ["relu", "clip numbers", "maximum"])
def test_flat_side_second_derivative_of_a_sqrt_matches_torch(name) -> None:
    """sqrt(relu(x)) and the like: the first derivative is 0 on the flat side, inf at the
    kink (sqrt's slope at 0, times the slope there), and the second derivative agrees."""
    fn, tfn = FLAT_SIDES[name]
    a, v = np.array([-1.0, 0.0, 2.0]), np.array([1.0, 2.0, 3.0])
    x = tg.tensor(a, requires_grad=True)
    with np.errstate(all="ignore"):
        (gx,) = tg.grad(fn(x, tg.zeros(3)).sqrt().sum(), x, create_graph=True)
        (hv,) = tg.grad((gx * v).sum(), x)
    tx = torch.tensor(a, requires_grad=True)
    (tgx,) = torch.autograd.grad(
        tfn(tx, torch.zeros(3, dtype=tx.dtype)).sqrt().sum(), tx, create_graph=True
    )
    (thv,) = torch.autograd.grad((tgx * torch.tensor(v)).sum(), tx)
    np.testing.assert_allclose(gx.data, tgx.detach().numpy())
    np.testing.assert_allclose(hv.data, thv.numpy())


def test_sqrt_of_relu_has_zero_gradient_on_the_flat_side_as_micrograd() -> None:
    """d/dx sqrt(relu(x)) at x < 0: relu's slope 0 times sqrt's slope at 0 (inf). The flat
    side wins, 0, in both engines (nan would spread through a whole batch's sum)."""
    from micrograd import Value

    x = tg.tensor([-1.0, 4.0], requires_grad=True)
    with warnings.catch_warnings():  # the backward computes quietly, as PyTorch's: sqrt's
        warnings.simplefilter("error")  # slope at 0 is inf by the math, not a mistake
        x.relu().sqrt().sum().backward()
        (gx,) = tg.grad(x.relu().sqrt().sum(), [x])
    np.testing.assert_array_equal(gx.data, [0.0, 0.25])
    values = [Value(-1.0), Value(4.0)]
    for v in values:
        v.relu().sqrt().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.25])  # 1 / (2 sqrt 4) = 0.25
    assert [v.grad for v in values] == [0.0, 0.25]


@pytest.mark.parametrize("index", [[], np.array([], dtype=np.int64)], ids=["list", "array"])
def test_empty_list_index(index) -> None:
    """NumPy reads ``x[[]]`` as an empty integer index: shape (0, 3), zero gradient."""
    a = np.arange(6.0).reshape(2, 3)
    x = tg.tensor(a, requires_grad=True)
    y = x[index]
    assert y.shape == a[index].shape == (0, 3)
    y.backward(gradient=np.ones((0, 3)))
    np.testing.assert_array_equal(x.grad.data, np.zeros((2, 3)))


@pytest.mark.parametrize(
    "make_key", [lambda idx: idx, lambda idx: (slice(None), idx)], ids=["list", "list in tuple"]
)
def test_index_list_changed_before_backward(make_key) -> None:
    """The gradient goes where the forward read, even if the index list changes afterwards:
    d/dx Σ x[:, [0, 1]] is 1 in columns 0 and 1 (hand math)."""
    x = tg.tensor(np.zeros((3, 3)), requires_grad=True)
    idx = [0, 1]
    y = x[make_key(idx)]
    idx[0] = 2
    y.sum().backward()
    expected = np.zeros((3, 3))
    expected[make_key([0, 1])] = 1
    np.testing.assert_array_equal(x.grad.data, expected)


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.int64, np.bool_])
@pytest.mark.parametrize("name", ["sigmoid", "logsumexp", "softmax", "log_softmax"])
def test_integer_input_is_computed_in_numpys_float_type_without_wrapping_around(name, dtype):
    """-x and x - max wrapped around in the integer type: sigmoid of uint8 [1, 2] gave 0,
    softmax of int8 [-100, 100] gave nan. The result takes the type np.exp gives."""
    values = [0, 1] if dtype == np.bool_ else ([-100, 0, 100] if dtype != np.uint8 else [0, 2, 200])
    x = np.array(values, dtype=dtype)
    want = {  # math in float64
        "sigmoid": lambda v: 1 / (1 + np.exp(-v)),
        "logsumexp": lambda v: v.max() + np.log(np.exp(v - v.max()).sum()),
        "softmax": lambda v: np.exp(v - v.max()) / np.exp(v - v.max()).sum(),
        "log_softmax": lambda v: v - v.max() - np.log(np.exp(v - v.max()).sum()),
    }[name](x.astype(np.float64))
    got = getattr(tg.tensor(x, dtype=dtype), name)()
    assert got.dtype == np.exp(x).dtype
    np.testing.assert_allclose(got.data, want, rtol=2e-3, atol=1e-7)


def test_float16_softmax_over_more_elements_than_float16_holds_sums_in_float32():
    """Σ of 70,000 ones is inf in float16, which made every probability 0; PyTorch gives
    1/70000 each."""
    x = tg.tensor(np.zeros(70_000, np.float16))
    for got in (x.softmax().data, np.exp(x.log_softmax().data.astype(np.float64))):
        np.testing.assert_allclose(got, 1 / 70_000, rtol=5e-3)  # float16's subnormal step
    assert x.softmax().dtype == x.log_softmax().dtype == x.logsumexp().dtype == np.float16
    np.testing.assert_allclose(x.logsumexp().item(), np.log(70_000), rtol=1e-3)


def test_bce_with_logits_of_small_integer_logits_does_not_wrap_around():
    """-|z| of int8 -128 is -128 again in int8: the loss was inf."""
    z = np.array([-128, 3, 0], dtype=np.int8)
    want = np.mean(np.log1p(np.exp(-np.abs(z.astype(float)))) + np.maximum(z, 0) - z)
    got = tg.nn.functional.binary_cross_entropy_with_logits(tg.tensor(z, dtype=np.int8), np.ones(3))
    np.testing.assert_allclose(got.item(), want, rtol=1e-3)


def test_invert_of_a_0d_tensor_holds_an_array():
    m = ~tg.tensor(True, dtype=bool)
    assert type(m.data) is np.ndarray and np.asarray(m).ndim == 0 and not m.item()


def test_max_without_ties_in_one_slice_and_nan_in_another_still_shares_the_tie():
    """Slices with a single winner skip the tie-sharing division; a nan slice (no element
    equals nan) must not make the count of winners look like one per slice."""
    x = tg.tensor([[3.0, 3.0], [np.nan, 0.0], [1.0, 2.0]], requires_grad=True)
    x.max(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad.data[[0, 2]], [[0.5, 0.5], [0.0, 1.0]])
    if torch is not None:
        t = torch.tensor(x.data, requires_grad=True)
        t.amax(dim=1).sum().backward()
        np.testing.assert_array_equal(x.grad.data, t.grad.numpy())


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
def test_a_0d_float16_input_keeps_float16(name):
    """softmax's sum is float32 for float16; a 0-d result was a NumPy scalar that the
    division turned float32."""
    x = tg.tensor(np.float16(2.0), requires_grad=True)
    y = getattr(x, name)(axis=0)
    assert y.dtype == np.float16
    y.backward()
    assert x.grad.dtype == np.float16


def test_power_slope_in_the_exponent_of_an_integer_base_takes_the_log_in_the_result_type():
    """log of an int8 base ran in float16 (NumPy's type for int8): 46054.7 for 100^2 ln 100
    = 46051.7 in a float32 gradient."""
    a = tg.tensor([2, 3, 100], dtype=np.int8)
    b = tg.tensor(np.float32([0.5, 1.0, 2.0]), requires_grad=True)
    (a**b).sum().backward()
    exact = np.array([2, 3, 100.0]) ** [0.5, 1.0, 2.0] * np.log([2, 3, 100.0])
    np.testing.assert_allclose(b.grad.data, exact, rtol=1e-6)


def test_sigmoid_is_within_a_few_ulp_of_the_exact_value() -> None:
    """The reference: 1 / (1 + e^-x) in 40-digit decimals. exp(-logaddexp(0, -x)) was
    32 ulp off in float64 for x in [-40, -1] (PyTorch: 2)."""
    import decimal

    decimal.getcontext().prec = 40
    xs = np.concatenate([np.linspace(-40, 40, 801), [-700.0, -1e-12, 0.0, 1e-12, 700.0]])
    exact = np.array([float(1 / (1 + (-decimal.Decimal(float(x))).exp())) for x in xs])
    got = tg.tensor(xs).sigmoid().data
    assert np.max(np.abs(got - exact) / np.spacing(exact)) <= 4
