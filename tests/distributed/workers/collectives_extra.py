"""The object collectives, all-to-all, list-form reduce-scatter, batched point to point,
monitored_barrier and subgroups, checked on each rank against expectations derived by hand from
PyTorch's semantics (torch cannot run several ranks here).

Run by tests/distributed/test_collectives_extra.py: mpiexec -n N python collectives_extra.py
"""

import datetime
import time

import numpy as np

import tinytorch as torch
import tinytorch.distributed as dist

dist.init_process_group("mpi", timeout=datetime.timedelta(seconds=60))
RANK, SIZE = dist.get_rank(), dist.get_world_size()
checks = []


def check(function):
    checks.append(function)
    return function


def obj(rank):
    """A picklable object whose size differs per rank (padding must be cut off)."""
    return {"rank": rank, "name": "r" * (rank + 1), "data": list(range(rank * 3))}


@check
def object_collectives():
    gathered = [None] * SIZE
    dist.all_gather_object(gathered, obj(RANK))
    assert gathered == [obj(r) for r in range(SIZE)], gathered
    objects = [obj(7), "text", 3.5] if RANK == 1 else [None, None, None]
    dist.broadcast_object_list(objects, src=1)
    assert objects == [obj(7), "text", 3.5], objects
    target = [None] * SIZE if RANK == SIZE - 1 else None
    dist.gather_object(obj(RANK), target, dst=SIZE - 1)
    assert target == ([obj(r) for r in range(SIZE)] if RANK == SIZE - 1 else None), target
    output = [None]
    dist.scatter_object_list(output, [obj(10 + r) for r in range(SIZE)] if RANK == 0 else None, src=0)
    assert output == [obj(10 + RANK)], output
    for use_batch in (False, True):  # a ring: rank r sends to r+1
        if RANK % 2 == 0:
            dist.send_object_list([obj(RANK), {"x": use_batch}], dst=(RANK + 1) % SIZE, use_batch=use_batch)
            received = [None, None]
            sender = dist.recv_object_list(received, src=(RANK - 1) % SIZE, use_batch=use_batch)
        else:
            received = [None, None]
            sender = dist.recv_object_list(received, src=(RANK - 1) % SIZE, use_batch=use_batch)
            dist.send_object_list([obj(RANK), {"x": use_batch}], dst=(RANK + 1) % SIZE, use_batch=use_batch)
        assert sender == (RANK - 1) % SIZE and received == [obj(sender), {"x": use_batch}], (sender, received)


@check
def all_to_all_lists():
    # rank i sends [i*10 + j] * (j + 1) to rank j: rank j receives (i*10 + j) repeated j + 1 times from each i
    inputs = [torch.full((j + 1,), float(RANK * 10 + j)) for j in range(SIZE)]
    outputs = [torch.zeros(RANK + 1) for _ in range(SIZE)]
    assert dist.all_to_all(outputs, inputs) is None
    for i, output in enumerate(outputs):
        np.testing.assert_array_equal(output.numpy(), np.full(RANK + 1, i * 10 + RANK))


@check
def all_to_all_single_even_and_split():
    # even: input rows [RANK*100 + k], SIZE*2 rows of 3; rank j gets rows 2j, 2j+1 of every rank
    data = torch.tensor(np.arange(SIZE * 2 * 3, dtype=np.int64).reshape(SIZE * 2, 3) + RANK * 100)
    out = torch.zeros(SIZE * 2, 3, dtype=torch.int64)
    work = dist.all_to_all_single(out, data, async_op=True)
    work.wait()
    expected = np.concatenate([np.arange(SIZE * 6).reshape(SIZE * 2, 3)[2 * RANK:2 * RANK + 2] + i * 100
                               for i in range(SIZE)])
    np.testing.assert_array_equal(out.numpy(), expected)
    # uneven: rank i sends i + j + 1 rows to rank j, each row holding (i, j)
    input_splits = [RANK + j + 1 for j in range(SIZE)]
    rows = np.concatenate([np.tile([RANK, j], (RANK + j + 1, 1)) for j in range(SIZE)]).astype(np.float32)
    output_splits = [i + RANK + 1 for i in range(SIZE)]
    out = torch.zeros(sum(output_splits), 2)
    dist.all_to_all_single(out, torch.tensor(rows), output_splits, input_splits)
    expected = np.concatenate([np.tile([i, RANK], (i + RANK + 1, 1)) for i in range(SIZE)])
    np.testing.assert_array_equal(out.numpy(), expected)
    for bad, message in ((lambda: dist.all_to_all_single(torch.zeros(SIZE + 1), torch.zeros(SIZE + 1)), "divide equally"),
                         (lambda: dist.all_to_all_single(torch.zeros(3), torch.zeros(3), [1] * 3, [1] * (SIZE + 1)),
                          "Number of tensor splits"),
                         (lambda: dist.all_to_all_single(torch.zeros(SIZE), torch.zeros(SIZE), None, [2] * SIZE),
                          "Split sizes doesn't match")):
        try:
            bad()
        except RuntimeError as error:
            assert message in str(error), error
        else:
            raise AssertionError(f"expected RuntimeError({message})")


@check
def reduce_scatter_list():
    # rank i contributes input_list[j] = (i + 1) * (j + 1): rank j gets (j + 1) * sum(i + 1)
    total = SIZE * (SIZE + 1) // 2
    for op, expected in ((dist.ReduceOp.SUM, (RANK + 1) * total), (dist.ReduceOp.MAX, (RANK + 1) * SIZE)):
        output = torch.zeros(2, 2)
        dist.reduce_scatter(output, [torch.full((2, 2), float((RANK + 1) * (j + 1))) for j in range(SIZE)], op=op)
        np.testing.assert_array_equal(output.numpy(), np.full((2, 2), expected))
    try:
        dist.reduce_scatter(torch.zeros(2), [torch.zeros(2)] * (SIZE + 1))
    except RuntimeError as error:
        assert "number of input tensors" in str(error), error
    else:
        raise AssertionError("expected RuntimeError")


@check
def batch_send_and_receive_both_ways():
    right, left = (RANK + 1) % SIZE, (RANK - 1) % SIZE
    got_left, got_right = torch.zeros(3), torch.zeros(3)
    ops = [dist.P2POp(dist.isend, torch.full((3,), float(RANK)), right),
           dist.P2POp(dist.isend, torch.full((3,), float(RANK + 100)), left),
           dist.P2POp(dist.irecv, got_left, left), dist.P2POp(dist.irecv, got_right, right)]
    works = dist.batch_isend_irecv(ops)
    assert len(works) == 4
    for work in works:
        work.wait()
    if SIZE == 2:  # left == right: messages from one peer arrive in the order they were sent
        np.testing.assert_array_equal(got_left.numpy(), np.full(3, left))
        np.testing.assert_array_equal(got_right.numpy(), np.full(3, right + 100))
    else:
        np.testing.assert_array_equal(got_left.numpy(), np.full(3, left))
        np.testing.assert_array_equal(got_right.numpy(), np.full(3, right + 100))
    try:
        dist.batch_isend_irecv([ops[0], "not an op"])
    except ValueError as error:
        assert "P2POp" in str(error)
    else:
        raise AssertionError("expected ValueError")


@check
def monitored_barrier_and_subgroups():
    dist.monitored_barrier(timeout=datetime.timedelta(seconds=30))
    dist.monitored_barrier(wait_all_ranks=True)
    count = dist.get_pg_count()
    mine, groups = dist.new_subgroups_by_enumeration([[r] for r in range(SIZE)])
    assert len(groups) == SIZE and dist.get_process_group_ranks(mine) == [RANK]
    assert dist.get_pg_count() == count + 1  # this rank belongs to one of them
    if SIZE % 2 == 0:
        mine, groups = dist.new_subgroups(group_size=2)
        assert dist.get_process_group_ranks(mine) == [RANK - RANK % 2, RANK - RANK % 2 + 1]
        gathered = [None, None]
        dist.all_gather_object(gathered, RANK, group=mine)
        assert gathered == [RANK - RANK % 2, RANK - RANK % 2 + 1], gathered
    try:
        dist.new_subgroups(group_size=SIZE + 1)
    except ValueError as error:
        assert "must not exceed the world size" in str(error)
    else:
        raise AssertionError("expected ValueError")


@check
def monitored_barrier_names_the_missing_rank():
    # rank 0 waits 0.3 s for ranks that arrive late (after 2 s); it names them, then everyone syncs.
    if RANK == 0:
        try:
            dist.monitored_barrier(timeout=datetime.timedelta(seconds=0.3), wait_all_ranks=True)
        except RuntimeError as error:
            expected = ", ".join(str(r) for r in range(1, SIZE))
            assert f"Ranks {expected} failed to pass monitoredBarrier in 300 ms" in str(error), error
        else:
            raise AssertionError("expected RuntimeError")
    else:  # the late arrivals' reports complete rank 0's pending receives
        time.sleep(2)
        dist.send(torch.zeros(1, dtype=torch.uint8), dst=0, tag=32000)


for function in checks:
    function()
    dist.barrier()
    if RANK == 0:
        print("ok", function.__name__, flush=True)
dist.destroy_process_group()
