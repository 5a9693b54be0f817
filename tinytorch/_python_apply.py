"""``Tensor.apply_``, ``map_`` and ``map2_``: a Python callable run on every element, CPU only.

The callable gets Python numbers (float, int or bool, as the dtype) and its result is
stored back as PyTorch stores a Python number into an element: floats unchecked (overflow gives
inf), integers range-checked, so that a wrong result raises PyTorch's error rather than NumPy's.
"""

import math
import operator

import numpy as np

from . import _dtypes as dtypes

_INT64 = np.iinfo(np.int64)


def _overflow(dtype):
    return RuntimeError(f"value cannot be converted to type {dtypes.from_numpy_dtype(dtype).name} without overflow")


def _real(value):
    if isinstance(value, float):
        return value
    kind = type(value)
    if not (hasattr(kind, "__float__") or hasattr(kind, "__index__")):
        raise TypeError(f"must be real number, not {kind.__name__}")
    return float(value)


def _integer(value, dtype):
    """PyTorch's checked conversion: a float must lie in the dtype's range (then truncates); an
    int only within int64 and, for an unsigned dtype, within +-max (a negative one wraps)."""
    info = np.iinfo(dtype)
    if isinstance(value, float):
        if math.isnan(value) or not info.min <= value <= info.max:
            raise _overflow(dtype)
        return int(value)
    value = operator.index(value)
    if not _INT64.min <= value <= _INT64.max:
        raise ValueError("Overflow when unpacking long long")
    low = -info.max if info.min == 0 else info.min
    if not low <= value <= info.max:
        raise _overflow(dtype)
    return value % (info.max + 1) if value < 0 and info.min == 0 else value


def _converter(dtype):
    kind = dtype.kind
    if kind == "f":
        return _real
    if kind == "b":
        def to_bool(value):
            if isinstance(value, (float, complex)):
                return value != 0
            return operator.index(value) != 0
        return to_bool
    return lambda value: _integer(value, dtype)


def _check(tensor, name, others, labels):
    """PyTorch's checks, in its order: grad, then dtype and device, then CPU."""
    if tensor._requires_grad or any(o._requires_grad for o in others):
        raise RuntimeError(f"Can't call {name}() on Variable that requires grad. Use var.detach().{name}() instead.")
    for other, label in zip(others, labels):
        if other.dtype != tensor.dtype or other.is_cuda != tensor.is_cuda:
            raise TypeError(f"{name}: expected {tensor.type()} for {label} (got {other.type()})")
    if tensor.is_cuda or any(o.is_cuda for o in others):
        raise TypeError(f"{name} is only implemented on CPU tensors")


def python_apply(tensor, fn, others, name, labels=()):
    """Call ``fn(self_element, *other_elements)`` for each element in row-major order and store
    the result in place, element by element (so an error part-way keeps what was written)."""
    from ._tensor import Tensor

    for position, (other, label) in enumerate(zip(others, labels), 1):
        if not isinstance(other, Tensor):
            arg = label.split("'")[1]
            raise TypeError(f"{name}(): argument '{arg}' (position {position}) must be Tensor, not {type(other).__name__}")
    _check(tensor, name, others, labels)
    # Broadcast to self's shape as expand does (with its error); self's shape never changes.
    arrays = [tensor._data] + [other.expand(tensor.shape)._data for other in others]
    data, convert = tensor._data, _converter(tensor._data.dtype)
    try:
        with np.errstate(over="ignore"):  # a float too big for the dtype becomes inf, as in PyTorch
            for index in np.ndindex(data.shape):
                data[index] = convert(fn(*[a[index].item() for a in arrays]))
    finally:
        # Bumped even on an error part-way: elements may have changed (PyTorch bumps nothing).
        tensor._version[0] += 1
    return tensor
