"""``torch.gradient``: the derivative of a sampled function by central differences in the interior
and one-sided differences (first or second order) at the edges, as aten's ``gradient`` computes it
(aten/src/ATen/native/ReduceOps.cpp). Slicing and arithmetic on tensors: differentiable as they are."""

import builtins
import numbers

from .. import _dtypes as dtypes
from .._tensor import Tensor
from ._util import normalize_dim
from .movement import cat


def _slice(x, d, start, stop=None):
    """``x`` along dim ``d`` from ``start`` to ``stop`` (Python's slice rules, negative ends allowed)."""
    index = [builtins.slice(None)] * x._data.ndim
    index[d] = builtins.slice(start, stop)
    return x[tuple(index)]


def _dims(input, dim):
    """The dims to differentiate along, and whether ``dim`` was given (as an int or a list)."""
    ndim = input._data.ndim
    if dim is None:
        return list(range(ndim)), False
    if isinstance(dim, numbers.Integral) and not isinstance(dim, bool):
        return [normalize_dim(dim, ndim)], True
    if not isinstance(dim, (list, tuple)):
        raise TypeError(f"gradient(): argument 'dim' must be tuple of ints, not {type(dim).__name__}")
    dims = [normalize_dim(d, ndim) for d in dim]
    for d in dims:
        if dims.count(d) > 1:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    return dims, True


def _check(input, spacing_size, dims, dim_given, edge_order):
    """aten's ``pre_check_gradient``: the same checks, in the same order, with its messages."""
    if input._data.dtype == dtypes.uint8.numpy:
        raise RuntimeError("torch.gradient does not support uint8 input.")
    if spacing_size is not None and not dim_given and spacing_size != input._data.ndim:
        raise RuntimeError(
            "torch.gradient expected spacing to be unspecified, a scalar, or a list of length equal to "
            f"'self.dim() = {input._data.ndim}', since dim argument was not given, but got a list of length {spacing_size}"
        )
    if spacing_size is not None and dim_given and spacing_size != len(dims):
        raise RuntimeError(
            "torch.gradient expected spacing to be unspecified, a scalar or it's spacing and dim arguments to have the "
            f"same length, but got a spacing argument of length {spacing_size} and a dim argument of length {len(dims)}."
        )
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    for d in dims:
        if input._data.shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least edge_order+1")


def _uniform(input, d, h, edge_order):
    """The derivative along ``d`` for samples ``h`` apart."""
    center = (_slice(input, d, 2) - _slice(input, d, 0, -2)) / h
    if edge_order == 1:
        first = (_slice(input, d, 1, 2) - _slice(input, d, 0, 1)) / h
        last = (_slice(input, d, -1) - _slice(input, d, -2, -1)) / h
    else:
        first = (-1.5 * _slice(input, d, 0, 1) + 2 * _slice(input, d, 1, 2) - 0.5 * _slice(input, d, 2, 3)) / h
        last = (0.5 * _slice(input, d, -3, -2) - 2 * _slice(input, d, -2, -1) + 1.5 * _slice(input, d, -1)) / h
    return cat([first, center / 2, last], d)


def _coordinates(input, d, x, edge_order):
    """The derivative along ``d`` for samples at the coordinates ``x`` (a 1-d tensor)."""
    if x._data.ndim != 1:
        raise RuntimeError(
            f"torch.gradient expected each element of spacing to have one dimension, but got an element with {x._data.ndim} dimensions!"
        )
    shape = [1] * input._data.ndim
    shape[d] = -1
    dx = x[1:] - x[:-1]
    dx1, dx2 = dx[:-1], dx[1:]
    a = (-dx2 / (dx1 * (dx1 + dx2))).reshape(shape)
    b = ((dx2 - dx1) / (dx1 * dx2)).reshape(shape)
    c = (dx1 / (dx2 * (dx1 + dx2))).reshape(shape)
    center = a * _slice(input, d, 0, -2) + b * _slice(input, d, 1, -1) + c * _slice(input, d, 2)
    if edge_order == 1:
        first = (_slice(input, d, 1, 2) - _slice(input, d, 0, 1)) / dx[0]
        last = (_slice(input, d, -1) - _slice(input, d, -2, -1)) / dx[-1]
    else:
        h0, h1 = dx[0], dx[1]
        first = (
            -(2.0 * h0 + h1) / (h0 * (h0 + h1)) * _slice(input, d, 0, 1)
            + (h0 + h1) / (h0 * h1) * _slice(input, d, 1, 2)
            + (-h0) / (h1 * (h0 + h1)) * _slice(input, d, 2, 3)
        )
        h1, h2 = dx[-2], dx[-1]
        last = (
            h2 / (h1 * (h2 + h1)) * _slice(input, d, -3, -2)
            - (h2 + h1) / (h2 * h1) * _slice(input, d, -2, -1)
            + (2 * h2 + h1) / (h2 * (h2 + h1)) * _slice(input, d, -1)
        )
    return cat([first, center, last], d)


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """The derivative of ``input`` along each dim of ``dim`` (all dims by default), one tensor per dim.

    ``spacing`` is the sample distance: a number for every dim, a list of numbers (one per dim),
    or a list of 1-d tensors holding each dim's sample coordinates. The interior uses central
    differences; the edges one-sided differences of order ``edge_order`` (1 or 2)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"gradient(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    dims, dim_given = _dims(input, dim)
    if isinstance(spacing, (list, tuple)):
        spacing_size, spacings = len(spacing), list(spacing)
    elif isinstance(spacing, numbers.Number) and not isinstance(spacing, bool):
        # A scalar applies to every dim differentiated: aten then checks nothing about its length.
        spacing_size, spacings = None, [spacing] * len(dims)
    else:
        raise TypeError(f"gradient(): argument 'spacing' must be Number or a list, not {type(spacing).__name__}")
    _check(input, spacing_size, dims, dim_given, edge_order)
    tensors = [isinstance(s, Tensor) for s in spacings]
    if builtins.any(tensors) and not builtins.all(tensors):
        raise TypeError("gradient(): argument 'spacing' must be a list of numbers or a list of tensors, not a mix")
    result = []
    for d, h in zip(dims, spacings):
        if isinstance(h, Tensor):
            if h.device != input.device:
                raise RuntimeError(
                    f"torch.gradient expected each tensor to be on the same device, but got devices {input.device} and {h.device}!"
                )
            result.append(_coordinates(input, d, h, edge_order))
        else:
            result.append(_uniform(input, d, h, edge_order))
    return tuple(result)
