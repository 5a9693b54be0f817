"""``tinytorch.accelerator``: the device-agnostic way current PyTorch programs pick their device.

    device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"

tinytorch's one accelerator is CUDA through CuPy. As in a CUDA build of PyTorch on a machine
without a GPU, ``current_accelerator()`` names cuda whenever CuPy is installed, and
``is_available()`` says whether a GPU is actually there.
"""

from . import _backend


def _require():
    if not is_available():
        raise RuntimeError("Cannot access accelerator device when none is available.")


def current_accelerator(check_available=False):
    """``device(type='cuda')`` when tinytorch can use CUDA (CuPy installed; with
    ``check_available``, a GPU present too), else None."""
    if _backend.cupy is None or (check_available and not is_available()):
        return None
    return _backend.device("cuda")


def is_available():
    """Whether an accelerator can be used now: CuPy is installed and sees a GPU."""
    return _backend.cuda_device_count() > 0


def device_count():
    """The number of accelerator devices (0 without one)."""
    return _backend.cuda_device_count()


def current_device_index():
    """The index of the current accelerator device (tinytorch always uses device 0 for ``"cuda"``)."""
    _require()
    return 0


current_device_idx = current_device_index


def synchronize(device=None, /):
    """Wait for every kernel queued on the accelerator (``device``: None, an index, a string or a device)."""
    _require()
    if isinstance(device, int) and not isinstance(device, bool):
        index = device
    elif device is None:
        index = None
    else:
        device = _backend.as_device(device)
        if device.type != "cuda":
            raise ValueError(f"Expected a cuda device, but got: {device}")
        index = device.index
    _backend.synchronize(index)


def empty_cache():
    """Give CuPy's cached, unused device memory back to the driver."""
    _require()
    _backend.cupy.get_default_memory_pool().free_all_blocks()


def memory_allocated(device_index=None, /):
    """Bytes of device memory held by tensors (CuPy's memory pool, in use)."""
    _require()
    return _backend.cupy.get_default_memory_pool().used_bytes()


def memory_reserved(device_index=None, /):
    """Bytes of device memory CuPy's pool holds, in use or cached."""
    _require()
    return _backend.cupy.get_default_memory_pool().total_bytes()


__all__ = [
    "current_accelerator", "current_device_idx", "current_device_index", "device_count", "empty_cache",
    "is_available", "memory_allocated", "memory_reserved", "synchronize",
]
