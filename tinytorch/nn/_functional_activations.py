"""``nn.functional``'s activations beyond the core ones (SELU, CELU, GLU, the hard and shrink
families, Mish, RReLU, PReLU, thresholds), the in-place ``xxx_`` forms, and the alpha dropouts.

Composites of existing ops; the functions torch also has at its top level live in
``tinytorch._ops.activations`` and are re-exported here under their ``nn.functional`` names.
``nn/functional.py`` re-exports this module's public names.
"""

import warnings

import numpy as np

from .._dtypes import scalar_type_name
from .._ops import activations as _activations, nn_ops as _nn_ops
from .._ops._util import normalize_dim
from .._ops.activations import (
    _elu, _hardtanh, _leaky_relu, _real_floating_only, celu_, hardshrink, prelu, relu_, rrelu_, selu_, threshold_,
)
from .._creation import empty_like as _empty_like, zeros_like as _zeros_like
from .._ops.binary import where
from .._ops.indexing import inplace as _inplace

__all__ = [
    "alpha_dropout", "celu", "celu_", "elu_", "feature_alpha_dropout", "glu", "gumbel_softmax", "hardshrink", "hardsigmoid",
    "hardswish", "hardtanh_", "leaky_relu_", "mish", "prelu", "relu_", "rrelu", "rrelu_", "selu", "selu_",
    "softshrink", "softsign", "tanhshrink", "threshold", "threshold_",
]


def _maybe_inplace(input, inplace, fn, *args):
    return _inplace(input, fn, *args) if inplace else fn(input, *args)


# -- the ELU family and the in-place forms of the core activations ------------------------------
def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, alpha (exp(x / alpha) - 1))."""
    return _activations.celu_(input, alpha) if inplace else _activations.celu(input, alpha)


def selu(input, inplace=False):
    """scale (max(0, x) + min(0, alpha (exp(x) - 1))), alpha ~ 1.6733 and scale ~ 1.0507."""
    return _activations.selu_(input) if inplace else _activations.selu(input)


def elu_(input, alpha=1.0):
    """``elu`` written into ``input``."""
    _real_floating_only("elu_cpu", input)
    return _inplace(input, _elu, alpha)


def leaky_relu_(input, negative_slope=0.01):
    """``leaky_relu`` written into ``input``."""
    _real_floating_only("leaky_relu_cpu", input)
    return _inplace(input, _leaky_relu, negative_slope)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    """``hardtanh`` written into ``input`` (like PyTorch's, no check that min_val <= max_val)."""
    kind = input._data.dtype.kind
    if kind == "b":
        raise RuntimeError("Bool inputs not supported for hardtanh")
    if kind == "c":
        raise NotImplementedError("clamp is not supported for complex types")
    if kind == "u" and (min_val < 0 or max_val < 0):
        raise RuntimeError("cannot do hardtanh on an unsigned type with negative limits")
    return _inplace(input, _hardtanh, min_val, max_val)


# -- gated, hard and smooth ---------------------------------------------------------------------
def glu(input, dim=-1):
    """a * sigmoid(b), where a and b are the two halves of ``input`` along ``dim``."""
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    dim = normalize_dim(dim, input.dim())
    size = input.shape[dim]
    if size % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim} is size {size}")
    _real_floating_only("glu_cpu", input)
    half = size // 2
    return input.narrow(dim, 0, half) * input.narrow(dim, half, half).sigmoid()


def _hardsigmoid(input):
    # NOTE: ±3 fall on the flat sides, so the gradient there is 0 (PyTorch's: 1/6 only on (-3, 3));
    # NaN gets 0 too. One fused node (``nn_ops.Hardsigmoid``).
    return _nn_ops.Hardsigmoid.apply(input)


def hardsigmoid(input, inplace=False):
    """0 for x <= -3, 1 for x >= 3, x / 6 + 1 / 2 between."""
    _real_floating_only("hardsigmoid_cpu", input)
    return _maybe_inplace(input, inplace, _hardsigmoid)


def _hardswish(input):
    # NOTE: PyTorch's gradient is 0 at -3 and 1 at 3 (x / 3 + 1 / 2 only strictly between): -3 is
    # on the flat side and 3 on the linear one; NaN and +inf pass the gradient, and
    # hardswish(-inf) is -inf * 0 = NaN. One fused node (``nn_ops.Hardswish``).
    return _nn_ops.Hardswish.apply(input)


def hardswish(input, inplace=False):
    """x * hardsigmoid(x): 0 for x <= -3, x for x >= 3, x (x + 3) / 6 between."""
    _real_floating_only("hardswish_cpu", input)
    return _maybe_inplace(input, inplace, _hardswish)


def _mish(input):
    # softplus(x) = log1p(exp(x)) is x itself past the linear threshold (to the dtype's precision,
    # and tanh is 1 there anyway); clamping first keeps exp finite, so the discarded branch's zero
    # gradient is not inf * 0. float16's exp overflows past ~11, so its threshold is lower.
    linear_from = 10.0 if input._data.dtype.itemsize < 4 else 20.0
    softplus = where(input > linear_from, input, input.clamp(max=linear_from).exp().log1p())
    return input * softplus.tanh()


def mish(input, inplace=False):
    """x * tanh(softplus(x))."""
    _real_floating_only("mish_cpu", input)
    return _maybe_inplace(input, inplace, _mish)


def softsign(input):
    """x / (1 + |x|)."""
    return input / (input.abs() + 1)


def tanhshrink(input):
    """x - tanh(x)."""
    return input - input.tanh()


def softshrink(input, lambd=0.5):
    """x - lambd for x > lambd, x + lambd for x < -lambd, else 0."""
    _real_floating_only("softshrink_check", input)
    largest = float(np.finfo(input._data.dtype).max)
    if not 0 <= lambd <= largest:
        raise RuntimeError(
            f"lambda must be in range [0, {largest:g}] for input dtype {scalar_type_name(input._data.dtype)}, "
            f"but found {lambd:g}"
        )
    # NOTE: clamp's gradient is 1 on [-lambd, lambd] inclusive, so the gradient is 0 at ±lambd
    # (PyTorch's); NaN stays NaN.
    return input - input.clamp(-lambd, lambd)


def threshold(input, threshold, value, inplace=False):
    """x where x > threshold, else value."""
    if inplace:
        return _activations.threshold_(input, threshold, value)
    return _activations.threshold(input, threshold, value)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomized leaky ReLU: slopes drawn from U(lower, upper) per element while training,
    (lower + upper) / 2 otherwise."""
    if inplace:
        return _activations.rrelu_(input, lower, upper, training)
    return _activations.rrelu(input, lower, upper, training)


# -- alpha dropout ------------------------------------------------------------------------------
def _check_probability(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout that keeps SELU's self-normalization: dropped elements go to SELU's negative
    saturation, and the result is scaled and shifted back to zero mean and unit variance."""
    _check_probability(p)
    if inplace:
        return _activations.alpha_dropout_(input, p, training)
    return _activations.alpha_dropout(input, p, training)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """``alpha_dropout`` of whole channels (dim 1) of an (N, C, ...) input."""
    _check_probability(p)
    if inplace:
        return _activations.feature_alpha_dropout_(input, p, training)
    return _activations.feature_alpha_dropout(input, p, training)



# -- gumbel softmax -----------------------------------------------------------------------------
def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    """Samples from the Gumbel-Softmax (Concrete) distribution: softmax((logits + g) / tau)
    along ``dim`` with g ~ Gumbel(0, 1) (drawn as -log of Exponential(1) noise from tinytorch's
    generator). With ``hard=True`` the result is one-hot (at the soft sample's argmax) in the
    forward pass with the soft sample's gradient (straight-through). ``eps`` is deprecated and
    has no effect."""
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    gumbels = -_empty_like(logits).exponential_().log()  # ~Gumbel(0, 1)
    gumbels = (logits + gumbels) / tau  # ~Gumbel(logits, tau)
    y_soft = gumbels.softmax(dim)
    if not hard:
        return y_soft  # the reparameterization trick
    index = y_soft.max(dim, keepdim=True)[1]
    y_hard = _zeros_like(logits).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft  # straight through
