"""Loading the pickled CIFAR batches without running code from the file.

``pickle.load`` would call whatever the file names (``os.system`` included). The unpickler here
admits plain containers and NumPy's array reconstruction only, checks the arguments of that
reconstruction (an empty array of a numeric dtype, which the file's own bytes then fill), and
refuses everything else with ``pickle.UnpicklingError`` naming the global.
"""

import codecs
import io
import pickle

import numpy as np

try:  # NumPy 2 moved the module; pickles written by NumPy 1 (and Python 2) name the old one
    from numpy._core.multiarray import _reconstruct
except ImportError:  # NumPy 1.x
    from numpy.core.multiarray import _reconstruct


class Forbidden(pickle.UnpicklingError):
    """The file asks for something the restricted unpickler does not build."""


class _ArrayClass:
    """Stands for ``numpy.ndarray`` inside a pickle: an argument of ``_reconstruct``, never called."""

    def __repr__(self):
        return "numpy.ndarray"

    def __call__(self, *args, **kwargs):
        raise Forbidden("refusing to call numpy.ndarray (an allocation of any size): only _reconstruct may build arrays")


_NDARRAY = _ArrayClass()
_NUMERIC_KINDS = "biuf"


def _safe_reconstruct(subtype, shape, dtype):
    if subtype is not _NDARRAY or tuple(shape) != (0,):
        raise Forbidden(f"refusing numpy _reconstruct({subtype!r}, {shape!r}, ...): only an empty ndarray is allowed")
    return _reconstruct(np.ndarray, (0,), _check_dtype(np.dtype(dtype)))


def _safe_dtype(spec, align=False, copy=False):
    return _check_dtype(np.dtype(spec, align, copy))


def _check_dtype(dtype):
    if dtype.kind not in _NUMERIC_KINDS or dtype.fields is not None or dtype.hasobject:
        raise Forbidden(f"refusing an array of dtype {dtype!r}: only numeric arrays are allowed")
    return dtype


def _safe_frombuffer(buffer, dtype, shape, order):
    """How NumPy pickles arrays at protocol 5: the array's bytes, dtype and shape."""
    dtype = _check_dtype(np.dtype(dtype))
    if not isinstance(buffer, (bytes, bytearray)) or order not in ("C", "F"):
        raise Forbidden("refusing numpy _frombuffer: expected the array's bytes and order 'C' or 'F'")
    shape = tuple(int(n) for n in shape)
    if any(n < 0 for n in shape) or int(np.prod(shape, dtype=object)) * dtype.itemsize != len(buffer):
        raise Forbidden(f"refusing numpy _frombuffer: {len(buffer)} bytes cannot hold an array of shape {shape} and dtype {dtype}")
    return np.frombuffer(buffer, dtype).reshape(shape, order=order).copy(order="K")


def _latin1_encode(text, encoding="latin1", errors="strict"):
    """How Python 3 pickles ``bytes`` at protocol 2 (``_codecs.encode(str, 'latin1')``)."""
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise Forbidden(f"refusing _codecs.encode with encoding {encoding!r}")
    return codecs.encode(text, "latin1", errors)


_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _safe_reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _safe_reconstruct,
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): _safe_dtype,
    ("numpy.core.numeric", "_frombuffer"): _safe_frombuffer,
    ("numpy._core.numeric", "_frombuffer"): _safe_frombuffer,
    ("_codecs", "encode"): _latin1_encode,
}


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        found = _ALLOWED.get((module, name))
        if found is None:
            raise Forbidden(f"global '{module}.{name}' is forbidden: only NumPy arrays and plain containers may be loaded")
        return found

    def persistent_load(self, pid):
        raise Forbidden("persistent IDs are forbidden")


def load(file, encoding="latin1"):
    """``pickle.load(file, encoding=...)`` restricted to NumPy arrays and plain containers; every
    array it returns is a numeric NumPy array."""
    data = file.read() if hasattr(file, "read") else file
    result = _RestrictedUnpickler(io.BytesIO(data), encoding=encoding).load()
    _check_arrays(result)
    return result


def _check_arrays(value, depth=0):
    if depth > 100:
        raise Forbidden("nesting deeper than 100 levels")
    if isinstance(value, np.ndarray):
        if value.__class__ is not np.ndarray:
            raise Forbidden(f"refusing an array of class {type(value).__name__}")
        _check_dtype(value.dtype)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_arrays(key, depth + 1)
            _check_arrays(item, depth + 1)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            _check_arrays(item, depth + 1)
    elif not isinstance(value, (str, bytes, bytearray, int, float, complex, bool, type(None))):
        raise Forbidden(f"refusing an object of type {type(value).__name__}")
