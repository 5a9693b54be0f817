"""``Parameter``: a Tensor that a Module registers as learnable; ``Buffer``: one it registers as state."""

from .. import _backend as backend, _dtypes as dtypes
from .._tensor import Tensor, _init


class Parameter(Tensor):
    """A leaf tensor that requires grad by default; ``Parameter(t)`` shares ``t``'s memory."""

    def __new__(cls, data=None, requires_grad=True):
        return object.__new__(cls)

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            array = backend.array_module("cpu").empty((0,), dtype=dtypes.default_float_numpy())
        elif isinstance(data, Tensor):
            array = data._data
        else:
            raise TypeError(f"Parameter(): expected a Tensor as data, got {type(data).__name__}")
        _init(self, array, False, None, 0)
        if requires_grad:
            self.requires_grad = True

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (backend.to_numpy(self._data), self._requires_grad, str(self.device)))


def _rebuild_parameter(array, requires_grad, device):
    return Parameter(Tensor._make(backend.to_device(array, device)), requires_grad)


class Buffer(Tensor):
    """Marks a tensor as a buffer when assigned to a Module attribute (``persistent`` as in register_buffer)."""

    def __new__(cls, data=None, *, persistent=True):
        return object.__new__(cls)

    def __init__(self, data=None, *, persistent=True):
        array = data._data if data is not None else backend.array_module("cpu").empty((0,), dtype=dtypes.default_float_numpy())
        _init(self, array, False, None, 0)
        self.persistent = persistent
