"""scatter_reduce and index_reduce: reductions (sum, prod, mean, amax, amin) of ``src`` into
``input`` at ``index`` along ``dim``, with PyTorch's gradients (``scatter_reduce_backward`` in
torch/csrc/autograd/FunctionsManual.cpp)."""

import builtins

from .. import _backend as backend, _dtypes as dtypes
from ..autograd.function import Function
from .._tensor import Tensor
from ._util import check_same_device, wrap
from .binary import where
from .indexing import Gather, Scatter, ScatterAdd, _along_dim, _check_along, _index_along, _like_input

_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def _segment_reduce(keys, values, ufunc):
    """(unique keys, ``ufunc`` reduced over each key's values), for any ufunc on both backends
    (CuPy has no ``multiply.at``): sort by key, then a segmented inclusive scan by doubling
    (log2(n) vector steps) leaves each segment's reduction at its last position."""
    xp = backend.array_module(keys)
    order = keys.argsort(kind="stable")
    keys, values = keys[order], values[order]
    shift = 1
    while shift < keys.size:
        same = keys[shift:] == keys[:-shift]
        values = xp.concatenate([values[:shift], xp.where(same, ufunc(values[shift:], values[:-shift]), values[shift:])])
        shift *= 2
    last = xp.concatenate([keys[1:] != keys[:-1], xp.ones(1, dtype=bool)]) if keys.size else xp.zeros(0, dtype=bool)
    return keys[last], values[last]


def _scatter_reduce_array(x, dim, index, src, reduce, include_self):
    """The forward on arrays: a copy of ``x`` with ``src[:index.shape]`` reduced in at ``index``."""
    xp = backend.array_module(x)
    out = x.copy()
    if not index.size:
        return out
    size = x.shape[dim] if x.ndim else 1
    index = index % size  # PyTorch accepts -size <= index < size
    full = _along_dim(index, dim) if x.ndim else (index.reshape(-1) * 0,)
    src = src[tuple(builtins.slice(0, s) for s in index.shape)].astype(x.dtype, copy=False)
    if x.ndim == 0:
        out, src = out.reshape(1), src.reshape(-1)
    if reduce in ("sum", "mean"):
        if not include_self:
            out[full] = 0
        backend.scatter_add(out, full, src)
        if reduce == "mean":
            count = xp.ones(out.shape, dtype=x.dtype) if include_self else xp.zeros(out.shape, dtype=x.dtype)
            backend.scatter_add(count, full, xp.ones(src.shape, dtype=x.dtype))
            count = xp.maximum(count, 1)
            out = out // count if x.dtype.kind in "iub" else out / count
    else:
        ufunc = {"prod": xp.multiply, "amax": xp.maximum, "amin": xp.minimum}[reduce]
        strides = [1] * out.ndim
        for d in range(out.ndim - 2, -1, -1):
            strides[d] = strides[d + 1] * out.shape[d + 1]
        keys = builtins.sum(f * s for f, s in zip(full, strides))
        keys = xp.broadcast_to(keys, src.shape).reshape(-1)
        where_, reduced = _segment_reduce(keys, src.reshape(-1), ufunc)
        flat = out.reshape(-1)
        flat[where_] = ufunc(flat[where_], reduced) if include_self else reduced
    return out.reshape(x.shape)


class ScatterReduce(Function):
    """``src`` (already cut to ``index``'s shape) reduced into a copy of ``x``; backward as
    PyTorch's ``scatter_reduce_backward`` (ties of amax/amin share the gradient evenly)."""

    @staticmethod
    def forward(ctx, x, dim, index, src, reduce, include_self):
        ctx.dim, ctx.reduce, ctx.include_self = dim, reduce, include_self
        out = wrap(_scatter_reduce_array(x._data, dim, index._data, src._data, reduce, include_self))
        ctx.save_for_backward(x, index, src, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, index, src, result = ctx.saved_tensors
        dim, reduce, include_self = ctx.dim, ctx.reduce, ctx.include_self
        if reduce == "sum":
            grad_self, grad_src = grad, Gather.apply(grad, dim, index)
        elif reduce == "prod":
            masked_self = x.masked_fill(x == 0, 1)
            masked_self_result = ScatterReduce.apply(masked_self, dim, index, src, reduce, include_self)
            grad_self = grad * masked_self_result / masked_self
            src_zero = src == 0
            zeros = x.detach() * 0
            src_num_zeros = Gather.apply(ScatterAdd.apply(zeros, dim, index, src_zero.to(x.dtype)), dim, index)
            src_single_zero = src_zero & (src_num_zeros == 1)
            # src's zeros get the product of the others (the quotient would be 0/0)
            masked_src_result = ScatterReduce.apply(x, dim, index, src.masked_fill(src_single_zero, 1), reduce, include_self)
            grad_src = where(src_single_zero, Gather.apply(grad * masked_src_result, dim, index),
                             Gather.apply(grad * result, dim, index) / src.masked_fill(src_zero, 1))
        elif reduce == "mean":
            count = x.detach() * 0 + (1 if include_self else 0)
            count = ScatterAdd.apply(count, dim, index, src.detach() * 0 + 1)
            count = count.masked_fill(count == 0, 1)
            grad_self = grad / count
            grad_src = Gather.apply(grad, dim, index) / Gather.apply(count, dim, index)
        else:  # amax, amin: ties share the gradient evenly
            value = Gather.apply(result, dim, index)
            self_is_result = (x == result).to(x.dtype)
            src_is_result = (src == value).to(x.dtype)
            grad_distributed = grad / ScatterAdd.apply(self_is_result, dim, index, src_is_result)
            grad_self = self_is_result * grad_distributed
            grad_src = src_is_result * Gather.apply(grad_distributed, dim, index)
        if not include_self:
            grad_self = Scatter.apply(grad_self, dim, index, 0.0)
        return (grad_self if ctx.needs_input_grad[0] else None, None, None,
                grad_src if ctx.needs_input_grad[3] else None, None, None)




def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """Reduce ``src`` into ``input`` at ``index`` along ``dim`` with ``reduce`` (``"sum"``,
    ``"prod"``, ``"mean"``, ``"amax"`` or ``"amin"``); ``include_self=False`` leaves
    ``input``'s values at the scattered positions out of the reduction."""
    if reduce not in _REDUCTIONS:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_reduce(): argument 'src' must be Tensor, not {type(src).__name__}")
    if isinstance(index, Tensor) and index._data.ndim == src._data.ndim and builtins.any(
            a > b for a, b in zip(index._data.shape, src._data.shape)):
        d = dim % builtins.max(input._data.ndim, 1)
        raise RuntimeError(f"Expected index {list(index._data.shape)} to be no larger than self {list(input._data.shape)} "
                           f"apart from dimension {d} and to be no larger size than src {list(src._data.shape)}")
    d = _check_along(input, dim, index, "scatter", src)
    check_same_device(input, src)
    if src._data.dtype != input._data.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    if index._data.ndim != src._data.ndim and not (index._data.ndim <= 1 and src._data.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    if index._data.shape != src._data.shape and src._data.ndim:
        src = src[tuple(builtins.slice(0, s) for s in index._data.shape)]
    if index._data.dtype != dtypes.int64.numpy:
        index = wrap(index._data.astype(dtypes.int64.numpy))
    return ScatterReduce.apply(input, d, index, src, reduce, include_self)


def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    """Reduce the slices of ``source`` into ``input`` at ``index`` along ``dim`` with ``reduce``
    (``"prod"``, ``"mean"``, ``"amax"`` or ``"amin"``)."""
    if reduce not in _REDUCTIONS[1:]:
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got {reduce}.")
    x, d, along, source = _index_along("index_reduce_", input, dim, index, source)
    return _like_input(ScatterReduce.apply(x, d, along, source, reduce, include_self), input)
