"""The less common in-place random fills: ``cauchy_``, ``log_normal_`` and ``geometric_``, drawn
from tinytorch's generators (``random.generator_for``) by the same transforms of uniform and normal
draws that PyTorch's CPU kernels use, so that CuPy's generator (which lacks Cauchy and geometric
samplers) serves them too."""

import math
import numbers

import numpy as np

from . import _backend as backend, _dtypes as dtypes
from .random import _fill, _float_dtype, _not_implemented, generator_for


def _float(function, name, position, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{function}(): argument '{name}' (position {position}) must be float, not {type(value).__name__}")
    return float(value)


def _continuous(tensor, distribution):
    if tensor._data.dtype.kind != "f":
        raise RuntimeError(
            f"{distribution} distribution is a continuous probability distribution. dtype must be a floating point "
            f"but you specified {dtypes.cpp_type_name(tensor._data.dtype)}"
        )


def cauchy_(tensor, median=0.0, sigma=1.0, *, generator=None):
    """Fill with draws from the Cauchy distribution: ``median + sigma * tan(pi * (u - 1/2))``."""
    median, sigma = _float("cauchy_", "median", 1, median), _float("cauchy_", "sigma", 2, sigma)
    _continuous(tensor, "Cauchy")
    if not sigma > 0.0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma:g}")
    xp = backend.array_module(tensor._data)
    u = generator_for(tensor.device, generator).random(size=tensor._data.shape)
    return _fill(tensor, (median + sigma * xp.tan(math.pi * (u - 0.5))).astype(_float_dtype(tensor), copy=False))


def log_normal_(tensor, mean=1.0, std=2.0, *, generator=None):
    """Fill with ``exp`` of draws from N(mean, std^2)."""
    mean, std = _float("log_normal_", "mean", 1, mean), _float("log_normal_", "std", 2, std)
    if tensor._data.dtype.kind != "f":
        raise _not_implemented("log_normal_cpu", tensor)
    if not std > 0.0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std:g}")
    xp = backend.array_module(tensor._data)
    sample = generator_for(tensor.device, generator).standard_normal(size=tensor._data.shape)
    return _fill(tensor, xp.exp(sample * std + mean).astype(_float_dtype(tensor), copy=False))


def geometric_(tensor, p, *, generator=None):
    """Fill with the number of Bernoulli(p) trials up to the first success (1, 2, ...)."""
    p = _float("geometric_", "p", 1, p)
    if tensor._data.dtype == np.bool_:
        raise _not_implemented("geometric_cpu", tensor)
    if not 0.0 < p < 1.0:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p:g}")
    xp = backend.array_module(tensor._data)
    u = generator_for(tensor.device, generator).random(size=tensor._data.shape)
    # 1 - u lies in (0, 1]: its log is finite, and ceil gives at least 1 (u = 0 would give 0 trials).
    return _fill(tensor, xp.maximum(xp.ceil(xp.log1p(-u) / math.log1p(-p)), 1.0))
