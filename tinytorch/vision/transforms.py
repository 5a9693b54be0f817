"""Image transforms with torchvision's API: ``ToTensor``, ``Normalize``, ``Compose``, ``Lambda``,
``RandomHorizontalFlip``, ``RandomCrop``, ``Resize``.

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

import numbers

import numpy as np

from .. import _backend as backend, _dtypes as dtypes
from .._creation import as_tensor
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
        _check_image_tensor(tensor)
        key = (tensor.dtype, str(tensor.device), id(self.mean), id(self.std))
        if key not in self._constants:
            self._constants[key] = _normalize_constants(self.mean, self.std, tensor)
        mean, std = self._constants[key]
        if self.inplace:
            return tensor.sub_(mean).div_(std)
        if not tensor.requires_grad and not mean.requires_grad:
            # NOTE: the same float arithmetic as sub + div, minus the op dispatch (this runs per batch).
            return Tensor._make((tensor._data - mean._data) / std._data)
        return tensor.sub(mean).div(std)

    batch = __call__  # the same broadcast works on NxCxHxW

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
        for step, count in zip(steps, counts):
            if count:
                images = step.apply_batch(images, uniforms[:, column : column + count])
                column += count
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


# -- geometry: one implementation for PIL images, arrays and tensors, single or batched ------------
def _unwrap(img, batched_input=False):
    """(array, height axis, rewrap): the pixels of ``img`` and how to give the result back in kind."""
    if isinstance(img, Tensor):
        return img._data, img._data.ndim - 2, Tensor._make
    if isinstance(img, np.ndarray):
        return img, 1 if batched_input else 0, lambda array: array
    if _is_pil_image(img):
        Image = _pil_image_module()
        mode = img.mode

        def rewrap(array):
            out = Image.fromarray(np.ascontiguousarray(array))
            return out if out.mode == mode else out.convert(mode)

        return np.asarray(img), 0, rewrap
    raise TypeError(f"img should be PIL Image, ndarray or Tensor. Got {type(img)}")


def _spatial_index(array, h_axis, rows, cols):
    index = [slice(None)] * array.ndim
    index[h_axis], index[h_axis + 1] = rows, cols
    return tuple(index)


def _flip(array, h_axis):
    return array[_spatial_index(array, h_axis, slice(None), slice(None, None, -1))]


def _pad(array, h_axis, left, top, right, bottom, fill, padding_mode):
    widths = [(0, 0)] * array.ndim
    widths[h_axis], widths[h_axis + 1] = (top, bottom), (left, right)
    xp = backend.array_module(array)
    if padding_mode == "constant":
        return xp.pad(array, widths, mode="constant", constant_values=fill)
    return xp.pad(array, widths, mode=padding_mode)


def _sequence_pair(size, name):
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    if len(size) == 1:
        return int(size[0]), int(size[0])
    if len(size) != 2:
        raise ValueError(f"Please provide only two dimensions (h, w) for {name}.")
    return int(size[0]), int(size[1])


class _RandomTransform:
    """A transform driven by ``draws`` uniform floats per image (see the module docstring)."""

    draws = 1

    def __call__(self, img):
        return self.apply(img, _rng().random(self.draws))

    def batch(self, images):
        return self.apply_batch(images, _rng().random((len(images), self.draws)))


class RandomHorizontalFlip(_RandomTransform):
    """Mirror left-right with probability ``p``."""

    def __init__(self, p=0.5):
        self.p = p

    def apply(self, img, uniforms):
        if uniforms[0] < self.p:
            array, h_axis, rewrap = _unwrap(img)
            return rewrap(_flip(array, h_axis).copy())
        return img

    def apply_batch(self, images, uniforms):
        array, h_axis, rewrap = _unwrap(images, batched_input=True)
        flip = uniforms[:, 0] < self.p
        out = array.copy()
        out[flip] = _flip(array[flip], h_axis)
        return rewrap(out)

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p})"


class RandomCrop(_RandomTransform):
    """Crop a random ``size`` window, after optional ``padding`` (int, (lr, tb) or (l, t, r, b))."""

    draws = 2

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant"):
        self.size = _sequence_pair(size, "size")
        if padding is not None and not isinstance(padding, numbers.Number) and len(padding) not in (1, 2, 4):
            raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element tuple")
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode

    def _padding(self):
        if self.padding is None:
            return None
        p = [self.padding] if isinstance(self.padding, numbers.Number) else list(self.padding)
        if len(p) == 1:
            return p * 4
        if len(p) == 2:
            return [p[0], p[1], p[0], p[1]]
        return p  # left, top, right, bottom

    def _prepare(self, array, h_axis):
        padding = self._padding()
        if padding is not None:
            array = _pad(array, h_axis, *padding, self.fill, self.padding_mode)
        height, width = array.shape[h_axis], array.shape[h_axis + 1]
        th, tw = self.size
        if self.pad_if_needed and width < tw:
            array = _pad(array, h_axis, tw - width, 0, tw - width, 0, self.fill, self.padding_mode)
        if self.pad_if_needed and height < th:
            array = _pad(array, h_axis, 0, th - height, 0, th - height, self.fill, self.padding_mode)
        height, width = array.shape[h_axis], array.shape[h_axis + 1]
        if height < th or width < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size {(height, width)}")
        return array, height, width

    def _window(self, array, h_axis, height, width, uniforms):
        th, tw = self.size
        i, j = int(uniforms[0] * (height - th + 1)), int(uniforms[1] * (width - tw + 1))
        return array[_spatial_index(array, h_axis, slice(i, i + th), slice(j, j + tw))]

    def apply(self, img, uniforms):
        array, h_axis, rewrap = _unwrap(img)
        array, height, width = self._prepare(array, h_axis)
        return rewrap(self._window(array, h_axis, height, width, uniforms).copy())

    def apply_batch(self, images, uniforms):
        array, h_axis, rewrap = _unwrap(images, batched_input=True)
        array, height, width = self._prepare(array, h_axis)
        th, tw = self.size
        out = backend.array_module(array).empty(array.shape[:h_axis] + (th, tw) + array.shape[h_axis + 2 :], array.dtype)
        for k in range(len(array)):  # a window per image: slicing, no arithmetic
            out[k] = self._window(array[k], h_axis - 1, height, width, uniforms[k])
        return rewrap(out)

    def __repr__(self):
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


class Resize:
    """Resize a PIL image or uint8 array with Pillow (``size`` int: the smaller edge; (h, w): exact)."""

    def __init__(self, size, interpolation="bilinear"):
        self.size = size
        self.interpolation = interpolation

    def _output_size(self, height, width):
        if isinstance(self.size, numbers.Number) or len(self.size) == 1:
            requested = int(self.size if isinstance(self.size, numbers.Number) else self.size[0])
            short, long = (width, height) if width <= height else (height, width)
            new_short, new_long = requested, int(requested * long / short)
            return (new_long, new_short) if width <= height else (new_short, new_long)
        return int(self.size[0]), int(self.size[1])

    def __call__(self, img):
        Image = _pil_image_module()
        if Image is None or isinstance(img, Tensor):
            raise TypeError("Resize needs Pillow and a PIL image or uint8 array (resize before ToTensor)")
        pil = img if _is_pil_image(img) else Image.fromarray(img)
        height, width = self._output_size(pil.size[1], pil.size[0])
        resample = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}[self.interpolation]
        out = pil.resize((width, height), resample)
        return out if _is_pil_image(img) else np.asarray(out)

    def __repr__(self):
        return f"{type(self).__name__}(size={self.size}, interpolation={self.interpolation})"
