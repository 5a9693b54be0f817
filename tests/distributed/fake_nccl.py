"""A stand-in for ``cupy.cuda.nccl`` on MPI, for the CuPy stand-in of ``tests/fake_cupy.py``.

CI has no GPU, so without this the ``nccl`` backend of ``tinytorch.distributed`` would only run
when a session is lent GPUs. The fake has the API of CuPy's NCCL bindings as CuPy documents it
(``get_unique_id``, ``NcclCommunicator(ndev, commId, rank)`` and its ``allReduce``, ``reduce``,
``bcast``, ``broadcast``, ``allGather``, ``reduceScatter``, ``send``, ``recv``, ``abort``,
``destroy``, ``check_async_error``; ``groupStart`` / ``groupEnd``; the ``NCCL_*`` constants), takes
device pointers (``array.data.ptr``) as CuPy does, and carries the data over MPI between the
ranks' host memory (a fake device array is host memory). Operations run at once: the "stream" is
the CPU, so every event is done when recorded. It checks what the backend calls and computes, not
streams or speed.

    mpiexec -n 2 python -m tests.distributed.fake_nccl SCRIPT ARGS
"""

import ctypes
import itertools
import runpy
import sys
import types

import numpy as np
from mpi4py import MPI

from tests import fake_cupy

available = True
NCCL_SUM, NCCL_PROD, NCCL_MAX, NCCL_MIN, NCCL_AVG = 0, 1, 2, 3, 4
NCCL_INT8 = NCCL_CHAR = 0
NCCL_UINT8 = 1
NCCL_INT32 = NCCL_INT = 2
NCCL_UINT32 = 3
NCCL_INT64 = 4
NCCL_UINT64 = 5
NCCL_FLOAT16 = NCCL_HALF = 6
NCCL_FLOAT32 = NCCL_FLOAT = 7
NCCL_FLOAT64 = NCCL_DOUBLE = 8
_DTYPES = {NCCL_INT8: np.int8, NCCL_UINT8: np.uint8, NCCL_INT32: np.int32, NCCL_UINT32: np.uint32,
           NCCL_INT64: np.int64, NCCL_UINT64: np.uint64, NCCL_FLOAT16: np.float16, NCCL_FLOAT32: np.float32,
           NCCL_FLOAT64: np.float64}
_OPS = {NCCL_SUM: MPI.SUM, NCCL_PROD: MPI.PROD, NCCL_MAX: MPI.MAX, NCCL_MIN: MPI.MIN, NCCL_AVG: MPI.SUM}
_RENDEZVOUS_TAG = 30000
_ids = itertools.count()


class NcclError(RuntimeError):
    def __init__(self, status):
        self.status = status
        super().__init__(f"NCCL_ERROR {status}")


def get_version():
    return 21903


def get_build_version():
    return 21903


def get_unique_id():
    """128 chars, as CuPy returns them; they name this rank (the root) and a counter, which is all
    the fake's rendezvous needs."""
    number, rank = next(_ids), MPI.COMM_WORLD.Get_rank()
    return (rank % 128, rank // 128, number % 128, number // 128) + (0,) * 124


def _host_array(pointer, count, datatype):
    """The memory behind a (fake) device pointer, as a NumPy array."""
    dtype = np.dtype(_DTYPES[datatype])
    if count == 0:
        return np.empty(0, dtype)
    raw = (ctypes.c_byte * (count * dtype.itemsize)).from_address(pointer)
    return np.ctypeslib.as_array(raw).view(dtype)


_group_depth = 0
_grouped = []  # (communicator, function, args) queued between groupStart and groupEnd


def groupStart():
    global _group_depth
    _group_depth += 1


def groupEnd():
    global _group_depth
    _group_depth -= 1
    if _group_depth == 0:
        requests = []
        for comm, kind, array, peer in _grouped:
            requests.append(comm.Isend(array, dest=peer) if kind == "send" else comm.Irecv(array, source=peer))
        _grouped.clear()
        MPI.Request.Waitall(requests)


class NcclCommunicator:
    """One rank's NCCL communicator: an MPI communicator over the ranks that share ``commId``."""

    def __init__(self, ndev, commId, rank):
        assert len(commId) == 128
        root = commId[0] + 128 * commId[1]
        tag = _RENDEZVOUS_TAG + (commId[2] + 128 * commId[3]) % 1000
        world = MPI.COMM_WORLD
        if rank == 0:
            members = {0: world.Get_rank()}
            for _ in range(ndev - 1):
                nccl_rank, world_rank = world.recv(source=MPI.ANY_SOURCE, tag=tag)
                members[nccl_rank] = world_rank
            world_ranks = [members[r] for r in range(ndev)]
            for world_rank in world_ranks[1:]:
                world.send(world_ranks, dest=world_rank, tag=tag)
        else:
            world.send((rank, world.Get_rank()), dest=root, tag=tag)
            world_ranks = world.recv(source=root, tag=tag)
        whole = world.Get_group()
        group = whole.Incl(world_ranks)
        self._comm = world.Create_group(group, tag)
        group.Free()
        whole.Free()
        self._rank, self._size = rank, ndev

    def rank_id(self):
        return self._rank

    def size(self):
        return self._size

    def device_id(self):
        return 0

    def check_async_error(self):
        pass

    def abort(self):
        self.destroy()

    def destroy(self):
        if self._comm is not None:
            self._comm.Free()
            self._comm = None

    def _average(self, array, op):
        if op == NCCL_AVG:
            if array.dtype.kind == "f":
                array /= self._size
            else:
                array[...] = np.trunc(array / self._size).astype(array.dtype)

    def allReduce(self, sendbuf, recvbuf, count, datatype, op, stream):
        receive = _host_array(recvbuf, count, datatype)
        send = MPI.IN_PLACE if sendbuf == recvbuf else _host_array(sendbuf, count, datatype)
        self._comm.Allreduce(send, receive, op=_OPS[op])
        self._average(receive, op)

    def reduce(self, sendbuf, recvbuf, count, datatype, op, root, stream):
        send = _host_array(sendbuf, count, datatype)
        if self._rank == root:
            receive = _host_array(recvbuf, count, datatype)
            self._comm.Reduce(MPI.IN_PLACE if sendbuf == recvbuf else send, receive, op=_OPS[op], root=root)
            self._average(receive, op)
        else:
            self._comm.Reduce(send, None, op=_OPS[op], root=root)

    def bcast(self, buff, count, datatype, root, stream):
        self._comm.Bcast(_host_array(buff, count, datatype), root=root)

    def broadcast(self, sendbuff, recvbuff, count, datatype, root, stream):
        receive = _host_array(recvbuff, count, datatype)
        if self._rank == root and sendbuff != recvbuff:
            receive[...] = _host_array(sendbuff, count, datatype)
        self._comm.Bcast(receive, root=root)

    def allGather(self, sendbuf, recvbuf, count, datatype, stream):
        send = _host_array(sendbuf, count, datatype).copy()  # NCCL allows it to lie inside recvbuf
        self._comm.Allgather(send, _host_array(recvbuf, count * self._size, datatype))

    def reduceScatter(self, sendbuf, recvbuf, recvcount, datatype, op, stream):
        send = _host_array(sendbuf, recvcount * self._size, datatype).copy()
        receive = _host_array(recvbuf, recvcount, datatype)
        self._comm.Reduce_scatter_block(send, receive, op=_OPS[op])
        self._average(receive, op)

    def send(self, sendbuf, count, datatype, peer, stream):
        array = _host_array(sendbuf, count, datatype)
        if _group_depth:
            _grouped.append((self._comm, "send", array, peer))
        else:
            self._comm.Send(array, dest=peer)

    def recv(self, recvbuf, count, datatype, peer, stream):
        array = _host_array(recvbuf, count, datatype)
        if _group_depth:
            _grouped.append((self._comm, "recv", array, peer))
        else:
            self._comm.Recv(array, source=peer)


# -- what the fake CuPy lacks for this: device pointers (its streams and events are fake_cupy's) --
def _data(array):
    return types.SimpleNamespace(ptr=array._a.__array_interface__["data"][0])


def install():
    """Install the fake CuPy with this module as ``cupy.cuda.nccl``."""
    fake_cupy.install()
    fake_cupy.ndarray.data = property(_data)
    module = sys.modules[__name__]
    fake_cupy.cuda.nccl = module
    sys.modules["cupy.cuda"] = fake_cupy.cuda
    sys.modules["cupy.cuda.nccl"] = module


if __name__ == "__main__":
    install()
    sys.argv = sys.argv[1:]
    runpy.run_path(sys.argv[0], run_name="__main__")
