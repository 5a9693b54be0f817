"""Vision with torchvision's API: ``datasets`` (MNIST, FashionMNIST, CIFAR10/100, FakeData,
ImageFolder), ``io`` (read_image, decode_image), ``models`` (ResNet, VGG, AlexNet, MobileNetV2),
``ops``, ``transforms``, and ``utils`` (make_grid, save_image)."""

from . import datasets, transforms

__all__ = ["datasets", "io", "models", "ops", "transforms", "utils"]

# Imported at first use (``tinytorch.vision.models`` or ``from tinytorch.vision import models``
# works as before): a program that only loads data does not pay for the model zoo's code.
_LAZY_SUBMODULES = frozenset({"io", "models", "ops", "utils"})


def __getattr__(name):
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | _LAZY_SUBMODULES)
