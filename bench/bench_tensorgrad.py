"""Time tensorgrad against hand-written NumPy (the floor for any NumPy engine) and PyTorch.

Every contender of a workload runs side by side in this one process, in rounds after a
warm-up (A, B, C, A, B, C, ...). A time is the median over rounds; a ratio is the median
over rounds of ours / peer within the same round, so the machine's drift cancels and a
burst of other work that hits one round is dropped. PyTorch is imported
only here, as a peer; without it the torch columns say "skipped". PyTorch gets as many
threads as NumPy's BLAS has (``--threads N`` sets both).

Workloads:

1. an MLP 784-256-256-10 step (ReLU, batch 128, float32, cross-entropy, SGD lr 0.01),
   weights as (in, out) with ``x @ W + b`` and in PyTorch's layout (out, in) with
   ``x @ W.T + b``; peers: a hand-written NumPy forward + backward + update of exactly
   that step (fused softmax-cross-entropy gradient, in-place ReLU masks, no gradient
   for the input, dW computed directly in the weight's layout), and PyTorch eager;
2. per-op overhead: 300 small ops (``* c``, ``+ c``, tanh, in turn) on a shape-(8,)
   float64 tensor, then sum and backward: microseconds per op, vs PyTorch eager;
3. a batched matmul gradient, A (32, 64, 128) @ B (128, 64), loss sum(C * C), float32
   and float64, vs the fastest of five hand-written NumPy versions (np.matmul, einsum,
   tensordot, the batch folded into one 2-D product with the loss as one vdot or as
   written), named in the output;
4. a 100,000-op chain on a 1-element tensor, forward + backward, vs PyTorch eager;
5. an embedding lookup's gradient (no target, for information): rows of a (1000, 64)
   float32 table picked by ids (256, 16), repeats included, loss sum(E[ids] * G), vs
   hand-written NumPy (the scatter with ``np.add.at`` on the ids, or on flat positions)
   and PyTorch eager.

    python bench/bench_tensorgrad.py              # under a minute on 2 idle cores
    python bench/bench_tensorgrad.py --quick      # fewer repeats, for a smoke test
    python bench/bench_tensorgrad.py --threads 1  # NumPy's BLAS and PyTorch on 1 thread
    python bench/bench_tensorgrad.py --only 2     # one workload

Other work on the machine skews the timings (a busy core slows a 2-thread BLAS several
times over); the script prints the load average when it starts above 0.5.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

import tensorgrad as tg  # noqa: E402
from tensorgrad.nn import functional as F  # noqa: E402

try:
    import torch
except ImportError:  # PyTorch is a peer here, never a dependency
    torch = None

SEED = 0


# ----------------------------------------------------------------------------- threads


def blas_threads() -> tuple[int, str]:
    """How many threads NumPy's BLAS uses, and how we know."""
    try:
        from threadpoolctl import threadpool_info

        counts = [i["num_threads"] for i in threadpool_info() if i.get("user_api") == "blas"]
        if counts:
            return max(counts), "threadpoolctl (NumPy's BLAS)"
    except ImportError:
        pass
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        value = os.environ.get(var, "")
        if value.isdigit() and int(value) > 0:
            return int(value), f"${var}"
    # OpenBLAS's default is one thread per core
    return os.cpu_count() or 2, "assumed: OpenBLAS's default of os.cpu_count()"


# ----------------------------------------------------------------------------- timing


SETTLE = 0.15  # seconds of idleness that let one runtime's spinning worker threads park
# Rounds of the workloads held to a ratio against a NumPy floor. On this shared machine
# one round's ratio of the MLP step ranged from 0.85 to 1.32 within a single run, and
# the median of 9 rounds moved by about ±0.1 between runs; 25 rounds halve that spread.
FLOOR_ROUNDS = 25


def time_side_by_side(
    contenders: dict[str, Callable[[], object]], block: float, repeats: int, warmup: int = 1
) -> dict[str, list[float]]:
    """Seconds per call of each contender, one sample per round; rounds interleave them.

    Each repeat of a contender is a block of calls lasting about ``block`` seconds (the
    number of calls comes from the warm-up), so slow and fast contenders alike are timed
    over a span long enough to measure and the whole run keeps to its time budget.

    NumPy's OpenBLAS and PyTorch's OpenMP keep their idle worker threads spinning for a
    while after each call; on a machine with few cores the spinning threads of one take
    the cores the other needs, which doubled PyTorch's step time right after NumPy work
    (and slowed NumPy after PyTorch by a quarter). So a block that follows the other
    runtime's block starts after a pause of ``SETTLE`` seconds.
    """
    numbers = {}
    for name, fn in contenders.items():
        start = time.perf_counter()
        for _ in range(warmup):
            fn()
        once = (time.perf_counter() - start) / max(warmup, 1)
        numbers[name] = max(1, round(block / max(once, 1e-9)))
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    last_runtime = None
    for _ in range(repeats):
        for name, fn in contenders.items():
            runtime = "torch" if name == "torch" else "numpy"
            if last_runtime is not None and runtime != last_runtime:
                time.sleep(SETTLE)
            last_runtime = runtime
            number = numbers[name]
            gc.collect()
            start = time.perf_counter()
            for _ in range(number):
                fn()
            samples[name].append((time.perf_counter() - start) / number)
    return samples


def paired_ratio(ours: list[float], peer: list[float]) -> float:
    """The median over rounds of ours / peer, each pair timed back to back in one round.

    The machine is shared: its speed drifts over seconds and other work comes in bursts.
    A ratio within a round cancels the drift, and the median drops the rounds a burst hit.
    """
    return statistics.median(o / p for o, p in zip(ours, peer))


def fmt_time(seconds: float, unit: str) -> str:
    scale = {"s": 1.0, "ms": 1e3, "us": 1e6}[unit]
    return f"{seconds * scale:.2f} {unit}"


class Table:
    """Rows of: workload, tensorgrad, peer, ratio, target, met?"""

    def __init__(self) -> None:
        self.rows: list[tuple[str, ...]] = []

    def compare(
        self,
        workload: str,
        ours: list[float],
        peer_name: str,
        peer: list[float] | None,
        unit: str,
        target: float | None,
    ) -> None:
        """A row for ours / peer (median times, the paired ratio); it meets the target
        when the ratio is below it (no target: the row is for information)."""
        ours_time = statistics.median(ours)
        if peer is None:
            self.add(workload, fmt_time(ours_time, unit), f"{peer_name}: skipped", "-", "-", "-")
            return
        ratio = paired_ratio(ours, peer)
        self.add(
            workload,
            fmt_time(ours_time, unit),
            f"{peer_name} {fmt_time(statistics.median(peer), unit)}",
            f"{ratio:.2f}x",
            "-" if target is None else f"< {target:g}x",
            "-" if target is None else ("yes" if ratio < target else "NO"),
        )

    def add(self, *row: str) -> None:
        self.rows.append(row)

    def print(self) -> None:
        header = ("workload", "tensorgrad", "peer", "ratio", "target", "met?")
        rows = [header, *self.rows]
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        rule = "  ".join("-" * w for w in widths)
        print(rule)
        for i, row in enumerate(rows):
            print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
            if i == 0:
                print(rule)
        print(rule)


# ----------------------------------------------------------------------------- 1. MLP step

SIZES = (784, 256, 256, 10)
BATCH = 128
LR = 0.01


def mlp_init(rng: np.random.Generator, torch_layout: bool) -> list[np.ndarray]:
    """[W1, b1, W2, b2, W3, b3] in float32; W is (in, out), or (out, in) in torch layout."""
    params = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        bound = 1 / np.sqrt(fan_in)
        w = rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32)
        params.append(np.ascontiguousarray(w.T) if torch_layout else w)
        params.append(rng.uniform(-bound, bound, fan_out).astype(np.float32))
    return params


def mlp_numpy_step(params: list[np.ndarray], x: np.ndarray, y: np.ndarray, torch_layout: bool):
    """One SGD step of the MLP by hand: the least work a NumPy engine can do.

    Fused softmax-cross-entropy gradient (softmax - onehot) / N, ReLU masks applied in
    place, no gradient for the input x, in-place parameter updates.
    """
    w1, b1, w2, b2, w3, b3 = params
    n = x.shape[0]
    rows = np.arange(n)
    if torch_layout:
        w1, w2, w3 = w1.T, w2.T, w3.T  # views: BLAS reads the transpose for free
    # forward
    a1 = x @ w1
    a1 += b1
    np.maximum(a1, 0, out=a1)
    a2 = a1 @ w2
    a2 += b2
    np.maximum(a2, 0, out=a2)
    z = a2 @ w3
    z += b3
    # fused softmax cross-entropy: loss = mean(logsumexp(z) - z[y]); dz = (softmax - onehot) / n
    m = z.max(axis=1, keepdims=True)
    e = np.exp(z - m)
    s = e.sum(axis=1, keepdims=True)
    loss = float(np.mean(np.log(s[:, 0]) + m[:, 0] - z[rows, y]))
    e /= s
    e[rows, y] -= 1
    e *= np.float32(1 / n)
    dz = e
    # backward (in torch layout dW = dZᵀ A, written directly in the (out, in) layout)
    dw3 = dz.T @ a2 if torch_layout else a2.T @ dz
    db3 = dz.sum(axis=0)
    da2 = dz @ w3.T
    da2 *= a2 > 0
    dw2 = da2.T @ a1 if torch_layout else a1.T @ da2
    db2 = da2.sum(axis=0)
    da1 = da2 @ w2.T
    da1 *= a1 > 0
    dw1 = da1.T @ x if torch_layout else x.T @ da1
    db1 = da1.sum(axis=0)
    # SGD, in place
    lr = np.float32(LR)
    for p, g in zip(params, (dw1, db1, dw2, db2, dw3, db3)):
        g *= lr
        p -= g
    return loss


def mlp_tensorgrad_step(params: list, x, y: np.ndarray, torch_layout: bool):
    w1, b1, w2, b2, w3, b3 = params
    if torch_layout:
        logits = ((x @ w1.T + b1).relu() @ w2.T + b2).relu() @ w3.T + b3
    else:
        logits = ((x @ w1 + b1).relu() @ w2 + b2).relu() @ w3 + b3
    loss = F.cross_entropy(logits, y)
    loss.backward()
    for p in params:
        p.data -= LR * p.grad.data
        p.grad = None
    return loss


def mlp_torch_step(params: list, x, y, torch_layout: bool):
    w1, b1, w2, b2, w3, b3 = params
    tf = torch.nn.functional
    if torch_layout:
        logits = tf.linear(tf.relu(tf.linear(tf.relu(tf.linear(x, w1, b1)), w2, b2)), w3, b3)
    else:
        logits = torch.relu(torch.relu(x @ w1 + b1) @ w2 + b2) @ w3 + b3
    loss = tf.cross_entropy(logits, y)
    loss.backward()
    with torch.no_grad():
        for p in params:
            p -= LR * p.grad
            p.grad = None
    return loss


def check_mlp_agrees(torch_layout: bool) -> None:
    """The three implementations do the same step (same loss, same updated weights)."""
    rng = np.random.default_rng(SEED)
    x = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], BATCH)
    init = mlp_init(rng, torch_layout)
    np_params = [p.copy() for p in init]
    np_loss = mlp_numpy_step(np_params, x, y, torch_layout)
    tg_params = [tg.Tensor(p.copy(), requires_grad=True) for p in init]
    tg_loss = mlp_tensorgrad_step(tg_params, tg.Tensor(x), y, torch_layout).item()
    assert abs(np_loss - tg_loss) < 1e-4, (np_loss, tg_loss)
    for a, b in zip(np_params, tg_params):
        np.testing.assert_allclose(a, b.data, rtol=1e-4, atol=1e-6)
        assert b.data.dtype == np.float32
    if torch is not None:
        th_params = [torch.tensor(p, requires_grad=True) for p in init]
        th_loss = mlp_torch_step(th_params, torch.from_numpy(x), torch.from_numpy(y), torch_layout)
        assert abs(np_loss - th_loss.item()) < 1e-4, (np_loss, th_loss.item())
        for a, b in zip(np_params, th_params):
            np.testing.assert_allclose(a, b.detach().numpy(), rtol=1e-4, atol=1e-6)


def bench_mlp(table: Table, quick: bool) -> None:
    block, repeats = (0.02, 3) if quick else (0.1, FLOOR_ROUNDS)
    for torch_layout in (False, True):
        check_mlp_agrees(torch_layout)
        rng = np.random.default_rng(SEED)
        x = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
        y = rng.integers(0, SIZES[-1], BATCH)
        init = mlp_init(rng, torch_layout)
        np_params = [p.copy() for p in init]
        tg_params = [tg.Tensor(p.copy(), requires_grad=True) for p in init]
        tg_x = tg.Tensor(x)
        contenders = {
            "numpy": partial(mlp_numpy_step, np_params, x, y, torch_layout),
            "tensorgrad": partial(mlp_tensorgrad_step, tg_params, tg_x, y, torch_layout),
        }
        if torch is not None:
            th_params = [torch.tensor(p, requires_grad=True) for p in init]
            th_x, th_y = torch.from_numpy(x), torch.from_numpy(y)
            contenders["torch"] = partial(mlp_torch_step, th_params, th_x, th_y, torch_layout)
        t = time_side_by_side(contenders, block, repeats)
        name = "1. MLP step, " + ("x @ W.T + b" if torch_layout else "x @ W + b")
        table.compare(name, t["tensorgrad"], "numpy", t["numpy"], "ms", 1.15)
        table.compare(name, t["tensorgrad"], "torch", t.get("torch"), "ms", None)


# ----------------------------------------------------------------------------- 2. per-op overhead

CHAIN = 300


def chain(leaf):
    """The per-op chain from a fresh leaf that requires grad (tensorgrad's or PyTorch's)."""
    h = leaf
    for _ in range(CHAIN // 3):
        h = ((h * 1.01) + 0.01).tanh()
    h.sum().backward()
    return leaf.grad


def bench_per_op(table: Table, quick: bool) -> None:
    block, repeats = (0.02, 3) if quick else (0.1, 9)
    x0 = np.linspace(-1, 1, 8)
    contenders = {"tensorgrad": lambda: chain(tg.Tensor(x0, requires_grad=True))}
    if torch is not None:
        th_x0 = torch.from_numpy(x0)
        contenders["torch"] = lambda: chain(th_x0.detach().requires_grad_(True))
        np.testing.assert_allclose(contenders["tensorgrad"]().data, contenders["torch"]().numpy())
    t = time_side_by_side(contenders, block, repeats)
    per_op = {k: [v / CHAIN for v in samples] for k, samples in t.items()}
    name = f"2. per op ({CHAIN} ops on (8,), f64)"
    table.compare(name, per_op["tensorgrad"], "torch", per_op.get("torch"), "us", 1.0)
    ours = statistics.median(per_op["tensorgrad"])
    table.add(name, fmt_time(ours, "us"), "(aim)", "-", "< 3 us", "yes" if ours < 3e-6 else "NO")


# ----------------------------------------------------------------------------- 3. batched matmul

BMM_A = (32, 64, 128)
BMM_B = (128, 64)
AS_WRITTEN = "folded, sum(C*C)"  # the floor's arithmetic without the vdot fusion


def bmm_numpy_variants() -> dict[str, Callable]:
    """Hand-written forward + backward of sum((A @ B)²), several ways; each returns dA, dB."""

    def natural(a, b):
        c = np.matmul(a, b)
        loss = np.sum(c * c)
        dc = 2 * c
        return loss, dc @ b.T, np.matmul(a.transpose(0, 2, 1), dc).sum(axis=0)

    def einsum(a, b):
        c = np.matmul(a, b)
        loss = np.sum(c * c)
        dc = 2 * c
        return loss, dc @ b.T, np.einsum("bij,bik->jk", a, dc, optimize=True)

    def tensordot(a, b):
        c = np.matmul(a, b)
        loss = np.sum(c * c)
        dc = 2 * c
        return loss, np.tensordot(dc, b, axes=(2, 1)), np.tensordot(a, dc, axes=([0, 1], [0, 1]))

    def folded(a, b, fused=True):
        # the batch folded into rows: every product is one 2-D BLAS call; fused, the loss
        # is one vdot (no engine that runs the loss op by op can make that fusion)
        a2 = a.reshape(-1, b.shape[0])
        c = a2 @ b
        loss = np.vdot(c, c) if fused else np.sum(c * c)
        c *= 2
        return loss, (c @ b.T).reshape(a.shape), a2.T @ c

    return {
        "np.matmul": natural,
        "einsum": einsum,
        "tensordot": tensordot,
        "folded 2-D": folded,
        AS_WRITTEN: partial(folded, fused=False),
    }


def assert_same_result(got, want) -> None:
    """Equal up to rounding: each way of summing the products rounds differently.

    Relative to the array's largest entry, since an entry that nearly cancels to 0
    carries the rounding error of its big terms (float32 keeps about 7 digits).
    """
    tol = 1e-4 if want.dtype == np.float32 else 1e-10
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * float(np.abs(want).max()))


def bmm_step(a, b) -> None:
    """The step as an autograd engine runs it: tensorgrad's and PyTorch's spell it alike."""
    a.grad = b.grad = None
    c = a @ b
    (c * c).sum().backward()


def bench_bmm(table: Table, quick: bool) -> None:
    block, repeats = (0.02, 3) if quick else (0.1, FLOOR_ROUNDS)
    rng = np.random.default_rng(SEED)
    for dtype in (np.float32, np.float64):
        a0 = rng.standard_normal(BMM_A).astype(dtype)
        b0 = rng.standard_normal(BMM_B).astype(dtype)
        variants = bmm_numpy_variants()
        ref = variants["np.matmul"](a0, b0)
        for fn in variants.values():  # all variants compute the same thing
            got = fn(a0, b0)
            for r, g in zip(ref, got):
                assert_same_result(g, r)
        tg_a = tg.Tensor(a0, requires_grad=True)
        tg_b = tg.Tensor(b0, requires_grad=True)
        bmm_step(tg_a, tg_b)
        assert_same_result(tg_a.grad.data, ref[1])
        assert_same_result(tg_b.grad.data, ref[2])
        contenders = {f"numpy {k}": partial(fn, a0, b0) for k, fn in variants.items()}
        contenders["tensorgrad"] = partial(bmm_step, tg_a, tg_b)
        if torch is not None:
            th_a = torch.tensor(a0, requires_grad=True)
            th_b = torch.tensor(b0, requires_grad=True)
            contenders["torch"] = partial(bmm_step, th_a, th_b)
        t = time_side_by_side(contenders, block, repeats)
        median = {k: statistics.median(v) for k, v in t.items()}
        best = min((k for k in t if k.startswith("numpy")), key=median.get)
        name = f"3. bmm grad {np.dtype(dtype).name}"
        others = ", ".join(f"{k[6:]} {median[k] * 1e3:.2f}" for k in t if k.startswith("numpy"))
        print(f"   {name}: NumPy variants (ms): {others}; floor = {best[6:]}")
        table.compare(name, t["tensorgrad"], best, t[best], "ms", 1.15)
        as_written = f"numpy {AS_WRITTEN}"
        if best != as_written:  # for information: the loss computed op by op, as we do
            table.compare(name, t["tensorgrad"], as_written, t[as_written], "ms", None)
        table.compare(name, t["tensorgrad"], "torch", t.get("torch"), "ms", None)


# ----------------------------------------------------------------------------- 4. long chain

LONG = 100_000


def long_chain(leaf) -> float:
    """The long chain from a fresh one-element leaf of 1.0 (tensorgrad's or PyTorch's)."""
    h = leaf
    for _ in range(LONG // 2):  # 1 is a fixed point: 1 * 1.0001 - 0.0001 = 1
        h = h * 1.0001 - 0.0001
    h.sum().backward()
    return leaf.grad.item()


def bench_long_chain(table: Table, quick: bool) -> None:
    repeats = 1 if quick else 3
    expected = 1.0001 ** (LONG // 2)
    contenders = {"tensorgrad": lambda: long_chain(tg.Tensor(np.ones(1), requires_grad=True))}
    if torch is not None:
        contenders["torch"] = lambda: long_chain(
            torch.ones(1, dtype=torch.float64, requires_grad=True)
        )
    for run in contenders.values():
        assert abs(run() / expected - 1) < 1e-9
    t = time_side_by_side(contenders, 0, repeats, warmup=0)  # the check above warmed up
    name = f"4. {LONG:,}-op chain, 1 element"
    table.compare(name, t["tensorgrad"], "torch", t.get("torch"), "s", 1.0)


# ----------------------------------------------------------------------------- 5. embedding

EMBED_TABLE, EMBED_IDS = (1000, 64), (256, 16)


def embed_numpy_variants() -> dict[str, Callable]:
    """Hand-written forward + backward of sum(E[ids] * G); each returns the loss and dE."""

    def rows(table, ids, g):
        loss = np.vdot(table[ids], g)
        grad = np.zeros_like(table)
        np.add.at(grad, ids, g)  # NumPy adds row by row
        return loss, grad

    def flat(table, ids, g):
        loss = np.vdot(table[ids], g)
        grad = np.zeros_like(table)
        width = table.shape[1]
        positions = (ids.reshape(-1, 1) * width + np.arange(width)).reshape(-1)
        np.add.at(grad.reshape(-1), positions, g.reshape(-1))  # NumPy's fast 1-D loop
        return loss, grad

    return {"np.add.at on ids": rows, "np.add.at on flat positions": flat}


def embed_step(table, ids, g) -> None:
    """The step as an autograd engine runs it (tensorgrad or PyTorch)."""
    table.grad = None
    (table[ids] * g).sum().backward()


def bench_embedding(table: Table, quick: bool) -> None:
    block, repeats = (0.02, 3) if quick else (0.1, 9)
    rng = np.random.default_rng(SEED)
    e0 = rng.standard_normal(EMBED_TABLE).astype(np.float32)
    ids = rng.integers(0, EMBED_TABLE[0], EMBED_IDS)
    g = rng.standard_normal(EMBED_IDS + EMBED_TABLE[1:]).astype(np.float32)
    variants = embed_numpy_variants()
    _, want = variants["np.add.at on ids"](e0, ids, g)
    for fn in variants.values():
        assert_same_result(fn(e0, ids, g)[1], want)
    tg_e = tg.Tensor(e0, requires_grad=True)
    embed_step(tg_e, ids, g)
    assert_same_result(tg_e.grad.data, want)
    contenders = {f"numpy {k}": partial(fn, e0, ids, g) for k, fn in variants.items()}
    contenders["tensorgrad"] = partial(embed_step, tg_e, ids, g)
    if torch is not None:
        th_e = torch.tensor(e0, requires_grad=True)
        contenders["torch"] = partial(embed_step, th_e, torch.tensor(ids), torch.tensor(g))
    t = time_side_by_side(contenders, block, repeats)
    name = "5. embedding grad float32"
    for peer in (*(f"numpy {k}" for k in variants), "torch"):
        table.compare(name, t["tensorgrad"], peer, t.get(peer), "ms", None)


# ----------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke test)")
    parser.add_argument(
        "--only", type=int, choices=(1, 2, 3, 4, 5), action="append", help="run only workload N"
    )
    parser.add_argument(
        "--threads", type=int, help="cap NumPy's BLAS and torch at N threads (needs threadpoolctl)"
    )
    args = parser.parse_args(argv)
    chosen = set(args.only or (1, 2, 3, 4, 5))

    limits = None
    if args.threads:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            parser.error("--threads needs threadpoolctl (pip install threadpoolctl)")

        limits = threadpool_limits(args.threads, user_api="blas")  # torch: below
        n, source = args.threads, "--threads"
    else:
        n, source = blas_threads()
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, threads: {n} ({source})")
    if torch is None:
        print("PyTorch is not installed: torch comparisons are skipped")
    else:
        torch.set_num_threads(n)
        print(f"torch {torch.__version__}, torch.set_num_threads({n}) to match NumPy")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    if load is not None and load > 0.5:
        print(f"note: load average {load:.1f} before the run; other work skews the timings")
    mode = "quick" if args.quick else "full"
    print(
        f"{mode} run: contenders take turns in rounds after a warm-up; a time is the median "
        "over rounds,\na ratio the median over rounds of ours / peer within a round\n"
    )

    table = Table()
    start = time.perf_counter()
    steps = [
        (1, bench_mlp),
        (2, bench_per_op),
        (3, bench_bmm),
        (4, bench_long_chain),
        (5, bench_embedding),
    ]
    for number, fn in steps:
        if number in chosen:
            fn(table, args.quick)
    print()
    table.print()
    print(f"\ntotal {time.perf_counter() - start:.0f} s")
    if limits is not None:
        limits.restore_original_limits()


if __name__ == "__main__":
    main()
