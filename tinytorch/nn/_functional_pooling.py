"""Pooling for ``tinytorch.nn.functional``: max_pool1d/2d (and their ``_with_indices`` forms),
avg_pool1d/2d, adaptive_avg_pool1d/2d, adaptive_max_pool1d/2d and max_unpool1d/2d. Arguments are
checked here, in PyTorch's order and with its messages; the work is done by
``tinytorch._ops.pooling``."""

import numpy as np

from .. import _backend as backend, _dtypes
from .._ops.conv import Geometry
from .._ops.pooling import AdaptiveWindows, AvgPool, FixedWindows, MaxPool, adaptive_bounds
from .._tensor import Tensor

__all__ = [
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool1d_with_indices",
    "adaptive_max_pool2d", "adaptive_max_pool2d_with_indices", "avg_pool1d", "avg_pool2d", "max_pool1d",
    "max_pool1d_with_indices", "max_pool2d", "max_pool2d_with_indices", "max_unpool1d", "max_unpool2d",
]


def _sizes(value):
    if isinstance(value, (tuple, list)):
        return tuple(int(v) for v in value)
    return (int(value),)


def _pair(name, argument, value, allow_empty=False):
    """A 2-D pooling argument: one int or two ('max_pool2d: kernel_size must either be ...')."""
    values = () if value is None else _sizes(value)
    if allow_empty and not values:
        return ()
    if len(values) not in (1, 2):
        kind = {"kernel_size": "either be a single int, or a tuple of two ints",
                "stride": "either be omitted, a single int, or a tuple of two ints",
                "padding": "either be a single int, or a tuple of two ints",
                "dilation": "be either a single int, or a tuple of two ints"}[argument]
        raise RuntimeError(f"{name}: {argument} must {kind}")
    return values * 2 if len(values) == 1 else values


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


def _window_geometry(image, kernel, stride, padding, dilation, out, spatial):
    """The windows over the image, ceil_mode's overhang past the padding as extra padding after."""
    after = tuple(max(p, (o - 1) * s + (k - 1) * d + 1 - i - p)
                  for i, k, s, p, d, o in zip(image, kernel, stride, padding, dilation, out))
    return Geometry(kernel, stride, dilation, padding, after, image, out, spatial)


def _pool2d_setup(name, input, kernel_size, stride, padding, dilation, ceil_mode):
    kernel = _pair(name, "kernel_size", kernel_size)
    stride = _pair(name, "stride", stride, allow_empty=True) or kernel
    padding = _pair(name, "padding", padding)
    dilation = _pair(name, "dilation", dilation)
    image = tuple(input.shape[-2:])
    out = tuple(_pooled_size(*args, ceil_mode) for args in zip(image, kernel, padding, stride, dilation))
    _check_pool2d(tuple(input.shape), kernel, stride, padding, dilation, out)
    return _window_geometry(image, kernel, stride, padding, dilation, out, 2)


def _max_pool2d_call(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    geometry = _pool2d_setup("max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode)
    return _batched_call(input, lambda x: MaxPool.apply(x, FixedWindows(geometry), 2, return_indices))


def _batched_call(input, fn):
    """``fn`` on a batch: an unbatched (C, H, W) input gets a batch dim of 1 and loses it after."""
    if input.dim() == 4:
        return fn(input)
    out = fn(input.unsqueeze(0))
    return tuple(o.squeeze(0) for o in out) if isinstance(out, tuple) else out.squeeze(0)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """2-D max pooling of (N, C, H, W) or (C, H, W), and the flat index (h * W + w) of each maximum."""
    if input.dim() not in (3, 4):
        _pair("max_pool2d", "kernel_size", kernel_size)
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    return _max_pool2d_call(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """2-D max pooling; with ``return_indices`` also the flat index of each maximum (for max_unpool2d).

    Ties go to the first maximal element in scan order, and so does the gradient; NaN propagates.
    """
    if return_indices:
        return max_pool2d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    if input.dim() not in (3, 4):
        _pair("max_pool2d", "kernel_size", kernel_size)
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    return _max_pool2d_call(input, kernel_size, stride, padding, dilation, ceil_mode, False)


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
    """Each window's divisor (PyTorch's avg_pool2d): a number when all are equal, else an (OH, OW) array."""
    if divisor_override is not None:
        return divisor_override
    per_dim = []
    for size, out, kernel, stride, pad in zip(geometry.image, geometry.out, geometry.kernel, geometry.stride, geometry.pad_before):
        start = np.arange(out) * stride - pad
        stop = np.minimum(start + kernel, size + pad)
        counted = stop - start if count_include_pad else np.minimum(stop, size) - np.maximum(start, 0)
        per_dim.append(counted)
    divisor = per_dim[0][:, None] * per_dim[1][None, :]
    if divisor.size and (divisor == divisor.flat[0]).all():
        return int(divisor.flat[0])
    dtype = like._data.dtype if like._data.dtype.kind == "f" else np.float64
    return backend.array_module(like._data).asarray(divisor.astype(dtype))


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):
    """2-D average pooling of (N, C, H, W) or (C, H, W); ``count_include_pad`` counts the zero padding
    in each window's divisor, ``divisor_override`` replaces it."""
    kernel = _pair("avg_pool2d", "kernel_size", kernel_size)
    stride = _pair("avg_pool2d", "stride", stride, allow_empty=True) or kernel
    padding = _pair("avg_pool2d", "padding", padding)
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
    return _batched_call(input, lambda x: AvgPool.apply(x, geometry, divisor, tuple(x.shape), False))


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """1-D average pooling of (N, C, L) or (C, L)."""
    _check_dim_range(input, "avg_pool1d", 2, 4)
    kernel = _one("avg_pool1d", "kernel_size", kernel_size)
    stride = kernel if stride is None or stride == [] or stride == () else _one("avg_pool1d", "stride", stride)
    padding = _one("avg_pool1d", "padding", padding)
    return avg_pool2d(_lift_1d(input), (1, kernel), (1, stride), (0, padding), ceil_mode, count_include_pad).squeeze(-2)


# -- adaptive --------------------------------------------------------------------------------------
def _with_default(output_size, shape):
    """None in output_size keeps the input's size there (PyTorch's _list_with_default)."""
    if isinstance(output_size, int):
        return (output_size, output_size)
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


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed output size ``(OH, OW)`` (None keeps the input's size there)."""
    out = _with_default(output_size, tuple(input.shape))
    if len(out) != 2:
        raise RuntimeError("adaptive_avg_pool2d: output_size must be 2")
    if out[0] < 0 or out[1] < 0:
        raise RuntimeError(f"adaptive_avg_pool2d: elements of output_size must be greater than or equal to 0 but received {{{out[0]}, {out[1]}}}")
    if input.dim() not in (3, 4):
        raise RuntimeError(f"adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got {list(input.shape)}")
    for dim in (-2, -1):
        if input.shape[dim] <= 0:
            raise RuntimeError(
                "adaptive_avg_pool2d(): Expected input to have non-zero size for non-batch dimensions, but input has "
                f"sizes {list(input.shape)} with dimension {dim + input.dim()} being empty"
            )
    image = tuple(input.shape[-2:])
    if out == (1, 1):
        return input.mean((-2, -1), keepdim=True)
    kernel = tuple(i // o for i, o in zip(image, out)) if _divides(image, out) else None
    if kernel is not None and kernel[0] * kernel[1] <= 16:  # small windows: the offset loop
        geometry = Geometry(kernel, kernel, (1, 1), (0, 0), (0, 0), image, out)
        return _average(input, geometry, True, None)
    # Otherwise one small matmul per dim with the averaging matrices (windows may overlap).
    rows, cols = (_averaging_matrix(i, o, input) for i, o in zip(image, out))
    return rows @ (input @ cols.mT)


def adaptive_avg_pool1d(input, output_size):
    """Average pooling of (N, C, L) or (C, L) to a fixed length."""
    _check_dim_range(input, "adaptive_avg_pool1d", 2, 4)
    size = _one("adaptive_avg_pool1d", "output_size", output_size)
    return adaptive_avg_pool2d(_lift_1d(input), (1, size)).squeeze(-2)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    """Max pooling to a fixed output size, and the flat index (h * W + w) of each maximum."""
    out = _with_default(output_size, tuple(input.shape))
    return _adaptive_max(input, out, "adaptive_max_pool2d")


def _adaptive_max(input, out, name, spatial=2):
    if input.dim() not in (3, 4):
        raise RuntimeError(f"{name}(): Expected 3D or 4D tensor, but got: {list(input.shape)}")
    for dim in range(1, input.dim()):
        if input.shape[dim] <= 0:
            raise RuntimeError(
                f"{name}(): Expected input to have non-zero size for non-batch dimensions, but input has sizes "
                f"{list(input.shape)} with dimension {dim} being empty"
            )
    if len(out) != 2:
        raise RuntimeError(f"{name}(): internal error: output_size.size() must be 2")
    if out[0] < 0 or out[1] < 0:
        shape = list(input.shape[:-2]) + list(out)
        bad = out[0] if out[0] < 0 else out[1]
        raise RuntimeError(f"Trying to create tensor with negative dimension {bad}: {shape}")
    image = tuple(input.shape[-2:])
    if _divides(image, out):  # fixed windows: the offset loop, with strided slices
        kernel = tuple(i // o for i, o in zip(image, out))
        windows = FixedWindows(Geometry(kernel, kernel, (1, 1), (0, 0), (0, 0), image, out))
    else:
        windows = AdaptiveWindows(image, out)
    return _batched_call(input, lambda x: MaxPool.apply(x, windows, 2, True))


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling to a fixed output size ``(OH, OW)`` (None keeps the input's size there); with
    ``return_indices`` also the flat index of each maximum."""
    out, indices = adaptive_max_pool2d_with_indices(input, output_size)
    return (out, indices) if return_indices else out


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    """Max pooling of (N, C, L) or (C, L) to a fixed length, and the index of each maximum."""
    _check_dim_range(input, "adaptive_max_pool1d", 2, 4)
    size = _one("adaptive_max_pool1d", "output_size", output_size)
    out, indices = _adaptive_max(_lift_1d(input), (1, size), "adaptive_max_pool2d")
    return out.squeeze(-2), indices.squeeze(-2)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling of (N, C, L) or (C, L) to a fixed length; with ``return_indices`` also the indices."""
    out, indices = adaptive_max_pool1d_with_indices(input, output_size)
    return (out, indices) if return_indices else out


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


def _invalid_index(indices, height, width):
    def fail():
        data = backend.to_numpy(indices._data)
        bad = data[(data < 0) | (data >= height * width)]
        raise RuntimeError(f"Found an invalid max index: {int(bad.flat[0])} (output volumes are of size {height}x{width})")
    return fail


def _max_unpool(input, indices, size):
    """Each value written at its flat index of an all-zero (…, H, W) output (max_pool2d's inverse)."""
    if indices._data.dtype != np.int64:
        raise RuntimeError(f"elements in indices should be type int64 but got: {_scalar_name(indices)}")
    if len(size) != 2:
        raise RuntimeError(f"There should be exactly two elements (height, width) in output_size, but got {len(size)} elements.")
    if input.dim() not in (3, 4):
        raise RuntimeError(f"Input to max_unpooling2d should be a 3d or 4d Tensor, but got a tensor with {input.dim()} dimensions.")
    if tuple(input.shape) != tuple(indices.shape):
        raise RuntimeError(
            f"Expected shape of indices to be same as that of the input tensor ({list(input.shape)}) but got indices tensor "
            f"with shape: {list(indices.shape)}"
        )
    for dim in range(1, input.dim()):
        if input.shape[dim] <= 0:
            raise RuntimeError(
                "max_unpooling2d_forward_out_cpu(): Expected input to have non-zero size for non-batch dimensions, "
                f"but got {list(input.shape)} with dimension {dim} being empty."
            )
    height, width = size
    data = indices._data
    if data.size:
        backend.check_later(((data < 0) | (data >= height * width)).any(), _invalid_index(indices, height, width))
    xp = backend.array_module(input._data)
    lead = tuple(input.shape[:-2])
    zeros = Tensor._make(xp.zeros(lead + (height * width,), dtype=input._data.dtype))
    flat_indices = indices.reshape(lead + (-1,))
    return zeros.scatter(-1, flat_indices, input.reshape(lead + (-1,))).reshape(lead + (height, width))


def _scalar_name(tensor):
    return _dtypes.scalar_type_name(tensor._data.dtype)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool2d: each value put back at its index, zeros elsewhere."""
    kernel = _sizes(kernel_size) * (2 if len(_sizes(kernel_size)) == 1 else 1)
    stride = kernel if stride is None else _sizes(stride) * (2 if len(_sizes(stride)) == 1 else 1)
    padding = _sizes(padding) * (2 if len(_sizes(padding)) == 1 else 1)
    size = _unpool_size(input, kernel, stride, padding, output_size)
    return _max_unpool(input, indices, size)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool1d: each value put back at its index, zeros elsewhere."""
    kernel = _sizes(kernel_size)[:1]
    stride = kernel if stride is None else _sizes(stride)[:1]
    padding = _sizes(padding)[:1]
    size = _unpool_size(input, kernel, stride, padding, output_size)
    return _max_unpool(input.unsqueeze(-1), indices.unsqueeze(-1), size + [1]).squeeze(-1)
