"""Nothing lost: a checkpoint survives a process killed mid-save, a run resumed from a checkpoint in
a fresh process is bit-identical to one that never stopped, and a seed fixes every loss."""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import tinytorch

from ._training import Run

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}


def python(*args, **kwargs):
    return subprocess.Popen([sys.executable, *args], cwd=ROOT, env=ENV, text=True, **kwargs)


# -- (a) atomic saves, under SIGKILL ---------------------------------------------------------------
SAVER = r"""
import sys
import numpy as np
import tinytorch

path = sys.argv[1]
version = tinytorch.load(path)["version"]  # whatever the last kill left must load
weights = np.empty(4 * 2**20, dtype=np.float32)  # 16 MiB: a save takes a while
while True:
    version += 1
    weights.fill(version)
    print("saving", version, flush=True)
    tinytorch.save({"version": version, "weights": tinytorch.from_numpy(weights), "last": tinytorch.tensor([version])}, path)
    print("saved", version, flush=True)
"""


def check_complete(path):
    """The file loads and is one complete version: every value agrees with its version number."""
    state = tinytorch.load(path)
    version = state["version"]
    weights = state["weights"].numpy()
    assert weights.shape == (4 * 2**20,) and (weights == version).all() and state["last"].tolist() == [version]
    return version


def wait_for_temporary_file(folder, timeout=30.0):
    """Poll until a save's temporary file exists: the save is then between writing and renaming."""
    deadline = time.perf_counter() + timeout
    while not any(name.endswith(".tmp") for name in os.listdir(folder)):
        if time.perf_counter() > deadline:
            raise AssertionError("the saver never started writing")
        time.sleep(0.0002)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_checkpoint_survives_sigkill_in_the_middle_of_save(tmp_path):
    """Eight kills: four at random moments of the save loop (a save here is about 50 ms: two thirds
    building the bytes, one third writing and fsyncing the temporary file), and four aimed at the
    write itself (as soon as the temporary file appears). After each, the file loads and is the
    newest complete version, and the next saver starts from it."""
    path = tmp_path / "ckpt.safetensors"
    tinytorch.save({"version": 0, "weights": tinytorch.zeros(4 * 2**20), "last": tinytorch.tensor([0])}, path)
    delays = random.Random(0)
    kills, mid_save, mid_write, versions = 8, 0, 0, []
    start = time.perf_counter()
    for kill in range(kills):
        saver = python("-c", SAVER, str(path), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if kill % 2:
            wait_for_temporary_file(tmp_path)
            first = ""
        else:
            first = saver.stdout.readline()  # "saving N": the loop has begun (the import takes about 0.3 s)
            time.sleep(delays.uniform(0.0, 0.5))
        saver.send_signal(signal.SIGKILL)
        out, err = saver.communicate(timeout=30)
        assert saver.returncode == -signal.SIGKILL, err
        words = (first + out).split()
        started = [int(v) for word, v in zip(words[::2], words[1::2]) if word == "saving"]
        finished = [int(v) for word, v in zip(words[::2], words[1::2]) if word == "saved"]
        assert started, f"the saver never started saving: {err}"
        version = check_complete(path)
        # The newest complete version: the last one reported saved, or the one in progress when
        # the kill came after its rename but before it printed "saved".
        last_saved = finished[-1] if finished else versions[-1] if versions else 0
        assert version in (last_saved, started[-1]), (version, last_saved, started[-1])
        mid_save += started[-1] != last_saved
        leftovers = list(tmp_path.glob(".ckpt.safetensors.*.tmp"))  # a save killed mid-write leaves its temporary file
        mid_write += bool(leftovers)
        for leftover in leftovers:
            leftover.unlink()
        versions.append(version)
    print(f"\n{kills} kills in {time.perf_counter() - start:.1f} s: {mid_save} inside save(), {mid_write} between "
          f"creating the temporary file and renaming it; versions {versions}")
    assert mid_save >= kills // 2 and mid_write >= 1  # the kills did land inside save, and inside the write
    assert versions == sorted(versions) and versions[-1] > 0  # each saver went on from the last one's file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.safetensors"]


# -- (b) exact resume in a fresh process -----------------------------------------------------------
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("stop_at,loader_generator", [
    pytest.param(16, False, id="epoch-boundary"),  # the DataLoader draws its shuffle from the global RNG
    pytest.param(19, True, id="mid-epoch"),  # the DataLoader has its own generator: its epoch is replayed
])
def test_resume_in_a_fresh_process_is_bit_identical(tmp_path, optimizer, stop_at, loader_generator):
    total = 40  # 5 epochs of 8 steps
    first = Run(0, optimizer, loader_generator)
    first.train(stop_at)
    tinytorch.save(first.checkpoint(), tmp_path / "ckpt")
    child = python("-m", "tests.reliability._training", "resume", str(tmp_path / "ckpt"), str(total), str(tmp_path / "final"),
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    reference = Run(0, optimizer, loader_generator)  # meanwhile: the run that never stopped
    reference.train(total)
    assert reference.losses[:stop_at] == first.losses
    control = Run.resume(tinytorch.load(tmp_path / "ckpt"), restore_rng=False)  # a resume that forgets the RNG
    control.train(total)

    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    resumed = {name: tensor.numpy() for name, tensor in tinytorch.load(tmp_path / "final").items()}
    expected = reference.parameters()
    assert resumed.keys() == expected.keys()
    for name in expected:
        assert resumed[name].dtype == expected[name].dtype
        assert resumed[name].tobytes() == expected[name].tobytes(), f"{name} differs after resuming"
    # The comparison can fail: without the RNG state, Dropout and the shuffle differ.
    assert any(not np.array_equal(control.parameters()[name], expected[name]) for name in expected)


def test_a_run_without_its_own_loader_generator_refuses_a_mid_epoch_resume():
    state = Run(0, "sgd", loader_generator=False)
    state.train(3)
    run = Run.resume(state.checkpoint())
    with pytest.raises(RuntimeError, match="epoch boundary"):
        run.train(10)


# -- (c) determinism -------------------------------------------------------------------------------
def test_the_same_seed_gives_bit_identical_losses_in_two_processes():
    runs = [python("-m", "tests.reliability._training", "losses", seed, "adam", "40", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for seed in ("0", "0", "1")]
    losses = []
    for run in runs:
        out, err = run.communicate(timeout=60)
        assert run.returncode == 0, err
        losses.append(json.loads(out))
    same_seed_a, same_seed_b, other_seed = losses
    assert len(same_seed_a) == 40
    assert same_seed_a == same_seed_b  # float.hex: bit for bit
    assert same_seed_a != other_seed  # the seed does matter
    in_process = Run(0, "adam", loader_generator=False)
    in_process.train(40)
    assert [loss.hex() for loss in in_process.losses] == same_seed_a


# -- (d) Ctrl-C in the middle of an epoch of the example -------------------------------------------
def test_ctrl_c_mid_epoch_keeps_the_last_checkpoint_and_the_run_resumes_exactly(tmp_path):
    """examples/mnist_mlp.py gets SIGINT while epoch 2 of 3 runs: it stops (exit code 130), its
    checkpoint is epoch 1's, whole, and ``--resume`` finishes with weights bit-identical to a run
    that was never interrupted."""
    args = ["examples/mnist_mlp.py", "--epochs", "3", "--train-subset", "1200", "--test-subset", "100", "--no-progress", "--seed", "3"]
    reference = python(*args, "--out", str(tmp_path / "reference"), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    run = tmp_path / "run"
    # SIGINT as a terminal's Ctrl-C delivers it: a test run started in the background (``cmd &``
    # in a script) inherits SIGINT ignored, and Python then never raises KeyboardInterrupt.
    interrupted = python(*args, "--out", str(run), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    seen = []
    for line in interrupted.stdout:
        seen.append(line)
        if line.startswith("epoch 2 starts"):
            break
    time.sleep(0.1)  # a few batches in (the assertions below hold for any moment inside the epoch)
    interrupted.send_signal(signal.SIGINT)
    out, err = interrupted.communicate(timeout=300)
    out = "".join(seen) + out
    assert interrupted.returncode == 130, err
    assert "Traceback" not in err
    assert "epoch 1 took" in out and "epoch 2 took" not in out, out
    done = int(out.split("interrupted in epoch 2 after ")[1].split()[0])
    assert done < 100, out  # 1200 images in batches of 12: the signal came mid-epoch
    assert "rerun with --resume to continue" in out
    checkpoint = tinytorch.load(run / "checkpoint.safetensors")
    assert checkpoint["epoch"] == 1
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint.safetensors"]  # no temporary file, no final weights

    resumed = python(*args, "--out", str(run), "--resume", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    assert f"resumed from {run / 'checkpoint.safetensors'}: 1 epoch(s) done" in out
    assert "epoch 1 starts" not in out and "epoch 2 starts" in out and "epoch 3 starts" in out
    out, err = reference.communicate(timeout=300)
    assert reference.returncode == 0, err
    assert tinytorch.load(run / "checkpoint.safetensors")["epoch"] == 3
    final = tinytorch.load(run / "mnist_mlp.safetensors")
    expected = tinytorch.load(tmp_path / "reference" / "mnist_mlp.safetensors")
    assert final.keys() == expected.keys()
    for name in expected:
        assert final[name].numpy().tobytes() == expected[name].numpy().tobytes(), f"{name} differs after resuming"
