"""The LU factorization with partial pivoting, the solve that uses it, and the matrix exponential:
LuFactor, LuSolve and MatrixExp, forward and backward side by side. The public API, with
PyTorch's argument checks, is tinytorch/linalg.py (and tinytorch/_matrix_functions.py for the
top-level names).

NumPy has no LU (``numpy.linalg`` hides LAPACK's getrf) and tinytorch does not require SciPy, so
the factorization is written here once for both array modules: a right-looking Doolittle loop over
the columns, vectorized over the batch (min(m, n) Python steps, each a pivot search, a row swap
and a rank-1 update of the whole stack), with LAPACK's conventions: 1-based int32 pivots, ``info``
the 1-based column of the first exactly-zero pivot, and the factorization carried on past it.
The solves are forward and back substitution in the same style (n steps). The cost is O(n)
Python steps per call, not a blocked LAPACK kernel: fine for the small and medium matrices these
functions are used on, slow for n in the thousands.

Backwards are PyTorch's formulas (torch/csrc/autograd/FunctionsManual.cpp: linalg_lu_backward,
linalg_lu_solve_LU / _B, linalg_matrix_exp_differential), with the permutation held fixed, and
written with tensor ops so that ``create_graph=True`` differentiates them again.
"""

import numpy as np

from .. import _backend as backend
from ..autograd.function import Function
from ._util import quiet, wrap
from .linalg import Solve, _eye, _right_solve_transposed, _zeros
from .movement import cat


# -- array helpers (NumPy or CuPy, any batch shape) -----------------------------------------------
def _stack(array):
    """A (..., m, n) array as a C-contiguous stack (batch, m, n) that may be written."""
    return array.reshape((int(np.prod(array.shape[:-2])),) + array.shape[-2:]).copy()


def factor(array, pivot=True):
    """(LU, pivots, info) of a (..., m, n) array: LAPACK getrf's packed factors (L's multipliers
    below the diagonal, U on and above it), its 1-based int32 pivots and int32 info."""
    xp = backend.array_module(array)
    shape = array.shape
    m, n = shape[-2:]
    k = min(m, n)
    a = _stack(array)
    batch = a.shape[0]
    rows = xp.arange(batch)
    pivots = xp.empty((batch, k), dtype=np.int32)
    info = xp.zeros((batch,), dtype=np.int32)
    with quiet():
        for j in range(k):
            column = a[:, j:, j]
            if pivot:
                # LAPACK's idamax: the first largest |a|; a NaN wins only in the first place.
                size = xp.abs(column)
                p = xp.argmax(xp.where(xp.isnan(size), -1, size), axis=1)
                p = xp.where(xp.isnan(size[:, 0]), 0, p) + j
                pivots[:, j] = p + 1
                swapped = a[rows, p]
                a[rows, p] = a[:, j].copy()  # a copy: the source is a view of the rows written
                a[:, j] = swapped
            else:
                pivots[:, j] = j + 1
            diagonal = a[:, j, j]
            zero = diagonal == 0
            info = xp.where((info == 0) & zero, j + 1, info).astype(np.int32)
            # A zero pivot leaves its column as it is (all zeros below it when pivoting), as getrf.
            a[:, j + 1:, j] /= xp.where(zero, 1, diagonal)[:, None]
            a[:, j + 1:, j + 1:] -= a[:, j + 1:, j:j + 1] * a[:, j:j + 1, j + 1:]
    return a.reshape(shape), pivots.reshape(shape[:-2] + (k,)), info.reshape(shape[:-2])


def permutation(pivots, m):
    """The row order ``perm`` (int64, (..., m)) of LAPACK's sequential swaps: row i of P^T A is
    row perm[i] of A, so P[perm[i], i] = 1. Pivots out of range are clipped (PyTorch checks
    nothing either)."""
    xp = backend.array_module(pivots)
    batch_shape, k = pivots.shape[:-1], pivots.shape[-1]
    flat = pivots.reshape(int(np.prod(batch_shape)), k).astype(np.int64) - 1
    count = flat.shape[0]
    perm = xp.broadcast_to(xp.arange(m, dtype=np.int64), (count, m)).copy()
    rows = xp.arange(count)
    for j in range(min(k, m)):
        p = xp.clip(flat[:, j], 0, m - 1)
        swapped = perm[rows, p]
        perm[rows, p] = perm[:, j]
        perm[:, j] = swapped
    return perm.reshape(batch_shape + (m,))


def permutation_matrix(perm, dtype):
    """P with P[perm[i], i] = 1, as an array of ``dtype``."""
    xp = backend.array_module(perm)
    m = perm.shape[-1]
    return (perm[..., None, :] == xp.arange(m)[:, None]).astype(dtype)


def _substitute(T, B, lower, unit):
    """X with T X = B for a triangular T (..., n, n) and B (..., n, k) of the same batch shape:
    forward (``lower``) or back substitution, one row per step, reading only T's triangle."""
    xp = backend.array_module(T)
    n = T.shape[-1]
    X = xp.empty(B.shape, dtype=B.dtype)
    order = range(n) if lower else range(n - 1, -1, -1)
    with quiet():
        for i in order:
            known = slice(0, i) if lower else slice(i + 1, n)
            row = B[..., i, :] - (T[..., i:i + 1, known] @ X[..., known, :])[..., 0, :]
            X[..., i, :] = row if unit else row / T[..., i, i][..., None]
    return X


def solve(LU, perm, B, adjoint):
    """A^{-1} B (A^{-T} B when ``adjoint``) for A = P L U given as packed ``LU`` and the row order
    ``perm``; LU, perm and B have the same batch shape."""
    xp = backend.array_module(LU)
    if not adjoint:  # U^{-1} L^{-1} P^T B
        rows = xp.take_along_axis(B, xp.broadcast_to(perm[..., None], B.shape), axis=-2)
        return _substitute(LU, _substitute(LU, rows, lower=True, unit=True), lower=False, unit=False)
    # A^T = U^T L^T P^T: X = P L^{-T} U^{-T} B; P V puts row i of V at row perm[i].
    LT = LU.swapaxes(-2, -1)
    V = _substitute(LT, _substitute(LT, B, lower=True, unit=False), lower=False, unit=True)
    inverse = xp.argsort(perm, axis=-1)
    return xp.take_along_axis(V, xp.broadcast_to(inverse[..., None], V.shape), axis=-2)


def singular_info(array):
    """LAPACK getrf's ``info`` (int32, the batch shape) of each square matrix: 0, or the 1-based
    column of the first exactly-zero pivot. On the CPU, LAPACK's own LU (under slogdet) says
    whether any matrix is singular, and the loop above runs only then; on a GPU it always runs
    (deciding would read the device)."""
    xp = backend.array_module(array)
    if xp is np and array.size:
        with quiet():
            sign = np.linalg.slogdet(array)[0]
        if not (np.asarray(sign) == 0).any():
            return np.zeros(array.shape[:-2], dtype=np.int32)
    return factor(array)[2]


def cholesky_info(array):
    """(partial factor, info) of each symmetric matrix, read from its lower triangle, as LAPACK's
    unblocked potf2 leaves them: info 0 or the order of the first leading minor that is not
    positive-definite; for such a matrix the columns before it factored, the failing diagonal
    entry holding the non-positive value, and the rest of the lower triangle as it was."""
    xp = backend.array_module(array)
    shape = array.shape
    n = shape[-1]
    a = _stack(array)
    lower = xp.tril(a)
    info = xp.zeros((a.shape[0],), dtype=np.int32)
    with quiet():
        for j in range(n):
            active = info == 0
            row = lower[:, j, :j]
            pivot = a[:, j, j] - (row * row).sum(axis=-1)
            bad = active & ~(pivot > 0)
            good = active & ~bad
            info = xp.where(bad, j + 1, info).astype(np.int32)
            root = xp.sqrt(xp.where(good, pivot, 1))
            lower[:, j, j] = xp.where(good, root, xp.where(bad, pivot, lower[:, j, j]))
            column = (a[:, j + 1:, j] - (lower[:, j + 1:, :j] @ row[:, :, None])[..., 0]) / root[:, None]
            lower[:, j + 1:, j] = xp.where(good[:, None], column, lower[:, j + 1:, j])
    return lower.reshape(shape), info.reshape(shape[:-2])


# -- tensor helpers (differentiable, for the backward formulas) ----------------------------------
def unpack(LU, perm):
    """(P, L, U) as tensors: P a constant, L (m x k, unit lower) and U (k x n, upper) built from LU
    with tensor ops, so that gradients flow back into LU. ``perm`` None: P is not made."""
    m, n = LU.shape[-2], LU.shape[-1]
    k = min(m, n)
    L = LU.narrow(-1, 0, k).tril(-1) + _eye(m, LU).narrow(-1, 0, k)
    U = LU.narrow(-2, 0, k).triu()
    if perm is None:
        return None, L, U
    xp = backend.array_module(LU._data)
    P = wrap(xp.ascontiguousarray(xp.broadcast_to(permutation_matrix(perm, LU._data.dtype), LU.shape[:-2] + (m, m))))
    return P, L, U


def lu_backward(grad_L, grad_U, P, L, U):
    """PyTorch's linalg_lu_backward for A = P L U (P fixed), m x n with k = min(m, n):
    square: G_A = P L^{-T} [tril_{-1}(L^T G_L) + triu(G_U U^T)] U^{-T};
    wide (U = [U1 U2]): the same on the leading k x k block with L^T G_L - G_U2 U2^T in the
    strict lower part, and G_A2 = P L^{-T} G_U2;
    tall (L = [L1; L2]): the same on the leading block with G_U U^T - L2^T G_L2 in the upper
    part, and G_A2 = G_L2 U^{-T} below it."""
    m, n = L.shape[-2], U.shape[-1]
    k = min(m, n)
    if m == n:
        phi = (L.mT @ grad_L).tril(-1) + (grad_U @ U.mT).triu()
        return P @ _right_solve_transposed(Solve.apply(L.mT, phi, None), U)
    if m < n:
        U1, U2 = U.narrow(-1, 0, k), U.narrow(-1, k, n - k)
        grad_U1, grad_U2 = grad_U.narrow(-1, 0, k), grad_U.narrow(-1, k, n - k)
        phi = (L.mT @ grad_L - grad_U2 @ U2.mT).tril(-1) + (grad_U1 @ U1.mT).triu()
        grad = cat([_right_solve_transposed(phi, U1), grad_U2], -1)
        return P @ Solve.apply(L.mT, grad, None)
    L1, L2 = L.narrow(-2, 0, k), L.narrow(-2, k, m - k)
    grad_L1, grad_L2 = grad_L.narrow(-2, 0, k), grad_L.narrow(-2, k, m - k)
    phi = (L1.mT @ grad_L1).tril(-1) + (grad_U @ U.mT - L2.mT @ grad_L2).triu()
    grad = cat([Solve.apply(L1.mT, phi, None), grad_L2], -2)
    return P @ _right_solve_transposed(grad, U)


# -- primitives -----------------------------------------------------------------------------------
class LuFactor(Function):
    """(LU, pivots, info) of A (..., m, n), LAPACK's packed form; pivots and info are int32 and
    not differentiable. Backward: lu_backward on the unpacked factors' gradients (the strict
    lower part of G_LU is L's, the upper part U's), the permutation fixed."""

    @staticmethod
    def forward(ctx, a, pivot):
        LU, pivots, info = factor(a._data, pivot)
        LU, pivots, info = wrap(LU), wrap(pivots), wrap(info)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(LU, pivots)
        return LU, pivots, info

    @staticmethod
    def backward(ctx, grad_LU, grad_pivots, grad_info):
        if grad_LU is None:
            return None, None
        LU, pivots = ctx.saved_tensors
        m, n = LU.shape[-2], LU.shape[-1]
        k = min(m, n)
        P, L, U = unpack(LU, permutation(pivots._data, m))
        # tril_{-1}(L^T G) and triu(G U^T) read only the strict lower / upper part of G.
        return lu_backward(grad_LU.narrow(-1, 0, k), grad_LU.narrow(-2, 0, k), P, L, U), None


class LuSolve(Function):
    """X = A^{-1} B (A^{-T} B when ``adjoint``) for A = P L U given as (LU, pivots); batch dims
    broadcast. G_B = A^{-T} G_X (A^{-1} G_X); G_A = -G_B X^T (-X G_B^T), and G_LU =
    tril_{-1}(P^T G_A U^T) + triu(L^T P^T G_A) (PyTorch's linalg_lu_solve_LU, real case)."""

    @staticmethod
    def forward(ctx, LU, pivots, b, adjoint):
        xp = backend.array_module(LU._data)
        batch = np.broadcast_shapes(LU.shape[:-2], b.shape[:-2])
        n = LU.shape[-1]
        lu = xp.broadcast_to(LU._data, batch + (n, n))
        perm = xp.broadcast_to(permutation(pivots._data, n), batch + (n,))
        B = xp.broadcast_to(b._data, batch + b.shape[-2:])
        out = wrap(solve(lu, perm, B, adjoint))
        ctx.adjoint = adjoint
        ctx.save_for_backward(LU, pivots, out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        LU, pivots, X = ctx.saved_tensors
        grad_B = LuSolve.apply(LU, pivots, grad_output, not ctx.adjoint)
        grad_LU = None
        if ctx.needs_input_grad[0]:
            grad_A = -(X @ grad_B.mT) if ctx.adjoint else -(grad_B @ X.mT)
            P, L, U = unpack(LU, permutation(pivots._data, LU.shape[-1]))
            grad_A = P.mT @ grad_A
            grad_LU = (grad_A @ U.mT).tril(-1) + (L.mT @ grad_A).triu()
        return grad_LU, None, grad_B if ctx.needs_input_grad[2] else None, None


# Higham (2005), "The scaling and squaring method for the matrix exponential revisited": the
# [13/13] Pade approximant is accurate to double precision for ||A||_1 <= theta_13; larger
# matrices are scaled by 2^-s first and the result squared s times. (PyTorch picks among Taylor
# degrees instead; both are accurate to rounding.)
_PADE_13 = (
    64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0, 129060195264000.0,
    10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0, 40840800.0, 960960.0, 16380.0, 182.0, 1.0,
)
_THETA_13 = 5.371920351148152


def expm(array):
    """exp(A) for each matrix of a (..., n, n) float32/float64 array: scaling and squaring with
    the [13/13] Pade approximant, each matrix scaled by its own power of two. A matrix with a
    non-finite entry gives NaN, as PyTorch's."""
    xp = backend.array_module(array)
    n = array.shape[-1]
    if array.size == 0:
        return array.copy()
    b = _PADE_13
    with quiet():
        finite = xp.isfinite(array).all(axis=(-2, -1))
        a = xp.where(finite[..., None, None], array, 0)
        norm = xp.abs(a).sum(axis=-2).max(axis=-1)  # the 1-norm: the largest column sum
        squarings = xp.maximum(xp.ceil(xp.log2(norm / _THETA_13)), 0)
        squarings = xp.where(norm > 0, xp.minimum(squarings, 1100), 0).astype(np.int64)  # 1100: past any finite norm
        a = a * xp.exp2(-squarings.astype(array.dtype))[..., None, None]
        eye = xp.eye(n, dtype=array.dtype)
        a2 = a @ a
        a4 = a2 @ a2
        a6 = a4 @ a2
        u = a @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4 + b[3] * a2 + b[1] * eye)
        v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 + b[0] * eye
        result = xp.linalg.solve(v - u, v + u)
        # The number of squarings is read back, as PyTorch reads the norms back on a GPU.
        for step in range(int(squarings.max()) if squarings.size else 0):
            result = xp.where((step < squarings)[..., None, None], result @ result, result)
        return xp.where(finite[..., None, None], result, np.nan).astype(array.dtype, copy=False)


class MatrixExp(Function):
    """exp(A) = sum_k A^k / k!. Backward (PyTorch's linalg_matrix_exp_differential): G_A is the
    upper-right block of exp([[A^T, G], [0, A^T]]), a matrix exponential again, so it
    differentiates twice."""

    @staticmethod
    def forward(ctx, a):
        data = a._data
        if data.dtype == np.float16:  # computed in float32: float16 overflows in the Pade terms
            out = expm(data.astype(np.float32)).astype(np.float16)
        else:
            out = expm(data)
        ctx.save_for_backward(a)
        return wrap(out)

    @staticmethod
    def backward(ctx, grad_output):
        (a,) = ctx.saved_tensors
        n = a.shape[-1]
        a_t = a.mT
        top = cat([a_t, grad_output], -1)
        bottom = cat([_zeros(a.shape, a), a_t], -1)
        return MatrixExp.apply(cat([top, bottom], -2)).narrow(-2, 0, n).narrow(-1, n, n)
