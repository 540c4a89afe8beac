"""Write the teaching notebooks from the sources at the end of this file, and run them.

Each notebook's source is a string in the "percent" format (``NOTEBOOKS`` below): a
line ``# %%`` starts a code cell, ``# %% [markdown]`` a markdown cell (its text is
written as is, not commented out). Editing a source here and running this script is
all it takes to change a notebook; the ``.ipynb`` files are build products, committed
*with* their outputs so that they read well on a repository page. (The sources are raw
strings between three single quotes, so they must not contain three in a row.)

    python notebooks/_build.py                 # build and execute all five
    python notebooks/_build.py 03 05           # only the notebooks whose names start so
    python notebooks/_build.py --no-execute    # write them without outputs

Execution uses nbclient with the ``python3`` kernel, in ``notebooks/`` as the
working directory, so run this with the project's interpreter (``.venv/bin/python``):
jupyter_client starts the kernel with the interpreter that runs this script.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
CELL_TIMEOUT = 120  # seconds per cell, as tests/test_notebooks.py

ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+>")
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def parse(text: str) -> list[tuple[str, str]]:
    """Split percent-format source into ``(kind, text)`` cells; kind is "code" or "markdown"."""
    cells: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("# %%"):
            kind = "markdown" if "[markdown]" in line else "code"
            cells.append((kind, []))
        elif cells:
            cells[-1][1].append(line)
        elif line.strip():
            raise ValueError(f"text before the first '# %%' marker: {line!r}")
    return [(kind, "\n".join(lines).strip("\n")) for kind, lines in cells]


def build(name: str, text: str) -> nbformat.NotebookNode:
    """A notebook (without outputs) from percent-format source; cell ids are stable."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python"}
    for i, (kind, body) in enumerate(parse(text)):
        new = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        cell = new(body)
        cell["id"] = f"{name[:2]}-{i:02d}"
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def execute(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Run every cell in ``notebooks/`` with the python3 kernel; raise on the first error."""
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(HERE)}},
        record_timing=False,
    )
    client.execute()
    nb.metadata["kernelspec"] = dict(KERNELSPEC)  # not the launching machine's display name
    for cell in nb.cells:  # "<viz.draw.Drawing at 0x7f...>" would change at every build
        for output in cell.get("outputs", []):
            text = output.get("data", {}).get("text/plain")
            if isinstance(text, str):
                output["data"]["text/plain"] = ADDRESS.sub(">", text)
    return nb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("only", nargs="*", help="build only notebooks whose names start so")
    parser.add_argument("--no-execute", action="store_true", help="write without outputs")
    args = parser.parse_args(argv)

    names = [n for n in NOTEBOOKS if not args.only or any(n.startswith(p) for p in args.only)]
    if not names:
        parser.error(f"no notebook name starts with {args.only}; have {list(NOTEBOOKS)}")
    for name in names:
        start = time.perf_counter()
        nb = build(name, NOTEBOOKS[name])
        if not args.no_execute:
            nb = execute(nb)
        target = HERE / f"{name}.ipynb"
        nbformat.write(nb, target)
        size = target.stat().st_size / 1024
        print(f"{target.name}: {time.perf_counter() - start:5.1f} s, {size:,.0f} KiB")
    return 0


# ----------------------------------------------------------------------------- sources

NOTEBOOKS: dict[str, str] = {}

NOTEBOOKS["01_chain_rule_with_values"] = r'''
# %% [markdown]
# 1 · The chain rule, one number at a time

Backpropagation is the chain rule from calculus, applied carefully and in the right order.
Nothing more. This notebook makes that concrete with `micrograd.Value`: a `Value` holds one
number *and remembers how it was computed*. That memory is a graph, and walking the graph
backwards gives every derivative at once.

We will

1. build a small expression, draw its graph and compute its gradient,
2. redo every gradient **by hand** with the chain rule, and check it a third way with
   **finite differences** (nudge an input, watch the output),
3. see why a value that is used twice gets the *sum* of its gradients,
4. build a neuron and step through the backward pass one node at a time.

(Run this from the `notebooks/` folder after `make setup`, or after `pip install -e .` in the
repository root, so that `micrograd` and `viz` can be imported.)

# %%
import math

import micrograd
import viz
from micrograd import Value

# %% [markdown]
## A tiny expression

Give each `Value` a `label`, so the drawing can name it. Every arithmetic operation returns a
new `Value` that points back at its inputs.

# %%
a = Value(2.0, label="a")
b = Value(-3.0, label="b")
c = Value(10.0, label="c")
f = Value(-2.0, label="f")

e = a * b
e.label = "e"
d = e + c
d.label = "d"
L = d * f
L.label = "L"
print(L)

# %% [markdown]
Here is the graph. Rectangles are values, circles are the operations that made them; the
arrows point the way the computation ran (forward). We have not asked for gradients yet, so
we leave them out of the picture.

# %%
viz.draw(L, show_grad=False)

# %% [markdown]
## Backward

The question backpropagation answers: *if I nudge one input a little, how much does `L`
move?* That is the derivative $\partial L / \partial x$ for every input $x$, stored in
`x.grad`. One call computes all of them:

# %%
L.backward()
viz.draw(L)

# %% [markdown]
### The same numbers, by hand

The chain rule says: the derivative of `L` with respect to some node is the derivative of
`L` with respect to the node's *output*, times the *local* derivative of the node's
operation. So we start at `L` (where $\partial L/\partial L = 1$) and walk back one operation
at a time:

| operation | local derivatives |
| --- | --- |
| `L = d * f` | $\partial L/\partial d = f$, $\partial L/\partial f = d$ |
| `d = e + c` | $\partial d/\partial e = 1$, $\partial d/\partial c = 1$ |
| `e = a * b` | $\partial e/\partial a = b$, $\partial e/\partial b = a$ |

A plus passes the gradient through unchanged; a product sends each factor the *other* factor.

Written as code, with nothing but the forward values:

# %%
dL_dL = 1.0
dL_dd = dL_dL * f.data  # L = d * f
dL_df = dL_dL * d.data
dL_de = dL_dd * 1.0  # d = e + c
dL_dc = dL_dd * 1.0
dL_da = dL_de * b.data  # e = a * b
dL_db = dL_de * a.data

by_hand = {"a": dL_da, "b": dL_db, "c": dL_dc, "f": dL_df}
by_hand

# %% [markdown]
### And a third way: finite differences

A derivative is a limit: $\partial L/\partial a \approx \big(L(a + h) - L(a - h)\big) / 2h$ for
a small $h$. This *central difference* needs no chain rule at all, only the forward
computation, so it is an independent check. We write `L` as a plain Python function of floats:

# %%
def L_of(a, b, c, f):
    return (a * b + c) * f


def central_difference(fn, args, i, h=1e-6):
    """d fn / d args[i] at args, from two evaluations at args[i] +- h."""
    up, down = list(args), list(args)
    up[i] += h
    down[i] -= h
    return (fn(*up) - fn(*down)) / (2 * h)


leaves = [a, b, c, f]
point = [v.data for v in leaves]
print(f"{'input':6}{'autodiff':>10}{'by hand':>10}{'finite diff':>16}")
worst = 0.0
for i, v in enumerate(leaves):
    fd = central_difference(L_of, point, i)
    worst = max(worst, abs(v.grad - by_hand[v.label]), abs(v.grad - fd))
    print(f"{v.label:6}{v.grad:10.4f}{by_hand[v.label]:10.4f}{fd:16.10f}")
print(f"largest disagreement: {worst:.1e}")
assert worst < 1e-6

# %% [markdown]
All three agree. The finite difference is off in the last digits only. Why not exactly? Two
errors pull in opposite directions: a *large* $h$ measures the slope of a chord instead of
the tangent (an error that shrinks like $h^2$ for the central difference, but only like $h$
for the one-sided $\big(L(a+h) - L(a)\big)/h$), and a *tiny* $h$ subtracts two nearly equal
floats and loses digits to rounding. Let us watch that trade-off on a function with
curvature, $\tanh$ at $x = 0.5$, whose derivative we know exactly: $1 - \tanh^2 x$.

# %%
x0 = 0.5
exact = 1 - math.tanh(x0) ** 2
print(f"{'h':>7}{'one-sided error':>18}{'central error':>16}")
for k in range(1, 13, 2):
    h = 10.0**-k
    one_sided = (math.tanh(x0 + h) - math.tanh(x0)) / h
    central = (math.tanh(x0 + h) - math.tanh(x0 - h)) / (2 * h)
    print(f"{h:7.0e}{abs(one_sided - exact):18.1e}{abs(central - exact):16.1e}")

# %% [markdown]
The errors first fall as $h$ shrinks, then rise again once rounding takes over. That is why
gradient checks use central differences with a moderate $h$ (`tg.gradcheck` uses $10^{-6}$
in float64) and compare with a tolerance, never for exact equality. Backpropagation has no
such trade-off: it is exact up to the rounding of each operation.

# %% [markdown]
## A value used twice

What if one value feeds several operations? Take $y = x \cdot x + x$. Calculus says
$dy/dx = 2x + 1$. In the graph, `x` has **three** outgoing arrows: both slots of the product
and one slot of the sum.

# %%
x = Value(3.0, label="x")
xx = x * x
xx.label = "x·x"
y = xx + x
y.label = "y"
y.backward()
print(f"x.grad = {x.grad}, and 2x + 1 = {2 * x.data + 1}")
viz.draw(y)

# %% [markdown]
Each arrow out of `x` is a separate way for a nudge of `x` to reach `y`; the total effect is
the **sum** over all of them: $x$ (through the first slot of the product) $+ \; x$ (the
second slot) $+ \; 1$ (through the sum). This is the multivariable chain rule, and it is why a
backward pass *accumulates* gradients with `+=` instead of overwriting them. (Writing `=`
there is the classic bug of a hand-written backward pass.) To be sure every contribution has
arrived before a node passes its gradient on, the backward pass visits nodes in reverse
*topological order*: a node only after everything that consumed it. minigrad gets such an
order without sorting: every node records its *depth* when it is made (0 for an input, else
one more than its deepest input), so everything that consumed a node is deeper than it, and
the pass goes level by level from the deepest up.

# %% [markdown]
## A neuron

A neuron computes $o = \tanh(x_1 w_1 + x_2 w_2 + b)$: inputs times weights, plus a bias,
squashed by a nonlinearity. We use `micrograd.add_all` for the sum, which makes **one** sum
node with three inputs (as `micrograd.nn.Neuron` does) instead of a chain of two `+` nodes.
The bias is chosen so that the numbers come out round: $o = 1/\sqrt 2$. From here on the
graphs are drawn top to bottom (`rankdir="TB"`) so that the bigger ones fit the page; the
classic left-to-right drawing is `rankdir="LR"`, the default.

# %%
x1 = Value(2.0, label="x1")
x2 = Value(0.0, label="x2")
w1 = Value(-3.0, label="w1")
w2 = Value(1.0, label="w2")
b = Value(6.8813735870195432, label="b")

x1w1 = x1 * w1
x1w1.label = "x1·w1"
x2w2 = x2 * w2
x2w2.label = "x2·w2"
n = micrograd.add_all([x1w1, x2w2, b])
n.label = "n"
o = n.tanh()
o.label = "o"
print(f"o = {o.data:.6f}, 1/sqrt(2) = {1 / math.sqrt(2):.6f}")
viz.draw(o, show_grad=False, rankdir="TB")

# %% [markdown]
### The backward pass, step by step

`viz.backward_steps(o)` runs the backward pass one node at a time *without* touching any
`.grad`, and records each step: which node, its local derivative, its gradient, and what it
passes on to each of its inputs.

# %%
steps = viz.backward_steps(o)
print(steps)

# %% [markdown]
Read it top to bottom. Step 1: the gradient of `o` with respect to itself is 1, and `tanh`'s
local derivative $1 - \tanh^2(n) = 1 - o^2$ turns it into the gradient of `n`. Step 2: the
sum hands that same gradient to each of its three inputs. Later steps: each product sends
each factor the gradient times the *other* factor.

`steps.draw(i)` shows the graph at step `i + 1` of the table (Python counts from 0): nodes
whose gradient is final are green; a pale green node has received some gradient, but its own
step has not come yet, so more may still be added (marked "so far"); the current node is
outlined in orange, and the numbers beside its input edges are what it passes on. The arrows
point the way the forward pass computed; gradients travel against them, from a node back to
its inputs. Here is the sum node's step (step 2 of the table):

# %%
steps.draw(1, rankdir="TB")

# %% [markdown]
…and the next one, where the first product splits its gradient between its factors (each
gets the gradient times the other factor):

# %%
steps.draw(2, rankdir="TB")

# %% [markdown]
Now the real backward pass, and the finished picture:

# %%
o.backward()
viz.draw(o, rankdir="TB")

# %% [markdown]
### Checking the neuron by hand

The chain rule once more, written out. Notice the `x2 * w2` product: because $x_2 = 0$, the
weight $w_2$ gets **zero** gradient: nudging a weight whose input is zero does not change the
output, so there is nothing to learn about it from this example.

# %%
do_dn = 1 - o.data**2  # tanh'(n) = 1 - tanh(n)^2
do_dx1w1 = do_dn * 1.0  # n = x1w1 + x2w2 + b: a sum passes the gradient on unchanged
do_dx2w2 = do_dn * 1.0
do_db = do_dn * 1.0
by_hand = {
    "x1": do_dx1w1 * w1.data,  # x1 * w1: the gradient times the other factor
    "w1": do_dx1w1 * x1.data,
    "x2": do_dx2w2 * w2.data,
    "w2": do_dx2w2 * x2.data,
    "b": do_db,
}


def neuron(x1, x2, w1, w2, b):
    return math.tanh(x1 * w1 + x2 * w2 + b)


leaves = [x1, x2, w1, w2, b]
point = [v.data for v in leaves]
print(f"{'input':6}{'autodiff':>10}{'by hand':>10}{'finite diff':>14}{'steps':>10}")
worst = 0.0
for i, v in enumerate(leaves):
    fd = central_difference(neuron, point, i)
    from_steps = steps.gradient(v)
    worst = max(worst, abs(v.grad - by_hand[v.label]), abs(v.grad - fd),
                abs(v.grad - from_steps))
    print(f"{v.label:6}{v.grad:10.4f}{by_hand[v.label]:10.4f}{fd:14.8f}{from_steps:10.4f}")
print(f"largest disagreement: {worst:.1e}")
assert worst < 1e-6

# %% [markdown]
## Same function, smaller pieces

Nothing forces `tanh` to be one operation. We can write it with exponentials,
$\tanh n = (e^{2n} - 1)/(e^{2n} + 1)$, and the engine differentiates that instead, using only
the rules for `*`, `exp`, `+`, `-` and `/`. The graph gets bigger; the gradients do not change.

# %%
leaves2 = [Value(v.data, label=v.label) for v in leaves]
x1_, x2_, w1_, w2_, b_ = leaves2
n_ = micrograd.add_all([x1_ * w1_, x2_ * w2_, b_])
n_.label = "n"
e2n = (2 * n_).exp()
e2n.label = "e^2n"
o_ = (e2n - 1) / (e2n + 1)
o_.label = "o"
o_.backward()
for old, new in zip(leaves, leaves2):
    print(f"{old.label:3} tanh op: {old.grad: .12f}   via exp: {new.grad: .12f}")
print(f"largest difference: {max(abs(u.grad - v.grad) for u, v in zip(leaves, leaves2)):.1e}")
viz.draw(o_, rankdir="TB")

# %% [markdown]
The level of detail of the operations is a design choice: an operation is welcome as long as
we know its local derivative. Bigger operations mean fewer nodes and a faster backward pass;
that is the idea the tensor engine (`tensorgrad`, next notebook) takes much further.

# %% [markdown]
## Gradients accumulate

A leaf *adds* each backward pass into its `.grad`, as in PyTorch. That is useful (gradients
of several losses add up), but it means a training loop must reset the gradients before
every step — forgetting to is a classic bug. Watch `w1.grad` double:

# %%
before = w1.grad
o.backward()
print(f"w1.grad after one backward: {before:.6f}, after a second one: {w1.grad:.6f}")
for v in leaves:
    v.grad = 0.0  # what Module.zero_grad() does for a model's parameters
print(f"after resetting: {w1.grad:.6f}")

# %% [markdown]
## What to take away

* A gradient is found by walking the graph **backwards**, multiplying by each operation's
  **local derivative** (the chain rule).
* A value used in several places receives the **sum** of the gradients from each use.
* Autodiff, the chain rule by hand and finite differences agree; finite differences are the
  cheap, independent way to test an autodiff engine.

Next: [02 · Scalars vs tensors](02_scalars_vs_tensors.ipynb) — the same network in the scalar
engine and in the tensor engine, and why tensors are so much faster.
'''

NOTEBOOKS["02_scalars_vs_tensors"] = r'''
# %% [markdown]
# 2 · Scalars vs tensors

`micrograd` puts **every number** in its own graph node. That is perfect for seeing the chain
rule, and hopeless for speed: a small network on a batch of data becomes tens of thousands
of Python objects. `tensorgrad` puts a **whole array** in one node, and lets NumPy do the
arithmetic inside each operation. Both engines share the very same backward pass
(`micrograd.autodiff`); only the size of a node differs.

In this notebook we take one network, load the same weights into both engines, and compare:

1. the two graphs, side by side,
2. the gradients (they must be identical, up to rounding),
3. the number of nodes in each graph as the batch grows,
4. the time of one training step as the batch grows.

# %%
import random
import time

import matplotlib.pyplot as plt
import numpy as np

import micrograd
import tensorgrad as tg
import viz
from micrograd import Value
from micrograd.autodiff import topological_order
from micrograd.nn import MLP

# %% [markdown]
## One small network, two engines

`micrograd.nn.MLP(2, [2, 1])` has a hidden layer of two tanh neurons and one linear output
neuron. `tg.nn.MLP.from_micrograd` builds the tensor version with the same weights: row `j` of
the tensor weight matrix `W0` holds the weights of neuron `j` of layer 0.

We give the micrograd inputs labels too (`Value`s instead of plain floats), so that they show
up in the drawing, and we name the parameters so that the two pictures can be matched:
`W0[1,0]` in the micrograd graph is element `(1, 0)` of `W0` in the tensorgrad graph.

# %%
random.seed(1)  # micrograd draws its initial weights from Python's `random`
small = MLP(2, [2, 1], activation="tanh")
small_t = tg.nn.MLP.from_micrograd(small)
print(small)
print(small_t)


def micrograd_names(mlp):
    """{name: Value} for every parameter of a micrograd MLP: W{layer}[row,col], b{layer}[row]."""
    names = {}
    for i, layer in enumerate(mlp.layers):
        for j, neuron in enumerate(layer.neurons):
            for k, w in enumerate(neuron.w):
                names[f"W{i}[{j},{k}]"] = w
            names[f"b{i}[{j}]"] = neuron.b
    return names


def tensorgrad_names(mlp):
    """{name: Parameter}: W{layer} and b{layer}."""
    names = {}
    for i, layer in enumerate(mlp.layers):
        names[f"W{i}"] = layer.weight
        names[f"b{i}"] = layer.bias
    return names


x_values = [Value(0.5, label="x0"), Value(-1.0, label="x1")]
out_scalar = small(x_values)
out_scalar.label = "out"
x_tensor = tg.tensor([[0.5, -1.0]])
x_tensor.label = "x"
out_tensor = small_t(x_tensor)
out_tensor.label = "out"
print(f"micrograd: {out_scalar.data:.12f}   tensorgrad: {out_tensor.item():.12f}")

# %%
names = {**micrograd_names(small), **tensorgrad_names(small_t)}
viz.side_by_side(out_scalar, out_tensor, params=names, show_grad=False, rankdir="TB").combined()

# %% [markdown]
The micrograd graph has a node for every weight, every product $w_{jk} x_k$, every sum and
every tanh. The tensorgrad graph has one node per *array*: the weight matrix
`W0`, its transpose, one `matmul` that computes all the products and sums at once, one `+` for
the bias vector, one `tanh` for the whole layer. The nodes carry shapes (`(1, 2) float64`)
instead of single numbers.

Same function, same numbers — only the bookkeeping is coarser.

## Identical gradients

Now a network of realistic size, `MLP(2, [16, 16, 1])` with ReLU (micrograd's classic), on a
batch of 32 points from the two-moons data set, with a mean squared error loss. We run one
backward pass in each engine and compare every parameter gradient.

# %%
X, y = tg.data.make_moons(128, noise=0.1, rng=0)
y = 2.0 * y - 1.0  # targets -1 and +1

random.seed(0)
model = MLP(2, [16, 16, 1])
model_t = tg.nn.MLP.from_micrograd(model)


def loss_scalar(model, X, y):
    """Mean squared error, one Value per number."""
    preds = [model([float(a), float(b)]) for a, b in X]
    errors = [(p - float(t)) ** 2 for p, t in zip(preds, y)]
    return micrograd.add_all(errors) * (1.0 / len(errors))


def loss_tensor(model, X, y):
    """The same loss with one Tensor per layer."""
    preds = model(tg.tensor(X)).reshape(-1)
    return ((preds - tg.tensor(y)) ** 2).mean()


batch = slice(0, 32)
ls = loss_scalar(model, X[batch], y[batch])
lt = loss_tensor(model_t, X[batch], y[batch])
ls.backward()
lt.backward()
print(f"loss: micrograd {ls.data:.15f}, tensorgrad {lt.item():.15f}")

# %% [markdown]
The gradients, gathered into the same matrix layout (row `j` = neuron `j`):

# %%
diffs = {}
for i, (layer, layer_t) in enumerate(zip(model.layers, model_t.layers)):
    grad_W = np.array([[w.grad for w in neuron.w] for neuron in layer.neurons])
    grad_b = np.array([neuron.b.grad for neuron in layer.neurons])
    diffs[f"W{i}"] = np.abs(grad_W - layer_t.weight.grad.numpy()).max()
    diffs[f"b{i}"] = np.abs(grad_b - layer_t.bias.grad.numpy()).max()
    scale = np.abs(layer_t.weight.grad.numpy()).max()
    print(f"layer {i}: largest |dL/dW| {scale:.3e}, "
          f"max difference W {diffs[f'W{i}']:.1e}, b {diffs[f'b{i}']:.1e}")
worst = max(diffs.values())
print(f"max difference over all {len(model.parameters())} parameters: {worst:.1e}")
assert worst < 1e-12

# %% [markdown]
The differences are at the level of float64 rounding ($10^{-16}$ relative): the two engines
add the same numbers in a different order, nothing more.

## How many nodes?

We count the nodes of each loss graph with `micrograd.autodiff.topological_order`, an
iterative walk over every node's `_prev`: the graph as it is drawn (it never recurses, so it
works on huge graphs).

# %%
batch_sizes = [1, 4, 16, 64, 128]
print(f"{'batch':>6}{'micrograd nodes':>17}{'per example':>13}{'tensorgrad nodes':>18}")
for n in batch_sizes:
    ns = len(topological_order([loss_scalar(model, X[:n], y[:n])]))
    nt = len(topological_order([loss_tensor(model_t, X[:n], y[:n])]))
    print(f"{n:6}{ns:17,}{(ns - len(model.parameters())) / n:13.1f}{nt:18}")

# %% [markdown]
The scalar graph grows with the batch: each example adds hundreds of nodes (one per product,
sum and activation), on top of the network's parameters, which every example shares. The
tensor graph has the same size for any batch: the batch is just a longer first axis of the
arrays. Every node is a Python object that has to be created, visited and freed, so node count
is a good first estimate of the cost of a step. (One shortcut: micrograd makes a neuron's
product nodes only when something looks at them, as this count does. A training step never
looks, and its backward pass takes each neuron's sum as one step, straight to the weights and
inputs. That saves most of the nodes, but a scalar graph still grows with the batch.)

## Time per training step

One training step is: reset the gradients, forward, loss, backward, and a plain SGD update
of every parameter. We time it in both engines for growing batches, for two networks: the
`16-16` network above and a tiny `2 → 4 → 1` one. Each measurement is the best of several
runs (the minimum is least disturbed by whatever else the machine is doing).

# %%
def scalar_step(model, X, y, lr=0.05):
    model.zero_grad()
    loss = loss_scalar(model, X, y)
    loss.backward()
    for p in model.parameters():
        p.data -= lr * p.grad


def tensor_step(model, opt, X, y):
    opt.zero_grad()
    loss = loss_tensor(model, X, y)
    loss.backward()
    opt.step()


def best_time(step, budget=0.3, min_runs=3, max_runs=50):
    """The fastest of several runs of step(): at least min_runs, more while time allows."""
    times = []
    start = time.perf_counter()
    while len(times) < min_runs or (len(times) < max_runs and time.perf_counter() - start < budget):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return min(times)


timings = {}
for hidden in ([16, 16], [4]):
    random.seed(0)
    net = MLP(2, hidden + [1])
    net_t = tg.nn.MLP.from_micrograd(net)
    opt = tg.optim.SGD(net_t.parameters(), lr=0.05)
    key = "-".join(map(str, hidden))
    timings[key] = {"micrograd": [], "tensorgrad": []}
    for n in batch_sizes:
        Xb, yb = X[:n], y[:n]
        timings[key]["micrograd"].append(best_time(lambda: scalar_step(net, Xb, yb)))
        timings[key]["tensorgrad"].append(best_time(lambda: tensor_step(net_t, opt, Xb, yb)))

for key, t in timings.items():
    print(f"network 2 -> {key} -> 1")
    print(f"{'batch':>8}{'micrograd':>12}{'tensorgrad':>12}{'speed-up':>10}")
    for n, ts, tt in zip(batch_sizes, t["micrograd"], t["tensorgrad"]):
        print(f"{n:8}{ts * 1e3:10.2f}ms{tt * 1e3:10.3f}ms{ts / tt:9.1f}x")

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
styles = {"16-16": "-", "4": "--"}
for key, t in timings.items():
    for engine, color in (("micrograd", "tab:orange"), ("tensorgrad", "tab:blue")):
        ax1.plot(batch_sizes, np.array(t[engine]) * 1e3, styles[key], color=color, marker="o",
                 label=f"{engine}, 2-{key}-1")
    ratio = np.array(t["micrograd"]) / np.array(t["tensorgrad"])
    ax2.plot(batch_sizes, ratio, styles[key], color="black", marker="o", label=f"2-{key}-1")
ax1.set(xscale="log", yscale="log", xlabel="batch size", ylabel="ms per training step",
        title="Time per step")
ax2.axhline(1, color="gray", lw=1)
ax2.set(xscale="log", yscale="log", xlabel="batch size",
        ylabel="micrograd time / tensorgrad time", title="Speed-up of tensorgrad")
for ax in (ax1, ax2):
    ax.set_xticks(batch_sizes, [str(n) for n in batch_sizes])
    ax.legend()
fig.tight_layout()

# %% [markdown]
Reading the plot:

* **micrograd's time grows in proportion to the batch** (a slope of 1 on the log-log plot):
  every example is another few hundred Python objects, each created, visited and freed. (On a
  busy machine the points wobble; the trend is what matters.)
* **tensorgrad's time barely moves.** Its cost is a fixed number of NumPy calls per step, and
  each call has an overhead of microseconds no matter how many numbers it handles; the
  arithmetic itself is tiny at these sizes.
* So the **speed-up grows with the batch**. Where the two curves cross depends on how much
  work each tensor node carries: for the tiny network on a single example, a handful of scalar
  nodes may cost less than a tensor engine's fixed overhead. The numbers above tell, for this
  machine:

# %%
for key, t in timings.items():
    faster = [n for n, ts, tt in zip(batch_sizes, t["micrograd"], t["tensorgrad"]) if tt < ts]
    first = f"from batch size {faster[0]} on" if faster else "at none of these batch sizes"
    ratio = t["micrograd"][-1] / t["tensorgrad"][-1]
    print(f"2-{key}-1: tensorgrad is faster {first}; "
          f"at batch {batch_sizes[-1]} by {ratio:.0f}x")

# %% [markdown]
## What to take away

* The two engines compute **the same function and the same gradients**; they share one
  backward pass. What differs is the *granularity* of a node: a number or an array.
* Python-level work is proportional to the number of nodes. A scalar graph has nodes per
  example; a tensor graph has nodes per layer. Vectorizing moves the per-number work into
  NumPy's compiled loops and BLAS, and it pays off more the more numbers each node holds.

Next: [03 · Broadcasting and matmul](03_broadcasting_and_matmul.ipynb) — the two places
where tensor gradients need more care than scalar ones.
'''

NOTEBOOKS["03_broadcasting_and_matmul"] = r'''
# %% [markdown]
# 3 · Broadcasting and matmul

Moving from scalars to arrays changes almost nothing about backpropagation — each operation
still multiplies the incoming gradient by its local derivative — with two exceptions that
need real thought:

1. **Broadcasting.** NumPy silently stretches arrays to a common shape (`(4, 3) + (3,)`
   works). The gradient has to be *summed back* to the shape of the input that was stretched.
2. **Matrix multiplication.** Its gradient is itself a pair of matrix products, and NumPy's
   `@` has special rules for 1-D and batched operands that the gradient has to undo.

Along the way we check the engine's gradients by hand, and with `tg.gradcheck`, which compares
them against central finite differences in float64.

# %%
import numpy as np

import tensorgrad as tg
import viz

rng = np.random.default_rng(0)

# %% [markdown]
## A bias added to a batch

A linear layer computes `Y = X @ W + b` for a batch `X` of 4 examples with 3 features (here
`W` has shape `(in, out)`; `tg.nn.Linear` stores PyTorch's `(out, in)` and computes
`X @ W.T + b`, the same product with a transposed view). `b`
has shape `(2,)`, one number per output, but `X @ W` has shape `(4, 2)`: NumPy broadcasts `b`
to every row. We call `retain_grad()` on `Y` so that its gradient (an interior node's) is kept
for us to look at.

# %%
X = tg.tensor(rng.normal(size=(4, 3)))
X.label = "X"
W = tg.tensor(rng.normal(size=(3, 2)), requires_grad=True)
W.label = "W"
b = tg.tensor([0.5, -0.5], requires_grad=True)
b.label = "b"
T = tg.tensor(rng.normal(size=(4, 2)))
T.label = "target"

Y = (X @ W + b).retain_grad()
Y.label = "Y"
loss = ((Y - T) ** 2).sum()
loss.label = "loss"
loss.backward()
print("Y.grad shape:", Y.grad.shape, "   b.grad shape:", b.grad.shape)
viz.draw(loss, rankdir="TB")

# %% [markdown]
`Y.grad` has one entry per element of `Y`: shape `(4, 2)`. But `b` has only 2 numbers, so its
gradient must have shape `(2,)`. Where does the batch axis go?

Broadcasting **copied** `b` into each of the 4 rows. A copy is a value used several times —
exactly the `x * x + x` case from notebook 1 — so its gradient is the **sum** of the gradients
of all its copies: sum `Y.grad` over the batch axis.

# %%
by_hand = Y.grad.numpy().sum(axis=0)
print("sum of Y.grad over the batch:", by_hand)
print("b.grad from the engine:      ", b.grad.numpy())
assert np.allclose(by_hand, b.grad.numpy())

# %% [markdown]
What if an engine forgot to sum? NumPy would not complain. A gradient step on `b` would
broadcast as well, and quietly turn the bias vector into a matrix:

# %%
wrong_step = b.numpy() - 0.1 * Y.grad.numpy()  # the unsummed (4, 2) gradient
print("b has shape", b.shape, "but the wrong update has shape", wrong_step.shape)

# %% [markdown]
### The general rule: un-broadcast

Broadcasting does two things to a shape, and the gradient undoes both:

1. it **prepends** axes (`(3,)` against `(4, 3)` behaves like `(1, 3)`), so sum the gradient
   over the extra leading axes;
2. it **stretches** axes of size 1 (`(4, 1)` against `(4, 3)`), so sum over those axes and keep
   them as size 1.

Here it is as a function — a few lines, and the only broadcasting logic a backward pass needs:

# %%
def unbroadcast(grad, shape):
    """Sum `grad` down to `shape`: the gradient of broadcasting an array of `shape`."""
    while grad.ndim > len(shape):  # 1. axes that broadcasting prepended
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):  # 2. axes of size 1 that were stretched
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad

# %% [markdown]
We test it against the engine on a product `out = p * q` for many shape pairs. The local
derivative of a product with respect to `q` is `p`, so the gradient of `q` is
`unbroadcast(G * p, q.shape)`, where `G` is the gradient arriving at `out` (random weights
here, so that no two entries are alike). `gradcheck` independently checks the engine's
gradients for `p` and `q` with finite differences.

# %%
pairs = [
    ((4, 3), (3,)),
    ((4, 3), (4, 1)),
    ((4, 3), (1, 3)),
    ((4, 3), ()),
    ((2, 1, 3), (5, 1)),
    ((5, 1, 4), (1, 3, 1)),
    ((3,), (2, 4, 3)),
]
print(f"{'p':>10}{'q':>11}{'out':>11}{'q.grad':>11}  by hand  gradcheck")
for p_shape, q_shape in pairs:
    p = tg.tensor(rng.normal(size=p_shape), requires_grad=True)
    q = tg.tensor(rng.normal(size=q_shape), requires_grad=True)
    out = p * q
    G = rng.uniform(0.5, 1.5, size=out.shape)
    (out * G).sum().backward()
    p_stretched = np.broadcast_to(p.numpy(), out.shape)
    hand = unbroadcast(G * p_stretched, q_shape)
    same = hand.shape == q.grad.shape and np.allclose(hand, q.grad.numpy())
    checked = tg.gradcheck(lambda p, q: p * q, [p, q])
    print(f"{str(p_shape):>10}{str(q_shape):>11}{str(out.shape):>11}{str(q.grad.shape):>11}"
          f"  {str(same):7}  {checked}")
    assert same and checked

# %% [markdown]
Broadcasting can also be made explicit: `b.broadcast_to((4, 2))` is an operation of its own,
and its gradient rule is exactly `unbroadcast`. Seen that way, the bias example is just one
more node in the graph:

# %%
stretched = b.broadcast_to((4, 2))
stretched.label = "b stretched"
Y2 = X @ W + stretched
loss2 = ((Y2 - T) ** 2).sum()
g_explicit = tg.grad(loss2, [b])[0]
print("gradient of b with an explicit broadcast_to:", g_explicit.numpy())
same = np.allclose(g_explicit.numpy(), b.grad.numpy())
print("same as before:", same)
assert same
viz.draw(loss2, show_grad=False, rankdir="TB")

# %% [markdown]
## Matrix multiplication

For `C = A @ B` with `A` of shape `(n, k)` and `B` of shape `(k, m)`, each entry is a sum of
products: $C_{ij} = \sum_l A_{il} B_{lj}$. If `G` is the gradient arriving at `C` (shape
`(n, m)`), the chain rule for one entry of `A` sums over every entry of `C` it touched:

$$\frac{\partial L}{\partial A_{il}} = \sum_j G_{ij} B_{lj} = (G B^\top)_{il},
\qquad \frac{\partial L}{\partial B_{lj}} = \sum_i A_{il} G_{ij} = (A^\top G)_{lj}.$$

A handy memory aid: there is only one way to multiply `G` with `B` or `A` that gives the right
*shape*. `A.grad` must be `(n, k)`: `(n, m) @ (m, k)` is $G B^\top$. `B.grad` must be
`(k, m)`: `(k, n) @ (n, m)` is $A^\top G$.

# %%
A = tg.tensor(rng.normal(size=(2, 3)), requires_grad=True)
B = tg.tensor(rng.normal(size=(3, 4)), requires_grad=True)
C = A @ B
G = rng.normal(size=C.shape)  # any gradient arriving at C
C.backward(G)
checks = {"A.grad == G @ B.T": np.allclose(A.grad.numpy(), G @ B.numpy().T),
          "B.grad == A.T @ G": np.allclose(B.grad.numpy(), A.numpy().T @ G)}
for claim, holds in checks.items():
    print(f"{claim}: {holds}")
assert all(checks.values())

# %% [markdown]
### 1-D and batched operands

NumPy's `@` (and tensorgrad's, which follows it) accepts more than matrices:

* a **1-D left operand** `(k,)` is treated as a row `(1, k)`, and the added axis is removed
  from the result;
* a **1-D right operand** `(k,)` is treated as a column `(k, 1)`, and that axis is removed too;
  two 1-D operands give a dot product, a 0-d array;
* with **more than two axes**, the last two are the matrices and the leading ones are a
  *batch*, broadcast against each other like any other shapes.

The gradient undoes each step: promote the 1-D operands, apply the 2-D rule batch by batch,
drop the added axes again, and **un-broadcast** over batch axes that an operand did not have
(a matrix shared by a whole batch collects the gradient of every batch element). The table
shows the shapes, and that every case passes `gradcheck`:

# %%
cases = [
    ((2, 3), (3, 4)),
    ((3,), (3, 4)),
    ((2, 3), (3,)),
    ((3,), (3,)),
    ((5, 2, 3), (3, 4)),
    ((5, 2, 3), (5, 3, 4)),
    ((5, 2, 3), (3,)),
    ((2, 1, 2, 3), (5, 3, 4)),
]
print(f"{'A':>13}{'B':>11}{'A @ B':>15}{'A.grad':>14}{'B.grad':>11}  gradcheck")
for a_shape, b_shape in cases:
    A = tg.tensor(rng.normal(size=a_shape), requires_grad=True)
    B = tg.tensor(rng.normal(size=b_shape), requires_grad=True)
    C = A @ B
    C.backward(np.ones(C.shape))
    assert A.grad.shape == A.shape and B.grad.shape == B.shape
    checked = tg.gradcheck(lambda a, b: a @ b, [A, B])
    print(f"{str(a_shape):>13}{str(b_shape):>11}{str(C.shape):>15}"
          f"{str(A.grad.shape):>14}{str(B.grad.shape):>11}  {checked}")

# %% [markdown]
### Two of them by hand

**Vector times matrix.** For `c = v @ M` with `v` of shape `(k,)`: promoting `v` to a row
`(1, k)` and applying the 2-D rule gives $v$-gradient $= (G M^\top)$ as a row, i.e. `M @ g`,
and $M$-gradient $= v^\top g$, a column times a row: the **outer product** `np.outer(v, g)`.

# %%
v = tg.tensor(rng.normal(size=3), requires_grad=True)
M = tg.tensor(rng.normal(size=(3, 4)), requires_grad=True)
c = v @ M
g = rng.normal(size=c.shape)
c.backward(g)
checks = {"v.grad == M @ g": np.allclose(v.grad.numpy(), M.numpy() @ g),
          "M.grad == outer(v, g)": np.allclose(M.grad.numpy(), np.outer(v.numpy(), g))}
for claim, holds in checks.items():
    print(f"{claim:24} {holds}")
assert all(checks.values())

# %% [markdown]
**A batch of matrices times one shared matrix.** For `C = A @ B` with `A` of shape `(5, 2, 3)`
and `B` of shape `(3, 4)`, `B` takes part in all 5 products, so its gradient is the sum of the
5 per-batch gradients $\sum_b A_b^\top G_b$ — un-broadcasting again. `np.einsum` writes that
sum down directly:

# %%
A = tg.tensor(rng.normal(size=(5, 2, 3)), requires_grad=True)
B = tg.tensor(rng.normal(size=(3, 4)), requires_grad=True)
C = A @ B
G = rng.normal(size=C.shape)
C.backward(G)
B_by_hand = np.einsum("bik,bij->kj", A.numpy(), G)  # sum over the batch b and rows i
A_by_hand = G @ B.numpy().T  # (5, 2, 4) @ (4, 3): one G_b B^T per batch element
checks = {"B.grad == sum_b A_b^T G_b": np.allclose(B.grad.numpy(), B_by_hand),
          "A.grad == G_b B^T": np.allclose(A.grad.numpy(), A_by_hand)}
for claim, holds in checks.items():
    print(f"{claim:26} {holds}")
assert all(checks.values())

# %% [markdown]
This is what a linear layer does to a batch of sequences, for example. In the drawing, the
interior nodes whose gradients we retained show them: every gradient has its node's shape.
The `(3, 4)` weight receives a `(3, 4)` gradient although it was used for all 5 × 2 rows, and
the `(4,)` bias a `(4,)` one — both un-broadcast over the batch.

# %%
A = tg.tensor(rng.normal(size=(5, 2, 3)))
A.label = "batch A"
B = tg.tensor(rng.normal(size=(3, 4)), requires_grad=True)
B.label = "weight B"
bias = tg.tensor(np.zeros(4), requires_grad=True)
bias.label = "bias"
AB = (A @ B).retain_grad()
Z = (AB + bias).retain_grad()
Z.label = "Z"
out = (Z.tanh() ** 2).mean()
out.label = "loss"
out.backward()
viz.draw(out, rankdir="TB")

# %% [markdown]
## What to take away

* A broadcast is a copy, and a copied value gets the **sum** of its copies' gradients:
  `unbroadcast` sums over prepended axes and over stretched size-1 axes.
* Matmul's gradients are matmuls: $G B^\top$ and $A^\top G$. Shapes tell you which.
* 1-D operands are promoted to a row or a column and the gradient drops that axis again;
  batch axes broadcast, so a shared matrix sums its gradient over the batch.
* When in doubt, `tg.gradcheck(fn, inputs)` compares any function's gradients with finite
  differences.

Next: [04 · Training](04_training.ipynb) — put it all together and train some networks.
'''

NOTEBOOKS["04_training"] = r'''
# %% [markdown]
# 4 · Training

Time to use the gradients. Training is a loop of four lines: compute the loss, reset the
gradients, `backward()`, and let an optimizer nudge every parameter against its gradient.
We train small networks on three data sets:

* **two moons** and **spirals** — 2-D points, so we can draw the *decision boundary* the
  network learned;
* **handwritten digits** (8 × 8 pixel images, bundled with scikit-learn) — a real
  classification task, measured on examples the network never saw.

Then we look inside a deep network at initialisation and watch its gradients **vanish** on
the way back to the first layers — and not vanish when the only change is the activation
function.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap

import tensorgrad as tg
import tensorgrad.nn.functional as F
import viz

tg.manual_seed(0)  # tensorgrad's default generator: the same initial weights every run
notebook_start = time.perf_counter()

# %% [markdown]
## The training loop

The whole loop, used for every data set below. Full batch (all the points at each step) for
the small 2-D sets, and [Adam](https://arxiv.org/abs/1412.6980), an optimizer that scales
each parameter's step by a running estimate of its gradient's size, so one learning rate
works for all layers.

# %%
def train(model, X, y, steps, lr=0.01):
    """Full-batch training with Adam on the cross-entropy loss; returns the loss per step."""
    opt = tg.optim.Adam(model.parameters(), lr=lr)
    X, losses = tg.tensor(X), []
    for _ in range(steps):
        loss = F.cross_entropy(model(X), y)  # softmax + negative log-likelihood, fused
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


@tg.no_grad()  # no graph is needed to evaluate
def predict(model, X):
    return model(tg.tensor(X)).numpy().argmax(axis=1)


def fit(model, X, y, X_test, y_test, steps):
    """Train, print the time and both accuracies; return the losses and the test accuracy."""
    start = time.perf_counter()
    losses = train(model, X, y, steps=steps)
    seconds = time.perf_counter() - start
    train_acc = (predict(model, X) == y).mean()
    test_acc = (predict(model, X_test) == y_test).mean()
    print(f"{steps} steps in {seconds:.2f} s; final loss {losses[-1]:.4f}")
    print(f"accuracy: train {train_acc:.1%}, test {test_acc:.1%}")
    return losses, test_acc


@tg.no_grad()
def plot_boundary(ax, model, X, y, title):
    """Color the plane by the predicted class and scatter the points on top."""
    lo, hi = X.min(axis=0) - 0.3, X.max(axis=0) + 0.3
    xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], 200), np.linspace(lo[1], hi[1], 200))
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    zz = predict(model, grid).reshape(xx.shape)
    k = int(y.max()) + 1
    cmap = ListedColormap(["tab:blue", "tab:red", "tab:green"][:k])
    ax.contourf(xx, yy, zz, levels=np.arange(k + 1) - 0.5, cmap=cmap, alpha=0.25)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap=cmap, s=12, edgecolors="k", linewidths=0.3)
    ax.set(title=title, xticks=[], yticks=[])

# %% [markdown]
## Two moons

Two interleaving half circles; no straight line separates them, so the network has to bend
its boundary. We hold out a second sample from the same distribution as a test set.

# %%
X_moons, y_moons = tg.data.make_moons(200, noise=0.15, rng=0)
X_moons_test, y_moons_test = tg.data.make_moons(200, noise=0.15, rng=1)

moons_model = tg.nn.MLP(2, [16, 16, 2], activation="relu")
moons_losses, moons_test_acc = fit(moons_model, X_moons, y_moons, X_moons_test, y_moons_test,
                                   steps=500)

# %% [markdown]
## Spirals

Three arms winding around each other: a much more tangled boundary. A wider network (32 units
per hidden layer) and more steps.

# %%
X_spiral, y_spiral = tg.data.make_spirals(100, n_classes=3, noise=0.2, rng=0)
X_spiral_test, y_spiral_test = tg.data.make_spirals(100, n_classes=3, noise=0.2, rng=1)

spiral_model = tg.nn.MLP(2, [32, 32, 3], activation="relu")
spiral_losses, spiral_test_acc = fit(spiral_model, X_spiral, y_spiral, X_spiral_test,
                                     y_spiral_test, steps=1500)
assert moons_test_acc > 0.9 and spiral_test_acc > 0.9  # both problems are learned

# %%
fig, axes = plt.subplots(1, 3, figsize=(14, 4))
axes[0].plot(moons_losses, label="moons")
axes[0].plot(spiral_losses, label="spirals")
axes[0].set(yscale="log", xlabel="step", ylabel="cross-entropy (training set)",
            title="Loss curves")
axes[0].legend()
plot_boundary(axes[1], moons_model, X_moons, y_moons,
              f"moons: test accuracy {moons_test_acc:.1%}")
plot_boundary(axes[2], spiral_model, X_spiral, y_spiral,
              f"spirals: test accuracy {spiral_test_acc:.1%}")
fig.tight_layout()

# %% [markdown]
The loss falls quickly at first and then slowly (the log scale shows the slow part). The
boundaries follow the data: ReLU networks carve the plane into many small linear pieces, which
is why the spiral boundary looks slightly angular. With training accuracy near 100%, the
test accuracy — points the network never saw — is the honest number.

## Handwritten digits

1,797 grayscale images of 8 × 8 pixels, labels 0–9. `tg.data.load_digits` needs scikit-learn
(an optional dependency), so this part is skipped without it. We flatten each image into 64
features, hold out 20% as a test set, and train on **mini-batches** of 64 with AdamW (Adam with
weight decay, a mild pull of every weight towards zero).

# %%
try:
    X_digits, y_digits = tg.data.load_digits()
except ImportError as err:
    X_digits = None
    print(f"skipping the digits: {err}")
else:
    order = np.random.default_rng(0).permutation(len(X_digits))
    n_test = len(X_digits) // 5
    test_idx, train_idx = order[:n_test], order[n_test:]
    X_train, y_train = X_digits[train_idx], y_digits[train_idx]
    X_test, y_test = X_digits[test_idx], y_digits[test_idx]
    print(f"{len(X_train)} training images, {len(X_test)} test images, {X_train.shape[1]} pixels")

# %%
if X_digits is not None:
    digits_model = tg.nn.MLP(64, [64, 10], activation="relu")
    opt = tg.optim.AdamW(digits_model.parameters(), lr=3e-3, weight_decay=1e-2)
    history = {"train loss": [], "test loss": [], "test accuracy": []}
    start = time.perf_counter()
    for epoch in range(25):
        epoch_losses = []
        for xb, yb in tg.data.batches(X_train, y_train, batch_size=64, rng=epoch):
            loss = F.cross_entropy(digits_model(tg.tensor(xb)), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            epoch_losses.append(loss.item())
        with tg.no_grad():
            test_logits = digits_model(tg.tensor(X_test))
            history["test loss"].append(F.cross_entropy(test_logits, y_test).item())
            pred = test_logits.numpy().argmax(axis=1)
        history["train loss"].append(np.mean(epoch_losses))
        history["test accuracy"].append((pred == y_test).mean())
    digits_seconds = time.perf_counter() - start
    print(f"25 epochs in {digits_seconds:.1f} s")
    print(f"test accuracy after the last epoch: {history['test accuracy'][-1]:.1%} "
          f"({(pred != y_test).sum()} of {len(y_test)} test images wrong)")
    assert history["test accuracy"][-1] > 0.9

# %%
if X_digits is not None:
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.5))
    epochs = np.arange(1, 26)
    ax1.plot(epochs, history["train loss"], label="train (mean over the epoch)")
    ax1.plot(epochs, history["test loss"], label="test (after the epoch)")
    ax1.set(yscale="log", xlabel="epoch", ylabel="cross-entropy", title="Digits: loss")
    ax1.legend()
    ax2.plot(epochs, np.array(history["test accuracy"]) * 100)
    ax2.set(xlabel="epoch", ylabel="test accuracy (%)", title="Digits: test accuracy")
    fig.tight_layout()

# %% [markdown]
Some test images with the network's guess and, in brackets, the true label. The mistakes come
first, in red:

# %%
if X_digits is not None:
    wrong, right = np.flatnonzero(pred != y_test), np.flatnonzero(pred == y_test)
    shown = np.concatenate([wrong[:8], right[: 16 - min(8, len(wrong))]])
    fig, axes = plt.subplots(2, 8, figsize=(11, 3.2))
    for ax, idx in zip(axes.ravel(), shown):
        ax.imshow(X_test[idx].reshape(8, 8), cmap="gray_r")
        color = "red" if pred[idx] != y_test[idx] else "black"
        ax.set_title(f"{pred[idx]} ({y_test[idx]})", color=color, fontsize=10)
        ax.axis("off")
    fig.tight_layout()

# %% [markdown]
The test loss follows the training loss down and then flattens while the training loss keeps
falling: from there on, the network mostly gets better at the images it has already seen.
Low-resolution digits are hard for people too; some of the mistakes are understandable.

## Vanishing gradients

Why did deep networks long refuse to train? Take a deep, narrow network: 10 linear layers, 8
units wide, tanh between them. And give it a deliberately **bad initialisation**: weights of a
reasonable size (Glorot/Xavier), but **every bias set to 2**. A bias of 2 pushes the tanh
units onto the flat shoulder of their curve, where the slope $\tanh'(u) = 1 - \tanh^2 u$ is
small:

# %%
print(f"tanh'(0) = {1 - np.tanh(0.0) ** 2:.3f},  tanh'(2) = {1 - np.tanh(2.0) ** 2:.3f}")

# %% [markdown]
On the way back, the chain rule multiplies the gradient by that slope once per layer. Ten
small factors make a tiny product. To *see* it, we keep the gradient of every layer's output
(`retain_grad()`) and draw the graph with each node colored by the size of its gradient
(`color_by="grad"`, a log scale: each color is a factor of 10).

We build the network as `tg.nn.MLP` (so it has named parameters to label the drawing) but run
the layers ourselves, to call `retain_grad()` on each layer's output $z = h W^\top + b$.

# %%
def deep_net(activation, depth=10, width=8):
    """depth Linear layers of `width` units; Xavier weights and biases of 2 (the bad part)."""
    model = tg.nn.MLP(2, [width] * (depth - 1) + [2], activation=activation)
    init_rng = np.random.default_rng(0)  # the same weights for every activation
    for layer in model.layers:
        tg.nn.init.xavier_normal_(layer.weight, rng=init_rng)
        tg.nn.init.constant_(layer.bias, 2.0)
    return model


def forward_keeping_grads(model, x):
    """model(x), but every layer's output z keeps its gradient; returns (output, [z, ...])."""
    h, zs = tg.tensor(x), []
    h.label = "x"
    last = len(model.layers) - 1
    for i, layer in enumerate(model.layers):
        z = layer.bias + h @ layer.weight.T  # layer(h); the bias first keeps the drawing narrow
        z.retain_grad()
        z.label = f"z{i}"
        zs.append(z)
        h = z if i == last else getattr(z, model.activation)()
    return h, zs


X_batch, y_batch = X_moons[:64], y_moons[:64]
nets, zs = {}, {}
for act in ("tanh", "relu"):
    nets[act] = deep_net(act)
    out, zs[act] = forward_keeping_grads(nets[act], X_batch)
    loss = F.cross_entropy(out, y_batch)
    loss.label = f"loss ({act})"
    loss.backward()
    nets[act].loss = loss
print("loss at initialisation:", {act: round(net.loss.item(), 4) for act, net in nets.items()})

# %% [markdown]
Below, the tanh network on the left and **the same weights and biases** with ReLU on the
right. The input is at the top, the loss at the bottom; the gradient flows upwards. Each
node is colored by the size of its gradient; `side_by_side` puts both networks on one log
scale (the legend beside each), so the same color means the same size on both sides. White
nodes are intermediate results whose gradient was not kept.

# %%
names = [(f"{kind}{i}", getattr(layer, attr))
         for net in nets.values()
         for i, layer in enumerate(net.layers)
         for kind, attr in (("W", "weight"), ("b", "bias"))]
viz.side_by_side(nets["tanh"].loss, nets["relu"].loss, titles=("tanh", "relu"),
                 color_by="grad", params=names, show_data=False, rankdir="TB")

# %% [markdown]
In the tanh network the colors fade from dark orange near the loss to pale yellow near the
input: the first layers' gradients are many powers of ten smaller than the last layers'. In
the ReLU network they stay in the same few shades. ReLU's slope is exactly 1 wherever a unit
is active, and the positive bias keeps most units active. Layer by layer — the norm of the
gradient at each layer's output `z` and at its weight matrix `W`:

# %%
norms = {}
for act in ("tanh", "relu"):
    norms[act] = {
        "z": [float(np.linalg.norm(z.grad.numpy())) for z in zs[act]],
        "W": [float(np.linalg.norm(layer.weight.grad.numpy())) for layer in nets[act].layers],
    }
print(f"{'layer':>5} {'|dL/dz| tanh':>13} {'relu':>9}   {'|dL/dW| tanh':>13} {'relu':>9}")
for i in range(len(zs["tanh"])):
    print(f"{i:5} {norms['tanh']['z'][i]:13.2e} {norms['relu']['z'][i]:9.2e}"
          f"   {norms['tanh']['W'][i]:13.2e} {norms['relu']['W'][i]:9.2e}")
for act in ("tanh", "relu"):
    z = norms[act]["z"]
    per_layer = (z[0] / z[-1]) ** (1 / (len(z) - 1))
    print(f"{act}: first layer / last layer = {z[0] / z[-1]:.1e}, "
          f"i.e. a factor of {per_layer:.2f} per layer")
shrink = {act: norms[act]["z"][0] / norms[act]["z"][-1] for act in norms}
assert shrink["tanh"] < 1e-3 * shrink["relu"]  # orders of magnitude more shrinking in tanh

# %%
fig, ax = plt.subplots(figsize=(7, 3.5))
layers = np.arange(len(zs["tanh"]))
for act, color in (("tanh", "tab:red"), ("relu", "tab:green")):
    ax.plot(layers, norms[act]["z"], "o-", color=color, label=f"{act}: |dL/dz|")
    ax.plot(layers, norms[act]["W"], "s--", color=color, alpha=0.6, label=f"{act}: |dL/dW|")
ax.set(yscale="log", xlabel="layer (0 = nearest the input)", ylabel="gradient norm",
       title="Gradient size by layer, at initialisation")
ax.legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
What the slopes predict: the average slope of tanh at the units' actual inputs, compared with
the measured shrink factor per layer above.

# %%
with tg.no_grad():
    pre = [z.numpy() for z in zs["tanh"][:-1]]  # the inputs of the tanh units
slopes = [float(np.mean(1 - np.tanh(p) ** 2)) for p in pre]
saturated = np.mean([np.mean(np.abs(p) > 1.5) for p in pre])
print("mean tanh slope per layer:", " ".join(f"{s:.2f}" for s in slopes))
print(f"typical slope (geometric mean over the layers): {np.exp(np.mean(np.log(slopes))):.2f}")
print(f"share of tanh units with |input| > 1.5 (on the flat part): {saturated:.0%}")
print(f"ReLU units active (slope 1): "
      f"{np.mean([np.mean(z.numpy() > 0) for z in zs['relu'][:-1]]):.0%}")

# %% [markdown]
Most tanh units sit on the flat part, and the typical slope is in the same range as the
shrink factor per layer measured above: the weights are sized to keep the signal steady
otherwise, so each layer scales the gradient by roughly its units' slope. Over ten layers that
compounds, and gradient descent barely moves the first layers: their updates are that many
times smaller than the last layers'. This is the **vanishing gradient problem**. The ReLU
network's gradient shrinks somewhat too (its inactive units pass nothing back), but by orders
of magnitude less.

The cures are the reasons modern networks look the way they do: activations that do not
saturate (ReLU and its relatives), an initialisation matched to the activation, normalisation
layers, and residual connections that give the gradient a path around the nonlinearities.

ReLU is no cure-all, though: a unit whose input is negative has slope 0 and passes nothing
back. Flip the biases to −2, and count how many ReLU units are still active:

# %%
dead_net = deep_net("relu")
for layer in dead_net.layers[:-1]:
    tg.nn.init.constant_(layer.bias, -2.0)
with tg.no_grad():
    _, zs_dead = forward_keeping_grads(dead_net, X_batch)
active = [float(np.mean(z.numpy() > 0)) for z in zs_dead[:-1]]
print("share of active ReLU units per layer with biases of -2:",
      " ".join(f"{a:.0%}" for a in active))
assert max(active) == 0

# %% [markdown]
None at all. With these small weights no input gets a first-layer unit past its bias of −2, so
the first layer outputs only zeros; every later layer then sees zeros and computes
ReLU(−2) = 0 too. The units are *dead*: their slope is 0, so no gradient reaches any weight,
nor any bias but the last layer's, and gradient descent can never revive them. This network
cannot learn at all: one reason ReLU networks start with biases at or near 0.

# %%
print(f"the whole notebook ran in {time.perf_counter() - notebook_start:.1f} s")

# %% [markdown]
## What to take away

* Training is a four-line loop: loss, `zero_grad()`, `backward()`, `step()`.
* Judge a model on data it has not seen: the test accuracy, not the training loss.
* The chain rule *multiplies* slopes layer by layer. Slopes below 1 make gradients vanish
  exponentially with depth; drawing the graph colored by gradient size makes that visible.

Next: [05 · Higher-order derivatives](05_higher_order.ipynb) — differentiate the gradient
itself.
'''

NOTEBOOKS["05_higher_order"] = r'''
# %% [markdown]
# 5 · Derivatives of derivatives

A backward pass is itself a computation: multiplications and additions of the forward values
and the incoming gradients. If the engine **records** that computation as a graph, the
gradient becomes an ordinary node, and we can differentiate it again. That is what
`create_graph=True` does, in both engines:

```python
(df_dx,) = micrograd.grad(f, [x], create_graph=True)   # a Value with a graph behind it
(d2f_dx2,) = micrograd.grad(df_dx, [x])                 # differentiate the derivative
```

Second derivatives answer questions about *curvature*: how fast the slope changes. We use them
for three things:

1. second and third derivatives of a scalar function, checked by hand and by finite
   differences;
2. **Hessian-vector products** — the curvature of a loss along a direction — for a model with
   many parameters, without ever building the full matrix of second derivatives;
3. **Newton's method**, which uses the curvature to take much better steps than gradient
   descent.

# %%
import math

import matplotlib.pyplot as plt
import numpy as np

import micrograd
import tensorgrad as tg
import tensorgrad.nn.functional as F
import viz
from micrograd import Value

# %% [markdown]
## The second derivative of a scalar function

Take $f(x) = x^2 \sin x$ at $x = 1.3$. By the product rule,

$$f'(x) = 2x \sin x + x^2 \cos x, \qquad f''(x) = 2 \sin x + 4x \cos x - x^2 \sin x,$$
$$f^{(3)}(x) = 6 \cos x - 6x \sin x - x^2 \cos x.$$

# %%
x = Value(1.3, label="x")
f = x**2 * x.sin()
f.label = "f"
(df,) = micrograd.grad(f, [x], create_graph=True)
(d2f,) = micrograd.grad(df, [x], create_graph=True)
(d3f,) = micrograd.grad(d2f, [x])

X0 = x.data
formulas = [
    2 * X0 * math.sin(X0) + X0**2 * math.cos(X0),
    2 * math.sin(X0) + 4 * X0 * math.cos(X0) - X0**2 * math.sin(X0),
    6 * math.cos(X0) - 6 * X0 * math.sin(X0) - X0**2 * math.cos(X0),
]
for order, (auto, exact) in enumerate(zip([df, d2f, d3f], formulas), start=1):
    print(f"order {order}: autodiff {auto.data: .12f}   formula {exact: .12f}")
    assert abs(auto.data - exact) < 1e-12

# %% [markdown]
`df` is a `Value` like any other, with a graph that records how the backward pass computed
it. In the drawing you can find the starting gradient (the constant 1, for
$\partial f/\partial f$), the power rule for $x^2$ ($2 \cdot x^1$), `cos` (the derivative of
`sin`), and the product rule's two terms added up at the end. Those operations are what the
second `grad` call differentiates. (`micrograd.grad` leaves every `.grad` alone, so we draw
values only.)

# %%
df.label = "df/dx"
viz.draw(df, show_grad=False, rankdir="TB")

# %% [markdown]
A check that does not trust any derivative formula or any second-order machinery: a central
difference of the **first** derivative (computed by an ordinary backward pass at $x \pm h$)
approximates the second derivative.

# %%
def first_derivative(x0):
    x = Value(x0)
    f = x**2 * x.sin()
    f.backward()
    return x.grad


h = 1e-5
fd_second = (first_derivative(X0 + h) - first_derivative(X0 - h)) / (2 * h)
print(f"f''(1.3): autodiff {d2f.data:.10f}, finite difference of f' {fd_second:.10f}, "
      f"difference {abs(d2f.data - fd_second):.1e}")
assert abs(d2f.data - fd_second) < 1e-6

# %% [markdown]
## Hessian-vector products

For a function of many parameters $w$, the second derivatives form the **Hessian** matrix
$H_{ij} = \partial^2 L / \partial w_i \partial w_j$. With a million parameters it has a million
squared entries — far too many to build. But we rarely need $H$ itself, only its product with
a vector $v$ (the change of the gradient when $w$ moves along $v$), and there is a trick:

$$H v = \nabla_w \big( \nabla_w L \cdot v \big).$$

The gradient, dotted with a fixed vector $v$, is a scalar; its gradient is $Hv$. Two backward
passes, whatever the number of parameters.

We start where we know the answer: logistic regression. For the mean binary cross-entropy of
$p = \sigma(Xw)$ the Hessian is $H = X^\top \mathrm{diag}\big(p(1-p)\big) X / n$.

# %%
rng = np.random.default_rng(0)
n = 50
X = rng.normal(size=(n, 4))
y = (X @ np.array([1.0, -2.0, 0.5, 0.0]) + rng.normal(size=n) > 0).astype(float)
w = tg.tensor(rng.normal(size=4), requires_grad=True)
v = rng.normal(size=4)


def logistic_loss(w):
    return F.binary_cross_entropy_with_logits(tg.tensor(X) @ w, y)


loss = logistic_loss(w)
(g,) = tg.grad(loss, [w], create_graph=True)  # the gradient, as a differentiable Tensor
(hv,) = tg.grad((g * v).sum(), [w])  # the gradient of g·v is H v

p = 1 / (1 + np.exp(-(X @ w.numpy())))
H_exact = X.T @ (X * (p * (1 - p))[:, None]) / n
print("H v, autodiff:", hv.numpy())
print("H v, formula: ", H_exact @ v)
assert np.allclose(hv.numpy(), H_exact @ v)

# %% [markdown]
And the independent check: the Hessian-vector product is the directional derivative of the
gradient, so a central difference of two ordinary gradients approximates it:
$Hv \approx \big(\nabla L(w + \epsilon v) - \nabla L(w - \epsilon v)\big) / 2\epsilon$.

# %%
def gradient_at(w_data):
    w_ = tg.tensor(w_data, requires_grad=True)
    return tg.grad(logistic_loss(w_), [w_])[0].numpy()


eps = 1e-5
hv_fd = (gradient_at(w.numpy() + eps * v) - gradient_at(w.numpy() - eps * v)) / (2 * eps)
print("H v, finite differences of gradients:", hv_fd)
print(f"largest difference from autodiff: {np.abs(hv.numpy() - hv_fd).max():.1e}")
assert np.allclose(hv.numpy(), hv_fd, atol=1e-7)

# %% [markdown]
With the unit vectors as $v$, Hessian-vector products give the Hessian one column at a time.
For 4 parameters we can afford that, and compare the whole matrix; a Hessian is symmetric,
and so must be what we build:

# %%
columns = []
for i in range(4):
    e_i = np.eye(4)[i]
    (g,) = tg.grad(logistic_loss(w), [w], create_graph=True)
    columns.append(tg.grad((g * e_i).sum(), [w])[0].numpy())
H_auto = np.column_stack(columns)
print(np.array2string(H_auto, precision=4, suppress_small=True))
print(f"max |H_auto - H_exact| = {np.abs(H_auto - H_exact).max():.1e}, "
      f"max |H_auto - H_auto.T| = {np.abs(H_auto - H_auto.T).max():.1e}")

# %% [markdown]
### For a whole network

The same two lines work for every parameter of a neural network at once: one gradient per
parameter tensor, one direction per parameter tensor, and the dot product summed over all of
them. Here for an `MLP(2, [8, 1])` with tanh on the two-moons data, checked against finite
differences of gradients along the same direction:

# %%
model = tg.nn.MLP(2, [8, 1], activation="tanh", rng=0)
params = model.parameters()
Xm, ym = tg.data.make_moons(64, noise=0.1, rng=0)


def model_loss():
    return F.mse_loss(model(tg.tensor(Xm)).reshape(-1), ym.astype(float))


directions = [rng.normal(size=p.shape) for p in params]
grads = tg.grad(model_loss(), params, create_graph=True)
g_dot_v = sum((g * d).sum() for g, d in zip(grads, directions))
hvp = tg.grad(g_dot_v, params)


def gradients_shifted(step):
    """Ordinary gradients with every parameter moved by step * its direction."""
    for p, d in zip(params, directions):
        p.data += step * d
    gs = [g.numpy() for g in tg.grad(model_loss(), params)]
    for p, d in zip(params, directions):
        p.data -= step * d
    return gs


eps = 1e-5  # the finite-difference step, as above
plus, minus = gradients_shifted(eps), gradients_shifted(-eps)
print(f"{model.num_parameters()} parameters")
for (name, _), hv_p, gp, gm in zip(model.named_parameters(), hvp, plus, minus):
    fd = (gp - gm) / (2 * eps)
    print(f"{name:16} shape {str(hv_p.shape):7} max |autodiff - finite diff| "
          f"{np.abs(hv_p.numpy() - fd).max():.1e}")

# %% [markdown]
## Newton's method

Gradient descent steps against the slope, by an amount we have to guess (the learning rate).
Newton's method also uses the curvature: near its minimum a smooth function looks like a
parabola, $f(x + t) \approx f(x) + f'(x)\,t + \tfrac12 f''(x)\,t^2$, and the parabola's
minimum is at $t = -f'(x)/f''(x)$. So

$$x_{k+1} = x_k - \frac{f'(x_k)}{f''(x_k)}.$$

We minimise $f(x) = e^x - 2x$. Its minimum is where $f'(x) = e^x - 2 = 0$: at $x = \ln 2$. Both
derivatives come from autodiff, starting from $x_0 = 2$:

# %%
def f_scalar(x):
    return x.exp() - 2 * x


def derivatives(x0):
    """f(x0), f'(x0), f''(x0) with micrograd: f' with create_graph, so it can be differentiated."""
    x = Value(x0)
    fx = f_scalar(x)
    (d1,) = micrograd.grad(fx, [x], create_graph=True)
    (d2,) = micrograd.grad(d1, [x])
    return fx.data, d1.data, d2.data


x_min = math.log(2)
xs = [2.0]
for k in range(6):
    _, d1, d2 = derivatives(xs[-1])
    xs.append(xs[-1] - d1 / d2)

errors_newton = [abs(x - x_min) for x in xs]
print(f"{'k':>2}{'x_k':>20}{'error e_k = |x_k - ln 2|':>27}{'e_k / e_(k-1)^2':>18}")
for k, (xk, ek) in enumerate(zip(xs, errors_newton)):
    ratio = f"{ek / errors_newton[k - 1] ** 2:18.3f}" if k and ek else ""
    print(f"{k:2}{xk:20.15f}{ek:27.2e}{ratio}")
print(f"ln 2 = {x_min:.15f}")
assert errors_newton[-1] < 1e-15

# %% [markdown]
Once close, each error is about a constant times the **square** of the previous one (the last
column settles down), so the number of correct digits roughly doubles at every step, until it
reaches the limit of float64. That is *quadratic convergence*. (The constant is
$|f^{(3)} / 2f''|$ at the minimum: here $1/2$.)

Gradient descent with a fixed learning rate only multiplies the error by about the same
factor at every step: *linear* convergence. For comparison, from the same start, with the
learning rate $0.2$:

# %%
x_gd = 2.0
errors_gd = [abs(x_gd - x_min)]
for k in range(len(xs) - 1):
    _, d1, _ = derivatives(x_gd)
    x_gd -= 0.2 * d1
    errors_gd.append(abs(x_gd - x_min))
print(f"{'k':>2}{'Newton error':>15}{'gradient descent error':>25}{'e_k / e_(k-1)':>16}")
for k, (en, eg) in enumerate(zip(errors_newton, errors_gd)):
    ratio = f"{eg / errors_gd[k - 1]:16.3f}" if k else ""
    print(f"{k:2}{en:15.2e}{eg:25.2e}{ratio}")

# %% [markdown]
The picture behind the formula: at each iterate (dot), the parabola with the same value, slope
and curvature (dashed); its minimum (cross) is the next iterate.

# %%
t = np.linspace(0.0, 2.3, 200)
fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(t, np.exp(t) - 2 * t, color="black", label="f(x) = exp(x) - 2x")
for k, xk in enumerate(xs[:3]):
    fk, d1, d2 = derivatives(xk)
    ax.plot(t, fk + d1 * (t - xk) + 0.5 * d2 * (t - xk) ** 2, "--", lw=1,
            label=f"parabola at x{k} = {xk:.3f}")
    color = ax.lines[-1].get_color()
    ax.plot([xk], [fk], "o", color=color)
    step = -d1 / d2  # the parabola's minimum is the next iterate
    ax.plot([xk + step], [fk + d1 * step + 0.5 * d2 * step**2], "x", color=color, ms=8)
ax.axvline(x_min, color="gray", lw=0.8)
ax.text(x_min + 0.03, 4.5, "ln 2", color="gray")
ax.set(ylim=(0, 5.5), xlabel="x", ylabel="f(x)",
       title="Newton's method: jump to the parabola's minimum")
ax.legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
### The same with tensors, and a finite-difference check

`tg.grad` works the same way on tensors (here 0-d ones). The iterates agree with micrograd's
up to rounding, and at the minimum, the second derivative from autodiff matches a central
difference of first derivatives — and the exact value, $f''(\ln 2) = e^{\ln 2} = 2$.

# %%
def tensor_derivatives(x0):
    x = tg.tensor(x0, requires_grad=True)
    (d1,) = tg.grad(f_scalar(x), [x], create_graph=True)
    (d2,) = tg.grad(d1, [x])
    return d1.item(), d2.item()


x_t = 2.0
xs_t = [x_t]
for _ in range(len(xs) - 1):
    d1, d2 = tensor_derivatives(x_t)
    x_t -= d1 / d2
    xs_t.append(x_t)
print("largest difference between micrograd's and tensorgrad's iterates:",
      max(abs(a - b) for a, b in zip(xs, xs_t)))

_, _, d2_auto = derivatives(x_min)
h = 1e-5  # the finite-difference step, as in the first section
_, d1_up, _ = derivatives(x_min + h)
_, d1_down, _ = derivatives(x_min - h)
print(f"f''(ln 2): autodiff {d2_auto:.10f}, finite difference of f' "
      f"{(d1_up - d1_down) / (2 * h):.10f}, exact 2")
assert abs(d2_auto - 2) < 1e-12

# %% [markdown]
Newton's method in many dimensions solves $H\,t = -\nabla L$ for the step instead of dividing,
which is expensive when $H$ is big. Hessian-vector products are what make it practical anyway:
iterative solvers such as conjugate gradients need nothing but products $Hv$.

## What to take away

* With `create_graph=True`, the backward pass is recorded as a graph, so a gradient can be
  differentiated again: second, third, … derivatives, in both engines.
* A Hessian-vector product costs two backward passes, for any number of parameters:
  $Hv = \nabla(\nabla L \cdot v)$.
* Finite differences of *gradients* check second derivatives, just as finite differences of
  values check first ones.
* Newton's method divides the slope by the curvature; near a minimum it converges
  quadratically, doubling the correct digits at every step.

That is the end of the series. Back to the start: [01 · The chain rule, one number at a
time](01_chain_rule_with_values.ipynb).
'''


if __name__ == "__main__":
    sys.exit(main())
