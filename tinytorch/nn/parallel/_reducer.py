"""The reducer of ``DistributedDataParallel``: average gradients across ranks in buckets while
backward is still running.

Parameters are grouped into buckets (by device and dtype, up to ``bucket_cap_mb``), in reverse
order of registration, which is roughly the order backward produces their gradients. A
post-accumulate-grad hook on each parameter copies its gradient into its bucket's flat buffer;
when a bucket is full its all-reduce starts at once (nonblocking), so communication overlaps the
rest of backward. Buckets start strictly in index order, so every rank issues the same collectives
in the same order whatever order its hooks fire in. When the last bucket has started, the reducer
waits for all of them and writes the averages back into the parameters' ``.grad``.

MPI moves a nonblocking operation along only inside MPI calls: an all-reduce started in the
middle of backward would sit still until the final wait. With the ``mpi`` backend a helper
thread therefore polls the all-reduces in flight while backward computes (NumPy releases the
GIL in its kernels, so the polls fall between them); it sleeps between polls, longer as an
all-reduce lasts, and does nothing between iterations.

A communication hook (``register_comm_hook``) replaces a bucket's division and all-reduce: it
gets the bucket (undivided) as a ``GradBucket`` and returns a future of the reduced buffer, which
``_finalize`` writes back. Under ``Join``, a rank that has run out of inputs shadows each
iteration's bucket all-reduces with zeros (``shadow_backward``), and the ranks still training
divide by how many of them there are unless ``divide_by_initial_world_size``.
"""

import threading
import time

from ... import _backend as backend
from ... import distributed as dist
from ... import futures
from ..._tensor import Tensor
from ...distributed import _work

_MB = 1024 * 1024
DEFAULT_BUCKET_CAP_MB = 25
DEFAULT_FIRST_BUCKET_BYTES = 1 * _MB  # PyTorch's: a small first bucket starts communication early


class _Bucket:
    """Some parameters' gradients, laid end to end in one flat buffer."""

    def __init__(self, params, indices):
        self.params = params
        self.indices = indices  # each parameter's index in the reducer's list
        self.offsets = []
        offset = 0
        for param in params:
            self.offsets.append(offset)
            offset += param.numel()
        first = params[0]
        xp = backend.array_module(first._data)
        with backend.on_device(first.device):
            self.buffer = Tensor._make(xp.zeros(offset, dtype=first._data.dtype))
        self.pending = len(params)
        self.work = None
        self.future = None  # what a communication hook returned for this iteration

    def grad_bucket(self, index, is_last, buffer=None):
        """The ``GradBucket`` a communication hook gets (over ``buffer``: the joined ranks' zeros)."""
        buffer = self.buffer if buffer is None else buffer
        gradients = []
        for param, offset in zip(self.params, self.offsets):
            gradients.append(Tensor._make(buffer._data[offset:offset + param.numel()].reshape(param.shape)))
        return dist.GradBucket(index, buffer, gradients, self.params, is_last)

    def slot(self, position):
        """The buffer's view for the parameter at ``position``, shaped like it."""
        param = self.params[position]
        start = self.offsets[position]
        return self.buffer._data[start:start + param.numel()].reshape(param.shape)


def assign_buckets(params, first_bucket_bytes, bucket_bytes):
    """Lists of parameter indices, one per bucket: parameters in reverse order, grouped by device
    and dtype, a bucket closed once it holds ``limit`` bytes (the first one ``first_bucket_bytes``)."""
    buckets, open_buckets, sizes, limits = [], {}, {}, {}
    for index in reversed(range(len(params))):
        param = params[index]
        key = (str(param.device), param.dtype)
        bucket = open_buckets.setdefault(key, [])
        bucket.append(index)
        sizes[key] = sizes.get(key, 0) + param.numel() * param.element_size()
        if sizes[key] >= limits.get(key, first_bucket_bytes):
            buckets.append(open_buckets.pop(key))
            sizes[key], limits[key] = 0, bucket_bytes
    buckets.extend(bucket for bucket in open_buckets.values() if bucket)
    return sorted(buckets, key=lambda bucket: -bucket[0])  # the latest-registered (earliest ready) first


def _find_tensors(obj):
    """The tensors in a forward's output (tensors, lists, tuples, dicts, nested)."""
    if isinstance(obj, Tensor):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [t for item in obj for t in _find_tensors(item)]
    if isinstance(obj, dict):
        return [t for item in obj.values() for t in _find_tensors(item)]
    return []


def _reachable_leaves(outputs):
    """The ids of the leaf tensors whose gradients a backward from ``outputs`` would reach."""
    reached, seen, stack = set(), set(), []
    for tensor in outputs:
        if tensor.grad_fn is not None:
            stack.append(tensor.grad_fn)
        elif tensor.requires_grad:
            reached.add(id(tensor))
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        variable = getattr(node, "variable", None)
        if variable is not None:
            reached.add(id(variable))
        for next_node, _ in node.next_functions:
            if next_node is not None and id(next_node) not in seen:
                stack.append(next_node)
    return reached


class _Progress:
    """A daemon thread that polls the works handed to it (``Work._test``: ``MPI_Test``) until
    ``stop()``: every 50 us after a work arrives, backing off to every millisecond, so that short
    all-reduces finish early and long ones cost the computing thread little. Polling from a second
    thread needs MPI_THREAD_MULTIPLE, which mpi4py asks for."""

    FIRST_INTERVAL, LONGEST_INTERVAL = 50e-6, 1e-3

    def __init__(self):
        self.works = []
        self.lock = threading.Lock()  # held while polling: stop() waits for a poll to end
        self.active = threading.Event()
        self.interval = self.FIRST_INTERVAL
        self.thread = None

    def add(self, work):
        with self.lock:
            self.works.append(work)
            self.interval = self.FIRST_INTERVAL
        if self.thread is None:
            self.thread = threading.Thread(target=self._run, name="tinytorch-ddp-progress", daemon=True)
            self.thread.start()
        self.active.set()

    def stop(self):
        """From here on the caller alone touches the works (two threads must not test one request)."""
        with self.lock:
            self.active.clear()
            self.works = []

    def _run(self):
        while True:
            self.active.wait()
            with self.lock:
                for work in self.works:
                    work._test()
                interval = self.interval
                self.interval = min(2 * interval, self.LONGEST_INTERVAL)
            time.sleep(interval)


def _mpi_threads_allowed(process_group):
    """Whether a helper thread may call MPI: the ``mpi`` backend, initialized with MPI_THREAD_MULTIPLE."""
    if dist.get_backend(process_group) != dist.Backend.MPI:
        return False
    MPI = process_group._MPI
    return MPI.Query_thread() == MPI.THREAD_MULTIPLE


class Reducer:
    """Averages the gradients of ``params`` over ``process_group`` during backward."""

    def __init__(self, params, process_group, bucket_bytes, first_bucket_bytes, find_unused_parameters):
        self.params = params
        self.process_group = process_group
        self.world_size = dist.get_world_size(process_group)
        self.find_unused_parameters = find_unused_parameters
        self.buckets = []
        self.location = {}  # parameter index -> (bucket index, position in the bucket)
        for bucket_index, indices in enumerate(assign_buckets(params, first_bucket_bytes, bucket_bytes)):
            self.buckets.append(_Bucket([params[i] for i in indices], indices))
            for position, index in enumerate(indices):
                self.location[index] = (bucket_index, position)
        self.handles = [param.register_post_accumulate_grad_hook(self._hook_for(index)) for index, param in enumerate(params)]
        self.expect_hooks = False  # set by a forward that will be followed by a synchronized backward
        self.require_finalize = False  # a hook fired in this iteration and the reduction is not over
        self.ready = [False] * len(params)
        self.used = [False] * len(params)  # which parameters got a gradient on this rank since the last reduction
        self.next_bucket = 0
        self.progress = _Progress() if _mpi_threads_allowed(process_group) else None
        self.comm_hook = None  # (state, hook) once registered
        # Under Join: the all-reduce of "not joined" flags this iteration's forward started (its
        # sum is the number of ranks still training), and whether to ignore it when dividing.
        self.forward_pass_work = None
        self.use_static_world_size = True
        self.div_factor = None  # what this iteration's buckets are divided by, fixed at its first launch

    def register_comm_hook(self, state, hook):
        if self.comm_hook is not None:
            raise RuntimeError("register_comm_hook or register_builtin_comm_hook can only be called once.")
        self.comm_hook = (state, hook)

    def set_forward_pass_work_handle(self, work, use_static_world_size):
        self.wait_forward_pass_work()  # a forward that no backward followed left its own
        self.forward_pass_work = work
        self.use_static_world_size = use_static_world_size

    def wait_forward_pass_work(self):
        """Complete the "not joined" all-reduce (MPI must not outlive the buffer it writes)."""
        if self.forward_pass_work is not None:
            self.forward_pass_work.wait()
            self.forward_pass_work = None

    def remove_hooks(self):
        for handle in self.handles:
            handle.remove()

    # -- iteration --------------------------------------------------------------------------------
    def prepare_for_backward(self, outputs=None):
        """Reset for the backward that follows this forward. With ``find_unused_parameters``,
        ``outputs`` tells which parameters the graph cannot reach: they count as ready now."""
        self.expect_hooks = True
        self.require_finalize = False
        self.ready = [False] * len(self.params)
        self.next_bucket = 0
        for bucket in self.buckets:
            bucket.pending = len(bucket.params)
            bucket.work = None
            bucket.future = None
        if outputs is not None:
            reached = _reachable_leaves(_find_tensors(outputs))
            for index, param in enumerate(self.params):
                if id(param) not in reached:  # what it holds (from no_sync steps, or nothing) goes in as it is
                    self._mark_ready(index, param.grad)

    def check_previous_reduction_finished(self):
        if self.require_finalize:
            missing = [str(i) for i, ready in enumerate(self.ready) if not ready]
            raise RuntimeError(
                "Expected to have finished reduction in the prior iteration before starting a new one. This error "
                "indicates that your module has parameters that were not used in producing loss. You can enable unused "
                "parameter detection by passing the keyword argument `find_unused_parameters=True` to "
                "`torch.nn.parallel.DistributedDataParallel`, and by making sure all `forward` function outputs "
                "participate in calculating loss.\nParameter indices which did not receive grad for rank "
                f"{dist.get_rank()}: {' '.join(missing)}"
            )

    def _hook_for(self, index):
        def hook(param):
            self.used[index] = True  # since the last reduction, no_sync steps included
            if not self.expect_hooks:
                return
            if self.ready[index]:
                raise RuntimeError(
                    f"Expected to mark a variable ready only once. Parameter at index {index} has been marked as "
                    "ready twice: it received gradients from more than one backward in this iteration (a second "
                    "backward, or a reentrant one), which DistributedDataParallel cannot average."
                )
            self._mark_ready(index, param.grad)
        return hook

    def _mark_ready(self, index, gradient):
        self.require_finalize = True
        self.ready[index] = True
        bucket_index, position = self.location[index]
        bucket = self.buckets[bucket_index]
        slot = bucket.slot(position)
        if gradient is None:
            slot[...] = 0
        elif gradient.is_sparse:
            raise RuntimeError("DistributedDataParallel in tinytorch does not average sparse gradients")
        else:
            slot[...] = gradient._data
        bucket.pending -= 1
        while self.next_bucket < len(self.buckets) and self.buckets[self.next_bucket].pending == 0:
            self._launch(self.buckets[self.next_bucket])
            self.next_bucket += 1
        if self.next_bucket == len(self.buckets):
            self._finalize()

    def _launch(self, bucket):
        if self.comm_hook is not None:
            index = self.buckets.index(bucket)
            bucket.future = self._run_comm_hook(bucket.grad_bucket(index, index == len(self.buckets) - 1))
            work = _work_of(bucket.future)
            if work is not None and self.progress is not None:
                self.progress.add(work)
            return
        # Divide first, then sum: PyTorch's order, and no overflow in float16.
        bucket.buffer._data /= self._div_factor()
        bucket.work = dist.all_reduce(bucket.buffer, group=self.process_group, async_op=True)
        if self.progress is not None:
            self.progress.add(bucket.work)

    def _div_factor(self):
        """The world size, or under ``Join(divide_by_initial_world_size=False)`` the number of ranks
        still training (the sum of this iteration's "not joined" flags)."""
        if self.div_factor is None:
            self.div_factor = self.world_size
            work = self.forward_pass_work
            if work is not None and not self.use_static_world_size:
                work.wait()
                self.div_factor = int(backend.to_numpy(work.result()[0]._data)[0])
        return self.div_factor

    def _run_comm_hook(self, grad_bucket):
        state, hook = self.comm_hook
        future = hook(state, grad_bucket)
        if not isinstance(future, (futures.Future, _work._Future)):
            kind = type(future)
            raise RuntimeError(
                "DDP communication hook's callback must return a torch.futures.Future object, but got "
                f"{kind.__module__}.{kind.__qualname__}"
            )
        return future

    def shadow_backward(self):
        """On a rank that has joined: the collectives of one backward of the ranks still training,
        each bucket's gradients zero (through the hook, if one is registered), in their order."""
        in_flight = []
        for index, bucket in enumerate(self.buckets):
            xp = backend.array_module(bucket.buffer._data)
            with backend.on_device(bucket.buffer.device):
                zeros = Tensor._make(xp.zeros_like(bucket.buffer._data))
            if self.comm_hook is not None:
                in_flight.append(self._run_comm_hook(bucket.grad_bucket(index, index == len(self.buckets) - 1, zeros)))
            else:
                in_flight.append(dist.all_reduce(zeros, group=self.process_group, async_op=True))
        if self.find_unused_parameters:  # _finalize's all-reduce of which parameters were used: none here
            first = self.buckets[0].buffer
            with backend.on_device(first.device):
                flags = Tensor._make(backend.array_module(first._data).zeros(len(self.params), dtype="int32"))
            dist.all_reduce(flags, op=dist.ReduceOp.MAX, group=self.process_group)
        for handle in in_flight:
            handle.wait()

    def _finalize(self):
        """Wait for every bucket and write the averages into ``.grad``."""
        if self.progress is not None:
            self.progress.stop()
        globally_used = None
        if self.find_unused_parameters:
            xp = backend.array_module(self.buckets[0].buffer._data)
            with backend.on_device(self.buckets[0].buffer.device):
                flags = Tensor._make(xp.asarray([1 if used else 0 for used in self.used], dtype=xp.int32))
            dist.all_reduce(flags, op=dist.ReduceOp.MAX, group=self.process_group)
            globally_used = backend.to_numpy(flags._data).tolist()
        for bucket in self.buckets:
            if bucket.future is not None:
                result = _hook_result(bucket.future.wait(), bucket)
                bucket.future = None
            else:
                bucket.work.wait()
                result = bucket.buffer._data
            for position, (param, index) in enumerate(zip(bucket.params, bucket.indices)):
                if globally_used is not None and not globally_used[index]:
                    continue  # no rank used it: its .grad stays as it was, as in PyTorch
                offset = bucket.offsets[position]
                reduced = result[offset:offset + param.numel()].reshape(param.shape)
                if param.grad is None:
                    param.grad = Tensor._make(reduced.astype(param._data.dtype, copy=True))
                else:
                    param.grad._data[...] = reduced
        self.wait_forward_pass_work()
        self.used = [False] * len(self.params)
        self.expect_hooks = False
        self.require_finalize = False
        self.div_factor = None


def _work_of(future):
    """The ``Work`` under a future that ``Work.get_future()`` (then ``.then``) made, for the
    progress thread to poll; None for any other future."""
    while future is not None:
        if isinstance(future, _work._ThenFuture):
            future = future._parent
        elif isinstance(future, _work._Future):
            return future._work
        else:
            return None
    return None


def _hook_result(value, bucket):
    """The flat array a communication hook's future holds, checked against its bucket."""
    if not isinstance(value, Tensor):
        shown = "a list" if isinstance(value, (list, tuple)) else repr(value)
        raise RuntimeError(
            f"Unable to cast {shown} to Tensor: a DDP communication hook's future must hold a single tensor, the "
            "reduced bucket buffer (a Work's future holds a list: return fut.then(lambda fut: fut.value()[0]))"
        )
    if value.numel() != bucket.buffer.numel() or value.device != bucket.buffer.device:
        raise RuntimeError(
            f"DDP communication hook returned a tensor of {value.numel()} elements on {value.device} for bucket of "
            f"{bucket.buffer.numel()} elements on {bucket.buffer.device}: it must hold the reduced bucket buffer"
        )
    return value.detach().reshape(-1)._data
