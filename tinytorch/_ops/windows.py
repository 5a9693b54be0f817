"""Window functions, as PyTorch's factories: hann_window, hamming_window, blackman_window,
bartlett_window and kaiser_window (TensorFactories.cpp's formulas and checks).

A window depends on its length and parameters alone, so it is computed on the host in float64
and moved to the device once, then cast to the requested floating dtype: the values are the exact
ones rounded once (PyTorch evaluates the formula in the requested dtype, so float32 and
float16 results may differ from these in the last bits).
"""

import math

import numpy as np

from .. import _backend as backend, _dtypes as dtypes, _layout as layouts
from ._util import wrap


def _check(name, window_length, dtype, layout):
    """PyTorch's window_function_checks: argument type, sign, layout and a floating dtype."""
    if isinstance(window_length, bool) or not isinstance(window_length, (int, np.integer)):
        raise TypeError(f"{name}(): argument 'window_length' (position 1) must be int, not {type(window_length).__name__}")
    numpy_dtype = dtypes.default_float_numpy() if dtype is None else np.dtype(dtypes.to_numpy_dtype(dtype))
    if layout is not None and layout is not layouts.strided:
        raise RuntimeError(f"{name} is not implemented for sparse types, got: layout={layout}")
    if numpy_dtype.kind != "f":
        raise RuntimeError(f"{name} expects floating point dtypes, got: dtype={dtypes.from_numpy_dtype(numpy_dtype)}")
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got window_length={window_length}")
    return int(window_length), numpy_dtype


def _make(host, numpy_dtype, device, requires_grad):
    device = backend.default_device() if device is None else device
    out = wrap(backend.to_device(host.astype(numpy_dtype), device))
    if requires_grad:
        out.requires_grad_(True)
    return out


def _window(name, window_length, periodic, dtype, layout, device, requires_grad, formula):
    """The common frame: empty for length 0, [1] for length 1, and a periodic window as the
    symmetric one of length + 1 without its last point."""
    length, numpy_dtype = _check(name, window_length, dtype, layout)
    if length <= 1:
        return _make(np.ones(length), numpy_dtype, device, requires_grad)
    n = length + 1 if periodic else length
    host = formula(np.arange(n, dtype=np.float64), n)
    return _make(host[:length], numpy_dtype, device, requires_grad)


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None, layout=None,
                   device=None, pin_memory=False, requires_grad=False):
    """The generalized Hamming window: ``alpha - beta * cos(2 pi n / (N - 1))``; ``periodic``
    (the default) gives the window for spectral analysis (the first ``N`` of ``N + 1`` points)."""
    return _window("hamming_window", window_length, periodic, dtype, layout, device, requires_grad,
                   lambda k, n: alpha - beta * np.cos(k * (2 * math.pi / (n - 1))))


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, pin_memory=False,
                requires_grad=False):
    """The Hann window: ``0.5 - 0.5 * cos(2 pi n / (N - 1))`` (``sin^2(pi n / (N - 1))``)."""
    return _window("hann_window", window_length, periodic, dtype, layout, device, requires_grad,
                   lambda k, n: 0.5 - 0.5 * np.cos(k * (2 * math.pi / (n - 1))))


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, pin_memory=False,
                    requires_grad=False):
    """The Blackman window: ``0.42 - 0.5 cos(2 pi n / (N - 1)) + 0.08 cos(4 pi n / (N - 1))``."""
    def formula(k, n):
        w = k * (math.pi / (n - 1))
        return 0.08 * np.cos(4 * w) - 0.5 * np.cos(2 * w) + 0.42

    return _window("blackman_window", window_length, periodic, dtype, layout, device, requires_grad, formula)


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, pin_memory=False,
                    requires_grad=False):
    """The Bartlett (triangular) window: rising ``2n / (N - 1)`` to the middle, then falling to 0."""
    def formula(k, n):
        w = k * (2.0 / (n - 1))
        half = ((n - 1) >> 1) + 1
        w[half:] = 2 - w[half:]
        return w

    return _window("bartlett_window", window_length, periodic, dtype, layout, device, requires_grad, formula)


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None, device=None,
                  pin_memory=False, requires_grad=False):
    """The Kaiser window: ``I0(beta * sqrt(1 - ((n - a) / a)^2)) / I0(beta)`` with ``a = (N - 1) / 2``
    and I0 the modified Bessel function of the first kind, order zero."""
    def formula(k, n):
        a = (n - 1) / 2
        return np.i0(beta * np.sqrt(np.clip(1 - ((k - a) / a) ** 2, 0, None))) / np.i0(beta)

    return _window("kaiser_window", window_length, periodic, dtype, layout, device, requires_grad, formula)


__all__ = ["bartlett_window", "blackman_window", "hamming_window", "hann_window", "kaiser_window"]
