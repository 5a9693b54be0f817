"""PyTorch's top-level autocast switches (``torch.is_autocast_enabled``, ``set_autocast_dtype``...).

They read and write this thread's state in ``_policy``; PyTorch's C++ bindings check argument
types, and the messages below are theirs.
"""

import warnings

from .. import _dtypes as dtypes
from . import _policy

_UNKNOWN = "unknown device type for autocast in get_autocast_dispatch_key_from_device_type"


def _type_error(function, name, position, value, expected):
    return TypeError(f"{function}(): argument '{name}' ({'position ' + str(position)}) must be {expected}, "
                     f"not {type(value).__name__}")


def _device_type(function, device_type, position=1):
    """The type in a device string ("cuda:1" -> "cuda"), as PyTorch parses it."""
    if not isinstance(device_type, str):
        raise _type_error(function, "device_type", position, device_type, "str")
    name = device_type.split(":", 1)[0]
    if name not in _policy.DEVICE_TYPES:
        raise RuntimeError(f"Expected one of {', '.join(_policy.DEVICE_TYPES)} device type at start of device string: "
                           f"{device_type}")
    return name


def _with_dispatch_key(function, device_type):
    name = _device_type(function, device_type)
    if name not in _policy.DEFAULT_DTYPES or name in _policy.UNAVAILABLE:
        raise RuntimeError(_UNKNOWN)
    return name


def _deprecated(old, new):
    warnings.warn(f"torch.{old} is deprecated. Please use torch.{new} instead.", DeprecationWarning, stacklevel=3)


def is_autocast_enabled(device_type=None):
    """Whether autocast is on in this thread for ``device_type`` (cuda when not given)."""
    if device_type is None:
        return _policy.state.enabled.get("cuda", False)
    return _policy.state.enabled.get(_with_dispatch_key("is_autocast_enabled", device_type), False)


def set_autocast_enabled(*args, **kwargs):
    """``set_autocast_enabled(device_type, enabled)``, or the older ``set_autocast_enabled(enabled)`` for cuda."""
    args = list(args) + [kwargs.pop(k) for k in ("device_type", "enabled") if k in kwargs]
    if kwargs or not 1 <= len(args) <= 2:
        raise TypeError(
            f"set_autocast_enabled() received an invalid combination of arguments - got ({', '.join(type(a).__name__ for a in args)}), "
            "but expected one of:\n * (str device_type, bool enabled)\n * (bool enabled)\n")
    if len(args) == 1:
        device_type, enabled = "cuda", args[0]
    else:
        device_type, enabled = _with_dispatch_key("set_autocast_enabled", args[0]), args[1]
    if not isinstance(enabled, bool):
        raise _type_error("set_autocast_enabled", "enabled", len(args), enabled, "bool")
    _policy.set_enabled(device_type, enabled)


def get_autocast_dtype(device_type):
    """The lower-precision dtype autocast uses for ``device_type`` in this thread. For "cpu" it is
    None until set: PyTorch's default there, bfloat16, does not exist in tinytorch."""
    name = _device_type("get_autocast_dtype", device_type)
    if name not in _policy.state.dtype:
        raise RuntimeError("unsupported scalarType")
    return _policy.state.dtype[name]


def set_autocast_dtype(device_type, dtype):
    name = _device_type("set_autocast_dtype", device_type)
    if not isinstance(dtype, dtypes.dtype):
        raise _type_error("set_autocast_dtype", "dtype", 2, dtype, "torch.dtype")
    _policy.state.dtype[name] = dtype


def is_autocast_cpu_enabled():
    _deprecated("is_autocast_cpu_enabled()", "is_autocast_enabled('cpu')")
    return is_autocast_enabled("cpu")


def set_autocast_cpu_enabled(enabled):
    _deprecated("set_autocast_cpu_enabled(enabled)", "set_autocast_enabled('cpu', enabled)")
    set_autocast_enabled("cpu", enabled)


def get_autocast_cpu_dtype():
    _deprecated("get_autocast_cpu_dtype()", "get_autocast_dtype('cpu')")
    return get_autocast_dtype("cpu")


def set_autocast_cpu_dtype(dtype):
    _deprecated("set_autocast_cpu_dtype(dtype)", "set_autocast_dtype('cpu', dtype)")
    set_autocast_dtype("cpu", dtype)


def get_autocast_gpu_dtype():
    _deprecated("get_autocast_gpu_dtype()", "get_autocast_dtype('cuda')")
    return get_autocast_dtype("cuda")


def set_autocast_gpu_dtype(dtype):
    _deprecated("set_autocast_gpu_dtype(dtype)", "set_autocast_dtype('cuda', dtype)")
    set_autocast_dtype("cuda", dtype)


def is_autocast_cache_enabled():
    return _policy.state.cache_enabled


def set_autocast_cache_enabled(enabled):
    if not isinstance(enabled, bool):
        raise TypeError(f"enabled must be a bool (got {type(enabled).__name__})")
    _policy.state.cache_enabled = enabled


def autocast_increment_nesting():
    """One level deeper in autocast regions (this thread); returns the new depth."""
    _policy.state.nesting += 1
    return _policy.state.nesting


def autocast_decrement_nesting():
    _policy.state.nesting -= 1
    return _policy.state.nesting


def clear_autocast_cache():
    """Drop the cached lower-precision casts of weights (the outermost autocast exit does this)."""
    _policy.clear_cache()
