"""The gradient of a gather (``table[ids]``, ``x[i, j]``): a scatter-add, both ways it runs.

Small gradients go through ``np.add.at`` with the index itself; from
``FLAT_SCATTER_MIN`` elements on, through flat positions. Every expected value here is
the definition worked out by a Python loop: each element the forward picked sends its
upstream gradient back to the place it was picked from.
"""

from __future__ import annotations

import tracemalloc
from unittest import mock

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tensorgrad as tg
from tensorgrad.ops import _dual

from ..oracle import torch


def routes_taken(monkeypatch) -> list:
    """What ``_row_starts`` answers in each backward that asks it (None: no flat route)."""
    answers = []
    real = _dual._row_starts

    def spy(index, shape):
        answers.append(real(index, shape))
        return answers[-1]

    monkeypatch.setattr(_dual, "_row_starts", spy)
    return answers


def scatter_by_loop(shape: tuple, arrays: tuple, g: np.ndarray) -> np.ndarray:
    """Zeros of ``shape`` with ``g`` added where ``x[arrays]`` picked each of its rows."""
    out = np.zeros(shape, dtype=np.float64)
    picks = np.broadcast_arrays(*arrays)
    for where in np.ndindex(picks[0].shape if picks else ()):
        out[tuple(int(p[where]) for p in picks)] += g[where]
    return out


@st.composite
def gathers(draw):
    """A shape of 2-4 axes and integer arrays (broadcast together, negatives and repeats
    included) on 1 to ndim - 1 of its leading axes: whole rows are picked."""
    shape = draw(hnp.array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=4))
    k = draw(st.integers(1, len(shape) - 1))
    subs = draw(hnp.mutually_broadcastable_shapes(num_shapes=k, max_dims=2, min_side=0, max_side=4))
    dtype = draw(st.sampled_from([np.int8, np.int64, np.uint16]))
    arrays = []
    for n, sub in zip(shape[:k], subs.input_shapes):
        low = 0 if np.dtype(dtype).kind == "u" else -n
        arrays.append(draw(hnp.arrays(dtype, sub, elements=st.integers(low, n - 1))))
    seed = draw(st.integers(0, 2**32 - 1))
    block = draw(st.sampled_from([1, 5, _dual.SCATTER_BLOCK]))
    return shape, tuple(arrays), np.random.default_rng(seed), block


@given(gathers())
def test_flat_scatter_matches_the_definition(case) -> None:
    """The flat route on every shape the strategy draws, however small (the threshold
    is set to 0 so that it runs), in blocks of one pick or a few elements too."""
    shape, arrays, rng, block = case
    x = tg.tensor(rng.standard_normal(shape), requires_grad=True)
    index = arrays[0] if len(arrays) == 1 else arrays
    with (
        mock.patch.object(_dual, "FLAT_SCATTER_MIN", 0),
        mock.patch.object(_dual, "SCATTER_BLOCK", block),
    ):
        y = x[index]
        g = rng.standard_normal(y.shape)
        y.backward(gradient=g)
    np.testing.assert_allclose(x.grad.data, scatter_by_loop(shape, arrays, g), atol=1e-12)


def large_gather(rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An embedding lookup with repeats and negative ids, big enough for the flat route."""
    table = rng.standard_normal((1000, 8)).astype(np.float32)
    ids = rng.integers(-1000, 1000, (300, 4))
    g = rng.standard_normal((300, 4, 8)).astype(np.float32)
    assert g.size >= _dual.FLAT_SCATTER_MIN
    assert len(np.unique(ids % 1000)) < ids.size  # some rows are picked more than once
    return table, ids, g


def test_large_gather_takes_the_flat_route_and_keeps_float32(monkeypatch) -> None:
    table, ids, g = large_gather(np.random.default_rng(0))
    x = tg.tensor(table, requires_grad=True)
    routes = routes_taken(monkeypatch)
    x[ids].backward(gradient=g)
    assert len(routes) == 1 and routes[0] is not None
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.data, scatter_by_loop(table.shape, (ids,), g), rtol=1e-5)


@pytest.mark.parametrize("ids_shape", [(20_000,), (1, 20_000), (20_000, 1)])
def test_the_flat_positions_take_a_block_at_a_time(monkeypatch, ids_shape) -> None:
    """Positions are 8 bytes for every gradient element: built all at once for 20,000 rows
    of 64 they take 10 MiB. In blocks of 4,096 they take 32 KiB, however the ids are
    shaped (blocks once ran along the ids' first axis only: a batch of one was not split).
    The peak is counted by tracemalloc, which sees NumPy's allocations."""
    rng = np.random.default_rng(5)
    shape = (2000, 64)
    ids = rng.integers(0, shape[0], ids_shape)
    g = rng.standard_normal(ids_shape + shape[1:]).astype(np.float32)
    monkeypatch.setattr(_dual, "SCATTER_BLOCK", 4096)
    tracemalloc.start()
    try:
        got = _dual.scatter_add(g, shape, ids, basic=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    made = got.nbytes + ids.size * 8  # the result (500 KiB), a start for each row (156 KiB)
    assert peak < made + 256 * 1024, (peak, made)  # a block of positions (32 KiB), NumPy's own
    np.testing.assert_allclose(got, scatter_by_loop(shape, (ids,), g), rtol=1e-5, atol=1e-5)


def test_large_gather_on_two_axes_with_broadcast_arrays() -> None:
    """``x[i[:, None], j]`` on a 3-D x: rows of the last axis, picked by pairs."""
    rng = np.random.default_rng(1)
    x = tg.tensor(rng.standard_normal((20, 30, 8)), requires_grad=True)
    i = rng.integers(-20, 20, (40, 1))
    j = rng.integers(0, 30, 6)
    y = x[i, j]
    g = rng.standard_normal(y.shape)
    assert g.size >= _dual.FLAT_SCATTER_MIN
    y.backward(gradient=g)
    np.testing.assert_allclose(x.grad.data, scatter_by_loop(x.shape, (i, j), g), atol=1e-12)


def test_second_derivative_through_a_large_gather() -> None:
    """Hand math: y = x[ids], f = Σ y³ w, h = Σ ∂f/∂x · v = Σ 3 y² w v[ids];
    so ∂h/∂x is the scatter of 6 y w v[ids]."""
    rng = np.random.default_rng(2)
    table = rng.standard_normal((200, 8))
    ids = rng.integers(-200, 200, 500)
    w = rng.standard_normal((500, 8))
    v = rng.standard_normal((200, 8))
    x = tg.tensor(table, requires_grad=True)
    y = x[ids]
    (gx,) = tg.grad((y**3 * w).sum(), [x], create_graph=True)
    (gx * v).sum().backward()
    picked = table[ids]
    expected = scatter_by_loop(table.shape, (ids,), 6 * picked * w * v[ids])
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-10, atol=1e-12)


def test_large_gather_matches_torch() -> None:
    table, ids, g = large_gather(np.random.default_rng(3))
    x = tg.tensor(table, requires_grad=True)
    x[ids].backward(gradient=g)
    tx = torch.tensor(table, requires_grad=True)
    tx[torch.tensor(ids)].backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "shape, index",
    [
        ((2000,), np.arange(2000) % 7),  # every axis indexed: NumPy's own loop is fast
        ((8, 2000), (slice(None), np.arange(2000) % 7)),  # a slice first: as given
        ((4000,), np.arange(4000) % 7 < 3),  # a mask: as given
    ],
    ids=["all-axes", "slice-then-array", "mask"],
)
def test_other_indices_keep_the_plain_route(monkeypatch, shape, index) -> None:
    rng = np.random.default_rng(4)
    data = rng.standard_normal(shape)
    x = tg.tensor(data, requires_grad=True)
    y = x[index]
    g = rng.standard_normal(y.shape)
    assert g.size >= _dual.FLAT_SCATTER_MIN
    routes = routes_taken(monkeypatch)
    y.backward(gradient=g)
    assert routes == [None]
    expected = np.zeros_like(data)
    np.add.at(expected, index, g)
    np.testing.assert_allclose(x.grad.data, expected, atol=1e-12)
