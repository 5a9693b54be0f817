"""``LKJCholesky``: the LKJ distribution over lower Cholesky factors of correlation matrices."""

import math

from .. import _creation as creation, _ops as ops
from .._tensor import Size
from ..autograd.grad_mode import no_grad
from . import constraints
from .beta import Beta
from .distribution import Distribution
from .utils import _finfo, broadcast_all

__all__ = ["LKJCholesky"]


class LKJCholesky(Distribution):
    """The LKJ distribution of the lower Cholesky factor L of a ``dim`` x ``dim`` correlation
    matrix M = L L^T, with density proportional to det(M)^(concentration - 1) (uniform over
    correlation matrices when ``concentration == 1``). ``sample`` is PyTorch's vectorized onion
    method (Lewandowski, Kurowicka and Joe 2009, section 3.2); there is no ``rsample``.

    Args:
        dim (int): the size of the matrices (at least 2).
        concentration (float or Tensor): the shape parameter eta (positive).
    """

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim, concentration=1.0, validate_args=None):
        if dim < 2:
            raise ValueError(f"Expected dim to be an integer greater than or equal to 2. Found dim={dim}.")
        self.dim = dim
        (self.concentration,) = broadcast_all(concentration)
        batch_shape = self.concentration.size()
        event_shape = Size((dim, dim))
        # The onion method's Beta draws, one per row (the first row's is unused), all at once.
        marginal_conc = self.concentration + 0.5 * (self.dim - 2)
        offset = creation.arange(self.dim - 1, dtype=self.concentration.dtype, device=self.concentration.device)
        offset = ops.cat([creation.zeros((1,), dtype=offset.dtype, device=offset.device), offset])
        self._beta = Beta(offset + 0.5, marginal_conc.unsqueeze(-1) - 0.5 * offset)
        super().__init__(batch_shape, event_shape, validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LKJCholesky, _instance)
        batch_shape = Size(batch_shape)
        new.dim = self.dim
        new.concentration = self.concentration.expand(batch_shape)
        new._beta = self._beta.expand(batch_shape + (self.dim,))
        super(LKJCholesky, new).__init__(batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def sample(self, sample_shape=Size()):
        """A ``sample_shape`` batch of Cholesky factors (the onion method; no gradient)."""
        with no_grad():
            # Row i is sqrt(y_i) times a uniform direction in its first i coordinates; the
            # diagonal completes the row to unit length (clamped away from 0).
            y = self._beta.sample(sample_shape).unsqueeze(-1)
            u_normal = creation.randn(tuple(self._extended_shape(sample_shape)), dtype=y.dtype, device=y.device).tril(-1)
            norm = u_normal.norm(dim=-1, keepdim=True)
            # the first row is all zeros: divide it by 1 (PyTorch fills its 0/0 with zeros)
            u_hypersphere = u_normal / ops.where(norm == 0, 1.0, norm)
            w = y.sqrt() * u_hypersphere
            diag_elems = (1 - (w**2).sum(-1)).clamp(min=float(_finfo(w).tiny)).sqrt()
            return w + ops.diag_embed(diag_elems)

    def log_prob(self, value):
        # The density of M is proportional to prod(L_ii^(2 (eta - 1))); the Jacobian from L to M
        # adds prod(L_ii^(D - i)): together prod(L_ii^(2 eta - 2 + D - i)), i = 2..D.
        if self._validate_args:
            self._validate_sample(value)
        diag_elems = value.diagonal(dim1=-1, dim2=-2)[..., 1:]
        order = creation.arange(2, self.dim + 1, device=self.concentration.device)
        order = 2 * (self.concentration - 1).unsqueeze(-1) + self.dim - order
        unnormalized_log_pdf = (order * diag_elems.log()).sum(-1)
        # The normalization constant (page 1999 of Lewandowski et al.), with mvlgamma's pi term
        # ((D - 1)(D - 2) / 4 log pi) topped up to theirs (D (D - 1) / 4 log pi).
        dm1 = self.dim - 1
        alpha = self.concentration + 0.5 * dm1
        denominator = ops.lgamma(alpha) * dm1
        numerator = ops.mvlgamma(alpha - 0.5, dm1)
        pi_constant = 0.5 * dm1 * math.log(math.pi)
        normalize_term = pi_constant + numerator - denominator
        return unnormalized_log_pdf - normalize_term

