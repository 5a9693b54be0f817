"""DistributedDataParallel against one process training on the whole batch. Run by
tests/distributed/test_ddp.py through mpiexec:

    mpiexec -n N python ddp.py BACKEND DEVICE

Every rank also trains the single-process reference itself (same start, all ranks' data), so it
can compare its replica with it without asking anyone.
"""

import datetime
import math
import sys

import numpy as np

import tinytorch as torch
import tinytorch.distributed as dist
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tinytorch.nn.parallel import DistributedDataParallel as DDP
from tinytorch.utils.data import DataLoader, DistributedSampler, TensorDataset

BACKEND, DEVICE = sys.argv[1], sys.argv[2]
dist.init_process_group(BACKEND, timeout=datetime.timedelta(seconds=60))
RANK, SIZE = dist.get_rank(), dist.get_world_size()
checks = []


def check(function):
    checks.append(function)
    return function


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(6, 32), nn.Linear(32, 16), nn.Linear(16, 3)

    def forward(self, x):
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


def fresh_model(seed):
    torch.manual_seed(seed)
    return MLP().to(DEVICE)


def batches(step, per_rank=4):
    """Every rank's batch of one step (the same arrays on every rank)."""
    rng = np.random.default_rng(step)
    inputs = rng.standard_normal((SIZE, per_rank, 6)).astype(np.float32)
    labels = rng.integers(0, 3, (SIZE, per_rank))
    return inputs, labels


def to(array):
    return torch.tensor(array, device=DEVICE)


def assert_close(ours, theirs, rtol=2e-5, atol=2e-6):
    np.testing.assert_allclose(ours.detach().cpu().numpy(), theirs.detach().cpu().numpy(), rtol=rtol, atol=atol)


def same_on_every_rank(tensor):
    gathered = [torch.zeros_like(tensor) for _ in range(SIZE)]
    dist.all_gather(gathered, tensor.detach().contiguous())
    return all(torch.equal(g, gathered[0]) for g in gathered)


@check
def construction_copies_rank0_and_keeps_pytorchs_names():
    model = fresh_model(seed=100 + RANK)  # a different start on each rank
    rank0 = fresh_model(seed=100)
    ddp = DDP(model)
    assert ddp.module is model
    for (name, ours), (_, expected) in zip(model.named_parameters(), rank0.named_parameters()):
        assert torch.equal(ours, expected), name
    assert list(ddp.state_dict()) == ["module." + key for key in model.state_dict()]
    assert [name for name, _ in ddp.named_parameters()] == ["module." + name for name, _ in model.named_parameters()]


@check
def two_ranks_on_half_batches_match_one_process_on_the_whole_batch():
    for bucket_cap_mb in (None, 1e-6):  # one bucket for all, and one per parameter
        ddp = DDP(fresh_model(seed=1), bucket_cap_mb=bucket_cap_mb)
        reference = fresh_model(seed=1)
        if bucket_cap_mb is not None:
            assert len(ddp.reducer.buckets) == 6
        optimizer = torch.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
        reference_optimizer = torch.optim.SGD(reference.parameters(), lr=0.1, momentum=0.9)
        for step in range(5):
            inputs, labels = batches(step)
            optimizer.zero_grad()
            F.cross_entropy(ddp(to(inputs[RANK])), to(labels[RANK])).backward()
            optimizer.step()
            reference_optimizer.zero_grad()
            F.cross_entropy(reference(to(inputs.reshape(-1, 6))), to(labels.reshape(-1))).backward()
            reference_optimizer.step()
            for ours, theirs in zip(ddp.module.parameters(), reference.parameters()):
                assert_close(ours.grad, theirs.grad)
        for ours, theirs in zip(ddp.module.parameters(), reference.parameters()):
            assert_close(ours, theirs)
            assert same_on_every_rank(ours)


@check
def communication_starts_during_backward():
    """With a bucket per parameter, the last layer's all-reduce is in flight when the first layer's
    gradient arrives: backward has not finished."""
    ddp = DDP(fresh_model(seed=2), bucket_cap_mb=1e-6)
    first_bucket = ddp.reducer.buckets[0]
    assert first_bucket.params[0] is ddp.module.fc3.bias
    seen = []
    ddp.module.fc1.weight.register_post_accumulate_grad_hook(lambda p: seen.append(first_bucket.work is not None))
    inputs, labels = batches(0)
    F.cross_entropy(ddp(to(inputs[RANK])), to(labels[RANK])).backward()
    assert seen == [True]


@check
def no_sync_accumulates_locally_then_averages_the_sums():
    ddp = DDP(fresh_model(seed=3))
    reference = fresh_model(seed=3)
    steps = [batches(10 + k) for k in range(3)]
    with ddp.no_sync():
        for inputs, labels in steps[:2]:
            F.cross_entropy(ddp(to(inputs[RANK])), to(labels[RANK])).backward()
    local = ddp.module.fc1.weight.grad.clone()
    assert not same_on_every_rank(local)  # nothing was averaged yet
    inputs, labels = steps[2]
    F.cross_entropy(ddp(to(inputs[RANK])), to(labels[RANK])).backward()
    for inputs, labels in steps:
        F.cross_entropy(reference(to(inputs.reshape(-1, 6))), to(labels.reshape(-1))).backward()
    for ours, theirs in zip(ddp.module.parameters(), reference.parameters()):
        assert_close(ours.grad, theirs.grad)


class Branches(nn.Module):
    """``shared`` always, ``sometimes`` on rank 0 only, ``never`` on no rank."""

    def __init__(self):
        super().__init__()
        self.shared, self.sometimes, self.never = nn.Linear(4, 2), nn.Linear(4, 2), nn.Linear(4, 2)

    def forward(self, x, use_sometimes):
        out = self.shared(x)
        return out + self.sometimes(x) if use_sometimes else out


@check
def find_unused_parameters_averages_what_some_ranks_used():
    torch.manual_seed(4)
    ddp = DDP(Branches().to(DEVICE), find_unused_parameters=True)
    torch.manual_seed(4)
    reference = Branches().to(DEVICE)
    rng = np.random.default_rng(4)
    inputs = rng.standard_normal((SIZE, 3, 4)).astype(np.float32)
    for _ in range(2):  # twice: the reducer resets between iterations
        for p in ddp.parameters():
            p.grad = None
        ddp(to(inputs[RANK]), use_sometimes=RANK == 0).sum().backward()
    assert ddp.module.never.weight.grad is None  # no rank used it: left alone, as in PyTorch
    expected_shared = sum(reference.shared(to(inputs[r])).sum() for r in range(SIZE)) / SIZE
    expected_sometimes = reference.sometimes(to(inputs[0])).sum() / SIZE
    (expected_shared + expected_sometimes).backward()
    for name in ("shared", "sometimes"):
        assert_close(getattr(ddp.module, name).weight.grad, getattr(reference, name).weight.grad)


@check
def find_unused_parameters_counts_what_no_sync_steps_used():
    """A parameter only the last rank used, in a no_sync step, then none in the synced step: the
    synced backward still averages what it accumulated (the others count zero)."""
    torch.manual_seed(8)
    ddp = DDP(Branches().to(DEVICE), find_unused_parameters=True)
    torch.manual_seed(8)
    reference = Branches().to(DEVICE)
    x = torch.ones(2, 4, device=DEVICE)
    with ddp.no_sync():
        ddp(x, use_sometimes=RANK == SIZE - 1).sum().backward()
    ddp(x, use_sometimes=False).sum().backward()
    (reference.sometimes(x).sum() / SIZE).backward()
    assert_close(ddp.module.sometimes.weight.grad, reference.sometimes.weight.grad)
    assert ddp.module.never.weight.grad is None


@check
def an_unused_parameter_without_find_unused_parameters_is_reported():
    torch.manual_seed(5)
    ddp = DDP(Branches().to(DEVICE), bucket_cap_mb=1e-6)
    ddp(torch.ones(2, 4, device=DEVICE), use_sometimes=True).sum().backward()
    try:
        ddp(torch.ones(2, 4, device=DEVICE), use_sometimes=True)
    except RuntimeError as error:
        assert "Expected to have finished reduction in the prior iteration" in str(error)
        assert "find_unused_parameters=True" in str(error)
        assert f"Parameter indices which did not receive grad for rank {RANK}: 4 5" in str(error)
    else:
        raise AssertionError("the second forward did not raise")
    for bucket in ddp.reducer.buckets:  # let the all-reduces that did start finish
        if bucket.work is not None:
            bucket.work.wait()


class Scaled(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(3, 3)
        self.register_buffer("scale", torch.ones(3))

    def forward(self, x):
        return self.linear(x) * self.scale


@check
def buffers_follow_rank0_before_each_forward():
    for broadcast_buffers in (True, False):
        ddp = DDP(Scaled().to(DEVICE), broadcast_buffers=broadcast_buffers)
        ddp.module.scale.fill_(float(RANK + 1))
        ddp(torch.ones(2, 3, device=DEVICE)).sum().backward()
        assert ddp.module.scale.tolist() == [1.0 if broadcast_buffers else float(RANK + 1)] * 3


@check
def different_models_on_different_ranks_are_refused():
    torch.manual_seed(6)
    shaped = nn.Linear(3, 4 if RANK == 0 else 5).to(DEVICE)
    try:
        DDP(shaped)
    except RuntimeError as error:
        assert "appears not to match sizes of the same param in process" in str(error)
    else:
        raise AssertionError("different shapes were accepted")
    counted = nn.Sequential(*[nn.Linear(2, 2) for _ in range(1 + (RANK == 0))]).to(DEVICE)
    try:
        DDP(counted)
    except RuntimeError as error:
        assert "DDP expects same model across all ranks" in str(error)
    else:
        raise AssertionError("different parameter counts were accepted")


@check
def argument_rules():
    frozen = nn.Linear(2, 2).to(DEVICE).requires_grad_(False)
    for call, kind, text in [
        (lambda: DDP(frozen), RuntimeError, "doesn't have any parameter that requires a gradient"),
        (lambda: DDP(nn.Linear(2, 2).to(DEVICE), device_ids=[0, 1]), ValueError, "device_ids can only be None or contain a single element."),
        (lambda: DDP(nn.Linear(2, 2).to(DEVICE), mixed_precision=object()), NotImplementedError, "no mixed_precision"),
    ]:
        try:
            call()
        except kind as error:
            assert text in str(error), error
        else:
            raise AssertionError(f"no {kind.__name__}: {text}")
    if DEVICE == "cpu":
        try:
            DDP(nn.Linear(2, 2), device_ids=[0])
        except ValueError as error:
            assert "device_ids and output_device arguments only work with single-device/multiple-device GPU modules or CPU modules" in str(error)
        else:
            raise AssertionError("device_ids with a CPU module was accepted")


@check
def uneven_last_batches_with_distributed_sampler():
    """10 samples on SIZE ranks, batches of 3: the sampler pads so every rank runs as many steps;
    each step averages the ranks' mean losses, which equals one process on the step's union
    (the ranks' batches have equal sizes within a step)."""
    rng = np.random.default_rng(9)
    data = TensorDataset(to(rng.standard_normal((10, 6)).astype(np.float32)), to(rng.integers(0, 3, 10)))
    ddp = DDP(fresh_model(seed=7))
    reference = fresh_model(seed=7)
    optimizer = torch.optim.SGD(ddp.parameters(), lr=0.5)
    reference_optimizer = torch.optim.SGD(reference.parameters(), lr=0.5)
    samplers = [DistributedSampler(data, num_replicas=SIZE, rank=r, shuffle=True, seed=1) for r in range(SIZE)]
    for epoch in range(2):
        for sampler in samplers:
            sampler.set_epoch(epoch)
        loaders = [DataLoader(data, batch_size=3, sampler=sampler) for sampler in samplers]
        steps, last_batch = 0, None
        for per_rank in zip(*loaders):
            last_batch = len(per_rank[RANK][0])
            optimizer.zero_grad()
            inputs, labels = per_rank[RANK]
            F.cross_entropy(ddp(inputs), labels).backward()
            optimizer.step()
            reference_optimizer.zero_grad()
            whole_inputs = torch.cat([batch[0] for batch in per_rank])
            whole_labels = torch.cat([batch[1] for batch in per_rank])
            F.cross_entropy(reference(whole_inputs), whole_labels).backward()
            reference_optimizer.step()
            steps += 1
        per_rank_samples = math.ceil(10 / SIZE)
        assert len(samplers[RANK]) == per_rank_samples and steps == math.ceil(per_rank_samples / 3)
        assert last_batch == per_rank_samples - 3 * (steps - 1)
    for ours, theirs in zip(ddp.module.parameters(), reference.parameters()):
        assert_close(ours, theirs)


for function in checks:
    function()
    dist.barrier()
    if RANK == 0:
        print(f"ok {function.__name__}", flush=True)
dist.destroy_process_group()
