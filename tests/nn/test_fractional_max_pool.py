"""fractional_max_pool2d/3d (and their ``_with_indices`` forms) and FractionalMaxPool2d/3d against
torch: with the same ``_random_samples`` the values and indices are torch's exactly and the
gradients match (overlapping windows add up); without them the samples come from tinytorch's
generator; PyTorch's errors, in its order, for bad arguments."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinytorch
from tinytorch import nn
from tinytorch.nn import functional as F

from .helpers import assert_close, numpy_of, raised

torch = pytest.importorskip("torch")

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _distinct(rng, shape, dtype):
    """Values 0.1 apart: no ties, so the argmax (and the gradient) is one element."""
    count = int(np.prod(shape))
    return (rng.permutation(count) * 0.1 - count * 0.05).reshape(shape).astype(dtype)


def _pool(lib, dims, indices=False):
    name = f"fractional_max_pool{dims}d" + ("_with_indices" if indices else "")
    return getattr(lib.nn.functional, name)


def _run_both(dims, x, samples, device, with_indices=False, **kwargs):
    """(ours, torch's): (output, indices) of the same pooling, and each input's gradient for one
    set of output weights."""
    a = tinytorch.tensor(x, device=device, requires_grad=True)
    ta = torch.tensor(x, requires_grad=True)
    ours = _pool(tinytorch, dims, with_indices)(a, _random_samples=tinytorch.tensor(samples, device=device), **kwargs)
    theirs = _pool(torch, dims, with_indices)(ta, _random_samples=torch.tensor(samples), **kwargs)
    weights = np.random.default_rng(1).standard_normal(tuple(theirs[0].shape)).astype(x.dtype)
    (ours[0] * tinytorch.tensor(weights, device=device)).sum().backward()
    (theirs[0] * torch.tensor(weights)).sum().backward()
    return (ours, a.grad), (theirs, ta.grad)


def _assert_same(ours, theirs, device):
    (out, grad), (expected, expected_grad) = ours, theirs
    assert len(out) == len(expected) == 2
    values, indices = out
    assert values.device.type == device and indices.device.type == device
    assert values.dtype.name == str(expected[0].dtype).replace("torch.", "")
    assert indices.dtype == tinytorch.int64
    np.testing.assert_array_equal(numpy_of(values), numpy_of(expected[0]))
    np.testing.assert_array_equal(numpy_of(indices), numpy_of(expected[1]))
    assert_close(grad, expected_grad, atol=1e-6, rtol=1e-6)


@st.composite
def _cases(draw):
    """dims, input shape, kernel (an int or a tuple), output_size or output_ratio (one number or
    one per dim), samples' batch (up to one more than the input's), dtype."""
    dims = draw(st.sampled_from([2, 3]))
    strict = dims == 3  # the 3-D op wants every window to end before the image's edge
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    if draw(st.booleans()):
        kernel = (kernel[0],) * dims
    image = tuple(k + strict + draw(st.integers(0, 5 if dims == 2 else 3)) for k in kernel)
    out = tuple(draw(st.integers(1, s - k + 1 - strict)) for s, k in zip(image, kernel))
    kwargs = {"kernel_size": kernel[0] if len(set(kernel)) == 1 and draw(st.booleans()) else kernel}
    form = draw(st.sampled_from(["size", "ratio"]))
    if form == "size":
        kwargs["output_size"] = out
    else:  # a ratio that int(size * ratio) turns into ``out``
        kwargs["output_ratio"] = tuple((o + 0.5) / s for o, s in zip(out, image))
    batch = draw(st.sampled_from([(), (1,), (3,)]))
    channels = draw(st.integers(1, 3))
    sample_batch = (batch[0] if batch else 1) + draw(st.integers(0, 1))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    return dims, batch + (channels,) + image, kwargs, sample_batch, dtype


@SETTINGS
@given(case=_cases(), seed=st.integers(0, 2**32 - 1), with_indices=st.booleans())
def test_matches_torch_for_the_same_samples(device, case, seed, with_indices):
    """Output, indices (flat per plane) and gradient equal torch's for hypothesis-drawn shapes,
    kernels, output sizes and ratios, 2-D and 3-D, batched and unbatched, float32 and float64."""
    dims, shape, kwargs, sample_batch, dtype = case
    rng = np.random.default_rng(seed)
    x = _distinct(rng, shape, dtype)
    samples = rng.uniform(0, 1, size=(sample_batch, shape[-dims - 1], dims)).astype(dtype)
    if not with_indices:
        kwargs = dict(kwargs, return_indices=True)
    ours, theirs = _run_both(dims, x, samples, device, with_indices, **kwargs)
    _assert_same(ours, theirs, device)


@pytest.mark.parametrize("dims", [2, 3])
def test_return_indices_false_gives_the_values_alone(device, dims):
    rng = np.random.default_rng(0)
    x = _distinct(rng, (2, 3) + (7,) * dims, np.float64)
    samples = rng.uniform(size=(2, 3, dims))
    out = _pool(tinytorch, dims)(tinytorch.tensor(x, device=device), 2, output_size=3,
                                 _random_samples=tinytorch.tensor(samples, device=device))
    expected = _pool(torch, dims)(torch.tensor(x), 2, output_size=3, _random_samples=torch.tensor(samples))
    assert isinstance(out, tinytorch.Tensor)
    np.testing.assert_array_equal(numpy_of(out), numpy_of(expected))


@pytest.mark.parametrize("dims", [2, 3])
def test_overlapping_windows_add_their_gradients(device, dims):
    """Three overlapping windows (2-D: 3 wide at 0, 1, 2 of 5; 3-D, which keeps each window off the
    last element: 4 wide at 0, 2, 3 of 7) all hold the global maximum: it gets every window's gradient."""
    strict = dims == 3
    x = np.zeros((1, 1) + (1 + strict,) * (dims - 1) + (7 if strict else 5,), dtype=np.float64)
    at = (0, 0) + (int(strict),) * (dims - 1) + (3 if strict else 2,)  # one window of 1 at the end of T, H
    x[at] = 1.0
    kernel = (1,) * (dims - 1) + (3 + strict,)
    out = (1,) * (dims - 1) + (3,)
    samples = np.full((1, 1, dims), 0.5)
    ours, theirs = _run_both(dims, x, samples, device, True, kernel_size=kernel, output_size=out)
    _assert_same(ours, theirs, device)
    a = tinytorch.tensor(x, device=device, requires_grad=True)
    _pool(tinytorch, dims)(a, kernel, output_size=out, _random_samples=tinytorch.tensor(samples, device=device)).sum().backward()
    assert numpy_of(a.grad)[at] == 3.0
    assert numpy_of(a.grad).sum() == 3.0


def test_nan_and_empty_kernel_as_torch(device):
    """A NaN wins its window (the last NaN, as PyTorch's loop); a kernel of 0 gives -inf at each
    window's start."""
    rng = np.random.default_rng(2)
    x = _distinct(rng, (2, 2, 6, 7), np.float32)
    x[0, 0, 1, 1] = x[0, 0, 1, 2] = x[1, 1, 4, 5] = np.nan
    samples = rng.uniform(size=(2, 2, 2)).astype(np.float32)
    ours, theirs = _run_both(2, x, samples, device, True, kernel_size=(2, 3), output_size=(3, 4))
    (out, _), (expected, _) = ours, theirs
    np.testing.assert_array_equal(numpy_of(out[0]), numpy_of(expected[0]))
    np.testing.assert_array_equal(numpy_of(out[1]), numpy_of(expected[1]))
    assert np.isnan(numpy_of(out[0])).any()
    got = F.fractional_max_pool2d(tinytorch.tensor(x, device=device), 0, output_size=3, return_indices=True,
                                  _random_samples=tinytorch.tensor(samples, device=device))
    want = torch.nn.functional.fractional_max_pool2d(torch.tensor(x), 0, output_size=3, return_indices=True,
                                                     _random_samples=torch.tensor(samples))
    np.testing.assert_array_equal(numpy_of(got[0]), numpy_of(want[0]))
    np.testing.assert_array_equal(numpy_of(got[1]), numpy_of(want[1]))


@pytest.mark.parametrize("dims,shape,kwargs", [
    (2, (2, 3, 9, 8), {"kernel_size": 2, "output_size": (4, 5)}),
    (2, (3, 9, 8), {"kernel_size": (3, 2), "output_ratio": (0.5, 0.4)}),
    (3, (2, 2, 7, 6, 8), {"kernel_size": 2, "output_ratio": (0.5, 0.5, 0.6)}),
    (3, (2, 7, 6, 8), {"kernel_size": (2, 1, 3), "output_size": 3}),
])
def test_samples_are_drawn_from_tinytorchs_generator(device, dims, shape, kwargs):
    """Without _random_samples: the right shape, and exactly the pooling torch gives for the
    samples tinytorch.rand draws (N or 1, C, dims) in the input's dtype; the layer draws anew on
    each call."""
    x = _distinct(np.random.default_rng(3), shape, np.float32)
    a = tinytorch.tensor(x, device=device)
    batch = shape[0] if len(shape) == dims + 2 else 1
    tinytorch.manual_seed(7)
    samples = tinytorch.rand(batch, shape[-dims - 1], dims, dtype=a.dtype, device=device)
    tinytorch.manual_seed(7)
    out, indices = _pool(tinytorch, dims)(a, return_indices=True, **kwargs)
    expected = _pool(torch, dims)(torch.tensor(x), return_indices=True, _random_samples=torch.tensor(numpy_of(samples)),
                                  **kwargs)
    assert out.shape == tuple(expected[0].shape)
    np.testing.assert_array_equal(numpy_of(out), numpy_of(expected[0]))
    np.testing.assert_array_equal(numpy_of(indices), numpy_of(expected[1]))
    # Each output is its plane's element at the index: the max of a window of the kernel's size.
    planes = numpy_of(a).reshape(shape[: -dims] + (-1,))
    np.testing.assert_array_equal(np.take_along_axis(planes, numpy_of(indices).reshape(planes.shape[:-1] + (-1,)), -1),
                                  numpy_of(out).reshape(planes.shape[:-1] + (-1,)))
    # The layer draws on every call: its second call pools with the generator's second draw.
    layer = (nn.FractionalMaxPool2d if dims == 2 else nn.FractionalMaxPool3d)(**kwargs)
    tinytorch.manual_seed(8)
    tinytorch.rand(batch, shape[-dims - 1], dims, dtype=a.dtype, device=device)
    second_samples = tinytorch.rand(batch, shape[-dims - 1], dims, dtype=a.dtype, device=device)
    tinytorch.manual_seed(8)
    layer(a)
    second = layer(a)
    expected = _pool(torch, dims)(torch.tensor(x), _random_samples=torch.tensor(numpy_of(second_samples)), **kwargs)
    np.testing.assert_array_equal(numpy_of(second), numpy_of(expected))


@pytest.mark.parametrize("dims", [2, 3])
def test_layers_match_torch(device, dims):
    rng = np.random.default_rng(4)
    x = _distinct(rng, (2, 3) + (8,) * dims, np.float64)
    samples = rng.uniform(size=(2, 3, dims))
    ours_cls, theirs_cls = (getattr(lib.nn, f"FractionalMaxPool{dims}d") for lib in (tinytorch, torch))
    layer = ours_cls(3, output_ratio=0.5, return_indices=True, _random_samples=tinytorch.tensor(samples)).to(device)
    expected_layer = theirs_cls(3, output_ratio=0.5, return_indices=True, _random_samples=torch.tensor(samples))
    assert layer.kernel_size == expected_layer.kernel_size and layer.output_ratio == expected_layer.output_ratio
    assert layer.output_size is None and list(layer.state_dict()) == list(expected_layer.state_dict()) == ["_random_samples"]
    assert repr(layer) == repr(expected_layer) == f"FractionalMaxPool{dims}d()"
    out, indices = layer(tinytorch.tensor(x, device=device))
    want, want_indices = expected_layer(torch.tensor(x))
    np.testing.assert_array_equal(numpy_of(out), numpy_of(want))
    np.testing.assert_array_equal(numpy_of(indices), numpy_of(want_indices))
    plain = ours_cls(2, output_size=4)
    assert plain.output_size == (4,) * dims and plain.output_ratio is None and list(plain.state_dict()) == []


def _same_error(call):
    assert raised(lambda: call(tinytorch)) == raised(lambda: call(torch))


def _x(lib, *shape, dtype="float32"):
    return lib.tensor(np.arange(np.prod(shape), dtype=dtype).reshape(shape))


def _s(lib, *shape, dtype="float32"):
    return lib.tensor(np.full(shape, 0.5, dtype=dtype))


BAD_CALLS = {
    "no size, no ratio": lambda lib: lib.nn.functional.fractional_max_pool2d(_x(lib, 1, 2, 6, 6), 2),
    "3-d: no size, no ratio": lambda lib: lib.nn.functional.fractional_max_pool3d(_x(lib, 1, 2, 6, 6, 6), 2),
    "ratio a float": lambda lib: lib.nn.functional.fractional_max_pool2d(_x(lib, 1, 2, 6, 6), 2, output_ratio=0.5),
    "ratio of three": lambda lib: lib.nn.functional.fractional_max_pool2d(_x(lib, 1, 2, 6, 6), 2, output_ratio=(0.5,) * 3),
    "ratio of one": lambda lib: lib.nn.functional.fractional_max_pool2d(_x(lib, 1, 2, 6, 6), 2, output_ratio=(0.5,)),
    "ratio above 1": lambda lib: lib.nn.functional.fractional_max_pool2d(_x(lib, 1, 2, 6, 6), 2, output_ratio=(1.5, 0.5)),
    "kernel of three": lambda lib: lib.nn.functional.fractional_max_pool2d(_x(lib, 1, 2, 6, 6), (2, 2, 2), output_size=3),
    "output of one": lambda lib: lib.nn.functional.fractional_max_pool2d(_x(lib, 1, 2, 6, 6), 2, output_size=(3,)),
    "3-d kernel pair": lambda lib: lib.nn.functional.fractional_max_pool3d(_x(lib, 1, 2, 6, 6, 6), (2, 2), output_size=3),
    "3-d output pair": lambda lib: lib.nn.functional.fractional_max_pool3d(_x(lib, 1, 2, 6, 6, 6), 2, output_size=(3, 3)),
    "2-d input": lambda lib: lib.nn.functional.fractional_max_pool2d(_x(lib, 6, 6), 2, output_size=3),
    "5-d input": lambda lib: lib.nn.functional.fractional_max_pool2d(_x(lib, 1, 1, 2, 6, 6), 2, output_size=3),
    "3-d: 6-d input": lambda lib: lib.nn.functional.fractional_max_pool3d(_x(lib, 1, 1, 1, 2, 6, 6), 2, output_size=3),
    "empty channels": lambda lib: lib.nn.functional.fractional_max_pool2d(_x(lib, 2, 0, 6, 6), 2, output_size=3),
    "3-d empty width": lambda lib: lib.nn.functional.fractional_max_pool3d(_x(lib, 2, 2, 6, 6, 0), 2, output_size=3),
    "too tall": lambda lib: lib.nn.functional.fractional_max_pool2d(_x(lib, 1, 2, 6, 6), 3, output_size=(5, 2)),
    "too wide": lambda lib: lib.nn.functional.fractional_max_pool2d(_x(lib, 1, 2, 6, 6), 3, output_size=(2, 5)),
    "3-d window reaching the edge": lambda lib: lib.nn.functional.fractional_max_pool3d(
        _x(lib, 1, 2, 5, 6, 7), 2, output_size=(4, 3, 3)),
    "3-d too tall": lambda lib: lib.nn.functional.fractional_max_pool3d(_x(lib, 1, 2, 5, 6, 7), 2, output_size=(3, 5, 5)),
    "negative output": lambda lib: lib.nn.functional.fractional_max_pool2d(_x(lib, 1, 2, 6, 6), 2, output_size=(-1, 3)),
    "integer input": lambda lib: lib.nn.functional.fractional_max_pool2d(_x(lib, 1, 2, 6, 6, dtype="int64"), 2, output_size=3),
    "integer input and samples": lambda lib: lib.nn.functional.fractional_max_pool2d(
        _x(lib, 1, 2, 6, 6, dtype="int64"), 2, output_size=3, _random_samples=_s(lib, 1, 2, 2, dtype="int64")),
    "samples of another dtype": lambda lib: lib.nn.functional.fractional_max_pool2d(
        _x(lib, 1, 2, 6, 6), 2, output_size=3, _random_samples=_s(lib, 1, 2, 2, dtype="float64")),
    "samples of two dims": lambda lib: lib.nn.functional.fractional_max_pool2d(
        _x(lib, 1, 2, 6, 6), 2, output_size=3, _random_samples=_s(lib, 2, 2)),
    "samples for a smaller batch": lambda lib: lib.nn.functional.fractional_max_pool2d(
        _x(lib, 3, 2, 6, 6), 2, output_size=3, _random_samples=_s(lib, 2, 2, 2)),
    "samples for other channels": lambda lib: lib.nn.functional.fractional_max_pool3d(
        _x(lib, 2, 6, 6, 6), 2, output_size=3, _random_samples=_s(lib, 1, 3, 3)),
    "2-d samples for 3-d": lambda lib: lib.nn.functional.fractional_max_pool3d(
        _x(lib, 1, 2, 6, 6, 6), 2, output_size=3, _random_samples=_s(lib, 1, 2, 2)),
    "layer: no size, no ratio": lambda lib: lib.nn.FractionalMaxPool2d(2),
    "layer: size and ratio": lambda lib: lib.nn.FractionalMaxPool2d(2, output_size=3, output_ratio=0.5),
    "layer: ratio 1.5": lambda lib: lib.nn.FractionalMaxPool2d(2, output_ratio=1.5),
    "layer: ratio of one": lambda lib: lib.nn.FractionalMaxPool2d(2, output_ratio=(0.5,)),
    "layer 3-d: kernel 0": lambda lib: lib.nn.FractionalMaxPool3d(0, output_ratio=0.5),
    "layer 3-d: a zero in the kernel": lambda lib: lib.nn.FractionalMaxPool3d((2, 0, 2), output_ratio=0.5),
    "layer 3-d: ratio 0": lambda lib: lib.nn.FractionalMaxPool3d(2, output_ratio=(0.5, 0.5, 0)),
    "layer 3-d: no size, no ratio": lambda lib: lib.nn.FractionalMaxPool3d(2),
}


@pytest.mark.parametrize("name", list(BAD_CALLS))
def test_errors_match_torch(name):
    _same_error(BAD_CALLS[name])


def test_size_wins_over_ratio_in_the_functional():
    """The functional takes output_size when both are given (only the layers refuse both)."""
    x = _distinct(np.random.default_rng(5), (1, 2, 8, 8), np.float32)
    samples = np.full((1, 2, 2), 0.25, dtype=np.float32)
    out = F.fractional_max_pool2d(tinytorch.tensor(x), 2, output_size=3, output_ratio=0.5,
                                  _random_samples=tinytorch.tensor(samples))
    want = torch.nn.functional.fractional_max_pool2d(torch.tensor(x), 2, output_size=3, output_ratio=0.5,
                                                     _random_samples=torch.tensor(samples))
    assert out.shape == (1, 2, 3, 3)
    np.testing.assert_array_equal(numpy_of(out), numpy_of(want))


@pytest.mark.parametrize("dims,shape,out", [
    (2, (2, 3, 8, 9), (0, 3)),
    (2, (0, 3, 8, 9), (3, 3)),
    (2, (3, 8, 9), (1, 1)),
    (3, (0, 3, 5, 5, 5), (2, 2, 2)),
    (3, (3, 5, 5, 5), (0, 2, 2)),
])
def test_empty_batches_and_outputs(device, dims, shape, out):
    """An empty batch or an output size of 0 (as an output_ratio near 0 gives), and a single window."""
    rng = np.random.default_rng(6)
    x = _distinct(rng, shape, np.float32)
    samples = rng.uniform(size=(max(shape[0], 1) if len(shape) == dims + 2 else 1, 3, dims)).astype(np.float32)
    ours, theirs = _run_both(dims, x, samples, device, True, kernel_size=2, output_size=out)
    assert ours[0][0].shape == tuple(theirs[0][0].shape)
    _assert_same(ours, theirs, device)
