"""The rest of torch.distributed's names: all_gather_single/reduce_scatter_single, the deprecated
coalesced collectives, get_backend_config/BackendConfig, record_comm, split_group and
shrink_group on 2 and 3 ranks (tests/distributed/workers/collectives_rest.py), and in one
process: Store/HashStore/PrefixStore, reduce_op, GroupName and the argument errors, compared
with torch where it is installed."""

import datetime
import threading
import warnings

import pytest

import tinytorch as tt
import tinytorch.distributed as dist

from .launch import run_ranks

CHECKS = [
    "single_tensor_collectives", "all_reduce_coalesced_many_shapes", "all_gather_coalesced_many_shapes",
    "configuration_and_record_comm", "split_group_by_parent_ranks", "shrink_a_subgroup", "dropped_async_work_is_held_until_finished",
    "shrink_the_default_group",
]


@pytest.mark.slow
@pytest.mark.parametrize("backend, device, nprocs", [
    ("mpi", "cpu", 2),
    ("mpi", "cpu", 3),  # an odd size: uneven splits, a renumbered rank after the shrink
    ("nccl", "cuda", 2),  # the NCCL transport on the CuPy stand-in and tests/distributed/fake_nccl.py
])
def test_rest_on_ranks(backend, device, nprocs):
    result = run_ranks("collectives_rest.py", nprocs, backend, device, fake_cuda=device == "cuda")
    assert [line.split()[1] for line in result.stdout.splitlines() if line.startswith("ok ")] == CHECKS


def _torch_distributed():
    torch = pytest.importorskip("torch")
    return torch.distributed


def _outcome(call):
    """(result, exception type, message, warning categories) of ``call()``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result, error = call(), None
        except Exception as exception:  # noqa: BLE001  (the type is what is compared)
            result, error = None, exception
    message = str(error).replace("tinytorch._tensor.Tensor", "torch.Tensor").replace("tinytorch.", "torch.") if error else None
    return result, type(error), message, [w.category for w in caught]


# -- stores ---------------------------------------------------------------------------------------
def _store_session(d):
    """A run of every Store method on a HashStore and a PrefixStore over it; what each returned."""
    store = d.HashStore()
    prefixed = d.PrefixStore("job", store)
    nested = d.PrefixStore("inner", prefixed)
    steps = [
        lambda: store.set("a", "1"), lambda: store.get("a"), lambda: store.set("b", b"\xff\x00"), lambda: store.get("b"),
        lambda: store.add("n", 3), lambda: store.add("n", -5), lambda: store.get("n"), lambda: store.check(["a", "n"]),
        lambda: store.check(["a", "missing"]), lambda: store.num_keys(), lambda: store.compare_set("a", "1", "2"),
        lambda: store.compare_set("a", "1", "3"), lambda: store.compare_set("fresh", "", "v"),
        lambda: store.compare_set("absent", "x", "v"), lambda: store.check(["absent"]), lambda: store.delete_key("a"),
        lambda: store.delete_key("a"), lambda: store.num_keys(), lambda: prefixed.set("k", "v"), lambda: store.get("job/k"),
        lambda: prefixed.get("k"), lambda: prefixed.add("c", 2), lambda: store.get("job/c"), lambda: prefixed.check(["k"]),
        lambda: prefixed.num_keys(), lambda: nested.set("z", "1"), lambda: store.check(["job/inner/z"]),
        lambda: sorted(prefixed.list_keys()), lambda: sorted(store.list_keys()), lambda: prefixed.delete_key("k"),
        lambda: store.multi_get(["b", "n"]), lambda: store.multi_set(["m1", "m2"], ["x", b"y"]), lambda: store.get("m2"),
        lambda: store.append("m1", "z"), lambda: store.get("m1"), lambda: prefixed.append("new", "q"),
        lambda: prefixed.get("new"), lambda: store.has_extended_api(), lambda: prefixed.underlying_store is store,
        lambda: store.timeout, lambda: store.set_timeout(datetime.timedelta(seconds=7)), lambda: prefixed.timeout,
        lambda: store.add("b", 1),  # not an integer: ValueError
    ]
    return [_outcome(step)[:2] for step in steps]


def test_hash_and_prefix_store_match_torch():
    ours = _store_session(dist)
    assert ours[1][0] == b"1" and ours[4][0] == 3 and ours[-1][1] is ValueError
    assert _store_session(_torch_distributed()) == ours


@pytest.mark.parametrize("name", ["get", "wait"])
def test_store_wait_times_out_as_torch(name):
    def session(d):
        store = d.PrefixStore("p", d.HashStore())
        store.set_timeout(datetime.timedelta(milliseconds=50))
        call = (lambda: store.get("missing")) if name == "get" else (lambda: store.wait(["missing"]))
        _, error, message, _ = _outcome(call)
        explicit = _outcome(lambda: store.wait(["missing"], datetime.timedelta(milliseconds=20)))[1:3]
        return error.__name__, message, issubclass(error, d.DistError), explicit[0].__name__, explicit[1]

    ours = session(dist)
    assert ours == ("DistStoreError", "Wait timeout", True, "DistStoreError", "Wait timeout")
    assert session(_torch_distributed()) == ours


def test_store_wait_returns_when_another_thread_sets_the_key():
    store = dist.HashStore()
    setter = threading.Timer(0.05, store.set, ("late", "here"))
    setter.start()
    store.wait(["late"], datetime.timedelta(seconds=10))
    assert store.get("late") == b"here"
    setter.join()


STORE_ERRORS = [
    ("set key", lambda d: d.HashStore().set(1, "x")),
    ("set value", lambda d: d.HashStore().set("x", 1)),
    ("wait str", lambda d: d.HashStore().wait("a")),
    ("timeout", lambda d: d.HashStore().set_timeout(3)),
    ("add float", lambda d: d.HashStore().add("k", 1.5)),
    ("prefix store", lambda d: d.PrefixStore("p", 3)),
    ("base store", lambda d: d.Store().set("a", "b")),
]


@pytest.mark.parametrize("name, call", STORE_ERRORS, ids=[name for name, _ in STORE_ERRORS])
def test_store_argument_errors_have_torchs_types(name, call):
    _, error, _, _ = _outcome(lambda: call(dist))
    assert error in (TypeError, RuntimeError)
    assert _outcome(lambda: call(_torch_distributed()))[1] is error


def test_a_user_store_subclass_gets_prefixes():
    class DictStore(dist.Store):
        def __init__(self):
            super().__init__()
            self.data = {}

        def set(self, key, value):
            self.data[key] = value.encode() if isinstance(value, str) else value

        def get(self, key):
            return self.data[key]

        def check(self, keys):
            return all(key in self.data for key in keys)

    inner = DictStore()
    store = dist.PrefixStore("rank0", inner)
    store.set("x", "1")
    store.append("x", "2")
    assert inner.data == {"rank0/x": b"12"} and store.get("x") == b"12"
    with pytest.raises(RuntimeError, match="Not implemented"):
        store.num_keys()


# -- deprecated and small names -------------------------------------------------------------------
def test_reduce_op_is_deprecated_alias_as_torch():
    ours = _outcome(lambda: dist.reduce_op.SUM)
    assert ours[0] is dist.ReduceOp.SUM and ours[3] == [FutureWarning]
    assert set(_outcome(lambda: dist.reduce_op.__members__)[0]) == set(dist.ReduceOp.RedOpType.__members__)
    d = _torch_distributed()
    assert _outcome(lambda: d.reduce_op.SUM)[3] == ours[3]
    assert set(_outcome(lambda: d.reduce_op.__members__)[0]) == set(_outcome(lambda: dist.reduce_op.__members__)[0])


def test_group_name_is_a_str_newtype():
    assert dist.GroupName("7") == "7" and dist.GroupName.__supertype__ is str
    assert _torch_distributed().GroupName.__supertype__ is str


@pytest.mark.parametrize("spec", ["mpi", "nccl", "gloo", "ucc", "cpu:mpi,cuda:nccl", "cpu:gloo", "MPI"])
def test_backend_config_matches_torch(spec):
    ours = dist.BackendConfig(spec)
    theirs = _torch_distributed().BackendConfig(spec)
    assert repr(ours) == repr(theirs)
    assert {k: str(v) for k, v in ours.get_device_backend_map().items()} == \
        {k: str(v) for k, v in theirs.get_device_backend_map().items()}


@pytest.mark.parametrize("spec", ["cpu:mpi:x", "cpu:mpi,cpu:nccl"])
def test_backend_config_refuses_bad_strings_as_torch(spec):
    ours = _outcome(lambda: dist.BackendConfig(spec))
    assert ours[1] is ValueError
    theirs = _outcome(lambda: _torch_distributed().BackendConfig(spec))
    assert theirs[1] is ValueError and " ".join(ours[2].split()) == " ".join(theirs[2].split())  # torch's has stray spaces


def test_backend_config_of_an_unknown_backend_warns_as_torch():
    ours = _outcome(lambda: repr(dist.BackendConfig("custom")))
    assert ours[0] == "cpu:custom,cuda:custom,xpu:custom" and ours[3] == [UserWarning]
    assert _outcome(lambda: repr(_torch_distributed().BackendConfig("custom")))[::3] == ours[::3]


def test_record_comm_restores_the_previous_name():
    from tinytorch.distributed import _process_group

    with dist.record_comm("outer"):
        with dist.record_comm("inner"):
            assert _process_group.comm_profiling_name[0] == "inner"
        assert _process_group.comm_profiling_name[0] == "outer"
    assert _process_group.comm_profiling_name[0] is None


# -- without a process group ----------------------------------------------------------------------
UNINITIALIZED = [
    ("all_gather_single", lambda d, t: d.all_gather_single(t.zeros(2), t.zeros(1))),
    ("reduce_scatter_single", lambda d, t: d.reduce_scatter_single(t.zeros(1), t.zeros(2))),
    ("all_reduce_coalesced", lambda d, t: d.all_reduce_coalesced([t.zeros(1)])),
    ("all_gather_coalesced", lambda d, t: d.all_gather_coalesced([[t.zeros(1)]], [t.zeros(1)])),
    ("get_backend_config", lambda d, t: d.get_backend_config()),
    ("split_group", lambda d, t: d.split_group(split_ranks=[[0]])),
    ("shrink_group", lambda d, t: d.shrink_group([1])),
]


@pytest.mark.parametrize("name, call", UNINITIALIZED, ids=[name for name, _ in UNINITIALIZED])
def test_without_init_raises_as_torch(name, call):
    ours = _outcome(lambda: call(dist, tt))
    assert ours[1] is ValueError and "Default process group has not been initialized" in ours[2]
    torch = pytest.importorskip("torch")
    assert ours[1:] == _outcome(lambda: call(torch.distributed, torch))[1:]


ARGUMENTS = [
    ("all_gather_single output", lambda d, t: d.all_gather_single([t.zeros(2)], t.zeros(1))),
    ("all_gather_single input", lambda d, t: d.all_gather_single(t.zeros(2), 1.0)),
    ("reduce_scatter_single output", lambda d, t: d.reduce_scatter_single(None, t.zeros(2))),
    ("all_gather_into_tensor input", lambda d, t: d.all_gather_into_tensor(t.zeros(2), [1])),
    ("reduce_scatter_tensor input", lambda d, t: d.reduce_scatter_tensor(t.zeros(2), "x")),
    ("all_reduce_coalesced list", lambda d, t: d.all_reduce_coalesced([t.zeros(1), 3])),
    ("all_reduce_coalesced dtypes", lambda d, t: d.all_reduce_coalesced([t.zeros(1), t.zeros(1, dtype=t.int64)])),
    ("all_gather_coalesced inputs", lambda d, t: d.all_gather_coalesced([[t.zeros(1)]], t.zeros(1))),
    ("split_group empty", lambda d, t: d.split_group(split_ranks=[])),
    ("shrink_group list", lambda d, t: d.shrink_group(1)),
    ("shrink_group empty", lambda d, t: d.shrink_group([])),
    ("shrink_group flags", lambda d, t: d.shrink_group([1], shrink_flags=4)),
]


@pytest.mark.parametrize("name, call", ARGUMENTS, ids=[name for name, _ in ARGUMENTS])
def test_argument_errors_and_warnings_match_torch(name, call):
    ours = _outcome(lambda: call(dist, tt))
    assert ours[1] is not None
    torch = pytest.importorskip("torch")
    theirs = _outcome(lambda: call(torch.distributed, torch))
    assert ours[1:] == theirs[1:]
