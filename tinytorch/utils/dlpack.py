"""``tinytorch.utils.dlpack``: zero-copy exchange with other array libraries (PyTorch's module)."""

from .._dlpack import DLDeviceType, from_dlpack, to_dlpack

__all__ = ["DLDeviceType", "from_dlpack", "to_dlpack"]
