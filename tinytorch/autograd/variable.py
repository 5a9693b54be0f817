"""``Variable``: PyTorch's deprecated tensor wrapper. Calling it gives a plain tensor (the data
detached), and every tensor is an instance of it, as in PyTorch (``VariableMeta``)."""

import warnings

__all__ = ["VariableMeta", "Variable"]


class VariableMeta(type):
    """Makes ``isinstance(tensor, Variable)`` True for every tensor."""

    def __instancecheck__(cls, other):
        return isinstance(other, _tensor.Tensor)


class Variable(metaclass=VariableMeta):
    """Deprecated: ``Variable(tensor, requires_grad=False)`` returns ``tensor.detach()`` (same
    memory) with ``requires_grad`` set; with no data, an empty tensor of the default dtype."""

    def __new__(cls, data=None, requires_grad=False, volatile=False, _grad_fn=None, name=None):
        if volatile:
            warnings.warn("volatile was removed and now has no effect. Use `with tinytorch.no_grad():` instead.", UserWarning, stacklevel=2)
            if requires_grad:
                raise ValueError("Variable can't be volatile and require_grad at the same time!")
        if _grad_fn is not None:
            if not isinstance(_grad_fn, function.Node):
                raise TypeError(f"_grad_fn has to be a Function object or None, but got {type(_grad_fn).__name__}")
            raise RuntimeError(
                "_grad_fn argument to legacy Variable constructor is no longer supported.  Instead, please "
                "invoke your _grad_fn to produce a variable with it as the _grad_fn."
            )
        if data is None:
            from .._creation import empty  # at call time: _creation needs Tensor, defined after autograd

            var = empty(0)
        elif isinstance(data, _tensor.Tensor):
            var = data.detach()
        else:
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        if requires_grad:
            var.requires_grad_(True)
        return var


# Imported last: tinytorch.autograd is imported while _tensor is still being defined.
from .. import _tensor as _tensor  # noqa: E402
from . import function as function  # noqa: E402
