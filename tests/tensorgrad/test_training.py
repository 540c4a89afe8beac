"""Real training runs: spirals, digits, and the classic two-moons demo on both engines."""

import platform
import random
import subprocess
import sys

import numpy as np
import pytest

import micrograd.nn as mnn
import tensorgrad as tg
from micrograd import Value

F = tg.nn.functional


def _accuracy(model, X, y):
    with tg.no_grad():
        return float((model(tg.tensor(X)).data.argmax(1) == y).mean())


def test_spirals_three_classes_reach_95_percent():
    X, y = tg.data.make_spirals(n_per_class=100, n_classes=3, rng=0)
    model = tg.nn.MLP(2, [32, 32, 3], rng=0)
    opt = tg.optim.Adam(model.parameters(), lr=0.02)
    Xt = tg.tensor(X)
    start = _accuracy(model, X, y)
    for _ in range(300):
        loss = F.cross_entropy(model(Xt), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert start < 0.6  # spirals are not linearly separable: an untrained model is near chance
    assert _accuracy(model, X, y) >= 0.95


def test_digits_reach_95_percent_on_a_held_out_split():
    pytest.importorskip("sklearn", reason="scikit-learn (optional, ships the digits) not installed")
    X, y = tg.data.load_digits()
    rng = np.random.default_rng(0)
    order = rng.permutation(len(y))
    test, train = order[: len(y) // 5], order[len(y) // 5 :]
    model = tg.nn.MLP(64, [64, 10], rng=0)
    opt = tg.optim.Adam(model.parameters(), lr=0.005)
    for _ in range(20):
        for xb, yb in tg.data.batches(X[train], y[train], batch_size=64, rng=rng):
            loss = F.cross_entropy(model(tg.tensor(xb)), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
    assert _accuracy(model, X[test], y[test]) >= 0.95


# ----------------------------------------------------------------------- two moons, both engines

N_SAMPLES, STEPS, ALPHA = 40, 50, 1e-4


def _lr(k):
    return 1.0 - 0.9 * k / STEPS


def _train_micrograd(model, X, y):
    """micrograd's demo notebook: max-margin loss + L2, full batch, decaying SGD."""
    inputs = [[Value(float(v)) for v in row] for row in X]
    losses = []
    for k in range(STEPS):
        scores = [model(x) for x in inputs]
        data_loss = sum((1 + -float(yi) * si).relu() for yi, si in zip(y, scores)) * (1.0 / len(y))
        reg_loss = ALPHA * sum(p * p for p in model.parameters())
        total = data_loss + reg_loss
        model.zero_grad()
        total.backward()
        for p in model.parameters():
            p.data -= _lr(k) * p.grad
        losses.append(total.data)
    scores = [model(x).data for x in inputs]
    accuracy = np.mean([(yi > 0) == (s > 0) for yi, s in zip(y, scores)])
    return np.array(losses), accuracy


def _train_tensorgrad(model, X, y):
    Xt, yt = tg.tensor(X), tg.tensor(y.astype(np.float64))
    opt = tg.optim.SGD(model.parameters(), lr=1.0)
    losses = []
    for k in range(STEPS):
        scores = model(Xt).reshape(-1)
        data_loss = (1 - yt * scores).relu().mean()
        reg_loss = ALPHA * sum((p * p).sum() for p in model.parameters())
        total = data_loss + reg_loss
        opt.zero_grad()
        total.backward()
        opt.param_groups[0]["lr"] = _lr(k)
        opt.step()
        losses.append(total.item())
    with tg.no_grad():
        accuracy = float(((model(Xt).data.reshape(-1) > 0) == (y > 0)).mean())
    return np.array(losses), accuracy


def test_two_moons_demo_trains_identically_on_both_engines():
    X, y = tg.data.make_moons(n_samples=N_SAMPLES, noise=0.1, rng=1)
    y = y * 2 - 1  # labels in {-1, 1} for the max-margin loss
    random.seed(1)
    micro = mnn.MLP(2, [16, 16, 1])
    model = tg.nn.MLP.from_micrograd(micro)

    losses_m, acc_m = _train_micrograd(micro, X, y)
    losses_t, acc_t = _train_tensorgrad(model, X, y)

    assert acc_m == 1.0 and acc_t == 1.0
    assert losses_m[-1] < 0.1 * losses_m[0]  # it really trained
    np.testing.assert_allclose(losses_t, losses_m, rtol=0, atol=1e-9)
    trained = tg.nn.MLP.from_micrograd(micro)
    for p, q in zip(model.parameters(), trained.parameters()):
        np.testing.assert_allclose(p.data, q.data, rtol=0, atol=1e-9)


# A training loop in a fresh process (this one has long since freed big arrays, which
# raised glibc's thresholds already): page faults per step, a count, not a time.
_FAULTS_PER_STEP = """
import resource
import numpy as np
import tensorgrad as tg
from tensorgrad.nn import functional as F

def spirals_step(model=tg.nn.MLP(2, [32, 32, 3]), x=np.random.default_rng(0).normal(size=(300, 2))):
    loss = F.cross_entropy(model(x), np.arange(300) % 3)
    model.zero_grad()
    loss.backward()
    with tg.no_grad():
        for p in model.parameters():
            p -= 0.01 * p.grad

a = tg.tensor(np.ones((32, 64, 128)), requires_grad=True)
b = tg.tensor(np.ones((128, 64)), requires_grad=True)

def bmm_step():
    a.grad = b.grad = None
    c = a @ b
    (c * c).sum().backward()

for step in (spirals_step, bmm_step):
    for _ in range(5):
        step()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(50):
        step()
    print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 50)
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="a glibc heap behaviour")
def test_a_training_step_does_not_fault_its_memory_in_again_every_time():
    """glibc gave the top of its heap back to the system after every step and faulted it
    in again: 62 faults a step of a small MLP (a third of its time), 1,270 of a float64
    batched matmul; tensorgrad raises glibc's trim threshold on import."""
    run = subprocess.run(
        [sys.executable, "-c", _FAULTS_PER_STEP], capture_output=True, text=True, check=True
    )
    faults = [float(line) for line in run.stdout.split()]
    assert len(faults) == 2 and max(faults) < 5, faults
