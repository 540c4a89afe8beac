"""The chain rule step by step: ``backward_steps(root)``.

The steps follow the backward core's own schedule (``micrograd.autodiff.backward_order``:
by depth, deepest first): each node is processed once all of its consumers have passed
their gradient down. A step shows the node, its op, the local derivative rule in words,
the gradient that arrived, and what the node's rule (the engine's own ``_vjp``) adds to
each parent. Nothing is written to any ``.grad``.
"""

from __future__ import annotations

import html
import itertools
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from micrograd.autodiff import backward_order, set_grad_enabled

from .draw import Drawing, Overlay, RenderError, _draw, _draw_arguments
from .graph import (
    FEW_VALUES,
    check_limit,
    describe_grad,
    escape,
    fmt,
    grad_array,
    is_tensor,
    param_names,
    walk,
)

__all__ = ["Step", "Contribution", "BackwardSteps", "backward_steps", "rule_text"]

MAX_FRAMES = 40  # a notebook shows the step-through drawings up to this many steps
MAX_ROWS = 60  # steps a table shows (print, repr, notebook): the first 45 and the last 15
MAX_ADDS = 20  # parents a table lists per step; the others are counted

# ----------------------------------------------------------------------------- the rules in words

_UNARY = {
    "neg": "d(−u)/du = −1",
    "abs": "d|u|/du = sign(u)",
    "relu": "d relu(u)/du = 1 if u > 0 else 0",
    "tanh": "d tanh(u)/du = 1 − tanh(u)²",
    "sigmoid": "d σ(u)/du = σ(u)·(1 − σ(u))",
    "exp": "d exp(u)/du = exp(u)",
    "log": "d ln(u)/du = 1/u",
    "sqrt": "d √u/du = 1/(2√u)",
    "sin": "d sin(u)/du = cos(u)",
    "cos": "d cos(u)/du = −sin(u)",
    "erf": "d erf(u)/du = 2/√π · e^(−u²)",
    "slope": "d slope/du = 0 (relu's or abs's slope, constant around u)",
}

# op -> (rule with two node operands, with a constant c on the right, with c on the left)
_BINARY = {
    "+": ("d(a+b)/da = 1, d(a+b)/db = 1", "d(u+c)/du = 1", "d(c+u)/du = 1"),
    "-": ("d(a−b)/da = 1, d(a−b)/db = −1", "d(u−c)/du = 1", "d(c−u)/du = −1"),
    "*": ("d(a·b)/da = b, d(a·b)/db = a", "d(u·c)/du = c", "d(c·u)/du = c"),
    "/": ("d(a/b)/da = 1/b, d(a/b)/db = −a/b²", "d(u/c)/du = 1/c", "d(c/u)/du = −c/u²"),
    "**": ("d(aᵇ)/da = b·aᵇ⁻¹, d(aᵇ)/db = aᵇ·ln a", "d(uᶜ)/du = c·uᶜ⁻¹", "d(cᵘ)/du = cᵘ·ln c"),
}

# Tensor ops, by name (tensorgrad's elementwise ops share the scalar names above).
_TENSOR = {
    "matmul": "dA = G @ Bᵀ, dB = Aᵀ @ G for the output's gradient G (a 1-D operand as a "
    "row or a column; summed over broadcast batch axes)",
    "sum": "d sum(u)/du = 1: the gradient is broadcast back to u's shape",
    "mean": "d mean(u)/du = 1/n: the gradient / n, broadcast back to u's shape",
    "max": "1 at the maximum (shared equally among ties), 0 elsewhere",
    "min": "1 at the minimum (shared equally among ties), 0 elsewhere",
    "var": "d var(u)/du = 2(u − mean(u))/(n − ddof)",
    "std": "d std(u)/du = (u − mean(u))/((n − ddof)·std(u)), 0 where std(u) = 0",
    "logsumexp": "d logsumexp(u)/du = softmax(u)",
    "softmax": "d softmax(u): s ⊙ (g − Σ g⊙s), Σ along the softmax's axis",
    "log_softmax": "d log_softmax(u): g − softmax(u)·Σ g, Σ along the axis",
    "reshape": "the gradient reshaped back to u's shape",
    "flatten": "the gradient reshaped back to u's shape",
    "squeeze": "the gradient reshaped back to u's shape",
    "unsqueeze": "the gradient reshaped back to u's shape",
    "transpose": "the gradient transposed back (the inverse permutation)",
    "permute": "the gradient transposed back (the inverse permutation)",
    "swapaxes": "the gradient with the two axes swapped back",
    "broadcast_to": "the gradient summed over the broadcast axes",
    "getitem": "the gradient scattered back into zeros of u's shape (np.add.at)",
    "index": "the gradient scattered back into zeros of u's shape (np.add.at)",
    "scatter_add": "the gradient gathered back at the scattered positions",
    "astype": "the gradient cast back to u's dtype",
    "concatenate": "the gradient split back into the pieces",
    "stack": "the gradient split back into the pieces",
    "maximum": "to the larger operand (ties shared equally)",
    "minimum": "to the smaller operand (ties shared equally)",
    "where": "to a where the condition holds, to b elsewhere",
    "clip": "d clip(u)/du = 1 inside [lo, hi], 0 outside",
    "cross_entropy": "per row (Σ t)·softmax(logits) − t, t = one_hot(label) (smoothed: "
    "(1−ε)·one_hot + ε/C; times the class weights; 0 for an ignored label); the mean "
    "divides by the kept rows' count (or weights)",
    "binary_cross_entropy": "(p − y)/(p(1 − p)); the mean divides by N",
    "bce_with_logits": "σ(z) − y; the mean divides by N",
    "mse_loss": "2(pred − target)/n",
    "standardize": "x̂ = (u − mean)/s, s = √(var + ε) (biased var): "
    "(g − mean(g) − x̂·mean(g·x̂))/s over the normalised axes",
}
_TENSOR["@"] = _TENSOR["matmul"]


def rule_text(op: str, n_parents: int, tensor: bool = False, constant: str | None = None) -> str:
    """The local derivative of ``op`` in words (a leaf: its gradient goes into .grad).

    ``constant`` is the side of a constant operand, "left" (``c - u``) or "right"
    (``u - c``), for a binary op with one node operand: only that rule applies.
    """
    if not n_parents:
        return "leaf: its gradient is added into .grad"
    if op == "+" and n_parents > 2:
        text = "d(a₁+…+aₙ)/daᵢ = 1"
    elif op in _BINARY and n_parents == 2:
        text = _BINARY[op][0]
    elif op in _BINARY and n_parents == 1:
        right, left = _BINARY[op][1:]
        text = {"right": right, "left": left}.get(constant, f"{right}, {left}")
    elif op in _UNARY:
        text = _UNARY[op]
    elif tensor and op in _TENSOR:
        return _TENSOR[op]
    else:
        return f"the local rule of {_one_line(op)!r} (its vector-Jacobian product)"
    if tensor:
        text += " (elementwise; summed over broadcast axes)" if op in _BINARY else " (elementwise)"
    return text


# ----------------------------------------------------------------------------- steps


@dataclass(frozen=True)
class Contribution:
    """What one step adds to one parent slot (``grad`` None: nothing flows there)."""

    slot: int
    number: int
    name: str
    grad: Any
    why_none: str = "needs no gradient"  # why nothing flows, when grad is None


@dataclass(frozen=True)
class Step:
    """One node of the backward pass: its gradient and what its rule passes on."""

    index: int  # position in the backward order (0 is the root)
    number: int  # the node's number, as in viz.draw (0 is the root)
    name: str  # "#3 x1": number and label (or parameter name)
    op: str  # "" for a leaf
    rule: str  # the local derivative in words
    grad: Any  # the node's full gradient (float or ndarray; None: none reached it)
    contributions: tuple[Contribution, ...]
    node: Any = field(repr=False, compare=False)


def _one_line(text: str, limit: int = 24) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _grad_text(g: Any) -> str:
    """A gradient for the table: the number, a short array, or shape and norm."""
    g = grad_array(g)
    if g is None:
        return "none"
    if isinstance(g, np.ndarray) and g.ndim == 0:
        return fmt(g)
    if isinstance(g, np.ndarray) and 0 < g.size <= FEW_VALUES:  # in one row, for the table
        return "[" + ", ".join(fmt(x) for x in g.ravel()) + "]"
    return describe_grad(g)


def _rule_of(node: Any, parents: tuple, g: Any) -> str:
    """The rule column of ``node``'s step."""
    if not parents:
        return rule_text("", 0) if g is not None else "leaf: no gradient reaches it"
    if not is_tensor(node) and node._rule is None:
        return "no gradient rule: it passes nothing on (the classic micrograd's default)"
    const = getattr(node, "_const", None)
    return rule_text(str(node._op), len(parents), is_tensor(node), const and const[1])


def _add_text(c: Contribution) -> str:
    if c.grad is None:
        return f"{c.name}: nothing ({c.why_none})"
    return f"{c.name} += {_grad_text(c.grad)}"


_HEAD = ("step", "node", "op", "local derivative", "grad", "adds to parents")


def _cells(s: Step, max_adds: int | None) -> tuple[tuple[str, ...], list[str]]:
    """One step's table cells (step, node, op, rule, grad) and its "adds" lines, listing at
    most ``max_adds`` parents (None: all)."""
    adds = [_add_text(c) for c in s.contributions[:max_adds]]
    if len(s.contributions) > len(adds):
        adds.append(f"… {len(s.contributions) - len(adds):,} more parents")
    cells = (str(s.index + 1), s.name, _one_line(s.op, 16) or "leaf", s.rule, _grad_text(s.grad))
    return cells, adds or ["—"]


def _lines(s: Step, max_adds: int | None) -> Iterator[tuple[str, ...]]:
    """One step as text table lines: its cells and first parent, then one line per parent."""
    cells, adds = _cells(s, max_adds)
    yield (*cells, adds[0])
    for more in adds[1:]:
        yield ("", "", "", "", "", more)


def _skipped_text(n: int) -> str:
    """The line standing for the ``n`` steps a table leaves out."""
    return f"… {n:,} more step{'s' if n != 1 else ''} (all: steps.table(max_rows=None)) …"


class BackwardSteps(list):
    """The steps of a backward pass (a list of :class:`Step`), printable and drawable.

    ``print(steps)`` gives a text table, a notebook shows an HTML table and the
    drawings (of a long pass, MAX_ROWS steps, the first and the last: ``steps.table(None)``
    has them all); ``steps.draw(i)`` is the graph after step ``i`` (known gradients
    filled in, the current node and its edges highlighted); ``steps.frames()`` all of
    them; ``steps.gradient(node)`` the node's full gradient.
    """

    def __init__(
        self, steps: list[Step], root: Any, params: Any, gradients: dict[int, Any]
    ) -> None:
        super().__init__(steps)
        self.root = root
        self.params = params
        self._gradients = gradients

    def gradient(self, node: Any) -> Any:
        """d(root)/d(node) as this pass computed it (float or ndarray; None if none)."""
        return self._gradients.get(id(node))

    def rows(self) -> Iterator[tuple[str, ...]]:
        """(step, node, op, rule, grad, adds) per table line, for every step and parent."""
        for s in self:
            yield from _lines(s, None)

    def _table_steps(self, max_rows: int | None) -> tuple[list[Step], int, list[Step]]:
        """(first steps, how many are left out, last steps) of a table of ``max_rows`` steps.

        Only slices of the list: a table of a million steps is made as fast as one of ten.
        """
        check_limit("max_rows", max_rows)
        if max_rows is None or len(self) <= max_rows + 1:  # one step takes its line's room
            return list(self), 0, []
        tail = max_rows // 4
        head = max_rows - tail
        return self[:head], len(self) - max_rows, self[len(self) - tail :]

    def table(self, max_rows: int | None = MAX_ROWS) -> str:
        """The steps as a text table; beyond ``max_rows`` steps only the first and the last
        ones, and at most MAX_ADDS parents per step (None: everything)."""
        first, skipped, last = self._table_steps(max_rows)
        max_adds = None if max_rows is None else MAX_ADDS
        first_rows = [r for s in first for r in _lines(s, max_adds)]
        last_rows = [r for s in last for r in _lines(s, max_adds)]
        rows = [_HEAD, *first_rows, *last_rows]
        widths = [max(len(r[k]) for r in rows) for k in range(len(_HEAD))]

        def line(r: tuple[str, ...]) -> str:
            cells = [r[0].rjust(widths[0])] + [c.ljust(w) for c, w in zip(r[1:], widths[1:])]
            return "  ".join(cells).rstrip()

        lines = [
            "  ".join(c.ljust(w) for c, w in zip(_HEAD, widths)).rstrip(),
            "  ".join("-" * w for w in widths),
        ]
        lines += [line(r) for r in first_rows]
        if skipped:
            lines.append(_skipped_text(skipped))
        lines += [line(r) for r in last_rows]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        return f"<BackwardSteps: {len(self):,} steps>\n{self}"

    def table_html(self, max_rows: int | None = MAX_ROWS) -> str:
        """The steps as an HTML table (all text escaped), bounded as :meth:`table` is."""
        first, skipped, last = self._table_steps(max_rows)
        max_adds = None if max_rows is None else MAX_ADDS
        style = "padding:2px 8px;text-align:left;vertical-align:top"

        def tr(s: Step) -> str:
            cells, adds = _cells(s, max_adds)
            tds = "".join(f'<td style="{style}">{html.escape(c)}</td>' for c in cells)
            return f'<tr>{tds}<td style="{style}">{"<br>".join(map(html.escape, adds))}</td></tr>'

        head = "".join(f'<th style="{style}">{h}</th>' for h in _HEAD)
        body = [tr(s) for s in first]
        if skipped:
            text = html.escape(_skipped_text(skipped))
            body.append(
                f'<tr><td colspan="{len(_HEAD)}" style="{style};color:#6b6b6b">{text}</td></tr>'
            )
        body += [tr(s) for s in last]
        return (
            '<table style="border-collapse:collapse;font:13px Helvetica,Arial,sans-serif">'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        )

    def draw(self, i: int, **draw_kwargs: Any) -> Drawing:
        """The graph after step ``i``: known gradients filled in, step ``i`` highlighted."""
        if not -len(self) <= i < len(self):
            raise IndexError(f"step {i} out of range: there are {len(self)} steps")
        i %= len(self)
        step = self[i]
        self._check_shown(f"steps.draw({i})", [step], draw_kwargs)
        known: dict[int, Any] = {}
        partial: dict[int, Any] = {}
        # how many shares each node gets in all, and how many it has got: with all of
        # them in, its gradient is complete before its own step comes
        shares = Counter(c.number for s in self for c in s.contributions if c.grad is not None)
        got: Counter = Counter()
        for s in self[: i + 1]:
            known[s.number] = s.grad
            partial.pop(s.number, None)
            for c in s.contributions:
                if c.grad is not None:
                    old = partial.get(c.number)
                    partial[c.number] = c.grad if old is None else old + c.grad
                    got[c.number] += 1
        overlay = Overlay(
            grads={**partial, **known},
            partial={n for n in partial if got[n] < shares[n]},
            current=step.number,
            edge_labels={
                (step.number, c.slot): escape(_signed(_grad_text(c.grad)), 60)
                for c in step.contributions
                if c.grad is not None
            },
            title=escape(
                f"step {i + 1}/{len(self)}: {step.name} ({step.op or 'leaf'}): {step.rule}", 200
            ),
        )
        draw_kwargs.setdefault("params", self.params)
        return _draw(self.root, draw_kwargs, show_ids=True, overlay=overlay)

    def frames(self, **draw_kwargs: Any) -> list[Drawing]:
        """One drawing per step (see :meth:`draw`)."""
        self._check_shown("steps.frames()", self, draw_kwargs)
        return [self.draw(i, **draw_kwargs) for i in range(len(self))]

    def _check_shown(self, call: str, steps: Sequence[Step], draw_kwargs: dict) -> None:
        """Raise unless a drawing keeps every node of ``steps`` and their inputs: viz.draw
        numbers nodes breadth-first from the root and keeps the first ``max_nodes``."""
        max_nodes = _draw_arguments(draw_kwargs)["max_nodes"]
        check_limit("max_nodes", max_nodes)
        if max_nodes is None or not steps:
            return
        step = max(steps, key=_nodes_to_show)
        needed = _nodes_to_show(step)
        if needed > max_nodes:
            raise ValueError(
                f"{call}: step {step.index + 1} (node #{step.number}) and its inputs are "
                f"among the {needed} nodes nearest the root, more than max_nodes={max_nodes} "
                f"keeps; pass max_nodes={needed} or more (None: all)"
            )

    def _repr_html_(self) -> str:
        table = self.table_html()
        if not self or len(self) > MAX_FRAMES:
            note = "<p>(call <code>steps.draw(i)</code> to see step i)</p>" if self else ""
            return table + note
        try:
            svgs = [frame.svg() for frame in self.frames()]
        except RenderError as err:
            return table + f"<pre>{html.escape(str(err))}</pre>"
        return table + _stepper_html(svgs)


def _nodes_to_show(step: Step) -> int:
    """How many nodes nearest the root a drawing must keep to show ``step`` and its inputs."""
    return 1 + max([step.number, *(c.number for c in step.contributions)])


_counter = itertools.count()


def _stepper_html(svgs: list[str]) -> str:
    """Frames with prev/next buttons in plain JavaScript; without JS all frames show, stacked."""
    uid = f"viz-steps-{next(_counter)}"
    frames = "".join(f'<div class="viz-frame" style="margin:8px 0">{svg}</div>' for svg in svgs)
    button = "font:13px Helvetica,Arial,sans-serif;padding:2px 10px;margin-right:6px"
    script = (
        "(function(){var r=document.getElementById('__ID__');if(!r)return;"
        "var f=r.querySelectorAll('.viz-frame'),c=r.querySelector('.viz-controls'),"
        "p=r.querySelector('.viz-pos'),i=0;"
        "function show(k){i=Math.max(0,Math.min(f.length-1,k));"
        "for(var j=0;j<f.length;j++){f[j].style.display=(j===i)?'':'none';}"
        "p.textContent='step '+(i+1)+' / '+f.length;}"
        "r.querySelector('.viz-prev').onclick=function(){show(i-1);};"
        "r.querySelector('.viz-next').onclick=function(){show(i+1);};"
        "c.style.display='';show(0);})();"
    )
    return (
        f'<div id="{uid}"><div class="viz-controls" style="display:none;margin-top:8px">'
        f'<button class="viz-prev" style="{button}">◀ prev</button>'
        f'<button class="viz-next" style="{button}">next ▶</button>'
        '<span class="viz-pos" style="font:13px Helvetica,Arial,sans-serif"></span></div>'
        f"{frames}</div><script>{script.replace('__ID__', uid)}</script>"
    )


def _signed(text: str) -> str:
    """An amount added to a parent: "+0.5" or "−1.5" (never "+-1.5")."""
    return "−" + text[1:] if text.startswith("-") else "+" + text


def _name(node: Any, number: int, names: dict[int, str]) -> str:
    label = names.get(id(node)) or getattr(node, "label", "") or ""
    return f"#{number} {_one_line(label)}" if label else f"#{number}"


def backward_steps(root: Any, gradient: Any = None, *, params: Any = None) -> BackwardSteps:
    """The backward pass from ``root``, one step per node, without touching any ``.grad``.

    ``gradient`` is the starting gradient (None: 1 for a scalar root). ``params``
    (as for ``viz.draw``) names parameters. A tensor graph must still hold what its
    rules saved: call this before ``backward()``, or after ``backward(retain_graph=True)``.
    """
    if params is not None:  # keep it: a generator such as named_parameters() reads once
        params = list(params.items()) if isinstance(params, dict) else list(params)
    view = walk(root)
    names = param_names(params)
    nodes = view.nodes
    prevs = [tuple(node._prev) for node in nodes]
    number = view.number

    seed = root._seed(gradient, False) if hasattr(root, "_seed") else 1.0
    grads: dict[int, Any] = {0: seed}
    final: dict[int, Any] = {}
    steps: list[Step] = []
    with set_grad_enabled(False):
        # The core's own schedule: consumers before producers.
        for node in backward_order([root]):
            n = number(node)
            parents = prevs[n]
            g = grads.pop(n, None)
            if g is not None:
                final[id(node)] = g
            if not parents:
                parent_grads: tuple = ()
            elif g is None:
                parent_grads = (None,) * len(parents)
            else:
                try:
                    parent_grads = tuple(node._vjp(g, False))
                except RuntimeError as err:
                    # Only a tensor graph freed by backward() gets the hint; any other
                    # error (a node without a rule, ...) says itself what is wrong.
                    if "retain_graph" not in str(err):
                        raise
                    raise RuntimeError(
                        f"backward_steps: node #{n} (op {node._op!r}) cannot run its rule: "
                        f"{str(err).rstrip('.')}. Compute the steps before backward(), or call "
                        "backward(retain_graph=True)."
                    ) from err
            contributions = []
            no_rule = not is_tensor(node) and node._rule is None  # built by hand, classic
            why = {"why_none": "no gradient rule"} if no_rule else {}
            if g is None:  # nothing reached this node (a rule above passed nothing on)
                why = {"why_none": "no gradient reached this node"}
            for slot, (p, pg) in enumerate(zip(parents, parent_grads)):
                j = number(p)
                contributions.append(Contribution(slot, j, _name(p, j, names), pg, **why))
                if pg is not None:
                    old = grads.get(j)
                    grads[j] = pg if old is None else old + pg
            steps.append(
                Step(
                    index=len(steps),
                    number=n,
                    name=_name(node, n, names),
                    op=str(node._op),
                    rule=_rule_of(node, parents, g),
                    grad=g,
                    contributions=tuple(contributions),
                    node=node,
                )
            )
    return BackwardSteps(steps, root, params, final)
