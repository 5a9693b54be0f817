"""In-place rules and the version counter; custom autograd.Function; gradcheck; detect_anomaly."""

import numpy as np
import pytest

import tinytorch
from tinytorch.autograd import Function


def test_in_place_on_a_leaf_that_requires_grad_raises():
    w = tinytorch.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad is being used in an in-place operation"):
        w.add_(1)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        w[0] = 2.0
    np.testing.assert_array_equal(w.detach().numpy(), [1.0, 1.0, 1.0])


def test_in_place_on_a_leaf_is_allowed_under_no_grad():
    w = tinytorch.ones(3, requires_grad=True)
    with tinytorch.no_grad():
        w.mul_(2).add_(1)
        w[0] = 0.0
    np.testing.assert_array_equal(w.detach().numpy(), [0.0, 3.0, 3.0])
    assert w._version_number == 3


def test_modifying_a_saved_tensor_makes_backward_raise():
    x = tinytorch.ones(3, requires_grad=True)
    y = x * 2
    z = y.sigmoid()  # saves its output
    w = (y * y).sum()  # saves y
    z.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()
    y.add_(1)
    with pytest.raises(RuntimeError, match="is at version 1; expected version 0"):
        w.backward()


def test_modifying_a_view_bumps_the_base_version():
    x = tinytorch.ones(2, 3, requires_grad=True)
    y = x * 1
    z = y.exp()  # saves its output z
    with tinytorch.no_grad():
        z.view(-1)[0] = 5.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_in_place_on_a_non_leaf_is_differentiable():
    x = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    y.mul_(x)
    y.add_(3)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])
    assert y.grad_fn.name() == "AddBackward0"


def test_setitem_records_the_graph():
    x = tinytorch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = tinytorch.tensor(10.0, requires_grad=True)
    y = x * 2
    y[1] = v * 3
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 0.0, 2.0])
    assert v.grad.item() == 3.0


def test_in_place_dtype_rule():
    x = tinytorch.tensor([1, 2])
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
        x.add_(0.5)


class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * 3 * x * x


class ScaleBy(Function):
    @staticmethod
    def forward(ctx, x, factor):
        ctx.factor = factor
        assert ctx.needs_input_grad == (True, False)
        return x * factor

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.factor, None


def test_custom_function_forward_backward_and_name():
    x = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    y = Cube.apply(x)
    assert y.grad_fn.name() == "CubeBackward"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 12.0])
    z = ScaleBy.apply(x, 5.0)
    assert z.requires_grad


class Halve(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.factor = 0.5  # read back in forward: the ctx must keep what forward puts on it
        return x * ctx.factor

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.factor


class KeepOnCtx(Function):
    @staticmethod
    def forward(ctx, x, thing):
        ctx.thing = thing
        return x * 1

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, None


def test_a_forward_outside_the_graph_gets_its_own_ctx_and_keeps_nothing_alive():
    import weakref

    x = tinytorch.tensor([2.0, 4.0])  # no grad needed: nothing is recorded
    np.testing.assert_allclose(Halve.apply(x).numpy(), [1.0, 2.0])

    class Thing:
        pass

    thing = Thing()
    ref = weakref.ref(thing)
    KeepOnCtx.apply(x, thing)
    del thing
    assert ref() is None


def test_custom_function_second_derivative_and_gradcheck():
    x = tinytorch.tensor([0.5, -1.5], dtype=tinytorch.float64, requires_grad=True)
    assert tinytorch.autograd.gradcheck(Cube.apply, (x,))
    assert tinytorch.autograd.gradgradcheck(Cube.apply, (x,))


def test_gradcheck_catches_a_wrong_backward():
    class Wrong(Function):
        @staticmethod
        def forward(ctx, x):
            return x * x

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output  # should be 2x * grad_output

    x = tinytorch.tensor([0.5, 1.5], dtype=tinytorch.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        tinytorch.autograd.gradcheck(Wrong.apply, (x,))
    assert not tinytorch.autograd.gradcheck(Wrong.apply, (x,), raise_exception=False)


def test_detect_anomaly_names_the_forward_op():
    x = tinytorch.tensor([0.0, 1.0], requires_grad=True)
    with tinytorch.autograd.detect_anomaly():
        y = x.sqrt()  # d sqrt / dx at 0 is inf
        with pytest.raises(RuntimeError, match="SqrtBackward0") as info:
            y.sum().backward()
    assert "x.sqrt()" in str(info.value)  # the user's source line that built the op


def test_saved_tensors_after_free_raise():
    x = tinytorch.ones(2, requires_grad=True)
    y = x.exp()
    y.sum().backward()
    with pytest.raises(RuntimeError, match="freed"):
        _ = y.grad_fn.saved_tensors


def test_in_place_through_data_or_detach_is_allowed_and_versioned():
    """The old-style update `p.data.add_(...)` works on a leaf that requires grad, as in PyTorch."""
    w = tinytorch.ones(3, requires_grad=True)
    w.data.add_(1)
    w.detach().mul_(2)
    np.testing.assert_array_equal(w.detach().numpy(), [4.0, 4.0, 4.0])
    assert w._version_number == 2


def test_a_non_tensor_output_gets_no_materialized_gradient():
    """A Function returning (tensor, tensor, number): the unused tensor output's gradient is
    materialized as zeros and the number's is None, as PyTorch passes them to backward."""
    libraries = [tinytorch]
    try:
        import torch

        libraries.append(torch)
    except ImportError:
        pass
    seen = {}
    for lib in libraries:
        calls = seen[lib.__name__] = []

        class Split(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2, x * 3, 7

            @staticmethod
            def backward(ctx, first, second, number, calls=calls):
                calls.append((first.tolist(), second.tolist(), number))
                return first * 2 + second * 3

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        a, _, n = Split.apply(x)
        a.sum().backward()
        assert n == 7 and x.grad.tolist() == [2.0, 2.0]
    assert seen["tinytorch"] == [([1.0, 1.0], [0.0, 0.0], None)]
    assert seen.get("torch", seen["tinytorch"]) == seen["tinytorch"]
