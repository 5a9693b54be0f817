"""Python data (nested lists, numbers, tensors) to arrays, with PyTorch's errors for bad data.

NumPy reads well-formed data fast; when it cannot (ragged lists, ``None``, strings, integers past
int64), ``explain`` walks the data the way ``torch.tensor`` does and raises PyTorch's exception:
the sizes come from the first element at each level, the dtype from every element, and then each
element is checked against both. It runs only on the error path.
"""

import numbers

import numpy as np

from ._tensor import Tensor

_MAX_DIMS = 128  # PyTorch's limit on nesting; a str, being its own first element, reaches it
_INT64 = (-(2**63), 2**63 - 1)


def _is_sequence(obj):
    """What PyTorch's ``compute_sizes`` descends into: Python sequences and arrays, not tensors."""
    return isinstance(obj, (list, tuple, range, str, bytes, bytearray)) or (isinstance(obj, np.ndarray) and obj.ndim > 0)


def sizes_of(data):
    """The shape PyTorch infers from the first element at each level of nested sequences."""
    sizes = []
    while _is_sequence(data):
        sizes.append(len(data))
        if len(sizes) > _MAX_DIMS:
            raise ValueError(f"too many dimensions '{type(data).__name__}'")
        if not len(data):
            break
        data = data[0]
    return sizes


def _kind(obj):
    """The dtype kind PyTorch infers for ``obj`` ('b', 'i', 'f', 'c'), raising as it does for data
    that has none."""
    if isinstance(obj, bool):
        return "b"
    if isinstance(obj, numbers.Integral):
        return "i"
    if isinstance(obj, numbers.Real):
        return "f"
    if isinstance(obj, numbers.Complex):
        return "c"
    if isinstance(obj, Tensor) or isinstance(obj, np.ndarray):
        return (obj._data if isinstance(obj, Tensor) else obj).dtype.kind
    if isinstance(obj, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{type(obj).__name__}'")
    if isinstance(obj, (list, tuple, range, bytearray)):
        kinds = {_kind(item) for item in obj}
        return next((k for k in "cfib" if k in kinds), "f")
    raise RuntimeError(f"Could not infer dtype of {type(obj).__name__}")


def _check_scalar(obj, kind):
    if isinstance(obj, Tensor):
        if obj._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return
    if kind in "fc":
        if not isinstance(obj, numbers.Number):
            raise TypeError(f"must be real number, not {type(obj).__name__}")
        return
    if not isinstance(obj, numbers.Number):
        raise TypeError(f"'{type(obj).__name__}' object cannot be interpreted as an integer")
    if isinstance(obj, numbers.Integral) and not _INT64[0] <= int(obj) <= _INT64[1]:
        raise ValueError("Overflow when unpacking long long")


def _check_elements(obj, sizes, dim, kind):
    if dim == len(sizes):
        _check_scalar(obj, kind)
        return
    if not (_is_sequence(obj) or (isinstance(obj, Tensor) and obj._data.ndim)):
        raise TypeError("not a sequence")
    if len(obj) != sizes[dim]:
        raise ValueError(f"expected sequence of length {sizes[dim]} at dim {dim} (got {len(obj)})")
    for item in obj:
        _check_elements(item, sizes, dim + 1, kind)


def explain(data, numpy_dtype=None):
    """Raise PyTorch's error for data NumPy could not read (or read only as objects or text)."""
    if isinstance(data, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    sizes = sizes_of(data)
    kind = _kind(data) if numpy_dtype is None else np.dtype(numpy_dtype).kind
    _check_elements(data, sizes, 0, "i" if kind in "bu" else kind)
    raise TypeError(f"can't build a tensor from {type(data).__name__}: its elements are not numbers")


def exact_uint64(data):
    """Nested Python ints (and bools) as a uint64 array, exactly, or None when some leaf is not
    one: NumPy reads ints past int64 mixed with smaller ones as float64, which rounds them.
    PyTorch's errors for ints uint64 cannot hold."""
    leaves, pending = [], [data]
    while pending:
        x = pending.pop()
        if isinstance(x, (list, tuple)):
            pending.extend(x)
        elif isinstance(x, numbers.Integral) and not isinstance(x, np.generic):
            leaves.append(int(x))
        else:
            return None
    if leaves and min(leaves) < 0:
        raise OverflowError("can't convert negative int to unsigned")
    if leaves and max(leaves) >= 1 << 64:
        raise OverflowError("int too big to convert")
    try:
        return np.array(data, dtype=np.uint64)
    except ValueError:  # ragged: the general path names the problem as PyTorch does
        return None


def check_fits(array, numpy_dtype):
    """PyTorch refuses Python numbers that do not fit an explicit integer dtype: an integer must
    fit the dtype's range (uint8 also takes -128..-1, wrapping them), a float must be finite and
    within the range."""
    target = np.dtype(numpy_dtype)
    if target.kind not in "iu" or array.dtype.kind not in "iuf" or not array.size:
        return
    info = np.iinfo(target)
    if array.dtype.kind == "f":
        bad = not np.isfinite(array).all() or array.min() < info.min or array.max() > info.max
    else:
        low = -(2 ** (8 * target.itemsize - 1)) if target.kind == "u" else info.min
        bad = int(array.min()) < low or int(array.max()) > info.max
    if bad:
        raise RuntimeError(f"value cannot be converted to type {target.name} without overflow")
