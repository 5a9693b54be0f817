"""Convolutions and im2col for ``tinytorch.nn.functional``: conv1d/2d/3d, conv_transpose1d/2d/3d,
unfold and fold. Arguments are checked here, in PyTorch's order and with its
messages, before anything runs; the work is done by ``tinytorch._ops.conv``."""

from .._ops._util import check_same_device
from ..amp import _policy  # autocast runs convolutions in its lower-precision dtype
from .._ops.conv import ConvNd, Fold, Geometry, Unfold

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "fold", "unfold"]

_SHORT_TYPE = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long", "int32": "int"}


def _sizes(value, count=1):
    """An int (standing for ``count`` sizes) or a sequence of ints, as a tuple."""
    if isinstance(value, (tuple, list)):
        return tuple(int(v) for v in value)
    return (int(value),) * count


def _expand(value, name, dims):
    """PyTorch's expand_param_if_needed: one value for every spatial dim, or exactly ``dims``."""
    values = _sizes(value)
    if len(values) == 1:
        return values * dims
    if len(values) != dims:
        raise RuntimeError(
            f"expected {name} to be a single integer value or a list of {dims} values to match the "
            f"convolution dimensions, but got {name}={list(values)}"
        )
    return values


def _batched(input, spatial, name):
    if input.dim() not in (spatial + 1, spatial + 2):
        raise RuntimeError(
            f"Expected {spatial + 1}D (unbatched) or {spatial + 2}D (batched) input to {name}, "
            f"but got input of size: {list(input.shape)}"
        )
    return input.dim() == spatial + 2


def _check_types(input, weight, bias):
    check_same_device(input, weight)
    if input.dtype != weight.dtype:
        raise RuntimeError(f"Input type ({input.type()}) and weight type ({weight.type()}) should be the same")
    if bias is not None:
        check_same_device(input, bias)
        if bias.dtype != input.dtype:
            ours, theirs = (_SHORT_TYPE.get(t._data.dtype.name, t._data.dtype.name) for t in (input, bias))
            raise RuntimeError(f"Input type ({ours}) and bias type ({theirs}) should be the same")


def _check_parameters(weight, groups, stride, padding, dilation, output_padding=None):
    """PyTorch's check_shape_forward, in its order."""
    if any(p < 0 for p in padding):
        raise RuntimeError("negative padding is not supported")
    if output_padding is not None and any(p < 0 for p in output_padding):
        raise RuntimeError("negative output_padding is not supported")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("non-positive dilation is not supported")


def _check_weight(input, weight, groups):
    if weight.dim() != input.dim():
        raise RuntimeError(
            f"Expected {weight.dim()}-dimensional input for {weight.dim()}-dimensional weight {list(weight.shape)}, "
            f"but got {input.dim()}-dimensional input of size {list(input.shape)} instead"
        )
    if weight.shape[0] < groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be at least {groups} at dimension 0, but got weight of size "
            f"{list(weight.shape)} instead"
        )
    if weight.shape[0] % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
            f"but got weight of size [{list(weight.shape)}] instead"
        )


def _check_weight_and_groups(weight, groups):
    if weight.dim() < 3:
        raise RuntimeError("weight should have at least three dimensions")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    return weight.dim() - 2


def _same_padding(weight, stride, dilation):
    """padding='same': total d*(k-1) per dim, the odd one after (PyTorch pads the extra on the right)."""
    if any(s != 1 for s in stride):
        raise RuntimeError("padding='same' is not supported for strided convolutions")
    totals = [d * (k - 1) for d, k in zip(dilation, weight.shape[2:])]
    return tuple(t // 2 for t in totals), tuple(t - t // 2 for t in totals)


def _conv(name, spatial, input, weight, bias, stride, padding, dilation, groups):
    if _policy.armed:
        input, weight, bias = _policy.cast(name, input, weight, bias)
    batched = _batched(input, spatial, name)
    x = input if batched else input.unsqueeze(0)
    # As PyTorch's bindings: an int stands for every spatial dim of the function, then the lists
    # must match the weight's spatial dims.
    stride, dilation = _sizes(stride, spatial), _sizes(dilation, spatial)
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise RuntimeError(f"Invalid padding string: '{padding}'")
        dims = _check_weight_and_groups(weight, groups)
        stride, dilation = _expand(stride, "stride", dims), _expand(dilation, "dilation", dims)
        before, after = _same_padding(weight, stride, dilation) if padding == "same" else ((0,) * dims,) * 2
    else:
        dims = _check_weight_and_groups(weight, groups)
        stride, before = _expand(stride, "stride", dims), _expand(_sizes(padding, spatial), "padding", dims)
        dilation = _expand(dilation, "dilation", dims)
        after = before
    _check_parameters(weight, groups, stride, before, dilation)
    _check_weight(x, weight, groups)
    channels = weight.shape[1] * groups
    if x.shape[1] != channels:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(weight.shape)}, expected input{list(x.shape)} to have "
            f"{channels} channels, but got {x.shape[1]} channels instead"
        )
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != weight.shape[0]):
        raise RuntimeError(
            f"Given weight of size {list(weight.shape)}, expected bias to be 1-dimensional with {weight.shape[0]} "
            f"elements, but got bias of size {list(bias.shape)} instead"
        )
    image = tuple(x.shape[2:])
    padded = [s + b + a for s, b, a in zip(image, before, after)]
    kernel = [d * (k - 1) + 1 for d, k in zip(dilation, weight.shape[2:])]
    if any(p < k for p, k in zip(padded, kernel)):
        raise RuntimeError(
            f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). Kernel size: "
            f"({' x '.join(map(str, kernel))}). Kernel size can't be greater than actual input size"
        )
    _check_types(x, weight, bias)
    out = tuple((p - k) // s + 1 for p, k, s in zip(padded, kernel, stride))
    geometry = _geometry(weight.shape[2:], stride, dilation, before, after, image, out, spatial)
    result = ConvNd.apply(x, weight, bias, geometry, groups, False)
    return result if batched else result.squeeze(0)


def _geometry(kernel, stride, dilation, before, after, image, out, spatial):
    """A 2-D or 3-D Geometry; a 1-D op's sizes get a leading height of 1."""
    if spatial == 1:
        lift = lambda values, one: (one,) + tuple(values)  # noqa: E731
        return Geometry(lift(kernel, 1), lift(stride, 1), lift(dilation, 1), lift(before, 0), lift(after, 0),
                        lift(image, 1), lift(out, 1), spatial=1)
    return Geometry(kernel, stride, dilation, before, after, image, out)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D cross-correlation of (N, C_in, L) (or (C_in, L)) with weight (C_out, C_in/groups, k)."""
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation of (N, C_in, H, W) (or (C_in, H, W)) with weight (C_out, C_in/groups, kH, kW).

    ``padding``: an int, a pair, 'valid' (none) or 'same' (stride 1; the output keeps the input's size).
    """
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D cross-correlation of (N, C_in, D, H, W) (or (C_in, D, H, W)) with weight (C_out, C_in/groups, kD, kH, kW).

    ``padding``: an int, a triple, 'valid' (none) or 'same' (stride 1; the output keeps the input's size).
    """
    return _conv("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


def _conv_transpose(name, spatial, input, weight, bias, stride, padding, output_padding, groups, dilation):
    if _policy.armed:
        input, weight, bias = _policy.cast(name, input, weight, bias)
    batched = _batched(input, spatial, name)
    x = input if batched else input.unsqueeze(0)
    if isinstance(padding, str):
        raise TypeError(f"{name}(): argument 'padding' must be tuple of ints, not str")
    dims = _check_weight_and_groups(weight, groups)
    stride, padding = _expand(_sizes(stride, spatial), "stride", dims), _expand(_sizes(padding, spatial), "padding", dims)
    dilation = _expand(_sizes(dilation, spatial), "dilation", dims)
    output_padding = _expand(_sizes(output_padding, spatial), "output_padding", dims)
    _check_parameters(weight, groups, stride, padding, dilation, output_padding)
    _check_weight(x, weight, groups)
    if x.shape[1] != weight.shape[0]:
        raise RuntimeError(
            f"Given transposed=1, weight of size {list(weight.shape)}, expected input{list(x.shape)} to have "
            f"{weight.shape[0]} channels, but got {x.shape[1]} channels instead"
        )
    out_channels = weight.shape[1] * groups
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != out_channels):
        raise RuntimeError(
            f"Given transposed=1, weight of size {list(weight.shape)}, expected bias to be 1-dimensional with "
            f"{out_channels} elements, but got bias of size {list(bias.shape)} instead"
        )
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)):
        # PyTorch names each dim: height and width (a 1-D op's height is 1), and depth in 3-D.
        names = ("depth", "height", "width") if dims == 3 else ("height", "width")
        lift = lambda values, fill: (fill,) * (len(names) - dims) + tuple(values)  # noqa: E731
        described = " ".join(f"{what}_{name}: {value}" for what, values in
                             (("output_padding", lift(output_padding, 0)), ("stride", lift(stride, 1)),
                              ("dilation", lift(dilation, 1)))
                             for name, value in zip(names, values))
        raise RuntimeError(f"output padding must be smaller than either stride or dilation, but got {described}")
    grid = tuple(x.shape[2:])
    image = tuple((g - 1) * s - 2 * p + d * (k - 1) + op + 1
                  for g, s, p, d, k, op in zip(grid, stride, padding, dilation, weight.shape[2:], output_padding))
    if any(size < 1 for size in image):
        raise RuntimeError(
            f"Given input size per channel: ({' x '.join(map(str, grid))}). Calculated output size per channel: "
            f"({' x '.join(map(str, image))}). Output size is too small"
        )
    _check_types(x, weight, bias)
    geometry = _geometry(weight.shape[2:], stride, dilation, padding, padding, image, grid, spatial)
    result = ConvNd.apply(x, weight, bias, geometry, groups, True)
    return result if batched else result.squeeze(0)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """The transposed 1-D convolution (the gradient of conv1d in its input) of (N, C_in, L) with
    weight (C_in, C_out/groups, k)."""
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """The transposed 2-D convolution ("deconvolution") of (N, C_in, H, W) with weight (C_in, C_out/groups, kH, kW)."""
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups, dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """The transposed 3-D convolution ("deconvolution") of (N, C_in, D, H, W) with weight
    (C_in, C_out/groups, kD, kH, kW)."""
    return _conv_transpose("conv_transpose3d", 3, input, weight, bias, stride, padding, output_padding, groups, dilation)


# -- unfold / fold ---------------------------------------------------------------------------------
def _pair_arguments(names_and_values):
    """Each of im2col's arguments as a pair ('It is expected kernel_size equals to 2' otherwise)."""
    pairs = []
    for name, value in names_and_values:
        values = _sizes(value)
        values = values * 2 if len(values) == 1 else values
        if len(values) != 2:
            raise RuntimeError(f"It is expected {name} equals to 2, but got size {len(values)}")
        pairs.append(values)
    return pairs


def _check_window_arguments(kernel, dilation, padding, stride, order):
    checks = {
        "kernel": (kernel[0] > 0 and kernel[1] > 0,
                   f"kernel size should be greater than zero, but got kernel_height: {kernel[0]} kernel_width: {kernel[1]}"),
        "dilation": (dilation[0] > 0 and dilation[1] > 0,
                     f"dilation should be greater than zero, but got dilation_height: {dilation[0]} dilation_width: {dilation[1]}"),
        "padding": (padding[0] >= 0 and padding[1] >= 0,
                    f"padding should be non-negative, but got pad_height: {padding[0]} pad_width: {padding[1]}"),
        "stride": (stride[0] > 0 and stride[1] > 0,
                   f"stride should be greater than zero, but got stride_height: {stride[0]} stride_width: {stride[1]}"),
    }
    for name in order:
        ok, message = checks[name]
        if not ok:
            raise RuntimeError(message)


def _blocks(size, kernel, dilation, padding, stride):
    return tuple((s + 2 * p - (d * (k - 1) + 1)) // t + 1 for s, k, d, p, t in zip(size, kernel, dilation, padding, stride))


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extract sliding local blocks (im2col): (N, C, H, W) -> (N, C * kH * kW, L), L the number of blocks."""
    kernel, dilation, padding, stride = _pair_arguments(
        (("kernel_size", kernel_size), ("dilation", dilation), ("padding", padding), ("stride", stride)))
    _check_window_arguments(kernel, dilation, padding, stride, ("kernel", "dilation", "padding", "stride"))
    if input.dim() < 3:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-input.dim()}, {input.dim() - 1}], but got 2)")
    shape = tuple(input.shape)
    if not ((len(shape) == 3 and shape[0] and shape[1] and shape[2]) or (len(shape) == 4 and shape[1] and shape[2] and shape[3])):
        raise RuntimeError(
            "Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero dimensions for input, "
            f"but got: {list(shape)}"
        )
    batched = len(shape) == 4
    x = input if batched else input.unsqueeze(0)
    image = tuple(x.shape[2:])
    blocks = _blocks(image, kernel, dilation, padding, stride)
    if blocks[0] < 1 or blocks[1] < 1:
        raise RuntimeError(
            f"Given input with spatial size ({image[0]}, {image[1]}), kernel_size=({kernel[0]}, {kernel[1]}), "
            f"dilation=({dilation[0]}, {dilation[1]}), padding=({padding[0]}, {padding[1]}), calculated shape of the "
            f"array of sliding blocks as ({blocks[0]}, {blocks[1]}), but its components must be at least one."
        )
    out = Unfold.apply(x, Geometry(kernel, stride, dilation, padding, padding, image, blocks))
    return out if batched else out.squeeze(0)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Combine sliding local blocks into images (col2im), summing overlaps: (N, C * kH * kW, L) -> (N, C, H, W)."""
    size, kernel, dilation, padding, stride = _pair_arguments(
        (("output_size", output_size), ("kernel_size", kernel_size), ("dilation", dilation), ("padding", padding),
         ("stride", stride)))
    _check_window_arguments(kernel, dilation, padding, stride, ("kernel", "stride", "dilation", "padding"))
    shape = tuple(input.shape)
    if not ((len(shape) == 2 and shape[0] and shape[1]) or (len(shape) == 3 and shape[1] and shape[2])):
        raise RuntimeError(
            "Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and non-zero dimensions for "
            f"input, but got: {list(shape)}"
        )
    batched = len(shape) == 3
    planes, length = shape[-2:]
    if planes % (kernel[0] * kernel[1]):
        raise RuntimeError(
            "Expected size of input's dimension 1 to be divisible by the product of kernel_size, but got "
            f"input.size(1)={planes} and kernel_size=({kernel[0]}, {kernel[1]})."
        )
    blocks = _blocks(size, kernel, dilation, padding, stride)
    described = (f"Given output_size=({size[0]}, {size[1]}), kernel_size=({kernel[0]}, {kernel[1]}), "
                 f"dilation=({dilation[0]}, {dilation[1]}), padding=({padding[0]}, {padding[1]}), "
                 f"stride=({stride[0]}, {stride[1]}), ")
    if length != blocks[0] * blocks[1]:
        raise RuntimeError(
            described + f"expected size of input's dimension 2 to match the calculated number of sliding blocks "
            f"{blocks[0]} * {blocks[1]} = {blocks[0] * blocks[1]}, but got input.size(2)={length}."
        )
    if blocks[0] < 1 or blocks[1] < 1:
        raise RuntimeError(described + f"calculated shape of the array of sliding blocks as ({blocks[0]}, {blocks[1]}), "
                           "which is too small (non-positive)")
    if size[0] < 1 or size[1] < 1:
        raise RuntimeError(f"Expected output spatial size to be positive, but got: output_size=({size[0]}, {size[1]}).")
    x = input if batched else input.unsqueeze(0)
    out = Fold.apply(x, Geometry(kernel, stride, dilation, padding, padding, size, blocks))
    return out if batched else out.squeeze(0)
