"""PyTorch's top-level linear-algebra names (``torch.det``, ``torch.inverse``, ``torch.svd``...),
which are also Tensor methods, on top of tinytorch.linalg. Several are PyTorch's older spellings
with their own conventions: ``svd`` returns V (not Vh) and takes ``some``, ``qr`` takes ``some``,
``cross`` without ``dim`` takes the first dim of size 3."""

import math
import warnings

import numpy as np

from . import _backend as backend, linalg
from ._ops._util import check_same_device, wrap
from ._ops.binary import where
from ._ops import lu as lu_ops
from ._ops.linalg import Cholesky, Inv, Solve, return_type
from .linalg import _broadcast_batch, _floating, _kernel, _square, _tensor, _type

slogdet_type = return_type("slogdet", ["sign", "logabsdet"])
qr_type = return_type("qr", ["Q", "R"])
svd_type = return_type("svd", ["U", "S", "V"])
lu_unpack_type = return_type("lu_unpack", ["P", "L", "U"])
triangular_solve_type = return_type("triangular_solve", ["solution", "cloned_coefficient"])


def det(input):
    """The determinant of each square matrix (``torch.linalg.det``)."""
    return linalg.det(input)


def logdet(input):
    """log(det) of each square matrix: NaN where the determinant is negative, -inf where it is 0."""
    _tensor(input, "logdet", "input", 1)
    _square(input, "logdet")
    _floating(input, "logdet", low_precision=False)
    sign, logabsdet = linalg.slogdet(input)
    return where(sign == -1, math.nan, logabsdet)


def slogdet(input):
    """(sign, log|det|) of each square matrix (``torch.linalg.slogdet``)."""
    return slogdet_type(*linalg.slogdet(input))


def inverse(input):
    """The inverse of each square matrix (``torch.linalg.inv``)."""
    return linalg.inv(input)


def pinverse(input, rcond=1e-15):
    """The pseudo-inverse, singular values below ``rcond`` times the largest counted as zero."""
    return linalg.pinv(input, rcond)


def matrix_power(input, n):
    """``input`` to the integer power ``n`` (``torch.linalg.matrix_power``)."""
    return linalg.matrix_power(input, n)


def cholesky(input, upper=False):
    """The Cholesky factor (deprecated in PyTorch for ``torch.linalg.cholesky``)."""
    _tensor(input, "cholesky", "input", 1)
    warnings.warn(
        "torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be removed in a future PyTorch "
        "release.\nL = torch.cholesky(A)\nshould be replaced with\nL = torch.linalg.cholesky(A)\nand\n"
        "U = torch.cholesky(A, upper=True)\nshould be replaced with\nU = torch.linalg.cholesky(A).mH\n"
        "This transform will produce equivalent results for all valid (symmetric positive definite) inputs.",
        UserWarning, stacklevel=2,
    )
    _square(input, "cholesky")
    _kernel(input, "cholesky_cpu")
    return Cholesky.apply(input, upper, "cholesky")


def cholesky_inverse(L, upper=False):
    """The inverse of ``A = L L^T`` (``A = U^T U`` when ``upper``) from its Cholesky factor.
    Differentiated as a function of the whole of ``L``, as PyTorch's."""
    _tensor(L, "cholesky_inverse", "input", 1)
    _square(L, "cholesky_inverse")
    _kernel(L, "cholesky_inverse_out_cpu")
    inverse = Inv.apply(L, None)  # a singular factor gives inf/NaN, unchecked, as PyTorch's potri
    return inverse @ inverse.mT if upper else inverse.mT @ inverse


def cholesky_solve(B, L, upper=False):
    """X with ``A X = B``, for ``A = L L^T`` (``U^T U`` when ``upper``) given its Cholesky factor;
    batch dims broadcast."""
    _tensor(B, "cholesky_solve", "input", 1)
    _tensor(L, "cholesky_solve", "input2", 2)
    if B._data.ndim < 2:
        raise RuntimeError(f"b should have at least 2 dimensions, but has {B._data.ndim} dimensions instead")
    if L._data.ndim < 2:
        raise RuntimeError(f"u should have at least 2 dimensions, but has {L._data.ndim} dimensions instead")
    check_same_device(B, L)
    if B._data.dtype != L._data.dtype:
        raise RuntimeError(
            f"Expected b and A to have the same dtype, but found b of type {_type(B)} and A of type {_type(L)} instead."
        )
    rows, cols = L._data.shape[-2:]
    if rows != cols:
        raise RuntimeError(f"A must be batches of square matrices, but they are {rows} by {cols} matrices")
    if cols != B._data.shape[-2]:
        raise RuntimeError(
            f"Incompatible matrix sizes for cholesky_solve: each A matrix is {cols} by {cols} but each b matrix is "
            f"{B._data.shape[-2]} by {B._data.shape[-1]}"
        )
    _broadcast_batch(B._data.shape[:-2], L._data.shape[:-2])
    _kernel(B, "cholesky_solve_cpu")
    lower = L.mT if upper else L
    return Solve.apply(lower.mT, Solve.apply(lower, B, None), None)


def qr(input, some=True):
    """(Q, R): the reduced decomposition, or the complete one when ``some=False`` (deprecated in
    PyTorch for ``torch.linalg.qr``)."""
    warnings.warn(
        "torch.qr is deprecated in favor of torch.linalg.qr and will be removed in a future PyTorch release.\n"
        "The boolean parameter 'some' has been replaced with a string parameter 'mode'.\nQ, R = torch.qr(A, some)\n"
        "should be replaced with\nQ, R = torch.linalg.qr(A, 'reduced' if some else 'complete')",
        UserWarning, stacklevel=2,
    )
    return qr_type(*linalg.qr(input, "reduced" if some else "complete"))


def svd(input, some=True, compute_uv=True):
    """(U, S, V) with ``input = U diag(S) V^T`` (V, not Vh as ``torch.linalg.svd``); ``some``
    gives the reduced factors. ``compute_uv=False`` returns zero-filled U and V of the full sizes."""
    _tensor(input, "svd", "input", 1)
    if input._data.ndim < 2:
        raise RuntimeError(f"linalg.svd: input should have at least 2 dimensions, but has {input._data.ndim} dimensions instead")
    if compute_uv:
        U, S, Vh = linalg.svd(input, full_matrices=not some)
        return svd_type(U, S, Vh.mT)
    S = linalg.svdvals(input)
    data = input._data
    xp = backend.array_module(data)
    batch, (m, n) = data.shape[:-2], data.shape[-2:]
    with backend.on_device(input.device):
        U, V = (wrap(xp.zeros(batch + (k, k), dtype=data.dtype)) for k in (m, n))
    return svd_type(U, S, V)


def cross(input, other, dim=None):
    """The cross product of 3-vectors along ``dim``; without ``dim`` (deprecated in PyTorch), the
    first dim of ``input`` of size 3."""
    if dim is None:
        warnings.warn(
            "Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the dim explicitly "
            "or simply use torch.linalg.cross.\nThe default value of dim will change to agree with that of "
            "linalg.cross in a future release.",
            UserWarning, stacklevel=2,
        )
        _tensor(input, "cross", "input", 1)
        sizes = input._data.shape
        dim = next((i for i, s in enumerate(sizes) if s == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    return linalg.cross(input, other, dim=dim)



def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True):
    """(P, L, U) from ``linalg.lu_factor``'s packed (LU, pivots): ``A = P L U``. Without
    ``unpack_data`` L and U are empty, without ``unpack_pivots`` P is. Differentiable with
    respect to LU_data."""
    _tensor(LU_data, "lu_unpack", "LU_data", 1)
    _tensor(LU_pivots, "lu_unpack", "LU_pivots", 2)
    data = LU_data._data
    if data.ndim < 2:
        raise RuntimeError(f"torch.lu_unpack: Expected tensor with 2 or more dimensions. Got size: {list(data.shape)} instead")
    m, n = data.shape[-2:]
    if unpack_pivots:
        if LU_pivots._data.dtype != np.int32:
            raise RuntimeError(
                "torch.lu_unpack: LU_pivots is expected to be a contiguous tensor of torch.int32 dtype.\n"
                "Note: this function is intended to be used with the output produced by torch.linalg.lu_factor"
            )
        expected = data.shape[:-2] + (min(m, n),)
        if LU_pivots._data.shape != expected:  # PyTorch reads out of bounds here; we refuse
            raise RuntimeError(
                f"torch.lu_unpack: Expected LU_pivots of shape {list(expected)}, but got {list(LU_pivots._data.shape)}"
            )
        check_same_device(LU_data, LU_pivots)
    xp = backend.array_module(data)
    with backend.on_device(LU_data.device):
        empty = wrap(xp.zeros((0,), dtype=data.dtype))
    P, L, U = lu_ops.unpack(LU_data, lu_ops.permutation(LU_pivots._data, m) if unpack_pivots else None)
    if not unpack_data:
        L = U = empty
    return lu_unpack_type(empty if P is None else P, L, U)


def lu_solve(b, LU_data, LU_pivots):
    """X with ``A X = b`` from ``linalg.lu_factor``'s (LU, pivots) (deprecated in PyTorch for
    ``torch.linalg.lu_solve``, whose arguments come in the other order)."""
    _tensor(b, "lu_solve", "input", 1)
    warnings.warn(
        "torch.lu_solve is deprecated in favor of torch.linalg.lu_solveand will be removed in a future PyTorch release.\n"
        "Note that torch.linalg.lu_solve has its arguments reversed.\nX = torch.lu_solve(B, LU, pivots)\n"
        "should be replaced with\nX = torch.linalg.lu_solve(LU, pivots, B)",
        UserWarning, stacklevel=2,
    )
    return linalg.lu_solve(LU_data, LU_pivots, b)


def matrix_exp(input):
    """The matrix exponential of each square matrix (``torch.linalg.matrix_exp``)."""
    _tensor(input, "matrix_exp", "input", 1)
    return linalg.matrix_exp(input)


def triangular_solve(input, A, upper=True, transpose=False, unitriangular=False):
    """(solution, cloned_coefficient): X with ``A X = input`` (``A^T X = input`` when
    ``transpose``) for a triangular ``A``, and a copy of ``A`` broadcast to the batch (deprecated
    in PyTorch for ``torch.linalg.solve_triangular``, whose arguments come in the other order)."""
    _tensor(input, "triangular_solve", "input", 1)
    _tensor(A, "triangular_solve", "A", 2)
    warnings.warn(
        "torch.triangular_solve is deprecated in favor of torch.linalg.solve_triangularand will be removed in a future "
        "PyTorch release.\ntorch.linalg.solve_triangular has its arguments reversed and does not return a copy of one of "
        "the inputs.\nX = torch.triangular_solve(B, A).solution\nshould be replaced with\n"
        "X = torch.linalg.solve_triangular(A, B).",
        UserWarning, stacklevel=2,
    )
    for name, t in (("b", input), ("A", A)):
        if t._data.ndim < 2:
            raise RuntimeError(
                f"torch.triangular_solve: Expected {name} to have at least 2 dimensions, but it has {t._data.ndim} dimensions instead"
            )
    if input._data.dtype != A._data.dtype:
        raise RuntimeError(
            f"Expected b and A to have the same dtype, but found b of type {_type(input)} and A of type {_type(A)} instead."
        )
    rows, cols = A._data.shape[-2:]
    if rows != cols:
        raise RuntimeError(f"A must be batches of square matrices, but they are {rows} by {cols} matrices")
    if cols != input._data.shape[-2]:
        raise RuntimeError(
            f"Incompatible matrix sizes for triangular_solve: each A matrix is {cols} by {cols} but each b matrix is "
            f"{input._data.shape[-2]} by {input._data.shape[-1]}"
        )
    batch = _broadcast_batch(input._data.shape[:-2], A._data.shape[:-2])
    check_same_device(input, A)
    _kernel(A, "triangular_solve_cpu")
    coefficient = A.mT if transpose else A
    solution = linalg.solve_triangular(coefficient, input, upper=upper != transpose, unitriangular=unitriangular)
    return triangular_solve_type(solution, A.expand(*batch, cols, cols).clone())
