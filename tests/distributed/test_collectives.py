"""Every collective and point-to-point operation against NumPy on every dtype, with PyTorch's
argument rules, on ranks started through mpiexec (tests/distributed/workers/collectives.py)."""

import pytest

from .launch import run_ranks

CHECKS = [
    "all_reduce_every_dtype_and_op", "all_reduce_of_scalars_empty_and_noncontiguous_source", "reduction_rules",
    "broadcast_from_each_rank", "reduce_to_one_rank", "all_gather_into_a_list_and_into_a_tensor",
    "reduce_scatter_each_op", "gather_and_scatter", "point_to_point_ring", "async_work_handles", "argument_rules",
    "subgroups", "destroy_and_init_again",
]


@pytest.mark.slow
@pytest.mark.parametrize("backend, device, nprocs", [
    ("mpi", "cpu", 3),  # an odd size: subgroups of two, uneven rings
    ("mpi", "cuda", 2),  # CUDA tensors through host memory, on the CuPy stand-in
    ("nccl", "cuda", 2),  # the NCCL transport on the CuPy stand-in and tests/distributed/fake_nccl.py
])
def test_every_operation_on_every_dtype(backend, device, nprocs):
    result = run_ranks("collectives.py", nprocs, backend, device, fake_cuda=device == "cuda")
    passed = [line.split()[1] for line in result.stdout.splitlines() if line.startswith("ok ")]
    assert passed == CHECKS
