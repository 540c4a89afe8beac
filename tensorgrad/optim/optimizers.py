"""Optimizers with PyTorch's update rules: ``SGD``, ``Adam``, ``AdamW``.

An optimizer holds *param groups* (a list of dicts, each with ``"params"`` and its
hyper-parameters, as in PyTorch: change ``opt.param_groups[0]["lr"]`` to schedule the
learning rate, or let a scheduler from ``lr_scheduler`` do it) and per-parameter state.
``step()`` updates each parameter's ``.data`` in place with vectorised NumPy, skipping
parameters whose ``.grad`` is ``None``; the gradient arrays themselves are never
modified. It checks every gradient before it changes anything, so a bad one leaves
parameters and state as they were. The arithmetic follows ``torch/optim/{sgd,adam}.py``
(single-tensor path) step by step, so the same gradients give the same weights to
rounding.
"""

from __future__ import annotations

import math
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from micrograd.autodiff import enable_grad

from ..tensor import Tensor, mark_changed

__all__ = ["Optimizer", "SGD", "Adam", "AdamW"]


def _grad_array(p) -> np.ndarray | None:
    g = p.grad
    if g is None or isinstance(g, np.ndarray):
        return g
    return getattr(g, "data", g)


def zero_grads(params: Iterable, set_to_none: bool = True) -> None:
    """Clear the parameters' gradients: ``None`` (as PyTorch's default), or zeros in place.

    Zeroing in place is a change a graph that read the gradient must not miss; a gradient
    that is itself a graph (``create_graph=True``) gets fresh zeros instead (PyTorch
    detaches it first).
    """
    params = list(params)
    if not set_to_none:  # every gradient zeroed in place is checked first
        for i, p in enumerate(params):
            if _is_graph(p.grad):
                continue  # replaced by fresh zeros below
            g = _grad_array(p)
            if g is not None and not (isinstance(g, np.ndarray) and g.flags.writeable):
                raise TypeError(
                    f"zero_grad: the gradient of parameter {i} is a {type(g).__name__}"
                    f"{' (read-only)' if isinstance(g, np.ndarray) else ''}, which cannot be "
                    "zeroed in place; nothing was zeroed"
                )
    for p in params:
        g = p.grad
        if set_to_none or g is None:
            p.grad = None
        elif _is_graph(g):
            p._grad = Tensor(np.zeros_like(g.data))  # the gradient's own shape: no check
        else:
            _grad_array(p)[...] = 0
            if isinstance(g, Tensor):
                mark_changed(g)


def _loaded_count(where: str, key: str, value) -> int:
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{where}: {key!r} must be a whole number >= 0, got {value!r}")
    return int(value)


def _loaded_array(where: str, key: str, value, param) -> np.ndarray:
    """A copy of ``value`` in the parameter's dtype, which must be real and of its shape."""
    if not isinstance(value, np.ndarray) or value.dtype.kind not in "iuf":
        kind = f" of dtype {value.dtype}" if isinstance(value, np.ndarray) else ""
        raise ValueError(
            f"{where}: {key!r} must be an array of real numbers, got {type(value).__name__}{kind}"
        )
    return _copied_array(where, key, value, param)


def _copied_array(where: str, key: str, value, param):
    """``value`` itself unless it is an array: then a copy, which must have the parameter's
    shape, and floats in the parameter's dtype."""
    if not isinstance(value, np.ndarray):
        return value
    if value.shape != param.data.shape:
        raise ValueError(
            f"{where}: {key!r} has shape {value.shape}, the parameter has shape {param.data.shape}"
        )
    return np.array(value, dtype=param.data.dtype if value.dtype.kind in "iuf" else None)


def _refuse_a_set(params) -> None:
    """As PyTorch: parameters are numbered in the state dicts by their order, which a set's
    iteration does not keep from one run to the next."""
    if isinstance(params, set | frozenset):
        raise TypeError(
            "optimizer params must be an ordered collection (a list), got a set, whose "
            "order changes between runs"
        )


def _is_graph(g) -> bool:
    return isinstance(g, Tensor) and bool(g._prev or g.requires_grad)


def _check(name: str, value, low: float = 0.0, high: float | None = None) -> None:
    """``value`` must be a real number in [low, high) (high None: no upper bound)."""
    ok = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
    if ok:
        ok = low <= value and (high is None or value < high)
    if not ok:
        bound = f"in [{low}, {high})" if high is not None else f">= {low}"
        raise ValueError(f"Invalid {name} value: {value!r} (must be a number {bound})")


class Optimizer:
    """Base class: param groups, per-parameter ``state``, ``zero_grad``, state dicts.

    ``params`` is an iterable of Tensors, or of dicts ``{"params": [...], **options}``
    whose options override ``defaults`` for that group.
    """

    # The per-parameter state ``_update`` keeps: counts, arrays of the parameter's shape,
    # and the entries a non-empty state must have (``load_state_dict`` checks them).
    _state_counts: tuple[str, ...] = ()
    _state_arrays: tuple[str, ...] = ()
    _state_required: tuple[str, ...] = ()

    def __init__(self, params: Iterable, defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        # keyed by the parameter itself, as PyTorch's (tensors hash by identity): a
        # parameter without state reads as {} (a custom optimizer's step fills it in)
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        if hasattr(params, "data") and hasattr(params, "grad"):
            raise TypeError(
                f"{type(self).__name__}: params must be an iterable of Tensors or dicts, got "
                "a single Tensor (wrap it in a list)"
            )
        _refuse_a_set(params)
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: dict[str, Any]) -> None:
        """Add a group of parameters, with options defaulting to the optimizer's."""
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"a param group must be a dict with a 'params' entry, got {group!r}")
        params = group["params"]
        _refuse_a_set(params)
        params = [params] if hasattr(params, "data") and hasattr(params, "grad") else list(params)
        for p in params:
            data = getattr(p, "data", None)
            if not isinstance(data, np.ndarray) or isinstance(p, np.ndarray):
                raise TypeError(f"optimizer can only optimize Tensors, got {type(p).__name__}")
            if not np.issubdtype(data.dtype, np.floating):
                raise TypeError(f"optimizer can only optimize floating Tensors, got {data.dtype}")
            if getattr(p, "is_leaf", True) is False:
                raise ValueError("optimizer can't optimize a non-leaf Tensor")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if len({id(p) for p in params}) != len(params) or seen & {id(p) for p in params}:
            raise ValueError("some parameters appear more than once (in one group or in several)")
        unknown = set(group) - set(self.defaults) - {"params"}
        if unknown:
            raise TypeError(f"{type(self).__name__}: unknown option(s) {sorted(unknown)}")
        new = {**self.defaults, **group, "params": params}
        self._validate(new)
        self.param_groups.append(new)

    def _validate(self, group: dict[str, Any]) -> None:
        """Check a group's hyper-parameters (subclasses)."""

    def _params(self) -> list:
        """Every parameter, group after group: index i is parameter i of the state dicts."""
        return [p for group in self.param_groups for p in group["params"]]

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient: ``None`` (default, as PyTorch) or zeros."""
        zero_grads(self._params(), set_to_none)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; return ``closure()``'s loss, if given.

        ``closure`` (as PyTorch's) recomputes the loss and its gradients first, with grad
        mode on. All gradients and parameters are checked before any changes, so a bad
        one changes no parameter and no state.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        todo = []
        for group in self.param_groups:
            self._validate(group)  # options may have been changed since (a schedule's lr)
            for p in group["params"]:
                g = _grad_array(p)
                if g is None:
                    continue
                if not isinstance(g, np.ndarray) or g.shape != p.data.shape or g.dtype.kind != "f":
                    self._bad_grad(p, g)
                self._check_param(p)
                todo.append((p, g, group))
        state = self.state
        for p, g, group in todo:
            try:
                self._update(p.data, g, state[p], group)
            finally:  # a graph made before the step reads the old weights (np.seterr(all=
                mark_changed(p)  # "raise") may stop an update midway: p changed all the same)
        return loss

    def _where(self, param) -> str:
        """Who is speaking about which parameter: its index, as in the state dicts."""
        i = next(i for i, p in enumerate(self._params()) if p is param)
        return f"{type(self).__name__}.step: parameter {i}"

    def _check_param(self, param) -> None:
        """The update writes into ``param.data`` and reads its state: ``.data`` may have
        been replaced since (by an integer or read-only array, or one of a new shape)."""
        data = param.data
        problem = None
        if data.dtype.kind != "f":
            problem = f"has dtype {data.dtype} (a parameter must be floating)"
        elif not data.flags.writeable:
            problem = "has read-only data (a broadcast view? copy it first)"
        else:
            state = self.state.get(param, {})
            for key in self._state_arrays:
                value = state.get(key)
                if isinstance(value, np.ndarray) and value.shape != data.shape:
                    problem = (
                        f"has shape {data.shape}, but its {key!r} state has shape "
                        f"{value.shape} (was .data replaced? start a new optimizer)"
                    )
                    break
        if problem:
            raise ValueError(f"{self._where(param)} {problem}; nothing was updated")

    def _bad_grad(self, param, grad) -> None:
        """Raise the error for ``param``'s bad gradient, naming its index (as in state dicts)."""
        where = self._where(param)
        if not isinstance(grad, np.ndarray):
            raise TypeError(
                f"{where}: gradient is a {type(grad).__name__}, not a Tensor or array; "
                "nothing was updated"
            )
        if grad.shape != param.data.shape:
            raise ValueError(
                f"{where}: gradient of shape {grad.shape} for a parameter of shape "
                f"{param.data.shape}; nothing was updated"
            )
        raise TypeError(
            f"{where}: gradient of dtype {grad.dtype} for a parameter of dtype "
            f"{param.data.dtype} (a gradient must be floating); nothing was updated"
        )

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        raise NotImplementedError

    # -- state dicts: parameters are numbered 0, 1, ... across groups, as in PyTorch ----------

    def state_dict(self) -> dict[str, Any]:
        """``{"state": {index: {name: value}}, "param_groups": [{..., "params": [index]}]}``.

        Arrays are copies, so the dict is a snapshot (save it with ``tg.save``).
        """
        groups, state, i = [], {}, 0
        for group in self.param_groups:
            ids = list(range(i, i + len(group["params"])))
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": ids})
            for p in group["params"]:
                if self.state.get(p):
                    state[i] = {
                        k: (v.copy() if isinstance(v, np.ndarray) else v)
                        for k, v in self.state[p].items()
                    }
                i += 1
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyper-parameters and state; the groups must have the same sizes.

        Everything is checked before anything changes: a bad dict raises ``ValueError``
        and leaves the optimizer as it was.
        """
        try:
            saved_groups = list(state_dict["param_groups"])
            saved_state = dict(state_dict["state"])
        except (KeyError, TypeError) as exc:
            raise ValueError(
                "load_state_dict: expected a dict with 'state' and 'param_groups'"
            ) from exc
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"load_state_dict: the saved state has {len(saved_groups)} param groups, "
                f"this optimizer has {len(self.param_groups)}"
            )
        new_groups, new_state, by_index = [], defaultdict(dict), {}
        for gi, (mine, saved) in enumerate(zip(self.param_groups, saved_groups)):
            try:  # any sequence of indices: a list, a tuple, a range, an array
                saved_ids = saved["params"]
                if isinstance(saved_ids, (str, bytes)):
                    raise TypeError
                saved_ids = list(saved_ids)
            except (KeyError, TypeError, IndexError):
                raise ValueError(
                    f"load_state_dict: param group {gi} must be a dict whose 'params' entry "
                    f"lists parameter indices, got {saved!r}"
                ) from None
            if len(saved_ids) != len(mine["params"]):
                raise ValueError(
                    f"load_state_dict: param group {gi} has {len(saved_ids)} parameters saved "
                    f"but {len(mine['params'])} here"
                )
            for i, p in zip(saved_ids, mine["params"]):
                by_index[i] = p
            # An option the dict lacks (saved by an older version) takes the default.
            group = {**self.defaults, **{k: v for k, v in saved.items() if k != "params"}}
            group["params"] = mine["params"]
            self._validate(group)
            new_groups.append(group)
        for i, entry in saved_state.items():
            if i not in by_index:
                raise ValueError(f"load_state_dict: state for unknown parameter index {i!r}")
            p = by_index[i]
            if not isinstance(entry, dict):
                raise ValueError(
                    f"load_state_dict: the state of parameter {i!r} must be a dict, "
                    f"got {type(entry).__name__}"
                )
            new_state[p] = self._loaded_state(i, entry, p)
        self.param_groups = new_groups
        self.state = new_state

    def _loaded_state(self, i, entry: dict, param) -> dict[str, Any]:
        """Parameter ``i``'s saved state, checked as ``_update`` will use it: every entry
        known, none missing, arrays (copied) of the parameter's shape, counts whole. (A
        subclass that declares no state gets its arrays checked and copied, the rest as is.)
        """
        where = f"load_state_dict: the state of parameter {i!r}"
        declared = self._state_counts + self._state_arrays
        if not declared:  # arrays of the parameter's shape, floats in its dtype, as before
            return {k: _copied_array(where, k, v, param) for k, v in entry.items()}
        missing = [k for k in self._state_required if k not in entry] if entry else []
        unknown = [k for k in entry if k not in declared]
        if missing or unknown:
            problems = [f"lacks {missing}"] if missing else []
            problems += [f"has unknown entries {unknown}"] if unknown else []
            raise ValueError(
                f"{where} {' and '.join(problems)} ({type(self).__name__} keeps {list(declared)})"
            )
        return {
            k: _loaded_count(where, k, v)
            if k in self._state_counts
            else _loaded_array(where, k, v, param)
            for k, v in entry.items()
        }

    def __getstate__(self) -> dict:
        """For copies and pickles: ``state`` travels as a list in parameter order (a plain
        list, whichever way the state is keyed in memory)."""
        fields = dict(vars(self))
        fields["state"] = [self.state.get(p) for p in self._params()]
        return fields

    def __setstate__(self, fields: dict) -> None:
        fields = dict(fields)
        by_position = fields.pop("state")
        vars(self).update(fields)
        if isinstance(by_position, dict) and by_position:  # keyed by another process's ids
            warnings.warn(
                f"{type(self).__name__}: this pickle keys the optimizer's state by id(param) "
                "(tensorgrad before 2026-12-07), which the loaded parameters do not have: the "
                "state starts empty. Save optimizer.state_dict() to keep it.",
                RuntimeWarning,
                stacklevel=2,
            )
        if isinstance(by_position, dict):
            by_position = []
        self.state = defaultdict(dict)
        self.state.update((p, s) for p, s in zip(self._params(), by_position) if s is not None)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(group):
                if k != "params":
                    lines.append(f"    {k}: {group[k]}")
        return "\n".join(lines + [")"])


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, Nesterov and weight decay.

    As PyTorch: ``g = ±grad + wd * p``; with momentum, ``buf = g`` on the first step,
    then ``buf = momentum * buf + (1 - dampening) * g``; the step uses ``g + momentum *
    buf`` (Nesterov) or ``buf``; then ``p -= lr * step``.
    """

    _state_arrays = ("momentum_buffer",)

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        maximize: bool = False,
    ) -> None:
        # Checked here only, as PyTorch: a schedule may take momentum to 0 later, and
        # Nesterov's step is then plain SGD's.
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(
                "Nesterov momentum requires a momentum > 0 and zero dampening, got "
                f"momentum={momentum!r}, dampening={dampening!r}"
            )
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            nesterov=nesterov,
            weight_decay=weight_decay,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        _check("lr", group["lr"])
        _check("momentum", group["momentum"])
        _check("dampening", group["dampening"])
        _check("weight_decay", group["weight_decay"])

    def _update(self, param, grad, state, group) -> None:
        lr, momentum, wd = group["lr"], group["momentum"], group["weight_decay"]
        if group["maximize"]:
            grad = -grad
        if wd != 0:
            grad = grad + wd * param
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(grad, dtype=param.dtype)
            else:
                buf *= momentum
                dampening = group["dampening"]
                buf += (1 - dampening) * grad if dampening else grad  # 1 · g is g: no copy
            grad = grad + momentum * buf if group["nesterov"] else buf
        param -= lr * grad


class Adam(Optimizer):
    """Adam (Kingma & Ba), with optional L2 weight decay and AMSGrad, as PyTorch.

    ``m = β1 m + (1-β1) g``; ``v = β2 v + (1-β2) g²``; ``p -= lr / (1-β1ᵗ) * m /
    (sqrt(v̂) / sqrt(1-β2ᵗ) + eps)`` where v̂ is ``v`` or, with AMSGrad, its running max.
    """

    _decoupled = False
    _state_counts = ("step",)
    _state_arrays = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    _state_required = ("step", "exp_avg", "exp_avg_sq")

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        _check("lr", group["lr"])
        _check("eps", group["eps"])
        betas = group["betas"]
        if not isinstance(betas, tuple | list) or len(betas) != 2:
            raise ValueError(f"Invalid betas value: {betas!r} (must be a pair)")
        group["betas"] = tuple(betas)
        _check("betas[0]", betas[0], 0.0, 1.0)
        _check("betas[1]", betas[1], 0.0, 1.0)
        _check("weight_decay", group["weight_decay"])

    def _update(self, param, grad, state, group) -> None:
        lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param)
            state["exp_avg_sq"] = np.zeros_like(param)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(param)
        if group["maximize"]:
            grad = -grad
        state["step"] += 1
        step = state["step"]
        if wd != 0:
            if self._decoupled:
                param *= 1 - lr * wd
            else:
                grad = grad + wd * param
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        # torch's lerp_(grad, w) for w < 0.5 computes m + w (g - m); else g - (g - m)(1 - w).
        w = 1 - beta1
        if w < 0.5:
            exp_avg += w * (grad - exp_avg)
        else:
            exp_avg[...] = grad - (grad - exp_avg) * (1 - w)
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * (grad * grad)
        step_size = lr / (1 - beta1**step)
        bias_correction2_sqrt = math.sqrt(1 - beta2**step)
        if group["amsgrad"]:
            v = state.get("max_exp_avg_sq")
            if v is None:  # amsgrad switched on after some steps
                v = state["max_exp_avg_sq"] = np.zeros_like(param)
            np.maximum(v, exp_avg_sq, out=v)
        else:
            v = exp_avg_sq
        denom = np.sqrt(v)
        denom /= bias_correction2_sqrt
        denom += eps
        param -= step_size * (exp_avg / denom)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): ``p *= 1 - lr * wd`` first."""

    _decoupled = True

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize)
