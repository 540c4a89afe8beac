"""Containers of named submodules: ``Sequential``, ``ModuleList`` and ``ModuleDict``.

Each submodule is an attribute under its name (``"0"``, ``"1"``, ... or a dict's key), so
parameter and state dict names match PyTorch's (``"blocks.0.weight"``) and a
``ModuleDict``'s entries read as attributes (``self.layers.proj``).
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .module import Module

__all__ = ["Sequential", "ModuleList", "ModuleDict"]


class _Named(Module):
    """Submodules under names, in order: what the three containers share."""

    def __init__(self) -> None:
        super().__init__()
        self._names: list[str] = []

    def _check(self, name: str, module: Any, new: bool = True) -> None:
        op = type(self).__name__
        if not isinstance(name, str):
            raise TypeError(f"{op}: module names are strings, got {name!r}")
        if not isinstance(module, Module):
            raise TypeError(f"{op}: {name!r} is a {type(module).__name__}, not a Module")
        if not new:
            return
        # A name becomes an attribute: it may not hide a method (forward, parameters, ...)
        # nor contain the "." that separates names in a state dict, as in PyTorch.
        if name in self._names or name in vars(self) or hasattr(type(self), name):
            raise ValueError(f"{op}: duplicate or reserved name {name!r}")
        if not name or "." in name:
            raise ValueError(f"{op}: a module name must be non-empty without '.', got {name!r}")

    def _add_all(self, items: Iterable[tuple[str, Any]]) -> None:
        """Add ``(name, module)`` pairs, all checked before any is added."""
        items = list(items)
        names = set(self._names)
        for name, module in items:
            self._check(name, module, new=name not in names)  # ModuleDict may replace one
            names.add(name)
        for name, module in items:
            setattr(self, name, module)  # a new name joins the order (__setattr__)

    def _replace_all(self, items: list[tuple[str, Module]]) -> None:
        """Drop every submodule, then add ``items``, all checked first (a ModuleList's
        insertion or removal renumbers the rest)."""
        for name, module in items:
            self._check(name, module, new=False)
        for name in list(self._names):
            delattr(self, name)
        self._add_all(items)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self.__dict__.get("_names", ()) and not isinstance(value, Module):
            raise TypeError(  # as PyTorch: an entry holds a module
                f"{type(self).__name__}: {name!r} is an entry; assign a Module to it, "
                f"not a {type(value).__name__}"
            )
        super().__setattr__(name, value)
        # a module set as an attribute is one of the container's, as in PyTorch
        if isinstance(value, Module) and not name.startswith("_") and name not in self._names:
            self._names.append(name)

    def __delattr__(self, name: str) -> None:
        super().__delattr__(name)
        if name in self.__dict__.get("_names", ()):
            self._names.remove(name)

    def _position(self, index: int) -> str:
        """The name at position ``index`` (negative counts from the end)."""
        n = len(self._names)
        if not -n <= operator.index(index) < n:
            raise IndexError(
                f"{type(self).__name__}: index {index} is out of range for {n} modules"
            )
        return self._names[index]

    def __len__(self) -> int:
        return len(self._names)

    def _modules_in_order(self) -> list[Module]:
        return [getattr(self, n) for n in self._names]


class Sequential(_Named):
    """Modules applied in order. ``Sequential(m0, m1, ...)`` or ``Sequential({"name": m})``.

    Indexing gives a module (an int) or a new ``Sequential`` whose modules keep their
    names (a slice), as in PyTorch; ``len`` and iteration work.
    """

    def __init__(self, *modules: Module | Mapping[str, Module]) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            self._add_all((str(k), m) for k, m in modules[0].items())
        else:
            self._add_all((str(i), m) for i, m in enumerate(modules))

    def append(self, module: Module) -> Sequential:
        """Add a module at the end; returns ``self``."""
        self._add_all([(str(len(self)), module)])
        return self

    def forward(self, x: Any) -> Any:
        for m in self:
            x = m(x)
        return x

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules_in_order())

    def __getitem__(self, index: int | slice) -> Module:
        if isinstance(index, slice):
            return Sequential({n: getattr(self, n) for n in self._names[index]})
        return getattr(self, self._position(index))


class ModuleList(_Named):
    """A list of modules whose parameters the model owns (``for block in self.blocks``).

    It has no ``forward``: call its modules. A slice gives a new ``ModuleList``
    numbered from 0, as in PyTorch.
    """

    def __init__(self, modules: Iterable[Module] = ()) -> None:
        super().__init__()
        self.extend(modules)

    def append(self, module: Module) -> ModuleList:
        self._add_all([(str(len(self)), module)])
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        self._add_all((str(len(self) + i), m) for i, m in enumerate(modules))
        return self

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules_in_order())

    def __getitem__(self, index: int | slice) -> Module | ModuleList:
        if isinstance(index, slice):
            return ModuleList(self._modules_in_order()[index])
        return getattr(self, self._position(index))

    def __setitem__(self, index: int, module: Module) -> None:
        name = self._position(index)
        self._check(name, module, new=False)
        setattr(self, name, module)

    def insert(self, index: int, module: Module) -> None:
        modules = self._modules_in_order()
        modules.insert(index, module)
        self._replace_all([(str(i), m) for i, m in enumerate(modules)])

    def __delitem__(self, index: int | slice) -> None:
        modules = self._modules_in_order()
        if not isinstance(index, slice):
            self._position(index)  # an IndexError naming the list
        del modules[index]
        self._replace_all([(str(i), m) for i, m in enumerate(modules)])

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList([*self, *other])


class ModuleDict(_Named):
    """Modules by name, in insertion order; a dict's methods, and attribute access."""

    def __init__(self, modules: Mapping[str, Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        """Add or replace entries from a dict, a ModuleDict or ``(name, module)`` pairs."""
        items = modules.items() if isinstance(modules, Mapping | ModuleDict) else modules
        pairs = []
        for item in items:
            if isinstance(item, str | bytes) or not hasattr(item, "__len__") or len(item) != 2:
                raise TypeError(f"ModuleDict: expected (name, module) pairs, got {item!r}")
            pairs.append(tuple(item))
        self._add_all(pairs)

    def __getitem__(self, key: str) -> Module:
        if key not in self._names:
            raise KeyError(f"ModuleDict has no module {key!r} (it has {self._names})")
        return getattr(self, key)

    def __setitem__(self, key: str, module: Module) -> None:
        self._add_all([(key, module)])

    def __delitem__(self, key: str) -> None:
        self[key]  # a KeyError naming the keys
        delattr(self, key)

    def pop(self, key: str) -> Module:
        module = self[key]
        delattr(self, key)
        return module

    def clear(self) -> None:
        for key in list(self._names):
            delattr(self, key)

    def __contains__(self, key: object) -> bool:
        return key in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._names))

    def keys(self) -> list[str]:
        return list(self._names)

    def values(self) -> list[Module]:
        return self._modules_in_order()

    def items(self) -> list[tuple[str, Module]]:
        return list(zip(self._names, self._modules_in_order()))
