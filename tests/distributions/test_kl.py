"""kl_divergence against torch for every closed form between the table's families, with
gradients; PyTorch's NotImplementedError where none exists; register_kl's dispatch."""

import warnings

import numpy as np
import pytest

import tinytorch
from tinytorch.distributions import kl as our_kl

from .cases import BY_NAME, tensors

torch = pytest.importorskip("torch")

# (p, q): names of table cases (parameters drawn with different seeds, so p and q differ)
PAIRS = [
    ("normal", "normal"), ("normal_broadcast", "normal"), ("bernoulli_probs", "bernoulli_probs"),
    ("bernoulli_logits", "bernoulli_logits"), ("binomial_probs", "binomial_probs"), ("categorical_probs", "categorical_probs"),
    ("categorical_logits", "categorical_logits"), ("one_hot_categorical_probs", "one_hot_categorical_probs"),
    ("exponential", "exponential"), ("laplace", "laplace"), ("poisson", "poisson"), ("uniform", "uniform"),
    ("mvn_scale_tril", "mvn_scale_tril"), ("mvn_covariance", "mvn_scale_tril"), ("mvn_scale_tril", "mvn_covariance"),
    ("mvn_precision", "mvn_precision"),
    ("independent_normal", "independent_normal"), ("log_normal", "log_normal"),
    ("bernoulli_probs", "poisson_matching"), ("exponential", "normal"), ("laplace", "normal"), ("normal", "laplace"),
    ("uniform", "normal_uniform"), ("uniform_positive", "exponential_uniform"), ("normal", "exponential"), ("normal", "uniform_normal"),
    ("laplace", "exponential"), ("laplace", "uniform_laplace"), ("exponential", "uniform_exponential"),
    ("poisson", "bernoulli_poisson"), ("poisson", "binomial_poisson"),
]


def _extra_cases():
    """Cases with the batch shapes the mixed pairs need."""
    from .cases import Case, _positive

    d = lambda L: L.distributions  # noqa: E731
    return {
        "poisson_matching": Case("poisson", lambda L, rate: d(L).Poisson(rate), lambda rng: {"rate": _positive(rng, (2, 3))}),
        "normal_uniform": Case("normal", lambda L, loc, scale: d(L).Normal(loc, scale),
                               lambda rng: {"loc": rng.normal(size=(4,)), "scale": _positive(rng, (4,))}),
        "uniform_positive": Case("uniform", lambda L, low, width: d(L).Uniform(low, low + width),
                                 lambda rng: {"low": rng.uniform(-0.5, 1, (2, 3)), "width": _positive(rng, (2, 3))}),
        "exponential_uniform": Case("exponential", lambda L, rate: d(L).Exponential(rate), lambda rng: {"rate": _positive(rng, (2, 3))}),
        "uniform_normal": Case("uniform", lambda L, low, width: d(L).Uniform(low, low + width),
                               lambda rng: {"low": rng.normal(size=(2, 3)), "width": _positive(rng, (2, 3))}),
        "uniform_laplace": Case("uniform", lambda L, low, width: d(L).Uniform(low, low + width),
                                lambda rng: {"low": rng.normal(size=(2, 3)), "width": _positive(rng, (2, 3))}),
        "uniform_exponential": Case("uniform", lambda L, low, width: d(L).Uniform(low, low + width),
                                    lambda rng: {"low": rng.normal(size=(2, 3)), "width": _positive(rng, (2, 3))}),
        "bernoulli_poisson": Case("bernoulli", lambda L, probs: d(L).Bernoulli(probs=probs), lambda rng: {"probs": rng.uniform(0.1, 0.9, (4,))}),
        "binomial_poisson": Case("binomial", lambda L, probs: d(L).Binomial(3, probs=probs), lambda rng: {"probs": rng.uniform(0.1, 0.9, (4,))}),
    }


CASES = {**BY_NAME, **_extra_cases()}


def _both(name, seed):
    case = CASES[name]
    params = case.params(np.random.default_rng(seed))
    ours, theirs = tensors(tinytorch, params, True), tensors(torch, params, True)
    return case.build(tinytorch, **ours), case.build(torch, **theirs), ours, theirs


@pytest.mark.parametrize("p_name, q_name", PAIRS, ids=[f"{p}-{q}" for p, q in PAIRS])
def test_kl_matches_torch(p_name, q_name):
    p_ours, p_theirs, p_params_ours, p_params_theirs = _both(p_name, 0)
    q_ours, q_theirs, q_params_ours, q_params_theirs = _both(q_name, 1)
    expected = torch.distributions.kl_divergence(p_theirs, q_theirs)
    got = tinytorch.distributions.kl_divergence(p_ours, q_ours)
    assert tuple(got.shape) == tuple(expected.shape)
    np.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=1e-7, atol=1e-9)
    if not (expected.requires_grad and np.isfinite(expected.detach().numpy()).all()):
        return
    weights = np.random.default_rng(3).standard_normal(tuple(expected.shape))
    (got * tinytorch.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    for ours, theirs in ((p_params_ours, p_params_theirs), (q_params_ours, q_params_theirs)):
        for key, value in theirs.items():
            if getattr(value, "grad", None) is not None:
                np.testing.assert_allclose(ours[key].grad.numpy(), value.grad.numpy(), rtol=1e-6, atol=1e-9, err_msg=key)


def test_kl_is_zero_from_a_distribution_to_itself_and_positive_otherwise():
    for name in ["normal", "categorical_logits", "mvn_covariance", "laplace", "poisson", "binomial_probs"]:
        p, _, _, _ = _both(name, 0)
        q, _, _, _ = _both(name, 1)
        np.testing.assert_allclose(tinytorch.distributions.kl_divergence(p, p).detach().numpy(), 0.0, atol=1e-9)
        assert (tinytorch.distributions.kl_divergence(p, q).detach().numpy() > 0).all()


def test_kl_matches_a_monte_carlo_estimate():
    """E_p[log p - log q] from 200,000 samples, for a pair with no shared formula to lean on."""
    d = tinytorch.distributions
    p, q = d.Laplace(tinytorch.tensor(0.3), tinytorch.tensor(0.8)), d.Normal(tinytorch.tensor(-0.2), tinytorch.tensor(1.5))
    tinytorch.manual_seed(0)
    x = p.sample((200000,))
    estimate = (p.log_prob(x) - q.log_prob(x)).mean().item()
    assert abs(estimate - d.kl_divergence(p, q).item()) < 0.01


def test_bregman_divergence_of_exponential_families():
    """The generic ExponentialFamily KL and entropy (autograd through the log-normalizer) agree
    with the closed forms."""
    d = tinytorch.distributions
    for p, q in [(d.Normal(tinytorch.tensor([0.3, -1.0]), tinytorch.tensor([0.7, 2.0])), d.Normal(tinytorch.tensor([1.0, 0.0]), tinytorch.tensor([1.5, 0.5]))),
                 (d.Exponential(tinytorch.tensor([0.5, 3.0])), d.Exponential(tinytorch.tensor([2.0, 1.0]))),
                 (d.Bernoulli(probs=tinytorch.tensor([0.2, 0.9])), d.Bernoulli(probs=tinytorch.tensor([0.6, 0.4]))),
                 (d.Poisson(tinytorch.tensor([0.5, 4.0])), d.Poisson(tinytorch.tensor([2.0, 1.0])))]:
        np.testing.assert_allclose(our_kl._kl_expfamily_expfamily(p, q).detach().numpy(),
                                   d.kl_divergence(p, q).detach().numpy(), rtol=1e-5)
        if not isinstance(p, d.Poisson):
            np.testing.assert_allclose(d.ExponentialFamily.entropy(p).detach().numpy(), p.entropy().detach().numpy(), rtol=1e-5)
    with pytest.raises(NotImplementedError, match="cannot be computed using Bregman divergences"):
        our_kl._kl_expfamily_expfamily(d.Normal(0.0, 1.0), d.Exponential(1.0))


def test_no_closed_form_is_pytorchs_not_implemented_error():
    for lib in (torch, tinytorch):
        d = lib.distributions
        with pytest.raises(NotImplementedError, match="No KL\\(p \\|\\| q\\) is implemented for p type Normal and q type Categorical"):
            d.kl_divergence(d.Normal(0.0, 1.0), d.Categorical(logits=lib.zeros(2)))
        with pytest.raises(NotImplementedError, match="q.total_count > p.total_count is not implemented"):
            d.kl_divergence(d.Binomial(2, probs=lib.tensor([0.5])), d.Binomial(3, probs=lib.tensor([0.5])))
        with pytest.raises(NotImplementedError):
            d.kl_divergence(d.Independent(d.Normal(lib.zeros(2, 2), 1.0), 1), d.Independent(d.Normal(lib.zeros(2, 2), 1.0), 2))


def test_binomial_kl_is_infinite_where_q_has_fewer_trials():
    d = tinytorch.distributions
    kl = d.kl_divergence(d.Binomial(tinytorch.tensor([3.0, 5.0]), probs=tinytorch.tensor([0.5, 0.5])),
                         d.Binomial(tinytorch.tensor([3.0, 4.0]), probs=tinytorch.tensor([0.4, 0.4])))
    assert np.isfinite(kl[0].item()) and kl[1].item() == np.inf


@pytest.fixture
def registry():
    saved, memo = dict(our_kl._KL_REGISTRY), dict(our_kl._KL_MEMOIZE)
    yield
    our_kl._KL_REGISTRY.clear()
    our_kl._KL_REGISTRY.update(saved)
    our_kl._KL_MEMOIZE.clear()
    our_kl._KL_MEMOIZE.update(memo)


def test_register_kl_dispatches_to_the_most_specific_pair(registry):
    d = tinytorch.distributions

    class Sharp(d.Normal):
        pass

    p, q = Sharp(0.0, 1.0), d.Normal(1.0, 1.0)
    assert d.kl_divergence(p, q).item() == pytest.approx(0.5)  # inherits Normal-Normal

    @d.register_kl(Sharp, d.Normal)
    def _sharp_normal(p, q):
        return tinytorch.tensor(-1.0)

    assert d.kl_divergence(p, q).item() == -1.0  # the memo was cleared
    assert d.kl_divergence(d.Normal(0.0, 1.0), q).item() == pytest.approx(0.5)

    @d.register_kl(d.Normal, Sharp)
    def _normal_sharp(p, q):
        return tinytorch.tensor(-2.0)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        d.kl_divergence(Sharp(0.0, 1.0), Sharp(1.0, 1.0))
    assert any(issubclass(w.category, RuntimeWarning) and "Ambiguous kl_divergence(Sharp, Sharp)" in str(w.message) for w in caught)


def test_register_kl_takes_distribution_types():
    with pytest.raises(TypeError, match="Expected type_p to be a Distribution subclass"):
        tinytorch.distributions.register_kl(int, tinytorch.distributions.Normal)
