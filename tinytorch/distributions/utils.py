"""Helpers shared by the distributions (PyTorch's ``torch.distributions.utils``)."""

import numbers
from functools import update_wrapper

import numpy as np

from .. import _creation, _dtypes, _ops
from .._tensor import Tensor
from ..autograd.grad_mode import enable_grad as _enable_grad

euler_constant = 0.57721566490153286060  # the Euler-Mascheroni constant

__all__ = [
    "broadcast_all", "logits_to_probs", "clamp_probs", "probs_to_logits", "lazy_property", "tril_matrix_to_vec",
    "vec_to_tril_matrix",
]


def broadcast_all(*values):
    """Tensors broadcast together; numbers become tensors of the first tensor's dtype and device
    (the default dtype when all are numbers)."""
    if not all(isinstance(v, Tensor) or isinstance(v, numbers.Number) for v in values):
        raise ValueError(
            "Input arguments must all be instances of Number, tinytorch.Tensor or objects implementing __torch_function__."
        )
    if not all(isinstance(v, Tensor) for v in values):
        options = {"dtype": _dtypes.get_default_dtype()}
        for value in values:
            if isinstance(value, Tensor):
                options = {"dtype": value.dtype, "device": value.device}
                break
        values = [v if isinstance(v, Tensor) else _creation.tensor(v, **options) for v in values]
    return _ops.broadcast_tensors(*values)


def _standard_normal(shape, dtype, device):
    """N(0, 1) draws of ``shape`` from the device's generator."""
    return _creation.empty(tuple(shape), dtype=dtype, device=device).normal_()


def _sum_rightmost(value, dim):
    """Sum out the ``dim`` rightmost dims of ``value``."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:-dim]) + (-1,)).sum(-1)


def _finfo(tensor):
    """NumPy's float info of a tensor's dtype (tinytorch has no ``finfo``)."""
    return np.finfo(tensor._data.dtype)


def logits_to_probs(logits, is_binary=False):
    """Probabilities from logits: sigmoid (binary, log-odds) or softmax over the last dim."""
    if is_binary:
        return _ops.sigmoid(logits)
    return _ops.softmax(logits, dim=-1)


def clamp_probs(probs):
    """Probabilities clamped into [eps, 1 - eps] (eps of their dtype)."""
    eps = float(_finfo(probs).eps)
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary=False):
    """Logits from probabilities: log-odds (binary) or log-probabilities."""
    clamped = clamp_probs(probs)
    if is_binary:
        return clamped.log() - (-clamped).log1p()
    return clamped.log()


class lazy_property:
    """A property computed on first access (with grad mode on) and then stored on the instance."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        update_wrapper(self, wrapped)

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return _lazy_property_and_property(self.wrapped)
        with _enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


class _lazy_property_and_property(lazy_property, property):
    """What a lazy property looks like on the class: a property, and a lazy_property for validation."""

    def __init__(self, wrapped):
        property.__init__(self, wrapped)


def _tril_mask(n, diag, device):
    arange = _creation.arange(n, device=device)
    return arange < arange.view(-1, 1) + (diag + 1)


def tril_matrix_to_vec(mat, diag=0):
    """The lower-triangular entries of (a batch of) D x D matrices, row by row."""
    n = mat.shape[-1]
    if diag < -n or diag >= n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    return mat[..., _tril_mask(n, diag, mat.device)]


def vec_to_tril_matrix(vec, diag=0):
    """(A batch of) lower-triangular D x D matrices filled row by row from vectors."""
    n = (-(1 + 2 * diag) + ((1 + 2 * diag) ** 2 + 8 * vec.shape[-1] + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    eps = float(_finfo(vec).eps)
    if round(n) - n > eps:
        raise ValueError(
            f"The size of last dimension is {vec.shape[-1]} which cannot be expressed as "
            "the lower triangular part of a square D x D matrix."
        )
    n = round(n)
    # mat[..., mask] = vec, differentiably: an index_select of vec into the mask's positions
    mask = (np.arange(n) < np.arange(n)[:, None] + (diag + 1)).reshape(-1)
    index = np.zeros(n * n, dtype=np.int64)
    index[mask] = np.arange(int(mask.sum()))
    taken = vec.index_select(-1, _creation.tensor(index, device=vec.device))
    return (taken * _creation.tensor(mask, dtype=vec.dtype, device=vec.device)).reshape(tuple(vec.shape[:-1]) + (n, n))
