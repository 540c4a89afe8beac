"""Toy data sets and mini-batches (tensorgrad.data)."""

import numpy as np
import pytest

from tensorgrad import data
from tensorgrad.nn import init

GENERATORS = [
    (data.make_moons, {"n_samples": 101}, 101, 2),
    (data.make_circles, {"n_samples": 101}, 101, 2),
    (data.make_spirals, {"n_per_class": 50, "n_classes": 4}, 200, 4),
    (data.make_blobs, {"n_samples": 101, "centers": 3, "n_features": 5}, 101, 3),
]


@pytest.mark.parametrize("make, kwargs, n, k", GENERATORS)
def test_shapes_dtypes_labels_and_seeding(make, kwargs, n, k):
    X, y = make(**kwargs, rng=3)
    assert X.dtype == np.float64 and y.dtype == np.int64
    assert X.shape[0] == y.shape[0] == n and X.ndim == 2 and y.ndim == 1
    assert set(np.unique(y)) == set(range(k))
    counts = np.bincount(y)
    assert counts.max() - counts.min() <= 1  # classes are balanced
    X2, y2 = make(**kwargs, rng=3)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, _ = make(**kwargs, rng=4)
    assert not np.array_equal(X, X3)
    gen = np.random.default_rng(3)
    X4, _ = make(**kwargs, rng=gen)  # a Generator works too, and is advanced
    X5, _ = make(**kwargs, rng=gen)
    assert not np.array_equal(X4, X5)


@pytest.mark.parametrize("make, kwargs, n, k", GENERATORS)
def test_default_generator_follows_manual_seed(make, kwargs, n, k):
    init.manual_seed(7)
    X1, y1 = make(**kwargs)
    init.manual_seed(7)
    X2, y2 = make(**kwargs)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)


def test_moons_without_noise_match_scikit_learn_geometry():
    X, y = data.make_moons(n_samples=(7, 9), noise=0, shuffle=False)
    assert (y[:7] == 0).all() and (y[7:] == 1).all()
    np.testing.assert_allclose(np.hypot(X[:7, 0], X[:7, 1]), 1.0)  # upper moon: unit circle
    np.testing.assert_allclose(np.hypot(X[7:, 0] - 1, X[7:, 1] - 0.5), 1.0)
    assert (X[:7, 1] >= -1e-12).all() and (X[7:, 1] <= 0.5 + 1e-12).all()
    sk = pytest.importorskip("sklearn.datasets", reason="scikit-learn not installed")
    Xs, ys = sk.make_moons(n_samples=(7, 9), noise=None, shuffle=False)
    np.testing.assert_allclose(X, Xs, atol=1e-12)
    np.testing.assert_array_equal(y, ys)


def test_circles_radii_and_noise_scale():
    X, y = data.make_circles(n_samples=200, noise=0, factor=0.3, rng=0)
    r = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(r[y == 0], 1.0)
    np.testing.assert_allclose(r[y == 1], 0.3)
    Xn, yn = data.make_circles(n_samples=20000, noise=0.05, factor=0.3, rng=0)
    rn = np.hypot(Xn[:, 0], Xn[:, 1])
    assert abs(np.std(rn[yn == 0] - 1.0) - 0.05) < 0.005


def test_spirals_radius_and_arms():
    X, y = data.make_spirals(n_per_class=30, n_classes=3, noise=0, shuffle=False)
    r = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(r[:30], np.linspace(0, 1, 30))
    assert (y == np.repeat([0, 1, 2], 30)).all()
    # noise perturbs the angle only: radii are unchanged
    Xn, yn = data.make_spirals(n_per_class=30, n_classes=3, noise=0.5, shuffle=False, rng=1)
    np.testing.assert_allclose(np.hypot(Xn[:, 0], Xn[:, 1]), r)
    assert not np.allclose(Xn, X)


def test_blobs_cluster_around_given_centres():
    centres = np.array([[0.0, 0.0], [10.0, -10.0]])
    X, y = data.make_blobs(n_samples=4000, centers=centres, cluster_std=0.5, rng=0)
    for k in range(2):
        np.testing.assert_allclose(X[y == k].mean(0), centres[k], atol=0.05)
        np.testing.assert_allclose(X[y == k].std(0), 0.5, atol=0.03)


@pytest.mark.parametrize(
    "call",
    [
        lambda: data.make_moons(n_samples=0),
        lambda: data.make_moons(noise=-1),
        lambda: data.make_moons(n_samples=(1, 2, 3)),
        lambda: data.make_circles(factor=1.5),
        lambda: data.make_spirals(n_classes=0),
        lambda: data.make_blobs(centers=0),
        lambda: data.make_blobs(cluster_std=-1),
        lambda: data.batches(np.zeros((3, 2)), np.zeros(3), batch_size=0),  # at the call,
        lambda: data.batches(np.zeros((3, 2)), np.zeros(4), batch_size=2),  # not on next()
    ],
)
def test_bad_arguments_raise_value_error(call):
    with pytest.raises(ValueError):
        call()


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: data.make_circles(factor="a"), TypeError, "make_circles: factor .* 'a'"),
        (lambda: data.make_circles(factor=np.nan), ValueError, "make_circles: factor .* nan"),
        (lambda: data.make_blobs(center_box=(5, -5)), ValueError, r"make_blobs: center_box.* -5"),
        (lambda: data.make_blobs(center_box=5), ValueError, "make_blobs: center_box .* 5"),
        (lambda: data.make_blobs(cluster_std="a"), TypeError, "make_blobs: cluster_std .* 'a'"),
        (lambda: data.make_blobs(centers=[[1, "a"]]), ValueError, "make_blobs: centers .*'a'"),
        (lambda: data.make_blobs(n_features=0), ValueError, "make_blobs: n_features .* 0"),
        (lambda: data.make_moons(n_samples=-3), ValueError, "make_moons: n_samples .* -3"),
        (lambda: data.make_moons(n_samples=2.5), TypeError, "make_moons: n_samples .* 2.5"),
        (lambda: data.make_moons(noise="x"), TypeError, "make_moons: noise .* 'x'"),
        (lambda: data.make_circles(noise=-1), ValueError, "make_circles: noise .* -1"),
        (lambda: data.make_spirals(noise=np.inf), ValueError, "make_spirals: noise .* inf"),
        (lambda: data.make_spirals(n_per_class=None), TypeError, "make_spirals: n_per_class"),
        (lambda: data.batches(np.zeros(3), batch_size=1.0), TypeError, "batches: batch_size"),
        (lambda: data.batches(5), ValueError, "batches: X .* 0-d"),
        (lambda: data.batches(np.zeros((3, 2)), np.zeros(4)), ValueError, r"batches: .*3.*\(4,\)"),
    ],
)
def test_bad_arguments_name_the_function_argument_and_value(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_bad_arguments_draw_no_random_numbers():
    gen = np.random.default_rng(0)
    state = gen.bit_generator.state
    with pytest.raises(ValueError, match="cluster_std"):
        data.make_blobs(centers=3, cluster_std=-1, rng=gen)
    assert gen.bit_generator.state == state


def test_batches_stay_lazy():
    gen = np.random.default_rng(0)
    state = gen.bit_generator.state
    it = data.batches(np.zeros((5, 2)), np.arange(5), batch_size=2, rng=gen)
    assert gen.bit_generator.state == state  # nothing is drawn before the first batch
    assert [len(yb) for _, yb in it] == [2, 2, 1]


def test_bad_rng_type():
    with pytest.raises(TypeError, match="rng"):
        data.make_moons(rng="seed")


@pytest.mark.parametrize("shuffle", [True, False])
def test_batches_cover_the_data_once_and_keep_the_last_partial_batch(shuffle):
    X = np.arange(23 * 2).reshape(23, 2)
    y = np.arange(23)
    out = list(data.batches(X, y, batch_size=5, shuffle=shuffle, rng=0))
    assert [len(b[0]) for b in out] == [5, 5, 5, 5, 3]
    ys = np.concatenate([b[1] for b in out])
    assert sorted(ys) == list(range(23))
    assert (ys == np.arange(23)).all() != shuffle
    for xb, yb in out:  # rows stay paired with their labels
        np.testing.assert_array_equal(xb, X[yb])


def test_batches_shuffle_is_seeded_and_y_may_be_none():
    X = np.arange(10.0)[:, None]
    a = [xb.ravel().tolist() for xb, _ in data.batches(X, None, batch_size=4, rng=1)]
    b = [xb.ravel().tolist() for xb, _ in data.batches(X, None, batch_size=4, rng=1)]
    assert a == b
    assert all(yb is None for _, yb in data.batches(X, None, batch_size=4, rng=1))


def test_load_digits():
    pytest.importorskip("sklearn", reason="scikit-learn (optional) is not installed")
    X, y = data.load_digits()
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert X.dtype == np.float64 and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    assert set(np.unique(y)) == set(range(10))


def test_load_digits_without_sklearn_says_how_to_install(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "sklearn" or name.startswith("sklearn."):
            raise ImportError("No module named 'sklearn'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        data.load_digits()
