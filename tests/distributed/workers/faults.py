"""A rank fails while the others wait in a collective: run by tests/distributed/test_faults.py.

    mpiexec -n N python faults.py MODE TIMEOUT_SECONDS

MODE says what the last rank does instead of joining the all-reduce: ``raise`` (an uncaught
exception), ``kill`` (SIGKILL to itself), ``hang`` (sleeps past any timeout) or ``exit`` (leaves
normally). The other ranks report what they saw on stdout.
"""

import datetime
import os
import signal
import sys
import time

import tinytorch as torch
import tinytorch.distributed as dist

mode, timeout = sys.argv[1], float(sys.argv[2])
dist.init_process_group("mpi", timeout=datetime.timedelta(seconds=timeout))
rank, size = dist.get_rank(), dist.get_world_size()
t = torch.ones(4)
dist.all_reduce(t)  # everyone is up
print(f"rank {rank} started", flush=True)

if rank == size - 1:
    if mode == "raise":
        raise RuntimeError(f"boom on rank {rank}")
    if mode == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if mode == "hang":
        time.sleep(3600)
    if mode == "exit":
        sys.exit(0)

try:
    dist.all_reduce(t)
except dist.DistBackendError as error:
    print(f"rank {rank} caught DistBackendError: {error}", flush=True)
    try:
        dist.all_reduce(t)
    except dist.DistBackendError as again:
        print(f"rank {rank} then: {again}", flush=True)
    raise
print(f"rank {rank} finished the all_reduce", flush=True)
