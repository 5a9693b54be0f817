"""Linear-algebra primitives: Inv, Solve, Det, Slogdet, Cholesky, Qr, Svd, Eigh and Pinv, forward
and backward side by side. The public API, with PyTorch's argument checks, is tinytorch/linalg.py;
norms, lstsq, matrix_power and cross are composites there.

Forwards call ``numpy.linalg`` on the CPU and ``cupy.linalg`` on a GPU; both take batches of
matrices (leading dims). Backwards are PyTorch's formulas (torch/csrc/autograd/FunctionsManual.cpp,
real case), written with tensor ops so that ``create_graph=True`` differentiates them again. Where
a formula divides by differences of singular values or eigenvalues, the gradient is finite only
for distinct ones, as in PyTorch.

Failures that depend on the data (a singular matrix, one that is not positive-definite) are found
the same way on both devices. NumPy raises for a whole batch and CuPy returns invalid values
without a word, so a forward computes what it can (NaN for the matrices LAPACK refuses), flags
the batch when a result is invalid, and hands the flag to ``backend.check_later``: on the CPU it
is read at once, on a GPU at the next synchronization (reading it inside the op would stall the
GPU). A raised flag is then confirmed on the host, matrix by matrix with NumPy, to name the batch
element and the pivot or minor in PyTorch's words; a flag the host does not confirm raises nothing.
"""

from collections import namedtuple

import numpy as np

from .. import _backend as backend
from ..autograd.function import Function
from ._util import quiet, wrap
from .binary import where
from .movement import cat


class LinAlgError(RuntimeError):
    """A matrix the operation cannot handle: singular, not positive-definite, or an algorithm that
    did not converge (``torch.linalg.LinAlgError``; a ``RuntimeError``)."""


LinAlgError.__module__ = "tinytorch.linalg"


def return_type(name, fields):
    """PyTorch's ``torch.return_types.<name>``: a named tuple of tensors."""
    cls = namedtuple(name, fields)
    cls.__module__ = "tinytorch.return_types"
    cls.__qualname__ = name
    cls.__repr__ = lambda self: (
        f"tinytorch.return_types.{name}(\n" + ",\n".join(f"{f}={getattr(self, f)!r}" for f in fields) + ")"
    )
    return cls


# -- array helpers --------------------------------------------------------------------------------
def _matrices(array):
    """A (..., m, n) array as a stack (batch, m, n)."""
    return array.reshape((-1,) + array.shape[-2:])


def _lapack(fn, *arrays, like=0):
    """``fn(*arrays)`` over batches of matrices (same batch shape), with NaN for the matrices LAPACK
    refuses: NumPy raises LinAlgError for the whole batch, where CuPy returns invalid values for
    those matrices and goes on. The result has the shape of ``arrays[like]``."""
    if backend.array_module(arrays[0]) is not np:
        return fn(*arrays)
    with quiet():
        try:
            return fn(*arrays)
        except np.linalg.LinAlgError:
            pass
        out = np.full(arrays[like].shape, np.nan, dtype=arrays[like].dtype)
        flat = _matrices(out)
        for i, parts in enumerate(zip(*(_matrices(a) for a in arrays))):
            try:
                flat[i] = fn(*parts)
            except np.linalg.LinAlgError:
                pass  # stays NaN, as a refused matrix does on CuPy (where it holds garbage)
        return out


def _all(array, axis=(-2, -1)):
    return array.all(axis=axis)


def _prefix(index, ndim):
    return "" if ndim == 2 else f"(Batch element {index}): "


def _zero_pivot(matrix):
    """The 1-based column of the first exactly-zero pivot of LU with partial pivoting (LAPACK
    getrf's ``info``), or 0."""
    a = matrix.copy()
    n = a.shape[0]
    first = 0
    for j in range(n):
        p = j + int(np.argmax(np.abs(a[j:, j])))
        if a[p, j] != 0:
            if p != j:
                a[[j, p]] = a[[p, j]]
            a[j + 1:, j] /= a[j, j]
        elif not first:
            first = j + 1
        a[j + 1:, j + 1:] -= np.outer(a[j + 1:, j], a[j, j + 1:])
    return first


def _not_positive_order(matrix):
    """The order of the first leading minor that is not positive-definite (LAPACK potrf's
    ``info``, read from the lower triangle), or 0."""
    n = matrix.shape[0]
    lower = np.zeros_like(matrix)
    for j in range(n):
        pivot = matrix[j, j] - lower[j, :j] @ lower[j, :j]
        if not pivot > 0:  # also NaN
            return j + 1
        lower[j, j] = np.sqrt(pivot)
        lower[j + 1:, j] = (matrix[j + 1:, j] - lower[j + 1:, :j] @ lower[j, :j]) / lower[j, j]
    return 0


def _singular_failure(name, a, message):
    """fail() for check_later: raises LinAlgError for the first singular matrix of ``a``."""
    def fail():
        host = backend.to_numpy(a)
        for index, matrix in enumerate(_matrices(host)):
            if not np.isfinite(matrix).all():
                continue  # NaN in, NaN out: no error, as PyTorch
            try:
                np.linalg.inv(matrix)
            except np.linalg.LinAlgError:
                pivot = _zero_pivot(matrix) or matrix.shape[-1]
                raise LinAlgError(f"{name}: {_prefix(index, host.ndim)}{message(pivot)}") from None
    return fail


def _inverse(a, name):
    """A^{-1} for each matrix; ``name`` is the function a singular matrix is reported for (None:
    not reported — backward formulas, which give inf/NaN there as PyTorch's do)."""
    xp = backend.array_module(a)
    out = _lapack(xp.linalg.inv, a)
    if name:
        bad = ~_all(xp.isfinite(out)) & _all(xp.isfinite(a))
        backend.check_later(bad.any(), _singular_failure(name, a, lambda pivot: (
            f"The diagonal element {pivot} is zero, the inversion could not be completed because "
            "the input matrix is singular.")))
    return out


def _eye(n, like):
    """The identity of size n, a constant with ``like``'s dtype and device."""
    xp = backend.array_module(like._data)
    with backend.on_device(like.device):
        return wrap(xp.eye(n, dtype=like._data.dtype))


def _zeros(shape, like):
    xp = backend.array_module(like._data)
    with backend.on_device(like.device):
        return wrap(xp.zeros(shape, dtype=like._data.dtype))


def _diag_embed(vector):
    return vector.unsqueeze(-1) * _eye(vector.shape[-1], vector)


def _right_solve_transposed(b, r):
    """B R^{-T} (PyTorch's solve_triangular(R^T, B, left=False)): R X^T = B^T."""
    return Solve.apply(r, b.mT, None).mT


# -- primitives -----------------------------------------------------------------------------------
class Inv(Function):
    """A^{-1}; d/dA <G, A^{-1}> = -A^{-T} G A^{-T}."""

    @staticmethod
    def forward(ctx, a, name):
        out = wrap(_inverse(a._data, name))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (inverse,) = ctx.saved_tensors
        inverse_t = inverse.mT
        return -(inverse_t @ (grad_output @ inverse_t)), None


class Solve(Function):
    """X = A^{-1} B for A (..., n, n) and B (..., n, k), batch dims broadcast. G_B = A^{-T} G_X,
    G_A = -G_B X^T (PyTorch's linalg_solve_backward)."""

    @staticmethod
    def forward(ctx, a, b, name):
        A, B = a._data, b._data
        xp = backend.array_module(A)
        batch = np.broadcast_shapes(A.shape[:-2], B.shape[:-2])
        A_, B_ = xp.broadcast_to(A, batch + A.shape[-2:]), xp.broadcast_to(B, batch + B.shape[-2:])
        if xp is not np:  # CuPy's solve does not broadcast: equal batch shapes, real copies
            A_, B_ = xp.ascontiguousarray(A_), xp.ascontiguousarray(B_)
        x = _lapack(xp.linalg.solve, A_, B_, like=1)
        if name:
            bad = ~_all(xp.isfinite(x)) & _all(xp.isfinite(A_)) & _all(xp.isfinite(B_))
            backend.check_later(bad.any(), _singular_failure(
                name, A, lambda pivot: "The solver failed because the input matrix is singular."))
        out = wrap(x)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        a, x = ctx.saved_tensors
        grad_b = Solve.apply(a.mT, grad_output, None)
        grad_a = -(grad_b @ x.mT) if ctx.needs_input_grad[0] else None
        return grad_a, grad_b if ctx.needs_input_grad[1] else None, None


class Det(Function):
    """det(A). Its gradient is the cofactor matrix det(A) A^{-T}; at a singular matrix (|det| below
    100 eps) it is computed from the SVD, U diag(prod_{j != i} s_j) V^T det(U) det(V), which needs
    no inverse (PyTorch's linalg_det_backward)."""

    @staticmethod
    def forward(ctx, a):
        data = a._data
        xp = backend.array_module(data)
        with quiet():
            out = wrap(xp.asarray(xp.linalg.det(data), dtype=data.dtype))
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        a, det = ctx.saved_tensors
        n = a.shape[-1]
        if a._data.size == 0:
            return None
        scale = (grad_output * det).unsqueeze(-1).unsqueeze(-1)
        singular = det.abs() < 100 * float(np.finfo(a._data.dtype).eps)
        if backend.array_module(a._data) is np and not singular._data.any():
            return scale * Inv.apply(a, None).mT  # the usual case; on the CPU the test reads no device
        # Both formulas, each on inputs where it is finite (a GPU cannot tell which without a read):
        # the identity stands in for singular matrices, a matrix of distinct singular values for
        # the others, so that neither branch puts inf or NaN into a second derivative.
        eye = _eye(n, a)
        mask = singular.unsqueeze(-1).unsqueeze(-1)
        invertible = scale * Inv.apply(where(mask, eye, a), None).mT
        distinct = _diag_embed(_arange(n, a) + 1)
        U, S, Vh = Svd.apply(where(mask, a, distinct), False, True)
        alpha = Det.apply(U) * Det.apply(Vh) * grad_output
        product_of_others = (S.unsqueeze(-2) * (1 - eye) + eye).prod(-1)
        cofactors = (U * (alpha.unsqueeze(-1) * product_of_others).unsqueeze(-2)) @ Vh
        return where(mask, cofactors, invertible)


def _arange(n, like):
    xp = backend.array_module(like._data)
    with backend.on_device(like.device):
        return wrap(xp.arange(n, dtype=like._data.dtype))


class Slogdet(Function):
    """(sign, log|det|); the sign has no gradient, and d log|det A| / dA = A^{-T} (no gradient
    through a singular matrix, as in PyTorch)."""

    @staticmethod
    def forward(ctx, a):
        data = a._data
        xp = backend.array_module(data)
        with quiet():
            sign, logabsdet = xp.linalg.slogdet(data)
        sign = wrap(xp.asarray(sign, dtype=data.dtype))
        ctx.mark_non_differentiable(sign)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(a)
        return sign, wrap(xp.asarray(logabsdet, dtype=data.dtype))

    @staticmethod
    def backward(ctx, grad_sign, grad_logabsdet):
        if grad_logabsdet is None:
            return None
        (a,) = ctx.saved_tensors
        return grad_logabsdet.unsqueeze(-1).unsqueeze(-1) * Inv.apply(a, None).mT


class Cholesky(Function):
    """L with A = L L^T, read from the lower triangle (upper=True: U with A = U^T U, read from the
    upper one, as LAPACK's uplo). Backward (Murray 2016, PyTorch's cholesky_backward):
    G_A = L^{-T} Phi(L^T G_L) L^{-1}, Phi taking the lower triangle with the diagonal halved and
    mirroring it (a symmetric gradient)."""

    @staticmethod
    def forward(ctx, a, upper, name):
        data = a._data
        xp = backend.array_module(data)
        source = data.swapaxes(-2, -1) if upper else data
        lower = _lapack(xp.linalg.cholesky, source)
        if name:
            _check_cholesky(name, source, lower, xp)
        out = wrap(xp.ascontiguousarray(lower.swapaxes(-2, -1)) if upper else lower)
        ctx.upper = upper
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        lower, grad = (out.mT, grad_output.mT) if ctx.upper else (out, grad_output)
        phi = (lower.mT @ grad).tril()
        phi = 0.5 * (phi + phi.tril(-1).mT)
        left = Solve.apply(lower.mT, phi, None)  # L^{-T} Phi
        return _right_solve_transposed(left, lower.mT), None, None  # ... L^{-1}


def _check_cholesky(name, source, lower, xp):
    if not source.size:
        return
    diagonal = xp.diagonal(lower, axis1=-2, axis2=-1)
    bad = ~((diagonal > 0).all(axis=-1) & _all(xp.isfinite(lower)))
    if xp is not np:
        # CuPy returns whatever cuSOLVER's potrf left in place for a failed matrix (finite values
        # with a positive diagonal, possibly): check that L L^T gives the lower triangle back.
        n = source.shape[-1]
        residual = xp.abs(xp.tril(lower @ lower.swapaxes(-2, -1) - source)).max(axis=(-2, -1))
        scale = xp.abs(source).max(axis=(-2, -1))
        bad |= ~(residual <= 32 * (n + 1) * float(np.finfo(source.dtype).eps) * scale)

    def fail():
        host = backend.to_numpy(source)
        for index, matrix in enumerate(_matrices(host)):
            order = _not_positive_order(matrix)
            if order:
                raise LinAlgError(
                    f"{name}: {_prefix(index, host.ndim)}The factorization could not be completed because the "
                    f"input is not positive-definite (the leading minor of order {order} is not positive-definite)."
                )

    backend.check_later(bad.any(), fail)


class Qr(Function):
    """A = QR (mode 'reduced', 'complete' or 'r'). Backward (PyTorch's linalg_qr_backward):
    m >= n: G_A = [G_Q + Q copyltu(M)] R^{-T} with M = triu(G_R R^T - Q^T G_Q), copyltu mirroring
    the strict upper triangle down; m < n: G_A = [Q tril(X - X^T) R_1^{-T}, 0] + Q G_R with
    X = Q^T G_Q - G_R R^T and R_1 the leading m x m block of R."""

    @staticmethod
    def forward(ctx, a, mode):
        data = a._data
        xp = backend.array_module(data)
        if mode == "r":
            with backend.on_device(a.device):
                q = xp.empty((0,), dtype=data.dtype)
            r = xp.linalg.qr(data, mode="r")
        else:
            q, r = xp.linalg.qr(data, mode=mode)
        q, r = wrap(q), wrap(r)
        ctx.mode = mode
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(q, r)
        return q, r

    @staticmethod
    def backward(ctx, grad_q, grad_r):
        if grad_q is None and grad_r is None:
            return None, None
        q, r = ctx.saved_tensors
        if ctx.mode == "r":
            raise RuntimeError(
                "The derivative of linalg.qr depends on Q, which is not computed when mode='r'. Please use "
                "linalg.qr(A, mode='reduced') if you are going to differentiate through linalg.qr."
            )
        m, n = q.shape[-2], r.shape[-1]
        if ctx.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
        if grad_q is None:
            grad = grad_r @ r.mT
        elif grad_r is None:
            grad = -(q.mT @ grad_q)
        else:
            grad = grad_r @ r.mT - q.mT @ grad_q
        if m >= n:
            upper = grad.triu()
            grad = q @ (upper + upper.triu(1).mT)
            if grad_q is not None:
                grad = grad + grad_q
            return _right_solve_transposed(grad, r), None
        lower = (grad.mT - grad).tril()  # the adjoint of tril-skew, applied to -grad
        grad = _right_solve_transposed(q @ lower, r.narrow(-1, 0, m))
        grad = cat([grad, _zeros(grad.shape[:-1] + (n - m,), grad)], -1)
        return (grad + q @ grad_r if grad_r is not None else grad), None


class Svd(Function):
    """A = U diag(S) V^T (Vh = V^T); compute_uv=False returns S alone (used when no gradient is
    recorded). Backward (PyTorch's svd_backward, real case), with E_jk = s_k^2 - s_j^2 (1 on the
    diagonal) and skew(X) = X - X^T:
    G_A = U [(skew(U^T G_U) / E) S + S (skew(V^T G_V) / E) + diag(G_S)] V^T, plus
    (I - U U^T) G_U S^{-1} V^T when m > n, or U S^{-1} G_V^T (I - V V^T) when m < n. With
    full_matrices the columns of U (rows of Vh) past min(m, n) get no gradient."""

    @staticmethod
    def forward(ctx, a, full_matrices, compute_uv):
        data = a._data
        xp = backend.array_module(data)
        backend.check_later(~_all(xp.isfinite(data), axis=None), _svd_failure)
        try:
            if not compute_uv:
                return wrap(xp.linalg.svd(data, compute_uv=False))
            u, s, vh = (wrap(x) for x in xp.linalg.svd(data, full_matrices=full_matrices))
        except np.linalg.LinAlgError:
            raise LinAlgError(
                "linalg.svd: The algorithm failed to converge because the input matrix is ill-conditioned "
                "or has too many repeated singular values."
            ) from None
        ctx.full_matrices = full_matrices
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(u, s, vh)
        return u, s, vh

    @staticmethod
    def backward(ctx, grad_u, grad_s, grad_vh):
        u, s, vh = ctx.saved_tensors
        k = s.shape[-1]
        if ctx.full_matrices:
            u, vh = u.narrow(-1, 0, k), vh.narrow(-2, 0, k)
            grad_u = grad_u.narrow(-1, 0, k) if grad_u is not None else None
            grad_vh = grad_vh.narrow(-2, 0, k) if grad_vh is not None else None
        m, n = u.shape[-2], vh.shape[-1]
        if grad_u is None and grad_vh is None:
            if grad_s is None:
                return None, None, None
            return (u @ (grad_s.unsqueeze(-1) * vh) if m >= n else (u * grad_s.unsqueeze(-2)) @ vh), None, None
        eye = _eye(k, s)
        s2 = s * s
        e = s2.unsqueeze(-2) - s2.unsqueeze(-1) + eye
        uu = u.mT @ grad_u if grad_u is not None else None
        vv = vh @ grad_vh.mT if grad_vh is not None else None
        if uu is not None and vv is not None:
            inner = ((uu - uu.mT) * s.unsqueeze(-2) + s.unsqueeze(-1) * (vv - vv.mT)) / e
        elif uu is not None:
            inner = ((uu - uu.mT) / e) * s.unsqueeze(-2)
        else:
            inner = s.unsqueeze(-1) * ((vv - vv.mT) / e)
        if grad_s is not None:
            inner = inner + _diag_embed(grad_s)
        if m > n and grad_u is not None:
            grad = u @ inner
            scaled = grad_u / s.unsqueeze(-2)
            grad = (grad + scaled - u @ (u.mT @ scaled)) @ vh
        elif m < n and grad_vh is not None:
            grad = inner @ vh
            scaled = grad_vh / s.unsqueeze(-1)
            grad = u @ (grad + scaled - (scaled @ vh.mT) @ vh)
        else:
            grad = u @ (inner @ vh) if m >= n else (u @ inner) @ vh
        return grad, None, None


def _svd_failure():
    raise LinAlgError("linalg.svd: The algorithm failed to converge because the input matrix contained non-finite values.")


class Eigh(Function):
    """Eigenvalues (ascending) and orthonormal eigenvectors of a symmetric matrix, read from its
    lower (UPLO='L') or upper triangle; compute_v=False returns the eigenvalues alone. Backward
    (PyTorch's linalg_eig_backward, Hermitian case), with E_ij = l_j - l_i (1 on the diagonal):
    G_A = V [skew(V^T G_V) / (2 E) + diag(G_L)] V^T."""

    @staticmethod
    def forward(ctx, a, uplo, compute_v):
        data = a._data
        xp = backend.array_module(data)
        try:
            if not compute_v:
                return wrap(xp.linalg.eigvalsh(data, UPLO=uplo))
            values, vectors = (wrap(x) for x in xp.linalg.eigh(data, UPLO=uplo))
        except np.linalg.LinAlgError:
            raise LinAlgError(
                "linalg.eigh: The algorithm failed to converge because the input matrix is ill-conditioned "
                "or has too many repeated eigenvalues."
            ) from None
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(values, vectors)
        return values, vectors

    @staticmethod
    def backward(ctx, grad_values, grad_vectors):
        values, vectors = ctx.saved_tensors
        if grad_vectors is None:
            if grad_values is None:
                return None, None, None
            return (vectors * grad_values.unsqueeze(-2)) @ vectors.mT, None, None
        inner = vectors.mT @ grad_vectors
        eye = _eye(values.shape[-1], values)
        inner = 0.5 * (inner - inner.mT) / (values.unsqueeze(-2) - values.unsqueeze(-1) + eye)
        if grad_values is not None:
            inner = inner + _diag_embed(grad_values)
        return vectors @ (inner @ vectors.mT), None, None


class Pinv(Function):
    """The Moore-Penrose pseudo-inverse from the SVD (eigh when hermitian), singular values at or
    below max(atol, rtol * largest) counted as zero (atol, rtol: arrays that broadcast against the
    batch). Backward: PyTorch's pinv_backward, exact where the rank does not change."""

    @staticmethod
    def forward(ctx, a, atol, rtol, hermitian):
        data = a._data
        xp = backend.array_module(data)
        if data.size == 0:
            out = _zeros(data.shape[:-2] + data.shape[-2:][::-1], a)
            ctx.save_for_backward(a, out)
            return out
        with quiet():
            if hermitian:
                values, vectors = xp.linalg.eigh(data)
                size = xp.abs(values)
                largest = size.max(axis=-1, keepdims=True)
                tolerance = xp.maximum(atol[..., None], rtol[..., None] * largest)
                inverse = xp.where(size > tolerance, 1 / values, 0).astype(data.dtype, copy=False)
                out = (vectors * inverse[..., None, :]) @ vectors.swapaxes(-2, -1)
            else:
                backend.check_later(~_all(xp.isfinite(data), axis=None), _svd_failure)
                u, s, vh = xp.linalg.svd(data, full_matrices=False)
                tolerance = xp.maximum(atol[..., None], rtol[..., None] * s[..., :1])
                inverse = xp.where(s > tolerance, 1 / s, 0).astype(data.dtype, copy=False)
                out = (vh.swapaxes(-2, -1) * inverse[..., None, :]) @ u.swapaxes(-2, -1)
        out = wrap(out)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        a, pinv = ctx.saved_tensors
        m, n = a.shape[-2], a.shape[-1]
        pinv_t, grad_t = pinv.mT, grad_output.mT
        if m <= n:
            k = grad_t @ pinv
            k_pinv_t = k @ pinv_t
            grad = -(pinv @ k).mT + k_pinv_t - (a @ pinv) @ k_pinv_t + (pinv_t @ pinv) @ (grad_t - k @ a)
        else:
            k = pinv @ grad_t
            pinv_t_k = pinv_t @ k
            grad = -(k @ pinv).mT + ((grad_t - a @ k) @ pinv) @ pinv_t + pinv_t_k - (pinv_t_k @ pinv) @ a
        return grad, None, None, None

