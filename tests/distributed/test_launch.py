"""``python -m tinytorch.distributed.run``: torchrun's command line, ranks started through mpiexec."""

import os
import re
import subprocess
import sys

import pytest

from tinytorch.distributed import _bootstrap, run

from .launch import ROOT, WORKERS, environment, mpiexec


@pytest.mark.slow
def test_run_starts_the_ranks_with_torchruns_variables():
    mpiexec()  # skips without MPI
    result = subprocess.run(
        [sys.executable, "-m", "tinytorch.distributed.run", "--nproc-per-node", "2", os.path.join(WORKERS, "launched.py"),
         "--epochs", "3"], cwd=ROOT, env=environment(), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = sorted(re.findall(r"rank \d of 2 .*?main __main__", result.stdout))  # the ranks' lines may interleave
    assert lines == [
        f"rank {r} of 2 backend mpi env {{'RANK': '{r}', 'WORLD_SIZE': '2', 'LOCAL_RANK': '{r}', 'LOCAL_WORLD_SIZE': '2'}} "
        "args ['--epochs', '3'] main __main__" for r in range(2)
    ]


def test_command_lines_for_one_and_several_machines(monkeypatch, tmp_path):
    monkeypatch.setattr(run.shutil, "which", lambda name: f"/usr/bin/{os.path.basename(name)}")
    monkeypatch.setattr(run, "_is_open_mpi", lambda mpiexec: False)
    one = run.build_command(run.parse_args(["--nproc-per-node", "4", "train.py", "--lr", "0.1"]))
    assert one == ["/usr/bin/mpiexec", "-n", "4", sys.executable, "-m", "tinytorch.distributed._bootstrap", "train.py", "--lr", "0.1"]
    hosts = tmp_path / "hosts"
    several = run.build_command(run.parse_args(["--nnodes", "2", "--nproc-per-node", "4", "--hostfile", str(hosts), "-m", "pkg.train"]))
    assert several[:7] == ["/usr/bin/mpiexec", "-n", "8", "-f", str(hosts), "-ppn", "4"]
    assert several[-3:] == ["tinytorch.distributed._bootstrap", "-m", "pkg.train"]
    monkeypatch.setattr(run, "_is_open_mpi", lambda mpiexec: True)
    open_mpi = run.build_command(run.parse_args(["--nnodes", "2", "--nproc-per-node", "2", "--hosts", "a,b", "x.py"]))
    assert open_mpi[:7] == ["/usr/bin/mpiexec", "-n", "4", "-H", "a,b", "--npernode", "2"]
    with pytest.raises(SystemExit):
        run.parse_args(["--nproc-per-node", "0", "x.py"])


def test_bootstrap_reads_mpich_and_open_mpi_variables():
    mpich = {"PMI_RANK": "3", "PMI_SIZE": "8", "MPI_LOCALRANKID": "1", "MPI_LOCALNRANKS": "2"}
    _bootstrap.set_torchrun_variables(mpich)
    assert (mpich["RANK"], mpich["WORLD_SIZE"], mpich["LOCAL_RANK"], mpich["LOCAL_WORLD_SIZE"]) == ("3", "8", "1", "2")
    open_mpi = {"OMPI_COMM_WORLD_RANK": "5", "OMPI_COMM_WORLD_SIZE": "6", "OMPI_COMM_WORLD_LOCAL_RANK": "2",
                "OMPI_COMM_WORLD_LOCAL_SIZE": "3", "RANK": "9"}
    _bootstrap.set_torchrun_variables(open_mpi)
    assert (open_mpi["RANK"], open_mpi["WORLD_SIZE"], open_mpi["LOCAL_RANK"]) == ("9", "6", "2")  # set ones stay
