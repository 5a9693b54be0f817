"""``split_group`` and ``shrink_group``: new process groups carved out of an existing one by its
own communicator, with PyTorch's argument rules and messages.

PyTorch splits only NCCL communicators (``ncclCommSplit``, ``ncclCommShrink``) of a group bound
to a device; tinytorch splits the MPI communicator under either backend (``MPI_Comm_split``, and
``MPI_Comm_create_group`` for a shrink, in which the excluded ranks take no part), and an NCCL
group builds its new NCCL communicator over the result.
"""

from . import _mpi
from . import distributed_c10d as c10d

SHRINK_DEFAULT = 0x00
SHRINK_ABORT = 0x01


def _register(pg, name, rank_mapping):
    c10d._world.pg_map[pg] = name
    c10d._world.pg_group_ranks[pg] = rank_mapping


def split_group(parent_pg=None, split_ranks=None, timeout=None, pg_options=None, group_desc=None, backend=None):
    """Split ``parent_pg`` (the default group) into the groups ``split_ranks`` lists (ranks of
    the parent, non-overlapping); returns this rank's group, or None on a rank in none of them.
    Every rank of the parent calls it with the same lists. ``backend`` must name the parent's;
    ``pg_options`` is accepted and not used."""
    if split_ranks is None or len(split_ranks) == 0:
        raise ValueError("split_ranks cannot be None or empty")
    default_pg = c10d._get_default_group()
    global_rank, global_world_size = default_pg.rank(), default_pg.size()
    if not parent_pg:
        parent_pg = default_pg
    if parent_pg not in c10d._world.pg_group_ranks:
        raise ValueError(f"Group {parent_pg} is not registered")
    parent_global_to_group = c10d._world.pg_group_ranks[parent_pg]
    parent_group_to_global = {group_rank: rank for rank, group_rank in parent_global_to_group.items()}
    if global_rank not in parent_global_to_group:
        raise ValueError(f"Global rank {global_rank} is not part of the parent group {parent_pg}")
    parent_group_rank = parent_global_to_group[global_rank]
    name = c10d._world.pg_map[parent_pg]
    if backend is not None and c10d.BackendConfig(backend).device_backend_map != c10d.BackendConfig(name).device_backend_map:
        raise ValueError(f"Backend mismatch: the parent process group's backend is '{name}', requested '{backend}'. "
                         "Backend names must match exactly when filtering split_group backends.")
    if timeout is None:
        timeout = parent_pg._timeout
    c10d._check_valid_timeout(timeout)
    # As PyTorch: the first split holding this rank (validated up to it); a rank in none gets None.
    my_group, color = split_ranks[0], None
    for index, ranks in enumerate(split_ranks):
        if len(ranks) == 0:
            raise ValueError("the split group cannot be empty")
        if len(ranks) > global_world_size:
            raise ValueError("the split group's size should be less or equal to the world_size set by init_process_group")
        if len(ranks) != len(set(ranks)):
            raise ValueError("the split group cannot have duplicate ranks")
        ranks = sorted(ranks)
        if parent_group_rank in ranks:
            my_group, color = ranks, index
            break
    comm = _mpi.split_communicator(parent_pg._MPI, parent_pg._comm, color, parent_group_rank)
    if comm is None:
        return None
    global_ranks = [parent_group_to_global[rank] for rank in my_group]
    pg = parent_pg.with_communicator(comm, global_ranks, parent_pg._global_rank, timeout)
    _register(pg, name, {rank: group_rank for group_rank, rank in enumerate(global_ranks)})
    return pg


def _check_shrink_arguments(ranks_to_exclude, shrink_flags):
    if not isinstance(ranks_to_exclude, list):
        raise TypeError(f"ranks_to_exclude must be a list, but got {type(ranks_to_exclude).__name__}. "
                        "Example: [1, 3, 5] to exclude ranks 1, 3, and 5.")
    if not ranks_to_exclude:
        raise ValueError("ranks_to_exclude cannot be empty. To shrink a group, you must specify at least one rank to "
                         "exclude. Example: [failed_rank_id]")
    if not isinstance(shrink_flags, int) or shrink_flags not in (SHRINK_DEFAULT, SHRINK_ABORT):
        raise ValueError(f"Invalid shrink_flags value: {shrink_flags}. Must be one of: SHRINK_DEFAULT ({SHRINK_DEFAULT}) "
                         f"or SHRINK_ABORT ({SHRINK_ABORT}). Use SHRINK_ABORT to abort ongoing operations before shrinking.")


def _check_excluded_ranks(ranks_to_exclude, group_size, current_rank):
    excluded = set()
    for index, rank in enumerate(ranks_to_exclude):
        if not isinstance(rank, int):
            raise TypeError(f"All elements in ranks_to_exclude must be integers. Element at index {index} is "
                            f"{type(rank).__name__}: {rank}")
        if not 0 <= rank < group_size:
            raise ValueError(f"Rank {rank} at index {index} is out of bounds for group size {group_size}. "
                             f"Valid ranks are in range [0, {group_size - 1}].")
        if rank in excluded:
            raise ValueError(f"Duplicate rank {rank} found in ranks_to_exclude at index {index}. "
                             "Each rank can only be excluded once.")
        excluded.add(rank)
    if len(excluded) >= group_size:
        raise ValueError(f"Cannot exclude all {group_size} ranks from process group. At least one rank must remain. "
                         f"Excluding {len(excluded)} ranks.")
    if current_rank in excluded:
        raise RuntimeError(f"Current rank {current_rank} is in the exclusion list and should not call shrink_group(). "
                           "Only non-excluded ranks should participate in the shrinking operation. Excluded ranks "
                           "should terminate their processes instead.")
    return excluded


def shrink_group(ranks_to_exclude, group=None, shrink_flags=SHRINK_DEFAULT, pg_options=None):
    """A new group of ``group``'s ranks (the default group's) less ``ranks_to_exclude`` (ranks
    in ``group``); ``group`` is destroyed. Only the remaining ranks call it. Shrinking the default
    group makes the result the default group, renumbers the ranks 0..n-1, and destroys every other
    group. ``shrink_flags`` (``SHRINK_ABORT``) and ``pg_options`` are accepted and not used."""
    _check_shrink_arguments(ranks_to_exclude, shrink_flags)
    target = group if group is not None else c10d._get_default_group()
    size = target.size()
    if size <= 1:
        raise ValueError(f"Cannot shrink a process group with size {size}. "
                         "Group must have at least 2 ranks to support shrinking.")
    excluded = _check_excluded_ranks(ranks_to_exclude, size, target.rank())
    remaining = [rank for rank in range(size) if rank not in excluded]
    comm = _mpi.shrink_communicator(target._MPI, target._comm, remaining)
    name = c10d._world.pg_map[target]
    original_ranks = c10d.get_process_group_ranks(target)
    remaining_global = [original_ranks[rank] for rank in remaining]
    is_default = target is c10d._world.default_pg
    if is_default:
        # The ranks are renumbered: every other group's numbering is stale (as in PyTorch).
        for other in [pg for pg in c10d._world.pg_map if pg is not target]:
            c10d.destroy_process_group(other)
        new_rank = comm.Get_rank()
        pg = target.with_communicator(comm, list(range(comm.Get_size())), new_rank, target._timeout)
        target.shutdown()
        del c10d._world.pg_map[target], c10d._world.pg_group_ranks[target]
        c10d._world.default_pg = pg
    else:
        pg = target.with_communicator(comm, remaining_global, target._global_rank, target._timeout)
        c10d.destroy_process_group(target)
    # PyTorch's mapping: the old global ranks to the new group ranks.
    _register(pg, name, {rank: group_rank for group_rank, rank in enumerate(remaining_global)})
    return pg
