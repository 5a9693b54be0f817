"""The deprecated device-specific forms (``torch.cuda.amp.autocast``, ``torch.cpu.amp.GradScaler``...):
each warns FutureWarning with PyTorch's text, then is the ``torch.amp`` one for its device."""

import functools
import warnings

from .. import _dtypes
from . import autocast_mode
from .autocast_mode import _amp_definitely_not_available
from .grad_scaler import GradScaler as _GradScaler


def _warn(old, new):
    warnings.warn(f"`{old}` is deprecated. Please use `{new}` instead.", FutureWarning, stacklevel=3)


class CudaAutocast(autocast_mode.autocast):
    """See ``torch.autocast``; ``torch.cuda.amp.autocast(args...)`` is deprecated."""

    def __init__(self, enabled=True, dtype=_dtypes.float16, cache_enabled=True):
        _warn("torch.cuda.amp.autocast(args...)", "torch.amp.autocast('cuda', args...)")
        super().__init__("cuda", enabled=enabled, dtype=dtype, cache_enabled=cache_enabled)


class CpuAutocast(autocast_mode.autocast):
    """See ``torch.autocast``; ``torch.cpu.amp.autocast(args...)`` is deprecated. Its default dtype
    in PyTorch, bfloat16, does not exist in tinytorch: without ``dtype=torch.float16`` it warns and
    disables itself."""

    def __init__(self, enabled=True, dtype=None, cache_enabled=True):
        _warn("torch.cpu.amp.autocast(args...)", "torch.amp.autocast('cpu', args...)")
        super().__init__("cpu", enabled=enabled, dtype=dtype, cache_enabled=cache_enabled)


def custom_fwd(fwd=None, *, cast_inputs=None):
    """``torch.cuda.amp.custom_fwd(args...)`` is deprecated: ``torch.amp.custom_fwd(args..., device_type='cuda')``."""
    _warn("torch.cuda.amp.custom_fwd(args...)", "torch.amp.custom_fwd(args..., device_type='cuda')")
    return functools.partial(autocast_mode.custom_fwd, device_type="cuda")(fwd=fwd, cast_inputs=cast_inputs)


def custom_bwd(bwd):
    """``torch.cuda.amp.custom_bwd(args...)`` is deprecated: ``torch.amp.custom_bwd(args..., device_type='cuda')``."""
    _warn("torch.cuda.amp.custom_bwd(args...)", "torch.amp.custom_bwd(args..., device_type='cuda')")
    return functools.partial(autocast_mode.custom_bwd, device_type="cuda")(bwd)


def _scaler_for(device):
    class GradScaler(_GradScaler):
        __doc__ = f"""See ``torch.amp.GradScaler``; ``torch.{device}.amp.GradScaler(args...)`` is deprecated."""

        def __init__(self, init_scale=2.0**16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000,
                     enabled=True):
            _warn(f"torch.{device}.amp.GradScaler(args...)", f"torch.amp.GradScaler('{device}', args...)")
            super().__init__(device, init_scale=init_scale, growth_factor=growth_factor,
                             backoff_factor=backoff_factor, growth_interval=growth_interval, enabled=enabled)

    GradScaler.__qualname__ = "GradScaler"
    return GradScaler


CudaGradScaler, CpuGradScaler = _scaler_for("cuda"), _scaler_for("cpu")
CudaAutocast.__name__ = CudaAutocast.__qualname__ = CpuAutocast.__name__ = CpuAutocast.__qualname__ = "autocast"
amp_definitely_not_available = _amp_definitely_not_available
