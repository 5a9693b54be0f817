"""Printing tensors the way PyTorch does: ``tensor([1., 2.], requires_grad=True)``."""

import numpy as np

from . import _backend as backend, _dtypes as dtypes


def _float_formatter(values):
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return lambda v: _special(v) or f"{v}"
    integral = bool(np.all(finite == np.round(finite)))
    largest, smallest = float(np.abs(finite).max()), float(np.abs(finite[finite != 0]).min()) if np.any(finite != 0) else 0.0
    if integral and largest < 1e8:
        width = max(len(f"{v:.0f}") for v in finite) + 1
        return lambda v: _special(v) or f"{v:.0f}.".rjust(width)
    if largest >= 1e8 or (smallest and (largest / smallest > 1000 or smallest < 1e-4)):
        return lambda v: _special(v) or f"{v:.4e}"
    width = max(len(f"{v:.4f}") for v in finite)
    return lambda v: _special(v) or f"{v:.4f}".rjust(width)


def _special(v):
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return None


def format_array(array, indent):
    array = backend.to_numpy(array)
    kwargs = {"separator": ", ", "prefix": " " * indent, "threshold": 1000, "edgeitems": 3, "max_line_width": 80}
    if array.dtype.kind == "f":
        formatter = _float_formatter(array.astype(np.float64).ravel())
        return np.array2string(array, formatter={"float_kind": formatter}, **kwargs)
    if array.dtype.kind == "b":
        return np.array2string(array, formatter={"bool": lambda v: "True" if v else "False"}, **kwargs)
    return np.array2string(array, **kwargs)


def format_tensor(t, prefix="tensor("):
    data = t._data
    body = format_array(data, len(prefix))
    if data.size == 0:
        body = "[]"
    extras = []
    if backend.is_cuda_array(data):
        extras.append(f"device='{t.device}'")
    default = {dtypes.default_float_numpy(), np.dtype(np.int64), np.dtype(np.bool_)}
    if data.dtype not in default or data.size == 0 and data.dtype != dtypes.default_float_numpy():
        extras.append(f"dtype={t.dtype}")
    if data.size == 0 and data.ndim != 1:
        extras.append(f"size={tuple(data.shape)}")
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        extras.append("requires_grad=True")
    return prefix + body + "".join(", " + e for e in extras) + ")"
