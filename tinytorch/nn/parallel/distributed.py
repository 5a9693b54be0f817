"""``DistributedDataParallel``: one model replica per process, gradients averaged during backward."""

import contextlib
import hashlib

from ... import _backend as backend
from ... import distributed as dist
from ...autograd import grad_mode
from ..._tensor import Tensor
from ..modules.module import Module
from ._reducer import DEFAULT_BUCKET_CAP_MB, DEFAULT_FIRST_BUCKET_BYTES, Reducer

_MB = 1024 * 1024
_BROADCAST_BUCKET_BYTES = 250 * _MB


class DistributedDataParallel(Module):
    """Data parallelism across processes: wrap the model on every rank, feed each rank its own
    part of the data (``DistributedSampler``), and train as usual.

    At construction the parameters and buffers of rank 0 are copied to every rank. During
    ``loss.backward()`` each gradient is averaged across the ranks as soon as its bucket
    (``bucket_cap_mb`` megabytes) is complete, overlapping communication with the rest of backward;
    when backward returns, every rank holds the same averaged ``.grad``, so the same optimizer step
    keeps the replicas identical. ``no_sync()`` skips the averaging (gradient accumulation);
    ``find_unused_parameters=True`` allows a forward that leaves some parameters out; buffers
    (BatchNorm's running statistics) are copied from rank 0 before each forward unless
    ``broadcast_buffers=False``. ``.module`` is the wrapped model, and ``state_dict`` keys carry
    PyTorch's ``module.`` prefix.
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=None, init_sync=True,
                 process_group=None, bucket_cap_mb=None, find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False, delay_all_reduce_named_params=None,
                 param_to_hook_all_reduce=None, mixed_precision=None, device_mesh=None,
                 skip_all_reduce_unused_params=False, bucket_cap_mb_list=None, batched_grad_copy=False,
                 forward_sync_buffers=None):
        super().__init__()
        unsupported = {"delay_all_reduce_named_params": delay_all_reduce_named_params,
                       "param_to_hook_all_reduce": param_to_hook_all_reduce, "mixed_precision": mixed_precision,
                       "device_mesh": device_mesh, "bucket_cap_mb_list": bucket_cap_mb_list}
        for name, value in unsupported.items():
            if value is not None:
                raise NotImplementedError(f"DistributedDataParallel in tinytorch has no {name}")
        if process_group is None:
            process_group = dist.distributed_c10d._get_default_group()
        parameters = list(module.parameters())
        if not any(p.requires_grad for p in parameters):
            raise RuntimeError(
                "DistributedDataParallel is not needed when a module doesn't have any parameter that requires a gradient."
            )
        if device_ids is not None and len(device_ids) > 1:
            raise ValueError("device_ids can only be None or contain a single element.")
        device_types = {p.device.type for p in parameters}
        if len(device_types) != 1:
            raise ValueError(
                "DistributedDataParallel's input module must be on the same type of devices, but input module "
                f"parameters locate in {device_types}."
            )
        self.device_type = next(iter(device_types))
        if not device_ids or self.device_type == "cpu":
            if device_ids or output_device:
                raise ValueError(
                    "DistributedDataParallel device_ids and output_device arguments only work with "
                    "single-device/multiple-device GPU modules or CPU modules, but got device_ids "
                    f"{device_ids}, output_device {output_device}, and module parameters {set(p.device for p in parameters)}."
                )
            self.device_ids = None
            self.output_device = None
        else:
            self.device_ids = [backend.as_device(d).index or 0 if not isinstance(d, int) else d for d in device_ids]
            self.output_device = self.device_ids[0] if output_device is None else output_device
        self.module = module
        self.process_group = process_group
        self.dim = dim
        self.forward_sync_buffers = forward_sync_buffers if forward_sync_buffers is not None else (
            broadcast_buffers if broadcast_buffers is not None else True)
        self.find_unused_parameters = find_unused_parameters
        self.static_graph = static_graph  # a hint: the reducer needs none
        self.gradient_as_bucket_view = gradient_as_bucket_view  # accepted: gradients are copied back instead
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self.bucket_bytes_cap = int((DEFAULT_BUCKET_CAP_MB if bucket_cap_mb is None else bucket_cap_mb) * _MB)
        first_bucket_bytes = DEFAULT_FIRST_BUCKET_BYTES if bucket_cap_mb is None else self.bucket_bytes_cap
        self.modules_buffers = [b for b in module.buffers()]
        self._verify_same_model_on_every_rank(parameters)
        if init_sync:
            self._broadcast_from_rank0([p for p in parameters] + (self.modules_buffers if self.forward_sync_buffers else []))
        trainable = [p for p in parameters if p.requires_grad]
        self.reducer = Reducer(trainable, process_group, self.bucket_bytes_cap, first_bucket_bytes, find_unused_parameters)

    # -- construction ---------------------------------------------------------------------------
    def _verify_same_model_on_every_rank(self, parameters):
        """PyTorch's check that every rank wraps the same model (same number and shapes of parameters)."""
        rank, size = dist.get_rank(self.process_group), dist.get_world_size(self.process_group)
        device = parameters[0].device
        counts = [_int64_tensor([0], device) for _ in range(size)]
        dist.all_gather(counts, _int64_tensor([len(parameters)], device), group=self.process_group)
        for other, count in enumerate(backend.to_numpy(c._data)[0] for c in counts):
            if count != len(parameters):
                raise RuntimeError(
                    f"DDP expects same model across all ranks, but Rank {rank} has {len(parameters)} params, while rank "
                    f"{other} has inconsistent {count} params."
                )
        # One number per parameter that any difference in shape changes.
        shapes = [int(hashlib.sha1(repr(tuple(p.shape)).encode()).hexdigest()[:15], 16) for p in parameters]
        gathered = [_int64_tensor([0] * len(parameters), device) for _ in range(size)]
        dist.all_gather(gathered, _int64_tensor(shapes, device), group=self.process_group)
        for other, theirs in enumerate(gathered):
            for index, (ours, their) in enumerate(zip(shapes, backend.to_numpy(theirs._data).tolist())):
                if ours != their:
                    raise RuntimeError(
                        f"[{rank}]: params[{index}] in this process with sizes {list(parameters[index].shape)} appears "
                        f"not to match sizes of the same param in process {other}."
                    )

    def _broadcast_from_rank0(self, tensors):
        """Copy rank 0's values of ``tensors`` (parameters, buffers) to every rank."""
        source = dist.get_global_rank(self.process_group, 0)
        works = []
        with grad_mode.no_grad():
            for tensor in tensors:
                if not tensor.is_contiguous():
                    tensor.data = tensor.contiguous()
                works.append(dist.broadcast(tensor.detach(), src=source, group=self.process_group, async_op=True))
        for work in works:
            work.wait()

    # -- training -------------------------------------------------------------------------------
    def forward(self, *inputs, **kwargs):
        grad_enabled = grad_mode.is_grad_enabled()
        if grad_enabled and self.require_backward_grad_sync:
            self.reducer.check_previous_reduction_finished()
        if self.will_sync_module_buffers():
            self._broadcast_from_rank0(self.modules_buffers)
        if self.device_ids:
            target = backend.device("cuda", self.device_ids[0])
            inputs = tuple(_move(i, target) for i in inputs)
            kwargs = {k: _move(v, target) for k, v in kwargs.items()}
        output = self.module(*inputs, **kwargs)
        if grad_enabled and self.require_backward_grad_sync:
            self.require_forward_param_sync = True
            self.reducer.prepare_for_backward(output if self.find_unused_parameters else None)
        else:
            self.require_forward_param_sync = False
        return output

    @contextlib.contextmanager
    def no_sync(self):
        """Inside, backward leaves each rank's gradients local (they accumulate); the first backward
        after it averages the accumulated gradients."""
        old_require_backward_grad_sync = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old_require_backward_grad_sync

    def will_sync_module_buffers(self):
        return self.require_forward_param_sync and self.forward_sync_buffers and len(self.modules_buffers) > 0

    @property
    def broadcast_buffers(self):
        return self.forward_sync_buffers

    @broadcast_buffers.setter
    def broadcast_buffers(self, value):
        self.forward_sync_buffers = value

    def train(self, mode=True):
        super().train(mode)
        return self


def _int64_tensor(values, device):
    with backend.on_device(device):
        return Tensor._make(backend.array_module(device).asarray(values, dtype="int64"))


def _move(value, device):
    if isinstance(value, Tensor):
        return value.to(device)
    if isinstance(value, (list, tuple)):
        return type(value)(_move(v, device) for v in value)
    if isinstance(value, dict):
        return {k: _move(v, device) for k, v in value.items()}
    return value
