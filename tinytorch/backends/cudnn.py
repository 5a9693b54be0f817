"""``tinytorch.backends.cudnn``: PyTorch's cuDNN switches, accepted and without effect.

tinytorch never calls cuDNN (its convolutions are im2col and matrix products on NumPy or CuPy),
so ``is_available()`` is False and ``version()`` is None, as in a PyTorch build without cuDNN;
``enabled``, ``benchmark``, ``deterministic`` and ``allow_tf32`` are plain attributes that
programs may set and read back.
"""

import contextlib
import sys

enabled = True
benchmark = False
benchmark_limit = None
deterministic = False
allow_tf32 = True


def is_available():
    """Whether cuDNN can be used: never, in tinytorch."""
    return False


def version():
    """cuDNN's version: None, as PyTorch reports without cuDNN."""
    return None


def is_acceptable(tensor):
    """Whether cuDNN would take ``tensor``: never, in tinytorch."""
    return False


_FLAGS = ("enabled", "benchmark", "benchmark_limit", "deterministic", "allow_tf32")


def set_flags(_enabled=None, _benchmark=None, _benchmark_limit=None, _deterministic=None, _allow_tf32=None):
    """Set the flags given (None leaves one as it is); returns the previous values, in order."""
    module = sys.modules[__name__]
    previous = tuple(getattr(module, name) for name in _FLAGS)
    for name, value in zip(_FLAGS, (_enabled, _benchmark, _benchmark_limit, _deterministic, _allow_tf32)):
        if value is not None:
            setattr(module, name, value)
    return previous


@contextlib.contextmanager
def flags(enabled=False, benchmark=False, benchmark_limit=10, deterministic=False, allow_tf32=True):
    """Set the flags inside a ``with`` block and restore them after it, as PyTorch's."""
    previous = set_flags(enabled, benchmark, benchmark_limit, deterministic, allow_tf32)
    try:
        yield
    finally:
        set_flags(*previous)
