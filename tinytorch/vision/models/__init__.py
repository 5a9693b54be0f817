"""``tinytorch.vision.models``: torchvision's classification models, built as torchvision builds
them (module tree, names, parameter counts, state_dict keys, initialization), so that a
torchvision state_dict saved as safetensors loads into them. Pretrained weights come from local
files only (see ``_api``: ``$TINYTORCH_HOME/hub/checkpoints/<checkpoint>.safetensors``)."""

from . import mobilenetv2, resnet, vgg  # noqa: F401 - the submodules, as torchvision's (alexnet is the function there too)
from ._api import Weights, WeightsEnum, get_model, get_model_builder, get_model_weights, get_weight, list_models
from .alexnet import AlexNet, AlexNet_Weights, alexnet
from .mobilenetv2 import MobileNet_V2_Weights, MobileNetV2, mobilenet_v2
from .resnet import ResNet, ResNet18_Weights, ResNet34_Weights, ResNet50_Weights, resnet18, resnet34, resnet50
from .vgg import VGG, VGG11_BN_Weights, VGG11_Weights, VGG16_BN_Weights, VGG16_Weights, vgg11, vgg11_bn, vgg16, vgg16_bn

__all__ = [
    "AlexNet", "AlexNet_Weights", "MobileNetV2", "MobileNet_V2_Weights", "ResNet", "ResNet18_Weights", "ResNet34_Weights",
    "ResNet50_Weights", "VGG", "VGG11_BN_Weights", "VGG11_Weights", "VGG16_BN_Weights", "VGG16_Weights", "Weights",
    "WeightsEnum", "alexnet", "get_model", "get_model_builder", "get_model_weights", "get_weight", "list_models",
    "mobilenet_v2", "resnet18", "resnet34", "resnet50", "vgg11", "vgg11_bn", "vgg16", "vgg16_bn",
]
