"""Distances between vectors: cdist, pdist, dist, pairwise_distance and cosine_similarity.

Two Functions, as PyTorch's kernels: ``PNormDistance`` (the p-norm of a difference along its last
dim, with the subgradients of PyTorch's cdist/pdist kernels) and ``EuclideanDistance`` (cdist's
matrix-product form for p = 2). The rest are composites of core ops; ``dist`` and
``pairwise_distance`` take ``torch.norm``'s gradient (ties of the inf-norm share the gradient),
cdist and pdist their kernels' (each tie gets all of it).
"""

import math
import numbers

import numpy as np

from .. import _backend as backend, _dtypes as dtypes
from ..autograd import grad_mode
from ..autograd.function import Function
from .._tensor import Tensor
from ._util import check_broadcast, check_tensor_argument, normalize_dim, result_dtype, wrap
from .movement import broadcast_tensors
from .reduce import p_norm

__all__ = ["cdist", "cosine_similarity", "dist", "pairwise_distance", "pdist"]

_COMPUTE_MODES = {"use_mm_for_euclid_dist_if_necessary": 0, "use_mm_for_euclid_dist": 1, "donot_use_mm_for_euclid_dist": 2}
# c10's names of the floating dtypes, as matmul's dtype-mismatch message spells them.
_C10_NAMES = {np.dtype(np.float16): "c10::Half", np.dtype(np.float32): "float", np.dtype(np.float64): "double"}


# -- the Functions ------------------------------------------------------------------------------
class PNormDistance(Function):
    """The p-norm (p >= 0, inf included) of ``diff`` along its last dim, with the gradient of
    PyTorch's cdist/pdist kernels: 0 where the distance is 0; for p = inf, the whole gradient to
    every component that attains the maximum; for p < 1, 0 where a component is 0; none for p = 0.
    One node because these subgradients are not a composite's (the inf-norm through ``amax``
    would split the gradient between ties)."""

    @staticmethod
    def forward(ctx, diff, p):
        data = diff._data
        xp = backend.array_module(data)
        if data.shape[-1] == 0:  # no features: every distance is 0 (max over nothing has no identity)
            out = xp.zeros(data.shape[:-1], dtype=data.dtype)
        elif p == 0:
            out = (data != 0).sum(axis=-1)
        elif p == 1:
            out = abs(data).sum(axis=-1)
        elif p == 2:
            out = xp.sqrt((data * data).sum(axis=-1))
        elif p == math.inf:
            out = abs(data).max(axis=-1)
        else:
            out = (abs(data) ** p).sum(axis=-1) ** (1.0 / p)
        result = wrap(out.astype(data.dtype, copy=False))
        ctx.p = p
        ctx.save_for_backward(diff, result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        diff, distance = ctx.saved_tensors
        p = ctx.p
        if p == 0:
            return wrap(backend.array_module(diff._data).zeros_like(diff._data)), None
        grad = grad_output.unsqueeze(-1)
        if p == 1:
            return grad * diff.sign(), None
        distance = distance.unsqueeze(-1)
        if p == math.inf:
            return grad * diff.sign() * (diff.abs() == distance), None
        at_zero = distance == 0
        safe_distance = distance.masked_fill(at_zero, 1.0)  # keeps 0/0 out of the graph (create_graph)
        if p == 2:
            scale = diff / safe_distance
        elif p < 2:
            size = diff.abs()
            zero = size == 0
            # |d|^(p-1) is infinite at d = 0 for p < 1: PyTorch's kernel gives 0 there.
            scale = diff.sign() * size.masked_fill(zero, 1.0).pow(p - 1) / safe_distance.pow(p - 1)
            if p < 1:
                scale = scale.masked_fill(zero, 0.0)
        else:
            scale = diff * diff.abs().pow(p - 2) / safe_distance.pow(p - 1)
        return (grad * scale).masked_fill(at_zero, 0.0), None


class EuclideanDistance(Function):
    """cdist for p = 2 through one matrix product, as PyTorch's ``_euclidean_dist``:
    [-2 x1, |x1|^2, 1] @ [x2, 1, |x2|^2]^T = |x1 - x2|^2, clamped at 0, then its square root.
    Faster than the differences for many rows, less accurate for near points (cancellation).
    Backward as PyTorch's: with ratio = grad / dist (0 where dist is 0, the subgradient),
    x1 * ratio.sum(-1) - ratio @ x2 and x2 * ratio.sum(-2) - ratio^T @ x1."""

    @staticmethod
    def forward(ctx, x1, x2):
        a, b = x1._data, x2._data
        xp = backend.array_module(a)
        a_norm = (a * a).sum(axis=-1, keepdims=True)
        b_norm = (b * b).sum(axis=-1, keepdims=True)
        a_ = xp.concatenate([a * -2, a_norm, xp.ones_like(a_norm)], axis=-1)
        b_ = xp.concatenate([b, xp.ones_like(b_norm), b_norm], axis=-1)
        squared = xp.matmul(a_, b_.swapaxes(-1, -2))
        result = wrap(xp.sqrt(xp.maximum(squared, 0)).astype(a.dtype, copy=False))
        ctx.save_for_backward(x1, x2, result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        x1, x2, distance = ctx.saved_tensors
        at_zero = distance == 0
        ratio = (grad_output / distance.masked_fill(at_zero, 1.0)).masked_fill(at_zero, 0.0)
        grad_x1 = x1 * ratio.sum(-1, keepdim=True) - ratio.matmul(x2) if ctx.needs_input_grad[0] else None
        ratio_t = ratio.transpose(-1, -2)
        grad_x2 = x2 * ratio_t.sum(-1, keepdim=True) - ratio_t.matmul(x1) if ctx.needs_input_grad[1] else None
        return grad_x1, grad_x2


# -- helpers ------------------------------------------------------------------------------------
def _type_name(t):
    return dtypes.scalar_type_name(t._data.dtype)


def _norm(x, p, dim, keepdim):
    """``torch.norm(x, p, dim, keepdim)`` for any real p (``linalg.vector_norm``'s rules)."""
    ndim = x._data.ndim
    dims = tuple(range(ndim)) if dim is None else ((normalize_dim(dim, ndim),) if ndim else ())
    return p_norm(x, p, dims, keepdim)


def _real(function, name, value):
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{function}(): argument '{name}' must be float, not {type(value).__name__}")
    return float(value)


# -- public functions ---------------------------------------------------------------------------
def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """The p-norm distance between each row of ``x1`` (..., R1, M) and each row of ``x2``
    (..., R2, M): a (..., R1, R2) tensor, batch dims broadcast. For p = 2 the default mode uses
    the matrix-product form when either side has more than 25 rows, as PyTorch does;
    "use_mm_for_euclid_dist" always uses it, "donot_use_mm_for_euclid_dist" never."""
    if compute_mode not in _COMPUTE_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    mode = _COMPUTE_MODES[compute_mode]
    check_tensor_argument("cdist", x1, "x1", 1)
    check_tensor_argument("cdist", x2, "x2", 2)
    p = float(p.item()) if isinstance(p, Tensor) else _real("cdist", "p", p)
    a, b = x1._data, x2._data
    for name, array in (("X1", a), ("X2", b)):
        if array.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {array.ndim}D")
    if a.shape[-1] != b.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {a.shape[-1]} X2: {b.shape[-1]}")
    for name, t in (("X1", x1), ("X2", x2)):
        if t._data.dtype.kind != "f":
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: {_type_name(t)}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    if x1.device.type != x2.device.type:
        raise RuntimeError(f"X1 and X2 must have the same device type. X1: {x1.device.type} X2: {x2.device.type}")
    check_broadcast(a.shape[:-2], b.shape[:-2])
    rows1, rows2 = a.shape[-2], b.shape[-2]
    use_mm = p == 2 and a.size and b.size and (mode == 1 or (mode == 0 and (rows1 > 25 or rows2 > 25)))
    if a.dtype != b.dtype:
        if use_mm:
            raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {_C10_NAMES[a.dtype]} != {_C10_NAMES[b.dtype]}")
        raise RuntimeError(f"expected scalar type {_type_name(x1)} but found {_type_name(x2)}")
    if use_mm:
        return EuclideanDistance.apply(x1, x2)
    return PNormDistance.apply(x1.unsqueeze(-2) - x2.unsqueeze(-3), p)


def pdist(input, p=2):
    """The p-norm distance between every pair of rows i < j of a 2-D ``input`` (N, M), in row-major
    order of the pairs: N (N - 1) / 2 values, the upper triangle of ``cdist(input, input)``."""
    check_tensor_argument("pdist", input, "input", 1)
    p = _real("pdist", "p", p)
    if input._data.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input._data.ndim}D")
    if input._data.dtype.kind != "f":
        raise RuntimeError("pdist only supports floating-point dtypes")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    n = input._data.shape[0]
    first, second = backend.array_module(input._data).triu_indices(n, 1, n)
    return PNormDistance.apply(input[wrap(first)] - input[wrap(second)], p)


def dist(input, other, p=2):
    """The p-norm of ``input - other`` (broadcast) over all its elements."""
    check_tensor_argument("dist", input, "input", 1)
    check_tensor_argument("dist", other, "other", 2)
    p = float(p.item()) if isinstance(p, Tensor) else _real("dist", "p", p)
    check_broadcast(input._data.shape, other._data.shape)
    common = result_dtype(input, other)
    if common.kind != "f":
        raise RuntimeError(f"norm(): input dtype should be either floating point or complex. Got {dtypes.scalar_type_name(common)} instead.")
    return _norm(input - other, p, None, False)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """The p-norm of ``x1 - x2 + eps`` along the last dim (of the broadcast shape): the distance
    between each pair of corresponding vectors. ``eps`` keeps the gradient finite where they meet."""
    check_tensor_argument("pairwise_distance", x1, "x1", 1)
    check_tensor_argument("pairwise_distance", x2, "x2", 2)
    p, eps = _real("pairwise_distance", "p", p), _real("pairwise_distance", "eps", eps)
    check_broadcast(x1._data.shape, x2._data.shape)
    last = max(x1._data.ndim, x2._data.ndim) - 1
    return _norm(x1 - x2 + eps, p, last, keepdim)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """x1 . x2 / (max(|x1|, eps) max(|x2|, eps)) along ``dim`` of the broadcast shape, each input
    divided by its norm first (as PyTorch: the result stays in [-1, 1]); the clamp at ``eps``
    passes no gradient of its own."""
    check_tensor_argument("cosine_similarity", x1, "x1", 1)
    check_tensor_argument("cosine_similarity", x2, "x2", 2)
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"cosine_similarity(): argument 'dim' must be int, not {type(dim).__name__}")
    eps = _real("cosine_similarity", "eps", eps)
    common = result_dtype(x1, x2)
    if common.kind != "f":
        raise RuntimeError(f"expected common dtype to be floating point, yet common dtype is {dtypes.scalar_type_name(common)}")
    # PyTorch casts only integral inputs to the common dtype; two floating ones meet in the product.
    x1, x2 = (x.to(dtypes.from_numpy_dtype(common)) if x._data.dtype.kind != "f" else x for x in (x1, x2))
    check_broadcast(x1._data.shape, x2._data.shape)
    x1, x2 = broadcast_tensors(x1, x2)
    dim = normalize_dim(dim, x1._data.ndim)
    norms = []
    for x in (x1, x2):
        norm = _norm(x, 2, dim, True).clone()
        with grad_mode.no_grad():
            norm.clamp_(min=eps)  # in place, out of the graph: the gradient flows as if unclamped
        norms.append(norm)
    return ((x1 / norms[0]) * (x2 / norms[1])).sum(dim)
