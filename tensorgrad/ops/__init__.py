"""The ops of tensorgrad, grouped by kind; each op's forward sits beside its rule.

``install`` attaches them to ``Tensor`` as methods and operators.
"""

from __future__ import annotations

import numpy as np

from . import elementwise, linalg, reduce, shape


def _comparison(ufunc):
    def method(self, other):
        from ..tensor import Tensor, _leaf

        other = other.data if isinstance(other, Tensor) else other
        return _leaf(np.asarray(ufunc(self.data, other)))

    return method


def install(Tensor) -> None:
    """Attach every op to the Tensor class."""
    for op, name in [("+", "add"), ("-", "sub"), ("*", "mul"), ("/", "truediv"), ("**", "pow")]:
        setattr(Tensor, f"__{name}__", elementwise.operator(op))
        setattr(Tensor, f"__r{name}__", elementwise.operator(op, reflected=True))
        setattr(Tensor, f"__i{name}__", elementwise.inplace(op))
    for name, method in elementwise.UNARY_METHODS.items():
        setattr(Tensor, name, method)
    Tensor.__neg__ = Tensor.neg
    Tensor.__abs__ = Tensor.abs
    Tensor.__pos__ = lambda self: self
    Tensor.clip = elementwise.clip
    Tensor.maximum = elementwise.maximum
    Tensor.minimum = elementwise.minimum
    Tensor.__matmul__ = Tensor.matmul = linalg.matmul
    Tensor.__rmatmul__ = linalg.rmatmul
    for name in (
        "sum",
        "mean",
        "max",
        "min",
        "var",
        "std",
        "logsumexp",
        "softmax",
        "log_softmax",
        "argmax",
        "argmin",
    ):
        setattr(Tensor, name, getattr(reduce, name))
    for name in (
        "reshape",
        "flatten",
        "squeeze",
        "unsqueeze",
        "transpose",
        "swapaxes",
        "broadcast_to",
        "astype",
    ):
        setattr(Tensor, name, getattr(shape, name))
    Tensor.permute = shape.transpose
    Tensor.__getitem__ = shape.getitem
    Tensor.T = property(lambda self: shape.transpose(self), doc="Axes reversed (NumPy's .T).")
    for name, ufunc in [
        ("lt", np.less),
        ("le", np.less_equal),
        ("gt", np.greater),
        ("ge", np.greater_equal),
        ("eq", np.equal),
        ("ne", np.not_equal),
    ]:
        setattr(Tensor, f"__{name}__", _comparison(ufunc))
