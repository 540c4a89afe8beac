"""Time the classic micrograd demo's training step: this engine vs the classic micrograd 0.1.0.

The step is the one from the classic micrograd demo notebook: an MLP(2, [16, 16, 1]) on
100 two-moons points, the max-margin loss mean(relu(1 - y * score)) plus 1e-4 * sum(p * p),
zero_grad, backward, and a plain SGD update. Each engine runs in its own subprocess so the
two ``micrograd`` packages never meet: ours from this repository, the classic one from
PyPI, installed into bench/.classic (git-ignored; this script installs it if missing).

The classic engine is timed twice: with the garbage collector on (as people run it) and
with ``gc.disable()`` (its closures make reference cycles, so the collector has a lot to
do). Ours is compared as is, gc on; a last line compares the two engines with the
collector off on both sides, for information. Prints the median seconds per step and the
ratios.

    python bench/bench_micrograd.py            # a full run takes under a minute
    python bench/bench_micrograd.py --quick    # fewer steps, for a smoke test
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CLASSIC_DIR = HERE / ".classic"
CLASSIC_PIN = "micrograd==0.1.0"

N_POINTS = 100
SEED = 1337


# ----------------------------------------------------------------------------- the workload


def make_moons(n: int, noise: float = 0.1, seed: int = SEED):
    """Two interleaving half circles (sklearn's make_moons, in NumPy), labels -1 / +1."""
    import numpy as np

    rng = np.random.default_rng(seed)
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0, np.pi, n_out)
    t_in = np.linspace(0, np.pi, n_in)
    x = np.concatenate([np.cos(t_out), 1 - np.cos(t_in)])
    y = np.concatenate([np.sin(t_out), 1 - np.sin(t_in) - 0.5])
    X = np.stack([x, y], axis=1) + rng.normal(scale=noise, size=(n, 2))
    labels = np.concatenate([-np.ones(n_out), np.ones(n_in)])
    order = rng.permutation(n)
    # Python floats: the scalar engines work on floats, as the classic demo does.
    return X[order].tolist(), labels[order].tolist()


def worker(steps: int, gc_off: bool, expect: str) -> None:
    """Run ``steps`` training steps with whichever ``micrograd`` is importable; print JSON."""
    import gc
    import random
    import time

    import micrograd
    from micrograd.engine import Value
    from micrograd.nn import MLP

    where = Path(micrograd.__file__).resolve()
    if not str(where).startswith(expect):
        raise SystemExit(f"bench worker: imported micrograd from {where}, expected under {expect}")

    X, Y = make_moons(N_POINTS)
    random.seed(SEED)  # both engines draw the same initial weights (same Neuron init order)
    model = MLP(2, [16, 16, 1])

    def loss():
        # The classic demo's loss, written the way its notebook writes it.
        inputs = [list(map(Value, xrow)) for xrow in X]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(Y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        alpha = 1e-4
        reg_loss = alpha * sum(p * p for p in model.parameters())
        return data_loss + reg_loss

    if gc_off:
        gc.disable()
    times, cpu_times, losses = [], [], []
    for k in range(steps):
        t0, c0 = time.perf_counter(), time.process_time()
        total_loss = loss()
        model.zero_grad()
        total_loss.backward()
        learning_rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= learning_rate * p.grad
        losses.append(float(total_loss.data))
        del total_loss  # as a training loop does: the graph goes before the next step
        times.append(time.perf_counter() - t0)
        cpu_times.append(time.process_time() - c0)
    print(json.dumps({"times": times, "cpu": cpu_times, "losses": losses, "file": str(where)}))


# ----------------------------------------------------------------------------- the driver


def ensure_classic() -> None:
    if all((CLASSIC_DIR / "micrograd" / name).exists() for name in ("engine.py", "nn.py")):
        return
    print(f"installing {CLASSIC_PIN} into {CLASSIC_DIR} ...", flush=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--upgrade",
            "--target",
            str(CLASSIC_DIR),
            CLASSIC_PIN,
        ],
        check=True,
    )


def run_worker(pythonpath: Path, steps: int, gc_off: bool) -> dict:
    # The workers use NumPy only to make the data, never BLAS. A BLAS pool's worker threads
    # spin for a while after they start, and that CPU time would count as the engine's.
    env = dict(os.environ, PYTHONPATH=str(pythonpath), OPENBLAS_NUM_THREADS="1")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", "--steps", str(steps)]
    cmd += ["--expect", str(pythonpath.resolve())]
    if gc_off:
        cmd.append("--gc-off")
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"bench worker for {pythonpath} failed:\n{done.stderr.strip()}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps (smoke test)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--gc-off", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--expect", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.steps, args.gc_off, args.expect)
        return

    ensure_classic()
    # (label, where micrograd comes from, gc off?, steps per round). The engines take
    # turns over several rounds, so a change in machine load hits all of them alike.
    configs = [
        ("ours (gc on)", ROOT, False, 8),
        ("classic 0.1.0 (gc off)", CLASSIC_DIR, True, 4),
        ("classic 0.1.0 (gc on)", CLASSIC_DIR, False, 2),
        ("ours (gc off)", ROOT, True, 8),
    ]
    rounds = 1 if args.quick else 4
    print(
        f"classic micrograd demo step: MLP(2, [16, 16, 1]), {N_POINTS} two-moons points, "
        "max-margin loss + L2, zero_grad, backward, SGD update"
    )
    print(f"python {sys.version.split()[0]}, {rounds} rounds, engines take turns")
    results = {
        label: {"times": [], "cpu": [], "round_wall": [], "round_cpu": [], "losses": None}
        for label, *_ in configs
    }
    for _ in range(rounds):
        for label, where, gc_off, steps in configs:
            r = run_worker(where, 1 if args.quick else steps, gc_off)
            results[label]["times"] += r["times"]
            results[label]["cpu"] += r["cpu"]
            results[label]["round_wall"].append(statistics.median(r["times"]))
            results[label]["round_cpu"].append(statistics.median(r["cpu"]))
            results[label]["losses"] = r["losses"]

    print(f"{'median seconds per step':<24} {'wall':>8} {'cpu':>8}  steps  first loss")
    for label, r in results.items():
        print(
            f"{label:<24} {statistics.median(r['times']):8.4f} {statistics.median(r['cpu']):8.4f}"
            f"  {len(r['times']):5d}  {r['losses'][0]:.12f}"
        )
    ours, off, on, ours_off = (results[label] for label, *_ in configs)
    # Same data, same initial weights, same loss: the engines must agree on the first loss.
    if abs(ours["losses"][0] - on["losses"][0]) > 1e-9 * max(1.0, abs(on["losses"][0])):
        print("WARNING: the two engines disagree on the first loss")
    print("speed-ups (the median over rounds of the ratio within a round):")
    print(f"ours vs classic (gc on): {speedup(on, ours):.1f}× faster")
    print(f"ours vs classic (gc off): {speedup(off, ours):.1f}× faster")
    print(
        f"(by CPU time: {speedup(on, ours, 'round_cpu'):.1f}× and "
        f"{speedup(off, ours, 'round_cpu'):.1f}×)"
    )
    print(
        f"for information, both engines without the collector: {speedup(off, ours_off):.1f}× faster"
    )


def speedup(peer: dict, ours: dict, key: str = "round_wall") -> float:
    """How many times faster ours is: the median over rounds of peer / ours in that round.

    The machine is shared and its speed drifts; within a round the engines ran seconds
    apart, so the drift mostly cancels, and the median drops a round a burst hit.
    """
    return statistics.median(p / o for p, o in zip(peer[key], ours[key]))


if __name__ == "__main__":
    main()
