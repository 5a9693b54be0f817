"""cov, corrcoef, logcumsumexp, trapezoid/trapz/cumulative_trapezoid, renorm, combinations and
histogramdd against torch: values in float32 and float64, gradients (gradcheck and torch's), errors."""

import warnings

import numpy as np
import pytest

import tinytorch
from tinytorch import (
    combinations, corrcoef, cov, cumulative_trapezoid, histogramdd, logcumsumexp, renorm, trapezoid, trapz,
)
from tinytorch.autograd import gradcheck, gradgradcheck

FLOATS = ["float32", "float64"]


def _tol(dtype):
    return {"rtol": 1e-4, "atol": 1e-5} if dtype == "float32" else {"rtol": 1e-10, "atol": 1e-12}


def _pair(torch, values, dtype, device, requires_grad=True):
    values = np.asarray(values)
    if values.dtype.kind == "f":
        values = values.astype(dtype)
    ours = tinytorch.tensor(values, device=device, requires_grad=requires_grad and values.dtype.kind == "f")
    theirs = torch.tensor(values, requires_grad=requires_grad and values.dtype.kind == "f")
    return ours, theirs


def _same(ours, theirs, dtype="float64"):
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_allclose(tinytorch.tensor(ours.detach()).cpu().numpy(), theirs.detach().numpy(), **_tol(dtype))


def _check_grads(torch, fn_ours, fn_theirs, ours, theirs, dtype):
    out_ours, out_theirs = fn_ours(ours), fn_theirs(theirs)
    _same(out_ours, out_theirs, dtype)
    weights = np.random.default_rng(1).standard_normal(tuple(out_theirs.shape)).astype(dtype)
    (out_ours * tinytorch.tensor(weights, device=ours.device)).sum().backward()
    (out_theirs * torch.tensor(weights)).sum().backward()
    _same(ours.grad, theirs.grad, dtype)


def _errors_match(torch, ours, theirs):
    with pytest.raises(Exception) as expected:
        theirs()
    with pytest.raises(type(expected.value)) as got:
        ours()
    return str(got.value), str(expected.value)


def _same_error(torch, ours, theirs):
    got, expected = _errors_match(torch, ours, theirs)
    assert got == expected


# -- cov / corrcoef ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(3, 5), (5,), (1, 4), (4, 1)])
@pytest.mark.parametrize("correction", [0, 1, 2])
def test_cov_values_and_gradients(dtype, shape, correction, device):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal(shape)
    ours, theirs = _pair(torch, x, dtype, device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _check_grads(torch, lambda t: cov(t, correction=correction), lambda t: torch.cov(t, correction=correction),
                     ours, theirs, dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("weights", ["f", "a", "fa"])
@pytest.mark.parametrize("correction", [0, 1, 3])
def test_cov_weighted(dtype, weights, correction, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 6))
    fw, aw = np.array([1, 2, 0, 3, 1, 2]), rng.random(6)
    kwargs_ours, kwargs_theirs = {}, {}
    if "f" in weights:
        kwargs_ours["fweights"], kwargs_theirs["fweights"] = tinytorch.tensor(fw, device=device), torch.tensor(fw)
    if "a" in weights:
        kwargs_ours["aweights"] = tinytorch.tensor(aw.astype(dtype), device=device)
        kwargs_theirs["aweights"] = torch.tensor(aw.astype(dtype))
    ours, theirs = _pair(torch, x, dtype, device)
    _check_grads(torch, lambda t: cov(t, correction=correction, **kwargs_ours),
                 lambda t: torch.cov(t, correction=correction, **kwargs_theirs), ours, theirs, dtype)


def test_cov_aweights_gradient_gradcheck():
    rng = np.random.default_rng(3)
    x = tinytorch.tensor(rng.standard_normal((2, 5)), requires_grad=True)
    aw = tinytorch.tensor(rng.random(5) + 0.1, requires_grad=True)
    assert gradcheck(lambda a, w: cov(a, aweights=w), (x, aw))
    assert gradgradcheck(lambda a, w: cov(a, aweights=w), (x, aw))
    assert gradcheck(lambda a: corrcoef(a), (x,))


def test_cov_integer_and_corner_cases(device):
    torch = pytest.importorskip("torch")
    x = np.arange(6).reshape(2, 3)
    _same(cov(tinytorch.tensor(x, device=device)), torch.cov(torch.tensor(x)))
    _same(cov(tinytorch.tensor(x, device=device), fweights=tinytorch.tensor([1, 1, 1], device=device)),
          torch.cov(torch.tensor(x), fweights=torch.tensor([1, 1, 1])))
    one = np.array([[1.0], [2.0]])
    with warnings.catch_warnings():  # both warn: one observation leaves no degrees of freedom
        warnings.simplefilter("ignore")
        _same(cov(tinytorch.tensor(one, device=device), aweights=tinytorch.tensor([2.0], dtype=tinytorch.float64, device=device)),
              torch.cov(torch.tensor(one), aweights=torch.tensor([2.0], dtype=torch.float64)))
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        out = cov(tinytorch.tensor([[1.0, 2.0]], device=device), correction=2)
    assert np.isinf(out.cpu().numpy()).all() or np.isnan(out.cpu().numpy()).all()


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(3, 5), (5,), (1, 4)])
def test_corrcoef_values_and_gradients(dtype, shape, device):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(4).standard_normal(shape)
    ours, theirs = _pair(torch, x, dtype, device)
    _check_grads(torch, corrcoef, torch.corrcoef, ours, theirs, dtype)


def test_corrcoef_constant_row_is_nan():
    torch = pytest.importorskip("torch")
    x = np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])
    np.testing.assert_array_equal(corrcoef(tinytorch.tensor(x)).numpy(), torch.corrcoef(torch.tensor(x)).numpy())


def test_cov_errors():
    torch = pytest.importorskip("torch")
    x, tx = tinytorch.randn(3, 4), torch.randn(3, 4)
    cases = [
        (lambda: cov(tinytorch.randn(2, 2, 2)), lambda: torch.cov(torch.randn(2, 2, 2))),
        (lambda: cov(x, correction=1.5), lambda: torch.cov(tx, correction=1.5)),
        (lambda: cov(tinytorch.tensor([[True, False]])), lambda: torch.cov(torch.tensor([[True, False]]))),
        (lambda: cov(x, fweights=tinytorch.tensor([1.0, 2, 3, 4])), lambda: torch.cov(tx, fweights=torch.tensor([1.0, 2, 3, 4]))),
        (lambda: cov(x, fweights=tinytorch.tensor([1, 2, 3])), lambda: torch.cov(tx, fweights=torch.tensor([1, 2, 3]))),
        (lambda: cov(x, fweights=tinytorch.tensor([1, 2, 3, -1])), lambda: torch.cov(tx, fweights=torch.tensor([1, 2, 3, -1]))),
        (lambda: cov(x, fweights=tinytorch.tensor([[1, 2, 3, 1]])), lambda: torch.cov(tx, fweights=torch.tensor([[1, 2, 3, 1]]))),
        (lambda: cov(x, aweights=tinytorch.tensor([1, 2, 3, -1.0])), lambda: torch.cov(tx, aweights=torch.tensor([1, 2, 3, -1.0]))),
        (lambda: cov(x, aweights=tinytorch.tensor([1, 2, 3, 1])), lambda: torch.cov(tx, aweights=torch.tensor([1, 2, 3, 1]))),
        (lambda: cov(x, aweights=tinytorch.zeros(4)), lambda: torch.cov(tx, aweights=torch.zeros(4))),
        (lambda: corrcoef(tinytorch.randn(2, 2, 2)), lambda: torch.corrcoef(torch.randn(2, 2, 2))),
    ]
    for ours, theirs in cases:
        _same_error(torch, ours, theirs)


# -- logcumsumexp ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape,dim", [((7,), 0), ((3, 5), 1), ((3, 5), 0), ((2, 3, 4), -2), ((), 0), ((0, 3), 1)])
def test_logcumsumexp_values_and_gradients(dtype, shape, dim, device):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(5).standard_normal(shape) * 3
    ours, theirs = _pair(torch, x, dtype, device)
    _check_grads(torch, lambda t: logcumsumexp(t, dim), lambda t: torch.logcumsumexp(t, dim), ours, theirs, dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_logcumsumexp_is_stable(dtype, device):
    torch = pytest.importorskip("torch")
    values = np.array([-1000.0, 0.0, 1000.0, 999.0, -np.inf, 5.0], dtype=dtype)
    ours, theirs = _pair(torch, values, dtype, device)
    _check_grads(torch, lambda t: logcumsumexp(t, 0), lambda t: torch.logcumsumexp(t, 0), ours, theirs, dtype)
    assert np.isfinite(logcumsumexp(ours, 0).detach().cpu().numpy()).all()
    wide = _pair(torch, np.array([[-200.0, 300.0, -500.0, 10.0]]) * 10, dtype, device, False)
    _same(logcumsumexp(wide[0], 1), torch.logcumsumexp(wide[1], 1), dtype)


def test_logcumsumexp_gradcheck_every_order():
    x = tinytorch.tensor(np.random.default_rng(6).standard_normal((3, 6)), requires_grad=True)
    assert gradcheck(lambda t: logcumsumexp(t, 1), (x,))
    assert gradgradcheck(lambda t: logcumsumexp(t, 0), (x,))


def test_logcumsumexp_errors_and_out():
    torch = pytest.importorskip("torch")
    _same_error(torch, lambda: logcumsumexp(tinytorch.tensor([1, 2]), 0), lambda: torch.logcumsumexp(torch.tensor([1, 2]), 0))
    _same_error(torch, lambda: logcumsumexp(tinytorch.ones(2, 2), 2), lambda: torch.logcumsumexp(torch.ones(2, 2), 2))
    out = tinytorch.empty(3)
    logcumsumexp(tinytorch.tensor([0.0, 0.0, 0.0]), 0, out=out)
    np.testing.assert_allclose(out.numpy(), np.log([1.0, 2.0, 3.0]), rtol=1e-6)


# -- trapezoid ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("how", ["dx", "x1d", "xfull", "default"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_trapezoid_values_and_gradients(dtype, how, dim, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    y = rng.standard_normal((3, 4))
    ours, theirs = _pair(torch, y, dtype, device)
    kw_ours, kw_theirs, args_ours, args_theirs = {"dim": dim}, {"dim": dim}, (), ()
    if how == "dx":
        kw_ours["dx"] = kw_theirs["dx"] = 0.25
    elif how == "x1d":
        xs = np.sort(rng.standard_normal(y.shape[dim]))
        x_ours, x_theirs = _pair(torch, xs, dtype, device)
        args_ours, args_theirs = (x_ours,), (x_theirs,)
    elif how == "xfull":
        x_ours, x_theirs = _pair(torch, rng.standard_normal(y.shape), dtype, device)
        args_ours, args_theirs = (x_ours,), (x_theirs,)
    for ours_fn, theirs_fn in ((trapezoid, torch.trapezoid), (trapz, torch.trapz),
                               (cumulative_trapezoid, torch.cumulative_trapezoid)):
        a, b = _pair(torch, y, dtype, device)
        _check_grads(torch, lambda t, f=ours_fn: f(t, *args_ours, **kw_ours),
                     lambda t, f=theirs_fn: f(t, *args_theirs, **kw_theirs), a, b, dtype)
    if how in ("x1d", "xfull"):
        x_ours.grad = None
        x_theirs.grad = None
        trapezoid(ours, x_ours, dim=dim).sum().backward()
        torch.trapezoid(theirs, x_theirs, dim=dim).sum().backward()
        _same(x_ours.grad, x_theirs.grad, dtype)


def test_trapezoid_integers_empty_and_gradcheck(device):
    torch = pytest.importorskip("torch")
    ints = [1, 2, 4]
    _same(trapezoid(tinytorch.tensor(ints, device=device)), torch.trapezoid(torch.tensor(ints)))
    _same(trapezoid(tinytorch.tensor(ints, device=device), dx=2), torch.trapezoid(torch.tensor(ints), dx=2))
    _same(trapezoid(tinytorch.tensor([1.0, 2, 4], device=device), tinytorch.tensor(ints, device=device)),
          torch.trapezoid(torch.tensor([1.0, 2, 4]), torch.tensor(ints)))
    _same(cumulative_trapezoid(tinytorch.tensor(ints, device=device)), torch.cumulative_trapezoid(torch.tensor(ints)))
    _same(trapezoid(tinytorch.zeros(2, 0, dtype=tinytorch.int64, device=device)),
          torch.trapezoid(torch.zeros(2, 0, dtype=torch.int64)))
    _same(trapezoid(tinytorch.zeros(0, device=device)), torch.trapezoid(torch.zeros(0)))
    _same(cumulative_trapezoid(tinytorch.zeros(2, 0, device=device)), torch.cumulative_trapezoid(torch.zeros(2, 0)))
    y = tinytorch.tensor(np.random.default_rng(8).standard_normal((3, 4)), requires_grad=True)
    x = tinytorch.tensor(np.random.default_rng(9).standard_normal(4), requires_grad=True)
    assert gradcheck(lambda a, b: trapezoid(a, b), (y, x))
    assert gradgradcheck(lambda a, b: cumulative_trapezoid(a, b), (y, x))


def test_trapezoid_errors():
    torch = pytest.importorskip("torch")
    y, ty = tinytorch.tensor([1.0, 2, 4]), torch.tensor([1.0, 2, 4])
    _same_error(torch, lambda: trapezoid(y, tinytorch.tensor([1.0, 2])), lambda: torch.trapezoid(ty, torch.tensor([1.0, 2])))
    _same_error(torch, lambda: cumulative_trapezoid(y, tinytorch.tensor([1.0, 2])),
                lambda: torch.cumulative_trapezoid(ty, torch.tensor([1.0, 2])))
    _same_error(torch, lambda: trapezoid(tinytorch.tensor(1.0)), lambda: torch.trapezoid(torch.tensor(1.0)))
    _same_error(torch, lambda: cumulative_trapezoid(tinytorch.tensor(1.0)), lambda: torch.cumulative_trapezoid(torch.tensor(1.0)))
    _same_error(torch, lambda: trapezoid(y, dim=3), lambda: torch.trapezoid(ty, dim=3))
    _errors_match(torch, lambda: trapezoid(y, 2.0), lambda: torch.trapezoid(ty, 2.0))
    _errors_match(torch, lambda: trapezoid(y, y, dx=2), lambda: torch.trapezoid(ty, ty, dx=2))


# -- renorm ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("p", [1, 2, 3.5, 0.5, float("inf")])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_renorm_values_and_gradients(dtype, p, dim, device):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(10).standard_normal((3, 4, 2)) * 2
    ours, theirs = _pair(torch, x, dtype, device)
    _check_grads(torch, lambda t: renorm(t, p, dim, 1.5), lambda t: torch.renorm(t, p, dim, 1.5), ours, theirs, dtype)


def test_renorm_gradcheck():
    x = tinytorch.tensor(np.random.default_rng(11).standard_normal((3, 4)) * 2, requires_grad=True)
    assert gradcheck(lambda t: renorm(t, 2, 0, 1.0), (x,))
    assert gradgradcheck(lambda t: renorm(t, 3, 1, 1.0), (x,))


def test_renorm_errors():
    torch = pytest.importorskip("torch")
    x, tx = tinytorch.randn(3, 4), torch.randn(3, 4)
    cases = [
        (lambda: renorm(x, -1, 0, 1), lambda: torch.renorm(tx, -1, 0, 1)),
        (lambda: renorm(x, 0, 0, 1), lambda: torch.renorm(tx, 0, 0, 1)),
        (lambda: renorm(x, 2, 0, -1), lambda: torch.renorm(tx, 2, 0, -1)),
        (lambda: renorm(tinytorch.randn(3), 2, 0, 1), lambda: torch.renorm(torch.randn(3), 2, 0, 1)),
        (lambda: renorm(tinytorch.tensor(3.0), 2, 0, 1), lambda: torch.renorm(torch.tensor(3.0), 2, 0, 1)),
        (lambda: renorm(x, 2, 5, 1), lambda: torch.renorm(tx, 2, 5, 1)),
        (lambda: renorm(tinytorch.ones(2, 2, dtype=tinytorch.int64), 2, 0, 1),
         lambda: torch.renorm(torch.ones(2, 2, dtype=torch.int64), 2, 0, 1)),
    ]
    for ours, theirs in cases:
        _same_error(torch, ours, theirs)


# -- combinations ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [0, 1, 2, 4])
@pytest.mark.parametrize("r", [0, 1, 2, 3])
@pytest.mark.parametrize("with_replacement", [False, True])
def test_combinations_values(n, r, with_replacement, device):
    torch = pytest.importorskip("torch")
    _same(combinations(tinytorch.arange(n, device=device), r, with_replacement),
          torch.combinations(torch.arange(n), r, with_replacement))


@pytest.mark.parametrize("dtype", FLOATS)
def test_combinations_gradients(dtype, device):
    torch = pytest.importorskip("torch")
    ours, theirs = _pair(torch, np.random.default_rng(12).standard_normal(4), dtype, device)
    _check_grads(torch, lambda t: combinations(t, 3, True), lambda t: torch.combinations(t, 3, True), ours, theirs, dtype)
    assert gradcheck(lambda t: combinations(t), (tinytorch.randn(4, dtype=tinytorch.float64, requires_grad=True),))


def test_combinations_errors():
    torch = pytest.importorskip("torch")
    _same_error(torch, lambda: combinations(tinytorch.arange(4), r=-1), lambda: torch.combinations(torch.arange(4), r=-1))
    _same_error(torch, lambda: combinations(tinytorch.arange(4).reshape(2, 2)),
                lambda: torch.combinations(torch.arange(4).reshape(2, 2)))
    _same_error(torch, lambda: combinations(tinytorch.arange(4), r=2.0), lambda: torch.combinations(torch.arange(4), r=2.0))


# -- histogramdd ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("case", ["int", "ints_range", "edges", "weights_density", "batched"])
def test_histogramdd_matches_torch(dtype, case, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(13)
    shape = (2, 5, 3) if case == "batched" else (9, 3)
    x = rng.random(shape).astype(dtype)
    kw_ours, kw_theirs = {}, {}
    if case in ("int", "batched"):
        kw_ours["bins"] = kw_theirs["bins"] = 3
    elif case == "ints_range":
        kw_ours["bins"] = kw_theirs["bins"] = [2, 3, 4]
        kw_ours["range"] = kw_theirs["range"] = [0.0, 1.0, 0.2, 0.8, -1.0, 2.0]
    elif case == "edges":
        edges = [np.array([0.0, 0.3, 1.0]), np.array([0.0, 1.0]), np.array([0.1, 0.5, 0.6, 0.9])]
        kw_ours["bins"] = [tinytorch.tensor(e.astype(dtype), device=device) for e in edges]
        kw_theirs["bins"] = [torch.tensor(e.astype(dtype)) for e in edges]
    else:
        w = rng.random(shape[:-1]).astype(dtype)
        kw_ours.update(bins=[3, 2, 2], weight=tinytorch.tensor(w, device=device), density=True)
        kw_theirs.update(bins=[3, 2, 2], weight=torch.tensor(w), density=True)
    ours = histogramdd(tinytorch.tensor(x, device=device), **kw_ours)
    theirs = torch.histogramdd(torch.tensor(x), **kw_theirs)
    _same(ours.hist, theirs.hist, dtype)
    assert isinstance(ours.bin_edges, tuple) and len(ours.bin_edges) == len(theirs.bin_edges)
    for a, b in zip(ours.bin_edges, theirs.bin_edges):
        _same(a, b, dtype)


def test_histogramdd_errors():
    torch = pytest.importorskip("torch")
    x, tx = tinytorch.rand(5, 2), torch.rand(5, 2)
    cases = [
        (lambda: histogramdd(x.long(), 3), lambda: torch.histogramdd(tx.long(), 3)),
        (lambda: histogramdd(tinytorch.rand(5), 3), lambda: torch.histogramdd(torch.rand(5), 3)),
        (lambda: histogramdd(x, [2, 3, 4]), lambda: torch.histogramdd(tx, [2, 3, 4])),
        (lambda: histogramdd(x, 0), lambda: torch.histogramdd(tx, 0)),
        (lambda: histogramdd(x, 3, range=[0.0, 1.0]), lambda: torch.histogramdd(tx, 3, range=[0.0, 1.0])),
        (lambda: histogramdd(x, 3, range=[1.0, 0.0, 0.0, 1.0]), lambda: torch.histogramdd(tx, 3, range=[1.0, 0.0, 0.0, 1.0])),
        (lambda: histogramdd(x, 3, weight=tinytorch.ones(4)), lambda: torch.histogramdd(tx, 3, weight=torch.ones(4))),
        (lambda: histogramdd(x, [tinytorch.tensor([0.0, 1.0]), tinytorch.tensor([[0.0, 1.0]])]),
         lambda: torch.histogramdd(tx, [torch.tensor([0.0, 1.0]), torch.tensor([[0.0, 1.0]])])),
    ]
    for ours, theirs in cases:
        _same_error(torch, ours, theirs)
