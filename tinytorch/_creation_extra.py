"""The less common factories: ``scalar_tensor``, the deprecated ``range`` (inclusive end),
``empty_strided`` and ``frombuffer``, with PyTorch's defaults, warnings and errors. The everyday
factories live in ``_creation.py``, whose helpers these reuse."""

import builtins
import math
import numbers
import operator
import warnings

import numpy as np

from . import _dtypes as dtypes, _switches
from ._creation import _device, _fill_out, _finish, _on, _shape, _type_name, _xp_dtype, full
from ._tensor import Tensor

_INT64 = np.iinfo(np.int64)


def scalar_tensor(s, *, dtype=None, layout=None, device=None, pin_memory=None, requires_grad=False):
    """A 0-d tensor holding ``s``, of the default float dtype unless ``dtype`` is given."""
    if isinstance(s, Tensor) and s._data.ndim == 0:
        s = s.item()
    if not isinstance(s, numbers.Number) or isinstance(s, complex):
        raise TypeError(f"scalar_tensor(): argument 's' (position 1) must be Number, not {_type_name(s)}")
    if isinstance(s, builtins.int) and not _INT64.min <= s <= _INT64.max:
        raise OverflowError("int too big to convert")
    return full((), s, dtype=dtype or dtypes.get_default_dtype(), device=device, requires_grad=requires_grad)


def range(start, end, step=1, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """Deprecated (PyTorch warns too): values from start to end *inclusive* by step, of the
    default float dtype unless ``dtype`` is given. ``arange`` excludes the end."""
    warnings.warn(
        "torch.range is deprecated and will be removed in a future release because its behavior is inconsistent "
        "with Python's range builtin. Instead, use torch.arange, which produces values in [start, end).",
        UserWarning, stacklevel=2,
    )
    return _range(start, end, step, out, dtype, device, requires_grad)


def _range(start, end, step, out, dtype, device, requires_grad):
    if out is not None:
        return _fill_out("range", out, dtype, lambda d, dev: _range(start, end, step, None, d, dev, False))
    values = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    for position, (argument, value) in enumerate(zip(("start", "end", "step"), values), 1):
        if not isinstance(value, numbers.Real):
            raise TypeError(f"range(): argument '{argument}' (position {position}) must be Number, not {_type_name(value)}")
    low, high, step_value = values
    if not step_value:  # also NaN
        raise RuntimeError("step must be nonzero")
    if not (math.isfinite(low) and math.isfinite(high)):
        raise RuntimeError(f"unsupported range: {low} -> {high}")
    if not ((step_value > 0 and high >= low) or (step_value < 0 and high <= low)):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    device = _device(device)
    xp, d = _xp_dtype(dtype, device, name="range")
    count = math.floor((high - low) / step_value) + 1  # PyTorch's size: the end is included
    return _finish(_on(device, lambda: (xp.arange(count, dtype=np.float64) * step_value + low).astype(d)), requires_grad)


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """An uninitialized tensor of ``size`` whose elements lie ``stride`` elements apart (a view of
    a buffer just large enough, as PyTorch allocates it; strides may overlap, e.g. 0)."""
    shape = _shape((size,), "empty_strided")
    strides = tuple(operator.index(s) for s in stride)
    if len(shape) != len(strides):
        raise RuntimeError(f"dimensionality of sizes ({len(shape)}) must match dimensionality of strides ({len(strides)})")
    if any(s < 0 for s in strides):
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(shape)} and strides={list(strides)}")
    storage = 0 if 0 in shape else 1 + builtins.sum((n - 1) * s for n, s in zip(shape, strides))
    device = _device(device)
    xp, d = _xp_dtype(dtype, device, name="empty_strided")

    def make():
        buffer = _switches.fill_uninitialized(xp.empty(storage, dtype=d))
        return xp.lib.stride_tricks.as_strided(buffer, shape, tuple(s * d.itemsize for s in strides))

    return _finish(_on(device, make), requires_grad)


def empty_permuted(size, physical_layout, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """An uninitialized tensor of ``size`` whose dims lie in memory in the order ``physical_layout``
    (outermost first): ``empty_permuted((N, C, H, W), (0, 2, 3, 1))`` is channels-last."""
    try:
        shape = _shape((size,), "empty_permuted")
    except RuntimeError:  # a negative size: torch reports it after the layout's checks, in physical order
        shape = tuple(operator.index(s) for s in size)
    if isinstance(physical_layout, (tuple, list)) and any(not isinstance(d, numbers.Integral) or isinstance(d, bool)
                                                          for d in physical_layout):
        bad = next(d for d in physical_layout if not isinstance(d, numbers.Integral) or isinstance(d, bool))
        raise TypeError(
            "empty_permuted(): argument 'physical_layout' (position 2) must be tuple of ints, but found element of "
            f"type {type(bad).__name__} at pos {list(physical_layout).index(bad)}"
        )
    order = tuple(operator.index(d) for d in physical_layout)
    rank = len(shape)
    if rank != len(order):
        raise RuntimeError(
            "Number of dimensions in size does not match the length of the physical_layout; i.e. "
            f"len(size) = {rank} is not equal to len(physical_layout) = {len(order)}"
        )
    seen = set()
    for i, d in enumerate(order):
        if not 0 <= d < rank:
            raise RuntimeError(
                f"Dimension out of range (expected to be between 0 and {rank - 1}, but got {d} at index {i}).  "
                "NB: negative dims not currently supported; file an issue if you want it."
            )
        if d in seen:
            raise RuntimeError("Duplicate dim not allowed")
        seen.add(d)
    physical = [shape[d] for d in order]
    if any(n < 0 for n in physical):
        raise RuntimeError(f"Trying to create tensor with negative dimension {next(n for n in physical if n < 0)}: {physical}")
    inverse = sorted(builtins.range(rank), key=order.__getitem__)  # where each logical dim sits physically
    device = _device(device)
    xp, d = _xp_dtype(dtype, device, name="empty_permuted")
    return _finish(_on(device, lambda: _switches.fill_uninitialized(xp.empty(physical, dtype=d)).transpose(inverse)),
                   requires_grad)


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    """A 1-d CPU tensor sharing memory with an object that exposes the buffer protocol
    (``bytearray``, ``array.array``, ``memoryview``...): ``count`` elements (-1: all) from byte ``offset``."""
    try:
        view = memoryview(buffer)
    except TypeError:
        raise ValueError("object does not implement Python buffer protocol.") from None
    numpy_dtype = dtypes.to_numpy_dtype(dtype)
    length, element = view.nbytes, numpy_dtype.itemsize
    if length <= 0 or count == 0:
        raise ValueError(f"both buffer length ({length}) and count ({count}) must not be 0")
    if offset < 0 or offset >= length:
        raise ValueError(
            f"offset ({offset} bytes) must be non-negative and no greater than buffer length ({length} bytes) minus 1"
        )
    if count < 0:
        if (length - offset) % element:
            raise ValueError(
                f"buffer length ({length - offset} bytes) after offset ({offset} bytes) must be a multiple of element size ({element})"
            )
        count = (length - offset) // element
    if offset + count * element > length:
        raise ValueError(
            f"requested buffer length ({count} * {element} bytes) after offset ({offset} bytes) must not be greater "
            f"than actual buffer length ({length} bytes)"
        )
    if view.readonly:
        warnings.warn(
            "The given buffer is not writable, and PyTorch does not support non-writable tensors. This means you can "
            "write to the underlying (supposedly non-writable) buffer using the tensor. You may want to copy the buffer "
            "to protect its data or make it writable before converting it to a tensor. This type of warning will be "
            "suppressed for the rest of this program.", UserWarning, stacklevel=2,
        )
    array = np.frombuffer(view, dtype=numpy_dtype, count=count, offset=offset)
    return _finish(array, requires_grad)
