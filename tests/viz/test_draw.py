"""Drawing Values: DOT content, escaping through `dot`, colors, files, notebooks, errors."""

from __future__ import annotations

import html
import os
import re
import shutil
import stat
import warnings
import xml.etree.ElementTree as ET

import graphviz
import pytest

import viz
from micrograd import Value
from micrograd.nn import MLP

from .helpers import needs_dot, svg_tags, svg_texts, value_node_ids
from .test_graph import neuron

HOSTILE = [
    'say "hi"',
    "back\\slash\\",
    "<b>bold</b>",
    "a > b < c",
    "{x|y}",
    "a|b",
    "port:n",
    "a & b &amp;",
    "line1\nline2",
    "<script>alert(1)</script>",
    "]]>;}\"'<>&",
    "</td></tr></table>>",
    "\x00ctrl\x07",
    "π ✓ ∑",
]


@pytest.fixture(autouse=True)
def _reset_format():
    yield
    viz.set_format("svg")


def test_value_source_shows_labels_data_grads_and_ops():
    o = neuron()
    o.backward()
    src = viz.draw(o).source
    for text in ("<b>o</b>", "<b>x1</b>", "<b>w2</b>", "<b>b</b>"):
        assert text in src
    assert "data 0.7071" in src and "grad 1<" in src  # o
    assert "data 6.881" in src  # b, 4 significant digits
    assert "grad -1.5" in src and "grad 0.5" in src
    assert "label=<tanh>" in src and "label=<+>" in src and "label=<*>" in src
    assert "record" not in src  # HTML-like labels only
    assert len(value_node_ids(src)) == 10
    assert src.count("op [") == 5  # one small op node per interior value
    assert "fontname=Helvetica" in src


def test_show_data_and_grad_switches():
    src = viz.draw(neuron(), show_data=False, show_grad=False).source
    assert "<td>data " not in src and "<td>grad " not in src
    assert "<b>x1</b>" in src


def test_classic_draw_dot_calls():
    model = MLP(2, [3, 1])
    y = model([Value(1.0), Value(-2.0)])
    y.backward()
    dot = viz.draw_dot(y)
    assert isinstance(dot, graphviz.Digraph)
    assert "rankdir=LR" in dot.source
    dot = viz.draw_dot(y, "png", "TB")
    assert dot.format == "png" and "rankdir=TB" in dot.source
    assert viz.draw_dot(y, format="svg", rankdir="LR").format == "svg"


def test_named_value_params_are_styled_and_named():
    w, x = Value(0.5), Value(2.0, label="x")
    y = w * x
    src = viz.draw(y, params={"weight": w}).source
    assert "<b>weight</b>" in src
    plain = viz.draw(y).source
    assert src.count("#fff3cf") == 1 and "#fff3cf" not in plain
    # pairs, and plain nodes (unnamed) work too
    assert "<b>weight</b>" in viz.draw(y, params=[("weight", w)]).source
    assert viz.draw(y, params=[w]).source.count("#fff3cf") == 1


def in_label(text: str) -> str:
    """``text`` as an HTML-like label holds it: entities for ``&<>"']``, and each backslash
    doubled (dot reads ``\\N`` as a placeholder, ``\\\\`` as one backslash)."""
    escaped = html.escape(text, quote=True).replace("&#x27;", "&#39;")
    return escaped.replace("]", "&#93;").replace("\\", "&#92;&#92;")


@pytest.mark.parametrize("label", HOSTILE)
def test_hostile_labels_are_escaped_in_the_source(label):
    v = Value(1.0, label=label)
    y = (v * 2.0).tanh()
    y.label = label
    src = viz.draw(y, params={label: v}).source
    markup = viz.draw((Value(1.0) * 2.0).tanh()).source  # our own markup, no user text
    assert src.count("<table") == src.count("</table>") == 3
    assert "<script>" not in src
    assert "\x00" not in src and "\x07" not in src
    for part in label.replace("\x00", "?").replace("\x07", "?").split("\n"):
        assert in_label(part) in src
        if any(c in part for c in '<>&"]\\') and part not in markup:
            assert part not in src
    # the labels are HTML strings: a quoted DOT string would need its quotes escaped
    assert 'label="' not in src


@needs_dot
def test_hostile_labels_render_through_dot_as_text():
    nodes = []
    for i, label in enumerate(HOSTILE):
        nodes.append(Value(float(i), label=label) * 2.0)
    root = nodes[0]
    for n in nodes[1:]:
        root = root + n
    root.label = HOSTILE[-3]
    svg = viz.draw(root).pipe(format="svg")
    texts = svg_texts(svg)  # well-formed XML
    joined = "\n".join(texts)
    assert "script" not in svg_tags(svg)
    for label in HOSTILE:
        for part in label.replace("\x00", "?").replace("\x07", "?").split("\n"):
            assert any(part in t for t in texts), (part, joined)


# Text that dot's label parser rejects ("]" alone, U+FFFE, U+FFFF) or rewrites (its
# backslash placeholders: \N node name, \G graph name, \E edge name, ...).
DOT_TRICKY = [
    "]",
    "]]",
    "a]]>b",
    r"\N \G \E",
    r"\L \T \H \l \n \r",
    "\\",
    r"a\\b",
    "x\uffff",
    "\ufffe",
]


@needs_dot
@pytest.mark.parametrize("text", DOT_TRICKY)
def test_text_dot_would_reject_or_rewrite_renders_as_typed(text):
    shown = text.replace("\ufffe", "?").replace("\uffff", "?")  # not allowed in XML
    # as a label, a parameter name and an op name
    a, w = Value(1.0, label=text), Value(2.0)
    y = Value(3.0, (a,), text) * w
    texts = svg_texts(viz.draw(y, params={text: w}).pipe(format="svg"))
    assert texts.count(shown) == 3, texts
    # in a step's title
    z = a * 2.0
    z.label = text
    texts = svg_texts(viz.backward_steps(z).draw(0).pipe(format="svg"))
    assert any(t.startswith(f"step 1/2: #0 {shown} (*): ") for t in texts), texts
    # as a side-by-side title
    texts = svg_texts(viz.side_by_side(z, z, titles=(text, "right")).combined().pipe("svg"))
    assert shown in texts and "right" in texts


@needs_dot
def test_param_names_and_op_names_render_as_text():
    a = Value(1.0)
    y = Value(2.0 * a.data, (a,), '<i>"op"</i>')  # a hand-built node with a hostile op
    svg = viz.draw(y, params={"<p&q>": a}).pipe(format="svg")
    texts = svg_texts(svg)
    assert "<p&q>" in texts and '<i>"op"</i>' in texts


def _fills(source: str) -> dict[str, str]:
    """Node id -> fill color of its HTML label."""
    return dict(
        re.findall(r'^\s*(n\d+) \[label=<<table[^>]*bgcolor="(#[0-9a-f]{6})"', source, re.M)
    )


def test_side_by_side_colors_both_graphs_on_one_grad_scale():
    # Left: gradients around 1e-4; right: around 1e3. Drawn alone each would span its own
    # decades; side by side, one scale covers both, so equal colors mean equal gradients.
    small, big = Value(1e-4, label="s"), Value(1e3, label="B")
    left, right = small * 1.0, big * 1.0
    left.backward(1e-4)
    right.backward(1e3)
    pair = viz.side_by_side(left, right, color_by="grad")
    span = re.compile(r"log10 scale\): ([^<\s]+) … ([^<\s]+)<")
    legends = [span.search(d.source).groups() for d in (pair.left, pair.right)]
    assert legends[0] == legends[1] == ("1e-4", "1e3")
    assert span.search(viz.draw(left, color_by="grad").source).groups() != legends[0]
    combined = pair.combined().source
    assert combined.count("1e-4 … 1e3") == 2  # one legend per cluster, the same scale


def test_color_by_grad_distinct_fills_and_legend():
    a, b = Value(1e-4, label="a"), Value(1e3, label="b")
    y = a * b  # a.grad = 1e3, b.grad = 1e-4, y.grad = 1
    y.backward()
    src = viz.draw(y, color_by="grad").source
    fills = _fills(src)
    assert fills["n1"] != fills["n2"] != fills["n0"] != fills["n1"]
    assert "cluster_legend" in src
    assert "1e-4" in src and "1e3" in src and "log10" in src
    with pytest.raises(ValueError, match="color_by"):
        viz.draw(y, color_by="data")


def test_color_by_grad_marks_zero_and_nan():
    a, b = Value(0.0, label="a"), Value(2.0, label="b")
    y = (a * b).relu()  # relu'(0) = 0: every gradient below the root is zero
    y.backward()
    src = viz.draw(y, color_by="grad").source
    fills = _fills(src)
    assert fills["n1"] == fills["n2"] == "#e6e6e6"
    assert ">0</td>" in src  # the legend has a "0" entry
    c = Value(float("nan"))
    z = c * c  # dz/dc = 2c = nan
    z.backward()
    assert "nan/inf" in viz.draw(z, color_by="grad").source


@needs_dot
def test_render_and_save_files(tmp_path):
    o = neuron()
    o.backward()
    path = viz.draw(o).render(tmp_path / "graph", format="svg")
    assert path == str(tmp_path / "graph.svg")
    ET.parse(path)
    out = viz.draw(o).render(outfile=tmp_path / "g2.png")
    assert out == str(tmp_path / "g2.png")
    assert (tmp_path / "g2.png").read_bytes().startswith(b"\x89PNG")
    assert (tmp_path / "g2.gv").exists()  # the source sits next to the output
    for ext, magic in ((".svg", b"<?xml"), (".png", b"\x89PNG"), (".pdf", b"%PDF")):
        written = viz.save(o, tmp_path / f"n{ext}", rankdir="TB")
        assert written == str(tmp_path / f"n{ext}")
        assert (tmp_path / f"n{ext}").read_bytes().startswith(magic)
    with pytest.raises(ValueError, match="format"):
        viz.save(o, tmp_path / "n.txt")


@needs_dot
def test_notebook_formats():
    o = neuron()
    svg = viz.draw(o)._repr_mimebundle_()
    assert list(svg) == ["image/svg+xml"] and "<svg" in svg["image/svg+xml"]
    png = viz.draw(o, format="png")._repr_mimebundle_()
    assert list(png) == ["image/png"] and png["image/png"].startswith(b"\x89PNG")
    earlier, explicit = viz.draw(o), viz.draw(o, format="svg")
    viz.set_format("png")
    assert list(viz.draw(o)._repr_mimebundle_()) == ["image/png"]
    assert list(viz.draw(o, format="svg")._repr_mimebundle_()) == ["image/svg+xml"]
    # a drawing made before set_format follows it (it kept SVG), one given a format not
    assert list(earlier._repr_mimebundle_()) == ["image/png"]
    assert list(explicit._repr_mimebundle_()) == ["image/svg+xml"]
    with pytest.raises(ValueError):
        viz.set_format("gif")


@pytest.fixture
def no_dot(tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def test_missing_dot_gives_one_clear_error(no_dot, tmp_path):
    o = neuron()
    dot = viz.draw(o)
    assert "digraph" in dot.source  # the source still works
    for render in (
        lambda: dot.pipe(),
        lambda: dot.render(tmp_path / "x"),
        lambda: viz.save(o, tmp_path / "x.png"),
        lambda: viz.side_by_side(o, o).save(tmp_path / "x.html"),
    ):
        with pytest.raises(viz.GraphvizNotFound) as info:
            render()
        message = str(info.value)
        assert "sudo apt-get install graphviz" in message
        assert "brew install graphviz" in message
        assert "conda install -c conda-forge graphviz" in message
        assert isinstance(info.value, RuntimeError)
        assert isinstance(info.value, graphviz.ExecutableNotFound)
    assert viz.save(o, tmp_path / "x.dot") == str(tmp_path / "x.dot")
    assert (tmp_path / "x.dot").read_text().startswith("digraph")
    assert "brew install graphviz" in dot._repr_mimebundle_()["text/plain"]
    assert "brew install graphviz" in viz.side_by_side(o, o)._repr_html_()


def test_render_timeout_is_a_clear_error(tmp_path, monkeypatch):
    fake = tmp_path / "bin"
    fake.mkdir()
    script = fake / "dot"
    script.write_text(f"#!/bin/sh\nexec {shutil.which('sleep') or '/bin/sleep'} 30\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(fake) + os.pathsep + os.environ.get("PATH", ""))
    dot = viz.draw(neuron(), timeout=0.3)
    with pytest.raises(viz.RenderTimeout, match="did not finish within 0.3 s"):
        dot.pipe()


@pytest.mark.parametrize("timeout", [-1, 0, "5", True, float("inf"), float("nan")])
def test_a_bad_timeout_is_refused_up_front(timeout):
    """Not at render time as "did not finish within -1 s" or a str + float TypeError."""
    message = (
        rf"timeout must be a positive number of seconds or None, got {re.escape(repr(timeout))}"
    )
    with pytest.raises(ValueError, match=message):
        viz.draw(neuron(), timeout=timeout)
    with pytest.raises(ValueError, match=message):
        viz.side_by_side(neuron(), neuron(), timeout=timeout)
    drawing = viz.draw(neuron(), timeout=5)
    with pytest.raises(ValueError, match=message):
        drawing.timeout = timeout
    with pytest.raises(ValueError, match=message):
        drawing.pipe(timeout=timeout)
    assert drawing.timeout == 5 and drawing.copy().timeout == 5


@needs_dot
def test_side_by_side_html_and_files(tmp_path):
    left, right = neuron(), neuron()
    left.backward()
    both = viz.side_by_side(left, right, titles=("micro<grad>", "tensor&grad"), rankdir="TB")
    page = both._repr_html_()
    assert page.count("<svg") == 2
    assert "micro&lt;grad&gt;" in page and "tensor&amp;grad" in page
    assert "display:flex" in page
    html_path = both.save(tmp_path / "both.html")
    assert open(html_path, encoding="utf-8").read().count("<svg") == 2
    svg_path = both.save(tmp_path / "both.svg")
    root = ET.parse(svg_path).getroot()
    titles = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "micro<grad>" in titles and "tensor&grad" in titles
    src = both.combined().source
    assert "subgraph cluster_a" in src and "subgraph cluster_b" in src
    assert len(re.findall(r"^\s*a_n\d+ \[", src, re.M)) == 10
    assert len(re.findall(r"^\s*b_n\d+ \[", src, re.M)) == 10
    assert both.save(tmp_path / "both.dot").endswith("both.dot")


@needs_dot
@pytest.mark.parametrize("rankdir", ["LR", "RL", "TB", "BT"])
def test_side_by_side_file_puts_the_first_graph_first_and_titles_on_top(rankdir):
    """Read from the rendered SVG's coordinates (y grows downwards)."""
    y = neuron()
    svg = viz.side_by_side(y, y, titles=("FIRST", "SECOND"), rankdir=rankdir).combined()
    texts = list(ET.fromstring(svg.pipe("svg")).iter("{http://www.w3.org/2000/svg}text"))
    title = {t.text: (float(t.get("x")), float(t.get("y"))) for t in texts if t.text.isupper()}
    (x1, y1), (x2, y2) = title["FIRST"], title["SECOND"]
    if rankdir in ("LR", "RL"):  # the two graphs one above the other
        assert y1 < y2
    else:  # next to each other, each under its title
        assert x1 < x2
        assert max(y1, y2) < min(float(t.get("y")) for t in texts if t.text.startswith("data"))


@needs_dot
def test_side_by_side_with_an_empty_title_saves(tmp_path):
    left, right = neuron(), neuron()
    both = viz.side_by_side(left, right, titles=("", "right"))
    assert "<b></b>" not in both.combined().source  # dot rejects an empty bold element
    with open(both.save(tmp_path / "both.svg"), "rb") as f:
        texts = svg_texts(f.read())
    assert "right" in texts and texts.count("o") == 2  # both graphs, one title
    assert both.save(tmp_path / "both.png").endswith("both.png")


def test_folded_constants_show_in_their_op_node():
    """``x * 2`` and ``2 - x`` keep the constant out of the graph but show it on the op."""
    import micrograd
    import tensorgrad as tg

    x = micrograd.Value(3.0)
    y = (2 - x * 2) ** 2 / 4
    source = viz.draw(y).source
    for text in ("<* 2>", "<2 ->", "<** 2>", "</ 4>"):
        assert text in source, text
    t = tg.tensor([1.0, 2.0], requires_grad=True)
    tsource = viz.draw((1 - t * 3).sum()).source
    assert "<* 3>" in tsource and "<1 ->" in tsource
    assert "<neg>" in viz.draw((-t).sum()).source  # negation has no constant


def test_long_op_names_and_constants_are_shown_whole():
    import micrograd
    import tensorgrad as tg
    from tensorgrad.nn import functional as F

    logits = tg.tensor([[1.0, 2.0]], requires_grad=True)
    assert "<cross_entropy>" in viz.draw(F.cross_entropy(logits, [1])).source
    x = micrograd.Value(3.0)
    assert "<** -1.2345e-05>" in viz.draw(x**-1.2345e-05).source
    assert "<-123456 **>" in viz.draw((-123456.0) ** x).source
    assert "<* 0.044715>" in viz.draw(x * 0.044715).source  # GPT-2's constant, whole
    assert "<* 0.333333>" in viz.draw(x * (1 / 3)).source  # six digits at most


def test_a_tensor_graph_keeps_its_constants_after_backward():
    import tensorgrad as tg

    t = tg.tensor([1.0, 2.0], requires_grad=True)
    y = (1 - t * 3).sum()
    y.backward()  # frees what the rules saved, not the scalar operands
    source = viz.draw(y).source
    assert "<* 3>" in source and "<1 ->" in source
    z = (t * True).sum()  # a bool operand stays a bool (as NumPy) and a constant too
    z.backward()
    assert "<* 1>" in viz.draw(z).source


def test_a_format_that_is_not_a_string_is_a_type_error_naming_the_call():
    """format.lower() raised AttributeError."""
    with pytest.raises(TypeError, match=r"set_format: format must be a string .* got 3"):
        viz.set_format(3)
    assert viz.get_format() == "svg"
    with pytest.raises(TypeError, match=r"draw: format must be a string .* got 3"):
        viz.draw(neuron(), format=3)
    drawing = viz.draw(neuron())
    with pytest.raises(TypeError, match=r"pipe: format must be a string .* got 1"):
        drawing.pipe(format=1)
    with pytest.raises(TypeError, match=r"render: format must be a string .* got 1"):
        drawing.render("never-written", format=1)


@needs_dot
def test_an_empty_format_means_the_drawings_own_as_graphviz_takes_it():
    drawing = viz.draw(neuron())
    assert drawing.pipe(format="").startswith(b"<?xml")


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"params": 3}, TypeError, r"params must be a dict .*; got int$"),
        ({"params": "w1"}, TypeError, r"params must be a dict .*; got str$"),
        ({"params": {"w": 3}}, TypeError, r"; got 'w' -> int"),
        ({"params": [3]}, TypeError, "got an item of type int"),
    ],
    ids=["number", "string", "dict of numbers", "list of numbers"],
)
def test_params_that_name_no_nodes_are_refused(kwargs, error, message):
    """A number gave "'int' object is not iterable"; a dict of numbers was taken silently."""
    with pytest.raises(error, match=message):
        viz.draw(Value(2.0) * 3, **kwargs)


@pytest.mark.parametrize(
    "titles", [3, "ab", ("one",), (1, 2)], ids=["number", "string", "one", "numbers"]
)
def test_side_by_side_titles_must_be_two_strings(titles):
    with pytest.raises(ValueError, match=r"titles must be two strings"):
        viz.side_by_side(Value(1.0) * 2, Value(1.0) * 3, titles=titles)


@needs_dot
def test_a_bitmap_too_large_to_read_says_so():
    """dot shrinks a PNG past cairo's size limit until nothing can be read, and says so
    on stderr, which was thrown away: the drawing of a long chain gave an unreadable
    strip without a word. Its message now comes as a warning with what to do."""
    y = Value(0.5)
    for i in range(1000):
        y = y.tanh() if i % 2 == 0 else y * 0.999 + 0.001
    with pytest.warns(RuntimeWarning, match="too large.*Scaling.*max_nodes=100"):
        viz.draw(y).pipe(format="png")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        viz.draw(y, max_nodes=100).pipe(format="png")  # short enough: no warning
