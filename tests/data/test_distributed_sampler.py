"""DistributedSampler: PyTorch's partitioning exactly (padding, drop_last, the rank stride), and a
new shuffle each epoch, the same on every rank. No process group needed: num_replicas and rank
are given, as torch's sampler accepts them."""

import collections

import pytest

import tinytorch
from tinytorch.utils.data import DataLoader, DistributedSampler, TensorDataset

SIZES = [1, 2, 5, 7, 10, 12, 13]
REPLICAS = [1, 2, 3, 4]


def torch_indices(n, replicas, rank, drop_last, shuffle=False, seed=0, epoch=0):
    torch = pytest.importorskip("torch")
    sampler = torch.utils.data.DistributedSampler(range(n), num_replicas=replicas, rank=rank, shuffle=shuffle,
                                                  seed=seed, drop_last=drop_last)
    sampler.set_epoch(epoch)
    return list(sampler), len(sampler)


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("replicas", REPLICAS)
@pytest.mark.parametrize("drop_last", [False, True])
def test_unshuffled_partition_is_pytorchs(n, replicas, drop_last):
    for rank in range(replicas):
        sampler = DistributedSampler(range(n), num_replicas=replicas, rank=rank, shuffle=False, drop_last=drop_last)
        expected, length = torch_indices(n, replicas, rank, drop_last)
        assert list(sampler) == expected and len(sampler) == length


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("replicas", REPLICAS)
@pytest.mark.parametrize("drop_last", [False, True])
def test_shuffled_partition_is_pytorchs_applied_to_the_permutation(n, replicas, drop_last):
    """tinytorch's generator draws a different permutation than torch's; given the permutation,
    each rank's share is torch's: the unshuffled partition read through it."""
    seed, epoch = 17, 3
    generator = tinytorch.Generator()
    generator.manual_seed(seed + epoch)
    permutation = tinytorch.randperm(n, generator=generator).tolist()
    for rank in range(replicas):
        sampler = DistributedSampler(range(n), num_replicas=replicas, rank=rank, seed=seed, drop_last=drop_last)
        sampler.set_epoch(epoch)
        positions, _ = torch_indices(n, replicas, rank, drop_last)
        assert list(sampler) == [permutation[i] for i in positions]


def test_ranks_cover_the_dataset_and_reshuffle_each_epoch():
    n, replicas = 103, 4
    orders = []
    for epoch in range(3):
        shares = []
        for rank in range(replicas):
            sampler = DistributedSampler(range(n), num_replicas=replicas, rank=rank, seed=5)
            sampler.set_epoch(epoch)
            shares.append(list(sampler))
            assert list(sampler) == shares[-1]  # the same order when iterated again in the epoch
        counts = collections.Counter(i for share in shares for i in share)
        assert set(counts) == set(range(n)) and sorted(counts.values()) == [1] * (n - 1) + [2]  # 1 padded index
        assert all(len(share) == 26 for share in shares)
        orders.append(shares)
    assert orders[0] != orders[1] != orders[2]
    # Every rank draws the same permutation: same seed and epoch, same shares, in any process.
    again = DistributedSampler(range(n), num_replicas=replicas, rank=2, seed=5)
    again.set_epoch(1)
    assert list(again) == orders[1][2]


def test_uneven_last_batches_as_pytorch_documents():
    """Not divisible: padded so every rank gets as many samples (hence as many batches, the last one
    smaller), or with drop_last cut to a multiple of the replicas."""
    data = TensorDataset(tinytorch.arange(10))
    batches = []
    for rank in range(3):
        loader = DataLoader(data, batch_size=3, sampler=DistributedSampler(data, num_replicas=3, rank=rank, shuffle=False))
        batches.append([batch[0].tolist() for batch in loader])
    assert batches == [[[0, 3, 6], [9]], [[1, 4, 7], [0]], [[2, 5, 8], [1]]]
    dropped = [list(DistributedSampler(data, num_replicas=3, rank=r, shuffle=False, drop_last=True)) for r in range(3)]
    assert dropped == [[0, 3, 6], [1, 4, 7], [2, 5, 8]]


def test_argument_errors_are_pytorchs():
    torch = pytest.importorskip("torch")
    for ours, theirs in [(DistributedSampler, torch.utils.data.DistributedSampler)]:
        for kwargs in [dict(num_replicas=2, rank=2), dict(num_replicas=2, rank=-1)]:
            with pytest.raises(ValueError) as expected:
                theirs(range(4), **kwargs)
            with pytest.raises(ValueError) as got:
                ours(range(4), **kwargs)
            assert str(got.value) == str(expected.value)
        # Without a rank or world size it asks the default group: none is initialized here; without
        # mpi4py (the mpi extra) there is no distributed package at all, as in a torch built without it.
        if tinytorch.distributed.is_available():
            with pytest.raises(ValueError, match="Default process group has not been initialized"):
                ours(range(4))
        else:
            with pytest.raises(RuntimeError, match="Requires distributed package to be available"):
                ours(range(4))
