"""DataLoader in the main process: batching, shuffling, validation."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinytorch
from tinytorch.utils.data import (
    BatchSampler, DataLoader, Dataset, IterableDataset, SequentialSampler, TensorDataset,
)


class Numbers(Dataset):
    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        return i

    def __len__(self):
        return self.n


class Stream(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 30), batch_size=st.integers(1, 8), drop_last=st.booleans())
def test_batches_cover_the_dataset_in_order(n, batch_size, drop_last):
    loader = DataLoader(Numbers(n), batch_size=batch_size, drop_last=drop_last)
    batches = [b.tolist() for b in loader]
    assert len(batches) == len(loader) == (n // batch_size if drop_last else -(-n // batch_size))
    kept = (n // batch_size) * batch_size if drop_last else n
    assert [i for b in batches for i in b] == list(range(kept))


def test_last_batch_with_and_without_drop_last():
    assert [len(b) for b in DataLoader(Numbers(10), batch_size=4)] == [4, 4, 2]
    assert [len(b) for b in DataLoader(Numbers(10), batch_size=4, drop_last=True)] == [4, 4]


def test_tensor_dataset_batches():
    x = tinytorch.arange(20, dtype=tinytorch.float32).reshape(10, 2)
    y = tinytorch.arange(10)
    xb, yb = next(iter(DataLoader(TensorDataset(x, y), batch_size=4)))
    assert xb.shape == (4, 2) and xb.dtype == tinytorch.float32 and yb.tolist() == [0, 1, 2, 3]


def test_shuffle_is_a_new_permutation_each_epoch_and_reproducible():
    def epochs(seed):
        tinytorch.manual_seed(seed)
        loader = DataLoader(Numbers(40), batch_size=7, shuffle=True)
        return [[i for b in loader for i in b.tolist()] for _ in range(3)]

    run = epochs(5)
    assert all(sorted(epoch) == list(range(40)) for epoch in run)
    assert run[0] != run[1] != run[2]
    assert epochs(5) == run
    assert epochs(6) != run


def test_shuffle_with_a_generator():
    def order(seed):
        loader = DataLoader(Numbers(20), batch_size=5, shuffle=True, generator=tinytorch.Generator().manual_seed(seed))
        return [i for b in loader for i in b.tolist()]

    assert order(1) == order(1) != order(2)


def test_iter_and_next_and_fresh_iterators():
    loader = DataLoader(Numbers(5), batch_size=2)
    it = iter(loader)
    assert next(it).tolist() == [0, 1]
    assert next(iter(loader)).tolist() == [0, 1]  # a new iterator starts a new epoch
    assert next(it).tolist() == [2, 3] and next(it).tolist() == [4]
    with pytest.raises(StopIteration):
        next(it)
    assert len(it) == 3


def test_no_batching_converts_samples():
    loader = DataLoader([np.arange(2), np.arange(2) + 5], batch_size=None)
    items = list(loader)
    assert len(loader) == 2 and isinstance(items[0], tinytorch.Tensor) and items[1].tolist() == [5, 6]


def test_batch_sampler_and_custom_sampler_and_collate():
    loader = DataLoader(Numbers(6), batch_sampler=[[5, 0], [3]])
    assert [b.tolist() for b in loader] == [[5, 0], [3]]
    loader = DataLoader(Numbers(6), sampler=[4, 2, 0], batch_size=2, collate_fn=lambda batch: sum(batch))
    assert list(loader) == [6, 0]
    loader = DataLoader(Numbers(6), batch_sampler=BatchSampler(SequentialSampler(range(6)), 4, True))
    assert [b.tolist() for b in loader] == [[0, 1, 2, 3]]


def test_getitems_fetches_a_batch_in_one_call():
    class Batched(Numbers):
        calls = []

        def __getitems__(self, indices):
            self.calls.append(list(indices))
            return [10 * i for i in indices]

    dataset = Batched(5)
    assert [b.tolist() for b in DataLoader(dataset, batch_size=2)] == [[0, 10], [20, 30], [40]]
    assert dataset.calls == [[0, 1], [2, 3], [4]]


def test_iterable_dataset_batches_and_len():
    loader = DataLoader(Stream(7), batch_size=3)
    assert [b.tolist() for b in loader] == [[0, 1, 2], [3, 4, 5], [6]]
    assert len(loader) == 3
    assert [b.tolist() for b in DataLoader(Stream(7), batch_size=3, drop_last=True)] == [[0, 1, 2], [3, 4, 5]]
    assert len(DataLoader(Stream(7), batch_size=3, drop_last=True)) == 2
    assert [int(x) for x in DataLoader(Stream(3), batch_size=None)] == [0, 1, 2]


@pytest.mark.parametrize(
    "kwargs,error,message",
    [
        ({"batch_size": 0}, ValueError, "batch_size should be a positive integer value, but got batch_size=0"),
        ({"batch_size": -3}, ValueError, "batch_size=-3"),
        ({"sampler": [0, 1], "shuffle": True}, ValueError, "sampler option is mutually exclusive with shuffle"),
        ({"batch_sampler": [[0]], "batch_size": 2}, ValueError, "batch_sampler option is mutually exclusive with batch_size"),
        ({"batch_sampler": [[0]], "shuffle": True}, ValueError, "batch_sampler option is mutually exclusive"),
        ({"batch_sampler": [[0]], "drop_last": True}, ValueError, "batch_sampler option is mutually exclusive"),
        ({"batch_sampler": [[0]], "sampler": [0]}, ValueError, "batch_sampler option is mutually exclusive"),
        ({"batch_size": None, "drop_last": True}, ValueError, "batch_size=None option disables auto-batching"),
        ({"num_workers": -1}, ValueError, "num_workers option should be non-negative"),
        ({"timeout": -1}, ValueError, "timeout option should be non-negative"),
        ({"prefetch_factor": 2}, ValueError, "prefetch_factor option could only be specified in multiprocessing"),
        ({"num_workers": 1, "prefetch_factor": -1}, ValueError, "prefetch_factor option should be non-negative"),
        ({"persistent_workers": True}, ValueError, "persistent_workers option needs num_workers > 0"),
        ({"multiprocessing_context": "fork"}, ValueError, "multiprocessing_context can only be used with multi-process"),
        ({"num_workers": 1, "multiprocessing_context": "nope"}, ValueError, "should specify a valid start method"),
        ({"num_workers": 1, "multiprocessing_context": 3}, TypeError, "should be a valid context object"),
    ],
)
def test_argument_validation_matches_torch(kwargs, error, message):
    with pytest.raises(error, match=message):
        DataLoader(Numbers(4), **kwargs)
    torch = pytest.importorskip("torch")
    with pytest.raises(error, match=message):
        torch.utils.data.DataLoader(list(range(4)), **kwargs)


def test_iterable_dataset_rejects_shuffle_and_samplers():
    with pytest.raises(ValueError, match="expected unspecified shuffle option, but got shuffle=True"):
        DataLoader(Stream(3), shuffle=True)
    with pytest.raises(ValueError, match="expected unspecified sampler option"):
        DataLoader(Stream(3), sampler=[0])
    with pytest.raises(ValueError, match="expected unspecified batch_sampler option"):
        DataLoader(Stream(3), batch_sampler=[[0]])


def test_attributes_frozen_after_init():
    loader = DataLoader(Numbers(4), batch_size=2)
    with pytest.raises(ValueError, match="batch_size attribute should not be set after DataLoader is initialized"):
        loader.batch_size = 3
    loader.num_workers = 0  # other attributes may change


def test_pin_memory_without_gpu_warns_and_still_loads():
    if tinytorch.cuda.is_available():
        pytest.skip("pin_memory is silent when a GPU is present")
    with pytest.warns(UserWarning, match="'pin_memory' argument is set as true but no accelerator is found"):
        batches = list(DataLoader(Numbers(3), batch_size=2, pin_memory=True))
    assert [b.tolist() for b in batches] == [[0, 1], [2]]
