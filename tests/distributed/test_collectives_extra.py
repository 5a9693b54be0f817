"""Object collectives, all-to-all, reduce_scatter, batch_isend_irecv, monitored_barrier and
subgroups on 2 and 3 ranks (tests/distributed/workers/collectives_extra.py), and the argument
rules PyTorch applies before communicating, compared with torch where it is installed."""

import pytest

import tinytorch as tt
import tinytorch.distributed as dist

from .launch import run_ranks

CHECKS = [
    "object_collectives", "all_to_all_lists", "all_to_all_single_even_and_split", "reduce_scatter_list",
    "batch_send_and_receive_both_ways", "monitored_barrier_and_subgroups", "monitored_barrier_names_the_missing_rank",
]


@pytest.mark.slow
@pytest.mark.parametrize("nprocs", [2, 3])
def test_extra_collectives_on_ranks(nprocs):
    result = run_ranks("collectives_extra.py", nprocs)
    assert [line.split()[1] for line in result.stdout.splitlines() if line.startswith("ok ")] == CHECKS


def _error(call):
    try:
        call()
    except Exception as error:  # noqa: BLE001  (the type is what is compared)
        return type(error), str(error).replace("tinytorch._tensor.Tensor", "torch.Tensor")
    return None


UNINITIALIZED = [
    ("all_gather_object", lambda d, t: d.all_gather_object([None], 1)),
    ("broadcast_object_list", lambda d, t: d.broadcast_object_list([1])),
    ("gather_object", lambda d, t: d.gather_object(1)),
    ("scatter_object_list", lambda d, t: d.scatter_object_list([None])),
    ("send_object_list", lambda d, t: d.send_object_list([1], dst=1)),
    ("all_to_all", lambda d, t: d.all_to_all([t.zeros(1)], [t.zeros(1)])),
    ("all_to_all_single", lambda d, t: d.all_to_all_single(t.zeros(2), t.zeros(2))),
    ("reduce_scatter", lambda d, t: d.reduce_scatter(t.zeros(1), [t.zeros(1)])),
    ("new_subgroups", lambda d, t: d.new_subgroups(group_size=1)),
    ("P2POp", lambda d, t: d.P2POp(d.isend, t.zeros(1), 1)),
]


@pytest.mark.parametrize("name, call", UNINITIALIZED, ids=[name for name, _ in UNINITIALIZED])
def test_without_init_raises_as_torch(name, call):
    got = _error(lambda: call(dist, tt))
    assert got is not None and got[0] is ValueError and "Default process group has not been initialized" in got[1]
    torch = pytest.importorskip("torch")
    assert got == _error(lambda: call(torch.distributed, torch))


ARGUMENTS = [
    ("reduce_scatter output", lambda d, t: d.reduce_scatter([t.zeros(1)], [t.zeros(1)])),
    ("reduce_scatter input_list", lambda d, t: d.reduce_scatter(t.zeros(1), t.zeros(1))),
    ("P2POp op", lambda d, t: d.P2POp(d.send, t.zeros(1), 1)),
    ("P2POp tensor", lambda d, t: d.P2POp(d.isend, [1], 1)),
    ("batch_isend_irecv list", lambda d, t: d.batch_isend_irecv(["op"])),
    ("subgroups empty", lambda d, t: d.new_subgroups_by_enumeration([])),
    ("subgroups size", lambda d, t: d.new_subgroups(group_size=0)),
    ("node local rank", lambda d, t: d.get_node_local_rank()),
    ("default backend", lambda d, t: d.get_default_backend_for_device("meta")),
]


@pytest.mark.parametrize("name, call", ARGUMENTS, ids=[name for name, _ in ARGUMENTS])
def test_argument_errors_match_torch(name, call, monkeypatch):
    monkeypatch.delenv("LOCAL_RANK", raising=False)
    got = _error(lambda: call(dist, tt))
    assert got is not None
    torch = pytest.importorskip("torch")
    assert got == _error(lambda: call(torch.distributed, torch))


def test_queries(monkeypatch):
    monkeypatch.setenv("LOCAL_RANK", "3")
    assert dist.get_node_local_rank() == 3
    monkeypatch.delenv("LOCAL_RANK")
    assert dist.get_node_local_rank(fallback_rank=2) == 2
    assert not dist.is_gloo_available() and not dist.is_ucc_available() and not dist.is_xccl_available()
    assert dist.get_pg_count() == 0
    assert [dist.supports_complex(op) for op in (dist.ReduceOp.SUM, dist.ReduceOp.MAX, dist.ReduceOp.AVG)] == [True, False, True]
    monkeypatch.delenv("TORCHELASTIC_RUN_ID", raising=False)
    assert not dist.is_torchelastic_launched()
    monkeypatch.setenv("TORCHELASTIC_RUN_ID", "x")
    assert dist.is_torchelastic_launched()
    assert dist.get_default_backend_for_device("cuda") == "nccl"
    assert dist.get_default_backend_for_device("cpu") == "mpi"  # torch: "gloo", which tinytorch lacks
    monkeypatch.setenv("TORCH_DISTRIBUTED_DEBUG", "detail")
    assert dist.get_debug_level() == dist.DebugLevel.DETAIL == 2
    monkeypatch.setenv("TORCH_DISTRIBUTED_DEBUG", "loud")
    with pytest.raises(ValueError, match="must be OFF, INFO, or DETAIL"):
        dist.get_debug_level()
