"""vision.models against torchvision's definitions: parameter counts as torchvision documents
them, state_dict keys and shapes and outputs against the same architectures written here with
torch.nn (torchvision itself does not import next to torch 2.13), initialization, the Weights
enums and local pretrained files."""

import math
import warnings

import numpy as np
import pytest
import safetensors.numpy

import tinytorch
from tinytorch.vision import models

torch = pytest.importorskip("torch")
tnn = torch.nn

# The parameter counts torchvision documents for these models.
DOCUMENTED = {"resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032, "vgg11": 132_863_336,
              "vgg16": 138_357_544, "alexnet": 61_100_840, "mobilenet_v2": 3_504_872,
              "vgg11_bn": 132_868_840, "vgg16_bn": 138_365_992}


# -- the reference architectures, in torch.nn ------------------------------------------------------
class TorchBasic(tnn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride, downsample):
        super().__init__()
        self.conv1 = tnn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.relu = tnn.ReLU(inplace=True)
        self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class TorchBottleneck(tnn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride, downsample):
        super().__init__()
        self.conv1 = tnn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.conv2 = tnn.Conv2d(planes, planes, 3, stride, 1, bias=False)  # v1.5: the 3x3 strides
        self.bn2 = tnn.BatchNorm2d(planes)
        self.conv3 = tnn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = tnn.BatchNorm2d(planes * 4)
        self.relu = tnn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class TorchResNet(tnn.Module):
    def __init__(self, block, layers):
        super().__init__()
        self.inplanes = 64
        self.conv1 = tnn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = tnn.BatchNorm2d(64)
        self.relu = tnn.ReLU(inplace=True)
        self.maxpool = tnn.MaxPool2d(3, 2, 1)
        for i, (planes, blocks) in enumerate(zip([64, 128, 256, 512], layers)):
            stride = 1 if i == 0 else 2
            downsample = None
            if stride != 1 or self.inplanes != planes * block.expansion:
                downsample = tnn.Sequential(tnn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                                            tnn.BatchNorm2d(planes * block.expansion))
            stage = [block(self.inplanes, planes, stride, downsample)]
            self.inplanes = planes * block.expansion
            stage += [block(self.inplanes, planes, 1, None) for _ in range(1, blocks)]
            setattr(self, f"layer{i + 1}", tnn.Sequential(*stage))
        self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
        self.fc = tnn.Linear(512 * block.expansion, 1000)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def torch_vgg(cfg, batch_norm):
    layers, channels = [], 3
    for v in cfg:
        if v == "M":
            layers.append(tnn.MaxPool2d(2, 2))
        else:
            layers += [tnn.Conv2d(channels, v, 3, padding=1)] + ([tnn.BatchNorm2d(v)] if batch_norm else []) + [tnn.ReLU(True)]
            channels = v
    model = tnn.Module()
    model.features = tnn.Sequential(*layers)
    model.avgpool = tnn.AdaptiveAvgPool2d((7, 7))
    model.classifier = tnn.Sequential(tnn.Linear(25088, 4096), tnn.ReLU(True), tnn.Dropout(), tnn.Linear(4096, 4096), tnn.ReLU(True),
                                      tnn.Dropout(), tnn.Linear(4096, 1000))
    model.forward = lambda x: model.classifier(torch.flatten(model.avgpool(model.features(x)), 1))
    return model


def torch_alexnet():
    model = tnn.Module()
    model.features = tnn.Sequential(
        tnn.Conv2d(3, 64, 11, 4, 2), tnn.ReLU(True), tnn.MaxPool2d(3, 2), tnn.Conv2d(64, 192, 5, padding=2), tnn.ReLU(True),
        tnn.MaxPool2d(3, 2), tnn.Conv2d(192, 384, 3, padding=1), tnn.ReLU(True), tnn.Conv2d(384, 256, 3, padding=1), tnn.ReLU(True),
        tnn.Conv2d(256, 256, 3, padding=1), tnn.ReLU(True), tnn.MaxPool2d(3, 2))
    model.avgpool = tnn.AdaptiveAvgPool2d((6, 6))
    model.classifier = tnn.Sequential(tnn.Dropout(), tnn.Linear(9216, 4096), tnn.ReLU(True), tnn.Dropout(), tnn.Linear(4096, 4096),
                                      tnn.ReLU(True), tnn.Linear(4096, 1000))
    model.forward = lambda x: model.classifier(torch.flatten(model.avgpool(model.features(x)), 1))
    return model


def conv_bn_relu6(inp, oup, kernel=3, stride=1, groups=1):
    return tnn.Sequential(tnn.Conv2d(inp, oup, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
                          tnn.BatchNorm2d(oup), tnn.ReLU6(inplace=True))


class TorchInvertedResidual(tnn.Module):
    def __init__(self, inp, oup, stride, t):
        super().__init__()
        hidden = inp * t
        layers = ([conv_bn_relu6(inp, hidden, 1)] if t != 1 else []) + [
            conv_bn_relu6(hidden, hidden, 3, stride, hidden), tnn.Conv2d(hidden, oup, 1, bias=False), tnn.BatchNorm2d(oup)]
        self.conv = tnn.Sequential(*layers)
        self.residual = stride == 1 and inp == oup

    def forward(self, x):
        return x + self.conv(x) if self.residual else self.conv(x)


def torch_mobilenet_v2():
    features, channels = [conv_bn_relu6(3, 32, stride=2)], 32
    for t, c, n, s in [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]]:
        for i in range(n):
            features.append(TorchInvertedResidual(channels, c, s if i == 0 else 1, t))
            channels = c
    features.append(conv_bn_relu6(channels, 1280, 1))
    model = tnn.Module()
    model.features = tnn.Sequential(*features)
    model.classifier = tnn.Sequential(tnn.Dropout(0.2), tnn.Linear(1280, 1000))
    model.forward = lambda x: model.classifier(torch.flatten(tnn.functional.adaptive_avg_pool2d(model.features(x), 1), 1))
    return model


A = [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]
D = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
REFERENCES = {
    "resnet18": lambda: TorchResNet(TorchBasic, [2, 2, 2, 2]), "resnet34": lambda: TorchResNet(TorchBasic, [3, 4, 6, 3]),
    "resnet50": lambda: TorchResNet(TorchBottleneck, [3, 4, 6, 3]), "vgg11": lambda: torch_vgg(A, False),
    "vgg16": lambda: torch_vgg(D, False), "vgg11_bn": lambda: torch_vgg(A, True), "vgg16_bn": lambda: torch_vgg(D, True),
    "alexnet": torch_alexnet, "mobilenet_v2": torch_mobilenet_v2,
}
# The models whose outputs are compared with their reference (the VGG-16s only by their layout: they are big).
FORWARD = ["resnet18", "resnet50", "vgg11", "alexnet", "mobilenet_v2"]


def _count(model):
    return sum(p.numel() for p in model.parameters())


@pytest.fixture(scope="module")
def built():
    cache = {}

    def build(name):
        if name not in cache:
            if name.startswith("vgg"):  # one VGG (half a gigabyte) alive at a time
                for other in [key for key in cache if key.startswith("vgg")]:
                    del cache[other]
            tinytorch.manual_seed(0)
            cache[name] = getattr(models, name)(weights=None)
        return cache[name]

    build.take = lambda name: (build(name), cache.pop(name))[1]  # for a test that changes the model
    return build


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_parameter_counts_and_state_dict_layout_are_torchvisions(name, built):
    ours, reference = built(name), REFERENCES[name]()
    assert _count(ours) == DOCUMENTED[name] == _count(reference)
    ours_state, their_state = ours.state_dict(), reference.state_dict()
    assert list(ours_state) == list(their_state)  # names and order, buffers included
    for key, value in their_state.items():
        assert tuple(ours_state[key].shape) == tuple(value.shape), key
    weights_enum = models.get_model_weights(name)
    assert all(member.meta["num_params"] == DOCUMENTED[name] for member in weights_enum)


@pytest.mark.parametrize("name", FORWARD)
def test_a_torch_state_dict_loads_and_gives_the_same_outputs(name, built, tmp_path):
    reference = REFERENCES[name]().eval()
    torch.manual_seed(0)
    with torch.no_grad():  # running statistics away from 0 and 1, so that eval mode uses them
        for module in reference.modules():
            if isinstance(module, tnn.BatchNorm2d):
                module.running_mean.uniform_(-0.1, 0.1)
                module.running_var.uniform_(0.5, 1.5)
    # As a torchvision checkpoint travels: its state_dict as a safetensors file.
    safetensors.numpy.save_file({k: v.numpy() for k, v in reference.state_dict().items()}, str(tmp_path / "ckpt.safetensors"))
    ours = built.take(name)
    result = ours.load_state_dict(tinytorch.load(tmp_path / "ckpt.safetensors"))
    assert not result.missing_keys and not result.unexpected_keys
    ours.eval()
    x = np.random.default_rng(0).standard_normal((1, 3, 64, 64)).astype(np.float32)
    with torch.no_grad():
        expected = reference(torch.tensor(x)).numpy()
    with tinytorch.no_grad():
        got = ours(tinytorch.tensor(x))
    assert tuple(got.shape) == (1, 1000)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-3, atol=1e-4)


def _std(tensor):
    return float(tensor.detach().numpy().std())


def test_initialization_is_torchvisions(built):
    resnet = built("resnet18")
    conv = resnet.layer2[0].conv1  # 128 x 64 x 3 x 3: Kaiming normal with fan_out = 128 * 9
    assert _std(conv.weight) == pytest.approx(math.sqrt(2 / (128 * 9)), rel=0.05)
    assert (resnet.bn1.weight.detach().numpy() == 1).all() and (resnet.bn1.bias.detach().numpy() == 0).all()
    bound = 1 / math.sqrt(512)  # fc keeps Linear's own initialization
    assert np.abs(resnet.fc.weight.detach().numpy()).max() <= bound and _std(resnet.fc.weight) == pytest.approx(bound / math.sqrt(3), rel=0.05)
    zero = models.resnet18(zero_init_residual=True)
    assert all((block.bn2.weight.detach().numpy() == 0).all() for stage in (zero.layer1, zero.layer4) for block in stage)

    mobilenet = built("mobilenet_v2")
    assert _std(mobilenet.classifier[1].weight) == pytest.approx(0.01, rel=0.05)
    assert (mobilenet.classifier[1].bias.detach().numpy() == 0).all()
    expand = mobilenet.features[2].conv[0][0]  # 96 x 16 x 1 x 1
    assert _std(expand.weight) == pytest.approx(math.sqrt(2 / 96), rel=0.1)

    alexnet = built("alexnet")  # PyTorch's defaults: uniform within 1 / sqrt(fan_in)
    assert np.abs(alexnet.classifier[1].weight.detach().numpy()).max() <= 1 / math.sqrt(9216)

    vgg = built("vgg11")
    assert _std(vgg.classifier[0].weight) == pytest.approx(0.01, rel=0.02)
    assert (vgg.features[0].bias.detach().numpy() == 0).all()
    assert _std(vgg.features[3].weight) == pytest.approx(math.sqrt(2 / (128 * 9)), rel=0.05)


def test_module_tree_and_repr_match_torchvisions_names(built):
    resnet = built("resnet50")
    assert [name for name, _ in resnet.named_children()] == ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3",
                                                            "layer4", "avgpool", "fc"]
    assert type(resnet.layer1[0]).__name__ == "Bottleneck" and resnet.layer1[0].expansion == 4
    assert "(downsample): Sequential(" in repr(resnet.layer1[0])
    mobilenet = models.mobilenet_v2(num_classes=10, width_mult=0.5)
    assert type(mobilenet.features[0]).__name__ == "Conv2dNormActivation" and mobilenet.features[0].out_channels == 16
    assert type(mobilenet.features[0][2]).__name__ == "ReLU6" and mobilenet.classifier[1].out_features == 10
    assert mobilenet.last_channel == 1280 and tuple(mobilenet(tinytorch.randn(2, 3, 32, 32)).shape) == (2, 10)


def test_weights_enums():
    assert models.ResNet18_Weights.DEFAULT is models.ResNet18_Weights.IMAGENET1K_V1
    assert models.ResNet50_Weights.DEFAULT is models.ResNet50_Weights.IMAGENET1K_V2
    assert models.MobileNet_V2_Weights.DEFAULT is models.MobileNet_V2_Weights.IMAGENET1K_V2
    assert repr(models.VGG16_Weights.DEFAULT) == "VGG16_Weights.IMAGENET1K_V1"
    assert models.ResNet18_Weights.IMAGENET1K_V1.url == "https://download.pytorch.org/models/resnet18-f37072fd.pth"
    assert models.AlexNet_Weights.verify("DEFAULT") is models.AlexNet_Weights.IMAGENET1K_V1
    assert models.ResNet50_Weights.verify("ResNet50_Weights.IMAGENET1K_V1") is models.ResNet50_Weights.IMAGENET1K_V1
    with pytest.raises(TypeError, match="expected ResNet18_Weights but received ResNet50_Weights"):
        models.resnet18(weights=models.ResNet50_Weights.DEFAULT)
    assert models.get_weight("ResNet50_Weights.IMAGENET1K_V2") is models.ResNet50_Weights.IMAGENET1K_V2
    assert {"alexnet", "mobilenet_v2", "resnet18", "resnet34", "resnet50", "vgg11", "vgg11_bn", "vgg16", "vgg16_bn"} <= set(models.list_models())
    assert models.list_models(include="resnet*") == ["resnet18", "resnet34", "resnet50"]
    assert isinstance(models.get_model("resnet18", num_classes=7), models.ResNet)


def test_the_preset_prepares_images_as_torchvision():
    from PIL import Image

    preset = models.ResNet50_Weights.IMAGENET1K_V2.transforms()
    assert preset.resize_size == [232] and preset.crop_size == [224]
    assert repr(preset).startswith("ImageClassification(\n    crop_size=[224]\n    resize_size=[232]")
    array = (np.random.default_rng(0).random((300, 260, 3)) * 255).astype(np.uint8)
    out = preset(Image.fromarray(array))
    assert tuple(out.shape) == (3, 224, 224) and out.dtype == tinytorch.float32
    from tinytorch.vision import transforms as T

    expected = T.normalize(T.to_tensor(T.center_crop(T.resize(Image.fromarray(array), [232]), [224])),
                           [0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    np.testing.assert_allclose(out.numpy(), expected.numpy())
    from_uint8_tensor = preset(tinytorch.tensor(array).permute(2, 0, 1))
    assert tuple(from_uint8_tensor.shape) == (3, 224, 224) and from_uint8_tensor.is_floating_point()


def test_pretrained_weights_offline_name_the_file_to_provide(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYTORCH_HOME", str(tmp_path))
    expected = tmp_path / "hub" / "checkpoints" / "resnet18-f37072fd.safetensors"
    with pytest.raises(FileNotFoundError) as missing:
        models.resnet18(weights="DEFAULT")
    assert str(expected) in str(missing.value) and "https://download.pytorch.org/models/resnet18-f37072fd.pth" in str(missing.value)


def test_pretrained_weights_load_from_the_local_file(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYTORCH_HOME", str(tmp_path))
    folder = tmp_path / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    reference = REFERENCES["mobilenet_v2"]()
    safetensors.numpy.save_file({k: v.numpy() for k, v in reference.state_dict().items()}, str(folder / "mobilenet_v2-7ebf99e0.safetensors"))
    model = models.mobilenet_v2(weights=models.MobileNet_V2_Weights.DEFAULT)
    for key, value in reference.state_dict().items():
        np.testing.assert_array_equal(model.state_dict()[key].numpy(), value.numpy())
    with pytest.raises(ValueError, match="The parameter 'num_classes' expected value 1000 but got 10 instead."):
        models.mobilenet_v2(weights="DEFAULT", num_classes=10)
    safetensors.numpy.save_file({k: v.numpy() for k, v in reference.state_dict().items()}, str(folder / "mobilenet_v2-b0353104.safetensors"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        legacy = models.mobilenet_v2(pretrained=True)  # torchvision's old spelling: IMAGENET1K_V1
    assert any("'pretrained' is deprecated" in str(w.message) for w in caught)
    assert any("weights=MobileNet_V2_Weights.IMAGENET1K_V1" in str(w.message) for w in caught)
    np.testing.assert_array_equal(legacy.classifier[1].weight.detach().numpy(), reference.classifier[1].weight.detach().numpy())
