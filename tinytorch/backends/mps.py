"""``tinytorch.backends.mps``: Apple's Metal GPUs, which tinytorch does not support."""


def is_available():
    """Whether an MPS device can be used: never, in tinytorch."""
    return False


def is_built():
    """Whether tinytorch was built with MPS support: no."""
    return False
