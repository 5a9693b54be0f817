"""Linear, Identity, Flatten/Unflatten, Dropout, BatchNorm, LayerNorm and Embedding."""

import math

import numpy as np
import pytest

import tinytorch
import tinytorch.nn.functional as F
from tinytorch import nn

from .helpers import assert_close, copy_module, numpy_of, ours, theirs


# -- Linear -------------------------------------------------------------------------------------
@pytest.mark.parametrize("fan_in, fan_out", [(784, 512), (3, 1000), (1, 4)])
def test_linear_initialization_bounds_and_spread(fan_in, fan_out):
    """PyTorch's default: weight and bias both U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    layer = nn.Linear(fan_in, fan_out)
    bound = 1 / math.sqrt(fan_in)
    weight, bias = numpy_of(layer.weight), numpy_of(layer.bias)
    assert weight.shape == (fan_out, fan_in) and bias.shape == (fan_out,)
    assert np.abs(weight).max() <= bound and np.abs(bias).max() <= bound
    if weight.size > 1000:  # a uniform variable on (-b, b) has standard deviation b / sqrt(3)
        assert weight.std() == pytest.approx(bound / math.sqrt(3), rel=0.05)
        assert abs(weight.mean()) < 0.05 * bound
        assert np.abs(weight).max() > 0.95 * bound


def test_linear_forward_backward_and_options():
    layer = nn.Linear(3, 2, bias=False, dtype=tinytorch.float64)
    assert layer.bias is None and "bias" in layer._parameters and layer.weight.dtype == tinytorch.float64
    assert repr(layer) == "Linear(in_features=3, out_features=2, bias=False)"
    x = tinytorch.randn(5, 3, dtype=tinytorch.float64)
    np.testing.assert_allclose(numpy_of(layer(x)), numpy_of(x) @ numpy_of(layer.weight).T)
    layer(tinytorch.randn(4, 7, 3, dtype=tinytorch.float64)).sum().backward()
    assert layer.weight.grad.shape == (2, 3)
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(5x4 and 3x2\)"):
        layer(tinytorch.randn(5, 4, dtype=tinytorch.float64))


def test_linear_matches_torch_with_copied_weights():
    torch = pytest.importorskip("torch")
    reference = torch.nn.Linear(6, 4)
    layer = copy_module(reference, nn.Linear(6, 4))
    x = np.random.default_rng(0).standard_normal((2, 3, 6)).astype(np.float32)
    a, ta = ours(x, True), theirs(torch, x, True)
    out, expected = layer(a), reference(ta)
    assert_close(out, expected)
    out.sum().backward()
    expected.sum().backward()
    assert_close(a.grad, ta.grad)
    assert_close(layer.weight.grad, reference.weight.grad, atol=1e-5)
    assert_close(layer.bias.grad, reference.bias.grad, atol=1e-5)


def test_linear_reset_parameters_reproducible_with_seed():
    tinytorch.manual_seed(7)
    first = numpy_of(nn.Linear(5, 5).weight)
    tinytorch.manual_seed(7)
    assert np.array_equal(first, numpy_of(nn.Linear(5, 5).weight))


def test_identity_and_flatten():
    x = tinytorch.randn(2, 3, 4, 5)
    assert nn.Identity(54, unused="ignored")(x) is x
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 2)(x).shape == (24, 5)
    assert nn.Unflatten(1, (3, 20))(nn.Flatten()(x)).shape == (2, 3, 20)
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
    assert repr(nn.Unflatten(1, (2, 5))) == "Unflatten(dim=1, unflattened_size=(2, 5))"
    with pytest.raises(TypeError, match="unflattened_size must be tuple of ints"):
        nn.Unflatten(1, 5)


# -- Dropout ------------------------------------------------------------------------------------
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_statistics(p):
    x = tinytorch.ones(200_000)
    out = numpy_of(nn.Dropout(p)(x))
    kept = out != 0
    assert kept.mean() == pytest.approx(1 - p, abs=0.005)
    assert np.allclose(out[kept], 1 / (1 - p))  # survivors scaled so the mean is preserved
    assert out.mean() == pytest.approx(1.0, abs=0.02)


def test_dropout_gradient_uses_the_same_mask():
    x = tinytorch.ones(1000, requires_grad=True)
    out = F.dropout(x, 0.3)
    out.sum().backward()
    assert np.array_equal(numpy_of(x.grad), numpy_of(out))


def test_dropout_eval_and_edge_probabilities():
    x = tinytorch.randn(100)
    layer = nn.Dropout(0.5)
    assert layer.eval()(x) is x
    assert F.dropout(x, 0.5, training=False) is x
    assert np.array_equal(numpy_of(F.dropout(x, 0.0)), numpy_of(x))
    assert (numpy_of(F.dropout(x, 1.0)) == 0).all()
    assert repr(layer) == "Dropout(p=0.5, inplace=False)"
    y = x.clone()
    assert F.dropout(y, 0.5, inplace=True) is y
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match=f"dropout probability has to be between 0 and 1, but got {bad}"):
            nn.Dropout(bad)
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
            F.dropout(x, bad)


def test_dropout_is_reproducible_under_manual_seed():
    x = tinytorch.ones(50)
    tinytorch.manual_seed(3)
    first = numpy_of(F.dropout(x))
    tinytorch.manual_seed(3)
    assert np.array_equal(first, numpy_of(F.dropout(x)))


# -- BatchNorm ----------------------------------------------------------------------------------
BATCHNORM_CASES = [
    ("BatchNorm1d", dict(num_features=4), (8, 4)),
    ("BatchNorm1d", dict(num_features=4, momentum=None), (8, 4)),
    ("BatchNorm1d", dict(num_features=3, affine=False), (5, 3, 6)),
    ("BatchNorm1d", dict(num_features=4, track_running_stats=False), (8, 4)),
    ("BatchNorm1d", dict(num_features=4, momentum=0.5, eps=1e-3), (2, 4)),
    ("BatchNorm2d", dict(num_features=3), (4, 3, 5, 5)),
]


@pytest.mark.parametrize("name, kwargs, shape", BATCHNORM_CASES)
def test_batchnorm_training_steps_and_eval_match_torch(name, kwargs, shape):
    torch = pytest.importorskip("torch")
    reference = getattr(torch.nn, name)(**kwargs)
    layer = getattr(nn, name)(**kwargs)
    if reference.affine:
        with torch.no_grad():
            reference.weight.uniform_(0.5, 1.5)
            reference.bias.uniform_(-0.5, 0.5)
        copy_module(reference, layer)
    assert repr(layer) == repr(reference)
    rng = np.random.default_rng(0)
    for step in range(4):
        x = (rng.standard_normal(shape) * (step + 1) + step).astype(np.float32)
        a, ta = ours(x, True), theirs(torch, x, True)
        out, expected = layer(a), reference(ta)
        assert_close(out, expected, atol=1e-5, rtol=1e-4)
        weights = rng.standard_normal(shape).astype(np.float32)
        (out * tinytorch.tensor(weights)).sum().backward()
        (expected * torch.tensor(weights)).sum().backward()
        assert_close(a.grad, ta.grad, atol=1e-4, rtol=1e-3)
        if reference.affine:
            assert_close(layer.weight.grad, reference.weight.grad, atol=1e-4, rtol=1e-3)
    for key, value in reference.state_dict().items():
        assert_close(layer.state_dict()[key], value, atol=1e-5, rtol=1e-5)
    layer.eval()
    reference.eval()
    x = rng.standard_normal(shape).astype(np.float32)
    assert_close(layer(ours(x)), reference(theirs(torch, x)), atol=1e-5, rtol=1e-4)


def test_batchnorm_running_stats_by_hand():
    """Without torch: running_mean/var move by momentum toward the batch mean and unbiased variance."""
    layer = nn.BatchNorm1d(2, momentum=0.1)
    x = tinytorch.tensor([[1.0, 10.0], [3.0, 20.0], [5.0, 60.0]])
    out = layer(x)
    np.testing.assert_allclose(numpy_of(layer.running_mean), [0.3, 3.0], rtol=1e-6)
    np.testing.assert_allclose(numpy_of(layer.running_var), [0.9 + 0.1 * 4.0, 0.9 + 0.1 * 700.0], rtol=1e-6)
    assert layer.num_batches_tracked.item() == 1 and layer.num_batches_tracked.dtype == tinytorch.int64
    np.testing.assert_allclose(numpy_of(out).mean(0), [0, 0], atol=1e-6)
    np.testing.assert_allclose(numpy_of(out).var(0), [1, 1], rtol=1e-4)  # biased variance normalizes
    layer.eval()
    y = numpy_of(layer(x))
    np.testing.assert_allclose(y, (numpy_of(x) - [0.3, 3.0]) / np.sqrt([1.3 + 1e-5, 70.9 + 1e-5]), rtol=1e-5)


def test_batchnorm_cumulative_average_and_buffers():
    layer = nn.BatchNorm1d(1, momentum=None)
    for value in (2.0, 4.0, 9.0):
        layer(tinytorch.tensor([[value - 1], [value + 1]]))
    assert layer.running_mean.item() == pytest.approx(5.0)  # the plain mean of 2, 4 and 9
    assert list(layer.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    no_stats = nn.BatchNorm1d(3, track_running_stats=False)
    assert no_stats.running_mean is None and list(no_stats.state_dict()) == ["weight", "bias"]


def test_batchnorm_errors():
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        nn.BatchNorm1d(3)(tinytorch.zeros(2, 3, 4, 5))
    with pytest.raises(ValueError, match=r"expected 4D input \(got 2D input\)"):
        nn.BatchNorm2d(3)(tinytorch.zeros(2, 3))
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when training, got input size tinytorch.Size\(\[1, 3\]\)"):
        nn.BatchNorm1d(3)(tinytorch.zeros(1, 3))
    assert nn.BatchNorm1d(3).eval()(tinytorch.zeros(1, 3)).shape == (1, 3)


def test_batchnorm_loads_a_state_dict_without_num_batches_tracked():
    """State dicts of version 1 predate num_batches_tracked; loading one keeps the current count."""
    layer = nn.BatchNorm1d(2)
    state = {k: v for k, v in nn.BatchNorm1d(2).state_dict().items() if k != "num_batches_tracked"}
    assert layer.load_state_dict(state).missing_keys == []


# -- LayerNorm ----------------------------------------------------------------------------------
@pytest.mark.parametrize("shape, normalized, kwargs", [
    ((4, 6), 6, {}),
    ((2, 3, 4), (3, 4), {}),
    ((5, 3), [3], {"elementwise_affine": False}),
    ((5, 3), 3, {"bias": False, "eps": 1e-3}),
])
def test_layernorm_matches_torch(shape, normalized, kwargs):
    torch = pytest.importorskip("torch")
    reference = torch.nn.LayerNorm(normalized, **kwargs)
    layer = nn.LayerNorm(normalized, **kwargs)
    if reference.weight is not None:
        with torch.no_grad():
            reference.weight.uniform_(0.5, 1.5)
            if reference.bias is not None:
                reference.bias.uniform_(-1, 1)
        copy_module(reference, layer)
    assert repr(layer) == repr(reference)
    x = (np.random.default_rng(0).standard_normal(shape) * 3 + 1).astype(np.float32)
    a, ta = ours(x, True), theirs(torch, x, True)
    out, expected = layer(a), reference(ta)
    assert_close(out, expected, atol=1e-5, rtol=1e-4)
    weights = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    (out * tinytorch.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    assert_close(a.grad, ta.grad, atol=1e-4, rtol=1e-3)
    for ours_p, theirs_p in zip(layer.parameters(), reference.parameters()):
        assert_close(ours_p.grad, theirs_p.grad, atol=1e-4, rtol=1e-3)


def test_layernorm_normalizes_each_sample():
    out = numpy_of(nn.LayerNorm(8)(tinytorch.randn(4, 8) * 5 + 3))
    np.testing.assert_allclose(out.mean(-1), 0, atol=1e-5)
    np.testing.assert_allclose(out.var(-1), 1, rtol=1e-3)
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[10\], expected input with shape \[\*, 10\], but got input of size\[3, 5\]"):
        F.layer_norm(tinytorch.zeros(3, 5), (10,))


# -- Embedding ----------------------------------------------------------------------------------
def test_embedding_matches_torch_and_padding_row_gets_no_gradient():
    torch = pytest.importorskip("torch")
    reference = torch.nn.Embedding(10, 3, padding_idx=2)
    layer = copy_module(reference, nn.Embedding(10, 3, padding_idx=2))
    index = np.array([[1, 2, 4], [4, 9, 2]])
    out, expected = layer(tinytorch.tensor(index)), reference(torch.tensor(index))
    assert_close(out, expected)
    weights = np.random.default_rng(0).standard_normal((2, 3, 3)).astype(np.float32)
    (out * tinytorch.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    assert_close(layer.weight.grad, reference.weight.grad)
    assert (numpy_of(layer.weight.grad)[2] == 0).all()
    assert repr(layer) == repr(reference)


def test_embedding_initialization_and_padding_row():
    layer = nn.Embedding(1000, 16, padding_idx=-1)
    weight = numpy_of(layer.weight)
    assert layer.padding_idx == 999 and (weight[999] == 0).all()
    assert weight[:999].std() == pytest.approx(1.0, rel=0.05)  # N(0, 1)


def test_embedding_from_pretrained_and_max_norm():
    table = tinytorch.tensor([[3.0, 4.0], [0.3, 0.4]])
    frozen = nn.Embedding.from_pretrained(table)
    assert not frozen.weight.requires_grad
    np.testing.assert_allclose(numpy_of(frozen(tinytorch.tensor([1]))), [[0.3, 0.4]], rtol=1e-6)
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad
    limited = nn.Embedding.from_pretrained(table.clone(), max_norm=1.0)
    out = numpy_of(limited(tinytorch.tensor([0, 1])))
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), [1.0, 0.5], rtol=1e-5)


def test_embedding_errors_match_torch():
    torch = pytest.importorskip("torch")
    from .helpers import assert_same_error

    assert_same_error(lambda: nn.Embedding(3, 2)(tinytorch.tensor([5])), lambda: torch.nn.Embedding(3, 2)(torch.tensor([5])))
    assert_same_error(lambda: nn.Embedding(3, 2)(tinytorch.tensor([1.0])), lambda: torch.nn.Embedding(3, 2)(torch.tensor([1.0])))
    assert_same_error(lambda: nn.Embedding(3, 2, padding_idx=3), lambda: torch.nn.Embedding(3, 2, padding_idx=3))
