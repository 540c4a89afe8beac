"""The micrograd <-> tensorgrad MLP bridge: same weights, same outputs, same gradients."""

import random
from types import SimpleNamespace

import numpy as np
import pytest

import micrograd.nn as mnn
import tensorgrad as tg
from micrograd import Value


def _micro_forward_backward(mlp, X):
    """Outputs (batch, nout) and the gradient of a loss, the scalar engine's way."""
    mlp.zero_grad()
    outs = []
    for row in X:
        out = mlp([Value(float(v)) for v in row])
        outs.append(out if isinstance(out, list) else [out])
    # loss = Σ_b Σ_j (j + 1) * out_bj² / 2 + out_bj: touches every output differently
    terms = [(j + 1) * o * o * 0.5 + o for row in outs for j, o in enumerate(row)]
    loss = sum(terms)
    loss.backward()
    return np.array([[o.data for o in row] for row in outs]), loss.data


def _tensor_forward_backward(model, X):
    model.zero_grad()
    out = model(tg.tensor(X))
    weights = tg.tensor(np.arange(1, out.shape[1] + 1, dtype=np.float64))
    loss = (weights * out * out * 0.5 + out).sum()
    loss.backward()
    return out.data, loss.item()


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear"])
@pytest.mark.parametrize("sizes", [(3, [4, 4, 2]), (2, [5, 1]), (4, [3])])
def test_outputs_and_every_gradient_agree(activation, sizes):
    random.seed(0)
    nin, nouts = sizes
    micro = mnn.MLP(nin, nouts, activation=activation)
    model = tg.nn.MLP.from_micrograd(micro)
    assert model.activation == (activation if len(nouts) > 1 else "relu")
    assert all(p.dtype == np.float64 for p in model.parameters())
    X = np.random.default_rng(1).normal(size=(6, nin))
    out_m, loss_m = _micro_forward_backward(micro, X)
    out_t, loss_t = _tensor_forward_backward(model, X)
    np.testing.assert_allclose(out_t, out_m, rtol=0, atol=1e-12)
    assert abs(loss_t - loss_m) < 1e-12 * max(1.0, abs(loss_m))
    for layer, mlayer in zip(model.layers, micro.layers):
        for j, neuron in enumerate(mlayer.neurons):
            np.testing.assert_array_equal(layer.weight.data[j], [w.data for w in neuron.w])
            assert layer.bias.data[j] == neuron.b.data
            np.testing.assert_allclose(
                layer.weight.grad.data[j], [w.grad for w in neuron.w], rtol=0, atol=1e-12
            )
            assert abs(layer.bias.grad.data[j] - neuron.b.grad) < 1e-12
    # the gradients are not all zero (the comparison means something)
    assert any(np.abs(p.grad.data).sum() > 0.1 for p in model.parameters())


def test_to_micrograd_round_trip_and_leaves_python_random_alone():
    model = tg.nn.MLP(3, [4, 2], activation="tanh", rng=0)
    random.seed(123)
    expected_next = random.random()
    random.seed(123)
    micro = model.to_micrograd()
    assert random.random() == expected_next  # Python's global random state is untouched
    assert isinstance(micro, mnn.MLP)
    assert micro.layers[0].neurons[0].activation == "tanh"
    assert micro.layers[-1].neurons[0].activation == "linear"
    X = np.random.default_rng(2).normal(size=(5, 3))
    out_m, _ = _micro_forward_backward(micro, X)
    np.testing.assert_allclose(model(tg.tensor(X)).data, out_m, rtol=0, atol=1e-12)
    back = tg.nn.MLP.from_micrograd(micro)
    for p, q in zip(model.parameters(), back.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


def test_copy_to_and_from_an_existing_micrograd_mlp():
    random.seed(1)
    micro = mnn.MLP(2, [3, 1])
    model = tg.nn.MLP(2, [3, 1], rng=5)
    model.copy_to_micrograd(micro)
    assert micro.layers[1].neurons[0].b.data == model.layers[1].bias.data[0]
    assert [w.data for w in micro.layers[0].neurons[2].w] == model.layers[0].weight.data[2].tolist()
    other = tg.nn.MLP(2, [3, 1], rng=6)
    other.copy_from_micrograd(micro)
    for p, q in zip(model.parameters(), other.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


def test_float32_models_copy_as_float64_values():
    model = tg.nn.MLP(2, [2, 1], dtype=np.float32, rng=0)
    micro = model.to_micrograd()
    assert type(micro.layers[0].neurons[0].w[0].data) is float
    assert micro.layers[0].neurons[0].w[0].data == float(model.layers[0].weight.data[0, 0])


def test_mismatched_models_are_refused():
    random.seed(0)
    micro = mnn.MLP(2, [3, 1])
    with pytest.raises(ValueError, match=r"\[2, 3, 1\].*\[2, 4, 1\]"):
        tg.nn.MLP(2, [4, 1], rng=0).copy_to_micrograd(micro)
    with pytest.raises(ValueError, match="activation"):
        tg.nn.MLP(2, [3, 1], activation="tanh", rng=0).copy_from_micrograd(micro)
    mixed = mnn.MLP(2, [3, 3, 1])
    mixed.layers[1].neurons[0].activation = "tanh"
    with pytest.raises(ValueError, match="one activation"):
        tg.nn.MLP.from_micrograd(mixed)
    with pytest.raises(TypeError, match="micrograd.nn.MLP"):
        tg.nn.MLP.from_micrograd(object())


def test_classic_neurons_with_only_nonlin_are_understood():
    """The original micrograd's Neuron has ``nonlin`` (ReLU or linear) but no ``activation``."""

    def neuron(nonlin, w, b):
        return SimpleNamespace(w=[Value(v) for v in w], b=Value(b), nonlin=nonlin)

    classic = SimpleNamespace(
        layers=[
            SimpleNamespace(neurons=[neuron(True, [1.0, -2.0], 0.5), neuron(True, [0.5, 0.5], 0)]),
            SimpleNamespace(neurons=[neuron(False, [1.0, 1.0], -1.0)]),
        ]
    )
    model = tg.nn.MLP.from_micrograd(classic)
    assert model.activation == "relu"
    out = model(tg.tensor([[1.0, 1.0]])).item()
    assert out == max(1 - 2 + 0.5, 0) + max(0.5 + 0.5, 0) - 1.0


def test_biases_trained_in_micrograd_do_not_vanish_into_a_model_without_bias():
    model = tg.nn.MLP(2, [3, 1], bias=False, rng=0)
    micro = model.to_micrograd()  # micrograd neurons always have a bias, here 0
    model.copy_from_micrograd(micro)  # zero biases: nothing lost
    micro.layers[1].neurons[0].b.data = 0.5
    before = [p.data.copy() for p in model.parameters()]
    with pytest.raises(ValueError, match=r"layer 1 has no bias.*0\.5.*bias=True"):
        model.copy_from_micrograd(micro)
    assert all(np.array_equal(a, p.data) for a, p in zip(before, model.parameters()))


@pytest.mark.parametrize(
    "where, bad, message",
    [
        ("w", "oops", r"layer 1, neuron 0: w\[2\]\.data is 'oops', not a float"),
        ("w", "1.5", r"w\[2\]\.data is '1.5', not a float"),
        ("w", 10**400, r"w\[2\]\.data is 1000.*, not a float"),
        ("b", None, r"layer 1, neuron 0: b\.data is None, not a float"),
    ],
    ids=["word", "string of a number", "huge int", "None"],
)
def test_a_micrograd_value_that_is_not_a_number_is_named_before_anything_is_copied(
    where, bad, message
):
    """Layer 0 used to be copied before layer 1's bad value raised NumPy's bare error, and
    a bias of None became nan."""
    model = tg.nn.MLP(2, [3, 1], rng=0)
    micro = tg.nn.MLP(2, [3, 1], rng=1).to_micrograd()
    neuron = micro.layers[1].neurons[0]
    (neuron.w[2] if where == "w" else neuron.b).data = bad
    before = [p.data.copy() for p in model.parameters()]
    with pytest.raises(TypeError, match=message):
        model.copy_from_micrograd(micro)
    assert all(np.array_equal(a, p.data) for a, p in zip(before, model.parameters()))


@pytest.mark.parametrize(
    "make",
    [lambda: [3, 1], lambda: (3, 1), lambda: np.array([3, 1]), lambda: (n for n in (3, 1))],
    ids=["list", "tuple", "array", "generator"],
)
def test_layer_sizes_may_come_in_any_ordered_iterable_in_both_engines(make):
    """An array of sizes worked before the sizes were checked, and still does."""
    assert [len(layer.neurons) for layer in mnn.MLP(2, make()).layers] == [3, 1]
    assert [layer.out_features for layer in tg.nn.MLP(2, make()).layers] == [3, 1]
    assert mnn.MLP(2, make()).layers[-1].neurons[0].activation == "linear"


@pytest.mark.parametrize(
    "nouts",
    [{16, 1}, {4: "a", 1: "b"}, b"31", np.array(3)],
    ids=["set", "dict", "bytes", "0-d array"],
)
def test_unordered_or_scalar_layer_sizes_are_refused_in_both_engines(nouts):
    """{16, 16, 1} is the set {16, 1}: a layer silently gone, the rest ordered by hash;
    b"31" was layers of 51 and 49 neurons; a 0-d array failed in NumPy's words."""
    for mlp in (mnn.MLP, tg.nn.MLP):
        with pytest.raises(TypeError, match="nouts must be a list of layer sizes"):
            mlp(2, nouts)
