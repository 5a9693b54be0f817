"""Grayscale, RandomGrayscale, ColorJitter (and adjust_*), RandomResizedCrop: Pillow's results on
PIL images and arrays, torchvision's definitions on tensors, tinytorch's generator for the draws."""

import colorsys
import math
import warnings

import numpy as np
import pytest

import tinytorch
from tinytorch.vision import _color
from tinytorch.vision import transforms as T

Image = pytest.importorskip("PIL.Image")
ImageEnhance = pytest.importorskip("PIL.ImageEnhance")


def _picture(height=12, width=10, seed=0):
    return (np.random.default_rng(seed).random((height, width, 3)) * 255).astype(np.uint8)


def _chw(array, dtype=None):
    tensor = tinytorch.tensor(np.ascontiguousarray(array.transpose(2, 0, 1)))
    return tensor if dtype is None else tensor.to(dtype) / 255.0


ENHANCERS = {"brightness": ("Brightness", T.adjust_brightness), "contrast": ("Contrast", T.adjust_contrast),
             "saturation": ("Color", T.adjust_saturation)}


@pytest.mark.parametrize("name", sorted(ENHANCERS))
@pytest.mark.parametrize("factor", [0.0, 0.5, 1.0, 1.7])
def test_pil_images_and_arrays_are_adjusted_by_pillow(name, factor):
    enhancer, adjust = ENHANCERS[name]
    array = _picture()
    expected = np.asarray(getattr(ImageEnhance, enhancer)(Image.fromarray(array)).enhance(factor))
    assert np.array_equal(np.asarray(adjust(Image.fromarray(array), factor)), expected)
    out = adjust(array, factor)
    assert isinstance(out, np.ndarray) and np.array_equal(out, expected)


def _reference(name, image, factor):
    """torchvision's tensor definitions, written out in NumPy for a float CxHxW image."""
    grey = 0.2989 * image[0] + 0.587 * image[1] + 0.114 * image[2]
    if name == "brightness":
        other = 0.0
    elif name == "contrast":
        other = grey.mean()
    else:
        other = grey[None]
    return np.clip(factor * image + (1 - factor) * other, 0, 1)


@pytest.mark.parametrize("name", sorted(ENHANCERS))
@pytest.mark.parametrize("factor", [0.0, 0.3, 1.0, 2.5])
def test_float_tensors_follow_torchvisions_definitions(name, factor):
    image = np.random.default_rng(1).random((3, 7, 5))
    out = ENHANCERS[name][1](tinytorch.tensor(image), factor)
    assert out.dtype == tinytorch.float64
    np.testing.assert_allclose(out.numpy(), _reference(name, image, factor), atol=1e-12)


@pytest.mark.parametrize("name", sorted(ENHANCERS))
def test_uint8_tensors_land_within_a_level_or_two_of_pillow(name):
    array = _picture(20, 16)
    enhancer, adjust = ENHANCERS[name]
    for factor in [0.4, 1.6]:
        ours = adjust(_chw(array), factor)
        assert ours.dtype == tinytorch.uint8
        pillow = np.asarray(getattr(ImageEnhance, enhancer)(Image.fromarray(array)).enhance(factor)).transpose(2, 0, 1)
        assert np.abs(ours.numpy().astype(int) - pillow).max() <= 2


@pytest.mark.parametrize("factor", [-0.5, -0.2, 0.0, 0.13, 0.5])
def test_hue_of_float_tensors_turns_as_colorsys_does(factor):
    image = np.random.default_rng(2).random((3, 6, 4)).astype(np.float32)
    ours = T.adjust_hue(tinytorch.tensor(image), factor).numpy()
    for y in range(6):
        for x in range(4):
            h, s, v = colorsys.rgb_to_hsv(*image[:, y, x].astype(np.float64))
            np.testing.assert_allclose(ours[:, y, x], colorsys.hsv_to_rgb((h + factor) % 1.0, s, v), atol=2e-6)


def test_hue_of_uint8_images_and_grey_images():
    array = _picture(16, 16)
    for factor in [-0.3, 0.25]:
        pillow = np.asarray(T.adjust_hue(Image.fromarray(array), factor))
        assert np.array_equal(T.adjust_hue(array, factor), pillow)
        ours = T.adjust_hue(_chw(array), factor).numpy().transpose(1, 2, 0)
        assert (np.abs(ours.astype(int) - pillow) > 8).mean() < 0.02  # PIL's uint8 HSV rounds hues to 1/256
    grey = tinytorch.rand(1, 4, 4)
    assert T.adjust_hue(grey, 0.3) is grey and T.adjust_saturation(grey, 0.3) is grey
    with pytest.raises(ValueError, match=r"hue_factor \(0.6\) is not in \[-0.5, 0.5\]"):
        T.adjust_hue(grey, 0.6)
    with pytest.raises(ValueError, match=r"brightness_factor \(-1\) is not non-negative"):
        T.adjust_brightness(grey, -1)


def test_tensors_of_other_channel_counts_are_refused():
    with pytest.raises(TypeError, match=r"permitted channel values are \[1, 3\], but found 4"):
        T.adjust_contrast(tinytorch.rand(4, 3, 3), 0.5)
    with pytest.raises(TypeError, match="at least 3 dimensions"):
        T.rgb_to_grayscale(tinytorch.rand(3, 3))


def test_grayscale_on_every_kind():
    array = _picture()
    pillow = np.asarray(Image.fromarray(array).convert("L"))
    assert np.array_equal(np.asarray(T.Grayscale()(Image.fromarray(array))), pillow)
    assert np.array_equal(T.Grayscale()(array), pillow)
    three = T.Grayscale(num_output_channels=3)(Image.fromarray(array))
    assert three.mode == "RGB" and np.array_equal(np.asarray(three), np.stack([pillow] * 3, axis=-1))
    image = np.random.default_rng(3).random((2, 3, 5, 4))  # a batch of float images
    grey = 0.2989 * image[:, 0] + 0.587 * image[:, 1] + 0.114 * image[:, 2]
    out = T.Grayscale()(tinytorch.tensor(image))
    assert tuple(out.shape) == (2, 1, 5, 4)
    np.testing.assert_allclose(out.numpy()[:, 0], grey, atol=1e-12)
    out3 = T.Grayscale(3)(tinytorch.tensor(image))
    assert tuple(out3.shape) == (2, 3, 5, 4) and np.allclose(out3.numpy(), grey[:, None])
    as_uint8 = T.rgb_to_grayscale(_chw(array)).numpy()[0]
    assert np.abs(as_uint8.astype(int) - pillow).max() <= 1  # truncated luma vs PIL's rounded one
    assert repr(T.Grayscale(3)) == "Grayscale(num_output_channels=3)"
    with pytest.raises(ValueError, match="num_output_channels should be either 1 or 3"):
        T.rgb_to_grayscale(array, 2)


def test_arrays_without_pillow_use_the_tensor_algorithms(monkeypatch):
    array = _picture()
    with_pillow = T.Grayscale()(array), T.adjust_brightness(array, 0.7)
    monkeypatch.setattr(_color, "_pil_image_module", lambda: None)
    assert np.array_equal(T.Grayscale()(array), with_pillow[0])  # PIL's integer luma, computed here
    assert np.array_equal(T.Grayscale(3)(array), np.stack([with_pillow[0]] * 3, axis=-1))
    brighter = T.adjust_brightness(array, 0.7)
    assert brighter.shape == array.shape and brighter.dtype == np.uint8
    assert np.array_equal(brighter, T.adjust_brightness(_chw(array), 0.7).numpy().transpose(1, 2, 0))
    assert np.abs(brighter.astype(int) - with_pillow[1]).max() <= 1


def test_random_grayscale_keeps_the_channel_count():
    array = _picture()
    assert np.array_equal(np.asarray(T.RandomGrayscale(p=1.0)(Image.fromarray(array))),
                          np.stack([np.asarray(Image.fromarray(array).convert("L"))] * 3, axis=-1))
    image = tinytorch.rand(3, 4, 4)
    assert T.RandomGrayscale(p=0.0)(image) is image
    assert tuple(T.RandomGrayscale(p=1.0)(image).shape) == (3, 4, 4)
    assert repr(T.RandomGrayscale()) == "RandomGrayscale(p=0.1)"
    tinytorch.manual_seed(4)
    picks = [T.RandomGrayscale(p=0.3)(image) is image for _ in range(2000)]
    assert abs(picks.count(False) / 2000 - 0.3) < 0.05


def test_color_jitter_ranges_follow_torchvision():
    jitter = T.ColorJitter(brightness=0.4, contrast=(0.5, 1.5), saturation=2, hue=0.1)
    assert (jitter.brightness, jitter.contrast, jitter.saturation, jitter.hue) == ((0.6, 1.4), (0.5, 1.5), (0.0, 3.0), (-0.1, 0.1))
    assert T.ColorJitter().brightness is None and T.ColorJitter(hue=0).hue is None
    assert repr(T.ColorJitter(0.2)) == "ColorJitter(brightness=(0.8, 1.2), contrast=None, saturation=None, hue=None)"
    for kwargs, error, message in [({"brightness": -1}, ValueError, "must be non negative"),
                                   ({"hue": 0.6}, ValueError, r"hue values should be between \(-0.5, 0.5\)"),
                                   ({"contrast": (2, 1)}, ValueError, "contrast values should be between"),
                                   ({"saturation": "x"}, TypeError, "single number or a list/tuple with length 2")]:
        with pytest.raises(error, match=message):
            T.ColorJitter(**kwargs)


def test_color_jitter_applies_its_drawn_factors_in_its_drawn_order():
    jitter = T.ColorJitter(0.5, 0.5, 0.5, 0.2)
    image = tinytorch.tensor(np.random.default_rng(5).random((3, 6, 6)).astype(np.float32))
    uniforms = np.random.default_rng(6).random(8)
    order, *factors = jitter.get_params(jitter.brightness, jitter.contrast, jitter.saturation, jitter.hue, uniforms)
    assert sorted(order) == [0, 1, 2, 3]
    for factor, low_high in zip(factors, [jitter.brightness, jitter.contrast, jitter.saturation, jitter.hue]):
        assert low_high[0] <= factor <= low_high[1]
    expected = image
    steps = [T.adjust_brightness, T.adjust_contrast, T.adjust_saturation, T.adjust_hue]
    for index in order:
        expected = steps[index](expected, factors[index])
    np.testing.assert_array_equal(jitter.apply(image, uniforms).numpy(), expected.numpy())
    tinytorch.manual_seed(9)
    first = [jitter(image).numpy() for _ in range(3)]
    tinytorch.manual_seed(9)
    assert all(np.array_equal(a, jitter(image).numpy()) for a in first)
    assert not np.array_equal(first[0], first[1])
    pil = jitter(Image.fromarray(_picture()))
    assert pil.size == (10, 12) and pil.mode == "RGB"


def test_color_transforms_run_on_the_tensors_device(device):
    image = tinytorch.tensor(np.random.default_rng(7).random((3, 5, 5)).astype(np.float32))
    for transform in [T.Grayscale(3), lambda x: T.adjust_contrast(x, 0.6), lambda x: T.adjust_hue(x, 0.2),
                      lambda x: T.adjust_saturation(x, 1.8)]:
        on_device = transform(image.to(device))
        assert on_device.device.type == device
        np.testing.assert_allclose(on_device.cpu().numpy(), transform(image).numpy(), atol=1e-6)


# -- RandomResizedCrop ----------------------------------------------------------------------------
def test_random_resized_crop_windows_keep_to_scale_and_ratio():
    image = tinytorch.rand(3, 40, 60)
    tinytorch.manual_seed(0)
    for _ in range(200):
        top, left, height, width = T.RandomResizedCrop.get_params(image, (0.2, 0.6), (0.5, 2.0))
        assert 0 <= top <= 40 - height and 0 <= left <= 60 - width
        # The area and ratio before rounding were in range; rounding moves them by at most a pixel a side.
        assert 0.2 * 2400 - (height + width + 1) <= height * width <= 0.6 * 2400 + (height + width + 1)
        assert math.log(0.5) - 0.2 <= math.log(width / height) <= math.log(2.0) + 0.2


def test_random_resized_crop_falls_back_to_the_centre():
    image = tinytorch.rand(3, 20, 30)
    # No window of ratio 10 fits: the centre crop of the nearest ratio (the whole width).
    assert T.RandomResizedCrop.get_params(image, (1.0, 1.0), (10.0, 10.0)) == (8, 0, 3, 30)
    assert T.RandomResizedCrop.get_params(image, (1.0, 1.0), (0.1, 0.1)) == (0, 14, 20, 2)
    assert T.RandomResizedCrop.get_params(image, (1.0, 1.0), (1.5, 1.5)) == (0, 0, 20, 30)


@pytest.mark.parametrize("kind", ["pil", "array", "tensor"])
def test_random_resized_crop_is_resized_crop_of_its_window(kind):
    array = _picture(30, 40)
    image = {"pil": Image.fromarray(array), "array": array, "tensor": _chw(array, tinytorch.float32)}[kind]
    transform = T.RandomResizedCrop((16, 12), scale=(0.3, 0.9))
    tinytorch.manual_seed(2)
    out = transform(image)
    tinytorch.manual_seed(2)
    top, left, height, width = T.RandomResizedCrop.get_params(image, transform.scale, transform.ratio)
    expected = T.resized_crop(image, top, left, height, width, [16, 12])
    assert T.get_dimensions(out) == T.get_dimensions(expected) == [3, 16, 12]
    np.testing.assert_array_equal(np.asarray(out.numpy() if kind == "tensor" else out), np.asarray(expected.numpy() if kind == "tensor" else expected))


def test_random_resized_crop_arguments_and_repr():
    assert repr(T.RandomResizedCrop(24)) == (
        "RandomResizedCrop(size=(24, 24), scale=(0.08, 1.0), ratio=(0.75, 1.3333), interpolation=bilinear, antialias=True)"
    )
    with pytest.raises(TypeError, match="Scale should be a sequence"):
        T.RandomResizedCrop(8, scale=0.5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        T.RandomResizedCrop(8, scale=(1.0, 0.5))
    assert any("Scale and ratio should be of kind (min, max)" in str(w.message) for w in caught)
