"""Layers of ``nn.functional`` built from the core ops (their gradients come from those):
``rms_norm``, ``local_response_norm`` (and CrossMapLRN2d's ``_cross_map_lrn2d``), ``bilinear``,
``channel_shuffle`` / ``native_channel_shuffle`` and ``embedding_bag``. Re-exported by
``functional``; arguments are checked in PyTorch's order and with its messages.
"""

import warnings

import numpy as np

from .. import _backend as backend, _dtypes as dtypes
from .._ops.binary import where as _where
from .._ops.embedding import embedding as _embedding
from .._ops.indexing import index_add as _index_add
from .._ops.matmul import matmul as _matmul
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from ._functional_padding import pad
from ._functional_pooling import avg_pool2d

__all__ = ["bilinear", "channel_shuffle", "embedding_bag", "local_response_norm", "native_channel_shuffle", "rms_norm"]


def _constant(array):
    return Tensor._make(array)


# -- normalization --------------------------------------------------------------------------------
def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x^2 over the trailing ``normalized_shape`` dims) + eps), times ``weight``;
    ``eps=None`` is the machine epsilon of the input's dtype. Half precision computes in float32."""
    if not isinstance(normalized_shape, (tuple, list)):
        raise TypeError(
            f"rms_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, not {type(normalized_shape).__name__}"
        )
    shape = tuple(int(s) for s in normalized_shape)
    count = len(shape)
    if count == 0:
        raise RuntimeError(
            "Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one element, but got "
            f"normalized_shape = {list(shape)}"
        )
    if weight is not None and tuple(weight.shape) != shape:
        raise RuntimeError(
            f"Expected weight to be of same shape as normalized_shape, but got weight of shape {list(weight.shape)} and "
            f"normalized_shape = {list(shape)}"
        )
    if input.dim() < count:
        raise ValueError(f"Input tensor must have at least {count} dimensions, but got {input.dim()}")
    if tuple(input.shape[input.dim() - count:]) != shape:
        raise RuntimeError(
            f"Given normalized_shape={list(shape)}, expected input with shape [*{', '.join(str(s) for s in shape)}], "
            f"but got input of size{list(input.shape)}"
        )
    if input._data.dtype.kind not in "fc":
        raise NotImplementedError(f"\"rms_norm\" not implemented for '{dtypes.scalar_type_name(input._data.dtype)}'")
    # PyTorch's composite: half precision upcast to float32, the result cast back to the input's dtype.
    x = input.float() if input._data.dtype.itemsize < 4 else input
    if eps is None:
        eps = float(np.finfo(x._data.dtype).eps)
    dims = tuple(range(-count, 0))
    out = x * (x.pow(2).mean(dims, keepdim=True) + eps).rsqrt()
    if weight is not None:
        out = out * weight
    return out if out.dtype is input.dtype else out.to(input.dtype)


def _channel_window_sums(squares, before, after, window):
    """Sums over a window of ``window`` channels of (N, C, ...) ``squares``, zero padded by
    ``before`` and ``after`` channels: (N, C + before + after - window + 1, ...). The channels
    become the rows of one (N, 1, C, rest) image for a (window, 1) sum pool."""
    shape = tuple(squares.shape)
    image = squares.reshape(shape[0], 1, shape[1], -1)
    image = pad(image, (0, 0, before, after))
    sums = avg_pool2d(image, (window, 1), stride=1, divisor_override=1)
    return sums.reshape(shape[0], sums.shape[2], *shape[2:])


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Each channel divided by (k + alpha * mean of the squares of its ``size`` neighbouring
    channels)^beta, over (N, C, ...) input."""
    dim = input.dim()
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality                          input (got {dim} dimensions)")
    if input.numel() == 0:
        return input
    if size <= 0:
        letters = "kH: {} kW: 1" if dim == 3 else "kT: {} kH: 1 kW: 1"
        raise RuntimeError(f"kernel size should be greater than zero, but got {letters.format(size)}")
    sums = _channel_window_sums(input * input, size // 2, (size - 1) // 2, size)
    # PyTorch average-pools integer squares as integers: the mean is rounded down
    mean = sums / size if sums._data.dtype.kind in "fc" else sums // size
    return input / (mean * alpha + k).pow(beta)


def _cross_map_lrn2d(input, size, alpha=1e-4, beta=0.75, k=1):
    """CrossMapLRN2d's forward (Lua Torch's SpatialCrossMapLRN as PyTorch ports it, in
    torch/nn/modules/_functions.py): each channel c of (N, C, H, W) divided by (k + alpha / size *
    S_c)^beta, where S_c sums the squares of channel 0 and of channels max(1, c - p + 1) through
    c + p - 1, p = int((size - 1) / 2 + 1). (The port never drops channel 0 from its running sum:
    this is its window, not LocalResponseNorm's.) The gradient is this function's own."""
    if input.dim() != 4:
        raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.dim()}D instead.")
    if input._data.dtype.kind not in "fc":
        raise RuntimeError(f"result type Float can't be cast to the desired output type {dtypes.scalar_type_name(input._data.dtype)}")
    scale_factor = alpha / size  # PyTorch's ZeroDivisionError for size 0
    reach = int((size - 1) / 2 + 1)
    squares = input * input
    sums = squares[:, :1]
    if input.shape[1] > 1:
        sums = sums + _channel_window_sums(squares[:, 1:], reach, reach - 1, 2 * reach - 1)
    return input * (sums * scale_factor + k).pow(-beta)


# -- bilinear -------------------------------------------------------------------------------------
def bilinear(input1, input2, weight, bias=None):
    """y = x1^T A x2 + b for each output feature: ``weight`` (out, in1, in2), inputs (*, in1) and
    (*, in2) with the same leading dims."""
    tensors = [("input1", input1), ("input2", input2), ("weight", weight)] + ([("bias", bias)] if bias is not None else [])
    if len({t._data.dtype for _, t in tensors}) > 1:
        raise RuntimeError(
            "All tensors must have the same dtype, got "
            + ", ".join(f"{name}: {dtypes.cpp_type_name(t._data.dtype)}" for name, t in tensors)
        )
    if input1.dim() != input2.dim():
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {input1.dim()} and {input2.dim()}")
    for i in range(input1.dim() - 1):
        if input1.shape[i] != input2.shape[i]:
            raise RuntimeError(f"bilinear(): input batch dimensions do not match at dim {i}: got {input1.shape[i]} and {input2.shape[i]}")
    in1, in2 = input1.size(-1), input2.size(-1)
    if in1 != weight.size(1):
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got {in1} but expected {weight.size(1)}")
    if in2 != weight.size(2):
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got {in2} but expected {weight.size(2)}")
    out_features = weight.shape[0]
    if bias is not None and bias.size(0) != out_features:
        raise RuntimeError(f"bilinear(): bias size does not match weight size: got {bias.size(0)} but expected {out_features}")
    batch = tuple(input1.shape[:-1])
    x1, x2 = input1.reshape(-1, in1), input2.reshape(-1, in2)
    # Two products: (B, in1) @ (in1, out * in2), then per sample (out, in2) @ (in2, 1).
    left = _matmul(x1, weight.permute(1, 0, 2).reshape(in1, out_features * in2))
    out = _matmul(left.reshape(-1, out_features, in2), x2.unsqueeze(-1)).squeeze(-1)
    if bias is not None:
        out = out + bias
    return out.reshape(*batch, out_features)


# -- channel shuffle ------------------------------------------------------------------------------
def _channel_shuffle(name, input, groups):
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool):
        raise TypeError(f"{name}(): argument 'groups' (position 2) must be int, not {type(groups).__name__}")
    if input.dim() <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with sizes {list(input.shape)}")
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of groups:{groups}")
    shape = tuple(input.shape)
    if shape[1] % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {shape[1]} channels and {groups} groups.")
    grouped = input.reshape(shape[0], int(groups), shape[1] // groups, *shape[2:])
    return grouped.transpose(1, 2).reshape(shape)


def channel_shuffle(input, groups):
    """(N, C, *) with its channels in ``groups`` interleaved: (N, g, C/g, *) -> (N, C/g, g, *)."""
    return _channel_shuffle("channel_shuffle", input, groups)


def native_channel_shuffle(input, groups):
    """``channel_shuffle`` under the name of PyTorch's kernel."""
    return _channel_shuffle("native_channel_shuffle", input, groups)


# -- embedding bags -------------------------------------------------------------------------------
def _python_type(value):
    return "<class 'tinytorch.Tensor'>" if isinstance(value, Tensor) else str(type(value))


def _type_name(tensor):
    return tensor.type().replace("tinytorch.", "torch.")


def _check_indices(input, offsets):
    """PyTorch promotes indices and offsets to one type, which must be Long or Int."""
    common = dtypes.promote_types(input.dtype, offsets.dtype)
    if common.numpy.kind not in "iu" or common.numpy.itemsize < 4:
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; but got "
            f"torch.{dtypes.scalar_type_name(common.numpy)}Tensor instead (while checking arguments for embedding_bag)"
        )


def _bag_failure(indices, offsets, rows, include_last_offset):
    """fail() for check_later: the first of PyTorch's errors that the host copies show."""
    def fail():
        index, starts = backend.to_numpy(indices), backend.to_numpy(offsets)
        if include_last_offset and starts.size < 1:
            raise RuntimeError("include_last_offset: number of offset should be at least 1")
        if starts.size:
            if starts[0] != 0:
                raise RuntimeError(
                    "offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from position 0. "
                    f"However, got {starts[0]}"
                )
            if starts[-1] > index.size:
                raise RuntimeError(f"offsets[-1] can not be greater than input's length {index.size} but got offsets[-1] of {starts[-1]}")
            if (starts < 0).any():
                raise IndexError("index out of range in self")
            falls = np.flatnonzero(np.diff(starts) < 0)
            if falls.size:
                i = int(falls[0])
                raise RuntimeError(f"offsets has to be a non-decreasing sequence, but got offsets[{i}] = {starts[i]} > offsets[{i + 1}] = {starts[i + 1]}")
        outside = np.flatnonzero((index < 0) | (index >= rows))
        if outside.size:
            raise RuntimeError(
                f"Index {outside[0]} of input takes value {index[outside[0]]} which is not in the valid range [0, {rows})"
            )
    return fail


def _embedding_renorm_(weight, input, max_norm, norm_type):
    """Rescale, in place, the looked-up rows whose norm exceeds max_norm (PyTorch's embedding_renorm_)."""
    xp = backend.array_module(weight._data)
    rows = xp.unique(input._data.reshape(-1))
    with no_grad():
        picked = weight._data[rows]
        norms = (abs(picked) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
        scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(picked.dtype)
        weight._data[rows] = picked * scale[:, None]
        weight._version[0] += 1


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """Sums, means or maxes of bags of rows of ``weight``: a 1-D ``input`` cut into bags at
    ``offsets`` (the start of each; with ``include_last_offset`` the last entry ends the last
    bag), or a 2-D ``input`` of one bag per row. Empty bags give zeros; entries equal to
    ``padding_idx`` are left out of each bag; ``per_sample_weights`` scale the rows (mode 'sum')."""
    if weight._data.dtype == np.int64 and input._data.dtype.kind == "f":
        warnings.warn(
            "Argument order of nn.functional.embedding_bag was changed. Usage `embedding_bag(weight, input, ...)` is "
            "deprecated, and should now be `embedding_bag(input, weight, ...)`.",
            stacklevel=2,
        )
        weight, input = input, weight
    if per_sample_weights is not None and tuple(input.shape) != tuple(per_sample_weights.shape):
        raise ValueError(
            f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is not None, then it must have the same "
            f"shape as the input ({input.shape})"
        )
    if weight.dim() != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.dim()}")
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError(
                "if input is 2D, then offsets has to be None, as input is treated is a mini-batch of fixed length "
                f"sequences. However, found offsets of type {_python_type(offsets)}"
            )
        if input.shape[1] == 0:
            raise RuntimeError("step must be nonzero")  # PyTorch's arange(0, numel, 0)
        xp = backend.array_module(input._data)
        with backend.on_device(input.device):
            offsets = _constant(xp.arange(0, input.numel(), input.shape[1], dtype=input._data.dtype))
        include_last_offset = False
        input = input.reshape(-1)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif input.dim() == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise ValueError("offsets has to be a 1D Tensor")
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.dim()}")
    if mode == "max":
        if scale_grad_by_freq:
            raise ValueError("max mode does not support scaling the gradient by the frequency")
        if sparse:
            raise ValueError("max mode does not support sparse weights")
    elif mode not in ("sum", "mean"):
        raise ValueError("mode has to be one of sum, mean or max")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            "embedding_bag: per_sample_weights was not None. per_sample_weights is only supported for mode='sum' "
            f"(got mode='{mode}'). Please open a feature request on GitHub."
        )
    rows = weight.shape[0]
    if padding_idx is not None:
        if not -rows <= padding_idx < rows:
            raise RuntimeError(f"padding_idx must be within the number of embeddings, -{rows} through {rows - 1}, but got {padding_idx}")
        padding_idx %= rows
    _check_indices(input, offsets)
    if weight._data.dtype.kind != "f":
        raise RuntimeError(
            "Expected tensor for argument #1 'weight' to have one of the following scalar types: Half, BFloat16, Float, "
            f"Double; but got {_type_name(weight)} instead (while checking arguments for embedding_bag)"
        )
    if per_sample_weights is not None and per_sample_weights._data.dtype != weight._data.dtype:
        raise RuntimeError(
            "Expected tensor for argument #1 'weight' to have the same type as tensor for argument #1 'per_sample_weights'; "
            f"but type {_type_name(weight)} does not equal {_type_name(per_sample_weights)} (while checking arguments for embedding_bag)"
        )
    if include_last_offset and offsets.numel() < 1:
        raise RuntimeError("include_last_offset: number of offset should be at least 1")
    index, starts = input._data, offsets._data
    xp = backend.array_module(index)
    bad = (index < 0) | (index >= rows)
    if starts.size:
        bad = bad.any() | (starts[0] != 0) | (starts[-1] > index.size) | (starts < 0).any() | (starts[1:] < starts[:-1]).any()
    backend.check_later(bad.any(), _bag_failure(index, starts, rows, include_last_offset))
    if max_norm is not None:
        _embedding_renorm_(weight, input, max_norm, norm_type)
    bags = starts.size - 1 if include_last_offset else starts.size
    # Each entry's bag: the last offset at or before its position. Entries past the last offset
    # with include_last_offset fall into an extra bag ``bags`` that is dropped at the end.
    with backend.on_device(input.device):
        # (clipped at 0: with no offsets at all, every entry falls into the dropped bag 0)
        bag_of = xp.maximum(xp.searchsorted(starts, xp.arange(index.size), side="right") - 1, 0)
        keep = xp.ones(index.shape, dtype=bool) if padding_idx is None else index != padding_idx
    if mode == "max":
        return _bag_max(weight, index, starts, bag_of, keep, bags, include_last_offset)
    if scale_grad_by_freq or sparse:
        # PyTorch's _embedding_bag_backward: each entry's share of its bag's gradient goes through
        # embedding_backward (frequencies counted over the whole input; sparse: one entry per index).
        picked = _embedding(weight, input, padding_idx, scale_grad_by_freq, sparse)
    else:
        picked = weight[input]
    if per_sample_weights is not None:
        picked = picked * per_sample_weights.unsqueeze(-1)
    if padding_idx is not None:
        picked = _where(_constant(keep[:, None]), picked, 0.0)
    with backend.on_device(input.device):
        totals = _constant(xp.zeros((bags + 1, weight.shape[1]), dtype=weight._data.dtype))
    out = _index_add(totals, 0, _constant(bag_of), picked)[:bags]
    if mode == "mean":
        counts = xp.bincount(bag_of, weights=keep.astype(weight._data.dtype), minlength=bags + 1)[:bags]
        out = out / _constant(xp.maximum(counts, 1).astype(weight._data.dtype)[:, None])
    return out


def _bag_max(weight, index, starts, bag_of, keep, bags, include_last_offset):
    """Each bag's maximum, column by column, taken with ``gather`` (the gradient goes to the row
    that holds it). A stable sort by value, then by bag (padding entries first within a bag),
    puts each bag's maximum at the bag's last position."""
    if index.size == 0:  # every bag empty: zeros, still connected to ``weight``
        return weight[_constant(index)].sum(0, keepdim=True).expand(bags, weight.shape[1])
    xp = backend.array_module(index)
    values = weight._data[index]
    by_value = values.argsort(axis=0, kind="stable")
    key = bag_of * 2 + keep
    order = xp.take_along_axis(by_value, key[by_value].argsort(axis=0, kind="stable"), axis=0)
    with backend.on_device(weight.device):
        ends = xp.concatenate([starts[1:], xp.asarray([index.size], dtype=starts.dtype)])[:bags]
        position = order[xp.clip(ends - 1, 0, index.size - 1)]  # (bags, D): each bag's maximum in ``index``
        valid = (ends > starts[:bags])[:, None] & keep[position]
    best = weight.gather(0, _constant(index[position].astype(np.int64)))
    return _where(_constant(valid), best, 0.0)
