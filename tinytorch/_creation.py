"""Tensor creation: tensor, as_tensor, from_numpy, zeros/ones/full/empty (+_like), arange,
linspace, eye, and the random constructors."""

import builtins
import math
import numbers
import operator

import numpy as np

from . import _backend as backend, _dtypes as dtypes, _memory_format
from ._from_data import check_fits, exact_uint64, explain, sizes_of
from ._ops._util import checked_scalar, quiet, write_out
from ._ops.sampling import normal_of_tensors
from .random import check_random_bounds, generator_for, normal_ as _normal_
from ._tensor import Tensor

_make = Tensor._make


def _finish(data, requires_grad):
    t = _make(data)
    if requires_grad:
        t.requires_grad = True
    return t


def _device(device):
    """The device a factory creates on: the one given, else the default (``set_default_device``)."""
    return backend.default_device() if device is None else device


def _size(name, size, keyword):
    """``*size``, or the same sizes given as ``size=`` (PyTorch's keyword for them)."""
    if keyword is None:
        return size
    if size:
        raise TypeError(f"{name}() got multiple values for argument 'size'")
    return (keyword,)


def _fill_out(name, out, dtype, make):
    """A factory's ``out=``: ``make(dtype, device)`` builds the values with ``out``'s dtype (the
    one given must match it) on ``out``'s device, and ``out`` takes them, resized as needed."""
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {_type_name(out)}")
    if dtype is not None and dtypes.to_numpy_dtype(dtype) != out._data.dtype:
        raise RuntimeError(
            f"dtype {dtypes.scalar_type_name(dtypes.to_numpy_dtype(dtype))} does not match dtype of out parameter "
            f"({dtypes.scalar_type_name(out._data.dtype)})"
        )
    result = make(out.dtype, out.device)
    return write_out(out, name, lambda: result)


def _infer_numpy_dtype(data, numpy_dtype=None):
    """An array of Python data and PyTorch's dtype for it: floats -> default float, ints -> int64,
    bools -> bool. Data NumPy cannot read as numbers gets PyTorch's error (``_from_data.explain``)."""
    try:
        array = np.asarray(data)
    except (ValueError, TypeError, OverflowError):
        explain(data, numpy_dtype)
    kind = array.dtype.kind
    given = isinstance(data, (np.ndarray, np.generic))
    if kind in "fb" or (kind in "iu" and (given or array.dtype != np.uint64)):  # uint64: a Python int past int64
        return array, (array.dtype if given else _sequence_dtype(data))
    if not given:
        explain(data, numpy_dtype)
    raise TypeError(f"can't convert np.ndarray of type {array.dtype}. The only supported types are: " + ", ".join(d.name for d in dtypes.ALL))


def _sequence_dtype(data):
    """PyTorch's dtype for nested Python data: each leaf has its own (a Python float the default
    float, an int int64, a bool bool; a NumPy scalar or array, or a tensor, its dtype), and the
    leaves promote as tensors do: ``[np.float64(1.0), 2.0]`` is float64, ``[np.int32(1), 2]`` int64."""
    found, pending = set(), [data]
    while pending:
        x = pending.pop()
        if isinstance(x, (list, tuple)):
            pending.extend(x)
        elif isinstance(x, (np.ndarray, np.generic)):
            found.add(x.dtype)
        elif isinstance(x, bool):
            found.add(np.dtype(np.bool_))
        elif isinstance(x, numbers.Integral):
            found.add(np.dtype(np.int64))
        else:  # a Python float (NumPy has read every leaf as a number)
            found.add(dtypes.default_float_numpy())
    if not found:
        return dtypes.default_float_numpy()  # tensor([]) is float, as in PyTorch
    kinds = [dtypes.from_numpy_dtype(d) for d in found]
    result = kinds[0]
    for d in kinds[1:]:
        result = dtypes.promote_types(result, d)
    return result.numpy


def _leaf_values(data):
    """Tensors nested in lists are read as their values. As in PyTorch, a tensor where the shape of
    the first elements puts numbers must hold one element (``tensor([t1, t2])`` of 0-d tensors);
    a tensor above that level gives its rows."""
    leaf_depth = []

    def values(x, depth):
        if isinstance(x, Tensor):
            array = backend.to_numpy(x._data)
            if not leaf_depth:
                leaf_depth.append(len(sizes_of(data)))
            if depth < leaf_depth[0]:
                return array
            if array.size != 1:
                raise ValueError("only one element tensors can be converted to Python scalars")
            return array.reshape(())
        if isinstance(x, (list, tuple)) and any(isinstance(item, (Tensor, list, tuple)) for item in x):
            return [values(item, depth + 1) for item in x]
        return x

    return values(data, 0)


def _check_dtype_arg(name, dtype):
    if dtype is not None and dtype.__class__ is not dtypes.dtype and dtype not in (builtins.float, builtins.int, builtins.bool):
        raise TypeError(f"{name}(): argument 'dtype' must be tinytorch.dtype, not {type(dtype).__name__}")


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor (always a copy) from data: lists, numbers, NumPy arrays or tensors."""
    _check_dtype_arg("tensor", dtype)
    device = _device(device)
    if isinstance(data, Tensor):
        source = data._data
        target_device = backend.as_device(device) if device is not None else backend.device_of(source)
        array = backend.to_device(source, target_device)
        with quiet():  # float64's 1e300 as float32 is inf, silently, as in PyTorch
            array = array.astype(dtypes.to_numpy_dtype(dtype)) if dtype is not None else array.copy() if array is source else array
        return _finish(array, requires_grad)
    if backend.is_cuda_array(data):
        array = backend.to_device(data, device or backend.device_of(data))
        return _finish(array.astype(dtypes.to_numpy_dtype(dtype) if dtype else array.dtype, copy=True), requires_grad)
    wanted = dtypes.to_numpy_dtype(dtype) if dtype is not None else None
    if wanted == np.uint64 and not isinstance(data, np.ndarray):
        exact = exact_uint64(data)
        if exact is not None:
            return _finish(backend.to_device(exact, backend.as_device(device)), requires_grad)
    array, inferred = _infer_numpy_dtype(_leaf_values(data), wanted)
    numpy_dtype = wanted if wanted is not None else inferred
    dtypes.from_numpy_dtype(numpy_dtype)
    if wanted is not None and not isinstance(data, np.ndarray):
        check_fits(array, wanted)  # Python numbers past the dtype's range are refused, not wrapped
    with quiet():
        array = np.array(array, dtype=numpy_dtype, copy=True)
    return _finish(backend.to_device(array, backend.as_device(device)), requires_grad)


def as_tensor(data, dtype=None, device=None):
    """Like ``tensor`` but shares memory with a NumPy array or tensor when dtype and device allow."""
    if isinstance(data, Tensor):
        return data.to(dtype=dtype, device=device)
    device = _device(device)
    if isinstance(data, np.ndarray) and (dtype is None or dtypes.to_numpy_dtype(dtype) == data.dtype) and backend.as_device(device).type == "cpu":
        dtypes.from_numpy_dtype(data.dtype)
        return _make(data)
    return tensor(data, dtype=dtype, device=device)


asarray = as_tensor


def from_numpy(array):
    """A CPU tensor sharing memory with ``array``."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    dtypes.from_numpy_dtype(array.dtype)
    return _make(array)


def _type_name(value):
    return type(value).__name__


def _bad_size(name, size, packed):
    """PyTorch's argument-parser message for a size that is not a tuple of ints."""
    if not packed and len(size) == 1:
        return TypeError(f"{name}(): argument 'size' (position 1) must be tuple of ints, not {_type_name(size[0])}")
    for position, s in enumerate(size):
        if isinstance(s, builtins.bool) or not hasattr(s, "__index__"):
            if position == 0:
                return TypeError(f"{name}(): argument 'size' (position 1) must be tuple of ints, but found element of type {_type_name(s)} at pos 0")
            return TypeError(
                f"{name}(): argument 'size' failed to unpack the object at pos {position + 1} with error "
                f'"type must be tuple of ints,but got {_type_name(s)}"'
            )
    return TypeError(f"{name}(): argument 'size' (position 1) must be tuple of ints")


def _shape(size, name="empty"):
    """The shape from a factory's ``*size`` (ints, or one tuple/list/Size of ints), checked as
    PyTorch checks it before anything is allocated."""
    packed = len(size) == 1 and isinstance(size[0], (tuple, list))
    if packed:
        size = size[0]
    if all(s.__class__ is builtins.int for s in size):
        shape = tuple(size)
    else:
        try:
            if any(isinstance(s, builtins.bool) for s in size):
                raise TypeError
            shape = tuple(operator.index(s) for s in size)
        except TypeError:
            raise _bad_size(name, size, packed) from None
    for s in shape:
        if s < 0:
            if name == "zeros":
                raise RuntimeError("zeros: Dimension size must be non-negative.")
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(shape)}")
    return shape


def _xp_dtype(dtype, device, default=None, name="empty"):
    _check_dtype_arg(name, dtype)
    xp = backend.array_module(backend.as_device(device))
    numpy_dtype = dtypes.to_numpy_dtype(dtype) if dtype is not None else (default or dtypes.default_float_numpy())
    return xp, numpy_dtype


def _on(device, make):
    with backend.on_device(device if device is not None else "cpu"):
        return make()


def _not_implemented(kernel, numpy_dtype):
    return NotImplementedError(f'"{kernel}" not implemented for \'{dtypes.scalar_type_name(numpy_dtype)}\'')


def _filled(name, sizes, size, out, dtype, device, requires_grad, fill):
    """zeros, ones and empty: ``fill(xp, shape, numpy_dtype)`` makes the array."""
    shape = _shape(_size(name, sizes, size), name)
    if out is not None:
        return _fill_out(name, out, dtype, lambda d, dev: _filled(name, shape, None, None, d, dev, False, fill))
    device = _device(device)
    xp, d = _xp_dtype(dtype, device, name=name)
    return _finish(_on(device, lambda: fill(xp, shape, d)), requires_grad)


def zeros(*sizes, size=None, out=None, dtype=None, device=None, requires_grad=False):
    """Zeros of the given size: ``zeros(2, 3)``, ``zeros((2, 3))`` or ``zeros(size=(2, 3))``."""
    return _filled("zeros", sizes, size, out, dtype, device, requires_grad, lambda xp, shape, d: xp.zeros(shape, dtype=d))


def ones(*sizes, size=None, out=None, dtype=None, device=None, requires_grad=False):
    """Ones of the given size: ``ones(2, 3)``, ``ones((2, 3))`` or ``ones(size=(2, 3))``."""
    return _filled("ones", sizes, size, out, dtype, device, requires_grad, lambda xp, shape, d: xp.ones(shape, dtype=d))


def empty(*sizes, size=None, out=None, dtype=None, device=None, requires_grad=False,
          memory_format=_memory_format.contiguous_format):
    """An uninitialized tensor: ``empty(2, 3)``, ``empty((2, 3))`` or ``empty(size=(2, 3))``; laid out
    in ``memory_format``'s order (``channels_last``: NHWC memory for an NCHW tensor)."""
    fmt = _memory_format.check_type("empty", memory_format)

    def fill(xp, shape, d):
        order = _memory_format.format_order(fmt, len(shape))
        return _memory_format.laid_out(lambda s: xp.empty(s, dtype=d), shape, order)

    return _filled("empty", sizes, size, out, dtype, device, requires_grad, fill)


def _fill_dtype(fill_value):
    if isinstance(fill_value, builtins.bool):
        return np.dtype(np.bool_)
    if isinstance(fill_value, builtins.int):
        return np.dtype(np.int64)
    return dtypes.default_float_numpy()


def _fill_number(name, fill_value):
    """A fill value as PyTorch's ``Number`` argument: a number or a 0-d tensor."""
    if isinstance(fill_value, Tensor) and fill_value._data.ndim == 0:
        return fill_value.item()
    if not isinstance(fill_value, numbers.Number):
        raise TypeError(f"{name}(): argument 'fill_value' (position 2) must be Number, not {_type_name(fill_value)}")
    return fill_value


def full(size, fill_value, *, out=None, dtype=None, device=None, requires_grad=False):
    """A tensor of ``size`` filled with ``fill_value`` (its dtype follows the value: bool, int64 or float)."""
    if out is not None:
        return _fill_out("full", out, dtype, lambda d, dev: full(size, fill_value, dtype=d, device=dev))
    device = _device(device)
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"full(): argument 'size' (position 1) must be tuple of ints, not {_type_name(size)}")
    shape = _shape((size,), "full")
    fill_value = _fill_number("full", fill_value)
    xp, d = _xp_dtype(dtype, device, _fill_dtype(fill_value), name="full")
    fill_value = checked_scalar(fill_value, d)
    return _finish(_on(device, lambda: xp.full(shape, fill_value, dtype=d)), requires_grad)


def _like(input, dtype, device, name):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {_type_name(input)}")
    return (dtype if dtype is not None else input.dtype), (device if device is not None else input.device)


def _laid_out_like(name, input, memory_format, requires_grad, make):
    """A ``*_like`` result: ``make(shape)`` builds a row-major tensor, built here in the memory order
    ``memory_format`` asks for (``preserve_format``: the input's own order of strides, as PyTorch)."""
    fmt = _memory_format.check_type(name, memory_format)
    # A sparse input has no strides to preserve: its *_like is a dense row-major tensor.
    sparse_preserve = input.is_sparse and fmt is _memory_format.preserve_format
    order = tuple(range(input.ndim)) if sparse_preserve else _memory_format.order_for(fmt, input._data)
    data = _memory_format.laid_out(lambda shape: make(shape)._data, input.shape, order)
    if not data.size and fmt is _memory_format.preserve_format and not input.is_sparse:
        # An empty tensor counts as dense: PyTorch's *_like keeps its strides exactly.
        data = _memory_format.with_strides(data, input.stride())
    return _finish(data, requires_grad)


def zeros_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=_memory_format.preserve_format):
    d, dev = _like(input, dtype, device, "zeros_like")
    return _laid_out_like("zeros_like", input, memory_format, requires_grad, lambda s: zeros(s, dtype=d, device=dev))


def ones_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=_memory_format.preserve_format):
    d, dev = _like(input, dtype, device, "ones_like")
    return _laid_out_like("ones_like", input, memory_format, requires_grad, lambda s: ones(s, dtype=d, device=dev))


def empty_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=_memory_format.preserve_format):
    d, dev = _like(input, dtype, device, "empty_like")
    return _laid_out_like("empty_like", input, memory_format, requires_grad, lambda s: empty(s, dtype=d, device=dev))


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False,
              memory_format=_memory_format.preserve_format):
    d, dev = _like(input, dtype, device, "full_like")
    fill_value = _fill_number("full_like", fill_value)
    return _laid_out_like("full_like", input, memory_format, requires_grad,
                          lambda s: full(s, fill_value, dtype=d, device=dev))


def _cpp_number(value):
    """A bound as C++ streams print a double in PyTorch's messages: 0, 2.5, nan, inf."""
    return str(builtins.int(value)) if isinstance(value, builtins.float) and value.is_integer() else str(value)


def arange(start=0, end=None, step=1, *, out=None, dtype=None, device=None, requires_grad=False):
    """Values from start to end (exclusive) by step; int64 unless a bound or step is a float."""
    if out is not None:
        return _fill_out("arange", out, dtype, lambda d, dev: arange(start, end, step, dtype=d, device=dev))
    device = _device(device)
    positions = {"start": 1, "end": 2, "step": 3}
    if end is None:
        start, end, positions = 0, start, {"start": 0, "end": 1, "step": 2}
    values = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    for value, argument in zip(values, positions):
        if not isinstance(value, numbers.Real):
            raise TypeError(f"arange(): argument '{argument}' (position {positions[argument]}) must be Number, not {_type_name(value)}")
    low, high, step_value = values
    if not step_value:  # also NaN, as PyTorch's check reads it
        raise RuntimeError("step must be nonzero")
    if not (math.isfinite(low) and math.isfinite(high)):
        raise RuntimeError(f"unsupported range: {_cpp_number(low)} -> {_cpp_number(high)}")
    if (high - low) / step_value < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    is_float = any(isinstance(v, builtins.float) for v in values)
    xp, d = _xp_dtype(dtype, device, dtypes.default_float_numpy() if is_float else np.dtype(np.int64), name="arange")
    if d.kind == "b":
        raise _not_implemented("arange_cpu", d)
    size = math.ceil((high - low) / step_value)
    if size >= 2**63:
        raise RuntimeError("invalid size, possible overflow?")
    count = builtins.max(0, size)
    array = _on(device, lambda: (xp.arange(count, dtype=np.float64) * step_value + low).astype(d))
    return _finish(array, requires_grad)


def _check_steps(name, start, end, steps):
    if isinstance(steps, builtins.bool) or not hasattr(steps, "__index__"):
        got = ", ".join(_type_name(v) for v in (start, end, steps))
        raise TypeError(
            f"{name}() received an invalid combination of arguments - got ({got}), but expected one of:\n"
            f" * (Number start, Number end, int steps, ...)"
        )
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    return operator.index(steps)


def linspace(start, end, steps, *, out=None, dtype=None, device=None, requires_grad=False):
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    if out is not None:
        return _fill_out("linspace", out, dtype, lambda d, dev: linspace(start, end, steps, dtype=d, device=dev))
    device = _device(device)
    steps = _check_steps("linspace", start, end, steps)
    xp, d = _xp_dtype(dtype, device, name="linspace")
    if d.kind == "b":
        raise _not_implemented("linspace_cpu", d)
    return _finish(_on(device, lambda: xp.linspace(start, end, steps, dtype=np.float64).astype(d)), requires_grad)


def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, device=None, requires_grad=False):
    """``base`` to the powers ``linspace(start, end, steps)``."""
    if out is not None:
        return _fill_out("logspace", out, dtype, lambda d, dev: logspace(start, end, steps, base, dtype=d, device=dev))
    device = _device(device)
    steps = _check_steps("logspace", start, end, steps)
    xp, d = _xp_dtype(dtype, device, name="logspace")
    if d.kind == "b":
        raise _not_implemented("logspace_cpu", d)
    return _finish(_on(device, lambda: xp.logspace(start, end, steps, base=base).astype(d)), requires_grad)


def _int_argument(function, name, position, value):
    if isinstance(value, builtins.bool) or not hasattr(value, "__index__"):
        raise TypeError(f"{function}(): argument '{name}' (position {position}) must be int, not {_type_name(value)}")
    return operator.index(value)


def eye(n, m=None, *, out=None, dtype=None, device=None, requires_grad=False):
    """An ``n`` x ``m`` matrix with ones on the diagonal."""
    if out is not None:
        return _fill_out("eye", out, dtype, lambda d, dev: eye(n, m, dtype=d, device=dev))
    device = _device(device)
    n = _int_argument("eye", "n", 1, n)
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    m = n if m is None else _int_argument("eye", "m", 2, m)
    if m < 0:
        raise RuntimeError(f"m must be greater or equal to 0, got {m}")
    xp, d = _xp_dtype(dtype, device, name="eye")
    return _finish(_on(device, lambda: xp.eye(n, m, dtype=d)), requires_grad)


def rand(*sizes, size=None, generator=None, out=None, dtype=None, device=None, requires_grad=False):
    """Uniform samples in [0, 1)."""
    shape = _shape(_size("rand", sizes, size), "rand")
    if out is not None:
        return _fill_out("rand", out, dtype, lambda d, dev: rand(shape, generator=generator, dtype=d, device=dev))
    device = _device(device)
    xp, d = _xp_dtype(dtype, device, name="rand")
    if d.kind != "f":
        raise _not_implemented("check_uniform_bounds", d)
    rng = generator_for(device, generator)
    return _finish(_on(device, lambda: rng.random(shape, dtype=d if d in (np.float32, np.float64) else np.float64).astype(d, copy=False)), requires_grad)


def randn(*sizes, size=None, generator=None, out=None, dtype=None, device=None, requires_grad=False):
    """Standard normal samples."""
    shape = _shape(_size("randn", sizes, size), "randn")
    if out is not None:
        return _fill_out("randn", out, dtype, lambda d, dev: randn(shape, generator=generator, dtype=d, device=dev))
    device = _device(device)
    xp, d = _xp_dtype(dtype, device, name="randn")
    if d.kind != "f":
        raise _not_implemented("normal_kernel_cpu", d)
    rng = generator_for(device, generator)
    return _finish(_on(device, lambda: rng.standard_normal(shape, dtype=d if d in (np.float32, np.float64) else np.float64).astype(d, copy=False)), requires_grad)


_NORMAL_SIGNATURES = (
    " * (Tensor mean, Tensor std, *, torch.Generator generator = None, Tensor out = None)\n"
    " * (Tensor mean, float std = 1, *, torch.Generator generator = None, Tensor out = None)\n"
    " * (float mean, Tensor std, *, torch.Generator generator = None, Tensor out = None)\n"
    " * (float mean, float std, tuple of ints size, *, torch.Generator generator = None, Tensor out = None, "
    "torch.dtype dtype = None, torch.layout layout = None, torch.device device = None, bool pin_memory = False, "
    "bool requires_grad = False)\n"
)


def normal(mean, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None, pin_memory=False,
           requires_grad=False):
    """Normal draws ``mean + std * N(0, 1)``: ``mean`` and/or ``std`` tensors (one draw per element
    of their broadcast shape, a zero gradient for both, as PyTorch's), or two numbers and a
    ``size``."""
    if out is not None:
        return write_out(out, "normal", lambda: normal(mean, std, size, generator=generator, dtype=dtype, device=device))
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        if size is not None or dtype is not None or device is not None or requires_grad:
            raise TypeError("normal() received an invalid combination of arguments: size, dtype, device and requires_grad "
                            "go with a float mean and std only. Expected one of:\n" + _NORMAL_SIGNATURES)
        return normal_of_tensors(mean, std, generator)
    if size is None:
        raise TypeError(f"normal() received an invalid combination of arguments - got ({_type_name(mean)}, "
                        f"{_type_name(std)}), but expected one of:\n" + _NORMAL_SIGNATURES)
    result = empty(size, dtype=dtype, device=device)
    if result._data.dtype.kind != "f":
        raise _not_implemented("normal_kernel_cpu", result._data.dtype)
    _normal_(result, mean, std, generator=generator)
    return result.requires_grad_(requires_grad)


def randint(low=None, high=None, size=None, *, generator=None, out=None, dtype=None, device=None, requires_grad=False):
    """Integers in [low, high); int64 by default. ``randint(high, size)`` starts at 0, as do
    ``randint(high, size=...)`` and ``randint(high=..., size=...)``."""
    if size is None and isinstance(high, (tuple, list)):
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    elif low is None:
        low = 0
    if out is not None:
        return _fill_out("randint", out, dtype, lambda d, dev: randint(low, high, size, generator=generator, dtype=d, device=dev))
    device = _device(device)
    if high is None or size is None or not isinstance(size, (tuple, list)) or not all(
        hasattr(v, "__index__") and not isinstance(v, builtins.bool) for v in (low, high)
    ):
        got = ", ".join(_type_name(v) for v in (low, high, size) if v is not None)
        raise TypeError(
            f"randint() received an invalid combination of arguments - got ({got}), but expected one of:\n"
            " * (int high, tuple of ints size, *, tinytorch.Generator generator, tinytorch.dtype dtype = None, ...)\n"
            " * (int low, int high, tuple of ints size, *, tinytorch.Generator generator, tinytorch.dtype dtype = None, ...)"
        )
    low, high = operator.index(low), operator.index(high)
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    shape = _shape((size,), "randint")
    xp, d = _xp_dtype(dtype, device, np.dtype(np.int64), name="randint")
    check_random_bounds(low, high, d)
    rng = generator_for(device, generator)
    return _finish(_on(device, lambda: rng.integers(low, high, size=shape).astype(d, copy=False)), requires_grad)


def randperm(n, *, generator=None, out=None, dtype=None, device=None, requires_grad=False):
    """A random permutation of 0..n-1 (int64)."""
    if out is not None:
        return _fill_out("randperm", out, dtype, lambda d, dev: randperm(n, generator=generator, dtype=d, device=dev))
    device = _device(device)
    n = _int_argument("randperm", "n", 1, n)
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    xp, d = _xp_dtype(dtype, device, np.dtype(np.int64), name="randperm")
    if d.kind == "b":
        raise _not_implemented("randperm", d)
    if d.kind in "iu" and n - 1 > np.iinfo(d).max:
        raise RuntimeError(f"value cannot be converted to type {d.name}_t without overflow")
    rng = generator_for(device, generator)
    if xp is np:
        return _finish(rng.permutation(n).astype(d, copy=False), requires_grad)
    # CuPy's Generator has no permutation: the order that sorts n uniform draws is uniformly random.
    return _finish(_on(device, lambda: xp.argsort(rng.random(n)).astype(d, copy=False)), requires_grad)


def rand_like(input, *, generator=None, dtype=None, device=None, requires_grad=False, memory_format=_memory_format.preserve_format):
    d, dev = _like(input, dtype, device, "rand_like")
    return _laid_out_like("rand_like", input, memory_format, requires_grad,
                          lambda s: rand(s, generator=generator, dtype=d, device=dev))


def randn_like(input, *, generator=None, dtype=None, device=None, requires_grad=False, memory_format=_memory_format.preserve_format):
    d, dev = _like(input, dtype, device, "randn_like")
    return _laid_out_like("randn_like", input, memory_format, requires_grad,
                          lambda s: randn(s, generator=generator, dtype=d, device=dev))


def randint_like(input, low=0, high=None, *, generator=None, dtype=None, device=None, memory_format=_memory_format.preserve_format):
    """Integers in [low, high) shaped like ``input``; ``randint_like(input, high)`` starts at 0."""
    d, dev = _like(input, dtype, device, "randint_like")
    if high is None:
        low, high = 0, low
    return _laid_out_like("randint_like", input, memory_format, False,
                          lambda s: randint(low, high, s, generator=generator, dtype=d, device=dev))
