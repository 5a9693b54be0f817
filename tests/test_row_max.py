"""``_backend.max_kept``: the max along the last axis, by columns for many short rows (a
classifier's logits), gives NumPy's reduction exactly, NaN and infinities included, and the
losses built on it match PyTorch at the batch sizes that take that path."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinytorch
from tinytorch import _backend

_SPECIAL = st.sampled_from([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e30, -1e30])


@settings(max_examples=80, deadline=None)
@given(rows=st.integers(1, 700), cols=st.integers(1, 20), lead=st.sampled_from([(), (3,)]),
       dtype=st.sampled_from([np.float32, np.float64]), specials=st.lists(st.tuples(st.integers(0, 10**6), _SPECIAL), max_size=6),
       seed=st.integers(0, 2**16))
def test_max_kept_is_numpys_max(rows, cols, lead, dtype, specials, seed):
    data = np.random.default_rng(seed).standard_normal(lead + (rows, cols)).astype(dtype)
    flat = data.reshape(-1)
    for position, value in specials:
        flat[position % flat.size] = value
    expected = data.max(-1, keepdims=True)
    for axis in (-1, data.ndim - 1):
        got = _backend.max_kept(data, axis)
        assert got.shape == expected.shape and got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(_backend.max_kept(data.swapaxes(-1, -2), -1), data.swapaxes(-1, -2).max(-1, keepdims=True))
    if data.ndim > 1:
        np.testing.assert_array_equal(_backend.max_kept(data, 0), data.max(0, keepdims=True))


def test_the_column_path_is_taken_for_many_short_rows(monkeypatch):
    calls = []
    monkeypatch.setattr(_backend, "reduce_max", lambda *a: calls.append(a) or np.maximum.reduce(a[0], axis=a[1], keepdims=a[2]))
    _backend.max_kept(np.ones((1024, 10), np.float32), -1)
    assert calls == []
    _backend.max_kept(np.ones((12, 10), np.float32), -1)  # few rows: NumPy's reduction
    _backend.max_kept(np.ones((4096, 100), np.float32), -1)  # wide rows: NumPy's reduction
    assert len(calls) == 2


@pytest.mark.parametrize("shape", [(1024, 10), (300, 2), (64, 3, 4)])
def test_losses_on_many_short_rows_match_torch(shape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    logits = (rng.standard_normal(shape) * 30).astype(np.float32)
    logits[3, 1] = 1e4  # the shift keeps it finite
    labels = rng.integers(0, shape[-1], shape[:-1])
    for lib in (tinytorch, torch):
        x = lib.tensor(logits, requires_grad=True)
        target = lib.tensor(labels) if len(shape) == 2 else None
        parts = [lib.softmax(x, -1), lib.log_softmax(x, -1)]
        if target is not None:
            parts.append(lib.nn.functional.cross_entropy(x, target))
        sum(p.sum() * (k + 1) for k, p in enumerate(parts)).backward()
        if lib is tinytorch:
            ours = [p.detach().numpy() for p in parts] + [x.grad.numpy()]
        else:
            theirs = [p.detach().numpy() for p in parts] + [x.grad.numpy()]
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
