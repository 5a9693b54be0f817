"""``Parameter``: a Tensor that a Module registers as learnable; ``Buffer``: one it registers as state;
``UninitializedParameter`` / ``UninitializedBuffer``: their shapeless placeholders in lazy modules."""

from .. import _backend as backend, _creation as creation, _dtypes as dtypes
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


# Tensor keeps its array in a slot; the uninitialized classes shadow ``_data`` with a property that
# refuses every op, and reach the (empty) array through the slot itself.
_DATA_SLOT = Tensor.__dict__["_data"]

_CONVERSIONS = ("half", "float", "double", "char", "short", "int", "long", "cuda", "cpu", "to")


def _uninitialized_use_error(cls_name):
    return ValueError(
        "Attempted to use an uninitialized parameter. "
        "This error happens when you are using a `LazyModule` or "
        f"explicitly manipulating `torch.nn.parameter.{cls_name}` "
        "objects. When using LazyModules Call `forward` with a dummy batch "
        "to initialize the parameters before calling torch functions"
    )


class UninitializedTensorMixin:
    """What UninitializedParameter and UninitializedBuffer share: no shape yet, only a dtype and a
    device; ``materialize(shape)`` fills this very object and turns it into ``cls_to_become``."""

    __slots__ = ()  # the same layout as the class to become, so ``__class__`` can be reassigned

    @property
    def _data(self):
        # Every op reads ``_data``: reading it is "using" the tensor, which PyTorch refuses.
        raise _uninitialized_use_error(type(self).__name__)

    @_data.setter
    def _data(self, array):
        _DATA_SLOT.__set__(self, array)

    def _empty(self):
        return _DATA_SLOT.__get__(self)

    def materialize(self, shape, device=None, dtype=None):
        """Give this object data of ``shape`` (uninitialized values) on its device and dtype, or the
        ones given, and make it a ``cls_to_become`` (Parameter or Tensor) in place."""
        empty = Tensor._make(self._empty())
        device = empty.device if device is None else device
        dtype = empty.dtype if dtype is None else dtype
        _DATA_SLOT.__set__(self, creation.empty(shape, device=device, dtype=dtype)._data)
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise RuntimeError(
            "Can't access the shape of an uninitialized parameter or buffer. "
            "This error usually happens in `load_state_dict` when trying to load "
            "an uninitialized parameter into an initialized one. "
            "Call `forward` to initialize the parameters before accessing their attributes."
        )

    # What PyTorch allows on an uninitialized tensor: its dtype and device, and converting them.
    @property
    def dtype(self):
        return dtypes.from_numpy_dtype(self._empty().dtype)

    @property
    def device(self):
        return backend.device_of(self._empty())

    @property
    def is_cuda(self):
        return backend.is_cuda_array(self._empty())

    @property
    def is_cpu(self):
        return not backend.is_cuda_array(self._empty())

    @property
    def ndim(self):
        return 1

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        if value is not True and value is not False:
            raise RuntimeError("requires_grad must be a bool")
        if value and self._empty().dtype.kind not in "fc":
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        self._requires_grad = value

    @property
    def data(self):
        return Tensor._make(self._empty())

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(value).__name__}")
        _DATA_SLOT.__set__(self, value._data)

    def size(self, dim=None):
        return Tensor._make(self._empty()).size(dim)

    def is_floating_point(self):
        return self._empty().dtype.kind == "f"

    def is_complex(self):
        return False

    def get_device(self):
        return Tensor._make(self._empty()).get_device()

    def _converted(self, method, *args, **kwargs):
        out = getattr(Tensor._make(self._empty()), method)(*args, **kwargs)
        if out._data is self._empty():
            return self
        if isinstance(self, UninitializedBuffer):  # a module's buffers stay lazy through .to()
            return UninitializedBuffer._wrap(out._data, self._requires_grad)
        return out

    def share_memory_(self):
        raise RuntimeError(
            "Can't share memory on an uninitialized parameter or buffer. "
            "Call `forward` to initialize the parameters before calling "
            "`module.share_memory()`."
        )

    def __repr__(self):
        return f"<{self.__class__.__name__}>"

    def __reduce_ex__(self, protocol):
        return (self.__class__, (self.requires_grad,))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        empty = Tensor._make(self._empty())
        result = type(self)(self.requires_grad, empty.device, empty.dtype)
        memo[id(self)] = result
        return result


def _make_conversion(name):
    def conversion(self, *args, **kwargs):
        return self._converted(name, *args, **kwargs)

    conversion.__name__ = conversion.__qualname__ = name
    conversion.__doc__ = f"``Tensor.{name}`` on the (empty) data: allowed before materialization."
    return conversion


for _name in _CONVERSIONS:
    setattr(UninitializedTensorMixin, _name, _make_conversion(_name))
del _name


def is_lazy(param):
    """Whether ``param`` is an ``UninitializedParameter`` or ``UninitializedBuffer``."""
    return isinstance(param, UninitializedTensorMixin)


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A Parameter whose shape is not known yet (lazy modules); only its dtype and device may be
    read or changed until ``materialize`` makes it a regular Parameter (the same object)."""

    __slots__ = ()
    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        return object.__new__(cls)

    def __init__(self, requires_grad=True, device=None, dtype=None):
        _init(self, creation.empty(0, device=device, dtype=dtype)._data, False, None, 0)
        if requires_grad:
            self.requires_grad = True


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer whose shape is not known yet (lazy modules); ``materialize`` makes it a Tensor.

    ``persistent`` is accepted for PyTorch's signature; register it with
    ``register_buffer(name, buffer, persistent)`` to choose (docs/differences.md).
    """

    __slots__ = ()  # Tensor's layout: ``materialize`` turns this very object into a Tensor
    cls_to_become = Tensor

    def __new__(cls, requires_grad=False, device=None, dtype=None, persistent=True):
        return object.__new__(cls)

    def __init__(self, requires_grad=False, device=None, dtype=None, persistent=True):
        _init(self, creation.empty(0, device=device, dtype=dtype)._data, False, None, 0)
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _wrap(cls, array, requires_grad):
        out = object.__new__(cls)
        _init(out, array, requires_grad, None, 0)
        return out
