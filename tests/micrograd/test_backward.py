"""Value.backward: accumulation, repeated calls, the lecture's step-by-step _backward,
hand-built classic nodes, a 1,000,000-node chain, and freeing by reference counting."""

from __future__ import annotations

import copy
import gc
import math
import random
import sys
import threading
import weakref

import pytest

import micrograd
from micrograd import Value, add_all, autodiff, weighted_sum
from micrograd.nn import MLP

# ----------------------------------------------------------------------------- basics


def test_value_basics():
    v = Value(3)
    assert type(v.data) is float and v.data == 3.0
    assert type(v.grad) is float and v.grad == 0.0
    assert v._prev == () and v._op == ""
    assert repr(Value(2.0)) == "Value(data=2.0, grad=0.0)"  # the classic repr
    assert float(Value(-1.5)) == -1.5
    assert Value(1.0, label="x").label == "x"


def test_backward_on_a_leaf_and_with_a_gradient():
    x = Value(4.0)
    x.backward()
    assert x.grad == 1.0
    y = Value(3.0)
    (y * y).backward(gradient=0.5)  # the vector in the vector-Jacobian product
    assert y.grad == 0.5 * 2 * 3.0


def test_op_names_and_parent_order():
    x, y = Value(2.0), Value(3.0)
    assert (x * y)._prev == (x, y) and (x * y)._op == "*"
    assert (y - x)._prev == (y, x)
    assert (x**y)._prev == (x, y)
    assert (2**x)._prev == (x,)  # the number is a constant, not a node
    assert (x + 1)._prev == (x,) and (1 + x)._op == "+"
    assert x.tanh()._op == "tanh" and x.relu()._op == "relu"


# ----------------------------------------------------------------------------- twice


def test_backward_twice_doubles_leaves_but_not_interior_nodes():
    # d = a·b + a·b·b with c = a·b reused: dd/da = b + b², dd/db = a + 2ab, dd/dc = 1 + b
    a, b = Value(2.0), Value(-3.0)
    c = a * b
    d = c + c * b
    d.backward()
    assert (a.grad, b.grad, c.grad, d.grad) == (-3.0 + 9.0, 2.0 - 12.0, 1 - 3.0, 1.0)
    d.backward()
    # Leaves accumulate, as in PyTorch ...
    assert (a.grad, b.grad) == (2 * 6.0, 2 * -10.0)
    # ... but an interior node shows the latest backward's gradient, never a doubled one.
    assert (c.grad, d.grad) == (-2.0, 1.0)


def test_interior_gradient_is_not_double_counted_into_leaves():
    # The classic bug: if c kept its old grad, the second backward would push 2·(dd/dc).
    x = Value(1.5)
    c = x * x
    d = c.tanh()
    d.backward()
    first = x.grad
    d.backward()
    assert x.grad == 2 * first
    assert c.grad == pytest.approx(1 - math.tanh(2.25) ** 2, rel=1e-15)


def test_zero_grad_by_hand_then_backward_again():
    x = Value(3.0)
    y = x * x
    y.backward()
    x.grad = 0.0
    y.backward()
    assert x.grad == 6.0


# ----------------------------------------------------------------------------- by hand


def _lecture_neuron():
    """The classic lecture's neuron: o = tanh(x1·w1 + x2·w2 + b)."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x2w2 = x2 * w2
    x1w1x2w2 = x1w1 + x2w2
    n = x1w1x2w2 + b
    o = n.tanh()
    return o, [x1, x2, w1, w2, b, x1w1, x2w2, x1w1x2w2, n, o]


def _classic_topo(root):
    """The lecture's build_topo, written with a stack (no recursion)."""
    topo, visited, stack = [], set(), [(root, False)]
    while stack:
        v, done = stack.pop()
        if done:
            topo.append(v)
        elif v not in visited:
            visited.add(v)
            stack.append((v, True))
            stack.extend((child, False) for child in v._prev)
    return topo


def test_step_by_step_backward_like_the_lecture():
    o, nodes = _lecture_neuron()
    o.grad = 1.0
    for node in reversed(_classic_topo(o)):
        node._backward()
    by_hand = [n.grad for n in nodes]

    o2, nodes2 = _lecture_neuron()
    o2.backward()
    assert by_hand == pytest.approx([n.grad for n in nodes2], rel=1e-15)

    # The lecture's numbers, by hand: n = 0.8814, tanh(n) = 1/√2, do/dn = 1 - 1/2 = 0.5.
    x1, x2, w1, w2 = nodes[:4]
    assert o.data == pytest.approx(math.sqrt(0.5), rel=1e-12)
    assert nodes[8].grad == pytest.approx(0.5, rel=1e-12)
    assert (x1.grad, w1.grad) == pytest.approx((-1.5, 1.0), rel=1e-12)
    assert (x2.grad, w2.grad) == pytest.approx((0.5, 0.0), abs=1e-12)


def test_step_by_step_with_the_cores_order():
    o, nodes = _lecture_neuron()
    o.grad = 1.0
    for node in reversed(autodiff.topological_order([o])):
        node._backward()
    o2, nodes2 = _lecture_neuron()
    o2.backward()
    assert [n.grad for n in nodes] == pytest.approx([n.grad for n in nodes2], rel=1e-15)


def test_backward_on_a_leaf_by_hand_is_a_no_op():
    x = Value(1.0)
    x.grad = 2.0
    x._backward()
    assert x.grad == 2.0


def test_nodes_built_by_hand_like_the_classic_code():
    # Classic code builds nodes as Value(data, (children...), op).
    a, b = Value(2.0), Value(-4.0)
    prod = Value(a.data * b.data, (a, b), "*")
    total = Value(prod.data + a.data, (prod, a), "+")
    out = Value(math.tanh(total.data), (total,), "tanh")
    out.backward()
    s = 1 - math.tanh(-6.0) ** 2  # out = tanh(ab + a) at ab + a = -6
    assert a.grad == pytest.approx(s * (b.data + 1), rel=1e-12)
    assert b.grad == pytest.approx(s * a.data, rel=1e-12)


def _hand_made_tanh(x: Value) -> Value:
    """An op defined the classic way: a node built by hand and a ``_backward`` closure."""
    t = math.tanh(x.data)
    out = Value(t, (x,), "my_tanh")

    def _backward():
        x.grad += (1 - t**2) * out.grad

    out._backward = _backward
    return out


def test_an_op_defined_with_a_backward_closure_like_the_classic_code():
    x = Value(0.5)
    mid = _hand_made_tanh(x)
    y = mid * 3 + x  # x reaches y twice: through the hand-made node and directly
    y.backward()
    slope = 1 - math.tanh(0.5) ** 2
    assert x.grad == pytest.approx(3 * slope + 1, rel=1e-15)
    assert mid.grad == 3.0
    y.backward()  # a second backward adds to the leaf, as for any other node
    assert x.grad == pytest.approx(2 * (3 * slope + 1), rel=1e-15)


def test_a_hand_made_backward_in_functional_grad_touches_no_grad():
    x = Value(0.5)
    y = _hand_made_tanh(x) * 3
    (gx,) = micrograd.grad(y, [x])
    assert gx.data == pytest.approx(3 * (1 - math.tanh(0.5) ** 2), rel=1e-15)
    assert x.grad == 0.0 and y._prev[0].grad == 0.0


def test_a_hand_made_backward_with_an_operand_used_twice():
    a = Value(3.0)
    square = Value(a.data * a.data, (a, a), "square")

    def _backward():  # the classic's a * a: both slots add
        a.grad += a.data * square.grad
        a.grad += a.data * square.grad

    square._backward = _backward
    (square * 2).backward()
    assert a.grad == 12.0  # d(2a²)/da = 4a


def test_a_hand_made_backward_can_be_called_by_hand():
    x = Value(0.5)
    out = _hand_made_tanh(x)
    out.grad = 2.0
    out._backward()
    assert x.grad == pytest.approx(2 * (1 - math.tanh(0.5) ** 2), rel=1e-15)


def test_a_wrapped_backward_calls_the_rule_it_wrapped():
    """The classic hook: keep a node's _backward, assign a wrapper that calls it. The kept
    one is the rule of when it was read (it looked the rule up later: the wrapper itself,
    and so recursed forever)."""
    x = Value(3.0)
    y = x * x
    calls = []
    original = y._backward

    def logged():
        calls.append(y.grad)
        original()

    y._backward = logged
    (y * 5).backward()
    assert x.grad == 30.0 and calls == [5.0]  # d(5x²)/dx = 10x
    z = x.tanh()
    z._backward = z._backward  # the same rule, reassigned
    z.backward()
    assert x.grad == 30.0 + (1 - math.tanh(3.0) ** 2)


def test_a_wrapped_backward_of_a_neuron_sum():
    """A neuron's sum shows its products before handing out its rule."""
    w, x = [Value(2.0), Value(3.0)], [Value(-1.0), Value(4.0)]
    y = weighted_sum(w, x, Value(0.5))
    original = y._backward
    y._backward = lambda: original()
    y.backward()
    assert [v.grad for v in w] == [-1.0, 4.0] and [v.grad for v in x] == [2.0, 3.0]


def test_a_hand_made_backward_refuses_create_graph():
    x = Value(0.5)
    with pytest.raises(RuntimeError, match="'my_tanh'.*assigned by hand"):
        micrograd.grad(_hand_made_tanh(x), [x], create_graph=True)


def test_a_hand_built_node_without_a_rule_passes_nothing_as_in_the_classic_micrograd():
    """The classic Value's _backward does nothing until assigned: its operands get no
    gradient through it. The same here, with a warning saying what to do."""
    x = Value(3.0)
    for node in (Value(9.0, (x,), "**2"), Value(6.0, (x,), "*")):  # "*" takes two operands
        y = node * x  # x also reaches y directly
        with pytest.warns(
            RuntimeWarning, match=r"has no gradient rule.*assign the node.s _backward"
        ) as caught:
            y.backward()
        assert caught[0].filename == __file__  # the user's call, not the core's loop
        assert x.grad == node.data  # only through the direct path
        assert node.grad == x.data
        x.grad = 0.0
        with pytest.warns(RuntimeWarning, match="no gradient rule"):
            node._backward()  # the classic call by hand: adds nothing
        assert x.grad == 0.0


def test_hand_built_children_must_be_values():
    with pytest.raises(TypeError, match="children must be Values, got 2.0"):
        Value(3.0, (Value(1.0), 2.0), "+")


def test_a_node_whose_prev_was_rewired_afterwards_raises_instead_of_a_wrong_gradient():
    x = Value(0.5)
    deep = x.tanh().exp().sin()  # three levels above x
    shallow = x.relu()  # one level above x
    shallow._prev = (deep,)  # now fed by a deeper node than it was made from
    for run in (shallow.backward, lambda: micrograd.grad(shallow, [x])):
        with pytest.raises(RuntimeError, match=r"'relu' node has depth 3.*_prev was changed"):
            run()
    assert x.grad == 0.0 and deep.grad == 0.0


def test_a_rewired_prev_raises_even_when_the_parent_already_has_a_gradient():
    x = Value(0.5)
    deep = x.tanh().exp().sin()
    shallow = x.relu()
    y = deep + shallow  # deep first gets its gradient from y, legitimately
    shallow._prev = (deep,)
    for run in (y.backward, lambda: autodiff.backward_order([y])):
        with pytest.raises(RuntimeError, match=r"'relu' node has depth 3.*_prev was changed"):
            run()
    assert x.grad == 0.0


def test_backward_order_puts_every_node_after_all_of_its_consumers():
    x, w = Value(0.3), Value(-1.2)
    h = (x * w).tanh()
    y = (h * x + h.exp() * w + x).relu() * h
    order = autodiff.backward_order([y])
    assert len(order) == len(set(order)) == len(autodiff.topological_order([y]))
    position = {node: i for i, node in enumerate(order)}
    for node in order:
        for parent in node._prev:
            assert position[parent] > position[node]


# ----------------------------------------------------------------------------- the pass's sums
# A pass sums each node's gradient on the node itself (``_pass_grad``); none of it may
# outlive the pass, whether it ends well or not, and two passes must never mix sums.


def _failing_node(x: Value) -> Value:
    """A node over ``x`` whose hand-written _backward raises."""

    def fail():
        raise RuntimeError("a rule that fails")

    node = Value(1.0, (x,), "fails")
    node._backward = fail
    return node


def test_a_failed_pass_leaves_no_sum_that_a_later_pass_would_pick_up():
    x = Value(3.0)
    m = x * 2  # runs its rule before the failure: x holds a sum, still to be used
    bad = _failing_node(x)  # the pass fails when it reaches it
    z = m * bad
    for run in (z.backward, lambda: micrograd.grad(z, [x])):
        with pytest.raises(RuntimeError, match="a rule that fails"):
            run()
    # Had m or x kept a sum, this pass would add to it, or skip them as already reached.
    (m * 1.5).backward()
    assert (m.grad, x.grad) == (1.5, 3.0)
    assert micrograd.grad(m * 1.5, [x])[0].data == 3.0


def test_a_failed_pass_leaves_no_sum_on_the_nodes_of_its_level_still_to_come():
    x = Value(3.0)
    bad = _failing_node(x)
    m = x * 2
    z = bad * m  # bad and m share a level; bad comes first and fails before m's turn
    with pytest.raises(RuntimeError, match="a rule that fails"):
        z.backward()
    (m * 1.5).backward()
    assert (m.grad, x.grad) == (1.5, 3.0)


def test_a_backward_started_inside_a_backward_raises_and_the_thread_recovers():
    x = Value(2.0)
    out = Value(x.data, (x,), "identity")

    def _backward():
        (Value(1.0) * 2).backward()  # another pass, from inside this one's rule
        x.grad += out.grad

    out._backward = _backward
    with pytest.raises(RuntimeError, match="started from inside another one"):
        out.backward()
    (x * 3).backward()
    assert x.grad == 3.0


def test_a_copy_taken_during_a_pass_takes_none_of_its_sums():
    # As a snapshot of a model taken by another thread while this one runs backward.
    x, w = Value(2.0), Value(3.0)
    y = x * w
    held = Value(1.0, (Value(1.0),), "identity")  # runs its rule after y's, in y's level
    copies = []

    def _backward():  # y holds its gradient, x and w theirs so far: the pass is midway
        copies.extend((copy.deepcopy(y), copy.copy(y)))
        held._prev[0].grad += held.grad

    held._backward = _backward
    (y + held).backward()
    deep, shallow = copies
    (deep * 2.0).backward()  # a copy that kept the pass's sum would count as reached
    assert [p.grad for p in deep._prev] == [6.0, 4.0]
    (shallow * 2.0).backward()  # shares x and w: each adds 2 dy/d(leaf) to 3 and 2
    assert (x.grad, w.grad) == (9.0, 6.0)


def test_threads_sharing_a_parameter_each_get_their_own_gradient():
    # Each thread's pass runs through the shared w; passes must take turns, not mix sums.
    # A tiny switch interval makes the threads trade the interpreter every few ops.
    w = Value(0.5)
    terms, n_threads = 3_000, 4
    barrier = threading.Barrier(n_threads)
    got, errors = {}, []

    def work(k: int) -> None:
        try:
            y = add_all([w * float(k + 1) for _ in range(terms)])  # dy/dw = terms (k + 1)
            barrier.wait(timeout=30)
            got[k] = micrograd.grad(y, [w])[0].data
            y.backward()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=work, args=(k,)) for k in range(n_threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        sys.setswitchinterval(interval)
    assert not errors
    assert got == {k: terms * (k + 1.0) for k in range(n_threads)}
    assert w.grad == terms * sum(k + 1.0 for k in range(n_threads))


def test_products_shown_in_one_thread_while_another_runs_backward_through_them():
    # Showing a neuron's products changes the parents its node sends gradient to, so it
    # must wait for a pass running in another thread, never land in the middle of it.
    random.seed(7)
    model = MLP(6, [12, 12, 1])
    x = [Value(random.uniform(-1, 1)) for _ in range(6)]
    model(x).backward()
    expected = [p.grad for p in model.parameters()]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for _ in range(40):
            model.zero_grad()
            out = model(x)
            nodes = autodiff.topological_order([out])
            looker = threading.Thread(target=lambda nodes=nodes: [n._prev for n in nodes])
            looker.start()
            out.backward()
            looker.join(timeout=60)
            assert [p.grad for p in model.parameters()] == expected
    finally:
        sys.setswitchinterval(interval)


def _looks_at_a_neuron_node_from_inside_the_pass():
    w, x = [Value(2.0), Value(3.0)], [Value(-1.0), Value(4.0)]
    y = micrograd.weighted_sum(w, x)
    z = Value(y.data, (y,), "identity")

    def _backward():  # a hand-written rule that looks at y's products midway
        assert [p._op for p in y._prev] == ["*", "*"]
        y.grad += z.grad

    z._backward = _backward
    return w, x, y, z


def test_products_shown_from_inside_a_pass_in_the_same_thread():
    # The pass of this thread must not wait for itself, and the node then passes its
    # gradient on through its products: to backward's leaves and to grad's inputs alike.
    w, x, y, z = _looks_at_a_neuron_node_from_inside_the_pass()
    done = threading.Thread(target=z.backward, daemon=True)  # a deadlock must not hang CI
    done.start()
    done.join(timeout=60)
    assert not done.is_alive(), "backward waited for itself"
    assert [v.grad for v in w] == [-1.0, 4.0] and [v.grad for v in x] == [2.0, 3.0]
    assert [p.grad for p in y._prev] == [1.0, 1.0]
    w, x, y, z = _looks_at_a_neuron_node_from_inside_the_pass()
    assert [g.data for g in micrograd.grad(z, w + x)] == [-1.0, 4.0, 2.0, 3.0]


def test_products_shown_from_inside_a_pass_after_their_sums_rule_ran():
    # The rule of s (deeper) has run when c's hand-written _backward looks at the graph:
    # the pass will not reach the new products, so they must show d root/d product then.
    w, x, a = Value(2.0), Value(3.0), Value(5.0)
    s = micrograd.weighted_sum([w], [x])
    c = Value(a.data, (a,), "identity")

    def _backward():
        autodiff.topological_order([s])  # a look at the graph midway
        a.grad += c.grad

    c._backward = _backward
    (s * c).backward()
    assert (s.grad, s._prev[0].grad) == (5.0, 5.0) and (w.grad, x.grad) == (15.0, 10.0)


def test_a_backward_assigned_to_a_neuron_node_sees_its_products():
    w, x = Value(2.0), Value(3.0)
    s = micrograd.weighted_sum([w], [x])

    def _backward():  # a rule of one's own: 10 times the gradient to each operand
        for p in s._prev:
            p.grad += 10 * s.grad

    s._backward = _backward
    assert [p._op for p in s._prev] == ["*"]
    autodiff.topological_order([s])  # looking again keeps the rule
    s.backward()
    assert (w.grad, x.grad) == (10 * 3.0, 10 * 2.0)


def test_a_neuron_node_given_new_parents_is_their_sum():
    s = micrograd.weighted_sum([Value(2.0)], [Value(3.0)])
    a, b = Value(4.0), Value(7.0)
    s._prev = (a, b)  # as classic code may rewire a node by hand
    s.backward()
    assert (a.grad, b.grad) == (1.0, 1.0)


def test_value_nodes_copy():
    a, b = Value(2.0), Value(3.0)
    y = a * b + a
    for copied in (copy.copy(y), copy.deepcopy(y)):
        assert copied is not y and copied.data == 8.0
    twin = copy.deepcopy(y)
    twin.backward()
    leaves = twin._prev[0]._prev
    assert [p.grad for p in leaves] == [4.0, 2.0] and a.grad == 0.0  # d(ab + a): b + 1, a
    assert copy.copy(a * b)._prev == (a, b)


# ----------------------------------------------------------------------------- depth


def test_million_node_chain_under_the_default_recursion_limit():
    n = 1_000_000
    c = 1.0 + 1e-7
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(min(limit, 1000))  # Python's default: no recursion may be used
    try:
        x = Value(0.75)
        y = x
        for _ in range(n):
            y = y * c
        y.backward()
        (functional,) = micrograd.grad(y, [x])  # the functional form walks it too
        depth_limit_after = sys.getrecursionlimit()
        del y  # freeing a chain this deep must not recurse either
    finally:
        sys.setrecursionlimit(limit)
    assert depth_limit_after == min(limit, 1000)  # nothing raised the limit behind our back
    closed_form = math.exp(n * math.log1p(1e-7))  # c ** n
    assert x.grad == pytest.approx(closed_form, rel=1e-9)
    assert functional.data == pytest.approx(closed_form, rel=1e-9)


def test_deep_graph_deepcopies_under_the_default_recursion_limit():
    """copy.deepcopy walks the graph parents first, not by recursion: a 20,000-node chain
    (twenty times Python's default limit) copies, and the copy is a graph of its own."""
    n, c = 20_000, 1.0 + 1e-5
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(min(limit, 1000))
    try:
        x = Value(0.75)
        y = x
        for _ in range(n):
            y = y * c + 0.0  # two nodes a step: 40,000 levels
        twin = copy.deepcopy(y)
        twin.backward()
    finally:
        sys.setrecursionlimit(limit)
    assert twin is not y and twin.data == y.data
    start = twin
    while start._prev:
        start = start._prev[0]
    assert start is not x and x.grad == 0.0
    assert start.grad == pytest.approx(c**n, rel=1e-9)  # d(cⁿ x)/dx


# ----------------------------------------------------------------------------- memory


def _dies_by_refcount(build):
    """build() -> (names to drop, the node to watch). True if the node dies with gc off."""
    gc.collect()
    gc.disable()
    try:
        names, node = build()
        ref = weakref.ref(node)
        del node
        names.clear()
        return ref() is None
    finally:
        gc.enable()


def test_graph_is_freed_by_reference_counting():
    def build():
        a, b = Value(1.0), Value(2.0)
        c = a * b
        d = (c.tanh() + a) ** 2 / b
        return [d], c

    assert _dies_by_refcount(build)


def test_graph_is_freed_by_reference_counting_after_backward():
    def build():
        a, b = Value(1.0), Value(2.0)
        c = (a * b).exp()
        d = (c + a.sigmoid()) * c.log()
        d.backward()
        d.backward()
        return [d], c

    assert _dies_by_refcount(build)


def test_second_order_graph_is_freed_by_reference_counting():
    import micrograd

    def build():
        x = Value(0.3)
        inner = (x**3).tanh()
        (g,) = micrograd.grad(inner, [x], create_graph=True)
        (g2,) = micrograd.grad(g, [x], create_graph=True)
        g2.backward()
        return [inner, g, g2], inner

    assert _dies_by_refcount(build)


def test_training_step_graph_is_freed_by_reference_counting():
    def build():
        model = MLP(3, [4, 1])
        loss = (model([1.0, -2.0, 0.5]) - 1.0) ** 2
        model.zero_grad()
        loss.backward()
        return [loss], loss._prev[0]

    assert _dies_by_refcount(build)
