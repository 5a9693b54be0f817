"""Tensors in shared memory: ``Tensor.share_memory_()`` moves a CPU tensor's array into a file in
``/dev/shm`` (the temporary folder where there is none) mapped with ``MAP_SHARED``.

A forked child inherits the mapping; a spawned child gets the file's path when the tensor is
pickled to it (``multiprocessing``'s pickler is taught to do so here) and maps the same memory.
Writes from any process are seen by all. The process that created a segment removes the file
when its last array is garbage collected, or at exit.
"""

import itertools
import mmap
import os
import secrets
import tempfile
import weakref

import numpy as np

_DIRECTORY = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()
_counter = itertools.count()
_segments = {}  # id(mmap) -> (path, size) for every mapping alive in this process
_attached = {}  # path -> weakref to this process's mapping of it


def _remove(key, path, creator):
    _segments.pop(key, None)
    _attached.pop(path, None)
    if os.getpid() == creator:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def _map(path, size, creator):
    with open(path, "r+b") as file:
        segment = mmap.mmap(file.fileno(), size)
    _segments[id(segment)] = (path, size)
    _attached[path] = weakref.ref(segment)
    weakref.finalize(segment, _remove, id(segment), path, creator)
    return segment


def _segment_of(array):
    """(mmap, path, size) when ``array`` views a shared segment, else None."""
    root = array
    while isinstance(root, np.ndarray) and root.base is not None:
        root = root.base
    if isinstance(root, memoryview):
        root = root.obj
    if root.__class__ is not mmap.mmap:
        return None
    found = _segments.get(id(root))
    return None if found is None else (root, *found)


def is_shared(array):
    return _segment_of(array) is not None


def share(array):
    """A copy of the NumPy ``array`` in a new shared segment (C-contiguous)."""
    size = max(array.nbytes, 1)
    path = os.path.join(_DIRECTORY, f"tinytorch_{os.getpid()}_{next(_counter)}_{secrets.token_hex(4)}")
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.ftruncate(descriptor, size)
    finally:
        os.close(descriptor)
    segment = _map(path, size, os.getpid())
    shared = np.ndarray(array.shape, array.dtype, buffer=segment)
    shared[...] = array
    return shared


def describe(array):
    """What a spawned process needs to map ``array`` again, or None when it is not shared."""
    found = _segment_of(array)
    if found is None:
        return None
    segment, path, size = found
    start = np.ndarray((size,), np.uint8, buffer=segment).__array_interface__["data"][0]
    offset = array.__array_interface__["data"][0] - start
    return path, size, offset, array.shape, array.strides, array.dtype.str


def attach(path, size, offset, shape, strides, dtype):
    """``array`` as ``describe`` described it, mapped in this process (once per segment)."""
    ref = _attached.get(path)
    segment = ref() if ref is not None else None
    if segment is None:
        # creator -1: the file belongs to the process that made it, never removed from here
        segment = _map(path, size, -1)
    return np.ndarray(shape, np.dtype(dtype), buffer=segment, offset=offset, strides=strides)


# -- pickling to other processes ---------------------------------------------------------------------
def _rebuild_shared(cls, description, requires_grad):
    from ._tensor import Tensor

    register_reductions()  # so that this process sends it on by path too
    tensor = Tensor._make(attach(*description))
    if cls is not Tensor:
        return cls(tensor, requires_grad)
    if requires_grad:
        tensor.requires_grad = True
    return tensor


def _reduce(tensor):
    """How ``multiprocessing`` pickles a tensor: by path when shared, as usual otherwise."""
    description = describe(tensor._data) if tensor._data.__class__ is np.ndarray else None
    if description is None:
        return tensor.__reduce_ex__(2)
    return (_rebuild_shared, (_base_class(tensor), description, tensor._requires_grad))


def _base_class(tensor):
    from ._tensor import Tensor
    from .nn.parameter import Parameter

    return Parameter if isinstance(tensor, Parameter) else Tensor


def register_reductions():
    """Teach ``multiprocessing``'s pickler (queues, Process arguments) to send shared tensors by path."""
    from multiprocessing.reduction import ForkingPickler

    from ._tensor import Tensor
    from .nn.parameter import Parameter

    global _registered
    if _registered:
        return
    for cls in (Tensor, Parameter):
        ForkingPickler.register(cls, _reduce)
    _registered = True


_registered = False
