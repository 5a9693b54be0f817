"""The 2-norm over every element (``clip_grad_norm_``'s per-gradient norm) is BLAS's dot of the
flat array with itself where the array is a C-contiguous float CPU array
(``_backend.sum_of_squares``): as accurate as the float64 sum to float32 rounding, as PyTorch's,
with the same gradient, for any shape, layout, keepdim and special value."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinytorch

SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=40)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), dtype=st.sampled_from([np.float32, np.float64]), layout=st.sampled_from(["contiguous", "transposed"]),
       keepdim=st.booleans())
def test_matches_the_float64_norm_and_torch(data, dtype, layout, keepdim):
    shape = data.draw(SHAPES)
    x = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1))).standard_normal(shape).astype(dtype) * 3
    t = tinytorch.tensor(x, requires_grad=True)
    source = t.transpose(0, -1) if layout == "transposed" and x.ndim > 1 else t
    out = source.norm(dim=tuple(range(x.ndim)), keepdim=keepdim) if keepdim else source.norm()
    exact = np.sqrt(np.sum(x.astype(np.float64) ** 2))
    tolerance = 2e-6 if dtype == np.float32 else 1e-14
    assert out.dtype == t.dtype and tuple(out.shape) == ((1,) * x.ndim if keepdim else ())
    np.testing.assert_allclose(float(out.detach().reshape(())), exact, rtol=tolerance)
    out.sum().backward()
    expected_grad = x / exact if exact else np.zeros_like(x)
    np.testing.assert_allclose(t.grad.numpy(), expected_grad, rtol=tolerance * 10, atol=tolerance)
    torch = pytest.importorskip("torch")
    theirs = torch.tensor(x).norm()
    np.testing.assert_allclose(float(out.detach().reshape(())), float(theirs), rtol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("values, expected", [
    ([np.inf, 1.0], np.inf), ([np.nan, 1.0], np.nan), ([3e38, 3e38], np.inf), ([0.0, 0.0], 0.0), ([-3.0, 4.0], 5.0),
])
def test_special_values(values, expected):
    out = float(tinytorch.tensor(values).norm())
    assert (np.isnan(out) and np.isnan(expected)) or out == expected


def test_clip_grad_norm_scales_as_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(s).astype(np.float32) for s in [(300, 200), (200,), (50, 4, 4)]]
    ours = [tinytorch.nn.Parameter(tinytorch.zeros(g.shape)) for g in grads]
    theirs = [torch.nn.Parameter(torch.zeros(g.shape)) for g in grads]
    for p, q, g in zip(ours, theirs, grads):
        p.grad, q.grad = tinytorch.tensor(g), torch.tensor(g)
    total = tinytorch.nn.utils.clip_grad_norm_(ours, 0.25)
    their_total = torch.nn.utils.clip_grad_norm_(theirs, 0.25)
    np.testing.assert_allclose(float(total), float(their_total), rtol=1e-5)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-8)
