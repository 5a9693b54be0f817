"""``torch.distributed`` for tinytorch: process groups and collectives across processes and machines.

Two backends, both started by an MPI launcher (``mpiexec -n N python script.py``, or
``python -m tinytorch.distributed.run --nproc-per-node N script.py``):

- ``"mpi"``: MPI through mpi4py (``pip install 'tinytorch[mpi]'``), for CPU tensors (CUDA tensors
  go through host memory);
- ``"nccl"``: NCCL through CuPy for CUDA tensors, MPI handing out the NCCL id.

Every operation is bounded by the group's timeout, and an uncaught exception on one rank aborts
them all, so a failure ends the job with an error instead of a hang. See docs/distributed.md.
"""

from . import algorithms, distributed_c10d
from .distributed_c10d import (
    Backend, DistBackendError, DistError, GroupMember, ProcessGroup, ReduceOp, Work, all_gather,
    all_gather_into_tensor, all_reduce, barrier, broadcast, default_pg_timeout, destroy_process_group, gather,
    get_backend, get_global_rank, get_group_rank, get_process_group_ranks, get_rank, get_world_size, group,
    init_process_group, irecv, is_available, is_backend_available, is_initialized, is_mpi_available,
    is_nccl_available, isend, new_group, recv, reduce, reduce_scatter_tensor, scatter, send,
)
from .distributed_c10d import (
    DebugLevel, P2POp, all_gather_object, all_to_all, all_to_all_single, batch_isend_irecv, broadcast_object_list,
    gather_object, get_debug_level, get_default_backend_for_device, get_node_local_rank, get_pg_count,
    is_gloo_available, is_torchelastic_launched, is_ucc_available, is_xccl_available, monitored_barrier, new_subgroups,
    new_subgroups_by_enumeration, recv_object_list, reduce_scatter, scatter_object_list, send_object_list,
    supports_complex,
)
from .distributed_c10d import (
    BackendConfig, DistStoreError, GroupName, HashStore, PrefixStore, Store, all_gather_coalesced, all_gather_single,
    all_reduce_coalesced, get_backend_config, record_comm, reduce_op, reduce_scatter_single, shrink_group, split_group,
)

from ._grad_bucket import GradBucket

__all__ = list(distributed_c10d.__all__) + ["GradBucket"]
