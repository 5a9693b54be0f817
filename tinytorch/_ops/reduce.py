"""Reductions. Sum, Prod, Amax/Amin, Max/Min along a dim, CumSum, CumProd, LogSoftmax/Softmax and Norm are
primitives; mean, var, std and logsumexp are composites of primitives."""

import builtins
import math

import numpy as np

from .. import _backend as backend, _dtypes as dtypes
from ..autograd.function import Function
from ..autograd.grad_mode import state as grad_state
from .._numpy_names import numpy_names
from .._tensor import Tensor
from ._util import normalize_dim, normalize_dims, quiet, return_type, wrap, write_out
from .binary import maximum, minimum, where
from .indexing import ScatterAdd
from .movement import Expand, Reshape

max_type, min_type = return_type("max"), return_type("min")


def _kept_shape(shape, dims):
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


def _expand_back(grad, shape, dims, keepdim):
    """A reduced gradient broadcast back over the reduced dims (primitives applied directly:
    the shapes are right by construction, so the public functions' checks are skipped)."""
    if not keepdim:
        grad = Reshape.apply(grad, _kept_shape(shape, dims), True)
    return Expand.apply(grad, shape) if grad._data.shape != shape else grad


class Sum(Function):
    @staticmethod
    def forward(ctx, x, dims, keepdim, dtype):
        ctx.shape, ctx.dims, ctx.keepdim = x._data.shape, dims, keepdim
        data = x._data
        if dtype is None and data.dtype.kind in "biu":
            dtype = dtypes.int64.numpy  # PyTorch sums integers and bools as int64
        return wrap(backend.reduce_sum(data, dims, keepdim, dtype))

    @staticmethod
    def backward(ctx, grad_output):
        return _expand_back(grad_output, ctx.shape, ctx.dims, ctx.keepdim), None, None, None


class Prod(Function):
    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.dims, ctx.keepdim = dims, keepdim
        out = wrap(x._data.prod(axis=dims, keepdims=keepdim))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        x, out = ctx.saved_tensors
        dims, shape = ctx.dims, x.shape
        grad = _expand_back(grad_output, shape, dims, ctx.keepdim)
        if not bool((x._data == 0).any()):
            return grad * _expand_back(out, shape, dims, ctx.keepdim) / x, None, None
        # NOTE: with zeros, d prod / d x_i is the product of the other elements; computed from
        # exclusive cumulative products so a single zero gets the right non-zero gradient.
        if not dims:
            return grad, None, None
        return grad * _product_of_others(x, dims), None, None


def _product_of_others(x, dims):
    data = x._data
    xp = backend.array_module(data)
    moved = xp.moveaxis(data, dims, tuple(range(-len(dims), 0)))
    lead = moved.shape[: moved.ndim - len(dims)]
    flat = moved.reshape(lead + (-1,))
    ones = xp.ones(lead + (1,), dtype=data.dtype)
    left = xp.cumprod(xp.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    right = xp.flip(xp.cumprod(xp.flip(xp.concatenate([flat[..., 1:], ones], axis=-1), -1), axis=-1), -1)
    others = (left * right).reshape(moved.shape)
    return wrap(xp.moveaxis(others, tuple(range(-len(dims), 0)), dims))


class Amax(Function):
    """max over dims; at ties the gradient is shared evenly, as PyTorch's amax. ``share_nan``:
    a NaN result shares it among the NaNs (PyTorch's ``max()`` of all elements); amax's NaN
    result has a NaN gradient everywhere, as PyTorch's."""

    @staticmethod
    def forward(ctx, x, dims, keepdim, largest, share_nan=False):
        ctx.dims, ctx.keepdim, ctx.share_nan = dims, keepdim, share_nan
        if x._data.size == 0:
            raise IndexError("max(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument.")
        out = wrap(x._data.max(axis=dims, keepdims=keepdim) if largest else x._data.min(axis=dims, keepdims=keepdim))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        x, out = ctx.saved_tensors
        out = _expand_back(out, x.shape, ctx.dims, ctx.keepdim)
        hit = x == out
        if ctx.share_nan:
            hit = hit | (x.isnan() & out.isnan())
        count = hit.sum(ctx.dims, keepdim=True)
        return _expand_back(grad_output, x.shape, ctx.dims, ctx.keepdim) * hit / count, None, None, None, None


class Max(Function):
    """(values, indices) of the largest element along one dim: one node, named MaxBackward0 as in
    PyTorch. The gradient goes to the chosen index (the first extreme on ties, as argmax), unlike
    amax's, which shares it among ties."""

    largest = True

    @classmethod
    def forward(cls, ctx, x, dim, keepdim):
        data = x._data
        xp = backend.array_module(data)
        ctx.shape, ctx.dim, ctx.keepdim = data.shape, dim, keepdim
        if data.ndim == 0:
            ctx.index = None
            indices = wrap(xp.zeros((), dtype=dtypes.int64.numpy))
            values = wrap(data.copy())
        else:
            index = data.argmax(axis=dim, keepdims=True) if cls.largest else data.argmin(axis=dim, keepdims=True)
            ctx.index = index
            values = xp.take_along_axis(data, index, axis=dim)
            if not keepdim:
                values, index = values.squeeze(dim), index.squeeze(dim)
            values, indices = wrap(values), wrap(index.astype(dtypes.int64.numpy, copy=False))
        ctx.mark_non_differentiable(indices)
        return values, indices

    @staticmethod
    def backward(ctx, grad_values, grad_indices):
        if ctx.index is None:  # a 0-d input is its own maximum
            return grad_values, None, None
        grad = grad_values if ctx.keepdim else grad_values.unsqueeze(ctx.dim)
        zeros = wrap(backend.array_module(grad._data).zeros(ctx.shape, dtype=grad._data.dtype))
        return ScatterAdd.apply(zeros, ctx.dim, wrap(ctx.index), grad), None, None


class Min(Max):
    """(values, indices) of the smallest element along one dim (MinBackward0)."""

    largest = False


class CumSum(Function):
    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        data = x._data
        # A 0-d tensor scans along "dim 0" in PyTorch; CuPy wants axis=None for it (NumPy takes either).
        out = data.cumsum(axis=dim if data.ndim else None, dtype=dtypes.int64.numpy if data.dtype.kind in "biu" else None)
        return wrap(out.reshape(data.shape))  # a 0-d input comes back with shape (1,)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.flip(ctx.dim).cumsum(ctx.dim).flip(ctx.dim), None


class CumProd(Function):
    """Running product along ``dim``; its backward is exact where the input has zeros.

    NOTE: the textbook gradient, reverse_cumsum(g * out) / x, divides by zero at a zero of x.
    Along each line only the positions up to the first zero get a gradient: before it the
    textbook formula holds (x is non-zero there), at it the gradient is reverse_cumsum of g times
    the running product with that one factor left out, and after it every product holds the zero.
    """

    @staticmethod
    def forward(ctx, x, dim):
        data = x._data
        ctx.dim = dim
        out = data.cumprod(axis=dim if data.ndim else None, dtype=dtypes.int64.numpy if data.dtype.kind in "biu" else None)
        result = wrap(out.reshape(data.shape))
        ctx.save_for_backward(x, result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        x, out = ctx.saved_tensors
        dim = ctx.dim
        if x.dim() == 0:
            return grad_output, None
        if grad_state.enabled:  # create_graph: a gradient that is itself differentiable at zeros
            return _cumprod_grad_every_order(x, grad_output, dim), None
        is_zero = x == 0
        zeros_so_far = is_zero.cumsum(dim)
        before = zeros_so_far == 0
        first_zero = is_zero & (zeros_so_far == 1)
        # Before the first zero: sum_{j >= k} g_j out_j / x_k.
        safe_x = x.masked_fill(~before, 1.0)
        grad = _reverse_cumsum(grad_output * out, dim) / safe_x
        # At the first zero: the products with that factor replaced by 1.
        without_zero = x.masked_fill(first_zero, 1.0).cumprod(dim)
        at_zero = _reverse_cumsum(grad_output * without_zero, dim)
        grad = grad.masked_fill(~before, 0.0) + at_zero.masked_fill(~first_zero, 0.0)
        return grad, None


def _cumprod_grad_every_order(x, grad_output, dim):
    """sum_{j >= k} g_j prod_{i <= j, i != k} x_i for every k, from products alone: O(n^2) along
    ``dim``, but differentiable to every order, also at zeros of x. (The formula above is the
    right first derivative, but its masks are constants: past the first zero it is 0 whatever x
    is, so its own derivative there was 0 where the true one is not.)"""
    xp = backend.array_module(x._data)
    moved = x.movedim(dim, -1)
    n = moved.shape[-1]
    rows = moved.unsqueeze(-2).expand(*moved.shape[:-1], n, n)
    left_out = rows.masked_fill(wrap(xp.eye(n, dtype=bool)), 1.0)  # row k: x with x_k taken as 1
    later = wrap(~xp.tri(n, n, -1, dtype=bool))  # j >= k
    terms = left_out.cumprod(-1) * grad_output.movedim(dim, -1).unsqueeze(-2)
    return terms.masked_fill(~later, 0.0).sum(-1).movedim(-1, dim)


def _reverse_cumsum(x, dim):
    return x.flip(dim).cumsum(dim).flip(dim)


class LogSoftmax(Function):
    """Fused for stability: x - max - log(sum(exp(x - max))) in one node, never overflowing."""

    @staticmethod
    def forward(ctx, x, dim):
        data = x._data
        xp = backend.array_module(data)
        axis = dim if data.ndim else None  # a 0-d tensor: CuPy refuses axis 0, NumPy takes either
        with quiet():  # inf - inf in a row holding +inf (or only -inf) is NaN, silently, as in PyTorch
            shifted = data - (backend.max_kept(data, axis) if data.ndim else data)
            out = shifted - xp.log(backend.sum_kept(backend.unary(np.exp, shifted), axis))
        ctx.dim = dim
        result = wrap(out)
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return grad_output - out.exp() * grad_output.sum(ctx.dim, keepdim=True), None


class Softmax(Function):
    """Fused: exp(x - max) / sum, one node whose backward is s * (g - sum(g * s))."""

    @staticmethod
    def forward(ctx, x, dim):
        data = x._data
        axis = dim if data.ndim else None  # a 0-d tensor: CuPy refuses axis 0, NumPy takes either
        with quiet():  # a row of -inf gives nan, silently, as in PyTorch
            shifted = data - (backend.max_kept(data, axis) if data.ndim else data)  # 0-d: a new array, not written into
            e = backend.unary(np.exp, shifted, out=shifted if data.ndim else None)
            e /= backend.sum_kept(e, axis)
        result = wrap(e)
        ctx.dim = dim
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return out * (grad_output - (grad_output * out).sum(ctx.dim, keepdim=True)), None


class Norm(Function):
    """The p-norm over dims for finite p >= 1; the gradient at a zero vector is 0, as PyTorch."""

    @staticmethod
    def forward(ctx, x, p, dims, keepdim):
        data = x._data
        xp = backend.array_module(data)
        ctx.p, ctx.dims, ctx.keepdim = p, dims, keepdim
        if p == 2 and len(dims) == data.ndim:  # over every element: BLAS's dot where it can
            out = xp.sqrt(backend.sum_of_squares(data))
            if keepdim:
                out = out.reshape((1,) * data.ndim)
        elif p == 2:
            out = xp.sqrt((data * data).sum(axis=dims, keepdims=keepdim))
        else:
            out = (abs(data) ** p).sum(axis=dims, keepdims=keepdim) ** (1.0 / p)
        result = wrap(out.astype(data.dtype, copy=False))
        ctx.save_for_backward(x, result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        x, out = ctx.saved_tensors
        p = ctx.p
        norm = _expand_back(out, x.shape, ctx.dims, ctx.keepdim)
        grad = _expand_back(grad_output, x.shape, ctx.dims, ctx.keepdim)
        if p == 1:
            return grad * x.sign(), None, None, None
        scale = x * x.abs().pow(p - 2) if p != 2 else x
        safe_norm = norm.masked_fill(norm == 0, 1.0)
        return (grad * scale / safe_norm.pow(p - 1)).masked_fill(norm == 0, 0.0), None, None, None


def p_norm(x, p, dims, keepdim):
    """``sum(|x|^p)^(1/p)`` over ``dims`` for any real p, with PyTorch's gradients: inf / -inf the
    largest / smallest |x| (amax / amin share the gradient between ties), 0 the count of non-zeros
    (zero gradient), p >= 1 the ``Norm`` node (0 at a zero vector), p < 1 with the zeros set aside
    so that |x|^(p-1) never meets one (their gradient is 0; for p < 0 a zero makes the norm 0).
    The one computation behind ``linalg.vector_norm``, ``norm``'s vector forms and the distances."""
    if p == math.inf:
        return amax(x.abs(), dims, keepdim)
    if p == -math.inf:
        return amin(x.abs(), dims, keepdim)
    if p == 0:  # sign(|x|) keeps the count in the graph with a zero gradient
        return where(x.isnan(), 1.0, x.abs().sign()).sum(dims, keepdim)
    if p >= 1:
        return Norm.apply(x, float(p), dims, keepdim)
    zero = x == 0
    powers = x.abs().masked_fill(zero, 1.0) ** p
    powers = powers.masked_fill(zero, math.inf if p < 0 else 0.0)
    return powers.sum(dims, keepdim) ** (1.0 / p)


# -- public functions ---------------------------------------------------------------------------
def _float_dtype(dtype):
    return None if dtype is None else dtypes.to_numpy_dtype(dtype)


@numpy_names
def sum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Sum over ``dim`` (None: all dims; int or tuple; negative allowed)."""
    if out is not None:
        return write_out(out, "sum", sum, input, dim, keepdim, dtype=dtype)
    dims = normalize_dims(dim, input._data.ndim)
    return Sum.apply(input, dims, keepdim, _float_dtype(dtype))


@numpy_names
def mean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    if out is not None:
        return write_out(out, "mean", mean, input, dim, keepdim, dtype=dtype)
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind not in "fc":
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point or "
            f"complex dtype. Got: {dtypes.scalar_type_name(input._data.dtype)}"
        )
    dims = normalize_dims(dim, input._data.ndim)
    count = 1
    for d in dims:
        count *= input._data.shape[d]
    return Sum.apply(input, dims, keepdim, None) * (1.0 / count if count else float("nan"))


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    return 1 if unbiased is None or unbiased else 0


@numpy_names
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    """Variance with Bessel's correction by default (``correction=1``), as PyTorch."""
    if out is not None:
        return write_out(out, "var", var, input, dim, unbiased, keepdim, correction=correction)
    if isinstance(unbiased, (tuple, list, int)) and not isinstance(unbiased, bool) and dim is None:
        dim, unbiased = unbiased, None
    dims = normalize_dims(dim, input._data.ndim)
    count = 1
    for d in dims:
        count *= input._data.shape[d]
    centered = input - mean(input, dims, keepdim=True)
    denominator = builtins.max(count - _correction(unbiased, correction), 0)
    return Sum.apply(centered * centered, dims, keepdim, None) * (1.0 / denominator if denominator else float("inf"))


@numpy_names
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    if out is not None:
        return write_out(out, "std", std, input, dim, unbiased, keepdim, correction=correction)
    return var(input, dim, unbiased, keepdim, correction=correction).sqrt()


@numpy_names
def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return var(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


@numpy_names
def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return std(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


@numpy_names
def prod(input, dim=None, keepdim=False, *, dtype=None, out=None):
    if out is not None:
        return write_out(out, "prod", prod, input, dim, keepdim, dtype=dtype)
    if dtype is not None:
        input = input.to(dtype)
    return Prod.apply(input, normalize_dims(dim, input._data.ndim), keepdim)


@numpy_names
def amax(input, dim=(), keepdim=False, *, out=None):
    if out is not None:
        return write_out(out, "amax", amax, input, dim, keepdim)
    return Amax.apply(input, normalize_dims(dim, input._data.ndim), keepdim, True)


@numpy_names
def amin(input, dim=(), keepdim=False, *, out=None):
    if out is not None:
        return write_out(out, "amin", amin, input, dim, keepdim)
    return Amax.apply(input, normalize_dims(dim, input._data.ndim), keepdim, False)


def _extreme(input, dim, keepdim, largest, name):
    if isinstance(dim, Tensor):
        return maximum(input, dim) if largest else minimum(input, dim)
    if dim is None:
        if input._data.size == 0:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument.")
        return Amax.apply(input, tuple(range(input._data.ndim)), False, largest, True)
    d = normalize_dim(dim, input._data.ndim)
    if input._data.ndim and input._data.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    values, indices = (Max if largest else Min).apply(input, d, keepdim)
    return (max_type if largest else min_type)(values, indices)


@numpy_names
def max(input, dim=None, keepdim=False):
    """The largest element, or (values, indices) along ``dim``, or the elementwise maximum with a tensor."""
    return _extreme(input, dim, keepdim, True, "max")


@numpy_names
def min(input, dim=None, keepdim=False):
    return _extreme(input, dim, keepdim, False, "min")


def _arg(input, dim, keepdim, largest):
    data = input._data
    if dim is None:
        index = data.argmax() if largest else data.argmin()
        out = backend.array_module(data).asarray(index, dtype=dtypes.int64.numpy)
        return wrap(out.reshape((1,) * data.ndim) if keepdim else out)
    d = normalize_dim(dim, data.ndim)
    if data.ndim == 0:
        return wrap(backend.array_module(data).zeros((), dtype=dtypes.int64.numpy))
    index = data.argmax(axis=d, keepdims=keepdim) if largest else data.argmin(axis=d, keepdims=keepdim)
    return wrap(index.astype(dtypes.int64.numpy, copy=False))


@numpy_names
def argmax(input, dim=None, keepdim=False, *, out=None):
    if out is not None:
        return write_out(out, "argmax", argmax, input, dim, keepdim)
    return _arg(input, dim, keepdim, True)


@numpy_names
def argmin(input, dim=None, keepdim=False, *, out=None):
    if out is not None:
        return write_out(out, "argmin", argmin, input, dim, keepdim)
    return _arg(input, dim, keepdim, False)


@numpy_names
def logsumexp(input, dim, keepdim=False, *, out=None):
    """log(sum(exp(x))) over ``dim``, shifted by the max so it never overflows."""
    if out is not None:
        return write_out(out, "logsumexp", logsumexp, input, dim, keepdim)
    dims = normalize_dims(dim, input._data.ndim)
    shift = amax(input.detach(), dims, keepdim=True)
    shift = shift.masked_fill(~shift.isfinite(), 0.0)
    out = (input - shift).exp().sum(dims, keepdim=True).log() + shift
    return out if keepdim else out.squeeze(dims)


def _softmax_input(input, dim, dtype, name):
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:
        raise TypeError(f"{name}() missing required argument 'dim'")
    d = normalize_dim(dim, input._data.ndim)
    if input._data.dtype.kind not in "fc":
        kernel = "lastdim_kernel_impl" if d == input._data.ndim - 1 or input._data.ndim == 0 else "kernel_impl"
        raise NotImplementedError(f'"{name}_{kernel}" not implemented for \'{dtypes.scalar_type_name(input._data.dtype)}\'')
    return input, d


@numpy_names
def softmax(input, dim, dtype=None):
    input, d = _softmax_input(input, dim, dtype, "softmax")
    return Softmax.apply(input, d)


@numpy_names
def log_softmax(input, dim, dtype=None):
    input, d = _softmax_input(input, dim, dtype, "log_softmax")
    return LogSoftmax.apply(input, d)


@numpy_names
def cumsum(input, dim, *, dtype=None, out=None):
    if out is not None:
        return write_out(out, "cumsum", cumsum, input, dim, dtype=dtype)
    if dtype is not None:
        input = input.to(dtype)
    return CumSum.apply(input, normalize_dim(dim, input._data.ndim))


@numpy_names
def cumprod(input, dim, *, dtype=None, out=None):
    """The running product along ``dim`` (integers and bools multiply as int64, as PyTorch)."""
    if out is not None:
        return write_out(out, "cumprod", cumprod, input, dim, dtype=dtype)
    if dtype is not None:
        input = input.to(dtype)
    return CumProd.apply(input, normalize_dim(dim, input._data.ndim))


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """The vector p-norm over ``dim`` ('fro' and 2 are the same; any real p, as ``linalg.vector_norm``)."""
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind not in "fc":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got {dtypes.scalar_type_name(input._data.dtype)}")
    dims = normalize_dims(dim, input._data.ndim)
    if p in ("fro", None):
        p = 2
    if p == "nuc" or isinstance(p, bool) or not isinstance(p, (int, float)):
        raise RuntimeError(f"norm with p={p!r} is not supported by tinytorch")
    return p_norm(input, p, dims, keepdim)


@numpy_names
def all(input, dim=None, keepdim=False, *, out=None):
    if out is not None:
        return write_out(out, "all", all, input, dim, keepdim)
    dims = normalize_dims(dim, input._data.ndim)
    return wrap(input._data.astype(bool, copy=False).all(axis=dims, keepdims=keepdim))


@numpy_names
def any(input, dim=None, keepdim=False, *, out=None):
    if out is not None:
        return write_out(out, "any", any, input, dim, keepdim)
    dims = normalize_dims(dim, input._data.ndim)
    return wrap(input._data.astype(bool, copy=False).any(axis=dims, keepdims=keepdim))


@numpy_names
def count_nonzero(input, dim=None):
    dims = normalize_dims(dim, input._data.ndim)
    return wrap((input._data != 0).sum(axis=dims).astype(dtypes.int64.numpy))
