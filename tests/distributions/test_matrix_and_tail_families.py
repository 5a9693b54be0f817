"""GeneralizedPareto, LKJCholesky and Wishart: what the table's generic checks (cases.py, run by
test_against_torch.py and test_sampling.py) do not reach: samples against torch on the same
noise, LKJ's marginals, Wishart's singular-sample retry, the moments' NaN regions, special
cases, float32, the exponential-family KL, and argument errors."""

import math
import warnings
from unittest import mock

import numpy as np
import pytest

import tinytorch

from .test_against_torch import _host

torch = pytest.importorskip("torch")
# torch 2.13's Wishart.rsample warns this for every sample (its check is inverted)
pytestmark = pytest.mark.filterwarnings("ignore:Singular sample detected")


def _f64(lib, values, requires_grad=False):
    return lib.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


# -- GeneralizedPareto --------------------------------------------------------------------------
def test_generalized_pareto_moments_are_nan_where_torch_has_none_with_gradients():
    """mean needs concentration < 1 and variance < 1/2; finite entries keep their gradients."""
    conc = [-0.5, 0.0, 0.45, 0.5, 0.7, 1.0, 1.5]
    results = []
    for lib in (tinytorch, torch):
        loc, scale, c = _f64(lib, [0.3] * 7, True), _f64(lib, [1.5] * 7, True), _f64(lib, conc, True)
        d = lib.distributions.GeneralizedPareto(loc, scale, c)
        mean, variance = d.mean, d.variance
        (mean.nan_to_num(0.0).sum() + variance.nan_to_num(0.0).sum()).backward()
        results.append([_host(mean), _host(variance), _host(loc.grad), _host(scale.grad), _host(c.grad)])
    assert np.isnan(results[0][0][-2:]).all() and np.isfinite(results[0][0][:-2]).all()
    assert np.isnan(results[0][1][3:]).all() and np.isfinite(results[0][1][:3]).all()
    for got, expected in zip(*results):
        np.testing.assert_allclose(got, expected, rtol=1e-12, equal_nan=True)


def test_generalized_pareto_special_cases():
    d = tinytorch.distributions
    x = _f64(tinytorch, [0.1, 0.7, 2.5])
    # concentration 0: Exponential(1 / scale), shifted by loc
    np.testing.assert_allclose(d.GeneralizedPareto(0.0, _f64(tinytorch, 2.0), 0.0).log_prob(x).numpy(),
                               d.Exponential(_f64(tinytorch, 0.5)).log_prob(x).numpy(), rtol=1e-12)
    # concentration c > 0 and loc = scale / c: Pareto(scale / c, 1 / c)
    gp = d.GeneralizedPareto(_f64(tinytorch, 2.0), _f64(tinytorch, 1.0), _f64(tinytorch, 0.5))
    y = _f64(tinytorch, [2.0, 3.0, 10.0])
    np.testing.assert_allclose(gp.log_prob(y).numpy(), d.Pareto(_f64(tinytorch, 2.0), 2.0).log_prob(y).numpy(), rtol=1e-12)
    # concentration -1: Uniform(loc, loc + scale)
    uniform = d.GeneralizedPareto(_f64(tinytorch, -1.0), _f64(tinytorch, 3.0), _f64(tinytorch, -1.0))
    z = _f64(tinytorch, [-0.5, 0.0, 1.9])
    np.testing.assert_allclose(uniform.log_prob(z).numpy(), np.full(3, -math.log(3.0)), rtol=1e-12)
    np.testing.assert_allclose(uniform.cdf(z).numpy(), (z.numpy() + 1) / 3, rtol=1e-12)
    assert float(uniform.support.upper_bound) == pytest.approx(2.0)


def test_generalized_pareto_icdf_inverts_cdf_and_survival_functions_match_torch():
    loc, scale, c = [0.2, -1.0, 0.5], [1.0, 0.5, 2.0], [-0.3, 0.0, 0.4]
    ours = tinytorch.distributions.GeneralizedPareto(*(_f64(tinytorch, v) for v in (loc, scale, c)))
    u = _f64(tinytorch, [[0.1, 0.5, 0.9], [0.3, 0.02, 0.99]])
    x = ours.icdf(u)
    np.testing.assert_allclose(ours.cdf(x).numpy(), u.numpy(), rtol=1e-10)
    torch.set_default_dtype(torch.float64)  # torch's log_prob/cdf need it for float64 parameters
    try:
        theirs = torch.distributions.GeneralizedPareto(*(torch.tensor(v, dtype=torch.float64) for v in (loc, scale, c)))
        xt = torch.tensor(x.numpy())
        for name in ("log_survival_function", "log_cdf", "cdf", "log_prob"):
            np.testing.assert_allclose(getattr(ours, name)(x).numpy(), getattr(theirs, name)(xt).numpy(), rtol=1e-12,
                                       err_msg=name)
    finally:
        torch.set_default_dtype(torch.float32)


def test_generalized_pareto_float64_log_prob_works_where_torch_raises():
    """torch 2.13 compares the concentration with a float32 ``torch.tensor(0.0)`` (a documented
    difference: tinytorch scores float64 values)."""
    args = [0.0, 1.0, 0.2]
    with pytest.raises(RuntimeError, match="Double did not match Float"):
        torch.distributions.GeneralizedPareto(*(torch.tensor(a, dtype=torch.float64) for a in args)).log_prob(
            torch.tensor(1.0, dtype=torch.float64))
    got = tinytorch.distributions.GeneralizedPareto(*(_f64(tinytorch, a) for a in args)).log_prob(_f64(tinytorch, 1.0))
    assert got.dtype == tinytorch.float64
    np.testing.assert_allclose(float(got), -6.0 * math.log1p(0.2), rtol=1e-12)  # -(1/c + 1) log(1 + c z)


def test_generalized_pareto_float32_matches_torch():
    params = [np.array(v, dtype=np.float32) for v in ([0.1, -0.5], [2.0, 0.7], [0.3, -0.2])]
    ours = tinytorch.distributions.GeneralizedPareto(*(tinytorch.tensor(p) for p in params))
    theirs = torch.distributions.GeneralizedPareto(*(torch.tensor(p) for p in params))
    torch.manual_seed(0)
    x = theirs.sample((4,))
    assert ours.sample((2,)).dtype == tinytorch.float32
    for name in ("log_prob", "cdf"):
        got = getattr(ours, name)(tinytorch.tensor(x.numpy()))
        assert got.dtype == tinytorch.float32
        np.testing.assert_allclose(_host(got), _host(getattr(theirs, name)(x)), rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(_host(ours.entropy()), _host(theirs.entropy()), rtol=1e-6)


@pytest.mark.parametrize("make", [
    lambda L: L.distributions.GeneralizedPareto(0.0, L.tensor([1.0, 0.0]), 0.1),
    lambda L: L.distributions.GeneralizedPareto(L.tensor(float("nan")), 1.0, 0.1),
    lambda L: L.distributions.GeneralizedPareto(L.tensor(1.0), 1.0, 0.1).log_prob(L.tensor(0.5)),  # below loc
    lambda L: L.distributions.GeneralizedPareto(L.tensor(0.0), 1.0, -0.5).log_prob(L.tensor(2.5)),  # above loc - scale / c
    lambda L: L.distributions.GeneralizedPareto(0.0, 1.0, "a"),
], ids=["scale", "nan loc", "below loc", "above the bound", "not a number"])
def test_generalized_pareto_errors_as_torch(make):
    with pytest.raises(Exception) as theirs:
        make(torch)
    with pytest.raises(type(theirs.value)) as ours:
        make(tinytorch)
    assert str(ours.value).split("(")[0] == str(theirs.value).split("(")[0].replace("torch.", "tinytorch.")


# -- LKJCholesky ----------------------------------------------------------------------------------
def _randn_returning(lib, draws):
    """Make ``lib``'s randn (LKJ's and Wishart's normals) return the first ``draws``."""
    module = tinytorch._creation if lib is tinytorch else torch

    def fake(*size, dtype=None, device=None, **kwargs):
        shape = tuple(size[0]) if len(size) == 1 and not isinstance(size[0], int) else tuple(size)
        return lib.tensor(draws[: int(np.prod(shape))].reshape(shape), dtype=dtype)

    return mock.patch.object(module, "randn", fake)


def test_lkj_sample_is_torch_onion_method_on_the_same_noise():
    conc = np.array([0.5, 2.0])
    rng = np.random.default_rng(0)
    beta_draws = rng.uniform(0.05, 0.95, size=(3, 2, 4))
    normal_draws = rng.standard_normal(3 * 2 * 16)
    results = []
    for lib in (tinytorch, torch):
        dist = lib.distributions.LKJCholesky(4, lib.tensor(conc))
        fixed_beta = lib.tensor(beta_draws)
        with mock.patch.object(type(dist._beta), "sample", lambda self, shape=(), draws=fixed_beta: draws), \
                _randn_returning(lib, normal_draws):
            results.append(_host(dist.sample((3,))))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12, atol=1e-15)
    assert results[0].shape == (3, 2, 4, 4)


@pytest.mark.parametrize("dim,eta", [(3, 0.5), (3, 2.0), (5, 1.0)])
def test_lkj_first_correlation_has_its_beta_marginal(dim, eta):
    """Under LKJ, each off-diagonal correlation of L L^T is 2 Beta(b, b) - 1 with b = eta - 1 +
    dim / 2: mean 0, variance 1 / (2 eta + dim - 1). PyTorch's onion sampler (which tinytorch
    follows draw for draw) gets that for the first correlation only: the later rows' come out
    about 12-25% wider in torch too, so those are compared with torch's samples below."""
    tinytorch.manual_seed(0)
    dist = tinytorch.distributions.LKJCholesky(dim, tinytorch.tensor(eta, dtype=tinytorch.float64))
    L = dist.sample((20000,))
    assert bool(dist.support.check(L).all())
    corr = (L @ L.mT).numpy()
    np.testing.assert_allclose(np.diagonal(corr, axis1=-2, axis2=-1), 1.0, rtol=1e-12)
    off = corr[:, np.tril_indices(dim, -1)[0], np.tril_indices(dim, -1)[1]]
    variance = 1 / (2 * eta + dim - 1)
    np.testing.assert_allclose(off.mean(0), 0.0, atol=5 * math.sqrt(variance / 20000))
    np.testing.assert_allclose(off[:, 0].var(), variance, rtol=0.05)


@pytest.mark.parametrize("dim,eta", [(3, 0.7), (5, 2.0)])
def test_lkj_samples_match_torch_samples_statistically(dim, eta):
    """Our draws and torch's agree in the mean and spread of every entry of L and of L L^T."""
    tinytorch.manual_seed(1)
    torch.manual_seed(1)
    ours = tinytorch.distributions.LKJCholesky(dim, eta).sample((20000,)).numpy().astype(np.float64)
    theirs = torch.distributions.LKJCholesky(dim, eta).sample((20000,)).numpy().astype(np.float64)
    for transform in (lambda L: L, lambda L: L @ np.swapaxes(L, -1, -2)):
        a, b = transform(ours), transform(theirs)
        np.testing.assert_allclose(a.mean(0), b.mean(0), atol=0.02)
        np.testing.assert_allclose(a.std(0), b.std(0), atol=0.015)


def test_lkj_uniform_density_is_constant_in_two_dimensions():
    """dim 2, eta 1: the correlation is uniform on (-1, 1) (density 1/2), and L's log-density
    is log(1/2) plus the Jacobian's log L_22."""
    r = np.array([-0.9, 0.0, 0.6])
    L = np.zeros((3, 2, 2))
    L[:, 0, 0], L[:, 1, 0], L[:, 1, 1] = 1.0, r, np.sqrt(1 - r**2)
    got = tinytorch.distributions.LKJCholesky(2, 1.0).log_prob(tinytorch.tensor(L, dtype=tinytorch.float32)).numpy()
    np.testing.assert_allclose(got, np.log(0.5) + np.zeros(3), atol=1e-6)


@pytest.mark.parametrize("make", [
    lambda L: L.distributions.LKJCholesky(1, 1.0),
    lambda L: L.distributions.LKJCholesky(3, L.tensor([1.0, -0.5])),
    lambda L: L.distributions.LKJCholesky(2, 1.0).log_prob(L.tensor([[1.0, 0.0], [0.5, 0.5]])),  # rows not unit
    lambda L: L.distributions.LKJCholesky(2, 1.0).log_prob(L.eye(3)),
    lambda L: L.distributions.LKJCholesky(3, 1.0).rsample(),
], ids=["dim 1", "concentration", "not a correlation factor", "event shape", "no rsample"])
def test_lkj_errors_as_torch(make):
    with pytest.raises(Exception) as theirs:
        make(torch)
    with pytest.raises(type(theirs.value)) as ours:
        make(tinytorch)
    assert str(ours.value).split("(")[0] == str(theirs.value).split("(")[0].replace("torch.", "tinytorch.")


# -- Wishart ----------------------------------------------------------------------------------------
class _FixedChi2:
    """Stands in for a Wishart's chi-squared draws (both libraries), so samples can be compared."""

    def __init__(self, lib, draws):
        self.lib, self.draws = lib, draws

    def rsample(self, sample_shape=()):
        return self.lib.tensor(self.draws)


@pytest.mark.parametrize("param", ["scale_tril", "covariance_matrix", "precision_matrix"])
def test_wishart_rsample_is_torch_bartlett_decomposition_on_the_same_noise(param):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(2, 3, 3))
    spd = a @ np.swapaxes(a, -1, -2) / 3 + np.eye(3)
    matrix = np.linalg.cholesky(spd) if param == "scale_tril" else spd
    chi2 = rng.uniform(0.5, 4.0, size=(4, 2, 3))
    normals = rng.standard_normal(4 * 2 * 3)
    weights = rng.standard_normal((4, 2, 3, 3))
    results = []
    for lib in (tinytorch, torch):
        leaf = lib.tensor(matrix, requires_grad=True)
        dist = lib.distributions.Wishart(lib.tensor(5.0, dtype=lib.float64), **{param: leaf})
        dist._dist_chi2 = _FixedChi2(lib, chi2)
        with _randn_returning(lib, normals):
            # torch 2.13's rsample always redraws (its singular check is inverted), and then its
            # backward fails for a non-empty sample_shape: its Bartlett step is the oracle
            sample = dist.rsample((4,)) if lib is tinytorch else dist._bartlett_sampling(torch.Size((4,)))
        (sample * lib.tensor(weights)).sum().backward()
        results.append((_host(sample), _host(leaf.grad)))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-9, atol=1e-12)


def test_wishart_rsample_gradient_reaches_df_as_torch_reparameterizes_it():
    """d sample / d df goes through the chi-squared draws (Gamma's implicit reparameterization),
    so its average is d E[sample] / d df: for Sigma = I_3, E[trace] = 3 df, a gradient of 3."""
    tinytorch.manual_seed(0)
    df = tinytorch.tensor(4.0, dtype=tinytorch.float64, requires_grad=True)
    sample = tinytorch.distributions.Wishart(df, covariance_matrix=tinytorch.eye(3, dtype=tinytorch.float64)).rsample((20000,))
    (sample.diagonal(dim1=-2, dim2=-1).sum() / 20000).backward()
    np.testing.assert_allclose(float(df.grad), 3.0, rtol=0.03)


def test_wishart_redraws_singular_samples_with_a_warning():
    dist = tinytorch.distributions.Wishart(tinytorch.tensor([4.0, 5.0], dtype=tinytorch.float64),
                                           covariance_matrix=tinytorch.eye(2, dtype=tinytorch.float64))
    good = dist._bartlett_sampling
    calls = []

    def first_singular(sample_shape=()):
        calls.append(tuple(sample_shape))
        sample = good(sample_shape)
        if len(calls) == 1:  # the first draw of sample 1: a rank-one matrix in batch entry 0
            sample = sample.clone()
            sample[1, 0] = tinytorch.ones(2, 2, dtype=tinytorch.float64)
        return sample

    with mock.patch.object(dist, "_bartlett_sampling", first_singular), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sample = dist.rsample((3,))
    assert calls == [(3,), (1,)]  # one redraw, of the one singular sample
    assert [str(w.message) for w in caught] == ["Singular sample detected."]
    assert bool(dist.support.check(sample).all())
    with warnings.catch_warnings():  # a sample that is fine draws once, silently (torch 2.13 warns)
        warnings.simplefilter("error")
        dist.rsample((3,))


def test_wishart_redraws_a_single_singular_sample_keeping_its_gradient():
    cov = tinytorch.eye(2, dtype=tinytorch.float64, requires_grad=True)
    dist = tinytorch.distributions.Wishart(3.0, covariance_matrix=cov)
    good, calls = dist._bartlett_sampling, []

    def first_singular(sample_shape=()):
        calls.append(tuple(sample_shape))
        return good(sample_shape) * 0 if not calls[1:] else good(sample_shape)

    with mock.patch.object(dist, "_bartlett_sampling", first_singular), pytest.warns(UserWarning, match="Singular"):
        sample = dist.rsample()
    assert calls == [(), (1,)] and tuple(sample.shape) == (2, 2) and bool(dist.support.check(sample))
    sample.trace().backward()
    assert cov.grad is not None and float(cov.grad.abs().sum()) > 0


def test_wishart_sample_moments_for_a_batch_of_df_and_scale():
    """Mean df Sigma and variance df (Sigma_ij^2 + Sigma_ii Sigma_jj), entry by entry."""
    tinytorch.manual_seed(2)
    cov = tinytorch.tensor([[2.0, 0.5], [0.5, 1.0]], dtype=tinytorch.float64)
    dist = tinytorch.distributions.Wishart(tinytorch.tensor([2.5, 8.0], dtype=tinytorch.float64), covariance_matrix=cov)
    samples = dist.sample((40000,)).numpy()
    np.testing.assert_allclose(samples.mean(0), dist.mean.numpy(), rtol=0.03)
    np.testing.assert_allclose(samples.var(0), dist.variance.numpy(), rtol=0.1)


def test_wishart_moments_with_a_number_df_and_batched_matrices():
    """torch 2.13's mean/mode/variance view a number df (0-d) as the batch: a RuntimeError there;
    tinytorch broadcasts it (a documented difference)."""
    scale_tril = np.tril(np.random.default_rng(0).uniform(0.5, 1.5, size=(2, 3, 3)))
    with pytest.raises(RuntimeError, match="is invalid for input of size 1"):
        _ = torch.distributions.Wishart(5.0, scale_tril=torch.tensor(scale_tril)).mean
    batched = tinytorch.distributions.Wishart(5.0, scale_tril=tinytorch.tensor(scale_tril))
    df = tinytorch.tensor([5.0, 5.0], dtype=tinytorch.float64)
    expected = tinytorch.distributions.Wishart(df, scale_tril=tinytorch.tensor(scale_tril))
    for name in ("mean", "mode", "variance"):
        np.testing.assert_allclose(getattr(batched, name).numpy(), getattr(expected, name).numpy(), rtol=1e-12)
    theirs = torch.distributions.Wishart(torch.tensor([5.0, 5.0], dtype=torch.float64), scale_tril=torch.tensor(scale_tril))
    np.testing.assert_allclose(batched.variance.numpy(), theirs.variance.numpy(), rtol=1e-12)


def test_wishart_float32_matches_torch():
    cov = np.array([[2.0, 0.3], [0.3, 1.0]], dtype=np.float32)
    ours = tinytorch.distributions.Wishart(tinytorch.tensor([3.0, 6.0]), covariance_matrix=tinytorch.tensor(cov))
    theirs = torch.distributions.Wishart(torch.tensor([3.0, 6.0]), covariance_matrix=torch.tensor(cov))
    torch.manual_seed(0)
    x = theirs.sample((3,))
    got = ours.log_prob(tinytorch.tensor(x.numpy()))
    assert got.dtype == tinytorch.float32 and ours.sample().dtype == tinytorch.float32
    np.testing.assert_allclose(_host(got), _host(theirs.log_prob(x)), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(_host(ours.entropy()), _host(theirs.entropy()), rtol=1e-5)


def test_wishart_kl_goes_through_the_exponential_family_as_torch():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(2, 3, 3))
    cov_p, cov_q = a[0] @ a[0].T / 3 + np.eye(3), a[1] @ a[1].T / 3 + np.eye(3)
    results = []
    for lib in (tinytorch, torch):
        leaves = [lib.tensor(v, requires_grad=True) for v in (np.array([3.5, 6.0]), cov_p, np.array(4.0), cov_q)]
        p = lib.distributions.Wishart(leaves[0], covariance_matrix=leaves[1])
        q = lib.distributions.Wishart(leaves[2], covariance_matrix=leaves[3])
        kl = lib.distributions.kl_divergence(p, q)
        (kl * lib.tensor([1.0, -0.5])).sum().backward()
        # torch detaches p's natural parameters here: gradients reach q's only
        results.append([_host(kl)] + [None if leaf.grad is None else _host(leaf.grad) for leaf in leaves])
    assert (results[0][0] > 0).all()
    assert [g is None for g in results[0]] == [g is None for g in results[1]] == [False, True, True, False, False]
    for got, expected in zip(*results):
        if expected is not None:
            np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-10)


def _eye(L, n=2):
    return L.eye(n, dtype=L.float64)


@pytest.mark.parametrize("make", [
    lambda L: L.distributions.Wishart(L.tensor(3.0)),
    lambda L: L.distributions.Wishart(L.tensor(3.0), covariance_matrix=_eye(L), scale_tril=_eye(L)),
    lambda L: L.distributions.Wishart(L.tensor(3.0), covariance_matrix=L.ones(2)),
    lambda L: L.distributions.Wishart(L.tensor([3.0, 0.5]), covariance_matrix=_eye(L)),
    lambda L: L.distributions.Wishart(2.0, covariance_matrix=L.tensor([[1.0, 2.0], [2.0, 1.0]], dtype=L.float64)),
    lambda L: L.distributions.Wishart(2.0, scale_tril=L.tensor([[1.0, 1.0], [0.0, 1.0]], dtype=L.float64)),
    lambda L: L.distributions.Wishart(3.0, covariance_matrix=_eye(L)).log_prob(-_eye(L)),
    lambda L: L.distributions.Wishart(3.0, covariance_matrix=_eye(L)).log_prob(_eye(L, 3)),
], ids=["no matrix", "two matrices", "1-d matrix", "df too small", "not positive-definite", "not lower",
        "value not positive-definite", "event shape"])
def test_wishart_errors_as_torch(make):
    with pytest.raises(Exception) as theirs:
        make(torch)
    with pytest.raises(type(theirs.value)) as ours:
        make(tinytorch)
    assert str(ours.value).split("(")[0].split("=")[0] == str(theirs.value).split("(")[0].split("=")[0].replace(
        "torch.", "tinytorch.")


def test_wishart_warns_of_low_df_as_torch():
    for lib in (tinytorch, torch):
        with pytest.warns(UserWarning, match="Low df values detected"):
            lib.distributions.Wishart(lib.tensor(1.5, dtype=lib.float64), covariance_matrix=_eye(lib))
