"""Each optimizer follows PyTorch's trajectory: same start, same loss, 20 steps, same parameters."""

import numpy as np
import pytest

import tinytorch
from tinytorch import optim

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, weight_decay=0.1)),
    ("SGD", dict(lr=0.01, maximize=True)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.05, maximize=True)),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.5, weight_decay=0.05)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, betas=(0.5, 0.9), eps=1e-3, maximize=True)),
    ("Adam", dict(lr=0.02, amsgrad=True, weight_decay=0.1, maximize=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.5, amsgrad=True)),
    ("AdamW", dict(lr=0.01, maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, centered=True, momentum=0.5, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, maximize=True, eps=1e-4)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1, initial_accumulator_value=0.2)),
    ("Adagrad", dict(lr=0.05, eps=1e-5, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-4)),
    ("Adadelta", dict(lr=1.0, weight_decay=0.1, maximize=True)),
    ("Adadelta", dict(lr=2.0, rho=0.95, weight_decay=0.05)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.01, betas=(0.5, 0.9), eps=1e-3)),
    ("Adamax", dict(lr=0.02, weight_decay=0.1, maximize=True)),
    ("Adamax", dict(lr=0.02, weight_decay=0.05)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.01, momentum_decay=0.01, betas=(0.8, 0.99))),
    ("NAdam", dict(lr=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("NAdam", dict(lr=0.02, eps=1e-4, weight_decay=0.05, maximize=True)),
    ("RAdam", dict()),
    ("RAdam", dict(lr=0.01, betas=(0.5, 0.9))),  # rho_t passes 5 at step 6: both branches run
    ("RAdam", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1)),
    ("RAdam", dict(lr=0.01, betas=(0.6, 0.95), weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.02, betas=(0.7, 0.9), eps=1e-4, maximize=True)),
]


def _start(dtype):
    rng = np.random.default_rng(0)
    inputs, targets = rng.standard_normal((8, 4)), rng.standard_normal((8, 2))
    params = [rng.standard_normal(shape) for shape in ((4, 3), (3,), (3, 2), (5,))]
    return [a.astype(dtype) for a in (inputs, targets, *params)]


def _loss(lib, inputs, targets, w1, b1, w2):
    """A small MLP's squared error; the last parameter stays unused (its grad is None)."""
    return ((lib.tanh(inputs @ w1 + b1) @ w2 - targets) ** 2).mean()


def _run_tinytorch(name, kwargs, arrays, steps=20):
    inputs, targets, *starts = [tinytorch.tensor(a) for a in arrays]
    params = [p.requires_grad_() for p in starts]
    optimizer = getattr(optim, name)(params, **kwargs)
    for _ in range(steps):
        optimizer.zero_grad()
        _loss(tinytorch, inputs, targets, *params[:3]).backward()
        optimizer.step()
    return [p.detach().numpy() for p in params], optimizer


def _run_torch(torch, name, kwargs, arrays, steps=20):
    inputs, targets, *starts = [torch.tensor(a) for a in arrays]
    params = [p.requires_grad_() for p in starts]
    optimizer = getattr(torch.optim, name)(params, **kwargs)
    for _ in range(steps):
        optimizer.zero_grad()
        _loss(torch, inputs, targets, *params[:3]).backward()
        optimizer.step()
    return [p.detach().numpy() for p in params], optimizer


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_matches_torch_float64(name, kwargs):
    torch = pytest.importorskip("torch")
    arrays = _start(np.float64)
    ours, optimizer = _run_tinytorch(name, kwargs, arrays)
    theirs, torch_optimizer = _run_torch(torch, name, kwargs, arrays)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    assert not np.allclose(ours[0], arrays[2]), "the parameters should have moved"
    np.testing.assert_array_equal(ours[3], arrays[5])  # no grad: untouched
    # Same state layout as PyTorch's (keys, and the step counter's value and dtype).
    our_state, torch_state = optimizer.state_dict()["state"], torch_optimizer.state_dict()["state"]
    assert sorted(our_state) == sorted(torch_state)
    for index in our_state:
        assert sorted(our_state[index]) == sorted(torch_state[index])
        for key, value in our_state[index].items():
            np.testing.assert_allclose(value.numpy(), torch_state[index][key].numpy(), rtol=1e-9, atol=1e-12)
            assert str(value.dtype).split(".")[1] == str(torch_state[index][key].dtype).split(".")[1]


# Gradient ascent on this loss runs away, which magnifies float32 rounding: descend only.
FLOAT32_CASES = [case for case in CASES if not case[1].get("maximize")][::2]


@pytest.mark.parametrize("name,kwargs", FLOAT32_CASES, ids=[f"{n}-{k}" for n, k in FLOAT32_CASES])
def test_matches_torch_float32(name, kwargs):
    torch = pytest.importorskip("torch")
    arrays = _start(np.float32)
    ours, _ = _run_tinytorch(name, kwargs, arrays)
    theirs, _ = _run_torch(torch, name, kwargs, arrays)
    for a, b in zip(ours, theirs):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_param_groups_with_their_own_hyperparameters_match_torch():
    torch = pytest.importorskip("torch")
    arrays = _start(np.float64)

    def run(lib, opt_module):
        inputs, targets, *params = [lib.tensor(a, requires_grad=i >= 2) for i, a in enumerate(arrays)]
        groups = [{"params": params[:2], "lr": 0.05, "betas": (0.8, 0.95)}, {"params": params[2:], "weight_decay": 0.1}]
        optimizer = opt_module.Adam(groups, lr=0.01)
        for _ in range(20):
            optimizer.zero_grad()
            _loss(lib, inputs, targets, *params[:3]).backward()
            optimizer.step()
        return [p.detach().numpy() for p in params]

    for a, b in zip(run(tinytorch, optim), run(torch, torch.optim)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


LONG_CASES = [case for case in CASES if case[0] in ("Adadelta", "Adamax", "NAdam", "RAdam")]


def _run_on_gradients(lib, opt_module, name, kwargs, start, gradients):
    """Feed the same gradient sequence to both libraries: no feedback from the parameters to the
    gradients (other than weight decay), so rounding differences cannot grow chaotically and the
    update formulas themselves are compared over a long run."""
    param = lib.tensor(start.copy(), requires_grad=True)
    optimizer = getattr(opt_module, name)([param], **kwargs)
    for gradient in gradients:
        param.grad = lib.tensor(gradient)
        optimizer.step()
    return param.detach().numpy()


@pytest.mark.parametrize("name,kwargs", LONG_CASES, ids=[f"{n}-{k}" for n, k in LONG_CASES])
def test_matches_torch_over_500_steps_float64(name, kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    start = rng.standard_normal(16)
    # Gradients whose scale drifts over three orders of magnitude, so that running maxima and
    # averages both rise and decay.
    scales = np.exp(np.sin(np.arange(500) / 40.0) * 3.5)[:, None]
    gradients = rng.standard_normal((500, 16)) * scales
    ours = _run_on_gradients(tinytorch, optim, name, kwargs, start, gradients)
    theirs = _run_on_gradients(torch, torch.optim, name, kwargs, start, gradients)
    assert not np.allclose(ours, start)
    np.testing.assert_allclose(ours, theirs, rtol=1e-11, atol=1e-12)


# Each optimizer's lerp_-made moving average, and which state holds it. PyTorch's CPU lerp_ is one
# fused multiply-add; tinytorch's goes through NumPy's OpenBLAS axpy where that fuses.
LERP_CASES = [
    ("Adam", dict(), "exp_avg"),
    ("Adam", dict(betas=(0.3, 0.9)), "exp_avg"),  # weight 0.7: lerp's other formula
    ("AdamW", dict(amsgrad=True), "exp_avg"),
    ("Adamax", dict(), "exp_avg"),
    ("NAdam", dict(), "exp_avg"),
    ("RAdam", dict(), "exp_avg"),
    ("RMSprop", dict(centered=True), "grad_avg"),
    ("Muon", dict(), "momentum_buffer"),
    ("Adafactor", dict(), "variance"),  # a vector's (a matrix's row_var follows its norm's sums)
]


@pytest.mark.parametrize("name,kwargs,key", LERP_CASES, ids=[f"{n}-{k}" for n, k, _ in LERP_CASES])
def test_lerp_made_moving_averages_are_pytorchs_to_the_bit(name, kwargs, key):
    torch = pytest.importorskip("torch")
    from tinytorch import _blas

    rng = np.random.default_rng(2)
    shape = (300 * 64,) if name == "Adafactor" else (300, 64)  # above AXPY_MIN_SIZE: the threaded axpy
    start = rng.standard_normal(shape).astype(np.float32)
    grads = [rng.standard_normal(start.shape).astype(np.float32) for _ in range(4)]
    states = []
    for lib in (tinytorch, torch):
        param = lib.nn.Parameter(lib.tensor(start))
        optimizer = getattr(lib.optim, name)([param], lr=1e-3, **kwargs)
        for g in grads:
            param.grad = lib.tensor(g)
            optimizer.step()
        states.append(optimizer.state[param][key].numpy())
    ours, theirs = states
    if _blas.FMA.get(np.dtype(np.float32)):
        np.testing.assert_array_equal(ours, theirs)
    else:  # TINYTORCH_BLAS=numpy or a BLAS whose axpy rounds twice: a few ulps of the largest
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=4 * np.finfo(np.float32).eps * np.abs(theirs).max())
