"""PyTorch's small top-level questions and no-ops about tensors and dtypes: ``is_signed``,
``is_nonzero``, ``is_same_size``, ``is_complex``, ``is_conj``, ``is_neg``, ``is_inference``,
``resolve_conj``/``resolve_neg``, ``detach``, ``typename`` and ``can_cast``. Each
takes only a tensor where PyTorch's does (its TypeError otherwise) and defers to the method."""

from . import _dtypes as dtypes
from ._ops._util import check_tensor_argument, check_tensor_arguments
from ._tensor import Tensor


def is_signed(input):
    """True for a signed dtype (floating or signed integer); False for uint8 and bool."""
    check_tensor_argument("is_signed", input)
    return input.is_signed()


def is_nonzero(input):
    """The truth of a one-element tensor; RuntimeError for none or several elements."""
    check_tensor_argument("is_nonzero", input)
    return input.is_nonzero()


def is_same_size(input, other):
    """True when both tensors have the same shape."""
    check_tensor_arguments("is_same_size", input=input, other=other)
    return input.is_same_size(other)


def is_complex(input):
    """False: tinytorch has no complex dtypes."""
    check_tensor_argument("is_complex", input)
    return input.is_complex()


def is_conj(input):
    """False: tinytorch has no complex dtypes, so never a lazily conjugated tensor."""
    check_tensor_argument("is_conj", input)
    return input.is_conj()


def is_neg(input):
    """False: tinytorch never negates lazily."""
    check_tensor_argument("is_neg", input)
    return input.is_neg()


def is_inference(input):
    """True for a tensor made under ``inference_mode`` (or a view of one)."""
    check_tensor_argument("is_inference", input)
    return input.is_inference()


def resolve_conj(input):
    """``input`` itself: a tinytorch tensor is never a lazy conjugate."""
    check_tensor_argument("resolve_conj", input)
    return input.resolve_conj()


def resolve_neg(input):
    """``input`` itself: a tinytorch tensor is never a lazy negation."""
    check_tensor_argument("resolve_neg", input)
    return input.resolve_neg()


def detach(input):
    """``input.detach()``: the same memory, outside the graph."""
    check_tensor_argument("detach", input)
    return input.detach()


def typename(obj, /):
    """The fully qualified name of an object's type; for a tensor, ``tensor.type()``
    (``"tinytorch.FloatTensor"``)."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module = obj.__class__.__module__ or ""
        qualname = obj.__class__.__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


def _dtype_of(argument, position, value):
    if value.__class__ is dtypes.dtype:
        return value
    if value is float or value is int or value is bool:  # PyTorch's parser reads them as float64, int64, bool
        return dtypes.from_numpy_dtype(dtypes.to_numpy_dtype(value))
    raise TypeError(f"can_cast(): argument '{argument}' (position {position}) must be torch.dtype, not {type(value).__name__}")


def can_cast(from_, to):
    """Whether PyTorch's casting rules allow ``from_`` to ``to`` in an op's ``out=`` or in-place
    result: never to a lower category (floating to integer, or anything but bool to bool)."""
    source, target = _dtype_of("from_", 1, from_), _dtype_of("to", 2, to)
    return dtypes.category(source.numpy) <= dtypes.category(target.numpy)
