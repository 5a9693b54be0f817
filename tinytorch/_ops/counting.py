"""Counting values: ``unique``, ``bincount``, ``histc`` and ``histogram``.

None of these is differentiable (PyTorch has no derivative for them either): they return
tensors outside the graph. Their sizes depend on the data, so on a GPU each reads it back.
"""

import operator

import numpy as np

from .. import _backend as backend, _dtypes as dtypes
from .._tensor import Tensor
from ._util import check_tensor_argument, normalize_dim, return_type, wrap, write_out


histogram_type = return_type("histogram", ["hist", "bin_edges"])


def _tensor_argument(name, input):
    check_tensor_argument(name, input)
    return input._data


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values of ``input`` (``dim=None``: flattened) or its distinct slices along
    ``dim``, in ascending order; with ``return_inverse`` each element's (slice's) index among
    them, with ``return_counts`` how often each occurs. The order is ascending even when
    ``sorted=False`` (PyTorch's CPU kernel does the same; the order is then unspecified)."""
    data = _tensor_argument("unique", input)
    xp = backend.array_module(data)
    if dim is None:
        values, inverse, counts = xp.unique(data.reshape(-1), return_inverse=True, return_counts=True)
        inverse = inverse.reshape(data.shape)
    else:
        if data.ndim == 0:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        d = normalize_dim(dim, data.ndim)
        zero_sized = [i for i, s in enumerate(data.shape) if s == 0]
        if len(zero_sized) > 1:
            raise RuntimeError("Number of zero sized dimensions is more than one, so unique cannot be applied ")
        if zero_sized and zero_sized[0] != d:
            raise RuntimeError("There are 0 sized dimensions, and they aren't selected, so unique cannot be applied")
        moved = xp.moveaxis(data, d, 0)
        if zero_sized:  # nothing to compare: no slices at all
            values, inverse, counts = data, xp.zeros(0, dtype=np.int64), xp.zeros(0, dtype=np.int64)
        else:
            rows, inverse, counts = xp.unique(moved.reshape(data.shape[d], -1), axis=0, return_inverse=True, return_counts=True)
            values = xp.moveaxis(rows.reshape((rows.shape[0],) + moved.shape[1:]), 0, d)
            inverse = inverse.reshape(-1)
    outputs = [wrap(xp.ascontiguousarray(values))]
    if return_inverse:
        outputs.append(wrap(inverse.astype(np.int64, copy=False)))
    if return_counts:
        outputs.append(wrap(counts.astype(np.int64, copy=False)))
    return outputs[0] if len(outputs) == 1 else tuple(outputs)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """``unique`` of runs: each value (slice) that differs from the one before it, in order."""
    data = _tensor_argument("unique_consecutive", input)
    xp = backend.array_module(data)
    d = 0 if dim is None else normalize_dim(dim, data.ndim)
    rows = data.reshape(-1, 1) if dim is None else xp.moveaxis(data, d, 0).reshape(data.shape[d], -1)
    starts = xp.ones(rows.shape[0], dtype=bool)
    if rows.shape[0] > 1:
        starts[1:] = (rows[1:] != rows[:-1]).any(axis=1)
    first = xp.flatnonzero(starts)
    if dim is None:
        values = data.reshape(-1)[first]
    else:
        values = xp.moveaxis(xp.moveaxis(data, d, 0)[first], 0, d)
    outputs = [wrap(xp.ascontiguousarray(values))]
    if return_inverse:
        inverse = xp.cumsum(starts) - 1
        outputs.append(wrap(inverse.reshape(data.shape if dim is None else -1).astype(np.int64)))
    if return_counts:
        outputs.append(wrap(xp.diff(xp.append(first, rows.shape[0])).astype(np.int64)))
    return outputs[0] if len(outputs) == 1 else tuple(outputs)


def bincount(input, weights=None, minlength=0):
    """How often each non-negative integer occurs in the 1-D ``input`` (summing ``weights`` instead
    when given), at least ``minlength`` long."""
    data = _tensor_argument("bincount", input)
    if data.ndim != 1 or data.dtype.kind not in "iu":
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is not None and (not isinstance(weights, Tensor) or weights._data.shape != data.shape):
        raise RuntimeError("weights should be 1-d and have the same length as input")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if data.size and int(data.min()) < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    xp = backend.array_module(data)
    if weights is None:
        return wrap(xp.bincount(data, minlength=minlength).astype(np.int64, copy=False))
    w = weights._data
    counted = xp.bincount(data, weights=w.astype(np.float64), minlength=minlength)
    return wrap(counted.astype(w.dtype if w.dtype.kind == "f" else np.float64, copy=False))


def _check_float(name, data):
    if data.dtype.kind != "f":
        raise NotImplementedError(f"\"{name}\" not implemented for '{dtypes.scalar_type_name(data.dtype)}'")


def _range_of(data, low, high):
    """PyTorch's histogram range: the data's own when low == high (widened by 1 each way when
    that is one value too)."""
    if low == high and data.size:
        low, high = float(data.min()), float(data.max())
    if low == high:
        low, high = low - 1, high + 1
    return low, high


def histc(input, bins=100, min=0, max=0, *, out=None):
    """A histogram of ``input`` in ``bins`` equal bins from ``min`` to ``max`` (the data's range
    when they are equal); values outside are ignored. Same dtype as ``input``."""
    if out is not None:
        return write_out(out, "histc", histc, input, bins, min, max)
    data = _tensor_argument("histc", input)
    _check_float("histogram_cpu", data)
    bins = operator.index(bins)
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    if min > max:
        raise RuntimeError("torch.histc: max must be larger than min")
    if not (np.isfinite(min) and np.isfinite(max)):
        raise RuntimeError(f"torch.histc: range of [{min}, {max}] is not finite")
    low, high = _range_of(data, float(min), float(max))
    counts, _ = backend.array_module(data).histogram(data.reshape(-1), bins=bins, range=(low, high))
    return wrap(counts.astype(data.dtype))


def histogram(input, bins, *, range=None, weight=None, density=False, out=None):
    """(hist, bin_edges): counts (or summed ``weight``; a density with ``density=True``) of
    ``input`` in ``bins`` equal bins over ``range`` (the data's range by default), or in the bins
    between the edges of a 1-D tensor ``bins``."""
    data = _tensor_argument("histogram", input)
    _check_float("histogram_cpu", data)
    xp = backend.array_module(data)
    if isinstance(bins, Tensor):
        if bins._data.ndim != 1 or bins._data.shape[0] < 1:
            raise RuntimeError("torch.histogram(): bins tensor should have one dimension and at least 1 element")
        edges = bins._data.astype(data.dtype)
    else:
        count = operator.index(bins)
        if count <= 0:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {count} for dimension 0")
        low, high = (0.0, 0.0) if range is None else (float(range[0]), float(range[1]))
        if low > high:
            raise RuntimeError(f"torch.histogram(): min should not exceed max, but got min {low} max {high} for dimension 0")
        low, high = _range_of(data, low, high)
        edges = xp.linspace(low, high, count + 1).astype(data.dtype)
    if weight is not None and (not isinstance(weight, Tensor) or weight._data.shape != data.shape):
        raise RuntimeError("torch.histogram(): if weight tensor is provided it should have the same shape as the input tensor")
    w = None if weight is None else weight._data.reshape(-1)
    counts, _ = xp.histogram(data.reshape(-1), bins=edges, weights=w, density=density)
    result = histogram_type(wrap(counts.astype(data.dtype)), wrap(edges))
    if out is not None:
        hist_out, edges_out = out
        return histogram_type(write_out(hist_out, "histogram", lambda: result.hist), write_out(edges_out, "histogram", lambda: result.bin_edges))
    return result
