"""Learning-rate schedules with ``torch.optim.lr_scheduler``'s names and arguments.

A scheduler sets each param group's ``lr`` when it is made (epoch 0) and at every
``step()`` (call it after the optimizer's ``step()``, once an epoch or once a batch).
Each schedule here is a closed form: a group's rate at epoch t depends only on t and
on its base rate, the ``lr`` it had when the first scheduler was made (kept in the
group as ``initial_lr``, as PyTorch does). PyTorch computes most schedules from the
current rate step by step, which gives the same rates up to rounding. Two things follow:
a rate set by hand lasts until the next ``step()``, and two schedulers on one optimizer
do not compound (the last to step wins); run phases one after another with
``SequentialLR``.
"""

from __future__ import annotations

import math
import numbers
from bisect import bisect_right
from collections.abc import Callable, Sequence
from typing import Any

from .optimizers import Optimizer

__all__ = [
    "LRScheduler",
    "LambdaLR",
    "StepLR",
    "MultiStepLR",
    "ExponentialLR",
    "LinearLR",
    "CosineAnnealingLR",
    "SequentialLR",
]


def _count(op: str, name: str, value: Any, low: int = 1) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < low:
        raise ValueError(f"{op}: {name} must be an int >= {low}, got {value!r}")
    return int(value)


def _number(op: str, name: str, value: Any, low: float, high: float, low_open: bool = False):
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok:
        ok = (low < value if low_open else low <= value) and value <= high
    if not ok:
        bound = f"{'(' if low_open else '['}{low}, {high}]"
        raise ValueError(f"{op}: {name} must be a number in {bound}, got {value!r}")
    return float(value)  # a NumPy float32 would carry its precision into every rate


class LRScheduler:
    """Base class: ``lr_at(group, epoch)`` is the schedule; the rest is bookkeeping.

    ``last_epoch`` is the epoch of the rates in force (-1 starts a new schedule; give the
    saved epoch to resume one, whose groups must have their ``initial_lr``).
    """

    _not_saved: tuple[str, ...] = ("optimizer",)  # what state_dict leaves out

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        op = type(self).__name__
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{op}: expected a tensorgrad optimizer, got {type(optimizer).__name__}"
            )
        _count(op, "last_epoch", last_epoch, low=-1)
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(
                    f"{op}: param_groups[{i}] has no 'initial_lr', so a schedule cannot resume "
                    f"at last_epoch={last_epoch}; load the optimizer's state dict first, or "
                    "start with last_epoch=-1"
                )
        self.optimizer = optimizer
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()

    def lr_at(self, group: int, epoch: int) -> float:
        """The rate of param group number ``group`` at ``epoch``."""
        raise NotImplementedError

    def get_lr(self) -> list[float]:
        """The rate of every group at ``last_epoch``."""
        return [self.lr_at(i, self.last_epoch) for i in range(len(self.base_lrs))]

    def step(self) -> None:
        """Move to the next epoch and set every group's rate for it."""
        groups = self.optimizer.param_groups
        if len(groups) != len(self.base_lrs):
            raise ValueError(
                f"{type(self).__name__}.step: the optimizer has {len(groups)} param groups, "
                f"the schedule was made for {len(self.base_lrs)}; make a new scheduler"
            )
        self.last_epoch += 1
        try:
            rates = self.get_lr()  # all of them before any group changes
        except BaseException:
            self.last_epoch -= 1
            raise
        for group, lr in zip(groups, rates):
            group["lr"] = lr
        self._last_lr = rates

    def get_last_lr(self) -> list[float]:
        """The rates the last ``step()`` (or the constructor) set, one per group."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """The schedule's position and settings (not the optimizer): save it with tg.save."""
        return {k: v for k, v in vars(self).items() if k not in self._not_saved}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Resume from ``state_dict()``'s output, and set the groups' rates for its epoch
        (whether the optimizer's state was loaded before or after this scheduler was
        made). Entries this scheduler lacks are refused, and then nothing changes."""
        mine = self.state_dict()
        unknown = sorted(set(state_dict) - set(mine), key=str)
        if unknown:
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: unknown entries {unknown} (a state "
                f"dict of another kind of scheduler?); nothing was loaded"
            )
        before = dict(vars(self))
        vars(self).update(state_dict)
        try:  # checked, and the rates computed, before any group changes
            groups = self.optimizer.param_groups
            if len(self.base_lrs) != len(groups):
                raise ValueError(
                    f"{type(self).__name__}.load_state_dict: the state is for "
                    f"{len(self.base_lrs)} param groups, the optimizer has {len(groups)}; "
                    "nothing was loaded"
                )
            try:
                rates = self.get_lr()
            except (TypeError, ValueError, ZeroDivisionError, OverflowError) as e:
                raise type(e)(
                    f"{type(self).__name__}.load_state_dict: the state gives no rates ({e}); "
                    "nothing was loaded"
                ) from None
        except BaseException:
            vars(self).clear()
            vars(self).update(before)
            raise
        for group, lr in zip(groups, rates):
            group["lr"] = lr
        self._last_lr = rates


class LambdaLR(LRScheduler):
    """``base_lr * lr_lambda(epoch)``; one function for all groups, or one per group."""

    _not_saved = ("optimizer", "lr_lambdas")  # functions are not data

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
        last_epoch: int = -1,
    ) -> None:
        n = len(optimizer.param_groups)
        lambdas = list(lr_lambda) if isinstance(lr_lambda, list | tuple) else [lr_lambda] * n
        if len(lambdas) != n:
            raise ValueError(
                f"LambdaLR: expected {n} lr_lambdas (one per group), got {len(lambdas)}"
            )
        if not all(callable(f) for f in lambdas):
            raise TypeError("LambdaLR: lr_lambda must be a function of the epoch (or a list)")
        self.lr_lambdas = lambdas
        super().__init__(optimizer, last_epoch)

    def lr_at(self, group: int, epoch: int) -> float:
        return self.base_lrs[group] * self.lr_lambdas[group](epoch)


class StepLR(LRScheduler):
    """``base_lr * gamma ** (epoch // step_size)``: decay by ``gamma`` every ``step_size``."""

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        self.step_size = _count("StepLR", "step_size", step_size)
        self.gamma = _number("StepLR", "gamma", gamma, 0.0, math.inf)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, group: int, epoch: int) -> float:
        return self.base_lrs[group] * self.gamma ** (epoch // self.step_size)


class MultiStepLR(LRScheduler):
    """``base_lr * gamma ** (milestones passed)``: decay by ``gamma`` at each milestone."""

    def __init__(
        self, optimizer: Optimizer, milestones: Sequence[int], gamma: float = 0.1, last_epoch=-1
    ) -> None:
        self.milestones = sorted(_count("MultiStepLR", "a milestone", m, 0) for m in milestones)
        self.gamma = _number("MultiStepLR", "gamma", gamma, 0.0, math.inf)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, group: int, epoch: int) -> float:
        return self.base_lrs[group] * self.gamma ** bisect_right(self.milestones, epoch)


class ExponentialLR(LRScheduler):
    """``base_lr * gamma ** epoch``."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = _number("ExponentialLR", "gamma", gamma, 0.0, math.inf)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, group: int, epoch: int) -> float:
        return self.base_lrs[group] * self.gamma**epoch


class LinearLR(LRScheduler):
    """The factor goes linearly from ``start_factor`` to ``end_factor`` over
    ``total_iters`` epochs, then stays (a warm-up, with the defaults' 1/3 to 1)."""

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        self.start_factor = _number("LinearLR", "start_factor", start_factor, 0.0, 1.0, True)
        self.end_factor = _number("LinearLR", "end_factor", end_factor, 0.0, 1.0)
        self.total_iters = _count("LinearLR", "total_iters", total_iters)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, group: int, epoch: int) -> float:
        done = min(self.total_iters, epoch) / self.total_iters
        factor = self.start_factor + (self.end_factor - self.start_factor) * done
        return self.base_lrs[group] * factor


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from ``base_lr`` down to ``eta_min`` over ``T_max`` epochs:
    ``eta_min + (base_lr - eta_min) (1 + cos(pi epoch / T_max)) / 2`` (after ``T_max``
    it climbs back, as PyTorch's does)."""

    def __init__(
        self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1
    ) -> None:
        self.T_max = _count("CosineAnnealingLR", "T_max", T_max)
        self.eta_min = _number("CosineAnnealingLR", "eta_min", eta_min, 0.0, math.inf)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, group: int, epoch: int) -> float:
        cosine = (1 + math.cos(math.pi * epoch / self.T_max)) / 2
        return self.eta_min + (self.base_lrs[group] - self.eta_min) * cosine


class SequentialLR(LRScheduler):
    """Schedules one after another: ``schedulers[i]`` from ``milestones[i - 1]`` on, each
    counting its epochs from 0 (e.g. a LinearLR warm-up, then CosineAnnealingLR)."""

    _not_saved = ("optimizer", "schedulers")  # their settings are made in code

    def __init__(
        self,
        optimizer: Optimizer,
        schedulers: Sequence[LRScheduler],
        milestones: Sequence[int],
        last_epoch: int = -1,
    ) -> None:
        schedulers, milestones = list(schedulers), list(milestones)
        if len(milestones) != len(schedulers) - 1 or not schedulers:
            raise ValueError(
                f"SequentialLR: expected one milestone fewer than schedulers, got "
                f"{len(schedulers)} schedulers and {len(milestones)} milestones"
            )
        for i, s in enumerate(schedulers):
            if not isinstance(s, LRScheduler) or s.optimizer is not optimizer:
                raise ValueError(
                    f"SequentialLR: schedulers[{i}] must be a scheduler of the same optimizer"
                )
        for m in milestones:
            _count("SequentialLR", "a milestone", m)
        if milestones != sorted(milestones):
            raise ValueError(f"SequentialLR: milestones must increase, got {milestones}")
        self.schedulers = schedulers
        self.milestones = milestones
        super().__init__(optimizer, last_epoch)

    def lr_at(self, group: int, epoch: int) -> float:
        phase = bisect_right(self.milestones, epoch)
        start = self.milestones[phase - 1] if phase else 0
        return self.schedulers[phase].lr_at(group, epoch - start)
