"""A strict stand-in for CuPy on machines without a GPU: the CUDA path's tests run on NumPy.

CI has no GPU, so without this the CuPy path would only run when a session is lent one. The fake
keeps CuPy's rules where NumPy is lenient, so code that works here has the shape CuPy needs:

- its arrays are not ``numpy.ndarray`` and refuse implicit conversion (``np.asarray(x)`` raises
  ``TypeError``, as CuPy does; ``.get()`` / ``cupy.asnumpy`` copy to the host);
- ufuncs and array functions refuse NumPy arrays mixed with device arrays (CuPy's
  ``TypeError: Unsupported type <class 'numpy.ndarray'>``); index arrays and assigned values may
  be NumPy arrays, as CuPy converts those;
- reductions and full indexing return 0-d arrays, not scalars;
- ``flags`` has CuPy's three fields only (no ``writeable``);
- ``cupy.random.default_rng`` offers CuPy's ``Generator`` methods only (no ``permutation``,
  ``choice``, ``normal``...);
- ``cupy.linalg`` raises nothing for a singular or non-positive-definite matrix (CuPy leaves an
  invalid result: NaN here), has CuPy's signatures (``cholesky(a)``, no ``upper``), does not
  broadcast ``solve``'s batch dims, and its ``lstsq`` takes 2-D arrays only;
- ``ElementwiseKernel`` / ``RawKernel`` compile nothing: tinytorch's fused kernels fall back to their
  array form when ``cupy._tinytorch_fake`` is set (the kernels themselves are checked on a GPU).

It does not model speed, streams or memory: only what a program may call and what it gets back.
``install()`` puts it in ``sys.modules`` as ``cupy`` and ``cupyx`` before tinytorch is imported
(``TINYTORCH_FAKE_CUDA=1 pytest`` does that through conftest).
"""

import contextlib
import sys
import threading
import types

import numpy as np

_tinytorch_fake = True


# -- synchronization: the places CuPy copies to the host call syncdetect, as CuPy's get() does
syncdetect = types.ModuleType("cupy._core.syncdetect")
syncdetect._declare_synchronize = lambda: None
_core = types.ModuleType("cupy._core")
_core.syncdetect = syncdetect


def _sync():
    syncdetect._declare_synchronize()  # looked up at each call: tinytorch wraps it


def _unsupported(value):
    raise TypeError(f"Unsupported type {type(value)}")


def _unwrap(value, strict=True):
    """NumPy data for a fake array; a plain NumPy array is refused where CuPy refuses it."""
    if isinstance(value, ndarray):
        return value._a
    if isinstance(value, np.ndarray):
        if strict:
            _unsupported(value)
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(v, strict) for v in value)
    return value


def _check_devices(*values):
    """CuPy launches a kernel on the current device: an operand on another GPU fails there (or,
    with peer access, is read from afar and the result lands on the current device, which is as
    wrong for a framework that promises the operand's device). The fake takes the strict form."""
    current = _current_device()
    for value in values:
        if isinstance(value, ndarray):
            if value._device != current:
                raise ValueError(f"The device where the array resides ({value._device}) is different from the current "
                                 f"device ({current}). Peer access is unavailable between these devices.")
        elif isinstance(value, (list, tuple)):
            _check_devices(*value)


def _wrap(value, parent=None):
    """A fake array for NumPy results; NumPy scalars become 0-d arrays, as CuPy returns them."""
    if isinstance(value, np.ndarray):
        out = ndarray(value)
        if parent is not None and value.base is not None and np.may_share_memory(value, parent._a):
            out._base = parent._base if parent._base is not None else parent
            out._device = parent._device  # a view lives where its base does
        return out
    if isinstance(value, np.generic):
        return ndarray(np.asarray(value))
    if isinstance(value, tuple):
        return tuple(_wrap(v, parent) for v in value)
    if isinstance(value, list):
        return [_wrap(v, parent) for v in value]
    return value


class _Flags:
    __slots__ = ("c_contiguous", "f_contiguous", "owndata")

    def __init__(self, a, owndata):
        self.c_contiguous = a.flags.c_contiguous
        self.f_contiguous = a.flags.f_contiguous
        self.owndata = owndata

    def __getitem__(self, name):
        return getattr(self, {"C_CONTIGUOUS": "c_contiguous", "F_CONTIGUOUS": "f_contiguous", "OWNDATA": "owndata"}[name])


def _binary(ufunc, reflected=False):
    if reflected:
        return lambda self, other: ufunc(other, self)
    return lambda self, other: ufunc(self, other)


def _inplace(ufunc):
    def method(self, other):
        ufunc(self, other, out=self)
        return self

    return method


class _MemoryPointer:
    """``cupy.ndarray.data``: where the array's first element is (``ptr``)."""

    __slots__ = ("ptr",)

    def __init__(self, ptr):
        self.ptr = ptr


class ndarray:
    """A device array held as a NumPy array, with CuPy's rules (see the module docstring)."""

    __array_priority__ = 100
    __slots__ = ("_a", "_base", "_device", "__weakref__")

    def __init__(self, shape, dtype=float):
        if isinstance(shape, np.ndarray):
            self._a, self._base = shape, None
        else:
            self._a, self._base = np.empty(shape, dtype=dtype), None
        self._device = _current_device()  # CuPy allocates on the current device

    # -- what CuPy refuses
    def __array__(self, dtype=None, copy=None):
        raise TypeError("Implicit conversion to a NumPy array is not allowed. Please use `.get()` to construct a NumPy array explicitly.")

    def __hash__(self):
        raise TypeError("unhashable type: 'cupy.ndarray'")

    # -- attributes
    shape = property(lambda self: self._a.shape)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    dtype = property(lambda self: self._a.dtype)
    strides = property(lambda self: self._a.strides)
    itemsize = property(lambda self: self._a.itemsize)
    nbytes = property(lambda self: self._a.nbytes)
    device = property(lambda self: Device(self._device))
    base = property(lambda self: self._base)
    data = property(lambda self: _MemoryPointer(self._a.__array_interface__["data"][0]))  # CuPy's MemoryPointer
    flags = property(lambda self: _Flags(self._a, self._base is None))
    T = property(lambda self: _wrap(self._a.T, self))
    real = property(lambda self: _wrap(self._a.real, self))
    imag = property(lambda self: _wrap(self._a.imag, self))

    @shape.setter
    def shape(self, value):
        self._a.shape = value

    def get(self, stream=None, order="C", out=None):
        _sync()
        return np.array(self._a, order=order)

    def set(self, arr, stream=None):
        if not isinstance(arr, np.ndarray):
            raise TypeError(f"Only numpy.ndarray can be set to cupy.ndarray. Given: {type(arr)}")
        self._a[...] = arr

    def item(self):
        _sync()
        return self._a.item()

    def tolist(self):
        _sync()
        return self._a.tolist()

    def tobytes(self, order="C"):
        _sync()
        return self._a.tobytes(order)

    def __getattr__(self, name):
        attr = getattr(self._a, name)
        if not callable(attr):
            return attr

        def method(*args, **kwargs):
            if name not in _VIEW_METHODS:
                _check_devices(self, *args, *kwargs.values())
            if name in _AXIS_FUNCTIONS and self._a.ndim == 0:
                _check_axis_of_0d(args[0] if args else kwargs.get("axis"))
            out = kwargs.get("out")
            result = attr(*_unwrap(args), **{k: _unwrap(v) for k, v in kwargs.items()})
            if isinstance(out, ndarray):
                return out
            return self if result is self._a else _wrap(result, self)

        return method

    # -- Python protocols
    def __len__(self):
        return len(self._a)

    def __iter__(self):
        if self._a.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(len(self._a)))

    def __bool__(self):
        _sync()
        return bool(self._a)

    def __float__(self):
        _sync()
        return float(self._a)

    def __int__(self):
        _sync()
        return int(self._a)

    def __complex__(self):
        _sync()
        return complex(self._a)

    def __index__(self):
        _sync()
        return self._a.__index__()

    def __repr__(self):
        _sync()
        return repr(self._a)

    def __str__(self):
        _sync()
        return str(self._a)

    def __copy__(self):
        return ndarray(self._a.copy())

    def __deepcopy__(self, memo):
        return ndarray(self._a.copy())

    def __reduce__(self):
        return (_rebuild, (self._a,))

    def __getitem__(self, key):
        key = _wrapped_indices(_unwrap(key, strict=False), self._a.shape)
        if any(isinstance(k, np.ndarray) and k.dtype == bool for k in (key if isinstance(key, tuple) else (key,))):
            _sync()  # a boolean mask: the result's size is read back from the device
        result = self._a[key]
        if isinstance(result, np.generic):  # CuPy gives one element as a 0-d view, never a scalar
            result = self._a[(*key, None) if isinstance(key, tuple) else (key, None)].reshape(())
        return _wrap(result, self)

    def __setitem__(self, key, value):
        _check_devices(self, value)
        self._a[_wrapped_indices(_unwrap(key, strict=False), self._a.shape)] = _unwrap(value, strict=False)

    # -- NumPy's protocols: device arrays only, as CuPy
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        _check_devices(*inputs, kwargs.get("out"))
        out = kwargs.get("out")
        if out is not None:
            kwargs["out"] = tuple(_unwrap(o) for o in out)
        if "where" in kwargs:
            kwargs["where"] = _unwrap(kwargs["where"])
        result = getattr(ufunc, method)(*(_unwrap(x) for x in inputs), **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _wrap(result)

    def __array_function__(self, func, types, args, kwargs):
        name = func.__name__
        if name in _NOT_IN_CUPY:
            return NotImplemented
        if name in _SYNCHRONIZING:
            _sync()
        _check_devices(*args, *kwargs.values())
        parent = args[0] if args and isinstance(args[0], ndarray) else None
        if name in _AXIS_FUNCTIONS and parent is not None and parent.ndim == 0:
            _check_axis_of_0d(args[1] if len(args) > 1 else kwargs.get("axis"))
        out = kwargs.get("out")
        result = func(*_unwrap(args), **{k: _unwrap(v) for k, v in kwargs.items()})
        return out if isinstance(out, ndarray) else _wrap(result, parent)

    # -- operators (through the ufuncs, as CuPy's)
    __add__, __radd__, __iadd__ = _binary(np.add), _binary(np.add, True), _inplace(np.add)
    __sub__, __rsub__, __isub__ = _binary(np.subtract), _binary(np.subtract, True), _inplace(np.subtract)
    __mul__, __rmul__, __imul__ = _binary(np.multiply), _binary(np.multiply, True), _inplace(np.multiply)
    __truediv__, __rtruediv__, __itruediv__ = _binary(np.true_divide), _binary(np.true_divide, True), _inplace(np.true_divide)
    __floordiv__, __rfloordiv__, __ifloordiv__ = _binary(np.floor_divide), _binary(np.floor_divide, True), _inplace(np.floor_divide)
    __mod__, __rmod__, __imod__ = _binary(np.remainder), _binary(np.remainder, True), _inplace(np.remainder)
    __pow__, __rpow__, __ipow__ = _binary(np.power), _binary(np.power, True), _inplace(np.power)
    __matmul__, __rmatmul__ = _binary(np.matmul), _binary(np.matmul, True)
    __and__, __rand__, __iand__ = _binary(np.bitwise_and), _binary(np.bitwise_and, True), _inplace(np.bitwise_and)
    __or__, __ror__, __ior__ = _binary(np.bitwise_or), _binary(np.bitwise_or, True), _inplace(np.bitwise_or)
    __xor__, __rxor__, __ixor__ = _binary(np.bitwise_xor), _binary(np.bitwise_xor, True), _inplace(np.bitwise_xor)
    __lshift__, __rshift__ = _binary(np.left_shift), _binary(np.right_shift)
    __lt__, __le__, __gt__, __ge__ = _binary(np.less), _binary(np.less_equal), _binary(np.greater), _binary(np.greater_equal)
    __eq__, __ne__ = _binary(np.equal), _binary(np.not_equal)

    def __neg__(self):
        return np.negative(self)

    def __pos__(self):
        return np.positive(self)

    def __abs__(self):
        return np.absolute(self)

    def __invert__(self):
        return np.invert(self)


def _wrapped_indices(key, shape):
    """CuPy wraps out-of-bounds integer index arrays around (NumPy raises): the same here."""
    items = list(key) if isinstance(key, tuple) else [key]
    consumed = sum(0 if k is None or k is Ellipsis else (k.ndim if isinstance(k, np.ndarray) and k.dtype == bool else 1) for k in items)
    axis, out = 0, []
    for k in items:
        if k is Ellipsis:
            axis += len(shape) - consumed
        elif isinstance(k, np.ndarray) and k.dtype == bool:
            axis += k.ndim
        elif k is not None:
            if isinstance(k, (np.ndarray, list)) and axis < len(shape) and shape[axis]:
                k = np.mod(np.asarray(k), shape[axis])
            axis += 1
        out.append(k)
    return tuple(out) if isinstance(key, tuple) else out[0]


# NumPy lets a 0-d array be reduced or scanned along axis 0 or -1; CuPy raises AxisError.
_AXIS_FUNCTIONS = {"sum", "prod", "max", "min", "amax", "amin", "mean", "var", "std", "any", "all", "argmax", "argmin",
                   "cumsum", "cumprod", "nansum", "logsumexp", "sort", "argsort"}


def _check_axis_of_0d(axis):
    if axis is None or axis == ():
        return
    first = axis[0] if isinstance(axis, tuple) else axis
    raise np.exceptions.AxisError(f"axis {first} is out of bounds for array of dimension 0")


def _rebuild(a):
    return ndarray(a)


# NumPy functions CuPy does not implement (a call with device arrays fails there too).
_NOT_IN_CUPY = {"fill_diagonal_", "nanmedian_"}
# Methods that make a view or read metadata (no kernel): allowed on an array of another device.
_VIEW_METHODS = {"reshape", "view", "transpose", "swapaxes", "squeeze", "__array_interface__", "__cuda_array_interface__",
                 "toDlpack", "__dlpack__", "__dlpack_device__"}
# Functions whose output size depends on the data: CuPy reads it back from the device.
_SYNCHRONIZING = {"nonzero", "argwhere", "flatnonzero", "unique", "compress", "extract", "array_equal", "allclose", "array_repr", "array_str"}


# -- the module's functions -----------------------------------------------------------------
class _Ufunc:
    def __init__(self, ufunc):
        self._ufunc = ufunc
        self.__name__ = ufunc.__name__

    def __call__(self, *args, **kwargs):
        _check_devices(*args, kwargs.get("out"))
        result = self._ufunc(*(_as_device(a) for a in args), **kwargs)
        return result if isinstance(result, (ndarray, tuple)) else _wrap(result)

    def __getattr__(self, name):
        method = getattr(self._ufunc, name)
        return lambda *args, **kwargs: method(*(_as_device(a) if i == 0 else a for i, a in enumerate(args)), **kwargs)


def _as_device(value):
    """A module function's argument: a fake array stays, a NumPy array is refused, scalars pass."""
    if isinstance(value, np.ndarray):
        _unsupported(value)
    return value


def _function(func):
    def call(*args, **kwargs):
        _check_devices(*args, *kwargs.values())
        out = kwargs.get("out")
        result = func(*_unwrap(args), **{k: _unwrap(v) for k, v in kwargs.items()})
        if isinstance(out, ndarray):
            return out
        parent = args[0] if args and isinstance(args[0], ndarray) else None
        return _wrap(result, parent)

    call.__name__ = getattr(func, "__name__", "function")
    return call


def asarray(a, dtype=None, order=None, *, blocking=False):
    if isinstance(a, ndarray) and a._device == _current_device():
        return a if dtype is None or a.dtype == np.dtype(dtype) else a.astype(dtype)
    if isinstance(a, ndarray):  # on another device: copied to the current one, as CuPy does
        return ndarray(np.array(a._a, dtype=dtype, copy=True))
    return ndarray(np.array(a, dtype=dtype, order=order or "K", copy=True))


def array(obj, dtype=None, copy=True, order="K", subok=False, ndmin=0, *, blocking=False):
    if isinstance(obj, ndarray):
        data = np.array(obj._a, dtype=dtype, copy=copy, order=order, ndmin=ndmin)
        if data is obj._a:  # on another device: copied to the current one, as CuPy does
            return obj if obj._device == _current_device() else ndarray(data.copy())
        return ndarray(data)
    return ndarray(np.array(obj, dtype=dtype, copy=True, order=order, ndmin=ndmin))


def ascontiguousarray(a, dtype=None):
    if not isinstance(a, ndarray):
        _unsupported(a)
    data = np.ascontiguousarray(a._a, dtype=dtype)
    return a if data is a._a else ndarray(data)


def asnumpy(a, stream=None, order="C", out=None, *, blocking=True):
    if isinstance(a, ndarray):
        _sync()
        return np.array(a._a, order=order)
    return np.asarray(a, order=order)


def get_array_module(*args):
    return sys.modules[__name__] if any(isinstance(a, ndarray) for a in args) else np


def __getattr__(name):
    attr = getattr(np, name)
    if isinstance(attr, np.ufunc):
        return _Ufunc(attr)
    if isinstance(attr, type) or not callable(attr):
        return attr  # dtypes, constants
    return _function(attr)


# -- cupy.cuda ----------------------------------------------------------------------------
# The number of fake GPUs (``install(device_count=2)`` for multi-GPU code), and the current
# device of each thread, as CUDA keeps it: arrays are allocated there; ``with Device(i)`` sets it.
_DEVICE_COUNT = [1]
_current = threading.local()


def _current_device():
    return getattr(_current, "device", 0)


def _set_device(index):
    if not 0 <= index < _DEVICE_COUNT[0]:
        raise RuntimeError(f"CUDARuntimeError: cudaErrorInvalidDevice: invalid device ordinal ({index})")
    _current.device = index


class Device:
    """CuPy's Device: ``with Device(i)`` makes ``i`` current and restores the previous device on
    exit; ``use()`` makes it current for good (cudaSetDevice)."""

    def __init__(self, device=None):
        self.id = _current_device() if device is None else int(device)
        if not 0 <= self.id < _DEVICE_COUNT[0]:
            raise RuntimeError(f"CUDARuntimeError: cudaErrorInvalidDevice: invalid device ordinal ({self.id})")

    def __enter__(self):
        _current.__dict__.setdefault("previous", []).append(_current_device())
        _set_device(self.id)
        return self

    def __exit__(self, *exc):
        _set_device(_current.previous.pop())
        return False

    def synchronize(self):
        _sync()

    def __eq__(self, other):
        return isinstance(other, Device) and self.id == other.id

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash(self.id)

    def __repr__(self):
        return f"<CUDA Device {self.id}>"

    def use(self):
        _set_device(self.id)

    compute_capability = "90"


def _device_properties(index):
    return {"name": b"Fake CUDA device (NumPy)", "totalGlobalMem": 1 << 34, "major": 9, "minor": 0, "multiProcessorCount": 1}


class _MemoryPool:
    def used_bytes(self):
        return 0

    def total_bytes(self):
        return 0

    def free_all_blocks(self):
        pass


class Stream:
    """CuPy's Stream: ``with s:`` or ``s.use()`` makes it the current stream. Work here runs at
    once, so every stream is always done."""

    _count = [0]

    def __init__(self, null=False, non_blocking=False, ptds=False, priority=None):
        self.ptr = 0 if null else 0x1000 + Stream._count[0]
        Stream._count[0] += 1
        self.device_id = _current_device()
        self._previous = []

    done = property(lambda self: True)

    def synchronize(self):
        _sync()

    def wait_event(self, event):
        if not isinstance(event, Event):
            raise TypeError(f"Argument 'event' has incorrect type (expected cupy.cuda.stream.Event, got {type(event).__name__})")

    def record(self, event=None):
        event = Event() if event is None else event
        event.record(self)
        return event

    def use(self):
        _current.stream = self
        return self

    def __enter__(self):
        self._previous.append(get_current_stream())
        return self.use()

    def __exit__(self, *exc):
        self._previous.pop().use()
        return False


Stream.null = Stream(null=True)


def get_current_stream(device_id=None):
    return getattr(_current, "stream", Stream.null)


class Event:
    """CuPy's Event: ``record`` notes the host clock (work here runs at once)."""

    def __init__(self, block=False, disable_timing=False, interprocess=False):
        if interprocess and not disable_timing:
            raise ValueError("Timing must be disabled for interprocess events")
        self.ptr = id(self)
        self.disable_timing = disable_timing
        self._time = None

    done = property(lambda self: True)

    def record(self, stream=None):
        import time

        self._time = time.perf_counter()

    def synchronize(self):
        _sync()


def get_elapsed_time(start_event, end_event):
    if start_event.disable_timing or end_event.disable_timing:
        raise RuntimeError("CUDARuntimeError: cudaErrorInvalidResourceHandle: invalid resource handle")
    return (end_event._time - start_event._time) * 1000.0


cuda = types.SimpleNamespace(
    Device=Device,
    Event=Event,
    get_elapsed_time=get_elapsed_time,
    runtime=types.SimpleNamespace(getDeviceCount=lambda: _DEVICE_COUNT[0], getDeviceProperties=_device_properties,
                                  getDevice=_current_device, setDevice=_set_device,
                                  deviceCanAccessPeer=lambda device, peer: 0,  # the fake's GPUs have no peer access
                                  deviceSynchronize=lambda: None, memGetInfo=lambda: (1 << 34, 1 << 34)),
    Stream=Stream,
    get_current_stream=get_current_stream,
)


def get_default_memory_pool():
    return _MemoryPool()


# -- cupy.random: CuPy's Generator methods only ---------------------------------------------
class _Generator:
    _METHODS = ("random", "uniform", "integers", "standard_normal", "exponential", "standard_exponential",
                "beta", "binomial", "gamma", "standard_gamma", "poisson", "geometric", "chisquare", "dirichlet")

    def __init__(self, seed):
        self._rng = np.random.default_rng(seed)

    def __getattr__(self, name):
        if name not in self._METHODS:
            raise AttributeError(f"'cupy.random._generator_api.Generator' object has no attribute '{name}'")
        return _function(getattr(self._rng, name))


random = types.SimpleNamespace(default_rng=_Generator)


# -- cupy.linalg: NumPy's routines with CuPy's signatures and CuPy's silence on bad data ----------
def _per_matrix(func, arrays, kwargs):
    """func over each matrix of a batch; a matrix LAPACK refuses gets NaN results."""
    batch = arrays[0].shape[:-2]
    results = []
    for parts in zip(*(a.reshape((-1,) + a.shape[-2:]) for a in arrays)):
        try:
            results.append(func(*parts, **kwargs))
        except np.linalg.LinAlgError:
            shaped = func(*(np.eye(*p.shape, dtype=p.dtype) for p in parts), **kwargs)
            results.append(tuple(np.full_like(r, np.nan) for r in shaped) if isinstance(shaped, tuple) else np.full_like(shaped, np.nan))
    if isinstance(results[0], tuple):
        return tuple(np.stack([r[i] for r in results]).reshape(batch + results[0][i].shape) for i in range(len(results[0])))
    return np.stack(results).reshape(batch + results[0].shape)


def _solver(func, check=None):
    """A cupy.linalg function: device arrays only; no LinAlgError for a singular or
    non-positive-definite matrix, whose results are invalid (NaN here; whatever cuSOLVER left on a
    GPU) unless cupyx.errstate(linalg='raise') is set, which tinytorch never does (it synchronizes)."""
    def call(*args, **kwargs):
        arrays = [_unwrap(_as_device(a)) for a in args]
        if check is not None:
            check(*arrays)
        try:
            result = func(*arrays, **kwargs)
        except np.linalg.LinAlgError:
            result = _per_matrix(func, arrays, kwargs)
        return _wrap(tuple(result) if isinstance(result, tuple) else result)

    call.__name__ = func.__name__
    return call


def _check_solve(a, b):
    if b.ndim > 1 and a.shape[:-1] != b.shape[:-1]:  # CuPy does not broadcast batch dims
        raise ValueError("a must have (..., M, M) shape and b must have (..., M, K) for multidimensional b")


def _check_lstsq(a, b):
    if a.ndim != 2 or b.ndim > 2:
        raise np.linalg.LinAlgError(f"{a.ndim}-dimensional array given. Array must be two-dimensional")


linalg = types.SimpleNamespace(
    LinAlgError=np.linalg.LinAlgError,
    inv=_solver(np.linalg.inv), solve=_solver(np.linalg.solve, _check_solve), det=_solver(np.linalg.det),
    slogdet=_solver(np.linalg.slogdet), cholesky=_solver(lambda a: np.linalg.cholesky(a)),
    qr=_solver(lambda a, mode="reduced": np.linalg.qr(a, mode)),
    svd=_solver(lambda a, full_matrices=True, compute_uv=True: np.linalg.svd(a, full_matrices, compute_uv)),
    eigh=_solver(lambda a, UPLO="L": np.linalg.eigh(a, UPLO)), eigvalsh=_solver(lambda a, UPLO="L": np.linalg.eigvalsh(a, UPLO)),
    pinv=_solver(np.linalg.pinv), norm=_solver(np.linalg.norm), matrix_power=_solver(np.linalg.matrix_power),
    lstsq=_solver(np.linalg.lstsq, _check_lstsq),
)


# -- cupy.lib.stride_tricks: as_strided(x, shape=None, strides=None), a view of a device array --
def _as_strided(x, shape=None, strides=None):
    if not isinstance(x, ndarray):
        _unsupported(x)
    return _wrap(np.lib.stride_tricks.as_strided(x._a, shape, strides), x)


lib = types.SimpleNamespace(stride_tricks=types.SimpleNamespace(as_strided=_as_strided))


# -- kernels: nothing compiles on the fake ----------------------------------------------------
class ElementwiseKernel:
    def __init__(self, *args, **kwargs):
        raise RuntimeError("the fake CuPy compiles no CUDA kernels (check cupy._tinytorch_fake first)")


RawKernel = ReductionKernel = ElementwiseKernel


def fuse(*args, **kwargs):
    raise RuntimeError("the fake CuPy compiles no CUDA kernels (check cupy._tinytorch_fake first)")


# -- cupyx ------------------------------------------------------------------------------------
def _scatter_add(a, slices, value):
    np.add.at(a._a, _wrapped_indices(_unwrap(slices, strict=False), a._a.shape), _unwrap(value, strict=False))


class DeviceSynchronized(RuntimeError):
    def __init__(self, message=None):
        super().__init__(message or "Device synchronization was detected while disallowed.")


_allowed = [True]


def _declare_synchronize():
    if not _allowed[-1]:
        raise DeviceSynchronized()


syncdetect._declare_synchronize = _declare_synchronize


@contextlib.contextmanager
def _allow_synchronize(allow):
    _allowed.append(allow)
    try:
        yield
    finally:
        _allowed.pop()


cupyx = types.ModuleType("cupyx")
cupyx.scatter_add = _scatter_add
cupyx.allow_synchronize = _allow_synchronize
cupyx.DeviceSynchronized = DeviceSynchronized
cupyx.__doc__ = "The fake CuPy's cupyx: scatter_add, allow_synchronize, scipy.sparse and scipy.special."


class _SparseMatrix:
    """cupyx.scipy.sparse's matrices on scipy.sparse: device arrays in and out, NumPy arrays
    refused, and CuPy's dtypes only (cuSPARSE has no integer matrices)."""

    def __init__(self, matrix):
        self._m = matrix

    @property
    def shape(self):
        return self._m.shape

    def tocsr(self):
        return _SparseMatrix(self._m.tocsr())

    @property
    def T(self):
        return _SparseMatrix(self._m.T)

    def __matmul__(self, other):
        if not isinstance(other, ndarray):
            _unsupported(other)
        return _wrap(np.asarray(self._m @ other._a))


def _sparse_constructor(kind):
    def construct(arg, shape=None, dtype=None, copy=False):
        import scipy.sparse

        data = arg[0]
        if not isinstance(data, ndarray):
            _unsupported(data)
        if data.dtype.kind not in "bfc":
            raise ValueError("Only bool, float32, float64, complex64 and complex128 are supported")
        return _SparseMatrix(getattr(scipy.sparse, kind)(_unwrap(arg), shape=shape, dtype=dtype))

    return construct


_scipy = types.ModuleType("cupyx.scipy")
_scipy.sparse = types.ModuleType("cupyx.scipy.sparse")
_scipy.sparse.coo_matrix = _sparse_constructor("coo_matrix")
_scipy.sparse.csr_matrix = _sparse_constructor("csr_matrix")
cupyx.scipy = _scipy


def _special_function(name):
    """A cupyx.scipy.special function on scipy.special's: device arrays in and out, NumPy arrays refused."""
    def call(*args):
        import scipy.special

        return _wrap(np.asarray(getattr(scipy.special, name)(*_unwrap(args))))

    call.__name__ = name
    return call


_scipy.special = types.ModuleType("cupyx.scipy.special")
for _name in (
    "gammaln", "digamma", "polygamma", "erfinv", "erf", "erfc", "i0", "i0e", "i1", "i1e", "ndtr", "ndtri", "log_ndtr",
    "erfcx", "entr", "zeta", "gammainc", "gammaincc", "j0", "j1", "y0", "y1", "k0", "k1", "k0e", "k1e", "eval_chebyt",
    "eval_chebyu", "eval_hermite", "eval_hermitenorm", "eval_laguerre", "eval_legendre",
):  # cupyx.scipy.special's names (airy, below, is not checked against a real CuPy)
    setattr(_scipy.special, _name, _special_function(_name))



def _airy(x):
    import scipy.special

    return tuple(_wrap(np.asarray(r)) for r in scipy.special.airy(*_unwrap((x,))))


_scipy.special.airy = _airy

def install(device_count=1):
    """Make ``import cupy`` / ``import cupyx`` give the fake (before tinytorch is imported), with
    ``device_count`` GPUs."""
    _DEVICE_COUNT[0] = device_count
    module = sys.modules[__name__]
    sys.modules["cupy"] = module
    globals()["__name__"] = "cupy"  # frames in here count as CuPy's (tinytorch skips them in sync reports)
    sys.modules["cupy._core"] = _core
    sys.modules["cupy._core.syncdetect"] = syncdetect
    sys.modules["cupyx"] = cupyx
    sys.modules["cupyx.scipy"] = _scipy
    sys.modules["cupyx.scipy.sparse"] = _scipy.sparse
    sys.modules["cupyx.scipy.special"] = _scipy.special


def run_on_fake_gpus(module, *checks, device_count=2):
    """Run ``module``'s functions ``checks`` (names) in a fresh process with ``device_count`` fake
    GPUs (the fake must be installed before tinytorch is imported); raises if one fails."""
    import os
    import subprocess

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    calls = "; ".join(f"checks.{name}()" for name in checks)
    script = (f"from tests import fake_cupy; fake_cupy.install(device_count={device_count}); "
              f"import {module} as checks; {calls}; print('checked')")
    done = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("checked")


if __name__ == "__main__":
    # python -m tests.fake_cupy SCRIPT [ARGS...]: run a program with the fake installed.
    import runpy

    install()
    sys.argv = sys.argv[1:]
    runpy.run_path(sys.argv[0], run_name="__main__")
