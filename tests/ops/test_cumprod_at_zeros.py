"""cumprod's derivatives where the input holds zeros: the first-order formula is exact there, and
under create_graph the gradient is built from products alone, so that its own derivative is exact
too (past a line's first zero the gradient is 0, but its derivative is not)."""

import numpy as np
import pytest

import tinytorch
from tinytorch.autograd import gradcheck, gradgradcheck


def _with_zeros():
    values = np.random.default_rng(0).standard_normal((3, 4, 2))
    for index in ((1, 2, 0), (0, 0, 1), (2, 1, 1), (2, 3, 1), (0, 3, 0)):
        values[index] = 0.0
    return values


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_first_and_second_derivatives_at_zeros_match_finite_differences(dim):
    x = tinytorch.tensor(_with_zeros(), requires_grad=True)
    assert gradcheck(lambda x: x.cumprod(dim), (x,))
    assert gradgradcheck(lambda x: x.cumprod(dim), (x,))


def test_a_zero_first_in_the_line():
    x = tinytorch.tensor([0.0, 0.5, -1.0], dtype=tinytorch.float64, requires_grad=True)
    (grad,) = tinytorch.autograd.grad(x.cumprod(0).sum(), x, create_graph=True)
    (second,) = tinytorch.autograd.grad(grad[1], x, retain_graph=True)
    # d/dx0 of d(sum cumprod)/dx1 = d/dx0 (x0 + x0 x2) = 1 + x2 = 0; d/dx2 of it = x0 = 0.
    # d/dx0 of grad[2] = x1 = 0.5: the old masks gave 0 for every entry past the first zero.
    assert second.tolist() == [0.0, 0.0, 0.0]
    (second,) = tinytorch.autograd.grad(grad[2], x)
    assert second.tolist() == [0.5, 0.0, 0.0]


@pytest.mark.parametrize("dim", [0, 1, 2])
def test_second_derivatives_match_torch(dim):
    torch = pytest.importorskip("torch")
    values = _with_zeros()
    weights = np.random.default_rng(1).standard_normal(values.shape)
    ours, theirs = tinytorch.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    (g,) = tinytorch.autograd.grad(ours.cumprod(dim), ours, tinytorch.tensor(weights), create_graph=True)
    (tg,) = torch.autograd.grad(theirs.cumprod(dim), theirs, torch.tensor(weights), create_graph=True)
    (g * g).sum().backward()
    (tg * tg).sum().backward()
    np.testing.assert_allclose(g.detach().numpy(), tg.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_a_plain_backward_keeps_the_linear_formula():
    x = tinytorch.tensor(_with_zeros(), requires_grad=True)
    x.cumprod(1).sum().backward()
    assert x.grad.grad_fn is None and x.grad.shape == x.shape
