"""Shared by the nn tests: moving values between tinytorch and torch, and comparing them."""

import re

import numpy as np

import tinytorch


def ours(array, requires_grad=False, dtype=None):
    """A tinytorch tensor holding a copy of ``array``."""
    array = np.array(array, dtype=dtype or np.asarray(array).dtype)
    return tinytorch.tensor(array, requires_grad=requires_grad)


def theirs(torch, array, requires_grad=False, dtype=None):
    """A torch tensor holding a copy of ``array``."""
    array = np.array(array, dtype=dtype or np.asarray(array).dtype)
    return torch.tensor(array, requires_grad=requires_grad)


def numpy_of(tensor):
    """The values of a tinytorch or torch tensor as a NumPy array."""
    return np.asarray(tensor.detach().cpu().numpy())


def assert_close(actual, expected, atol=1e-6, rtol=1e-5):
    np.testing.assert_allclose(numpy_of(actual), numpy_of(expected), atol=atol, rtol=rtol)


def copy_module(torch_module, module):
    """Load a torch module's parameters and buffers into the tinytorch module of the same layout."""
    state = {name: tinytorch.tensor(value.detach().numpy().copy()) for name, value in torch_module.state_dict().items()}
    module.load_state_dict(state)
    return module


def normalized(text):
    """Library-neutral text: 'torch.' and 'tinytorch.' prefixes become one spelling."""
    return re.sub(r"\btinytorch\b", "torch", str(text))


def raised(call):
    """(exception type name, normalized message) of what ``call()`` raises."""
    try:
        call()
    except Exception as error:  # the point is to capture any error
        return type(error).__name__, normalized(error)
    raise AssertionError("expected an exception, none was raised")


def assert_same_error(our_call, torch_call):
    """Both calls raise an exception of the same type with the same message (modulo the library name)."""
    assert raised(our_call) == raised(torch_call)


def assert_same_error_in_both(torch, call, *args):
    """``call(lib, *args)`` raises the same exception with tinytorch as with torch."""
    assert raised(lambda: call(tinytorch, *args)) == raised(lambda: call(torch, *args))
