"""Toy data sets and mini-batches, NumPy only.

Every generator returns ``(X, y)``: ``X`` a float64 array of shape ``(n, n_features)``
and ``y`` an int64 array of shape ``(n,)`` holding class labels ``0 .. n_classes - 1``
(so moons and circles are labelled 0/1, as in scikit-learn; for a max-margin loss
use ``y * 2 - 1``). Points are shuffled unless ``shuffle=False``, in which case they
come grouped by class.

``rng`` may be ``None`` (use tensorgrad's default generator, see
``tensorgrad.nn.init.manual_seed``), an ``int`` seed, or a ``numpy.random.Generator``.
The same seed always gives the same data. Bad arguments raise ``TypeError`` (wrong type)
or ``ValueError`` (out of range) naming the function, the argument and the value, before
any random number is drawn.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from .nn.init import _as_rng

__all__ = ["make_moons", "make_circles", "make_spirals", "make_blobs", "batches", "load_digits"]

RngLike = np.random.Generator | int | None


def _check(fn: str, name: str, value, kind: type, low=None, high=None):
    """``value`` as ``kind`` (``int``, or a finite ``float``) in ``[low, high)``.

    A wrong type raises TypeError, a wrong value ValueError; both name ``fn``, ``name`` and it.
    """
    bounds = " and ".join(f"{op} {b}" for op, b in ((">=", low), ("<", high)) if b is not None)
    want = f"{'an integer' if kind is int else 'a finite number'} {bounds}".rstrip()
    kinds = int | np.integer if kind is int else int | float | np.integer | np.floating
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise TypeError(f"{fn}: {name} must be {want}, got {value!r} ({type(value).__name__})")
    number = kind(value)
    if not (
        math.isfinite(number) and (low is None or number >= low) and (high is None or number < high)
    ):
        raise ValueError(f"{fn}: {name} must be {want}, got {value!r}")
    return number


def _noise(fn: str, noise) -> float:
    return 0.0 if noise is None else _check(fn, "noise", noise, float, 0)


def _finish(X, y, noise: float, shuffle: bool, gen: np.random.Generator):
    if shuffle:
        order = gen.permutation(len(y))
        X, y = X[order], y[order]
    if noise:
        X = X + gen.normal(scale=noise, size=X.shape)
    return np.ascontiguousarray(X, dtype=np.float64), y.astype(np.int64)


def _split(fn: str, n_samples) -> tuple[int, int]:
    if isinstance(n_samples, tuple | list):
        if len(n_samples) != 2:
            raise ValueError(
                f"{fn}: n_samples must be an int or a pair (n0, n1), got {n_samples!r}"
            )
        n0, n1 = n_samples
        return _check(fn, "n_samples[0]", n0, int, 0), _check(fn, "n_samples[1]", n1, int, 0)
    n = _check(fn, "n_samples", n_samples, int, 1)
    return n // 2, n - n // 2


def make_moons(
    n_samples: int | tuple[int, int] = 100,
    noise: float | None = 0.1,
    rng: RngLike = None,
    shuffle: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (scikit-learn's construction).

    Label 0 is the upper moon (centred at (0, 0)), label 1 the lower one (centred at
    (1, 0.5)); ``n_samples`` is a total (split as evenly as possible) or a pair
    ``(n0, n1)``. Gaussian noise of std ``noise`` is added to every coordinate.
    """
    n0, n1 = _split("make_moons", n_samples)
    noise = _noise("make_moons", noise)
    gen = _as_rng(rng)
    t0, t1 = np.linspace(0, np.pi, n0), np.linspace(0, np.pi, n1)
    X = np.concatenate(
        [np.stack([np.cos(t0), np.sin(t0)], 1), np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], 1)]
    )
    y = np.repeat([0, 1], [n0, n1])
    return _finish(X, y, noise, shuffle, gen)


def make_circles(
    n_samples: int | tuple[int, int] = 100,
    noise: float | None = 0.05,
    factor: float = 0.5,
    rng: RngLike = None,
    shuffle: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """A circle of radius 1 (label 0) around one of radius ``factor`` (label 1)."""
    factor = _check("make_circles", "factor", factor, float, 0, 1)
    n0, n1 = _split("make_circles", n_samples)
    noise = _noise("make_circles", noise)
    gen = _as_rng(rng)
    t0 = np.linspace(0, 2 * np.pi, n0, endpoint=False)
    t1 = np.linspace(0, 2 * np.pi, n1, endpoint=False)
    X = np.concatenate(
        [np.stack([np.cos(t0), np.sin(t0)], 1), factor * np.stack([np.cos(t1), np.sin(t1)], 1)]
    )
    y = np.repeat([0, 1], [n0, n1])
    return _finish(X, y, noise, shuffle, gen)


def make_spirals(
    n_per_class: int = 100,
    n_classes: int = 3,
    noise: float | None = 0.2,
    rng: RngLike = None,
    shuffle: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """``n_classes`` interleaved spiral arms in the unit disc (the CS231n data set).

    Arm ``k`` has radius growing linearly from 0 to 1 and angle from ``4k`` to
    ``4(k + 1)`` radians; ``noise`` is the std of Gaussian noise added to the angle.
    Returns ``n_per_class * n_classes`` points.
    """
    n = _check("make_spirals", "n_per_class", n_per_class, int, 1)
    k = _check("make_spirals", "n_classes", n_classes, int, 1)
    noise = _noise("make_spirals", noise)
    gen = _as_rng(rng)
    r = np.tile(np.linspace(0.0, 1.0, n), k)
    y = np.repeat(np.arange(k), n)
    t = np.concatenate([np.linspace(4.0 * c, 4.0 * (c + 1), n) for c in range(k)])
    if noise:
        t = t + gen.normal(scale=noise, size=t.shape)
    X = np.stack([r * np.sin(t), r * np.cos(t)], 1)
    return _finish(X, y, 0.0, shuffle, gen)


def make_blobs(
    n_samples: int = 100,
    centers: int | np.ndarray = 3,
    n_features: int = 2,
    cluster_std: float = 1.0,
    center_box: tuple[float, float] = (-10.0, 10.0),
    rng: RngLike = None,
    shuffle: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Isotropic Gaussian blobs; label ``k`` is the blob around ``centers[k]``.

    ``centers`` is a count (centres drawn uniformly in ``center_box``) or an array of
    shape ``(k, n_features)``. ``n_samples`` is split as evenly as possible.
    """
    fn = "make_blobs"
    n = _check(fn, "n_samples", n_samples, int, 1)
    std = _check(fn, "cluster_std", cluster_std, float, 0)
    try:
        lo, hi = center_box
    except (TypeError, ValueError):
        raise ValueError(
            f"{fn}: center_box must be a pair (low, high), got {center_box!r}"
        ) from None
    lo = _check(fn, "center_box[0]", lo, float)
    hi = _check(fn, "center_box[1]", hi, float, lo)
    centres = None  # drawn below, once every argument is checked
    if isinstance(centers, int | np.integer) and not isinstance(centers, bool):
        k = _check(fn, "centers", centers, int, 1)
        d = _check(fn, "n_features", n_features, int, 1)
    else:
        try:
            centres = np.asarray(centers, dtype=np.float64)
        except (TypeError, ValueError):
            centres = np.zeros(0)
        if centres.ndim != 2 or centres.size == 0 or not np.isfinite(centres).all():
            raise ValueError(
                f"{fn}: centers must be a count or a (k, n_features) array of finite numbers, "
                f"got {centers!r}"
            )
        k = len(centres)
    gen = _as_rng(rng)
    if centres is None:
        centres = gen.uniform(lo, hi, size=(k, d))
    counts = np.full(k, n // k)
    counts[: n % k] += 1
    y = np.repeat(np.arange(k), counts)
    X = centres[y] + gen.normal(scale=std, size=(n, centres.shape[1]))
    return _finish(X, y, 0.0, shuffle, gen)


def batches(
    X,
    y=None,
    batch_size: int = 32,
    shuffle: bool = True,
    rng: RngLike = None,
) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    """Yield ``(X_batch, y_batch)`` pairs covering the data once (an epoch).

    The last batch is kept even when it is smaller than ``batch_size``. With
    ``shuffle=True`` the order is a fresh permutation drawn from ``rng``; otherwise
    the batches are consecutive slices. ``y`` may be ``None`` (then ``y_batch`` is
    ``None``). Batches are NumPy arrays; wrap them with ``tg.tensor`` as needed.
    Arguments are checked at the call; batches are drawn as they are asked for.
    """
    size = _check("batches", "batch_size", batch_size, int, 1)
    X = np.asarray(X)
    if X.ndim == 0:
        raise ValueError(f"batches: X must be an array of rows, got a 0-d value {X!r}")
    if y is not None:
        y = np.asarray(y)
        if y.shape[:1] != X.shape[:1]:
            raise ValueError(f"batches: X has {len(X)} rows but y has shape {y.shape}")
    return _batches(X, y, size, _as_rng(rng) if shuffle else None)


def _batches(X: np.ndarray, y, size: int, gen: np.random.Generator | None):
    """The generator behind ``batches`` (which checks the arguments at the call)."""
    n = len(X)
    order = None if gen is None else gen.permutation(n)
    for start in range(0, n, size):
        if order is None:
            idx = slice(start, start + size)
        else:
            idx = order[start : start + size]
        yield X[idx], (None if y is None else y[idx])


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled 8x8 handwritten digits: ``X`` (1797, 64) in [0, 1], ``y`` 0..9.

    Needs scikit-learn (an optional extra, not a dependency of tensorgrad); the data
    ships with it, so nothing is downloaded.
    """
    try:
        from sklearn.datasets import load_digits as _sk_load_digits
    except ImportError as exc:
        raise ImportError(
            "tensorgrad.data.load_digits needs scikit-learn, which is optional: "
            "install it with `pip install scikit-learn` (or `pip install 'minigrad[test]'`)"
        ) from exc
    bunch = _sk_load_digits()
    X = np.asarray(bunch.data, dtype=np.float64) / 16.0
    y = np.asarray(bunch.target, dtype=np.int64)
    return X, y
