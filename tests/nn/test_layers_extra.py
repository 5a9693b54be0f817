"""RMSNorm, LocalResponseNorm, CrossMapLRN2d, Bilinear, ChannelShuffle and EmbeddingBag against
torch: values and gradients in float32 and float64 on every device, gradcheck, PyTorch's errors,
the modules' reprs, parameters, state_dict keys and initialization."""

import math
import warnings

import numpy as np
import pytest

import tinytorch
from tinytorch.autograd import gradcheck, gradgradcheck
from tinytorch.nn import Bilinear, ChannelShuffle, CrossMapLRN2d, EmbeddingBag, LocalResponseNorm, RMSNorm
from tinytorch.nn import functional as F

from .helpers import assert_same_error, copy_module, numpy_of, raised

TOLERANCE = {"float32": dict(atol=2e-5, rtol=2e-4), "float64": dict(atol=1e-10, rtol=1e-8)}
RNG = np.random.default_rng(0)


def _inputs(torch, arrays, device, dtype_name, grad):
    """tinytorch tensors on ``device`` and torch CPU tensors of the same values; float arrays are
    cast to ``dtype_name`` and require grad when listed in ``grad``."""
    ours, theirs = [], []
    for i, a in enumerate(arrays):
        if isinstance(a, np.ndarray) and a.dtype.kind == "f":
            a = a.astype(dtype_name)
        needs = i in grad
        ours.append(tinytorch.tensor(a, device=device, requires_grad=needs) if isinstance(a, np.ndarray) else a)
        theirs.append(torch.tensor(a, requires_grad=needs) if isinstance(a, np.ndarray) else a)
    return ours, theirs


def _compare(torch, ours_fn, torch_fn, arrays, device, dtype_name, grad=(0,)):
    """Values, dtype, device and the gradients of the ``grad`` inputs agree with torch's."""
    ours, theirs = _inputs(torch, arrays, device, dtype_name, grad)
    out, expected = ours_fn(*ours), torch_fn(*theirs)
    tol = TOLERANCE[dtype_name]
    assert tuple(out.shape) == tuple(expected.shape)
    assert out.dtype.name == str(expected.dtype).replace("torch.", "")
    assert out.device.type == device
    np.testing.assert_allclose(numpy_of(out), numpy_of(expected), **tol)
    if not grad:
        return
    weights = RNG.standard_normal(tuple(expected.shape)).astype(dtype_name)
    (out * tinytorch.tensor(weights, device=device)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    for i in grad:
        assert ours[i].grad is not None, f"no gradient for input {i}"
        assert ours[i].grad.device.type == device
        np.testing.assert_allclose(numpy_of(ours[i].grad), numpy_of(theirs[i].grad), atol=tol["atol"] * 10, rtol=tol["rtol"] * 10)


def _float64(*shape, low=-2.0, high=2.0):
    return RNG.uniform(low, high, size=shape)


DTYPES = ["float32", "float64"]


# -- rms_norm / RMSNorm ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype_name", DTYPES)
@pytest.mark.parametrize("shape, normalized, affine, eps", [
    ((2, 3, 4), (4,), True, None), ((2, 3, 4), (3, 4), True, 1e-3), ((5,), [5], False, None), ((2, 3, 4), (2, 3, 4), False, 0.5),
])
def test_rms_norm_matches_torch(shape, normalized, affine, eps, dtype_name, device):
    torch = pytest.importorskip("torch")
    arrays = [_float64(*shape)] + ([_float64(*normalized)] if affine else [])
    grad = (0, 1) if affine else (0,)

    def call(lib):
        return lambda x, w=None: (F.rms_norm if lib is None else lib.nn.functional.rms_norm)(x, normalized, w, eps)

    _compare(torch, call(None), call(torch), arrays, device, dtype_name, grad)


def test_rms_norm_of_zeros_has_torch_gradient():
    torch = pytest.importorskip("torch")
    x, tx = tinytorch.zeros(2, 4, requires_grad=True), torch.zeros(2, 4, requires_grad=True)
    F.rms_norm(x, (4,)).sum().backward()
    torch.nn.functional.rms_norm(tx, (4,)).sum().backward()
    np.testing.assert_allclose(numpy_of(x.grad), numpy_of(tx.grad), rtol=1e-6)  # 1 / sqrt(float32 eps)


def test_rms_norm_half_computes_in_float32():
    torch = pytest.importorskip("torch")
    x = _float64(3, 4).astype(np.float16)
    out = F.rms_norm(tinytorch.tensor(x), (4,))
    expected = torch.nn.functional.rms_norm(torch.tensor(x), (4,))
    assert out.dtype == tinytorch.float16
    np.testing.assert_allclose(numpy_of(out).astype(np.float32), numpy_of(expected).astype(np.float32), atol=2e-3)


def test_rms_norm_gradcheck():
    x = tinytorch.tensor(_float64(2, 3, 4), requires_grad=True)
    w = tinytorch.tensor(_float64(3, 4), requires_grad=True)
    assert gradcheck(lambda x, w: F.rms_norm(x, (3, 4), w, 1e-3), (x, w))
    assert gradgradcheck(lambda x, w: F.rms_norm(x, (3, 4), w, 1e-3), (x, w))


@pytest.mark.parametrize("args", [
    ((2, 3, 4), 4, None), ((2, 3, 4), (3,), None), ((2, 3, 4), (1, 2, 3, 4), None), ((2, 3, 4), (), None),
    ((2, 3, 4), (4,), (3,)), ((2, 3, 4), (2, 4), None),
])
def test_rms_norm_errors_match_torch(args):
    torch = pytest.importorskip("torch")
    shape, normalized, weight = args

    def call(lib, fn):
        w = None if weight is None else lib.ones(*weight)
        return lambda: fn(lib.ones(*shape), normalized, w)

    assert_same_error(call(tinytorch, F.rms_norm), call(torch, torch.nn.functional.rms_norm))
    assert_same_error(lambda: F.rms_norm(tinytorch.ones(2, 4, dtype=tinytorch.int64), (4,)),
                      lambda: torch.nn.functional.rms_norm(torch.ones(2, 4, dtype=torch.int64), (4,)))


@pytest.mark.parametrize("kwargs", [dict(normalized_shape=4), dict(normalized_shape=[3, 4], eps=1e-5, elementwise_affine=False)])
def test_rms_norm_module_matches_torch(kwargs, device):
    torch = pytest.importorskip("torch")
    reference = torch.nn.RMSNorm(**kwargs)
    layer = RMSNorm(**kwargs, device=device)
    assert repr(layer) == repr(reference)
    assert list(layer.state_dict()) == list(reference.state_dict())
    for p, q in zip(layer.parameters(), reference.parameters()):
        assert tuple(p.shape) == tuple(q.shape) and p.device.type == device
        np.testing.assert_array_equal(numpy_of(p), numpy_of(q))  # ones
    x = _float64(2, 3, 4).astype(np.float32)
    with torch.no_grad():
        for p in reference.parameters():
            p.uniform_(0.5, 1.5)
    copy_module(reference, layer).to(device)
    np.testing.assert_allclose(numpy_of(layer(tinytorch.tensor(x, device=device))), numpy_of(reference(torch.tensor(x))), atol=1e-5)


# -- local response norms -------------------------------------------------------------------------
@pytest.mark.parametrize("dtype_name", DTYPES)
@pytest.mark.parametrize("shape, size", [((2, 7, 3), 3), ((2, 5, 3, 2), 2), ((1, 4, 2, 2, 3), 5), ((2, 3, 4), 9), ((2, 6, 2), 1)])
def test_local_response_norm_matches_torch(shape, size, dtype_name, device):
    torch = pytest.importorskip("torch")
    _compare(torch, lambda x: F.local_response_norm(x, size, alpha=0.3, beta=0.8, k=1.5),
             lambda x: torch.nn.functional.local_response_norm(x, size, alpha=0.3, beta=0.8, k=1.5),
             [_float64(*shape)], device, dtype_name)


def test_local_response_norm_gradcheck_and_edges():
    torch = pytest.importorskip("torch")
    x = tinytorch.tensor(_float64(2, 5, 3), requires_grad=True)
    assert gradcheck(lambda x: F.local_response_norm(x, 3, alpha=0.5), (x,))
    assert gradgradcheck(lambda x: F.local_response_norm(x, 3, alpha=0.5), (x,))
    empty = tinytorch.zeros(0, 4, 3)
    assert F.local_response_norm(empty, 2) is empty
    ints = np.arange(24).reshape(2, 4, 3)
    out, expected = F.local_response_norm(tinytorch.tensor(ints), 2), torch.nn.functional.local_response_norm(torch.tensor(ints), 2)
    assert out.dtype == tinytorch.float32
    np.testing.assert_allclose(numpy_of(out), numpy_of(expected), rtol=1e-5)


@pytest.mark.parametrize("shape, size", [((2, 5), 2), ((2, 3, 4), 0), ((2, 3, 4, 4), 0)])
def test_local_response_norm_errors_match_torch(shape, size):
    torch = pytest.importorskip("torch")
    assert_same_error(lambda: F.local_response_norm(tinytorch.ones(*shape), size),
                      lambda: torch.nn.functional.local_response_norm(torch.ones(*shape), size))


@pytest.mark.parametrize("dtype_name", DTYPES)
@pytest.mark.parametrize("channels", [1, 2, 3, 6, 8])
@pytest.mark.parametrize("size", [1, 2, 3, 4, 5])
def test_cross_map_lrn2d_forward_matches_torch(channels, size, dtype_name, device):
    """PyTorch's own window (channel 0 in every sum), so values agree for every size; the
    gradient is checked against finite differences below (PyTorch's backward is not its
    forward's gradient: its own gradcheck fails)."""
    torch = pytest.importorskip("torch")
    _compare(torch, CrossMapLRN2d(size, 0.5, 0.75, 1.2), torch.nn.CrossMapLRN2d(size, 0.5, 0.75, 1.2),
             [_float64(2, channels, 3, 2)], device, dtype_name, grad=())


@pytest.mark.parametrize("channels, size", [(1, 3), (4, 2), (6, 3), (7, 5)])
def test_cross_map_lrn2d_gradient_is_exact(channels, size):
    x = tinytorch.tensor(_float64(2, channels, 2, 3), requires_grad=True)
    assert gradcheck(CrossMapLRN2d(size, 0.5, 0.75, 1.0), (x,))
    assert gradgradcheck(CrossMapLRN2d(size, 0.5, 0.75, 1.0), (x,))


def test_lrn_modules_repr_and_errors():
    torch = pytest.importorskip("torch")
    for ours, theirs in ((LocalResponseNorm(2), torch.nn.LocalResponseNorm(2)),
                         (LocalResponseNorm(3, 1e-3, 0.5, 2.0), torch.nn.LocalResponseNorm(3, 1e-3, 0.5, 2.0)),
                         (CrossMapLRN2d(3, k=2), torch.nn.CrossMapLRN2d(3, k=2))):
        assert repr(ours) == repr(theirs)
        assert list(ours.state_dict()) == [] == list(theirs.state_dict())
    assert_same_error(lambda: CrossMapLRN2d(3)(tinytorch.ones(2, 3, 4)), lambda: torch.nn.CrossMapLRN2d(3)(torch.ones(2, 3, 4)))
    assert_same_error(lambda: CrossMapLRN2d(3)(tinytorch.ones(1, 3, 2, 2, dtype=tinytorch.int64)),
                      lambda: torch.nn.CrossMapLRN2d(3)(torch.ones(1, 3, 2, 2, dtype=torch.int64)))


# -- bilinear / Bilinear --------------------------------------------------------------------------
@pytest.mark.parametrize("dtype_name", DTYPES)
@pytest.mark.parametrize("batch, bias", [((4,), True), ((2, 5), False), ((), True), ((0,), True)])
def test_bilinear_matches_torch(batch, bias, dtype_name, device):
    torch = pytest.importorskip("torch")
    arrays = [_float64(*batch, 3), _float64(*batch, 4), _float64(6, 3, 4)] + ([_float64(6)] if bias else [])
    grad = (0, 1, 2, 3) if bias else (0, 1, 2)
    _compare(torch, F.bilinear, torch.nn.functional.bilinear, arrays, device, dtype_name, grad)


def test_bilinear_gradcheck_and_integers():
    torch = pytest.importorskip("torch")
    inputs = [tinytorch.tensor(_float64(*s), requires_grad=True) for s in ((3, 2), (3, 4), (5, 2, 4), (5,))]
    assert gradcheck(F.bilinear, tuple(inputs))
    assert gradgradcheck(F.bilinear, tuple(inputs))
    ints = [RNG.integers(-3, 3, size=s) for s in ((3, 2), (3, 4), (5, 2, 4), (5,))]
    out = F.bilinear(*(tinytorch.tensor(a) for a in ints))
    expected = torch.nn.functional.bilinear(*(torch.tensor(a) for a in ints))
    assert out.dtype == tinytorch.int64
    np.testing.assert_array_equal(numpy_of(out), numpy_of(expected))


@pytest.mark.parametrize("shapes", [
    ((2, 3), (3, 4), (5, 3, 4), (5,)), ((1, 3), (2, 4), (5, 3, 4), (5,)), ((2, 3), (1, 2, 4), (5, 3, 4), (5,)),
    ((2, 2), (2, 4), (5, 3, 4), (5,)), ((2, 3), (2, 5), (5, 3, 4), (5,)), ((2, 3), (2, 4), (3, 4), (5,)),
    ((2, 3), (2, 4), (5, 3, 4), (4,)), ((2, 3), (2, 4), (5, 3, 4), (1, 5)), ((), (), (5, 1, 1), (5,)),
])
def test_bilinear_errors_match_torch(shapes):
    torch = pytest.importorskip("torch")

    def call(lib, fn):
        return lambda: fn(*(lib.ones(s) for s in shapes))

    assert_same_error(call(tinytorch, F.bilinear), call(torch, torch.nn.functional.bilinear))
    for position in range(4):
        def mixed(lib, fn, position=position):
            tensors = [lib.ones(*s) for s in ((2, 3), (2, 4), (5, 3, 4), (5,))]
            tensors[position] = tensors[position].double()
            return lambda: fn(*tensors)
        assert_same_error(mixed(tinytorch, F.bilinear), mixed(torch, torch.nn.functional.bilinear))


def test_bilinear_module_matches_torch(device):
    torch = pytest.importorskip("torch")
    for bias in (True, False):
        reference = torch.nn.Bilinear(3, 4, 5, bias=bias)
        layer = Bilinear(3, 4, 5, bias=bias, device=device)
        assert repr(layer) == repr(reference)
        assert list(layer.state_dict()) == list(reference.state_dict())
        assert [tuple(p.shape) for p in layer.parameters()] == [tuple(p.shape) for p in reference.parameters()]
        copy_module(reference, layer).to(device)
        x1, x2 = _float64(2, 3).astype(np.float32), _float64(2, 4).astype(np.float32)
        out = layer(tinytorch.tensor(x1, device=device), tinytorch.tensor(x2, device=device))
        np.testing.assert_allclose(numpy_of(out), numpy_of(reference(torch.tensor(x1), torch.tensor(x2))), atol=1e-5)
    assert_same_error(lambda: Bilinear(0, 4, 5), lambda: torch.nn.Bilinear(0, 4, 5))


def test_bilinear_init_is_uniform_in_one_over_sqrt_in1():
    layer = Bilinear(16, 30, 40)
    bound = 1 / math.sqrt(16)
    for p in (layer.weight, layer.bias):
        values = numpy_of(p)
        assert values.min() >= -bound and values.max() <= bound
    weights = numpy_of(layer.weight).ravel()  # U(-b, b): mean 0, variance b^2 / 3
    assert abs(weights.mean()) < 0.02 and abs(weights.var() - bound**2 / 3) < 0.005


# -- channel_shuffle / ChannelShuffle -------------------------------------------------------------
@pytest.mark.parametrize("dtype_name", DTYPES)
@pytest.mark.parametrize("shape, groups", [((1, 6, 2, 2), 3), ((2, 6, 3), 2), ((2, 4, 3, 1, 2), 4), ((0, 6, 2), 3), ((2, 5, 2), 1)])
def test_channel_shuffle_matches_torch(shape, groups, dtype_name, device):
    torch = pytest.importorskip("torch")
    _compare(torch, lambda x: F.channel_shuffle(x, groups), lambda x: torch.nn.functional.channel_shuffle(x, groups),
             [_float64(*shape)], device, dtype_name)
    _compare(torch, lambda x: F.native_channel_shuffle(x, groups), lambda x: torch.nn.functional.native_channel_shuffle(x, groups),
             [_float64(*shape)], device, dtype_name, grad=())  # PyTorch's native kernel has no derivative; ours does


@pytest.mark.parametrize("shape, groups", [((6,), 3), ((2, 6), 3), ((1, 6, 2, 2), 4), ((1, 6, 2), 0), ((1, 6, 2), -2), ((1, 6, 2), 2.0)])
def test_channel_shuffle_errors_match_torch(shape, groups):
    torch = pytest.importorskip("torch")
    assert_same_error(lambda: F.channel_shuffle(tinytorch.ones(*shape), groups),
                      lambda: torch.nn.functional.channel_shuffle(torch.ones(*shape), groups))


def test_channel_shuffle_module_and_integers():
    torch = pytest.importorskip("torch")
    assert repr(ChannelShuffle(3)) == repr(torch.nn.ChannelShuffle(3))
    x = np.arange(24).reshape(1, 6, 2, 2)
    out = ChannelShuffle(2)(tinytorch.tensor(x))
    assert out.dtype == tinytorch.int64
    np.testing.assert_array_equal(numpy_of(out), numpy_of(torch.nn.ChannelShuffle(2)(torch.tensor(x))))
    assert gradgradcheck(lambda x: F.channel_shuffle(x, 2) * x, (tinytorch.tensor(_float64(2, 4, 3), requires_grad=True),))


# -- embedding_bag / EmbeddingBag -----------------------------------------------------------------
INDICES = np.array([1, 2, 4, 5, 4, 3, 2, 9, 2, 2])
BAGS = [(0, 4), (0, 0, 4, 10), (0, 3, 3, 7), (0,), (0, 10)]


@pytest.mark.parametrize("dtype_name", DTYPES)
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("offsets", BAGS)
@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding_bag_matches_torch(mode, offsets, padding_idx, dtype_name, device):
    torch = pytest.importorskip("torch")
    arrays = [INDICES, _float64(10, 3), np.array(offsets)]

    def call(fn):
        return lambda i, w, o: fn(i, w, o, mode=mode, padding_idx=padding_idx)

    _compare(torch, call(F.embedding_bag), call(torch.nn.functional.embedding_bag), arrays, device, dtype_name, grad=(1,))


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("offsets", [(0, 4, 10), (0, 3, 3, 10), (0, 10)])
def test_embedding_bag_include_last_offset_matches_torch(mode, offsets, device):
    torch = pytest.importorskip("torch")
    arrays = [INDICES, _float64(10, 3), np.array(offsets)]

    def call(fn):
        return lambda i, w, o: fn(i, w, o, mode=mode, include_last_offset=True)

    for dtype_name in DTYPES:
        _compare(torch, call(F.embedding_bag), call(torch.nn.functional.embedding_bag), arrays, device, dtype_name, grad=(1,))


def test_embedding_bag_last_offset_ends_the_last_bag(device):
    """As documented (and as PyTorch's float32 sum and max kernels do): entries past the last
    offset belong to no bag. (PyTorch's float64 kernels run the last bag to the end of the input;
    its float32 mean divides by the count up to the end; its backward reads uninitialized memory
    for the dropped entries, and its float32 max differs from its float64 max: the sum against
    PyTorch's, the mean and max against NumPy, gradients by finite differences.)"""
    torch = pytest.importorskip("torch")
    for offsets in ((0, 4), (0, 3, 3, 7), (0, 1)):
        arrays = [INDICES, _float64(10, 3), np.array(offsets)]
        _compare(torch, lambda i, w, o: F.embedding_bag(i, w, o, mode="sum", include_last_offset=True),
                 lambda i, w, o: torch.nn.functional.embedding_bag(i, w, o, mode="sum", include_last_offset=True),
                 arrays, device, "float32", grad=())
        index, weight, starts = (tinytorch.tensor(a, device=device) for a in arrays)
        largest = F.embedding_bag(index, weight, starts, mode="max", include_last_offset=True)
        expected = [arrays[1][INDICES[a:b]].max(0) if b > a else np.zeros(3) for a, b in zip(offsets[:-1], offsets[1:])]
        np.testing.assert_allclose(numpy_of(largest), np.array(expected).reshape(-1, 3), rtol=1e-12)
        mean = F.embedding_bag(index, weight, starts, mode="mean", include_last_offset=True)
        total = F.embedding_bag(index, weight, starts, mode="sum", include_last_offset=True)
        lengths = np.maximum(np.diff(offsets), 1)[:, None]
        np.testing.assert_allclose(numpy_of(mean), numpy_of(total) / lengths, rtol=1e-12)
        for mode in ("sum", "mean", "max"):
            weight = tinytorch.tensor(arrays[1], device=device, requires_grad=True)
            assert gradcheck(lambda w, i=index, o=starts, mode=mode: F.embedding_bag(i, w, o, mode=mode, include_last_offset=True), (weight,))


@pytest.mark.parametrize("dtype_name", DTYPES)
def test_embedding_bag_per_sample_weights_and_2d_input(dtype_name, device):
    torch = pytest.importorskip("torch")
    arrays = [INDICES, _float64(10, 3), np.array([0, 3, 3, 7]), _float64(10)]

    def weighted(fn):
        return lambda i, w, o, s: fn(i, w, o, mode="sum", per_sample_weights=s, padding_idx=4)

    _compare(torch, weighted(F.embedding_bag), weighted(torch.nn.functional.embedding_bag), arrays, device, dtype_name, grad=(1, 3))
    for mode in ("sum", "mean", "max"):
        def rows(fn, mode=mode):
            return lambda i, w: fn(i, w, mode=mode, padding_idx=0)
        _compare(torch, rows(F.embedding_bag), rows(torch.nn.functional.embedding_bag),
                 [np.array([[1, 2, 3], [4, 4, 0], [0, 0, 0]], dtype=np.int32), _float64(10, 3)], device, dtype_name, grad=(1,))
    weights = [np.array([[1, 2]]), _float64(4, 3), _float64(1, 2)]
    _compare(torch, lambda i, w, s: F.embedding_bag(i, w, mode="sum", per_sample_weights=s),
             lambda i, w, s: torch.nn.functional.embedding_bag(i, w, mode="sum", per_sample_weights=s),
             weights, device, dtype_name, grad=(1, 2))


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_empty_input(mode, device):
    torch = pytest.importorskip("torch")
    _compare(torch, lambda i, w, o: F.embedding_bag(i, w, o, mode=mode),
             lambda i, w, o: torch.nn.functional.embedding_bag(i, w, o, mode=mode),
             [np.zeros(0, dtype=np.int64), _float64(4, 3), np.array([0, 0])], device, "float64", grad=(1,))
    # no offsets, no bags: (0, 3), as PyTorch's mode='mean' gives (its other kernels crash the process here)
    out = F.embedding_bag(tinytorch.tensor([1, 2], device=device), tinytorch.ones(4, 3, device=device),
                           tinytorch.zeros(0, dtype=tinytorch.int64, device=device), mode=mode)
    assert tuple(out.shape) == (0, 3) and out.dtype == tinytorch.float32


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_gradcheck(mode):
    weight = tinytorch.tensor(_float64(6, 3), requires_grad=True)
    index, offsets = tinytorch.tensor([1, 2, 4, 5, 4, 0, 2]), tinytorch.tensor([0, 3, 3, 5])
    assert gradcheck(lambda w: F.embedding_bag(index, w, offsets, mode=mode, padding_idx=4), (weight,))
    assert gradgradcheck(lambda w: F.embedding_bag(index, w, offsets, mode=mode, padding_idx=4) ** 2, (weight,))
    samples = tinytorch.tensor(_float64(7), requires_grad=True)
    if mode == "sum":
        assert gradcheck(lambda w, s: F.embedding_bag(index, w, offsets, mode=mode, per_sample_weights=s), (weight, samples))


def test_embedding_bag_max_norm_renormalizes_like_torch():
    torch = pytest.importorskip("torch")
    values = _float64(10, 3)
    ours, theirs = tinytorch.tensor(values), torch.tensor(values)
    out = F.embedding_bag(tinytorch.tensor(INDICES), ours, tinytorch.tensor([0, 4]), max_norm=0.5, norm_type=1.5)
    expected = torch.nn.functional.embedding_bag(torch.tensor(INDICES), theirs, torch.tensor([0, 4]), max_norm=0.5, norm_type=1.5)
    np.testing.assert_allclose(numpy_of(out), numpy_of(expected), rtol=1e-6)
    np.testing.assert_allclose(numpy_of(ours), numpy_of(theirs), rtol=1e-6)


def _bag_call(lib, fn, index=(1, 2, 3), weight=(10, 3), offsets=(0, 1), **kwargs):
    def call():
        i = index if not isinstance(index, tuple) else lib.tensor(list(index))
        o = offsets if not isinstance(offsets, tuple) else lib.tensor(list(offsets), dtype=lib.int64)
        w = lib.ones(*weight) if isinstance(weight, tuple) else weight
        return fn(i, w, o, **kwargs)
    return call


# PyTorch's messages for these name the wrong position, or end in a stray "[ torch.LongTensor{} ]":
# the same exception type, and the words of ours.
LOOSE = {
    "offsets (1, 2)": "offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from position 0. However, got 1",
    "index (1, 2, 30)": "Index 2 of input takes value 30 which is not in the valid range [0, 10)",
    "index (1, 2, -1)": "Index 2 of input takes value -1 which is not in the valid range [0, 10)",
}


@pytest.mark.parametrize("case", [
    dict(offsets=(1, 2)), dict(offsets=(0, 5)), dict(offsets=(0, 4, 4), include_last_offset=True), dict(index=(1, 2, 30)),
    dict(index=(1, 2, -1)), dict(offsets=(), include_last_offset=True), dict(mode="min"), dict(mode="max", scale_grad_by_freq=True),
    dict(mode="max", sparse=True), dict(padding_idx=10), dict(padding_idx=-11), dict(weight=(10,)), dict(offsets=(0, -1)),
    dict(per_sample_weights="mean"), dict(per_sample_weights="shape"), dict(per_sample_weights="dtype"),
    dict(index="float"), dict(index="short", offsets="short"), dict(weight="long"), dict(offsets=None), dict(offsets="2d"), dict(index="3d"),
    dict(index="2d"), dict(index="2d", offsets=None, padding_idx=12), dict(index="2d empty", offsets=None),
    dict(index="float", padding_idx=20),
], ids=str)
def test_embedding_bag_errors_match_torch(case):
    torch = pytest.importorskip("torch")

    def build(lib):
        kwargs = dict(case)
        samples = kwargs.pop("per_sample_weights", None)
        if samples == "mean":
            kwargs["per_sample_weights"] = lib.ones(3)
        elif samples == "shape":
            kwargs.update(per_sample_weights=lib.ones(2), mode="sum")
        elif samples == "dtype":
            kwargs.update(per_sample_weights=lib.ones(3, dtype=lib.float64), mode="sum")
        special = {"float": lib.tensor([1.0, 2.0]), "short": lib.tensor([1, 2], dtype=lib.int16), "3d": lib.ones(1, 1, 2, dtype=lib.int64),
                   "2d": lib.ones(2, 2, dtype=lib.int64), "2d empty": lib.ones(3, 0, dtype=lib.int64), "long": lib.ones(10, 3, dtype=lib.int64)}
        for key in ("index", "weight"):
            if isinstance(kwargs.get(key), str):
                kwargs[key] = special[kwargs[key]]
        if kwargs.get("offsets") == "2d":
            kwargs["offsets"] = lib.zeros(1, 2, dtype=lib.int64)
        if kwargs.get("offsets") == "short":
            kwargs["offsets"] = lib.tensor([0, 1], dtype=lib.int16)
        return kwargs

    ours = _bag_call(tinytorch, F.embedding_bag, **build(tinytorch))
    theirs = _bag_call(torch, torch.nn.functional.embedding_bag, **build(torch))
    key = " ".join(f"{k} {v}" for k, v in case.items())
    if key in LOOSE:
        (our_type, our_message), (their_type, _) = raised(ours), raised(theirs)
        assert our_type == their_type and our_message == LOOSE[key]
    else:
        assert_same_error(ours, theirs)


def test_embedding_bag_refuses_before_renormalizing():
    weight = tinytorch.tensor(_float64(10, 3))
    before = numpy_of(weight).copy()
    with pytest.raises(RuntimeError, match="not in the valid range"):
        F.embedding_bag(tinytorch.tensor([1, 30]), weight, tinytorch.tensor([0]), max_norm=0.1)
    np.testing.assert_array_equal(numpy_of(weight), before)


def test_embedding_bag_legacy_argument_order_warns_and_swaps():
    weight = tinytorch.tensor(_float64(10, 3))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = F.embedding_bag(weight, tinytorch.tensor([1, 2]), tinytorch.tensor([0]))
    assert any("Argument order of nn.functional.embedding_bag was changed" in str(w.message) for w in caught)
    np.testing.assert_allclose(numpy_of(out), numpy_of(F.embedding_bag(tinytorch.tensor([1, 2]), weight, tinytorch.tensor([0]))))


@pytest.mark.parametrize("kwargs", [dict(), dict(mode="sum", padding_idx=2), dict(mode="max", max_norm=1.0, norm_type=1.0),
                                    dict(padding_idx=-1, include_last_offset=True, scale_grad_by_freq=True)])
def test_embedding_bag_module_matches_torch(kwargs, device):
    torch = pytest.importorskip("torch")
    reference = torch.nn.EmbeddingBag(10, 3, **kwargs)
    layer = EmbeddingBag(10, 3, **kwargs, device=device)
    assert repr(layer) == repr(reference)
    assert list(layer.state_dict()) == list(reference.state_dict())
    assert layer.weight.shape == reference.weight.shape and layer.weight.device.type == device
    assert layer.padding_idx == reference.padding_idx
    if layer.padding_idx is not None:
        assert not numpy_of(layer.weight)[layer.padding_idx].any()
    if kwargs.get("scale_grad_by_freq"):
        return
    copy_module(reference, layer).to(device)
    out = layer(tinytorch.tensor(INDICES, device=device), tinytorch.tensor([0, 4, 10], device=device))
    np.testing.assert_allclose(numpy_of(out), numpy_of(reference(torch.tensor(INDICES), torch.tensor([0, 4, 10]))), rtol=1e-5, atol=1e-6)


def test_embedding_bag_module_init_and_from_pretrained():
    torch = pytest.importorskip("torch")
    values = numpy_of(EmbeddingBag(200, 50).weight).ravel()  # N(0, 1)
    assert abs(values.mean()) < 0.03 and abs(values.std() - 1) < 0.03
    pretrained = _float64(4, 3)
    ours = EmbeddingBag.from_pretrained(tinytorch.tensor(pretrained), mode="sum", padding_idx=1)
    theirs = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(pretrained), mode="sum", padding_idx=1)
    assert repr(ours) == repr(theirs) and ours.weight.requires_grad is False
    assert EmbeddingBag.from_pretrained(tinytorch.tensor(pretrained), freeze=False).weight.requires_grad is True
    np.testing.assert_allclose(numpy_of(ours(tinytorch.tensor([[1, 2], [0, 3]]))), numpy_of(theirs(torch.tensor([[1, 2], [0, 3]]))))
    assert_same_error(lambda: EmbeddingBag(5, 2, padding_idx=5), lambda: torch.nn.EmbeddingBag(5, 2, padding_idx=5))
    assert_same_error(lambda: EmbeddingBag(5, 2, _weight=tinytorch.ones(4, 2)), lambda: torch.nn.EmbeddingBag(5, 2, _weight=torch.ones(4, 2)))
    assert_same_error(lambda: EmbeddingBag.from_pretrained(tinytorch.ones(4)), lambda: torch.nn.EmbeddingBag.from_pretrained(torch.ones(4)))
