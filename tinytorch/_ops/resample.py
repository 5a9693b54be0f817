"""``Resample``: the one primitive under every mode of ``F.interpolate``.

Each mode (nearest, nearest-exact, linear/bilinear/trilinear, bicubic, area, and the antialiased
bilinear/bicubic filters) is separable: along each spatial axis an output position ``j`` is a
weighted sum of a few input positions, ``out[j] = sum_k weight[j, k] * x[index[j, k]]`` (the
"taps" of ``j``). A Resample applies one such tap table per axis, one axis after the other, with
``take`` along the axis: no dense interpolation matrix, no per-pixel Python.

The backward of a linear map is its transpose, and the transpose of a tap table is again a tap
table (input position ``i`` collects ``weight[j, k] * grad[j]`` over every ``(j, k)`` with
``index[j, k] == i``), built once on the host. So ``Resample.backward`` is a Resample with the
transposed tables: a gather, never a scatter-add with repeated indices (``np.add.at``), the same
code on NumPy and CuPy, and differentiable again for ``create_graph=True``.

The tables follow PyTorch's CPU kernels (``UpSample.h``, ``UpSampleKernel.cpp``): how source
positions are computed from the scale (``align_corners``, a given ``scale_factor`` against the
ratio of sizes), PyTorch's clamping at the borders, its cubic coefficients (A = -0.75) and its
antialiasing filters (PIL's, A = -0.5 for bicubic). Tables are cached by their arguments.
"""

import functools
import math

import numpy as np

from .. import _backend as backend
from ..autograd.function import Function
from ._util import wrap

_CUBIC_A = -0.75  # PyTorch's bicubic (as TensorFlow's and OpenCV's)
_ANTIALIAS_CUBIC_A = -0.5  # PyTorch's antialiased bicubic follows PIL's filter


class Taps:
    """One axis' resampling table: ``index`` (out, K) int64 and ``weight`` (out, K) floats, or
    ``weight`` None when every tap has weight 1 (nearest, and sums like its transpose). Index
    ``in_size`` points at a zero appended to the axis (``padded``): the filler of rows with
    fewer than K taps, so that they read 0 * 0, never 0 * inf."""

    def __init__(self, index, weight, in_size, out_size):
        self.index, self.weight = index, weight
        self.in_size, self.out_size = in_size, out_size
        self.padded = bool((index == in_size).any())
        # The identity (out == in, each position reading itself with weight 1, or 0 on extra taps).
        self.identity = in_size == out_size and bool((index[:, 0] == np.arange(out_size)).all()) and (
            weight is None and index.shape[1] == 1
            or weight is not None and bool((weight[:, 0] == 1).all() and (weight[:, 1:] == 0).all()))
        self._on_device = {}
        self._transposed = None

    def on(self, array):
        """(index, weight) arrays on ``array``'s device, in its dtype (cached)."""
        device = backend.device_of(array)
        key = (device, array.dtype)
        found = self._on_device.get(key)
        if found is None:
            weight = None if self.weight is None else self.weight.astype(array.dtype)
            columns = [backend.to_device(np.ascontiguousarray(self.index[:, k]), device) for k in range(self.index.shape[1])]
            weights = None if weight is None else [backend.to_device(np.ascontiguousarray(weight[:, k]), device)
                                                   for k in range(weight.shape[1])]
            found = self._on_device[key] = (columns, weights)
        return found

    def apply(self, array, axis):
        """``array`` resampled along ``axis``: out[..., j, ...] = sum_k w[j, k] x[..., index[j, k], ...]."""
        xp = backend.array_module(array)
        columns, weights = self.on(array)
        if self.padded:
            shape = list(array.shape)
            shape[axis] = 1
            array = xp.concatenate([array, xp.zeros(shape, dtype=array.dtype)], axis=axis)
        broadcast = (-1,) + (1,) * (array.ndim - axis - 1)
        out = None
        for k, column in enumerate(columns):
            picked = xp.take(array, column, axis=axis)
            if weights is not None:
                picked *= weights[k].reshape(broadcast)
            if out is None:
                out = picked
            else:
                out += picked
        return out

    def transposed(self):
        """The tap table of the transpose (cached; its transpose is this table again)."""
        if self._transposed is None:
            self._transposed = _transpose(self)
            self._transposed._transposed = self
        return self._transposed


def _transpose(taps):
    """Input position i gathers (j, w) for every tap (j, k) of weight w != 0 that reads i."""
    index, weight = taps.index, taps.weight
    rows = np.repeat(np.arange(taps.out_size), index.shape[1])
    sources = index.reshape(-1)
    values = np.ones(sources.size) if weight is None else weight.reshape(-1).astype(np.float64)
    keep = (sources < taps.in_size) & (values != 0)
    rows, sources, values = rows[keep], sources[keep], values[keep]
    order = np.argsort(sources, kind="stable")  # by input position, then by output position
    rows, sources, values = rows[order], sources[order], values[order]
    counts = np.bincount(sources, minlength=taps.in_size)
    width = max(int(counts.max()) if counts.size else 0, 1)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(sources.size) - np.repeat(starts, counts)
    new_index = np.full((taps.in_size, width), taps.out_size, dtype=np.int64)  # padding: the appended zero
    new_weight = np.zeros((taps.in_size, width), dtype=np.float64)
    new_index[sources, rank] = rows
    new_weight[sources, rank] = values
    # Weights of 1 stay implicit: the padding reads the appended zero whatever its weight.
    return Taps(new_index, None if weight is None else new_weight, taps.out_size, taps.in_size)


class Resample(Function):
    """Separable resampling along several axes: ``plan`` is a tuple of ``(axis, Taps)``."""

    @staticmethod
    def forward(ctx, x, plan):
        ctx.plan = plan
        data = x._data
        half = data.dtype == np.float16  # computed in float32, as PyTorch's opmath
        out = data.astype(np.float32) if half else data
        if not plan:  # every axis kept its size: a copy, never the input's own memory
            out = out.copy()
        for axis, taps in plan:
            out = taps.apply(out, axis)
        return wrap(out.astype(np.float16) if half else out)

    @staticmethod
    def backward(ctx, grad_output):
        return Resample.apply(grad_output, tuple((axis, taps.transposed()) for axis, taps in reversed(ctx.plan))), None


def resample(x, plan):
    return Resample.apply(x, plan)


# -- tap tables, one per (mode, sizes, scale, dtype) ------------------------------------------------
def _compute_dtype(dtype_name):
    """PyTorch's opmath type: float for float16/float32 inputs, double for float64."""
    return np.float64 if dtype_name == "float64" else np.float32


def _scale(in_size, out_size, align_corners, scale_factor, dtype):
    """area_pixel_compute_scale: the step in input positions per output position."""
    if align_corners:
        return dtype(in_size - 1) / dtype(out_size - 1) if out_size > 1 else dtype(0)
    if scale_factor is not None and scale_factor > 0:
        return dtype(1.0 / scale_factor)
    return dtype(in_size) / dtype(out_size)


def _source_positions(scale, out_size, align_corners, cubic, dtype):
    """area_pixel_compute_source_index for every output position."""
    positions = np.arange(out_size).astype(dtype)
    if align_corners:
        return scale * positions
    source = scale * (positions + dtype(0.5)) - dtype(0.5)
    return source if cubic else np.maximum(source, dtype(0))


@functools.lru_cache(maxsize=1024)
def axis_taps(mode, in_size, out_size, align_corners, scale_factor, dtype_name, antialias=False, nearest_shortcuts=False):
    """The Taps of one axis for one of F.interpolate's modes.

    Where PyTorch's kernels take shortcuts, so do these tables: the (bi/tri)linear and the
    antialiased modes leave an axis whose size does not change as it is (whatever the scale
    factor); ``nearest_shortcuts`` (PyTorch's 2-D nearest kernel) also copies when the size does
    not change and halves the index when it doubles."""
    dtype = _compute_dtype(dtype_name)
    if mode in ("nearest", "nearest-exact"):
        if nearest_shortcuts and out_size in (in_size, 2 * in_size):
            return Taps((np.arange(out_size) // (out_size // in_size))[:, None], None, in_size, out_size)
        return _nearest(mode, in_size, out_size, scale_factor, dtype)
    if mode == "area":
        return _area(in_size, out_size)
    if in_size == out_size and (antialias or mode != "bicubic"):
        return Taps(np.arange(out_size)[:, None], None, in_size, out_size)
    if antialias:
        return _antialiased(mode, in_size, out_size, align_corners, scale_factor, dtype)
    scale = _scale(in_size, out_size, align_corners, scale_factor, dtype)
    source = _source_positions(scale, out_size, align_corners, mode == "bicubic", dtype)
    # guard_index_and_lambda: the position's integer part (clamped) and its fraction in [0, 1].
    base = np.minimum(np.floor(source).astype(np.int64), in_size - 1)
    fraction = np.clip(source - base.astype(dtype), 0, 1).astype(np.float64)
    if mode == "bicubic":
        index = np.clip(base[:, None] + np.arange(-1, 3), 0, in_size - 1)
        return Taps(index, _cubic_coefficients(fraction, _CUBIC_A), in_size, out_size)
    # (bi/tri)linear: the next position, or the same one again at the last.
    index = np.stack([base, base + (base < in_size - 1)], axis=1)
    return Taps(index, np.stack([1 - fraction, fraction], axis=1), in_size, out_size)


def _nearest(mode, in_size, out_size, scale_factor, dtype):
    scale = _scale(in_size, out_size, False, scale_factor, dtype)
    positions = np.arange(out_size).astype(dtype)
    if mode == "nearest-exact":
        positions = positions + dtype(0.5)
    source = np.minimum(np.floor(positions * scale).astype(np.int64), in_size - 1)
    return Taps(source[:, None], None, in_size, out_size)


def _area(in_size, out_size):
    """Adaptive average pooling's windows: [floor(j in / out), ceil((j + 1) in / out))."""
    starts = (np.arange(out_size) * in_size) // out_size
    ends = ((np.arange(out_size) + 1) * in_size + out_size - 1) // out_size
    return _windows(starts, ends - starts, lambda offsets, counts: np.ones_like(offsets, dtype=np.float64) / counts, in_size, out_size)


def _windows(starts, sizes, weigh, in_size, out_size):
    """Taps over the windows [start, start + size) of each output, weighted by ``weigh``."""
    width = max(int(sizes.max()) if sizes.size else 0, 1)
    offsets = np.arange(width)[None, :]
    inside = offsets < sizes[:, None]
    index = np.where(inside, starts[:, None] + offsets, in_size)
    weight = np.where(inside, weigh(offsets, sizes[:, None].astype(np.float64)), 0.0)
    return Taps(index, weight, in_size, out_size)


def _cubic_coefficients(t, a):
    """The four weights of the cubic convolution at fraction ``t`` (PyTorch's get_cubic_upsample_coefficients)."""
    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return np.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], axis=1)


def _antialiased(mode, in_size, out_size, align_corners, scale_factor, dtype):
    """PIL's resampling filters, as PyTorch's _upsample_{bilinear,bicubic}2d_aa: the filter widens
    with the downscaling factor, so every input pixel contributes."""
    scale = float(_scale(in_size, out_size, align_corners, scale_factor, dtype))
    taps = 2 if mode == "bilinear" else 4
    support = taps * 0.5 * scale if scale >= 1.0 else taps * 0.5
    max_taps = int(math.ceil(support)) * 2 + 1
    invscale = 1.0 / scale if scale >= 1.0 else 1.0
    centers = scale * (np.arange(out_size) + 0.5)
    starts = np.maximum(np.trunc(centers - support + 0.5).astype(np.int64), 0)
    sizes = np.clip(np.minimum(np.trunc(centers + support + 0.5).astype(np.int64), in_size) - starts, 0, max_taps)

    def weigh(offsets, counts):
        x = np.abs((offsets + starts[:, None] - centers[:, None] + 0.5) * invscale)
        if mode == "bilinear":
            w = np.maximum(1 - x, 0)
        else:
            a = _ANTIALIAS_CUBIC_A
            w = np.where(x < 1, ((a + 2) * x - (a + 3)) * x * x + 1,
                         np.where(x < 2, ((a * x - 5 * a) * x + 8 * a) * x - 4 * a, 0.0))
        w = np.where(offsets < counts, w, 0.0)
        total = w.sum(axis=1, keepdims=True)
        return np.where(total != 0, w / np.where(total != 0, total, 1), w)

    return _windows(starts, sizes, weigh, in_size, out_size)


__all__ = ["Resample", "Taps", "axis_taps", "resample"]
