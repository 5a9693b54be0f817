"""The activations PyTorch has at its top level (``torch.selu``, ``celu``, ``prelu``, ``rrelu``,
``hardshrink``, ``threshold``, ``relu_``) and the alpha dropouts, with the piecewise helpers that
``nn.functional``'s in-place forms share.

All but the ELU family are composites of existing ops (``where``, ``clamp``, products), so
gradients, ``create_graph`` and the CUDA path come from those; the ELU family is one fused node
(``nn_ops.Elu``, PyTorch's kernel and its backward). PyTorch's subgradient at each kink is kept by
the side of the boundary each ``where`` puts it on (noted at each one); conditions are written so
that NaN falls into the branch that returns it, as PyTorch's kernels do.
"""

import math

import numpy as np

from .._dtypes import scalar_type_name
from .._tensor import Tensor
from ..random import generator_for
from ._util import check_tensor_argument, checked_scalar, write_out
from . import nn_ops
from .binary import where
from .elementwise import relu
from .indexing import inplace

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
# SELU's negative saturation, alpha * scale: where alpha dropout sends dropped elements.
_SELU_SATURATION = 1.7580993408473766


def _real_floating_only(kernel, input):
    """PyTorch's kernels for these ops dispatch on real floating types only (not complex)."""
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f'"{kernel}" not implemented for \'{scalar_type_name(input._data.dtype)}\'')


# -- shared piecewise helpers -------------------------------------------------------------------
def _elu(input, alpha, scale=1.0, input_scale=1.0):
    """PyTorch's ELU family: scale x for x > 0, else alpha scale (exp(input_scale x) - 1).

    NOTE: x = 0 takes the exponential branch of the gradient, whose slope there is alpha scale
    input_scale (PyTorch's gradient at 0: alpha for elu, 1 for celu, alpha scale for selu), and NaN
    the linear one (gradient ``scale``), as PyTorch's elu_backward. One fused node (``nn_ops.Elu``).
    """
    return nn_ops.elu(input, alpha, scale, input_scale)


def _leaky_relu(input, negative_slope):
    # NOTE: the gradient at 0 is negative_slope, as PyTorch's (x > 0 ? 1 : slope).
    return where(input > 0, input, input * negative_slope)


def _hardtanh(input, min_val, max_val):
    # NOTE: PyTorch's hardtanh_backward is x <= min || x >= max ? 0 : grad: the gradient is 1 only
    # strictly inside (min, max) (clamp's would be 1 at the ends), and a NaN passes it.
    if input._data.dtype.kind in "iu":  # integer input: the bounds become integers (truncated), as in PyTorch
        min_val, max_val = int(min_val), int(max_val)
    outside = (input <= min_val) | (input >= max_val)
    return where(outside, input.detach().clamp(min_val, max_val), input)


# -- the ELU family -----------------------------------------------------------------------------
def celu(input, alpha=1.0):
    """max(0, x) + min(0, alpha (exp(x / alpha) - 1))."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    _real_floating_only("elu_cpu", input)
    return _elu(input, alpha, 1.0, 1.0 / alpha)


def celu_(input, alpha=1.0):
    """``celu`` written into ``input``."""
    return inplace(input, celu, alpha)


def selu(input):
    """scale (max(0, x) + min(0, alpha (exp(x) - 1))), with the self-normalizing alpha and scale."""
    _real_floating_only("elu_cpu", input)
    return _elu(input, _SELU_ALPHA, _SELU_SCALE)


def selu_(input):
    """``selu`` written into ``input``."""
    return inplace(input, selu)


def relu_(input):
    """``relu`` written into ``input``."""
    return inplace(input, relu)


# -- shrinkage and thresholds -------------------------------------------------------------------
def hardshrink(input, lambd=0.5, *, out=None):
    """x where |x| > lambd, else 0."""
    if out is not None:
        return write_out(out, "hardshrink", hardshrink, input, lambd)
    _real_floating_only("hardshrink_cpu", input)
    # NOTE: ±lambd are inside, so the gradient there is 0 (PyTorch's); NaN is outside and passes.
    return where((input >= -lambd) & (input <= lambd), 0, input)


def _threshold(input, threshold, value):
    dtype = input._data.dtype
    if dtype.kind not in "iuf":
        raise NotImplementedError(f'"threshold_cpu" not implemented for \'{scalar_type_name(dtype)}\'')
    # PyTorch converts both with its overflow check: ``value`` to the dtype, ``threshold`` to the
    # type the kernel compares in (float for float16).
    threshold = checked_scalar(threshold, np.float32 if dtype == np.float16 else dtype)
    value = checked_scalar(value, dtype)
    # NOTE: x = threshold gets ``value`` and a zero gradient (PyTorch's); NaN compares false and passes.
    return where(input <= threshold, value, input)


def threshold(input, threshold, value, *, out=None):
    """x where x > threshold, else value."""
    if out is not None:
        return write_out(out, "threshold", _threshold, input, threshold, value)
    return _threshold(input, threshold, value)


def threshold_(input, threshold, value):
    """``threshold`` written into ``input``."""
    return inplace(input, _threshold, threshold, value)


# -- learned and random slopes ------------------------------------------------------------------
def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    """Randomized leaky ReLU: while training, each element at or below 0 is multiplied by its own
    slope drawn from U(lower, upper); otherwise the slope is (lower + upper) / 2."""
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    if not training:
        _real_floating_only("leaky_relu_cpu", input)
        return _leaky_relu(input, (lower + upper) / 2)
    _real_floating_only("rrelu_with_noise_out_cpu", input)
    data = input._data
    # The noise is a constant of the graph: the gradient is the slope each element was given
    # (1 above 0, its draw at or below 0, PyTorch's rrelu_with_noise_backward).
    noise = generator_for(input.device, generator).uniform(lower, upper, size=data.shape).astype(data.dtype, copy=False)
    noise[data > 0] = 1
    return input * Tensor._make(noise)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    """``rrelu`` written into ``input``."""
    return inplace(input, rrelu, lower, upper, training, generator)


def prelu(input, weight):
    """x for x > 0, else weight x, with one weight for all channels or one per channel (dim 1)."""
    check_tensor_argument("prelu", input)
    check_tensor_argument("prelu", weight, "weight", 2)
    if input._data.dtype != weight._data.dtype:
        raise RuntimeError(
            "prelu: Type promoting not supported. Got "
            f"{scalar_type_name(input._data.dtype)} and {scalar_type_name(weight._data.dtype)}"
        )
    count, ndim = weight.numel(), input.dim()
    if count != 1:
        if ndim == 0:
            raise RuntimeError("Not allow zero-dim input tensor.")
        channels = input.shape[1] if ndim > 1 else 1
        if channels != count:
            raise RuntimeError(
                f"Mismatch of parameter numbers and input channel size. Found parameter numbers = {count} and "
                f"channel size = {channels}."
            )
    if weight.dim() > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.dim()}")
    _real_floating_only("prelu_cpu", input)
    if weight.dim() != ndim:
        weight = weight.reshape((1, count) + (1,) * (ndim - 2) if ndim > 1 else (1,) * ndim)
    # NOTE: x = 0 takes the weight branch: the gradient there is weight (PyTorch's).
    return where(input > 0, input, weight * input)


# -- alpha dropout ------------------------------------------------------------------------------
def _alpha_dropout(input, p, train, feature, in_place):
    """PyTorch's _dropout_impl for alpha dropout: dropped elements (or channels) go to SELU's
    negative saturation, then an affine map a x + b restores zero mean and unit variance."""
    if not 0 <= p <= 1:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p:g}")
    if p == 0 or not train or input.numel() == 0:
        return input
    if p == 1:
        return input.mul_(0) if in_place else input * 0
    if feature and input.dim() < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    dtype = input._data.dtype
    if dtype.kind == "c":
        raise NotImplementedError(f'"bernoulli_scalar_cpu_" not implemented for \'{scalar_type_name(dtype)}\'')
    if dtype.kind != "f":
        # PyTorch's noise.add(-1) turns a bool mask into Long before the float scale fails to fit it.
        target = "Long" if dtype.kind == "b" else scalar_type_name(dtype)
        raise RuntimeError(f"result type Float can't be cast to the desired output type {target}")
    shape = tuple(input.shape[:2]) + (1,) * (input.dim() - 2) if feature else tuple(input.shape)
    rng = generator_for(input.device)
    kept = (rng.random(size=shape, dtype=np.float32) < 1 - p).astype(dtype)
    a = 1.0 / math.sqrt((_SELU_SATURATION * _SELU_SATURATION * p + 1) * (1 - p))
    scale = Tensor._make(kept * a)
    shift = Tensor._make((kept - 1) * (_SELU_SATURATION * a) + _SELU_SATURATION * a * p)
    if in_place:
        return input.mul_(scale).add_(shift)
    return input * scale + shift


def alpha_dropout(input, p, train):
    """Alpha dropout (for SELU networks): elements dropped with probability p while ``train``."""
    return _alpha_dropout(input, p, train, False, False)


def alpha_dropout_(input, p, train):
    """``alpha_dropout`` written into ``input``."""
    return _alpha_dropout(input, p, train, False, True)


def feature_alpha_dropout(input, p, train):
    """Alpha dropout of whole channels (dim 1) of an (N, C, ...) input."""
    return _alpha_dropout(input, p, train, True, False)


def feature_alpha_dropout_(input, p, train):
    """``feature_alpha_dropout`` written into ``input``."""
    return _alpha_dropout(input, p, train, True, True)

