"""``Pad``: F.pad in every mode (constant, reflect, replicate, circular), and its adjoint.

Each padded dim is written with slice copies (no gathers): the kept part of the input, then the
border (the value, the edge element, the mirrored or the wrapped-around part). The gradient is
the adjoint: the kept part of the gradient, plus each border's gradient added back onto the
elements it was copied from (a sum for replicate, a flipped slab for reflect, a shifted slab for
circular). Forward and adjoint are the same Function with a ``transposed`` flag, each the
other's backward, so every order of derivative exists.
"""

from .. import _backend as backend
from ..autograd.function import Function
from ._util import wrap


def _span(ndim, axis, start, stop):
    index = [slice(None)] * ndim
    index[axis] = slice(start, stop)
    return tuple(index)


def _parts(size, before, after):
    """(cut_before, kept, add_before, add_after): negative widths cut, positive ones add."""
    cut_before, cut_after = max(-before, 0), max(-after, 0)
    return cut_before, size - cut_before - cut_after, max(before, 0), max(after, 0)


def _pad_axis(array, axis, before, after, mode, value):
    xp = backend.array_module(array)
    ndim, size = array.ndim, array.shape[axis]
    cut, kept, left, right = _parts(size, before, after)
    end = left + kept + right
    shape = array.shape[:axis] + (end,) + array.shape[axis + 1 :]
    out = xp.empty(shape, dtype=array.dtype)
    out[_span(ndim, axis, left, left + kept)] = array[_span(ndim, axis, cut, cut + kept)]
    head, tail = _span(ndim, axis, 0, left), _span(ndim, axis, left + kept, end)
    if mode == "constant":
        out[head] = value
        out[tail] = value
    elif mode == "replicate":  # reflect and replicate index the input itself, cut or not (as PyTorch)
        out[head] = array[_span(ndim, axis, 0, 1)]
        out[tail] = array[_span(ndim, axis, size - 1, size)]
    elif mode == "reflect":
        out[head] = xp.flip(array[_span(ndim, axis, 1, left + 1)], axis)
        out[tail] = xp.flip(array[_span(ndim, axis, size - 1 - right, size - 1)], axis)
    else:  # circular wraps around the kept part (PyTorch's _pad_circular); widths <= kept
        out[head] = out[_span(ndim, axis, kept, left + kept)]
        out[tail] = out[_span(ndim, axis, left, left + right)]
    return out


def _pad_axis_adjoint(grad, axis, size, before, after, mode):
    xp = backend.array_module(grad)
    ndim = grad.ndim
    cut, kept, left, right = _parts(size, before, after)
    end = left + kept + right
    shape = grad.shape[:axis] + (size,) + grad.shape[axis + 1 :]
    out = xp.zeros(shape, dtype=grad.dtype)
    out[_span(ndim, axis, cut, cut + kept)] = grad[_span(ndim, axis, left, left + kept)]
    head, tail = grad[_span(ndim, axis, 0, left)], grad[_span(ndim, axis, left + kept, end)]
    if mode == "replicate":
        out[_span(ndim, axis, 0, 1)] += backend.reduce_sum(head, axis, keepdims=True)
        out[_span(ndim, axis, size - 1, size)] += backend.reduce_sum(tail, axis, keepdims=True)
    elif mode == "reflect":
        out[_span(ndim, axis, 1, left + 1)] += xp.flip(head, axis)
        out[_span(ndim, axis, size - 1 - right, size - 1)] += xp.flip(tail, axis)
    elif mode == "circular":
        out[_span(ndim, axis, cut + kept - left, cut + kept)] += head
        out[_span(ndim, axis, cut, cut + right)] += tail
    return out


def pad_array(array, widths, mode, value):
    """``array`` padded by ``widths`` ((before, after) per dim, the last dim first)."""
    for i, (before, after) in enumerate(widths):
        if before or after:
            array = _pad_axis(array, array.ndim - 1 - i, before, after, mode, value)
    return array


def pad_adjoint(grad, widths, mode, shape):
    """The gradient of ``pad_array`` for an input of ``shape``, from the output's gradient."""
    for i in reversed(range(len(widths))):
        before, after = widths[i]
        if before or after:
            axis = grad.ndim - 1 - i
            grad = _pad_axis_adjoint(grad, axis, shape[axis], before, after, mode)
    return grad


class Pad(Function):
    """F.pad: ``widths`` per dim (the last first), ``mode`` and the constant ``value``; with
    ``transposed`` the adjoint (the gradient of padding an input of ``shape``). Arguments are
    checked by ``nn.functional.pad``."""

    @staticmethod
    def forward(ctx, input, widths, mode, value, shape, transposed):
        ctx.widths, ctx.mode, ctx.shape, ctx.transposed = widths, mode, shape, transposed
        data = input._data
        result = pad_adjoint(data, widths, mode, shape) if transposed else pad_array(data, widths, mode, value)
        return wrap(result.copy() if result is data else result)  # widths of 0: still a new tensor

    @staticmethod
    def backward(ctx, grad_output):
        # Padding is affine: its gradient is the adjoint, whose own gradient is padding with 0.
        grad = Pad.apply(grad_output, ctx.widths, ctx.mode, 0, ctx.shape, not ctx.transposed)
        return grad, None, None, None, None, None
