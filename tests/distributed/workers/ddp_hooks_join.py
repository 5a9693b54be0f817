"""DistributedDataParallel's communication hooks and join (uneven inputs), on ranks started by
tests/distributed/test_ddp_hooks_join.py through mpiexec:

    mpiexec -n N python ddp_hooks_join.py BACKEND DEVICE [CHECK ...]   (the named checks only)

Every rank also computes the expected result itself from all ranks' data (same start), so it can
check its replica without asking anyone.
"""

import datetime
import sys

import numpy as np

import tinytorch as torch
import tinytorch.distributed as dist
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tinytorch.distributed.algorithms import Join, Joinable, JoinHook
from tinytorch.distributed.algorithms.ddp_comm_hooks import DDPCommHookType, default_hooks, register_ddp_comm_hook
from tinytorch.nn.parallel import DistributedDataParallel as DDP

BACKEND, DEVICE = sys.argv[1], sys.argv[2]
dist.init_process_group(BACKEND, timeout=datetime.timedelta(seconds=60))
RANK, SIZE = dist.get_rank(), dist.get_world_size()
checks = []


def check(function):
    checks.append(function)
    return function


class Net(nn.Module):
    """Two layers and a buffer (which DDP broadcasts before each forward, under join too)."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(5, 8), nn.Linear(8, 2)
        self.register_buffer("scale", torch.ones(2))

    def forward(self, x):
        return self.fc2(torch.tanh(self.fc1(x))) * self.scale


def fresh_model(seed):
    torch.manual_seed(seed)
    return Net().to(DEVICE)


def batch(step, rank, rows=3):
    """Rank ``rank``'s batch of step ``step`` (the same arrays on every rank)."""
    rng = np.random.default_rng(1000 * step + rank)
    return (torch.tensor(rng.standard_normal((rows, 5)).astype(np.float32), device=DEVICE),
            torch.tensor(rng.standard_normal((rows, 2)).astype(np.float32), device=DEVICE))


def assert_close(ours, theirs, rtol=2e-5, atol=2e-6):
    np.testing.assert_allclose(ours.detach().cpu().numpy(), theirs.detach().cpu().numpy(), rtol=rtol, atol=atol)


def same_on_every_rank(tensor):
    gathered = [torch.zeros_like(tensor) for _ in range(SIZE)]
    dist.all_gather(gathered, tensor.detach().contiguous())
    return all(torch.equal(g, gathered[0]) for g in gathered)


def train_steps(ddp, steps, lr=0.1):
    optimizer = torch.optim.SGD(ddp.parameters(), lr=lr)
    grads = []
    for step in range(steps):
        inputs, targets = batch(step, RANK)
        optimizer.zero_grad()
        F.mse_loss(ddp(inputs), targets).backward()
        grads.append([p.grad.clone() for p in ddp.module.parameters()])
        optimizer.step()
    return grads


@check
def allreduce_hook_gives_the_gradients_of_no_hook():
    for bucket_cap_mb in (None, 1e-6):  # one bucket, and one per parameter
        plain = DDP(fresh_model(1), bucket_cap_mb=bucket_cap_mb)
        hooked = DDP(fresh_model(1), bucket_cap_mb=bucket_cap_mb)
        seen = []

        def recording_hook(state, bucket):
            assert bucket.buffer().numel() == sum(g.numel() for g in bucket.gradients())
            for gradient, param in zip(bucket.gradients(), bucket.parameters()):
                assert gradient.shape == param.shape and any(param is p for p in state["params"])
            state["seen"].append((bucket.index(), bucket.is_last()))
            return default_hooks.allreduce_hook(None, bucket)

        hooked.register_comm_hook({"seen": seen, "params": list(hooked.module.parameters())}, recording_hook)
        for ours, theirs in zip(train_steps(hooked, 3), train_steps(plain, 3)):
            for mine, expected in zip(ours, theirs):
                assert_close(mine, expected, rtol=1e-6, atol=1e-7)
        count = len(hooked.reducer.buckets)
        assert count == (1 if bucket_cap_mb is None else 4)
        assert seen == [(i, i == count - 1) for i in range(count)] * 3, seen
        for ours, theirs in zip(hooked.module.parameters(), plain.module.parameters()):
            assert_close(ours, theirs, rtol=1e-6, atol=1e-7)
            assert same_on_every_rank(ours)


@check
def fp16_compress_hook_is_close_to_no_hook():
    plain = DDP(fresh_model(2))
    compressed = DDP(fresh_model(2))
    register_ddp_comm_hook(DDPCommHookType.FP16_COMPRESS, compressed, dist.group.WORLD)
    for ours, theirs in zip(train_steps(compressed, 3), train_steps(plain, 3)):
        for mine, expected in zip(ours, theirs):
            assert mine.dtype == torch.float32
            assert_close(mine, expected, rtol=2e-3, atol=2e-4)
    for param in compressed.module.parameters():
        assert same_on_every_rank(param)


@check
def a_hook_that_does_not_communicate_leaves_local_gradients():
    """The hook's result is what lands in .grad: a hook returning the bucket unreduced gives
    each rank the gradient of its own batch."""
    ddp = DDP(fresh_model(3))
    reference = fresh_model(3)

    def local(state, bucket):
        future = torch.futures.Future()
        future.set_result(bucket.buffer())
        return future

    ddp.register_comm_hook(None, local)
    inputs, targets = batch(0, RANK)
    F.mse_loss(ddp(inputs), targets).backward()
    F.mse_loss(reference(inputs), targets).backward()
    for ours, theirs in zip(ddp.module.parameters(), reference.parameters()):
        assert_close(ours.grad, theirs.grad)


@check
def hook_errors():
    ddp = DDP(fresh_model(4))
    ddp.register_comm_hook(None, lambda state, bucket: None)
    try:
        ddp.register_comm_hook(None, default_hooks.allreduce_hook)
    except RuntimeError as error:
        assert str(error) == "register_comm_hook or register_builtin_comm_hook can only be called once.", error
    else:
        raise AssertionError("a second hook was accepted")
    inputs, targets = batch(0, RANK)
    try:  # PyTorch crashes here (a segmentation fault): a clear error instead, before any communication
        F.mse_loss(ddp(inputs), targets).backward()
    except RuntimeError as error:
        assert "must return a torch.futures.Future object, but got builtins.NoneType" in str(error), error
    else:
        raise AssertionError("a hook returning None was accepted")


def uneven_run(divide_by_initial_world_size, hook=None, find_unused_parameters=False):
    """Rank r has r + 2 batches; every rank's parameters after the join, and the expected ones."""
    ddp = DDP(fresh_model(5), find_unused_parameters=find_unused_parameters)
    if hook is not None:
        ddp.register_comm_hook(None, hook)
    optimizer = torch.optim.SGD(ddp.parameters(), lr=0.2)
    with ddp.join(divide_by_initial_world_size=divide_by_initial_world_size):
        for step in range(RANK + 2):
            inputs, targets = batch(step, RANK)
            optimizer.zero_grad()
            F.mse_loss(ddp(inputs), targets).backward()
            optimizer.step()
    # By hand: at step k the ranks still training are those with more than k batches; the
    # gradient is the sum of their gradients over SIZE, or over how many they are.
    reference = fresh_model(5)
    reference_optimizer = torch.optim.SGD(reference.parameters(), lr=0.2)
    for step in range(SIZE + 1):
        active = [r for r in range(SIZE) if step < r + 2]
        reference_optimizer.zero_grad()
        losses = [F.mse_loss(reference(batch(step, r)[0]), batch(step, r)[1]) for r in active]
        (sum(losses) / (SIZE if divide_by_initial_world_size else len(active))).backward()
        reference_optimizer.step()
    return ddp, reference


@check
def uneven_inputs_divide_by_the_initial_world_size():
    ddp, reference = uneven_run(divide_by_initial_world_size=True)
    for ours, theirs in zip(ddp.module.parameters(), reference.parameters()):
        assert_close(ours, theirs)
        assert same_on_every_rank(ours)


@check
def uneven_inputs_divide_by_the_ranks_still_training():
    ddp, reference = uneven_run(divide_by_initial_world_size=False)
    for ours, theirs in zip(ddp.module.parameters(), reference.parameters()):
        assert_close(ours, theirs)
        assert same_on_every_rank(ours)
    other, _ = uneven_run(divide_by_initial_world_size=True)
    assert not torch.allclose(ddp.module.fc1.weight, other.module.fc1.weight)  # the two settings differ


@check
def uneven_inputs_with_unused_parameter_detection_and_a_hook():
    for hook, unused in ((None, True), (default_hooks.allreduce_hook, False)):
        ddp, reference = uneven_run(divide_by_initial_world_size=True, hook=hook, find_unused_parameters=unused)
        for ours, theirs in zip(ddp.module.parameters(), reference.parameters()):
            assert_close(ours, theirs)


@check
def throw_on_early_termination_raises_on_every_rank():
    ddp = DDP(fresh_model(6))
    steps = 0
    try:
        with ddp.join(throw_on_early_termination=True):
            for step in range(RANK + 2):
                inputs, targets = batch(step, RANK)
                F.mse_loss(ddp(inputs), targets).backward()
                steps += 1
    except RuntimeError as error:
        expected = ("Rank 0 exhausted all inputs." if RANK == 0
                    else "Detected at least one rank that exhausted inputs. Throwing across all ranks.")
        assert str(error) == expected, error
    else:
        raise AssertionError(f"rank {RANK} did not raise")
    assert steps == 2  # every rank stops when the first one (rank 0, 2 batches) runs out


class Counter(Joinable):
    """A joinable of our own: one all-reduce per iteration, shadowed with zeros once joined."""

    def __init__(self):
        super().__init__()
        self.total, self.shadowed, self.last_joiner = 0.0, 0, None

    def step(self, value):
        Join.notify_join_context(self)
        contribution = torch.tensor([value], device=DEVICE)
        dist.all_reduce(contribution)
        self.total += contribution.item()

    def join_hook(self, **kwargs):
        counter = self

        class Hook(JoinHook):
            def main_hook(self):
                counter.shadowed += 1
                dist.all_reduce(torch.zeros(1, device=DEVICE))

            def post_hook(self, is_last_joiner):
                counter.last_joiner = is_last_joiner

        return Hook()

    @property
    def join_device(self):
        return torch.device(DEVICE)

    @property
    def join_process_group(self):
        return dist.group.WORLD


@check
def join_runs_any_joinable():
    counter = Counter()
    with Join([counter]):
        for _ in range(RANK + 1):
            counter.step(1.0)
    assert counter.shadowed == SIZE - 1 - RANK
    assert counter.last_joiner == (RANK == SIZE - 1)
    # Iteration k sums 1 over the ranks with more than k steps.
    assert counter.total == sum(sum(1 for r in range(SIZE) if k < r + 1) for k in range(RANK + 1))


for function in [c for c in checks if c.__name__ in sys.argv[3:]] or checks:
    function()
    dist.barrier()
    if RANK == 0:
        print(f"ok {function.__name__}", flush=True)
dist.destroy_process_group()
