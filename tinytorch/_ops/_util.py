"""What every op module needs: wrapping arrays, dims, dtype promotion and device checks."""

import math
import warnings
from collections import namedtuple

import numpy as np

from .. import _backend as backend, _dtypes as dtypes, _float_errors
from ..autograd.grad_mode import state as grad_state
from .._tensor import Tensor

_make = Tensor._make
_NUMBER = (int, float, bool)

# ``wrap(array)``: a new tensor around an op's result array (no graph; Function.apply attaches
# it). It is the fast constructor itself, so an op's output costs no extra Python frame.
wrap = _make


# ``with quiet():`` NumPy's warnings on overflow, 0/0 and log(0) off, as PyTorch returns inf/nan
# silently: for array code outside a ``Function``'s forward and backward, which are quiet already.
quiet = _float_errors.quiet


def value(x):
    """The array behind a tensor, or the number itself."""
    return x._data if isinstance(x, Tensor) else x


def xp_of(x):
    return backend.array_module(x._data)


def normalize_dim(dim, ndim):
    """``dim`` as a non-negative int; IndexError naming the valid range, as PyTorch."""
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"dim must be an int, got {type(dim).__name__}")
    low, high = (-1, 0) if ndim == 0 else (-ndim, ndim - 1)
    if not low <= dim <= high:
        raise IndexError(f"Dimension out of range (expected to be in range of [{low}, {high}], but got {dim})")
    return int(dim) % max(ndim, 1) if ndim else 0


def normalize_dims(dim, ndim):
    """A tuple of non-negative dims from None (all), an int, or a sequence; repeated dims are an error."""
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return tuple(range(ndim))
    if isinstance(dim, (tuple, list)):
        dims = tuple(normalize_dim(d, ndim) for d in dim)
        for d in dims:
            if dims.count(d) > 1:
                raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
        return dims if ndim else ()
    return (normalize_dim(dim, ndim),) if ndim else ()


def shape_arg(shape):
    """Sizes given as ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` or ``f(Size)``."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    try:
        return tuple(int(s) for s in shape)
    except TypeError:
        raise TypeError(f"shape must be a sequence of ints, got {shape!r}") from None


def result_dtype(a, b):
    """PyTorch's result type for two tensors: category first (bool < int < float), and a 0-d
    tensor does not widen a dimensioned tensor of its own category."""
    da, db = a._data.dtype, b._data.dtype
    if da == db:
        return da
    a0, b0 = a._data.ndim == 0, b._data.ndim == 0
    if a0 == b0:  # PyTorch's promote_types, with its refusal for uint16/32/64 beside another int or bool
        return dtypes.promote_types(dtypes.from_numpy_dtype(da), dtypes.from_numpy_dtype(db)).numpy
    dim, zero = (db, da) if a0 else (da, db)  # a 0-d tensor joins in only from a higher category
    if dtypes.category(dim) != 2 and (dim == np.bool_ or dtypes.category(zero) == 2):
        return dtypes.promote_types(dtypes.from_numpy_dtype(dim), dtypes.from_numpy_dtype(zero)).numpy
    return dim


def check_same_device(a, b):
    if a._data.__class__ is not b._data.__class__ or (
        a._data.__class__ is not np.ndarray and a._data.device != b._data.device
    ):
        raise RuntimeError(
            "Expected all tensors to be on the same device, but found at least two devices, "
            f"{a.device} and {b.device}!"
        )


def as_operand(x, like=None):
    """Numbers stay numbers; NumPy scalars become numbers; arrays and lists become tensors."""
    if isinstance(x, Tensor) or x.__class__ in _NUMBER:
        return x
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray) or backend.is_cuda_array(x):  # as PyTorch, which takes arrays, not lists
        return _make(backend.to_device(x, like.device if like is not None else "cpu"))
    raise TypeError(f"unsupported operand type: {type(x).__name__}")


def promote(a, b):
    """Cast two operands (tensors or numbers) to PyTorch's common dtype; checks devices."""
    a, b = as_operand(a, b if isinstance(b, Tensor) else None), as_operand(b, a if isinstance(a, Tensor) else None)
    a_is_tensor, b_is_tensor = isinstance(a, Tensor), isinstance(b, Tensor)
    if a_is_tensor and b_is_tensor:
        check_same_device(a, b)
        if a._data.dtype != b._data.dtype:
            target = result_dtype(a, b)
            if np.promote_types(a._data.dtype, b._data.dtype) == target:
                return a, b  # NumPy computes in the target dtype by itself (e.g. float32 * bool)
            if a._data.dtype != target:
                a = a.to(dtypes.from_numpy_dtype(target))
            if b._data.dtype != target:
                b = b.to(dtypes.from_numpy_dtype(target))
        return a, b
    if a_is_tensor:
        a = _with_number(a, b)
        return a, _wrapped(b, a)
    if b_is_tensor:
        b = _with_number(b, a)
        return _wrapped(a, b), b
    raise TypeError("at least one operand must be a tensor")


def _wrapped(number, t):
    """An int operand of an integer tensor, wrapped into its dtype as PyTorch's C cast does
    (``uint8 + 300`` adds 44; ``uint8 < 300`` compares with 44): NumPy would refuse it."""
    if number.__class__ is int:
        if t._data.dtype.kind in "iu":
            return wrap_integer(number, t._data.dtype)
        if not -(1 << 63) <= number < 1 << 64:
            raise OverflowError("int too big to convert")  # as PyTorch, which unpacks an int64 or uint64
    return number


# The C++ names PyTorch's overflow message gives each dtype.
_C_TYPE_NAMES = {"bool": "bool", "int8": "int8_t", "int16": "int16_t", "int32": "int", "int64": "int64_t",
                 "uint8": "uint8_t", "uint16": "uint16_t", "uint32": "uint32_t", "uint64": "uint64_t",
                 "float16": "c10::Half", "float32": "float", "float64": "double",
                 "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}


def overflow_error(dtype):
    """PyTorch's error for a number that does not fit ``dtype``."""
    return RuntimeError(f"value cannot be converted to type {_C_TYPE_NAMES[np.dtype(dtype).name]} without overflow")


def checked_scalar(number, dtype):
    """A Python number to be stored in ``dtype`` (a fill, a bound, ``where``'s other, a threshold):
    PyTorch's checked conversion (c10's ``checked_convert``), which refuses what does not fit.
    An int fits an integer dtype within its range, except that an unsigned dtype also takes
    negatives down to minus its maximum, wrapped (``uint8``: -1 is 255); a float fits an integer
    dtype when it is finite and within the range (then truncated: 2.5 is 2, while ``int8`` refuses
    127.5); a finite number fits a float dtype within +-its largest value (``float32`` refuses 1e300,
    ``float16`` 70000), and inf and NaN always do; everything fits ``bool``. An int past what
    PyTorch unpacks (int64 or uint64) raises ``OverflowError``, as there. Other values pass as given."""
    kind = number.__class__
    if kind is not int and kind is not float:
        if kind is bool or not isinstance(number, (np.integer, np.floating)):
            return number
        number = number.item()  # NumPy's scalars count as the Python numbers they hold
        kind = number.__class__
    if kind is int and not -(1 << 63) <= number < 1 << 64:
        raise OverflowError("int too big to convert")
    dtype = np.dtype(dtype)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        if kind is float:
            if not (math.isfinite(number) and info.min <= number <= info.max):
                raise overflow_error(dtype)
            return int(number)
        low = -info.max if dtype.kind == "u" else info.min
        if not low <= number <= info.max:
            raise overflow_error(dtype)
        return number % (info.max + 1) if number < 0 and dtype.kind == "u" else number
    if dtype.kind == "b":
        return bool(number)
    if dtype.kind == "f" and dtype.itemsize < 8 and abs(number) > float(np.finfo(dtype).max) and (kind is int or math.isfinite(number)):
        raise overflow_error(dtype)
    return number


def wrap_integer(number, dtype):
    """``number`` cast to the integer ``dtype`` modulo 2**bits, as C's cast in PyTorch's kernels;
    beyond what PyTorch unpacks from a Python int (int64 or uint64) it raises PyTorch's error."""
    info = np.iinfo(dtype)
    if info.min <= number <= info.max:
        return number
    if not -(1 << 63) <= number < 1 << 64:
        raise OverflowError("int too big to convert")
    number &= (1 << info.bits) - 1
    return number - (1 << info.bits) if number > info.max else number


def _with_number(t, number):
    """A tensor combined with a Python number keeps its dtype unless the number's kind is higher."""
    kind = t._data.dtype.kind
    if number.__class__ is float and kind in "iub":
        return t.to(dtypes.get_default_dtype())
    if number.__class__ is int and kind == "b":
        return t.to(dtypes.int64)
    return t


def scalar_like(number, like):
    """A 0-d tensor holding ``number`` on ``like``'s device, with PyTorch's dtype for a scalar."""
    kind = like._data.dtype.kind
    if number.__class__ is float:
        dtype = like._data.dtype if kind in "fc" else dtypes.default_float_numpy()
    elif number.__class__ is bool:
        dtype = np.bool_
    else:
        dtype = like._data.dtype if kind in "iufc" else np.int64
        if kind in "iu":
            number = wrap_integer(number, dtype)
    return _make(backend.array_module(like._data).asarray(number, dtype=dtype))


def _requires_grad_anywhere(values):
    """Whether a tensor among ``values`` (or in a list or tuple among them: ``cat``'s) requires grad."""
    for value in values:
        if isinstance(value, Tensor):
            if value._requires_grad:
                return True
        elif isinstance(value, (list, tuple)) and _requires_grad_anywhere(value):
            return True
    return False


def write_out(out, name, op, *args, **kwargs):
    """``name(*args, out=out)``: ``op(*args, **kwargs)`` stored into ``out``, as PyTorch's ``out=``.

    Not differentiable: PyTorch's error when grad mode is on, a tensor involved requires grad and
    the result is floating point. The result is cast to ``out``'s dtype where PyTorch's in-place rule allows it (never
    float into integer, nor number into bool); ``out`` of another shape is resized, with PyTorch's
    warning unless it was empty."""
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    result = op(*args, **kwargs)
    # A result that can carry a gradient (floating point) cannot go into ``out`` while autograd
    # watches; comparisons, argmax and other integer or bool results can, as in PyTorch.
    if grad_state.enabled and result._data.dtype.kind == "f" and (
        out._requires_grad or _requires_grad_anywhere(args) or _requires_grad_anywhere(kwargs.values())
    ):
        raise RuntimeError(
            f"{name}(): functions with out=... arguments don't support automatic differentiation, but one of the arguments requires grad."
        )
    if result.device != out.device:
        raise RuntimeError(f"Expected out tensor to have device {result.device}, but got {out.device} instead")
    data = out._data
    if result._data.shape != data.shape:
        if data.size:
            warnings.warn(
                f"An output with one or more elements was resized since it had shape {list(data.shape)}, which does not match "
                f"the required output shape {list(result._data.shape)}. This behavior is deprecated, and in a future PyTorch "
                "release outputs will not be resized unless they have zero elements. You can explicitly reuse an out tensor t "
                "by resizing it, inplace, to zero elements with t.resize_(0).",
                UserWarning, stacklevel=3,
            )
        out._data = backend.array_module(data).empty(result._data.shape, dtype=data.dtype)
    store(out, result)
    out._version[0] += 1
    return out


def store(tensor, result):
    """Copy an op's result into ``tensor``'s memory: the in-place and ``out=`` rules (same shape,
    no cast to a lower category, no overlapping memory)."""
    data, new = tensor._data, result._data
    if new.shape != data.shape:
        raise RuntimeError(f"output with shape {list(data.shape)} doesn't match the broadcast shape {list(new.shape)}")
    if new.dtype != data.dtype and dtypes.category(new.dtype) > dtypes.category(data.dtype):
        raise RuntimeError(
            f"result type {dtypes.scalar_type_name(new.dtype)} can't be cast to the desired output type {dtypes.scalar_type_name(data.dtype)}"
        )
    if not backend.is_writeable(data):
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a single memory location. Please clone() the tensor before performing the operation."
        )
    backend.array_module(data).copyto(data, new, casting="unsafe")


def return_type(name, fields=("values", "indices")):
    """PyTorch's ``torch.return_types.<name>``: a named tuple that prints as PyTorch's."""
    cls = namedtuple(name, fields)
    cls.__module__ = "tinytorch.return_types"
    cls.__qualname__ = name
    cls.__repr__ = lambda self: f"tinytorch.return_types.{name}(\n" + ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self)) + ")"
    return cls


def check_tensor_argument(name, value, argument="input", position=1):
    """PyTorch's TypeError for a non-tensor argument: "f(): argument 'x' (position 1) must be
    Tensor, not list" (no position for a keyword-only argument)."""
    if not isinstance(value, Tensor):
        where = f" (position {position})" if position else ""
        raise TypeError(f"{name}(): argument '{argument}'{where} must be Tensor, not {type(value).__name__}")


def check_tensor_arguments(name, **arguments):
    """``check_tensor_argument`` for each argument, in the signature's order (positions from 1)."""
    for position, (argument, value) in enumerate(arguments.items(), 1):
        check_tensor_argument(name, value, argument, position)


def check_broadcast(shape_a, shape_b):
    """PyTorch's error (its ``infer_size``) for two shapes that do not broadcast: "The size of
    tensor a (2) must match the size of tensor b (3) at non-singleton dimension 0"."""
    n = max(len(shape_a), len(shape_b))
    for i in range(1, n + 1):
        a = shape_a[-i] if i <= len(shape_a) else 1
        b = shape_b[-i] if i <= len(shape_b) else 1
        if a != b and a != 1 and b != 1:
            raise RuntimeError(f"The size of tensor a ({a}) must match the size of tensor b ({b}) at non-singleton dimension {n - i}")
