"""Grad modes, detach/requires_grad, graph inspection, hooks, retain_grad."""

import numpy as np
import pytest

import tinytorch


def test_no_grad_context_and_decorator():
    x = tinytorch.ones(2, requires_grad=True)
    with tinytorch.no_grad():
        assert not (x * 2).requires_grad
        assert not tinytorch.is_grad_enabled()
    assert tinytorch.is_grad_enabled()

    @tinytorch.no_grad()
    def f(t):
        return t * 2

    @tinytorch.no_grad
    def g(t):
        return t * 2

    assert not f(x).requires_grad and not g(x).requires_grad
    assert (x * 2).requires_grad


def test_enable_grad_inside_no_grad():
    x = tinytorch.ones(2, requires_grad=True)
    with tinytorch.no_grad():
        with tinytorch.enable_grad():
            assert (x * 2).requires_grad
        assert not (x * 2).requires_grad


def test_set_grad_enabled_as_function_context_and_decorator():
    x = tinytorch.ones(2, requires_grad=True)
    with tinytorch.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert tinytorch.is_grad_enabled()
    tinytorch.set_grad_enabled(False)
    assert not tinytorch.is_grad_enabled()
    tinytorch.set_grad_enabled(True)

    @tinytorch.set_grad_enabled(False)
    def f(t):
        return t * 2

    assert tinytorch.is_grad_enabled()
    assert not f(x).requires_grad


def test_inference_mode():
    x = tinytorch.ones(2, requires_grad=True)
    with tinytorch.inference_mode():
        assert not (x * 2).requires_grad
        assert tinytorch.is_inference_mode_enabled()
    assert not tinytorch.is_inference_mode_enabled()


def test_detach_shares_memory_and_version():
    x = tinytorch.ones(3, requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None
    d[0] = 5.0
    assert y[0].item() == 5.0


def test_detach_in_place():
    y = tinytorch.ones(2, requires_grad=True) * 2
    y.detach_()
    assert y.grad_fn is None and not y.requires_grad


def test_requires_grad_rules():
    with pytest.raises(RuntimeError, match="Only Tensors of floating point"):
        tinytorch.tensor([1, 2], requires_grad=True)
    x = tinytorch.ones(2).requires_grad_()
    assert x.requires_grad and x.is_leaf
    y = x * 2
    assert not y.is_leaf
    with pytest.raises(RuntimeError, match="leaf variables"):
        y.requires_grad = False


def test_grad_fn_names_and_next_functions():
    x = tinytorch.ones(2, requires_grad=True)
    y = (x + 1) * 2
    assert y.grad_fn.name() == "MulBackward0"
    (add_node, _), (none_node, _) = y.grad_fn.next_functions
    assert add_node.name() == "AddBackward0" and none_node is None
    accumulate, _ = add_node.next_functions[0]
    assert accumulate.name() == "AccumulateGrad" and accumulate.variable is x
    assert "grad_fn=<MulBackward0>" in repr(y)


def test_hook_on_leaf_and_non_leaf_can_replace_the_gradient():
    x = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()))
    y = x * 3
    handle = y.register_hook(lambda g: g * 10)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [30.0, 30.0])
    np.testing.assert_allclose(seen[0], [30.0, 30.0])
    handle.remove()
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


@pytest.mark.parametrize("lib_name", ["tinytorch", "torch"])
def test_a_leafs_accumulate_grad_node_takes_removable_pre_hooks(lib_name):
    """The leaf's AccumulateGrad node runs its pre-hooks after the tensor's hooks, as PyTorch's."""
    lib = pytest.importorskip(lib_name)
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.tolist()))
    node = (x * 3).grad_fn.next_functions[0][0]
    assert type(node).__name__ == "AccumulateGrad"
    handle = node.register_prehook(lambda grads: (grads[0] * 2,))
    (x * 3).sum().backward()
    assert x.grad.tolist() == [6.0, 6.0] and seen == [[3.0, 3.0]]
    handle.remove()
    x.grad = None
    (x * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def _doubling_hook(calls):
    return lambda g: (calls.append(g.tolist()), g * 2)[1]


@pytest.mark.parametrize("lib_name", ["tinytorch", "torch"])
def test_tensor_hooks_run_before_a_gradient_is_captured(lib_name):
    """autograd.grad and backward(inputs=) hand back what a target's hooks made of its gradient
    (PyTorch runs the tensor's hooks before the capture at a node that does not run; at one that
    runs, since a later target needs it, the capture comes first)."""
    lib = pytest.importorskip(lib_name)
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    h, calls = x * 3, []
    h.register_hook(_doubling_hook(calls))
    assert lib.autograd.grad((h * h).sum(), h)[0].tolist() == [12.0, 24.0] and calls == [[6.0, 12.0]]
    leaf, calls = lib.tensor([1.0, 2.0], requires_grad=True), []
    leaf.register_hook(_doubling_hook(calls))
    assert lib.autograd.grad((leaf * leaf).sum(), leaf)[0].tolist() == [4.0, 8.0] and calls == [[2.0, 4.0]]
    h, calls = x * 3, []
    h.register_hook(_doubling_hook(calls))
    (h * h).sum().backward(inputs=[h])
    assert h.grad.tolist() == [12.0, 24.0] and calls == [[6.0, 12.0]] and h.retains_grad and x.grad is None
    h, calls = x * 3, []
    h.register_hook(_doubling_hook(calls))
    grad_h, grad_x = lib.autograd.grad((h * h).sum(), [h, x])
    assert grad_h.tolist() == [6.0, 12.0] and grad_x.tolist() == [36.0, 72.0] and calls == [[6.0, 12.0]]
    h, calls = x * 3, []  # a node's own pre-hook runs only when the node runs
    h.grad_fn.register_prehook(lambda grads: (calls.append(1), (grads[0] * 2,))[1])
    assert lib.autograd.grad((h * h).sum(), h)[0].tolist() == [6.0, 12.0] and calls == []


@pytest.mark.parametrize("lib_name", ["tinytorch", "torch"])
def test_tensor_hooks_run_before_node_pre_hooks_and_retain_grad_last(lib_name):
    lib = pytest.importorskip(lib_name)
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    h, order = x * 3, []
    h.grad_fn.register_prehook(lambda grads: order.append("node"))
    h.register_hook(lambda g: order.append("tensor"))
    (h * h).sum().backward()
    assert order == ["tensor", "node"]
    for retain_first in (True, False):
        h = x * 3
        if retain_first:
            h.retain_grad()
        h.register_hook(lambda g: g * 2)
        if not retain_first:
            h.retain_grad()
        x.grad = None
        (h * h).sum().backward()
        assert h.grad.tolist() == [12.0, 24.0] and x.grad.tolist() == [36.0, 72.0]


@pytest.mark.parametrize("lib_name", ["tinytorch", "torch"])
def test_backward_with_inputs_runs_and_frees_the_inputs_node(lib_name):
    """backward(inputs=[h]) runs h's own node (PyTorch marks it needed), so its saved values are
    freed; autograd.grad stops before it and a later backward through h still works."""
    lib = pytest.importorskip(lib_name)
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    h = x * x
    (h * h).sum().backward(inputs=[h])
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        h.sum().backward()
    h = x * x
    lib.autograd.grad((h * h).sum(), h)
    h.sum().backward()
    assert x.grad.tolist() == [2.0, 4.0]


def test_every_hook_handle_is_one_class():
    x = tinytorch.ones(2, requires_grad=True)
    handles = [
        x.register_hook(lambda g: None),
        x.register_post_accumulate_grad_hook(lambda t: None),
        (x * 2).grad_fn.register_prehook(lambda grads: None),
        tinytorch.nn.Linear(2, 2).register_forward_hook(lambda *args: None),
    ]
    assert {type(h) for h in handles} == {tinytorch.nn.modules.module.RemovableHandle}
    assert len({h.id for h in handles}) == len(handles)


def test_retain_grad_keeps_a_non_leaf_gradient():
    x = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h.retain_grad()
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), [4.0, 8.0])
    assert h.retains_grad


def test_non_leaf_grad_is_none_without_retain_grad():
    x = tinytorch.ones(2, requires_grad=True)
    h = x * 2
    h.sum().backward()
    assert h.grad is None


def test_post_accumulate_grad_hook():
    x = tinytorch.ones(2, requires_grad=True)
    calls = []
    x.register_post_accumulate_grad_hook(lambda t: calls.append(t.grad.sum().item()))
    (x * 4).sum().backward()
    assert calls == [8.0]
