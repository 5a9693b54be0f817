"""F.grid_sample and F.affine_grid (and torch's top-level grid_sampler*, affine_grid_generator):
values and gradients against torch in every mode, padding mode and align_corners, PyTorch's
rounding at pixel boundaries and its handling of NaN/inf grids, finite-difference gradients of
first and second order, errors and warnings."""

import warnings

import numpy as np
import pytest

import tinytorch
from tinytorch.autograd import gradcheck, gradgradcheck
from tinytorch.nn.functional import affine_grid, grid_sample
from tinytorch import affine_grid_generator, grid_sampler, grid_sampler_2d, grid_sampler_3d

from .helpers import assert_same_error, numpy_of

TOLERANCE = {"float32": dict(atol=2e-5, rtol=2e-5), "float64": dict(atol=1e-12, rtol=1e-10)}
MODES_2D = [(mode, padding) for mode in ("bilinear", "nearest", "bicubic") for padding in ("zeros", "border", "reflection")]
MODES_3D = [(mode, padding) for mode in ("bilinear", "nearest") for padding in ("zeros", "border", "reflection")]
CASES = [(2, m, p) for m, p in MODES_2D] + [(3, m, p) for m, p in MODES_3D]
CASE_IDS = [f"{d}d-{m}-{p}" for d, m, p in CASES]


def _shapes(dims):
    return ((2, 3, 4, 5), (2, 6, 7, 2)) if dims == 2 else ((2, 3, 3, 4, 5), (2, 2, 6, 7, 3))


def _run_both(torch, x, g, device, **kwargs):
    """Outputs and (input, grid) gradients of a weighted sum, from tinytorch (on ``device``) and torch."""
    a = tinytorch.tensor(x, device=device, requires_grad=True)
    b = tinytorch.tensor(g, device=device, requires_grad=True)
    ta, tb = torch.tensor(x, requires_grad=True), torch.tensor(g, requires_grad=True)
    out, expected = grid_sample(a, b, **kwargs), torch.nn.functional.grid_sample(ta, tb, **kwargs)
    assert out.shape == tuple(expected.shape) and out.dtype.name == x.dtype.name and out.device.type == device
    weights = np.random.default_rng(7).standard_normal(tuple(expected.shape)).astype(x.dtype)
    (out * tinytorch.tensor(weights, device=device)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    return (out, a.grad, b.grad), (expected, ta.grad, tb.grad)


@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("dims, mode, padding_mode", CASES, ids=CASE_IDS)
def test_values_and_gradients_match_torch(dims, mode, padding_mode, align_corners, dtype_name, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    shape, grid_shape = _shapes(dims)
    x = rng.standard_normal(shape).astype(dtype_name)
    g = rng.uniform(-1.7, 1.7, grid_shape).astype(dtype_name)  # inside and outside the input
    ours, theirs = _run_both(torch, x, g, device, mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    for got, expected in zip(ours, theirs):
        np.testing.assert_allclose(numpy_of(got), numpy_of(expected), **TOLERANCE[dtype_name])
    if mode == "nearest":
        assert not numpy_of(ours[2]).any()  # the grid's gradient is zero, as PyTorch's


@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
@pytest.mark.parametrize("dims", [2, 3])
def test_pixel_boundaries_round_as_torch(dims, dtype_name):
    """Grid values that land exactly on pixel centers, half-pixels, the borders and the
    reflection points: floor/round, the fused multiply-add of the 2-D kernel's unnormalization,
    and the zero gradient *on* a clipped border are PyTorch's."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    shape = (2, 2, 3, 4) if dims == 2 else (2, 2, 2, 3, 4)
    grid_shape = (2, 5, 7, 2) if dims == 2 else (2, 2, 5, 7, 3)
    special = np.array([-3, -2, -1.5, -1, -0.75, -2 / 3, -0.5, -1 / 3, -0.25, 0, 0.25, 1 / 3, 0.5, 2 / 3, 0.75, 1, 1.25,
                        1.5, 2, 3, 5])
    x = rng.standard_normal(shape).astype(dtype_name)
    g = rng.choice(special, size=grid_shape).astype(dtype_name)
    modes = MODES_2D if dims == 2 else MODES_3D
    for mode, padding_mode in modes:
        for align_corners in (False, True):
            ours, theirs = _run_both(torch, x, g, "cpu", mode=mode, padding_mode=padding_mode, align_corners=align_corners)
            for got, expected in zip(ours, theirs):
                np.testing.assert_allclose(numpy_of(got), numpy_of(expected), **TOLERANCE[dtype_name])


def test_fractions_agree_bit_for_bit_with_torch():
    """Sampling a 0/1 pattern returns the source coordinate's fraction: bilinear and nearest
    agree with torch exactly (the unnormalization is an fma in torch's vectorized kernel)."""
    torch = pytest.importorskip("torch")
    for dtype in (np.float32, np.float64):
        for height in (3, 5, 28):
            x = (np.arange(height) % 2).astype(dtype).reshape(1, 1, height, 1)
            ys = np.random.default_rng(height).uniform(-1, 1, 4000).astype(dtype)
            g = np.stack([np.zeros_like(ys), ys], -1).reshape(1, 1, -1, 2)
            for mode in ("bilinear", "nearest"):
                ours = grid_sample(tinytorch.tensor(x), tinytorch.tensor(g), mode=mode, align_corners=False)
                theirs = torch.nn.functional.grid_sample(torch.tensor(x), torch.tensor(g), mode=mode, align_corners=False)
                np.testing.assert_array_equal(numpy_of(ours), numpy_of(theirs))


@pytest.mark.parametrize("dims", [2, 3])
def test_non_finite_grids_give_torch_values(dims):
    """NaN, inf and huge grid values: the 2-D kernel clips NaN to 0 and lets it poison bilinear
    and bicubic weights; the 3-D kernel clips NaN to the last pixel and skips outside taps."""
    torch = pytest.importorskip("torch")
    nan, inf = float("nan"), float("inf")
    points = [[nan, 0.2], [0.1, nan], [nan, nan], [inf, 0.0], [-inf, 0.0], [1e20, 0.0], [-1e20, 0.3], [1e9, 0.1],
              [0.3, -0.7], [7.3, 3.1], [-5.2, -9.9]]
    if dims == 3:
        points = [p + [z] for p in points for z in (0.0, nan, 0.7)]
    x = np.arange(1.0, 13.0 if dims == 2 else 25.0).reshape((1, 1, 3, 4) if dims == 2 else (1, 1, 2, 3, 4))
    g = np.array(points).reshape((1, 1, len(points), dims) if dims == 2 else (1, 1, 1, len(points), dims))
    modes = MODES_2D if dims == 2 else MODES_3D
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and quietly, as PyTorch
        for mode, padding_mode in modes:
            for align_corners in (False, True):
                for dtype in (np.float32, np.float64):
                    kwargs = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
                    ours = grid_sample(tinytorch.tensor(x.astype(dtype)), tinytorch.tensor(g.astype(dtype)), **kwargs)
                    theirs = torch.nn.functional.grid_sample(torch.tensor(x.astype(dtype)), torch.tensor(g.astype(dtype)), **kwargs)
                    np.testing.assert_allclose(numpy_of(ours), numpy_of(theirs), rtol=1e-6, atol=1e-5, equal_nan=True)


def _smooth_grid(rng, grid_shape, sizes, align_corners):
    """Normalized coordinates whose pixel positions are away from integers (the kinks of
    floor/round and of clipping), some of them outside the input."""
    columns = []
    for size in sizes:
        pixel = rng.integers(-2, size + 1, grid_shape[:-1]) + rng.uniform(0.2, 0.8, grid_shape[:-1])
        columns.append(2 * pixel / (size - 1) - 1 if align_corners else (2 * pixel + 1) / size - 1)
    return np.stack(columns, -1)


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("dims, mode, padding_mode", CASES, ids=CASE_IDS)
def test_first_and_second_derivatives_match_finite_differences(dims, mode, padding_mode, align_corners):
    rng = np.random.default_rng(2)
    shape = (2, 2, 3, 4) if dims == 2 else (1, 2, 2, 3, 3)
    grid_shape = (2, 2, 3, 2) if dims == 2 else (1, 2, 2, 2, 3)
    x = tinytorch.tensor(rng.standard_normal(shape), requires_grad=True)
    g = tinytorch.tensor(_smooth_grid(rng, grid_shape, shape[2:][::-1], align_corners), requires_grad=True)

    def sample(a, b):
        return grid_sample(a, b, mode=mode, padding_mode=padding_mode, align_corners=align_corners)

    assert gradcheck(sample, (x, g))
    assert gradgradcheck(sample, (x, g))


def test_nearest_gives_the_grid_a_zero_gradient_even_alone():
    torch = pytest.importorskip("torch")
    g = tinytorch.tensor(np.random.default_rng(3).uniform(-1, 1, (1, 2, 2, 2)), requires_grad=True)
    out = grid_sample(tinytorch.ones(1, 1, 3, 3, dtype=tinytorch.float64), g, mode="nearest", align_corners=False)
    tg = torch.tensor(g.detach().numpy(), requires_grad=True)
    expected = torch.nn.functional.grid_sample(torch.ones(1, 1, 3, 3, dtype=torch.float64), tg, mode="nearest", align_corners=False)
    assert out.requires_grad and expected.requires_grad
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_array_equal(numpy_of(g.grad), numpy_of(tg.grad))


def test_float16_is_computed_in_float32():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 4, 5)).astype(np.float16)
    g = rng.uniform(-1, 1, (2, 3, 3, 2)).astype(np.float16)
    for mode in ("bilinear", "nearest", "bicubic"):
        out = grid_sample(tinytorch.tensor(x), tinytorch.tensor(g), mode=mode, align_corners=False)
        expected = torch.nn.functional.grid_sample(torch.tensor(x), torch.tensor(g), mode=mode, align_corners=False)
        assert out.dtype == tinytorch.float16
        np.testing.assert_allclose(numpy_of(out).astype(np.float64), numpy_of(expected).astype(np.float64), atol=2e-2)


@pytest.mark.parametrize("input_shape, grid_shape", [
    ((0, 3, 4, 5), (0, 6, 7, 2)), ((2, 0, 4, 5), (2, 6, 7, 2)), ((2, 3, 4, 5), (2, 0, 7, 2)),
    ((2, 3, 4, 5, 6), (2, 0, 7, 1, 3)),
])
def test_empty_batches_channels_and_grids(input_shape, grid_shape, device):
    torch = pytest.importorskip("torch")
    a = tinytorch.zeros(*input_shape, device=device, requires_grad=True)
    b = tinytorch.zeros(*grid_shape, device=device, requires_grad=True)
    out = grid_sample(a, b, align_corners=False)
    expected = torch.nn.functional.grid_sample(torch.zeros(*input_shape), torch.zeros(*grid_shape), align_corners=False)
    assert out.shape == tuple(expected.shape)
    out.sum().backward()
    assert a.grad.shape == a.shape and b.grad.shape == b.shape


def test_identity_affine_grid_samples_the_input_back(device):
    """The Spatial Transformer's starting point: theta = identity reproduces the image."""
    x = tinytorch.randn(3, 2, 6, 5, device=device)
    theta = tinytorch.tensor([[1.0, 0, 0], [0, 1.0, 0]], device=device).expand(3, 2, 3)
    for align_corners in (False, True):
        grid = affine_grid(theta, x.size(), align_corners=align_corners)
        out = grid_sample(x, grid, align_corners=align_corners)
        np.testing.assert_allclose(numpy_of(out), numpy_of(x), atol=1e-5)


def test_align_corners_none_warns_as_torch():
    torch = pytest.importorskip("torch")
    x, g = tinytorch.zeros(1, 1, 2, 2), tinytorch.zeros(1, 1, 1, 2)
    theta = tinytorch.zeros(1, 2, 3)
    for ours, theirs in [
        (lambda: grid_sample(x, g), lambda: torch.nn.functional.grid_sample(torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 1, 2))),
        (lambda: affine_grid(theta, [1, 1, 2, 2]), lambda: torch.nn.functional.affine_grid(torch.zeros(1, 2, 3), [1, 1, 2, 2])),
        (lambda: affine_grid(theta, [1, 1, 1, 2], align_corners=True),
         lambda: torch.nn.functional.affine_grid(torch.zeros(1, 2, 3), [1, 1, 1, 2], align_corners=True)),
    ]:
        with warnings.catch_warnings(record=True) as got:
            warnings.simplefilter("always")
            ours()
        with warnings.catch_warnings(record=True) as expected:
            warnings.simplefilter("always")
            theirs()
        assert [(w.category, str(w.message)) for w in got] == [(w.category, str(w.message)) for w in expected]
        assert all(w.filename == __file__ for w in got)  # stacklevel: the caller's line
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        grid_sample(x, g, align_corners=False)
        affine_grid(theta, [1, 1, 2, 2], align_corners=False)


def _grid_sample_errors(torch, lib):
    """Bad calls, each as a zero-argument function for the library ``lib``."""
    F = lib.nn.functional
    x, g = lib.zeros(2, 3, 4, 5), lib.zeros(2, 6, 7, 2)
    x5, g5 = lib.zeros(2, 3, 1, 4, 5), lib.zeros(2, 1, 6, 7, 3)
    return [
        lambda: F.grid_sample(x, g, mode="linear", align_corners=False),
        lambda: F.grid_sample(x, g, padding_mode="circular", align_corners=False),
        lambda: F.grid_sample(x, g[:1], align_corners=False),
        lambda: F.grid_sample(x, g[..., :1], align_corners=False),
        lambda: F.grid_sample(x[:, :, :0], g, align_corners=False),
        lambda: F.grid_sample(x, lib.zeros(2, 6, 2), align_corners=False),
        lambda: F.grid_sample(x, lib.zeros(2, 6, 7, 8, 2), align_corners=False),
        lambda: F.grid_sample(x[0], lib.zeros(3, 7, 1), align_corners=False),
        lambda: F.grid_sample(x5, lib.zeros(2, 6, 7, 3), align_corners=False),
        lambda: F.grid_sample(x5, g5, mode="bicubic", align_corners=False),
        lambda: F.grid_sample(x.long(), g.long(), align_corners=False),
        lambda: F.grid_sample(x5.long(), g5.long(), align_corners=False),
        lambda: F.grid_sample(x, g.double(), align_corners=False),
        lambda: F.grid_sample(x.double(), g, align_corners=False),
        lambda: F.grid_sample(x, g.long(), align_corners=False),
        lambda: F.grid_sample(x, g, align_corners=1),
        lambda: F.grid_sample([1.0], g, align_corners=False),
        lambda: F.grid_sample(lib.tensor(1.0), lib.tensor(1.0), align_corners=False),
    ]


def test_grid_sample_errors_match_torch():
    torch = pytest.importorskip("torch")
    for ours, theirs in zip(_grid_sample_errors(torch, tinytorch), _grid_sample_errors(torch, torch)):
        assert_same_error(ours, theirs)


def _affine_grid_errors(lib):
    F = lib.nn.functional
    theta = lib.zeros(2, 2, 3)
    return [
        lambda: F.affine_grid(theta, [2, 3, 0, 5], align_corners=False),
        lambda: F.affine_grid(theta, [2, 0, 3, 5], align_corners=True),
        lambda: F.affine_grid(theta, [2, 3, 3, -5], align_corners=False),
        lambda: F.affine_grid(theta, [3, 3, 3, 5], align_corners=False),
        lambda: F.affine_grid(theta.long(), [2, 3, 3, 5], align_corners=False),
        lambda: F.affine_grid(theta, [2, 3, 3], align_corners=False),
        lambda: F.affine_grid(theta, (2, 3, 3, 4, 5), align_corners=False),
        lambda: F.affine_grid(lib.zeros(2, 3, 4), (2, 3, 4, 5), align_corners=False),
        lambda: F.affine_grid(theta[0], [2, 3, 3, 5], align_corners=False),
        lambda: F.affine_grid(theta, [2, 3, 3, 5], align_corners="x"),
        lambda: F.affine_grid(theta, 5, align_corners=False),
        lambda: F.affine_grid(theta, lib.Size([2, 3, 3]), align_corners=False),
        lambda: F.affine_grid(theta, lib.Size([2, 3, 0, 5]), align_corners=False),
    ]


def test_affine_grid_errors_match_torch():
    torch = pytest.importorskip("torch")
    for ours, theirs in zip(_affine_grid_errors(tinytorch), _affine_grid_errors(torch)):
        assert_same_error(ours, theirs)


@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
@pytest.mark.parametrize("size", [(2, 3, 4, 5), (2, 1, 1, 7), (2, 3, 28, 28), (2, 1, 3, 4, 5), (2, 2, 1, 1, 1)])
def test_affine_grid_matches_torch(size, dtype_name, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    dims = len(size) - 2
    theta = rng.standard_normal((2, dims, dims + 1)).astype(dtype_name)
    for align_corners in (False, True):
        ours = tinytorch.tensor(theta, device=device, requires_grad=True)
        theirs = torch.tensor(theta, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unit sizes with align_corners=True warn in both
            out = affine_grid(ours, size, align_corners=align_corners)
            expected = torch.nn.functional.affine_grid(theirs, size, align_corners=align_corners)
        assert out.shape == tuple(expected.shape) and out.dtype.name == dtype_name and out.device.type == device
        np.testing.assert_allclose(numpy_of(out), numpy_of(expected), **TOLERANCE[dtype_name])
        weights = rng.standard_normal(tuple(expected.shape)).astype(dtype_name)
        (out * tinytorch.tensor(weights, device=device)).sum().backward()
        (expected * torch.tensor(weights)).sum().backward()
        np.testing.assert_allclose(numpy_of(ours.grad), numpy_of(theirs.grad), atol=1e-4 if dtype_name == "float32" else 1e-10)


def test_affine_grid_derivatives_match_finite_differences():
    rng = np.random.default_rng(6)
    for size in ((2, 3, 4, 5), (1, 1, 2, 3, 4)):
        dims = len(size) - 2
        theta = tinytorch.tensor(rng.standard_normal((size[0], dims, dims + 1)), requires_grad=True)
        for align_corners in (False, True):
            def grid_of(t, size=size, align_corners=align_corners):
                return affine_grid(t, size, align_corners=align_corners)

            assert gradcheck(grid_of, (theta,))
            assert gradgradcheck(grid_of, (theta,))


def test_top_level_primitives_match_torch():
    """torch.grid_sampler(_2d/_3d) and torch.affine_grid_generator: enum arguments, no warning."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    x, g = rng.standard_normal((2, 3, 4, 5)), rng.uniform(-1.2, 1.2, (2, 3, 2, 2))
    x5, g5 = rng.standard_normal((1, 2, 3, 4, 5)), rng.uniform(-1.2, 1.2, (1, 2, 3, 2, 3))
    theta = rng.standard_normal((2, 2, 3))
    for ours, theirs in [
        (grid_sampler(tinytorch.tensor(x), tinytorch.tensor(g), 2, 2, True), torch.grid_sampler(torch.tensor(x), torch.tensor(g), 2, 2, True)),
        (grid_sampler_2d(tinytorch.tensor(x), tinytorch.tensor(g), 0, 1, False), torch.grid_sampler_2d(torch.tensor(x), torch.tensor(g), 0, 1, False)),
        (grid_sampler_3d(tinytorch.tensor(x5), tinytorch.tensor(g5), 1, 0, False), torch.grid_sampler_3d(torch.tensor(x5), torch.tensor(g5), 1, 0, False)),
        (affine_grid_generator(tinytorch.tensor(theta), [2, 1, 3, 4], False), torch.affine_grid_generator(torch.tensor(theta), [2, 1, 3, 4], False)),
    ]:
        np.testing.assert_allclose(numpy_of(ours), numpy_of(theirs), atol=1e-12)
    for lib_ours, lib_theirs in [
        (lambda: grid_sampler_2d(tinytorch.tensor(x5), tinytorch.tensor(g5), 0, 0, False), lambda: torch.grid_sampler_2d(torch.tensor(x5), torch.tensor(g5), 0, 0, False)),
        (lambda: grid_sampler_3d(tinytorch.tensor(x), tinytorch.tensor(g), 0, 0, False), lambda: torch.grid_sampler_3d(torch.tensor(x), torch.tensor(g), 0, 0, False)),
        (lambda: grid_sampler(tinytorch.tensor(x), tinytorch.tensor(g), 0.0, 0, False), lambda: torch.grid_sampler(torch.tensor(x), torch.tensor(g), 0.0, 0, False)),
        (lambda: grid_sampler(tinytorch.tensor(x), tinytorch.tensor(g), 0, True, False), lambda: torch.grid_sampler(torch.tensor(x), torch.tensor(g), 0, True, False)),
        (lambda: affine_grid_generator(tinytorch.zeros(2, 2, 3), [2, 3, 4], False), lambda: torch.affine_grid_generator(torch.zeros(2, 2, 3), [2, 3, 4], False)),
        (lambda: affine_grid_generator(tinytorch.zeros(2, 2, 3), [2, 3, 4, 5, 6], False), lambda: torch.affine_grid_generator(torch.zeros(2, 2, 3), [2, 3, 4, 5, 6], False)),
        (lambda: affine_grid_generator(tinytorch.zeros(2, 2, 3), [2, 3, 4, 5], 0), lambda: torch.affine_grid_generator(torch.zeros(2, 2, 3), [2, 3, 4, 5], 0)),
    ]:
        assert_same_error(lib_ours, lib_theirs)
    with pytest.raises(RuntimeError, match="unknown interpolation_mode 3"):
        grid_sampler(tinytorch.tensor(x), tinytorch.tensor(g), 3, 0, False)


def test_input_and_grid_must_share_a_device(device):
    grid = tinytorch.zeros(1, 1, 1, 2)  # on the CPU
    if device == "cpu":
        assert grid_sample(tinytorch.zeros(1, 1, 2, 2), grid, align_corners=False).device.type == "cpu"
        return
    with pytest.raises(RuntimeError, match="grid_sampler\\(\\): expected input and grid to be on same device, but input is on cuda"):
        grid_sample(tinytorch.zeros(1, 1, 2, 2, device=device), grid, align_corners=False)


def test_spatial_transformer_step_trains(device):
    """The tutorial's sampler in a training step: the localization regressor gets a gradient
    through affine_grid and grid_sample, and a few SGD steps lower the loss."""
    rows, columns = np.meshgrid(np.linspace(0, 3, 12), np.linspace(0, 3, 12), indexing="ij")
    images = tinytorch.tensor(np.stack([np.sin(rows * k) * np.cos(columns) for k in (1, 2)])[:, None], dtype=tinytorch.float32, device=device)
    moved = tinytorch.tensor([[1.0, 0, 0.2], [0, 1.0, -0.1]], device=device).expand(2, 2, 3)
    targets = grid_sample(images, affine_grid(moved, images.size(), align_corners=False), align_corners=False)
    theta_bias = tinytorch.tensor([1.0, 0, 0, 0, 1, 0], device=device, requires_grad=True)  # the identity
    optimizer = tinytorch.optim.SGD([theta_bias], lr=0.5)
    losses = []
    for _ in range(40):
        optimizer.zero_grad()
        theta = theta_bias.view(1, 2, 3).expand(2, 2, 3)
        out = grid_sample(images, affine_grid(theta, images.size(), align_corners=False), align_corners=False)
        loss = ((out - targets) ** 2).mean()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] * 0.1
