"""Direct BLAS calls on NumPy arrays for the CPU: ``?axpy`` (an optimizer's update) and, with MKL, ``?gemm``.

Which library, chosen once at import by ``TINYTORCH_BLAS``:

- unset or ``openblas`` (the default): NumPy's own OpenBLAS, the library its wheels bundle and
  its matmul already calls, for ``cblas_?axpy`` and for ``cblas_?gemm`` into an output that holds
  a bias (``gemm(a, b, out)``, beta = 1). SGD's ``p += -lr * g`` then takes one pass over memory
  instead of NumPy's two and a temporary (70 against 23 us for the lecture MLP's 784 x 512
  weight), and a large ``Linear``'s bias is added by the product itself, as PyTorch's ``addmm``
  does. Its axpy is a fused multiply-add, so the optimizers' ``lerp_`` goes through it too
  (``fma_``, on the calling thread), with the single rounding of PyTorch's kernel. Its plain
  products gain nothing from a direct call (measured per shape in docs/performance.md) and stay
  ``numpy.matmul`` (``HAS_GEMM`` is False). It shares NumPy's thread pool: no second pool.
  Where NumPy has no bundled OpenBLAS (conda's MKL NumPy, Accelerate on macOS), NumPy's ufuncs.
- ``mkl``: MKL from the ``mkl`` wheel (``pip install 'tinytorch[mkl]'``), for ``cblas_?gemm`` and
  ``cblas_?axpy``. NumPy's wheels multiply matrices with OpenBLAS, which is slow on some thin
  products of small-batch training; MKL takes them on the NumPy arrays' memory, without a copy.
  Opt-in, not the default: products that do not come here (convolutions' and attention's batched
  products) still run on OpenBLAS, and two thread pools that spin while idle, in one process on
  two cores, slowed models that mix them by several times (an LSTM step: 140 ms -> 1.2 s on a
  busy machine). docs/performance.md has the measurements.
- ``numpy``: no direct call; NumPy's ufuncs and matmul for everything.

Only ``_backend.py`` imports this module: it decides, per call, which operations come here; and
``_threads.py``, which runs tinytorch's own parallel work on NumPy's OpenBLAS's thread server
(``POOL``) where there is one.
"""

import ctypes
import glob
import os
import sys
import threading
import warnings

import numpy as np

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112
_THREADING_LAYERS = {"INTEL": 0, "SEQUENTIAL": 1, "PGI": 2, "GNU": 3, "TBB": 4}


def _candidates():
    """Where the ``mkl`` wheel puts ``libmkl_rt``: ``<prefix>/lib`` (Linux) or
    ``<prefix>/Library/bin`` (Windows), for this environment and a ``--user`` install."""
    import site
    import sysconfig

    prefixes = [sys.prefix, sys.base_prefix, sysconfig.get_config_var("userbase") or "", site.getuserbase()]
    names = ["libmkl_rt.so*", "mkl_rt*.dll", "libmkl_rt*.dylib"]
    found = []
    for prefix in dict.fromkeys(p for p in prefixes if p):
        for folder in ("lib", os.path.join("Library", "bin")):
            for name in names:
                found.extend(sorted(glob.glob(os.path.join(prefix, folder, name)), reverse=True))
    return found


def _load_mkl():
    """``libmkl_rt`` set up for this process: (path, gemms, axpys, batched gemms), or None when it
    is absent."""
    for path in _candidates():
        try:
            # RTLD_DEEPBIND: MKL's own libraries, loaded by libmkl_rt, must bind to each other.
            # PyTorch links its own MKL into libtorch_cpu and exports it; imported first, its
            # symbols would otherwise be picked up by this MKL's and give wrong products.
            lib = ctypes.CDLL(path, mode=os.RTLD_LOCAL | getattr(os, "RTLD_DEEPBIND", 0))
        except OSError:
            continue
        # The threading layer must be chosen before MKL's first call; a user's
        # MKL_THREADING_LAYER wins, as MKL documents.
        if "MKL_THREADING_LAYER" not in os.environ:
            lib.MKL_Set_Threading_Layer.argtypes = [ctypes.c_int]
            lib.MKL_Set_Threading_Layer(_THREADING_LAYERS[_threading_layer()])
        if "MKL_DYNAMIC" not in os.environ:
            # MKL's dynamic mode may run a thin product on one thread: 12 x 784 by 784 x 512 took
            # 71-149 us with it, 49 us without (two threads, Intel Xeon). PyTorch turns it off too
            # (ATen's init_num_threads: mkl_set_dynamic(false)).
            lib.MKL_Set_Dynamic.argtypes = [ctypes.c_int]
            lib.MKL_Set_Dynamic(0)
        gemms = {}
        for dtype, name, scalar in ((np.float32, "cblas_sgemm", ctypes.c_float), (np.float64, "cblas_dgemm", ctypes.c_double)):
            fn = getattr(lib, name)
            fn.restype = None
            fn.argtypes = [ctypes.c_int] * 6 + [scalar, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_int,
                                                scalar, ctypes.c_void_p, ctypes.c_int]
            gemms[np.dtype(dtype)] = fn
        batched = {}
        for dtype, name, scalar in ((np.float32, "cblas_sgemm_batch_strided", ctypes.c_float),
                                    (np.float64, "cblas_dgemm_batch_strided", ctypes.c_double)):
            fn = getattr(lib, name, None)  # MKL 2020 on
            if fn is not None:
                fn.restype = None
                fn.argtypes = [ctypes.c_int] * 6 + [scalar, ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_int,
                                                    ctypes.c_int, scalar, ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int]
                batched[np.dtype(dtype)] = fn
        axpys = {}
        for dtype, name, scalar in ((np.float32, "cblas_saxpy", ctypes.c_float), (np.float64, "cblas_daxpy", ctypes.c_double)):
            fn = getattr(lib, name)
            fn.restype = None
            fn.argtypes = [ctypes.c_int, scalar, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
            axpys[np.dtype(dtype)] = fn
        if not _agrees(gemms[np.dtype(np.float32)]):
            warnings.warn(f"tinytorch: {path} gave a wrong matrix product in this process; using NumPy's matmul", RuntimeWarning, stacklevel=2)
            return None
        return path, gemms, axpys, batched
    warnings.warn("TINYTORCH_BLAS=mkl, but MKL's libmkl_rt was not found: pip install 'tinytorch[mkl]'; using NumPy's matmul",
                  RuntimeWarning, stacklevel=2)
    return None


def _threading_layer():
    """Intel's OpenMP (the intel-openmp wheel) unless GNU's is already in the process.

    PyTorch's CPU wheel loads GNU's libgomp. MKL's Intel threading layer, loaded after it, binds
    its ``omp_*`` calls to libgomp and its threads then compute wrong products (seen with torch
    2.13 imported first); MKL's GNU layer runs on that libgomp instead.
    """
    try:
        with open("/proc/self/maps") as maps:
            return "GNU" if "libgomp" in maps.read() else "INTEL"
    except OSError:  # not Linux: no libgomp to clash with
        return "INTEL"


def _load_numpy_openblas():
    """NumPy's bundled OpenBLAS: (path, gemms, axpys, {}), or None when NumPy has none.

    NumPy's wheels ship it beside the package (``numpy.libs`` on Linux and Windows,
    ``numpy/.dylibs`` on macOS) with renamed symbols and 64-bit integers (``scipy_cblas_saxpy64_``,
    NumPy 2; ``cblas_saxpy64_``, NumPy 1.26). Loading the file NumPy already loaded maps nothing
    new: it is the same library, thread pool and settings (threadpoolctl limits apply to it).
    """
    folder = os.path.dirname(np.__file__)
    paths = []
    for where in (folder + ".libs", os.path.join(folder, ".dylibs")):
        paths.extend(sorted(glob.glob(os.path.join(where, "*openblas*"))))
    for path in paths:
        try:
            lib = ctypes.CDLL(path, mode=os.RTLD_LOCAL)
        except OSError:
            continue
        for prefix, suffix, integer in (("scipy_cblas_", "64_", ctypes.c_int64), ("cblas_", "64_", ctypes.c_int64),
                                        ("scipy_cblas_", "", ctypes.c_int), ("cblas_", "", ctypes.c_int)):
            axpys, gemms = {}, {}
            for dtype, letter, scalar in ((np.float32, "s", ctypes.c_float), (np.float64, "d", ctypes.c_double)):
                fn = getattr(lib, f"{prefix}{letter}axpy{suffix}", None)
                if fn is None:
                    break
                fn.restype = None
                fn.argtypes = [integer, scalar, ctypes.c_void_p, integer, ctypes.c_void_p, integer]
                axpys[np.dtype(dtype)] = fn
                fn = getattr(lib, f"{prefix}{letter}gemm{suffix}", None)
                if fn is not None:
                    fn.restype = None
                    fn.argtypes = [ctypes.c_int] * 3 + [integer] * 3 + [scalar, ctypes.c_void_p, integer, ctypes.c_void_p, integer,
                                                                      scalar, ctypes.c_void_p, integer]
                    gemms[np.dtype(dtype)] = fn
            if len(axpys) == 2 and _axpy_agrees(axpys[np.dtype(np.float32)]):
                if len(gemms) != 2 or not _agrees(gemms[np.dtype(np.float32)]):
                    gemms = {}
                return path, gemms, axpys, {}
    return None


def _axpy_agrees(saxpy):
    """One update checked against NumPy before the library is trusted with any."""
    x = np.arange(40000, dtype=np.float32) % 7
    y = np.ones(40000, np.float32)
    saxpy(y.size, -0.5, x.ctypes.data, 1, y.ctypes.data, 1)
    return bool(np.array_equal(y, 1 - 0.5 * x))


def _load():
    """The BLAS that ``TINYTORCH_BLAS`` asks for, set up for this process, or None for NumPy only."""
    choice = os.environ.get("TINYTORCH_BLAS", "openblas").lower()
    if choice == "mkl":
        return _load_mkl()
    if choice == "openblas":
        return _load_numpy_openblas()
    if choice != "numpy":
        warnings.warn(f"TINYTORCH_BLAS={choice!r} is not one of 'openblas', 'mkl', 'numpy'; using NumPy only",
                      RuntimeWarning, stacklevel=2)
    return None


def _agrees(sgemm):
    """One threaded product checked against NumPy before MKL is trusted with any."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((256, 192)).astype(np.float32)
    b = rng.standard_normal((192, 160)).astype(np.float32)
    out = np.empty((256, 160), np.float32)
    sgemm(_ROW_MAJOR, _NO_TRANS, _NO_TRANS, 256, 160, 192, 1.0, a.ctypes.data, 192, b.ctypes.data, 160, 0.0, out.ctypes.data, 160)
    return np.allclose(out, a @ b, rtol=1e-4, atol=1e-3)


_LOADED = _load()
PATH = _LOADED[0] if _LOADED else None  # the library loaded, or None: NumPy only
_GEMMS = _LOADED[1] if _LOADED else {}
_AXPYS = _LOADED[2] if _LOADED else {}
_BATCHED = _LOADED[3] if _LOADED else {}
HAS_GEMM = bool(_GEMMS) and not (PATH and "openblas" in os.path.basename(PATH))  # products come here (MKL)
HAS_ADDMM = bool(_GEMMS)  # gemm(a, b, out) adds a product into a given output (MKL or NumPy's OpenBLAS)


def _local_threads():
    """OpenBLAS's ``openblas_set_num_threads_local`` (0.3.27 on: the thread count for the next
    calls; returns the previous one), or None (MKL, NumPy only, an older OpenBLAS). Despite its
    name, NumPy's OpenBLAS 0.3.31 applies it to the whole process: another Python thread's BLAS
    call made while ``fma_`` runs (some 100 us) runs on one thread."""
    if PATH is None or "openblas" not in os.path.basename(PATH):
        return None
    try:
        fn = ctypes.CDLL(PATH, mode=os.RTLD_LOCAL).openblas_set_num_threads_local
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int]
    fn.restype = ctypes.c_int
    return fn


_SET_LOCAL_THREADS = _local_threads()


class _OneThread:
    """A section in which OpenBLAS runs every call on its caller's thread (its count at 1), counted
    across Python threads: the first to enter saves the count and sets 1, the last to leave puts
    it back. ``fma_`` and ``_threads``' splits overlap, nest (an ``fma_`` inside a split's piece)
    and run from several Python threads at once; each saving and restoring the count on its own
    could leave it at 1 for good."""

    def __init__(self):
        self._lock = threading.Lock()
        self._depth = 0
        self._saved = None

    def __enter__(self):
        with self._lock:
            if self._depth == 0:
                self._saved = _SET_LOCAL_THREADS(1)
            self._depth += 1

    def __exit__(self, *exc):
        with self._lock:
            self._depth -= 1
            if self._depth == 0:
                _SET_LOCAL_THREADS(self._saved)


ONE_THREAD = _OneThread()

# ``int routine(m, n, k, alpha, a, lda, b, ldb, c, ldc, sb)``: what OpenBLAS's thread server calls
# for a "legacy" level-1 job of double precision (``legacy_exec`` in driver/others/blas_server.c).
POOL_ROUTINE = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64, ctypes.c_double,
                                ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p,
                                ctypes.c_int64, ctypes.c_void_p)


def _pool():
    """NumPy's OpenBLAS thread server, for tinytorch's own parallel work: (``blas_level1_thread``,
    ``openblas_get_num_threads``), or None (MKL, NumPy only, a library that lacks them).

    ``blas_level1_thread(mode, m, ...,  routine, nthreads)`` cuts ``m`` into ``nthreads`` pieces and
    runs ``routine`` on each, the first on the calling thread and the others on the server's
    threads, and returns when all are done. It is how OpenBLAS threads its own level-1 routines
    (axpy, scal); it is exported but not part of the documented API, so ``tinytorch._threads``
    checks what it does once before using it."""
    if _SET_LOCAL_THREADS is None:  # not NumPy's OpenBLAS, or one older than 0.3.27
        return None
    lib = ctypes.CDLL(PATH, mode=os.RTLD_LOCAL)
    level1 = getattr(lib, "blas_level1_thread", None)
    count = next((getattr(lib, name) for name in ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_",
                                                  "openblas_get_num_threads") if hasattr(lib, name)), None)
    if level1 is None or count is None:
        return None
    level1.restype = ctypes.c_int
    level1.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p, ctypes.c_void_p,
                       ctypes.c_int64, ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p, ctypes.c_int64, POOL_ROUTINE,
                       ctypes.c_int]
    count.restype = ctypes.c_int
    count.argtypes = []
    return level1, count


POOL = _pool()


def _fuses(dtype):
    """Whether this library's axpy rounds ``y + alpha * x`` once (a fused multiply-add) for
    ``dtype``, in its vector loop and in its tail, as PyTorch's CPU ``lerp_`` does. ``alpha = x = 1
    + s`` and ``y = -(1 + 2s)`` leave ``s**2`` (a quarter of the last place) when fused, 0 when
    rounded twice."""
    fn = _AXPYS.get(dtype)
    if fn is None:
        return False
    s = dtype.type(2.0) ** -((np.finfo(dtype).nmant + 1) // 2 + 1)
    x = np.full(67, 1 + s, dtype)
    y = np.full(67, -(1 + 2 * s), dtype)
    fn(y.size, float(1 + s), x.ctypes.data, 1, y.ctypes.data, 1)
    return bool((y == s * s).all())


# dtype -> ``fma(alpha, x, y)`` is available on the calling thread (``fma_``): the library's axpy
# fuses, and it can be kept off the BLAS's other threads.
FMA = {dtype: _SET_LOCAL_THREADS is not None and _fuses(dtype) for dtype in _AXPYS}


def _operand(array):
    """(transpose flag, leading dimension) that describe a 2-D array's memory to BLAS without a
    copy, or None when its strides are not a row-major or column-major matrix."""
    itemsize = array.itemsize
    rows, cols = array.shape
    s0, s1 = array.strides
    if s1 == itemsize and s0 % itemsize == 0 and s0 // itemsize >= max(cols, 1):
        return _NO_TRANS, s0 // itemsize
    if s0 == itemsize and s1 % itemsize == 0 and s1 // itemsize >= max(rows, 1):
        return _TRANS, s1 // itemsize
    return None


def gemm(a, b, out=None):
    """``a @ b`` for 2-D float32/float64 NumPy arrays of one dtype through MKL, as a new
    C-contiguous array; or, given ``out`` (C-contiguous, ``(m, n)``, that dtype), ``out += a @ b``
    in the product itself (BLAS's beta = 1: PyTorch's ``addmm`` adds the bias this way; also on
    NumPy's OpenBLAS, ``HAS_ADDMM``). None when no BLAS here can take these operands (the caller
    uses NumPy; ``out`` is then untouched)."""
    fn = _GEMMS.get(a.dtype)
    if fn is None or b.dtype != a.dtype:
        return None
    m, k = a.shape
    n = b.shape[1]
    if m == 0 or n == 0 or k == 0:
        return None
    # Size-1 dims have arbitrary strides: give them a contiguous copy's description.
    op_a = _operand(a) if m > 1 and k > 1 else (_NO_TRANS, k)
    op_b = _operand(b) if k > 1 and n > 1 else (_NO_TRANS, n)
    if op_a is None or op_b is None:
        return None
    if m == 1 or k == 1:
        a = np.ascontiguousarray(a)
    if k == 1 or n == 1:
        b = np.ascontiguousarray(b)
    beta = 1.0
    if out is None:
        out, beta = np.empty((m, n), dtype=a.dtype), 0.0
    elif out.dtype != a.dtype or out.shape != (m, n) or not (out.flags.c_contiguous and out.flags.writeable):
        return None
    fn(_ROW_MAJOR, op_a[0], op_b[0], m, n, k, 1.0, _address(a), op_a[1], _address(b), op_b[1], beta, _address(out), n)
    return out


def gemm_batched(a, b, out=None):
    """``numpy.matmul(a, b)`` of two stacks of matrices (ndim >= 2, batch dims broadcasting) through
    MKL's ``?gemm_batch_strided``: one call for the whole stack, on MKL's threads, so that a model
    whose products are batched (convolutions, attention) does not switch between MKL's and
    OpenBLAS's thread pools. Into ``out`` (C-contiguous, the result's shape) when given. None when
    MKL cannot take these operands: each operand's batch dims must flatten to one stride (a
    broadcast one to stride 0), its matrices be row- or column-major."""
    fn = _BATCHED.get(a.dtype)
    if fn is None or b.dtype != a.dtype or a.ndim < 2 or b.ndim < 2:
        return None
    m, k = a.shape[-2:]
    n = b.shape[-1]
    if b.shape[-2] != k or m < 2 or n < 2 or k < 2:
        return None
    try:
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        return None
    count = 1
    for size in batch:
        count *= size
    if count == 0:
        return None
    stride_a, stride_b = _batch_stride(a, batch), _batch_stride(b, batch)
    op_a, op_b = _operand(a[(0,) * (a.ndim - 2)]), _operand(b[(0,) * (b.ndim - 2)])
    if stride_a is None or stride_b is None or op_a is None or op_b is None:
        return None
    shape = batch + (m, n)
    if out is None:
        out = np.empty(shape, dtype=a.dtype)
    elif (out.dtype != a.dtype or out.shape != shape or not (out.flags.c_contiguous and out.flags.writeable)
          or np.may_share_memory(out, a) or np.may_share_memory(out, b)):
        return None
    if max(stride_a, stride_b, m * n, op_a[1], op_b[1]) * count >= _INT_LIMIT:
        return None  # MKL_INT is 32-bit in libmkl_rt's default interface
    fn(_ROW_MAJOR, op_a[0], op_b[0], m, n, k, 1.0, _address(a), op_a[1], stride_a, _address(b), op_b[1], stride_b,
       0.0, _address(out), n, m * n, count)
    return out


_INT_LIMIT = 1 << 31


def _batch_stride(array, batch):
    """The one stride (in elements) that steps through ``array``'s matrices in the order of the
    broadcast batch shape ``batch``, or None when its batch dims do not flatten to one stride."""
    itemsize = array.itemsize
    dims = array.shape[:-2]
    strides = array.strides[:-2]
    pad = len(batch) - len(dims)
    # Each batch dim of the result: this array's stride there (0 where it broadcasts).
    steps = [0] * pad + [0 if size == 1 and full != 1 else stride for size, full, stride in zip(dims, batch[pad:], strides)]
    stride = None
    span = None  # the stride the next outer dim must have
    for full, step in zip(reversed(batch), reversed(steps)):
        if full == 1:
            continue
        if stride is None:
            stride, span = step, step * full
        elif step != span:
            return None
        else:
            span = step * full
    stride = stride or 0
    if stride % itemsize or stride < 0:
        return None
    return stride // itemsize


def axpy(alpha, x, y):
    """``y += alpha * x`` in place, in one pass over memory (on the library's threads), for
    C-contiguous NumPy arrays of one float dtype and size; False when no BLAS here can take them
    (the caller falls back)."""
    fn = _AXPYS.get(y.dtype)
    if fn is None or not _takes(x, y):
        return False
    fn(y.size, alpha, _address(x), 1, _address(y), 1)
    return True


def fma_(alpha, x, y):
    """``y = fma(alpha, x, y)`` in place, each element rounded once, on the calling thread (the
    library's count is 1 for the call, then restored); False where ``FMA`` does not hold for the
    dtype or the arrays do not fit (the caller falls back). One thread, because the caller's other
    passes over these arrays are NumPy's, on this thread: split over two cores, half of the data
    moves between their caches and back (Adam's flat ``exp_avg``, 575,050 float32, in the lecture
    MLP's step: 88-98 us on two threads, but 650 us on an AMD EPYC VM in its slow phases; 114-140
    us on one thread, NumPy's two passes 96-128)."""
    fn = _AXPYS.get(y.dtype)
    if fn is None or not FMA.get(y.dtype) or not _takes(x, y):
        return False
    if y.size > _AXPY_ONE_THREAD:
        with ONE_THREAD:
            fn(y.size, alpha, _address(x), 1, _address(y), 1)
    else:
        fn(y.size, alpha, _address(x), 1, _address(y), 1)
    return True


# OpenBLAS runs an axpy of up to this many elements on the calling thread by itself
# (interface/axpy.c); changing the thread count around a small call cost more than the call
# (Adamax's step over 10 parameters of 4 x 4: 109 us before lerp_ went through fma_, 220-290 us
# with the count changed around each call).
_AXPY_ONE_THREAD = 10000


def _takes(x, y):
    return x.dtype == y.dtype and x.size == y.size and x.flags.c_contiguous and y.flags.c_contiguous and y.flags.writeable


_addressof, _c_char = ctypes.addressof, ctypes.c_char


def _address(array):
    """The address of a NumPy array's first element: through the buffer protocol for a writable
    C-contiguous array (0.5 us; ``array.ctypes.data`` builds a helper object per call, 1.6-1.8 us,
    and two of them were half of a small axpy's 3.3 us), else ``array.ctypes.data``."""
    flags = array.flags
    if flags.c_contiguous and flags.writeable and array.size:
        return _addressof(_c_char.from_buffer(array))
    return array.ctypes.data
