"""PyTorch's top-level linear-algebra names (``torch.det``, ``torch.inverse``, ``torch.svd``...),
which are also Tensor methods, on top of tinytorch.linalg. Several are PyTorch's older spellings
with their own conventions: ``svd`` returns V (not Vh) and takes ``some``, ``qr`` takes ``some``,
``cross`` without ``dim`` takes the first dim of size 3."""

import math
import warnings

from . import _backend as backend, linalg
from ._ops._util import check_same_device, wrap
from ._ops.binary import where
from ._ops.linalg import Cholesky, Inv, Solve, return_type
from .linalg import _broadcast_batch, _floating, _kernel, _square, _tensor, _type

slogdet_type = return_type("slogdet", ["sign", "logabsdet"])
qr_type = return_type("qr", ["Q", "R"])
svd_type = return_type("svd", ["U", "S", "V"])


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

