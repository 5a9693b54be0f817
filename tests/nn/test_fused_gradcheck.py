"""Property-based gradient checks of the fused nn Functions (tinytorch/ops/nn_ops.py), float64
against central finite differences, first and second derivatives."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinytorch
import tinytorch.nn.functional as F
from tinytorch.autograd import gradcheck, gradgradcheck
from tinytorch._ops import nn_ops

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
REDUCTION = st.sampled_from(["mean", "sum", "none"])


def _leaf(array):
    return tinytorch.tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


@st.composite
def class_problems(draw, probabilities=False):
    """Logits of shape (C,), (N, C) or (N, C, d), targets to match, and cross_entropy options."""
    classes = draw(st.integers(1, 4))
    batch, extra = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    shape = draw(st.sampled_from([(classes,), (batch, classes), (batch, classes, extra)]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    logits = rng.uniform(-3, 3, size=shape)
    options = {"reduction": draw(REDUCTION), "label_smoothing": draw(st.sampled_from([0.0, 0.25, 1.0]))}
    if draw(st.booleans()):
        options["weight"] = tinytorch.tensor(rng.uniform(0.2, 2.0, size=classes))
    if probabilities:
        target = rng.uniform(0.05, 1.0, size=shape)
        return logits, _leaf(target / target.sum(axis=1 if len(shape) > 1 else 0, keepdims=True)), options
    target_shape = shape[:1] + shape[2:] if len(shape) > 1 else ()
    target = rng.integers(0, classes, size=target_shape)
    if target.size > 1 and draw(st.booleans()):
        target.reshape(-1)[-1] = -100  # one ignored element; the others keep the mean defined
    return logits, tinytorch.tensor(target), options


@SETTINGS
@given(problem=class_problems())
def test_cross_entropy_class_indices(problem):
    logits, target, options = problem
    x = _leaf(logits)
    assert gradcheck(lambda x: F.cross_entropy(x, target, **options), (x,))
    assert gradgradcheck(lambda x: F.cross_entropy(x, target, **options), (x,))


@SETTINGS
@given(problem=class_problems(probabilities=True))
def test_cross_entropy_class_probabilities(problem):
    logits, target, options = problem
    x = _leaf(logits)
    assert gradcheck(lambda x, t: F.cross_entropy(x, t, **options), (x, target))
    assert gradgradcheck(lambda x, t: F.cross_entropy(x, t, **options), (x, target))


@st.composite
def binary_problems(draw, low, high):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=3)))
    weight = rng.uniform(0.5, 2.0, size=shape[-1:]) if draw(st.booleans()) else None
    return rng.uniform(low, high, size=shape), rng.uniform(0, 1, size=shape), weight, draw(REDUCTION)


@SETTINGS
@given(problem=binary_problems(-5, 5), with_pos_weight=st.booleans())
def test_binary_cross_entropy_with_logits(problem, with_pos_weight):
    logits, target, weight, reduction = problem
    x, t = _leaf(logits), _leaf(target)
    weight = None if weight is None else _leaf(weight)
    pos_weight = _leaf(np.linspace(0.5, 3.0, logits.shape[-1] if logits.ndim else 1)) if with_pos_weight else None
    inputs = tuple(v for v in (x, t, weight, pos_weight) if v is not None)

    def loss(*values):
        values = iter(values)
        args = [next(values), next(values)]
        w = next(values) if weight is not None else None
        p = next(values) if pos_weight is not None else None
        return F.binary_cross_entropy_with_logits(*args, weight=w, pos_weight=p, reduction=reduction)

    # The fused backward also differentiates weight and pos_weight (PyTorch does not).
    assert gradcheck(loss, inputs)
    assert gradgradcheck(loss, inputs)


@SETTINGS
@given(problem=binary_problems(0.05, 0.95))
def test_binary_cross_entropy(problem):
    probabilities, target, weight, reduction = problem
    weight = None if weight is None else tinytorch.tensor(weight)
    inputs = (_leaf(probabilities), _leaf(target))
    assert gradcheck(lambda x, t: F.binary_cross_entropy(x, t, weight, reduction=reduction), inputs)
    assert gradgradcheck(lambda x, t: F.binary_cross_entropy(x, t, weight, reduction=reduction), inputs)


@SETTINGS
@given(values=st.lists(st.floats(-6, 6, allow_nan=False), min_size=1, max_size=8))
def test_erf(values):
    x = _leaf(values)
    assert gradcheck(nn_ops.erf, (x,))
    assert gradgradcheck(nn_ops.erf, (x,))


@SETTINGS
@given(values=st.lists(st.floats(-30, 30, allow_nan=False), min_size=1, max_size=64))
def test_erf_matches_math_erf(values):
    import math

    np.testing.assert_allclose(nn_ops.erf_array(np.array(values)), [math.erf(v) for v in values], rtol=2e-15, atol=2e-15)
    # The series (CuPy's path, and NumPy's when SciPy is not installed) is as accurate.
    np.testing.assert_allclose(nn_ops._erf_series(np.array(values)), [math.erf(v) for v in values], rtol=2e-15, atol=2e-15)


def test_cross_entropy_backward_is_softmax_minus_one_hot():
    """The plain case by hand: d(sum of losses)/d logits = softmax - one_hot(target)."""
    logits = _leaf([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    F.cross_entropy(logits, tinytorch.tensor([2, 0]), reduction="sum").backward()
    softmax = np.exp(logits.detach().numpy()) / np.exp(logits.detach().numpy()).sum(1, keepdims=True)
    np.testing.assert_allclose(logits.grad.numpy(), softmax - np.eye(3)[[2, 0]], rtol=1e-12)
