"""AlexNet as torchvision defines it (the "one weird trick" variant, 64-192-384-256-256 channels),
with PyTorch's default initialization of each layer."""

import functools

from ... import flatten, nn
from ._api import Weights, WeightsEnum, _build, _legacy_weights, _ovewrite_named_param, register_model
from ._presets import ImageClassification

__all__ = ["AlexNet", "AlexNet_Weights", "alexnet"]


class AlexNet(nn.Module):
    """Five convolutions with three max pools, a 6x6 adaptive average pool, three linear layers."""

    def __init__(self, num_classes=1000, dropout=0.5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
            nn.Dropout(p=dropout), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        return self.classifier(flatten(self.avgpool(self.features(x)), 1))


class AlexNet_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights("https://download.pytorch.org/models/alexnet-owt-7be5be79.pth",
                            functools.partial(ImageClassification, crop_size=224),
                            {"min_size": (63, 63), "num_params": 61100840})
    DEFAULT = IMAGENET1K_V1


@register_model(weights_enum=AlexNet_Weights)
def alexnet(*, weights=None, progress=True, **kwargs):
    """AlexNet ("One weird trick for parallelizing convolutional neural networks")."""
    weights = AlexNet_Weights.verify(_legacy_weights(kwargs, weights, AlexNet_Weights.IMAGENET1K_V1))
    if weights is not None:
        _ovewrite_named_param(kwargs, "num_classes", 1000)
    return _build(AlexNet(**kwargs), weights, progress)
