"""``affine_grid`` and ``grid_sample`` of ``nn.functional`` (the pair behind Spatial Transformer
Networks). Re-exported by ``functional``.

They check their arguments as PyTorch's Python code does (its messages, its align_corners=None
warning), then call the primitives of ``tinytorch/_ops/grid_sample.py``.
"""

import warnings

from .._ops.grid_sample import BICUBIC, BILINEAR, BORDER, NEAREST, REFLECTION, ZEROS, affine_grid_generator, grid_sampler

_MODES = {"bilinear": BILINEAR, "nearest": NEAREST, "bicubic": BICUBIC}
_PADDING_MODES = {"zeros": ZEROS, "border": BORDER, "reflection": REFLECTION}
_DEFAULT_CHANGED = (
    "Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. Please specify "
    "align_corners=True if the old behavior is desired. See the documentation of grid_sample for details."
)


def affine_grid(theta, size, align_corners=None):
    """The sampling grid (N, H, W, 2) or (N, D, H, W, 3) of a batch of affine matrices ``theta``
    (N, 2, 3) or (N, 3, 4) for an output of ``size`` (N, C, H, W) or (N, C, D, H, W), in
    ``grid_sample``'s normalized coordinates."""
    if align_corners is None:
        warnings.warn(_DEFAULT_CHANGED, stacklevel=2)
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    if len(size) == 4:
        if theta.dim() != 3 or theta.shape[-2] != 2 or theta.shape[-1] != 3:
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {size}. Got {theta.shape}.")
        spatial_size = size[-2:]
    elif len(size) == 5:
        if theta.dim() != 3 or theta.shape[-2] != 3 or theta.shape[-1] != 4:
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size {size}. Got {theta.shape}.")
        spatial_size = size[-3:]
    else:
        raise NotImplementedError(
            "affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, respectively. "
            f"Got size {size}."
        )
    if align_corners and min(spatial_size) == 1:
        warnings.warn(
            "Since version 1.3.0, affine_grid behavior has changed for unit-size grids when align_corners=True. "
            "This is not an intended use case of affine_grid. See the documentation of affine_grid for details.",
            stacklevel=2,
        )
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    return affine_grid_generator(theta, size, align_corners)


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample ``input`` (N, C, H, W) or (N, C, D, H, W) at the positions of ``grid`` (N, H_out,
    W_out, 2) or (N, D_out, H_out, W_out, 3), normalized to [-1, 1] over the input's extent.

    ``mode``: 'bilinear' (trilinear on 5-D input), 'nearest' or 'bicubic' (4-D only);
    ``padding_mode`` for positions outside: 'zeros', 'border' or 'reflection'; ``align_corners``:
    whether -1 and 1 are the corner pixels' centers (True) or the image's edges (False, the
    default). Non-finite grid values give what PyTorch's CPU kernels give.
    """
    if mode not in tuple(_MODES):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in tuple(_PADDING_MODES):
        raise ValueError(
            "nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or 'reflection', "
            f"but got: '{padding_mode}'"
        )
    if align_corners is None:
        warnings.warn(_DEFAULT_CHANGED, stacklevel=2)
        align_corners = False
    return grid_sampler(input, grid, _MODES[mode], _PADDING_MODES[padding_mode], align_corners)


__all__ = ["affine_grid", "grid_sample"]
