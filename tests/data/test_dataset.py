"""Datasets and random_split."""

import warnings

import pytest

import tinytorch
from tinytorch.utils.data import (
    ChainDataset, ConcatDataset, Dataset, IterableDataset, StackDataset, Subset, TensorDataset, random_split,
)


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return i * i

    def __len__(self):
        return self.n


class Count(IterableDataset):
    def __init__(self, start, end):
        self.start, self.end = start, end

    def __iter__(self):
        return iter(range(self.start, self.end))

    def __len__(self):
        return self.end - self.start


def test_tensor_dataset_rows_and_size_check():
    x, y = tinytorch.arange(12).reshape(6, 2), tinytorch.arange(6)
    ds = TensorDataset(x, y)
    assert len(ds) == 6
    row, label = ds[4]
    assert row.tolist() == [8, 9] and label.item() == 4
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        TensorDataset(x, tinytorch.arange(5))


def test_base_dataset_needs_getitem_and_is_generic():
    with pytest.raises(NotImplementedError):
        Dataset()[0]

    class Typed(Dataset[int]):  # subscriptable in annotations, as torch's Dataset
        pass

    assert issubclass(Typed, Dataset)


def test_concat_dataset_indexes_across_parts_and_negative():
    ds = Squares(3) + Squares(4)
    assert isinstance(ds, ConcatDataset)
    assert len(ds) == 7
    assert [ds[i] for i in range(7)] == [0, 1, 4, 0, 1, 4, 9]
    assert ds[-1] == 9 and ds[-7] == 0
    assert ds.cumulative_sizes == [3, 7]
    with pytest.raises(ValueError, match="absolute value of index"):
        ds[-8]
    with pytest.raises(AssertionError, match="empty"):
        ConcatDataset([])
    with pytest.raises(AssertionError, match="does not support IterableDataset"):
        ConcatDataset([Count(0, 2)])


def test_chain_dataset_and_iterable_add():
    chained = Count(0, 2) + Count(5, 7)
    assert isinstance(chained, ChainDataset)
    assert list(chained) == [0, 1, 5, 6]
    assert len(chained) == 4


def test_stack_dataset_tuple_and_dict():
    assert StackDataset(Squares(3), Squares(3))[2] == (4, 4)
    assert StackDataset(a=Squares(2), b=Squares(2))[1] == {"a": 1, "b": 1}
    with pytest.raises(ValueError, match="Size mismatch"):
        StackDataset(Squares(2), Squares(3))
    with pytest.raises(ValueError, match="At least one dataset"):
        StackDataset()


def test_subset_indexes_and_forwards_getitems():
    class Batched(Squares):
        def __getitems__(self, indices):
            return ["batched", *indices]

    sub = Subset(Squares(10), [7, 2, 5])
    assert len(sub) == 3 and [sub[i] for i in range(3)] == [49, 4, 25]
    assert sub.__getitems__([0, 2]) == [49, 25]
    assert Subset(Batched(10), [7, 2, 5]).__getitems__([0, 2]) == ["batched", 7, 5]


def test_random_split_lengths_partition_and_reproducible():
    tinytorch.manual_seed(3)
    parts = random_split(range(10), [3, 7])
    assert [len(p) for p in parts] == [3, 7]
    items = sorted(parts[0][i] for i in range(3)) + sorted(parts[1][i] for i in range(7))
    assert sorted(items) == list(range(10))
    again = random_split(range(10), [3, 7], generator=tinytorch.Generator().manual_seed(1))
    same = random_split(range(10), [3, 7], generator=tinytorch.Generator().manual_seed(1))
    assert again[0].indices == same[0].indices and again[1].indices == same[1].indices


@pytest.mark.parametrize("n,fractions", [(10, [0.3, 0.3, 0.4]), (11, [0.5, 0.5]), (7, [0.1, 0.2, 0.7]), (5, [1 / 3] * 3)])
def test_random_split_fraction_rounding_matches_torch(n, fractions):
    torch = pytest.importorskip("torch")
    expected = [len(p) for p in torch.utils.data.random_split(range(n), fractions)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert [len(p) for p in random_split(range(n), fractions)] == expected


def test_random_split_errors_and_zero_length_warning():
    with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
        random_split(range(10), [3, 3])
    with pytest.raises(ValueError, match="Fraction at index 0 is not between 0 and 1"):
        random_split(range(10), [-0.5, 1.5])
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        random_split(range(2), [0.9, 0.1])
