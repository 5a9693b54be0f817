"""Upsample and F.interpolate (every mode, against torch and against Pillow's own filters), the
deprecated F.upsample*, and PixelShuffle/PixelUnshuffle: values, gradients, reprs, errors."""

import warnings

import numpy as np
import pytest

import tinytorch
import tinytorch.nn.functional as F
from tinytorch import nn

from .helpers import assert_close, assert_same_error, assert_same_error_in_both, numpy_of

TOLERANCE = {"float32": dict(atol=1e-5, rtol=1e-5), "float64": dict(atol=1e-12, rtol=1e-12)}

MODULES = [
    ("Upsample", dict(scale_factor=2)),
    ("Upsample", dict(scale_factor=(2, 3), mode="nearest")),
    ("Upsample", dict(size=(5, 7), mode="bilinear")),
    ("Upsample", dict(scale_factor=1.5, mode="bilinear", align_corners=True)),
    ("Upsample", dict(size=9, mode="bicubic")),
    ("Upsample", dict(scale_factor=0.5, mode="area")),
    ("Upsample", dict(scale_factor=2.5, mode="nearest-exact", recompute_scale_factor=True)),
    ("UpsamplingNearest2d", dict(scale_factor=2)),
    ("UpsamplingBilinear2d", dict(size=(6, 3))),
]


@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
@pytest.mark.parametrize("name, kwargs", MODULES, ids=[f"{n}-{k}" for n, k in MODULES])
def test_upsample_modules_match_torch(name, kwargs, dtype_name, device):
    torch = pytest.importorskip("torch")
    reference, layer = getattr(torch.nn, name)(**kwargs), getattr(nn, name)(**kwargs)
    assert repr(layer) == repr(reference)
    assert layer.state_dict() == {} and list(reference.state_dict()) == []
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5)).astype(dtype_name)
    a = tinytorch.tensor(x, device=device, requires_grad=True)
    ta = torch.tensor(x, requires_grad=True)
    out, expected = layer(a), reference(ta)
    assert out.shape == tuple(expected.shape) and out.device.type == device
    assert_close(out, expected, **TOLERANCE[dtype_name])
    weights = np.random.default_rng(1).standard_normal(tuple(expected.shape)).astype(dtype_name)
    (out * tinytorch.tensor(weights, device=device)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    assert_close(a.grad, ta.grad, **TOLERANCE[dtype_name])


def test_the_deprecated_upsample_functions_warn_and_match_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(2).standard_normal((1, 2, 3, 3)).astype(np.float32)
    for name, kwargs in [("upsample", dict(scale_factor=2, mode="bilinear")), ("upsample_nearest", dict(size=5)),
                         ("upsample_bilinear", dict(scale_factor=2))]:
        with pytest.warns(UserWarning, match=f"`nn.functional.{name}` is deprecated. Use `nn.functional.interpolate` instead."):
            out = getattr(F, name)(tinytorch.tensor(x), **kwargs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert_close(out, getattr(torch.nn.functional, name)(torch.tensor(x), **kwargs))


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("size", [(7, 5), (3, 4), (2, 9), (16, 12)])
def test_antialiased_resizing_is_pillows_filter(mode, size):
    """An independent oracle: Pillow resizes float ('F') images with the same filters
    (triangle; cubic with a = -0.5) that PyTorch's antialias option reproduces."""
    Image = pytest.importorskip("PIL.Image")
    image = np.random.default_rng(3).uniform(0, 1, (11, 13)).astype(np.float32)
    resample = {"bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}[mode]
    expected = np.asarray(Image.fromarray(image, mode="F").resize(size[::-1], resample))
    out = F.interpolate(tinytorch.tensor(image[None, None]), size=size, mode=mode, antialias=True)
    np.testing.assert_allclose(numpy_of(out)[0, 0], expected, atol=2e-6)


def test_nearest_of_uint8_images_and_float16():
    image = np.arange(12, dtype=np.uint8).reshape(1, 1, 3, 4)
    out = F.interpolate(tinytorch.tensor(image), scale_factor=2)
    assert out.dtype == tinytorch.uint8
    np.testing.assert_array_equal(numpy_of(out)[0, 0], image[0, 0].repeat(2, 0).repeat(2, 1))
    half = F.interpolate(tinytorch.tensor(image.astype(np.float16)), size=(4, 6), mode="bilinear")
    assert half.dtype == tinytorch.float16
    full = F.interpolate(tinytorch.tensor(image.astype(np.float32)), size=(4, 6), mode="bilinear")
    np.testing.assert_allclose(numpy_of(half), numpy_of(full), rtol=1e-3)


def test_bilinear_by_hand():
    """align_corners=True puts the corners on the corners; False samples at pixel centres."""
    x = tinytorch.tensor([[[[0.0, 1.0], [2.0, 3.0]]]])
    corners = F.interpolate(x, size=(3, 3), mode="bilinear", align_corners=True)
    assert numpy_of(corners)[0, 0].tolist() == [[0.0, 0.5, 1.0], [1.0, 1.5, 2.0], [2.0, 2.5, 3.0]]
    centres = F.interpolate(x, scale_factor=2, mode="bilinear")
    assert numpy_of(centres)[0, 0, 0].tolist() == [0.0, 0.25, 0.75, 1.0]  # positions -0.25 (clamped), 0.25, 0.75, 1.25
    line = F.interpolate(tinytorch.tensor([[[0.0, 4.0]]]), size=5, mode="linear", align_corners=True)
    assert numpy_of(line).tolist() == [[[0.0, 1.0, 2.0, 3.0, 4.0]]]


def test_the_gradient_is_the_transpose_of_the_forward():
    """Where PyTorch's nearest backward disagrees with its own forward (a size that does not
    change under a scale factor of 1.1), tinytorch's gradient is that of the values it returns."""
    x = tinytorch.tensor([[[0.0, 1.0, 2.0]]], dtype=tinytorch.float64, requires_grad=True)
    out = F.interpolate(x, scale_factor=1.1)
    assert numpy_of(out).tolist() == [[[0.0, 0.0, 1.0]]]  # as PyTorch's forward
    out.backward(tinytorch.tensor([[[1.0, 10.0, 100.0]]], dtype=tinytorch.float64))
    assert numpy_of(x.grad).tolist() == [[[11.0, 100.0, 0.0]]]
    for mode, kwargs in [("bilinear", dict(size=(5, 3))), ("bicubic", dict(scale_factor=(1.5, 0.5))), ("area", dict(size=(2, 3))),
                         ("bilinear", dict(size=(2, 2), antialias=True)), ("nearest-exact", dict(scale_factor=1.7))]:
        inp = tinytorch.randn(1, 2, 4, 6, dtype=tinytorch.float64, requires_grad=True)
        resize = _resizer(mode, kwargs)
        assert tinytorch.autograd.gradcheck(resize, (inp,))
        assert tinytorch.autograd.gradgradcheck(lambda t, resize=resize: resize(t) ** 2, (inp,))


def _resizer(mode, kwargs):
    return lambda t: F.interpolate(t, mode=mode, **kwargs)


def test_identity_resizes_copy():
    x = tinytorch.randn(1, 1, 3, 3)
    out = F.interpolate(x, size=(3, 3), mode="bilinear")
    assert np.array_equal(numpy_of(out), numpy_of(x)) and out._data is not x._data


def test_interpolate_errors_match_torch():
    torch = pytest.importorskip("torch")
    cases = [
        ((1, 1, 4, 4), dict(size=3, scale_factor=2)),
        ((1, 1, 4, 4), dict()),
        ((1, 1, 4, 4), dict(size=3, recompute_scale_factor=True)),
        ((1, 1, 4, 4), dict(size=(2, 3, 4))),
        ((1, 1, 4, 4), dict(scale_factor=(2,))),
        ((1, 1, 4, 4), dict(size=(2.5, 3))),
        ((1, 1, 4, 4), dict(size=(2, 3), align_corners=True)),
        ((1, 1, 4, 4), dict(size=(2, 3), mode="linear")),
        ((1, 1, 4), dict(size=(2,), mode="bilinear")),
        ((1, 1, 4, 4, 4), dict(size=2, mode="bicubic")),
        ((1, 1, 4, 4), dict(size=(2, 3), mode="foo")),
        ((1, 4), dict(scale_factor=2)),
        ((1, 1, 4), dict(size=(2,), mode="linear", antialias=True)),
        ((1, 1, 4, 4), dict(size=(2, 2), mode="nearest", antialias=True)),
        ((1, 1, 4, 4), dict(scale_factor=0.1, mode="bilinear")),
        ((1, 1, 4, 4), dict(size=(0, 3))),
        ((1, 1, 0, 4), dict(size=(2, 3))),
        ((2, 0, 4, 4), dict(size=(2, 3))),
        ((1, 1, 4, 4, 4), dict(size=(1, -1, 2), mode="nearest-exact")),
        ((1, 1, 4, 4), dict(size=(-1, 2), mode="area")),
        ((1, 1, 4), dict(size=(-1,), mode="area")),
        ((1, 1, 0, 4), dict(size=(1, 2), mode="area")),
    ]
    def call(lib, shape, kwargs, dtype="float32"):
        return lib.nn.functional.interpolate(lib.zeros(*shape, dtype=getattr(lib, dtype)), **kwargs)

    for shape, kwargs in cases:
        assert_same_error_in_both(torch, call, shape, kwargs)
    for dtype in ("int64", "int32", "bool"):
        for shape in ((1, 1, 2), (1, 1, 2, 2), (1, 1, 2, 2, 2)):
            assert_same_error_in_both(torch, call, shape, dict(size=3), dtype)
            assert_same_error_in_both(torch, call, shape, dict(size=3, mode="area"), dtype)
    for mode, shape in [("linear", (1, 1, 2)), ("bicubic", (1, 1, 2, 2)), ("trilinear", (1, 1, 2, 2, 2))]:
        assert_same_error_in_both(torch, call, shape, dict(size=3, mode=mode), "int64")
    assert_same_error(lambda: F.interpolate(tinytorch.zeros(1, 1, 2, 2, dtype=tinytorch.int64), size=3, mode="area"),
                      lambda: torch.nn.functional.interpolate(torch.zeros(1, 1, 2, 2, dtype=torch.int64), size=3, mode="area"))
    with pytest.raises(NotImplementedError, match='"upsample_bilinear2d_channels_last" not implemented for \'Byte\''):
        F.interpolate(tinytorch.zeros(1, 1, 2, 2, dtype=tinytorch.uint8), size=3, mode="bilinear")
    assert F.interpolate(tinytorch.zeros(0, 1, 4, 4), size=(2, 3)).shape == (0, 1, 2, 3)
    assert F.interpolate(tinytorch.zeros(2, 3, 4, 4), size=(0, 2), mode="area").shape == (2, 3, 0, 2)


# -- PixelShuffle -----------------------------------------------------------------------------------
@pytest.mark.parametrize("shape, factor", [((2, 8, 3, 3), 2), ((9, 2, 2), 3), ((2, 3, 4, 2, 1), 1), ((1, 2, 18, 5, 4), 3)])
def test_pixel_shuffle_matches_torch_and_unshuffle_inverts_it(shape, factor, device):
    torch = pytest.importorskip("torch")
    assert repr(nn.PixelShuffle(factor)) == repr(torch.nn.PixelShuffle(factor))
    assert repr(nn.PixelUnshuffle(factor)) == repr(torch.nn.PixelUnshuffle(factor))
    x = np.random.default_rng(4).standard_normal(shape).astype(np.float32)
    a = tinytorch.tensor(x, device=device, requires_grad=True)
    ta = torch.tensor(x, requires_grad=True)
    out, expected = nn.PixelShuffle(factor)(a), torch.nn.PixelShuffle(factor)(ta)
    assert np.array_equal(numpy_of(out), numpy_of(expected))
    assert np.array_equal(numpy_of(nn.PixelUnshuffle(factor)(out)), x)
    weights = np.random.default_rng(5).standard_normal(tuple(expected.shape)).astype(np.float32)
    (out * tinytorch.tensor(weights, device=device)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    assert np.array_equal(numpy_of(a.grad), numpy_of(ta.grad))


def test_pixel_shuffle_moves_channel_blocks_into_space():
    """Channel c * r^2 + i * r + j lands at spatial offset (i, j) of each r x r block."""
    x = tinytorch.arange(4.0).reshape(1, 4, 1, 1)
    assert numpy_of(F.pixel_shuffle(x, 2)).tolist() == [[[[0.0, 1.0], [2.0, 3.0]]]]


def test_pixel_shuffle_errors_match_torch():
    torch = pytest.importorskip("torch")
    def call(lib, name, shape, factor):
        return getattr(lib.nn.functional, name)(lib.zeros(*shape), factor)

    for name, shape, factor in [("pixel_shuffle", (2, 3), 2), ("pixel_shuffle", (2, 3, 4, 4), 2), ("pixel_shuffle", (2, 8, 4, 4), 0),
                                ("pixel_shuffle", (2, 8, 4, 4), -2), ("pixel_shuffle", (8, 4, 4), 2.0),
                                ("pixel_unshuffle", (2, 3, 4, 5), 2), ("pixel_unshuffle", (2, 3, 5, 4), 2),
                                ("pixel_unshuffle", (3, 4), 2), ("pixel_unshuffle", (3, 4, 4), 0)]:
        assert_same_error_in_both(torch, call, name, shape, factor)
