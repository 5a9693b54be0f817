"""The LDL factorization of symmetric (possibly indefinite) matrices and the solve that uses it:
``torch.linalg.ldl_factor``, ``ldl_factor_ex`` and ``ldl_solve`` (public in tinytorch/linalg.py).

The factorization is LAPACK's ?sytrf with ``uplo='L'`` (Bunch-Kaufman diagonal pivoting), as
PyTorch's CPU kernel calls it, through SciPy's wrappers, one matrix of the batch at a time: LD holds
the unit lower triangular L below the diagonal and the block diagonal D (1x1 and 2x2 blocks) on
and under it; the strict upper triangle is zeroed, as PyTorch's. ``pivots`` are LAPACK's 1-based
int32 ipiv (a pair of equal negative entries marks a 2x2 block) and ``info`` is the 1-based index
of the first exactly-zero diagonal entry of D, or 0. The solve is ?sytrs. With the same LAPACK
algorithm the results equal PyTorch's bit for bit (SciPy's OpenBLAS and PyTorch's MKL agree on
small matrices; on large ones the blocked kernels round differently).

PyTorch has no derivative for either op: outputs of a float input that requires grad require grad,
and backward through them raises PyTorch's "derivative for aten::... is not implemented".

CuPy has no sytrf/sytrs (PyTorch's CUDA kernels call cuSOLVER's), so CUDA tensors raise
NotImplementedError rather than silently copying every batch to the host and back.
"""

import numpy as np

from .. import _backend as backend
from .batch_norm_primitives import DerivativeNotImplemented


def _lapack(dtype, *names):
    # scipy.linalg costs a third of a second to import and only these two functions use it.
    from scipy.linalg import lapack

    return lapack.get_lapack_funcs(names, dtype=dtype)


def _cpu_only(array, function):
    if backend.array_module(array) is not np:
        raise NotImplementedError(
            f"{function}: CUDA tensors are not supported by tinytorch (CuPy has no LAPACK sytrf/sytrs); "
            "move the tensors to the CPU with .cpu() first"
        )


def factor(array):
    """(LD, pivots, info) of a (..., n, n) float32/float64 NumPy array, read from its lower triangle."""
    _cpu_only(array, "linalg.ldl_factor")
    shape = array.shape
    n = shape[-1]
    stack = array.reshape((int(np.prod(shape[:-2])), n, n))
    LD = np.zeros(stack.shape, dtype=array.dtype)
    pivots = np.empty(stack.shape[:2], dtype=np.int32)
    info = np.zeros(stack.shape[0], dtype=np.int32)
    if n and stack.shape[0]:
        sytrf, sytrf_lwork = _lapack(array.dtype, "sytrf", "sytrf_lwork")
        work, _ = sytrf_lwork(n, lower=1)  # the optimal workspace, as PyTorch queries it: the blocked algorithm
        lwork = max(int(work), 1)
        for i, matrix in enumerate(stack):
            ld, ipiv, status = sytrf(matrix, lower=1, lwork=lwork)
            LD[i] = np.tril(ld)
            pivots[i] = ipiv
            info[i] = status
    return LD.reshape(shape), pivots.reshape(shape[:-1]), info.reshape(shape[:-2])


def solve(LD, pivots, B):
    """X with A X = B for A given as sytrf's (LD, pivots); the batch dims broadcast."""
    _cpu_only(LD, "linalg.ldl_solve")
    n, k = LD.shape[-1], B.shape[-1]
    batch = np.broadcast_shapes(LD.shape[:-2], B.shape[:-2])
    count = int(np.prod(batch))
    factors = np.broadcast_to(LD, batch + (n, n)).reshape((count, n, n))
    swaps = np.broadcast_to(pivots, batch + (n,)).reshape((count, n)).astype(np.int32, copy=False)
    rights = np.broadcast_to(B, batch + (n, k)).reshape((count, n, k))
    X = np.empty(rights.shape, dtype=B.dtype)
    if n and k and X.shape[0]:
        (sytrs,) = _lapack(LD.dtype, "sytrs")
        for i in range(X.shape[0]):
            X[i] = sytrs(factors[i], swaps[i], rights[i], lower=1)[0]
    return X.reshape(batch + (n, k))


def ldl_factor_ex(A):
    """(LD, pivots, info) tensors; LD requires grad when A does, and backward through it raises."""
    LD, pivots, info = factor(A._data)
    return DerivativeNotImplemented.apply("linalg_ldl_factor_ex", (LD, pivots, info), A)


def ldl_solve(LD, pivots, B):
    """X tensor with A X = B; X requires grad when LD or B does, and backward through it raises."""
    X = solve(LD._data, pivots._data, B._data)
    return DerivativeNotImplemented.apply("linalg_ldl_solve", (X,), LD, B)[0]
