"""Muon: PyTorch's trajectories (same start, same gradients) for each learning-rate adjustment,
Nesterov on and off, weight decay; the bfloat16-precision Newton-Schulz step; constructor and step
errors; the state and its state_dict round trip."""

import copy

import numpy as np
import pytest

import tinytorch
from tinytorch import optim
from tinytorch.optim.muon import _round_to_bfloat16, _zeropower_via_newtonschulz

CASES = [
    dict(),
    dict(nesterov=False),
    dict(lr=0.02, adjust_lr_fn="original"),
    dict(lr=0.02, adjust_lr_fn="match_rms_adamw"),
    dict(lr=0.01, weight_decay=0.0, momentum=0.5),
    dict(lr=0.01, weight_decay=0.3, nesterov=False, adjust_lr_fn="match_rms_adamw"),
    dict(lr=0.05, ns_steps=2, ns_coefficients=(2.0, -1.5, 0.5), eps=1e-3),
]
IDS = [str(kwargs) for kwargs in CASES]
# Tall, wide and square matrices ("original" scales a tall one's lr by sqrt(rows / columns)).
SHAPES = [(6, 3), (3, 5), (4, 4), (16, 8)]


def _start(seed=1):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for shape in SHAPES]


def _gradients(steps, seed=0):
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(shape) * (1.5 + np.sin(step)) for shape in SHAPES] for step in range(steps)]


def _run(lib, kwargs, dtype, steps=8, device=None):
    """``steps`` steps on fixed gradients plus a pull of 0.3 * p (so the parameters feed back)."""
    extra = {} if device is None else {"device": device}
    params = [lib.tensor(a.astype(dtype), requires_grad=True, **extra) for a in _start()]
    optimizer = lib.optim.Muon(params, **kwargs)
    for gradients in _gradients(steps):
        for p, g in zip(params, gradients):
            p.grad = lib.tensor(g.astype(dtype), **extra) + 0.3 * p.detach()
        optimizer.step()
    return params, optimizer


def _numpy(t):
    return t.detach().cpu().numpy()


def _update_tolerance(kwargs, steps=8):
    """PyTorch rounds the orthogonalized update to bfloat16; a product summed in another order can
    land one bfloat16 ulp (2**-8 relative) away, scaled by the learning rate, on each step."""
    lr = kwargs.get("lr", 1e-3)
    scale = max(1.0, 0.2 * 4.0) if kwargs.get("adjust_lr_fn") == "match_rms_adamw" else 2.0
    return steps * lr * scale * 2.0**-8


@pytest.mark.parametrize("kwargs", CASES, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_trajectory_matches_torch(kwargs, dtype):
    torch = pytest.importorskip("torch")
    ours, _ = _run(tinytorch, kwargs, dtype)
    theirs, _ = _run(torch, kwargs, dtype)
    for a, b in zip(ours, theirs):
        assert a.dtype.name == str(b.dtype).replace("torch.", "")
        np.testing.assert_allclose(_numpy(a), _numpy(b), atol=_update_tolerance(kwargs), rtol=0)


def test_newton_schulz_is_bfloat16_exact_on_small_matrices():
    """The float32 emulation of PyTorch's bfloat16 iteration gives its values bit for bit where
    the matrix products are small enough to be summed in the same order."""
    torch = pytest.importorskip("torch")
    from torch.optim._muon import _zeropower_via_newtonschulz as torch_newton_schulz

    rng = np.random.default_rng(0)
    for shape in [(4, 3), (3, 5), (2, 2), (5, 1)]:
        grad = rng.standard_normal(shape).astype(np.float32)
        ours = _zeropower_via_newtonschulz(grad, (3.4445, -4.7750, 2.0315), 5, 1e-7)
        theirs = torch_newton_schulz(torch.tensor(grad), (3.4445, -4.7750, 2.0315), 5, 1e-7).float().numpy()
        assert ours.shape == shape
        np.testing.assert_array_equal(ours, theirs)


def test_round_to_bfloat16_matches_torch_conversion():
    torch = pytest.importorskip("torch")
    values = np.array([1.0, 1.00390625, 1.005859375, -3.14159, 1e-30, 3.3e38, np.inf, -np.inf, np.nan, 0.0, -0.0,
                       1.0 + 2**-8, 1.0 + 3 * 2**-8], dtype=np.float32)
    ours = _round_to_bfloat16(values.copy())
    theirs = torch.tensor(values).bfloat16().float().numpy()
    np.testing.assert_array_equal(ours, theirs)


def test_update_is_orthogonalized_and_lr_adjusted():
    """From zero state, one step with momentum 0 moves p by -lr * ratio * NS(g) (no torch needed):
    the rows of NS(g) for a wide g are near-orthonormal, and "original" scales a tall matrix by
    sqrt(rows / columns)."""
    rng = np.random.default_rng(3)
    g = rng.standard_normal((8, 2)).astype(np.float32)
    p = tinytorch.zeros(8, 2, requires_grad=True)
    p.grad = tinytorch.tensor(g)
    optim.Muon([p], lr=0.1, momentum=0.0, weight_decay=0.0).step()
    update = -p.detach().numpy() / (0.1 * 2.0)  # sqrt(8 / 2) = 2
    singular_values = np.linalg.svd(update, compute_uv=False)
    assert np.all((singular_values > 0.5) & (singular_values < 1.5)), singular_values


def test_state_and_state_dict_round_trip():
    torch = pytest.importorskip("torch")
    kwargs = dict(lr=0.02, nesterov=False)
    params, optimizer = _run(tinytorch, kwargs, np.float32, steps=3)
    torch_params, torch_optimizer = _run(torch, kwargs, np.float32, steps=3)
    state, torch_state = optimizer.state_dict(), torch_optimizer.state_dict()
    assert state["param_groups"] == torch_state["param_groups"]
    assert set(state["state"]) == set(torch_state["state"])
    for index, entry in state["state"].items():
        assert set(entry) == set(torch_state["state"][index]) == {"momentum_buffer"}
        np.testing.assert_allclose(_numpy(entry["momentum_buffer"]), _numpy(torch_state["state"][index]["momentum_buffer"]),
                                   rtol=1e-5, atol=1e-5)
    # A fresh optimizer loaded from the state_dict goes on exactly as the original does.
    clones = [tinytorch.tensor(_numpy(p), requires_grad=True) for p in params]
    resumed = optim.Muon(clones, lr=0.5)
    resumed.load_state_dict(copy.deepcopy(state))
    assert resumed.param_groups[0]["lr"] == 0.02 and resumed.param_groups[0]["nesterov"] is False
    for gradients in _gradients(2, seed=7):
        for p, q, g in zip(params, clones, gradients):
            p.grad = tinytorch.tensor(g.astype(np.float32))
            q.grad = tinytorch.tensor(g.astype(np.float32))
        optimizer.step()
        resumed.step()
    for p, q in zip(params, clones):
        np.testing.assert_array_equal(_numpy(p), _numpy(q))


def test_defaults_match_torch():
    torch = pytest.importorskip("torch")
    ours = optim.Muon([tinytorch.zeros(2, 3, requires_grad=True)]).defaults
    theirs = torch.optim.Muon([torch.zeros(2, 3, requires_grad=True)]).defaults
    assert ours == theirs


def _error(call):
    try:
        call()
    except Exception as error:  # the point is to compare what is raised
        return type(error).__name__, str(error).replace("tinytorch", "torch")
    raise AssertionError("no error raised")


@pytest.mark.parametrize("shape, kwargs", [
    ((2, 3), dict(lr=-1.0)),
    ((2, 3), dict(momentum=-0.1)),
    ((2, 3), dict(weight_decay=-0.1)),
    ((2, 3), dict(adjust_lr_fn="spectral")),
    ((3,), dict()),
    ((2, 3, 4), dict()),
], ids=["lr", "momentum", "weight_decay", "adjust_lr_fn", "vector", "3d"])
def test_constructor_errors_match_torch(shape, kwargs):
    torch = pytest.importorskip("torch")
    ours = _error(lambda: optim.Muon([tinytorch.zeros(*shape, requires_grad=True)], **kwargs))
    theirs = _error(lambda: torch.optim.Muon([torch.zeros(*shape, requires_grad=True)], **kwargs))
    assert ours == theirs


def test_tensor_lr_must_hold_one_element():
    with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
        optim.Muon([tinytorch.zeros(2, 2, requires_grad=True)], lr=tinytorch.tensor([0.1, 0.2]))


@pytest.mark.parametrize("kwargs", [dict(ns_steps=100), dict(ns_coefficients=(1.0, 2.0))], ids=["ns_steps", "coefficients"])
def test_step_errors_match_torch(kwargs):
    torch = pytest.importorskip("torch")

    def step(lib):
        p = lib.ones(2, 3, requires_grad=True)
        p.grad = lib.ones(2, 3)
        lib.optim.Muon([p], **kwargs).step()

    assert _error(lambda: step(tinytorch)) == _error(lambda: step(torch))


def test_parameter_added_later_must_be_a_matrix():
    """add_param_group skips the constructor's check, as in PyTorch: the step refuses the gradient."""
    optimizer = optim.Muon([tinytorch.zeros(2, 2, requires_grad=True)])
    vector = tinytorch.zeros(3, requires_grad=True)
    optimizer.add_param_group({"params": [vector]})
    vector.grad = tinytorch.ones(3)
    with pytest.raises(ValueError, match="Param gradient must be a 2D matrix"):
        optimizer.step()


def test_closure_and_parameters_without_gradients():
    p, q = tinytorch.ones(2, 2, requires_grad=True), tinytorch.ones(2, 2, requires_grad=True)
    optimizer = optim.Muon([p, q], lr=0.1)

    def closure():
        optimizer.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    assert float(optimizer.step(closure)) == 4.0
    assert not np.array_equal(_numpy(p), np.ones((2, 2)))
    np.testing.assert_array_equal(_numpy(q), np.ones((2, 2)))
    assert q not in optimizer.state


def test_cuda_step_matches_cpu(device):
    if device != "cuda":
        pytest.skip("the cpu case is the reference")
    kwargs = dict(lr=0.02, adjust_lr_fn="match_rms_adamw")
    on_device, _ = _run(tinytorch, kwargs, np.float32, device=device)
    on_cpu, _ = _run(tinytorch, kwargs, np.float32)
    for a, b in zip(on_device, on_cpu):
        assert a.device.type == "cuda"
        np.testing.assert_allclose(_numpy(a), _numpy(b), atol=_update_tolerance(kwargs), rtol=0)
