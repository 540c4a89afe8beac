"""Walking a computation graph and describing its nodes; no graphviz in here.

Everything goes through the backward core's node protocol: ``node._prev`` (the
parents, one slot per argument, so ``a * a`` has two) and ``node._op`` ("" for a
leaf). A node is a tensor when its ``.data`` is a NumPy array (so ``viz`` never
imports ``tensorgrad``), otherwise a scalar ``Value``.

Walks use an explicit queue or stack, never recursion: a chain of a million nodes
is fine under Python's default recursion limit. Node numbers come from a
breadth-first walk from the root in ``_prev`` order, so the same graph always
gets the same numbers (never ``id()``), and the ``max_nodes`` nearest the root
are the ones kept when a graph is too big to draw.
"""

from __future__ import annotations

import html
import math
import numbers
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "GraphView",
    "walk",
    "param_names",
    "is_tensor",
    "fmt",
    "escape",
    "grad_array",
    "grad_magnitude",
    "describe_grad",
    "FEW_VALUES",
]

MAX_LABEL = 40  # characters of user text shown per label; longer text is cut with "…"


# ----------------------------------------------------------------------------- walking


@dataclass
class GraphView:
    """The part of a graph to draw: ``nodes[i]`` is node number ``i`` (0 is the root).

    ``edges`` holds ``(parent_number, child_number, slot)`` once per parent slot, child
    by child in number order. ``cut`` lists the children with a parent slot pointing
    outside the kept nodes, ``feeds`` the kept nodes that are operands of nodes left
    out (a residual stream also feeding a hidden layer); ``hidden`` counts the nodes left
    out.
    """

    nodes: list
    edges: list[tuple[int, int, int]]
    cut: list[int] = field(default_factory=list)
    hidden: int = 0
    feeds: list[int] = field(default_factory=list)
    _index: dict[int, int] = field(default_factory=dict, repr=False)

    def number(self, node: Any) -> int | None:
        """The number of ``node`` in this view, or None when it is not drawn."""
        return self._index.get(id(node))


def check_node(root: Any, who: str = "viz.draw") -> None:
    """Raise TypeError unless ``root`` speaks the node protocol."""
    if not (hasattr(root, "_prev") and hasattr(root, "_op")):
        raise TypeError(
            f"{who}: expected a micrograd Value or a tensorgrad Tensor (a node with _prev "
            f"and _op), got {type(root).__name__}"
        )


def check_limit(name: str, limit: Any) -> None:
    """Raise ValueError unless ``limit`` (a size limit such as ``max_nodes``) is a positive int
    or None."""
    if limit is not None and (
        isinstance(limit, bool) or not isinstance(limit, numbers.Integral) or limit < 1
    ):
        raise ValueError(f"{name} must be a positive int or None, got {limit!r}")


def walk(root: Any, max_nodes: int | None = None) -> GraphView:
    """Number the nodes reachable from ``root`` breadth-first, keeping at most ``max_nodes``.

    The nodes beyond the limit are only counted (one more iterative walk with a set of
    ids), so a huge graph is summarized quickly.
    """
    check_node(root)
    check_limit("max_nodes", max_nodes)
    limit = math.inf if max_nodes is None else int(max_nodes)
    index: dict[int, int] = {id(root): 0}
    nodes = [root]
    prevs: list[tuple] = []
    frontier: list = []  # parents of kept nodes that did not fit
    i = 0
    while i < len(nodes):
        parents = tuple(nodes[i]._prev)
        prevs.append(parents)
        i += 1
        for p in parents:
            if id(p) not in index:
                if len(nodes) < limit:
                    index[id(p)] = len(nodes)
                    nodes.append(p)
                else:
                    frontier.append(p)

    edges: list[tuple[int, int, int]] = []
    cut: list[int] = []
    for child, parents in enumerate(prevs):
        is_cut = False
        for slot, p in enumerate(parents):
            j = index.get(id(p))
            if j is None:
                is_cut = True
            else:
                edges.append((j, child, slot))
        if is_cut:
            cut.append(child)

    hidden = 0
    feeds: set[int] = set()
    if frontier:
        seen = set(index)
        stack = []
        for p in frontier:
            if id(p) not in seen:
                seen.add(id(p))
                stack.append(p)
        while stack:
            for p in stack.pop()._prev:
                if id(p) not in seen:
                    seen.add(id(p))
                    stack.append(p)
                elif (j := index.get(id(p))) is not None:  # a kept node feeds a hidden one
                    feeds.add(j)
        hidden = len(seen) - len(nodes)
    return GraphView(nodes, edges, cut, hidden, feeds=sorted(feeds), _index=index)


def param_names(params: Any) -> dict[int, str]:
    """``{id(node): name}`` from a dict, (name, node) pairs, or plain nodes (named "")."""
    if params is None:
        return {}
    what = (
        "params must be a dict name -> node, (name, node) pairs such as "
        "model.named_parameters(), or nodes; got"
    )
    if isinstance(params, dict):
        items: Iterable = params.items()
    elif isinstance(params, Iterable) and not isinstance(params, str):
        items = params
    else:
        raise TypeError(f"{what} {type(params).__name__}")
    names: dict[int, str] = {}
    for item in items:
        if hasattr(item, "_prev"):
            name, node = "", item
        else:
            try:
                name, node = item
            except (TypeError, ValueError):
                raise TypeError(f"{what} an item of type {type(item).__name__}") from None
        if not hasattr(node, "_prev"):
            raise TypeError(f"{what} {str(name)!r} -> {type(node).__name__}")
        names.setdefault(id(node), str(name))
    return names


# ----------------------------------------------------------------------------- node facts


def is_tensor(node: Any) -> bool:
    """True for a tensor node (its ``.data`` is an ndarray), False for a scalar Value."""
    return isinstance(getattr(node, "data", None), np.ndarray)


def is_param(node: Any, names: dict[int, str]) -> bool:
    """A leaf that training updates: named in ``params``, or a tensor with requires_grad."""
    if id(node) in names:
        return True
    return is_tensor(node) and not node._prev and bool(getattr(node, "requires_grad", False))


def grad_array(g: Any) -> Any:
    """The raw gradient: a Tensor's ndarray, a float, or None."""
    if g is None:
        return None
    data = getattr(g, "data", g)
    if isinstance(data, np.ndarray):
        return data
    try:
        return float(data)
    except (TypeError, ValueError):
        return np.asarray(data)


def grad_magnitude(g: Any) -> float | None:
    """|g| for a number, the 2-norm for an array; None when there is no gradient."""
    g = grad_array(g)
    if g is None:
        return None
    if isinstance(g, np.ndarray):
        a = np.abs(g.astype(np.float64, copy=False).ravel())
        with np.errstate(all="ignore"):
            top = a.max(initial=0.0)
            if not 0 < top < np.inf:  # 0 (or empty), inf or nan: the norm is that too
                return float(top)
            # Scaled by the largest entry, so squares of entries past 1e154 do not overflow.
            return float(top * np.sqrt(np.dot(a / top, a / top)))
    return abs(g)


# ----------------------------------------------------------------------------- text


def fmt(x: Any) -> str:
    """A number with 4 significant digits ("-0" shown as "0")."""
    x = float(x)
    if x == 0:
        x = 0.0
    return f"{x:.4g}"


# Characters XML (and so dot's label parser and the SVG) does not allow: controls,
# lone surrogates and the non-characters U+FFFE and U+FFFF.
_BAD_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def escape(text: Any, max_len: int = MAX_LABEL) -> str:
    """User text made safe inside an HTML-like DOT label: cut short, escaped, newlines kept.

    Characters XML forbids become "?"; ``&<>"'`` become entities, so quotes, braces,
    bars and ``<script>`` stay plain text. Two more for dot itself: ``]`` becomes
    ``&#93;`` (dot's HTML parser rejects a text of only ``]`` or ``]]``), and each
    backslash is doubled, as ``&#92;&#92;``: dot decodes entities first, then reads
    ``\\N``, ``\\G``, ``\\E``, ... as placeholders and ``\\\\`` as one backslash.
    """
    text = str(text)
    if len(text) > max_len:
        text = text[: max_len - 1] + "…"
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    text = _BAD_CHARS.sub("?", text)
    text = html.escape(text, quote=True).replace("&#x27;", "&#39;")
    text = text.replace("]", "&#93;").replace("\\", "&#92;&#92;")
    return text.replace("\n", '<br align="center"/>')


def shape_text(shape: tuple) -> str:
    """``(2, 3)`` as "(2, 3)", ``()`` as "()" and ``(4,)`` as "(4,)"."""
    return str(tuple(int(s) for s in shape))


FEW_VALUES = 6  # an array of at most this many elements is shown value by value


def array_summary(a: np.ndarray) -> str:
    """A few values (≤ FEW_VALUES elements) or "mean … std …" for a bigger array."""
    if a.size == 0:
        return "empty"
    if a.size <= FEW_VALUES:
        if a.dtype.kind in "fc":
            return np.array2string(
                a, separator=", ", formatter={"float_kind": fmt}, max_line_width=60
            )
        return np.array2string(a, separator=", ", max_line_width=60)
    if a.dtype.kind not in "biuf":
        return f"{a.size} elements"
    # np.errstate is per thread; warnings.catch_warnings would swap the process's filters
    # (a drawing thread could drop another thread's warnings).
    with np.errstate(all="ignore"):
        flat = a.astype(np.float64, copy=False)
        finite = np.isfinite(flat)
        if finite.all():
            return _mean_std(flat)
        # a masked attention matrix: the statistics of its finite values, and what else
        kept = flat[finite]
        stats = f"{_mean_std(kept)}  " if kept.size else ""
        counts = [
            (np.count_nonzero(flat == v), text) for v, text in ((-np.inf, "-inf"), (np.inf, "inf"))
        ]
        counts.append((np.count_nonzero(np.isnan(flat)), "nan"))
        others = ", ".join(f"{n:,} {text}" for n, text in counts if n)
        return f"{stats}({others} of {a.size:,})"


def _mean_std(x: np.ndarray) -> str:
    """ "mean … std …" of finite values, scaled by the largest so that values near 1e308
    do not overflow to an infinite mean."""
    scale = np.abs(x).max()
    if not 0 < scale < np.inf:
        return f"mean {fmt(x.mean())}  std {fmt(x.std())}"
    y = x / scale
    return f"mean {fmt(y.mean() * scale)}  std {fmt(y.std() * scale)}"


def describe_grad(g: Any) -> str:
    """A gradient in a few characters: "0.5", its values when they are few (as
    :func:`array_summary` shows data: "[1, 0]"), or "(2, 3) norm 1.234"."""
    g = grad_array(g)
    if g is None:
        return "none"
    if isinstance(g, np.ndarray):
        if g.ndim == 0:
            return fmt(g)
        if 0 < g.size <= FEW_VALUES:
            return array_summary(g)
        return f"{shape_text(g.shape)} norm {fmt(grad_magnitude(g))}"
    return fmt(g)
