"""The default random generator of tensorgrad (``randn``, ``rand``, layer initialisation)."""

from __future__ import annotations

import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the default generator, so models and random tensors are reproducible."""
    global _generator
    _generator = np.random.default_rng(seed)
    return _generator


def default_rng() -> np.random.Generator:
    """The generator used when no ``rng=`` is given."""
    return _generator
