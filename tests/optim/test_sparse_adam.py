"""Optimizers with sparse gradients (``nn.Embedding(sparse=True)``), as PyTorch: SparseAdam, SGD
and Adagrad update the stored rows; the others refuse with PyTorch's messages."""

import numpy as np
import pytest

import tinytorch
from tinytorch import optim

WEIGHT = np.random.default_rng(0).standard_normal((7, 3))
BATCHES = [[[1, 2, 1], [0, 5, 5]], [[3, 3, 3], [2, 1, 0]], [[4, 1, 2], [1, 1, 1]], [[6, 6, 2], [0, 0, 0]]]


def _train(lib, name, kwargs, dtype="float64", padding_idx=None, batches=BATCHES):
    """A few steps of an Embedding(sparse=True); returns the weight and the optimizer."""
    embedding = lib.nn.Embedding(7, 3, sparse=True, padding_idx=padding_idx,
                                 _weight=lib.tensor(WEIGHT, dtype=getattr(lib, dtype)))
    optimizer = getattr(lib.optim, name)(embedding.parameters(), **kwargs)
    for batch in batches:
        optimizer.zero_grad()
        (embedding(lib.tensor(batch)) ** 3).sum().backward()
        optimizer.step()
    return embedding.weight.detach().numpy(), optimizer


CASES = [
    ("SparseAdam", dict()),
    ("SparseAdam", dict(lr=0.1)),
    ("SparseAdam", dict(lr=0.05, betas=(0.5, 0.9), eps=1e-4)),
    ("SparseAdam", dict(lr=0.1, maximize=True)),
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, maximize=True)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1, initial_accumulator_value=0.5, eps=1e-6)),
    ("Adagrad", dict(lr=0.1, maximize=True)),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("padding_idx", [None, 0])
@pytest.mark.parametrize("name,kwargs", CASES)
def test_sparse_steps_match_torch(name, kwargs, padding_idx, dtype):
    torch = pytest.importorskip("torch")
    ours, _ = _train(tinytorch, name, kwargs, dtype, padding_idx)
    theirs, _ = _train(torch, name, kwargs, dtype, padding_idx)
    tolerance = dict(rtol=1e-10, atol=1e-12) if dtype == "float64" else dict(rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours, theirs, **tolerance)


def test_sparse_adam_moves_only_the_rows_it_sees():
    ours, optimizer = _train(tinytorch, "SparseAdam", dict(lr=0.1), batches=[[[1, 2, 1]], [[2, 2, 4]]])
    untouched = [0, 3, 5, 6]
    np.testing.assert_array_equal(ours[untouched], WEIGHT[untouched])
    assert not np.isclose(ours[[1, 2, 4]], WEIGHT[[1, 2, 4]]).any()
    (state,) = optimizer.state.values()
    assert state["step"] == 2 and isinstance(state["step"], int)
    # the moments of rows never seen stay zero (Adam's would decay, but they start at zero anyway;
    # row 1, seen at step 1 only, keeps its step-1 moment: no decay at step 2)
    exp_avg = state["exp_avg"].numpy()
    np.testing.assert_array_equal(exp_avg[untouched], 0)
    first_grad = 3 * WEIGHT[1] ** 2 * 2  # row 1 twice in the first batch, d(x^3)/dx = 3x^2
    np.testing.assert_allclose(exp_avg[1], 0.1 * first_grad)


def test_sparse_adam_first_step_by_hand():
    """One step: m = (1 - b1) g, v = (1 - b2) g^2, p -= lr * sqrt(1 - b2) / (1 - b1) * m / (sqrt(v) + eps)."""
    weight = tinytorch.tensor(WEIGHT, requires_grad=True)
    optimizer = optim.SparseAdam([weight], lr=0.1, betas=(0.8, 0.9), eps=1e-3)
    tinytorch.nn.functional.embedding(tinytorch.tensor([2, 2, 5]), weight, sparse=True).sum().backward()
    optimizer.step()
    grad = np.zeros_like(WEIGHT)
    grad[2], grad[5] = 2, 1
    m, v = 0.2 * grad, 0.1 * grad**2
    update = 0.1 * np.sqrt(0.1) / 0.2 * m / (np.sqrt(v) + 1e-3)
    np.testing.assert_allclose(weight.detach().numpy(), WEIGHT - update)


def test_sparse_adam_state_dict_matches_torch():
    torch = pytest.importorskip("torch")
    _, ours = _train(tinytorch, "SparseAdam", dict(lr=0.1))
    _, theirs = _train(torch, "SparseAdam", dict(lr=0.1))
    our_state, torch_state = ours.state_dict(), theirs.state_dict()
    assert our_state["param_groups"] == torch_state["param_groups"]
    assert our_state["state"][0]["step"] == torch_state["state"][0]["step"] == len(BATCHES)
    for key in ("exp_avg", "exp_avg_sq"):
        np.testing.assert_allclose(our_state["state"][0][key].numpy(), torch_state["state"][0][key].numpy(), rtol=1e-10)


def test_sparse_adam_skips_an_empty_gradient_but_counts_the_step():
    ours, optimizer = _train(tinytorch, "SparseAdam", dict(lr=0.1), padding_idx=0, batches=[[[0, 0]], [[0]]])
    np.testing.assert_array_equal(ours, WEIGHT)
    assert optimizer.state[optimizer.param_groups[0]["params"][0]]["step"] == 2


def _construction_error(lib, **kwargs):
    params = kwargs.pop("params", None) or [lib.zeros(2, 2, requires_grad=True)]
    with pytest.raises(ValueError) as info:
        lib.optim.SparseAdam(params, **kwargs)
    return str(info.value)


@pytest.mark.parametrize("kwargs", [dict(lr=0.0), dict(lr=-1.0), dict(eps=0.0), dict(betas=(1.0, 0.9)), dict(betas=(0.9, -0.1))])
def test_sparse_adam_argument_errors_match_torch(kwargs):
    torch = pytest.importorskip("torch")
    assert _construction_error(tinytorch, **kwargs) == _construction_error(torch, **kwargs)


def test_sparse_adam_refuses_sparse_params():
    dense = tinytorch.zeros(2, requires_grad=True)
    sparse = tinytorch.sparse_coo_tensor([[0]], [1.0], (2,)).requires_grad_()
    message = _construction_error(tinytorch, params=[dense, sparse])
    assert message == "Sparse params at indices [[0, 1]]: SparseAdam requires dense parameter tensors"
    message = _construction_error(tinytorch, params=[{"params": [dense]}, {"params": [sparse]}])
    assert message == "Sparse params at indices [[1, 0]]: SparseAdam requires dense parameter tensors"


def test_sparse_adam_refuses_dense_gradients():
    weight = tinytorch.tensor(WEIGHT, requires_grad=True)
    optimizer = optim.SparseAdam([weight])
    (weight * 2).sum().backward()
    with pytest.raises(RuntimeError, match="^SparseAdam does not support dense gradients, please consider Adam instead$"):
        optimizer.step()
    np.testing.assert_array_equal(weight.detach().numpy(), WEIGHT)


def test_sparse_adam_namespace_and_defaults():
    assert "SparseAdam" in optim.__all__
    group = optim.SparseAdam([tinytorch.zeros(1, requires_grad=True)]).param_groups[0]
    assert {k: v for k, v in group.items() if k != "params"} == dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False)


# -- the other optimizers ---------------------------------------------------------------------------
REFUSED = [
    ("Adam", "Adam does not support sparse gradients, please consider SparseAdam instead"),
    ("AdamW", "Adam does not support sparse gradients, please consider SparseAdam instead"),
    ("Adamax", "Adamax does not support sparse gradients"),
    ("NAdam", "NAdam does not support sparse gradients"),
    ("RAdam", "RAdam does not support sparse gradients"),
    ("RMSprop", "RMSprop does not support sparse gradients"),
    ("Rprop", "Rprop does not support sparse gradients"),
    ("ASGD", "ASGD does not support sparse gradients"),
    ("Adadelta", "Adadelta does not support sparse gradients"),
    ("Adafactor", "Adafactor does not support sparse gradients"),
]


def _step_error(lib, name, kwargs):
    with pytest.raises(RuntimeError) as info:
        _train(lib, name, kwargs, batches=BATCHES[:1])
    return str(info.value)


@pytest.mark.parametrize("name,message", REFUSED)
def test_dense_only_optimizers_refuse_sparse_gradients(name, message):
    assert _step_error(tinytorch, name, {}) == message


@pytest.mark.parametrize("name,kwargs,message", [
    ("SGD", dict(lr=0.1, weight_decay=0.1), "add(sparse, dense) is not supported. Use add(dense, sparse) instead."),
    ("SGD", dict(lr=0.1, fused=True), "`_fused_sgd` does not support sparse gradients"),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1), "weight_decay option is not compatible with sparse gradients"),
    ("Adagrad", dict(lr=0.1, fused=True), "`fused` does not support sparse grad or complex param"),
])
def test_sparse_gradient_option_errors(name, kwargs, message):
    assert _step_error(tinytorch, name, kwargs) == message


@pytest.mark.parametrize("name,kwargs", [("Adam", {}), ("Rprop", {}), ("SGD", dict(lr=0.1, weight_decay=0.1)),
                                         ("Adagrad", dict(lr=0.1, weight_decay=0.1))])
def test_refusals_match_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    assert _step_error(tinytorch, name, kwargs) == _step_error(torch, name, kwargs)


def test_lbfgs_takes_a_sparse_gradient_as_dense():
    torch = pytest.importorskip("torch")
    results = []
    for lib in (tinytorch, torch):
        weight = lib.tensor(WEIGHT, requires_grad=True)
        optimizer = lib.optim.LBFGS([weight], max_iter=5)

        def closure(lib=lib, weight=weight, optimizer=optimizer):
            optimizer.zero_grad()
            loss = (lib.nn.functional.embedding(lib.tensor([0, 2, 0, 4]), weight, sparse=True) ** 2).sum()
            loss.backward()
            return loss

        optimizer.step(closure)
        results.append(weight.detach().numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6, atol=1e-9)
