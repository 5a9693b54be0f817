"""``DistributedDataParallel``: one model replica per process, gradients averaged during backward."""

import contextlib
import hashlib
import inspect

from ... import _backend as backend
from ... import _creation
from ... import distributed as dist
from ... import futures as _futures
from ...autograd import grad_mode
from ..._tensor import Tensor
from ...distributed.algorithms.join import Join, Joinable, JoinHook
from ..modules.module import Module
from ._reducer import DEFAULT_BUCKET_CAP_MB, DEFAULT_FIRST_BUCKET_BYTES, Reducer

_MB = 1024 * 1024
_BROADCAST_BUCKET_BYTES = 250 * _MB


class _DDPJoinHook(JoinHook):
    """What a DDP rank that has run out of inputs does inside ``Join``: each iteration of the
    others, the collectives of their forward and backward (zeros for its gradients); at the end,
    every rank takes the parameters of one of the last ranks to join."""

    def __init__(self, ddp, divide_by_initial_world_size):
        if not isinstance(ddp, DistributedDataParallel):
            raise AssertionError(
                "DDP join hook requires passing in a DistributedDataParallel instance as the state, "
                f"got {type(ddp).__name__}"
            )
        self.ddp = ddp
        self.ddp._divide_by_initial_world_size = divide_by_initial_world_size
        super().__init__()

    def main_hook(self):
        ddp = self.ddp
        ddp._check_and_sync_module_buffers()
        should_sync_backwards = ddp._check_global_requires_backward_grad_sync(is_joined_rank=True)
        # The others skip the buffer broadcast of their next forward when none synchronizes now.
        ddp.require_forward_param_sync = should_sync_backwards
        if not should_sync_backwards:
            return
        ddp.reducer.shadow_backward()

    def post_hook(self, is_last_joiner):
        self.ddp._sync_final_model(is_last_joiner)


class DistributedDataParallel(Module, Joinable):
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
    PyTorch's ``module.`` prefix. ``register_comm_hook`` replaces the averaging of each bucket;
    ``join()`` trains on uneven inputs (ranks with fewer batches shadow the others' collectives).
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=None, init_sync=True,
                 process_group=None, bucket_cap_mb=None, find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False, delay_all_reduce_named_params=None,
                 param_to_hook_all_reduce=None, mixed_precision=None, device_mesh=None,
                 skip_all_reduce_unused_params=False, bucket_cap_mb_list=None, batched_grad_copy=False,
                 forward_sync_buffers=None):
        super().__init__()
        Joinable.__init__(self)
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
        self._comm_hooks = []
        self._divide_by_initial_world_size = True  # set by join()'s hook

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

    def _broadcast_from_rank0(self, tensors, src=0):
        """Copy the values of ``tensors`` (parameters, buffers) on the group's rank ``src`` (rank 0
        unless a join says otherwise) to every rank."""
        source = dist.get_global_rank(self.process_group, src)
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
        # Under Join: "this rank still trains" (what it counts; the reducer may divide by the count).
        work = Join.notify_join_context(self)
        self.reducer.set_forward_pass_work_handle(work, self._divide_by_initial_world_size)
        if self.will_sync_module_buffers():
            # Under Join, rank 0 may have joined with stale buffers: the highest rank still training sends.
            source = self._find_common_rank(self._distributed_rank, True) if self._join_config.enable else 0
            self._broadcast_from_rank0(self.modules_buffers, source)
        sync_work = self._check_global_requires_backward_grad_sync(is_joined_rank=False) if self._join_config.enable else None
        if self.device_ids:
            target = backend.device("cuda", self.device_ids[0])
            inputs = tuple(_move(i, target) for i in inputs)
            kwargs = {k: _move(v, target) for k, v in kwargs.items()}
        try:
            output = self.module(*inputs, **kwargs)
        finally:
            if sync_work is not None:  # nobody reads it, but its request must complete (and its buffer live) till then
                sync_work.wait()
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

    # -- communication hooks ----------------------------------------------------------------------
    def register_comm_hook(self, state, hook):
        """Reduce each bucket of gradients with ``hook(state, bucket)`` instead of the built-in
        average: ``bucket`` is a ``torch.distributed.GradBucket`` whose ``buffer()`` holds the
        bucket's gradients, not divided by the world size; the hook returns a
        ``torch.futures.Future`` holding the reduced buffer (one tensor of the same size), which
        DDP writes into the parameters' ``.grad``. Register once, before the first backward;
        ``torch.distributed.algorithms.ddp_comm_hooks.default_hooks`` has ready-made hooks."""
        self._check_comm_hook(hook)
        self._comm_hooks.append((hook, state))
        self.reducer.register_comm_hook(state, hook)

    def _check_comm_hook(self, hook):
        """PyTorch's checks of a hook's signature (its parameter must be named ``bucket``)."""
        if not callable(hook):
            raise TypeError("Communication hook must be callable.")
        sig = inspect.signature(hook)
        if sig.parameters["bucket"].annotation not in (inspect.Parameter.empty, dist.GradBucket):
            raise ValueError("Communication hook: bucket annotation should be dist.GradBucket.")
        if sig.return_annotation is not inspect.Signature.empty and sig.return_annotation != _futures.Future[Tensor]:
            raise ValueError("Communication hook: return annotation should be torch.futures.Future[torch.Tensor].")

    # -- uneven inputs ----------------------------------------------------------------------------
    def join(self, divide_by_initial_world_size=True, enable=True, throw_on_early_termination=False):
        """Context manager for training on uneven inputs: wrap the training loop in it, and a rank
        that runs out of batches first shadows the others' collectives (its gradients count as
        zero) until every rank is done; then all ranks take the parameters of one of the last
        ranks to finish. Gradients are divided by the initial world size
        (``divide_by_initial_world_size=True``: every sample weighs the same) or by the number of
        ranks still training. With ``throw_on_early_termination=True`` every rank raises
        ``RuntimeError`` as soon as one runs out instead."""
        return Join([self], enable, throw_on_early_termination, divide_by_initial_world_size=divide_by_initial_world_size)

    def join_hook(self, **kwargs):
        """The ``JoinHook`` of this DDP (``divide_by_initial_world_size``: True by default)."""
        divide_by_initial_world_size = kwargs.get("divide_by_initial_world_size", True)
        return _DDPJoinHook(self, divide_by_initial_world_size=divide_by_initial_world_size)

    @property
    def join_device(self):
        return next(iter(self.reducer.params)).device

    @property
    def join_process_group(self):
        return self.process_group

    @property
    def _distributed_rank(self):
        return dist.get_rank(self.process_group)

    def _check_global_requires_backward_grad_sync(self, is_joined_rank):
        """Under Join, an all-reduce of "this rank's backward synchronizes": a joined rank learns
        whether to shadow a backward this iteration."""
        device = self.join_device
        if not is_joined_rank and self.require_backward_grad_sync:
            requires_sync_tensor = _creation.ones(1, device=device)
        else:
            requires_sync_tensor = _creation.zeros(1, device=device)
        work = dist.all_reduce(requires_sync_tensor, group=self.process_group, async_op=True)
        if is_joined_rank:
            work.wait()
            return requires_sync_tensor.item() != 0
        return work  # the training rank does not read it: forward waits for it after the module has run

    def _check_and_sync_module_buffers(self):
        """A joined rank's side of the buffer broadcast of a forward (it never sends)."""
        if self.will_sync_module_buffers():
            authoritative_rank = self._find_common_rank(self._distributed_rank, False)
            self._broadcast_from_rank0(self.modules_buffers, authoritative_rank)

    def _sync_final_model(self, is_last_joiner):
        """Every rank takes the parameters (and buffers) of the highest of the last ranks to join."""
        self.reducer.wait_forward_pass_work()
        self._authoritative_rank = self._find_common_rank(self._distributed_rank, is_last_joiner)
        tensors = list(self.module.parameters()) + (self.modules_buffers if self.forward_sync_buffers else [])
        self._broadcast_from_rank0(tensors, self._authoritative_rank)

    def _find_common_rank(self, input_rank, rank_cond):
        """The highest group rank among those for which ``rank_cond`` holds (an all-reduce of MAX)."""
        rank_to_use = _int64_tensor([input_rank if rank_cond else -1], self.join_device)
        dist.all_reduce(rank_to_use, op=dist.ReduceOp.MAX, group=self.process_group)
        if rank_to_use.item() == -1:
            raise ValueError(
                "BUG! Expected rank_cond to be true for at least one process. This indicates a bug in PyTorch, "
                "please report an issue."
            )
        return rank_to_use.item()

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
