"""The deprecated top-level norms ``torch.nuclear_norm`` and ``torch.frobenius_norm``: PyTorch keeps
them for TorchScript, warning, and computes them with ``linalg.matrix_norm`` / ``linalg.vector_norm``."""

import numbers
import warnings

from . import linalg


def _pair(dim):
    # aten takes an int[2]: an int given alone stands for both entries, as PyTorch's binding expands it
    return (dim, dim) if isinstance(dim, numbers.Integral) and not isinstance(dim, bool) else tuple(dim)


def nuclear_norm(input, dim=None, keepdim=False):
    """The sum of singular values over the matrix dims ``dim`` (the last two by default)."""
    if isinstance(dim, bool):  # nuclear_norm(input, keepdim)
        dim, keepdim = None, dim
    warnings.warn(
        "at::nuclear_norm is deprecated and it is just left for JIT compatibility. It will be removed in a future "
        "PyTorch release. Please use `linalg.matrix_norm(A, 'nuc', dim, keepdim)` instead", UserWarning, stacklevel=2
    )
    return linalg.matrix_norm(input, "nuc", (-2, -1) if dim is None else _pair(dim), keepdim)


def frobenius_norm(input, dim, keepdim=False):
    """The square root of the sum of squares over ``dim`` (all dims for ``()``)."""
    warnings.warn(
        "at::frobenius_norm is deprecated and it is just left for JIT compatibility. It will be removed in a future "
        "PyTorch release. Please use `linalg.vector_norm(A, 2., dim, keepdim)` instead", UserWarning, stacklevel=2
    )
    dims = (dim,) if isinstance(dim, numbers.Integral) else tuple(dim)
    return linalg.vector_norm(input, 2.0, dims or None, keepdim)
