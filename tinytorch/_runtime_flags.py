"""PyTorch's build and runtime flags at the top level (``has_lapack``, ``set_flush_denormal``,
``set_anomaly_enabled``...), answered for what tinytorch runs on: NumPy/SciPy (or CuPy)."""

from . import _backend
from .autograd import anomaly_mode as _anomaly

has_lapack = True  # linalg runs on NumPy's LAPACK
has_mkl = bool(_backend._blas.HAS_GEMM)  # matrix products go to MKL (TINYTORCH_BLAS=mkl, MKL installed)
has_openmp = False  # NumPy's kernels do not use OpenMP (its BLAS may have its own threads)
has_spectral = False  # tinytorch has no torch.fft

_check_nan = [True]  # set_anomaly_enabled's check_nan (anomaly mode always checks NaN gradients)


def set_flush_denormal(mode):
    """Whether denormal floats could be flushed to zero: NumPy cannot set the CPU's flag, so this
    changes nothing and returns False, as PyTorch does on a CPU without it."""
    return False


def init_num_threads():
    """Set up this thread's intra-op thread pool: NumPy's BLAS pools need no setup, so nothing to do."""


def set_anomaly_enabled(mode, check_nan=True):
    """Turn anomaly detection on or off (``autograd.set_detect_anomaly`` without the context)."""
    _anomaly.state.enabled = bool(mode)
    _check_nan[0] = bool(check_nan)


def is_anomaly_check_nan_enabled():
    return _check_nan[0]
