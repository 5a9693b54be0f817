"""``tinytorch.vision.ops``: torchvision's building blocks that its models share."""

from .misc import Conv2dNormActivation

__all__ = ["Conv2dNormActivation"]
