"""The ``mpi`` backend: collectives and point-to-point messages over MPI (mpi4py).

Each operation is MPI's nonblocking call (``Iallreduce``, ``Ibcast``, ``Isend``...) and returns a
``Work`` that polls its requests against the group's deadline: a synchronous call is the same
``Work`` waited on at once. CPU tensors are handed to MPI in place; CUDA tensors go through host
memory (a copy there and back), as an MPI without CUDA support needs.

Faults: ``init_process_group`` installs a ``sys.excepthook`` that calls ``MPI_Abort`` after
printing the traceback, so one rank's uncaught exception ends every rank at once; a rank killed by
a signal makes ``mpiexec`` end the others; and a rank that exits or hangs makes its peers'
operations raise ``DistBackendError`` when the timeout passes (then the hook aborts the job).
"""

import sys
import time

import numpy as np

from .. import _backend as backend
from ._errors import DistBackendError
from ._process_group import ProcessGroup, check_coalesced_outputs, check_same_size_and_type
from ._reduce_op import ReduceOp
from ._work import Work

INSTALL_HINT = "pip install 'tinytorch[mpi]'"


def load_mpi():
    """``mpi4py.MPI`` (importing it initializes MPI), or a RuntimeError that says what to install."""
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise RuntimeError(
            f"tinytorch.distributed needs mpi4py and an MPI library for the 'mpi' and 'nccl' backends: {INSTALL_HINT} "
            f"(mpi4py and the mpich wheel), then start the ranks with mpiexec -n N python script.py ({error})"
        ) from None
    return MPI


# -- faults ---------------------------------------------------------------------------------------
_previous_excepthook = None
_FLUSH_GRACE_SECONDS = 0.5  # time for mpiexec to forward the traceback before MPI_Abort


def install_abort_hook(MPI):
    """Make an uncaught exception on any rank abort every rank (after the traceback is printed):
    without it the other ranks would wait in their next collective until the timeout."""
    global _previous_excepthook
    if _previous_excepthook is not None:
        return
    _previous_excepthook = previous = sys.excepthook

    def abort_all_ranks(exc_type, exc, traceback):
        previous(exc_type, exc, traceback)
        world = MPI.COMM_WORLD
        if MPI.Is_initialized() and not MPI.Is_finalized() and world.Get_size() > 1:
            sys.stderr.write(
                f"[Rank {world.Get_rank()}] tinytorch.distributed: uncaught {exc_type.__name__}; "
                f"aborting all {world.Get_size()} ranks (MPI_Abort)\n"
            )
            sys.stderr.flush()
            sys.stdout.flush()
            # mpiexec's proxy reads this rank's output pipe and its abort request in one poll loop:
            # aborting at once can let the abort win and drop the traceback's last lines (1 run in 8).
            time.sleep(_FLUSH_GRACE_SECONDS)
            world.Abort(1)

    sys.excepthook = abort_all_ranks


def remove_abort_hook():
    global _previous_excepthook
    if _previous_excepthook is not None:
        sys.excepthook, _previous_excepthook = _previous_excepthook, None


# -- tensors as MPI buffers ---------------------------------------------------------------------
def check_tensor(tensor):
    """ProcessGroupMPI's rules for a tensor MPI reads or writes."""
    if getattr(tensor, "is_sparse", False):
        raise RuntimeError("input tensor has to be dense")
    if not tensor.is_contiguous():
        raise RuntimeError("input tensor has to be contiguous")


def host_buffer(tensor, write):
    """(flat host array MPI uses, device array to copy it back into or None). A CPU tensor's own
    memory; a CUDA tensor's copy in host memory."""
    check_tensor(tensor)
    data = tensor._data
    if not backend.is_cuda_array(data):
        if write and not backend.is_writeable(data):
            raise RuntimeError("a tensor that a collective writes into must be writeable (it is a read-only or broadcast view)")
        return (data if data.ndim == 1 else data.reshape(-1)), None
    return backend.to_numpy(data).reshape(-1), data


def write_back(host, device_array):
    if device_array is not None:
        device_array.set(host.reshape(device_array.shape))


def copy_into(tensor, host):
    """Copy host data into a tensor on either device."""
    data = tensor._data
    if backend.is_cuda_array(data):
        data.set(np.ascontiguousarray(host).reshape(data.shape))
    else:
        np.copyto(data, host.reshape(data.shape))


def divide_in_place(array, divisor):
    """ReduceOp.AVG's last step, on a NumPy or CuPy array: floats divide, integers truncate towards
    zero (as NCCL's average does)."""
    if array.dtype.kind == "f":
        array /= divisor
    else:
        quotient = array // divisor  # floor; one more towards zero for negatives with a remainder
        quotient += ((array % divisor) != 0) & (array < 0)
        array[...] = quotient


_REDUCTIONS = {}  # (ReduceOp, dtype kind) -> MPI_Op, filled on first use


def mpi_reduction(MPI, op, dtype):
    """The MPI_Op of a ReduceOp for a NumPy dtype (booleans: or / and, as NCCL maps them)."""
    key = (op, dtype.kind)
    found = _REDUCTIONS.get(key)
    if found is not None:
        return found
    if dtype.kind == "b":
        if op is ReduceOp.AVG:
            raise TypeError("Cannot use ReduceOp.AVG with boolean inputs")
        logical = {ReduceOp.SUM: MPI.LOR, ReduceOp.MAX: MPI.LOR, ReduceOp.BOR: MPI.LOR, ReduceOp.PRODUCT: MPI.LAND,
                   ReduceOp.MIN: MPI.LAND, ReduceOp.BAND: MPI.LAND, ReduceOp.BXOR: MPI.LXOR}
        found = logical[op]
    elif op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR) and dtype.kind == "f":
        raise RuntimeError(f"Cannot use ReduceOp.{op.name} with non-integral dtype")
    else:
        found = {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD, ReduceOp.MIN: MPI.MIN,
                 ReduceOp.MAX: MPI.MAX, ReduceOp.BAND: MPI.BAND, ReduceOp.BOR: MPI.BOR, ReduceOp.BXOR: MPI.BXOR}[op]
    _REDUCTIONS[key] = found
    return found


def _separate(send, receive):
    """MPI forbids a send buffer that overlaps the receive buffer: copy it first then."""
    return send.copy() if np.may_share_memory(send, receive) else send


def split_offsets(counts):
    """MPI's displacements: where each rank's piece starts in the flat buffer."""
    offsets, total = [], 0
    for count in counts:
        offsets.append(total)
        total += count
    return offsets


def check_split_sizes(split_sizes, tensor, group_size):
    """c10d's checkSplitSizes, with its messages (RuntimeError)."""
    if not split_sizes:
        if tensor.dim() == 0 or tensor.shape[0] % group_size != 0:
            raise RuntimeError("Tensor's dim 0 does not divide equally across group size")
        return
    if len(split_sizes) != group_size:
        raise RuntimeError("Number of tensor splits not equal to group size")
    if sum(split_sizes) != (tensor.shape[0] if tensor.dim() else 0):
        raise RuntimeError("Split sizes doesn't match total dim 0 size")


def split_counts(split_sizes, tensor, group_size):
    """Elements per rank of a dim-0 split (even when ``split_sizes`` is empty)."""
    row = tensor.numel() // tensor.shape[0] if tensor.dim() and tensor.shape[0] else 0
    if not split_sizes:
        return [tensor.numel() // group_size] * group_size
    return [int(size) * row for size in split_sizes]


def split_communicator(MPI, comm, color, key):
    """``MPI_Comm_split`` (collective over ``comm``): the ranks that pass the same ``color`` get one
    communicator, ordered by ``key``; ``color=None`` gets None."""
    split = comm.Split(MPI.UNDEFINED if color is None else color, key)
    return None if split == MPI.COMM_NULL else split


def shrink_communicator(MPI, comm, remaining):
    """A communicator over the ranks ``remaining`` of ``comm``. ``MPI_Comm_create_group`` is
    collective over those ranks only, so the excluded ranks take no part (as ``shrink_group`` needs)."""
    whole = comm.Get_group()
    group = whole.Incl(remaining)
    try:
        return comm.Create_group(group)
    finally:
        group.Free()
        whole.Free()


def pack(tensors):
    """The tensors' elements, one after another, in one new host array."""
    return np.concatenate([backend.to_numpy(t._data).reshape(-1) for t in tensors])


def unpack(flat, tensors):
    """Copy consecutive pieces of ``flat`` into ``tensors`` (the inverse of ``pack``)."""
    offset = 0
    for tensor in tensors:
        copy_into(tensor, flat[offset:offset + tensor.numel()])
        offset += tensor.numel()


class ProcessGroupMPI(ProcessGroup):
    """A process group whose ranks talk through an MPI communicator."""

    def __init__(self, MPI, comm, ranks, global_rank, timeout, backend_name="mpi"):
        super().__init__(backend_name, ranks, global_rank, timeout)
        self._MPI = MPI
        self._comm = comm

    def _start(self, description, start, finish=None, result=(), status=None):
        """Run ``start()`` (which returns MPI requests) and wrap them in a Work."""
        MPI = self._MPI
        try:
            requests = start()
        except MPI.Exception as error:
            raise DistBackendError(f"[Rank {self._global_rank}] {description} failed in MPI: {error}") from None
        if status is not None:
            def poll():
                return requests[0].Test(status)
        elif len(requests) == 1:
            poll = requests[0].Test
        else:
            def poll():
                return MPI.Request.Testall(requests)
        return Work(description, self, poll, finish, result)

    # -- collectives ------------------------------------------------------------------------
    def allreduce(self, tensor, op):
        description = self._describe("all_reduce", tensor)
        host, device_array = host_buffer(tensor, write=True)
        mpi_op = mpi_reduction(self._MPI, op, host.dtype)
        finish = None
        if op is ReduceOp.AVG or device_array is not None:
            size = self.size()

            def finish(work):
                if op is ReduceOp.AVG:
                    divide_in_place(host, size)
                write_back(host, device_array)

        return self._start(description, lambda: [self._comm.Iallreduce(self._MPI.IN_PLACE, host, op=mpi_op)], finish, [tensor])

    def broadcast(self, tensor, root):
        self._check_root("broadcast", root)
        description = self._describe("broadcast", tensor)
        host, device_array = host_buffer(tensor, write=True)
        return self._start(description, lambda: [self._comm.Ibcast(host, root=root)],
                           lambda work: write_back(host, device_array), [tensor])

    def reduce(self, tensor, root, op):
        self._check_root("reduce", root)
        description = self._describe("reduce", tensor)
        host, device_array = host_buffer(tensor, write=True)
        mpi_op = mpi_reduction(self._MPI, op, host.dtype)
        if self.rank() != root:
            return self._start(description, lambda: [self._comm.Ireduce(host, None, op=mpi_op, root=root)], None, [tensor])
        size = self.size()

        def finish(work):
            if op is ReduceOp.AVG:
                divide_in_place(host, size)
            write_back(host, device_array)

        return self._start(description, lambda: [self._comm.Ireduce(self._MPI.IN_PLACE, host, op=mpi_op, root=root)],
                           finish, [tensor])

    def allgather(self, output_tensors, input_tensor):
        if len(output_tensors) != self.size():
            raise RuntimeError("All gather: number of output tensors should equal to the world size")
        check_same_size_and_type(input_tensor, output_tensors)
        for tensor in output_tensors:
            check_tensor(tensor)
        description = self._describe("all_gather", input_tensor)
        host, _ = host_buffer(input_tensor, write=False)
        gathered = np.empty((self.size(), host.size), dtype=host.dtype)

        def finish(work):
            for tensor, row in zip(output_tensors, gathered):
                copy_into(tensor, row)

        return self._start(description, lambda: [self._comm.Iallgather(host, gathered)], finish, output_tensors)

    def allgather_into_tensor(self, output_tensor, input_tensor):
        if output_tensor.dtype != input_tensor.dtype:
            raise TypeError("output tensor must have the same type as input tensor")
        if output_tensor.numel() != input_tensor.numel() * self.size():
            raise ValueError("output tensor size must be equal to world_size times input tensor size")
        description = self._describe("all_gather_into_tensor", input_tensor)
        output, device_array = host_buffer(output_tensor, write=True)
        host, _ = host_buffer(input_tensor, write=False)
        host = _separate(host, output)
        return self._start(description, lambda: [self._comm.Iallgather(host, output)],
                           lambda work: write_back(output, device_array), [output_tensor])

    def reduce_scatter_tensor(self, output_tensor, input_tensor, op):
        if output_tensor.dtype != input_tensor.dtype:
            raise TypeError("input tensor must be the same type as the output tensor.")
        if input_tensor.numel() != output_tensor.numel() * self.size():
            raise ValueError("input tensor must be the same size as output size times world size")
        description = self._describe("reduce_scatter_tensor", input_tensor)
        output, device_array = host_buffer(output_tensor, write=True)
        host, _ = host_buffer(input_tensor, write=False)
        host = _separate(host, output)
        mpi_op = mpi_reduction(self._MPI, op, host.dtype)
        size = self.size()

        def finish(work):
            if op is ReduceOp.AVG:
                divide_in_place(output, size)
            write_back(output, device_array)

        return self._start(description, lambda: [self._comm.Ireduce_scatter_block(host, output, op=mpi_op)],
                           finish, [output_tensor])

    def gather(self, input_tensor, gather_list, root):
        self._check_root("gather", root)
        host, _ = host_buffer(input_tensor, write=False)
        if self.rank() != root:
            if gather_list:
                raise RuntimeError("Gather: number of output tensors should be 0 for non-root")
            description = self._describe("gather", input_tensor)
            return self._start(description, lambda: [self._comm.Igather(host, None, root=root)])
        if len(gather_list) != self.size():
            raise RuntimeError("Gather: number of output tensors should equal to the world size")
        check_same_size_and_type(input_tensor, gather_list)
        for tensor in gather_list:
            check_tensor(tensor)
        description = self._describe("gather", input_tensor)
        gathered = np.empty((self.size(), host.size), dtype=host.dtype)

        def finish(work):
            for tensor, row in zip(gather_list, gathered):
                copy_into(tensor, row)

        return self._start(description, lambda: [self._comm.Igather(host, gathered, root=root)], finish, gather_list)

    def scatter(self, output_tensor, scatter_list, root):
        self._check_root("scatter", root)
        output, device_array = host_buffer(output_tensor, write=True)
        if self.rank() != root:
            if scatter_list:
                raise RuntimeError("Scatter: number of input tensors should be 0 for non-root")
            send = None
        else:
            if len(scatter_list) != self.size():
                raise RuntimeError("Scatter: number of input tensors should equal to the world size")
            check_same_size_and_type(output_tensor, scatter_list)
            for tensor in scatter_list:
                check_tensor(tensor)
            send = np.stack([backend.to_numpy(t._data).reshape(-1) for t in scatter_list])
        description = self._describe("scatter", output_tensor)
        return self._start(description, lambda: [self._comm.Iscatter(send, output, root=root)],
                           lambda work: write_back(output, device_array), [output_tensor])

    def barrier(self):
        description = self._describe("barrier")
        return self._start(description, lambda: [self._comm.Ibarrier()])

    def alltoall(self, output_tensors, input_tensors):
        """Rank i's ``input_tensors[j]`` into rank j's ``output_tensors[i]`` (one MPI_Ialltoallv)."""
        if len(output_tensors) != self.size() or len(input_tensors) != self.size():
            raise RuntimeError("Number of output tensors and input tensors must both equal the world size")
        for tensor in (*output_tensors, *input_tensors):
            check_tensor(tensor)
        send_counts = [t.numel() for t in input_tensors]
        receive_counts = [t.numel() for t in output_tensors]
        dtype = backend.to_numpy(input_tensors[0]._data).dtype if input_tensors else np.dtype(np.float32)
        send = np.concatenate([backend.to_numpy(t._data).reshape(-1) for t in input_tensors]).astype(dtype, copy=False)
        received = np.empty(sum(receive_counts), dtype=dtype)
        description = self._describe("all_to_all", input_tensors[0] if input_tensors else None)

        def finish(work):
            offset = 0
            for tensor, count in zip(output_tensors, receive_counts):
                copy_into(tensor, received[offset:offset + count])
                offset += count

        return self._start(description, lambda: [self._comm.Ialltoallv(
            [send, (send_counts, split_offsets(send_counts))], [received, (receive_counts, split_offsets(receive_counts))])],
            finish, output_tensors)

    def alltoall_base(self, output_tensor, input_tensor, output_split_sizes, input_split_sizes):
        """``all_to_all_single``: split ``input_tensor`` along dim 0 (evenly, or by
        ``input_split_sizes``), send piece j to rank j, concatenate what arrives into ``output_tensor``."""
        check_split_sizes(input_split_sizes, input_tensor, self.size())
        check_split_sizes(output_split_sizes, output_tensor, self.size())
        send_counts = split_counts(input_split_sizes, input_tensor, self.size())
        receive_counts = split_counts(output_split_sizes, output_tensor, self.size())
        description = self._describe("all_to_all_single", input_tensor)
        output, device_array = host_buffer(output_tensor, write=True)
        host, _ = host_buffer(input_tensor, write=False)
        host = _separate(host, output)
        return self._start(description, lambda: [self._comm.Ialltoallv(
            [host, (send_counts, split_offsets(send_counts))], [output, (receive_counts, split_offsets(receive_counts))])],
            lambda work: write_back(output, device_array), [output_tensor])

    def reduce_scatter(self, output_tensor, input_tensors, op):
        """List form: reduce ``input_tensors[i]`` across the group into rank i's ``output_tensor``."""
        if len(input_tensors) != self.size():
            raise RuntimeError("Reduce scatter: number of input tensors should equal to the world size")
        check_same_size_and_type(output_tensor, input_tensors)
        for tensor in input_tensors:
            check_tensor(tensor)
        description = self._describe("reduce_scatter", output_tensor)
        output, device_array = host_buffer(output_tensor, write=True)
        send = np.concatenate([backend.to_numpy(t._data).reshape(-1) for t in input_tensors])
        mpi_op = mpi_reduction(self._MPI, op, send.dtype)
        size = self.size()

        def finish(work):
            if op is ReduceOp.AVG:
                divide_in_place(output, size)
            write_back(output, device_array)

        return self._start(description, lambda: [self._comm.Ireduce_scatter_block(send, output, op=mpi_op)],
                           finish, [output_tensor])

    # -- coalesced ----------------------------------------------------------------------------
    def allreduce_coalesced(self, tensors, op):
        """``all_reduce_coalesced``: the tensors packed into one buffer, one MPI_Iallreduce."""
        for tensor in tensors:
            host_buffer(tensor, write=True)  # the rules of a tensor MPI writes into
        description = self._describe("allreduce_coalesced", tensors[0])
        packed = pack(tensors)
        mpi_op = mpi_reduction(self._MPI, op, packed.dtype)
        size = self.size()

        def finish(work):
            if op is ReduceOp.AVG:
                divide_in_place(packed, size)
            unpack(packed, tensors)

        return self._start(description, lambda: [self._comm.Iallreduce(self._MPI.IN_PLACE, packed, op=mpi_op)],
                           finish, tensors)

    def allgather_coalesced(self, output_lists, inputs):
        """``all_gather_coalesced``: every rank's inputs packed into one buffer, one MPI_Iallgather."""
        check_coalesced_outputs(output_lists, inputs, self.size())
        for output_list in output_lists:
            for tensor in output_list:
                check_tensor(tensor)
        description = self._describe("allgather_coalesced", inputs[0])
        packed = pack(inputs)
        gathered = np.empty((self.size(), packed.size), dtype=packed.dtype)

        def finish(work):
            for output_list, row in zip(output_lists, gathered):
                unpack(row, output_list)

        outputs = [tensor for output_list in output_lists for tensor in output_list]
        return self._start(description, lambda: [self._comm.Iallgather(packed, gathered)], finish, outputs)

    # -- point to point -----------------------------------------------------------------------
    def send(self, tensor, dst, tag):
        self._check_peer("destination", dst)
        description = self._describe(f"send to rank {dst}", tensor)
        host, _ = host_buffer(tensor, write=False)
        return self._start(description, lambda: [self._comm.Isend(host, dest=dst, tag=tag)])

    def recv(self, tensor, src, tag):
        """Receive into ``tensor`` from group rank ``src`` (None: from any rank)."""
        MPI = self._MPI
        if src is not None:
            self._check_peer("source", src)
        origin = "any rank" if src is None else f"rank {src}"
        description = self._describe(f"recv from {origin}", tensor)
        host, device_array = host_buffer(tensor, write=True)
        status = MPI.Status()

        def finish(work):
            work._source_rank = status.Get_source()
            write_back(host, device_array)

        source = MPI.ANY_SOURCE if src is None else src
        return self._start(description, lambda: [self._comm.Irecv(host, source=source, tag=tag)], finish, [tensor], status)

    # -- groups -------------------------------------------------------------------------------
    def new_subgroup(self, ranks, timeout):
        """A ProcessGroupMPI over some of this (world) group's ranks; None on the other ranks.
        Collective: every rank of this group calls it."""
        whole = self._comm.Get_group()
        group = whole.Incl(ranks)
        comm = self._comm.Create(group)
        group.Free()
        whole.Free()
        if comm == self._MPI.COMM_NULL:
            return None
        return ProcessGroupMPI(self._MPI, comm, ranks, self._global_rank, timeout, self._backend_name)

    def with_communicator(self, comm, ranks, global_rank, timeout):
        """A group of this transport over ``comm`` (made by ``split_group`` or ``shrink_group``)."""
        return ProcessGroupMPI(self._MPI, comm, ranks, global_rank, timeout, self._backend_name)

    def shutdown(self):
        if self._comm != self._MPI.COMM_WORLD and self._comm != self._MPI.COMM_NULL:
            self._comm.Free()
