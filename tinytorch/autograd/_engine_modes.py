"""Engine switches PyTorch exposes that change nothing in tinytorch's single-threaded engine:
``set_multithreading_enabled`` and ``enforce_grad_layout_policy`` keep their state so that code
setting and reading them runs as with PyTorch."""

import functools


class _State:
    multithreading = True
    grad_layout_enforced = True


state = _State()


def is_multithreading_enabled():
    """The flag ``set_multithreading_enabled`` sets (tinytorch's backward always runs on the calling thread)."""
    return state.multithreading


class _Switch:
    """Set on construction (so it works as a function), restored on leaving a ``with`` block;
    as a decorator, set only while the decorated function runs."""

    _field = None

    def __init__(self, mode=True):
        self.prev = getattr(state, self._field)
        setattr(state, self._field, bool(mode))
        self.mode = mode

    def __enter__(self):
        pass

    def __exit__(self, exc_type, exc_value, traceback):
        setattr(state, self._field, self.prev)

    def __call__(self, func):
        setattr(state, self._field, self.prev)  # decorating is not a call: leave the flag as it was

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.clone():
                return func(*args, **kwargs)

        return wrapper

    def clone(self):
        """A copy of this switch (the same mode)."""
        return self.__class__(self.mode)


class set_multithreading_enabled(_Switch):
    """Context manager (or function, or decorator) that turns multithreaded backward on or off.
    tinytorch's engine always runs backward on the calling thread: only the flag is kept."""

    _field = "multithreading"

    def __init__(self, mode):
        super().__init__(mode)


class enforce_grad_layout_policy(_Switch):
    """Context manager (or function, or decorator) that enforces or relaxes the gradient layout
    contract. tinytorch's ``.grad`` is always a C-contiguous array: only the flag is kept."""

    _field = "grad_layout_enforced"
