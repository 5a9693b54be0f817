"""``ImageClassification``: the preset that prepares images for a pretrained classifier, as
torchvision's (resize, centre crop, float in [0, 1], normalize with ImageNet's statistics)."""

from ... import _dtypes as dtypes, nn
from .._image import _is_pil_image
from ..transforms import InterpolationMode, center_crop, normalize, resize, to_tensor


class ImageClassification(nn.Module):
    """``weights.transforms()``: a PIL image, a uint8 array or an image tensor to the model's input."""

    def __init__(self, *, crop_size, resize_size=256, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225),
                 interpolation=InterpolationMode.BILINEAR, antialias=True):
        super().__init__()
        self.crop_size = [crop_size]
        self.resize_size = [resize_size]
        self.mean = list(mean)
        self.std = list(std)
        self.interpolation = interpolation
        self.antialias = antialias

    def forward(self, img):
        img = resize(img, self.resize_size, interpolation=self.interpolation, antialias=self.antialias)
        img = center_crop(img, self.crop_size)
        if _is_pil_image(img) or not hasattr(img, "is_floating_point"):
            img = to_tensor(img)  # uint8 pixels to float in [0, 1]
        elif not img.is_floating_point():
            img = img.to(dtypes.get_default_dtype()) / 255.0
        return normalize(img, mean=self.mean, std=self.std)

    def __repr__(self):
        lines = [f"crop_size={self.crop_size}", f"resize_size={self.resize_size}", f"mean={self.mean}", f"std={self.std}",
                 f"interpolation={self.interpolation}"]
        return type(self).__name__ + "(" + "".join(f"\n    {line}" for line in lines) + "\n)"
