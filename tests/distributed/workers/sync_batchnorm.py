"""SyncBatchNorm on ranks started through mpiexec, against one BatchNorm over the whole batch. Run
by tests/nn/test_sync_batchnorm.py:

    mpiexec -n N python sync_batchnorm.py

Every rank also computes the single-process reference itself (the same global batch), so it can
compare without asking anyone. Rank 0 prints "ok NAME" per check every rank passed.
"""

import datetime

import numpy as np

import tinytorch as torch
import tinytorch.distributed as dist
import tinytorch.nn as nn

dist.init_process_group("mpi", timeout=datetime.timedelta(seconds=60))
RANK, SIZE = dist.get_rank(), dist.get_world_size()


def assert_close(ours, theirs, rtol=1e-10, atol=1e-12):
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=rtol, atol=atol)


def pair(shape, momentum=0.1, affine=True):
    sync = nn.SyncBatchNorm(shape[1], momentum=momentum, affine=affine, dtype=torch.float64)
    reference = nn.BatchNorm2d(shape[1], momentum=momentum, affine=affine, dtype=torch.float64) if len(shape) == 4 \
        else nn.BatchNorm1d(shape[1], momentum=momentum, affine=affine, dtype=torch.float64)
    if affine:
        with torch.no_grad():
            for module in (sync, reference):
                module.weight.copy_(torch.arange(1.0, shape[1] + 1, dtype=torch.float64) / 2)
                module.bias.copy_(torch.arange(shape[1], dtype=torch.float64) - 1)
    return sync, reference


def global_batch(shape, seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((SIZE * shape[0],) + shape[1:]) * 2 + 0.5, rng.standard_normal((SIZE * shape[0],) + shape[1:])


def step(sync, reference, x, g, rows):
    """One forward and backward of both on a batch: this rank's rows for SyncBatchNorm."""
    ours_input = torch.tensor(x[rows], requires_grad=True)
    ours = sync(ours_input)
    ours.backward(torch.tensor(g[rows]))
    theirs_input = torch.tensor(x, requires_grad=True)
    theirs = reference(theirs_input)
    theirs.backward(torch.tensor(g))
    assert_close(ours, theirs[rows])
    if ours_input.numel():
        assert_close(ours_input.grad, theirs_input.grad[rows])
    else:  # as PyTorch: no gradient for an empty batch, but the rank joined the all-reduce
        assert ours_input.grad is None
    return ours, theirs


def check_halves_match_one_batch_norm():
    for shape, momentum, affine in [((3, 4, 5, 2), 0.1, True), ((4, 3), None, True), ((2, 3, 7), 0.3, False)]:
        sync, reference = pair(shape, momentum, affine)
        rows = slice(RANK * shape[0], (RANK + 1) * shape[0])
        for seed in range(3):
            x, g = global_batch(shape, seed)
            step(sync, reference, x, g, rows)
            if affine:
                # The affine gradients stay per rank (DDP averages them): their sum is the whole batch's.
                for ours, theirs in ((sync.weight.grad, reference.weight.grad), (sync.bias.grad, reference.bias.grad)):
                    summed = ours.clone()
                    dist.all_reduce(summed)
                    assert_close(summed, theirs)
                    sync.zero_grad(), reference.zero_grad()
            assert_close(sync.running_mean, reference.running_mean)
            assert_close(sync.running_var, reference.running_var)
            assert int(sync.num_batches_tracked) == int(reference.num_batches_tracked) == seed + 1
        sync.eval(), reference.eval()
        x, _ = global_batch(shape, 9)
        assert_close(sync(torch.tensor(x[rows])), reference(torch.tensor(x))[rows])


def check_uneven_and_empty_batches():
    """Rank 0 holds 5 rows, the others 2 (the last one none when there are 3 ranks or more)."""
    sizes = [5] + [2] * (SIZE - 1)
    if SIZE > 2:
        sizes[-1] = 0
    starts = np.cumsum([0] + sizes)
    sync, reference = pair((1, 3, 4))
    x, g = global_batch((sum(sizes) // SIZE + 1, 3, 4), 5)
    x, g = x[:starts[-1]], g[:starts[-1]]
    step(sync, reference, x, g, slice(starts[RANK], starts[RANK + 1]))
    assert_close(sync.running_mean, reference.running_mean)
    assert_close(sync.running_var, reference.running_var)


def check_converted_model_under_ddp():
    """convert_sync_batchnorm then DistributedDataParallel: the same parameters after SGD steps as
    one process on the whole batch."""
    def model():
        torch.manual_seed(0)
        return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 9, 2)).double()

    reference = model()
    ddp = nn.parallel.DistributedDataParallel(nn.SyncBatchNorm.convert_sync_batchnorm(model()))
    optimizers = [torch.optim.SGD(m.parameters(), lr=0.1) for m in (ddp, reference)]
    for seed in range(3):
        x, _ = global_batch((3, 2, 3, 3), 20 + seed)
        for module, optimizer, batch in ((ddp, optimizers[0], x[RANK * 3:(RANK + 1) * 3]), (reference, optimizers[1], x)):
            optimizer.zero_grad()
            # A sum over the rows: DDP averages the ranks' gradients, so each rank's loss is scaled by SIZE.
            scale = SIZE if module is ddp else 1
            (module(torch.tensor(batch)).square().sum() * scale).backward()
            optimizer.step()
    for ours, theirs in zip(ddp.module.state_dict().values(), reference.state_dict().values()):
        assert_close(ours, theirs, rtol=1e-9, atol=1e-10)


for check in (check_halves_match_one_batch_norm, check_uneven_and_empty_batches, check_converted_model_under_ddp):
    check()
    dist.barrier()  # a rank that failed has aborted every rank by now (its uncaught error)
    if RANK == 0:  # one line per check: the ranks' output would interleave
        print("ok", check.__name__[len("check_"):], flush=True)
dist.destroy_process_group()
