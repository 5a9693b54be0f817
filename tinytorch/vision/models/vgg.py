"""VGG-11 and VGG-16, with and without batch normalization, as torchvision defines them: the
same modules, state_dict keys and initialization."""

import functools

from ... import flatten, nn
from ._api import Weights, WeightsEnum, _build, _legacy_weights, _ovewrite_named_param, register_model
from ._presets import ImageClassification

__all__ = ["VGG", "VGG11_Weights", "VGG11_BN_Weights", "VGG16_Weights", "VGG16_BN_Weights", "vgg11", "vgg11_bn", "vgg16", "vgg16_bn"]


class VGG(nn.Module):
    """``features`` (the convolutions), a 7x7 adaptive average pool and a three-layer classifier.
    With ``init_weights``: convolutions Kaiming-normal (fan_out) with zero bias, normalization at
    1 and 0, linear layers normal with std 0.01 and zero bias."""

    def __init__(self, features, num_classes=1000, init_weights=True, dropout=0.5):
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    if m.bias is not None:
                        nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    nn.init.constant_(m.bias, 0)

    def forward(self, x):
        return self.classifier(flatten(self.avgpool(self.features(x)), 1))


def make_layers(cfg, batch_norm=False):
    """The convolutions of a configuration: a number is a 3x3 convolution with that many channels
    (then BatchNorm2d when ``batch_norm``, then ReLU), "M" a 2x2 max pool."""
    layers, in_channels = [], 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        conv = nn.Conv2d(in_channels, v, kernel_size=3, padding=1)
        layers += [conv, nn.BatchNorm2d(v), nn.ReLU(inplace=True)] if batch_norm else [conv, nn.ReLU(inplace=True)]
        in_channels = v
    return nn.Sequential(*layers)


cfgs = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],  # VGG-11
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],  # VGG-16
}

_META = {"min_size": (32, 32)}
_PRESET = functools.partial(ImageClassification, crop_size=224)


def _weights(name, num_params):
    return Weights(f"https://download.pytorch.org/models/{name}.pth", _PRESET, {**_META, "num_params": num_params})


class VGG11_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights("vgg11-8a719046", 132863336)
    DEFAULT = IMAGENET1K_V1


class VGG11_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights("vgg11_bn-6002323d", 132868840)
    DEFAULT = IMAGENET1K_V1


class VGG16_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights("vgg16-397923af", 138357544)
    # The features only (its classifier holds NaN): torchvision's port of amdegroot's SSD backbone.
    IMAGENET1K_FEATURES = Weights("https://download.pytorch.org/models/vgg16_features-amdegroot-88682ab5.pth",
                                  functools.partial(ImageClassification, crop_size=224, mean=(0.48235, 0.45882, 0.40784),
                                                    std=(1.0 / 255.0, 1.0 / 255.0, 1.0 / 255.0)),
                                  {**_META, "num_params": 138357544})
    DEFAULT = IMAGENET1K_V1


class VGG16_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights("vgg16_bn-6c64b313", 138365992)
    DEFAULT = IMAGENET1K_V1


def _vgg(cfg, batch_norm, weights, progress, **kwargs):
    if weights is not None:
        kwargs["init_weights"] = False
        _ovewrite_named_param(kwargs, "num_classes", 1000)
    return _build(VGG(make_layers(cfgs[cfg], batch_norm=batch_norm), **kwargs), weights, progress)


@register_model(weights_enum=VGG11_Weights)
def vgg11(*, weights=None, progress=True, **kwargs):
    """VGG-11 ("Very Deep Convolutional Networks for Large-Scale Image Recognition")."""
    weights = VGG11_Weights.verify(_legacy_weights(kwargs, weights, VGG11_Weights.IMAGENET1K_V1))
    return _vgg("A", False, weights, progress, **kwargs)


@register_model(weights_enum=VGG11_BN_Weights)
def vgg11_bn(*, weights=None, progress=True, **kwargs):
    """VGG-11 with batch normalization."""
    weights = VGG11_BN_Weights.verify(_legacy_weights(kwargs, weights, VGG11_BN_Weights.IMAGENET1K_V1))
    return _vgg("A", True, weights, progress, **kwargs)


@register_model(weights_enum=VGG16_Weights)
def vgg16(*, weights=None, progress=True, **kwargs):
    """VGG-16."""
    weights = VGG16_Weights.verify(_legacy_weights(kwargs, weights, VGG16_Weights.IMAGENET1K_V1))
    return _vgg("D", False, weights, progress, **kwargs)


@register_model(weights_enum=VGG16_BN_Weights)
def vgg16_bn(*, weights=None, progress=True, **kwargs):
    """VGG-16 with batch normalization."""
    weights = VGG16_BN_Weights.verify(_legacy_weights(kwargs, weights, VGG16_BN_Weights.IMAGENET1K_V1))
    return _vgg("D", True, weights, progress, **kwargs)
