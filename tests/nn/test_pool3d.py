"""3-D max, average, adaptive pooling and unpooling, and power-average pooling (lp_pool1d/2d/3d):
values, indices and gradients against torch, gradcheck, PyTorch's errors, and the layers' reprs."""

import numpy as np
import pytest

import tinytorch
from tinytorch.autograd import gradcheck, gradgradcheck
from tinytorch import nn
from tinytorch.nn import functional as F

from .helpers import assert_close, assert_same_error, theirs

RNG = np.random.default_rng(0)


def _distinct(shape):
    """Values at least 0.1 apart: no ties, and the max's kink never falls inside a finite difference."""
    count = int(np.prod(shape))
    return (RNG.permutation(count) * 0.1 - count * 0.05).reshape(shape)


def _compare(torch, make, x, device, tol):
    """make(lib) -> a callable of one tensor; values, indices and the input gradient match torch's."""
    a = tinytorch.tensor(x, device=device, requires_grad=True)
    ta = theirs(torch, x, True)
    out, expected = make(tinytorch)(a), make(torch)(ta)
    out = out if isinstance(out, tuple) else (out,)
    expected = expected if isinstance(expected, tuple) else (expected,)
    for got, want in zip(out, expected):
        assert got.shape == tuple(want.shape) and got.device.type == device
        assert got.dtype.name == str(want.dtype).replace("torch.", "")
        assert_close(got, want, **tol)
    weights = RNG.standard_normal(tuple(expected[0].shape)).astype(x.dtype)
    (out[0] * tinytorch.tensor(weights, device=device)).sum().backward()
    (expected[0] * torch.tensor(weights)).sum().backward()
    assert_close(a.grad, ta.grad, **tol)


def _layer(name, *args, **kwargs):
    """make(lib) for a layer: ours from tinytorch.nn.modules.pooling (before nn exports it)."""
    return lambda lib: (getattr(nn, name) if lib is tinytorch else getattr(lib.nn, name))(*args, **kwargs)


POOLS = [
    ("MaxPool3d(2)", _layer("MaxPool3d", 2), (2, 3, 6, 8, 4)),
    ("MaxPool3d overlapping, padded, dilated, ceil", _layer("MaxPool3d", (3, 2, 3), (2, 1, 2), (1, 1, 0), (1, 2, 1), True, True),
     (2, 3, 7, 8, 6)),
    ("MaxPool3d unbatched", _layer("MaxPool3d", 3, 2, 1, return_indices=True), (3, 5, 6, 7)),
    ("MaxPool3d ceil overhang", _layer("MaxPool3d", 2, 2, 1, ceil_mode=True, return_indices=True), (1, 2, 5, 5, 4)),
    ("AvgPool3d(2)", _layer("AvgPool3d", 2), (2, 3, 6, 8, 4)),
    ("AvgPool3d padded, ceil, count_include_pad", _layer("AvgPool3d", 3, 2, 1, ceil_mode=True), (2, 3, 6, 7, 8)),
    ("AvgPool3d padded, ceil, exclude pad", _layer("AvgPool3d", (3, 2, 3), (2, 1, 2), (1, 1, 0), True, False), (2, 3, 6, 7, 8)),
    ("AvgPool3d divisor_override", _layer("AvgPool3d", 3, 2, 1, divisor_override=5), (2, 2, 5, 5, 6)),
    ("AvgPool3d unbatched", _layer("AvgPool3d", (2, 1, 3)), (3, 4, 5, 6)),
    ("AdaptiveAvgPool3d divisible", _layer("AdaptiveAvgPool3d", (3, 4, 2)), (2, 3, 6, 8, 4)),
    ("AdaptiveAvgPool3d non-divisible", _layer("AdaptiveAvgPool3d", (4, 3, 5)), (2, 3, 6, 8, 7)),
    ("AdaptiveAvgPool3d larger than the input", _layer("AdaptiveAvgPool3d", (7, 3, 9)), (2, 3, 5, 8, 4)),
    ("AdaptiveAvgPool3d big windows", _layer("AdaptiveAvgPool3d", 2), (1, 2, 8, 6, 10)),
    ("AdaptiveAvgPool3d global", _layer("AdaptiveAvgPool3d", 1), (2, 3, 5, 6, 4)),
    ("AdaptiveAvgPool3d None", _layer("AdaptiveAvgPool3d", (None, 3, None)), (3, 5, 6, 4)),
    ("AdaptiveMaxPool3d divisible", _layer("AdaptiveMaxPool3d", (3, 4, 2), return_indices=True), (2, 3, 6, 8, 4)),
    ("AdaptiveMaxPool3d non-divisible", _layer("AdaptiveMaxPool3d", (4, 3, 5), True), (2, 3, 6, 8, 7)),
    ("AdaptiveMaxPool3d larger than the input", _layer("AdaptiveMaxPool3d", (7, 3, 9), True), (2, 3, 5, 8, 4)),
    ("AdaptiveMaxPool3d global, None", _layer("AdaptiveMaxPool3d", (1, None, 2)), (3, 5, 6, 4)),
    ("LPPool1d", _layer("LPPool1d", 2, 3, 2), (2, 3, 11)),
    ("LPPool2d", _layer("LPPool2d", 1.5, (3, 2), (2, 1), True), (2, 3, 7, 6)),
    ("LPPool3d", _layer("LPPool3d", 2, 2), (2, 3, 6, 5, 4)),
    ("LPPool3d p=3, strided, ceil", _layer("LPPool3d", 3, (2, 3, 2), (1, 2, 2), True), (2, 2, 5, 6, 5)),
    ("LPPool3d inf", _layer("LPPool3d", float("inf"), 2), (2, 2, 4, 4, 4)),
]


@pytest.mark.parametrize("name, make, shape", POOLS, ids=[p[0] for p in POOLS])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pool3d_layers_match_torch(name, make, shape, dtype, device):
    torch = pytest.importorskip("torch")
    # Power pooling takes x ** p: positive values keep every window's sum positive (no NaN, no kink).
    x = (np.abs(_distinct(shape)) + 0.5 if name.startswith("LP") else _distinct(shape)).astype(dtype)
    tol = {"atol": 1e-5, "rtol": 1e-5} if dtype == np.float32 else {"atol": 1e-12, "rtol": 1e-10}
    _compare(torch, make, x, device, tol)


@pytest.mark.parametrize("name, call", [
    ("max_pool3d", lambda x: F.max_pool3d(x, (2, 3, 2), (1, 2, 1), (1, 1, 0), (2, 1, 1), True)),
    ("avg_pool3d", lambda x: F.avg_pool3d(x, 3, 2, 1, True, False)),
    ("avg_pool3d divisor", lambda x: F.avg_pool3d(x, 2, 1, 1, divisor_override=3)),
    ("adaptive_avg_pool3d", lambda x: F.adaptive_avg_pool3d(x, (2, 3, 4))),
    ("adaptive_avg_pool3d matmul", lambda x: F.adaptive_avg_pool3d(x, 1 + 0 * 3) * 2 + F.adaptive_avg_pool3d(x, (3, 4, 4))),
    ("adaptive_max_pool3d", lambda x: F.adaptive_max_pool3d(x, (3, 2, 4))),
    ("max_pool3d global, divisible", lambda x: F.adaptive_max_pool3d(x, (2, 2, 1))),
    ("lp_pool3d", lambda x: F.lp_pool3d(x, 2, 2, 1)),
])
def test_pool3d_gradcheck_first_and_second_order(name, call):
    x = _distinct((1, 2, 4, 4, 5))
    if name.startswith("lp"):
        x = np.abs(x) + 0.5
    a = tinytorch.tensor(x, requires_grad=True)
    assert gradcheck(call, (a,))
    assert gradgradcheck(call, (a,))


def test_max_pool3d_ties_and_nan_match_torch():
    torch = pytest.importorskip("torch")
    x = np.zeros((1, 1, 4, 4, 4))
    x[0, 0, 1, 2, 3] = np.nan
    x[0, 0, 3, 3, 3] = np.nan
    for kwargs in ({"kernel_size": 2}, {"kernel_size": 3, "stride": 1, "padding": 1}):
        out, index = F.max_pool3d(tinytorch.tensor(x), return_indices=True, **kwargs)
        expected, expected_index = torch.nn.functional.max_pool3d(torch.tensor(x), return_indices=True, **kwargs)
        np.testing.assert_array_equal(out.numpy(), expected.numpy())
        np.testing.assert_array_equal(index.numpy(), expected_index.numpy())


def test_avg_pool3d_integers_and_bool_like_torch():
    torch = pytest.importorskip("torch")
    x = RNG.integers(-20, 20, (1, 2, 4, 5, 6))
    out = F.avg_pool3d(tinytorch.tensor(x), 2, 1, 1, divisor_override=3)
    expected = torch.nn.functional.avg_pool3d(torch.tensor(x), 2, 1, 1, divisor_override=3)
    assert out.dtype == tinytorch.int64
    np.testing.assert_array_equal(out.numpy(), expected.numpy())


@pytest.mark.parametrize("norm_type", [1, 2, 3.5, -float("inf")])
def test_lp_pool_functions_match_torch(norm_type):
    torch = pytest.importorskip("torch")
    for name, shape, kwargs in [
        ("lp_pool1d", (2, 3, 9), {"kernel_size": 3}),
        ("lp_pool2d", (2, 3, 7, 6), {"kernel_size": (2, 3), "stride": 2, "ceil_mode": True}),
        ("lp_pool3d", (2, 2, 5, 6, 4), {"kernel_size": (2, 3, 2), "stride": (1, 2, 2)}),
    ]:
        x = np.abs(_distinct(shape)) + 0.5
        _compare(torch, lambda lib, name=name, kwargs=kwargs: (lambda t: getattr(
            lib.nn.functional, name)(t, norm_type, **kwargs)), x, "cpu", {"atol": 1e-10, "rtol": 1e-10})


def test_lp_pool_negative_sums_are_nan_and_zero_sums_give_zero_gradient_like_torch():
    torch = pytest.importorskip("torch")
    x = np.array([[[-1.0, -2.0, 0.0, 0.0, 3.0, 1.0]]])
    out, expected = F.lp_pool1d(tinytorch.tensor(x), 1, 2), torch.nn.functional.lp_pool1d(torch.tensor(x), 1, 2)
    np.testing.assert_array_equal(out.numpy(), expected.numpy())
    x = np.array([[[0.0, 0.0, 3.0, 1.0]]])
    a, ta = tinytorch.tensor(x, requires_grad=True), theirs(torch, x, True)
    F.lp_pool1d(a, 2, 2).sum().backward()
    torch.nn.functional.lp_pool1d(ta, 2, 2).sum().backward()
    np.testing.assert_array_equal(np.nan_to_num(a.grad.numpy(), nan=-7), np.nan_to_num(ta.grad.numpy(), nan=-7))


# -- unpooling ------------------------------------------------------------------------------------
@pytest.mark.parametrize("batched", [True, False])
def test_max_unpool3d_inverts_max_pool3d_like_torch(batched, device):
    torch = pytest.importorskip("torch")
    x = _distinct((2, 3, 4, 6, 5) if batched else (3, 4, 6, 5))
    pool, unpool = nn.MaxPool3d(2, return_indices=True), nn.MaxUnpool3d(2)
    values, indices = pool(tinytorch.tensor(x, device=device))
    a = values.detach().requires_grad_()
    out = unpool(a, indices, output_size=x.shape[-3:])
    tx = torch.tensor(x)
    t_values, t_indices = torch.nn.functional.max_pool3d(tx, 2, return_indices=True)
    ta = t_values.detach().requires_grad_()
    expected = torch.nn.MaxUnpool3d(2)(ta, t_indices, output_size=x.shape[-3:])
    assert out.shape == tuple(expected.shape) and out.device.type == device
    assert_close(out, expected, atol=0)
    weights = RNG.standard_normal(tuple(expected.shape))
    (out * tinytorch.tensor(weights, device=device)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    assert_close(a.grad, ta.grad, atol=1e-12)


def _unpool_errors(lib, case):
    f = F.max_unpool3d if lib is tinytorch else lib.nn.functional.max_unpool3d
    values, indices = lib.zeros(1, 2, 2, 2, 2), lib.zeros(1, 2, 2, 2, 2, dtype=lib.int64)
    calls = {
        "int32 indices": lambda: f(values, indices.int(), 2),
        "3-D input": lambda: f(values[0, 0], indices[0, 0], 2),
        "shapes": lambda: f(values, indices[..., :1], 2),
        "output_size length": lambda: f(values, indices, 2, output_size=(4, 4)),
        "output_size range": lambda: f(values, indices, 2, output_size=(9, 4, 4)),
        "empty channels": lambda: f(lib.zeros(1, 0, 2, 2, 2), lib.zeros(1, 0, 2, 2, 2, dtype=lib.int64), 2),
        "zero stride": lambda: f(values, indices, 2, stride=0),
        "kernel pair": lambda: f(values, indices, (2, 2), stride=(2, 2)),
        "index too large": lambda: f(values, indices + 8, 2, output_size=(2, 2, 2)),
    }
    return calls[case]


@pytest.mark.parametrize("case", ["int32 indices", "3-D input", "shapes", "output_size length", "output_size range",
                                  "empty channels", "zero stride", "kernel pair", "index too large"])
def test_max_unpool3d_errors_match_torch(case):
    torch = pytest.importorskip("torch")
    assert_same_error(_unpool_errors(tinytorch, case), _unpool_errors(torch, case))


# -- errors ---------------------------------------------------------------------------------------
def _pool_errors(lib, case):
    ns = lib.nn.functional
    x = lib.zeros(1, 2, 4, 5, 6)
    calls = {
        "max kernel length": lambda: ns.max_pool3d(x, (2, 2)),
        "max stride length": lambda: ns.max_pool3d(x, 2, (1, 1)),
        "max padding length": lambda: ns.max_pool3d(x, 2, 1, (1, 1)),
        "max dilation length": lambda: ns.max_pool3d(x, 2, 1, 0, (1, 1)),
        "max zero kernel": lambda: ns.max_pool3d(x, 0),
        "max zero kernel, stride 1": lambda: ns.max_pool3d(x, 0, 1),
        "max negative stride": lambda: ns.max_pool3d(x, 2, -1),
        "max zero dilation": lambda: ns.max_pool3d(x, 2, 1, 0, 0),
        "max big padding": lambda: ns.max_pool3d(x, 2, 1, 2),
        "max padding vs dilated kernel": lambda: ns.max_pool3d(lib.zeros(1, 2, 9, 9, 9), 3, 1, 2, 2),
        "max negative padding": lambda: ns.max_pool3d(x, 2, 1, -1),
        "max too small": lambda: ns.max_pool3d(x, 5),
        "max 3-D input": lambda: ns.max_pool3d(lib.zeros(3, 4, 4), 2),
        "max empty channels": lambda: ns.max_pool3d(lib.zeros(1, 0, 4, 4, 4), 2),
        "max with indices 3-D input": lambda: ns.max_pool3d_with_indices(lib.zeros(3, 4, 4), 2),
        "avg kernel length": lambda: ns.avg_pool3d(x, (2, 2)),
        "avg stride length": lambda: ns.avg_pool3d(x, 2, (1, 1)),
        "avg padding length": lambda: ns.avg_pool3d(x, 2, 1, (1, 1)),
        "avg divisor": lambda: ns.avg_pool3d(x, 2, divisor_override=0),
        "avg kernel larger than input": lambda: ns.avg_pool3d(lib.zeros(1, 2, 4, 1, 4), 2, padding=1),
        "avg 2-D input": lambda: ns.avg_pool3d(lib.zeros(3, 4), 2),
        "avg empty channels": lambda: ns.avg_pool3d(lib.zeros(0, 4, 4, 4), 2),
        "adaptive avg length": lambda: ns.adaptive_avg_pool3d(x, (2, 2)),
        "adaptive avg negative": lambda: ns.adaptive_avg_pool3d(x, (2, -1, 2)),
        "adaptive avg 3-D input": lambda: ns.adaptive_avg_pool3d(lib.zeros(4, 4, 4), 2),
        "adaptive avg empty": lambda: ns.adaptive_avg_pool3d(lib.zeros(2, 0, 4, 4, 4), 2),
        "adaptive avg None too long": lambda: ns.adaptive_avg_pool3d(lib.zeros(4, 4, 4), (None, 2, 2, 2)),
        "adaptive max length": lambda: ns.adaptive_max_pool3d(x, (2, 2)),
        "adaptive max negative": lambda: ns.adaptive_max_pool3d(x, (2, -1, 2)),
        "adaptive max 3-D input": lambda: ns.adaptive_max_pool3d(lib.zeros(4, 4, 4), 2),
        "adaptive max empty": lambda: ns.adaptive_max_pool3d(lib.zeros(1, 2, 0, 4, 4), 2),
        "lp_pool3d kernel pair": lambda: ns.lp_pool3d(x, 2, (2, 2)),
        "lp_pool3d too small": lambda: ns.lp_pool3d(x, 2, 5),
    }
    return calls[case]


POOL_ERRORS = [
    "max kernel length", "max stride length", "max padding length", "max dilation length", "max zero kernel",
    "max zero kernel, stride 1", "max negative stride", "max zero dilation", "max big padding",
    "max padding vs dilated kernel", "max negative padding", "max too small", "max 3-D input", "max empty channels",
    "max with indices 3-D input", "avg kernel length", "avg stride length", "avg padding length", "avg divisor",
    "avg kernel larger than input", "avg 2-D input", "avg empty channels", "adaptive avg length",
    "adaptive avg negative", "adaptive avg 3-D input", "adaptive avg empty", "adaptive avg None too long",
    "adaptive max length", "adaptive max negative", "adaptive max 3-D input", "adaptive max empty",
    "lp_pool3d kernel pair", "lp_pool3d too small",
]


@pytest.mark.parametrize("case", POOL_ERRORS)
def test_pool3d_errors_match_torch(case):
    torch = pytest.importorskip("torch")
    assert_same_error(_pool_errors(tinytorch, case), _pool_errors(torch, case))


@pytest.mark.parametrize("name, args, kwargs", [
    ("MaxPool3d", (3,), {}),
    ("MaxPool3d", ((2, 3, 1), (1, 2, 1), 1, 2), {"return_indices": True, "ceil_mode": True}),
    ("AvgPool3d", (3, 2, 1), {"ceil_mode": True, "count_include_pad": False, "divisor_override": 2}),
    ("AdaptiveAvgPool3d", ((2, None, 3),), {}),
    ("AdaptiveMaxPool3d", (4,), {"return_indices": True}),
    ("MaxUnpool3d", (2,), {}),
    ("MaxUnpool3d", ((2, 3, 1), (1, 2, 1), 1), {}),
    ("LPPool1d", (2, 3), {}),
    ("LPPool2d", (1.5, (3, 2), (2, 1), True), {}),
    ("LPPool3d", (2, 3), {"stride": 2}),
])
def test_pool3d_layer_reprs_and_attributes_match_torch(name, args, kwargs):
    torch = pytest.importorskip("torch")
    ours, ref = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(ref)
    for attribute in ("kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices", "output_size",
                      "norm_type", "count_include_pad", "divisor_override"):
        assert getattr(ours, attribute, None) == getattr(ref, attribute, None)
    assert list(ours.state_dict()) == []
