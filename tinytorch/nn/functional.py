"""``tinytorch.nn.functional``: the stateless form of every layer and loss.

Composites of the core ops (so their gradients come for free), except the losses that call a
fused Function of ``tinytorch._ops.nn_ops`` for stability. Losses live in ``_functional_losses.py`` and are
re-exported here, so ``F.cross_entropy`` is where PyTorch users expect it.
"""

import warnings

from .. import _backend, _creation, _dtypes, _ops
from ..autograd.grad_mode import is_grad_enabled as _autograd_enabled
from .._ops import embedding as _embedding_ops
from .._ops import nn_ops as _nn_ops
from .._ops import normalization as _norm_ops
from .._ops.activations import _elu, _hardtanh, _leaky_relu
from .._ops.indexing import inplace as _inplace
from .._ops.matmul import linear
from ..amp import _policy as _autocast  # softmax/log_softmax in float32 on CUDA, norms in float32 (PyTorch's lists)
from .._tensor import Tensor
from ._functional_activations import (
    alpha_dropout, celu, celu_, elu_, feature_alpha_dropout, glu, gumbel_softmax, hardshrink, hardsigmoid, hardswish, hardtanh_,
    leaky_relu_, mish, prelu, relu_, rrelu, rrelu_, selu, selu_, softshrink, softsign, tanhshrink, threshold, threshold_,
)
from ._functional_attention import multi_head_attention_forward, scaled_dot_product_attention
from ._functional_losses import (
    binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, gaussian_nll_loss, huber_loss, kl_div,
    l1_loss, mse_loss, nll_loss, poisson_nll_loss, smooth_l1_loss,
)
from .._ops.distance import cosine_similarity, pairwise_distance, pdist
from ._linear_cross_entropy import linear_cross_entropy
from .._ops.ctc import ctc_loss
from ._functional_margin_losses import (
    cosine_embedding_loss, hinge_embedding_loss, margin_ranking_loss, multi_margin_loss, multilabel_margin_loss,
    multilabel_soft_margin_loss, soft_margin_loss, triplet_margin_loss, triplet_margin_with_distance_loss,
)
from ._functional_grid import affine_grid, grid_sample
from ._functional_padding import pad
from ._functional_layers import (
    _embedding_renorm_, bilinear, channel_shuffle, embedding_bag, local_response_norm, native_channel_shuffle, rms_norm,
)
from ._functional_conv import (
    conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d, fold, unfold,
)
from ._functional_pooling import (
    adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d, adaptive_max_pool1d,
    adaptive_max_pool1d_with_indices, adaptive_max_pool2d, adaptive_max_pool2d_with_indices,
    adaptive_max_pool3d, adaptive_max_pool3d_with_indices, avg_pool1d, avg_pool2d, avg_pool3d,
    fractional_max_pool2d, fractional_max_pool2d_with_indices, fractional_max_pool3d,
    fractional_max_pool3d_with_indices, lp_pool1d, lp_pool2d, lp_pool3d, max_pool1d, max_pool1d_with_indices, max_pool2d,
    max_pool2d_with_indices, max_pool3d, max_pool3d_with_indices, max_unpool1d, max_unpool2d,
    max_unpool3d,
)
from ._functional_vision import (
    interpolate, pixel_shuffle, pixel_unshuffle, upsample, upsample_bilinear, upsample_nearest,
)

__all__ = [
    "bilinear", "channel_shuffle", "embedding_bag", "local_response_norm", "native_channel_shuffle", "rms_norm",
    "affine_grid", "grid_sample",
    "conv_tbc", "ctc_loss",
    "cosine_embedding_loss", "cosine_similarity", "hinge_embedding_loss", "margin_ranking_loss", "multi_margin_loss", "multilabel_margin_loss", "multilabel_soft_margin_loss", "pairwise_distance", "pdist", "soft_margin_loss", "triplet_margin_loss", "triplet_margin_with_distance_loss",
    "alpha_dropout", "celu", "celu_", "elu_", "feature_alpha_dropout", "glu", "gumbel_softmax", "hardshrink", "hardsigmoid", "hardswish", "hardtanh_", "leaky_relu_", "mish", "prelu", "relu_", "rrelu", "rrelu_", "selu", "selu_", "softshrink", "softsign", "tanhshrink", "threshold", "threshold_",
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d",
    "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d", "adaptive_max_pool2d_with_indices",
    "avg_pool1d", "avg_pool2d", "batch_norm", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d",
    "cross_entropy", "linear_cross_entropy", "dropout", "dropout1d", "dropout2d", "dropout3d", "elu", "embedding", "fold",
    "gelu", "group_norm", "hardtanh", "huber_loss", "instance_norm", "interpolate", "kl_div",
    "l1_loss", "layer_norm", "leaky_relu", "linear", "log_softmax", "logsigmoid", "max_pool1d",
    "max_pool1d_with_indices", "max_pool2d", "max_pool2d_with_indices", "max_unpool1d",
    "max_unpool2d", "mse_loss", "multi_head_attention_forward", "nll_loss", "normalize", "one_hot",
    "pad", "pixel_shuffle", "pixel_unshuffle", "relu", "relu6", "scaled_dot_product_attention",
    "sigmoid", "silu", "smooth_l1_loss", "softmax", "softmin", "softplus", "tanh", "unfold",
    "upsample", "upsample_bilinear", "upsample_nearest", "gaussian_nll_loss", "poisson_nll_loss",
    "adaptive_avg_pool3d", "adaptive_max_pool3d", "adaptive_max_pool3d_with_indices", "avg_pool3d", "conv3d", "conv_transpose3d", "lp_pool1d", "lp_pool2d", "lp_pool3d", "max_pool3d", "max_pool3d_with_indices", "max_unpool3d",
    "fractional_max_pool2d", "fractional_max_pool2d_with_indices", "fractional_max_pool3d",
    "fractional_max_pool3d_with_indices",
]


def _floating_only(kernel, input):
    """PyTorch's kernels for these activations and normalizations take floating-point input only."""
    if input._data.dtype.kind not in "fc":
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_dtypes.scalar_type_name(input._data.dtype)}\'')


def _maybe_inplace(input, inplace, fn, *args):
    """``fn(input, *args)``, written back into ``input`` when ``inplace`` (PyTorch's ``relu_`` etc.)."""
    if inplace:
        return _inplace(input, fn, *args)
    return fn(input, *args)


# -- activations --------------------------------------------------------------------------------
def relu(input, inplace=False):
    """max(x, 0); the gradient at 0 is 0."""
    return input.relu_() if inplace else _ops.relu(input)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _maybe_inplace(input, inplace, _hardtanh, min_val, max_val)


def relu6(input, inplace=False):
    """min(max(x, 0), 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x for x > 0, else negative_slope * x."""
    _floating_only("leaky_relu_cpu", input)
    return _maybe_inplace(input, inplace, _leaky_relu, negative_slope)


def elu(input, alpha=1.0, inplace=False):
    """x for x > 0, else alpha * (exp(x) - 1)."""
    _floating_only("elu_cpu", input)
    return _maybe_inplace(input, inplace, _elu, alpha)


def gelu(input, approximate="none"):
    """x * Phi(x) (Phi the standard normal CDF), or its tanh approximation (one fused node)."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    _floating_only("GeluKernelImpl", input)
    return _nn_ops.gelu(input, approximate)


def silu(input, inplace=False):
    """x * sigmoid(x) (swish)."""
    _floating_only("silu_cpu", input)
    return _maybe_inplace(input, inplace, lambda x: x * x.sigmoid())


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (for stability)."""
    _floating_only("softplus_cpu", input)
    scaled = input * beta
    # Clamping before exp keeps the discarded branch finite, so its zero gradient is not nan.
    smooth = scaled.clamp(max=threshold).exp().log1p() / beta
    return _ops.where(scaled > threshold, input, smooth)


def logsigmoid(input):
    """log(sigmoid(x)) = -softplus(-x), computed without overflow."""
    _floating_only("log_sigmoid_cpu", input)
    # Two branches, each clamped so exp never overflows; no |x|, whose kink would zero the
    # gradient at 0 (it is 1/2 there).
    negative = input - input.clamp(max=0).exp().log1p()
    positive = -(-input.clamp(min=0)).exp().log1p()
    return _ops.where(input < 0, negative, positive)


def sigmoid(input):
    return _ops.sigmoid(input)


def tanh(input):
    return _ops.tanh(input)


def _get_softmax_dim(name, ndim, stacklevel):
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as an argument.",
        stacklevel=stacklevel,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim``."""
    if dim is None:
        dim = _get_softmax_dim("softmax", input.dim(), _stacklevel)
    if _autocast.armed:
        dtype = _autocast.opt_dtype("softmax", input, dtype)
    return _ops.softmax(input, dim, dtype=dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _get_softmax_dim("softmin", input.dim(), _stacklevel)
    if _autocast.armed:
        dtype = _autocast.opt_dtype("softmax", input, dtype)
    return _ops.softmax(-input, dim, dtype=dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """log(softmax(x)) along ``dim``, computed stably in one op."""
    if dim is None:
        dim = _get_softmax_dim("log_softmax", input.dim(), _stacklevel)
    if _autocast.armed:
        dtype = _autocast.opt_dtype("log_softmax", input, dtype)
    return _ops.log_softmax(input, dim, dtype=dtype)


# -- dropout ------------------------------------------------------------------------------------
def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p and scale the rest by 1/(1-p); identity when not training."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p < 1.0 and input._data.dtype.kind not in "fc":  # the kept values are scaled by a float
        raise RuntimeError(f"result type Float can't be cast to the desired output type {_dtypes.scalar_type_name(input._data.dtype)}")
    mask = _creation.empty_like(input)
    if p == 1.0:
        mask.zero_()
    else:
        mask.bernoulli_(1 - p)
        mask._data *= 1 / (1 - p)
    return input.mul_(mask) if inplace else input * mask


def _feature_dropout(input, p, training, inplace, batched=True):
    """Zero whole channels: one draw per (sample, channel), broadcast over the spatial dims
    (PyTorch's feature_dropout); ``batched=False`` for (C, *) inputs without a batch dim."""
    if input.dim() + (0 if batched else 1) < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    if not training or p == 0.0 or input.numel() == 0:
        return input
    kept = 2 if batched else 1
    mask = _creation.empty(tuple(input.shape[:kept]) + (1,) * (input.dim() - kept), dtype=input.dtype, device=input.device)
    if p == 1.0:
        mask.zero_()
    else:
        mask.bernoulli_(1 - p)
        mask._data /= 1 - p
    return input.mul_(mask) if inplace else input * mask


def _check_probability(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of an (N, C, L) or (C, L) input with probability p, scaling the rest by 1/(1-p)."""
    _check_probability(p)
    if input.dim() not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {input.dim()}D input. Note that dropout1d exists to "
            "provide channel-wise dropout on inputs with 1 spatial dimension, a channel dimension, and an optional "
            "batch dimension (i.e. 2D or 3D inputs)."
        )
    return _feature_dropout(input, p, training, inplace, batched=input.dim() == 3)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of an (N, C, H, W) input with probability p, scaling the rest by 1/(1-p).

    A 3-D input is taken as (N, C, L), as PyTorch does (with its warning)."""
    _check_probability(p)
    if input.dim() not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {input.dim()}-D input to dropout2d, which is deprecated and will result in an "
            "error in a future release. To retain the behavior and silence this warning, please use dropout instead. "
            "Note that dropout2d exists to provide channel-wise dropout on inputs with 2 spatial dimensions, a channel "
            "dimension, and an optional batch dimension (i.e. 3D or 4D inputs).",
            stacklevel=2,
        )
    if input.dim() == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior is desired "
            "- input is interpreted as shape (N, C, L), where C is the channel dim. This behavior will change in a "
            "future release to interpret the input as one without a batch dimension, i.e. shape (C, H, W). To "
            "maintain the 1D channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2,
        )
    return _feature_dropout(input, p, training, inplace)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of an (N, C, D, H, W) or (C, D, H, W) input with probability p."""
    _check_probability(p)
    if input.dim() not in (4, 5):
        warnings.warn(
            f"dropout3d: Received a {input.dim()}-D input to dropout3d, which is deprecated and will result in an "
            "error in a future release. To retain the behavior and silence this warning, please use dropout instead. "
            "Note that dropout3d exists to provide channel-wise dropout on inputs with 3 spatial dimensions, a channel "
            "dimension, and an optional batch dimension (i.e. 4D or 5D inputs).",
            stacklevel=2,
        )
    return _feature_dropout(input, p, training, inplace, batched=input.dim() == 5)


# -- normalization ------------------------------------------------------------------------------
def _verify_batch_size(size):
    count = size[0]
    for s in size[2:]:
        count *= s
    if count == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {size}")


def _check_per_channel(channels, **vectors):
    """PyTorch's check that running stats, weight and bias hold one value per channel."""
    for name, vector in vectors.items():
        if vector is not None and vector.numel() != channels:
            raise RuntimeError(f"{name} should contain {channels} elements not {vector.numel()}")


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalize over the batch (and spatial) dims per channel (dim 1), then scale by ``weight``
    and shift by ``bias`` (one fused node, ``tinytorch._ops.normalization.BatchNorm``).

    Training uses the batch's statistics and moves the running ones towards them (the variance
    unbiased, as PyTorch); evaluation uses the running statistics.
    """
    shape = input.shape
    if training:
        _verify_batch_size(shape)
    if training and eps <= 0.0:
        raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    if eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    channels = shape[1] if input.dim() > 1 else 1
    _check_per_channel(channels, running_mean=running_mean, running_var=running_var, weight=weight, bias=bias)
    if not training:
        for name, stat in (("running_mean", running_mean), ("running_var", running_var)):
            if stat is None:
                raise RuntimeError(f"{name} must be defined in evaluation mode")
    _floating_only("batch_norm", input)
    _check_batch_norm_dtypes(input, weight, bias, running_mean, running_var)
    for name, stat in (("running_mean", running_mean), ("running_var", running_var)):
        if stat is not None and stat.requires_grad and _autograd_enabled():
            raise RuntimeError(
                f"The function 'native_batch_norm' is not differentiable with respect to argument '{name}'. "
                "This input cannot have requires_grad True.")
    return _norm_ops.batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps)


def _check_batch_norm_dtypes(input, *params):
    """PyTorch's CPU rules (aten's mixed_data_type.h): when the first given parameter's dtype
    differs from the input's, every parameter must be float32 and the input float16; otherwise
    each must match the input (the kernel's "expected scalar type" error)."""
    dtype = input._data.dtype
    given = [t._data.dtype for t in params if t is not None]
    if given and given[0] != dtype:
        if any(p.name != "float32" for p in given):
            raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of Float")
        if dtype.name != "float16":
            raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")
        return
    for p in given:
        if p != dtype:
            raise RuntimeError(
                f"expected scalar type {_dtypes.scalar_type_name(dtype)} but found {_dtypes.scalar_type_name(p)}")


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalize over the trailing ``normalized_shape`` dims of each sample (one fused node,
    ``tinytorch._ops.nn_ops.LayerNorm``), then scale by ``weight`` and shift by ``bias``."""
    if _autocast.armed:
        input, weight, bias = _autocast.cast("layer_norm", input, weight, bias)
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    count = len(normalized_shape)
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t._data.shape) != normalized_shape:
            raise RuntimeError(
                f"Expected {name} to be of same shape as normalized_shape, but got {name} of shape "
                f"{list(t._data.shape)} and normalized_shape = {list(normalized_shape)}"
            )
    if count == 0 or tuple(input.shape[input.dim() - count:]) != normalized_shape or input.dim() < count:
        raise RuntimeError(
            f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
            f"[*, {', '.join(str(s) for s in normalized_shape)}], but got input of size{list(input.shape)}"
        )
    if any(t is not None and t._data.dtype != input._data.dtype for t in (weight, bias)):
        raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")
    _floating_only("LayerNormKernelImpl", input)
    return _norm_ops.layer_norm(input, count, weight, bias, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalize each sample over groups of ``C / num_groups`` channels (and all spatial dims),
    then scale and shift per channel."""
    if _autocast.armed:
        input, weight, bias = _autocast.cast("group_norm", input, weight, bias)
    if input.dim() < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.dim()}")
    shape = tuple(input.shape)
    batch, channels = shape[0], shape[1]
    _verify_batch_size([batch * channels // num_groups, num_groups] + list(shape[2:]))
    if num_groups <= 0:
        raise RuntimeError(f"Expected num groups to be greater than 0, got {num_groups}")
    if channels % num_groups:
        raise RuntimeError(
            "Expected number of channels in input to be divisible by num_groups, but got input of shape "
            f"{list(shape)} and num_groups={num_groups}"
        )
    for name, vector in (("weight", weight), ("bias", bias)):
        if vector is not None and (vector.dim() != 1 or vector.numel() != channels):
            raise RuntimeError(
                f"Expected {name} to be a vector of size equal to the number of channels in input, but got {name} "
                f"of shape {list(vector.shape)} and input of shape {list(shape)}"
            )
    _floating_only("GroupNormKernelImpl", input)
    _check_group_norm_dtypes(input, weight, bias)
    return _norm_ops.group_norm(input, num_groups, weight, bias, eps)  # float32 parameters of half input: half out


def _check_group_norm_dtypes(input, weight, bias):
    """PyTorch's CPU rules: parameters share the input's dtype, or are all float32 for a float16
    input; its messages otherwise."""
    dtype = input._data.dtype
    params = [t._data.dtype for t in (weight, bias) if t is not None]
    if all(p == dtype for p in params) or (dtype.name == "float16" and all(p.name == "float32" for p in params)):
        return
    if dtype.name in ("float32", "float16"):
        raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of Float")
    if weight is not None and weight._data.dtype == dtype:  # only the bias differs
        raise RuntimeError(
            f"expected scalar type {_dtypes.scalar_type_name(dtype)} but found {_dtypes.scalar_type_name(bias._data.dtype)}")
    raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")


def _verify_spatial_size(size):
    count = 1
    for s in size[2:]:
        count *= s
    if count == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {size}")


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Normalize each (sample, channel) over its spatial dims, then scale and shift per channel.

    With running statistics, training moves them towards the batch average of the instances'
    statistics (the variance unbiased, as PyTorch); ``use_input_stats=False`` normalizes with them.
    """
    if use_input_stats:
        _verify_spatial_size(input.shape)
    if not use_input_stats and (running_mean is None or running_var is None):
        raise RuntimeError("Expected running_mean and running_var to be defined when use_input_stats is false")
    shape = tuple(input.shape)
    batch, channels = shape[0], shape[1]
    # PyTorch normalizes an (N, C, ...) input as a (1, N C, ...) batch with the vectors repeated N
    # times, and its messages count the repeated elements.
    for name, vector in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        if vector is not None and vector.numel() != channels:
            raise RuntimeError(f"{name} should contain {batch * channels} elements not {vector.numel() * batch}")
    # As PyTorch: the input as one (1, N C, ...) batch, the vectors repeated N times, and the
    # running statistics the batch average of the repeated copies' updates.
    flat = input.reshape((1, batch * channels) + shape[2:])
    repeated = [None if v is None else v.repeat(batch) for v in (weight, bias)]
    # PyTorch accepts running statistics of another dtype here (not in batch_norm): the copies
    # take the input's (a float16 input keeps float32 ones, batch_norm's mixed precision).
    stat_dtype = None if input.dtype == _dtypes.float16 else input.dtype
    stats = [None if v is None else v.detach().to(stat_dtype or v.dtype).repeat(batch) for v in (running_mean, running_var)]
    out = batch_norm(flat, stats[0], stats[1], repeated[0], repeated[1], use_input_stats, momentum, eps)
    if use_input_stats:
        for buffer, copies in zip((running_mean, running_var), stats):
            if buffer is not None:
                buffer._data[...] = copies._data.reshape(batch, channels).mean(0)
                buffer._version[0] += 1
    return out.reshape(shape)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p along dim, eps)."""
    return input / input.norm(p, dim, keepdim=True).clamp(min=eps)


# -- embeddings and indices ---------------------------------------------------------------------
def _embedding_index_out_of_range():
    raise IndexError("index out of range in self")


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` picked by the integer ``input``; the ``padding_idx`` row gets no gradient."""
    if input._data.dtype.kind not in "iu" or input._data.dtype.itemsize < 4:
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; "
            f"but got {input.type().replace('tinytorch.', 'torch.')} instead (while checking arguments for embedding)"
        )
    rows = weight.shape[0]
    if padding_idx is not None:
        if not -rows <= padding_idx < rows:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx %= rows
    data = input._data
    if data.size:
        _backend.check_later(((data < 0) | (data >= rows)).any(), _embedding_index_out_of_range)
    if max_norm is not None:
        _embedding_renorm_(weight, input, max_norm, norm_type)
    if scale_grad_by_freq or sparse:  # PyTorch's embedding_backward (a sparse or frequency-scaled gradient)
        return _embedding_ops.embedding(weight, input, padding_idx, scale_grad_by_freq, sparse)
    out = weight[input]
    if padding_idx is not None and out.requires_grad:
        # Same values, but the gradient of padding positions stops here (PyTorch's rule).
        keep = (input != padding_idx).unsqueeze(-1)
        out = _ops.where(keep, out, out.detach())
    return out


def one_hot(tensor, num_classes=-1):
    """An int64 tensor with one more dim of size num_classes, 1 at each index (num_classes=-1: max + 1)."""
    if tensor._data.dtype != _dtypes.int64.numpy:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    data = tensor._data
    xp = _backend.array_module(data)
    if num_classes == -1:
        if data.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(data.max()) + 1
    if data.size:
        if int(data.min()) < 0:
            raise RuntimeError("Class values must be non-negative.")
        if int(data.max()) >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    return Tensor._make((data[..., None] == xp.arange(num_classes)).astype(_dtypes.int64.numpy))


# torch.nn.functional.conv_tbc is torch.conv_tbc; tinytorch's lives in _aten_functional, which
# imports this module, so it is imported last (every name it needs from here is defined by now).
from .._aten_functional import conv_tbc  # noqa: E402
