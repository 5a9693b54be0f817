"""``tinytorch.linalg``: PyTorch's ``torch.linalg`` on NumPy (CPU) or CuPy (GPU).

Every function takes batches of matrices (leading dims), returns PyTorch's named tuples, and is
differentiable, twice where PyTorch is. Inverses, solves, determinants and decompositions are
primitives (tinytorch/_ops/linalg.py; the LU factorization, its solve and ``matrix_exp`` in
tinytorch/_ops/lu.py); the norms, ``lstsq``, ``matrix_power``, ``cross``, ``householder_product``,
``tensorinv`` and ``tensorsolve`` are built from tensor ops. Bad arguments raise PyTorch's exception with its words; a singular or
non-positive-definite matrix raises ``LinAlgError`` (a ``RuntimeError``): on a GPU at the next
synchronization, as tinytorch reports every data-dependent error there.
"""

import math
import numbers

import numpy as np

from . import _backend, _dtypes
from ._ops import linalg as _primitives, lu as _lu, products as _products
from ._ops import ldl as _ldl
from ._ops._util import write_out as _write_out
from ._ops._util import check_broadcast as _check_broadcast, check_same_device as _same_device, wrap as _wrap
from ._ops._util import normalize_dim as _normalize_dim, normalize_dims as _normalize_dims
from ._ops.binary import where as _where
from ._ops.linalg import LinAlgError
from ._ops.matmul import matmul as _matmul
from ._ops.movement import diagonal as _diagonal, movedim as _movedim
from ._ops.products import multi_dot
from ._ops.reduce import amax as _amax, amin as _amin, p_norm as _p_norm
from ._tensor import Tensor as _Tensor
from .autograd.grad_mode import no_grad as _no_grad, state as _grad_state

__all__ = [
    "LinAlgError", "cholesky", "cond", "cross", "det", "diagonal", "eigh", "eigvalsh", "inv", "lstsq", "matmul",
    "matrix_norm", "matrix_power", "matrix_rank", "norm", "pinv", "qr", "slogdet", "solve", "solve_triangular", "svd", "svdvals",
    "vecdot", "vector_norm", "multi_dot", "vander",
    "lu_factor", "lu_factor_ex", "lu", "lu_solve", "matrix_exp", "inv_ex", "cholesky_ex", "solve_ex", "tensorinv", "tensorsolve",
    "householder_product",
    "ldl_factor", "ldl_factor_ex", "ldl_solve",
]

_linalg_slogdet = _primitives.return_type("linalg_slogdet", ["sign", "logabsdet"])
_linalg_qr = _primitives.return_type("linalg_qr", ["Q", "R"])
_linalg_svd = _primitives.return_type("linalg_svd", ["U", "S", "Vh"])
_linalg_eigh = _primitives.return_type("linalg_eigh", ["eigenvalues", "eigenvectors"])
_linalg_lstsq = _primitives.return_type("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])
_linalg_lu_factor = _primitives.return_type("linalg_lu_factor", ["LU", "pivots"])
_linalg_lu_factor_ex = _primitives.return_type("linalg_lu_factor_ex", ["LU", "pivots", "info"])
_linalg_lu = _primitives.return_type("linalg_lu", ["P", "L", "U"])
_linalg_ldl_factor = _primitives.return_type("linalg_ldl_factor", ["LD", "pivots"])
_linalg_ldl_factor_ex = _primitives.return_type("linalg_ldl_factor_ex", ["LD", "pivots", "info"])
_linalg_inv_ex = _primitives.return_type("linalg_inv_ex", ["inverse", "info"])
_linalg_cholesky_ex = _primitives.return_type("linalg_cholesky_ex", ["L", "info"])
_linalg_solve_ex = _primitives.return_type("linalg_solve_ex", ["result", "info"])


# -- argument checks (PyTorch's words, from aten/src/ATen/native/LinearAlgebraUtils.h) ------------
def _tensor(x, function, name, position):
    if not isinstance(x, _Tensor):
        raise TypeError(f"{function}(): argument '{name}' (position {position}) must be Tensor, not {type(x).__name__}")


def _type(t):
    return _dtypes.scalar_type_name(t._data.dtype)


def _matrix(A, function, name="A"):
    if A._data.ndim < 2:
        raise RuntimeError(f"{function}: The input tensor {name} must have at least 2 dimensions.")


def _square(A, function, name="A"):
    _matrix(A, function, name)
    rows, cols = A._data.shape[-2:]
    if rows != cols:
        raise RuntimeError(f"{function}: {name} must be batches of square matrices, but they are {rows} by {cols} matrices")


def _floating(A, function, low_precision=True):
    if A._data.dtype.kind != "f":
        raise RuntimeError(f"{function}: Expected a floating point or complex tensor as input. Got {_type(A)}")
    if not low_precision and A._data.dtype == np.float16:
        raise RuntimeError(f"{function}: Low precision dtypes not supported. Got Half")


def _kernel(A, kernel):
    """LAPACK has float32 and float64 routines only: PyTorch's dispatcher refuses the rest so."""
    if A._data.dtype not in (np.float32, np.float64):
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_type(A)}'")


def _broadcast_batch(shape_a, shape_b):
    """Broadcast two batch shapes; PyTorch's infer_size message when they do not."""
    _check_broadcast(shape_a, shape_b)
    return tuple(np.broadcast_shapes(tuple(shape_a), tuple(shape_b)))


def _records(t):
    """Whether an op on ``t`` records a graph (then decompositions keep what backward needs)."""
    return _grad_state.enabled and t.requires_grad


# -- inverses and solves ------------------------------------------------------------------------
def inv(A):
    """The inverse of each square matrix of ``A``; ``LinAlgError`` when one is singular."""
    _tensor(A, "linalg_inv", "A", 1)
    _square(A, "linalg.inv")
    _floating(A, "linalg.inv", low_precision=False)
    return _primitives.Inv.apply(A, "linalg.inv")


def solve(A, B, *, left=True):
    """X with ``A X = B`` (``X A = B`` when ``left=False``); ``B`` is a vector or a batch of vectors
    when its shape is ``A.shape[:-1]`` (or it is 1-D), and batch dims broadcast."""
    _tensor(A, "linalg_solve", "A", 1)
    _tensor(B, "linalg_solve", "B", 2)
    return _solve(A, B, left, "torch.linalg.solve")


def _solve(A, B, left, name):
    """solve's checks and solution; ``name``: the function a singular matrix is reported for
    (None: not checked, as solve_ex)."""
    _floating(A, "linalg.solve")
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(
            f"linalg.solve: Expected A and B to have the same dtype, but found A of type {_type(A)} and B of type {_type(B)} instead"
        )
    vector = B._data.ndim == 1 or (A._data.ndim - 1 == B._data.ndim and B._data.shape == A._data.shape[:-1])
    B_ = B.unsqueeze(-1) if vector else B
    _square(A, "linalg.solve")
    _matrix(B_, "linalg.solve", "B")
    n = A._data.shape[-1]
    if (B_._data.shape[-2] if left else B_._data.shape[-1]) != n:
        raise RuntimeError(
            f"linalg.solve: Incompatible shapes of A and B for the equation {'AX = B' if left else 'XA = B'} "
            f"({n}x{n} and {B_._data.shape[-2]}x{B_._data.shape[-1]})"
        )
    _broadcast_batch(B_._data.shape[:-2], A._data.shape[:-2])
    if not left and vector:
        raise RuntimeError(
            "linalg.solve: Vector broadcasting of the left hand side is not supported for left=False. "
            "In this case linalg.solve is equivalent to B / A.squeeze(-1)"
        )
    _same_device(A, B)
    _kernel(A, "lu_cpu")
    if left:
        X = _primitives.Solve.apply(A, B_, name)
    else:  # X A = B is A^T X^T = B^T
        X = _primitives.Solve.apply(A.mT, B_.mT, name).mT
    return X.squeeze(-1) if vector else X


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """X with ``A X = B`` (``X A = B`` when ``left=False``) for a triangular ``A``: only its upper
    (``upper=True``) or lower triangle is read, and its diagonal is taken as ones when
    ``unitriangular``. Batch dims broadcast. A composite: the triangle goes through ``tril`` /
    ``triu`` (so the gradient of ``A`` stays in it) and the general solver, which gives the
    same values; a zero on the diagonal gives NaN where PyTorch's substitution gives inf/NaN."""
    _tensor(A, "linalg_solve_triangular", "A", 1)
    _tensor(B, "linalg_solve_triangular", "B", 2)
    _floating(A, "linalg.solve_triangular")
    _floating(B, "linalg.solve_triangular")
    _square(A, "linalg.solve_triangular")
    _matrix(B, "linalg.solve_triangular", "B")
    n = A._data.shape[-1]
    if (B._data.shape[-2] if left else B._data.shape[-1]) != n:
        raise RuntimeError(
            f"linalg.solve_triangular: Incompatible shapes of A and B for the equation {'AX = B' if left else 'XA = B'} "
            f"({n}x{n} and {B._data.shape[-2]}x{B._data.shape[-1]})"
        )
    _broadcast_batch(B._data.shape[:-2], A._data.shape[:-2])
    _same_device(A, B)
    if A._data.dtype != B._data.dtype:
        common = _dtypes.from_numpy_dtype(np.promote_types(A._data.dtype, B._data.dtype))
        A, B = A.to(common), B.to(common)
    _kernel(A, "triangular_solve_cpu")
    if unitriangular:
        xp = _backend.array_module(A._data)
        T = (A.triu(1) if upper else A.tril(-1)) + _wrap(xp.eye(n, dtype=A._data.dtype))
    else:
        T = A.triu() if upper else A.tril()
    if left:
        return _primitives.Solve.apply(T, B, None)
    return _primitives.Solve.apply(T.mT, B.mT, None).mT  # X A = B is A^T X^T = B^T


def pinv(A, rcond=None, hermitian=False, *, atol=None, rtol=None):
    """The Moore-Penrose pseudo-inverse: singular values (absolute eigenvalues when ``hermitian``)
    at or below ``max(atol, rtol * largest)`` count as zero. ``rtol`` defaults to
    ``eps * max(m, n)``, or to 0 when ``atol`` is positive; ``rcond`` is the old name of ``rtol``."""
    _tensor(A, "linalg_pinv", "input", 1)
    if rcond is not None:
        if atol is not None or rtol is not None:
            raise TypeError("linalg_pinv() received an invalid combination of arguments: rcond cannot be given with atol or rtol")
        rtol = rcond
    if A._data.ndim < 2 or A._data.dtype not in (np.float32, np.float64):
        raise RuntimeError(
            f"linalg.pinv({_type(A)}{{{list(A._data.shape)}}}): expected a tensor with 2 or more dimensions "
            "of float, double, cfloat or cdouble types"
        )
    if hermitian:
        _square(A, "linalg.eigh")
    atol_array, rtol_array = _tolerances(A, atol, rtol)
    return _primitives.Pinv.apply(A, atol_array, rtol_array, hermitian)


def _tolerances(A, atol, rtol):
    """pinv's and matrix_rank's (atol, rtol) as arrays over A's batch: atol defaults to 0, rtol to
    eps * max(m, n), or to 0 where atol is positive. Either may be a number or a tensor."""
    data = A._data
    xp = _backend.array_module(data)
    batch = data.shape[:-2]

    def array(value):
        if isinstance(value, _Tensor):
            _same_device(A, value)
            value = value._data
        with _backend.on_device(A.device):
            value = xp.asarray(value, dtype=data.dtype)
        _broadcast_batch(value.shape + (1,), batch + (1,))
        return xp.broadcast_to(value, np.broadcast_shapes(value.shape, batch))

    default_rtol = float(np.finfo(data.dtype).eps) * max(data.shape[-2:])
    atol_array = array(0.0 if atol is None else atol)
    if rtol is not None:
        return atol_array, array(rtol)
    if atol is None:
        return atol_array, array(default_rtol)
    return atol_array, xp.where(atol_array > 0, 0.0, default_rtol).astype(data.dtype)  # a positive atol alone: no rtol


def lstsq(A, B, rcond=None, *, driver=None):
    """A least-squares solution of ``A X = B`` with its residuals, the rank of ``A`` and its singular
    values, each computed as PyTorch's LAPACK ``driver`` would ('gelsy' on the CPU, 'gels' on a GPU
    by default). The solution is ``pinv(A) @ B`` with singular values below ``rcond`` times the
    largest dropped (none for 'gels', which assumes full rank): the minimum-norm solution,
    differentiable as PyTorch's (through the pseudo-inverse)."""
    _tensor(A, "linalg_lstsq", "self", 1)
    _tensor(B, "linalg_lstsq", "b", 2)
    if A._data.ndim < 2:
        raise RuntimeError("torch.linalg.lstsq: input must have at least 2 dimensions.")
    if B._data.ndim < 1:
        raise RuntimeError("torch.linalg.lstsq: other must have at least 1 dimension.")
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(
            f"torch.linalg.lstsq: Expected input and other to have the same dtype, but got input's dtype {_type(A)} "
            f"and other's dtype {_type(B)}"
        )
    difference = A._data.ndim - B._data.ndim
    if not 0 <= difference <= 1:
        raise RuntimeError(
            "torch.linalg.lstsq: input.dim() must be greater or equal to other.dim() and (input.dim() - other.dim()) <= 1"
        )
    # B is a (batch of) vector(s) as for solve: 1-D, or of shape A.shape[:-1].
    vector = B._data.ndim == 1 or (difference == 1 and B._data.shape == A._data.shape[:-1])
    B_ = B.unsqueeze(-1) if vector else B
    if A._data.shape[-2] != B_._data.shape[-2]:
        raise RuntimeError(f"torch.linalg.lstsq: input.size(-2) should match other.size(-{1 if vector else 2})")
    if driver is None:
        driver = "gelsy" if A.device.type == "cpu" else "gels"
    if driver not in ("gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")
    if A._data.dtype not in (np.float32, np.float64):
        raise RuntimeError("This function doesn't handle types other than float and double")
    _broadcast_batch(A._data.shape[:-2], B_._data.shape[:-2])
    _same_device(A, B)
    m, n = A._data.shape[-2:]
    if rcond is None:
        rcond = float(np.finfo(A._data.dtype).eps) * max(m, n)
    solution = pinv(A, atol=0.0, rtol=0.0 if driver == "gels" else rcond) @ B_
    xp = _backend.array_module(A._data)
    with _backend.on_device(A.device):
        empty_float, rank = _wrap(xp.zeros((0,), dtype=A._data.dtype)), _wrap(xp.zeros((0,), dtype=np.int64))
    singular_values = empty_float
    full_rank = True
    if driver != "gels":
        values = svdvals(A.detach())
        kept = values > rcond * values.narrow(-1, 0, 1) if min(m, n) else values > 0
        rank = kept.sum(-1)
        if driver != "gelsy":
            singular_values = values
        if m > n and driver != "gelsy":
            full_rank = bool((rank == n).all())  # PyTorch reads this back too (there are no residuals otherwise)
    if m > n and driver != "gelsy" and full_rank:
        residuals = ((A @ solution - B_) ** 2).sum(-2)
    else:
        residuals = empty_float
    return _linalg_lstsq(solution.squeeze(-1) if vector else solution, residuals, rank, singular_values)


def matrix_power(A, n):
    """A to the integer power n (``A^-k`` is ``inv(A)^k``), by repeated squaring."""
    _tensor(A, "linalg_matrix_power", "input", 1)
    if not isinstance(n, numbers.Integral) or isinstance(n, bool):
        raise TypeError(f"linalg_matrix_power(): argument 'n' (position 2) must be int, not {type(n).__name__}")
    _square(A, "linalg.matrix_power")
    if A._data.dtype == np.bool_:
        raise NotImplementedError("\"addmm_impl_cpu_\" not implemented for 'Bool'")
    if n == 0:
        xp = _backend.array_module(A._data)
        with _backend.on_device(A.device):
            identity = _wrap(xp.broadcast_to(xp.eye(A._data.shape[-1], dtype=A._data.dtype), A._data.shape).copy())
        # Connected to A with a zero gradient, as PyTorch's (an empty slice's sum: 0 even for inf/NaN).
        return identity + A.narrow(-1, 0, 0).sum() if _records(A) else identity
    if n < 0:
        A, n = inv(A), -n
    if n == 1:
        return A.clone()
    result = power = None
    while n:
        power = A if power is None else power @ power
        if n & 1:
            result = power if result is None else result @ power
        n >>= 1
    return result


def cross(input, other, *, dim=-1):
    """The cross product of 3-vectors along ``dim``; the other dims broadcast."""
    _tensor(input, "linalg_cross", "input", 1)
    _tensor(other, "linalg_cross", "other", 2)
    if input._data.ndim != other._data.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    d = _normalize_dim(dim, input._data.ndim)
    if input._data.shape[d] != 3 or other._data.shape[d] != 3:
        raise RuntimeError(
            f"linalg.cross: inputs dimension {dim} must have length 3. Got {input._data.shape[d]} and {other._data.shape[d]}"
        )
    _broadcast_batch(input._data.shape, other._data.shape)
    if input._data.dtype != other._data.dtype:
        raise RuntimeError(f"expected scalar type {_type(input)} but found {_type(other)}")
    if input._data.dtype == np.bool_:
        raise NotImplementedError("\"cross\" not implemented for 'Bool'")
    _same_device(input, other)
    # c_i = a_{i+1} b_{i+2} - a_{i+2} b_{i+1}, indices mod 3: two rolls of each operand.
    return input.roll(-1, d) * other.roll(-2, d) - input.roll(-2, d) * other.roll(-1, d)


# -- determinants -------------------------------------------------------------------------------
def det(A):
    """The determinant of each square matrix."""
    _tensor(A, "linalg_det", "A", 1)
    _square(A, "linalg.det")
    _floating(A, "linalg.det")
    _kernel(A, "lu_cpu")
    return _primitives.Det.apply(A)


def slogdet(A):
    """(sign, log|det|) of each square matrix: a determinant that would overflow or underflow."""
    _tensor(A, "linalg_slogdet", "A", 1)
    _square(A, "linalg.slogdet")
    _floating(A, "linalg.slogdet", low_precision=False)
    return _linalg_slogdet(*_primitives.Slogdet.apply(A))


# -- decompositions ----------------------------------------------------------------------------
def cholesky(A, *, upper=False):
    """L (lower triangular, positive diagonal) with ``A = L L^T``, or U with ``A = U^T U`` when
    ``upper``; ``LinAlgError`` when a matrix is not positive-definite."""
    _tensor(A, "linalg_cholesky", "A", 1)
    _square(A, "linalg.cholesky")
    _floating(A, "linalg.cholesky")
    _kernel(A, "cholesky_cpu")
    return _primitives.Cholesky.apply(A, upper, "linalg.cholesky")


def qr(A, mode="reduced"):
    """(Q, R) with ``A = Q R``: ``mode`` 'reduced' (Q is m x k, k = min(m, n)), 'complete' (Q is
    m x m) or 'r' (R only; Q is empty and nothing is differentiable)."""
    _tensor(A, "linalg_qr", "A", 1)
    _matrix(A, "linalg.qr")
    _floating(A, "linalg.qr")
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', or 'complete'")
    _kernel(A, "geqrf_cpu")
    return _linalg_qr(*_primitives.Qr.apply(A, mode))


def _check_svd(A, driver):
    _matrix(A, "linalg.svd")
    _floating(A, "linalg.svd")
    _kernel(A, "linalg_svd_cpu")
    if driver is not None:
        if A.device.type == "cpu":
            raise RuntimeError("torch.linalg.svd: keyword argument `driver=` is only supported on CUDA inputs with cuSOLVER _backend.")
        if driver not in ("gesvd", "gesvdj", "gesvda"):
            raise RuntimeError(f"torch.linalg.svd: unknown svd driver {driver} in svd_cusolver computation. Available options are: gesvd, gesvdj, gesvda")


def svd(A, full_matrices=True, *, driver=None):
    """(U, S, Vh) with ``A = U diag(S) Vh``, singular values descending; ``full_matrices=False``
    gives the reduced factors. On a GPU ``driver`` is accepted and CuPy chooses the routine.
    Gradients through U or Vh need distinct singular values (and a loss that does not depend on
    their signs), as in PyTorch."""
    _tensor(A, "linalg_svd", "A", 1)
    _check_svd(A, driver)
    return _linalg_svd(*_primitives.Svd.apply(A, full_matrices, True))


def svdvals(A, *, driver=None):
    """The singular values of each matrix, descending."""
    _tensor(A, "linalg_svdvals", "A", 1)
    _check_svd(A, driver)
    if _records(A):  # the gradient U diag(g) Vh needs the vectors, kept as outputs for create_graph
        return _primitives.Svd.apply(A, False, True)[1]
    return _primitives.Svd.apply(A, False, False)


def _check_eigh(A, UPLO):
    _square(A, "linalg.eigh")
    if UPLO not in ("L", "U", "l", "u"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    _kernel(A, "linalg_eigh_cpu")
    return UPLO.upper()


def eigh(A, UPLO="L"):
    """(eigenvalues ascending, orthonormal eigenvectors as columns) of each symmetric matrix, read
    from its lower (``UPLO='L'``) or upper triangle. Gradients through the eigenvectors need
    distinct eigenvalues (and a loss that does not depend on their signs), as in PyTorch."""
    _tensor(A, "linalg_eigh", "A", 1)
    uplo = _check_eigh(A, UPLO)
    return _linalg_eigh(*_primitives.Eigh.apply(A, uplo, True))


def eigvalsh(A, UPLO="L"):
    """The eigenvalues (ascending) of each symmetric matrix."""
    _tensor(A, "linalg_eigvalsh", "A", 1)
    uplo = _check_eigh(A, UPLO)
    if _records(A):
        return _primitives.Eigh.apply(A, uplo, True)[0]
    return _primitives.Eigh.apply(A, uplo, False)


# -- the LU factorization, its solve, and the matrix exponential (tinytorch/_ops/lu.py) -------------
def _check_lu(A, function, pivot):
    if A._data.ndim < 2:
        raise RuntimeError(f"{function}: Expected tensor with 2 or more dimensions. Got size: {list(A._data.shape)} instead")
    _kernel(A, "lu_cpu")
    if not pivot and A.device.type == "cpu":
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")


def _check_info(info, name, message, error=LinAlgError):
    """Raise ``error`` for the first nonzero ``info`` (at once on the CPU, at the next
    synchronization on a GPU), naming the batch element as PyTorch's _linalg_check_errors."""
    data = info._data

    def fail():
        host = _backend.to_numpy(data)
        flat = host.reshape(-1)
        index = int(np.flatnonzero(flat)[0])
        where = "" if host.ndim == 0 else f"(Batch element {index}): "
        raise error(f"{name}: {where}{message(int(flat[index]))}")

    if data.size:
        _backend.check_later((data != 0).any(), fail)


def _zero_pivot(info):
    return (f"U[{info},{info}] is zero and using it on lu_solve would result in a division by zero. If you still want to "
            "perform the factorization, consider calling linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")


def lu_factor_ex(A, *, pivot=True, check_errors=False):
    """(LU, pivots, info): ``lu_factor`` that reports a zero pivot in ``info`` (the 1-based column
    of the first, or 0) instead of raising, unless ``check_errors``."""
    _tensor(A, "linalg_lu_factor_ex", "A", 1)
    _check_lu(A, "torch.lu_factor", pivot)
    LU, pivots, info = _lu.LuFactor.apply(A, pivot)
    if check_errors:
        _check_info(info, "torch.linalg.lu_factor_ex", _zero_pivot, RuntimeError)
    return _linalg_lu_factor_ex(LU, pivots, info)


def lu_factor(A, *, pivot=True):
    """(LU, pivots): the LU factorization with partial pivoting of each (m, n) matrix in LAPACK's
    packed form (L's multipliers below the diagonal, U on and above it; ``pivots`` int32 and
    1-based: row i was swapped with row pivots[i] - 1). RuntimeError when a pivot is zero.
    ``pivot=False`` (no row swaps) is accepted on a GPU only, as in PyTorch."""
    _tensor(A, "linalg_lu_factor", "A", 1)
    _check_lu(A, "torch.lu_factor", pivot)
    LU, pivots, info = _lu.LuFactor.apply(A, pivot)
    _check_info(info, "torch.linalg.lu_factor", _zero_pivot, RuntimeError)
    return _linalg_lu_factor(LU, pivots)


def lu(A, *, pivot=True):
    """(P, L, U) with ``A = P L U``: P a permutation matrix (m x m), L unit lower triangular
    (m x k), U upper triangular (k x n), k = min(m, n). Differentiable through L and U."""
    _tensor(A, "linalg_lu", "A", 1)
    _check_lu(A, "linalg.lu", pivot)
    LU, pivots, _ = _lu.LuFactor.apply(A, pivot)
    P, L, U = _lu.unpack(LU, _lu.permutation(pivots._data, A._data.shape[-2]) if pivot else None)
    if P is None:  # PyTorch's P is empty without pivoting
        with _backend.on_device(A.device):
            P = _wrap(_backend.array_module(A._data).zeros((0,), dtype=A._data.dtype))
    return _linalg_lu(P, L, U)


def lu_solve(LU, pivots, B, *, left=True, adjoint=False):
    """X with ``A X = B`` for A given by ``lu_factor`` as (LU, pivots); ``adjoint`` solves with
    A^T, ``left=False`` solves ``X A = B``. Batch dims of LU and B broadcast. Differentiable
    with respect to LU and B."""
    _tensor(LU, "linalg_lu_solve", "LU", 1)
    _tensor(pivots, "linalg_lu_solve", "pivots", 2)
    _tensor(B, "linalg_lu_solve", "B", 3)
    _floating(LU, "torch.linalg.lu_solve")
    if LU._data.dtype != B._data.dtype:
        raise RuntimeError(
            f"linalg.lu_solve: Expected LU and B to have the same dtype, but found LU of type {_type(LU)} and B of type "
            f"{_type(B)} instead"
        )
    if pivots._data.dtype != np.int32:
        raise RuntimeError("linalg.lu_solve: pivots should be a Tensor of scalar type torch.int32")
    _square(LU, "torch.linalg.lu_solve")
    _matrix(B, "linalg.lu_solve", "B")
    n = LU._data.shape[-1]
    if (B._data.shape[-2] if left else B._data.shape[-1]) != n:
        raise RuntimeError(
            f"linalg.lu_solve: Incompatible shapes of A and B for the equation {'AX = B' if left else 'XA = B'} "
            f"({n}x{n} and {B._data.shape[-2]}x{B._data.shape[-1]})"
        )
    if pivots._data.ndim == 0 or pivots._data.shape[-1] != n:
        raise RuntimeError("linalg.lu_solve: Number of pivots per batch should be same as the dimension of the matrix")
    if pivots._data.shape != LU._data.shape[:-1]:
        raise RuntimeError(
            "linalg.lu_solve: Expected LU.shape[:-1] and pivots.shape to be the same, but got pivots with shape "
            f"{list(pivots._data.shape)} instead"
        )
    _broadcast_batch(B._data.shape[:-2], LU._data.shape[:-2])
    _same_device(LU, pivots)
    _same_device(LU, B)
    _kernel(LU, "linalg.lu_solve_cpu")
    if left:
        return _lu.LuSolve.apply(LU, pivots, B, adjoint)
    # X A = B is A^T X^T = B^T (and X A^T = B is A X^T = B^T)
    return _lu.LuSolve.apply(LU, pivots, B.mT, not adjoint).mT


# -- the LDL factorization of symmetric matrices and its solve (tinytorch/_ops/ldl.py) ------------
def _flag(value, function, name):
    if value is not True and value is not False:
        raise TypeError(f"{function}(): argument '{name}' must be bool, not {type(value).__name__}")


def _write_outs(out, results, function):
    """PyTorch's ``out=(...)`` of a multi-output linalg op: a tuple (or list) of as many tensors,
    each of exactly its result's dtype, resized (with PyTorch's warning when not empty) and filled."""
    if not isinstance(out, (tuple, list)):
        raise TypeError(f"{function}(): argument 'out' must be tuple of Tensors, not {type(out).__name__}")
    if len(out) != len(results):
        raise TypeError(f"expected tuple of {len(results)} elements but got {len(out)}")
    for i, target in enumerate(out):
        if not isinstance(target, _Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument {len(out)}, but got {type(target).__name__}")
    return tuple(_write_out_exact(target, result, function) for target, result in zip(out, results))


def _write_out_exact(target, result, function):
    if not isinstance(target, _Tensor):
        raise TypeError(f"{function}(): argument 'out' must be Tensor, not {type(target).__name__}")
    if target._data.dtype != result._data.dtype:
        raise RuntimeError(
            f"Expected out tensor to have dtype {_dtypes.cpp_type_name(result._data.dtype)}, but got "
            f"{_dtypes.cpp_type_name(target._data.dtype)} instead"
        )
    with _no_grad():  # PyTorch has no derivative here, so an input that requires grad is no error
        return _write_out(target, function, lambda value: value, result)


def _check_ldl_factor(A, function, hermitian, check_errors=False):
    _tensor_input(A, function)
    _flag(hermitian, function, "hermitian")
    _flag(check_errors, function, "check_errors")
    _square(A, "torch.linalg.ldl_factor_ex")
    _floating(A, "torch.linalg.ldl_factor_ex")
    _kernel(A, "ldl_factor_kernel_cpu")


def _tensor_input(A, function):
    if not isinstance(A, _Tensor):
        raise TypeError(f"{function}(): argument 'input' (position 1) must be Tensor, not {type(A).__name__}")


def _unknown_info(info):
    # PyTorch's _linalg_check_errors has no words for sytrf's info (an internal assert): its tail.
    return f"Unknown error code: {info}."


def _check_ldl_info(info, name):
    data = info._data

    def fail():
        flat = _backend.to_numpy(data).reshape(-1)
        raise RuntimeError(f"{name}: {_unknown_info(int(flat[np.flatnonzero(flat)[0]]))}")

    if data.size:
        _backend.check_later((data != 0).any(), fail)


def ldl_factor_ex(A, *, hermitian=False, check_errors=False, out=None):
    """(LD, pivots, info): the LDL factorization A = L D L^T of each symmetric matrix (its lower
    triangle is read) in LAPACK sytrf's compact form (Bunch-Kaufman pivoting: 1-based int32
    ``pivots``, a pair of equal negative ones marking a 2x2 block of D); ``info`` is the 1-based
    index of the first zero diagonal entry of D, or 0. Raises on a nonzero ``info`` only with
    ``check_errors``. ``hermitian`` has no effect on real matrices. Not differentiable (as in PyTorch)."""
    _check_ldl_factor(A, "linalg_ldl_factor_ex", hermitian, check_errors)
    LD, pivots, info = _ldl.ldl_factor_ex(A)
    if check_errors:
        _check_ldl_info(info, "torch.linalg.ldl_factor_ex")
    if out is not None:
        LD, pivots, info = _write_outs(out, (LD, pivots, info), "linalg_ldl_factor_ex")
    return _linalg_ldl_factor_ex(LD, pivots, info)


def ldl_factor(A, *, hermitian=False, out=None):
    """(LD, pivots): ``ldl_factor_ex`` that raises RuntimeError when D has a zero diagonal entry."""
    _check_ldl_factor(A, "linalg_ldl_factor", hermitian)
    LD, pivots, info = _ldl.ldl_factor_ex(A)
    _check_ldl_info(info, "torch.linalg.ldl_factor")
    if out is not None:
        LD, pivots = _write_outs(out, (LD, pivots), "linalg_ldl_factor")
    return _linalg_ldl_factor(LD, pivots)


def ldl_solve(LD, pivots, B, *, hermitian=False, out=None):
    """X with A X = B for A given by ``ldl_factor`` as (LD, pivots) (LAPACK's sytrs); the batch
    dims of LD and B broadcast. ``B`` may be passed as ``out``. Not differentiable (as in PyTorch)."""
    function = "torch.linalg.ldl_solve"
    _tensor(LD, "linalg_ldl_solve", "LD", 1)
    _tensor(pivots, "linalg_ldl_solve", "pivots", 2)
    _tensor(B, "linalg_ldl_solve", "B", 3)
    _flag(hermitian, "linalg_ldl_solve", "hermitian")
    if out is not None and not isinstance(out, _Tensor):
        raise TypeError(f"linalg_ldl_solve(): argument 'out' must be Tensor, not {type(out).__name__}")
    _square(LD, function)
    _floating(LD, function)
    if pivots._data.dtype.kind not in "iu":
        raise RuntimeError(f"{function}: Expected pivots to be integers. Got {_type(pivots)}")
    if pivots._data.shape != LD._data.shape[:-1]:
        raise RuntimeError(
            f"{function}: Expected LD.shape[:-1] and pivots.shape to be the same, but got pivots with shape "
            f"{list(pivots._data.shape)} instead"
        )
    if B._data.ndim < 2:
        raise IndexError("Dimension out of range (expected to be in range of [-1, 0], but got -2)")
    n = LD._data.shape[-1]
    if B._data.shape[-2] != n:
        raise RuntimeError(
            f"Incompatible matrix sizes for {function}: each A matrix is {n} by {n} but each b matrix is "
            f"{B._data.shape[-2]} by {B._data.shape[-1]}"
        )
    if B._data.dtype != LD._data.dtype:
        raise RuntimeError(
            f"Expected b and A to have the same dtype, but found b of type {_type(B)} and A of type {_type(LD)} instead."
        )
    _broadcast_batch(B._data.shape[:-2], LD._data.shape[:-2])
    _same_device(LD, pivots)
    _same_device(LD, B)
    _kernel(LD, "ldl_solve_kernel_cpu")
    if pivots._data.size and _backend.array_module(pivots._data) is np:  # sytrs would read out of bounds
        size = np.abs(pivots._data)
        if (size < 1).any():
            raise RuntimeError("Pivots given to ldl_solve must all satisfy |pivot| >= 1. Did you properly pass the result of ldl_factor?")
        if (size > n).any():
            raise RuntimeError(
                "Pivots given to ldl_solve must all satisfy |pivot| <= LD.size(-2). Did you properly pass the result of ldl_factor?"
            )
    X = _ldl.ldl_solve(LD, pivots, B)
    return X if out is None else _write_out_exact(out, X, "linalg_ldl_solve")


def matrix_exp(A):
    """exp(A) = sum_k A^k / k! of each square matrix, by scaling and squaring with a Pade
    approximant; differentiable twice (the gradient is a matrix exponential too)."""
    _tensor(A, "linalg_matrix_exp", "input", 1)
    _square(A, "linalg.matrix_exp")
    _floating(A, "linalg.matrix_exp")
    return _lu.MatrixExp.apply(A)


def householder_product(A, tau):
    """The first n columns of H_1 H_2 ... H_k, H_i = I - tau_i v_i v_i^T, with v_i column i of A
    below the diagonal and 1 on it (LAPACK's orgqr: Q from geqrf's reflectors). A composite of
    k rank-1 updates, so differentiable twice."""
    _tensor(A, "linalg_householder_product", "input", 1)
    _tensor(tau, "linalg_householder_product", "tau", 2)
    name = "torch.linalg.householder_product"
    shape = A._data.shape
    if len(shape) < 2:
        raise RuntimeError(f"{name}: input must have at least 2 dimensions.")
    m, n = shape[-2:]
    if m < n:
        raise RuntimeError(f"{name}: input.shape[-2] must be greater than or equal to input.shape[-1]")
    k = tau._data.shape[-1] if tau._data.ndim else 1
    if n < k:
        raise RuntimeError(f"{name}: input.shape[-1] must be greater than or equal to tau.shape[-1]")
    if len(shape) - tau._data.ndim != 1:
        raise RuntimeError(
            f"{name}: Expected tau to have one dimension less than input, but got tau.ndim equal to {tau._data.ndim} "
            f"and input.ndim is equal to {len(shape)}"
        )
    if len(shape) > 2 and tau._data.shape[:-1] != shape[:-2]:
        raise RuntimeError(
            f"{name}: Expected batch dimensions of tau to be equal to input.shape[:-2], but got {list(tau._data.shape[:-1])}"
        )
    if tau._data.dtype != A._data.dtype:
        raise RuntimeError(f"{name}: tau dtype {_type(tau)} does not match input dtype {_type(A)}")
    _same_device(A, tau)
    _kernel(A, "orgqr_cpu")
    xp = _backend.array_module(A._data)
    with _backend.on_device(A.device):
        eye = xp.eye(m, dtype=A._data.dtype)
        Q = _wrap(xp.ascontiguousarray(xp.broadcast_to(eye[:, :n], shape)))
        below = xp.tril(xp.ones((m, n), dtype=A._data.dtype), -1)
    reflectors = A * _wrap(below) + _wrap(eye[:, :n].copy())  # v_i: the columns, unit diagonal
    for i in range(k - 1, -1, -1):  # Q = H_i Q, from the last reflector to the first
        v = reflectors.narrow(-1, i, 1)
        Q = Q - (tau.narrow(-1, i, 1).unsqueeze(-1) * v) @ (v.mT @ Q)
    if not k and (_records(A) or _records(tau)):  # connected with a zero gradient, as PyTorch's
        Q = Q + A.narrow(-1, 0, 0).sum() + tau.sum()
    return Q


# -- the _ex variants: an ``info`` tensor instead of an error --------------------------------------
def inv_ex(A, *, check_errors=False):
    """(inverse, info): ``inv`` that reports a singular matrix in ``info`` (LAPACK's: the 1-based
    column of the first zero pivot of its LU, int32) instead of raising, unless ``check_errors``.
    The inverse of a singular matrix is not finite."""
    _tensor(A, "linalg_inv_ex", "A", 1)
    _square(A, "linalg.inv")
    _floating(A, "linalg.inv", low_precision=False)
    inverse = _primitives.Inv.apply(A, None)
    info = _wrap(_lu.singular_info(A._data))
    if check_errors:
        _check_info(info, "linalg.inv_ex", lambda i: (
            f"The diagonal element {i} is zero, the inversion could not be completed because the input matrix is singular."))
    return _linalg_inv_ex(inverse, info)


def cholesky_ex(A, *, upper=False, check_errors=False):
    """(L, info): ``cholesky`` that reports a matrix that is not positive-definite in ``info`` (the
    order of its first leading minor that is not, int32) instead of raising, unless
    ``check_errors``; L then holds LAPACK's partial factor."""
    _tensor(A, "linalg_cholesky_ex", "input", 1)
    _square(A, "linalg.cholesky")
    _floating(A, "linalg.cholesky")
    _kernel(A, "cholesky_cpu")
    L = _primitives.Cholesky.apply(A, upper, None)
    data = L._data
    xp = _backend.array_module(data)
    if xp is np and bool((np.diagonal(data, axis1=-2, axis2=-1) > 0).all() and np.isfinite(data).all()):
        info = _wrap(np.zeros(data.shape[:-2], dtype=np.int32))  # LAPACK factored every matrix
    else:
        source = A._data.swapaxes(-2, -1) if upper else A._data
        partial, info_data = _lu.cholesky_info(source)
        failed = _wrap(info_data != 0)[..., None, None]
        L = _where(failed, _wrap(partial.swapaxes(-2, -1).copy() if upper else partial), L)
        info = _wrap(info_data)
    if check_errors:
        _check_info(info, "linalg.cholesky_ex", lambda i: (
            "The factorization could not be completed because the input is not positive-definite (the leading minor of "
            f"order {i} is not positive-definite)."))
    return _linalg_cholesky_ex(L, info)


def solve_ex(A, B, *, left=True, check_errors=False):
    """(result, info): ``solve`` that reports a singular ``A`` in ``info`` (as ``inv_ex``) instead
    of raising, unless ``check_errors``."""
    _tensor(A, "linalg_solve_ex", "A", 1)
    _tensor(B, "linalg_solve_ex", "B", 2)
    result = _solve(A, B, left, None)
    info = _wrap(_lu.singular_info(A._data))
    if check_errors:
        _check_info(info, "torch.linalg.solve_ex", lambda i: "The solver failed because the input matrix is singular.")
    return _linalg_solve_ex(result, info)


# -- tensor forms of inv and solve ---------------------------------------------------------------
def tensorinv(A, ind=2):
    """The inverse of ``A`` as a tensor: ``tensordot(tensorinv(A, ind), A, ind)`` is the identity;
    the result has shape ``A.shape[ind:] + A.shape[:ind]``."""
    _tensor(A, "linalg_tensorinv", "input", 1)
    if not isinstance(ind, numbers.Integral) or isinstance(ind, bool):
        raise TypeError(f"linalg_tensorinv(): argument 'ind' must be int, not {type(ind).__name__}")
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    shape = A._data.shape
    rows, columns = math.prod(shape[:ind]), math.prod(shape[ind:])
    if rows != columns:
        raise RuntimeError(
            "Expected self to satisfy the requirement prod(self.shape[ind:]) == prod(self.shape[:ind]), but got "
            f"{columns} != {rows}"
        )
    matrix = A.reshape(rows, columns)
    _square(matrix, "linalg.inv")
    _floating(matrix, "linalg.inv", low_precision=False)
    return _primitives.Inv.apply(matrix, "inv").reshape(*shape[ind:], *shape[:ind])


def tensorsolve(A, B, dims=None):
    """X with ``tensordot(A, X, X.ndim) = B``: the dims of A past B's are X's shape (``dims``
    moves those dims of A to the end first)."""
    _tensor(A, "linalg_tensorsolve", "input", 1)
    _tensor(B, "linalg_tensorsolve", "other", 2)
    if dims is not None:
        dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
        ndim = A._data.ndim
        A = _movedim(A, dims, tuple(range(ndim - len(dims), ndim)))
    shape = A._data.shape[B._data.ndim:]
    size, other = math.prod(shape), B._data.size
    if size != other:
        raise RuntimeError(
            "Expected self to satisfy the requirement prod(self.shape[other.ndim:]) == prod(self.shape[:other.ndim]), "
            f"but got {size} != {other}"
        )
    return solve(A.reshape(size, size), B.flatten()).reshape(*shape)


# -- norms -------------------------------------------------------------------------------------
def _norm_dtype(x, dtype, function):
    if dtype is None:
        return x
    target = _dtypes.to_numpy_dtype(dtype)
    if target.kind != "f":
        raise RuntimeError(f"{function}: dtype should be floating point or complex, but got {_dtypes.scalar_type_name(target)}")
    if x._data.dtype.kind == "f" and np.promote_types(x._data.dtype, target) != target:
        raise RuntimeError(
            f"{function}: the dtype of the input ({_type(x)}) should be convertible without narrowing to the "
            f"specified dtype ({_dtypes.scalar_type_name(target)})"
        )
    return x.to(dtype)


def _ord_text(ord):
    return "inf" if ord == math.inf else "-inf" if ord == -math.inf else f"{ord:g}"


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """``sum(|x|^ord)^(1/ord)`` over ``dim`` (None: all elements); ``ord`` inf / -inf give the
    largest / smallest ``|x|`` and 0 counts the non-zeros."""
    _tensor(x, "linalg_vector_norm", "input", 1)
    if not isinstance(ord, numbers.Real):
        raise TypeError(f"linalg_vector_norm(): argument 'ord' must be Number, not {type(ord).__name__}")
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got {_type(x)}")
    x = _norm_dtype(x, dtype, "linalg.vector_norm")
    ord = float(ord)
    dims = _normalize_dims(dim, x._data.ndim)
    if ord < 0 or ord == math.inf:
        if x._data.size == 0 and dim is None:
            raise RuntimeError(
                f"linalg.vector_norm cannot compute the {_ord_text(ord)} norm on an empty tensor because the operation "
                "does not have an identity"
            )
        for d in dims:
            if x._data.shape[d] == 0:
                raise RuntimeError(
                    f"linalg.vector_norm cannot compute the {_ord_text(ord)} norm on the dimension {d}because this "
                    "dimension is empty and the operation does not have an identity"
                )
    return _p_norm(x, ord, dims, keepdim)


def _matrix_dims(A, dim):
    if not isinstance(dim, (tuple, list)):
        raise TypeError(f"linalg_matrix_norm(): argument 'dim' must be tuple of ints, not {type(dim).__name__}")
    if len(dim) != 2:
        text = " ".join(str(d) for d in dim) if isinstance(dim, (tuple, list)) else str(dim)
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {text}")
    first, second = (_normalize_dim(d, A._data.ndim) for d in dim)
    if first == second:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({first}, {second})")
    return first, second


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """A matrix norm over the two dims ``dim``: 'fro' (Frobenius), 'nuc' (sum of singular values),
    2 / -2 (largest / smallest singular value), 1 / -1 (largest / smallest column sum of |A|),
    inf / -inf (largest / smallest row sum of |A|)."""
    _tensor(A, "linalg_matrix_norm", "input", 1)
    _matrix(A, "linalg.matrix_norm")
    first, second = _matrix_dims(A, dim)
    if A._data.dtype.kind != "f":
        raise RuntimeError(f"linalg.matrix_norm: Expected a floating point or complex tensor as input. Got {_type(A)}")
    if isinstance(ord, str):
        if ord not in ("fro", "nuc"):
            raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    elif not isinstance(ord, numbers.Real) or abs(ord) not in (1, 2, math.inf):
        raise RuntimeError(f"linalg.matrix_norm: Order {_ord_text(ord) if isinstance(ord, numbers.Real) else ord} not supported.")
    A = _norm_dtype(A, dtype, "linalg.matrix_norm")
    if ord == "fro":
        return vector_norm(A, 2, (first, second), keepdim)
    if ord == "nuc" or abs(ord) == 2:
        _floating(A, "linalg.matrix_norm", low_precision=False)
        others = [d for d in range(A._data.ndim) if d not in (first, second)]
        values = svdvals(A.permute(*others, first, second))
        if ord == "nuc" or (ord > 0 and not values.shape[-1]):  # an empty matrix has norm 0, as in PyTorch
            result = values.sum(-1)
        elif not values.shape[-1]:
            raise IndexError("amin(): Expected reduction dim -1 to have non-zero size.")
        else:
            result = _amax(values, -1) if ord > 0 else _amin(values, -1)
        if keepdim:
            result = result.unsqueeze(min(first, second)).unsqueeze(max(first, second))
        return result
    if abs(ord) == math.inf:
        first, second = second, first
    if not keepdim and first < second:
        second -= 1  # the first reduction removed a dim in front of it
    sums = vector_norm(A, 1, first, keepdim)
    return _amax(sums, second, keepdim) if ord > 0 else _amin(sums, second, keepdim)


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """A vector norm (``dim`` an int, or a 1-D input) or a matrix norm (``dim`` a 2-tuple, or a
    2-D input with ``ord`` given); with neither ``ord`` nor ``dim``, the 2-norm of all elements."""
    _tensor(A, "linalg_norm", "input", 1)
    if dim is not None:
        dim = (dim,) if isinstance(dim, numbers.Integral) else tuple(dim)
    if ord is None:
        if dim is not None and len(dim) not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {list(dim)}")
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if dim is None:
        if A._data.ndim not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got {A._data.ndim}D.")
        if isinstance(ord, str) or A._data.ndim == 2:
            return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    if isinstance(ord, str):
        return matrix_norm(A, ord, dim, keepdim, dtype=dtype)
    if len(dim) not in (1, 2):
        raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {list(dim)}")
    if len(dim) == 1:
        return vector_norm(A, ord, dim, keepdim, dtype=dtype)
    return matrix_norm(A, ord, dim, keepdim, dtype=dtype)


# -- small composites PyTorch also files under torch.linalg --------------------------------------
def matmul(input, other):
    """The matrix product (``torch.matmul``)."""
    return _matmul(input, other)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """The diagonals of a batch of matrices (``torch.diagonal`` with batch-friendly defaults)."""
    return _diagonal(A, offset, dim1, dim2)


def vander(x, *, N=None):
    """The Vandermonde matrix of each vector of ``x`` (*, n): x^0, x^1, ..., x^(N-1) along a new last
    dim (N defaults to n and must be at least 2); integer ``x`` gives int64."""
    return _products.linalg_vander(x, N=N)


def vecdot(x, y, *, dim=-1):
    """The dot product of vectors along ``dim``, batch dims broadcast."""
    _tensor(x, "linalg_vecdot", "x", 1)
    _tensor(y, "linalg_vecdot", "y", 2)
    _floating(x, "linalg.vecdot")
    if x._data.dtype != y._data.dtype:
        raise RuntimeError(
            f"linalg.vecdot: Expected x and y to have the same dtype, but found x of type {_type(x)} and y of type {_type(y)} instead"
        )
    return (x * y).sum(dim)


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False):
    """The number of singular values (absolute eigenvalues when ``hermitian``) above
    ``max(atol, rtol * largest)``, with pinv's tolerances."""
    _tensor(A, "linalg_matrix_rank", "input", 1)
    if A._data.ndim < 2:
        raise RuntimeError("torch.linalg.matrix_rank: The input tensor input must have at least 2 dimensions.")
    if A._data.dtype not in (np.float32, np.float64):
        raise RuntimeError("This function doesn't handle types other than float and double")
    atol_array, rtol_array = _tolerances(A, atol, rtol)
    values = eigvalsh(A.detach()).abs() if hermitian else svdvals(A.detach())
    data = values._data
    xp = _backend.array_module(data)
    largest = data.max(axis=-1, keepdims=True) if data.shape[-1] else data
    tolerance = xp.maximum(atol_array[..., None], rtol_array[..., None] * largest)
    return _wrap((data > tolerance).sum(axis=-1).astype(np.int64))


def _condition_order(p):
    if p is None or isinstance(p, str):
        return p in (None, "fro", "nuc")
    return isinstance(p, numbers.Real) and p in (2, -2, 1, -1, math.inf, -math.inf)


def cond(A, p=None):
    """The condition number ``norm(A, p) * norm(inv(A), p)`` (inf for a singular matrix); for p
    None or 2 (-2), the ratio of the largest and smallest singular values (its inverse)."""
    _tensor(A, "linalg_cond", "input", 1)
    if not _condition_order(p):
        raise RuntimeError(f"linalg.cond got an invalid norm type: {p if isinstance(p, str) else _ord_text(p)}")
    if p in (None, 2, -2):
        if A._data.ndim < 2:
            raise RuntimeError("linalg.cond: The input tensor must have at least 2 dimensions.")
        values = svdvals(A)
        ratio = values.narrow(-1, 0, 1) / values.narrow(-1, values.shape[-1] - 1, 1)
        return (ratio if p != -2 else 1 / ratio).squeeze(-1)
    _square(A, f"linalg.cond(ord={p if isinstance(p, str) else _ord_text(p)})")
    if p == "nuc":  # from the singular values, as PyTorch: nuc(A) nuc(A^-1) = sum(s) sum(1/s)
        values = svdvals(A)
        return values.sum(-1) * (1 / values).sum(-1)
    inverse = _primitives.Inv.apply(A, None)  # NaN for a singular matrix: its condition number is inf, no error
    if not inverse._data.size:
        return matrix_norm(A, p) * matrix_norm(inverse, p)
    invertible = inverse.isfinite().all(-1).all(-1)
    with _backend.on_device(A.device):
        eye = _wrap(_backend.array_module(A._data).eye(A._data.shape[-1], dtype=A._data.dtype))
    inverse = _where(invertible.unsqueeze(-1).unsqueeze(-1), inverse, eye)  # keeps NaN out of the SVD of 'nuc'
    return _where(invertible, matrix_norm(A, p) * matrix_norm(inverse, p), math.inf)
