"""Memory formats, as ``torch.memory_format``: the order in which a dense tensor lays its dims out
in memory, and PyTorch's rules for them (c10/core/MemoryFormat.h, ATen's ``empty_like``).

Arrays carry strides, so ``channels_last`` is real here: a channels-last (N, C, H, W) tensor is a
non-contiguous NCHW view of NHWC memory, with PyTorch's strides (H*W*C, 1, W*C, C).

Empty tensors: NumPy 2 gives a new empty array all-zero strides but keeps the strides an empty
array is given through its views (transpose, slicing, broadcast_to). So every empty array a tensor
wraps is given PyTorch's strides first (``restride_empty``), and the view ops that PyTorch defines
differently for them (unsqueeze, squeeze, view) set theirs (``with_strides``)."""

import contextlib

import numpy as np


class memory_format:
    """How a tensor orders its dims in memory: ``tinytorch.contiguous_format`` (row-major),
    ``channels_last`` (NHWC memory for an NCHW tensor), ``channels_last_3d`` (NDHWC), or
    ``preserve_format`` (the input's own order: ``clone``, ``to`` and the ``*_like`` factories)."""

    __slots__ = ("name",)

    def __new__(cls, *args, **kwargs):
        raise TypeError("cannot create 'torch.memory_format' instances")

    def __repr__(self):
        return f"tinytorch.{self.name}"

    def __reduce__(self):
        return (_by_name, (self.name,))


def _make(name):
    fmt = object.__new__(memory_format)
    fmt.name = name
    return fmt


def _by_name(name):
    return _FORMATS[name]


contiguous_format = _make("contiguous_format")
channels_last = _make("channels_last")
channels_last_3d = _make("channels_last_3d")
preserve_format = _make("preserve_format")
_FORMATS = {f.name: f for f in (contiguous_format, channels_last, channels_last_3d, preserve_format)}

# The dims from outermost to innermost in memory, and the rank each channels-last format needs.
_ORDERS = {"channels_last": (0, 2, 3, 1), "channels_last_3d": (0, 2, 3, 4, 1)}


def check_type(function, fmt):
    """``fmt`` itself (``None`` for the default), or PyTorch's TypeError for anything else."""
    if fmt is not None and not isinstance(fmt, memory_format):
        raise TypeError(f"{function}(): argument 'memory_format' must be torch.memory_format, not {type(fmt).__name__}")
    return fmt


def check_rank(fmt, ndim):
    """PyTorch's RuntimeError when a channels-last format meets a tensor of another rank."""
    order = _ORDERS.get(fmt.name)
    if order is not None and ndim != len(order):
        raise RuntimeError(f"required rank {len(order)} tensor to use {fmt.name} format")


def strides(array):
    """The array's strides in elements, as ``Tensor.stride()``."""
    steps = tuple(s // array.itemsize for s in array.strides)
    if not array.size and not any(steps):
        return contiguous_strides(array.shape)
    return steps


def contiguous_strides(shape):
    """PyTorch's row-major strides for ``shape``, size-0 dims counted as 1 ((0, 3) -> (3, 1))."""
    steps, step = [0] * len(shape), 1
    for d in range(len(shape) - 1, -1, -1):
        steps[d] = step
        step *= max(shape[d], 1)
    return tuple(steps)


def with_strides(array, steps):
    """The empty ``array`` viewed with strides ``steps`` (in elements); its views keep them."""
    nbytes = tuple(s * array.itemsize for s in steps)
    if array.__class__ is np.ndarray:  # a view of array's (collapsed) base, so views stay views
        return np.ndarray(array.shape, array.dtype, buffer=array, strides=nbytes)
    return as_strided(array, array.shape, nbytes)


def as_strided(array, shape, nbytes):
    """NumPy's or CuPy's ``as_strided`` view of ``array`` (byte strides ``nbytes``), made on the
    array's GPU, not the current one."""
    from . import _backend as backend

    with backend.device_guard((array,)) or contextlib.nullcontext():
        return backend.array_module(array).lib.stride_tricks.as_strided(array, shape, nbytes)


def restride_empty(array):
    """``array``, or when it is empty with all-zero strides (as NumPy 2 makes new empty arrays)
    a view of it with PyTorch's row-major strides, which views of it then derive theirs from."""
    steps = getattr(array, "strides", None)  # a sparse tensor's storage has none
    if steps is None or any(steps):
        return array
    return with_strides(array, contiguous_strides(array.shape))


def is_contiguous(array, fmt):
    """Whether ``array`` is dense in ``fmt``'s order; size-1 dims may have any stride (PyTorch's
    ``is_contiguous(memory_format=...)``). ``preserve_format`` asks the row-major question."""
    order = _ORDERS.get(fmt.name)
    if order is None:
        return bool(array.flags.c_contiguous)
    if array.ndim != len(order):
        return False
    expected, shape, steps = 1, array.shape, strides(array)
    for d in reversed(order):
        if shape[d] != 1:
            if steps[d] != expected:
                return False
            expected *= shape[d]
    return True


def _strides_like_channels_last(shape, steps, order):
    """c10's ``is_channels_last_strides_2d_s4`` (and 3d): strides that rise along ``order``, where
    ambiguous cases (a trivial C dim, N111 tensors) count as row-major, as PyTorch decides."""
    if steps[1] == 0:
        return False
    smallest = 0
    for d in reversed(order):
        if shape[d] == 0 or steps[d] < smallest:
            return False
        if d == 0 and smallest == steps[1]:
            return False
        smallest = steps[d] * (shape[d] if shape[d] > 1 else 1)
    return True


def suggest(array):
    """PyTorch's ``suggest_memory_format``: the channels-last format the strides look like, else
    ``contiguous_format``."""
    for fmt in (channels_last, channels_last_3d):
        order = _ORDERS[fmt.name]
        if array.ndim == len(order) and _strides_like_channels_last(array.shape, strides(array), order):
            return fmt
    return contiguous_format


def _dense_order(shape, steps):
    """ATen's ``infer_dense_strides`` as a permutation (outermost dim first): the order of the
    input's strides, ties and zero strides keeping the row-major order (an insertion sort, so that
    it agrees with PyTorch's on every tie)."""
    perm = list(reversed(range(len(shape))))  # innermost first, as ATen sorts it
    for i in range(1, len(perm)):
        inner = i
        for outer in range(i - 1, -1, -1):
            a, b = perm[outer], perm[inner]
            if steps[a] == 0 or steps[b] == 0:
                continue
            if steps[a] > steps[b] or (steps[a] == steps[b] and shape[a] > shape[b]):
                perm[outer], perm[inner] = perm[inner], perm[outer]
                inner = outer
            else:
                break
    return tuple(reversed(perm))


def order_for(fmt, array):
    """The dims of ``array``, outermost first, in the memory order of ``fmt`` (checked against the
    rank); ``preserve_format`` keeps the array's own order."""
    if fmt is preserve_format:
        return _dense_order(array.shape, strides(array))
    return format_order(fmt, array.ndim)


def format_order(fmt, ndim):
    """The memory order (outermost dim first) of a new tensor of rank ``ndim`` in ``fmt``, which
    must name an order (``preserve_format`` has none without an input: PyTorch's RuntimeError)."""
    if fmt is preserve_format:
        raise RuntimeError("unsupported memory format Preserve")
    check_rank(fmt, ndim)
    return _ORDERS.get(fmt.name, tuple(range(ndim)))


def inverse(order):
    """The permutation that undoes ``order``."""
    result = [0] * len(order)
    for position, d in enumerate(order):
        result[d] = position
    return tuple(result)


def laid_out(make, shape, order):
    """A new array of ``shape`` with its dims in memory in ``order``: ``make(shape)`` builds a
    row-major array, made here in the permuted shape and viewed back."""
    if order == tuple(range(len(shape))):
        return make(shape)
    array = make(tuple(shape[d] for d in order)).transpose(inverse(order))
    return array if array.size else with_strides(array, _ordered_strides(shape, order))


def _ordered_strides(shape, order):
    """PyTorch's strides for an empty tensor laid out in ``order`` (a channels-last format's):
    the sizes multiplied as they are, zeros too ((2, 3, 0, 2) channels-last: (0, 1, 6, 3))."""
    steps, step = [0] * len(shape), 1
    for d in reversed(order):
        steps[d] = step
        step *= shape[d]
    return steps


def copy_in_order(tensor, order):
    """A differentiable copy of ``tensor`` with its dims in memory in ``order``: a row-major copy of
    the permuted view, viewed back (permute and clone carry the gradient)."""
    identity = tuple(range(tensor.ndim))
    if order == identity:
        return tensor.clone(memory_format=contiguous_format)
    copy = tensor.permute(order).clone(memory_format=contiguous_format).permute(inverse(order))
    copy._base = None  # fresh memory nothing else sees: a new tensor, as PyTorch's clone, not a view
    if not copy._data.size:
        copy._data = with_strides(copy._data, _ordered_strides(copy._data.shape, order))
    return copy
