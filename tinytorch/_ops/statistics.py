"""Statistics, cumulative and combinatorial ops: cov, corrcoef, logcumsumexp, trapezoid (trapz),
cumulative_trapezoid, renorm, combinations and histogramdd.

All but logcumsumexp and histogramdd (counts: no gradient) are composites of existing differentiable ops, following PyTorch's ATen
composites (Correlation.cpp, Integration.cpp, Normalization's renorm, Itertools.cpp) with the
same checks in the same order and PyTorch's error types and messages. logcumsumexp is one
Function: its forward is a stable scan and its backward is PyTorch's (logcumsumexp_backward).
"""

import builtins
import itertools
import warnings

import numpy as np

from .. import _backend as backend, _dtypes as dtypes
from ..autograd.function import Function
from .._tensor import Tensor
from ._util import check_tensor_argument, normalize_dim, quiet, return_type, wrap, write_out
from .counting import _range_of
from .binary import where
from .reduce import norm


def _dtype_name(data):
    return dtypes.scalar_type_name(data.dtype)


# -- cov and corrcoef --------------------------------------------------------------------------------------
def _check_weights(name, w, kinds, kind_word, observations):
    if w._data.ndim > 1:
        raise RuntimeError(
            f"cov(): expected {name} to have one or fewer dimensions but got {name} with {w._data.ndim} dimensions"
        )
    if w._data.dtype.kind not in kinds:
        raise RuntimeError(f"cov(): expected {name} to have {kind_word} dtype but got {name} with {_dtype_name(w._data)} dtype")
    if w._data.size != observations:
        raise RuntimeError(
            f"cov(): expected {name} to have the same numel as there are observations in the input but got "
            f"{w._data.size} != {observations}"
        )
    if observations:
        def fail():
            raise RuntimeError(f"cov(): {name} cannot be negative")

        backend.check_later((w._data < 0).any(), fail)


def cov(input, *, correction=1, fweights=None, aweights=None):
    """The covariance matrix of the variables in the rows of ``input`` (observations in columns);
    ``correction`` is Bessel's (1: unbiased), ``fweights`` integer frequencies and ``aweights``
    floating observation weights. A 1-D input is one variable and gives a 0-d result."""
    check_tensor_argument("cov", input)
    if isinstance(correction, bool) or not isinstance(correction, (int, np.integer)):
        raise TypeError(f"cov(): argument 'correction' must be int, not {type(correction).__name__}")
    data = input._data
    if data.ndim > 2:
        raise RuntimeError(
            f"cov(): expected input to have two or fewer dimensions but got an input with {data.ndim} dimensions"
        )
    if data.dtype == np.bool_:
        raise RuntimeError("cov(): bool dtype is not supported for input")
    x = input.reshape(1, -1) if data.ndim < 2 else input
    n = x.shape[1]
    w = None
    if fweights is not None:
        check_tensor_argument("cov", fweights, "fweights", 0)
        _check_weights("fweights", fweights, "iu", "integral", n)
        w = fweights
    if aweights is not None:
        check_tensor_argument("cov", aweights, "aweights", 0)
        _check_weights("aweights", aweights, "fc", "floating point", n)
        w = aweights if w is None else w * aweights
    if w is None:
        w_sum = n
        norm_factor = n - correction
        degenerate = norm_factor <= 0
        if degenerate:
            norm_factor = 0
    else:
        w_sum = w.sum()

        def zero_sum():
            raise RuntimeError("cov(): weights sum to zero, can't be normalized")

        backend.check_later(w_sum._data == 0, zero_sum)
        if correction == 0:
            norm_factor = w_sum
        elif aweights is None:
            norm_factor = w_sum - correction
        elif fweights is None and n == 1 and correction == 1:
            norm_factor = w_sum * 0  # PyTorch's corner case (numpy's result), exactly 0
        else:
            norm_factor = w_sum - correction * (w * aweights).sum() / w_sum
        bad = norm_factor._data <= 0
        # PyTorch warns after reading the device; a GPU result is not read back just to warn
        degenerate = bool(bad) if bad.__class__ is np.ndarray else False
        norm_factor = where(norm_factor <= 0, norm_factor * 0, norm_factor)
    if degenerate:
        warnings.warn(
            "cov(): degrees of freedom is <= 0. Correction should be strictly less than the number of observations.",
            UserWarning,
            stacklevel=2,
        )
    if n == 1 and (fweights is None) != (aweights is None):
        # PyTorch's corner case: one observation with one set of weights is its own average.
        x = x * 0
        if x._data.dtype.kind in "iub":
            x = x.to(dtypes.float32)
    else:
        avg = (x if w is None else x * w).sum(1) / w_sum
        x = x - avg.unsqueeze(1)
    c = x.matmul((x if w is None else x * w).t())
    if c._data.dtype.kind in "iub":  # true_divide: integers divide as the default float
        c = c.to(dtypes.get_default_dtype())
    with quiet():
        return (c / norm_factor).squeeze()


def corrcoef(input):
    """Pearson's correlation coefficients of the variables in the rows of ``input``: cov scaled by
    the standard deviations, clipped to [-1, 1] as NumPy does."""
    check_tensor_argument("corrcoef", input)
    if input._data.ndim > 2:
        raise RuntimeError(
            f"corrcoef(): expected input to have two or fewer dimensions but got an input with {input._data.ndim} dimensions"
        )
    c = cov(input)
    with quiet():
        if c._data.ndim == 0:
            return c / c  # nan for a covariance of nan, inf or 0, else 1
        stddev = c.diagonal().sqrt()
        c = c / stddev.reshape(-1, 1)
        c = c / stddev.reshape(1, -1)
    return c.clip(-1, 1)


# -- logcumsumexp -------------------------------------------------------------------------------------------
def _logcumsumexp_array(data, dim):
    """log(cumsum(exp(x))) along ``dim`` as a Hillis-Steele scan of logaddexp: ceil(log2 n)
    vectorized steps, each exact to rounding, so nothing overflows or underflows (a single shift
    by the max would send every prefix far below it to -inf)."""
    xp = backend.array_module(data)
    moved = xp.moveaxis(data, dim, -1)
    out = moved.copy()
    n = out.shape[-1]
    step = 1
    with quiet():
        while step < n:
            shifted = xp.logaddexp(out[..., step:], out[..., :-step])
            out = xp.concatenate([out[..., :step], shifted], axis=-1)
            step *= 2
    return xp.ascontiguousarray(xp.moveaxis(out, -1, dim))


class LogCumSumExp(Function):
    @staticmethod
    def forward(ctx, x, dim):
        data = x._data
        result = wrap(_logcumsumexp_array(data.reshape(1) if data.ndim == 0 else data, dim).reshape(data.shape))
        ctx.dim = dim
        ctx.save_for_backward(x, result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        """PyTorch's logcumsumexp_backward: the gradient reverse_cumsum(g * exp(-result)) * exp(x)
        in log space, with g split by sign so each part's log exists, so it is stable too."""
        x, result = ctx.saved_tensors
        dim = ctx.dim
        if x.dim() == 0 or x.numel() == 0:
            return grad_output, None
        lowest = float(np.finfo(x._data.dtype).min)
        log_abs = grad_output.abs().log()
        with quiet():
            log_positive = where(grad_output > 0, log_abs, lowest)
            log_negative = where(grad_output < 0, log_abs, lowest)
            positive = (_reverse_logcumsumexp(log_positive - result, dim) + x).exp()
            negative = (_reverse_logcumsumexp(log_negative - result, dim) + x).exp()
        return positive - negative, None


def _reverse_logcumsumexp(x, dim):
    return logcumsumexp(x.flip(dim), dim).flip(dim)


def logcumsumexp(input, dim, *, out=None):
    """log(cumsum(exp(input))) along ``dim``, computed stably (no overflow for large inputs, no
    -inf for small prefixes)."""
    check_tensor_argument("logcumsumexp", input)
    if out is not None:
        return write_out(out, "logcumsumexp", logcumsumexp, input, dim)
    d = normalize_dim(dim, input._data.ndim)
    if input._data.dtype.kind not in "f":
        raise NotImplementedError(f"\"logcumsumexp_out_cpu\" not implemented for '{_dtype_name(input._data)}'")
    return LogCumSumExp.apply(input, d)


# -- trapezoid -----------------------------------------------------------------------------------------------
def _check_dim(name, dim):
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{name}(): argument 'dim' must be int, not {type(dim).__name__}")


def _trapezoid_sides(name, y, x, dx, dim):
    """(left + right) / 2 pairs along ``dim`` times the spacing, before the sum."""
    check_tensor_argument(name, y, "y")
    _check_dim(name, dim)
    if y._data.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    d = normalize_dim(dim, y._data.ndim)
    n = y._data.shape[d]
    if x is not None:
        check_tensor_argument(name, x, "x")
        if x._data.ndim == 0 or (x._data.ndim == 1 and x._data.shape[0] != n):
            raise RuntimeError(f"{name}: There must be one `x` value for each sample point")
        if x._data.ndim == 1:  # points along dim, the same for every line
            view = [1] * y._data.ndim
            view[d] = n
            x = x.reshape(view)
        spacing = x.diff(dim=d)
    if n == 0:
        return None, d
    mid = y.narrow(d, 1, n - 1) + y.narrow(d, 0, n - 1)
    if x is None:
        return mid * dx / 2, d
    return mid * spacing / 2, d


def _float_result(result):
    """Integer samples integrate to the default float dtype, as PyTorch's division by 2 gives."""
    if result._data.dtype.kind in "iub":
        return result.to(dtypes.get_default_dtype())
    return result


def _spacing(name, x, dx):
    """PyTorch's two overloads: ``(y, x, *, dim)`` and ``(y, *, dx=1, dim)``."""
    if x is not None and (dx is not None or not isinstance(x, Tensor)):
        raise TypeError(
            f"{name}() received an invalid combination of arguments: expected (Tensor y, Tensor x, *, int dim = -1) "
            "or (Tensor y, *, Number dx = 1, int dim = -1)"
        )
    return 1 if dx is None else dx


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The trapezoid rule along ``dim``: samples ``y`` at points ``x`` (1-D, or broadcastable
    against ``y``) or spaced ``dx`` apart (default 1). Integer samples give the default float."""
    dx = _spacing("trapezoid", x, dx)
    terms, d = _trapezoid_sides("trapezoid", y, x, dx, dim)
    if terms is None:  # no intervals: zeros of the reduced shape, in y's dtype (as PyTorch)
        return y.sum(d) * 0
    return _float_result(terms.sum(d))


def trapz(y, x=None, *, dx=None, dim=-1):
    """An alias of :func:`trapezoid`."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running trapezoid rule along ``dim``: one value per interval (``n - 1`` along ``dim``)."""
    dx = _spacing("cumulative_trapezoid", x, dx)
    check_tensor_argument("cumulative_trapezoid", y, "y")
    if y._data.ndim == 0:
        raise IndexError("slice() cannot be applied to a 0-dim tensor.")
    terms, d = _trapezoid_sides("cumulative_trapezoid", y, x, dx, dim)
    if terms is None:
        return _float_result(y * 1)
    return _float_result(terms.cumsum(d))


# -- renorm ----------------------------------------------------------------------------------------------------
def _vector_norm(x, p, dims):
    if p >= 1 or p == float("inf"):
        return norm(x, p, dims, keepdim=True)
    return x.abs().pow(p).sum(dims, keepdim=True).pow(1.0 / p)


def renorm(input, p, dim, maxnorm, *, out=None):
    """Each slice of ``input`` along ``dim`` scaled so that its ``p``-norm is at most ``maxnorm``
    (slices within the bound are unchanged), as PyTorch: factor maxnorm / (norm + 1e-7)."""
    check_tensor_argument("renorm", input)
    if out is not None:
        return write_out(out, "renorm", renorm, input, p, dim, maxnorm)
    if not isinstance(p, (int, float, np.number)) or isinstance(p, bool):
        raise TypeError(f"renorm(): argument 'p' must be Number, not {type(p).__name__}")
    if p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm:g}")  # as c10 prints a Scalar
    ndim = input._data.ndim
    if ndim <= 1:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {ndim} dimensions")
    d = normalize_dim(dim, ndim)
    if input._data.dtype.kind not in "f":
        raise RuntimeError(
            f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got {_dtype_name(input._data)}"
        )
    others = tuple(i for i in range(ndim) if i != d)
    norms = _vector_norm(input, float(p), others)
    with quiet():
        factor = where(norms > maxnorm, maxnorm / (norms + 1e-7), 1.0)
    return input * factor


# -- combinations ----------------------------------------------------------------------------------------------
def combinations(input, r=2, with_replacement=False):
    """The length-``r`` combinations of the elements of a 1-D tensor, as rows in
    ``itertools.combinations``' order (``combinations_with_replacement``'s with
    ``with_replacement=True``)."""
    check_tensor_argument("combinations", input)
    if isinstance(r, bool) or not isinstance(r, (int, np.integer)):
        raise TypeError(f"combinations(): argument 'r' must be int, not {type(r).__name__}")
    if input._data.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input._data.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return input.narrow(0, 0, 0)
    n = input._data.shape[0]
    # The indices depend on the length alone, so they are made on the host (no data read).
    make = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    rows = np.fromiter(itertools.chain.from_iterable(make(range(n), int(r))), dtype=np.int64).reshape(-1, int(r))
    index = wrap(backend.to_device(rows.reshape(-1), input.device))
    return input.index_select(0, index).reshape(-1, int(r))


# -- histogramdd ------------------------------------------------------------------------------------------------
histogramdd_type = return_type("histogramdd", ["hist", "bin_edges"])


def _edges(name, data, column, bins, i, low, high):
    """One dimension's bin edges: a 1-D tensor as given, or ``bins`` equal bins over the range."""
    xp = backend.array_module(data)
    if isinstance(bins, Tensor):
        if bins._data.ndim != 1:
            raise RuntimeError(
                f"{name}: bins tensor should have one dimension, but got {bins._data.ndim} dimensions in the bins tensor "
                f"for dimension {i}"
            )
        if bins._data.shape[0] < 1:
            raise RuntimeError(f"{name}: bins tensor should have at least 1 element, but got 0 elements for dimension {i}")
        return bins._data.astype(data.dtype)
    count = int(bins)
    if count <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {count} for dimension {i}")
    if low > high:
        raise RuntimeError(f"{name}: min should not exceed max, but got min {low:g} max {high:g} for dimension {i}")
    low, high = _range_of(column, low, high)
    return xp.linspace(low, high, count + 1).astype(data.dtype)


def histogramdd(input, bins, *, range=None, weight=None, density=False):
    """(hist, bin_edges): the D-dimensional histogram of the points in the rows of ``input``
    (its last dim is D). ``bins`` is an int (each dim), D ints, or D 1-D tensors of edges;
    ``range`` is ``[min_0, max_0, min_1, max_1, ...]`` (the data's range by default)."""
    name = "torch.histogramdd"
    check_tensor_argument("histogramdd", input)
    data = input._data
    if data.dtype.kind != "f":
        raise NotImplementedError(f"\"histogramdd\" not implemented for '{_dtype_name(data)}'")
    if data.ndim < 2:
        raise RuntimeError(f"{name}: input tensor should have at least 2 dimensions")
    d = data.shape[-1]
    bins = [bins] * d if isinstance(bins, (int, np.integer)) and not isinstance(bins, bool) else list(bins)
    if len(bins) != d:
        raise RuntimeError("histogramdd: The size of bins must be equal to the innermost dimension of the input.")
    if range is not None and len(range) != 2 * d:
        raise RuntimeError(f"{name}: for a {d}-dimensional histogram range should have {2 * d} elements, but got {len(range)}")
    points = data.reshape(-1, d)
    if weight is not None and (not isinstance(weight, Tensor) or tuple(weight._data.shape) != tuple(data.shape[:-1])):
        shape = list(weight.shape) if isinstance(weight, Tensor) else weight
        raise RuntimeError(
            f"{name}: if weight tensor is provided it should have the same shape as the input tensor excluding its "
            f"innermost dimension, but got input with shape {list(data.shape)} and weight with shape {shape}"
        )
    limits = [(0.0, 0.0)] * d if range is None else [(float(range[2 * i]), float(range[2 * i + 1])) for i in builtins.range(d)]
    edges = [_edges(name, data, points[:, i], b, i, *limits[i]) for i, b in enumerate(bins)]
    xp = backend.array_module(data)
    w = None if weight is None else weight._data.reshape(-1)
    with quiet():
        counts, _ = xp.histogramdd(points, bins=edges, weights=w, density=density)
    return histogramdd_type(wrap(counts.astype(data.dtype)), tuple(wrap(e) for e in edges))


__all__ = [
    "combinations", "corrcoef", "cov", "cumulative_trapezoid", "histogramdd", "logcumsumexp", "renorm", "trapezoid",
    "trapz",
]
