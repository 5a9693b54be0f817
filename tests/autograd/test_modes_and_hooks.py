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
