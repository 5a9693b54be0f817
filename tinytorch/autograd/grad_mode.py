"""Grad mode: whether ops record the graph. A per-thread flag, as PyTorch's, read once per op in
Function.apply (which also turns it off around every recorded forward: a process-wide flag let one
thread's op switch recording off in the others, e.g. DataParallel's replicas)."""

import functools
import threading


class _State(threading.local):
    """Each thread starts with grad mode on and inference mode off (the class defaults)."""

    enabled = True
    inference = False


state = _State()


def is_grad_enabled():
    """True when ops record the graph for autograd."""
    return state.enabled


def is_inference_mode_enabled():
    return state.inference


class _GradModeContext:
    """Base for the grad-mode context managers; each is also a decorator, as in PyTorch."""

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.__class__(*self._args()):
                return func(*args, **kwargs)

        return wrapper

    def _args(self):
        return ()

    def __enter__(self):
        self._previous = state.enabled, state.inference
        self._apply()
        return self

    def __exit__(self, *exc):
        state.enabled, state.inference = self._previous
        return False


class no_grad(_GradModeContext):
    """Context manager and decorator that turns off graph recording."""

    def __init__(self, orig_func=None):
        # Allows the bare ``@no_grad`` form as well as ``@no_grad()``.
        self._orig = orig_func

    def __new__(cls, orig_func=None):
        self = super().__new__(cls)
        if callable(orig_func):
            self.__init__()
            return self(orig_func)
        return self

    def _apply(self):
        state.enabled = False


class enable_grad(no_grad):
    """Context manager and decorator that turns graph recording back on."""

    def _apply(self):
        state.enabled = True
        state.inference = False


class set_grad_enabled(_GradModeContext):
    """Turn graph recording on or off; works as a function, a context manager and a decorator."""

    def __init__(self, mode):
        self.mode = bool(mode)
        self._previous = state.enabled, state.inference
        state.enabled = self.mode

    def _args(self):
        return (self.mode,)

    def __call__(self, func):
        # As a decorator it must not change the mode now, only around each call.
        state.enabled, state.inference = self._previous
        return super().__call__(func)

    def __enter__(self):
        return self

    def _apply(self):
        state.enabled = self.mode


class inference_mode(_GradModeContext):
    """Like no_grad; tensors made inside are marked as inference tensors."""

    def __init__(self, mode=True):
        self.mode = bool(mode)

    def _args(self):
        return (self.mode,)

    def _apply(self):
        if self.mode:
            state.enabled = False
            state.inference = True
