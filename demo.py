"""``make demo``: the classic two-moons MLP trained by both engines from the same weights.

micrograd (one Value per number) and tensorgrad (one Tensor per layer) train the
same MLP(2, [16, 16, 1]) with the classic max-margin loss and SGD schedule. The
demo prints how they compare and writes pictures to ``out/``.

Run ``python demo.py --help`` for the knobs (``make demo`` uses the defaults).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import micrograd
import tensorgrad as tg
import viz
from micrograd.nn import MLP as ScalarMLP

ALPHA = 1e-4  # L2 weight of the classic demo


@dataclass
class Run:
    """What one engine did: loss and accuracy per step, seconds per step."""

    name: str
    losses: list[float] = field(default_factory=list)
    accuracies: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    @property
    def seconds_per_step(self) -> float:
        return float(np.median(self.seconds))


def learning_rate(step: int, steps: int) -> float:
    """The classic schedule: 1.0 decaying linearly to 0.1."""
    return 1.0 - 0.9 * step / steps


def scalar_step(model: ScalarMLP, X: np.ndarray, y: np.ndarray) -> tuple[micrograd.Value, float]:
    """Max-margin loss + L2 of the micrograd model on all points, and its accuracy."""
    scores = [model([float(a), float(b)]) for a, b in X]
    losses = [(1 + -float(yi) * s).relu() for yi, s in zip(y, scores)]
    data_loss = micrograd.add_all(losses) * (1.0 / len(losses))
    reg_loss = ALPHA * micrograd.add_all([p * p for p in model.parameters()])
    accuracy = np.mean([(yi > 0) == (s.data > 0) for yi, s in zip(y, scores)])
    return data_loss + reg_loss, float(accuracy)


def tensor_step(model: tg.nn.MLP, X: tg.Tensor, y: tg.Tensor) -> tuple[tg.Tensor, float]:
    """The same loss with tensors: one node per layer instead of one per number."""
    scores = model(X).reshape(-1)
    data_loss = (1 - y * scores).relu().mean()
    reg_loss = ALPHA * sum((p * p).sum() for p in model.parameters())
    accuracy = np.mean((y.data > 0) == (scores.data > 0))
    return data_loss + reg_loss, float(accuracy)


def progress(label: str, step: int, steps: int, loss: float, acc: float) -> None:
    """A one-line progress bar redrawn in place (only the last state when not a terminal)."""
    if not sys.stdout.isatty() and step + 1 != steps:
        return
    width = 30
    filled = int(width * (step + 1) / steps)
    bar = "█" * filled + "·" * (width - filled)
    end = "\n" if step + 1 == steps else ""
    print(f"\r  {label:<10} {bar} {step + 1:>3}/{steps}  loss {loss:.4f}  acc {acc:.0%}", end=end)
    sys.stdout.flush()


def train(name: str, model, step_fn, grad_of, steps: int) -> Run:
    """The classic loop: loss, zero_grad, backward, SGD with the decaying rate."""
    run = Run(name)
    for k in range(steps):
        start = time.perf_counter()
        loss, acc = step_fn(model)
        model.zero_grad()
        loss.backward()
        lr = learning_rate(k, steps)
        for p in model.parameters():
            p.data -= lr * grad_of(p)
        run.seconds.append(time.perf_counter() - start)
        run.losses.append(float(loss.data))
        run.accuracies.append(acc)
        progress(name, k, steps, run.losses[-1], acc)
    return run


def max_gradient_difference(scalar: ScalarMLP, tensor: tg.nn.MLP, X, y) -> float:
    """Largest |micrograd grad - tensorgrad grad| over all parameters, at the current weights."""
    loss, _ = scalar_step(scalar, X, y)
    scalar.zero_grad()
    loss.backward()
    tloss, _ = tensor_step(tensor, tg.tensor(X), tg.tensor(y))
    tensor.zero_grad()
    tloss.backward()
    pairs = zip(tensor.parameters(), _scalar_grads_like(scalar))
    return max(float(np.max(np.abs(p.grad.data - g))) for p, g in pairs)


def _scalar_grads_like(scalar: ScalarMLP) -> list[np.ndarray]:
    """micrograd's gradients laid out like tensorgrad's parameters: per layer, the weight
    (out, in) -- neuron j's weights are row j -- then the bias (out,)."""
    grads = []
    for layer in scalar.layers:
        grads.append(np.array([[w.grad for w in n.w] for n in layer.neurons]))
        grads.append(np.array([n.b.grad for n in layer.neurons]))
    return grads


def one_neuron_graphs(out: Path) -> list[Path]:
    """The same tanh neuron in both engines: two drawings and a side-by-side page."""
    x1, x2, w1, w2, b = 2.0, 0.0, -3.0, 1.0, 6.8813735870195432
    vx1, vx2 = micrograd.Value(x1, label="x1"), micrograd.Value(x2, label="x2")
    vw1, vw2 = micrograd.Value(w1, label="w1"), micrograd.Value(w2, label="w2")
    vb = micrograd.Value(b, label="b")
    v_out = micrograd.add_all([vx1 * vw1, vx2 * vw2, vb]).tanh()
    v_out.label = "o"
    v_out.backward()

    x = tg.tensor([x1, x2])
    x.label = "x"
    w = tg.tensor([w1, w2], requires_grad=True)
    w.label = "w"
    tb = tg.tensor(b, requires_grad=True)
    tb.label = "b"
    z = (x @ w).retain_grad()  # keep interior gradients so the drawing shows them
    n = (z + tb).retain_grad()
    t_out = n.tanh().retain_grad()
    t_out.label = "o"
    t_out.backward(retain_graph=True)

    try:
        paths = [out / "neuron_micrograd.svg", out / "neuron_tensorgrad.svg"]
        viz.save(v_out, paths[0])
        viz.save(t_out, paths[1])
        pair = viz.side_by_side(v_out, t_out, titles=("micrograd", "tensorgrad"))
        for suffix in (".html", ".svg"):
            paths.append(out / f"side_by_side{suffix}")
            pair.save(paths[-1])
    except viz.GraphvizNotFound:  # the DOT source needs no dot program
        print("\ngraphviz's dot is not installed: writing the graphs' DOT source instead of SVG")
        paths = [out / "neuron_micrograd.dot", out / "neuron_tensorgrad.dot"]
        viz.save(v_out, paths[0])
        viz.save(t_out, paths[1])
    return paths


def plot(out: Path, runs: list[Run], model: tg.nn.MLP, X: np.ndarray, y: np.ndarray) -> list[Path]:
    """Loss curves of both engines and the tensor model's decision boundary, as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for run, style in zip(runs, ("-", "--")):
        ax.plot(run.losses, style, label=run.name)
    ax.set(xlabel="step", ylabel="loss", title="Two moons: the same training, two engines")
    ax.set_yscale("log")
    ax.legend()
    fig.tight_layout()
    curves = out / "loss_curves.png"
    fig.savefig(curves, dpi=120)
    plt.close(fig)

    h = 0.05
    xx, yy = np.meshgrid(
        np.arange(X[:, 0].min() - 1, X[:, 0].max() + 1, h),
        np.arange(X[:, 1].min() - 1, X[:, 1].max() + 1, h),
    )
    with tg.no_grad():
        scores = model(tg.tensor(np.c_[xx.ravel(), yy.ravel()])).numpy().reshape(xx.shape)
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.contourf(xx, yy, scores > 0, cmap=plt.cm.Spectral, alpha=0.8)
    ax.scatter(X[:, 0], X[:, 1], c=y, s=30, cmap=plt.cm.Spectral, edgecolors="k")
    ax.set(
        title="Decision boundary (tensorgrad)", xlim=(xx.min(), xx.max()), ylim=(yy.min(), yy.max())
    )
    fig.tight_layout()
    boundary = out / "decision_boundary.png"
    fig.savefig(boundary, dpi=120)
    plt.close(fig)
    return [curves, boundary]


def main(steps: int = 100, samples: int = 100, out: str | Path = "out", seed: int = 1337) -> dict:
    """Train both engines, print the comparison table, write ``out/``; return the numbers."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    random.seed(seed)
    X, labels = tg.data.make_moons(n_samples=samples, noise=0.1, rng=seed)
    y = labels * 2.0 - 1  # the max-margin loss wants labels in {-1, 1}

    scalar_model = ScalarMLP(2, [16, 16, 1])
    tensor_model = tg.nn.MLP.from_micrograd(scalar_model)
    grad_diff = max_gradient_difference(scalar_model, tensor_model, X, y)

    print(f"Training MLP(2, [16, 16, 1]) on {samples} two-moons points for {steps} steps:")
    Xt, yt = tg.tensor(X), tg.tensor(y)
    runs = [
        train("micrograd", scalar_model, lambda m: scalar_step(m, X, y), lambda p: p.grad, steps),
        train(
            "tensorgrad",
            tensor_model,
            lambda m: tensor_step(m, Xt, yt),
            lambda p: p.grad.data,
            steps,
        ),
    ]
    scalar_run, tensor_run = runs
    ratio = scalar_run.seconds_per_step / tensor_run.seconds_per_step

    print()
    print(f"  {'engine':<12}{'final loss':>12}{'accuracy':>10}{'s / step':>12}")
    for run in runs:
        loss, acc, secs = run.losses[-1], run.accuracies[-1], run.seconds_per_step
        print(f"  {run.name:<12}{loss:>12.6f}{acc:>10.0%}{secs:>12.5f}")
    print(f"  tensorgrad is {ratio:.1f}× faster per step")
    print(f"  largest gradient difference between the engines at step 0: {grad_diff:.2e}")
    print(
        f"  largest loss difference over all steps: "
        f"{max(abs(a - b) for a, b in zip(scalar_run.losses, tensor_run.losses)):.2e}"
    )

    files = plot(out, runs, tensor_model, X, labels) + one_neuron_graphs(out)
    print(f"\nWrote {len(files)} files to {out.resolve()}/:")
    for f in files:
        print(f"  {f.name}")
    return {"runs": runs, "speed_ratio": ratio, "grad_diff": grad_diff, "files": files}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--out", default="out")
    args = parser.parse_args()
    main(args.steps, args.samples, args.out)
