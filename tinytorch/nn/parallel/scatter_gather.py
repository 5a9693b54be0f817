"""``scatter`` and ``gather``: split inputs across GPUs along a dimension and join outputs back.

Both are compositions of differentiable ops (``chunk``, ``Tensor.to``, ``cat``), so gradients
flow back across devices without Functions of their own: the backward of ``to`` copies each
gradient to the device its input came from, as PyTorch's ``Scatter``/``Gather`` pair does.
"""

import warnings

from ... import _backend as backend
from ..._ops import cat as _cat
from ..._tensor import Tensor
from ._device_index import cuda_device, get_device_index

__all__ = ["scatter", "scatter_kwargs", "gather"]


def _is_namedtuple(obj):
    # A type made by collections.namedtuple or typing.NamedTuple.
    return isinstance(obj, tuple) and hasattr(obj, "_asdict") and hasattr(obj, "_fields")


def _scatter_tensor(tensor, target_gpus, dim):
    indices = [get_device_index(x, True) for x in target_gpus]
    if not indices:
        raise RuntimeError("Expected at least one device to scatter to")
    # chunk, as PyTorch: a batch smaller than the device count gives fewer chunks (and replicas).
    return tuple(chunk.to(cuda_device(index)) for chunk, index in zip(tensor.chunk(len(indices), dim), indices))


def scatter(inputs, target_gpus, dim=0):
    """Slice tensors into approximately equal chunks along ``dim``, one per device in
    ``target_gpus``; lists, tuples, dicts and namedtuples are recursed into, other objects
    referenced once per device. A tensor gives a tuple of chunks, anything else a list."""

    def scatter_map(obj):
        if isinstance(obj, Tensor):
            return _scatter_tensor(obj, target_gpus, dim)
        if _is_namedtuple(obj):
            return [type(obj)(*args) for args in zip(*map(scatter_map, obj))]
        if isinstance(obj, tuple) and len(obj) > 0:
            return list(zip(*map(scatter_map, obj)))
        if isinstance(obj, list) and len(obj) > 0:
            return [list(i) for i in zip(*map(scatter_map, obj))]
        if isinstance(obj, dict) and len(obj) > 0:
            return [type(obj)(i) for i in zip(*map(scatter_map, obj.items()))]
        return [obj for _ in target_gpus]

    try:
        return scatter_map(inputs)
    finally:
        scatter_map = None  # break the closure's reference cycle, as PyTorch does


def scatter_kwargs(inputs, kwargs, target_gpus, dim=0):
    """``scatter`` of positional and keyword arguments: one ``(args, kwargs)`` pair per device."""
    scattered_inputs = scatter(inputs, target_gpus, dim) if inputs else []
    scattered_kwargs = scatter(kwargs, target_gpus, dim) if kwargs else []
    if len(scattered_inputs) < len(scattered_kwargs):
        scattered_inputs.extend(() for _ in range(len(scattered_kwargs) - len(scattered_inputs)))
    elif len(scattered_kwargs) < len(inputs):
        scattered_kwargs.extend({} for _ in range(len(scattered_inputs) - len(scattered_kwargs)))
    return tuple(scattered_inputs), tuple(scattered_kwargs)


def _gather_tensors(target_device, dim, inputs):
    if not all(t.device.type != "cpu" for t in inputs):
        raise AssertionError("Gather function not implemented for CPU tensors")
    if isinstance(target_device, str) and target_device == "cpu":
        target = backend.CPU
    else:
        target = cuda_device(get_device_index(target_device, True))
    if all(t.dim() == 0 for t in inputs) and dim == 0:
        inputs = [t.view(1) for t in inputs]
        warnings.warn("Was asked to gather along dimension 0, but all input tensors were scalars; "
                      "will instead unsqueeze and return a vector.", stacklevel=4)
    with backend.on_device(target):
        return _cat([t.to(target) for t in inputs], dim)


def gather(outputs, target_device, dim=0):
    """Join one output per device into one on ``target_device`` (an index, a device, -1 or
    ``"cpu"`` for the CPU): tensors are concatenated along ``dim`` (0-d tensors become a vector,
    with a warning), dicts, lists, tuples and namedtuples are gathered item by item."""

    def gather_map(outputs):
        out = outputs[0]
        if isinstance(out, Tensor):
            return _gather_tensors(target_device, dim, outputs)
        if out is None:
            return None
        if isinstance(out, dict):
            if not all(len(out) == len(d) for d in outputs):
                raise ValueError("All dicts must have the same number of keys")
            return type(out)((k, gather_map([d[k] for d in outputs])) for k in out)
        if _is_namedtuple(out):
            return type(out)._make(map(gather_map, zip(*outputs, strict=True)))
        return type(out)(map(gather_map, zip(*outputs, strict=True)))

    try:
        return gather_map(outputs)
    finally:
        gather_map = None
