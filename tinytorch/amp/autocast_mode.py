"""``torch.autocast``: regions where matrix products and convolutions run in float16, and the ops
that need range (losses, normalization, softmax on CUDA) in float32; ``custom_fwd``/``custom_bwd``
for a user's ``autograd.Function``. PyTorch's torch/amp/autocast_mode.py, on ``_policy``'s state."""

import collections.abc
import functools
import warnings

import numpy as np

from .. import _backend, _dtypes
from .._tensor import Tensor
from . import _policy, _state

__all__ = ["autocast_decorator", "autocast", "is_autocast_available", "custom_fwd", "custom_bwd"]

# bfloat16 does not exist in tinytorch, so float16 is the one lower-precision dtype autocast can use.
_SUPPORTED_DTYPES = (_dtypes.float16,)


def is_autocast_available(device_type):
    """Whether autocast can be used on ``device_type`` ("cpu", "cuda", ...: a ``torch.device``'s ``type``)."""
    name = _state._device_type("_is_autocast_available", device_type)
    return name in _policy.DEFAULT_DTYPES and name not in _policy.UNAVAILABLE


def autocast_decorator(autocast_instance, func):
    @functools.wraps(func)
    def decorate_autocast(*args, **kwargs):
        with autocast_instance:
            return func(*args, **kwargs)

    return decorate_autocast


def _amp_definitely_not_available():
    return _backend.cuda_device_count() == 0


class autocast:
    """A context manager (or decorator) in which ops of ``device_type`` tensors run in the dtype
    autocast picks for each op: ``dtype`` (float16; the device's default when None) for matrix
    products and convolutions, float32 for the ops that need range. Regions nest, and the state
    is per thread, as PyTorch's.

    tinytorch has no bfloat16: ``device_type="cpu"`` without a ``dtype`` (PyTorch's default there
    is bfloat16) warns and disables autocast, as PyTorch does for an unsupported dtype; pass
    ``dtype=torch.float16``.
    """

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        self.fast_dtype = _state.get_autocast_dtype(device_type) if dtype is None else dtype
        self.device = device_type
        if not is_autocast_available(self.device):
            raise RuntimeError(f"User specified an unsupported autocast device_type '{self.device}'")
        self._cache_enabled = _state.is_autocast_cache_enabled() if cache_enabled is None else cache_enabled
        device_name = self.device.upper()
        if enabled:
            if self.device == "cuda":
                if _amp_definitely_not_available():
                    warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.", stacklevel=2)
                    enabled = False
            elif self.fast_dtype not in _SUPPORTED_DTYPES:
                message = (f"In {device_name} autocast, but the target dtype is not supported. Disabling autocast.\n"
                           f"{device_name} Autocast only supports dtypes of torch.float16 currently")
                if self.fast_dtype is None:
                    message += f" (tinytorch has no torch.bfloat16, the {device_name} default: pass dtype=torch.float16)"
                warnings.warn(message + ".", stacklevel=2)
                enabled = False
        self._enabled = enabled

    def __enter__(self):
        state = _policy.state
        self.prev_cache_enabled = state.cache_enabled
        self.prev = _state.is_autocast_enabled(self.device)
        self.prev_fastdtype = _state.get_autocast_dtype(self.device)
        _state.set_autocast_enabled(self.device, self._enabled)
        state.dtype[self.device.split(":", 1)[0]] = self.fast_dtype  # may be None (bfloat16): not settable publicly
        _state.autocast_increment_nesting()
        _state.set_autocast_cache_enabled(self._cache_enabled)
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        if _state.autocast_decrement_nesting() == 0:
            _state.clear_autocast_cache()
        _state.set_autocast_enabled(self.device, self.prev)
        _policy.state.dtype[self.device.split(":", 1)[0]] = self.prev_fastdtype
        _state.set_autocast_cache_enabled(self.prev_cache_enabled)
        return False

    def __call__(self, func):
        if not callable(func):
            raise TypeError(
                f"autocast()(func) requires a callable, but got {type(func).__name__}. "
                f"Did you mean to use autocast as a context manager? For example:\n"
                f"    with torch.autocast(device_type=...):\n"
                f"        output = model(input)"
            )
        return autocast_decorator(self, func)


def _cast(value, device_type, dtype):
    """Floating tensors of ``device_type`` (not float64) inside ``value`` cast to ``dtype``."""
    if isinstance(value, Tensor):
        eligible = value.is_floating_point() and value.device.type == device_type and value.dtype is not _dtypes.float64
        return value.to(dtype) if eligible else value
    if isinstance(value, (str, bytes, np.ndarray)):
        return value
    if isinstance(value, collections.abc.Mapping):
        return {_cast(k, device_type, dtype): _cast(v, device_type, dtype) for k, v in value.items()}
    if isinstance(value, collections.abc.Iterable):
        iterable = (_cast(v, device_type, dtype) for v in value)
        return type(value)(iterable) if isinstance(value, (list, tuple)) else iterable
    return value


def _check_device_type(device_type):
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")


def custom_fwd(fwd=None, *, device_type, cast_inputs=None):
    """Decorate a custom ``Function``'s ``forward``: with ``cast_inputs``, inside an autocast region
    its floating tensors are cast to that dtype and it runs with autocast off; ``custom_bwd`` then
    runs ``backward`` with the state ``forward`` saw."""
    _check_device_type(device_type)
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        args[0]._dtype = _state.get_autocast_dtype(device_type)
        if cast_inputs is None:
            args[0]._fwd_used_autocast = _state.is_autocast_enabled(device_type)
            return fwd(*args, **kwargs)
        autocast_context = _state.is_autocast_enabled(device_type)
        args[0]._fwd_used_autocast = False
        if autocast_context:
            with autocast(device_type=device_type, enabled=False):
                return fwd(*_cast(args, device_type, cast_inputs), **_cast(kwargs, device_type, cast_inputs))
        return fwd(*args, **kwargs)

    return decorate_fwd


def custom_bwd(bwd=None, *, device_type):
    """Decorate a custom ``Function``'s ``backward``: it runs with the autocast state its
    ``custom_fwd``-decorated ``forward`` ran with."""
    _check_device_type(device_type)
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        with autocast(device_type=device_type, enabled=args[0]._fwd_used_autocast, dtype=args[0]._dtype):
            return bwd(*args, **kwargs)

    return decorate_bwd
