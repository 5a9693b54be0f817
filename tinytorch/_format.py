"""Printing tensors the way PyTorch does: ``tensor([1., 2.], requires_grad=True)``."""

import contextlib
import dataclasses
import math

import numpy as np

from . import _backend as backend, _dtypes as dtypes


@dataclasses.dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


PRINT_OPTS = _PrintOptions()
_PROFILES = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """How tensors print, as PyTorch's: ``precision`` digits after the point (4), more than
    ``threshold`` elements (1000) summarized to ``edgeitems`` (3) at each end of each dim, lines of
    ``linewidth`` (80) columns; ``profile`` ("default", "short", "full") sets the first four, and
    ``sci_mode`` forces (True) or forbids (False) scientific notation, None choosing by the values."""
    if profile is not None:
        for name, value in _PROFILES[profile].items():
            setattr(PRINT_OPTS, name, value)
    for name, value in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            setattr(PRINT_OPTS, name, value)
    PRINT_OPTS.sci_mode = sci_mode  # as PyTorch: not passing it returns to the automatic choice


def get_printoptions():
    """The current print options, as keywords for ``set_printoptions``."""
    return dataclasses.asdict(PRINT_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs):
    """``set_printoptions(**kwargs)`` inside a ``with`` block; the previous options after it."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


def _float_formatter(values):
    """PyTorch's ``_Formatter``: the mode (whole numbers, fixed point or scientific; ``sci_mode``
    forces the last on or off) and the width come from the nonzero finite values; every entry,
    nan and inf included, is right-aligned to that width."""
    digits = PRINT_OPTS.precision
    nonzero = values[np.isfinite(values) & (values != 0)]
    if nonzero.size == 0:  # PyTorch stops here, before sci_mode is read
        return lambda v: _special(v) or f"{v:.0f}."
    absolute = np.abs(nonzero)
    largest, smallest = float(absolute.max()), float(absolute.min())
    whole = bool(np.all(nonzero == np.ceil(nonzero)))
    scientific = largest / smallest > 1000.0 or largest > 1.0e8 or (not whole and smallest < 1.0e-4)
    if PRINT_OPTS.sci_mode is not None:
        scientific = PRINT_OPTS.sci_mode
    if scientific:
        form = lambda v: f"{v:.{digits}e}"  # noqa: E731
    elif whole:
        form = lambda v: f"{v:.0f}."  # noqa: E731
    else:
        form = lambda v: f"{v:.{digits}f}"  # noqa: E731
    width = max(len(form(v)) for v in nonzero)
    return lambda v: (_special(v) or form(v)).rjust(width)


def _summarized(array):
    """The elements a summarized print shows (``edgeitems`` at each end of each long dim): PyTorch
    sizes its columns from these alone."""
    edge = PRINT_OPTS.edgeitems
    for axis, size in enumerate(array.shape):
        if size > 2 * edge:
            array = np.take(array, np.r_[0:edge, size - edge:size], axis=axis)
    return array


def _special(v):
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return None


def format_array(array, indent):
    """The elements as PyTorch prints them: NumPy's layout, PyTorch's number formats, and a
    summary's ``...`` inside a row set off by two spaces, as PyTorch sets it."""
    return _array_text(array, indent).replace(", ...", ",  ...")


def _array_text(array, indent):
    array = backend.to_numpy(array)
    summarize = array.size > PRINT_OPTS.threshold
    kwargs = {"separator": ", ", "prefix": " " * indent, "threshold": 0 if summarize else array.size + 1,
              "edgeitems": PRINT_OPTS.edgeitems, "max_line_width": PRINT_OPTS.linewidth}
    if array.dtype.kind == "f":
        shown = _summarized(array) if summarize else array
        formatter = _float_formatter(shown.astype(np.float64).ravel())
        return np.array2string(array, formatter={"float_kind": formatter}, **kwargs)
    if array.dtype.kind == "b":
        # As PyTorch: every element right-aligned to the widest one shown ("[ True, False]").
        width = 5 if not (_summarized(array) if summarize else array).all() else 4
        return np.array2string(array, formatter={"bool": lambda v: ("True" if v else "False").rjust(width)}, **kwargs)
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
    return _add_suffixes(prefix + body, extras, len(prefix), PRINT_OPTS.linewidth)


def _add_suffixes(text, suffixes, indent, linewidth):
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
