"""``profile``: time every op's forward and backward call, like ``torch.profiler.profile``.

    with tinytorch.profiler.profile() as prof:
        loss = model(x).sum(); loss.backward()
    print(prof.key_averages().table(sort_by="cpu_time_total", row_limit=10))

Times are wall-clock; on a GPU the profiler synchronizes before and after each timed call, so a
call's time includes its kernels (and the profiled run is slower than an unprofiled one).
"""

import contextlib
import json
import time
from dataclasses import dataclass, field

from . import cuda
from .autograd import _observe as observe

_active = []  # the profilers inside whose ``with`` we are (record_function reports to them)


@dataclass
class FunctionEvent:
    """One timed call: an op's forward (``Mul``), its backward (``MulBackward0``) or a user range."""

    name: str
    kind: str  # "forward", "backward" or "user"
    start_us: float
    cpu_time_total: float = 0.0  # microseconds, children included
    self_cpu_time_total: float = 0.0  # microseconds, children excluded
    output_bytes: int = 0
    input_shapes: list = field(default_factory=list)
    depth: int = 0


class profile:
    """Context manager recording a :class:`FunctionEvent` per op call (forward and backward)."""

    record_source = False

    def __init__(self, record_shapes=False, activities=None, profile_memory=False, with_stack=False):
        # activities / profile_memory / with_stack: accepted for PyTorch compatibility, not used.
        self.record_shapes = record_shapes
        self._events, self._stack = [], []
        self._sync = False
        self._start = 0.0

    def __enter__(self):
        self._sync = cuda.is_available()
        self._start = time.perf_counter()
        observe.add(self)
        _active.append(self)
        return self

    def __exit__(self, *exc):
        observe.remove(self)
        _active.remove(self)
        return False

    # -- observer protocol ------------------------------------------------------------------------
    def forward(self, function, run):
        shapes = [list(a.shape) if hasattr(a, "_data") else [] for a in _arguments(run)] if self.record_shapes else []
        return self._timed(function.__name__, "forward", run, shapes)

    def backward(self, node, run):
        return self._timed(node.name(), "backward", run, [])

    def _timed(self, name, kind, run, shapes):
        event = self._open(name, kind, shapes)
        try:
            result = run()
        finally:
            self._close(event)
        event.output_bytes = _nbytes(result)
        return result

    def _open(self, name, kind, shapes=()):
        if self._sync:
            cuda.synchronize()
        event = FunctionEvent(name, kind, (time.perf_counter() - self._start) * 1e6, input_shapes=list(shapes), depth=len(self._stack))
        self._stack.append([event, 0.0])
        self._events.append(event)
        return event

    def _close(self, event):
        if self._sync:
            cuda.synchronize()
        _, children = self._stack.pop()
        event.cpu_time_total = (time.perf_counter() - self._start) * 1e6 - event.start_us
        event.self_cpu_time_total = event.cpu_time_total - children
        if self._stack:
            self._stack[-1][1] += event.cpu_time_total

    # -- results ----------------------------------------------------------------------------------
    def events(self):
        """Every recorded call, in the order they started."""
        return list(self._events)

    def key_averages(self, group_by_input_shape=False):
        """The events grouped by name (and input shapes): counts, total / self / average times."""
        groups = {}
        for event in self._events:
            key = (event.name, str(event.input_shapes)) if group_by_input_shape else event.name
            average = groups.get(key)
            if average is None:
                average = groups[key] = FunctionEventAvg(event.name, event.kind, input_shapes=event.input_shapes)
            average.add(event)
        return EventList(groups.values(), shapes=self.record_shapes)

    def export_chrome_trace(self, path):
        """Write the events as a Chrome trace (open in chrome://tracing or ui.perfetto.dev)."""
        trace = [
            {"name": e.name, "cat": e.kind, "ph": "X", "ts": e.start_us, "dur": e.cpu_time_total, "pid": 0, "tid": 0,
             "args": {"output_bytes": e.output_bytes, "input_shapes": e.input_shapes}}
            for e in self._events
        ]
        with open(path, "w") as f:
            json.dump({"traceEvents": trace}, f)


@dataclass
class FunctionEventAvg:
    """All calls of one op: ``count``, total and self time (microseconds), output bytes."""

    key: str
    kind: str
    count: int = 0
    cpu_time_total: float = 0.0
    self_cpu_time_total: float = 0.0
    output_bytes: int = 0
    input_shapes: list = field(default_factory=list)

    @property
    def cpu_time(self):
        """Average time per call (microseconds)."""
        return self.cpu_time_total / self.count if self.count else 0.0

    def add(self, event):
        self.count += 1
        self.cpu_time_total += event.cpu_time_total
        self.self_cpu_time_total += event.self_cpu_time_total
        self.output_bytes += event.output_bytes


_SORT_KEYS = {
    "cpu_time_total": "cpu_time_total", "self_cpu_time_total": "self_cpu_time_total", "cpu_time": "cpu_time",
    "count": "count", "output_bytes": "output_bytes",
    # On a GPU the timed calls are synchronized: the CUDA names sort by the same numbers.
    "cuda_time_total": "cpu_time_total", "self_cuda_time_total": "self_cpu_time_total", "device_time_total": "cpu_time_total",
}


class EventList(list):
    """A list of :class:`FunctionEventAvg` with a ``table()`` like PyTorch's."""

    def __init__(self, items=(), shapes=False):
        super().__init__(items)
        self._shapes = shapes

    def table(self, sort_by="cpu_time_total", row_limit=100):
        """The rows sorted (descending) by ``sort_by``, as fixed-width text."""
        if sort_by not in _SORT_KEYS:
            raise ValueError(f"sort_by must be one of {sorted(_SORT_KEYS)}, got {sort_by!r}")
        rows = sorted(self, key=lambda a: getattr(a, _SORT_KEYS[sort_by]), reverse=True)
        if row_limit is not None and row_limit >= 0:
            rows = rows[:row_limit]
        self_total = sum(a.self_cpu_time_total for a in self) or 1.0
        headers = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg", "# of Calls", "Output bytes"]
        body = [
            [a.key, f"{100 * a.self_cpu_time_total / self_total:.2f}%", _format_time(a.self_cpu_time_total),
             f"{100 * a.cpu_time_total / self_total:.2f}%", _format_time(a.cpu_time_total), _format_time(a.cpu_time),
             str(a.count), _format_bytes(a.output_bytes)]
            for a in rows
        ]
        if self._shapes:
            headers.append("Input Shapes")
            for line, a in zip(body, rows):
                line.append(str(a.input_shapes))
        widths = [max(len(r[i]) for r in [headers, *body]) for i in range(len(headers))]
        rule = "-" * (sum(widths) + 2 * (len(widths) - 1))

        def fmt(cells):
            return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

        lines = [rule, fmt(headers), rule, *(fmt(r) for r in body), rule,
                 f"Self CPU time total: {_format_time(sum(a.self_cpu_time_total for a in self))}"]
        return "\n".join(lines) + "\n"

    def __str__(self):
        return self.table()


@contextlib.contextmanager
def _range(name):
    events = [(prof, prof._open(name, "user")) for prof in _active]
    try:
        yield
    finally:
        for prof, event in reversed(events):
            prof._close(event)


class record_function(contextlib.ContextDecorator):
    """Name a range of code (a context manager or decorator); it shows as a row of the table."""

    def __init__(self, name):
        self.name = name
        self._ranges = []  # a stack: a decorated function may call itself

    def __enter__(self):
        self._ranges.append(_range(self.name))
        self._ranges[-1].__enter__()
        return self

    def __exit__(self, *exc):
        return self._ranges.pop().__exit__(*exc)


def _arguments(run):
    """The arguments of a forward call: ``Function.apply`` runs ``lambda: _run(cls, args, kwargs)``,
    possibly wrapped by other observers' lambdas; the args tuple is in the innermost closure."""
    for _ in range(16):
        cells = [c.cell_contents for c in (getattr(run, "__closure__", None) or ())]
        found = next((c for c in cells if isinstance(c, tuple)), None)
        if found is not None:
            return found
        run = next((c for c in cells if callable(c) and getattr(c, "__name__", "") == "<lambda>"), None)
        if run is None:
            break
    return ()


def _nbytes(result):
    if isinstance(result, (tuple, list)):
        return sum(_nbytes(r) for r in result)
    data = getattr(result, "_data", None)
    return int(data.nbytes) if data is not None else 0


def _format_time(us):
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


def _format_bytes(n):
    for unit, size in (("Gb", 1 << 30), ("Mb", 1 << 20), ("Kb", 1 << 10)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n} b"
