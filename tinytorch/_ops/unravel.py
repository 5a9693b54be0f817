"""``unravel_index``: flat indices to coordinates (PyTorch's Python implementation, on int64 tensors)."""

import collections.abc
import itertools
import operator

import numpy as np

from .. import _backend as backend
from .._tensor import Size
from ._util import check_tensor_argument, wrap


def unravel_index(indices, shape):
    """The coordinates, one int64 tensor per dim of ``shape`` (each of ``indices``' shape), that
    the flat ``indices`` address in a tensor of ``shape``. As in PyTorch, indices wrap around:
    -1 is the last element, ``prod(shape)`` the first."""
    check_tensor_argument("unravel_index", indices, "indices")
    if indices._data.dtype.kind not in "iu":
        raise TypeError(f"expected 'indices' to be integer dtype, but got {indices.dtype}")
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = Size([int(shape)])
    elif isinstance(shape, collections.abc.Sequence):
        for size in shape:
            if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
                raise TypeError(f"expected 'shape' sequence to only contain ints, but got {type(size)}")
        shape = Size(int(size) for size in shape)
    else:
        raise TypeError(f"expected 'shape' to be int or sequence of ints, but got {type(shape)}")
    if any(size < 0 for size in shape):
        raise ValueError(f"'shape' cannot have negative values, but got {tuple(shape)}")
    if 0 in shape and indices._data.size:
        raise RuntimeError("ZeroDivisionError")  # PyTorch's integer division by a zero size
    xp = backend.array_module(indices._data)
    # The number of elements one step along each dim spans (the strides of a contiguous tensor).
    steps = list(reversed(list(itertools.accumulate(reversed(shape[1:] + (1,)), operator.mul))))
    flat = indices._data.astype(np.int64)[..., None]
    coordinates = flat // xp.asarray(steps, dtype=np.int64) % xp.asarray(list(shape), dtype=np.int64)
    return tuple(wrap(coordinates[..., i]) for i in range(len(shape)))
