"""``save`` / ``load``: state dicts (and other nested data) as one ``.npz`` file, no pickle.

The file holds every array under its own key (``a0``, ``a1``, ...) plus one string
entry, ``__minigrad__``, with the structure as JSON: a tree of tagged nodes, e.g.
``["dict", [[key, value], ...]]``, ``["array", "a3"]``, ``["float", "0.1"]``. Floats are
written with ``repr`` so they round-trip exactly (nan and inf included); dict keys
keep their type (an optimizer's state is keyed by int). Loading uses
``np.load(path, allow_pickle=False)``, so a file holding pickled objects is refused.

Supported values: ``dict`` / ``OrderedDict`` (keys: str, int, float, bool, None or
tuples of those; a NumPy number key is stored as the Python number it equals), ``list``,
``tuple``, NumPy arrays (not object arrays), NumPy scalars, Python ``int`` / ``float`` /
``bool`` / ``str`` / ``None``, and Tensors (restored as Tensors with their dtype and
``requires_grad``; a Parameter comes back as a Parameter), nested at most 100 containers
deep (``json``, which writes and reads the header, recurses).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
import stat
import zipfile
from collections import OrderedDict
from typing import Any

import numpy as np

__all__ = ["save", "load"]

_HEADER = "__minigrad__"
_FORMAT = "minigrad.npz"
_VERSION = 1
_NPY_MAGIC = b"\x93NUMPY"  # how every .npy file starts
_ZIP_MAGIC = b"PK"  # ... every .npz (a zip archive)
_PICKLE_MAGIC = b"\x80"  # ... a pickle (protocol 2 and later)
_MAX_DEPTH = 100  # nested containers; each is up to 3 JSON levels, and json recurses


def _tensor_types():
    from .nn.module import Parameter
    from .tensor import Tensor

    return Tensor, Parameter


_SCALAR_TYPES = (type(None), bool, int, float, str)


def _scalar(item: Any) -> list:
    """A Python None/bool/int/float/str as a JSON node (floats by repr: exact, nan/inf ok)."""
    if item is None:
        return ["none"]
    if isinstance(item, bool):
        return ["bool", item]
    if isinstance(item, int):
        return ["int", str(item)]
    if isinstance(item, float):
        return ["float", repr(float(item))]
    return ["str", item]


class _Writer:
    """Walks an object iteratively (an explicit stack), collecting arrays and the JSON tree."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self.tensor_types: tuple | None = None

    def _array(self, arr: np.ndarray, where: str) -> str:
        if arr.dtype.hasobject:
            raise TypeError(f"save: {where} is an object array, which would need pickle")
        key = f"a{len(self.arrays)}"
        self.arrays[key] = arr
        return key

    def encode(self, obj: Any, key: bool = False, depth: int = 0) -> list:
        """The JSON tree of ``obj``; with ``key=True`` only scalars and tuples are allowed."""
        root: list = []
        # Each stack entry: (object, the list its encoding is appended to, path for messages,
        # nesting depth); a _CLOSE entry marks the end of a container's children (for cycle
        # detection).
        stack: list[tuple[Any, Any, str, int]] = [(obj, root, "obj", depth)]
        open_ids: set[int] = set()
        while stack:
            item, out, where, depth = stack.pop()
            if key and isinstance(item, np.number | np.bool_):
                item = item.item()  # np.int64(1) as a key is stored as 1, an equal key
            if item is _CLOSE:
                open_ids.discard(out)
            elif not key and isinstance(item, np.generic):  # before float: np.float64 is one
                out.append(["scalar", self._array(np.asarray(item), where)])
            elif isinstance(item, _SCALAR_TYPES):
                out.append(_scalar(item))
            elif isinstance(item, tuple) or (not key and isinstance(item, list | dict)):
                if id(item) in open_ids:
                    raise ValueError(f"save: {where} contains itself")
                if depth >= _MAX_DEPTH:
                    raise ValueError(
                        f"save: obj is nested more than {_MAX_DEPTH} dicts, lists or tuples "
                        "deep, the limit for the file's JSON header"
                    )
                open_ids.add(id(item))
                stack.append((_CLOSE, id(item), where, depth))
                if isinstance(item, dict):
                    node: list = ["odict" if isinstance(item, OrderedDict) else "dict", []]
                    for k, v in reversed(item.items()):
                        pair: list = [self.encode(k, key=True, depth=depth + 1)]
                        node[1].append(pair)
                        stack.append((v, pair, f"{where}[{k!r}]", depth + 1))
                    node[1].reverse()
                else:
                    node = ["list" if isinstance(item, list) else "tuple", []]
                    for i in reversed(range(len(item))):
                        node[1].append(slot := [])
                        stack.append((item[i], slot, f"{where}[{i}]", depth + 1))
                    node[1].reverse()
                out.append(node)
            elif key:
                raise TypeError(f"save: dict key {item!r} is not a str, number, None or tuple")
            elif isinstance(item, np.ndarray):
                out.append(["array", self._array(item, where)])
            else:
                if self.tensor_types is None:
                    self.tensor_types = _tensor_types()
                tensor, parameter = self.tensor_types
                if not isinstance(item, tensor):
                    raise TypeError(
                        f"save: cannot store {type(item).__name__} at {where} without pickle; "
                        "use dicts, lists, tuples, arrays, numbers, strings, None or Tensors"
                    )
                tag = "parameter" if isinstance(item, parameter) else "tensor"
                out.append([tag, self._array(item.data, where), bool(item.requires_grad)])
        return _unwrap(root[0])


def _unwrap(node: list) -> list:
    """Containers above hold one-element "slots"; flatten them into the final tree."""
    stack = [node]
    while stack:
        n = stack.pop()
        if n[0] in ("list", "tuple"):
            n[1] = [slot[0] for slot in n[1]]
            stack.extend(n[1])
        elif n[0] in ("dict", "odict"):
            n[1] = [[pair[0], pair[1]] for pair in n[1]]
            stack.extend(pair[1] for pair in n[1])
    return node


_CLOSE = object()  # stack marker: a container's children are done


def save(obj: Any, path: str | os.PathLike, compress: bool = False) -> None:
    """Write ``obj`` (e.g. ``model.state_dict()``) to ``path`` as one ``.npz`` file.

    The file is written under ``path`` exactly (no ``.npz`` suffix is appended) and
    atomically: a failure leaves any previous file intact. It gets the mode ``open()``
    would give: an existing file keeps its mode, a new one gets ``0o666 & ~umask``.
    An ``OSError`` names ``path``, not the temporary file.
    """
    writer = _Writer()
    tree = writer.encode(obj)
    header = json.dumps({"format": _FORMAT, "version": _VERSION, "tree": tree})
    entries = {_HEADER: np.array(header), **writer.arrays}
    path = os.fspath(path)
    try:
        _write(path, entries, compress)
    except OSError as exc:
        if exc.errno is None:
            raise
        raise type(exc)(exc.errno, f"save: {exc.strerror}", path) from None


def _write(path: str, entries: dict[str, np.ndarray], compress: bool) -> None:
    """Write a temporary file beside ``path``, then rename it over ``path``."""
    try:
        old = os.stat(path)
    except FileNotFoundError:
        old = None
    if old is not None and stat.S_ISDIR(old.st_mode):  # say so before writing anything
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
    folder = os.path.dirname(os.path.abspath(path))
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = os.path.join(folder, f".tmp-{secrets.token_hex(8)}.npz")
        with contextlib.suppress(FileExistsError):
            fd = os.open(tmp, flags, 0o666)  # not mkstemp: its 0o600 would ignore the umask
            break
    else:
        raise FileExistsError(errno.EEXIST, "no free temporary file name", folder)
    try:
        with os.fdopen(fd, "wb") as f:
            (np.savez_compressed if compress else np.savez)(f, **entries)
        if old is not None:
            os.chmod(tmp, stat.S_IMODE(old.st_mode))  # an existing file keeps its mode
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def _refuse_pickle(path: str) -> ValueError:
    return ValueError(
        f"load: {path!r} holds pickled objects; refusing to load it, since unpickling can "
        "run arbitrary code"
    )


def load(path: str | os.PathLike) -> Any:
    """Read what ``save`` wrote. A plain ``.npz`` (from ``np.savez``) gives a dict of arrays.

    Raises ``ValueError`` naming the file if it holds pickled (object) arrays, is a single
    ``.npy`` array, or is not a valid file.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:  # what kind of file, before NumPy reads any of it
        magic = f.read(len(_NPY_MAGIC))
    if magic == _NPY_MAGIC:
        raise ValueError(
            f"load: {path!r} is a single .npy array, not an .npz archive; "
            "read it with np.load, or write it with tg.save or np.savez"
        )
    if magic[:1] == _PICKLE_MAGIC:
        raise _refuse_pickle(path)
    if magic[:2] != _ZIP_MAGIC:
        raise ValueError(f"load: {path!r} is not an .npz file (it is not a zip archive)")
    try:
        with np.load(path, allow_pickle=False) as npz:
            stray = [m for m in npz.zip.namelist() if not m.endswith((".npy", "/"))]
            arrays = {} if stray else {name: npz[name] for name in npz.files}
    except ValueError as exc:
        if "allow_pickle" in str(exc) or "pickle" in str(exc).lower():
            raise _refuse_pickle(path) from None
        raise ValueError(f"load: {path!r} is not a valid .npz file: {exc}") from exc
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise ValueError(f"load: {path!r} is not a valid .npz file: {exc}") from exc
    if stray:  # NpzFile would hand such members out as raw bytes
        raise ValueError(
            f"load: {path!r} is a zip archive but not an .npz file: its member {stray[0]!r} "
            "is not a .npy array (a PyTorch checkpoint? read it with torch.load and pass "
            "{name: t.numpy()} to load_state_dict)"
        )
    if _HEADER not in arrays:
        return arrays
    try:
        header = json.loads(str(arrays.pop(_HEADER)))
        if not isinstance(header, dict):
            raise ValueError(f"a JSON {type(header).__name__}, not an object")
        if header.get("format") != _FORMAT:
            raise ValueError(f"unknown format {header.get('format')!r}")
        if header.get("version", 0) > _VERSION:
            raise ValueError(f"written by a newer version ({header['version']})")
        return _decode(header["tree"], arrays)
    except (
        KeyError,
        TypeError,
        IndexError,
        ValueError,
        json.JSONDecodeError,
        RecursionError,
    ) as exc:
        raise ValueError(f"load: {path!r} has a damaged minigrad header: {exc}") from exc


def _decode(tree: list, arrays: dict[str, np.ndarray]) -> Any:
    """Rebuild the object from its JSON tree, iteratively."""
    tensor_types = None
    root: list = [None]
    # Entries: (node, container, index): the decoded node goes to container[index].
    # A (_CLOSE, items, (container, index)) entry turns a finished list into a tuple.
    stack: list = [(tree, root, 0)]
    while stack:
        node, container, index = stack.pop()
        if node is _CLOSE:
            target, i = index
            target[i] = tuple(container)
            continue
        tag = node[0]
        if tag == "none":
            value = None
        elif tag == "bool":
            value = bool(node[1])
        elif tag == "int":
            value = int(node[1])
        elif tag == "float":
            value = float(node[1])
        elif tag == "str":
            value = str(node[1])
        elif tag == "array":
            value = arrays[node[1]]
        elif tag == "scalar":
            value = arrays[node[1]][()]
        elif tag in ("tensor", "parameter"):
            if tensor_types is None:
                tensor_types = _tensor_types()
            cls = tensor_types[1] if tag == "parameter" else tensor_types[0]
            data = arrays[node[1]]
            value = cls(data, requires_grad=bool(node[2]), dtype=data.dtype)  # ints stay ints
        elif tag in ("dict", "odict"):
            value = OrderedDict() if tag == "odict" else {}
            pairs = [(_decode(k, {}), v) for k, v in node[1]]  # keys: scalars and tuples
            for k, _ in pairs:
                value[k] = None  # fix the saved order now; values are filled in below
            stack.extend((v, value, k) for k, v in reversed(pairs))
        elif tag in ("list", "tuple"):
            value = [None] * len(node[1])
            if tag == "tuple":
                stack.append((_CLOSE, value, (container, index)))
            stack.extend((child, value, i) for i, child in reversed(list(enumerate(node[1]))))
        else:
            raise ValueError(f"unknown node tag {tag!r}")
        container[index] = value
    return root[0]
