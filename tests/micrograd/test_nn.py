"""micrograd.nn: the classic Neuron / Layer / MLP API, unchanged.

The comparison of an MLP's outputs and gradients with the same network in PyTorch is
in test_torch.py; here: signatures, parameter counts, initialisation, repr, zero_grad,
and outputs and gradients worked out by hand or by central differences.
"""

from __future__ import annotations

import copy
import math
import random

import pytest

import micrograd
from micrograd.engine import Value, add_all, weighted_sum
from micrograd.nn import MLP, Layer, Module, Neuron

from .cases import central_difference


def test_neuron_signature_and_parameters():
    n = Neuron(3)
    assert n.nonlin is True
    assert len(n.w) == 3 and len(n.parameters()) == 4
    assert n.parameters()[-1] is n.b
    assert all(type(p) is Value for p in n.parameters())
    assert Neuron(3, nonlin=False).nonlin is False
    assert Neuron(3, False).nonlin is False  # positional, as the classic allows


def test_setting_nonlin_after_construction_switches_the_neuron_as_the_classic():
    """The classic reads self.nonlin at every call and in repr."""
    n = Neuron(2)
    n.w = [Value(-2.0), Value(1.0)]
    x = [1.0, 0.5]  # Σ wᵢxᵢ + b = -1.5
    assert n(x).data == 0.0  # relu
    n.nonlin = False
    assert n(x).data == -1.5 and repr(n) == "LinearNeuron(2)" and n.nonlin is False
    n.nonlin = True
    assert n(x).data == 0.0 and repr(n) == "ReLUNeuron(2)"
    t = Neuron(2, activation="tanh")
    t.nonlin = True  # already nonlinear: stays tanh
    assert repr(t) == "TanhNeuron(2)"


def test_neuron_initialisation_is_the_classics():
    # The classic draws w from random.uniform(-1, 1), one per input, in order; b = 0.
    random.seed(123)
    n = Neuron(5)
    random.seed(123)
    expected = [random.uniform(-1, 1) for _ in range(5)]
    assert [w.data for w in n.w] == expected
    assert n.b.data == 0.0


def test_layer_and_mlp_parameter_counts():
    assert len(Layer(3, 4).parameters()) == 4 * (3 + 1)
    assert len(Layer(3, 4, nonlin=False).parameters()) == 16
    assert all(not n.nonlin for n in Layer(3, 4, nonlin=False).neurons)
    model = MLP(3, [4, 4, 1])  # the classic README's network: 41 parameters
    assert len(model.parameters()) == 4 * 4 + 4 * 5 + 1 * 5 == 41
    assert len({id(p) for p in model.parameters()}) == 41
    assert isinstance(model, Module) and Module().parameters() == []


def test_mlp_nonlinearity_on_all_layers_but_the_last():
    model = MLP(2, [3, 3, 1])
    flags = [[n.nonlin for n in layer.neurons] for layer in model.layers]
    assert flags == [[True] * 3, [True] * 3, [False]]


def test_repr_is_the_classics():
    model = MLP(2, [3, 1])
    relu2 = ", ".join(["ReLUNeuron(2)"] * 3)
    expected = f"MLP of [Layer of [{relu2}], Layer of [LinearNeuron(3)]]"
    assert repr(model) == expected
    assert repr(Neuron(4)) == "ReLUNeuron(4)"
    assert repr(Neuron(4, nonlin=False)) == "LinearNeuron(4)"


def test_neuron_output_and_gradients_by_hand():
    n = Neuron(3)
    for p, v in zip(n.parameters(), [0.5, -1.0, 2.0, 0.25]):
        p.data = v
    x = [Value(1.0), Value(2.0), Value(-0.5)]
    out = n(x)
    # relu(0.5·1 - 1·2 + 2·(-0.5) + 0.25) = relu(-2.25) = 0: no gradient flows
    assert out.data == 0.0
    out.backward()
    assert [p.grad for p in n.parameters()] == [0.0] * 4
    n.b.data = 3.0  # now -2.5 + 3 = 0.5 > 0: d out/d w = x, d out/d b = 1, d out/d x = w
    out = n(x)
    assert out.data == 0.5
    n.zero_grad()
    out.backward()
    assert [p.grad for p in n.parameters()] == [1.0, 2.0, -0.5, 1.0]
    assert [xi.grad for xi in x] == [0.5, -1.0, 2.0]


def test_neuron_takes_plain_numbers_and_checks_the_length():
    n = Neuron(2, nonlin=False)
    n.w[0].data, n.w[1].data, n.b.data = 2.0, -1.0, 0.5
    assert n([3.0, 4]).data == 2.0 * 3 - 4 + 0.5
    with pytest.raises(ValueError, match="2 inputs"):
        n([1.0, 2.0, 3.0])


def test_a_neuron_is_one_sum_node_over_its_visible_products():
    n = Neuron(3, nonlin=False)
    x = [Value(1.0), Value(2.0), Value(-0.5)]
    out = n(x)
    assert out._op == "+" and len(out._prev) == 4 and out._prev[3] is n.b
    for product, w, xi in zip(out._prev, n.w, x):
        assert product._op == "*" and product._prev == (w, xi)
        assert product.data == w.data * xi.data
    out.backward()
    assert [p.grad for p in out._prev[:3]] == [1.0, 1.0, 1.0]  # every product shows its grad


# The backward pass takes a neuron's node as one step (straight to w and x); its product
# nodes are made only when someone looks. Looking must show what the products would have
# shown, and a product that is then used elsewhere must get its whole gradient.


def _neuron_by_hand():
    n = Neuron(3, nonlin=False)
    for p, v in zip(n.parameters(), [0.5, -1.0, 2.0, 0.25]):
        p.data = v
    return n, [Value(1.0), Value(2.0), Value(-0.5)]


def test_products_shown_after_a_training_step_show_the_forward_values_and_gradients():
    n, x = _neuron_by_hand()
    out = n(x)
    (out * 3.0).backward()
    for p in n.parameters():  # the step changes w: the products keep their forward values
        p.data -= 0.1 * p.grad
    products = out._prev[:3]
    assert [p.data for p in products] == [0.5 * 1.0, -1.0 * 2.0, 2.0 * -0.5]
    assert [p.grad for p in products] == [3.0, 3.0, 3.0]  # d(3 Σ)/d(product) = 3
    assert [p._prev for p in products] == list(zip(n.w, x)) and out._prev[3] is n.b
    assert out.data == 0.5 - 2.0 - 1.0 + 0.25


def test_a_product_shown_before_backward_and_used_again_gets_its_whole_gradient():
    n, x = _neuron_by_hand()
    out = n(x)
    p0, p1, _ = out._prev[:3]
    (p0 * 3.0 + out).backward()  # = 3 p0 + (p0 + p1 + p2 + b): d/dp0 = 4, d/dp1 = 1
    assert (p0.grad, p1.grad, out.grad) == (4.0, 1.0, 1.0)
    assert [w.grad for w in n.w] == [4.0 * 1.0, 2.0, -0.5]  # d/dwᵢ = (d/dpᵢ) xᵢ
    assert [xi.grad for xi in x] == [4.0 * 0.5, -1.0, 2.0]  # d/dxᵢ = (d/dpᵢ) wᵢ
    assert n.b.grad == 1.0


def test_a_neuron_node_stepped_by_hand_like_the_lecture():
    n, x = _neuron_by_hand()
    out = n(x)
    out.grad = 2.0
    out._backward()  # the "+" node hands its gradient to each product and the bias
    assert [p.grad for p in out._prev] == [2.0, 2.0, 2.0, 2.0] and n.b.grad == 2.0
    out._prev[0]._backward()  # a product w₀x₀: d/dw₀ = x₀, d/dx₀ = w₀
    assert (n.w[0].grad, x[0].grad) == (2.0 * 1.0, 2.0 * 0.5)


def test_a_copy_of_a_neuron_node_is_the_sum_over_its_products():
    n, x = _neuron_by_hand()
    out = n(x)
    shallow, deep = copy.copy(out), copy.deepcopy(out)
    assert [p._op for p in shallow._prev] == ["*", "*", "*", ""]
    assert shallow._prev[3] is n.b and shallow._prev[0]._prev == (n.w[0], x[0])
    deep.backward()
    weights, inputs = zip(*(p._prev for p in deep._prev[:3]))
    assert [w.grad for w in weights] == [1.0, 2.0, -0.5] and [w.grad for w in n.w] == [0] * 3
    assert [xi.grad for xi in inputs] == [0.5, -1.0, 2.0]


def test_second_derivatives_through_a_neuron_node_by_hand():
    w, x, b = [Value(2.0), Value(3.0)], [Value(-1.0), Value(4.0)], Value(0.5)
    y = weighted_sum(w, x, b)  # 2·(-1) + 3·4 + 0.5 = 10.5
    (g,) = micrograd.grad(y * y, [w[0]], create_graph=True)  # 2 y x₀
    assert g.data == 2 * 10.5 * -1.0
    # d/dx₀ (2 y x₀) = 2 w₀ x₀ + 2 y;  d/dw₀ (2 y x₀) = 2 x₀²;  d/db = 2 x₀
    got = micrograd.grad(g, [x[0], w[0], b])
    assert [v.data for v in got] == [2 * 2.0 * -1.0 + 2 * 10.5, 2.0, -2.0]


def test_weighted_sum_records_nothing_under_no_grad_and_checks_lengths():
    w, x = [Value(2.0), Value(3.0)], [Value(-1.0), Value(4.0)]
    with micrograd.no_grad():
        out = weighted_sum(w, x, Value(0.5))
    assert out.data == 2.0 * -1.0 + 3.0 * 4.0 + 0.5 and out._prev == ()
    with pytest.raises(ValueError, match=r"weighted_sum: 2 weights for 3 inputs"):
        weighted_sum(w, x + [Value(1.0)])
    assert weighted_sum([], []).data == 0.0


def test_sums_overflowing_or_meeting_opposite_infinities_follow_ieee():
    # The exact sum (math.fsum) raises on these; plain float addition gives inf and nan.
    inf = math.inf
    big = [Value(1e308), Value(1e308), Value(-1e308)]
    assert add_all(big).data == (1e308 + 1e308) - 1e308 == inf
    assert math.isnan(add_all([Value(inf), Value(-inf)]).data)
    w, x = [Value(inf), Value(inf)], [Value(1.0), Value(-1.0)]
    out = weighted_sum(w, x, Value(0.0))  # inf·1 + inf·(-1): nan
    assert math.isnan(out.data)
    out.backward()  # the gradient is still finite: d/dwᵢ = xᵢ, d/dxᵢ = wᵢ
    assert [v.grad for v in w] == [1.0, -1.0] and [v.grad for v in x] == [inf, inf]


def test_layer_returns_a_value_for_one_neuron_and_a_list_otherwise():
    x = [Value(1.0), Value(-1.0)]
    assert type(Layer(2, 1)(x)) is Value
    out = Layer(2, 3)(x)
    assert type(out) is list and len(out) == 3


def test_zero_grad():
    model = MLP(3, [4, 1])
    model([1.0, 2.0, 3.0]).backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_mlp_gradients_match_central_differences():
    random.seed(7)
    model = MLP(3, [4, 4, 1])
    params = model.parameters()
    xs = [[0.5, -1.2, 2.0], [1.5, 0.3, -0.7], [-0.2, 0.9, 0.4]]
    ys = [1.0, -1.0, 0.5]

    def loss_at(*values):
        for p, v in zip(params, values):
            p.data = v
        total = sum((model(x) - y) ** 2 for x, y in zip(xs, ys))
        return total.data

    point = tuple(p.data for p in params)
    loss = sum((model(x) - y) ** 2 for x, y in zip(xs, ys))
    model.zero_grad()
    loss.backward()
    grads = [p.grad for p in params]
    assert any(g != 0.0 for g in grads)
    for i, g in enumerate(grads):
        assert g == pytest.approx(central_difference(loss_at, point, i), rel=1e-5, abs=1e-7)


def test_the_classic_demo_loop_trains():
    # The classic demo's loop, unchanged: max-margin loss, L2, zero_grad, backward, SGD.
    random.seed(1337)
    X = [[2.0, 1.0], [1.5, 2.0], [2.5, 1.5], [-2.0, -1.0], [-1.5, -2.0], [-1.0, -1.5]]
    Y = [1.0, 1.0, 1.0, -1.0, -1.0, -1.0]
    model = MLP(2, [8, 8, 1])

    def loss():
        inputs = [list(map(Value, xrow)) for xrow in X]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(Y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = 1e-4 * sum(p * p for p in model.parameters())
        accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(Y, scores)]
        return data_loss + reg_loss, sum(accuracy) / len(accuracy)

    first, _ = loss()
    for k in range(30):
        total_loss, acc = loss()
        model.zero_grad()
        total_loss.backward()
        learning_rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= learning_rate * p.grad
    final, acc = loss()
    assert final.data < 0.5 * first.data
    assert acc == 1.0


def test_values_keep_attributes_of_their_own_as_the_classic_ones_do():
    """Classic code keeps its own state on parameters (a momentum exercise's p.velocity, a
    name): the classic Value is a plain object. Here Values had only slots, so it raised
    AttributeError. The state stays through a deep copy, and the momentum loop written
    with it matches the same loop written with a dict."""
    random.seed(0)
    model = MLP(2, [3, 1])
    twin = copy.deepcopy(model)
    for p in model.parameters():
        p.velocity = 0.0
    p.name = "output bias"
    assert vars(copy.deepcopy(p)) == {"velocity": 0.0, "name": "output bias"}
    velocity = {id(q): 0.0 for q in twin.parameters()}
    start = [q.data for q in twin.parameters()]
    for m in (model, twin):
        for _ in range(3):
            m.zero_grad()
            (m([0.5, -1.0]) ** 2).backward()
            for q in m.parameters():
                if m is model:
                    q.velocity = 0.9 * q.velocity + q.grad
                    q.data -= 0.1 * q.velocity
                else:
                    velocity[id(q)] = 0.9 * velocity[id(q)] + q.grad
                    q.data -= 0.1 * velocity[id(q)]
    assert [q.data for q in model.parameters()] == [q.data for q in twin.parameters()]
    assert [q.data for q in model.parameters()] != start  # the loop moved them


def test_a_neuron_takes_an_iterator_and_names_a_wrong_input_count():
    """The classic zip takes any iterable; an extra input is an error here (the classic
    micrograd drops it silently), with the slice that would drop it."""
    n = Neuron(2)
    assert n(iter([1.0, 2.0])).data == n([1.0, 2.0]).data
    assert n(x for x in (1.0, 2.0)).data == n([1.0, 2.0]).data
    with pytest.raises(ValueError, match=r"Neuron: expected 2 inputs, got 3 \(pass x\[:2\]"):
        n([1.0, 2.0, 3.0])
