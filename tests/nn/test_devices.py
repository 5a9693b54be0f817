"""nn on every device of the ``device`` fixture: results match the CPU's."""

import numpy as np
import pytest

import tinytorch
import tinytorch.nn.functional as F
from tinytorch import nn

from .helpers import numpy_of


def _same_on(device, fn, *arrays, atol=1e-5):
    """fn on CPU tensors and on ``device`` tensors gives the same values and input gradients."""
    results = []
    for where in ("cpu", device):
        inputs = [tinytorch.tensor(a, device=where, requires_grad=a.dtype.kind == "f") for a in arrays]
        out = fn(*inputs)
        assert out.device.type == where
        out.sum().backward()
        results.append([numpy_of(out)] + [numpy_of(i.grad) for i in inputs if i.requires_grad])
    for cpu, other in zip(*results):
        np.testing.assert_allclose(other, cpu, atol=atol, rtol=1e-4)


RNG = np.random.default_rng(0)
LOGITS = RNG.standard_normal((6, 4, 3)).astype(np.float32)
IMAGES = RNG.standard_normal((2, 4, 5, 6)).astype(np.float32)
KERNEL = RNG.standard_normal((4, 2, 3, 3)).astype(np.float32)
BIAS = RNG.standard_normal(4).astype(np.float32)


@pytest.mark.parametrize("name, fn, arrays", [
    ("cross_entropy", lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1, reduction="none"), (LOGITS, RNG.integers(0, 4, (6, 3)))),
    ("cross_entropy_probabilities", lambda x, t: F.cross_entropy(x, t), (LOGITS, RNG.uniform(0, 1, (6, 4, 3)).astype(np.float32))),
    ("nll_loss", lambda x, t: F.nll_loss(x.log_softmax(1), t), (LOGITS, RNG.integers(0, 4, (6, 3)))),
    ("bce_with_logits", lambda x, t: F.binary_cross_entropy_with_logits(x, t), (LOGITS, RNG.uniform(0, 1, LOGITS.shape).astype(np.float32))),
    ("bce", lambda x, t: F.binary_cross_entropy(x.sigmoid(), t), (LOGITS, RNG.uniform(0, 1, LOGITS.shape).astype(np.float32))),
    ("gelu", lambda x: F.gelu(x), (LOGITS,)),
    ("activations", lambda x: F.elu(x) + F.softplus(x) + F.leaky_relu(x) + F.silu(x) + F.logsigmoid(x), (LOGITS,)),
    ("layer_norm", lambda x: F.layer_norm(x, (3,)), (LOGITS,)),
    ("pad_reflect", lambda x: F.pad(x, (1, 2), mode="reflect"), (LOGITS,)),
    ("pad_constant", lambda x: F.pad(x, (1, 2, 0, 1), value=0.5), (LOGITS,)),
    ("embedding", lambda w, i: F.embedding(i, w, padding_idx=1), (LOGITS[0], RNG.integers(0, 4, (5, 2)))),
    ("normalize", lambda x: F.normalize(x), (LOGITS,)),
    ("conv2d", lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=1, dilation=(1, 2), groups=2), (IMAGES, KERNEL, BIAS)),
    ("conv2d_same", lambda x, w: F.conv2d(x, w, padding="same", groups=2), (IMAGES, KERNEL[:, :, :2])),
    ("conv_transpose2d", lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1, groups=2), (IMAGES, KERNEL)),
    ("conv1d", lambda x, w: F.conv1d(x, w, padding=2, stride=2, groups=2), (IMAGES[:, :, 0], KERNEL[:, :, 0])),
    ("unfold_fold", lambda x: F.fold(F.unfold(x, 2, padding=1) * 2, (5, 6), 2, padding=1), (IMAGES,)),
    ("max_pool2d", lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True), (IMAGES,)),
    ("max_pool2d_ties", lambda x: F.max_pool2d(x.round(), 2, 1), (IMAGES,)),
    ("avg_pool2d", lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False), (IMAGES,)),
    ("adaptive_max_pool2d", lambda x: F.adaptive_max_pool2d(x, (3, 4)), (IMAGES,)),
    ("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, (3, 4)), (IMAGES,)),
    ("max_unpool2d", lambda x: F.max_unpool2d(*F.max_pool2d(x, 2, return_indices=True), 2), (IMAGES,)),
    ("pad_modes", lambda x: F.pad(x, (1, 2, 2, 1), mode="replicate") .sum() + F.pad(x, (2, 1, 0, 1), mode="circular").sum()
     + F.pad(x, (1, 2, 1, 0), mode="reflect").sum(), (IMAGES,)),
])
def test_functional_on_device(device, name, fn, arrays):
    _same_on(device, fn, *arrays)


def test_model_on_device_trains_like_on_cpu(device):
    tinytorch.manual_seed(0)
    cpu_model = nn.Sequential(nn.Linear(12, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 4))
    model = nn.Sequential(nn.Linear(12, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 4))
    model.load_state_dict(cpu_model.state_dict())
    model.to(device)
    x, y = RNG.standard_normal((16, 12)).astype(np.float32), RNG.integers(0, 4, 16)
    for m, where in ((cpu_model, "cpu"), (model, device)):
        loss = F.cross_entropy(m(tinytorch.tensor(x, device=where)), tinytorch.tensor(y, device=where))
        loss.backward()
    for (name, p), q in zip(model.state_dict(keep_vars=True).items(), cpu_model.state_dict(keep_vars=True).values()):
        assert p.device.type == device, name
        np.testing.assert_allclose(numpy_of(p), numpy_of(q), atol=1e-6, err_msg=name)
        if isinstance(p, nn.Parameter):
            np.testing.assert_allclose(numpy_of(p.grad), numpy_of(q.grad), atol=1e-5, err_msg=name)


def test_cnn_on_device_trains_like_on_cpu(device):
    """PyTorch's MNIST CNN (smaller images): conv, relu, max-pool, linear; every gradient matches the CPU's."""
    def cnn():
        return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(4, 6, 3, padding=1, padding_mode="reflect"), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Flatten(), nn.Linear(6 * 5 * 5, 3))
    cpu_model, model = cnn(), cnn()
    model.load_state_dict(cpu_model.state_dict())
    model.to(device)
    x, y = RNG.standard_normal((4, 1, 12, 12)).astype(np.float32), RNG.integers(0, 3, 4)
    for m, where in ((cpu_model, "cpu"), (model, device)):
        F.cross_entropy(m(tinytorch.tensor(x, device=where)), tinytorch.tensor(y, device=where)).backward()
    for (name, p), q in zip(model.named_parameters(), cpu_model.parameters()):
        assert p.grad.device.type == device, name
        np.testing.assert_allclose(numpy_of(p.grad), numpy_of(q.grad), atol=1e-5, rtol=1e-4, err_msg=name)


def test_init_and_dropout_on_device(device):
    weight = tinytorch.empty(64, 32, device=device)
    for fill in (nn.init.kaiming_uniform_, nn.init.xavier_normal_, nn.init.trunc_normal_, nn.init.orthogonal_, nn.init.eye_):
        assert fill(weight) is weight and weight.device.type == device
        assert np.isfinite(numpy_of(weight)).all()
    out = numpy_of(F.dropout(tinytorch.ones(10_000, device=device), 0.25))
    assert (out[out != 0] == pytest.approx(1 / 0.75)) and abs((out == 0).mean() - 0.25) < 0.03


def test_clip_grad_norm_on_device(device):
    p = nn.Parameter(tinytorch.zeros(2, device=device))
    p.grad = tinytorch.tensor([3.0, 4.0], device=device)
    assert nn.utils.clip_grad_norm_([p], 1.0).item() == pytest.approx(5.0)
    np.testing.assert_allclose(numpy_of(p.grad), [0.6, 0.8], rtol=1e-5)


# -- checks that need the data: at once on the CPU, at the next synchronization on a GPU ----------
@pytest.mark.parametrize("name, make, error, message", [
    ("cross_entropy", lambda d: F.cross_entropy(tinytorch.zeros(4, 3, device=d), tinytorch.tensor([0, 1, 5, 2], device=d)), IndexError, "Target 5 is out of bounds"),
    ("nll_loss", lambda d: F.nll_loss(tinytorch.zeros(2, 3, device=d), tinytorch.tensor([-2, 1], device=d)), IndexError, "Target -2 is out of bounds"),
    ("embedding", lambda d: F.embedding(tinytorch.tensor([[0, 7]], device=d), tinytorch.zeros(4, 2, device=d)), IndexError, "index out of range"),
    ("getitem", lambda d: tinytorch.zeros(3, device=d)[tinytorch.tensor([0, 3], device=d)], IndexError, "index 3 is out of bounds for dimension 0 with size 3"),
    ("gather", lambda d: tinytorch.zeros(2, 2, device=d).gather(1, tinytorch.tensor([[0], [-3]], device=d)), RuntimeError, "index -3 is out of bounds for dimension 1 with size 2"),
    ("binary_cross_entropy", lambda d: F.binary_cross_entropy(tinytorch.tensor([0.5, 1.5], device=d), tinytorch.zeros(2, device=d)), RuntimeError, "between 0 and 1"),
    ("max_unpool2d", lambda d: F.max_unpool2d(tinytorch.ones(1, 1, 2, 2, device=d), tinytorch.full((1, 1, 2, 2), 16, device=d), 2),
     RuntimeError, "Found an invalid max index: 16"),
])
def test_bad_indices_are_reported_by_the_next_synchronization(device, name, make, error, message):
    with pytest.raises(error, match=message):
        make(device).sum().item()
    make_ok = tinytorch.zeros(1, device=device)
    assert make_ok.sum().item() == 0.0  # the failed check is not reported twice


CUDA = [d for d in ("cuda",) if tinytorch.cuda.is_available()]


@pytest.mark.parametrize("device", CUDA)
def test_a_training_step_does_not_synchronize(device):
    """Nothing in forward, loss, backward or the optimizer step reads the device back."""
    model = nn.Sequential(nn.Embedding(10, 8), nn.Unflatten(2, (1, 8)), nn.Conv2d(2, 3, (1, 3), padding=(0, 1)), nn.ReLU(),
                          nn.MaxPool2d((1, 2)), nn.Flatten(), nn.Linear(12, 8), nn.ReLU(), nn.Linear(8, 3)).to(device)
    optimizers = [tinytorch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9), tinytorch.optim.Adam(model.parameters())]
    tokens = tinytorch.randint(0, 10, (5, 2), device=device)
    target = tinytorch.randint(0, 3, (5,), device=device)
    previous = tinytorch.cuda.get_sync_debug_mode()
    tinytorch.cuda.set_sync_debug_mode("error")
    try:
        for opt in optimizers:
            for _ in range(2):
                opt.zero_grad()
                F.cross_entropy(model(tokens), target).backward()
                opt.step()
        with pytest.raises(RuntimeError, match="called a synchronizing CUDA operation"):
            model(tokens).sum().item()  # the mode does see a read-back
    finally:
        tinytorch.cuda.set_sync_debug_mode(previous)


def test_sync_debug_mode_names():
    previous = tinytorch.cuda.get_sync_debug_mode()
    try:
        tinytorch.cuda.set_sync_debug_mode("warn")
        assert tinytorch.cuda.get_sync_debug_mode() == 1
        tinytorch.cuda.set_sync_debug_mode(0)
        assert tinytorch.cuda.get_sync_debug_mode() == 0
        with pytest.raises(RuntimeError, match="invalid value of debug_mode"):
            tinytorch.cuda.set_sync_debug_mode("loud")
    finally:
        tinytorch.cuda.set_sync_debug_mode(previous)


@pytest.mark.parametrize("name, make, check", [
    ("rand", lambda d: tinytorch.rand(200, device=d), lambda a: (a >= 0).all() and (a < 1).all()),
    ("randn", lambda d: tinytorch.randn(3, 4, dtype=tinytorch.float64, device=d), lambda a: a.dtype == np.float64 and a.shape == (3, 4)),
    ("randint", lambda d: tinytorch.randint(2, 5, (100,), device=d), lambda a: a.dtype == np.int64 and set(a.tolist()) <= {2, 3, 4}),
    ("randperm", lambda d: tinytorch.randperm(50, device=d), lambda a: sorted(a.tolist()) == list(range(50))),
    ("normal_", lambda d: tinytorch.empty(500, device=d).normal_(2.0, 0.5), lambda a: abs(a.mean() - 2.0) < 0.2),
    ("uniform_", lambda d: tinytorch.empty(100, device=d).uniform_(-1, 1), lambda a: (abs(a) <= 1).all()),
    ("bernoulli", lambda d: tinytorch.empty(100, device=d).bernoulli_(0.5), lambda a: set(a.tolist()) <= {0.0, 1.0}),
    ("dropout", lambda d: F.dropout(tinytorch.ones(100, device=d), 0.5), lambda a: set(a.tolist()) <= {0.0, 2.0}),
    ("kaiming_uniform_", lambda d: nn.Linear(30, 20).to(d).weight.detach(), lambda a: (abs(a) <= 1 / 30**0.5).all()),
    ("trunc_normal_", lambda d: nn.init.trunc_normal_(tinytorch.empty(100, device=d), std=1.0, a=-1.0, b=1.0), lambda a: (abs(a) <= 1).all()),
])
def test_random_tensors_on_device(device, name, make, check):
    tensor = make(device)
    assert tensor.device.type == device
    assert check(numpy_of(tensor))
