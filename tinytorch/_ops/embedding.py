"""The embedding lookup whose weight gradient is PyTorch's ``embedding_backward``: summed per row
(each row's share divided by how often its index occurs, with ``scale_grad_by_freq``), or a
sparse COO tensor (``sparse=True``). ``nn.functional.embedding`` and ``embedding_bag`` use it
only for those two flags: the plain lookup is ``weight[indices]``, whose gradient is the same
dense sum, so that path (and what ONNX export and the tracer know of it) stays as it was."""

import numpy as np

from .. import _backend as backend, _sparse_coo
from ..autograd.function import Function
from .._tensor import Tensor
from ._util import wrap
from .binary import where
from .indexing import index_select


class Embedding(Function):
    """``weight[indices]`` (rows picked by integer indices); ``padding_idx`` rows get no gradient."""

    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq, sparse):
        ctx.indices, ctx.weight_shape = indices._data, tuple(weight._data.shape)
        ctx.padding_idx, ctx.scale_grad_by_freq, ctx.sparse = padding_idx, scale_grad_by_freq, sparse
        return wrap(weight._data[indices._data])

    @staticmethod
    def backward(ctx, grad_output):
        if ctx.sparse:
            return _sparse_backward(grad_output, ctx), None, None, None, None
        grad = EmbeddingDenseBackward.apply(grad_output, ctx.indices, ctx.weight_shape[0], ctx.padding_idx,
                                            ctx.scale_grad_by_freq)
        return grad, None, None, None, None


class EmbeddingDenseBackward(Function):
    """PyTorch's embedding_dense_backward: the gradient rows summed into their weight rows, each
    divided by its index's frequency with ``scale_grad_by_freq``, none into the padding row.

    Its own backward (``create_graph=True``) is PyTorch's embedding_dense_double_backward: the
    rows gathered back, *without* the frequency scaling. That is not an oversight: the chain
    through the lookup's own (scaled) backward already applies it once, so the second derivative
    is the derivative of the first one (scaling here too would divide twice)."""

    @staticmethod
    def forward(ctx, grad_output, indices, rows, padding_idx, scale_grad_by_freq):
        ctx.indices, ctx.padding_idx, ctx.shape = indices, padding_idx, tuple(grad_output._data.shape)
        index = indices.reshape(-1)
        grad_rows = grad_output._data.reshape(index.size, -1)
        xp = backend.array_module(index)
        if scale_grad_by_freq:
            # NOTE: the frequency counts every occurrence in the batch (padding ones too, as
            # PyTorch's kernel); the padding row's gradient is zero anyway.
            counts = xp.bincount(index, minlength=rows)
            grad_rows = grad_rows * (1.0 / counts[index]).astype(grad_rows.dtype)[:, None]
        if padding_idx is not None:
            # where, not a multiplication by 0: a NaN or inf gradient at a padding position is dropped.
            grad_rows = xp.where((index != padding_idx)[:, None], grad_rows, xp.zeros((), grad_rows.dtype))
        with backend.on_device(backend.device_of(index)):
            out = xp.zeros((rows, grad_rows.shape[1]), dtype=grad_rows.dtype)
        backend.scatter_add(out, index, grad_rows)
        return wrap(out)

    @staticmethod
    def backward(ctx, grad):
        index = ctx.indices.reshape(-1)
        gathered = index_select(grad, 0, Tensor._make(index))
        if ctx.padding_idx is not None:
            gathered = where(Tensor._make((index != ctx.padding_idx)[:, None]), gathered, 0.0)
        return gathered.reshape(ctx.shape), None, None, None, None


def _sparse_backward(grad_output, ctx):
    """PyTorch's embedding_sparse_backward: an uncoalesced sparse tensor with one entry per
    looked-up row (padding ones left out) whose values are the output's gradient rows. Built
    from tensor ops, so that ``create_graph=True`` differentiates it, as in PyTorch."""
    if ctx.scale_grad_by_freq:
        raise RuntimeError("embedding_backward: scale_grad_by_freq not supported with sparse gradients")
    index = ctx.indices.reshape(-1)
    grad_rows = grad_output.reshape(index.size, ctx.weight_shape[1])
    xp = backend.array_module(index)
    if ctx.padding_idx is not None:
        positions = xp.flatnonzero(index != ctx.padding_idx)
        index = index[positions]
        values = index_select(grad_rows, 0, Tensor._make(positions))
    else:
        values = grad_rows.clone()  # a .grad owns its memory (grad_output may be a broadcast view)
    indices = index.astype(np.int64).reshape(1, -1)
    return _sparse_coo.SparseCooTensorWithDimsAndTensors.apply(values, indices, ctx.weight_shape, False)


def embedding(weight, indices, padding_idx, scale_grad_by_freq, sparse):
    """The lookup, for arguments ``nn.functional.embedding`` has checked (``padding_idx`` >= 0 or None)."""
    return Embedding.apply(weight, indices, padding_idx, scale_grad_by_freq, sparse)
