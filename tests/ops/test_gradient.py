"""torch.gradient: values, dtypes, autograd and errors against torch for every form of spacing and dim."""

import numpy as np
import pytest

import tinytorch


def _values(shape, dtype):
    rng = np.random.default_rng(0)
    return (rng.standard_normal(shape) * 3).astype(dtype)


def _spacing(lib, spacing):
    """Lists of arrays stand for lists of coordinate tensors."""
    if isinstance(spacing, list) and spacing and isinstance(spacing[0], np.ndarray):
        return [lib.tensor(s) for s in spacing]
    return spacing


CASES = [
    ((5,), {}), ((5,), {"edge_order": 2}), ((4, 3), {}), ((4, 3), {"spacing": 2.0}), ((4, 3), {"spacing": 3}),
    ((4, 3), {"spacing": [0.5, 2]}), ((4, 3), {"dim": 1}), ((4, 3), {"dim": -2, "spacing": 0.25}),
    ((4, 3), {"dim": [1, 0], "spacing": [2.0, 3.0]}), ((4, 3, 5), {"dim": (0, 2), "edge_order": 2}),
    ((4, 3), {"dim": [1], "spacing": 4.0}), ((4, 3), {"spacing": [1.5], "dim": 0}),
    ((5,), {"spacing": [np.array([0.0, 1.0, 1.5, 3.5, 4.0])]}),
    ((5,), {"spacing": [np.array([0.0, 1.0, 1.5, 3.5, 4.0])], "edge_order": 2}),
    ((4, 3), {"spacing": [np.array([0.0, 0.5, 2.0, 2.5]), np.array([1.0, 2.0, 4.0])], "edge_order": 2}),
    ((4, 3), {"spacing": [np.array([1.0, 2.0, 4.0])], "dim": 1}),
    ((4, 3), {"spacing": [np.array([-1.0, 2.0, 4.0]), np.array([1.0, 2.0, 2.5, 4.0])], "dim": [1, 0]}),
]


@pytest.mark.parametrize("shape, kwargs", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_gradient_matches_torch(shape, kwargs, dtype):
    torch = pytest.importorskip("torch")
    values = _values(shape, dtype)
    ours = tinytorch.gradient(tinytorch.tensor(values), **{**kwargs, "spacing": _spacing(tinytorch, kwargs.get("spacing", 1))})
    theirs = torch.gradient(torch.tensor(values), **{**kwargs, "spacing": _spacing(torch, kwargs.get("spacing", 1))})
    assert isinstance(ours, tuple) and len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert tuple(a.shape) == tuple(b.shape)
        assert str(a.dtype).split(".")[1] == str(b.dtype).split(".")[1]
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-5)


def test_gradient_of_a_quadratic_is_exact_with_edge_order_2():
    x = tinytorch.tensor([0.0, 0.5, 1.5, 3.0, 3.5], dtype=tinytorch.float64)
    (dy,) = tinytorch.gradient(x * x, spacing=[x], edge_order=2)
    np.testing.assert_allclose(dy.numpy(), 2 * x.numpy(), rtol=1e-12)


def test_gradient_is_differentiable_as_torch():
    torch = pytest.importorskip("torch")
    grads = []
    for lib in (tinytorch, torch):
        y = lib.tensor(_values((4, 3), np.float64), requires_grad=True)
        coords = lib.tensor([0.0, 1.0, 3.0, 3.5], dtype=lib.float64, requires_grad=True)
        gy, gx = lib.gradient(y, spacing=[coords, lib.tensor([0.0, 2.0, 3.0], dtype=lib.float64)], edge_order=2)
        (gy * gy).sum().backward()
        (gx * lib.arange(12.0, dtype=lib.float64).reshape(4, 3)).sum().backward()
        grads.append((y.grad.numpy(), coords.grad.numpy()))
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10)


@pytest.mark.parametrize("shape, kwargs, dtype", [
    ((4, 3), {"edge_order": 3}, np.float32), ((4, 3), {"edge_order": 0}, np.float32),
    ((4, 2), {"edge_order": 2}, np.float32), ((4, 1), {}, np.float32), ((2, 5), {"dim": 0, "edge_order": 2}, np.float32),
    ((4, 3), {"spacing": [1.0]}, np.float32), ((4, 3), {"spacing": [1.0, 2.0], "dim": 0}, np.float32),
    ((4, 3), {"spacing": [1.0, 2.0, 3.0], "dim": [0, 1]}, np.float32), ((4, 3), {"dim": [1, 1]}, np.float32),
    ((4, 3), {"dim": 2}, np.float32), ((4, 3), {}, np.uint8),
    ((4, 3), {"spacing": [np.ones((2, 2))], "dim": 0}, np.float32),
])
def test_gradient_errors_as_torch(shape, kwargs, dtype):
    torch = pytest.importorskip("torch")
    values = _values(shape, np.float32).astype(dtype)
    with pytest.raises(Exception) as expected:
        torch.gradient(torch.tensor(values), **{**kwargs, "spacing": _spacing(torch, kwargs.get("spacing", 1))})
    with pytest.raises(Exception) as got:
        tinytorch.gradient(tinytorch.tensor(values), **{**kwargs, "spacing": _spacing(tinytorch, kwargs.get("spacing", 1))})
    assert type(got.value) is type(expected.value)
    assert str(got.value).split("\n")[0] == str(expected.value).split("\n")[0]
