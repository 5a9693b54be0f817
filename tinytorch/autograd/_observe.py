"""Observers of the op stream (the profiler, the backward trace): off unless one is registered.

``Function.apply`` and the engine check ``state.active`` once per op; when it is set they hand the
call to each observer, which must run it and may time or print it.
"""

import linecache
import os
import sys


class _State:
    active = False
    record_source = False  # keep each node's creating source line (anomaly mode, tracing)
    observers = []


state = _State()
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def add(observer):
    """Register an object with ``forward(function, run)`` and ``backward(node, run)``; one that
    needs the op's arguments defines ``forward_call(function, args, kwargs, run)`` instead of
    ``forward`` (the ONNX exporter and TensorBoard's graph record the op stream this way)."""
    state.observers.append(observer)
    _refresh()


def remove(observer):
    if observer in state.observers:
        state.observers.remove(observer)
    _refresh()


def _refresh():
    state.active = bool(state.observers)
    state.record_source = any(getattr(o, "record_source", False) for o in state.observers)


def run_forward(function, run, args=(), kwargs=None):
    for observer in reversed(state.observers):
        call = getattr(observer, "forward_call", None)
        run = _wrap(observer.forward, function, run) if call is None else _wrap_call(call, function, args, kwargs, run)
    return run()


def run_backward(node, run):
    for observer in reversed(state.observers):
        run = _wrap(observer.backward, node, run)
    return run()


def _wrap(hook, subject, run):
    return lambda: hook(subject, run)


def _wrap_call(hook, function, args, kwargs, run):
    return lambda: hook(function, args, kwargs or {}, run)


def user_source_line():
    """'file:line: code' of the innermost frame outside tinytorch (where the user called the op)."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    code = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
    return f"{frame.f_code.co_filename}:{frame.f_lineno}: {code}"
