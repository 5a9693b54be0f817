"""What every image transform needs: telling PIL images, arrays and tensors apart, their sizes,
and the random draws of random transforms (see ``transforms``' module docstring)."""

import numpy as np

from ..random import generator_for
from .._tensor import Tensor


def _pil_image_module():
    try:
        from PIL import Image
    except ImportError:  # Pillow is optional
        return None
    return Image


def _is_pil_image(img):
    Image = _pil_image_module()
    return Image is not None and isinstance(img, Image.Image)


def _rng():
    return generator_for("cpu")


def _unwrap(img, batched_input=False):
    """(array, height axis, rewrap) for an array or a tensor: its pixels and how to give a result back."""
    if isinstance(img, Tensor):
        return img._data, img._data.ndim - 2, Tensor._make
    if isinstance(img, np.ndarray):
        return img, 1 if batched_input else 0, lambda array: array
    raise TypeError(f"img should be PIL Image, ndarray or Tensor. Got {type(img)}")


def get_dimensions(img):
    """[channels, height, width] of a PIL image, an HxW(xC) array or a (..., C, H, W) tensor."""
    if _is_pil_image(img):
        return [len(img.getbands()), img.size[1], img.size[0]]
    if isinstance(img, Tensor):
        if img.ndim < 2:
            raise TypeError("Tensor is not a torch image.")
        return [1 if img.ndim == 2 else img.shape[-3], img.shape[-2], img.shape[-1]]
    if isinstance(img, np.ndarray):
        return [1 if img.ndim == 2 else img.shape[2], img.shape[0], img.shape[1]]
    raise TypeError(f"img should be PIL Image, ndarray or Tensor. Got {type(img)}")


class _RandomTransform:
    """A transform driven by ``draws`` uniform floats per image (see the module docstring)."""

    draws = 1

    def __call__(self, img):
        return self.apply(img, _rng().random(self.draws))

    def batch(self, images):
        return self.apply_batch(images, _rng().random((len(images), self.draws)))
