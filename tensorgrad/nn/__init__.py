"""Neural-network building blocks: modules, layers, initialisation and functional ops.

``Module`` / ``Parameter`` (module.py), ``Linear``, ``Sequential``, ``ReLU``, ``Tanh``,
``Sigmoid``, ``Dropout``, ``MLP`` and loss modules (layers.py), ``init`` (weight
initialisation and the default random generator) and ``functional`` (losses and
activations as functions).
"""

from . import functional, init, layers
from .layers import (
    MLP,
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    Dropout,
    Identity,
    Linear,
    MSELoss,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
)
from .module import IncompatibleKeys, Module, Parameter

__all__ = ["Module", "Parameter", "IncompatibleKeys", *layers.__all__, "functional", "init"]
