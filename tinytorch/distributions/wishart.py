"""``Wishart``: the Wishart distribution over positive-definite matrices."""

import math
import numbers
import warnings

from .. import _creation as creation, _matrix_functions as matrix_functions, _ops as ops, linalg as _linalg
from .._tensor import Size
from . import constraints
from .chi2 import Chi2
from .exp_family import ExponentialFamily
from .multivariate_normal import _precision_to_scale_tril
from .utils import _finfo, lazy_property, vec_to_tril_matrix

__all__ = ["Wishart"]

_log_2 = math.log(2)


def _mvdigamma(x, p):
    """The multivariate digamma function: sum_i digamma(x - i / 2), i = 0..p-1."""
    if not bool(x.gt((p - 1) / 2).all()):
        raise AssertionError("Wrong domain for multivariate digamma function.")
    halves = creation.arange(p, dtype=x.dtype, device=x.device).div(2).expand(tuple(x.shape) + (-1,))
    return ops.digamma(x.unsqueeze(-1) - halves).sum(-1)


class Wishart(ExponentialFamily):
    """A Wishart distribution with ``df`` degrees of freedom and scale matrix Sigma, given as
    exactly one of ``covariance_matrix``, ``precision_matrix`` (Sigma^{-1}) or ``scale_tril``
    (its lower Cholesky factor); everything is computed from the Cholesky factor. ``rsample``
    is the Bartlett decomposition L A A^T L^T, A lower triangular with sqrt(chi^2(df - i)) on
    its diagonal (reparameterized, so gradients reach ``df`` too) and N(0, 1) below it; samples
    that come out singular (possible for df near the dimension) are drawn again, up to
    ``max_try_correction`` times, with a warning.

    Args:
        df (float or Tensor): degrees of freedom, greater than the matrix size minus 1.
        covariance_matrix (Tensor): positive-definite scale matrix.
        precision_matrix (Tensor): positive-definite inverse of the scale matrix.
        scale_tril (Tensor): lower-triangular factor of the scale matrix, positive diagonal.
    """

    support = constraints.positive_definite
    has_rsample = True
    _mean_carrier_measure = 0

    @property
    def arg_constraints(self):
        return {
            "covariance_matrix": constraints.positive_definite,
            "precision_matrix": constraints.positive_definite,
            "scale_tril": constraints.lower_cholesky,
            "df": constraints.greater_than(self.event_shape[-1] - 1),
        }

    def __init__(self, df, covariance_matrix=None, precision_matrix=None, scale_tril=None, validate_args=None):
        if (covariance_matrix is not None) + (scale_tril is not None) + (precision_matrix is not None) != 1:
            raise AssertionError("Exactly one of covariance_matrix or precision_matrix or scale_tril may be specified.")
        param = next(p for p in (covariance_matrix, precision_matrix, scale_tril) if p is not None)
        if param.dim() < 2:
            raise ValueError("scale_tril must be at least two-dimensional, with optional leading batch dimensions")
        if isinstance(df, numbers.Number):
            batch_shape = Size(tuple(param.shape[:-2]))
            self.df = creation.tensor(df, dtype=param.dtype, device=param.device)
        else:
            batch_shape = Size(tuple(ops.broadcast_shapes(tuple(param.shape[:-2]), tuple(df.shape))))
            self.df = df.expand(batch_shape)
        event_shape = Size(tuple(param.shape[-2:]))
        p = event_shape[-1]
        if bool(self.df.le(p - 1).any()):
            raise ValueError(f"Value of df={df} expected to be greater than ndim - 1 = {p - 1}.")
        matrix_shape = tuple(batch_shape) + (-1, -1)
        if scale_tril is not None:
            self.scale_tril = param.expand(matrix_shape)
        elif covariance_matrix is not None:
            self.covariance_matrix = param.expand(matrix_shape)
        else:
            self.precision_matrix = param.expand(matrix_shape)
        if bool(self.df.lt(p).any()):
            warnings.warn(
                "Low df values detected. Singular samples are highly likely to occur for ndim - 1 < df < ndim.",
                stacklevel=2,
            )
        super().__init__(batch_shape, event_shape, validate_args=validate_args)
        self._batch_dims = [-(x + 1) for x in range(len(self._batch_shape))]
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = _linalg.cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(precision_matrix)
        self._dist_chi2 = self._bartlett_chi2(batch_shape)

    def _bartlett_chi2(self, batch_shape):
        """chi^2(df - i), i = 0..p-1: the squares of the Bartlett factor's diagonal."""
        L = self._unbroadcasted_scale_tril
        steps = creation.arange(self._event_shape[-1], dtype=L.dtype, device=L.device)
        return Chi2(df=self.df.unsqueeze(-1) - steps.expand(tuple(batch_shape) + (-1,)))

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Wishart, _instance)
        batch_shape = Size(batch_shape)
        cov_shape = batch_shape + self.event_shape
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril.expand(cov_shape)
        new.df = self.df.expand(batch_shape)
        new._batch_dims = [-(x + 1) for x in range(len(batch_shape))]
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                setattr(new, name, getattr(self, name).expand(cov_shape))
        super(Wishart, new).__init__(batch_shape, self.event_shape, validate_args=False)
        new._dist_chi2 = new._bartlett_chi2(batch_shape)
        new._validate_args = self._validate_args
        return new

    @lazy_property
    def scale_tril(self):
        return self._unbroadcasted_scale_tril.expand(self._batch_shape + self._event_shape)

    @lazy_property
    def covariance_matrix(self):
        L = self._unbroadcasted_scale_tril
        return ops.matmul(L, L.mT).expand(self._batch_shape + self._event_shape)

    @lazy_property
    def precision_matrix(self):
        L = self._unbroadcasted_scale_tril
        identity = creation.eye(self._event_shape[-1], dtype=L.dtype, device=L.device)
        return matrix_functions.cholesky_solve(identity, L).expand(self._batch_shape + self._event_shape)

    def _batch_matrix(self, x):
        """A batch_shape tensor as (..., 1, 1), to scale the matrices; expanded first, as a
        number ``df`` is 0-d (PyTorch's view of it fails when the matrices are batched)."""
        return x.expand(tuple(self._batch_shape)).reshape(tuple(self._batch_shape) + (1, 1))

    @property
    def mean(self):
        return self._batch_matrix(self.df) * self.covariance_matrix

    @property
    def mode(self):
        factor = self.df - self.covariance_matrix.shape[-1] - 1
        factor = ops.where(factor <= 0, math.nan, factor)  # no mode for df <= p + 1
        return self._batch_matrix(factor) * self.covariance_matrix

    @property
    def variance(self):
        V = self.covariance_matrix
        diag_V = V.diagonal(dim1=-2, dim2=-1)
        return self._batch_matrix(self.df) * (V.pow(2) + diag_V.unsqueeze(-1) * diag_V.unsqueeze(-2))

    def _bartlett_sampling(self, sample_shape=Size()):
        p = self._event_shape[-1]
        chi = self._dist_chi2.rsample(sample_shape).sqrt()
        diagonal = ops.diag_embed(chi.clamp(min=float(_finfo(chi).eps)), dim1=-2, dim2=-1)
        normals = creation.randn(tuple(sample_shape) + tuple(self._batch_shape) + (p * (p - 1) // 2,),
                                 dtype=chi.dtype, device=chi.device)
        noise = diagonal + vec_to_tril_matrix(normals, diag=-1)  # the normals fill the strict lower triangle
        chol = ops.matmul(self._unbroadcasted_scale_tril, noise)
        return ops.matmul(chol, chol.mT)

    def rsample(self, sample_shape=Size(), max_try_correction=None):
        """Reparameterized samples (Bartlett decomposition).

        .. warning::
            For df close to the matrix size a sample may be singular: such samples are drawn
            again up to ``max_try_correction`` (default 10) times, and may stay singular (then
            ``log_prob`` gives -inf); fix ``df`` or raise ``max_try_correction`` then.
        """
        if max_try_correction is None:
            max_try_correction = 10
        sample_shape = Size(tuple(sample_shape))
        sample = self._bartlett_sampling(sample_shape)
        # one flag per sample (over its batch), flattened so that redraws splice in by row
        singular = self._singular(sample).reshape(-1)
        if bool(singular.any()):
            warnings.warn("Singular sample detected.", stacklevel=2)
            matrices = tuple(sample.shape[len(sample_shape):])
            for _ in range(max_try_correction):
                rows = ops.nonzero(singular).squeeze(-1)
                redraw = self._bartlett_sampling(Size((rows.numel(),)))
                sample = sample.reshape((-1,) + matrices).index_copy(0, rows, redraw).reshape(tuple(sample.shape))
                singular = singular.clone()
                singular[rows] = self._singular(redraw)
                if not bool(singular.any()):
                    break
        return sample

    def _singular(self, sample):
        """Per sample (over the batch dims too): is any of its matrices not positive-definite."""
        singular = ~self.support.check(sample)
        if self._batch_shape:
            singular = singular.amax(self._batch_dims)
        return singular

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        nu = self.df
        p = self._event_shape[-1]
        L = self._unbroadcasted_scale_tril
        log_det_L = L.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        return (
            -nu * (p * _log_2 / 2 + log_det_L)
            - ops.mvlgamma(nu / 2, p)
            + (nu - p - 1) / 2 * _linalg.slogdet(value).logabsdet
            - matrix_functions.cholesky_solve(value, L).diagonal(dim1=-2, dim2=-1).sum(-1) / 2
        )

    def entropy(self):
        nu = self.df
        p = self._event_shape[-1]
        log_det_L = self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        return (
            (p + 1) * (p * _log_2 / 2 + log_det_L)
            + ops.mvlgamma(nu / 2, p)
            - (nu - p - 1) / 2 * _mvdigamma(nu / 2, p)
            + nu * p / 2
        )

    @property
    def _natural_params(self):
        nu = self.df
        p = self._event_shape[-1]
        return -self.precision_matrix / 2, (nu - p - 1) / 2

    def _log_normalizer(self, x, y):
        p = self._event_shape[-1]
        return (y + (p + 1) / 2) * (-_linalg.slogdet(-2 * x).logabsdet + _log_2 * p) + ops.mvlgamma(y + (p + 1) / 2, p)
