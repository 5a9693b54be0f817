"""The ``*_copy`` variants of the view ops (``torch.t_copy``, ``torch.view_copy``...): the view op
followed by a clone, so the result owns contiguous memory; differentiable through those two ops.
Each takes ``out=`` as PyTorch's do."""

import builtins
import numbers

from .._tensor import Tensor
from ._util import normalize_dim, write_out
from .elementwise import clone
from .indexing_extra import unfold
from .movement import (
    diagonal, expand, narrow, permute, select, split, squeeze, t, transpose, unbind, unsqueeze, view, view_dtype,
)
from .views_extra import split_with_sizes
from .. import _dtypes as dtypes


def _copied(name, view_op):
    """``name(input, ...)``: ``view_op(input, ...)`` cloned (each piece, for the ops that split)."""

    def copy_op(input, *args, out=None, **kwargs):
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
        if isinstance(out, (list, tuple)):  # the splitting ops write into one tensor per piece
            pieces = copy_op(input, *args, **kwargs)
            if len(out) != len(pieces):
                raise RuntimeError(f"{name}: expected out to be a list of {len(pieces)} tensors, but got {len(out)}")
            for target, piece in zip(out, pieces):
                write_out(target, name, _alias, piece)
            return None
        if out is not None:
            return write_out(out, name, copy_op, input, *args, **kwargs)
        result = view_op(input, *args, **kwargs)
        if isinstance(result, (tuple, list)):
            return [clone(piece) for piece in result]
        return clone(result)

    copy_op.__name__ = copy_op.__qualname__ = name
    copy_op.__doc__ = f"Performs the same operation as ``{name[:-5]}``, but returns a copy instead of a view."
    return copy_op


def _alias(input):
    return input


def _detach(input):
    return input.detach()


def _expand(input, size, *, implicit=False):
    return expand(input, size)


def _slice(input, dim=0, start=None, end=None, step=1):
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    index = [builtins.slice(None)] * input._data.ndim
    index[normalize_dim(dim, input._data.ndim)] = builtins.slice(start, end, step)
    return input[tuple(index)]


def _view(input, size):
    if isinstance(size, dtypes.dtype):
        return view_dtype(input, size)
    return view(input, size)


def _squeeze(input, dim=None):
    return squeeze(input, dim)


def _permute(input, dims):
    if isinstance(dims, numbers.Integral):
        dims = (dims,)
    return permute(input, *dims)


alias_copy = _copied("alias_copy", _alias)
detach_copy = _copied("detach_copy", _detach)
diagonal_copy = _copied("diagonal_copy", diagonal)
expand_copy = _copied("expand_copy", _expand)
narrow_copy = _copied("narrow_copy", narrow)
permute_copy = _copied("permute_copy", _permute)
select_copy = _copied("select_copy", select)
slice_copy = _copied("slice_copy", _slice)
split_copy = _copied("split_copy", split)
split_with_sizes_copy = _copied("split_with_sizes_copy", split_with_sizes)
squeeze_copy = _copied("squeeze_copy", _squeeze)
t_copy = _copied("t_copy", t)
transpose_copy = _copied("transpose_copy", transpose)
unbind_copy = _copied("unbind_copy", unbind)
unfold_copy = _copied("unfold_copy", unfold)
unsqueeze_copy = _copied("unsqueeze_copy", unsqueeze)
view_copy = _copied("view_copy", _view)
