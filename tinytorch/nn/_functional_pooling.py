"""Pooling for ``tinytorch.nn.functional``: max_pool1d/2d/3d (and their ``_with_indices`` forms),
avg_pool1d/2d/3d, adaptive_avg_pool1d/2d/3d, adaptive_max_pool1d/2d/3d, max_unpool1d/2d/3d,
lp_pool1d/2d/3d and fractional_max_pool2d/3d (and their ``_with_indices`` forms). Arguments are
checked here, in PyTorch's order and with its messages; the work is done by ``tinytorch._ops.pooling``."""

import math

import numpy as np

from .. import _backend as backend, _dtypes
from .._creation import rand
from .._ops._util import check_same_device
from .._ops.conv import Geometry
from .._ops.pooling import AdaptiveWindows, AvgPool, FixedWindows, FractionalWindows, MaxPool, adaptive_bounds
from .._tensor import Tensor

__all__ = [
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d",
    "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d", "adaptive_max_pool2d_with_indices",
    "adaptive_max_pool3d", "adaptive_max_pool3d_with_indices", "avg_pool1d", "avg_pool2d", "avg_pool3d",
    "fractional_max_pool2d", "fractional_max_pool2d_with_indices", "fractional_max_pool3d",
    "fractional_max_pool3d_with_indices", "lp_pool1d", "lp_pool2d", "lp_pool3d", "max_pool1d", "max_pool1d_with_indices", "max_pool2d",
    "max_pool2d_with_indices", "max_pool3d", "max_pool3d_with_indices", "max_unpool1d", "max_unpool2d",
    "max_unpool3d",
]

_COUNT_WORDS = {2: "two", 3: "three"}


def _sizes(value):
    if isinstance(value, (tuple, list)):
        return tuple(int(v) for v in value)
    return (int(value),)


def _per_dim(name, argument, value, dims=2, allow_empty=False):
    """A 2-D or 3-D pooling argument: one int or ``dims`` ('max_pool2d: kernel_size must either be ...')."""
    values = () if value is None else _sizes(value)
    if allow_empty and not values:
        return ()
    if len(values) not in (1, dims):
        count = _COUNT_WORDS[dims]
        kind = {"kernel_size": f"either be a single int, or a tuple of {count} ints",
                "stride": f"either be omitted, a single int, or a tuple of {count} ints",
                "padding": f"either be a single int, or a tuple of {count} ints",
                "dilation": f"be either a single int, or a tuple of {count} ints"}[argument]
        if name == "avg_pool3d":  # its messages alone say "must be", not "must either be"
            kind = kind.replace("either be", "be")
        raise RuntimeError(f"{name}: {argument} must {kind}")
    return values * dims if len(values) == 1 else values


def _one(name, argument, value):
    """A 1-D pooling argument: exactly one int ('avg_pool1d() argument ... should contain one int')."""
    values = _sizes(value)
    if len(values) != 1:
        raise RuntimeError(f"{name}() argument '{argument}' should contain one int (got {len(values)})")
    return values[0]


def _check_dim_range(input, name, low, high):
    if not low <= input.dim() < high:
        raise RuntimeError(
            f"Expected {low} to {high - 1} dimensions, but got {input.dim()}-dimensional tensor for argument #1 "
            f"'self' (while checking arguments for {name})"
        )


def _c_half(value):
    return int(value / 2)  # C++ integer division truncates toward zero


def _pooled_size(size, kernel, pad, stride, dilation, ceil_mode):
    """PyTorch's pooling_output_shape, with its checks."""
    if stride == 0:
        raise RuntimeError("stride should not be zero")
    if pad < 0:
        raise RuntimeError(f"pad must be non-negative, but got pad: {pad}")
    if pad > _c_half((kernel - 1) * dilation + 1):
        raise RuntimeError(
            f"pad should be at most half of effective kernel size, but got pad={pad}, kernel_size={kernel} and dilation={dilation}"
        )
    out = (size + 2 * pad - dilation * (kernel - 1) - 1 + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad:  # the last window must start inside the image
        out -= 1
    return out


def _check_pool2d(shape, kernel, stride, padding, dilation, out):
    """PyTorch's pool2d_shape_check (shape: the 3-D or 4-D input's)."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    if kh <= 0 or kw <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {kh} kW: {kw}")
    if sh <= 0 or sw <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got dH: {sh} dW: {sw}")
    if dh <= 0 or dw <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilationH: {dh} dilationW: {dw}")
    ndim = len(shape)
    valid = ndim >= 3 and shape[-3] != 0 and shape[-2] != 0
    if not ((ndim == 3 and shape[0] != 0 and valid) or (ndim == 4 and valid and shape[3] != 0)):
        raise RuntimeError(f"Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but got:{list(shape)}")
    if _c_half(kw) < pw or _c_half(kh) < ph:
        raise RuntimeError(
            f"pad should be smaller than or equal to half of kernel size, but got padW = {pw}, padH = {ph}, kW = {kw}, kH = {kh}"
        )
    if out[0] < 1 or out[1] < 1:
        planes, height, width = shape[-3:]
        raise RuntimeError(
            f"Given input size: ({planes}x{height}x{width}). Calculated output size: ({planes}x{out[0]}x{out[1]}). "
            "Output size is too small"
        )


def _check_pool3d(name, shape, kernel, stride, padding, dilation, out, check_input_size):
    """PyTorch's pool3d_shape_check (shape: the 4-D or 5-D input's; ``name`` as its messages say)."""
    (kt, kh, kw), (st, sh, sw), (pt, ph, pw), (dt, dh, dw) = kernel, stride, padding, dilation
    if kt <= 0 or kh <= 0 or kw <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kT: {kt} kH: {kh} kW: {kw}")
    if st <= 0 or sh <= 0 or sw <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got dT: {st} dH: {sh} dW: {sw}")
    if dt <= 0 or dh <= 0 or dw <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilationT: {dt} dilationH: {dh} dilationW: {dw}")
    for i, size in enumerate(shape):
        if size <= 0 and not (len(shape) == 5 and i == 0):
            raise RuntimeError(
                f"{name}: Expected input's non-batch dimensions to have positive length, but input has a shape of "
                f"{list(shape)} and non-batch dimension {size} has length zero!"
            )
    time, height, width = shape[-3:]
    if check_input_size and (time < kt or height < kh or width < kw):
        raise RuntimeError(f"input image (T: {time} H: {height} W: {width}) smaller than kernel size (kT: {kt} kH: {kh} kW: {kw})")
    if kt // 2 < pt or kw // 2 < pw or kh // 2 < ph:  # the kernel itself, not the dilated one (as PyTorch)
        raise RuntimeError(
            f"pad should be smaller than or equal to half of kernel size, but got kT: {kt} kW: {kw} kH: {kh} "
            f"padT: {pt} padW: {pw} padH: {ph}"
        )
    if min(out) < 1:
        planes = shape[-4]
        raise RuntimeError(
            f"Given input size: ({planes}x{time}x{height}x{width}). Calculated output size: "
            f"({planes}x{out[0]}x{out[1]}x{out[2]}). Output size is too small"
        )


def _window_geometry(image, kernel, stride, padding, dilation, out, spatial):
    """The windows over the image, ceil_mode's overhang past the padding as extra padding after."""
    after = tuple(max(p, (o - 1) * s + (k - 1) * d + 1 - i - p)
                  for i, k, s, p, d, o in zip(image, kernel, stride, padding, dilation, out))
    return Geometry(kernel, stride, dilation, padding, after, image, out, spatial)


def _pool2d_setup(name, input, kernel_size, stride, padding, dilation, ceil_mode):
    kernel = _per_dim(name, "kernel_size", kernel_size)
    stride = _per_dim(name, "stride", stride, allow_empty=True) or kernel
    padding = _per_dim(name, "padding", padding)
    dilation = _per_dim(name, "dilation", dilation)
    image = tuple(input.shape[-2:])
    out = tuple(_pooled_size(*args, ceil_mode) for args in zip(image, kernel, padding, stride, dilation))
    _check_pool2d(tuple(input.shape), kernel, stride, padding, dilation, out)
    return _window_geometry(image, kernel, stride, padding, dilation, out, 2)


def _max_pool2d_call(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    geometry = _pool2d_setup("max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode)
    return _batched_call(input, lambda x: MaxPool.apply(x, FixedWindows(geometry), 2, return_indices))


def _batched_call(input, fn, spatial=2):
    """``fn`` on a batch: an unbatched (C, H, W) (or (C, D, H, W)) input gets a batch dim of 1 and loses it after."""
    if input.dim() == spatial + 2:
        return fn(input)
    out = fn(input.unsqueeze(0))
    return tuple(o.squeeze(0) for o in out) if isinstance(out, tuple) else out.squeeze(0)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """2-D max pooling of (N, C, H, W) or (C, H, W), and the flat index (h * W + w) of each maximum."""
    if input.dim() not in (3, 4):
        _per_dim("max_pool2d", "kernel_size", kernel_size)
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    return _max_pool2d_call(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """2-D max pooling; with ``return_indices`` also the flat index of each maximum (for max_unpool2d).

    Ties go to the first maximal element in scan order, and so does the gradient; NaN propagates.
    """
    if return_indices:
        return max_pool2d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    if input.dim() not in (3, 4):
        _per_dim("max_pool2d", "kernel_size", kernel_size)
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    return _max_pool2d_call(input, kernel_size, stride, padding, dilation, ceil_mode, False)


def _pool3d_arguments(name, input, kernel_size, stride, padding, dilation, average):
    """max_pool3d's / avg_pool3d's arguments as triples, and the input's dim, checked in PyTorch's order."""
    kernel = _per_dim(name, "kernel_size", kernel_size, 3)
    stride = _per_dim(name, "stride", stride, 3, allow_empty=True) or kernel
    padding = _per_dim(name, "padding", padding, 3)
    dilation = (1, 1, 1) if average else _per_dim(name, "dilation", dilation, 3)
    if input.dim() not in (4, 5):
        raise RuntimeError("non-empty 4D or 5D (batch mode) tensor expected for input")
    return kernel, stride, padding, dilation


def _pool3d_geometry(check_name, input, kernel, stride, padding, dilation, ceil_mode, average):
    """The output size (with pooling_output_shape's checks), pool3d_shape_check, and the windows."""
    image = tuple(input.shape[-3:])
    out = tuple(_pooled_size(*args, ceil_mode) for args in zip(image, kernel, padding, stride, dilation))
    _check_pool3d(check_name, tuple(input.shape), kernel, stride, padding, dilation, out, average)
    return _window_geometry(image, kernel, stride, padding, dilation, out, 3)


def _max_pool3d_call(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    args = _pool3d_arguments("max_pool3d", input, kernel_size, stride, padding, dilation, False)
    geometry = _pool3d_geometry("max_pool3d_with_indices_out_cpu_template()", input, *args, ceil_mode, False)
    return _batched_call(input, lambda x: MaxPool.apply(x, FixedWindows(geometry), 3, return_indices), 3)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """3-D max pooling of (N, C, D, H, W) or (C, D, H, W), and the flat index ((d * H + h) * W + w) of each maximum."""
    return _max_pool3d_call(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """3-D max pooling; with ``return_indices`` also the flat index of each maximum (for max_unpool3d).

    Ties go to the first maximal element in scan order, and so does the gradient; NaN propagates.
    """
    return _max_pool3d_call(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def _lift_1d(input):
    """(N, C, L) or (C, L) -> (N, C, 1, L) or (C, 1, L): a 1-D pool is a 2-D one of height 1."""
    return input.unsqueeze(-2)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """1-D max pooling of (N, C, L) or (C, L), and the index of each maximum."""
    stride = kernel_size if stride is None or stride == [] or stride == () else stride
    _check_dim_range(input, "max_pool1d", 2, 4)
    kernel, stride = _one("max_pool1d", "kernel_size", kernel_size), _one("max_pool1d", "stride", stride)
    padding, dilation = _one("max_pool1d", "padding", padding), _one("max_pool1d", "dilation", dilation)
    out, indices = max_pool2d_with_indices(_lift_1d(input), (1, kernel), (1, stride), (0, padding), (1, dilation), ceil_mode)
    return out.squeeze(-2), indices.squeeze(-2)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """1-D max pooling of (N, C, L) or (C, L); with ``return_indices`` also the index of each maximum."""
    if return_indices:
        return max_pool1d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    if input.dim() not in (2, 3):
        raise RuntimeError(
            "max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for input, "
            f"but got:{list(input.shape)}"
        )
    kernel = _sizes(kernel_size)
    if len(kernel) != 1:
        raise RuntimeError(f"max_pool1d() kernel_size must be an int, list of ints or tuple of ints of size 1 but got size {len(kernel)}")
    strides = () if stride is None else _sizes(stride)
    if len(strides) > 1:
        raise RuntimeError(f"max_pool1d() stride must be None, an int, list of ints, or tuple of ints of size 1 but got size {len(strides)}")
    pads, dilations = _sizes(padding), _sizes(dilation)
    if len(pads) != 1:
        raise RuntimeError(f"max_pool1d() padding must be an int, list of ints, or tuple of ints of size 1 but got size {len(pads)}")
    if len(dilations) != 1:
        raise RuntimeError(f"max_pool1d() dilation must be an int, list of ints or tuple of ints of size 1 but got size {len(dilations)}")
    (k,), (p,), (d,) = kernel, pads, dilations
    s = strides[0] if strides else k
    if k <= 0:
        raise RuntimeError(f"max_pool1d() kernel_size must be greater than zero, but got {k}")
    if s <= 0:
        raise RuntimeError(f"max_pool1d() stride must be greater than zero, but got {s}")
    if p < 0:
        raise RuntimeError(f"max_pool1d() padding must be non-negative, but got {p}")
    if p > k // 2:
        raise RuntimeError(f"max_pool1d() padding should be at most half of kernel size, but got padding={p} and kernel_size={k}")
    if d <= 0:
        raise RuntimeError(f"max_pool1d() dilation must be greater than zero, but got {d}")
    out = _pooled_size(input.shape[-1], k, p, s, d, ceil_mode)
    if out <= 0:
        raise RuntimeError(f"max_pool1d() Invalid computed output size: {out}")
    if input.dim() == 3 and (input.shape[1] == 0 or input.shape[2] == 0) or input.dim() == 2 and 0 in input.shape:
        raise RuntimeError(
            "max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for input, "
            f"but got:{list(input.shape)}"
        )
    geometry = _window_geometry((1, input.shape[-1]), (1, k), (1, s), (0, p), (1, d), (1, out), 1)
    if input.dim() == 3:
        return MaxPool.apply(input, FixedWindows(geometry), 1, False)
    return MaxPool.apply(input.unsqueeze(0), FixedWindows(geometry), 1, False).squeeze(0)


# -- average -------------------------------------------------------------------------------------
def _divisors(geometry, count_include_pad, divisor_override, like):
    """Each window's divisor (PyTorch's avg_pool2d/3d): a number when all are equal, else an array
    of the output's spatial shape."""
    if divisor_override is not None:
        return divisor_override
    per_dim = []
    for size, out, kernel, stride, pad in zip(geometry.image, geometry.out, geometry.kernel, geometry.stride, geometry.pad_before):
        start = np.arange(out) * stride - pad
        stop = np.minimum(start + kernel, size + pad)
        counted = stop - start if count_include_pad else np.minimum(stop, size) - np.maximum(start, 0)
        per_dim.append(counted)
    divisor = per_dim[0]
    for counted in per_dim[1:]:
        divisor = np.multiply.outer(divisor, counted)
    if divisor.size and (divisor == divisor.flat[0]).all():
        return int(divisor.flat[0])
    dtype = like._data.dtype if like._data.dtype.kind == "f" else np.float64
    return backend.array_module(like._data).asarray(divisor.astype(dtype))


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):
    """2-D average pooling of (N, C, H, W) or (C, H, W); ``count_include_pad`` counts the zero padding
    in each window's divisor, ``divisor_override`` replaces it."""
    kernel = _per_dim("avg_pool2d", "kernel_size", kernel_size)
    stride = _per_dim("avg_pool2d", "stride", stride, allow_empty=True) or kernel
    padding = _per_dim("avg_pool2d", "padding", padding)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    if input.dim() < 3:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-input.dim()}, {input.dim() - 1}], but got -3)")
    image = tuple(input.shape[-2:])
    out = tuple(_pooled_size(i, k, p, s, 1, ceil_mode) for i, k, p, s in zip(image, kernel, padding, stride))
    _check_pool2d(tuple(input.shape), kernel, stride, padding, (1, 1), out)
    geometry = _window_geometry(image, kernel, stride, padding, (1, 1), out, 2)
    return _average(input, geometry, count_include_pad, divisor_override)


def _average(input, geometry, count_include_pad, divisor_override):
    divisor = _divisors(geometry, count_include_pad, divisor_override, input)
    spatial = len(geometry.kernel)
    return _batched_call(input, lambda x: AvgPool.apply(x, geometry, divisor, tuple(x.shape), False), spatial)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):
    """3-D average pooling of (N, C, D, H, W) or (C, D, H, W); ``count_include_pad`` counts the zero
    padding in each window's divisor, ``divisor_override`` replaces it."""
    kernel, stride, padding, dilation = _pool3d_arguments("avg_pool3d", input, kernel_size, stride, padding, 1, True)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    geometry = _pool3d_geometry("avg_pool3d()", input, kernel, stride, padding, dilation, ceil_mode, True)
    return _average(input, geometry, count_include_pad, divisor_override)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """1-D average pooling of (N, C, L) or (C, L)."""
    _check_dim_range(input, "avg_pool1d", 2, 4)
    kernel = _one("avg_pool1d", "kernel_size", kernel_size)
    stride = kernel if stride is None or stride == [] or stride == () else _one("avg_pool1d", "stride", stride)
    padding = _one("avg_pool1d", "padding", padding)
    return avg_pool2d(_lift_1d(input), (1, kernel), (1, stride), (0, padding), ceil_mode, count_include_pad).squeeze(-2)


# -- adaptive --------------------------------------------------------------------------------------
def _with_default(output_size, shape, dims=2):
    """None in output_size keeps the input's size there (PyTorch's _list_with_default)."""
    if isinstance(output_size, int):
        return (output_size,) * dims
    sizes = tuple(output_size)
    if len(shape) <= len(sizes):
        raise ValueError(f"Input dimension should be at least {len(sizes) + 1}")
    return tuple(shape[len(shape) - len(sizes) + i] if s is None else int(s) for i, s in enumerate(sizes))


def _divides(image, out):
    return all(o > 0 and i % o == 0 for i, o in zip(image, out))


def _averaging_matrix(size, out, like):
    """(out, size): row i averages PyTorch's adaptive window i."""
    start, stop = adaptive_bounds(size, out)
    positions = np.arange(size)
    matrix = ((positions >= start[:, None]) & (positions < stop[:, None])) / (stop - start)[:, None]
    array = backend.array_module(like._data).asarray(matrix.astype(like._data.dtype))
    return Tensor._make(array)


def _adaptive_avg(input, output_size, dims):
    """adaptive_avg_pool2d / 3d, checked in PyTorch's order."""
    name = f"adaptive_avg_pool{dims}d"
    out = _with_default(output_size, tuple(input.shape), dims)
    if len(out) != dims:
        raise RuntimeError(f"{name}: output_size must be {dims}")
    if min(out) < 0:
        # PyTorch's own spacing: "{a, b}" in 2-D, "{a, b,c}" in 3-D.
        received = f"{out[0]}, {out[1]}" + (f",{out[2]}" if dims == 3 else "")
        raise RuntimeError(f"{name}: elements of output_size must be greater than or equal to 0 but received {{{received}}}")
    if input.dim() not in (dims + 1, dims + 2):
        raise RuntimeError(f"{name}(): Expected {dims + 1}D or {dims + 2}D tensor, but got {list(input.shape)}")
    # adaptive_avg_pool2d checks its spatial dims; adaptive_avg_pool3d every dim after the first.
    for dim in range(input.dim() - 2 if dims == 2 else 1, input.dim()):
        if input.shape[dim] <= 0:
            raise RuntimeError(
                f"{name}(): Expected input to have non-zero size for non-batch dimensions, but input has "
                f"sizes {list(input.shape)} with dimension {dim} being empty"
            )
    image = tuple(input.shape[-dims:])
    if all(o == 1 for o in out):
        return input.mean(tuple(range(-dims, 0)), keepdim=True)
    kernel = tuple(i // o for i, o in zip(image, out)) if _divides(image, out) else None
    if kernel is not None and math.prod(kernel) <= 16:  # small windows: the offset loop
        geometry = Geometry(kernel, kernel, (1,) * dims, (0,) * dims, (0,) * dims, image, out)
        return _average(input, geometry, True, None)
    # Otherwise one small matmul per dim with the averaging matrices (windows may overlap).
    matrices = [_averaging_matrix(i, o, input) for i, o in zip(image, out)]
    result = matrices[-2] @ (input @ matrices[-1].mT)
    if dims == 3:  # the depth: (..., D, OH * OW) -> (..., OD, OH * OW)
        lead = tuple(input.shape[:-3])
        result = (matrices[0] @ result.reshape(lead + (image[0], out[1] * out[2]))).reshape(lead + out)
    return result


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed output size ``(OH, OW)`` (None keeps the input's size there)."""
    return _adaptive_avg(input, output_size, 2)


def adaptive_avg_pool3d(input, output_size):
    """Average pooling of (N, C, D, H, W) or (C, D, H, W) to a fixed output size ``(OD, OH, OW)``
    (None keeps the input's size there)."""
    return _adaptive_avg(input, output_size, 3)


def adaptive_avg_pool1d(input, output_size):
    """Average pooling of (N, C, L) or (C, L) to a fixed length."""
    _check_dim_range(input, "adaptive_avg_pool1d", 2, 4)
    size = _one("adaptive_avg_pool1d", "output_size", output_size)
    return adaptive_avg_pool2d(_lift_1d(input), (1, size)).squeeze(-2)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    """Max pooling to a fixed output size, and the flat index (h * W + w) of each maximum."""
    out = _with_default(output_size, tuple(input.shape))
    return _adaptive_max(input, out, "adaptive_max_pool2d", 2, True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    """Max pooling of (N, C, D, H, W) or (C, D, H, W) to a fixed output size, and the flat index
    ((d * H + h) * W + w) of each maximum."""
    out = _with_default(output_size, tuple(input.shape), 3)
    return _adaptive_max(input, out, "adaptive_max_pool3d", 3, True)


def _adaptive_max(input, out, name, spatial=2, return_indices=True):
    # Without return_indices the Function keeps its argmax for backward but returns (and ONNX
    # exports) the values alone.
    if input.dim() not in (spatial + 1, spatial + 2):
        raise RuntimeError(f"{name}(): Expected {spatial + 1}D or {spatial + 2}D tensor, but got: {list(input.shape)}")
    for dim in range(1, input.dim()):
        if input.shape[dim] <= 0:
            raise RuntimeError(
                f"{name}(): Expected input to have non-zero size for non-batch dimensions, but input has sizes "
                f"{list(input.shape)} with dimension {dim} being empty"
            )
    if len(out) != spatial:
        raise RuntimeError(f"{name}(): internal error: output_size.size() must be {spatial}")
    if min(out) < 0:
        shape = list(input.shape[:-spatial]) + list(out)
        bad = next(o for o in out if o < 0)
        raise RuntimeError(f"Trying to create tensor with negative dimension {bad}: {shape}")
    image = tuple(input.shape[-spatial:])
    if _divides(image, out):  # fixed windows: the offset loop, with strided slices
        kernel = tuple(i // o for i, o in zip(image, out))
        windows = FixedWindows(Geometry(kernel, kernel, (1,) * spatial, (0,) * spatial, (0,) * spatial, image, out))
    else:
        windows = AdaptiveWindows(image, out)
    return _batched_call(input, lambda x: MaxPool.apply(x, windows, spatial, return_indices), spatial)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling to a fixed output size ``(OH, OW)`` (None keeps the input's size there); with
    ``return_indices`` also the flat index of each maximum."""
    out = _with_default(output_size, tuple(input.shape))
    return _adaptive_max(input, out, "adaptive_max_pool2d", 2, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Max pooling of (N, C, D, H, W) or (C, D, H, W) to a fixed output size ``(OD, OH, OW)`` (None
    keeps the input's size there); with ``return_indices`` also the flat index of each maximum."""
    out = _with_default(output_size, tuple(input.shape), 3)
    return _adaptive_max(input, out, "adaptive_max_pool3d", 3, return_indices)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    """Max pooling of (N, C, L) or (C, L) to a fixed length, and the index of each maximum."""
    return _adaptive_max_1d(input, output_size, True)


def _adaptive_max_1d(input, output_size, return_indices):
    _check_dim_range(input, "adaptive_max_pool1d", 2, 4)
    size = _one("adaptive_max_pool1d", "output_size", output_size)
    result = _adaptive_max(_lift_1d(input), (1, size), "adaptive_max_pool2d", 2, return_indices)
    return tuple(r.squeeze(-2) for r in result) if return_indices else result.squeeze(-2)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling of (N, C, L) or (C, L) to a fixed length; with ``return_indices`` also the indices."""
    return _adaptive_max_1d(input, output_size, return_indices)


# -- unpooling -------------------------------------------------------------------------------------
def _unpool_size(input, kernel, stride, padding, output_size):
    """PyTorch's _unpool_output_size: the default size, or ``output_size`` checked against it."""
    dims = len(kernel)
    default = [(input.shape[-dims + d] - 1) * stride[d] + kernel[d] - 2 * padding[d] for d in range(dims)]
    if output_size is None:
        sizes = default
    else:
        sizes = [int(s) for s in output_size]
        if len(sizes) == dims + 2:
            sizes = sizes[2:]
        if len(sizes) != dims:
            raise ValueError(
                f"output_size should be a sequence containing {dims} or {dims + 2} elements, but it has a length of '{len(sizes)}'"
            )
        for d in range(dims):
            low, high = default[d] - stride[d], default[d] + stride[d]
            if not low < sizes[d] < high:
                raise ValueError(f'invalid output_size "{output_size}" (dim {d} must be between {low} and {high})')
    for d, size in enumerate(sizes):
        if size < 0:
            raise ValueError(f"max_unpooling: output_size must contain non-negative spatial dimensions, but got output_size[{d}]={size}")
    return sizes


def _invalid_index(indices, size):
    def fail():
        data = backend.to_numpy(indices._data)
        bad = data[(data < 0) | (data >= math.prod(size))]
        shown = "x".join(str(s) for s in size)
        raise RuntimeError(f"Found an invalid max index: {int(bad.flat[0])} (output volumes are of size {shown})")
    return fail


def _check_unpool2d(input, indices, size):
    """max_unpool2d's checks, in PyTorch's order."""
    if indices._data.dtype != np.int64:
        raise RuntimeError(f"elements in indices should be type int64 but got: {_scalar_name(indices)}")
    if len(size) != 2:
        raise RuntimeError(f"There should be exactly two elements (height, width) in output_size, but got {len(size)} elements.")
    if input.dim() not in (3, 4):
        raise RuntimeError(f"Input to max_unpooling2d should be a 3d or 4d Tensor, but got a tensor with {input.dim()} dimensions.")
    _check_unpool_shapes(input, indices, "max_unpooling2d_forward_out_cpu()")


def _check_unpool3d(input, indices, size, stride, padding):
    """max_unpool3d's checks (max_unpooling3d_shape_check), in PyTorch's order."""
    if indices._data.dtype != np.int64:
        raise RuntimeError("elements in indices should be type int64")
    if input.dim() not in (4, 5):
        raise RuntimeError(f"Input to max_unpooling3d should be a 4d or 5d Tensor, but got a tensor with {input.dim()} dimensions.")
    for name, values, colon in (("output_size", size, ""), ("stride", stride, ":"), ("padding", padding, ":")):
        if len(values) != 3:
            raise RuntimeError(
                f"There should be exactly three elements (depth, height, width) in {name}, but got{colon} {len(values)} elements."
            )
    _check_unpool_shapes(input, indices, "max_unpooling3d_forward_out_cpu()")
    if min(stride) <= 0:
        raise RuntimeError(f"strides should be greater than zero, but got stride: {list(stride)}")


def _check_unpool_shapes(input, indices, name):
    if tuple(input.shape) != tuple(indices.shape):
        raise RuntimeError(
            f"Expected shape of indices to be same as that of the input tensor ({list(input.shape)}) but got indices tensor "
            f"with shape: {list(indices.shape)}"
        )
    for dim in range(1, input.dim()):
        if input.shape[dim] <= 0:
            raise RuntimeError(
                f"{name}: Expected input to have non-zero size for non-batch dimensions, "
                f"but got {list(input.shape)} with dimension {dim} being empty."
            )


def _max_unpool(input, indices, size):
    """Each value written at its flat index of an all-zero (…, H, W) or (…, D, H, W) output
    (max_pool2d's or max_pool3d's inverse); the arguments are checked."""
    size = tuple(size)
    area = math.prod(size)
    data = indices._data
    if data.size:
        backend.check_later(((data < 0) | (data >= area)).any(), _invalid_index(indices, size))
    xp = backend.array_module(input._data)
    lead = tuple(input.shape[:-len(size)])
    zeros = Tensor._make(xp.zeros(lead + (area,), dtype=input._data.dtype))
    flat_indices = indices.reshape(lead + (-1,))
    return zeros.scatter(-1, flat_indices, input.reshape(lead + (-1,))).reshape(lead + size)


def _scalar_name(tensor):
    return _dtypes.scalar_type_name(tensor._data.dtype)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool2d: each value put back at its index, zeros elsewhere."""
    kernel = _sizes(kernel_size) * (2 if len(_sizes(kernel_size)) == 1 else 1)
    stride = kernel if stride is None else _sizes(stride) * (2 if len(_sizes(stride)) == 1 else 1)
    padding = _sizes(padding) * (2 if len(_sizes(padding)) == 1 else 1)
    size = _unpool_size(input, kernel, stride, padding, output_size)
    _check_unpool2d(input, indices, size)
    return _max_unpool(input, indices, size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool3d: each value put back at its flat index ((d * H + h) * W + w), zeros elsewhere."""
    kernel = _triple(kernel_size)
    stride = kernel if stride is None else _triple(stride)
    padding = _triple(padding)
    size = _unpool_size(input, kernel, stride, padding, output_size)
    _check_unpool3d(input, indices, size, stride, padding)
    return _max_unpool(input, indices, size)


def _triple(value):
    """PyTorch's _triple: an int three times, a sequence as it is."""
    return tuple(int(v) for v in value) if isinstance(value, (tuple, list)) else (int(value),) * 3


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool1d: each value put back at its index, zeros elsewhere."""
    kernel = _sizes(kernel_size)[:1]
    stride = kernel if stride is None else _sizes(stride)[:1]
    padding = _sizes(padding)[:1]
    size = _unpool_size(input, kernel, stride, padding, output_size)
    input, indices, size = input.unsqueeze(-1), indices.unsqueeze(-1), size + [1]
    _check_unpool2d(input, indices, size)
    return _max_unpool(input, indices, size).squeeze(-1)


# -- power average (PyTorch computes it from avg_pool) ---------------------------------------------
def _lp_pool(average, max_pool, input, norm_type, kernel_size, stride, ceil_mode, window):
    """PyTorch's lp_pool: (sum of x ** p over each window) ** (1 / p), as the window's mean times
    its size; p = +-inf is the max (the min) of |x|. ``window``: the kernel's element count."""
    if isinstance(norm_type, (int, float)):
        if norm_type == float("inf"):
            return max_pool(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
        if norm_type == -float("inf"):
            return -max_pool(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    out = average(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    # PyTorch writes sign(out) * relu(|out|): the identity, whose gradient is 0 where out == 0 (so a
    # window summing to 0 gets a zero gradient, not 0 * inf from the root). A where does just that.
    return out.where(out != 0, 0.0).mul(window).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """1-D power-average pooling of (N, C, L) or (C, L): each window's (sum of x ** p) ** (1 / p)."""
    return _lp_pool(avg_pool1d, max_pool1d, input, norm_type, kernel_size, stride, ceil_mode, kernel_size)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """2-D power-average pooling of (N, C, H, W) or (C, H, W): each window's (sum of x ** p) ** (1 / p)."""
    kw, kh = _ntuple(kernel_size, 2)
    return _lp_pool(avg_pool2d, max_pool2d, input, norm_type, kernel_size, stride, ceil_mode, kw * kh)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """3-D power-average pooling of (N, C, D, H, W) or (C, D, H, W): each window's (sum of x ** p) ** (1 / p)."""
    kd, kw, kh = _ntuple(kernel_size, 3)
    return _lp_pool(avg_pool3d, max_pool3d, input, norm_type, kernel_size, stride, ceil_mode, kd * kw * kh)


def _ntuple(value, count):
    """PyTorch's _pair / _triple, unpacked as its lp_pool does (a sequence of another length raises)."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * count
    if len(values) != count:
        raise ValueError(f"too many values to unpack (expected {count})" if len(values) > count
                         else f"not enough values to unpack (expected {count}, got {len(values)})")
    return values


# -- fractional max pooling ------------------------------------------------------------------------
def _ratio_tuple(value, count):
    """PyTorch's _pair / _triple: a sequence as it is, anything else ``count`` times."""
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * count


def _fractional_sizes(name, kernel_size, output_size, dims):
    """kernel_size and output_size as ``dims`` ints (an int is repeated, as PyTorch's int[N] parser)."""
    count = "Ints" if dims == 2 else "three Ints"
    kernel = _sizes(kernel_size)
    kernel = kernel * dims if len(kernel) == 1 and not isinstance(kernel_size, (tuple, list)) else kernel
    out = _sizes(output_size)
    out = out * dims if len(out) == 1 and not isinstance(output_size, (tuple, list)) else out
    if len(kernel) != dims:
        raise RuntimeError(f"{name}: kernel_size must either be a single Int or tuple of {count}")
    if len(out) != dims:
        raise RuntimeError(f"{name}: output_size must either be a single Int or tuple of {count}")
    return kernel, out


def _fractional_max_pool(input, kernel_size, output_size, samples, dims, return_indices):
    """PyTorch's checks (its meta function, then fractional_max_pool_check_shape), in its order and
    with its messages, then MaxPool over ``FractionalWindows``."""
    name = f"fractional_max_pool{dims}d"
    kernel, out = _fractional_sizes(name, kernel_size, output_size, dims)
    prefix = "fractional_max_pool2d()" if dims == 2 else "fractional_max_pool3d_out()"
    shape = tuple(input.shape)
    if len(shape) not in (dims + 1, dims + 2):
        raise RuntimeError(f"{prefix}: Expected {dims + 1}D or {dims + 2}D tensor, but got: {list(shape)}")
    for dim in range(1, len(shape)):
        if shape[dim] <= 0:
            raise RuntimeError(f"{prefix}: Expected input to have non-zero size for non-batch dimensions, but "
                               f"got{list(shape)} with dimension {dim} being empty.")
    image = shape[-dims:]
    names = ("height", "width") if dims == 2 else ("time", "height", "width")
    # The 2-D op allows a window to end at the image's edge and checks H, W; the 3-D op wants it to
    # end before (a strict <) and checks T, W, H.
    order = (0, 1) if dims == 2 else (0, 2, 1)
    for axis in order:
        if out[axis] + kernel[axis] - 1 > image[axis] - (dims == 3):
            raise RuntimeError(f"{prefix}: pool {names[axis]} {kernel[axis]} too large relative to input "
                               f"{names[axis]} {image[axis]}")
    if min(out) < 0:
        full = list(shape[:-dims]) + list(out)
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(o for o in out if o < 0)}: {full}")
    if samples.dtype != input.dtype:
        raise RuntimeError("Expect _random_samples to have the same dtype as input")
    if samples.dim() != 3:
        raise RuntimeError(f"Expect _random_samples to have 3 dimensions, got {samples.dim()}")
    batch, channels = (1, shape[0]) if len(shape) == dims + 1 else shape[:2]
    if samples.shape[0] < batch:
        raise RuntimeError("Expect _random_samples.size(0) no less then input batch size.")
    if samples.shape[1] != channels:
        raise RuntimeError("Expect _random_samples.size(1) equals to input channel size.")
    if samples.shape[2] != dims:
        raise RuntimeError(f"Expect _random_samples.size(2) equals to {dims}; got {samples.shape[2]}.")
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f'"{name}_out_frame" not implemented for \'{_scalar_name(input)}\'')
    check_same_device(input, samples)
    # PyTorch's 2-D op reads W's sample from column 0 and H's from column 1; the 3-D op T, H, W in order.
    columns = (1, 0) if dims == 2 else (0, 1, 2)
    windows = FractionalWindows(samples._data, columns, image, out, kernel)
    return _batched_call(input, lambda x: MaxPool.apply(x, windows, dims, return_indices), dims)


def _fractional(input, kernel_size, output_size, output_ratio, samples, return_indices, dims):
    name = f"fractional_max_pool{dims}d"
    if output_size is None and output_ratio is None:
        raise ValueError(f"{name} requires specifying either an output_size or an output_ratio")
    if output_size is None:
        if dims == 2 and len(output_ratio) > 2:  # PyTorch checks this for 2-D only (a float: TypeError)
            raise ValueError(f"{name} requires output_ratio to either be a single Int or tuple of Ints.")
        ratio = _ratio_tuple(output_ratio, dims)
        output_size = [int(input.size(k - dims) * ratio[k]) for k in range(dims)]  # a short ratio: IndexError, as PyTorch
    if samples is None:
        batch = 1 if input.dim() == dims + 1 else input.size(0)
        samples = rand(batch, input.size(-dims - 1), dims, dtype=input.dtype, device=input.device)
    return _fractional_max_pool(input, kernel_size, output_size, samples, dims, return_indices)


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                                       _random_samples=None):
    """2-D fractional max pooling of (N, C, H, W) or (C, H, W) (Graham, https://arxiv.org/abs/1412.6071),
    and the flat index (h * W + w) of each maximum.

    The windows (kernel_size each) start at pseudo-random places set by ``_random_samples``
    ((N, C, 2), uniform in [0, 1); drawn with ``tinytorch.rand`` when None) as PyTorch places them,
    so equal samples give PyTorch's result; the output is ``output_size``, or ``output_ratio`` times
    the input's size. Overlapping windows add their gradients where they share a maximum.
    """
    return _fractional(input, kernel_size, output_size, output_ratio, _random_samples, True, 2)


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    """2-D fractional max pooling; with ``return_indices`` also the flat index of each maximum
    (see ``fractional_max_pool2d_with_indices``)."""
    return _fractional(input, kernel_size, output_size, output_ratio, _random_samples, return_indices, 2)


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                                       _random_samples=None):
    """3-D fractional max pooling of (N, C, T, H, W) or (C, T, H, W), and the flat index
    ((t * H + h) * W + w) of each maximum; ``_random_samples`` is (N, C, 3) (see
    ``fractional_max_pool2d_with_indices``)."""
    return _fractional(input, kernel_size, output_size, output_ratio, _random_samples, True, 3)


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    """3-D fractional max pooling; with ``return_indices`` also the flat index of each maximum
    (see ``fractional_max_pool3d_with_indices``)."""
    return _fractional(input, kernel_size, output_size, output_ratio, _random_samples, return_indices, 3)
