"""default_collate / default_convert: types, nesting and errors, checked against torch's."""

import collections

import numpy as np
import pytest

import tinytorch
from tinytorch.utils.data import default_collate, default_convert
from tinytorch.utils.data._collate import SampleBatch, collate

Point = collections.namedtuple("Point", ["x", "y"])


def _plain(value):
    """A comparable form of a collated batch from either library: (dtype name, values) for tensors."""
    if hasattr(value, "numpy") and hasattr(value, "dtype") and not isinstance(value, np.ndarray):
        array = value.detach().numpy() if hasattr(value, "detach") else value.numpy()
        return ("tensor", str(value.dtype).split(".")[-1], array.tolist())
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return (type(value).__name__, *(_plain(v) for v in value))
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _torch_version(sample, torch):
    """The same sample with tinytorch tensors swapped for torch tensors."""
    if isinstance(sample, tinytorch.Tensor):
        return torch.from_numpy(sample.numpy().copy())
    if isinstance(sample, dict):
        return {k: _torch_version(v, torch) for k, v in sample.items()}
    if isinstance(sample, tuple) and hasattr(sample, "_fields"):
        return type(sample)(*(_torch_version(v, torch) for v in sample))
    if isinstance(sample, (list, tuple)):
        return type(sample)(_torch_version(v, torch) for v in sample)
    return sample


BATCHES = {
    "ints": [1, 2, 3],
    "floats": [1.5, 2.0],
    "bools": [True, False],
    "numpy_float32_scalars": [np.float32(1.5), np.float32(2)],
    "numpy_int32_scalars": [np.int32(1), np.int32(-4)],
    "numpy_arrays": [np.arange(3, dtype=np.float64), np.ones(3, dtype=np.float64)],
    "numpy_uint8_arrays": [np.zeros((2, 2), np.uint8), np.full((2, 2), 7, np.uint8)],
    "tensors": [tinytorch.tensor([1.0, 2.0]), tinytorch.tensor([3.0, 4.0])],
    "strings": ["a", "b"],
    "tuples": [(1, 2.0, "x"), (3, 4.0, "y")],
    "lists": [[1, 2], [3, 4]],
    "dicts": [{"a": 1, "b": np.float64(2.0)}, {"a": 3, "b": np.float64(4.0)}],
    "namedtuples": [Point(1, tinytorch.tensor([1])), Point(2, tinytorch.tensor([2]))],
    "nested": [{"img": (np.zeros(2, np.float32), 1)}, {"img": (np.ones(2, np.float32), 0)}],
}


@pytest.mark.parametrize("name", list(BATCHES))
def test_default_collate_matches_torch(name):
    torch = pytest.importorskip("torch")
    batch = BATCHES[name]
    expected = torch.utils.data.default_collate([_torch_version(s, torch) for s in batch])
    assert _plain(default_collate(batch)) == _plain(expected)


def test_default_collate_dtypes():
    assert default_collate([1, 2]).dtype == tinytorch.int64
    assert default_collate([1.0, 2.0]).dtype == tinytorch.float64
    assert default_collate([np.float32(1.0)]).dtype == tinytorch.float32
    assert default_collate([np.arange(2, dtype=np.int16)]).dtype == tinytorch.int16
    stacked = default_collate([tinytorch.zeros(2, 3), tinytorch.ones(2, 3)])
    assert stacked.shape == (2, 2, 3) and stacked[1].sum().item() == 6


def test_default_collate_keeps_autograd_through_stack():
    x = tinytorch.ones(2, requires_grad=True)
    batch = default_collate([x, x * 2])
    batch.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_default_collate_errors():
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="default_collate: batch must contain tensors"):
        default_collate([object(), object()])
    with pytest.raises(TypeError, match="default_collate: batch must contain tensors"):
        default_collate([np.array(["a"]), np.array(["b"])])
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        default_collate([tinytorch.zeros(2), tinytorch.zeros(3)])


def test_collate_with_custom_map():
    def count(batch, *, collate_fn_map):
        return len(batch)

    assert collate([(1, 5), (2, 6)], collate_fn_map={int: count}) == [2, 2]
    assert collate([{"a": 1}, {"a": 2}], collate_fn_map={int: count}) == {"a": 2}


def test_default_convert():
    converted = default_convert({"a": np.arange(2), "b": [np.float32(1.0)], "c": "text", "d": 5})
    assert isinstance(converted["a"], tinytorch.Tensor) and converted["a"].tolist() == [0, 1]
    assert converted["b"][0].dtype == tinytorch.float32
    assert converted["c"] == "text" and converted["d"] == 5
    assert default_convert(Point(np.array(1), 2)).x.item() == 1
    assert isinstance(default_convert((np.zeros(1),)), list)
    strings = np.array(["x"])
    assert default_convert(strings) is strings


def test_sample_batch_is_a_sequence_of_samples_and_collates_like_a_list():
    images = tinytorch.arange(6, dtype=tinytorch.float32).reshape(3, 2)
    batch = SampleBatch([images, [7, 8, 9]])
    assert len(batch) == 3
    image, label = batch[1]
    assert image.tolist() == [2.0, 3.0] and label == 8
    assert [label for _, label in batch] == [7, 8, 9]
    assert batch[-1][1] == 9 and [s[1] for s in batch[0:2]] == [7, 8]
    with pytest.raises(IndexError):
        batch[3]
    fast = default_collate(batch)
    slow = default_collate(list(batch))
    assert fast[0] is images  # not re-stacked
    assert _plain(fast) == _plain(slow)
    with pytest.raises(ValueError, match="same length"):
        SampleBatch([images, [1]])
