"""Pooling: ``MaxPool`` (fixed, adaptive and fractional windows, with indices) and ``AvgPool`` (and its
adjoint), forward and backward side by side, the same array code on NumPy and CuPy, over 2 or 3
spatial dims (a 1-D input is an image of height 1).

Both walk the kernel offsets: each offset's slab (one element of every window, a strided slice of
the padded input) is compared with, or added to, the running result, so the work is a few passes
over output-sized arrays and no window is ever copied out. The max keeps the offset that won each
window; its backward adds the gradient back, offset by offset, where that offset won (no
``add.at``). Ties go to the first maximal element in scan order and NaN wins (the last NaN of a
window), as PyTorch's CPU kernels.
"""

import itertools
import math

import numpy as np

from .. import _backend as backend
from ..autograd.function import Function
from ..autograd.grad_mode import state as grad_state
from ._util import wrap
from .conv import _by_samples, _pad_zeros
from .indexing import ScatterAdd


# Batches of fewer elements are pooled whole (splitting costs tens of microseconds).
_SPLIT_MIN = 1 << 18


def _lowest(dtype):
    """The padding of a max: -inf, or an integer type's minimum."""
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _offset_dtype(count):
    return np.min_scalar_type(max(count - 1, 0))


def _scan_slabs(slabs, best, arg, first, xp):
    """Fold the slabs (one per kernel offset, in scan order) into the running max ``best`` and
    the offset ``arg`` that holds it: a strictly greater value moves it, so ties keep the first.

    NaN: PyTorch's kernels take a NaN and then every later NaN (``val > max || isnan(val)``).
    The loop leaves NaN aside (``>`` is false for it; ``maximum`` still propagates it into
    ``best``); windows whose max came out NaN then get the offset of their last NaN.
    """
    for offset in range(first, len(slabs)):
        values = slabs[offset]
        better = values > best
        # arg = offset where better: wrap-around unsigned arithmetic, several times cheaper than
        # copyto(where=) or a boolean-mask assignment (measured: 0.2 against 2.6 ms for 590k).
        step = (arg.dtype.type(offset) - arg) * better
        arg += step
        xp.maximum(best, values, out=best)
    if best.dtype.kind == "f" and (xp is not np or np.isnan(best).any()):  # on a GPU: no read-back
        for offset, values in enumerate(slabs):
            nan = values != values
            arg += (arg.dtype.type(offset) - arg) * nan
    return best, arg


def _broadcast_along(values, axis, ndim):
    """A 1-D array shaped to broadcast along ``axis`` of ``ndim`` trailing dims."""
    return values.reshape((-1,) + (1,) * (ndim - 1 - axis))


class FixedWindows:
    """The windows of max_pool: a ``Geometry`` (kernel, stride, dilation, padding; ceil_mode's
    overhang is extra padding after) over images (N, C, H, W) or volumes (N, C, D, H, W)."""

    def __init__(self, geometry):
        self.geometry = geometry

    def scan(self, images):
        """(max of each window, the offset that holds it: i * kw + j, or (i * kh + j) * kw + k).
        On the CPU a large batch is scanned in blocks of samples, one per core (conv.py's
        ``_by_samples``; with the backward's split, the MNIST CNN's step 3.5% faster on 2 AMD EPYC
        vCPUs, paired in-process)."""
        xp = backend.array_module(images)
        shape = images.shape[:2] + self.geometry.out
        best = xp.empty(shape, dtype=images.dtype)
        arg = xp.empty(shape, dtype=_offset_dtype(len(self.geometry.offsets)))
        _by_samples(lambda lo, hi: self._scan_into(images[lo:hi], best[lo:hi], arg[lo:hi]), images.shape[0], images,
                    _SPLIT_MIN)
        return best, arg

    def _scan_into(self, images, best, arg):
        geometry = self.geometry
        xp = backend.array_module(images)
        offsets = geometry.offsets
        if geometry.has_padding:
            padded = xp.full(images.shape[:2] + geometry.padded, _lowest(images.dtype), dtype=images.dtype)
            padded[geometry.center()] = images
            best.fill(_lowest(images.dtype))
            # Padding never wins: a window whose real elements are all -inf keeps its first real one.
            arg[...] = xp.asarray(self._first_real_offsets())
            first = 0
        else:
            padded = images
            best[...] = padded[geometry.slab(*offsets[0])]
            arg.fill(0)
            first = 1
        slabs = [padded[geometry.slab(*offset)] for offset in offsets]
        _scan_slabs(slabs, best, arg, first, xp)

    def _first_real_offsets(self):
        """(OH, OW) or (OD, OH, OW): the offset of each window's first element inside the image."""
        geometry = self.geometry
        ndim = len(geometry.kernel)
        flat = 0
        for axis, (out, stride, dilation, before, kernel) in enumerate(
                zip(geometry.out, geometry.stride, geometry.dilation, geometry.pad_before, geometry.kernel)):
            start = np.arange(out) * stride - before
            first = np.where(start < 0, (-start + dilation - 1) // dilation, 0)
            flat = flat * kernel + _broadcast_along(first, axis, ndim)
        return flat.astype(_offset_dtype(len(geometry.offsets)))

    def indices(self, arg):
        """Flat positions (row * W + col, or (depth * H + row) * W + col) in the unpadded image
        of the offsets in ``arg``."""
        geometry = self.geometry
        xp = backend.array_module(arg)
        kernel, ndim = geometry.kernel, len(geometry.kernel)
        offset = arg.astype(np.int64)
        flat = 0
        for axis, (out, stride, dilation, before, size) in enumerate(
                zip(geometry.out, geometry.stride, geometry.dilation, geometry.pad_before, geometry.image)):
            inner = math.prod(kernel[axis + 1:])
            along = offset // inner if inner > 1 else offset
            if axis:
                along = along % kernel[axis]
            starts = _broadcast_along(xp.arange(out, dtype=np.int64) * stride - before, axis, ndim)
            flat = flat * size + (starts + along * dilation)
        return flat

    def scatter(self, grad, arg, images_shape):
        """The max's gradient: each window's gradient added where its winning offset lies (in
        blocks of samples, one per core, as ``scan``, for a large batch without padding)."""
        if self.geometry.has_padding:
            return self._scatter_into(grad, arg, images_shape, None)
        xp = backend.array_module(grad)
        result = xp.empty(images_shape, dtype=grad.dtype)
        _by_samples(lambda lo, hi: self._scatter_into(grad[lo:hi], arg[lo:hi], (hi - lo,) + tuple(images_shape[1:]),
                                                      result[lo:hi]), images_shape[0], result, _SPLIT_MIN)
        return result

    def _scatter_into(self, grad, arg, images_shape, result):
        """``scatter`` of a block, into ``result`` (the images' shape; None: a new array)."""
        geometry = self.geometry
        xp = backend.array_module(grad)
        strides, dilations, padded = geometry.stride, geometry.dilation, geometry.padded
        # Windows that never overlap own their elements: each offset's product is written
        # straight into its slab (no temporary, no read of the target); if they also tile the
        # image, nothing needs zeroing first.
        disjoint = all((k - 1) * d + 1 <= s for k, d, s in zip(geometry.kernel, dilations, strides))
        tiled = disjoint and not geometry.has_padding and all(
            k == s and o * s == p for k, s, o, p in zip(geometry.kernel, strides, geometry.out, padded))
        if result is None:
            target = (xp.empty if tiled else xp.zeros)(images_shape[:2] + padded, dtype=grad.dtype)
        else:  # no padding: the padded images are the images
            target = result
            if not tiled:
                target.fill(0)
        for index, offset in enumerate(geometry.offsets):
            slab = target[geometry.slab(*offset)]
            won = arg == index
            if disjoint:
                xp.multiply(grad, won, out=slab)
            else:
                slab += grad * won
        return target[geometry.center()] if geometry.has_padding else target


def adaptive_bounds(size, out):
    """PyTorch's adaptive windows along one dim: [floor(i*size/out), ceil((i+1)*size/out))."""
    index = np.arange(out)
    return (index * size) // out, -((-(index + 1) * size) // out)


class AdaptiveWindows:
    """The windows of adaptive_max_pool: per dim, window i spans PyTorch's adaptive bounds."""

    def __init__(self, image, out):
        self.image, self.out = tuple(image), tuple(out)
        self.bounds = [adaptive_bounds(s, o) for s, o in zip(image, out)]
        self.widths = [int((stop - start).max()) if len(start) else 0 for start, stop in self.bounds]

    def _positions(self, axis, offset, xp):
        start, stop = self.bounds[axis]
        # Past a short window's end the last element repeats: it can tie but never win (> is strict).
        return xp.asarray(np.minimum(start + offset, stop - 1))

    def scan(self, images):
        xp = backend.array_module(images)
        widths, ndim = self.widths, len(self.widths)
        count = math.prod(widths)
        if not count:  # an output size of 0: no window
            shape = images.shape[:2] + self.out
            return xp.empty(shape, dtype=images.dtype), xp.empty(shape, dtype=_offset_dtype(1))
        # positions[axis][i]: the index along ``axis`` of each window's i-th element, shaped to broadcast.
        positions = [[_broadcast_along(self._positions(axis, i, xp), axis, ndim) for i in range(width)]
                     for axis, width in enumerate(widths)]
        slabs = [images[(slice(None), slice(None)) + tuple(positions[axis][i] for axis, i in enumerate(offset))]
                 for offset in itertools.product(*(range(w) for w in widths))]
        best = slabs[0].copy()
        arg = xp.zeros(best.shape, dtype=_offset_dtype(count))
        return _scan_slabs(slabs, best, arg, 1, xp)

    def indices(self, arg):
        xp = backend.array_module(arg)
        widths, ndim = self.widths, len(self.widths)
        offset = arg.astype(np.int64)
        flat = 0
        for axis, ((start, stop), size) in enumerate(zip(self.bounds, self.image)):
            inner = math.prod(widths[axis + 1:])
            along = offset // inner if inner > 1 else offset
            if axis:
                along = along % widths[axis]
            start, last = (_broadcast_along(xp.asarray(v), axis, ndim) for v in (start, stop - 1))
            flat = flat * size + xp.minimum(start + along, last)
        return flat

    def scatter(self, grad, arg, images_shape):
        # Adaptive windows may overlap and repeat positions: a scatter-add by flat index (off the
        # training hot path, where fixed windows take the offset loop).
        return _scatter_by_index(self.indices(arg), grad, images_shape)


def _scatter_by_index(indices, grad, images_shape):
    """The max's gradient by flat index (per plane) with a scatter-add: for windows that may
    overlap (adaptive, fractional), where a position can win several windows."""
    xp = backend.array_module(grad)
    planes = images_shape[0] * images_shape[1]
    area = math.prod(images_shape[2:])
    flat = indices.reshape(planes, math.prod(indices.shape[2:])) + (xp.arange(planes, dtype=np.int64) * area)[:, None]
    target = xp.zeros(planes * area, dtype=grad.dtype)
    backend.scatter_add(target, flat.reshape(-1), grad.reshape(-1))
    return target.reshape(images_shape)


def fractional_starts(samples, size, out, kernel):
    """PyTorch's ``generate_intervals`` for every plane at once: the first index of each window
    along one dim, from ``samples`` (N, C), in the samples' own dtype (as PyTorch computes in the
    input's ``scalar_t``, rounding included). Window i < out - 1 starts at
    trunc((i + u) * alpha) - trunc(u * alpha), alpha = (size - kernel) / (out - 1); the last
    one ends at the image's edge. Returns (N, C, out) int64."""
    xp = backend.array_module(samples)
    starts = xp.full(samples.shape + (out,), size - kernel, dtype=np.int64)
    if out > 1:
        real = samples.dtype.type
        alpha = real(size - kernel) / real(out - 1)
        steps = xp.arange(out - 1).astype(samples.dtype)
        u = samples[..., None]
        # astype truncates toward zero, as C++'s static_cast<int>.
        starts[..., :-1] = ((steps + u) * alpha).astype(np.int64) - (u * alpha).astype(np.int64)
    return starts


class FractionalWindows:
    """The windows of fractional_max_pool (Graham's pseudo-random pooling): per plane (n, c), the
    starts along each dim come from that plane's samples (``fractional_starts``); every window
    has the kernel's size, and neighbours may overlap. ``samples`` is (N', C, dims) with N' >= N,
    column ``columns[axis]`` feeding spatial axis ``axis`` (PyTorch's 2-D op reads W from column
    0 and H from 1; its 3-D op T, H, W from 0, 1, 2)."""

    def __init__(self, samples, columns, image, out, kernel):
        self.samples, self.columns = samples, columns
        self.image, self.out, self.kernel = tuple(image), tuple(out), tuple(kernel)
        # Flat offset of each kernel element from its window's start, in scan order (t, h, w).
        strides = [math.prod(self.image[axis + 1:]) for axis in range(len(self.image))]
        self.deltas = [sum(o * s for o, s in zip(offset, strides))
                       for offset in itertools.product(*(range(max(k, 0)) for k in self.kernel))]
        self.strides = strides

    def _bases(self, count):
        """(N, C, *out): the flat index of each window's first element in its plane."""
        ndim = len(self.image)
        base = 0
        for axis, (size, out, kernel, stride) in enumerate(zip(self.image, self.out, self.kernel, self.strides)):
            starts = fractional_starts(self.samples[:count, :, self.columns[axis]], size, out, kernel)
            shape = starts.shape[:2] + (1,) * axis + (out,) + (1,) * (ndim - 1 - axis)
            base = base + starts.reshape(shape) * stride
        return base

    def scan(self, images):
        xp = backend.array_module(images)
        count, channels = images.shape[:2]
        shape = images.shape[:2] + self.out
        self._base = base = self._bases(count)  # indices() reads it after the scan
        if not self.deltas:  # an empty kernel: every max is -inf, at the window's start (as PyTorch)
            return (xp.full(shape, _lowest(images.dtype), dtype=images.dtype),
                    xp.zeros(shape, dtype=_offset_dtype(1)))
        # One gather of every window's elements: (N, C, K, OH * OW), a slab per kernel offset.
        deltas = xp.asarray(np.array(self.deltas, dtype=np.int64))
        where = base.reshape(count, channels, 1, math.prod(self.out)) + deltas[:, None]
        values = xp.take_along_axis(images.reshape(count, channels, 1, math.prod(self.image)), where, axis=3)
        slabs = [values[:, :, k].reshape(shape) for k in range(len(self.deltas))]
        best = slabs[0].copy()
        arg = xp.zeros(shape, dtype=_offset_dtype(len(self.deltas)))
        return _scan_slabs(slabs, best, arg, 1, xp)

    def indices(self, arg):
        xp = backend.array_module(arg)
        base = self._base
        if not self.deltas:
            return base + xp.zeros(arg.shape, dtype=np.int64)
        return base + xp.asarray(np.array(self.deltas, dtype=np.int64))[arg.astype(np.int64)]

    def scatter(self, grad, arg, images_shape):
        return _scatter_by_index(self.indices(arg), grad, images_shape)


class MaxPool(Function):
    """Max over windows (``FixedWindows`` or ``AdaptiveWindows``) of (N, C, H, W) or (N, C, D, H, W),
    or of (N, C, L) when ``spatial`` is 1; also returns the flat indices when ``return_indices``."""

    @staticmethod
    def forward(ctx, input, windows, spatial, return_indices):
        data = input._data
        images = data.reshape(data.shape[:-1] + (1, data.shape[-1])) if spatial == 1 else data
        best, arg = windows.scan(images)
        ctx.save_for_backward(wrap(arg))
        ctx.windows, ctx.shape, ctx.spatial = windows, images.shape, spatial
        out = wrap(_squeeze_height(best, spatial))
        if not return_indices:
            return out
        indices = wrap(_squeeze_height(windows.indices(arg), spatial))
        ctx.mark_non_differentiable(indices)
        return out, indices

    @staticmethod
    def backward(ctx, grad_output, *unused):
        (arg,) = ctx.saved_tensors
        windows, shape, spatial = ctx.windows, ctx.shape, ctx.spatial
        if not grad_state.enabled:
            grad = grad_output._data.reshape(shape[:2] + arg._data.shape[2:])
            return wrap(windows.scatter(grad, arg._data, shape).reshape(_unpooled_shape(shape, spatial))), None, None, None
        # create_graph: a scatter-add by flat index, differentiable in the gradient.
        count, channels = shape[:2]
        flat = wrap(windows.indices(arg._data).reshape(count, channels, -1))
        xp = backend.array_module(flat._data)
        zeros = wrap(xp.zeros((count, channels, math.prod(shape[2:])), dtype=grad_output._data.dtype))
        grad = ScatterAdd.apply(zeros, 2, flat, grad_output.reshape(count, channels, -1))
        return grad.reshape(_unpooled_shape(shape, spatial)), None, None, None


def _squeeze_height(array, spatial):
    return array.reshape(array.shape[:2] + (array.shape[-1],)) if spatial == 1 else array


def _unpooled_shape(shape, spatial):
    return shape[:2] + (shape[3],) if spatial == 1 else shape


# -- average -------------------------------------------------------------------------------------
def _average(images, geometry, divisor):
    xp = backend.array_module(images)
    offsets = geometry.offsets
    padded = _pad_zeros(images, geometry)
    integer = images.dtype.kind in "iub"
    total = padded[geometry.slab(*offsets[0])].astype(np.int64 if integer else images.dtype)
    for offset in offsets[1:]:
        total += padded[geometry.slab(*offset)]
    if integer:  # PyTorch divides integers truncating toward zero
        return xp.trunc(total / divisor).astype(images.dtype)
    total /= divisor
    return total


def _average_adjoint(grad, geometry, divisor, images_shape):
    xp = backend.array_module(grad)
    share = grad / divisor
    target = xp.zeros(images_shape[:2] + geometry.padded, dtype=grad.dtype)
    for offset in geometry.offsets:
        target[geometry.slab(*offset)] += share
    return target[geometry.center()] if geometry.has_padding else target


class AvgPool(Function):
    """Mean over fixed windows of (N, C, H, W) or (N, C, D, H, W) (or (N, C, L) when ``spatial`` is
    1), each window's sum divided by ``divisor`` (a number, or an array of the output's spatial
    shape, same dtype); with ``transposed``
    the adjoint (the gradient of pooling images of ``images_shape``). Linear: each direction is
    the other's backward."""

    @staticmethod
    def forward(ctx, input, geometry, divisor, images_shape, transposed):
        ctx.geometry, ctx.divisor, ctx.images_shape, ctx.transposed = geometry, divisor, images_shape, transposed
        data = input._data
        spatial = geometry.spatial
        if spatial == 1:
            data = data.reshape(data.shape[:-1] + (1, data.shape[-1]))
        if transposed:
            result = _average_adjoint(data, geometry, divisor, images_shape)
        else:
            result = _average(data, geometry, divisor)
        return wrap(_squeeze_height(result, spatial))

    @staticmethod
    def backward(ctx, grad_output):
        grad = AvgPool.apply(grad_output, ctx.geometry, ctx.divisor, ctx.images_shape, not ctx.transposed)
        return grad, None, None, None, None
