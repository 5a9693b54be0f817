"""PyTorch's "vision functions" of ``nn.functional``: ``interpolate`` (and the deprecated
``upsample*``), ``pixel_shuffle`` and ``pixel_unshuffle``. Re-exported by ``functional``.

``interpolate`` checks its arguments as PyTorch's Python code does, then resamples with one
``Resample`` node (``tinytorch/_ops/resample.py``): one tap table per spatial axis.
"""

import warnings

import numpy as np

from .._dtypes import scalar_type_name
from .._ops.resample import axis_taps, resample

_LINEAR_MODES = {"linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}
_AXIS_NAMES = {1: ("W",), 2: ("H", "W"), 3: ("D", "H", "W")}


def _is_integer(x):
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool) or (
        hasattr(x, "dim") and x.dim() == 0 and not x.is_floating_point())


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims of an (N, C, ...) tensor to ``size`` or by ``scale_factor``.

    Modes: 'nearest', 'nearest-exact', 'linear' (3-D input), 'bilinear' and 'bicubic' (4-D,
    optionally ``antialias``), 'trilinear' (5-D), 'area' (adaptive average pooling).
    """
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError(
                "align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear"
            )
    elif align_corners is None:
        align_corners = False
    dim = input.dim() - 2
    spatial = list(input.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        scale_factors = None
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError(
                    "Input and output must have the same number of spatial dimensions, but got input with spatial "
                    f"dimensions of {spatial} and output size of {size}. Please provide input tensor in "
                    "(N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) format."
                )
            if not all(_is_integer(x) for x in size):
                raise TypeError(
                    "expected size to be one of int or Tuple[int] or Tuple[int, int] or Tuple[int, int, int], "
                    f"but got size with types {[type(x) for x in size]}"
                )
            output_size = [int(x) for x in size]
        else:
            output_size = [int(size)] * dim
    elif scale_factor is not None:
        output_size = None
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ValueError(
                    "Input and scale_factor must have the same number of spatial dimensions, but got input with "
                    f"spatial dimensions of {spatial} and scale_factor of shape {scale_factor}. Please provide "
                    "input tensor in (N, C, d1, d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) format."
                )
            scale_factors = [float(s) for s in scale_factor]
        else:
            scale_factors = [float(scale_factor)] * dim
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if mode == "area" and output_size is None:
        recompute_scale_factor = True  # area needs an integer output size
    if recompute_scale_factor:
        # The output size from the scale factors; the source positions then use the sizes' ratio.
        output_size = [int(s * f) for s, f in zip(spatial, scale_factors)]
        scale_factors = None
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and input.dim() == 4):
        raise ValueError(
            "Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and requires a 4-D tensor as input"
        )
    _check_mode(input, mode)
    if output_size is None:
        output_size = [int(s * f) for s, f in zip(spatial, scale_factors)]
    if mode == "area":
        _check_area_sizes(input, spatial, output_size)
    else:
        _check_sizes(input, spatial, output_size)
    _check_dtype(input, mode, dim)
    dtype_name = "float64" if input._data.dtype == np.float64 else "float32"
    plan = []
    for axis, (in_size, out_size) in enumerate(zip(spatial, output_size)):
        scale = None if scale_factors is None else scale_factors[axis]
        taps = axis_taps(mode, in_size, out_size, bool(align_corners), scale, dtype_name, bool(antialias),
                         mode == "nearest" and input.dim() == 4)
        if not taps.identity:
            plan.append((axis + 2, taps))
    # The axis that shrinks the most first: the later ones then move less data.
    plan.sort(key=lambda step: step[1].out_size / step[1].in_size)
    return resample(input, tuple(plan))


def _check_mode(input, mode):
    ndim = input.dim()
    supported = ("nearest", "nearest-exact", "area") + tuple(_LINEAR_MODES)
    if mode in supported and 3 <= ndim <= 5:
        needed = _LINEAR_MODES.get(mode)
        if needed is None or needed == ndim:
            return
        if not (mode == "bicubic" and ndim != 4):
            raise NotImplementedError(f"Got {ndim}D input, but {mode} mode needs {needed}D input")
    if mode == "lanczos" and ndim == 4:
        raise NotImplementedError("interpolate(mode='lanczos') is not implemented in tinytorch")
    raise NotImplementedError(
        f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {ndim}D) for the modes: nearest | linear | "
        f"bilinear | bicubic | trilinear | lanczos | area | nearest-exact (got {mode})"
    )


def _check_sizes(input, spatial, output_size):
    names = _AXIS_NAMES[len(spatial)]
    if any(s <= 0 for s in spatial) or any(s <= 0 for s in output_size):
        given = ", ".join(f"{n}: {s}" for n, s in zip(names, spatial))
        wanted = ", ".join(f"{n}: {s}" for n, s in zip(names, output_size))
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input ({given}) output ({wanted})")
    if input.shape[1] == 0:  # an empty batch is fine, empty channels are not (PyTorch's check)
        raise RuntimeError(
            f"Non-empty {input.dim()}D data tensor expected but got a tensor with sizes {list(input.shape)}"
        )


def _check_area_sizes(input, spatial, output_size):
    """'area' is adaptive average pooling, with its checks: an empty output is fine."""
    name = f"adaptive_avg_pool{max(len(spatial), 2)}d"
    if any(s < 0 for s in output_size):
        shown = [1] + output_size if len(spatial) == 1 else output_size
        raise RuntimeError(
            f"{name}: elements of output_size must be greater than or equal to 0 but received "
            "{" + ", ".join(str(s) for s in shown[:2]) + (",".join([""] + [str(s) for s in shown[2:]])) + "}"
        )
    for axis, size in enumerate(spatial):
        if size == 0:
            raise RuntimeError(
                f"{name}(): Expected input to have non-zero size for non-batch dimensions, but input has sizes "
                f"{list(input.shape)} with dimension {axis + 2} being empty"
            )


def _kernel_name(mode, dim):
    """The name of the PyTorch CPU kernel that refuses a dtype (its error names it)."""
    if mode in ("nearest", "nearest-exact"):
        return "upsample_nearest2d_channels_last" if dim == 2 else "compute_indices_weights_nearest"
    if mode == "area":
        return "adaptive_avg_pool3d_cpu" if dim == 3 else "adaptive_avg_pool2d"
    return {"bilinear": "upsample_bilinear2d_channels_last", "bicubic": "compute_indices_weights_cubic"}.get(
        mode, "compute_indices_weights_linear")


def _check_dtype(input, mode, dim):
    """Floating inputs for every mode; uint8 images for the nearest modes too (as PyTorch's CPU kernels)."""
    dtype = input._data.dtype
    if dtype.kind == "f" or (dtype == np.uint8 and mode in ("nearest", "nearest-exact")):
        return
    kernel = _kernel_name(mode, dim)
    # NOTE: PyTorch also resamples uint8 images in the linear and cubic modes, with its own
    # fixed-point rounding; tinytorch asks for a float image there (docs/differences.md).
    raise NotImplementedError(f'"{kernel}" not implemented for \'{scalar_type_name(dtype)}\'')


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated: ``interpolate`` with the same arguments."""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='nearest')``."""
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='bilinear', align_corners=True)``."""
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# -- pixel shuffle --------------------------------------------------------------------------------
def _check_factor(name, argument, factor):
    if not isinstance(factor, (int, np.integer)) or isinstance(factor, bool):
        raise TypeError(f"{name}(): argument '{argument}' (position 2) must be int, not {type(factor).__name__}")
    if factor <= 0:
        raise RuntimeError(f"{name} expects a positive {argument}, but got {factor}")


def pixel_shuffle(input, upscale_factor):
    """(*, C r^2, H, W) -> (*, C, H r, W r): each group of r^2 channels becomes an r x r block."""
    _check_factor("pixel_shuffle", "upscale_factor", upscale_factor)
    if input.dim() < 3:
        raise RuntimeError(
            f"pixel_shuffle expects input to have at least 3 dimensions, but got input with {input.dim()} dimension(s)"
        )
    *batch, channels, height, width = input.shape
    r = int(upscale_factor)
    if channels % (r * r):
        raise RuntimeError(
            "pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of upscale_factor, "
            f"but input.size(-3)={channels} is not divisible by {r * r}"
        )
    n = len(batch)
    blocks = input.reshape(*batch, channels // (r * r), r, r, height, width)
    blocks = blocks.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)  # (*, C, H, r, W, r)
    return blocks.reshape(*batch, channels // (r * r), height * r, width * r)


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H r, W r) -> (*, C r^2, H, W): the inverse of ``pixel_shuffle``."""
    _check_factor("pixel_unshuffle", "downscale_factor", downscale_factor)
    if input.dim() < 3:
        raise RuntimeError(
            f"pixel_unshuffle expects input to have at least 3 dimensions, but got input with {input.dim()} dimension(s)"
        )
    *batch, channels, height, width = input.shape
    r = int(downscale_factor)
    if height % r:
        raise RuntimeError(
            f"pixel_unshuffle expects height to be divisible by downscale_factor, but input.size(-2)={height} is not "
            f"divisible by {r}"
        )
    if width % r:
        raise RuntimeError(
            f"pixel_unshuffle expects width to be divisible by downscale_factor, but input.size(-1)={width} is not "
            f"divisible by {r}"
        )
    n = len(batch)
    blocks = input.reshape(*batch, channels, height // r, r, width // r, r)
    blocks = blocks.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)  # (*, C, r, r, H, W)
    return blocks.reshape(*batch, channels * r * r, height // r, width // r)

