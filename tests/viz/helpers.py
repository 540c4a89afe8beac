"""Shared bits for the viz tests: the `dot` skip marker, a fake tensor node, SVG parsing."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest

needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None, reason="graphviz's dot program is not installed"
)

SVG_NS = "{http://www.w3.org/2000/svg}"


def svg_texts(svg: str | bytes) -> list[str]:
    """Every <text> string of an SVG (parsing it as XML: it must be well formed)."""
    root = ET.fromstring(svg)
    return [el.text or "" for el in root.iter(f"{SVG_NS}text")]


def svg_tags(svg: str | bytes) -> set[str]:
    return {el.tag.replace(SVG_NS, "") for el in ET.fromstring(svg).iter()}


def value_node_ids(source: str) -> list[str]:
    """The ids of graph nodes (not op nodes, not the summary) in a DOT source."""
    return re.findall(r"^\s*(n\d+) \[", source, flags=re.M)


class FakeTensor:
    """A minimal node following tensorgrad's protocol (elementwise + and *, sum)."""

    def __init__(self, data, requires_grad=False, prev=(), op="", label=""):
        self.data = np.asarray(data, dtype=np.float64) if not isinstance(data, np.ndarray) else data
        self.grad = None
        self.requires_grad = requires_grad or any(p.requires_grad for p in prev)
        self._prev = tuple(prev)
        self._depth = 1 + max(p._depth for p in prev) if prev else 0
        self._pass_grad = None
        self._op = op
        self.label = label

    @property
    def _parents(self):  # the backward core walks these; no fused nodes here
        return self._prev

    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def is_leaf(self):
        return not self._prev

    def __add__(self, other):
        return FakeTensor(self.data + other.data, prev=(self, other), op="+")

    def __mul__(self, other):
        return FakeTensor(self.data * other.data, prev=(self, other), op="*")

    def sum(self):
        return FakeTensor(np.asarray(self.data.sum()), prev=(self,), op="sum")

    def _vjp(self, g, graph):
        a = [p.data for p in self._prev]
        if self._op == "+":
            return g, g
        if self._op == "*":
            return g * a[1], g * a[0]
        if self._op == "sum":
            return (np.broadcast_to(g, a[0].shape).copy(),)
        raise RuntimeError(self._op)

    def _seed(self, gradient, graph):
        return np.ones(self.data.shape) if gradient is None else np.asarray(gradient)


class FakeGrad:
    """A stand-in for a gradient Tensor: only ``.data``."""

    def __init__(self, data):
        self.data = np.asarray(data, dtype=np.float64)
