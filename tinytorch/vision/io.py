"""Reading images into uint8 tensors with torchvision's API (``read_image``, ``decode_image``,
``ImageReadMode``), decoded by Pillow.

As torchvision, the formats are JPEG, PNG, WEBP and GIF; the result is ``C x H x W`` (an
animated GIF: ``N x C x H x W``) of uint8, or of uint16 for a 16-bit grayscale PNG.
"""

import enum
import io

import numpy as np

from .._tensor import Tensor


class ImageReadMode(enum.Enum):
    """Which channels to decode: as stored (``UNCHANGED``), or converted to gray, gray and alpha,
    RGB, or RGB and alpha."""

    UNCHANGED = 0
    GRAY = 1
    GRAY_ALPHA = 2
    RGB = 3
    RGB_ALPHA = 4
    RGBA = RGB_ALPHA


_PIL_MODES = {ImageReadMode.GRAY: "L", ImageReadMode.GRAY_ALPHA: "LA", ImageReadMode.RGB: "RGB", ImageReadMode.RGB_ALPHA: "RGBA"}


def _format(raw):
    """The format by its signature, as torchvision's decode_image tells them apart."""
    if raw[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if raw[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if raw[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if raw[:4] == b"RIFF" and raw[8:12] == b"WEBP":
        return "WEBP"
    return None


def read_file(path):
    """The bytes of the file at ``path`` as a 1-D uint8 tensor."""
    with open(path, "rb") as f:
        return Tensor._make(np.frombuffer(f.read(), dtype=np.uint8).copy())


def read_image(path, mode=ImageReadMode.UNCHANGED, apply_exif_orientation=False):
    """The image at ``path`` (JPEG, PNG, WEBP or GIF) as a uint8 ``C x H x W`` tensor."""
    return decode_image(read_file(path), mode, apply_exif_orientation=apply_exif_orientation)


def decode_image(input, mode=ImageReadMode.UNCHANGED, apply_exif_orientation=False):
    """Decode a JPEG, PNG, WEBP or GIF image (its bytes as a 1-D uint8 tensor, or a path) into a
    uint8 ``C x H x W`` tensor."""
    if not isinstance(input, Tensor):
        input = read_file(str(input))
    if isinstance(mode, str):
        mode = ImageReadMode[mode.upper()]
    if not isinstance(mode, ImageReadMode):
        raise TypeError(f"mode should be an ImageReadMode or a string, got {type(mode).__name__}")
    if input.is_cuda or input._data.dtype != np.uint8:
        raise RuntimeError("Expected a torch.uint8 tensor on the CPU")
    if input._data.ndim != 1 or input._data.size == 0:
        raise RuntimeError("Expected a non empty 1-dimensional tensor")
    from PIL import Image, ImageOps

    raw = input._data.tobytes()
    kind = _format(raw)
    if kind is None:
        raise RuntimeError("Unsupported image file. Only jpeg, png, webp and gif are currently supported.")
    if kind == "PNG" and len(raw) > 25 and raw[24] == 16 and raw[25] != 0:
        # IHDR's bit depth and colour type: Pillow reads 16-bit colour (RGB, gray + alpha) as 8
        # bits, where torchvision gives uint16; refuse rather than return other values.
        raise RuntimeError("16-bit colour PNG images are not supported by tinytorch's decoder (Pillow reads them as "
                           "8 bits); 16-bit grayscale PNGs decode to uint16")
    try:
        image = Image.open(io.BytesIO(raw))
        frames = [_decode_frame(frame, mode, apply_exif_orientation, ImageOps) for frame in _frames(image, kind)]
    except (OSError, ValueError, SyntaxError) as error:  # Pillow's errors for truncated or corrupt data
        raise RuntimeError(f"Could not decode the {kind} image: {error}") from None
    array = frames[0] if len(frames) == 1 else np.stack(frames)
    return Tensor._make(np.ascontiguousarray(array))


def _frames(image, kind):
    if kind != "GIF" or getattr(image, "n_frames", 1) == 1:
        return [image]
    frames = []
    for index in range(image.n_frames):
        image.seek(index)
        frames.append(image.convert("RGB"))
    return frames


def _decode_frame(image, mode, apply_exif_orientation, ImageOps):
    if apply_exif_orientation:
        image = ImageOps.exif_transpose(image)
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        return _gray16(np.asarray(image), mode)
    if mode is ImageReadMode.UNCHANGED:
        image = _as_stored(image)
    else:
        image = image.convert(_PIL_MODES[mode])
    array = np.asarray(image)
    if array.dtype != np.uint8:
        raise RuntimeError(f"Could not decode a {image.mode} image to uint8")
    return (array[:, :, None] if array.ndim == 2 else array).transpose(2, 0, 1)


def _gray16(array, mode):
    """A 16-bit grayscale PNG (Pillow's I;16 or I) as torchvision's libpng path gives it: uint16,
    gray replicated for RGB, a fully opaque alpha (65535) added where asked."""
    gray = array.astype(np.uint16)[None]
    if mode in (ImageReadMode.UNCHANGED, ImageReadMode.GRAY):
        return gray
    channels = [gray] * (3 if mode in (ImageReadMode.RGB, ImageReadMode.RGB_ALPHA) else 1)
    if mode in (ImageReadMode.GRAY_ALPHA, ImageReadMode.RGB_ALPHA):
        channels.append(np.full_like(gray, np.iinfo(np.uint16).max))
    return np.concatenate(channels)


def _as_stored(image):
    """The channels a decoder gives without conversion: gray, gray+alpha, RGB or RGBA (palettes
    expand to RGB, or RGBA when they have transparency; CMYK JPEGs become RGB)."""
    if image.mode in ("L", "LA", "RGB", "RGBA"):
        return image
    if image.mode == "1":
        return image.convert("L")
    if image.mode == "P":
        return image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode == "PA":
        return image.convert("RGBA")
    return image.convert("RGB")


__all__ = ["ImageReadMode", "decode_image", "read_file", "read_image"]
