"""backward_steps: the core's order, the engine's own gradients, text, HTML and frames."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import tensorgrad as tg
import viz
from micrograd import Value, add_all
from micrograd.autodiff import topological_order
from viz.steps import MAX_ADDS, MAX_ROWS, rule_text

from .helpers import needs_dot
from .test_graph import neuron

VALUE_OPS = ["+", "-", "*", "/", "**", "neg", "abs", "relu", "tanh", "sigmoid", "exp", "log",
             "sqrt", "sin", "cos"]  # fmt: skip


def every_op():
    """An expression with every Value op (node and constant forms), reuse and a diamond."""
    a, b, c = Value(0.7, label="a"), Value(-1.3, label="b"), Value(2.1, label="c")
    s = a * a + b  # a used twice in one op
    t = (s - c) / (c**0.5) + 3.0 - b * 2.0
    u = (-t).abs().relu() + t.tanh() + s.sigmoid() + (a / 4.0).exp()
    v = c.log() + c.sqrt() + b.sin() * a.cos() + a**b + 2.0**a + 1.0 / c - (5.0 - a) + c**2
    return (u * v + s * t) / 3.0  # s and t reached along several paths


def test_steps_match_the_engines_gradients():
    root = every_op()
    nodes = topological_order([root])
    steps = viz.backward_steps(root)
    assert all(n.grad == 0.0 for n in nodes)  # nothing written to .grad
    assert len(steps) == len(nodes)  # one step per node
    assert sorted(s.number for s in steps) == list(range(len(nodes)))
    root.backward()
    for node in nodes:
        assert math.isclose(steps.gradient(node), node.grad, rel_tol=1e-12, abs_tol=1e-15)
    for s in steps:
        assert s.grad == steps.gradient(s.node)


def test_each_node_gets_the_sum_of_what_its_consumers_add():
    root = every_op()
    steps = viz.backward_steps(root)
    received: dict[int, float] = {0: 1.0}
    for s in steps:
        assert math.isclose(s.grad, received[s.number], rel_tol=1e-15, abs_tol=0.0)
        for c in s.contributions:
            received[c.number] = received.get(c.number, 0.0) + c.grad


def test_order_is_reverse_topological_as_the_core_runs_it():
    root = every_op()
    steps = viz.backward_steps(root)
    position = {id(s.node): s.index for s in steps}
    assert steps[0].node is root and steps[0].grad == 1.0
    for s in steps:
        for p in s.node._prev:  # every consumer runs before its parents
            assert position[id(p)] > s.index


def test_a_times_a_adds_twice():
    a = Value(3.0, label="a")
    y = a * a
    steps = viz.backward_steps(y)
    assert [c.number for c in steps[0].contributions] == [1, 1]
    assert [c.grad for c in steps[0].contributions] == [3.0, 3.0]
    assert steps.gradient(a) == 6.0


def test_every_value_op_has_a_rule_in_words():
    ops_seen = {s.op for s in viz.backward_steps(every_op())}
    assert set(VALUE_OPS) <= ops_seen
    for op in VALUE_OPS:
        for n in (1, 2):
            assert "local rule of" not in rule_text(op, n), op
    assert rule_text("tanh", 1) == "d tanh(u)/du = 1 − tanh(u)²"
    assert rule_text("*", 2) == "d(a·b)/da = b, d(a·b)/db = a"
    assert "local rule of 'frobnicate'" in rule_text("frobnicate", 1, tensor=True)
    assert "dA = G @ Bᵀ" in rule_text("matmul", 2, tensor=True)


def test_text_table():
    steps = viz.backward_steps(neuron())
    text = str(steps)
    lines = text.splitlines()
    assert lines[0].split() == ["step", "node", "op", "local", "derivative", "grad", "adds",
                                "to", "parents"]  # fmt: skip
    assert "d tanh(u)/du = 1 − tanh(u)²" in text
    assert re.search(r"^\s*1\s+#0 o\s+tanh\s.*\s1\s+#1 n \+= 0\.5$", text, re.M)
    assert "#6 x1 += -1.5" in text and "#7 w1 += 1" in text
    assert repr(steps).startswith("<BackwardSteps: 10 steps>")


def test_html_table_escapes_labels():
    x = Value(2.0, label="<script>x</script>")
    steps = viz.backward_steps(x * x)
    page = steps.table_html()
    assert "<script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page


def test_frames_fill_in_gradients_and_highlight_the_current_node():
    o = neuron()
    steps = viz.backward_steps(o)
    first, last = steps.draw(0).source, steps.draw(-1).source
    assert first.count("grad ?") == 8 and "grad ?" not in last
    # n got its one share: final before its own step ("so far" only while more is to come)
    assert "grad 0.5<" in first and "(so far)" not in first
    a = Value(3.0, label="a")
    twice = viz.backward_steps(a * 2.0 + a * a)
    shown = [twice.draw(i).source for i in range(len(twice))]
    assert any("(so far)" in frame for frame in shown)  # a, after one of its two consumers
    assert "(so far)" not in shown[-1]
    assert "step 1/10" in first
    # The edge's share sits in an xlabel: a label would be laid out as a node of its own,
    # which made dot take minutes on frames of mid-sized graphs.
    assert "xlabel=<+0.5>" in first and " label=<+0.5>" not in first
    assert 'n0op [label=<tanh> color="#e6550d"' in first
    assert len(steps.frames()) == len(steps)
    with pytest.raises(IndexError):
        steps.draw(10)
    assert all(n.grad == 0.0 for n in topological_order([o]))


def test_a_frame_whose_step_lies_beyond_max_nodes_says_how_to_see_it():
    """A chain of 601 nodes: node #550 and its input #551 are past the 500 kept nodes."""
    y = x = Value(1.0, label="x")
    for _ in range(600):
        y = y * 1.0
    steps = viz.backward_steps(y)
    with pytest.raises(ValueError, match=r"step 551 \(node #550\) .* 552 nodes nearest the roo"):
        steps.draw(550)
    with pytest.raises(ValueError, match=r"frames\(\): step 600 \(node #599\).*max_nodes=601 or"):
        steps.frames()  # refused before drawing any
    with pytest.raises(ValueError, match="max_nodes must be a positive int or None, got '20'"):
        steps.draw(3, max_nodes="20")
    frame = steps.draw(550, max_nodes=552).source
    assert 'n550op [label=<* 1> color="#e6550d"' in frame  # highlighted
    assert 'n551 -> n550op [color="#e6550d" fontcolor="#e6550d" penwidth=2 xlabel=<+1>]' in frame
    assert "step 551/601" in frame and steps.draw(498).source  # #498 and #499 fit in 500
    assert x.grad == 0.0  # the steps never touch .grad


@needs_dot
def test_notebook_html_steps_through_frames():
    steps = viz.backward_steps(neuron())
    page = steps._repr_html_()
    assert page.count("<svg") == len(steps)
    assert "viz-prev" in page and "viz-next" in page and "<script>" in page
    assert page.count('class="viz-frame"') == len(steps)


def test_order_is_exactly_the_cores(monkeypatch):
    root = every_op()
    steps = viz.backward_steps(root)
    ran = []

    def spy_on(cls):  # every class of node with a rule of its own
        vjp = cls._vjp

        def spy(self, g, graph):
            ran.append(self)
            return vjp(self, g, graph)

        monkeypatch.setattr(cls, "_vjp", spy)

    for cls in {type(n) for n in topological_order([root])}:
        spy_on(cls)
    root.backward()
    assert [id(n) for n in ran] == [id(s.node) for s in steps if s.node._prev]


def chain(n):
    """y = x * 1.0 * 1.0 ..., n multiplications (built iteratively)."""
    y = Value(0.5, label="x")
    for _ in range(n):
        y = y * 1.0
    return y


def test_tables_of_a_long_pass_show_its_first_and_last_steps():
    n = 50_000
    steps = viz.backward_steps(chain(n))
    assert len(steps) == n + 1  # every step is kept...
    skipped = f"… {n + 1 - MAX_ROWS:,} more steps"
    text = str(steps)  # ...but a table shows MAX_ROWS of them and counts the others
    assert len(text.splitlines()) == 2 + MAX_ROWS + 1
    assert skipped in text and repr(steps) == f"<BackwardSteps: {n + 1:,} steps>\n{text}"
    firsts = [line.split()[0] for line in text.splitlines()[2:]]
    numbers = [int(word) for word in firsts if word.isdigit()]
    head = MAX_ROWS - MAX_ROWS // 4
    assert numbers == [*range(1, head + 1), *range(n + 2 - MAX_ROWS // 4, n + 2)]
    page = steps._repr_html_()
    assert page.count("<tr>") == 1 + MAX_ROWS + 1 and skipped in page
    assert len(page) < 40_000 and len(text) < 10_000  # the same for any length of chain
    # everything, when asked for
    assert len(steps.table(max_rows=None).splitlines()) == 2 + n + 1
    assert steps.table_html(max_rows=None).count("<tr>") == 1 + n + 1
    with pytest.raises(ValueError, match="max_rows"):
        steps.table(max_rows=0)


def test_tables_count_the_parents_of_a_wide_step():
    n = 1000
    steps = viz.backward_steps(add_all([Value(float(i)) for i in range(n)]))
    assert len(steps[0].contributions) == n
    lines = str(steps).splitlines()
    assert len(lines) == 2 + MAX_ADDS + 1 + MAX_ROWS  # the sum's lines, then the leaves'
    assert f"… {n - MAX_ADDS:,} more parents" in lines[2 + MAX_ADDS]
    assert f"… {n - MAX_ADDS:,} more parents" in steps.table_html()
    assert len(list(steps.rows())) == n + n  # rows() lists every parent of every step


def test_a_node_without_a_rule_passes_nothing_and_says_so():
    """A node built by hand, classic style, whose _backward was never assigned: as in the
    classic micrograd its operands get nothing from it (with a warning); the table says
    why, and does not call it a freed graph."""
    a = Value(1.0, label="a")
    c = Value(3.0, (a,), "custom")
    with pytest.warns(RuntimeWarning, match="no gradient rule"):
        text = str(viz.backward_steps(c * 2))
    assert "no gradient rule: it passes nothing on" in text
    assert "a: nothing (no gradient rule)" in text
    assert "retain_graph" not in text


@pytest.mark.parametrize(
    "make, shown, not_shown",
    [
        (lambda u: u - 1.0, "d(u−c)/du = 1", "c−u"),
        (lambda u: 1.0 - u, "d(c−u)/du = −1", "u−c"),
        (lambda u: u / 4.0, "d(u/c)/du = 1/c", "c/u"),
        (lambda u: 2.0 / u, "d(c/u)/du = −c/u²", "u/c"),
        (lambda u: u**2, "d(uᶜ)/du = c·uᶜ⁻¹", "cᵘ"),
        (lambda u: 2.0**u, "d(cᵘ)/du = cᵘ·ln c", "uᶜ"),
    ],
)
@pytest.mark.parametrize("engine", ["micrograd", "tensorgrad"])
def test_a_constant_operand_shows_only_the_rule_of_its_side(make, shown, not_shown, engine):
    """``u - 1.0`` used to show d(u−c)/du and d(c−u)/du both; only one applies."""
    u = Value(3.0) if engine == "micrograd" else tg.tensor(3.0, requires_grad=True)
    text = str(viz.backward_steps(make(u)))
    assert shown in text and not_shown not in text


def test_a_tensor_gradient_of_six_values_or_fewer_shows_them_and_a_larger_its_norm():
    """The table and the drawings show a gradient's values where they show the data's."""
    w = tg.tensor([1.0, -2.0, 3.0, 0.5, 4.0, -1.0], requires_grad=True)
    v = tg.tensor(np.ones(7), requires_grad=True)
    y = (w * 2.0).sum() + (v * 3.0).sum()
    text = str(viz.backward_steps(y))
    assert "+= [2, 2, 2, 2, 2, 2]" in text
    assert f"+= (7,) norm {viz.graph.fmt(np.linalg.norm(np.full(7, 3.0)))}" in text


def test_rule_texts_say_what_the_ops_compute():
    """Texts a reviewer found wrong or missing: var's divisor is n - ddof; std and the two
    binary cross-entropies have formulas; cross_entropy's covers smoothing, weights and
    ignored labels; standardize says what s is."""
    assert "(n − ddof)" in rule_text("var", 1, tensor=True)
    assert "(n − ddof)·std(u)" in rule_text("std", 1, tensor=True)
    assert "(p − y)/(p(1 − p))" in rule_text("binary_cross_entropy", 2, tensor=True)
    assert "σ(z) − y" in rule_text("bce_with_logits", 2, tensor=True)
    ce = rule_text("cross_entropy", 1, tensor=True)
    assert "(1−ε)·one_hot + ε/C" in ce and "ignored label" in ce
    assert "s = √(var + ε)" in rule_text("standardize", 1, tensor=True)


def test_below_a_node_without_a_rule_nothing_reached():
    """The nodes under a hand-built node that passes nothing on got no gradient: they
    need one, so "needs no gradient" was the wrong reason."""
    w = Value(2.0, label="w")
    h = w * 3.0
    sq = Value(h.data**2, (h,), "sq")  # no _backward
    with pytest.warns(RuntimeWarning, match="no gradient rule"):
        text = str(viz.backward_steps(sq * 1.0))
    assert "nothing (no gradient rule)" in text
    assert "nothing (no gradient reached this node)" in text
    assert "needs no gradient" not in text


def test_a_table_one_step_too_long_shows_it_rather_than_a_line_about_it():
    x = Value(1.0)
    for _ in range(MAX_ROWS):  # MAX_ROWS + 1 steps with the leaf
        x = x * 1.0
    text = str(viz.backward_steps(x))
    assert "more step" not in text and len(viz.backward_steps(x)) == MAX_ROWS + 1
    text = str(viz.backward_steps(x * 1.0))
    assert "… 2 more steps (all: steps.table(max_rows=None)) …" in text
