"""``grid_sampler`` and ``affine_grid_generator``: the primitives under ``F.grid_sample`` and
``F.affine_grid`` (torch has both, and ``grid_sampler_2d``/``grid_sampler_3d``, at its top level).

Every mode of grid sampling is a sum over a few "taps" per output position:
``out[n, c, p] = sum_k weight[n, k, p] * input[n, c, index[n, k, p]]`` (4 taps for bilinear, 8 for
trilinear, 16 for bicubic, 1 for nearest), where a tap outside the input (``zeros`` padding)
reads 0. The indices depend on the grid only through ``floor``/``round`` (piecewise constant);
the weights are smooth functions of the source coordinates. So the op is split into:

- ``SourceIndex``: grid -> source pixel coordinates, PyTorch's ``grid_sampler_compute_source_index``
  (unnormalize, then clip or reflect by ``padding_mode``), with PyTorch's gradient multipliers
  (0 outside and *on* the border when clipping, -1 on a reflected stretch);
- the weights, written with tensor ops on those coordinates (so the grid's gradient, and its
  second derivative, follow from autograd);
- ``TapSum``, the weighted gather above, linear in the input and in the weights. Its two
  partial contractions are ``TapScatter`` (the input's gradient: a scatter-add) and ``TapDot``
  (the weights' gradient); each of the three is the others' backward, so gradients of any order
  need no more code.

The arithmetic follows PyTorch's CPU kernels step for step (float32 results agree to rounding):
the vectorized 2-D kernel (``cpu/GridSamplerKernel.cpp``) and the scalar 3-D one
(``GridSampler.cpp``/``GridSampler.h``). They differ on non-finite grids, and so do we: in 2-D a
NaN coordinate clips to 0 (``border``/``reflection``) and poisons the bilinear/bicubic weights
(``zeros``: NaN output); in 3-D it clips to the last pixel, and a tap outside the input adds
nothing (``zeros``: output 0).
"""

import numpy as np

from .. import _backend as backend
from ..autograd.function import Function
from .._dtypes import scalar_type_name
from ._util import check_tensor_arguments, quiet, wrap
from .binary import where
from .matmul import matmul
from .movement import stack

BILINEAR, NEAREST, BICUBIC = 0, 1, 2
ZEROS, BORDER, REFLECTION = 0, 1, 2
_CUBIC_A = -0.75  # PyTorch's cubic convolution constant (UpSample.h)
_INT_LIMIT = 2.0 ** 31  # beyond it the kernels' int conversion of a flip count is INT_MIN (even)


# -- the tap primitives ---------------------------------------------------------------------------
class Taps:
    """Where each output position reads: ``index`` (N, K, P) flat positions in the input's
    spatial dims (of size ``size``), and ``valid`` (N, K, P) bool, False where the tap lies
    outside the input and reads 0 (None: every tap is inside)."""

    def __init__(self, index, valid, size):
        self.index, self.valid, self.size = index, valid, size

    def gather(self, flat, k):
        """(N, C, P): the values of tap ``k`` of every output position, from ``flat`` (N, C, S)."""
        xp = backend.array_module(flat)
        count, channels = flat.shape[:2]
        values = flat[xp.arange(count)[:, None, None], xp.arange(channels)[None, :, None], self.index[:, None, k, :]]
        if self.valid is not None:
            values = xp.where(self.valid[:, None, k, :], values, values.dtype.type(0))
        return values

    def scatter(self, target, k, contribution):
        """target (N, C, S) += ``contribution`` (N, C, P) at tap ``k``'s positions, repeated
        positions summed; contributions of taps outside the input are dropped."""
        xp = backend.array_module(target)
        count, channels = target.shape[:2]
        if self.valid is not None:
            contribution = xp.where(self.valid[:, None, k, :], contribution, contribution.dtype.type(0))
        planes = (xp.arange(count)[:, None] * channels + xp.arange(channels)[None, :]) * self.size
        flat_index = planes[:, :, None] + self.index[:, None, k, :]
        backend.scatter_add(target.reshape(-1), flat_index.reshape(-1), contribution.reshape(-1))


class TapSum(Function):
    """out[n, c, p] = sum_k weights[n, k, p] * input[n, c, index[n, k, p]]: input (N, C, S),
    weights (N, K, P), out (N, C, P)."""

    @staticmethod
    def forward(ctx, input, weights, taps):
        ctx.taps = taps
        ctx.save_for_backward(input, weights)
        flat, weight = input._data, weights._data
        out = None
        for k in range(weight.shape[1]):
            # The order of PyTorch's kernels: (v0 * w0 + v1 * w1) + ...
            term = taps.gather(flat, k) * weight[:, None, k, :]
            out = term if out is None else out.__iadd__(term)
        return wrap(out)

    @staticmethod
    def backward(ctx, grad_output):
        input, weights = ctx.saved_tensors
        taps = ctx.taps
        grad_input = TapScatter.apply(grad_output, weights, taps) if ctx.needs_input_grad[0] else None
        grad_weights = TapDot.apply(input, grad_output, taps) if ctx.needs_input_grad[1] else None
        return grad_input, grad_weights, None


class TapScatter(Function):
    """The transpose of ``TapSum`` in its input: out[n, c, index[n, k, p]] += weights[n, k, p] *
    values[n, c, p]; values (N, C, P), out (N, C, S)."""

    @staticmethod
    def forward(ctx, values, weights, taps):
        ctx.taps = taps
        ctx.save_for_backward(values, weights)
        data, weight = values._data, weights._data
        xp = backend.array_module(data)
        out = xp.zeros(data.shape[:2] + (taps.size,), dtype=data.dtype)
        for k in range(weight.shape[1]):
            taps.scatter(out, k, data * weight[:, None, k, :])
        return wrap(out)

    @staticmethod
    def backward(ctx, grad_output):
        values, weights = ctx.saved_tensors
        taps = ctx.taps
        grad_values = TapSum.apply(grad_output, weights, taps) if ctx.needs_input_grad[0] else None
        grad_weights = TapDot.apply(grad_output, values, taps) if ctx.needs_input_grad[1] else None
        return grad_values, grad_weights, None


class TapDot(Function):
    """The gradient of ``TapSum`` in its weights: out[n, k, p] = sum_c input[n, c, index[n, k, p]]
    * values[n, c, p]; input (N, C, S), values (N, C, P), out (N, K, P)."""

    @staticmethod
    def forward(ctx, input, values, taps):
        ctx.taps = taps
        ctx.save_for_backward(input, values)
        flat, data = input._data, values._data
        xp = backend.array_module(flat)
        count, taps_per_position, positions = taps.index.shape
        out = xp.empty((count, taps_per_position, positions), dtype=data.dtype)
        for k in range(taps_per_position):
            out[:, k, :] = (taps.gather(flat, k) * data).sum(axis=1)
        return wrap(out)

    @staticmethod
    def backward(ctx, grad_output):
        input, values = ctx.saved_tensors
        taps = ctx.taps
        grad_input = TapScatter.apply(values, grad_output, taps) if ctx.needs_input_grad[0] else None
        grad_values = TapSum.apply(input, grad_output, taps) if ctx.needs_input_grad[1] else None
        return grad_input, grad_values, None


class SourceIndex(Function):
    """A piecewise-linear map of the grid: its value is ``source`` and its derivative the
    ``slope`` (both arrays of the grid's shape, computed by ``_source_index``)."""

    @staticmethod
    def forward(ctx, grid, source, slope):
        ctx.slope = slope
        return wrap(source)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * wrap(ctx.slope), None, None


# -- source coordinates: PyTorch's unnormalize / clip / reflect ------------------------------------
def _unnormalize(coord, size, align_corners, scalar):
    """Grid values in [-1, 1] to pixel coordinates, and the derivative. ``scalar``: the formula
    of PyTorch's scalar kernels (3-D), else the vectorized 2-D kernel's."""
    dtype = coord.dtype.type
    if align_corners:
        slope = dtype(size - 1) / dtype(2)
        value = (coord + dtype(1)) / dtype(2) * dtype(size - 1) if scalar else (coord + dtype(1)) * slope
    else:
        slope = dtype(size) / dtype(2)
        if scalar:
            value = ((coord + dtype(1)) * dtype(size) - dtype(1)) / dtype(2)
        else:  # the compiled vectorized kernel fuses this into one fma: (in + 1) * slope - 0.5
            value = _fused_multiply_add(coord + dtype(1), slope, dtype(-0.5))
    return value, slope


def _fused_multiply_add(a, b, c):
    """a * b + c rounded once, as an fma instruction (``b``, ``c`` scalars): float32 through the
    exact float64 product, float64 through Dekker's error-free product and sum."""
    xp = backend.array_module(a)
    if a.dtype != np.float64:
        return (a.astype(np.float64) * float(b) + float(c)).astype(a.dtype)
    product = a * b
    split = 134217729.0  # 2**27 + 1: Veltkamp's split of a double into two 26-bit halves
    t = a * split
    a_high = t - (t - a)
    a_low = a - a_high
    t = b * split
    b_high = t - (t - b)
    b_low = b - b_high
    product_error = ((a_high * b_high - product) + a_high * b_low + a_low * b_high) + a_low * b_low
    total = product + c
    back = total - product
    sum_error = (product - (total - back)) + (c - back)
    fused = total + (sum_error + product_error)
    return xp.where(xp.isfinite(fused), fused, product + c)  # huge or non-finite: the plain result


def _clip(coord, size, scalar):
    """Clip to [0, size - 1]: NaN goes to 0 in the 2-D kernel, to size - 1 in the scalar one
    (std::min(limit, NaN) is the limit). The derivative is 0 outside *and on* the borders."""
    xp = backend.array_module(coord)
    limit = coord.dtype.type(size - 1)
    if scalar:
        value = xp.fmin(xp.maximum(coord, 0), limit)
    else:
        value = xp.minimum(xp.fmax(coord, 0), limit)
    return value, (coord > 0) & (coord < limit)


def _reflect(coord, size, align_corners, scalar):
    """Reflect by the borders (the pixel centers with align_corners, else the image edges) until
    inside; returns the value and the sign of its derivative."""
    xp = backend.array_module(coord)
    dtype = coord.dtype.type
    if align_corners and size <= 1:  # an empty span: everything reflects to 0
        return xp.zeros_like(coord), xp.zeros(coord.shape, dtype=bool)
    low = dtype(0) if align_corners else dtype(-0.5)
    shifted = coord - low
    negative = shifted < 0
    distance = xp.abs(shifted)
    if scalar:  # reflect_coordinates: fmod by the span, flips counted by an int conversion
        span = dtype(size - 1) if align_corners else dtype(size)
        extra = xp.fmod(distance, span)
        flips = xp.floor(distance / span)
        even = ~(flips < _INT_LIMIT) | (xp.fmod(flips, 2) == 0)
        value = xp.where(even, extra + low, span - extra + low)
        flipped = ~even
    else:  # ComputeLocationBase: trunc by twice the span, then the nearer of the two reflections
        twice_span = dtype(2 * (size - 1)) if align_corners else dtype(2 * size)
        extra = distance - xp.trunc(distance / twice_span) * twice_span
        reflected = twice_span - extra
        value = xp.minimum(extra, reflected) + low
        flipped = extra > reflected
    return value, flipped != negative


def _source_index(coord, size, padding_mode, align_corners, scalar):
    """grid_sampler_compute_source_index on one coordinate: (source, slope) arrays."""
    xp = backend.array_module(coord)
    value, scale = _unnormalize(coord, size, align_corners, scalar)
    if padding_mode == ZEROS:
        return value, xp.full(coord.shape, scale, dtype=coord.dtype)
    flipped = None
    if padding_mode == REFLECTION:
        value, flipped = _reflect(value, size, align_corners, scalar)
    value, inside = _clip(value, size, scalar)
    slope = xp.where(inside, scale, coord.dtype.type(0))
    return value, slope if flipped is None else xp.where(flipped, -slope, slope)


# -- the modes: weights (tensor ops on the source coordinates) and taps ----------------------------
def _corner_taps(corners, sizes):
    """Taps at integer-valued float corners (one (x, y[, z]) tuple of arrays per tap) of an input
    of spatial sizes (W, H[, D]); a corner outside (or NaN) is invalid."""
    xp = backend.array_module(corners[0][0])
    index, valid = [], []
    for corner in corners:
        inside = None
        for c, size in zip(corner, sizes):
            check = (c > -1) & (c < size)
            inside = check if inside is None else inside & check
        flat, stride = None, 1
        for c, size in zip(corner, sizes):
            term = xp.where(inside, c, 0).astype(np.int64) * stride
            flat = term if flat is None else flat + term
            stride *= size
        index.append(flat)
        valid.append(inside)
    return Taps(xp.stack(index, axis=1), xp.stack(valid, axis=1), int(np.prod(sizes)))


def _bilinear(sources, sizes):
    """The 2-D kernel's weights: nw = s * e, ne = s * w, sw = n * e, se = n * w."""
    x, y = sources
    x_west, y_north = [backend.array_module(x._data).floor(c._data) for c in sources]
    w = x - wrap(x_west)
    e = 1 - w
    n = y - wrap(y_north)
    s = 1 - n
    corners = [(x_west, y_north), (x_west + 1, y_north), (x_west, y_north + 1), (x_west + 1, y_north + 1)]
    return stack([s * e, s * w, n * e, n * w], dim=1), _corner_taps(corners, sizes)


def _trilinear(sources, sizes):
    """The 3-D kernel's weights, tnw = (ix_bse - ix) * (iy_bse - iy) * (iz_bse - iz) and so on;
    a tap outside the input is skipped (its weight, NaN for a NaN grid, is replaced by 0)."""
    xp = backend.array_module(sources[0]._data)
    low = [xp.floor(c._data) for c in sources]
    high = [c + 1 for c in low]
    to_low = [c - wrap(c0) for c, c0 in zip(sources, low)]  # the weight of the high corner
    to_high = [wrap(c1) - c for c, c1 in zip(sources, high)]  # the weight of the low corner
    corners, weights = [], []
    for up_z in (False, True):  # t(op) then b(ottom); each nw, ne, sw, se, as PyTorch orders them
        for up_y in (False, True):
            for up_x in (False, True):
                picks = (up_x, up_y, up_z)
                corners.append(tuple(high[i] if picks[i] else low[i] for i in range(3)))
                factors = [to_low[i] if picks[i] else to_high[i] for i in range(3)]
                weights.append(factors[0] * factors[1] * factors[2])
    taps = _corner_taps(corners, sizes)
    stacked = stack(weights, dim=1)
    return where(wrap(taps.valid), stacked, wrap(xp.zeros((), dtype=stacked._data.dtype))), taps


def _nearest(grid, values, sizes):
    """One tap at the rounded coordinates (half to even, as nearbyint); its weight is 1 and its
    gradient in the grid 0 (PyTorch's too), still a function of the grid for autograd."""
    xp = backend.array_module(grid._data)
    corner = tuple(xp.rint(value) for value in values)
    dtype = grid._data.dtype
    ones = SourceIndex.apply(grid, xp.ones(grid.shape, dtype=dtype), xp.zeros(grid.shape, dtype=dtype))
    return ones[:, :, :1].transpose(1, 2), _corner_taps([corner], sizes)


def _cubic_weights(t):
    """get_cubic_upsample_coefficients of the fraction ``t`` (a tensor), A = -0.75."""
    a = _CUBIC_A

    def far(x):  # 1 < |x| < 2
        return ((x * a - 5 * a) * x + 8 * a) * x - 4 * a

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _bicubic(sources, sizes, padding_mode, align_corners):
    """16 taps around floor(x), floor(y) of the unnormalized (unpadded) coordinates; each tap's
    position is clipped or reflected on its own, the weights are products of cubic coefficients."""
    xp = backend.array_module(sources[0]._data)
    x, y = sources
    x0, y0 = xp.floor(x._data), xp.floor(y._data)
    coefficients_x, coefficients_y = _cubic_weights(x - wrap(x0)), _cubic_weights(y - wrap(y0))
    columns = [_padded_position(x0 + (i - 1), sizes[0], padding_mode, align_corners) for i in range(4)]
    rows = [_padded_position(y0 + (j - 1), sizes[1], padding_mode, align_corners) for j in range(4)]
    index, valid, weights = [], [], []
    for j in range(4):
        for i in range(4):
            (column, column_inside), (row, row_inside) = columns[i], rows[j]
            index.append(row * sizes[0] + column)
            valid.append(column_inside & row_inside)
            weights.append(coefficients_x[i] * coefficients_y[j])
    return stack(weights, dim=1), Taps(xp.stack(index, axis=1), xp.stack(valid, axis=1), sizes[0] * sizes[1])


def _padded_position(position, size, padding_mode, align_corners):
    """A bicubic tap's integer position through the 2-D kernel's compute_coordinates: (index,
    inside) arrays."""
    xp = backend.array_module(position)
    if padding_mode == REFLECTION:
        position = _reflect(position, size, align_corners, False)[0]
    if padding_mode != ZEROS:
        position = _clip(position, size, False)[0]
    inside = (position > -1) & (position < size)
    return xp.where(inside, position, 0).astype(np.int64), inside


# -- the public functions -------------------------------------------------------------------------
def _sample(input, grid, interpolation_mode, padding_mode, align_corners):
    """Grid sampling of (N, C, *spatial) by (N, *out, dims) once the arguments are checked."""
    if input._data.dtype == np.float16:  # computed in float32, as PyTorch's opmath
        return _sample(input.float(), grid.float(), interpolation_mode, padding_mode, align_corners).half()
    xp = backend.array_module(input._data)
    count, channels = input.shape[:2]
    out_spatial = tuple(grid.shape[1:-1])
    sizes = tuple(input.shape[2:])[::-1]  # in the grid's order: x (W), y (H)[, z (D)]
    dims = len(sizes)
    flat_grid = grid.reshape(count, int(np.prod(out_spatial)), dims)
    coords = flat_grid._data
    scalar = dims == 3  # the 3-D kernel is scalar code, the 2-D one vectorized: their formulas differ
    with quiet():  # inf and NaN grids: PyTorch's kernels are silent
        if interpolation_mode == BICUBIC:  # padding applies to each tap, and adds no gradient
            pairs = [_unnormalize(coords[..., d], sizes[d], align_corners, scalar) for d in range(dims)]
            pairs = [(value, xp.full(value.shape, slope, dtype=value.dtype)) for value, slope in pairs]
        else:
            pairs = [_source_index(coords[..., d], sizes[d], padding_mode, align_corners, scalar) for d in range(dims)]
        if interpolation_mode == NEAREST:
            weights, taps = _nearest(flat_grid, [value for value, _ in pairs], sizes)
        else:
            source = SourceIndex.apply(flat_grid, xp.stack([v for v, _ in pairs], axis=-1), xp.stack([s for _, s in pairs], axis=-1))
            sources = [source[:, :, d] for d in range(dims)]
            if interpolation_mode == BICUBIC:
                weights, taps = _bicubic(sources, sizes, padding_mode, align_corners)
            elif dims == 2:
                weights, taps = _bilinear(sources, sizes)
            else:
                weights, taps = _trilinear(sources, sizes)
        out = TapSum.apply(input.reshape(count, channels, taps.size), weights, taps)
    return out.reshape((count, channels) + out_spatial)


def _check_arguments(input, grid, interpolation_mode, padding_mode, align_corners):
    check_tensor_arguments("grid_sampler", input=input, grid=grid)
    for position, (name, value) in enumerate((("interpolation_mode", interpolation_mode), ("padding_mode", padding_mode)), 3):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
            raise TypeError(f"grid_sampler(): argument '{name}' (position {position}) must be int, not {type(value).__name__}")
    if not isinstance(align_corners, (bool, np.bool_)):
        raise TypeError(f"grid_sampler(): argument 'align_corners' (position 5) must be bool, not {type(align_corners).__name__}")
    if interpolation_mode not in (BILINEAR, NEAREST, BICUBIC) or padding_mode not in (ZEROS, BORDER, REFLECTION):
        # PyTorch does not check its enums (an unknown value is undefined behaviour).
        raise RuntimeError(f"grid_sampler(): unknown interpolation_mode {interpolation_mode} or padding_mode {padding_mode}")
    # check_grid_sampler_common
    if input.dim() == 0 or grid.dim() == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    if input.device != grid.device:
        raise RuntimeError(
            f"grid_sampler(): expected input and grid to be on same device, but input is on {input.device} and grid is on {grid.device}"
        )
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError(
            "grid_sampler(): expected grid and input to have same batch size, but got input with sizes "
            f"{list(input.shape)} and grid with sizes {list(grid.shape)}"
        )
    if grid.shape[-1] != input.dim() - 2:
        raise RuntimeError(
            f"grid_sampler(): expected grid to have size {input.dim() - 2} in last dimension, but got grid with sizes {list(grid.shape)}"
        )
    for i in range(2, input.dim()):
        if input.shape[i] <= 0:
            raise RuntimeError(
                "grid_sampler(): expected input to have non-empty spatial dimensions, but input has sizes "
                f"{list(input.shape)} with dimension {i} being empty"
            )


def _check_dims(input, grid, dims, interpolation_mode):
    if not (input.dim() == dims + 2 and grid.dim() == input.dim()):
        raise RuntimeError(
            f"grid_sampler(): expected {dims + 2}D input and grid with same number of dimensions, but got input with sizes "
            f"{list(input.shape)} and grid with sizes {list(grid.shape)}"
        )
    if dims == 3 and interpolation_mode == BICUBIC:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    kernel = "grid_sampler_2d_cpu_kernel_impl" if dims == 2 else "grid_sampler3d_cpu"
    dtype = input._data.dtype
    if dtype.kind != "f":
        raise NotImplementedError(f'"{kernel}" not implemented for \'{scalar_type_name(dtype)}\'')
    if grid._data.dtype != dtype:
        raise RuntimeError(f"expected scalar type {scalar_type_name(dtype)} but found {scalar_type_name(grid._data.dtype)}")


def grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners):
    """Sample ``input`` (N, C, H, W) or (N, C, D, H, W) at the normalized positions of ``grid``
    (N, H_out, W_out, 2) or (N, D_out, H_out, W_out, 3). ``interpolation_mode``: 0 bilinear,
    1 nearest, 2 bicubic (4-D only); ``padding_mode``: 0 zeros, 1 border, 2 reflection."""
    _check_arguments(input, grid, interpolation_mode, padding_mode, align_corners)
    dims = 2 if input.dim() == 4 else 3
    _check_dims(input, grid, dims, interpolation_mode)
    return _sample(input, grid, int(interpolation_mode), int(padding_mode), bool(align_corners))


def grid_sampler_2d(input, grid, interpolation_mode, padding_mode, align_corners):
    """``grid_sampler`` of a 4-D input."""
    _check_arguments(input, grid, interpolation_mode, padding_mode, align_corners)
    _check_dims(input, grid, 2, interpolation_mode)
    return _sample(input, grid, int(interpolation_mode), int(padding_mode), bool(align_corners))


def grid_sampler_3d(input, grid, interpolation_mode, padding_mode, align_corners):
    """``grid_sampler`` of a 5-D input (bilinear, which is trilinear here, or nearest)."""
    _check_arguments(input, grid, interpolation_mode, padding_mode, align_corners)
    _check_dims(input, grid, 3, interpolation_mode)
    return _sample(input, grid, int(interpolation_mode), int(padding_mode), bool(align_corners))


# -- affine grids ---------------------------------------------------------------------------------
def _linspace_from_neg_one(steps, align_corners, dtype):
    """PyTorch's base-grid axis: linspace(-1, 1) (its two-sided formula), scaled by (n - 1) / n
    without align_corners; a single step is 0."""
    if steps <= 1:
        return np.zeros(1, dtype=dtype)
    scalar = np.dtype(dtype).type
    step = scalar(2) / scalar(steps - 1)
    i = np.arange(steps)
    values = np.where(i < steps // 2, scalar(-1) + step * i.astype(dtype), scalar(1) - step * (steps - 1 - i).astype(dtype))
    values = values.astype(dtype)
    if not align_corners:
        values = values * scalar(steps - 1) / scalar(steps)
    return values.astype(dtype)


def _base_grid(spatial, align_corners, dtype):
    """(prod(spatial), dims + 1): the normalized (x, y[, z], 1) of every output position."""
    axes = [_linspace_from_neg_one(size, align_corners, dtype) for size in spatial]
    mesh = np.meshgrid(*axes, indexing="ij")  # D, H, W order
    columns = [m.reshape(-1) for m in reversed(mesh)] + [np.ones(int(np.prod(spatial)), dtype=dtype)]
    return np.stack(columns, axis=1)


def affine_grid_generator(theta, size, align_corners):
    """The sampling grid of the affine maps ``theta`` (N, 2, 3) or (N, 3, 4) over an output of
    ``size`` (N, C, H, W) or (N, C, D, H, W): grid = base_grid @ theta^T, (N, H, W, 2) or (N, D, H, W, 3)."""
    if not isinstance(align_corners, (bool, np.bool_)):
        raise TypeError(f"affine_grid_generator(): argument 'align_corners' (position 3) must be bool, not {type(align_corners).__name__}")
    size = [int(s) for s in size]
    if len(size) not in (4, 5):
        raise RuntimeError("AffineGridGenerator needs 4d (spatial) or 5d (volumetric) inputs.")
    count, spatial = size[0], size[2:]
    dims = len(spatial)
    if theta.dim() != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if theta.shape[0] != count or theta.shape[2] != dims + 1:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{count}, {dims + 1}] but got: "
            f"[{theta.shape[0]}, {theta.shape[2]}]."
        )
    if theta.shape[1] != dims:
        out = [count] + spatial + [dims]
        raise RuntimeError(f"shape '{out}' is invalid for input of size {count * int(np.prod(spatial)) * theta.shape[1]}")
    base = wrap(backend.to_device(_base_grid(spatial, bool(align_corners), theta._data.dtype), theta.device))
    return matmul(base, theta.transpose(1, 2)).reshape([count] + spatial + [dims])


__all__ = ["affine_grid_generator", "grid_sampler", "grid_sampler_2d", "grid_sampler_3d"]
