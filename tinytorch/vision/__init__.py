"""Vision with torchvision's API: ``datasets`` (MNIST, FashionMNIST, CIFAR10/100, FakeData,
ImageFolder), ``io`` (read_image, decode_image), ``models`` (ResNet, VGG, AlexNet, MobileNetV2),
``ops``, ``transforms``, and ``utils`` (make_grid, save_image)."""

from . import datasets, io, models, ops, transforms, utils

__all__ = ["datasets", "io", "models", "ops", "transforms", "utils"]
