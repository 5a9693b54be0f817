"""fmod takes the dividend's sign, remainder the divisor's: both against PyTorch on mixed signs."""

import numpy as np
import pytest

import tinytorch

torch = pytest.importorskip("torch")

CASES = [(np.array([-3.0, 3.0, -7.5, 5.5, 0.0]), np.array([2.0, -2.0, 2.0, -2.0, 3.0])),
         (np.array([-7, 7, -8, 9]), np.array([3, -3, 3, -4]))]


@pytest.mark.parametrize("name", ["fmod", "remainder", "floor_divide"])
@pytest.mark.parametrize("a, b", CASES)
def test_signs_match_torch(name, a, b):
    ours = getattr(tinytorch, name)(tinytorch.tensor(a), tinytorch.tensor(b))
    theirs = getattr(torch, name)(torch.tensor(a), torch.tensor(b))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    method = getattr(tinytorch.tensor(a), name)(tinytorch.tensor(b))
    np.testing.assert_array_equal(method.numpy(), theirs.numpy())
    scalar = getattr(tinytorch.tensor(a), name)(2)
    np.testing.assert_array_equal(scalar.numpy(), getattr(torch.tensor(a), name)(2).numpy())
