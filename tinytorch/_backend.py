"""The one module that knows NumPy from CuPy: devices, array modules and transfers.

Every other module asks this one for ``xp`` (the array module of a device or an array) instead of
importing CuPy, so tinytorch imports and runs on machines without a GPU.
"""

import functools
import os
import sys
import traceback
import warnings

import numpy as np

from . import _blas, _float_errors, _heap, _threads

try:  # CuPy is optional: the cuda12/cuda13 extras install it.
    import cupy

    try:
        _CUDA_DEVICES = cupy.cuda.runtime.getDeviceCount()
    except Exception:  # a CuPy install without a driver or GPU
        _CUDA_DEVICES = 0
    cupy_ndarray = cupy.ndarray
except ImportError:
    cupy = None
    cupy_ndarray = None
    _CUDA_DEVICES = 0

# A training step's memory stays in the heap between steps (tinytorch/_heap.py).
_heap.prime_mmap_threshold()


class device:
    """Where a tensor lives: ``device("cpu")``, ``device("cuda")``, ``device("cuda:1")``, ``device("cuda", 1)``."""

    __slots__ = ("type", "index")

    def __init__(self, spec, index=None):
        if isinstance(spec, device):
            self.type, self.index = spec.type, spec.index
            return
        if isinstance(spec, int) and not isinstance(spec, bool):
            spec, index = "cuda", spec
        if not isinstance(spec, str):
            raise TypeError(f"device() expected a string or int, got {type(spec).__name__}")
        kind, _, number = spec.partition(":")
        if kind not in ("cpu", "cuda") or (number and not number.isdigit()):
            raise RuntimeError(
                "Expected one of cpu, cuda device type at start of device string: " + spec
            )
        if number:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was passed explicitly: {spec}")
            index = int(number)
        if kind == "cpu" and index not in (None, 0):
            raise RuntimeError(f"CPU device index must be -1 or zero, got {index}")
        self.type = kind
        self.index = index if kind == "cuda" else None

    def __eq__(self, other):
        # As PyTorch: type and index alike ("cuda" is not "cuda:0"; a string is not a device).
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __repr__(self):
        return f"device(type='{self.type}'" + ("" if self.index is None else f", index={self.index}") + ")"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __enter__(self):
        """``with tinytorch.device("cuda"):`` makes factories create tensors there, as PyTorch."""
        _previous_defaults.append(_default[0])
        set_default_device(self)
        return self

    def __exit__(self, *exc):
        _default[0] = _previous_defaults.pop()
        return False


CPU = device("cpu")
_default = [CPU]  # the device factories use when given none (set_default_device)
_previous_defaults = []  # the defaults that ``with device(...)`` blocks replaced
_CUDA = [device("cuda", i) for i in range(_CUDA_DEVICES)]


def as_device(spec):
    """The ``device`` a device, string, int or None (the CPU) puts a tensor on: a plain ``"cuda"``
    is the current GPU (``cuda:N``), as a tensor's ``device`` would say, so that it compares equal
    to where the tensor lives (``device("cuda") != device("cuda:0")``, as in PyTorch)."""
    if spec is None:
        return CPU
    if spec.__class__ is not device:
        spec = device(spec)
    if spec.index is None and spec.type == "cuda" and _CUDA_DEVICES:
        return _CUDA[current_cuda_index()]
    return spec


def default_device():
    """The device factories create tensors on when given none (CPU unless set): a plain
    ``"cuda"`` default is the GPU current now, as PyTorch's ``get_default_device``."""
    return as_device(_default[0])


def set_default_device(spec):
    """Make factories (``zeros``, ``randn``, module parameters...) create tensors on ``spec``;
    None goes back to the CPU. A plain ``"cuda"`` follows ``cuda.set_device``."""
    _default[0] = CPU if spec is None else (spec if spec.__class__ is device else device(spec))


def device_of(array):
    """The device an array lives on."""
    if array.__class__ is np.ndarray:
        return CPU
    if cupy is not None and isinstance(array, cupy.ndarray):
        return _CUDA[array.device.id]
    return CPU


def array_module(obj):
    """``numpy`` or ``cupy``: the module for an array or a device."""
    if obj.__class__ is np.ndarray:
        return np
    if isinstance(obj, (device, str)):
        return _module_for(as_device(obj))
    if cupy is not None and isinstance(obj, cupy.ndarray):
        return cupy
    return np


def _module_for(dev):
    if dev.type == "cpu":
        return np
    _check_cuda(dev)
    return cupy


# With several GPUs every op runs under a device guard (``device_guard``); with one or none, none.
SEVERAL_GPUS = _CUDA_DEVICES > 1


def current_cuda_index():
    """The current GPU (``torch.cuda.current_device()``): CUDA's, per thread; 0 without a GPU."""
    return cupy.cuda.runtime.getDevice() if _CUDA_DEVICES else 0


def cuda_index(dev):
    """The GPU a cuda device names: its index, or the current GPU for a plain ``"cuda"``."""
    return dev.index if dev.index is not None else current_cuda_index()


def device_guard(values):
    """A context making current the GPU of the first CUDA tensor among ``values`` (tensors, or
    lists and tuples starting with one), as PyTorch's device guard does around every op; None when that GPU
    is current already or no value is on a GPU. Only called with several GPUs: CuPy runs a kernel
    on the current device, where an operand on another GPU fails (no peer access) or is read from
    afar with the result landing on the current GPU instead of the operand's."""
    for value in values:
        if value.__class__ in (list, tuple):  # cat's and stack's tensors: one device (the first's)
            if not value:
                continue
            value = value[0]
        data = getattr(value, "_data", value)
        if data.__class__ is np.ndarray or not isinstance(data, cupy_ndarray):
            continue
        index = data.device.id
        return None if index == cupy.cuda.runtime.getDevice() else cupy.cuda.Device(index)
    return None


def make_current(values):
    """Make the GPU of the first CUDA tensor among ``values`` the current one, for the rest of a
    loop that works through tensors of several GPUs (the backward engine, an optimizer's update);
    the loop ends with ``restore_current``."""
    guard = device_guard(values)
    if guard is not None:
        guard.use()


def restore_current(index):
    """Make GPU ``index`` (the caller's, before ``make_current``) current again."""
    if current_cuda_index() != index:
        cupy.cuda.Device(index).use()


def _check_cuda(dev):
    if cupy is None:
        raise RuntimeError(
            "Torch not compiled with CUDA enabled: tinytorch needs CuPy for cuda tensors "
            "(pip install 'tinytorch[cuda12]' or 'tinytorch[cuda13]')"
        )
    if _CUDA_DEVICES == 0:
        raise RuntimeError("Found no NVIDIA driver on your system: CuPy sees no CUDA GPU")
    index = dev.index or 0
    if index >= _CUDA_DEVICES:
        raise RuntimeError(
            f"CUDA error: invalid device ordinal (cuda:{index} requested, {_CUDA_DEVICES} device(s) available)"
        )


def to_device(array, dev):
    """``array`` on ``dev``: the same array when it is already there, else a copy."""
    dev = as_device(dev)
    here = device_of(array)
    if here == dev:
        return array
    if dev.type == "cpu":
        return cupy.asnumpy(array)
    _check_cuda(dev)
    index = cuda_index(dev)
    if here.type == "cuda" and here.index == index:  # "cuda" names the current GPU, where it is
        return array
    with cupy.cuda.Device(index):
        return cupy.asarray(array)


def from_dlpack(producer, copy=None):
    """The array behind a DLPack producer (an object with ``__dlpack__``), on the producer's
    device and sharing its memory (a copy only with ``copy=True``): NumPy for the CPU, CuPy for CUDA."""
    device_type = int(producer.__dlpack_device__()[0])
    if device_type == 1:  # kDLCPU
        return np.from_dlpack(producer) if copy is None else np.from_dlpack(producer, copy=copy)
    if device_type in (2, 13):  # kDLCUDA, kDLCUDAManaged
        _check_cuda(device("cuda", int(producer.__dlpack_device__()[1])))
        array = cupy.from_dlpack(producer)
        return array.copy() if copy else array
    raise BufferError(f"tinytorch holds CPU (NumPy) and CUDA (CuPy) arrays; a DLPack tensor on device type {device_type} is neither")


def on_device(dev):
    """A context in which new CuPy arrays land on ``dev`` (a no-op for the CPU)."""
    dev = as_device(dev)
    if dev.type == "cpu":
        return _NULL_CONTEXT
    _check_cuda(dev)
    return cupy.cuda.Device(cuda_index(dev))


class _NullContext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


_NULL_CONTEXT = _NullContext()


def to_numpy(array):
    """A NumPy array with the data of ``array`` (a device-to-host copy for CuPy arrays)."""
    if array.__class__ is np.ndarray:
        return array
    return cupy.asnumpy(array)


def is_writeable(array):
    """Whether writing to ``array`` in place is safe. NumPy marks read-only and broadcast views;
    CuPy has no such flag, so a CuPy array counts as writeable unless a stride-0 axis makes several
    elements share memory."""
    if array.__class__ is np.ndarray:
        return array.flags.writeable
    return all(stride or size <= 1 for stride, size in zip(array.strides, array.shape))


def is_array(obj):
    """Whether ``obj`` is a NumPy or CuPy array."""
    return isinstance(obj, np.ndarray) or (cupy_ndarray is not None and isinstance(obj, cupy_ndarray))


def is_cuda_array(array):
    return cupy is not None and isinstance(array, cupy.ndarray)


def storage_offset(array, base):
    """How many elements ``array``'s first element lies past ``base``'s (a view into base's memory)."""
    address = array.data.ptr if is_cuda_array(array) else array.__array_interface__["data"][0]
    start = base.data.ptr if is_cuda_array(base) else base.__array_interface__["data"][0]
    return (address - start) // array.itemsize


def cuda_device_count():
    return _CUDA_DEVICES


def synchronize(index=None):
    flush_checks()
    if cupy is not None and _CUDA_DEVICES:
        with cupy.cuda.Device(current_cuda_index() if index is None else index):
            cupy.cuda.runtime.deviceSynchronize()  # Device.synchronize() would count as an implicit sync



def nccl_module():
    """CuPy's NCCL bindings (``cupy.cuda.nccl``), or None without CuPy or without NCCL: the
    ``nccl`` backend of ``tinytorch.distributed`` calls them."""
    if cupy is None:
        return None
    try:
        from cupy.cuda import nccl
    except ImportError:
        return None
    return nccl if getattr(nccl, "available", True) else None


# -- synchronization debugging (torch.cuda.set_sync_debug_mode) -----------------------------------
# Every device-to-host copy CuPy makes (``get()``: ``.item()``, ``.tolist()``, ``bool()`` of a
# device array, a boolean-mask index that must learn its size...) passes through CuPy's
# ``syncdetect._declare_synchronize``; tinytorch wraps that one function, so that mode 1 warns and
# mode 2 raises with the user's line, whichever code caused the copy. TINYTORCH_WARN_SYNC=1 starts
# in mode 1. An explicit ``tinytorch.cuda.synchronize()`` is not reported, as in PyTorch.
_SYNC_MODES = {"default": 0, "warn": 1, "error": 2}
sync_debug_mode = 1 if os.environ.get("TINYTORCH_WARN_SYNC", "") not in ("", "0") else 0


def set_sync_debug_mode(mode):
    global sync_debug_mode
    if isinstance(mode, str):
        if mode not in _SYNC_MODES:
            raise RuntimeError(f"invalid value of debug_mode, expected one of `default`, `warn`, `error`, got {mode}")
        mode = _SYNC_MODES[mode]
    if mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected one of 0, 1, 2, got {mode}")
    sync_debug_mode = mode


def note_sync(what="a device-to-host copy"):
    """Report a synchronization in the user's code (mode 1 warns, mode 2 raises)."""
    if not sync_debug_mode:
        return
    frame = sys._getframe(1)
    package = os.path.dirname(os.path.abspath(__file__))
    while frame is not None and (
        os.path.abspath(frame.f_code.co_filename).startswith(package) or _is_cupy_frame(frame)
    ):
        frame = frame.f_back
    where = traceback.format_stack(frame, limit=1)[0].strip() if frame is not None else "?"
    message = f"called a synchronizing CUDA operation ({what}) at {where}"
    if sync_debug_mode == 2:
        raise RuntimeError(message)
    warnings.warn(message, UserWarning, stacklevel=2)


def _is_cupy_frame(frame):
    name = frame.f_globals.get("__name__", "")
    return name.split(".")[0] in ("cupy", "cupyx", "cupy_backends")


def _hook_cupy_syncdetect():
    import cupy._core.syncdetect as detect

    original = detect._declare_synchronize

    def declare_synchronize():
        if _flushing:  # the pending checks' own read-back is part of the user's synchronization
            return original()
        if _pending_checks:
            flush_checks()
        note_sync()
        original()

    detect._declare_synchronize = declare_synchronize


# -- input checks that need the data (index and target ranges) ------------------------------------
# On the CPU such a check reads the data at once. On a GPU that read would stall every training
# step, so the check is queued as a device flag and read at the next synchronization the program
# makes anyway (``.item()``, ``print``, ``.cpu()``, ``tinytorch.cuda.synchronize()``), where the
# error is raised, as PyTorch reports a device-side assert at its next synchronization. A long
# stretch without one reads the queue every _MAX_PENDING checks.
_pending_checks = []
_flushing = False
_MAX_PENDING = 1024


def check_later(bad, fail):
    """Call ``fail()`` (which raises) if the 0-d boolean array ``bad`` is true: now for a NumPy
    array, at the next synchronization for a CuPy one."""
    if bad.__class__ is not cupy_ndarray:
        if bad:
            fail()
        return
    _pending_checks.append((bad, fail))
    if len(_pending_checks) >= _MAX_PENDING:
        flush_checks()


def flush_checks():
    """Read the queued device checks (one transfer) and raise the first failure."""
    global _flushing
    if not _pending_checks or _flushing:
        return
    pending = list(_pending_checks)
    _pending_checks.clear()
    _flushing = True
    try:
        # One transfer per GPU (a kernel may only stack the flags of its own device).
        by_gpu = {}
        for position, (bad, _) in enumerate(pending):
            by_gpu.setdefault(bad.device.id, []).append(position)
        flags = [False] * len(pending)
        for index, positions in by_gpu.items():
            with cupy.cuda.Device(index):
                read = cupy.asnumpy(cupy.stack([pending[p][0].reshape(()) for p in positions]))
            for p, failed in zip(positions, read):
                flags[p] = failed
        for (_, fail), failed in zip(pending, flags):
            if failed:
                fail()
    finally:
        _flushing = False


if cupy is not None:
    _hook_cupy_syncdetect()


def scatter_add(array, index, values):
    """array[index] += values with repeated indices summed (np.add.at / cupyx.scatter_add)."""
    if array.__class__ is np.ndarray:
        with _float_errors.quiet():  # inf + -inf is NaN, silently (a sparse tensor's sum, an embedding's update)
            np.add.at(array, index, values)
    else:
        import cupyx

        cupyx.scatter_add(array, index, values)


def sparse_module(array):
    """``scipy.sparse`` for NumPy arrays, ``cupyx.scipy.sparse`` for CuPy ones: what sparse
    tensors' products run on."""
    if array.__class__ is not np.ndarray and is_cuda_array(array):
        import cupyx.scipy.sparse as sparse
    else:
        import scipy.sparse as sparse
    return sparse


def special_module(array):
    """``scipy.special`` for NumPy arrays, ``cupyx.scipy.special`` for CuPy ones: what the special
    functions (lgamma, digamma, polygamma, erfinv) run on."""
    if array.__class__ is not np.ndarray and is_cuda_array(array):
        import cupyx.scipy.special as special
    else:
        import scipy.special as special
    return special


def reduce_sum(array, axis=None, keepdims=False, dtype=None):
    """``array.sum(...)`` minus NumPy's Python-level wrapper: every reduction's hot path."""
    if array.__class__ is np.ndarray:
        return np.add.reduce(array, axis=axis, dtype=dtype, keepdims=keepdims)
    return array.sum(axis=axis, dtype=dtype, keepdims=keepdims)


def reduce_max(array, axis=None, keepdims=False):
    """``array.max(...)`` minus NumPy's Python-level wrapper."""
    if array.__class__ is np.ndarray:
        return np.maximum.reduce(array, axis=axis, keepdims=keepdims)
    return array.max(axis=axis, keepdims=keepdims)


def max_kept(array, axis):
    """``array.max(axis, keepdims=True)``. Along the last axis of a C-contiguous CPU array of many
    short rows (a classifier's logits), an element-wise maximum over its columns: NumPy's reduction
    along rows of 10 costs about 40 ns a row, a pass per column a few ns an element (the max of
    (1024, 10) float32 logits 42.6 against 14.4 us, (64, 2) 4.0 against 1.9, AMD EPYC; the same
    values, NaN propagating alike). Wider or fewer rows: NumPy's reduction."""
    if (array.__class__ is np.ndarray and array.ndim >= 2 and axis in (-1, array.ndim - 1) and array.flags.c_contiguous
            and 2 <= array.shape[-1] <= 16 and array.size >= 24 * array.shape[-1] ** 2):
        columns = array.reshape(-1, array.shape[-1])
        out = columns[:, 0].copy()
        for j in range(1, columns.shape[1]):
            np.maximum(out, columns[:, j], out=out)
        return out.reshape(array.shape[:-1] + (1,))
    return reduce_max(array, axis, True)


def unary(ufunc, array, out=None):
    """``ufunc(array, out=out)`` for a NumPy ufunc (``numpy.exp``, ``numpy.tanh``, ``numpy.log``)
    or its CuPy namesake: on the CPU, a large C-contiguous array is split over the cores
    (tinytorch/_threads.py: the compute-bound transcendental functions run about twice as fast
    on two cores; the same bits, elementwise)."""
    if (array.__class__ is np.ndarray and array.size >= _threads.SPLIT_MIN and array.flags.c_contiguous
            and array.dtype.char in "fd" and (out is None or (out.flags.c_contiguous and out.shape == array.shape))):
        if out is None:
            out = np.empty_like(array)
        _threads.split_rows(lambda a, o: ufunc(a, out=o), array.reshape(-1), out.reshape(-1))
        return out
    if array.__class__ is not np.ndarray:
        ufunc = getattr(array_module(array), ufunc.__name__)
    return ufunc(array) if out is None else ufunc(array, out=out)


def relu(array, out=None):
    """``maximum(array, 0)`` (NaN stays NaN). On the CPU, for a C-contiguous array, the flat data is
    taken as rows of 8192 elements (and a shorter tail) against a cached row of zeros rather than
    the scalar 0: NumPy 2.4's float ``maximum`` has no fast loop for a scalar operand, and rows of
    8192 (NumPy's buffer size) ran fastest of the lengths tried from 256 to 65536 (measured on an
    AMD EPYC, float32, best of 5: 1024 x 512 in 82 us against 255 us for the scalar and 124-137 us
    for rows of 256-4096; 1024 x 128 in 23 against 65 us; 5000 elements 1.8 against 3.5 us).
    Elementwise, so the rows need not be the array's own: the same bits as the scalar form.
    Host-dependent: on an Intel Xeon with AVX-512 the scalar form was the faster one for rows of
    the array's own length (1024 x 512: 141 against 174 us); the rows stay, for the larger gain
    where they win."""
    if (array.__class__ is np.ndarray and array.size and array.flags.c_contiguous
            and (out is None or (out.flags.c_contiguous and out.shape == array.shape and out.dtype == array.dtype))):
        result = np.empty_like(array) if out is None else out
        flat, dest = array.reshape(-1), result.reshape(-1)
        _elementwise(lambda lo, hi: _relu_rows(flat[lo:hi], dest[lo:hi]), array.size)
        return result
    return array_module(array).maximum(array, 0, out=out, dtype=array.dtype)


def _relu_rows(flat, dest):
    size = flat.size
    bulk = size - size % _RELU_ROW
    zero = _constant(0, _RELU_ROW, flat.dtype)
    if bulk:
        np.maximum(flat[:bulk].reshape(-1, _RELU_ROW), zero, out=dest[:bulk].reshape(-1, _RELU_ROW))
    if size > bulk:
        np.maximum(flat[bulk:], zero[:size - bulk], out=dest[bulk:])


_RELU_ROW = 8192


def relu_backward(grad, result, out=None):
    """ReLU's gradient from its result (PyTorch's ``threshold_backward(grad, result, 0)``): ``grad``
    where ``result != 0``, else 0, into ``out`` (``grad`` itself for a gradient nobody else holds).
    The result is >= 0 or NaN, so ``!= 0`` is ``> 0`` with NaN passing the gradient."""
    if (grad.__class__ is np.ndarray and result.__class__ is np.ndarray and grad.shape == result.shape
            and grad.flags.c_contiguous and result.flags.c_contiguous
            and (out is None or (out.flags.c_contiguous and out.shape == grad.shape and out.dtype == grad.dtype))):
        out = np.empty_like(grad) if out is None else out
        flat, kept, dest = grad.reshape(-1), result.reshape(-1), out.reshape(-1)
        _elementwise(lambda lo, hi: np.multiply(flat[lo:hi], kept[lo:hi] != 0, out=dest[lo:hi]), grad.size)
        return out
    mask = result != 0
    return grad * mask if out is None else array_module(grad).multiply(grad, mask, out=out)


def _elementwise(function, size):
    """``function(lo, hi)`` over ``range(size)`` of flat C-contiguous arrays: split over the cores on
    OpenBLAS's threads from ``ELEMENTWISE_SPLIT_MIN`` elements on (memory-bound passes gain from the
    second core there, tinytorch/_threads.py: ReLU of the MNIST CNN's (64, 64, 24, 24) float32 905 ->
    600 us, its backward 1,240 -> 720 us, on 2 AMD EPYC vCPUs; at 1024 x 512 the gain was within the
    noise, and Python's helper threads lost it to OpenBLAS's spinning threads), else at once."""
    _threads.run(function, _threads.server_pieces(size, ELEMENTWISE_SPLIT_MIN))


ELEMENTWISE_SPLIT_MIN = 1 << 20


@functools.lru_cache(maxsize=128)
def _constant(value, shape, dtype):
    """A read-only CPU array of ``value``, made once per shape and dtype: the row of zeros ReLU
    compares against, the vectors of ones that sum rows and columns as products."""
    array = np.full(shape, value, dtype)
    array.flags.writeable = False
    return array


# A product goes to MKL (when installed: tinytorch/_blas.py) from this many multiply-adds on:
# below it, ctypes' argument conversion and MKL's dispatch cost more than OpenBLAS's whole product
# (measured in docs/performance.md, "Matrix products").
MKL_MIN_MACS = 1 << 16


def mm(a, b):
    """``a @ b``: for 2-D arrays through MKL where it is installed and the product is large enough
    for it to win, else the array module's matmul. Operands may be transposed views (no copy)."""
    if _blas.HAS_GEMM and a.__class__ is np.ndarray and b.__class__ is np.ndarray and a.ndim == 2 == b.ndim:
        m, k = a.shape
        if m * k * b.shape[1] >= MKL_MIN_MACS:
            out = _blas.gemm(a, b)
            if out is not None:
                return out
    return a @ b


def matmul(a, b, out=None):
    """``numpy.matmul(a, b, out=out)`` (or CuPy's) for stacks of matrices: through MKL's batched
    product where it is loaded and the stack is large enough, so that convolutions and attention
    stay on MKL's threads with the rest (two thread pools alternating on two cores slowed the
    MNIST CNN's step 82 -> 114 ms); else the array module's matmul."""
    if (_blas.HAS_GEMM and a.__class__ is np.ndarray and b.__class__ is np.ndarray
            and min(a.ndim, b.ndim) >= 2 and max(a.ndim, b.ndim) > 2):
        matrices = max(a.size // (a.shape[-2] * a.shape[-1] or 1), b.size // (b.shape[-2] * b.shape[-1] or 1))
        if matrices * a.shape[-2] * a.shape[-1] * b.shape[-1] >= MKL_MIN_MACS:
            result = _blas.gemm_batched(a, b, out)
            if result is not None:
                return result
    if out is not None:
        return array_module(a).matmul(a, b, out=out)
    return a @ b


def matmul_transposed(a, b, bias=None):
    """``a @ b.T`` (``+ bias``, broadcast over the rows) for 2-D ``a`` (rows, in) and ``b`` (out,
    in), returned C-contiguous: ``Linear``'s forward.

    With MKL, ``b.T`` is passed as a transposed operand, and the bias is copied into the output
    first and added by the product itself (BLAS's beta = 1, as PyTorch's ``addmm``): one pass over
    the output fewer (a step of the lecture's MLP 1.8% faster at batch 1024, 1% at 12 and 128,
    paired in-process medians on an Intel Xeon). Without it: for few rows and a large ``b``,
    OpenBLAS is much faster at ``(b @ a.T).T`` (NumPy 2.4 / OpenBLAS 0.3.31 on 2 cores, medians
    of alternating calls: 12 x 784 by 512 x 784 takes 136 against 216 us, 12 x 512 by 256 x 512
    38 against 59 us; at 64 rows only the largest weight still gains, 317 against 351 us, i.e.
    35-45 us per training step of the lecture's MLP at batch 48-64); from ~128 rows on, or for
    small ``b``, the plain order is about as fast or faster (256 rows, reversed against plain:
    1.37 against 1.44 ms for 784 x 512, but 0.60 against 0.53 ms for 512 x 256). Many rows on
    NumPy's OpenBLAS: the bias is added by the product as with MKL (``ADDMM_MIN_ROWS``). CuPy takes
    the plain order.
    """
    out = None
    if a.__class__ is np.ndarray:
        rows, size = a.shape[0], b.size
        if _blas.HAS_GEMM:
            if bias is not None and bias.__class__ is np.ndarray and rows * size >= MKL_MIN_MACS:
                out = np.empty((rows, b.shape[0]), np.result_type(a, b))
                out[...] = bias
                if _blas.gemm(a, b.T, out) is not None:
                    return out
            out = mm(a, b.T)
        elif (rows <= 32 and size >= 32768) or (rows <= 64 and size >= 262144):
            out = np.ascontiguousarray(np.matmul(b, a.T).T)
        elif (bias is not None and _blas.HAS_ADDMM and bias.__class__ is np.ndarray and rows >= ADDMM_MIN_ROWS
              and rows * size >= ADDMM_MIN_MACS):
            out = np.empty((rows, b.shape[0]), np.result_type(a, b))
            out[...] = bias
            if _blas.gemm(a, b.T, out) is not None:
                return out
            out = None
    if out is None:
        out = a @ b.T
    if bias is not None:
        out += bias
    return out


# On NumPy's OpenBLAS the bias goes into the product (beta = 1) from this many rows and
# multiply-adds on: the output is then written once instead of zeroed by BLAS, written and added
# to (the lecture's layers at batch 1024: 4929 against 4846 us for 784 -> 512, 437 against 419 for
# 256 -> 128; no gain at 64 or 128 rows, where the output stays in cache, and ctypes' call costs
# more than the pass for small outputs; AMD EPYC, alternating calls).
ADDMM_MIN_ROWS = 256
ADDMM_MIN_MACS = 1 << 22


def sum_rows(array):
    """``array.sum(0)`` of a 2-D array: a bias's gradient. A float one is a product with a vector
    of ones (BLAS's gemv: one pass, the wide ones on both cores); NumPy's reduction over axis 0
    adds row after row and is the slow case for many short rows (measured alone, float32, AMD EPYC
    with NumPy's OpenBLAS: (1024, 10) 2.9 against 21.4 us, (1024, 64) 5.2 against 26.2,
    (128, 512) 5.0 against 11.0, (12, 10) 1.1 against 1.6; the word-language-model decoder's
    (700, 10000) 0.34 against 1.29 ms). From 2**18 elements through MKL's gemm where it is loaded
    (the lecture's MLP at batch 1024 1.7% faster a step, Intel Xeon). Otherwise (integers, other
    arrays) NumPy's reduction."""
    if array.__class__ is np.ndarray and array.dtype.char in "fd" and array.ndim == 2:
        if _blas.HAS_GEMM and array.size >= SUM_ROWS_MIN_SIZE:
            out = _blas.gemm(_constant(1, (1, array.shape[0]), array.dtype), array)
            if out is not None:
                return out.reshape(array.shape[1])
        return _constant(1, array.shape[0], array.dtype) @ array
    return reduce_sum(array, 0)


SUM_ROWS_MIN_SIZE = 1 << 18


def sum_of_squares(array):
    """The sum of ``array``'s squared elements, as a 0-d array of its dtype: a 2-norm's inside.
    For a C-contiguous float CPU array, BLAS's dot of the array with itself: one pass on the
    library's threads and no temporary, where ``(a * a).sum()`` makes two passes and an array as
    large as ``a`` (clip_grad_norm_ over the word-LM example's 2M-element gradients: 748 -> 121 us
    each, AMD EPYC; its error relative to float64, 2.3e-6, is below PyTorch's own 5.8e-5 there)."""
    if array.__class__ is np.ndarray and array.dtype.char in "fd" and array.flags.c_contiguous and array.size:
        flat = array.reshape(-1)
        return np.asarray(np.dot(flat, flat), dtype=array.dtype)
    return (array * array).sum()


def sum_last(array):
    """``array.sum(-1)``: for a C-contiguous float32/float64 array on the CPU, a product with a
    column of ones (BLAS's gemv, on both cores, in one pass): the channel sums of batch_norm over
    (N, C, H W) activations. NumPy's pairwise reduction along short contiguous rows is the slow
    case (measured, (64, 64, 256) float32 on 2 AMD EPYC cores: 102 against 557 us; (32, 512, 4):
    77 against 401 us)."""
    if (array.__class__ is np.ndarray and array.dtype.char in "fd" and array.ndim >= 2 and array.shape[-1] > 1
            and array.flags.c_contiguous):
        return array @ _constant(1, array.shape[-1], array.dtype)
    return reduce_sum(array, -1)


def sum_kept(array, axis):
    """``array.sum(axis, keepdims=True)``; along the last axis of a 2-D or larger array through
    ``sum_last`` (softmax's and cross-entropy's row sums)."""
    if array.ndim > 1 and axis in (-1, array.ndim - 1):
        return sum_last(array)[..., None]
    return reduce_sum(array, axis, True)


# An update goes to BLAS's axpy (tinytorch/_blas.py) from this many elements on: below it the
# ctypes call (~3 us) costs more than NumPy's two passes (measured: 2.4 against 3.7 us at 8192
# elements, 6.6 against 5.0 at 32768, 70 against 23 at 784 x 512).
AXPY_MIN_SIZE = 1 << 14


def add_scaled_(y, x, alpha, fused=False):
    """``y += alpha * x`` in place (an optimizer's update). Large updates go through BLAS's axpy
    (NumPy's own OpenBLAS by default, MKL when chosen): one pass over memory, on the library's
    threads, instead of NumPy's two and a temporary. NumPy's OpenBLAS rounds ``y + alpha * x`` once
    (a fused multiply-add), as PyTorch's ``add_(x, alpha=...)`` does; NumPy rounds the product and
    then the sum. ``fused=True`` (``lerp_``) asks for that single rounding at any size, on the
    calling thread, where the library gives it (``_blas.fma_``); elsewhere NumPy's two roundings."""
    if _blas.PATH is not None and y.__class__ is np.ndarray and x.__class__ is np.ndarray:
        if _blas.fma_(alpha, x, y) if fused else (y.size >= AXPY_MIN_SIZE and _blas.axpy(alpha, x, y)):
            return
    y += alpha * x


_thread_limits = None  # threadpoolctl's handle on the BLAS/OpenMP pools once the user set a count


def set_num_threads(n):
    """``torch.set_num_threads``: the threads of the CPU's BLAS (NumPy's OpenBLAS, and MKL when
    installed) and OpenMP pools, through threadpoolctl, and of tinytorch's own elementwise
    splits (tinytorch/_threads.py)."""
    global _thread_limits
    if isinstance(n, bool) or not isinstance(n, int):
        raise RuntimeError(f"set_num_threads expects an int, but got {type(n).__name__}")
    if n <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    # threadpoolctl loads here, at first use: 0.35 MiB that a program which never sets or reads the
    # thread count would carry all its life.
    from threadpoolctl import threadpool_limits

    _thread_limits = threadpool_limits(limits=n)
    _threads.set_threads(n)


def get_num_threads():
    """``torch.get_num_threads``: the threads the CPU's BLAS uses for a matrix product."""
    from threadpoolctl import threadpool_info

    counts = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
    return max(counts) if counts else 1
