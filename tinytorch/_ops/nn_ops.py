"""Fused nn primitives: the few losses whose composite form is unstable or slow, and ``Erf``.

Everything else in ``tinytorch.nn.functional`` is a composite of the core ops. Each class here
says in its docstring why it is one node instead of several.
"""

import math

import numpy as np

from .. import _backend as backend
from ..autograd.function import Function
from ..autograd.grad_mode import state as grad_state
from ._util import quiet, wrap
from .binary import where

_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


# -- erf (NumPy has none; GELU needs it) ------------------------------------------------------
def erf_array(x):
    """erf of a float array, accurate to ~1e-15 in float64 on NumPy and CuPy alike.

    On the CPU it is SciPy's erf (Cephes; measured: 2.5 ms against 50 ms for 262,144 float32
    values, the GELU of a small Transformer's feed-forward layer), imported at the first call:
    ``scipy.special`` takes 0.2 s and ~10 MB to import, which programs without GELU never pay."""
    if x.__class__ is np.ndarray:
        return backend.special_module(x).erf(x)
    return _erf_series(x)


def _erf_series(x):
    """erf from its Taylor series (|x| < 2.5) and erfc's continued fraction (beyond)."""
    xp = backend.array_module(x)
    data = x.astype(xp.float64)
    size = abs(data)
    # |x| < 2.5: erf = 2x/sqrt(pi) e^{-x^2} sum (2x^2)^n / (1*3*...*(2n+1)), all terms positive,
    # so there is no cancellation; 40 terms reach float64 precision at 2.5.
    near = xp.minimum(size, 2.5)
    square = near * near
    term = xp.ones_like(near)
    total = xp.ones_like(near)
    for n in range(1, 40):
        term = term * (2 * square) / (2 * n + 1)
        total += term
    central = _TWO_OVER_SQRT_PI * near * xp.exp(-square) * total
    # |x| >= 2.5: erfc's continued fraction, evaluated bottom-up; erf(6) is 1.0 in float64.
    far = xp.clip(size, 2.5, 6.0)
    fraction = far.copy()
    for k in range(30, 0, -1):
        fraction = far + (k / 2) / fraction
    tail = 1 - xp.exp(-far * far) / (math.sqrt(math.pi) * fraction)
    return (xp.sign(data) * xp.where(size < 2.5, central, tail)).astype(x.dtype, copy=False)


class Erf(Function):
    """erf(x), the primitive under GELU's exact form (NumPy has no erf)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return wrap(erf_array(x._data))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * (-(x * x)).exp() * _TWO_OVER_SQRT_PI


def erf(x):
    return Erf.apply(x)


# -- GELU ---------------------------------------------------------------------------------------
_SQRT_HALF = 1 / math.sqrt(2)
_SQRT_TWO_OVER_PI = math.sqrt(2 / math.pi)


class Gelu(Function):
    """x Phi(x) (Phi the standard normal CDF) or its tanh approximation, in one node.

    Fused for speed: composed it is five nodes over the activations (scale, erf, add, two
    products) forward and as many backward; a Transformer's feed-forward block has one per
    layer on its widest activations. Backward: Phi(x) + x phi(x) (exact), or the derivative of
    0.5 x (1 + tanh(u)) with u = sqrt(2/pi) (x + 0.044715 x^3).
    """

    @staticmethod
    def forward(ctx, x, approximate):
        data = x._data
        xp = backend.array_module(data)
        if approximate == "tanh":
            inner = _SQRT_TWO_OVER_PI * (data + 0.044715 * data * data * data)
            cdf = 0.5 * (1 + xp.tanh(inner))
        else:
            cdf = 0.5 * (1 + erf_array(data * _SQRT_HALF))
        ctx.save_for_backward(x)
        ctx.approximate, ctx.cdf = approximate, cdf
        return wrap((data * cdf).astype(data.dtype, copy=False))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        if grad_state.enabled:  # create_graph: the derivative as tensor ops of x
            if ctx.approximate == "tanh":
                inner = (x + x * x * x * 0.044715) * _SQRT_TWO_OVER_PI
                t = inner.tanh()
                slope = (t + 1) * 0.5 + x * 0.5 * (1 - t * t) * _SQRT_TWO_OVER_PI * (1 + x * x * (3 * 0.044715))
            else:
                slope = (erf(x * _SQRT_HALF) + 1) * 0.5 + x * (-(x * x) * 0.5).exp() * (1 / math.sqrt(2 * math.pi))
            return grad_output * slope, None
        data, cdf = x._data, ctx.cdf
        xp = backend.array_module(data)
        if ctx.approximate == "tanh":
            t = 2 * cdf - 1
            slope = cdf + data * 0.5 * (1 - t * t) * _SQRT_TWO_OVER_PI * (1 + (3 * 0.044715) * data * data)
        else:
            slope = cdf + data * xp.exp(-0.5 * data * data) * (1 / math.sqrt(2 * math.pi))
        return wrap((grad_output._data * slope).astype(data.dtype, copy=False)), None


def gelu(x, approximate):
    return Gelu.apply(x, approximate)


# -- cross-entropy ------------------------------------------------------------------------------
def _per_class(array, dim):
    """A per-element array with a class dim of 1 inserted at ``dim`` (expand_dims, without its overhead)."""
    return array.reshape(array.shape[:dim] + (1,) + array.shape[dim:])


def _class_view(shape, dim):
    """The shape that lines a per-class vector up with the class dim of an input."""
    return (shape[dim],) + (1,) * (len(shape) - dim - 1)


class CrossEntropy(Function):
    """log_softmax + nll_loss (+ class weights, ignore_index, label smoothing, soft targets) in one node.

    Fused for speed, and stable: the log-sum-exp shift keeps logits of +-1e4 finite. The forward
    keeps the softmax it computes anyway, and the gradient is one expression,
    ``(softmax * sum(a) - a) * scale`` with ``a`` the weighted, smoothed one-hot target, written
    in a single pass over the logits instead of the backward of log_softmax, gather, mul, sum
    and div. Measured forward+backward (NumPy, one thread, float32): (64, 10) logits 110 us
    fused against 250 us composed (F.log_softmax then F.nll_loss); (512, 1000) 0.97 ms against
    1.7 ms.
    Arguments are validated by ``nn.functional.cross_entropy``.
    """

    @staticmethod
    def forward(ctx, input, target, weight, ignore_index, reduction, label_smoothing):
        with quiet():  # all targets ignored: 0/0 = nan, silently, as PyTorch
            return _cross_entropy_forward(ctx, input, target, weight, ignore_index, reduction, label_smoothing)

    @staticmethod
    def backward(ctx, grad_output):
        input, target, weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        if not grad_state.enabled:
            grad_input = wrap(_cross_entropy_grad(ctx, target, weight, grad_output._data)) if needs[0] else None
            log_probs = wrap(ctx.shifted - ctx.log_normalizer) if needs[1] else None
        else:
            # create_graph: tensor ops from the input, so that the gradient is differentiable again.
            log_probs = input.log_softmax(ctx.dim)
            grad_input = None
            if needs[0]:
                coefficients = _target_coefficients(ctx, input, target, weight)
                scale = _loss_scale(ctx, grad_output)
                grad_input = (log_probs.exp() * coefficients.sum(ctx.dim, keepdim=True) - coefficients) * scale
        grad_target = None
        if needs[1]:  # soft targets: d loss / d t_c = -(1 - eps) w_c log p_c
            class_weight = 1 if weight is None else weight.reshape(_class_view(input.shape, ctx.dim))
            grad_target = log_probs * class_weight * (ctx.label_smoothing - 1) * _loss_scale(ctx, grad_output)
        return grad_input, grad_target, None, None, None, None


def _loss_scale(ctx, grad_output):
    """d(reduced loss)/d(each element's loss), shaped to broadcast against the logits."""
    if ctx.reduction == "none":
        return grad_output.unsqueeze(ctx.dim)
    return grad_output / ctx.denominator if ctx.reduction == "mean" else grad_output


def _cross_entropy_forward(ctx, input, target, weight, ignore_index, reduction, label_smoothing):
    """The loss from arrays; keeps the softmax (and, for class probabilities, the shifted logits)
    on ``ctx`` for backward."""
    data = input._data
    xp = backend.array_module(data)
    dim = 1 if data.ndim > 1 else 0
    classes = data.shape[dim]
    shifted = data - backend.max_kept(data, dim)
    class_weight = None if weight is None else weight._data.reshape(_class_view(data.shape, dim))
    soft = target._data.dtype.kind == "f"  # class probabilities
    if not soft:
        # Class indices need the shifted logits only at the targets (and, with label smoothing,
        # their sums), read here; the softmax is then computed in their array: one logits-sized
        # array fewer to allocate and keep (the word-LM decoder's (700, 10000) float32 logits:
        # 28 MB).
        index = target._data
        if ignore_index is None:  # the caller found no ignored target: no masks to build
            kept, safe = True, index
        else:
            kept = index != ignore_index
            safe = xp.where(kept, index, 0)
        rows = None
        if data.ndim == 2:  # (N, C): plain fancy indexing is several times cheaper than take_along_axis
            rows = xp.arange(data.shape[0])
            picked = shifted[rows, safe]
        else:
            picked = xp.take_along_axis(shifted, xp.expand_dims(safe, dim), axis=dim).squeeze(dim)
        if label_smoothing:
            smooth_sum = (shifted if class_weight is None else shifted * class_weight).sum(axis=dim)
        probs, shifted = backend.unary(np.exp, shifted, out=shifted), None
    else:
        probs = xp.exp(shifted)
    total = backend.sum_kept(probs, dim)
    probs /= total
    log_normalizer = xp.log(total)  # log p = shifted - log_normalizer
    if soft:
        coefficients = _soft_coefficients(target._data, class_weight, label_smoothing, classes)
        losses = log_normalizer.squeeze(dim) * coefficients.sum(axis=dim) - (shifted * coefficients).sum(axis=dim)
        denominator = losses.size
    else:
        nll = log_normalizer.squeeze(dim) - picked
        # The weight of each element's loss: w[target], 0 where ignored (None: all 1).
        if weight is not None:
            target_weight = xp.where(kept, weight._data[safe], 0)
        else:
            target_weight = None if kept is True else kept.astype(data.dtype)
        ctx.rows, ctx.kept, ctx.safe, ctx.target_weight = rows, kept, safe, target_weight
        losses = nll if target_weight is None else nll * target_weight
        if label_smoothing:
            losses *= 1 - label_smoothing
            weight_total = classes if weight is None else weight._data.sum()
            smooth = log_normalizer.squeeze(dim) * weight_total - smooth_sum
            losses = losses + xp.where(kept, smooth, 0) * (label_smoothing / classes)
        denominator = nll.size if target_weight is None else backend.reduce_sum(target_weight)
    ctx.save_for_backward(input, target, weight)
    ctx.probs, ctx.shifted, ctx.log_normalizer = probs, shifted, log_normalizer
    ctx.dim, ctx.denominator = dim, denominator
    ctx.ignore_index, ctx.reduction, ctx.label_smoothing = ignore_index, reduction, label_smoothing
    if reduction == "none":
        return wrap(losses.astype(data.dtype, copy=False))
    loss = backend.reduce_sum(losses)
    return wrap(xp.asarray(loss / denominator if reduction == "mean" else loss, dtype=data.dtype))


def _soft_coefficients(probs, class_weight, smoothing, classes):
    if smoothing:
        probs = probs * (1 - smoothing) + smoothing / classes
    return probs if class_weight is None else probs * class_weight


def _cross_entropy_grad(ctx, target, weight, grad_output):
    """softmax * sum(a) - a, times d(loss)/d(each element's loss), from arrays in one pass over
    the logits (``a``: the weighted, smoothed target distribution of each element)."""
    probs, dim, smoothing = ctx.probs, ctx.dim, ctx.label_smoothing
    xp = backend.array_module(probs)
    classes = probs.shape[dim]
    # Per element: 0-d for 'mean' and 'sum', the element shape for 'none'.
    scale = grad_output / ctx.denominator if ctx.reduction == "mean" else grad_output
    class_weight = None if weight is None else weight._data.reshape(_class_view(probs.shape, dim))
    if target._data.dtype.kind == "f":
        coefficients = _soft_coefficients(target._data, class_weight, smoothing, classes)
        coefficients = coefficients * (_per_class(scale, dim) if scale.ndim else scale)
        return probs * coefficients.sum(axis=dim, keepdims=True) - coefficients
    # Class indices: a = (1 - eps) w[t] at the target class, plus eps/C * w_c everywhere;
    # ignored elements have a = 0 (their target_weight and kept are 0; kept is True when none is).
    hit = scale if ctx.target_weight is None else ctx.target_weight * scale
    if smoothing:
        hit = hit * (1 - smoothing)
        spread = ctx.kept * scale * (smoothing / classes)
        total = hit + spread * (classes if weight is None else weight._data.sum())
    else:
        total = hit
    grad = probs * _per_class(total, dim)
    # Subtract the one-hot part at each element's target class (one position per element).
    if probs.ndim == 2:
        grad[ctx.rows, ctx.safe] -= hit
    else:
        positions = list(xp.indices(ctx.safe.shape))
        positions.insert(dim, ctx.safe)
        grad[tuple(positions)] -= hit
    if smoothing:
        grad -= _per_class(spread, dim) * (1 if class_weight is None else class_weight)
    return grad.astype(probs.dtype, copy=False)


def _target_coefficients(ctx, input, target, weight):
    """``a`` with loss = -sum_c a_c log p_c per element: the weighted, smoothed target distribution."""
    dim, smoothing = ctx.dim, ctx.label_smoothing
    shape = input.shape
    classes = shape[dim]
    if target._data.dtype.kind == "f":
        probs = target * (1 - smoothing) + smoothing / classes if smoothing else target
        return probs if weight is None else probs * weight.reshape(_class_view(shape, dim))
    data = input._data
    xp = backend.array_module(data)
    index = xp.expand_dims(target._data, dim)
    kept = True if ctx.ignore_index is None else index != ctx.ignore_index
    one_hot = xp.arange(classes).reshape(_class_view(shape, dim)) == index
    class_weight = xp.ones(_class_view(shape, dim), dtype=data.dtype) if weight is None else weight._data.reshape(_class_view(shape, dim))
    # The one-hot part carries w[target]; the smoothing part spreads eps/C over every class.
    coefficients = xp.where(one_hot & kept, class_weight * (1 - smoothing), 0)
    if smoothing:
        coefficients = coefficients + xp.where(kept, class_weight * (smoothing / classes), 0)
    return wrap(coefficients.astype(data.dtype, copy=False))


def cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing):
    return CrossEntropy.apply(input, target, weight, ignore_index, reduction, label_smoothing)


# -- binary cross-entropy -----------------------------------------------------------------------
def _reduce(losses, reduction):
    if reduction == "none":
        return losses
    return losses.mean() if reduction == "mean" else losses.sum()


def _scale(grad_output, reduction, count, shape):
    """d(reduced loss)/d(each loss), at the losses' (broadcast) shape, so that every input's
    gradient can be summed down to that input's shape."""
    if reduction == "none":
        return grad_output
    return (grad_output / count if reduction == "mean" else grad_output).expand(shape)


class BinaryCrossEntropyWithLogits(Function):
    """-w [pos_weight t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))] from logits, in one node.

    Fused for stability: written as (1 - t) x + lw softplus(-x) with softplus(-x) =
    log1p(exp(-|x|)) + max(-x, 0), it never takes log(0) or exp of a large number, so logits of
    +-1e4 give finite losses and gradients (sigmoid followed by BCELoss gives inf/nan there).
    The gradient is lw sigmoid(x) - pos_weight t.
    """

    @staticmethod
    def forward(ctx, input, target, weight, pos_weight, reduction):
        x, t = input._data, target._data
        xp = backend.array_module(x)
        softplus = xp.log1p(xp.exp(-abs(x))) + xp.maximum(-x, 0)
        if pos_weight is None:
            losses = (1 - t) * x + softplus
        else:
            losses = (1 - t) * x + ((pos_weight._data - 1) * t + 1) * softplus
        if weight is not None:
            losses = losses * weight._data
        ctx.save_for_backward(input, target, weight, pos_weight)
        ctx.reduction, ctx.count, ctx.shape = reduction, losses.size, losses.shape
        return wrap(_reduce(losses, reduction).astype(x.dtype, copy=False))

    @staticmethod
    def backward(ctx, grad_output):
        input, target, weight, pos_weight = ctx.saved_tensors
        unweighted = _scale(grad_output, ctx.reduction, ctx.count, ctx.shape)
        scale = unweighted if weight is None else unweighted * weight
        needs = ctx.needs_input_grad
        grad_input = grad_target = grad_weight = grad_pos_weight = None
        softplus = None
        if needs[1] or needs[2] or needs[3]:
            softplus = _softplus_of_negative(input)
        if needs[0]:
            if pos_weight is None:
                grad_input = (input.sigmoid() - target) * scale
            else:
                grad_input = (((pos_weight - 1) * target + 1) * input.sigmoid() - pos_weight * target) * scale
        if needs[1]:
            grad_target = (-input if pos_weight is None else (pos_weight - 1) * softplus - input) * scale
        if needs[2]:
            log_weight = 1 if pos_weight is None else (pos_weight - 1) * target + 1
            grad_weight = ((1 - target) * input + log_weight * softplus) * unweighted
        if needs[3]:
            grad_pos_weight = target * softplus * scale
        return grad_input, grad_target, grad_weight, grad_pos_weight, None


def _softplus_of_negative(x):
    """log(1 + exp(-x)) with tensor ops, without overflow and without |x| (whose kink would
    give a wrong second derivative at 0)."""
    return where(x < 0, x.clamp(max=0).exp().log1p() - x, (-x.clamp(min=0)).exp().log1p())


class BinaryCrossEntropy(Function):
    """-w [t log x + (1 - t) log(1 - x)] on probabilities, logs clamped at -100 as PyTorch.

    Fused for stability at x in {0, 1}: composed from clamp(log(x)) the gradient there is
    0 * (1/0) = nan; PyTorch's formula, w (x - t) / max(x (1 - x), 1e-12), stays finite.
    """

    @staticmethod
    def forward(ctx, input, target, weight, reduction):
        x, t = input._data, target._data
        xp = backend.array_module(x)
        with quiet():  # log(0) = -inf before the clamp, silently
            log_x = xp.maximum(xp.log(x), -100)
            log_rest = xp.maximum(xp.log1p(-x), -100)
        losses = -(t * log_x + (1 - t) * log_rest)
        if weight is not None:
            losses = losses * weight._data
        ctx.save_for_backward(input, target, weight)
        ctx.reduction, ctx.count, ctx.shape = reduction, losses.size, losses.shape
        return wrap(_reduce(losses, reduction).astype(x.dtype, copy=False))

    @staticmethod
    def backward(ctx, grad_output):
        input, target, weight = ctx.saved_tensors
        scale = _scale(grad_output, ctx.reduction, ctx.count, ctx.shape)
        if weight is not None:
            scale = scale * weight
        grad_input = grad_target = None
        if ctx.needs_input_grad[0]:
            grad_input = (input - target) / (input * (1 - input)).clamp(min=1e-12) * scale
        if ctx.needs_input_grad[1]:
            grad_target = ((-input).log1p().clamp(min=-100) - input.log().clamp(min=-100)) * scale
        return grad_input, grad_target, None, None


def binary_cross_entropy_with_logits(input, target, weight, pos_weight, reduction):
    return BinaryCrossEntropyWithLogits.apply(input, target, weight, pos_weight, reduction)


def binary_cross_entropy(input, target, weight, reduction):
    return BinaryCrossEntropy.apply(input, target, weight, reduction)


__all__ = [
    "BinaryCrossEntropy", "BinaryCrossEntropyWithLogits", "CrossEntropy", "Erf", "Gelu",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "erf",
    "erf_array", "gelu",
]
