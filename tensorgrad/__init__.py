"""tensorgrad: a vectorized autodiff engine on NumPy arrays.

PyTorch-flavoured names, NumPy semantics, and the same backward core as the
scalar engine (``micrograd.autodiff``).
"""

import functools


def _keep_freed_memory_for_reuse() -> None:
    """Raise glibc's heap trim threshold as freeing one big array does.

    glibc gives the free memory at the top of its heap back to the system once there is
    more of it than a threshold: 128 KB, until the process frees a block bigger than that
    that came from mmap; then twice that block's size. A training step's arrays come and
    go at the top of the heap, so a step whose arrays stay below the threshold gave the
    memory back and faulted it in again every time: a third of a spirals-sized MLP step,
    two thirds of a float64 batched matmul's, in fresh processes. One untouched
    31 MB block (glibc's cap is 32 MB), made and freed here, raises the thresholds by
    glibc's own rule, so up to 62 MB of freed memory is kept for reuse. Where malloc is
    not glibc's, this is one short-lived allocation that is never touched.
    """
    import numpy

    numpy.empty(31 << 20, numpy.uint8)


_keep_freed_memory_for_reuse()

from micrograd.autodiff import enable_grad, is_grad_enabled, no_grad, set_grad_enabled

# tensor.py goes first: it defines Tensor, then installs the ops (which need Tensor).
from .tensor import Tensor, as_tensor, is_tensor, tensor

# isort: split
from . import ops
from .autograd import GradcheckError, detect_anomaly, grad, gradcheck
from .creation import (
    arange,
    eye,
    full,
    multinomial,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    zeros,
    zeros_like,
)
from .ops.elementwise import maximum, minimum, where
from .ops.linalg import matmul
from .ops.reduce import argmax, argmin  # not differentiable: they take any array-like
from .ops.shape import concatenate, stack
from .random import manual_seed


def _function(name: str):
    """``tg.name(x, ...)``: the method ``x.name(...)``, for ``x`` a Tensor or array-like."""
    method = getattr(Tensor, name)

    @functools.wraps(method)
    def fn(x, *args, **kwargs):
        return method(as_tensor(x), *args, **kwargs)

    return fn


# fmt: off
(
    exp, log, sqrt, tanh, sigmoid, relu, sin, cos, erf, abs, clip,  # noqa: A001
    sum, mean, max, min, var, std, logsumexp, softmax, log_softmax,  # noqa: A001
    reshape, flatten, squeeze, unsqueeze, transpose, swapaxes, broadcast_to,
) = (
    _function(name) for name in (
        "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "sin", "cos", "erf", "abs", "clip",
        "sum", "mean", "max", "min", "var", "std", "logsumexp", "softmax", "log_softmax",
        "reshape", "flatten", "squeeze", "unsqueeze", "transpose", "swapaxes", "broadcast_to",
    )
)
# fmt: on
cat = concatenate
permute = transpose

from . import data, nn, optim  # noqa: E402  (they build on everything above)
from .io import load, save  # noqa: E402
from .nn import Parameter  # noqa: E402
