"""``finfo`` and ``iinfo``: the numerical limits of tinytorch's floating and integer dtypes, as
``torch.finfo``/``torch.iinfo`` give them (Python floats and ints, read-only attributes)."""

import builtins

import numpy as np

from . import _dtypes as dtypes

_DEFAULT = object()  # finfo() with no argument reads the default dtype; finfo(None) is a TypeError


def _dtype_argument(name, value):
    """The dtype of ``finfo(type)``/``iinfo(type)``: a tinytorch dtype, or the Python types float,
    int and bool, which PyTorch's argument parser reads as float64, int64 and bool."""
    if value is builtins.float:
        return dtypes.float64
    if value is builtins.int:
        return dtypes.int64
    if value is builtins.bool:
        return dtypes.bool
    if value.__class__ is not dtypes.dtype:
        raise TypeError(f"{name}(): argument 'type' (position 1) must be torch.dtype, not {type(value).__name__}")
    return value


class _Info:
    """Shared by finfo and iinfo: read-only attributes, equality by value, PyTorch's repr."""

    __slots__ = ()
    __hash__ = None  # PyTorch's are unhashable

    def __setattr__(self, name, value):
        raise AttributeError(f"attribute '{name}' of 'torch.{type(self).__name__}' objects is not writable")

    def __eq__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        return self.dtype == other.dtype

    def __repr__(self):
        # PyTorch prints each limit as C++'s ostream does: 6 significant digits (%g).
        fields = ", ".join(f"{field}={getattr(self, field):g}" for field in self._printed)
        return f"{type(self).__name__}({fields}, dtype={self.dtype})"

    __str__ = __repr__


class finfo(_Info):
    """The limits of a floating-point dtype (the default dtype when none is given): ``bits``,
    ``eps``, ``max``, ``min``, ``tiny`` (= ``smallest_normal``), ``resolution`` and ``dtype``
    (the dtype's name, a string, as in PyTorch)."""

    __slots__ = ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype")
    _printed = ("resolution", "min", "max", "eps", "smallest_normal", "tiny")

    def __init__(self, type=_DEFAULT):
        d = dtypes.get_default_dtype() if type is _DEFAULT else _dtype_argument("finfo", type)
        if not d.is_floating_point:
            raise TypeError("torch.finfo() requires a floating point input type. Use torch.iinfo to handle 'torch.finfo'")
        info = np.finfo(d.numpy)
        values = {
            "bits": int(info.bits), "eps": float(info.eps), "max": float(info.max), "min": float(info.min),
            "tiny": float(info.tiny), "smallest_normal": float(info.smallest_normal),
            # 10 ** -digits10, computed in double as PyTorch does (NumPy's is rounded to the dtype).
            "resolution": 10.0 ** -int(info.precision), "dtype": d.name,
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)


class iinfo(_Info):
    """The limits of an integer dtype: ``bits``, ``max``, ``min`` and ``dtype`` (its name)."""

    __slots__ = ("bits", "max", "min", "dtype")
    _printed = ("min", "max")

    def __init__(self, type):
        d = _dtype_argument("iinfo", type)
        if d is dtypes.bool:
            raise TypeError("torch.bool is not supported by torch.iinfo")
        if d.is_floating_point:
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to handle 'torch.iinfo'")
        info = np.iinfo(d.numpy)
        for name, value in (("bits", int(info.bits)), ("max", int(info.max)), ("min", int(info.min)), ("dtype", d.name)):
            object.__setattr__(self, name, value)
