"""DistributedDataParallel on ranks started through mpiexec (tests/distributed/workers/ddp.py):
the same parameters as one process on the whole batch, no_sync, unused parameters, buffers,
uneven last batches; and the post-accumulate-grad hook it stands on."""

import pytest

import tinytorch

from .launch import run_ranks

CHECKS = [
    "construction_copies_rank0_and_keeps_pytorchs_names", "two_ranks_on_half_batches_match_one_process_on_the_whole_batch",
    "communication_starts_during_backward", "no_sync_accumulates_locally_then_averages_the_sums",
    "find_unused_parameters_averages_what_some_ranks_used", "find_unused_parameters_counts_what_no_sync_steps_used",
    "an_unused_parameter_without_find_unused_parameters_is_reported",
    "buffers_follow_rank0_before_each_forward", "different_models_on_different_ranks_are_refused", "argument_rules",
    "uneven_last_batches_with_distributed_sampler",
]


@pytest.mark.slow
@pytest.mark.parametrize("backend, device, nprocs", [
    ("mpi", "cpu", 2),
    ("mpi", "cpu", 3),  # 10 samples do not split evenly: padded last batches
    ("nccl", "cuda", 2),  # on the CuPy stand-in and tests/distributed/fake_nccl.py
])
def test_ddp_matches_one_process(backend, device, nprocs):
    result = run_ranks("ddp.py", nprocs, backend, device, fake_cuda=device == "cuda")
    passed = [line.split()[1] for line in result.stdout.splitlines() if line.startswith("ok ")]
    assert passed == CHECKS


def test_post_accumulate_grad_hook_fires_once_per_backward_in_backward_order():
    """DDP's reducer relies on it: one call per parameter and backward, after the contributions of
    every use are summed into .grad, in the order backward reaches the parameters."""
    first, second = tinytorch.ones(3, requires_grad=True), tinytorch.ones(3, requires_grad=True)
    calls = []
    first.register_post_accumulate_grad_hook(lambda p: calls.append(("first", p.grad.tolist())))
    second.register_post_accumulate_grad_hook(lambda p: calls.append(("second", p.grad.tolist())))
    hidden = (first * 2).exp()
    ((hidden * second).sum() + (first * 3).sum()).backward()
    e2 = 2.718281828459045 ** 2
    assert [name for name, _ in calls] == ["second", "first"]
    assert calls[0][1] == pytest.approx([e2] * 3, rel=1e-6)
    assert calls[1][1] == pytest.approx([2 * e2 + 3] * 3, rel=1e-6)
    first.grad = None
    (first * 5).sum().backward()
    assert calls[-1] == ("first", [5.0] * 3) and len(calls) == 3
