"""The distribution table: every family (and parameterization) the tests check, built the same
way on ``tinytorch`` and on ``torch`` (``build(lib, **params)``) from NumPy parameters drawn by
``params(rng)``. Float arrays become float64 tensors (float32 where a test asks; differentiable
where it asks); integer arrays and numbers stay as they are."""

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

# The checks of test_sampling.py a case may opt out of (``Case.skip_sampling``).
SAMPLING_CHECKS = ("moments", "rsample_finite_differences")


@dataclass
class Case:
    name: str
    build: Callable  # build(lib, **params) -> a Distribution of lib
    params: Callable  # params(rng) -> {name: numpy array or number}
    # {check in SAMPLING_CHECKS: why this family cannot take it}: test_sampling.py skips the case
    # there with that reason (family-specific files check the same property another way).
    skip_sampling: dict = field(default_factory=dict)
    # torch's oracle runs with float64 as its default dtype (conftest.py): a torch family that
    # compares float64 parameters with ``torch.tensor(0.0)`` fails otherwise.
    torch_float64_default: bool = False

    def __post_init__(self):
        unknown = set(self.skip_sampling) - set(SAMPLING_CHECKS)
        if unknown:
            raise ValueError(f"{self.name}: unknown sampling checks {sorted(unknown)}")


def _positive(rng, shape, low=0.5, high=2.0):
    return rng.uniform(low, high, size=shape)


def _scale_tril(rng, batch, n):
    lower = np.tril(rng.normal(size=batch + (n, n)) * 0.5, -1)
    return lower + np.eye(n) * rng.uniform(0.5, 1.5, size=batch + (1, n))


def _spd(rng, batch, n):
    a = rng.normal(size=batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) / n + np.eye(n)


def _simplex(rng, shape):
    p = rng.uniform(0.2, 1.0, size=shape)
    return p / p.sum(-1, keepdims=True)


D = "distributions"

# reasons for Case.skip_sampling
_SYMMETRIC = ("a symmetric-matrix parameter: differences that break the symmetry have no meaning "
              "(test_rsample_matches_torch_on_the_same_noise checks its gradients against torch)")
_NO_MOMENTS = "PyTorch defines no mean or variance (the family's own test file checks its samples another way)"
_HEAVY_TAILS = "no finite mean or variance for these parameters (the family's own test file checks medians or lighter tails)"
_WISHART = ("a symmetric-matrix parameter, and df reaches the sample through Gamma's implicit "
            "reparameterization, which differences at a fixed seed do not follow (test_matrix_and_tail_families.py "
            "checks the matrix gradients against torch on the same noise, and df's on average)")
_CIRCULAR = "circular: its variance is 1 - |E exp(ix)|, not the linear one (test_remaining_families.py checks that)"
_IMPLICIT = ("drawn through Gamma's implicit reparameterization, whose gradient is not the derivative at a fixed "
             "seed that differences follow (test_gamma_family.py checks it against aten's and against differences "
             "of the inverse CDF)")
_HEAVY_TAILS_KS = ("no finite mean or variance for some of these parameters (test_gamma_family.py checks the draws' "
                   "Kolmogorov-Smirnov distance to the CDF)")
_STRAIGHT_THROUGH = ("a one-hot draw with a straight-through gradient: piecewise constant, so differences see no "
                     "gradient (test_more_families.py checks it against torch's)")


def _d(lib):
    return getattr(lib, D)


CASES = [
    Case("normal", lambda L, loc, scale: _d(L).Normal(loc, scale),
         lambda rng: {"loc": rng.normal(size=(2, 3)), "scale": _positive(rng, (2, 3))}),
    Case("normal_broadcast", lambda L, loc, scale: _d(L).Normal(loc, scale),
         lambda rng: {"loc": rng.normal(size=(3,)), "scale": _positive(rng, (2, 1))}),
    Case("normal_numbers", lambda L: _d(L).Normal(0.5, 2.0), lambda rng: {}),
    Case("log_normal", lambda L, loc, scale: _d(L).LogNormal(loc, scale),
         lambda rng: {"loc": rng.normal(size=(3,)) * 0.5, "scale": _positive(rng, (3,), 0.3, 0.8)}),
    Case("laplace", lambda L, loc, scale: _d(L).Laplace(loc, scale),
         lambda rng: {"loc": rng.normal(size=(2, 3)), "scale": _positive(rng, (2, 3))}),
    Case("uniform", lambda L, low, width: _d(L).Uniform(low, low + width),
         lambda rng: {"low": rng.normal(size=(4,)), "width": _positive(rng, (4,))}),
    Case("exponential", lambda L, rate: _d(L).Exponential(rate), lambda rng: {"rate": _positive(rng, (2, 3))}),
    Case("poisson", lambda L, rate: _d(L).Poisson(rate), lambda rng: {"rate": _positive(rng, (4,), 0.5, 6.0)}),
    Case("binomial_probs", lambda L, count, probs: _d(L).Binomial(count, probs=probs),
         lambda rng: {"count": np.full((3,), 6.0), "probs": rng.uniform(0.1, 0.9, (2, 3))}),
    Case("binomial_logits_counts", lambda L, count, logits: _d(L).Binomial(count, logits=logits),
         lambda rng: {"count": rng.integers(1, 9, (4,)).astype(np.float64), "logits": rng.normal(size=(4,))}),
    Case("bernoulli_probs", lambda L, probs: _d(L).Bernoulli(probs=probs), lambda rng: {"probs": rng.uniform(0.1, 0.9, (2, 3))}),
    Case("bernoulli_logits", lambda L, logits: _d(L).Bernoulli(logits=logits), lambda rng: {"logits": rng.normal(size=(5,)) * 2}),
    Case("categorical_probs", lambda L, probs: _d(L).Categorical(probs=probs), lambda rng: {"probs": _positive(rng, (2, 4), 0.1, 1.0)}),
    Case("categorical_logits", lambda L, logits: _d(L).Categorical(logits=logits), lambda rng: {"logits": rng.normal(size=(3, 5))}),
    Case("one_hot_categorical_probs", lambda L, probs: _d(L).OneHotCategorical(probs=probs),
         lambda rng: {"probs": _positive(rng, (2, 3), 0.1, 1.0)}),
    Case("one_hot_categorical_logits", lambda L, logits: _d(L).OneHotCategorical(logits=logits),
         lambda rng: {"logits": rng.normal(size=(4,))}),
    Case("mvn_scale_tril", lambda L, loc, scale_tril: _d(L).MultivariateNormal(loc, scale_tril=scale_tril),
         lambda rng: {"loc": rng.normal(size=(2, 3)), "scale_tril": _scale_tril(rng, (), 3)}),
    Case("mvn_covariance", lambda L, loc, cov: _d(L).MultivariateNormal(loc, covariance_matrix=cov),
         lambda rng: {"loc": rng.normal(size=(3,)), "cov": _spd(rng, (2,), 3)},
         skip_sampling={"rsample_finite_differences": _SYMMETRIC}),
    Case("mvn_precision", lambda L, loc, precision: _d(L).MultivariateNormal(loc, precision_matrix=precision),
         lambda rng: {"loc": rng.normal(size=(2, 2)), "precision": _spd(rng, (), 2)},
         skip_sampling={"rsample_finite_differences": _SYMMETRIC}),
    Case("independent_normal", lambda L, loc, scale: _d(L).Independent(_d(L).Normal(loc, scale), 1),
         lambda rng: {"loc": rng.normal(size=(2, 3)), "scale": _positive(rng, (2, 3))}),
    Case("mixture_normal",
         lambda L, logits, loc, scale: _d(L).MixtureSameFamily(_d(L).Categorical(logits=logits), _d(L).Normal(loc, scale)),
         lambda rng: {"logits": rng.normal(size=(2, 4)), "loc": rng.normal(size=(2, 4)) * 2, "scale": _positive(rng, (2, 4))}),
    Case("mixture_mvn",
         lambda L, logits, loc, scale_tril: _d(L).MixtureSameFamily(
             _d(L).Categorical(logits=logits), _d(L).MultivariateNormal(loc, scale_tril=scale_tril)),
         lambda rng: {"logits": rng.normal(size=(3,)), "loc": rng.normal(size=(3, 2)) * 2, "scale_tril": _scale_tril(rng, (3,), 2)}),
    Case("mixture_independent",
         lambda L, logits, loc, scale: _d(L).MixtureSameFamily(
             _d(L).Categorical(logits=logits), _d(L).Independent(_d(L).Normal(loc, scale), 1)),
         lambda rng: {"logits": rng.normal(size=(2, 3)), "loc": rng.normal(size=(2, 3, 4)), "scale": _positive(rng, (2, 3, 4))}),
    # -- Cauchy ... LowRankMultivariateNormal (their own checks: test_more_families.py)
    Case("cauchy", lambda L, loc, scale: _d(L).Cauchy(loc, scale),
         lambda rng: {"loc": rng.normal(size=(2, 3)), "scale": _positive(rng, (2, 3))},
         skip_sampling={"moments": _HEAVY_TAILS}),
    Case("cauchy_numbers", lambda L: _d(L).Cauchy(0.5, 2.0), lambda rng: {},
         skip_sampling={"moments": _HEAVY_TAILS}),
    Case("half_cauchy", lambda L, scale: _d(L).HalfCauchy(scale), lambda rng: {"scale": _positive(rng, (2, 3))},
         skip_sampling={"moments": _HEAVY_TAILS}),
    Case("half_normal", lambda L, scale: _d(L).HalfNormal(scale), lambda rng: {"scale": _positive(rng, (3,))}),
    Case("gumbel", lambda L, loc, scale: _d(L).Gumbel(loc, scale),
         lambda rng: {"loc": rng.normal(size=(2, 3)), "scale": _positive(rng, (2, 3))}),
    Case("weibull", lambda L, scale, concentration: _d(L).Weibull(scale, concentration),
         lambda rng: {"scale": _positive(rng, (3,)), "concentration": _positive(rng, (3,), 0.7, 3.0)}),
    Case("pareto", lambda L, scale, alpha: _d(L).Pareto(scale, alpha),
         lambda rng: {"scale": _positive(rng, (4,)), "alpha": np.array([0.5, 1.5, 2.5, 4.0])},
         skip_sampling={"moments": _HEAVY_TAILS}),
    Case("geometric_probs", lambda L, probs: _d(L).Geometric(probs=probs),
         lambda rng: {"probs": rng.uniform(0.1, 0.9, size=(2, 3))}),
    Case("geometric_logits", lambda L, logits: _d(L).Geometric(logits=logits), lambda rng: {"logits": rng.normal(size=(3,))}),
    Case("multinomial_probs", lambda L, probs: _d(L).Multinomial(5, probs=probs), lambda rng: {"probs": _simplex(rng, (2, 4))}),
    Case("multinomial_logits", lambda L, logits: _d(L).Multinomial(3, logits=logits), lambda rng: {"logits": rng.normal(size=(3,))}),
    Case("relaxed_bernoulli", lambda L, t, probs: _d(L).RelaxedBernoulli(t, probs=probs),
         lambda rng: {"t": np.array(0.7), "probs": rng.uniform(0.1, 0.9, size=(2, 3))},
         skip_sampling={"moments": _NO_MOMENTS}),
    Case("relaxed_bernoulli_logits", lambda L, t, logits: _d(L).RelaxedBernoulli(t, logits=logits),
         lambda rng: {"t": np.array(1.3), "logits": rng.normal(size=(3,))},
         skip_sampling={"moments": _NO_MOMENTS}),
    Case("relaxed_one_hot", lambda L, t, probs: _d(L).RelaxedOneHotCategorical(t, probs=probs),
         lambda rng: {"t": np.array(0.8), "probs": _simplex(rng, (2, 4))},
         skip_sampling={"moments": _NO_MOMENTS}),
    Case("relaxed_one_hot_logits", lambda L, t, logits: _d(L).RelaxedOneHotCategorical(t, logits=logits),
         lambda rng: {"t": np.array(1.5), "logits": rng.normal(size=(3,))},
         skip_sampling={"moments": _NO_MOMENTS}),
    Case("one_hot_straight_through", lambda L, probs: _d(L).OneHotCategoricalStraightThrough(probs=probs),
         lambda rng: {"probs": _simplex(rng, (2, 3))},
         skip_sampling={"rsample_finite_differences": _STRAIGHT_THROUGH}),
    Case("logistic_normal", lambda L, loc, scale: _d(L).LogisticNormal(loc, scale),
         lambda rng: {"loc": rng.normal(size=(2, 3)), "scale": _positive(rng, (2, 3))},
         skip_sampling={"moments": _NO_MOMENTS}),
    Case("lowrank_mvn", lambda L, loc, W, D: _d(L).LowRankMultivariateNormal(loc, W, D),
         lambda rng: {"loc": rng.normal(size=(2, 3)), "W": rng.normal(size=(3, 2)), "D": _positive(rng, (2, 3))}),
    # -- NegativeBinomial, ContinuousBernoulli, VonMises (test_remaining_families.py)
    Case("negative_binomial_probs", lambda L, count, probs: _d(L).NegativeBinomial(count, probs=probs),
         lambda rng: {"count": _positive(rng, (2, 3), 0.5, 6.0), "probs": rng.uniform(0.1, 0.9, (2, 3))}),
    Case("negative_binomial_logits", lambda L, count, logits: _d(L).NegativeBinomial(count, logits=logits),
         lambda rng: {"count": _positive(rng, (4,), 0.5, 6.0), "logits": rng.normal(size=(4,))}),
    Case("negative_binomial_number_count", lambda L, probs: _d(L).NegativeBinomial(3, probs=probs),
         lambda rng: {"probs": rng.uniform(0.1, 0.9, (3,))}),
    # 0.4995 and 0.5 sit inside the Taylor region (0.499, 0.501]
    Case("continuous_bernoulli_probs", lambda L, probs: _d(L).ContinuousBernoulli(probs=probs),
         lambda rng: {"probs": np.array([0.05, 0.3, 0.4995, 0.5, 0.7, 0.95])}),
    Case("continuous_bernoulli_logits", lambda L, logits: _d(L).ContinuousBernoulli(logits=logits),
         lambda rng: {"logits": rng.normal(size=(2, 3)) * 2}),
    Case("von_mises", lambda L, loc, concentration: _d(L).VonMises(loc, concentration),
         lambda rng: {"loc": rng.normal(size=(2, 3)) * 2,
                      "concentration": np.array([[0.1, 1.0, 3.7], [3.8, 10.0, 50.0]])},
         skip_sampling={"moments": _CIRCULAR}),
    # -- GeneralizedPareto, LKJCholesky, Wishart (test_matrix_and_tail_families.py)
    # concentrations on both sides of 0 (bounded and heavy tails; below 1/4, so the sample
    # variance settles); exactly 0, whose where() branch zeroes its gradient, in the next case
    Case("generalized_pareto", lambda L, loc, scale, c: _d(L).GeneralizedPareto(loc, scale, c),
         lambda rng: {"loc": rng.normal(size=(2, 3)), "scale": _positive(rng, (2, 3)),
                      "c": np.array([[-0.4, -0.05, 0.1], [0.15, -0.2, 0.02]])},
         torch_float64_default=True),
    Case("generalized_pareto_exponential", lambda L, loc, scale: _d(L).GeneralizedPareto(loc, scale, 0.0),
         lambda rng: {"loc": rng.normal(size=(3,)), "scale": _positive(rng, (3,))}, torch_float64_default=True),
    Case("generalized_pareto_numbers", lambda L: _d(L).GeneralizedPareto(0.5, 2.0, -0.25), lambda rng: {}),
    Case("lkj_cholesky", lambda L, c: _d(L).LKJCholesky(3, c), lambda rng: {"c": _positive(rng, (2,), 0.5, 3.0)},
         skip_sampling={"moments": _NO_MOMENTS}),
    Case("lkj_cholesky_number", lambda L: _d(L).LKJCholesky(4, 1.5), lambda rng: {}, skip_sampling={"moments": _NO_MOMENTS}),
    # df a number: finite differences cannot follow df through the Gamma draws (implicit
    # reparameterization); an unbatched scale_tril, as torch's mean fails for a number df and a batch
    Case("wishart_scale_tril", lambda L, L_: _d(L).Wishart(4.5, scale_tril=L_), lambda rng: {"L_": _scale_tril(rng, (), 3)}),
    Case("wishart_covariance", lambda L, df, cov: _d(L).Wishart(df, covariance_matrix=cov),
         lambda rng: {"df": rng.uniform(3.0, 6.0, size=(2,)), "cov": _spd(rng, (), 3)},
         skip_sampling={"rsample_finite_differences": _WISHART}),
    Case("wishart_precision", lambda L, df, precision: _d(L).Wishart(df, precision_matrix=precision),
         lambda rng: {"df": np.array(2.5), "precision": _spd(rng, (2,), 2)},
         skip_sampling={"rsample_finite_differences": _WISHART}),
    # -- Gamma, Chi2, Beta, Dirichlet, StudentT, FisherSnedecor, InverseGamma, Kumaraswamy (test_gamma_family.py)
    Case("gamma", lambda L, concentration, rate: _d(L).Gamma(concentration, rate),
         lambda rng: {"concentration": _positive(rng, (2, 3), 0.3, 4.0), "rate": _positive(rng, (2, 3))},
         skip_sampling={"rsample_finite_differences": _IMPLICIT}),
    Case("gamma_broadcast", lambda L, concentration, rate: _d(L).Gamma(concentration, rate),
         lambda rng: {"concentration": _positive(rng, (3,), 0.5, 3.0), "rate": _positive(rng, (2, 1))},
         skip_sampling={"rsample_finite_differences": _IMPLICIT}),
    Case("gamma_numbers", lambda L: _d(L).Gamma(2.5, 1.5), lambda rng: {}),
    Case("chi2", lambda L, df: _d(L).Chi2(df), lambda rng: {"df": _positive(rng, (4,), 0.8, 6.0)},
         skip_sampling={"rsample_finite_differences": _IMPLICIT}),
    Case("beta", lambda L, a, b: _d(L).Beta(a, b),
         lambda rng: {"a": _positive(rng, (2, 3), 0.6, 4.0), "b": _positive(rng, (3,), 0.6, 4.0)},
         skip_sampling={"rsample_finite_differences": _IMPLICIT}),
    Case("beta_numbers", lambda L: _d(L).Beta(0.7, 2.0), lambda rng: {}),
    Case("dirichlet", lambda L, concentration: _d(L).Dirichlet(concentration),
         lambda rng: {"concentration": _positive(rng, (2, 4), 0.4, 5.0)},
         skip_sampling={"rsample_finite_differences": _IMPLICIT}),
    Case("dirichlet_below_one", lambda L, concentration: _d(L).Dirichlet(concentration),
         lambda rng: {"concentration": np.array([[0.3, 0.6, 0.9], [1.5, 0.5, 2.0]])},
         skip_sampling={"rsample_finite_differences": _IMPLICIT}),
    # df below 1 and 2: no mean, no variance
    Case("student_t", lambda L, df, loc, scale: _d(L).StudentT(df, loc, scale),
         lambda rng: {"df": np.array([0.7, 1.5, 3.0, 8.0]), "loc": rng.normal(size=(4,)), "scale": _positive(rng, (4,))},
         skip_sampling={"moments": _HEAVY_TAILS_KS, "rsample_finite_differences": _IMPLICIT}),
    Case("student_t_df_only", lambda L, df: _d(L).StudentT(df), lambda rng: {"df": _positive(rng, (3,), 2.5, 9.0)},
         skip_sampling={"rsample_finite_differences": _IMPLICIT}),
    # df2 = 3: no variance
    Case("fisher_snedecor", lambda L, df1, df2: _d(L).FisherSnedecor(df1, df2),
         lambda rng: {"df1": np.array([1.0, 3.0, 6.0]), "df2": np.array([3.0, 5.0, 12.0])},
         skip_sampling={"moments": _HEAVY_TAILS_KS, "rsample_finite_differences": _IMPLICIT}),
    # concentration 0.7 and 1.5: no mean, no variance
    Case("inverse_gamma", lambda L, concentration, rate: _d(L).InverseGamma(concentration, rate),
         lambda rng: {"concentration": np.array([0.7, 1.5, 2.5, 6.0]), "rate": _positive(rng, (4,))},
         skip_sampling={"moments": _HEAVY_TAILS_KS, "rsample_finite_differences": _IMPLICIT}),
    Case("kumaraswamy", lambda L, a, b: _d(L).Kumaraswamy(a, b),
         lambda rng: {"a": np.array([0.6, 1.5, 3.0]), "b": np.array([2.0, 0.8, 4.0])}),
]

BY_NAME = {case.name: case for case in CASES}


def has_float_parameters(case):
    """Whether the case has a float array parameter (a dtype to choose): not the number-only cases."""
    return any(isinstance(v, np.ndarray) and v.dtype.kind == "f" for v in case.params(np.random.default_rng(0)).values())


def tensors(lib, params, requires_grad=False, dtype_name="float64"):
    """The parameters as ``lib`` tensors (float ones in ``dtype_name``, differentiable when asked)."""
    out = {}
    for name, value in params.items():
        if isinstance(value, np.ndarray):
            grad = requires_grad and value.dtype.kind == "f"
            dtype = getattr(lib, dtype_name) if value.dtype.kind == "f" else None
            out[name] = lib.tensor(value, dtype=dtype, requires_grad=grad)
        else:
            out[name] = value
    return out


def pair(case, seed=0, requires_grad=False, dtype_name="float64"):
    """The case's distribution on tinytorch and on torch, from the same parameters (float ones in
    ``dtype_name``), and those parameters as tensors of each (for gradients)."""
    import torch

    import tinytorch

    params = case.params(np.random.default_rng(seed))
    ours_params = tensors(tinytorch, params, requires_grad, dtype_name)
    theirs_params = tensors(torch, params, requires_grad, dtype_name)
    return case.build(tinytorch, **ours_params), case.build(torch, **theirs_params), ours_params, theirs_params
