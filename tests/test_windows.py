"""The window factories (hann, hamming, blackman, bartlett, kaiser) against torch: values in
float32 and float64, periodic and symmetric, parameters, dtype/device/requires_grad, errors."""

import numpy as np
import pytest

import tinytorch
from tinytorch import bartlett_window, blackman_window, hamming_window, hann_window, kaiser_window

WINDOWS = {
    "hann_window": hann_window,
    "hamming_window": hamming_window,
    "blackman_window": blackman_window,
    "bartlett_window": bartlett_window,
    "kaiser_window": kaiser_window,
}


def _tol(dtype):
    return {"rtol": 1e-5, "atol": 1e-6} if dtype == "float32" else {"rtol": 1e-12, "atol": 1e-14}


@pytest.mark.parametrize("name", sorted(WINDOWS))
@pytest.mark.parametrize("length", [0, 1, 2, 3, 8, 11])
@pytest.mark.parametrize("periodic", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_windows_match_torch(name, length, periodic, dtype, device):
    torch = pytest.importorskip("torch")
    ours = WINDOWS[name](length, periodic, dtype=getattr(tinytorch, dtype), device=device)
    theirs = getattr(torch, name)(length, periodic, dtype=getattr(torch, dtype))
    assert ours.dtype == getattr(tinytorch, dtype)
    assert ours.device.type == device
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.cpu().numpy(), theirs.numpy(), **_tol(dtype))


@pytest.mark.parametrize("name", sorted(WINDOWS))
def test_windows_defaults(name, device):
    torch = pytest.importorskip("torch")
    ours = WINDOWS[name](10, device=device)
    theirs = getattr(torch, name)(10)
    assert ours.dtype == tinytorch.float32 and not ours.requires_grad
    np.testing.assert_allclose(ours.cpu().numpy(), theirs.numpy(), **_tol("float32"))
    assert WINDOWS[name](4, requires_grad=True).requires_grad
    assert WINDOWS[name](4, dtype=tinytorch.float16).dtype == tinytorch.float16
    tinytorch.set_default_dtype(tinytorch.float64)
    try:
        assert WINDOWS[name](4).dtype == tinytorch.float64
    finally:
        tinytorch.set_default_dtype(tinytorch.float32)


@pytest.mark.parametrize("alpha,beta", [(0.5, 0.5), (0.54, 0.46), (0.3, 0.9)])
def test_hamming_parameters(alpha, beta, device):
    torch = pytest.importorskip("torch")
    for periodic in (True, False):
        ours = hamming_window(9, periodic, alpha, beta, dtype=tinytorch.float64, device=device)
        theirs = torch.hamming_window(9, periodic, alpha, beta, dtype=torch.float64)
        np.testing.assert_allclose(ours.cpu().numpy(), theirs.numpy(), **_tol("float64"))
    # With alpha = beta = 0.5 the Hamming window is the Hann window.
    np.testing.assert_allclose(hamming_window(9, True, 0.5, 0.5).numpy(), hann_window(9).numpy(), atol=1e-7)


@pytest.mark.parametrize("beta", [0.0, 1.0, 5.0, 12.0, 30.0])
def test_kaiser_beta(beta, device):
    torch = pytest.importorskip("torch")
    for periodic in (True, False):
        ours = kaiser_window(9, periodic, beta, dtype=tinytorch.float64, device=device)
        theirs = torch.kaiser_window(9, periodic, beta, dtype=torch.float64)
        np.testing.assert_allclose(ours.cpu().numpy(), theirs.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", sorted(WINDOWS))
def test_window_errors(name):
    torch = pytest.importorskip("torch")
    ours, theirs = WINDOWS[name], getattr(torch, name)
    with pytest.raises(RuntimeError, match=f"{name} requires non-negative window_length, got window_length=-1"):
        theirs(-1)
    with pytest.raises(RuntimeError, match=f"{name} requires non-negative window_length, got window_length=-1"):
        ours(-1)
    with pytest.raises(RuntimeError, match=f"{name} expects floating point dtypes, got: "):
        theirs(3, dtype=torch.int64)
    with pytest.raises(RuntimeError, match=f"{name} expects floating point dtypes, got: "):
        ours(3, dtype=tinytorch.int64)
    with pytest.raises(RuntimeError, match=f"{name} is not implemented for sparse types"):
        theirs(3, layout=torch.sparse_coo)
    with pytest.raises(RuntimeError, match=f"{name} is not implemented for sparse types"):
        ours(3, layout=tinytorch.sparse_coo)
    with pytest.raises(TypeError) as expected:
        theirs(3.0)
    with pytest.raises(TypeError) as got:
        ours(3.0)
    assert str(got.value) == str(expected.value)
