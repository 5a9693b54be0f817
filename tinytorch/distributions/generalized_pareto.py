"""``GeneralizedPareto``: the generalized Pareto distribution (loc, scale, concentration)."""

import math
import numbers

from .. import _creation as creation, _ops as ops
from .._tensor import Size
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all

__all__ = ["GeneralizedPareto"]


class GeneralizedPareto(Distribution):
    """A generalized Pareto distribution: with z = (x - loc) / scale and xi = ``concentration``,
    the survival function is (1 + xi z)^(-1/xi) (exp(-z) at xi = 0). Exponential (loc = 0, xi = 0),
    Pareto (xi > 0, loc = scale / xi) and Uniform (xi = -1) are special cases. ``rsample`` is the
    inverse cdf of uniform draws, so gradients reach every parameter. As in PyTorch, a
    concentration close to 0 (``isclose``) takes the xi = 0 formulas, whose gradient w.r.t. the
    concentration is zero.

    Args:
        loc (float or Tensor): location parameter of the distribution.
        scale (float or Tensor): scale parameter (positive).
        concentration (float or Tensor): shape parameter (xi); the support is bounded above by
            loc - scale / xi when it is negative.
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive, "concentration": constraints.real}
    has_rsample = True

    def __init__(self, loc, scale, concentration, validate_args=None):
        self.loc, self.scale, self.concentration = broadcast_all(loc, scale, concentration)
        if all(isinstance(v, numbers.Number) for v in (loc, scale, concentration)):
            batch_shape = Size()
        else:
            batch_shape = self.loc.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(GeneralizedPareto, _instance)
        batch_shape = Size(batch_shape)
        new.loc = self.loc.expand(batch_shape)
        new.scale = self.scale.expand(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        super(GeneralizedPareto, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        u = creation.rand(tuple(shape), dtype=self.loc.dtype, device=self.loc.device)
        return self.icdf(u)

    def _safe_concentration(self):
        """(is xi close to 0, xi with those entries replaced by 1): the xi != 0 formulas divide by
        xi, and a where() over a NaN branch would still send NaN gradients back."""
        eq_zero = ops.isclose(self.concentration, creation.zeros_like(self.concentration))
        return eq_zero, ops.where(eq_zero, creation.ones_like(self.concentration), self.concentration)

    def _z(self, x):
        return (x - self.loc) / self.scale

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        eq_zero, safe_conc = self._safe_concentration()
        y = 1 / safe_conc + creation.ones_like(z)
        where_nonzero = ops.where(y == 0, y, y * ops.log1p(safe_conc * z))
        return -self.scale.log() - ops.where(eq_zero, z, where_nonzero)

    def log_survival_function(self, value):
        """log P(X > value)."""
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        eq_zero, safe_conc = self._safe_concentration()
        where_nonzero = -ops.log1p(safe_conc * z) / safe_conc
        return ops.where(eq_zero, -z, where_nonzero)

    def log_cdf(self, value):
        """log P(X <= value)."""
        return ops.log1p(-ops.exp(self.log_survival_function(value)))

    def cdf(self, value):
        return ops.exp(self.log_cdf(value))

    def icdf(self, value):
        eq_zero, safe_conc = self._safe_concentration()
        logu = ops.log1p(-value)
        where_nonzero = self.loc + self.scale / safe_conc * ops.expm1(-safe_conc * logu)
        where_zero = self.loc - self.scale * logu
        return ops.where(eq_zero, where_zero, where_nonzero)

    @property
    def mean(self):
        valid = self.concentration < 1
        safe_conc = ops.where(valid, self.concentration, 0.5)
        return ops.where(valid, self.loc + self.scale / (1 - safe_conc), math.nan)

    @property
    def variance(self):
        valid = self.concentration < 0.5
        safe_conc = ops.where(valid, self.concentration, 0.25)
        result = self.scale**2 / ((1 - safe_conc) ** 2 * (1 - 2 * safe_conc))
        return ops.where(valid, result, math.nan)

    def entropy(self):
        return ops.broadcast_to(self.scale.log() + self.concentration + 1, tuple(self._batch_shape))

    @property
    def mode(self):
        return self.loc

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        lower = self.loc
        upper = ops.where(self.concentration < 0, lower - self.scale / self.concentration, math.inf)
        return constraints.interval(lower, upper)
