"""Activations and losses as functions. Losses reduce with ``"mean"`` (default),
``"sum"`` or ``"none"``, as in PyTorch.

``cross_entropy`` and ``binary_cross_entropy_with_logits`` are fused ops: their
forward is computed stably from the logits and their gradient is the simple closed
form (softmax − one-hot, σ(x) − t) instead of a chain of exp/log/divide nodes.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .. import random
from ..ops import _dual as d
from ..ops.shape import sizes
from ..tensor import Tensor, as_tensor, mark_changed, real_values, record, scalar_constant

__all__ = [
    "relu",
    "tanh",
    "sigmoid",
    "gelu",
    "one_hot",
    "softmax",
    "log_softmax",
    "linear",
    "dropout",
    "embedding",
    "layer_norm",
    "batch_norm",
    "cross_entropy",
    "mse_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
]


def relu(x: Tensor) -> Tensor:
    return x.relu()


def tanh(x: Tensor) -> Tensor:
    return x.tanh()


def sigmoid(x: Tensor) -> Tensor:
    return x.sigmoid()


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """x Φ(x), Φ the standard normal distribution function, as PyTorch's GELU: exactly,
    0.5 x (1 + erf(x / √2)), or with ``approximate="tanh"`` (GPT-2's form, and 8 times
    faster here with its gradient: NumPy has no erf) 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))."""
    check_gelu_form("gelu", approximate)
    x = as_tensor(x)
    if x.dtype == np.float16:  # in float32, rounded once, as PyTorch (x³ overflows float16)
        return gelu(x.astype(np.float32), approximate).astype(np.float16)
    if approximate == "none":
        return x * (0.5 * (1 + (x * _SQRT_HALF).erf()))
    return 0.5 * x * (1 + (_SQRT_2_OVER_PI * (x + 0.044715 * (x * x * x))).tanh())


def check_gelu_form(op: str, approximate) -> None:
    if approximate not in ("none", "tanh"):
        raise ValueError(f"{op}: approximate must be 'none' or 'tanh', got {approximate!r}")


_SQRT_HALF = math.sqrt(0.5)
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    return x.softmax(axis)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    return x.log_softmax(axis)


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ weight.T + bias`` with ``weight`` of shape (out_features, in_features)."""
    out = x @ weight.T
    return out if bias is None else out + bias


def dropout(x: Tensor, p: float = 0.5, training: bool = True, rng=None) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p)."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    if not training or p == 0:
        return x
    keep = random.as_generator(rng).random(x.shape) >= p
    scale = np.zeros((), x.dtype) if p == 1 else np.asarray(1 / (1 - p), x.dtype)
    return x * (keep * scale)


def embedding(ids, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """The rows of ``weight`` (num_embeddings, dim) at ``ids``: shape ``ids.shape + (dim,)``.

    ``ids`` are integers in [0, num_embeddings), as PyTorch requires (no negative ids
    counting from the end); the gradient adds up in the rows used, once per use. The row
    ``padding_idx`` (if given; negative counts from the end) gets no gradient.
    """
    arr = np.asarray(ids.data if isinstance(ids, Tensor) else ids)
    weight = as_tensor(weight)
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be 2-D (num, dim), got shape {weight.shape}")
    n = weight.shape[0]
    ids = _indices(arr, n, "embedding", ("id", "embeddings"))
    rows = weight[ids]
    if padding_idx is None:
        return rows
    pad = padding_row(n, padding_idx)
    # The padding row's value where it is used, but as a constant: no gradient reaches it
    return d.where((ids == pad)[..., None], weight.detach()[pad], rows)


def padding_row(n: int, padding_idx) -> int:
    """``padding_idx`` as a row in [0, n), or a ValueError (PyTorch asserts it)."""
    if isinstance(padding_idx, bool) or not isinstance(padding_idx, int | np.integer):
        raise TypeError(f"embedding: padding_idx must be an int, got {padding_idx!r}")
    if not -n <= padding_idx < n:
        raise ValueError(f"embedding: padding_idx {padding_idx} is out of range for {n} embeddings")
    return int(padding_idx) % n


def layer_norm(
    x: Tensor,
    normalized_shape,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Each sample normalised over its last ``len(normalized_shape)`` axes, as PyTorch:
    ``(x - mean) / sqrt(var + eps) * weight + bias``, the variance biased (ddof 0);
    ``weight`` and ``bias`` have the shape ``normalized_shape``."""
    x = as_tensor(x)
    shape = _normalized_shape("layer_norm", normalized_shape)
    if x.ndim < len(shape) or x.shape[x.ndim - len(shape) :] != shape:
        raise ValueError(
            f"layer_norm: normalized_shape {shape} must be the last axes of the input, got "
            f"input of shape {x.shape}"
        )
    weight, bias = _per_feature("layer_norm", shape, "normalized_shape", weight=weight, bias=bias)
    axes = tuple(range(-len(shape), 0))
    return _affine(_standardized(x, axes, eps)[0], weight, bias)


def _normalized_shape(op: str, normalized_shape) -> tuple[int, ...]:
    """``normalized_shape`` (an int, or a sequence of them) as a non-empty tuple of ints."""
    shape = sizes(op, (normalized_shape,))
    if not shape:
        raise ValueError(f"{op}: normalized_shape must name at least one axis, got ()")
    return shape


def _per_feature(op: str, shape: tuple, why: str, **tensors) -> list[Tensor | None]:
    """Optional tensors of ``shape`` each (a weight, a bias, running statistics), or a
    ValueError naming the one that is not (``why``: where the shape comes from)."""
    out = []
    for name, t in tensors.items():
        if t is not None:
            t = as_tensor(t)
            if t.shape != shape:
                raise ValueError(f"{op}: {name} has shape {t.shape}, expected {shape} ({why})")
        out.append(t)
    return out


def batch_norm(
    x: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Each channel (axis 1) of an (N, C) or (N, C, L) input normalised, as PyTorch.

    Training, with the batch's mean and biased variance; the running statistics (if
    given: floating Tensors) move ``momentum`` of the way to the batch's mean and
    *unbiased* variance, in place. Otherwise with the running statistics.
    """
    x = as_tensor(x)
    if x.ndim not in (2, 3):
        raise ValueError(f"batch_norm: expected an (N, C) or (N, C, L) input, got {x.shape}")
    channels = (x.shape[1],)
    for name, stat in (("running_mean", running_mean), ("running_var", running_var)):
        if stat is not None and not (isinstance(stat, Tensor) and stat.dtype.kind == "f"):
            raise TypeError(  # updated in place: a floating Tensor, as a model's buffer
                f"batch_norm: {name} must be a floating Tensor, got {type(stat).__name__}"
                f"{f' of dtype {stat.dtype}' if isinstance(stat, Tensor) else ''}"
            )
        if training and stat is not None and not stat.data.flags.writeable:
            raise ValueError(f"batch_norm: {name} is read-only, so it cannot be updated")
    if (running_mean is None) != (running_var is None):
        raise ValueError("batch_norm: give both running_mean and running_var, or neither")
    why = f"one per channel of the input {x.shape}"
    stats = _per_feature(
        "batch_norm", channels, why, running_mean=running_mean, running_var=running_var
    )
    running_mean, running_var = stats
    # As PyTorch, a weight or bias of C values may come in any shape: (1, C) as in makemore
    affine = [None if t is None else as_tensor(t) for t in (weight, bias)]
    for name, t in zip(("weight", "bias"), affine):
        if t is not None and t.size != channels[0]:
            raise ValueError(
                f"batch_norm: {name} has shape {t.shape}, not {channels[0]} values ({why})"
            )
    axes = (0,) if x.ndim == 2 else (0, 2)
    per_channel = (1, *channels) + (1,) * (x.ndim - 2)  # broadcasts along axis 1
    weight, bias = (  # (C,) or (1, C) broadcast along axis 1 of an (N, C) input as they are
        t if t is None or t.shape in (per_channel, per_channel[1:]) else t.reshape(per_channel)
        for t in affine
    )
    if not training:
        if running_mean is None:
            raise ValueError("batch_norm: without training=True it needs the running statistics")
        # copies: a training step that moves the statistics later leaves this graph's
        # backward with the values its forward used (it refused to run, naming '-')
        mean, var = (t.data.reshape(per_channel).copy() for t in (running_mean, running_var))
        out = (x - mean) / np.sqrt(var + eps)
    else:
        count = x.size // channels[0] if channels[0] else 0
        if count == 1:  # an empty batch is fine: an empty result, as PyTorch
            raise ValueError(
                f"batch_norm: expected more than 1 value per channel when training, got "
                f"input of shape {x.shape}"
            )
        if not count:  # an empty batch: nothing to normalise, no statistics to take
            return _affine(x * 0, weight, bias)
        out, mean, var = _standardized(x, axes, eps)
        if running_mean is not None:  # and running_var: both or neither, checked above
            new_mean = _moved(running_mean.data, mean, momentum)  # both made, then
            new_var = _moved(running_var.data, var * (count / (count - 1)), momentum)
            for stat, new in ((running_mean, new_mean), (running_var, new_var)):  # written
                stat.data[...] = new
                mark_changed(stat)
    return _affine(out, weight, bias)


def _moved(stat: np.ndarray, batch: np.ndarray, momentum: float) -> np.ndarray:
    """``stat`` moved ``momentum`` of the way to the batch's value, in ``stat``'s dtype."""
    return ((1 - momentum) * stat + momentum * batch.reshape(stat.shape)).astype(stat.dtype)


def _standardized(x: Tensor, axes: tuple, eps: float) -> tuple[Tensor, np.ndarray, np.ndarray]:
    """x̂ = (x - mean) / s over ``axes``, s = sqrt(var + eps) with the biased variance, as
    one node; and the mean and variance as arrays (for running statistics). The plain ops
    would make nine nodes and take two to three times as long."""
    data = x.data if x.dtype.kind == "f" else x.data.astype(np.float64)
    n = math.prod(data.shape[a] for a in axes)
    mean = _kept_mean(data, axes, n)
    centered = data - mean
    var = _kept_mean(centered * centered, axes, n)
    std = np.sqrt(var + eps)
    centered /= std  # now x̂
    out = record(centered, (x,), "standardize", _standardize_rule, (axes, n, eps, std))
    return out, mean, var


def _kept_mean(a: np.ndarray, axes: tuple, n: int) -> np.ndarray:
    """The mean of ``a`` over ``axes`` (n values each), kept as size-1 axes, in ``a``'s
    dtype (float16 sums in float32); nan where there is nothing to average."""
    total = np.add.reduce(a, axis=axes, keepdims=True, dtype=d.accumulator(a.dtype))
    return (total / n if n else total * np.nan).astype(a.dtype, copy=False)


def _standardize_rule(g, out, args, ctx, needs):
    # μ and s depend on every x of a slice, so the gradient mixes the slice:
    # dx = (g - mean(g) - x̂ · mean(g x̂)) / s, the means over the normalised axes.
    axes, n, eps, std = ctx
    if isinstance(g, np.ndarray):  # plain backward: the saved s and the output x̂
        dx = g - _kept_mean(g, axes, n)
        dx -= out * _kept_mean(g * out, axes, n)
        dx /= std
        return (dx,)
    x = args[0]  # recorded: x̂ and s rebuilt from x as ops, so the result differentiates again
    centered = x - x.mean(axis=axes, keepdims=True)
    s = ((centered * centered).mean(axis=axes, keepdims=True) + eps).sqrt()
    xhat = centered / s
    mean_g = g.mean(axis=axes, keepdims=True)
    return ((g - mean_g - xhat * (g * xhat).mean(axis=axes, keepdims=True)) / s,)


def _affine(x: Tensor, weight: Tensor | None, bias: Tensor | None) -> Tensor:
    if weight is not None:
        x = x * weight
    return x if bias is None else x + bias


def _check_reduction(reduction: str, op: str) -> None:
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _reduce(loss: Tensor, reduction: str, op: str) -> Tensor:
    _check_reduction(reduction, op)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _class_labels(labels, n: int, classes: int, ignore_index: int) -> tuple[np.ndarray, Any]:
    """Integer labels (N,) in [0, classes), or a ValueError/IndexError naming the offender.

    Labels equal to ``ignore_index`` are allowed: they come back as class 0, with a mask
    of the rows to keep (None when no label is ignored)."""
    arr = np.asarray(labels.data if isinstance(labels, Tensor) else labels)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(
            f"cross_entropy: expected {n} labels (shape ({n},)), got shape {arr.shape}"
        )
    ignored = arr == ignore_index if arr.dtype.kind in "iuf" else None
    if ignored is None or not ignored.any():
        return _indices(arr, classes, "cross_entropy", ("label", "classes")), None
    kept = ~ignored
    y = np.zeros(n, np.int64)
    y[kept] = _indices(arr[kept], classes, "cross_entropy", ("label", "classes"))
    return y, kept


def one_hot(labels, num_classes: int = -1) -> Tensor:
    """Integer labels as one-hot rows: int64, one more axis of ``num_classes`` (-1: the
    largest label + 1), as PyTorch's; ``.float()`` makes them a network's input."""
    arr = np.asarray(labels.data if isinstance(labels, Tensor) else labels)
    names = ("label", "classes")
    if arr.dtype.kind not in "iuf":
        _indices(arr, 1, "one_hot", names)  # says the labels must be integers
    if num_classes == -1:
        if not arr.size:
            raise ValueError("one_hot: no labels to take num_classes from; pass num_classes")
        if arr.min() < 0:
            raise IndexError(f"one_hot: label {arr.min().item()!r} is negative")
        num_classes = int(arr.max()) + 1  # a label that is no whole number fails below
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral):
        raise TypeError(f"one_hot: num_classes must be an int, got {num_classes!r}")
    if num_classes < 0:
        raise ValueError(f"one_hot: num_classes must be >= 0 (or -1), got {num_classes}")
    y = _indices(arr, int(num_classes), "one_hot", names)
    # compared with the class numbers: memory for the result only (an identity matrix
    # to index would be num_classes², 20 GB for GPT-2's 50,257)
    hot = y[..., None] == np.arange(int(num_classes))
    return Tensor(hot.astype(np.int64), dtype=np.int64)


def _indices(arr: np.ndarray, n: int, op: str, names: tuple[str, str]) -> np.ndarray:
    """Integers in [0, n) as int64 (a copy: the caller's array may change before backward),
    or a ValueError/IndexError naming the first offender. Floats that hold whole numbers
    pass. ``names``: what one index is and what the n things are, for the message."""
    one, things = names
    if arr.dtype.kind == "f":
        bad = arr[arr != np.round(arr)]
        if bad.size:
            raise ValueError(f"{op}: {one}s must be integers, got {bad[0].item()!r}")
    elif arr.dtype.kind not in "iu":
        raise ValueError(f"{op}: {one}s must be integers, got dtype {arr.dtype}")
    out_of_range = (arr < 0) | (arr >= n)  # the values as given: a cast could wrap them
    if out_of_range.any():
        raise IndexError(
            f"{op}: {one} {arr[out_of_range][0]} is out of range for {n} {things} "
            f"({one}s must be in [0, {n - 1}])"
        )
    return arr.astype(np.int64)


def _cross_entropy_rule(g, out, args, ctx, needs):
    # Per row, d/dz of -Σ_c t_c log softmax(z)_c is (Σ_c t_c) softmax(z) - t, where t is the
    # row's target weights: onehot(y) for plain labels, so the gradient is softmax - onehot.
    # A row whose label is ignored gets exactly 0, as in PyTorch (not 0 × the nan mean of
    # a batch whose every label is ignored).
    labels, scale, probs, target, kept = ctx
    g = g.reshape(-1, 1) if g.ndim else g
    if isinstance(g, np.ndarray):  # plain backward: reuse the forward's softmax in place
        if target is None:
            grad = probs.copy()
            grad[np.arange(len(labels)), labels] -= 1
        else:
            grad = probs * target.sum(axis=1, keepdims=True)
            grad -= target
        grad *= g * scale
        if kept is not None:
            grad[~kept] = 0
        return (grad,)
    if target is None:  # recorded: softmax as an op
        target = np.zeros(probs.shape, dtype=probs.dtype)
        target[np.arange(len(labels)), labels] = 1
    total = target.sum(axis=1, keepdims=True)
    grad = (d.softmax(args[0], 1) * total - target) * (g * scale)
    return (grad if kept is None else d.where(kept[:, None], grad, 0),)


def smoothing(op: str, label_smoothing) -> float:
    """``label_smoothing`` as a Python float in [0, 1] (a float32 ε would make the target
    rows of a float64 loss sum to 1 only to float32's precision), or the error naming it."""
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, numbers.Real):
        raise TypeError(f"{op}: label_smoothing must be a number, got {label_smoothing!r}")
    if not 0.0 <= label_smoothing <= 1.0:  # nan too
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")
    return float(label_smoothing)


def _target_weights(y, kept, weight, smoothing: float, shape: tuple, dtype) -> np.ndarray:
    """Each row's weight on each class's -log p: (1 - ε) onehot(y) + ε / C, times the
    class weights; rows with an ignored label weigh nothing."""
    n, classes = shape
    target = np.full(shape, smoothing / classes, dtype)
    target[np.arange(n), y] += 1 - smoothing
    if weight is not None:
        target *= weight
    if kept is not None:
        target[~kept] = 0
    return target


def _class_weights(weight, classes: int, dtype) -> np.ndarray | None:
    if weight is None:
        return None
    if isinstance(weight, Tensor) and weight.requires_grad:
        raise TypeError("cross_entropy: weight is a constant here; pass weight.detach()")
    w = np.asarray(real_values("cross_entropy: weight", weight, dtype))
    if w.shape != (classes,):
        raise ValueError(
            f"cross_entropy: weight must have one value per class, shape ({classes},), "
            f"got shape {w.shape}"
        )
    return w


def cross_entropy(
    logits: Tensor,
    labels,
    weight=None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Softmax cross-entropy of ``logits`` (N, C) against integer class ``labels`` (N,).

    Fused and stable: the loss is logsumexp(z) - z[y] (finite for logits of ±1000)
    and its gradient is softmax(z) - onehot(y). As PyTorch's: ``weight`` (C,) weighs
    each class, rows labelled ``ignore_index`` count for nothing, ``label_smoothing`` ε
    aims at (1 - ε) onehot(y) + ε / C, and the mean divides by the kept rows' weights.
    """
    logits = as_tensor(logits)
    if logits.dtype.kind != "f":  # integer logits (a constant): float64, as tg.tensor makes them
        logits = logits.astype(np.float64)
    _check_reduction(reduction, "cross_entropy")
    if logits.ndim != 2:
        raise ValueError(f"cross_entropy: logits must have shape (N, C), got {logits.shape}")
    label_smoothing = smoothing("cross_entropy", label_smoothing)
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, numbers.Integral):
        raise TypeError(f"cross_entropy: ignore_index must be an int, got {ignore_index!r}")
    n, classes = logits.shape
    z = logits.data
    w = _class_weights(weight, classes, z.dtype)
    y, kept = _class_labels(labels, n, classes, ignore_index)
    probs, m, log_total = d.stable_softmax(z, 1)  # probs are kept for the backward
    target = None
    if w is None and label_smoothing == 0:  # plain labels, some perhaps ignored: fused
        # logsumexp(z) - z[y] = log Σ e^(z - m) - (z[y] - m): at the scale of z - m, not of m
        per_row = log_total[:, 0] - (z[np.arange(n), y] - m[:, 0])
        count = n
        if kept is not None:
            per_row[~kept] = 0
            count = int(np.count_nonzero(kept))
    else:
        target = _target_weights(y, kept, w, label_smoothing, z.shape, z.dtype)
        neg_log_p = log_total - (z - m)  # -log softmax(z), at the same scale
        per_row = (target * neg_log_p).sum(axis=1)
        row_weights = np.ones(n, z.dtype) if w is None else w[y]
        count = (row_weights if kept is None else row_weights[kept]).sum()
    if reduction == "none":
        ctx = (y, 1, probs, target, kept)
        return record(per_row, (logits,), "cross_entropy", _cross_entropy_rule, ctx)
    total = per_row.sum()
    scale = 1
    if reduction == "mean":  # over the kept rows' weights; over none of them: nan, as PyTorch
        scale = np.divide(1, count, dtype=z.dtype) if count else z.dtype.type(np.nan)
        total = total * scale if count else z.dtype.type(np.nan)
        if kept is not None and not kept.any():  # every row ignored: no gradient, at any
            scale = 0  # order (nan × an ignored row's 0 would still be nan)
    ctx = (y, scale, probs, target, kept)
    return record(np.asarray(total, z.dtype), (logits,), "cross_entropy", _cross_entropy_rule, ctx)


def _same_shape(op: str, a: Tensor, b: Tensor) -> None:
    # Silent broadcasting of (N, 1) against (N,) gives an (N, N) loss: refuse it.
    if a.shape != b.shape:
        raise ValueError(
            f"{op}: input shape {a.shape} and target shape {b.shape} differ; "
            "reshape one of them (they would not broadcast the way you mean)"
        )


def _as_target(target, input: Tensor) -> Tensor:
    """``target`` as a tensor. A Python or NumPy scalar takes a floating input's dtype: like
    a scalar operand, it does not promote a float32 input."""
    if input.dtype.kind == "f" and scalar_constant(target) is not None:
        return Tensor(np.asarray(target, dtype=input.dtype))
    return as_tensor(target)


def mse_loss(input: Tensor, target, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Mean squared error (input − target)²; shapes must match (no silent broadcasting)."""
    input = as_tensor(input)
    target = _as_target(target, input)
    _same_shape("mse_loss", input, target)
    diff = input - target
    return _reduce(diff * diff, reduction, "mse_loss")


def _clamped_log(x):
    """log x, clamped below at -100 (PyTorch's BCE convention), written with dual ops."""
    raw = d.raw(x)
    safe = d.log(d.where(raw > 0, x, 1))
    return d.where((raw <= 0) | (d.raw(safe) < -100), -100, safe)


def _bce_rule(g, out, args, ctx, needs):
    # PyTorch's gradient: (p - t) / max(p (1 - p), 1e-12). The target's: log(1-p) - log(p)
    # with each log clamped at -100, the slope of the loss as computed (PyTorch leaves
    # them unclamped, so it is ±inf at p = 0 or 1 where this is ±100).
    # Written with dual ops, so that second derivatives see p in both places.
    p, t = args
    gp = gt = None
    if needs[0]:
        denom = p * (1 - p)
        gp = g * (p - t) / d.where(d.raw(denom) < 1e-12, 1e-12, denom)
    if needs[1]:
        gt = g * (_clamped_log(1 - p) - _clamped_log(p))
    return gp, gt


def binary_cross_entropy(input: Tensor, target, reduction: str = "mean") -> Tensor:  # noqa: A002
    """−[t log p + (1 − t) log(1 − p)] for probabilities p; logs clamped at −100 (as PyTorch)."""
    p = as_tensor(input)
    t = _as_target(target, p)
    _same_shape("binary_cross_entropy", p, t)
    # A nan input (a model gone astray) gives a nan loss, NumPy's way (detect_anomaly finds
    # where it came from); a nan target is a bad label, refused as PyTorch refuses it.
    hint = " (use binary_cross_entropy_with_logits for logits)"
    _check_probabilities("input", p, hint, nan_ok=True)
    _check_probabilities("target", t, "", nan_ok=False)
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(p.data), -100)
        log_q = np.maximum(np.log1p(-p.data), -100)
    loss = record(
        -(t.data * log_p + (1 - t.data) * log_q), (p, t), "binary_cross_entropy", _bce_rule
    )
    return _reduce(loss, reduction, "binary_cross_entropy")


def _check_probabilities(name: str, x: Tensor, hint: str, nan_ok: bool) -> None:
    """Values in [0, 1] (nan too if ``nan_ok``), else a ValueError naming the first other."""
    a = x.data
    fine = ~((a < 0) | (a > 1)) if nan_ok else (a >= 0) & (a <= 1)  # nan compares false
    if not fine.all():
        raise ValueError(
            f"binary_cross_entropy: {name} must be probabilities in [0, 1], got "
            f"{x.data[~fine].flat[0].item()!r}{hint}"
        )


def _bce_logits_rule(g, out, args, ctx, needs):
    # d/dx = σ(x) − t; d/dt = −x.
    x, t = args
    return (g * (d.sigmoid(x) - t) if needs[0] else None, -g * x if needs[1] else None)


def binary_cross_entropy_with_logits(input: Tensor, target, reduction: str = "mean") -> Tensor:  # noqa: A002
    """BCE on logits, fused and stable: max(x, 0) − x·t + log(1 + e^−|x|)."""
    x = as_tensor(input)
    t = _as_target(target, x)
    _same_shape("binary_cross_entropy_with_logits", x, t)
    z = d.floating(x.data)  # -|z| of int8 -128 wraps around
    loss = np.maximum(z, 0) - z * t.data + np.log1p(np.exp(-np.abs(z)))
    return _reduce(
        record(loss, (x, t), "bce_with_logits", _bce_logits_rule),
        reduction,
        "binary_cross_entropy_with_logits",
    )
