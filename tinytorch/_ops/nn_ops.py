"""Fused nn primitives: the few losses whose composite form is unstable or slow, ``Erf``, and the
activations whose PyTorch kernels a composite cannot follow at NaN and +-inf (GELU, the ELU
family, hardswish, hardsigmoid).

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
# PyTorch's constants, from the same C macros (M_SQRT1_2 is one ulp above 1 / math.sqrt(2)).
_M_SQRT2 = 1.41421356237309504880
_M_2_SQRTPI = 1.12837916709551257390
_M_SQRT1_2 = 0.707106781186547524401
_SQRT_HALF = _M_SQRT1_2
_SQRT_TWO_OVER_PI = _M_SQRT2 * _M_2_SQRTPI * 0.5  # kBeta of the tanh form
_ONE_OVER_SQRT_TWO_PI = _M_2_SQRTPI * _M_SQRT1_2 * 0.5  # kBeta of the exact form's pdf
_KAPPA = 0.044715


class Gelu(Function):
    """x Phi(x) (Phi the standard normal CDF) or its tanh approximation, in one node.

    Fused for speed: composed it is five nodes over the activations (scale, erf, add, two
    products) forward and as many backward; a Transformer's feed-forward block has one per
    layer on its widest activations. Backward: Phi(x) + x phi(x) (exact), or the derivative of
    0.5 x (1 + tanh(u)) with u = sqrt(2/pi) (x + 0.044715 x^3).

    Each expression is evaluated in the order of PyTorch's scalar kernels (GeluKernelImpl and
    GeluBackwardKernelImpl in aten/src/ATen/native/cpu/Activation.cpp and Gelu.h), in the
    tensor's dtype, so float32 results round as PyTorch's do. The exact form's erf is SciPy's
    (correctly rounded in float32): PyTorch's CPU kernel gives the same for the elements its
    scalar loop takes, while its vectorized loop uses a polynomial erf whose last-bit error the
    cancellation in 1 + erf(x / sqrt 2) magnifies for x < 0 (gelu(-3) in float32: -0.00404969 here
    and from PyTorch's scalar loop, -0.00404987 from its vector loop; exact -0.004049694).
    At +-inf and NaN: gelu(inf) = inf, gelu(-inf) = -inf * 0 = NaN, gradients NaN, silently.
    """

    @staticmethod
    def forward(ctx, x, approximate):
        data = x._data
        xp = backend.array_module(data)
        shape = data.shape
        if data.ndim == 0:  # NumPy's arithmetic on a 0-d array gives a scalar, not erf_array's ndarray
            data = data.reshape(1)
        with quiet():  # -inf * 0 and inf * 0 are NaN, silently as in PyTorch
            # (Chained expressions: NumPy reuses their temporaries, where in-place steps on named
            # arrays measured several times slower here.)
            if approximate == "tanh":
                tanh_inner = xp.tanh(_SQRT_TWO_OVER_PI * (data + _KAPPA * (data * data * data)))
                out = (0.5 * data) * (1 + tanh_inner)
                ctx.tanh_inner = tanh_inner  # kept for the backward, as the exact form's cdf
            else:
                cdf = 0.5 * (1 + erf_array(data * _SQRT_HALF))
                out = data * cdf
                ctx.cdf = cdf
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        return wrap(out.reshape(shape).astype(data.dtype, copy=False))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        if grad_state.enabled:  # create_graph: the derivative as tensor ops of x
            if ctx.approximate == "tanh":
                inner = (x + x * x * x * _KAPPA) * _SQRT_TWO_OVER_PI
                t = inner.tanh()
                slope = (t + 1) * 0.5 + x * 0.5 * (1 - t * t) * _SQRT_TWO_OVER_PI * (1 + x * x * (3 * _KAPPA))
            else:
                slope = (erf(x * _SQRT_HALF) + 1) * 0.5 + x * (-(x * x) * 0.5).exp() * _ONE_OVER_SQRT_TWO_PI
            return grad_output * slope, None
        data = x._data
        xp = backend.array_module(data)
        shape = data.shape
        if data.ndim == 0:
            data = data.reshape(1)
        kind = data.dtype.type
        with quiet():  # inf * 0 in x * pdf and at the tanh form's +-inf
            if ctx.approximate == "tanh":
                # dy * (0.5 (1 + t) + 0.5 x (1 - t^2) kBeta (1 + 3 kKappa x^2)), PyTorch's order
                # (3 kKappa is rounded to the dtype first, as its scalar_t(3) * kKappa).
                t = ctx.tanh_inner
                three_kappa = kind(3) * kind(_KAPPA)
                slope = (0.5 * data) * (1 - t * t) * (_SQRT_TWO_OVER_PI * (1 + three_kappa * (data * data))) + 0.5 * (1 + t)
            else:
                # dy * (cdf + x * kBeta exp(-x^2 / 2)).
                slope = ctx.cdf + data * (_ONE_OVER_SQRT_TWO_PI * xp.exp(data * data * -0.5))
            slope = grad_output._data.reshape(slope.shape) * slope
        return wrap(slope.reshape(shape).astype(data.dtype, copy=False)), None


def gelu(x, approximate):
    return Gelu.apply(x, approximate)


# -- ELU, hardswish, hardsigmoid ----------------------------------------------------------------
def _opmath(data):
    """``data`` in the dtype PyTorch's CPU kernels compute it in (float16 in float32, its opmath_t),
    and at least 1-d: NumPy's arithmetic on a 0-d array gives a scalar, which ``out=`` refuses."""
    if data.dtype.itemsize < 4:
        data = data.astype(np.float32)
    return data.reshape(1) if data.ndim == 0 else data


def _result(array, like):
    """``array`` (computed by ``_opmath``'s rules) as a tensor of ``like``'s shape and dtype."""
    return wrap(array.reshape(like.shape).astype(like.dtype, copy=False))


class Elu(Function):
    """PyTorch's ELU kernel, the one under ``elu``, ``selu`` and ``celu``:
    forward  x < 0 ? expm1(x input_scale) alpha scale : x scale (Elu.h),
    backward x <= 0 ? grad input_scale (alpha scale) exp(x input_scale) : grad scale
    (elu_backward_kernel with is_result=false, aten/src/ATen/native/cpu/Activation.cpp).

    One node rather than a composite of clamp, expm1 and where, for PyTorch's values:
    NaN takes the linear branch of the backward (the gradient is ``scale``, where the composite's
    discarded exponential branch gave NaN), and below 0 the slope is exp(x) itself, not the
    expm1 result + 1 (that loses everything below about -17 in float32: elu'(-25) = 1.4e-11,
    not 0). The coefficients are rounded to the tensor's dtype and multiplied there, as the
    kernel's ``alpha.to<scalar_t>() * scale.to<scalar_t>()``.
    """

    @staticmethod
    def forward(ctx, x, alpha, scale, input_scale):
        data = x._data
        xp = backend.array_module(data)
        work = _opmath(data)
        kind = work.dtype.type
        negcoef, poscoef, negiptcoef = kind(alpha) * kind(scale), kind(scale), kind(input_scale)
        with quiet():  # expm1 of a large x * input_scale < 0 overflows to -inf silently (alpha < 0)
            # min(x, 0): the branch where() drops is expm1(0) = 0, never an overflow; NaN stays NaN.
            negative = xp.minimum(work, 0)
            if negiptcoef != 1:
                negative *= negiptcoef
            xp.expm1(negative, out=negative)
            if negcoef != 1:
                negative *= negcoef
            out = xp.where(work < 0, negative, work * poscoef if poscoef != 1 else work)
        ctx.save_for_backward(x)
        ctx.coefficients = (negcoef, poscoef, negiptcoef)
        return _result(out, data)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        negcoef, poscoef, negiptcoef = ctx.coefficients
        if grad_state.enabled:  # create_graph: the same formula as tensor ops of x
            slope = (x.clamp(max=0) * float(negiptcoef)).exp() * float(negiptcoef * negcoef)
            return where(x <= 0, grad_output * slope, grad_output * float(poscoef)), None, None, None
        data = x._data
        xp = backend.array_module(data)
        work, grad = _opmath(data), _opmath(grad_output._data)
        with quiet():
            negative = xp.minimum(work, 0)  # exp(x input_scale) for x <= 0; exp(0) where() drops
            if negiptcoef != 1:
                negative *= negiptcoef
            xp.exp(negative, out=negative)
            # grad * negiptcoef * negcoef * exp(...), multiplied in that order (by 1 is exact, skipped)
            factor = grad * negiptcoef if negiptcoef != 1 else grad
            if negcoef != 1:
                factor = factor * negcoef
            negative *= factor
            result = xp.where(work <= 0, negative, grad * poscoef if poscoef != 1 else grad)
        return _result(result, data), None, None, None


def elu(x, alpha, scale=1.0, input_scale=1.0):
    return Elu.apply(x, alpha, scale, input_scale)


def _relu6_shifted(xp, work):
    """min(max(x + 3, 0), 6), hardswish's and hardsigmoid's common factor, as a new array (NaN
    propagates through maximum and minimum)."""
    out = work + 3
    xp.maximum(out, 0, out=out)
    xp.minimum(out, 6, out=out)
    return out


class Hardswish(Function):
    """PyTorch's hardswish kernels (aten/src/ATen/native/cpu/Activation.cpp):
    forward  x * min(max(x + 3, 0), 6) / 6, so hardswish(-inf) = -inf * 0 = NaN;
    backward x <= -3 ? 0 : x < 3 ? grad (x / 3 + 1/2) : grad, so NaN and +inf pass the gradient
    and -inf gets 0. One node: the composite's where() branches turned inf into NaN gradients.
    """

    @staticmethod
    def forward(ctx, x):
        data = x._data
        xp = backend.array_module(data)
        work = _opmath(data)
        with quiet():  # -inf * 0 is NaN, silently (PyTorch's)
            out = _relu6_shifted(xp, work)
            out *= work
            out /= 6
        ctx.save_for_backward(x)
        return _result(out, data)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        if grad_state.enabled:  # create_graph: clamped so the discarded branch stays finite at +-inf
            middle = grad_output * (x.clamp(-3, 3) / 3 + 0.5)
            return where(x <= -3, 0, where(x < 3, middle, grad_output))
        data = x._data
        xp = backend.array_module(data)
        work, grad = _opmath(data), _opmath(grad_output._data)
        with quiet():
            middle = work / 3
            middle += 0.5
            middle *= grad
            result = xp.where(work < 3, middle, grad)
            result = xp.where(work <= -3, 0, result)
        return _result(result, data)


class Hardsigmoid(Function):
    """PyTorch's hardsigmoid kernels (aten/src/ATen/native/cpu/Activation.cpp):
    forward min(max(x + 3, 0), 6) / 6 (NaN stays NaN); backward -3 < x < 3 ? grad / 6 : 0, so NaN
    gets 0. One node: no composite gives a NaN value a zero gradient. The slope is 1/6 in the
    tensor's dtype (PyTorch's kernel multiplies by the float32 1.0f / 6.0f even in float64; see
    docs/differences.md).
    """

    @staticmethod
    def forward(ctx, x):
        data = x._data
        xp = backend.array_module(data)
        work = _opmath(data)
        out = _relu6_shifted(xp, work)
        out /= 6
        ctx.save_for_backward(x)
        return _result(out, data)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        data = x._data
        xp = backend.array_module(data)
        work = _opmath(data)
        one_sixth = work.dtype.type(1 / 6)
        inside = (work > -3) & (work < 3)
        if grad_state.enabled:  # create_graph: a constant slope, differentiable in grad_output only
            return grad_output * _result(inside * one_sixth, data)
        grad = _opmath(grad_output._data)
        return _result(xp.where(inside, grad * one_sixth, 0), data)


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
        # All targets ignored: 0/0 = nan, silently, as PyTorch (Function.apply runs it quiet).
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
    "BinaryCrossEntropy", "BinaryCrossEntropyWithLogits", "CrossEntropy", "Elu", "Erf", "Gelu", "Hardsigmoid",
    "Hardswish", "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "elu", "erf",
    "erf_array", "gelu",
]
