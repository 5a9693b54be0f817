"""The activations beyond the core ones (SELU, CELU, GLU, hard/shrink families, Mish, RReLU, PReLU,
Threshold), the in-place forms and the alpha dropouts: values and gradients against torch
(kinks included), gradcheck, errors, modules and the random ones' statistics."""

import math

import numpy as np
import pytest

import tinytorch
from tinytorch import nn
import tinytorch as A
from tinytorch.autograd import gradcheck, gradgradcheck
import tinytorch.nn.functional as F
from tinytorch import nn as activation_modules
from tinytorch import nn as dropout_modules

from .helpers import assert_close, assert_same_error, numpy_of

# Kinks on purpose: ±3 (hard family), ±0.5 (shrink), 0 (ELU family, PReLU), 0.5 (the threshold
# below); the subgradients there must be PyTorch's.
POINTS = np.array([[-7.0, -3.0, -1.5, -0.5, 0.0, 0.25], [0.5, 1.5, 3.0, 6.0, 7.0, -0.25], [-4.0, 4.0, 2.9, -2.9, 21.0, -21.0]])
EXTREMES = np.array([[-1e4, -500.0, -88.0, 0.0], [88.0, 500.0, 1e4, -1e-30]])

# (id, ours(x), theirs(torch, x)): the functional forms, called as the public ones will be.
FUNCTIONS = [
    ("celu", lambda x: F.celu(x), lambda t, x: t.nn.functional.celu(x)),
    ("celu-alpha", lambda x: F.celu(x, 2.5), lambda t, x: t.nn.functional.celu(x, 2.5)),
    ("celu-negative-alpha", lambda x: F.celu(x, -0.5), lambda t, x: t.nn.functional.celu(x, -0.5)),
    ("selu", lambda x: F.selu(x), lambda t, x: t.nn.functional.selu(x)),
    ("glu-last", lambda x: F.glu(x), lambda t, x: t.nn.functional.glu(x)),
    ("glu-0", lambda x: F.glu(x[:2], 0), lambda t, x: t.nn.functional.glu(x[:2], 0)),
    ("hardswish", lambda x: F.hardswish(x), lambda t, x: t.nn.functional.hardswish(x)),
    ("hardsigmoid", lambda x: F.hardsigmoid(x), lambda t, x: t.nn.functional.hardsigmoid(x)),
    ("mish", lambda x: F.mish(x), lambda t, x: t.nn.functional.mish(x)),
    ("softsign", lambda x: F.softsign(x), lambda t, x: t.nn.functional.softsign(x)),
    ("softshrink", lambda x: F.softshrink(x), lambda t, x: t.nn.functional.softshrink(x)),
    ("softshrink-2", lambda x: F.softshrink(x, 1.5), lambda t, x: t.nn.functional.softshrink(x, 1.5)),
    ("hardshrink", lambda x: F.hardshrink(x), lambda t, x: t.nn.functional.hardshrink(x)),
    ("hardshrink-negative", lambda x: F.hardshrink(x, -1.0), lambda t, x: t.nn.functional.hardshrink(x, -1.0)),
    ("tanhshrink", lambda x: F.tanhshrink(x), lambda t, x: t.nn.functional.tanhshrink(x)),
    ("threshold", lambda x: F.threshold(x, 0.5, -2.0), lambda t, x: t.nn.functional.threshold(x, 0.5, -2.0)),
    ("rrelu-eval", lambda x: F.rrelu(x, 0.1, 0.3), lambda t, x: t.nn.functional.rrelu(x, 0.1, 0.3)),
    ("prelu-one", lambda x: F.prelu(x, tinytorch.full((1,), 0.2, dtype=x.dtype, device=x.device)),
     lambda t, x: t.nn.functional.prelu(x, t.full((1,), 0.2, dtype=x.dtype))),
    ("prelu-channels", lambda x: F.prelu(x, tinytorch.tensor([0.1, -0.3, 2.0], dtype=x.dtype, device=x.device)),
     lambda t, x: t.nn.functional.prelu(x, t.tensor([0.1, -0.3, 2.0], dtype=x.dtype))),
    ("torch.celu", lambda x: A.celu(x, 0.7), lambda t, x: t.celu(x, 0.7)),
    ("torch.selu", lambda x: A.selu(x), lambda t, x: t.selu(x)),
    ("torch.hardshrink", lambda x: A.hardshrink(x, 0.25), lambda t, x: t.hardshrink(x, 0.25)),
    ("torch.threshold", lambda x: A.threshold(x, -1.5, 4.0), lambda t, x: t.threshold(x, -1.5, 4.0)),
    ("torch.rrelu-eval", lambda x: A.rrelu(x), lambda t, x: t.rrelu(x)),
]
FUNCTION_IDS = [name for name, _, _ in FUNCTIONS]


def _pair(torch, values, dtype, device):
    x = tinytorch.tensor(values.astype(dtype), requires_grad=True, device=device)
    tx = torch.tensor(values.astype(dtype), requires_grad=True)
    return x, tx


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("values", [POINTS, EXTREMES], ids=["points", "extremes"])
@pytest.mark.parametrize("name, ours, theirs", FUNCTIONS, ids=FUNCTION_IDS)
def test_values_and_gradients_match_torch(name, ours, theirs, values, dtype, device):
    torch = pytest.importorskip("torch")
    if name == "prelu-channels":  # three channels on dim 1: (3, n) values, transposed
        values = np.concatenate([values, values])[:3]
    if name == "celu-negative-alpha":  # exp(-x / 0.5) is inf far below 0, in both libraries
        values = values.clip(-20, 20)
    x, tx = _pair(torch, values, dtype, device)
    inputs = (x.t(), tx.t()) if name == "prelu-channels" else (x, tx)
    out, expected = ours(inputs[0]), theirs(torch, inputs[1])
    assert out.dtype == getattr(tinytorch, dtype) and out.device.type == device
    tol = dict(atol=1e-6, rtol=1e-5) if dtype == "float32" else dict(atol=1e-12, rtol=1e-10)
    assert_close(out, expected, **tol)
    weights = np.random.default_rng(0).standard_normal(tuple(expected.shape)).astype(dtype)
    (out * tinytorch.tensor(weights, device=device)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    if dtype == "float64" and name in ("hardsigmoid", "torch.celu"):
        # PyTorch's backward rounds a constant to float32 even in float64: hardsigmoid's 1/6
        # (0.16666666716...), celu's alpha in its 1 / alpha. Ours keep float64.
        tol = dict(atol=1e-12, rtol=1e-7)
    assert_close(x.grad, tx.grad, **tol)


# Gradients at the kinks, spelled out: PyTorch's conventions, not whichever side a formula picks.
KINKS = [
    ("hardswish", lambda m, x: m.hardswish(x), [-3.0, 3.0], [0.0, 1.0]),
    ("hardsigmoid", lambda m, x: m.hardsigmoid(x), [-3.0, 3.0], [0.0, 0.0]),
    ("hardshrink", lambda m, x: m.hardshrink(x, 0.5), [-0.5, 0.5], [0.0, 0.0]),
    ("softshrink", lambda m, x: m.softshrink(x, 0.5), [-0.5, 0.5], [0.0, 0.0]),
    ("threshold", lambda m, x: m.threshold(x, 0.5, 9.0), [0.5], [0.0]),
    ("celu", lambda m, x: m.celu(x, 2.0), [0.0], [1.0]),
    ("selu", lambda m, x: m.selu(x), [0.0], [1.6732632423543772 * 1.0507009873554805]),
    ("rrelu-eval", lambda m, x: m.rrelu(x, 0.1, 0.3), [0.0], [0.2]),
    ("prelu", lambda m, x: m.prelu(x, x.detach()[:1] * 0 + 0.25), [0.0], [0.25]),
    ("elu_", lambda m, x: m.elu_(x * 1, 1.5), [0.0], [1.5]),
    ("leaky_relu_", lambda m, x: m.leaky_relu_(x * 1, 0.2), [0.0], [0.2]),
    ("hardtanh_", lambda m, x: m.hardtanh_(x * 1, -1.0, 1.0), [-1.0, 1.0], [0.0, 0.0]),
]


@pytest.mark.parametrize("name, call, points, grads", KINKS, ids=[k[0] for k in KINKS])
def test_gradients_at_the_kinks_are_pytorchs(name, call, points, grads, device):
    x = tinytorch.tensor(points, dtype=tinytorch.float64, requires_grad=True, device=device)
    call(F, x).sum().backward()
    np.testing.assert_allclose(numpy_of(x.grad), grads, rtol=1e-12)
    torch = pytest.importorskip("torch")
    tx = torch.tensor(points, dtype=torch.float64, requires_grad=True)
    call(torch.nn.functional, tx).sum().backward()
    np.testing.assert_allclose(numpy_of(x.grad), numpy_of(tx.grad), rtol=1e-12)


def _away_from_kinks(shape, kinks, seed=0):
    x = np.random.default_rng(seed).uniform(-5, 5, size=shape)
    for kink in kinks:
        x = np.where(np.abs(x - kink) < 0.1, kink + 0.3, x)
    return x


SMOOTH = [
    ("celu", lambda x: F.celu(x, 1.5), (0.0,)),
    ("selu", lambda x: F.selu(x), (0.0,)),
    ("glu", lambda x: F.glu(x, 0), ()),
    ("hardswish", lambda x: F.hardswish(x), (-3.0, 3.0)),
    ("hardsigmoid", lambda x: F.hardsigmoid(x), (-3.0, 3.0)),
    ("mish", lambda x: F.mish(x), ()),
    ("softsign", lambda x: F.softsign(x), (0.0,)),
    ("softshrink", lambda x: F.softshrink(x, 0.7), (-0.7, 0.7)),
    ("hardshrink", lambda x: F.hardshrink(x, 0.7), (-0.7, 0.7)),
    ("tanhshrink", lambda x: F.tanhshrink(x), ()),
    ("threshold", lambda x: F.threshold(x, 0.3, 2.0), (0.3,)),
    ("rrelu-eval", lambda x: F.rrelu(x), (0.0,)),
    ("elu_", lambda x: F.elu_(x * 1), (0.0,)),
    ("leaky_relu_", lambda x: F.leaky_relu_(x * 1, 0.3), (0.0,)),
    ("hardtanh_", lambda x: F.hardtanh_(x * 1, -2.0, 2.0), (-2.0, 2.0)),
]


@pytest.mark.parametrize("name, fn, kinks", SMOOTH, ids=[s[0] for s in SMOOTH])
def test_gradcheck_and_second_derivatives(name, fn, kinks):
    x = tinytorch.tensor(_away_from_kinks((4, 6), kinks), requires_grad=True)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


def test_prelu_gradcheck_in_input_and_weight():
    x = tinytorch.tensor(_away_from_kinks((2, 3, 4), (0.0,)), requires_grad=True)
    for weight in ([0.1, -0.4, 1.3], [0.3]):
        weight = tinytorch.tensor(weight, dtype=tinytorch.float64, requires_grad=True)
        assert gradcheck(F.prelu, (x, weight))
        assert gradgradcheck(F.prelu, (x, weight))


def test_rrelu_training_gradcheck_with_fixed_noise():
    x = tinytorch.tensor(_away_from_kinks((3, 5), (0.0,)), requires_grad=True)

    def fn(t):
        tinytorch.manual_seed(3)  # the same slopes for every evaluation
        return F.rrelu(t, 0.1, 0.4, training=True)

    assert gradcheck(fn, (x,))


# -- numbers at the extremes and NaN ------------------------------------------------------------
def test_nan_passes_through_as_in_torch():
    torch = pytest.importorskip("torch")
    values = np.array([np.nan, -1.0, 2.0, -4.0])
    for name, ours, theirs in FUNCTIONS:
        if name.startswith(("glu", "prelu-channels")):
            continue
        expected = numpy_of(theirs(torch, torch.tensor(values)))
        np.testing.assert_array_equal(np.isnan(numpy_of(ours(tinytorch.tensor(values)))), np.isnan(expected), err_msg=name)


def test_mish_is_finite_and_exact_far_out_also_in_float16():
    torch = pytest.importorskip("torch")
    for dtype in ("float16", "float32", "float64"):
        values = np.array([-100.0, -30.0, -5.0, 0.0, 5.0, 10.5, 15.0, 30.0, 100.0], dtype=dtype)
        x = tinytorch.tensor(values, requires_grad=True)
        tx = torch.tensor(values, requires_grad=True)
        out, expected = F.mish(x), torch.nn.functional.mish(tx)
        out.sum().backward()
        expected.sum().backward()
        tol = 1e-3 if dtype == "float16" else 1e-6
        assert_close(out, expected, atol=tol, rtol=tol)
        assert np.isfinite(numpy_of(x.grad)).all()
        assert_close(x.grad, tx.grad, atol=tol, rtol=tol)


# -- in-place forms -----------------------------------------------------------------------------
INPLACE = [
    ("celu_", lambda x: A.celu_(x, 1.5), lambda x: A.celu(x, 1.5)),
    ("celu-inplace", lambda x: F.celu(x, 1.5, inplace=True), lambda x: F.celu(x, 1.5)),
    ("selu_", lambda x: A.selu_(x), lambda x: A.selu(x)),
    ("selu-inplace", lambda x: F.selu(x, True), lambda x: F.selu(x)),
    ("relu_", lambda x: A.relu_(x), lambda x: x.relu()),
    ("threshold_", lambda x: A.threshold_(x, 0.5, -1.0), lambda x: A.threshold(x, 0.5, -1.0)),
    ("threshold-inplace", lambda x: F.threshold(x, 0.5, -1.0, True), lambda x: F.threshold(x, 0.5, -1.0)),
    ("rrelu_", lambda x: A.rrelu_(x, 0.2, 0.4), lambda x: A.rrelu(x, 0.2, 0.4)),
    ("rrelu-inplace", lambda x: F.rrelu(x, inplace=True), lambda x: F.rrelu(x)),
    ("hardswish-inplace", lambda x: F.hardswish(x, True), lambda x: F.hardswish(x)),
    ("hardsigmoid-inplace", lambda x: F.hardsigmoid(x, True), lambda x: F.hardsigmoid(x)),
    ("mish-inplace", lambda x: F.mish(x, True), lambda x: F.mish(x)),
    ("elu_", lambda x: F.elu_(x, 0.5), lambda x: tinytorch.nn.functional.elu(x, 0.5)),
    ("leaky_relu_", lambda x: F.leaky_relu_(x, 0.3), lambda x: tinytorch.nn.functional.leaky_relu(x, 0.3)),
    ("hardtanh_", lambda x: F.hardtanh_(x, -0.5, 2.0), lambda x: tinytorch.nn.functional.hardtanh(x, -0.5, 2.0)),
]


@pytest.mark.parametrize("name, in_place, out_of_place", INPLACE, ids=[i[0] for i in INPLACE])
def test_inplace_forms_write_into_the_input(name, in_place, out_of_place, device):
    x = tinytorch.tensor(POINTS, device=device)
    expected = numpy_of(out_of_place(x))
    version = x._version[0]
    result = in_place(x)
    assert result is x and x._version[0] > version
    np.testing.assert_allclose(numpy_of(x), expected, rtol=1e-15)


@pytest.mark.parametrize("name, in_place, out_of_place", INPLACE, ids=[i[0] for i in INPLACE])
def test_inplace_forms_differentiate_like_the_out_of_place_ones(name, in_place, out_of_place):
    leaf = tinytorch.tensor(POINTS, requires_grad=True)
    in_place(leaf * 1).sum().backward()
    other = tinytorch.tensor(POINTS, requires_grad=True)
    out_of_place(other * 1).sum().backward()
    np.testing.assert_allclose(numpy_of(leaf.grad), numpy_of(other.grad), rtol=1e-15)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        in_place(tinytorch.tensor(POINTS, requires_grad=True))


def test_inplace_gradient_matches_torch_through_a_non_leaf():
    torch = pytest.importorskip("torch")
    x, tx = _pair(torch, POINTS, "float64", "cpu")
    F.selu(x * 2, inplace=True).sum().backward()
    torch.nn.functional.selu(tx * 2, inplace=True).sum().backward()
    assert_close(x.grad, tx.grad, atol=1e-12, rtol=1e-12)


def test_integer_threshold_and_hardtanh_truncate_their_numbers_as_torch():
    torch = pytest.importorskip("torch")
    for dtype in ("int64", "int32", "uint8"):
        values = np.array([0, 1, 2, 3, 7], dtype=dtype)
        # -1 and -7 wrap into uint8 (an integer may, down to -255); -2.5 overflows it (a float may not)
        for threshold, value in ((1.5, 0.5), (2, 9), (2.9, 5.7), (-1, 2), (1, -7), (-2.5, 4)):
            if dtype == "uint8" and threshold == -2.5:
                assert_same_error(lambda v=values: A.threshold(tinytorch.tensor(v), -2.5, 4),
                                  lambda v=values: torch.threshold(torch.tensor(v), -2.5, 4))
                continue
            out = A.threshold(tinytorch.tensor(values), threshold, value)
            expected = torch.threshold(torch.tensor(values), threshold, value)
            assert out.dtype == getattr(tinytorch, dtype)
            np.testing.assert_array_equal(numpy_of(out), numpy_of(expected))
    values = np.array([-3, -2, -1, 0, 1, 2, 3])
    for low, high in ((-1.5, 1.5), (-2.0, 2.0), (-0.9, 2.7)):
        x, tx = tinytorch.tensor(values), torch.tensor(values)
        F.hardtanh_(x, low, high)
        torch.nn.functional.hardtanh_(tx, low, high)
        assert x.dtype == tinytorch.int64
        np.testing.assert_array_equal(numpy_of(x), numpy_of(tx))
    x, tx = tinytorch.tensor(values), torch.tensor(values)
    np.testing.assert_array_equal(numpy_of(F.relu_(x)), numpy_of(torch.nn.functional.relu_(tx)))


def test_hardtanh_inplace_with_min_above_max_gives_max_as_torch():
    torch = pytest.importorskip("torch")
    x, tx = tinytorch.tensor(POINTS), torch.tensor(POINTS)
    assert_close(F.hardtanh_(x, 2.0, 1.0), torch.nn.functional.hardtanh_(tx, 2.0, 1.0))


def test_int_inputs_of_the_ratio_ops_become_float_as_in_torch():
    torch = pytest.importorskip("torch")
    values = np.array([-3, 0, 2, 5])
    for ours, theirs in ((F.softsign, torch.nn.functional.softsign), (F.tanhshrink, torch.nn.functional.tanhshrink)):
        out, expected = ours(tinytorch.tensor(values)), theirs(torch.tensor(values))
        assert str(out.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
        assert_close(out, expected)


# -- out= of the two that accept it ----------------------------------------------------------
def test_out_argument_of_hardshrink_and_threshold():
    torch = pytest.importorskip("torch")
    out, tout = tinytorch.empty(3, 6, dtype=tinytorch.float64), torch.empty(3, 6, dtype=torch.float64)
    assert A.hardshrink(tinytorch.tensor(POINTS), 1.0, out=out) is out
    torch.hardshrink(torch.tensor(POINTS), 1.0, out=tout)
    assert_close(out, tout)
    assert A.threshold(tinytorch.tensor(POINTS), 1.0, 5.0, out=out) is out
    torch.threshold(torch.tensor(POINTS), 1.0, 5.0, out=tout)
    assert_close(out, tout)


# -- errors -----------------------------------------------------------------------------------
def _t(lib, values=None, dtype=None, **kwargs):
    values = np.asarray(POINTS if values is None else values)
    tensor = lib.tensor(values, **kwargs)
    return tensor if dtype is None else tensor.to(getattr(lib, dtype))


ERRORS = [
    ("celu alpha 0", lambda ours, lib: (F.celu if ours else lib.nn.functional.celu)(_t(lib), 0.0)),
    ("torch.celu alpha 0", lambda ours, lib: (A.celu if ours else lib.celu)(_t(lib), 0)),
    ("glu scalar", lambda ours, lib: (F.glu if ours else lib.nn.functional.glu)(_t(lib, 1.0))),
    ("glu odd", lambda ours, lib: (F.glu if ours else lib.nn.functional.glu)(_t(lib), 0)),
    ("glu odd negative dim", lambda ours, lib: (F.glu if ours else lib.nn.functional.glu)(_t(lib, np.ones((2, 3, 4))), -2)),
    ("glu dim", lambda ours, lib: (F.glu if ours else lib.nn.functional.glu)(_t(lib), 2)),
    ("softshrink negative", lambda ours, lib: (F.softshrink if ours else lib.nn.functional.softshrink)(_t(lib), -0.5)),
    ("softshrink float32 range", lambda ours, lib: (F.softshrink if ours else lib.nn.functional.softshrink)(_t(lib, dtype="float32"), 1e39)),
    ("softshrink inf", lambda ours, lib: (F.softshrink if ours else lib.nn.functional.softshrink)(_t(lib), math.inf)),
    ("softshrink nan", lambda ours, lib: (F.softshrink if ours else lib.nn.functional.softshrink)(_t(lib, dtype="float16"), math.nan)),
    ("rrelu bounds", lambda ours, lib: (F.rrelu if ours else lib.nn.functional.rrelu)(_t(lib), 0.5, 0.1)),
    ("rrelu bounds training", lambda ours, lib: (F.rrelu if ours else lib.nn.functional.rrelu)(_t(lib), 0.5, 0.1, True)),
    ("prelu channels", lambda ours, lib: (F.prelu if ours else lib.nn.functional.prelu)(_t(lib), _t(lib, [1.0, 2.0]))),
    ("prelu 2-D weight", lambda ours, lib: (F.prelu if ours else lib.nn.functional.prelu)(_t(lib, np.ones((2, 3))), _t(lib, np.ones((3, 1))))),
    ("prelu dtypes", lambda ours, lib: (F.prelu if ours else lib.nn.functional.prelu)(_t(lib), _t(lib, [1.0], dtype="float32"))),
    ("prelu 0-d input", lambda ours, lib: (F.prelu if ours else lib.nn.functional.prelu)(_t(lib, 1.0), _t(lib, [1.0, 2.0]))),
    ("prelu 1-d input", lambda ours, lib: (F.prelu if ours else lib.nn.functional.prelu)(_t(lib, [1.0, 2.0]), _t(lib, [1.0, 2.0]))),
    ("prelu int", lambda ours, lib: (F.prelu if ours else lib.nn.functional.prelu)(_t(lib, [1, 2]), _t(lib, [1]))),
    ("prelu number weight", lambda ours, lib: (A.prelu if ours else lib.prelu)(_t(lib), 0.25)),
    ("alpha_dropout p", lambda ours, lib: (F.alpha_dropout if ours else lib.nn.functional.alpha_dropout)(_t(lib), 1.5)),
    ("torch.alpha_dropout p", lambda ours, lib: (A.alpha_dropout if ours else lib.alpha_dropout)(_t(lib), 1.5, False)),
    ("feature_alpha_dropout p", lambda ours, lib: (F.feature_alpha_dropout if ours else lib.nn.functional.feature_alpha_dropout)(_t(lib), -0.1)),
    ("feature_alpha_dropout 1-D", lambda ours, lib: (F.feature_alpha_dropout if ours else lib.nn.functional.feature_alpha_dropout)(_t(lib, [1.0, 2.0]), 0.5, True)),
    ("alpha_dropout int", lambda ours, lib: (F.alpha_dropout if ours else lib.nn.functional.alpha_dropout)(_t(lib, [1, 2]), 0.5, True)),
    ("alpha_dropout int32", lambda ours, lib: (F.alpha_dropout if ours else lib.nn.functional.alpha_dropout)(_t(lib, [1, 2], dtype="int32"), 0.5, True)),
    ("alpha_dropout bool", lambda ours, lib: (F.alpha_dropout if ours else lib.nn.functional.alpha_dropout)(_t(lib, [True, False]), 0.5, True)),
    ("hardtanh_ bool", lambda ours, lib: (F.hardtanh_ if ours else lib.nn.functional.hardtanh_)(_t(lib, [True, False]))),
    ("hardtanh_ unsigned", lambda ours, lib: (F.hardtanh_ if ours else lib.nn.functional.hardtanh_)(_t(lib, [1, 2], dtype="uint8"))),
    ("threshold bool", lambda ours, lib: (F.threshold if ours else lib.nn.functional.threshold)(_t(lib, [True]), 0, 1)),
    ("threshold above uint8", lambda ours, lib: (A.threshold if ours else lib.threshold)(_t(lib, [1, 2], dtype="uint8"), 255.5, 0)),
    ("threshold below -255 for uint8", lambda ours, lib: (A.threshold if ours else lib.threshold)(_t(lib, [1, 2], dtype="uint8"), 1, -256)),
    ("threshold beyond int32", lambda ours, lib: (A.threshold if ours else lib.threshold)(_t(lib, [1, 2], dtype="int32"), 2**40, 0)),
    ("threshold value beyond int8", lambda ours, lib: (A.threshold_ if ours else lib.threshold_)(_t(lib, [1, 2], dtype="int8"), 1, 200)),
    ("threshold infinite for int64", lambda ours, lib: (A.threshold if ours else lib.threshold)(_t(lib, [1, 2]), math.inf, 0)),
    ("threshold beyond float32", lambda ours, lib: (A.threshold if ours else lib.threshold)(_t(lib, dtype="float32"), -1e39, 0)),
    ("Softmax2d 2-D", lambda ours, lib: (activation_modules.Softmax2d if ours else lib.nn.Softmax2d)()(_t(lib))),
]
# The floating-point-only kernels refuse integer and bool input with PyTorch's NotImplementedError.
for _name, _kwargs in [("celu", {}), ("selu", {}), ("hardswish", {}), ("hardsigmoid", {}), ("mish", {}), ("softshrink", {}),
                       ("hardshrink", {}), ("rrelu", {}), ("rrelu", {"training": True}), ("glu", {}), ("elu_", {}),
                       ("leaky_relu_", {})]:
    for _dtype in ("int64", "bool"):
        ERRORS.append((
            f"{_name} {_kwargs} {_dtype}",
            lambda ours, lib, n=_name, k=_kwargs, d=_dtype: getattr(F if ours else lib.nn.functional, n)(
                _t(lib, [[1, 0], [0, 1]], dtype=d), **k),
        ))


@pytest.mark.parametrize("name, call", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_match_torch(name, call):
    torch = pytest.importorskip("torch")
    assert_same_error(lambda: call(True, tinytorch), lambda: call(False, torch))


def test_errors_leave_the_input_untouched():
    x = tinytorch.tensor([[1, -2], [3, -4]])
    for call in (lambda: F.elu_(x), lambda: F.celu(x, inplace=True), lambda: A.rrelu_(x, training=True), lambda: F.mish(x, True)):
        with pytest.raises(NotImplementedError):
            call()
        np.testing.assert_array_equal(numpy_of(x), [[1, -2], [3, -4]])
        assert x._version[0] == 0


# -- rrelu's random slopes ----------------------------------------------------------------------
def test_rrelu_training_draws_one_slope_per_element_in_the_bounds(device):
    x = -tinytorch.rand(200, 50, device=device, dtype=tinytorch.float64) - 0.1
    out = F.rrelu(x, 0.1, 0.3, training=True)
    slopes = numpy_of(out) / numpy_of(x)
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3
    assert abs(slopes.mean() - 0.2) < 0.005 and abs(slopes.std() - 0.2 / math.sqrt(12)) < 0.005
    assert len(np.unique(slopes)) > 9000
    positive = tinytorch.rand(10, device=device) + 0.1
    np.testing.assert_array_equal(numpy_of(F.rrelu(positive, training=True)), numpy_of(positive))


def test_rrelu_training_gradient_is_the_drawn_slope(device):
    x = tinytorch.tensor([-2.0, -1.0, 0.0, 1.0, 3.0], requires_grad=True, device=device)
    out = F.rrelu(x, 0.2, 0.5, training=True)
    out.sum().backward()
    grad, slopes = numpy_of(x.grad), numpy_of(out)[:2] / np.array([-2.0, -1.0])
    np.testing.assert_allclose(grad[:2], slopes, rtol=1e-6)
    assert 0.2 <= grad[2] <= 0.5  # x = 0 draws a slope too (PyTorch: input <= 0)
    np.testing.assert_array_equal(grad[3:], [1.0, 1.0])


def test_rrelu_generator_and_seed_reproduce_the_draws():
    x = tinytorch.randn(6, 7)
    first = A.rrelu(x, training=True, generator=tinytorch.Generator().manual_seed(5))
    second = A.rrelu(x, training=True, generator=tinytorch.Generator().manual_seed(5))
    np.testing.assert_array_equal(numpy_of(first), numpy_of(second))
    tinytorch.manual_seed(1)
    third = F.rrelu(x, training=True)
    tinytorch.manual_seed(1)
    np.testing.assert_array_equal(numpy_of(third), numpy_of(F.rrelu(x, training=True)))


def test_rrelu_module_draws_in_train_mode_and_averages_in_eval_mode():
    module = activation_modules.RReLU(0.1, 0.5)
    x = -tinytorch.rand(1000) - 0.5
    slopes = numpy_of(module(x)) / numpy_of(x)
    assert slopes.std() > 0.05
    module.eval()
    np.testing.assert_allclose(numpy_of(module(x)) / numpy_of(x), 0.3, rtol=1e-6)


# -- alpha dropout ------------------------------------------------------------------------------
_SATURATION = 1.7580993408473766


def _affine(p):
    a = 1 / math.sqrt((_SATURATION**2 * p + 1) * (1 - p))
    return a, _SATURATION * a * p


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_alpha_dropout_keeps_zero_mean_unit_variance(p, device):
    x = tinytorch.randn(400, 500, device=device, dtype=tinytorch.float64)
    out = numpy_of(F.alpha_dropout(x, p, training=True))
    assert abs(out.mean()) < 0.01 and abs(out.std() - 1) < 0.01
    a, b = _affine(p)
    dropped = np.isclose(out, -_SATURATION * a + b, rtol=0, atol=1e-12)
    assert abs(dropped.mean() - p) < 0.01
    np.testing.assert_allclose(out[~dropped], numpy_of(x)[~dropped] * a + b, rtol=1e-12)


def test_alpha_dropout_statistics_match_torch():
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(0).standard_normal((300, 300))
    ours = numpy_of(F.alpha_dropout(tinytorch.tensor(values), 0.3, True))
    theirs = numpy_of(torch.nn.functional.alpha_dropout(torch.tensor(values), 0.3, True))
    assert abs(ours.mean() - theirs.mean()) < 0.02 and abs(ours.std() - theirs.std()) < 0.02
    # The dropped value (the most frequent one) is the same constant in both, as often.
    for out in (ours, theirs):
        values, counts = np.unique(np.round(out, 12), return_counts=True)
        out_constant, share = values[counts.argmax()], counts.max() / out.size
        a, b = _affine(0.3)
        np.testing.assert_allclose(out_constant, -_SATURATION * a + b, rtol=1e-9)
        assert abs(share - 0.3) < 0.02


def test_feature_alpha_dropout_drops_whole_channels(device):
    x = tinytorch.randn(8, 16, 5, 5, device=device)
    out = numpy_of(F.feature_alpha_dropout(x, 0.5, True))
    a, b = _affine(0.5)
    dropped = np.isclose(out, -_SATURATION * a + b, atol=1e-6).all(axis=(2, 3))
    kept = np.isclose(out, numpy_of(x) * a + b, atol=1e-5).all(axis=(2, 3))
    assert (dropped | kept).all() and dropped.any() and kept.any()
    # a 2-D input: (N, C) channels are single elements
    two = numpy_of(F.feature_alpha_dropout(tinytorch.randn(50, 40, device=device), 0.5, True))
    assert 0.35 < np.isclose(two, -_SATURATION * a + b, atol=1e-6).mean() < 0.65


def test_alpha_dropout_gradient_is_the_scale():
    x = tinytorch.randn(50, 40, requires_grad=True, dtype=tinytorch.float64)
    out = F.alpha_dropout(x, 0.4, True)
    out.sum().backward()
    a, b = _affine(0.4)
    dropped = np.isclose(numpy_of(out), -_SATURATION * a + b, atol=1e-12)
    np.testing.assert_allclose(numpy_of(x.grad), np.where(dropped, 0.0, a), rtol=1e-12)


def test_alpha_dropout_identity_cases_and_extremes():
    x = tinytorch.randn(4, 5)
    assert F.alpha_dropout(x, 0.5, training=False) is x
    assert F.alpha_dropout(x, 0.0, training=True) is x
    assert F.feature_alpha_dropout(x, 0.5) is x  # training defaults to False
    assert A.alpha_dropout(tinytorch.tensor([1, 2]), 0.5, False).dtype == tinytorch.int64
    zeros = F.alpha_dropout(x, 1.0, training=True)
    np.testing.assert_array_equal(numpy_of(zeros), 0)
    np.testing.assert_array_equal(numpy_of(F.feature_alpha_dropout(tinytorch.randn(3), 1.0, True)), 0)
    empty = tinytorch.empty(0, 3)
    assert F.alpha_dropout(empty, 0.5, True).shape == (0, 3)


def test_alpha_dropout_inplace():
    x = tinytorch.randn(30, 30)
    original = numpy_of(x).copy()
    version = x._version[0]
    assert F.alpha_dropout(x, 0.5, True, inplace=True) is x
    assert x._version[0] > version and not np.allclose(numpy_of(x), original)
    y = tinytorch.randn(4, 6, 3)
    assert A.feature_alpha_dropout_(y, 0.5, True) is y


# -- modules ----------------------------------------------------------------------------------
MODULES = [
    ("CELU", {}), ("CELU", {"alpha": 2.0, "inplace": True}), ("SELU", {}), ("SELU", {"inplace": True}),
    ("GLU", {}), ("GLU", {"dim": 0}), ("Hardswish", {}), ("Hardswish", {"inplace": True}),
    ("Hardsigmoid", {}), ("Hardsigmoid", {"inplace": True}), ("Mish", {}), ("Mish", {"inplace": True}),
    ("Softsign", {}), ("Softshrink", {}), ("Softshrink", {"lambd": 1}), ("Hardshrink", {}),
    ("Hardshrink", {"lambd": 1.5}), ("Tanhshrink", {}), ("Threshold", {"threshold": 0.1, "value": 20}),
    ("Threshold", {"threshold": 0.1, "value": 20.0, "inplace": True}), ("RReLU", {}),
    ("RReLU", {"lower": 0.1, "upper": 0.3, "inplace": True}), ("PReLU", {}), ("PReLU", {"num_parameters": 3, "init": 0.1}),
    ("Softmax2d", {}), ("AlphaDropout", {}), ("AlphaDropout", {"p": 0.2, "inplace": True}),
    ("FeatureAlphaDropout", {"p": 0.3}),
]


def _module(name, kwargs):
    home = dropout_modules if "Dropout" in name else activation_modules
    return getattr(home, name)(**kwargs)


@pytest.mark.parametrize("name, kwargs", MODULES, ids=[f"{n}-{k}" for n, k in MODULES])
def test_modules_match_torch_repr_parameters_and_outputs(name, kwargs):
    torch = pytest.importorskip("torch")
    module, theirs = _module(name, kwargs), getattr(torch.nn, name)(**kwargs)
    assert repr(module) == repr(theirs)
    assert list(module.state_dict()) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        np.testing.assert_array_equal(numpy_of(module.state_dict()[key]), numpy_of(value))
    for attribute in ("alpha", "inplace", "dim", "lambd", "threshold", "value", "lower", "upper", "num_parameters", "init", "p"):
        assert getattr(module, attribute, None) == getattr(theirs, attribute, None), attribute
    module.eval()
    theirs.eval()
    values = np.random.default_rng(0).standard_normal((2, 4, 3, 2)).astype(np.float32)
    x, tx = tinytorch.tensor(values), torch.tensor(values)
    if name == "PReLU" and kwargs:
        x, tx = x[:, :3], tx[:, :3]
    out, expected = module(x), theirs(tx)
    assert_close(out, expected, atol=1e-6, rtol=1e-5)
    if "Dropout" not in name:  # (dropout in eval mode returns its input)
        assert (out is x) == kwargs.get("inplace", False)


def test_prelu_module_learns_its_weight_like_torch():
    torch = pytest.importorskip("torch")
    module, theirs = activation_modules.PReLU(3, init=0.3), torch.nn.PReLU(3, init=0.3)
    assert isinstance(module.weight, nn.Parameter) and tuple(module.weight.shape) == (3,)
    assert [name for name, _ in module.named_parameters()] == ["weight"]
    values = np.random.default_rng(1).standard_normal((5, 3, 4))
    x, tx = tinytorch.tensor(values, dtype=tinytorch.float32), torch.tensor(values, dtype=torch.float32)
    (module(x) ** 2).sum().backward()
    (theirs(tx) ** 2).sum().backward()
    assert_close(module.weight.grad, theirs.weight.grad, atol=1e-5, rtol=1e-5)
    module.weight.data.fill_(0.7)
    module.reset_parameters()
    np.testing.assert_array_equal(numpy_of(module.weight), np.full(3, 0.3, dtype=np.float32))
    double = activation_modules.PReLU(2, dtype=tinytorch.float64)
    assert double.weight.dtype == tinytorch.float64


def test_modules_on_device(device):
    x = tinytorch.randn(2, 3, 4, 4, device=device)
    for module in (activation_modules.PReLU(3).to(device), activation_modules.Softmax2d(), activation_modules.GLU(-1), activation_modules.Hardswish(), activation_modules.RReLU(),
                   dropout_modules.AlphaDropout(0.3), dropout_modules.FeatureAlphaDropout(0.3)):
        out = module(x)
        assert out.device.type == device and np.isfinite(numpy_of(out)).all()
    np.testing.assert_allclose(numpy_of(activation_modules.Softmax2d()(x).sum(1)), 1.0, rtol=1e-5)


def test_dropout_modules_are_identity_in_eval_mode_and_never_inplace():
    x = tinytorch.randn(4, 6, 2)
    for module_type in (dropout_modules.AlphaDropout, dropout_modules.FeatureAlphaDropout):
        module = module_type(0.5, inplace=True)
        original = numpy_of(x).copy()
        out = module(x)
        assert out is not x
        np.testing.assert_array_equal(numpy_of(x), original)  # PyTorch's ignore inplace here
        assert module.eval()(x) is x
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        dropout_modules.AlphaDropout(1.5)


def test_inplace_modules_write_into_the_input():
    pairs = [
        (activation_modules.CELU(1.5, inplace=True), lambda x: F.celu(x, 1.5)),
        (activation_modules.SELU(True), F.selu), (activation_modules.Mish(True), F.mish),
        (activation_modules.Hardswish(True), F.hardswish), (activation_modules.Hardsigmoid(True), F.hardsigmoid),
        (activation_modules.Threshold(0.0, -1.0, True), lambda x: F.threshold(x, 0.0, -1.0)),
        (activation_modules.RReLU(0.2, 0.2, inplace=True), lambda x: F.rrelu(x, 0.2, 0.2)),
    ]
    for module, functional in pairs:
        x = tinytorch.tensor(POINTS)
        expected = numpy_of(functional(x))
        assert module(x) is x
        np.testing.assert_allclose(numpy_of(x), expected, rtol=1e-15)


def test_tensor_methods_match_torch():
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(0).standard_normal((2, 3, 4))
    x, tx = tinytorch.tensor(values), torch.tensor(values)
    assert_close(x.hardshrink(0.3), tx.hardshrink(0.3), atol=0, rtol=0)
    w, tw = tinytorch.tensor([0.1, 0.2, 0.3], dtype=tinytorch.float64), torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64)
    assert_close(x.prelu(w), tx.prelu(tw), atol=0, rtol=0)
