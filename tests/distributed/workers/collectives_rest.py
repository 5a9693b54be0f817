"""The single-tensor and coalesced collectives, backend configuration, record_comm, split_group
and shrink_group, checked on each rank against expectations derived by hand from PyTorch's
semantics (torch cannot run several ranks here).

Run by tests/distributed/test_distributed_rest.py: mpiexec -n N python collectives_rest.py BACKEND DEVICE
"""

import datetime
import sys
import warnings

import tinytorch as torch
import tinytorch.distributed as dist

BACKEND, DEVICE = sys.argv[1], sys.argv[2]
dist.init_process_group(BACKEND, timeout=datetime.timedelta(seconds=60))
RANK, SIZE = dist.get_rank(), dist.get_world_size()
checks = []


def check(function):
    checks.append(function)
    return function


def raises(error_type, text, function, *args, **kwargs):
    try:
        function(*args, **kwargs)
    except error_type as error:
        assert text in str(error), (text, str(error))
        return
    raise AssertionError(f"expected {error_type.__name__} containing {text!r}")


def deprecated(name, function, *args, **kwargs):
    """Call ``function``, which must warn FutureWarning naming ``name``; its result."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = function(*args, **kwargs)
    assert [w.category for w in caught] == [FutureWarning] and f"torch.distributed.{name}" in str(caught[0].message), \
        [str(w.message) for w in caught]
    return result


def full(shape, value, dtype=torch.float32):
    return torch.full(shape, value, dtype=dtype, device=DEVICE)


@check
def single_tensor_collectives():
    # all_gather_single: rank r contributes [r*10, r*10+1]; concatenated and stacked forms.
    mine = torch.tensor([RANK * 10.0, RANK * 10.0 + 1], device=DEVICE)
    expected = [v for r in range(SIZE) for v in (r * 10.0, r * 10.0 + 1)]
    flat = full((2 * SIZE,), -1.0)
    assert dist.all_gather_single(flat, mine) is None and flat.tolist() == expected
    stacked = full((SIZE, 2), -1.0)
    work = dist.all_gather_single(stacked, mine, async_op=True)
    assert isinstance(work, dist.Work) and work.wait() and stacked.flatten().tolist() == expected
    old = full((2 * SIZE,), -1.0)
    deprecated("all_gather_into_tensor", dist.all_gather_into_tensor, old, mine)
    assert old.tolist() == expected
    # reduce_scatter_single: every rank gives [0, 1, ..., 2*SIZE-1] + RANK; rank r gets chunk r summed.
    source = torch.arange(2 * SIZE, dtype=torch.float32, device=DEVICE) + RANK
    offset = sum(range(SIZE))
    out = full((2,), 0.0)
    dist.reduce_scatter_single(out, source)
    assert out.tolist() == [SIZE * (2 * RANK) + offset, SIZE * (2 * RANK + 1) + offset], out.tolist()
    work = dist.reduce_scatter_single(out, source.reshape(SIZE, 2), op=dist.ReduceOp.MAX, async_op=True)
    work.wait()
    assert out.tolist() == [2 * RANK + SIZE - 1, 2 * RANK + 1 + SIZE - 1], out.tolist()
    deprecated("reduce_scatter_tensor", dist.reduce_scatter_tensor, out, source, op=dist.ReduceOp.MIN)
    assert out.tolist() == [2 * RANK, 2 * RANK + 1]
    raises(ValueError, "input tensor must be the same size as output size times world size",
           dist.reduce_scatter_single, out, full((2 * SIZE + 1,), 1.0))


@check
def all_reduce_coalesced_many_shapes():
    a, b, c = full((2, 3), RANK + 1.0), full((4,), 2.0 * RANK), full((), -RANK - 1.0)
    assert deprecated("all_reduce_coalesced", dist.all_reduce_coalesced, [a, b, c]) is None
    total = SIZE * (SIZE + 1) / 2
    assert a.tolist() == [[total] * 3] * 2 and b.tolist() == [2.0 * (total - SIZE)] * 4 and c.item() == -total
    ints = [torch.tensor([RANK, -RANK], dtype=torch.int64, device=DEVICE), torch.tensor([[RANK * 3]], dtype=torch.int64, device=DEVICE)]
    deprecated("all_reduce_coalesced", dist.all_reduce_coalesced, ints, op=dist.ReduceOp.MAX)
    assert ints[0].tolist() == [SIZE - 1, 0] and ints[1].tolist() == [[3 * (SIZE - 1)]]
    single = full((3,), float(RANK))
    deprecated("all_reduce_coalesced", dist.all_reduce_coalesced, single, op=dist.ReduceOp.AVG)
    assert single.tolist() == [(SIZE - 1) / 2] * 3
    # async_op: a future whose wait() gives the reduced tensors (PyTorch returns work.get_future()).
    x, y = full((1,), 1.0), full((2,), float(RANK))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        future = dist.all_reduce_coalesced([x, y], async_op=True)
        assert not isinstance(future, dist.Work)
        got = future.wait()
        assert [t.tolist() for t in got] == [[float(SIZE)], [total - SIZE] * 2] and future.done()
        assert future.then(lambda f: [t.sum().item() for t in f.value()]).wait() == [SIZE, 2 * (total - SIZE)]
        raises(ValueError, "different dtypes", dist.all_reduce_coalesced, [x, torch.zeros(1, dtype=torch.int64, device=DEVICE)])


@check
def all_gather_coalesced_many_shapes():
    inputs = [full((2, 2), float(RANK)), full((3,), RANK + 0.5)]
    outputs = [[full((2, 2), -1.0), full((3,), -1.0)] for _ in range(SIZE)]
    assert deprecated("all_gather_coalesced", dist.all_gather_coalesced, outputs, inputs) is None
    for r, (square, line) in enumerate(outputs):
        assert square.tolist() == [[float(r)] * 2] * 2 and line.tolist() == [r + 0.5] * 3, (r, square, line)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        ints = [[torch.zeros(1, dtype=torch.int32, device=DEVICE)] for _ in range(SIZE)]
        future = dist.all_gather_coalesced(ints, [torch.tensor([RANK * 7], dtype=torch.int32, device=DEVICE)], async_op=True)
        assert [t.item() for t in future.wait()] == [r * 7 for r in range(SIZE)]
        assert [t[0].item() for t in ints] == [r * 7 for r in range(SIZE)]
        raises(RuntimeError, "output lists should be equal to world size", dist.all_gather_coalesced, outputs[:1], inputs)
        raises(RuntimeError, "invalid output size: (expected length 2, got 1)", dist.all_gather_coalesced,
               [[full((2, 2), 0.0)] for _ in range(SIZE)], inputs)
        raises(RuntimeError, "invalid size of output tensor at index 1 (expected length (3), got (4))",
               dist.all_gather_coalesced, [[full((2, 2), 0.0), full((4,), 0.0)] for _ in range(SIZE)], inputs)
        raises(TypeError, "output_tensor_lists should be a list", dist.all_gather_coalesced, tuple(outputs), inputs)


@check
def configuration_and_record_comm():
    expected = "cpu:mpi,cuda:mpi" if BACKEND == "mpi" else "cuda:nccl"
    assert dist.get_backend_config() == expected and dist.get_backend_config(dist.group.WORLD) == expected
    sub = dist.new_group(list(range(SIZE)))
    assert dist.get_backend_config(sub) == expected
    dist.destroy_process_group(sub)
    t = full((1,), 1.0)
    with dist.record_comm("layer1 gradients"):
        work = dist.all_reduce(t, async_op=True)
        assert "layer1 gradients [all_reduce]" in repr(work), repr(work)
    work.wait()
    after = dist.all_reduce(t, async_op=True)
    assert "layer1" not in repr(after)
    after.wait()
    assert t.item() == SIZE * SIZE


@check
def split_group_by_parent_ranks():
    evens = [r for r in range(SIZE) if r % 2 == 0]
    odds = [r for r in range(SIZE) if r % 2 == 1]
    split = dist.split_group(split_ranks=[list(reversed(evens)), odds])
    members = evens if RANK % 2 == 0 else odds
    assert dist.get_process_group_ranks(split) == members and dist.get_rank(split) == members.index(RANK)
    assert dist.get_world_size(split) == len(members) and dist.get_backend(split) == BACKEND
    t = full((2,), float(RANK))
    dist.all_reduce(t, group=split)
    assert t.tolist() == [float(sum(members))] * 2
    count = dist.get_pg_count()
    # Split the split: ranks are the parent's group ranks; a rank in no split gets None.
    inner = dist.split_group(split, split_ranks=[[0]])
    if dist.get_rank(split) == 0:
        assert dist.get_process_group_ranks(inner) == [members[0]] and dist.get_pg_count() == count + 1
        dist.destroy_process_group(inner)
    else:
        assert inner is None and dist.get_pg_count() == count
    raises(ValueError, "the split group cannot have duplicate ranks", dist.split_group, split_ranks=[[0, 0]])
    raises(ValueError, "split_ranks cannot be None or empty", dist.split_group, split, [])
    dist.destroy_process_group(split)


@check
def shrink_a_subgroup():
    group = dist.new_group(list(range(SIZE)))
    raises(RuntimeError, f"Current rank {RANK} is in the exclusion list", dist.shrink_group, [RANK], group)
    raises(ValueError, f"Rank {SIZE} at index 1 is out of bounds for group size {SIZE}",
           dist.shrink_group, [(RANK + 1) % SIZE, SIZE], group)
    raises(ValueError, "Duplicate rank", dist.shrink_group, [(RANK + 1) % SIZE] * 2, group)
    raises(ValueError, f"Cannot exclude all {SIZE} ranks", dist.shrink_group, list(range(SIZE)), group)
    last = SIZE - 1
    if RANK == last:  # the excluded rank takes no part
        dist.destroy_process_group(group)
        return
    shrunk = dist.shrink_group([last], group=group)
    assert group not in dist.distributed_c10d._world.pg_map  # the original is destroyed
    assert dist.get_process_group_ranks(shrunk) == list(range(SIZE - 1)) and dist.get_rank(shrunk) == RANK
    t = full((1,), 1.0)
    dist.all_reduce(t, group=shrunk)
    assert t.item() == SIZE - 1
    dist.destroy_process_group(shrunk)


@check
def dropped_async_work_is_held_until_finished():
    """The caller drops an async all_reduce's Work and tensor: the group holds the Work (and the
    buffers MPI writes into) until it is seen finished, as PyTorch's process groups do."""
    import gc
    import weakref

    t = full((4096,), float(RANK + 1))
    work = dist.all_reduce(t, async_op=True)
    held, data = weakref.ref(work), weakref.ref(t)
    del work, t
    gc.collect()
    assert held() is not None and data() is not None
    held().wait()  # the group still has it; finished, it is let go at the group's next operation
    dist.all_reduce(full((1,), 1.0))
    gc.collect()
    if BACKEND == "mpi":  # NCCL's watchdog thread holds its Works too, and lets go on its own schedule
        assert held() is None


for function in checks:
    function()
    dist.barrier()
    if RANK == 0:
        print("ok", function.__name__, flush=True)

# Last: shrink the default group without rank 1. The others are renumbered (2 -> 1) and every
# other group is destroyed; rank 1 takes no part and only waits for the end of the job.
spare = dist.new_group(list(range(SIZE)))
if RANK != 1:
    world = dist.shrink_group([1])
    assert world is dist.group.WORLD and dist.get_pg_count() == 1, dist.get_pg_count()
    assert dist.get_world_size() == SIZE - 1 and dist.get_rank() == (RANK if RANK == 0 else RANK - 1)
    assert dist.get_process_group_ranks(world) == [r for r in range(SIZE) if r != 1]
    t = full((1,), float(RANK))
    dist.all_reduce(t)
    assert t.item() == sum(r for r in range(SIZE) if r != 1)
    if RANK == 0:
        print("ok shrink_the_default_group", flush=True)
else:
    dist.destroy_process_group(spare)
dist.destroy_process_group()
