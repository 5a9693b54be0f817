"""Convolutions split over the cores by blocks of samples (tinytorch/_ops/conv.py, ``_by_samples``):
the same outputs and input gradients, bit for bit, as the whole batch at once, and the weight
gradient to rounding (the blocks' sums are added), for every geometry the op table draws (1-D,
2-D, 3-D, plain and transposed, groups, stride, dilation, padding), and against torch."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinytorch
from tinytorch._ops import conv

from ..ops.op_table import _conv_sample, values

torch = pytest.importorskip("torch")

CASES = [(spatial, transposed) for spatial in (1, 2, 3) for transposed in (False, True)]
NAMES = {(s, t): f"conv{'_transpose' if t else ''}{s}d" for s, t in CASES}


@pytest.fixture
def split(monkeypatch, splits_made):
    """Every batch of two or more samples is split (``_SPLIT_MIN`` 0); the splits made are listed."""
    monkeypatch.setattr(conv, "_SPLIT_MIN", 0)
    return splits_made


def _gradients(lib, name, x, weight, bias, kwargs, seed):
    tensors = [lib.tensor(a, requires_grad=True) for a in (x, weight) + ((bias,) if bias is not None else ())]
    out = getattr(lib.nn.functional, name)(*tensors, **kwargs)
    w = np.random.default_rng(seed).standard_normal(tuple(out.shape))
    (out * lib.tensor(w)).sum().backward()
    return [out.detach().numpy()] + [t.grad.numpy() for t in tensors]


@pytest.mark.parametrize("case", CASES, ids=[NAMES[c] for c in CASES])
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_split_batches_give_the_whole_batchs_results(split, monkeypatch, case, data):
    spatial, transposed = case
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    args, kwargs = _conv_sample(spatial, transposed)(data.draw, rng)
    count = data.draw(st.integers(2, 5), label="batch")
    x = values(rng, (count,) + args[0].shape[-(spatial + 1):])
    weight, bias = args[1], args[2] if len(args) > 2 else None
    name = NAMES[case]
    del split[:]
    ours = _gradients(tinytorch, name, x, weight, bias, kwargs, 1)
    assert split and all(bounds[0] == 0 and bounds[-1] == count and len(bounds) > 2 for bounds in split)
    with monkeypatch.context() as whole:
        whole.setattr(conv, "_by_samples", lambda function, count, images: function(0, count))
        reference = _gradients(tinytorch, name, x, weight, bias, kwargs, 1)
    np.testing.assert_array_equal(ours[0], reference[0])  # the output
    np.testing.assert_array_equal(ours[1], reference[1])  # the input's gradient
    np.testing.assert_allclose(ours[2], reference[2], rtol=1e-12, atol=1e-12)  # the weight's: sums added
    for got, want in zip(ours, _gradients(torch, name, x, weight, bias, kwargs, 1)):
        np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-9)


def test_the_mnist_cnn_layer_in_float32_matches_the_whole_batch(split, monkeypatch):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 32, 26, 26)).astype(np.float32)
    weight = (rng.standard_normal((64, 32, 3, 3)) * 0.1).astype(np.float32)
    bias = rng.standard_normal(64).astype(np.float32)
    ours = _gradients(tinytorch, "conv2d", x, weight, bias, {}, 2)
    assert split == [[0, 32, 64]] * 2  # forward, then both gradients in one pass
    with monkeypatch.context() as whole:
        whole.setattr(conv, "_by_samples", lambda function, count, images: function(0, count))
        reference = _gradients(tinytorch, "conv2d", x, weight, bias, {}, 2)
    for got, want in zip(ours[:2], reference[:2]):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(ours[2], reference[2], rtol=1e-5, atol=1e-4)
    np.testing.assert_array_equal(ours[3], reference[3])
