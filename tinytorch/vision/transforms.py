"""Image transforms with torchvision's API: ``ToTensor``, ``Normalize``, ``Compose``, ``Lambda``,
``Pad``, ``CenterCrop``, ``RandomCrop``, ``RandomHorizontalFlip``, ``Resize``,
``RandomResizedCrop``, ``RandomRotation``, the colour transforms (``Grayscale``,
``RandomGrayscale``, ``ColorJitter``, from ``_color``), and their functional forms (``pad``,
``crop``, ``center_crop``, ``hflip``, ``resize``, ``resized_crop``, ``rotate``, ``adjust_*``...).

Images may be PIL images (when Pillow is installed), uint8 NumPy arrays (HxW or HxWxC) or
tensors (..., C, H, W). Geometric transforms of tensors work on the values and are not recorded by
autograd (augmentation happens before the model).

Batched fast path: a transform with a ``batch(images)`` method also maps a whole batch at once:
an NxHxW(xC) uint8 array before ``ToTensor``, an NxCxHxW tensor after it. ``batched(transform)``
returns the function a dataset's ``__getitems__`` uses, or None when some step can only run per
image (e.g. ``Lambda``).

Randomness: a random transform uses a fixed number (``draws``) of uniform floats from tinytorch's
default generator per image. A batched ``Compose`` draws them for the whole batch at once, image by
image, so a seeded batch is exactly the images transformed one at a time.
"""

from collections.abc import Sequence
from enum import Enum
import math
import numbers
import warnings

import numpy as np

from .. import _backend as backend, _dtypes as dtypes
from .._creation import as_tensor
from ..nn.functional import interpolate
from .._tensor import Tensor
from ._color import (  # noqa: F401 - the colour transforms' public home is this module, as in torchvision
    ColorJitter, Grayscale, RandomGrayscale, adjust_brightness, adjust_contrast, adjust_hue, adjust_saturation,
    rgb_to_grayscale, to_grayscale,
)
from ._image import _is_pil_image, _pil_image_module, _RandomTransform, _rng, _unwrap, get_dimensions


# -- conversions -----------------------------------------------------------------------------------
def _scale_to_tensor(array):
    """A CxHxW (or NxCxHxW) array as a tensor: uint8 becomes float in [0, 1], other dtypes stay."""
    if array.dtype == np.uint8:
        return Tensor._make(np.divide(array, 255, dtype=dtypes.default_float_numpy()))
    return Tensor._make(np.ascontiguousarray(array))


def to_tensor(pic):
    """A PIL image or HxW(xC) array as a CxHxW tensor, uint8 scaled to float in [0, 1]."""
    if isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        array = pic[:, :, None] if pic.ndim == 2 else pic
    elif _is_pil_image(pic):
        array = np.array(pic)
        if pic.mode == "1":
            array = 255 * array.astype(np.uint8)
        array = array.reshape(pic.size[1], pic.size[0], -1)
    else:
        raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
    return _scale_to_tensor(array.transpose(2, 0, 1))


class ToTensor:
    """PIL image or uint8 HxW(xC) array -> float CxHxW tensor in [0, 1]."""

    def __call__(self, pic):
        return to_tensor(pic)

    def batch(self, images):
        if not isinstance(images, np.ndarray) or images.ndim not in (3, 4):
            raise TypeError("ToTensor.batch expects an NxHxW or NxHxWxC NumPy array")
        array = images[:, None] if images.ndim == 3 else images.transpose(0, 3, 1, 2)
        return _scale_to_tensor(array)

    def __repr__(self):
        return "ToTensor()"


def _check_image_tensor(tensor):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
    if not tensor.is_floating_point():
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    if tensor.ndim < 3:
        raise ValueError(f"Expected tensor to be a tensor image of size (..., C, H, W). Got tensor.size() = {tensor.size()}")


def _normalize_constants(mean, std, tensor):
    """mean and std as (C, 1, 1) tensors of the image's dtype and device."""
    mean = as_tensor(mean, dtype=tensor.dtype, device=tensor.device)
    std = as_tensor(std, dtype=tensor.dtype, device=tensor.device)
    if (std == 0).any():
        raise ValueError(f"std evaluated to zero after conversion to {tensor.dtype}, leading to division by zero.")
    return (mean.view(-1, 1, 1) if mean.ndim == 1 else mean), (std.view(-1, 1, 1) if std.ndim == 1 else std)


def normalize(tensor, mean, std, inplace=False):
    """(tensor - mean) / std per channel of a (..., C, H, W) float tensor."""
    _check_image_tensor(tensor)
    mean, std = _normalize_constants(mean, std, tensor)
    return tensor.sub_(mean).div_(std) if inplace else tensor.sub(mean).div(std)


class Normalize:
    """Per-channel ``(x - mean) / std`` of a float tensor image (or a batch of them)."""

    def __init__(self, mean, std, inplace=False):
        self.mean = mean
        self.std = std
        self.inplace = inplace
        self._constants = {}  # (dtype, device) -> (mean, std) tensors, converted once

    def __call__(self, tensor):
        return self.batch(tensor)

    def batch(self, tensor, owned=False):
        """Normalize an image or an NxCxHxW batch (the same broadcast). ``owned``: ``tensor`` is
        an intermediate of a batched ``Compose`` that nothing else holds, so it is normalized in
        place (at the peak of a test pass at batch 1000 of MNIST, one 3 MiB batch fewer)."""
        _check_image_tensor(tensor)
        key = (tensor.dtype, str(tensor.device), id(self.mean), id(self.std))
        if key not in self._constants:
            self._constants[key] = _normalize_constants(self.mean, self.std, tensor)
        mean, std = self._constants[key]
        if self.inplace:
            return tensor.sub_(mean).div_(std)
        if not tensor.requires_grad and not mean.requires_grad:
            # NOTE: the same float arithmetic as sub + div, minus the op dispatch (this runs per
            # batch), dividing the difference in place: one batch-sized array fewer at a time.
            data, mean, std = tensor._data, mean._data, std._data
            if owned and np.broadcast_shapes(data.shape, mean.shape, std.shape) == data.shape and (
                    np.result_type(data, mean, std) == data.dtype):
                np.subtract(data, mean, out=data)
                data /= std
                return tensor
            out = data - mean
            if np.broadcast_shapes(out.shape, std.shape) != out.shape:  # std widens the result
                return Tensor._make(out / std)
            out /= std
            return Tensor._make(out)
        return tensor.sub(mean).div(std)

    def __repr__(self):
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"


class Compose:
    """Apply transforms in order."""

    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, img):
        for transform in self.transforms:
            img = transform(img)
        return img

    def batch(self, images):
        steps = _steps(self)
        counts = [getattr(step, "draws", 0) for step in steps]
        # One row of uniforms per image, in the order the per-image path draws them.
        uniforms = _rng().random((len(images), sum(counts)))
        column = 0
        given = images
        for step, count in zip(steps, counts):
            if count:
                images = step.apply_batch(images, uniforms[:, column : column + count])
                column += count
            elif isinstance(step, Normalize) and isinstance(images, Tensor):
                # What an earlier step made, unless it can be the caller's array (a step may pass
                # its input through): then Normalize may write in place.
                data = images._data
                owned = data.__class__ is np.ndarray and given.__class__ is np.ndarray and not np.may_share_memory(data, given)
                images = step.batch(images, owned=owned)
            else:
                images = step.batch(images)
        return images

    def __repr__(self):
        return f"{type(self).__name__}(" + "".join(f"\n    {t}" for t in self.transforms) + "\n)"


class Lambda:
    """Apply a user function (per image only: it has no batched form)."""

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {repr(type(lambd).__name__)}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)

    def __repr__(self):
        return f"{type(self).__name__}()"


def _steps(transform):
    """The leaf transforms of a (possibly nested) Compose."""
    if isinstance(transform, Compose):
        return [step for t in transform.transforms for step in _steps(t)]
    return [transform]


def batched(transform):
    """A function mapping an NxHxW(xC) uint8 array to the batch of what ``transform`` gives per
    image, when every step has a batched form and the result is a tensor; else None."""
    steps = _steps(transform)
    if not all(callable(getattr(step, "batch", None)) for step in steps):
        return None
    if not any(isinstance(step, ToTensor) for step in steps):
        return None  # per image the result would be a PIL image or array, not a tensor batch
    return Compose(steps).batch


# -- geometry: PIL images (through Pillow, as torchvision), uint8 arrays and tensors ----------------
# A uint8 array stands for the PIL image it would be (MNIST gives arrays without Pillow, and the
# batched path gets NxHxW(xC) arrays before ToTensor): flips, crops and pads slice it, resizing and
# rotation go through Pillow when it is installed (so a batch is exactly its images one at a time)
# and through the tensor algorithm when it is not. Tensors (..., C, H, W) follow torchvision's
# tensor functions: the same operation for every leading index.


class InterpolationMode(Enum):
    """torchvision's interpolation modes (the PIL constants 0-5 are accepted too)."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


_FROM_PIL_CODE = {0: "nearest", 2: "bilinear", 3: "bicubic", 4: "box", 5: "hamming", 1: "lanczos"}
_PIL_CODE = {"nearest": 0, "nearest-exact": 0, "bilinear": 2, "bicubic": 3, "box": 4, "hamming": 5, "lanczos": 1}


def _interpolation(interpolation):
    """An InterpolationMode from a mode, a PIL constant or the mode's name."""
    if isinstance(interpolation, InterpolationMode):
        return interpolation
    if isinstance(interpolation, int) and not isinstance(interpolation, bool):
        if interpolation not in _FROM_PIL_CODE:
            raise ValueError(f"Interpolation {interpolation} is not supported")  # torchvision: a KeyError of the code
        return InterpolationMode(_FROM_PIL_CODE[interpolation])
    if isinstance(interpolation, str):
        return InterpolationMode(interpolation)
    raise TypeError("Argument interpolation should be a InterpolationMode or a corresponding Pillow integer constant")


def _spatial_index(array, h_axis, rows, cols):
    index = [slice(None)] * array.ndim
    index[h_axis], index[h_axis + 1] = rows, cols
    return tuple(index)


def _flip(array, h_axis):
    return array[_spatial_index(array, h_axis, slice(None), slice(None, None, -1))]


def hflip(img):
    """The image mirrored left to right."""
    if _is_pil_image(img):
        return img.transpose(_pil_image_module().FLIP_LEFT_RIGHT)
    array, h_axis, rewrap = _unwrap(img)
    return rewrap(_flip(array, h_axis).copy())


def crop(img, top, left, height, width):
    """The ``height`` x ``width`` window at (top, left); parts outside the image are 0."""
    if _is_pil_image(img):
        return img.crop((left, top, left + width, top + height))
    array, h_axis, rewrap = _unwrap(img)
    return rewrap(_crop(array, h_axis, top, left, height, width))


def _crop(array, h_axis, top, left, height, width):
    rows, cols = array.shape[h_axis], array.shape[h_axis + 1]
    bottom, right = top + height, left + width
    window = array[_spatial_index(array, h_axis, slice(max(top, 0), max(bottom, 0)), slice(max(left, 0), max(right, 0)))]
    if left < 0 or top < 0 or right > cols or bottom > rows:
        outside = [max(-left + min(0, right), 0), max(-top + min(0, bottom), 0),
                   max(right - max(cols, left), 0), max(bottom - max(rows, top), 0)]
        return _pad_array(window, h_axis, outside, 0, "constant")
    return window.copy()


# -- padding --------------------------------------------------------------------------------------
def _padding_ltrb(padding):
    """[left, top, right, bottom] from an int, (lr, tb) or (l, t, r, b)."""
    if isinstance(padding, numbers.Number):
        return [int(padding)] * 4
    padding = [int(p) for p in padding]
    if len(padding) == 1:
        return padding * 4
    if len(padding) == 2:
        return [padding[0], padding[1], padding[0], padding[1]]
    return padding


def _check_padding(padding, fill, padding_mode):
    if not isinstance(padding, (numbers.Number, tuple, list)):
        raise TypeError("Got inappropriate padding arg")
    if fill is not None and not isinstance(fill, (numbers.Number, tuple, list)):
        raise TypeError("Got inappropriate fill arg")
    if not isinstance(padding_mode, str):
        raise TypeError("Got inappropriate padding_mode arg")
    if isinstance(padding, (tuple, list)) and len(padding) not in (1, 2, 4):
        raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element tuple")
    if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")


def _pil_fill(fill, bands, name="fill"):
    """torchvision's _parse_fill: a number per band for a multi-band image, ints unless mode F."""
    if fill is None:
        fill = 0
    if isinstance(fill, (int, float)) and bands > 1:
        fill = tuple([fill] * bands)
    if isinstance(fill, (list, tuple)):
        if len(fill) == 1:
            fill = fill * bands
        elif len(fill) != bands:
            raise ValueError(
                f"The number of elements in 'fill' does not match the number of channels of the image ({len(fill)} != {bands})"
            )
        fill = tuple(fill)
    return fill


def _pad_array(array, h_axis, ltrb, fill, padding_mode, channel_axis=None):
    """Pad the spatial axes by [left, top, right, bottom] (negative sizes crop first); a sequence
    ``fill`` gives each channel (along ``channel_axis``) its own value."""
    xp = backend.array_module(array)
    left, top, right, bottom = ltrb
    if min(ltrb) < 0:
        rows, cols = array.shape[h_axis], array.shape[h_axis + 1]
        array = array[_spatial_index(array, h_axis, slice(max(-top, 0), rows - max(-bottom, 0)), slice(max(-left, 0), cols - max(-right, 0)))]
        left, top, right, bottom = (max(p, 0) for p in ltrb)
    widths = [(0, 0)] * array.ndim
    widths[h_axis], widths[h_axis + 1] = (top, bottom), (left, right)
    if padding_mode != "constant":
        return xp.pad(array, widths, mode={"edge": "edge", "reflect": "reflect", "symmetric": "symmetric"}[padding_mode])
    shape = list(array.shape)
    shape[h_axis] += top + bottom
    shape[h_axis + 1] += left + right
    out = xp.empty(tuple(shape), dtype=array.dtype)
    if isinstance(fill, (tuple, list)):
        values = xp.asarray(np.asarray(fill, dtype=np.float64).astype(array.dtype))
        view = [1] * array.ndim
        view[channel_axis] = len(fill)
        out[...] = values.reshape(view)
    else:
        out[...] = fill
    rows, cols = array.shape[h_axis], array.shape[h_axis + 1]
    out[_spatial_index(out, h_axis, slice(top, top + rows), slice(left, left + cols))] = array
    return out


def pad(img, padding, fill=0, padding_mode="constant"):
    """Pad every side of the image: ``padding`` int, (left/right, top/bottom) or (l, t, r, b);
    modes constant (``fill``), edge, reflect (no repeat of the edge) and symmetric (repeating it)."""
    _check_padding(padding, fill, padding_mode)
    ltrb = _padding_ltrb(padding)
    if _is_pil_image(img):
        return _pad_pil(img, ltrb, fill, padding_mode)
    if isinstance(img, Tensor):
        if fill is not None and not isinstance(fill, (int, float)):
            raise TypeError("Got inappropriate fill arg")
        array = img._data
        return Tensor._make(_pad_array(array, array.ndim - 2, ltrb, 0 if fill is None else fill, padding_mode))
    array, h_axis, rewrap = _unwrap(img)
    fill = _pil_fill(fill, 1 if array.ndim == 2 else array.shape[2])
    return rewrap(_pad_array(array, h_axis, ltrb, fill, padding_mode, channel_axis=2))


def _pad_pil(img, ltrb, fill, padding_mode):
    """torchvision's PIL pad: ImageOps.expand for constant, NumPy's pad for the other modes."""
    Image = _pil_image_module()
    if padding_mode == "constant" and min(ltrb) >= 0:
        from PIL import ImageOps

        fill = _pil_fill(fill, len(img.getbands()))
        if img.mode != "F":
            fill = tuple(int(x) for x in fill) if isinstance(fill, tuple) else int(fill)
        out = ImageOps.expand(img, border=tuple(ltrb), fill=fill)
        if img.mode == "P":
            out.putpalette(img.getpalette())
        return out
    array = np.asarray(img)
    fill = _pil_fill(fill, 1 if array.ndim == 2 else array.shape[2])
    out = Image.fromarray(_pad_array(array, 0, ltrb, fill, padding_mode, channel_axis=2))
    if img.mode == "P":
        out.putpalette(img.getpalette())
    return out if out.mode == img.mode or img.mode == "P" else out.convert(img.mode)


class Pad:
    """Pad the image on every side (see ``pad``)."""

    def __init__(self, padding, fill=0, padding_mode="constant"):
        if not isinstance(padding, (numbers.Number, tuple, list)):
            raise TypeError("Got inappropriate padding arg")
        if not isinstance(fill, (numbers.Number, tuple, list)):
            raise TypeError("Got inappropriate fill arg")
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
        if isinstance(padding, (tuple, list)) and len(padding) not in (1, 2, 4):
            raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element tuple")
        self.padding, self.fill, self.padding_mode = padding, fill, padding_mode

    def __call__(self, img):
        return pad(img, self.padding, self.fill, self.padding_mode)

    def batch(self, images):
        if isinstance(images, Tensor):
            return pad(images, self.padding, self.fill, self.padding_mode)
        array, h_axis, rewrap = _unwrap(images, batched_input=True)
        fill = _pil_fill(self.fill, 1 if array.ndim == 3 else array.shape[3])
        return rewrap(_pad_array(array, h_axis, _padding_ltrb(self.padding), fill, self.padding_mode, channel_axis=3))

    def __repr__(self):
        return f"{type(self).__name__}(padding={self.padding}, fill={self.fill}, padding_mode={self.padding_mode})"


# -- crops ----------------------------------------------------------------------------------------
def _setup_size(size, error_msg):
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    if isinstance(size, Sequence) and len(size) == 1:
        return size[0], size[0]
    if len(size) != 2:
        raise ValueError(error_msg)
    return size


def center_crop(img, output_size):
    """The central ``output_size`` window; an image smaller than it is padded with 0 first."""
    if isinstance(output_size, numbers.Number):
        output_size = (int(output_size), int(output_size))
    elif isinstance(output_size, (tuple, list)) and len(output_size) == 1:
        output_size = (output_size[0], output_size[0])
    _, height, width = get_dimensions(img)
    crop_height, crop_width = output_size
    if crop_width > width or crop_height > height:
        padding = [
            (crop_width - width) // 2 if crop_width > width else 0,
            (crop_height - height) // 2 if crop_height > height else 0,
            (crop_width - width + 1) // 2 if crop_width > width else 0,
            (crop_height - height + 1) // 2 if crop_height > height else 0,
        ]
        img = pad(img, padding, fill=0)
        _, height, width = get_dimensions(img)
        if crop_width == width and crop_height == height:
            return img
    top, left = int(round((height - crop_height) / 2.0)), int(round((width - crop_width) / 2.0))
    return crop(img, top, left, crop_height, crop_width)


class CenterCrop:
    """Crop the centre (padding with 0 when the image is smaller)."""

    def __init__(self, size):
        self.size = _setup_size(size, error_msg="Please provide only two dimensions (h, w) for size.")

    def __call__(self, img):
        return center_crop(img, self.size)

    def batch(self, images):
        if isinstance(images, Tensor):
            return center_crop(images, self.size)
        # An NxHxW(xC) array: every image gets the same window.
        one = images[0]
        _, height, width = get_dimensions(one)
        crop_height, crop_width = self.size
        if crop_width > width or crop_height > height:
            return np.stack([center_crop(image, self.size) for image in images]) if len(images) else images
        top, left = int(round((height - crop_height) / 2.0)), int(round((width - crop_width) / 2.0))
        return images[:, top : top + crop_height, left : left + crop_width].copy()

    def __repr__(self):
        return f"{type(self).__name__}(size={self.size})"


class RandomHorizontalFlip(_RandomTransform):
    """Mirror left-right with probability ``p``."""

    def __init__(self, p=0.5):
        self.p = p

    def apply(self, img, uniforms):
        return hflip(img) if uniforms[0] < self.p else img

    def apply_batch(self, images, uniforms):
        array, h_axis, rewrap = _unwrap(images, batched_input=True)
        flip = backend.to_device(uniforms[:, 0] < self.p, backend.device_of(array))
        out = array.copy()
        out[flip] = _flip(array[flip], h_axis)
        return rewrap(out)

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p})"


class RandomCrop(_RandomTransform):
    """Crop a random ``size`` window, after optional ``padding`` (int, (lr, tb) or (l, t, r, b)),
    and ``pad_if_needed`` to reach ``size``."""

    draws = 2

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant"):
        self.size = tuple(_setup_size(size, error_msg="Please provide only two dimensions (h, w) for size."))
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode
        if padding is not None:
            _check_padding(padding, fill, padding_mode)
        elif padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")

    def _padded(self, img, pad_fn, dimensions):
        """torchvision's order: ``padding``, then the width, then the height when ``pad_if_needed``."""
        if self.padding is not None:
            img = pad_fn(img, self.padding)
        _, height, width = dimensions(img)
        th, tw = self.size
        if self.pad_if_needed and width < tw:
            img = pad_fn(img, [tw - width, 0])
        if self.pad_if_needed and height < th:
            img = pad_fn(img, [0, th - height])
        _, height, width = dimensions(img)
        if height < th or width < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size {(height, width)}")
        return img, height, width

    def _window(self, height, width, uniforms):
        th, tw = self.size
        return int(uniforms[0] * (height - th + 1)), int(uniforms[1] * (width - tw + 1))

    def _pad_one(self, img, padding):
        return pad(img, padding, self.fill, self.padding_mode)

    def _pad_many(self, images, padding):
        return Pad(padding, self.fill, self.padding_mode).batch(images)

    def apply(self, img, uniforms):
        img, height, width = self._padded(img, self._pad_one, get_dimensions)
        top, left = self._window(height, width, uniforms)
        return crop(img, top, left, *self.size)

    def apply_batch(self, images, uniforms):
        if isinstance(images, Tensor):
            images, height, width = self._padded(images, self._pad_one, get_dimensions)
            array, h_axis = images._data, images.ndim - 2
        else:  # NxHxW(xC)
            array, height, width = self._padded(images, self._pad_many, lambda batch: [0, batch.shape[1], batch.shape[2]])
            h_axis = 1
        th, tw = self.size
        xp = backend.array_module(array)
        out = xp.empty(array.shape[:h_axis] + (th, tw) + array.shape[h_axis + 2 :], array.dtype)
        for k in range(len(array)):  # a window per image: slicing, no arithmetic
            top, left = self._window(height, width, uniforms[k])
            out[k] = array[k][_spatial_index(array[k], h_axis - 1, slice(top, top + th), slice(left, left + tw))]
        return Tensor._make(out) if isinstance(images, Tensor) else out

    def __repr__(self):
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


# -- resizing -------------------------------------------------------------------------------------
def _resized_size(height, width, size, max_size):
    """torchvision's _compute_resized_output_size: [h, w]; one number sets the smaller edge."""
    if isinstance(size, int):
        size = [size]
    if len(size) == 1:
        short, long = (width, height) if width <= height else (height, width)
        requested = size[0]
        new_short, new_long = requested, int(requested * long / short)
        if max_size is not None:
            if max_size <= requested:
                raise ValueError(
                    f"max_size = {max_size} must be strictly greater than the requested size for the smaller edge size = {size}"
                )
            if new_long > max_size:
                new_short, new_long = int(max_size * new_short / new_long), max_size
        return [new_long, new_short] if width <= height else [new_short, new_long]
    return [int(size[0]), int(size[1])]


def _resize_tensor(array, size, mode, antialias):
    """torchvision's tensor resize: interpolate in float (integer images rounded back)."""
    if antialias and mode not in ("bilinear", "bicubic"):
        antialias = False
    shape = array.shape
    floating = array.dtype.kind == "f"
    work = array.reshape((-1, 1 if len(shape) == 2 else shape[-3]) + shape[-2:])
    if not floating:
        work = work.astype(np.float32)
    out = interpolate(Tensor._make(work), size=list(size), mode=mode,
                      align_corners=False if mode in ("bilinear", "bicubic") else None, antialias=antialias)._data
    if not floating:
        xp = backend.array_module(out)
        if mode == "bicubic":
            out = xp.clip(out, 0, 255)
        out = xp.rint(out).astype(array.dtype)
    return out.reshape(shape[:-2] + tuple(size))


def _pil_resize(image, size, mode):
    return image.resize((size[1], size[0]), _PIL_CODE[mode])


def _resize_array(array, size, mode, antialias, batched_input=False):
    """Arrays are PIL images in disguise: Pillow resizes each (or the tensor algorithm without Pillow)."""
    Image = _pil_image_module()
    images = array if batched_input else array[None]
    if Image is None:
        chw = np.moveaxis(images, -1, 1) if images.ndim == 4 else images[:, None]
        out = _resize_tensor(chw, size, mode if mode in ("nearest", "nearest-exact", "bilinear", "bicubic") else "bilinear", True)
        out = np.moveaxis(out, 1, -1) if images.ndim == 4 else out[:, 0]
    else:
        out = np.stack([np.asarray(_pil_resize(Image.fromarray(image), size, mode)) for image in images]) if len(images) else \
            np.empty((0, *size) + images.shape[3:], images.dtype)
    return out if batched_input else out[0]


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    """Resize to ``size`` ((h, w), or one number for the smaller edge, the aspect ratio kept)."""
    interpolation = _interpolation(interpolation)
    if isinstance(size, (list, tuple)):
        if len(size) not in (1, 2):
            raise ValueError(f"Size must be an int or a 1 or 2 element tuple/list, not a {len(size)} element tuple/list")
        if max_size is not None and len(size) != 1:
            raise ValueError(
                "max_size should only be passed if size specifies the length of the smaller edge, i.e. size should be "
                "an int or a sequence of length 1 in torchscript mode."
            )
    _, height, width = get_dimensions(img)
    output = _resized_size(height, width, size, max_size)
    if [height, width] == output:
        return img
    if _is_pil_image(img):
        if antialias is False:
            warnings.warn("Anti-alias option is always applied for PIL Image input. Argument antialias is ignored.", stacklevel=2)
        return _pil_resize(img, output, interpolation.value)
    if isinstance(img, Tensor):
        return Tensor._make(_resize_tensor(img._data, output, _tensor_mode(interpolation), antialias))
    return _resize_array(_unwrap(img)[0], output, interpolation.value, antialias)


def _tensor_mode(interpolation):
    if interpolation.value not in ("nearest", "nearest-exact", "bilinear", "bicubic"):
        raise ValueError(f"Interpolation mode '{interpolation.value}' is unsupported with Tensor input")
    return interpolation.value


class Resize:
    """Resize to ``size``: (h, w), or one number for the smaller edge (the aspect ratio kept, the
    longer edge at most ``max_size``). PIL images and uint8 arrays are resized by Pillow; tensors
    by ``F.interpolate`` (antialiased for bilinear and bicubic by default, as torchvision)."""

    def __init__(self, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
        if not isinstance(size, (int, Sequence)):
            raise TypeError(f"Size should be int or sequence. Got {type(size)}")
        if isinstance(size, Sequence) and len(size) not in (1, 2):
            raise ValueError("If size is a sequence, it should have 1 or 2 values")
        self.size = size
        self.max_size = max_size
        self.interpolation = _interpolation(interpolation)
        self.antialias = antialias

    def __call__(self, img):
        return resize(img, self.size, self.interpolation, self.max_size, self.antialias)

    def batch(self, images):
        if isinstance(images, Tensor):
            return self(images)
        _, height, width = get_dimensions(images[0]) if len(images) else (0, 0, 0)
        output = _resized_size(height, width, self.size, self.max_size)
        if [height, width] == output:
            return images
        return _resize_array(images, output, self.interpolation.value, self.antialias, batched_input=True)

    def __repr__(self):
        return (f"{type(self).__name__}(size={self.size}, interpolation={self.interpolation.value}, "
                f"max_size={self.max_size}, antialias={self.antialias})")


def resized_crop(img, top, left, height, width, size, interpolation=InterpolationMode.BILINEAR, antialias=True):
    """``crop`` then ``resize`` to ``size``."""
    return resize(crop(img, top, left, height, width), size, interpolation, antialias=antialias)


class RandomResizedCrop(_RandomTransform):
    """Crop a random window (its area a ``scale`` fraction of the image's, its aspect ratio
    log-uniform in ``ratio``) and resize it to ``size``, as torchvision's.

    Up to ten windows are tried (four uniform draws each: area, ratio, top, left); when none
    fits, the centre crop of the ratio nearest the image's is taken."""

    draws = 40
    batch = None  # each image gets its own window size: per image only

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0), interpolation=InterpolationMode.BILINEAR,
                 antialias=True):
        self.size = tuple(_setup_size(size, error_msg="Please provide only two dimensions (h, w) for size."))
        if not isinstance(scale, Sequence):
            raise TypeError("Scale should be a sequence")
        if not isinstance(ratio, Sequence):
            raise TypeError("Ratio should be a sequence")
        if (scale[0] > scale[1]) or (ratio[0] > ratio[1]):
            warnings.warn("Scale and ratio should be of kind (min, max)", stacklevel=2)
        self.interpolation = _interpolation(interpolation)
        self.antialias = antialias
        self.scale = scale
        self.ratio = ratio

    @staticmethod
    def get_params(img, scale, ratio, uniforms=None):
        """(top, left, height, width) of a random window of ``img`` (drawn from tinytorch's
        default generator unless ``uniforms`` are given)."""
        uniforms = _rng().random(RandomResizedCrop.draws) if uniforms is None else uniforms
        _, height, width = get_dimensions(img)
        area = height * width
        log_low, log_high = math.log(ratio[0]), math.log(ratio[1])
        for attempt in range(10):
            u_area, u_ratio, u_top, u_left = uniforms[4 * attempt : 4 * attempt + 4]
            target_area = area * (scale[0] + u_area * (scale[1] - scale[0]))
            aspect_ratio = math.exp(log_low + u_ratio * (log_high - log_low))
            w = int(round(math.sqrt(target_area * aspect_ratio)))
            h = int(round(math.sqrt(target_area / aspect_ratio)))
            if 0 < w <= width and 0 < h <= height:
                return int(u_top * (height - h + 1)), int(u_left * (width - w + 1)), h, w
        in_ratio = float(width) / float(height)  # no window fitted: the centre crop
        if in_ratio < min(ratio):
            w, h = width, int(round(width / min(ratio)))
        elif in_ratio > max(ratio):
            h, w = height, int(round(height * max(ratio)))
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def apply(self, img, uniforms):
        top, left, height, width = self.get_params(img, self.scale, self.ratio, uniforms)
        return resized_crop(img, top, left, height, width, list(self.size), self.interpolation, antialias=self.antialias)

    def __repr__(self):
        scale = tuple(round(s, 4) for s in self.scale)
        ratio = tuple(round(r, 4) for r in self.ratio)
        return (f"{type(self).__name__}(size={self.size}, scale={scale}, ratio={ratio}, "
                f"interpolation={self.interpolation.value}, antialias={self.antialias})")


# -- rotation -------------------------------------------------------------------------------------
def _inverse_rotation(center, angle):
    """torchvision's _get_inverse_affine_matrix for a pure rotation by ``angle`` degrees about
    ``center`` (relative to the image centre): output pixel -> input pixel."""
    rot = math.radians(angle)
    a, b, c, d = math.cos(rot), -math.sin(rot), math.sin(rot), math.cos(rot)
    matrix = [d, -b, 0.0, -c, a, 0.0]
    cx, cy = center
    matrix[2] += matrix[0] * -cx + matrix[1] * -cy + cx
    matrix[5] += matrix[3] * -cx + matrix[4] * -cy + cy
    return matrix


def _rotated_size(matrix, width, height):
    """torchvision's _compute_affine_output_size (in float32, as it computes): (w, h) that holds the
    whole rotated image."""
    f32 = np.float32
    corners = np.array([[-0.5 * width, -0.5 * height, 1.0], [-0.5 * width, 0.5 * height, 1.0],
                        [0.5 * width, 0.5 * height, 1.0], [0.5 * width, -0.5 * height, 1.0]], dtype=f32)
    moved = corners @ np.array(matrix, dtype=f32).reshape(2, 3).T
    shift = np.array([width * 0.5, height * 0.5], dtype=f32)
    low, high = moved.min(axis=0) + shift, moved.max(axis=0) + shift
    tolerance = f32(1e-4)  # truncate to 1e-4 so that 1e-15 above an integer does not round up
    size = np.ceil(np.trunc(high / tolerance) * tolerance) - np.floor(np.trunc(low / tolerance) * tolerance)
    return int(size[0]), int(size[1])


def _rotate_chw(array, matrices, mode, out_size, fill):
    """Sample (N, C, H, W) float ``array`` at each image's rotated grid (torchvision's affine grid
    and grid_sample with zero padding, align_corners=False); ``fill`` (per channel) where the
    sample falls outside."""
    xp = backend.array_module(array)
    dtype = array.dtype
    n, channels, height, width = array.shape
    out_w, out_h = out_size
    xs = xp.asarray(np.linspace(-out_w * 0.5 + 0.5, out_w * 0.5 + 0.5 - 1, out_w).astype(dtype))
    ys = xp.asarray(np.linspace(-out_h * 0.5 + 0.5, out_h * 0.5 + 0.5 - 1, out_h).astype(dtype))
    theta = xp.asarray(np.asarray(matrices, dtype=np.float64).reshape(n, 2, 3).astype(dtype))
    scale = xp.asarray(np.array([0.5 * width, 0.5 * height], dtype=dtype))
    rescaled = theta / scale.reshape(1, 2, 1)  # (N, 2, 3): rows give x and y in [-1, 1]
    gx = xs[None, None, :] * rescaled[:, 0, 0, None, None] + ys[None, :, None] * rescaled[:, 0, 1, None, None] + rescaled[:, 0, 2, None, None]
    gy = xs[None, None, :] * rescaled[:, 1, 0, None, None] + ys[None, :, None] * rescaled[:, 1, 1, None, None] + rescaled[:, 1, 2, None, None]
    ix = ((gx + 1) * width - 1) / 2  # unnormalized, align_corners=False
    iy = ((gy + 1) * height - 1) / 2
    images = xp.arange(n).reshape(n, 1, 1)
    with_mask = fill is not None
    if with_mask:  # a channel of ones marks where the samples land inside (torchvision's trick)
        array = xp.concatenate([array, xp.ones((n, 1, height, width), dtype=dtype)], axis=1)

    def gather(rows, cols):
        inside = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
        values = array[images, :, xp.clip(rows, 0, height - 1), xp.clip(cols, 0, width - 1)]  # (N, H', W', C)
        return values * inside[..., None].astype(dtype)

    if mode == "nearest":
        out = gather(xp.rint(iy).astype(np.int64), xp.rint(ix).astype(np.int64))
    else:
        x0, y0 = xp.floor(ix), xp.floor(iy)
        x1, y1 = x0 + 1, y0 + 1
        out = (gather(y0.astype(np.int64), x0.astype(np.int64)) * ((x1 - ix) * (y1 - iy))[..., None]
               + gather(y0.astype(np.int64), x1.astype(np.int64)) * ((ix - x0) * (y1 - iy))[..., None]
               + gather(y1.astype(np.int64), x0.astype(np.int64)) * ((x1 - ix) * (iy - y0))[..., None]
               + gather(y1.astype(np.int64), x1.astype(np.int64)) * ((ix - x0) * (iy - y0))[..., None])
    out = xp.moveaxis(out, -1, 1)  # (N, C(+1), H', W')
    if with_mask:
        mask, out = out[:, -1:], out[:, :-1]
        values = xp.asarray(np.asarray(fill, dtype=np.float64).astype(dtype)).reshape(1, -1, 1, 1)
        if mode == "nearest":
            out = xp.where(mask < 0.5, values, out)
        else:
            out = out * mask + (1.0 - mask) * values
    return xp.ascontiguousarray(out)


def _rotate_tensor_array(array, angles, mode, expand, center, fill):
    """Rotate (..., C, H, W) (or (N, C, H, W) with one angle per image): torchvision's tensor rotate."""
    if mode not in ("nearest", "bilinear"):
        raise ValueError(f"Interpolation mode '{mode}' is unsupported with Tensor input")
    shape = array.shape
    channels = 1 if len(shape) == 2 else shape[-3]
    if fill is not None and isinstance(fill, (tuple, list)) and len(fill) > 1 and len(fill) != channels:
        raise ValueError(
            "The number of elements in 'fill' cannot broadcast to match the number of channels of the image "
            f"({len(fill)} != {channels})"
        )
    height, width = shape[-2], shape[-1]
    center_f = [0.0, 0.0] if center is None else [1.0 * (c - s * 0.5) for c, s in zip(center, [width, height])]
    # NOTE: torchvision rotates by -angle in its affine convention (counter-clockwise on screen).
    matrices = [_inverse_rotation(center_f, -angle) for angle in angles]
    sizes = {(_rotated_size(m, width, height) if expand else (width, height)) for m in matrices}
    if len(sizes) > 1:
        raise ValueError("expand=True gives images of different sizes for different angles: rotate them one at a time")
    out_size = sizes.pop()
    work = array.reshape((-1, channels, height, width))
    per_image = len(angles) > 1
    if not per_image:
        matrices = matrices * work.shape[0]
    floating = array.dtype.kind == "f"
    compute = work if floating else work.astype(np.float32)
    if fill is not None and not isinstance(fill, (tuple, list)):
        fill = [float(fill)]
    out = _rotate_chw(compute, matrices, mode, out_size, fill)
    if not floating:
        out = backend.array_module(out).rint(out).astype(array.dtype)
    return out.reshape(shape[:-2] + (out_size[1], out_size[0]))


def _pil_rotate(image, angle, mode, expand, center, fill):
    fill = _pil_fill(fill, len(image.getbands()))
    if image.mode != "F" and fill is not None:
        fill = tuple(int(x) for x in fill) if isinstance(fill, tuple) else int(fill)
    return image.rotate(angle, _PIL_CODE[mode], expand, center, fillcolor=fill)


def _rotate_arrays(images, angles, mode, expand, center, fill):
    """NxHxW(xC) uint8 arrays: Pillow per image (the PIL images they stand for), else the tensor algorithm."""
    Image = _pil_image_module()
    if Image is not None:
        return np.stack([np.asarray(_pil_rotate(Image.fromarray(image), angle, mode, expand, center, fill))
                         for image, angle in zip(images, angles)])
    chw = np.moveaxis(images, -1, 1) if images.ndim == 4 else images[:, None]
    channels = chw.shape[1]
    fills = _pil_fill(fill, channels)
    fills = list(fills) if isinstance(fills, tuple) else [float(fills)] * channels
    out = _rotate_tensor_array(chw, angles, mode if mode in ("nearest", "bilinear") else "bilinear", expand, center, fills)
    return np.moveaxis(out, 1, -1) if images.ndim == 4 else out[:, 0]


def rotate(img, angle, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=None):
    """Rotate by ``angle`` degrees counter-clockwise about ``center`` ((x, y) in pixels; default
    the image centre); ``expand`` grows the output to hold the whole rotated image."""
    interpolation = _interpolation(interpolation)
    if not isinstance(angle, (int, float)):
        raise TypeError("Argument angle should be int or float")
    if center is not None and not isinstance(center, (list, tuple)):
        raise TypeError("Argument center should be a sequence")
    if _is_pil_image(img):
        return _pil_rotate(img, angle, interpolation.value, expand, center, fill)
    if isinstance(img, Tensor):
        if img.ndim < 2:
            raise TypeError("Tensor is not a torch image.")
        return Tensor._make(_rotate_tensor_array(img._data, [angle], interpolation.value, expand, center, fill))
    array = _unwrap(img)[0]
    return _rotate_arrays(array[None], [angle], interpolation.value, expand, center, fill)[0]


def _setup_angle(x, name, req_sizes=(2,)):
    if isinstance(x, numbers.Number):
        if x < 0:
            raise ValueError(f"If {name} is a single number, it must be positive.")
        x = [-x, x]
    else:
        message = req_sizes[0] if len(req_sizes) < 2 else " or ".join(str(s) for s in req_sizes)
        if not isinstance(x, Sequence):
            raise TypeError(f"{name} should be a sequence of length {message}.")
        if len(x) not in req_sizes:
            raise ValueError(f"{name} should be a sequence of length {message}.")
    return [float(d) for d in x]


class RandomRotation(_RandomTransform):
    """Rotate by an angle drawn uniformly from ``degrees`` ((min, max), or d for (-d, d))."""

    def __init__(self, degrees, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=0):
        self.degrees = _setup_angle(degrees, name="degrees", req_sizes=(2,))
        if center is not None:
            if not isinstance(center, Sequence):
                raise TypeError("center should be a sequence of length 2.")
            if len(center) != 2:
                raise ValueError("center should be a sequence of length 2.")
        self.center = center
        self.interpolation = _interpolation(interpolation)
        self.expand = expand
        if fill is None:
            fill = 0
        elif not isinstance(fill, (Sequence, numbers.Number)):
            raise TypeError("Fill should be either a sequence or a number.")
        self.fill = fill

    def _angle(self, uniform):
        low, high = self.degrees
        return float(low + uniform * (high - low))

    def _tensor_fill(self, channels):
        return [float(self.fill)] * channels if isinstance(self.fill, (int, float)) else [float(f) for f in self.fill]

    def apply(self, img, uniforms):
        angle = self._angle(uniforms[0])
        if isinstance(img, Tensor):
            return rotate(img, angle, self.interpolation, self.expand, self.center, self._tensor_fill(get_dimensions(img)[0]))
        return rotate(img, angle, self.interpolation, self.expand, self.center, self.fill)

    @property
    def batch(self):
        """Each image of a batch turns by its own angle; with ``expand`` the sizes would differ,
        so there is no batched form then."""
        return None if self.expand else super().batch

    def apply_batch(self, images, uniforms):
        angles = [self._angle(u[0]) for u in uniforms]
        if isinstance(images, Tensor):
            fill = self._tensor_fill(images.shape[-3])
            return Tensor._make(_rotate_tensor_array(images._data, angles, self.interpolation.value, False, self.center, fill))
        if len(images) == 0:
            return images
        return _rotate_arrays(images, angles, self.interpolation.value, False, self.center, self.fill)

    def __repr__(self):
        text = f"{type(self).__name__}(degrees={self.degrees}, interpolation={self.interpolation.value}, expand={self.expand}"
        if self.center is not None:
            text += f", center={self.center}"
        if self.fill is not None:
            text += f", fill={self.fill}"
        return text + ")"
