"""Optimizers (``SGD``, ``Adam``, ``AdamW``) and learning-rate schedules (``lr_scheduler``),
with PyTorch's names and update rules."""

from . import lr_scheduler
from .optimizers import SGD, Adam, AdamW, Optimizer, zero_grads

__all__ = ["Optimizer", "SGD", "Adam", "AdamW"]
