"""Tensor creation: tensor, as_tensor, from_numpy, zeros/ones/full/empty (+_like), arange,
linspace, eye, and the random constructors."""

import builtins
import math

import numpy as np

from . import _backend as backend, _dtypes as dtypes
from .random import generator_for
from ._tensor import Tensor

_make = Tensor._make


def _finish(data, requires_grad):
    t = _make(data)
    if requires_grad:
        t.requires_grad = True
    return t


def _infer_numpy_dtype(data):
    """PyTorch's dtype for Python data: floats -> default float, ints -> int64, bools -> bool."""
    array = np.asarray(data)
    kind = array.dtype.kind
    if kind == "f":
        return array, (array.dtype if isinstance(data, (np.ndarray, np.generic)) else dtypes.default_float_numpy())
    if kind in "iu":
        return array, (array.dtype if isinstance(data, (np.ndarray, np.generic)) else np.dtype(np.int64))
    if kind == "b":
        return array, np.dtype(np.bool_)
    if kind == "O":
        raise TypeError(f"can't build a tensor from {type(data).__name__} holding objects (ragged lists or non-numbers)")
    raise TypeError(f"can't convert np.ndarray of type {array.dtype}. The only supported types are: " + ", ".join(d.name for d in dtypes.ALL))


def _leaf_values(data):
    """Tensors nested in lists are read as their values (``tensor([t1, t2])``)."""
    if isinstance(data, Tensor):
        return backend.to_numpy(data._data)
    if isinstance(data, (list, tuple)) and any(isinstance(x, (Tensor, list, tuple)) for x in data):
        return [_leaf_values(x) for x in data]
    return data


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor (always a copy) from data: lists, numbers, NumPy arrays or tensors."""
    if isinstance(data, Tensor):
        source = data._data
        target_device = backend.as_device(device) if device is not None else backend.device_of(source)
        array = backend.to_device(source, target_device)
        array = array.astype(dtypes.to_numpy_dtype(dtype)) if dtype is not None else array.copy() if array is source else array
        return _finish(array, requires_grad)
    if backend.is_cuda_array(data):
        array = backend.to_device(data, device or backend.device_of(data))
        return _finish(array.astype(dtypes.to_numpy_dtype(dtype) if dtype else array.dtype, copy=True), requires_grad)
    array, inferred = _infer_numpy_dtype(_leaf_values(data))
    numpy_dtype = dtypes.to_numpy_dtype(dtype) if dtype is not None else inferred
    dtypes.from_numpy_dtype(numpy_dtype)
    array = np.array(array, dtype=numpy_dtype, copy=True)
    return _finish(backend.to_device(array, backend.as_device(device)), requires_grad)


def as_tensor(data, dtype=None, device=None):
    """Like ``tensor`` but shares memory with a NumPy array or tensor when dtype and device allow."""
    if isinstance(data, Tensor):
        return data.to(dtype=dtype, device=device)
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


def _shape(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    shape = tuple(builtins.int(s) for s in size)
    for s in shape:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(shape)}")
    return shape


def _xp_dtype(dtype, device, default=None):
    xp = backend.array_module(backend.as_device(device))
    numpy_dtype = dtypes.to_numpy_dtype(dtype) if dtype is not None else (default or dtypes.default_float_numpy())
    return xp, numpy_dtype


def _on(device, make):
    with backend.on_device(device if device is not None else "cpu"):
        return make()


def zeros(*size, dtype=None, device=None, requires_grad=False, out=None):
    xp, d = _xp_dtype(dtype, device)
    return _finish(_on(device, lambda: xp.zeros(_shape(size), dtype=d)), requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False, out=None):
    xp, d = _xp_dtype(dtype, device)
    return _finish(_on(device, lambda: xp.ones(_shape(size), dtype=d)), requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False, out=None, memory_format=None):
    xp, d = _xp_dtype(dtype, device)
    return _finish(_on(device, lambda: xp.empty(_shape(size), dtype=d)), requires_grad)


def _fill_dtype(fill_value):
    if isinstance(fill_value, builtins.bool):
        return np.dtype(np.bool_)
    if isinstance(fill_value, builtins.int):
        return np.dtype(np.int64)
    return dtypes.default_float_numpy()


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False):
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    xp, d = _xp_dtype(dtype, device, _fill_dtype(fill_value))
    return _finish(_on(device, lambda: xp.full(_shape((size,)), fill_value, dtype=d)), requires_grad)


def _like(input, dtype, device):
    return (dtype if dtype is not None else input.dtype), (device if device is not None else input.device)


def zeros_like(input, *, dtype=None, device=None, requires_grad=False):
    return zeros(input.shape, dtype=_like(input, dtype, device)[0], device=_like(input, dtype, device)[1], requires_grad=requires_grad)


def ones_like(input, *, dtype=None, device=None, requires_grad=False):
    d, dev = _like(input, dtype, device)
    return ones(input.shape, dtype=d, device=dev, requires_grad=requires_grad)


def empty_like(input, *, dtype=None, device=None, requires_grad=False):
    d, dev = _like(input, dtype, device)
    return empty(input.shape, dtype=d, device=dev, requires_grad=requires_grad)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False):
    d, dev = _like(input, dtype, device)
    return full(input.shape, fill_value, dtype=d, device=dev, requires_grad=requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """Values from start to end (exclusive) by step; int64 unless a bound or step is a float."""
    if end is None:
        start, end = 0, start
    values = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if values[2] == 0:
        raise RuntimeError("step must be nonzero")
    if (values[1] - values[0]) / values[2] < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    is_float = any(isinstance(v, builtins.float) for v in values)
    xp, d = _xp_dtype(dtype, device, dtypes.default_float_numpy() if is_float else np.dtype(np.int64))
    count = builtins.max(0, math.ceil((values[1] - values[0]) / values[2]))
    array = _on(device, lambda: (xp.arange(count, dtype=np.float64) * values[2] + values[0]).astype(d))
    return _finish(array, requires_grad)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False):
    xp, d = _xp_dtype(dtype, device)
    return _finish(_on(device, lambda: xp.linspace(start, end, steps, dtype=np.float64).astype(d)), requires_grad)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    xp, d = _xp_dtype(dtype, device)
    return _finish(_on(device, lambda: xp.logspace(start, end, steps, base=base).astype(d)), requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    xp, d = _xp_dtype(dtype, device)
    return _finish(_on(device, lambda: xp.eye(n, m if m is not None else n, dtype=d)), requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform samples in [0, 1)."""
    xp, d = _xp_dtype(dtype, device)
    rng = generator_for(device, generator)
    return _finish(_on(device, lambda: rng.random(_shape(size), dtype=d if d in (np.float32, np.float64) else np.float64).astype(d, copy=False)), requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal samples."""
    xp, d = _xp_dtype(dtype, device)
    rng = generator_for(device, generator)
    return _finish(_on(device, lambda: rng.standard_normal(_shape(size), dtype=d if d in (np.float32, np.float64) else np.float64).astype(d, copy=False)), requires_grad)


def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
    """Integers in [low, high); int64 by default."""
    if size is None:
        low, high, size = 0, low, high
    if high is None or size is None:
        raise TypeError("randint() missing required arguments: high and size")
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    xp, d = _xp_dtype(dtype, device, np.dtype(np.int64))
    rng = generator_for(device, generator)
    return _finish(_on(device, lambda: rng.integers(low, high, size=_shape((size,))).astype(d, copy=False)), requires_grad)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    """A random permutation of 0..n-1 (int64)."""
    xp, d = _xp_dtype(dtype, device, np.dtype(np.int64))
    rng = generator_for(device, generator)
    if xp is np:
        return _finish(rng.permutation(n).astype(d, copy=False), requires_grad)
    # CuPy's Generator has no permutation: the order that sorts n uniform draws is uniformly random.
    return _finish(_on(device, lambda: xp.argsort(rng.random(n)).astype(d, copy=False)), requires_grad)


def rand_like(input, *, dtype=None, device=None, requires_grad=False):
    d, dev = _like(input, dtype, device)
    return rand(input.shape, dtype=d, device=dev, requires_grad=requires_grad)


def randn_like(input, *, dtype=None, device=None, requires_grad=False):
    d, dev = _like(input, dtype, device)
    return randn(input.shape, dtype=d, device=dev, requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, device=None):
    d, dev = _like(input, dtype, device)
    return randint(low, high, input.shape, dtype=d, device=dev)



