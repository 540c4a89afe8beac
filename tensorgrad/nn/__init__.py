"""Neural-network building blocks: modules, layers, initialisation and functional ops.

``Module`` / ``Parameter`` (module.py), ``Sequential``, ``ModuleList``, ``ModuleDict``
(containers.py), ``Linear``, ``ReLU``, ``Tanh``, ``Sigmoid``, ``GELU``, ``Dropout``,
``Embedding``, ``LayerNorm``, ``BatchNorm1d``, ``MLP`` and loss modules (layers.py),
``init`` (weight initialisation and the default random generator), ``functional``
(losses, activations and normalisations as functions) and ``utils`` (gradient clipping).
"""

from . import containers, functional, init, layers, utils
from .containers import ModuleDict, ModuleList, Sequential
from .layers import (
    GELU,
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
    Sigmoid,
    Tanh,
)
from .module import IncompatibleKeys, Module, Parameter

__all__ = [
    "Module",
    "Parameter",
    "IncompatibleKeys",
    *containers.__all__,
    *layers.__all__,
    "functional",
    "init",
    "utils",
]
