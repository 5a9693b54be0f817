"""The one module that knows NumPy from CuPy: devices, array modules and transfers.

Every other module asks this one for ``xp`` (the array module of a device or an array) instead of
importing CuPy, so tinytorch imports and runs on machines without a GPU.
"""

import os
import sys
import traceback
import warnings

import numpy as np

try:  # CuPy is optional: the cuda12/cuda13 extras install it.
    import cupy

    try:
        _CUDA_DEVICES = cupy.cuda.runtime.getDeviceCount()
    except Exception:  # a CuPy install without a driver or GPU
        _CUDA_DEVICES = 0
except ImportError:
    cupy = None
    _CUDA_DEVICES = 0


class device:
    """Where a tensor lives: ``device("cpu")``, ``device("cuda")``, ``device("cuda:1")``, ``device("cuda", 1)``."""

    __slots__ = ("type", "index")

    def __init__(self, spec, index=None):
        if isinstance(spec, device):
            self.type, self.index = spec.type, spec.index
            return
        if isinstance(spec, int) and not isinstance(spec, bool):
            spec, index = "cuda", spec
        if not isinstance(spec, str):
            raise TypeError(f"device() expected a string or int, got {type(spec).__name__}")
        kind, _, number = spec.partition(":")
        if kind not in ("cpu", "cuda") or (number and not number.isdigit()):
            raise RuntimeError(
                "Expected one of cpu, cuda device type at start of device string: " + spec
            )
        if number:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was passed explicitly: {spec}")
            index = int(number)
        if kind == "cpu" and index not in (None, 0):
            raise RuntimeError(f"CPU device index must be -1 or zero, got {index}")
        self.type = kind
        self.index = index if kind == "cuda" else None

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        if not isinstance(other, device):
            return NotImplemented
        if self.type != other.type:
            return False
        # cuda and cuda:0 name the same card once a tensor lives there (the current device).
        return (self.index or 0) == (other.index or 0)

    def __hash__(self):
        return hash((self.type, self.index or 0))

    def __repr__(self):
        return f"device(type='{self.type}'" + ("" if self.index is None else f", index={self.index}") + ")"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"


CPU = device("cpu")
_CUDA = [device("cuda", i) for i in range(_CUDA_DEVICES)]


def as_device(spec):
    """A ``device`` from a device, string, int or None (None means CPU)."""
    if spec is None:
        return CPU
    if spec.__class__ is device:
        return spec
    return device(spec)


def device_of(array):
    """The device an array lives on."""
    if array.__class__ is np.ndarray:
        return CPU
    if cupy is not None and isinstance(array, cupy.ndarray):
        return _CUDA[array.device.id]
    return CPU


def array_module(obj):
    """``numpy`` or ``cupy``: the module for an array or a device."""
    if obj.__class__ is np.ndarray:
        return np
    if isinstance(obj, (device, str)):
        return _module_for(as_device(obj))
    if cupy is not None and isinstance(obj, cupy.ndarray):
        return cupy
    return np


def _module_for(dev):
    if dev.type == "cpu":
        return np
    _check_cuda(dev)
    return cupy


def _check_cuda(dev):
    if cupy is None:
        raise RuntimeError(
            "Torch not compiled with CUDA enabled: tinytorch needs CuPy for cuda tensors "
            "(pip install 'tinytorch[cuda12]' or 'tinytorch[cuda13]')"
        )
    if _CUDA_DEVICES == 0:
        raise RuntimeError("Found no NVIDIA driver on your system: CuPy sees no CUDA GPU")
    index = dev.index or 0
    if index >= _CUDA_DEVICES:
        raise RuntimeError(
            f"CUDA error: invalid device ordinal (cuda:{index} requested, {_CUDA_DEVICES} device(s) available)"
        )


def to_device(array, dev):
    """``array`` on ``dev``: the same array when it is already there, else a copy."""
    dev = as_device(dev)
    here = device_of(array)
    if here == dev:
        return array
    if dev.type == "cpu":
        note_sync("copy to the CPU")
        return cupy.asnumpy(array)
    _check_cuda(dev)
    with cupy.cuda.Device(dev.index or 0):
        return cupy.asarray(array)


def on_device(dev):
    """A context in which new CuPy arrays land on ``dev`` (a no-op for the CPU)."""
    dev = as_device(dev)
    if dev.type == "cpu":
        return _NULL_CONTEXT
    _check_cuda(dev)
    return cupy.cuda.Device(dev.index or 0)


class _NullContext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


_NULL_CONTEXT = _NullContext()


def to_numpy(array):
    """A NumPy array with the data of ``array`` (a device-to-host copy for CuPy arrays)."""
    if array.__class__ is np.ndarray:
        return array
    note_sync("copy to the host")
    return cupy.asnumpy(array)


def is_cuda_array(array):
    return cupy is not None and isinstance(array, cupy.ndarray)


def cuda_device_count():
    return _CUDA_DEVICES


def synchronize(index=None):
    if cupy is not None and _CUDA_DEVICES:
        with cupy.cuda.Device(index or 0):
            cupy.cuda.Device().synchronize()


# TINYTORCH_WARN_SYNC=1 reports each implicit device-to-host synchronization with the user's line,
# so that a training step can be checked for hidden transfers.
WARN_SYNC = os.environ.get("TINYTORCH_WARN_SYNC", "") not in ("", "0")


def note_sync(what):
    if not WARN_SYNC:
        return
    frame = sys._getframe(1)
    package = os.path.dirname(os.path.abspath(__file__))
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame = frame.f_back
    where = traceback.format_stack(frame, limit=1)[0].strip() if frame is not None else "?"
    warnings.warn(f"tinytorch: implicit device synchronization ({what}) at {where}", RuntimeWarning, stacklevel=2)


def scatter_add(array, index, values):
    """array[index] += values with repeated indices summed (np.add.at / cupyx.scatter_add)."""
    if array.__class__ is np.ndarray:
        np.add.at(array, index, values)
    else:
        import cupyx

        cupyx.scatter_add(array, index, values)


def reduce_sum(array, axis=None, keepdims=False, dtype=None):
    """``array.sum(...)`` minus NumPy's Python-level wrapper: every reduction's hot path."""
    if array.__class__ is np.ndarray:
        return np.add.reduce(array, axis=axis, dtype=dtype, keepdims=keepdims)
    return array.sum(axis=axis, dtype=dtype, keepdims=keepdims)


def reduce_max(array, axis=None, keepdims=False):
    """``array.max(...)`` minus NumPy's Python-level wrapper."""
    if array.__class__ is np.ndarray:
        return np.maximum.reduce(array, axis=axis, keepdims=keepdims)
    return array.max(axis=axis, keepdims=keepdims)


def matmul_transposed(a, b):
    """``a @ b.T`` for 2-D ``a`` (rows, in) and ``b`` (out, in), returned C-contiguous.

    For few rows and a large ``b``, OpenBLAS is much faster at ``(b @ a.T).T`` (measured with
    NumPy 2.4 / OpenBLAS 0.3.31 on 2 cores: 110 against 187 us for 12 x 784 by 512 x 784,
    36 against 60 us for 12 x 512 by 256 x 512); from ~128 rows on, or for small ``b``, the
    plain order is as fast or faster (1024 rows: 4.1 against 7.8 ms). CuPy takes the plain order.
    """
    if a.__class__ is np.ndarray and a.shape[0] <= 32 and b.size >= 32768:
        return np.ascontiguousarray(np.matmul(b, a.T).T)
    return a @ b.T
