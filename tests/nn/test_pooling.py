"""Max, average, adaptive pooling and unpooling: against torch (values, indices, gradients, ties
and NaN), reprs, and PyTorch's errors."""

import numpy as np
import pytest

import tinytorch

from .helpers import assert_close, assert_same_error, numpy_of, ours, theirs

RNG = np.random.default_rng(0)


def _compare(torch, make, x, index_outputs=()):
    """make(lib) -> a callable of one tensor; values, indices and the input gradient match torch's."""
    a, ta = ours(x, True), theirs(torch, x, True)
    out, expected = make(tinytorch)(a), make(torch)(ta)
    out = out if isinstance(out, tuple) else (out,)
    expected = expected if isinstance(expected, tuple) else (expected,)
    for got, want in zip(out, expected):
        assert tuple(got.shape) == tuple(want.shape)
        assert_close(got, want, atol=1e-6 if x.dtype == np.float32 else 1e-12, rtol=1e-5)
        assert got.dtype.name == str(want.dtype).replace("torch.", "")
    weights = RNG.standard_normal(tuple(expected[0].shape)).astype(x.dtype)
    (out[0] * tinytorch.tensor(weights)).sum().backward()
    (expected[0] * torch.tensor(weights)).sum().backward()
    assert_close(a.grad, ta.grad, atol=1e-5, rtol=1e-5)


POOLS = [
    ("MaxPool2d(2)", lambda lib: lib.nn.MaxPool2d(2), (4, 8, 24, 24)),
    ("MaxPool2d overlapping, padded, dilated, ceil", lambda lib: lib.nn.MaxPool2d((3, 2), (2, 1), (1, 1), (1, 2), True, True), (2, 3, 9, 8)),
    ("MaxPool2d unbatched", lambda lib: lib.nn.MaxPool2d(3, 2, 1, return_indices=True), (3, 7, 6)),
    ("MaxPool1d", lambda lib: lib.nn.MaxPool1d(3, 2, 1, 2, return_indices=True, ceil_mode=True), (2, 3, 12)),
    ("MaxPool1d no indices", lambda lib: lib.nn.MaxPool1d(3, 2, 1), (2, 3, 12)),
    ("MaxPool1d unbatched", lambda lib: lib.nn.MaxPool1d(2), (3, 9)),
    ("AvgPool2d(2)", lambda lib: lib.nn.AvgPool2d(2), (2, 3, 8, 9)),
    ("AvgPool2d padded, ceil, count_include_pad", lambda lib: lib.nn.AvgPool2d(3, 2, 1, ceil_mode=True), (2, 3, 8, 9)),
    ("AvgPool2d padded, ceil, exclude pad", lambda lib: lib.nn.AvgPool2d((3, 2), (2, 1), (1, 1), True, False), (2, 3, 8, 9)),
    ("AvgPool2d divisor_override", lambda lib: lib.nn.AvgPool2d(3, 2, 1, divisor_override=4), (2, 3, 7, 7)),
    ("AvgPool1d", lambda lib: lib.nn.AvgPool1d(4, 3, 2, True, False), (2, 3, 11)),
    ("AvgPool1d unbatched", lambda lib: lib.nn.AvgPool1d(2), (3, 9)),
    ("AdaptiveAvgPool2d divisible", lambda lib: lib.nn.AdaptiveAvgPool2d((4, 3)), (2, 3, 8, 9)),
    ("AdaptiveAvgPool2d non-divisible", lambda lib: lib.nn.AdaptiveAvgPool2d((5, 4)), (2, 3, 8, 9)),
    ("AdaptiveAvgPool2d larger than the input", lambda lib: lib.nn.AdaptiveAvgPool2d((11, 3)), (2, 3, 8, 9)),
    ("AdaptiveAvgPool2d global", lambda lib: lib.nn.AdaptiveAvgPool2d(1), (2, 3, 8, 9)),
    ("AdaptiveAvgPool2d None", lambda lib: lib.nn.AdaptiveAvgPool2d((None, 4)), (3, 8, 9)),
    ("AdaptiveAvgPool1d", lambda lib: lib.nn.AdaptiveAvgPool1d(4), (2, 3, 11)),
    ("AdaptiveMaxPool2d divisible", lambda lib: lib.nn.AdaptiveMaxPool2d((4, 3), return_indices=True), (2, 3, 8, 9)),
    ("AdaptiveMaxPool2d non-divisible", lambda lib: lib.nn.AdaptiveMaxPool2d((5, 4), return_indices=True), (2, 3, 8, 9)),
    ("AdaptiveMaxPool2d larger than the input", lambda lib: lib.nn.AdaptiveMaxPool2d((11, 3), True), (2, 3, 8, 9)),
    ("AdaptiveMaxPool2d global, None", lambda lib: lib.nn.AdaptiveMaxPool2d((1, None)), (3, 8, 9)),
    ("AdaptiveMaxPool1d", lambda lib: lib.nn.AdaptiveMaxPool1d(4, True), (2, 3, 11)),
]


@pytest.mark.parametrize("name, make, shape", POOLS, ids=[p[0] for p in POOLS])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pooling_layers_match_torch(name, make, shape, dtype):
    torch = pytest.importorskip("torch")
    _compare(torch, make, RNG.standard_normal(shape).astype(dtype))


@pytest.mark.parametrize("call", [
    lambda lib, x: lib.nn.functional.max_pool2d(x, 3, 1, return_indices=True),
    lambda lib, x: lib.nn.functional.max_pool2d(x, 2, 1, 1, return_indices=True),
    lambda lib, x: lib.nn.functional.max_pool2d(x, (2, 3), 1, 0, (2, 1), ceil_mode=True, return_indices=True),
    lambda lib, x: lib.nn.functional.adaptive_max_pool2d(x, (3, 4), return_indices=True),
    lambda lib, x: lib.nn.functional.adaptive_max_pool2d(x, (7, 9), return_indices=True),
    lambda lib, x: lib.nn.functional.max_pool1d(x.flatten(2), 3, 2, return_indices=True),
])
def test_ties_send_the_gradient_to_the_first_maximum_in_scan_order(call):
    """Values drawn from {0, 1}: every window has ties; index and gradient follow PyTorch's CPU
    kernel (the first maximal element, row by row, wins)."""
    torch = pytest.importorskip("torch")
    x = RNG.integers(0, 2, (2, 3, 6, 7)).astype(np.float64)
    _compare(torch, lambda lib: lambda t: call(lib, t), x)
    _compare(torch, lambda lib: lambda t: call(lib, t), np.zeros((1, 2, 6, 7)))


@pytest.mark.parametrize("call", [
    lambda lib, x: lib.nn.functional.max_pool2d(x, 2, return_indices=True),
    lambda lib, x: lib.nn.functional.max_pool2d(x, 3, 1, 1, return_indices=True),
    lambda lib, x: lib.nn.functional.adaptive_max_pool2d(x, (2, 3), return_indices=True),
])
def test_nan_wins_and_the_last_nan_is_the_index(call):
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((1, 2, 4, 6))
    x[0, 0, 0, 0] = x[0, 0, 1, 1] = x[0, 1, 2, 3] = np.nan
    x[0, 1, 3, 5] = -np.inf
    ours_out, ours_index = call(tinytorch, ours(x))
    theirs_out, theirs_index = call(torch, theirs(torch, x))
    np.testing.assert_array_equal(numpy_of(ours_out), numpy_of(theirs_out))  # NaN in the same places
    np.testing.assert_array_equal(numpy_of(ours_index), numpy_of(theirs_index))


def test_padding_never_wins_even_against_minus_infinity():
    """All elements -inf: each window's index is its first element inside the image, as PyTorch's."""
    torch = pytest.importorskip("torch")
    x = np.full((1, 1, 3, 4), -np.inf)
    _, index = tinytorch.nn.functional.max_pool2d(ours(x), 3, 2, 1, return_indices=True)
    _, expected = torch.nn.functional.max_pool2d(theirs(torch, x), 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(numpy_of(index), numpy_of(expected))
    assert numpy_of(index).min() >= 0 and numpy_of(index).max() < 12


def test_integer_pooling_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.arange(-25, 25).reshape(2, 1, 5, 5)
    for call in (lambda lib, t: lib.nn.functional.max_pool2d(t, 2, 1, 1),
                 lambda lib, t: lib.nn.functional.avg_pool2d(t, 2),
                 lambda lib, t: lib.nn.functional.avg_pool2d(t, 3, 2, 1, divisor_override=4)):
        got, expected = call(tinytorch, tinytorch.tensor(x)), call(torch, torch.tensor(x))
        assert got.dtype == tinytorch.int64
        np.testing.assert_array_equal(numpy_of(got), numpy_of(expected))


def test_max_unpool_inverts_max_pool_like_torch():
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((2, 3, 9, 8))
    for dims, size in ((2, None), (2, (9, 8)), (2, [2, 3, 9, 8]), (1, None), (1, [11])):
        data = x if dims == 2 else x.reshape(2, 3, 72)[..., :10]
        results = []
        for lib, make in ((tinytorch, ours), (torch, lambda a, g=False: theirs(torch, a, g))):
            fn = lib.nn.functional
            pool = fn.max_pool2d if dims == 2 else fn.max_pool1d
            unpool = lib.nn.MaxUnpool2d(2) if dims == 2 else lib.nn.MaxUnpool1d(2)
            values, indices = pool(make(data), 2, return_indices=True)
            values = make(numpy_of(values), True)
            out = unpool(values, indices, output_size=size)
            weights = lib.tensor(np.arange(out.numel(), dtype=np.float64).reshape(tuple(out.shape)))
            (out * weights).sum().backward()
            results.append((out, values.grad))
        assert_close(results[0][0], results[1][0], atol=0, rtol=0)
        assert_close(results[0][1], results[1][1], atol=0, rtol=0)


def test_pooling_reprs_match_torch():
    torch = pytest.importorskip("torch")
    makers = [
        lambda lib: lib.nn.MaxPool1d(2), lambda lib: lib.nn.MaxPool2d(2),
        lambda lib: lib.nn.MaxPool2d((2, 3), stride=1, padding=1, dilation=2, return_indices=True, ceil_mode=True),
        lambda lib: lib.nn.AvgPool1d(2), lambda lib: lib.nn.AvgPool2d(2), lambda lib: lib.nn.AvgPool2d(3, 2, 1, True, False, 2),
        lambda lib: lib.nn.AdaptiveAvgPool1d(3), lambda lib: lib.nn.AdaptiveAvgPool2d((None, 3)),
        lambda lib: lib.nn.AdaptiveMaxPool1d(3), lambda lib: lib.nn.AdaptiveMaxPool2d(3, True),
        lambda lib: lib.nn.MaxUnpool1d(2), lambda lib: lib.nn.MaxUnpool2d(2), lambda lib: lib.nn.MaxUnpool2d((2, 3), 1, 1),
    ]
    for make in makers:
        module, reference = make(tinytorch), make(torch)
        assert repr(module) == repr(reference)
        assert list(module.state_dict()) == list(reference.state_dict()) == []
        assert {k: v for k, v in vars(module).items() if not k.startswith("_") and k != "training"} == {
            k: v for k, v in vars(reference).items() if not k.startswith("_") and k != "training"}


def test_adaptive_pools_keep_an_empty_output_size():
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((2, 3, 5, 4))
    for call in (lambda lib, t: lib.nn.functional.adaptive_avg_pool2d(t, 0),
                 lambda lib, t: lib.nn.functional.adaptive_max_pool2d(t, (0, 2))):
        assert tuple(call(tinytorch, ours(x)).shape) == tuple(call(torch, theirs(torch, x)).shape)


def _pool_errors(lib):
    fn, x = lib.nn.functional, lib.zeros(2, 3, 5, 5)
    return {
        "max kernel larger than the input": lambda: fn.max_pool2d(x, 6),
        "max padding above half the kernel": lambda: fn.max_pool2d(x, 2, padding=2),
        "max zero stride": lambda: fn.max_pool2d(x, 2, stride=0),
        "max negative stride": lambda: fn.max_pool2d(x, 2, stride=-1),
        "max zero kernel": lambda: fn.max_pool2d(x, 0),
        "max negative kernel": lambda: fn.max_pool2d(x, -1),
        "max zero dilation": lambda: fn.max_pool2d(x, 2, dilation=0),
        "max negative padding": lambda: fn.max_pool2d(x, 2, padding=-1),
        "max 2-D input": lambda: fn.max_pool2d(lib.zeros(5, 5), 2),
        "max 5-D input": lambda: fn.max_pool2d(lib.zeros(1, 2, 3, 5, 5), 2),
        "max empty channels": lambda: fn.max_pool2d(lib.zeros(2, 0, 5, 5), 2),
        "max kernel of 3 values": lambda: fn.max_pool2d(x, (2, 2, 2)),
        "max padding of 3 values": lambda: fn.max_pool2d(x, 2, padding=(1, 1, 1)),
        "max stride of 3 values": lambda: fn.max_pool2d(x, 2, stride=(1, 1, 1)),
        "max1d 1-D input": lambda: fn.max_pool1d(lib.zeros(5), 2),
        "max1d 4-D input": lambda: fn.max_pool1d(x, 2),
        "max1d kernel larger than the input": lambda: fn.max_pool1d(lib.zeros(2, 3, 5), 6),
        "max1d padding above half the kernel": lambda: fn.max_pool1d(lib.zeros(2, 3, 5), 2, padding=2),
        "max1d zero stride": lambda: fn.max_pool1d(lib.zeros(2, 3, 5), 2, 0),
        "max1d zero dilation": lambda: fn.max_pool1d(lib.zeros(2, 3, 5), 2, dilation=0),
        "max1d zero kernel": lambda: fn.max_pool1d(lib.zeros(2, 3, 5), 0),
        "max1d kernel of 2 values": lambda: fn.max_pool1d(lib.zeros(2, 3, 5), (2, 2)),
        "max1d with indices, 1-D input": lambda: fn.max_pool1d(lib.zeros(5), 2, return_indices=True),
        "avg kernel larger than the input": lambda: fn.avg_pool2d(x, 6),
        "avg padding above half the kernel": lambda: fn.avg_pool2d(x, 2, padding=2),
        "avg zero stride": lambda: fn.avg_pool2d(x, 2, stride=0),
        "avg zero divisor": lambda: fn.avg_pool2d(x, 2, divisor_override=0),
        "avg 2-D input": lambda: fn.avg_pool2d(lib.zeros(5, 5), 2),
        "avg empty height": lambda: fn.avg_pool2d(lib.zeros(2, 3, 0, 5), 2),
        "avg kernel of 3 values": lambda: fn.avg_pool2d(x, (2, 2, 2)),
        "avg1d kernel larger than the input": lambda: fn.avg_pool1d(lib.zeros(2, 3, 5), 6),
        "avg1d 1-D input": lambda: fn.avg_pool1d(lib.zeros(5), 2),
        "avg1d kernel of 2 values": lambda: fn.avg_pool1d(lib.zeros(2, 3, 5), (2, 2)),
        "adaptive avg negative size": lambda: fn.adaptive_avg_pool2d(x, -1),
        "adaptive avg 2-D input": lambda: fn.adaptive_avg_pool2d(lib.zeros(5, 5), 2),
        "adaptive avg empty height": lambda: fn.adaptive_avg_pool2d(lib.zeros(2, 3, 0, 5), 2),
        "adaptive avg size of 3 values": lambda: fn.adaptive_avg_pool2d(x, (2, 2, 2)),
        "adaptive avg1d size of 2 values": lambda: fn.adaptive_avg_pool1d(lib.zeros(2, 3, 5), (2, 2)),
        "adaptive avg1d negative size": lambda: fn.adaptive_avg_pool1d(lib.zeros(2, 3, 5), -1),
        "adaptive avg1d empty": lambda: fn.adaptive_avg_pool1d(lib.zeros(2, 3, 0), 2),
        "adaptive max negative size": lambda: fn.adaptive_max_pool2d(x, -2),
        "adaptive max 2-D input": lambda: fn.adaptive_max_pool2d(lib.zeros(5, 5), 2),
        "adaptive max empty height": lambda: fn.adaptive_max_pool2d(lib.zeros(2, 3, 0, 5), 2),
        "adaptive max1d 1-D input": lambda: fn.adaptive_max_pool1d(lib.zeros(5), 2),
        "adaptive max1d negative size": lambda: fn.adaptive_max_pool1d(lib.zeros(2, 3, 5), -1),
        "unpool index out of range": lambda: fn.max_unpool2d(lib.zeros(2, 3, 2, 2), lib.full((2, 3, 2, 2), 100, dtype=lib.long), 2),
        "unpool negative index": lambda: fn.max_unpool2d(lib.zeros(1, 1, 2, 2), lib.full((1, 1, 2, 2), -1, dtype=lib.long), 2),
        "unpool float indices": lambda: fn.max_unpool2d(lib.zeros(2, 3, 2, 2), lib.zeros(2, 3, 2, 2), 2),
        "unpool indices of another shape": lambda: fn.max_unpool2d(lib.zeros(2, 3, 2, 2), lib.zeros(2, 3, 2, 1, dtype=lib.long), 2),
        "unpool 2-D input": lambda: fn.max_unpool2d(lib.zeros(2, 2), lib.zeros(2, 2, dtype=lib.long), 2),
        "unpool output_size out of range": lambda: fn.max_unpool2d(lib.zeros(1, 1, 2, 2), lib.zeros(1, 1, 2, 2, dtype=lib.long), 2, output_size=(7, 7)),
        "unpool output_size of 1 value": lambda: fn.max_unpool2d(lib.zeros(1, 1, 2, 2), lib.zeros(1, 1, 2, 2, dtype=lib.long), 2, output_size=(4,)),
    }


@pytest.mark.parametrize("case", list(_pool_errors(tinytorch)))
def test_pooling_errors_match_torch(case):
    torch = pytest.importorskip("torch")
    assert_same_error(_pool_errors(tinytorch)[case], _pool_errors(torch)[case])
