"""More indexing ops, each a composite of the indexing primitives (GetItem, IndexAdd, IndexPut):
unfold, take, put, index_put, masked_scatter, the ``*_scatter`` family, fill_diagonal_,
argwhere, ravel, msort, clamp_min and clamp_max."""

import builtins

import numpy as np

from .. import _backend as backend, _dtypes as dtypes
from .._tensor import Tensor
from ._util import check_same_device, normalize_dim, wrap
from .elementwise import clamp
from .indexing import IndexAdd, IndexPut, check_inplace, getitem, inplace, normalize_index, nonzero
from .movement import movedim, reshape
from .order import sort


def unfold(input, dimension, size, step):
    """The windows of ``size`` elements, ``step`` apart, along ``dimension``: that dimension
    becomes the window count and a last dimension of ``size`` is appended (PyTorch returns a
    view; this is a copy, differentiable)."""
    ndim = input._data.ndim
    d = normalize_dim(dimension, builtins.max(ndim, 1))
    length = input._data.shape[d] if ndim else 1
    if size > length:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {length} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    x = input.reshape(1) if ndim == 0 else input
    xp = backend.array_module(x._data)
    with backend.on_device(x.device):
        windows = (length - size) // step + 1
        positions = xp.arange(windows)[:, None] * step + xp.arange(size)[None, :]
    out = getitem(x, (builtins.slice(None),) * d + (wrap(positions),))  # (..., windows, size, ...)
    out = movedim(out, d + 1, -1)
    return out.reshape(size) if ndim == 0 else out


def _flat_index(input, index, name):
    if not isinstance(index, Tensor) or index._data.dtype.kind not in "iu":
        found = dtypes.scalar_type_name(index._data.dtype) if isinstance(index, Tensor) else type(index).__name__
        raise RuntimeError(f"{name}(): Expected a long tensor for index, but got {found}")
    check_same_device(input, index)
    numel = input._data.size
    data = index._data.reshape(-1)
    if data.size:
        backend.check_later(((data < -numel) | (data >= numel)).any(), lambda: _out_of_range(data, numel))
    return wrap(data % builtins.max(numel, 1))


def _out_of_range(index, numel):
    index = backend.to_numpy(index)
    bad = index[(index < -numel) | (index >= numel)][0]
    raise IndexError(f"out of range: tried to access index {bad} on a tensor of {numel} elements.")


def take(input, index):
    """The elements of ``input`` seen as 1-D at ``index``, in ``index``'s shape."""
    flat = _flat_index(input, index, "take")
    return getitem(input.reshape(-1), flat).reshape(index.shape)


def put(input, index, source, accumulate=False):
    """``input`` (seen as 1-D) with ``source``'s elements written (or added) at ``index``."""
    flat = _flat_index(input, index, "put_")
    check_same_device(input, source)
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"put_(): self and source expected to have the same dtype, but got self.dtype = "
                           f"{dtypes.scalar_type_name(input._data.dtype)} and source.dtype = {dtypes.scalar_type_name(source._data.dtype)}")
    if source._data.size != flat._data.size:
        raise IndexError(f"put_(): Expected source and index to have the same number of elements, but got "
                           f"source.numel() = {source._data.size}, index.numel() = {flat._data.size}")
    return index_put(input.reshape(-1), (flat,), source.reshape(-1), accumulate).reshape(input.shape)


def index_put(input, indices, values, accumulate=False):
    """``input`` with ``input[indices] = values`` (``+=`` with ``accumulate``, repeated indices
    adding up)."""
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"index_put(): argument 'indices' must be tuple of Tensors, not {type(indices).__name__}")
    index, advanced = normalize_index(input, tuple(indices))
    if not isinstance(values, Tensor):
        values = wrap(backend.to_device(np.asarray(values, dtype=input._data.dtype), input.device))
    check_same_device(input, values)
    if values._data.dtype != input._data.dtype:
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got {dtypes.scalar_type_name(input._data.dtype)} "
                           f"for the destination and {dtypes.scalar_type_name(values._data.dtype)} for the source.")
    target = input._data[index].shape
    try:
        np.broadcast_shapes(values._data.shape, target)
        if np.broadcast_shapes(values._data.shape, target) != target:
            raise ValueError
    except ValueError:
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(values._data.shape)} cannot be broadcast "
                           f"to indexing result of shape {list(target)}") from None
    if accumulate:
        return input + IndexAdd.apply(values.expand(target), index, advanced, input._data.shape)
    return IndexPut.apply(input, index, values)


def masked_scatter(input, mask, source):
    """``input`` with ``source``'s leading elements written, in order, where ``mask`` is True."""
    if not isinstance(mask, Tensor) or mask._data.dtype.kind != "b":
        found = dtypes.scalar_type_name(mask._data.dtype) if isinstance(mask, Tensor) else type(mask).__name__
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with dtype {found}")
    check_same_device(input, mask)
    check_same_device(input, source)
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"masked_scatter_: expected self and source to have same dtypes but got "
                           f"{dtypes.scalar_type_name(input._data.dtype)} and {dtypes.scalar_type_name(source._data.dtype)}")
    shape = np.broadcast_shapes(mask._data.shape, input._data.shape)
    x = input.expand(shape) if tuple(shape) != input._data.shape else input
    xp = backend.array_module(mask._data)
    # a 0-d tensor is handled as 1-D (NumPy's nonzero refuses 0-d arrays)
    positions = xp.broadcast_to(mask._data, shape).reshape(-1 if not shape else shape).nonzero()
    count = positions[0].size
    if count > source._data.size:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    if not shape:
        return index_put(x.reshape(1), (wrap(positions[0]),), source.reshape(-1)[:count]).reshape(())
    return index_put(x, tuple(wrap(p) for p in positions), source.reshape(-1)[:count])


def argwhere(input):
    """The indices of the nonzero elements, one row per element (``nonzero(input)``)."""
    return nonzero(input)


def ravel(input):
    """``input`` flattened to 1-D."""
    return reshape(input, -1)


def msort(input):
    """``input`` sorted along its first dimension."""
    return sort(input, dim=0)[0]


def clamp_min(input, min):
    """``input`` with values below ``min`` raised to it."""
    return clamp(input, min=min)


def clamp_max(input, max):
    """``input`` with values above ``max`` lowered to it."""
    return clamp(input, max=max)


def _scatter_into(input, src, index, slice_shape):
    """``input`` with ``src`` written at the basic ``index`` (PyTorch's check of src's size)."""
    check_same_device(input, src)
    if tuple(src._data.shape) != tuple(slice_shape):
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = {list(src._data.shape)}, "
                           f"slice size = {list(slice_shape)}")
    return IndexPut.apply(input, index, src.to(input.dtype))


def select_scatter(input, src, dim, index):
    """``input`` with ``src`` embedded at ``index`` along ``dim`` (the inverse of ``select``)."""
    d = normalize_dim(dim, input._data.ndim)
    size = input._data.shape[d]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(input._data.shape)} at dimension {d}")
    key = (builtins.slice(None),) * d + (index % size,)
    return _scatter_into(input, src, key, input._data[key].shape)


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """``input`` with ``src`` embedded at ``start:end:step`` along ``dim``."""
    d = normalize_dim(dim, input._data.ndim)
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    key = (builtins.slice(None),) * d + (builtins.slice(start, end, step),)
    return _scatter_into(input, src, key, input._data[key].shape)


def _diagonal_key(shape, offset, d1, d2):
    """(index of the diagonal with dims d1, d2 moved last, its length)."""
    n = builtins.max(0, builtins.min(shape[d1] + builtins.min(offset, 0), shape[d2] - builtins.max(offset, 0)))
    rows = np.arange(n) + builtins.max(-offset, 0)
    return rows, rows + offset, n


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """``input`` with ``src`` embedded as its diagonal (as ``diagonal(offset, dim1, dim2)``
    reads it)."""
    ndim = input._data.ndim
    d1, d2 = normalize_dim(dim1, ndim), normalize_dim(dim2, ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    rows, cols, n = _diagonal_key(input._data.shape, offset, d1, d2)
    moved = movedim(input, (d1, d2), (-2, -1))
    check_same_device(input, src)
    expected = moved._data.shape[:-2] + (n,)
    if tuple(src._data.shape) != expected:
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = {list(src._data.shape)}, "
                           f"slice size = {list(expected)}")
    with backend.on_device(input.device):
        xp = backend.array_module(input._data)
        key = (Ellipsis, xp.asarray(rows), xp.asarray(cols))
    return movedim(IndexPut.apply(moved, key, src.to(input.dtype)), (-2, -1), (d1, d2))


def fill_diagonal_(input, fill_value, wrap=False):
    """Fill the main diagonal of a 2-D (or all-equal n-D) tensor in place; ``wrap`` restarts it
    every ``columns + 1`` rows of a tall matrix, as NumPy's ``fill_diagonal``."""
    shape = input._data.shape
    if len(shape) < 2:
        raise RuntimeError("dimensions must larger than 1")
    if len(shape) > 2 and len(set(shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    check_inplace(input)
    rows, cols = shape[0], shape[1]
    if len(shape) == 2:
        step = cols + 1
        end = rows * cols if wrap else builtins.min(rows, cols) * cols
    else:
        step = builtins.sum(int(np.prod(shape[i + 1:])) for i in range(len(shape)))
        end = input._data.size
    with backend.on_device(input.device):
        flat = backend.array_module(input._data).arange(0, end, step)
    return inplace(input, _fill_at, (flat,), fill_value)


def _fill_at(input, index, value):
    return IndexPut.apply(input.reshape(-1), index, value).reshape(input.shape)


def index_put_(input, indices, values, accumulate=False):
    """``index_put`` in place."""
    return inplace(input, index_put, indices, values, accumulate)


def clamp_min_(input, min):
    """``clamp_min`` in place."""
    return inplace(input, clamp_min, min)


def clamp_max_(input, max):
    """``clamp_max`` in place."""
    return inplace(input, clamp_max, max)
