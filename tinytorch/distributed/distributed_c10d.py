"""``torch.distributed``'s functions: process groups and the collectives, with PyTorch's signatures,
argument rules and messages. The transports live in ``_mpi.py`` and ``_nccl.py``."""

import datetime
import importlib.util
import os
import warnings

from .. import _backend as backend
from .._tensor import Tensor
from . import _bootstrap, _mpi, _nccl
from ._errors import DistBackendError, DistError
from ._process_group import ProcessGroup, check_reduce_op
from ._reduce_op import ReduceOp
from ._work import Work

__all__ = [
    "Backend", "DistBackendError", "DistError", "GroupMember", "ProcessGroup", "ReduceOp", "Work", "all_gather",
    "all_gather_into_tensor", "all_reduce", "barrier", "broadcast", "default_pg_timeout", "destroy_process_group",
    "gather", "get_backend", "get_global_rank", "get_group_rank", "get_process_group_ranks", "get_rank",
    "get_world_size", "group", "init_process_group", "irecv", "is_available", "is_backend_available",
    "is_initialized", "is_mpi_available", "is_nccl_available", "isend", "new_group", "recv", "reduce",
    "reduce_scatter_tensor", "scatter", "send",
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


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """Every rank's ``input_tensor``, concatenated (or stacked) in rank order, into ``output_tensor``."""
    _check_single_tensor(input_tensor, "input_tensor")
    _check_single_tensor(output_tensor, "output_tensor")
    if _rank_not_in_group(group):
        _warn_not_in_group("all_gather_into_tensor")
        return None
    return _finish(_group_or_default_group(group).allgather_into_tensor(output_tensor, input_tensor), async_op)


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``input`` across ``group`` and give rank i the i-th chunk of the result in ``output``."""
    _check_single_tensor(output, "output")
    _check_single_tensor(input, "input")
    if _rank_not_in_group(group):
        _warn_not_in_group("reduce_scatter_tensor")
        return None
    check_reduce_op(op, "reduce_scatter_tensor")
    return _finish(_group_or_default_group(group).reduce_scatter_tensor(output, input, op), async_op)


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

