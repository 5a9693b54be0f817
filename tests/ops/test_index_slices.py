"""index_add, index_copy and index_fill: slices along a dim at a vector of indices, against NumPy
(an independent oracle) and torch's errors and gradients when torch is installed."""

import numpy as np
import pytest

import tinytorch


def test_index_add_sums_repeated_indices_and_scales_by_alpha():
    x = np.zeros((3, 4), dtype=np.float32)
    source = np.arange(12, dtype=np.float32).reshape(3, 4)
    index = np.array([2, 0, 2])
    expected = x.copy()
    np.add.at(expected, index, 2 * source)
    ours = tinytorch.index_add(tinytorch.tensor(x), 0, tinytorch.tensor(index), tinytorch.tensor(source), alpha=2)
    np.testing.assert_array_equal(ours.numpy(), expected)
    t = tinytorch.zeros(3, 4)
    assert t.index_add_(1, tinytorch.tensor([3]), tinytorch.ones(3, 1)) is t and t[:, 3].tolist() == [1.0, 1.0, 1.0]


def test_index_copy_and_index_fill_write_slices():
    x = tinytorch.zeros(3, 4)
    copied = x.index_copy(1, tinytorch.tensor([3, 0]), tinytorch.arange(6.0).reshape(3, 2))
    assert copied.tolist() == [[1.0, 0.0, 0.0, 0.0], [3.0, 0.0, 0.0, 2.0], [5.0, 0.0, 0.0, 4.0]]
    filled = tinytorch.index_fill(x, 0, tinytorch.tensor([1]), -1.0)
    assert filled.tolist() == [[0.0] * 4, [-1.0] * 4, [0.0] * 4]
    assert tinytorch.index_fill(tinytorch.tensor(1.0), 0, tinytorch.tensor(0), 5.0).item() == 5.0


def test_index_fill_with_a_tensor_value_passes_it_the_gradient():
    x = tinytorch.zeros(2, 3, requires_grad=True)
    value = tinytorch.tensor(3.0, requires_grad=True)
    (tinytorch.index_fill(x, 1, tinytorch.tensor([0, 2]), value) * 2).sum().backward()
    assert value.grad.item() == 8.0  # four filled places, each times 2
    assert x.grad.tolist() == [[0.0, 2.0, 0.0], [0.0, 2.0, 0.0]]


@pytest.mark.parametrize("call", [
    lambda L: L.index_add(L.zeros(3, 4), 0, L.tensor([[0, 2]]), L.ones(2, 4)),
    lambda L: L.index_add(L.zeros(3, 4), 0, L.tensor([0, 1, 2]), L.ones(2, 4)),
    lambda L: L.index_add(L.zeros(3, 4), 0, L.tensor([0, 2]), L.ones(2, 4, dtype=L.float64)),
    lambda L: L.index_add(L.zeros(3, 4), 0, L.tensor([0.0, 2.0]), L.ones(2, 4)),
    lambda L: L.index_add(L.zeros(3, 4), 0, L.tensor([0, 5]), L.ones(2, 4)),
    lambda L: L.index_add(L.zeros(3, 4), 0, L.tensor([0, 2]), L.ones(2, 3)),
    lambda L: L.index_copy(L.zeros(3, 4), 0, L.tensor([0, 1, 2]), L.ones(2, 4)),
    lambda L: L.index_fill(L.zeros(3, 4), 0, L.tensor([[0]]), 1.0),
])
def test_errors_match_torch(call):
    torch = pytest.importorskip("torch")
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(type(theirs.value)) as ours:
        call(tinytorch)
    assert str(ours.value) == str(theirs.value)
