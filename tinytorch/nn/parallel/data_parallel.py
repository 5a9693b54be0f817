"""``DataParallel`` and ``data_parallel``: one process drives several GPUs, splitting each batch."""

import operator
import warnings
from itertools import chain

from ... import _backend as backend
from ...autograd import grad_mode
from ..modules.module import Module
from ._device_index import get_device_index
from .parallel_apply import parallel_apply
from .replicate import replicate
from .scatter_gather import gather, scatter_kwargs

__all__ = ["DataParallel", "data_parallel"]

_IMBALANCE_WARNING = """
    There is an imbalance between your GPUs. You may want to exclude GPU {} which
    has less than 75% of the memory or cores of GPU {}. You can do so by setting
    the device_ids argument to DataParallel, or by setting the CUDA_VISIBLE_DEVICES
    environment variable."""


def _check_balance(device_ids):
    """Warn when a GPU has under 75% of the memory (else of the cores) of another, as PyTorch."""
    properties = [backend.cupy.cuda.runtime.getDeviceProperties(index) for index in device_ids]
    for field in ("totalGlobalMem", "multiProcessorCount"):
        values = [p[field] for p in properties]
        min_pos, min_val = min(enumerate(values), key=operator.itemgetter(1))
        max_pos, max_val = max(enumerate(values), key=operator.itemgetter(1))
        if min_val / max_val < 0.75:
            warnings.warn(_IMBALANCE_WARNING.format(device_ids[min_pos], device_ids[max_pos]), stacklevel=3)
            return


def _available_device_type():
    return "cuda" if backend.cuda_device_count() > 0 else None


def _all_device_indices():
    return list(range(backend.cuda_device_count()))


def _check_on_source(module, source):
    for t in chain(module.parameters(), module.buffers()):
        if t.device != source:
            raise RuntimeError(
                "module must have its parameters and buffers "
                f"on device {source} (device_ids[0]) but found one of "
                f"them on device: {t.device}"
            )


class DataParallel(Module):
    """Data parallelism in one process: each forward splits the inputs along ``dim`` across
    ``device_ids`` (all GPUs by default), runs a replica of ``module`` on each in its own
    thread, and gathers the outputs on ``output_device`` (``device_ids[0]`` by default);
    backward sums every replica's gradients into ``module``'s parameters, which must live on
    ``device_ids[0]``. Without a GPU it simply calls ``module``. ``.module`` is the wrapped
    model, and ``state_dict`` keys carry the ``module.`` prefix. PyTorch recommends
    ``DistributedDataParallel`` instead, and so do we.
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        device_type = _available_device_type()
        if device_type is None:
            self.module = module
            self.device_ids = []
            return
        if device_ids is None:
            device_ids = _all_device_indices()
        if output_device is None:
            output_device = device_ids[0]
        self.dim = dim
        self.module = module
        self.device_ids = [get_device_index(x, True) for x in device_ids]
        self.output_device = get_device_index(output_device, True)
        self.src_device_obj = backend.device(device_type, self.device_ids[0])
        _check_balance(self.device_ids)
        if len(self.device_ids) == 1:
            self.module.to(self.src_device_obj)

    def forward(self, *inputs, **kwargs):
        if not self.device_ids:
            return self.module(*inputs, **kwargs)
        _check_on_source(self.module, self.src_device_obj)
        inputs, module_kwargs = self.scatter(inputs, kwargs, self.device_ids)
        # A forward without inputs still runs once, on device_ids[0].
        if not inputs and not module_kwargs:
            inputs = ((),)
            module_kwargs = ({},)
        if len(self.device_ids) == 1:
            return self.module(*inputs[0], **module_kwargs[0])
        replicas = self.replicate(self.module, self.device_ids[: len(inputs)])
        outputs = self.parallel_apply(replicas, inputs, module_kwargs)
        return self.gather(outputs, self.output_device)

    def replicate(self, module, device_ids):
        return replicate(module, device_ids, not grad_mode.is_grad_enabled())

    def scatter(self, inputs, kwargs, device_ids):
        return scatter_kwargs(inputs, kwargs, device_ids, dim=self.dim)

    def parallel_apply(self, replicas, inputs, kwargs):
        return parallel_apply(replicas, inputs, kwargs, self.device_ids[: len(replicas)])

    def gather(self, outputs, output_device):
        return gather(outputs, output_device, dim=self.dim)


def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0, module_kwargs=None):
    """The functional ``DataParallel``: ``module(*inputs, **module_kwargs)`` split across
    ``device_ids`` and gathered on ``output_device`` (-1: the CPU). Needs a GPU."""
    if not isinstance(inputs, tuple):
        inputs = (inputs,) if inputs is not None else ()
    device_type = _available_device_type()
    if device_type is None:
        raise RuntimeError("device type could not be determined")
    if device_ids is None:
        device_ids = _all_device_indices()
    if output_device is None:
        output_device = device_ids[0]
    device_ids = [get_device_index(x, True) for x in device_ids]
    output_device = get_device_index(output_device, True)
    _check_on_source(module, backend.device(device_type, device_ids[0]))
    inputs, module_kwargs = scatter_kwargs(inputs, module_kwargs, device_ids, dim)
    if not inputs and not module_kwargs:
        inputs = ((),)
        module_kwargs = ({},)
    if len(device_ids) == 1:
        return module(*inputs[0], **module_kwargs[0])
    used_device_ids = device_ids[: len(inputs)]
    replicas = replicate(module, used_device_ids)
    outputs = parallel_apply(replicas, inputs, module_kwargs, used_device_ids)
    return gather(outputs, output_device, dim)
