"""``python -m tinytorch.distributed.run``: torchrun's command line, starting the ranks with ``mpiexec``.

    python -m tinytorch.distributed.run --nproc-per-node 2 train.py --epochs 3
    python -m tinytorch.distributed.run --nnodes 2 --nproc-per-node 4 --hostfile hosts train.py

runs ``mpiexec -n N ... python -m tinytorch.distributed._bootstrap train.py ARGS``. Each rank finds
torchrun's variables (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``LOCAL_WORLD_SIZE``) in its
environment, and ``init_process_group()`` takes the ranks from MPI. Works with MPICH (the ``mpich``
wheel of ``pip install 'tinytorch[mpi]'``) and Open MPI.
"""

import argparse
import os
import shutil
import subprocess
import sys


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m tinytorch.distributed.run",
        description="Start a training script on several processes (and machines) through mpiexec.",
    )
    parser.add_argument("--nproc-per-node", "--nproc_per_node", type=int, default=1,
                        help="processes per machine (one per GPU with the nccl backend)")
    parser.add_argument("--nnodes", type=int, default=1, help="number of machines")
    parser.add_argument("--hostfile", help="a file naming the machines, one per line (MPICH: 'host:slots')")
    parser.add_argument("--hosts", help="comma-separated machine names, instead of a hostfile")
    parser.add_argument("--mpiexec", default=os.environ.get("MPIEXEC", "mpiexec"), help="the MPI launcher to run")
    parser.add_argument("--mpiexec-args", default="", help="more arguments for mpiexec, as one string")
    parser.add_argument("-m", "--module", action="store_true", help="run the script as a module (python -m)")
    parser.add_argument("--no-python", "--no_python", action="store_true",
                        help="run the script directly instead of through python")
    parser.add_argument("--dry-run", action="store_true", help="print the mpiexec command instead of running it")
    parser.add_argument("training_script", help="the program each rank runs")
    parser.add_argument("training_script_args", nargs=argparse.REMAINDER, help="its arguments")
    args = parser.parse_args(argv)
    if args.nproc_per_node < 1 or args.nnodes < 1:
        parser.error("--nproc-per-node and --nnodes must be at least 1")
    if args.hostfile and args.hosts:
        parser.error("give --hostfile or --hosts, not both")
    return args


def _is_open_mpi(mpiexec):
    try:
        version = subprocess.run([mpiexec, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "Open MPI" in version.stdout or "OpenRTE" in version.stdout


def build_command(args):
    """The mpiexec command line for ``args``."""
    mpiexec = shutil.which(args.mpiexec) or args.mpiexec
    if shutil.which(mpiexec) is None:
        raise SystemExit(f"{args.mpiexec} not found: pip install 'tinytorch[mpi]' installs MPICH's mpiexec, "
                         "or pass --mpiexec PATH")
    open_mpi = _is_open_mpi(mpiexec)
    command = [mpiexec, "-n", str(args.nproc_per_node * args.nnodes)]
    if args.hostfile:
        command += ["--hostfile" if open_mpi else "-f", args.hostfile]
    if args.hosts:
        command += ["-H" if open_mpi else "-hosts", args.hosts]
    if args.nnodes > 1 or args.hostfile or args.hosts:
        command += ["--npernode" if open_mpi else "-ppn", str(args.nproc_per_node)]
    command += args.mpiexec_args.split()
    if args.no_python:
        command += [args.training_script]
    else:
        command += [sys.executable, "-m", "tinytorch.distributed._bootstrap"]
        command += ["-m", args.training_script] if args.module else [args.training_script]
    return command + args.training_script_args


def main(argv=None):
    args = parse_args(argv)
    command = build_command(args)
    if args.dry_run:
        print(" ".join(command))
        return 0
    return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main())
