"""Pad, CenterCrop, RandomCrop, RandomHorizontalFlip, Resize and RandomRotation with torchvision's
semantics, on PIL images, uint8 arrays, (C, H, W) tensors and (N, C, H, W) batches.

torchvision is not a dependency, so the oracles are independent ones: hand-derived crops, pads
and flips, NumPy's own padding modes, Pillow's resize and rotate (for the PIL path, and for the
filters the tensor path shares with it), exact rotations by right angles, and the closed form of
a bilinear rotation of a linear ramp."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinytorch
from tinytorch.vision import transforms as T

Image = pytest.importorskip("PIL.Image")


def _image(h=6, w=7, c=None, seed=0):
    shape = (h, w) if c is None else (h, w, c)
    return np.random.default_rng(seed).integers(0, 256, size=shape).astype(np.uint8)


def _as(kind, array):
    """The same picture as a PIL image, an HxW(xC) array or a CxHxW tensor."""
    if kind == "pil":
        return Image.fromarray(array)
    if kind == "array":
        return array
    return tinytorch.tensor(array[None] if array.ndim == 2 else array.transpose(2, 0, 1).copy())


def _pixels(img):
    """HxW(xC) pixels of any of the three kinds."""
    if isinstance(img, tinytorch.Tensor):
        array = img.numpy()
        return array[0] if array.shape[0] == 1 else array.transpose(1, 2, 0)
    return np.asarray(img)


KINDS = ["pil", "array", "tensor"]


# -- Pad ------------------------------------------------------------------------------------------
def test_padding_modes_follow_torchvisions_examples():
    """The docstring's examples: [1, 2, 3, 4] padded by 2 on both sides."""
    row = np.array([[1, 2, 3, 4]], np.uint8)
    for kind in KINDS:
        img = _as(kind, row)
        assert _pixels(T.pad(img, [2, 0], padding_mode="reflect"))[0].tolist() == [3, 2, 1, 2, 3, 4, 3, 2]
        assert _pixels(T.pad(img, [2, 0], padding_mode="symmetric"))[0].tolist() == [2, 1, 1, 2, 3, 4, 4, 3]
        assert _pixels(T.pad(img, [2, 0], padding_mode="edge"))[0].tolist() == [1, 1, 1, 2, 3, 4, 4, 4]
        assert _pixels(T.pad(img, [2, 0], fill=9))[0].tolist() == [9, 9, 1, 2, 3, 4, 9, 9]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("padding, ltrb", [(1, (1, 1, 1, 1)), ([2], (2, 2, 2, 2)), ((1, 3), (1, 3, 1, 3)), ((0, 1, 2, 3), (0, 1, 2, 3))])
@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
def test_pad_matches_numpy_on_every_kind(kind, padding, ltrb, mode):
    array = _image(4, 5, 3)
    left, top, right, bottom = ltrb
    widths = ((top, bottom), (left, right), (0, 0))
    expected = np.pad(array, widths, mode=mode, constant_values=7) if mode == "constant" else np.pad(array, widths, mode=mode)
    out = T.Pad(padding, fill=7, padding_mode=mode)(_as(kind, array))
    assert np.array_equal(_pixels(out), expected)


def test_pad_fills_each_band_and_crops_with_negative_padding():
    rgb = _image(3, 3, 3)
    for kind in ("pil", "array"):
        out = _pixels(T.pad(_as(kind, rgb), 1, fill=(10, 20, 30)))
        assert out[0, 0].tolist() == [10, 20, 30] and np.array_equal(out[1:-1, 1:-1], rgb)
    for kind in KINDS:
        assert np.array_equal(_pixels(T.pad(_as(kind, rgb), [-1, 0, 1, 0], fill=5))[:, :-1], rgb[:, 1:])
    palette = Image.fromarray(_image(2, 2) % 4).convert("P")
    padded = T.pad(palette, 1, padding_mode="edge")
    assert padded.mode == "P" and padded.getpalette() == palette.getpalette()


def test_pad_of_a_batch_of_tensors_pads_every_image():
    batch = tinytorch.rand(3, 2, 4, 4)
    out = T.Pad((1, 2), padding_mode="reflect")(batch)
    assert out.shape == (3, 2, 8, 6)
    for k in range(3):
        assert np.array_equal(out[k].numpy(), T.pad(batch[k], (1, 2), padding_mode="reflect").numpy())


def test_pad_arguments_and_repr():
    assert repr(T.Pad(2, fill=(1, 2, 3))) == "Pad(padding=2, fill=(1, 2, 3), padding_mode=constant)"
    with pytest.raises(TypeError, match="Got inappropriate padding arg"):
        T.Pad("2")
    with pytest.raises(TypeError, match="Got inappropriate fill arg"):
        T.Pad(2, fill="red")
    with pytest.raises(ValueError, match="Padding mode should be either constant, edge, reflect or symmetric"):
        T.Pad(2, padding_mode="wrap")
    with pytest.raises(ValueError, match="Padding must be an int or a 1, 2, or 4 element tuple, not a 3 element tuple"):
        T.Pad((1, 2, 3))
    with pytest.raises(TypeError, match="Got inappropriate fill arg"):
        T.pad(tinytorch.zeros(1, 2, 2), 1, fill=(1, 2))  # tensors take a number (as torchvision's)
    with pytest.raises(ValueError, match=r"The number of elements in 'fill' does not match the number of channels of the image \(2 != 3\)"):
        T.pad(Image.fromarray(_image(2, 2, 3)), 1, fill=(1, 2))


# -- CenterCrop -----------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_center_crop_windows_by_hand(kind):
    array = np.arange(5 * 6, dtype=np.uint8).reshape(5, 6)
    img = _as(kind, array)
    # top = round((5 - 2) / 2) = round(1.5) = 2 (Python rounds halves to even), left = round(2.0) = 2
    assert np.array_equal(_pixels(T.CenterCrop((2, 2))(img)), array[2:4, 2:4])
    assert np.array_equal(_pixels(T.CenterCrop(3)(img)), array[1:4, 2:5])  # round(1.0), round(1.5) = 2
    assert np.array_equal(_pixels(T.CenterCrop([5])(img)), array[:, 0:5])  # round(0.5) = 0


@pytest.mark.parametrize("kind", KINDS)
def test_center_crop_larger_than_the_image_pads_with_zeros(kind):
    array = np.full((2, 3), 9, np.uint8)
    out = _pixels(T.CenterCrop((5, 6))(_as(kind, array)))
    expected = np.zeros((5, 6), np.uint8)
    expected[1:3, 1:4] = 9  # (5 - 2) // 2 = 1 above, 2 below; (6 - 3) // 2 = 1 left, 2 right
    assert np.array_equal(out, expected)
    out = _pixels(T.CenterCrop((1, 5))(_as(kind, array)))  # taller crop: only padded in width
    assert out.tolist() == [[0, 9, 9, 9, 0]]


def test_center_crop_of_batches_and_repr():
    batch = tinytorch.rand(4, 3, 8, 8)
    assert np.array_equal(T.CenterCrop(4)(batch).numpy(), batch.numpy()[:, :, 2:6, 2:6])
    arrays = np.stack([_image(seed=k) for k in range(3)])
    assert np.array_equal(T.CenterCrop(4).batch(arrays), np.stack([T.CenterCrop(4)(a) for a in arrays]))
    assert np.array_equal(T.CenterCrop(9).batch(arrays), np.stack([T.CenterCrop(9)(a) for a in arrays]))
    assert repr(T.CenterCrop(4)) == "CenterCrop(size=(4, 4))"
    with pytest.raises(ValueError, match=r"Please provide only two dimensions \(h, w\) for size."):
        T.CenterCrop((1, 2, 3))


# -- RandomCrop and RandomHorizontalFlip -----------------------------------------------------------
def test_random_crop_of_a_tensor_batch_cuts_one_window_for_all():
    batch = tinytorch.arange(2 * 3 * 5 * 5).reshape(2, 3, 5, 5)
    out = T.RandomCrop(3)(batch)
    top, left = divmod(out[0, 0, 0, 0].item(), 5)
    assert np.array_equal(out.numpy(), batch.numpy()[:, :, top : top + 3, left : left + 3])


def test_random_crop_pad_if_needed_pads_both_sides_by_the_shortfall():
    """torchvision pads left and right (top and bottom) each by the missing width (height)."""
    ones = np.ones((2, 3), np.uint8)
    tinytorch.manual_seed(0)
    crops = [T.RandomCrop((4, 5), pad_if_needed=True, fill=7)(ones) for _ in range(200)]
    assert all(c.shape == (4, 5) for c in crops)
    # The padded image is 2 + 2*2 = 6 rows by 3 + 2*2 = 7 columns: every window holds 6 ones at most.
    assert {int((c == 1).sum()) for c in crops} <= {0, 1, 2, 3, 4, 6} and max(int((c == 1).sum()) for c in crops) == 6
    rgb = Image.fromarray(_image(3, 3, 3))
    padded = T.RandomCrop(5, padding=1, fill=(1, 2, 3))(rgb)
    assert padded.size == (5, 5) and np.asarray(padded)[0, 0].tolist() == [1, 2, 3]
    reflected = T.RandomCrop(6, padding=1, padding_mode="reflect")(tinytorch.tensor(_image(4, 4)[None]))
    assert np.array_equal(reflected.numpy()[0], np.pad(_image(4, 4), 1, mode="reflect"))


def test_horizontal_flip_of_a_tensor_batch_flips_all_or_none():
    batch = tinytorch.rand(3, 2, 4, 5)
    assert np.array_equal(T.RandomHorizontalFlip(1.0)(batch).numpy(), batch.numpy()[..., ::-1])
    assert np.array_equal(T.hflip(Image.fromarray(_image(3, 4, 3))), _image(3, 4, 3)[:, ::-1])


# -- Resize ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", [T.InterpolationMode.NEAREST, T.InterpolationMode.BILINEAR, T.InterpolationMode.BICUBIC,
                                  T.InterpolationMode.LANCZOS, T.InterpolationMode.BOX])
@pytest.mark.parametrize("size", [(9, 4), 5, [7]])
def test_resize_of_pil_images_and_arrays_is_pillows(mode, size):
    for array in (_image(12, 8), _image(12, 8, 3)):
        height, width = T._resized_size(12, 8, size, None)
        expected = np.asarray(Image.fromarray(array).resize((width, height), {"nearest": 0, "bilinear": 2, "bicubic": 3,
                                                                              "lanczos": 1, "box": 4}[mode.value]))
        assert np.array_equal(np.asarray(T.Resize(size, mode)(Image.fromarray(array))), expected)
        assert np.array_equal(T.Resize(size, mode)(array), expected)


def test_resize_sizes_follow_torchvision():
    img = Image.fromarray(_image(30, 20))
    assert T.Resize(10)(img).size == (10, 15)  # the smaller edge (width) becomes 10: 30 * 10 / 20
    assert T.Resize(7)(img).size == (7, 10)  # int(7 * 30 / 20) = int(10.5)
    assert T.Resize((5, 9))(img).size == (9, 5)
    assert T.Resize(10, max_size=12)(img).size == (8, 12)  # the longer edge capped: int(12 * 10 / 15)
    assert T.Resize(20)(img) is img  # nothing to do: the same image back
    with pytest.raises(ValueError, match="max_size = 10 must be strictly greater than the requested size for the smaller edge size = \\[10\\]"):
        T.Resize(10, max_size=10)(img)
    with pytest.raises(ValueError, match="max_size should only be passed if size specifies the length of the smaller edge"):
        T.resize(img, (5, 9), max_size=20)
    with pytest.raises(ValueError, match="If size is a sequence, it should have 1 or 2 values"):
        T.Resize((1, 2, 3))
    with pytest.raises(TypeError, match="Size should be int or sequence"):
        T.Resize(2.5)


@pytest.mark.parametrize("size", [(5, 4), (3, 7), (13, 9)])
def test_resize_of_float_tensors_is_pillows_antialiased_filter(size):
    """Tensors go through F.interpolate with torchvision's antialias=True default: the same
    triangle and cubic filters that Pillow applies to a float ('F') image."""
    picture = np.random.default_rng(1).uniform(0, 1, (10, 8)).astype(np.float32)
    for mode, code in ((T.InterpolationMode.BILINEAR, 2), (T.InterpolationMode.BICUBIC, 3)):
        expected = np.asarray(Image.fromarray(picture, mode="F").resize(size[::-1], code))
        out = T.Resize(size, mode)(tinytorch.tensor(picture[None]))
        assert out.shape == (1, *size) and out.dtype == tinytorch.float32
        np.testing.assert_allclose(out.numpy()[0], expected, atol=2e-6)


def test_resize_of_uint8_tensors_rounds_and_nearest_exact_is_pillows_nearest():
    array = _image(9, 11, 3)
    tensor = _as("tensor", array)
    out = T.Resize((5, 6))(tensor)
    assert out.dtype == tinytorch.uint8
    float_out = T.Resize((5, 6))(tensor.float()).numpy()
    assert np.array_equal(out.numpy(), np.clip(np.rint(float_out), 0, 255).astype(np.uint8))
    pillow = np.asarray(Image.fromarray(array).resize((6, 5), Image.BILINEAR)).transpose(2, 0, 1)
    assert np.abs(out.numpy().astype(int) - pillow).max() <= 1  # Pillow rounds in fixed point
    exact = T.Resize((4, 17), T.InterpolationMode.NEAREST_EXACT)(tensor)
    assert np.array_equal(exact.numpy(), np.asarray(Image.fromarray(array).resize((17, 4), Image.NEAREST)).transpose(2, 0, 1))
    nearest = T.Resize((4, 17), T.InterpolationMode.NEAREST)(tensor).numpy()
    rows, cols = (np.arange(4) * 9 / 4).astype(int), np.minimum((np.arange(17) * 11 / 17).astype(int), 10)
    assert np.array_equal(nearest, array.transpose(2, 0, 1)[:, rows][:, :, cols])  # PyTorch's floor(j * in / out)
    batch = tinytorch.stack([tensor, tensor.flip(-1)])
    assert np.array_equal(T.Resize((5, 6))(batch)[1].numpy(), T.Resize((5, 6))(tensor.flip(-1)).numpy())
    with pytest.raises(ValueError, match="Interpolation mode 'lanczos' is unsupported with Tensor input"):
        T.Resize(4, T.InterpolationMode.LANCZOS)(tensor)


def test_resize_interpolation_arguments_and_repr():
    assert T.Resize(4, 0).interpolation is T.InterpolationMode.NEAREST  # Pillow's constant
    assert T.Resize(4, "bicubic").interpolation is T.InterpolationMode.BICUBIC
    assert repr(T.Resize(5)) == "Resize(size=5, interpolation=bilinear, max_size=None, antialias=True)"
    with pytest.raises(TypeError, match="Argument interpolation should be a InterpolationMode"):
        T.Resize(4, interpolation=2.0)
    with pytest.warns(UserWarning, match="Anti-alias option is always applied for PIL Image input"):
        T.Resize(3, antialias=False)(Image.fromarray(_image()))


# -- RandomRotation -------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", [T.InterpolationMode.NEAREST, T.InterpolationMode.BILINEAR])
def test_right_angle_rotations_are_exact(mode):
    """Positive angles turn counter-clockwise; a quarter turn moves every pixel centre onto another."""
    square = _image(6, 6).astype(np.float32)
    tensor = tinytorch.tensor(square[None])
    np.testing.assert_allclose(T.rotate(tensor, 90.0, mode).numpy()[0], np.rot90(square), atol=1e-4)
    np.testing.assert_allclose(T.rotate(tensor, 180.0, mode).numpy()[0], square[::-1, ::-1], atol=1e-4)
    np.testing.assert_allclose(T.rotate(tensor, -90.0, mode).numpy()[0], np.rot90(square, -1), atol=1e-4)
    tall = _image(7, 5)
    turned = T.rotate(tinytorch.tensor(tall[None]), 90.0, mode, expand=True)
    assert turned.shape == (1, 5, 7) and turned.dtype == tinytorch.uint8
    assert np.array_equal(turned.numpy()[0], np.rot90(tall))
    assert np.array_equal(np.asarray(T.rotate(Image.fromarray(tall), 90.0, mode, expand=True)), np.rot90(tall))


@pytest.mark.parametrize("angle", [30.0, 45.0, 120.0, -75.5, 90.0])
@pytest.mark.parametrize("shape", [(5, 9), (6, 6), (7, 5), (10, 4)])
def test_expanded_sizes_hold_the_whole_rotated_image_as_pillows(angle, shape):
    """torchvision's size formula (Pillow's, with a 1e-4 guard against rounding up): an image
    whose sides have different parities turned by exactly 90 degrees is the one case where the
    two part, Pillow shortcutting to a transpose (torchvision gives e.g. 5 x 8 for 7 x 4)."""
    pillow = Image.fromarray(np.zeros(shape, np.uint8)).rotate(angle, expand=True).size
    out = T.rotate(tinytorch.zeros(1, *shape), angle, expand=True)
    if angle == 90.0 and (shape[0] - shape[1]) % 2:
        assert (out.shape[2], out.shape[1]) == (shape[0] + 1, shape[1] + 1)
    else:
        assert (out.shape[2], out.shape[1]) == pillow


@pytest.mark.parametrize("angle", [17.0, -33.3, 61.0])
def test_bilinear_rotation_of_a_ramp_is_the_rotated_ramp(angle):
    """Bilinear interpolation reproduces a linear function exactly, so inside the picture the
    rotated ramp is the ramp at the inversely rotated coordinates (about the image centre)."""
    height, width = 21, 25
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    ramp = (0.5 * x - 0.25 * y + 3).astype(np.float32)
    out = T.rotate(tinytorch.tensor(ramp[None]), angle, T.InterpolationMode.BILINEAR).numpy()[0]
    t = math.radians(angle)
    cx, cy = width / 2 - 0.5, height / 2 - 0.5  # pixel centres around the middle of the image
    # A counter-clockwise turn on screen (y down): the source of output (x, y).
    sx = math.cos(t) * (x - cx) - math.sin(t) * (y - cy) + cx
    sy = math.sin(t) * (x - cx) + math.cos(t) * (y - cy) + cy
    inside = (sx >= 0) & (sx <= width - 1) & (sy >= 0) & (sy <= height - 1)
    np.testing.assert_allclose(out[inside], (0.5 * sx - 0.25 * sy + 3)[inside], atol=1e-4)
    assert inside.mean() > 0.5


@pytest.mark.parametrize("angle", [13.0, 37.5, -60.2])
def test_nearest_rotation_of_tensors_agrees_with_pillows(angle):
    for shape in ((28, 28), (17, 23)):
        array = _image(*shape, seed=3)
        expected = np.asarray(Image.fromarray(array).rotate(angle, Image.NEAREST))
        out = T.rotate(tinytorch.tensor(array[None]), angle).numpy()[0]
        assert (out == expected).mean() > 0.99  # the odd pixel sits on a rounding tie


def test_rotation_fill_and_center():
    ones = tinytorch.ones(3, 5, 5)
    out = T.rotate(ones, 45.0, fill=[0.25, 0.5, 0.75]).numpy()
    assert out[:, 0, 0].tolist() == [0.25, 0.5, 0.75] and (out[:, 2, 2] == 1).all()
    blended = T.rotate(tinytorch.ones(3, 9, 9), 45.0, T.InterpolationMode.BILINEAR, fill=[2.0, 2.0, 2.0]).numpy()
    # Inside 1, far outside the fill, and on the rim a blend weighted by the part inside.
    assert (blended >= 1 - 1e-6).all() and (blended <= 2 + 1e-6).all() and (blended[:, 0, 0] == 2).all() and (blended[:, 4, 4] == 1).all()
    assert ((blended > 1.01) & (blended < 1.99)).any()
    corner = T.rotate(tinytorch.tensor(_image(5, 5)[None]), 90.0, center=[0, 0]).numpy()[0]
    # About the top-left corner of the picture a quarter turn sends (x, y) to (y, -x): all outside but a sliver.
    assert (corner[:, 1:] == 0).all()
    pil = T.rotate(Image.fromarray(_image(5, 5, 3)), 30.0, fill=(9, 8, 7))
    assert np.asarray(pil)[0, 0].tolist() == [9, 8, 7]
    with pytest.raises(ValueError, match=r"cannot broadcast to match the number of channels of the image \(2 != 3\)"):
        T.rotate(ones, 10.0, fill=[1.0, 2.0])


def test_random_rotation_draws_its_angle_from_tinytorchs_generator():
    rotation = T.RandomRotation((10, 30))
    picture = tinytorch.tensor(_image(9, 9)[None])
    tinytorch.manual_seed(2)
    first = rotation(picture)
    tinytorch.manual_seed(2)
    assert np.array_equal(first.numpy(), rotation(picture).numpy())
    tinytorch.manual_seed(2)
    angle = 10 + tinytorch.random.generator_for("cpu").random(1)[0] * 20
    assert np.array_equal(first.numpy(), T.rotate(picture, float(angle)).numpy())
    angles = [T.RandomRotation(5)._angle(u) for u in np.linspace(0, 1, 11)]
    assert min(angles) == -5.0 and max(angles) == 5.0


def test_random_rotation_arguments_and_repr():
    assert T.RandomRotation(10).degrees == [-10.0, 10.0]
    assert repr(T.RandomRotation((0, 90), expand=True, center=(1, 2), fill=3)) == (
        "RandomRotation(degrees=[0.0, 90.0], interpolation=nearest, expand=True, center=(1, 2), fill=3)"
    )
    with pytest.raises(ValueError, match="If degrees is a single number, it must be positive."):
        T.RandomRotation(-3)
    with pytest.raises(ValueError, match="degrees should be a sequence of length 2."):
        T.RandomRotation((1, 2, 3))
    with pytest.raises(TypeError, match="Fill should be either a sequence or a number."):
        T.RandomRotation(3, fill={"white": 255})
    with pytest.raises(ValueError, match="Interpolation mode 'bicubic' is unsupported with Tensor input"):
        T.RandomRotation(3, T.InterpolationMode.BICUBIC)(tinytorch.zeros(1, 4, 4))
    with pytest.raises(TypeError, match="Argument angle should be int or float"):
        T.rotate(tinytorch.zeros(1, 4, 4), "90")
    assert T.batched(T.Compose([T.RandomRotation(5, expand=True), T.ToTensor()])) is None  # sizes would differ


def test_random_rotation_of_a_batch_turns_each_image_by_its_own_angle():
    batch = tinytorch.rand(5, 2, 7, 7)
    rotation = T.RandomRotation(40, T.InterpolationMode.BILINEAR, fill=(0.5, 0.1))
    tinytorch.manual_seed(7)
    together = rotation.batch(batch)
    tinytorch.manual_seed(7)
    one_by_one = [rotation(image) for image in batch]
    np.testing.assert_allclose(together.numpy(), np.stack([t.numpy() for t in one_by_one]), atol=1e-6)
    assert not np.allclose(together[0].numpy(), together[1].numpy())


# -- every transform batched: exactly the images one at a time ------------------------------------
@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(1, 5), color=st.booleans())
def test_batched_geometry_pipeline_equals_pil_images_one_at_a_time(seed, n, color):
    channels = 3 if color else 1
    pipeline = T.Compose([
        T.Pad(2, fill=(40, 50, 60) if color else 40, padding_mode="constant"),
        T.RandomRotation(20, fill=(1, 2, 3) if color else 7),
        T.CenterCrop((11, 12)), T.Resize(9), T.RandomCrop(8, padding=1, padding_mode="reflect"),
        T.RandomHorizontalFlip(), T.ToTensor(),
        T.RandomRotation(15, T.InterpolationMode.BILINEAR), T.Resize((6, 5)), T.CenterCrop(4),
        T.Normalize((0.5,) * channels, (0.25,) * channels),
    ])
    images = np.stack([_image(10, 11, 3 if color else None, seed=seed + k) for k in range(n)])
    tinytorch.manual_seed(seed)
    batch = T.batched(pipeline)(images)
    tinytorch.manual_seed(seed)
    one_by_one = [pipeline(Image.fromarray(image)) for image in images]
    assert batch.shape == (n, channels, 4, 4)
    np.testing.assert_allclose(batch.numpy(), np.stack([t.numpy() for t in one_by_one]), atol=1e-5)


def test_mnist_getitems_with_rotation_and_resize_equals_items():
    from pathlib import Path

    from tinytorch.utils.data._collate import SampleBatch
    from tinytorch.vision import datasets

    pipeline = T.Compose([T.RandomRotation(10), T.Resize(32), T.RandomCrop(28), T.ToTensor(), T.Normalize((0.1307,), (0.3081,))])
    dataset = datasets.MNIST(Path(__file__).resolve().parents[2] / "data", train=False, transform=pipeline)
    indices = [5, 1, 9998]
    tinytorch.manual_seed(11)
    batch = dataset.__getitems__(indices)
    tinytorch.manual_seed(11)
    items = [dataset[i] for i in indices]
    assert isinstance(batch, SampleBatch)
    images, _ = batch.columns
    assert images.shape == (3, 1, 28, 28)
    np.testing.assert_allclose(images.numpy(), np.stack([image.numpy() for image, _ in items]), atol=1e-6)


def test_tensor_transforms_run_on_the_tensors_device(device):
    """The same pixels on cuda as on the CPU, and the result stays on the device."""
    batch = tinytorch.rand(3, 2, 9, 8)
    steps = [T.Pad((1, 2), fill=0.5), T.Pad(2, padding_mode="reflect"), T.CenterCrop(5), T.Resize((6, 11)),
             T.Resize(4, T.InterpolationMode.NEAREST), T.RandomRotation(30, T.InterpolationMode.BILINEAR, fill=(0.2, 0.4)),
             T.RandomCrop(7, padding=1), T.RandomHorizontalFlip()]
    for step in steps:
        tinytorch.manual_seed(3)
        expected = step(batch).numpy()
        tinytorch.manual_seed(3)
        out = step(batch.to(device))
        assert out.device.type == device
        np.testing.assert_allclose(out.cpu().numpy(), expected, atol=1e-6)
        tinytorch.manual_seed(3)
        expected = step.batch(batch).numpy()
        tinytorch.manual_seed(3)
        np.testing.assert_allclose(step.batch(batch.to(device)).cpu().numpy(), expected, atol=1e-6)


def test_arrays_without_pillow_use_the_tensor_algorithms(monkeypatch):
    """Without Pillow (MNIST then gives arrays), arrays are resized and rotated as tensors are."""
    array = _image(12, 10, 3)
    with_pillow = [T.Resize((6, 5))(array), T.rotate(array, 90.0), T.rotate(array, 33.0)]
    monkeypatch.setattr(T, "_pil_image_module", lambda: None)
    resized = T.Resize((6, 5))(array)
    as_tensor = T.Resize((6, 5))(_as("tensor", array)).numpy().transpose(1, 2, 0)
    assert resized.dtype == np.uint8 and np.array_equal(resized, as_tensor)
    assert np.abs(resized.astype(int) - with_pillow[0]).max() <= 1  # the same filter, rounded apart
    turned = T.rotate(array, 90.0)
    assert np.array_equal(turned[1:-1], with_pillow[1][1:-1])  # a 10 x 12 picture turned in a 12 x 10 frame
    batch = np.stack([array, array[::-1]])
    tinytorch.manual_seed(1)
    together = T.RandomRotation(30, fill=(1, 2, 3)).batch(batch)
    tinytorch.manual_seed(1)
    assert np.array_equal(together, np.stack([T.RandomRotation(30, fill=(1, 2, 3))(image) for image in batch]))
    assert (np.asarray(T.rotate(array, 33.0)) == with_pillow[2]).mean() > 0.95
