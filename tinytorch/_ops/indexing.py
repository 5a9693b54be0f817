"""Indexing: __getitem__/__setitem__, gather/scatter, masked_fill, and the in-place machinery."""

import builtins

import numpy as np

from .. import _backend as backend, _dtypes as dtypes
from ..autograd.function import Function
from ..autograd.grad_mode import state as grad_state
from .._numpy_names import numpy_names
from .._tensor import Tensor
from ._util import check_same_device, checked_scalar, normalize_dim, quiet, store, wrap
from .movement import _view_of


# -- index normalization ------------------------------------------------------------------------
def _index_array(item, x):
    data = item._data if isinstance(item, Tensor) else np.asarray(item)
    if isinstance(item, Tensor):
        check_same_device(item, x)
    if data.dtype.kind not in "biu":
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    if data.dtype.kind != "b" and backend.device_of(data) != backend.device_of(x._data):
        data = backend.to_device(data, x.device)
    return data


def normalize_index(x, index):
    """A tuple NumPy can use: tensors become arrays, boolean masks become integer arrays (so
    that backward can scatter), and sizes and bounds are checked with PyTorch's errors.
    Returns (index, advanced)."""
    if not isinstance(index, tuple):
        index = (index,)
    items, advanced = [], False
    for item in index:
        if isinstance(item, (Tensor, list, range, np.ndarray)) or backend.is_cuda_array(item):
            array = _index_array(item, x)
            if array.ndim == 0 and array.dtype.kind != "b":
                item = int(array)
            else:
                item, advanced = array, True
        elif not (item is None or item is Ellipsis or isinstance(item, (builtins.slice, int, np.integer))):
            raise IndexError(
                "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid indices (got "
                f"{type(item).__name__})"
            )
        items.append(item)
    shape = x._data.shape
    consumed = builtins.sum(1 if not hasattr(i, "ndim") else (i.ndim if i.dtype.kind == "b" else 1) for i in items if i is not None and i is not Ellipsis)
    if consumed > len(shape):
        raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
    result, position = [], 0
    for item in items:
        if item is Ellipsis:
            result.append(item)
            position += len(shape) - consumed
            continue
        if item is None:
            result.append(item)
            continue
        if hasattr(item, "ndim") and item.dtype.kind == "b":
            if item.ndim == 0:
                raise IndexError("tinytorch supports a 0-d boolean index only on its own (x[mask])")
            expected = shape[position : position + item.ndim]
            if item.shape != expected:
                raise IndexError(
                    f"The shape of the mask {list(item.shape)} at index {position} does not match the shape of the indexed tensor {list(expected)} at index {position}"
                )
            result.extend(item.nonzero())
            position += item.ndim
            continue
        size = shape[position]
        if isinstance(item, (int, np.integer)):
            if not -size <= item < size:
                raise IndexError(f"index {item} is out of bounds for dimension {position} with size {size}")
        elif hasattr(item, "ndim") and item.size:
            backend.check_later(
                ((item < -size) | (item >= size)).any(),
                lambda item=item, size=size, position=position: _out_of_bounds(IndexError, item, size, position),
            )
        result.append(item)
        position += 1
    return tuple(result), advanced


# -- primitives ---------------------------------------------------------------------------------
class GetItem(Function):
    @staticmethod
    def forward(ctx, x, index, advanced):
        ctx.index, ctx.advanced, ctx.shape = index, advanced, x._data.shape
        out = x._data[index]
        if advanced:
            return wrap(out)
        if isinstance(out, np.generic):
            # NumPy gives one element as a scalar (a copy); PyTorch gives a 0-d view, which
            # in-place ops write through (b[0].fill_(7) changes b): a 1-element view reshaped.
            out = x._data[(*index, None) if isinstance(index, tuple) else (index, None)].reshape(())
        elif not out.size and out.__class__ is np.ndarray:
            return _empty_view(x, out, index)
        return _view_of(wrap(out), x)

    @staticmethod
    def backward(ctx, grad_output):
        return IndexAdd.apply(grad_output, ctx.index, ctx.advanced, ctx.shape), None, None


def _empty_view(x, out, index):
    """The empty result ``out`` of basic indexing with PyTorch's geometry: NumPy starts an empty
    slice at the array's start with the step dropped, and gives None's new dims stride 0, where
    PyTorch keeps each slice's start (``storage_offset()``) and stride * step, and adds a dim as
    ``unsqueeze`` does. A view of x's memory all the same."""
    sizes, steps, offset, dim = list(x._data.shape), list(x.stride()), 0, 0
    for item in index:
        if item is Ellipsis:
            dim += len(sizes) - dim - builtins.sum(1 for i in index[index.index(item) + 1 :] if i is not None)
        elif item is None:
            sizes.insert(dim, 1)
            steps.insert(dim, sizes[dim + 1] * steps[dim] if dim + 1 < len(sizes) else 1)
            dim += 1
        elif isinstance(item, builtins.slice):
            start, stop, step = item.indices(sizes[dim])
            offset += start * steps[dim]
            sizes[dim], steps[dim] = len(range(start, stop, step)), steps[dim] * step
            dim += 1
        else:
            offset += (item % sizes[dim]) * steps.pop(dim)
            del sizes[dim]
    itemsize = out.itemsize
    shift = offset * itemsize - (out.__array_interface__["data"][0] - x._data.__array_interface__["data"][0])
    if tuple(sizes) == out.shape and shift >= 0 and not shift % itemsize:
        # A line of elements from out's start to the right one (none is read), started there.
        line = np.lib.stride_tricks.as_strided(out, (shift // itemsize + 1,), (itemsize,))
        out = np.lib.stride_tricks.as_strided(line[shift // itemsize :], out.shape, tuple(s * itemsize for s in steps))
    result = wrap(out)
    result._data = out  # its strides as they are, all-zero ones too (wrap gives those new ones)
    result._version = x._version
    result._base = x if x._base is None else x._base
    return result


class IndexAdd(Function):
    """Zeros of ``shape`` with ``values`` added at ``index``: the backward of indexing (repeated
    indices are summed). Its own backward is indexing again."""

    @staticmethod
    def forward(ctx, values, index, advanced, shape):
        ctx.index, ctx.advanced = index, advanced
        data = values._data
        out = backend.array_module(data).zeros(shape, dtype=data.dtype)
        if advanced:
            backend.scatter_add(out, index, data)
        else:
            out[index] = data
        return wrap(out)

    @staticmethod
    def backward(ctx, grad_output):
        return GetItem.apply(grad_output, ctx.index, ctx.advanced), None, None, None


class IndexPut(Function):
    """A copy of x with ``x[index] = value``; the out-of-place half of ``__setitem__``."""

    @staticmethod
    def forward(ctx, x, index, value):
        ctx.index = index
        ctx.value_shape = value._data.shape if isinstance(value, Tensor) else None
        out = x._data.copy()
        out[index] = value._data if isinstance(value, Tensor) else value
        return wrap(out)

    @staticmethod
    def backward(ctx, grad_output):
        grad_x = IndexPut.apply(grad_output, ctx.index, 0.0) if ctx.needs_input_grad[0] else None
        grad_value = None
        if ctx.needs_input_grad[2]:
            grad_value = GetItem.apply(grad_output, ctx.index, True)
            if grad_value.dim() < len(ctx.value_shape):
                grad_value = grad_value.reshape(ctx.value_shape)
        return grad_x, None, grad_value


def _along_dim(index, dim):
    """Full fancy index that selects index[...] along ``dim`` and the same position elsewhere."""
    xp = backend.array_module(index)
    full = []
    for d, size in enumerate(index.shape):
        if d == dim:
            full.append(index)
        else:
            shape = [1] * index.ndim
            shape[d] = size
            full.append(xp.arange(size).reshape(shape))
    return tuple(full)


def _check_along(x, dim, index, name, src=None):
    if not isinstance(index, Tensor) or index._data.dtype.kind not in "iu":
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index")  # PyTorch 2.13 takes int32 too
    check_same_device(x, index)
    if index._data.ndim != x._data.ndim and not (index._data.ndim <= 1 and x._data.ndim <= 1):
        raise RuntimeError(f"Index tensor must have the same number of dimensions as {'input' if src is None else 'self'} tensor")
    d = normalize_dim(dim, x._data.ndim)
    for i, (a, b) in enumerate(zip(index._data.shape, x._data.shape)):
        if i != d and a > b:
            raise RuntimeError(f"Size does not match at dimension {i} expected index {list(index._data.shape)} to be no larger than self {list(x._data.shape)} apart from dimension {d}")
    if index._data.size:
        size = x._data.shape[d] if x._data.ndim else 1
        data = index._data
        backend.check_later(((data < -size) | (data >= size)).any(), lambda: _out_of_bounds(RuntimeError, data, size, d))
    return d


def _out_of_bounds(error, index, size, dim):
    """Raise ``error`` naming the first index outside [-size, size) (PyTorch's message)."""
    index = backend.to_numpy(index)
    low, high = int(index.min()), int(index.max())
    raise error(f"index {high if high >= size else low} is out of bounds for dimension {dim} with size {size}")


class Gather(Function):
    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.shape, ctx.dim = x._data.shape, dim
        ctx.save_for_backward(index)
        return wrap(x._data[_along_dim(index._data, dim)])

    @staticmethod
    def backward(ctx, grad_output):
        (index,) = ctx.saved_tensors
        zeros = wrap(backend.array_module(grad_output._data).zeros(ctx.shape, dtype=grad_output._data.dtype))
        return ScatterAdd.apply(zeros, ctx.dim, index, grad_output), None, None


class ScatterAdd(Function):
    @staticmethod
    def forward(ctx, x, dim, index, src):
        ctx.dim = dim
        ctx.save_for_backward(index)
        out = x._data.copy()
        source = src._data[tuple(builtins.slice(0, s) for s in index._data.shape)]
        backend.scatter_add(out, _along_dim(index._data, dim), source.astype(out.dtype, copy=False))
        return wrap(out)

    @staticmethod
    def backward(ctx, grad_output):
        (index,) = ctx.saved_tensors
        grad_src = Gather.apply(grad_output, ctx.dim, index) if ctx.needs_input_grad[3] else None
        return grad_output, None, None, grad_src


class Scatter(Function):
    @staticmethod
    def forward(ctx, x, dim, index, src):
        ctx.dim = dim
        ctx.save_for_backward(index)
        out = x._data.copy()
        if isinstance(src, Tensor):
            src = src._data[tuple(builtins.slice(0, s) for s in index._data.shape)]
        out[_along_dim(index._data, dim)] = src
        return wrap(out)

    @staticmethod
    def backward(ctx, grad_output):
        (index,) = ctx.saved_tensors
        grad_x = Scatter.apply(grad_output, ctx.dim, index, 0.0) if ctx.needs_input_grad[0] else None
        grad_src = Gather.apply(grad_output, ctx.dim, index) if ctx.needs_input_grad[3] else None
        return grad_x, None, None, grad_src


class MaskedFill(Function):
    @staticmethod
    def forward(ctx, x, mask, fill):
        ctx.save_for_backward(mask)
        xp = backend.array_module(x._data)
        fill_value = fill._data if isinstance(fill, Tensor) else fill
        return wrap(xp.where(mask._data, fill_value, x._data).astype(x._data.dtype, copy=False))

    @staticmethod
    def backward(ctx, grad_output):
        (mask,) = ctx.saved_tensors
        grad_x = grad_output.masked_fill(mask, 0.0) if ctx.needs_input_grad[0] else None
        grad_fill = None
        if ctx.needs_input_grad[2]:
            grad_fill = (grad_output - grad_output.masked_fill(mask, 0.0)).sum()
        return grad_x, None, grad_fill


class CopyFrom(Function):
    """The values of ``src`` broadcast, cast and moved to ``x``'s shape, dtype and device."""

    @staticmethod
    def forward(ctx, x, src):
        ctx.src_device = src.device if isinstance(src, Tensor) else None
        data = src._data if isinstance(src, Tensor) else src
        xp = backend.array_module(x._data)
        if isinstance(src, Tensor):
            data = backend.to_device(data, x.device)
        out = xp.empty_like(x._data)
        try:
            xp.copyto(out, data, casting="unsafe")
        except ValueError:
            raise RuntimeError(
                f"The size of tensor a ({list(x._data.shape)}) must match the size of tensor b ({list(getattr(data, 'shape', ()))}): src cannot be broadcast to the destination"
            ) from None
        return wrap(out)

    @staticmethod
    def backward(ctx, grad_output):
        grad_src = grad_output.to(ctx.src_device) if ctx.needs_input_grad[1] else None
        return None, grad_src


class Fill(Function):
    @staticmethod
    def forward(ctx, x, fill):
        xp = backend.array_module(x._data)
        return wrap(xp.full_like(x._data, fill._data if isinstance(fill, Tensor) else fill))

    @staticmethod
    def backward(ctx, grad_output):
        return None, (grad_output.sum() if ctx.needs_input_grad[1] else None)


# -- public functions ---------------------------------------------------------------------------
def getitem(x, index):
    if getattr(index, "ndim", None) == 0 and getattr(index, "dtype", None) in (dtypes.bool, np.bool_):
        # x[scalar_mask] adds a dim of size 1 (True) or 0 (False), as in NumPy and PyTorch.
        return getitem(x.unsqueeze(0), index.reshape(1))
    index, advanced = normalize_index(x, index)
    return GetItem.apply(x, index, advanced)


def _value_for(tensor, value):
    if isinstance(value, Tensor):
        check_same_device(tensor, value)
        return value if value._data.dtype == tensor._data.dtype else value.to(tensor.dtype)
    if isinstance(value, (int, float, bool)):
        if value.__class__ is int and not -(1 << 63) <= value < 1 << 63:
            raise ValueError("Overflow when unpacking long long")  # PyTorch reads the number as an int64
        # Checked against the dtype, except float16, which PyTorch stores from a double (1e5 is inf).
        dtype = tensor._data.dtype
        return value if dtype == np.float16 else checked_scalar(value, dtype)
    with quiet():  # a list's 1e300 stored as float32 is inf, silently, as in PyTorch
        return wrap(backend.to_device(np.asarray(value, dtype=tensor._data.dtype), tensor.device))


def setitem(tensor, index, value):
    """tensor[index] = value, in place (recorded in the graph when grad is involved)."""
    index, _ = normalize_index(tensor, index)
    value = _value_for(tensor, value)
    if grad_state.enabled and (tensor._requires_grad or getattr(value, "requires_grad", False)):
        inplace(tensor, IndexPut.apply, index, value)
        return
    try:
        with quiet():  # float16's 1e300 is inf, silently (PyTorch)
            tensor._data[index] = value._data if isinstance(value, Tensor) else value
    except ValueError as error:
        raise RuntimeError(f"shape mismatch: {error}") from None
    tensor._version[0] += 1


@numpy_names
def index_select(input, dim, index):
    if not isinstance(index, Tensor) or index._data.ndim > 1 or index._data.dtype.kind not in "iu":
        raise IndexError("index_select(): Index is supposed to be a vector of integers")
    d = normalize_dim(dim, input._data.ndim)
    return getitem(input, (builtins.slice(None),) * d + (index.reshape(-1),))


@numpy_names
def gather(input, dim, index):
    """out[i][j] = input[i][index[i][j]] along ``dim`` (for dim=1), as PyTorch."""
    d = _check_along(input, dim, index, "gather")
    x = input
    if index._data.shape != input._data.shape:
        x = input[tuple(builtins.slice(0, s) if i != d else builtins.slice(None) for i, s in enumerate(index._data.shape))]
    return Gather.apply(x, d, index)


def scatter_add(input, dim, index, src):
    d = _check_along(input, dim, index, "scatter_add", src)
    check_same_device(input, src)
    return ScatterAdd.apply(input, d, index, src)


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    if reduce == "add":
        return scatter_add(input, dim, index, src if src is not None else value)
    if reduce is not None:
        raise RuntimeError(f"reduce argument must be either add or multiply, got {reduce} (tinytorch supports add)")
    d = _check_along(input, dim, index, "scatter", src)
    if src is None:
        src = value
    if isinstance(src, (int, float)):
        return Scatter.apply(input, d, index, src)
    check_same_device(input, src)
    return Scatter.apply(input, d, index, src.to(input.dtype))


def _index_along(name, input, dim, index, source=None):
    """PyTorch's checks for ``index_add``/``index_copy``/``index_fill`` and the index as scatter
    takes it: one entry per element of ``source`` (or of the filled slices) along ``dim``.
    Returns (input viewed as at least 1-D, dim, that index, source viewed likewise)."""
    if not isinstance(index, Tensor) or index._data.dtype.kind not in "iu":
        found = dtypes.scalar_type_name(index._data.dtype) if isinstance(index, Tensor) else type(index).__name__
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index but got: {found}")
    check_same_device(input, index)
    if index._data.ndim > 1:
        if name == "index_fill_":
            raise RuntimeError("Index has to be a vector/scalar")
        raise IndexError(f"{name}(): Index is supposed to be a vector, but got dim: {index._data.ndim} "
                         f"with type: {dtypes.scalar_type_name(index._data.dtype)} and size: {list(index._data.shape)}")
    d = normalize_dim(dim, input._data.ndim)
    x = input.reshape(1) if input._data.ndim == 0 else input
    flat = index._data.reshape(-1)
    size = x._data.shape[d]
    if source is None:
        shape = x._data.shape[:d] + (flat.size,) + x._data.shape[d + 1:]
    else:
        check_same_device(input, source)
        if source._data.dtype != input._data.dtype:
            raise RuntimeError(f"{name}(): self ({dtypes.scalar_type_name(input._data.dtype)}) and source "
                               f"({dtypes.scalar_type_name(source._data.dtype)}) must have the same scalar type")
        source = source.reshape(1) if source._data.ndim == 0 else source
        count = source._data.shape[d] if source._data.ndim > d else 1
        if flat.size != count:
            if name == "index_copy_":
                raise IndexError(f"index_copy_(): Number of indices ({flat.size}) should be equal to source.size(dim) ({count})")
            raise RuntimeError(f"{name}(): Number of indices ({flat.size}) should be equal to source.size(dim): ({count}), for dim: {d}")
        shape = source._data.shape
        if len(shape) != x._data.ndim or any(a != b for i, (a, b) in enumerate(zip(shape, x._data.shape)) if i != d):
            raise RuntimeError("source tensor shape must match self tensor shape, excluding the specified dimension. "
                               f"Got self.shape = {list(x._data.shape)} source.shape = {list(shape)}")
    if flat.size:
        backend.check_later(((flat < 0) | (flat >= size)).any(), lambda: _out_of_bounds(RuntimeError, flat, size, d))
    xp = backend.array_module(flat)
    along = xp.broadcast_to(flat.astype(dtypes.int64.numpy, copy=False).reshape([-1 if i == d else 1 for i in range(len(shape))]), shape)
    return x, d, wrap(along), source


def _like_input(result, input):
    return result.reshape(()) if input._data.ndim == 0 else result


def index_add(input, dim, index, source, *, alpha=1):
    """``input`` with ``alpha * source`` added at ``index`` along ``dim`` (repeated indices add up)."""
    x, d, along, source = _index_along("index_add_", input, dim, index, source)
    return _like_input(ScatterAdd.apply(x, d, along, source * alpha if alpha != 1 else source), input)


def index_copy(input, dim, index, source):
    """``input`` with the slices of ``source`` written at ``index`` along ``dim``."""
    x, d, along, source = _index_along("index_copy_", input, dim, index, source)
    return _like_input(Scatter.apply(x, d, along, source), input)


def index_fill(input, dim, index, value):
    """``input`` with ``value`` (a number, or a 0-d tensor that gets the gradient) written at
    ``index`` along ``dim``."""
    x, d, along, _ = _index_along("index_fill_", input, dim, index)
    xp = backend.array_module(x._data)
    hit = xp.zeros(x._data.shape[d], dtype=bool)
    hit[along._data.reshape(-1)] = True
    mask = wrap(hit.reshape([-1 if i == d else 1 for i in range(x._data.ndim)]))
    return _like_input(masked_fill(x, mask, value), input)


def masked_fill(input, mask, value):
    """input with ``value`` where the boolean ``mask`` (broadcastable to input) is True."""
    if not isinstance(mask, Tensor) or mask._data.dtype.kind != "b":
        found = mask.dtype if isinstance(mask, Tensor) else type(mask).__name__
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype {found}")
    check_same_device(input, mask)
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with {value._data.ndim} dimension(s).")
        check_same_device(input, value)
    else:
        value = checked_scalar(value, input._data.dtype)
    try:
        np.broadcast_shapes(mask._data.shape, input._data.shape)
    except ValueError:
        raise RuntimeError(
            f"The size of tensor a ({list(input._data.shape)}) must match the size of tensor b ({list(mask._data.shape)}) at non-singleton dimension"
        ) from None
    return MaskedFill.apply(input, mask, value)


def masked_select(input, mask):
    shape = np.broadcast_shapes(mask._data.shape, input._data.shape)
    return getitem(input.expand(shape), mask.expand(shape))


def nonzero(input, *, as_tuple=False):
    data = input._data
    if data.ndim == 0:
        # NumPy refuses a 0-d array; PyTorch gives (1, 0) / (0, 0), or as_tuple the 1-d answer.
        xp = backend.array_module(data)
        if as_tuple:
            return nonzero(wrap(data.reshape(1)), as_tuple=True)
        return wrap(xp.zeros((1 if bool(data) else 0, 0), dtype=dtypes.int64.numpy))
    indices = data.nonzero()
    if as_tuple:
        return tuple(wrap(i.astype(dtypes.int64.numpy)) for i in indices)
    xp = backend.array_module(input._data)
    return wrap(xp.stack(indices, axis=-1).astype(dtypes.int64.numpy) if indices else xp.zeros((0, 0), dtype=dtypes.int64.numpy))


def copy_from(input, src):
    return CopyFrom.apply(input, src)


# -- in place -------------------------------------------------------------------------------------
def check_inplace(tensor):
    """PyTorch refuses in-place ops on a leaf that requires grad (and views of one) in grad mode."""
    if not grad_state.enabled:
        return
    if tensor._requires_grad and tensor.grad_fn is None:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    base = tensor._base
    if base is not None and base._requires_grad:
        if base.grad_fn is None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
        raise RuntimeError(
            "tinytorch does not support in-place operations on a view of a tensor that requires grad "
            "(PyTorch rebases the view's graph); use the out-of-place operation instead."
        )


def inplace(tensor, op, *args, **kwargs):
    """Run ``op(tensor, *args)`` and store the result in ``tensor``'s memory, bumping its version.

    With autograd involved the op runs on a snapshot of the old values, so that tensors saved
    for backward keep what they saw, and ``tensor`` takes over the result's grad_fn.
    """
    check_inplace(tensor)
    if grad_state.enabled and (tensor._requires_grad or builtins.any(getattr(a, "requires_grad", False) for a in args)):
        snapshot = Tensor._make(tensor._data.copy(), tensor._requires_grad, tensor.grad_fn, tensor._output_nr)
        result = op(snapshot, *args, **kwargs)
        store(tensor, result)
        tensor.grad_fn, tensor._output_nr = result.grad_fn, result._output_nr
        tensor._requires_grad = result._requires_grad
        base = tensor._base
        if base is not None and result._requires_grad and not base._requires_grad:
            _write_through_view(base, tensor)
    else:
        store(tensor, op(tensor, *args, **kwargs))
    tensor._version[0] += 1
    return tensor


class _ViewWrite(Function):
    """The base of a view that an in-place op has just made depend on a tensor that requires
    grad (``b[0].copy_(x)`` with ``b`` not requiring grad), as a function of the view's values:
    PyTorch's CopySlices. The base's elements outside the view are constants; the gradient to the
    view is the base's gradient at the view's positions in its memory."""

    @staticmethod
    def forward(ctx, view, base, positions):
        ctx.positions, ctx.shape = positions, tuple(view._data.shape)
        return wrap(base._data)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.reshape(-1)[wrap(ctx.positions)].reshape(ctx.shape), None, None


def _write_through_view(base, view):
    """Give ``base`` the graph its view ``view`` just took (see ``_ViewWrite``): without it, the
    base's gradient would silently miss what was written through the view."""
    if not base._data.flags.c_contiguous:
        raise RuntimeError(
            "tinytorch does not support in-place operations that write a tensor requiring grad through a view of a "
            "non-contiguous tensor; use the out-of-place operation instead."
        )
    xp = backend.array_module(view._data)
    positions = xp.asarray(view.storage_offset())
    for axis, (length, step) in enumerate(zip(view._data.shape, view.stride())):
        shape = [1] * view._data.ndim
        shape[axis] = length
        positions = positions + (xp.arange(length) * step).reshape(shape)
    node = _ViewWrite.apply(view, base, xp.broadcast_to(positions, view._data.shape))
    base.grad_fn, base._output_nr, base._requires_grad = node.grad_fn, node._output_nr, True


def fill_(tensor, value):
    """Fill in place with a number or a 0-d tensor."""
    if isinstance(value, Tensor) and value._data.ndim != 0:
        raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with {value._data.ndim} dimensions.")
    check_inplace(tensor)
    if not isinstance(value, Tensor):
        value = checked_scalar(value, tensor._data.dtype)
    if grad_state.enabled and (tensor._requires_grad or getattr(value, "requires_grad", False)):
        return inplace(tensor, Fill.apply, value)
    tensor._data[...] = value._data if isinstance(value, Tensor) else value
    tensor._version[0] += 1
    return tensor
