"""Gamma, Chi2, Beta, Dirichlet, StudentT, FisherSnedecor, InverseGamma and Kumaraswamy: what the
table's generic checks (their cases in cases.py, run by test_against_torch.py and test_sampling.py)
do not cover: the samplers' Kolmogorov-Smirnov distances to the CDF (StudentT, FisherSnedecor and
InverseGamma have no finite moments at the table's parameters), the implicit reparameterization gradients against aten's and against finite
differences of the inverse CDF, KL pairs, and argument validation."""

import numpy as np
import pytest

import tinytorch
from tinytorch._ops import sampling

from .cases import _d

torch = pytest.importorskip("torch")
special = pytest.importorskip("scipy.special")


# -- samples --------------------------------------------------------------------------------------
N = 20000


def _ks_distance(samples, cdf):
    """The Kolmogorov-Smirnov statistic of 1-D ``samples`` against the vectorized ``cdf``."""
    x = np.sort(samples)
    c = cdf(x)
    n = len(x)
    return max(np.max(np.arange(1, n + 1) / n - c), np.max(c - np.arange(n) / n))


# The KS statistic exceeds 1.63 / sqrt(n) with probability 1% (the seed is fixed); 2 / sqrt(n) is generous.
KS_BOUND = 2.0 / np.sqrt(N)


@pytest.mark.parametrize("dtype_name", ["float64", "float32"])
@pytest.mark.parametrize("alpha", [0.05, 0.4, 1.0, 2.5, 30.0])
def test_gamma_draws_follow_torchs_cdf(alpha, dtype_name):
    tinytorch.manual_seed(3)
    dtype = getattr(tinytorch, dtype_name)
    dist = tinytorch.distributions.Gamma(tinytorch.tensor(alpha, dtype=dtype), tinytorch.tensor(2.0, dtype=dtype))
    samples = dist.sample((N,))
    assert samples.dtype == dtype and bool((samples > 0).all())
    theirs = torch.distributions.Gamma(torch.tensor(alpha, dtype=torch.float64), torch.tensor(2.0, dtype=torch.float64))
    assert _ks_distance(samples.numpy().astype(np.float64), lambda x: theirs.cdf(torch.tensor(x)).numpy()) < KS_BOUND
    np.testing.assert_allclose(samples.numpy().mean(), alpha / 2.0, rtol=5 * np.sqrt(1 / (alpha * N)))


def test_beta_chi2_and_student_t_draws_follow_their_cdfs():
    tinytorch.manual_seed(4)
    d = tinytorch.distributions
    beta = d.Beta(tinytorch.tensor(0.7, dtype=tinytorch.float64), tinytorch.tensor(2.5, dtype=tinytorch.float64)).sample((N,))
    assert _ks_distance(beta.numpy(), lambda x: special.betainc(0.7, 2.5, x)) < KS_BOUND
    chi2 = d.Chi2(tinytorch.tensor(3.0, dtype=tinytorch.float64)).sample((N,))
    theirs = torch.distributions.Chi2(torch.tensor(3.0, dtype=torch.float64))
    assert _ks_distance(chi2.numpy(), lambda x: theirs.cdf(torch.tensor(x)).numpy()) < KS_BOUND
    t = d.StudentT(tinytorch.tensor(4.0, dtype=tinytorch.float64)).sample((N,))
    assert _ks_distance(t.numpy(), lambda x: special.stdtr(4.0, x)) < KS_BOUND
    inverse = d.InverseGamma(tinytorch.tensor(2.5, dtype=tinytorch.float64), tinytorch.tensor(1.5, dtype=tinytorch.float64)).sample((N,))
    assert _ks_distance(inverse.numpy(), lambda x: special.gammaincc(2.5, 1.5 / x)) < KS_BOUND
    kuma = d.Kumaraswamy(tinytorch.tensor(2.0, dtype=tinytorch.float64), tinytorch.tensor(3.0, dtype=tinytorch.float64)).sample((N,))
    assert _ks_distance(kuma.numpy(), lambda x: 1 - (1 - x**2.0) ** 3.0) < KS_BOUND
    f = d.FisherSnedecor(tinytorch.tensor(3.0, dtype=tinytorch.float64), tinytorch.tensor(7.0, dtype=tinytorch.float64)).sample((N,))
    assert _ks_distance(f.numpy(), lambda x: special.fdtr(3.0, 7.0, x)) < KS_BOUND


def test_dirichlet_draws_have_the_moments_and_lie_on_the_simplex():
    tinytorch.manual_seed(5)
    concentration = tinytorch.tensor([0.3, 1.0, 4.0], dtype=tinytorch.float64)
    dist = tinytorch.distributions.Dirichlet(concentration)
    samples = dist.sample((N,)).numpy()
    np.testing.assert_allclose(samples.sum(-1), 1.0, atol=1e-12)
    np.testing.assert_allclose(samples.mean(0), dist.mean.numpy(), atol=5 * np.sqrt(dist.variance.numpy().max() / N))
    np.testing.assert_allclose(samples.var(0), dist.variance.numpy(), rtol=0.1)
    # Each marginal is Beta(alpha_i, total - alpha_i).
    assert _ks_distance(samples[:, 0], lambda x: special.betainc(0.3, 5.0, x)) < KS_BOUND


def test_draws_are_reproducible_and_take_a_generator():
    dist = tinytorch.distributions.Gamma(tinytorch.tensor([0.5, 3.0]), 1.0)
    tinytorch.manual_seed(7)
    first = dist.sample((5,))
    tinytorch.manual_seed(7)
    assert np.array_equal(first.numpy(), dist.sample((5,)).numpy())
    g1, g2 = tinytorch.Generator().manual_seed(2), tinytorch.Generator().manual_seed(2)
    alpha = tinytorch.tensor([0.5, 3.0, 9.0])
    assert np.array_equal(sampling._standard_gamma(alpha, g1).numpy(), sampling._standard_gamma(alpha, g2).numpy())
    with pytest.raises(TypeError):
        sampling._standard_gamma(alpha, generator=1)
    with pytest.raises(NotImplementedError):
        sampling._standard_gamma(tinytorch.tensor([1, 2]))


def test_zero_concentration_draws_zero_as_aten():
    draws = sampling._marsaglia_tsang(np.zeros(4), np.random.default_rng(0))
    assert np.array_equal(draws, np.zeros(4))


# -- reparameterized gradients --------------------------------------------------------------------
def test_standard_gamma_grad_matches_aten_on_every_branch():
    """x < 0.8 (series), alpha > 8 near and away from the mode (saddle point), and the rational
    approximation in between, on the same (alpha, sample) values as torch._standard_gamma_grad."""
    rng = np.random.default_rng(0)
    alpha = np.concatenate([rng.uniform(0.02, 1.0, 300), rng.uniform(1.0, 8.0, 300), rng.uniform(8.0, 200.0, 300)])
    x = rng.gamma(alpha)
    x[-50:] = alpha[-50:] * rng.uniform(0.9, 1.1, 50)  # the saddle point's near-mode branch
    for dtype_name, rtol in [("float64", 1e-12), ("float32", 1e-5)]:
        a, s = alpha.astype(dtype_name), np.maximum(x, 1e-30).astype(dtype_name)
        ours = sampling._standard_gamma_grad(tinytorch.tensor(a), tinytorch.tensor(s))
        theirs = torch._standard_gamma_grad(torch.tensor(a), torch.tensor(s))
        assert ours.dtype.name == dtype_name
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=rtol, atol=1e-30)


def test_standard_gamma_grad_matches_finite_differences_of_the_inverse_cdf():
    """d x / d alpha at a fixed CDF value u: (P^-1(alpha + h, u) - P^-1(alpha - h, u)) / 2h."""
    rng = np.random.default_rng(1)
    alpha = np.concatenate([rng.uniform(0.2, 1.0, 50), rng.uniform(1.0, 8.0, 50), rng.uniform(8.0, 50.0, 50)])
    u = rng.uniform(0.02, 0.98, alpha.shape)
    x = special.gammaincinv(alpha, u)
    h = 1e-5 * alpha
    numeric = (special.gammaincinv(alpha + h, u) - special.gammaincinv(alpha - h, u)) / (2 * h)
    ours = sampling._standard_gamma_grad_array(alpha, x)
    # aten's approximations are accurate to about 5e-4 relative (the rational fit's error).
    np.testing.assert_allclose(ours, numeric, rtol=2e-3, atol=1e-6)


def test_gamma_rsample_gradient_is_the_implicit_one():
    """The rsample's gradient w.r.t. concentration and rate: grad(x0) / rate for x = x0 / rate,
    x0 ~ Gamma(alpha, 1), and -x / rate."""
    tinytorch.manual_seed(0)
    alpha = tinytorch.tensor([0.3, 1.7, 12.0], dtype=tinytorch.float64, requires_grad=True)
    rate = tinytorch.tensor([2.0, 0.5, 1.0], dtype=tinytorch.float64, requires_grad=True)
    x = tinytorch.distributions.Gamma(alpha, rate).rsample()
    x.sum().backward()
    x0 = (x * rate).detach()
    expected = torch._standard_gamma_grad(torch.tensor(alpha.detach().numpy()), torch.tensor(x0.numpy())).numpy() / rate.detach().numpy()
    np.testing.assert_allclose(alpha.grad.numpy(), expected, rtol=1e-10)
    np.testing.assert_allclose(rate.grad.numpy(), -x.detach().numpy() / rate.detach().numpy(), rtol=1e-10)


def test_gamma_rsample_has_no_second_derivative_as_torch():
    alpha = tinytorch.tensor([1.5], requires_grad=True)
    x = tinytorch.distributions.Gamma(alpha, 1.0).rsample()
    (grad,) = tinytorch.autograd.grad(x.sum(), alpha, create_graph=True)
    with pytest.raises(NotImplementedError, match="_standard_gamma_grad"):
        grad.sum().backward()


def test_dirichlet_rsample_gradient_matches_torchs_backward():
    """The same draw and upstream gradient through torch's _Dirichlet_backward."""
    from torch.distributions.dirichlet import _Dirichlet_backward

    tinytorch.manual_seed(2)
    rng = np.random.default_rng(0)
    concentration = rng.uniform(0.2, 12.0, (50, 3))
    alpha = tinytorch.tensor(concentration, requires_grad=True)
    x = tinytorch.distributions.Dirichlet(alpha).rsample()
    upstream = rng.standard_normal(x.shape)
    (x * tinytorch.tensor(upstream)).sum().backward()
    expected = _Dirichlet_backward(torch.tensor(x.detach().numpy()), torch.tensor(concentration), torch.tensor(upstream))
    np.testing.assert_allclose(alpha.grad.numpy(), expected.numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(x.detach().numpy().sum(-1), 1.0, atol=1e-12)


def test_dirichlet_grad_matches_aten_on_every_branch():
    rng = np.random.default_rng(3)
    alpha = rng.uniform(0.05, 30.0, (4000, 2))
    draws = rng.gamma(alpha)
    x = np.clip(draws[:, 0] / draws.sum(-1), 1e-12, 1 - 1e-12)
    total = alpha.sum(-1)
    ours = sampling._dirichlet_grad(tinytorch.tensor(x), tinytorch.tensor(alpha[:, 0]), tinytorch.tensor(total))
    theirs = torch._dirichlet_grad(torch.tensor(x), torch.tensor(alpha[:, 0]), torch.tensor(total))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10, atol=1e-300)


def test_beta_rsample_gradient_matches_finite_differences_of_the_inverse_cdf():
    """d x / d a and d x / d b at the draw's CDF value u = I_x(a, b), against betaincinv."""
    tinytorch.manual_seed(6)
    a0 = np.array([0.5, 1.3, 3.0, 9.0, 20.0])
    b0 = np.array([2.0, 0.7, 3.0, 8.0, 15.0])
    a = tinytorch.tensor(a0, requires_grad=True)
    b = tinytorch.tensor(b0, requires_grad=True)
    x = tinytorch.distributions.Beta(a, b).rsample()
    x.sum().backward()
    u = special.betainc(a0, b0, x.detach().numpy())
    h = 1e-6
    da = (special.betaincinv(a0 + h, b0, u) - special.betaincinv(a0 - h, b0, u)) / (2 * h)
    db = (special.betaincinv(a0, b0 + h, u) - special.betaincinv(a0, b0 - h, u)) / (2 * h)
    np.testing.assert_allclose(a.grad.numpy(), da, rtol=5e-3, atol=1e-5)
    np.testing.assert_allclose(b.grad.numpy(), db, rtol=5e-3, atol=1e-5)


def test_student_t_and_fisher_snedecor_rsample_reach_every_parameter():
    tinytorch.manual_seed(8)
    d = tinytorch.distributions
    df, loc, scale = (tinytorch.tensor([3.0, 5.0], requires_grad=True) for _ in range(3))
    d.StudentT(df, loc, scale).rsample((4,)).sum().backward()
    assert all(p.grad is not None and np.isfinite(p.grad.numpy()).all() for p in (df, loc, scale))
    np.testing.assert_allclose(loc.grad.numpy(), [4.0, 4.0])
    df1, df2 = tinytorch.tensor([3.0], requires_grad=True), tinytorch.tensor([6.0], requires_grad=True)
    d.FisherSnedecor(df1, df2).rsample((4,)).sum().backward()
    assert df1.grad is not None and df2.grad is not None


# -- KL -------------------------------------------------------------------------------------------
def _kl_pairs(L, t):
    d = _d(L)
    gamma = d.Gamma(t([0.5, 2.0, 3.0]), t([1.5, 0.7, 2.0]))
    beta = d.Beta(t([0.6, 2.0, 5.0]), t([1.2, 3.0, 0.9]))
    return [
        (gamma, d.Gamma(t([1.0, 1.5, 4.0]), t([0.5, 2.0, 1.0]))),
        (beta, d.Beta(t([1.0, 0.8, 2.0]), t([2.0, 2.0, 2.0]))),
        (d.Dirichlet(t([[0.5, 1.0, 2.0], [3.0, 1.0, 0.4]])), d.Dirichlet(t([[1.0, 1.0, 1.0], [2.0, 0.5, 0.7]]))),
        (d.Chi2(t([1.0, 3.0, 6.0])), d.Chi2(t([2.0, 2.0, 2.0]))),
        (beta, d.Exponential(t([1.0, 2.0, 0.5]))),
        (beta, gamma),
        (beta, d.Normal(t([0.0, 0.5, 1.0]), t([1.0, 0.3, 2.0]))),
        (beta, d.Uniform(t([-0.5, 0.1, 0.0]), t([1.0, 1.0, 2.0]))),
        (d.Exponential(t([1.0, 2.0, 0.5])), gamma),
        (d.Exponential(t([1.0, 2.0, 0.5])), beta),
        (gamma, beta),
        (gamma, d.Uniform(t([0.0, 0.0, 0.0]), t([1.0, 2.0, 3.0]))),
        (gamma, d.Exponential(t([1.0, 2.0, 0.5]))),
        (gamma, d.Normal(t([0.0, 0.5, 1.0]), t([1.0, 0.3, 2.0]))),
        (d.Laplace(t([0.0, 1.0, 2.0]), t([1.0, 1.0, 1.0])), gamma),
        (d.Laplace(t([0.0, 1.0, 2.0]), t([1.0, 1.0, 1.0])), beta),
        (d.Normal(t([0.0, 1.0, 2.0]), t([1.0, 1.0, 1.0])), gamma),
        (d.Normal(t([0.0, 1.0, 2.0]), t([1.0, 1.0, 1.0])), beta),
        (d.Uniform(t([0.1, 0.2, -0.1]), t([0.5, 0.9, 0.5])), beta),
        (d.Uniform(t([0.1, 0.2, -0.1]), t([0.5, 0.9, 0.5])), gamma),
    ]


def test_kl_pairs_match_torch():
    ours = _kl_pairs(tinytorch, lambda v: tinytorch.tensor(v, dtype=tinytorch.float64))
    theirs = _kl_pairs(torch, lambda v: torch.tensor(v, dtype=torch.float64))
    for (p, q), (tp, tq) in zip(ours, theirs):
        expected = torch.distributions.kl_divergence(tp, tq)
        got = tinytorch.distributions.kl_divergence(p, q)
        np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=f"KL({type(p).__name__} || {type(q).__name__})")


def test_kl_gamma_gradient_matches_torch():
    a, ta = tinytorch.tensor([0.5, 2.0], requires_grad=True), torch.tensor([0.5, 2.0], requires_grad=True)
    tinytorch.distributions.kl_divergence(tinytorch.distributions.Gamma(a, 1.5), tinytorch.distributions.Gamma(2.0, 1.0)).sum().backward()
    torch.distributions.kl_divergence(torch.distributions.Gamma(ta, 1.5), torch.distributions.Gamma(2.0, 1.0)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-5)


# -- validation -----------------------------------------------------------------------------------
BAD = [
    ("Gamma", lambda L: _d(L).Gamma(L.tensor([-1.0]), L.tensor([1.0]), validate_args=True)),
    ("Gamma", lambda L: _d(L).Gamma(L.tensor([1.0]), L.tensor([0.0]), validate_args=True)),
    ("Chi2", lambda L: _d(L).Chi2(L.tensor([-2.0]), validate_args=True)),
    ("Beta", lambda L: _d(L).Beta(L.tensor([1.0]), L.tensor([-1.0]), validate_args=True)),
    ("Dirichlet", lambda L: _d(L).Dirichlet(L.tensor([1.0, 0.0]), validate_args=True)),
    ("Dirichlet", lambda L: _d(L).Dirichlet(L.tensor(1.0))),
    ("StudentT", lambda L: _d(L).StudentT(L.tensor([0.0]), validate_args=True)),
    ("FisherSnedecor", lambda L: _d(L).FisherSnedecor(L.tensor([1.0]), L.tensor([-3.0]), validate_args=True)),
    ("InverseGamma", lambda L: _d(L).InverseGamma(L.tensor([0.0]), L.tensor([1.0]), validate_args=True)),
    ("Kumaraswamy", lambda L: _d(L).Kumaraswamy(L.tensor([1.0]), L.tensor([-1.0]), validate_args=True)),
    ("Gamma.log_prob", lambda L: _d(L).Gamma(L.tensor([1.0]), 1.0, validate_args=True).log_prob(L.tensor([-1.0]))),
    ("Beta.log_prob", lambda L: _d(L).Beta(L.tensor([1.0]), 1.0, validate_args=True).log_prob(L.tensor([1.5]))),
    ("Dirichlet.log_prob", lambda L: _d(L).Dirichlet(L.tensor([1.0, 2.0]), validate_args=True).log_prob(L.tensor([0.5, 0.6]))),
    ("Dirichlet.log_prob", lambda L: _d(L).Dirichlet(L.tensor([1.0, 2.0]), validate_args=True).log_prob(L.tensor([0.5, 0.3, 0.2]))),
]


@pytest.mark.parametrize("build", [b for _, b in BAD], ids=[f"{n}-{i}" for i, (n, _) in enumerate(BAD)])
def test_invalid_arguments_raise_as_torch(build):
    with pytest.raises(Exception) as expected:
        build(torch)
    with pytest.raises(type(expected.value)) as got:
        build(tinytorch)
    first_line = str(expected.value).split("(")[0].replace("torch.", "")
    assert str(got.value).replace("tinytorch.", "").startswith(first_line)
