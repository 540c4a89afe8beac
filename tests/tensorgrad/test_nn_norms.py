"""Embedding, LayerNorm and BatchNorm1d (and their functional forms) against PyTorch,
finite differences and hand math."""

import warnings

import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad import nn
from tensorgrad.nn import functional as F

from ..oracle import torch

RNG = np.random.default_rng(7)


def copy_affine(ours, theirs) -> None:
    """Random scale and shift in both layers (they start as ones and zeros)."""
    for name in ("weight", "bias"):
        if getattr(ours, name) is not None:
            values = RNG.standard_normal(getattr(ours, name).shape)
            getattr(ours, name).data[...] = values
            with torch.no_grad():
                getattr(theirs, name).copy_(torch.tensor(values))


def assert_step_matches(ours, theirs, x: np.ndarray) -> None:
    """One forward and backward with a random upstream gradient: output, input gradient
    and the Parameters' gradients agree."""
    g = RNG.standard_normal(x.shape)
    xt = tg.tensor(x, requires_grad=True)
    y = ours(xt)
    y.backward(gradient=g)
    xth = torch.tensor(x, requires_grad=True)
    yth = theirs(xth)
    yth.backward(torch.tensor(g))
    np.testing.assert_allclose(y.data, yth.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(xt.grad.data, xth.grad.numpy(), rtol=1e-9, atol=1e-12)
    for name, p in ours.named_parameters():
        want = dict(theirs.named_parameters())[name].grad.numpy()
        np.testing.assert_allclose(p.grad.data, want, rtol=1e-9, atol=1e-12)
    ours.zero_grad()
    theirs.zero_grad()


# ----------------------------------------------------------------------------- BatchNorm1d


@pytest.mark.parametrize("momentum", [0.1, 0.5, None], ids=str)
@pytest.mark.parametrize("shape", [(8, 4), (5, 4, 3)], ids=str)
def test_batch_norm_trains_and_evaluates_as_torch(shape, momentum) -> None:
    """Three training batches (batch statistics; running mean and unbiased variance follow,
    with momentum None their plain average), then eval mode with the running statistics."""
    ours = nn.BatchNorm1d(4, momentum=momentum)
    theirs = torch.nn.BatchNorm1d(4, momentum=momentum, dtype=torch.float64)
    copy_affine(ours, theirs)
    for _ in range(3):
        assert_step_matches(ours, theirs, RNG.standard_normal(shape) * 3 + 1)
        np.testing.assert_allclose(ours.running_mean.data, theirs.running_mean.numpy())
        np.testing.assert_allclose(ours.running_var.data, theirs.running_var.numpy())
    ours.eval()
    theirs.eval()
    assert_step_matches(ours, theirs, RNG.standard_normal(shape))
    state, their_state = ours.state_dict(), theirs.state_dict()
    assert list(state) == list(their_state)
    assert state["num_batches_tracked"] == 3 and state["num_batches_tracked"].dtype == np.int64


@pytest.mark.parametrize("affine, bias", [(True, True), (False, True), (True, False)])
def test_batch_norm_without_running_stats_uses_the_batch_in_eval_too(affine, bias) -> None:
    ours = nn.BatchNorm1d(3, affine=affine, track_running_stats=False, bias=bias)
    theirs = torch.nn.BatchNorm1d(
        3, affine=affine, track_running_stats=False, dtype=torch.float64, bias=bias
    )
    copy_affine(ours, theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for mode in (True, False):
        ours.train(mode)
        theirs.train(mode)
        assert_step_matches(ours, theirs, RNG.standard_normal((6, 3)))


def test_batch_norm_by_hand() -> None:
    """x = [1, 3] in one channel: mean 2, variance 1, so y = ∓1/sqrt(1 + eps); the running
    mean moves 0.1 of the way to 2 (0.2), the running variance 0.1 of the way from 1 to the
    unbiased variance 2 (1.1). d(Σ w·y)/dx for w = [1, 0]: y₁ = (x₁ - x₂)/(2s) with
    s = sqrt(1 + eps) here, so dy₁/dx₁ = 1/(2s) - (x₁ - m)·(x₁ - m)/(2 s³) = 1/(2s) - 1/(2s³)."""
    bn = nn.BatchNorm1d(1)
    x = tg.tensor([[1.0], [3.0]], requires_grad=True)
    y = bn(x)
    s = np.sqrt(1 + 1e-5)
    np.testing.assert_allclose(y.data, [[-1 / s], [1 / s]])
    np.testing.assert_allclose(bn.running_mean.data, [0.2])
    np.testing.assert_allclose(bn.running_var.data, [1.1])
    y.backward(gradient=np.array([[1.0], [0.0]]))
    dx1 = 1 / (2 * s) - 1 / (2 * s**3)
    np.testing.assert_allclose(x.grad.data, [[dx1], [-dx1]], atol=1e-15)


def test_batch_norm_refuses_bad_batches_and_changes_nothing() -> None:
    bn = nn.BatchNorm1d(3)
    before = {k: v.copy() for k, v in bn.state_dict().items()}
    with pytest.raises(ValueError, match=r"more than 1 value per channel.*\(1, 3\)"):
        bn(tg.ones((1, 3)))
    with pytest.raises(
        ValueError,
        match=r"running_mean has shape \(3,\), expected \(2,\) \(.* the input \(4, 2\)\)",
    ):
        bn(tg.ones((4, 2)))
    with pytest.raises(ValueError, match=r"\(N, C\) or \(N, C, L\) input, got \(2, 3, 1, 1\)"):
        bn(tg.ones((2, 3, 1, 1)))
    for k, v in bn.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_batch_norm_state_round_trips_through_a_file(tmp_path) -> None:
    bn = nn.BatchNorm1d(2)
    for _ in range(2):
        bn(tg.tensor(RNG.standard_normal((5, 2))))
    tg.save(bn.state_dict(), tmp_path / "bn.npz")
    fresh = nn.BatchNorm1d(2)
    fresh.load_state_dict(tg.load(tmp_path / "bn.npz"))
    for name, value in bn.state_dict().items():
        np.testing.assert_array_equal(fresh.state_dict()[name], value)
    x = RNG.standard_normal((3, 2))
    np.testing.assert_array_equal(fresh.eval()(x).data, bn.eval()(x).data)


# ----------------------------------------------------------------------------- LayerNorm


@pytest.mark.parametrize(
    "shape, normalized, kwargs",
    [
        ((4, 5), 5, {}),
        ((2, 3, 4), (3, 4), {}),
        ((3, 4), (4,), {"elementwise_affine": False}),
        ((3, 4), 4, {"bias": False}),
        ((4,), 4, {}),
    ],
    ids=str,
)
def test_layer_norm_matches_torch(shape, normalized, kwargs) -> None:
    ours = nn.LayerNorm(normalized, **kwargs)
    theirs = torch.nn.LayerNorm(normalized, dtype=torch.float64, **kwargs)
    copy_affine(ours, theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert_step_matches(ours, theirs, RNG.standard_normal(shape) * 2 - 1)


def test_layer_norm_second_derivative_matches_torch() -> None:
    """A Hessian-vector product through the normalisation (its rules are plain ops)."""
    x0, w, v = (RNG.standard_normal((3, 4)) for _ in range(3))
    x = tg.tensor(x0, requires_grad=True)
    (g,) = tg.grad((F.layer_norm(x, 4) * w).sum() ** 2, x, create_graph=True)
    (hv,) = tg.grad((g * v).sum(), x)
    xt = torch.tensor(x0, requires_grad=True)
    out = (torch.nn.functional.layer_norm(xt, (4,)) * torch.tensor(w)).sum() ** 2
    (gt,) = torch.autograd.grad(out, xt, create_graph=True)
    (hvt,) = torch.autograd.grad((gt * torch.tensor(v)).sum(), xt)
    np.testing.assert_allclose(g.data, gt.detach().numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(hv.data, hvt.numpy(), rtol=1e-8, atol=1e-10)


def test_normalisations_pass_gradcheck() -> None:
    x, w, b = (tg.tensor(RNG.standard_normal(s), requires_grad=True) for s in ((5, 3), 3, 3))
    assert tg.gradcheck(lambda x, w, b: F.layer_norm(x, 3, w, b), [x, w, b])
    rm, rv = tg.zeros(3), tg.ones(3)
    assert tg.gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=True), [x, w, b])
    assert tg.gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b), [x, w, b])


def test_layer_norm_keeps_float32_and_names_bad_shapes() -> None:
    ln = nn.LayerNorm(4, dtype=np.float32)
    x = tg.tensor(RNG.standard_normal((2, 4)).astype(np.float32), requires_grad=True)
    ln(x).sum().backward()
    assert ln(x).dtype == x.grad.dtype == ln.weight.grad.dtype == np.float32
    with pytest.raises(ValueError, match=r"normalized_shape \(4,\).*input of shape \(2, 3\)"):
        ln(tg.ones((2, 3)))
    with pytest.raises(ValueError, match=r"normalized_shape \(2, 4\).*input of shape \(4,\)"):
        F.layer_norm(tg.ones(4), (2, 4))


# ----------------------------------------------------------------------------- Embedding


def test_embedding_matches_torch_with_repeated_ids() -> None:
    """Rows at the ids, and each row's gradient the sum over its uses (ids 2-D, repeated)."""
    ours = nn.Embedding(6, 3)
    theirs = torch.nn.Embedding(6, 3, dtype=torch.float64)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.data))
    ids = np.array([[0, 5, 5], [2, 0, 5]])
    g = RNG.standard_normal((2, 3, 3))
    out = ours(tg.tensor(ids, dtype=np.int64))  # a Tensor of ids works as an array does
    out.backward(gradient=g)
    tout = theirs(torch.tensor(ids))
    tout.backward(torch.tensor(g))
    np.testing.assert_array_equal(out.data, tout.detach().numpy())
    np.testing.assert_allclose(ours.weight.grad.data, theirs.weight.grad.numpy())
    assert ours.weight.data.std() > 0.5  # N(0, 1), as torch's: not all zeros


def test_embedding_ids_by_hand() -> None:
    table = tg.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    out = F.embedding([2, 0, 2], table)
    np.testing.assert_array_equal(out.data, [[5.0, 6.0], [1.0, 2.0], [5.0, 6.0]])
    out.sum().backward()
    np.testing.assert_array_equal(table.grad.data, [[1.0, 1.0], [0.0, 0.0], [2.0, 2.0]])


@pytest.mark.parametrize(
    "ids, error, message",
    [
        ([0, 6], IndexError, r"id 6 is out of range for 6 embeddings \(ids must be in \[0, 5\]\)"),
        ([-1], IndexError, "id -1 is out of range"),  # torch refuses it too; NumPy would wrap
        ([0.5], ValueError, "ids must be integers, got 0.5"),
        (["a"], ValueError, "ids must be integers, got dtype <U1"),
    ],
)
def test_embedding_refuses_bad_ids(ids, error, message) -> None:
    emb = nn.Embedding(6, 2)
    with pytest.raises(error, match=message):
        emb(np.array(ids))


X = tg.tensor(RNG.standard_normal((4, 3)))
INT_STATS = tg.ones(3, dtype=np.int64)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            lambda s: F.layer_norm(X, 3, tg.ones(1)),
            ValueError,
            r"weight has shape \(1,\), expected \(3,\)",
        ),
        (
            lambda s: F.layer_norm(X, 3, None, tg.ones((4, 3))),
            ValueError,
            r"bias has shape \(4, 3\)",
        ),
        (lambda s: F.layer_norm(X, "3"), TypeError, "layer_norm: sizes must be ints"),
        (
            lambda s: F.layer_norm(X, [3.7]),
            TypeError,
            r"layer_norm: sizes must be ints, got \(3.7,\)",
        ),
        (lambda s: F.layer_norm(X, ()), ValueError, "normalized_shape must name at least one axis"),
        (lambda s: nn.LayerNorm(3.0), TypeError, "LayerNorm: sizes must be ints"),
        (
            lambda s: F.batch_norm(X, np.zeros(3), np.ones(3)),
            TypeError,
            "running_mean must be a floating Tensor, got ndarray",
        ),
        (
            lambda s: F.batch_norm(X, s, INT_STATS, training=True),
            TypeError,
            "running_var .* dtype int64",
        ),
        (
            lambda s: F.batch_norm(X, None, None, tg.ones(4), training=True),
            ValueError,
            r"weight has shape \(4,\), not 3 values",
        ),
        (
            lambda s: F.batch_norm(X, s, None, training=True),
            ValueError,
            "give both running_mean and running_var, or neither",
        ),
    ],
    ids=[
        "ln weight",
        "ln bias",
        "ln str",
        "ln float",
        "ln empty",
        "LayerNorm float",
        "bn array stats",
        "bn int stats",
        "bn weight",
        "bn one statistic",
    ],
)
def test_normalisation_arguments_are_refused_naming_the_op(call, error, message):
    """A weight of shape (1,) or (4, 3) broadcast into another function; a string or a
    float size was read as an int."""
    running_mean = tg.zeros(3)
    with pytest.raises(error, match=message):
        call(running_mean)
    np.testing.assert_array_equal(running_mean.data, 0.0)


def test_batch_norm_refuses_statistics_it_cannot_update_before_moving_either() -> None:
    """int or read-only statistics failed after the running mean had moved."""
    x = tg.tensor(np.arange(12.0).reshape(4, 3))
    read_only = tg.ones(3)
    read_only.data.flags.writeable = False
    for bad, message in ((tg.ones(3, dtype=np.int64), "dtype int64"), (read_only, "read-only")):
        running_mean = tg.zeros(3)
        with pytest.raises((TypeError, ValueError), match=f"running_var .*{message}"):
            F.batch_norm(x, running_mean, bad, training=True)
        np.testing.assert_array_equal(running_mean.data, 0.0)


def test_batch_norm_of_an_empty_batch_is_empty_and_moves_no_statistic() -> None:
    """As torch: shape (0, 3) out, silently (no mean of nothing is taken, so detect_anomaly
    has nothing to find); the running statistics stay, and the batch is counted."""
    bn = nn.BatchNorm1d(3)
    theirs = torch.nn.BatchNorm1d(3, dtype=torch.float64)
    x = tg.tensor(np.zeros((0, 3)), requires_grad=True)
    with warnings.catch_warnings(), tg.detect_anomaly():
        warnings.simplefilter("error")
        out = bn(x)
        out.sum().backward()
    assert out.shape == (0, 3) and x.grad.shape == (0, 3)
    np.testing.assert_array_equal(bn.weight.grad.data, [0.0, 0.0, 0.0])
    theirs(torch.zeros((0, 3), dtype=torch.float64))
    for name, value in theirs.state_dict().items():
        np.testing.assert_array_equal(bn.state_dict()[name], value.numpy())


def test_batch_norm_takes_a_weight_and_bias_of_shape_1_c_as_torch() -> None:
    """makemore keeps its batch norm gain and bias as (1, C): torch's forward takes any
    shape of C values for them (its backward then fails on the shape; ours is checked with
    finite differences)."""
    x, w, b = (RNG.standard_normal(s) for s in ((5, 3), (1, 3), (1, 3)))
    out = F.batch_norm(tg.tensor(x), None, None, tg.tensor(w), tg.tensor(b), training=True)
    ref = torch.nn.functional.batch_norm(
        torch.tensor(x), None, None, torch.tensor(w), torch.tensor(b), training=True
    )
    np.testing.assert_allclose(out.data, ref.numpy(), rtol=1e-12, atol=1e-14)
    inputs = [tg.tensor(a, requires_grad=True) for a in (x, w, b)]
    assert tg.gradcheck(
        lambda *t: F.batch_norm(t[0], None, None, t[1], t[2], training=True), inputs
    )


@pytest.mark.parametrize("padding_idx", [0, 3, -1])
def test_embedding_padding_row_gets_no_gradient_as_torch(padding_idx) -> None:
    """The padding row's values come out where it is used, but no gradient goes back to
    it; the module starts it at zeros."""
    ours = nn.Embedding(5, 3, padding_idx=padding_idx)
    theirs = torch.nn.Embedding(5, 3, padding_idx=padding_idx, dtype=torch.float64)
    assert ours.padding_idx == theirs.padding_idx
    np.testing.assert_array_equal(ours.weight.data[padding_idx], 0.0)
    ours.weight.data[...] = RNG.standard_normal((5, 3))  # a non-zero padding row too
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.data))
    ids = np.array([[0, 3, 4, 3], [4, 4, 1, 0]])
    g = RNG.standard_normal((2, 4, 3))
    out = ours(ids)
    out.backward(gradient=g)
    tout = theirs(torch.tensor(ids))
    tout.backward(torch.tensor(g))
    np.testing.assert_array_equal(out.data, tout.detach().numpy())
    np.testing.assert_allclose(ours.weight.grad.data, theirs.weight.grad.numpy())
    np.testing.assert_array_equal(ours.weight.grad.data[padding_idx], 0.0)


@pytest.mark.parametrize("bad, error", [(5, ValueError), (-6, ValueError), (1.0, TypeError)])
def test_embedding_padding_idx_out_of_range_is_refused(bad, error) -> None:
    with pytest.raises(error, match="padding_idx"):
        nn.Embedding(5, 3, padding_idx=bad)


def test_the_normalisations_standardise_in_one_node() -> None:
    """One node whose rule is the closed form, not the nine plain ops it replaced (two to
    three times the time); the drawing names it."""
    x = tg.tensor(np.random.default_rng(0).normal(size=(4, 3)), requires_grad=True)
    for y in (F.layer_norm(x, 3), F.batch_norm(x, None, None, training=True)):
        assert y._op == "standardize" and y._prev == (x,)
    w = tg.tensor(np.ones(3), requires_grad=True)
    y = F.batch_norm(x, None, None, w, training=True)
    assert y._op == "*" and y._prev[1] is w  # a (C,) weight needs no reshape node


def test_an_eval_graph_keeps_the_statistics_it_used() -> None:
    """A training step moves the running statistics in place after an eval forward: the
    eval graph's backward used to refuse (naming '-'); it now uses the values of its
    forward, as the gradient of what it computed."""
    bn = tg.nn.BatchNorm1d(3)
    rng = np.random.default_rng(0)
    bn(tg.tensor(rng.normal(size=(8, 3)) * 2 + 1))  # running statistics move off 0 and 1
    bn.eval()
    x = tg.tensor(rng.normal(size=(4, 3)), requires_grad=True)
    y = bn(x)
    scale = bn.weight.data / np.sqrt(bn.running_var.data + bn.eps)  # d y / d x, by hand
    bn.train()
    bn(tg.tensor(rng.normal(size=(8, 3)) * 5))  # moves them again, in place
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, np.broadcast_to(scale, (4, 3)), rtol=1e-12)
