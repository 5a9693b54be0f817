"""tinytorch.linalg beyond the op table: errors (PyTorch's exception types and words, on every
device), the decompositions' defining properties, sign and gauge conventions, the outputs each
lstsq driver computes, top-level and Tensor-method names, and end-to-end programs against torch.
Gradients of every primitive are checked by the op table (tests/ops/op_table.py)."""

import warnings

import numpy as np
import pytest

import tinytorch

SINGULAR = np.array([[1.0, 2.0], [2.0, 4.0]])
SINGULAR3 = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 1.0, 1.0]])  # exactly singular in any rounding
NOT_PD = np.array([[1.0, 2.0], [2.0, 1.0]])
NAN = np.array([[1.0, np.nan], [np.nan, 1.0]])


def _rng(seed=0):
    return np.random.default_rng(seed)


def _well_conditioned(rng, shape):
    return rng.standard_normal(shape) + 3 * np.eye(shape[-1])


def _spd(rng, shape):
    x = rng.standard_normal(shape)
    return x @ x.swapaxes(-2, -1) + shape[-1] * np.eye(shape[-1])


def _host(t):
    return t.detach().cpu().numpy()


# -- errors: the same call on tinytorch and on torch raises the same type with the same words -----
def f64(*shape):
    return np.ones(shape)


ERRORS = {
    "inv_not_square": lambda L, T: L.linalg.inv(T(f64(2, 3))),
    "inv_1d": lambda L, T: L.linalg.inv(T(f64(3))),
    "inv_long": lambda L, T: L.linalg.inv(T(np.eye(2, dtype=np.int64))),
    "inv_bool": lambda L, T: L.linalg.inv(T(np.eye(2, dtype=bool))),
    "inv_half": lambda L, T: L.linalg.inv(T(np.eye(2, dtype=np.float16))),
    "inv_singular": lambda L, T: L.linalg.inv(T(SINGULAR)),
    "inv_singular_3": lambda L, T: L.linalg.inv(T(SINGULAR3)),
    "inv_zeros": lambda L, T: L.linalg.inv(T(np.zeros((3, 3)))),
    "inv_batch_singular": lambda L, T: L.linalg.inv(T(np.stack([np.eye(2), SINGULAR]))),
    "inv_batch_of_one": lambda L, T: L.linalg.inv(T(SINGULAR[None])),
    "inverse_singular": lambda L, T: L.inverse(T(SINGULAR)),
    "inv_list": lambda L, T: L.linalg.inv([[1.0]]),
    "solve_singular": lambda L, T: L.linalg.solve(T(SINGULAR), T(f64(2))),
    "solve_batch_singular": lambda L, T: L.linalg.solve(T(np.stack([np.eye(2), SINGULAR])), T(f64(2, 2, 1))),
    "solve_left_false_singular": lambda L, T: L.linalg.solve(T(SINGULAR), T(f64(3, 2)), left=False),
    "solve_not_square": lambda L, T: L.linalg.solve(T(f64(2, 3)), T(f64(2))),
    "solve_vector_mismatch": lambda L, T: L.linalg.solve(T(np.eye(3)), T(f64(2))),
    "solve_matrix_mismatch": lambda L, T: L.linalg.solve(T(np.eye(3)), T(f64(2, 4))),
    "solve_batch_mismatch": lambda L, T: L.linalg.solve(T(np.stack([np.eye(3)] * 2)), T(f64(3, 3, 1))),
    "solve_not_a_batched_vector": lambda L, T: L.linalg.solve(T(np.stack([np.eye(3)] * 2)), T(f64(4, 3))),
    "solve_dtypes": lambda L, T: L.linalg.solve(T(np.eye(3)), T(np.ones(3, dtype=np.float32))),
    "solve_long": lambda L, T: L.linalg.solve(T(np.eye(3, dtype=np.int64)), T(np.ones(3, dtype=np.int64))),
    "solve_long_b": lambda L, T: L.linalg.solve(T(np.eye(3)), T(np.ones(3, dtype=np.int64))),
    "solve_0d_b": lambda L, T: L.linalg.solve(T(np.eye(3)), T(np.array(1.0))),
    "solve_half": lambda L, T: L.linalg.solve(T(np.eye(2, dtype=np.float16)), T(np.ones(2, dtype=np.float16))),
    "solve_left_false_vector": lambda L, T: L.linalg.solve(T(np.eye(3)), T(f64(3)), left=False),
    "solve_left_false_mismatch": lambda L, T: L.linalg.solve(T(np.eye(3)), T(f64(3, 2)), left=False),
    "det_not_square": lambda L, T: L.linalg.det(T(f64(2, 3))),
    "det_1d": lambda L, T: L.linalg.det(T(f64(3))),
    "det_long": lambda L, T: L.linalg.det(T(np.eye(2, dtype=np.int64))),
    "det_half": lambda L, T: L.linalg.det(T(np.eye(2, dtype=np.float16))),
    "slogdet_not_square": lambda L, T: L.linalg.slogdet(T(f64(2, 3))),
    "slogdet_half": lambda L, T: L.linalg.slogdet(T(np.eye(2, dtype=np.float16))),
    "logdet_long": lambda L, T: L.logdet(T(np.eye(2, dtype=np.int64))),
    "logdet_1d": lambda L, T: L.logdet(T(f64(3))),
    "cholesky_not_pd": lambda L, T: L.linalg.cholesky(T(NOT_PD)),
    "cholesky_batch_not_pd": lambda L, T: L.linalg.cholesky(T(np.stack([np.eye(2), NOT_PD]))),
    "cholesky_negative": lambda L, T: L.linalg.cholesky(T(-np.eye(2))),
    "cholesky_nan": lambda L, T: L.linalg.cholesky(T(NAN)),
    "cholesky_upper_reads_upper": lambda L, T: L.linalg.cholesky(T(np.array([[1.0, 2.0], [0.0, 1.0]])), upper=True),
    "cholesky_not_square": lambda L, T: L.linalg.cholesky(T(f64(2, 3))),
    "cholesky_long": lambda L, T: L.linalg.cholesky(T(np.eye(2, dtype=np.int64))),
    "cholesky_half": lambda L, T: L.linalg.cholesky(T(np.eye(2, dtype=np.float16))),
    "torch_cholesky_not_pd": lambda L, T: L.cholesky(T(NOT_PD)),
    "torch_cholesky_long": lambda L, T: L.cholesky(T(np.eye(2, dtype=np.int64))),
    "cholesky_inverse_long": lambda L, T: L.cholesky_inverse(T(np.eye(2, dtype=np.int64))),
    "cholesky_inverse_not_square": lambda L, T: L.cholesky_inverse(T(f64(2, 3))),
    "cholesky_solve_b_1d": lambda L, T: L.cholesky_solve(T(f64(3)), T(np.eye(3))),
    "cholesky_solve_l_1d": lambda L, T: L.cholesky_solve(T(f64(3, 1)), T(f64(3))),
    "cholesky_solve_mismatch": lambda L, T: L.cholesky_solve(T(f64(2, 1)), T(np.eye(3))),
    "cholesky_solve_dtypes": lambda L, T: L.cholesky_solve(T(np.ones((3, 1), dtype=np.float32)), T(np.eye(3))),
    "cholesky_solve_batch": lambda L, T: L.cholesky_solve(T(f64(2, 3, 1)), T(np.stack([np.eye(3)] * 3))),
    "cholesky_solve_long": lambda L, T: L.cholesky_solve(T(np.ones((3, 1), dtype=np.int64)), T(np.eye(3, dtype=np.int64))),
    "qr_mode": lambda L, T: L.linalg.qr(T(f64(3, 2)), mode="bad"),
    "qr_1d": lambda L, T: L.linalg.qr(T(f64(3))),
    "qr_long": lambda L, T: L.linalg.qr(T(np.eye(3, dtype=np.int64)), mode="bad"),
    "qr_half": lambda L, T: L.linalg.qr(T(np.eye(2, dtype=np.float16))),
    "svd_1d": lambda L, T: L.linalg.svd(T(f64(3))),
    "svd_long": lambda L, T: L.linalg.svd(T(np.eye(3, dtype=np.int64))),
    "svd_half": lambda L, T: L.linalg.svd(T(np.eye(3, dtype=np.float16))),
    "svd_nan": lambda L, T: L.linalg.svd(T(NAN)),
    "svdvals_nan": lambda L, T: L.linalg.svdvals(T(NAN)),
    "pinv_nan": lambda L, T: L.linalg.pinv(T(NAN)),
    "torch_svd_1d": lambda L, T: L.svd(T(f64(3))),
    "eigh_not_square": lambda L, T: L.linalg.eigh(T(f64(2, 3))),
    "eigh_uplo": lambda L, T: L.linalg.eigh(T(np.eye(3)), UPLO="X"),
    "eigh_uplo_before_dtype": lambda L, T: L.linalg.eigh(T(np.eye(3, dtype=np.int64)), UPLO="X"),
    "eigh_long": lambda L, T: L.linalg.eigh(T(np.eye(3, dtype=np.int64))),
    "eigvalsh_half": lambda L, T: L.linalg.eigvalsh(T(np.eye(3, dtype=np.float16))),
    "eigvalsh_1d": lambda L, T: L.linalg.eigvalsh(T(f64(3))),
    "pinv_1d": lambda L, T: L.linalg.pinv(T(f64(3))),
    "pinv_long": lambda L, T: L.linalg.pinv(T(np.ones((2, 3), dtype=np.int64))),
    "pinv_hermitian_not_square": lambda L, T: L.linalg.pinv(T(f64(2, 3)), hermitian=True),
    "pinv_atol_shape": lambda L, T: L.linalg.pinv(T(f64(2, 3, 3)), atol=T(np.array([0.1, 0.2, 0.3]))),
    "pinverse_half": lambda L, T: L.pinverse(T(np.eye(3, dtype=np.float16))),
    "lstsq_1d": lambda L, T: L.linalg.lstsq(T(f64(3)), T(f64(3))),
    "lstsq_0d_b": lambda L, T: L.linalg.lstsq(T(f64(3, 2)), T(np.array(1.0))),
    "lstsq_rows": lambda L, T: L.linalg.lstsq(T(f64(3, 2)), T(f64(4, 1))),
    "lstsq_rows_vector": lambda L, T: L.linalg.lstsq(T(f64(3, 2)), T(f64(1, 4))),
    "lstsq_dims": lambda L, T: L.linalg.lstsq(T(f64(3, 2)), T(f64(2, 2, 3, 1))),
    "lstsq_dtypes": lambda L, T: L.linalg.lstsq(T(f64(3, 2)), T(np.ones((3, 1), dtype=np.float32))),
    "lstsq_long": lambda L, T: L.linalg.lstsq(T(np.ones((3, 2), dtype=np.int64)), T(np.ones((3, 1), dtype=np.int64))),
    "lstsq_driver": lambda L, T: L.linalg.lstsq(T(f64(3, 2)), T(f64(3, 1)), driver="gesv"),
    "lstsq_batch": lambda L, T: L.linalg.lstsq(T(f64(2, 5, 3)), T(f64(3, 5, 1))),
    "matrix_power_not_square": lambda L, T: L.linalg.matrix_power(T(f64(2, 3)), 2),
    "matrix_power_1d": lambda L, T: L.linalg.matrix_power(T(f64(3)), 2),
    "matrix_power_singular": lambda L, T: L.linalg.matrix_power(T(SINGULAR), -2),
    "matrix_power_long_negative": lambda L, T: L.linalg.matrix_power(T(np.eye(2, dtype=np.int64)), -1),
    "matrix_power_float_n": lambda L, T: L.linalg.matrix_power(T(np.eye(2)), 2.0),
    "matrix_power_bool": lambda L, T: L.linalg.matrix_power(T(np.eye(2, dtype=bool)), 2),
    "cross_length": lambda L, T: L.linalg.cross(T(f64(4)), T(f64(4))),
    "cross_length_other": lambda L, T: L.linalg.cross(T(f64(2, 3)), T(f64(2, 4)), dim=0),
    "cross_ndim": lambda L, T: L.linalg.cross(T(f64(2, 3)), T(f64(3))),
    "cross_broadcast": lambda L, T: L.linalg.cross(T(f64(2, 3)), T(f64(4, 3))),
    "cross_dtypes": lambda L, T: L.linalg.cross(T(f64(3)), T(np.ones(3, dtype=np.float32))),
    "cross_bool": lambda L, T: L.linalg.cross(T(np.ones(3, dtype=bool)), T(np.ones(3, dtype=bool))),
    "cross_dim": lambda L, T: L.linalg.cross(T(f64(3, 2)), T(f64(3, 2)), dim=2),
    "torch_cross_no_size_3": lambda L, T: L.cross(T(f64(2, 4)), T(f64(2, 4))),
    "vector_norm_long": lambda L, T: L.linalg.vector_norm(T(np.arange(3))),
    "vector_norm_str_ord": lambda L, T: L.linalg.vector_norm(T(f64(3)), ord="fro"),
    "vector_norm_narrowing": lambda L, T: L.linalg.vector_norm(T(f64(3)), dtype=L.float32),
    "vector_norm_dtype_long": lambda L, T: L.linalg.vector_norm(T(f64(3)), dtype=L.int64),
    "vector_norm_empty_inf": lambda L, T: L.linalg.vector_norm(T(f64(0)), ord=float("inf")),
    "vector_norm_empty_negative": lambda L, T: L.linalg.vector_norm(T(f64(0)), ord=-1),
    "vector_norm_empty_dim": lambda L, T: L.linalg.vector_norm(T(f64(2, 0)), ord=float("-inf"), dim=1),
    "vector_norm_repeated_dim": lambda L, T: L.linalg.vector_norm(T(f64(2, 3)), dim=(0, 0)),
    "vector_norm_dim_range": lambda L, T: L.linalg.vector_norm(T(f64(2, 3)), dim=2),
    "matrix_norm_1d": lambda L, T: L.linalg.matrix_norm(T(f64(3))),
    "matrix_norm_ord": lambda L, T: L.linalg.matrix_norm(T(f64(3, 3)), ord=3),
    "matrix_norm_ord_0": lambda L, T: L.linalg.matrix_norm(T(f64(3, 3)), ord=0),
    "matrix_norm_ord_str": lambda L, T: L.linalg.matrix_norm(T(f64(3, 3)), ord="foo"),
    "matrix_norm_three_dims": lambda L, T: L.linalg.matrix_norm(T(f64(2, 3, 3)), dim=(0, 1, 2)),
    "matrix_norm_int_dim": lambda L, T: L.linalg.matrix_norm(T(f64(3, 3)), dim=0),
    "matrix_norm_same_dims": lambda L, T: L.linalg.matrix_norm(T(f64(3, 3)), dim=(-1, 1)),
    "matrix_norm_dim_range": lambda L, T: L.linalg.matrix_norm(T(f64(3, 3)), dim=(0, 2)),
    "matrix_norm_long": lambda L, T: L.linalg.matrix_norm(T(np.eye(3, dtype=np.int64))),
    "matrix_norm_nuc_half": lambda L, T: L.linalg.matrix_norm(T(np.eye(3, dtype=np.float16)), ord="nuc"),
    "norm_3d_with_ord": lambda L, T: L.linalg.norm(T(f64(2, 2, 2)), ord=2),
    "norm_0d_with_ord": lambda L, T: L.linalg.norm(T(np.array(2.0)), ord=2),
    "norm_three_dims": lambda L, T: L.linalg.norm(T(f64(2, 3, 3)), dim=(0, 1, 2)),
    "norm_three_dims_ord": lambda L, T: L.linalg.norm(T(f64(2, 3, 3)), ord=1, dim=(0, 1, 2)),
    "norm_fro_1d": lambda L, T: L.linalg.norm(T(f64(3)), ord="fro"),
    "norm_fro_3d": lambda L, T: L.linalg.norm(T(f64(2, 3, 3)), ord="fro"),
    "norm_nuc_one_dim": lambda L, T: L.linalg.norm(T(f64(3, 3)), ord="nuc", dim=0),
    "norm_long": lambda L, T: L.linalg.norm(T(np.arange(3))),
    "cond_1d": lambda L, T: L.linalg.cond(T(f64(3))),
    "cond_fro_1d": lambda L, T: L.linalg.cond(T(f64(3)), "fro"),
    "cond_fro_not_square": lambda L, T: L.linalg.cond(T(f64(2, 3)), "fro"),
    "cond_order": lambda L, T: L.linalg.cond(T(np.eye(3)), 3),
    "cond_long": lambda L, T: L.linalg.cond(T(np.eye(3, dtype=np.int64))),
    "matrix_rank_1d": lambda L, T: L.linalg.matrix_rank(T(f64(3))),
    "matrix_rank_long": lambda L, T: L.linalg.matrix_rank(T(np.eye(3, dtype=np.int64))),
    "matrix_rank_hermitian_not_square": lambda L, T: L.linalg.matrix_rank(T(f64(2, 3)), hermitian=True),
    "vecdot_dtypes": lambda L, T: L.linalg.vecdot(T(f64(3)), T(np.ones(3, dtype=np.float32))),
    "vecdot_long": lambda L, T: L.linalg.vecdot(T(np.ones(3, dtype=np.int64)), T(np.ones(3, dtype=np.int64))),
    "matrix_norm_-2_empty": lambda L, T: L.linalg.matrix_norm(T(np.zeros((0, 3))), ord=-2),
}


# PyTorch's argument parser lists every overload: the type is compared, not the words.
TYPE_ONLY = {"matrix_norm_int_dim", "inv_list"}


def _same_error(torch, ours, theirs, words=True):
    if isinstance(theirs, torch.linalg.LinAlgError):
        assert isinstance(ours, tinytorch.linalg.LinAlgError), f"{type(ours).__name__}: {ours}"
        assert isinstance(ours, RuntimeError)
    else:
        assert type(ours).__name__ == type(theirs).__name__, f"{type(ours).__name__}: {ours} / torch: {theirs}"
        assert not isinstance(ours, tinytorch.linalg.LinAlgError)
    assert str(ours) == str(theirs) if words else str(ours)


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_match_torch(name, device):
    """The call raises what torch raises; a data-dependent failure on a GPU at the next
    synchronization (tinytorch.cuda.synchronize() here)."""
    torch = pytest.importorskip("torch")
    call = ERRORS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as theirs:
            call(torch, lambda a: torch.tensor(a))
        with pytest.raises(Exception) as ours:
            call(tinytorch, lambda a: tinytorch.tensor(a, device=device))
            tinytorch.cuda.synchronize() if device == "cuda" else None
    _same_error(torch, ours.value, theirs.value, words=name not in TYPE_ONLY)


def test_linalg_error_is_a_runtime_error():
    assert issubclass(tinytorch.linalg.LinAlgError, RuntimeError)
    with pytest.raises(RuntimeError, match="singular"):
        tinytorch.linalg.inv(tinytorch.tensor(SINGULAR))


def test_nan_input_gives_nan_not_an_error(device):
    """PyTorch returns NaN for inv, solve, det and eigh of a matrix holding NaN: so do we."""
    a = tinytorch.tensor(NAN, device=device)
    for out in (tinytorch.linalg.inv(a), tinytorch.linalg.solve(a, a), tinytorch.linalg.det(a), tinytorch.linalg.eigvalsh(a)):
        assert np.isnan(_host(out)).all()
    tinytorch.cuda.synchronize() if device == "cuda" else None


def test_a_singular_matrix_in_a_gpu_batch_is_reported_at_synchronization(device):
    """On a GPU the call returns (reading the flag would stall); the error comes at the next sync."""
    a = tinytorch.tensor(np.stack([np.eye(2), SINGULAR]), device=device)
    if device == "cpu":
        with pytest.raises(tinytorch.linalg.LinAlgError, match=r"\(Batch element 1\)"):
            tinytorch.linalg.inv(a)
        return
    tinytorch.linalg.inv(a)
    with pytest.raises(tinytorch.linalg.LinAlgError, match=r"\(Batch element 1\): The diagonal element 2 is zero"):
        tinytorch.cuda.synchronize()
    tinytorch.linalg.inv(tinytorch.tensor(np.eye(2), device=device))
    tinytorch.cuda.synchronize()  # a good matrix leaves nothing behind


# -- what each decomposition is (no torch needed) ------------------------------------------------
BATCH_SHAPES = [(), (3,), (2, 1)]


@pytest.mark.parametrize("batch", BATCH_SHAPES)
def test_inverse_and_solve(batch, device):
    rng = _rng()
    a_np = _well_conditioned(rng, batch + (4, 4))
    a = tinytorch.tensor(a_np, device=device)
    eye = np.broadcast_to(np.eye(4), batch + (4, 4))
    np.testing.assert_allclose(_host(a @ tinytorch.linalg.inv(a)), eye, atol=1e-12)
    np.testing.assert_allclose(_host(a.inverse()), np.linalg.inv(a_np), atol=1e-12)
    b = tinytorch.tensor(rng.standard_normal((5,) + batch + (4, 2)), device=device)  # B's batch broadcasts
    x = tinytorch.linalg.solve(a, b)
    assert tuple(x.shape) == (5,) + batch + (4, 2)
    np.testing.assert_allclose(_host(a @ x), _host(b), atol=1e-12)
    v = tinytorch.tensor(rng.standard_normal(batch + (4,)), device=device)  # a batch of vectors
    np.testing.assert_allclose(_host((a @ tinytorch.linalg.solve(a, v).unsqueeze(-1)).squeeze(-1)), _host(v), atol=1e-12)
    c = tinytorch.tensor(rng.standard_normal(batch + (3, 4)), device=device)
    np.testing.assert_allclose(_host(tinytorch.linalg.solve(a, c, left=False) @ a), _host(c), atol=1e-12)


@pytest.mark.parametrize("batch", BATCH_SHAPES)
def test_determinants(batch, device):
    a_np = _rng(1).standard_normal(batch + (4, 4))
    a = tinytorch.tensor(a_np, device=device)
    np.testing.assert_allclose(_host(tinytorch.linalg.det(a)), np.linalg.det(a_np), rtol=1e-10)
    sign, logabsdet = tinytorch.linalg.slogdet(a)
    np.testing.assert_allclose(_host(sign * logabsdet.exp()), np.linalg.det(a_np), rtol=1e-10)
    assert not sign.requires_grad
    logdet = _host(tinytorch.logdet(a))
    dets = np.linalg.det(a_np)
    positive = dets > 0
    np.testing.assert_allclose(logdet[positive], np.log(dets[positive]), rtol=1e-10)
    assert np.isnan(logdet[~positive]).all()
    assert _host(tinytorch.linalg.det(tinytorch.zeros(2, 0, 0, dtype=tinytorch.float64, device=device))).tolist() == [1.0, 1.0]


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky(upper, device):
    a_np = _spd(_rng(2), (2, 4, 4))
    factor = tinytorch.linalg.cholesky(tinytorch.tensor(a_np, device=device), upper=upper)
    f = _host(factor)
    lower = f.swapaxes(-2, -1) if upper else f
    np.testing.assert_allclose(np.triu(lower, 1), 0)
    assert (np.diagonal(lower, axis1=-2, axis2=-1) > 0).all()
    np.testing.assert_allclose(lower @ lower.swapaxes(-2, -1), a_np, atol=1e-12)
    # Only one triangle is read: the lower one, or the upper one when upper=True (LAPACK's uplo).
    lopsided = np.triu(a_np) if upper else np.tril(a_np)
    np.testing.assert_allclose(_host(tinytorch.linalg.cholesky(tinytorch.tensor(lopsided, device=device), upper=upper)), f, atol=1e-12)
    b = _rng(3).standard_normal((2, 4, 3))
    x = tinytorch.cholesky_solve(tinytorch.tensor(b, device=device), factor, upper=upper)
    np.testing.assert_allclose(a_np @ _host(x), b, atol=1e-12)
    np.testing.assert_allclose(_host(tinytorch.cholesky_inverse(factor, upper=upper)), np.linalg.inv(a_np), atol=1e-12)


@pytest.mark.parametrize("shape", [(5, 3), (3, 3), (3, 5), (2, 4, 2)])
@pytest.mark.parametrize("mode", ["reduced", "complete", "r"])
def test_qr(shape, mode, device):
    a_np = _rng(4).standard_normal(shape)
    m, n = shape[-2:]
    k = min(m, n)
    q, r = tinytorch.linalg.qr(tinytorch.tensor(a_np, device=device), mode=mode)
    r_np = _host(r)
    assert r_np.shape == shape[:-2] + ((m if mode == "complete" else k), n)
    np.testing.assert_allclose(np.tril(r_np, -1), 0)
    if mode == "r":
        assert tuple(q.shape) == (0,)
        return
    q_np = _host(q)
    assert q_np.shape == shape[:-2] + (m, m if mode == "complete" else k)
    np.testing.assert_allclose(q_np.swapaxes(-2, -1) @ q_np, np.broadcast_to(np.eye(q_np.shape[-1]), q_np.shape[:-2] + (q_np.shape[-1],) * 2), atol=1e-12)
    np.testing.assert_allclose(q_np @ r_np, a_np, atol=1e-12)


@pytest.mark.parametrize("shape", [(5, 3), (3, 3), (3, 5), (2, 4, 2)])
@pytest.mark.parametrize("full_matrices", [True, False])
def test_svd(shape, full_matrices, device):
    a_np = _rng(5).standard_normal(shape)
    m, n = shape[-2:]
    k = min(m, n)
    u, s, vh = tinytorch.linalg.svd(tinytorch.tensor(a_np, device=device), full_matrices=full_matrices)
    u, s, vh = _host(u), _host(s), _host(vh)
    assert u.shape[-2:] == ((m, m) if full_matrices else (m, k)) and vh.shape[-2:] == ((n, n) if full_matrices else (k, n))
    assert (np.diff(s, axis=-1) <= 0).all() and (s >= 0).all()
    np.testing.assert_allclose((u[..., :k] * s[..., None, :]) @ vh[..., :k, :], a_np, atol=1e-12)
    np.testing.assert_allclose(u.swapaxes(-2, -1) @ u, np.broadcast_to(np.eye(u.shape[-1]), u.shape[:-2] + (u.shape[-1],) * 2), atol=1e-12)
    np.testing.assert_allclose(_host(tinytorch.linalg.svdvals(tinytorch.tensor(a_np, device=device))), s, atol=1e-12)
    U, S, V = tinytorch.svd(tinytorch.tensor(a_np, device=device))  # torch.svd: V, reduced by default
    np.testing.assert_allclose((_host(U) * _host(S)[..., None, :]) @ _host(V).swapaxes(-2, -1), a_np, atol=1e-12)
    U, S, V = tinytorch.svd(tinytorch.tensor(a_np, device=device), compute_uv=False)
    assert not _host(U).any() and U.shape[-2:] == (m, m) and V.shape[-2:] == (n, n)


@pytest.mark.parametrize("UPLO", ["L", "U"])
def test_eigh(UPLO, device):
    a_np = _spd(_rng(6), (3, 4, 4)) - 5 * np.eye(4)
    values, vectors = tinytorch.linalg.eigh(tinytorch.tensor(a_np, device=device), UPLO=UPLO)
    w, v = _host(values), _host(vectors)
    assert (np.diff(w, axis=-1) >= 0).all()
    np.testing.assert_allclose(a_np @ v, v * w[..., None, :], atol=1e-10)
    # One triangle is read: junk in the other changes nothing.
    kept = np.tril(a_np) if UPLO == "L" else np.triu(a_np)
    junk = tinytorch.tensor(kept + _other_triangle(a_np, UPLO), device=device)
    np.testing.assert_allclose(_host(tinytorch.linalg.eigvalsh(junk, UPLO=UPLO)), w, atol=1e-10)


def _other_triangle(a, UPLO):
    """Junk in the triangle eigh must not read."""
    return np.triu(np.full_like(a, 9.0), 1) if UPLO == "L" else np.tril(np.full_like(a, 9.0), -1)


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (2, 3, 3)])
def test_pinv_is_the_moore_penrose_inverse(shape, device):
    a_np = _rng(7).standard_normal(shape)
    p = _host(tinytorch.linalg.pinv(tinytorch.tensor(a_np, device=device)))
    np.testing.assert_allclose(a_np @ p @ a_np, a_np, atol=1e-12)
    np.testing.assert_allclose(p @ a_np @ p, p, atol=1e-12)
    np.testing.assert_allclose((a_np @ p).swapaxes(-2, -1), a_np @ p, atol=1e-12)
    np.testing.assert_allclose((p @ a_np).swapaxes(-2, -1), p @ a_np, atol=1e-12)


def test_pinv_tolerances(device):
    """Singular values at or below max(atol, rtol * largest) count as zero."""
    a = tinytorch.tensor(np.diag([4.0, 1.0, 1e-3]), device=device)
    np.testing.assert_allclose(_host(tinytorch.linalg.pinv(a)), np.diag([0.25, 1.0, 1e3]))
    np.testing.assert_allclose(_host(tinytorch.linalg.pinv(a, rtol=0.01)), np.diag([0.25, 1.0, 0.0]))
    np.testing.assert_allclose(_host(tinytorch.linalg.pinv(a, atol=2.0)), np.diag([0.25, 0.0, 0.0]))
    np.testing.assert_allclose(_host(tinytorch.pinverse(a, rcond=0.5)), np.diag([0.25, 0.0, 0.0]))
    batch = tinytorch.tensor(np.stack([np.diag([4.0, 1.0, 1e-3])] * 2), device=device)
    out = _host(tinytorch.linalg.pinv(batch, atol=tinytorch.tensor([0.0, 2.0], dtype=tinytorch.float64, device=device)))
    np.testing.assert_allclose(out, np.stack([np.diag([0.25, 1.0, 1e3]), np.diag([0.25, 0.0, 0.0])]))
    with pytest.raises(TypeError):
        tinytorch.linalg.pinv(a, 0.1, rtol=0.1)


def test_matrix_power_and_cross(device):
    a_np = _rng(8).standard_normal((2, 3, 3))
    a = tinytorch.tensor(a_np, device=device)
    for n in range(-3, 7):
        expected = np.linalg.matrix_power(a_np, n)
        np.testing.assert_allclose(_host(tinytorch.linalg.matrix_power(a, n)), expected, rtol=1e-9, atol=1e-9)
    ints = tinytorch.tensor([[1, 1], [1, 0]], device=device)
    assert _host(ints.matrix_power(10)).tolist() == [[89, 55], [55, 34]]  # Fibonacci, in int64
    assert tinytorch.linalg.matrix_power(ints, 0).dtype == tinytorch.int64
    x, y = (tinytorch.tensor(_rng(9).standard_normal((4, 3)), device=device) for _ in range(2))
    c = _host(tinytorch.linalg.cross(x, y))
    np.testing.assert_allclose(c, np.cross(_host(x), _host(y)), atol=1e-12)
    np.testing.assert_allclose((c * _host(x)).sum(-1), 0, atol=1e-12)
    np.testing.assert_allclose(_host(x.T.cross(y.T)), c.T, atol=1e-12)  # Tensor.cross: the first dim of size 3


# -- sign and gauge conventions --------------------------------------------------------------------
def _signs_agree(ours, theirs, axis):
    """Equal up to a sign per column (axis=-1) or row (axis=-2), the freedom of SVD, eigh and QR."""
    dots = (ours * theirs).sum(axis=axis, keepdims=True)
    np.testing.assert_allclose(ours * np.sign(dots), theirs, atol=1e-10)


def test_decompositions_match_torch_up_to_signs(device):
    torch = pytest.importorskip("torch")
    rng = _rng(10)
    a_np = rng.standard_normal((3, 5, 4))
    u, s, vh = (_host(t) for t in tinytorch.linalg.svd(tinytorch.tensor(a_np, device=device), full_matrices=False))
    tu, ts, tvh = (t.numpy() for t in torch.linalg.svd(torch.tensor(a_np), full_matrices=False))
    np.testing.assert_allclose(s, ts, atol=1e-12)
    _signs_agree(u, tu, -2)
    _signs_agree(vh, tvh, -1)
    sym = _spd(rng, (3, 4, 4)) - 6 * np.eye(4)
    w, v = (_host(t) for t in tinytorch.linalg.eigh(tinytorch.tensor(sym, device=device)))
    tw, tv = (t.numpy() for t in torch.linalg.eigh(torch.tensor(sym)))
    np.testing.assert_allclose(w, tw, atol=1e-12)
    _signs_agree(v, tv, -2)
    q, r = (_host(t) for t in tinytorch.linalg.qr(tinytorch.tensor(a_np, device=device)))
    tq, tr = (t.numpy() for t in torch.linalg.qr(torch.tensor(a_np)))
    _signs_agree(q, tq, -2)
    _signs_agree(r, tr, -1)


def test_a_loss_that_ignores_the_signs_has_the_same_gradient_as_torch(device):
    """|U|, U Vh, V V^T: functions that do not depend on the sign convention differentiate alike."""
    torch = pytest.importorskip("torch")
    rng = _rng(11)
    a_np = rng.standard_normal((2, 4, 3))
    w = [rng.standard_normal(s) for s in [(2, 4, 3), (2, 4, 3), (2, 3, 3)]]

    def loss(lib, a, weights):
        u, s, vh = lib.linalg.svd(a, full_matrices=False)
        values, vectors = lib.linalg.eigh(a.mT @ a)
        return ((u.abs() * weights[0]).sum() + ((u @ vh) * weights[1]).sum() + ((vectors @ vectors.mT * values.unsqueeze(-2)) * weights[2]).sum())

    ours = tinytorch.tensor(a_np, device=device, requires_grad=True)
    theirs = torch.tensor(a_np, requires_grad=True)
    loss(tinytorch, ours, [tinytorch.tensor(x, device=device) for x in w]).backward()
    loss(torch, theirs, [torch.tensor(x) for x in w]).backward()
    np.testing.assert_allclose(_host(ours.grad), theirs.grad.numpy(), atol=1e-9)


# -- lstsq: what each driver computes ------------------------------------------------------------
@pytest.mark.parametrize("driver", [None, "gels", "gelsy", "gelsd", "gelss"])
@pytest.mark.parametrize("shapes", [((5, 3), (5, 2)), ((5, 3), (5,)), ((1, 5, 3), (4, 5, 2)), ((2, 4), (2, 3))])
def test_lstsq_outputs_match_torch(driver, shapes):
    torch = pytest.importorskip("torch")
    rng = _rng(12)
    a_np, b_np = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    ours = tinytorch.linalg.lstsq(tinytorch.tensor(a_np), tinytorch.tensor(b_np), driver=driver)
    theirs = torch.linalg.lstsq(torch.tensor(a_np), torch.tensor(b_np), driver=driver)
    for field in ("solution", "residuals", "rank", "singular_values"):
        got, expected = getattr(ours, field), getattr(theirs, field)
        assert tuple(got.shape) == tuple(expected.shape), field
        assert got.dtype.name == str(expected.dtype).replace("torch.", ""), field
        np.testing.assert_allclose(_host(got), expected.numpy(), atol=1e-10)


def test_lstsq_of_a_rank_deficient_matrix_is_the_minimum_norm_solution():
    torch = pytest.importorskip("torch")
    a = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])
    b = _rng(13).standard_normal((3, 2))
    for driver in ("gelsy", "gelsd", "gelss"):
        ours = tinytorch.linalg.lstsq(tinytorch.tensor(a), tinytorch.tensor(b), driver=driver)
        theirs = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b), driver=driver)
        np.testing.assert_allclose(_host(ours.solution), theirs.solution.numpy(), atol=1e-12)
        assert int(ours.rank) == int(theirs.rank) == 1
        assert ours.residuals.shape == theirs.residuals.shape == (0,)  # not full rank: no residuals


# -- names, return types, dtypes ---------------------------------------------------------------
def test_return_types_are_named_as_pytorchs():
    torch = pytest.importorskip("torch")
    a_np = _spd(_rng(14), (3, 3))
    for name, args, fields in [
        ("slogdet", (), ("sign", "logabsdet")), ("qr", (), ("Q", "R")), ("svd", (), ("U", "S", "Vh")),
        ("eigh", (), ("eigenvalues", "eigenvectors")), ("lstsq", (a_np,), ("solution", "residuals", "rank", "singular_values")),
    ]:
        ours = getattr(tinytorch.linalg, name)(tinytorch.tensor(a_np), *(tinytorch.tensor(x) for x in args))
        theirs = getattr(torch.linalg, name)(torch.tensor(a_np), *(torch.tensor(x) for x in args))
        assert type(ours).__name__ == type(theirs).__name__ and ours._fields == fields
        assert all(hasattr(theirs, field) for field in fields)
        assert repr(ours).startswith(f"tinytorch.return_types.{type(theirs).__name__}(\n{fields[0]}=tensor(")
    for name, fields in [("slogdet", ("sign", "logabsdet")), ("qr", ("Q", "R")), ("svd", ("U", "S", "V"))]:
        ours, theirs = getattr(tinytorch, name)(tinytorch.tensor(a_np)), getattr(torch, name)(torch.tensor(a_np))
        assert type(ours).__name__ == type(theirs).__name__ and ours._fields == fields


@pytest.mark.parametrize("name, args", [
    ("det", ()), ("logdet", ()), ("slogdet", ()), ("inverse", ()), ("pinverse", ()), ("matrix_power", (3,)),
    ("cholesky", ()), ("cholesky_inverse", ()), ("qr", ()), ("svd", ()),
])
def test_top_level_functions_and_methods_match_torch(name, args):
    torch = pytest.importorskip("torch")
    a_np = np.linalg.cholesky(_spd(_rng(15), (2, 3, 3))) if name == "cholesky_inverse" else _spd(_rng(15), (2, 3, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.cholesky is deprecated (a warning on both sides)
        results = [getattr(tinytorch, name)(tinytorch.tensor(a_np), *args), getattr(tinytorch.tensor(a_np), name)(*args)]
        expected = getattr(torch, name)(torch.tensor(a_np), *args)
    expected = expected if isinstance(expected, tuple) else (expected,)
    for ours in results:
        ours = ours if isinstance(ours, tuple) else (ours,)
        for got, want in zip(ours, expected):
            if name in ("qr", "svd") and got.dim() == 3:
                _signs_agree(_host(got), want.numpy(), -2 if got is ours[0] else -1)
            else:
                np.testing.assert_allclose(_host(got), want.numpy(), atol=1e-12)
    b = _rng(16).standard_normal((2, 3, 2))
    factor = np.linalg.cholesky(a_np)
    np.testing.assert_allclose(_host(tinytorch.tensor(b).cholesky_solve(tinytorch.tensor(factor))),
                               torch.tensor(b).cholesky_solve(torch.tensor(factor)).numpy(), atol=1e-12)


def test_deprecated_spellings_warn_as_pytorchs():
    a = tinytorch.tensor(_spd(_rng(17), (3, 3)))
    with pytest.warns(UserWarning, match="torch.cholesky is deprecated"):
        tinytorch.cholesky(a)
    with pytest.warns(UserWarning, match="without specifying the dim arg is deprecated"):
        tinytorch.cross(a, a)
    with pytest.warns(UserWarning, match="torch.qr is deprecated"):
        tinytorch.qr(a)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_results_keep_the_input_dtype(dtype, device):
    a = tinytorch.tensor(_spd(_rng(18), (2, 3, 3)), dtype=getattr(tinytorch, dtype), device=device)
    outputs = [tinytorch.linalg.inv(a), tinytorch.linalg.det(a), *tinytorch.linalg.slogdet(a), tinytorch.linalg.cholesky(a),
               *tinytorch.linalg.qr(a), *tinytorch.linalg.svd(a), *tinytorch.linalg.eigh(a), tinytorch.linalg.pinv(a),
               tinytorch.linalg.matrix_norm(a, "nuc"), tinytorch.linalg.vector_norm(a), tinytorch.linalg.solve(a, a)]
    for out in outputs:
        assert out.dtype == getattr(tinytorch, dtype) and out.device.type == device


# -- gradients the op table does not reach -------------------------------------------------------
def test_det_gradient_at_a_singular_matrix_is_the_cofactor_matrix(device):
    """Both with and without create_graph (PyTorch's plain backward gives 0 here; docs/differences.md)."""
    a = tinytorch.tensor(SINGULAR, device=device, requires_grad=True)
    tinytorch.linalg.det(a).backward()
    cofactors = np.array([[4.0, -2.0], [-2.0, 1.0]])
    np.testing.assert_allclose(_host(a.grad), cofactors, atol=1e-12)
    (grad,) = tinytorch.autograd.grad(tinytorch.linalg.det(a), a, create_graph=True)
    np.testing.assert_allclose(_host(grad), cofactors, atol=1e-12)


def test_qr_gradient_errors_as_pytorchs():
    torch = pytest.importorskip("torch")
    for mode, shape in [("r", (3, 3)), ("complete", (4, 3))]:
        errors = []
        for lib in (tinytorch, torch):
            a = lib.tensor(_rng(19).standard_normal(shape), requires_grad=True)
            q, r = lib.linalg.qr(a, mode=mode)
            with pytest.raises(RuntimeError) as error:
                r.sum().backward()
            errors.append(str(error.value))
        assert errors[0] == errors[1]


def test_second_derivatives_of_a_gaussian_log_likelihood_match_torch():
    """A Hessian-vector product through cholesky, cholesky_solve and logdet, against torch."""
    torch = pytest.importorskip("torch")
    rng = _rng(20)
    x_np, y_np, v_np = rng.standard_normal((3, 3)), rng.standard_normal((3, 2)), rng.standard_normal((3, 3))

    def hvp(lib, x):
        cov = x @ x.mT + 3 * lib.eye(3, dtype=x.dtype)
        factor = lib.linalg.cholesky(cov)
        nll = 0.5 * (y * lib.cholesky_solve(y, factor)).sum() + lib.logdet(cov) + lib.linalg.slogdet(cov)[1]
        (grad,) = lib.autograd.grad(nll, x, create_graph=True)
        (second,) = lib.autograd.grad((grad * lib.tensor(v_np)).sum(), x)
        return grad.detach(), second

    results = []
    for lib in (tinytorch, torch):
        y = lib.tensor(y_np)
        results.append(hvp(lib, lib.tensor(x_np, requires_grad=True)))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(_host(ours), theirs.numpy(), atol=1e-10)


def test_a_least_squares_fit_trains_like_torchs():
    """Ten SGD steps on a loss through lstsq, pinv, norms and svdvals give torch's parameters."""
    torch = pytest.importorskip("torch")
    rng = _rng(21)
    a_np, b_np = rng.standard_normal((6, 3)), rng.standard_normal((6, 2))
    finals = []
    for lib in (tinytorch, torch):
        w = lib.tensor(a_np, requires_grad=True)
        b = lib.tensor(b_np)
        optimizer = lib.optim.SGD([w], lr=0.05)
        for _ in range(10):
            optimizer.zero_grad()
            solution, residuals, _, _ = lib.linalg.lstsq(w, b, driver="gelsd")
            loss = (residuals.sum() + lib.linalg.matrix_norm(solution, "nuc") + lib.linalg.vector_norm(lib.linalg.pinv(w), 3)
                    - lib.linalg.svdvals(w).log().sum())
            loss.backward()
            optimizer.step()
        finals.append(_host(w) if lib is tinytorch else w.detach().numpy())
    np.testing.assert_allclose(finals[0], finals[1], atol=1e-10)


def test_cond_matrix_rank_vecdot_diagonal_and_matmul_match_torch(device):
    torch = pytest.importorskip("torch")
    rng = _rng(22)
    a_np = rng.standard_normal((2, 3, 3))
    singular = np.stack([SINGULAR, np.eye(2)])
    for p in (None, 2, -2, "fro", "nuc", 1, -1, float("inf"), float("-inf")):
        # From the singular values (None, 2, -2, nuc), a singular matrix's condition number is rounding.
        for x in (a_np, singular) if p not in (None, 2, -2, "nuc") else (a_np,):
            np.testing.assert_allclose(_host(tinytorch.linalg.cond(tinytorch.tensor(x, device=device), p)),
                                       torch.linalg.cond(torch.tensor(x), p).numpy(), rtol=1e-9)
    diag = np.stack([np.diag([3.0, 1.0, 0.1]), np.diag([-3.0, 1.0, 0.0])])
    for kwargs in ({}, {"rtol": 0.1}, {"atol": 0.5}, {"atol": 2.0, "rtol": 0.01}, {"hermitian": True}):
        np.testing.assert_array_equal(_host(tinytorch.linalg.matrix_rank(tinytorch.tensor(diag, device=device), **kwargs)),
                                      torch.linalg.matrix_rank(torch.tensor(diag), **kwargs).numpy())
    atol = np.array([0.5, 2.0])
    np.testing.assert_array_equal(
        _host(tinytorch.linalg.matrix_rank(tinytorch.tensor(diag, device=device), atol=tinytorch.tensor(atol, device=device))),
        torch.linalg.matrix_rank(torch.tensor(diag), atol=torch.tensor(atol)).numpy())
    x, y = rng.standard_normal((2, 3)), rng.standard_normal(3)
    np.testing.assert_allclose(_host(tinytorch.linalg.vecdot(tinytorch.tensor(x, device=device), tinytorch.tensor(y, device=device))),
                               torch.linalg.vecdot(torch.tensor(x), torch.tensor(y)).numpy())
    np.testing.assert_allclose(_host(tinytorch.linalg.diagonal(tinytorch.tensor(a_np, device=device), offset=1)),
                               torch.linalg.diagonal(torch.tensor(a_np), offset=1).numpy())
    np.testing.assert_allclose(_host(tinytorch.linalg.matmul(tinytorch.tensor(a_np, device=device), tinytorch.tensor(y, device=device))),
                               torch.linalg.matmul(torch.tensor(a_np), torch.tensor(y)).numpy())


EMPTY = {
    "inv": lambda L, T: L.linalg.inv(T(np.zeros((0, 0)))),
    "inv_batch": lambda L, T: L.linalg.inv(T(np.zeros((0, 2, 2)))),
    "det_batch": lambda L, T: L.linalg.det(T(np.zeros((0, 2, 2)))),
    "slogdet": lambda L, T: L.linalg.slogdet(T(np.zeros((0, 0)))),
    "cholesky": lambda L, T: L.linalg.cholesky(T(np.zeros((0, 0)))),
    "cholesky_batch": lambda L, T: L.linalg.cholesky(T(np.zeros((0, 3, 3)))),
    "qr_no_rows": lambda L, T: L.linalg.qr(T(np.zeros((0, 3)))),
    "qr_no_columns": lambda L, T: L.linalg.qr(T(np.zeros((3, 0)))),
    "svd": lambda L, T: L.linalg.svd(T(np.zeros((0, 3)))),
    "svd_reduced": lambda L, T: L.linalg.svd(T(np.zeros((0, 3))), full_matrices=False),
    "svdvals_batch": lambda L, T: L.linalg.svdvals(T(np.zeros((0, 3, 2)))),
    "eigh": lambda L, T: L.linalg.eigh(T(np.zeros((0, 0)))),
    "pinv": lambda L, T: L.linalg.pinv(T(np.zeros((0, 3)))),
    "pinv_batch": lambda L, T: L.linalg.pinv(T(np.zeros((0, 3, 2)))),
    "solve_batch": lambda L, T: L.linalg.solve(T(np.zeros((0, 2, 2))), T(np.zeros((0, 2)))),
    "solve": lambda L, T: L.linalg.solve(T(np.zeros((0, 0))), T(np.zeros((0, 3)))),
    "matrix_power_batch": lambda L, T: L.linalg.matrix_power(T(np.zeros((0, 2, 2))), 3),
    "vector_norm": lambda L, T: L.linalg.vector_norm(T(np.zeros((0, 3))), dim=0),
    "matrix_norm_2": lambda L, T: L.linalg.matrix_norm(T(np.zeros((0, 3))), ord=2),
    "matrix_norm_nuc": lambda L, T: L.linalg.matrix_norm(T(np.zeros((2, 0, 3))), ord="nuc", keepdim=True),
    "matrix_norm_fro": lambda L, T: L.linalg.matrix_norm(T(np.zeros((0, 3)))),
    "matrix_norm_1": lambda L, T: L.linalg.matrix_norm(T(np.zeros((2, 0, 3))), ord=1),
    "lstsq": lambda L, T: L.linalg.lstsq(T(np.zeros((0, 3, 2))), T(np.zeros((0, 3, 1))), driver="gelsy"),
    "cross": lambda L, T: L.linalg.cross(T(np.zeros((0, 3))), T(np.zeros((0, 3)))),
}


@pytest.mark.parametrize("name", list(EMPTY))
def test_empty_inputs_match_torch(name, device):
    torch = pytest.importorskip("torch")
    ours = EMPTY[name](tinytorch, lambda a: tinytorch.tensor(a, device=device))
    theirs = EMPTY[name](torch, torch.tensor)
    ours, theirs = (x if isinstance(x, tuple) else (x,) for x in (ours, theirs))
    assert len(ours) == len(theirs)
    for got, expected in zip(ours, theirs):
        assert tuple(got.shape) == tuple(expected.shape)
        np.testing.assert_array_equal(_host(got), expected.numpy())


@pytest.mark.parametrize("p", [0.5, -1.0, 1, 3, float("inf"), float("-inf")])
def test_tensor_norm_takes_every_real_p_as_vector_norm(p):
    """``Tensor.norm``/``torch.norm``, ``linalg.vector_norm`` and the distances share one p-norm
    (``_ops/reduce.p_norm``): values and gradients equal PyTorch's, p < 1 included."""
    torch = pytest.importorskip("torch")
    values = np.array([[0.5, -2.0, 0.0], [1.5, 0.3, -0.7]])
    ours, theirs = tinytorch.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    a, b = ours.norm(p, 1), theirs.norm(p, 1)
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12)
    a.sum().backward()
    b.sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(tinytorch.linalg.vector_norm(ours, p, 1).detach().numpy(), a.detach().numpy(), rtol=0)
