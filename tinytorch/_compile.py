"""``torch.compile`` and the ``OptimizedModule`` it returns for a module.

tinytorch has no graph compiler: a compiled function or module runs the eager code unchanged.
What is kept is PyTorch's interface: its argument checks, the wrapped function, and the
``OptimizedModule`` whose state_dict keys carry the ``_orig_mod.`` prefix, so that code written
for ``torch.compile`` (checkpoints included) runs as it is."""

import functools

from .nn.modules.module import Module

# The modes torch.compile's inductor backend knows, in the order its error lists them.
_MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")

# PyTorch 2.13's registered backends (torch._dynamo.list_backends(None)), each with the tags
# that list_backends' default filter excludes ("debug", "experimental").
_BACKENDS = {
    "aot_eager": {"debug"}, "aot_eager_decomp_partition": {"debug"},
    "aot_eager_decomp_partition_crossref": {"debug"}, "aot_eager_decomp_partition_with_mode": {"debug"},
    "aot_eager_default_partitioner": {"debug"}, "aot_ts": {"debug"}, "cudagraphs": set(),
    "dynamo_accuracy_minifier_backend": {"debug"}, "dynamo_minifier_backend": {"debug"}, "eager": {"debug"},
    "eager_debug": {"debug"}, "eager_noexcept": {"debug"}, "inductor": set(), "invoke_subgraph": {"debug"},
    "non_leaf_compile_error_TESTING_ONLY": {"debug"}, "openxla": set(), "openxla_eval": {"experimental"},
    "pre_dispatch_eager": {"debug"}, "relu_accuracy_error_TESTING_ONLY": {"debug"},
    "relu_compile_error_TESTING_ONLY": {"debug"}, "relu_runtime_error_TESTING_ONLY": {"debug"},
    "ts": {"debug"}, "tvm": set(),
}

_default_backend = "inductor"


class _InvalidBackend(RuntimeError):
    """PyTorch's ``torch._dynamo.exc.InvalidBackend`` (a RuntimeError): a backend name it does not know."""


def list_backends(exclude_tags=("debug", "experimental")):
    """The backend names ``compile`` accepts, less those tagged with ``exclude_tags`` (PyTorch's
    list; every backend runs the eager code here)."""
    excluded = set(exclude_tags or ())
    return sorted(name for name, tags in _BACKENDS.items() if not tags & excluded)


def get_default_backend():
    """The backend ``compile`` uses when given none (``"inductor"`` unless set)."""
    return _default_backend


def set_default_backend(backend):
    """Set the backend ``compile`` uses when given none; ``None`` restores ``"inductor"``."""
    global _default_backend
    if backend is None:
        _default_backend = "inductor"
        return
    if not isinstance(backend, str) and not callable(backend):
        raise TypeError(f"backend must be a string or callable, got {type(backend)}")
    _default_backend = backend


class OptimizedModule(Module):
    """What ``compile(module)`` returns: a Module holding the original as ``_orig_mod`` (so its
    state_dict keys start with ``_orig_mod.``), whose forward calls it and whose other attributes
    are the original's."""

    _opt_mod_attributes = frozenset({"_orig_mod", "forward", "_super_module_initialized"})

    def __init__(self, mod):
        # _orig_mod first: attribute reads and writes on self go to it (as PyTorch's).
        object.__setattr__(self, "_orig_mod", mod)
        object.__setattr__(self, "_super_module_initialized", False)
        super().__init__()
        object.__setattr__(self, "_super_module_initialized", True)
        object.__delattr__(self, "_orig_mod")
        self._modules["_orig_mod"] = mod
        self.forward = mod.__call__

    @property
    def training(self):
        return self._orig_mod.training

    @training.setter
    def training(self, value):
        # Module.__init__ sets the default; the mode is the original module's.
        if self._super_module_initialized:
            self._orig_mod.training = value

    def __len__(self):
        if hasattr(type(self._orig_mod), "__len__"):
            return len(self._orig_mod)
        raise TypeError(f"{type(self._orig_mod).__name__} does not support len()")

    def __getattr__(self, name):
        if name == "_orig_mod":
            return self.__dict__["_modules"]["_orig_mod"]
        return getattr(self._orig_mod, name)

    def __setattr__(self, name, value):
        if hasattr(type(self), name) or name in OptimizedModule._opt_mod_attributes:
            return super().__setattr__(name, value)
        return setattr(self._orig_mod, name, value)

    def __delattr__(self, name):
        if hasattr(type(self), name) or name in OptimizedModule._opt_mod_attributes:
            return super().__delattr__(name)
        return delattr(self._orig_mod, name)

    def __dir__(self):
        own = self._orig_mod.__dir__()
        return own + [name for name in super().__dir__() if name not in own]


def _wrap_function(fn):
    """A compiled function: ``fn`` itself, run eagerly, behind ``functools.wraps``."""

    @functools.wraps(fn)
    def compiled(*args, **kwargs):
        return fn(*args, **kwargs)

    return compiled


def compile(model=None, *, fullgraph=False, dynamic=None, backend=None, mode=None, options=None, name=None,
            disable=False, recompile_limit=None, isolate_recompiles=False, shapes_spec=None):
    """``torch.compile``: checks PyTorch's arguments and returns ``model`` wrapped (an
    ``OptimizedModule`` for a Module, a ``functools.wraps`` function otherwise); used bare or with
    arguments as a decorator. tinytorch has no graph compiler: the wrapped code runs eagerly."""
    if backend is None:
        backend = _default_backend
    if model is None:

        def decorate(model):
            if model is None:
                raise RuntimeError("Model can't be None")
            return compile(model, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode, options=options,
                           name=name, disable=disable, recompile_limit=recompile_limit,
                           isolate_recompiles=isolate_recompiles, shapes_spec=shapes_spec)

        return decorate
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be specified at the same time.")
    if mode is None and options is None:
        mode = "default"
    if isinstance(backend, str) and backend not in _BACKENDS:
        raise _InvalidBackend(f"Invalid backend: {backend!r}, see `torch._dynamo.list_backends()` for available backends.")
    if backend == "inductor" and mode is not None and mode not in _MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(_MODES)}")
    if disable:
        return model
    if isinstance(model, Module):
        return OptimizedModule(model)
    if not callable(model):
        raise AssertionError(f"A callable function is expected, but {type(model)} is provided.")
    return _wrap_function(model)
