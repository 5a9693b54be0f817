"""What tinytorch.distributed says without its libraries, and the checks it makes before MPI starts
(these run in the test process and never start MPI)."""

import datetime
import sys

import pytest

import tinytorch
import tinytorch.distributed as dist


def test_missing_mpi4py_names_the_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # as if it were not installed
    assert not dist.is_available() and not dist.is_mpi_available()
    with pytest.raises(RuntimeError, match=r"pip install 'tinytorch\[mpi\]'"):
        dist.init_process_group("mpi")
    assert not dist.is_initialized()


@pytest.mark.skipif(tinytorch.cuda.is_available(), reason="CuPy with NCCL is installed here")
def test_nccl_without_cupy_names_the_extras_to_install():
    assert not dist.is_nccl_available() and not dist.is_backend_available("nccl")
    with pytest.raises(RuntimeError, match=r"needs CuPy with its NCCL bindings .*pip install 'tinytorch\[cuda12\]'"):
        dist.init_process_group("nccl")
    assert not dist.is_initialized()


def test_arguments_checked_before_mpi_starts():
    with pytest.raises(ValueError, match="tinytorch.distributed has no 'gloo' backend: use 'mpi'"):
        dist.init_process_group("gloo")
    with pytest.raises(TypeError, match="Expected timeout argument to be of type datetime.timedelta, got 30"):
        dist.init_process_group("mpi", timeout=30)
    with pytest.raises(AssertionError, match="Cannot specify both init_method and store."):
        dist.init_process_group("mpi", init_method="env://", store=object())
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        dist.get_world_size()
    with pytest.raises(AssertionError, match="Process group cannot be None"):
        dist.destroy_process_group()
    assert dist.get_rank(dist.GroupMember.NON_GROUP_MEMBER) == -1
    assert dist.group.WORLD is None and not dist.is_initialized()


def test_names_and_constants_are_pytorchs():
    torch = pytest.importorskip("torch")
    for name in ["SUM", "AVG", "PRODUCT", "MIN", "MAX", "BAND", "BOR", "BXOR", "PREMUL_SUM"]:
        assert getattr(dist.ReduceOp, name).value == getattr(torch.distributed.ReduceOp, name).value
        assert str(getattr(dist.ReduceOp, name)) == str(getattr(torch.distributed.ReduceOp, name))
    assert dist.default_pg_timeout == torch.distributed.default_pg_timeout == datetime.timedelta(minutes=30)
    assert dist.Backend("MPI") == torch.distributed.Backend("MPI") == "mpi"
    assert dist.GroupMember.NON_GROUP_MEMBER == torch.distributed.GroupMember.NON_GROUP_MEMBER
    assert issubclass(dist.DistBackendError, dist.DistError) and issubclass(dist.DistError, RuntimeError)
