"""The normalizations as fused nodes: ``LayerNorm``, ``GroupNorm`` and ``BatchNorm`` (which
``instance_norm`` uses too, as PyTorch does).

Composed of tensor ops each is ~10 nodes, every one a pass over the activations forward and
backward; fused, the passes are few: variances are row dot products (no squared temporary), the
normalization and the affine part are one per-channel scale and one shift, and the backward works
from per-channel sums. Each keeps a composed form of its gradient for ``create_graph``.
"""

import numpy as np

from .. import _backend as backend
from ..autograd.function import Function
from ..autograd.grad_mode import state as grad_state
from ._util import wrap


# -- layer normalization ------------------------------------------------------------------------
class LayerNorm(Function):
    """(x - mean) / sqrt(var + eps) * weight + bias over the last ``count`` dims, in one node.

    Fused for speed: composed it is ~11 nodes (two means, a subtraction, products, rsqrt, the
    affine part) each passing over the activations forward and backward; a Transformer layer has
    two. The backward is the textbook one, rstd (g' - mean(g') - x_hat mean(g' x_hat)) with
    g' = g * weight, from the x_hat and rstd kept by forward. Measured on the benchmark's
    Transformer-encoder step (2 layers, d_model 128, batch 32 x 64, NumPy, one thread): see
    docs/performance.md.
    """

    @staticmethod
    def forward(ctx, x, count, weight, bias, eps):
        data = x._data
        xp = backend.array_module(data)
        axes = tuple(range(data.ndim - count, data.ndim))
        mean = data.mean(axis=axes, keepdims=True)
        centered = data - mean
        if count == 1:  # the usual case: a row dot product, without the squares' temporary
            variance = _row_dot(centered, centered)[..., None] / data.shape[-1]
        else:
            variance = backend.reduce_sum(centered * centered, axes, True) / _size(data.shape[data.ndim - count:])
        rstd = 1 / xp.sqrt(variance + eps)
        normalized = centered * rstd
        out = normalized if weight is None else normalized * weight._data
        if bias is not None:
            if out is normalized:  # kept for backward: not in place
                out = out + bias._data
            else:  # the weighted array is new
                out += bias._data
        ctx.save_for_backward(x, weight, bias)
        ctx.count, ctx.eps, ctx.normalized, ctx.rstd = count, eps, normalized, rstd
        return wrap(out.astype(data.dtype, copy=False))

    @staticmethod
    def backward(ctx, grad_output):
        x, weight, bias = ctx.saved_tensors
        needs = ctx.needs_input_grad
        count = ctx.count
        batch_axes = tuple(range(x.dim() - count))
        axes = tuple(range(x.dim() - count, x.dim()))
        if grad_state.enabled:  # create_graph: the same formulas as tensor ops of the inputs
            centered = x - x.mean(axes, keepdim=True)
            rstd = ((centered * centered).mean(axes, keepdim=True) + ctx.eps).rsqrt()
            normalized = centered * rstd
            g = grad_output if weight is None else grad_output * weight
            grad_x = rstd * (g - g.mean(axes, keepdim=True) - normalized * (g * normalized).mean(axes, keepdim=True)) if needs[0] else None
            # sum(()) would reduce every dim: with no batch dims there is nothing to sum.
            grad_weight = _batch_sum(grad_output * normalized, batch_axes) if weight is not None and needs[2] else None
            grad_bias = _batch_sum(grad_output, batch_axes) if bias is not None and needs[3] else None
            return grad_x, None, grad_weight, grad_bias, None
        normalized, rstd, g = ctx.normalized, ctx.rstd, grad_output._data
        grad_x = grad_weight = grad_bias = None
        if needs[0]:
            scaled = g if weight is None else g * weight._data
            size = _size(normalized.shape[normalized.ndim - count:])
            grad_x = scaled - backend.reduce_sum(scaled, axes, True) / size
            dot = _row_dot(scaled, normalized)[..., None] if count == 1 else backend.reduce_sum(scaled * normalized, axes, True)
            grad_x -= normalized * (dot / size)
            grad_x *= rstd
            grad_x = wrap(grad_x.astype(normalized.dtype, copy=False))
        if weight is not None and needs[2]:
            grad_weight = wrap(backend.reduce_sum(g * normalized, batch_axes))
        if bias is not None and needs[3]:
            grad_bias = wrap(backend.reduce_sum(g, batch_axes))
        return grad_x, None, grad_weight, grad_bias, None


def _batch_sum(tensor, axes):
    return tensor.sum(axes) if axes else tensor


def _size(shape):
    size = 1
    for s in shape:
        size *= s
    return size


def layer_norm(x, count, weight, bias, eps):
    return LayerNorm.apply(x, count, weight, bias, eps)


def _row_dot(a, b):
    """sum(a * b) over the last axis without the product's temporary (NumPy's ``vecdot``)."""
    if a.__class__ is np.ndarray:
        return np.vecdot(a, b)
    return (a * b).sum(axis=-1)


class GroupNorm(Function):
    """group_norm in one node: each sample's channels split into ``groups`` groups, each
    normalized over its channels and spatial positions, then a per-channel affine.

    The passes over the activations are what cost (the Function does ~5 reads and 3 writes where
    composed ops make ~12): the variance is a row dot product of the centered values (no squared
    temporary), and the normalization and the affine are one per-(sample, channel) scale and one
    shift. The backward works from the centered values and per-(sample, channel) sums the same way.
    """

    @staticmethod
    def forward(ctx, x, groups, weight, bias, eps):
        data = x._data
        xp = backend.array_module(data)
        batch, channels = data.shape[:2]
        spatial = _size(data.shape[2:])
        size = channels // groups * spatial
        grouped = data.reshape(batch, groups, size)
        centered = grouped - backend.reduce_sum(grouped, 2, True) / size
        rstd = (1 / xp.sqrt(_row_dot(centered, centered) / size + eps)).astype(data.dtype, copy=False)  # (N, G)
        per_channel = (batch, channels) + (1,) * (data.ndim - 2)
        scale = xp.repeat(rstd, channels // groups, axis=1)  # (N, C)
        if weight is not None:
            scale = scale * weight._data.astype(data.dtype, copy=False)
        out = centered.reshape(data.shape) * scale.reshape(per_channel)
        if bias is not None:
            out += bias._data.astype(data.dtype, copy=False).reshape((1, channels) + (1,) * (data.ndim - 2))
        ctx.save_for_backward(x, weight, bias)
        ctx.groups, ctx.eps, ctx.centered, ctx.rstd = groups, eps, centered, rstd
        return wrap(out)

    @staticmethod
    def backward(ctx, grad_output):
        x, weight, bias = ctx.saved_tensors
        needs = ctx.needs_input_grad
        groups = ctx.groups
        if grad_state.enabled:  # create_graph: the same formulas as tensor ops of the inputs
            return _group_norm_graph_backward(ctx, grad_output, x, weight, bias) + (None,)
        g = grad_output._data
        xp = backend.array_module(g)
        batch, channels = g.shape[:2]
        per_group = channels // groups
        centered, rstd = ctx.centered, ctx.rstd  # (N, G, M), (N, G)
        rows = g.reshape(batch, channels, _size(g.shape[2:]))
        # Per (sample, channel): sum of g and of g * centered over the spatial positions.
        g_sum = backend.reduce_sum(rows, 2)
        g_dot = _row_dot(rows, centered.reshape(rows.shape))
        rstd_c = xp.repeat(rstd, per_group, axis=1)  # (N, C)
        grad_x = grad_weight = grad_bias = None
        if needs[0]:
            w = 1 if weight is None else weight._data.astype(g.dtype, copy=False)
            size = centered.shape[2]
            # With g' = g w: grad = rstd (g' - mean(g') - x_hat mean(g' x_hat)), x_hat = centered rstd.
            mean_g = (g_sum * w).reshape(batch, groups, per_group).sum(2) / size  # (N, G)
            mean_gx = (g_dot * w).reshape(batch, groups, per_group).sum(2) * rstd / size
            scale = (rstd_c * w).reshape(batch, channels, 1)
            grad = rows * scale
            grad = grad.reshape(centered.shape)
            grad -= centered * (rstd * rstd * mean_gx)[..., None]
            grad -= (rstd * mean_g)[..., None]
            grad_x = wrap(grad.reshape(g.shape))
        if weight is not None and needs[2]:
            grad_weight = wrap((g_dot * rstd_c).sum(0))
        if bias is not None and needs[3]:
            grad_bias = wrap(g_sum.sum(0))
        return grad_x, None, grad_weight, grad_bias, None


def _group_norm_graph_backward(ctx, grad_output, x, weight, bias):
    """GroupNorm's gradients as tensor ops (differentiable again), from the inputs."""
    needs = ctx.needs_input_grad
    shape = x.shape
    batch, channels = shape[0], shape[1]
    view = (1, channels) + (1,) * (len(shape) - 2)
    grouped = x.reshape(batch, ctx.groups, channels // ctx.groups * _size(shape[2:]))
    centered = grouped - grouped.mean(2, keepdim=True)
    rstd = ((centered * centered).mean(2, keepdim=True) + ctx.eps).rsqrt()
    normalized = (centered * rstd).reshape(shape)
    g = grad_output if weight is None else grad_output * weight.reshape(view)
    g = g.reshape(grouped.shape)
    x_hat = normalized.reshape(grouped.shape)
    grad_x = (rstd * (g - g.mean(2, keepdim=True) - x_hat * (g * x_hat).mean(2, keepdim=True))).reshape(shape) if needs[0] else None
    spatial = (0,) + tuple(range(2, len(shape)))
    grad_weight = (grad_output * normalized).sum(spatial) if weight is not None and needs[2] else None
    grad_bias = grad_output.sum(spatial) if bias is not None and needs[3] else None
    return grad_x, None, grad_weight, grad_bias


def group_norm(x, groups, weight, bias, eps):
    return GroupNorm.apply(x, groups, weight, bias, eps)




# -- batch normalization ------------------------------------------------------------------------
class BatchNorm(Function):
    """batch_norm in one node: each channel (dim 1) normalized over the batch and spatial dims,
    with the batch's statistics (training) or the running ones (evaluation), then a per-channel
    affine; training moves the running statistics too (the variance unbiased), as PyTorch's kernel.

    Forward is one subtraction, a row-dot variance and a scale and shift in place; channel sums of
    ``(N, C, S)`` activations are products with a column of ones (``_channel_sum``). Nothing
    activation-sized is kept on ctx: the backward recomputes ``x - mean`` (PyTorch keeps the
    input, the mean and 1/std, as here). float16 input is computed in float32 (PyTorch's CPU
    kernel accumulates in float) and returned as float16. Measured against the composed form
    (11 nodes): docs/performance.md.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, training, momentum, eps):
        data = x._data
        xp = backend.array_module(data)
        rows = _channel_rows(_computed(data))
        count = rows.size // max(rows.shape[1], 1)  # values per channel
        if training:
            mean, centered, var = _channel_moments(rows)
            if (running_mean is not None or running_var is not None) and count:  # an empty batch: left alone, as PyTorch
                _update_running_stats(running_mean, running_var, mean, var, momentum, count)
        else:  # copies: the buffers may change before backward
            mean = running_mean._data.astype(rows.dtype)
            var = running_var._data.astype(rows.dtype)
        rstd = 1 / xp.sqrt(var + eps)
        scale = rstd if weight is None else rstd * weight._data.astype(rows.dtype, copy=False)
        if training:
            out = centered
            out *= _per_channel(scale, rows)
            shift = None if bias is None else bias._data.astype(rows.dtype, copy=False)
        else:
            out = rows * _per_channel(scale, rows)
            shift = -mean * scale if bias is None else bias._data.astype(rows.dtype, copy=False) - mean * scale
        if shift is not None:
            out += _per_channel(shift, rows)
        ctx.save_for_backward(x, weight, bias)
        ctx.training, ctx.eps, ctx.mean, ctx.rstd = training, eps, mean, rstd
        return wrap(out.reshape(data.shape).astype(data.dtype, copy=False))

    @staticmethod
    def backward(ctx, grad_output):
        x, weight, bias = ctx.saved_tensors
        needs = ctx.needs_input_grad
        if grad_state.enabled:  # create_graph: the same formulas as tensor ops of the inputs
            return _batch_norm_graph_backward(ctx, grad_output, x, weight, bias) + (None,) * 5
        rows = _channel_rows(_computed(x._data))
        g = _channel_rows(_computed(grad_output._data))
        mean, rstd, training = ctx.mean, ctx.rstd, ctx.training
        w = 1 if weight is None else weight._data.astype(rows.dtype, copy=False)
        need_sum = (bias is not None and needs[2]) or (training and needs[0])
        need_dot = (weight is not None and needs[1]) or (training and needs[0])
        g_sum = _channel_sum(g) if need_sum else None
        centered = rows - _per_channel(mean, rows) if need_dot else None
        g_dot = _channel_dot(g, centered) if need_dot else None  # sum of g (x - mean) per channel
        grad_x = grad_weight = grad_bias = None
        if needs[0]:
            if training:
                grad = _input_gradient(g, centered, rstd, w, g_sum, g_dot, max(rows.size // max(rows.shape[1], 1), 1))
            else:
                grad = g * _per_channel(rstd * w, rows)
            grad_x = wrap(grad.reshape(x._data.shape).astype(x._data.dtype, copy=False))
        if weight is not None and needs[1]:
            grad_weight = wrap((g_dot * rstd).astype(weight._data.dtype, copy=False))
        if bias is not None and needs[2]:
            grad_bias = wrap(g_sum.astype(bias._data.dtype, copy=False))
        return grad_x, grad_weight, grad_bias, None, None, None, None, None


def _computed(data):
    """The array batch_norm computes on: float16 as float32 (PyTorch's CPU kernels accumulate in float)."""
    return data.astype(np.float32) if data.dtype == np.float16 else data


def _channel_rows(data):
    """(N, C) as it is; (N, C, *spatial) as (N, C, S): channel sums then reduce the last axis and
    the first."""
    if data.ndim == 2:
        return data
    spatial = _size(data.shape[2:])
    return data.reshape(data.shape[0], data.shape[1], spatial) if spatial != 1 else data.reshape(data.shape[:2])


def _per_channel(vector, rows):
    """A (C,) vector broadcast against ``_channel_rows``' (N, C) or (N, C, S)."""
    return vector if rows.ndim == 2 else vector[:, None]


def _channel_sum(rows):
    if rows.ndim == 2:
        return backend.reduce_sum(rows, 0)
    return backend.reduce_sum(backend.sum_last(rows), 0)


def _channel_dot(a, b):
    """sum(a * b) per channel, without the product's temporary."""
    if a.ndim == 3:
        return backend.reduce_sum(_row_dot(a, b), 0)
    if a.__class__ is np.ndarray:  # einsum's sum-of-products loop: 31 against 53 us at (256, 512)
        return np.einsum("nc,nc->c", a, b)
    return backend.reduce_sum(a * b, 0)


def _channel_moments(rows):
    """Per channel of ``_channel_rows``: the mean, ``rows - mean`` and the biased variance."""
    count = max(rows.size // max(rows.shape[1], 1), 1)
    mean = _channel_sum(rows) / count
    centered = rows - _per_channel(mean, rows)
    return mean, centered, _channel_dot(centered, centered) / count


def _input_gradient(g, centered, rstd, w, g_sum, g_dot, count):
    """Training batch norm's input gradient from per-channel sums over ``count`` values (one
    process's, or every rank's all-reduced): rstd w (g - mean(g) - x_hat mean(g x_hat)),
    x_hat = (x - mean) rstd, as three per-channel coefficients on (x - mean), g and 1. Writes
    into ``centered``."""
    k = rstd * w
    grad = centered
    grad *= _per_channel(-k * rstd * rstd * g_dot / count, g)
    grad += g * _per_channel(k, g)
    grad += _per_channel(-k * g_sum / count, g)
    return grad


def _update_running_stats(running_mean, running_var, mean, var, momentum, count):
    """running = (1 - momentum) running + momentum batch, in place, in the buffers' dtype (the
    variance made unbiased, as PyTorch)."""
    # Training refuses one value per channel; a gathered count is an array (no read-back).
    unbiased = var * (count / (max(count - 1, 1) if isinstance(count, int) else backend.array_module(var).maximum(count - 1, 1)))
    for buffer, batch in ((running_mean, mean), (running_var, unbiased)):
        if buffer is None:
            continue
        buffer._data *= 1 - momentum
        buffer._data += (momentum * batch).astype(buffer._data.dtype, copy=False)
        buffer._version[0] += 1


# -- the primitives SyncBatchNorm is built from (torch.batch_norm_stats and friends) -------------
# Array in, arrays out, in the computed dtype (float32 for float16); the public wrappers are in
# batch_norm_primitives.py. Each is a piece of BatchNorm above, over one process's batch or the
# statistics every rank gathered.
def batch_stats(data, eps):
    """Per channel: the mean and 1 / sqrt(biased variance + eps) of (N, C, *) ``data``."""
    mean, _, var = _channel_moments(_channel_rows(_computed(data)))
    return mean, 1 / backend.array_module(var).sqrt(var + eps)


def gather_stats(mean_all, invstd_all, counts, eps):
    """The mean, biased variance and count of the union of W batches, from their (W, C) means and
    invstds and (W,) counts (each variance recovered as 1 / invstd^2 - eps); batches that
    counted nothing are left out, as PyTorch's SyncBatchNorm filters them."""
    xp = backend.array_module(mean_all)
    counts = counts.astype(mean_all.dtype, copy=False).reshape(-1, 1)
    present = counts > 0
    total = counts.sum(axis=0)
    safe_total = xp.maximum(total, 1)
    mean = xp.where(present, counts * mean_all, 0).sum(axis=0) / safe_total
    invstd_all = xp.where(present, invstd_all, 1)  # an empty batch's zeros: no 1 / 0
    var_all = 1 / (invstd_all * invstd_all) - eps
    spread = var_all + (mean_all - mean) ** 2
    var = xp.where(present, counts * spread, 0).sum(axis=0) / safe_total
    return mean, var, total[0]


def normalize_channels(data, weight, bias, mean, invstd):
    """(x - mean) invstd weight + bias per channel, in ``data``'s dtype."""
    rows = _channel_rows(_computed(data))
    scale = invstd if weight is None else invstd * weight.astype(rows.dtype, copy=False)
    shift = -mean * scale
    if bias is not None:
        shift = shift + bias.astype(rows.dtype, copy=False)
    out = rows * _per_channel(scale.astype(rows.dtype, copy=False), rows)
    out += _per_channel(shift.astype(rows.dtype, copy=False), rows)
    return out.reshape(data.shape).astype(data.dtype, copy=False)


def gradient_sums(grad_output, data, mean):
    """Per channel: sum(g) and sum(g (x - mean)), the sums batch norm's gradients are made of."""
    rows = _channel_rows(_computed(data))
    g = _channel_rows(_computed(grad_output))
    centered = rows - _per_channel(mean.astype(rows.dtype, copy=False), rows)
    return _channel_sum(g), _channel_dot(g, centered)


def input_gradient(grad_output, data, mean, invstd, weight, sum_dy, sum_dy_xmu, count):
    """The training input gradient from per-channel sums over ``count`` values, in ``data``'s dtype."""
    rows = _channel_rows(_computed(data))
    g = _channel_rows(_computed(grad_output))
    centered = rows - _per_channel(mean.astype(rows.dtype, copy=False), rows)
    w = 1 if weight is None else weight.astype(rows.dtype, copy=False)
    grad = _input_gradient(g, centered, invstd.astype(rows.dtype, copy=False), w, sum_dy, sum_dy_xmu, count)
    return grad.reshape(data.shape).astype(data.dtype, copy=False)


def _batch_norm_graph_backward(ctx, grad_output, x, weight, bias):
    """BatchNorm's gradients as tensor ops (differentiable again), from the inputs."""
    needs = ctx.needs_input_grad
    dims = (0,) + tuple(range(2, x.dim()))
    view = (1, x.shape[1]) + (1,) * (x.dim() - 2)
    if ctx.training:
        centered = x - x.mean(dims, keepdim=True)
        rstd = ((centered * centered).mean(dims, keepdim=True) + ctx.eps).rsqrt()
    else:
        centered = x - wrap(ctx.mean.astype(x._data.dtype, copy=False)).reshape(view)
        rstd = wrap(ctx.rstd.astype(x._data.dtype, copy=False)).reshape(view)
    normalized = centered * rstd
    g = grad_output if weight is None else grad_output * weight.reshape(view)
    grad_x = None
    if needs[0]:
        if ctx.training:
            grad_x = rstd * (g - g.mean(dims, keepdim=True) - normalized * (g * normalized).mean(dims, keepdim=True))
        else:
            grad_x = g * rstd
    grad_weight = (grad_output * normalized).sum(dims) if weight is not None and needs[1] else None
    grad_bias = grad_output.sum(dims) if bias is not None and needs[2] else None
    return grad_x, grad_weight, grad_bias


def batch_norm(x, weight, bias, running_mean, running_var, training, momentum, eps):
    return BatchNorm.apply(x, weight, bias, running_mean, running_var, training, momentum, eps)


__all__ = ["BatchNorm", "GroupNorm", "LayerNorm", "batch_norm", "group_norm", "layer_norm"]
