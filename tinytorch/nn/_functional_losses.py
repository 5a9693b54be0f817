"""The loss functions of ``nn.functional`` (re-exported there): argument checks with PyTorch's
errors, then composites of core ops or the fused Functions of ``tinytorch._ops.nn_ops``."""

import math
import warnings

import numpy as np

from .. import _backend as backend, _creation as creation, _dtypes as dtypes, _ops as ops
from .._ops import movement, nn_ops
from .._tensor import Tensor
from ..autograd import grad_mode
from .._ops._util import check_broadcast, promote
from ..amp import _policy  # autocast runs these losses in float32 (PyTorch's lists)

_REDUCTIONS = ("none", "mean", "sum")


def _reduction(reduction, size_average=None, reduce=None):
    """The reduction to use, from ``reduction`` or the deprecated size_average/reduce pair."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "mean" if size_average and reduce else ("sum" if reduce else "none")
        warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{reduction}' instead.", stacklevel=3)
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(losses, reduction):
    if reduction == "none":
        return losses
    return losses.mean() if reduction == "mean" else losses.sum()


def _warn_if_broadcast(input, target):
    if target.shape != input.shape:
        warnings.warn(
            f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). "
            "This will likely lead to incorrect results due to broadcasting. Please ensure they have the same size.",
            stacklevel=3,
        )


def _require_tensors(function, **arguments):
    """PyTorch's argument parser refuses a non-tensor input or target of its C++ losses."""
    for position, (name, value) in enumerate(arguments.items(), 1):
        if not isinstance(value, Tensor):
            raise TypeError(f"{function}(): argument '{name}' (position {position}) must be Tensor, not {type(value).__name__}")


def _floating_kernel(kernel, *tensors):
    """PyTorch's kernels for these losses run on floating-point data only (after promotion)."""
    numpy_dtype = tensors[0]._data.dtype
    for t in tensors[1:]:
        numpy_dtype = np.promote_types(numpy_dtype, t._data.dtype)
    if numpy_dtype.kind not in "fc":
        raise NotImplementedError(f'"{kernel}" not implemented for \'{dtypes.scalar_type_name(numpy_dtype)}\'')


def _check_weight_size(weight, input):
    if weight is not None and weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")


def _check_weight_broadcasts(weight, input, target=None):
    """A loss's weight broadcasts to the loss's shape, never past it. With a target, as PyTorch's
    binary_cross_entropy: the weight is first expanded to ``broadcast_shapes(target, weight)``."""
    shape = tuple(input._data.shape)
    if target is not None:
        full = tuple(movement.broadcast_shapes(target.shape, weight.shape))
    else:
        check_broadcast(shape, weight._data.shape)
        full = tuple(movement.broadcast_shapes(shape, weight._data.shape))
    if full != shape:
        raise RuntimeError(f"output with shape {list(shape)} doesn't match the broadcast shape {list(full)}")


# -- regression ---------------------------------------------------------------------------------
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """(input - target)^2, reduced."""
    if _policy.armed:
        input, target, weight = _policy.cast("mse_loss", input, target, weight)
    reduction = _reduction(reduction, size_average, reduce)
    _warn_if_broadcast(input, target)
    _check_weight_size(weight, input)
    if weight is None:
        _floating_kernel("mse_cpu", input, target)
    diff = input - target
    losses = diff * diff
    return _reduce(losses, reduction) if weight is None else _weighted(losses * weight, weight, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """|input - target|, reduced (the gradient at 0 is 0)."""
    if _policy.armed:
        input, target, weight = _policy.cast("l1_loss", input, target, weight)
    reduction = _reduction(reduction, size_average, reduce)
    _warn_if_broadcast(input, target)
    _check_weight_size(weight, input)
    losses = (input - target).abs()
    return _reduce(losses, reduction) if weight is None else _weighted(losses * weight, weight, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """The negative log-likelihood of ``target`` under N(input, var): 0.5 (log var + (input -
    target)^2 / var), plus 0.5 log(2 pi) when ``full``. ``var`` is a float, a tensor of the input's
    shape (heteroscedastic), of its shape without the last dim, or of its shape with one dim of
    size 1 (homoscedastic along it). ``var`` is clamped to at least ``eps`` for stability, the
    gradient passing through the clamp as PyTorch's does. With var = 1 the loss is half the
    squared error plus a constant: minimizing MSE is maximizing a unit-variance Gaussian's
    likelihood."""
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * creation.ones_like(input)
    elif not isinstance(var, Tensor):
        raise TypeError(f"any() received an invalid combination of arguments - got ({type(var < 0).__name__}), "
                        "but expected one of:\n * (Tensor input, *, Tensor out = None)")
    elif bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    if var.size() != input.size():
        if input.size()[:-1] == var.size():  # homoscedastic over the last dim
            var = var.unsqueeze(-1)
        elif input.dim() == var.dim() and sum(y for x, y in zip(input.size(), var.size()) if x != y) == 1:
            pass  # one dim of size 1 broadcasts: homoscedastic along it
        else:
            raise ValueError("var is of incorrect size")
    if reduction not in _REDUCTIONS:
        raise ValueError(reduction + " is not valid")
    check_broadcast(tuple(input.shape), tuple(target.shape))
    var = var.clone()
    with grad_mode.no_grad():
        var.clamp_(min=eps)  # in place, out of the graph: the gradient flows as if unclamped
    loss = 0.5 * (ops.log(var) + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None, reduction="mean"):
    """The negative log-likelihood of counts ``target`` under Poisson(rate): exp(input) - target *
    input when ``log_input`` (the input is log rate), else input - target * log(input + eps).
    ``full`` adds Stirling's approximation of log(target!) where target > 1."""
    if size_average is not None or reduce is not None:
        reduction = _reduction("mean", size_average, reduce)
    if reduction not in _REDUCTIONS:
        raise ValueError(reduction + " is not a valid value for reduction")
    _require_tensors("poisson_nll_loss", input=input, target=target)
    check_broadcast(tuple(target.shape), tuple(input.shape))  # PyTorch's kernel computes target * input first
    if log_input:
        loss = ops.exp(input) - target * input
    else:
        loss = input - target * ops.log(input + eps)
    if full:
        stirling = target * ops.log(target) - target + 0.5 * ops.log(2 * math.pi * target)
        loss = loss + ops.where(target <= 1, 0.0, stirling)
    return _reduce(loss, reduction)


def _weighted(losses, weight, reduction):
    """PyTorch's weighted mse/l1 'mean' divides by the summed weights, not the element count."""
    if reduction == "mean":
        return losses.sum() / weight.sum()
    return _reduce(losses, reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta."""
    reduction = _reduction(reduction, size_average, reduce)
    _warn_if_broadcast(input, target)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    _floating_kernel("smooth_l1_cpu", input, target)
    distance = (input - target).abs()
    if beta == 0:
        return _reduce(distance, reduction)
    return _reduce(ops.where(distance < beta, distance * distance * (0.5 / beta), distance - 0.5 * beta), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta)."""
    reduction = _reduction(reduction)
    _warn_if_broadcast(input, target)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    _check_weight_size(weight, input)
    _floating_kernel("huber_cpu", input, target)
    distance = (input - target).abs()
    losses = ops.where(distance < delta, distance * distance * 0.5, (distance - 0.5 * delta) * delta)
    return _reduce(losses if weight is None else losses * weight, reduction)


# -- binary classification ----------------------------------------------------------------------
def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-w [t log x + (1 - t) log(1 - x)] for probabilities x (log clamped at -100, as PyTorch)."""
    if _policy.armed:
        input, target, weight = _policy.cast("binary_cross_entropy", input, target, weight)
    reduction = _reduction(reduction, size_average, reduce)
    if target.shape != input.shape:
        raise ValueError(
            f"Using a target size ({target.shape}) that is different to the input size ({input.shape}) is deprecated. "
            "Please ensure they have the same size."
        )
    if weight is not None:
        _check_weight_broadcasts(weight, input, target)
    data, target_data = input._data, target._data
    if target_data.dtype != data.dtype:
        raise RuntimeError(f"Found dtype {dtypes.scalar_type_name(target._data.dtype)} but expected {dtypes.scalar_type_name(input._data.dtype)}")
    _floating_kernel("binary_cross_entropy", input)
    if data.size:  # NaN is outside [0, 1] too
        backend.check_later(~((data >= 0) & (data <= 1)).all(), _bce_input_out_of_range)
        backend.check_later(~((target_data >= 0) & (target_data <= 1)).all(), _bce_target_out_of_range)
    return nn_ops.binary_cross_entropy(input, target, weight, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None):
    """Binary cross-entropy of sigmoid(input), computed stably from the logits in one fused op."""
    if _policy.armed:
        input, target, weight, pos_weight = _policy.cast("binary_cross_entropy_with_logits", input, target, weight, pos_weight)
    reduction = _reduction(reduction, size_average, reduce)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    _floating_kernel("log_sigmoid_cpu", input)
    if target._data.dtype.kind == "b" and input._data.dtype.kind == "b":
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or `logical_xor()` operator instead."
        )
    if target._data.dtype.kind not in "fc":  # PyTorch computes into a tensor of the target's dtype
        raise RuntimeError(
            f"result type {dtypes.scalar_type_name(input._data.dtype)} can't be cast to the desired output type {dtypes.scalar_type_name(target._data.dtype)}"
        )
    if pos_weight is not None:
        check_broadcast(pos_weight._data.shape, target._data.shape)
    if weight is not None:
        _check_weight_broadcasts(weight, input)
    input, target = promote(input, target)
    return nn_ops.binary_cross_entropy_with_logits(input, target, weight, pos_weight, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """target (log target - input), pointwise, with ``input`` log-probabilities; 'batchmean' divides by the batch size."""
    if reduction == "mean":
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support size."
            "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
            "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
            stacklevel=2,
        )
    _require_tensors("kl_div", input=input, target=target)
    if input._data.dtype.kind in "iub" or target._data.dtype.kind in "iub":
        raise RuntimeError("kl_div: Integral inputs not supported.")
    batchmean = reduction == "batchmean"
    reduction = "sum" if batchmean else _reduction(reduction, size_average, reduce)
    if log_target:
        losses = target.exp() * (target - input)
    else:
        # xlogy(t, t) - t x, with 0 log 0 = 0 (the where() keeps log's argument positive there).
        is_zero = target == 0
        losses = ops.where(is_zero, 0.0, target * ops.where(is_zero, 1.0, target).log()) - target * input
    if batchmean:
        return losses.sum() / input.shape[0] if input.dim() != 0 else losses.sum()
    return _reduce(losses, reduction)


# -- multi-class classification -----------------------------------------------------------------
_CLASS_INDEX_DTYPES = (np.dtype(np.int64), np.dtype(np.uint8))

def _check_class_targets(input, target, weight, ignore_index):
    """PyTorch's checks for class-index targets: shape, dtype, weight size and index range.
    Returns whether some target may be ignored."""
    shape, target_shape = input._data.shape, target._data.shape  # arrays' shapes: no Size objects
    ndim, target_ndim = len(shape), len(target_shape)
    if ndim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {ndim})")
    if ndim >= 2 and target_shape[:1] != shape[:1]:  # checked first, as PyTorch does
        raise ValueError(f"Expected input batch_size ({shape[0]}) to match target batch_size ({target_shape[0] if target_ndim else 0}).")
    if ndim == 1 and target_ndim == 1 and target_shape[0] != 1:
        raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: {target_shape[0]}")
    if ndim <= 2 and target_ndim > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if ndim > 2:
        expected = [shape[0]] + list(shape[2:])
        if list(target_shape) != expected:
            raise RuntimeError(f"Expected target size {expected}, got {list(target_shape)}")
    if target._data.dtype not in _CLASS_INDEX_DTYPES:
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {dtypes.scalar_type_name(target.dtype)}")
    classes = shape[1 if ndim > 1 else 0]
    if weight is not None and (weight._data.ndim != 1 or weight._data.size != classes):
        raise RuntimeError(
            f"weight tensor should be defined either for all {classes} classes or no classes but got weight tensor of shape: {list(weight.shape)}"
        )
    data = target._data
    if not data.size:
        return False
    if backend.is_cuda_array(data):
        # Checked at the next synchronization (backend.check_later); without reading the targets
        # back, any of them may equal ignore_index, so the loss keeps its masks.
        outside = ((data < 0) | (data >= classes)) & (data != ignore_index)
        backend.check_later(outside.any(), lambda: _target_out_of_bounds(data, outside))
        return True
    # One reduction settles the common case: read as unsigned, a negative index is huge, so the
    # maximum is below ``classes`` exactly when every index is in range. The element-wise search
    # runs only to allow ignore_index and to name the culprit.
    in_range = int(backend.reduce_max(data.view(data.dtype.str.replace("i", "u")))) < classes
    if not in_range:
        outside = ((data < 0) | (data >= classes)) & (data != ignore_index)
        if bool(outside.any()):
            _target_out_of_bounds(data, outside)
    # Whether a target can equal ignore_index (if not, the loss need not mask anything).
    return not in_range or 0 <= ignore_index < classes


def _bce_input_out_of_range():
    raise RuntimeError("all elements of input should be between 0 and 1")


def _bce_target_out_of_range():
    raise RuntimeError("all elements of target should be between 0 and 1")


def _target_out_of_bounds(data, outside):
    first = backend.to_numpy(data[outside]).reshape(-1)[0]
    raise IndexError(f"Target {int(first)} is out of bounds.")


def _unbatched(input, target):
    """PyTorch accepts a 1-element 1-D class target for an unbatched (C,) input."""
    if input.dim() == 1 and target.dim() == 1 and target.shape[0] == 1 and target._data.dtype.kind != "f":
        return target.reshape(())
    return target


def _matching_weight(weight, input):
    if weight is None:
        return None
    if weight._data.dtype != input._data.dtype:
        raise RuntimeError(f"expected scalar type {dtypes.scalar_type_name(input.dtype)} but found {dtypes.scalar_type_name(weight.dtype)}")
    return weight.detach()


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """-w[target] input[target] (input holds log-probabilities); 'mean' divides by the summed weights."""
    if _policy.armed:
        input, target, weight = _policy.cast("nll_loss", input, target, weight)
    reduction = _reduction(reduction, size_average, reduce)
    _require_tensors("nll_loss_nd", input=input, target=target)
    _check_class_targets(input, target, weight, ignore_index)
    _floating_kernel("nll_loss_out_frame" if input.dim() <= 2 else "nll_loss2d_forward_out_frame", input)
    target = _unbatched(input, target)
    weight = _matching_weight(weight, input)
    dim = 1 if input.dim() > 1 else 0
    ignored = target == ignore_index
    safe = target.masked_fill(ignored, 0).long()
    picked = input.gather(dim, safe.unsqueeze(dim)).squeeze(dim)
    target_weight = (weight[safe] if weight is not None else creation.ones_like(picked)).masked_fill(ignored, 0.0)
    losses = -picked * target_weight
    if reduction == "none":
        return losses
    return losses.sum() / target_weight.sum() if reduction == "mean" else losses.sum()


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean", label_smoothing=0.0):
    """Cross-entropy between logits (N, C) or (N, C, d1, ...) and class indices or class probabilities.

    One fused, stable op (log_softmax and nll_loss together): see ``tinytorch._ops.nn_ops.CrossEntropy``.
    """
    if _policy.armed:
        input, target, weight = _policy.cast("cross_entropy", input, target, weight)
    reduction = _reduction(reduction, size_average, reduce)
    _require_tensors("cross_entropy_loss", input=input, target=target)
    if label_smoothing > 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing:g}")
    if not label_smoothing > 0.0:  # PyTorch smooths only for a positive value (negative or NaN: none)
        label_smoothing = 0.0
    _floating_kernel("log_softmax_lastdim_kernel_impl" if input.dim() <= 2 else "log_softmax_kernel_impl", input)
    if target._data.shape == input._data.shape:  # class probabilities, as PyTorch decides it
        if target._data.dtype.kind != "f":
            raise RuntimeError(f"Expected floating point type for target with class probabilities, got {dtypes.scalar_type_name(target.dtype)}")
        if input.dim() == 0:
            raise IndexError("Dimension specified as 1 but tensor has no dimensions")
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        classes = input.shape[1 if input.dim() > 1 else 0]
        if weight is not None and (weight._data.ndim != 1 or weight._data.size != classes):
            raise RuntimeError(
                f"cross_entropy: weight tensor should be defined either for all {classes} classes or no classes but got weight tensor of shape: {list(weight.shape)}"
            )
        if input._data.dtype != target._data.dtype:  # the loss comes out in the promoted dtype, as PyTorch's
            common = dtypes.from_numpy_dtype(np.promote_types(input._data.dtype, target._data.dtype))
            input, target = input.to(common), target.to(common)
    else:
        if not _check_class_targets(input, target, weight, ignore_index):
            ignore_index = None  # no target is ignored: the op skips its masks
        target = _unbatched(input, target)
    return nn_ops.cross_entropy(input, target, _matching_weight(weight, input), ignore_index, reduction, label_smoothing)
