"""ConstantLR, PolynomialLR, CyclicLR, SequentialLR and ChainedScheduler: PyTorch's lr (and
momentum) sequences, state_dict round trips, and PyTorch's argument errors."""

import copy
import warnings

import numpy as np
import pytest

import tinytorch
from tinytorch import optim
from tinytorch.optim import lr_scheduler


class _HalfLife:
    """A callable object (its state goes into CyclicLR's state_dict; a lambda's would not)."""

    def __init__(self, rate):
        self.rate = rate

    def __call__(self, x):
        return self.rate**x


SCHEDULES = {
    "ConstantLR-default": lambda m, o: m.ConstantLR(o),
    "ConstantLR": lambda m, o: m.ConstantLR(o, factor=0.5, total_iters=8),
    "ConstantLR-one-step": lambda m, o: m.ConstantLR(o, factor=0.2, total_iters=1),
    "PolynomialLR-default": lambda m, o: m.PolynomialLR(o),
    "PolynomialLR": lambda m, o: m.PolynomialLR(o, total_iters=20, power=0.9),
    "PolynomialLR-square": lambda m, o: m.PolynomialLR(o, total_iters=12, power=2.0),
    "CyclicLR-triangular": lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4),
    "CyclicLR-triangular2": lambda m, o: m.CyclicLR(o, base_lr=[0.01, 0.002], max_lr=[0.1, 0.05], step_size_up=3,
                                                     step_size_down=5, mode="triangular2"),
    "CyclicLR-exp_range": lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.2, step_size_up=5, mode="exp_range",
                                                   gamma=0.95, base_momentum=0.7, max_momentum=0.95),
    "CyclicLR-scale_fn-cycle": lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3,
                                                        scale_fn=_HalfLife(0.7)),
    "CyclicLR-scale_fn-iterations": lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4,
                                                             scale_fn=_HalfLife(0.97), scale_mode="iterations"),
    "CyclicLR-no-momentum": lambda m, o: m.CyclicLR(o, base_lr=0.02, max_lr=0.3, step_size_up=2, step_size_down=7,
                                                     cycle_momentum=False),
    "SequentialLR": lambda m, o: m.SequentialLR(
        o, [m.ConstantLR(o, factor=0.1, total_iters=5), m.ExponentialLR(o, gamma=0.9)], milestones=[5]),
    "SequentialLR-three": lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.2, total_iters=4), m.CosineAnnealingLR(o, T_max=8, eta_min=0.001),
            m.StepLR(o, step_size=3, gamma=0.5)], milestones=[4, 15]),
    "ChainedScheduler-of-sequential": lambda m, o: m.ChainedScheduler([
        m.SequentialLR(o, [m.ConstantLR(o, factor=0.25, total_iters=3), m.PolynomialLR(o, total_iters=10, power=1.5)],
                       milestones=[6]),
        m.ExponentialLR(o, gamma=0.97)]),
    "ChainedScheduler": lambda m, o: m.ChainedScheduler([m.ConstantLR(o, factor=0.1, total_iters=20),
                                                         m.ExponentialLR(o, gamma=0.9)]),
    "ChainedScheduler-optimizer": lambda m, o: m.ChainedScheduler(
        [m.StepLR(o, step_size=4, gamma=0.5), m.PolynomialLR(o, total_iters=25, power=0.5)], optimizer=o),
}


def _optimizer(lib, kind="SGD"):
    w = lib.zeros(2, requires_grad=True)
    b = lib.zeros(1, requires_grad=True)
    groups = [{"params": [w]}, {"params": [b], "lr": 0.03}]
    if kind == "SGD":
        return lib.optim.SGD(groups, lr=0.1, momentum=0.9)
    return lib.optim.Adam(groups, lr=0.1)


def _record(scheduler, optimizer):
    lrs = list(scheduler.get_last_lr())
    assert lrs == [g["lr"] for g in optimizer.param_groups]
    momenta = [g.get("momentum", g.get("betas", (None,))[0]) for g in optimizer.param_groups]
    return lrs, momenta


def _trace(lib, make, steps=30, kind="SGD"):
    """The lrs and momenta after construction and after each step, and the warnings raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        optimizer = _optimizer(lib, kind)
        scheduler = make(lib.optim.lr_scheduler, optimizer)
        trace = [_record(scheduler, optimizer)]
        for _ in range(steps):
            optimizer.step()
            scheduler.step()
            trace.append(_record(scheduler, optimizer))
    return trace, [type(w.message).__name__ for w in caught]


def _assert_same(ours, theirs):
    assert len(ours) == len(theirs)
    for (our_lrs, our_momenta), (their_lrs, their_momenta) in zip(ours, theirs):
        np.testing.assert_allclose(our_lrs, their_lrs, rtol=1e-13, atol=0)
        assert [m is None for m in our_momenta] == [m is None for m in their_momenta]
        if our_momenta[0] is not None:
            np.testing.assert_allclose(our_momenta, their_momenta, rtol=1e-13, atol=0)


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_lr_sequence_matches_torch(name):
    torch = pytest.importorskip("torch")
    ours, our_warnings = _trace(tinytorch, SCHEDULES[name])
    theirs, their_warnings = _trace(torch, SCHEDULES[name])
    _assert_same(ours, theirs)
    assert our_warnings == their_warnings
    assert len({tuple(lrs) for lrs, _ in ours}) >= 2, "the schedule should change the lr"


@pytest.mark.parametrize("name", [n for n in SCHEDULES if n.startswith("CyclicLR") and "no-momentum" not in n])
def test_cyclic_lr_cycles_adams_beta1_like_torch(name):
    torch = pytest.importorskip("torch")
    ours, _ = _trace(tinytorch, SCHEDULES[name], kind="Adam")
    theirs, _ = _trace(torch, SCHEDULES[name], kind="Adam")
    _assert_same(ours, theirs)
    betas = {momenta[0] for _, momenta in ours}
    assert len(betas) > 2 and max(betas) <= 0.95 and min(betas) >= 0.7
    assert all(isinstance(g["betas"], tuple) and g["betas"][1] == 0.999 for g in _optimizer(tinytorch, "Adam").param_groups)


def test_cyclic_lr_triangular_by_hand():
    """Up from base_lr to max_lr in step_size_up steps, down in step_size_down; momentum the other way."""
    optimizer = _optimizer(tinytorch)
    scheduler = lr_scheduler.CyclicLR(optimizer, base_lr=0.1, max_lr=0.5, step_size_up=2, step_size_down=4)
    lrs, momenta = [], []
    for _ in range(7):
        lrs.append(scheduler.get_last_lr()[0])
        momenta.append(optimizer.param_groups[0]["momentum"])
        optimizer.step()
        scheduler.step()
    np.testing.assert_allclose(lrs, [0.1, 0.3, 0.5, 0.4, 0.3, 0.2, 0.1], rtol=1e-12)
    np.testing.assert_allclose(momenta, [0.9, 0.85, 0.8, 0.825, 0.85, 0.875, 0.9], rtol=1e-12)
    assert [group["lr"] for group in optimizer.param_groups] == [scheduler.get_last_lr()[0]] * 2  # one base_lr


def _resume(lib, make, kind, before=11, after=15):
    """Run ``before`` steps, carry optimizer and scheduler state into fresh ones, run ``after`` more."""
    optimizer = _optimizer(lib, kind)
    scheduler = make(lib.optim.lr_scheduler, optimizer)
    for _ in range(before):
        optimizer.step()
        scheduler.step()
    # A copy: torch's CyclicLR.load_state_dict pops a key from the dict it is given.
    saved_optimizer, saved_scheduler = optimizer.state_dict(), copy.deepcopy(scheduler.state_dict())
    fresh_optimizer = _optimizer(lib, kind)
    fresh = make(lib.optim.lr_scheduler, fresh_optimizer)
    fresh_optimizer.load_state_dict(saved_optimizer)
    fresh.load_state_dict(copy.deepcopy(saved_scheduler))
    trace = []
    for _ in range(after):
        fresh_optimizer.step()
        fresh.step()
        trace.append(_record(fresh, fresh_optimizer))
    return saved_scheduler, trace


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_state_dict_round_trip_resumes_the_schedule(name):
    _, resumed = _resume(tinytorch, SCHEDULES[name], "SGD")
    uninterrupted, _ = _trace(tinytorch, SCHEDULES[name], steps=26)
    _assert_same(resumed, uninterrupted[12:])


@pytest.mark.parametrize("name", ["ConstantLR", "PolynomialLR", "CyclicLR-triangular2", "CyclicLR-scale_fn-cycle",
                                  "SequentialLR-three", "ChainedScheduler-of-sequential", "ChainedScheduler"])
def test_state_dict_keys_match_torch(name):
    torch = pytest.importorskip("torch")
    ours, our_trace = _resume(tinytorch, SCHEDULES[name], "SGD")
    theirs, their_trace = _resume(torch, SCHEDULES[name], "SGD")
    _assert_same(our_trace, their_trace)

    def keys(state):
        # _is_initial and _get_lr_called_within_step: tinytorch keeps them on the class, not the instance
        flat = {k for k in state if k not in ("_is_initial", "_get_lr_called_within_step")}
        return flat, [keys(s) for s in state.get("_schedulers", [])]

    assert keys(ours) == keys(theirs)
    assert ours.get("last_epoch") == theirs.get("last_epoch")


def test_cyclic_lr_state_dict_saves_a_callable_objects_state_but_no_function():
    scale = _HalfLife(0.7)
    scheduler = lr_scheduler.CyclicLR(_optimizer(tinytorch), base_lr=0.01, max_lr=0.1, scale_fn=scale)
    state = scheduler.state_dict()
    assert state["_scale_fn_custom"] == {"rate": 0.7} and "_scale_fn_ref" not in state
    other_scale = _HalfLife(0.1)
    other = lr_scheduler.CyclicLR(_optimizer(tinytorch), base_lr=0.01, max_lr=0.1, scale_fn=other_scale)
    other.load_state_dict(state)
    assert other_scale.rate == 0.7 and state["_scale_fn_custom"] == {"rate": 0.7}  # the saved dict is left whole
    plain = lr_scheduler.CyclicLR(_optimizer(tinytorch), base_lr=0.01, max_lr=0.1, scale_fn=lambda x: 1.0)
    assert plain.state_dict()["_scale_fn_custom"] is None
    saved = lr_scheduler.CyclicLR(_optimizer(tinytorch), base_lr=0.01, max_lr=0.1, mode="exp_range").state_dict()
    assert "_scale_fn_ref" not in saved and saved["_scale_fn_custom"] is None


def test_state_dict_survives_tinytorch_save(tmp_path):
    optimizer = _optimizer(tinytorch)
    scheduler = SCHEDULES["ChainedScheduler-of-sequential"](lr_scheduler, optimizer)
    cyclic = lr_scheduler.CyclicLR(_optimizer(tinytorch), base_lr=0.01, max_lr=0.1, mode="exp_range", gamma=0.9)
    tinytorch.save({"seq": scheduler.state_dict(), "cyclic": cyclic.state_dict()}, tmp_path / "s.pt")
    loaded = tinytorch.load(tmp_path / "s.pt")
    assert loaded["seq"]["_schedulers"][0]["_milestones"] == [6] and len(loaded["seq"]["_schedulers"]) == 2
    assert loaded["cyclic"]["gamma"] == 0.9


def test_step_with_an_epoch_uses_the_closed_forms():
    torch = pytest.importorskip("torch")
    for name in ("ConstantLR", "PolynomialLR"):
        results = []
        for lib in (tinytorch, torch):
            optimizer = _optimizer(lib)
            scheduler = SCHEDULES[name](lib.optim.lr_scheduler, optimizer)
            values = []
            for epoch in (3, 9, 4, 30):
                optimizer.step()
                with pytest.warns(UserWarning, match="epoch parameter"):
                    scheduler.step(epoch)
                values.append(scheduler.get_last_lr())
            results.append(values)
        np.testing.assert_allclose(results[0], results[1], rtol=1e-13)


ERRORS = {
    "ConstantLR-factor-above-1": lambda m, o: m.ConstantLR(o, factor=1.5),
    "ConstantLR-factor-negative": lambda m, o: m.ConstantLR(o, factor=-0.1),
    "CyclicLR-mode": lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, mode="sawtooth"),
    "CyclicLR-base_lr-length": lambda m, o: m.CyclicLR(o, base_lr=[0.01], max_lr=0.1),
    "CyclicLR-max_lr-length": lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=[0.1, 0.2, 0.3]),
    "CyclicLR-not-an-optimizer": lambda m, o: m.CyclicLR(object(), base_lr=0.01, max_lr=0.1),
    "SequentialLR-empty": lambda m, o: m.SequentialLR(o, [], milestones=[]),
    "SequentialLR-milestones": lambda m, o: m.SequentialLR(o, [m.ConstantLR(o), m.ExponentialLR(o, 0.9)], milestones=[]),
    "SequentialLR-plateau": lambda m, o: m.SequentialLR(o, [m.ConstantLR(o), m.ReduceLROnPlateau(o)], milestones=[2]),
    "SequentialLR-not-a-scheduler": lambda m, o: m.SequentialLR(o, [m.ConstantLR(o), 3], milestones=[2]),
    "ChainedScheduler-empty": lambda m, o: m.ChainedScheduler([]),
    "ChainedScheduler-plateau": lambda m, o: m.ChainedScheduler([m.ReduceLROnPlateau(o)]),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_bad_arguments_raise_torchs_errors(name):
    torch = pytest.importorskip("torch")
    from tests.nn.helpers import assert_same_error_in_both

    def build(lib):
        return ERRORS[name](lib.optim.lr_scheduler, _optimizer(lib))

    assert_same_error_in_both(torch, build)


def test_cycle_momentum_needs_momentum_or_betas_as_in_torch():
    torch = pytest.importorskip("torch")
    from tests.nn.helpers import assert_same_error_in_both

    def build(lib):
        optimizer = lib.optim.Rprop([lib.zeros(2, requires_grad=True)])
        return lib.optim.lr_scheduler.CyclicLR(optimizer, base_lr=0.01, max_lr=0.1)

    assert_same_error_in_both(torch, build)
    optimizer = optim.Rprop([tinytorch.zeros(2, requires_grad=True)])
    lr_scheduler.CyclicLR(optimizer, base_lr=0.01, max_lr=0.1, cycle_momentum=False)  # fine without momentum
    assert "momentum" not in optimizer.param_groups[0]


def test_schedulers_of_another_optimizer_are_rejected():
    optimizer, other = _optimizer(tinytorch), _optimizer(tinytorch)
    first, foreign = lr_scheduler.ConstantLR(optimizer), lr_scheduler.ExponentialLR(other, gamma=0.9)
    with pytest.raises(ValueError, match="at index 1 has SGD"):
        lr_scheduler.SequentialLR(optimizer, [first, foreign], milestones=[3])
    with pytest.raises(ValueError, match="expects all schedulers to belong to the same optimizer"):
        lr_scheduler.ChainedScheduler([first, foreign])
