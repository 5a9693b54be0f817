"""Colour transforms with torchvision's API: ``Grayscale``, ``RandomGrayscale``, ``ColorJitter``
and their functional forms (``rgb_to_grayscale``, ``to_grayscale``, ``adjust_brightness``,
``adjust_contrast``, ``adjust_saturation``, ``adjust_hue``), re-exported by ``transforms``.

As there, a PIL image is changed by Pillow (``ImageEnhance``, ``convert``), and so is a uint8
array, which stands for the PIL image it would be (by a tensor computation when Pillow is
missing). A tensor (..., C, H, W), float in [0, 1] or uint8, follows torchvision's tensor
functions: each adjustment blends the image with a reference (black, its mean grey, its grey
version), clamps and casts back to the image's dtype; the hue turns in HSV space.
"""

import numbers
from collections.abc import Sequence

import numpy as np

from .. import _backend as backend
from .._tensor import Tensor
from ._image import _is_pil_image, _pil_image_module, _RandomTransform, _rng, get_dimensions

# The largest value of an image of each integer dtype (float images run from 0 to 1).
_MAX_VALUES = {"uint8": 255, "int8": 127, "int16": 32767, "int32": 2**31 - 1, "int64": 2**63 - 1}


def _max_value(dtype):
    return _MAX_VALUES.get(np.dtype(dtype).name, 1.0)


def _compute_dtype(array):
    """Integer images are computed in float32, as PyTorch's ``float * uint8 tensor``."""
    return array.dtype if array.dtype.kind == "f" else np.dtype(np.float32)


def _check_channels(array, permitted):
    channels = 1 if array.ndim == 2 else array.shape[-3]
    if channels not in permitted:
        raise TypeError(f"Input image tensor permitted channel values are {permitted}, but found {channels}")
    return channels


def _blend(image, other, ratio):
    """ratio * image + (1 - ratio) * other, clamped to the image's range, in its dtype."""
    xp = backend.array_module(image)
    ratio = float(ratio)
    mixed = ratio * image.astype(_compute_dtype(image)) + (1.0 - ratio) * other
    return xp.clip(mixed, 0, _max_value(image.dtype)).astype(image.dtype)


def _grey(array):
    """torchvision's luma (0.2989 R + 0.587 G + 0.114 B) of (..., 3, H, W), in the image's dtype
    (an integer image truncates it), with a channel dim of 1."""
    compute = _compute_dtype(array)
    r, g, b = (array[..., i, :, :].astype(compute) for i in range(3))
    return (0.2989 * r + 0.587 * g + 0.114 * b).astype(array.dtype)[..., None, :, :]


def _grayscale_array(array, num_output_channels):
    if array.ndim < 3:
        raise TypeError(f"Input image tensor should have at least 3 dimensions, but found {array.ndim}")
    _check_channels(array, [1, 3])
    grey = _grey(array) if array.shape[-3] == 3 else array.copy()
    if num_output_channels == 3:
        xp = backend.array_module(array)
        return xp.ascontiguousarray(xp.broadcast_to(grey, grey.shape[:-3] + (3,) + grey.shape[-2:]))
    return grey


def _brightness_array(array, factor):
    _check_channels(array, [1, 3])
    return _blend(array, 0.0, factor)


def _contrast_array(array, factor):
    channels = _check_channels(array, [1, 3])
    grey = _grey(array) if channels == 3 else array
    mean = grey.astype(_compute_dtype(array)).mean(axis=(-3, -2, -1), keepdims=True)
    return _blend(array, mean, factor)


def _saturation_array(array, factor):
    if _check_channels(array, [1, 3]) == 1:
        return array
    return _blend(array, _grey(array).astype(_compute_dtype(array)), factor)


def _rgb_to_hsv(image):
    """(..., 3, H, W) floats in [0, 1] to hue, saturation and value (Pillow's formulas, as torchvision's)."""
    xp = backend.array_module(image)
    r, g, b = image[..., 0, :, :], image[..., 1, :, :], image[..., 2, :, :]
    high, low = image.max(axis=-3), image.min(axis=-3)
    grey = high == low  # no hue, no saturation: keep both at 0 (and divide by 1, not 0)
    spread = high - low
    saturation = spread / xp.where(grey, 1, high)
    divisor = xp.where(grey, 1, spread)
    rc, gc, bc = (high - r) / divisor, (high - g) / divisor, (high - b) / divisor
    hue = xp.where(high == r, bc - gc, xp.where(high == g, 2.0 + rc - bc, 4.0 + gc - rc))
    hue = xp.where(grey, 0, hue)
    return xp.fmod(hue / 6.0 + 1.0, 1.0).astype(image.dtype), saturation, high


def _hsv_to_rgb(hue, saturation, value):
    """The inverse: each pixel's sextant of the hue circle picks its RGB from (v, t, p, q)."""
    xp = backend.array_module(hue)
    sextant = xp.floor(hue * 6.0)
    fraction = hue * 6.0 - sextant
    sextant = sextant.astype(np.int64) % 6
    p = xp.clip(value * (1.0 - saturation), 0.0, 1.0)
    q = xp.clip(value * (1.0 - saturation * fraction), 0.0, 1.0)
    t = xp.clip(value * (1.0 - saturation * (1.0 - fraction)), 0.0, 1.0)
    def pick(options):  # options[sextant], elementwise
        chosen = options[5]
        for k in range(4, -1, -1):
            chosen = xp.where(sextant == k, options[k], chosen)
        return chosen

    red, green, blue = pick([value, q, p, p, t, value]), pick([t, value, value, q, p, p]), pick([p, p, t, value, value, q])
    return xp.stack([red, green, blue], axis=-3)


def _hue_array(array, factor):
    if _check_channels(array, [1, 3]) == 1:
        return array
    # torchvision turns hues in float32 (integer images scaled to [0, 1] first).
    floating = array.dtype.kind == "f"
    image = array.astype(np.float32) if floating else array.astype(np.float32) / float(_max_value(array.dtype))
    hue, saturation, value = _rgb_to_hsv(image)
    turned = _hsv_to_rgb((hue + np.float32(factor)) % 1.0, saturation, value).astype(np.float32)
    if floating:
        return turned.astype(array.dtype)
    # torchvision's float -> integer conversion: scale by max + 1 - 1e-3 and truncate.
    return (turned * (_max_value(array.dtype) + 1.0 - 1e-3)).astype(array.dtype)


def _as_pil(array):
    """The PIL image an HxW(xC) uint8 array stands for, or None without Pillow."""
    Image = _pil_image_module()
    return None if Image is None else Image.fromarray(array)


def _apply(img, pil_op, array_op):
    """``pil_op`` on PIL images (and on uint8 arrays through Pillow); ``array_op`` on the
    (..., C, H, W) array of a tensor (or of an array, without Pillow)."""
    if _is_pil_image(img):
        return pil_op(img)
    if isinstance(img, Tensor):
        if img.ndim < 2:
            raise TypeError("Tensor is not a torch image.")
        out = array_op(img._data)
        return img if out is img._data else Tensor._make(out)  # unchanged (a grey image's hue): itself, as torchvision
    if isinstance(img, np.ndarray):
        image = _as_pil(img)
        if image is not None:
            return np.asarray(pil_op(image))
        out = array_op(img[None] if img.ndim == 2 else np.moveaxis(img, -1, 0))
        return out[0] if img.ndim == 2 else np.moveaxis(out, 0, -1)
    raise TypeError(f"img should be PIL Image, ndarray or Tensor. Got {type(img)}")


def _enhance(kind, factor):
    def op(image):
        from PIL import ImageEnhance  # Pillow is optional: here only for a PIL image

        return getattr(ImageEnhance, kind)(image).enhance(factor)

    return op


def rgb_to_grayscale(img, num_output_channels=1):
    """The image in grey (luma), with 1 or 3 identical channels."""
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")

    def pil_op(image):
        grey = image.convert("L")
        return grey if num_output_channels == 1 else _pil_image_module().merge("RGB", (grey, grey, grey))

    if isinstance(img, np.ndarray) and _pil_image_module() is None:
        # PIL's own integer luma ((19595 R + 38470 G + 7471 B + 2**15) >> 16), as Pillow would give.
        weights = np.array([19595, 38470, 7471], dtype=np.int64)
        grey = img.astype(np.int64) if img.ndim == 2 else (img[..., :3].astype(np.int64) @ weights + 2**15) >> 16
        grey = grey.astype(np.uint8)
        return grey if num_output_channels == 1 else np.stack([grey] * 3, axis=-1)
    return _apply(img, pil_op, lambda array: _grayscale_array(array, num_output_channels))


def to_grayscale(img, num_output_channels=1):
    """``rgb_to_grayscale`` (torchvision's name for PIL images)."""
    return rgb_to_grayscale(img, num_output_channels)


def adjust_brightness(img, brightness_factor):
    """Scale the image towards black (factor < 1) or brighter (> 1)."""
    if brightness_factor < 0:
        raise ValueError(f"brightness_factor ({brightness_factor}) is not non-negative.")
    return _apply(img, _enhance("Brightness", brightness_factor), lambda array: _brightness_array(array, brightness_factor))


def adjust_contrast(img, contrast_factor):
    """Blend the image with its mean grey: 0 gives a flat grey image, 1 the image, 2 double contrast."""
    if contrast_factor < 0:
        raise ValueError(f"contrast_factor ({contrast_factor}) is not non-negative.")
    return _apply(img, _enhance("Contrast", contrast_factor), lambda array: _contrast_array(array, contrast_factor))


def adjust_saturation(img, saturation_factor):
    """Blend the image with its grey version: 0 gives grey, 1 the image, 2 double saturation."""
    if saturation_factor < 0:
        raise ValueError(f"saturation_factor ({saturation_factor}) is not non-negative.")
    return _apply(img, _enhance("Color", saturation_factor), lambda array: _saturation_array(array, saturation_factor))


def _pil_hue(image, hue_factor):
    if image.mode in {"L", "1", "I", "F"}:
        return image
    hue, saturation, value = image.convert("HSV").split()
    # Hue is a uint8 angle: the shift wraps around the circle.
    shifted = (np.asarray(hue, dtype=np.int64) + int(hue_factor * 255)) % 256
    hue = _pil_image_module().fromarray(shifted.astype(np.uint8), "L")
    return _pil_image_module().merge("HSV", (hue, saturation, value)).convert(image.mode)


def adjust_hue(img, hue_factor):
    """Turn every hue by ``hue_factor`` of the colour circle (in [-0.5, 0.5])."""
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    return _apply(img, lambda image: _pil_hue(image, hue_factor), lambda array: _hue_array(array, hue_factor))


class Grayscale:
    """The image in grey, with ``num_output_channels`` (1 or 3) channels."""

    def __init__(self, num_output_channels=1):
        self.num_output_channels = num_output_channels

    def __call__(self, img):
        return rgb_to_grayscale(img, self.num_output_channels)

    def __repr__(self):
        return f"{type(self).__name__}(num_output_channels={self.num_output_channels})"


class RandomGrayscale(_RandomTransform):
    """Grey with probability ``p``, keeping the number of channels."""

    batch = None  # per image only

    def __init__(self, p=0.1):
        self.p = p

    def apply(self, img, uniforms):
        if uniforms[0] < self.p:
            return rgb_to_grayscale(img, get_dimensions(img)[0])
        return img

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p})"


def _jitter_range(value, name, center=1.0, bound=(0, float("inf")), clip_first_on_zero=True):
    """torchvision's ColorJitter argument: a number v gives [center - v, center + v], or a
    (min, max) pair; None when it changes nothing."""
    if isinstance(value, numbers.Number):
        if value < 0:
            raise ValueError(f"If {name} is a single number, it must be non negative.")
        value = [center - float(value), center + float(value)]
        if clip_first_on_zero:
            value[0] = max(value[0], 0.0)
    elif isinstance(value, Sequence) and len(value) == 2:
        value = [float(value[0]), float(value[1])]
    else:
        raise TypeError(f"{name} should be a single number or a list/tuple with length 2.")
    if not bound[0] <= value[0] <= value[1] <= bound[1]:
        raise ValueError(f"{name} values should be between {bound}, but got {value}.")
    return None if value[0] == value[1] == center else (float(value[0]), float(value[1]))


class ColorJitter(_RandomTransform):
    """Random brightness, contrast, saturation and hue changes, applied in a random order.

    Each argument is a number v (a factor drawn from [max(0, 1 - v), 1 + v]; for hue, a shift from
    [-v, v] with v <= 0.5) or a (min, max) range. Eight uniform draws per image: four order the
    adjustments, four pick the factors."""

    draws = 8
    batch = None  # per image only

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0):
        self.brightness = _jitter_range(brightness, "brightness")
        self.contrast = _jitter_range(contrast, "contrast")
        self.saturation = _jitter_range(saturation, "saturation")
        self.hue = _jitter_range(hue, "hue", center=0, bound=(-0.5, 0.5), clip_first_on_zero=False)

    @staticmethod
    def get_params(brightness, contrast, saturation, hue, uniforms=None):
        """(order, brightness, contrast, saturation, hue factors): a permutation of 0..3 and a
        factor drawn from each range (None where the range is None)."""
        uniforms = _rng().random(8) if uniforms is None else uniforms
        order = [int(i) for i in np.argsort(np.asarray(uniforms[:4]), kind="stable")]
        factors = [None if r is None else float(r[0] + u * (r[1] - r[0])) for r, u in zip((brightness, contrast, saturation, hue), uniforms[4:])]
        return (order, *factors)

    def apply(self, img, uniforms):
        order, *factors = self.get_params(self.brightness, self.contrast, self.saturation, self.hue, uniforms)
        adjustments = (adjust_brightness, adjust_contrast, adjust_saturation, adjust_hue)
        for index in order:
            if factors[index] is not None:
                img = adjustments[index](img, factors[index])
        return img

    def __repr__(self):
        return (f"{type(self).__name__}(brightness={self.brightness}, contrast={self.contrast}, "
                f"saturation={self.saturation}, hue={self.hue})")

