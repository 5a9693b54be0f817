"""NumPy's argument names that PyTorch's native functions also accept: ``axis`` for ``dim`` and
``keepdims`` for ``keepdim`` (``x.sum(axis=0, keepdims=True)``)."""

import functools

_ALIASES = (("axis", "dim"), ("keepdims", "keepdim"))


def numpy_names(function):
    """``function`` also taking ``axis=`` and ``keepdims=``; calls without them pass straight on."""

    @functools.wraps(function)
    def accepting_numpy_names(*args, **kwargs):
        if "axis" in kwargs or "keepdims" in kwargs:
            for alias, name in _ALIASES:
                if alias in kwargs:
                    if name in kwargs:
                        raise TypeError(f"{function.__name__}() got multiple values for argument '{name}' (also given as '{alias}')")
                    kwargs[name] = kwargs.pop(alias)
        return function(*args, **kwargs)

    return accepting_numpy_names
