"""Datasets with torchvision's API: MNIST, FashionMNIST, CIFAR10, CIFAR100, FakeData, and
ImageFolder / DatasetFolder for one folder per class."""

from .cifar import CIFAR10, CIFAR100
from .fakedata import FakeData
from .folder import DatasetFolder, ImageFolder
from .mnist import MNIST, FashionMNIST
from .vision import VisionDataset

__all__ = ["CIFAR10", "CIFAR100", "DatasetFolder", "FakeData", "FashionMNIST", "ImageFolder", "MNIST", "VisionDataset"]
