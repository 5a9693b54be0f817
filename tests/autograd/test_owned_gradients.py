"""ReLU masks the gradient it is handed in place only when nothing else can see that array.

The engine hands a node "its own" gradient when one backward that declares its gradients fresh
(Linear's) produced it for that node alone, and no hook, capture (autograd.grad) or observer saw
it. Every case below is one where an in-place write would be visible if the rule were wrong.
"""

import numpy as np

import tinytorch
from tinytorch import nn



def _net(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((6, 5)).astype(np.float32)
    w1 = rng.standard_normal((4, 5)).astype(np.float32)
    w2 = rng.standard_normal((3, 4)).astype(np.float32)
    return x, w1, w2


def _expected(x, w1, w2, upstream):
    """h = x W1^T, y = relu(h), out = y W2^T; the gradients for a given d out."""
    h = x @ w1.T
    y = np.maximum(h, 0)
    grad_y = upstream @ w2
    grad_h = grad_y * (y > 0)
    return grad_y, grad_h, grad_h.T @ x, upstream.T @ y


def _forward(x, w1, w2):
    X = tinytorch.tensor(x)
    W1 = tinytorch.tensor(w1, requires_grad=True)
    W2 = tinytorch.tensor(w2, requires_grad=True)
    h = nn.functional.linear(X, W1)
    y = nn.functional.relu(h)
    return W1, W2, h, y, nn.functional.linear(y, W2)


def test_relu_between_linears_gets_the_same_gradients_as_the_formula():
    x, w1, w2 = _net()
    W1, W2, h, y, out = _forward(x, w1, w2)
    out.sum().backward()
    _, _, grad_w1, grad_w2 = _expected(x, w1, w2, np.ones((6, 3), np.float32))
    np.testing.assert_allclose(W1.grad.numpy(), grad_w1, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(W2.grad.numpy(), grad_w2, rtol=1e-5, atol=1e-5)


def test_a_hook_on_the_relu_output_keeps_the_unmasked_gradient():
    x, w1, w2 = _net(1)
    W1, W2, h, y, out = _forward(x, w1, w2)
    seen = []
    y.register_hook(lambda g: seen.append(g))
    out.sum().backward()
    grad_y, grad_h, grad_w1, _ = _expected(x, w1, w2, np.ones((6, 3), np.float32))
    assert (grad_h == 0).any() and not np.array_equal(grad_y, grad_h)  # the mask does change it
    np.testing.assert_allclose(seen[0].numpy(), grad_y, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(W1.grad.numpy(), grad_w1, rtol=1e-5, atol=1e-5)


def test_retain_grad_on_the_relu_output_keeps_the_unmasked_gradient():
    x, w1, w2 = _net(2)
    W1, W2, h, y, out = _forward(x, w1, w2)
    y.retain_grad()
    h.retain_grad()
    out.sum().backward()
    grad_y, grad_h, _, _ = _expected(x, w1, w2, np.ones((6, 3), np.float32))
    np.testing.assert_allclose(y.grad.numpy(), grad_y, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(h.grad.numpy(), grad_h, rtol=1e-5, atol=1e-5)


def test_autograd_grad_captures_the_unmasked_gradient_of_an_intermediate():
    x, w1, w2 = _net(3)
    W1, W2, h, y, out = _forward(x, w1, w2)
    grad_y, grad_w1 = tinytorch.autograd.grad(out.sum(), [y, W1])
    expected_y, _, expected_w1, _ = _expected(x, w1, w2, np.ones((6, 3), np.float32))
    np.testing.assert_allclose(grad_y.numpy(), expected_y, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(grad_w1.numpy(), expected_w1, rtol=1e-5, atol=1e-5)


def test_the_callers_gradient_is_never_written_to():
    x, w1, w2 = _net(4)
    W1, W2, h, y, out = _forward(x, w1, w2)
    upstream = tinytorch.tensor(np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32))
    before = upstream.numpy().copy()
    y.backward(upstream)
    np.testing.assert_array_equal(upstream.numpy(), before)


def test_a_relu_output_used_twice_gets_the_sum_of_both_gradients():
    x, w1, w2 = _net(5)
    W1, W2, h, y, out = _forward(x, w1, w2)
    out2 = nn.functional.linear(y, W2)
    (out.sum() + 2 * out2.sum()).backward()
    _, _, grad_w1, _ = _expected(x, w1, w2, np.full((6, 3), 3, np.float32))
    np.testing.assert_allclose(W1.grad.numpy(), grad_w1, rtol=1e-5, atol=1e-5)


def test_stacked_relus_mask_twice_and_retain_graph_runs_again_the_same():
    x, w1, w2 = _net(6)
    X = tinytorch.tensor(x)
    W1 = tinytorch.tensor(w1, requires_grad=True)
    W2 = tinytorch.tensor(w2, requires_grad=True)
    y = nn.functional.relu(nn.functional.relu(nn.functional.linear(X, W1)) - 0.5)
    loss = nn.functional.linear(y, W2).sum()
    loss.backward(retain_graph=True)
    first = W1.grad.numpy().copy()
    W1.grad = None
    loss.backward()
    h = x @ w1.T
    a = np.maximum(h, 0)
    grad_y = np.ones((6, 3), np.float32) @ w2 * (a - 0.5 > 0)
    expected = (grad_y * (a > 0)).T @ x
    np.testing.assert_allclose(first, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(W1.grad.numpy(), first)


def test_a_profiled_backward_gives_the_same_gradients():
    x, w1, w2 = _net(7)
    W1, W2, h, y, out = _forward(x, w1, w2)
    with tinytorch.profiler.profile():
        out.sum().backward()
    _, _, grad_w1, _ = _expected(x, w1, w2, np.ones((6, 3), np.float32))
    np.testing.assert_allclose(W1.grad.numpy(), grad_w1, rtol=1e-5, atol=1e-5)


def test_the_relu_takes_the_gradient_it_owns_in_place():
    """The saving itself: with a plain backward, ReLU hands on the very array Linear made."""
    x, w1, w2 = _net(8)
    W1, W2, h, y, out = _forward(x, w1, w2)
    arrays = []
    relu_node = y.grad_fn
    original = relu_node.function.backward

    def spy(ctx, grad_output):
        result = original(ctx, grad_output)
        arrays.append((grad_output._data, result._data))
        return result

    relu_node.function = type("SpiedRelu", (relu_node.function,), {"backward": staticmethod(spy)})
    out.sum().backward()
    incoming, outgoing = arrays[0]
    assert outgoing is incoming
