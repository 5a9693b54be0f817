"""nn.functional beyond activations and losses: pad, normalize, one_hot, batch_norm, layer_norm, embedding, linear."""

import numpy as np
import pytest

import tinytorch
import tinytorch.nn.functional as F

from .helpers import assert_close, assert_same_error, numpy_of, ours, theirs

PADS = [
    ((3, 5), (1, 2), "constant", {}),
    ((3, 5), (1, 2, 0, 3), "constant", {"value": -1.5}),
    ((2, 3, 4), (-1, 2, 1, -1), "constant", {}),
    ((2, 3, 4), (0, 0, 0, 0, 1, 1), "constant", {}),
    ((2, 3, 5), (2, 3), "reflect", {}),
    ((1, 2, 4, 5), (1, 2, 3, 0), "reflect", {}),
    ((2, 3, 5), (2, 3), "replicate", {}),
    ((1, 2, 4, 5), (4, 1, 0, 2), "replicate", {}),
    ((2, 3, 5), (2, 3), "circular", {}),
    ((1, 2, 3, 3, 4), (1, 1, 2, 0, 1, 2), "circular", {}),
]


@pytest.mark.parametrize("shape, pad, mode, kwargs", PADS)
def test_pad_matches_torch(shape, pad, mode, kwargs):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal(shape)
    a, ta = ours(x, True), theirs(torch, x, True)
    out = F.pad(a, pad, mode=mode, **kwargs)
    expected = torch.nn.functional.pad(ta, pad, mode=mode, **kwargs)
    assert_close(out, expected, atol=0, rtol=0)
    weights = np.random.default_rng(1).standard_normal(tuple(expected.shape))
    (out * tinytorch.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    assert_close(a.grad, ta.grad, atol=1e-12)


def test_pad_constant_by_hand():
    out = F.pad(tinytorch.tensor([[1.0, 2.0]]), (1, 0, 0, 1), value=9.0)
    assert numpy_of(out).tolist() == [[9.0, 1.0, 2.0], [9.0, 9.0, 9.0]]
    assert numpy_of(F.pad(tinytorch.arange(5), (-1, -2))).tolist() == [1, 2]


def _pad_errors(lib):
    fn = lib.nn.functional
    return {
        "odd": lambda: fn.pad(lib.zeros(3, 5), (1,)),
        "too_long": lambda: fn.pad(lib.zeros(3, 5), (1, 1, 1, 1, 1, 1)),
        "reflect_too_big": lambda: fn.pad(lib.zeros(1, 3, 5), (5, 1), mode="reflect"),
        "reflect_1d": lambda: fn.pad(lib.zeros(5), (2, 1), mode="reflect"),
        "unknown_mode": lambda: fn.pad(lib.zeros(1, 5), (2, 1), mode="mirror"),
        "crop_too_much": lambda: fn.pad(lib.zeros(3, 5), (-3, -3)),
    }


@pytest.mark.parametrize("case", list(_pad_errors(tinytorch)))
def test_pad_errors_match_torch(case):
    torch = pytest.importorskip("torch")
    assert_same_error(_pad_errors(tinytorch)[case], _pad_errors(torch)[case])


@pytest.mark.parametrize("p, dim", [(2.0, 1), (1.0, 0), (3.0, -1)])
def test_normalize_matches_torch(p, dim):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((4, 3))
    x[0] = 0.0  # a zero row: eps keeps it finite
    a, ta = ours(x, True), theirs(torch, x, True)
    out, expected = F.normalize(a, p, dim), torch.nn.functional.normalize(ta, p, dim)
    assert_close(out, expected, atol=1e-12)
    out.sum().backward()
    expected.sum().backward()
    assert_close(a.grad, ta.grad, atol=1e-10)


def test_one_hot():
    out = F.one_hot(tinytorch.tensor([[0, 2], [1, 1]]))
    assert out.dtype == tinytorch.int64 and out.shape == (2, 2, 3)
    assert numpy_of(out).tolist() == [[[1, 0, 0], [0, 0, 1]], [[0, 1, 0], [0, 1, 0]]]
    assert F.one_hot(tinytorch.tensor([1]), num_classes=4).tolist() == [[0, 1, 0, 0]]


def _one_hot_errors(lib):
    fn = lib.nn.functional
    return {
        "float": lambda: fn.one_hot(lib.tensor([1.0, 2.0])),
        "too_big": lambda: fn.one_hot(lib.tensor([1, 5]), 3),
        "negative": lambda: fn.one_hot(lib.tensor([1, -1]), 3),
        "empty": lambda: fn.one_hot(lib.tensor([], dtype=lib.int64)),
    }


@pytest.mark.parametrize("case", list(_one_hot_errors(tinytorch)))
def test_one_hot_errors_match_torch(case):
    torch = pytest.importorskip("torch")
    assert_same_error(_one_hot_errors(tinytorch)[case], _one_hot_errors(torch)[case])


@pytest.mark.parametrize("training", [True, False])
def test_functional_batch_norm_matches_torch(training):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, weight, bias = rng.standard_normal((6, 3, 2)), rng.uniform(0.5, 2, 3), rng.standard_normal(3)
    mean, var = rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    a, ta = ours(x, True), theirs(torch, x, True)
    rm, rv, trm, trv = ours(mean), ours(var), theirs(torch, mean), theirs(torch, var)
    out = F.batch_norm(a, rm, rv, ours(weight), ours(bias), training=training, momentum=0.3, eps=1e-3)
    expected = torch.nn.functional.batch_norm(ta, trm, trv, theirs(torch, weight), theirs(torch, bias), training=training, momentum=0.3, eps=1e-3)
    assert_close(out, expected, atol=1e-12)
    assert_close(rm, trm, atol=1e-12) and assert_close(rv, trv, atol=1e-12)
    out.sum().backward()
    expected.sum().backward()
    assert_close(a.grad, ta.grad, atol=1e-10)


def test_functional_batch_norm_without_running_stats_in_eval_is_an_error():
    with pytest.raises(RuntimeError, match="running_mean must be defined in evaluation mode"):
        F.batch_norm(tinytorch.zeros(2, 3), None, None, training=False)
    assert F.batch_norm(tinytorch.randn(4, 3), None, None, training=True).shape == (4, 3)


def test_functional_layer_norm_and_linear_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((5, 4)), rng.standard_normal(5)
    assert_close(F.layer_norm(ours(x), (3, 4)), torch.nn.functional.layer_norm(theirs(torch, x), (3, 4)), atol=1e-12)
    assert_close(F.linear(ours(x), ours(w), ours(b)), torch.nn.functional.linear(theirs(torch, x), theirs(torch, w), theirs(torch, b)), atol=1e-12)
    assert_close(F.linear(ours(x), ours(w)), torch.nn.functional.linear(theirs(torch, x), theirs(torch, w)), atol=1e-12)


def test_functional_embedding_padding_idx():
    weight = tinytorch.randn(5, 2, requires_grad=True)
    out = F.embedding(tinytorch.tensor([0, 3, 3, 1]), weight, padding_idx=3)
    assert np.array_equal(numpy_of(out)[1], numpy_of(weight)[3])  # the value is still looked up
    out.sum().backward()
    assert numpy_of(weight.grad).tolist() == [[1, 1], [1, 1], [0, 0], [0, 0], [0, 0]]


def test_softmax_and_log_softmax_dtype_argument():
    x = tinytorch.randn(2, 3)
    assert F.softmax(x, dim=1, dtype=tinytorch.float64).dtype == tinytorch.float64
    np.testing.assert_allclose(numpy_of(F.log_softmax(x, 1).exp()), numpy_of(F.softmax(x, 1)), rtol=1e-6)
