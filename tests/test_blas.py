"""Direct BLAS calls (tinytorch/_blas.py): MKL's products (opt-in) give the same products as NumPy
for every operand layout they accept, and NumPy's matmul wherever they decline; axpy (NumPy's own
OpenBLAS by default, or MKL) updates in place as NumPy would, rounded once as PyTorch's add_."""

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinytorch
from tinytorch import _backend, _blas

needs_mkl = pytest.mark.skipif(not _blas.HAS_GEMM, reason="MKL is off: pip install 'tinytorch[mkl]' and set TINYTORCH_BLAS=mkl")


def _layout(array, kind):
    """The same values in another memory layout: C order, Fortran order, or a strided view."""
    if kind == "C":
        return np.ascontiguousarray(array)
    if kind == "F":
        return np.asfortranarray(array)
    padded = np.zeros((array.shape[0], array.shape[1] + 3), array.dtype)  # rows with a gap after them
    padded[:, : array.shape[1]] = array
    return padded[:, : array.shape[1]]


@needs_mkl
@settings(max_examples=60, deadline=None)
@given(m=st.integers(1, 40), k=st.integers(1, 40), n=st.integers(1, 40), dtype=st.sampled_from([np.float32, np.float64]),
       layout_a=st.sampled_from("CFS"), layout_b=st.sampled_from("CFS"))
def test_gemm_matches_numpy_for_every_layout(m, k, n, dtype, layout_a, layout_b):
    rng = np.random.default_rng(m * 10000 + k * 100 + n)
    a = _layout(rng.standard_normal((m, k)).astype(dtype), layout_a)
    b = _layout(rng.standard_normal((k, n)).astype(dtype), layout_b)
    out = _blas.gemm(a, b)
    assert out.dtype == dtype and out.shape == (m, n) and out.flags.c_contiguous
    tol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, a @ b, rtol=tol, atol=tol)


@needs_mkl
@settings(max_examples=40, deadline=None)
@given(m=st.integers(1, 30), k=st.integers(1, 30), n=st.integers(1, 30), dtype=st.sampled_from([np.float32, np.float64]),
       layout_b=st.sampled_from("CFS"))
def test_gemm_into_out_adds_the_product_to_it(m, k, n, dtype, layout_b):
    """BLAS's beta = 1: ``out += a @ b`` in the product (how Linear adds its bias with MKL)."""
    rng = np.random.default_rng(m * 10000 + k * 100 + n)
    a = rng.standard_normal((m, k)).astype(dtype)
    b = _layout(rng.standard_normal((k, n)).astype(dtype), layout_b)
    start = rng.standard_normal((m, n)).astype(dtype)
    out = start.copy()
    assert _blas.gemm(a, b, out) is out
    tol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, start + a @ b, rtol=tol, atol=tol)


@needs_mkl
def test_gemm_leaves_an_out_it_cannot_take_untouched():
    a, b = np.ones((4, 6), np.float32), np.ones((6, 3), np.float32)
    for out in (np.zeros((4, 3), np.float64), np.zeros((3, 4), np.float32), np.zeros((3, 4), np.float32).T):
        before = out.copy()
        assert _blas.gemm(a, b, out) is None
        np.testing.assert_array_equal(out, before)


@needs_mkl
@settings(max_examples=80, deadline=None)
@given(batch_a=st.lists(st.integers(1, 3), max_size=3), batch_b=st.lists(st.integers(1, 3), max_size=3),
       m=st.integers(1, 9), k=st.integers(1, 9), n=st.integers(1, 9), dtype=st.sampled_from([np.float32, np.float64]),
       transpose_a=st.booleans(), transpose_b=st.booleans(), into_out=st.booleans())
def test_batched_products_match_numpys_matmul(batch_a, batch_b, m, k, n, dtype, transpose_a, transpose_b, into_out):
    """Stacks whose batch dims broadcast (stride 0), in either matrix layout, through MKL's
    ?gemm_batch_strided where it takes them and NumPy's matmul where it declines."""
    size = min(len(batch_a), len(batch_b))
    batch_b = [1 if i % 2 else x for i, x in enumerate(batch_b)]  # some dims broadcast
    for i in range(1, size + 1):  # trailing batch dims must agree or be 1
        if batch_a[-i] != batch_b[-i] and 1 not in (batch_a[-i], batch_b[-i]):
            batch_b[-i] = 1
    rng = np.random.default_rng(m * 100 + k * 10 + n)
    a = rng.standard_normal((*batch_a, k, m) if transpose_a else (*batch_a, m, k)).astype(dtype)
    b = rng.standard_normal((*batch_b, n, k) if transpose_b else (*batch_b, k, n)).astype(dtype)
    a = a.swapaxes(-1, -2) if transpose_a else a
    b = b.swapaxes(-1, -2) if transpose_b else b
    if a.ndim == 2 and b.ndim == 2:
        b = b[None]
    expected = np.matmul(a, b)
    out = np.full(expected.shape, np.nan, dtype) if into_out else None
    got = _backend.matmul(a, b, out)
    if into_out:
        assert got is out
    assert got.shape == expected.shape and got.dtype == dtype
    tol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, expected, rtol=tol, atol=tol)


@needs_mkl
def test_batched_products_go_to_mkl_where_they_can():
    rng = np.random.default_rng(0)
    kernel = rng.standard_normal((1, 32, 9)).astype(np.float32)  # a convolution's (groups, O, C*kh*kw)
    columns = rng.standard_normal((64, 1, 9, 676)).astype(np.float32)
    got = _blas.gemm_batched(kernel, columns)
    assert got is not None
    np.testing.assert_allclose(got, np.matmul(kernel, columns), rtol=1e-4, atol=1e-4)
    # Every other matrix of a stack: one stride still steps through them.
    every_other = columns[::2, 0, :, :9]
    np.testing.assert_allclose(_blas.gemm_batched(every_other, kernel[0, :9, :]), every_other @ kernel[0, :9, :], rtol=1e-4, atol=1e-4)
    # Two batch dims that do not flatten to one stride (the first 2 of 3 along the second) go to NumPy.
    stack = rng.standard_normal((4, 3, 5, 6)).astype(np.float32)[:, :2]
    assert _blas.gemm_batched(stack, kernel[0, :6, :]) is None
    np.testing.assert_allclose(_backend.matmul(stack, kernel[0, :6, :]), stack @ kernel[0, :6, :], rtol=1e-6)
    # Broadcast along an inner batch dim only: stride 0 there, not outside it.
    a, b = rng.standard_normal((2, 4, 5, 6)).astype(np.float32), rng.standard_normal((2, 1, 6, 3)).astype(np.float32)
    assert _blas.gemm_batched(a, b) is None
    np.testing.assert_allclose(_backend.matmul(a, b), a @ b, rtol=1e-5, atol=1e-5)
    out = np.empty((64, 1, 32, 676), np.float32)
    assert _blas.gemm_batched(kernel, columns, out[::-1]) is None  # not C-contiguous: untouched


@needs_mkl
def test_gemm_declines_what_it_cannot_take():
    a = np.ones((4, 6), np.float32)
    assert _blas.gemm(a, np.ones((6, 3), np.float64)) is None  # mixed dtypes: NumPy promotes
    assert _blas.gemm(a.astype(np.int64), np.ones((6, 3), np.int64)) is None
    assert _blas.gemm(np.ones((8, 12), np.float32)[::2, ::2], np.ones((6, 3), np.float32)) is None  # no unit stride
    assert _blas.gemm(np.ones((0, 6), np.float32), np.ones((6, 3), np.float32)) is None
    assert _blas.gemm(a.astype(">f4"), np.ones((6, 3), ">f4")) is None  # not native byte order


def test_backend_products_equal_numpy_on_either_path():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((12, 784)).astype(np.float32)
    w = rng.standard_normal((512, 784)).astype(np.float32)
    np.testing.assert_allclose(_backend.matmul_transposed(a, w), a @ w.T, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(_backend.mm(w, a.T), w @ a.T, rtol=1e-4, atol=1e-3)
    np.testing.assert_array_equal(_backend.mm(np.arange(6).reshape(2, 3), np.arange(6).reshape(3, 2)),
                                  np.arange(6).reshape(2, 3) @ np.arange(6).reshape(3, 2))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows, width, out", [(12, 784, 512), (1024, 256, 128), (3, 4, 5)])
def test_products_with_a_bias_and_bias_gradients_equal_numpy_on_either_path(dtype, rows, width, out):
    """``matmul_transposed(a, w, bias)`` (MKL: the bias added by the product, beta = 1) and
    ``sum_rows`` (MKL: a product with a row of ones from 2**18 elements) against NumPy."""
    rng = np.random.default_rng(rows)
    a = rng.standard_normal((rows, width)).astype(dtype)
    w = rng.standard_normal((out, width)).astype(dtype)
    bias = rng.standard_normal(out).astype(dtype)
    tol = 1e-4 if dtype == np.float32 else 1e-12
    got = _backend.matmul_transposed(a, w, bias)
    assert got.dtype == dtype and got.flags.c_contiguous
    np.testing.assert_allclose(got, a @ w.T + bias, rtol=tol, atol=tol * 10)
    grad = rng.standard_normal((rows * 64, width)).astype(dtype)  # (65536, 256) crosses the threshold
    sums = _backend.sum_rows(grad)
    assert sums.shape == (width,) and sums.dtype == dtype
    np.testing.assert_allclose(sums, grad.astype(np.float64).sum(0), rtol=tol, atol=tol * 100)


def _blas_in_subprocess(value):
    code = "from tinytorch import _blas; print(_blas.PATH, _blas.HAS_GEMM)"
    env = {k: v for k, v in os.environ.items() if k != "TINYTORCH_BLAS"}
    if value is not None:
        env["TINYTORCH_BLAS"] = value
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    path, has_gemm = out.stdout.split()
    return path, has_gemm == "True", out.stderr


def test_products_go_to_mkl_only_when_asked_for():
    for value in ("numpy", "openblas", None):
        path, has_gemm, _ = _blas_in_subprocess(value)
        assert not has_gemm
    assert _blas_in_subprocess("numpy")[0] == "None"  # NumPy only: no direct call at all


def test_default_is_numpys_own_openblas_when_numpy_bundles_one():
    """The default loads the OpenBLAS that NumPy's matmul uses (same pool), never a second one."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    path, _, _ = _blas_in_subprocess(None)
    numpy_dir = os.path.dirname(np.__file__)
    bundled = [p["filepath"] for p in threadpoolctl.threadpool_info()
               if p["internal_api"] == "openblas" and os.path.realpath(p["filepath"]).startswith(os.path.realpath(numpy_dir))]
    if not bundled:  # NumPy without a bundled OpenBLAS (conda's MKL, Accelerate): NumPy only
        assert path == "None"
    else:
        assert os.path.realpath(path) in {os.path.realpath(p) for p in bundled}


def test_unknown_choice_warns_and_uses_numpy():
    path, has_gemm, stderr = _blas_in_subprocess("blis")
    assert path == "None" and not has_gemm and "TINYTORCH_BLAS='blis'" in stderr


@needs_mkl
def test_mkl_agrees_when_pytorch_was_imported_first():
    """PyTorch's libgomp in the process must not make MKL's threads compute wrong products."""
    pytest.importorskip("torch")
    code = (
        "import torch, numpy as np\n"
        "from tinytorch import _blas\n"
        "rng = np.random.default_rng(0)\n"
        "a = rng.standard_normal((32, 784)).astype(np.float32); w = rng.standard_normal((512, 784)).astype(np.float32)\n"
        "out = _blas.gemm(a, w.T) if _blas.HAS_GEMM else a @ w.T\n"
        "print(float(np.abs(out - a @ w.T).max()))\n"
    )
    env = dict(os.environ, TINYTORCH_BLAS="mkl")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert float(out.stdout.strip()) < 1e-3


def test_linear_layer_gradients_do_not_depend_on_the_blas():
    """The lecture's first layer through whichever path is active, against float64 NumPy."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((12, 784)).astype(np.float32)
    layer = tinytorch.nn.Linear(784, 512)
    inputs = tinytorch.tensor(x, requires_grad=True)
    out = layer(inputs)
    out.backward(tinytorch.ones_like(out))
    w = layer.weight.detach().numpy().astype(np.float64)
    np.testing.assert_allclose(out.detach().numpy(), x @ w.T + layer.bias.detach().numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(inputs.grad.numpy(), np.ones((12, 512)) @ w, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.weight.grad.numpy(), np.ones((512, 12)) @ x, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(512, 784), (7, 3)])  # through axpy, and below its threshold
def test_add_scaled_updates_in_place_on_every_path(dtype, shape):
    rng = np.random.default_rng(2)
    y = rng.standard_normal(shape).astype(dtype)
    x = rng.standard_normal(shape).astype(dtype)
    expected = y.astype(np.float64) - 0.01 * x.astype(np.float64)
    before = y.ctypes.data
    _backend.add_scaled_(y, x, -0.01)
    assert y.ctypes.data == before  # the parameter's own memory, as optimizers need
    np.testing.assert_allclose(y, expected, rtol=1e-6, atol=1e-6)
    strided = np.zeros((256, 256), dtype)[:, ::2]  # large but not contiguous: the NumPy fallback
    _backend.add_scaled_(strided, np.ones((256, 128), dtype), 2.0)
    np.testing.assert_array_equal(strided, np.full((256, 128), 2.0, dtype))


def test_large_updates_round_as_pytorch_add_does():
    """OpenBLAS's axpy computes y + alpha * x with one rounding, as PyTorch's vectorized add_ (an
    fma). (MKL's differs from it by an ulp in 1.8% of the elements on this machine.)"""
    torch = pytest.importorskip("torch")
    if _blas.PATH is None or _blas.HAS_GEMM:
        pytest.skip("not NumPy's OpenBLAS: NumPy's or MKL's roundings")
    rng = np.random.default_rng(3)
    y = rng.standard_normal(1 << 16).astype(np.float32)
    x = rng.standard_normal(1 << 16).astype(np.float32)
    expected = torch.tensor(y).add_(torch.tensor(x), alpha=-0.01).numpy()
    _backend.add_scaled_(y, x, -0.01)
    np.testing.assert_array_equal(y, expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_add_scaled_rounds_once_at_any_size_where_the_blas_fuses(dtype):
    """``alpha = x = 1 + s``, ``y = -(1 + 2s)``: ``y + alpha * x`` is ``s**2`` (a quarter of the
    last place of 1) rounded once, 0 rounded twice. ``fused=True`` (lerp's update) rounds once at
    every size where ``_blas.FMA`` holds, and twice (NumPy) elsewhere; the plain update takes the
    library's axpy from ``AXPY_MIN_SIZE`` on, whose rounding ``_blas._fuses`` probed."""
    dtype = np.dtype(dtype)
    s = dtype.type(2.0) ** -((np.finfo(dtype).nmant + 1) // 2 + 1)
    large = _backend.AXPY_MIN_SIZE + 3
    for size, fused in ((5, True), (large, True), (5, False), (large, False)):
        x, y = np.full(size, 1 + s, dtype), np.full(size, -(1 + 2 * s), dtype)
        _backend.add_scaled_(y, x, float(1 + s), fused=fused)
        if fused:
            once = _blas.FMA.get(dtype, False)
        else:
            once = size >= _backend.AXPY_MIN_SIZE and _blas.PATH is not None and _blas._fuses(dtype)
        np.testing.assert_array_equal(y, np.full(size, s * s if once else 0, dtype))


def test_fma_runs_on_the_calling_thread_and_restores_its_thread_count():
    if _blas._SET_LOCAL_THREADS is None:
        pytest.skip("no openblas_set_num_threads_local here (MKL, NumPy only, or an OpenBLAS before 0.3.27)")
    real = _blas._SET_LOCAL_THREADS
    threads = real(2)
    calls = []
    try:
        _blas._SET_LOCAL_THREADS = lambda n: calls.append(n) or real(n)
        y = np.ones(1 << 16, np.float32)
        fused = _blas.FMA[np.dtype(np.float32)]
        assert _blas.fma_(0.5, np.ones_like(y), y) is fused
        assert calls == ([1, 2] if fused else [])  # one thread for the call, then the caller's count again
        np.testing.assert_array_equal(y, 1.5 if fused else 1.0)
    finally:
        _blas._SET_LOCAL_THREADS = real
        real(threads)


def test_numpys_openblas_adds_the_bias_in_the_product(monkeypatch):
    """By default (NumPy's OpenBLAS) a Linear forward of many rows hands the bias to the product
    (beta = 1, as PyTorch's addmm); few rows keep NumPy's matmul and a separate add. Either way
    the values are x W^T + b to float rounding, C-contiguous."""
    if _blas.HAS_GEMM or not _blas.HAS_ADDMM:
        pytest.skip("not NumPy's OpenBLAS with its gemm (MKL or NumPy only)")
    calls = []
    gemm = _blas.gemm
    monkeypatch.setattr(_blas, "gemm", lambda a, b, out=None: calls.append(out is not None) or gemm(a, b, out))
    rng = np.random.default_rng(4)
    for dtype, tol in ((np.float32, 1e-4), (np.float64, 1e-12)):
        w = rng.standard_normal((512, 784)).astype(dtype)
        bias = rng.standard_normal(512).astype(dtype)
        for rows, fused in ((_backend.ADDMM_MIN_ROWS, True), (1024, True), (64, False), (12, False)):
            calls.clear()
            a = rng.standard_normal((rows, 784)).astype(dtype)
            got = _backend.matmul_transposed(a, w, bias)
            assert calls == ([True] if fused else [])
            assert got.dtype == dtype and got.flags.c_contiguous and got.shape == (rows, 512)
            np.testing.assert_allclose(got, a.astype(np.float64) @ w.T.astype(np.float64) + bias, rtol=tol, atol=tol * 10)
    calls.clear()
    small = rng.standard_normal((1024, 8)).astype(np.float32)  # too few multiply-adds for the call
    np.testing.assert_allclose(_backend.matmul_transposed(small, np.ones((3, 8), np.float32), np.ones(3, np.float32)),
                               small.sum(1, keepdims=True) + np.ones((1024, 3)), rtol=1e-5, atol=1e-5)
    assert calls == []


def test_numpys_openblas_gemm_declines_what_it_cannot_take():
    if _blas.HAS_GEMM or not _blas.HAS_ADDMM:
        pytest.skip("not NumPy's OpenBLAS with its gemm")
    a = np.ones((300, 6), np.float32)
    out = np.full((300, 3), 2.0, np.float32)
    assert _blas.gemm(a, np.ones((6, 3), np.float32), out) is out
    np.testing.assert_array_equal(out, np.full((300, 3), 8.0, np.float32))
    for bad in (np.ones((300, 3), np.float64), np.ones((3, 300), np.float32).T, np.ones((300, 4), np.float32)):
        before = bad.copy()
        assert _blas.gemm(a, np.ones((6, 3), np.float32), bad) is None
        np.testing.assert_array_equal(bad, before)  # untouched


@settings(max_examples=60, deadline=None)
@given(rows=st.integers(0, 1500), cols=st.integers(0, 70), dtype=st.sampled_from([np.float32, np.float64, np.int64]),
       transposed=st.booleans(), seed=st.integers(0, 2**16))
def test_sum_rows_is_the_column_sum(rows, cols, dtype, transposed, seed):
    """``sum_rows`` (a bias's gradient: floats as a product with a vector of ones) is ``sum(0)``
    within float rounding for any shape and layout, exact for integers, in the array's dtype."""
    rng = np.random.default_rng(seed)
    data = (rng.standard_normal((cols, rows) if transposed else (rows, cols)) * 100).astype(dtype)
    if transposed:
        data = data.T
    got = _backend.sum_rows(data)
    assert got.shape == (cols,) and got.dtype == dtype
    exact = data.astype(np.float64).sum(0)
    if dtype == np.int64:
        np.testing.assert_array_equal(got, data.sum(0))
    else:
        bound = max(rows, 1) * np.finfo(dtype).eps * np.abs(data).astype(np.float64).sum(0)
        assert np.all(np.abs(got - exact) <= bound)


def test_address_is_the_first_elements_for_every_kind_of_array():
    base = np.arange(48, dtype=np.float32).reshape(6, 8)
    readonly = base.copy()
    readonly.flags.writeable = False
    for array in (base, base[2:], base[1:3, 2:5], base.T, readonly, base[:0], np.ones(()),
                  base.reshape(-1)[5:]):
        assert _blas._address(array) == array.ctypes.data


def test_one_thread_sections_from_several_threads_put_the_count_back():
    # fma_ from four Python threads at once, and splits on OpenBLAS's threads beside them: each
    # sets OpenBLAS's count to 1 for its call; the count the process had must come back, not a 1
    # that one of them read while another held it.
    if _blas._SET_LOCAL_THREADS is None or _blas.POOL is None:
        pytest.skip("no openblas_set_num_threads_local here (MKL, NumPy only, or an OpenBLAS before 0.3.27)")
    import threading

    from tinytorch import _threads

    count = _blas.POOL[1]
    before = count()
    y = [np.ones(1 << 15, np.float32) for _ in range(4)]
    ones = np.ones(1 << 15, np.float32)

    def updates(i):
        for _ in range(200):
            _blas.fma_(0.0, ones, y[i])

    workers = [threading.Thread(target=updates, args=(i,)) for i in range(4)]
    for worker in workers:
        worker.start()
    data = np.arange(1 << 18, dtype=np.float64)
    for _ in range(50):
        _threads.run(lambda lo, hi: np.sqrt(data[lo:hi], out=data[lo:hi]), _threads.pieces(data.size, 0))
    for worker in workers:
        worker.join()
    assert count() == before
    with _blas.ONE_THREAD:
        with _blas.ONE_THREAD:  # nested, as an fma_ inside a split's piece
            assert count() == 1
        assert count() == 1
    assert count() == before
