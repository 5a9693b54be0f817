"""tinytorch.special against torch.special: values (float32/float64, every device), gradients
(gradcheck, gradgradcheck and torch's), PyTorch's missing derivatives, out=, errors, and the
top-level names (i0, sinc, igamma, igammac, mvlgamma)."""

import numpy as np
import pytest

import tinytorch
import tinytorch.special as ts
from tinytorch.autograd import gradcheck, gradgradcheck

X = np.linspace(-3, 3, 25)
POSITIVE = np.linspace(0.2, 4, 20)
UNIT = np.linspace(0.02, 0.98, 20)

# name -> (sample, extra arguments)
UNARY = {
    "airy_ai": X, "bessel_j0": X, "bessel_j1": X, "bessel_y0": POSITIVE, "bessel_y1": POSITIVE,
    "modified_bessel_i0": X, "modified_bessel_i1": X, "modified_bessel_k0": POSITIVE, "modified_bessel_k1": POSITIVE,
    "scaled_modified_bessel_k0": POSITIVE, "scaled_modified_bessel_k1": POSITIVE, "spherical_bessel_j0": X,
    "i0": X, "i0e": X, "i1": X, "i1e": X, "ndtr": X, "ndtri": UNIT, "log_ndtr": X, "erfcx": X, "entr": POSITIVE,
    "sinc": X, "erf": X, "erfc": X, "erfinv": UNIT * 2 - 1, "expit": X, "exp2": X, "expm1": X, "log1p": POSITIVE,
    "logit": UNIT, "gammaln": POSITIVE, "digamma": POSITIVE, "psi": POSITIVE, "round": X * 1.3,
}
DIFFERENTIABLE = ["i0", "i0e", "i1", "i1e", "ndtr", "ndtri", "log_ndtr", "erfcx", "entr", "sinc"]
NOT_DIFFERENTIABLE = [n for n in UNARY if n.startswith(("bessel", "modified", "scaled", "spherical", "airy"))]
POLYNOMIALS = [n for n in ts.__all__ if "polynomial" in n]
DTYPES = ["float32", "float64"]


def _tol(dtype):
    return dict(rtol=1e-4, atol=1e-5) if dtype == "float32" else dict(rtol=1e-7, atol=1e-10)


def test_namespace_matches_torch():
    torch = pytest.importorskip("torch")
    public = {n for n in dir(torch.special) if not n.startswith("_") and callable(getattr(torch.special, n))}
    assert public - {"Tensor"} == set(ts.__all__)
    assert all(callable(getattr(ts, n)) for n in ts.__all__)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_values(name, dtype, device):
    torch = pytest.importorskip("torch")
    data = UNARY[name].astype(dtype)
    got = getattr(ts, name)(tinytorch.tensor(data, device=device))
    want = getattr(torch.special, name)(torch.tensor(data))
    assert got.dtype == getattr(tinytorch, dtype) and got.device.type == device
    tol = dict(rtol=1e-3, atol=1e-5) if name == "airy_ai" else _tol(dtype)  # torch's Ai is the less accurate
    np.testing.assert_allclose(got.cpu().numpy(), want.numpy(), **tol)


@pytest.mark.parametrize("name", ["i0", "ndtr", "bessel_j0", "sinc", "entr", "chebyshev_polynomial_t"])
def test_integer_input_gives_default_float(name):
    torch = pytest.importorskip("torch")
    args = (2,) if "polynomial" in name else ()
    got = getattr(ts, name)(tinytorch.tensor([0, 1, 2]), *args)
    want = getattr(torch.special, name)(torch.tensor([0, 1, 2]), *args)
    assert got.dtype == tinytorch.float32
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", POLYNOMIALS)
def test_polynomials(name, dtype, device):
    torch = pytest.importorskip("torch")
    x = np.linspace(-1.5, 1.5, 13).astype(dtype)
    for n in (-2, 0, 1, 2, 3, 6, 9, 3.7):
        got = getattr(ts, name)(tinytorch.tensor(x, device=device), n)
        want = getattr(torch.special, name)(torch.tensor(x), n)
        np.testing.assert_allclose(got.cpu().numpy(), want.numpy(), rtol=1e-4 if dtype == "float32" else 1e-9, atol=1e-4 if dtype == "float32" else 1e-9)
    degrees = np.array([0, 1, 2, 5], dtype=dtype)
    got = getattr(ts, name)(0.3, tinytorch.tensor(degrees, device=device))
    want = getattr(torch.special, name)(0.3, torch.tensor(degrees))
    np.testing.assert_allclose(got.cpu().numpy(), want.numpy(), rtol=1e-5, atol=1e-6)


def test_polynomial_errors():
    torch = pytest.importorskip("torch")
    for lib in (torch.special, ts):
        with pytest.raises(TypeError, match="invalid combination of arguments"):
            lib.chebyshev_polynomial_t(0.5, 2)


@pytest.mark.parametrize("name", NOT_DIFFERENTIABLE + ["chebyshev_polynomial_u"])
def test_not_differentiable_results_have_no_grad_fn(name):
    x = tinytorch.tensor([0.5, 1.5], dtype=tinytorch.float64, requires_grad=True)
    y = getattr(ts, name)(x, 3) if "polynomial" in name else getattr(ts, name)(x)
    assert y.grad_fn is None and not y.requires_grad


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_gradients(name, device):
    torch = pytest.importorskip("torch")
    # exp(-|x|) has a kink at 0; sinc's derivative is 0 at 0 by definition (a masked fill, as in
    # PyTorch), so its second derivative there is not the limit: 0 is tested on its own below.
    nonzero = np.array([-2.5, -1.0, -0.3, 0.4, 1.7, 2.9])
    data = {"ndtri": UNIT, "entr": POSITIVE, "i0e": nonzero, "i1e": nonzero, "sinc": nonzero}.get(name, np.array([-2.5, -1.0, -0.3, 0.0, 0.4, 1.7, 2.9]))
    fn = getattr(ts, name)
    x = tinytorch.tensor(data, dtype=tinytorch.float64, device=device, requires_grad=True)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))
    fn(x).sum().backward()
    tx = torch.tensor(data, requires_grad=True)
    getattr(torch.special, name)(tx).sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), tx.grad.numpy(), rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("name", ["i0e", "i1e", "i1", "sinc"])
def test_gradient_at_zero(name):
    torch = pytest.importorskip("torch")
    x = tinytorch.tensor([0.0], dtype=tinytorch.float64, requires_grad=True)
    getattr(ts, name)(x).backward()
    tx = torch.tensor([0.0], dtype=torch.float64, requires_grad=True)
    getattr(torch.special, name)(tx).backward()
    assert x.grad.item() == tx.grad.item()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["xlog1py", "xlogy", "zeta", "gammainc", "gammaincc"])
def test_binary_values(name, dtype, device):
    torch = pytest.importorskip("torch")
    a = np.array([0.0, 0.5, 1.5, 2.0, 3.0, 1.1]).astype(dtype) + (1.5 if name == "zeta" else 0)
    b = np.array([-1.0, 0.3, 2.0, 0.0, 5.0, np.nan]).astype(dtype) + (1.5 if name != "xlog1py" else 0)
    got = getattr(ts, name)(tinytorch.tensor(a, device=device), tinytorch.tensor(b, device=device))
    want = getattr(torch.special, name)(torch.tensor(a), torch.tensor(b))
    assert got.dtype == getattr(tinytorch, dtype)
    np.testing.assert_allclose(got.cpu().numpy(), want.numpy(), **_tol(dtype))


def test_binary_numbers_and_integers():
    torch = pytest.importorskip("torch")
    for name, args in [("xlog1py", (2, [1.0, 3.0])), ("zeta", (2.0, [1.0, 2.0])), ("zeta", ([2, 3], [1, 2]))]:
        t_args = [torch.tensor(a) if isinstance(a, list) else a for a in args]
        tt_args = [tinytorch.tensor(a) if isinstance(a, list) else a for a in args]
        want = getattr(torch.special, name)(*t_args)
        got = getattr(ts, name)(*tt_args)
        assert str(got.dtype).split(".")[1] == str(want.dtype).split(".")[1]
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
    zero = ts.xlog1py(tinytorch.tensor([0.0, 0.0]), tinytorch.tensor([-1.0, float("nan")])).numpy()
    assert zero[0] == 0 and np.isnan(zero[1])


@pytest.mark.parametrize("name,differentiable", [("xlog1py", (0, 1)), ("zeta", (1,)), ("gammainc", (1,)), ("gammaincc", (1,))])
def test_binary_gradients(name, differentiable, device):
    torch = pytest.importorskip("torch")
    a = np.array([0.7, 1.5, 2.0, 3.0]) + (1.0 if name == "zeta" else 0)
    b = np.array([0.3, 2.0, 0.8, 5.0])
    fn = getattr(ts, name)
    xs = [tinytorch.tensor(v, device=device, requires_grad=i in differentiable) for i, v in enumerate((a, b))]
    assert gradcheck(fn, xs)
    assert gradgradcheck(fn, xs)
    fn(*xs).sum().backward()
    txs = [torch.tensor(v, requires_grad=i in differentiable) for i, v in enumerate((a, b))]
    getattr(torch.special, name)(*txs).sum().backward()
    for i in differentiable:
        np.testing.assert_allclose(xs[i].grad.cpu().numpy(), txs[i].grad.numpy(), rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("name", ["zeta", "gammainc", "gammaincc"])
def test_missing_first_argument_derivative(name):
    torch = pytest.importorskip("torch")
    a, b = [2.0, 3.0], [1.0, 2.0]
    t = torch.tensor(a, dtype=torch.float64, requires_grad=True)
    with pytest.raises(NotImplementedError) as expected:
        getattr(torch.special, name)(t, torch.tensor(b, dtype=torch.float64)).sum().backward()
    x = tinytorch.tensor(a, dtype=tinytorch.float64, requires_grad=True)
    y = getattr(ts, name)(x, tinytorch.tensor(b, dtype=tinytorch.float64)).sum()
    with pytest.raises(NotImplementedError, match=str(expected.value)):
        y.backward()


def test_incomplete_gamma_errors():
    torch = pytest.importorskip("torch")
    for lib_fn, tt_fn in [(torch.special.gammainc, ts.gammainc), (torch.igammac, tinytorch.igammac)]:
        with pytest.raises(TypeError, match="must be Tensor, not float"):
            lib_fn(torch.tensor([1.0]), 2.0)
        with pytest.raises(TypeError, match="must be Tensor, not float"):
            tt_fn(tinytorch.tensor([1.0]), 2.0)
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        torch.igamma(torch.tensor([1]), torch.tensor([2]))
    with pytest.raises(NotImplementedError, match="\"igamma_cpu\" not implemented for 'Long'"):
        tinytorch.igamma(tinytorch.tensor([1]), tinytorch.tensor([2]))


@pytest.mark.parametrize("p", [1, 2, 4])
def test_multigammaln(p, device):
    torch = pytest.importorskip("torch")
    data = np.array([2.1, 3.0, 5.5])
    x = tinytorch.tensor(data, device=device, requires_grad=True)
    y = ts.multigammaln(x, p)
    tx = torch.tensor(data, requires_grad=True)
    ty = torch.special.multigammaln(tx, p)
    np.testing.assert_allclose(y.detach().cpu().numpy(), ty.detach().numpy(), rtol=1e-12)
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), tx.grad.numpy(), rtol=1e-10)
    assert gradcheck(lambda t: tinytorch.mvlgamma(t, p), (x.detach().requires_grad_(),))
    f32 = ts.multigammaln(tinytorch.tensor([3, 4], device=device), 2)
    assert f32.dtype == tinytorch.float32
    np.testing.assert_allclose(f32.cpu().numpy(), torch.special.multigammaln(torch.tensor([3, 4]), 2).numpy(), rtol=1e-6)


def test_multigammaln_errors():
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match="p has to be greater than or equal to 1"):
        torch.special.multigammaln(torch.tensor([3.0]), 0)
    with pytest.raises(RuntimeError, match="p has to be greater than or equal to 1"):
        ts.multigammaln(tinytorch.tensor([3.0]), 0)
    with pytest.raises(TypeError, match="argument 'p'"):
        tinytorch.mvlgamma(tinytorch.tensor([3.0]), 1.5)


def test_type_errors_match_torch():
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match=r"argument 'input' \(position 1\) must be Tensor, not float"):
        torch.special.i0e(2.0)
    with pytest.raises(TypeError, match=r"argument 'input' \(position 1\) must be Tensor, not float"):
        ts.i0e(2.0)
    with pytest.raises(TypeError, match="must be Tensor, not float"):
        ts.bessel_j0(2.0)


def test_out_argument(device):
    torch = pytest.importorskip("torch")
    x = tinytorch.tensor(UNIT, device=device)
    for name in ["ndtri", "bessel_j0", "erf", "gammaln", "expit", "sinc"]:
        out = tinytorch.empty(len(UNIT), dtype=tinytorch.float64, device=device)
        result = getattr(ts, name)(x, out=out)
        assert result is out
        np.testing.assert_allclose(out.cpu().numpy(), getattr(torch.special, name)(torch.tensor(UNIT)).numpy(), rtol=1e-7)
    out = tinytorch.empty(3, dtype=tinytorch.float64)
    ts.zeta(tinytorch.tensor([2.0, 3.0, 4.0]), 1.0, out=out)
    np.testing.assert_allclose(out.numpy(), torch.special.zeta(torch.tensor([2.0, 3.0, 4.0]), 1.0).numpy(), rtol=1e-6)
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        ts.i0(tinytorch.tensor([1.0], requires_grad=True), out=tinytorch.empty(1))


def test_aliases_with_dim_arguments():
    torch = pytest.importorskip("torch")
    data = np.random.randn(3, 4)
    for name, kwargs in [("softmax", {"dim": 1}), ("log_softmax", {"dim": 0, "dtype": None}), ("logsumexp", {"dim": 1, "keepdim": True})]:
        got = getattr(ts, name)(tinytorch.tensor(data), **kwargs)
        want = getattr(torch.special, name)(torch.tensor(data), **kwargs)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10)
    np.testing.assert_allclose(ts.round(tinytorch.tensor([1.234, 2.5]), decimals=1).numpy(), [1.2, 2.5])
    np.testing.assert_allclose(ts.polygamma(1, tinytorch.tensor([1.5])).numpy(), torch.special.polygamma(1, torch.tensor([1.5])).numpy())
    np.testing.assert_allclose(ts.logit(tinytorch.tensor([0.0, 0.3]), eps=1e-3).numpy(), torch.special.logit(torch.tensor([0.0, 0.3]), eps=1e-3).numpy(), rtol=1e-6)


def test_top_level_functions(device):
    torch = pytest.importorskip("torch")
    a, b = np.array([0.5, 2.0, 4.0]), np.array([1.0, 0.5, 3.0])
    ta, tb = (tinytorch.tensor(v, device=device) for v in (a, b))
    np.testing.assert_allclose(tinytorch.i0(ta).cpu().numpy(), torch.i0(torch.tensor(a)).numpy(), rtol=1e-10)
    np.testing.assert_allclose(tinytorch.sinc(ta).cpu().numpy(), torch.sinc(torch.tensor(a)).numpy(), rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(tinytorch.igamma(ta, tb).cpu().numpy(), torch.igamma(torch.tensor(a), torch.tensor(b)).numpy(), rtol=1e-10)
    np.testing.assert_allclose(tinytorch.igammac(ta, tb).cpu().numpy(), torch.igammac(torch.tensor(a), torch.tensor(b)).numpy(), rtol=1e-10)
    np.testing.assert_allclose(tinytorch.mvlgamma(ta + 2, 3).cpu().numpy(), torch.mvlgamma(torch.tensor(a) + 2, 3).numpy(), rtol=1e-10)


def test_tensor_methods_and_in_place_forms_match_torch():
    torch = pytest.importorskip("torch")
    a = np.array([0.3, 1.2, 2.5])
    for name, args in (("i0", ()), ("sinc", ()), ("igamma", (2.0,)), ("igammac", (2.0,)), ("mvlgamma", (2,))):
        ours, theirs = tinytorch.tensor(a + 1), torch.tensor(a + 1)
        o_args = tuple(tinytorch.full((3,), v, dtype=tinytorch.float64) if isinstance(v, float) else v for v in args)
        t_args = tuple(torch.full((3,), v, dtype=torch.float64) if isinstance(v, float) else v for v in args)
        np.testing.assert_allclose(getattr(ours, name)(*o_args).numpy(), getattr(theirs, name)(*t_args).numpy(), rtol=1e-10)
        getattr(ours, name + "_")(*o_args)
        getattr(theirs, name + "_")(*t_args)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10)
