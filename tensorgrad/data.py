"""Toy data sets and mini-batches, NumPy only.

Every generator returns ``(X, y)``: ``X`` a float64 array of shape ``(n, n_features)``
and ``y`` an int64 array of shape ``(n,)`` holding class labels ``0 .. n_classes - 1``
(so moons and circles are labelled 0/1, as in scikit-learn; for a max-margin loss
use ``y * 2 - 1``). Points are shuffled unless ``shuffle=False``, in which case they
come grouped by class.

``rng`` may be ``None`` (use tensorgrad's default generator, see
``tensorgrad.nn.init.manual_seed``), an ``int`` seed, or a ``numpy.random.Generator``.
The same seed always gives the same data.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .nn.init import _as_rng

__all__ = ["make_moons", "make_circles", "make_spirals", "make_blobs", "batches", "load_digits"]

RngLike = np.random.Generator | int | None


def _count(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _noise(noise) -> float:
    if noise is None:
        return 0.0
    noise = float(noise)
    if not noise >= 0:  # also catches nan
        raise ValueError(f"noise must be a number >= 0, got {noise!r}")
    return noise


def _finish(X, y, noise: float, shuffle: bool, gen: np.random.Generator):
    if shuffle:
        order = gen.permutation(len(y))
        X, y = X[order], y[order]
    if noise:
        X = X + gen.normal(scale=noise, size=X.shape)
    return np.ascontiguousarray(X, dtype=np.float64), y.astype(np.int64)


def _split(n_samples) -> tuple[int, int]:
    if isinstance(n_samples, tuple | list):
        if len(n_samples) != 2:
            raise ValueError(f"n_samples must be an int or a pair (n0, n1), got {n_samples!r}")
        return _count("n_samples[0]", n_samples[0], 0), _count("n_samples[1]", n_samples[1], 0)
    n = _count("n_samples", n_samples)
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
    n0, n1 = _split(n_samples)
    noise = _noise(noise)
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
    if not 0 <= factor < 1:
        raise ValueError(f"factor must be in [0, 1), got {factor!r}")
    n0, n1 = _split(n_samples)
    noise = _noise(noise)
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
    n = _count("n_per_class", n_per_class)
    k = _count("n_classes", n_classes)
    noise = _noise(noise)
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
    n = _count("n_samples", n_samples)
    gen = _as_rng(rng)
    if isinstance(centers, int | np.integer) and not isinstance(centers, bool):
        k = _count("centers", centers)
        d = _count("n_features", n_features)
        lo, hi = center_box
        centres = gen.uniform(lo, hi, size=(k, d))
    else:
        centres = np.asarray(centers, dtype=np.float64)
        if centres.ndim != 2 or len(centres) == 0:
            raise ValueError(f"centers must be a count or a (k, n_features) array, got {centers!r}")
        k = len(centres)
    std = float(cluster_std)
    if not std >= 0:
        raise ValueError(f"cluster_std must be >= 0, got {cluster_std!r}")
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
    """
    size = _count("batch_size", batch_size)
    X = np.asarray(X)
    n = len(X)
    if y is not None:
        y = np.asarray(y)
        if len(y) != n:
            raise ValueError(f"batches: X has {n} rows but y has {len(y)}")
    order = _as_rng(rng).permutation(n) if shuffle else None
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
