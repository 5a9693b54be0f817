"""tinytorch.special: PyTorch's ``torch.special`` (special functions, element-wise).

Most names are aliases of tinytorch's own ops (expit = sigmoid, gammaln = lgamma, psi = digamma,
multigammaln = mvlgamma...); the rest live in ``_ops/special_more.py``.
"""

from . import _ops as _ops
from ._ops import special as _special, special_more as _more
from ._ops._util import write_out as _write_out
from ._ops.nn_ops import erf as _erf
from ._ops.special_more import (
    airy_ai, bessel_j0, bessel_j1, bessel_y0, bessel_y1, chebyshev_polynomial_t, chebyshev_polynomial_u,
    chebyshev_polynomial_v, chebyshev_polynomial_w, entr, erfcx, hermite_polynomial_h, hermite_polynomial_he, i0,
    i0e, i1, i1e, laguerre_polynomial_l, legendre_polynomial_p, log_ndtr, modified_bessel_i0, modified_bessel_i1,
    modified_bessel_k0, modified_bessel_k1, ndtr, ndtri, scaled_modified_bessel_k0, scaled_modified_bessel_k1,
    shifted_chebyshev_polynomial_t, shifted_chebyshev_polynomial_u, shifted_chebyshev_polynomial_v,
    shifted_chebyshev_polynomial_w, sinc, spherical_bessel_j0, xlog1py, zeta,
)

__all__ = [
    "airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "chebyshev_polynomial_t",
    "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w", "digamma", "entr", "erf", "erfc",
    "erfcx", "erfinv", "exp2", "expit", "expm1", "gammainc", "gammaincc", "gammaln", "hermite_polynomial_h",
    "hermite_polynomial_he", "i0", "i0e", "i1", "i1e", "laguerre_polynomial_l", "legendre_polynomial_p", "log1p",
    "log_ndtr", "log_softmax", "logit", "logsumexp", "modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0",
    "modified_bessel_k1", "multigammaln", "ndtr", "ndtri", "polygamma", "psi", "round", "scaled_modified_bessel_k0",
    "scaled_modified_bessel_k1", "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u",
    "shifted_chebyshev_polynomial_v", "shifted_chebyshev_polynomial_w", "sinc", "softmax", "spherical_bessel_j0",
    "xlog1py", "xlogy", "zeta",
]


def _maybe_out(name, op, out, *args):
    return op(*args) if out is None else _write_out(out, name, op, *args)


def erf(input, *, out=None):
    """The error function, element-wise."""
    return _maybe_out("special_erf", _erf, out, input)


def erfc(input, *, out=None):
    """The complementary error function 1 - erf(input)."""
    return _ops.erfc(input, out=out)


def erfinv(input, *, out=None):
    """The inverse error function."""
    return _maybe_out("special_erfinv", _special.erfinv, out, input)


def expit(input, *, out=None):
    """The logistic sigmoid 1 / (1 + exp(-input))."""
    return _ops.sigmoid(input, out=out)


def exp2(input, *, out=None):
    """2 ** input."""
    return _ops.exp2(input, out=out)


def expm1(input, *, out=None):
    """exp(input) - 1, accurate near 0."""
    return _ops.expm1(input, out=out)


def log1p(input, *, out=None):
    """log(1 + input), accurate near 0."""
    return _ops.log1p(input, out=out)


def logit(input, eps=None, *, out=None):
    """log(p / (1 - p)), with input clamped to [eps, 1 - eps] when eps is given."""
    return _ops.logit(input, eps, out=out)


def gammaln(input, *, out=None):
    """log |Gamma(input)|."""
    return _maybe_out("special_gammaln", _special.lgamma, out, input)


def digamma(input, *, out=None):
    """The logarithmic derivative of Gamma."""
    return _maybe_out("special_digamma", _special.digamma, out, input)


psi = digamma


def polygamma(n, input, *, out=None):
    """The n-th derivative of digamma."""
    return _maybe_out("special_polygamma", _special.polygamma, out, n, input)


def multigammaln(input, p, *, out=None):
    """The multivariate log-gamma function of dimension p."""
    return _maybe_out("special_multigammaln", _more.mvlgamma, out, input, p)


def xlogy(input, other, *, out=None):
    """input * log(other), 0 where input is 0."""
    return _maybe_out("special_xlogy", _special.xlogy, out, input, other)


def gammainc(input, other, *, out=None):
    """The regularized lower incomplete gamma function (torch.igamma)."""
    return _more.igamma(input, other, out=out)


def gammaincc(input, other, *, out=None):
    """The regularized upper incomplete gamma function (torch.igammac)."""
    return _more.igammac(input, other, out=out)


def logsumexp(input, dim, keepdim=False, *, out=None):
    """log(sum(exp(input))) over dim, computed stably."""
    return _ops.logsumexp(input, dim, keepdim, out=out)


def softmax(input, dim, *, dtype=None):
    """softmax over dim, optionally computed in dtype."""
    return _ops.softmax(input, dim, dtype=dtype)


def log_softmax(input, dim, *, dtype=None):
    """log(softmax) over dim, optionally computed in dtype."""
    return _ops.log_softmax(input, dim, dtype=dtype)


def round(input, *, decimals=0, out=None):
    """Rounds to the nearest even integer (or to ``decimals`` decimal places)."""
    return _ops.round(input, decimals=decimals, out=out)
