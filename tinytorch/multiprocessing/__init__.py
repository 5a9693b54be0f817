"""``torch.multiprocessing``: Python's ``multiprocessing`` (``Process``, ``Queue``,
``set_start_method``, ``get_context``...) with tensors that can live in shared memory.

``tensor.share_memory_()`` / ``module.share_memory()`` put the data in shared memory; forked
children inherit it and spawned children map the same memory when the tensor is passed to them,
so several processes update one model (Hogwild). Tensors that are not shared are copied.
"""

import multiprocessing
from multiprocessing import *  # noqa: F403 - PyTorch re-exports all of multiprocessing

from .. import _shared_memory

_sharing_strategy = "file_system"
_all_sharing_strategies = {"file_system"}


def set_sharing_strategy(new_strategy):
    """Choose how CPU tensors are shared; tinytorch has one strategy, ``"file_system"`` (files in
    ``/dev/shm`` passed by name)."""
    global _sharing_strategy
    if new_strategy not in _all_sharing_strategies:
        raise AssertionError(f"sharing strategy {new_strategy!r} is not supported (tinytorch has {sorted(_all_sharing_strategies)})")
    _sharing_strategy = new_strategy


def get_sharing_strategy():
    return _sharing_strategy


def get_all_sharing_strategies():
    return set(_all_sharing_strategies)


_shared_memory.register_reductions()

__all__ = ["set_sharing_strategy", "get_sharing_strategy", "get_all_sharing_strategies"] + multiprocessing.__all__
