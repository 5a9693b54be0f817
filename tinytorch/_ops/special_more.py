"""The rest of ``torch.special``: Bessel functions, the normal distribution's CDF and its inverse,
erfcx, entr, sinc, xlog1py, zeta, the incomplete gamma functions, the multivariate log-gamma and
the classical orthogonal polynomials.

Forwards run on ``scipy.special`` (CPU) or ``cupyx.scipy.special`` (GPU) through
``backend.special_module``. Backwards are PyTorch's formulas (tools/autograd/derivatives.yaml),
written with tensor ops so ``create_graph=True`` works. Where PyTorch defines no derivative
(zeta's and gammainc's first argument) backward raises its NotImplementedError; the functions it
does not differentiate at all (the ``bessel_*``, ``modified_bessel_*``, ``airy_ai`` and the
polynomials) return a tensor without ``grad_fn``, as PyTorch's do.
"""

import math
import numbers

from .. import _backend as backend, _dtypes as dtypes
from ..autograd.function import Function
from .._tensor import Tensor
from ._util import promote, quiet, scalar_like, wrap, write_out
from .binary import where
from .elementwise import _float_input
from .special import Lgamma, _same_dtype, _special, x_log

_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_SQRT_2PI = math.sqrt(2 * math.pi)
_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


def _call(name, data):
    with quiet():
        return wrap(_same_dtype(getattr(_special(data), name)(data), data))


class I0(Function):
    """The modified Bessel function of the first kind, order 0; i0' = i1."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _call("i0", _float_input(x))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * I1.apply(x)


class I0e(Function):
    """exp(-|x|) i0(x); its derivative is i1e(x) - sign(x) i0e(x)."""

    @staticmethod
    def forward(ctx, x):
        out = _call("i0e", _float_input(x))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        x, out = ctx.saved_tensors
        return grad_output * (I1e.apply(x) - x.sign() * out)


def _at_zero_half(x, value):
    """``value`` where x != 0 and 1/2 at 0: i1'(0) = i1e'(0) = 1/2 (``value`` divides by x)."""
    return where(x == 0, 0.5, value)


class I1(Function):
    """The modified Bessel function of the first kind, order 1; i1' = i0 - i1 / x (1/2 at 0)."""

    @staticmethod
    def forward(ctx, x):
        out = _call("i1", _float_input(x))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        x, out = ctx.saved_tensors
        safe = where(x == 0, 1.0, x)
        return grad_output * _at_zero_half(x, I0.apply(x) - out / safe)


class I1e(Function):
    """exp(-|x|) i1(x); its derivative is i0e(x) - i1e(x) (sign(x) + 1/x) (1/2 at 0)."""

    @staticmethod
    def forward(ctx, x):
        out = _call("i1e", _float_input(x))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        x, out = ctx.saved_tensors
        safe = where(x == 0, 1.0, x)
        return grad_output * _at_zero_half(x, I0e.apply(x) - out * (x.sign() + 1 / safe))


class Ndtr(Function):
    """The standard normal CDF; its derivative is the density exp(-x^2/2) / sqrt(2 pi)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _call("ndtr", _float_input(x))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * (x * x * -0.5).exp() * _INV_SQRT_2PI


class Ndtri(Function):
    """The inverse of ndtr; its derivative is sqrt(2 pi) exp(ndtri(x)^2 / 2)."""

    @staticmethod
    def forward(ctx, x):
        out = _call("ndtri", _float_input(x))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return grad_output * (out * out * 0.5).exp() * _SQRT_2PI


class LogNdtr(Function):
    """log(ndtr(x)), accurate far in the left tail; its derivative is the density over ndtr(x)."""

    @staticmethod
    def forward(ctx, x):
        out = _call("log_ndtr", _float_input(x))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        x, out = ctx.saved_tensors
        return grad_output * (-(out + x * x * 0.5)).exp() * _INV_SQRT_2PI


class Erfcx(Function):
    """exp(x^2) erfc(x); its derivative is 2 x erfcx(x) - 2 / sqrt(pi)."""

    @staticmethod
    def forward(ctx, x):
        out = _call("erfcx", _float_input(x))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        x, out = ctx.saved_tensors
        return grad_output * (2 * x * out - _TWO_OVER_SQRT_PI)


class Entr(Function):
    """-x log x for x > 0, 0 at 0, -inf below; its derivative is -(1 + log x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _call("entr", _float_input(x))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * -(1 + x.log())


class Sinc(Function):
    """sin(pi x) / (pi x), 1 at 0; its derivative is (pi x cos(pi x) - sin(pi x)) / (pi x^2), 0 at 0."""

    @staticmethod
    def forward(ctx, x):
        data = _float_input(x)
        ctx.save_for_backward(x)
        with quiet():
            return wrap(_same_dtype(backend.array_module(data).sinc(data), data))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        safe = where(x == 0, 1.0, x)
        pix = safe * math.pi
        value = (pix * pix.cos() - pix.sin()) / (pix * safe)
        return grad_output * where(x == 0, 0.0, value)


class Xlog1py(Function):
    """x log(1 + y), and 0 where x = 0 (unless y is NaN). Gradients (PyTorch's): log1p(y) for x
    (0 where x = 0 and y <= -1), x / (1 + y) for y."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return wrap(x_log(x._data, y._data, "log1p"))

    @staticmethod
    def backward(ctx, grad_output):
        x, y = ctx.saved_tensors
        grad_x = grad_y = None
        if ctx.needs_input_grad[0]:
            grad_x = where((x == 0) & (y <= -1), 0.0, Xlog1py.apply(grad_output, y))
        if ctx.needs_input_grad[1]:
            grad_y = grad_output * x / (y + 1)
        return grad_x, grad_y


class Zeta(Function):
    """The Hurwitz zeta function zeta(x, q); d/dq = -x zeta(x + 1, q), none for x (as PyTorch)."""

    @staticmethod
    def forward(ctx, x, q):
        ctx.save_for_backward(x, q)
        with quiet():
            return wrap(_special(x._data).zeta(x._data, q._data).astype(x._data.dtype, copy=False))

    @staticmethod
    def backward(ctx, grad_output):
        x, q = ctx.saved_tensors
        if ctx.needs_input_grad[0]:
            raise NotImplementedError("the derivative for 'zeta' is not implemented.")
        return None, grad_output * -x * Zeta.apply(x + 1, q)


class Gammainc(Function):
    """The regularized lower (``upper=False``) or upper incomplete gamma function P(a, x) / Q(a, x).
    d/dx = +-exp((a - 1) log x - x - lgamma(a)); none for a (as PyTorch)."""

    @staticmethod
    def forward(ctx, a, x, upper):
        ctx.save_for_backward(a, x)
        ctx.upper = upper
        with quiet():
            result = getattr(_special(a._data), "gammaincc" if upper else "gammainc")(a._data, x._data)
        return wrap(result.astype(a._data.dtype, copy=False))

    @staticmethod
    def backward(ctx, grad_output):
        a, x = ctx.saved_tensors
        if ctx.needs_input_grad[0]:
            raise NotImplementedError(f"the derivative for '{'igammac' if ctx.upper else 'igamma'}: input' is not implemented.")
        density = ((a - 1) * x.log() - x - Lgamma.apply(a)).exp()
        return None, (-grad_output if ctx.upper else grad_output) * density, None


# -- argument handling ---------------------------------------------------------------------------
def _check_tensor(function, x, name="input", position=1):
    if not isinstance(x, Tensor):
        raise TypeError(f"{function}(): argument '{name}' (position {position}) must be Tensor, not {type(x).__name__}")


def _unary(function, name, input, out):
    """One differentiable unary op: the type check, ``out=``, then ``function.apply``."""
    _check_tensor(name, input)
    if out is not None:
        return write_out(out, name, lambda x: function.apply(x), input)
    return function.apply(input)


def _float_pair(name, input, other, numbers_allowed=True):
    """Two operands as tensors of one floating dtype (integers give the default float dtype)."""
    for position, (x, arg) in enumerate(((input, "input"), (other, "other")), 1):
        if not isinstance(x, Tensor) and not (numbers_allowed and isinstance(x, numbers.Real)):
            raise TypeError(f"{name}(): argument '{arg}' (position {position}) must be Tensor, not {type(x).__name__}")
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"{name}(): expected at least one Tensor argument, got {type(input).__name__} and {type(other).__name__}")
    if not isinstance(input, Tensor):
        input = scalar_like(input, other)
    if not isinstance(other, Tensor):
        other = scalar_like(other, input)
    x, y = promote(input, other)
    if x._data.dtype.kind not in "fc":
        x, y = x.to(dtypes.get_default_dtype()), y.to(dtypes.get_default_dtype())
    return x, y


# -- public functions --------------------------------------------------------------------------------
def i0(input, *, out=None):
    """The modified Bessel function of the first kind, order 0, element-wise."""
    return _unary(I0, "i0", input, out)


def i0e(input, *, out=None):
    """The exponentially scaled i0: exp(-|input|) i0(input)."""
    return _unary(I0e, "special_i0e", input, out)


def i1(input, *, out=None):
    """The modified Bessel function of the first kind, order 1, element-wise."""
    return _unary(I1, "special_i1", input, out)


def i1e(input, *, out=None):
    """The exponentially scaled i1: exp(-|input|) i1(input)."""
    return _unary(I1e, "special_i1e", input, out)


def ndtr(input, *, out=None):
    """The standard normal CDF: the area under the Gaussian density from -inf to input."""
    return _unary(Ndtr, "special_ndtr", input, out)


def ndtri(input, *, out=None):
    """The inverse of ndtr: the x with ndtr(x) = input (+-inf at 0 and 1, NaN outside [0, 1])."""
    return _unary(Ndtri, "special_ndtri", input, out)


def log_ndtr(input, *, out=None):
    """log(ndtr(input)), accurate for very negative input."""
    return _unary(LogNdtr, "special_log_ndtr", input, out)


def erfcx(input, *, out=None):
    """The scaled complementary error function exp(input^2) erfc(input)."""
    return _unary(Erfcx, "special_erfcx", input, out)


def entr(input, *, out=None):
    """The entropy term -x log x (0 at 0, -inf for negative x), element-wise."""
    return _unary(Entr, "special_entr", input, out)


def sinc(input, *, out=None):
    """The normalized sinc function sin(pi x) / (pi x), 1 at 0."""
    return _unary(Sinc, "sinc", input, out)


def xlog1py(input, other, *, out=None):
    """input * log1p(other), 0 where input is 0 (and other is not NaN); numbers allowed for either."""
    if out is not None:
        return write_out(out, "special_xlog1py", xlog1py, input, other)
    return Xlog1py.apply(*_float_pair("special_xlog1py", input, other))


def zeta(input, other, *, out=None):
    """The Hurwitz zeta function sum_k (k + other)^-input; numbers allowed for either."""
    if out is not None:
        return write_out(out, "special_zeta", zeta, input, other)
    return Zeta.apply(*_float_pair("special_zeta", input, other))


def _incomplete_gamma(name, input, other, upper):
    _check_tensor(name, input)
    _check_tensor(name, other, "other", 2)
    a, x = promote(input, other)
    if a._data.dtype.kind not in "fc":
        raise NotImplementedError(f'"{name}_cpu" not implemented for \'{dtypes.scalar_type_name(a.dtype)}\'')
    return Gammainc.apply(a, x, upper)


def igamma(input, other, *, out=None):
    """The regularized lower incomplete gamma function P(input, other)."""
    if out is not None:
        return write_out(out, "igamma", igamma, input, other)
    return _incomplete_gamma("igamma", input, other, False)


def igammac(input, other, *, out=None):
    """The regularized upper incomplete gamma function Q(input, other) = 1 - P(input, other)."""
    if out is not None:
        return write_out(out, "igammac", igammac, input, other)
    return _incomplete_gamma("igammac", input, other, True)


def mvlgamma(input, p):
    """The multivariate log-gamma function of dimension p: sum_j lgamma(input - j/2) + p(p-1)/4 log(pi).
    A composite of lgamma, so its gradient (sum_j digamma(input - j/2)) is PyTorch's."""
    _check_tensor("mvlgamma", input)
    if isinstance(p, bool) or not isinstance(p, numbers.Integral):
        raise TypeError(f"mvlgamma(): argument 'p' (position 2) must be int, not {type(p).__name__}")
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    if input._data.dtype.kind not in "fc":
        input = input.to(dtypes.get_default_dtype())
    xp = backend.array_module(input._data)
    offsets = Tensor._make(xp.arange(p, dtype=input._data.dtype) * input._data.dtype.type(0.5))
    terms = Lgamma.apply(input.unsqueeze(-1) - offsets)
    return terms.sum(-1) + p * (p - 1) / 4 * math.log(math.pi)


# -- functions PyTorch does not differentiate: the result has no grad_fn -----------------------
def _no_grad_unary(name, scipy_name, input, out):
    _check_tensor(name, input)
    if out is not None:
        return write_out(out, name, lambda x: _no_grad_unary(name, scipy_name, x, None), input)
    data = _float_input(input)
    with quiet():
        if scipy_name == "airy":
            result = _special(data).airy(data)[0]
        elif scipy_name == "spherical_j0":
            xp = backend.array_module(data)
            result = xp.where(data == 0, 1, xp.sin(data) / xp.where(data == 0, 1, data))
        else:
            result = getattr(_special(data), scipy_name)(data)
    return wrap(_same_dtype(result, data))


def _polynomial_values(kind, x, n):
    """The degree-n polynomial at x (n truncated to an integer; 0 for n < 0, as PyTorch). Chebyshev's
    third and fourth kinds are V_n = U_n - U_{n-1} and W_n = U_n + U_{n-1}; the shifted ones take
    2x - 1."""
    xp = backend.array_module(x)
    special = _special(x)
    degree = xp.trunc(n)
    negative = degree < 0
    degree = xp.where(negative, 0, degree).astype(xp.int64)
    if kind.startswith("shifted_"):
        kind, x = kind[len("shifted_"):], 2 * x - 1
    if kind in ("v", "w"):
        below = special.eval_chebyu(xp.maximum(degree - 1, 0), x) * (degree > 0)
        result = special.eval_chebyu(degree, x) + (below if kind == "w" else -below)
    else:
        name = {"t": "eval_chebyt", "u": "eval_chebyu", "h": "eval_hermite", "he": "eval_hermitenorm",
                "l": "eval_laguerre", "p": "eval_legendre"}[kind]
        result = getattr(special, name)(degree, x)
    return xp.where(negative, 0, result)


def _polynomial(name, kind, input, n, out):
    if out is not None:
        return write_out(out, name, lambda a, b: _polynomial(name, kind, a, b, None), input, n)
    for position, (x, arg) in enumerate(((input, "x"), (n, "n")), 1):
        if not isinstance(x, (Tensor, numbers.Real)):
            raise TypeError(f"{name}(): argument '{arg}' (position {position}) must be Tensor, not {type(x).__name__}")
    if not isinstance(input, Tensor) and not isinstance(n, Tensor):
        raise TypeError(f"{name}() received an invalid combination of arguments - got ({type(input).__name__}, {type(n).__name__}), "
                        "but expected one of (Tensor x, Tensor n), (Number x, Tensor n), (Tensor x, Number n)")
    x, degree = _float_pair(name, input, n)
    x_data, n_data = x._data, degree._data
    xp = backend.array_module(x_data)
    x_data, n_data = xp.broadcast_arrays(x_data, n_data)
    with quiet():
        return wrap(_same_dtype(_polynomial_values(kind, x_data, n_data), x._data))


def airy_ai(input, *, out=None):
    """The Airy function Ai, element-wise (not differentiable, as in PyTorch)."""
    return _no_grad_unary("special_airy_ai", "airy", input, out)


def bessel_j0(input, *, out=None):
    """The Bessel function of the first kind, order 0, element-wise (not differentiable, as in PyTorch)."""
    return _no_grad_unary("special_bessel_j0", "j0", input, out)


def bessel_j1(input, *, out=None):
    """The Bessel function of the first kind, order 1, element-wise (not differentiable, as in PyTorch)."""
    return _no_grad_unary("special_bessel_j1", "j1", input, out)


def bessel_y0(input, *, out=None):
    """The Bessel function of the second kind, order 0, element-wise (not differentiable, as in PyTorch)."""
    return _no_grad_unary("special_bessel_y0", "y0", input, out)


def bessel_y1(input, *, out=None):
    """The Bessel function of the second kind, order 1, element-wise (not differentiable, as in PyTorch)."""
    return _no_grad_unary("special_bessel_y1", "y1", input, out)


def modified_bessel_i0(input, *, out=None):
    """The modified Bessel function of the first kind, order 0, element-wise (not differentiable, as in PyTorch)."""
    return _no_grad_unary("special_modified_bessel_i0", "i0", input, out)


def modified_bessel_i1(input, *, out=None):
    """The modified Bessel function of the first kind, order 1, element-wise (not differentiable, as in PyTorch)."""
    return _no_grad_unary("special_modified_bessel_i1", "i1", input, out)


def modified_bessel_k0(input, *, out=None):
    """The modified Bessel function of the second kind, order 0, element-wise (not differentiable, as in PyTorch)."""
    return _no_grad_unary("special_modified_bessel_k0", "k0", input, out)


def modified_bessel_k1(input, *, out=None):
    """The modified Bessel function of the second kind, order 1, element-wise (not differentiable, as in PyTorch)."""
    return _no_grad_unary("special_modified_bessel_k1", "k1", input, out)


def scaled_modified_bessel_k0(input, *, out=None):
    """exp(input) times modified_bessel_k0, element-wise (not differentiable, as in PyTorch)."""
    return _no_grad_unary("special_scaled_modified_bessel_k0", "k0e", input, out)


def scaled_modified_bessel_k1(input, *, out=None):
    """exp(input) times modified_bessel_k1, element-wise (not differentiable, as in PyTorch)."""
    return _no_grad_unary("special_scaled_modified_bessel_k1", "k1e", input, out)


def spherical_bessel_j0(input, *, out=None):
    """The spherical Bessel function of the first kind, order 0: sin(x) / x, element-wise (not differentiable, as in PyTorch)."""
    return _no_grad_unary("special_spherical_bessel_j0", "spherical_j0", input, out)


def chebyshev_polynomial_t(input, n, *, out=None):
    """The Chebyshev polynomial of the first kind T_n at input (n truncated to an integer, 0 for n < 0; not differentiable, as in PyTorch)."""
    return _polynomial("special_chebyshev_polynomial_t", "t", input, n, out)


def chebyshev_polynomial_u(input, n, *, out=None):
    """The Chebyshev polynomial of the second kind U_n at input (n truncated to an integer, 0 for n < 0; not differentiable, as in PyTorch)."""
    return _polynomial("special_chebyshev_polynomial_u", "u", input, n, out)


def chebyshev_polynomial_v(input, n, *, out=None):
    """The Chebyshev polynomial of the third kind V_n at input (n truncated to an integer, 0 for n < 0; not differentiable, as in PyTorch)."""
    return _polynomial("special_chebyshev_polynomial_v", "v", input, n, out)


def chebyshev_polynomial_w(input, n, *, out=None):
    """The Chebyshev polynomial of the fourth kind W_n at input (n truncated to an integer, 0 for n < 0; not differentiable, as in PyTorch)."""
    return _polynomial("special_chebyshev_polynomial_w", "w", input, n, out)


def shifted_chebyshev_polynomial_t(input, n, *, out=None):
    """The shifted Chebyshev polynomial T*_n(x) = T_n(2x - 1) at input (n truncated to an integer, 0 for n < 0; not differentiable, as in PyTorch)."""
    return _polynomial("special_shifted_chebyshev_polynomial_t", "shifted_t", input, n, out)


def shifted_chebyshev_polynomial_u(input, n, *, out=None):
    """The shifted Chebyshev polynomial U*_n(x) = U_n(2x - 1) at input (n truncated to an integer, 0 for n < 0; not differentiable, as in PyTorch)."""
    return _polynomial("special_shifted_chebyshev_polynomial_u", "shifted_u", input, n, out)


def shifted_chebyshev_polynomial_v(input, n, *, out=None):
    """The shifted Chebyshev polynomial V*_n(x) = V_n(2x - 1) at input (n truncated to an integer, 0 for n < 0; not differentiable, as in PyTorch)."""
    return _polynomial("special_shifted_chebyshev_polynomial_v", "shifted_v", input, n, out)


def shifted_chebyshev_polynomial_w(input, n, *, out=None):
    """The shifted Chebyshev polynomial W*_n(x) = W_n(2x - 1) at input (n truncated to an integer, 0 for n < 0; not differentiable, as in PyTorch)."""
    return _polynomial("special_shifted_chebyshev_polynomial_w", "shifted_w", input, n, out)


def hermite_polynomial_h(input, n, *, out=None):
    """The physicists' Hermite polynomial H_n at input (n truncated to an integer, 0 for n < 0; not differentiable, as in PyTorch)."""
    return _polynomial("special_hermite_polynomial_h", "h", input, n, out)


def hermite_polynomial_he(input, n, *, out=None):
    """The probabilists' Hermite polynomial He_n at input (n truncated to an integer, 0 for n < 0; not differentiable, as in PyTorch)."""
    return _polynomial("special_hermite_polynomial_he", "he", input, n, out)


def laguerre_polynomial_l(input, n, *, out=None):
    """The Laguerre polynomial L_n at input (n truncated to an integer, 0 for n < 0; not differentiable, as in PyTorch)."""
    return _polynomial("special_laguerre_polynomial_l", "l", input, n, out)


def legendre_polynomial_p(input, n, *, out=None):
    """The Legendre polynomial P_n at input (n truncated to an integer, 0 for n < 0; not differentiable, as in PyTorch)."""
    return _polynomial("special_legendre_polynomial_p", "p", input, n, out)
