"""Every loss against torch: values and gradients for every reduction, stability, PyTorch's errors."""

import warnings

import numpy as np
import pytest

import tinytorch
import tinytorch.nn.functional as F
from tinytorch import nn

from .helpers import assert_close, assert_same_error, numpy_of, ours, theirs

REDUCTIONS = ["mean", "sum", "none"]
TOLERANCE = {"float32": dict(atol=2e-5, rtol=2e-4), "float64": dict(atol=1e-10, rtol=1e-8)}


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _regression(rng):
    return rng.standard_normal((4, 5)), rng.standard_normal((4, 5))


def _probabilities(rng):
    return rng.uniform(0.02, 0.98, (4, 5)), rng.uniform(0.0, 1.0, (4, 5))


def _binary_logits(rng):
    return rng.standard_normal((4, 5)) * 3, rng.uniform(0.0, 1.0, (4, 5))


def _log_probabilities(rng):
    return np.log(_softmax(rng.standard_normal((4, 5)), 1)), _softmax(rng.standard_normal((4, 5)), 1)


def _log_probabilities_log_target(rng):
    x, t = _log_probabilities(rng)
    return x, np.log(t)


def _class_indices(rng):
    return rng.standard_normal((6, 5)) * 2, rng.integers(0, 5, size=6)


def _log_probabilities_indices(rng):
    x, t = _class_indices(rng)
    return np.log(_softmax(x, 1)), t


# (functional name, module name, inputs, options)
CASES = [
    ("mse_loss", "MSELoss", _regression, {}),
    ("l1_loss", "L1Loss", _regression, {}),
    ("smooth_l1_loss", "SmoothL1Loss", _regression, {"beta": 0.5}),
    ("smooth_l1_loss", "SmoothL1Loss", _regression, {"beta": 0.0}),
    ("huber_loss", "HuberLoss", _regression, {"delta": 0.7}),
    ("binary_cross_entropy", "BCELoss", _probabilities, {}),
    ("binary_cross_entropy_with_logits", "BCEWithLogitsLoss", _binary_logits, {}),
    ("kl_div", "KLDivLoss", _log_probabilities, {}),
    ("kl_div", "KLDivLoss", _log_probabilities_log_target, {"log_target": True}),
    ("nll_loss", "NLLLoss", _log_probabilities_indices, {}),
    ("cross_entropy", "CrossEntropyLoss", _class_indices, {}),
]
CASE_IDS = [f"{c[0]}-{'-'.join(f'{k}={v}' for k, v in c[3].items())}" for c in CASES]


def _pair(torch, x, t, dtype):
    """(our input, our target, torch input, torch target); float targets get requires_grad too."""
    float_target = t.dtype.kind == "f"
    tdtype = dtype if float_target else np.int64
    return (ours(x, True, dtype), ours(t, float_target, tdtype), theirs(torch, x, True, dtype), theirs(torch, t, float_target, tdtype))


def _compare(loss, expected, inputs, torch_inputs, dtype, rng):
    """Same value, and same gradients for every input that requires grad."""
    tol = TOLERANCE[dtype]
    assert tuple(loss.shape) == tuple(expected.shape)
    assert loss.dtype.name == str(expected.dtype).replace("torch.", "")
    assert_close(loss, expected, **tol)
    weights = rng.standard_normal(tuple(loss.shape)).astype(dtype)
    (loss * tinytorch.tensor(weights)).sum().backward()
    (expected * expected.new_tensor(weights)).sum().backward()
    for a, b in zip(inputs, torch_inputs):
        if b.requires_grad:
            assert a.grad is not None
            assert_close(a.grad, b.grad, **tol)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_functional_loss_matches_torch(case, reduction, dtype):
    torch = pytest.importorskip("torch")
    name, _, make, options = case
    rng = np.random.default_rng(0)
    x, t = make(rng)
    a, b, ta, tb = _pair(torch, x, t, dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # kl_div's 'mean' warning is tested on its own
        loss = getattr(F, name)(a, b, reduction=reduction, **options)
        expected = getattr(torch.nn.functional, name)(ta, tb, reduction=reduction, **options)
    _compare(loss, expected, (a, b), (ta, tb), dtype, rng)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_loss_module_matches_torch(case, reduction):
    torch = pytest.importorskip("torch")
    _, module_name, make, options = case
    rng = np.random.default_rng(1)
    x, t = make(rng)
    a, b, ta, tb = _pair(torch, x, t, "float32")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loss = getattr(nn, module_name)(reduction=reduction, **options)(a, b)
        expected = getattr(torch.nn, module_name)(reduction=reduction, **options)(ta, tb)
    _compare(loss, expected, (a, b), (ta, tb), "float32", rng)


def test_kl_div_batchmean_and_mean_warning():
    torch = pytest.importorskip("torch")
    x, t = _log_probabilities(np.random.default_rng(2))
    a, b, ta, tb = _pair(torch, x, t, "float64")
    _compare(F.kl_div(a, b, reduction="batchmean"), torch.nn.functional.kl_div(ta, tb, reduction="batchmean"), (a, b), (ta, tb), "float64", np.random.default_rng(0))
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        F.kl_div(a.detach(), b.detach())


def test_kl_div_zero_target_contributes_zero():
    """0 log 0 = 0, so a zero target gives a finite loss and a finite gradient."""
    x = tinytorch.tensor([[-1.0, -2.0]], requires_grad=True)
    t = tinytorch.tensor([[1.0, 0.0]], requires_grad=True)
    loss = F.kl_div(x, t, reduction="sum")
    loss.backward()
    assert loss.item() == pytest.approx(1.0)
    assert np.isfinite(numpy_of(t.grad)).all() and np.isfinite(numpy_of(x.grad)).all()


# -- cross-entropy options ----------------------------------------------------------------------
CE_CASES = {
    "weight": dict(shape=(6, 4), kwargs=dict(weight=[0.5, 1.0, 2.0, 0.25])),
    "ignore_index": dict(shape=(6, 4), ignore=-100),
    "custom_ignore_index": dict(shape=(6, 4), kwargs=dict(ignore_index=2)),
    "label_smoothing": dict(shape=(6, 4), kwargs=dict(label_smoothing=0.1)),
    "everything": dict(shape=(6, 4), ignore=-100, kwargs=dict(weight=[0.5, 1.0, 2.0, 0.25], label_smoothing=0.3)),
    "spatial_1d": dict(shape=(3, 4, 5), kwargs=dict(weight=[1.0, 2.0, 3.0, 4.0])),
    "spatial_2d": dict(shape=(2, 4, 3, 2), ignore=-100, kwargs=dict(label_smoothing=0.2)),
    "unbatched": dict(shape=(5,)),
    "unbatched_smoothing": dict(shape=(5,), kwargs=dict(label_smoothing=0.5, weight=[1.0, 2.0, 3.0, 4.0, 5.0])),
    "probabilities": dict(shape=(6, 4), probabilities=True),
    "probabilities_everything": dict(shape=(6, 4), probabilities=True, kwargs=dict(weight=[0.5, 1.0, 2.0, 0.25], label_smoothing=0.2)),
    "probabilities_spatial": dict(shape=(2, 4, 3), probabilities=True, kwargs=dict(label_smoothing=0.1)),
    "probabilities_unbatched": dict(shape=(4,), probabilities=True),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", list(CE_CASES))
def test_cross_entropy_options_match_torch(name, reduction, dtype):
    torch = pytest.importorskip("torch")
    spec = CE_CASES[name]
    rng = np.random.default_rng(3)
    shape = spec["shape"]
    classes = shape[1] if len(shape) > 1 else shape[0]
    x = rng.standard_normal(shape) * 3
    if spec.get("probabilities"):
        t = _softmax(rng.standard_normal(shape), 1 if len(shape) > 1 else 0)
    else:
        t = rng.integers(0, classes, size=shape[:1] + shape[2:] if len(shape) > 1 else ())
        if "ignore" in spec:
            t.reshape(-1)[::3] = spec["ignore"]
    kwargs = dict(spec.get("kwargs", {}))
    a, b, ta, tb = _pair(torch, x, np.asarray(t), dtype)
    our_kwargs, torch_kwargs = dict(kwargs), dict(kwargs)
    if "weight" in kwargs:
        our_kwargs["weight"] = ours(kwargs["weight"], dtype=dtype)
        torch_kwargs["weight"] = theirs(torch, kwargs["weight"], dtype=dtype)
    loss = F.cross_entropy(a, b, reduction=reduction, **our_kwargs)
    expected = torch.nn.functional.cross_entropy(ta, tb, reduction=reduction, **torch_kwargs)
    assert loss.grad_fn.name() == "CrossEntropyBackward0"  # one fused node
    _compare(loss, expected, (a, b), (ta, tb), dtype, rng)


def test_cross_entropy_module_keeps_weight_as_buffer():
    weight = tinytorch.tensor([1.0, 2.0, 3.0])
    loss = nn.CrossEntropyLoss(weight=weight, ignore_index=1, label_smoothing=0.1)
    assert loss.weight is weight
    assert list(loss.state_dict()) == ["weight"]
    assert (loss.ignore_index, loss.label_smoothing, loss.reduction) == (1, 0.1, "mean")
    assert repr(loss) == "CrossEntropyLoss()"


def test_cross_entropy_all_ignored_mean_is_nan_like_torch():
    loss = F.cross_entropy(tinytorch.randn(3, 4), tinytorch.tensor([-100, -100, -100]))
    assert np.isnan(loss.item())


# -- stability ----------------------------------------------------------------------------------
EXTREME = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5e3], [0.0, 0.0, -1e4]])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cross_entropy_extreme_logits_are_finite_and_match_torch(dtype, reduction):
    torch = pytest.importorskip("torch")
    target = np.array([1, 0, 2])
    a, b, ta, tb = _pair(torch, EXTREME, target, dtype)
    loss = F.cross_entropy(a, b, reduction=reduction, label_smoothing=0.1)
    expected = torch.nn.functional.cross_entropy(ta, tb, reduction=reduction, label_smoothing=0.1)
    assert np.isfinite(numpy_of(loss)).all()
    _compare(loss, expected, (a,), (ta,), dtype, np.random.default_rng(0))
    assert np.isfinite(numpy_of(a.grad)).all()


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bce_with_logits_extreme_logits_are_finite_and_match_torch(dtype, reduction):
    torch = pytest.importorskip("torch")
    target = np.array([[0.0, 1.0, 0.5], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    a, b, ta, tb = _pair(torch, EXTREME, target, dtype)
    pos_weight = np.array([1.0, 3.0, 0.5])
    loss = F.binary_cross_entropy_with_logits(a, b, reduction=reduction, pos_weight=ours(pos_weight, dtype=dtype))
    expected = torch.nn.functional.binary_cross_entropy_with_logits(ta, tb, reduction=reduction, pos_weight=theirs(torch, pos_weight, dtype=dtype))
    assert np.isfinite(numpy_of(loss)).all()
    _compare(loss, expected, (a, b), (ta, tb), dtype, np.random.default_rng(0))
    assert np.isfinite(numpy_of(a.grad)).all()


def test_bce_with_logits_weight_and_pos_weight_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x, t = _binary_logits(rng)
    weight, pos_weight = rng.uniform(0.5, 2, (1, 5)), rng.uniform(0.5, 2, 5)
    a, b, ta, tb = _pair(torch, x, t, "float64")
    loss = nn.BCEWithLogitsLoss(weight=ours(weight), pos_weight=ours(pos_weight))(a, b)
    expected = torch.nn.BCEWithLogitsLoss(weight=theirs(torch, weight), pos_weight=theirs(torch, pos_weight))(ta, tb)
    _compare(loss, expected, (a, b), (ta, tb), "float64", rng)


def test_bce_at_zero_and_one_clamps_log_like_torch():
    torch = pytest.importorskip("torch")
    x, t = np.array([0.0, 1.0, 0.0, 1.0, 0.5]), np.array([0.0, 1.0, 1.0, 0.0, 0.5])
    a, b, ta, tb = _pair(torch, x, t, "float32")
    loss = F.binary_cross_entropy(a, b, reduction="none")
    expected = torch.nn.functional.binary_cross_entropy(ta, tb, reduction="none")
    assert numpy_of(loss).tolist() == pytest.approx([0.0, 0.0, 100.0, 100.0, float(np.log(2))], rel=1e-6)
    _compare(loss, expected, (a,), (ta,), "float32", np.random.default_rng(0))
    assert np.isfinite(numpy_of(a.grad)).all()


def test_bce_weight_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x, t = _probabilities(rng)
    weight = rng.uniform(0.5, 2, (4, 1))
    a, b, ta, tb = _pair(torch, x, t, "float64")
    _compare(F.binary_cross_entropy(a, b, ours(weight)), torch.nn.functional.binary_cross_entropy(ta, tb, theirs(torch, weight)), (a, b), (ta, tb), "float64", rng)


# -- errors -------------------------------------------------------------------------------------
def _error_cases(lib):
    fn = lib.nn.functional
    x = lib.tensor(np.random.default_rng(0).standard_normal((3, 10)), dtype=lib.float32)
    long = lambda v: lib.tensor(v, dtype=lib.int64)  # noqa: E731
    return {
        "target_out_of_bounds": lambda: fn.cross_entropy(x, long([1, 10, 2])),
        "negative_target": lambda: fn.cross_entropy(x, long([1, -1, 2])),
        "float_target_of_wrong_shape": lambda: fn.cross_entropy(x, lib.tensor([1.0, 0.0, 2.0])),
        "int_probabilities": lambda: fn.cross_entropy(x, lib.zeros(3, 10, dtype=lib.int64)),
        "batch_mismatch": lambda: fn.cross_entropy(x, long([1, 2])),
        "spatial_mismatch": lambda: fn.cross_entropy(lib.zeros(2, 3, 4), lib.zeros(2, 5, dtype=lib.int64)),
        "int32_target": lambda: fn.cross_entropy(x, lib.tensor([1, 2, 3], dtype=lib.int32)),
        "label_smoothing_range": lambda: fn.cross_entropy(x, long([1, 2, 3]), label_smoothing=1.5),
        "weight_size": lambda: fn.cross_entropy(x, long([1, 2, 3]), weight=lib.ones(3)),
        "probabilities_weight_size": lambda: fn.cross_entropy(x, lib.ones(3, 10), weight=lib.ones(3)),
        "probabilities_ignore_index": lambda: fn.cross_entropy(x, lib.ones(3, 10), ignore_index=1),
        "multi_target": lambda: fn.cross_entropy(x, lib.zeros(3, 2, dtype=lib.int64)),
        "bad_reduction": lambda: fn.cross_entropy(x, long([1, 2, 3]), reduction="avg"),
        "mse_bad_reduction": lambda: fn.mse_loss(x, x, reduction="elementwise"),
        "nll_out_of_bounds": lambda: fn.nll_loss(lib.zeros(2, 3, 4), lib.full((2, 4), 3, dtype=lib.int64)),
        "nll_zero_dim": lambda: fn.nll_loss(lib.tensor(1.0), long(0)),
        "bce_shape": lambda: fn.binary_cross_entropy(lib.rand(3), lib.rand(3, 1)),
        "bce_range": lambda: fn.binary_cross_entropy(lib.tensor([1.5, 0.5]), lib.rand(2)),
        "bce_with_logits_shape": lambda: fn.binary_cross_entropy_with_logits(lib.rand(3), lib.rand(3, 1)),
        "smooth_l1_negative_beta": lambda: fn.smooth_l1_loss(lib.rand(3), lib.rand(3), beta=-1.0),
        "huber_zero_delta": lambda: fn.huber_loss(lib.rand(3), lib.rand(3), delta=0.0),
    }


@pytest.mark.parametrize("case", list(_error_cases(tinytorch)))
def test_errors_match_torch(case):
    torch = pytest.importorskip("torch")
    assert_same_error(_error_cases(tinytorch)[case], _error_cases(torch)[case])


def test_errors_without_torch():
    """The key messages, checked even where torch is not installed."""
    x = tinytorch.randn(3, 10)
    with pytest.raises(IndexError, match=r"^Target 10 is out of bounds\.$"):
        F.cross_entropy(x, tinytorch.tensor([1, 10, 2]))
    with pytest.raises(ValueError, match="avg is not a valid value for reduction"):
        nn.CrossEntropyLoss(reduction="avg")(x, tinytorch.tensor([1, 2, 3]))
    with pytest.raises(RuntimeError, match="expected target dtype to be Long or Byte, but got Float"):
        F.cross_entropy(x, tinytorch.tensor([1.0, 0.0, 2.0]))


def test_target_that_does_not_broadcast_is_an_error():
    with pytest.warns(UserWarning), pytest.raises(RuntimeError, match=r"^The size of tensor a \(3\) must match the size of tensor b \(4\) at non-singleton dimension 0"):
        F.mse_loss(tinytorch.zeros(3), tinytorch.zeros(4))


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss"])
def test_broadcasting_target_warns_like_torch(name):
    with pytest.warns(UserWarning) as record:
        loss = getattr(F, name)(tinytorch.zeros(3), tinytorch.ones(3, 1))
    assert str(record[0].message) == (
        "Using a target size (tinytorch.Size([3, 1])) that is different to the input size (tinytorch.Size([3])). "
        "This will likely lead to incorrect results due to broadcasting. Please ensure they have the same size."
    )
    assert loss.shape == ()  # it still computes, on the broadcast (3, 3) values


def test_legacy_size_average_and_reduce():
    x, t = tinytorch.tensor([1.0, 2.0]), tinytorch.tensor([0.0, 0.0])
    with pytest.warns(UserWarning, match="reduction='sum'"):
        assert F.mse_loss(x, t, size_average=False).item() == 5.0
    with pytest.warns(UserWarning, match="reduction='none'"):
        assert nn.MSELoss(reduce=False)(x, t).tolist() == [1.0, 4.0]
