"""Small top-level functions of PyTorch's: ``get_device``, ``is_storage``, ``resize_as_``,
``set_default_tensor_type`` (deprecated), ``cond`` (run eagerly), ``norm_except_dim`` (weight
norm's norm) and ``embedding_renorm_``, with torch's signatures, checks and messages.

``embedding_renorm_`` reuses ``nn.functional``'s renorm, so this module sits above ``nn``
(``tinytorch/__init__.py`` imports it after ``nn``).
"""

import importlib
import numbers
import warnings

from . import _backend as backend, _dtypes as dtypes, _switches, _tensor_types
from ._ops.indexing import check_inplace
from ._tensor import Tensor
from .nn._functional_layers import _embedding_renorm_

__all__ = ["cond", "embedding_renorm_", "get_device", "is_storage", "norm_except_dim", "resize_as_",
           "set_default_tensor_type"]


def _type_name(value):
    return "Tensor" if isinstance(value, Tensor) else type(value).__name__


def _check_tensor(name, argument, position, value):
    if not isinstance(value, Tensor):
        raise TypeError(f"{name}(): argument '{argument}' (position {position}) must be Tensor, not {_type_name(value)}")


def _check_int(name, argument, position, value):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{name}(): argument '{argument}' (position {position}) must be int, not {_type_name(value)}")


def get_device(input):
    """The index of the GPU ``input`` lives on, -1 for a CPU tensor."""
    _check_tensor("get_device", "input", 1, input)
    return input.get_device()


def is_storage(obj, /):
    """Whether ``obj`` is a storage object. tinytorch has no storage classes (a tensor's memory is
    its array), so this is False for everything, as torch's is for anything that is not one."""
    return False


def resize_as_(input, the_template, *, memory_format=None):
    """Resize ``input`` in place to ``the_template``'s shape (``Tensor.resize_as_``)."""
    _check_tensor("resize_as_", "input", 1, input)
    _check_tensor("resize_as_", "the_template", 2, the_template)
    return input.resize_as_(the_template, memory_format=memory_format)


# -- set_default_tensor_type -------------------------------------------------------------------------
_warned = []  # torch warns once per process (TORCH_WARN_ONCE) unless warn_always is set
_on_cuda = []  # whether the last call chose a CUDA type (its default device to undo)


def _resolve(name):
    """A type from its dotted name: ``"torch.FloatTensor"`` (or ``tinytorch.``), ``"torch.cuda.FloatTensor"``."""
    parts = name.split(".")
    root = "tinytorch" if parts[0] == "torch" else parts[0]
    try:
        obj = importlib.import_module(root)
    except ImportError:
        raise ModuleNotFoundError(f"No module named '{parts[0]}'") from None
    for i, part in enumerate(parts[1:], 1):
        if not hasattr(obj, part):
            raise AttributeError(f"module '{'.'.join(parts[:i])}' has no attribute '{part}'")
        obj = getattr(obj, part)
    return obj


def set_default_tensor_type(t, /):
    """Deprecated (use ``set_default_dtype`` and ``set_default_device``): make the floating-point
    legacy type ``t`` (``tinytorch.DoubleTensor``, or its name ``"torch.DoubleTensor"``) the
    default: its dtype for Python floats and, for a CUDA type, its device for new tensors."""
    if not _warned or _switches.is_warn_always_enabled():
        _warned.append(True)
        warnings.warn(
            "torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use torch.set_default_dtype() "
            "and torch.set_default_device() as alternatives.",
            UserWarning,
            stacklevel=2,
        )
    if isinstance(t, str):
        t = _resolve(t)
    if not isinstance(t, _tensor_types._TensorType):
        raise TypeError("invalid type object: only floating-point types are supported as the default type")
    if not t.dtype.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    if t.is_cuda and backend.cuda_device_count() == 0:
        raise TypeError(f"type {_tensor_types._name(t)} not available: tinytorch sees no CUDA GPU (CuPy missing, or no device)")
    dtypes.set_default_dtype(t.dtype)
    if t.is_cuda:
        backend.set_default_device("cuda")
    elif _on_cuda:
        backend.set_default_device("cpu")
    _on_cuda[:] = [True] if t.is_cuda else []


# -- cond --------------------------------------------------------------------------------------------
def _tensor_leaves(tree):
    """Whether a nested dict/list/tuple holds tensors only (torch's pytree check on operands)."""
    if isinstance(tree, (list, tuple)):
        return all(_tensor_leaves(x) for x in tree)
    if isinstance(tree, dict):
        return all(_tensor_leaves(x) for x in tree.values())
    return isinstance(tree, Tensor)


def cond(pred, true_fn, false_fn, operands=()):
    """``true_fn(*operands)`` if ``pred`` holds, else ``false_fn(*operands)``. tinytorch runs it
    eagerly (there is no compiler to capture both branches), with torch's checks of the arguments."""
    if isinstance(pred, (bool, int, float)):  # a Python constant picks its branch, as in torch
        return true_fn(*operands) if pred else false_fn(*operands)
    if not isinstance(pred, Tensor):
        raise RuntimeError(f"Expected pred to be bool or tensor, but got {pred}.")
    if pred.numel() != 1:
        raise RuntimeError(f"Expected pred to be bool or single-element tensor, but got {pred}.")
    if not callable(true_fn) or not callable(false_fn):
        raise RuntimeError("Expect both branches to be callable.")
    if not isinstance(operands, (tuple, list)) or not _tensor_leaves(operands):
        raise RuntimeError(
            "Expect operands to be a tuple of possibly nested dict/list/tuple that only "
            f"consists of tensor leaves, but got {operands}."
        )
    return true_fn(*operands) if bool(pred.item()) else false_fn(*operands)


# -- the weight-norm and embedding helpers -----------------------------------------------------------
def norm_except_dim(v, pow=2, dim=0):
    """The ``pow``-norm of ``v`` over every dim but ``dim``, kept as size-1 dims (weight norm's
    ``g``); ``dim=-1`` gives the norm of the whole tensor. Differentiable."""
    _check_tensor("norm_except_dim", "v", 1, v)
    _check_int("norm_except_dim", "pow", 2, pow)
    _check_int("norm_except_dim", "dim", 3, dim)
    if dim == -1:
        return v.norm(pow)
    last = v.dim() - 1
    if dim == 0:
        return v.contiguous().view(v.shape[0], -1).norm(pow, 1).view((v.shape[0],) + (1,) * last)
    if dim == last:
        return v.contiguous().view(-1, v.shape[last]).norm(pow, 0).view((1,) * last + (v.shape[last],))
    return norm_except_dim(v.transpose(0, dim), pow, 0).transpose(0, dim)


def embedding_renorm_(input, indices, max_norm, norm_type):
    """Rescale in place each row of ``input`` that ``indices`` names whose ``norm_type``-norm exceeds
    ``max_norm`` to norm ``max_norm`` (what ``embedding(max_norm=...)`` does). Returns ``input``."""
    name = "embedding_renorm_"
    _check_tensor(name, "input", 1, input)
    _check_tensor(name, "indices", 2, indices)
    for argument, position, value in (("max_norm", 3, max_norm), ("norm_type", 4, norm_type)):
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            raise TypeError(f"{name}(): argument '{argument}' (position {position}) must be float, not {_type_name(value)}")
    if indices._data.dtype not in (dtypes.int64.numpy, dtypes.int32.numpy):
        raise RuntimeError(
            "Expected tensor for argument #2 'indices' to have one of the following scalar types: Long, Int; "
            f"but got {indices.type()} instead (while checking arguments for {name})"
        )
    if input.dim() != 2:
        raise RuntimeError(
            f"Expected 2-dimensional tensor, but got {input.dim()}-dimensional tensor for argument #1 'self' "
            f"(while checking arguments for {name})"
        )
    check_inplace(input)
    rows = input.shape[0]
    flat = indices._data.reshape(-1)
    outside = (flat < -rows) | (flat >= rows)

    def fail():
        bad = int(backend.to_numpy(flat[outside])[0])
        raise IndexError(f"select(): index {bad} out of range for tensor of size {list(input.shape)} at dimension 0")

    backend.check_later(outside.any(), fail)
    _embedding_renorm_(input, Tensor._make(flat % rows), float(max_norm), float(norm_type))
    return input
