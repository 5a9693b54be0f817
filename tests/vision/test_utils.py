"""make_grid (torchvision's layout, checked against hand-built grids) and save_image."""

import numpy as np
import pytest

import tinytorch
from tinytorch.vision import transforms
from tinytorch.vision.utils import make_grid, save_image

# Three one-channel 2x2 images filled with 1, 2, 3; two per row, one pixel of padding.
THREE = tinytorch.tensor([[[[1.0, 1.0], [1.0, 1.0]]], [[[2.0, 2.0], [2.0, 2.0]]], [[[3.0, 3.0], [3.0, 3.0]]]])
GRID = [
    [0, 0, 0, 0, 0, 0, 0],
    [0, 1, 1, 0, 2, 2, 0],
    [0, 1, 1, 0, 2, 2, 0],
    [0, 0, 0, 0, 0, 0, 0],
    [0, 3, 3, 0, 0, 0, 0],
    [0, 3, 3, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0],
]


def test_grid_layout_and_channel_expansion():
    grid = make_grid(THREE, nrow=2, padding=1)
    assert grid.shape == (3, 7, 7) and grid.dtype == tinytorch.float32
    for channel in grid.tolist():
        assert channel == GRID


def test_pad_value_and_default_padding():
    grid = make_grid(THREE, nrow=3, pad_value=9)  # padding 2: 3 * (2 + 2) + 2 wide, 2 + 2 + 2 high
    assert grid.shape == (3, 6, 14)
    row = grid[0, 2].tolist()
    assert row == [9, 9, 1, 1, 9, 9, 2, 2, 9, 9, 3, 3, 9, 9]
    assert grid[0, :2].eq(9).all().item() and grid[0, 4:].eq(9).all().item()


def test_normalize_with_min_max_and_value_range_and_scale_each():
    grid = make_grid(THREE, nrow=2, padding=1, normalize=True)  # (x - 1) / (3 - 1)
    assert grid[0, 1, 1].item() == 0.0 and grid[0, 1, 4].item() == 0.5 and grid[0, 4, 1].item() == 1.0
    assert grid[0, 0, 0].item() == 0.0
    clipped = make_grid(THREE, nrow=2, padding=1, normalize=True, value_range=(0, 2))
    assert [clipped[0, 1, 1].item(), clipped[0, 1, 4].item(), clipped[0, 4, 1].item()] == [0.5, 1.0, 1.0]
    ramp = tinytorch.tensor([[[[0.0, 2.0]]], [[[10.0, 20.0]]]])
    each = make_grid(ramp, padding=0, normalize=True, scale_each=True)
    assert each[0].tolist() == [[0.0, 1.0, 0.0, 1.0]]
    assert np.allclose(make_grid(ramp, padding=0, normalize=True)[0].numpy(), [[0.0, 0.1, 0.5, 1.0]])
    assert THREE[2].max().item() == 3.0  # the input is untouched


def test_single_images():
    one = tinytorch.tensor([[[0.25, 0.5]]])  # 1 x 1 x 2
    assert make_grid(one).tolist() == [[[0.25, 0.5]]] * 3
    assert make_grid(one[0]).shape == (3, 1, 2)  # H x W
    assert make_grid(one[None]).shape == (3, 1, 2)  # a batch of one: no padding
    color = tinytorch.rand(2, 3, 4, 4)
    assert make_grid(color, padding=0).tolist() == tinytorch.cat([color[0], color[1]], 2).tolist()


def test_list_input_and_errors():
    assert make_grid([THREE[0], THREE[1]], padding=1).shape == (3, 4, 7)
    with pytest.raises(TypeError, match="tensor or list of tensors expected, got <class 'numpy.ndarray'>"):
        make_grid(np.zeros((1, 2, 2)))
    with pytest.raises(TypeError, match="got a list containing <class 'int'>"):
        make_grid([THREE[0], 3])
    with pytest.raises(TypeError, match="value_range has to be a tuple"):
        make_grid(THREE, normalize=True, value_range=[0, 1])


def test_save_image_rounds_to_uint8_png(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    path = tmp_path / "one.png"
    save_image(tinytorch.tensor([[[0.0, 0.5], [1.0, 0.2]]]), path)
    with Image.open(path) as image:
        assert image.format == "PNG" and image.mode == "RGB"
        pixels = np.asarray(image)
    assert pixels[:, :, 0].tolist() == [[0, 128], [255, 51]] and (pixels[:, :, 2] == pixels[:, :, 0]).all()
    save_image(THREE / 3, tmp_path / "grid.png", nrow=2, padding=1)
    with Image.open(tmp_path / "grid.png") as image:
        assert image.size == (7, 7) and np.asarray(image)[4, 1, 0] == 255


def test_save_image_without_pillow_uses_matplotlib(tmp_path, monkeypatch):
    image_module = pytest.importorskip("matplotlib.image")
    monkeypatch.setattr(transforms, "_pil_image_module", lambda: None)  # as if Pillow were missing
    path = tmp_path / "plt.png"
    save_image(tinytorch.tensor([[[0.0, 1.0]]]), path)
    pixels = image_module.imread(path)
    assert pixels.shape[:2] == (1, 2) and pixels[0, 0, 0] == 0.0 and pixels[0, 1, 0] == 1.0
