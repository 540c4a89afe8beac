"""The ops of tensorgrad, grouped by kind; each op's forward sits beside its rule.

``install`` attaches them to ``Tensor`` as methods and operators.
"""

from __future__ import annotations

import numpy as np

from . import elementwise, linalg, reduce, shape


def _elementwise_constant(ufunc, reflected: bool = False):
    """A comparison or logical op: a new constant tensor (nothing to differentiate).

    A NumPy float scalar is a weak operand, as in arithmetic: ``t32 == np.float64(0.1)``
    compares in the tensor's float32, as ``t32 == 0.1`` does.
    """

    def method(self, other):
        from ..tensor import Tensor, _leaf

        if isinstance(other, Tensor):
            other = other.data
        elif isinstance(other, np.floating):
            other = float(other)
        try:
            out = ufunc(other, self.data) if reflected else ufunc(self.data, other)
        except (ValueError, TypeError) as exc:
            if isinstance(exc, TypeError) and ufunc in (np.equal, np.not_equal):
                return NotImplemented  # t == "a": unequal, Python's answer (as PyTorch's)
            # The base class: NumPy's own subclasses take other arguments.
            kind = ValueError if isinstance(exc, ValueError) else TypeError
            raise kind(
                f"{ufunc.__name__}: a tensor of shape {self.shape} and dtype {self.dtype} with "
                f"an operand of shape {np.shape(other)}: {exc}"
            ) from None
        return _leaf(np.asarray(out))

    return method


def _invert(self):
    """``~mask``: logical not of a bool tensor (bitwise not of an integer one), as NumPy."""
    from ..tensor import _leaf

    if self.dtype.kind not in "biu":
        raise TypeError(f"~: only bool and integer tensors, got dtype {self.dtype}")
    return _leaf(np.asarray(np.invert(self.data)))  # 0-d: an array, not a NumPy scalar


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
    Tensor.view = shape.reshape  # PyTorch's name; the data is a NumPy view where it can be
    Tensor.masked_fill = elementwise.masked_fill
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
        setattr(Tensor, f"__{name}__", _elementwise_constant(ufunc))
    for name, ufunc in [("and", np.bitwise_and), ("or", np.bitwise_or), ("xor", np.bitwise_xor)]:
        setattr(Tensor, f"__{name}__", _elementwise_constant(ufunc))  # masks: (t > 0) & (t < 1)
        setattr(Tensor, f"__r{name}__", _elementwise_constant(ufunc, reflected=True))
    Tensor.__invert__ = _invert
