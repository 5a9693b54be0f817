"""``_backend.relu``: a C-contiguous CPU array is clipped as rows of 8192 elements (and a shorter
tail) against a row of zeros; the result is NumPy's ``maximum(array, 0)`` bit for bit, NaN, -0.0
and infinities included, for any shape, dtype and ``out``; ``relu_backward`` is ``grad * (result
!= 0)``; both split large arrays over the cores with the same bits."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tinytorch import _backend

_SPECIAL = st.sampled_from([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e30, -1e30, 5e-45])


def _bits(array):
    return np.ascontiguousarray(array).reshape(-1).view(np.uint8)


@settings(max_examples=120, deadline=None)
@given(shape=st.lists(st.integers(0, 70), min_size=0, max_size=4).filter(lambda s: np.prod(s, dtype=np.int64) <= 60000)
       | st.sampled_from([(8192,), (8193,), (2, 8192), (3, 8191), (1024, 64), (17, 8192 + 5)]),
       dtype=st.sampled_from([np.float32, np.float64, np.float16, np.int32, np.int64, np.int8]),
       specials=st.lists(st.tuples(st.integers(0, 10**6), _SPECIAL), max_size=8), into_out=st.booleans(),
       seed=st.integers(0, 2**16))
def test_relu_is_numpys_maximum_bit_for_bit(shape, dtype, specials, into_out, seed):
    rng = np.random.default_rng(seed)
    data = (rng.standard_normal(shape) * 100).astype(dtype)
    flat = data.reshape(-1)
    if dtype in (np.float32, np.float64, np.float16):
        with np.errstate(over="ignore"):  # 1e30 is inf in float16
            for position, value in specials:
                if flat.size:
                    flat[position % flat.size] = value
    expected = np.maximum(data, 0, dtype=data.dtype)
    out = np.full_like(data, 7) if into_out else None
    got = _backend.relu(data, out=out)
    assert got.shape == expected.shape and got.dtype == expected.dtype and got.flags.c_contiguous
    if into_out:
        assert got is out
    np.testing.assert_array_equal(_bits(got), _bits(expected))


def test_relu_in_place_and_on_views():
    data = np.random.default_rng(1).standard_normal((40, 9000)).astype(np.float32)
    expected = np.maximum(data, 0)
    # A view that is not contiguous takes NumPy's own form.
    np.testing.assert_array_equal(_backend.relu(data[:, ::2]), expected[:, ::2])
    np.testing.assert_array_equal(_backend.relu(data.T), expected.T)
    # In place (an RNN's pre-activation): the same array comes back, clipped.
    copy = data.copy()
    assert _backend.relu(copy, out=copy) is copy
    np.testing.assert_array_equal(copy, expected)
    # An out of another layout or dtype is written as NumPy writes it.
    out = np.empty((9000, 40), np.float32).T
    assert _backend.relu(data, out=out) is out
    np.testing.assert_array_equal(out, expected)
    out64 = np.empty((40, 9000), np.float64)
    _backend.relu(data, out=out64)
    np.testing.assert_array_equal(out64, expected.astype(np.float64))


@settings(max_examples=60, deadline=None)
@given(size=st.integers(0, 3000) | st.sampled_from([32, 33, 8192 * 3 + 5]),
       dtype=st.sampled_from([np.float32, np.float64, np.float16, np.int32]),
       specials=st.lists(st.tuples(st.integers(0, 10**6), _SPECIAL), max_size=8), seed=st.integers(0, 2**16))
def test_relu_and_its_backward_split_over_the_cores_keep_the_bits(size, dtype, specials, seed):
    # Every array is split (the threshold set to 0) where OpenBLAS's threads are here; elsewhere
    # this checks the single pass.
    rng = np.random.default_rng(seed)
    data = (rng.standard_normal(size) * 100).astype(dtype)
    if dtype in (np.float32, np.float64, np.float16):
        with np.errstate(over="ignore"):
            for position, value in specials:
                if size:
                    data[position % size] = value
    grad = rng.standard_normal(size).astype(dtype)
    previous, _backend.ELEMENTWISE_SPLIT_MIN = _backend.ELEMENTWISE_SPLIT_MIN, 0
    try:
        result = _backend.relu(data)
        fresh = _backend.relu_backward(grad, result)
        in_place = grad.copy()
        assert _backend.relu_backward(in_place, result, out=in_place) is in_place
    finally:
        _backend.ELEMENTWISE_SPLIT_MIN = previous
    np.testing.assert_array_equal(_bits(result), _bits(np.maximum(data, 0, dtype=data.dtype)))
    expected = grad * (np.maximum(data, 0, dtype=data.dtype) != 0)
    np.testing.assert_array_equal(_bits(fresh), _bits(expected))
    np.testing.assert_array_equal(_bits(in_place), _bits(expected))


def test_large_relus_are_split_where_openblas_threads_are(splits_made):
    data = np.random.default_rng(0).standard_normal(_backend.ELEMENTWISE_SPLIT_MIN + 37).astype(np.float32)
    result = _backend.relu(data)
    _backend.relu_backward(data, result)
    _backend.relu(data[:-40])  # below the threshold: one pass
    assert len(splits_made) == 2 and all(len(bounds) > 2 and bounds[-1] == data.size for bounds in splits_made)
    np.testing.assert_array_equal(result, np.maximum(data, 0))
