"""``tinytorch.cuda``: whether CuPy sees a GPU, how many; the current GPU (``set_device``,
``device``); synchronization, streams and events; the memory CuPy's pool holds.

Every op runs on its tensors' GPU whatever the current one is (``backend.device_guard``), as in
PyTorch; the current GPU is where new tensors of a plain ``"cuda"`` device go.
"""

import sys

from . import _backend, random as _random
from ._tensor_types import CUDA_TYPES as _CUDA_TYPES
from .amp import _cuda_amp as amp  # noqa: F401 (re-exported: torch.cuda.amp, the deprecated CUDA forms of torch.amp)

# `from torch.cuda.amp import GradScaler, autocast` is how most training scripts import them:
# this module is a file, not a package, so the submodule is registered under its dotted name.
sys.modules[__name__ + ".amp"] = amp

# The legacy CUDA tensor types: tinytorch.cuda.FloatTensor(2, 3) makes a float32 tensor on the GPU.
DoubleTensor, FloatTensor, HalfTensor = _CUDA_TYPES["DoubleTensor"], _CUDA_TYPES["FloatTensor"], _CUDA_TYPES["HalfTensor"]
ByteTensor, CharTensor, ShortTensor = _CUDA_TYPES["ByteTensor"], _CUDA_TYPES["CharTensor"], _CUDA_TYPES["ShortTensor"]
IntTensor, LongTensor, BoolTensor = _CUDA_TYPES["IntTensor"], _CUDA_TYPES["LongTensor"], _CUDA_TYPES["BoolTensor"]


def is_available():
    """True when CuPy is installed and sees at least one CUDA GPU."""
    return _backend.cuda_device_count() > 0


def device_count():
    return _backend.cuda_device_count()


def synchronize(device=None):
    """Wait for all work queued on the GPU to finish."""
    index = _backend.as_device(device).index if device is not None else None
    _backend.synchronize(index)


def set_sync_debug_mode(debug_mode):
    """Report synchronizing CUDA operations: 0 or "default" (quiet), 1 or "warn", 2 or "error".

    A training step should make none; each report names the user's line that caused it.
    ``TINYTORCH_WARN_SYNC=1`` in the environment starts in "warn".
    """
    _backend.set_sync_debug_mode(debug_mode)


def get_sync_debug_mode():
    return _backend.sync_debug_mode


def _device_index(device, optional=False):
    """PyTorch's ``torch.cuda._utils._get_device_index``: an int is an index; a cuda device or its
    name gives its index, or the current GPU when it has none and ``optional``."""
    if isinstance(device, int) and not isinstance(device, bool):
        return device
    if isinstance(device, _device_context):
        return device.idx
    if isinstance(device, str):
        device = _backend.device(device)
    if isinstance(device, _backend.device):
        if device.type != "cuda":
            raise ValueError(f"Expected a cuda device, but got: {device}")
        if device.index is not None:
            return device.index
    elif device is not None:
        raise ValueError(f"Expected a torch.device with a specified index or an integer, but got:{device}")
    if optional:
        return current_device() if is_available() else -1
    raise ValueError(f"Expected a torch.device with a specified index or an integer, but got:{device}")


def _require_cuda():
    if not is_available():
        _backend._check_cuda(_backend.device("cuda"))  # PyTorch's errors for no CuPy or no GPU


def current_device():
    """The index of the current GPU: where a plain ``"cuda"`` tensor is created."""
    _require_cuda()
    return _backend.current_cuda_index()


def set_device(device):
    """Make ``device`` (an index, ``"cuda:1"`` or a device) the current GPU; a negative index
    does nothing. Prefer ``"cuda:N"`` devices in code; a process per GPU calls this first."""
    index = _device_index(device)
    if index >= 0:
        _backend._check_cuda(_backend.device("cuda", index))
        _backend.cupy.cuda.Device(index).use()


class device:
    """``torch.cuda.device(d)``: a context manager that makes ``d`` the current GPU and restores
    the previous one on exit (``None`` or a negative index: no change)."""

    def __init__(self, device):
        self.idx = _device_index(device, optional=True)
        self.prev_idx = -1

    def __enter__(self):
        if self.idx < 0:
            return self
        self.prev_idx = current_device()
        if self.prev_idx != self.idx:
            set_device(self.idx)
        return self

    def __exit__(self, type, value, traceback):
        if self.prev_idx >= 0 and self.prev_idx != self.idx:
            set_device(self.prev_idx)
        return False


_device_context = device  # for the functions below, whose ``device`` parameters shadow the class


def device_of(obj):
    """``torch.cuda.device_of(tensor)``: a ``device`` context for the tensor's GPU (no change for a
    CPU tensor)."""
    return device(obj.get_device() if obj.is_cuda else -1)


def manual_seed(seed):
    """Seed the current GPU's default generator (not the CPU's; without a GPU, nothing)."""
    if is_available():
        _random.cuda_generator(current_device()).manual_seed(seed)


def manual_seed_all(seed):
    """Seed every GPU's default generator (not the CPU's)."""
    for index in range(device_count()):
        _random.cuda_generator(index).manual_seed(seed)


def seed():
    """Seed the current GPU's default generator with a random number (without a GPU, nothing)."""
    if is_available():
        _random.cuda_generator(current_device()).seed()


def seed_all():
    """Seed every GPU's default generator with one random number."""
    if is_available():
        number = _random.cuda_generator(0).seed()
        for index in range(1, device_count()):
            _random.cuda_generator(index).manual_seed(number)


def initial_seed():
    """The current GPU's default generator's seed."""
    _require_cuda()
    return _random.cuda_generator(current_device()).initial_seed()


def get_device_name(device=None):
    """The GPU's name (the current GPU's by default)."""
    return get_device_properties(device).name


class _CudaDeviceProperties:
    """What ``get_device_properties`` reports, with PyTorch's field names."""

    def __init__(self, properties):
        name = properties["name"]
        self.name = name.decode() if isinstance(name, bytes) else str(name)
        self.major, self.minor = int(properties["major"]), int(properties["minor"])
        self.total_memory = int(properties["totalGlobalMem"])
        self.multi_processor_count = int(properties["multiProcessorCount"])

    def __repr__(self):
        return (f"_CudaDeviceProperties(name='{self.name}', major={self.major}, minor={self.minor}, "
                f"total_memory={self.total_memory // (1024 * 1024)}MB, multi_processor_count={self.multi_processor_count})")


def get_device_properties(device=None):
    """Name, compute capability (``major``, ``minor``), ``total_memory`` in bytes and
    ``multi_processor_count`` of a GPU (the current one by default)."""
    _require_cuda()
    index = _device_index(device, optional=True)
    if not 0 <= index < device_count():
        raise AssertionError("Invalid device id")
    return _CudaDeviceProperties(_backend.cupy.cuda.runtime.getDeviceProperties(index))


def get_device_capability(device=None):
    """The GPU's compute capability as ``(major, minor)``."""
    properties = get_device_properties(device)
    return properties.major, properties.minor


def is_bf16_supported(including_emulation=True):
    """False: tinytorch has no bfloat16 dtype (use float16 with ``tinytorch.amp``)."""
    return False


def is_initialized():
    """Whether the CUDA path can run (CuPy initializes CUDA itself, at its first call)."""
    return is_available()


def init():
    """Check that CUDA can be used (PyTorch initializes it lazily; CuPy does here)."""
    _require_cuda()


# -- memory: what CuPy's default memory pool holds (PyTorch's caching allocator's counterpart) --
def _on(device):
    return _backend.cupy.cuda.Device(_device_index(device, optional=True))


def memory_allocated(device=None):
    """Bytes of GPU memory held by live arrays (CuPy's pool: ``used_bytes``); 0 without a GPU."""
    if not is_available():
        return 0
    with _on(device):
        return int(_backend.cupy.get_default_memory_pool().used_bytes())


def memory_reserved(device=None):
    """Bytes of GPU memory CuPy's pool holds, in use or cached for reuse (``total_bytes``); 0
    without a GPU."""
    if not is_available():
        return 0
    with _on(device):
        return int(_backend.cupy.get_default_memory_pool().total_bytes())


def empty_cache():
    """Give the pool's cached, unused blocks back to the driver."""
    if is_available():
        _backend.cupy.get_default_memory_pool().free_all_blocks()


def mem_get_info(device=None):
    """``(free, total)`` bytes of the GPU, as the driver reports them."""
    _require_cuda()
    with _on(device):
        free, total = _backend.cupy.cuda.runtime.memGetInfo()
    return int(free), int(total)


# -- streams and events: CuPy's, under PyTorch's names --------------------------------------------
class Stream:
    """A CUDA stream: kernels queued on it run in order, and apart from other streams' (``with
    tinytorch.cuda.stream(s):`` makes it current)."""

    def __init__(self, device=None, priority=0):
        _require_cuda()
        with _on(device):
            self.device_index = current_device()
            self._stream = _backend.cupy.cuda.Stream(non_blocking=False, priority=priority or None)

    @classmethod
    def _wrap(cls, stream, index):
        self = cls.__new__(cls)
        self._stream, self.device_index = stream, index
        return self

    @property
    def device(self):
        return _backend.device("cuda", self.device_index)

    def synchronize(self):
        """Wait until everything queued on this stream has run."""
        self._stream.synchronize()

    def query(self):
        """Whether everything queued on this stream has run."""
        return bool(self._stream.done)

    def wait_event(self, event):
        """Make later work on this stream wait for ``event``."""
        self._stream.wait_event(event._event)

    def wait_stream(self, stream):
        """Make later work on this stream wait for what is queued on ``stream`` now."""
        self.wait_event(stream.record_event())

    def record_event(self, event=None):
        """Record ``event`` (a new one by default) on this stream; returns it."""
        event = Event() if event is None else event
        event.record(self)
        return event

    def __eq__(self, other):
        return isinstance(other, Stream) and self._stream.ptr == other._stream.ptr

    def __hash__(self):
        return hash(self._stream.ptr)

    def __repr__(self):
        return f"<tinytorch.cuda.Stream device=cuda:{self.device_index} cuda_stream={hex(self._stream.ptr)}>"


def current_stream(device=None):
    """The stream kernels are queued on now (the default stream unless one was made current)."""
    _require_cuda()
    with _on(device):
        return Stream._wrap(_backend.cupy.cuda.get_current_stream(), current_device())


def default_stream(device=None):
    """The GPU's default (null) stream."""
    _require_cuda()
    return Stream._wrap(_backend.cupy.cuda.Stream.null, _device_index(device, optional=True))


def set_stream(stream):
    """Make ``stream`` the current stream (of its GPU)."""
    if stream is not None:
        stream._stream.use()


class StreamContext:
    """``with tinytorch.cuda.stream(s):`` queues the block's work on ``s`` (None: no change)."""

    def __init__(self, stream):
        self.stream = stream

    def __enter__(self):
        if self.stream is not None:
            self._device = _device_context(self.stream.device_index)
            self._device.__enter__()
            self.stream._stream.__enter__()
        return self.stream

    def __exit__(self, type, value, traceback):
        if self.stream is not None:
            self.stream._stream.__exit__(type, value, traceback)
            self._device.__exit__(type, value, traceback)
        return False


def stream(stream):
    """A context manager that makes ``stream`` current for its block (``StreamContext``)."""
    return StreamContext(stream)


def can_device_access_peer(device, peer_device):
    """Whether GPU ``device`` can read GPU ``peer_device``'s memory directly (CUDA peer access)."""
    _require_cuda()
    index, peer = _device_index(device, optional=True), _device_index(peer_device)
    for i in (index, peer):
        if not 0 <= i < device_count():
            raise AssertionError("Invalid device id")
    return index != peer and bool(_backend.cupy.cuda.runtime.deviceCanAccessPeer(index, peer))


class Event:
    """A CUDA event: a point in a stream to wait for or to time (``enable_timing=True``, then
    ``start.elapsed_time(end)`` in milliseconds)."""

    def __init__(self, enable_timing=False, blocking=False, interprocess=False):
        _require_cuda()
        self.enable_timing = enable_timing
        self._event = _backend.cupy.cuda.Event(block=blocking, disable_timing=not enable_timing, interprocess=interprocess)
        self._recorded = False

    def record(self, stream=None):
        """Record the event on ``stream`` (the current stream by default)."""
        stream = current_stream() if stream is None else stream
        self._event.record(stream._stream)
        self._recorded = True

    def wait(self, stream=None):
        """Make later work on ``stream`` (the current one by default) wait for this event."""
        stream = current_stream() if stream is None else stream
        stream.wait_event(self)

    def query(self):
        """Whether the work before the event has run."""
        return bool(self._event.done)

    def synchronize(self):
        """Wait until the work before the event has run."""
        self._event.synchronize()

    def elapsed_time(self, end_event):
        """Milliseconds between this event and ``end_event`` (both recorded, with timing)."""
        if not (self.enable_timing and end_event.enable_timing):
            raise RuntimeError("Both events must be created with argument 'enable_timing=True'.")
        if not (self._recorded and end_event._recorded):
            raise ValueError("Both events must be recorded before calculating elapsed time.")
        return float(_backend.cupy.cuda.get_elapsed_time(self._event, end_event._event))

    def __repr__(self):
        return f"<tinytorch.cuda.Event {hex(self._event.ptr)}>" if self._recorded else "<tinytorch.cuda.Event uninitialized>"
