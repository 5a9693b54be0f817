"""Printing tensors the way PyTorch does: ``tensor([1., 2.], requires_grad=True)``."""

import numpy as np

from . import _backend as backend, _dtypes as dtypes


def _float_formatter(values):
    """PyTorch's ``_Formatter``: the mode (whole numbers, fixed point or scientific) and the width
    come from the nonzero finite values; every entry, nan and inf included, is right-aligned to it."""
    nonzero = values[np.isfinite(values) & (values != 0)]
    if nonzero.size == 0:
        return lambda v: _special(v) or f"{v:.0f}."
    absolute = np.abs(nonzero)
    largest, smallest = float(absolute.max()), float(absolute.min())
    spread = largest / smallest > 1000.0 or largest > 1.0e8
    if bool(np.all(nonzero == np.ceil(nonzero))) and not spread:
        width = max(len(f"{v:.0f}") for v in nonzero) + 1
        return lambda v: (_special(v) or f"{v:.0f}.").rjust(width)
    if spread or smallest < 1.0e-4:
        width = max(len(f"{v:.4e}") for v in nonzero)
        return lambda v: (_special(v) or f"{v:.4e}").rjust(width)
    width = max(len(f"{v:.4f}") for v in nonzero)
    return lambda v: (_special(v) or f"{v:.4f}").rjust(width)


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
    return _add_suffixes(prefix + body, extras, len(prefix))


def _add_suffixes(text, suffixes, indent, linewidth=80):
    """``text, suffix, ...)``: a suffix that would pass the line width starts a new line, as PyTorch's."""
    parts = [text]
    line = len(text) - text.rfind("\n") + 1  # PyTorch's count: two more than the last line holds
    for suffix in suffixes:
        if line + len(suffix) + 2 > linewidth:
            parts.append(",\n" + " " * indent + suffix)
            line = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            line += len(suffix) + 2
    return "".join(parts) + ")"
