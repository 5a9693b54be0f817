"""``tinytorch.cuda``: whether CuPy sees a GPU, how many, and synchronization."""

import sys

from . import _backend, random as _random
from ._tensor_types import CUDA_TYPES as _CUDA_TYPES
from .amp import _cuda_amp as amp  # noqa: F401 (re-exported: torch.cuda.amp, the deprecated CUDA forms of torch.amp)

# `from torch.cuda.amp import GradScaler, autocast` is how most training scripts import them:
# this module is a file, not a package, so the submodule is registered under its dotted name.
sys.modules[__name__ + ".amp"] = amp

# The legacy CUDA tensor types: tinytorch.cuda.FloatTensor(2, 3) makes a float32 tensor on the GPU.
DoubleTensor, FloatTensor, HalfTensor = _CUDA_TYPES["DoubleTensor"], _CUDA_TYPES["FloatTensor"], _CUDA_TYPES["HalfTensor"]
ByteTensor, CharTensor, ShortTensor = _CUDA_TYPES["ByteTensor"], _CUDA_TYPES["CharTensor"], _CUDA_TYPES["ShortTensor"]
IntTensor, LongTensor, BoolTensor = _CUDA_TYPES["IntTensor"], _CUDA_TYPES["LongTensor"], _CUDA_TYPES["BoolTensor"]


def is_available():
    """True when CuPy is installed and sees at least one CUDA GPU."""
    return _backend.cuda_device_count() > 0


def device_count():
    return _backend.cuda_device_count()


def synchronize(device=None):
    """Wait for all work queued on the GPU to finish."""
    index = _backend.as_device(device).index if device is not None else None
    _backend.synchronize(index)


def set_sync_debug_mode(debug_mode):
    """Report synchronizing CUDA operations: 0 or "default" (quiet), 1 or "warn", 2 or "error".

    A training step should make none; each report names the user's line that caused it.
    ``TINYTORCH_WARN_SYNC=1`` in the environment starts in "warn".
    """
    _backend.set_sync_debug_mode(debug_mode)


def get_sync_debug_mode():
    return _backend.sync_debug_mode


def current_device():
    return 0


def manual_seed(seed):
    _random.manual_seed(seed)


manual_seed_all = manual_seed


def get_device_name(device=None):
    if not is_available():
        raise RuntimeError("Found no NVIDIA driver on your system: CuPy sees no CUDA GPU")
    index = _backend.as_device(device).index or 0 if device is not None else 0
    return _backend.cupy.cuda.runtime.getDeviceProperties(index)["name"].decode()
