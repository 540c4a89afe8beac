"""micrograd: a scalar autodiff engine that makes the chain rule visible.

A drop-in superset of the classic micrograd API (``micrograd.engine.Value``,
``micrograd.nn``), built on the backward core in ``micrograd.autodiff`` that the
tensor engine (``tensorgrad``) shares.
"""

from .autodiff import enable_grad, grad, is_grad_enabled, no_grad, set_grad_enabled
from .engine import Value, add_all, weighted_sum

__all__ = [
    "Value",
    "add_all",
    "weighted_sum",
    "grad",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
]
