"""PyTorch checkpoints both ways: a state_dict that ``safetensors.torch.save_file`` wrote loads
into tinytorch, and one ``tinytorch.save`` wrote loads into the same PyTorch model through
``safetensors.torch.load_file``; both models then compute the same outputs."""

import importlib.util
import os

import numpy as np
import pytest

import tinytorch
from tests.test_examples import load

torch = pytest.importorskip("torch", reason="PyTorch is not installed")
safetensors_torch = pytest.importorskip("safetensors.torch")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class TorchCNN(torch.nn.Module):
    """examples/mnist_cnn.py's Net, in PyTorch (the same attribute names, so the same keys)."""

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 32, 3, 1)
        self.conv2 = torch.nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = torch.nn.Dropout(0.25)
        self.dropout2 = torch.nn.Dropout(0.5)
        self.fc1 = torch.nn.Linear(9216, 128)
        self.fc2 = torch.nn.Linear(128, 10)

    def forward(self, x):
        x = torch.relu(self.conv2(torch.relu(self.conv1(x))))
        x = torch.flatten(torch.nn.functional.max_pool2d(x, 2), 1)
        return torch.log_softmax(self.fc2(torch.relu(self.fc1(x))), dim=1)


def pairs():
    """(tinytorch model, the same architecture in PyTorch, input shape)."""
    yield load("mnist_cnn").Net(), TorchCNN(), (2, 1, 28, 28)
    yield (tinytorch.nn.TransformerEncoderLayer(16, 4, 32, batch_first=True),
           torch.nn.TransformerEncoderLayer(16, 4, 32, batch_first=True), (2, 5, 16))
    yield (tinytorch.nn.Sequential(tinytorch.nn.Conv2d(3, 4, 3), tinytorch.nn.BatchNorm2d(4), tinytorch.nn.ReLU()),
           torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU()), (2, 3, 6, 6))


def outputs(ours, theirs, shape):
    x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    ours.eval()
    theirs.eval()
    with tinytorch.no_grad(), torch.no_grad():
        return ours(tinytorch.from_numpy(x)).numpy(), theirs(torch.from_numpy(x)).numpy()


def trained_a_little(model):
    """Weights and running statistics that are not the initial ones."""
    with torch.no_grad():
        for tensor in model.state_dict().values():
            if tensor.is_floating_point():
                tensor.add_(torch.randn_like(tensor) * 0.1)
            else:
                tensor.add_(3)  # num_batches_tracked
    return model


@pytest.mark.parametrize("index", range(3), ids=["mnist_cnn", "transformer_layer", "conv_batchnorm"])
def test_pytorch_safetensors_into_tinytorch(tmp_path, index):
    ours, theirs, shape = list(pairs())[index]
    path = tmp_path / "torch.safetensors"
    safetensors_torch.save_file(trained_a_little(theirs).state_dict(), str(path))
    state = tinytorch.load(str(path))
    ours.load_state_dict(state)  # strict: the same keys, shapes and dtypes
    for name, tensor in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[name].numpy(), tensor.numpy())
    mine, reference = outputs(ours, theirs, shape)
    np.testing.assert_allclose(mine, reference, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("index", range(3), ids=["mnist_cnn", "transformer_layer", "conv_batchnorm"])
def test_tinytorch_save_into_pytorch(tmp_path, index):
    ours, theirs, shape = list(pairs())[index]
    with tinytorch.no_grad():
        for tensor in ours.state_dict().values():
            tensor.add_(tinytorch.randn(*tensor.shape) * 0.1 if tensor.is_floating_point() else 3)
    path = tmp_path / "tinytorch.safetensors"
    tinytorch.save(ours.state_dict(), str(path))
    state = safetensors_torch.load_file(str(path))
    assert set(state) == set(ours.state_dict())  # each tensor under its state_dict key
    theirs.load_state_dict(state)
    mine, reference = outputs(ours, theirs, shape)
    np.testing.assert_allclose(mine, reference, rtol=1e-5, atol=1e-5)


def test_a_torch_save_file_converted_once_with_pytorch(tmp_path):
    """docs/ecosystem.md's recipe: torch.save .pt -> scripts/convert_torch_checkpoint.py -> tinytorch.load."""
    spec = importlib.util.spec_from_file_location("convert", os.path.join(ROOT, "scripts", "convert_torch_checkpoint.py"))
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    theirs = trained_a_little(TorchCNN())
    checkpoint = {"epoch": 3, "model": theirs.state_dict(), "bf16": {"w": torch.ones(2, dtype=torch.bfloat16)}}
    torch.save(checkpoint, tmp_path / "model.pt")
    with pytest.raises(ValueError, match="--key"):
        script.convert(str(tmp_path / "model.pt"), str(tmp_path / "x.safetensors"))
    script.main([str(tmp_path / "model.pt"), str(tmp_path / "model.safetensors"), "--key", "model"])
    ours = load("mnist_cnn").Net()
    ours.load_state_dict(tinytorch.load(str(tmp_path / "model.safetensors")))
    mine, reference = outputs(ours, theirs, (2, 1, 28, 28))
    np.testing.assert_allclose(mine, reference, rtol=1e-5, atol=1e-5)
    script.convert(str(tmp_path / "model.pt"), str(tmp_path / "bf16.safetensors"), key="bf16")
    assert tinytorch.load(str(tmp_path / "bf16.safetensors"))["w"].dtype == tinytorch.float32
