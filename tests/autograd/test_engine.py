"""Semantics of backward(): accumulation, retain_graph, freed graphs, create_graph, inputs, deep graphs."""

import gc

import numpy as np
import pytest

import tinytorch
from tinytorch.autograd.function import Node


def test_gradients_accumulate_into_leaves_across_backward_calls():
    x = tinytorch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 7.0, 9.0])


def test_a_leaf_used_twice_gets_the_sum_of_both_paths():
    x = tinytorch.tensor(2.0, requires_grad=True)
    y = x * x + x.exp() + x
    y.backward()
    assert x.grad.item() == pytest.approx(2 * 2.0 + np.exp(2.0) + 1)


def test_non_scalar_backward_without_gradient_raises():
    x = tinytorch.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        (x * 2).backward()


def test_non_scalar_backward_with_gradient_is_a_vector_jacobian_product():
    x = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    g = tinytorch.tensor([10.0, 100.0])
    (x * x).backward(g)
    np.testing.assert_allclose(x.grad.numpy(), [20.0, 400.0])
    np.testing.assert_allclose(g.numpy(), [10.0, 100.0])  # the caller's gradient is not written to


def test_gradient_of_wrong_shape_is_rejected():
    x = tinytorch.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * 2).backward(tinytorch.ones(4))


def test_second_backward_through_freed_graph_raises():
    x = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])


def test_backward_releases_the_arrays_a_built_in_op_kept_beside_its_saved_tensors():
    # Cross-entropy keeps its softmax on the ctx; PyTorch frees saved values at backward, so
    # they must not live on with the graph until the next step replaces it.
    logits = tinytorch.randn(4, 3, requires_grad=True)
    loss = tinytorch.nn.functional.cross_entropy(logits, tinytorch.tensor([0, 2, 1, 0]))
    node = loss.grad_fn
    assert hasattr(node, "probs")
    loss.backward()
    assert not hasattr(node, "probs") and not hasattr(node, "log_normalizer")
    assert node.dim == 1 and node.reduction == "mean"  # plain values stay
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()


def test_retain_graph_keeps_a_built_in_ops_arrays_for_a_second_backward():
    logits = tinytorch.randn(4, 3, requires_grad=True)
    loss = tinytorch.nn.functional.cross_entropy(logits, tinytorch.tensor([0, 2, 1, 0]))
    loss.backward(retain_graph=True)
    first = logits.grad.clone()
    loss.backward()
    np.testing.assert_allclose(logits.grad.numpy(), 2 * first.numpy(), rtol=1e-6)


def test_a_user_function_keeps_its_ctx_attributes_after_backward():
    class Scale(tinytorch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.factor = np.array(3.0, dtype=np.float32)
            return x * 3

        @staticmethod
        def backward(ctx, grad):
            return grad * float(ctx.factor)

    x = tinytorch.ones(2, requires_grad=True)
    y = Scale.apply(x).sum()
    node = y.grad_fn.next_functions[0][0]
    y.backward()
    assert float(node.factor) == 3.0
    y.backward()  # it saved no tensors: PyTorch lets this run again, and so do we
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 6.0])


def test_backward_on_tensor_that_does_not_require_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        tinytorch.ones(2).sum().backward()


def test_deep_chain_of_100000_ops_backpropagates_without_recursion():
    x = tinytorch.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0


def test_create_graph_gives_second_derivatives():
    x = tinytorch.tensor(3.0, requires_grad=True)
    y = x**3
    (dy,) = tinytorch.autograd.grad(y, x, create_graph=True)
    assert dy.item() == pytest.approx(27.0)
    (d2y,) = tinytorch.autograd.grad(dy, x)
    assert d2y.item() == pytest.approx(18.0)


def test_backward_with_create_graph_makes_grad_differentiable():
    x = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    (x.sin() * x).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    grad = x.grad
    x.grad = None
    grad.sum().backward()
    expected = 2 * np.cos([1.0, 2.0]) - np.array([1.0, 2.0]) * np.sin([1.0, 2.0])
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-6)


def test_autograd_grad_does_not_touch_dot_grad():
    x = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    w = tinytorch.tensor([3.0, 4.0], requires_grad=True)
    (gx,) = tinytorch.autograd.grad((x * w).sum(), x)
    np.testing.assert_allclose(gx.numpy(), [3.0, 4.0])
    assert x.grad is None and w.grad is None


def test_autograd_grad_unused_input():
    x = tinytorch.tensor(1.0, requires_grad=True)
    z = tinytorch.tensor(1.0, requires_grad=True)
    with pytest.raises(RuntimeError, match="appears to not have been used"):
        tinytorch.autograd.grad(x * 2, [x, z])
    gx, gz = tinytorch.autograd.grad(x * 2, [x, z], allow_unused=True)
    assert gx.item() == 2.0 and gz is None
    gx, gz = tinytorch.autograd.grad(x * 2, [x, z], materialize_grads=True)
    assert gz.item() == 0.0


def test_autograd_grad_with_respect_to_an_intermediate():
    x = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    y = (h * h).sum()
    (gh,) = tinytorch.autograd.grad(y, h)
    np.testing.assert_allclose(gh.numpy(), [6.0, 12.0])


def test_backward_inputs_only_accumulates_into_those():
    x = tinytorch.tensor(1.0, requires_grad=True)
    w = tinytorch.tensor(2.0, requires_grad=True)
    (x * w).backward(inputs=[w])
    assert x.grad is None and w.grad.item() == 1.0


def test_broadcast_gradients_are_summed_to_the_input_shape():
    x = tinytorch.ones(3, 1, requires_grad=True)
    b = tinytorch.ones(4, requires_grad=True)
    (x * b).sum().backward()
    assert x.grad.shape == (3, 1) and b.grad.shape == (4,)
    np.testing.assert_allclose(x.grad.numpy(), np.full((3, 1), 4.0))
    np.testing.assert_allclose(b.grad.numpy(), np.full(4, 3.0))


def test_mixed_dtypes_give_each_leaf_a_gradient_of_its_own_dtype():
    a = tinytorch.ones(2, dtype=tinytorch.float32, requires_grad=True)
    b = tinytorch.ones(2, dtype=tinytorch.float64, requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.dtype == tinytorch.float32 and b.grad.dtype == tinytorch.float64


def test_graph_is_freed_and_no_nodes_survive_a_step():
    w = tinytorch.randn(20, 10, requires_grad=True)
    x = tinytorch.randn(8, 10)
    for _ in range(3):
        loss = (x @ w.T).relu().log_softmax(1).mean()
        loss.backward()
        del loss
    gc.collect()
    assert not [o for o in gc.get_objects() if isinstance(o, Node)]


def test_grad_is_a_writable_contiguous_array_even_after_expand():
    x = tinytorch.ones(3, requires_grad=True)
    x.expand(4, 3).sum().backward()
    x.grad.mul_(2)  # an optimizer or clip_grad_norm_ writes .grad in place
    np.testing.assert_allclose(x.grad.numpy(), [8.0, 8.0, 8.0])


def test_leaves_never_share_gradient_memory():
    """Add's backward passes one gradient to both inputs; each leaf must still own its .grad."""
    a = tinytorch.ones(3, requires_grad=True)
    b = tinytorch.ones(3, requires_grad=True)
    ((a + b) * 2).sum().backward()
    a.grad.mul_(10)
    np.testing.assert_allclose(b.grad.numpy(), [2.0, 2.0, 2.0])
    ((a + b) * 2).sum().backward()  # accumulation in place must not leak either
    np.testing.assert_allclose(a.grad.numpy(), [22.0, 22.0, 22.0])
    np.testing.assert_allclose(b.grad.numpy(), [4.0, 4.0, 4.0])


def test_max_and_min_along_a_dim_are_one_node_each_with_the_gradient_at_the_chosen_index():
    x = tinytorch.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]], requires_grad=True)
    values, indices = x.max(1)
    low = x.min(dim=0, keepdim=True)
    assert values.grad_fn.name() == "MaxBackward0" and low.values.grad_fn.name() == "MinBackward0"
    assert indices.grad_fn is None and indices.dtype == tinytorch.int64
    np.testing.assert_array_equal(indices.numpy(), [1, 0])  # ties: the first extreme, as argmax
    (values.sum() + 10 * low.values.sum()).backward()
    # max along dim 1 picks (0, 1) and (1, 0); min along dim 0 picks (0, 0), (1, 1) and (1, 2).
    np.testing.assert_array_equal(x.grad.numpy(), [[10.0, 1.0, 0.0], [1.0, 10.0, 10.0]])


def test_the_order_of_nodes_follows_creation_for_a_root_that_feeds_another_root():
    # Two roots, one upstream of the other: each node still runs once, after all its consumers.
    x = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    a = x * 3
    b = (a * a).sum()
    tinytorch.autograd.backward([b, a], [tinytorch.tensor(1.0), tinytorch.ones(2)])
    np.testing.assert_allclose(x.grad.numpy(), 18 * x.detach().numpy() + 3)  # d(9 sum x^2) + d(3x)


def test_gradgradcheck_seeds_on_the_outputs_device(device):
    from tinytorch.autograd import gradcheck, gradgradcheck

    x = tinytorch.tensor([0.3, -1.2, 2.0], dtype=tinytorch.float64, device=device, requires_grad=True)
    assert gradcheck(lambda x: (x * x).sin(), (x,))
    assert gradgradcheck(lambda x: (x * x).sin(), (x,))


def test_grad_with_respect_to_an_intermediate_leaves_the_graph_below_it():
    """``autograd.grad(y, h)`` stops at h, as PyTorch's: h's own backward does not run, so the graph
    below h is not freed and a later backward through h works."""
    torch = pytest.importorskip("torch")
    results = []
    for lib in (torch, tinytorch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        h = (x * 3).exp()
        (g,) = lib.autograd.grad((h * 2).sum(), h)
        h.sum().backward()
        results.append((g.tolist(), x.grad.tolist()))
    assert results[1][0] == results[0][0]
    assert np.allclose(results[1][1], results[0][1], rtol=1e-6)
