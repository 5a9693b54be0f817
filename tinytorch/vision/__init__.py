"""Vision with torchvision's API: ``datasets`` (MNIST, FashionMNIST), ``transforms``, and
``utils`` (make_grid, save_image)."""

from . import datasets, transforms, utils

__all__ = ["datasets", "transforms", "utils"]
