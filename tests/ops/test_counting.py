"""unique, unique_consecutive, bincount, histc, histogram and diag's errors, against PyTorch."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import tinytorch

torch = pytest.importorskip("torch")

small_ints = hnp.arrays(np.int64, hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5), elements=st.integers(-3, 3))


def same(ours, theirs):
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            same(a, b)
        return
    assert str(ours.dtype)[10:] == str(theirs.dtype)[6:] and tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-6)


@settings(max_examples=60, deadline=None)
@given(small_ints, st.booleans(), st.booleans(), st.data())
def test_unique_matches_pytorch(array, return_inverse, return_counts, data):
    dim = data.draw(st.none() | st.integers(-array.ndim, array.ndim - 1))
    kwargs = {"return_inverse": return_inverse, "return_counts": return_counts, "dim": dim}
    same(tinytorch.unique(tinytorch.tensor(array), **kwargs), torch.unique(torch.tensor(array), **kwargs))
    same(tinytorch.tensor(array).unique(sorted=False, **kwargs), torch.tensor(array).unique(sorted=True, **kwargs))


@settings(max_examples=60, deadline=None)
@given(small_ints, st.booleans(), st.booleans(), st.data())
def test_unique_consecutive_matches_pytorch(array, return_inverse, return_counts, data):
    dim = data.draw(st.none() | st.integers(-array.ndim, array.ndim - 1))
    kwargs = {"return_inverse": return_inverse, "return_counts": return_counts, "dim": dim}
    same(tinytorch.unique_consecutive(tinytorch.tensor(array), **kwargs), torch.unique_consecutive(torch.tensor(array), **kwargs))


def test_unique_of_floats_scalars_and_empty_slices():
    for array in [np.array([2.5, -1.0, 2.5], dtype=np.float32), np.array(5), np.zeros((0, 3)), np.zeros((2, 0))]:
        for dim in [None] + list(range(array.ndim)):
            try:
                theirs = torch.unique(torch.tensor(array), return_inverse=True, return_counts=True, dim=dim)
            except (RuntimeError, IndexError) as error:
                with pytest.raises(type(error)):
                    tinytorch.unique(tinytorch.tensor(array), return_inverse=True, return_counts=True, dim=dim)
                continue
            same(tinytorch.unique(tinytorch.tensor(array), return_inverse=True, return_counts=True, dim=dim), theirs)
    with pytest.raises(IndexError, match="Dimension specified as 0 but tensor has no dimensions"):
        tinytorch.unique(tinytorch.tensor(5), dim=0)


def test_bincount_matches_pytorch():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 6, 20)
    w = rng.standard_normal(20).astype(np.float32)
    same(tinytorch.bincount(tinytorch.tensor(x)), torch.bincount(torch.tensor(x)))
    same(tinytorch.tensor(x).bincount(minlength=10), torch.tensor(x).bincount(minlength=10))
    same(tinytorch.bincount(tinytorch.tensor(x), tinytorch.tensor(w)), torch.bincount(torch.tensor(x), torch.tensor(w)))
    for bad in [np.array([-1, 2]), np.array([[1]]), np.array([1.0])]:
        with pytest.raises(RuntimeError):
            torch.bincount(torch.tensor(bad))
        with pytest.raises(RuntimeError, match="bincount only supports 1-d non-negative integral inputs"):
            tinytorch.bincount(tinytorch.tensor(bad))


@pytest.mark.parametrize("bins, low, high", [(10, 0, 0), (4, -1, 1), (7, -3.5, 2.0), (1, 0, 0), (5, 2, 2)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_histc_matches_pytorch(bins, low, high, dtype):
    # Values away from bin edges: where exactly an edge falls is rounding, not the definition.
    rng = np.random.default_rng(bins)
    array = (np.round(rng.uniform(-2, 2, 50) * 8) / 8 + 1 / 64).astype(dtype)
    ours = tinytorch.histc(tinytorch.tensor(array), bins=bins, min=low, max=high)
    same(ours, torch.histc(torch.tensor(array), bins=bins, min=low, max=high))
    same(tinytorch.tensor(array).histc(bins, low, high), torch.tensor(array).histc(bins, low, high))


def test_histc_of_one_value_and_of_nothing():
    for array in [np.array([1.0, 1.0], dtype=np.float32), np.zeros(0, dtype=np.float32)]:
        same(tinytorch.histc(tinytorch.tensor(array), bins=4), torch.histc(torch.tensor(array), bins=4))


def test_histc_errors_match_pytorch():
    cases = [
        (lambda lib: lib.histc(lib.tensor([1, 2])), NotImplementedError, "\"histogram_cpu\" not implemented for 'Long'"),
        (lambda lib: lib.histc(lib.tensor([1.0]), min=3, max=1), RuntimeError, "max must be larger than min"),
        (lambda lib: lib.histc(lib.tensor([1.0]), bins=0), RuntimeError, "bins must be > 0"),
    ]
    for call, error, message in cases:
        for lib in (tinytorch, torch):
            with pytest.raises(error, match=message):
                call(lib)


def test_histc_is_outside_the_graph():
    x = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    assert tinytorch.histc(x, bins=2).grad_fn is None


@pytest.mark.parametrize("kwargs", [
    {"bins": 4}, {"bins": 6, "range": (-1.0, 1.0)}, {"bins": 3, "density": True}, {"bins": 5, "weight": True},
    {"bins": "edges"}, {"bins": "edges", "weight": True, "density": True},
])
def test_histogram_matches_pytorch(kwargs):
    rng = np.random.default_rng(1)
    array = (np.round(rng.uniform(-2, 2, 40) * 8) / 8 + 1 / 64).astype(np.float32)
    weight = rng.uniform(0, 1, 40).astype(np.float32)

    def call(lib):
        k = dict(kwargs)
        if k["bins"] == "edges":
            k["bins"] = lib.tensor([-2.0, -0.3, 0.2, 1.9])
        if k.pop("weight", False):
            k["weight"] = lib.tensor(weight)
        return lib.histogram(lib.tensor(array), **k)

    ours, theirs = call(tinytorch), call(torch)
    same(ours.hist, theirs.hist)
    same(ours.bin_edges, theirs.bin_edges)
    assert repr(ours).startswith("tinytorch.return_types.histogram(\nhist=tensor(")


def test_diag_errors_match_pytorch():
    for lib in (tinytorch, torch):
        with pytest.raises(RuntimeError, match="diag\\(\\): Supports 1D or 2D tensors. Got 3D"):
            lib.diag(lib.ones(2, 2, 2))
    m = tinytorch.arange(9.0).reshape(3, 3)
    d = m.diag()
    d[0] = 100.0  # a copy, as PyTorch's: the matrix keeps its values
    assert m[0, 0].item() == 0.0
