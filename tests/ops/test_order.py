"""Order statistics where the op table's random inputs cannot reach: ties, NaN, every
interpolation mode, the shapes ``q`` gives, and the indices returned. Values come from NumPy as an
independent oracle, and from torch when it is installed."""

import numpy as np
import pytest

import tinytorch

nan = float("nan")


def _torch():
    return pytest.importorskip("torch")


# -- median and nanmedian ------------------------------------------------------------------------
def test_median_is_the_lower_middle_and_nan_wins():
    assert tinytorch.tensor([4.0, 1.0, 3.0, 2.0]).median().item() == 2.0  # lower of 2 and 3
    assert tinytorch.tensor([5, 1, 3]).median().item() == 3
    assert tinytorch.tensor([5, 1, 3]).median().dtype == tinytorch.int64
    assert np.isnan(tinytorch.tensor([1.0, nan, 3.0]).median().item())
    assert tinytorch.tensor([1.0, nan, 3.0, 7.0]).nanmedian().item() == 3.0
    assert np.isnan(tinytorch.tensor([nan, nan]).nanmedian().item())
    assert np.isnan(tinytorch.tensor([]).median().item())
    with pytest.raises(RuntimeError, match="no value"):
        tinytorch.tensor([], dtype=tinytorch.int64).median()


def test_median_along_a_dim_returns_the_middle_tie_and_the_first_nan():
    x = tinytorch.tensor([[1.0, nan, 3.0, nan], [2.0, 2.0, 1.0, 5.0], [1.0, 3.0, 2.0, 2.0]])
    values, indices = tinytorch.median(x, 1)
    assert np.isnan(values[0].item()) and values[1:].tolist() == [2.0, 2.0]
    # Row 1: stable order 1(2) 2(0) 2(1) 5(3), position 1 -> index 0; row 2: 1(0) 2(2) 2(3) 3(1) -> 2.
    assert indices.tolist() == [1, 0, 2]
    values, indices = x.nanmedian(dim=1, keepdim=True)
    assert values.tolist() == [[1.0], [2.0], [2.0]] and indices.tolist() == [[0], [0], [2]]
    all_nan = tinytorch.full((2, 3), nan).nanmedian(1)
    assert np.isnan(all_nan.values.numpy()).all() and all_nan.indices.tolist() == [0, 0]
    assert type(values).__name__ == "Tensor" and type(tinytorch.median(x, 0)).__name__ == "median"


def test_median_of_a_0d_tensor_along_its_dim():
    values, indices = tinytorch.tensor(4.0).median(0)
    assert values.shape == () and values.item() == 4.0 and indices.item() == 0


def test_median_shares_its_gradient_among_ties_and_nans():
    x = tinytorch.tensor([1.0, 4.0, 1.0, 8.0], requires_grad=True)
    x.median().backward()
    assert x.grad.tolist() == [0.5, 0.0, 0.5, 0.0]
    x = tinytorch.tensor([1.0, nan, 2.0, nan], requires_grad=True)
    x.median().backward()
    assert x.grad.tolist() == [0.0, 0.5, 0.0, 0.5]
    x = tinytorch.tensor([[1.0, 4.0, 1.0, 8.0], [2.0, 2.0, 2.0, nan]], requires_grad=True)
    x.median(1).values.sum().backward()  # along a dim: all of it to the index returned
    assert x.grad.tolist() == [[0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]


@pytest.mark.parametrize("fn", ["median", "nanmedian"])
def test_median_matches_torch_with_ties_and_nans(fn):
    torch = _torch()
    rng = np.random.default_rng(0)
    for _ in range(20):
        a = rng.integers(0, 4, size=(3, 5, 4)).astype(np.float32)
        a[rng.random(a.shape) < 0.2] = nan
        for dim in (None, 0, 1, -1):
            ours = getattr(tinytorch, fn)(tinytorch.tensor(a), *([] if dim is None else [dim]))
            theirs = getattr(torch, fn)(torch.tensor(a), *([] if dim is None else [dim]))
            if dim is None:
                np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
            else:
                np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
                np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())


# -- kthvalue ------------------------------------------------------------------------------------
def test_kthvalue_is_the_kth_smallest():
    a = np.random.default_rng(1).standard_normal((4, 6))
    for k in range(1, 7):
        values, indices = tinytorch.tensor(a).kthvalue(k, dim=1)
        np.testing.assert_array_equal(values.numpy(), np.sort(a, axis=1)[:, k - 1])
        np.testing.assert_array_equal(a[np.arange(4), indices.numpy()], values.numpy())
    assert tinytorch.tensor([1.0, nan, 0.0]).kthvalue(3).values.isnan().item()  # NaN is the largest
    with pytest.raises(RuntimeError, match="selected number k out of range for dimension 0"):
        tinytorch.tensor([1.0, 2.0]).kthvalue(0)


# -- mode ----------------------------------------------------------------------------------------
def test_mode_is_the_smallest_most_frequent_value_at_its_last_occurrence():
    values, indices = tinytorch.tensor([1.0, 2.0, 2.0, 3.0, 3.0, 0.0]).mode()
    assert values.item() == 2.0 and indices.item() == 2  # 2 and 3 twice each: the smaller
    values, indices = tinytorch.tensor([[3, 1, 3, 1], [5, 5, 4, 4]]).mode(1, keepdim=True)
    assert values.tolist() == [[1], [4]] and indices.tolist() == [[3], [3]]
    values, indices = tinytorch.tensor(2.5).mode()
    assert values.item() == 2.5 and indices.item() == 0
    with pytest.raises(IndexError, match="mode\\(\\): Expected reduction dim 1 to have non-zero size"):
        tinytorch.zeros(2, 0).mode(1)
    x = tinytorch.tensor([1.0, 2.0, 2.0, 3.0], requires_grad=True)
    x.mode().values.backward()
    assert x.grad.tolist() == [0.0, 0.0, 1.0, 0.0]


def test_mode_matches_torch_on_rows_with_ties():
    torch = _torch()
    rng = np.random.default_rng(5)
    for _ in range(50):
        a = rng.integers(0, 4, size=tuple(rng.integers(1, 6, size=3))).astype(np.float32)
        dim = int(rng.integers(-3, 3))
        ours, theirs = tinytorch.tensor(a).mode(dim), torch.tensor(a).mode(dim)
        np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
        np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())


# -- quantile and nanquantile --------------------------------------------------------------------
@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_quantile_matches_numpy_in_every_interpolation(interpolation):
    rng = np.random.default_rng(2)
    a = rng.standard_normal((3, 7, 5))
    q = np.array([0.0, 0.1, 0.25, 0.5, 0.625, 0.9, 1.0])
    for dim in (None, 0, 1, -1):
        for keepdim in (False, True):
            ours = tinytorch.quantile(tinytorch.tensor(a), tinytorch.tensor(q, dtype=tinytorch.float64), dim=dim,
                                      keepdim=keepdim, interpolation=interpolation)
            expected = np.quantile(a, q, axis=dim, keepdims=keepdim, method=interpolation)
            assert ours.shape == expected.shape
            np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-12, atol=1e-12)


def test_quantile_shapes_from_q():
    x = tinytorch.ones(2, 3, 4)
    assert x.quantile(0.3).shape == ()
    assert x.quantile(0.3, keepdim=True).shape == (1, 1, 1)
    assert x.quantile(tinytorch.tensor(0.3), dim=1).shape == (2, 4)
    assert x.quantile(tinytorch.tensor([0.2, 0.5]), dim=1).shape == (2, 2, 4)
    assert x.quantile(tinytorch.tensor([0.2, 0.5]), dim=1, keepdim=True).shape == (2, 2, 1, 4)
    assert tinytorch.tensor(3.0).quantile(0.5, dim=0, keepdim=True).shape == ()


def test_quantile_of_a_row_with_nan_is_nan_and_nanquantile_skips_it():
    x = tinytorch.tensor([[1.0, nan, 3.0], [4.0, 5.0, 6.0], [nan, nan, nan]])
    q = tinytorch.tensor([0.1, 0.5, 0.9])
    ours = x.quantile(q, dim=1).numpy()
    assert np.isnan(ours[:, [0, 2]]).all()
    np.testing.assert_allclose(ours[:, 1], [4.2, 5.0, 5.8], rtol=1e-6)
    ours = x.nanquantile(q, dim=1).numpy()
    np.testing.assert_allclose(ours[:, :2], np.nanquantile(x.numpy()[:2], q.numpy(), axis=1), rtol=1e-6)
    assert np.isnan(ours[:, 2]).all()


def test_quantile_gives_q_a_gradient_through_the_interpolation():
    x = tinytorch.tensor([1.0, 4.0, 2.0, 8.0, 3.0], requires_grad=True)
    q = tinytorch.tensor([0.3, 0.55], requires_grad=True)
    y = tinytorch.quantile(x, q)  # ranks 1.2 and 2.2 of [1, 2, 3, 4, 8]
    np.testing.assert_allclose(y.detach().numpy(), [2.2, 3.2], rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 0.2, 0.8, 0.0, 1.0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(q.grad.numpy(), [4.0, 4.0], rtol=1e-5)  # (next value - value) * (n - 1)


def test_quantile_out_and_float32_results_match_torch_bit_for_bit():
    torch = _torch()
    a = np.random.default_rng(3).standard_normal((5, 7, 9)).astype(np.float32)
    for dim in (None, 0, 1, -1):
        for q in (0.37, [0.1, 0.33, 0.9]):
            ours = tinytorch.quantile(tinytorch.tensor(a), tinytorch.tensor(q) if isinstance(q, list) else q, dim=dim)
            theirs = torch.quantile(torch.tensor(a), torch.tensor(q) if isinstance(q, list) else q, dim=dim)
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    out = tinytorch.empty(2)
    result = tinytorch.quantile(tinytorch.arange(6.0).reshape(2, 3), 0.5, dim=1, out=out)
    assert result is out and out.tolist() == [1.0, 4.0]


# -- lerp, which quantile interpolates with ------------------------------------------------------
def test_lerp_reaches_its_end_exactly_and_rounds_as_pytorch():
    start, end = tinytorch.tensor([0.1, -3.7, 1e-8]), tinytorch.tensor([0.7, 2.9, 5.0])
    assert tinytorch.lerp(start, end, 1.0).tolist() == end.tolist()
    assert tinytorch.lerp(start, end, 0.0).tolist() == start.tolist()
    torch = _torch()
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((2, 10000)).astype(np.float32)
    w = rng.uniform(-0.5, 1.5, 10000).astype(np.float32)
    np.testing.assert_array_equal(tinytorch.lerp(tinytorch.tensor(a), tinytorch.tensor(b), tinytorch.tensor(w)).numpy(),
                                  torch.lerp(torch.tensor(a), torch.tensor(b), torch.tensor(w)).numpy())
    np.testing.assert_array_equal(tinytorch.lerp(tinytorch.tensor(a), tinytorch.tensor(b), 0.3).numpy(),
                                  torch.lerp(torch.tensor(a), torch.tensor(b), 0.3).numpy())
