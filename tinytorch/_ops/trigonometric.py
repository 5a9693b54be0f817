"""The hyperbolic and inverse trigonometric functions: sinh, cosh, asin, acos, atan, asinh, acosh,
atanh (with their ``arc*`` aliases and the top-level in-place forms ``torch.asin_``...).

One Function each, forward and backward side by side; the backward is written with tensor ops
(PyTorch's formulas from its derivatives.yaml), so ``create_graph=True`` gives second derivatives.
As ``sin``: integer and bool inputs give the default float dtype; outside the domain the result
is NaN (or +-inf at asin's and atanh's ends), without NumPy's warnings."""

from .. import _backend as backend
from ..autograd.function import Function
from ._util import check_tensor_argument, quiet, wrap, write_out
from .elementwise import _float_input
from .indexing import inplace

__all__ = [
    "acos", "acos_", "acosh", "acosh_", "arccos", "arccos_", "arccosh", "arccosh_", "arcsin", "arcsin_",
    "arcsinh", "arcsinh_", "arctan", "arctan_", "arctanh", "arctanh_", "asin", "asin_", "asinh", "asinh_",
    "atan", "atan_", "atanh", "atanh_", "cosh", "cosh_", "sinh", "sinh_",
]


def _apply(x, numpy_name):
    """The array module's ``numpy_name`` on x as floating point (NaN outside the domain, quietly)."""
    data = _float_input(x)
    with quiet():
        return wrap(getattr(backend.array_module(data), numpy_name)(data))


class Sinh(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _apply(x, "sinh")

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * Cosh.apply(x)


class Cosh(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _apply(x, "cosh")

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * Sinh.apply(x)


class Asin(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _apply(x, "arcsin")

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * (1 - x * x).rsqrt()


class Acos(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _apply(x, "arccos")

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return -grad_output * (1 - x * x).rsqrt()


class Atan(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _apply(x, "arctan")

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output / (x * x + 1)


class Asinh(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _apply(x, "arcsinh")

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * (x * x + 1).rsqrt()


class Acosh(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _apply(x, "arccosh")

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        # NOTE: PyTorch's (x^2 - 1)^(-1/2), which is inf at x = 1 (and NaN inside (-1, 1)).
        return grad_output * (x * x - 1).rsqrt()


class Atanh(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _apply(x, "arctanh")

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output / (1 - x * x)


def _unary(name, function, summary, alias=None):
    """The public ``name(input, *, out=None)`` for ``function`` and its in-place form ``name_``
    (``alias``: the NumPy name, used in argument errors as PyTorch does)."""
    called = alias or name

    def op(input, *, out=None):
        check_tensor_argument(called, input)
        if out is not None:
            return write_out(out, name, op, input)
        return function.apply(input)

    def op_(input):
        check_tensor_argument(called + "_", input)
        return inplace(input, op)

    op.__name__ = op.__qualname__ = called
    op.__doc__ = f"{summary}, elementwise; integer inputs give the default float dtype." if alias is None else f"Alias for ``{name}``."
    op_.__name__ = op_.__qualname__ = called + "_"
    op_.__doc__ = f"``{called}`` written into ``input``."
    op.__module__ = op_.__module__ = __name__
    return op, op_


sinh, sinh_ = _unary("sinh", Sinh, "The hyperbolic sine")
cosh, cosh_ = _unary("cosh", Cosh, "The hyperbolic cosine")
asin, asin_ = _unary("asin", Asin, "The arcsine (NaN outside [-1, 1])")
acos, acos_ = _unary("acos", Acos, "The arccosine (NaN outside [-1, 1])")
atan, atan_ = _unary("atan", Atan, "The arctangent")
asinh, asinh_ = _unary("asinh", Asinh, "The inverse hyperbolic sine")
acosh, acosh_ = _unary("acosh", Acosh, "The inverse hyperbolic cosine (NaN below 1)")
atanh, atanh_ = _unary("atanh", Atanh, "The inverse hyperbolic tangent (+-inf at +-1, NaN beyond)")

# NumPy's names, which PyTorch keeps as aliases.
arcsin, arcsin_ = _unary("asin", Asin, "", alias="arcsin")
arccos, arccos_ = _unary("acos", Acos, "", alias="arccos")
arctan, arctan_ = _unary("atan", Atan, "", alias="arctan")
arcsinh, arcsinh_ = _unary("asinh", Asinh, "", alias="arcsinh")
arccosh, arccosh_ = _unary("acosh", Acosh, "", alias="arccosh")
arctanh, arctanh_ = _unary("atanh", Atanh, "", alias="arctanh")
