"""The legacy tensor types PyTorch still has: ``FloatTensor``, ``LongTensor``, ... and their CUDA
twins (``tinytorch.cuda.FloatTensor``).

As in PyTorch, each is a constructor and a type test, not a subclass of ``Tensor``:
``LongTensor([1.7, -2.5])`` makes an int64 CPU tensor (``tensor([ 1, -2])``), ``FloatTensor(2, 3)``
an uninitialized 2x3 one, and ``isinstance(t, FloatTensor)`` asks whether ``t`` is a float32 CPU
tensor. ``Tensor.type`` takes these types and their names (``"torch.LongTensor"``).
"""

from . import _backend as backend, _dtypes as dtypes
from ._layout import strided
from ._tensor import Size, Tensor

# PyTorch's legacy type names and their dtypes (BFloat16Tensor and the complex ones have no
# tinytorch dtype).
_DTYPES = {
    "DoubleTensor": dtypes.float64, "FloatTensor": dtypes.float32, "HalfTensor": dtypes.float16,
    "ByteTensor": dtypes.uint8, "CharTensor": dtypes.int8, "ShortTensor": dtypes.int16,
    "IntTensor": dtypes.int32, "LongTensor": dtypes.int64, "BoolTensor": dtypes.bool,
}


class _TensorType(type):
    """The metaclass of the legacy types (PyTorch's ``torch.tensortype``)."""

    def __instancecheck__(cls, obj):
        return (
            isinstance(obj, Tensor) and not obj.is_sparse and obj._data.dtype == cls.dtype.numpy
            and backend.is_cuda_array(obj._data) == cls.is_cuda
        )

    def __call__(cls, *args, device=None):
        """``Type()`` (empty), ``Type(2, 3)`` or ``Type(size)`` (uninitialized), ``Type(data)``
        (a copy converted to the type's dtype), or ``Type(tensor)`` (that tensor, when it has the type)."""
        kind = "cuda" if cls.is_cuda else "cpu"
        if device is not None and backend.as_device(device).type != kind:
            raise RuntimeError(f"legacy constructor expects device type: {kind} but device type: {backend.as_device(device).type} was passed")
        if cls.is_cuda and backend.cuda_device_count() == 0:
            raise TypeError(f"type {_name(cls)} not available: tinytorch sees no CUDA GPU (CuPy missing, or no device)")
        if len(args) == 1 and isinstance(args[0], Tensor):
            if isinstance(args[0], cls):
                return args[0]  # PyTorch returns the tensor itself
            raise TypeError(f"expected {_name(cls)} (got {args[0].type()})")
        if len(args) == 1 and isinstance(args[0], Size):
            args = tuple(args[0])
        if len(args) == 1 and isinstance(args[0], str):
            raise TypeError(f"new(): invalid data type '{type(args[0]).__name__}'")
        return Tensor(*(args or (0,)), dtype=cls.dtype, device=device or (kind if cls.is_cuda else None))

    def __repr__(cls):
        return f"<class '{_name(cls)}'>"


def _name(cls):
    return f"{cls.__module__}.{cls.__name__}"


def _legacy_type(name, is_cuda):
    module = "tinytorch.cuda" if is_cuda else "tinytorch"
    return _TensorType(name, (), {"dtype": _DTYPES[name], "is_cuda": is_cuda, "is_sparse": False, "layout": strided, "__module__": module})


DoubleTensor, FloatTensor, HalfTensor = (_legacy_type(n, False) for n in ("DoubleTensor", "FloatTensor", "HalfTensor"))
ByteTensor, CharTensor, ShortTensor = (_legacy_type(n, False) for n in ("ByteTensor", "CharTensor", "ShortTensor"))
IntTensor, LongTensor, BoolTensor = (_legacy_type(n, False) for n in ("IntTensor", "LongTensor", "BoolTensor"))
CUDA_TYPES = {name: _legacy_type(name, True) for name in _DTYPES}  # tinytorch.cuda's


def parse(spec):
    """(dtype, is_cuda) for a legacy type or its name: ``"torch.FloatTensor"``,
    ``"tinytorch.cuda.LongTensor"``; ValueError for any other string, as PyTorch."""
    if isinstance(spec, _TensorType):
        return spec.dtype, spec.is_cuda
    if not isinstance(spec, str):
        raise TypeError(f"type(): argument 'dtype' must be tinytorch.dtype, a legacy tensor type or its name, not {type(spec).__name__}")
    for prefix in ("torch.", "tinytorch."):
        if spec.startswith(prefix):
            name = spec[len(prefix):]
            cuda = name.startswith("cuda.")
            name = name[len("cuda."):] if cuda else name
            if name in _DTYPES:
                return _DTYPES[name], cuda
    raise ValueError(f"invalid type: '{spec}'")
