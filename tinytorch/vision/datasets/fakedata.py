"""``FakeData``: random images with random labels, the same for the same index (torchvision's)."""

import numpy as np

from ... import random as _random
from ..._creation import randint, randn
from .. import transforms as _transforms
from .vision import VisionDataset


class FakeData(VisionDataset):
    """``size`` random images of ``image_size`` (C, H, W) with labels in ``[0, num_classes)``.

    Item ``i`` is drawn from a generator seeded with ``i + random_offset`` (the global RNG is left
    alone), as a PIL image (a uint8 HxWxC array without Pillow) and an int label.
    """

    def __init__(self, size=1000, image_size=(3, 224, 224), num_classes=10, transform=None, target_transform=None,
                 random_offset=0):
        super().__init__(transform=transform, target_transform=target_transform)
        self.size = size
        self.num_classes = num_classes
        self.image_size = image_size
        self.random_offset = random_offset

    def __getitem__(self, index):
        if index >= len(self):
            raise IndexError(f"{self.__class__.__name__} index out of range")
        generator = _random.Generator().manual_seed(index + self.random_offset)
        image = randn(*self.image_size, generator=generator)
        target = randint(0, self.num_classes, size=(1,), generator=generator)[0]
        image = _to_pil(image._data)
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target.item() if hasattr(target, "item") else target

    def __len__(self):
        return self.size


def _to_pil(chw):
    """torchvision's ``ToPILImage()`` of a float CxHxW tensor: ``mul(255).byte()`` (truncated and
    wrapped to 8 bits, as the C cast does), then a mode-L/RGB/RGBA image."""
    array = (np.trunc(chw * np.float32(255)).astype(np.int64) & 255).astype(np.uint8).transpose(1, 2, 0)
    Image = _transforms._pil_image_module()
    if Image is None:
        return array
    return Image.fromarray(array[:, :, 0] if array.shape[2] == 1 else array)
