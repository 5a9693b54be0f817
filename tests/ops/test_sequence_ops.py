"""multinomial and bernoulli (sampled: checked by statistics and against torch's errors), and the
errors of einsum, repeat_interleave, addmm and baddbmm (their values and gradients are in the op table)."""

import numpy as np
import pytest

import tinytorch


def _counts(samples, categories):
    return np.bincount(samples.cpu().numpy().reshape(-1), minlength=categories)


def _assert_frequencies(counts, probs, draws):
    """Each category's count within 5 binomial standard deviations of draws * p (a false alarm
    has probability ~1e-6 per category)."""
    expected = draws * np.asarray(probs)
    spread = 5 * np.sqrt(draws * np.asarray(probs) * (1 - np.asarray(probs))) + 1
    assert np.all(np.abs(counts - expected) <= spread), (counts, expected)


def test_multinomial_with_replacement_follows_the_weights(device):
    weights = [0.1, 0.0, 0.6, 0.3, 0.0]  # zero weights, also at the end
    probs = np.array(weights) / sum(weights)
    samples = tinytorch.multinomial(tinytorch.tensor(weights, device=device), 20000, replacement=True)
    assert samples.dtype == tinytorch.int64 and samples.shape == (20000,) and samples.device.type == device
    counts = _counts(samples, 5)
    assert counts[1] == 0 and counts[4] == 0
    _assert_frequencies(counts, probs, 20000)


def test_multinomial_rows_are_independent_distributions(device):
    weights = tinytorch.tensor([[1.0, 1.0, 2.0], [0.0, 5.0, 0.0], [3.0, 0.0, 1.0]], device=device)  # unnormalized
    samples = weights.multinomial(6000, replacement=True)
    assert samples.shape == (3, 6000)
    for row, w in zip(samples, weights.cpu().numpy()):
        _assert_frequencies(_counts(row, 3), w / w.sum(), 6000)


def test_multinomial_without_replacement_draws_distinct_categories(device):
    weights = tinytorch.tensor([[0.5, 0.3, 0.2, 0.0]] * 20000, device=device)
    samples = tinytorch.multinomial(weights, 3).cpu().numpy()
    assert samples.shape == (20000, 3)
    assert all(len(set(row)) == 3 for row in samples[:500])
    assert not (samples == 3).any()  # a zero weight is never drawn while others are left
    # The first draw follows the weights; the second is the renormalized rest (sequential sampling).
    p = np.array([0.5, 0.3, 0.2])
    second = [sum(p[j] * p[k] / (1 - p[j]) for j in range(3) if j != k) for k in range(3)]
    _assert_frequencies(np.bincount(samples[:, 0], minlength=3), p, 20000)
    _assert_frequencies(np.bincount(samples[:, 1], minlength=3), second, 20000)


def test_multinomial_all_categories_without_replacement_is_a_permutation():
    samples = tinytorch.multinomial(tinytorch.tensor([1.0, 2.0, 3.0, 4.0]), 4)
    assert sorted(samples.tolist()) == [0, 1, 2, 3]


def test_multinomial_generator_makes_draws_reproducible(device):
    weights = tinytorch.rand(4, 7, device=device)
    first = tinytorch.multinomial(weights, 5, generator=tinytorch.Generator(device).manual_seed(3))
    again = tinytorch.multinomial(weights, 5, generator=tinytorch.Generator(device).manual_seed(3))
    assert first.tolist() == again.tolist()
    tinytorch.manual_seed(11)
    a = tinytorch.multinomial(weights, 5, replacement=True)
    tinytorch.manual_seed(11)
    b = tinytorch.multinomial(weights, 5, replacement=True)
    assert a.tolist() == b.tolist()


def test_multinomial_draws_from_the_given_generator_only():
    generator = tinytorch.Generator().manual_seed(0)
    state = tinytorch.get_rng_state()
    tinytorch.multinomial(tinytorch.ones(5), 3, generator=generator)
    assert tinytorch.equal(state, tinytorch.get_rng_state())


@pytest.mark.parametrize("make, error", [
    (lambda lib: lib.multinomial(lib.tensor([0.2, -0.1]), 1, True), RuntimeError),
    (lambda lib: lib.multinomial(lib.tensor([1.0, float("nan")]), 1, True), RuntimeError),
    (lambda lib: lib.multinomial(lib.tensor([1.0, float("inf")]), 1), RuntimeError),
    (lambda lib: lib.multinomial(lib.tensor([0.0, 0.0]), 1, True), RuntimeError),
    (lambda lib: lib.multinomial(lib.ones(2, 2, 2), 1, True), RuntimeError),
    (lambda lib: lib.multinomial(lib.tensor(1.0), 1, True), RuntimeError),
    (lambda lib: lib.multinomial(lib.tensor([1.0, 1.0]), 3, False), RuntimeError),
    (lambda lib: lib.multinomial(lib.tensor([1.0, 1.0]), 0, True), RuntimeError),
    (lambda lib: lib.multinomial(lib.tensor([1, 2]), 1, True), RuntimeError),
    (lambda lib: lib.multinomial(lib.ones(2), 1, generator=5), TypeError),
    (lambda lib: lib.bernoulli(lib.tensor([1.5])), RuntimeError),
    (lambda lib: lib.bernoulli(lib.tensor([1, 0])), NotImplementedError),
])
def test_sampling_errors_match_torch(make, error):
    torch = pytest.importorskip("torch")
    with pytest.raises(error) as theirs:
        make(torch)
    with pytest.raises(error) as ours:
        make(tinytorch)
    expected = str(theirs.value).replace("torch.", "tinytorch.").split("(Could this")[0].strip()
    assert expected in str(ours.value)


def test_multinomial_of_nonnegative_weights_does_not_change_them():
    weights = tinytorch.tensor([[0.5, 0.5], [0.1, 0.9]])
    before = weights.numpy().copy()
    tinytorch.multinomial(weights, 2)
    tinytorch.multinomial(weights, 5, replacement=True)
    assert np.array_equal(weights.numpy(), before)


def test_bernoulli_follows_probabilities_and_keeps_dtype(device):
    p = tinytorch.tensor([0.0, 0.25, 1.0], dtype=tinytorch.float64, device=device).expand(20000, 3).contiguous()
    draws = tinytorch.bernoulli(p, generator=tinytorch.Generator(device).manual_seed(0))
    assert draws.dtype == tinytorch.float64 and draws.device.type == device
    column = draws.cpu().numpy().sum(axis=0)
    assert column[0] == 0 and column[2] == 20000
    _assert_frequencies(np.array([column[1]]), [0.25], 20000)
    half = tinytorch.ones(20000, device=device).bernoulli(0.5)
    _assert_frequencies(np.array([half.sum().item()]), [0.5], 20000)


# -- errors of the new composites: PyTorch's type and message ----------------------------------
ERRORS = [
    lambda lib: lib.einsum("ij,jk->ik", lib.ones(2, 3)),
    lambda lib: lib.einsum("ij", lib.ones(2, 3), lib.ones(2)),
    lambda lib: lib.einsum("ij,jk->ik", lib.ones(2, 3), lib.ones(4, 2)),
    lambda lib: lib.einsum("ij->k", lib.ones(2, 3)),
    lambda lib: lib.einsum("ijk->i", lib.ones(2, 3)),
    lambda lib: lib.einsum("ij->ii", lib.ones(2, 3)),
    lambda lib: lib.einsum("1j", lib.ones(2, 3)),
    lambda lib: lib.einsum("i.j", lib.ones(2, 3)),
    lambda lib: lib.einsum("ii", lib.ones(2, 3)),
    lambda lib: lib.einsum("ij,jk", lib.ones(2, 2), lib.ones(2, 2, dtype=lib.float64)),
    lambda lib: lib.ones(2, 3).repeat_interleave(-1),
    lambda lib: lib.ones(2, 3).repeat_interleave(lib.tensor([1, 2]), dim=1),
    lambda lib: lib.ones(2, 3).repeat_interleave(lib.tensor([1, -2]), dim=0),
    lambda lib: lib.ones(2, 3).repeat_interleave(lib.tensor([[1, 2]]), dim=0),
    lambda lib: lib.ones(2, 3).repeat_interleave(lib.tensor([1, 2]), dim=0, output_size=4),
    lambda lib: lib.ones(2, 3).repeat_interleave(2, dim=5),
    lambda lib: lib.addmm(lib.ones(2), lib.ones(2, 4), lib.ones(4, 3)),
    lambda lib: lib.addmm(lib.ones(2, 3), lib.ones(2, 4), lib.ones(5, 3)),
    lambda lib: lib.addmm(lib.ones(2, 3), lib.ones(4), lib.ones(4, 3)),
    lambda lib: lib.baddbmm(lib.ones(3), lib.ones(2, 2, 4), lib.ones(3, 4, 3)),
    lambda lib: lib.baddbmm(lib.ones(3), lib.ones(2, 4), lib.ones(2, 4, 3)),
    lambda lib: lib.baddbmm(lib.ones(2, 1, 1, 1), lib.ones(2, 2, 4), lib.ones(2, 4, 3)),
]


@pytest.mark.parametrize("make", ERRORS, ids=range(len(ERRORS)))
def test_errors_match_torch(make):
    torch = pytest.importorskip("torch")
    with pytest.raises(Exception) as theirs:
        make(torch)
    with pytest.raises(theirs.type) as ours:
        make(tinytorch)
    assert str(theirs.value).replace("torch.", "tinytorch.") == str(ours.value)


def test_repeat_interleave_of_counts_alone():
    torch = pytest.importorskip("torch")
    counts = [2, 0, 3, 1]
    assert tinytorch.repeat_interleave(tinytorch.tensor(counts)).tolist() == torch.repeat_interleave(torch.tensor(counts)).tolist()


def test_addmm_with_beta_zero_ignores_nan_in_input():
    out = tinytorch.addmm(tinytorch.full((2, 2), float("nan")), tinytorch.ones(2, 3), tinytorch.ones(3, 2), beta=0)
    assert out.tolist() == [[3.0, 3.0], [3.0, 3.0]]
