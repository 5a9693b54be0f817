"""PyTorch's normalization primitives at the top level: the ``torch.batch_norm_*`` pieces that
``nn.SyncBatchNorm`` is built from, and the ``native_*`` forms that return their statistics too.

The arithmetic lives next to ``BatchNorm`` in ``normalization.py``; this file checks arguments,
wraps arrays and marks differentiability as PyTorch does. PyTorch has no derivative for the
``batch_norm_*`` primitives (SyncBatchNorm's Function supplies the gradient itself): their float
outputs require grad when an input does, and backward through them raises, as PyTorch's
``NotImplemented`` node does.
"""

import numbers

import numpy as np

from .. import _backend as backend
from ..autograd.function import Function
from .._tensor import Tensor
from ..random import generator_for
from . import normalization
from .reduce import p_norm
from ._util import wrap


class DerivativeNotImplemented(Function):
    """Outputs computed outside autograd, attached to the inputs that require grad: backward
    raises PyTorch's "derivative for aten::NAME is not implemented"."""

    @staticmethod
    def forward(ctx, name, arrays, *inputs):
        ctx.op_name = name
        return tuple(wrap(a) for a in arrays)

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise RuntimeError(f"derivative for aten::{ctx.op_name} is not implemented")


def _outputs(name, arrays, *inputs):
    return DerivativeNotImplemented.apply(name, arrays, *[t for t in inputs if isinstance(t, Tensor)])


def _data(tensor):
    return None if tensor is None else tensor._data


def _check_tensor(name, argument, value, optional=False):
    if value is None and optional:
        return
    if not isinstance(value, Tensor):
        raise TypeError(f"{name}(): argument '{argument}' must be Tensor, not {type(value).__name__}")


def _check_input(name, input):
    _check_tensor(name, "input", input)
    if input.dim() < 2:
        raise RuntimeError(f"{name}: expected at least 2D input (got {input.dim()}D input)")


def _check_running(running_mean, running_var):
    for buffer in (running_mean, running_var):
        if buffer is not None and buffer.requires_grad:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")


# -- the pieces of SyncBatchNorm ----------------------------------------------------------------
def batch_norm_stats(input, eps):
    """Per-channel mean and 1 / sqrt(biased variance + eps) of an (N, C, *) batch."""
    _check_input("batch_norm_stats", input)
    mean, invstd = normalization.batch_stats(input._data, float(eps))
    return _outputs("batch_norm_stats", (mean, invstd), input)


def batch_norm_gather_stats_with_counts(input, mean, invstd, running_mean, running_var, momentum, eps, counts):
    """The global mean and invstd from every process's (W, C) ``mean``/``invstd`` and (W,)
    ``counts``; moves the running statistics (the variance unbiased) when given."""
    name = "batch_norm_gather_stats_with_counts"
    for argument, value in (("input", input), ("mean", mean), ("invstd", invstd), ("counts", counts)):
        _check_tensor(name, argument, value)
    _check_running(running_mean, running_var)
    counts_data = counts._data.reshape(-1)
    if mean.dim() != 2 or invstd.shape != mean.shape or counts_data.shape[0] != mean.shape[0]:
        raise RuntimeError(f"{name}: expected mean and invstd of shape (world_size, C) and counts of shape "
                           f"(world_size,), got {tuple(mean.shape)}, {tuple(invstd.shape)} and {tuple(counts.shape)}")
    global_mean, var, total = normalization.gather_stats(mean._data, invstd._data, counts_data, float(eps))
    if running_mean is not None or running_var is not None:
        normalization._update_running_stats(running_mean, running_var, global_mean, var, float(momentum), total)
    invstd_out = 1 / backend.array_module(var).sqrt(var + float(eps))
    return _outputs(name, (global_mean, invstd_out.astype(global_mean.dtype, copy=False)), input, mean, invstd)


def batch_norm_gather_stats(input, mean, invstd, running_mean, running_var, momentum, eps, count):
    """``batch_norm_gather_stats_with_counts`` with the same ``count`` (an int) for every process."""
    if not isinstance(count, numbers.Integral) or isinstance(count, bool):
        raise TypeError(f"batch_norm_gather_stats(): argument 'count' must be int, not {type(count).__name__}")
    _check_tensor("batch_norm_gather_stats", "mean", mean)
    xp = backend.array_module(mean._data)
    counts = wrap(xp.full((mean.shape[0],), count, dtype=mean._data.dtype))
    (global_mean, global_invstd) = batch_norm_gather_stats_with_counts(
        input, mean, invstd, running_mean, running_var, momentum, eps, counts)
    return global_mean, global_invstd


def batch_norm_elemt(input, weight, bias, mean, invstd, eps):
    """(input - mean) * invstd * weight + bias per channel (``eps`` is already in ``invstd``)."""
    _check_input("batch_norm_elemt", input)
    for argument, value in (("mean", mean), ("invstd", invstd)):
        _check_tensor("batch_norm_elemt", argument, value)
    out = normalization.normalize_channels(input._data, _data(weight), _data(bias), mean._data, invstd._data)
    return _outputs("batch_norm_elemt", (out,), input, weight, bias, mean, invstd)[0]


def batch_norm_backward_reduce(grad_out, input, mean, invstd, weight, input_g, weight_g, bias_g):
    """Per channel: (sum_dy, sum_dy_xmu, grad_weight, grad_bias), each None unless its flag
    asks for it (``input_g`` for the two sums), as PyTorch's undefined outputs."""
    _check_input("batch_norm_backward_reduce", input)
    sum_dy, sum_dy_xmu = normalization.gradient_sums(grad_out._data, input._data, mean._data)
    dtype = mean._data.dtype
    kind = dtype if weight is None else weight._data.dtype
    arrays = (sum_dy.astype(dtype, copy=False), sum_dy_xmu.astype(dtype, copy=False),
              (sum_dy_xmu * invstd._data).astype(kind, copy=False), sum_dy.astype(kind, copy=False))
    outputs = _outputs("batch_norm_backward_reduce", arrays, grad_out, input, mean, invstd, weight)
    wanted = (input_g, input_g, weight_g, bias_g)
    return tuple(out if keep else None for out, keep in zip(outputs, wanted))


def batch_norm_backward_elemt(grad_out, input, mean, invstd, weight, sum_dy, sum_dy_xmu, count):
    """The input gradient of training batch norm from the (all-reduced) per-channel sums and
    ``count``, every process's number of values per channel (their total is used)."""
    _check_input("batch_norm_backward_elemt", input)
    _check_tensor("batch_norm_backward_elemt", "count", count)
    total = count._data.sum().astype(mean._data.dtype)
    grad = normalization.input_gradient(grad_out._data, input._data, mean._data, invstd._data, _data(weight),
                                        sum_dy._data, sum_dy_xmu._data, total)
    return _outputs("batch_norm_backward_elemt", (grad,), grad_out, input, mean, invstd, weight, sum_dy, sum_dy_xmu)[0]


def batch_norm_update_stats(input, running_mean, running_var, momentum):
    """The batch's per-channel mean and biased variance; moves the running statistics (the
    variance unbiased) when given."""
    _check_input("batch_norm_update_stats", input)
    _check_running(running_mean, running_var)
    rows = normalization._channel_rows(normalization._computed(input._data))
    mean, _, var = normalization._channel_moments(rows)
    count = rows.size // max(rows.shape[1], 1)
    if (running_mean is not None or running_var is not None) and count:
        normalization._update_running_stats(running_mean, running_var, mean, var, float(momentum), count)
    dtype = input._data.dtype
    return _outputs("batch_norm_update_stats", (mean.astype(dtype, copy=False), var.astype(dtype, copy=False)), input)


# -- the native_* forms: the output and the statistics it used -----------------------------------
def native_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps):
    """(out, save_mean, save_invstd): batch norm and, in training, the batch's mean and invstd
    (empty tensors in evaluation, as PyTorch's CPU kernel)."""
    _check_input("native_batch_norm", input)
    _check_running(running_mean, running_var)
    if not training and (running_mean is None or running_var is None):
        raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
    if training:  # before batch_norm moves the running statistics: the same batch either way
        mean, invstd = normalization.batch_stats(input._data, float(eps))
        dtype = input._data.dtype
        mean, invstd = mean.astype(dtype, copy=False), invstd.astype(dtype, copy=False)
    else:
        xp = backend.array_module(input._data)
        mean = invstd = xp.zeros((0,), dtype=input._data.dtype)
    out = normalization.batch_norm(input, weight, bias, running_mean, running_var, bool(training), float(momentum), float(eps))
    return out, wrap(mean), wrap(invstd)


def native_layer_norm(input, normalized_shape, weight, bias, eps):
    """(out, mean, rstd): layer norm over the trailing ``normalized_shape`` dims, and each row's
    mean and 1 / std, shaped as the input with those dims kept as 1."""
    _check_tensor("native_layer_norm", "input", input)
    shape = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else tuple(normalized_shape)
    count = len(shape)
    if count == 0 or tuple(input.shape[input.dim() - count:]) != shape or input.dim() < count:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape [*, "
                           f"{', '.join(map(str, shape))}], but got input of size{list(input.shape)}")
    for argument, value in (("weight", weight), ("bias", bias)):
        if value is not None and tuple(value.shape) != shape:
            raise RuntimeError(f"Expected {argument} to be of same shape as normalized_shape, but got {argument} of "
                               f"shape {list(value.shape)} and normalized_shape = {list(shape)}")
    out = normalization.layer_norm(input, count, weight, bias, float(eps))
    data = input._data
    xp = backend.array_module(data)
    axes = tuple(range(data.ndim - count, data.ndim))
    computed = normalization._computed(data)
    mean = computed.mean(axis=axes, keepdims=True)
    rstd = 1 / xp.sqrt(((computed - mean) ** 2).mean(axis=axes, keepdims=True) + float(eps))
    return out, wrap(mean.astype(data.dtype, copy=False)), wrap(rstd.astype(data.dtype, copy=False))


def native_group_norm(input, weight, bias, N, C, HxW, group, eps):
    """(out, mean, rstd): group norm of an input of N samples, C channels and HxW positions, and
    each (sample, group)'s mean and 1 / std, shaped (N, group). As in PyTorch the statistics are
    differentiable (composed of tensor ops here)."""
    _check_tensor("native_group_norm", "input", input)
    if input.numel() != N * C * HxW:
        raise RuntimeError(f"Expected input to have {N * C * HxW} elements (N={N}, C={C}, HxW={HxW}), got {input.numel()}")
    if C % group != 0:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input of "
                           f"shape {list(input.shape)} and num_groups={group}")
    out = normalization.group_norm(input, group, weight, bias, float(eps))
    grouped = input.reshape(N, group, -1)
    mean = grouped.mean(-1)
    rstd = (grouped.var(-1, unbiased=False) + float(eps)).rsqrt()
    return out, mean, rstd


def native_dropout(input, p, train):
    """(out, mask): in training (``train`` True or None) each element kept with probability
    1 - p and scaled by 1 / (1 - p), the boolean keep-mask beside it; otherwise a copy and an
    all-True mask."""
    _check_tensor("native_dropout", "input", input)
    if not 0 <= p <= 1:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")
    data = input._data
    xp = backend.array_module(data)
    if train is None or train:
        draws = generator_for(input.device).random(data.shape, dtype=np.float32)
        keep = draws >= p if p < 1 else xp.zeros(data.shape, dtype=bool)
        scale = 1.0 / (1.0 - p) if p < 1 else 0.0
        out = input * wrap((keep * scale).astype(data.dtype, copy=False))
    else:
        keep = xp.ones(data.shape, dtype=bool)
        out = input.clone()
    return out, wrap(keep)


def native_norm(input, p=2, dim=None, keepdim=False, dtype=None):
    """The p-norm of ``input`` (``p=None`` is 2), over every element or over ``dim``; ``dtype``
    casts the input first. PyTorch runs it on sparse tensors only."""
    _check_tensor("native_norm", "input", input)
    if getattr(input, "is_sparse", False):
        input = input.to_dense()
    if dtype is not None:
        input = input.to(dtype)
    dims = tuple(range(input.dim())) if dim is None else ((dim,) if isinstance(dim, numbers.Integral) else tuple(dim))
    return p_norm(input, 2 if p is None else p, dims, bool(keepdim) and dim is not None)


__all__ = [
    "batch_norm_backward_elemt", "batch_norm_backward_reduce", "batch_norm_elemt", "batch_norm_gather_stats",
    "batch_norm_gather_stats_with_counts", "batch_norm_stats", "batch_norm_update_stats", "native_batch_norm",
    "native_dropout", "native_group_norm", "native_layer_norm", "native_norm",
]
