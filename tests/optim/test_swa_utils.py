"""optim.swa_utils: AveragedModel (SWA and EMA), SWALR's lr sequence, update_bn, against torch."""

import math

import numpy as np
import pytest

import tinytorch
from tinytorch.optim import swa_utils


def _mlp(lib):
    return lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.BatchNorm1d(8), lib.nn.ReLU(), lib.nn.Linear(8, 3))


def _numpy(tensor):
    return np.asarray(tensor.detach().cpu().numpy())


def _initial_state():
    """One set of initial weights (and BN buffers) that both libraries load."""
    tinytorch.manual_seed(3)
    return {name: _numpy(value).copy() for name, value in _mlp(tinytorch).state_dict().items()}


def _model(lib, state, device="cpu"):
    model = _mlp(lib)
    model.load_state_dict({name: lib.tensor(value.copy()) for name, value in state.items()})
    return model.to(device)


def _batches(count=5, size=6, seed=1):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((size, 4)).astype(np.float32), rng.standard_normal((size, 3)).astype(np.float32))
            for _ in range(count)]


def _train_and_average(lib, make_averaged, device="cpu"):
    """Train the MLP a few SGD steps, folding each step's weights into the averaged model."""
    model = _model(lib, _initial_state(), device)
    averaged = make_averaged(lib, model)
    optimizer = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for x, y in _batches():
        optimizer.zero_grad()
        loss = ((model(lib.tensor(x).to(device)) - lib.tensor(y).to(device)) ** 2).mean()
        loss.backward()
        optimizer.step()
        averaged.update_parameters(model)
    return averaged, model


AVERAGES = {
    "swa": lambda lib, m: lib.optim.swa_utils.AveragedModel(m),
    "swa-buffers": lambda lib, m: lib.optim.swa_utils.AveragedModel(m, use_buffers=True),
    "swa-avg_fn": lambda lib, m: lib.optim.swa_utils.AveragedModel(m, avg_fn=lib.optim.swa_utils.get_swa_avg_fn()),
    "swa-multi_avg_fn": lambda lib, m: lib.optim.swa_utils.AveragedModel(
        m, multi_avg_fn=lib.optim.swa_utils.get_swa_multi_avg_fn()),
    "ema-multi": lambda lib, m: lib.optim.swa_utils.AveragedModel(
        m, multi_avg_fn=lib.optim.swa_utils.get_ema_multi_avg_fn(0.9)),
    "ema-multi-buffers": lambda lib, m: lib.optim.swa_utils.AveragedModel(
        m, multi_avg_fn=lib.optim.swa_utils.get_ema_multi_avg_fn(0.9), use_buffers=True),
    "ema-avg_fn": lambda lib, m: lib.optim.swa_utils.AveragedModel(m, avg_fn=lib.optim.swa_utils.get_ema_avg_fn(0.8)),
    "ema-avg_fn-buffers": lambda lib, m: lib.optim.swa_utils.AveragedModel(
        m, avg_fn=lib.optim.swa_utils.get_ema_avg_fn(0.8), use_buffers=True),
}


@pytest.mark.parametrize("name", sorted(AVERAGES))
def test_averaged_model_matches_torch(name):
    torch = pytest.importorskip("torch")
    ours, our_model = _train_and_average(tinytorch, AVERAGES[name])
    theirs, _ = _train_and_average(torch, AVERAGES[name])
    our_state, their_state = ours.state_dict(), theirs.state_dict()
    assert list(our_state) == list(their_state)
    assert our_state["n_averaged"].dtype == tinytorch.int64 and int(our_state["n_averaged"]) == 5
    for key, value in their_state.items():
        if value.is_floating_point():
            np.testing.assert_allclose(_numpy(our_state[key]), _numpy(value), rtol=1e-5, atol=1e-6, err_msg=key)
        else:
            np.testing.assert_array_equal(_numpy(our_state[key]), _numpy(value), err_msg=key)
    # The average is not the last weights: it really averaged.
    assert not np.allclose(_numpy(ours.module[0].weight), _numpy(our_model[0].weight))


def test_swa_is_the_equal_weight_mean_and_buffers_follow_the_source():
    model = tinytorch.nn.Sequential(tinytorch.nn.Linear(2, 1), tinytorch.nn.BatchNorm1d(1))
    averaged = swa_utils.AveragedModel(model)
    assert averaged.module is not model and averaged.module[0].weight is not model[0].weight
    assert int(averaged.n_averaged) == 0 and averaged.n_averaged.dtype == tinytorch.int64
    for value in (1.0, 2.0, 3.0, 6.0):
        with tinytorch.no_grad():
            for parameter in model.parameters():
                parameter.fill_(value)
            model[1].running_mean.fill_(value * 10)
        averaged.update_parameters(model)
    assert int(averaged.n_averaged) == 4
    for parameter in averaged.parameters():
        np.testing.assert_allclose(_numpy(parameter), 3.0)
        assert parameter.requires_grad and parameter.grad_fn is None
    np.testing.assert_allclose(_numpy(averaged.module[1].running_mean), 60.0)  # copied, not averaged
    # forward runs the averaged module
    averaged.eval()
    x = tinytorch.ones(2, 2)
    np.testing.assert_allclose(_numpy(averaged(x)), _numpy(averaged.module(x)))


def test_use_buffers_averages_the_buffers():
    model = tinytorch.nn.BatchNorm1d(2)
    averaged = swa_utils.AveragedModel(model, multi_avg_fn=swa_utils.get_ema_multi_avg_fn(0.5), use_buffers=True)
    for value in (4.0, 8.0):
        with tinytorch.no_grad():
            model.running_mean.fill_(value)
        averaged.update_parameters(model)
    np.testing.assert_allclose(_numpy(averaged.module.running_mean), 6.0)  # 0.5 * 4 + 0.5 * 8


@pytest.mark.parametrize("name", ["swa", "ema-multi-buffers"])
def test_averaged_model_on_device(device, name):
    """The same average on every device (the CUDA path lerps, as PyTorch's foreach kernels do)."""
    cpu, _ = _train_and_average(tinytorch, AVERAGES[name])
    ours, _ = _train_and_average(tinytorch, AVERAGES[name], device)
    # As PyTorch: without device=, the count stays on the CPU and the copy where the model is.
    assert ours.n_averaged.device.type == "cpu" and ours.module[0].weight.device.type == device
    for (key, expected), actual in zip(cpu.state_dict().items(), ours.state_dict().values()):
        np.testing.assert_allclose(_numpy(actual), _numpy(expected), rtol=1e-5, atol=1e-6, err_msg=key)


def test_averaged_model_device_argument_moves_the_copy(device):
    model = tinytorch.nn.Linear(2, 2)
    averaged = swa_utils.AveragedModel(model, device=device)
    assert averaged.n_averaged.device.type == device and averaged.module.weight.device.type == device
    assert model.weight.device.type == "cpu"
    with tinytorch.no_grad():
        model.weight.fill_(2.0)
    averaged.update_parameters(model)
    averaged.update_parameters(model)
    np.testing.assert_allclose(_numpy(averaged.module.weight), 2.0)
    assert averaged.module.weight.device.type == device and int(averaged.n_averaged) == 2


def _raised(call):
    with pytest.raises(Exception) as info:
        call()
    return type(info.value).__name__, str(info.value)


@pytest.mark.parametrize("case", ["both-fns", "ema-decay-high", "ema-decay-negative", "ema-avg-decay-high"])
def test_averaging_errors_match_torch(case):
    calls = {
        "both-fns": lambda lib: lib.optim.swa_utils.AveragedModel(
            lib.nn.Linear(2, 2), avg_fn=lib.optim.swa_utils.get_swa_avg_fn(),
            multi_avg_fn=lib.optim.swa_utils.get_swa_multi_avg_fn()),
        "ema-decay-high": lambda lib: lib.optim.swa_utils.get_ema_multi_avg_fn(1.5),
        "ema-decay-negative": lambda lib: lib.optim.swa_utils.get_ema_multi_avg_fn(-0.1),
        "ema-avg-decay-high": lambda lib: lib.optim.swa_utils.get_ema_avg_fn(2),
    }
    ours = _raised(lambda: calls[case](tinytorch))
    assert ours[0] in ("AssertionError", "ValueError")
    torch = pytest.importorskip("torch")
    assert ours == _raised(lambda: calls[case](torch))


def _lrs(lib, steps=14, swa_lr=0.05, lrs=(1.0, 0.3), **kwargs):
    groups = [{"params": [lib.nn.Parameter(lib.zeros(2))], "lr": lr} for lr in lrs]
    optimizer = lib.optim.SGD(groups, lr=0.1)
    scheduler = lib.optim.swa_utils.SWALR(optimizer, swa_lr, **kwargs)
    sequence = [scheduler.get_last_lr()]
    for _ in range(steps):
        optimizer.step()
        scheduler.step()
        sequence.append(scheduler.get_last_lr())
    return sequence, scheduler, optimizer


SWALR_CASES = {
    "cos-default": {},
    "cos-5": {"anneal_epochs": 5},
    "linear-4": {"anneal_epochs": 4, "anneal_strategy": "linear"},
    "linear-0": {"anneal_epochs": 0, "anneal_strategy": "linear"},
    "cos-0": {"anneal_epochs": 0},
    "per-group": {"swa_lr": [0.01, 0.2], "anneal_epochs": 3, "anneal_strategy": "linear"},
}


@pytest.mark.parametrize("name", sorted(SWALR_CASES))
def test_swalr_lr_sequence_matches_torch(name):
    torch = pytest.importorskip("torch")
    ours, _, _ = _lrs(tinytorch, **SWALR_CASES[name])
    theirs, _, _ = _lrs(torch, **SWALR_CASES[name])
    np.testing.assert_allclose(np.array(ours), np.array(theirs), rtol=1e-15, atol=0)


def test_swalr_linear_and_cosine_values():
    linear, _, optimizer = _lrs(tinytorch, steps=6, swa_lr=0.2, lrs=(1.0,), anneal_epochs=4, anneal_strategy="linear")
    np.testing.assert_allclose([lr[0] for lr in linear], [1.0, 0.8, 0.6, 0.4, 0.2, 0.2, 0.2])
    assert optimizer.param_groups[0]["swa_lr"] == 0.2
    cosine, _, _ = _lrs(tinytorch, steps=3, swa_lr=0.0, lrs=(1.0,), anneal_epochs=2)
    np.testing.assert_allclose([lr[0] for lr in cosine], [1.0, (1 + math.cos(math.pi / 2)) / 2, 0.0, 0.0], atol=1e-15)


def test_swalr_state_dict_round_trip():
    _, scheduler, optimizer = _lrs(tinytorch, steps=2, anneal_epochs=6, anneal_strategy="linear")
    state = scheduler.state_dict()
    assert "optimizer" not in state and "anneal_func" not in state and state["_anneal_strategy"] == "linear"
    resumed = swa_utils.SWALR(optimizer, 0.05)  # cosine until the state says linear
    resumed.load_state_dict(state)
    assert resumed.anneal_func(0.25) == 0.25
    for _ in range(3):
        optimizer.step()
        scheduler.step()
        expected = scheduler.get_last_lr()
    reference, _, _ = _lrs(tinytorch, steps=5, anneal_epochs=6, anneal_strategy="linear")
    assert expected == reference[-1]


@pytest.mark.parametrize("kwargs", [
    {"anneal_strategy": "exp"}, {"anneal_epochs": -1}, {"anneal_epochs": 2.5}, {"swa_lr": [0.1, 0.2, 0.3]},
])
def test_swalr_errors_match_torch(kwargs):
    def build(lib):
        optimizer = lib.optim.SGD([{"params": [lib.nn.Parameter(lib.zeros(1))]}, {"params": [lib.nn.Parameter(lib.zeros(1))]}], lr=0.1)
        lib.optim.swa_utils.SWALR(optimizer, **{"swa_lr": 0.05, **kwargs})

    ours = _raised(lambda: build(tinytorch))
    assert ours[0] == "ValueError"
    torch = pytest.importorskip("torch")
    assert ours == _raised(lambda: build(torch))


def _update_bn(lib, with_targets, device=None):
    model = _model(lib, _initial_state())
    model[1].momentum = 0.3
    model.eval()
    batches = _batches(count=4)
    loader = [(lib.tensor(x), lib.tensor(y)) if with_targets else lib.tensor(x) for x, y in batches]
    assert lib.optim.swa_utils.update_bn(loader, model, device=device) is None
    return model


@pytest.mark.parametrize("with_targets", [False, True])
def test_update_bn_matches_torch(with_targets):
    ours = _update_bn(tinytorch, with_targets, device="cpu")
    assert not ours.training and ours[1].momentum == 0.3
    # A cumulative average over the 4 batches: the mean of their batch means.
    layer_one = ours[0]
    means = [_numpy(layer_one(tinytorch.tensor(x))).mean(axis=0) for x, _ in _batches(count=4)]
    np.testing.assert_allclose(_numpy(ours[1].running_mean), np.mean(means, axis=0), rtol=1e-5, atol=1e-6)
    assert int(ours[1].num_batches_tracked) == 4
    torch = pytest.importorskip("torch")
    theirs = _update_bn(torch, with_targets)
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        np.testing.assert_allclose(_numpy(getattr(ours[1], name)), _numpy(getattr(theirs[1], name)), rtol=1e-5, atol=1e-6)


def test_update_bn_without_batchnorm_does_not_touch_the_loader():
    def loader():
        raise AssertionError("the loader must not be read")
        yield

    assert swa_utils.update_bn(loader(), tinytorch.nn.Linear(2, 2)) is None


def test_namespace_and_imports():
    import tinytorch.optim.swa_utils as module

    assert tinytorch.optim.swa_utils is module is swa_utils
    assert sorted(module.__all__) == sorted(["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn",
                                             "get_swa_multi_avg_fn", "get_ema_avg_fn", "get_swa_avg_fn"])
    torch = pytest.importorskip("torch")
    assert sorted(module.__all__) == sorted(torch.optim.swa_utils.__all__)
