"""``nn.init``: fill tensors in place (under no_grad) with PyTorch's initialization schemes and fans."""

import math
import warnings

from .. import _backend, _dtypes, random as _random
from ..autograd.grad_mode import no_grad as _no_grad
from ..random import generator_for as _generator_for

_LINEAR_FNS = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity (e.g. sqrt(2) for relu, 5/3 for tanh)."""
    if nonlinearity in _LINEAR_FNS or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    """(fan_in, fan_out) = (size(1), size(0)), each times the receptive field (the product of dims 2+)."""
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive_field = 1
    for s in tensor.shape[2:]:
        receptive_field *= s
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    valid_modes = ["fan_in", "fan_out"]
    if mode not in valid_modes:
        raise ValueError(f"Mode {mode} not supported, please use one of {valid_modes}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with U(a, b)."""
    with _no_grad():
        return tensor.uniform_(a, b, generator=generator)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with N(mean, std^2)."""
    with _no_grad():
        return tensor.normal_(mean, std, generator=generator)


def constant_(tensor, val):
    with _no_grad():
        return tensor.fill_(val)


def ones_(tensor):
    return constant_(tensor, 1.0)


def zeros_(tensor):
    return constant_(tensor, 0.0)


def eye_(tensor):
    """Fill a 2-D tensor with the identity (ones on the diagonal)."""
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    data = tensor._data
    with _no_grad():
        data[...] = _backend.array_module(data).eye(*data.shape, dtype=data.dtype)
        tensor._version[0] += 1
    return tensor


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill with N(mean, std^2) truncated to [a, b], by rejection sampling (as PyTorch)."""
    def norm_cdf(x):
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn(
            "mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The distribution of values may be incorrect.",
            stacklevel=2,
        )
    data = tensor._data
    xp = _backend.array_module(data)
    wide = norm_cdf((b - mean) / std) - norm_cdf((a - mean) / std) > 0.3
    # PyTorch draws with normal_ (wide window) or uniform_(a, b): their checks, before any draw.
    if wide:
        _random.check_normal_args(tensor, mean, std)
    else:
        _random.check_uniform_bounds(tensor, a, b)
    rng = _generator_for(tensor.device, generator)
    shape, dtype = data.shape, data.dtype
    with _no_grad():
        if wide:
            # Most normal draws land inside: redraw the ones outside until none is.
            result = (rng.standard_normal(size=shape) * std + mean).astype(dtype)
            outside = (result < a) | (result > b)
            while bool(outside.any()):
                fresh = (rng.standard_normal(size=shape) * std + mean).astype(dtype)
                result = xp.where(outside, fresh, result)
                outside = (result < a) | (result > b)
        else:
            # A narrow window: uniform proposals on [a, b], accepted with the normal density's ratio.
            mode = max(a, min(mean, b))
            log_peak = -0.5 * ((mode - mean) / std) ** 2
            result = rng.uniform(a, b, size=shape).astype(dtype)
            pending = xp.log(rng.uniform(0, 1, size=shape)) > -0.5 * ((result - mean) / std) ** 2 - log_peak
            while bool(pending.any()):
                candidates = rng.uniform(a, b, size=shape).astype(dtype)
                result = xp.where(pending, candidates, result)
                accept_draw = xp.log(rng.uniform(0, 1, size=shape))
                pending = pending & (accept_draw > -0.5 * ((candidates - mean) / std) ** 2 - log_peak)
        data[...] = result
        tensor._version[0] += 1
    return tensor


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def _kaiming_std(tensor, a, mode, nonlinearity):
    return calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """U(-bound, bound) with bound = gain * sqrt(3 / fan) (He et al.); Linear uses a=sqrt(5)."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """N(0, std^2) with std = gain / sqrt(fan) (He et al.)."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator)


def orthogonal_(tensor, gain=1, generator=None):
    """A (semi-)orthogonal matrix from the QR decomposition of a normal sample, times ``gain``."""
    if tensor.dim() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    data = tensor._data
    if data.dtype.kind != "f":  # PyTorch draws the matrix with normal_
        raise NotImplementedError(f'"normal_kernel_cpu" not implemented for \'{_dtypes.scalar_type_name(data.dtype)}\'')
    xp = _backend.array_module(data)
    flattened = _generator_for(tensor.device, generator).standard_normal(size=(rows, cols))
    if rows < cols:
        flattened = flattened.T
    q, r = xp.linalg.qr(flattened)
    q = q * xp.sign(xp.diagonal(r))  # makes Q uniformly distributed (Mezzadri, 2007)
    if rows < cols:
        q = q.T
    with _no_grad():
        data[...] = (q * gain).reshape(data.shape).astype(data.dtype)
        tensor._version[0] += 1
    return tensor


def dirac_(tensor, groups=1):
    """Fill a 3-, 4- or 5-d convolution weight with the Dirac delta: each of the first
    min(out_channels / groups, in_channels) outputs of a group copies one input channel."""
    if tensor.dim() not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    sizes = tensor.shape
    if sizes[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    out_per_group = sizes[0] // groups
    kept = min(out_per_group, sizes[1])
    data = tensor._data
    xp = _backend.array_module(data)
    channel = xp.arange(kept)
    rows = (xp.arange(groups)[:, None] * out_per_group + channel[None, :]).ravel()
    centre = tuple(s // 2 for s in sizes[2:])
    with _no_grad():
        data[...] = 0
        data[(rows, xp.tile(channel, groups)) + centre] = 1  # one scatter, not a write per channel
        tensor._version[0] += 1
    return tensor


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """Fill a 2-d tensor with N(0, std^2) values, then zero ceil(sparsity * rows) entries of each
    column (Martens, 2010). As in PyTorch, ``generator`` draws the values and the default
    generator the positions of the zeros."""
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor.shape
    num_zeros = math.ceil(sparsity * rows)
    with _no_grad():
        tensor.normal_(0, std, generator=generator)
        data = tensor._data
        xp = _backend.array_module(data)
        # A random permutation of the rows per column (PyTorch draws one randperm per column):
        # the order of independent uniform keys, all columns at once.
        keys = _generator_for(tensor.device, None).uniform(0, 1, size=(rows, cols))
        zero_rows = xp.argsort(keys, axis=0)[:num_zeros]
        data[zero_rows, xp.arange(cols)[None, :]] = 0
        tensor._version[0] += 1
    return tensor


def _make_deprecate(method):
    """The old name without the underscore: PyTorch's FutureWarning, then the new function."""
    new_name = method.__name__
    old_name = new_name[:-1]

    def deprecated_init(*args, **kwargs):
        warnings.warn(f"`nn.init.{old_name}` is now deprecated in favor of `nn.init.{new_name}`.", FutureWarning, stacklevel=2)
        return method(*args, **kwargs)

    deprecated_init.__doc__ = f"{old_name}(...): deprecated in favor of :func:`tinytorch.nn.init.{new_name}`."
    deprecated_init.__name__ = deprecated_init.__qualname__ = old_name
    return deprecated_init


uniform = _make_deprecate(uniform_)
normal = _make_deprecate(normal_)
constant = _make_deprecate(constant_)
eye = _make_deprecate(eye_)
dirac = _make_deprecate(dirac_)
xavier_uniform = _make_deprecate(xavier_uniform_)
xavier_normal = _make_deprecate(xavier_normal_)
kaiming_uniform = _make_deprecate(kaiming_uniform_)
kaiming_normal = _make_deprecate(kaiming_normal_)
orthogonal = _make_deprecate(orthogonal_)
sparse = _make_deprecate(sparse_)
