"""The ``nccl`` backend: collectives between GPUs through NCCL, called through CuPy
(``cupy.cuda.nccl``), with MPI as the rendezvous that hands rank 0's NCCL id to the others (the
design ChainerMN used).

Operations are enqueued on the current CuPy stream, as PyTorch enqueues them on the current CUDA
stream's side: work after them on that stream sees their result, and the CPU does not wait.
``Work.wait()`` makes the current stream wait; ``Work.wait(timeout)`` blocks the CPU up to the
timeout. A watchdog thread checks every operation in flight; one that is not done when the group's
timeout has passed (a peer died or never joined) aborts the NCCL communicator and the MPI job, as
PyTorch's watchdog takes the process down, since the GPU stream can no longer be trusted.

Written against CuPy's documented ``cupy.cuda.nccl`` API; it has not yet run on a GPU (the tests
run it on a stand-in NCCL over MPI, ``tests/distributed/fake_nccl.py``).
"""

import sys
import threading
import time

from .. import _backend as backend
from .. import _dtypes as dtypes
from ._errors import DistBackendError
from ._mpi import split_offsets, check_split_sizes, divide_in_place, split_counts
from ._process_group import ProcessGroup, check_coalesced_outputs, check_same_size_and_type
from ._reduce_op import ReduceOp
from ._work import Work, _check_timeout

INSTALL_HINT = "pip install 'tinytorch[cuda12]' (or 'tinytorch[cuda13]') and 'tinytorch[mpi]'"
_AVG_MIN_VERSION = 21000  # ncclAvg came with NCCL 2.10


def load_nccl():
    nccl = backend.nccl_module()
    if nccl is None:
        raise RuntimeError(
            "the 'nccl' backend needs CuPy with its NCCL bindings (cupy.cuda.nccl), which this Python does not have: "
            f"{INSTALL_HINT}; without a GPU use backend='mpi'"
        )
    if backend.cuda_device_count() == 0:
        raise RuntimeError("the 'nccl' backend needs a CUDA GPU, and CuPy sees none: use backend='mpi'")
    return nccl


def _nccl_datatype(nccl, dtype):
    table = {dtypes.float16: nccl.NCCL_FLOAT16, dtypes.float32: nccl.NCCL_FLOAT32, dtypes.float64: nccl.NCCL_FLOAT64,
             dtypes.int8: nccl.NCCL_INT8, dtypes.uint8: nccl.NCCL_UINT8, dtypes.int32: nccl.NCCL_INT32,
             dtypes.int64: nccl.NCCL_INT64, dtypes.bool: nccl.NCCL_UINT8}
    if dtype not in table:
        raise TypeError(f"Input tensor data type is not supported for NCCL process group: {dtypes.scalar_type_name(dtype)}")
    return table[dtype]


def _nccl_reduction(nccl, op, dtype, has_avg):
    """(NCCL op, whether AVG must be finished by a division) for a ReduceOp and a dtype."""
    if dtype is dtypes.bool:
        if op is ReduceOp.AVG:
            raise TypeError("Cannot use ReduceOp.AVG with boolean inputs")
        if op is ReduceOp.SUM:
            return nccl.NCCL_MAX, False
        if op is ReduceOp.PRODUCT:
            return nccl.NCCL_MIN, False
    if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR):
        raise ValueError(f"Cannot use ReduceOp.{op.name} with NCCL")
    if op is ReduceOp.AVG:
        return (nccl.NCCL_AVG, False) if has_avg else (nccl.NCCL_SUM, True)
    return {ReduceOp.SUM: nccl.NCCL_SUM, ReduceOp.PRODUCT: nccl.NCCL_PROD, ReduceOp.MIN: nccl.NCCL_MIN,
            ReduceOp.MAX: nccl.NCCL_MAX}[op], False


def _unpack(flat, arrays):
    """Copy consecutive pieces of the GPU array ``flat`` into ``arrays`` (enqueued on the stream)."""
    offset = 0
    for array in arrays:
        array[...] = flat[offset:offset + array.size].reshape(array.shape)
        offset += array.size


class _NcclWork(Work):
    """A Work whose ``wait()`` orders the current stream after it instead of blocking the CPU
    (``wait(timeout)`` and the barrier block the CPU, up to the deadline)."""

    def __init__(self, description, group, event, cpu_blocking=False, result=()):
        super().__init__(description, group, lambda: event.done, result=result)
        self._event = event
        self._cpu_blocking = cpu_blocking

    def wait(self, timeout=None):
        _check_timeout(timeout)
        if self._cpu_blocking or (timeout is not None and timeout.total_seconds() > 0):
            return super().wait(timeout)
        self._group._check_usable()
        backend.cupy.cuda.get_current_stream().wait_event(self._event)
        return True


class _Watchdog:
    """A daemon thread that takes the job down when an operation outlives the group's timeout
    (the GPU would otherwise wait for a dead peer for ever, and the CPU with it at its next sync)."""

    def __init__(self, MPI, interval=0.2):
        self._MPI = MPI
        self._interval = interval
        self._in_flight = []  # (work, deadline, group)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tinytorch-nccl-watchdog", daemon=True)
        self._thread.start()

    def track(self, work, group):
        with self._lock:
            self._in_flight.append((work, time.monotonic() + group._timeout.total_seconds(), group))

    def _run(self):
        while not self._stop.wait(self._interval):
            now = time.monotonic()
            with self._lock:
                in_flight, self._in_flight = self._in_flight, []
            late = None
            for work, deadline, group in in_flight:
                if work._event.done:
                    continue
                if now > deadline and late is None:
                    late = (work, group)
                with self._lock:
                    self._in_flight.append((work, deadline, group))
            for group in {id(g): g for _, _, g in in_flight}.values():
                try:
                    group._nccl_comm.check_async_error()
                except Exception as error:  # an NCCL error reported asynchronously: nothing can continue
                    self._take_down(group, f"NCCL reported an asynchronous error: {error}")
            if late is not None:
                work, group = late
                self._take_down(group, f"Watchdog caught collective operation timeout: {work._description} ran longer "
                                       f"than the timeout of {group._timeout} (a peer rank exited, crashed or is stuck)")

    def _take_down(self, group, message):
        sys.stderr.write(f"[Rank {group._global_rank}] tinytorch.distributed (nccl): {message}. Aborting the NCCL "
                         "communicator and all ranks, since the GPU streams can no longer be trusted.\n")
        sys.stderr.flush()
        try:
            group._nccl_comm.abort()
        finally:
            self._MPI.COMM_WORLD.Abort(1)

    def stop(self):
        self._stop.set()


class ProcessGroupNCCL(ProcessGroup):
    """A process group whose ranks, one GPU each, talk through an NCCL communicator."""

    _watchdog = None

    def __init__(self, MPI, mpi_comm, nccl, nccl_comm, device_index, ranks, global_rank, timeout):
        super().__init__("nccl", ranks, global_rank, timeout)
        self._MPI = MPI
        self._comm = mpi_comm
        self._nccl = nccl
        self._nccl_comm = nccl_comm
        self._device_index = device_index
        self._has_avg = nccl.get_version() >= _AVG_MIN_VERSION and hasattr(nccl, "NCCL_AVG")
        if ProcessGroupNCCL._watchdog is None:
            ProcessGroupNCCL._watchdog = _Watchdog(MPI)

    @classmethod
    def create(cls, MPI, mpi_comm, ranks, global_rank, timeout, device_id=None):
        """Collective over ``mpi_comm``: rank 0 makes the NCCL id, MPI broadcasts it, every rank
        joins the NCCL communicator on its GPU (``device_id``, else the rank's index on its machine)."""
        nccl = load_nccl()
        cupy = backend.cupy
        if device_id is None:
            # One GPU per process, as PyTorch expects: the rank's index among the ranks on its machine.
            local = mpi_comm.Split_type(MPI.COMM_TYPE_SHARED)
            index = local.Get_rank() % backend.cuda_device_count()
            local.Free()
        else:
            device = backend.as_device(device_id)
            if device.type != "cuda":
                raise ValueError(f"device_id {device} is not a CUDA device: the 'nccl' backend works on GPUs")
            index = device.index or 0
        with cupy.cuda.Device(index):
            unique_id = nccl.get_unique_id() if mpi_comm.Get_rank() == 0 else None
            unique_id = mpi_comm.bcast(unique_id, root=0)
            nccl_comm = nccl.NcclCommunicator(mpi_comm.Get_size(), unique_id, mpi_comm.Get_rank())
        return cls(MPI, mpi_comm, nccl, nccl_comm, index, ranks, global_rank, timeout)

    # -- launching --------------------------------------------------------------------------------
    def _array(self, tensor):
        """The CuPy array of a tensor NCCL may use: on this group's GPU, dense, contiguous."""
        if getattr(tensor, "is_sparse", False):
            raise RuntimeError("Tensors must be CUDA and dense")
        if not tensor.is_cuda:
            raise RuntimeError(f"No backend type associated with device type {tensor.device.type}")
        data = tensor._data
        if data.device.id != self._device_index:
            raise RuntimeError(
                f"the tensor is on cuda:{data.device.id} but this NCCL process group works on cuda:{self._device_index}"
            )
        if not tensor.is_contiguous():
            raise RuntimeError("Tensors must be contiguous")
        return data

    def _launch(self, description, enqueue, cpu_blocking=False, result=()):
        """Enqueue ``enqueue(stream_pointer)`` on the current stream of this group's GPU; a Work
        that is done when the stream has passed it."""
        cupy = backend.cupy
        with cupy.cuda.Device(self._device_index):
            stream = cupy.cuda.get_current_stream()
            try:
                enqueue(stream.ptr)
            except self._nccl.NcclError as error:
                raise DistBackendError(f"[Rank {self._global_rank}] {description} failed in NCCL: {error}") from None
            event = cupy.cuda.Event(disable_timing=True)
            event.record(stream)
        work = _NcclWork(description, self, event, cpu_blocking, result)
        self._watchdog.track(work, self)
        return work

    def _datatype(self, tensor):
        return _nccl_datatype(self._nccl, tensor.dtype)

    # -- collectives --------------------------------------------------------------------------
    def allreduce(self, tensor, op):
        data = self._array(tensor)
        datatype = self._datatype(tensor)
        nccl_op, divide = _nccl_reduction(self._nccl, op, tensor.dtype, self._has_avg)
        description = self._describe("all_reduce", tensor)
        size = self.size()

        def enqueue(stream):
            self._nccl_comm.allReduce(data.data.ptr, data.data.ptr, data.size, datatype, nccl_op, stream)
            if divide:
                divide_in_place(data, size)

        return self._launch(description, enqueue, result=[tensor])

    def broadcast(self, tensor, root):
        self._check_root("broadcast", root)
        data = self._array(tensor)
        datatype = self._datatype(tensor)
        description = self._describe("broadcast", tensor)
        return self._launch(description, lambda stream: self._nccl_comm.bcast(data.data.ptr, data.size, datatype, root, stream),
                            result=[tensor])

    def reduce(self, tensor, root, op):
        self._check_root("reduce", root)
        data = self._array(tensor)
        datatype = self._datatype(tensor)
        nccl_op, divide = _nccl_reduction(self._nccl, op, tensor.dtype, self._has_avg)
        description = self._describe("reduce", tensor)
        size, is_root = self.size(), self.rank() == root

        def enqueue(stream):
            self._nccl_comm.reduce(data.data.ptr, data.data.ptr, data.size, datatype, nccl_op, root, stream)
            if divide and is_root:
                divide_in_place(data, size)

        return self._launch(description, enqueue, result=[tensor])

    def allgather(self, output_tensors, input_tensor):
        if len(output_tensors) != self.size():
            raise RuntimeError("All gather: number of output tensors should equal to the world size")
        check_same_size_and_type(input_tensor, output_tensors)
        data = self._array(input_tensor)
        outputs = [self._array(t) for t in output_tensors]
        datatype = self._datatype(input_tensor)
        description = self._describe("all_gather", input_tensor)
        xp = backend.cupy

        def enqueue(stream):
            gathered = xp.empty((self.size(), data.size), dtype=data.dtype)
            self._nccl_comm.allGather(data.data.ptr, gathered.data.ptr, data.size, datatype, stream)
            for output, row in zip(outputs, gathered):
                output[...] = row.reshape(output.shape)

        return self._launch(description, enqueue, result=output_tensors)

    def allgather_into_tensor(self, output_tensor, input_tensor):
        if output_tensor.dtype != input_tensor.dtype:
            raise TypeError("output tensor must have the same type as input tensor")
        if output_tensor.numel() != input_tensor.numel() * self.size():
            raise ValueError("output tensor size must be equal to world_size times input tensor size")
        data, output = self._array(input_tensor), self._array(output_tensor)
        datatype = self._datatype(input_tensor)
        description = self._describe("all_gather_into_tensor", input_tensor)
        return self._launch(description, lambda stream: self._nccl_comm.allGather(
            data.data.ptr, output.data.ptr, data.size, datatype, stream), result=[output_tensor])

    def reduce_scatter_tensor(self, output_tensor, input_tensor, op):
        if output_tensor.dtype != input_tensor.dtype:
            raise TypeError("input tensor must be the same type as the output tensor.")
        if input_tensor.numel() != output_tensor.numel() * self.size():
            raise ValueError("input tensor must be the same size as output size times world size")
        data, output = self._array(input_tensor), self._array(output_tensor)
        datatype = self._datatype(input_tensor)
        nccl_op, divide = _nccl_reduction(self._nccl, op, input_tensor.dtype, self._has_avg)
        description = self._describe("reduce_scatter_tensor", input_tensor)
        size = self.size()

        def enqueue(stream):
            self._nccl_comm.reduceScatter(data.data.ptr, output.data.ptr, output.size, datatype, nccl_op, stream)
            if divide:
                divide_in_place(output, size)

        return self._launch(description, enqueue, result=[output_tensor])

    def gather(self, input_tensor, gather_list, root):
        """NCCL has no gather: the root receives from every rank in one NCCL group call."""
        self._check_root("gather", root)
        data = self._array(input_tensor)
        datatype = self._datatype(input_tensor)
        rank = self.rank()
        if rank != root:
            if gather_list:
                raise RuntimeError("Gather: number of output tensors should be 0 for non-root")
            description = self._describe("gather", input_tensor)
            return self._launch(description, lambda stream: self._nccl_comm.send(data.data.ptr, data.size, datatype, root, stream))
        if len(gather_list) != self.size():
            raise RuntimeError("Gather: number of output tensors should equal to the world size")
        check_same_size_and_type(input_tensor, gather_list)
        outputs = [self._array(t) for t in gather_list]
        description = self._describe("gather", input_tensor)

        def enqueue(stream):
            self._nccl.groupStart()
            try:
                for peer, output in enumerate(outputs):
                    if peer != rank:
                        self._nccl_comm.recv(output.data.ptr, output.size, datatype, peer, stream)
            finally:
                self._nccl.groupEnd()
            outputs[rank][...] = data.reshape(outputs[rank].shape)

        return self._launch(description, enqueue, result=gather_list)

    def scatter(self, output_tensor, scatter_list, root):
        """NCCL has no scatter: the root sends to every rank in one NCCL group call."""
        self._check_root("scatter", root)
        output = self._array(output_tensor)
        datatype = self._datatype(output_tensor)
        rank = self.rank()
        if rank != root:
            if scatter_list:
                raise RuntimeError("Scatter: number of input tensors should be 0 for non-root")
            description = self._describe("scatter", output_tensor)
            return self._launch(description, lambda stream: self._nccl_comm.recv(output.data.ptr, output.size, datatype, root, stream),
                                result=[output_tensor])
        if len(scatter_list) != self.size():
            raise RuntimeError("Scatter: number of input tensors should equal to the world size")
        check_same_size_and_type(output_tensor, scatter_list)
        inputs = [self._array(t) for t in scatter_list]
        description = self._describe("scatter", output_tensor)

        def enqueue(stream):
            self._nccl.groupStart()
            try:
                for peer, data in enumerate(inputs):
                    if peer != rank:
                        self._nccl_comm.send(data.data.ptr, data.size, datatype, peer, stream)
            finally:
                self._nccl.groupEnd()
            output[...] = inputs[rank].reshape(output.shape)

        return self._launch(description, enqueue, result=[output_tensor])

    def barrier(self):
        """An all-reduce of one number, waited for by the CPU (PyTorch's NCCL barrier)."""
        description = self._describe("barrier")
        cupy = backend.cupy
        with cupy.cuda.Device(self._device_index):
            token = cupy.zeros(1, dtype=cupy.float32)
        datatype = self._nccl.NCCL_FLOAT32
        return self._launch(description, lambda stream: self._nccl_comm.allReduce(
            token.data.ptr, token.data.ptr, 1, datatype, self._nccl.NCCL_SUM, stream), cpu_blocking=True)

    # Untested on a GPU: written after the NCCL group calls above (all-to-all as one group of
    # sends and receives, as PyTorch's ProcessGroupNCCL does).
    def _exchange(self, description, sends, receives, result, after=None):
        """One NCCL group call of ``sends``/``receives`` ([(array, peer)]), then ``after()``."""
        datatype = _nccl_datatype(self._nccl, result[0].dtype)

        def enqueue(stream):
            self._nccl.groupStart()
            try:
                for data, peer in sends:
                    if data.size:
                        self._nccl_comm.send(data.data.ptr, data.size, datatype, peer, stream)
                for data, peer in receives:
                    if data.size:
                        self._nccl_comm.recv(data.data.ptr, data.size, datatype, peer, stream)
            finally:
                self._nccl.groupEnd()
            if after is not None:
                after()

        return self._launch(description, enqueue, result=result)

    def alltoall(self, output_tensors, input_tensors):
        if len(output_tensors) != self.size() or len(input_tensors) != self.size():
            raise RuntimeError("Number of output tensors and input tensors must both equal the world size")
        inputs = [self._array(t) for t in input_tensors]
        outputs = [self._array(t) for t in output_tensors]
        description = self._describe("all_to_all", input_tensors[0])
        return self._exchange(description, list(zip(inputs, range(self.size()))), list(zip(outputs, range(self.size()))),
                              output_tensors)

    def alltoall_base(self, output_tensor, input_tensor, output_split_sizes, input_split_sizes):
        check_split_sizes(input_split_sizes, input_tensor, self.size())
        check_split_sizes(output_split_sizes, output_tensor, self.size())
        data, output = self._array(input_tensor).reshape(-1), self._array(output_tensor).reshape(-1)
        send_counts = split_counts(input_split_sizes, input_tensor, self.size())
        receive_counts = split_counts(output_split_sizes, output_tensor, self.size())
        sends = [(data[start:start + count], peer) for peer, (start, count)
                 in enumerate(zip(split_offsets(send_counts), send_counts))]
        receives = [(output[start:start + count], peer) for peer, (start, count)
                    in enumerate(zip(split_offsets(receive_counts), receive_counts))]
        description = self._describe("all_to_all_single", input_tensor)
        return self._exchange(description, sends, receives, [output_tensor])

    def reduce_scatter(self, output_tensor, input_tensors, op):
        if len(input_tensors) != self.size():
            raise RuntimeError("Reduce scatter: number of input tensors should equal to the world size")
        check_same_size_and_type(output_tensor, input_tensors)
        inputs = [self._array(t) for t in input_tensors]
        output = self._array(output_tensor)
        datatype = self._datatype(output_tensor)
        nccl_op, divide = _nccl_reduction(self._nccl, op, output_tensor.dtype, self._has_avg)
        description = self._describe("reduce_scatter", output_tensor)
        size, xp = self.size(), backend.cupy

        def enqueue(stream):
            flat = xp.concatenate([data.reshape(-1) for data in inputs])
            self._nccl_comm.reduceScatter(flat.data.ptr, output.data.ptr, output.size, datatype, nccl_op, stream)
            if divide:
                divide_in_place(output, size)

        return self._launch(description, enqueue, result=[output_tensor])

    def allreduce_coalesced(self, tensors, op):
        """``all_reduce_coalesced``: the tensors packed into one GPU buffer, one ncclAllReduce."""
        arrays = [self._array(t) for t in tensors]
        datatype = self._datatype(tensors[0])
        nccl_op, divide = _nccl_reduction(self._nccl, op, tensors[0].dtype, self._has_avg)
        description = self._describe("allreduce_coalesced", tensors[0])
        size, xp = self.size(), backend.cupy

        def enqueue(stream):
            packed = xp.concatenate([array.reshape(-1) for array in arrays])
            self._nccl_comm.allReduce(packed.data.ptr, packed.data.ptr, packed.size, datatype, nccl_op, stream)
            if divide:
                divide_in_place(packed, size)
            _unpack(packed, arrays)

        return self._launch(description, enqueue, result=tensors)

    def allgather_coalesced(self, output_lists, inputs):
        """``all_gather_coalesced``: every rank's inputs packed into one GPU buffer, one ncclAllGather."""
        check_coalesced_outputs(output_lists, inputs, self.size())
        arrays = [self._array(t) for t in inputs]
        output_arrays = [[self._array(t) for t in output_list] for output_list in output_lists]
        datatype = self._datatype(inputs[0])
        description = self._describe("allgather_coalesced", inputs[0])
        xp = backend.cupy

        def enqueue(stream):
            packed = xp.concatenate([array.reshape(-1) for array in arrays])
            gathered = xp.empty((self.size(), packed.size), dtype=packed.dtype)
            self._nccl_comm.allGather(packed.data.ptr, gathered.data.ptr, packed.size, datatype, stream)
            for outputs, row in zip(output_arrays, gathered):
                _unpack(row, outputs)

        return self._launch(description, enqueue, result=[t for output_list in output_lists for t in output_list])

    def batch_p2p(self, operations):
        """``batch_isend_irecv``: every send and receive in one NCCL group call (so two ranks that
        each send to the other first cannot deadlock); one Work for the batch, as PyTorch's
        coalesced NCCL batch returns. ``operations``: [(is_send, tensor, group peer)]."""
        sends, receives, result = [], [], []
        for is_send, tensor, peer in operations:
            self._check_peer("destination" if is_send else "source", peer)
            (sends if is_send else receives).append((self._array(tensor), peer))
            result.append(tensor)
        return self._exchange(self._describe("batch_isend_irecv", result[0]), sends, receives, result)

    # -- point to point -----------------------------------------------------------------------
    def send(self, tensor, dst, tag):
        self._check_peer("destination", dst)
        data = self._array(tensor)
        datatype = self._datatype(tensor)
        description = self._describe(f"send to rank {dst}", tensor)
        return self._launch(description, lambda stream: self._nccl_comm.send(data.data.ptr, data.size, datatype, dst, stream))

    def recv(self, tensor, src, tag):
        if src is None:
            raise RuntimeError("the nccl backend cannot receive from any source: pass src (NCCL has no wildcard receive)")
        self._check_peer("source", src)
        data = self._array(tensor)
        datatype = self._datatype(tensor)
        description = self._describe(f"recv from rank {src}", tensor)
        work = self._launch(description, lambda stream: self._nccl_comm.recv(data.data.ptr, data.size, datatype, src, stream),
                            result=[tensor])
        work._source_rank = src
        return work

    # -- groups -------------------------------------------------------------------------------
    def new_subgroup(self, ranks, timeout):
        """An NCCL group over some of this (world) group's ranks, with its own NCCL id handed out
        by MPI inside the subgroup; None on the other ranks. Every rank of this group calls it."""
        whole = self._comm.Get_group()
        group = whole.Incl(ranks)
        comm = self._comm.Create(group)
        group.Free()
        whole.Free()
        if comm == self._MPI.COMM_NULL:
            return None
        return ProcessGroupNCCL.create(self._MPI, comm, ranks, self._global_rank, timeout,
                                       backend.device("cuda", self._device_index))

    def with_communicator(self, comm, ranks, global_rank, timeout):
        """An NCCL group over the MPI communicator ``comm`` (made by ``split_group`` or
        ``shrink_group``), on this group's GPU. Collective over ``comm``."""
        return ProcessGroupNCCL.create(self._MPI, comm, ranks, global_rank, timeout,
                                       backend.device("cuda", self._device_index))

    def shutdown(self):
        self._nccl_comm.destroy()
        if self._comm != self._MPI.COMM_WORLD:
            self._comm.Free()
