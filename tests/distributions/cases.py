"""The distribution table: every family (and parameterization) the tests check, built the same
way on ``tinytorch`` and on ``torch`` (``build(lib, **params)``) from NumPy parameters drawn by
``params(rng)``. Float arrays become float64 tensors (differentiable where the test asks);
integer arrays and numbers stay as they are."""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass
class Case:
    name: str
    build: Callable  # build(lib, **params) -> a Distribution of lib
    params: Callable  # params(rng) -> {name: numpy array or number}


def _positive(rng, shape, low=0.5, high=2.0):
    return rng.uniform(low, high, size=shape)


def _scale_tril(rng, batch, n):
    lower = np.tril(rng.normal(size=batch + (n, n)) * 0.5, -1)
    return lower + np.eye(n) * rng.uniform(0.5, 1.5, size=batch + (1, n))


def _spd(rng, batch, n):
    a = rng.normal(size=batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) / n + np.eye(n)


D = "distributions"


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
         lambda rng: {"loc": rng.normal(size=(3,)), "cov": _spd(rng, (2,), 3)}),
    Case("mvn_precision", lambda L, loc, precision: _d(L).MultivariateNormal(loc, precision_matrix=precision),
         lambda rng: {"loc": rng.normal(size=(2, 2)), "precision": _spd(rng, (), 2)}),
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
]

BY_NAME = {case.name: case for case in CASES}


def tensors(lib, params, requires_grad=False):
    """The parameters as ``lib`` tensors (float64; float ones differentiable when asked)."""
    out = {}
    for name, value in params.items():
        if isinstance(value, np.ndarray):
            grad = requires_grad and value.dtype.kind == "f"
            out[name] = lib.tensor(value, dtype=lib.float64 if value.dtype.kind == "f" else None, requires_grad=grad)
        else:
            out[name] = value
    return out


def pair(case, seed=0, requires_grad=False):
    """The case's distribution on tinytorch and on torch, from the same parameters, and those
    parameters as tensors of each (for gradients)."""
    import torch

    import tinytorch

    params = case.params(np.random.default_rng(seed))
    ours_params, theirs_params = tensors(tinytorch, params, requires_grad), tensors(torch, params, requires_grad)
    return case.build(tinytorch, **ours_params), case.build(torch, **theirs_params), ours_params, theirs_params
