"""``add_``, ``sub_``, ``mul_`` and ``div_`` write straight into the tensor when autograd records
nothing (``_ops.binary.arithmetic_``): the values of the out-of-place op stored back, except that
``add_(other, alpha=a)`` rounds ``self + a * other`` once, as PyTorch's fused multiply-add; every
other case (casts, broadcasting into the tensor, overlapping memory, graphs) takes ``inplace``."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinytorch
from tinytorch import _blas
from tinytorch._ops import binary

SIZES = st.sampled_from([1, 7, 100, 5000, 20000, 70000])  # both sides of the BLAS threshold (2**14)


def _pair(draw, dtype):
    n = draw(SIZES)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return rng.standard_normal(n).astype(dtype), rng.standard_normal(n).astype(dtype)


@settings(max_examples=30, deadline=None)
@given(data=st.data(), name=st.sampled_from(["add", "sub", "mul", "div"]), dtype=st.sampled_from([np.float32, np.float64]))
def test_straight_writes_equal_the_out_of_place_op(data, name, dtype):
    a, b = _pair(data.draw, dtype)
    other = data.draw(st.sampled_from(["tensor", "scalar tensor", "number"]))
    operand = {"tensor": tinytorch.tensor(b), "scalar tensor": tinytorch.tensor(b[0]), "number": float(b[0])}[other]
    t = tinytorch.tensor(a)
    data_before, version = t._data, t._version[0]
    result = getattr(t, name + "_")(operand)
    assert result is t and t._data is data_before and t._version[0] == version + 1
    np.testing.assert_array_equal(t.numpy(), getattr(tinytorch, name)(tinytorch.tensor(a), operand).numpy())


@settings(max_examples=30, deadline=None)
@given(data=st.data(), dtype=st.sampled_from([np.float32, np.float64]), alpha=st.sampled_from([-20.0, 0.37, 3.0]))
def test_add_with_alpha_rounds_once_as_pytorch(data, dtype, alpha):
    a, b = _pair(data.draw, dtype)
    t = tinytorch.tensor(a)
    t.add_(tinytorch.tensor(b), alpha=alpha)
    if not _blas.FMA.get(np.dtype(dtype)):  # no fused BLAS here (TINYTORCH_BLAS=numpy, MKL): NumPy's two roundings
        np.testing.assert_array_equal(t.numpy(), a + dtype(alpha) * b)
        return
    # fma(alpha, b, a): float32's exact in float64, then rounded once; float64's within a rounding.
    if dtype == np.float32:
        expected = (a.astype(np.float64) + np.float64(np.float32(alpha)) * b.astype(np.float64)).astype(np.float32)
        np.testing.assert_array_equal(t.numpy(), expected)
    else:
        np.testing.assert_allclose(t.numpy(), a + alpha * b, rtol=1e-15, atol=1e-15)
    torch = pytest.importorskip("torch")
    theirs = torch.tensor(a)
    theirs.add_(torch.tensor(b), alpha=alpha)
    if dtype == np.float32:
        np.testing.assert_array_equal(t.numpy(), theirs.numpy())


def test_sub_with_alpha_is_add_with_minus_alpha():
    a, b = np.random.default_rng(0).standard_normal((2, 30000)).astype(np.float32)
    t, u = tinytorch.tensor(a), tinytorch.tensor(a)
    t.sub_(tinytorch.tensor(b), alpha=0.5)
    u.add_(tinytorch.tensor(b), alpha=-0.5)
    np.testing.assert_array_equal(t.numpy(), u.numpy())


@pytest.mark.parametrize("case", ["broadcast other", "overlapping view", "float64 other", "int tensor", "float16"])
def test_other_cases_take_the_general_path_with_the_same_values(case, monkeypatch):
    rng = np.random.default_rng(1)
    base = rng.standard_normal(12).astype(np.float32)
    if case == "broadcast other":
        t, other = tinytorch.tensor(base.reshape(3, 4)), tinytorch.tensor(base[:4])
    elif case == "overlapping view":
        whole = tinytorch.tensor(base)
        t, other = whole[:8], whole[2:10]
    elif case == "float64 other":
        t, other = tinytorch.tensor(base), tinytorch.tensor(base.astype(np.float64) / 3)
    elif case == "int tensor":
        t, other = tinytorch.arange(12), tinytorch.arange(12)
    else:
        t, other = tinytorch.tensor(base).half(), tinytorch.tensor(base).half()
    expected = (t + other).numpy().astype(t.numpy().dtype)  # computed in the common dtype, stored in the tensor's
    general = []
    real = binary.inplace
    monkeypatch.setattr(binary, "inplace", lambda *a, **k: general.append(1) or real(*a, **k))
    t.add_(other)
    assert general == [1]
    np.testing.assert_array_equal(t.numpy(), expected)


def test_autograd_still_records_and_refuses_as_before():
    x = tinytorch.ones(3, requires_grad=True)
    y = x * 2
    y.add_(x, alpha=3).mul_(2)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [10.0, 10.0, 10.0])
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.add_(1)
    with tinytorch.no_grad():
        x.add_(tinytorch.ones(3), alpha=2)  # the manual update of a parameter
    np.testing.assert_array_equal(x.detach().numpy(), [3.0, 3.0, 3.0])


def test_errors_are_pytorchs_and_leave_the_tensor_alone():
    t = tinytorch.ones(3)
    with pytest.raises(RuntimeError, match="must match the size"):
        t.add_(tinytorch.ones(4))
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        tinytorch.ones(1).expand(3).mul_(2)
    with pytest.raises(RuntimeError, match="result type Float can't be cast"):
        tinytorch.arange(3).div_(2)
    np.testing.assert_array_equal(t.numpy(), [1.0, 1.0, 1.0])


@given(hnp.arrays(np.float32, st.integers(1, 50), elements=st.sampled_from([np.inf, -np.inf, np.nan, 0.0, 1e38, -1.0])))
@settings(max_examples=30, deadline=None)
def test_special_values_without_warnings(values):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        t = tinytorch.tensor(values)
        t.add_(tinytorch.tensor(values), alpha=2).mul_(tinytorch.tensor(values)).div_(0.0).sub_(np.inf)
