"""PyTorch's legacy Tensor methods that sit above the factories and torch.linalg: ``Tensor.new``
(the old constructor), the deprecated non-in-place ``resize`` / ``resize_as``, and the deprecated
``Tensor.lu``. ``_tensor.py``'s methods call these."""

import functools
import numbers
import operator
import warnings

import numpy as np

from . import _creation, _dtypes, linalg
from ._tensor import Size, Tensor

_LU_DEPRECATED = (
    "torch.lu is deprecated in favor of torch.linalg.lu_factor / torch.linalg.lu_factor_ex and will be removed in a "
    "future PyTorch release.\nLU, pivots = torch.lu(A, compute_pivots)\nshould be replaced with\nLU, pivots = "
    "torch.linalg.lu_factor(A, compute_pivots)\nand\nLU, pivots, info = torch.lu(A, compute_pivots, get_infos=True)\n"
    "should be replaced with\nLU, pivots, info = torch.linalg.lu_factor_ex(A, compute_pivots)"
)


def _options(tensor):
    device = str(tensor.device) if tensor.device.type == "cpu" else f"{tensor.device.type}:{tensor.device.index or 0}"
    return (f"TensorOptions(dtype={_dtypes.cpp_type_name(tensor._data.dtype)}, device={device}, layout=Strided, "
            "requires_grad=false (default), pinned_memory=false (default), memory_format=(nullopt))")


def _invalid(args, kwargs):
    got = [type(a).__name__ for a in args] + [f"{k}={type(v).__module__.replace('tinytorch', 'torch')}.{type(v).__name__}"
                                              if type(v).__module__.startswith("tinytorch") else f"{k}={type(v).__name__}"
                                              for k, v in kwargs.items()]
    return TypeError(
        f"new() received an invalid combination of arguments - got ({', '.join(got)}), but expected one of:\n"
        " * (*, torch.device device = None)\n * (torch.Storage storage)\n * (Tensor other)\n"
        " * (tuple of ints size, *, torch.device device = None)\n * (object data, *, torch.device device = None)\n"
    )


def _is_int(value):
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, (bool, np.bool_))


def new(self, *args, **kwargs):
    """The legacy constructor: ``new()`` an empty tensor, ``new(2, 3)`` or ``new(Size)`` an
    uninitialized one of that size, ``new(data)`` one from data, ``new(tensor)`` an alias of a
    tensor of the same dtype and device; always ``self``'s dtype, on ``device`` (default: self's)."""
    if set(kwargs) - {"device"}:
        raise _invalid(args, kwargs)
    device = kwargs.get("device")
    target = self.device if device is None else device
    if args and all(_is_int(a) for a in args) or len(args) == 1 and isinstance(args[0], Size):
        sizes = tuple(int(s) for s in (args[0] if isinstance(args[0], Size) else args))
        negative = [s for s in sizes if s < 0]
        if negative:
            raise RuntimeError(f"Trying to create tensor with negative dimension {negative[0]}: {list(sizes)}")
        return _creation.empty(sizes, dtype=self.dtype, device=target)
    if not args:
        return _creation.empty(0, dtype=self.dtype, device=target)
    if len(args) > 1:
        raise _invalid(args, kwargs)
    data = args[0]
    if isinstance(data, Tensor):
        if device is not None:
            raise RuntimeError(
                "Legacy tensor new of the form tensor.new(tensor, device=device) is not supported.  Use torch.as_tensor(...) instead."
            )
        if data._data.dtype != self._data.dtype or data.device != self.device:
            raise TypeError(f"expected {_options(self)} (got {_options(data)})")
        return Tensor._make(data._data)  # an alias of the same memory, outside the graph
    if isinstance(data, (numbers.Number, np.generic)):
        raise TypeError(f"new(): data must be a sequence (got {type(data).__name__})")
    return _creation.tensor(data, dtype=self.dtype, device=target)


def _resize_error(sizes, numel, tensor):
    return RuntimeError(
        f"requested resize to {'x'.join(map(str, sizes))} ({numel} elements in total), but the given tensor has a size "
        f"of {'x'.join(map(str, tensor._data.shape))} ({tensor._data.size} elements). autograd's resize can only change "
        "the shape of a given tensor, while preserving the number of elements. "
    )


def _resize(tensor, sizes):
    # PyTorch's autograd Resize multiplies the arguments as given, so resize((3, 2)) is refused as it is there.
    numel = functools.reduce(operator.mul, sizes, 1)
    if numel != tensor._data.size:
        raise _resize_error(sizes, numel, tensor)
    return tensor.contiguous().view(*sizes)


def resize(self, *sizes):
    """``resize_`` without changing ``self`` (deprecated, warns): a view of the same elements in a
    new shape of as many elements; differentiable."""
    warnings.warn("non-inplace resize is deprecated", UserWarning, stacklevel=3)
    return _resize(self, sizes)


def resize_as(self, tensor):
    """``resize`` to ``tensor``'s size (deprecated, warns)."""
    warnings.warn("non-inplace resize_as is deprecated", UserWarning, stacklevel=3)
    return _resize(self, tuple(tensor.shape))


def lu(self, pivot=True, get_infos=False):
    """(LU, pivots), or (LU, pivots, infos) with ``get_infos``: ``torch.linalg.lu_factor_ex``'s
    results, never raising for a singular matrix (deprecated: warns)."""
    warnings.warn(_LU_DEPRECATED, UserWarning, stacklevel=3)
    LU, pivots, infos = linalg.lu_factor_ex(self, pivot=pivot)
    return (LU, pivots, infos) if get_infos else (LU, pivots)
