"""Drawing tensor graphs: a fake node with tensorgrad's protocol, then real tensorgrad."""

from __future__ import annotations

import contextlib
import re
import warnings

import numpy as np
import pytest

import tensorgrad as tg
import viz
from micrograd import Value
from micrograd.autodiff import topological_order
from viz.draw import BAD_FILL
from viz.graph import fmt

from .helpers import FakeGrad, FakeTensor, needs_dot, svg_texts
from .test_graph import neuron


def _node_line(source: str, number: int) -> str:
    return re.search(rf"^\s*n{number} \[.*$", source, re.M).group(0)


# ----------------------------------------------------------------------------- fake tensors


def test_fake_tensor_shape_dtype_values_summary_and_grad():
    small = FakeTensor(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.5]], dtype=np.float32), True)
    big = FakeTensor(np.arange(12.0).reshape(3, 4))
    y = (small.sum() + big.sum()).sum()
    big.grad = FakeGrad(np.full((3, 4), 2.0))
    src = viz.draw(y).source
    view = viz.graph.walk(y)
    s, b = view.number(small), view.number(big)
    small_line, big_line = _node_line(src, s), _node_line(src, b)
    assert "(2, 3) float32" in small_line
    # "]" is written as "&#93;" (dot rejects a text of just "]")
    assert "[[1, 2, 3&#93;," in small_line and "6.5&#93;&#93;" in small_line
    assert "(3, 4) float64" in big_line
    assert f"mean {fmt(5.5)}  std {fmt(np.arange(12.0).std())}" in big_line
    assert f"grad (3, 4) norm {fmt(np.linalg.norm(np.full((3, 4), 2.0)))}" in big_line
    assert "grad" not in small_line  # .grad is None: no grad row
    assert "#fff3cf" in small_line and "#fff3cf" not in big_line  # requires_grad leaf
    assert "label=<sum>" in src and "label=<+>" in src


def test_fake_tensor_params_are_matched_by_identity():
    w1 = FakeTensor(np.ones(3), True)
    w2 = FakeTensor(np.ones(3), True)  # equal data, a different tensor
    y = (w1 * w2).sum()
    for params in (
        {"layers.0.weight": w1},
        [("layers.0.weight", w1)],
        iter([("layers.0.weight", w1)]),
    ):
        src = viz.draw(y, params=params).source
        view = viz.graph.walk(y)
        assert "<b>layers.0.weight</b>" in _node_line(src, view.number(w1))
        assert "layers.0.weight" not in _node_line(src, view.number(w2))
    src = viz.draw(y, params={'<evil> & "name"': w1}).source
    assert "&lt;evil&gt; &amp; &quot;name&quot;" in src
    with pytest.raises(TypeError, match="params"):
        viz.draw(y, params=[1, 2])


def test_fake_tensor_color_by_grad():
    a, b = FakeTensor(np.ones(2), True), FakeTensor(np.ones(2), True)
    y = (a * b).sum()
    a.grad, b.grad = FakeGrad([1e-6, 0.0]), FakeGrad([300.0, 400.0])
    src = viz.draw(y, color_by="grad").source
    view = viz.graph.walk(y)
    fill = {n: re.search(r'bgcolor="(#\w+)"', _node_line(src, n)).group(1) for n in range(4)}
    assert fill[view.number(a)] != fill[view.number(b)]
    assert fill[0] == "#ffffff"  # no grad: neutral
    assert "1e-6" in src and "1e3" in src


def test_a_huge_finite_gradient_has_a_finite_norm():
    """Entries of 1e200 square past float64's range; the norm itself is √8·1e200."""
    x = tg.tensor(np.ones(8), requires_grad=True)
    y = (x * 1e200).sum()
    y.backward()
    line = _node_line(viz.draw(y, color_by="grad").source, viz.graph.walk(y).number(x))
    assert "norm 2.828e+200" in line and "inf" not in line
    assert BAD_FILL not in line  # colored on the scale, not as nan/inf


def test_drawing_leaves_the_process_warning_filters_alone(monkeypatch):
    """They are global: changing them while drawing loses other threads' warnings. Values
    whose mean and std overflow or are nan still draw without a warning."""
    x = tg.tensor([np.inf, -np.inf, np.nan, 1e200, -1e200, 1e-300, 0.0, 2.0])
    y = x * 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails the test
        filters = list(warnings.filters)
        changes = []
        for name in ("simplefilter", "filterwarnings", "resetwarnings", "catch_warnings"):

            def record(*args, _name=name, **kwargs):
                changes.append(_name)
                return contextlib.nullcontext()

            monkeypatch.setattr(warnings, name, record)
        source = viz.draw(y).source
        assert changes == [] and warnings.filters == filters
    assert "(1 -inf, 1 inf, 1 nan of 8)" in source  # the finite values summed aside


def test_fake_tensor_backward_steps():
    a = FakeTensor(np.array([1.0, 2.0]), True)
    b = FakeTensor(np.array([3.0, -1.0]), True)
    y = (a * b + a).sum()
    steps = viz.backward_steps(y)
    np.testing.assert_array_equal(steps.gradient(a), b.data + 1)
    np.testing.assert_array_equal(steps.gradient(b), a.data)
    assert a.grad is None and b.grad is None
    assert "(elementwise; summed over broadcast axes)" in str(steps)
    assert "broadcast back" in str(steps)


# ----------------------------------------------------------------------------- real tensorgrad


def tensor_model(seed: int = 0):
    rng = np.random.default_rng(seed)
    x = tg.tensor(rng.normal(size=(4, 3)))
    x.label = "x"
    w = tg.tensor(rng.normal(size=(3, 2)), requires_grad=True)
    b = tg.tensor(rng.normal(size=(2,)), requires_grad=True)
    h = (x @ w + b).tanh()
    loss = h.sum()
    loss.label = "loss"
    return loss, x, w, b, h


def test_real_tensor_source():
    loss, x, w, b, h = tensor_model()
    params = {"layer.weight": w, "layer.bias": b}
    before = viz.draw(loss, params=params).source
    assert "grad" not in _node_line(before, viz.graph.walk(loss).number(w))
    loss.backward()
    src = viz.draw(loss, params=params).source
    for text in ("label=<matmul>", "label=<+>", "label=<tanh>", "label=<sum>", "<b>loss</b>",
                 "<b>x</b>", "<b>layer.weight</b>", "<b>layer.bias</b>", "(4, 3) float64",
                 "(3, 2) float64", "() float64"):  # fmt: skip
        assert text in src, text
    view = viz.graph.walk(loss)
    w_line = _node_line(src, view.number(w))
    # six values or fewer are shown as the data is; more, as shape and norm (in the test above)
    rows = ["[" + ", ".join(fmt(v) for v in row) + "&#93;" for row in w.grad.data]
    assert "grad [" + ',<br align="center"/> '.join(rows) + "&#93;" in w_line, w_line
    assert "norm" not in w_line
    assert "#fff3cf" in w_line
    assert "#fff3cf" not in _node_line(src, view.number(x))  # an input, not a parameter
    assert viz.draw(loss, params=params).source == src  # deterministic
    assert tensor_model()[0] is not loss
    assert viz.draw(tensor_model()[0]).source == viz.draw(tensor_model()[0]).source


def test_real_tensor_named_parameters_of_a_module():
    model = tg.nn.Linear(3, 2, rng=0)
    x = tg.tensor(np.ones((5, 3), dtype=np.float32))
    loss = model(x).relu().mean()
    src = viz.draw(loss, params=model.named_parameters()).source
    names = [n for n, _ in model.named_parameters()]
    assert names and all(f"<b>{n}</b>" in src for n in names)


def test_real_tensor_backward_steps_match_backward():
    loss, x, w, b, h = tensor_model()
    h.retain_grad()
    steps = viz.backward_steps(loss)
    assert w.grad is None and b.grad is None  # untouched
    assert len(steps) == len(topological_order([loss]))
    loss.backward()
    for t in (w, b, h):
        np.testing.assert_allclose(steps.gradient(t), t.grad.data, rtol=1e-12, atol=0)
    assert steps.gradient(x) is None  # x needs no gradient
    text = str(steps)
    assert "dA = G @ Bᵀ" in text and "d tanh(u)/du" in text
    assert "x: nothing (needs no gradient)" in text
    # backward freed the graph: the steps say what to do; drawing still works
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        viz.backward_steps(loss)
    assert "matmul" in viz.draw(loss).source


def test_real_tensor_steps_after_retain_graph():
    loss, x, w, b, h = tensor_model(1)
    loss.backward(retain_graph=True)
    steps = viz.backward_steps(loss)
    np.testing.assert_allclose(steps.gradient(w), w.grad.data, rtol=1e-12)
    np.testing.assert_allclose(steps.gradient(b), b.grad.data, rtol=1e-12)
    frame = steps.draw(2).source
    assert "grad ?" in frame and "#e6550d" in frame


@needs_dot
def test_real_tensor_renders_and_sits_next_to_micrograd():
    loss, x, w, b, h = tensor_model()
    loss.backward()
    svg = viz.draw(loss, params={"w<1>": w}, color_by="grad").pipe(format="svg")
    texts = svg_texts(svg)
    assert "w<1>" in texts
    both = viz.side_by_side(neuron(), loss)
    page = both._repr_html_()
    assert page.count("<svg") == 2 and "micrograd" in page and "tensorgrad" in page


def test_values_and_tensors_are_told_apart_by_their_data():
    v = Value(1.0)
    t = tg.tensor([1.0], requires_grad=True)
    assert not viz.graph.is_tensor(v) and viz.graph.is_tensor(t)


def _operand_positions(drawing) -> dict[str, list[tuple[float, float]]]:
    """For each op with two operands, their positions in the laid-out drawing, in the
    order the drawing lists its in-edges (slot order)."""
    import json

    layout = json.loads(drawing.pipe(format="json0"))
    where = {o["name"]: tuple(map(float, o["pos"].split(","))) for o in layout["objects"]}
    into: dict = {}
    for tail, head in re.findall(r"^\s*(\w+) -> (\w+op)\b", drawing.source, re.M):
        into.setdefault(head, []).append(where[tail])
    return {head: tails for head, tails in into.items() if len(tails) == 2}


@needs_dot
@pytest.mark.parametrize("rankdir", ["TB", "LR"])
def test_operands_are_laid_out_in_their_order(rankdir):
    """q @ kᵀ and where(mask, a, b): the first operand on the left (on top, left to
    right). dot ordered them as it liked: in a transformer block 6 of 9 came reversed."""
    rng = np.random.default_rng(0)
    q, k, v = (tg.tensor(rng.normal(size=(3, 2)), requires_grad=True) for _ in range(3))
    att = (q @ k.T).softmax(-1)
    out = (att @ v).sum() + tg.where(att.data > 0.3, att, 0.0).sum()
    pairs = _operand_positions(viz.draw(out, rankdir=rankdir))
    assert len(pairs) == 4
    for (x0, y0), (x1, y1) in pairs.values():
        assert x0 < x1 if rankdir == "TB" else y0 > y1


@needs_dot
def test_a_hidden_operand_keeps_its_place_in_the_order():
    """h @ W with h beyond max_nodes: the '... more nodes' edge came after W's, so with
    the operands laid out in order W was drawn first."""
    w = tg.tensor(np.ones((2, 2)), requires_grad=True)
    h = tg.tensor(np.ones((2, 2)), requires_grad=True)
    for _ in range(5):
        h = h.tanh()
    drawing = viz.draw(w.exp() + h @ w, max_nodes=4, rankdir="TB")
    matmul = re.search(r"more -> (\w+op) \[style=dashed\]\n\s*n\d+ -> \1", drawing.source)
    assert matmul  # the hidden operand (slot 0) listed first
    first, second = _operand_positions(drawing)[matmul.group(1)]
    assert first[0] < second[0]
