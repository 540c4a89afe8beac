"""Drawing a graph with graphviz: ``draw``, ``save``, ``side_by_side``, notebook display.

``draw`` returns a :class:`Drawing`, a ``graphviz.Digraph`` that renders through
graphviz's ``dot`` program with a timeout, turns a missing ``dot`` into one clear
error (:class:`GraphvizNotFound`) and shows inline in Jupyter in a chosen format
(SVG by default; ``viz.set_format("png")`` or ``draw(..., format="png")``).

All user text (labels, op names, parameter names) goes into HTML-like labels,
escaped; node ids are numbers from a deterministic walk, so the DOT source of a
graph is the same byte for byte every time it is drawn.
"""

from __future__ import annotations

import html
import inspect
import math
import numbers
import os
import shutil
import subprocess
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import graphviz

from .graph import (
    GraphView,
    array_summary,
    describe_grad,
    escape,
    fmt,
    grad_magnitude,
    is_param,
    is_tensor,
    param_names,
    shape_text,
    walk,
)

__all__ = [
    "Drawing",
    "SideBySide",
    "RenderError",
    "GraphvizNotFound",
    "RenderTimeout",
    "draw",
    "draw_dot",
    "save",
    "side_by_side",
    "set_format",
    "get_format",
]

RENDER_TIMEOUT = 60.0  # seconds one `dot` run may take before RenderTimeout
NOTEBOOK_FORMATS = {"svg": "image/svg+xml", "png": "image/png", "jpeg": "image/jpeg"}
FILE_FORMATS = ("svg", "png", "pdf", "jpg", "jpeg", "dot", "gv")

_settings = {"format": "svg"}

INSTALL_HELP = (
    "graphviz's `dot` program is not installed (or not on PATH), so the graph cannot be "
    "rendered; its DOT text is still available as `.source`. Install graphviz:\n"
    "    Debian/Ubuntu:  sudo apt-get install graphviz\n"
    "    macOS:          brew install graphviz\n"
    "    conda:          conda install -c conda-forge graphviz\n"
    "    Windows:        winget install graphviz  (then add its bin folder to PATH)"
)

# Look: light fills, small op nodes, one sans-serif font.
FONT = "Helvetica"
FILL = "#eaf1fb"  # a value or tensor
PARAM_FILL = "#fff3cf"  # a parameter (trained leaf)
OP_FILL = "#f2f2f2"
BORDER = "#8796a8"
PARAM_BORDER = "#c9a227"
ROOT_BORDER = "#2b4a75"
EDGE = "#8a8a8a"
DONE_FILL = "#d9f0d3"  # backward steps: gradient known
PARTIAL_FILL = "#f1f8ee"  # backward steps: gradient partly summed
CURRENT = "#e6550d"  # backward steps: the node being processed
ZERO_FILL = "#e6e6e6"  # color_by="grad": a zero gradient
BAD_FILL = "#d62728"  # color_by="grad": nan or inf
RAMP = ("#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a")  # light YlOrRd


# ----------------------------------------------------------------------------- errors


class RenderError(RuntimeError):
    """graphviz's ``dot`` could not render the graph."""


class GraphvizNotFound(RenderError, graphviz.ExecutableNotFound):
    """graphviz's ``dot`` program is missing; the message says how to install it."""

    def __init__(self, message: str = INSTALL_HELP) -> None:
        RuntimeError.__init__(self, message)


class RenderTimeout(RenderError):
    """``dot`` took longer than the timeout (a graph too big to lay out quickly)."""


def set_format(format: str) -> None:
    """Set the default format of new drawings and of notebook display: "svg" or "png"."""
    format = _format_name("set_format", format)
    if format not in NOTEBOOK_FORMATS:
        raise ValueError(f"set_format: use one of {sorted(NOTEBOOK_FORMATS)}, got {format!r}")
    _settings["format"] = format


def _format_name(op: str, format) -> str:
    if not isinstance(format, str):
        raise TypeError(f"{op}: format must be a string such as 'svg', got {format!r}")
    return format.lower()


def get_format() -> str:
    """The default format set by :func:`set_format` ("svg" unless changed)."""
    return _settings["format"]


def run_dot(
    source: str,
    format: str,
    *,
    engine: str = "dot",
    renderer: str | None = None,
    formatter: str | None = None,
    timeout: float | None = None,
    extra_args: tuple[str, ...] = (),
) -> bytes:
    """Pipe DOT ``source`` through graphviz's ``engine``; return the output bytes."""
    exe = shutil.which(engine)
    if exe is None:
        raise GraphvizNotFound()
    spec = format + "".join(f":{part}" for part in (renderer, formatter) if part)
    timeout = RENDER_TIMEOUT if timeout is None else check_timeout(timeout)
    try:
        proc = subprocess.run(
            [exe, f"-T{spec}", *extra_args],
            input=source.encode("utf-8"),
            capture_output=True,
            timeout=timeout,
        )
    except FileNotFoundError:
        raise GraphvizNotFound() from None
    except subprocess.TimeoutExpired:
        raise RenderTimeout(
            f"graphviz's {engine} did not finish within {timeout:g} s; draw fewer nodes "
            "(e.g. max_nodes=200) or allow more time (draw(..., timeout=...) or "
            "drawing.timeout = ...)"
        ) from None
    err = proc.stderr.decode("utf-8", "replace").strip()
    if proc.returncode != 0:
        raise RenderError(f"graphviz's {engine} failed (exit {proc.returncode}): {err}")
    if err:  # e.g. a bitmap scaled down until its text cannot be read: say so
        hint = " (draw fewer nodes, e.g. max_nodes=100, or render SVG)" if "large" in err else ""
        warnings.warn(f"graphviz's {engine}: {err}{hint}", RuntimeWarning, stacklevel=3)
    return proc.stdout


def check_timeout(timeout: Any) -> float | None:
    """``timeout`` if it is None or a positive finite number of seconds, else ValueError."""
    if timeout is not None and (
        isinstance(timeout, bool)
        or not isinstance(timeout, numbers.Real)
        or not 0 < timeout < math.inf
    ):
        raise ValueError(f"timeout must be a positive number of seconds or None, got {timeout!r}")
    return timeout


# ----------------------------------------------------------------------------- Drawing


class Drawing(graphviz.Digraph):
    """A ``graphviz.Digraph`` that renders with a timeout and a clear missing-``dot`` error.

    ``timeout`` (seconds, default 60) bounds every ``dot`` run; ``notebook_format``
    ("svg", "png" or None for :func:`get_format`) is what Jupyter displays.
    """

    def __repr__(self) -> str:  # no memory address: notebook outputs stay stable
        return f"<viz.Drawing: {self.source.count(' -> ')} edges>"

    def __init__(
        self,
        *args: Any,
        timeout: float | None = None,
        notebook_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.timeout = timeout
        self.notebook_format = notebook_format

    @property
    def timeout(self) -> float | None:
        """Seconds each ``dot`` run may take (None: the default, 60)."""
        return self._timeout

    @timeout.setter
    def timeout(self, value: float | None) -> None:
        self._timeout = check_timeout(value)

    def copy(self) -> Drawing:
        new = super().copy()
        new.timeout, new.notebook_format = self.timeout, self.notebook_format
        return new

    def pipe(
        self,
        format: str | None = None,
        renderer: str | None = None,
        formatter: str | None = None,
        neato_no_op: bool | int | None = None,
        quiet: bool = False,
        *,
        engine: str | None = None,
        encoding: str | None = None,
        timeout: float | None = None,
    ) -> bytes | str:
        """The graph rendered by ``dot`` (bytes, or str with ``encoding``), with a timeout."""
        out = run_dot(
            self.source,
            self.format if format in (None, "") else _format_name("pipe", format),
            engine=engine or self.engine,
            renderer=renderer or self.renderer,
            formatter=formatter or self.formatter,
            timeout=self.timeout if timeout is None else timeout,
            extra_args=(f"-n{int(neato_no_op)}",) if neato_no_op else (),
        )
        return out.decode(encoding) if encoding else out

    def render(
        self,
        filename: str | os.PathLike | None = None,
        directory: str | os.PathLike | None = None,
        view: bool = False,
        cleanup: bool = False,
        format: str | None = None,
        renderer: str | None = None,
        formatter: str | None = None,
        neato_no_op: bool | int | None = None,
        quiet: bool = False,
        quiet_view: bool = False,
        *,
        outfile: str | os.PathLike | None = None,
        engine: str | None = None,
        raise_if_result_exists: bool = False,
        overwrite_source: bool = False,
        timeout: float | None = None,
    ) -> str:
        """Save the source and render it to ``<filepath>.<format>`` (or ``outfile``).

        Behaves like ``graphviz.Digraph.render`` (same paths and return value), with a
        timeout and :class:`GraphvizNotFound` when ``dot`` is missing.
        """
        del overwrite_source  # dot never writes to the source file here
        if outfile is not None:
            outfile = Path(outfile)
            if format is None and outfile.suffix:
                format = outfile.suffix[1:].lower()
            if directory is None:
                outfile = Path(self.directory, outfile)
            if filename is None:
                filename = outfile.with_suffix(".gv")
        format = self.format if format in (None, "") else _format_name("render", format)
        # Render first: nothing is written when dot is missing or times out.
        data = self.pipe(
            format, renderer, formatter, neato_no_op, quiet, engine=engine, timeout=timeout
        )
        filepath = self.save(filename, directory=directory)
        if outfile is None:
            suffix = ".".join(p for p in (formatter, renderer, format) if p)
            target = f"{filepath}.{suffix}"
        else:
            target = os.fspath(outfile)
        if raise_if_result_exists and os.path.exists(target):
            raise graphviz.FileExistsError(f"output file exists: {target!r}")
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        Path(target).write_bytes(data)
        if cleanup:
            os.remove(filepath)
        if view or quiet_view:
            graphviz.view(target, quiet=quiet_view)
        return target

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None, **_: Any
    ) -> dict[str, Any]:
        """Jupyter display in the chosen format; without ``dot``, the install instructions."""
        fmt_ = self.notebook_format or get_format()
        include = set(include) if include is not None else {NOTEBOOK_FORMATS[fmt_]}
        include -= set(exclude or ())
        try:
            bundle: dict[str, Any] = {}
            for name, mime in NOTEBOOK_FORMATS.items():
                if mime in include:
                    data = self.pipe(format=name)
                    bundle[mime] = data.decode("utf-8") if name == "svg" else data
            return bundle
        except RenderError as err:
            return {"text/plain": str(err)}

    def svg(self) -> str:
        """The rendered SVG text, without the XML prolog (ready to inline in HTML)."""
        text = self.pipe(format="svg", encoding="utf-8")
        return text[text.find("<svg") :]


# ----------------------------------------------------------------------------- building


@dataclass
class Overlay:
    """Per-node state drawn over a graph (used by the backward steps' frames)."""

    grads: dict[int, Any] = field(default_factory=dict)  # number -> gradient shown
    partial: set[int] = field(default_factory=set)  # numbers whose gradient is partial
    current: int | None = None  # the number being processed
    edge_labels: dict[tuple[int, int], str] = field(default_factory=dict)  # (child, slot)
    title: str = ""  # already-escaped HTML text


@dataclass
class _Options:
    show_data: bool = True
    show_grad: bool = True
    show_ids: bool = False
    color_by: str | None = None
    names: dict[int, str] = field(default_factory=dict)
    overlay: Overlay | None = None
    scale: _GradScale | None = None  # color_by="grad" on a scale shared with another graph


def _lerp_color(t: float) -> str:
    """A color of RAMP at t in [0, 1] (linear in RGB)."""
    t = min(max(t, 0.0), 1.0) * (len(RAMP) - 1)
    i = min(int(t), len(RAMP) - 2)
    f = t - i
    a, b = RAMP[i], RAMP[i + 1]
    rgb = [round(int(a[k : k + 2], 16) * (1 - f) + int(b[k : k + 2], 16) * f) for k in (1, 3, 5)]
    return "#" + "".join(f"{c:02x}" for c in rgb)


def _is_dark(color: str) -> bool:
    r, g, b = (int(color[k : k + 2], 16) for k in (1, 3, 5))
    return 0.299 * r + 0.587 * g + 0.114 * b < 110


class _GradScale:
    """|grad| -> fill color on a log10 scale, and the legend that explains it.

    The scale spans whole decades around the gradients drawn (at most 12); a color
    is interpolated continuously, so 0.9999 and 1.0 look alike.
    """

    def __init__(self, magnitudes: list[float | None]) -> None:
        finite = [m for m in magnitudes if m is not None and math.isfinite(m) and m > 0]
        self.has_zero = any(m == 0 for m in magnitudes if m is not None)
        self.has_bad = any(m is not None and not math.isfinite(m) for m in magnitudes)
        if finite:
            hi = math.ceil(math.log10(max(finite)))
            lo = max(math.floor(math.log10(min(finite))), hi - 12)
        else:
            lo, hi = 0, 1
        self.lo, self.hi = lo, max(hi, lo + 1)

    def color(self, exponent: float) -> str:
        return _lerp_color((exponent - self.lo) / (self.hi - self.lo))

    def fill(self, m: float | None) -> str | None:
        if m is None:
            return None
        if not math.isfinite(m):
            return BAD_FILL
        if m == 0:
            return ZERO_FILL
        return self.color(math.log10(m))

    def legend(self) -> str:
        cells = []
        if self.has_zero:
            cells.append(f'<td bgcolor="{ZERO_FILL}">0</td>')
        for k in range(self.lo, self.hi + 1):
            color = self.color(k)
            text = f'<font color="white">1e{k}</font>' if _is_dark(color) else f"1e{k}"
            cells.append(f'<td bgcolor="{color}">{text}</td>')
        if self.has_bad:
            cells.append(f'<td bgcolor="{BAD_FILL}"><font color="white">nan/inf</font></td>')
        title = f"|grad| (log10 scale): 1e{self.lo} … 1e{self.hi}"
        return (
            '<<table border="0" cellborder="1" cellspacing="0" cellpadding="4" '
            f'color="{BORDER}"><tr><td colspan="{len(cells)}" border="0">{title}</td></tr>'
            f"<tr>{''.join(cells)}</tr></table>>"
        )


def _title_text(node: Any, number: int, opts: _Options) -> str:
    parts = []
    name = opts.names.get(id(node), "")
    if name:
        parts.append(f"<b>{escape(name)}</b>")
    label = getattr(node, "label", "")
    if label and label != name:
        parts.append(f"<b>{escape(label)}</b>")
    return " · ".join(parts)


def _grad_shown(node: Any, number: int, opts: _Options) -> tuple[bool, Any, str]:
    """(show?, gradient, suffix) for the grad line of ``node``."""
    ov = opts.overlay
    if ov is None:
        return opts.show_grad, getattr(node, "grad", None), ""
    if number not in ov.grads:
        return True, "?", ""
    return True, ov.grads[number], " (so far)" if number in ov.partial else ""


def _value_label(node: Any, number: int, opts: _Options, fill: str, border: str) -> str:
    cells = []
    if opts.show_ids:
        cells.append(f'<td><font point-size="9" color="#6b6b6b">#{number}</font></td>')
    title = _title_text(node, number, opts)
    if title:
        cells.append(f"<td>{title}</td>")
    if opts.show_data:
        cells.append(f"<td>data {fmt(node.data)}</td>")
    show, g, suffix = _grad_shown(node, number, opts)
    if show:
        text = "?" if isinstance(g, str) else fmt(g) if g is not None else "none"
        cells.append(f"<td>grad {text}{suffix}</td>")
    if not cells:
        cells.append("<td> </td>")
    width = 2 if number == 0 or (opts.overlay and opts.overlay.current == number) else 1
    return (
        f'<<table border="{width - 1}" cellborder="1" cellspacing="0" cellpadding="5" '
        f'color="{border}" bgcolor="{fill}"><tr>{"".join(cells)}</tr></table>>'
    )


def _tensor_label(node: Any, number: int, opts: _Options, fill: str, border: str) -> str:
    rows = []
    head = _title_text(node, number, opts)
    if opts.show_ids:
        ident = f'<font point-size="9" color="#6b6b6b">#{number}</font>'
        head = f"{ident} {head}" if head else ident
    if head:
        rows.append(head)
    data = node.data
    rows.append(f"{shape_text(data.shape)} {escape(data.dtype, 20)}")
    if opts.show_data:
        rows.append(escape(array_summary(data), 200))
    show, g, suffix = _grad_shown(node, number, opts)
    if show and g is not None:
        rows.append(
            "grad ?" if isinstance(g, str) else f"grad {escape(describe_grad(g), 200)}{suffix}"
        )
    body = "".join(f"<tr><td>{r}</td></tr>" for r in rows)
    width = 2 if number == 0 or (opts.overlay and opts.overlay.current == number) else 1
    return (
        f'<<table border="{width}" cellborder="0" cellspacing="0" cellpadding="3" '
        f'style="rounded" color="{border}" bgcolor="{fill}">{body}</table>>'
    )


def _magnitudes(view: GraphView) -> list[float | None]:
    return [grad_magnitude(getattr(n, "grad", None)) for n in view.nodes]


def _emit(g: graphviz.Digraph, view: GraphView, opts: _Options, prefix: str = "") -> None:
    """Write the nodes and edges of ``view`` into ``g`` (node ids ``{prefix}n{number}``)."""
    ov = opts.overlay
    scale = None
    if opts.color_by == "grad" and ov is None:
        mags = _magnitudes(view)
        scale = opts.scale or _GradScale(mags)
    for number, node in enumerate(view.nodes):
        param = is_param(node, opts.names)
        fill = PARAM_FILL if param else FILL
        border = PARAM_BORDER if param else BORDER
        if number == 0:
            border = ROOT_BORDER
        if scale is not None:
            fill = scale.fill(mags[number]) or "#ffffff"
        if ov is not None:
            if number in ov.grads:
                fill = PARTIAL_FILL if number in ov.partial else DONE_FILL
            else:
                fill = "#ffffff"
            if number == ov.current:
                border = CURRENT
        attrs = {"fontcolor": "white"} if _is_dark(fill) else {}
        label = (_tensor_label if is_tensor(node) else _value_label)(
            node, number, opts, fill, border
        )
        name = f"{prefix}n{number}"
        g.node(name, label=label, shape="plain", **attrs)
        if node._prev:
            op = _op_text(node)
            g.node(
                f"{name}op",
                label=f"<{escape(op)}>",  # the full op name and its constant
                shape="circle" if len(op) <= 2 else "ellipse",
                # operands in their order, first on the left (top, drawn left to right):
                # q @ kᵀ must not read as kᵀ @ q
                ordering="in",
                **(
                    {"color": CURRENT, "penwidth": "2"}
                    if ov is not None and ov.current == number
                    else {}
                ),
            )
            g.edge(f"{name}op", name)
    more = f"{prefix}more"
    if view.hidden:
        noun = "node" if view.hidden == 1 else "nodes"
        g.node(
            more,
            label=f"<… {view.hidden:,} more {noun}>",
            shape="box",
            style="dashed,rounded",
            color=EDGE,
        )
    # Each op's in-edges in slot order (ordering=in lays them out so), a hidden operand
    # as one dashed edge from the "more" box at its first hidden slot.
    for child, slot, parent in _in_edges(view):
        if parent is None:
            g.edge(more, f"{prefix}n{child}op", style="dashed")
            continue
        attrs = {}
        if ov is not None and ov.current == child:
            attrs = {"color": CURRENT, "penwidth": "2", "fontcolor": CURRENT}
            text = ov.edge_labels.get((child, slot))
            if text:
                # xlabel, not label: dot places it after the layout, where a label would
                # be laid out as a node of its own (seconds to minutes on a big frame)
                attrs["xlabel"] = f"<{text}>"
        g.edge(f"{prefix}n{parent}", f"{prefix}n{child}op", **attrs)
    for parent in view.feeds:  # kept nodes that hidden ones read: say so, not as a rank
        g.edge(f"{prefix}n{parent}", more, style="dashed", constraint="false")
    if scale is not None:
        with g.subgraph(name=f"cluster_{prefix}legend") as legend:
            legend.attr(label="", color="#d0d0d0", style="rounded")
            legend.node(f"{prefix}legend", label=scale.legend(), shape="plain")
    if ov is not None and ov.title:
        g.attr(label=f"<{ov.title}>", labelloc="t", labeljust="l", fontsize="12")


def _notebook_format(format: str) -> str | None:
    format = "jpeg" if format == "jpg" else format
    return format if format in NOTEBOOK_FORMATS else None


def _new_drawing(rankdir: str, format: str | None, timeout: float | None) -> Drawing:
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"rankdir must be 'LR', 'TB', 'RL' or 'BT', got {rankdir!r}")
    fmt_ = get_format() if format is None else _format_name("draw", format)
    if fmt_ not in graphviz.FORMATS:
        raise ValueError(f"unknown format {format!r}; use e.g. 'svg', 'png' or 'pdf'")
    return Drawing(
        name="minigrad",
        format=fmt_,
        timeout=timeout,
        # None (no format given): the notebook shows get_format()'s at display time
        notebook_format=None if format is None else _notebook_format(fmt_),
        graph_attr={
            "rankdir": rankdir,
            "bgcolor": "white",
            "fontname": FONT,
            "nodesep": "0.25",
            "ranksep": "0.35",
            "pad": "0.2",
        },
        node_attr={
            "fontname": FONT,
            "fontsize": "11",
            "style": "filled",
            "fillcolor": OP_FILL,
            "color": "#9a9a9a",
            "margin": "0.04,0.02",
            "width": "0.3",
            "height": "0.3",
        },
        edge_attr={"color": EDGE, "arrowsize": "0.6", "fontname": FONT, "fontsize": "9"},
    )


def _in_edges(view: GraphView) -> list[tuple[int, int, int | None]]:
    """(child, slot, parent number) for every drawn edge into an op, child by child in
    slot order; parent None stands for the child's hidden operands, once, at the first."""
    edges = [(child, slot, parent) for parent, child, slot in view.edges]
    for child in view.cut:
        hidden = [s for s, p in enumerate(view.nodes[child]._prev) if view.number(p) is None]
        edges.append((child, hidden[0], None))
    edges.sort(key=lambda e: (e[0], e[1]))
    return edges


def _op_text(node: Any) -> str:
    """The op, with its folded constant if the node has one: "* 2", "1 -"."""
    op = str(node._op) or "?"
    const = getattr(node, "_const", None)
    if const is None:
        return op
    value, side = const
    number = f"{value:.6g}"  # a constant is part of the formula: GPT-2's 0.044715 whole
    return f"{number} {op}" if side == "left" else f"{op} {number}"


def _options(
    show_data: bool, show_grad: bool, params: Any, color_by: str | None, **extra: Any
) -> _Options:
    if color_by not in (None, "grad"):
        raise ValueError(f"color_by must be None or 'grad', got {color_by!r}")
    return _Options(
        show_data=show_data,
        show_grad=show_grad,
        color_by=color_by,
        names=param_names(params),
        **extra,
    )


def _draw_arguments(draw_kwargs: dict[str, Any]) -> dict[str, Any]:
    """``draw_kwargs`` checked against :func:`draw`'s signature (a TypeError names an
    unknown one) and completed with its defaults, so the defaults are written once."""
    bound = inspect.signature(draw).bind(None, **draw_kwargs)
    bound.apply_defaults()
    args = dict(bound.arguments)
    del args["root"]
    return args


def _options_of(args: dict[str, Any], **extra: Any) -> _Options:
    return _options(args["show_data"], args["show_grad"], args["params"], args["color_by"], **extra)


def draw(
    root: Any,
    *,
    rankdir: str = "LR",
    show_data: bool = True,
    show_grad: bool = True,
    params: Any = None,
    max_nodes: int | None = 500,
    color_by: str | None = None,
    format: str | None = None,
    timeout: float | None = None,
) -> Drawing:
    """The computation graph of a ``Value`` or ``Tensor`` root as a ``graphviz.Digraph``.

    ``params``: ``model.named_parameters()`` or a dict name -> node, to name them.
    ``max_nodes``: keep that many nodes nearest the root, summarize the rest (None: all).
    ``color_by="grad"``: shade nodes by |grad| (log scale) with a legend.
    ``format``: render and notebook format (default :func:`get_format`, i.e. "svg").
    ``timeout``: seconds ``dot`` may take when rendering (default 60).
    """
    dot = _new_drawing(rankdir, format, timeout)
    _emit(dot, walk(root, max_nodes), _options(show_data, show_grad, params, color_by))
    return dot


def _draw(root: Any, draw_kwargs: dict[str, Any], **extra: Any) -> Drawing:
    """``draw(root, **draw_kwargs)`` with options it does not offer (node ids, an overlay)."""
    args = _draw_arguments(draw_kwargs)
    return _drawing(walk(root, args["max_nodes"]), args, _options_of(args, **extra))


def _drawing(view: GraphView, args: dict[str, Any], opts: _Options) -> Drawing:
    dot = _new_drawing(args["rankdir"], args["format"], args["timeout"])
    _emit(dot, view, opts)
    return dot


def draw_dot(root: Any, format: str | None = None, rankdir: str = "LR", **kwargs: Any) -> Drawing:
    """The classic micrograd name: ``draw_dot(root, format='svg', rankdir='LR')``."""
    return draw(root, format=format, rankdir=rankdir, **kwargs)


def _write(drawing: Drawing, path: str | os.PathLike) -> str:
    """Write ``drawing`` to ``path``; the extension picks the format (.dot needs no ``dot``)."""
    path = Path(path)
    ext = path.suffix[1:].lower()
    if ext not in FILE_FORMATS:
        raise ValueError(
            f"save: cannot tell the format of {str(path)!r}; use one of "
            + ", ".join("." + e for e in FILE_FORMATS)
        )
    if ext in ("dot", "gv"):
        data = drawing.source.encode("utf-8")
    else:
        data = drawing.pipe(format="jpeg" if ext == "jpg" else ext)
    path.write_bytes(data)
    return str(path)


def save(root: Any, path: str | os.PathLike, **draw_kwargs: Any) -> str:
    """Draw ``root`` and write it to ``path`` (.svg, .png, .pdf, .jpg or .dot); return the path."""
    return _write(draw(root, **draw_kwargs), path)


# ----------------------------------------------------------------------------- side by side


def _html_escape(text: str) -> str:
    return html.escape(text, quote=True)


class SideBySide:
    """Two drawings next to each other: inline HTML in a notebook, one file with ``save``."""

    def __init__(
        self, left: Any, right: Any, titles: tuple[str, str], draw_kwargs: dict[str, Any]
    ) -> None:
        self.roots = (left, right)
        self.titles = (str(titles[0]), str(titles[1]))
        self.draw_kwargs = draw_kwargs
        args = _draw_arguments(draw_kwargs)
        self.views = [walk(root, args["max_nodes"]) for root in self.roots]
        self.scale = None  # with color_by="grad", one scale for both: their colors compare
        if args["color_by"] == "grad":
            self.scale = _GradScale([m for view in self.views for m in _magnitudes(view)])
        opts = _options_of(args, scale=self.scale)
        self.left, self.right = (_drawing(view, args, opts) for view in self.views)

    def html(self) -> str:
        """An HTML fragment: the two SVGs in a wrapping flex row, each under its title."""
        figures = []
        for title, drawing in zip(self.titles, (self.left, self.right)):
            figures.append(
                '<figure style="margin:0;flex:0 1 auto;max-width:100%;overflow:auto">'
                '<figcaption style="font:600 14px Helvetica,Arial,sans-serif;'
                f'text-align:center;margin-bottom:6px">{_html_escape(title)}</figcaption>'
                f"{drawing.svg()}</figure>"
            )
        return (
            '<div style="display:flex;flex-wrap:wrap;gap:32px;align-items:flex-start">'
            + "".join(figures)
            + "</div>"
        )

    def _repr_html_(self) -> str:
        try:
            return self.html()
        except RenderError as err:
            return f"<pre>{_html_escape(str(err))}</pre>"

    def combined(self) -> Drawing:
        """One Digraph holding both graphs as titled clusters (for .svg/.png/.pdf/.dot)."""
        args = _draw_arguments(self.draw_kwargs)
        dot = _new_drawing(args["rankdir"], args["format"], args["timeout"])
        opts = _options_of(args, scale=self.scale)
        sides = list(zip("ab", self.titles, self.views))
        rankdir = args["rankdir"]
        if rankdir in ("LR", "RL"):  # dot stacks these clusters bottom-up: the first on top
            sides.reverse()
        # A cluster's labelloc follows the ranks: under BT its "b" is the top of the picture.
        labelloc = "b" if rankdir == "BT" else "t"
        for side, title, view in sides:
            with dot.subgraph(name=f"cluster_{side}") as sub:
                sub.attr(color="#d0d0d0", style="rounded")
                if title:  # dot rejects an empty <b></b>: no title, no label
                    sub.attr(
                        label=f"<<b>{escape(title, 80)}</b>>", labelloc=labelloc, fontsize="14"
                    )
                _emit(sub, view, opts, prefix=f"{side}_")
        return dot

    def save(self, path: str | os.PathLike) -> str:
        """Write one file: .html (two inline SVGs), or .svg/.png/.pdf/.dot (two clusters)."""
        path = Path(path)
        if path.suffix.lower() in (".html", ".htm"):
            title = _html_escape(" | ".join(self.titles))
            path.write_text(
                '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
                f"<title>{title}</title></head>\n<body>{self.html()}</body></html>\n",
                encoding="utf-8",
            )
            return str(path)
        return _write(self.combined(), path)


def side_by_side(
    left_root: Any,
    right_root: Any,
    titles: tuple[str, str] = ("micrograd", "tensorgrad"),
    **draw_kwargs: Any,
) -> SideBySide:
    """Two graphs next to each other (e.g. the same model in micrograd and tensorgrad)."""
    if (
        isinstance(titles, str)
        or not isinstance(titles, Sequence)
        or len(titles) != 2
        or not all(isinstance(title, str) for title in titles)
    ):
        raise ValueError(f"side_by_side: titles must be two strings, got {titles!r}")
    params = draw_kwargs.get("params")
    if params is not None and not isinstance(params, dict):
        draw_kwargs["params"] = list(params)  # a generator would be used up by the left graph
    return SideBySide(left_root, right_root, tuple(titles), draw_kwargs)
