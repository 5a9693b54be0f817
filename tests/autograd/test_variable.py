"""The deprecated ``autograd.Variable`` / ``variable`` and the engine switches, against PyTorch."""

import warnings

import numpy as np
import pytest

import tinytorch
from tinytorch.autograd import Variable


def test_variable_returns_the_tensor_detached_sharing_memory_and_version():
    x = tinytorch.tensor([1.0, 2.0])
    v = Variable(x)
    assert type(v) is tinytorch.Tensor and v is not x
    assert not v.requires_grad and v.is_leaf and v._base is None
    x.add_(1)
    np.testing.assert_array_equal(v.numpy(), [2.0, 3.0])  # same memory
    assert v._version is x._version and x._version[0] == 1  # one counter, as detach shares it


def test_variable_of_a_graph_tensor_is_a_leaf_and_requires_grad_sets_the_flag():
    y = tinytorch.tensor([1.0, 2.0], requires_grad=True) * 2
    v = Variable(y)
    assert v.is_leaf and not v.requires_grad and v.grad_fn is None
    w = Variable(y, requires_grad=True)
    assert w.requires_grad and w.is_leaf
    (w * 3).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [3.0, 3.0])
    assert Variable(y, True).requires_grad  # positional, as PyTorch's constructor


def test_variable_without_data_is_an_empty_default_dtype_tensor():
    for v in (Variable(), Variable(None)):
        assert v.shape == (0,) and v.dtype == tinytorch.get_default_dtype()


def test_every_tensor_is_an_instance_of_variable():
    assert isinstance(tinytorch.ones(2), Variable)
    assert isinstance(tinytorch.nn.Parameter(tinytorch.ones(1)), Variable)
    assert not isinstance(3, Variable) and not isinstance(np.ones(2), Variable)
    assert Variable.__module__ == "tinytorch.autograd.variable"


def _raised(fn):
    try:
        fn()
    except Exception as error:  # noqa: BLE001 - the error itself is what is compared
        return type(error), str(error)
    return None


def _bad_calls(lib):
    V = lib.autograd.Variable
    return [
        lambda: V(5),
        lambda: V([1.0]),
        lambda: V(lib.tensor([1, 2]), requires_grad=True),
        lambda: V(lib.ones(1), _grad_fn=3),
        lambda: V(lib.ones(1), requires_grad=True, volatile=True),
        lambda: lib.autograd.variable(lib.ones(1)),
    ]


def test_bad_arguments_raise_as_pytorch():
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for ours, theirs in zip(_bad_calls(tinytorch), _bad_calls(torch)):
            expected = _raised(theirs)
            assert expected is not None
            kind, message = _raised(ours)
            assert kind is expected[0]
            assert message == expected[1].replace("torch.", "tinytorch.")


def test_bad_arguments_raise_without_torch():
    with pytest.raises(TypeError, match="Variable data has to be a tensor, but got int"):
        Variable(5)
    with pytest.raises(RuntimeError, match="deprecated, use tinytorch.tensor"):
        tinytorch.autograd.variable(1)


def test_volatile_warns_and_has_no_effect():
    with pytest.warns(UserWarning, match="volatile was removed and now has no effect"):
        v = Variable(tinytorch.ones(2), volatile=True)
    assert not v.requires_grad


@pytest.mark.parametrize("name, flag", [
    ("set_multithreading_enabled", "multithreading"), ("enforce_grad_layout_policy", "grad_layout_enforced"),
])
def test_engine_switches_work_as_function_context_and_decorator(name, flag):
    from tinytorch.autograd._engine_modes import state

    switch = getattr(tinytorch.autograd, name)
    assert getattr(state, flag) is True
    with switch(False):
        assert getattr(state, flag) is False
        x = tinytorch.ones(2, requires_grad=True)
        (x * 2).sum().backward()  # backward runs the same
        np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])
    assert getattr(state, flag) is True
    switch(False)
    assert getattr(state, flag) is False
    switch(True)
    assert getattr(state, flag) is True

    @switch(False)
    def inside():
        return getattr(state, flag)

    assert getattr(state, flag) is True  # decorating does not set it
    assert inside() is False and getattr(state, flag) is True
    assert switch(False).clone().mode is False
    switch(True)


def test_multithreading_state_is_readable_as_in_pytorch():
    torch = pytest.importorskip("torch")
    for lib in (tinytorch, torch):
        assert lib.autograd.is_multithreading_enabled() is True
        with lib.autograd.set_multithreading_enabled(False):
            assert lib.autograd.is_multithreading_enabled() is False
        assert lib.autograd.is_multithreading_enabled() is True
