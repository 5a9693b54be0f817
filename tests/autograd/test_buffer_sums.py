"""The engine adds the gradients that reach one input (a weight used at every step of a sequence,
a tensor read by several ops) as arrays, into a sum only it holds (``_engine._add_to_buffer``):
the same values as adding them with tensor ops, in the same order; with ``create_graph`` the sums
stay tensor ops, differentiable again."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinytorch
from tinytorch.autograd import _engine


def _grads(uses, seed, create_graph=False):
    """x used ``uses`` times (each use scaled by a different weight and passed through tanh)."""
    rng = np.random.default_rng(seed)
    values = rng.standard_normal((5, 7)).astype(np.float32)
    weights = rng.standard_normal(uses).astype(np.float32)
    x = tinytorch.tensor(values, requires_grad=True)
    loss = sum((x * float(w)).tanh().sum() for w in weights)
    (grad,) = tinytorch.autograd.grad(loss, [x], create_graph=create_graph)
    return x, grad


@settings(max_examples=20, deadline=None)
@given(uses=st.integers(2, 40), seed=st.integers(0, 2**32 - 1))
def test_array_sums_equal_tensor_op_sums(uses, seed):
    ours = _grads(uses, seed)[1].numpy()
    with pytest.MonkeyPatch.context() as patch:  # every sum as a tensor op, as before
        real = _engine._add_to_buffer
        patch.setattr(_engine, "_add_to_buffer", lambda buffers, node, nr, grad, summed=None: real(buffers, node, nr, grad, None))
        reference = _grads(uses, seed)[1].numpy()
    np.testing.assert_array_equal(ours, reference)


def test_a_gradient_someone_else_holds_is_never_written_into():
    seen = []
    x = tinytorch.ones(4, requires_grad=True)
    a = x * 1.0
    s = a + a + a  # add's backward hands the same gradient object to both its inputs
    s.register_hook(lambda g: seen.append(g))  # the hook keeps the gradient of s
    s.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0] * 4)
    np.testing.assert_array_equal(seen[0].numpy(), [1.0] * 4)  # not the sum built from it


def test_leaf_gradients_from_many_uses_accumulate_over_steps():
    w = tinytorch.ones(3, requires_grad=True)
    for _ in range(2):
        sum((w * float(k)).sum() for k in range(1, 6)).backward()
    np.testing.assert_array_equal(w.grad.numpy(), [30.0] * 3)  # 2 x (1 + 2 + 3 + 4 + 5)


def test_create_graph_sums_stay_differentiable():
    x, grad = _grads(5, 0, create_graph=True)
    assert grad.requires_grad
    (second,) = tinytorch.autograd.grad(grad.sum(), [x])
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    values = rng.standard_normal((5, 7)).astype(np.float32)
    weights = rng.standard_normal(5).astype(np.float32)
    t = torch.tensor(values, requires_grad=True)
    (g,) = torch.autograd.grad(sum((t * float(w)).tanh().sum() for w in weights), [t], create_graph=True)
    (expected,) = torch.autograd.grad(g.sum(), [t])
    np.testing.assert_allclose(second.numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)


def test_an_lstm_weights_gradient_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x = rng.standard_normal((12, 3, 8)).astype(np.float32)
    ours, theirs = tinytorch.nn.LSTM(8, 6), torch.nn.LSTM(8, 6)
    with torch.no_grad():
        for name, p in theirs.named_parameters():
            getattr(ours, name).data.copy_(tinytorch.tensor(p.numpy()))
    ours(tinytorch.tensor(x))[0].sum().backward()
    theirs(torch.tensor(x))[0].sum().backward()
    np.testing.assert_allclose(ours.weight_hh_l0.grad.numpy(), theirs.weight_hh_l0.grad.numpy(), rtol=1e-4, atol=1e-5)
