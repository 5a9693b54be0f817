"""Every distribution of the table against torch.distributions: shapes, support, log_prob,
entropy, mean, mode, variance, stddev, cdf, icdf, enumerate_support and their gradients, with
float64 parameters and with float32 ones, and expand. Values to score are torch's own samples (so
they lie in the support)."""

import math

import numpy as np
import pytest

import tinytorch

from .cases import CASES, has_float_parameters, pair

torch = pytest.importorskip("torch")
# torch 2.13's Wishart.rsample warns this for every sample (its check is inverted): noise here
pytestmark = pytest.mark.filterwarnings("ignore:Singular sample detected")

PROPERTIES = ["mean", "mode", "variance", "stddev"]
METHODS = ["log_prob", "entropy", "perplexity", "cdf", "icdf", "enumerate_support"]


def _host(x):
    if isinstance(x, torch.Tensor):
        return x.detach().numpy()
    return np.asarray(x.detach().numpy() if isinstance(x, tinytorch.Tensor) else x)


def _call(dist, name, value=None, probability=None):
    if name in PROPERTIES:
        return getattr(dist, name)
    if name in ("log_prob", "cdf"):
        return getattr(dist, name)(value)
    if name == "icdf":
        return dist.icdf(probability)
    return getattr(dist, name)()


def _outcome(fn):
    try:
        return fn(), None
    except (NotImplementedError, ValueError, RuntimeError) as error:
        return None, error


def _inputs(theirs, seed=1, dtype_name="float64"):
    torch.manual_seed(seed)
    value = theirs.sample((2,))
    rng = np.random.default_rng(seed)
    probability = rng.uniform(0.05, 0.95, size=(2,) + tuple(theirs.batch_shape)).astype(dtype_name)
    return value, probability


# Each case with float64 parameters, and again with float32 ones where it has float parameters
# (the number-only cases have no dtype to choose). float32 tolerances: float32 rounding, which
# NumPy's and torch's kernels (lgamma, digamma, betainc, ...) do in different orders.
DTYPE_RUNS = [pytest.param(case, dtype_name, id=f"{case.name}-{dtype_name}")
              for case in CASES for dtype_name in ("float64", "float32")
              if dtype_name == "float64" or has_float_parameters(case)]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_shapes_and_support(case):
    ours, theirs, _, _ = pair(case)
    assert tuple(ours.batch_shape) == tuple(theirs.batch_shape)
    assert tuple(ours.event_shape) == tuple(theirs.event_shape)
    assert ours.has_rsample == theirs.has_rsample
    assert ours.has_enumerate_support == theirs.has_enumerate_support
    assert type(ours.support).__name__ == type(theirs.support).__name__
    assert ours.support.is_discrete == theirs.support.is_discrete
    assert ours.support.event_dim == theirs.support.event_dim
    value, _ = _inputs(theirs)
    assert bool(ours.support.check(tinytorch.tensor(value.numpy())).all())
    assert sorted(ours.arg_constraints) == sorted(theirs.arg_constraints)
    for name, constraint in theirs.arg_constraints.items():
        assert type(ours.arg_constraints[name]).__name__ == type(constraint).__name__


@pytest.mark.parametrize("name", PROPERTIES + METHODS)
@pytest.mark.parametrize("case,dtype_name", DTYPE_RUNS)
def test_values_and_gradients_match_torch(case, dtype_name, name):
    """The value (or PyTorch's exception type), and the gradient of a random projection of it
    with respect to every float parameter (or PyTorch's exception from that backward)."""
    ours, theirs, ours_params, theirs_params = pair(case, requires_grad=True, dtype_name=dtype_name)
    value, probability = _inputs(theirs, dtype_name=dtype_name)
    expected, error = _outcome(lambda: _call(theirs, name, value, torch.tensor(probability)))
    if error is not None:
        with pytest.raises(type(error)):
            _call(ours, name, tinytorch.tensor(value.numpy()), tinytorch.tensor(probability))
        return
    got = _call(ours, name, tinytorch.tensor(value.numpy()), tinytorch.tensor(probability))
    assert tuple(got.shape) == tuple(expected.shape), f"{name}: shape {tuple(got.shape)} vs torch {tuple(expected.shape)}"
    assert got.dtype.name == str(expected.dtype).replace("torch.", ""), f"{name}: dtype {got.dtype} vs {expected.dtype}"
    if dtype_name == "float32":
        (rtol, atol), (grad_rtol, grad_atol) = (2e-5, 1e-5), (2e-4, 1e-4)
        if case.name.startswith("continuous_bernoulli") and name in ("variance", "stddev"):
            # PyTorch's formula just outside its Taylor region (|p - 1/2| > 0.001) subtracts two
            # terms of size ~1/(1 - 2p)^2 to leave ~1/12: a 1-ulp difference in float32 log/log1p
            # (NumPy's against PyTorch's vectorized ones, which differ by CPU: AVX-512 hosts gave
            # 1.8e-4) is amplified by up to ~(1 - 2p)^-2 / 12 in both libraries.
            rtol = 2e-3
    else:
        # float32 results (the number-parameter cases) may differ by a few ulps: NumPy's and
        # torch's float32 log1p/expm1 round differently
        (rtol, atol), (grad_rtol, grad_atol) = (1e-7 if expected.dtype == torch.float64 else 1e-6, 1e-9), (1e-6, 1e-9)
    np.testing.assert_allclose(_host(got), _host(expected), rtol=rtol, atol=atol, equal_nan=True)
    if not (expected.requires_grad and np.isfinite(_host(expected)).all()):
        return
    weights = np.random.default_rng(2).standard_normal(tuple(expected.shape))
    try:
        (expected * torch.tensor(weights, dtype=expected.dtype)).sum().backward()
    except NotImplementedError:  # e.g. Gamma's cdf: gammainc's derivative in its first argument
        with pytest.raises(NotImplementedError):
            (got * tinytorch.tensor(weights, dtype=got.dtype)).sum().backward()
        return
    (got * tinytorch.tensor(weights, dtype=got.dtype)).sum().backward()
    for key in theirs_params:
        grad_theirs = getattr(theirs_params[key], "grad", None)
        grad_ours = getattr(ours_params[key], "grad", None)
        if grad_theirs is None:
            assert grad_ours is None or not _host(grad_ours).any(), f"{name}: gradient for {key}; torch has none"
            continue
        assert grad_ours is not None, f"{name}: no gradient for {key}"
        assert grad_ours.dtype.name == str(grad_theirs.dtype).replace("torch.", ""), f"{name} d/d{key}: dtype"
        np.testing.assert_allclose(_host(grad_ours), _host(grad_theirs), rtol=grad_rtol, atol=grad_atol,
                                   err_msg=f"{name} d/d{key}")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_expand_matches_torch(case):
    ours, theirs, _, _ = pair(case)
    shape = (4,) + tuple(theirs.batch_shape)
    big_ours, big_theirs = ours.expand(shape), theirs.expand(shape)
    assert type(big_ours) is type(ours)
    assert tuple(big_ours.batch_shape) == shape and tuple(big_ours.event_shape) == tuple(theirs.event_shape)
    torch.manual_seed(1)
    value = theirs.sample((4,))
    np.testing.assert_allclose(_host(big_ours.log_prob(tinytorch.tensor(value.numpy()))), _host(big_theirs.log_prob(value)),
                               rtol=1e-7, atol=1e-9)
    for sample_shape in [(), (3,), (2, 1)]:
        got, expected = big_ours.sample(sample_shape), big_theirs.sample(sample_shape)
        assert tuple(got.shape) == tuple(expected.shape) == tuple(sample_shape) + shape + tuple(theirs.event_shape)
        assert got.dtype.name == str(expected.dtype).replace("torch.", "")
        assert not got.requires_grad
        assert bool(big_ours.support.check(got).all())
    assert tuple(big_ours.expand(shape).batch_shape) == shape


@pytest.mark.parametrize("case,dtype_name", DTYPE_RUNS)
def test_sample_shapes_and_dtypes(case, dtype_name):
    ours, theirs, _, _ = pair(case, dtype_name=dtype_name)
    for sample_shape in [(), (3,), (2, 1)]:
        got, expected = ours.sample(sample_shape), theirs.sample(sample_shape)
        assert tuple(got.shape) == tuple(expected.shape)
        assert got.dtype.name == str(expected.dtype).replace("torch.", "")
        assert not got.requires_grad


def test_a_distribution_with_a_custom_init_must_define_expand():
    class Shifted(tinytorch.distributions.Normal):
        def __init__(self, loc):
            super().__init__(loc, 1.0)

    with pytest.raises(NotImplementedError, match="Subclass Shifted of Normal that defines a custom __init__ method"):
        Shifted(tinytorch.zeros(2)).expand((3, 2))


def test_repr_names_the_parameters():
    d = tinytorch.distributions
    assert repr(d.Normal(tinytorch.zeros(2), tinytorch.ones(2))) == "Normal(loc: tinytorch.Size([2]), scale: tinytorch.Size([2]))"
    assert repr(d.Normal(0.0, 1.0)) == repr(torch.distributions.Normal(0.0, 1.0))
    assert repr(d.Independent(d.Normal(tinytorch.zeros(2), 1.0), 1)).startswith("Independent(Normal(")


def test_nan_mode_and_mean_where_pytorch_has_none():
    d = tinytorch.distributions
    assert math.isnan(float(d.Bernoulli(probs=tinytorch.tensor(0.5)).mode))
    assert bool(d.Categorical(probs=tinytorch.ones(3)).mean.isnan())
    assert bool(d.Uniform(0.0, 1.0).mode.isnan())
