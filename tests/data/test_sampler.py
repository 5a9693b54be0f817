"""Samplers: order, randomness from tinytorch's generators, validation."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinytorch
from tinytorch.utils.data import (
    BatchSampler, RandomSampler, SequentialSampler, SubsetRandomSampler, WeightedRandomSampler,
)


def test_sequential_sampler():
    assert list(SequentialSampler(range(5))) == [0, 1, 2, 3, 4]
    assert len(SequentialSampler(range(5))) == 5


def test_random_sampler_is_a_permutation_that_changes_per_epoch():
    sampler = RandomSampler(range(50))
    first, second = list(sampler), list(sampler)
    assert sorted(first) == list(range(50)) and sorted(second) == list(range(50))
    assert first != second


def test_random_sampler_reproducible_under_manual_seed():
    tinytorch.manual_seed(123)
    run1 = [list(RandomSampler(range(30))) for _ in range(2)]
    tinytorch.manual_seed(123)
    run2 = [list(RandomSampler(range(30))) for _ in range(2)]
    assert run1 == run2
    tinytorch.manual_seed(124)
    assert [list(RandomSampler(range(30))) for _ in range(2)] != run1


def test_random_sampler_with_generator_ignores_default_generator():
    generator = tinytorch.Generator().manual_seed(7)
    a = list(RandomSampler(range(20), generator=generator))
    tinytorch.manual_seed(999)
    b = list(RandomSampler(range(20), generator=tinytorch.Generator().manual_seed(7)))
    assert a == b


def test_random_sampler_replacement_and_num_samples():
    with_replacement = list(RandomSampler(range(3), replacement=True, num_samples=100))
    assert len(with_replacement) == 100 and set(with_replacement) <= {0, 1, 2}
    assert len(set(with_replacement)) == 3  # 100 draws from 3 values: all appear
    more = list(RandomSampler(range(4), num_samples=10))
    assert len(more) == 10 and sorted(more[:4]) == [0, 1, 2, 3] and sorted(more[4:8]) == [0, 1, 2, 3]


def test_random_sampler_validation():
    with pytest.raises(TypeError, match="replacement should be a boolean value, but got replacement=0"):
        RandomSampler(range(3), replacement=0)
    with pytest.raises(ValueError, match="num_samples should be a positive integer value, but got num_samples=0"):
        RandomSampler(range(3), num_samples=0)
    with pytest.raises(ValueError, match="num_samples=0"):
        RandomSampler([])


def test_subset_random_sampler():
    indices = [10, 20, 30, 40]
    drawn = list(SubsetRandomSampler(indices))
    assert sorted(drawn) == indices and len(SubsetRandomSampler(indices)) == 4


def test_weighted_random_sampler():
    drawn = list(WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 200))
    assert set(drawn) == {1, 3}
    assert drawn.count(3) > drawn.count(1)  # 3:1 odds over 200 draws
    unique = list(WeightedRandomSampler([1, 1, 1, 1, 1], 5, replacement=False))
    assert sorted(unique) == [0, 1, 2, 3, 4]
    with pytest.raises(RuntimeError, match="without replacement"):
        list(WeightedRandomSampler([1.0, 0.0], 2, replacement=False))
    with pytest.raises(RuntimeError, match="invalid multinomial distribution"):
        list(WeightedRandomSampler([1.0, -1.0], 2))
    with pytest.raises(ValueError, match="num_samples should be a positive integer value"):
        WeightedRandomSampler([1.0], 0)
    with pytest.raises(ValueError, match="weights should be a 1d sequence"):
        WeightedRandomSampler([[1.0, 2.0]], 1)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 40), batch_size=st.integers(1, 12), drop_last=st.booleans())
def test_batch_sampler_sizes(n, batch_size, drop_last):
    batches = list(BatchSampler(range(n), batch_size, drop_last))
    assert len(batches) == len(BatchSampler(range(n), batch_size, drop_last))
    assert [i for b in batches for i in b] == list(range(len(batches) * batch_size if drop_last else n))
    assert all(len(b) == batch_size for b in batches[:-1])
    if batches:
        assert len(batches[-1]) == (batch_size if drop_last or n % batch_size == 0 else n % batch_size)


def test_batch_sampler_validation():
    with pytest.raises(ValueError, match="batch_size should be a positive integer value, but got batch_size=0"):
        BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="batch_size=True"):
        BatchSampler(range(3), True, False)
    with pytest.raises(ValueError, match="drop_last should be a boolean value, but got drop_last=1"):
        BatchSampler(range(3), 2, 1)
