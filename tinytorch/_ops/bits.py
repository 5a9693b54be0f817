"""Ops on the binary representation of numbers: frexp, ldexp, nextafter (floating point) and the
bit shifts bitwise_left_shift / bitwise_right_shift (integers).

frexp is a Function (its mantissa is differentiable, its int32 exponent is not); ldexp is a
composite of exp2 and mul, so its gradients (to both arguments) come free. nextafter and the
shifts have no gradient."""

import numbers

from .. import _backend as backend, _dtypes as dtypes
from ..autograd.function import Function
from .._tensor import Tensor
from ._util import check_same_device, check_tensor_argument, promote, result_dtype, return_type, wrap, write_out
from .indexing import inplace
from .pointwise_extra import _not_implemented, exp2

__all__ = ["bitwise_left_shift", "bitwise_right_shift", "frexp", "ldexp", "ldexp_", "nextafter"]

frexp_type = return_type("frexp", ["mantissa", "exponent"])
frexp_out_type = return_type("frexp_out", ["mantissa", "exponent"])

# PyTorch's frexp(out=) messages name dtypes as C++ does.
_CPP_NAMES = {"float16": "c10::Half", "float32": "float", "float64": "double", "int8": "signed char",
              "uint8": "unsigned char", "int16": "short int", "int32": "int", "int64": "long int", "bool": "bool"}


def _cpp_name(tensor):
    name = str(tensor.dtype).split(".")[-1]
    return _CPP_NAMES.get(name, name)


class Frexp(Function):
    """x = mantissa * 2^exponent with |mantissa| in [0.5, 1) (0, inf and NaN keep exponent 0).
    d mantissa / dx = 2^-exponent (exact: the exponent is a constant of the step)."""

    @staticmethod
    def forward(ctx, x):
        data = x._data
        xp = backend.array_module(data)
        mantissa, exponent = xp.frexp(data)
        ctx.exponent = exponent
        exponent = wrap(exponent.astype(xp.int32, copy=False))
        ctx.mark_non_differentiable(exponent)
        return wrap(mantissa), exponent

    @staticmethod
    def backward(ctx, grad_mantissa, grad_exponent):
        data = grad_mantissa._data
        power = backend.array_module(data).ldexp(data.dtype.type(1), ctx.exponent)  # 2^exponent, exact
        return grad_mantissa / wrap(power.astype(data.dtype, copy=False))


def frexp(input, *, out=None):
    """(mantissa, exponent): input = mantissa * 2^exponent, |mantissa| in [0.5, 1), exponent int32."""
    check_tensor_argument("frexp", input)
    if input._data.dtype.kind != "f":
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    if out is None:
        return frexp_type(*Frexp.apply(input))
    if not isinstance(out, (tuple, list)) or len(out) != 2 or not all(isinstance(t, Tensor) for t in out):
        raise TypeError(f"frexp(): argument 'out' must be tuple of Tensors, not {type(out).__name__}")
    mantissa, exponent = out
    if mantissa._data.dtype != input._data.dtype:
        raise RuntimeError(
            f"torch.frexp() expects mantissa to have dtype {_cpp_name(input)} but got {_cpp_name(mantissa)}"
        )
    if exponent._data.dtype != dtypes.to_numpy_dtype(dtypes.int32):
        raise RuntimeError(f"torch.frexp() expects exponent to have int dtype but got {_cpp_name(exponent)}")
    result = Frexp.apply(input)
    write_out(mantissa, "frexp", lambda x: result[0], input)
    write_out(exponent, "frexp", lambda x: result[1], input)
    return frexp_out_type(mantissa, exponent)


def ldexp(input, other, *, out=None):
    """input * 2^other; the result is floating point (integers give the default float dtype)."""
    check_tensor_argument("ldexp", input, "input", 1)
    check_tensor_argument("ldexp", other, "other", 2)
    if out is not None:
        return write_out(out, "ldexp", ldexp, input, other)
    check_same_device(input, other)
    dtype = result_dtype(input, other)
    target = dtypes.from_numpy_dtype(dtype) if dtype.kind in "fc" else dtypes.get_default_dtype()
    return input.to(target) * exp2(other.to(target))


def ldexp_(input, other):
    """``ldexp`` written into ``input`` (which must be floating point to hold it)."""
    check_tensor_argument("ldexp_", input, "input", 1)
    check_tensor_argument("ldexp_", other, "other", 2)
    if input._data.dtype.kind not in "fc":
        raise RuntimeError(f"ldexp can't be cast to the desired output type {dtypes.scalar_type_name(input._data.dtype)}")
    return inplace(input, ldexp, other)


def nextafter(input, other, *, out=None):
    """The next floating-point value after input in the direction of other. No gradient."""
    check_tensor_argument("nextafter", input, "input", 1)
    check_tensor_argument("nextafter", other, "other", 2)
    if out is not None:
        return write_out(out, "nextafter", nextafter, input, other)
    a, b = promote(input, other)
    if a._data.dtype.kind != "f":
        raise _not_implemented("nextafter", a)
    return wrap(backend.array_module(a._data).nextafter(a._data, b._data))


def _shift(name, kernel, left):
    """A bit shift with PyTorch's rule for shifts outside [0, bits): 0 for a left shift; for a
    right shift, the sign (0 or -1) of a signed value, 0 of an unsigned one. Spelled out, since
    C (and CUDA) leave such shifts undefined."""

    def op(input, other, *, out=None):
        for position, (value, argument) in enumerate(((input, "input"), (other, "other")), 1):
            if not isinstance(value, (Tensor, numbers.Real)):
                raise TypeError(f"{name}(): argument '{argument}' (position {position}) must be Tensor, not {type(value).__name__}")
        if not isinstance(input, Tensor) and not isinstance(other, Tensor):
            raise TypeError(f"{name}(): expected at least one Tensor argument")
        if out is not None:
            return write_out(out, name, op, input, other)
        a, b = promote(input, other)
        like = a if isinstance(a, Tensor) else b
        dtype = result_dtype(a, b) if isinstance(a, Tensor) and isinstance(b, Tensor) else like._data.dtype
        if dtype.kind not in "iu":
            raise _not_implemented(kernel, like if like._data.dtype == dtype else a.to(dtypes.from_numpy_dtype(dtype)))
        xp = backend.array_module(like._data)
        # A number takes the tensor's dtype, wrapping around as PyTorch's cast does (uint8: 300 -> 44).
        x, shift = (xp.asarray(t._data if isinstance(t, Tensor) else t).astype(dtype, copy=False) for t in (a, b))
        bits = x.dtype.itemsize * 8
        outside = (shift < 0) | (shift >= bits) if x.dtype.kind == "i" else shift >= bits
        inside = xp.where(outside, 0, shift).astype(x.dtype, copy=False)
        if left:
            result = xp.where(outside, 0, xp.left_shift(x, inside))
        else:
            fill = xp.right_shift(x, bits - 1) if x.dtype.kind == "i" else xp.zeros_like(x)
            result = xp.where(outside, fill, xp.right_shift(x, inside))
        return wrap(result.astype(x.dtype, copy=False))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"input {'<<' if left else '>>'} other, elementwise, for integer tensors (PyTorch's rule for shifts outside the width)."
    return op


bitwise_left_shift = _shift("bitwise_left_shift", "lshift", left=True)
bitwise_right_shift = _shift("bitwise_right_shift", "rshift", left=False)

