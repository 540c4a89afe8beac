"""Tools around the backward pass: functional gradients, gradcheck, anomaly detection."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import numpy as np

from micrograd import autodiff
from micrograd.autodiff import ModeSwitch, enable_grad

from .tensor import QUIET, Tensor, anomaly_mode

__all__ = ["grad", "gradcheck", "GradcheckError", "detect_anomaly"]


@functools.wraps(autodiff.grad)
def grad(*args, **kwargs) -> list:
    with np.errstate(**QUIET):  # as Tensor.backward (see QUIET)
        return autodiff.grad(*args, **kwargs)


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with the finite-difference one."""


def gradcheck(
    fn: Callable[..., Tensor],
    inputs: Sequence[Tensor] | Tensor,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """Check ``fn``'s gradients against central finite differences, in float64.

    ``fn(*inputs)`` may return any shape: it is reduced to a scalar with fixed random
    weights ``v`` (so the check covers the vector-Jacobian product vᵀJ, not just the
    sum). Every element of every input that requires grad is perturbed by ``±eps``.
    Returns True, or raises :class:`GradcheckError` naming the input, the index and
    both values.
    """
    if isinstance(inputs, Tensor):
        inputs = [inputs]
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor):
            raise TypeError(
                f"gradcheck: inputs[{i}] is a {type(x).__name__}; pass Tensors "
                "(tg.tensor(..., requires_grad=True) for those to check)"
            )
    # C-ordered float64 copies: the nudges below go through a flat view of each, which a
    # transposed (Fortran-ordered) array would not give (reshape would copy).
    # Inputs that need no gradient (an index tensor, say) go in as they are.
    xs = [
        Tensor(np.array(x.data, dtype=np.float64, order="C"), requires_grad=True)
        if x.requires_grad
        else x
        for x in inputs
    ]
    wanted = [x for x in xs if x.requires_grad]
    if not wanted:
        raise ValueError("gradcheck: no input requires grad")
    with enable_grad():  # also under no_grad: the analytic side needs fn's graph
        out = fn(*xs)
        if not isinstance(out, Tensor):
            raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
        weights = np.random.default_rng(seed).uniform(0.5, 1.5, size=out.shape)
        total = (out * weights).sum()
    # An output that records no graph (a constant, a detach()) has gradient 0 analytically.
    analytic = iter(
        grad(total, wanted, allow_unused=True) if total.requires_grad else [None] * len(wanted)
    )

    def objective() -> float:
        with enable_grad():  # fn may itself call tg.grad (a second derivative)
            return float(np.sum(fn(*xs).data * weights))

    for i, x in enumerate(xs):  # i: the position in ``inputs``, as the caller sees it
        if not x.requires_grad:
            continue
        g = next(analytic)
        g = np.zeros(x.shape) if g is None else g.data
        flat = x.data.reshape(-1)  # a view: perturbing it perturbs x
        for j in range(flat.size):
            old = flat[j]
            flat[j] = old + eps
            plus = objective()
            flat[j] = old - eps
            minus = objective()
            flat[j] = old
            numeric = (plus - minus) / (2 * eps)
            exact = g.reshape(-1)[j]
            if not abs(numeric - exact) <= atol + rtol * abs(numeric):
                index = tuple(int(k) for k in np.unravel_index(j, x.shape)) if x.ndim else ()
                raise GradcheckError(
                    f"gradcheck: input {i} (shape {x.shape}), index {index}: "
                    f"analytic gradient {exact!r} != numeric {numeric!r} "
                    f"(atol={atol}, rtol={rtol})"
                )
    return True


class detect_anomaly(ModeSwitch):
    """Raise at the first op whose forward or backward makes nan or inf.

    The error names the op and the ``file:line`` where it was created. Slows every
    op down (each output is checked), so use it to debug, not to train. A context
    manager or a decorator (of a generator function too, as ``no_grad``).
    """

    def __init__(self) -> None:
        pass  # one switch, on: the state is the per-thread stack of anomaly_mode

    def __enter__(self) -> detect_anomaly:
        anomaly_mode.saved.append(anomaly_mode.enabled)  # a stack: one instance may nest
        anomaly_mode.enabled = True
        return self

    def __exit__(self, *exc: object) -> None:
        anomaly_mode.enabled = anomaly_mode.saved.pop()
