"""Learning-rate schedules against torch.optim.lr_scheduler, epoch by epoch."""

import math

import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad.optim import lr_scheduler as S

from ..oracle import torch

LRS = (0.1, 0.03)  # two param groups with their own rates


def _optimizers():
    ours = tg.optim.SGD([{"params": [tg.Parameter([1.0])], "lr": lr} for lr in LRS])
    theirs = torch.optim.SGD(
        [{"params": [torch.ones(1, requires_grad=True)], "lr": lr} for lr in LRS]
    )
    return ours, theirs


def _warmup_then_cosine(lib, opt):
    warm = lib.LinearLR(opt, start_factor=0.1, total_iters=4)
    cosine = lib.CosineAnnealingLR(opt, T_max=12, eta_min=1e-3)
    return lib.SequentialLR(opt, [warm, cosine], milestones=[4])


CASES = {
    "StepLR": lambda lib, opt: lib.StepLR(opt, step_size=3, gamma=0.5),
    "MultiStepLR": lambda lib, opt: lib.MultiStepLR(opt, milestones=[2, 5, 5, 9], gamma=0.3),
    "ExponentialLR": lambda lib, opt: lib.ExponentialLR(opt, gamma=0.9),
    "LinearLR": lambda lib, opt: lib.LinearLR(opt, start_factor=0.25, end_factor=0.75),
    "LinearLR-defaults": lambda lib, opt: lib.LinearLR(opt),
    "CosineAnnealingLR": lambda lib, opt: lib.CosineAnnealingLR(opt, T_max=10, eta_min=0.001),
    "LambdaLR": lambda lib, opt: lib.LambdaLR(opt, lambda e: 1 / (1 + e) ** 0.5),
    "LambdaLR-per-group": lambda lib, opt: lib.LambdaLR(
        opt, [lambda e: 0.95**e, lambda e: min(1.0, (e + 1) / 5)]
    ),
    "SequentialLR": _warmup_then_cosine,
}


@pytest.mark.parametrize("name", CASES)
def test_rates_match_torch_epoch_by_epoch(name):
    """35 epochs (cosine goes past T_max and climbs back), every group's rate."""
    ours, theirs = _optimizers()
    mine, its = CASES[name](S, ours), CASES[name](torch.optim.lr_scheduler, theirs)
    rates = []
    for epoch in range(35):
        np.testing.assert_allclose(mine.get_last_lr(), its.get_last_lr(), rtol=1e-12, atol=1e-15)
        assert [g["lr"] for g in ours.param_groups] == mine.get_last_lr()
        assert mine.last_epoch == its.last_epoch == epoch
        rates.append(mine.get_last_lr()[0])
        ours.step()
        theirs.step()
        mine.step()
        its.step()
    assert len(set(rates)) > 1  # the schedule moved the rate


def test_a_scheduled_training_run_matches_torch():
    """SGD with momentum under a warm-up and cosine schedule: the same weights."""
    rng = np.random.default_rng(0)
    x, w0 = rng.normal(size=(8, 3)), rng.normal(size=3)
    w, t = tg.Parameter(w0), torch.tensor(w0, requires_grad=True)
    ours = tg.optim.SGD([w], lr=0.5, momentum=0.9)
    theirs = torch.optim.SGD([t], lr=0.5, momentum=0.9)
    mine, its = _warmup_then_cosine(S, ours), _warmup_then_cosine(torch.optim.lr_scheduler, theirs)
    for _ in range(20):
        for p, opt, sched, xs in ((w, ours, mine, tg.tensor(x)), (t, theirs, its, torch.tensor(x))):
            opt.zero_grad()
            ((xs @ p).tanh() ** 2).mean().backward()
            opt.step()
            sched.step()
    np.testing.assert_allclose(w.data, t.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_by_hand():
    """StepLR halves every 2 epochs; cosine reaches eta_min at T_max; LinearLR's default
    warm-up goes from a third to the full rate in 5 epochs."""
    opt = tg.optim.SGD([tg.Parameter([0.0])], lr=0.8)
    step = S.StepLR(opt, step_size=2, gamma=0.5)
    seen = [step.get_last_lr()[0]]
    for _ in range(5):
        step.step()
        seen.append(opt.param_groups[0]["lr"])
    assert seen == [0.8, 0.8, 0.4, 0.4, 0.2, 0.2]
    opt = tg.optim.SGD([tg.Parameter([0.0])], lr=1.0)
    cosine = S.CosineAnnealingLR(opt, T_max=4, eta_min=0.2)
    for _ in range(2):
        cosine.step()
    assert cosine.get_last_lr()[0] == pytest.approx(0.6)  # halfway: (1 + 0.2) / 2
    for _ in range(2):
        cosine.step()
    assert cosine.get_last_lr()[0] == pytest.approx(0.2)
    opt = tg.optim.SGD([tg.Parameter([0.0])], lr=3.0)
    warm = S.LinearLR(opt)
    assert warm.get_last_lr()[0] == pytest.approx(1.0)
    for _ in range(7):
        warm.step()
    assert warm.get_last_lr()[0] == pytest.approx(3.0)


def test_a_saved_schedule_resumes_where_it_stopped(tmp_path):
    """Optimizer and scheduler saved with tg.save after 7 epochs, loaded into new ones
    made in either order: the rates are those of epoch 7 at once (a scheduler made after
    the optimizer's state was loaded had set epoch 0's, which PyTorch's keeps), and the
    next 10 are those of the run that went on."""
    ours, _ = _optimizers()
    sched = _warmup_then_cosine(S, ours)
    for _ in range(7):
        sched.step()
    at_save = sched.get_last_lr()
    tg.save({"opt": ours.state_dict(), "sched": sched.state_dict()}, tmp_path / "ckpt.npz")
    going_on = []
    for _ in range(10):
        sched.step()
        going_on.append(sched.get_last_lr())
    saved = tg.load(tmp_path / "ckpt.npz")
    for optimizer_first in (False, True):
        fresh, _ = _optimizers()
        if optimizer_first:
            fresh.load_state_dict(saved["opt"])
        resumed = _warmup_then_cosine(S, fresh)
        if not optimizer_first:
            fresh.load_state_dict(saved["opt"])
        resumed.load_state_dict(saved["sched"])
        assert [g["lr"] for g in fresh.param_groups] == resumed.get_last_lr() == at_save
        for want in going_on:
            resumed.step()
            assert resumed.get_last_lr() == want
            assert [g["lr"] for g in fresh.param_groups] == want


def test_resuming_with_last_epoch_needs_initial_lr():
    opt = tg.optim.SGD([tg.Parameter([0.0])], lr=1.0)
    with pytest.raises(KeyError, match=r"param_groups\[0\] has no 'initial_lr'.*last_epoch=4"):
        S.StepLR(opt, 2, last_epoch=4)
    assert "initial_lr" not in opt.param_groups[0] and opt.param_groups[0]["lr"] == 1.0
    S.StepLR(opt, 2)  # sets initial_lr, then a schedule may resume
    resumed = S.StepLR(opt, 2, gamma=0.5, last_epoch=4)
    assert resumed.last_epoch == 5 and resumed.get_last_lr() == [0.25]


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda o: S.StepLR(o, step_size=0), "step_size must be an int >= 1, got 0"),
        (lambda o: S.StepLR(o, step_size=2.5), "step_size must be an int >= 1, got 2.5"),
        (lambda o: S.ExponentialLR(o, gamma=-0.5), r"gamma must be a number in \[0.0, inf\]"),
        (lambda o: S.MultiStepLR(o, [3, "5"]), "a milestone must be an int >= 0, got '5'"),
        (lambda o: S.LinearLR(o, start_factor=0), r"start_factor .* \(0.0, 1.0\], got 0"),
        (lambda o: S.CosineAnnealingLR(o, T_max=0), "T_max must be an int >= 1, got 0"),
        (lambda o: S.LambdaLR(o, [lambda e: 1.0] * 2), "expected 1 lr_lambdas .* got 2"),
        (lambda o: S.SequentialLR(o, [S.StepLR(o, 2)], [3]), "1 schedulers and 1 milestones"),
        (lambda o: S.StepLR(o, 2, last_epoch=-2), "last_epoch must be an int >= -1, got -2"),
        (lambda o: S.StepLR(o, np.int64(0)), "step_size must be an int >= 1, got np.int64"),
    ],
)
def test_bad_arguments_raise_naming_them(make, message):
    opt = tg.optim.SGD([tg.Parameter([0.0])], lr=1.0)
    with pytest.raises(ValueError, match=message):
        make(opt)


def test_a_failing_lambda_or_a_new_group_changes_no_rate():
    opt = tg.optim.SGD([tg.Parameter([0.0])], lr=1.0)
    sched = S.LambdaLR(opt, lambda e: 1 / (3 - e))  # fails at epoch 3
    sched.step()
    sched.step()
    with pytest.raises(ZeroDivisionError):
        sched.step()
    assert sched.last_epoch == 2 and opt.param_groups[0]["lr"] == 1.0
    opt.add_param_group({"params": [tg.Parameter([0.0])]})
    with pytest.raises(ValueError, match="2 param groups, the schedule was made for 1"):
        sched.step()
    assert sched.last_epoch == 2


def test_a_state_dict_of_another_scheduler_is_refused_whole():
    opt = tg.optim.SGD([tg.Parameter([0.0])], lr=1.0)
    step, cosine = S.StepLR(opt, 2), S.CosineAnnealingLR(opt, T_max=5)
    for _ in range(3):
        cosine.step()
    with pytest.raises(ValueError, match=r"unknown entries \['T_max', 'eta_min'\]"):
        step.load_state_dict(cosine.state_dict())
    assert step.last_epoch == 0 and step.step_size == 2


def test_the_schedules_are_closed_forms():
    """A rate set by hand lasts until the next step (documented; PyTorch's recursive
    forms would carry it on)."""
    opt = tg.optim.SGD([tg.Parameter([0.0])], lr=1.0)
    sched = S.ExponentialLR(opt, gamma=0.5)
    opt.param_groups[0]["lr"] = 7.0
    sched.step()
    assert opt.param_groups[0]["lr"] == 0.5
    assert math.isclose(sched.lr_at(0, 10), 0.5**10)


def test_numpy_numbers_are_taken():
    opt = tg.optim.SGD([tg.Parameter([0.0])], lr=1.0)
    sched = S.StepLR(opt, np.int64(2), gamma=np.float32(0.5))
    for _ in range(2):
        sched.step()
    assert sched.get_last_lr() == [0.5] and type(sched.step_size) is int
    sched = S.ExponentialLR(opt, gamma=np.float32(0.9))  # read as the number it is
    sched.step()
    assert sched.get_last_lr() == [float(np.float32(0.9))]
    assert type(sched.get_last_lr()[0]) is float


def test_a_state_for_other_groups_is_refused_whole():
    """A state dict made for 2 param groups, loaded for 3: it used to set two rates and
    the epoch, then fail at the next step."""

    def sgd(n):
        return tg.optim.SGD(
            [{"params": [tg.Parameter([0.0])], "lr": 0.1 * (i + 1)} for i in range(n)]
        )

    two, three = S.StepLR(sgd(2), 1, 0.5), S.StepLR(sgd(3), 1, 0.5)
    two.step()
    with pytest.raises(ValueError, match="state is for 2 param groups, the optimizer has 3"):
        three.load_state_dict(two.state_dict())
    assert three.last_epoch == 0 and len(three.base_lrs) == 3
    assert [g["lr"] for g in three.optimizer.param_groups] == pytest.approx([0.1, 0.2, 0.3])
    three.load_state_dict({"last_epoch": 2})  # a part: the rates of that epoch
    assert three.get_last_lr() == pytest.approx([0.025, 0.05, 0.075])


@pytest.mark.parametrize(
    "state, error", [({"step_size": 0}, ZeroDivisionError), ({"last_epoch": "x"}, TypeError)]
)
def test_a_state_that_gives_no_rates_is_named_and_changes_nothing(state, error):
    opt = tg.optim.SGD([tg.Parameter([0.0])], lr=1.0)
    sched = S.StepLR(opt, 2)
    with pytest.raises(error, match="StepLR.load_state_dict: the state gives no rates"):
        sched.load_state_dict(state)
    assert sched.step_size == 2 and sched.last_epoch == 0 and opt.param_groups[0]["lr"] == 1.0
