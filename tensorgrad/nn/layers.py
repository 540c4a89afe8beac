"""Layers: ``Linear``, activations, ``Dropout``, ``Embedding``, ``LayerNorm``,
``BatchNorm1d``, ``MLP`` (+ the micrograd bridge) and the loss modules.

Parameters are float64 by default (tensorgrad's default dtype: Python numbers become
float64); pass ``dtype=np.float32`` for single precision. Random initialisation uses
``rng`` (a ``numpy.random.Generator`` or an int seed) or else the default generator
(``tensorgrad.nn.init.manual_seed``).
"""

from __future__ import annotations

import math
import numbers
import random
from typing import Any

import numpy as np

from micrograd.nn import check_activation, layer_sizes

from ..tensor import Tensor, as_tensor, mark_changed, shown
from . import functional as F
from . import init
from .containers import Sequential  # noqa: F401  (its home before containers.py)
from .init import _as_rng
from .module import Module, Parameter

__all__ = [
    "Linear",
    "Identity",
    "ReLU",
    "Tanh",
    "Sigmoid",
    "GELU",
    "Dropout",
    "Embedding",
    "LayerNorm",
    "BatchNorm1d",
    "MLP",
    "CrossEntropyLoss",
    "MSELoss",
    "BCELoss",
    "BCEWithLogitsLoss",
]


def _size(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


def _float_dtype(dtype: Any) -> np.dtype:
    dt = np.dtype(np.float64 if dtype is None else dtype)
    if dt.kind != "f":
        raise TypeError(f"parameters need a floating dtype, got {dt}")
    return dt


class Linear(Module):
    """``y = x @ W.T + b`` with ``W`` of shape ``(out_features, in_features)``, as PyTorch.

    Initialised as PyTorch: ``W`` and ``b`` uniform in ``±1/sqrt(in_features)``
    (kaiming_uniform with ``a = sqrt(5)`` for ``W``). Accepts any batch shape ``(..., in)``.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        dtype: Any = None,
        rng: np.random.Generator | int | None = None,
    ) -> None:
        super().__init__()
        self.in_features = _size("in_features", in_features)
        self.out_features = _size("out_features", out_features)
        dt = _float_dtype(dtype)
        self.weight = Parameter(np.zeros((self.out_features, self.in_features), dt))
        self.bias = Parameter(np.zeros(self.out_features, dt)) if bias else None
        self.reset_parameters(rng)

    def reset_parameters(self, rng: np.random.Generator | int | None = None) -> None:
        """Draw fresh weights with PyTorch's default scheme."""
        gen = _as_rng(rng)
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), rng=gen)
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound, rng=gen)

    def forward(self, x: Any) -> Tensor:
        x = as_tensor(x)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"Linear: expected input of shape (..., {self.in_features}), got {x.shape}"
            )
        out = x @ self.weight.T
        return out if self.bias is None else out + self.bias

    def extra_repr(self) -> str:
        dt = "" if self.weight.dtype == np.float64 else f", dtype={self.weight.dtype}"
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}{dt}"
        )


class Identity(Module):
    """Returns its input."""

    def forward(self, x: Any) -> Any:
        return x


class ReLU(Module):
    """max(x, 0), elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return as_tensor(x).relu()


class Tanh(Module):
    """tanh(x), elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return as_tensor(x).tanh()


class Sigmoid(Module):
    """1 / (1 + exp(-x)), elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return as_tensor(x).sigmoid()


class GELU(Module):
    """x Φ(x): ``functional.gelu``, exact or with ``approximate="tanh"``."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        F.check_gelu_form("GELU", approximate)
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        return F.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return "" if self.approximate == "none" else f"approximate={self.approximate!r}"


class Dropout(Module):
    """Zeroes each element with probability ``p`` while training, scaling the rest by
    ``1 / (1 - p)`` (inverted dropout), so ``eval()`` mode is the identity.

    The mask is drawn from ``rng`` (a Generator or an int seed, fixed at construction)
    or, when ``rng`` is ``None``, from the default generator at each call.
    """

    def __init__(self, p: float = 0.5, rng: np.random.Generator | int | None = None) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p <= 1:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p!r}")
        self.p = float(p)
        self.rng = None if rng is None else _as_rng(rng)

    def forward(self, x: Any) -> Tensor:
        return F.dropout(as_tensor(x), self.p, self.training, _as_rng(self.rng))

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Embedding(Module):
    """A table of ``num_embeddings`` learned vectors of size ``embedding_dim``: ``emb(ids)``
    gives the rows at the integer ``ids``, shape ``ids.shape + (embedding_dim,)``.
    Initialised N(0, 1), as PyTorch; the row ``padding_idx`` (if given) starts at zeros
    and gets no gradient, so it stays as it is (a padding token's vector)."""

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        dtype: Any = None,
        rng: np.random.Generator | int | None = None,
    ) -> None:
        super().__init__()
        self.num_embeddings = _size("num_embeddings", num_embeddings)
        self.embedding_dim = _size("embedding_dim", embedding_dim)
        n = self.num_embeddings
        self.padding_idx = None if padding_idx is None else F.padding_row(n, padding_idx)
        self.weight = Parameter(np.zeros((n, self.embedding_dim), _float_dtype(dtype)))
        init.normal_(self.weight, rng=_as_rng(rng))
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, ids: Any) -> Tensor:
        return F.embedding(ids, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"


class LayerNorm(Module):
    """Normalises each sample over its last axes (``normalized_shape``) to mean 0 and
    variance 1, then scales by ``weight`` (ones) and shifts by ``bias`` (zeros), as PyTorch."""

    def __init__(
        self,
        normalized_shape: int | tuple[int, ...],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        self.normalized_shape = F._normalized_shape("LayerNorm", normalized_shape)
        self.eps = float(eps)
        dt = _float_dtype(dtype)
        self.weight = Parameter(np.ones(self.normalized_shape, dt)) if elementwise_affine else None
        has_bias = elementwise_affine and bias
        self.bias = Parameter(np.zeros(self.normalized_shape, dt)) if has_bias else None

    def forward(self, x: Any) -> Tensor:
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        bias = "" if self.weight is None or self.bias is not None else ", bias=False"
        return f"{self.normalized_shape}, eps={self.eps}, affine={self.weight is not None}{bias}"


class BatchNorm1d(Module):
    """Normalises each channel of an (N, C) or (N, C, L) batch, as PyTorch.

    Training, with the batch's statistics, while the running mean and variance (buffers,
    saved in the state dict) follow them: ``momentum`` of the way each batch, or their
    plain average over all batches so far when ``momentum`` is None. In ``eval()`` mode
    it uses the running statistics (or still the batch's, if it keeps none).
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.num_features = _size("num_features", num_features)
        self.eps = float(eps)
        self.momentum = None if momentum is None else float(momentum)
        dt = _float_dtype(dtype)
        n = self.num_features
        self.weight = Parameter(np.ones(n, dt)) if affine else None
        self.bias = Parameter(np.zeros(n, dt)) if affine and bias else None
        stats = track_running_stats
        self.register_buffer("running_mean", Tensor(np.zeros(n, dt)) if stats else None)
        self.register_buffer("running_var", Tensor(np.ones(n, dt)) if stats else None)
        count = Tensor(0, dtype=np.int64) if stats else None
        self.register_buffer("num_batches_tracked", count)

    def forward(self, x: Any) -> Tensor:
        tracking = self.training and self.running_mean is not None
        momentum = self.momentum
        if tracking and momentum is None:  # the plain average of every batch's statistics
            momentum = 1 / (int(self.num_batches_tracked.data) + 1)
        out = F.batch_norm(
            x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            training=self.training or self.running_mean is None,
            momentum=momentum or 0.0,
            eps=self.eps,
        )
        if tracking:  # counted once the batch went through
            self.num_batches_tracked.data += 1
            mark_changed(self.num_batches_tracked)
        return out

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.weight is not None}, "
            f"track_running_stats={self.running_mean is not None}"
            + ("" if self.weight is None or self.bias is not None else ", bias=False")
        )


class MLP(Module):
    """Linear layers of sizes ``nouts`` on ``nin`` inputs; every layer but the last is
    followed by ``activation`` ("relu", "tanh", "sigmoid" or "linear"), as
    ``micrograd.nn.MLP``. ``layers[i]`` is a ``Linear``: row ``j`` of its weight is
    micrograd's ``layers[i].neurons[j].w``.

    Weights start as PyTorch's ``Linear`` (not micrograd's U(-1, 1)); use
    ``from_micrograd`` to copy a micrograd model.
    """

    def __init__(
        self,
        nin: int,
        nouts: list[int],
        activation: str = "relu",
        bias: bool = True,
        dtype: Any = None,
        rng: np.random.Generator | int | None = None,
    ) -> None:
        super().__init__()
        check_activation("MLP", activation)
        sizes = layer_sizes("MLP", nin, nouts)
        if len(sizes) == 1:
            raise ValueError("MLP: nouts must list at least one layer size")
        gen = _as_rng(rng)
        self.activation = activation
        self.layers = [
            Linear(n_in, n_out, bias=bias, dtype=dtype, rng=gen)
            for n_in, n_out in zip(sizes, sizes[1:])
        ]

    def forward(self, x: Any) -> Tensor:
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i != last and self.activation != "linear":
                x = getattr(x, self.activation)()
        return x

    def extra_repr(self) -> str:
        sizes = [self.layers[0].in_features] + [layer.out_features for layer in self.layers]
        return f"{' -> '.join(map(str, sizes))}, activation={self.activation!r}"

    # -- the bridge to micrograd ------------------------------------------------------------

    @classmethod
    def from_micrograd(cls, mlp: Any) -> MLP:
        """A float64 MLP with the same weights and activation as a ``micrograd.nn.MLP``."""
        sizes, activation = _micrograd_shape(mlp)
        model = cls(sizes[0], sizes[1:], activation=activation, dtype=np.float64, rng=0)
        model.copy_from_micrograd(mlp)
        return model

    def copy_from_micrograd(self, mlp: Any) -> None:
        """Overwrite this MLP's weights with a micrograd MLP's (same sizes and activation)."""
        self._check_like(mlp)
        arrays = []  # every layer read and checked before any is copied
        for i, (layer, mlayer) in enumerate(zip(self.layers, mlp.layers)):
            w, b = _micrograd_layer_arrays(i, mlayer)
            if layer.bias is None and b.any():
                raise ValueError(
                    f"copy_from_micrograd: layer {i} has no bias here, but its micrograd "
                    f"neurons' biases are not 0 (e.g. {b[b != 0][0].item()!r}); build "
                    "this MLP with bias=True, or keep the micrograd biases at 0"
                )
            arrays.append((w, b))
        for layer, (w, b) in zip(self.layers, arrays):
            layer.weight.data[...] = w
            mark_changed(layer.weight)
            if layer.bias is not None:
                layer.bias.data[...] = b
                mark_changed(layer.bias)

    def to_micrograd(self) -> Any:
        """A new ``micrograd.nn.MLP`` with this MLP's weights (Python's ``random`` untouched)."""
        from micrograd.nn import MLP as MicroMLP

        sizes = [self.layers[0].in_features] + [layer.out_features for layer in self.layers]
        state = random.getstate()  # micrograd draws its initial weights from `random`
        try:
            mlp = MicroMLP(sizes[0], sizes[1:], activation=self.activation)
        finally:
            random.setstate(state)
        self.copy_to_micrograd(mlp)
        return mlp

    def copy_to_micrograd(self, mlp: Any) -> None:
        """Overwrite a micrograd MLP's weights (Values' ``.data``) with this MLP's."""
        self._check_like(mlp)
        for layer, mlayer in zip(self.layers, mlp.layers):
            w = layer.weight.data.astype(np.float64).tolist()
            b = [0.0] * layer.out_features if layer.bias is None else layer.bias.data.tolist()
            for j, neuron in enumerate(mlayer.neurons):
                for value, x in zip(neuron.w, w[j]):
                    value.data = float(x)
                neuron.b.data = float(b[j])

    def _check_like(self, mlp: Any) -> None:
        sizes, activation = _micrograd_shape(mlp)
        mine = [self.layers[0].in_features] + [layer.out_features for layer in self.layers]
        if sizes != mine or (activation != self.activation and len(mine) > 2):
            raise ValueError(
                f"micrograd MLP has sizes {sizes} and activation {activation!r}; this MLP "
                f"has sizes {mine} and activation {self.activation!r}"
            )


def _micrograd_layer_arrays(i: int, layer: Any) -> tuple[np.ndarray, np.ndarray]:
    """A micrograd layer's weights (out, in) and biases (out,) as float64 arrays; a TypeError
    names the first ``.data`` that is not a number."""
    rows = []
    for j, neuron in enumerate(layer.neurons):
        row = []
        for k, value in enumerate([*neuron.w, neuron.b]):
            x = getattr(value, "data", None)
            try:  # a real number (float("1.5") would read a string), within float's range
                if not isinstance(x, numbers.Real):
                    raise TypeError
                row.append(float(x))
            except (TypeError, OverflowError):
                which = f"w[{k}]" if k < len(neuron.w) else "b"
                raise TypeError(
                    f"copy_from_micrograd: layer {i}, neuron {j}: {which}.data is "
                    f"{shown(x)}, not a float; nothing was copied"
                ) from None
        rows.append(row)
    table = np.array(rows, dtype=np.float64).reshape(len(rows), -1)
    return table[:, :-1], table[:, -1]


def _micrograd_shape(mlp: Any) -> tuple[list[int], str]:
    """Layer sizes and hidden activation of a micrograd MLP (checked for consistency)."""
    try:
        layers = list(mlp.layers)
        sizes = [len(layers[0].neurons[0].w)] + [len(layer.neurons) for layer in layers]
        acts = [[_neuron_activation(n) for n in layer.neurons] for layer in layers]
    except (AttributeError, IndexError, TypeError) as exc:
        raise TypeError(f"expected a micrograd.nn.MLP, got {type(mlp).__name__}") from exc
    for layer, n_in in zip(layers, sizes):
        if any(len(n.w) != n_in for n in layer.neurons):
            raise ValueError("micrograd MLP: neurons of one layer have different input counts")
    hidden = {a for layer_acts in acts[:-1] for a in layer_acts}
    if len(hidden) > 1 or set(acts[-1]) != {"linear"}:
        raise ValueError(
            "micrograd MLP: expected one activation on every hidden layer and a linear last "
            f"layer, got {acts}"
        )
    return sizes, hidden.pop() if hidden else "relu"


def _neuron_activation(neuron: Any) -> str:
    act = getattr(neuron, "activation", None)
    if act is None:  # the classic Neuron only has `nonlin` (ReLU or linear)
        act = "relu" if getattr(neuron, "nonlin", True) else "linear"
    return act


class _Loss(Module):
    """A loss as a module: ``loss_fn(input, target)`` with ``reduction`` fixed at construction."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"{type(self).__name__}: reduction must be 'mean', 'sum' or 'none'")
        self.reduction = reduction

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class CrossEntropyLoss(_Loss):
    """``functional.cross_entropy``: logits (N, C) against integer labels (N,), with
    PyTorch's ``weight``, ``ignore_index`` and ``label_smoothing``."""

    def __init__(
        self,
        weight: Any = None,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(reduction)
        label_smoothing = F.smoothing("CrossEntropyLoss", label_smoothing)
        # a buffer, as PyTorch's: saved in the state dict, not trained
        self.register_buffer("weight", None if weight is None else Tensor(weight))
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, logits: Tensor, labels: Any) -> Tensor:
        return F.cross_entropy(
            as_tensor(logits),
            labels,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


class MSELoss(_Loss):
    """``functional.mse_loss``: mean of (input - target)²."""

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        return F.mse_loss(as_tensor(input), target, reduction=self.reduction)


class BCELoss(_Loss):
    """``functional.binary_cross_entropy`` on probabilities."""

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        return F.binary_cross_entropy(as_tensor(input), target, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """``functional.binary_cross_entropy_with_logits``: sigmoid and BCE fused, stable."""

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        return F.binary_cross_entropy_with_logits(
            as_tensor(input), target, reduction=self.reduction
        )
