"""Special functions: ``lgamma``, ``digamma``, ``polygamma``, ``erfinv`` and ``xlogy``, forward and
backward side by side. The distributions need them (Poisson's and Binomial's log-factorials,
Normal's inverse CDF, x log y that is 0 at x = 0).

Forwards run on ``scipy.special`` (CPU) or ``cupyx.scipy.special`` (GPU) through
``backend.special_module``; NumPy has none of them. Backwards are tensor ops (each derivative is
the next function of the family: lgamma' = digamma, digamma' = polygamma(1, .), polygamma(n, .)'
= polygamma(n + 1, .), erfinv' = sqrt(pi) / 2 exp(erfinv^2)), so ``create_graph=True`` works.
Integer inputs give the default float dtype, as in PyTorch.
"""

import math
import numbers

from .. import _backend as backend, _dtypes as dtypes
from ..autograd.function import Function
from .._tensor import Tensor
from ._util import promote, quiet, scalar_like, wrap
from .elementwise import _float_input

_HALF_SQRT_PI = math.sqrt(math.pi) / 2


def _special(x):
    return backend.special_module(x)


def _same_dtype(result, like):
    return result.astype(like.dtype, copy=False)


class Lgamma(Function):
    """log |Gamma(x)|; its derivative is digamma(x)."""

    @staticmethod
    def forward(ctx, x):
        data = _float_input(x)
        ctx.save_for_backward(x)
        with quiet():
            return wrap(_same_dtype(_special(data).gammaln(data), data))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * Digamma.apply(x)


class Digamma(Function):
    """psi(x) = d/dx log Gamma(x); its derivative is polygamma(1, x)."""

    @staticmethod
    def forward(ctx, x):
        data = _float_input(x)
        ctx.save_for_backward(x)
        with quiet():
            return wrap(_same_dtype(_special(data).digamma(data), data))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * Polygamma.apply(1, x)


class Polygamma(Function):
    """The n-th derivative of digamma; its derivative is polygamma(n + 1, x)."""

    @staticmethod
    def forward(ctx, n, x):
        data = _float_input(x)
        ctx.save_for_backward(x)
        ctx.n = n
        special = _special(data)
        with quiet():
            result = special.digamma(data) if n == 0 else special.polygamma(n, data)
        return wrap(_same_dtype(result, data))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return None, grad_output * Polygamma.apply(ctx.n + 1, x)


class Erfinv(Function):
    """The inverse of erf on (-1, 1) (+-inf at +-1, NaN outside); d/dx = sqrt(pi)/2 exp(erfinv(x)^2)."""

    @staticmethod
    def forward(ctx, x):
        data = _float_input(x)
        with quiet():
            out = wrap(_same_dtype(_special(data).erfinv(data), data))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return grad_output * (out * out).exp() * _HALF_SQRT_PI


def x_log(a, b, log):
    """``a * log(b)`` (``log`` names the array module's log or log1p), 0 where a is 0 unless b is
    NaN: xlogy's and xlog1py's forward."""
    xp = backend.array_module(a)
    with quiet():
        out = xp.where((a == 0) & ~xp.isnan(b), 0, a * getattr(xp, log)(b))
    return out.astype(xp.result_type(a, b), copy=False)


class Xlogy(Function):
    """x log(y), and 0 where x = 0 (unless y is NaN): the entropy and likelihood terms p log p and
    k log(rate) are finite at 0. Gradients: xlogy(x != 0, y) for x (PyTorch's), x / y for y."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return wrap(x_log(x._data, y._data, "log"))

    @staticmethod
    def backward(ctx, grad_output):
        x, y = ctx.saved_tensors
        grad_x = grad_y = None
        if ctx.needs_input_grad[0]:
            grad_x = grad_output * Xlogy.apply((x != 0).to(y.dtype), y)
        if ctx.needs_input_grad[1]:
            grad_y = grad_output * x / y
        return grad_x, grad_y


# -- public functions (torch.lgamma, ...) -----------------------------------------------------------
def _tensor_argument(function, x, name="input", position=1):
    if not isinstance(x, Tensor):
        raise TypeError(f"{function}(): argument '{name}' (position {position}) must be Tensor, not {type(x).__name__}")


def lgamma(input):
    """log |Gamma(input)|, element-wise."""
    _tensor_argument("lgamma", input)
    return Lgamma.apply(input)


def digamma(input):
    """The logarithmic derivative of Gamma, element-wise (-inf at 0, NaN at negative integers)."""
    _tensor_argument("digamma", input)
    return Digamma.apply(input)


def polygamma(n, input):
    """The n-th derivative of digamma (n >= 0), element-wise."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"polygamma(): argument 'n' (position 1) must be int, not {type(n).__name__}")
    _tensor_argument("polygamma", input, position=2)
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    return Polygamma.apply(int(n), input)


def erfinv(input):
    """The inverse error function, element-wise."""
    _tensor_argument("erfinv", input)
    return Erfinv.apply(input)


def xlogy(input, other):
    """input * log(other), 0 where input is 0 (and other is not NaN); numbers allowed for either."""
    for position, (x, name) in enumerate(((input, "self"), (other, "other")), 1):
        if not isinstance(x, (Tensor, numbers.Number)):
            raise TypeError(f"xlogy(): argument '{name}' (position {position}) must be Tensor, not {type(x).__name__}")
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError("xlogy(): at least one of 'self' and 'other' must be a Tensor")
    if not isinstance(input, Tensor):
        input = scalar_like(input, other)
    if not isinstance(other, Tensor):
        other = scalar_like(other, input)
    x, y = promote(input, other)
    if x._data.dtype.kind not in "fc":  # integer inputs give the default float dtype
        x, y = x.to(dtypes.get_default_dtype()), y.to(dtypes.get_default_dtype())
    return Xlogy.apply(x, y)
