"""Every activation against torch: values, gradients, extreme inputs, in-place forms and modules."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinytorch
import tinytorch.nn.functional as F
from tinytorch import nn

from .helpers import assert_close, numpy_of, ours, theirs

# (functional name, keyword arguments, module name and its arguments or None)
ACTIVATIONS = [
    ("relu", {}, ("ReLU", {})),
    ("relu6", {}, ("ReLU6", {})),
    ("hardtanh", {"min_val": -0.5, "max_val": 1.5}, ("Hardtanh", {"min_val": -0.5, "max_val": 1.5})),
    ("leaky_relu", {"negative_slope": 0.2}, ("LeakyReLU", {"negative_slope": 0.2})),
    ("elu", {"alpha": 1.5}, ("ELU", {"alpha": 1.5})),
    ("gelu", {}, ("GELU", {})),
    ("gelu", {"approximate": "tanh"}, ("GELU", {"approximate": "tanh"})),
    ("silu", {}, ("SiLU", {})),
    ("softplus", {}, ("Softplus", {})),
    ("softplus", {"beta": 2.0, "threshold": 3.0}, ("Softplus", {"beta": 2.0, "threshold": 3.0})),
    ("sigmoid", {}, ("Sigmoid", {})),
    ("tanh", {}, ("Tanh", {})),
    ("logsigmoid", {}, ("LogSigmoid", {})),
    ("softmax", {"dim": 1}, ("Softmax", {"dim": 1})),
    ("softmax", {"dim": 0}, ("Softmax", {"dim": 0})),
    ("log_softmax", {"dim": -1}, ("LogSoftmax", {"dim": -1})),
    ("softmin", {"dim": 1}, ("Softmin", {"dim": 1})),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for name, kw, _ in ACTIVATIONS]
# Kinks (0, 6, thresholds) are included on purpose: the subgradients there must match PyTorch's.
POINTS = np.array([[-7.0, -3.0, -1.5, -0.5, 0.0], [0.5, 1.5, 3.0, 6.0, 7.0], [-0.25, 0.25, 1.0, -1.0, 2.5]])
EXTREMES = np.array([[-1e4, -500.0, -88.0, 0.0], [88.0, 500.0, 1e4, -1e-30]])


def _run(lib, fn_name, kwargs, values, dtype):
    x = (ours if lib is tinytorch else lambda v, g, d: theirs(lib, v, g, d))(values, True, dtype)
    out = getattr(lib.nn.functional, fn_name)(x, **kwargs)
    return x, out


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("values", [POINTS, EXTREMES], ids=["points", "extremes"])
@pytest.mark.parametrize("spec", ACTIVATIONS, ids=IDS)
def test_activation_matches_torch(spec, values, dtype):
    torch = pytest.importorskip("torch")
    name, kwargs, _ = spec
    x, out = _run(tinytorch, name, kwargs, values, dtype)
    tx, expected = _run(torch, name, kwargs, values, dtype)
    tol = dict(atol=1e-6, rtol=1e-5) if dtype == "float32" else dict(atol=1e-12, rtol=1e-10)
    assert_close(out, expected, **tol)
    weights = np.random.default_rng(0).standard_normal(values.shape).astype(dtype)
    (out * tinytorch.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    assert np.isfinite(numpy_of(x.grad)).all()
    assert_close(x.grad, tx.grad, **tol)


@pytest.mark.parametrize("spec", ACTIVATIONS, ids=IDS)
def test_module_matches_functional_and_torch_repr(spec):
    name, kwargs, (module_name, module_kwargs) = spec
    module = getattr(nn, module_name)(**module_kwargs)
    x = tinytorch.tensor(POINTS)
    assert np.array_equal(numpy_of(module(x)), numpy_of(getattr(F, name)(x, **kwargs)))
    torch = pytest.importorskip("torch")
    assert repr(module) == repr(getattr(torch.nn, module_name)(**module_kwargs))


@pytest.mark.parametrize("name, kwargs", [("relu", {}), ("relu6", {}), ("leaky_relu", {"negative_slope": 0.1}), ("elu", {}), ("silu", {}), ("hardtanh", {})])
def test_inplace_forms_write_into_the_input(name, kwargs):
    x = tinytorch.tensor(POINTS)
    expected = numpy_of(getattr(F, name)(x, **kwargs))
    version = x._version[0]
    out = getattr(F, name)(x, inplace=True, **kwargs)
    assert out is x
    assert x._version[0] > version
    assert np.array_equal(numpy_of(x), expected)


def test_inplace_on_a_non_leaf_is_differentiable():
    torch = pytest.importorskip("torch")
    x, tx = ours(POINTS, True), theirs(torch, POINTS, True)
    F.leaky_relu(x * 2, 0.1, inplace=True).sum().backward()
    torch.nn.functional.leaky_relu(tx * 2, 0.1, inplace=True).sum().backward()
    assert_close(x.grad, tx.grad)


def test_relu_module_repr_inplace():
    assert repr(nn.ReLU(inplace=True)) == "ReLU(inplace=True)"
    assert repr(nn.ReLU()) == "ReLU()"
    assert repr(nn.GELU()) == "GELU(approximate='none')"
    assert repr(nn.LeakyReLU(0.2, inplace=True)) == "LeakyReLU(negative_slope=0.2, inplace=True)"


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh."):
        F.gelu(tinytorch.zeros(2), approximate="fast")


def test_gelu_exact_values_without_torch():
    """0.5 x (1 + erf(x / sqrt 2)) against math.erf, in float64."""
    xs = np.linspace(-8, 8, 161)
    expected = [0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in xs]
    np.testing.assert_allclose(numpy_of(F.gelu(tinytorch.tensor(xs))), expected, rtol=1e-14, atol=1e-15)


@settings(max_examples=30, deadline=None)
@given(values=st.lists(st.floats(-30, 30, allow_nan=False), min_size=1, max_size=64))
def test_erf_is_accurate_to_float64_precision(values):
    """erf is SciPy's on the CPU when installed, else a series and a continued fraction
    (tinytorch/_ops/nn_ops.py, CuPy's path too): the op table checks its gradients and compares it
    with torch at the table's tolerance; this pins the accuracy of both forms."""
    from tinytorch._ops import nn_ops

    expected = [math.erf(v) for v in values]
    got = numpy_of(tinytorch.erf(tinytorch.tensor(values, dtype=tinytorch.float64)))
    np.testing.assert_allclose(got, expected, rtol=2e-15, atol=2e-15)
    np.testing.assert_allclose(nn_ops._erf_series(np.array(values)), expected, rtol=2e-15, atol=2e-15)


@pytest.mark.parametrize("ndim, expected_dim", [(0, 0), (1, 0), (2, 1), (3, 0), (4, 1)])
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
def test_implicit_softmax_dim_warns_and_picks_pytorchs_dim(name, ndim, expected_dim):
    x = tinytorch.tensor(np.random.default_rng(0).standard_normal((2, 3, 2, 2)[:ndim]))
    with pytest.warns(UserWarning, match=f"Implicit dimension choice for {name} has been deprecated"):
        out = getattr(F, name)(x)
    assert np.allclose(numpy_of(out), numpy_of(getattr(F, name)(x, dim=expected_dim)))


def test_softmax_module_without_dim_warns_at_call_time_not_construction():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        module = nn.Softmax()
    with pytest.warns(UserWarning) as record:
        module(tinytorch.zeros(2, 3))
    assert record[0].filename == __file__  # stacklevel points at the caller's line


def test_relu_gradient_at_zero_is_zero():
    x = tinytorch.tensor([0.0], requires_grad=True)
    F.relu(x).sum().backward()
    assert x.grad.tolist() == [0.0]
