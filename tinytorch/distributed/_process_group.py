"""``ProcessGroup``: a set of ranks that run collectives together, and what its transports share.

A transport (``_mpi.py``, ``_nccl.py``) subclasses ``ProcessGroup`` and writes one method per
operation; each validates what only the transport can (sizes, dtypes, devices, ranks) with
PyTorch's messages, starts the operation and returns a ``Work``. ``distributed_c10d.py`` does
the checks PyTorch does in Python before it reaches a backend.
"""

from ._errors import DistBackendError
from ._reduce_op import ReduceOp


class ProcessGroup:
    """A group of ranks and the transport that connects them (made by ``init_process_group``
    and ``new_group``; not constructed by users)."""

    def __init__(self, backend_name, ranks, global_rank, timeout):
        self._backend_name = backend_name
        self._ranks = list(ranks)  # global ranks, in group-rank order
        self._global_rank = global_rank
        self._group_rank = self._ranks.index(global_rank)
        self._timeout = timeout
        self._sequence = 0
        self._error = None
        self._in_flight = []  # the Works not yet seen finished (see _keep)

    def rank(self):
        """This process's rank within the group."""
        return self._group_rank

    def size(self):
        """The number of ranks in the group."""
        return len(self._ranks)

    def name(self):
        return self._backend_name

    def __repr__(self):
        return f"<tinytorch.distributed.ProcessGroup backend={self._backend_name} ranks={self._ranks} rank={self._group_rank}>"

    # -- what transports share ------------------------------------------------------------------
    def _check_usable(self):
        if self._error is not None:
            raise DistBackendError(
                f"[Rank {self._global_rank}] this process group is broken by an earlier error and cannot be used: "
                f"{self._error}"
            )

    def _keep(self, work):
        """Hold ``work`` until it is seen finished, as PyTorch's process groups hold theirs: a
        caller may drop the Work of an ``async_op=True`` operation, and the transport still writes
        into the buffers it references (freed with it, they would be reused under MPI's writes)."""
        self._in_flight = [w for w in self._in_flight if not w._done and not w.is_completed()]
        self._in_flight.append(work)

    def _break(self, error):
        """After a timeout the peers' state is unknown: refuse every later operation."""
        self._error = error

    def _describe(self, op_name, tensor=None):
        """The next operation's name for error messages, formatted only when one is shown:
        'all_reduce (SeqNum=4, numel=10, dtype=float32)'."""
        if self._error is not None:
            self._check_usable()
        self._sequence += 1
        return _Description(op_name, self._sequence, tensor)

    def _check_root(self, op_name, root):
        if not 0 <= root < self.size():
            raise ValueError(f"{op_name}: invalid root rank {root}: the group has ranks 0 to {self.size() - 1}")

    def _check_peer(self, kind, peer):
        if not 0 <= peer < self.size():
            raise ValueError(f"Invalid {kind} rank: {peer}: the group has ranks 0 to {self.size() - 1}")


def check_reduce_op(op, caller):
    if not isinstance(op, ReduceOp.RedOpType):
        raise TypeError(f"{caller}(): op must be a tinytorch.distributed.ReduceOp (ReduceOp.SUM, ...), got {op!r}")
    if op is ReduceOp.PREMUL_SUM:
        raise ValueError("ReduceOp.PREMUL_SUM is not supported by tinytorch.distributed")


def check_coalesced_outputs(output_lists, inputs, size):
    """ProcessGroupGloo's rules for ``all_gather_coalesced`` (RuntimeError, with its messages)."""
    prefix = "allgather_coalesced: "
    if len(output_lists) != size:
        raise RuntimeError(prefix + "output lists should be equal to world size")
    for output_list in output_lists:
        if len(output_list) != len(inputs):
            raise RuntimeError(prefix + f"invalid output size: (expected length {len(inputs)}, got {len(output_list)})")
        for index, (output, input) in enumerate(zip(output_list, inputs)):
            if output.dtype != input.dtype:
                raise RuntimeError(prefix + f"invalid tensor type at index {index} (expected {input.type()}, "
                                   f"got {output.type()})")
            if output.shape != input.shape:
                raise RuntimeError(prefix + f"invalid size of output tensor at index {index} (expected length "
                                   f"{_sizes(input.shape)}, got {_sizes(output.shape)})")


def _sizes(shape):
    return "(" + ", ".join(str(size) for size in shape) + ")"


def check_same_size_and_type(reference, tensors):
    """ProcessGroupMPI's rule for the tensors of a list-form gather or scatter."""
    for tensor in tensors:
        if tensor.numel() != reference.numel() or tensor.dtype != reference.dtype:
            raise RuntimeError("Tensors are not equal in size or data type")


# The name ``record_comm`` gives the collectives started inside it (None: their own names).
comm_profiling_name = [None]


class _Description:
    """An operation's name for messages; building the string waits until a message needs it (a
    collective on a small tensor takes a few microseconds, and formatting would add to them)."""

    __slots__ = ("op_name", "sequence", "tensor")

    def __init__(self, op_name, sequence, tensor):
        self.op_name, self.sequence, self.tensor = op_name, sequence, tensor
        if comm_profiling_name[0] is not None:
            self.op_name = f"{comm_profiling_name[0]} [{op_name}]"

    def __str__(self):
        details = f"SeqNum={self.sequence}"
        if self.tensor is not None:
            details += f", numel={self.tensor.numel()}, dtype={self.tensor.dtype.name}"
        return f"{self.op_name} ({details})"

    def __format__(self, spec):
        return format(str(self), spec)
