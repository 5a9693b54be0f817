"""tinytorch.save / load: exact round trips, the safetensors layout, atomic saves, hostile files."""

import io
import json
import os
import struct
from collections import OrderedDict

import numpy as np
import pytest
import safetensors.numpy
from hypothesis import HealthCheck, given, settings, strategies as st

import tinytorch
from tinytorch import optim

DTYPES = [
    tinytorch.float16, tinytorch.float32, tinytorch.float64, tinytorch.int8, tinytorch.int16,
    tinytorch.int32, tinytorch.int64, tinytorch.uint8, tinytorch.bool,
]


def _round_trip(obj, **load_kwargs):
    buffer = io.BytesIO()
    tinytorch.save(obj, buffer)
    buffer.seek(0)
    return tinytorch.load(buffer, **load_kwargs)


def _sample(dtype, shape):
    rng = np.random.default_rng(7)
    numpy_dtype = dtype.numpy
    if numpy_dtype.kind == "f":
        array = rng.standard_normal(shape) * 1e3
        array.flat[:3] = [np.inf, -np.inf, np.nan][: array.size]
    elif numpy_dtype.kind == "b":
        array = rng.integers(0, 2, shape)
    else:
        info = np.iinfo(numpy_dtype)
        array = rng.integers(info.min, info.max, shape, endpoint=True, dtype=numpy_dtype)
    return tinytorch.tensor(np.asarray(array).astype(numpy_dtype))


def _same(a, b):
    assert isinstance(b, tinytorch.Tensor)
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a.cpu().numpy(), b.cpu().numpy())


# -- round trips ----------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("shape", [(), (0,), (5,), (2, 3, 4), (0, 3)], ids=str)
def test_every_dtype_round_trips_exactly(dtype, shape):
    tensor = _sample(dtype, shape)
    loaded = _round_trip({"t": tensor})["t"]
    _same(tensor, loaded)
    if dtype.is_floating_point and tensor.numel() >= 3:  # inf, -inf and nan survive bit for bit
        assert np.isnan(loaded.numpy().flat[2]) and loaded.numpy().flat[0] == np.inf


def test_nested_structures_and_plain_values_round_trip():
    tensor = tinytorch.arange(6.0).reshape(2, 3)
    obj = {
        "model": OrderedDict([("fc.weight", tensor), ("fc.bias", tinytorch.zeros(3))]),
        "epoch": 12,
        "big": 2**70,
        "loss": 0.125,
        "specials": [float("inf"), float("-inf"), -0.0],
        "flags": (True, False, None),
        "name": "résumé ✓",
        "nested": {0: {"deep": [[], {}, ()]}, "1": [1, 2.5, "x"], (1, "a"): None, None: 3, 2.5: "f", True: "t"},
    }
    loaded = _round_trip(obj)
    assert type(loaded["model"]) is OrderedDict and list(loaded["model"]) == ["fc.weight", "fc.bias"]
    _same(tensor, loaded["model"]["fc.weight"])
    assert loaded["epoch"] == 12 and type(loaded["epoch"]) is int
    assert loaded["big"] == 2**70 and loaded["loss"] == 0.125
    assert loaded["specials"][:2] == [float("inf"), float("-inf")] and str(loaded["specials"][2]) == "-0.0"
    assert loaded["flags"] == (True, False, None) and type(loaded["flags"]) is tuple
    assert loaded["name"] == "résumé ✓"
    assert loaded["nested"] == obj["nested"]
    assert list(loaded["nested"]) == list(obj["nested"])  # key types and order kept
    assert type(list(loaded["nested"])[0]) is int and type(list(loaded["nested"])[-1]) is bool


def test_nan_float_round_trips():
    assert np.isnan(_round_trip({"x": float("nan")})["x"])


def test_non_contiguous_and_storage_sharing_tensors_round_trip():
    base = tinytorch.arange(24.0).reshape(4, 6)
    obj = {"transposed": base.t(), "strided": base[:, ::2], "row": base[1], "base": base}
    loaded = _round_trip(obj)
    for key, value in obj.items():
        _same(value, loaded[key])
    loaded["row"].add_(100)  # independent copies after loading
    assert loaded["base"][1, 0].item() == 6.0


def test_the_same_tensor_twice_is_stored_once_and_loads_as_one_tensor(tmp_path):
    tensor = tinytorch.ones(3)
    tinytorch.save({"a": tensor, "b": [tensor]}, tmp_path / "f")
    assert list(safetensors.numpy.load_file(tmp_path / "f")) == ["a"]
    loaded = tinytorch.load(tmp_path / "f")
    assert loaded["a"] is loaded["b"][0]


def test_requires_grad_is_not_stored():
    weight = tinytorch.ones(2, requires_grad=True)
    loaded = _round_trip({"w": weight})["w"]
    assert not loaded.requires_grad and loaded.grad_fn is None
    _same(weight.detach(), loaded)


def test_a_bare_tensor_and_plain_values_can_be_saved():
    tensor = tinytorch.tensor([1, 2, 3])
    _same(tensor, _round_trip(tensor))
    assert _round_trip(5) == 5 and _round_trip(None) is None and _round_trip([]) == []


def test_model_and_optimizer_checkpoint(tmp_path):
    weight = tinytorch.randn(3, 2, requires_grad=True)
    optimizer = optim.Adam([weight], lr=0.01, betas=(0.8, 0.9))
    (weight**2).sum().backward()
    optimizer.step()
    tinytorch.save({"weight": weight, "optimizer": optimizer.state_dict(), "epoch": 1}, tmp_path / "ckpt.pt")
    checkpoint = tinytorch.load(tmp_path / "ckpt.pt")
    saved = checkpoint["optimizer"]
    assert saved["param_groups"][0]["betas"] == (0.8, 0.9) and saved["param_groups"][0]["params"] == [0]
    assert set(saved["state"]) == {0}  # integer keys come back as integers
    _same(optimizer.state[weight]["exp_avg"], saved["state"][0]["exp_avg"])
    restored = optim.Adam([checkpoint["weight"].requires_grad_()], lr=1.0)
    restored.load_state_dict(saved)
    assert restored.param_groups[0]["lr"] == 0.01


def test_paths_pathlike_and_file_objects(tmp_path):
    tensor = tinytorch.arange(4)
    tinytorch.save({"t": tensor}, str(tmp_path / "a"))
    tinytorch.save({"t": tensor}, tmp_path / "b")
    with open(tmp_path / "c", "wb") as file:
        tinytorch.save({"t": tensor}, file)
    for name in "abc":
        with open(tmp_path / name, "rb") as file:
            _same(tensor, tinytorch.load(file)["t"])
        _same(tensor, tinytorch.load(tmp_path / name, weights_only=False)["t"])
    assert (tmp_path / "a").read_bytes() == (tmp_path / "c").read_bytes()


def test_equal_objects_give_identical_bytes():
    def save():
        buffer = io.BytesIO()
        tinytorch.save({"w": tinytorch.ones(2), "epoch": 1}, buffer)
        return buffer.getvalue()

    assert len({save() for _ in range(8)}) == 1


def test_unsupported_objects_raise_type_error_and_write_nothing(tmp_path):
    path = tmp_path / "f"
    with pytest.raises(TypeError, match="can't store an object of type object"):
        tinytorch.save({"x": object()}, path)
    with pytest.raises(TypeError, match="dict key of type"):
        tinytorch.save({frozenset(): 1}, path)
    assert list(tmp_path.iterdir()) == []


def test_a_lazy_modules_state_dict_keeps_its_uninitialized_parameters():
    """As in PyTorch: before the first forward a lazy module's state_dict holds uninitialized
    parameters and buffers; they save, load and load into another lazy module, which still
    infers its shapes at its first forward."""
    linear = tinytorch.nn.LazyLinear(4, dtype=tinytorch.float64)
    norm = tinytorch.nn.LazyBatchNorm1d()
    state = _round_trip({"linear": linear.state_dict(), "norm": norm.state_dict()})
    weight = state["linear"]["weight"]
    assert type(weight) is tinytorch.nn.UninitializedParameter and weight.requires_grad and weight.dtype == tinytorch.float64
    assert type(state["norm"]["running_mean"]) is tinytorch.nn.UninitializedBuffer
    assert state["norm"]["num_batches_tracked"].item() == 0
    fresh = tinytorch.nn.LazyLinear(4, dtype=tinytorch.float64)
    fresh.load_state_dict(state["linear"])
    assert fresh(tinytorch.ones(2, 3, dtype=tinytorch.float64)).shape == (2, 4)
    assert fresh.weight.shape == (4, 3)
    torch = pytest.importorskip("torch")
    assert isinstance(torch.nn.LazyLinear(4).state_dict()["weight"], torch.nn.UninitializedParameter)


def test_a_lazy_module_before_its_first_forward_is_refused_whole_and_nothing_is_written(tmp_path):
    model = tinytorch.nn.Sequential(tinytorch.nn.LazyLinear(4), tinytorch.nn.ReLU())
    with pytest.raises(TypeError, match=r"lazy module LazyLinear \(at 0\) before its first forward.*state_dict"):
        tinytorch.save(model, tmp_path / "model")
    assert list(tmp_path.iterdir()) == []
    model(tinytorch.ones(2, 3))  # initialized: a plain module now
    loaded = _round_trip(model, weights_only=False)
    np.testing.assert_array_equal(loaded[0].weight.detach().numpy(), model[0].weight.detach().numpy())


# -- the safetensors layout -----------------------------------------------------------------------
def test_a_flat_state_dict_is_a_plain_safetensors_file(tmp_path):
    state = {"fc.weight": tinytorch.randn(3, 2), "fc.bias": tinytorch.zeros(3, dtype=tinytorch.float64), "steps": tinytorch.tensor(4)}
    tinytorch.save(state, tmp_path / "model.safetensors")
    arrays = safetensors.numpy.load_file(tmp_path / "model.safetensors")
    assert set(arrays) == set(state)
    for key, tensor in state.items():
        assert arrays[key].dtype == tensor.numpy().dtype
        np.testing.assert_array_equal(arrays[key], tensor.numpy())


def test_nested_tensors_are_named_by_their_path(tmp_path):
    tinytorch.save({"model": {"w": tinytorch.ones(1)}, "opt": {"state": {0: {"m": tinytorch.ones(1)}}}, "model.w": tinytorch.zeros(1)}, tmp_path / "f")
    assert set(safetensors.numpy.load_file(tmp_path / "f")) == {"model.w", "opt.state.0.m", "model.w#1"}


def test_a_safetensors_file_from_elsewhere_loads_as_a_flat_dict(tmp_path):
    arrays = {"b": np.arange(3, dtype=np.int16), "a": np.ones((2, 2), np.float32)}
    safetensors.numpy.save_file(arrays, tmp_path / "x.safetensors", metadata={"format": "np"})
    loaded = tinytorch.load(tmp_path / "x.safetensors")
    assert set(loaded) == {"a", "b"}
    np.testing.assert_array_equal(loaded["b"].numpy(), arrays["b"])


def test_torch_safetensors_reads_our_files_and_we_read_theirs(tmp_path):
    torch = pytest.importorskip("torch")
    import safetensors.torch

    ours = {"w": tinytorch.randn(2, 3), "n": tinytorch.tensor([1, 2], dtype=tinytorch.int32)}
    tinytorch.save(ours, tmp_path / "ours")
    theirs = safetensors.torch.load_file(tmp_path / "ours")
    for key in ours:
        np.testing.assert_array_equal(theirs[key].numpy(), ours[key].numpy())
    safetensors.torch.save_file({"x": torch.arange(5.0)}, tmp_path / "theirs")
    np.testing.assert_array_equal(tinytorch.load(tmp_path / "theirs")["x"].numpy(), np.arange(5.0, dtype=np.float32))


def test_a_pickle_file_is_refused_not_executed(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save({"w": torch.ones(2)}, tmp_path / "pickled.pt")
    with pytest.raises(RuntimeError, match="pickled.pt"):
        tinytorch.load(tmp_path / "pickled.pt")


# -- map_location ---------------------------------------------------------------------------------
def test_map_location_forms(device):
    tensor = tinytorch.arange(3.0, device=device)
    buffer = io.BytesIO()
    tinytorch.save({"t": tensor}, buffer)

    def load(**kwargs):
        buffer.seek(0)
        return tinytorch.load(buffer, **kwargs)["t"]

    assert load().device == tensor.device  # back where it was saved
    assert load(map_location="cpu").device == tinytorch.device("cpu")
    assert load(map_location=tinytorch.device("cpu")).device == tinytorch.device("cpu")
    assert load(map_location={str(tensor.device): "cpu"}).device == tinytorch.device("cpu")
    assert load(map_location=device).device == tensor.device
    seen = []
    moved = load(map_location=lambda t, location: seen.append(location) or t * 2)
    assert seen == [str(tensor.device)]
    np.testing.assert_array_equal(moved.cpu().numpy(), [0.0, 2.0, 4.0])
    assert load(map_location=lambda t, location: None).device == tensor.device


# -- atomic saves ---------------------------------------------------------------------------------
def _old_and_new(tmp_path):
    path = tmp_path / "ckpt"
    tinytorch.save({"version": 1, "w": tinytorch.ones(2)}, path)
    return path, {"version": 2, "w": tinytorch.zeros(1000)}


def test_a_crash_before_the_rename_keeps_the_old_file(tmp_path, monkeypatch):
    path, new = _old_and_new(tmp_path)

    def crash(*args):
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        tinytorch.save(new, path)
    assert tinytorch.load(path)["version"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt"]  # the temporary file is cleaned up


def test_a_crash_while_writing_keeps_the_old_file(tmp_path, monkeypatch):
    path, new = _old_and_new(tmp_path)

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space left"):
        tinytorch.save(new, path)
    monkeypatch.undo()
    assert tinytorch.load(path)["version"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt"]
    tinytorch.save(new, path)
    assert tinytorch.load(path)["version"] == 2


def test_saved_files_get_ordinary_permissions(tmp_path):
    if os.name != "posix":
        pytest.skip("POSIX permissions")
    umask = os.umask(0o022)
    os.umask(umask)
    tinytorch.save({"x": 1}, tmp_path / "f")
    assert (tmp_path / "f").stat().st_mode & 0o777 == 0o666 & ~umask


# -- hostile and broken files ---------------------------------------------------------------------
def _valid_file():
    buffer = io.BytesIO()
    tinytorch.save({"w": tinytorch.arange(6.0).reshape(2, 3), "n": tinytorch.tensor([1, 2]), "meta": {"epoch": 3}}, buffer)
    return buffer.getvalue()


def _file_with_header(header, data=b""):
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + data


def _load_bytes(tmp_path, raw):
    path = tmp_path / "broken.safetensors"
    path.write_bytes(raw)
    return tinytorch.load(path)


@pytest.mark.parametrize(
    "raw,message",
    [
        (b"", "bad header length"),
        (b"\x05\x00\x00", "bad header length"),
        (struct.pack("<Q", 2**63) + b"{}", "bad header length"),
        (struct.pack("<Q", 100) + b"{}", "bad header length"),
        (struct.pack("<Q", 5) + b"nope!", "header not JSON"),
        (struct.pack("<Q", 2) + b"\xff\xfe", "header not JSON"),
        (_file_with_header([1, 2]), "header not a JSON object"),
        (_file_with_header({"x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 4), "past the end"),
        (_file_with_header({"x": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}, b"\0" * 4), "unknown dtype 'BF16'"),
        (_file_with_header({"x": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, b"\0" * 8), "12 bytes|8 bytes of data"),
        (_file_with_header({"x": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, b"\0" * 4), "shape"),
        (_file_with_header({"x": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, b"\0" * 8), "gaps"),
        (_file_with_header({"x": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 8), "not covered"),
        (_file_with_header({"x": {"dtype": "F32", "shape": [1]}}, b"\0" * 4), "exactly dtype, shape and data_offsets"),
        (_file_with_header({"__metadata__": {"tinytorch": 5}}), "__metadata__ is not a map of strings"),
        (_file_with_header({"__metadata__": {"tinytorch": "{not json"}}), "metadata .* is not valid"),
        (_file_with_header({"__metadata__": {"tinytorch": '{"version": 99, "object": 1}'}}), "metadata .* is not valid"),
        (_file_with_header({"__metadata__": {"tinytorch": '{"version": 1, "object": {"tensor": "missing"}}'}}), "bad tensor reference"),
        (_file_with_header({"__metadata__": {"tinytorch": '{"version": 1, "object": {"eval": "1"}}'}}), "unexpected node"),
        (_file_with_header({"__metadata__": {"tinytorch": '{"version": 1, "object": ' + "[" * 5000 + "]" * 5000 + "}"}}), "not valid"),
    ],
)
def test_broken_files_raise_a_clear_runtime_error(tmp_path, raw, message):
    with pytest.raises(RuntimeError, match=message) as error:
        _load_bytes(tmp_path, raw)
    assert "broken.safetensors" in str(error.value)


def test_every_truncation_of_a_valid_file_raises(tmp_path):
    raw = _valid_file()
    for size in range(len(raw)):
        with pytest.raises(RuntimeError):
            _load_bytes(tmp_path, raw[:size])


def test_a_huge_header_length_is_not_read_from_a_stream():
    class Stream:
        requests = []

        def read(self, size=-1):
            self.requests.append(size)
            return struct.pack("<Q", 2**40) if size == 8 else b""

    stream = Stream()
    with pytest.raises(RuntimeError, match="bad header length"):
        tinytorch.load(stream)
    assert stream.requests == [8]


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        tinytorch.load(tmp_path / "nope")


def _load_or_documented_error(raw):
    try:
        tinytorch.load(io.BytesIO(raw))
    except RuntimeError:
        pass


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=400))
def test_fuzz_random_bytes(raw):
    _load_or_documented_error(raw)


@FUZZ
@given(st.binary(min_size=8, max_size=200))
def test_fuzz_random_bytes_after_a_plausible_length(tail):
    _load_or_documented_error(struct.pack("<Q", len(tail) // 2) + tail)


@FUZZ
@given(st.data())
def test_fuzz_mutations_of_a_valid_file(data):
    raw = bytearray(_valid_file())
    for _ in range(data.draw(st.integers(1, 3))):
        position = data.draw(st.integers(0, len(raw) - 1))
        raw[position] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    _load_or_documented_error(bytes(raw[:cut]))


def test_an_nn_model_checkpoint_round_trips(tmp_path):
    nn = pytest.importorskip("tinytorch.nn")
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(tinytorch.randn(5, 4)).sum().backward()
    optimizer.step()
    tinytorch.save(model.state_dict(), tmp_path / "model.safetensors")
    assert list(safetensors.numpy.load_file(tmp_path / "model.safetensors")) == sorted(model.state_dict())
    tinytorch.save(optimizer.state_dict(), tmp_path / "optimizer")

    clone = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    clone.load_state_dict(tinytorch.load(tmp_path / "model.safetensors"))
    for a, b in zip(model.state_dict().values(), clone.state_dict().values()):
        _same(a.detach(), b.detach())
    clone_optimizer = optim.SGD(clone.parameters(), lr=0.1, momentum=0.9)
    clone_optimizer.load_state_dict(tinytorch.load(tmp_path / "optimizer"))
    _same(optimizer.state[model[0].weight]["momentum_buffer"], clone_optimizer.state[clone[0].weight]["momentum_buffer"])
