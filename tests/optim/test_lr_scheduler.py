"""Learning-rate schedulers: PyTorch's lr sequences, state_dict round trips, warnings."""

import math
import warnings

import numpy as np
import pytest

import tinytorch
from tinytorch import optim
from tinytorch.optim import lr_scheduler


def _scale(epoch):
    return 0.95**epoch


def _alternate(epoch):
    return 0.8 if epoch % 3 == 0 else 1.01


SCHEDULES = {
    "StepLR": lambda m, o: m.StepLR(o, step_size=7, gamma=0.5),
    "StepLR-mnist-example": lambda m, o: m.StepLR(o, step_size=1, gamma=0.7),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, milestones=[5, 12, 12, 30], gamma=0.3),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.9),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=10, eta_min=0.001),
    "CosineAnnealingLR-odd": lambda m, o: m.CosineAnnealingLR(o, T_max=7),
    "LambdaLR": lambda m, o: m.LambdaLR(o, _scale),
    "LambdaLR-per-group": lambda m, o: m.LambdaLR(o, [_scale, _alternate]),
    "MultiplicativeLR": lambda m, o: m.MultiplicativeLR(o, _alternate),
    "LinearLR": lambda m, o: m.LinearLR(o, start_factor=0.25, end_factor=0.9, total_iters=8),
    "LinearLR-default": lambda m, o: m.LinearLR(o),
    "OneCycleLR": lambda m, o: m.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=40),
    "OneCycleLR-linear": lambda m, o: m.OneCycleLR(o, max_lr=0.3, epochs=4, steps_per_epoch=10, anneal_strategy="linear", pct_start=0.25),
    "OneCycleLR-three-phase": lambda m, o: m.OneCycleLR(o, max_lr=0.8, total_steps=40, three_phase=True, div_factor=10.0),
    "OneCycleLR-no-momentum": lambda m, o: m.OneCycleLR(o, max_lr=0.8, total_steps=40, cycle_momentum=False),
    "CosineAnnealingWarmRestarts": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=7, eta_min=0.001),
    "CosineAnnealingWarmRestarts-mult": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2),
}


def _optimizer(lib, optimizers, kind="SGD"):
    w = lib.zeros(2, requires_grad=True)
    b = lib.zeros(1, requires_grad=True)
    groups = [{"params": [w]}, {"params": [b], "lr": 0.03}]
    if kind == "SGD":
        return optimizers.SGD(groups, lr=0.1, momentum=0.9)
    return optimizers.Adam(groups, lr=0.1)


def _trace(lib, optimizers, schedulers, make, steps=40, kind="SGD", metrics=None):
    """The lrs (and momenta) after construction and after each of ``steps`` steps."""
    optimizer = _optimizer(lib, optimizers, kind)
    scheduler = make(schedulers, optimizer)
    trace = [_record(scheduler, optimizer)]
    for i in range(steps):
        optimizer.step()
        scheduler.step() if metrics is None else scheduler.step(metrics[i])
        trace.append(_record(scheduler, optimizer))
    return trace


def _record(scheduler, optimizer):
    lrs = list(scheduler.get_last_lr())
    assert lrs == [g["lr"] for g in optimizer.param_groups]
    momenta = [g.get("momentum", g.get("betas", (None,))[0]) for g in optimizer.param_groups]
    return lrs, momenta


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_lr_sequence_matches_torch(name):
    torch = pytest.importorskip("torch")
    ours = _trace(tinytorch, optim, lr_scheduler, SCHEDULES[name])
    theirs = _trace(torch, torch.optim, torch.optim.lr_scheduler, SCHEDULES[name])
    assert len(ours) == 41
    for (our_lrs, our_momenta), (their_lrs, their_momenta) in zip(ours, theirs):
        np.testing.assert_allclose(our_lrs, their_lrs, rtol=1e-13, atol=0)
        np.testing.assert_allclose(our_momenta, their_momenta, rtol=1e-13, atol=0)
    assert len({tuple(lrs) for lrs, _ in ours}) > 2, "the schedule should change the lr"


def test_one_cycle_cycles_adams_beta1_like_torch():
    torch = pytest.importorskip("torch")
    make = SCHEDULES["OneCycleLR-three-phase"]
    ours = _trace(tinytorch, optim, lr_scheduler, make, kind="Adam")
    theirs = _trace(torch, torch.optim, torch.optim.lr_scheduler, make, kind="Adam")
    assert ours == theirs
    assert ours[0][1] == [0.95, 0.95] and min(m for _, momenta in ours for m in momenta) == pytest.approx(0.85)


PLATEAUS = {
    "min-rel": dict(patience=2),
    "min-abs-cooldown": dict(threshold=0.5, threshold_mode="abs", cooldown=2, patience=1, factor=0.5),
    "max-rel": dict(mode="max", patience=1, factor=0.5, min_lr=[0.02, 0.001]),
    "max-abs": dict(mode="max", threshold_mode="abs", threshold=0.1, patience=0, min_lr=0.01),
    "eps": dict(patience=0, factor=0.9, eps=0.005),
}


@pytest.mark.parametrize("name", list(PLATEAUS))
def test_reduce_lr_on_plateau_matches_torch(name):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    metrics = [float(x) for x in np.concatenate([np.linspace(10, 8, 6), np.full(8, 8.0), rng.uniform(7, 9, 26)])]

    def make(m, o):
        return m.ReduceLROnPlateau(o, **PLATEAUS[name])

    ours = _trace(tinytorch, optim, lr_scheduler, make, metrics=metrics)
    theirs = _trace(torch, torch.optim, torch.optim.lr_scheduler, make, metrics=metrics)
    assert ours == theirs
    assert ours[-1][0] != ours[0][0], "the lr should have been reduced"


def test_reduce_lr_on_plateau_rejects_bad_arguments():
    optimizer = _optimizer(tinytorch, optim)
    with pytest.raises(ValueError, match="Factor should be < 1.0."):
        lr_scheduler.ReduceLROnPlateau(optimizer, factor=1.0)
    with pytest.raises(ValueError, match="mode sideways is unknown!"):
        lr_scheduler.ReduceLROnPlateau(optimizer, mode="sideways")
    with pytest.raises(ValueError, match="expected 2 min_lrs, got 1"):
        lr_scheduler.ReduceLROnPlateau(optimizer, min_lr=[0.1])


def test_cosine_annealing_follows_the_closed_form_when_nobody_touches_the_lr():
    optimizer = _optimizer(tinytorch, optim)
    scheduler = lr_scheduler.CosineAnnealingLR(optimizer, T_max=10, eta_min=0.01)
    for epoch in range(1, 31):
        optimizer.step()
        scheduler.step()
        expected = 0.01 + (0.1 - 0.01) * (1 + math.cos(math.pi * epoch / 10)) / 2
        assert scheduler.get_last_lr()[0] == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_step_with_an_epoch_uses_the_closed_form_and_warns():
    optimizer = _optimizer(tinytorch, optim)
    scheduler = lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.5)
    optimizer.step()
    with pytest.warns(UserWarning, match="epoch parameter"):
        scheduler.step(7)
    assert scheduler.last_epoch == 7
    assert scheduler.get_last_lr() == [0.1 * 0.25, 0.03 * 0.25]


def test_scheduler_step_before_optimizer_step_warns():
    optimizer = _optimizer(tinytorch, optim)
    scheduler = lr_scheduler.ExponentialLR(optimizer, gamma=0.5)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        scheduler.step()


def test_the_right_order_does_not_warn():
    optimizer = _optimizer(tinytorch, optim)
    scheduler = lr_scheduler.ExponentialLR(optimizer, gamma=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            optimizer.step()
            scheduler.step()
    assert scheduler.get_last_lr() == [0.1 * 0.125, 0.03 * 0.125]


def test_get_lr_outside_step_warns():
    scheduler = lr_scheduler.StepLR(_optimizer(tinytorch, optim), step_size=2)
    with pytest.warns(UserWarning, match="get_last_lr"):
        scheduler.get_lr()


def test_base_lrs_and_initial_lr():
    optimizer = _optimizer(tinytorch, optim)
    scheduler = lr_scheduler.StepLR(optimizer, step_size=2)
    assert scheduler.base_lrs == [0.1, 0.03] and scheduler.last_epoch == 0
    assert [g["initial_lr"] for g in optimizer.param_groups] == [0.1, 0.03]
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(_optimizer(tinytorch, optim), step_size=2, last_epoch=4)
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lr_scheduler.StepLR(object(), step_size=2)


def test_one_cycle_checks_its_arguments():
    optimizer = _optimizer(tinytorch, optim)
    with pytest.raises(ValueError, match="total_steps OR"):
        lr_scheduler.OneCycleLR(optimizer, max_lr=1.0)
    with pytest.raises(ValueError, match="pct_start"):
        lr_scheduler.OneCycleLR(optimizer, max_lr=1.0, total_steps=10, pct_start=1.5)
    with pytest.raises(ValueError, match="max_lr must have the same length"):
        lr_scheduler.OneCycleLR(optimizer, max_lr=[1.0], total_steps=10)
    scheduler = lr_scheduler.OneCycleLR(optimizer, max_lr=1.0, total_steps=3)
    for _ in range(3):
        optimizer.step()
        scheduler.step()
    optimizer.step()
    with pytest.raises(ValueError, match="Tried to step 4 times"):
        scheduler.step()


def test_warm_restarts_with_fractional_epochs_match_torch():
    """SGDR's documented use: ``step(epoch + i / iters)`` inside the batch loop, and jumps back."""
    torch = pytest.importorskip("torch")
    epochs = [e + i / 5 for e in range(12) for i in range(5)] + [2, 0.5, 30.25, 7]

    def trace(lib, optimizers, schedulers, T_mult):
        optimizer = _optimizer(lib, optimizers)
        scheduler = schedulers.CosineAnnealingWarmRestarts(optimizer, T_0=2, T_mult=T_mult, eta_min=0.01)
        lrs = []
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no deprecation warning for the epoch argument
            for epoch in epochs:
                optimizer.step()
                scheduler.step(epoch)
                lrs.append((list(scheduler.get_last_lr()), scheduler.T_cur, scheduler.T_i, scheduler.last_epoch))
        return lrs

    for T_mult in (1, 3):
        ours = trace(tinytorch, optim, lr_scheduler, T_mult)
        theirs = trace(torch, torch.optim, torch.optim.lr_scheduler, T_mult)
        for (our_lrs, *our_rest), (their_lrs, *their_rest) in zip(ours, theirs):
            np.testing.assert_allclose(our_lrs, their_lrs, rtol=1e-13, atol=0)
            assert our_rest == pytest.approx(their_rest, rel=1e-13)


@pytest.mark.parametrize("kwargs", [dict(T_0=0), dict(T_0=2.0), dict(T_0=3, T_mult=0), dict(T_0=3, T_mult=1.5),
                                    dict(T_0=3, eta_min="0")])
def test_warm_restarts_check_their_arguments_like_torch(kwargs):
    torch = pytest.importorskip("torch")
    from tests.nn.helpers import assert_same_error

    assert_same_error(lambda: lr_scheduler.CosineAnnealingWarmRestarts(_optimizer(tinytorch, optim), **kwargs),
                      lambda: torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(_optimizer(torch, torch.optim), **kwargs))
    scheduler = lr_scheduler.CosineAnnealingWarmRestarts(_optimizer(tinytorch, optim), T_0=3)
    with pytest.raises(ValueError, match="Expected non-negative epoch, but got -1"):
        scheduler.step(-1)


class _Halving:
    """A callable object: its attributes are saved in LambdaLR's state_dict."""

    def __init__(self):
        self.factor = 0.5

    def __call__(self, epoch):
        return self.factor ** (epoch // 4)


RESUMABLE = {
    **{name: SCHEDULES[name] for name in ("StepLR", "MultiStepLR", "CosineAnnealingLR", "LinearLR", "OneCycleLR-three-phase", "LambdaLR",
                                          "OneCycleLR", "CosineAnnealingWarmRestarts-mult")},
    "LambdaLR-object": lambda m, o: m.LambdaLR(o, _Halving()),
    "ReduceLROnPlateau": lambda m, o: m.ReduceLROnPlateau(o, patience=1, cooldown=1),
}


@pytest.mark.parametrize("name", list(RESUMABLE))
def test_state_dict_round_trip_resumes_the_schedule(name, tmp_path):
    make = RESUMABLE[name]
    plateau = name == "ReduceLROnPlateau"
    metrics = [10.0, 9.0, 9.0, 9.0, 8.0, 8.0, 8.0, 8.0, 8.0, 7.0] * 3

    def advance(optimizer, scheduler, steps, start):
        lrs = []
        for i in range(start, start + steps):
            optimizer.step()
            scheduler.step(metrics[i]) if plateau else scheduler.step()
            lrs.append(list(scheduler.get_last_lr()))
        return lrs

    optimizer = _optimizer(tinytorch, optim)
    scheduler = make(lr_scheduler, optimizer)
    if name == "LambdaLR-object":
        scheduler.lr_lambdas[0].factor = 0.25  # state a fresh object lacks
    expected = advance(optimizer, scheduler, 30, 0)

    optimizer = _optimizer(tinytorch, optim)
    scheduler = make(lr_scheduler, optimizer)
    if name == "LambdaLR-object":
        scheduler.lr_lambdas[0].factor = 0.25
    first = advance(optimizer, scheduler, 12, 0)
    tinytorch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}, tmp_path / "ckpt")
    checkpoint = tinytorch.load(tmp_path / "ckpt")
    assert "optimizer" not in checkpoint["scheduler"]

    optimizer = _optimizer(tinytorch, optim)
    scheduler = make(lr_scheduler, optimizer)
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler.load_state_dict(checkpoint["scheduler"])
    assert first + advance(optimizer, scheduler, 18, 12) == expected
    assert len({tuple(lrs) for lrs in expected}) > 2
