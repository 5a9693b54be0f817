"""Datasets with torchvision's API: MNIST and FashionMNIST."""

from .mnist import MNIST, FashionMNIST

__all__ = ["MNIST", "FashionMNIST"]
