"""``torch.compiler``: PyTorch's compiler controls. tinytorch has no graph compiler, so compiled
code runs eagerly, nothing is ever being compiled (``is_compiling()`` is False, also inside a
compiled function), and the decorators return what they are given."""

import contextlib
import functools

from .._compile import compile, get_default_backend, list_backends, set_default_backend

__all__ = [
    "compile", "reset", "allow_in_graph", "assume_constant_result", "list_backends", "disable", "set_stance",
    "cudagraph_mark_step_begin", "is_compiling", "is_dynamo_compiling", "is_exporting", "get_default_backend",
    "set_default_backend",
]


def reset():
    """Clear the compilation caches (there are none here)."""


def is_compiling():
    """Whether code runs inside a compiled region being traced: never, with no tracer."""
    return False


def is_dynamo_compiling():
    """Whether TorchDynamo is tracing: never, with no tracer."""
    return False


def is_exporting():
    """Whether ``torch.export`` is tracing: never here."""
    return False


def allow_in_graph(fn):
    """Mark ``fn`` (or each of a list) as a graph op for the tracer; returns it unchanged."""
    if isinstance(fn, (list, tuple)):
        return [allow_in_graph(x) for x in fn]
    if not callable(fn):
        raise AssertionError("allow_in_graph expects a callable")
    return fn


def assume_constant_result(fn):
    """Mark ``fn``'s result as a constant for the tracer; returns ``fn``."""
    fn._dynamo_marked_constant = True
    return fn


def disable(fn=None, recursive=True, *, reason=None):
    """Keep ``fn`` out of compilation (a decorator, with or without arguments): here a
    ``functools.wraps`` wrapper that calls it, since nothing is compiled."""

    def wrap(fn):
        if not callable(fn):
            raise AssertionError("fn must be callable")

        @functools.wraps(fn)
        def disabled(*args, **kwargs):
            return fn(*args, **kwargs)

        return disabled

    return wrap if fn is None else wrap(fn)


def cudagraph_mark_step_begin():
    """Mark the start of a step for CUDA graph trees (none are recorded here)."""


class set_stance(contextlib.ContextDecorator):
    """Set how compiled code runs (``"default"``, ``"force_eager"``, ...): a function call, a
    context manager or a decorator. Every stance runs eagerly here."""

    def __init__(self, stance="default", *, skip_guard_eval_unsafe=False, force_backend=None):
        if force_backend is not None and stance != "default":
            raise RuntimeError("non-default stance cannot have force_backend set")
        self.stance = stance

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False
