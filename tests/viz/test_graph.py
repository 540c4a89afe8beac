"""Walking graphs: numbering, parent slots, bounding huge graphs, determinism."""

from __future__ import annotations

import re
import sys

import numpy as np
import pytest

import viz
from micrograd import Value
from micrograd.autodiff import topological_order
from viz.graph import array_summary, escape, fmt, walk

from .helpers import value_node_ids


def neuron():
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o


def test_walk_numbers_breadth_first_from_the_root():
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    c = a * b
    d = c + a
    view = walk(d)
    assert view.nodes == [d, c, a, b]
    assert view.number(d) == 0 and view.number(b) == 3
    assert view.edges == [(1, 0, 0), (2, 0, 1), (2, 1, 0), (3, 1, 1)]
    assert view.hidden == 0 and view.cut == []


def test_a_times_a_has_two_edges():
    a = Value(3.0, label="a")
    y = a * a
    source = viz.draw(y).source
    assert source.count("n1 -> n0op") == 2
    assert walk(y).edges == [(1, 0, 0), (1, 0, 1)]


def test_bad_root_and_bad_max_nodes():
    with pytest.raises(TypeError, match="Value or a tensorgrad Tensor"):
        viz.draw(3.0)
    with pytest.raises(ValueError, match="max_nodes"):
        viz.draw(Value(1.0), max_nodes=0)


def test_same_graph_same_source_byte_for_byte():
    first = viz.draw(neuron(), color_by="grad").source
    second = viz.draw(neuron(), color_by="grad").source  # new objects, new id()s
    assert first == second
    assert first.encode() == second.encode()
    o = neuron()
    o.backward()
    assert viz.draw(o).source == viz.draw(o).source
    assert not re.search(r"\d{9,}", first)  # no id()-like numbers in the source


def test_huge_chain_is_bounded_and_counted():
    n = 200_000
    x = Value(0.0, label="start")
    for _ in range(n):
        x = x + 1.0
    assert sys.getrecursionlimit() <= 10_000  # drawn under the default limit
    max_nodes = 300
    dot = viz.draw(x, max_nodes=max_nodes)
    ids = value_node_ids(dot.source)
    assert len(ids) == max_nodes
    total = n + 1  # the chain's nodes, counted independently of viz
    assert f"… {total - max_nodes:,} more nodes" in dot.source
    # the kept nodes are the ones nearest the root: data n, n-1, ...
    assert f"data {fmt(float(n))}" in dot.source
    assert f"data {fmt(float(n - max_nodes + 1))}" in dot.source
    assert "start" not in dot.source
    # the summary feeds the last kept node
    assert f"more -> n{max_nodes - 1}op" in dot.source


def test_bounded_count_matches_a_full_topological_walk():
    xs = [Value(float(i)) for i in range(30)]
    layer = xs
    for _ in range(6):  # a dense DAG with lots of sharing
        layer = [
            layer[i] * layer[(i + 1) % len(layer)] + layer[(i + 7) % len(layer)]
            for i in range(len(layer))
        ]
    root = sum(layer[1:], layer[0])
    total = len(topological_order([root]))
    for max_nodes in (1, 10, 137):
        view = walk(root, max_nodes)
        assert len(view.nodes) == max_nodes
        assert view.hidden == total - max_nodes
        src = viz.draw(root, max_nodes=max_nodes).source
        assert f"… {total - max_nodes:,} more nodes" in src
    full = walk(root, None)
    assert len(full.nodes) == total and full.hidden == 0


def test_one_hidden_node_is_singular():
    y = Value(1.0) + Value(2.0)
    src = viz.draw(y, max_nodes=2).source
    assert "… 1 more node>" in src


def test_escape_keeps_user_text_as_text():
    assert escape("<b>&\"'") == "&lt;b&gt;&amp;&quot;&#39;"
    assert escape("a\nb") == 'a<br align="center"/>b'
    # Every line break Python's splitlines knows of the three: \n, \r\n and a lone \r
    for text in ("a\nb", "a\r\nb", "a\rb"):
        assert escape(text) == 'a<br align="center"/>b'
    assert escape("x" * 100).endswith("…") and len(escape("x" * 100)) == 40
    assert escape("\x00\x07") == "??"


def test_escape_writes_what_dot_would_misread():
    assert escape("]]") == "&#93;&#93;"  # dot rejects a text of only "]"
    assert escape(r"\N\\") == "&#92;&#92;N&#92;&#92;&#92;&#92;"  # dot reads \\ as one \
    assert escape("a\ufffeb\uffff") == "a?b?"  # not allowed in XML


def test_fmt_four_significant_digits():
    assert fmt(0.70710678) == "0.7071"
    assert fmt(-0.0) == "0"
    assert fmt(123456.0) == "1.235e+05"
    assert fmt(float("nan")) == "nan"


def test_a_summary_with_infinities_describes_the_finite_values_and_counts_the_rest():
    """A masked attention matrix showed "mean -inf std nan"."""
    a = np.array([1.0, 3.0, -np.inf, np.inf, np.nan, 5.0, 7.0])  # finite: mean 4, std √5
    assert array_summary(a) == "mean 4  std 2.236  (1 -inf, 1 inf, 1 nan of 7)"
    assert array_summary(np.full(8, -np.inf)) == "(8 -inf of 8)"
    huge = np.array([1e308] * 8 + [np.inf])  # finite values whose sum overflows
    assert array_summary(huge) == "mean 1e+308  std 0  (1 inf of 9)"


def test_a_kept_node_that_feeds_hidden_nodes_is_marked():
    """A residual stream: h is drawn (the root reads it) and also feeds the hidden layer;
    the drawing showed no edge from it, as if the layer did not depend on it."""
    from micrograd import Value

    x = Value(0.5)
    h = x * 2.0
    y = h.tanh().exp().sin() + h  # y's parents: sin (kept), h (kept); tanh, exp: hidden
    view = walk(y, max_nodes=3)
    h_number = view.number(h)
    assert view.hidden > 0 and view.feeds == [h_number]
    source = viz.draw(y, max_nodes=3).source
    assert f"n{h_number} -> more [constraint=false style=dashed]" in source
    assert walk(y).feeds == []  # nothing hidden, nothing to mark
