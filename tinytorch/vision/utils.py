"""``make_grid`` (torchvision's layout, value for value) and ``save_image`` (PNG via Pillow, or
matplotlib when Pillow is absent)."""

import math

import numpy as np

from .. import _backend as backend
from .._ops import stack
from .._tensor import Tensor
from .transforms import _pil_image_module


def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False, pad_value=0.0):
    """Tile a batch of images (B x C x H x W, or a list of C x H x W) into one C x H' x W' image:
    ``nrow`` images per row, ``padding`` pixels of ``pad_value`` around each. One-channel images
    become three-channel. ``normalize`` maps ``value_range`` (default: min, max) to [0, 1], per
    image when ``scale_each``."""
    if not isinstance(tensor, Tensor):
        if isinstance(tensor, list):
            for t in tensor:
                if not isinstance(t, Tensor):
                    raise TypeError(f"tensor or list of tensors expected, got a list containing {type(t)}")
        else:
            raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")
    if isinstance(tensor, list):
        tensor = stack(tensor, 0)
    array = tensor._data
    xp = backend.array_module(array)
    if array.ndim == 2:  # a single H x W image
        array = array[None]
    if array.ndim == 3:  # a single image
        if array.shape[0] == 1:
            array = xp.concatenate([array] * 3, 0)
        array = array[None]
    if array.ndim == 4 and array.shape[1] == 1:  # single-channel images
        array = xp.concatenate([array] * 3, 1)

    if normalize is True:
        array = array.copy()  # never modify the caller's tensor
        if value_range is not None and not isinstance(value_range, tuple):
            raise TypeError("value_range has to be a tuple (min, max) if specified. min and max are numbers")

        def normalize_in_place(image):
            low, high = value_range if value_range is not None else (float(image.min()), float(image.max()))
            xp.clip(image, low, high, out=image)
            image -= low
            image /= max(high - low, 1e-5)

        if scale_each is True:
            for image in array:
                normalize_in_place(image)
        else:
            normalize_in_place(array)

    if array.shape[0] == 1:
        return Tensor._make(array[0])
    count = array.shape[0]
    columns = min(nrow, count)
    rows = int(math.ceil(count / columns))
    height, width = array.shape[2] + padding, array.shape[3] + padding
    grid = xp.full((array.shape[1], height * rows + padding, width * columns + padding), pad_value, dtype=array.dtype)
    for k in range(count):
        y, x = divmod(k, columns)
        top, left = y * height + padding, x * width + padding
        grid[:, top : top + height - padding, left : left + width - padding] = array[k]
    return Tensor._make(grid)


def save_image(tensor, fp, format=None, **kwargs):
    """Save a tensor (or a batch, as ``make_grid(tensor, **kwargs)``) as an image file (PNG by name)."""
    grid = make_grid(tensor, **kwargs)
    # Scale to [0, 255] and add 0.5 so the cast to uint8 rounds to nearest, as torchvision does.
    values = backend.to_numpy(grid._data) * 255 + 0.5
    pixels = np.clip(values, 0, 255).transpose(1, 2, 0).astype(np.uint8)
    Image = _pil_image_module()
    if Image is None:  # Pillow is optional; matplotlib writes PNGs too
        import matplotlib.image

        matplotlib.image.imsave(fp, pixels, format=format)
    else:
        Image.fromarray(pixels).save(fp, format=format)
