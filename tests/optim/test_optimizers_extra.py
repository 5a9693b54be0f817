"""Rprop, ASGD and Adafactor: PyTorch's trajectories (same parameters, same gradients), state
names and values, state_dict round trips, defaults and constructor errors."""

import copy

import numpy as np
import pytest

import tinytorch
from tinytorch import optim

CASES = [
    ("Rprop", dict()),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5))),
    ("Rprop", dict(lr=0.1, step_sizes=(0.02, 0.15))),  # both clamps bite
    ("Rprop", dict(lr=0.01, etas=(0.6, 1.1), step_sizes=(1e-4, 1.0), maximize=True)),
    ("ASGD", dict()),
    ("ASGD", dict(lr=0.05, t0=4)),  # averaging starts at step 5
    ("ASGD", dict(lr=0.05, lambd=0.05, alpha=0.5, t0=2.5)),
    ("ASGD", dict(lr=0.02, weight_decay=0.1, t0=0)),
    ("ASGD", dict(lr=0.03, weight_decay=0.05, maximize=True, t0=6, lambd=0.01)),
    ("Adafactor", dict()),
    ("Adafactor", dict(lr=0.05, beta2_decay=-0.5)),
    ("Adafactor", dict(lr=0.5, d=1.5)),  # lr above 1/sqrt(t): rho_t follows the step
    ("Adafactor", dict(lr=0.05, eps=(1e-3, 0.5))),  # eps2 above the parameters' RMS
    ("Adafactor", dict(lr=0.05, eps=(0.1, 1e-3))),  # eps1 clamps the factored estimate
    ("Adafactor", dict(lr=0.05, weight_decay=0.2)),
    ("Adafactor", dict(lr=0.05, maximize=True, beta2_decay=-1.0, weight_decay=0.1)),
]
IDS = [f"{name}-{kwargs}" for name, kwargs in CASES]
# A matrix, a vector, a 3-d tensor (Adafactor factors its last two dims) and a scalar.
SHAPES = [(4, 3), (5,), (2, 3, 4), ()]


def _gradients(steps, seed=0):
    """Gradients whose scale drifts and whose signs flip now and then (Rprop's step sizes go both ways)."""
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(shape) * (1.5 + np.sin(step / 2.0)) for shape in SHAPES] for step in range(steps)]


def _start(seed=1):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for shape in SHAPES]


def _run(lib, name, kwargs, dtype, steps=12, device=None):
    """``steps`` steps on fixed gradients (plus a pull of 0.3 * p, so the parameters feed back)."""
    extra = {} if device is None else {"device": device}
    params = [lib.tensor(a.astype(dtype), requires_grad=True, **extra) for a in _start()]
    optimizer = getattr(lib.optim, name)(params, **kwargs)
    for gradients in _gradients(steps):
        for p, g in zip(params, gradients):
            p.grad = lib.tensor(g.astype(dtype), **extra) + 0.3 * p.detach()
        optimizer.step()
    return params, optimizer


def _numpy(t):
    return t.detach().cpu().numpy()


@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_trajectory_and_state_match_torch(name, kwargs, dtype):
    torch = pytest.importorskip("torch")
    ours, our_optimizer = _run(tinytorch, name, kwargs, dtype)
    theirs, their_optimizer = _run(torch, name, kwargs, dtype)
    tolerance = dict(rtol=5e-6, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)
    starts = _start()
    for p, q in zip(ours, theirs):
        assert p.dtype == getattr(tinytorch, str(q.dtype).split(".")[1])
        np.testing.assert_allclose(_numpy(p), _numpy(q), **tolerance)
    moved = np.concatenate([(_numpy(p) - start).ravel() for p, start in zip(ours, starts)])
    assert np.abs(moved).max() > 1e-2, "the parameters should move"
    our_state, their_state = our_optimizer.state_dict()["state"], their_optimizer.state_dict()["state"]
    assert list(our_state) == list(their_state)
    for index in their_state:
        assert list(our_state[index]) == list(their_state[index])  # the same names, in the same order
        for key, theirs_value in their_state[index].items():
            ours_value = our_state[index][key]
            assert tuple(ours_value.shape) == tuple(theirs_value.shape), key
            assert str(ours_value.dtype).split(".")[1] == str(theirs_value.dtype).split(".")[1], key
            np.testing.assert_allclose(_numpy(ours_value), _numpy(theirs_value), **tolerance, err_msg=key)


@pytest.mark.parametrize("name", ["Rprop", "ASGD", "Adafactor"])
def test_param_groups_have_torchs_keys_and_defaults(name):
    torch = pytest.importorskip("torch")
    ours = getattr(optim, name)([tinytorch.zeros(2, requires_grad=True)]).param_groups[0]
    theirs = getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)]).param_groups[0]
    assert {k: v for k, v in ours.items() if k != "params"} == {k: v for k, v in theirs.items() if k != "params"}
    assert list(ours) == list(theirs)


def _train(optimizer, params, gradients):
    for step_gradients in gradients:
        for p, g in zip(params, step_gradients):
            p.grad = tinytorch.tensor(g.astype(np.float32)) + 0.3 * p.detach()
        optimizer.step()


@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_resume_from_state_dict_gives_the_same_trajectory(name, kwargs, tmp_path):
    gradients = _gradients(14)
    params = [tinytorch.tensor(a.astype(np.float32), requires_grad=True) for a in _start()]
    _train(getattr(optim, name)(params, **kwargs), params, gradients)
    expected = [_numpy(p) for p in params]

    params = [tinytorch.tensor(a.astype(np.float32), requires_grad=True) for a in _start()]
    optimizer = getattr(optim, name)(params, **kwargs)
    _train(optimizer, params, gradients[:7])
    saved = copy.deepcopy(optimizer.state_dict())
    tinytorch.save({"params": [p.detach() for p in params], "optimizer": optimizer.state_dict()}, tmp_path / "ckpt")
    del params, optimizer
    checkpoint = tinytorch.load(tmp_path / "ckpt")
    params = [p.clone().requires_grad_() for p in checkpoint["params"]]
    optimizer = getattr(optim, name)(params, lr=123.0)  # hyperparameters come from the state_dict
    optimizer.load_state_dict(checkpoint["optimizer"])
    assert optimizer.param_groups[0]["lr"] == kwargs.get("lr", 1e-2)
    _train(optimizer, params, gradients[7:])
    for p, e in zip(params, expected):
        np.testing.assert_array_equal(_numpy(p), e)
    # the state_dict taken before the load is untouched by the training after it
    for key, value in saved["state"][0].items():
        np.testing.assert_array_equal(_numpy(value), _numpy(checkpoint["optimizer"]["state"][0][key]))


def test_rprop_skips_a_step_where_the_gradient_flips_and_clamps_step_sizes():
    p = tinytorch.tensor([1.0, 1.0, 1.0], requires_grad=True)
    optimizer = optim.Rprop([p], lr=0.1, etas=(0.5, 2.0), step_sizes=(0.04, 0.3))
    for grad in ([1.0, 1.0, 0.0], [1.0, -1.0, 1.0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]):
        p.grad = tinytorch.tensor(grad)
        optimizer.step()
    state = optimizer.state[p]
    # step sizes: coordinate 0 grows 0.1 -> 0.2 -> 0.3 (clamped) -> 0.3; coordinate 1 halves on the
    # flip and the next step (prev 0) keeps it; coordinate 2 starts moving at step 2.
    np.testing.assert_allclose(state["step_size"].numpy(), [0.3, 0.1, 0.3], rtol=1e-6)
    np.testing.assert_allclose(p.detach().numpy(), [1 - 0.1 - 0.2 - 0.3 - 0.3, 1 - 0.1 - 0.0 - 0.05 - 0.1,
                                                    1 - 0.0 - 0.1 - 0.2 - 0.3], rtol=1e-6)
    assert state["step"].item() == 4 and state["prev"].numpy().tolist() == [1.0, 1.0, 1.0]


def test_asgd_averages_the_iterates_after_t0():
    p = tinytorch.tensor([0.0, 2.0], requires_grad=True)
    optimizer = optim.ASGD([p], lr=0.1, lambd=0.0, t0=2)
    iterates = []
    for _ in range(6):
        p.grad = tinytorch.tensor([1.0, -1.0])
        optimizer.step()
        iterates.append(p.detach().numpy().copy())
    state = optimizer.state[p]
    # With lambd = 0 eta stays lr; mu = 1 / max(1, t - t0) is used at the next step: ax is p up to
    # step 4, then the running mean of the iterates from step 4 on.
    np.testing.assert_allclose(state["ax"].numpy(), np.mean(iterates[3:], axis=0), rtol=1e-6)
    assert state["eta"].item() == pytest.approx(0.1) and state["mu"].item() == pytest.approx(1 / 4)
    assert state["eta"].dtype == state["mu"].dtype == tinytorch.float32


def test_adafactor_keeps_row_and_column_factors_for_matrices():
    params = [tinytorch.zeros(shape, requires_grad=True) for shape in SHAPES]
    optimizer = optim.Adafactor(params)
    for p in params:
        p.grad = tinytorch.ones(p.shape)
    optimizer.step()
    shapes = {tuple(p.shape): {k: tuple(v.shape) for k, v in optimizer.state[p].items()} for p in params}
    assert shapes[(4, 3)] == {"step": (), "row_var": (4, 1), "col_var": (1, 3)}
    assert shapes[(2, 3, 4)] == {"step": (), "row_var": (2, 3, 1), "col_var": (2, 1, 4)}
    assert shapes[(5,)] == {"step": (), "variance": (5,)}
    assert shapes[()] == {"step": (), "variance": ()}


INVALID = [
    ("Rprop", dict(lr=-0.1)),
    ("Rprop", dict(etas=(1.5, 2.0))),
    ("Rprop", dict(etas=(0.5, 0.9))),
    ("Rprop", dict(etas=(0.0, 1.2))),
    ("ASGD", dict(lr=-0.1)),
    ("ASGD", dict(weight_decay=-1e-3)),
    ("Adafactor", dict(lr=-0.1)),
    ("Adafactor", dict(beta2_decay=0.5)),
    ("Adafactor", dict(eps=(-1e-30, 1e-3))),
    ("Adafactor", dict(eps=(None, -1e-3))),
    ("Adafactor", dict(d=0.5)),
    ("Adafactor", dict(weight_decay=-0.1)),
]


@pytest.mark.parametrize("name,kwargs", INVALID, ids=[f"{n}-{k}" for n, k in INVALID])
def test_constructor_errors_are_torchs(name, kwargs):
    torch = pytest.importorskip("torch")
    from tests.nn.helpers import assert_same_error_in_both

    def build(lib, bad):
        return getattr(lib.optim, name)([lib.zeros(2, requires_grad=True)], **bad)

    assert_same_error_in_both(torch, build, kwargs)


@pytest.mark.parametrize("name", ["Rprop", "ASGD", "Adafactor"])
def test_a_tensor_lr_must_hold_one_element(name):
    torch = pytest.importorskip("torch")
    from tests.nn.helpers import assert_same_error_in_both

    def build(lib):
        return getattr(lib.optim, name)([lib.zeros(2, requires_grad=True)], lr=lib.tensor([0.1, 0.2]))

    assert_same_error_in_both(torch, build)


@pytest.mark.parametrize("name,kwargs", [CASES[1], CASES[8], CASES[-1]], ids=["Rprop", "ASGD", "Adafactor"])
def test_steps_on_the_device_match_the_cpu(name, kwargs, device):
    on_cpu, _ = _run(tinytorch, name, kwargs, np.float32, steps=5)
    ours, optimizer = _run(tinytorch, name, kwargs, np.float32, steps=5, device=device)
    for p, q in zip(ours, on_cpu):
        assert p.device.type == device
        np.testing.assert_allclose(_numpy(p), _numpy(q), rtol=1e-5, atol=1e-6)
    for key, value in optimizer.state[ours[0]].items():
        assert value.device.type == ("cpu" if key == "step" else device), key
