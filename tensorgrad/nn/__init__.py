"""Neural-network building blocks: modules, layers, initialisation and functional ops.

``Module`` / ``Parameter`` (module.py), ``Linear``, ``Sequential``, ``ReLU``, ``Tanh``,
``Sigmoid``, ``Dropout``, ``Embedding``, ``LayerNorm``, ``BatchNorm1d``, ``MLP`` and loss
modules (layers.py), ``init`` (weight initialisation and the default random generator),
``functional`` (losses, activations and normalisations as functions) and ``utils``
(gradient clipping).
"""

from . import functional, init, layers, utils
from .layers import (
    MLP,
    BatchNorm1d,
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    Dropout,
    Embedding,
    Identity,
    LayerNorm,
    Linear,
    MSELoss,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
)
from .module import IncompatibleKeys, Module, Parameter

__all__ = [
    "Module",
    "Parameter",
    "IncompatibleKeys",
    *layers.__all__,
    "functional",
    "init",
    "utils",
]
