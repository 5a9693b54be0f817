"""The margin and embedding losses of ``nn.functional`` (re-exported there): PyTorch's argument
checks and messages, then composites of core ops whose gradients are PyTorch's, kinks included
(``clamp(min=0)`` passes the gradient at the kink where PyTorch's composite uses ``clamp_min``;
``relu`` does not, where PyTorch's kernel tests ``z > 0``)."""

import numpy as np

from .. import _backend as backend, _creation as creation, _dtypes as dtypes, _ops as ops
from .._ops.distance import pairwise_distance
from .._tensor import Tensor
from ..autograd.grad_mode import state as grad_state
from .._ops._util import check_broadcast
from ._functional_losses import _check_weight_broadcasts, _reduce, _reduction

_EPSILON = 1e-12  # PyTorch's cosine_embedding_loss adds it to the squared norms


def _not_differentiable(function, name, tensor):
    """PyTorch's kernels that take no gradient for an argument refuse one that requires it."""
    if grad_state.enabled and tensor is not None and tensor.requires_grad:
        raise RuntimeError(
            f"The function '{function}' is not differentiable with respect to argument '{name}'. This input cannot have requires_grad True."
        )


def _size(t):
    return list(t._data.shape)


# -- pairs and embeddings -----------------------------------------------------------------------
def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """max(0, -target (input1 - input2) + margin): ``target`` (1 or -1) says which input should rank higher."""
    reduction = _reduction(reduction, size_average, reduce)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(
            f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {input1.size()}, input2: {input2.size()}, target: {target.size()} "
        )
    check_broadcast(input1._data.shape, input2._data.shape)
    check_broadcast(target._data.shape, np.broadcast_shapes(input1._data.shape, input2._data.shape))
    return _reduce((-target * (input1 - input2) + float(margin)).clamp(min=0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """``input`` where target is 1, max(0, margin - input) where it is -1 (``input`` a distance)."""
    reduction = _reduction(reduction, size_average, reduce)
    check_broadcast(target._data.shape, input._data.shape)
    if input._data.dtype.kind in "iub":  # PyTorch fills the margin into a tensor of the input's dtype
        below_margin = creation.full_like(input, margin) - input
    else:
        below_margin = float(margin) - input
    losses = ops.where(target != 1, below_margin.clamp(min=0), 0) + ops.where(target != -1, input, 0)
    return _reduce(losses, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-target input)), the logistic loss of a two-class ``target`` of 1 and -1."""
    reduction = _reduction(reduction, size_average, reduce)
    _not_differentiable("soft_margin_loss", "target", target)
    _check_weight_broadcasts(target, input)  # the loss has the input's shape: the target broadcasts to it
    if input._data.dtype.kind != "f":
        raise RuntimeError(
            f"result type {dtypes.scalar_type_name(np.dtype(dtypes.default_float_numpy()))} can't be cast to the desired output type "
            f"{dtypes.scalar_type_name(input._data.dtype)}"
        )
    # PyTorch's formula as written: log1p(exp(z)), inf where exp overflows (its kernel's values).
    losses = (-input * target.to(input.dtype)).exp().log1p()
    return _reduce(losses, reduction)


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """1 - cos(input1, input2) where target is 1, max(0, cos - margin) where it is -1."""
    reduction = _reduction(reduction, size_average, reduce)
    target_dim = target.dim()
    if target_dim not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if input1.dim() != target_dim + 1 or input2.dim() != target_dim + 1:
        raise RuntimeError(
            f"{target_dim}D target tensor expects {target_dim + 1}D input tensors, but found inputs with sizes "
            f"{_size(input1)} and {_size(input2)}."
        )
    check_broadcast(input1._data.shape, input2._data.shape)
    products = (input1 * input2).sum(target_dim)
    squared1 = (input1 * input1).sum(target_dim) + _EPSILON
    squared2 = (input2 * input2).sum(target_dim) + _EPSILON
    cos = products / (squared1 * squared2).sqrt()
    check_broadcast(target._data.shape, cos._data.shape)
    losses = ops.where(target == 1, 1 - cos, 0) + ops.where(target == -1, (cos - float(margin)).clamp(min=0), 0)
    return _reduce(losses, reduction)


def _check_margin(margin):
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")


def _check_triplet_dims(anchor, positive, negative):
    dims = anchor.dim(), positive.dim(), negative.dim()
    if not dims[0] == dims[1] == dims[2]:
        raise RuntimeError(
            "The anchor, positive, and negative tensors are expected to have the same number of dimensions, but got: "
            f"anchor {dims[0]}D, positive {dims[1]}D, and negative {dims[2]}D inputs"
        )


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None, reduce=None,
                        reduction="mean"):
    """max(0, margin + d(anchor, positive) - d(anchor, negative)) with d the pairwise p-norm
    distance; ``swap`` takes d(positive, negative) instead where it is smaller."""
    reduction = _reduction(reduction, size_average, reduce)
    _check_margin(margin)
    _check_triplet_dims(anchor, positive, negative)
    return _triplet(anchor, positive, negative, lambda x1, x2: pairwise_distance(x1, x2, p, eps), margin, swap, reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0, swap=False,
                                      reduction="mean"):
    """The triplet margin loss with any ``distance_function(x1, x2)`` (default: pairwise_distance)."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    _check_margin(margin)
    _check_triplet_dims(anchor, positive, negative)
    return _triplet(anchor, positive, negative, distance_function or pairwise_distance, margin, swap, reduction)


def _triplet(anchor, positive, negative, distance, margin, swap, reduction):
    positive_distance = distance(anchor, positive)
    negative_distance = distance(anchor, negative)
    if swap:  # Balntas et al.: the positive may be nearer the negative than the anchor is
        negative_distance = ops.minimum(negative_distance, distance(positive, negative))
    return _reduce((margin + positive_distance - negative_distance).clamp(min=0), reduction)


# -- multi-class and multi-label ----------------------------------------------------------------
def _frames(input):
    """(samples, classes) of a (C,), (N, C) or 0-d input, with PyTorch's check of its shape."""
    shape = input._data.shape
    if not ((len(shape) == 2 and shape[1] != 0) or (len(shape) == 1 and shape[0] != 0) or len(shape) == 0):
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch size, but got: {list(shape)}")
    if len(shape) <= 1:
        return 1, shape[0] if shape else 1
    return shape


def _floating_kernel(kernel, input):
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f'"{kernel}" not implemented for \'{dtypes.scalar_type_name(input._data.dtype)}\'')


def _long_target(target):
    if target._data.dtype != np.int64:
        raise RuntimeError(f"expected scalar type Long but found {dtypes.scalar_type_name(target._data.dtype)}")


def _target_out_of_range(message):
    def fail():
        raise RuntimeError(message)
    return fail


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction="mean"):
    """The multi-class hinge loss: sum over classes i != y of max(0, margin - x[y] + x[i])^p,
    times weight[y], over the class count."""
    reduction = _reduction(reduction, size_average, reduce)
    if p != 1 and p != 2:
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    _not_differentiable("multi_margin_loss", "weight", weight)
    samples, classes = _frames(input)
    if target._data.ndim > 1 or target._data.size != samples:
        raise RuntimeError(
            "multi_margin_loss: target tensor should be 1-D with size equal to the number of input samples (batch size). "
            f"Expected target size [{samples}], but got {_size(target)}. Input has shape {_size(input)}."
        )
    if weight is not None and weight._data.size != classes:
        raise RuntimeError(f"inconsistent weight size, expected {classes} but got {_size(weight)}")
    _floating_kernel("multi_margin_loss_cpu_kernel", input)
    _long_target(target)
    if weight is not None and weight._data.dtype != input._data.dtype:
        raise RuntimeError(f"expected scalar type {dtypes.scalar_type_name(input._data.dtype)} but found {dtypes.scalar_type_name(weight._data.dtype)}")
    index = target._data.reshape(samples, 1)
    if index.size:
        backend.check_later(((index < 0) | (index >= classes)).any(), _target_out_of_range("target out of range"))
    xp = backend.array_module(index)
    index = Tensor._make(xp.clip(index, 0, classes - 1))  # in range for the gather, whatever the check finds later
    scores = input.reshape(samples, classes)
    # NOTE: z > 0 strictly, as PyTorch's kernel: relu's gradient at the kink is 0.
    hinge = (float(margin) - scores.gather(1, index) + scores).relu()
    if p == 2:
        hinge = hinge * hinge
    if weight is not None:
        hinge = hinge * weight.detach()[index]
    is_target = Tensor._make(xp.arange(classes) == index._data)
    losses = ops.where(is_target, 0, hinge).sum(1) / classes
    if target._data.ndim == 0:
        losses = losses.reshape(())
    return _reduce(losses, reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """For each target class j (the leading indices of ``target`` up to the first -1) and each
    other class i: max(0, 1 - x[j] + x[i]), summed, over the class count."""
    reduction = _reduction(reduction, size_average, reduce)
    samples, classes = _frames(input)
    tshape = target._data.shape
    if input._data.ndim <= 1:
        consistent = len(tshape) <= 1 and target._data.size == classes
    else:
        consistent = len(tshape) == 2 and tuple(tshape) == (samples, classes)
    if not consistent:
        raise RuntimeError(f"inconsistent target size: {list(tshape)} for input of size: {_size(input)}")
    labels = target._data.reshape(samples, classes)
    if labels.size:
        backend.check_later(((labels < -1) | (labels >= classes)).any(), _target_out_of_range("argument #2 'target' is out of range"))
    _floating_kernel("multilabel_margin_loss_forward_out_frame", input)
    _long_target(target)
    xp = backend.array_module(labels)
    # The targets of a sample are its leading indices up to the first negative one.
    listed = (labels < 0).cumsum(axis=1) == 0
    index = xp.where(listed, labels, 0).clip(0, classes - 1)
    is_target = xp.zeros((samples, classes + 1), dtype=bool)  # the last column takes the unlisted slots
    is_target[xp.arange(samples)[:, None], xp.where(listed, index, classes)] = True
    counted = Tensor._make(listed[:, :, None] & ~is_target[:, None, :classes])
    scores = input.reshape(samples, classes)
    picked = scores.gather(1, Tensor._make(index))
    # NOTE: z > 0 strictly, as PyTorch's kernel: relu's gradient at the kink is 0.
    hinge = (1 - picked.unsqueeze(2) + scores.unsqueeze(1)).relu()
    losses = ops.where(counted, hinge, 0).sum((1, 2)) / classes
    if target._data.ndim <= 1:
        losses = losses.reshape(())
    return _reduce(losses, reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Binary cross-entropy of sigmoid(input) against each label of ``target`` (0 or 1), averaged over classes."""
    if size_average is not None or reduce is not None:
        reduction = _reduction(reduction, size_average, reduce)
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"\"log_sigmoid_cpu\" not implemented for '{dtypes.scalar_type_name(input._data.dtype)}'")
    # -(t log sigmoid(x) + (1 - t) log sigmoid(-x)), with -log sigmoid(x) = log(1 + e^-x) = logaddexp(0, -x): no overflow
    zero = input.new_zeros(())
    losses = target * ops.logaddexp(-input, zero) + (1 - target) * ops.logaddexp(input, zero)
    if weight is not None:
        losses = losses * weight
    class_dim = input.dim() - 1
    losses = losses.sum(class_dim) / input.size(class_dim)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    return _reduce(losses, reduction)

