"""``torch.distributed``'s functions: process groups and the collectives, with PyTorch's signatures,
argument rules and messages. The transports live in ``_mpi.py`` and ``_nccl.py``."""

import contextlib
import datetime
import enum
import importlib.util
import os
import typing
import warnings

from .. import _backend as backend
from .._tensor import Tensor
from . import _bootstrap, _mpi, _nccl
from . import _process_group
from ._errors import DistBackendError, DistError, DistStoreError
from ._process_group import ProcessGroup, check_reduce_op
from ._reduce_op import ReduceOp
from ._store import HashStore, PrefixStore, Store
from ._work import Work

__all__ = [
    "Backend", "DistBackendError", "DistError", "GroupMember", "ProcessGroup", "ReduceOp", "Work", "all_gather",
    "all_gather_into_tensor", "all_reduce", "barrier", "broadcast", "default_pg_timeout", "destroy_process_group",
    "gather", "get_backend", "get_global_rank", "get_group_rank", "get_process_group_ranks", "get_rank",
    "get_world_size", "group", "init_process_group", "irecv", "is_available", "is_backend_available",
    "is_initialized", "is_mpi_available", "is_nccl_available", "isend", "new_group", "recv", "reduce",
    "reduce_scatter_tensor", "scatter", "send",
    # object collectives, all-to-all, batched point to point, subgroups, queries
    "DebugLevel", "P2POp", "all_gather_object", "all_to_all", "all_to_all_single", "batch_isend_irecv",
    "broadcast_object_list", "gather_object", "get_debug_level", "get_default_backend_for_device",
    "get_node_local_rank", "get_pg_count", "is_gloo_available", "is_torchelastic_launched", "is_ucc_available",
    "is_xccl_available", "monitored_barrier", "new_subgroups", "new_subgroups_by_enumeration", "recv_object_list",
    "reduce_scatter", "scatter_object_list", "send_object_list", "supports_complex",
    # stores, configuration, the single-tensor and coalesced collectives, split and shrink
    "BackendConfig", "DistStoreError", "GroupName", "HashStore", "PrefixStore", "Store", "all_gather_coalesced",
    "all_gather_single", "all_reduce_coalesced", "get_backend_config", "record_comm", "reduce_op",
    "reduce_scatter_single", "shrink_group", "split_group",
]

# PyTorch's defaults: 30 minutes, 10 for NCCL.
default_pg_timeout = datetime.timedelta(minutes=30)
default_pg_nccl_timeout = datetime.timedelta(minutes=10)


class Backend(str):
    """The backend names, as lowercase strings: ``Backend.MPI == "mpi"``, ``Backend.NCCL == "nccl"``."""

    UNDEFINED = "undefined"
    GLOO = "gloo"
    NCCL = "nccl"
    UCC = "ucc"
    MPI = "mpi"
    XCCL = "xccl"

    def __new__(cls, name):
        if not isinstance(name, str):
            raise ValueError("Backend constructor parameter must be string-ish")
        value = getattr(Backend, name.upper(), Backend.UNDEFINED)
        if value == Backend.UNDEFINED:
            value = name.lower()
        return value


GroupName = typing.NewType("GroupName", str)

# The devices each backend serves when named alone (PyTorch's Backend.backend_capability).
_BACKEND_CAPABILITY = {"gloo": ["cpu", "cuda"], "nccl": ["cuda"], "xccl": ["xpu"], "ucc": ["cpu", "cuda"],
                       "mpi": ["cpu", "cuda"], "fake": ["cpu", "cuda", "hpu", "xpu"]}


def _accelerator_type():
    """The device type a program's tensors go to by default: "cuda" with a GPU, else "cpu"."""
    return "cuda" if backend.cuda_device_count() > 0 else "cpu"


class BackendConfig:
    """Which backend serves each device type: ``BackendConfig("mpi")`` is ``cpu:mpi,cuda:mpi``;
    ``"cpu:mpi,cuda:nccl"`` names them one by one; ``"undefined"`` picks the default of the
    machine's accelerator (``cuda:nccl`` with a GPU, else ``cpu:mpi``: tinytorch's CPU backend)."""

    def __init__(self, backend):
        self.device_backend_map = {}
        backend = str(backend)
        if backend == Backend.UNDEFINED:
            device_type = _accelerator_type()
            self.device_backend_map[device_type] = Backend(_DEFAULT_DEVICE_BACKEND[device_type])
        elif backend.lower() in _BACKEND_CAPABILITY:
            self.device_backend_map = dict.fromkeys(_BACKEND_CAPABILITY[backend.lower()], Backend(backend))
        elif ":" in backend.lower():
            message = (f"The custom backend string argument is invalid: {backend}.\n                Custom backend "
                       "string is an experimental feature where the backend string must be in the format:\n"
                       "                \"<device_type1>:<backend1>,<device_type2>:<backend2>...\". e.g. 'cpu:gloo,cuda:nccl'")
            for pair in backend.lower().split(","):
                parts = pair.split(":")
                if len(parts) != 2:
                    raise ValueError(f"Invalid device:backend pairing: {pair}. {message}")
                device, name = parts
                if device in self.device_backend_map:
                    raise ValueError(f"Duplicate device type {device} in backend string: {name}. {message}")
                self.device_backend_map[device] = Backend(name)
        else:
            warnings.warn(f"Device capability of {backend} unknown, assuming `cpu` and `cuda`. You can specify it in "
                          "`device:backend` format in `init_process_group` call.", stacklevel=2)
            self.device_backend_map = dict.fromkeys(["cpu", "cuda", "xpu"], Backend(backend))

    def __repr__(self):
        return ",".join(f"{device}:{name}" for device, name in self.device_backend_map.items())

    def get_device_backend_map(self):
        """The ``{device type: backend}`` map."""
        return self.device_backend_map


class _reduce_op:
    """The deprecated ``reduce_op`` object: ``reduce_op.SUM`` is ``ReduceOp.SUM`` (with a
    FutureWarning at each attribute read, as PyTorch's)."""

    def __init__(self):
        for name, value in ReduceOp.RedOpType.__members__.items():
            setattr(self, name, value)
        self.__members__ = ReduceOp.RedOpType.__members__

    def __getattribute__(self, key):
        warnings.warn("`torch.distributed.reduce_op` is deprecated, please use `torch.distributed.ReduceOp` instead",
                      FutureWarning, stacklevel=2)
        return object.__getattribute__(self, key)


reduce_op = _reduce_op()


@contextlib.contextmanager
def record_comm(name):
    """Within this context, the collectives started are named ``name`` (PyTorch's profiling title):
    tinytorch shows it in their ``Work``'s repr and in their timeout errors."""
    previous = _process_group.comm_profiling_name[0]
    _process_group.comm_profiling_name[0] = name
    try:
        yield
    finally:
        _process_group.comm_profiling_name[0] = previous


class _WorldMeta(type):
    @property
    def WORLD(cls):
        return _world.default_pg


class GroupMember(metaclass=_WorldMeta):
    """``GroupMember.WORLD``: the default group; ``NON_GROUP_MEMBER``: what ``new_group`` returns
    on a rank outside the new group."""

    NON_GROUP_MEMBER = -100


class group(metaclass=_WorldMeta):
    """``group.WORLD``: the default process group."""


class _World:
    def __init__(self):
        self.default_pg = None
        self.pg_map = {}  # group -> backend name
        self.pg_group_ranks = {}  # group -> {global rank: group rank}


_world = _World()


# -- availability ---------------------------------------------------------------------------------
def is_available():
    """Whether ``tinytorch.distributed`` can run: mpi4py (``pip install 'tinytorch[mpi]'``) is
    installed; both backends use MPI to start."""
    try:
        return importlib.util.find_spec("mpi4py") is not None
    except (ImportError, ValueError):  # a module entry set to None (blocked) or without a spec
        return False


def is_mpi_available():
    return is_available()


def is_nccl_available():
    """Whether the ``nccl`` backend can run: mpi4py, and CuPy with its NCCL bindings."""
    return is_available() and backend.nccl_module() is not None


def is_backend_available(backend_name):
    name = str(backend_name).lower()
    if name == Backend.MPI:
        return is_mpi_available()
    if name == Backend.NCCL:
        return is_nccl_available()
    return False


def is_initialized():
    """Whether ``init_process_group`` has run (and ``destroy_process_group`` has not)."""
    return _world.default_pg is not None


# -- groups ---------------------------------------------------------------------------------------
def _check_valid_timeout(timeout):
    if not isinstance(timeout, datetime.timedelta):
        raise TypeError(f"Expected timeout argument to be of type datetime.timedelta, got {timeout}")


def _supported_backend(name):
    name = Backend(name)
    if name not in (Backend.MPI, Backend.NCCL):
        raise ValueError(
            f"tinytorch.distributed has no {name!r} backend: use 'mpi' (CPU tensors, and CUDA tensors through "
            "host memory) or 'nccl' (CUDA tensors, through CuPy)"
        )
    return name


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1, store=None,
                       group_name="", pg_options=None, device_id=None):
    """Start this process's part of the default process group.

    The ranks come from the MPI launcher: start the program with ``mpiexec -n N python script.py``
    (or ``python -m tinytorch.distributed.run --nproc-per-node N script.py``). ``backend`` is
    ``"mpi"`` (the default) or ``"nccl"`` (GPUs; MPI hands out the NCCL id). ``timeout`` (a
    ``datetime.timedelta``) bounds every operation: a rank whose peer died raises
    ``DistBackendError`` instead of hanging. ``init_method``, ``store`` and ``group_name`` are
    accepted for compatibility and not used: MPI does the rendezvous.
    """
    if _world.default_pg is not None:
        raise ValueError("trying to initialize the default process group twice!")
    if store is not None and init_method is not None:
        raise AssertionError("Cannot specify both init_method and store.")
    name = _supported_backend(Backend.MPI if backend is None else backend)
    if timeout is None:
        timeout = default_pg_nccl_timeout if name == Backend.NCCL else default_pg_timeout
    _check_valid_timeout(timeout)
    if name == Backend.NCCL:
        _nccl.load_nccl()  # says what to install before MPI starts
    MPI = _mpi.load_mpi()
    world = MPI.COMM_WORLD
    world_rank, size = world.Get_rank(), world.Get_size()
    if world_size != -1 or rank != -1:
        if (world_size, rank) != (size, world_rank) and name == Backend.MPI:
            warnings.warn(
                f"For MPI backend, world_size ({world_size}) and rank ({rank}) are ignored since they are assigned "
                "by the MPI runtime.",
                stacklevel=2,
            )
    # torchrun's variables, for programs that read them after init (started by plain mpiexec).
    _bootstrap.set_torchrun_variables()
    os.environ.setdefault("RANK", str(world_rank))
    os.environ.setdefault("WORLD_SIZE", str(size))
    if "LOCAL_RANK" not in os.environ or "LOCAL_WORLD_SIZE" not in os.environ:  # a launcher we do not know
        local = world.Split_type(MPI.COMM_TYPE_SHARED)
        os.environ.setdefault("LOCAL_RANK", str(local.Get_rank()))
        os.environ.setdefault("LOCAL_WORLD_SIZE", str(local.Get_size()))
        local.Free()
    ranks = list(range(size))
    if name == Backend.MPI:
        pg = _mpi.ProcessGroupMPI(MPI, world, ranks, world_rank, timeout)
    else:
        pg = _nccl.ProcessGroupNCCL.create(MPI, world, ranks, world_rank, timeout, device_id)
    _mpi.install_abort_hook(MPI)
    _world.default_pg = pg
    _world.pg_map[pg] = name
    _world.pg_group_ranks[pg] = {r: r for r in ranks}


def _get_default_group():
    if _world.default_pg is None:
        raise ValueError("Default process group has not been initialized, please make sure to call init_process_group.")
    return _world.default_pg


def _group_or_default_group(group=None):
    if group is None or group is GroupMember.WORLD:
        return _get_default_group()
    return group


def _rank_not_in_group(group):
    return group is not None and group == GroupMember.NON_GROUP_MEMBER


def _warn_not_in_group(op_name):
    global_rank = -1 if _world.default_pg is None else _world.default_pg.rank()
    warnings.warn(f"Running {op_name} on global rank {global_rank} which does not belong to the given group.",
                  stacklevel=3)


def destroy_process_group(group=None):
    """Destroy ``group``; with no argument (or ``group.WORLD``) every group, after which
    ``init_process_group`` may be called again."""
    if _rank_not_in_group(group):
        return
    pg = _world.default_pg if group is None or group is GroupMember.WORLD else group
    if pg is None:
        raise AssertionError("Process group cannot be None")
    if pg not in _world.pg_map:
        raise ValueError("Invalid process group specified")
    if pg is _world.default_pg:
        for each in list(_world.pg_map):
            each.shutdown()
        _world.pg_map.clear()
        _world.pg_group_ranks.clear()
        _world.default_pg = None
        _mpi.remove_abort_hook()
    else:
        pg.shutdown()
        del _world.pg_map[pg]
        del _world.pg_group_ranks[pg]


def get_rank(group=None):
    """This process's rank in ``group`` (the default group unless given); -1 outside the group."""
    if _rank_not_in_group(group):
        return -1
    default_pg = _get_default_group()
    if group is None or group is GroupMember.WORLD:
        return default_pg.rank()
    return get_group_rank(group, default_pg.rank())


def get_world_size(group=None):
    """The number of ranks in ``group`` (the default group unless given); -1 outside the group."""
    if _rank_not_in_group(group):
        return -1
    return _group_or_default_group(group).size()


def get_backend(group=None):
    """The backend of ``group``: ``"mpi"`` or ``"nccl"``."""
    pg = group or _get_default_group()
    if _rank_not_in_group(pg):
        raise ValueError("Invalid process group specified")
    name = _world.pg_map.get(pg)
    if name is None:
        raise ValueError(f"Process group {pg} is not initialized in the world group map. Please initialize the group first.")
    return Backend(name)


def get_backend_config(group=None):
    """The backend configuration of ``group`` (the default group unless given) as a string:
    ``"cpu:mpi,cuda:mpi"`` for ``mpi``, ``"cuda:nccl"`` for ``nccl``."""
    return str(BackendConfig(get_backend(group)))


def get_group_rank(group, global_rank):
    """The rank in ``group`` of the process whose default-group rank is ``global_rank``."""
    if group is GroupMember.WORLD:
        return global_rank
    if group not in _world.pg_group_ranks:
        raise ValueError(f"Group {group} is not registered, please create group with torch.distributed.new_group API")
    group_ranks = _world.pg_group_ranks[group]
    if global_rank not in group_ranks:
        raise ValueError(f"Global rank {global_rank} is not part of group {group}")
    return group_ranks[global_rank]


def get_global_rank(group, group_rank):
    """The default-group rank of the process whose rank in ``group`` is ``group_rank``."""
    if group is GroupMember.WORLD:
        return group_rank
    if group not in _world.pg_group_ranks:
        raise ValueError(f"Group {group} is not registered, please create group with torch.distributed.new_group API")
    for rank, grp_rank in _world.pg_group_ranks[group].items():
        if grp_rank == group_rank:
            return rank
    raise ValueError(f"Group rank {group_rank} is not part of group {group}")


def get_process_group_ranks(group):
    """The default-group ranks of ``group``'s members, in group-rank order."""
    return list(_world.pg_group_ranks[group or _get_default_group()].keys())


def new_group(ranks=None, timeout=None, backend=None, pg_options=None, use_local_synchronization=False,
              group_desc=None, device_id=None):
    """A process group over some of the default group's ranks (all of them by default).

    Every rank of the default group must call it, members or not; a rank outside ``ranks``
    gets ``GroupMember.NON_GROUP_MEMBER``, with which operations warn and do nothing.
    """
    default_pg = _get_default_group()
    default_backend = _world.pg_map[default_pg]
    name = _supported_backend(backend) if backend else default_backend
    if name != default_backend:
        raise ValueError(f"new_group: tinytorch makes subgroups with the default group's backend ({default_backend!r}), got {name!r}")
    if timeout is None:
        timeout = default_pg._timeout
    _check_valid_timeout(timeout)
    if use_local_synchronization and name == Backend.MPI:
        raise ValueError("MPI backend doesn't support use_local_synchronization=True")
    global_world_size = default_pg.size()
    if ranks is not None:
        ranks = sorted(ranks)
        if len(set(ranks)) != len(ranks):
            raise ValueError(f"ranks list must not contain duplicate entries, got {ranks}")
        if len(ranks) > global_world_size:
            raise ValueError("the new group's world size should be less or equal to the world size set by init_process_group")
        for rank in ranks:
            if rank < 0 or rank >= global_world_size:
                raise ValueError(
                    f"Rank {rank} is out of range. Valid ranks are 0 to {global_world_size - 1} (world_size={global_world_size})"
                )
    else:
        ranks = list(range(global_world_size))
    pg = default_pg.new_subgroup(ranks, timeout)
    if pg is None:
        return GroupMember.NON_GROUP_MEMBER
    _world.pg_map[pg] = name
    _world.pg_group_ranks[pg] = {global_rank: group_rank for group_rank, global_rank in enumerate(ranks)}
    return pg


# -- argument rules shared by the operations ------------------------------------------------------
def _check_single_tensor(param, param_name):
    if not isinstance(param, Tensor):
        raise TypeError(
            f"Invalid function argument. Expected parameter `{param_name}` of type torch.Tensor\n"
            f"             but got {type(param)} instead."
        )


def _check_tensor_list(param, param_name):
    if not isinstance(param, list):
        raise TypeError(
            f"Invalid function argument. Expected parameter `{param_name}` of type List[torch.Tensor]\n"
            f"             but got {type(param)} instead."
        )
    if not all(isinstance(p, Tensor) for p in param):
        raise TypeError(
            f"Invalid function argument. Expected parameter `{param_name}` of type List[torch.Tensor]\n"
            f"             but got {type(param)} with elements of type {[type(p) for p in param]}."
        )


def _ensure_all_tensors_same_dtype(*tensors):
    last_dtype = None
    for item in tensors:
        for tensor in item if isinstance(item, list) else (item,):
            if last_dtype is None:
                last_dtype = tensor.dtype
            elif last_dtype != tensor.dtype:
                raise ValueError(f"Invalid usage of tensors with different dtypesFound {last_dtype} and  {tensor.dtype}")


def _canonicalize_group_rank(group, global_rank=None, group_rank=None, return_global=False):
    if group_rank is not None:
        if global_rank is not None:
            raise ValueError("Can't specify both group_rank and global_rank")
        if return_global:
            return get_global_rank(group, group_rank)
    else:
        if global_rank is None:
            raise ValueError("Must specify global_rank or group_rank")
        if return_global:
            return global_rank
        group_rank = get_group_rank(group, global_rank)
    return group_rank


def _check_not_self_rank(group, rank, rank_type):
    if group.rank() == rank:
        raise ValueError(f"Invalid {rank_type} rank: {rank_type} rank should not be the same as the rank of the current process.")


def _finish(work, async_op):
    if async_op:
        return work
    work.wait()
    return None


def _as_group(group):
    """The group object to resolve ranks against: WORLD for the default group."""
    return GroupMember.WORLD if group is None else group


# -- collectives ----------------------------------------------------------------------------------
def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``tensor`` across the ranks of ``group`` with ``op``; every rank gets the result, in
    place. ``async_op=True`` returns a ``Work`` to ``wait()`` on."""
    _check_single_tensor(tensor, "tensor")
    if _rank_not_in_group(group):
        _warn_not_in_group("all_reduce")
        return None
    check_reduce_op(op, "all_reduce")
    return _finish(_group_or_default_group(group).allreduce(tensor, op), async_op)


def broadcast(tensor, src=None, group=None, async_op=False, group_src=None):
    """Copy ``tensor`` of rank ``src`` into ``tensor`` on every other rank of ``group``."""
    pg = _group_or_default_group(group)
    group_src = _canonicalize_group_rank(_as_group(group), src, group_src)
    _check_single_tensor(tensor, "tensor")
    if _rank_not_in_group(group):
        _warn_not_in_group("broadcast")
        return None
    return _finish(pg.broadcast(tensor, group_src), async_op)


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    """Reduce ``tensor`` across ``group`` into ``tensor`` on rank ``dst`` only."""
    pg = _group_or_default_group(group)
    group_dst = _canonicalize_group_rank(_as_group(group), dst, group_dst)
    _check_single_tensor(tensor, "tensor")
    if _rank_not_in_group(group):
        _warn_not_in_group("reduce")
        return None
    check_reduce_op(op, "reduce")
    return _finish(pg.reduce(tensor, group_dst, op), async_op)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Every rank's ``tensor`` into ``tensor_list`` (one tensor per rank) on every rank."""
    _check_tensor_list(tensor_list, "tensor_list")
    _check_single_tensor(tensor, "tensor")
    _ensure_all_tensors_same_dtype(tensor_list, tensor)
    if _rank_not_in_group(group):
        _warn_not_in_group("all_gather")
        return None
    return _finish(_group_or_default_group(group).allgather(tensor_list, tensor), async_op)


def all_gather_single(output_tensor, input_tensor, group=None, async_op=False):
    """Every rank's ``input_tensor``, concatenated (or stacked) in rank order, into ``output_tensor``."""
    _check_single_tensor(input_tensor, "input_tensor")
    _check_single_tensor(output_tensor, "output_tensor")
    if _rank_not_in_group(group):
        _warn_not_in_group("all_gather_single")
        return None
    return _finish(_group_or_default_group(group).allgather_into_tensor(output_tensor, input_tensor), async_op)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """Deprecated (FutureWarning, as in PyTorch): ``all_gather_single``."""
    warnings.warn("`torch.distributed.all_gather_into_tensor` is deprecated. "
                  "Please use `torch.distributed.all_gather_single` instead.", FutureWarning, stacklevel=2)
    return all_gather_single(output_tensor, input_tensor, group, async_op)


def reduce_scatter_single(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``input`` across ``group`` and give rank i the i-th chunk of the result in ``output``."""
    _check_single_tensor(output, "output")
    _check_single_tensor(input, "input")
    if _rank_not_in_group(group):
        _warn_not_in_group("reduce_scatter_single")
        return None
    check_reduce_op(op, "reduce_scatter_single")
    return _finish(_group_or_default_group(group).reduce_scatter_tensor(output, input, op), async_op)


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """Deprecated (FutureWarning, as in PyTorch): ``reduce_scatter_single``."""
    warnings.warn("`torch.distributed.reduce_scatter_tensor` is deprecated. "
                  "Please use `torch.distributed.reduce_scatter_single` instead.", FutureWarning, stacklevel=2)
    return reduce_scatter_single(output, input, op, group, async_op)


def _validate_output_list_for_rank(my_rank, dst, gather_list):
    if dst == my_rank:
        if not gather_list:
            raise ValueError("Argument ``gather_list`` must be specified on destination rank.")
    elif gather_list:
        raise ValueError("Argument ``gather_list`` must NOT be specified on non-destination ranks.")


def gather(tensor, gather_list=None, dst=None, group=None, async_op=False, group_dst=None):
    """Every rank's ``tensor`` into ``gather_list`` on rank ``dst`` (default 0)."""
    _check_single_tensor(tensor, "tensor")
    if gather_list:
        _check_tensor_list(gather_list, "gather_list")
    else:
        gather_list = []
    _ensure_all_tensors_same_dtype(tensor, gather_list)
    pg = _group_or_default_group(group)
    if _rank_not_in_group(group):
        _warn_not_in_group("gather")
        return None
    if dst is None and group_dst is None:
        dst = 0
    group_dst = _canonicalize_group_rank(_as_group(group), dst, group_dst)
    _validate_output_list_for_rank(pg.rank(), group_dst, gather_list)
    return _finish(pg.gather(tensor, gather_list, group_dst), async_op)


def scatter(tensor, scatter_list=None, src=None, group=None, async_op=False, group_src=None):
    """Rank ``src`` (default 0) sends ``scatter_list[i]`` to rank i, which receives it into ``tensor``."""
    _check_single_tensor(tensor, "tensor")
    if scatter_list:
        _check_tensor_list(scatter_list, "scatter_list")
    else:
        scatter_list = []
    _ensure_all_tensors_same_dtype(tensor, scatter_list)
    pg = _group_or_default_group(group)
    if src is None and group_src is None:
        src = 0
    group_src = _canonicalize_group_rank(_as_group(group), src, group_src)
    if _rank_not_in_group(group):
        _warn_not_in_group("scatter")
        return None
    if group_src == pg.rank():
        if not scatter_list:
            raise ValueError("Argument ``scatter_list`` must be specified on source rank.")
    elif scatter_list:
        raise ValueError("Argument ``scatter_list`` must NOT be specified on non-source ranks.")
    return _finish(pg.scatter(tensor, scatter_list, group_src), async_op)


def barrier(group=None, async_op=False, device_ids=None, timeout=None):
    """Wait until every rank of ``group`` has reached this call (``timeout`` overrides the group's)."""
    pg = group or _get_default_group()
    if _rank_not_in_group(pg):
        _warn_not_in_group("barrier")
        return None
    if timeout is not None:
        _check_valid_timeout(timeout)
    work = pg.barrier()
    if async_op:
        return work
    work.wait(timeout)
    return None


# -- point to point -------------------------------------------------------------------------------
def isend(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Start sending ``tensor`` to rank ``dst``; returns a ``Work``."""
    pg = _group_or_default_group(group)
    group_dst = _canonicalize_group_rank(_as_group(group), dst, group_dst)
    _check_single_tensor(tensor, "tensor")
    if _rank_not_in_group(group):
        _warn_not_in_group("isend")
        return None
    return pg.send(tensor, group_dst, tag)


def irecv(tensor, src=None, group=None, tag=0, group_src=None):
    """Start receiving into ``tensor`` from rank ``src`` (any rank if None); returns a ``Work``."""
    _check_single_tensor(tensor, "tensor")
    if _rank_not_in_group(group):
        _warn_not_in_group("irecv")
        return None
    pg = _group_or_default_group(group)
    if src is None and group_src is None:
        return pg.recv(tensor, None, tag)
    group_src = _canonicalize_group_rank(_as_group(group), src, group_src)
    return pg.recv(tensor, group_src, tag)


def send(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Send ``tensor`` to rank ``dst`` and wait until it is sent."""
    pg = _group_or_default_group(group)
    group_dst = _canonicalize_group_rank(_as_group(group), dst, group_dst)
    _check_not_self_rank(pg, group_dst, "destination")
    work = isend(tensor, group=group, tag=tag, group_dst=group_dst)
    if work is not None:
        work.wait()


def recv(tensor, src=None, group=None, tag=0, group_src=None):
    """Receive into ``tensor`` from rank ``src`` (any rank if None); returns the sender's rank."""
    work = irecv(tensor, src=src, group=group, tag=tag, group_src=group_src)
    if work is None:
        return -1
    work.wait()
    if src is None:
        if group_src is None:
            group_src = work.source_rank()
        pg = _group_or_default_group(group)
        _check_not_self_rank(pg, group_src, "source")
        src = get_global_rank(_as_group(group), group_src)
    return src



# -- all-to-all and list-form reduce-scatter -------------------------------------------------------
def all_to_all(output_tensor_list, input_tensor_list, group=None, async_op=False):
    """Rank i's ``input_tensor_list[j]`` into rank j's ``output_tensor_list[i]``."""
    if _rank_not_in_group(group):
        _warn_not_in_group("all_to_all")
        return None
    _check_tensor_list(output_tensor_list, "output_tensor_list")
    _check_tensor_list(input_tensor_list, "input_tensor_list")
    _ensure_all_tensors_same_dtype(output_tensor_list, input_tensor_list)
    return _finish((group or _get_default_group()).alltoall(output_tensor_list, input_tensor_list), async_op)


def all_to_all_single(output, input, output_split_sizes=None, input_split_sizes=None, group=None, async_op=False):
    """Split ``input`` along dim 0 (evenly, or by ``input_split_sizes``), send piece j to rank j,
    and concatenate the pieces received, in rank order, into ``output`` (split by
    ``output_split_sizes``)."""
    if _rank_not_in_group(group):
        _warn_not_in_group("all_to_all_single")
        return None
    _check_single_tensor(output, "output")
    _check_single_tensor(input, "input")
    _ensure_all_tensors_same_dtype(output, input)
    output_split_sizes = [] if output_split_sizes is None else list(output_split_sizes)
    input_split_sizes = [] if input_split_sizes is None else list(input_split_sizes)
    pg = group or _get_default_group()
    return _finish(pg.alltoall_base(output, input, output_split_sizes, input_split_sizes), async_op)


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``input_list[i]`` across ``group`` into ``output`` on rank i."""
    _check_single_tensor(output, "output")
    _check_tensor_list(input_list, "input_list")
    _ensure_all_tensors_same_dtype(output, input_list)
    if _rank_not_in_group(group):
        _warn_not_in_group("reduce_scatter")
        return None
    check_reduce_op(op, "reduce_scatter")
    return _finish((group or _get_default_group()).reduce_scatter(output, input_list, op), async_op)


# -- batched point to point -------------------------------------------------------------------------
def _check_op(op):
    if op not in (isend, irecv):
        raise ValueError(
            "Invalid ``op``. Expected ``op`` to be of type ``torch.distributed.isend`` or ``torch.distributed.irecv``."
        )


class P2POp:
    """One send or receive for ``batch_isend_irecv``: ``op`` is ``isend`` or ``irecv``, ``peer``
    the other rank (global; or ``group_peer``, its rank in ``group``)."""

    def __new__(cls, op, tensor, peer=None, group=None, tag=0, group_peer=None):
        _check_op(op)
        _check_single_tensor(tensor, "tensor")
        return object.__new__(cls)

    def __init__(self, op, tensor, peer=None, group=None, tag=0, group_peer=None):
        self.op = op
        self.tensor = tensor
        self.group = _group_or_default_group(group)
        resolve = _as_group(None if group is None or group is GroupMember.WORLD else group)
        self.peer = _canonicalize_group_rank(resolve, peer, group_peer, return_global=True)
        self.tag = tag
        self.group_peer = _canonicalize_group_rank(resolve, peer, group_peer)

    def __repr__(self):
        me, name = get_rank(self.group), self.op.__name__
        source, destination = (me, self.group_peer) if name == "isend" else (self.group_peer, me)
        return f"P2POp({name} group_src={source}, group_dst={destination}, {self.tensor.shape}, {self.tensor.dtype})"


def _check_p2p_op_list(p2p_op_list):
    if not isinstance(p2p_op_list, list) or not all(isinstance(p2p_op, P2POp) for p2p_op in p2p_op_list):
        raise ValueError("Invalid ``p2p_op_list``. Each op is expected to to be of type ``torch.distributed.P2POp``.")
    group = p2p_op_list[0].group
    if not all(group == p2p_op.group for p2p_op in p2p_op_list):
        raise ValueError("All ops need to use the same group.")


def batch_isend_irecv(p2p_op_list):
    """Start every send and receive of ``p2p_op_list`` (``P2POp``s of one group); returns the
    ``Work``s to wait on. On NCCL they go in one NCCL group call and one ``Work`` (PyTorch's
    coalesced form); on MPI each is its own nonblocking message (a list of ``Work``s)."""
    _check_p2p_op_list(p2p_op_list)
    pg = p2p_op_list[0].group
    if hasattr(pg, "batch_p2p"):
        return [pg.batch_p2p([(op.op is isend, op.tensor, op.group_peer) for op in p2p_op_list])]
    works = []
    for op in p2p_op_list:
        key = "group_dst" if op.op is isend else "group_src"
        work = op.op(op.tensor, group=op.group, tag=op.tag, **{key: op.group_peer})
        if work is not None:
            works.append(work)
    return works


# -- monitored barrier ------------------------------------------------------------------------------
_MONITORED_BARRIER_TAG = 32000  # within MPI's smallest allowed tag bound (32767); user tags are small


def monitored_barrier(group=GroupMember.WORLD, timeout=None, wait_all_ranks=False):
    """A barrier that names the ranks that did not reach it: every rank reports to rank 0, which
    raises ``RuntimeError`` naming the first missing rank (all of them with ``wait_all_ranks``)
    when ``timeout`` passes, then releases the others. PyTorch has it on gloo only; here on the
    ``mpi`` backend (CPU messages), with the same protocol and messages."""
    if _rank_not_in_group(group):
        _warn_not_in_group("monitored_barrier")
        return None
    if get_backend(group) != Backend.MPI:
        raise ValueError("monitored_barrier is only implemented for GLOO backend (and for the MPI backend in tinytorch).")
    if timeout is None:
        timeout = default_pg_timeout
    elif isinstance(timeout, float):
        warnings.warn("Please specify timeout arg as a timedelta. "
                      f"Converting current value of {timeout} assuming it represents seconds", stacklevel=2)
        timeout = datetime.timedelta(seconds=timeout)
    _check_valid_timeout(timeout)
    pg = _group_or_default_group(group)
    return _monitored_barrier(pg, timeout, wait_all_ranks)


def _poll_until(works, deadline):
    """The works still not done at ``deadline`` (never breaks the group, unlike Work.wait)."""
    import time
    pending = list(works)
    while pending and time.monotonic() < deadline:
        pending = [work for work in pending if not work[1].is_completed()]
        time.sleep(0.001)
    return [work for work in pending if not work[1].is_completed()]


def _monitored_barrier(pg, timeout, wait_all_ranks):
    import time

    import tinytorch

    milliseconds = int(timeout.total_seconds() * 1000)
    deadline = time.monotonic() + timeout.total_seconds()
    rank, size = pg.rank(), pg.size()
    if rank != 0:
        report = (0, pg.send(tinytorch.zeros(1, dtype=tinytorch.uint8), 0, _MONITORED_BARRIER_TAG))
        ack = (0, pg.recv(tinytorch.zeros(1, dtype=tinytorch.uint8), 0, _MONITORED_BARRIER_TAG))
        if _poll_until([report, ack], deadline):
            raise RuntimeError(f"[Rank {rank}]: Rank {rank} successfully reached monitoredBarrier, but received errors "
                               "while waiting for send/recv from rank 0. Please check rank 0 logs for faulty rank.")
        return None
    arrivals = [(peer, pg.recv(tinytorch.zeros(1, dtype=tinytorch.uint8), peer, _MONITORED_BARRIER_TAG))
                for peer in range(1, size)]
    missing = [peer for peer, _ in _poll_until(arrivals, deadline)]
    if missing:
        if wait_all_ranks:
            ranks = ", ".join(str(peer) for peer in missing)
            raise RuntimeError(f"[Rank 0]: Ranks {ranks} failed to pass monitoredBarrier in {milliseconds} ms")
        raise RuntimeError(f"[Rank 0]: Rank {missing[0]} failed to pass monitoredBarrier in {milliseconds} ms")
    for peer in range(1, size):
        pg.send(tinytorch.zeros(1, dtype=tinytorch.uint8), peer, _MONITORED_BARRIER_TAG).wait()
    return None


# -- subgroups --------------------------------------------------------------------------------------
def new_subgroups(group_size=None, group=None, timeout=None, backend=None, pg_options=None, group_desc=None):
    """Split ``group`` (the default group) into consecutive subgroups of ``group_size`` ranks
    (default: the number of GPUs); returns (this rank's subgroup, every subgroup)."""
    if group_size is None:
        from .. import cuda
        if not cuda.is_available():
            raise ValueError(
                "Default group size only takes effect when CUDA is available.If your subgroup using a backend that "
                "does not depend on CUDA,please pass in 'group_size' correctly."
            )
        group_size = cuda.device_count()
    if group_size <= 0:
        raise ValueError(f"The arg 'group_size' ({group_size}) must be positive")
    world_size = get_world_size(group=group)
    if world_size < group_size:
        raise ValueError(f"The arg 'group_size' ({group_size}) must not exceed the world size ({world_size})")
    if world_size % group_size != 0:
        raise ValueError(f"The world size ({world_size}) must be divisible by 'group_size={group_size}'")
    ranks = get_process_group_ranks(group)
    return new_subgroups_by_enumeration([ranks[i:i + group_size] for i in range(0, len(ranks), group_size)],
                                        timeout=timeout, backend=backend, pg_options=pg_options, group_desc=group_desc)


def new_subgroups_by_enumeration(ranks_per_subgroup_list, timeout=None, backend=None, pg_options=None, group_desc=None):
    """One subgroup per list of global ranks; returns (this rank's subgroup or None, every subgroup).
    Every rank calls it with the same lists."""
    if ranks_per_subgroup_list is None or len(ranks_per_subgroup_list) == 0:
        raise ValueError("The arg 'ranks_per_subgroup_list' cannot be empty")
    subgroups, current, owner = [], None, {}
    for ranks in ranks_per_subgroup_list:
        subgroup = new_group(ranks=ranks, timeout=timeout, backend=backend, pg_options=pg_options, group_desc=group_desc)
        subgroups.append(subgroup)
        my_rank = get_rank()
        for rank in ranks:
            if rank in owner:
                raise ValueError(f"Rank {rank} has appeared in both subgroup {owner[rank]} and {ranks}")
            owner[rank] = ranks
            if rank == my_rank:
                current = subgroup
    return current, subgroups


# -- small queries ----------------------------------------------------------------------------------
def get_node_local_rank(fallback_rank=None):
    """This process's rank on its machine: ``LOCAL_RANK`` from the environment, else ``fallback_rank``."""
    if "LOCAL_RANK" in os.environ:
        return int(os.environ["LOCAL_RANK"])
    if fallback_rank is not None:
        return int(fallback_rank)
    raise RuntimeError(
        "LOCAL_RANK is not in the environment. Consider passing fallback_rank to allow `get_node_local_rank` to work, "
        "assuming you are not running in a multi-device context and want the code to run locally instead."
    )


def get_pg_count():
    """How many process groups exist (the default group and every ``new_group``)."""
    return len(_world.pg_map)


def is_gloo_available():
    """False: tinytorch has no gloo backend (use ``"mpi"``)."""
    return False


def is_ucc_available():
    """False: tinytorch has no UCC backend."""
    return False


def is_xccl_available():
    """False: tinytorch has no XCCL backend."""
    return False


def supports_complex(reduceOp):
    """Whether ``reduceOp`` is defined on complex tensors (not MAX, MIN, PRODUCT or the bitwise ops)."""
    return reduceOp not in (ReduceOp.MAX, ReduceOp.MIN, ReduceOp.PRODUCT, ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR)


def is_torchelastic_launched():
    """Whether a torchelastic launcher started this process (``TORCHELASTIC_RUN_ID`` is set)."""
    return os.getenv("TORCHELASTIC_RUN_ID") is not None


_DEFAULT_DEVICE_BACKEND = {"cpu": "mpi", "cuda": "nccl"}


def get_default_backend_for_device(device):
    """The backend ``init_process_group`` uses for ``device``: ``"mpi"`` for CPU, ``"nccl"`` for CUDA."""
    device_type = device.split(":")[0] if isinstance(device, str) else backend.as_device(device).type
    name = _DEFAULT_DEVICE_BACKEND.get(device_type)
    if name is None:
        raise ValueError(f"Default backend not registered for device : {device}")
    return name


class DebugLevel(enum.IntEnum):
    """``TORCH_DISTRIBUTED_DEBUG``'s levels."""

    OFF = 0
    INFO = 1
    DETAIL = 2


def get_debug_level():
    """The level ``TORCH_DISTRIBUTED_DEBUG`` sets (OFF, INFO or DETAIL; OFF when unset)."""
    value = os.environ.get("TORCH_DISTRIBUTED_DEBUG", "OFF").upper()
    if value not in DebugLevel.__members__:
        raise ValueError("The value of TORCH_DISTRIBUTED_DEBUG must be OFF, INFO, or DETAIL.")
    return DebugLevel[value]


from ._object_collectives import (  # noqa: E402  (they are built on the collectives above)
    all_gather_object, broadcast_object_list, gather_object, recv_object_list, scatter_object_list, send_object_list,
)
from ._coalesced import all_gather_coalesced, all_reduce_coalesced  # noqa: E402  (built on the argument rules above)
from ._split import shrink_group, split_group  # noqa: E402  (built on the group registry above)
