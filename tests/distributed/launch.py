"""Start a worker script on several ranks through ``mpiexec``, bounded by a timeout.

Tests call ``run_ranks("collectives.py", 3, ...)``: the script runs from ``tests/distributed/workers``
with the repository on ``PYTHONPATH``; ``fake_cuda=True`` runs it on the CuPy stand-in
(``tests/fake_cupy.py``, with ``tests/distributed/fake_nccl.py`` as ``cupy.cuda.nccl``). Tests skip,
saying why, when mpi4py or mpiexec is missing (``pip install 'tinytorch[mpi]'``).
"""

import importlib.util
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORKERS = os.path.join(ROOT, "tests", "distributed", "workers")


def mpiexec():
    """The launcher, or skip the test: mpi4py and MPICH's mpiexec come with tinytorch[mpi]."""
    if importlib.util.find_spec("mpi4py") is None:
        pytest.skip("mpi4py is not installed (pip install 'tinytorch[mpi]')")
    launcher = shutil.which("mpiexec") or shutil.which("mpirun")
    if launcher is None:
        pytest.skip("no mpiexec on PATH (pip install 'tinytorch[mpi]' installs MPICH's)")
    return launcher


def environment(**extra):
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env["OMP_NUM_THREADS"] = env["OPENBLAS_NUM_THREADS"] = env["MKL_NUM_THREADS"] = "1"  # ranks share 2 cores
    env.pop("TINYTORCH_FAKE_CUDA", None)  # the ranks install the stand-ins themselves (fake_nccl.py)
    env.update({key: str(value) for key, value in extra.items()})
    return env


def command(script, nprocs, *args, fake_cuda=False):
    """The mpiexec command line that runs a worker script on ``nprocs`` ranks."""
    python = [sys.executable, "-m", "tests.distributed.fake_nccl"] if fake_cuda else [sys.executable]
    return [mpiexec(), "-n", str(nprocs), *python, os.path.join(WORKERS, script), *map(str, args)]


def run_ranks(script, nprocs, *args, timeout=180, fake_cuda=False, check=True, **env):
    """Run ``script`` (a worker's name, or any absolute path) on ``nprocs`` ranks; the finished
    process (stdout and stderr as text). With ``check``, a non-zero exit fails the test with the
    ranks' output."""
    try:
        result = subprocess.run(command(script, nprocs, *args, fake_cuda=fake_cuda), cwd=ROOT,
                                env=environment(**env), capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as expired:
        pytest.fail(f"{script} on {nprocs} ranks ran past {timeout} s:\n{expired.stdout}\n{expired.stderr}")
    if check and result.returncode != 0:
        pytest.fail(f"{script} on {nprocs} ranks exited with {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result
