"""More shape ops, all composites of existing ops (so autograd needs no new Function):
meshgrid, cartesian_prod, tile, kron, diff, trace, take_along_dim, triu_indices/tril_indices,
atleast_1d/2d/3d, flipud, fliplr, column_stack, dstack, rot90, diag_embed and diagflat.

Each follows PyTorch's composite in ATen (TensorShape.cpp, ReduceOps.cpp, LinearAlgebra.cpp...):
the same checks in the same order, with PyTorch's error types and messages.
"""

import warnings

import numpy as np

from .. import _backend as backend, _dtypes as dtypes
from .._tensor import Tensor
from ._util import check_same_device, check_tensor_argument, normalize_dim, wrap
from .binary import logical_xor, where
from .movement import cat, diag, flip, stack


def _type_name(value):
    return type(value).__name__


def _check_int(name, argument, position, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        where_ = f" (position {position})" if position else ""
        raise TypeError(f"{name}(): argument '{argument}'{where_} must be int, not {_type_name(value)}")


def _tensor_list(name, tensors):
    """A list or tuple of tensors (PyTorch's TypeErrors for anything else)."""
    if not isinstance(tensors, (tuple, list)):
        raise TypeError(f"{name}(): argument 'tensors' (position 1) must be tuple of Tensors, not {_type_name(tensors)}")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {_type_name(t)}")
    return list(tensors)


def _zeros(like, shape):
    """Zeros of ``like``'s dtype on its device (no graph)."""
    data = like._data
    return wrap(backend.array_module(data).zeros(shape, dtype=data.dtype))


# -- grids ------------------------------------------------------------------------------------------
def meshgrid(*tensors, indexing=None):
    """Coordinate grids from 0-D or 1-D tensors: ``meshgrid(x, y, indexing="ij")`` gives grids of
    shape ``(len(x), len(y))`` (``"xy"``: the first two dims swapped, Cartesian indexing). Takes
    the tensors one by one or as one list or tuple. ``indexing=None`` means ``"ij"`` with
    PyTorch's warning. The grids are broadcast views of the inputs."""
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        tensors = tensors[0]
    tensors = _tensor_list("meshgrid", tensors)
    if indexing is None:
        warnings.warn(
            "torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
            UserWarning, stacklevel=2,
        )
        indexing = "ij"
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for a, b in zip(tensors, tensors[1:]):
        if a._data.dtype != b._data.dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
        try:
            check_same_device(a, b)
        except RuntimeError:
            raise RuntimeError("meshgrid expects all tensors to have the same device") from None
    swap = False
    if indexing == "xy":
        swap = len(tensors) >= 2
        if swap:
            tensors[0], tensors[1] = tensors[1], tensors[0]
    elif indexing != "ij":
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    for t in tensors:
        if t._data.ndim > 1:
            raise RuntimeError(
                f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: tensor of shape {list(t._data.shape)}"
            )
    shape = tuple(t._data.size for t in tensors)
    grids = []
    for i, t in enumerate(tensors):
        view_shape = [1] * len(tensors)
        view_shape[i] = -1
        grids.append(t.reshape(view_shape).expand(*shape))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def cartesian_prod(*tensors):
    """The Cartesian product of 1-D tensors: one row per combination (``itertools.product``'s
    order), shape ``(N, len(tensors))``; one tensor comes back as it is."""
    tensors = _tensor_list("cartesian_prod", tensors)
    for t in tensors:
        if t._data.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t._data.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([g.flatten() for g in grids], 1)


# -- repetition and products -----------------------------------------------------------------------
def tile(input, dims):
    """``input`` repeated ``dims[i]`` times along each dim; ``dims`` shorter than ``input.dim()``
    is padded with ones in front (unlike ``repeat``), longer adds leading dims."""
    check_tensor_argument("tile", input, "input", 1)
    if not isinstance(dims, (tuple, list)):
        raise TypeError(f"tile(): argument 'dims' (position 2) must be tuple of ints, not {_type_name(dims)}")
    for i, d in enumerate(dims):
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)):
            raise TypeError(
                f"tile(): argument 'dims' (position 2) must be tuple of ints, but found element of type {_type_name(d)} at pos {i}"
            )
    shape = input._data.shape
    reps = (1,) * (len(shape) - len(dims)) + tuple(int(d) for d in dims)
    padded = (1,) * (len(reps) - len(shape)) + shape
    sizes = [s * r for s, r in zip(padded, reps)]
    for s in sizes:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {sizes}")
    return input.repeat(*reps) if reps else input.repeat(())


def kron(input, other):
    """The Kronecker product: each element of ``input`` times the whole of ``other``, laid out
    block by block (the shorter shape padded with leading ones); dtypes promote as ``mul``."""
    check_tensor_argument("kron", input, "input", 1)
    check_tensor_argument("kron", other, "other", 2)
    a_shape, b_shape = input._data.shape, other._data.shape
    ndim = max(len(a_shape), len(b_shape))
    a_shape = (1,) * (ndim - len(a_shape)) + a_shape
    b_shape = (1,) * (ndim - len(b_shape)) + b_shape
    a_view, b_view, result = [], [], []
    for sa, sb in zip(a_shape, b_shape):
        a_view += [sa, 1]
        b_view += [1, sb]
        result.append(sa * sb)
    return (input.reshape(a_view) * other.reshape(b_view)).reshape(result)


# -- differences and traces --------------------------------------------------------------------------
def _check_diff_shape(input, other, dim):
    if other is None:
        return
    d = normalize_dim(dim, input._data.ndim)
    if other._data.ndim != input._data.ndim:
        raise RuntimeError("diff expects prepend or append to be the same dimension as input")
    for i, (s, o) in enumerate(zip(input._data.shape, other._data.shape)):
        if i != d and s != o:
            raise RuntimeError(
                "diff expects the shape of tensor to prepend or append to match that of input except along the "
                f"differencing dimension; input.size({i}) = {s}, but got tensor.size({i}) = {o}"
            )


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The ``n``-th forward difference along ``dim`` (``out[i] = x[i + 1] - x[i]``, applied ``n``
    times; XOR for bool), after ``prepend`` and ``append`` are joined on along ``dim``. ``n``
    above the length gives an empty result; ``n=0`` returns a copy of ``input`` alone."""
    check_tensor_argument("diff", input, "input", 1)
    _check_int("diff", "n", None, n)
    _check_int("diff", "dim", None, dim)
    for argument, other in (("prepend", prepend), ("append", append)):
        if other is not None:
            check_tensor_argument("diff", other, argument, None)
    if input._data.ndim < 1:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    _check_diff_shape(input, prepend, dim)
    _check_diff_shape(input, append, dim)
    if n == 0:
        return input.clone()
    if prepend is not None or append is not None:
        input = cat([t for t in (prepend, input, append) if t is not None], dim)
    d = normalize_dim(dim, input._data.ndim)
    length = input._data.shape[d] - 1
    result = input
    is_bool = input._data.dtype == np.bool_
    for _ in range(min(n, input._data.shape[d])):
        later, earlier = result.narrow(d, 1, length), result.narrow(d, 0, length)
        result = logical_xor(later, earlier) if is_bool else later - earlier
        length -= 1
    return result


def trace(input):
    """The sum of a matrix's main diagonal (a 0-d tensor; integers and bool sum to int64, as
    ``sum``); PyTorch's errors for anything but a 2-D, non-bool tensor."""
    check_tensor_argument("trace", input, "input", 1)
    if input._data.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input._data.ndim}")
    if input._data.dtype == np.bool_:
        raise NotImplementedError("\"trace\" not implemented for 'Bool'")
    return input.diagonal().sum()


# -- gathering --------------------------------------------------------------------------------------------
def _broadcast_pair(a, b):
    """PyTorch's infer_size for two shapes of the same length, with its message."""
    out = []
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b ({y}) at non-singleton dimension {i}")
        out.append(y if x == 1 else x)
    return tuple(out)


def take_along_dim(input, indices, dim=None):
    """Values of ``input`` at ``indices`` along ``dim`` (``gather`` after broadcasting the two
    against each other in every other dim); ``dim=None`` indexes the flattened input."""
    check_tensor_argument("take_along_dim", input, "input", 1)
    check_tensor_argument("take_along_dim", indices, "indices", 2)
    check_same_device(input, indices)
    if dim is None:
        if indices._data.dtype not in (np.int32, np.int64):
            raise RuntimeError("gather(): Expected dtype int32/int64 for index")
        return input.reshape(-1).gather(0, indices.reshape(-1))
    ndim = input._data.ndim
    if ndim != indices._data.ndim:
        raise RuntimeError(
            "torch.take_along_dim(): input and indices should have the same number of dimensions, "
            f"but got {ndim} dimensions for input, and {indices._data.ndim} dimensions for indices"
        )
    if indices._data.dtype != np.int64:
        raise RuntimeError(
            f"torch.take_along_dim(): dtype of indices should be Long but got {dtypes.scalar_type_name(indices._data.dtype)}"
        )
    d = normalize_dim(dim, ndim)
    if ndim == 0:
        raise IndexError(f"Dimension specified as {d} but tensor has no dimensions")
    shape, index_shape = list(input._data.shape), list(indices._data.shape)
    shape[d] = index_shape[d]
    indices = indices.expand(*_broadcast_pair(shape, index_shape))
    index_shape[d] = input._data.shape[d]
    input = input.expand(*_broadcast_pair(index_shape, input._data.shape))
    return input.gather(d, indices)


# -- index factories --------------------------------------------------------------------------------------
def _tri_indices(name, upper, row, col, offset, dtype, device, layout, requires_grad):
    for argument, position, value in (("row", 1, row), ("col", 2, col), ("offset", 3, offset)):
        _check_int(name, argument, position, value)
    numpy_dtype = np.dtype(np.int64) if dtype is None else dtypes.to_numpy_dtype(dtype)
    if requires_grad and numpy_dtype.kind not in "fc":
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
    if row < 0:
        raise RuntimeError(f"row must be non-negative, got{row}")
    if col < 0:
        raise RuntimeError(f"col must be non-negative, got{col}")
    if numpy_dtype not in (np.int32, np.int64):
        raise NotImplementedError(f"\"{name}\" not implemented for '{dtypes.scalar_type_name(numpy_dtype)}'")
    rows, cols = (np.triu_indices if upper else np.tril_indices)(int(row), int(offset), int(col))
    host = np.stack([rows, cols]).astype(numpy_dtype, copy=False).reshape(2, -1)
    device = backend.default_device() if device is None else device
    return wrap(backend.to_device(host, device))


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None, requires_grad=False):
    """The (row, column) coordinates of the upper triangle of a ``row`` x ``col`` matrix (on and
    above diagonal ``offset``), as a ``(2, N)`` int64 (or int32) tensor in row-major order."""
    return _tri_indices("triu_indices", True, row, col, offset, dtype, device, layout, requires_grad)


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None, requires_grad=False):
    """The (row, column) coordinates of the lower triangle of a ``row`` x ``col`` matrix (on and
    below diagonal ``offset``), as a ``(2, N)`` int64 (or int32) tensor in row-major order."""
    return _tri_indices("tril_indices", False, row, col, offset, dtype, device, layout, requires_grad)


# -- at least n dims ----------------------------------------------------------------------------------------
def _at_least(name, tensors, one):
    if len(tensors) == 1:
        tensors = tensors[0]
    if isinstance(tensors, Tensor):
        return one(tensors)
    if not isinstance(tensors, (tuple, list)) or not all(isinstance(t, Tensor) for t in tensors):
        got = _type_name(tensors) if not isinstance(tensors, (tuple, list)) else ", ".join(_type_name(t) for t in tensors)
        raise TypeError(
            f"{name}() received an invalid combination of arguments - got ({got}), but expected one of:\n"
            " * (Tensor input)\n * (tuple of Tensors tensors)"
        )
    return tuple(one(t) for t in tensors)


def _one_1d(t):
    return t.reshape(1) if t._data.ndim == 0 else t


def _one_2d(t):
    ndim = t._data.ndim
    return t.reshape(1, 1) if ndim == 0 else t.unsqueeze(0) if ndim == 1 else t


def _one_3d(t):
    ndim = t._data.ndim
    if ndim == 0:
        return t.reshape(1, 1, 1)
    if ndim == 1:
        return t.unsqueeze(0).unsqueeze(-1)
    return t.unsqueeze(-1) if ndim == 2 else t


def atleast_1d(*tensors):
    """A 0-d tensor as shape ``(1,)``, others unchanged; several tensors (or one list) give a tuple."""
    return _at_least("atleast_1d", tensors, _one_1d)


def atleast_2d(*tensors):
    """0-d as ``(1, 1)``, 1-D ``(n,)`` as ``(1, n)``, others unchanged; several give a tuple."""
    return _at_least("atleast_2d", tensors, _one_2d)


def atleast_3d(*tensors):
    """0-d as ``(1, 1, 1)``, ``(n,)`` as ``(1, n, 1)``, ``(m, n)`` as ``(m, n, 1)``, others
    unchanged; several give a tuple."""
    return _at_least("atleast_3d", tensors, _one_3d)


# -- flips, stacks and rotations -----------------------------------------------------------------------------
def flipud(input):
    """``input`` flipped along dim 0 (up/down); a copy, as PyTorch's."""
    check_tensor_argument("flipud", input, "input", 1)
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


def fliplr(input):
    """``input`` flipped along dim 1 (left/right); a copy, as PyTorch's."""
    check_tensor_argument("fliplr", input, "input", 1)
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


def column_stack(tensors):
    """Tensors side by side as columns: 0-d and 1-D ones become ``(n, 1)`` columns, then all are
    joined along dim 1 (dtypes promote as ``cat``)."""
    tensors = _tensor_list("column_stack", tensors)
    if not tensors:
        raise RuntimeError("column_stack expects a non-empty TensorList")
    return cat([t.reshape(t._data.size, 1) if t._data.ndim <= 1 else t for t in tensors], 1)


def dstack(tensors):
    """Tensors joined depthwise (along dim 2) after ``atleast_3d``."""
    tensors = _tensor_list("dstack", tensors)
    if not tensors:
        raise RuntimeError("dstack expects a non-empty TensorList")
    return cat([_one_3d(t) for t in tensors], 2)


def rot90(input, k=1, dims=(0, 1)):
    """``input`` rotated by 90 degrees ``k`` times in the plane of ``dims``, from the first dim
    towards the second (a flip and a transpose; ``k`` may be negative)."""
    check_tensor_argument("rot90", input, "input", 1)
    _check_int("rot90", "k", 2, k)
    if not isinstance(dims, (tuple, list)):
        raise TypeError(f"rot90(): argument 'dims' (position 3) must be tuple of ints, not {_type_name(dims)}")
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    ndim = input._data.ndim
    if ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {ndim}")
    d0, d1 = normalize_dim(dims[0], ndim), normalize_dim(dims[1], ndim)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {dims[0]} and dim1 = {dims[1]}")
    k %= 4
    if k == 1:
        return flip(input, (d1,)).transpose(d0, d1)
    if k == 2:
        return flip(input, (d0, d1))
    if k == 3:
        return flip(input, (d0,)).transpose(d0, d1)
    return input.clone()


# -- diagonals -------------------------------------------------------------------------------------------------
def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Each row along ``input``'s last dim laid onto diagonal ``offset`` of new square matrices in
    dims ``dim1`` (rows) and ``dim2`` (columns) of the result, zeros elsewhere."""
    check_tensor_argument("diag_embed", input, "input", 1)
    _check_int("diag_embed", "offset", 2, offset)
    ndim = input._data.ndim + 1
    d1, d2 = normalize_dim(dim1, ndim), normalize_dim(dim2, ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    shift = abs(offset)
    size = input._data.shape[-1] + shift
    # Rows 0..n-1 (offset >= 0) or |offset|..N-1 (offset < 0) carry the values; eye(N, k=offset)
    # picks, in each row, the column where the value goes. ``where``, not a product with the
    # identity, so inf and NaN do not leak off the diagonal.
    if shift:
        pad = _zeros(input, input._data.shape[:-1] + (shift,))
        input = cat([input, pad] if offset > 0 else [pad, input], -1)
    xp = backend.array_module(input._data)
    mask = wrap(xp.eye(size, size, offset, dtype=bool))
    matrices = where(mask, input.unsqueeze(-1), _zeros(input, ()))
    return matrices.movedim((ndim - 2, ndim - 1), (d1, d2))


def diagflat(input, offset=0):
    """The flattened ``input`` laid onto diagonal ``offset`` of a square matrix of zeros."""
    check_tensor_argument("diagflat", input, "input", 1)
    _check_int("diagflat", "offset", 2, offset)
    return diag(input.reshape(-1), offset)


__all__ = [
    "atleast_1d", "atleast_2d", "atleast_3d", "cartesian_prod", "column_stack", "diag_embed", "diagflat",
    "diff", "dstack", "fliplr", "flipud", "kron", "meshgrid", "rot90", "take_along_dim", "tile", "trace",
    "tril_indices", "triu_indices",
]
