"""The LU family, matrix_exp, the _ex variants and tensorinv/tensorsolve beyond the op table:
values against torch (P, L, U, pivots, info on singular input, lu_solve's left/adjoint,
tensorinv's ind and tensorsolve's dims), and errors (PyTorch's exception types and words, on
every device). Gradients and second derivatives are checked by the op table."""

import warnings

import numpy as np
import pytest

import tinytorch

SINGULAR = np.array([[1.0, 2.0], [2.0, 4.0]])
NOT_PD = np.array([[1.0, 2.0], [2.0, 1.0]])
NOT_PD_3 = np.array([[4.0, 2.0, 1.0], [2.0, 1.0, 3.0], [1.0, 3.0, 5.0]])  # fails at order 2


def _host(t):
    return t.detach().cpu().numpy()


def _pair(array, device):
    torch = pytest.importorskip("torch")
    return tinytorch.tensor(array, device=device), torch.tensor(array)


def _close(ours, theirs, **kw):
    np.testing.assert_allclose(_host(ours), theirs.detach().numpy(), **kw)


def _ones(*shape):
    return np.ones(shape)


# -- errors: the same call on tinytorch and on torch raises the same type with the same words -----
def _factored(L, T):
    return L.linalg.lu_factor(T(np.eye(3) + 0.5))


ERRORS = {
    "lu_factor_1d": lambda L, T: L.linalg.lu_factor(T(_ones(3))),
    "lu_factor_long": lambda L, T: L.linalg.lu_factor(T(np.eye(3, dtype=np.int64))),
    "lu_factor_half": lambda L, T: L.linalg.lu_factor(T(np.eye(3, dtype=np.float16))),
    "lu_factor_singular": lambda L, T: L.linalg.lu_factor(T(SINGULAR)),
    "lu_factor_zeros_batch": lambda L, T: L.linalg.lu_factor(T(np.zeros((2, 3, 3)))),
    "lu_factor_list": lambda L, T: L.linalg.lu_factor([[1.0]]),
    "lu_factor_ex_checked": lambda L, T: L.linalg.lu_factor_ex(T(np.stack([np.eye(2), SINGULAR])), check_errors=True),
    "lu_1d": lambda L, T: L.linalg.lu(T(_ones(3))),
    "lu_long": lambda L, T: L.linalg.lu(T(np.eye(3, dtype=np.int64))),
    "lu_str": lambda L, T: L.linalg.lu("x"),
    "lu_solve_1d_LU": lambda L, T: L.linalg.lu_solve(T(_ones(3)), _factored(L, T)[1], T(_ones(3, 1))),
    "lu_solve_long": lambda L, T: L.linalg.lu_solve(T(np.eye(3, dtype=np.int64)), _factored(L, T)[1], T(_ones(3, 1))),
    "lu_solve_not_square": lambda L, T: L.linalg.lu_solve(T(_ones(3, 2)), _factored(L, T)[1], T(_ones(3, 1))),
    "lu_solve_dtypes": lambda L, T: L.linalg.lu_solve(*_factored(L, T), T(np.ones((3, 1), dtype=np.float32))),
    "lu_solve_int64_pivots": lambda L, T: L.linalg.lu_solve(_factored(L, T)[0], _factored(L, T)[1].long(), T(_ones(3, 1))),
    "lu_solve_1d_B": lambda L, T: L.linalg.lu_solve(*_factored(L, T), T(_ones(3))),
    "lu_solve_shapes": lambda L, T: L.linalg.lu_solve(*_factored(L, T), T(_ones(4, 1))),
    "lu_solve_shapes_right": lambda L, T: L.linalg.lu_solve(*_factored(L, T), T(_ones(3, 1)), left=False),
    "lu_solve_pivot_count": lambda L, T: L.linalg.lu_solve(_factored(L, T)[0], _factored(L, T)[1][:2], T(_ones(3, 1))),
    "lu_solve_pivot_batch": lambda L, T: L.linalg.lu_solve(
        _factored(L, T)[0], _factored(L, T)[1].unsqueeze(0).expand(2, 3).contiguous(), T(_ones(3, 1))),
    "lu_solve_batch_mismatch": lambda L, T: L.linalg.lu_solve(
        *L.linalg.lu_factor(T(np.stack([np.eye(3)] * 2))), T(_ones(4, 3, 1))),
    "lu_solve_pivots_not_tensor": lambda L, T: L.linalg.lu_solve(_factored(L, T)[0], [1, 2, 3], T(_ones(3, 1))),
    "lu_unpack_1d": lambda L, T: L.lu_unpack(T(_ones(3)), _factored(L, T)[1]),
    "lu_unpack_int64_pivots": lambda L, T: L.lu_unpack(_factored(L, T)[0], _factored(L, T)[1].long()),
    "lu_unpack_str": lambda L, T: L.lu_unpack("x", 1),
    "matrix_exp_long": lambda L, T: L.linalg.matrix_exp(T(np.eye(3, dtype=np.int64))),
    "matrix_exp_long_not_square": lambda L, T: L.linalg.matrix_exp(T(np.ones((3, 4), dtype=np.int64))),
    "matrix_exp_not_square": lambda L, T: L.linalg.matrix_exp(T(_ones(3, 4))),
    "matrix_exp_1d": lambda L, T: L.linalg.matrix_exp(T(_ones(3))),
    "matrix_exp_top_level_str": lambda L, T: L.matrix_exp("x"),
    "inv_ex_long": lambda L, T: L.linalg.inv_ex(T(np.eye(3, dtype=np.int64))),
    "inv_ex_half": lambda L, T: L.linalg.inv_ex(T(np.eye(3, dtype=np.float16))),
    "inv_ex_not_square": lambda L, T: L.linalg.inv_ex(T(_ones(2, 3))),
    "inv_ex_checked": lambda L, T: L.linalg.inv_ex(T(np.zeros((3, 3))), check_errors=True),
    "inv_ex_checked_batch": lambda L, T: L.linalg.inv_ex(T(np.stack([np.eye(2), SINGULAR])), check_errors=True),
    "cholesky_ex_long": lambda L, T: L.linalg.cholesky_ex(T(np.eye(3, dtype=np.int64))),
    "cholesky_ex_half": lambda L, T: L.linalg.cholesky_ex(T(np.eye(3, dtype=np.float16))),
    "cholesky_ex_not_square": lambda L, T: L.linalg.cholesky_ex(T(_ones(2, 3))),
    "cholesky_ex_checked": lambda L, T: L.linalg.cholesky_ex(T(NOT_PD_3), check_errors=True),
    "cholesky_ex_checked_batch": lambda L, T: L.linalg.cholesky_ex(T(np.stack([np.eye(2), NOT_PD])), check_errors=True),
    "solve_ex_checked": lambda L, T: L.linalg.solve_ex(T(SINGULAR), T(_ones(2)), check_errors=True),
    "solve_ex_checked_batch": lambda L, T: L.linalg.solve_ex(T(np.stack([np.eye(2), SINGULAR])), T(_ones(2)), check_errors=True),
    "solve_ex_long": lambda L, T: L.linalg.solve_ex(T(np.eye(2, dtype=np.int64)), T(np.ones(2, dtype=np.int64))),
    "solve_ex_right_vector": lambda L, T: L.linalg.solve_ex(T(np.eye(2)), T(_ones(2)), left=False),
    "tensorinv_ind_0": lambda L, T: L.linalg.tensorinv(T(_ones(4, 6)), ind=0),
    "tensorinv_ind_float": lambda L, T: L.linalg.tensorinv(T(_ones(4, 6)), ind=1.5),
    "tensorinv_shapes": lambda L, T: L.linalg.tensorinv(T(_ones(4, 6)), ind=1),
    "tensorinv_long": lambda L, T: L.linalg.tensorinv(T(np.ones((2, 3, 6), dtype=np.int64))),
    "tensorinv_singular": lambda L, T: L.linalg.tensorinv(T(np.zeros((2, 2))), ind=1),
    "tensorsolve_shapes": lambda L, T: L.linalg.tensorsolve(T(_ones(2, 3, 6)), T(_ones(2, 4))),
    "tensorsolve_dtypes": lambda L, T: L.linalg.tensorsolve(T(_ones(2, 3, 6)), T(np.ones((2, 3), dtype=np.float32))),
    "tensorsolve_singular": lambda L, T: L.linalg.tensorsolve(T(np.zeros((2, 3, 6))), T(_ones(2, 3))),
    "tensorsolve_bad_dim": lambda L, T: L.linalg.tensorsolve(T(_ones(2, 3, 6)), T(_ones(2, 3)), dims=(5,)),
    "triangular_solve_1d_b": lambda L, T: L.triangular_solve(T(_ones(3)), T(np.eye(3))),
    "triangular_solve_1d_A": lambda L, T: L.triangular_solve(T(_ones(3, 2)), T(_ones(3))),
    "triangular_solve_dtypes": lambda L, T: L.triangular_solve(T(_ones(3, 2)), T(np.eye(3, dtype=np.float32))),
    "triangular_solve_not_square": lambda L, T: L.triangular_solve(T(_ones(3, 2)), T(_ones(3, 4))),
    "triangular_solve_sizes": lambda L, T: L.triangular_solve(T(_ones(4, 2)), T(np.eye(3))),
    "triangular_solve_batch": lambda L, T: L.triangular_solve(T(_ones(2, 3, 2)), T(_ones(4, 3, 3))),
    "triangular_solve_long": lambda L, T: L.triangular_solve(T(np.ones((3, 2), dtype=np.int64)), T(np.eye(3, dtype=np.int64))),
    "householder_1d": lambda L, T: L.linalg.householder_product(T(_ones(3)), T(_ones(2))),
    "householder_wide": lambda L, T: L.linalg.householder_product(T(_ones(3, 4)), T(_ones(2))),
    "householder_tau_long": lambda L, T: L.linalg.householder_product(T(_ones(4, 3)), T(_ones(4))),
    "householder_tau_ndim": lambda L, T: L.linalg.householder_product(T(_ones(4, 3)), T(_ones(2, 2))),
    "householder_tau_batch": lambda L, T: L.linalg.householder_product(T(_ones(2, 4, 3)), T(_ones(3, 2))),
    "householder_dtypes": lambda L, T: L.linalg.householder_product(T(_ones(4, 3)), T(np.ones(2, dtype=np.float32))),
    "householder_long": lambda L, T: L.linalg.householder_product(T(np.ones((4, 3), dtype=np.int64)), T(np.ones(2, dtype=np.int64))),
    "householder_str": lambda L, T: L.linalg.householder_product(T(_ones(4, 3)), "x"),
}
CPU_ONLY = {  # PyTorch refuses LU without pivoting on the CPU only
    "lu_factor_no_pivot": lambda L, T: L.linalg.lu_factor(T(np.eye(3)), pivot=False),
    "lu_no_pivot": lambda L, T: L.linalg.lu(T(np.eye(3)), pivot=False),
    "lu_factor_ex_no_pivot": lambda L, T: L.linalg.lu_factor_ex(T(np.eye(3)), pivot=False),
}


def _same_error(torch, ours, theirs):
    if isinstance(theirs, torch.linalg.LinAlgError):
        assert isinstance(ours, tinytorch.linalg.LinAlgError), f"{type(ours).__name__}: {ours}"
    else:
        assert type(ours).__name__ == type(theirs).__name__, f"{type(ours).__name__}: {ours} / torch: {theirs}"
        assert not isinstance(ours, tinytorch.linalg.LinAlgError)
    assert str(ours) == str(theirs)


def _check_error(call, device):
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as theirs:
            call(torch, lambda a: torch.tensor(a))
        with pytest.raises(Exception) as ours:
            call(tinytorch, lambda a: tinytorch.tensor(a, device=device))
            tinytorch.cuda.synchronize() if device == "cuda" else None
    _same_error(torch, ours.value, theirs.value)


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_match_torch(name, device):
    """The call raises what torch raises; a data-dependent failure on a GPU at the next
    synchronization."""
    _check_error(ERRORS[name], device)


@pytest.mark.parametrize("name", list(CPU_ONLY))
def test_no_pivoting_is_refused_on_the_cpu(name):
    _check_error(CPU_ONLY[name], "cpu")


def test_unchecked_ex_variants_raise_nothing(device):
    for call in (
        lambda: tinytorch.linalg.lu_factor_ex(tinytorch.tensor(SINGULAR, device=device)),
        lambda: tinytorch.linalg.inv_ex(tinytorch.tensor(SINGULAR, device=device)),
        lambda: tinytorch.linalg.cholesky_ex(tinytorch.tensor(NOT_PD, device=device)),
        lambda: tinytorch.linalg.solve_ex(tinytorch.tensor(SINGULAR, device=device), tinytorch.ones(2, device=device).double()),
        lambda: tinytorch.linalg.lu(tinytorch.tensor(SINGULAR, device=device)),
    ):
        out = call()
        assert out[-1].dtype in (tinytorch.int32, tinytorch.float64)
    tinytorch.cuda.synchronize() if device == "cuda" else None


# -- LU factors ------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (2, 1, 3, 5), (5, 3), (1, 1), (0, 3, 3), (2, 0, 0), (3, 0)])
def test_lu_factors_match_torch(shape, device):
    torch = pytest.importorskip("torch")
    array = np.random.default_rng(sum(shape)).standard_normal(shape)
    ours, theirs = _pair(array, device)
    LU, pivots, info = tinytorch.linalg.lu_factor_ex(ours)
    tLU, tpivots, tinfo = torch.linalg.lu_factor_ex(theirs)
    assert pivots.dtype == tinytorch.int32 and info.dtype == tinytorch.int32
    assert tuple(pivots.shape) == tuple(tpivots.shape) and tuple(info.shape) == tuple(tinfo.shape)
    np.testing.assert_array_equal(_host(pivots), tpivots.numpy())
    np.testing.assert_array_equal(_host(info), tinfo.numpy())
    _close(LU, tLU, atol=1e-12)
    for got, expected in zip(tinytorch.linalg.lu(ours), torch.linalg.lu(theirs)):
        assert tuple(got.shape) == tuple(expected.shape)
        _close(got, expected, atol=1e-12)
    P, L, U = tinytorch.linalg.lu(ours)
    np.testing.assert_allclose(_host(P @ L @ U), array, atol=1e-12)


@pytest.mark.parametrize("matrix", [SINGULAR, np.zeros((2, 2)), np.array([[0.0, 0.0], [0.0, 4.0]]),
                                    np.array([[np.nan, 0.0], [0.0, 4.0]]), np.array([[1.0, 0.0], [np.nan, 4.0]]),
                                    np.array([[2.0, 1.0, 1.0], [4.0, 2.0, 2.0], [1.0, 5.0, 3.0]])])
def test_singular_and_nan_inputs_give_lapacks_factors_and_info(matrix, device):
    """LAPACK goes on past a zero pivot, reports the first in info, and never picks a NaN pivot
    after a number: the factors and info are torch's exactly."""
    torch = pytest.importorskip("torch")
    batch = np.stack([matrix, np.eye(len(matrix)), matrix[::-1].copy()])
    ours, theirs = _pair(batch, device)
    LU, pivots, info = tinytorch.linalg.lu_factor_ex(ours)
    tLU, tpivots, tinfo = torch.linalg.lu_factor_ex(theirs)
    np.testing.assert_array_equal(_host(pivots), tpivots.numpy())
    np.testing.assert_array_equal(_host(info), tinfo.numpy())
    np.testing.assert_array_equal(_host(LU), tLU.numpy())


def test_lu_unpack_matches_torch(device):
    torch = pytest.importorskip("torch")
    array = np.random.default_rng(3).standard_normal((2, 4, 3))
    ours, theirs = _pair(array, device)
    LU, pivots = tinytorch.linalg.lu_factor(ours)
    tLU, tpivots = torch.linalg.lu_factor(theirs)
    for kwargs in ({}, {"unpack_data": False}, {"unpack_pivots": False}, {"unpack_data": False, "unpack_pivots": False}):
        for got, expected in zip(tinytorch.lu_unpack(LU, pivots, **kwargs), torch.lu_unpack(tLU, tpivots, **kwargs)):
            assert tuple(got.shape) == tuple(expected.shape), kwargs
            _close(got, expected, atol=1e-12)
    # any 1-based pivots, not only lu_factor's: LAPACK's sequential swaps
    swaps = np.array([3, 3, 3], dtype=np.int32)
    P = tinytorch.lu_unpack(tinytorch.eye(3, device=device), tinytorch.tensor(swaps, device=device)).P
    _close(P, torch.lu_unpack(torch.eye(3), torch.tensor(swaps)).P)


def test_lu_unpack_refuses_pivots_of_the_wrong_shape():
    LU, pivots = tinytorch.linalg.lu_factor(tinytorch.eye(3).expand(2, 3, 3))
    with pytest.raises(RuntimeError, match="Expected LU_pivots of shape \\[2, 3\\]"):
        tinytorch.lu_unpack(LU, pivots[0])


def test_lu_factor_without_pivoting_on_a_gpu(device):
    if device != "cuda":
        pytest.skip("PyTorch has LU without pivoting on CUDA only")
    array = np.random.default_rng(4).standard_normal((2, 3, 3)) + 4 * np.eye(3)
    LU, pivots = tinytorch.linalg.lu_factor(tinytorch.tensor(array, device=device), pivot=False)
    np.testing.assert_array_equal(_host(pivots), np.broadcast_to(np.arange(1, 4, dtype=np.int32), (2, 3)))
    P, L, U = tinytorch.linalg.lu(tinytorch.tensor(array, device=device), pivot=False)
    assert tuple(P.shape) == (0,)
    np.testing.assert_allclose(_host(L @ U), array, atol=1e-12)


# -- solves ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("adjoint", [False, True])
@pytest.mark.parametrize("batches", [((2,), (2,)), ((), (3, 1)), ((2, 1), (3,)), ((1,), ())])
def test_lu_solve_matches_torch(left, adjoint, batches, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    a_batch, b_batch = batches
    A = rng.standard_normal(a_batch + (4, 4))
    B = rng.standard_normal(b_batch + ((4, 2) if left else (2, 4)))
    (a, ta), (b, tb) = _pair(A, device), _pair(B, device)
    X = tinytorch.linalg.lu_solve(*tinytorch.linalg.lu_factor(a), b, left=left, adjoint=adjoint)
    tX = torch.linalg.lu_solve(*torch.linalg.lu_factor(ta), tb, left=left, adjoint=adjoint)
    assert tuple(X.shape) == tuple(tX.shape)
    _close(X, tX, atol=1e-10)


def test_deprecated_lu_solve_and_triangular_solve_warn_and_match_torch(device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    A, B = rng.standard_normal((2, 3, 3)) + 3 * np.eye(3), rng.standard_normal((2, 3, 2))
    (a, ta), (b, tb) = _pair(A, device), _pair(B, device)
    with pytest.warns(UserWarning, match="torch.lu_solve is deprecated"):
        X = tinytorch.lu_solve(b, *tinytorch.linalg.lu_factor(a))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _close(X, torch.lu_solve(tb, *torch.linalg.lu_factor(ta)), atol=1e-12)
        for upper in (True, False):
            for transpose in (False, True):
                for unitriangular in (False, True):
                    kwargs = {"upper": upper, "transpose": transpose, "unitriangular": unitriangular}
                    with pytest.warns(UserWarning, match="torch.triangular_solve is deprecated"):
                        ours = tinytorch.triangular_solve(b, a[:1], **kwargs)
                    theirs = torch.triangular_solve(tb, ta[:1], **kwargs)
                    for got, expected in zip(ours, theirs):
                        assert tuple(got.shape) == tuple(expected.shape)
                        _close(got, expected, atol=1e-12)


def test_ex_variants_match_torch_on_singular_input(device):
    torch = pytest.importorskip("torch")
    batch = np.stack([np.eye(2) * 2, SINGULAR, np.zeros((2, 2))])
    ours, theirs = _pair(batch, device)
    inverse, info = tinytorch.linalg.inv_ex(ours)
    np.testing.assert_array_equal(_host(info), torch.linalg.inv_ex(theirs).info.numpy())  # [0, 2, 1]
    np.testing.assert_allclose(_host(inverse)[0], np.eye(2) / 2)
    assert not np.isfinite(_host(inverse)[1:]).all(axis=(-2, -1)).any()
    result, info = tinytorch.linalg.solve_ex(ours, tinytorch.ones(2, device=device, dtype=tinytorch.float64))
    np.testing.assert_array_equal(_host(info), torch.linalg.solve_ex(theirs, torch.ones(2, dtype=torch.float64)).info.numpy())
    np.testing.assert_allclose(_host(result)[0], [0.5, 0.5])
    assert info.dtype == tinytorch.int32 and tuple(info.shape) == (3,)


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_ex_gives_lapacks_partial_factor_and_info(upper, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 3))
    spd = x @ x.T + 3 * np.eye(3)
    batch = np.stack([spd, NOT_PD_3, -np.eye(3), np.diag([1.0, 1.0, 0.0])])
    ours, theirs = _pair(batch, device)
    L, info = tinytorch.linalg.cholesky_ex(ours, upper=upper)
    tL, tinfo = torch.linalg.cholesky_ex(theirs, upper=upper)
    np.testing.assert_array_equal(_host(info), tinfo.numpy())  # [0, 2, 1, 3]
    _close(L, tL, atol=1e-12)


def test_solve_ex_left_false_and_broadcast_match_torch(device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    A, B = rng.standard_normal((3, 3)) + 3 * np.eye(3), rng.standard_normal((4, 2, 3))
    (a, ta), (b, tb) = _pair(A, device), _pair(B, device)
    result, info = tinytorch.linalg.solve_ex(a, b, left=False)
    tresult, tinfo = torch.linalg.solve_ex(ta, tb, left=False)
    _close(result, tresult, atol=1e-12)
    assert tuple(info.shape) == tuple(tinfo.shape) == ()


# -- tensor forms ----------------------------------------------------------------------------------
@pytest.mark.parametrize("shape, ind", [((4, 6, 8, 3), 2), ((6, 2, 3), 1), ((2, 3, 6), 2), ((2, 2, 2, 2), 2)])
def test_tensorinv_matches_torch(shape, ind, device):
    torch = pytest.importorskip("torch")
    size = int(np.prod(shape[:ind]))
    array = (np.random.default_rng(9).standard_normal((size, size)) + 4 * np.eye(size)).reshape(shape)
    ours, theirs = _pair(array, device)
    got, expected = tinytorch.linalg.tensorinv(ours, ind=ind), torch.linalg.tensorinv(theirs, ind=ind)
    assert tuple(got.shape) == tuple(expected.shape) == shape[ind:] + shape[:ind]
    _close(got, expected, atol=1e-12)


@pytest.mark.parametrize("shape, b_shape, dims", [((2, 3, 6), (2, 3), None), ((6, 2, 3), (2, 3), (0,)),
                                                  ((2, 3, 2, 3), (2, 3), None), ((2, 2, 3, 3), (2, 3), (0, 3))])
def test_tensorsolve_matches_torch(shape, b_shape, dims, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(10)
    size = int(np.prod(b_shape))
    array = (rng.standard_normal((size, size)) + 4 * np.eye(size)).reshape(shape)
    (a, ta), (b, tb) = _pair(array, device), _pair(rng.standard_normal(b_shape), device)
    got, expected = tinytorch.linalg.tensorsolve(a, b, dims=dims), torch.linalg.tensorsolve(ta, tb, dims=dims)
    assert tuple(got.shape) == tuple(expected.shape)
    _close(got, expected, atol=1e-12)


@pytest.mark.parametrize("shape, k", [((4, 3), 2), ((2, 5, 3), 3), ((3, 3), 0), ((1, 1), 1)])
def test_householder_product_matches_torch_and_rebuilds_qr(shape, k, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(13)
    (a, ta), (tau, ttau) = _pair(rng.standard_normal(shape), device), _pair(rng.standard_normal(shape[:-2] + (k,)), device)
    _close(tinytorch.linalg.householder_product(a, tau), torch.linalg.householder_product(ta, ttau), atol=1e-12)
    # geqrf's reflectors give QR's Q
    reflectors, tau = torch.geqrf(ta)
    Q = tinytorch.linalg.householder_product(tinytorch.tensor(reflectors.numpy(), device=device), tinytorch.tensor(tau.numpy(), device=device))
    _close(Q, torch.linalg.qr(ta).Q, atol=1e-12)


# -- the matrix exponential --------------------------------------------------------------------------
@pytest.mark.parametrize("scale", [0.0, 1e-3, 0.5, 5.0, 60.0])
def test_matrix_exp_matches_torch(scale, device):
    """Each matrix of a batch gets its own scaling; large norms are squared back."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    array = rng.standard_normal((3, 4, 4)) * scale * np.array([1.0, 0.1, 2.0])[:, None, None]
    ours, theirs = _pair(array, device)
    expected = torch.linalg.matrix_exp(theirs).numpy()
    got = _host(tinytorch.linalg.matrix_exp(ours))
    np.testing.assert_allclose(got, expected, rtol=1e-11, atol=1e-12 * np.abs(expected).max())
    np.testing.assert_allclose(_host(tinytorch.matrix_exp(ours)), got)


def test_matrix_exp_of_known_matrices(device):
    t = 0.7
    rotation = tinytorch.linalg.matrix_exp(tinytorch.tensor([[0.0, -t], [t, 0.0]], device=device))
    np.testing.assert_allclose(_host(rotation), [[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]], atol=1e-15)
    nilpotent = tinytorch.linalg.matrix_exp(tinytorch.tensor([[0.0, 3.0], [0.0, 0.0]], device=device))
    np.testing.assert_array_equal(_host(nilpotent), [[1.0, 3.0], [0.0, 1.0]])
    float32 = tinytorch.linalg.matrix_exp(tinytorch.tensor([[1.0, 2.0], [3.0, 4.0]], device=device))
    assert float32.dtype == tinytorch.float32


def test_matrix_exp_of_non_finite_and_empty_input(device):
    torch = pytest.importorskip("torch")
    batch = np.stack([np.array([[np.inf, 0.0], [0.0, 1.0]]), np.array([[np.nan, 0.0], [0.0, 1.0]]), np.eye(2)])
    ours, theirs = _pair(batch, device)
    np.testing.assert_allclose(_host(tinytorch.linalg.matrix_exp(ours)), torch.linalg.matrix_exp(theirs).numpy(), rtol=1e-15)
    for shape in ((0, 3, 3), (2, 0, 0)):
        assert tuple(tinytorch.linalg.matrix_exp(tinytorch.zeros(shape, device=device)).shape) == shape


def test_matrix_exp_in_float16_is_computed_in_float32(device):
    """PyTorch's CPU float16 result overflows (inf/NaN for entries of size ~1); ours is the
    float32 result rounded."""
    array = np.random.default_rng(12).standard_normal((3, 3))
    got = tinytorch.linalg.matrix_exp(tinytorch.tensor(array, dtype=tinytorch.float16, device=device))
    assert got.dtype == tinytorch.float16
    expected = _host(tinytorch.linalg.matrix_exp(tinytorch.tensor(array.astype(np.float16).astype(np.float64))))
    np.testing.assert_allclose(_host(got).astype(np.float64), expected, rtol=2e-3, atol=2e-3)


def test_names_are_where_torch_has_them():
    for name in ("lu_factor", "lu_factor_ex", "lu", "lu_solve", "matrix_exp", "inv_ex", "cholesky_ex", "solve_ex",
                 "tensorinv", "tensorsolve"):
        assert name in tinytorch.linalg.__all__ and callable(getattr(tinytorch.linalg, name))
    for name in ("lu_unpack", "lu_solve", "matrix_exp", "triangular_solve"):
        assert callable(getattr(tinytorch, name))
    LU, pivots = tinytorch.linalg.lu_factor(tinytorch.eye(2))
    assert type(tinytorch.linalg.lu_factor(tinytorch.eye(2))).__name__ == "linalg_lu_factor"
    assert tinytorch.linalg.lu_factor_ex(tinytorch.eye(2))._fields == ("LU", "pivots", "info")
    assert tinytorch.linalg.lu(tinytorch.eye(2))._fields == ("P", "L", "U")
    assert tinytorch.lu_unpack(LU, pivots)._fields == ("P", "L", "U")
    assert tinytorch.linalg.inv_ex(tinytorch.eye(2))._fields == ("inverse", "info")
    assert tinytorch.linalg.cholesky_ex(tinytorch.eye(2))._fields == ("L", "info")
    assert tinytorch.linalg.solve_ex(tinytorch.eye(2), tinytorch.ones(2))._fields == ("result", "info")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert tinytorch.triangular_solve(tinytorch.ones(2, 1), tinytorch.eye(2))._fields == ("solution", "cloned_coefficient")
