"""The pointwise in-place Tensor methods (``x.sin_()``, ``x.eq_(y)``, ``x.tril_()``...) and their
top-level forms (``torch.sin_(x)``): the same values and dtype as torch's, in the same tensor,
its version bumped."""

import numpy as np
import pytest

import tinytorch

RNG = np.random.default_rng(0)
FLOATS = RNG.uniform(0.2, 0.9, (3, 4))
OTHER = RNG.uniform(0.2, 0.9, (3, 4))
INTS = RNG.integers(1, 9, (3, 4))
INTS_OTHER = RNG.integers(1, 9, (3, 4))

# (method, args builder: lib -> args, input array)
CASES = [
    (name, lambda lib: (), FLOATS) for name in (
        "sin_", "cos_", "tan_", "ceil_", "floor_", "round_", "trunc_", "sign_", "expm1_", "log1p_", "log2_", "log10_",
        "erf_", "reciprocal_", "rsqrt_", "square_", "negative_", "absolute_", "logical_not_")
] + [
    ("polygamma_", lambda lib: (1,), FLOATS),
    ("bitwise_not_", lambda lib: (), INTS),
    ("cumsum_", lambda lib: (1,), FLOATS),
    ("cumprod_", lambda lib: (0,), FLOATS),
    ("tril_", lambda lib: (), FLOATS),
    ("triu_", lambda lib: (1,), FLOATS),
    ("scatter_", lambda lib: (1, lib.tensor([[0, 1], [2, 3], [1, 0]]), lib.tensor(OTHER[:, :2])), FLOATS),
    ("scatter_add_", lambda lib: (0, lib.tensor([[0, 1, 2, 0]]), lib.tensor(OTHER[:1])), FLOATS),
] + [
    (name, lambda lib: (lib.tensor(OTHER),), FLOATS) for name in (
        "eq_", "ne_", "lt_", "le_", "gt_", "ge_", "not_equal_", "less_", "less_equal_", "greater_", "greater_equal_",
        "fmod_", "remainder_", "floor_divide_", "divide_", "true_divide_", "multiply_", "subtract_", "logical_and_",
        "logical_or_", "logical_xor_")
] + [
    (name, lambda lib: (lib.tensor(INTS_OTHER),), INTS) for name in ("bitwise_and_", "bitwise_or_", "bitwise_xor_")
]


@pytest.mark.parametrize("name, args, data", CASES, ids=[c[0] for c in CASES])
def test_inplace_method_matches_torch(name, args, data):
    torch = pytest.importorskip("torch")
    ours, theirs = tinytorch.tensor(data), torch.tensor(data)
    version = ours._version[0]
    result = getattr(ours, name)(*args(tinytorch))
    expected = getattr(theirs, name)(*args(torch))
    assert result is ours and ours._version[0] == version + 1
    assert str(ours.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    np.testing.assert_allclose(ours.numpy(), expected.numpy(), rtol=1e-6, atol=1e-7)


TOP_LEVEL = ["ceil_", "cos_", "erf_", "expm1_", "floor_", "log10_", "log1p_", "log2_", "negative_", "reciprocal_",
             "round_", "rsqrt_", "sin_", "square_", "tan_", "trunc_"]


@pytest.mark.parametrize("name", TOP_LEVEL)
def test_top_level_inplace_form_matches_torch(name):
    torch = pytest.importorskip("torch")
    ours, theirs = tinytorch.tensor(FLOATS), torch.tensor(FLOATS)
    assert getattr(tinytorch, name)(ours) is ours
    getattr(torch, name)(theirs)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-7)
    with pytest.raises(TypeError):
        getattr(tinytorch, name)(FLOATS)


def test_inplace_result_that_cannot_be_stored_raises_like_torch():
    torch = pytest.importorskip("torch")
    for lib in (tinytorch, torch):
        with pytest.raises(RuntimeError, match="can't be cast to the desired output type Long"):
            lib.tensor([1, 2]).sin_()


def test_inplace_methods_keep_gradients_flowing():
    x = tinytorch.tensor([0.3, 0.6], requires_grad=True)
    y = x * 1
    y.sin_().square_()
    y.sum().backward()
    expected = 2 * np.sin([0.3, 0.6]) * np.cos([0.3, 0.6])
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-6)


def test_tensor_linalg_methods_match_the_functions():
    a = tinytorch.tensor([[4.0, 1.0], [2.0, 3.0]], dtype=tinytorch.float64)
    b = tinytorch.tensor([[1.0], [2.0]], dtype=tinytorch.float64)
    LU, pivots = tinytorch.linalg.lu_factor(a)
    np.testing.assert_allclose(b.lu_solve(LU, pivots).numpy(), np.linalg.solve(a.numpy(), b.numpy()))
    np.testing.assert_allclose(a.matrix_exp().numpy(), tinytorch.linalg.matrix_exp(a).numpy())
    upper = a.triu()
    solution, _ = b.triangular_solve(upper)
    np.testing.assert_allclose(solution.numpy(), np.linalg.solve(upper.numpy(), b.numpy()))
