"""Device arguments of ``torch.nn.parallel``'s functions as indices (PyTorch's ``_get_device_index``)."""

from ... import _backend as backend


def get_device_index(device, optional=False, allow_cpu=False):
    """The index of ``device`` (an int, a ``"cuda:1"`` string or a device); -1 for the CPU when
    ``allow_cpu``; for None or an index-less device, the current CUDA device when ``optional``
    (None without one), as PyTorch."""
    if isinstance(device, str):
        device = backend.device(device)
    index = None
    if isinstance(device, backend.device):
        if not allow_cpu and device.type == "cpu":
            raise ValueError(f"Expected a non cpu device, but got: {device}")
        index = -1 if device.type == "cpu" else device.index
    if isinstance(device, int):
        index = device
    if index is None:
        if not optional:
            raise ValueError(f"Expected a torch.device with a specified index or an integer, but got:{device}")
        index = backend.current_cuda_index() if backend.cuda_device_count() > 0 else None
    return index


def cuda_device(index):
    """The device an index names: -1 is the CPU (as ``gather``'s ``target_device`` allows)."""
    return backend.CPU if index == -1 else backend.device("cuda", index)
