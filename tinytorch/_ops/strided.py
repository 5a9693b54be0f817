"""``as_strided`` and its family: a view of a tensor's storage with any sizes, strides and offset.

A tensor's storage is its root's memory (the tensor itself, or the ``_base`` its views share),
read as a flat array of elements from the root's first one; ``storage_offset`` and strides count
elements of it, as in PyTorch. So ``x[2:].as_strided((2,), (1,), 0)`` reads the root's first two
elements, like PyTorch's.

AsStrided's backward is PyTorch's as_strided_backward: the gradient is scatter-added into a flat
buffer at the output's storage positions (overlapping output positions add up), divided by how
many times the input sees each position when the input's own geometry overlaps (an expanded
input), and read back at the input's positions. It is written with ``index_add`` and ``take``, so
it differentiates again.
"""

import builtins
import numbers

import numpy as np

from .. import _backend as backend
from ..autograd.function import Function
from ..autograd.grad_mode import state as grad_state
from .._tensor import Tensor
from ._util import wrap
from .indexing import check_inplace, index_add
from .indexing_extra import take
from .views_extra import view_inplace


# -- geometry -------------------------------------------------------------------------------------
def _root(tensor):
    return tensor if tensor._base is None else tensor._base


def _storage(tensor):
    """The flat storage array of ``tensor``'s root (a view of its memory, never a copy)."""
    data = _root(tensor)._data
    if data.flags.c_contiguous:
        return data.reshape(-1)
    if builtins.any(s < 0 for s in data.strides):
        raise RuntimeError("as_strided: tensors whose storage is laid out with negative strides are not supported")
    # A non-contiguous root (from NumPy): its memory spans from its first element to its last.
    span = 0 if data.size == 0 else 1 + builtins.sum((n - 1) * s for n, s in zip(data.shape, data.strides)) // data.itemsize
    return backend.array_module(data).lib.stride_tricks.as_strided(data, (span,), (data.itemsize,))


def _address(array):
    if backend.array_module(array) is np:
        return array.__array_interface__["data"][0]
    try:
        return array.data.ptr
    except AttributeError:  # tests/fake_cupy.py's arrays hold a NumPy array (no device pointer)
        return array.__array_interface__["data"][0]


def _offset(tensor):
    """``tensor.storage_offset()``, for CuPy's arrays and the test suite's stand-in for them alike."""
    root = _root(tensor)
    return 0 if root is tensor else (_address(tensor._data) - _address(root._data)) // tensor._data.itemsize


def _geometry(tensor):
    return tuple(tensor._data.shape), tuple(tensor.stride()), _offset(tensor)


def _positions(xp, size, stride, offset):
    """The storage position (int64) of every element of a (size, stride, offset) view."""
    positions = xp.full(tuple(size), offset, dtype=np.int64)
    for dim, (n, s) in enumerate(zip(size, stride)):
        shape = [1] * len(size)
        shape[dim] = n
        positions = positions + (xp.arange(n, dtype=np.int64) * s).reshape(shape)
    return positions


def _extent(size, stride, offset):
    """The storage length a view needs: one past its last element (0 when empty)."""
    if builtins.any(n == 0 for n in size):
        return 0
    return offset + 1 + builtins.sum((n - 1) * s for n, s in zip(size, stride))


def _may_overlap(size, stride):
    """PyTorch's cheap test: False guarantees no two elements share a position."""
    dims = sorted((s, n) for n, s in zip(size, stride) if n > 1)
    reach = 1
    for s, n in dims:
        if s < reach:
            return True
        reach = s * n
    return False


# -- argument checks (PyTorch's words) ----------------------------------------------------------
def _int_list(value, function, name, position):
    if isinstance(value, (tuple, list)):
        for i, item in enumerate(value):
            if isinstance(item, bool) or not isinstance(item, numbers.Integral):
                raise TypeError(
                    f"{function}(): argument '{name}' (position {position}) must be tuple of ints, but found element "
                    f"of type {type(item).__name__} at pos {i}"
                )
        return tuple(int(item) for item in value)
    raise TypeError(f"{function}(): argument '{name}' (position {position}) must be tuple of ints, not {type(value).__name__}")


def _check(input, size, stride, storage_offset, function, first):
    if not isinstance(input, Tensor):
        raise TypeError(f"{function}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    size = _int_list(size, function, "size", first)
    stride = _int_list(stride, function, "stride", first + 1)
    if storage_offset is None:
        storage_offset = _offset(input)
    elif isinstance(storage_offset, bool) or not isinstance(storage_offset, numbers.Integral):
        raise TypeError(
            f"{function}(): argument 'storage_offset' (position {first + 2}) must be int, not {type(storage_offset).__name__}"
        )
    storage_offset = int(storage_offset)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if builtins.any(s < 0 for s in stride):
        raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, got strides: {list(stride)}")
    if builtins.any(n < 0 for n in size):
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(size)} and strides={list(stride)}")
    if storage_offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {storage_offset}")
    length = _storage(input).shape[0]
    needed = _extent(size, stride, storage_offset)
    if needed > length:
        itemsize = input._data.itemsize
        raise RuntimeError(
            f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {storage_offset}, and itemsize "
            f"{itemsize} requiring a storage size of {needed * itemsize} are out of bounds for storage of size {length * itemsize}"
        )
    return size, stride, storage_offset


def _strided(x, size, stride, storage_offset):
    """The array of the (size, stride, storage_offset) view of ``x``'s storage."""
    storage = _storage(x)
    itemsize = x._data.itemsize
    xp = backend.array_module(storage)
    return xp.lib.stride_tricks.as_strided(storage[storage_offset:], size, tuple(s * itemsize for s in stride))


# -- the primitive --------------------------------------------------------------------------------
class AsStrided(Function):
    """A (size, stride, storage_offset) view of the input's storage. Backward: the gradient
    scattered (added) at the output's storage positions, averaged over the input's repeats when
    the input overlaps itself, and gathered at the input's positions."""

    @staticmethod
    def forward(ctx, x, size, stride, storage_offset):
        out = wrap(_strided(x, size, stride, storage_offset))
        out._version = x._version
        out._base = _root(x)
        ctx.input_geometry = _geometry(x)
        ctx.output_geometry = (size, stride, storage_offset)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        input_size, input_stride, input_offset = ctx.input_geometry
        size, stride, offset = ctx.output_geometry
        xp = backend.array_module(grad_output._data)
        shared = builtins.min(input_offset, offset)
        input_offset, offset = input_offset - shared, offset - shared
        length = builtins.max(_extent(input_size, input_stride, input_offset), _extent(size, stride, offset))
        with backend.on_device(grad_output.device):
            buffer = wrap(xp.zeros((length,), dtype=grad_output._data.dtype))
            scattered = index_add(buffer, 0, wrap(_positions(xp, size, stride, offset).reshape(-1)), grad_output.reshape(-1))
            inputs = _positions(xp, input_size, input_stride, input_offset)
            if _may_overlap(input_size, input_stride):
                count = xp.zeros((length,), dtype=grad_output._data.dtype)
                backend.scatter_add(count, inputs.reshape(-1), 1)
                scattered = scattered / wrap(xp.maximum(count, 1))
            return take(scattered, wrap(inputs)), None, None, None


# -- public functions -----------------------------------------------------------------------------
def as_strided(input, size, stride, storage_offset=None):
    """A view of ``input``'s storage with the given sizes and strides (in elements), starting
    ``storage_offset`` elements into it (default: ``input``'s own offset). Elements may overlap;
    the gradient then adds up over them."""
    size, stride, storage_offset = _check(input, size, stride, storage_offset, "as_strided", 2)
    return AsStrided.apply(input, size, stride, storage_offset)


def as_strided_method(tensor, size, stride, storage_offset=None, in_place=False):
    """``Tensor.as_strided`` / ``as_strided_``: the functions with the method's argument positions."""
    name = "as_strided_" if in_place else "as_strided"
    size, stride, storage_offset = _check(tensor, size, stride, storage_offset, name, 1)
    if in_place:
        return _as_strided_in_place(tensor, size, stride, storage_offset)
    return AsStrided.apply(tensor, size, stride, storage_offset)


def as_strided_(input, size, stride, storage_offset=None):
    """``as_strided`` in place: ``input`` itself becomes that view of its storage."""
    size, stride, storage_offset = _check(input, size, stride, storage_offset, "as_strided_", 2)
    return _as_strided_in_place(input, size, stride, storage_offset)


def _as_strided_in_place(input, size, stride, storage_offset):
    check_inplace(input)  # before the root below is set up: a refused call changes nothing
    if input._base is None:
        # The tensor was its own storage: keep that memory as the root, so that offsets and later
        # as_strided calls still count from its first element.
        root = wrap(input._data)
        root._version = input._version
        input._base = root
    return view_inplace(input, AsStrided.apply, size, stride, storage_offset)


def as_strided_copy(input, size, stride, storage_offset=None):
    """``as_strided`` copied into new memory."""
    size, stride, storage_offset = _check(input, size, stride, storage_offset, "as_strided_copy", 2)
    return AsStrided.apply(input, size, stride, storage_offset).clone()


def _dense(data):
    """Whether an array covers its memory without gaps or overlaps (then a copy may keep its strides)."""
    if data.size <= 1:
        return True
    sizes = sorted((s, n) for n, s in zip(data.shape, data.strides) if n > 1)
    reach = data.itemsize
    for s, n in sizes:
        if s != reach:
            return False
        reach = s * n
    return True


class AsStridedScatter(Function):
    """``input`` copied into fresh storage of the same strides and storage offset (as PyTorch's
    *_scatter ops), with ``src`` written into its as_strided(size, stride, storage_offset) view.
    Backward: G_src is the gradient read through that view; G_input is the gradient with those
    positions zeroed (PyTorch returns the opposite mask, a bug its gradcheck shows)."""

    @staticmethod
    def forward(ctx, x, src, size, stride, storage_offset):
        data = x._data
        offset = _offset(x)
        if offset == 0 and _dense(data):
            out = wrap(data.copy(order="K"))
        else:
            xp = backend.array_module(data)
            in_stride = x.stride()
            storage = xp.zeros((builtins.max(_extent(data.shape, in_stride, offset), offset),), dtype=data.dtype)
            root = wrap(storage)
            out = wrap(xp.lib.stride_tricks.as_strided(storage[offset:], data.shape, data.strides))
            out._data[...] = data
            out._base = root  # the fresh storage, so that offsets count from its start as in PyTorch
            out._version = root._version
        _strided(out, size, stride, storage_offset)[...] = src._data
        # The gradient arrives contiguous, its first element at the input's first: shift the view.
        ctx.geometry = (size, stride, storage_offset - offset)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        size, stride, offset = ctx.geometry
        grad = grad_output.contiguous()
        grad_src = as_strided(grad, size, stride, offset) if ctx.needs_input_grad[1] else None
        grad_input = None
        if ctx.needs_input_grad[0]:
            zeros = wrap(backend.array_module(grad._data).zeros(tuple(size), dtype=grad._data.dtype))
            grad_input = AsStridedScatter.apply(grad, zeros, size, stride, offset)
        return grad_input, grad_src, None, None, None


def as_strided_scatter(input, src, size, stride, storage_offset=None):
    """A copy of ``input`` with ``src`` embedded at the elements of
    ``input.as_strided(size, stride, storage_offset)`` (offset default 0); ``src`` must have
    that view's shape."""
    if not isinstance(src, Tensor):
        raise TypeError(f"as_strided_scatter(): argument 'src' (position 2) must be Tensor, not {type(src).__name__}")
    if not isinstance(input, Tensor):
        raise TypeError(f"as_strided_scatter(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    # The view is taken on the fresh copy, whose storage ends where the input's last element does.
    size, stride, offset = _check(input, size, stride, storage_offset, "as_strided_scatter", 3)
    start = _offset(input)
    length = builtins.max(_extent(input._data.shape, input.stride(), start), start)
    if _extent(size, stride, offset) > length:
        itemsize = input._data.itemsize
        raise RuntimeError(
            f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, and itemsize {itemsize} "
            f"requiring a storage size of {_extent(size, stride, offset) * itemsize} are out of bounds for storage of "
            f"size {length * itemsize}"
        )
    if tuple(src._data.shape) != size:
        raise RuntimeError(
            f"expected src to have a size equal to the slice of self. src size = {list(src._data.shape)}, slice size = {list(size)}"
        )
    if src.device != input.device:
        raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, {input.device} and {src.device}!")
    if grad_state.enabled and (input._requires_grad or src._requires_grad):
        if input._requires_grad and not input._data.flags.c_contiguous:
            raise RuntimeError("as_strided_scatter is currently only supported for contiguous inputs")
        if offset < _offset(input) and _extent(size, stride, offset):
            raise RuntimeError("as_strided_scatter: under autograd, the view must not start before the input's first element")
    return AsStridedScatter.apply(input, src, size, stride, offset)

