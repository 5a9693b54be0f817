"""cauchy_, log_normal_ and geometric_: their distributions (quantiles and moments of many draws with a
fixed seed, within generous bounds), generators, dtypes and errors as torch."""

import math

import numpy as np
import pytest

import tinytorch

N = 200_000


def _draws(device, dtype=tinytorch.float64):
    return tinytorch.empty(N, dtype=dtype, device=device)


def test_cauchy_quantiles(device):
    x = _draws(device).cauchy_(median=1.5, sigma=2.0).cpu().numpy()
    # Cauchy quantiles: median + sigma * tan(pi * (q - 1/2)); the moments do not exist
    for q in (0.1, 0.25, 0.5, 0.75, 0.9):
        assert abs(np.quantile(x, q) - (1.5 + 2.0 * math.tan(math.pi * (q - 0.5)))) < 0.06 * (1 + abs(math.tan(math.pi * (q - 0.5))))


def test_log_normal_moments(device):
    x = _draws(device).log_normal_(mean=0.5, std=0.25).cpu().numpy()
    assert x.min() > 0
    np.testing.assert_allclose(np.log(x).mean(), 0.5, atol=0.01)
    np.testing.assert_allclose(np.log(x).std(), 0.25, atol=0.01)
    np.testing.assert_allclose(x.mean(), math.exp(0.5 + 0.25**2 / 2), rtol=0.01)


@pytest.mark.parametrize("dtype", ["float32", "int64", "int8", "float64"])
def test_geometric_values_and_moments(dtype, device):
    p = 0.3
    x = _draws(device, getattr(tinytorch, dtype)).geometric_(p)
    assert x.dtype == getattr(tinytorch, dtype)
    x = x.cpu().numpy().astype(np.float64)
    assert x.min() >= 1 and (x == np.round(x)).all()
    np.testing.assert_allclose(x.mean(), 1 / p, rtol=0.02)
    np.testing.assert_allclose(x.var(), (1 - p) / p**2, rtol=0.05)
    np.testing.assert_allclose((x == 1).mean(), p, atol=0.01)


def test_defaults_match_torch_and_float32_draws():
    torch = pytest.importorskip("torch")
    x = tinytorch.empty(N).log_normal_()
    assert x.dtype == tinytorch.float32
    # torch's defaults mean=1, std=2: the logs' median is 1 and their spread 2
    logs = np.log(x.numpy().astype(np.float64))
    theirs = np.log(torch.empty(N, dtype=torch.float64).log_normal_().numpy())
    np.testing.assert_allclose(np.median(logs), np.median(theirs), atol=0.05)
    np.testing.assert_allclose(logs.std(), theirs.std(), rtol=0.02)
    ours_cauchy = np.median(tinytorch.empty(N).cauchy_().numpy())
    assert abs(ours_cauchy) < 0.02


def test_generator_and_seed_reproduce_draws():
    g = tinytorch.Generator().manual_seed(3)
    a = tinytorch.empty(5).cauchy_(generator=g)
    g.manual_seed(3)
    assert (tinytorch.empty(5).cauchy_(generator=g) == a).all().item()
    tinytorch.manual_seed(7)
    b = tinytorch.empty(5).geometric_(0.5)
    tinytorch.manual_seed(7)
    assert (tinytorch.empty(5).geometric_(0.5) == b).all().item()


def test_fills_are_in_place_and_bump_the_version():
    x = tinytorch.zeros(4)
    view = x[1:3]
    assert view.log_normal_() is view
    assert x[0].item() == 0 and (x[1:3] > 0).all().item() and x._version[0] == 1


@pytest.mark.parametrize("call", [
    lambda x: x.cauchy_(0, -1), lambda x: x.cauchy_(0, 0), lambda x: x.long().cauchy_(), lambda x: x.cauchy_("a"),
    lambda x: x.cauchy_(0, "b"), lambda x: x.log_normal_(1, 0), lambda x: x.log_normal_(1, -1),
    lambda x: x.long().log_normal_(), lambda x: x.geometric_(0), lambda x: x.geometric_(1), lambda x: x.geometric_(1.5),
    lambda x: x.bool().geometric_(0.5), lambda x: x.geometric_("a"), lambda x: x.requires_grad_().cauchy_(),
])
def test_errors_as_torch(call):
    torch = pytest.importorskip("torch")
    with pytest.raises(Exception) as expected:
        call(torch.zeros(3))
    with pytest.raises(Exception) as got:
        call(tinytorch.zeros(3))
    assert type(got.value) is type(expected.value)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("name, args", [("rand_like", ()), ("randn_like", ()), ("randint_like", (5,)), ("randint_like", (2, 9))])
def test_like_factories_draw_from_the_given_generator(name, args):
    x = tinytorch.zeros(4, 3)
    draw = getattr(tinytorch, name)
    first = draw(x, *args, generator=tinytorch.Generator().manual_seed(7))
    again = draw(x, *args, generator=tinytorch.Generator().manual_seed(7))
    other = draw(x, *args, generator=tinytorch.Generator().manual_seed(8))
    assert first.tolist() == again.tolist() and first.tolist() != other.tolist()
    assert first.shape == x.shape and first.dtype == x.dtype
