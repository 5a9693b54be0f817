"""The dtypes tinytorch knows, each tied to its NumPy dtype."""

import builtins

import numpy as np


class dtype:
    """A tensor element type; compares equal only to itself, like ``torch.dtype``."""

    __slots__ = ("name", "numpy", "is_floating_point", "is_signed", "itemsize")

    def __init__(self, name, numpy_dtype):
        self.name = name
        self.numpy = np.dtype(numpy_dtype)
        self.is_floating_point = self.numpy.kind == "f"
        self.is_signed = self.numpy.kind in "fi"
        self.itemsize = self.numpy.itemsize

    def __repr__(self):
        return f"tinytorch.{self.name}"

    def __reduce__(self):
        return self.name


float16 = dtype("float16", np.float16)
float32 = dtype("float32", np.float32)
float64 = dtype("float64", np.float64)
int8 = dtype("int8", np.int8)
int16 = dtype("int16", np.int16)
int32 = dtype("int32", np.int32)
int64 = dtype("int64", np.int64)
uint8 = dtype("uint8", np.uint8)
uint16 = dtype("uint16", np.uint16)
uint32 = dtype("uint32", np.uint32)
uint64 = dtype("uint64", np.uint64)
bool = dtype("bool", np.bool_)
half, float, double = float16, float32, float64
short, int, long = int16, int32, int64

ALL = (float16, float32, float64, int8, int16, int32, int64, uint8, uint16, uint32, uint64, bool)
# PyTorch's "barebones" unsigned types: creation, casts and a few ops; no promotion with other
# integer or bool types (promote_types below), and most kernels raise NotImplementedError.
_BAREBONES_UNSIGNED = (uint16, uint32, uint64)
_BY_NUMPY = {d.numpy: d for d in ALL}
_BY_NAME = {d.name: d for d in ALL}

_default_float = float32


def from_numpy_dtype(numpy_dtype):
    """The tinytorch dtype of a NumPy dtype; TypeError for one we do not support."""
    try:
        return _BY_NUMPY[numpy_dtype]
    except KeyError:
        try:
            return _BY_NUMPY[np.dtype(numpy_dtype)]
        except (KeyError, TypeError):
            raise TypeError(
                f"can't convert np.ndarray of type {numpy_dtype}. The only supported types are: "
                + ", ".join(d.name for d in ALL)
            ) from None


def to_numpy_dtype(d):
    """Accept a tinytorch dtype, a NumPy dtype or a Python type and return the NumPy dtype."""
    if d.__class__ is dtype:
        return d.numpy
    if d is builtins.float:
        return float64.numpy  # PyTorch reads the Python type float as double, whatever the default
    if d is builtins.int:
        return int64.numpy
    if d is builtins.bool:
        return bool.numpy
    return from_numpy_dtype(d).numpy


# PyTorch's ScalarType names: its messages spell dtypes this way ("expected Long but got Float").
_SCALAR_TYPE_NAMES = {
    "float16": "Half", "float32": "Float", "float64": "Double", "int8": "Char", "int16": "Short",
    "int32": "Int", "int64": "Long", "uint8": "Byte", "bool": "Bool",
    "uint16": "UInt16", "uint32": "UInt32", "uint64": "UInt64",
}


def scalar_type_name(d):
    """PyTorch's name of a dtype (tinytorch's or NumPy's) in messages and type strings: "Float", "Long"..."""
    return _SCALAR_TYPE_NAMES.get(d.name, d.name)


# The C++ element types some PyTorch messages print ("expected m1 and m2 to have the same dtype,
# but got: float != long int").
_CPP_TYPE_NAMES = {
    "float16": "c10::Half", "float32": "float", "float64": "double", "int8": "signed char", "int16": "short int",
    "int32": "int", "int64": "long int", "uint8": "unsigned char", "bool": "bool",
    "uint16": "short unsigned int", "uint32": "unsigned int", "uint64": "long unsigned int",
}


def cpp_type_name(d):
    """The C++ element type PyTorch's messages print for a dtype (tinytorch's or NumPy's): "float", "long int"..."""
    return _CPP_TYPE_NAMES.get(d.name, d.name)


def get_default_dtype():
    """The dtype of tensors made from Python floats (float32 unless changed)."""
    return _default_float


def set_default_dtype(d):
    """Set the dtype used for Python floats; only float32 and float64 are allowed, as in PyTorch."""
    global _default_float
    if d not in (float32, float64, float16):
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default_float = d


def default_float_numpy():
    return _default_float.numpy


def category(numpy_dtype):
    """PyTorch's promotion category of a NumPy dtype: bool 0 < integer 1 < floating 2."""
    kind = numpy_dtype.kind
    return 2 if kind in "fc" else (0 if kind == "b" else 1)


def promote_types(a, b):
    """The dtype PyTorch gives an op between tensors of dtypes a and b: the higher category wins
    whole (int32 and float16 give float16, where NumPy widens to float64); within one, NumPy's rule.
    uint16/uint32/uint64 promote only with themselves and floating types; others are PyTorch's RuntimeError."""
    if a is b:
        return a
    ca, cb = category(a.numpy), category(b.numpy)
    if (a in _BAREBONES_UNSIGNED and cb != 2) or (b in _BAREBONES_UNSIGNED and ca != 2):
        raise RuntimeError(
            "Promotion for uint16, uint32, uint64 types is not supported, attempted to promote "
            f"{scalar_type_name(a)} and {scalar_type_name(b)}"
        )
    if ca != cb:
        return a if ca > cb else b
    return _BY_NUMPY[np.promote_types(a.numpy, b.numpy)]
