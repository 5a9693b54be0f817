"""``tinytorch.distributions``: PyTorch's probability distributions, built from tinytorch's
differentiable ops (so ``log_prob``, ``entropy``, ``rsample`` and ``kl_divergence`` pass
gradients to the parameters) and drawing from tinytorch's generators (``manual_seed`` makes
samples reproducible). One file per family, as in ``torch/distributions/``."""

from . import constraints, transforms
from .bernoulli import Bernoulli
from .binomial import Binomial
from .categorical import Categorical
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .exponential import Exponential
from .independent import Independent
from .kl import kl_divergence, register_kl
from .laplace import Laplace
from .log_normal import LogNormal
from .mixture_same_family import MixtureSameFamily
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .one_hot_categorical import OneHotCategorical
from .poisson import Poisson
from .transformed_distribution import TransformedDistribution
from .transforms import *  # noqa: F403 - the transforms' __all__, as torch.distributions has them
from .uniform import Uniform

__all__ = [
    "Bernoulli", "Binomial", "Categorical", "Distribution", "Exponential", "ExponentialFamily", "Independent",
    "Laplace", "LogNormal", "MixtureSameFamily", "MultivariateNormal", "Normal", "OneHotCategorical", "Poisson",
    "TransformedDistribution", "Uniform", "kl_divergence", "register_kl",
]
__all__.extend(transforms.__all__)
