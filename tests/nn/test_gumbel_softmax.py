"""F.gumbel_softmax: shape and dtype, rows summing to one, hard one-hot samples with the soft
sample's (straight-through) gradient, torch's formula on the same Exponential noise, the
distribution of the argmax, torch's warning and errors; and F.conv_tbc being torch.conv_tbc."""

import warnings

import numpy as np
import pytest

import tinytorch
import tinytorch.nn.functional as F

torch = pytest.importorskip("torch")


def _noise_and_result(x, seed, **kwargs):
    """The gumbel_softmax of ``x`` and the Exponential(1) draws it used (the same seed twice)."""
    tinytorch.manual_seed(seed)
    out = F.gumbel_softmax(x, **kwargs)
    tinytorch.manual_seed(seed)
    noise = tinytorch.empty_like(x).exponential_()
    return out, noise.numpy()


@pytest.mark.parametrize("dtype", [tinytorch.float32, tinytorch.float64])
@pytest.mark.parametrize("dim", [-1, 0, 1])
def test_shape_dtype_and_rows_sum_to_one(dtype, dim):
    tinytorch.manual_seed(0)
    x = tinytorch.randn(4, 5, 3, dtype=dtype)
    y = F.gumbel_softmax(x, tau=0.7, dim=dim)
    assert y.shape == x.shape and y.dtype == dtype
    assert (y.numpy() >= 0).all()
    np.testing.assert_allclose(y.sum(dim).numpy(), 1.0, rtol=1e-5)


@pytest.mark.parametrize("hard", [False, True])
@pytest.mark.parametrize("tau", [1, 0.3, 2.5])
def test_matches_torch_formula_on_the_same_noise_with_gradients(tau, hard):
    logits = np.random.default_rng(0).normal(size=(3, 6))
    ours_x = tinytorch.tensor(logits, requires_grad=True)
    out, noise = _noise_and_result(ours_x, 5, tau=tau, hard=hard, dim=-1)
    theirs_x = torch.tensor(logits, requires_grad=True)
    gumbels = -torch.tensor(noise).log()
    y_soft = ((theirs_x + gumbels) / tau).softmax(-1)
    if hard:
        index = y_soft.max(-1, keepdim=True)[1]
        expected = torch.zeros_like(theirs_x).scatter_(-1, index, 1.0) - y_soft.detach() + y_soft
    else:
        expected = y_soft
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-12, atol=1e-15)
    weights = np.random.default_rng(1).normal(size=(3, 6))
    (out * tinytorch.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    assert np.abs(ours_x.grad.numpy()).sum() > 0
    np.testing.assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_hard_is_one_hot_at_the_soft_argmax_with_the_soft_gradient():
    logits = np.random.default_rng(2).normal(size=(5, 4))
    soft_x, hard_x = tinytorch.tensor(logits, requires_grad=True), tinytorch.tensor(logits, requires_grad=True)
    soft, _ = _noise_and_result(soft_x, 9, tau=0.5)
    hard, _ = _noise_and_result(hard_x, 9, tau=0.5, hard=True)
    values = hard.detach().numpy()
    assert set(np.unique(values)) <= {0.0, 1.0}
    np.testing.assert_array_equal(values.sum(-1), 1.0)
    np.testing.assert_array_equal(values.argmax(-1), soft.detach().numpy().argmax(-1))
    weights = tinytorch.tensor(np.random.default_rng(3).normal(size=(5, 4)))
    (soft * weights).sum().backward()
    (hard * weights).sum().backward()
    np.testing.assert_allclose(hard_x.grad.numpy(), soft_x.grad.numpy(), rtol=1e-12)


def test_hard_samples_follow_the_softmax_of_the_logits():
    probs = np.array([0.1, 0.2, 0.3, 0.4])
    logits = tinytorch.tensor(np.log(probs)).expand(20000, 4)
    tinytorch.manual_seed(0)
    picks = F.gumbel_softmax(logits, tau=0.8, hard=True).numpy().argmax(-1)
    np.testing.assert_allclose(np.bincount(picks, minlength=4) / 20000, probs, atol=0.015)


def test_eps_warns_as_deprecated_like_torch():
    x = tinytorch.randn(2, 3)
    with pytest.warns(UserWarning, match="`eps` parameter is deprecated and has no effect."):
        F.gumbel_softmax(x, eps=1e-5)
    with pytest.warns(UserWarning, match="`eps` parameter is deprecated"):
        torch.nn.functional.gumbel_softmax(torch.randn(2, 3), eps=1e-5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.gumbel_softmax(x)


@pytest.mark.parametrize("make,kwargs", [
    (lambda L: L.randn(3, 4), {"dim": 5}),
    (lambda L: L.tensor([1, 2, 3]), {}),
])
def test_errors_match_torch(make, kwargs):
    with pytest.raises(Exception) as expected:
        torch.nn.functional.gumbel_softmax(make(torch), **kwargs)
    with pytest.raises(expected.type) as got:
        F.gumbel_softmax(make(tinytorch), **kwargs)
    assert str(got.value) == str(expected.value)


def test_conv_tbc_is_the_top_level_function():
    assert F.conv_tbc is tinytorch.conv_tbc
    assert torch.nn.functional.conv_tbc is torch.conv_tbc
