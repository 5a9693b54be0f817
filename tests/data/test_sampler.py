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


# -- huge num_samples: drawn as consumed, never materialized ------------------------------------
HUGE = 10**10  # 74.5 GiB as int64: only a sampler that draws lazily can start


def _peak_bytes(run):
    import tracemalloc

    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_huge_random_sampler_with_replacement_starts_at_once_and_stays_small():
    from tinytorch.utils.data import DataLoader, TensorDataset

    dataset = TensorDataset(tinytorch.arange(10.0))
    sampler = RandomSampler(dataset, replacement=True, num_samples=HUGE)
    loader = DataLoader(dataset, batch_size=4, sampler=sampler)
    assert len(sampler) == HUGE and len(loader) == HUGE // 4
    batches = []

    def take():
        iterator = iter(loader)
        batches.extend(next(iterator)[0] for _ in range(5))

    assert _peak_bytes(take) < 2**20
    assert all(batch.shape == (4,) and 0 <= batch.min().item() and batch.max().item() <= 9 for batch in batches)


def test_a_huge_weighted_sampler_with_replacement_starts_at_once_and_stays_small():
    sampler = WeightedRandomSampler([0.0, 1.0, 3.0, 0.0], HUGE)
    first = []

    def take():
        iterator = iter(BatchSampler(sampler, 8, drop_last=False))
        first.extend(next(iterator) for _ in range(3))

    assert _peak_bytes(take) < 2**20
    assert len(BatchSampler(sampler, 8, drop_last=False)) == HUGE // 8
    assert {i for batch in first for i in batch} <= {1, 2}


def test_chunked_draws_follow_the_weights_and_the_seed():
    weights = [0.0, 1.0, 3.0, 0.0, 4.0, 0.0]
    drawn = list(WeightedRandomSampler(weights, 80_000, generator=tinytorch.Generator().manual_seed(3)))
    counts = [drawn.count(i) for i in range(len(weights))]
    assert counts[0] == counts[3] == counts[5] == 0  # zero weights, first and last included, are never drawn
    for count, weight in zip(counts, weights):
        assert abs(count / len(drawn) - weight / 8) < 0.01  # ~5 standard deviations at 80,000 draws
    again = list(WeightedRandomSampler(weights, 80_000, generator=tinytorch.Generator().manual_seed(3)))
    assert again == drawn
    uniform = list(RandomSampler(range(7), replacement=True, num_samples=70_001, generator=tinytorch.Generator().manual_seed(5)))
    assert len(uniform) == 70_001 and all(abs(uniform.count(i) / 70_001 - 1 / 7) < 0.01 for i in range(7))


def test_a_shuffled_epoch_holds_its_order_as_an_array_not_a_list():
    """A permutation of a million indices: 8 MB as int64, ~40 MB as a list of Python ints. The
    sampler turns it into ints a chunk at a time, so taking the first index stays near the array."""
    sampler = RandomSampler(range(10**6))
    first = []
    assert _peak_bytes(lambda: first.append(next(iter(sampler)))) < 10 * 2**20
    assert sorted(RandomSampler(range(5000))) == list(range(5000))  # still every index once, across chunks
