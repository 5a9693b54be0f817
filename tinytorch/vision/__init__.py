"""Vision with torchvision's API: ``datasets`` (MNIST, FashionMNIST, CIFAR10/100, FakeData,
ImageFolder), ``io`` (read_image, decode_image), ``transforms``, and ``utils`` (make_grid,
save_image)."""

from . import datasets, io, transforms, utils

__all__ = ["datasets", "io", "transforms", "utils"]
