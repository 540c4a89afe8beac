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


def as_generator(rng) -> np.random.Generator:
    """``None`` -> the default generator; an int -> a fresh seeded one; a Generator as is."""
    if rng is None:
        return _generator
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, int | np.integer) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(
        f"rng must be None, an int seed or a numpy.random.Generator, got {type(rng).__name__}"
    )
