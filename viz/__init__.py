"""viz: draw the computation graph of a micrograd ``Value`` or a tensorgrad ``Tensor``.

``draw(root)`` returns a ``graphviz.Digraph`` that shows inline in Jupyter (SVG by
default, ``set_format("png")`` for PNG) and renders to files; ``draw_dot`` is the
classic micrograd name. ``save`` writes a file by extension, ``side_by_side`` puts two
graphs next to each other, and ``backward_steps`` walks through the chain rule one
node at a time.
"""

from .draw import (
    Drawing,
    GraphvizNotFound,
    RenderError,
    RenderTimeout,
    SideBySide,
    draw,
    draw_dot,
    get_format,
    save,
    set_format,
    side_by_side,
)
from .steps import BackwardSteps, Step, backward_steps

__all__ = [
    "draw",
    "draw_dot",
    "save",
    "side_by_side",
    "backward_steps",
    "set_format",
    "get_format",
    "Drawing",
    "SideBySide",
    "BackwardSteps",
    "Step",
    "RenderError",
    "GraphvizNotFound",
    "RenderTimeout",
]
