"""The exception classes of ``torch.distributed``, with PyTorch's hierarchy."""


class DistError(RuntimeError):
    """Raised when an error occurs in the distributed library."""


class DistBackendError(DistError):
    """Raised when a backend error occurs in distributed: a timeout, a dead peer, a transport error."""


class DistStoreError(DistError):
    """Raised when a key-value store operation fails: a ``get`` or ``wait`` that timed out."""


DistError.__module__ = DistBackendError.__module__ = DistStoreError.__module__ = "tinytorch.distributed"  # as tracebacks name them
