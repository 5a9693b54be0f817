"""NegativeBinomial, ContinuousBernoulli and VonMises: what the table's generic checks (their
cases in cases.py, run by test_against_torch.py and test_sampling.py) do not cover: float32, the
von Mises' circular moments and density, reparameterized samples as the icdf of the same noise,
the ContinuousBernoulli KL pairs, and argument errors."""

import math

import numpy as np
import pytest

import tinytorch

from .cases import BY_NAME
from .test_against_torch import _host

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("name", ["negative_binomial_probs", "continuous_bernoulli_probs", "continuous_bernoulli_logits",
                                  "von_mises"])
def test_float32_log_prob_and_entropy(name):
    params = BY_NAME[name].params(np.random.default_rng(0))
    params = {k: np.asarray(v, dtype=np.float32) for k, v in params.items()}
    ours = BY_NAME[name].build(tinytorch, **{k: tinytorch.tensor(v) for k, v in params.items()})
    theirs = BY_NAME[name].build(torch, **{k: torch.tensor(v) for k, v in params.items()})
    torch.manual_seed(0)
    value = theirs.sample((3,))
    got = ours.log_prob(tinytorch.tensor(value.numpy()))
    assert got.dtype == tinytorch.float32
    np.testing.assert_allclose(_host(got), _host(theirs.log_prob(value)), rtol=2e-5, atol=1e-5)
    assert ours.sample((2,)).dtype == tinytorch.float32
    np.testing.assert_allclose(_host(ours.mean), _host(theirs.mean), rtol=2e-5, atol=1e-6)
    # the closed-form variance cancels badly in float32 just outside the Taylor region (in torch too)
    np.testing.assert_allclose(_host(ours.variance), _host(theirs.variance), rtol=2e-5, atol=2e-5)
    if "bernoulli" in name:  # torch's NegativeBinomial and VonMises have no entropy
        np.testing.assert_allclose(_host(ours.entropy()), _host(theirs.entropy()), rtol=2e-5, atol=1e-5)


def _f64(values):
    return tinytorch.tensor(values, dtype=tinytorch.float64)


def test_von_mises_samples_have_the_circular_mean_and_variance():
    tinytorch.manual_seed(0)
    loc, kappa = _f64([0.5, 3.0, -1.0, 2.0]), _f64([1e-6, 1.0, 4.0, 30.0])
    dist = tinytorch.distributions.VonMises(loc, kappa)
    samples = dist.sample((40000,)).numpy()
    assert samples.dtype == np.float64 and (samples >= -math.pi).all() and (samples < math.pi).all()
    resultant = np.exp(1j * samples).mean(0)
    np.testing.assert_allclose(1 - np.abs(resultant), dist.variance.numpy(), atol=0.01)
    confident = kappa.numpy() >= 1  # the mean angle is undefined as kappa -> 0
    mean_angle = np.angle(resultant[confident] * np.exp(-1j * loc.numpy()[confident]))
    np.testing.assert_allclose(mean_angle, 0.0, atol=0.03)
    # float32 parameters: sampled in float64 internally, returned as float32
    assert tinytorch.distributions.VonMises(0.0, tinytorch.tensor([2.0])).sample((3,)).dtype == tinytorch.float32


def test_von_mises_sample_histogram_matches_its_density():
    tinytorch.manual_seed(1)
    dist = tinytorch.distributions.VonMises(_f64(1.0), _f64(2.0))
    samples = dist.sample((50000,)).numpy()
    edges = np.linspace(-math.pi, math.pi, 13)
    counts = np.histogram(samples, edges)[0] / 50000
    mids = (edges[:-1] + edges[1:]) / 2
    density = np.exp(dist.log_prob(_f64(mids)).numpy()) * (edges[1] - edges[0])
    np.testing.assert_allclose(counts, density, atol=0.01)


def test_continuous_bernoulli_rsample_is_icdf_of_the_same_noise_with_torch_gradients():
    probs = np.array([0.1, 0.4995, 0.7])
    ours_p = tinytorch.tensor(probs, requires_grad=True)
    theirs_p = torch.tensor(probs, requires_grad=True)
    tinytorch.manual_seed(3)
    sample = tinytorch.distributions.ContinuousBernoulli(ours_p).rsample((5,))
    tinytorch.manual_seed(3)
    noise = tinytorch.rand((5, 3), dtype=tinytorch.float64).numpy()  # the uniforms rsample drew
    expected = torch.distributions.ContinuousBernoulli(theirs_p).icdf(torch.tensor(noise))
    np.testing.assert_allclose(_host(sample), _host(expected), rtol=1e-12)
    sample.sum().backward()
    expected.sum().backward()
    assert np.abs(_host(ours_p.grad)).sum() > 0
    np.testing.assert_allclose(_host(ours_p.grad), _host(theirs_p.grad), rtol=1e-9)


def _pair(name, lib, params):
    d = lib.distributions
    t = {k: lib.tensor(v, requires_grad=True) for k, v in params.items()}
    return t, {
        "cb": lambda: d.ContinuousBernoulli(t["p"]),
        "cb2": lambda: d.ContinuousBernoulli(logits=t["l"]),
        "beta": lambda: d.Beta(t["a"], t["b"]),
        "exp": lambda: d.Exponential(t["rate"]),
        "normal": lambda: d.Normal(t["loc"], t["scale"]),
        "uniform": lambda: d.Uniform(t["low"], t["high"]),
        "gamma": lambda: d.Gamma(t["a"], t["b"]),
        "gumbel": lambda: d.Gumbel(t["loc"], t["scale"]),
        "laplace": lambda: d.Laplace(t["loc"], t["scale"]),
        "pareto": lambda: d.Pareto(t["scale"], t["a"]),
    }[name]()


KL_PARAMS = {
    "p": np.array([0.1, 0.4995, 0.8, 0.3]), "l": np.array([1.5, -0.3, 0.001, -2.0]),
    "a": np.array([0.7, 2.0, 3.0, 1.2]), "b": np.array([1.5, 0.8, 2.0, 1.0]),
    "rate": np.array([0.5, 1.0, 2.0, 3.0]), "loc": np.array([0.2, -1.0, 0.5, 2.0]),
    "scale": np.array([0.5, 1.0, 2.0, 0.3]),
    "low": np.array([0.1, -0.5, 0.2, 0.0]), "high": np.array([0.6, 1.5, 1.0, 1.2]),
}
KL_PAIRS = [("cb", "cb2"), ("cb2", "cb"), ("beta", "cb"), ("cb", "exp"), ("cb", "normal"), ("cb", "uniform"),
            ("uniform", "cb"), ("cb", "pareto"), ("exp", "cb"), ("gamma", "cb"), ("gumbel", "cb"), ("laplace", "cb"),
            ("normal", "cb"), ("pareto", "cb")]


@pytest.mark.parametrize("p,q", KL_PAIRS, ids=[f"{p}-{q}" for p, q in KL_PAIRS])
def test_kl_pairs_match_torch_with_gradients(p, q):
    # p and q share one set of leaf tensors per library, so gradients flow to both
    ours_t, ours_p = _pair(p, tinytorch, KL_PARAMS)
    theirs_t, theirs_p = _pair(p, torch, KL_PARAMS)
    ours_q = _rebuild(q, tinytorch, ours_t)
    theirs_q = _rebuild(q, torch, theirs_t)
    got = tinytorch.distributions.kl_divergence(ours_p, ours_q)
    expected = torch.distributions.kl_divergence(theirs_p, theirs_q)
    np.testing.assert_allclose(_host(got), _host(expected), rtol=1e-9, atol=1e-12)
    if not np.isfinite(_host(expected)).any():
        return
    mask = np.isfinite(_host(expected))
    (got * tinytorch.tensor(mask.astype(np.float64))).nan_to_num(posinf=0.0).sum().backward()
    (expected * torch.tensor(mask.astype(np.float64))).nan_to_num(posinf=0.0).sum().backward()
    for key, tensor in theirs_t.items():
        if tensor.grad is None:
            continue
        np.testing.assert_allclose(_host(ours_t[key].grad), _host(tensor.grad), rtol=1e-7, atol=1e-10, err_msg=key)


def _rebuild(name, lib, leaves):
    d = lib.distributions
    return {
        "cb": lambda: d.ContinuousBernoulli(leaves["p"]), "cb2": lambda: d.ContinuousBernoulli(logits=leaves["l"]),
        "exp": lambda: d.Exponential(leaves["rate"]), "normal": lambda: d.Normal(leaves["loc"], leaves["scale"]),
        "uniform": lambda: d.Uniform(leaves["low"], leaves["high"]), "pareto": lambda: d.Pareto(leaves["scale"], leaves["a"]),
    }[name]()


def test_kl_continuous_bernoulli_uniform_is_infinite_unless_unit_interval_is_inside():
    d = tinytorch.distributions
    p = d.ContinuousBernoulli(_f64([0.3, 0.3, 0.3]))
    q = d.Uniform(_f64([-1.0, 0.0, -0.5]), _f64([2.0, 2.0, 1.0]))
    got = d.kl_divergence(p, q).numpy()
    assert np.isfinite(got[0]) and np.isinf(got[1]) and np.isinf(got[2])


@pytest.mark.parametrize("build", [
    lambda d, L: d.NegativeBinomial(L.tensor([-1.0]), probs=L.tensor([0.5]), validate_args=True),
    lambda d, L: d.NegativeBinomial(L.tensor([2.0]), probs=L.tensor([1.0]), validate_args=True),
    lambda d, L: d.NegativeBinomial(L.tensor([2.0]), probs=L.tensor([0.5]), logits=L.tensor([0.0])),
    lambda d, L: d.NegativeBinomial(L.tensor([2.0])),
    lambda d, L: d.ContinuousBernoulli(L.tensor([1.5]), validate_args=True),
    lambda d, L: d.ContinuousBernoulli(L.tensor([1.5]), validate_args=False),
    lambda d, L: d.ContinuousBernoulli(),
    lambda d, L: d.VonMises(L.tensor([0.0]), L.tensor([0.0]), validate_args=True),
    lambda d, L: d.VonMises(L.tensor([0.0]), L.tensor([-1.0]), validate_args=True),
    lambda d, L: d.NegativeBinomial(L.tensor([2.0]), probs=L.tensor([0.5]), validate_args=True).log_prob(L.tensor([0.5])),
    lambda d, L: d.ContinuousBernoulli(L.tensor([0.3]), validate_args=True).log_prob(L.tensor([1.5])),
    lambda d, L: d.ContinuousBernoulli(L.tensor([0.3]), validate_args=True).cdf(L.tensor([-0.5])),
])
def test_argument_and_sample_errors_match_torch(build):
    try:
        build(torch.distributions, torch)
        expected = None
    except Exception as error:  # noqa: BLE001 - the oracle decides which type
        expected = error
    assert expected is not None, "each case is an error in torch"
    with pytest.raises(type(expected)) as info:
        build(tinytorch.distributions, tinytorch)
    first_line = str(expected).split("(")[0]
    assert str(info.value).startswith(first_line)


def test_negative_binomial_zero_count_puts_all_mass_on_zero():
    d = tinytorch.distributions.NegativeBinomial(tinytorch.tensor([0.0, 2.0]), probs=tinytorch.tensor([0.4, 0.4]))
    np.testing.assert_allclose(d.log_prob(tinytorch.tensor([0.0, 0.0])).numpy(),
                               torch.distributions.NegativeBinomial(torch.tensor([0.0, 2.0]), probs=torch.tensor([0.4, 0.4]))
                               .log_prob(torch.tensor([0.0, 0.0])).numpy(), rtol=1e-6)
    tinytorch.manual_seed(0)
    assert (d.sample((100,))[:, 0] == 0).all()
