"""What ``tinytorch.distributed.run`` starts on each rank: set torchrun's variables (``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK``, ``LOCAL_WORLD_SIZE``) from the MPI launcher's, then run the script.

    python -m tinytorch.distributed._bootstrap script.py ARGS
    python -m tinytorch.distributed._bootstrap -m package.module ARGS
"""

import os
import runpy
import sys

# (torchrun's name, MPICH hydra's, Open MPI's)
_VARIABLES = [
    ("RANK", "PMI_RANK", "OMPI_COMM_WORLD_RANK"),
    ("WORLD_SIZE", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE"),
    ("LOCAL_RANK", "MPI_LOCALRANKID", "OMPI_COMM_WORLD_LOCAL_RANK"),
    ("LOCAL_WORLD_SIZE", "MPI_LOCALNRANKS", "OMPI_COMM_WORLD_LOCAL_SIZE"),
]


def set_torchrun_variables(environ=os.environ):
    for name, *launcher_names in _VARIABLES:
        for launcher_name in launcher_names:
            if launcher_name in environ:
                environ.setdefault(name, environ[launcher_name])
                break


def main(argv):
    if not argv:
        raise SystemExit("usage: python -m tinytorch.distributed._bootstrap [-m] SCRIPT [ARGS...]")
    set_torchrun_variables()
    if argv[0] == "-m":
        sys.argv = argv[1:]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = list(argv)
        sys.path.insert(0, os.path.dirname(os.path.abspath(argv[0])))
        runpy.run_path(argv[0], run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
