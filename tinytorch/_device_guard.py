"""With several GPUs, every entry point runs on its tensors' GPU, as PyTorch's device guard does.

CuPy launches kernels and allocates on the current GPU: a kernel given an array of another GPU
fails there (no peer access) or reads it from afar and leaves its result on the current GPU, not
the operand's. PyTorch switches to an op's device in its dispatcher; tinytorch switches at its
entry points: ``install()`` wraps the public functions of ``tinytorch``, ``nn.functional``,
``nn.init``, ``linalg`` and ``special``, Tensor's methods, ``Module.__call__`` and
``Function.apply`` so that each runs with its
first CUDA tensor argument's GPU current (``backend.device_guard``). It runs at import only when
CuPy sees several GPUs: with one GPU or none nothing is wrapped and nothing costs.

``Function.apply`` is wrapped too (a user's Function is reached without an entry point); the
backward engine and the optimizers' update loops switch per node and per parameter on their own.
"""

import functools
import types

from . import _backend as backend

# Tensor methods that are no op on data: object protocol, pickling, attribute access.
_NOT_OPS = {
    "__init__", "__new__", "__init_subclass__", "__getattr__", "__getattribute__", "__setattr__", "__delattr__",
    "__del__", "__reduce__", "__reduce_ex__", "__getstate__", "__setstate__", "__hash__", "__class_getitem__",
    "__subclasshook__", "__torch_function__", "__dir__", "__sizeof__", "__deepcopy__", "__copy__",
}


def _guarded(function):
    @functools.wraps(function)
    def on_its_gpu(*args, **kwargs):
        guard = backend.device_guard(args)
        if guard is None and kwargs:
            guard = backend.device_guard(tuple(kwargs.values()))
        if guard is None:
            return function(*args, **kwargs)
        with guard:
            return function(*args, **kwargs)

    on_its_gpu._device_guarded = True
    return on_its_gpu


def _wrap_functions(namespace):
    for name, value in list(vars(namespace).items()):
        if not name.startswith("_") and isinstance(value, types.FunctionType) and not hasattr(value, "_device_guarded"):
            setattr(namespace, name, _guarded(value))


def install():
    """Wrap the entry points (called once, by ``tinytorch/__init__.py``, with several GPUs)."""
    import tinytorch
    from tinytorch import linalg, special
    from tinytorch.autograd.function import Function
    from tinytorch.nn import functional, init
    from tinytorch.nn.modules.module import Module

    for namespace in (tinytorch, functional, init, linalg, special):
        _wrap_functions(namespace)
    for name, value in list(vars(tinytorch.Tensor).items()):
        if isinstance(value, types.FunctionType) and name not in _NOT_OPS and not hasattr(value, "_device_guarded"):
            setattr(tinytorch.Tensor, name, _guarded(value))
    Module.__call__ = _guarded(Module.__call__)
    Function.apply = classmethod(_guarded(Function.apply.__func__))  # a user's Function, too
