"""tinytorch.save / load of NumPy arrays and whole modules, and PyTorch's weights_only and
safe-globals API."""

import io
import json
import pickle
import re
import struct

import numpy as np
import pytest
import safetensors.numpy

import tinytorch
import tinytorch.nn.functional as F
from tinytorch import nn, optim
from tinytorch.serialization import add_safe_globals, clear_safe_globals, get_safe_globals, safe_globals


class Block(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.fc = nn.Linear(width, width)
        self.norm = nn.BatchNorm1d(width)

    def forward(self, x):
        return self.norm(self.fc(x)).relu()


class Net(nn.Module):
    """Submodules, a shared module, a frozen parameter, buffers of both kinds and plain attributes."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(Block(4), nn.Dropout(0.25), Block(4))
        self.head = nn.Linear(4, 2)
        self.same_head = self.head
        self.scale = nn.Parameter(tinytorch.ones(1), requires_grad=False)
        self.register_buffer("steps", tinytorch.tensor(0))
        self.register_buffer("scratch", tinytorch.zeros(3), persistent=False)
        self.activation = F.relu
        self.norm_class = nn.BatchNorm1d
        self.settings = {"name": "net", "sizes": (4, 2), "tags": {"a", "b"}, "dtype": tinytorch.float64,
                         "device": tinytorch.device("cpu"), "rate": float("inf")}

    def forward(self, x):
        return self.head(self.activation(self.body(x))) * self.scale


def _round_trip(obj, **load_kwargs):
    buffer = io.BytesIO()
    tinytorch.save(obj, buffer)
    buffer.seek(0)
    return tinytorch.load(buffer, **load_kwargs)


def _header(raw):
    (length,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8 : 8 + length])


@pytest.fixture(autouse=True)
def _no_safe_globals_leak():
    clear_safe_globals()
    yield
    clear_safe_globals()


# -- NumPy arrays ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64, np.uint8, np.bool_])
def test_numpy_arrays_round_trip_as_arrays(dtype):
    rng = np.random.default_rng(0)
    arrays = {"a": (rng.standard_normal((3, 4)) * 50).astype(dtype), "empty": np.zeros((0, 2), dtype=dtype),
              "scalar": np.asarray(7, dtype=dtype)}
    loaded = _round_trip({"arrays": arrays, "list": [arrays["a"].T], "tensor": tinytorch.ones(2)})
    for key, array in arrays.items():
        assert isinstance(loaded["arrays"][key], np.ndarray)
        assert loaded["arrays"][key].dtype == array.dtype and loaded["arrays"][key].shape == array.shape
        np.testing.assert_array_equal(loaded["arrays"][key], array)
    np.testing.assert_array_equal(loaded["list"][0], arrays["a"].T)  # a transposed view saves its values
    assert isinstance(loaded["tensor"], tinytorch.Tensor)


def test_a_numpy_array_alone_and_twice():
    array = np.arange(6).reshape(2, 3)
    np.testing.assert_array_equal(_round_trip(array), array)
    loaded = _round_trip([array, array])
    assert loaded[0] is loaded[1]


def test_numpy_arrays_are_safetensors_entries(tmp_path):
    tinytorch.save({"x": np.ones(3, dtype=np.float32)}, tmp_path / "f")
    np.testing.assert_array_equal(safetensors.numpy.load_file(tmp_path / "f")["x"], np.ones(3, dtype=np.float32))


def test_numpy_arrays_of_other_dtypes_are_refused():
    for array in [np.ones(2, dtype=np.complex64), np.array(["a"]), np.array([object()])]:
        with pytest.raises(TypeError, match="can't store a NumPy array of dtype"):
            tinytorch.save({"x": array}, io.BytesIO())


def test_dtypes_devices_and_sets_round_trip():
    value = {"d": tinytorch.int32, "dev": tinytorch.device("cpu"), "s": {1, 2}, "f": frozenset({"x"})}
    assert _round_trip(value) == value


# -- the safe-globals API -------------------------------------------------------------------------
def test_the_safe_globals_api_is_pytorchs():
    torch = pytest.importorskip("torch")
    for name in ["add_safe_globals", "clear_safe_globals", "get_safe_globals", "safe_globals"]:
        assert hasattr(torch.serialization, name) and hasattr(tinytorch.serialization, name)
    assert get_safe_globals() == []
    add_safe_globals([Net, (Block, "tests.Block")])
    assert get_safe_globals() == [Net, (Block, "tests.Block")]
    with safe_globals([nn.Linear]):
        assert get_safe_globals() == [Net, (Block, "tests.Block"), nn.Linear]
    assert get_safe_globals() == [Net, (Block, "tests.Block")]
    clear_safe_globals()
    assert get_safe_globals() == []
    with pytest.raises(TypeError):
        add_safe_globals([3])


# -- whole modules --------------------------------------------------------------------------------
def test_a_saved_model_is_its_state_dict_in_safetensors(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 1))
    tinytorch.save(model, tmp_path / "model.pt")
    tensors = safetensors.numpy.load_file(tmp_path / "model.pt")
    state = model.state_dict()
    assert set(tensors) == set(state)
    for key, value in state.items():
        np.testing.assert_array_equal(tensors[key], value.numpy())
    # Inside a checkpoint the names carry the checkpoint's key.
    tinytorch.save({"model": model, "epoch": 3}, tmp_path / "ckpt.pt")
    assert set(safetensors.numpy.load_file(tmp_path / "ckpt.pt")) == {f"model.{key}" for key in state}


def test_loading_a_model_is_refused_by_default_with_pytorchs_message():
    buffer = io.BytesIO()
    tinytorch.save(Net(), buffer)
    buffer.seek(0)
    with pytest.raises(pickle.UnpicklingError) as refused:
        tinytorch.load(buffer)
    message = str(refused.value)
    assert "GLOBAL tests.test_serialization_models.Net was not an allowed global by default" in message
    assert "`tinytorch.serialization.add_safe_globals([tests.test_serialization_models.Net])`" in message
    torch = pytest.importorskip("torch")
    theirs = io.BytesIO()
    torch.save(torch.nn.Linear(1, 1), theirs)
    theirs.seek(0)
    with pytest.raises(pickle.UnpicklingError) as refused_by_torch:
        torch.load(theirs)
    expected = re.sub(r"\x1b\[[0-9;]*m", "", str(refused_by_torch.value)).split("\n\nCheck the documentation")[0]
    expected = expected.replace("torch.nn.modules.linear.Linear", "tests.test_serialization_models.Net")
    expected = expected.replace("Re-running `torch.load`", "Re-running `tinytorch.load`").replace("`torch.serialization.", "`tinytorch.serialization.")
    assert message == expected


def test_a_model_comes_back_whole_with_weights_only_false():
    model = Net()
    model.body[0].norm.running_mean.fill_(0.5)
    model.steps += 3
    model.eval()
    loaded = _round_trip(model, weights_only=False)
    assert type(loaded) is Net and type(loaded.body[0]) is Block and not loaded.training and not loaded.body[1].training
    assert loaded.head is loaded.same_head  # a module held twice is one module
    assert isinstance(loaded.scale, nn.Parameter) and not loaded.scale.requires_grad
    assert isinstance(loaded.head.weight, nn.Parameter) and loaded.head.weight.requires_grad
    assert loaded.activation is F.relu and loaded.norm_class is nn.BatchNorm1d
    assert loaded.settings == model.settings
    assert loaded.steps.item() == 3 and "scratch" not in loaded.state_dict() and loaded.scratch.shape == (3,)
    assert list(loaded.state_dict()) == list(model.state_dict())
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(loaded.state_dict()[key].numpy(), value.numpy())
    x = tinytorch.randn(5, 4)
    np.testing.assert_allclose(loaded(x).detach().numpy(), model(x).detach().numpy())
    assert loaded(x).detach().numpy() is not None and repr(loaded) == repr(model)


def test_a_loaded_model_trains():
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    loaded = _round_trip(model, weights_only=False)
    optimizer = optim.SGD(loaded.parameters(), lr=0.1)
    x, y = tinytorch.randn(16, 3), tinytorch.randn(16, 1)
    losses = []
    for _ in range(20):
        optimizer.zero_grad()
        loss = F.mse_loss(loaded(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    assert not np.allclose(loaded[0].weight.detach().numpy(), model[0].weight.detach().numpy())  # its own parameters


def test_allowlisted_classes_load_with_weights_only():
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    buffer = io.BytesIO()
    tinytorch.save(model, buffer)
    with safe_globals([nn.Sequential, nn.Linear]):
        buffer.seek(0)
        with pytest.raises(pickle.UnpicklingError, match="GLOBAL tinytorch.nn.modules.activation.ReLU was not an allowed"):
            tinytorch.load(buffer)
    add_safe_globals([nn.Sequential, nn.Linear, nn.ReLU])
    buffer.seek(0)
    loaded = tinytorch.load(buffer)
    assert isinstance(loaded, nn.Sequential) and isinstance(loaded[1], nn.ReLU)


def test_map_location_applies_to_a_models_tensors(device):
    model = nn.Linear(2, 3).to(device)
    loaded = _round_trip(model, weights_only=False, map_location="cpu")
    assert loaded.weight.device.type == "cpu" and isinstance(loaded.weight, nn.Parameter)


def _file_naming(node):
    """A tinytorch file whose object is the given description node."""
    metadata = {"format": "pt", "tinytorch": json.dumps({"version": 1, "object": node})}
    return io.BytesIO(safetensors.numpy.save({"x": np.zeros(1, dtype=np.float32)}, metadata=metadata))


def test_weights_only_loads_never_import():
    node = {"global": ["a_module_nobody_has_xyz", "run"]}
    with pytest.raises(pickle.UnpicklingError, match="GLOBAL a_module_nobody_has_xyz.run was not an allowed global"):
        tinytorch.load(_file_naming(node))
    with pytest.raises(ModuleNotFoundError):
        tinytorch.load(_file_naming(node), weights_only=False)


def test_named_functions_are_looked_up_never_called():
    loaded = tinytorch.load(_file_naming({"global": ["os", "getcwd"]}), weights_only=False)
    import os

    assert loaded is os.getcwd  # the function itself, uncalled
    with pytest.raises(RuntimeError, match="os.sep is not a class or function"):
        tinytorch.load(_file_naming({"global": ["os", "sep"]}), weights_only=False)


def test_only_modules_are_rebuilt():
    state = [["_parameters", {"dict": []}], ["_buffers", {"dict": []}], ["_modules", {"dict": []}]]
    with pytest.raises(RuntimeError, match="collections.OrderedDict is not a tinytorch.nn.Module"):
        tinytorch.load(_file_naming({"module": ["collections", "OrderedDict"], "state": state}), weights_only=False)
    with pytest.raises(RuntimeError, match="lacks its parameters, buffers or submodules"):
        tinytorch.load(_file_naming({"module": ["tinytorch.nn.modules.linear", "Identity"], "state": []}), weights_only=False)
    identity = tinytorch.load(_file_naming({"module": ["tinytorch.nn.modules.linear", "Identity"], "state": state}), weights_only=False)
    assert isinstance(identity, nn.Identity)


def test_what_cannot_be_named_is_refused_at_save():
    model = nn.Linear(2, 2)
    model.transform = lambda x: x * 2
    with pytest.raises(TypeError, match=r"can't store an object of type function \(at transform\)"):
        tinytorch.save(model, io.BytesIO())

    class Local(nn.Module):
        pass

    with pytest.raises(TypeError, match="must be importable by name"):
        tinytorch.save(Local(), io.BytesIO())


def test_an_explicit_pickle_module_is_refused_for_weights_only_loads():
    buffer = io.BytesIO()
    tinytorch.save({"x": tinytorch.ones(1)}, buffer)
    buffer.seek(0)
    with pytest.raises(RuntimeError, match="Can not safely load weights when explicit pickle_module is specified"):
        tinytorch.load(buffer, pickle_module=pickle)
    buffer.seek(0)
    assert tinytorch.load(buffer, pickle_module=pickle, weights_only=False)["x"].item() == 1.0


@pytest.mark.parametrize("make, shape", [
    (lambda: nn.LSTM(3, 4, num_layers=2, bidirectional=True), (5, 2, 3)),
    (lambda: nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0), (5, 2, 8)),
    (lambda: nn.Sequential(nn.Conv2d(2, 3, 3, padding="same"), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(), nn.Linear(48, 2)), (2, 2, 4, 4)),
    (lambda: nn.Embedding(10, 4), None),
])
def test_built_in_layers_come_back_working(make, shape):
    model = make().eval()
    loaded = _round_trip(model, weights_only=False)
    x = tinytorch.randint(0, 10, (3, 2)) if shape is None else tinytorch.randn(*shape)
    ours, theirs = loaded(x), model(x)
    ours, theirs = (ours[0], theirs[0]) if isinstance(ours, tuple) else (ours, theirs)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-6)
    assert repr(loaded) == repr(model)
