"""The less common view ops: ``adjoint``, ``split_with_sizes`` and the ``unsafe_*`` splits, the
out-of-place ``fill``, ``nonzero_static``, and the in-place view forms (``squeeze_``, ``t_``,
``transpose_``, ``resize_``...), which change a tensor's shape in place. All are composites of
existing Functions: they need none of their own."""

import builtins
import numbers

from .. import _backend as backend, _dtypes as dtypes
from .._tensor import Tensor
from ._util import shape_arg, wrap
from .indexing import check_inplace, fill_, nonzero
from .movement import chunk, split, squeeze, t, transpose, unsqueeze


def adjoint(input):
    """The conjugate transpose of the last two dims (a view): ``input.mT``, as tinytorch has no complex dtypes."""
    if input._data.ndim < 2:
        raise RuntimeError(
            f"tensor.adjoint() is only supported on matrices or batches of matrices. Got {input._data.ndim}-D tensor."
        )
    return transpose(input, -2, -1)


def _sizes(split_sizes, name):
    if isinstance(split_sizes, (numbers.Number, Tensor)) or not isinstance(split_sizes, (list, tuple)):
        raise TypeError(
            f"{name}(): argument 'split_sizes' (position 2) must be tuple of ints, not {type(split_sizes).__name__}"
        )
    return [int(s) for s in split_sizes]


def split_with_sizes(input, split_sizes, dim=0):
    """Views of ``input`` along ``dim``, of the lengths in ``split_sizes`` (which must sum to its size)."""
    return split(input, _sizes(split_sizes, "split_with_sizes"), dim)


def unsafe_split(tensor, split_size_or_sections, dim=0):
    """``split``: PyTorch's variant skips view tracking for speed; here the two are the same."""
    return split(tensor, split_size_or_sections, dim)


def unsafe_chunk(input, chunks, dim=0):
    """``chunk`` (see ``unsafe_split``)."""
    return chunk(input, chunks, dim)


def unsafe_split_with_sizes(input, split_sizes, dim=0):
    """``split_with_sizes`` (see ``unsafe_split``)."""
    return split(input, _sizes(split_sizes, "unsafe_split_with_sizes"), dim)


def fill(input, value):
    """A new tensor of ``input``'s shape and dtype, every element ``value`` (a number or a 0-d tensor)."""
    if not isinstance(value, (numbers.Number, Tensor)):
        raise TypeError(f"fill(): argument 'value' (position 2) must be Number, not {type(value).__name__}")
    out = wrap(backend.array_module(input._data).empty_like(input._data))
    return fill_(out, value)


def nonzero_static(input, *, size, fill_value=-1):
    """The indices of the non-zero elements (``nonzero``), cut or padded with ``fill_value`` to ``size`` rows."""
    if isinstance(size, bool) or not isinstance(size, numbers.Integral):
        raise TypeError(f"nonzero_static(): argument 'size' must be int, not {type(size).__name__}")
    if size < 0:
        raise RuntimeError("nonzero_static: 'size' must be an non-negative integer")
    xp = backend.array_module(input._data)
    if input._data.ndim == 0:  # one index row (of no columns) when the scalar is non-zero
        found = xp.zeros((builtins.int(input._data != 0), 0), dtype=dtypes.int64.numpy)
    else:
        found = nonzero(input)._data
    out = xp.full((builtins.int(size), input._data.ndim), fill_value, dtype=dtypes.int64.numpy)
    count = builtins.min(builtins.int(size), found.shape[0])
    out[:count] = found[:count]
    return wrap(out)


# -- in place: a view op's result becomes the tensor itself -------------------------------------
def view_inplace(tensor, op, *args):
    """Run the view op ``op(tensor, *args)`` and give ``tensor`` its shape (and, under autograd, its
    grad_fn), as PyTorch's ``squeeze_``/``t_``... change the tensor's metadata in place."""
    check_inplace(tensor)
    result = op(tensor, *args)
    tensor._data = result._data  # a view of the same memory: other views still share it
    if result.grad_fn is not None:
        tensor.grad_fn, tensor._output_nr = result.grad_fn, result._output_nr
    tensor._version[0] += 1
    return tensor


def squeeze_(tensor, dim=None):
    return view_inplace(tensor, squeeze, dim)


def unsqueeze_(tensor, dim):
    return view_inplace(tensor, unsqueeze, dim)


def t_(tensor):
    if tensor._data.ndim > 2:
        raise RuntimeError(f"t_() expects a tensor with <= 2 dimensions, but self is {tensor._data.ndim}D")
    return view_inplace(tensor, t)


def transpose_(tensor, dim0, dim1):
    return view_inplace(tensor, transpose, dim0, dim1)


def resize_(tensor, *sizes, memory_format=None):
    """Give ``tensor`` the shape ``sizes``: a shrink keeps the leading elements (in flattened order,
    sharing memory when the tensor is contiguous), a growth keeps the old values first and fills the
    new elements with zeros (PyTorch leaves them uninitialized)."""
    if len(sizes) == 1 and isinstance(sizes[0], (list, tuple)):
        sizes = tuple(sizes[0])
    for s in sizes:
        if isinstance(s, bool) or not isinstance(s, numbers.Integral):
            raise TypeError(f"resize_(): argument 'size' (position 1) must be tuple of ints, not {type(s).__name__}")
    shape = shape_arg(sizes)
    if builtins.any(s < 0 for s in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension {builtins.min(shape)}: {list(shape)}")
    if tensor._requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    data = tensor._data
    if shape == data.shape:
        return tensor
    numel = 1
    for s in shape:
        numel *= s
    if numel <= data.size and data.flags.c_contiguous:
        tensor._data = data.reshape(-1)[:numel].reshape(shape)  # still a view of the same memory
    else:
        xp = backend.array_module(data)
        grown = xp.zeros(numel, dtype=data.dtype)
        kept = builtins.min(numel, data.size)
        grown[:kept] = data.reshape(-1)[:kept]
        tensor._data = grown.reshape(shape)
        tensor._base = None  # new memory: no longer a view of anything
    tensor._version[0] += 1
    return tensor


def resize_as_(tensor, the_template, *, memory_format=None):
    if not isinstance(the_template, Tensor):
        raise TypeError(
            f"resize_as_(): argument 'the_template' (position 1) must be Tensor, not {type(the_template).__name__}"
        )
    return resize_(tensor, tuple(the_template._data.shape))
