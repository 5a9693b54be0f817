"""What a rank started by ``python -m tinytorch.distributed.run`` sees: torchrun's variables before
init, and the same ranks from init_process_group. Prints one line per rank."""

import os
import sys

import tinytorch.distributed as dist

before = {name: os.environ.get(name) for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE")}
dist.init_process_group()
print(f"rank {dist.get_rank()} of {dist.get_world_size()} backend {dist.get_backend()} env {before} "
      f"args {sys.argv[1:]} main {__name__}", flush=True)
dist.destroy_process_group()
