"""Where max() and amax part ways: a NaN result. PyTorch's max() of all elements shares the gradient
among the NaNs (evenly_distribute_backward); amax's scale-by-count gives NaN everywhere."""

import math

import tinytorch

nan = float("nan")


def test_max_and_min_of_all_elements_share_the_gradient_among_nans():
    for name in ("max", "min"):
        x = tinytorch.tensor([1.0, nan, 3.0, nan], requires_grad=True)
        getattr(x, name)().backward()
        assert x.grad.tolist() == [0.0, 0.5, 0.0, 0.5]
    x = tinytorch.tensor([3.0, 1.0, 3.0], requires_grad=True)
    x.max().backward()
    assert x.grad.tolist() == [0.5, 0.0, 0.5]


def test_amax_at_nan_has_a_nan_gradient_as_pytorch():
    x = tinytorch.tensor([[1.0, nan], [3.0, 2.0]], requires_grad=True)
    x.amax(1).sum().backward()
    grad = x.grad.tolist()
    assert all(math.isnan(g) for g in grad[0]) and grad[1] == [1.0, 0.0]
