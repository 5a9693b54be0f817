"""Samples: their statistics against the distribution's moments, reproducibility under
``manual_seed``, and ``rsample``'s gradients (finite differences through a fixed seed, and torch
fed the same noise)."""

from unittest import mock

import numpy as np
import pytest

import tinytorch
from tinytorch.autograd import gradcheck
from tinytorch.distributions import Distribution

from .cases import BY_NAME, CASES, tensors

N = 20000


def _build(case, seed=0, requires_grad=False):
    params = tensors(tinytorch, case.params(np.random.default_rng(seed)), requires_grad)
    return case.build(tinytorch, **params), params


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_sample_moments_match_the_distribution(case):
    """Mean and variance of N draws against the distribution's own (checked against torch
    elsewhere); the categorical families, whose mean is NaN, against their probabilities."""
    _skip_if_flagged(case, "moments")
    dist, _ = _build(case)
    tinytorch.manual_seed(1)
    samples = dist.sample((N,)).to(tinytorch.float64).numpy()
    assert bool(dist.support.check(tinytorch.tensor(samples).to(dist.sample().dtype)).all())
    if "categorical" in case.name and "one_hot" not in case.name:
        counts = np.stack([(samples == k).mean(0) for k in range(dist.probs.shape[-1])], -1)
        np.testing.assert_allclose(counts, dist.probs.detach().numpy(), atol=5 * np.sqrt(0.25 / N))
        return
    mean, variance = dist.mean.detach().numpy(), dist.variance.detach().numpy()
    stderr = np.sqrt(variance / N)
    assert np.all(np.abs(samples.mean(0) - mean) <= 5 * stderr + 1e-12), (samples.mean(0), mean)
    # The variance's standard error is about var * sqrt(2 / N) for light tails; 15% allows the heavier ones.
    np.testing.assert_allclose(samples.var(0), variance, rtol=0.15, atol=1e-3)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_manual_seed_makes_samples_reproducible(case):
    dist, _ = _build(case)
    tinytorch.manual_seed(7)
    first = dist.sample((5,)).numpy()
    again = dist.sample((5,)).numpy()
    tinytorch.manual_seed(7)
    np.testing.assert_array_equal(dist.sample((5,)).numpy(), first)
    assert not np.array_equal(first, again)  # the stream moved on


# reparameterized cases with a parameter to differentiate (not those built from numbers only)
RSAMPLE = [c for c in CASES if _build(c)[0].has_rsample
           and any(isinstance(v, np.ndarray) for v in c.params(np.random.default_rng(0)).values())]


def _skip_if_flagged(case, check):
    """cases.py says why a family cannot take one of these checks (Case.skip_sampling)."""
    if check in case.skip_sampling:
        pytest.skip(f"{case.name}: {case.skip_sampling[check]}")


@pytest.mark.parametrize("case", RSAMPLE, ids=[c.name for c in RSAMPLE])
def test_rsample_gradients_match_finite_differences(case):
    """rsample with the seed fixed is a smooth function of the parameters: its Jacobian against
    float64 central differences. (Symmetric-matrix parameters are checked against torch below:
    differences that break the symmetry have no meaning.)"""
    _skip_if_flagged(case, "rsample_finite_differences")
    params = tensors(tinytorch, case.params(np.random.default_rng(0)), requires_grad=True)
    names = [k for k, v in params.items() if isinstance(v, tinytorch.Tensor)]

    def draw(*values):
        tinytorch.manual_seed(3)
        return case.build(tinytorch, **dict(zip(names, values))).rsample((2,))

    previous = Distribution._validate_args
    Distribution.set_default_validate_args(False)  # differences step off a triangle's zeros
    try:
        assert gradcheck(draw, [params[k] for k in names], eps=1e-6, atol=1e-5, rtol=1e-4)
    finally:
        Distribution.set_default_validate_args(previous)


@pytest.mark.parametrize("case", RSAMPLE, ids=[c.name for c in RSAMPLE])
def test_rsample_reaches_every_parameter(case):
    dist, params = _build(case, requires_grad=True)
    dist.rsample((3,)).sum().backward()
    for name, value in params.items():
        if isinstance(value, tinytorch.Tensor):
            assert value.grad is not None and np.isfinite(value.grad.numpy()).all(), name


def test_sample_has_no_gradient_and_rsample_is_missing_where_pytorch_has_none():
    d = tinytorch.distributions
    loc = tinytorch.zeros(3, requires_grad=True)
    assert not d.Normal(loc, 1.0).sample().requires_grad
    assert d.Normal(loc, 1.0).rsample().requires_grad
    for dist in [d.Bernoulli(probs=tinytorch.full((2,), 0.3)), d.Poisson(tinytorch.ones(2)),
                 d.Categorical(logits=tinytorch.zeros(3)), d.Binomial(3, probs=tinytorch.full((2,), 0.5)),
                 d.MixtureSameFamily(d.Categorical(logits=tinytorch.zeros(2)), d.Normal(tinytorch.zeros(2), 1.0))]:
        assert not dist.has_rsample
        with pytest.raises(NotImplementedError):
            dist.rsample()


# -- rsample against torch: both fed the same noise ---------------------------------------------
def _noise_patches(torch, noise):
    """Make tinytorch's and torch's samplers return ``noise`` (a NumPy array, as the shape asks)."""
    import tinytorch.distributions.multivariate_normal as our_mvn
    import tinytorch.distributions.normal as our_normal
    import torch.distributions.multivariate_normal as their_mvn
    import torch.distributions.normal as their_normal

    ours = lambda shape, dtype, device: tinytorch.tensor(noise[: int(np.prod(shape))].reshape(tuple(shape)))  # noqa: E731
    theirs = lambda shape, dtype, device: torch.tensor(noise[: int(np.prod(shape))].reshape(tuple(shape)))  # noqa: E731
    uniform_ours = lambda shape, dtype=None, device=None: ours(shape, dtype, device)  # noqa: E731
    uniform_theirs = lambda shape, dtype=None, device=None: theirs(shape, dtype, device)  # noqa: E731
    return [mock.patch.object(our_normal, "_standard_normal", ours), mock.patch.object(our_mvn, "_standard_normal", ours),
            mock.patch.object(their_normal, "_standard_normal", theirs), mock.patch.object(their_mvn, "_standard_normal", theirs),
            mock.patch.object(tinytorch._creation, "rand", uniform_ours), mock.patch.object(torch, "rand", uniform_theirs)]


@pytest.mark.parametrize("name", ["normal", "normal_broadcast", "log_normal", "uniform", "mvn_scale_tril", "mvn_covariance",
                                  "mvn_precision", "independent_normal", "generalized_pareto",
                                  "generalized_pareto_exponential"])
def test_rsample_matches_torch_on_the_same_noise(name):
    torch = pytest.importorskip("torch")
    case = BY_NAME[name]
    params = case.params(np.random.default_rng(0))
    ours_params, theirs_params = tensors(tinytorch, params, True), tensors(torch, params, True)
    noise = np.random.default_rng(5).uniform(0.05, 0.95, size=1000)  # valid as N(0, 1) and as U(0, 1) draws
    patches = _noise_patches(torch, noise)
    for patch in patches:
        patch.start()
    try:
        ours = case.build(tinytorch, **ours_params).rsample((3,))
        theirs = case.build(torch, **theirs_params).rsample((3,))
    finally:
        for patch in patches:
            patch.stop()
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-10)
    weights = np.random.default_rng(6).standard_normal(tuple(theirs.shape))
    (ours * tinytorch.tensor(weights)).sum().backward()
    (theirs * torch.tensor(weights)).sum().backward()
    for key, value in theirs_params.items():
        np.testing.assert_allclose(ours_params[key].grad.numpy(), value.grad.numpy(), rtol=1e-7, atol=1e-10, err_msg=key)


# -- the sampling ops under the distributions -----------------------------------------------------
def test_poisson_and_binomial_draws_have_their_moments():
    tinytorch.manual_seed(0)
    rate = tinytorch.tensor([0.5, 3.0, 20.0])
    draws = tinytorch.poisson(rate.expand(N, 3)).numpy()
    assert draws.dtype == np.float32 and (draws == np.round(draws)).all()
    np.testing.assert_allclose(draws.mean(0), rate.numpy(), rtol=0.05)
    np.testing.assert_allclose(draws.var(0), rate.numpy(), rtol=0.1)
    count, probs = tinytorch.tensor([[4.0], [30.0]]), tinytorch.tensor([0.2, 0.7])
    draws = np.stack([tinytorch.binomial(count, probs).numpy() for _ in range(4000)])
    expected = (count * probs).numpy()
    np.testing.assert_allclose(draws.mean(0), expected, rtol=0.05)
    np.testing.assert_allclose(draws.var(0), (count * probs * (1 - probs)).numpy(), rtol=0.15)
    assert (draws <= count.numpy()).all()


def test_sampling_ops_refuse_what_pytorch_refuses():
    with pytest.raises(RuntimeError, match="invalid Poisson rate, expected rate to be non-negative"):
        tinytorch.poisson(tinytorch.tensor([1.0, -1.0]))
    with pytest.raises(NotImplementedError, match="\"poisson_cpu\" not implemented for 'Long'"):
        tinytorch.poisson(tinytorch.tensor([1, 2]))
    with pytest.raises(ValueError, match="binomial only supports floating-point dtypes for count, got: Long"):
        tinytorch.binomial(tinytorch.tensor([3]), tinytorch.tensor([0.5]))
    with pytest.raises(TypeError, match="poisson\\(\\): argument 'generator' must be tinytorch.Generator"):
        tinytorch.poisson(tinytorch.ones(2), generator=3)


def test_sampling_ops_follow_a_generator():
    g = tinytorch.Generator().manual_seed(11)
    first = tinytorch.poisson(tinytorch.full((50,), 4.0), generator=g).numpy()
    g.manual_seed(11)
    np.testing.assert_array_equal(tinytorch.poisson(tinytorch.full((50,), 4.0), generator=g).numpy(), first)
