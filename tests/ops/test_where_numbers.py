"""``where(condition, number, number)``: PyTorch makes the result from the two numbers' types
(siamese_network's ``torch.where(outputs > 0.5, 1, 0)``)."""

import numpy as np
import pytest

import tinytorch

torch = pytest.importorskip("torch")

VALUES = np.array([[0.2, 0.7, 0.5], [0.9, -1.0, 0.51]], dtype=np.float32)


@pytest.mark.parametrize("input, other", [(1, 0), (1.0, 0), (1, 0.5), (True, False), (1, True), (False, 2.5), (-3, 7)])
def test_two_numbers_match_torch(input, other):
    ours = tinytorch.where(tinytorch.tensor(VALUES) > 0.5, input, other)
    theirs = torch.where(torch.tensor(VALUES) > 0.5, input, other)
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "tinytorch.")
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_two_numbers_under_float64_default():
    previous = tinytorch.get_default_dtype()
    tinytorch.set_default_dtype(tinytorch.float64)
    try:
        assert tinytorch.where(tinytorch.tensor([True, False]), 1.5, 0).dtype == tinytorch.float64
    finally:
        tinytorch.set_default_dtype(previous)


def test_a_number_and_a_tensor_still_promote_as_before():
    x = tinytorch.tensor(VALUES, requires_grad=True)
    y = tinytorch.where(x > 0.5, x, 0.0)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), (VALUES > 0.5).astype(np.float32))


def test_condition_must_be_bool():
    with pytest.raises(RuntimeError, match="boolean"):
        tinytorch.where(tinytorch.tensor([1.0]), 1, 0)
