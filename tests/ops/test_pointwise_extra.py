"""atan2, hypot, logaddexp(2), nan_to_num, nansum, nanmean, exp2, frac, deg2rad, rad2deg, erfc,
sgn, logit, float_power, copysign, fmax, fmin, signbit, isposinf, isneginf, isreal, isin,
searchsorted, bucketize, gcd, lcm, cummax, cummin, aminmax: values against NumPy, values and
gradients against torch, second derivatives, errors and edge cases."""

import math

import numpy as np
import pytest

import tinytorch
from tinytorch._ops import pointwise_extra as ops

NAN, INF = math.nan, math.inf


def fn(name):
    return getattr(tinytorch, name, None) or getattr(ops, name)


def tt(values, dtype=None, requires_grad=False):
    return tinytorch.tensor(values, dtype=dtype, requires_grad=requires_grad)


def host(t):
    return t.detach().numpy()


def fd_grad(f, x, eps=1e-6):
    """Central finite differences of sum(f(x)) for a float64 array x."""
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        g[i] = (f(up).sum() - f(down).sum()) / (2 * eps)
    return g


# -- values against NumPy -----------------------------------------------------------------------
RNG = np.random.default_rng(0)
A = RNG.uniform(-3, 3, (3, 4))
B = RNG.uniform(-3, 3, (4,))


@pytest.mark.parametrize("name, reference", [
    ("atan2", np.arctan2), ("hypot", np.hypot), ("logaddexp", np.logaddexp), ("logaddexp2", np.logaddexp2),
    ("copysign", np.copysign), ("fmax", np.fmax), ("fmin", np.fmin), ("float_power", None),
])
def test_binary_values_match_numpy(name, reference):
    a, b = A, B
    if name == "float_power":
        a, b, reference = np.abs(A), B, np.power
    out = fn(name)(tt(a), tt(b))
    np.testing.assert_allclose(host(out), reference(a, b), rtol=1e-12)
    assert out.shape == (3, 4)


@pytest.mark.parametrize("name, reference", [
    ("exp2", np.exp2), ("deg2rad", np.deg2rad), ("rad2deg", np.rad2deg), ("sgn", np.sign),
    ("frac", lambda x: x - np.trunc(x)), ("signbit", np.signbit), ("isposinf", np.isposinf),
    ("isneginf", np.isneginf), ("isreal", np.isreal),
])
def test_unary_values_match_numpy(name, reference):
    x = np.array([-2.5, -1.0, -0.0, 0.0, 0.5, 3.0, INF, -INF])
    out = fn(name)(tt(x))
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(host(out), reference(x))


def test_erfc_matches_scipy():
    special = pytest.importorskip("scipy.special")
    x = np.linspace(-5, 10, 31)
    np.testing.assert_allclose(host(fn("erfc")(tt(x))), special.erfc(x), rtol=1e-14)


def test_infinities_and_nan():
    assert host(fn("logaddexp")(tt([-INF, INF, 1.0]), tt([-INF, INF, -INF]))).tolist() == [-INF, INF, 1.0]
    assert host(fn("logaddexp2")(tt([INF]), tt([-INF]))).tolist() == [INF]
    np.testing.assert_allclose(host(fn("hypot")(tt([INF, 3e200], dtype=tinytorch.float64), tt([NAN, 4e200], dtype=tinytorch.float64))), [INF, 5e200], rtol=1e-15)  # no overflow
    assert np.isnan(host(fn("frac")(tt([INF])))).all()
    out = host(fn("fmax")(tt([NAN, 1.0, NAN]), tt([2.0, NAN, NAN])))
    assert out[:2].tolist() == [2.0, 1.0] and np.isnan(out[2])
    assert host(fn("fmin")(tt([NAN, 1.0]), tt([2.0, NAN]))).tolist() == [2.0, 1.0]
    assert host(fn("sgn")(tt([NAN, -3.0]))).tolist() == [0.0, -1.0]  # as torch: sgn(nan) = 0
    assert host(fn("copysign")(tt([1.0, 2.0]), tt([-0.0, -NAN]))).tolist() == [-1.0, -2.0]


def test_result_dtypes_follow_pytorch():
    i = tt([1, 2, 3])
    default = tinytorch.get_default_dtype()
    for name in ("exp2", "deg2rad", "rad2deg", "erfc", "logit"):
        assert fn(name)(i).dtype == default, name
    assert fn("atan2")(i, i).dtype == default
    assert fn("copysign")(i, -1.0).dtype == default
    assert fn("float_power")(i, 2).dtype == tinytorch.float64
    assert fn("float_power")(2, i).dtype == tinytorch.float64
    assert fn("float_power")(tt([1.0]), tt([2.0])).dtype == tinytorch.float64
    assert fn("fmax")(i, i).dtype == tinytorch.int64
    assert fn("sgn")(i).dtype == tinytorch.int64
    assert fn("sgn")(tt([True, False])).dtype == tinytorch.bool
    assert fn("nansum")(tt([1, 2], dtype=tinytorch.int32)).dtype == tinytorch.int64
    assert fn("nan_to_num")(i).dtype == tinytorch.int64
    assert fn("exp2")(tt([1.0], dtype=tinytorch.float16)).dtype == tinytorch.float16
    for name in ("signbit", "isposinf", "isneginf", "isreal"):
        assert fn(name)(i).dtype == tinytorch.bool
        assert not host(fn(name)(i)).all() or name == "isreal"


# -- against torch ------------------------------------------------------------------------------
BINARY = ["atan2", "hypot", "logaddexp", "logaddexp2", "copysign", "fmax", "fmin", "float_power"]
UNARY = ["exp2", "erfc", "frac", "deg2rad", "rad2deg", "sgn", "logit"]


@pytest.mark.parametrize("name", BINARY)
def test_binary_values_and_gradients_match_torch(name):
    torch = pytest.importorskip("torch")
    a = np.array([[0.5, -1.5, 2.0, 0.0], [1.0, 1.0, -0.3, 3.0]])
    b = np.array([1.5, -0.5, 1.0, 0.0])
    if name == "float_power":
        a, b = np.abs(a) + 0.5, np.abs(b) + 0.5
    w = RNG.standard_normal((2, 4))
    ours = [tt(a, requires_grad=True), tt(b, requires_grad=True)]
    theirs = [torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)]
    out, expected = fn(name)(*ours), getattr(torch, name)(*theirs)
    np.testing.assert_allclose(host(out), expected.detach().numpy(), rtol=1e-12, atol=1e-14)
    (out * tt(w)).sum().backward()
    (expected * torch.tensor(w)).sum().backward()
    for x, y in zip(ours, theirs):
        np.testing.assert_allclose(host(x.grad), y.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", UNARY)
def test_unary_values_and_gradients_match_torch(name):
    torch = pytest.importorskip("torch")
    x = np.array([-2.5, -0.7, 0.2, 0.45, 0.9, 1.3])
    if name == "logit":
        x = np.array([-0.5, 0.0, 0.2, 0.5, 0.9, 1.0, 1.5])
    ours, theirs = tt(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, expected = fn(name)(ours), getattr(torch, name)(theirs)
    np.testing.assert_allclose(host(out), expected.detach().numpy(), rtol=1e-12)
    (out + ours).sum().backward()  # + x: torch's zero gradient of sgn is a ZeroTensor, which numpy() refuses
    (expected + theirs).sum().backward()
    np.testing.assert_allclose(host(ours.grad), theirs.grad.numpy(), rtol=1e-10)


def test_integer_and_bool_inputs_match_torch():
    torch = pytest.importorskip("torch")
    cases = [("exp2", (np.array([1, 2, 3], dtype=np.uint8),)), ("erfc", (np.array([True, False]),)),
             ("deg2rad", (np.array([90, -45]),)), ("logit", (np.array([0, 1]),)),
             ("atan2", (np.array([1, -1]), np.array([True, True]))), ("fmax", (np.array([True]), np.array([False]))),
             ("gcd", (np.array([4, -6, 0], dtype=np.int8), np.array([-6, 4, 0], dtype=np.int16))),
             ("lcm", (np.array([4, -6, 0]), np.array([6, 4, 0]))), ("signbit", (np.array([True, False]),)),
             ("nan_to_num", (np.array([True]),)), ("nansum", (np.array([True, True]),))]
    for name, arrays in cases:
        out = fn(name)(*[tinytorch.tensor(a) for a in arrays])
        expected = getattr(torch, name)(*[torch.tensor(a) for a in arrays])
        assert out.dtype.name == str(expected.dtype).replace("torch.", ""), name
        np.testing.assert_allclose(host(out), expected.numpy(), rtol=1e-6)


@pytest.mark.parametrize("kwargs", [{}, {"eps": 0.1}, {"eps": 0.7}, {"eps": -0.1}])
def test_logit_eps_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    x = np.array([0.0, 0.05, 0.1, 0.5, 0.9, 0.95, 1.0])
    ours, theirs = tt(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, expected = fn("logit")(ours, **kwargs), torch.logit(theirs, **kwargs)
    np.testing.assert_allclose(host(out), expected.detach().numpy(), rtol=1e-12)
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(host(ours.grad), theirs.grad.numpy(), rtol=1e-10)


def test_gradients_at_kinks_follow_pytorch():
    torch = pytest.importorskip("torch")
    pairs = {
        "fmax": ([1.0, 2.0, 3.0, NAN, 1.0], [1.0, 1.0, 4.0, 1.0, NAN]),
        "fmin": ([1.0, 2.0, 3.0, NAN, 1.0], [1.0, 1.0, 4.0, 1.0, NAN]),
        "copysign": ([0.0, 2.0, -3.0, -0.0], [-1.0, -1.0, 4.0, 1.0]),
        "atan2": ([0.0, 1.0], [0.0, 1.0]),  # 0 at the origin, as torch
        "hypot": ([0.0, 3.0], [0.0, 4.0]),  # nan at the origin, as torch
        "logaddexp": ([-INF, 1.0, INF], [-INF, 1.0, INF]),
    }
    for name, (a, b) in pairs.items():
        ours = [tt(a, requires_grad=True), tt(b, requires_grad=True)]
        theirs = [torch.tensor(a, dtype=torch.float32, requires_grad=True), torch.tensor(b, dtype=torch.float32, requires_grad=True)]
        fn(name)(*ours).sum().backward()
        getattr(torch, name)(*theirs).sum().backward()
        for x, y in zip(ours, theirs):
            np.testing.assert_array_equal(host(x.grad), y.grad.numpy(), err_msg=name)


def test_nan_functions_match_torch():
    torch = pytest.importorskip("torch")
    x = np.array([[1.0, NAN, INF, -2.0], [NAN, NAN, NAN, NAN], [0.5, -INF, 3.0, NAN]])
    for name, kwargs in [("nan_to_num", {}), ("nan_to_num", {"nan": 1.0, "posinf": 2.0}), ("nan_to_num", {"neginf": -7.0}),
                         ("nansum", {}), ("nansum", {"dim": 1}), ("nansum", {"dim": (0, 1), "keepdim": True}),
                         ("nansum", {"dim": 0, "dtype": tinytorch.float64}),
                         ("nanmean", {}), ("nanmean", {"dim": 1}), ("nanmean", {"dim": -2, "keepdim": True})]:
        ours, theirs = tt(x, dtype=tinytorch.float32, requires_grad=True), torch.tensor(x, dtype=torch.float32, requires_grad=True)
        tkwargs = dict(kwargs)
        if "dtype" in kwargs:
            tkwargs["dtype"] = torch.float64
        out, expected = fn(name)(ours, **kwargs), getattr(torch, name)(theirs, **tkwargs)
        assert out.dtype.name == str(expected.dtype).replace("torch.", "")
        np.testing.assert_allclose(host(out), expected.detach().numpy(), rtol=1e-6)
        out.sum().backward()
        expected.sum().backward()
        np.testing.assert_array_equal(host(ours.grad), theirs.grad.numpy(), err_msg=f"{name} {kwargs}")


def test_nan_to_num_defaults_are_the_dtype_limits():
    x = fn("nan_to_num")(tt([NAN, INF, -INF], dtype=tinytorch.float16))
    assert host(x).tolist() == [0.0, 65504.0, -65504.0]
    x = fn("nan_to_num")(tt([INF, -INF]))
    assert host(x).tolist() == [float(np.finfo(np.float32).max), float(np.finfo(np.float32).min)]


# -- second derivatives -------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["atan2", "hypot", "logaddexp", "logaddexp2", "copysign", "fmax", "fmin"])
def test_binary_second_derivatives_match_finite_differences(name):
    a = np.array([0.5, -1.5, 2.0, 1.2])
    b = np.array([1.5, -0.5, 1.0, -0.8])
    w = np.array([0.3, -1.1, 0.7, 2.0])

    def first(a_values, b_values):
        x, y = tt(a_values, requires_grad=True), tt(b_values, requires_grad=True)
        gx, gy = tinytorch.autograd.grad((fn(name)(x, y) * tt(w)).sum(), [x, y], create_graph=True)
        return x, y, gx, gy

    x, y, gx, gy = first(a, b)
    for grad, index in ((gx, 0), (gy, 1)):
        if not grad.requires_grad:  # piecewise linear: the second derivative is zero
            continue
        second = tinytorch.autograd.grad(grad.sum(), [x, y], allow_unused=True, retain_graph=True)
        for wrt, got in enumerate(second):
            expected = fd_grad(lambda v, wrt=wrt, index=index: host(first(*((v, b) if wrt == 0 else (a, v)))[2 + index]), (a, b)[wrt])
            got = np.zeros_like(a) if got is None else host(got)
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6, err_msg=f"{name} d{index}/d{wrt}")


@pytest.mark.parametrize("name", ["exp2", "erfc", "logit", "frac", "deg2rad"])
def test_unary_second_derivatives_match_finite_differences(name):
    x0 = np.array([0.15, 0.4, 0.55, 0.8])

    def first(values):
        x = tt(values, requires_grad=True)
        (g,) = tinytorch.autograd.grad(fn(name)(x).sum(), [x], create_graph=True)
        return x, g

    x, g = first(x0)
    if not g.requires_grad:
        return
    (second,) = tinytorch.autograd.grad(g.sum(), [x], allow_unused=True)
    expected = fd_grad(lambda v: host(first(v)[1]), x0)
    got = np.zeros_like(x0) if second is None else host(second)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_first_derivatives_match_finite_differences():
    x0 = np.array([0.15, -0.4, 1.55, 2.8])
    y0 = np.array([0.3, 0.9, -1.2, 0.5])
    for name in ("exp2", "erfc", "frac", "rad2deg"):
        x = tt(x0, requires_grad=True)
        fn(name)(x).sum().backward()
        np.testing.assert_allclose(host(x.grad), fd_grad(lambda v, name=name: host(fn(name)(tt(v))), x0), rtol=1e-6)
    for name in ("atan2", "hypot", "logaddexp2"):
        x = tt(x0, requires_grad=True)
        fn(name)(x, tt(y0)).sum().backward()
        np.testing.assert_allclose(host(x.grad), fd_grad(lambda v, name=name: host(fn(name)(tt(v), tt(y0))), x0), rtol=1e-6)


# -- searchsorted / bucketize / isin ------------------------------------------------------------
def test_searchsorted_matches_numpy_and_torch():
    torch = pytest.importorskip("torch")
    seq = np.sort(RNG.integers(0, 10, (3, 2, 7)), axis=-1).astype(np.float64)
    values = RNG.integers(-1, 11, (3, 2, 5)).astype(np.float64)
    values[0, 0, 0] = NAN
    for kwargs in ({}, {"right": True}, {"side": "right"}, {"side": "left"}, {"out_int32": True}):
        out = fn("searchsorted")(tt(seq), tt(values), **kwargs)
        expected = torch.searchsorted(torch.tensor(seq), torch.tensor(values), **kwargs)
        assert out.dtype.name == str(expected.dtype).replace("torch.", "")
        np.testing.assert_array_equal(host(out), expected.numpy())
    side = "right"
    rows = np.stack([np.searchsorted(s, v, side=side) for s, v in zip(seq.reshape(6, 7), values.reshape(6, 5))])
    np.testing.assert_array_equal(host(fn("searchsorted")(tt(seq), tt(values), right=True)).reshape(6, 5), rows)
    # 1-D sequence: any input shape, scalars, a sorter, mixed dtypes
    flat = np.array([5, 1, 3, 3, 9])
    sorter = np.argsort(flat, kind="stable")
    probe = np.array([[3.0, 3.5], [0.0, 10.0]])
    for kwargs in ({}, {"right": True}):
        out = fn("searchsorted")(tt(flat), tt(probe), sorter=tt(sorter), **kwargs)
        expected = torch.searchsorted(torch.tensor(flat), torch.tensor(probe), sorter=torch.tensor(sorter), **kwargs)
        np.testing.assert_array_equal(host(out), expected.numpy())
    scalar = fn("searchsorted")(tt([1.0, 3.0, 5.0]), 3)
    assert scalar.shape == () and scalar.item() == 1 and scalar.dtype == tinytorch.int64


def test_bucketize_matches_torch():
    torch = pytest.importorskip("torch")
    boundaries = np.array([1, 3, 5, 7])
    x = np.array([[0, 1, 3], [4, 7, 8]])
    for kwargs in ({}, {"right": True}, {"out_int32": True}):
        out = fn("bucketize")(tt(x), tt(boundaries), **kwargs)
        expected = torch.bucketize(torch.tensor(x), torch.tensor(boundaries), **kwargs)
        assert out.dtype.name == str(expected.dtype).replace("torch.", "")
        np.testing.assert_array_equal(host(out), expected.numpy())
    assert fn("bucketize")(3, tt(boundaries)).item() == 1


def test_isin_matches_numpy_and_torch():
    torch = pytest.importorskip("torch")
    a, b = np.array([[1, 2, 3], [4, 5, 6]]), np.array([2.0, 5.0, 2.5])
    for kwargs in ({}, {"invert": True}, {"assume_unique": True}):
        out = fn("isin")(tt(a), tt(b), **kwargs)
        np.testing.assert_array_equal(host(out), torch.isin(torch.tensor(a), torch.tensor(b), **kwargs).numpy())
        np.testing.assert_array_equal(host(out), np.isin(a, b, invert=kwargs.get("invert", False)))
    assert host(fn("isin")(tt([1.0, NAN]), tt([NAN]))).tolist() == [False, False]
    assert fn("isin")(2, tt([1, 2])).item() is True
    assert host(fn("isin")(tt([1, 2, 3]), 2)).tolist() == [False, True, False]


def test_gcd_lcm_match_numpy():
    a, b = RNG.integers(-50, 50, 20), RNG.integers(-50, 50, 20)
    np.testing.assert_array_equal(host(fn("gcd")(tt(a), tt(b))), np.gcd(a, b))
    np.testing.assert_array_equal(host(fn("lcm")(tt(a), tt(b))), np.lcm(a, b))


# -- cummax / cummin / aminmax ------------------------------------------------------------------
def _cum_reference(x, largest):
    """PyTorch's loop: take x[j] (and j) when it is NaN, or when it ties or beats a non-NaN running value."""
    values, indices = np.empty_like(x), np.empty(x.shape, dtype=np.int64)
    best, where_best = x[0], 0
    for j, v in enumerate(x):
        better = v >= best if largest else v <= best
        if np.isnan(v) or (not np.isnan(best) and better):
            best, where_best = v, j
        values[j], indices[j] = best, where_best
    return values, indices


@pytest.mark.parametrize("name", ["cummax", "cummin"])
def test_cummax_cummin_match_a_loop_and_torch(name):
    torch = pytest.importorskip("torch")
    x = RNG.integers(0, 4, (3, 9)).astype(np.float64)
    x[1, 3] = NAN
    x[2, 5] = NAN
    x[2, 7] = NAN
    for dim in (0, 1, -1):
        result = fn(name)(tt(x), dim)
        expected = getattr(torch, name)(torch.tensor(x), dim)
        np.testing.assert_array_equal(host(result.values), expected.values.numpy())
        np.testing.assert_array_equal(host(result.indices), expected.indices.numpy())
    values, indices = fn(name)(tt(x), 1)
    for row in range(3):
        ref_values, ref_indices = _cum_reference(x[row], name == "cummax")
        np.testing.assert_array_equal(host(values)[row], ref_values)
        np.testing.assert_array_equal(host(indices)[row], ref_indices)
    # ints and bools
    i = RNG.integers(-3, 3, (4, 6))
    for data in (i, i > 0):
        result = fn(name)(tinytorch.tensor(data), 1)
        expected = getattr(torch, name)(torch.tensor(data), 1)
        assert result.values.dtype.name == str(expected.values.dtype).replace("torch.", "")
        np.testing.assert_array_equal(host(result.values), expected.values.numpy())
        np.testing.assert_array_equal(host(result.indices), expected.indices.numpy())


def test_cummax_gradient_goes_to_the_picked_index():
    torch = pytest.importorskip("torch")
    x = np.array([[1.0, 3.0, 3.0, 2.0, 5.0], [2.0, 1.0, 0.0, 0.0, 4.0]])
    w = RNG.standard_normal(x.shape)
    for name in ("cummax", "cummin"):
        ours, theirs = tt(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        (fn(name)(ours, 1).values * tt(w)).sum().backward()
        (getattr(torch, name)(theirs, 1).values * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(host(ours.grad), theirs.grad.numpy(), rtol=1e-12)
        assert type(fn(name)(ours, 1)).__name__ == name


def test_cummax_edge_shapes_and_double_backward():
    zero_d = fn("cummax")(tt(3.0), 0)
    assert host(zero_d.values) == 3.0 and zero_d.indices.item() == 0 and zero_d.indices.shape == ()
    empty = fn("cummin")(tinytorch.ones(0), 0)
    assert empty.values.shape == (0,) and empty.indices.dtype == tinytorch.int64
    x = tt([[0.5, 1.5, 1.0]], requires_grad=True)
    (g,) = tinytorch.autograd.grad((fn("cummax")(x, 1).values ** 2).sum(), [x], create_graph=True)
    (gg,) = tinytorch.autograd.grad(g.sum(), [x])
    np.testing.assert_allclose(host(g), [[1.0, 6.0, 0.0]])
    np.testing.assert_allclose(host(gg), [[2.0, 4.0, 0.0]])


def test_scan_fallback_matches_accumulate():
    x = RNG.standard_normal((3, 17))
    x[1, 4] = NAN

    class NoAccumulate:  # a ufunc without .accumulate, as an old CuPy's
        def __init__(self, ufunc):
            self.ufunc = ufunc

        def __call__(self, *args):
            return self.ufunc(*args)

    for axis in (0, 1):
        got = ops._accumulate(np, NoAccumulate(np.maximum), x, axis)
        np.testing.assert_array_equal(got, np.maximum.accumulate(x, axis=axis))


def test_aminmax_matches_torch():
    torch = pytest.importorskip("torch")
    x = RNG.integers(0, 5, (3, 4)).astype(np.float64)
    for kwargs in ({}, {"dim": 0}, {"dim": -1, "keepdim": True}, {"keepdim": True}):
        ours, theirs = tt(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        result, expected = fn("aminmax")(ours, **kwargs), torch.aminmax(theirs, **kwargs)
        assert type(result).__name__ == "aminmax" and result._fields == ("min", "max")
        np.testing.assert_array_equal(host(result.min), expected.min.detach().numpy())
        np.testing.assert_array_equal(host(result.max), expected.max.detach().numpy())
        (result.min.sum() + 2 * result.max.sum()).backward()
        (expected.min.sum() + 2 * expected.max.sum()).backward()
        np.testing.assert_allclose(host(ours.grad), theirs.grad.numpy())
    nan = fn("aminmax")(tt([1.0, NAN]))
    assert np.isnan(host(nan.min)) and np.isnan(host(nan.max))
    assert fn("aminmax")(tt([True, False])).max.item() is True
    zero_d = fn("aminmax")(tt(3.0), dim=0)
    assert zero_d.min.item() == 3.0 and zero_d.max.shape == ()


# -- errors -------------------------------------------------------------------------------------
@pytest.mark.parametrize("call, error, message", [
    (lambda: fn("hypot")(tt([1, 2]), tt([1, 2])), NotImplementedError, "\"hypot_cpu\" not implemented for 'Long'"),
    (lambda: fn("logaddexp")(tt([True]), tt([True])), NotImplementedError, "\"logaddexp_cpu\" not implemented for 'Bool'"),
    (lambda: fn("frac")(tt([1, 2])), NotImplementedError, "\"frac_cpu\" not implemented for 'Long'"),
    (lambda: fn("gcd")(tt([1.0]), tt([2.0])), NotImplementedError, "\"gcd_cpu\" not implemented for 'Float'"),
    (lambda: fn("lcm")(tt([True]), tt([True])), NotImplementedError, "\"lcm_cpu\" not implemented for 'Bool'"),
    (lambda: fn("atan2")(tt([1.0]), 2), TypeError, "atan2(): argument 'other' (position 2) must be Tensor, not int"),
    (lambda: fn("fmax")(tt([1.0]), 2.5), TypeError, "fmax(): argument 'other' (position 2) must be Tensor, not float"),
    (lambda: fn("gcd")(tt([4]), 2), TypeError, "gcd(): argument 'other' (position 2) must be Tensor, not int"),
    (lambda: fn("nanmean")(tt([1, 2])), RuntimeError, "nanmean(): expected input to have floating point or complex dtype but got Long"),
    (lambda: fn("nansum")(tt([1.0]), dim=1), IndexError, "Dimension out of range (expected to be in range of [-1, 0], but got 1)"),
    (lambda: fn("cummax")(tt([1.0]), 2), IndexError, "Dimension out of range (expected to be in range of [-1, 0], but got 2)"),
    (lambda: fn("aminmax")(tinytorch.ones(0)), RuntimeError, "aminmax(): cannot compute aminmax over an empty dimension as the operation has no identity."),
    (lambda: fn("aminmax")(tinytorch.ones(2, 0), dim=1), IndexError, "aminmax: Expected reduction dim 1 to have non-zero size."),
    (lambda: fn("isin")(2, 3), TypeError, "isin() received an invalid combination of arguments"),
    (lambda: fn("isin")(tt([1]), [1]), TypeError, "isin() received an invalid combination of arguments"),
    (lambda: fn("bucketize")(tt([1]), tt([[1, 2]])), RuntimeError, "boundaries tensor must be 1 dimension, but got dim(2)"),
    (lambda: fn("searchsorted")(tt(3), tt([1])), RuntimeError, "torch.searchsorted(): boundaries tensor should have positive dimension, but got 0 dimension"),
    (lambda: fn("searchsorted")(tt([1, 3]), tt([3]), side="middle"), RuntimeError, "torch.searchsorted(): side can only be 'left' or 'right' but got middle"),
    (lambda: fn("searchsorted")(tt([1, 3]), tt([3]), side="left", right=True), RuntimeError, "torch.searchsorted(): side and right can't be set to opposites, got side of left while right was True"),
    (lambda: fn("searchsorted")(tt([[1, 3], [2, 4]]), tt([3, 3])), RuntimeError,
     "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 dimensions of boundaries tensor and input value tensor must match, but we got boundaries tensor [2, 2] and input value tensor [2]"),
    (lambda: fn("searchsorted")(tt([[1, 3]]), 3), RuntimeError,
     "torch.searchsorted(): input value can be a scalar only when boundaries tensor dimension is 1, but we got boundaries tensor dim(2) and input value's dim(0) numel(1)"),
    (lambda: fn("searchsorted")(tt([1, 3]), tt([3]), sorter=tt([0])), RuntimeError,
     "torch.searchsorted(): boundary and sorter must have the same size, but got boundary tensor [2]and got sorter tensor [1]"),
])
def test_errors_match_pytorch(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert message in str(info.value)


def test_error_messages_are_torchs():
    """The messages above, checked against the installed torch where it raises the same way."""
    torch = pytest.importorskip("torch")
    checks = [
        (lambda lib: lib.hypot(lib.tensor([1, 2]), lib.tensor([1, 2])), NotImplementedError),
        (lambda lib: lib.nanmean(lib.tensor([1, 2])), RuntimeError),
        (lambda lib: lib.aminmax(lib.ones(2, 0), dim=1), IndexError),
        (lambda lib: lib.searchsorted(lib.tensor([[1, 3], [2, 4]]), lib.tensor([3, 3])), RuntimeError),
        (lambda lib: lib.bucketize(lib.tensor([1]), lib.tensor([[1, 2]])), RuntimeError),
    ]

    class Lib:  # tinytorch, with the names of this module until they are exported
        def __getattr__(self, name):
            return fn(name) if name in ops.__all__ else getattr(tinytorch, name)

    for check, error in checks:
        with pytest.raises(error) as theirs:
            check(torch)
        with pytest.raises(error) as ours:
            check(Lib())
        assert str(ours.value) == str(theirs.value)


def test_out_argument():
    out = tinytorch.empty(3)
    result = fn("atan2")(tt([1.0, 0.0, -1.0]), tt([1.0, 1.0, 1.0]), out=out)
    assert result is out
    np.testing.assert_allclose(host(out), np.arctan2([1.0, 0.0, -1.0], 1.0))
