"""ImageFolder / DatasetFolder, FakeData and vision.io.read_image / decode_image, with
torchvision's names, defaults, ordering and errors."""

import io
import os

import numpy as np
import pytest

import tinytorch
from tinytorch.utils.data import DataLoader
from tinytorch.vision import datasets, transforms
from tinytorch.vision.io import ImageReadMode, decode_image, read_file, read_image

Image = pytest.importorskip("PIL.Image")


def _save(path, array, format=None, **kwargs):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(array).save(path, format=format, **kwargs)


def _tree(root, rng):
    """root/{cat,dog}/*.png and a few files ImageFolder must skip."""
    arrays = {}
    for cls in ("dog", "cat"):
        for name in ("b.png", "a.PNG", "sub/c.jpg"):
            array = rng.integers(0, 256, (5, 6, 3), dtype=np.uint8)
            path = os.path.join(root, cls, name)
            _save(path, array, format="PNG")  # PNG bytes whatever the name: lossless
            arrays[path] = array
    open(os.path.join(root, "cat", "notes.txt"), "w").close()
    open(os.path.join(root, "stray.png"), "w").close()  # not in a class folder
    return arrays


def test_image_folder_classes_samples_and_items(tmp_path):
    arrays = _tree(str(tmp_path), np.random.default_rng(0))
    dataset = datasets.ImageFolder(str(tmp_path))
    assert dataset.classes == ["cat", "dog"] and dataset.class_to_idx == {"cat": 0, "dog": 1}
    expected = [(os.path.join(str(tmp_path), cls, name), i) for i, cls in enumerate(["cat", "dog"])
                for name in ("a.PNG", "b.png", "sub/c.jpg")]
    assert dataset.samples == expected and dataset.imgs == expected and dataset.targets == [0, 0, 0, 1, 1, 1]
    image, label = dataset[4]
    assert image.mode == "RGB" and label == 1
    np.testing.assert_array_equal(np.asarray(image), arrays[expected[4][0]])
    batches = DataLoader(datasets.ImageFolder(str(tmp_path), transform=transforms.ToTensor()), batch_size=6)
    images, labels = next(iter(batches))
    assert tuple(images.shape) == (6, 3, 5, 6) and labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert "Root location" in repr(dataset) and "Number of datapoints: 6" in repr(dataset)


def test_dataset_folder_with_a_loader_and_a_filter(tmp_path):
    _tree(str(tmp_path), np.random.default_rng(1))
    dataset = datasets.DatasetFolder(str(tmp_path), loader=os.path.getsize, extensions=(".txt",), allow_empty=True)
    assert [os.path.basename(p) for p, _ in dataset.samples] == ["notes.txt"] and dataset[0] == (0, 0)
    only_b = datasets.ImageFolder(str(tmp_path), is_valid_file=lambda p: p.endswith("b.png"))
    assert [os.path.basename(p) for p, _ in only_b.samples] == ["b.png", "b.png"]


def test_folder_errors_match_torchvision(tmp_path):
    with pytest.raises(FileNotFoundError, match="Couldn't find any class folder in"):
        datasets.ImageFolder(str(tmp_path))
    os.makedirs(tmp_path / "empty")
    _save(str(tmp_path / "full" / "x.png"), np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(FileNotFoundError, match="Found no valid file for the classes empty. Supported extensions are: .jpg"):
        datasets.ImageFolder(str(tmp_path))
    assert len(datasets.ImageFolder(str(tmp_path), allow_empty=True)) == 1
    with pytest.raises(ValueError, match="Both extensions and is_valid_file cannot be None or not None at the same time"):
        datasets.DatasetFolder(str(tmp_path), loader=open)


def test_fake_data_is_reproducible_and_leaves_the_global_rng_alone():
    dataset = datasets.FakeData(size=4, image_size=(3, 6, 5), num_classes=3, random_offset=7)
    tinytorch.manual_seed(0)
    before = tinytorch.rand(3)
    tinytorch.manual_seed(0)
    first, again = dataset[2], dataset[2]
    after = tinytorch.rand(3)
    assert after.tolist() == before.tolist()
    image, label = first
    assert image.mode == "RGB" and image.size == (5, 6) and isinstance(label, int) and 0 <= label < 3
    np.testing.assert_array_equal(np.asarray(image), np.asarray(again[0]))
    # the image is ToPILImage of randn with the generator seeded index + offset
    generator = tinytorch.Generator().manual_seed(9)
    noise = tinytorch.randn(3, 6, 5, generator=generator).numpy()
    expected = (np.trunc(noise * np.float32(255)).astype(np.int64) & 255).astype(np.uint8).transpose(1, 2, 0)
    np.testing.assert_array_equal(np.asarray(image), expected)
    assert label == tinytorch.randint(0, 3, (1,), generator=generator).item()
    with pytest.raises(IndexError, match="FakeData index out of range"):
        dataset[4]
    gray, _ = datasets.FakeData(size=1, image_size=(1, 4, 4))[0]
    assert gray.mode == "L"
    images, labels = next(iter(DataLoader(datasets.FakeData(size=8, image_size=(3, 4, 4), transform=transforms.ToTensor()), batch_size=8)))
    assert tuple(images.shape) == (8, 3, 4, 4) and labels.dtype == tinytorch.int64


@pytest.mark.parametrize("pil_mode, channels", [("L", 1), ("LA", 2), ("RGB", 3), ("RGBA", 4)])
def test_read_image_keeps_the_stored_channels(tmp_path, pil_mode, channels):
    rng = np.random.default_rng(2)
    array = rng.integers(0, 256, (7, 9, channels), dtype=np.uint8)
    path = str(tmp_path / "image.png")
    Image.fromarray(array[:, :, 0] if channels == 1 else array, mode=pil_mode).save(path)
    image = read_image(path)
    assert image.dtype == tinytorch.uint8 and tuple(image.shape) == (channels, 7, 9)
    np.testing.assert_array_equal(image.numpy(), array.transpose(2, 0, 1))
    for mode, expected_mode in ((ImageReadMode.GRAY, "L"), (ImageReadMode.RGB, "RGB"), ("RGB_ALPHA", "RGBA"),
                                (ImageReadMode.GRAY_ALPHA, "LA")):
        converted = read_image(path, mode)
        reference = np.asarray(Image.open(path).convert(expected_mode))
        np.testing.assert_array_equal(converted.numpy(), (reference[:, :, None] if reference.ndim == 2 else reference).transpose(2, 0, 1))


def test_decode_image_from_bytes_palette_jpeg_webp_and_gif(tmp_path):
    rng = np.random.default_rng(3)
    array = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    for fmt in ("JPEG", "WEBP"):
        buffer = io.BytesIO()
        Image.fromarray(array).save(buffer, format=fmt)
        data = tinytorch.tensor(list(buffer.getvalue()), dtype=tinytorch.uint8)
        decoded = decode_image(data)
        np.testing.assert_array_equal(decoded.numpy(), np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")).transpose(2, 0, 1))
    palette = Image.fromarray(array).convert("P")
    path = str(tmp_path / "palette.png")
    palette.save(path)
    assert tuple(read_image(path).shape) == (3, 8, 8)
    frames = [Image.fromarray(rng.integers(0, 256, (4, 5, 3), dtype=np.uint8)).convert("P") for _ in range(3)]
    gif = str(tmp_path / "animated.gif")
    frames[0].save(gif, save_all=True, append_images=frames[1:])
    assert tuple(read_image(gif).shape) == (3, 3, 4, 5)
    assert read_file(gif).dtype == tinytorch.uint8 and read_file(gif).numel() == os.path.getsize(gif)


def test_decode_image_errors():
    with pytest.raises(RuntimeError, match="Unsupported image file. Only jpeg, png, webp and gif are currently supported."):
        decode_image(tinytorch.tensor([1, 2, 3, 4], dtype=tinytorch.uint8))
    buffer = io.BytesIO()
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(buffer, format="BMP")
    with pytest.raises(RuntimeError, match="Unsupported image file"):
        decode_image(tinytorch.tensor(list(buffer.getvalue()), dtype=tinytorch.uint8))
    with pytest.raises(RuntimeError, match="Expected a torch.uint8 tensor"):
        decode_image(tinytorch.zeros(10))
    with pytest.raises(RuntimeError, match="Expected a non empty 1-dimensional tensor"):
        decode_image(tinytorch.zeros(2, 3, dtype=tinytorch.uint8))
    buffer = io.BytesIO()
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(buffer, format="PNG")
    truncated = tinytorch.tensor(list(buffer.getvalue()[:40]), dtype=tinytorch.uint8)
    with pytest.raises(RuntimeError, match="Could not decode"):
        decode_image(truncated)


def _png(array, colour_type):
    """A PNG file of ``array`` (H x W or H x W x C, uint8 or big-endian uint16 samples), written
    by hand (filter 0 on every row): the bytes libpng, torchvision's decoder, reads."""
    import struct
    import zlib

    def chunk(kind, payload):
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)

    height, width = array.shape[:2]
    depth = 16 if array.dtype == np.uint16 else 8
    rows = array.astype(">u2" if depth == 16 else np.uint8).reshape(height, -1).view(np.uint8)
    scanlines = b"".join(b"\x00" + row.tobytes() for row in rows)
    header = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(scanlines)) + chunk(b"IEND", b"")


def test_a_16_bit_grayscale_png_decodes_to_uint16_as_torchvision(tmp_path):
    """torchvision's libpng path keeps 16 bits (a uint16 tensor); converting gray to RGB replicates
    it and an added alpha is 65535."""
    gray = np.random.default_rng(4).integers(0, 65536, (5, 7), dtype=np.uint16)
    gray[0, :3] = (0, 255, 65535)
    path = tmp_path / "gray16.png"
    path.write_bytes(_png(gray, colour_type=0))
    image = read_image(str(path))
    assert image.dtype == tinytorch.uint16 and tuple(image.shape) == (1, 5, 7)
    np.testing.assert_array_equal(image.numpy()[0], gray)
    opaque = np.full_like(gray, 65535)
    expected = {ImageReadMode.GRAY: [gray], ImageReadMode.GRAY_ALPHA: [gray, opaque], ImageReadMode.RGB: [gray] * 3,
                ImageReadMode.RGB_ALPHA: [gray] * 3 + [opaque]}
    for mode, channels in expected.items():
        decoded = decode_image(read_file(str(path)), mode)
        assert decoded.dtype == tinytorch.uint16
        np.testing.assert_array_equal(decoded.numpy(), np.stack(channels))


def test_a_16_bit_colour_png_is_refused_not_read_as_8_bits():
    """Pillow reads 16-bit RGB as 8 bits (torchvision: uint16): an error, never other values."""
    rgb = np.random.default_rng(5).integers(0, 65536, (3, 4, 3), dtype=np.uint16)
    data = tinytorch.tensor(list(_png(rgb, colour_type=2)), dtype=tinytorch.uint8)
    with pytest.raises(RuntimeError, match="16-bit colour PNG images are not supported"):
        decode_image(data)
    eight = np.random.default_rng(6).integers(0, 256, (3, 4, 3), dtype=np.uint8)  # the same writer, 8 bits: read
    np.testing.assert_array_equal(decode_image(tinytorch.tensor(list(_png(eight, 2)), dtype=tinytorch.uint8)).numpy(),
                                  eight.transpose(2, 0, 1))
