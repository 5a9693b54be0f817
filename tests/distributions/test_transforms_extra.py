"""The transforms beyond Exp/Affine/Sigmoid and the constraint registries against torch:
forward, inverse, log_abs_det_jacobian (and vs a finite-difference Jacobian), shapes,
domain/codomain, caching, and biject_to / transform_to for each constraint."""

import numpy as np
import pytest

import tinytorch

torch = pytest.importorskip("torch")


def _transforms(L):
    d = L.distributions
    return {
        "abs": (d.AbsTransform(), (2, 3)),
        "power": (d.PowerTransform(L.tensor([0.5, 2.0, 3.0], dtype=L.float64)), (2, 3)),
        "tanh": (d.TanhTransform(), (2, 3)),
        "softplus": (d.SoftplusTransform(), (2, 3)),
        "softmax": (d.SoftmaxTransform(), (2, 3)),
        "stick_breaking": (d.StickBreakingTransform(), (2, 3)),
        "lower_cholesky": (d.LowerCholeskyTransform(), (2, 3, 3)),
        "positive_definite": (d.PositiveDefiniteTransform(), (2, 3, 3)),
        "corr_cholesky": (d.CorrCholeskyTransform(), (2, 3)),
        "reshape": (d.ReshapeTransform((2, 3), (3, 2)), (4, 2, 3)),
        "independent": (d.IndependentTransform(d.ExpTransform(), 1), (2, 3)),
        "cat": (d.CatTransform([d.ExpTransform(), d.TanhTransform()], dim=-1, lengths=[1, 2]), (2, 3)),
        "cat_batch_dim": (d.CatTransform([d.ExpTransform(), d.SoftplusTransform()], dim=0, lengths=[1, 1]), (2, 3)),
        "stack": (d.StackTransform([d.ExpTransform(), d.TanhTransform(), d.SoftplusTransform()], dim=1), (2, 3)),
        "cdf": (d.CumulativeDistributionTransform(d.Normal(L.tensor(0.5, dtype=L.float64), 2.0)), (2, 3)),
    }


NAMES = list(_transforms(tinytorch))
# the transforms that are bijections on their domain (the inverse recovers x)
INVERTIBLE = {"power", "tanh", "softplus", "stick_breaking", "corr_cholesky", "reshape", "independent", "cat",
              "cat_batch_dim", "stack", "cdf"}


def _x(name, shape):
    rng = np.random.default_rng(0)
    x = rng.normal(size=shape)
    if name == "power":
        x = np.abs(x) + 0.3
    return x


@pytest.mark.parametrize("name", NAMES)
def test_transform_matches_torch(name):
    ours, shape = _transforms(tinytorch)[name]
    theirs, _ = _transforms(torch)[name]
    x_np = _x(name, shape)
    x_o, x_t = tinytorch.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    y_o, y_t = ours(x_o), theirs(x_t)
    np.testing.assert_allclose(y_o.detach().numpy(), y_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.inv(y_o).detach().numpy(), theirs.inv(y_t).detach().numpy(), rtol=1e-8, atol=1e-10)
    if name in INVERTIBLE:
        np.testing.assert_allclose(ours.inv(y_o).detach().numpy(), x_np, rtol=1e-7, atol=1e-9)
    assert ours.bijective == theirs.bijective
    assert repr(ours.domain).split("(")[0] == repr(theirs.domain).split("(")[0]
    assert repr(ours.codomain).split("(")[0] == repr(theirs.codomain).split("(")[0]
    assert ours.domain.event_dim == theirs.domain.event_dim and ours.codomain.event_dim == theirs.codomain.event_dim
    assert tuple(ours.forward_shape(shape)) == tuple(theirs.forward_shape(shape))
    assert tuple(ours.inverse_shape(tuple(y_t.shape))) == tuple(theirs.inverse_shape(tuple(y_t.shape)))
    try:
        ladj_t = theirs.log_abs_det_jacobian(x_t, y_t)
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            ours.log_abs_det_jacobian(x_o, y_o)
        return
    ladj_o = ours.log_abs_det_jacobian(x_o, y_o)
    assert tuple(ladj_o.shape) == tuple(ladj_t.shape)
    np.testing.assert_allclose(ladj_o.detach().numpy(), ladj_t.detach().numpy(), rtol=1e-9, atol=1e-11)
    (y_o.sum() + ladj_o.sum()).backward()
    (y_t.sum() + ladj_t.sum()).backward()
    np.testing.assert_allclose(x_o.grad.numpy(), x_t.grad.numpy(), rtol=1e-8, atol=1e-10)


def _fd_jacobian(f, x, eps=1e-6):
    y0 = f(x)
    jac = np.zeros((y0.size, x.size))
    for i in range(x.size):
        dx = np.zeros(x.size)
        dx[i] = eps
        jac[:, i] = (f(x + dx.reshape(x.shape)) - f(x - dx.reshape(x.shape))).ravel() / (2 * eps)
    return jac


# elementwise and square (dim-preserving) bijections: log|det J| from finite differences
FD_CASES = {
    "power": (lambda d: d.PowerTransform(tinytorch.tensor(1.7, dtype=tinytorch.float64)), (3,)),
    "tanh": (lambda d: d.TanhTransform(), (3,)),
    "softplus": (lambda d: d.SoftplusTransform(), (3,)),
    "independent": (lambda d: d.IndependentTransform(d.SoftplusTransform(), 1), (3,)),
    "reshape": (lambda d: d.ReshapeTransform((2, 3), (6,)), (2, 3)),
    "cat": (lambda d: d.CatTransform([d.ExpTransform(), d.TanhTransform()], dim=-1, lengths=[1, 2]), (3,)),
}


@pytest.mark.parametrize("name", list(FD_CASES))
def test_log_abs_det_jacobian_matches_finite_differences(name):
    build, shape = FD_CASES[name]
    t = build(tinytorch.distributions)
    x = _x(name, shape)
    x = np.abs(x) + 0.3 if name == "power" else x
    jac = _fd_jacobian(lambda a: t(tinytorch.tensor(a)).numpy(), x)
    expected = np.linalg.slogdet(jac)[1]
    got = t.log_abs_det_jacobian(tinytorch.tensor(x), t(tinytorch.tensor(x))).numpy().sum()
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)


def test_stick_breaking_log_abs_det_jacobian_matches_finite_differences():
    # K-1 -> K: the density on the simplex uses the first K-1 coordinates
    t = tinytorch.distributions.StickBreakingTransform()
    x = _x("stick", (3,))
    jac = _fd_jacobian(lambda a: t(tinytorch.tensor(a)).numpy()[:-1], x)
    got = float(t.log_abs_det_jacobian(tinytorch.tensor(x), t(tinytorch.tensor(x))))
    np.testing.assert_allclose(got, np.linalg.slogdet(jac)[1], rtol=1e-6)


def test_caching_returns_the_cached_pair():
    d = tinytorch.distributions
    for t in (d.TanhTransform(cache_size=1), d.PowerTransform(tinytorch.tensor(2.0), cache_size=1),
              d.StackTransform([d.ExpTransform()], dim=0, cache_size=1), d.SoftplusTransform().with_cache(1)):
        x = tinytorch.rand(1, 2) + 0.1
        y = t(x)
        assert t(x) is y and t.inv(y) is x
    t = d.CatTransform([d.ExpTransform()], dim=0, cache_size=1)
    assert t.transforms[0]._cache_size == 1
    with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
        d.TanhTransform(cache_size=2)


TRANSFORM_ERRORS = [
    ("reshape numel", lambda L: L.distributions.ReshapeTransform((2, 3), (5,))),
    ("cat length", lambda L: L.distributions.CatTransform([L.distributions.ExpTransform()], dim=0)(L.zeros(3))),
    ("cat lengths", lambda L: L.distributions.CatTransform([L.distributions.ExpTransform()], dim=0, lengths=[1, 2])),
    ("cat dim", lambda L: L.distributions.CatTransform([L.distributions.ExpTransform()], dim=3)(L.zeros(1))),
    ("stack size", lambda L: L.distributions.StackTransform([L.distributions.ExpTransform()], dim=0)(L.zeros(3))),
    ("stack not transform", lambda L: L.distributions.StackTransform([1.0])),
    ("stick shape", lambda L: L.distributions.StickBreakingTransform().forward_shape(())),
    ("corr shape", lambda L: L.distributions.CorrCholeskyTransform().forward_shape((4,))),
    ("reshape forward_shape", lambda L: L.distributions.ReshapeTransform((2, 3), (6,)).forward_shape((3, 2))),
]


@pytest.mark.parametrize("name,make", TRANSFORM_ERRORS, ids=[n for n, _ in TRANSFORM_ERRORS])
def test_transform_errors_as_torch(name, make):
    with pytest.raises(Exception) as theirs:
        make(torch)
    with pytest.raises(type(theirs.value)) as ours:
        make(tinytorch)
    assert str(ours.value).split()[:2] == str(theirs.value).split()[:2]


def _constraints(L):
    c = L.distributions.constraints
    return {
        "real": (c.real, (2, 3)), "real_vector": (c.real_vector, (2, 3)), "positive": (c.positive, (2, 3)),
        "nonnegative": (c.nonnegative, (2, 3)), "greater_than": (c.greater_than(1.5), (2, 3)),
        "greater_than_eq": (c.greater_than_eq(-1.0), (2, 3)), "less_than": (c.less_than(2.0), (2, 3)),
        "unit_interval": (c.unit_interval, (2, 3)), "interval": (c.interval(-2.0, 3.0), (2, 3)),
        "half_open_interval": (c.half_open_interval(0.0, 4.0), (2, 3)), "simplex": (c.simplex, (2, 3)),
        "lower_cholesky": (c.lower_cholesky, (2, 3, 3)), "positive_definite": (c.positive_definite, (2, 3, 3)),
        "positive_semidefinite": (c.positive_semidefinite, (3, 3)), "corr_cholesky": (c.corr_cholesky, (2, 3)),
        "independent": (c.independent(c.positive, 2), (2, 3)),
        "cat": (c.cat([c.positive, c.interval(0.0, 1.0)], dim=-1, lengths=[1, 2]), (2, 3)),
        "stack": (c.stack([c.positive, c.real, c.less_than(0.0)], dim=-1), (2, 3)),
    }


def _structure(t):
    """A transform's type names, recursively (Compose parts, Independent base, Cat/Stack parts)."""
    name = type(t).__name__
    parts = getattr(t, "parts", None) or getattr(t, "transforms", None)
    if parts:
        return (name, tuple(_structure(p) for p in parts))
    if hasattr(t, "base_transform"):
        return (name, _structure(t.base_transform))
    return name


@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
@pytest.mark.parametrize("name", list(_constraints(tinytorch)))
def test_registry_matches_torch(registry, name):
    ours_c, shape = _constraints(tinytorch)[name]
    theirs_c, _ = _constraints(torch)[name]
    try:
        theirs = getattr(torch.distributions, registry)(theirs_c)
    except NotImplementedError as error:
        with pytest.raises(NotImplementedError, match=str(error)):
            getattr(tinytorch.distributions, registry)(ours_c)
        return
    ours = getattr(tinytorch.distributions, registry)(ours_c)
    assert _structure(ours) == _structure(theirs)
    x = _x(name, shape)
    y_o, y_t = ours(tinytorch.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(y_o.numpy(), y_t.numpy(), rtol=1e-10, atol=1e-12)
    assert bool(ours_c.check(y_o).all())
    ladj_t = theirs.log_abs_det_jacobian(torch.tensor(x), y_t) if theirs.bijective else None
    if ladj_t is not None:
        ladj_o = ours.log_abs_det_jacobian(tinytorch.tensor(x), y_o)
        np.testing.assert_allclose(ladj_o.numpy(), ladj_t.numpy(), rtol=1e-9, atol=1e-11)


def test_registry_register_and_errors():
    d = tinytorch.distributions
    registry = d.constraint_registry.ConstraintRegistry()
    with pytest.raises(TypeError, match="Expected constraint to be either a Constraint subclass or instance"):
        registry.register(int, lambda c: None)
    with pytest.raises(NotImplementedError, match="Cannot transform _Boolean constraints"):
        d.biject_to(d.constraints.boolean)

    @registry.register(d.constraints.positive)
    def _factory(constraint):
        return d.SoftplusTransform()

    assert isinstance(registry(d.constraints.greater_than(3.0)), d.SoftplusTransform)  # same class: _GreaterThan
