"""Samplers: iterables of dataset indices (or, for ``BatchSampler``, of lists of indices).

Randomness comes from tinytorch's generators, so ``tinytorch.manual_seed`` makes shuffling
reproducible."""

import itertools
import typing

import numpy as np

from ... import _creation, _dtypes as dtypes, random as _random


def _draw_seed(generator=None):
    """A fresh 63-bit seed from ``generator`` (or the default generator), as
    ``torch.empty((), dtype=torch.int64).random_(generator=...)`` draws one."""
    return int(_random.generator_for("cpu", generator).integers(0, 2**63 - 1))


def _numpy_rng(generator):
    return _random.generator_for("cpu", generator)


# Draws with replacement are made this many at a time, as they are consumed (PyTorch draws 32 at a
# time): ``num_samples`` may be far larger than memory (``RandomSampler(..., num_samples=10**10)``).
# Permutations become Python ints this many at a time.
_CHUNK = 1024


def _chunks(total):
    """The sizes of the successive draws that make up ``total`` samples."""
    while total > 0:
        count = min(total, _CHUNK)
        yield count
        total -= count


def _as_ints(order):
    """The indices of an array as Python ints, converted a chunk at a time: a whole epoch's list
    (60,000 ints for MNIST) would hold ~2 MiB while the epoch runs."""
    for start in range(0, len(order), _CHUNK):
        yield from order[start : start + _CHUNK].tolist()


_T_co = typing.TypeVar("_T_co", covariant=True)


class Sampler(typing.Generic[_T_co]):
    """Base class: subclasses write ``__iter__`` (and usually ``__len__``)."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation each epoch, or ``num_samples`` draws with replacement.

    Without a ``generator`` each ``iter()`` seeds a private generator from the default one (as
    PyTorch does): epochs differ, yet ``tinytorch.manual_seed`` reproduces the whole sequence.
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={self.replacement}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={self.num_samples}")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n = len(self.data_source)
        generator = self.generator
        if generator is None:
            generator = _random.Generator().manual_seed(_draw_seed())
        rng = _numpy_rng(generator)
        if self.replacement:
            for count in _chunks(self.num_samples):
                yield from rng.integers(0, n, size=count).tolist()
        else:
            for _ in range(self.num_samples // n):
                yield from _as_ints(rng.permutation(n))
            yield from _as_ints(rng.permutation(n)[: self.num_samples % n])

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order, without replacement."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        for i in _as_ints(_numpy_rng(self.generator).permutation(len(self.indices))):
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probabilities proportional to ``weights``."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement={replacement}")
        weights = _creation.as_tensor(weights, dtype=dtypes.float64)
        if len(weights.shape) != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape {tuple(weights.shape)}")
        self.weights = weights
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self):
        weights = np.asarray(self.weights)
        # Checked here, as torch.multinomial checks when sampling: the first bad entry names the problem.
        bad = ~((weights >= 0) & np.isfinite(weights))
        if bad.any():
            first = weights[np.argmax(bad)]
            problem = "< 0" if not first >= 0 else "= infinity or NaN"  # NaN fails ">= 0" first, as in PyTorch
            raise RuntimeError(f"invalid multinomial distribution (encountering probability entry {problem})")
        if weights.sum() <= 0:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        if not self.replacement and self.num_samples > np.count_nonzero(weights):
            raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
        rng = _numpy_rng(self.generator)
        if not self.replacement:  # at most one index per non-zero weight: no more than the dataset holds
            yield from rng.choice(len(weights), size=self.num_samples, replace=False, p=weights / weights.sum()).tolist()
            return
        # With replacement the draws come in chunks (PyTorch draws them all at once): each uniform
        # number falls in one index's share of the cumulative weights. Dividing by the last sum
        # makes it exactly 1, so every draw (< 1) lands on an index with a non-zero weight.
        cumulative = np.cumsum(weights)
        cumulative /= cumulative[-1]
        for count in _chunks(self.num_samples):
            yield from np.searchsorted(cumulative, rng.random(count), side="right").tolist()

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Groups another sampler's indices into lists of ``batch_size`` (the last one shorter
    unless ``drop_last``)."""

    def __init__(self, sampler, batch_size, drop_last):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        sampler_iter = iter(self.sampler)
        if self.drop_last:
            # zip stops at the first short group, which is the incomplete last batch.
            yield from (list(batch) for batch in zip(*[sampler_iter] * self.batch_size))
        else:
            batch = list(itertools.islice(sampler_iter, self.batch_size))
            while batch:
                yield batch
                batch = list(itertools.islice(sampler_iter, self.batch_size))

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
