"""examples/mnist_ddp.py on 2 ranks: it learns, rank 0 alone logs, evaluates and saves, and the
weights load into the lecture's MLP."""

import importlib.util
import os

import pytest

import tinytorch

from .launch import ROOT, run_ranks


def lecture_mlp():
    spec = importlib.util.spec_from_file_location("mnist_mlp", os.path.join(ROOT, "examples", "mnist_mlp.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.MLP()


@pytest.mark.slow
def test_mnist_ddp_trains_on_two_ranks(tmp_path):
    script = os.path.join(ROOT, "examples", "mnist_ddp.py")  # an absolute path: not a worker
    result = run_ranks(script, 2, "--epochs", "1", "--train-subset", "6000", "--test-subset", "1000", "--no-progress",
                       "--out", tmp_path, timeout=300)
    out = result.stdout
    assert "2 ranks (mpi), 3000 images and 500 steps of 6 per rank and epoch" in out
    assert out.count("Accuracy: ") == 1 and out.count("Finished Training") == 1  # rank 0 alone
    assert float(out.split("Accuracy: ")[1].split()[0]) > 0.5  # chance is 0.1; mnist_mlp.py on these 6000 gets as far
    assert "n_correct/n_predict: " in out and "/1000" in out
    model = lecture_mlp()
    model.load_state_dict(tinytorch.load(str(tmp_path / "mnist_ddp.safetensors")))
    assert model(tinytorch.zeros(1, 784)).shape == (1, 10)
