"""Binary elementwise ops and comparisons. Operands are promoted once, in ``promote``; no op
mentions broadcasting: the engine sums each gradient back to its input's shape."""

import math
import numbers

import numpy as np

from .. import _backend as backend, _dtypes as dtypes, _float_errors
from ..autograd.grad_mode import state as grad_state
from ..autograd.function import Function
from .._tensor import Tensor
from ._util import check_same_device, checked_scalar, promote, quiet, result_dtype, scalar_like, value, wrap, write_out
from .indexing import check_inplace, inplace


def _broadcast_error(a, b):
    shape_a = list(getattr(a, "shape", ()))
    shape_b = list(getattr(b, "shape", ()))
    return RuntimeError(
        f"The size of tensor a ({_first_mismatch(shape_a, shape_b)[0]}) must match the size of tensor b "
        f"({_first_mismatch(shape_a, shape_b)[1]}) at non-singleton dimension {_first_mismatch(shape_a, shape_b)[2]}; "
        f"shapes {shape_a} and {shape_b} cannot be broadcast together"
    )


def _first_mismatch(shape_a, shape_b):
    n = max(len(shape_a), len(shape_b))
    for i in range(1, n + 1):
        sa = shape_a[-i] if i <= len(shape_a) else 1
        sb = shape_b[-i] if i <= len(shape_b) else 1
        if sa != sb and sa != 1 and sb != 1:
            return sa, sb, n - i
    return None, None, None


def _compute(fn, a, b):
    try:
        with quiet():  # inf * 0, inf - inf: nan, silently, as in PyTorch
            return fn(value(a), value(b))
    except ValueError as error:
        if "broadcast" in str(error):
            raise _broadcast_error(a, b) from None
        raise


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        return wrap(_compute(_add, a, b))

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, grad_output


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        return wrap(_compute(_sub, a, b))

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, (-grad_output if ctx.needs_input_grad[1] else None)


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return wrap(_compute(_mul, a, b))

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        return (
            grad_output * b if ctx.needs_input_grad[0] else None,
            grad_output * a if ctx.needs_input_grad[1] else None,
        )


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        with quiet():  # x / 0 is inf, as in PyTorch, without NumPy's warning
            return wrap(_compute(_div, a, b))

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        return (
            grad_output / b if ctx.needs_input_grad[0] else None,
            -grad_output * a / (b * b) if ctx.needs_input_grad[1] else None,
        )


class Pow(Function):
    @staticmethod
    def forward(ctx, base, exponent):
        with quiet():
            out = wrap(_compute(_pow, base, exponent))
        ctx.save_for_backward(base, exponent, out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        base, exponent, out = ctx.saved_tensors
        grad_base = grad_exponent = None
        if ctx.needs_input_grad[0]:
            if isinstance(exponent, Tensor):
                grad_base = grad_output * exponent * base.pow(exponent - 1)
            else:
                grad_base = grad_output * exponent * base.pow(exponent - 1) if exponent != 0 else grad_output * 0
        if ctx.needs_input_grad[1]:
            # NOTE: d(b^e)/de = b^e log b; at b = 0 PyTorch defines it as 0 (for e >= 0), not nan.
            if isinstance(base, Tensor):
                log_base = where(base == 0, 0.0, base.abs().log())
            else:
                log_base = math.log(base) if base > 0 else (0.0 if base == 0 else math.nan)
            grad_exponent = grad_output * out * log_base
        return grad_base, grad_exponent


class Maximum(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return wrap(backend.array_module(a._data).maximum(a._data, b._data))

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        # NOTE: at ties the gradient is split evenly, as PyTorch does.
        share = (a > b) + (a == b) * 0.5
        return grad_output * share, grad_output * (1 - share)


class Minimum(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return wrap(backend.array_module(a._data).minimum(a._data, b._data))

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        share = (a < b) + (a == b) * 0.5
        return grad_output * share, grad_output * (1 - share)


class Where(Function):
    @staticmethod
    def forward(ctx, condition, a, b):
        ctx.save_for_backward(condition)
        xp = backend.array_module(condition._data)
        return wrap(_compute(lambda x, y: xp.where(condition._data, x, y), a, b))

    @staticmethod
    def backward(ctx, grad_output):
        (condition,) = ctx.saved_tensors
        return (
            None,
            where(condition, grad_output, 0.0) if ctx.needs_input_grad[1] else None,
            where(condition, 0.0, grad_output) if ctx.needs_input_grad[2] else None,
        )


def _lerp(start, end, weight):
    """PyTorch's lerp: ``start + w (end - start)`` for ``|w| < 0.5``, else ``end - (end - start)(1 - w)``,
    so that ``w = 1`` gives ``end`` exactly. PyTorch's CPU kernel computes it as one fused multiply-add;
    for float32 and narrower the product is exact in float64, which rounds it once, the same way."""
    xp = backend.array_module(start)
    diff = end - start
    if start.dtype.kind == "f" and start.dtype.itemsize <= 4:
        weight = xp.asarray(weight, dtype=start.dtype) if not hasattr(weight, "dtype") else weight
        small = xp.abs(weight) < 0.5
        coeff = xp.where(small, weight, weight - 1).astype(xp.float64)
        base = xp.where(small, start, end).astype(xp.float64)
        return (coeff * diff.astype(xp.float64) + base).astype(start.dtype)
    small = xp.abs(weight) < 0.5
    return xp.where(small, start + weight * diff, end - diff * (1 - weight)).astype(diff.dtype, copy=False)


class Lerp(Function):
    @staticmethod
    def forward(ctx, start, end, weight):
        ctx.save_for_backward(start, end, weight)
        return wrap(_lerp(value(start), value(end), value(weight)))

    @staticmethod
    def backward(ctx, grad_output):
        start, end, weight = ctx.saved_tensors
        return (
            grad_output * (1 - weight) if ctx.needs_input_grad[0] else None,
            grad_output * weight if ctx.needs_input_grad[1] else None,
            grad_output * (end - start) if ctx.needs_input_grad[2] else None,
        )


def _add(x, y):
    return x + y


def _sub(x, y):
    return x - y


def _mul(x, y):
    return x * y


def _div(x, y):
    return x / y


def _pow(x, y):
    return x**y


def _float_division(a, b):
    """True division of integers gives the default float dtype, as in PyTorch."""
    default = dtypes.get_default_dtype()
    if isinstance(a, Tensor) and a._data.dtype.kind in "iub":
        a = a.to(default)
    if isinstance(b, Tensor) and b._data.dtype.kind in "iub":
        b = b.to(default)
    return a, b


def _checked_scalar(number, tensor):
    """An int scalar argument (``alpha``, ``value``, an exponent) of an integer tensor: PyTorch
    converts it to the tensor's dtype with an overflow check (the operands themselves wrap)."""
    if number.__class__ is int and isinstance(tensor, Tensor) and tensor._data.dtype.kind in "iu":
        return checked_scalar(number, tensor._data.dtype)
    return number


def _checked_alpha(alpha, input, other):
    """add/sub's ``alpha`` as PyTorch takes it (its ``alpha_check``, then the checked conversion to
    the result's dtype): a float alpha is refused for an integral or bool result, a bool one for a
    non-bool result, and it must fit the dtype (1e300 into float32, 70000 into float16)."""
    a, b = promote(input, other)
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        dtype = result_dtype(a, b)
    else:
        dtype = (a if isinstance(a, Tensor) else b)._data.dtype
    if isinstance(alpha, float) and dtype.kind in "iub":
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")
    if isinstance(alpha, bool) and dtype.kind != "b":
        raise RuntimeError("Boolean alpha only supported for Boolean results.")
    return checked_scalar(alpha, dtype)


def add(input, other, *, alpha=1, out=None):
    """input + alpha * other, broadcasting as PyTorch."""
    if out is not None:
        return write_out(out, "add", add, input, other, alpha=alpha)
    if alpha != 1 or alpha.__class__ is bool:  # alpha=True is checked too (PyTorch's bool rule)
        other = other * _checked_alpha(alpha, input, other)
    return Add.apply(*promote(input, other))


def sub(input, other, *, alpha=1, out=None):
    if out is not None:
        return write_out(out, "sub", sub, input, other, alpha=alpha)
    if isinstance(input, Tensor) and input._data.dtype.kind == "b" and isinstance(other, Tensor) and other._data.dtype.kind == "b":
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or `logical_xor()` operator instead.")
    if alpha != 1 or alpha.__class__ is bool:  # alpha=True is checked too (PyTorch's bool rule)
        other = other * _checked_alpha(alpha, input, other)
    return Sub.apply(*promote(input, other))


def arithmetic_(tensor, name, other, alpha=1):
    """``tensor.add_/sub_/mul_/div_(other)`` (``name``: "add", "sub", "mul", "div"; ``alpha`` for
    the first two). When autograd records nothing, ``tensor`` is float32/float64 and ``other`` a
    number or a tensor of its dtype and device shaped like it (or 0-d), the result is written
    straight into ``tensor``'s memory, one pass: NumPy's ufunc with ``out=``, and ``add_`` with an
    ``alpha`` a tensor's fused multiply-add (``backend.add_scaled_``: BLAS's axpy, on its threads
    for 2**14+ elements, else on this thread), each element rounded once as PyTorch's ``add_``.
    Otherwise the op runs out of place and ``inplace`` stores it (casts, broadcasting, graphs).
    The word-LM example's manual update ``p.data.add_(p.grad, alpha=-lr)`` over its 4.6M weights:
    4.1 -> 1.3 ms; clipping's ``grad.mul_(coefficient)`` a pass and a temporary fewer."""
    data = tensor._data
    if _writes_straight(tensor, data, other):
        operand = other._data if isinstance(other, Tensor) else other
        token = _float_errors.ignore()  # inf and NaN silently, as in PyTorch
        try:
            if (alpha != 1 or alpha.__class__ is bool) and name in ("add", "sub"):
                alpha = _checked_alpha(alpha, tensor, other)
                if operand.__class__ is data.__class__ and operand.shape == data.shape:
                    coefficient = alpha if name == "add" else -alpha
                    backend.add_scaled_(data, operand, coefficient, fused=data.size < backend.AXPY_MIN_SIZE)
                    tensor._version[0] += 1
                    return tensor
            else:
                _UFUNC_NAMES[name](backend.array_module(data), data, operand)
                tensor._version[0] += 1
                return tensor
        finally:
            _float_errors.restore(token)
    if name in ("add", "sub"):
        return inplace(tensor, add if name == "add" else sub, other, alpha=alpha)
    return inplace(tensor, mul if name == "mul" else div, other)


_UFUNC_NAMES = {
    "add": lambda xp, a, b: xp.add(a, b, out=a),
    "sub": lambda xp, a, b: xp.subtract(a, b, out=a),
    "mul": lambda xp, a, b: xp.multiply(a, b, out=a),
    "div": lambda xp, a, b: xp.true_divide(a, b, out=a),
}


def _writes_straight(tensor, data, other):
    """Whether ``arithmetic_`` can write into ``data`` directly (see there)."""
    if grad_state.enabled:
        if tensor._requires_grad or getattr(other, "_requires_grad", False):
            return False
        check_inplace(tensor)  # a view of a tensor that requires grad is refused as by ``inplace``
    if not backend.is_array(data) or data.dtype.char not in "fd" or not backend.is_writeable(data):
        return False
    if other.__class__ in (int, float, bool):
        return True
    if not isinstance(other, Tensor):
        return False
    operand = other._data
    if operand.__class__ is not data.__class__ or operand.dtype != data.dtype or (operand.shape != data.shape and operand.ndim):
        return False
    check_same_device(tensor, other)
    # A partly overlapping operand could be read after it was written: the out-of-place path then.
    return operand is data or not backend.array_module(data).may_share_memory(data, operand)


def mul(input, other, *, out=None):
    if out is not None:
        return write_out(out, "mul", mul, input, other)
    return Mul.apply(*promote(input, other))


def div(input, other, *, rounding_mode=None, out=None):
    if out is not None:
        return write_out(out, "div", div, input, other, rounding_mode=rounding_mode)
    if rounding_mode is None:
        # An int operand stays a number, not one wrapped into an integer tensor's dtype: the
        # division is done in floating point (uint8 / 300 is 1/300, not 1/44).
        input, other = (float(x) if x.__class__ is int else x for x in (input, other))
        return Div.apply(*_float_division(*promote(input, other)))
    if rounding_mode in ("trunc", "floor"):
        return RoundedDiv.apply(*promote(input, other), rounding_mode)
    raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'")


def _rounded_quotient(a, b, mode):
    """``a / b`` rounded toward -inf ("floor") or toward zero ("trunc"), in the operands' dtype."""
    if mode == "floor":
        return _compute(lambda x, y: x // y, a, b)
    xp = backend.array_module(a._data if isinstance(a, Tensor) else b._data)
    result = xp.trunc(_compute(_div, a, b))
    return result.astype((a if isinstance(a, Tensor) else b)._data.dtype, copy=False)


class RoundedDiv(Function):
    """``div(a, b, rounding_mode=...)`` and ``floor_divide``: a step function of both operands, so
    its gradient is zero, as PyTorch's for ``div`` (PyTorch defines none for ``floor_divide`` and
    raises at backward; docs/differences.md)."""

    @staticmethod
    def forward(ctx, a, b, mode):
        return wrap(_rounded_quotient(a, b, mode))

    @staticmethod
    def backward(ctx, grad_output):
        zero = grad_output * 0
        return (zero if ctx.needs_input_grad[0] else None), (zero if ctx.needs_input_grad[1] else None), None


class Remainder(Function):
    """``remainder`` (``a - b * floor(a / b)``, the divisor's sign, Python's ``%``) and ``fmod``
    (``a - b * trunc(a / b)``, the dividend's sign, C's). PyTorch's gradients: the input's passes
    through, the divisor's is minus the rounded quotient."""

    @staticmethod
    def forward(ctx, a, b, mode):
        ctx.save_for_backward(a, b)
        ctx.mode = mode
        if mode == "floor":
            return wrap(_compute(lambda x, y: x % y, a, b))
        xp = backend.array_module(a._data if isinstance(a, Tensor) else b._data)
        return wrap(_compute(xp.fmod, a, b))

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        grad_b = None
        if ctx.needs_input_grad[1]:
            grad_b = -grad_output * wrap(_rounded_quotient(a, b, ctx.mode))
        return (grad_output if ctx.needs_input_grad[0] else None), grad_b, None


def floor_divide(input, other, *, out=None):
    if out is not None:
        return write_out(out, "floor_divide", floor_divide, input, other)
    return RoundedDiv.apply(*promote(input, other), "floor")


def remainder(input, other, *, out=None):
    """Python's modulus: the result takes the divisor's sign (``fmod`` takes the dividend's)."""
    if out is not None:
        return write_out(out, "remainder", remainder, input, other)
    return Remainder.apply(*promote(input, other), "floor")


def fmod(input, other, *, out=None):
    """C's fmod: the remainder takes the dividend's sign (``remainder`` takes the divisor's)."""
    if out is not None:
        return write_out(out, "fmod", fmod, input, other)
    return Remainder.apply(*promote(input, other), "trunc")


def pow(input, exponent, *, out=None):
    if out is not None:
        return write_out(out, "pow", pow, input, exponent)
    base, exponent = promote(input, _checked_scalar(exponent, input))
    if isinstance(base, Tensor) and base._data.dtype.kind in "iu" and isinstance(exponent, int) and exponent < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    return Pow.apply(base, exponent)


def _tensor_pair(a, b, name):
    """Two operands as tensors: numbers become 0-d tensors; anything else (a list) is refused."""
    for position, (x, argument) in enumerate(((a, "input"), (b, "other")), 1):
        if not isinstance(x, (Tensor, numbers.Number)):
            raise TypeError(f"{name}(): argument '{argument}' (position {position}) must be Tensor, not {type(x).__name__}")
    if not isinstance(a, Tensor):
        a = scalar_like(a, b)
    if not isinstance(b, Tensor):
        b = scalar_like(b, a)
    return promote(a, b)


def maximum(input, other, *, out=None):
    if out is not None:
        return write_out(out, "maximum", maximum, input, other)
    return Maximum.apply(*_tensor_pair(input, other, "maximum"))


def minimum(input, other, *, out=None):
    if out is not None:
        return write_out(out, "minimum", minimum, input, other)
    return Minimum.apply(*_tensor_pair(input, other, "minimum"))


def where(condition, input=None, other=None):
    """Elements of input where condition holds, else of other (numbers allowed for either)."""
    if input is None and other is None:
        return condition.nonzero(as_tuple=True)
    if not isinstance(condition, Tensor) or condition._data.dtype.kind != "b":
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype {getattr(condition, 'dtype', type(condition).__name__)}")
    if isinstance(input, numbers.Real) and isinstance(other, numbers.Real):
        # Two numbers: the first becomes the 0-d tensor PyTorch makes of it, so where(c, 1, 0) is
        # int64 and where(c, 1.0, 0) the default float, as in PyTorch.
        input = _number_tensor(input, condition)
    input, other = _checked_scalar(input, other), _checked_scalar(other, input)
    a, b = promote(input, other)
    for number, tensor in ((a, b), (b, a)):  # PyTorch checks a float number against a float32/64
        if number.__class__ is float and isinstance(tensor, Tensor) and tensor._data.dtype.kind == "f" and tensor._data.dtype.itemsize >= 4:
            checked_scalar(number, tensor._data.dtype)  # result; float16 takes it from a double
    for x in (a, b):
        if isinstance(x, Tensor):
            check_same_device(condition, x)
    return Where.apply(condition, a, b)


def _number_tensor(number, like):
    """A Python number as a 0-d tensor on ``like``'s device: bool, int64 or the default float."""
    xp = backend.array_module(like._data)
    if isinstance(number, bool):
        dtype = xp.bool_
    elif isinstance(number, numbers.Integral):
        dtype = xp.int64
    else:
        dtype = dtypes.default_float_numpy()
    return Tensor._make(xp.asarray(number, dtype=dtype))


def lerp(input, end, weight, *, out=None):
    if out is not None:
        return write_out(out, "lerp", lerp, input, end, weight)
    start, end = promote(input, end)
    return Lerp.apply(start, end, weight)


def _checked_value(value, input):
    """addcmul/addcdiv's ``value`` as PyTorch's kernels take it: converted with its overflow check
    to the input's dtype (float16 computes in float32; an integer dtype truncates 2.5 to 2)."""
    if isinstance(input, Tensor) and value.__class__ in (int, float):
        dtype = input._data.dtype
        return checked_scalar(value, np.float32 if dtype == np.float16 else dtype)
    return value


def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    if out is not None:
        return write_out(out, "addcmul", addcmul, input, tensor1, tensor2, value=value)
    if all(isinstance(t, Tensor) and t._data.dtype.kind == "b" for t in (input, tensor1, tensor2)):
        raise NotImplementedError("\"addcmul_cpu_out\" not implemented for 'Bool'")
    return input + _checked_value(value, input) * tensor1 * tensor2


_INTEGER_ADDCDIV = (
    "Integer division with addcdiv is no longer supported, and in a future  release addcdiv will perform a true "
    "division of tensor1 and tensor2. The historic addcdiv behavior can be implemented as (input + value * "
    "torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer inputs and as (input + value * tensor1 / tensor2) "
    "for float inputs. The future addcdiv behavior is just the latter implementation: (input + value * tensor1 / "
    "tensor2), for all dtypes."
)


def addcdiv(input, tensor1, tensor2, *, value=1, out=None):
    if out is not None:
        return write_out(out, "addcdiv", addcdiv, input, tensor1, tensor2, value=value)
    if all(isinstance(t, Tensor) and t._data.dtype.kind in "iub" for t in (tensor1, tensor2)):
        raise RuntimeError(_INTEGER_ADDCDIV)
    return input + _checked_value(value, input) * tensor1 / tensor2


# -- comparisons and logic: no gradient, boolean results ----------------------------------------
def _compare(fn, a, b):
    a, b = promote(a, b)
    return wrap(_compute(fn, a, b))


def eq(input, other, *, out=None):
    if out is not None:
        return write_out(out, "eq", eq, input, other)
    return _compare(lambda x, y: x == y, input, other)


def ne(input, other, *, out=None):
    if out is not None:
        return write_out(out, "ne", ne, input, other)
    return _compare(lambda x, y: x != y, input, other)


def lt(input, other, *, out=None):
    if out is not None:
        return write_out(out, "lt", lt, input, other)
    return _compare(lambda x, y: x < y, input, other)


def le(input, other, *, out=None):
    if out is not None:
        return write_out(out, "le", le, input, other)
    return _compare(lambda x, y: x <= y, input, other)


def gt(input, other, *, out=None):
    if out is not None:
        return write_out(out, "gt", gt, input, other)
    return _compare(lambda x, y: x > y, input, other)


def ge(input, other, *, out=None):
    if out is not None:
        return write_out(out, "ge", ge, input, other)
    return _compare(lambda x, y: x >= y, input, other)


greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def _logical(name):
    def op(input, other, *, out=None):
        if out is not None:
            return write_out(out, name, op, input, other)
        a, b = promote(input, other)
        xp = backend.array_module(a._data if isinstance(a, Tensor) else b._data)
        return wrap(_compute(getattr(xp, name), a, b))

    op.__name__ = name
    return op


logical_and = _logical("logical_and")
logical_or = _logical("logical_or")
logical_xor = _logical("logical_xor")


def _bitwise(name):
    def op(input, other, *, out=None):
        if out is not None:
            return write_out(out, name, op, input, other)
        a, b = promote(input, other)
        like = a if isinstance(a, Tensor) else b
        if like._data.dtype.kind == "f":
            raise RuntimeError(f'"{name}_cpu" not implemented for \'{dtypes.scalar_type_name(like._data.dtype)}\'')
        return wrap(_compute(getattr(backend.array_module(like._data), name), a, b))

    op.__name__ = name
    return op


bitwise_and = _bitwise("bitwise_and")
bitwise_or = _bitwise("bitwise_or")
bitwise_xor = _bitwise("bitwise_xor")


def bitwise_not(input, *, out=None):
    if out is not None:
        return write_out(out, "bitwise_not", bitwise_not, input)
    if input._data.dtype.kind == "f":
        raise TypeError("~ (bitwise_not) is only supported for integer and bool tensors")
    return wrap(~input._data)


def logical_not(input, *, out=None):
    if out is not None:
        return write_out(out, "logical_not", logical_not, input)
    return wrap(backend.array_module(input._data).logical_not(input._data))


def isnan(input):
    return wrap(backend.array_module(input._data).isnan(input._data))


def isinf(input):
    return wrap(backend.array_module(input._data).isinf(input._data))


def isfinite(input):
    return wrap(backend.array_module(input._data).isfinite(input._data))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    a, b = promote(input, other)
    xp = backend.array_module(a._data)
    return wrap(xp.isclose(a._data, b._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


def equal(input, other):
    """True when both tensors have the same shape and elements."""
    check_same_device(input, other)
    return input._data.shape == other._data.shape and bool((input._data == other._data).all())
