"""``nn.functional.linear_cross_entropy`` and its ``LinearCrossEntropyOptions``: the cross-entropy
of ``linear(input, linear_weight, linear_bias)`` against the target, with an optional chunked
path that never holds the whole (N, C) logits (for large vocabularies)."""

import dataclasses
import math
import warnings

import numpy as np

from .. import _backend as backend, _creation as creation, _dtypes as dtypes, _ops as ops
from .._ops._util import quiet, wrap
from .._ops.matmul import linear
from .._tensor import Tensor
from ..autograd.function import Function
from ._functional_losses import _check_class_targets, _floating_kernel, _unbatched, cross_entropy

# PyTorch's per-(device type, input dtype) picks for the "auto" settings; other pairs fall back
# to ("compact", "aspect_ratio:2"). Only the chunking method changes anything here.
_AUTO_DEFAULTS = {
    ("cuda", dtypes.float16): ("compact", "aspect_ratio:2"),
    ("cpu", dtypes.float16): ("accurate", "aspect_ratio"),
}
_AUTO_FALLBACK = ("compact", "aspect_ratio:2")
_ACC_POLICIES = ("auto", "accurate", "balanced", "compact")
_ACC_DTYPES = (dtypes.float16, dtypes.float32, dtypes.float64)


@dataclasses.dataclass(slots=True, frozen=True)
class LinearCrossEntropyOptions:
    """Asks ``linear_cross_entropy`` for its chunked path: the rows of the batch are processed
    ``batch_chunk_size`` at a time (or as many as ``chunking_method`` picks), so the full
    ``(num_batches, num_classes)`` logits are never held, in forward or in backward.

    ``chunking_method``: ``"auto"`` (PyTorch's pick for the device and dtype, ``"aspect_ratio:2"``
    for float32/float64), ``"aspect_ratio"`` (chunks whose logits take as much memory as the
    input: ``next_pow2(ceil(N / ceil(C / in_features)))`` rows), ``"aspect_ratio:N"`` (that, over
    N), or None (use ``batch_chunk_size``; None there means one chunk). ``acc_policy`` and
    ``acc_dtype`` are PyTorch's precision choices for float16/bfloat16 inputs: checked, and
    without effect (the chunks are computed in the input's dtype). ``allow_retain_graph`` is
    accepted; the backward here recomputes each chunk, so a second backward works either way.
    """

    allow_retain_graph: bool = False
    batch_chunk_size: int = None
    chunking_method: str = "auto"
    acc_policy: str = "auto"
    acc_dtype: object = None

    def __post_init__(self):
        if self.acc_policy not in _ACC_POLICIES:
            raise ValueError(f"invalid acc_policy: {self.acc_policy!r}")
        if self.chunking_method is not None and self.chunking_method != "auto":
            name, sep, factor = self.chunking_method.partition(":")
            if not sep:
                factor = "1"
            if not (name == "aspect_ratio" and factor.isdigit() and int(factor) > 0):
                raise ValueError(f"invalid chunking_method: {self.chunking_method!r}")
        if not (self.batch_chunk_size is None or (isinstance(self.batch_chunk_size, int) and self.batch_chunk_size > 0)):
            raise ValueError(f"batch_chunk_size must be positive int or None, got {self.batch_chunk_size!r}")
        if self.acc_dtype is not None and self.acc_dtype not in _ACC_DTYPES:
            raise ValueError(
                f"acc_dtype must be one of {{None, tinytorch.float16, tinytorch.float32, tinytorch.float64}}, got "
                f"{self.acc_dtype!r}. Pass acc_dtype=None to let the op pick automatically.")

    def _chunk_size(self, num_batches, in_features, num_classes, dtype, device_type):
        """The rows per chunk for this call (PyTorch's ``_adjust``), at least 1."""
        method = self.chunking_method
        if method == "auto" and self.batch_chunk_size is not None:
            method = None  # an explicit size wins over the automatic pick
        if method == "auto":
            method = _AUTO_DEFAULTS.get((device_type, dtype), _AUTO_FALLBACK)[1]
        size = num_batches if self.batch_chunk_size is None else min(self.batch_chunk_size, num_batches)
        if method is not None:
            factor = int(method.split(":", 1)[1]) if ":" in method else 1
            rows = -(-num_batches // -(-num_classes // in_features))
            size = min((1 << (rows - 1).bit_length()) // factor, num_batches)  # next power of 2, over factor
            if self.batch_chunk_size is not None and self.batch_chunk_size != size:
                raise ValueError(
                    f"batch_chunk_size (={self.batch_chunk_size}) and chunking_method ('{method}') give different "
                    f"chunk sizes ({self.batch_chunk_size} vs {size}); pass only one.")
        return max(1, size)


class LinearCrossEntropyChunked(Function):
    """cross_entropy(linear(input, linear_weight, linear_bias), target) over chunks of rows, for
    (N, F) input and (N,) int64 class targets.

    Fused so that memory stays at one chunk of logits: the forward keeps only each row's loss;
    the backward recomputes each chunk's logits and softmax, ``d loss / d logits = (softmax -
    one_hot) * w[target] * scale``, and multiplies it into the three gradients before the next
    chunk. The backward is written with tensor ops, so ``create_graph=True`` works (PyTorch's
    chunked path refuses higher-order gradients). Arguments are checked by
    ``linear_cross_entropy``.
    """

    @staticmethod
    def forward(ctx, input, linear_weight, linear_bias, target, weight, ignore_index, reduction, chunk_size):
        data, weights = input._data, linear_weight._data
        bias = None if linear_bias is None else linear_bias._data
        xp = backend.array_module(data)
        kept = target._data != ignore_index
        safe = xp.where(kept, target._data, 0)
        target_weight = kept.astype(data.dtype) if weight is None else xp.where(kept, weight._data[safe], 0).astype(data.dtype)
        losses = xp.empty(data.shape[0], dtype=data.dtype)
        for start in range(0, data.shape[0], chunk_size):
            stop = min(start + chunk_size, data.shape[0])
            logits = backend.matmul_transposed(data[start:stop], weights, bias)
            # NOTE: the log-sum-exp shift keeps large logits finite; loss = log sum exp - logit[target].
            logits -= backend.max_kept(logits, 1)
            picked = logits[xp.arange(stop - start), safe[start:stop]]
            losses[start:stop] = xp.log(backend.reduce_sum(xp.exp(logits, out=logits), 1)) - picked
        losses *= target_weight
        ctx.save_for_backward(input, linear_weight, linear_bias)
        ctx.safe, ctx.target_weight = safe, target_weight
        ctx.reduction, ctx.chunk_size = reduction, chunk_size
        if reduction == "none":
            return wrap(losses)
        total = backend.reduce_sum(losses)
        if reduction == "mean":
            ctx.denominator = backend.reduce_sum(target_weight)
            with quiet():  # every target ignored: 0/0 = nan, silently, as PyTorch
                total = total / ctx.denominator
        return wrap(xp.asarray(total, dtype=data.dtype))

    @staticmethod
    def backward(ctx, grad_output):
        input, linear_weight, linear_bias = ctx.saved_tensors
        needs = ctx.needs_input_grad
        xp = backend.array_module(input._data)
        # d(reduced loss) / d(each row's loss), times w[target] (0 for ignored rows).
        row_scale = wrap(ctx.target_weight) * grad_output
        if ctx.reduction == "mean":
            with quiet():
                row_scale = row_scale / wrap(ctx.denominator)
        classes = linear_weight.shape[0]
        class_ids = xp.arange(classes)
        grad_rows, grad_weight, grad_bias = [], None, None
        for start in range(0, input.shape[0], ctx.chunk_size):
            stop = min(start + ctx.chunk_size, input.shape[0])
            rows = input[start:stop]
            one_hot = wrap((class_ids == ctx.safe[start:stop, None]).astype(input._data.dtype))
            grad_logits = (linear(rows, linear_weight, linear_bias).softmax(1) - one_hot) * row_scale[start:stop].unsqueeze(1)
            if needs[0]:
                grad_rows.append(grad_logits.matmul(linear_weight))
            if needs[1]:
                part = grad_logits.t().matmul(rows)
                grad_weight = part if grad_weight is None else grad_weight + part
            if needs[2]:
                part = grad_logits.sum(0)
                grad_bias = part if grad_bias is None else grad_bias + part
        grad_input = None
        if needs[0]:
            grad_input = ops.cat(grad_rows, 0) if grad_rows else creation.zeros_like(input)
        if needs[1] and grad_weight is None:  # no rows
            grad_weight = creation.zeros_like(linear_weight)
        if needs[2] and grad_bias is None:
            grad_bias = creation.zeros_like(linear_bias)
        return grad_input, grad_weight, grad_bias, None, None, None, None, None


def linear_cross_entropy(input, linear_weight, target, *, linear_bias=None, weight=None, reduction="mean",
                         ignore_index=None, label_smoothing=0.0, options=None):
    """``cross_entropy(linear(input, linear_weight, linear_bias), target, ...)``, PyTorch's
    ``F.linear_cross_entropy``.

    ``input`` is (in_features,) or (N, in_features); ``linear_weight`` is (C, in_features), or
    (C, d_1, ..., d_K, in_features) for a K-dimensional loss (batched input only), and
    ``linear_bias`` its (C, d_1, ..., d_K) bias. ``ignore_index`` None means -100 for class
    indices (it may not be given with class probabilities). With ``options`` (a
    ``LinearCrossEntropyOptions``) the loss is computed chunk by chunk over the rows, never
    holding the whole logits; that path takes int64 class indices, no label smoothing and no
    K-dimensional weight, and warns and falls back to the reference computation otherwise.
    """
    if input.dim() < 1 or input.dim() > 2:
        raise RuntimeError(f"expected input with dimensionality 1 or 2, got {input.dim()}")
    if linear_weight.dim() < 2:
        raise RuntimeError(f"expected linear_weight with dimensionality at least 2, got {linear_weight.dim()}")
    num_batches, in_features = tuple(input.shape[:-1]), input.shape[-1]
    if in_features != linear_weight.shape[-1]:
        raise RuntimeError(
            "expected equal input and linear_weight last dimensions (in_features), "
            f"got {input.shape[-1]} and {linear_weight.shape[-1]}, respectively")
    num_classes, out_features = linear_weight.shape[0], tuple(linear_weight.shape[1:-1])
    if linear_bias is not None and tuple(linear_bias.shape) != (num_classes, *out_features):
        raise RuntimeError(f"expected linear_bias shape {(num_classes, *out_features)}, got {tuple(linear_bias.shape)}")
    if out_features and not num_batches:
        raise RuntimeError(
            f"K-dimensional loss defined by linear_weight shape {tuple(linear_weight.shape)} requires batched input, "
            f"(N, {in_features}), got unbatched input with shape {tuple(input.shape)}")
    logits_shape = (*num_batches, num_classes, *out_features)
    # As cross_entropy decides it: a target shaped like the logits holds class probabilities.
    if tuple(target.shape) == logits_shape and ignore_index is not None:
        raise RuntimeError("ignore_index cannot be specified when target contains probabilities")
    ignore_index = -100 if ignore_index is None else ignore_index
    if options is not None:
        chunkable = (not out_features and reduction in ("mean", "sum", "none") and label_smoothing == 0.0
                     and target.dtype == dtypes.int64)
        if chunkable:
            return _chunked(input, linear_weight, target, linear_bias, weight, reduction, ignore_index, options)
        warnings.warn(
            "linear_cross_entropy: ``options`` ignored; chunked path needs reduction in {'mean','sum','none'}, "
            f"label_smoothing == 0, target.dtype == int64, out_features == (). Got reduction={reduction!r}, "
            f"label_smoothing={label_smoothing}, target.dtype={target.dtype}, out_features={out_features}, "
            f"tracing=False, linear_bias.shape={tuple(linear_bias.shape) if linear_bias is not None else None}.",
            stacklevel=2)
    if out_features:  # one (C * d_1 * ... * d_K, in_features) product, then the logits' shape
        flat = math.prod(out_features, start=num_classes)
        linear_weight = linear_weight.reshape((flat, in_features))
        if linear_bias is not None:
            linear_bias = linear_bias.reshape(flat)
    logits = linear(input, linear_weight, linear_bias).reshape(logits_shape)
    return cross_entropy(logits, target, weight=weight, reduction=reduction, ignore_index=ignore_index,
                         label_smoothing=label_smoothing)


def _chunked(input, linear_weight, target, linear_bias, weight, reduction, ignore_index, options):
    """The chunked path: the reference path's checks, run on a zero-stride stand-in for the
    logits (their shape and dtype, no memory), then ``LinearCrossEntropyChunked``."""
    data = input._data
    xp = backend.array_module(data)
    # linear's own dtype and device checks, on no rows.
    rows = input.detach() if input.dim() == 2 else input.detach().unsqueeze(0)
    linear(rows[:0], linear_weight.detach(), None if linear_bias is None else linear_bias.detach())
    logits_shape = (*input.shape[:-1], linear_weight.shape[0])
    stand_in = Tensor._make(xp.broadcast_to(xp.zeros((), dtype=np.result_type(data.dtype, linear_weight._data.dtype)), logits_shape))
    _floating_kernel("log_softmax_lastdim_kernel_impl", stand_in)
    _check_class_targets(stand_in, target, weight, ignore_index)
    target = _unbatched(stand_in, target)
    if weight is not None:  # PyTorch's chunked path takes class weights of another dtype, cast
        weight = weight.detach().to(input.dtype)
    unbatched = input.dim() == 1
    if unbatched:
        input, target = input.unsqueeze(0), target.reshape(1)
    chunk_size = options._chunk_size(input.shape[0], input.shape[1], linear_weight.shape[0], input.dtype, input.device.type)
    loss = LinearCrossEntropyChunked.apply(input, linear_weight, linear_bias, target, weight, ignore_index, reduction,
                                           chunk_size)
    return loss.squeeze(0) if unbatched and reduction == "none" else loss
