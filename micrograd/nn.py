"""Neurons, layers and MLPs on ``Value`` -- the classic micrograd API, unchanged.

``Neuron(nin, nonlin=True)``, ``Layer(nin, nout, **kwargs)``, ``MLP(nin, nouts)``,
each with ``parameters()`` and ``zero_grad()``. A neuron computes Σ wᵢxᵢ + b as one
n-ary sum node over its products (fewer nodes and a clearer drawing than a chain of
binary adds), which the backward pass takes as one step (see ``weighted_sum``);
``activation`` picks ReLU (the classic default), tanh, sigmoid or none.
"""

from __future__ import annotations

import numbers
import random
from collections.abc import Iterable

from .engine import Value, weighted_sum

__all__ = ["Module", "Neuron", "Layer", "MLP"]

_ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")


def _count(where: str, name: str, value) -> int:
    """A number of inputs or neurons: an int >= 0 (range() would take -1 as 0 silently)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{where}: {name} must be an int, got {value!r}")
    if value < 0:
        raise ValueError(f"{where}: {name} must not be negative, got {value}")
    return int(value)


def layer_sizes(where: str, nin, nouts) -> list[int]:
    """``[nin, *nouts]`` as ints >= 0; ``nouts`` any ordered iterable of sizes (a list, a
    tuple, an array, a generator), but not one number, nor a set or a dict (a set drops
    repeated sizes and orders the rest by hash)."""
    refused = TypeError(f"{where}: nouts must be a list of layer sizes, got {nouts!r}")
    if isinstance(nouts, str | bytes | set | frozenset | dict) or not isinstance(nouts, Iterable):
        raise refused
    try:
        nouts = list(nouts)
    except TypeError:  # a 0-d array is Iterable, but iterating it fails
        raise refused from None
    return [_count(where, "a layer size", n) for n in [nin, *nouts]]


def check_activation(where: str, activation) -> None:
    """One of the activations both engines' MLPs know, else a ValueError naming ``where``."""
    if activation not in _ACTIVATIONS:
        raise ValueError(f"{where}: activation must be one of {_ACTIVATIONS}, got {activation!r}")


class Module:
    """Base class: ``parameters()`` lists the Values to train; ``zero_grad`` resets them."""

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0.0

    def parameters(self) -> list[Value]:
        return []


class Neuron(Module):
    """One neuron: act(Σ wᵢxᵢ + b), weights uniform in [-1, 1], bias 0 (as the classic)."""

    def __init__(self, nin: int, nonlin: bool = True, activation: str | None = None) -> None:
        if activation is None:
            activation = "relu" if nonlin else "linear"
        check_activation("Neuron", activation)
        self.w = [Value(random.uniform(-1, 1)) for _ in range(_count("Neuron", "nin", nin))]
        self.b = Value(0)
        self.activation = activation

    @property
    def nonlin(self) -> bool:
        """The classic flag: False for a linear neuron. Setting it (as classic code may,
        after construction) switches between linear and ReLU (keeping tanh or sigmoid)."""
        return self.activation != "linear"

    @nonlin.setter
    def nonlin(self, value: bool) -> None:
        if not value:
            self.activation = "linear"
        elif self.activation == "linear":
            self.activation = "relu"

    def __call__(self, x) -> Value:
        if not hasattr(x, "__len__"):  # a generator or iterator, as the classic zip takes
            x = list(x)
        if len(x) != len(self.w):  # the classic zip would drop extra inputs silently
            raise ValueError(
                f"Neuron: expected {len(self.w)} inputs, got {len(x)} (pass x[:{len(self.w)}] "
                "to use the first ones)"
            )
        act = weighted_sum(self.w, x, self.b)  # its _prev shows the products wᵢxᵢ
        if self.activation == "linear":
            return act
        return getattr(act, self.activation)()

    def parameters(self) -> list[Value]:
        return self.w + [self.b]

    def __repr__(self) -> str:
        name = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "linear": "Linear"}
        return f"{name[self.activation]}Neuron({len(self.w)})"


class Layer(Module):
    """``nout`` neurons that see the same inputs; returns a list (one Value if nout == 1)."""

    def __init__(self, nin: int, nout: int, **kwargs) -> None:
        nin = _count("Layer", "nin", nin)
        self.neurons = [Neuron(nin, **kwargs) for _ in range(_count("Layer", "nout", nout))]

    def __call__(self, x):
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):
    """Layers of sizes ``nouts`` on ``nin`` inputs; every layer but the last is nonlinear."""

    def __init__(self, nin: int, nouts: list[int], activation: str = "relu") -> None:
        check_activation("MLP", activation)  # the last layer is linear: checked here too
        sizes = layer_sizes("MLP", nin, nouts)
        last = len(sizes) - 2
        self.layers = [
            Layer(sizes[i], sizes[i + 1], activation=activation if i != last else "linear")
            for i in range(len(sizes) - 1)
        ]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"
