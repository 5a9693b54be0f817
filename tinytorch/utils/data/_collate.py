"""Collation: turn a list of samples into a batch (``default_collate``), or convert one sample's
NumPy arrays to tensors (``default_convert``), with PyTorch's rules and its extensible
``collate(batch, collate_fn_map=...)`` registry."""

import collections.abc
import copy
import re

import numpy as np

from ... import _creation, _ops
from ..._tensor import Tensor

_STRING_OR_OBJECT_DTYPE = re.compile(r"[SaUO]")

default_collate_err_msg_format = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)


class SampleBatch(collections.abc.Sequence):
    """The samples of one batch stored field by field: ``columns[k][i]`` is field ``k`` of sample ``i``.

    A Tensor column is already stacked along dim 0; any other column is a list of per-sample values.
    Indexing gives sample ``i`` as a tuple, so a ``collate_fn`` sees an ordinary sequence of
    samples, while ``default_collate`` returns the stacked columns without re-stacking them.
    ``__getitems__`` of a dataset (e.g. MNIST) returns one to make batched loading cheap.
    """

    def __init__(self, columns):
        self.columns = tuple(columns)
        self._length = len(self.columns[0])
        if any(len(column) != self._length for column in self.columns):
            raise ValueError("SampleBatch columns must have the same length")

    def __len__(self):
        return self._length

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._length))]
        if index < -self._length or index >= self._length:
            raise IndexError(f"index {index} is out of range for a batch of {self._length} samples")
        return tuple(column[index] for column in self.columns)

    def __iter__(self):
        return (self[i] for i in range(self._length))

    def __repr__(self):
        return f"SampleBatch({self._length} samples, {len(self.columns)} fields)"


def default_convert(data):
    """NumPy arrays and scalars become tensors, recursively through mappings and sequences."""
    elem_type = type(data)
    if isinstance(data, Tensor):
        return data
    if elem_type.__module__ == "numpy" and elem_type.__name__ not in ("str_", "bytes_", "string_"):
        if elem_type.__name__ == "ndarray" and _STRING_OR_OBJECT_DTYPE.search(data.dtype.str) is not None:
            return data
        return _creation.as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _rebuild_mapping(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]  # a list, as PyTorch (backward compatibility)
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild_sequence(data, [default_convert(d) for d in data])
    return data


def _rebuild_mapping(template, values):
    """``values`` in the mapping type of ``template`` (a copy keeps extra attributes), else a dict."""
    try:
        if isinstance(template, collections.abc.MutableMapping):
            clone = copy.copy(template)
            clone.update(values)
            return clone
        return type(template)(values)
    except TypeError:  # a mapping type that can't be copied or built from a dict
        return values


def _rebuild_sequence(template, values):
    try:
        if isinstance(template, collections.abc.MutableSequence):
            clone = copy.copy(template)
            for i, value in enumerate(values):
                clone[i] = value
            return clone
        return type(template)(values)
    except TypeError:  # e.g. range
        return values


def collate(batch, *, collate_fn_map=None):
    """Collate a list of samples: each element type is handled by ``collate_fn_map`` (exact type
    first, then ``isinstance`` in insertion order), and containers recurse field by field."""
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for collate_type in collate_fn_map:
            if isinstance(elem, collate_type):
                return collate_fn_map[collate_type](batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        return _rebuild_mapping(elem, {key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map) for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return elem_type(*(collate(samples, collate_fn_map=collate_fn_map) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [collate(samples, collate_fn_map=collate_fn_map) for samples in zip(*batch)]
        if isinstance(elem, tuple):
            return fields  # a list, as PyTorch (backward compatibility)
        return _rebuild_sequence(elem, fields)
    raise TypeError(default_collate_err_msg_format.format(elem_type))


def collate_tensor_fn(batch, *, collate_fn_map=None):
    arrays = [t._data for t in batch]
    first = arrays[0]
    # NOTE: the fast path stacks the arrays directly; tensors that need a graph, live on a GPU,
    # or differ in shape or dtype go through tinytorch.stack (autograd, promotion, errors).
    if all(a.__class__ is np.ndarray and a.shape == first.shape and a.dtype == first.dtype for a in arrays) and not any(
        t._requires_grad for t in batch
    ):
        return Tensor._make(np.stack(arrays))
    return _ops.stack(list(batch), 0)


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    if _STRING_OR_OBJECT_DTYPE.search(batch[0].dtype.str) is not None:
        raise TypeError(default_collate_err_msg_format.format(batch[0].dtype))
    return collate([_creation.as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    return _creation.as_tensor(np.asarray(batch))  # keeps the scalars' dtype (np.float32 stays float32)


def collate_float_fn(batch, *, collate_fn_map=None):
    return Tensor._make(np.array(batch, dtype=np.float64))


def collate_int_fn(batch, *, collate_fn_map=None):
    array = np.array(batch)
    if array.dtype == np.int64 or array.dtype == np.bool_:  # int64 (bool for a batch of bools)
        return Tensor._make(array)
    return _creation.tensor(batch)  # raises PyTorch's error for values outside int64


def collate_str_fn(batch, *, collate_fn_map=None):
    return batch


default_collate_fn_map = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch):
    """Stack a list of samples into a batch: tensors, arrays and numbers become tensors with a new
    leading dim (Python ints int64, floats float64), strings stay lists, and dicts, tuples, lists
    and namedtuples are collated field by field (a tuple sample gives a list)."""
    if isinstance(batch, SampleBatch) and default_collate_fn_map.get(Tensor) is collate_tensor_fn:
        return [
            column if isinstance(column, Tensor) else collate(list(column), collate_fn_map=default_collate_fn_map)
            for column in batch.columns
        ]
    return collate(batch, collate_fn_map=default_collate_fn_map)
