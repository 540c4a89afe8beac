"""The one backward core shared by both engines.

The core knows nothing about floats or arrays. It sees a computation graph through
a small protocol that every node type implements:

``node._prev``
    the parent nodes, in argument order (a tuple; ``a * a`` has two slots): the graph
    as it is drawn and walked by :func:`backward_order`.
``node._parents``
    the parents the backward pass sends gradient to: the same tuple as ``_prev``
    for every node but a fused one, which the pass differentiates as one step while
    ``_prev`` shows its inner nodes (made when first asked for; see the scalar
    engine's ``weighted_sum``). Showing them makes it an ordinary node, whose
    ``_parents`` is then ``_prev``; it waits for any running pass (:func:`between_passes`).
``node._op``
    a short op name for display ("+", "tanh", "matmul", ...); "" for a leaf.
``node._depth``
    0 for a leaf, else one more than the deepest parent, set when the node is made.
    Every consumer of a node is deeper than it, so visiting the nodes that gradient
    reaches level by level, deepest first, is a topological order: the backward pass
    needs no separate sort.
``node._pass_grad``
    scratch space of the running backward pass: the gradient summed into the node so
    far, ``None`` outside a pass. It lives on the node rather than in a table of the
    pass: the pass reads the node anyway, while a table of every node is more memory
    to walk through, at random places. So passes take turns (a lock): a rule must not
    wait for a backward in another thread. A node type's ``__setstate__`` is
    :func:`restore_node`, so that a copy never takes a sum of a running pass (and its
    ``__deepcopy__`` is :func:`copy_graph`, which copies deep graphs without recursion).
``node._vjp(g, graph)``
    the vector-Jacobian product: the output gradient ``g`` -> one gradient per
    parent slot (``None`` for a parent that needs none). With ``graph=False`` the
    rule runs on raw data (floats or ndarrays); with ``graph=True`` it runs the
    *same* rule on the nodes themselves, recording a differentiable graph of the
    backward pass -- that is all higher-order gradients need.
``node._receive_grad(g)``
    called by :func:`backward` with a node's final gradient: a leaf accumulates
    it into ``.grad``; an interior node gets it only if ``node._retains_grad``
    (every Value shows its gradient; a Tensor only after ``retain_grad()``).
``node._check_grads(leaves, retained)``
    called by :func:`backward` with the leaves and the interior nodes that retain
    their gradient, before any gets its gradient: raises if one's ``.grad`` cannot take
    it (a user assigned something else), so that no ``.grad`` changes. (A Value checks
    its leaves only: an interior Value's ``.grad`` is replaced, not added to.)
``node._free_saved()``
    called after a node's rule ran in a backward without ``retain_graph``.
``node._seed(gradient, graph, op, arg)`` / ``node._lift(g)``
    the starting gradient of an output (validated; errors name the call ``op`` and its
    argument ``arg``), and a gradient as the node ``grad`` returns for it (a raw one
    wrapped as a constant node).

Everything here is iterative: a graph that is a chain of 1,000,000 nodes works
under Python's default recursion limit.
"""

from __future__ import annotations

import copy
import functools
import inspect
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from contextlib import ContextDecorator, contextmanager
from itertools import chain
from operator import attrgetter
from typing import Any

__all__ = [
    "backward",
    "grad",
    "topological_order",
    "backward_order",
    "depth_above",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
    "restore_node",
    "copy_graph",
    "between_passes",
    "gradient_so_far",
    "ModeSwitch",
]


# ----------------------------------------------------------------------------- grad mode


class _GradMode(threading.local):
    """Per-thread switch: is the forward pass recording a graph?"""

    def __init__(self) -> None:  # runs once in each thread that uses it
        self.enabled = True  # an instance attribute: the ops read it on every call
        self.saved: list[bool] = []
        self.in_pass = ""  # the pass running in this thread: "backward", "grad" or none


_mode = _GradMode()


def is_grad_enabled() -> bool:
    """True when operations record a graph for backward (the default)."""
    return _mode.enabled


class ModeSwitch(ContextDecorator):
    """A mode switch: a context manager, and a decorator that also holds over generators.

    As a decorator of a generator function it holds while the generator's own code runs,
    and not in between, when the caller's code runs (as PyTorch's). This base sets grad
    mode on entry and restores it on exit (a stack per thread: re-entrant); a subclass
    for another mode overrides ``__enter__``, ``__exit__`` and ``_recreate_cm``.
    """

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)

    def __call__(self, func):
        if not inspect.isgeneratorfunction(func):
            return super().__call__(func)
        switch = self._recreate_cm

        @functools.wraps(func)
        def generator(*args, **kwargs):
            gen = func(*args, **kwargs)
            try:
                with switch():
                    response = gen.send(None)
                while True:
                    try:
                        request = yield response
                    except GeneratorExit:
                        with switch():
                            gen.close()
                        raise
                    except BaseException as exc:
                        with switch():
                            response = gen.throw(exc)
                    else:
                        with switch():
                            response = gen.send(request)
            except StopIteration as stop:
                return stop.value

        return generator

    def __enter__(self) -> None:
        _mode.saved.append(_mode.enabled)
        _mode.enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        _mode.enabled = _mode.saved.pop()


class set_grad_enabled(ModeSwitch):
    """Turn graph recording on or off for this thread, as PyTorch's: a plain call switches
    at once; as a context manager or decorator the previous mode comes back afterwards."""

    def __init__(self, mode: bool) -> None:
        super().__init__(mode)
        self.prev = _mode.enabled
        _mode.enabled = self.mode

    def __enter__(self) -> None:  # switched already by __init__; again if reused
        _mode.enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        _mode.enabled = self.prev

    def __call__(self, func):
        _mode.enabled = self.prev  # decorating switches nothing; each call does (a new one)
        return super().__call__(func)

    def _recreate_cm(self) -> set_grad_enabled:
        return type(self)(self.mode)


class no_grad(ModeSwitch):
    """``with no_grad():`` (or ``@no_grad()`` / ``@no_grad``): record no graph."""

    def __new__(cls, func=None):
        if callable(func):  # bare ``@no_grad`` on a function
            return cls()(func)
        return super().__new__(cls)

    def __init__(self, func=None) -> None:
        super().__init__(False)


class enable_grad(ModeSwitch):
    """``with enable_grad():`` record a graph again, e.g. inside ``no_grad``."""

    def __new__(cls, func=None):
        if callable(func):
            return cls()(func)
        return super().__new__(cls)

    def __init__(self, func=None) -> None:
        super().__init__(True)


# ----------------------------------------------------------------------------- graph walks


def topological_order(roots: Iterable[Any]) -> list:
    """Every node reachable from ``roots`` through ``_prev`` (the graph as it is drawn),
    each once, parents before the nodes they feed."""
    return _depth_first(roots, attrgetter("_prev"))


def _depth_first(roots: Iterable[Any], parents_of: Callable[[Any], tuple]) -> list:
    """Every node reachable from ``roots`` through ``parents_of``, parents first.

    An iterative depth-first search. A node whose parents are all placed is placed at
    once; otherwise it goes back on the stack under a ``None`` marker with its parents
    on top, and when the marker comes off again they are placed, so the node goes next.
    A node is "seen" once it has been taken off the stack: after that it is either
    placed or waiting on the current path (a parent of it would close a cycle). Depth
    is limited by memory, not by Python's recursion limit.
    """
    order: list = []
    emit = order.append
    seen: set = set()
    mark = seen.add
    stack = list(roots)
    push, pop = stack.append, stack.pop
    while stack:
        node = pop()
        if node is None:  # the marker: every parent of the node below it is placed
            emit(pop())
        elif node not in seen:
            mark(node)
            parents = parents_of(node)
            for parent in parents:
                if parent not in seen:
                    break
            else:  # a leaf, or every parent already placed
                emit(node)
                continue
            push(node)
            push(None)
            for parent in parents:
                if parent not in seen:
                    push(parent)
    return order


def backward_order(roots: Iterable[Any]) -> list:
    """Every node reachable from ``roots``, in the order the backward pass visits them.

    By depth, deepest first; within a level, in the order gradient first reaches the
    nodes (as if every edge carried one). Each node comes after all of its consumers.
    """
    order: list = []
    levels = defaultdict(list)
    seen: set = set()
    for root in roots:
        if root not in seen:
            seen.add(root)
            levels[root._depth].append(root)
    for depth in range(max(levels, default=-1), -1, -1):
        for node in levels.pop(depth, ()):
            order.append(node)
            for parent in node._prev:
                if parent._depth >= depth:
                    raise _rewired(node, parent._depth, depth)
                if parent not in seen:
                    seen.add(parent)
                    levels[parent._depth].append(parent)
    return order


def depth_above(parents: Iterable[Any]) -> int:
    """The ``_depth`` of a node made from ``parents``: 0 without any, else one more than
    the deepest of them. (The scalar engine's hottest ops inline this.)"""
    depth = 0
    for parent in parents:
        if parent._depth >= depth:
            depth = parent._depth + 1
    return depth


def _rewired(node: Any, level: int, depth: int) -> RuntimeError:
    return RuntimeError(
        f"backward: a parent of the '{node._op}' node has depth {level}, not less than the "
        f"node's {depth}: its _prev was changed after it was made; build the node with its "
        "parents instead"
    )


# ----------------------------------------------------------------------------- the pass


_parents_of = attrgetter("_parents")

# Passes keep their sums on the nodes, so two passes through a shared node (two threads
# training one model) must not overlap: they take turns.
_one_pass_at_a_time = threading.Lock()


@contextmanager
def between_passes():
    """Hold off backward passes in other threads while a node changes its ``_parents``.

    Inside this thread's own pass (a rule or hand-written ``_backward`` that looks at a
    node) it holds nothing: the pass reads a node's parents and runs its rule in one go.
    """
    if _mode.in_pass:
        yield
    else:
        with _one_pass_at_a_time:
            yield


def gradient_so_far(node: Any) -> Any:
    """The gradient that a ``backward`` running in this thread has summed into ``node``
    so far (its final one once the node's rule has run), else None. For a node shown
    midway, from a hand-written ``_backward``; ``grad`` shows no gradient."""
    return node._pass_grad if _mode.in_pass == "backward" else None


def copy_graph(node: Any, memo: dict, copied: Callable[[Any, Any], None] | None = None) -> Any:
    """``__deepcopy__`` of the node types, with no recursion over the graph.

    The nodes below ``node`` are copied parents first, so copying a node's state finds
    its parents in ``memo`` already: ``copy.deepcopy`` then recurses into a node's own
    attributes only, not once per level (a 1,000,000-node chain copies under the
    default recursion limit). ``copied(original, copy)``, if given, runs for each node
    copied (a node type's own bookkeeping).
    """
    for each in topological_order([node]):
        if id(each) in memo:
            continue
        constructor, args, state = each.__reduce_ex__(4)[:3]
        new = constructor(*args)
        memo[id(each)] = new
        new.__setstate__(copy.deepcopy(state, memo))
        if copied is not None:
            copied(each, new)
    return memo[id(node)]


def restore_node(node: Any, state: Any) -> None:
    """``__setstate__`` of the node types (copy, deepcopy): every slot but ``_pass_grad``.

    A copy taken while another thread's pass runs through the node must not take that
    pass's sum with it: a later pass would find the copy already "reached" and skip it.
    """
    instance_dict, slots = state if isinstance(state, tuple) else (state, None)
    for name, value in chain((instance_dict or {}).items(), (slots or {}).items()):
        setattr(node, name, value)
    node._pass_grad = None


def _propagate(
    roots: Sequence[Any],
    seeds: Sequence[Any],
    *,
    retain_graph: bool,
    graph: bool,
    wanted: dict | None,
    check_reached: Callable[[set], None] | None = None,
) -> None:
    """Run the backward pass from ``roots`` with starting gradients ``seeds``.

    With ``wanted`` None (``backward``) every leaf reached, and every interior node that
    retains its gradient, gets ``_receive_grad`` -- all at the end, so a rule that fails
    midway changes no ``.grad``. Otherwise (``grad``) the final gradient of each node
    that is a key of ``wanted`` is stored there and no ``.grad`` is touched. Either way
    no node keeps a ``_pass_grad`` afterwards, even when a rule raised. ``check_reached``
    (``grad``) gets the wanted nodes the outputs lead to before any rule runs: it may
    refuse the call while the graph is still whole.
    """
    if _mode.in_pass:
        raise RuntimeError(
            "backward: a backward pass was started from inside another one in the same "
            "thread (from a _backward function?); run it after the first one returns"
        )
    levels = defaultdict(list)  # depth -> the nodes of that depth that gradient has reached
    # (backward) the leaves reached, and the interior nodes that retain their gradient:
    # their sums go to _receive_grad at the end
    leaves: list = []
    retained: list = []
    with _one_pass_at_a_time:
        try:
            _mode.in_pass = "backward" if wanted is None else "grad"
            receivers = (leaves, retained)
            _sum_level_by_level(
                roots, seeds, levels, receivers, retain_graph, graph, wanted, check_reached
            )
            if leaves or retained:  # all or nothing: a .grad that cannot take it stops all
                (leaves or retained)[0]._check_grads(leaves, retained)
            for node in chain(leaves, retained):
                g, node._pass_grad = node._pass_grad, None
                node._receive_grad(g)
            leaves.clear()
            retained.clear()
        finally:
            _mode.in_pass = ""
            for node in chain(leaves, retained, *levels.values()):  # after an error: sums left
                node._pass_grad = None


def _sum_level_by_level(
    roots, seeds, levels, receivers, retain_graph, graph, wanted, check_reached
) -> None:
    """The pass itself (see ``_propagate``; ``levels`` and the two ``receivers`` lists,
    leaves and retaining interior nodes, start empty).

    Nodes are visited by depth, deepest first (see ``_depth``), so every consumer of a
    node has added its share into ``_pass_grad`` before the node's own rule runs: a node
    used twice gets the sum. A node joins its level when the first gradient reaches it,
    so the pass touches only nodes that gradient reaches, each once.
    """
    store = wanted is None
    leaves, retained = receivers
    skip = None
    if not store:
        skip, reached = _rules_to_skip(_depth_first(roots, _parents_of), wanted)
        if check_reached is not None:
            check_reached(reached)
    for root, seed in zip(roots, seeds):
        if root._pass_grad is None:
            root._pass_grad = seed
            levels[root._depth].append(root)
        else:  # an output listed twice: its seeds add up
            root._pass_grad = root._pass_grad + seed
    for depth in range(max(levels, default=-1), -1, -1):
        if depth not in levels:
            continue
        for node in levels[depth]:
            g = node._pass_grad
            parents = node._parents
            if store and not parents:
                leaves.append(node)  # its sum stays until every rule has run
            elif store and node._retains_grad:
                retained.append(node)  # likewise
            else:
                node._pass_grad = None  # and the pass lets go of the gradient as it goes
                if not store:
                    if node in wanted:
                        wanted[node] = g
                    if node in skip:  # no wanted node lies below it
                        continue
            if not parents:
                continue
            parent_grads = node._vjp(g, graph)
            if not retain_graph:
                node._free_saved()
            for parent, pg in zip(parents, parent_grads):
                if pg is None:
                    continue
                level = parent._depth
                if level >= depth:  # its rule may have run already: never add in late
                    raise _rewired(node, level, depth)
                old = parent._pass_grad
                if old is None:  # the first gradient to reach it: it joins its level
                    parent._pass_grad = pg
                    levels[level].append(parent)
                else:
                    parent._pass_grad = old + pg
        del levels[depth]  # the pass lets go of each level once it is done with all of it


def _rules_to_skip(order: list, wanted: dict) -> tuple[set, set]:
    """The nodes of ``order`` with no parent that is, or leads to, a wanted node; and the
    nodes that are or lead to one (the wanted nodes among them are those reached).

    ``grad`` skips their rules, as PyTorch does: the rest of the graph may have been
    freed or changed since, and its gradients would be thrown away anyway. (A node made
    during the pass, a product shown by a hand-written ``_backward``, runs its rule.)
    """
    leads: set = set()  # wanted nodes, and nodes with one of them below
    skip: set = set()
    for node in order:  # parents before the nodes they feed
        for parent in node._parents:
            if parent in leads:
                leads.add(node)
                break
        else:
            skip.add(node)
            if node in wanted:
                leads.add(node)
    return skip, leads


def backward(
    root: Any, gradient: Any = None, *, retain_graph: bool = False, create_graph: bool = False
) -> None:
    """Accumulate d(root)/d(leaf) into every leaf's ``.grad``.

    ``gradient`` is the vector of the vector-Jacobian product (None means 1 for a
    scalar root). ``create_graph=True`` records the backward pass itself, so the
    gradients can be differentiated again; it implies ``retain_graph``.
    """
    retain_graph = retain_graph or create_graph
    seed = root._seed(gradient, create_graph)
    with set_grad_enabled(create_graph):
        _propagate([root], [seed], retain_graph=retain_graph, graph=create_graph, wanted=None)


def grad(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> list:
    """Gradients of ``outputs`` with respect to ``inputs``, touching no ``.grad``.

    ``outputs`` and ``inputs`` are a node or a sequence of nodes; ``grad_outputs``
    the matching starting gradients (None: 1 for each scalar output). Returns a list
    with one gradient node per input. With ``create_graph=True`` the returned
    gradients carry a graph and can be differentiated again.
    """
    outputs = _as_list(outputs, "outputs")
    inputs = _as_list(inputs, "inputs")
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    else:
        grad_outputs = _as_list(grad_outputs, "grad_outputs", allow_none=True)
    if len(grad_outputs) != len(outputs):
        raise ValueError(
            f"grad: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs; "
            "pass one per output"
        )
    if retain_graph is None:
        retain_graph = create_graph
    seeds = [
        out._seed(g, create_graph, "grad", f"grad_outputs[{i}]")
        for i, (out, g) in enumerate(zip(outputs, grad_outputs))
    ]
    for i, node in enumerate(inputs):  # refused before the pass frees anything, as PyTorch
        if getattr(node, "requires_grad", True) is False:  # a constant tensor
            raise RuntimeError(
                f"grad: input {i} ({node!r}) does not require grad, so it has no "
                "gradient; make it with requires_grad=True"
            )

    def unused(i: int, node: Any) -> RuntimeError:
        return RuntimeError(
            f"grad: input {i} ({node!r}) is not reached from the outputs, so it has "
            "no gradient; pass allow_unused=True to get None for it"
        )

    def check_reached(reached: set) -> None:
        for i, node in enumerate(inputs):
            if node not in reached:
                raise unused(i, node)

    wanted = dict.fromkeys(inputs)
    with set_grad_enabled(create_graph):
        _propagate(
            outputs,
            seeds,
            retain_graph=retain_graph,
            graph=create_graph,
            wanted=wanted,
            check_reached=None if allow_unused else check_reached,
        )
    result = []
    for i, node in enumerate(inputs):
        g = wanted[node]
        if g is None and not allow_unused:  # reached, but by no gradient (an integer path)
            raise unused(i, node)
        result.append(None if g is None else node._lift(g))
    return result


def _as_list(x: Any, what: str, allow_none: bool = False) -> list:
    if isinstance(x, (list, tuple)):
        items = list(x)
    else:
        items = [x]
    for item in items:
        if item is None and allow_none:
            continue
        if what != "grad_outputs" and not hasattr(item, "_prev"):
            raise TypeError(f"grad: {what} must be graph nodes, got {type(item).__name__}")
    return items
