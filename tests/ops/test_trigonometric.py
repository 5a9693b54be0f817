"""sinh, cosh, asin, acos, atan, asinh, acosh, atanh and their arc* aliases: values against NumPy,
values, dtypes and gradients against torch (also at and beyond the domain's ends), out=,
the in-place forms (Tensor.asin_(), tinytorch.asin_), and errors as PyTorch's.

Gradients and second derivatives on random inputs are the op table's (tests/ops/op_table.py)."""

import math

import numpy as np
import pytest

import tinytorch

NAMES = ["sinh", "cosh", "asin", "acos", "atan", "asinh", "acosh", "atanh"]
ALIASES = {"arcsin": "asin", "arccos": "acos", "arctan": "atan", "arcsinh": "asinh", "arccosh": "acosh", "arctanh": "atanh"}
NUMPY = {"sinh": np.sinh, "cosh": np.cosh, "asin": np.arcsin, "acos": np.arccos, "atan": np.arctan,
         "asinh": np.arcsinh, "acosh": np.arccosh, "atanh": np.arctanh}
# Inside each domain, and the domain's edges and beyond (NaN, +-inf where PyTorch gives them).
INSIDE = {"acosh": [1.0, 1.5, 3.0, 20.0]}
EDGES = [-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, math.inf, -math.inf, math.nan]


def _inside(name):
    return INSIDE.get(name, [-0.9, -0.3, 0.0, 0.4, 0.8])


@pytest.mark.parametrize("name", NAMES)
def test_values_match_numpy(name, device):
    x = np.array(_inside(name), dtype=np.float64)
    got = getattr(tinytorch, name)(tinytorch.tensor(x, device=device))
    np.testing.assert_allclose(got.cpu().numpy(), NUMPY[name](x), rtol=1e-12)
    assert got.device.type == device


@pytest.mark.parametrize("name", NAMES)
def test_edges_and_outside_the_domain_match_torch(name):
    """NaN outside the domain, +-inf at atanh(+-1), asin'(1) = inf..., with no NumPy warning."""
    torch = pytest.importorskip("torch")
    x = tinytorch.tensor(EDGES, dtype=tinytorch.float64, requires_grad=True)
    xt = torch.tensor(EDGES, dtype=torch.float64, requires_grad=True)
    with np.errstate(all="raise"):  # a NumPy warning would raise here
        y = getattr(tinytorch, name)(x)
        y.backward(tinytorch.ones_like(y))
    yt = getattr(torch, name)(xt)
    yt.backward(torch.ones_like(yt))
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool", "float32", "float64", "float16"])
def test_result_dtype_matches_torch(name, dtype):
    """Integer and bool inputs give the default float dtype; floating inputs keep theirs."""
    torch = pytest.importorskip("torch")
    values = [0, 1] if dtype != "float16" else [0.5, 1.5]
    got = getattr(tinytorch, name)(tinytorch.tensor(values, dtype=getattr(tinytorch, dtype)))
    expected = getattr(torch, name)(torch.tensor(values, dtype=getattr(torch, dtype)))
    assert str(got.dtype) == str(expected.dtype).replace("torch", "tinytorch")
    np.testing.assert_allclose(got.numpy().astype(np.float64), expected.numpy().astype(np.float64), rtol=1e-3)


def test_default_dtype_is_followed_for_integer_input():
    previous = tinytorch.get_default_dtype()
    tinytorch.set_default_dtype(tinytorch.float64)
    try:
        assert tinytorch.asin(tinytorch.tensor([0, 1])).dtype == tinytorch.float64
    finally:
        tinytorch.set_default_dtype(previous)


@pytest.mark.parametrize("alias,name", ALIASES.items())
def test_aliases_are_the_same_function(alias, name):
    x = tinytorch.tensor([1.2, 1.5]) if name == "acosh" else tinytorch.tensor([0.2, -0.5])
    expected = getattr(tinytorch, name)(x)
    assert tinytorch.equal(getattr(tinytorch, alias)(x), expected)
    assert tinytorch.equal(getattr(x, alias)(), expected)
    assert tinytorch.equal(getattr(x.clone(), alias + "_")(), expected)
    assert tinytorch.equal(getattr(tinytorch, alias + "_")(x.clone()), expected)


@pytest.mark.parametrize("name", NAMES)
def test_methods_and_gradients_match_torch(name):
    torch = pytest.importorskip("torch")
    values = _inside(name)
    x = tinytorch.tensor(values, dtype=tinytorch.float64, requires_grad=True)
    xt = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    y, yt = getattr(x, name)(), getattr(xt, name)()
    (grad,) = tinytorch.autograd.grad(y.sum(), x, create_graph=True)
    (gradt,) = torch.autograd.grad(yt.sum(), xt, create_graph=True)
    np.testing.assert_allclose(grad.detach().numpy(), gradt.detach().numpy(), rtol=1e-10)
    (second,) = tinytorch.autograd.grad(grad.sum(), x)
    (secondt,) = torch.autograd.grad(gradt.sum(), xt)
    np.testing.assert_allclose(second.numpy(), secondt.numpy(), rtol=1e-10)


@pytest.mark.parametrize("name", NAMES)
def test_in_place_forms(name, device):
    """x.asin_() and tinytorch.asin_(x) write into x, return x, bump its version, and carry the
    gradient (PyTorch has none for asinh_, acosh_, atanh_; tinytorch gives the out-of-place one)."""
    values = _inside(name)
    expected = getattr(tinytorch, name)(tinytorch.tensor(values, device=device))
    for apply in (lambda t: getattr(t, name + "_")(), lambda t: getattr(tinytorch, name + "_")(t)):
        x = tinytorch.tensor(values, device=device)
        version = x._version[0]
        assert apply(x) is x
        assert x._version[0] > version
        assert tinytorch.equal(x, expected)
    leaf = tinytorch.tensor(values, dtype=tinytorch.float64, requires_grad=True)
    out = leaf * 1
    getattr(out, name + "_")().sum().backward()
    reference = tinytorch.tensor(values, dtype=tinytorch.float64, requires_grad=True)
    getattr(tinytorch, name)(reference).sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), reference.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_out(name, device):
    x = tinytorch.tensor(_inside(name), device=device)
    out = tinytorch.empty(len(_inside(name)), device=device)
    assert getattr(tinytorch, name)(x, out=out) is out
    assert tinytorch.equal(out, getattr(tinytorch, name)(x))
    wide = tinytorch.empty(len(_inside(name)), dtype=tinytorch.float64, device=device)
    getattr(tinytorch, name)(x, out=wide)  # float32 result cast up into float64, as PyTorch
    np.testing.assert_allclose(wide.cpu().numpy(), out.cpu().numpy().astype(np.float64))


def test_errors_match_torch():
    torch = pytest.importorskip("torch")
    cases = [
        lambda lib: lib.asin([0.5]),
        lambda lib: lib.arcsin([0.5]),
        lambda lib: lib.arctanh_([0.5]),
        lambda lib: lib.ones(2, dtype=lib.int64).asin_(),
        lambda lib: lib.cosh_(lib.ones(2, dtype=lib.int64)),
        lambda lib: lib.sinh(lib.ones(2), out=lib.empty(2, dtype=lib.int64)),
        lambda lib: lib.sinh(lib.ones(2, requires_grad=True), out=lib.empty(2)),
        lambda lib: lib.ones(2, requires_grad=True).atan_(),
    ]
    for case in cases:
        with pytest.raises(Exception) as expected:
            case(torch)
        with pytest.raises(type(expected.value)) as got:
            case(tinytorch)
        assert str(got.value) == str(expected.value)
