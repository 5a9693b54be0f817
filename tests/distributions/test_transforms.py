"""Transforms and TransformedDistribution against torch: forward, inverse, log-det-Jacobian,
and the change-of-variables density, with gradients."""

import numpy as np
import pytest

import tinytorch

torch = pytest.importorskip("torch")


def _transforms(L, loc, scale):
    d = L.distributions
    return {
        "exp": d.ExpTransform(),
        "affine": d.AffineTransform(loc, scale),
        "affine_numbers": d.AffineTransform(0.5, -2.0),
        "sigmoid": d.SigmoidTransform(),
        "compose": d.ComposeTransform([d.AffineTransform(loc, scale), d.SigmoidTransform()]),
        "identity": d.identity_transform,
        "inverse_exp": d.ExpTransform().inv,
    }


NAMES = list(_transforms(tinytorch, 0.0, 1.0))


def _setup(L, rng_seed=0, requires_grad=True):
    rng = np.random.default_rng(rng_seed)
    x = rng.uniform(0.2, 1.5, (2, 3))
    loc, scale = rng.normal(size=(3,)), rng.uniform(0.5, 2.0, (3,))
    t = lambda a: L.tensor(a, requires_grad=requires_grad)  # noqa: E731
    x, loc, scale = t(x), t(loc), t(scale)
    return x, loc, scale


@pytest.mark.parametrize("name", NAMES)
def test_transform_matches_torch(name):
    x_o, loc_o, scale_o = _setup(tinytorch)
    x_t, loc_t, scale_t = _setup(torch)
    ours, theirs = _transforms(tinytorch, loc_o, scale_o)[name], _transforms(torch, loc_t, scale_t)[name]
    y_o, y_t = ours(x_o), theirs(x_t)
    np.testing.assert_allclose(y_o.detach().numpy(), y_t.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(ours.inv(y_o).detach().numpy(), x_o.detach().numpy(), rtol=1e-7)
    ladj_o, ladj_t = ours.log_abs_det_jacobian(x_o, y_o), theirs.log_abs_det_jacobian(x_t, y_t)
    np.testing.assert_allclose(ladj_o.detach().numpy(), ladj_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert ours.bijective == theirs.bijective
    assert type(ours.domain).__name__ == type(theirs.domain).__name__
    assert type(ours.codomain).__name__ == type(theirs.codomain).__name__
    (y_o.sum() + ladj_o.sum()).backward()
    (y_t.sum() + ladj_t.sum()).backward()
    for a, b in ((x_o, x_t), (loc_o, loc_t), (scale_o, scale_t)):
        if b.grad is not None:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_transforms_compare_by_kind():
    d = tinytorch.distributions
    assert d.ExpTransform() == d.ExpTransform() and d.ExpTransform() != d.SigmoidTransform()
    assert d.AffineTransform(0.0, 2.0) == d.AffineTransform(0.0, 2.0) != d.AffineTransform(0.0, 3.0)
    assert d.ExpTransform().inv == d.ExpTransform().inv and d.ExpTransform().inv.inv == d.ExpTransform()
    assert d.ComposeTransform([d.ExpTransform()]) == d.ComposeTransform([d.ExpTransform()])
    assert isinstance(d.ExpTransform(), d.Transform)
    with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
        d.ExpTransform(cache_size=2)


def _logit_normal(L, loc, scale, low, width):
    d = L.distributions
    return d.TransformedDistribution(d.Normal(loc, scale), [d.SigmoidTransform(), d.AffineTransform(low, width)])


def test_transformed_distribution_matches_torch():
    rng = np.random.default_rng(1)
    params = [rng.normal(size=(3,)), rng.uniform(0.5, 1.5, (3,)), rng.normal(size=(3,)), rng.uniform(1.0, 2.0, (3,))]
    ours_p = [tinytorch.tensor(p, requires_grad=True) for p in params]
    theirs_p = [torch.tensor(p, requires_grad=True) for p in params]
    ours, theirs = _logit_normal(tinytorch, *ours_p), _logit_normal(torch, *theirs_p)
    assert isinstance(ours, tinytorch.distributions.Distribution)
    assert tuple(ours.batch_shape) == tuple(theirs.batch_shape) and ours.has_rsample
    torch.manual_seed(0)
    value = theirs.sample((4,))
    lp_o, lp_t = ours.log_prob(tinytorch.tensor(value.numpy())), theirs.log_prob(value)
    np.testing.assert_allclose(lp_o.detach().numpy(), lp_t.detach().numpy(), rtol=1e-9)
    cdf_o, cdf_t = ours.cdf(tinytorch.tensor(value.numpy())), theirs.cdf(value)
    np.testing.assert_allclose(cdf_o.detach().numpy(), cdf_t.detach().numpy(), rtol=1e-9)
    u = np.random.default_rng(2).uniform(0.1, 0.9, (4, 3))
    np.testing.assert_allclose(ours.icdf(tinytorch.tensor(u)).detach().numpy(), theirs.icdf(torch.tensor(u)).detach().numpy(), rtol=1e-9)
    (lp_o.sum() + cdf_o.sum()).backward()
    (lp_t.sum() + cdf_t.sum()).backward()
    for a, b in zip(ours_p, theirs_p):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-8, atol=1e-12)
    sample = ours.rsample((1000,))
    low, high = ours_p[2].detach().numpy(), (ours_p[2] + ours_p[3]).detach().numpy()
    assert ((sample.detach().numpy() > low) & (sample.detach().numpy() < high)).all()
    big = ours.expand((5, 3))
    assert tuple(big.sample().shape) == (5, 3)
    with pytest.raises(ValueError, match="transforms must be a Transform or a list of Transforms"):
        tinytorch.distributions.TransformedDistribution(tinytorch.distributions.Normal(0.0, 1.0), [1])
