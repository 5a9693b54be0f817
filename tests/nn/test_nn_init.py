"""nn.init: gains and fans against torch, the statistics of each scheme, in-place and no-grad behaviour."""

import math

import numpy as np
import pytest

import tinytorch
from tinytorch import nn
from tinytorch.nn import init

from .helpers import numpy_of

GAINS = [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
         ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 3), ("selu", None)]
SHAPES = [(5, 3), (8, 4, 3), (16, 8, 3, 3), (2, 3, 2, 2, 2)]


@pytest.mark.parametrize("nonlinearity, param", GAINS)
def test_calculate_gain_matches_torch(nonlinearity, param):
    torch = pytest.importorskip("torch")
    assert init.calculate_gain(nonlinearity, param) == torch.nn.init.calculate_gain(nonlinearity, param)


def test_calculate_gain_values_and_errors():
    assert init.calculate_gain("relu") == math.sqrt(2)
    assert init.calculate_gain("tanh") == 5 / 3
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == math.sqrt(1 / 3)
    with pytest.raises(ValueError, match="Unsupported nonlinearity gelu"):
        init.calculate_gain("gelu")
    with pytest.raises(ValueError, match="negative_slope True not a valid number"):
        init.calculate_gain("leaky_relu", True)


@pytest.mark.parametrize("shape", SHAPES)
def test_fans_match_torch(shape):
    torch = pytest.importorskip("torch")
    assert init._calculate_fan_in_and_fan_out(tinytorch.empty(*shape)) == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))


def test_fans_by_hand_and_errors():
    assert init._calculate_fan_in_and_fan_out(tinytorch.empty(16, 8, 3, 3)) == (72, 144)
    with pytest.raises(ValueError, match="Fan in and fan out can not be computed for tensor with fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(tinytorch.empty(5))
    with pytest.raises(ValueError, match=r"Mode fan_avg not supported, please use one of \['fan_in', 'fan_out'\]"):
        init.kaiming_uniform_(tinytorch.empty(3, 3), mode="fan_avg")


def _big(shape=(400, 500)):
    return tinytorch.empty(*shape)


def test_uniform_normal_constant():
    t = _big()
    assert init.uniform_(t, -2.0, 3.0) is t
    values = numpy_of(t)
    assert values.min() >= -2.0 and values.max() < 3.0 and values.mean() == pytest.approx(0.5, abs=0.02)
    values = numpy_of(init.normal_(t, 1.0, 2.0))
    assert values.mean() == pytest.approx(1.0, abs=0.02) and values.std() == pytest.approx(2.0, rel=0.01)
    assert (numpy_of(init.constant_(t, 0.25)) == 0.25).all()
    assert (numpy_of(init.ones_(t)) == 1).all() and (numpy_of(init.zeros_(t)) == 0).all()


def test_normal_scales_its_sample_in_place():
    import tracemalloc

    t = tinytorch.empty(1000, 1000)  # 4 MB of float32: one sample, not the three arrays of sample * std + mean
    tracemalloc.start()
    try:
        init.normal_(t, 0.0, 1.0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5 * 2**20


def test_eye():
    assert numpy_of(init.eye_(tinytorch.empty(2, 3))).tolist() == [[1, 0, 0], [0, 1, 0]]
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        init.eye_(tinytorch.empty(2, 2, 2))


@pytest.mark.parametrize("shape", [(400, 500), (64, 32, 3, 3)])
def test_xavier_statistics(shape):
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(tinytorch.empty(*shape))
    std = 1.5 * math.sqrt(2 / (fan_in + fan_out))
    values = numpy_of(init.xavier_uniform_(_big(shape), gain=1.5))
    assert np.abs(values).max() <= math.sqrt(3) * std and values.std() == pytest.approx(std, rel=0.02)
    assert numpy_of(init.xavier_normal_(_big(shape), gain=1.5)).std() == pytest.approx(std, rel=0.02)


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("nonlinearity, a", [("relu", 0), ("leaky_relu", 0.1), ("leaky_relu", math.sqrt(5))])
def test_kaiming_statistics(mode, nonlinearity, a):
    t = _big((300, 600))
    fan = 600 if mode == "fan_in" else 300
    std = init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    values = numpy_of(init.kaiming_uniform_(t, a=a, mode=mode, nonlinearity=nonlinearity))
    assert np.abs(values).max() <= math.sqrt(3) * std and values.std() == pytest.approx(std, rel=0.02)
    values = numpy_of(init.kaiming_normal_(t, a=a, mode=mode, nonlinearity=nonlinearity))
    assert values.mean() == pytest.approx(0, abs=0.02 * std) and values.std() == pytest.approx(std, rel=0.02)


def test_kaiming_on_zero_elements_warns_and_does_nothing():
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        init.kaiming_uniform_(tinytorch.empty(0, 3))


@pytest.mark.parametrize("mean, std, a, b", [(0.0, 1.0, -2.0, 2.0), (0.0, 0.02, -0.04, 0.04), (1.0, 1.0, 2.5, 3.0)])
def test_trunc_normal_stays_in_bounds_with_the_truncated_moments(mean, std, a, b):
    values = numpy_of(init.trunc_normal_(_big(), mean, std, a, b))
    assert values.min() >= a and values.max() <= b
    expected_mean, expected_std = _truncated_moments(mean, std, a, b)
    assert values.mean() == pytest.approx(expected_mean, abs=0.01 * std + 1e-4)
    assert values.std() == pytest.approx(expected_std, rel=0.02)


def _truncated_moments(mean, std, a, b):
    """Mean and standard deviation of N(mean, std^2) truncated to [a, b] (closed form)."""
    pdf = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda z: (1 + math.erf(z / math.sqrt(2))) / 2  # noqa: E731
    alpha, beta = (a - mean) / std, (b - mean) / std
    mass = cdf(beta) - cdf(alpha)
    shift = (pdf(alpha) - pdf(beta)) / mass
    variance = 1 + (alpha * pdf(alpha) - beta * pdf(beta)) / mass - shift**2
    return mean + std * shift, std * math.sqrt(variance)


def test_trunc_normal_warns_when_the_mean_is_far_outside():
    with pytest.warns(UserWarning, match=r"mean is more than 2 std from \[a, b\] in nn.init.trunc_normal_"):
        values = numpy_of(init.trunc_normal_(tinytorch.empty(100), mean=10.0, std=1.0, a=-1.0, b=1.0))
    assert values.min() >= -1.0 and values.max() <= 1.0


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (8, 2, 3)])
def test_orthogonal(shape):
    t = init.orthogonal_(tinytorch.empty(*shape, dtype=tinytorch.float64), gain=2.0)
    flat = numpy_of(t).reshape(shape[0], -1)
    small = min(flat.shape)
    gram = flat.T @ flat if flat.shape[0] >= flat.shape[1] else flat @ flat.T
    np.testing.assert_allclose(gram, 4.0 * np.eye(small), atol=1e-10)
    with pytest.raises(ValueError, match="Only tensors with 2 or more dimensions are supported"):
        init.orthogonal_(tinytorch.empty(3))


@pytest.mark.parametrize("fill", [
    lambda t, g: init.uniform_(t, generator=g),
    lambda t, g: init.normal_(t, generator=g),
    lambda t, g: init.xavier_uniform_(t, generator=g),
    lambda t, g: init.kaiming_normal_(t, generator=g),
    lambda t, g: init.trunc_normal_(t, generator=g),
    lambda t, g: init.orthogonal_(t, generator=g),
])
def test_generator_makes_fills_reproducible(fill):
    first = numpy_of(fill(tinytorch.empty(5, 4), tinytorch.Generator().manual_seed(1))).copy()
    again = numpy_of(fill(tinytorch.empty(5, 4), tinytorch.Generator().manual_seed(1)))
    other = numpy_of(fill(tinytorch.empty(5, 4), tinytorch.Generator().manual_seed(2)))
    assert np.array_equal(first, again) and not np.array_equal(first, other)


@pytest.mark.parametrize("fill", [init.zeros_, init.xavier_uniform_, init.kaiming_uniform_, init.orthogonal_, init.eye_, init.trunc_normal_])
def test_fills_parameters_in_place_without_recording_a_graph(fill):
    layer = nn.Linear(3, 3)
    weight, version = layer.weight, layer.weight._version[0]
    assert fill(weight) is weight
    assert weight.requires_grad and weight.grad_fn is None and weight.is_leaf
    assert weight._version[0] > version  # graphs that saved the old values notice
