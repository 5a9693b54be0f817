"""Each example runs and learns what it should."""

import importlib.util
import os

import pytest

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


def load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(EXAMPLES, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mnist_mlp_trains_well_above_chance(tmp_path, capsys):
    accuracy = load("mnist_mlp").main([
        "--epochs", "1", "--train-subset", "6000", "--test-subset", "1000", "--no-progress", "--out", str(tmp_path),
    ])
    out = capsys.readouterr().out
    assert accuracy > 0.5  # chance is 0.1; the lecture reaches 0.976 after 10 full epochs
    assert "Finished Training" in out and "n_correct/n_predict:" in out and "Accuracy: " in out
    assert "[1,  2000] loss:" not in out  # 500 batches: no 2000-batch log line yet
    assert "GroundTruth:      7     2     1     0     4     1     4     9     5     9     0     6" in out
    assert (tmp_path / "mnist_mlp.safetensors").exists()
    assert (tmp_path / "predictions.png").exists()


def test_mnist_weights_reload(tmp_path):
    import tinytorch

    module = load("mnist_mlp")
    module.main(["--epochs", "1", "--train-subset", "600", "--test-subset", "100", "--no-progress", "--out", str(tmp_path)])
    model = module.MLP()
    model.load_state_dict(tinytorch.load(str(tmp_path / "mnist_mlp.safetensors")))
    assert model(tinytorch.zeros(1, 784)).shape == (1, 10)


@pytest.mark.parametrize("activation", ["tanh", "relu", "leaky_relu"])
def test_xor_needs_a_hidden_layer(tmp_path, activation):
    results = load("xor").main(["--activation", activation, "--out", str(tmp_path), "--epochs", "1500"])
    linear, hidden = results.values()
    assert linear <= 0.75  # no line separates XOR
    assert hidden == 1.0
    assert (tmp_path / "xor.png").exists()


def test_logistic_regression_separates_two_blobs():
    assert load("logistic_regression").main([]) > 0.9


def test_linear_regression_recovers_the_line():
    slope, intercept, loss = load("regression").main([])
    assert abs(slope - 3) < 0.05 and abs(intercept + 2) < 0.05 and loss < 0.02
