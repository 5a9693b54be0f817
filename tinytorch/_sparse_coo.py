"""Sparse COO tensors (``layout=tinytorch.sparse_coo``): the representation, its autograd
Functions, and the sparse-dense products, which run on ``scipy.sparse`` (CPU) or
``cupyx.scipy.sparse`` (GPU).

A sparse tensor is a ``Tensor`` whose ``_data`` is a ``_CooData``: ``indices`` (an int64 array,
sparse_dim x nnz), ``values`` (nnz x dense dims), the shape, and whether the indices are
coalesced (sorted, without duplicates). Only what PyTorch's sparse tensors support works on it;
any other tensor operation reaches ``_CooData``, which raises NotImplementedError naming the
operation (PyTorch: "Could not run 'aten::...' with arguments from the 'SparseCPU' backend").

Gradients flow as in PyTorch: to the dense operand of a product, to ``values`` through
``sparse_coo_tensor(indices, values)``, and to a sparse tensor that requires grad itself
(``torch.sparse.mm`` and ``to_dense`` give it a sparse gradient with its own sparsity pattern;
``torch.mm`` / ``spmm`` / ``@`` give it a dense one).
"""

import math

import numpy as np

from . import _backend as backend, _dtypes as dtypes
from ._layout import sparse_coo
from ._creation import as_tensor
from ._format import format_array
from ._ops._util import normalize_dim, normalize_dims
from ._ops.matmul import mm as dense_mm
from ._ops.movement import cat
from ._tensor import Tensor
from .autograd.function import Function


def _unsupported(name):
    return (
        f"'{name}' is not supported on sparse tensors (layout=tinytorch.sparse_coo): "
        "convert with .to_dense() first"
    )


class _Flags:
    c_contiguous = True
    writeable = False


class _CooData:
    """A sparse tensor's storage. It answers what autograd asks of any tensor's data (shape,
    dtype, ndim, size, copy) and refuses every array operation, so that a dense op applied to a
    sparse tensor fails loudly instead of computing on the values alone."""

    __slots__ = ("indices", "values", "shape", "coalesced")
    base = None
    flags = _Flags()

    def __init__(self, indices, values, shape, coalesced):
        self.indices = indices
        self.values = values
        self.shape = tuple(shape)
        self.coalesced = coalesced

    @property
    def dtype(self):
        return self.values.dtype

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return math.prod(self.shape)

    @property
    def sparse_dim(self):
        return self.indices.shape[0]

    def copy(self):
        return _CooData(self.indices.copy(), self.values.copy(), self.shape, self.coalesced)

    def __array__(self, dtype=None, copy=None):
        raise TypeError("can't convert Sparse layout tensor to numpy. Use Tensor.to_dense() first.")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        raise NotImplementedError(_unsupported(ufunc.__name__))

    def __array_function__(self, func, types, args, kwargs):
        raise NotImplementedError(_unsupported(func.__name__))

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise NotImplementedError(_unsupported(name))

    def __getitem__(self, index):
        raise NotImplementedError(_unsupported("indexing"))


def _refused_operator(name):
    def operator(self, *args):
        raise NotImplementedError(_unsupported(name))

    return operator


# Python looks operators up on the type, past __getattr__: without these a dense op that meets a
# sparse tensor (``norm`` of a sparse .grad in clip_grad_norm_) raised TypeError, not PyTorch's
# NotImplementedError.
for _name in ("add", "sub", "mul", "truediv", "pow", "matmul"):
    setattr(_CooData, f"__{_name}__", _refused_operator(_name))
    setattr(_CooData, f"__r{_name}__", _refused_operator(_name))
for _name in ("neg", "abs"):
    setattr(_CooData, f"__{_name}__", _refused_operator(_name))
del _name


# -- array helpers ---------------------------------------------------------------------------------
def _linear(indices, sizes):
    """Each column of ``indices`` as one row-major position in ``sizes``."""
    xp = backend.array_module(indices)
    if len(sizes) == 0:
        return xp.zeros(indices.shape[1], dtype=np.int64)
    return xp.ravel_multi_index(tuple(indices), tuple(sizes))


def _coalesced_arrays(data):
    """(indices, values) sorted row-major with duplicates summed."""
    if data.coalesced:
        return data.indices, data.values
    xp = backend.array_module(data.values)
    sizes = data.shape[: data.sparse_dim]
    unique, inverse = xp.unique(_linear(data.indices, sizes), return_inverse=True)
    values = xp.zeros((unique.shape[0],) + data.values.shape[1:], dtype=data.values.dtype)
    backend.scatter_add(values, inverse.reshape(-1), data.values)
    if len(sizes) == 0:
        indices = xp.zeros((0, unique.shape[0]), dtype=np.int64)
    else:
        indices = xp.stack(xp.unravel_index(unique, sizes)).astype(np.int64)
    return indices, values


def _dense_array(data):
    xp = backend.array_module(data.values)
    with backend.on_device(backend.device_of(data.values)):
        out = xp.zeros(data.shape, dtype=data.values.dtype)
    if data.indices.shape[1]:
        backend.scatter_add(out, tuple(data.indices), data.values)
    return out


def _values_at_arrays(source, indices):
    """The entries of ``source`` (a dense array or a ``_CooData``) at each column of ``indices``:
    an array of nnz x (dense dims); zero where a sparse source holds nothing."""
    if not isinstance(source, _CooData):
        return source[tuple(indices)]
    if source.coalesced and indices is source.indices:  # its own entries
        return source.values
    xp = backend.array_module(source.values)
    have, values = _coalesced_arrays(source)
    sizes = source.shape[: source.sparse_dim]
    wanted = _linear(indices, sizes)
    if have.shape[1] == 0:
        return xp.zeros((indices.shape[1],) + values.shape[1:], dtype=values.dtype)
    present = _linear(have, sizes)
    position = xp.minimum(xp.searchsorted(present, wanted), present.shape[0] - 1)
    found = (present[position] == wanted).reshape((-1,) + (1,) * (values.ndim - 1))
    return xp.where(found, values[position], xp.zeros((), dtype=values.dtype))


def _matmul_arrays(data, dense):
    """A 2-D sparse matrix times a dense matrix (or vector), as a dense array."""
    if data.values.dtype.kind in "fc":
        sparse = backend.sparse_module(data.values)
        matrix = sparse.coo_matrix((data.values, (data.indices[0], data.indices[1])), shape=data.shape).tocsr()
        out = matrix @ dense
        return backend.array_module(dense).asarray(out)
    if backend.is_cuda_array(dense):  # cuSPARSE has no integer products: go dense
        return _dense_array(data) @ dense
    sparse = backend.sparse_module(data.values)
    matrix = sparse.coo_matrix((data.values, (data.indices[0], data.indices[1])), shape=data.shape).tocsr()
    return np.asarray(matrix @ dense)


def _wrap(indices, values, shape, coalesced):
    return _SparseTensor._make(_CooData(indices, values, shape, coalesced))


# -- autograd Functions ---------------------------------------------------------------------------
class SparseCooTensorWithDimsAndTensors(Function):
    """``sparse_coo_tensor(indices, values, size)``: differentiable in ``values``."""

    @staticmethod
    def forward(ctx, values, indices, shape, coalesced):
        ctx.indices, ctx.shape = indices, shape
        return _wrap(indices, values._data, shape, coalesced)

    @staticmethod
    def backward(ctx, grad_output):
        return ValuesAt.apply(grad_output, ctx.indices), None, None, None


class ValuesAt(Function):
    """The entries of a tensor (dense or sparse) at given indices (the gradient of the values)."""

    @staticmethod
    def forward(ctx, source, indices):
        ctx.indices, ctx.shape, ctx.sparse = indices, tuple(source._data.shape), source.is_sparse
        return Tensor._make(_values_at_arrays(source._data, indices))

    @staticmethod
    def backward(ctx, grad_output):
        grad = SparseCooTensorWithDimsAndTensors.apply(grad_output, ctx.indices, ctx.shape, False)
        return (grad if ctx.sparse else grad.to_dense()), None


class SparseValues(Function):
    """``sparse._values()``: the stored values, duplicates and all."""

    @staticmethod
    def forward(ctx, sparse):
        data = sparse._data
        ctx.indices, ctx.shape, ctx.coalesced = data.indices, data.shape, data.coalesced
        return Tensor._make(data.values)

    @staticmethod
    def backward(ctx, grad_output):
        return SparseCooTensorWithDimsAndTensors.apply(grad_output, ctx.indices, ctx.shape, ctx.coalesced)


class Coalesce(Function):
    """Sort the indices and sum duplicates (the same tensor, so the gradient passes through)."""

    @staticmethod
    def forward(ctx, sparse):
        data = sparse._data
        indices, values = _coalesced_arrays(data)
        return _wrap(indices, values, data.shape, True)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


class ToDense(Function):
    """Sparse -> dense; the gradient is the dense gradient at the input's (coalesced) pattern."""

    @staticmethod
    def forward(ctx, sparse):
        ctx.data = sparse._data
        return Tensor._make(_dense_array(sparse._data))

    @staticmethod
    def backward(ctx, grad_output):
        return _sparse_mask(grad_output, ctx.data)


class ToSparse(Function):
    """Dense -> sparse (the non-zero entries, or rows of the first ``sparse_dim`` dims)."""

    @staticmethod
    def forward(ctx, dense, sparse_dim):
        x = dense._data
        xp = backend.array_module(x)
        nonzero = x != 0
        if sparse_dim < x.ndim:
            nonzero = nonzero.reshape(x.shape[:sparse_dim] + (-1,)).any(axis=-1)
        position = xp.nonzero(nonzero)
        if sparse_dim == 0:
            indices = xp.zeros((0, 1), dtype=np.int64)
            values = x[None].copy()
        else:
            indices = xp.stack(position).astype(np.int64).reshape(sparse_dim, -1)
            values = x[position]
        return _wrap(indices, values, x.shape, True)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.to_dense(), None


class SparseMm(Function):
    """A 2-D sparse matrix times a dense matrix. The sparse operand's gradient is dense
    (``torch.mm``) or, with ``masked``, sparse with its own pattern (``torch.sparse.mm``)."""

    @staticmethod
    def forward(ctx, sparse, dense, masked):
        ctx.save_for_backward(sparse, dense)
        ctx.masked = masked
        return Tensor._make(_matmul_arrays(sparse._data, dense._data))

    @staticmethod
    def backward(ctx, grad_output):
        sparse, dense = ctx.saved_tensors
        grad_sparse = grad_dense = None
        if ctx.needs_input_grad[0]:
            grad_sparse = grad_output @ dense.t()
            if ctx.masked:
                grad_sparse = _sparse_mask(grad_sparse, sparse._data)
        if ctx.needs_input_grad[1]:
            grad_dense = sparse.t() @ grad_output
        return grad_sparse, grad_dense, None


def _sparse_mask(dense, data):
    """``dense`` restricted to the (coalesced) pattern of ``data``, as a sparse tensor."""
    indices, _ = _coalesced_arrays(data)
    return SparseCooTensorWithDimsAndTensors.apply(ValuesAt.apply(dense, indices), indices, data.shape, True)


# -- the tensor class ------------------------------------------------------------------------------
class _SparseTensor(Tensor):
    """A ``Tensor`` with ``layout=tinytorch.sparse_coo`` (see the module docstring)."""

    __slots__ = ()
    is_sparse = True
    layout = sparse_coo

    # -- what it is --------------------------------------------------------------------------------
    @property
    def device(self):
        return backend.device_of(self._data.values)

    @property
    def is_cuda(self):
        return backend.is_cuda_array(self._data.values)

    def get_device(self):
        return self._data.values.device.id if self.is_cuda else -1

    def sparse_dim(self):
        return self._data.sparse_dim

    def dense_dim(self):
        return self._data.ndim - self._data.sparse_dim

    def _nnz(self):
        return self._data.indices.shape[1]

    def is_coalesced(self):
        return self._data.coalesced

    def is_contiguous(self):
        raise RuntimeError("is_contiguous is not supported on sparse tensors (layout=tinytorch.sparse_coo)")

    def _indices(self):
        """The indices as stored (sparse_dim x nnz), duplicates and order as they are."""
        return Tensor._make(self._data.indices)

    def _values(self):
        """The values as stored (nnz x dense dims); differentiable."""
        return SparseValues.apply(self)

    def indices(self):
        """The indices of a coalesced tensor."""
        if not self._data.coalesced:
            raise RuntimeError("Cannot get indices on an uncoalesced tensor, please call .coalesce() first")
        return self._indices()

    def values(self):
        """The values of a coalesced tensor; differentiable."""
        if not self._data.coalesced:
            raise RuntimeError("Cannot get values on an uncoalesced tensor, please call .coalesce() first")
        return self._values()

    def coalesce(self):
        """This tensor with sorted indices and duplicates summed (itself when already so)."""
        return self if self._data.coalesced else Coalesce.apply(self)

    def to_dense(self, dtype=None, *, masked_grad=None):
        out = ToDense.apply(self)
        return out if dtype is None else out.to(dtype)

    def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
        if layout not in (None, sparse_coo):
            raise RuntimeError(f"to_sparse: conversion to {layout} is not supported (only tinytorch.sparse_coo)")
        if sparse_dim is not None and sparse_dim != self._data.sparse_dim:
            raise RuntimeError(f"to_sparse: conversion from Sparse to Sparse with sparse_dim argument !={self._data.sparse_dim} is not supported")
        return self

    # -- conversions -------------------------------------------------------------------------------
    def _entries(self):
        """(indices, values) of the coalesced tensor, the values differentiable as a function of
        the tensor. (Through ``_values()`` instead, an uncoalesced tensor's duplicate entries
        would each receive the gradient of their sum.)"""
        indices, _ = _coalesced_arrays(self._data)
        return indices, ValuesAt.apply(self, indices)

    def _rebuilt(self, values, indices, shape=None, coalesced=True):
        """A sparse tensor with ``values`` (a tensor: the graph goes through it) at ``indices``."""
        return SparseCooTensorWithDimsAndTensors.apply(values, indices, self._data.shape if shape is None else shape, coalesced)

    def to(self, *args, dtype=None, device=None, non_blocking=False, copy=False):
        for arg in args:
            if isinstance(arg, Tensor):
                device, dtype = arg.device, arg.dtype
            elif isinstance(arg, dtypes.dtype):
                dtype = arg
            elif arg is not None:
                device = arg
        target = None if device is None else backend.as_device(device)
        same_dtype = dtype is None or dtypes.to_numpy_dtype(dtype) == self._data.dtype
        if not copy and same_dtype and (target is None or target == self.device):
            return self
        indices, values = self._entries()
        values = values.to(dtype=dtype, device=device, copy=copy)
        indices = indices if target is None else backend.to_device(indices, target)
        out = self._rebuilt(values, indices)
        return out if values.requires_grad or not self._requires_grad else out.requires_grad_()

    def clone(self, *, memory_format=None):
        indices, values = self._entries()
        return self._rebuilt(values.clone(), indices.copy())

    def detach(self):
        out = _SparseTensor._make(self._data)
        out._version = self._version
        return out

    def numpy(self, *, force=False):
        raise TypeError("can't convert Sparse layout tensor to numpy. Use Tensor.to_dense() first.")

    def tolist(self):
        raise RuntimeError("tolist() is not supported on sparse tensors: use .to_dense().tolist()")

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self.to_dense().item()

    def __array__(self, dtype=None, copy=None):
        raise TypeError("can't convert Sparse layout tensor to numpy. Use Tensor.to_dense() first.")

    def __reduce_ex__(self, protocol):
        data = self._data
        return (_rebuild_sparse, (backend.to_numpy(data.indices), backend.to_numpy(data.values), data.shape,
                                  data.coalesced, self._requires_grad, str(self.device)))

    def __repr__(self):
        return _format(self)

    # -- arithmetic --------------------------------------------------------------------------------
    def t(self):
        if self._data.ndim > 2 or self.dense_dim():
            raise RuntimeError(f"t() expects a tensor with <= 2 sparse and 0 dense dimensions, but self is {self._data.sparse_dim} sparse and {self.dense_dim()} dense dimensions")
        if self._data.ndim < 2:
            return self
        return self.transpose(0, 1)

    def transpose(self, dim0, dim1):
        dim0, dim1 = normalize_dim(dim0, self._data.ndim), normalize_dim(dim1, self._data.ndim)
        sparse_dim = self._data.sparse_dim
        if (dim0 < sparse_dim) != (dim1 < sparse_dim):
            raise RuntimeError("transpose(): cannot transpose a sparse dimension with a dense dimension")
        order = list(range(self._data.ndim))
        order[dim0], order[dim1] = order[dim1], order[dim0]
        shape = tuple(self._data.shape[d] for d in order)
        indices, values = self._entries()
        if dim0 < sparse_dim:
            return self._rebuilt(values, indices[order[:sparse_dim]], shape, coalesced=dim0 == dim1)
        return self._rebuilt(values.transpose(dim0 - sparse_dim + 1, dim1 - sparse_dim + 1), indices, shape)

    @property
    def T(self):
        return self.t()

    def mm(self, mat2):
        return mm(self, mat2)

    def matmul(self, other):
        return matmul(self, other)

    def __matmul__(self, other):
        return matmul(self, other)

    def __rmatmul__(self, other):
        return matmul(other, self)

    def neg(self):
        indices, values = self._entries()
        return self._rebuilt(-values, indices)

    __neg__ = neg

    def add(self, other, *, alpha=1):
        return add(self, other, alpha=alpha)

    def __add__(self, other):
        return add(self, other)

    def __radd__(self, other):  # dense + sparse: Python asks the subclass first
        return add(other, self)

    def sub(self, other, *, alpha=1):
        return add(self, other, alpha=-alpha)

    def __sub__(self, other):
        return add(self, other, alpha=-1)

    def __rsub__(self, other):
        return add(other, self, alpha=-1)

    def mul(self, other):
        return mul(self, other)

    __mul__ = __rmul__ = mul

    def div(self, other):
        if isinstance(other, Tensor) and (other.is_sparse or other._data.ndim):
            raise RuntimeError("sparse division requires a scalar or a zero-dim dense tensor divisor")
        indices, values = self._entries()
        return self._rebuilt(values / other, indices)

    __truediv__ = div

    def zero_(self):
        """Drop every entry, in place (``zero_grad(set_to_none=False)`` on a sparse ``.grad``)."""
        data = self._data
        self._data = _CooData(data.indices[:, :0].copy(), data.values[:0].copy(), data.shape, True)
        self._version[0] += 1
        return self

    def sum(self, dim=None, keepdim=False, *, dtype=None):
        if keepdim:
            raise RuntimeError("sum(): keepdim is not supported on sparse tensors")
        return sum(self, dim, dtype=dtype)


def _rebuild_sparse(indices, values, shape, coalesced, requires_grad, device):
    out = _wrap(backend.to_device(indices, device), backend.to_device(values, device), shape, coalesced)
    if requires_grad:
        out.requires_grad = True
    return out


def _format(t):
    data, indent = t._data, len("tensor(")
    indices_str = format_array(data.indices, indent + len("indices=tensor("))
    if data.indices.size == 0:
        indices_str = f"[], size={tuple(data.indices.shape)}"
    values_str = format_array(data.values, indent + len("values=tensor("))
    if data.values.size == 0:
        values_str = f"[], size={tuple(data.values.shape)}"
    text = f"tensor(indices=tensor({indices_str}),\n{' ' * indent}values=tensor({values_str})"
    suffixes = []
    if t.is_cuda:
        suffixes.append(f"device='{t.device}'")
    suffixes += [f"size={tuple(data.shape)}", f"nnz={data.indices.shape[1]}"]
    if data.dtype not in (dtypes.default_float_numpy(), np.dtype(np.int64), np.dtype(np.bool_)):
        suffixes.append(f"dtype={t.dtype}")
    suffixes.append(f"layout={sparse_coo}")
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    # PyTorch's _add_suffixes: the first suffix on a new line, then wrapped at 80 characters.
    parts, last, newline = [text], 0, True
    for suffix in suffixes:
        if newline or last + len(suffix) + 2 > 80:
            parts.append(",\n" + " " * indent + suffix)
            last, newline = indent + len(suffix), False
        else:
            parts.append(", " + suffix)
            last += len(suffix) + 2
    return "".join(parts) + ")"


# -- the functions --------------------------------------------------------------------------------
def _index_array(indices, device):
    if isinstance(indices, Tensor):
        if indices.is_sparse:
            raise RuntimeError("indices must be a dense tensor")
        array = indices._data.astype(np.int64, copy=False)  # PyTorch converts any dtype
    elif backend.is_cuda_array(indices):
        array = indices.astype(np.int64, copy=False)
    else:
        array = np.asarray(indices).astype(np.int64, copy=False)
    return backend.to_device(array, device)


def sparse_coo_tensor(indices, values, size=None, *, dtype=None, device=None, pin_memory=False,
                      requires_grad=False, check_invariants=None, is_coalesced=None):
    """A sparse COO tensor with ``values`` at ``indices`` (sparse_dim x nnz); ``size`` is inferred
    from the largest index when omitted. Duplicate indices are allowed (they add up)."""
    if not isinstance(values, Tensor):
        values = as_tensor(values, dtype=dtype, device=device)
    if dtype is not None and values.dtype != dtype:
        values = values.to(dtype)
    if device is not None and values.device != backend.as_device(device):
        values = values.to(device)
    if values.is_sparse:
        raise RuntimeError("values must be a dense tensor")
    index = _index_array(indices, values.device)
    if index.ndim != 2:
        raise RuntimeError(f"indices must be sparse_dim x nnz, but got: {list(index.shape)}")
    if values._data.ndim == 0:
        raise RuntimeError("values must have at least one dimension (nnz)")
    nnz, sparse_dim = index.shape[1], index.shape[0]
    if values._data.shape[0] != nnz:
        raise RuntimeError(f"indices and values must have same nnz, but got nnz from indices: {nnz}, nnz from values: {values._data.shape[0]}")
    dense_shape = tuple(values._data.shape[1:])
    xp = backend.array_module(index)
    if size is None:
        if nnz == 0:
            raise RuntimeError("cannot infer the size of a sparse tensor without indices: pass size")
        if index.size and bool((index < 0).any()):
            raise RuntimeError("found negative index in the indices of a sparse tensor whose size is to be inferred")
        shape = tuple(int(v) + 1 for v in backend.to_numpy(index.max(axis=1))) + dense_shape
    else:
        shape = tuple(int(s) for s in size)
        if len(shape) != sparse_dim + len(dense_shape):
            raise RuntimeError(
                f"'len(size) == sparse_dim + dense_dim' is not satisfied: len(size) = {len(shape)}, "
                f"sparse_dim = {sparse_dim}, dense_dim = {len(dense_shape)}"
            )
        if shape[sparse_dim:] != dense_shape:
            raise RuntimeError(f"values has incorrect size, expected {list((nnz,) + shape[sparse_dim:])}, got {list(values._data.shape)}")
        if nnz:
            _check_bounds(index, shape[:sparse_dim], xp)
    # A promise of coalesced indices is checked: a wrong one would make lookups silently wrong.
    coalesced = nnz <= 1 or bool(is_coalesced) and _is_coalesced(index, shape[:sparse_dim])
    out = SparseCooTensorWithDimsAndTensors.apply(values, index, shape, coalesced)
    if requires_grad:
        out = out.detach().requires_grad_()
    return out


def _check_bounds(index, sizes, xp):
    """Out-of-range indices would make every later product wrong: refuse them (a GPU checks at
    the next synchronization, as for other index errors)."""
    limits = xp.asarray(np.asarray(sizes, dtype=np.int64).reshape(-1, 1))
    bad = ((index < 0) | (index >= limits)).any()

    def fail():
        host = backend.to_numpy(index)
        for dim, size in enumerate(sizes):
            row = host[dim]
            if (row < 0).any():
                raise RuntimeError(f"found negative index {int(row[row < 0][0])} for dim {dim}")
            if (row >= size).any():
                raise RuntimeError(f"size is inconsistent with indices: for dim {dim}, size is {size} but found index {int(row.max())}")

    backend.check_later(bad, fail)


def _is_coalesced(index, sizes):
    linear = backend.to_numpy(_linear(index, sizes))
    return bool((linear[1:] > linear[:-1]).all())


def to_sparse(tensor, sparse_dim=None, layout=None):
    """``tensor.to_sparse()``: the non-zero entries of a dense tensor as a sparse COO tensor."""
    if layout not in (None, sparse_coo):
        raise RuntimeError(f"to_sparse: conversion to {layout} is not supported (only tinytorch.sparse_coo)")
    ndim = tensor._data.ndim
    sparse_dim = ndim if sparse_dim is None else sparse_dim
    if not 0 <= sparse_dim <= ndim:
        raise RuntimeError(f"dense_to_sparse: sparse_dim argument must be in [0,{ndim}] range, but {sparse_dim} is given")
    return ToSparse.apply(tensor, sparse_dim)


def _check_mm(a, b, name):
    for which, t in (("self", a), ("mat2", b)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}(): argument '{which}' must be Tensor, not {type(t).__name__}")
    if a.dim() != 2 or b.dim() != 2:
        raise RuntimeError(f"{'self' if a.dim() != 2 else 'mat2'} must be a matrix")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and {b.shape[0]}x{b.shape[1]})")
    if a.dtype != b.dtype:
        raise RuntimeError(f"expected mat1 and mat2 to have the same dtype, but got: {a.dtype} != {b.dtype}")
    if a.device != b.device:
        raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, {a.device} and {b.device}!")


def _product(a, b, masked, name):
    _check_mm(a, b, name)
    if a.is_sparse and b.is_sparse:
        if a.dense_dim() or b.dense_dim():
            raise RuntimeError(f"{name}: sparse operands with dense dimensions are not supported")
        out = _product(a, b.to_dense(), masked, name)
        return out.to_sparse()
    if a.is_sparse:
        if a.dense_dim():
            raise RuntimeError(f"{name}: a sparse operand with dense dimensions is not supported")
        return SparseMm.apply(a, b, masked)
    if b.is_sparse:  # dense @ sparse = (sparse^T @ dense^T)^T
        return _product(b.t(), a.t(), masked, name).t()
    return dense_mm(a, b)


def mm(input, mat2):
    """``torch.mm`` with a sparse operand: a dense result (a sparse input's gradient is dense)."""
    return _product(input, mat2, False, "mm")


def sparse_mm(mat1, mat2, reduce="sum"):
    """``torch.sparse.mm``: sparse @ dense -> dense, sparse @ sparse -> sparse; a sparse input's
    gradient keeps its sparsity pattern."""
    if reduce != "sum":
        raise RuntimeError(f"sparse.mm: reduce='{reduce}' is only supported for CSR tensors; tinytorch has only COO")
    return _product(mat1, mat2, True, "mm")


def matmul(input, other):
    """``matmul`` with a sparse operand: 2-D by 2-D, or a sparse matrix by a vector."""
    if input.is_sparse and isinstance(other, Tensor) and other.dim() == 1 and not other.is_sparse:
        return mm(input, other.unsqueeze(1)).squeeze(1)
    return mm(input, other)


def add(input, other, *, alpha=1):
    """dense + sparse -> dense; sparse + sparse -> sparse; sparse + dense is refused, as PyTorch."""
    if not isinstance(input, Tensor) or not input.is_sparse:
        if not isinstance(input, Tensor):
            raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) instead.")
        other_dense = other.to_dense()
        return input + (other_dense if alpha == 1 else other_dense * alpha)
    if not isinstance(other, Tensor) or not other.is_sparse:
        raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) instead.")
    if tuple(input.shape) != tuple(other.shape):
        raise RuntimeError(f"add: expected 'self' and 'other' to have same size, but self has size {list(input.shape)} while other has size {list(other.shape)}")
    if input.sparse_dim() != other.sparse_dim():
        raise RuntimeError(f"add: expected 'self' and 'other' to have same sparse dimensions, but got {input.sparse_dim()} and {other.sparse_dim()}")
    xp = backend.array_module(input._data.values)
    indices, values = input._entries()
    other_indices, other_values = other._entries()
    if alpha != 1:
        other_values = other_values * alpha
    if other_values.dtype != values.dtype:
        other_values = other_values.to(values.dtype)
    indices = xp.concatenate([indices, other_indices], axis=1)
    return SparseCooTensorWithDimsAndTensors.apply(cat([values, other_values]), indices, input._data.shape, False).coalesce()


def mul(sparse, other):
    """sparse * scalar, sparse * dense (-> sparse, the product at the stored entries)."""
    if isinstance(other, Tensor) and other.is_sparse:
        return (sparse.to_dense() * other.to_dense()).to_sparse(sparse.sparse_dim())
    indices, values = sparse._entries()
    if isinstance(other, Tensor) and other._data.ndim:
        if tuple(other.shape) != tuple(sparse.shape):
            raise RuntimeError(f"mul: a sparse tensor times a dense one needs the same shape, got {list(sparse.shape)} and {list(other.shape)}")
        other = ValuesAt.apply(other, indices)
    return sparse._rebuilt(values * other, indices)


def sum(input, dim=None, dtype=None):
    """``torch.sparse.sum``: a dense scalar over every element, or over ``dim`` (a sparse result
    while sparse dimensions remain, else dense)."""
    indices, values = input._entries()
    if dtype is not None:
        values = values.to(dtype)
    if dim is None:
        return values.sum()
    dims = normalize_dims(dim, input._data.ndim)
    sparse_dim = input._data.sparse_dim
    summed_sparse = [d for d in dims if d < sparse_dim]
    summed_dense = [d - sparse_dim + 1 for d in dims if d >= sparse_dim]
    if summed_dense:
        values = values.sum(dim=summed_dense)
    if len(summed_sparse) == sparse_dim:
        return values.sum(dim=0)
    kept = [d for d in range(sparse_dim) if d not in summed_sparse]
    shape = tuple(s for d, s in enumerate(input._data.shape) if d not in dims)
    return SparseCooTensorWithDimsAndTensors.apply(values, indices[kept], shape, False).coalesce()
