"""Transforms: values by hand, PIL/array/tensor inputs, and the batched path equal to per-image."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinytorch
from tinytorch.vision import transforms as T

Image = pytest.importorskip("PIL.Image")


def _image(h=4, w=5, c=None, seed=0):
    shape = (h, w) if c is None else (h, w, c)
    return np.random.default_rng(seed).integers(0, 256, size=shape).astype(np.uint8)


# -- ToTensor ----------------------------------------------------------------------------------------
def test_to_tensor_gray_array():
    array = np.array([[0, 51], [255, 102]], np.uint8)
    tensor = T.ToTensor()(array)
    assert tensor.shape == (1, 2, 2) and tensor.dtype == tinytorch.float32
    assert tensor.tolist() == [[[0.0, np.float32(0.2)], [1.0, np.float32(0.4)]]]


def test_to_tensor_color_array_moves_channels_first():
    array = _image(3, 4, 3)
    tensor = T.ToTensor()(array)
    assert tensor.shape == (3, 3, 4)
    assert np.array_equal(tensor.numpy()[2], array[:, :, 2].astype(np.float32) / 255)


def test_to_tensor_pil_images_match_arrays():
    gray, color = _image(), _image(c=3)
    assert np.array_equal(T.ToTensor()(Image.fromarray(gray)).numpy(), T.ToTensor()(gray).numpy())
    assert np.array_equal(T.ToTensor()(Image.fromarray(color)).numpy(), T.ToTensor()(color).numpy())
    bits = Image.fromarray(np.array([[True, False]]))
    assert T.ToTensor()(bits).tolist() == [[[1.0, 0.0]]]


def test_to_tensor_keeps_non_uint8_values():
    tensor = T.ToTensor()(np.full((2, 2), 7.5, np.float64))
    assert tensor.dtype == tinytorch.float64 and tensor.max().item() == 7.5


def test_to_tensor_errors():
    with pytest.raises(ValueError, match="pic should be 2/3 dimensional. Got 1 dimensions."):
        T.ToTensor()(np.zeros(3, np.uint8))
    with pytest.raises(TypeError, match="pic should be PIL Image or ndarray"):
        T.ToTensor()([[1, 2]])


def test_to_tensor_batch_matches_items():
    for batch in (np.stack([_image(seed=i) for i in range(3)]), np.stack([_image(c=3, seed=i) for i in range(3)])):
        expected = np.stack([T.ToTensor()(image).numpy() for image in batch])
        assert np.array_equal(T.ToTensor().batch(batch).numpy(), expected)


# -- Normalize ---------------------------------------------------------------------------------------
def test_normalize_values_per_channel():
    x = tinytorch.tensor([[[1.0, 2.0]], [[3.0, 5.0]]])  # 2 x 1 x 2
    out = T.Normalize((1.0, 1.0), (0.5, 2.0))(x)
    assert out.tolist() == [[[0.0, 2.0]], [[1.0, 2.0]]]
    assert x.tolist() == [[[1.0, 2.0]], [[3.0, 5.0]]]  # not in place
    batch = T.Normalize((1.0, 1.0), (0.5, 2.0)).batch(tinytorch.stack([x, x * 2]))
    assert batch[1].tolist() == [[[2.0, 6.0]], [[2.5, 4.5]]]


def test_normalize_fast_path_broadcasts_a_wider_std_as_sub_then_div():
    """One channel against three stds: three channels, as ``x.sub(mean).div(std)`` gives (the
    fast path divides in place only when std does not widen the result)."""
    x = tinytorch.tensor([[[1.0, 3.0]]])  # 1 x 1 x 2
    out = T.Normalize((1.0,), (0.5, 1.0, 2.0))(x)
    assert out.tolist() == [[[0.0, 4.0]], [[0.0, 2.0]], [[0.0, 1.0]]]


def test_a_batched_compose_normalizes_its_own_intermediate_in_place():
    """ToTensor then Normalize on a batch: Normalize writes into ToTensor's new array (one batch
    array at a time, not two), with the bits of the out-of-place form."""
    import tracemalloc

    images = np.random.default_rng(0).integers(0, 256, (256, 28, 28), dtype=np.uint8)
    pipeline = T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))])
    expected = (T.ToTensor().batch(images).numpy() - np.float32(0.1307)) / np.float32(0.3081)
    tracemalloc.start()
    try:
        batch = T.batched(pipeline)(images)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert np.array_equal(batch.numpy(), expected)
    assert batch.numpy().nbytes <= peak < 1.5 * batch.numpy().nbytes


def test_a_batched_compose_never_writes_into_the_callers_array():
    """A float batch passes ToTensor unchanged (a view of the caller's array): Normalize must not
    write into it."""
    images = np.random.default_rng(1).random((4, 5, 6), dtype=np.float32)
    before = images.copy()
    out = T.batched(T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.25,))]))(images)
    assert np.array_equal(images, before)
    assert np.array_equal(out.numpy()[:, 0], (before - np.float32(0.5)) / np.float32(0.25))


def test_normalize_in_place_and_functional():
    x = tinytorch.ones(1, 2, 2)
    assert T.Normalize([0.5], [0.25], inplace=True)(x) is x
    assert x.tolist() == [[[2.0, 2.0], [2.0, 2.0]]]
    assert T.normalize(tinytorch.ones(1, 1, 1), [1.0], [2.0]).item() == 0.0


def test_normalize_is_differentiable():
    x = tinytorch.ones(1, 2, 2, requires_grad=True)
    T.Normalize([0.0], [4.0])(x).sum().backward()
    assert x.grad.tolist() == [[[0.25, 0.25], [0.25, 0.25]]]


def test_normalize_errors():
    with pytest.raises(TypeError, match="Input tensor should be a float tensor. Got tinytorch.uint8."):
        T.Normalize([0], [1])(tinytorch.zeros(1, 2, 2, dtype=tinytorch.uint8))
    with pytest.raises(ValueError, match=r"Expected tensor to be a tensor image of size \(..., C, H, W\)"):
        T.Normalize([0], [1])(tinytorch.zeros(2, 2))
    with pytest.raises(ValueError, match="std evaluated to zero after conversion to tinytorch.float32"):
        T.Normalize([0], [0])(tinytorch.zeros(1, 2, 2))
    with pytest.raises(TypeError, match="img should be Tensor Image"):
        T.Normalize([0], [1])(np.zeros((1, 2, 2)))


# -- Compose, Lambda, batched() ----------------------------------------------------------------------
def test_compose_and_lambda():
    pipeline = T.Compose([T.ToTensor(), T.Lambda(lambda t: t * 2)])
    assert pipeline(np.array([[255]], np.uint8)).tolist() == [[[2.0]]]
    assert repr(T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,))])) == (
        "Compose(\n    ToTensor()\n    Normalize(mean=(0.5,), std=(0.5,))\n)"
    )
    with pytest.raises(TypeError, match="Argument lambd should be callable, got 'int'"):
        T.Lambda(3)


def test_batched_needs_batchable_steps_that_end_in_a_tensor():
    assert T.batched(T.Compose([T.ToTensor(), T.Lambda(lambda t: t)])) is None
    assert T.batched(T.RandomHorizontalFlip()) is None  # per image it gives a PIL image back
    assert T.batched(T.Compose([T.Compose([T.RandomCrop(2)]), T.ToTensor()])) is not None
    assert T.batched(T.ToTensor()) is not None


# -- random transforms -------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["array", "tensor", "pil"])
def test_horizontal_flip_always_and_never(kind):
    array = _image()
    img = {"array": array, "tensor": tinytorch.from_numpy(array[None].copy()), "pil": Image.fromarray(array)}[kind]
    flipped = np.asarray(T.RandomHorizontalFlip(p=1.0)(img)).reshape(array.shape)
    assert np.array_equal(flipped, array[:, ::-1])
    assert np.array_equal(np.asarray(T.RandomHorizontalFlip(p=0.0)(img)).reshape(array.shape), array)


def test_horizontal_flip_probability():
    tinytorch.manual_seed(0)
    flips = sum(T.RandomHorizontalFlip(p=0.3)(np.array([[0, 1]], np.uint8))[0, 0] == 1 for _ in range(2000))
    assert 500 < flips < 700


def test_random_crop_of_a_padded_image():
    ones = np.ones((3, 3), np.uint8)
    whole = T.RandomCrop(7, padding=2)(ones)  # the crop is the whole padded image
    expected = np.zeros((7, 7), np.uint8)
    expected[2:5, 2:5] = 1
    assert np.array_equal(whole, expected)
    lr_tb = T.RandomCrop((5, 3), padding=(0, 1))(ones)  # 0 left/right, 1 top/bottom
    assert lr_tb[:, 0].tolist() == [0, 1, 1, 1, 0]
    edge = T.RandomCrop(5, padding=1, padding_mode="edge")(np.arange(9, dtype=np.uint8).reshape(3, 3))
    assert np.array_equal(edge, np.pad(np.arange(9).reshape(3, 3), 1, mode="edge"))
    assert T.RandomCrop(4, pad_if_needed=True, fill=9)(ones).shape == (4, 4)


def test_random_crop_windows_cover_the_image():
    image = np.arange(16, dtype=np.uint8).reshape(4, 4)
    corners = {int(T.RandomCrop(2)(image)[0, 0]) for _ in range(300)}
    assert corners == {0, 1, 2, 4, 5, 6, 8, 9, 10}  # every top-left corner of a 2x2 window


def test_random_crop_tensor_and_pil_and_errors():
    tensor = tinytorch.arange(2 * 4 * 4).reshape(2, 4, 4)
    crop = T.RandomCrop(2)(tensor)
    i, j = divmod(crop[0, 0, 0].item(), 4)
    assert crop.tolist() == tensor[:, i : i + 2, j : j + 2].tolist()
    assert T.RandomCrop(3)(Image.fromarray(_image())).size == (3, 3)
    with pytest.raises(ValueError, match=r"Required crop size \(9, 9\) is larger than input image size \(4, 5\)"):
        T.RandomCrop(9)(_image())
    with pytest.raises(ValueError, match="Padding mode should be either"):
        T.RandomCrop(2, padding_mode="wrap")


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(1, 6), color=st.booleans())
def test_batched_pipeline_equals_images_one_at_a_time(seed, n, color):
    pipeline = T.Compose([
        T.RandomCrop(6, padding=2), T.RandomHorizontalFlip(), T.ToTensor(),
        T.RandomHorizontalFlip(0.7), T.Normalize((0.5,) * (3 if color else 1), (0.25,) * (3 if color else 1)),
    ])
    images = np.stack([_image(6, 7, 3 if color else None, seed=seed + k) for k in range(n)])
    tinytorch.manual_seed(seed)
    batch = T.batched(pipeline)(images)
    tinytorch.manual_seed(seed)
    one_by_one = [pipeline(Image.fromarray(image)) for image in images]
    assert np.array_equal(batch.numpy(), np.stack([t.numpy() for t in one_by_one]))


def test_single_random_transform_batch_equals_items():
    images = np.stack([_image(seed=k) for k in range(5)])
    for transform in (T.RandomHorizontalFlip(), T.RandomCrop(3, padding=1)):
        tinytorch.manual_seed(1)
        batch = transform.batch(images)
        tinytorch.manual_seed(1)
        assert np.array_equal(batch, np.stack([transform(image) for image in images]))


def test_resize():
    assert T.Resize(14)(Image.fromarray(_image(28, 28))).size == (14, 14)
    assert T.Resize(5)(_image(20, 10)).shape == (10, 5)  # the smaller edge becomes 5
    assert T.Resize((3, 8))(Image.fromarray(_image())).size == (8, 3)
    assert T.Resize(2)(tinytorch.zeros(1, 4, 4)).shape == (1, 2, 2)  # tensors too, through F.interpolate
