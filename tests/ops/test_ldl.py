"""linalg.ldl_factor / ldl_factor_ex / ldl_solve: LD, pivots and info against torch (the
same pivots, LD to a few ulps: both call LAPACK's sytrf), solves, out=, errors (PyTorch's types and words),
no derivative (as PyTorch), and CUDA's clear refusal."""

import warnings

import numpy as np
import pytest

import tinytorch


def _torch():
    return pytest.importorskip("torch")


def _symmetric(rng, shape, dtype="float64", zero_diagonal=False):
    a = rng.standard_normal(shape)
    a = a + np.swapaxes(a, -1, -2)
    if zero_diagonal and shape[-1] > 2:  # forces 2x2 pivot blocks (negative pivots)
        a[..., 0, 0] = a[..., 1, 1] = 0
    return a.astype(dtype)


def _error(fn):
    try:
        fn()
    except Exception as error:  # noqa: BLE001 - the type and words are compared
        return type(error), str(error)
    return None


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(1, 1), (2, 2), (5, 5), (3, 4, 4), (2, 2, 6, 6), (0, 3, 3), (2, 0, 0)])
@pytest.mark.parametrize("zero_diagonal", [False, True])
def test_factor_matches_torch_exactly(dtype, shape, zero_diagonal):
    torch = _torch()
    a = _symmetric(np.random.default_rng(sum(shape)), shape, dtype, zero_diagonal)
    ours = tinytorch.linalg.ldl_factor_ex(tinytorch.tensor(a))
    theirs = torch.linalg.ldl_factor_ex(torch.tensor(a))
    assert type(ours).__name__ == "linalg_ldl_factor_ex" and ours._fields == ("LD", "pivots", "info")
    for got, expected in zip(ours, theirs):
        assert got.dtype.name == str(expected.dtype).replace("torch.", "")
    # The same pivots (Bunch-Kaufman's choices) and info exactly; LD to the last bits: both call
    # sytrf, but PyTorch's MKL and NumPy's LAPACK round differently on some CPUs (AVX-512: 1-2 ulp).
    np.testing.assert_array_equal(ours.pivots.numpy(), theirs.pivots.numpy())
    np.testing.assert_array_equal(ours.info.numpy(), theirs.info.numpy())
    _assert_ulps(ours.LD.numpy(), theirs.LD.numpy(), a)
    LD, pivots = tinytorch.linalg.ldl_factor(tinytorch.tensor(a))
    _assert_ulps(LD.numpy(), theirs.LD.numpy(), a)
    np.testing.assert_array_equal(pivots.numpy(), theirs.pivots.numpy())


def _assert_ulps(got, expected, a, ulps=8):
    """Equal within a few units in the last place of the matrix's scale (zeros stay zeros)."""
    scale = np.abs(a).max() if a.size else 1.0
    np.testing.assert_allclose(got, expected, rtol=ulps * np.finfo(a.dtype).eps,
                               atol=ulps * np.finfo(a.dtype).eps * scale)
    np.testing.assert_array_equal(got == 0, expected == 0)


def test_two_by_two_blocks_and_reconstruction():
    """A zero diagonal needs 2x2 blocks: equal negative pivot pairs, and L D L^T rebuilds A."""
    a = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 3.0], [2.0, 3.0, 1.0]])
    LD, pivots, info = tinytorch.linalg.ldl_factor_ex(tinytorch.tensor(a))
    assert info.item() == 0 and (pivots.numpy() < 0).any()
    x = tinytorch.linalg.ldl_solve(LD, pivots, tinytorch.eye(3, dtype=tinytorch.float64))
    np.testing.assert_allclose(x.numpy() @ a, np.eye(3), atol=1e-12)


def test_singular_info_and_errors():
    torch = _torch()
    zeros = np.zeros((2, 3, 3))
    ours = tinytorch.linalg.ldl_factor_ex(tinytorch.tensor(zeros))
    theirs = torch.linalg.ldl_factor_ex(torch.tensor(zeros))
    np.testing.assert_array_equal(ours.info.numpy(), theirs.info.numpy())
    np.testing.assert_array_equal(ours.pivots.numpy(), theirs.pivots.numpy())
    with pytest.raises(RuntimeError, match=r"torch.linalg.ldl_factor: Unknown error code: 1\."):
        tinytorch.linalg.ldl_factor(tinytorch.tensor(zeros))
    with pytest.raises(RuntimeError, match=r"torch.linalg.ldl_factor_ex: Unknown error code: 1\."):
        tinytorch.linalg.ldl_factor_ex(tinytorch.tensor(zeros), check_errors=True)


@pytest.mark.parametrize("lds, bs", [((), (4, 2)), ((3,), (4, 1)), ((3,), (3, 4, 2)), ((3,), (2, 1, 4, 3)), ((2, 3), (3, 4, 2))])
def test_solve(lds, bs):
    rng = np.random.default_rng(len(lds) + len(bs))
    a = _symmetric(rng, lds + (4, 4), zero_diagonal=True)
    b = rng.standard_normal(bs)
    LD, pivots = tinytorch.linalg.ldl_factor(tinytorch.tensor(a))
    x = tinytorch.linalg.ldl_solve(LD, pivots, tinytorch.tensor(b), hermitian=True)
    expected = np.linalg.solve(a, b)
    assert x.shape == expected.shape and x.dtype == tinytorch.float64
    np.testing.assert_allclose(x.numpy(), expected, atol=1e-10)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_solve_matches_torch(dtype):
    """Batch broadcasting of B only: torch 2.13 crashes (a segfault) when LD must be broadcast."""
    torch = _torch()
    rng = np.random.default_rng(7)
    a = _symmetric(rng, (3, 5, 5), dtype, zero_diagonal=True)
    b = rng.standard_normal((5, 2)).astype(dtype)
    LD, pivots = torch.linalg.ldl_factor(torch.tensor(a))
    expected = torch.linalg.ldl_solve(LD, pivots, torch.tensor(b))
    got = tinytorch.linalg.ldl_solve(tinytorch.tensor(LD.numpy()), tinytorch.tensor(pivots.numpy()), tinytorch.tensor(b))
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=tol, atol=tol)
    assert got.dtype.name == dtype


def test_out_arguments():
    torch = _torch()
    a = _symmetric(np.random.default_rng(3), (2, 3, 3))
    LD = tinytorch.empty(0, dtype=tinytorch.float64)
    pivots, info = tinytorch.empty(0, dtype=tinytorch.int32), tinytorch.empty(0, dtype=tinytorch.int32)
    result = tinytorch.linalg.ldl_factor_ex(tinytorch.tensor(a), out=(LD, pivots, info))
    assert result.LD is LD and result.pivots is pivots and result.info is info
    np.testing.assert_array_equal(LD.numpy(), torch.linalg.ldl_factor(torch.tensor(a)).LD.numpy())
    b = tinytorch.ones(2, 3, 2, dtype=tinytorch.float64)
    expected = tinytorch.linalg.ldl_solve(LD, pivots, b).numpy()
    assert tinytorch.linalg.ldl_solve(LD, pivots, b, out=b) is b  # B may be its own out
    np.testing.assert_allclose(b.numpy(), expected)
    stale = tinytorch.empty(5, dtype=tinytorch.float64)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tinytorch.linalg.ldl_factor(tinytorch.tensor(a), out=(stale, tinytorch.empty(0, dtype=tinytorch.int32)))
    assert stale.shape == (2, 3, 3) and any("was resized" in str(w.message) for w in caught)


def _bad_calls(lib):
    a = np.eye(3)
    A = lib.tensor(a)
    LD, pivots = lib.linalg.ldl_factor(A)
    B = lib.ones(3, 2, dtype=lib.float64)
    return {
        "not a tensor": lambda: lib.linalg.ldl_factor([[1.0]]),
        "ex not a tensor": lambda: lib.linalg.ldl_factor_ex(3),
        "1-D": lambda: lib.linalg.ldl_factor(lib.ones(3)),
        "not square": lambda: lib.linalg.ldl_factor(lib.ones(3, 4)),
        "int": lambda: lib.linalg.ldl_factor(lib.ones(3, 3, dtype=lib.int32)),
        "half": lambda: lib.linalg.ldl_factor(lib.ones(3, 3, dtype=lib.float16)),
        "hermitian int": lambda: lib.linalg.ldl_factor(A, hermitian=1),
        "check_errors int": lambda: lib.linalg.ldl_factor_ex(A, check_errors=1),
        "out short": lambda: lib.linalg.ldl_factor_ex(A, out=(lib.empty(0), lib.empty(0, dtype=lib.int32))),
        "out not tuple": lambda: lib.linalg.ldl_factor_ex(A, out=3),
        "out element": lambda: lib.linalg.ldl_factor_ex(A, out=(lib.empty(0), lib.empty(0), 3)),
        "out dtype": lambda: lib.linalg.ldl_factor(A, out=(lib.empty(0, dtype=lib.float64), lib.empty(0, dtype=lib.int64))),
        "solve B not a tensor": lambda: lib.linalg.ldl_solve(LD, pivots, 3),
        "solve pivots float": lambda: lib.linalg.ldl_solve(LD, pivots.double(), B),
        "solve pivots shape": lambda: lib.linalg.ldl_solve(LD, pivots[:2], B),
        "solve B rows": lambda: lib.linalg.ldl_solve(LD, pivots, B[:2]),
        "solve B 1-D": lambda: lib.linalg.ldl_solve(LD, pivots, B[:, 0]),
        "solve B dtype": lambda: lib.linalg.ldl_solve(LD, pivots, B.float()),
        "solve LD int": lambda: lib.linalg.ldl_solve(LD.int(), pivots, B),
        "solve LD not square": lambda: lib.linalg.ldl_solve(LD[:2], pivots, B),
        "solve half": lambda: lib.linalg.ldl_solve(LD.half(), pivots, B.half()),
        "solve batch": lambda: lib.linalg.ldl_solve(LD.expand(2, 3, 3), pivots.expand(2, 3), lib.ones(3, 3, 2, dtype=lib.float64)),
        "solve zero pivot": lambda: lib.linalg.ldl_solve(LD, pivots * 0, B),
        "solve big pivot": lambda: lib.linalg.ldl_solve(LD, pivots * 9, B),
        "solve out dtype": lambda: lib.linalg.ldl_solve(LD, pivots, B, out=lib.empty(0)),
        "solve out not tensor": lambda: lib.linalg.ldl_solve(LD, pivots, B, out=3),
        "solve hermitian int": lambda: lib.linalg.ldl_solve(LD, pivots, B, hermitian=1),
    }


def test_errors_match_torch():
    torch = _torch()
    ours, theirs = _bad_calls(tinytorch), _bad_calls(torch)
    for name in ours:
        got, expected = _error(ours[name]), _error(theirs[name])
        assert expected is not None and got is not None, name
        assert got[0] is expected[0], (name, got, expected)
        assert got[1] == expected[1], (name, got, expected)


def test_not_differentiable_as_torch():
    a = tinytorch.tensor(np.eye(3) * 2, requires_grad=True)
    LD, pivots, info = tinytorch.linalg.ldl_factor_ex(a)
    assert LD.requires_grad and not pivots.requires_grad and not info.requires_grad
    with pytest.raises(RuntimeError, match="derivative for aten::linalg_ldl_factor_ex is not implemented"):
        LD.sum().backward()
    b = tinytorch.ones(3, 1, dtype=tinytorch.float64, requires_grad=True)
    x = tinytorch.linalg.ldl_solve(LD.detach(), pivots, b)
    assert x.requires_grad
    with pytest.raises(RuntimeError, match="derivative for aten::linalg_ldl_solve is not implemented"):
        x.sum().backward()


def test_cuda_is_refused_clearly(device):
    if device != "cuda":
        pytest.skip("the CUDA refusal")
    a = tinytorch.eye(3, device=device)
    with pytest.raises(NotImplementedError, match="CuPy has no LAPACK sytrf"):
        tinytorch.linalg.ldl_factor(a)
