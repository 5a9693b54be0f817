"""gaussian_nll_loss / GaussianNLLLoss and poisson_nll_loss / PoissonNLLLoss against torch (values
and gradients for every option, variance shape and reduction; PyTorch's errors), and the link
between the Gaussian likelihood and the squared error."""

import math
import warnings

import numpy as np
import pytest

import tinytorch
import tinytorch.nn.functional as F
from tinytorch import nn

from .helpers import assert_close, assert_same_error, ours, theirs

REDUCTIONS = ["mean", "sum", "none"]
VAR_SHAPES = {"heteroscedastic": (4, 3), "last dim dropped": (4,), "one dim of size 1": (4, 1), "first dim 1": (1, 3)}


def _compare(torch, our_fn, their_fn, arrays, differentiable):
    ours_in = [ours(a, requires_grad=i in differentiable) if isinstance(a, np.ndarray) else a for i, a in enumerate(arrays)]
    theirs_in = [theirs(torch, a, requires_grad=i in differentiable) if isinstance(a, np.ndarray) else a for i, a in enumerate(arrays)]
    got, expected = our_fn(*ours_in), their_fn(*theirs_in)
    assert tuple(got.shape) == tuple(expected.shape)
    assert_close(got, expected, atol=1e-12, rtol=1e-10)
    weights = np.random.default_rng(9).standard_normal(tuple(expected.shape))
    (got * ours(weights)).sum().backward()
    (expected * theirs(torch, weights)).sum().backward()
    for i in differentiable:
        assert_close(ours_in[i].grad, theirs_in[i].grad, atol=1e-12, rtol=1e-10)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("var_shape", VAR_SHAPES.values(), ids=VAR_SHAPES.keys())
def test_gaussian_nll_loss_matches_torch(var_shape, full, reduction):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, t, var = rng.standard_normal((4, 3)), rng.standard_normal((4, 3)), rng.uniform(0.2, 2.0, var_shape)
    _compare(torch, lambda *a: F.gaussian_nll_loss(*a, full=full, reduction=reduction),
             lambda *a: torch.nn.functional.gaussian_nll_loss(*a, full=full, reduction=reduction), [x, t, var], (0, 1, 2))


@pytest.mark.parametrize("var", [0.5, 2.0])
def test_gaussian_nll_loss_with_a_float_variance(var):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    _compare(torch, lambda *a: F.gaussian_nll_loss(*a, var), lambda *a: torch.nn.functional.gaussian_nll_loss(*a, var),
             [rng.standard_normal((5,)), rng.standard_normal((5,))], (0, 1))


def test_gaussian_nll_loss_clamps_tiny_variances_but_passes_their_gradient():
    torch = pytest.importorskip("torch")
    var = np.array([0.0, 1e-9, 0.5, 1e-3])
    x, t = np.array([0.1, -0.2, 0.3, 0.4]), np.zeros(4)
    for eps in (1e-6, 1e-2):
        _compare(torch, lambda *a, eps=eps: F.gaussian_nll_loss(*a, eps=eps, reduction="none"),
                 lambda *a, eps=eps: torch.nn.functional.gaussian_nll_loss(*a, eps=eps, reduction="none"), [x, t, var], (0, 2))


def test_gaussian_nll_loss_module():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x, t, var = rng.standard_normal((4, 3)), rng.standard_normal((4, 3)), rng.uniform(0.2, 2.0, (4, 3))
    loss = nn.GaussianNLLLoss(full=True, eps=1e-3, reduction="sum")
    assert (loss.full, loss.eps, loss.reduction) == (True, 1e-3, "sum")
    _compare(torch, loss, torch.nn.GaussianNLLLoss(full=True, eps=1e-3, reduction="sum"), [x, t, var], (0, 2))


GAUSSIAN_MISTAKES = [
    ("negative float var", lambda L: L.nn.functional.gaussian_nll_loss(L.zeros(4, 3), L.zeros(4, 3), -1.0)),
    ("negative tensor var", lambda L: L.nn.functional.gaussian_nll_loss(L.zeros(4, 3), L.zeros(4, 3), -L.ones(4, 3))),
    ("var of the wrong length", lambda L: L.nn.functional.gaussian_nll_loss(L.zeros(4, 3), L.zeros(4, 3), L.ones(3))),
    ("var with two broadcast dims", lambda L: L.nn.functional.gaussian_nll_loss(L.zeros(4, 3), L.zeros(4, 3), L.ones(1, 1))),
    ("var with an extra dim", lambda L: L.nn.functional.gaussian_nll_loss(L.zeros(4, 3), L.zeros(4, 3), L.ones(2, 4, 3))),
    ("var of another size", lambda L: L.nn.functional.gaussian_nll_loss(L.zeros(4, 3), L.zeros(4, 3), L.ones(4, 2))),
    ("bad reduction", lambda L: L.nn.functional.gaussian_nll_loss(L.zeros(4, 3), L.zeros(4, 3), L.ones(4, 3), reduction="avg")),
    ("target that does not broadcast", lambda L: L.nn.functional.gaussian_nll_loss(L.zeros(4, 3), L.zeros(5), L.ones(4, 3))),
    ("module keyword-only", lambda L: L.nn.GaussianNLLLoss(True)),
]


@pytest.mark.parametrize("name, call", GAUSSIAN_MISTAKES, ids=[m[0] for m in GAUSSIAN_MISTAKES])
def test_gaussian_nll_loss_errors(name, call):
    torch = pytest.importorskip("torch")
    assert_same_error(lambda: call(tinytorch), lambda: call(torch))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("log_input", [True, False])
def test_poisson_nll_loss_matches_torch(log_input, full, reduction):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 3)) if log_input else rng.uniform(0.1, 4.0, (4, 3))
    target = rng.integers(0, 8, (4, 3)).astype(np.float64)
    _compare(torch, lambda *a: F.poisson_nll_loss(*a, log_input=log_input, full=full, reduction=reduction),
             lambda *a: torch.nn.functional.poisson_nll_loss(*a, log_input=log_input, full=full, reduction=reduction),
             [x, target], (0,))


def test_poisson_nll_loss_eps_and_module():
    torch = pytest.importorskip("torch")
    x, target = np.array([0.0, 1e-3, 2.0]), np.array([1.0, 3.0, 0.0])
    _compare(torch, lambda *a: F.poisson_nll_loss(*a, log_input=False, eps=0.5, reduction="none"),
             lambda *a: torch.nn.functional.poisson_nll_loss(*a, log_input=False, eps=0.5, reduction="none"), [x, target], (0,))
    loss = nn.PoissonNLLLoss(log_input=False, full=True, eps=1e-4, reduction="sum")
    assert (loss.log_input, loss.full, loss.eps, loss.reduction) == (False, True, 1e-4, "sum")
    _compare(torch, loss, torch.nn.PoissonNLLLoss(log_input=False, full=True, eps=1e-4, reduction="sum"), [x + 0.5, target], (0,))


def test_poisson_nll_loss_legacy_reduction_arguments():
    torch = pytest.importorskip("torch")
    x, target = np.array([0.5, -0.5]), np.array([1.0, 2.0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = F.poisson_nll_loss(ours(x), ours(target), size_average=False)
    assert any("size_average and reduce args will be deprecated" in str(w.message) for w in caught)
    assert_close(got, torch.nn.functional.poisson_nll_loss(theirs(torch, x), theirs(torch, target), reduction="sum"), atol=1e-12)


def test_poisson_nll_loss_errors():
    torch = pytest.importorskip("torch")
    for call in [lambda L: L.nn.functional.poisson_nll_loss(L.zeros(3), L.zeros(3), reduction="avg"),
                 lambda L: L.nn.functional.poisson_nll_loss(L.zeros(4, 3), L.zeros(5))]:
        assert_same_error(lambda call=call: call(tinytorch), lambda call=call: call(torch))


def test_poisson_nll_loss_is_the_poisson_log_likelihood():
    """With full=False it differs from -Poisson(rate).log_prob by log(k!) alone."""
    rate, counts = tinytorch.tensor([0.5, 2.0, 7.0]), tinytorch.tensor([0.0, 3.0, 5.0])
    nll = F.poisson_nll_loss(rate.log(), counts, reduction="none")
    exact = -tinytorch.distributions.Poisson(rate).log_prob(counts)
    np.testing.assert_allclose(nll.numpy(), (exact - (counts + 1).lgamma()).numpy(), rtol=1e-6)


def test_mse_is_the_unit_variance_gaussian_nll_up_to_its_constant_and_scale():
    """0.5 (x - y)^2 + 0.5 log(2 pi) per element: minimizing MSE is maximum likelihood under a
    Gaussian of fixed variance, the lecture's continuous row."""
    rng = np.random.default_rng(4)
    x, y = ours(rng.standard_normal((6, 2)), requires_grad=True), ours(rng.standard_normal((6, 2)))
    nll = F.gaussian_nll_loss(x, y, tinytorch.ones(6, 2), full=True)
    mse = F.mse_loss(x, y)
    np.testing.assert_allclose(nll.item(), 0.5 * mse.item() + 0.5 * math.log(2 * math.pi), rtol=1e-12)
    (grad_nll,) = tinytorch.autograd.grad(nll, [x])
    (grad_mse,) = tinytorch.autograd.grad(mse, [x])
    np.testing.assert_allclose(grad_nll.numpy(), 0.5 * grad_mse.numpy(), rtol=1e-12)
    per_element = -tinytorch.distributions.Normal(x, 1.0).log_prob(y)
    np.testing.assert_allclose(per_element.mean().item(), nll.item(), rtol=1e-12)
