"""Shape and movement ops. Reshape, Permute, Expand, SumTo, Cat, Split, Repeat, Flip, Roll and
Tril/Triu are primitives; view, flatten, squeeze, unsqueeze, stack and friends are composites."""

import builtins

import numpy as np

from .. import _backend as backend, _dtypes as dtypes, _memory_format
from ..autograd._engine import summed_axes
from ..autograd.function import Function
from .._numpy_names import numpy_names
from .._tensor import Size, Tensor
from ._util import check_same_device, normalize_dim, normalize_dims, result_dtype, shape_arg, wrap, write_out


def _infer_shape(shape, numel):
    """Resolve one -1 in ``shape``; RuntimeError as PyTorch when the sizes disagree."""
    unknown = [i for i, s in enumerate(shape) if s == -1]
    if len(unknown) > 1:
        raise RuntimeError("only one dimension can be inferred")
    for s in shape:
        if s < -1:
            raise RuntimeError(f"invalid shape dimension {s}")
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    if unknown:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = shape[: unknown[0]] + (numel // known,) + shape[unknown[0] + 1 :]
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


class Reshape(Function):
    @staticmethod
    def forward(ctx, x, shape, as_view):
        ctx.shape = x._data.shape
        if as_view:
            data = x._data.view()
            try:
                data.shape = shape
            except AttributeError:
                raise RuntimeError(
                    "view size is not compatible with input tensor's size and stride (at least one "
                    "dimension spans across two contiguous subspaces). Use .reshape(...) instead."
                ) from None
        else:
            data = x._data.reshape(shape)
        if not data.size and shape != ctx.shape:
            # PyTorch views an empty tensor in a new shape with row-major strides (zero sizes as 1).
            data = _memory_format.with_strides(data, _memory_format.contiguous_strides(shape))
        return _view_of(wrap(data), x)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.reshape(ctx.shape), None, None


def _view_of(out, x):
    """Mark ``out`` as a view of ``x`` when it shares x's memory: they share a version counter."""
    base = out._data.base
    if base is not None and (base is x._data or base is x._data.base):
        _mark_view(out, x)
    return out


def _mark_view(out, x):
    """``out`` is a view of ``x``: one version counter, and x's base as its base."""
    out._version = x._version
    out._base = x if x._base is None else x._base
    return out


class Permute(Function):
    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return _view_of(wrap(x._data.transpose(dims)), x)

    @staticmethod
    def backward(ctx, grad_output):
        inverse = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inverse[d] = i
        return grad_output.permute(*inverse), None


class Expand(Function):
    @staticmethod
    def forward(ctx, x, shape):
        data = x._data
        ctx.shape = data.shape
        xp = backend.array_module(data)
        out = xp.broadcast_to(data, shape)  # checks the shape; read-only
        strides = expand_strides(data, out.shape)
        repeats = out.size != data.size  # some element is read through several indices
        if strides != out.strides or not repeats:
            # Only size-1 dims' strides differ (they address nothing): the same elements. Where no
            # dim grew, the view is as writeable as x (PyTorch writes through it); else read-only.
            out = _memory_format.as_strided(out if repeats else data, out.shape, strides)
        return _mark_view(wrap(out), x)  # always a view of x

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.sum_to_size(ctx.shape), None


def expand_strides(array, shape):
    """The byte strides of ``array`` expanded to ``shape`` as PyTorch's ``inferExpandGeometry``
    gives them: an expanded dim (size 1 to more) has stride 0, a kept dim keeps its stride, and a
    new leading dim of size 1 the next dim's extent (size times stride). NumPy's ``broadcast_to``
    sets 0 for every size-1 dim it adds."""
    extra = len(shape) - array.ndim
    strides = [0] * len(shape)
    for i in range(len(shape) - 1, -1, -1):
        dim = i - extra
        if dim >= 0:
            size, stride = array.shape[dim], array.strides[dim]
        else:  # a new dim (after a 0-dim input's last, nothing: 0)
            size, stride = 1, (shape[i + 1] * strides[i + 1] if i + 1 < len(shape) else 0)
        strides[i] = stride if size == shape[i] else 0
    return tuple(strides)


class SumTo(Function):
    """Sum a broadcast result back to ``shape``: the inverse of expand, used by the engine."""

    @staticmethod
    def forward(ctx, x, shape):
        data = x._data
        ctx.shape = data.shape
        dims = summed_axes(data.shape, shape)
        if dims:
            data = data.sum(axis=dims, keepdims=True).reshape(shape)
        return wrap(data)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.expand(ctx.shape), None


class Cat(Function):
    @staticmethod
    def forward(ctx, dim, *tensors):
        ctx.dim = dim
        ctx.sizes = [t._data.shape[dim] for t in tensors]
        return wrap(backend.array_module(tensors[0]._data).concatenate([t._data for t in tensors], axis=dim))

    @staticmethod
    def backward(ctx, grad_output):
        return (None, *grad_output.split(ctx.sizes, ctx.dim))


class Split(Function):
    """Pieces along ``dim``: one node with several outputs (views), whose backward is one cat."""

    @staticmethod
    def forward(ctx, x, sizes, dim):
        ctx.dim = dim
        data = x._data
        pieces, start = [], 0
        index = [builtins.slice(None)] * data.ndim
        for size in sizes:
            index[dim] = builtins.slice(start, start + size)
            pieces.append(_view_of(wrap(data[tuple(index)]), x))
            start += size
        return tuple(pieces)

    @staticmethod
    def backward(ctx, *grad_outputs):
        return cat(grad_outputs, ctx.dim), None, None


class Unbind(Function):
    """The slices along ``dim``, that dim removed: one node whose outputs are numbered 0, 1, ..."""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        data = x._data
        index = [builtins.slice(None)] * data.ndim
        pieces = []
        for i in range(data.shape[dim]):
            index[dim] = i
            # The Ellipsis keeps a 1-d input's pieces 0-d array views, not NumPy scalars.
            pieces.append(_view_of(wrap(data[(*index, Ellipsis)]), x))
        return tuple(pieces)

    @staticmethod
    def backward(ctx, *grad_outputs):
        return stack(grad_outputs, ctx.dim), None


class Repeat(Function):
    @staticmethod
    def forward(ctx, x, repeats):
        ctx.shape = (1,) * (len(repeats) - x._data.ndim) + x._data.shape
        ctx.repeats = repeats
        return wrap(backend.array_module(x._data).tile(x._data, repeats))

    @staticmethod
    def backward(ctx, grad_output):
        interleaved = []
        for r, s in zip(ctx.repeats, ctx.shape):
            interleaved += [r, s]
        grad = grad_output.reshape(interleaved).sum(tuple(range(0, len(interleaved), 2)))
        return grad, None


class Flip(Function):
    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return wrap(backend.array_module(x._data).flip(x._data, dims).copy())

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.flip(ctx.dims), None


class Roll(Function):
    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return wrap(backend.array_module(x._data).roll(x._data, shifts, dims))

    @staticmethod
    def backward(ctx, grad_output):
        negated = tuple(-s for s in ctx.shifts) if isinstance(ctx.shifts, tuple) else -ctx.shifts
        return grad_output.roll(negated, ctx.dims), None, None


class Triangle(Function):
    @staticmethod
    def forward(ctx, x, diagonal, upper):
        ctx.diagonal, ctx.upper = diagonal, upper
        xp = backend.array_module(x._data)
        return wrap(xp.triu(x._data, diagonal) if upper else xp.tril(x._data, diagonal))

    @staticmethod
    def backward(ctx, grad_output):
        return (grad_output.triu(ctx.diagonal) if ctx.upper else grad_output.tril(ctx.diagonal)), None, None


# -- public functions ---------------------------------------------------------------------------
def reshape(input, *shape):
    """The same elements in a new shape (a view when possible, else a copy)."""
    shape = _infer_shape(shape_arg(shape), input._data.size)
    if shape == input._data.shape:
        return Reshape.apply(input, shape, True)
    return Reshape.apply(input, shape, False)


def view(input, *shape):
    """A view with a new shape; RuntimeError where the memory layout does not allow one, as PyTorch."""
    return Reshape.apply(input, _infer_shape(shape_arg(shape), input._data.size), True)


def view_dtype(input, dtype):
    return wrap(input._data.view(dtypes.to_numpy_dtype(dtype)))


def flatten(input, start_dim=0, end_dim=-1):
    shape = input._data.shape
    if not shape:
        return reshape(input, 1)
    start, end = normalize_dim(start_dim, len(shape)), normalize_dim(end_dim, len(shape))
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    middle = 1
    for s in shape[start : end + 1]:
        middle *= s
    return reshape(input, shape[:start] + (middle,) + shape[end + 1 :])


def unflatten(input, dim, sizes):
    shape = input._data.shape
    d = normalize_dim(dim, len(shape))
    sizes = _infer_shape(tuple(sizes), shape[d])
    return reshape(input, shape[:d] + sizes + shape[d + 1 :])


@numpy_names
def squeeze(input, dim=None):
    shape = input._data.shape
    dims = normalize_dims(dim, len(shape)) if dim is not None else tuple(range(len(shape)))
    out = reshape(input, tuple(s for i, s in enumerate(shape) if not (i in dims and s == 1)))
    if not input._data.size:  # PyTorch's squeeze keeps the other dims' strides (a view's too)
        steps = input.stride()
        out._data = _memory_format.with_strides(out._data, tuple(st for i, st in enumerate(steps) if not (i in dims and shape[i] == 1)))
    return out


@numpy_names
def unsqueeze(input, dim):
    shape = input._data.shape
    d = normalize_dim(dim, len(shape) + 1)
    out = reshape(input, shape[:d] + (1,) + shape[d:])
    if not input._data.size:  # PyTorch's unsqueeze keeps the strides; the new dim's is size * stride there
        steps = input.stride()
        new = shape[d] * steps[d] if d < len(shape) else 1
        out._data = _memory_format.with_strides(out._data, steps[:d] + (new,) + steps[d:])
    return out


def permute(input, *dims):
    dims = shape_arg(dims)
    ndim = input._data.ndim
    if len(dims) != ndim:
        raise RuntimeError(
            f"permute(sparse_coo): number of dimensions in the tensor input does not match the length of the desired ordering of dimensions i.e. input.dim() = {ndim} is not equal to len(dims) = {len(dims)}"
        )
    return Permute.apply(input, normalize_dims(dims, ndim))


def transpose(input, dim0, dim1):
    ndim = input._data.ndim
    if ndim == 0:
        return Reshape.apply(input, (), True)
    d0, d1 = normalize_dim(dim0, ndim), normalize_dim(dim1, ndim)
    dims = list(range(ndim))
    dims[d0], dims[d1] = d1, d0
    return Permute.apply(input, tuple(dims))


swapaxes = swapdims = transpose


def t(input):
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input._data.ndim}D")
    return transpose(input, 0, 1) if input._data.ndim == 2 else Reshape.apply(input, input._data.shape, True)


def movedim(input, source, destination):
    ndim = input._data.ndim
    source = normalize_dims(source if isinstance(source, (tuple, list)) else (source,), ndim)
    destination = normalize_dims(destination if isinstance(destination, (tuple, list)) else (destination,), ndim)
    order = [d for d in range(ndim) if d not in source]
    for dst, src in sorted(zip(destination, source)):
        order.insert(dst, src)
    return Permute.apply(input, tuple(order))


moveaxis = movedim  # NumPy's name, an alias in PyTorch too


def expand(input, *sizes):
    """A broadcast view: -1 keeps a size; new dims may be added in front."""
    sizes = shape_arg(sizes)
    shape = input._data.shape
    if len(sizes) < len(shape):
        raise RuntimeError(
            f"expand(torch.{dtypes.scalar_type_name(input._data.dtype)}Tensor{{{list(shape)}}}, size=[{', '.join(map(str, sizes))}]): the number of sizes provided ({len(sizes)}) must be greater or equal to the number of dimensions in the tensor ({len(shape)})"
        )
    lead = len(sizes) - len(shape)
    target = []
    for i, size in enumerate(sizes):
        own = shape[i - lead] if i >= lead else None
        if size == -1:
            if own is None:
                raise RuntimeError(f"The expanded size of the tensor (-1) isn't allowed in a leading, non-existing dimension {i}")
            size = own
        if own is not None and own != size and own != 1:
            raise RuntimeError(
                f"The expanded size of the tensor ({size}) must match the existing size ({own}) at non-singleton "
                f"dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: {list(shape)}"
            )
        target.append(size)
    target = tuple(target)
    if target == shape:
        return Reshape.apply(input, shape, True)
    return Expand.apply(input, target)


def broadcast_to(input, size):
    return expand(input, *shape_arg((size,)))


def broadcast_shapes(*shapes):
    """The shape that tensors of these shapes broadcast to (PyTorch's checks and words)."""
    shapes = [(shape,) if isinstance(shape, int) else shape for shape in shapes if shape is not None]
    for shape in shapes:
        if not isinstance(shape, (tuple, list)):
            raise RuntimeError(f"Input shapes should be of type ints, a tuple of ints, or a list of ints, got {shape}")
    common = [1] * builtins.max((len(shape) for shape in shapes), default=0)
    for position, shape in enumerate(shapes):
        for i in range(-1, -1 - len(shape), -1):
            size = shape[i]
            if size == common[i]:
                continue
            if common[i] == 1:
                if size < 0:
                    raise ValueError("Attempting to broadcast a dimension with negative length!")
                common[i] = size
            elif size != 1:
                raise RuntimeError(
                    f"Attempting to broadcast a dimension of length {size} at {i}! Mismatching argument at index "
                    f"{position} had {shape}; but expected shape should be broadcastable to {common}"
                )
    return Size(common)


def broadcast_tensors(*tensors):
    shape = broadcast_shapes(*(t.shape for t in tensors))
    return tuple(expand(t, shape) for t in tensors)


def sum_to_size(input, *size):
    size = shape_arg(size)
    shape = input._data.shape
    if size == shape:
        return input
    lead = len(shape) - len(size)
    if lead < 0 or builtins.any(s != 1 and s != shape[i + lead] for i, s in enumerate(size)):
        raise RuntimeError(f"size {{{list(size)}}} is not expandable to size {{{list(shape)}}}.")
    return SumTo.apply(input, size)


def _check_cat(tensors, dim, name):
    if not isinstance(tensors, (tuple, list)):
        raise TypeError(f"{name}(): argument 'tensors' must be tuple of Tensors, not {type(tensors).__name__}")
    if not tensors:
        raise RuntimeError(f"{name}(): expected a non-empty list of Tensors")
    first = tensors[0]
    for t in tensors[1:]:
        check_same_device(first, t)


@numpy_names
def cat(tensors, dim=0, *, out=None):
    """Concatenate along an existing dim; all other sizes must match."""
    if out is not None:
        return write_out(out, "cat", cat, tensors, dim)
    _check_cat(tensors, dim, "cat")
    tensors = [t for t in tensors if not (t._data.ndim == 1 and t._data.shape[0] == 0)] or list(tensors[:1])
    ref = tensors[0]
    d = normalize_dim(dim, ref._data.ndim)
    for number, t in enumerate(tensors):
        if t._data.ndim != ref._data.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ref._data.ndim} and {t._data.ndim}")
        for i, (a, b) in enumerate(zip(ref._data.shape, t._data.shape)):
            if i != d and a != b:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size {a} but got size {b} for tensor number {number} in the list."
                )
    target = ref._data.dtype
    for t in tensors[1:]:
        target = result_dtype(wrap(backend.array_module(ref._data).empty((1,), target)), t)
    tensors = [t if t._data.dtype == target else t.to(_dtype(target)) for t in tensors]
    return Cat.apply(d, *tensors)


concat = concatenate = cat


def _dtype(numpy_dtype):
    return dtypes.from_numpy_dtype(numpy_dtype)


@numpy_names
def stack(tensors, dim=0, *, out=None):
    """Join tensors of one shape along a new dim."""
    if out is not None:
        return write_out(out, "stack", stack, tensors, dim)
    _check_cat(tensors, dim, "stack")
    shape = tensors[0]._data.shape
    for number, t in enumerate(tensors):
        if t._data.shape != shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 and {list(t._data.shape)} at entry {number}")
    d = normalize_dim(dim, len(shape) + 1)
    return cat([unsqueeze(t, d) for t in tensors], d)


def hstack(tensors):
    return cat(tensors, 0 if tensors[0]._data.ndim == 1 else 1)


def vstack(tensors):
    return cat([t if t._data.ndim > 1 else t.reshape(1, -1) for t in tensors], 0)


row_stack = vstack  # PyTorch's alias (NumPy's old name)


def split(tensor, split_size_or_sections, dim=0):
    d = normalize_dim(dim, tensor._data.ndim)
    length = tensor._data.shape[d]
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        if size <= 0 and length:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {length}")
        sizes = [size] * (length // size) + ([length % size] if length % size else []) if size else [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if builtins.sum(sizes) != length:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {length} (input tensor's size at dimension {d}), but got split_sizes={sizes}"
            )
    return Split.apply(tensor, tuple(sizes), d) if len(sizes) != 1 else (Reshape.apply(tensor, tensor._data.shape, True),)


def chunk(input, chunks, dim=0):
    if input._data.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0")
    length = input._data.shape[normalize_dim(dim, input._data.ndim)]
    size = -(-length // chunks) if length else 1
    return split(input, size, dim)


def tensor_split(input, indices_or_sections=None, dim=0, *, sections=None, indices=None, tensor_indices_or_sections=None):
    """Views of ``input`` along ``dim``: ``sections`` (an int) pieces as equal as can be (the first
    ones one longer), or the pieces between ``indices`` (a list, or a 0-d/1-d int64 tensor), cut
    as Python slices cut (``[2, 1]`` gives ``[:2]``, an empty ``[2:1]`` and ``[1:]``)."""
    given = [v for v in (indices_or_sections, sections, indices, tensor_indices_or_sections) if v is not None]
    if len(given) != 1:
        raise TypeError("tensor_split() missing 1 required positional argument: 'indices_or_sections'")
    cuts = given[0]
    if input._data.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    d = normalize_dim(dim, input._data.ndim)
    if isinstance(cuts, Tensor):
        if cuts._data.ndim > 1:
            raise RuntimeError(
                "tensor_split expected tensor_indices_or_sections to be a zero-dimensional or one-dimensional "
                f"tensor, but got a tensor with {cuts._data.ndim} dims"
            )
        if cuts._data.dtype != np.int64:
            raise RuntimeError(
                "tensor_split expected tensor_indices_or_sections to have dtype of long, but got "
                f"{dtypes.scalar_type_name(cuts._data.dtype)}"
            )
        cuts = cuts.tolist()  # PyTorch reads the tensor on the host too
    if isinstance(cuts, (int, np.integer)) and not isinstance(cuts, bool):
        if cuts <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {cuts}")
        base, extra = divmod(input._data.shape[d], int(cuts))
        return split(input, [base + 1] * extra + [base] * (int(cuts) - extra), d)
    bounds = [None, *(_index_argument("tensor_split", cuts, i) for i in range(len(cuts))), None]
    head = (builtins.slice(None),) * d
    return tuple(input[head + (builtins.slice(start, stop),)] for start, stop in zip(bounds, bounds[1:]))


def _index_argument(name, cuts, position):
    cut = cuts[position]
    if isinstance(cut, bool) or not isinstance(cut, (int, np.integer)):
        raise TypeError(f"{name}(): argument 'indices' must be tuple of ints, but found element of type {type(cut).__name__} at pos {position}")
    return int(cut)


def _split_by_dim(name, min_ndim, dim, input, cuts):
    """hsplit, vsplit and dsplit: tensor_split along ``dim``, with their own checks (an int must
    divide the size exactly)."""
    if isinstance(cuts, bool) or not isinstance(cuts, (int, np.integer, tuple, list)):
        got = type(cuts).__name__ if not isinstance(cuts, Tensor) else "Tensor"
        raise TypeError(
            f"{name}() received an invalid combination of arguments - got (Tensor, {got}), but expected one of:\n"
            " * (Tensor input, int sections)\n * (Tensor input, tuple of ints indices)"
        )
    ndim = input._data.ndim
    if ndim < min_ndim:
        raise RuntimeError(
            f"torch.{name} requires a tensor with at least {min_ndim} dimension, but got a tensor with {ndim} dimensions!"
        )
    if isinstance(cuts, (int, np.integer)):
        size = input._data.shape[dim]
        if cuts == 0 or size % cuts:
            raise RuntimeError(
                f"torch.{name} attempted to split along dimension {dim}, but the size of the dimension {size} is not "
                f"divisible by the split_size {cuts}!"
            )
    else:
        cuts = [_index_argument(name, cuts, i) for i in range(len(cuts))]
    return tensor_split(input, cuts, dim)


def _cuts(name, indices_or_sections, sections, indices):
    given = [v for v in (indices_or_sections, sections, indices) if v is not None]
    if len(given) != 1:
        raise TypeError(f"{name}() missing 1 required positional argument: 'indices_or_sections'")
    return given[0]


def hsplit(input, indices_or_sections=None, *, sections=None, indices=None):
    """tensor_split along dim 1 (dim 0 for a 1-d tensor); an int must divide that size."""
    cuts = _cuts("hsplit", indices_or_sections, sections, indices)
    return _split_by_dim("hsplit", 1, 1 if input._data.ndim > 1 else 0, input, cuts)


def vsplit(input, indices_or_sections=None, *, sections=None, indices=None):
    """tensor_split along dim 0 of a tensor of 2 or more dims; an int must divide that size."""
    return _split_by_dim("vsplit", 2, 0, input, _cuts("vsplit", indices_or_sections, sections, indices))


def dsplit(input, indices_or_sections=None, *, sections=None, indices=None):
    """tensor_split along dim 2 of a tensor of 3 or more dims; an int must divide that size."""
    return _split_by_dim("dsplit", 3, 2, input, _cuts("dsplit", indices_or_sections, sections, indices))


def select(input, dim, index):
    """The slice at ``index`` along ``dim``, that dim removed (a view): ``input[:, index]`` for dim 1."""
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
        raise TypeError(f"select(): argument 'index' (position 3) must be int, not {type(index).__name__}")
    if input._data.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = normalize_dim(dim, input._data.ndim)
    size = input._data.shape[d]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(input._data.shape)} at dimension {d}")
    return input[(builtins.slice(None),) * d + (int(index),)]


def unbind(input, dim=0):
    d = normalize_dim(dim, input._data.ndim)  # a 0-d tensor takes dim 0 or -1, as PyTorch, ...
    if input._data.ndim == 0:  # ... and then has none to unbind
        raise IndexError(f"Dimension specified as {d} but tensor has no dimensions")
    if input._data.shape[d] == 0:
        return ()
    return Unbind.apply(input, d)


def narrow(input, dim, start, length):
    """``length`` elements of ``input`` along ``dim`` from ``start`` (a view), with PyTorch's checks."""
    if input._data.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    if isinstance(start, Tensor):
        start = start.item()
    d = normalize_dim(dim, input._data.ndim)
    size = input._data.shape[d]
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
    start = start + size if start < 0 else start
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    index = [builtins.slice(None)] * input._data.ndim
    index[d] = builtins.slice(start, start + length)
    return input[tuple(index)]


def repeat(input, *sizes):
    sizes = shape_arg(sizes)
    if len(sizes) < input._data.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
    return Repeat.apply(input, sizes)


def flip(input, dims):
    dims = normalize_dims(dims if isinstance(dims, (tuple, list)) else (dims,), input._data.ndim)
    return Flip.apply(input, dims)


def roll(input, shifts, dims=None):
    if dims is None:
        return Roll.apply(input.flatten(), shifts, None).reshape(input.shape)
    dims = normalize_dims(dims if isinstance(dims, (tuple, list)) else (dims,), input._data.ndim)
    shifts = tuple(shifts) if isinstance(shifts, (tuple, list)) else (shifts,)
    return Roll.apply(input, shifts, dims)


def tril(input, diagonal=0):
    return Triangle.apply(input, diagonal, False)


def triu(input, diagonal=0):
    return Triangle.apply(input, diagonal, True)


class Diag(Function):
    """A vector onto the ``offset`` diagonal of a square matrix of zeros; the gradient reads that
    diagonal back."""

    @staticmethod
    def forward(ctx, x, offset):
        n = x._data.shape[0]
        size = n + builtins.abs(offset)
        xp = backend.array_module(x._data)
        result = xp.zeros((size, size), dtype=x._data.dtype)
        positions = xp.arange(n)
        result[positions + builtins.max(0, -offset), positions + builtins.max(0, offset)] = x._data
        ctx.offset = offset
        return wrap(result)

    @staticmethod
    def backward(ctx, grad_output):
        return diagonal(grad_output, ctx.offset), None


def diagonal(input, offset=0, dim1=0, dim2=1):
    n = input._data.ndim
    d1, d2 = normalize_dim(dim1, n), normalize_dim(dim2, n)
    moved = movedim(input, (d1, d2), (n - 2, n - 1))
    rows, cols = moved._data.shape[-2:]
    xp = backend.array_module(input._data)
    start_row, start_col = (0, offset) if offset >= 0 else (-offset, 0)
    length = builtins.max(0, builtins.min(rows - start_row, cols - start_col))
    r = wrap(xp.arange(start_row, start_row + length))
    c = wrap(xp.arange(start_col, start_col + length))
    return moved[..., r, c]


_diagonal = diagonal  # diag's argument named ``diagonal`` hides the function


def diag(input, diagonal=0, *, out=None):
    """A vector's entries on a square matrix's ``diagonal`` (0: the main one, > 0 above it), or
    a matrix's ``diagonal`` as a vector (a copy, not a view); differentiable both ways."""
    if out is not None:
        return write_out(out, "diag", diag, input, diagonal)
    ndim = input._data.ndim
    if ndim == 1:
        return Diag.apply(input, diagonal)
    if ndim == 2:
        return _diagonal(input, diagonal).clone()
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {ndim}D")


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each element (or slice along ``dim``) repeated ``repeats`` times in place, as PyTorch:
    ``repeats`` is an int or a tensor with one count per slice; ``repeat_interleave(counts)``
    alone gives ``arange(len(counts))`` repeated by ``counts``.

    A tensor of counts decides the output's size, so it is read on the host (PyTorch syncs too).
    """
    if repeats is None:  # repeat_interleave(repeats): indices repeated by the counts in input
        counts = input
        if counts._data.dtype.kind not in "iu":
            raise NotImplementedError(f"\"repeat_interleave_cpu\" not implemented for '{_title(counts._data.dtype)}'")
        if counts._data.ndim > 1:
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
        host = backend.to_numpy(counts._data).reshape(-1)
        if (host < 0).any():
            raise RuntimeError("repeats can not be negative")
        index = np.repeat(np.arange(host.size, dtype=np.int64), host)
        return wrap(backend.to_device(index, counts.device))
    if dim is None:
        input, d = input.reshape(-1), 0
    else:
        d = normalize_dim(dim, input._data.ndim)
        if input._data.ndim == 0:
            input = input.reshape(1)
    size = input._data.shape[d]
    if isinstance(repeats, Tensor):
        if repeats._data.ndim > 1:
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
        if repeats._data.ndim == 0 or repeats._data.size == 1:
            repeats = int(repeats.reshape(-1)[0].item())
        else:
            if repeats._data.shape[0] != size:
                raise RuntimeError(
                    "repeats must have the same size as input along dim, but got "
                    f"repeats.size(0) = {repeats._data.shape[0]} and input.size({d}) = {size}"
                )
            host = backend.to_numpy(repeats._data)
            if (host < 0).any():
                raise RuntimeError("repeats can not be negative")
            if output_size is not None and int(host.sum()) != output_size:
                raise RuntimeError("allocated size does not match required size")
            index = np.repeat(np.arange(size, dtype=np.int64), host)
            return input.index_select(d, wrap(backend.to_device(index, input.device)))
    repeats = int(repeats)
    if repeats < 0:
        raise RuntimeError("Repeats must be non-negative")
    if output_size is not None and output_size != size * repeats:
        raise RuntimeError("allocated size does not match required size")
    # An int count: a broadcast view then a reshape, no gather.
    shape = input._data.shape
    spread = unsqueeze(input, d + 1).expand(*shape[: d + 1], repeats, *shape[d + 1 :])
    return spread.reshape(*shape[:d], size * repeats, *shape[d + 1 :])


def _title(dtype):
    return dtypes.scalar_type_name(dtype)
