"""tensorgrad: a vectorized autodiff engine on NumPy arrays.

PyTorch-flavoured names, NumPy semantics, and the same backward core as the
scalar engine (``micrograd.autodiff``).
"""

from micrograd.autodiff import enable_grad, is_grad_enabled, no_grad, set_grad_enabled

# tensor.py goes first: it defines Tensor, then installs the ops (which need Tensor).
from .tensor import Tensor, as_tensor, is_tensor, tensor

# isort: split
from . import ops
from .autograd import GradcheckError, detect_anomaly, grad, gradcheck
from .creation import arange, eye, full, ones, ones_like, rand, randn, zeros, zeros_like
from .ops.elementwise import clip, maximum, minimum, where
from .ops.linalg import matmul
from .ops.reduce import argmax, argmin, log_softmax, logsumexp, softmax, std, var
from .ops.shape import (
    broadcast_to,
    concatenate,
    flatten,
    reshape,
    squeeze,
    stack,
    swapaxes,
    transpose,
    unsqueeze,
)
from .random import manual_seed


def _function(name: str):
    def fn(x, *args, **kwargs):
        return getattr(as_tensor(x), name)(*args, **kwargs)

    fn.__name__ = name
    fn.__doc__ = f"``tg.{name}(x, ...)`` is ``x.{name}(...)``."
    return fn


exp, log, sqrt, tanh, sigmoid, relu, sin, cos, abs, sum, mean, max, min = (  # noqa: A001
    _function(n)
    for n in (
        "exp",
        "log",
        "sqrt",
        "tanh",
        "sigmoid",
        "relu",
        "sin",
        "cos",
        "abs",
        "sum",
        "mean",
        "max",
        "min",
    )
)
cat = concatenate
permute = transpose

from . import data, nn, optim  # noqa: E402  (they build on everything above)
from .io import load, save  # noqa: E402
from .nn import Parameter  # noqa: E402
