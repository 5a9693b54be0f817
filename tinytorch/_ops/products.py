"""The matrix and vector products PyTorch has besides matmul: mv, inner, vdot, ger, addmv, addr,
addbmm, chain_matmul, tensordot, block_diag and vander, and linalg's multi_dot and vander.

Each is a composite of differentiable ops (matmul, mul, sum, cat and the movement ops),
so its gradient, and its gradient's gradient, come from those: no Function of its own. Each
contraction runs as one matrix product (tensordot permutes and reshapes both operands into
matrices; addbmm folds its batch into the inner dimension of a single GEMM).
"""

import functools
import warnings

from .. import _backend as backend, _dtypes as dtypes
from .._tensor import Tensor
from ._util import check_same_device, check_tensor_arguments, normalize_dim, write_out
from .matmul import _check_outer_vectors, _scaled_sum, dot, matmul, outer
from .movement import cat
from .shaping import _tensor_list


def _size_text(tensor):
    return "x".join(str(s) for s in tensor.shape)


def _integral(*tensors):
    return any(t._data.dtype.kind in "iub" for t in tensors)


def _integer_scales(beta, alpha, *tensors):
    """PyTorch's addmv and addbmm cast alpha and beta to the result's integer type (truncating)."""
    if _integral(*tensors):
        return int(beta), int(alpha)
    return beta, alpha


# -- matrix-vector ---------------------------------------------------------------------------------
def _check_mv(input, mat, vec):
    """PyTorch's addmv checks: ranks, then sizes (dtypes are matmul's). ``input`` None: mv's
    result, which PyTorch's messages name ``input``."""
    input_dim = 1 if input is None else input.dim()
    if not (mat.dim() == 2 and vec.dim() == 1 and input_dim <= 1):
        raise RuntimeError(f"vector + matrix @ vector expected, got {input_dim}, {mat.dim()}, {vec.dim()}")
    if mat.shape[1] != vec.shape[0] or (input_dim == 1 and input is not None and input.shape[0] not in (1, mat.shape[0])):
        # input.size(0) of a 0-d input raises PyTorch's IndexError, as it does in PyTorch's message
        size = mat.shape[0] if input is None else input.size(0)
        raise RuntimeError(f"size mismatch, got input ({size}), mat ({_size_text(mat)}), vec ({vec.shape[0]})")


def mv(input, vec, *, out=None):
    """Matrix-vector product: ``input`` (n, m) times ``vec`` (m,) is (n,)."""
    check_tensor_arguments("mv", input=input, vec=vec)
    if out is not None:
        return write_out(out, "mv", mv, input, vec)
    _check_mv(None, input, vec)
    return matmul(input, vec)


def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * (mat @ vec); with beta=0 ``input`` is ignored (nan and inf too)."""
    check_tensor_arguments("addmv", input=input, mat=mat, vec=vec)
    if out is not None:
        return write_out(out, "addmv", addmv, input, mat, vec, beta=beta, alpha=alpha)
    _check_mv(input, mat, vec)
    if len({input._data.dtype, mat._data.dtype, vec._data.dtype}) > 1:
        raise RuntimeError(
            "addmv input tensors must have the same dtype, but got "
            f"{dtypes.scalar_type_name(input._data.dtype)}, {dtypes.scalar_type_name(mat._data.dtype)}, and "
            f"{dtypes.scalar_type_name(vec._data.dtype)}"
        )
    check_same_device(input, mat)
    beta, alpha = _integer_scales(beta, alpha, input)
    return _scaled_sum(input, matmul(mat, vec), beta, alpha)


# -- vector-vector ---------------------------------------------------------------------------------
def vdot(input, other, *, out=None):
    """The dot product of two 1-D tensors, the first conjugated (for real tensors: ``dot``)."""
    check_tensor_arguments("vdot", input=input, other=other)
    if out is not None:
        return write_out(out, "vdot", vdot, input, other)
    return dot(input, other)


def ger(input, vec2, *, out=None):
    """The outer product of two vectors (PyTorch's older name for ``outer``)."""
    if out is not None:
        return write_out(out, "ger", ger, input, vec2)
    check_tensor_arguments("ger", input=input, vec2=vec2)
    return outer(input, vec2)


def _check_scalars(result_kind, beta, alpha):
    """PyTorch's addr takes no floating alpha or beta for integer or bool results."""
    if result_kind in "iub":
        for name, number in (("beta", beta), ("alpha", alpha)):
            if isinstance(number, float):
                raise RuntimeError(f"For integral input tensors, argument {name} must not be a floating point number.")


def addr(input, vec1, vec2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * outer(vec1, vec2); with beta=0 ``input`` is ignored (nan and inf too)."""
    check_tensor_arguments("addr", input=input, vec1=vec1, vec2=vec2)
    if out is not None:
        return write_out(out, "addr", addr, input, vec1, vec2, beta=beta, alpha=alpha)
    _check_outer_vectors("addr", "vec1", vec1, "vec2", vec2)
    check_same_device(input, vec1)
    product = outer(vec1, vec2)
    kind = dtypes.promote_types(input.dtype, product.dtype).numpy.kind
    _check_scalars(kind, beta, alpha)
    if kind == "b":  # PyTorch's bool addr: (beta and input) or (alpha and vec1 vec2^T)
        product = product if alpha else product & False
        return _scaled_sum(input, product, 1 if beta else 0, 1)
    return _scaled_sum(input, product, beta, alpha)


def inner(input, other, *, out=None):
    """Sum of products over the last dim of both (a 0-d operand multiplies instead)."""
    check_tensor_arguments("inner", input=input, other=other)
    if out is not None:
        return write_out(out, "inner", inner, input, other)
    if input.dim() == 0 or other.dim() == 0:
        return input * other
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(
            f"inner() the last dimension must match on both input tensors but got shapes {list(input.shape)} and {list(other.shape)}"
        )
    return tensordot(input, other, ([-1], [-1]))


# -- batched --------------------------------------------------------------------------------------
def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * sum_b batch1[b] @ batch2[b]; with beta=0 ``input`` is ignored."""
    check_tensor_arguments("addbmm", input=input, batch1=batch1, batch2=batch2)
    if out is not None:
        return write_out(out, "addbmm", addbmm, input, batch1, batch2, beta=beta, alpha=alpha)
    # PyTorch's order: input broadcast to the result's shape first, then the batches' ranks.
    input.expand(batch1.size(1), batch2.size(2))
    for name, batch in (("batch1", batch1), ("batch2", batch2)):
        if batch.dim() != 3:
            raise RuntimeError(f"{name} must be a 3D tensor")
    count, rows, inner_size = batch1.shape
    if batch2.shape[0] != count:
        raise RuntimeError(f"batch1 and batch2 must have same number of batches, got {count} and {batch2.shape[0]}")
    if batch2.shape[1] != inner_size:
        raise RuntimeError(f"Incompatible matrix sizes for bmm ({rows}x{inner_size} and {batch2.shape[1]}x{batch2.shape[2]})")
    names = dtypes.scalar_type_name
    if batch1._data.dtype != batch2._data.dtype:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {names(batch1._data.dtype)} and {names(batch2._data.dtype)}")
    if input._data.dtype != batch2._data.dtype:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got {names(input._data.dtype)} and {names(batch2._data.dtype)}")
    check_same_device(input, batch1)
    # One GEMM: the batch joins the inner dimension, (n, b*m) @ (b*m, p) = sum_b batch1[b] @ batch2[b].
    left = batch1.permute(1, 0, 2).reshape(rows, count * inner_size)
    right = batch2.reshape(count * inner_size, batch2.shape[2])
    beta, alpha = _integer_scales(beta, alpha, input)
    return _scaled_sum(input, matmul(left, right), beta, alpha)


# -- contractions ---------------------------------------------------------------------------------
def _dims_pair(a, b, dims):
    """tensordot's ``dims`` as two lists of dims, with PyTorch's checks (torch/functional.py)."""
    if isinstance(dims, Tensor):
        if dims.numel() > 1:
            if dims.shape[0] != 2:
                raise AssertionError(f"dims tensor must have size 2 in first dimension, got {dims.shape[0]}")
            return dims[0].tolist(), dims[1].tolist()
        count = int(dims.item())
        if count < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        return list(range(-count, 0)), list(range(count))
    if isinstance(dims, (tuple, list)):
        dims_a, dims_b = dims
        for position, (name, listed) in enumerate((("dims_self", dims_a), ("dims_other", dims_b)), start=3):
            if not isinstance(listed, (tuple, list)):
                raise TypeError(f"tensordot(): argument '{name}' (position {position}) must be tuple of ints, not {type(listed).__name__}")
        return list(dims_a), list(dims_b)
    if isinstance(dims, int) and not isinstance(dims, bool):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > min(a.dim(), b.dim()):
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        return list(range(-dims, 0)), list(range(dims))
    raise RuntimeError(
        "tensordot expects dims to be int or tuple[list[int], list[int]] or list[list[int]] containing two lists, "
        f"but got dims={dims}"
    )


def tensordot(a, b, dims=2, out=None):
    """Sum of products over ``dims`` of ``a`` and ``b``: an int (the last dims of ``a`` with the
    first of ``b``) or two lists of dims. The free dims of ``a`` then ``b`` make the result."""
    if out is not None:
        return write_out(out, "tensordot", tensordot, a, b, dims)
    dims_a, dims_b = _dims_pair(a, b, dims)
    if len(dims_a) != len(dims_b):
        raise RuntimeError("both dimension lists should have same length")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError("both inputs should have same dtype")
    check_same_device(a, b)
    left, right = a, b
    for da, db in zip(dims_a, dims_b):
        size_a, size_b = a.size(da), b.size(db)
        if size_b == 1:  # a dim of size 1 broadcasts: the other side sums over it at once
            left = left.sum(da, keepdim=True)
        elif size_a == 1:
            right = right.sum(db, keepdim=True)
        elif size_a != size_b:
            raise RuntimeError(
                f"contracted dimensions need to match, but first has size {size_a} in dim {da} and second has size {size_b} in dim {db}"
            )
    axes_a = [normalize_dim(d, a.dim()) for d in dims_a]
    axes_b = [normalize_dim(d, b.dim()) for d in dims_b]
    for axes in (axes_a, axes_b):
        for axis in axes:
            if axes.count(axis) > 1:
                raise RuntimeError(f"dim {axis} appears multiple times in the list of dims")
    free_a = [d for d in range(a.dim()) if d not in axes_a]
    free_b = [d for d in range(b.dim()) if d not in axes_b]
    shape_a = [left.shape[d] for d in free_a]
    shape_b = [right.shape[d] for d in free_b]
    contracted = functools.reduce(lambda n, d: n * left.shape[d], axes_a, 1)
    rows = functools.reduce(lambda n, s: n * s, shape_a, 1)
    cols = functools.reduce(lambda n, s: n * s, shape_b, 1)
    matrix_a = left.permute(*free_a, *axes_a).reshape(rows, contracted)
    matrix_b = right.permute(*axes_b, *free_b).reshape(contracted, cols)
    return matmul(matrix_a, matrix_b).reshape(*shape_a, *shape_b)


# -- chains ---------------------------------------------------------------------------------------
def _chain_order(sizes):
    """The cheapest parenthesization of a matrix chain (CLRS's dynamic program): ``split[i][j]`` is
    where the product of matrices i..j splits; ``sizes`` has one more entry than the chain."""
    count = len(sizes) - 1
    cost = [[0] * count for _ in range(count)]
    split = [[0] * count for _ in range(count)]
    for length in range(1, count):
        for i in range(count - length):
            j = i + length
            cost[i][j] = None
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + sizes[i] * sizes[k + 1] * sizes[j + 1]
                if cost[i][j] is None or c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


def _chain_product(matrices, split, i, j):
    if i == j:
        return matrices[i]
    k = split[i][j]
    return matmul(_chain_product(matrices, split, i, k), _chain_product(matrices, split, k + 1, j))


def multi_dot(tensors, *, out=None):
    """The product of two or more matrices, multiplied in the cheapest order; the first may be a
    row vector (1-D) and the last a column vector (1-D)."""
    if out is not None:
        return write_out(out, "linalg.multi_dot", multi_dot, tensors)
    tensors = list(tensors)
    count = len(tensors)
    if count < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {count}")
    first, last = tensors[0], tensors[-1]
    if first.dim() not in (1, 2):
        raise RuntimeError(f"multi_dot(): the first tensor must be 1D or 2D but got {first.dim()}D")
    if last.dim() not in (1, 2):
        raise RuntimeError(f"multi_dot(): the last tensor must be 1D or 2D but got {last.dim()}D")
    for index, tensor in enumerate(tensors[1:-1], start=1):
        if tensor.dim() != 2:
            raise RuntimeError(f"multi_dot(): tensor {index} must be 2D but got {tensor.dim()}D")
    for index, tensor in enumerate(tensors[1:], start=1):
        if tensor._data.dtype != first._data.dtype:
            raise RuntimeError(
                f"multi_dot(): all tensors must have be the same dtype but tensor 0 is {dtypes.cpp_type_name(first._data.dtype)} "
                f"and tensor {index} {dtypes.cpp_type_name(tensor._data.dtype)}"
            )
        check_same_device(first, tensor)
    matrices = [first.unsqueeze(0) if first.dim() == 1 else first] + tensors[1:-1] + [last.unsqueeze(-1) if last.dim() == 1 else last]
    for index in range(count - 1):
        left, right = matrices[index], matrices[index + 1]
        if left.shape[1] != right.shape[0]:
            raise RuntimeError(
                f"multi_dot(): tensors {index} and {index + 1} with shapes {list(tensors[index].shape)} and "
                f"{list(tensors[index + 1].shape)} cannot be multiplied"
            )
    sizes = [m.shape[0] for m in matrices] + [matrices[-1].shape[1]]
    result = _chain_product(matrices, _chain_order(sizes), 0, count - 1)
    if first.dim() == 1:
        result = result.squeeze(0)
    if last.dim() == 1:
        result = result.squeeze(-1)
    return result


def chain_matmul(*matrices, out=None):
    """The product of 2-D matrices in the cheapest order (deprecated: ``linalg.multi_dot``)."""
    warnings.warn(
        "torch.chain_matmul is deprecated and will be removed in a future PyTorch release. Use torch.linalg.multi_dot "
        "instead, which accepts a list of two or more tensors rather than multiple parameters.",
        UserWarning, stacklevel=2,
    )
    _tensor_list("chain_matmul", matrices)
    if out is not None:
        return write_out(out, "chain_matmul", lambda *m: _chain_matmul(m), *matrices)
    return _chain_matmul(matrices)


def _chain_matmul(matrices):
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    for matrix in matrices:
        if matrix.dim() != 2:
            raise RuntimeError(f"Tensor dimension is {matrix.dim()}, expected 2 instead.")
    if len(matrices) == 1:
        return matrices[0].clone()
    return multi_dot(matrices)


# -- structured matrices --------------------------------------------------------------------------
def block_diag(*tensors):
    """The tensors (0-, 1- or 2-D, each taken as a matrix) along the diagonal of one matrix, zeros
    elsewhere; the result has their promoted dtype."""
    _tensor_list("block_diag", tensors)
    for index, tensor in enumerate(tensors):
        if tensor.dim() > 2:
            raise RuntimeError(
                f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {index} has {tensor.dim()} dimensions"
            )
    matrices = [t.reshape(1, t.numel()) if t.dim() < 2 else t for t in tensors]
    for index, matrix in enumerate(matrices[1:], start=1):
        if matrix.device != matrices[0].device:
            raise RuntimeError(
                "torch.block_diag: input tensors must all be on the same device. Input 0 is on device "
                f"{matrices[0].device} and input {index} is on device {matrix.device}"
            )
    if not matrices:
        return _zeros((1, 0), dtypes.default_float_numpy(), backend.default_device())
    dtype = functools.reduce(dtypes.promote_types, (m.dtype for m in matrices))
    device = matrices[0].device
    width = sum(m.shape[1] for m in matrices)
    rows, left = [], 0
    for matrix in matrices:
        height, right = matrix.shape[0], width - left - matrix.shape[1]
        pieces = [matrix if matrix.dtype is dtype else matrix.to(dtype)]
        if left:
            pieces.insert(0, _zeros((height, left), dtype.numpy, device))
        if right:
            pieces.append(_zeros((height, right), dtype.numpy, device))
        rows.append(cat(pieces, 1) if len(pieces) > 1 else pieces[0])
        left += matrix.shape[1]
    return cat(rows, 0) if len(rows) > 1 else rows[0].clone()


def _zeros(shape, numpy_dtype, device):
    """A constant block of zeros on ``device``."""
    with backend.on_device(device):
        return Tensor._make(backend.array_module(device).zeros(shape, dtype=numpy_dtype))


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of the 1-D ``x``: columns x^(N-1), ..., x^0 (x^0 first when
    ``increasing``); integer and bool ``x`` give int64."""
    check_tensor_arguments("vander", x=x)
    if x.dim() != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    columns = x.shape[0] if N is None else N
    if columns < 0:
        raise RuntimeError("N must be non-negative.")
    if x._data.dtype.kind in "iub":
        x = x.to(dtypes.int64)
    result = _powers(x, columns)
    return result if increasing else result.flip(1)


def _powers(x, columns):
    """x^0, x^1, ..., x^(columns-1) along a new last dim, by doubling: the columns so far, times
    the next power, are the next as many columns (log2(columns) products). Products only, so every
    derivative is exact at x = 0 too (PyTorch's cumprod formula gives the same values)."""
    xp = backend.array_module(x._data)
    with backend.on_device(x.device):
        ones = Tensor._make(xp.ones(tuple(x.shape) + (min(columns, 1),), dtype=x._data.dtype))
    if columns <= 1:
        return ones
    base = x.unsqueeze(-1)
    result = cat([ones, base], -1)
    while result.shape[-1] < columns:
        result = cat([result, result * (result[..., -1:] * base)], -1)
    return result if result.shape[-1] == columns else result[..., :columns]


def linalg_vander(x, *, N=None):
    """``linalg.vander``: x^0, x^1, ..., x^(N-1) along a new last dim, for a batch ``x`` (*, n)."""
    kind = x._data.dtype
    if not (kind.kind in "iu" or kind.name in ("float32", "float64", "complex64", "complex128")):
        raise RuntimeError(
            f"linalg.vander supports floating point, complex, and integer tensors, but got {dtypes.scalar_type_name(kind)}"
        )
    x = x.unsqueeze(-1) if x.dim() == 0 else x
    columns = x.shape[-1] if N is None else N
    if columns <= 1:
        raise RuntimeError("N must be greater than 1.")
    if kind.kind in "iu":
        x = x.to(dtypes.int64)
    return _powers(x, columns)
