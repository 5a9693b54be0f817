"""PyTorch's top-level neural-network functions with their *aten* signatures (``torch.embedding(weight,
indices, ...)``, ``torch.batch_norm(input, weight, bias, running_mean, running_var, training,
momentum, eps, cudnn_enabled)``, the losses' ``reduction`` as an int: 0 none, 1 mean, 2 sum).

Each one adapts its arguments (order, defaults, the int reduction, the checks aten makes and
``nn.functional`` does not) and calls ``tinytorch.nn.functional``, which owns the op. Where torch's
top-level function is the very one ``torch.nn.functional`` holds (``torch.conv2d is F.conv2d``),
this module re-exports tinytorch's. It sits above ``nn`` (``tinytorch/__init__.py`` imports it
after ``nn``).
"""

import numbers

from . import _backend as backend, _dtypes as dtypes
from ._ops.movement import broadcast_shapes
from ._tensor import Tensor
from .nn import functional as F
from .nn.functional import (  # torch's top level holds these very functions
    adaptive_avg_pool1d, avg_pool1d, bilinear, channel_shuffle, conv1d, conv2d, conv3d, conv_transpose1d,
    conv_transpose2d, conv_transpose3d, native_channel_shuffle, pixel_shuffle, pixel_unshuffle, rms_norm,
)
from .nn.functional import _feature_dropout

__all__ = [
    "adaptive_avg_pool1d", "adaptive_max_pool1d", "avg_pool1d", "batch_norm", "bilinear",
    "binary_cross_entropy_with_logits", "channel_shuffle", "constant_pad_nd", "conv1d", "conv2d", "conv3d",
    "conv_tbc", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "convolution",
    "cosine_embedding_loss", "ctc_loss", "dropout", "dropout_", "embedding", "embedding_bag", "feature_dropout",
    "feature_dropout_", "group_norm", "hinge_embedding_loss", "instance_norm", "kl_div", "layer_norm",
    "margin_ranking_loss", "max_pool1d", "max_pool1d_with_indices", "max_pool2d", "max_pool3d",
    "native_channel_shuffle", "pixel_shuffle", "pixel_unshuffle", "poisson_nll_loss", "rms_norm",
    "triplet_margin_loss",
]


# -- argument checks of PyTorch's argument parser ---------------------------------------------------
def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _int_argument(function, name, position, value):
    if not _is_int(value):
        raise TypeError(f"{function}(): argument '{name}' (position {position}) must be int, not "
                        f"{type(value).__name__}")
    return int(value)


def _int_list_argument(function, name, position, value):
    """An aten ``int[]`` (``SymInt[]``): a sequence of ints; a bare int is refused, as torch's parser does."""
    if not isinstance(value, (list, tuple)) or not all(_is_int(v) for v in value):
        raise TypeError(f"{function}(): argument '{name}' (position {position}) must be tuple of ints, not "
                        f"{type(value).__name__}")
    return [int(v) for v in value]


def _tensor_argument(function, name, position, value):
    if not isinstance(value, Tensor):
        raise TypeError(f"{function}(): argument '{name}' (position {position}) must be Tensor, not "
                        f"{type(value).__name__}")


# at::Reduction: 1 Mean, 2 Sum; aten's apply_loss_reduction leaves the losses unreduced for any other value.
_REDUCTIONS = {1: "mean", 2: "sum"}
# The schemas' default is Mean, but PyTorch's Python argument parser reads the default's text
# "at::Reduction::Mean" as the int 0: called without one, torch's top-level losses reduce nothing.
_DEFAULT_REDUCTION = 0


def _reduction(function, position, reduction):
    """The int ``reduction`` as nn.functional's name."""
    return _REDUCTIONS.get(_int_argument(function, "reduction", position, reduction), "none")


# -- convolution ------------------------------------------------------------------------------------
_CONVOLUTIONS = {1: (conv1d, conv_transpose1d), 2: (conv2d, conv_transpose2d), 3: (conv3d, conv_transpose3d)}


def convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups):
    """aten's generic convolution: a (transposed, when ``transposed``) convolution of a batched input
    with as many spatial dims as ``weight`` has beyond two; ``output_padding`` only counts when
    transposed. Every size argument is a list of ints."""
    stride, padding, dilation = (_int_list_argument("convolution", name, position, value) for name, position, value in
                                 (("stride", 4, stride), ("padding", 5, padding), ("dilation", 6, dilation)))
    output_padding = _int_list_argument("convolution", "output_padding", 8, output_padding)
    groups = _int_argument("convolution", "groups", 9, groups)
    if weight.dim() < 3:
        raise RuntimeError("weight should have at least three dimensions")
    if weight.dim() > 5:
        raise RuntimeError("unsupported ConvNd parameters")
    if input.dim() != weight.dim():  # aten takes no unbatched input here
        raise RuntimeError(
            f"Expected {weight.dim()}-dimensional input for {weight.dim()}-dimensional weight {list(weight.shape)}, "
            f"but got {input.dim()}-dimensional input of size {list(input.shape)} instead"
        )
    forward, transpose = _CONVOLUTIONS[weight.dim() - 2]
    if transposed:
        return transpose(input, weight, bias, stride, padding, output_padding, groups, dilation)
    return forward(input, weight, bias, stride, padding, dilation, groups)


def conv_tbc(input, weight, bias, pad=0):
    """1-D convolution in time-batch-channel layout: ``input`` (T, N, C_in), ``weight`` (k, C_in,
    C_out), ``bias`` (C_out,), ``pad`` zeros at both ends of time (a negative ``pad`` crops):
    (T + 2 pad - k + 1, N, C_out)."""
    _tensor_argument("conv_tbc", "bias", 3, bias)
    pad = _int_argument("conv_tbc", "pad", 4, pad)
    if input.dim() != 3:
        raise RuntimeError("Input must have 3 dims: time, batch, in_channel")
    if weight.dim() != 3:
        raise RuntimeError("Weight tensor must have 3 dims: kernel_width, in_channels, out_channels.")
    if bias.dim() != 1:
        raise RuntimeError("Bias must be 1-D")
    if input.shape[2] != weight.shape[1]:
        raise RuntimeError("Input dim 2 (input channels) is not == dim 1 in the weight tensor")
    if weight.shape[2] != bias.shape[0]:
        raise RuntimeError("Bias size must equal dim 2 in the weight tensor (output channels).")
    length = input.shape[0] + 2 * pad - weight.shape[0] + 1
    if length < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {length}: "
                           f"[{length}, {input.shape[1]}, {weight.shape[2]}]")
    x = input.permute(1, 2, 0)  # (N, C_in, T), as conv1d wants it
    if pad < 0:
        x, pad = x[..., -pad:input.shape[0] + pad], 0
    return conv1d(x, weight.permute(2, 1, 0), bias, 1, pad).permute(2, 0, 1)


# -- dropout ----------------------------------------------------------------------------------------
def _check_probability(p):
    if not 0 <= p <= 1:  # aten's check (RuntimeError), before the train flag is looked at
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p:g}")


def dropout(input, p, train):
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p) when ``train``; else ``input``."""
    _check_probability(p)
    return F.dropout(input, p, train)


def dropout_(input, p, train):
    """``dropout`` written into ``input``."""
    _check_probability(p)
    return F.dropout(input, p, train, inplace=True)


def _feature(input, p, train, inplace):
    _check_probability(p)
    if p == 0 or not train or input.numel() == 0:  # aten returns before it looks at the dims
        return input
    return _feature_dropout(input, p, train, inplace)


def feature_dropout(input, p, train):
    """Zero whole channels (dim 1) of an (N, C, ...) input with probability ``p``, scaling the rest by 1/(1-p)."""
    return _feature(input, p, train, False)


def feature_dropout_(input, p, train):
    """``feature_dropout`` written into ``input``."""
    return _feature(input, p, train, True)


# -- normalization ----------------------------------------------------------------------------------
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05, cudnn_enable=True):
    """Normalize over the trailing ``normalized_shape`` dims (a list of ints); ``cudnn_enable`` is ignored."""
    normalized_shape = _int_list_argument("layer_norm", "normalized_shape", 2, normalized_shape)
    return F.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05, cudnn_enabled=True):
    """Normalize each sample over groups of channels; ``cudnn_enabled`` is ignored."""
    return F.group_norm(input, _int_argument("group_norm", "num_groups", 2, num_groups), weight, bias, eps)


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled):
    """Batch normalization with aten's argument order (the affine parameters first, every argument
    required); ``cudnn_enabled`` is ignored."""
    return F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps, cudnn_enabled):
    """Instance normalization with aten's argument order (every argument required); ``cudnn_enabled`` is ignored."""
    return F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)


# -- embeddings -------------------------------------------------------------------------------------
def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` picked by ``indices`` (weight first); the ``padding_idx`` row, when it is
    one (0 <= padding_idx < rows: aten's -1 and any other index no entry can hold mean none), gets
    no gradient."""
    padding_idx = _int_argument("embedding", "padding_idx", 3, padding_idx)
    if weight.dim() != 2:
        raise RuntimeError("'weight' must be 2-D")
    padding = padding_idx if 0 <= padding_idx < weight.shape[0] else None
    return F.embedding(indices, weight, padding, scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


_BAG_MODES = ("sum", "mean", "max")


def embedding_bag(weight, indices, offsets, scale_grad_by_freq=False, mode=0, sparse=False, per_sample_weights=None,
                  include_last_offset=False, padding_idx=None):
    """Sums (``mode`` 0), means (1) or maxima (2) of bags of rows of ``weight``, the bags cut from
    the 1-D ``indices`` at ``offsets``. Returns PyTorch's four tensors: the bags, ``offset2bag``
    (each entry's bag; empty where PyTorch's CPU fast path skips it: sum mode, no ``padding_idx``,
    float32 or float16 weight), ``bag_size`` (the entries counted in each bag; zeros in sum mode) and ``max_indices`` (the
    row holding each maximum, the first in a tie, in max mode; ``bag_size`` otherwise)."""
    mode = _int_argument("embedding_bag", "mode", 5, mode)
    if mode not in (0, 1, 2):
        raise RuntimeError("`mode` must be sum, mean, or max.")
    if weight.dim() != 2:
        raise RuntimeError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.dim()}")
    if indices.dim() != 1:
        raise RuntimeError(f"input has to be a 1D Tensor, but got Tensor of dimension {indices.dim()}")
    if offsets.dim() != 1:
        raise RuntimeError(f"offsets has to be a 1D Tensor, but got Tensor of dimension {offsets.dim()}")
    if per_sample_weights is not None and mode != 0:
        raise RuntimeError("embedding_bag: per_sample_weights only supported with mode='sum'")
    output = F.embedding_bag(indices, weight, offsets, scale_grad_by_freq=scale_grad_by_freq, mode=_BAG_MODES[mode],
                             sparse=sparse, per_sample_weights=per_sample_weights,
                             include_last_offset=include_last_offset, padding_idx=padding_idx)
    return (output,) + _bag_bookkeeping(weight, indices, offsets, output, mode, include_last_offset, padding_idx,
                                        per_sample_weights)


def _bag_bookkeeping(weight, indices, offsets, output, mode, include_last_offset, padding_idx, per_sample_weights):
    """embedding_bag's offset2bag, bag_size and max_indices, as PyTorch's CPU kernel fills them."""
    index, starts = indices._data, offsets._data
    xp = backend.array_module(index)
    integer = dtypes.promote_types(indices.dtype, offsets.dtype).numpy
    count, bags = index.size, starts.size - (1 if include_last_offset else 0)
    with backend.on_device(indices.device):
        positions = xp.arange(count)
        # PyTorch's offset2bag: the last of the bags' starts at or before each entry (the entries
        # past include_last_offset's end fall into the last bag).
        bag_of = xp.maximum(xp.searchsorted(starts[:max(bags, 0)], positions, side="right") - 1, 0)
        keep = xp.ones(count, dtype=bool) if padding_idx is None else index != padding_idx % weight.shape[0]
        # Sum mode counts nothing; PyTorch sizes its bag_size by the bags when an input requires
        # grad (grad mode aside) and by the offsets when none does.
        differentiable = weight.requires_grad or per_sample_weights is not None and per_sample_weights.requires_grad
        bag_size = xp.zeros(max(bags, 0) if differentiable else starts.size, dtype=integer)
        if mode != 0 and bags > 0:
            bag_size = xp.bincount(bag_of[keep], minlength=bags)[:bags].astype(integer)
        # PyTorch's CPU fast path (sum mode, no padding_idx, float32 or float16 weight) skips offset2bag.
        fast = mode == 0 and padding_idx is None and weight._data.dtype.name in ("float32", "float16")
        offset2bag = xp.zeros(0, dtype=integer) if fast else bag_of.astype(integer)
        if mode != 2:
            return Tensor._make(offset2bag), Tensor._make(bag_size), Tensor._make(bag_size.copy())
        max_indices = xp.zeros((max(bags, 0), weight.shape[1]), dtype=integer)
        if count and bags > 0:
            max_indices = _first_maxima(xp, weight._data[index], output._data, index, bag_of, keep, bags).astype(integer)
    return Tensor._make(offset2bag), Tensor._make(bag_size), Tensor._make(max_indices)


def _first_maxima(xp, values, maxima, index, bag_of, keep, bags):
    """(bags, D): per bag and column, the row of the first entry whose value is the bag's maximum
    (0 where none). The keys bag * (n + 1) + position (n where the entry does not hold the maximum),
    sorted per column, put each bag's first holder at the start of the bag's run of entries."""
    count = index.size
    holds = (values == maxima[bag_of]) & keep[:, None]
    keys = bag_of[:, None] * (count + 1) + xp.where(holds, xp.arange(count)[:, None], count)
    keys = xp.sort(keys, axis=0)
    first = xp.searchsorted(bag_of, xp.arange(bags), side="left")
    found = keys[xp.minimum(first, count - 1)]
    position = found % (count + 1)
    valid = (first < count)[:, None] & (found // (count + 1) == xp.arange(bags)[:, None]) & (position < count)
    return xp.where(valid, index[xp.minimum(position, count - 1)], 0)


# -- pooling and padding ----------------------------------------------------------------------------
def max_pool1d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """1-D max pooling of (N, C, L) or (C, L); an empty ``stride`` is the kernel size."""
    return F.max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool1d_with_indices(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """``max_pool1d`` and the index of each maximum, as a pair."""
    return F.max_pool1d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool2d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """2-D max pooling of (N, C, H, W) or (C, H, W); an empty ``stride`` is the kernel size."""
    return F.max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool3d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """3-D max pooling of (N, C, D, H, W) or (C, D, H, W); an empty ``stride`` is the kernel size."""
    return F.max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode)


def adaptive_max_pool1d(input, output_size):
    """Max pooling of (N, C, L) or (C, L) to a fixed length: the maxima and their indices, as a pair."""
    return F.adaptive_max_pool1d_with_indices(input, output_size)


def constant_pad_nd(input, pad, value=0):
    """Pad the last len(pad) / 2 dims with ``value`` (``pad`` the last dim's first; negative sizes crop)."""
    pad = _int_list_argument("constant_pad_nd", "pad", 2, pad)
    if len(pad) % 2:
        raise RuntimeError(f"Length of pad must be even but instead it equals {len(pad)}")
    if len(pad) > 2 * input.dim():
        raise RuntimeError(  # (PyTorch's message, its missing spaces included)
            "Length of pad should be no more than twice the number of dimensions of the input. "
            f"Pad length is {len(pad)}while the input has {input.dim()}dimensions."
        )
    return F.pad(input, pad, "constant", value)


# -- losses -----------------------------------------------------------------------------------------
def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=_DEFAULT_REDUCTION):
    """Binary cross-entropy of sigmoid(input) against ``target``; ``input`` broadcasts to the target's shape."""
    reduction = _reduction("binary_cross_entropy_with_logits", 5, reduction)
    if input.shape != target.shape:  # aten computes into the target's shape; nn.functional wants equal shapes
        shape = tuple(broadcast_shapes(input.shape, target.shape))
        if shape != tuple(target.shape):
            raise RuntimeError(f"output with shape {list(target.shape)} doesn't match the broadcast shape {list(shape)}")
        input = input.expand(shape)
    return F.binary_cross_entropy_with_logits(input, target, weight, reduction=reduction, pos_weight=pos_weight)


def kl_div(input, target, reduction=_DEFAULT_REDUCTION, *, log_target=False):
    """Pointwise KL divergence ``target (log target - input)``; the int ``reduction`` 1 is the plain mean
    over every element."""
    reduction = _reduction("kl_div", 3, reduction)
    if reduction == "mean":  # aten's mean over every element (nn.functional warns about it: aten does not)
        return F.kl_div(input, target, reduction="none", log_target=log_target).mean()
    return F.kl_div(input, target, reduction=reduction, log_target=log_target)


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=_DEFAULT_REDUCTION):
    """1 - cos(input1, input2) where ``target`` is 1, max(0, cos - margin) where it is -1."""
    reduction = _reduction("cosine_embedding_loss", 5, reduction)
    return F.cosine_embedding_loss(input1, input2, target, margin, reduction=reduction)


def hinge_embedding_loss(input, target, margin=1.0, reduction=_DEFAULT_REDUCTION):
    """``input`` where ``target`` is 1, max(0, margin - input) where it is -1."""
    reduction = _reduction("hinge_embedding_loss", 4, reduction)
    return F.hinge_embedding_loss(input, target, margin, reduction=reduction)


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=_DEFAULT_REDUCTION):
    """max(0, -target (input1 - input2) + margin)."""
    reduction = _reduction("margin_ranking_loss", 5, reduction)
    return F.margin_ranking_loss(input1, input2, target, margin, reduction=reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-06, swap=False, reduction=_DEFAULT_REDUCTION):
    """max(0, margin + d(anchor, positive) - d(anchor, negative)), d the pairwise p-norm distance."""
    reduction = _reduction("triplet_margin_loss", 8, reduction)
    return F.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap, reduction=reduction)


def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    """The Poisson negative log-likelihood, every argument required (aten's signature)."""
    reduction = _reduction("poisson_nll_loss", 6, reduction)
    return F.poisson_nll_loss(input, target, log_input, full, eps=eps, reduction=reduction)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction=_DEFAULT_REDUCTION,
             zero_infinity=False):
    """The CTC loss; the lengths are both tensors or both sequences of ints."""
    reduction = _reduction("ctc_loss", 6, reduction)
    return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, reduction, zero_infinity)
