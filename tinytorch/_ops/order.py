"""Order statistics: sort, argsort, topk, kthvalue, median, nanmedian, mode, quantile and nanquantile.

Every value is picked from a stable sort (NaN last, as NumPy and PyTorch order it) and taken with
``gather``, so its gradient goes to the element chosen, as PyTorch's. The median of all elements
is the one primitive here: PyTorch shares its gradient evenly among the elements equal to it.
``quantile`` is PyTorch's own composite (sort, ranks from ``q``, two gathers and a ``lerp``), so a
tensor ``q`` gets a gradient through the interpolation weights, as in PyTorch.
"""

from .. import _backend as backend, _dtypes as dtypes
from ..autograd.function import Function
from .._numpy_names import numpy_names
from .._tensor import Tensor
from ._util import normalize_dim, return_type, wrap, write_out

sort_type, topk_type, kthvalue_type, median_type, nanmedian_type, mode_type = (
    return_type(n) for n in ("sort", "topk", "kthvalue", "median", "nanmedian", "mode")
)


def _stable_order(data, d):
    """Indices that sort ``data`` along ``d``: stable, NaN last (NumPy's and CuPy's order)."""
    return data.argsort(axis=d, kind="stable").astype(dtypes.int64.numpy, copy=False)


@numpy_names
def sort(input, dim=-1, descending=False, stable=False):
    """(values, indices) sorted along ``dim``; values carry the gradient through gather."""
    d = normalize_dim(dim, input._data.ndim)
    data = input._data
    if data.ndim == 0:
        return sort_type(input.clone(), wrap(backend.array_module(data).zeros((), dtype=dtypes.int64.numpy)))
    key = data if not descending else (~data if data.dtype.kind == "b" else -data)
    indices = wrap(_stable_order(key, d))
    return sort_type(input.gather(d, indices), indices)


@numpy_names
def argsort(input, dim=-1, descending=False, stable=False):
    return sort(input, dim, descending, stable).indices


@numpy_names
def topk(input, k, dim=-1, largest=True, sorted=True):
    d = normalize_dim(dim, input._data.ndim)
    size = input._data.shape[d] if input._data.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError(f"selected index k out of range: k={k} for a dimension of size {size}")
    values, indices = sort(input, d, descending=largest)
    indices = indices.narrow(d, 0, k) if input._data.ndim else indices
    return topk_type(input.gather(d, indices) if input._data.ndim else values, indices)


# -- one element per row: kthvalue, median, nanmedian -------------------------------------------------
def _check_orderable(input, kernel):
    kind = input._data.dtype.kind
    if kind in "bc":
        raise NotImplementedError(f'"{kernel}" not implemented for \'{dtypes.scalar_type_name(input._data.dtype)}\'')


def _nan_count(data, d):
    xp = backend.array_module(data)
    if data.dtype.kind != "f":
        return xp.zeros(data.shape[:d] + (1,) + data.shape[d + 1:], dtype=dtypes.int64.numpy)
    return xp.isnan(data).sum(axis=d, keepdims=True)


def _pick(input, dim, keepdim, name, position):
    """(values, indices) of the element at ``position(n, nan_count)`` of each row's stable sort
    along ``dim``; the values are gathered, so the gradient goes to that element."""
    data = input._data
    d = normalize_dim(dim, data.ndim)
    if data.ndim == 0:
        row = input.reshape(1)
        values, indices = _pick(row, 0, False, name, position)
        return values, indices
    n = data.shape[d]
    if n == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    order = _stable_order(data, d)
    xp = backend.array_module(data)
    k = position(n, _nan_count(data, d))
    if not hasattr(k, "shape"):
        k = xp.full(data.shape[:d] + (1,) + data.shape[d + 1:], k, dtype=dtypes.int64.numpy)
    indices = wrap(xp.take_along_axis(order, k.astype(dtypes.int64.numpy, copy=False), axis=d))
    values = input.gather(d, indices)
    if not keepdim:
        values, indices = values.squeeze(d), indices.squeeze(d)
    return values, indices


@numpy_names
def kthvalue(input, k, dim=-1, keepdim=False, *, out=None):
    """The ``k``-th smallest element along ``dim`` (1-based; NaN counts as the largest) and its
    index. At ties the index is the tie's ``k``-th in index order; PyTorch's quickselect may
    return another of the equal elements (docs/differences.md)."""
    if out is not None:
        raise TypeError("kthvalue(): out= is not supported by tinytorch; assign the returned tuple instead")
    _check_orderable(input, "kthvalue_cpu")
    d = normalize_dim(dim, input._data.ndim)
    size = input._data.shape[d] if input._data.ndim else 1
    if input._data.ndim and size == 0:
        raise IndexError(f"kthvalue(): Expected reduction dim {d} to have non-zero size.")
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= size:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    return kthvalue_type(*_pick(input, d, keepdim, "kthvalue", lambda n, nans: k - 1))


class Median(Function):
    """The median of all elements (the lower of the two middle ones for an even count; NaN if any
    is NaN, unless ``ignore_nan``). Its gradient is shared evenly among the elements equal to it
    (the NaNs when it is NaN), as PyTorch's ``evenly_distribute_backward``."""

    @staticmethod
    def forward(ctx, x, ignore_nan):
        data = x._data.reshape(-1)
        xp = backend.array_module(data)
        nans = int(xp.isnan(data).sum()) if data.dtype.kind == "f" else 0
        if data.size == 0 or (nans and not ignore_nan) or nans == data.size:
            out = wrap(xp.asarray(float("nan"), dtype=data.dtype))
        else:
            middle = (data.size - nans - 1) // 2
            out = wrap(xp.sort(data)[middle:middle + 1].reshape(()))  # NaNs sort last
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        x, out = ctx.saved_tensors
        hit = (x == out) | (x.isnan() & out.isnan())
        return grad_output * hit / hit.sum(), None


def _median(input, dim, keepdim, ignore_nan):
    name = "nanmedian" if ignore_nan else "median"
    if dim is None:
        _check_orderable(input, "median_cpu")
        if input._data.size == 0 and input._data.dtype.kind != "f":
            # PyTorch returns NaN cast to the integer type (INT64_MIN): an answer that is not one.
            raise RuntimeError(f"{name}() of an empty {dtypes.scalar_type_name(input._data.dtype)} tensor has no value (it would be NaN)")
        return Median.apply(input, ignore_nan)
    _check_orderable(input, "median_out")

    def position(n, nans):
        if ignore_nan:  # the lower middle of the numbers; an all-NaN row gives its first NaN
            return (n - nans - 1).clip(0, None) // 2
        xp = backend.array_module(nans)
        return xp.where(nans > 0, n - nans, (n - 1) // 2)  # the first NaN, else the lower middle

    return (nanmedian_type if ignore_nan else median_type)(*_pick(input, dim, keepdim, name, position))


@numpy_names
def median(input, dim=None, keepdim=False):
    """The median of all elements, or (values, indices) along ``dim``: the lower of the two middle
    values for an even count, NaN where a NaN is present. At ties the index is that of the tie's
    middle element in index order, as PyTorch's CPU kernel."""
    return _median(input, dim, keepdim, ignore_nan=False)


@numpy_names
def nanmedian(input, dim=None, keepdim=False):
    """``median`` of the values that are not NaN (NaN where all are)."""
    return _median(input, dim, keepdim, ignore_nan=True)


@numpy_names
def mode(input, dim=-1, keepdim=False):
    """The most frequent value along ``dim`` (the smallest of those equally frequent) and the index
    of its last occurrence, as PyTorch's CPU kernel gives for rows of up to 16 elements (for longer
    rows PyTorch's index is any occurrence). A NaN equals nothing, so it is the mode only of a row
    with no repeated value whose smallest element is NaN."""
    data = input._data
    d = normalize_dim(dim, data.ndim)
    if data.ndim == 0:
        values, indices = mode(input.reshape(1), 0, False)
        return mode_type(values, indices)
    n = data.shape[d]
    if n == 0:
        raise IndexError(f"mode(): Expected reduction dim {d} to have non-zero size.")
    xp = backend.array_module(data)
    order = xp.moveaxis(_stable_order(data, d), d, -1)
    rows = order.reshape(-1, n)
    ordered = xp.take_along_axis(xp.moveaxis(data, d, -1).reshape(-1, n), rows, axis=1)
    # Runs of equal values in each sorted row: where each starts, and its length at its last element.
    starts = xp.ones(ordered.shape, dtype=bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    ends = xp.ones(ordered.shape, dtype=bool)
    ends[:, :-1] = starts[:, 1:]
    first_column = xp.nonzero(starts)[1][xp.cumsum(starts.reshape(-1)) - 1].reshape(ordered.shape)
    lengths = xp.where(ends, xp.arange(n) - first_column + 1, 0)
    last = lengths.argmax(axis=1)[:, None]  # the first longest run: the smallest such value
    index = xp.take_along_axis(rows, last, axis=1).reshape(order.shape[:-1] + (1,))
    indices = wrap(xp.moveaxis(index, -1, d))
    values = input.gather(d, indices)
    if not keepdim:
        values, indices = values.squeeze(d), indices.squeeze(d)
    return mode_type(values, indices)


# -- quantiles ---------------------------------------------------------------------------------------
_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan):
    data = input._data
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"quantile() interpolation must be one of linear, lower, higher, midpoint or nearest, but got {interpolation}")
    if not isinstance(q, Tensor):
        if not isinstance(q, (int, float)) or isinstance(q, bool):
            raise TypeError(f"quantile(): argument 'q' must be Tensor or float, not {type(q).__name__}")
        if not 0 <= q <= 1:
            raise RuntimeError(f"quantile() q must be in the range [0, 1] but got {q}")
    if data.size == 0:
        raise RuntimeError("quantile() input tensor must be non-empty")
    if isinstance(q, Tensor) and q._data.ndim > 1:
        raise RuntimeError("quantile() q must be a scalar or 1D tensor")
    if data.dtype not in (dtypes.float32.numpy, dtypes.float64.numpy):
        raise RuntimeError("quantile() input tensor must be either float or double dtype")
    if not isinstance(q, Tensor):
        q = wrap(backend.array_module(data).asarray(q, dtype=data.dtype))
    elif q._data.dtype != data.dtype:
        raise RuntimeError("quantile() q tensor must be same dtype as the input tensor")
    elif q.device != input.device:
        raise RuntimeError("quantile() q tensor must be on the same device as the input tensor")
    d = None if dim is None else normalize_dim(dim, data.ndim)
    if not bool(((q._data >= 0) & (q._data <= 1)).all()):  # a read-back on a GPU, where PyTorch does not check
        raise RuntimeError("quantile() q values must be in the range [0, 1]")

    # The reduced values last, (others..., n); ``kept`` is the result's shape for one q.
    if d is None:
        rows, kept = input.reshape(-1), (1,) * data.ndim if keepdim else ()
    elif data.ndim == 0:
        rows, kept = input.reshape(1), ()
    else:
        rows, kept = input.movedim(d, -1), data.shape[:d] + ((1,) if keepdim else ()) + data.shape[d + 1:]
    ordered = rows.sort(-1).values
    n = ordered.shape[-1]

    # Ranks in [0, n-1] for each q, in the input's dtype, as PyTorch computes them.
    qs = q.reshape(-1)
    nans = ordered.isnan().sum(-1, keepdim=True)
    if ignore_nan:
        ranks = qs * (n - 1 - nans)  # an all-NaN row gets rank -1, then 0: its first NaN
        ranks = ranks.masked_fill(ranks < 0, 0)
    else:
        ranks = (qs * (n - 1)).expand(*ordered.shape[:-1], qs.shape[0])
        ranks = ranks.masked_fill((nans > 0).expand_as(ranks), n - 1)  # a NaN row's quantiles are NaN
    if interpolation == "lower":
        ranks = ranks.floor()
    elif interpolation == "higher":
        ranks = ranks.ceil()
    elif interpolation == "nearest":
        ranks = ranks.round()
    below = ranks.to(dtypes.int64)
    result = ordered.gather(-1, below)
    if interpolation in ("linear", "midpoint"):
        weights = ranks - below if interpolation == "linear" else ranks.new_full(ranks.shape, 0.5)
        result = result.lerp(ordered.gather(-1, ranks.ceil().to(dtypes.int64)), weights)

    # (kept..., len(q)) -> (len(q), kept...) for a 1-D q, (kept...) for a scalar one.
    result = result.movedim(-1, 0).reshape(qs.shape[0], *kept)
    return result.reshape(kept) if q._data.ndim == 0 else result


@numpy_names
def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """The ``q``-th quantiles of all elements, or along ``dim``: ``q`` a float or a 1-D tensor
    (its length becomes the result's first dim) in [0, 1], interpolated between the two nearest
    ranks as ``interpolation`` says; NaN where a reduced row holds a NaN."""
    if out is not None:
        return write_out(out, "quantile", quantile, input, q, dim, keepdim, interpolation=interpolation)
    return _quantile(input, q, dim, keepdim, interpolation, ignore_nan=False)


@numpy_names
def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """``quantile`` of the values that are not NaN (NaN where all are)."""
    if out is not None:
        return write_out(out, "nanquantile", nanquantile, input, q, dim, keepdim, interpolation=interpolation)
    return _quantile(input, q, dim, keepdim, interpolation, ignore_nan=True)
