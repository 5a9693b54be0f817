"""Convolutions: ``ConvNd`` (1-D, 2-D and 3-D, plain or transposed), ``Unfold`` (im2col) and
``Fold`` (col2im), forward and backward side by side, the same array code on NumPy and CuPy.

How a convolution is computed (shown in 2-D; a 1-D signal is an image of height 1, and a 3-D
volume has one more spatial dim everywhere, kd and OD included):

- the kernel windows of the (zero-padded) input are a strided view (``as_strided``, no copy) of
  shape (n, C, kh, kw, OH, OW), copied a few samples at a time into a column buffer (im2col) the
  size of the CPU cache, and multiplied by the weight in one GEMM per chunk, written straight into
  the (N, O, OH, OW) output: no transposed copy of the output, and no im2col buffer for the whole
  batch is ever held (nor saved for backward: the weight gradient rebuilds the columns chunk by
  chunk, which measured faster than keeping them, as the columns of a chunk stay in the cache);
- the input gradient is the adjoint: the weight's transpose times the output gradient, then
  col2im, which adds each of the kh * kw kernel offsets' slab into a strided slice of the result
  (no ``add.at``); a transposed convolution's forward is this same adjoint, and its input
  gradient a plain convolution;
- the weight gradient is the output gradient times the columns' transpose, summed over samples;
- on the CPU the batch is cut into one block of samples per core, each computed as above with
  single-threaded products on its own thread (OpenBLAS's, tinytorch/_threads.py): im2col and
  col2im then run on every core, not on one between OpenBLAS's two-thread products, and the
  products need no synchronization inside (the MNIST CNN's 32->64 layer at batch 64, 2 AMD EPYC
  vCPUs: forward 11.5 -> 9.5 ms, backward 28.5 -> 22.7 ms, and no slower in the VM's slow spells,
  where the two-thread products took 27-37 and 53-68 ms). The weight gradient is summed per block
  and the blocks' sums added: the last bits depend on the number of blocks.

With ``create_graph=True`` the backward is written with the same Functions (a convolution's input
gradient is a transposed convolution; the weight gradient is ``Unfold`` and a matmul), so every
order of derivative is available.
"""

import itertools
import math

import numpy as np

from .. import _backend as backend
from .. import _threads
from ..autograd.function import Function
from ..autograd.grad_mode import state as grad_state
from ._util import wrap

# Column buffers of about this many bytes stay in the CPU's L2/L3 cache while the GEMM reads them
# (measured on the MNIST CNN's 32->64 3x3 layer at batch 64, 2 cores: chunks of 4 to 8 samples,
# 2.6 to 5.3 MB, gave 12 ms forward against 16 ms for the whole batch in one buffer). On a GPU the
# whole batch is one chunk, up to this many bytes.
_CPU_CHUNK_BYTES = 4 << 20
_GPU_CHUNK_BYTES = 1 << 28


class Geometry:
    """Where the kernel windows of a 2-D or 3-D convolution (or pooling) lie.

    ``image``: the (H, W) or (D, H, W) the kernel slides over, unpadded (a convolution's input, a
    transposed convolution's output); ``out``: the (OH, OW) or (OD, OH, OW) grid of window
    positions (a convolution's output). ``pad_before``/``pad_after`` may differ (padding='same'
    with an even kernel). ``spatial`` is the op's count of spatial dims: the sizes' own count,
    except 1 for 1-D ops, whose geometry is 2-D and whose arrays gain a height of 1 on the way in.
    """

    __slots__ = ("kernel", "stride", "dilation", "pad_before", "pad_after", "image", "out", "spatial", "offsets")

    def __init__(self, kernel, stride, dilation, pad_before, pad_after, image, out, spatial=None):
        self.kernel, self.stride, self.dilation = tuple(kernel), tuple(stride), tuple(dilation)
        self.pad_before, self.pad_after = tuple(pad_before), tuple(pad_after)
        self.image, self.out = tuple(image), tuple(out)
        self.spatial = len(self.kernel) if spatial is None else spatial
        # The kernel offsets (i, j) or (i, j, k), in scan order (the last dim fastest).
        self.offsets = tuple(itertools.product(*(range(k) for k in self.kernel)))

    @property
    def padded(self):
        return tuple(i + b + a for i, b, a in zip(self.image, self.pad_before, self.pad_after))

    @property
    def has_padding(self):
        return any(self.pad_before) or any(self.pad_after)

    def lift(self, array):
        """(N, C, L) -> (N, C, 1, L) for a 1-D op (a view); 2-D and 3-D arrays pass."""
        return array.reshape(array.shape[:-1] + (1, array.shape[-1])) if self.spatial == 1 else array

    def drop(self, array):
        """The inverse of ``lift``: (N, C, 1, L) -> (N, C, L) for a 1-D op."""
        return array.reshape(array.shape[:-2] + (array.shape[-1],)) if self.spatial == 1 else array

    def slab(self, *offset):
        """The index of the padded image positions that kernel offset (i, j[, k]) sees, one per window."""
        return (Ellipsis,) + tuple(slice(o * d, o * d + s * (n - 1) + 1, s)
                                   for o, d, s, n in zip(offset, self.dilation, self.stride, self.out))

    def center(self):
        """The index of the unpadded image inside the padded one."""
        return (Ellipsis,) + tuple(slice(b, b + size) for b, size in zip(self.pad_before, self.image))


def _chunk(count, bytes_per_sample, xp):
    budget = _CPU_CHUNK_BYTES if xp is np else _GPU_CHUNK_BYTES
    return max(1, min(count, budget // max(bytes_per_sample, 1)))


def _by_samples(function, count, images, minimum=None):
    """``function(lo, hi)`` over blocks of the batch's ``count`` samples, one per core on OpenBLAS's
    threads (where NumPy's OpenBLAS has its thread server: the products inside each block then run
    on their block's thread), else once over all of them with the BLAS's own threading. Only for
    ``images`` of ``minimum`` elements or more (``_SPLIT_MIN`` by default)."""
    minimum = _SPLIT_MIN if minimum is None else minimum
    large = images.__class__ is np.ndarray and images.size >= minimum
    _threads.run(function, _threads.server_pieces(count, align=1) if large else [0, count])


# Batches of fewer elements run whole: splitting costs tens of microseconds.
_SPLIT_MIN = 1 << 14


def _windows(images, geometry):
    """The kernel windows of padded images (n, C, Hp, Wp) as a view (n, C, kh, kw, OH, OW)
    (and the same with a depth in 3-D)."""
    xp = backend.array_module(images)
    steps = images.strides[2:]
    within = tuple(s * d for s, d in zip(steps, geometry.dilation))
    between = tuple(s * t for s, t in zip(steps, geometry.stride))
    return xp.lib.stride_tricks.as_strided(
        images, images.shape[:2] + geometry.kernel + geometry.out, images.strides[:2] + within + between
    )


def _pad_zeros(images, geometry):
    """The images with the geometry's zero padding (the same array when there is none)."""
    if not geometry.has_padding:
        return images
    xp = backend.array_module(images)
    padded = xp.zeros(images.shape[:2] + geometry.padded, dtype=images.dtype)
    padded[geometry.center()] = images
    return padded


def _columns(images, geometry, step=None):
    """Yield (start, stop, columns): the im2col matrix (n, C*kh*kw, OH*OW) of samples
    start:stop, a few at a time, in one reused buffer (rows ordered c, i, j as PyTorch's unfold)."""
    xp = backend.array_module(images)
    count, channels = images.shape[:2]
    rows, length = channels * math.prod(geometry.kernel), math.prod(geometry.out)
    step = step or _chunk(count, rows * length * images.itemsize, xp)
    buffer = xp.empty((min(step, count), rows, length), dtype=images.dtype)
    padded = xp.zeros((min(step, count), channels) + geometry.padded, dtype=images.dtype) if geometry.has_padding else None
    center = geometry.center()
    for start in range(0, count, step):
        stop = min(count, start + step)
        n = stop - start
        source = images[start:stop]
        if padded is not None:  # only the center is rewritten: the border stays zero
            padded[:n][center] = source
            source = padded[:n]
        columns = buffer[:n]
        columns.reshape((n, channels) + geometry.kernel + geometry.out)[...] = _windows(source, geometry)
        yield start, stop, columns


def _add_windows(target, columns, geometry):
    """col2im: add each kernel offset's slab of columns (n, C, kh, kw, OH, OW) into the padded
    images ``target`` (n, C, Hp, Wp), one strided slice per offset."""
    for offset in geometry.offsets:
        target[geometry.slab(*offset)] += columns[(slice(None), slice(None)) + offset]


def convolve(images, weight, geometry, groups):
    """Cross-correlation of images (N, C, H, W) with weight (O, C/groups, kh, kw): (N, O, OH, OW)
    (and the same with a depth in 3-D)."""
    xp = backend.array_module(images)
    count = images.shape[0]
    out_channels = weight.shape[0]
    rows, length = weight.shape[1] * math.prod(geometry.kernel), math.prod(geometry.out)
    kernel = weight.reshape(groups, out_channels // groups, rows)
    out = xp.empty((count, groups, out_channels // groups, length), dtype=images.dtype)

    def block(lo, hi):
        for start, stop, columns in _columns(images[lo:hi], geometry):
            backend.matmul(kernel, columns.reshape(stop - start, groups, rows, length), out=out[lo + start:lo + stop])

    _by_samples(block, count, images)
    return out.reshape((count, out_channels) + geometry.out)


class _Adjoint:
    """The adjoint of ``convolve`` in its images, chunk by chunk: grad (N, O, OH, OW) ->
    (N, C, H, W), the weight's transpose times each chunk of the gradient, then col2im.

    With stride 1 the columns are computed over the padded width Wp instead of OW (in 3-D: over
    the padded Hp * Wp instead of OH * OW; the gradient copied into a zero-padded buffer, a few
    percent more GEMM work): each kernel offset's slab is then one contiguous run of the
    flattened image, so col2im adds kh * kw long runs per (sample, channel) instead of OH short
    rows each (the extra columns are zeros, and where they run past a row they add nothing).
    Measured on the MNIST CNN's 32->64 layer: the input gradient 29 -> 22 ms on one core.
    """

    def __init__(self, grad, weight, geometry, groups, result=None):
        xp = self.xp = backend.array_module(grad)
        count, out_channels = grad.shape[:2]
        out = geometry.out
        inner_padded, inner_out = math.prod(geometry.padded[1:]), math.prod(out[1:])
        self.wide = all(s == 1 for s in geometry.stride) and 2 * (inner_padded - inner_out) <= inner_out
        inner = inner_padded if self.wide else inner_out
        self.channels, self.length = weight.shape[1] * groups, out[0] * inner
        self.rows = weight.shape[1] * math.prod(geometry.kernel)
        self.kernel_t = weight.reshape(groups, out_channels // groups, self.rows).transpose(0, 2, 1)
        self.grad = grad.reshape((count, groups, out_channels // groups) + out)
        self.geometry, self.count, self.groups = geometry, count, groups
        self.step = _chunk(count, groups * self.rows * self.length * grad.itemsize, xp)
        step = min(self.step, count)  # the buffers' samples (none for an empty batch)
        if result is None:
            result = xp.zeros((count, self.channels) + geometry.image, dtype=grad.dtype)
        elif not geometry.has_padding:
            result.fill(0)  # col2im adds into it (a padded image is copied into it instead)
        self.result = result
        self.buffer = xp.empty((step, groups, self.rows, self.length), dtype=grad.dtype)
        self.padded = xp.empty((step, self.channels) + geometry.padded, dtype=grad.dtype) if geometry.has_padding else None
        wide_shape = (step,) + self.grad.shape[1:4] + geometry.padded[1:]
        self.grad_wide = xp.zeros(wide_shape, dtype=grad.dtype) if self.wide else None
        # Where the gradient goes in the wide buffer (the rest stays zero).
        self.inside = (Ellipsis,) + tuple(slice(0, o) for o in out[1:])

    def chunk(self, start, stop):
        n, geometry = stop - start, self.geometry
        if self.wide:
            grad = self.grad_wide[:n]
            grad[self.inside] = self.grad[start:stop]
        else:
            grad = self.grad[start:stop]
        columns = self.buffer[:n]
        backend.matmul(self.kernel_t, grad.reshape(grad.shape[:3] + (-1,)), out=columns)
        if self.padded is None:
            target = self.result[start:stop]
        else:
            target = self.padded[:n]
            target.fill(0)
        if self.wide:
            _add_runs(target, columns.reshape((n, self.channels) + geometry.kernel + (self.length,)), geometry)
        else:
            _add_windows(target, columns.reshape((n, self.channels) + geometry.kernel + geometry.out), geometry)
        if self.padded is not None:
            self.result[start:stop] = target[geometry.center()]


def _add_runs(target, columns, geometry):
    """col2im for stride 1 from columns over the padded width (n, C, kh, kw, OH * Wp): offset
    (i, j) adds one run starting at i * dh * Wp + j * dw of the flattened (n, C, Hp * Wp) target
    (in 3-D, offset (i, j, k) at i * dd * Hp * Wp + j * dh * Wp + k * dw of (n, C, Dp * Hp * Wp)).
    Runs are cut at the image's end: only the zero columns reach past it."""
    padded = geometry.padded
    size = math.prod(padded)
    steps = [math.prod(padded[d + 1:]) * dilation for d, dilation in enumerate(geometry.dilation)]
    flat = target.reshape(target.shape[:2] + (size,))
    length = columns.shape[-1]
    for offset in geometry.offsets:
        begin = sum(o * s for o, s in zip(offset, steps))
        run = min(length, size - begin)
        flat[:, :, begin:begin + run] += columns[(slice(None), slice(None)) + offset + (slice(0, run),)]


def convolve_adjoint(grad, weight, geometry, groups):
    """The adjoint of ``convolve`` in its images: grad (N, O, OH, OW) -> (N, C, H, W). It is a
    convolution's input gradient and a transposed convolution's forward."""
    xp = backend.array_module(grad)
    count = grad.shape[0]
    result = xp.empty((count, weight.shape[1] * groups) + geometry.image, dtype=grad.dtype)

    def block(lo, hi):
        adjoint = _Adjoint(grad[lo:hi], weight, geometry, groups, result[lo:hi])
        for start in range(0, adjoint.count, adjoint.step):
            adjoint.chunk(start, min(adjoint.count, start + adjoint.step))

    _by_samples(block, count, grad)
    return result


def conv_gradients(images, grad, weight, geometry, groups, need_images, need_weight):
    """(d/d images, d/d weight) of sum(grad * convolve(images, weight)), either None when not
    needed, in one pass over chunks of samples (each chunk of ``grad`` serves both products
    while it is in the cache). The weight gradient is, per group, the sum over samples of
    columns (C/groups*kh*kw, L) @ grad^T (L, O/groups): that orientation measured ~15% faster
    with OpenBLAS than grad @ columns^T."""
    if not need_weight:
        return (convolve_adjoint(grad, weight, geometry, groups) if need_images else None), None
    xp = backend.array_module(images)
    count, out_channels = grad.shape[:2]
    per_group = out_channels // groups
    rows, length = math.prod(weight.shape[1:]), math.prod(geometry.out)
    result = xp.empty((count, weight.shape[1] * groups) + geometry.image, dtype=grad.dtype) if need_images else None
    grad_t = grad.reshape(count, groups, per_group, length).transpose(0, 1, 3, 2)
    totals = {}

    def block(lo, hi):
        adjoint = _Adjoint(grad[lo:hi], weight, geometry, groups, result[lo:hi]) if need_images else None
        total = xp.zeros((groups, rows, per_group), dtype=images.dtype)
        for start, stop, columns in _columns(images[lo:hi], geometry, adjoint.step if adjoint else None):
            columns = columns.reshape(stop - start, groups, rows, length)
            total += backend.reduce_sum(backend.matmul(columns, grad_t[lo + start:lo + stop]), 0)
            if adjoint is not None:
                adjoint.chunk(start, stop)
        totals[lo] = total

    _by_samples(block, count, images)
    total = totals.pop(0)
    for lo in sorted(totals):  # the blocks' sums in order: the same bits on every run
        total += totals[lo]
    grad_weight = total.transpose(0, 2, 1).reshape(weight.shape)
    return result, grad_weight


class ConvNd(Function):
    """A 1-D, 2-D or 3-D convolution (cross-correlation) with optional bias, or (``transposed``) its
    adjoint, the transposed convolution; ``geometry`` (a ``Geometry``) holds the sizes, the
    image side being the input (plain) or the output (transposed).

    Forward and the backward without create_graph run on arrays (im2col + one GEMM per chunk of
    samples; col2im by kernel offset); with create_graph the backward is made of ConvNd, Unfold
    and matmul, so it is differentiable again.
    """

    @staticmethod
    def forward(ctx, input, weight, bias, geometry, groups, transposed):
        images, kernel = geometry.lift(input._data), geometry.lift(weight._data)
        if transposed:
            out = convolve_adjoint(images, kernel, geometry, groups)
        else:
            out = convolve(images, kernel, geometry, groups)
        if bias is not None:
            out += bias._data.reshape((1, -1) + (1,) * (out.ndim - 2))
        ctx.save_for_backward(input, weight)
        ctx.geometry, ctx.groups, ctx.transposed, ctx.has_bias = geometry, groups, transposed, bias is not None
        return wrap(geometry.drop(out))

    @staticmethod
    def backward(ctx, grad_output):
        input, weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        geometry, groups, transposed = ctx.geometry, ctx.groups, ctx.transposed
        if not grad_state.enabled:
            return _conv_backward_arrays(input, weight, grad_output, needs, geometry, groups, transposed, ctx.has_bias)
        # create_graph: the same gradients as differentiable ops.
        grad_input = grad_weight = grad_bias = None
        if needs[0]:
            grad_input = ConvNd.apply(grad_output, weight, None, geometry, groups, not transposed)
        if needs[1]:
            image_side, window_side = (grad_output, input) if transposed else (input, grad_output)
            count = window_side.shape[0]
            columns = Unfold.apply(image_side, geometry)
            columns = columns.reshape(count, groups, columns.shape[1] // groups, columns.shape[2])
            window_side = window_side.reshape(count, groups, window_side.shape[1] // groups, -1)
            grad_weight = (window_side @ columns.mT).sum(0).reshape(weight.shape)
        if ctx.has_bias and needs[2]:
            grad_bias = grad_output.sum((0,) + tuple(range(2, grad_output.dim())))
        return grad_input, grad_weight, grad_bias, None, None, None


def _conv_backward_arrays(input, weight, grad_output, needs, geometry, groups, transposed, has_bias):
    grad = geometry.lift(grad_output._data)
    images, kernel = geometry.lift(input._data), geometry.lift(weight._data)
    grad_input = grad_weight = grad_bias = None
    if transposed:  # the image side is the output: the input's gradient is a convolution
        if needs[0]:
            grad_input = wrap(geometry.drop(convolve(grad, kernel, geometry, groups)))
        if needs[1]:
            _, result = conv_gradients(grad, images, kernel, geometry, groups, False, True)
            grad_weight = wrap(result.reshape(weight._data.shape))
    elif needs[0] or needs[1]:
        result_input, result_weight = conv_gradients(images, grad, kernel, geometry, groups, needs[0], needs[1])
        grad_input = wrap(geometry.drop(result_input)) if needs[0] else None
        grad_weight = wrap(result_weight.reshape(weight._data.shape)) if needs[1] else None
    if has_bias and needs[2]:
        grad_bias = wrap(backend.reduce_sum(grad, (0,) + tuple(range(2, grad.ndim))))
    return grad_input, grad_weight, grad_bias, None, None, None


def unfold_array(images, geometry):
    """im2col of the whole batch: (N, C, H, W) -> (N, C*kh*kw, OH*OW) (and the same in 3-D)."""
    xp = backend.array_module(images)
    count, channels = images.shape[:2]
    out = xp.empty((count, channels * math.prod(geometry.kernel), math.prod(geometry.out)), dtype=images.dtype)
    out.reshape((count, channels) + geometry.kernel + geometry.out)[...] = _windows(_pad_zeros(images, geometry), geometry)
    return out


def fold_array(columns, geometry):
    """col2im, summing overlaps: (N, C*kh*kw, OH*OW) -> (N, C, H, W) (and the same in 3-D)."""
    xp = backend.array_module(columns)
    count = columns.shape[0]
    channels = columns.shape[1] // math.prod(geometry.kernel)
    target = xp.zeros((count, channels) + geometry.padded, dtype=columns.dtype)
    _add_windows(target, columns.reshape((count, channels) + geometry.kernel + geometry.out), geometry)
    return target[geometry.center()] if geometry.has_padding else target


class Unfold(Function):
    """im2col (PyTorch's F.unfold): the kernel windows of (N, C, H, W) as columns (N, C*kh*kw, L).
    Its adjoint is Fold, and each is the other's backward."""

    @staticmethod
    def forward(ctx, input, geometry):
        ctx.geometry = geometry
        return wrap(unfold_array(geometry.lift(input._data), geometry))

    @staticmethod
    def backward(ctx, grad_output):
        return Fold.apply(grad_output, ctx.geometry), None


class Fold(Function):
    """col2im (PyTorch's F.fold): columns (N, C*kh*kw, L) summed back into images (N, C, H, W)."""

    @staticmethod
    def forward(ctx, input, geometry):
        ctx.geometry = geometry
        return wrap(geometry.drop(fold_array(input._data, geometry)))

    @staticmethod
    def backward(ctx, grad_output):
        return Unfold.apply(grad_output, ctx.geometry), None
