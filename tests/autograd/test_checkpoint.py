"""tinytorch.utils.checkpoint: same gradients as without checkpoint (and as torch's), RNG replay,
recomputation, and PyTorch's warnings and errors."""

import warnings

import numpy as np
import pytest

import tinytorch
from tinytorch.utils.checkpoint import CheckpointError, checkpoint, checkpoint_sequential

REENTRANT = [True, False]


def _mlp(lib, dropout=0.0):
    layers = [lib.nn.Linear(4, 8), lib.nn.Tanh(), lib.nn.Linear(8, 8), lib.nn.ReLU()]
    if dropout:
        layers.append(lib.nn.Dropout(dropout))
    return lib.nn.Sequential(*layers, lib.nn.Linear(8, 3))


def _copy_weights(source, target, torch):
    with torch.no_grad():
        for p, q in zip(source.parameters(), target.parameters()):
            q.copy_(torch.from_numpy(p.detach().numpy().copy()))


def _grads(model, x):
    return [p.grad.numpy().copy() for p in model.parameters()] + ([x.grad.numpy().copy()] if x.grad is not None else [])


def _zero(model, x):
    for p in model.parameters():
        p.grad = None
    x.grad = None


@pytest.mark.parametrize("use_reentrant", REENTRANT)
def test_mlp_gradients_equal_with_and_without_checkpoint(use_reentrant):
    tinytorch.manual_seed(0)
    model = _mlp(tinytorch)
    x = tinytorch.randn(5, 4, requires_grad=True)
    out = checkpoint(model, x, use_reentrant=use_reentrant)
    (out ** 2).sum().backward()
    with_checkpoint = _grads(model, x)
    _zero(model, x)
    (model(x) ** 2).sum().backward()
    for a, b in zip(with_checkpoint, _grads(model, x)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("use_reentrant", REENTRANT)
def test_mlp_gradients_match_torch(use_reentrant):
    torch = pytest.importorskip("torch")
    import torch.utils.checkpoint as torch_checkpoint

    tinytorch.manual_seed(0)
    model = _mlp(tinytorch)
    reference = _mlp(torch)
    _copy_weights(model, reference, torch)
    data = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    x = tinytorch.tensor(data, requires_grad=True)
    tx = torch.tensor(data, requires_grad=True)
    out = checkpoint(model, x, use_reentrant=use_reentrant)
    expected = torch_checkpoint.checkpoint(reference, tx, use_reentrant=use_reentrant)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-6)
    (out ** 2).sum().backward()
    (expected ** 2).sum().backward()
    for p, q in zip(model.parameters(), reference.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("use_reentrant", REENTRANT)
def test_dropout_replays_the_same_mask(use_reentrant):
    model = _mlp(tinytorch, dropout=0.5)
    x = tinytorch.randn(6, 4, requires_grad=True)
    tinytorch.manual_seed(7)
    out = checkpoint(model, x, use_reentrant=use_reentrant)
    # Draws between forward and backward must not change the replayed mask.
    tinytorch.rand(100)
    out.sum().backward()
    with_checkpoint = _grads(model, x)
    _zero(model, x)
    tinytorch.manual_seed(7)
    expected_out = model(x)
    expected_out.sum().backward()
    np.testing.assert_array_equal(out.detach().numpy(), expected_out.detach().numpy())
    for a, b in zip(with_checkpoint, _grads(model, x)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_rng_state_after_backward_is_the_surrounding_one():
    model = _mlp(tinytorch, dropout=0.5)
    x = tinytorch.randn(3, 4, requires_grad=True)
    out = checkpoint(model, x, use_reentrant=False)
    state = tinytorch.random.get_rng_state()
    out.sum().backward()
    np.testing.assert_array_equal(tinytorch.random.get_rng_state().numpy(), state.numpy())


@pytest.mark.parametrize("use_reentrant", REENTRANT)
def test_checkpoint_sequential_two_segments(use_reentrant):
    tinytorch.manual_seed(1)
    model = _mlp(tinytorch)
    x = tinytorch.randn(5, 4, requires_grad=True)
    out = checkpoint_sequential(model, 2, x, use_reentrant=use_reentrant)
    out.sum().backward()
    with_checkpoint = _grads(model, x)
    _zero(model, x)
    expected = model(x)
    expected.sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-6)
    for a, b in zip(with_checkpoint, _grads(model, x)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_checkpoint_sequential_matches_torch_with_a_list():
    torch = pytest.importorskip("torch")
    import torch.utils.checkpoint as torch_checkpoint

    model = _mlp(tinytorch)
    reference = _mlp(torch)
    _copy_weights(model, reference, torch)
    data = np.random.default_rng(1).standard_normal((2, 4)).astype(np.float32)
    x = tinytorch.tensor(data, requires_grad=True)
    tx = torch.tensor(data, requires_grad=True)
    out = checkpoint_sequential(list(model), 3, x, use_reentrant=False)
    expected = torch_checkpoint.checkpoint_sequential(list(reference), 3, tx, use_reentrant=False)
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("use_reentrant", REENTRANT)
def test_function_runs_again_in_backward(use_reentrant):
    calls = []

    def function(x):
        calls.append(tinytorch.is_grad_enabled())
        return (x.sin() * 2).exp()

    x = tinytorch.randn(3, requires_grad=True)
    out = checkpoint(function, x, use_reentrant=use_reentrant)
    # The forward ran without a graph: the output's node is the checkpoint, not exp's.
    assert calls == [False]
    assert "Checkpoint" in out.grad_fn.name()
    out.sum().backward()
    assert calls == [False, True]
    expected = (2 * x.detach().sin()).exp() * 2 * x.detach().cos()
    np.testing.assert_allclose(x.grad.numpy(), expected.numpy(), rtol=1e-6)


@pytest.mark.parametrize("use_reentrant", REENTRANT)
def test_non_tensor_args_and_tuple_outputs(use_reentrant):
    def function(x, scale, y, name):
        assert name == "tag"
        return x * scale + y, name, (x * y).sum()

    x = tinytorch.randn(3, requires_grad=True)
    y = tinytorch.randn(3, requires_grad=True)
    a, name, b = checkpoint(function, x, 3.0, y, "tag", use_reentrant=use_reentrant)
    assert name == "tag"
    (a.sum() + 2 * b).backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 + 2 * y.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(y.grad.numpy(), 1 + 2 * x.detach().numpy(), rtol=1e-6)


def test_keyword_arguments_pass_through_without_reentrant():
    x = tinytorch.randn(3, requires_grad=True)
    out = checkpoint(lambda x, *, power: x ** power, x, power=3, use_reentrant=False)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * x.detach().numpy() ** 2, rtol=1e-6)


def test_parameters_get_gradients_without_reentrant_when_no_input_requires_grad():
    model = _mlp(tinytorch)
    x = tinytorch.randn(5, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert checkpoint(model, x, use_reentrant=False).requires_grad
    model(x).sum().backward()
    expected = [p.grad.numpy().copy() for p in model.parameters()]
    _zero(model, x)
    checkpoint(model, x, use_reentrant=False).sum().backward()
    for p, e in zip(model.parameters(), expected):
        np.testing.assert_allclose(p.grad.numpy(), e, rtol=1e-6, atol=1e-7)


def test_reentrant_warns_and_gives_no_grad_when_no_input_requires_grad():
    model = _mlp(tinytorch)
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True. Gradients will be None"):
        out = checkpoint(model, tinytorch.randn(5, 4), use_reentrant=True)
    assert not out.requires_grad


def test_autograd_grad_and_captured_non_leaf_without_reentrant():
    w = tinytorch.randn(3, requires_grad=True)
    h = w * 2  # an outer non-leaf that the function reads from its closure
    x = tinytorch.randn(3, requires_grad=True)
    out = checkpoint(lambda x: (x * h).sum(), x, use_reentrant=False)
    gx, gw = tinytorch.autograd.grad(out, [x, w])
    np.testing.assert_allclose(gx.numpy(), h.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(gw.numpy(), 2 * x.detach().numpy(), rtol=1e-6)


def test_double_backward_without_reentrant():
    x = tinytorch.randn(4, requires_grad=True)
    out = checkpoint(lambda x: (x ** 3).sum(), x, use_reentrant=False)
    (g,) = tinytorch.autograd.grad(out, x, create_graph=True)
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * x.detach().numpy(), rtol=1e-6)


def test_context_fn_runs_forward_and_recomputation_under_its_contexts():
    seen = []

    class Mark:
        def __init__(self, name):
            self.name = name

        def __enter__(self):
            seen.append(self.name)

        def __exit__(self, *exc):
            return False

    x = tinytorch.randn(2, requires_grad=True)
    out = checkpoint(lambda x: x.exp().sum(), x, use_reentrant=False, context_fn=lambda: (Mark("fwd"), Mark("re")))
    out.backward()
    assert seen == ["fwd", "re"]


def test_determinism_check_raises_when_recomputation_differs():
    shapes = iter([3, 2])

    def function(x):
        return x[: next(shapes)] * 2

    x = tinytorch.randn(4, requires_grad=True)
    out = checkpoint(function, x, use_reentrant=False)
    with pytest.raises(CheckpointError):
        out.sum().backward()


# -- warnings and errors, against torch's ----------------------------------------------------------


def _raised(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        error = None
        try:
            call()
        except Exception as raised:  # noqa: BLE001 - the error is what is compared
            error = raised
    return type(error), str(error), [(w.category, str(w.message)) for w in caught]


@pytest.mark.parametrize("case", [
    "no_use_reentrant", "sequential_no_use_reentrant", "kwargs_reentrant", "context_fn_reentrant",
    "debug_reentrant", "bad_determinism_check", "sequential_kwargs",
])
def test_warnings_and_errors_match_torch(case):
    torch = pytest.importorskip("torch")
    import torch.utils.checkpoint as torch_checkpoint

    def calls(lib, module):
        x = lib.ones(2, requires_grad=True)
        seq = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.Linear(2, 2))
        return {
            "no_use_reentrant": lambda: module.checkpoint(lambda t: t * 2, x),
            "sequential_no_use_reentrant": lambda: module.checkpoint_sequential(seq, 2, x),
            "kwargs_reentrant": lambda: module.checkpoint(lambda t: t, x, use_reentrant=True, scale=2),
            "context_fn_reentrant": lambda: module.checkpoint(
                lambda t: t, x, use_reentrant=True, context_fn=lambda: module.noop_context_fn()),
            "debug_reentrant": lambda: module.checkpoint(lambda t: t, x, use_reentrant=True, debug=True),
            "bad_determinism_check": lambda: module.checkpoint(
                lambda t: t * 2, x, use_reentrant=False, determinism_check="strict"),
            "sequential_kwargs": lambda: module.checkpoint_sequential(seq, 2, x, use_reentrant=False, foo=1),
        }[case]

    import tinytorch.utils.checkpoint as ours

    expected = _raised(calls(torch, torch_checkpoint))
    got = _raised(calls(tinytorch, ours))
    assert got == expected


def test_detach_variable_refuses_a_list():
    torch = pytest.importorskip("torch")
    import torch.utils.checkpoint as torch_checkpoint
    from tinytorch.utils.checkpoint import detach_variable

    with pytest.raises(RuntimeError) as expected:
        torch_checkpoint.detach_variable([torch.ones(1)])
    with pytest.raises(RuntimeError, match="^" + str(expected.value) + "$"):
        detach_variable([tinytorch.ones(1)])


def test_checkpoint_on_device(device):
    model = _mlp(tinytorch).to(device)
    x = tinytorch.randn(3, 4, device=device, requires_grad=True)
    checkpoint(model, x, use_reentrant=False).sum().backward()
    with_checkpoint = _grads_on_cpu(model, x)
    _zero(model, x)
    model(x).sum().backward()
    for a, b in zip(with_checkpoint, _grads_on_cpu(model, x)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def _grads_on_cpu(model, x):
    return [p.grad.cpu().numpy().copy() for p in model.parameters()] + [x.grad.cpu().numpy().copy()]
