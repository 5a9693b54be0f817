"""PyTorch's global switches: deterministic algorithms, float32 matmul precision, warn-always and
the inter-op thread count. Each keeps and reports back its state exactly as PyTorch does (types,
errors, warnings). Their effect in tinytorch: deterministic mode fills ``empty_strided``'s memory
as PyTorch fills uninitialized memory (NaN, or an integer dtype's largest value); otherwise
tinytorch's ops are already deterministic on the CPU, NumPy has no lower-precision float32
matmul, nothing in tinytorch warns only once, and it runs no inter-op thread pool."""

import builtins
import os
import warnings

import numpy as np


class _State:
    deterministic = False
    warn_only = False
    float32_matmul_precision = "highest"
    warn_always = False
    interop_threads = None  # set once; PyTorch refuses a second call


_state = _State()
_PRECISIONS = ("highest", "high", "medium")


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Whether ops must use deterministic algorithms (``warn_only``: warn instead of raising where
    only a nondeterministic one exists)."""
    if mode is not True and mode is not False:
        raise TypeError(f"_set_deterministic_algorithms(): argument 'mode' (position 1) must be bool, not {type(mode).__name__}")
    if warn_only is not True and warn_only is not False:
        raise TypeError(f"_set_deterministic_algorithms(): argument 'warn_only' must be bool, not {type(warn_only).__name__}")
    _state.deterministic, _state.warn_only = mode, warn_only


def are_deterministic_algorithms_enabled():
    """True after ``use_deterministic_algorithms(True)``."""
    return _state.deterministic


def is_deterministic_algorithms_warn_only_enabled():
    """The ``warn_only`` of the last ``use_deterministic_algorithms`` call."""
    return _state.warn_only


def set_deterministic_debug_mode(debug_mode):
    """``use_deterministic_algorithms`` by level: "default"/0 (off), "warn"/1 (warn only), "error"/2 (on)."""
    if not isinstance(debug_mode, (builtins.int, str)):
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode)}")
    if isinstance(debug_mode, str):
        levels = {"default": 0, "warn": 1, "error": 2}
        if debug_mode not in levels:
            raise RuntimeError(
                f"invalid value of debug_mode, expected one of `default`, `warn`, `error`, but got {debug_mode}"
            )
        debug_mode = levels[debug_mode]
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got {debug_mode}")
    _state.deterministic, _state.warn_only = debug_mode != 0, debug_mode == 1


def get_deterministic_debug_mode():
    """0 (deterministic algorithms off), 1 (on, warn only) or 2 (on)."""
    if not _state.deterministic:
        return 0
    return 1 if _state.warn_only else 2


def fill_uninitialized(array):
    """Fill a new, uninitialized array as PyTorch does in deterministic mode (NaN for floating
    dtypes, the largest value for integers, True for bool), so results never depend on leftovers."""
    if _state.deterministic:
        kind = array.dtype.kind
        array.fill(float("nan") if kind == "f" else True if kind == "b" else np.iinfo(array.dtype).max)
    return array


def set_float32_matmul_precision(precision):
    """"highest", "high" or "medium" (another string warns and changes nothing, as PyTorch)."""
    if not isinstance(precision, str):
        raise RuntimeError(f"set_float32_matmul_precision expects a str, but got {type(precision).__name__}")
    if precision not in _PRECISIONS:
        warnings.warn(
            f"{precision} is not one of 'highest', 'high', or 'medium'; the current"
            "setFloat32MatmulPrecision call has no effect.", stacklevel=2,
        )
        return
    _state.float32_matmul_precision = precision


def get_float32_matmul_precision():
    """The precision last set by ``set_float32_matmul_precision`` ("highest" at start)."""
    return _state.float32_matmul_precision


def set_warn_always(b, /):
    """Whether warnings PyTorch gives once per process are given every time."""
    if b is not True and b is not False:
        raise RuntimeError(f"setWarnOnlyOnce expects a bool, but got {type(b).__name__}")
    _state.warn_always = b


def is_warn_always_enabled():
    """The flag of ``set_warn_always`` (False at start)."""
    return _state.warn_always


def get_num_interop_threads():
    """The inter-op thread count: the CPU count until ``set_num_interop_threads``."""
    return _state.interop_threads or os.cpu_count() or 1


def set_num_interop_threads(n):
    """Set the inter-op thread count, once per process (a second call is a RuntimeError, as in PyTorch)."""
    if isinstance(n, builtins.bool) or not isinstance(n, builtins.int):
        raise RuntimeError(f"set_num_interop_threads expects an int, but got {type(n).__name__}")
    if n <= 0:
        raise RuntimeError("set_num_interop_threads expects a positive integer")
    if _state.interop_threads is not None:
        raise RuntimeError(
            "Error: cannot set number of interop threads after parallel work has started or set_num_interop_threads called"
        )
    _state.interop_threads = n
