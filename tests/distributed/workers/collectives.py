"""Every collective and point-to-point operation against NumPy, on every dtype, on each rank.

Run by tests/distributed/test_collectives.py through mpiexec:
    mpiexec -n N python collectives.py BACKEND DEVICE
Each rank builds every rank's input from a seed, so it knows the expected result without asking
anyone. A failed check raises, the abort hook ends every rank, and the test sees the traceback.
"""

import datetime
import sys
import warnings

import numpy as np

import tinytorch as torch
import tinytorch.distributed as dist
from tinytorch.distributed import ReduceOp

BACKEND, DEVICE = sys.argv[1], sys.argv[2]
dist.init_process_group(BACKEND, timeout=datetime.timedelta(seconds=60))
RANK, SIZE = dist.get_rank(), dist.get_world_size()
DTYPES = [torch.float16, torch.float32, torch.float64, torch.int8, torch.int16, torch.int32, torch.int64,
          torch.uint8, torch.bool]
if BACKEND == "nccl":
    DTYPES.remove(torch.int16)  # NCCL has no 16-bit integers (checked below)
FLOATS = {torch.float16, torch.float32, torch.float64}
checks = []


def check(function):
    checks.append(function)
    return function


def values(rank, dtype, shape=(2, 3), seed=0):
    """Rank ``rank``'s input: small values, so sums and products of 4 ranks fit every dtype."""
    rng = np.random.default_rng(1000 * seed + rank)
    if dtype is torch.bool:
        return rng.integers(0, 2, shape).astype(bool)
    if dtype in FLOATS:
        return rng.integers(-8, 9, shape).astype(dtype.numpy) / 4  # exact in float16
    low = 0 if dtype is torch.uint8 else -3
    return rng.integers(low, 4, shape).astype(dtype.numpy)


def tensor(array):
    return torch.tensor(array, device=DEVICE)


def same(got, expected, dtype):
    got = got.cpu().numpy() if isinstance(got, torch.Tensor) else got
    assert got.dtype == dtype.numpy, (got.dtype, dtype)
    if dtype in FLOATS:
        np.testing.assert_allclose(got.astype(np.float64), expected.astype(np.float64), rtol=1e-3 if dtype is torch.float16 else 1e-6)
    else:
        np.testing.assert_array_equal(got, expected)


def expected_reduction(arrays, op, dtype):
    stack = np.stack(arrays)
    if dtype is torch.bool:
        table = {ReduceOp.SUM: np.any, ReduceOp.MAX: np.any, ReduceOp.BOR: np.any, ReduceOp.PRODUCT: np.all,
                 ReduceOp.MIN: np.all, ReduceOp.BAND: np.all, ReduceOp.BXOR: lambda s, axis: np.logical_xor.reduce(s, axis=axis)}
        return table[op](stack, axis=0)
    if op is ReduceOp.SUM:
        return stack.sum(0, dtype=dtype.numpy)
    if op is ReduceOp.AVG:
        if dtype in FLOATS:
            return (stack.astype(np.float64).sum(0) / SIZE).astype(dtype.numpy)
        return np.trunc(stack.astype(np.float64).sum(0) / SIZE).astype(dtype.numpy)  # towards zero, as NCCL
    if op is ReduceOp.PRODUCT:
        return stack.prod(0, dtype=dtype.numpy)
    if op is ReduceOp.MIN:
        return stack.min(0)
    if op is ReduceOp.MAX:
        return stack.max(0)
    return {ReduceOp.BAND: np.bitwise_and, ReduceOp.BOR: np.bitwise_or, ReduceOp.BXOR: np.bitwise_xor}[op].reduce(stack, axis=0)


def ops_for(dtype):
    ops = [ReduceOp.SUM, ReduceOp.PRODUCT, ReduceOp.MIN, ReduceOp.MAX]
    if dtype is not torch.bool:
        ops.append(ReduceOp.AVG)
    if dtype not in FLOATS and BACKEND == "mpi":
        ops += [ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR]
    return ops


def raises(kind, text, function, *args, **kwargs):
    try:
        function(*args, **kwargs)
    except kind as error:
        assert text in str(error), f"{kind.__name__} says {error!r}, expected {text!r}"
        return
    raise AssertionError(f"{function.__name__} did not raise {kind.__name__}({text!r})")


# -- collectives against NumPy ------------------------------------------------------------------
@check
def all_reduce_every_dtype_and_op():
    for dtype in DTYPES:
        for op in ops_for(dtype):
            t = tensor(values(RANK, dtype))
            assert dist.all_reduce(t, op=op) is None
            same(t, expected_reduction([values(r, dtype) for r in range(SIZE)], op, dtype), dtype)


@check
def all_reduce_of_scalars_empty_and_noncontiguous_source():
    t = tensor(np.array(float(RANK + 1), dtype=np.float32))
    dist.all_reduce(t)
    assert t.shape == () and t.item() == SIZE * (SIZE + 1) / 2
    empty = torch.zeros(0, 3, device=DEVICE)
    dist.all_reduce(empty)
    assert empty.shape == (0, 3)
    part = torch.zeros(4, 3, device=DEVICE)[1:3]  # a contiguous view into a bigger tensor: written in place
    part += RANK
    dist.all_reduce(part)
    assert part.tolist() == [[sum(range(SIZE))] * 3] * 2


@check
def reduction_rules():
    raises(TypeError, "Cannot use ReduceOp.AVG with boolean inputs", dist.all_reduce, tensor(np.ones(2, bool)), op=ReduceOp.AVG)
    if BACKEND == "mpi":
        raises(RuntimeError, "Cannot use ReduceOp.BAND with non-integral dtype", dist.all_reduce, torch.ones(2, device=DEVICE), op=ReduceOp.BAND)
    else:
        raises(ValueError, "Cannot use ReduceOp.BOR with NCCL", dist.all_reduce, torch.ones(2, device=DEVICE, dtype=torch.int32), op=ReduceOp.BOR)
        raises(TypeError, "not supported for NCCL process group: Short", dist.all_reduce, torch.ones(2, device=DEVICE, dtype=torch.int16))
    raises(TypeError, "op must be a tinytorch.distributed.ReduceOp", dist.all_reduce, torch.ones(2, device=DEVICE), op="sum")
    raises(ValueError, "PREMUL_SUM is not supported", dist.all_reduce, torch.ones(2, device=DEVICE), op=ReduceOp.PREMUL_SUM)


@check
def broadcast_from_each_rank():
    for dtype in DTYPES:
        for src in range(SIZE):
            t = tensor(values(RANK, dtype, seed=src + 1))
            dist.broadcast(t, src=src)
            same(t, values(src, dtype, seed=src + 1), dtype)
    t = torch.zeros(3, device=DEVICE)
    dist.broadcast(t, group_src=0)
    raises(ValueError, "Must specify global_rank or group_rank", dist.broadcast, t)
    raises(ValueError, "Can't specify both group_rank and global_rank", dist.broadcast, t, src=0, group_src=0)
    raises(ValueError, f"invalid root rank {SIZE}", dist.broadcast, t, src=SIZE)


@check
def reduce_to_one_rank():
    dst = SIZE - 1
    for dtype in DTYPES:
        for op in ops_for(dtype):
            mine = values(RANK, dtype, seed=7)
            t = tensor(mine)
            dist.reduce(t, dst=dst, op=op)
            if RANK == dst:
                same(t, expected_reduction([values(r, dtype, seed=7) for r in range(SIZE)], op, dtype), dtype)
            elif BACKEND == "mpi":
                same(t, mine, dtype)  # only the destination is written


@check
def all_gather_into_a_list_and_into_a_tensor():
    for dtype in DTYPES:
        everyone = [values(r, dtype, seed=3) for r in range(SIZE)]
        out = [torch.zeros(2, 3, dtype=dtype, device=DEVICE) for _ in range(SIZE)]
        dist.all_gather(out, tensor(everyone[RANK]))
        for got, expected in zip(out, everyone):
            same(got, expected, dtype)
        concatenated = torch.zeros(2 * SIZE, 3, dtype=dtype, device=DEVICE)
        dist.all_gather_into_tensor(concatenated, tensor(everyone[RANK]))
        same(concatenated, np.concatenate(everyone), dtype)
        stacked = torch.zeros(SIZE, 2, 3, dtype=dtype, device=DEVICE)
        dist.all_gather_into_tensor(stacked, tensor(everyone[RANK]))
        same(stacked, np.stack(everyone), dtype)
    # In place: the input is this rank's slice of the output, as FSDP-style code passes it.
    output = torch.zeros(SIZE, 4, device=DEVICE)
    output[RANK] = float(RANK)
    dist.all_gather_into_tensor(output, output[RANK])
    assert output.tolist() == [[float(r)] * 4 for r in range(SIZE)]


@check
def reduce_scatter_each_op():
    for dtype in DTYPES:
        for op in [ReduceOp.SUM, ReduceOp.MAX] + ([ReduceOp.AVG] if dtype is not torch.bool else []):
            everyone = [values(r, dtype, shape=(SIZE * 2, 3), seed=5) for r in range(SIZE)]
            out = torch.zeros(2, 3, dtype=dtype, device=DEVICE)
            dist.reduce_scatter_tensor(out, tensor(everyone[RANK]), op=op)
            same(out, expected_reduction(everyone, op, dtype)[2 * RANK: 2 * RANK + 2], dtype)


@check
def gather_and_scatter():
    root = 1 % SIZE
    for dtype in DTYPES:
        everyone = [values(r, dtype, seed=11) for r in range(SIZE)]
        outputs = [torch.zeros(2, 3, dtype=dtype, device=DEVICE) for _ in range(SIZE)] if RANK == root else None
        dist.gather(tensor(everyone[RANK]), outputs, dst=root)
        if RANK == root:
            for got, expected in zip(outputs, everyone):
                same(got, expected, dtype)
        received = torch.zeros(2, 3, dtype=dtype, device=DEVICE)
        pieces = [tensor(values(r, dtype, seed=13)) for r in range(SIZE)] if RANK == root else None
        dist.scatter(received, pieces, src=root)
        same(received, values(RANK, dtype, seed=13), dtype)
    t = torch.zeros(2, 3, device=DEVICE)
    if RANK == root:
        raises(ValueError, "Argument ``gather_list`` must be specified on destination rank.", dist.gather, t, None, dst=root)
        raises(ValueError, "Argument ``scatter_list`` must be specified on source rank.", dist.scatter, t, None, src=root)
        raises(RuntimeError, "Gather: number of output tensors should equal to the world size", dist.gather, t, [t], dst=root)
        raises(RuntimeError, "Scatter: number of input tensors should equal to the world size", dist.scatter, t, [t], src=root)
        raises(RuntimeError, "Tensors are not equal in size or data type", dist.gather, t, [torch.zeros(5, device=DEVICE)] * SIZE, dst=root)
    else:
        raises(ValueError, "Argument ``gather_list`` must NOT be specified on non-destination ranks.", dist.gather, t, [t], dst=root)
        raises(ValueError, "Argument ``scatter_list`` must NOT be specified on non-source ranks.", dist.scatter, t, [t], src=root)


@check
def point_to_point_ring():
    right, left = (RANK + 1) % SIZE, (RANK - 1) % SIZE
    for dtype in DTYPES:
        incoming = torch.zeros(2, 3, dtype=dtype, device=DEVICE)
        outgoing = tensor(values(RANK, dtype, seed=17))
        if BACKEND == "nccl" and RANK % 2 == 0:  # NCCL runs a rank's sends and receives in call order
            works = [dist.isend(outgoing, dst=right, tag=3), dist.irecv(incoming, src=left, tag=3)]
        else:
            works = [dist.irecv(incoming, src=left, tag=3), dist.isend(outgoing, dst=right, tag=3)]
        for work in works:
            work.wait()
        same(incoming, values(left, dtype, seed=17), dtype)
    # Blocking send/recv in turn, and a receive from any rank that learns who sent.
    if RANK == 0:
        for source in range(1, SIZE):
            box = torch.zeros(1, device=DEVICE)
            if BACKEND == "mpi":
                sender = dist.recv(box)
                assert box.item() == float(sender) and sender in range(1, SIZE)
            else:
                assert dist.recv(box, src=source) == source and box.item() == float(source)
    else:
        dist.send(torch.full((1,), float(RANK), device=DEVICE), dst=0)
    raises(ValueError, "Invalid destination rank: destination rank should not be the same as the rank of the current process.",
           dist.send, torch.zeros(1, device=DEVICE), dst=RANK)
    raises(ValueError, f"Invalid destination rank: {SIZE + 3}", dist.send, torch.zeros(1, device=DEVICE), dst=SIZE + 3)


@check
def async_work_handles():
    t = torch.full((1000,), float(RANK), device=DEVICE)
    work = dist.all_reduce(t, async_op=True)
    assert isinstance(work, dist.Work)
    assert work.wait() is True and work.is_completed() and work.is_success() and work.exception() is None
    assert t[0].item() == sum(range(SIZE))
    works = [dist.broadcast(torch.full((3,), float(RANK), device=DEVICE), src=r, async_op=True) for r in range(SIZE)]
    for src, work in enumerate(works):
        work.wait(timeout=datetime.timedelta(seconds=30))
        assert work.result()[0].tolist() == [float(src)] * 3
    work = dist.all_reduce(torch.ones(1, device=DEVICE), async_op=True)
    raises(TypeError, "timeout must be a datetime.timedelta", work.wait, 5)
    work.wait()
    work = dist.barrier(async_op=True)
    while not work.is_completed():
        pass


@check
def argument_rules():
    t = torch.ones(3, device=DEVICE)
    raises(TypeError, "Expected parameter `tensor` of type torch.Tensor", dist.all_reduce, np.ones(3))
    raises(TypeError, "Expected parameter `tensor_list` of type List[torch.Tensor]", dist.all_gather, (t, t), t)
    raises(TypeError, "with elements of type", dist.all_gather, [t, 1.0], t)
    raises(ValueError, "Invalid usage of tensors with different dtypes", dist.all_gather, [t, t.long()], t)
    raises(RuntimeError, "All gather: number of output tensors should equal to the world size", dist.all_gather, [t] * (SIZE + 1), t)
    raises(RuntimeError, "Tensors are not equal in size or data type", dist.all_gather, [torch.ones(4, device=DEVICE)] * SIZE, t)
    raises(TypeError, "output tensor must have the same type as input tensor", dist.all_gather_into_tensor, torch.zeros(3 * SIZE, dtype=torch.float64, device=DEVICE), t)
    raises(ValueError, "output tensor size must be equal to world_size times input tensor size", dist.all_gather_into_tensor, torch.zeros(3 * SIZE + 1, device=DEVICE), t)
    raises(TypeError, "input tensor must be the same type as the output tensor.", dist.reduce_scatter_tensor, t, torch.zeros(3 * SIZE, dtype=torch.int64, device=DEVICE))
    raises(ValueError, "input tensor must be the same size as output size times world size", dist.reduce_scatter_tensor, t, torch.zeros(3 * SIZE + 2, device=DEVICE))
    contiguous_error = "input tensor has to be contiguous" if BACKEND == "mpi" else "Tensors must be contiguous"
    raises(RuntimeError, contiguous_error, dist.all_reduce, torch.ones(3, 4, device=DEVICE).t())
    if BACKEND == "nccl":
        raises(RuntimeError, "No backend type associated with device type cpu", dist.all_reduce, torch.ones(3))
    raises(ValueError, "trying to initialize the default process group twice!", dist.init_process_group, BACKEND)
    raises(TypeError, "Expected timeout argument to be of type datetime.timedelta, got 5", dist.new_group, [0], timeout=5)
    raises(ValueError, "ranks list must not contain duplicate entries", dist.new_group, [0, 0])
    raises(ValueError, f"Rank {SIZE} is out of range", dist.new_group, [0, SIZE])
    raises(ValueError, "tinytorch.distributed has no 'gloo' backend", dist.new_group, [0], backend="gloo")
    assert dist.get_backend() == BACKEND and dist.Backend(BACKEND.upper()) == BACKEND
    assert dist.is_initialized() and dist.is_available()


@check
def subgroups():
    members = list(range(0, SIZE, 2)) if SIZE > 2 else [1]
    sub = dist.new_group(members)
    if RANK in members:
        assert dist.get_world_size(sub) == len(members) and dist.get_rank(sub) == members.index(RANK)
        assert dist.get_process_group_ranks(sub) == members
        assert dist.get_global_rank(sub, 0) == members[0] and dist.get_group_rank(sub, RANK) == members.index(RANK)
        t = torch.full((2,), float(RANK), device=DEVICE)
        dist.all_reduce(t, group=sub)
        assert t.tolist() == [float(sum(members))] * 2
        t = torch.full((2,), float(RANK), device=DEVICE)
        dist.broadcast(t, src=members[-1], group=sub)  # src is a global rank
        assert t.tolist() == [float(members[-1])] * 2
        dist.barrier(group=sub)
        raises(ValueError, "is not part of group", dist.get_group_rank, sub, next(r for r in range(SIZE) if r not in members))
    else:
        assert sub == dist.GroupMember.NON_GROUP_MEMBER
        assert dist.get_rank(sub) == -1 and dist.get_world_size(sub) == -1
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert dist.all_reduce(torch.ones(1, device=DEVICE), group=sub) is None
        assert "does not belong to the given group" in str(caught[0].message)
    # Collectives on the whole world still line up after the subgroup's.
    t = torch.ones(1, device=DEVICE)
    dist.all_reduce(t)
    assert t.item() == SIZE
    if sub != dist.GroupMember.NON_GROUP_MEMBER:
        dist.destroy_process_group(sub)


@check
def destroy_and_init_again():
    dist.destroy_process_group()
    assert not dist.is_initialized()
    raises(ValueError, "Default process group has not been initialized", dist.get_rank)
    raises(ValueError, "Default process group has not been initialized", dist.all_reduce, torch.ones(1, device=DEVICE))
    dist.init_process_group(BACKEND, timeout=datetime.timedelta(seconds=60))
    t = torch.ones(1, device=DEVICE)
    dist.all_reduce(t)
    assert t.item() == SIZE


only = sys.argv[3:]  # names of checks to run (all by default)
for function in checks:
    if only and function.__name__ not in only:
        continue
    function()
    dist.barrier()
    if RANK == 0:
        print(f"ok {function.__name__}", flush=True)
dist.destroy_process_group()
