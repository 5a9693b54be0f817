"""DLPack exchange: ``from_dlpack`` wraps another library's array (NumPy, PyTorch, CuPy, JAX...)
as a tensor sharing its memory; ``to_dlpack`` gives a capsule of a tensor's memory.
(``Tensor.__dlpack__`` / ``__dlpack_device__`` are in ``_tensor.py``.)"""

import ctypes
import enum

from . import _backend as backend, _dtypes as dtypes
from ._tensor import Tensor

__all__ = ["DLDeviceType", "from_dlpack", "to_dlpack"]


class DLDeviceType(enum.IntEnum):
    """Device types as in the DLPack specification (dlpack.h)."""

    kDLCPU = 1
    kDLCUDA = 2
    kDLCUDAHost = 3
    kDLOpenCL = 4
    kDLVulkan = 7
    kDLMetal = 8
    kDLVPI = 9
    kDLROCM = 10
    kDLROCMHost = 11
    kDLExtDev = 12
    kDLCUDAManaged = 13
    kDLOneAPI = 14
    kDLWebGPU = 15
    kDLHexagon = 16
    kDLMAIA = 17


def to_dlpack(tensor):
    """A DLPack capsule sharing ``tensor``'s memory (the legacy interface: consume it once, with
    ``from_dlpack`` of any library). It is a DLPack 1.0 capsule where the array library writes
    those (NumPy 2.1+): unlike an older one, it says whether the memory may be written, so NumPy
    hands out a writable array for it."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_dlpack(): argument 'tensor' must be Tensor, not {type(tensor).__name__}")
    try:
        return tensor.__dlpack__(max_version=(1, 0))
    except TypeError:
        return tensor.__dlpack__()


def from_dlpack(ext_tensor, *, device=None, copy=None):
    """A tensor sharing the memory of ``ext_tensor``: an object with ``__dlpack__`` (a NumPy,
    PyTorch, CuPy or JAX array...) or a DLPack capsule. Writes through either side show on the
    other. ``device`` moves it (a copy); ``copy=True`` always copies, ``copy=False`` never does."""
    if isinstance(ext_tensor, Tensor):
        ext_tensor = ext_tensor.detach()
    if not hasattr(ext_tensor, "__dlpack__"):
        if device is not None or copy is not None:
            raise AssertionError("device and copy kwargs not supported when ext_tensor is already a DLPack capsule.")
        ext_tensor = _Capsule(ext_tensor)
    array = backend.from_dlpack(ext_tensor, copy)
    dtypes.from_numpy_dtype(array.dtype)  # TypeError for a dtype tinytorch has not
    if device is not None:
        target = backend.as_device(device)
        if target != backend.device_of(array):
            if copy is False:
                raise ValueError(f"cannot move DLPack tensor from device {backend.device_of(array)} to {target} without copying. Set copy=None or copy=True.")
            array = backend.to_device(array, target)
    return Tensor._make(array)


class _Capsule:
    """A bare capsule made to look like a producer, so that NumPy and CuPy can consume it."""

    def __init__(self, capsule):
        self.capsule = capsule
        self.device = _capsule_device(capsule)

    def __dlpack__(self, **kwargs):
        return self.capsule

    def __dlpack_device__(self):
        return self.device


def _capsule_device(capsule):
    """(device type, device id) read from a capsule's DLTensor (capsules have no Python API)."""
    api = ctypes.pythonapi
    api.PyCapsule_IsValid.restype, api.PyCapsule_IsValid.argtypes = ctypes.c_int, [ctypes.py_object, ctypes.c_char_p]
    api.PyCapsule_GetPointer.restype, api.PyCapsule_GetPointer.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
    # DLManagedTensor starts with its DLTensor; DLManagedTensorVersioned puts a version, a context,
    # a deleter and flags (32 bytes) first. A DLTensor is a data pointer, then the DLDevice.
    for name, offset in ((b"dltensor", 8), (b"dltensor_versioned", 40)):
        if api.PyCapsule_IsValid(capsule, name):
            pointer = api.PyCapsule_GetPointer(capsule, name)
            device = (ctypes.c_int32 * 2).from_address(pointer + offset)
            return DLDeviceType(device[0]) if device[0] in DLDeviceType._value2member_map_ else device[0], device[1]
    raise TypeError(
        f"from_dlpack: expected an object with __dlpack__ or an unused DLPack capsule, got {type(capsule).__name__}"
    )
