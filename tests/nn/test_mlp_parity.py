"""The lecture's MLP (784-512-256-128-64-10, ReLU) with torch's weights: same logits, loss and gradients."""

import numpy as np
import pytest

import tinytorch
from tinytorch import nn

from .helpers import assert_close, copy_module, numpy_of


def _mlp_class(lib):
    F = lib.nn.functional

    class MLP(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = lib.nn.Linear(784, 512)
            self.fc2 = lib.nn.Linear(512, 256)
            self.fc3 = lib.nn.Linear(256, 128)
            self.fc4 = lib.nn.Linear(128, 64)
            self.fc5 = lib.nn.Linear(64, 10)

        def forward(self, x):
            x = x.view(-1, 784)
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            x = F.relu(self.fc3(x))
            x = F.relu(self.fc4(x))
            return self.fc5(x)

    return MLP


def _batch(seed=0, size=32):
    rng = np.random.default_rng(seed)
    images = rng.uniform(0, 1, size=(size, 1, 28, 28)).astype(np.float32)
    images = (images - 0.1307) / 0.3081  # MNIST normalization, as in the lecture
    return images.astype(np.float32), rng.integers(0, 10, size=size)


@pytest.fixture
def models():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    reference = _mlp_class(torch)()
    return torch, reference, copy_module(reference, _mlp_class(tinytorch)())


def test_logits_loss_and_gradients_match_torch(models):
    torch, reference, model = models
    images, labels = _batch()
    logits = model(tinytorch.tensor(images))
    expected = reference(torch.tensor(images))
    assert_close(logits, expected, atol=1e-5, rtol=1e-4)
    loss = nn.CrossEntropyLoss()(logits, tinytorch.tensor(labels))
    expected_loss = torch.nn.CrossEntropyLoss()(expected, torch.tensor(labels))
    assert loss.item() == pytest.approx(expected_loss.item(), rel=1e-5)
    loss.backward()
    expected_loss.backward()
    theirs = dict(reference.named_parameters())
    for name, param in model.named_parameters():
        assert param.grad is not None, name
        assert_close(param.grad, theirs[name].grad, atol=1e-6, rtol=1e-4)


def test_training_steps_stay_in_lockstep_with_torch(models):
    """Five SGD steps (written out, no optimizer): parameters and losses agree with torch's."""
    torch, reference, model = models
    for step in range(5):
        images, labels = _batch(seed=step)
        loss = nn.functional.cross_entropy(model(tinytorch.tensor(images)), tinytorch.tensor(labels))
        expected = torch.nn.functional.cross_entropy(reference(torch.tensor(images)), torch.tensor(labels))
        assert loss.item() == pytest.approx(expected.item(), rel=1e-4)
        model.zero_grad()
        reference.zero_grad()
        loss.backward()
        expected.backward()
        with tinytorch.no_grad():
            for p in model.parameters():
                p -= 0.1 * p.grad
        with torch.no_grad():
            for p in reference.parameters():
                p -= 0.1 * p.grad
    for p, q in zip(model.parameters(), reference.parameters()):
        assert_close(p, q, atol=1e-5, rtol=1e-4)


def test_repr_matches_torch(models):
    _, reference, model = models
    assert repr(model) == repr(reference)
    assert "(fc1): Linear(in_features=784, out_features=512, bias=True)" in repr(model)


def test_mlp_without_torch_trains():
    """Without the oracle: the loss of a fixed batch falls under plain gradient descent."""
    tinytorch.manual_seed(0)
    model = _mlp_class(tinytorch)()
    images, labels = _batch(size=16)
    x, y = tinytorch.tensor(images), tinytorch.tensor(labels)
    losses = []
    for _ in range(200):  # 40 steps left it mid-plateau for most seeds; 200 memorize for seeds 0-7
        loss = nn.functional.cross_entropy(model(x), y)
        losses.append(loss.item())
        model.zero_grad()
        loss.backward()
        with tinytorch.no_grad():
            for p in model.parameters():
                p -= 0.1 * p.grad
    assert losses[-1] < 0.05 * losses[0]  # it memorizes the 16 examples
    assert np.isfinite(numpy_of(model.fc1.weight)).all()
