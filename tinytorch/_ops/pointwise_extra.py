"""More pointwise ops and small reductions: atan2, hypot, logaddexp(2), nan_to_num, nansum,
nanmean, exp2, frac, deg2rad, rad2deg, erfc, sgn, logit, float_power, copysign, fmax, fmin, the
predicates (signbit, isposinf, isneginf, isreal, isin), searchsorted/bucketize, gcd/lcm,
cummax/cummin and aminmax.

Composites of existing ops where their gradient is PyTorch's; a ``Function`` (forward and
backward side by side, backward in tensor ops so ``create_graph=True`` works) where a composite
would be inexact or give another gradient (atan2 at the origin, hypot's overflow, logaddexp's
infinities, fmax/fmin's NaN rule, copysign's zero gradient for ``other``, cummax/cummin's index).
Arrays are NumPy or CuPy: every forward takes its module from ``backend.array_module``."""

import math
import numbers

from .. import _backend as backend, _dtypes as dtypes
from ..autograd.function import Function
from .._tensor import Tensor
from ._util import check_tensor_argument, normalize_dim, normalize_dims, promote, quiet, return_type, scalar_like, wrap, write_out
from .binary import isnan, logical_not, pow, where
from .elementwise import _float_input, sign, trunc
from .binary import sub
from .indexing import inplace
from ._util import check_broadcast, check_same_device
from .indexing import ScatterAdd
from .nn_ops import _TWO_OVER_SQRT_PI
from .reduce import amax, amin, sum

_LN2 = math.log(2.0)

__all__ = [
    "aminmax", "arctan2", "atan2", "bucketize", "copysign", "cummax", "cummin", "deg2rad", "erfc",
    "exp2", "float_power", "fmax", "fmin", "frac", "gcd", "hypot", "isin", "isneginf", "isposinf",
    "isreal", "lcm", "logaddexp", "logaddexp2", "logit", "nan_to_num", "nanmean", "nansum",
    "rad2deg", "searchsorted", "sgn", "signbit",
]


# -- helpers ------------------------------------------------------------------------------------
def _xp(x):
    return backend.array_module(x._data)


def _kind(x):
    return x._data.dtype.kind


def _not_implemented(name, x):
    """PyTorch's error for a kernel that has no version for the dtype (e.g. hypot on integers)."""
    return NotImplementedError(f'"{name}_{x.device.type}" not implemented for \'{dtypes.scalar_type_name(x._data.dtype)}\'')


def _tensor_pair(name, input, other):
    """Both operands must be tensors (PyTorch has no Scalar overload for these), promoted."""
    check_tensor_argument(name, input, "input", 1)
    check_tensor_argument(name, other, "other", 2)
    return promote(input, other)


def _to_float(x):
    """Integer and bool tensors as the default float dtype, as PyTorch's float functions."""
    if isinstance(x, Tensor) and _kind(x) not in "fc":
        return x.to(dtypes.get_default_dtype())
    return x


def _floats_only(name, *tensors):
    for x in tensors:
        if _kind(x) not in "fc":
            raise _not_implemented(name, x)


# -- binary Functions ---------------------------------------------------------------------------
class Atan2(Function):
    """atan2(a, b); PyTorch's gradient (b, -a) / (a^2 + b^2), defined as 0 at the origin."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        with quiet():
            return wrap(_xp(a).arctan2(a._data, b._data))

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        denominator = a * a + b * b
        recip = where(denominator == 0, 0.0, denominator.reciprocal())
        return (
            grad_output * b * recip if ctx.needs_input_grad[0] else None,
            -grad_output * a * recip if ctx.needs_input_grad[1] else None,
        )


class Hypot(Function):
    """sqrt(a^2 + b^2) without overflow; gradient (a, b) / result (nan at the origin, as PyTorch)."""

    @staticmethod
    def forward(ctx, a, b):
        with quiet():
            out = wrap(_xp(a).hypot(a._data, b._data))
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        a, b, out = ctx.saved_tensors
        return (
            grad_output * a / out if ctx.needs_input_grad[0] else None,
            grad_output * b / out if ctx.needs_input_grad[1] else None,
        )


class LogAddExp(Function):
    """log(e^a + e^b) (or log2(2^a + 2^b)); exact at infinities. The gradient of a is
    sigmoid(a - b) (scaled by ln 2 inside for base 2): PyTorch's grad / (1 + e^(b - a))."""

    @staticmethod
    def forward(ctx, a, b, base2):
        ctx.save_for_backward(a, b)
        ctx.base2 = base2
        xp = _xp(a)
        with quiet():
            return wrap((xp.logaddexp2 if base2 else xp.logaddexp)(a._data, b._data))

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        scale = _LN2 if ctx.base2 else 1.0
        return (
            grad_output * ((a - b) * scale).sigmoid() if ctx.needs_input_grad[0] else None,
            grad_output * ((b - a) * scale).sigmoid() if ctx.needs_input_grad[1] else None,
            None,
        )


class Copysign(Function):
    """|a| with b's sign bit. The gradient of a is result / a (0 where a is 0), of b zero, as PyTorch."""

    @staticmethod
    def forward(ctx, a, b):
        xp = _xp(a)
        with quiet():
            out = xp.copysign(a._data, b._data if isinstance(b, Tensor) else b).astype(a._data.dtype, copy=False)
            ctx.ratio = wrap(xp.where(a._data == 0, 0, out / a._data).astype(out.dtype, copy=False))
        return wrap(out)

    @staticmethod
    def backward(ctx, grad_output):
        return (
            grad_output * ctx.ratio if ctx.needs_input_grad[0] else None,
            grad_output * 0 if ctx.needs_input_grad[1] else None,
        )


class FMax(Function):
    """fmax/fmin: NaN-ignoring maximum/minimum. PyTorch's gradient: all of it to a where a wins or
    ties or b is NaN, else to b (no sharing at ties, unlike maximum)."""

    @staticmethod
    def forward(ctx, a, b, largest):
        xp = _xp(a)
        with quiet():
            wins = (a._data >= b._data) if largest else (a._data <= b._data)
            ctx.to_a = wrap(wins | (b._data != b._data))
            return wrap((xp.fmax if largest else xp.fmin)(a._data, b._data))

    @staticmethod
    def backward(ctx, grad_output):
        to_a = ctx.to_a
        return (
            where(to_a, grad_output, 0.0) if ctx.needs_input_grad[0] else None,
            where(to_a, 0.0, grad_output) if ctx.needs_input_grad[1] else None,
            None,
        )


# -- unary Functions ----------------------------------------------------------------------------
class Exp2(Function):
    @staticmethod
    def forward(ctx, x):
        data = _float_input(x)
        with quiet():
            out = wrap(backend.array_module(data).exp2(data))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return grad_output * out * _LN2


class Erfc(Function):
    """1 - erf(x), accurate in the tail; derivative -2/sqrt(pi) exp(-x^2)."""

    @staticmethod
    def forward(ctx, x):
        data = _float_input(x)
        ctx.save_for_backward(x)
        with quiet():
            return wrap(backend.special_module(data).erfc(data).astype(data.dtype, copy=False))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * (-(x * x)).exp() * -_TWO_OVER_SQRT_PI


class Logit(Function):
    """log(z / (1 - z)), z = input clamped to [eps, 1 - eps] (PyTorch's rule: below eps gives eps,
    else above 1 - eps gives 1 - eps). PyTorch's gradient grad / (x (1 - x)): zero outside the
    clamp interval with eps, nan outside [0, 1] without."""

    @staticmethod
    def forward(ctx, x, eps):
        data = _float_input(x)
        xp = backend.array_module(data)
        ctx.save_for_backward(x)
        ctx.eps = eps
        z = data
        if eps is not None:
            low, high = data.dtype.type(eps), data.dtype.type(1.0 - eps)
            z = xp.where(data < low, low, xp.where(data > high, high, data))
        with quiet():
            return wrap(xp.log(z / (1 - z)).astype(data.dtype, copy=False))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        with quiet():
            inner = grad_output / (x * (1 - x))
        if ctx.eps is None:
            return where((x < 0) | (x > 1), math.nan, inner), None
        return where((x < ctx.eps) | (x > 1.0 - ctx.eps), 0.0, inner), None


class NanToNum(Function):
    """input where ``keep`` holds, else ``replacement`` (arrays); PyTorch's gradient for
    nan_to_num and nansum: grad * keep (a product, so a nan or inf upstream stays nan)."""

    @staticmethod
    def forward(ctx, x, replacement, keep):
        data = x._data
        ctx.keep = wrap(keep.astype(data.dtype))
        return wrap(backend.array_module(data).where(keep, data, replacement))

    @staticmethod
    def backward(ctx, grad_output):
        with quiet():
            return grad_output * ctx.keep, None, None


# -- public binary functions --------------------------------------------------------------------
def atan2(input, other, *, out=None):
    """Elementwise arctangent of input / other, in the quadrant of the point (other, input).
    Integer inputs give the default float dtype."""
    if out is not None:
        return write_out(out, "atan2", atan2, input, other)
    a, b = _tensor_pair("atan2", input, other)
    return Atan2.apply(_to_float(a), _to_float(b))


arctan2 = atan2


def hypot(input, other, *, out=None):
    """sqrt(input^2 + other^2), elementwise, without intermediate overflow. Floating point only."""
    if out is not None:
        return write_out(out, "hypot", hypot, input, other)
    a, b = _tensor_pair("hypot", input, other)
    _floats_only("hypot", a)
    return Hypot.apply(a, b)


def logaddexp(input, other, *, out=None):
    """log(exp(input) + exp(other)), elementwise, without overflow. Floating point only."""
    if out is not None:
        return write_out(out, "logaddexp", logaddexp, input, other)
    a, b = _tensor_pair("logaddexp", input, other)
    _floats_only("logaddexp", a)
    return LogAddExp.apply(a, b, False)


def logaddexp2(input, other, *, out=None):
    """log2(2^input + 2^other), elementwise, without overflow. Floating point only."""
    if out is not None:
        return write_out(out, "logaddexp2", logaddexp2, input, other)
    a, b = _tensor_pair("logaddexp2", input, other)
    _floats_only("logaddexp2", a)
    return LogAddExp.apply(a, b, True)


def copysign(input, other, *, out=None):
    """The magnitude of input with the sign (bit) of other; other may be a number. The result is
    floating point (integers give the default float dtype)."""
    if out is not None:
        return write_out(out, "copysign", copysign, input, other)
    check_tensor_argument("copysign", input, "input", 1)
    a, b = promote(input, other)
    return Copysign.apply(_to_float(a), _to_float(b))


def fmax(input, other, *, out=None):
    """Elementwise maximum that ignores NaN: where exactly one operand is NaN, the other wins."""
    if out is not None:
        return write_out(out, "fmax", fmax, input, other)
    return FMax.apply(*_tensor_pair("fmax", input, other), True)


def fmin(input, other, *, out=None):
    """Elementwise minimum that ignores NaN: where exactly one operand is NaN, the other wins."""
    if out is not None:
        return write_out(out, "fmin", fmin, input, other)
    return FMax.apply(*_tensor_pair("fmin", input, other), False)


def float_power(input, exponent, *, out=None):
    """input ** exponent computed in float64 (the result is float64 whatever the inputs)."""
    if out is not None:
        return write_out(out, "float_power", float_power, input, exponent)
    if not isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        raise TypeError(f"float_power(): argument 'exponent' (position 2) must be Tensor, not {type(exponent).__name__}")
    input = input.to(dtypes.float64) if isinstance(input, Tensor) else float(input)
    exponent = exponent.to(dtypes.float64) if isinstance(exponent, Tensor) else float(exponent)
    return pow(input, exponent)


def gcd(input, other, *, out=None):
    """Elementwise greatest common divisor (non-negative) of integer tensors."""
    if out is not None:
        return write_out(out, "gcd", gcd, input, other)
    a, b = _tensor_pair("gcd", input, other)
    if _kind(a) not in "iu":
        raise _not_implemented("gcd", a)
    return wrap(_xp(a).gcd(a._data, b._data))


def lcm(input, other, *, out=None):
    """Elementwise least common multiple (non-negative) of integer tensors."""
    if out is not None:
        return write_out(out, "lcm", lcm, input, other)
    a, b = _tensor_pair("lcm", input, other)
    if _kind(a) not in "iu":
        raise _not_implemented("lcm", a)
    return wrap(_xp(a).lcm(a._data, b._data))


# -- public unary functions ---------------------------------------------------------------------
def exp2(input, *, out=None):
    """2 ** input, elementwise; integers give the default float dtype."""
    if out is not None:
        return write_out(out, "exp2", exp2, input)
    check_tensor_argument("exp2", input, "input", 1)
    return Exp2.apply(input)


def erfc(input, *, out=None):
    """The complementary error function 1 - erf(input); integers give the default float dtype."""
    if out is not None:
        return write_out(out, "erfc", erfc, input)
    check_tensor_argument("erfc", input, "input", 1)
    return Erfc.apply(input)


def frac(input, *, out=None):
    """The fractional part, input - trunc(input) (sign of input). Floating point only."""
    if out is not None:
        return write_out(out, "frac", frac, input)
    check_tensor_argument("frac", input, "input", 1)
    _floats_only("frac", input)
    return input - trunc(input)


def deg2rad(input, *, out=None):
    """Degrees to radians; integers give the default float dtype."""
    if out is not None:
        return write_out(out, "deg2rad", deg2rad, input)
    check_tensor_argument("deg2rad", input, "input", 1)
    return _to_float(input) * (math.pi / 180.0)


def rad2deg(input, *, out=None):
    """Radians to degrees; integers give the default float dtype."""
    if out is not None:
        return write_out(out, "rad2deg", rad2deg, input)
    check_tensor_argument("rad2deg", input, "input", 1)
    return _to_float(input) * (180.0 / math.pi)


def sgn(input, *, out=None):
    """sign for real tensors: -1, 0 or 1 (0 for NaN, as PyTorch); bool stays bool. Zero gradient."""
    if out is not None:
        return write_out(out, "sgn", sgn, input)
    check_tensor_argument("sgn", input, "input", 1)
    if _kind(input) == "b":
        return input.clone()
    if _kind(input) == "f":
        return where(isnan(input), 0.0, sign(input))
    return sign(input)


def logit(input, eps=None, *, out=None):
    """log(p / (1 - p)). With eps >= 0, p is first clamped to [eps, 1 - eps] and the gradient is
    zero outside that interval; without, the gradient is nan outside [0, 1], as PyTorch's.
    Integers give the default float dtype."""
    if out is not None:
        return write_out(out, "logit", logit, input, eps)
    check_tensor_argument("logit", input, "input", 1)
    return Logit.apply(input, None if eps is None or eps < 0 else float(eps))


def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    """NaN, +inf and -inf replaced by nan, posinf and neginf (default: the dtype's largest and
    lowest finite values). The gradient flows where input is finite and is 0 elsewhere."""
    if out is not None:
        return write_out(out, "nan_to_num", nan_to_num, input, nan, posinf, neginf)
    check_tensor_argument("nan_to_num", input, "input", 1)
    if _kind(input) not in "fc":
        return input.clone()
    data = input._data
    xp = backend.array_module(data)
    replaced = xp.nan_to_num(data, copy=True, nan=nan, posinf=posinf, neginf=neginf)
    return NanToNum.apply(input, replaced, xp.isfinite(data))


# -- predicates (no gradient) -------------------------------------------------------------------
def signbit(input, *, out=None):
    """True where the sign bit is set (negative numbers, -0.0, NaN with the sign bit)."""
    if out is not None:
        return write_out(out, "signbit", signbit, input)
    check_tensor_argument("signbit", input, "input", 1)
    data, xp = input._data, _xp(input)
    if data.dtype.kind == "b":
        return wrap(xp.zeros(data.shape, dtype=bool))
    return wrap(xp.signbit(data) if data.dtype.kind == "f" else data < 0)


def isposinf(input, *, out=None):
    """True where input is +inf."""
    if out is not None:
        return write_out(out, "isposinf", isposinf, input)
    check_tensor_argument("isposinf", input, "input", 1)
    data, xp = input._data, _xp(input)
    return wrap(data == math.inf if data.dtype.kind == "f" else xp.zeros(data.shape, dtype=bool))


def isneginf(input, *, out=None):
    """True where input is -inf."""
    if out is not None:
        return write_out(out, "isneginf", isneginf, input)
    check_tensor_argument("isneginf", input, "input", 1)
    data, xp = input._data, _xp(input)
    return wrap(data == -math.inf if data.dtype.kind == "f" else xp.zeros(data.shape, dtype=bool))


def isreal(input):
    """True where the imaginary part is zero: everywhere for a real tensor."""
    check_tensor_argument("isreal", input, "input", 1)
    data, xp = input._data, _xp(input)
    if data.dtype.kind == "c":
        return wrap(data.imag == 0)
    return wrap(xp.ones(data.shape, dtype=bool))


def _isin_error(elements, test_elements):
    return TypeError(
        f"isin() received an invalid combination of arguments - got ({type(elements).__name__}, "
        f"{type(test_elements).__name__}), but expected one of:\n"
        " * (Tensor elements, Tensor test_elements, *, bool assume_unique = False, bool invert = False, Tensor out = None)\n"
        " * (Number element, Tensor test_elements, *, bool assume_unique = False, bool invert = False, Tensor out = None)\n"
        " * (Tensor elements, Number test_element, *, bool assume_unique = False, bool invert = False, Tensor out = None)\n"
    )


def isin(elements, test_elements, *, assume_unique=False, invert=False, out=None):
    """Whether each of elements is in test_elements (a tensor or a number); NaN is in nothing.
    The result has elements' shape (0-d for a number)."""
    if out is not None:
        return write_out(out, "isin", isin, elements, test_elements, assume_unique=assume_unique, invert=invert)
    a_tensor, b_tensor = isinstance(elements, Tensor), isinstance(test_elements, Tensor)
    if not (a_tensor or isinstance(elements, numbers.Number)) or not (b_tensor or isinstance(test_elements, numbers.Number)) \
            or not (a_tensor or b_tensor):
        raise _isin_error(elements, test_elements)
    if not a_tensor:
        elements = scalar_like(elements, test_elements)
    if not b_tensor:
        test_elements = scalar_like(test_elements, elements)
    a, b = promote(elements, test_elements)
    xp = _xp(a)
    return wrap(xp.isin(a._data, b._data.ravel(), assume_unique=bool(assume_unique), invert=bool(invert)))


# -- searchsorted / bucketize -------------------------------------------------------------------
def _search_error(message):
    return RuntimeError(f"torch.searchsorted(): {message}")


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None, out=None):
    """Indices at which to insert input into sorted_sequence (sorted along its last dim) to keep it
    sorted: before equal entries (``side='left'``), after them (``right=True`` or ``side='right'``).
    A 1-D sorted_sequence serves any input; an N-D one needs input with the same leading dims."""
    if out is not None:
        return write_out(out, "searchsorted", searchsorted, sorted_sequence, input, out_int32=out_int32,
                         right=right, side=side, sorter=sorter)
    check_tensor_argument("searchsorted", sorted_sequence, "sorted_sequence", 1)
    if side is not None:
        if side not in ("left", "right"):
            raise _search_error(f"side can only be 'left' or 'right' but got {side}")
        if side == "left" and right:
            raise _search_error("side and right can't be set to opposites, got side of left while right was True")
        right = side == "right"
    seq = sorted_sequence._data
    if seq.ndim == 0:
        raise _search_error("boundaries tensor should have positive dimension, but got 0 dimension")
    scalar_input = not isinstance(input, Tensor)
    if scalar_input:
        if not isinstance(input, numbers.Number):
            raise TypeError(f"searchsorted(): argument 'input' (position 2) must be Tensor, not {type(input).__name__}")
        if seq.ndim != 1:
            raise _search_error(
                "input value can be a scalar only when boundaries tensor dimension is 1, but we got boundaries "
                f"tensor dim({seq.ndim}) and input value's dim(0) numel(1)"
            )
        input = scalar_like(input, sorted_sequence)
    values = input._data
    if seq.ndim > 1 and (values.ndim != seq.ndim or values.shape[:-1] != seq.shape[:-1]):
        raise _search_error(
            "boundaries tensor should be 1 dimension or the first N-1 dimensions of boundaries tensor and input "
            f"value tensor must match, but we got boundaries tensor {list(seq.shape)} and input value tensor {list(values.shape)}"
        )
    xp = backend.array_module(seq)
    if sorter is not None:
        if sorter._data.shape != seq.shape:
            raise _search_error(
                f"boundary and sorter must have the same size, but got boundary tensor {list(seq.shape)}"
                f"and got sorter tensor {list(sorter._data.shape)}"
            )
        seq = xp.take_along_axis(seq, sorter._data.astype(xp.int64, copy=False), axis=-1)
    index_dtype = xp.int32 if out_int32 else xp.int64
    if seq.ndim == 1:
        result = xp.searchsorted(seq, values, side="right" if right else "left")
    else:
        # Each row its own sequence: count, per value, the entries a binary search would pass
        # over (``not seq >= v`` on the left side, ``not seq > v`` on the right, as PyTorch's
        # search, so a NaN value lands at the end). Vectorized: O(rows x values x length) memory.
        s, v = seq[..., None, :], values[..., :, None]
        with quiet():
            passed = ~(s > v) if right else ~(s >= v)
        result = passed.sum(axis=-1)
    return wrap(xp.asarray(result, dtype=index_dtype).reshape(values.shape))


def bucketize(input, boundaries, *, out_int32=False, right=False, out=None):
    """The bucket of each input value among the 1-D sorted boundaries: searchsorted(boundaries, input)."""
    if out is not None:
        return write_out(out, "bucketize", bucketize, input, boundaries, out_int32=out_int32, right=right)
    check_tensor_argument("bucketize", boundaries, "boundaries", 2)
    if boundaries._data.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries._data.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


# -- nan-ignoring reductions --------------------------------------------------------------------
def nansum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """sum treating NaN as zero; the gradient is zero at the NaNs."""
    if out is not None:
        return write_out(out, "nansum", nansum, input, dim, keepdim, dtype=dtype)
    check_tensor_argument("nansum", input, "input", 1)
    if _kind(input) in "fc":
        data = input._data
        xp = backend.array_module(data)
        input = NanToNum.apply(input, xp.zeros((), dtype=data.dtype), ~xp.isnan(data))
    return sum(input, dim, keepdim, dtype=dtype)


def nanmean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """mean over the non-NaN elements (NaN where there are none). Floating point only."""
    if out is not None:
        return write_out(out, "nanmean", nanmean, input, dim, keepdim, dtype=dtype)
    check_tensor_argument("nanmean", input, "input", 1)
    if _kind(input) not in "fc":
        raise RuntimeError(
            f"nanmean(): expected input to have floating point or complex dtype but got {dtypes.scalar_type_name(input._data.dtype)}"
        )
    count = sum(logical_not(isnan(input)), dim, keepdim)
    with quiet():
        return nansum(input, dim, keepdim, dtype=dtype) / count


# -- cummax / cummin ----------------------------------------------------------------------------
cummax_type = return_type("cummax", ["values", "indices"])
cummin_type = return_type("cummin", ["values", "indices"])
aminmax_type = return_type("aminmax", ["min", "max"])


def _accumulate(xp, ufunc, data, axis):
    """``ufunc.accumulate`` along axis; a log-step (Hillis-Steele) scan where the array module's
    ufunc has none (older CuPy)."""
    accumulate = getattr(ufunc, "accumulate", None)
    if accumulate is not None:
        try:
            return accumulate(data, axis=axis)
        except (NotImplementedError, TypeError, AttributeError):
            pass
    out = xp.moveaxis(data, axis, -1).copy()
    n, shift = out.shape[-1], 1
    while shift < n:
        out[..., shift:] = ufunc(out[..., shift:], out[..., :-shift].copy())
        shift *= 2
    return xp.moveaxis(out, -1, axis)


class Cummax(Function):
    """Running maximum along dim with its index: the last index among equal running maxima, and
    once a NaN is met, NaN with the index of the latest NaN (PyTorch's rule). The gradient goes to
    the picked index (a scatter-add), as PyTorch's."""

    largest = True

    @classmethod
    def forward(cls, ctx, x, dim):
        data = x._data
        xp = backend.array_module(data)
        ctx.dim, ctx.shape = dim, data.shape
        if data.ndim == 0:
            ctx.index = None
            indices = wrap(xp.zeros((), dtype=xp.int64))
            ctx.mark_non_differentiable(indices)
            return wrap(data.copy()), indices
        with quiet():
            values = _accumulate(xp, xp.maximum if cls.largest else xp.minimum, data, dim)
            picked = data == values
            if data.dtype.kind in "fc":
                picked = picked | (data != data)
        shape = [1] * data.ndim
        shape[dim] = data.shape[dim]
        positions = xp.arange(data.shape[dim], dtype=xp.int64).reshape(shape)
        index = _accumulate(xp, xp.maximum, xp.where(picked, positions, 0), dim)
        ctx.index = index
        indices = wrap(index)
        ctx.mark_non_differentiable(indices)
        return wrap(values), indices

    @staticmethod
    def backward(ctx, grad_values, grad_indices):
        if ctx.index is None:
            return grad_values, None
        zeros = wrap(backend.array_module(grad_values._data).zeros(ctx.shape, dtype=grad_values._data.dtype))
        return ScatterAdd.apply(zeros, ctx.dim, wrap(ctx.index), grad_values), None


class Cummin(Cummax):
    """Running minimum along dim with its index (the last among ties; NaN propagates)."""

    largest = False


def cummax(input, dim):
    """(values, indices): the running maximum along dim and where it was taken (the last index
    among equal maxima; NaN propagates)."""
    check_tensor_argument("cummax", input, "input", 1)
    return cummax_type(*Cummax.apply(input, normalize_dim(dim, input._data.ndim)))


def cummin(input, dim):
    """(values, indices): the running minimum along dim and where it was taken (the last index
    among equal minima; NaN propagates)."""
    check_tensor_argument("cummin", input, "input", 1)
    return cummin_type(*Cummin.apply(input, normalize_dim(dim, input._data.ndim)))


# -- aminmax ------------------------------------------------------------------------------------
def aminmax(input, *, dim=None, keepdim=False):
    """(min, max) over all elements or along dim; NaN propagates; at ties the gradient is shared
    evenly among the tied elements, as amin/amax."""
    check_tensor_argument("aminmax", input, "input", 1)
    data = input._data
    if dim is None:
        if data.size == 0:
            raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation has no identity.")
        dims = ()
    else:
        d = normalize_dim(dim, data.ndim)
        if data.ndim and data.shape[d] == 0:
            raise IndexError(f"aminmax: Expected reduction dim {d} to have non-zero size.")
        dims = normalize_dims(d, data.ndim)
        if not dims:  # a 0-d tensor: its own min and max
            return aminmax_type(input.clone(), input.clone())
    return aminmax_type(amin(input, dims, keepdim), amax(input, dims, keepdim))


# -- heaviside, positive, fix, rsub -------------------------------------------------------------
__all__ += ["fix", "fix_", "heaviside", "positive", "rsub"]


def heaviside(input, values, *, out=None):
    """0 where input < 0, ``values`` where input == 0, 1 where input > 0 (and 0 at NaN, as
    PyTorch's kernel). Both tensors of one dtype; no gradient (PyTorch has none either)."""
    check_tensor_argument("heaviside", input, "input", 1)
    check_tensor_argument("heaviside", values, "values", 2)
    if out is not None:
        if isinstance(out, Tensor) and out._data.dtype != input._data.dtype:
            raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
        return write_out(out, "heaviside", heaviside, input, values)
    if input._data.dtype != values._data.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    if _kind(input) == "c":
        raise RuntimeError("heaviside is not yet implemented for complex tensors.")
    check_same_device(input, values)
    check_broadcast(input._data.shape, values._data.shape)
    data = input._data
    return wrap(_xp(input).where(data == 0, values._data, data > 0).astype(data.dtype, copy=False))


def positive(input):
    """``input`` itself (``+input``); refused for bool tensors, as PyTorch."""
    check_tensor_argument("positive", input, "input", 1)
    if _kind(input) == "b":
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


def fix(input, *, out=None):
    """Alias for ``trunc``: rounds toward zero."""
    check_tensor_argument("fix", input, "input", 1)
    return trunc(input, out=out)


def fix_(input):
    """``trunc`` written into ``input``."""
    check_tensor_argument("fix_", input, "input", 1)
    return inplace(input, trunc)


def rsub(input, other, *, alpha=1):
    """other - alpha * input (``sub`` with its operands swapped); ``other`` may be a number."""
    check_tensor_argument("rsub", input, "input", 1)
    if not isinstance(other, (Tensor, numbers.Number)):
        raise TypeError(f"rsub(): argument 'other' (position 2) must be Tensor or Number, not {type(other).__name__}")
    integral = _kind(input) in "iub" and (not isinstance(other, Tensor) or _kind(other) in "iub")
    if integral and isinstance(alpha, float):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")
    return sub(other, input, alpha=alpha)
