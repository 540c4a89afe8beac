"""``Module`` and ``Parameter``: the bookkeeping every model needs.

A ``Module`` finds its parameters and submodules by walking its attributes in the
order they were set, looking inside lists, tuples and dicts, so no registration call
is needed: ``self.layers = [Linear(2, 16), Linear(16, 1)]`` just works. The walk is
iterative (an explicit stack), visits each object once (shared parameters count
once) and names things with dots, as PyTorch: ``"layers.0.weight"``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from ..optim import zero_grads
from ..tensor import Tensor, mark_changed, target_dtype

__all__ = ["Parameter", "Module", "IncompatibleKeys"]

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])
_train_running = threading.local()  # the modules whose train() runs now, in this thread


class Parameter(Tensor):
    """A Tensor that a ``Module`` treats as trainable; ``requires_grad=True`` by default.

    ``Parameter(data)`` copies ``data``; floating dtypes are kept, numbers, lists and
    integers become float64 (as ``Tensor``). Results of ops on Parameters are plain
    Tensors.
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True, dtype: Any = None) -> None:
        if data is None:
            data = np.empty(0)
        if isinstance(data, Tensor):
            data = data.data
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


def _walk(root: Module, descend: bool = True, unique: bool = True) -> Iterator[tuple[str, Any]]:
    """Pre-order over the Modules and Parameters reachable from ``root``, each once by default.

    Yields ``(dotted_name, object)``; ``root`` itself comes first with name ``""``.
    With ``descend=False`` submodules are yielded but not entered. With ``unique=False``
    a shared module or Parameter comes under every name it has (as ``state_dict`` lists
    tied weights); only a container inside itself is not entered again.
    """
    seen: set[int] = set()
    stack: list[tuple[str, Any, tuple]] = [("", root, ())]  # the ids of the containers above
    while stack:
        name, obj, above = stack.pop()
        if unique:
            if id(obj) in seen:
                continue
            seen.add(id(obj))
        elif id(obj) in above:
            continue
        if isinstance(obj, Parameter):
            yield name, obj
            continue
        if isinstance(obj, Module):
            yield name, obj
            if obj is not root and not descend:
                continue
            items = getattr(obj, "__dict__", {}).items()
        elif isinstance(obj, dict):
            items = obj.items()
        else:  # list or tuple
            items = enumerate(obj)
        prefix = f"{name}." if name else ""
        path = above + (id(obj),)
        children = [
            (f"{prefix}{key}", value, path)
            for key, value in items
            if isinstance(value, (Module, Parameter, list, tuple, dict))
        ]
        stack.extend(reversed(children))


def _children(module: Module, unique: bool = True) -> list[tuple[str, Module]]:
    """The direct submodules; with ``unique=False`` a shared one under each of its names."""
    return [
        (n, m)
        for n, m in _walk(module, descend=False, unique=unique)
        if isinstance(m, Module) and n
    ]


def _prefixed(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix and name else prefix or name


def _fits_a_buffer(value: Any) -> bool:
    """A buffer holds a Tensor that is no Parameter, or None."""
    return value is None or (isinstance(value, Tensor) and not isinstance(value, Parameter))


class Module:
    """Base class for models: subclass it, set layers/Parameters as attributes, define
    ``forward``. Calling the module calls ``forward``.
    """

    training: bool = True  # a class default, so subclasses need not call super().__init__()

    def __init__(self) -> None:
        self.training = True

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __setattr__(self, name: str, value: Any) -> None:
        # As PyTorch: anything but a Parameter (or None) in a Parameter's place would
        # silently leave parameters(), the optimizer's reach and state_dict(); anything
        # but a Tensor (or None) in a buffer's would leave state_dict() or break it.
        if name in self.__dict__.get("_buffers", ()) and not _fits_a_buffer(value):
            raise TypeError(
                f"{type(self).__name__}.{name} is a buffer; assign a Tensor (or None) to it, "
                f"not a {type(value).__name__}"
            )
        if (
            value is not None
            and not isinstance(value, Parameter)
            and isinstance(self.__dict__.get(name), Parameter)
        ):
            raise TypeError(
                f"{type(self).__name__}.{name} is a Parameter; a {type(value).__name__} there "
                "would drop out of parameters() and state_dict(): assign tg.nn.Parameter(...) "
                f"(or None) instead, or set its values in place under tg.no_grad() "
                f"(self.{name}[...] = ...)"
            )
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self.__dict__.get("_buffers", {}).pop(name, None)  # del m.buf unregisters it
        object.__delattr__(self, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # -- what is inside -----------------------------------------------------------------

    def named_parameters(
        self, prefix: str = "", recurse: bool = True
    ) -> list[tuple[str, Parameter]]:
        """``(name, Parameter)`` pairs in attribute order, each Parameter once. As PyTorch:
        ``prefix`` goes before every name, and ``recurse=False`` keeps to this module's own
        Parameters (those in its lists and dicts too), not its submodules'."""
        return [
            (_prefixed(prefix, n), p)
            for n, p in _walk(self, descend=recurse)
            if isinstance(p, Parameter)
        ]

    def parameters(self, recurse: bool = True) -> list[Parameter]:
        """The Parameters, in attribute order, each once (a list, as micrograd's)."""
        return [p for _, p in self.named_parameters(recurse=recurse)]

    def _every_parameter_name(self) -> list[tuple[str, Parameter]]:
        return [(n, p) for n, p in _walk(self, unique=False) if isinstance(p, Parameter)]

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Keep ``tensor`` as ``self.<name>``: state that is not trained, such as a batch
        norm's running mean. It is no Parameter (the optimizer leaves it alone), and if
        ``persistent`` it is saved and loaded with the Parameters by the state dicts."""
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"register_buffer: the name must be an identifier, got {name!r}")
        if name == "_buffers" or (
            hasattr(self, name) and name not in self.__dict__.get("_buffers", ())
        ):
            raise KeyError(  # as PyTorch: a Parameter, a submodule, a method, training...
                f"register_buffer: attribute {name!r} already exists "
                f"({type(getattr(self, name, None)).__name__})"
            )
        if not _fits_a_buffer(tensor):
            raise TypeError(
                f"register_buffer: {name!r} must be a Tensor (or None), not a "
                f"{type(tensor).__name__}"
            )
        if "_buffers" not in self.__dict__:
            object.__setattr__(self, "_buffers", {})
        self._buffers[name] = bool(persistent)
        object.__setattr__(self, name, tensor)

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> list[tuple[str, Tensor]]:
        """``(name, Tensor)`` pairs of the buffers, module by module as ``modules()``,
        each tensor once; ``prefix`` and ``recurse`` as in ``named_parameters``."""
        seen: set[int] = set()
        return [
            (_prefixed(prefix, n), b)
            for n, b, _ in self._every_buffer_name(unique=True, recurse=recurse)
            if not (id(b) in seen or seen.add(id(b)))
        ]

    def buffers(self, recurse: bool = True) -> list[Tensor]:
        return [b for _, b in self.named_buffers(recurse=recurse)]

    def _every_buffer_name(
        self, unique: bool = False, recurse: bool = True
    ) -> list[tuple[str, Tensor, bool]]:
        """(dotted name, tensor, persistent) of every buffer that is not None."""
        found = []
        for prefix, module in _walk(self, unique=unique) if recurse else [("", self)]:
            if isinstance(module, Module):
                for name, persistent in module.__dict__.get("_buffers", {}).items():
                    tensor = module.__dict__.get(name)
                    if tensor is not None:
                        found.append((_prefixed(prefix, name), tensor, persistent))
        return found

    def _every_state_name(self) -> list[tuple[str, Tensor]]:
        """What the state dicts hold: the Parameters, then the persistent buffers."""
        buffers = [(n, b) for n, b, persistent in self._every_buffer_name() if persistent]
        return self._every_parameter_name() + buffers

    def named_modules(self) -> list[tuple[str, Module]]:
        """``(name, Module)`` pairs, this module first (named ``""``), then pre-order."""
        return [(n, m) for n, m in _walk(self) if isinstance(m, Module)]

    def modules(self) -> list[Module]:
        """This module and every submodule, pre-order, each once."""
        return [m for n, m in _walk(self) if isinstance(m, Module)]

    def named_children(self) -> list[tuple[str, Module]]:
        """The direct submodules (also those inside lists, tuples and dicts), each once."""
        return _children(self)

    def children(self) -> list[Module]:
        return [m for _, m in self.named_children()]

    def num_parameters(self, trainable_only: bool = False) -> int:
        """How many numbers the Parameters hold."""
        return sum(p.data.size for p in self.parameters() if p.requires_grad or not trainable_only)

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every submodule, then on this module, as PyTorch orders it (each
        child's subtree in turn, children before parents); returns ``self``.
        ``model.apply(init_weights)`` is the usual use."""
        stack: list[tuple[Module, bool, tuple]] = [(self, False, ())]  # (module, expanded, above)
        while stack:
            module, expanded, above = stack.pop()
            if expanded:
                fn(module)
                continue
            stack.append((module, True, above))
            above += (id(module),)  # a reference back up the tree is not followed
            kids = [m for m in module.children() if id(m) not in above]
            stack.extend((m, False, above) for m in reversed(kids))
        return self

    # -- dtype ----------------------------------------------------------------------------

    def to(self, target: Any) -> Module:
        """Cast every Parameter and floating buffer (and their gradients) to a floating
        dtype, in place: the objects stay, so an optimizer made before still holds them.
        The device ``"cpu"`` changes nothing (PyTorch's ``model.to(device)``). Returns
        ``self``."""
        dtype = target_dtype("Module.to", target)
        if dtype is None:
            return self
        for t in [*self.parameters(), *self.buffers()]:
            if t.data.dtype.kind != "f" or t.data.dtype == dtype:
                continue  # an integer buffer (a count) stays, as in PyTorch
            grad = t.grad
            t.data = t.data.astype(dtype)
            mark_changed(t)  # a graph made before reads the old values: it may not run
            if grad is not None:
                t.grad = Tensor(grad.data.astype(dtype))
        return self

    def float(self) -> Module:
        """``to(np.float32)``: single precision, PyTorch's default."""
        return self.to(np.float32)

    def double(self) -> Module:
        """``to(np.float64)``: tensorgrad's default."""
        return self.to(np.float64)

    # -- training helpers ---------------------------------------------------------------

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set ``requires_grad`` on every Parameter (False freezes them); returns ``self``."""
        if not isinstance(requires_grad, bool | np.bool_):  # before any parameter changes
            raise TypeError(
                f"requires_grad_: requires_grad must be True or False, got {requires_grad!r}"
            )
        for p in self.parameters():
            p.requires_grad = bool(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every Parameter's ``.grad``: ``None`` (PyTorch's default) or zeros."""
        zero_grads(self.parameters(), set_to_none)

    def train(self, mode: bool = True) -> Module:
        """Set ``training`` on this module and every submodule; returns ``self``.

        A submodule that overrides ``train`` gets the call, as in PyTorch, and sets its own
        part of the tree (it may keep a Dropout in eval mode, say).
        """
        running = _train_running.__dict__.setdefault("ids", set())
        if id(self) in running:  # reached again through a reference back up the tree
            return self
        running.add(id(self))
        try:
            self.training = bool(mode)
            seen = {id(self)}
            stack = self.children()[::-1]
            while stack:
                m = stack.pop()
                if id(m) in seen or id(m) in running:
                    continue
                seen.add(id(m))
                if type(m).train is not Module.train:
                    m.train(mode)
                else:
                    m.training = bool(mode)
                    stack.extend(m.children()[::-1])
        finally:
            running.discard(id(self))
        return self

    def eval(self) -> Module:
        """``train(False)``: e.g. ``Dropout`` stops dropping."""
        return self.train(False)

    # -- state dicts --------------------------------------------------------------------

    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """An ordered ``name -> ndarray`` dict of copies of the Parameters' data, then of
        the persistent buffers'.

        A Parameter shared by two modules (tied weights) is listed under each of its
        names, as PyTorch does, so the names match the model's attributes one to one.
        """
        return OrderedDict((n, p.data.copy()) for n, p in self._every_state_name())

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True
    ) -> IncompatibleKeys:
        """Copy ``state_dict``'s arrays into the Parameters and buffers, all or nothing.

        Every entry is checked first. Missing and unexpected names (when ``strict``)
        and entries of the wrong shape or kind (always) are reported together in one
        ``RuntimeError`` -- the type PyTorch raises -- and then nothing has changed.
        Values are cast to each Parameter's dtype. Returns the missing and unexpected
        names (empty when ``strict``).
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict: expected a mapping, got {type(state_dict).__name__}")
        own = dict(self._every_state_name())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        problems, arrays = [], {}
        for name, p in own.items():
            if name not in state_dict:
                continue
            value = state_dict[name]
            if isinstance(value, Tensor):
                value = value.data
            try:
                arr = np.asarray(value)
            except Exception as exc:  # e.g. ragged lists
                problems.append(f"{name}: cannot be read as an array ({exc})")
                continue
            if arr.dtype.kind not in "biuf":
                problems.append(f"{name}: dtype {arr.dtype} is not numeric")
            elif not p.data.flags.writeable:  # e.g. a buffer that is a broadcast view
                problems.append(f"{name}: the model's array is read-only, it cannot be loaded")
            elif arr.shape != p.data.shape:
                problems.append(
                    f"size mismatch for {name}: shape {arr.shape} in the state dict, "
                    f"{p.data.shape} in the model"
                )
            else:
                arrays[name] = arr
        lines = []
        if strict and missing:
            lines.append("Missing key(s): " + ", ".join(f'"{k}"' for k in missing) + ".")
        if strict and unexpected:
            lines.append("Unexpected key(s): " + ", ".join(f'"{k}"' for k in unexpected) + ".")
        lines += problems
        if lines:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__} (nothing was "
                "changed):\n\t" + "\n\t".join(lines)
            )
        for name, arr in arrays.items():
            np.copyto(own[name].data, arr, casting="unsafe")
            mark_changed(own[name])  # a graph made before reads the old values: it will refuse
        return IncompatibleKeys(missing, unexpected)

    # -- printing -----------------------------------------------------------------------

    def extra_repr(self) -> str:
        """The settings shown between the parentheses (override in subclasses)."""
        return ""

    def __repr__(self) -> str:
        """PyTorch-style tree of the submodules; composite modules add a parameter count."""
        lines: list[str] = []
        # Entries: (depth, name, module, ids of the modules above), or (depth, None, text, ()).
        stack: list[tuple[int, str | None, Any, tuple]] = [(0, "", self, ())]
        while stack:
            depth, name, item, above = stack.pop()
            pad = "  " * depth
            if name is None:
                lines.append(pad + item)
                continue
            head = f"{pad}({name}): " if name else pad
            if id(item) in above:  # a reference back up the tree: shown above already
                lines.append(f"{head}{type(item).__name__}(...)  # a module above this one")
                continue
            extra = item.extra_repr()
            kids = _children(item, unique=False)  # a module used twice shows twice
            if not kids:
                body = extra.replace("\n", "\n" + pad + "  ")
                lines.append(f"{head}{type(item).__name__}({body})")
                continue
            lines.append(f"{head}{type(item).__name__}(")
            for line in extra.split("\n") if extra else []:
                lines.append(pad + "  " + line)
            stack.append((depth, None, ")", ()))
            above += (id(item),)
            stack.extend((depth + 1, n, m, above) for n, m in reversed(kids))
        if self.named_children():
            total = self.num_parameters()
            trainable = self.num_parameters(trainable_only=True)
            note = f" ({trainable:,} trainable)" if trainable != total else ""
            lines.append(f"Total parameters: {total:,}{note}")
        return "\n".join(lines)
