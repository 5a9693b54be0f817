"""tinytorch: a small, readable deep-learning framework with PyTorch's API, on NumPy or CuPy."""

from . import _backend, _dtypes
from ._backend import device, get_num_threads, set_default_device, set_num_threads
from ._dtypes import (
    bool, double, dtype, float, float16, float32, float64, get_default_dtype, half, int, int8,
    int16, int32, int64, long, set_default_dtype, short, uint8,
)
from ._dtypes import uint16, uint32, uint64
from ._tensor import Size, Tensor
from ._tensor_types import (
    BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor, HalfTensor, IntTensor, LongTensor, ShortTensor,
)
from ._layout import layout, sparse_coo, strided
from ._memory_format import channels_last, channels_last_3d, contiguous_format, memory_format, preserve_format
from ._sparse_coo import sparse_coo_tensor, mm as spmm
from .autograd import enable_grad, inference_mode, no_grad, set_grad_enabled
from .autograd.anomaly_mode import is_anomaly_enabled
from .autograd.grad_mode import is_grad_enabled, is_inference_mode_enabled
from ._ops import *  # the functional API (its __all__: PyTorch's top-level names)
from ._creation import (
    arange, as_tensor, asarray, empty, empty_like, eye, from_numpy, full, full_like, linspace,
    logspace, normal, ones, ones_like, rand, rand_like, randint, randint_like, randn, randn_like,
    randperm, tensor, zeros, zeros_like,
)
from .random import (
    Generator, default_generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state,
)
from . import accelerator, autograd, cuda, random
from . import amp, cpu
from .amp import autocast
from .amp._state import (
    autocast_decrement_nesting, autocast_increment_nesting, clear_autocast_cache, get_autocast_cpu_dtype,
    get_autocast_dtype, get_autocast_gpu_dtype, is_autocast_cache_enabled, is_autocast_cpu_enabled,
    is_autocast_enabled, set_autocast_cache_enabled, set_autocast_cpu_dtype, set_autocast_cpu_enabled,
    set_autocast_dtype, set_autocast_enabled, set_autocast_gpu_dtype,
)
from . import backends, nn, optim, utils, vision
from ._aten_functional import *  # torch.conv2d, torch.batch_norm...: aten's signatures over nn.functional (after nn)
from ._compile import compile  # torch.compile: wraps a Module (after nn) or a function; runs eagerly
from ._aten_rnn import gru, lstm, rnn_relu, rnn_tanh  # aten's stacked RNNs over nn.RNNBase's loop (after nn)
from ._torch_small import (  # after nn: embedding_renorm_ is nn.functional's renorm
    cond, embedding_renorm_, get_device, is_storage, norm_except_dim, resize_as_, set_default_tensor_type,
)
from . import linalg, special
from ._dlpack import from_dlpack
from ._format import set_printoptions
from ._matrix_functions import (
    cholesky, cholesky_inverse, cholesky_solve, cross, det, inverse, logdet, matrix_power, pinverse, qr, slogdet, svd,
)
from ._matrix_functions import lu_solve, lu_unpack, matrix_exp, triangular_solve
from ._ops._util import promote as _promote, result_dtype as _result_dtype
from ._ops.nn_ops import erf
from .serialization import save, load
from ._type_info import finfo, iinfo
from ._predicates import (
    can_cast, detach, is_complex, is_conj, is_inference, is_neg, is_nonzero, is_same_size, is_signed, resolve_conj,
    resolve_neg, typename,
)
from ._creation_extra import empty_permuted, empty_strided, frombuffer, range, scalar_tensor
from ._ops.strided import as_strided, as_strided_, as_strided_copy, as_strided_scatter
from ._switches import (
    are_deterministic_algorithms_enabled, get_deterministic_debug_mode, get_float32_matmul_precision,
    get_num_interop_threads, is_deterministic_algorithms_warn_only_enabled, is_warn_always_enabled,
    set_deterministic_debug_mode, set_float32_matmul_precision, set_num_interop_threads, set_warn_always,
    use_deterministic_algorithms,
)
from ._deprecated_norms import frobenius_norm, nuclear_norm
from ._runtime_flags import (
    has_lapack, has_mkl, has_openmp, has_spectral, init_num_threads, is_anomaly_check_nan_enabled, set_anomaly_enabled,
    set_flush_denormal,
)
from math import e, inf, nan, pi
newaxis = None  # x[:, newaxis] adds a dim, as in NumPy

def get_default_device():
    """The device factories create tensors on when given none (``set_default_device``)."""
    return _backend.default_device()


def is_tensor(obj):
    return isinstance(obj, Tensor)


def numel(input):
    return input.numel()


def is_floating_point(input):
    return input.is_floating_point()


def promote_types(type1, type2):
    return _dtypes.promote_types(type1, type2)


def result_type(tensor1, tensor2):
    a, b = _promote(tensor1, tensor2)
    if isinstance(a, Tensor) and isinstance(b, Tensor):  # promote leaves them as they are where NumPy widens alike
        return _dtypes.from_numpy_dtype(_result_dtype(a, b))
    return (a if isinstance(a, Tensor) else b).dtype


# Imported at first use, as PyTorch imports torch.onnx: most programs never touch them, and each would
# cost every process memory and start-up time (the first four: 1.7 of the 15.8 MiB import tinytorch
# added; multiprocessing, which re-exports the standard library's: ~1 MiB more; func, profiler,
# testing, sparse and compiler 0.4 MiB, which the lecture's peak RSS, at 0.30x PyTorch's, needs).
_LAZY_SUBMODULES = frozenset({
    "distributed", "distributions", "onnx", "viz", "multiprocessing", "futures", "func", "profiler", "testing", "sparse",
    "compiler",
})


def __getattr__(name):
    if name == "vmap":
        from .func import vmap

        return vmap
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")  # which also binds it here: called once
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | _LAZY_SUBMODULES)


__version__ = "0.1.0"

if _backend.SEVERAL_GPUS:  # every entry point runs on its tensors' GPU (tinytorch/_device_guard.py)
    from . import _device_guard

    _device_guard.install()
