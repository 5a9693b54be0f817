"""The normalization layers around convolutions, against torch with copied weights: BatchNorm2d/3d
(again: train and eval, running statistics, momentum=None, every gradient), GroupNorm and
InstanceNorm1d/2d/3d; reprs, state_dict keys and PyTorch's errors."""

import warnings

import numpy as np
import pytest

import tinytorch
import tinytorch.nn.functional as F
from tinytorch import nn

from .helpers import assert_close, assert_same_error, assert_same_error_in_both, copy_module, numpy_of

TOLERANCE = {"float32": dict(atol=2e-5, rtol=2e-4), "float64": dict(atol=1e-11, rtol=1e-9)}


def _randomize(torch, reference):
    """Weights away from their 1/0 defaults (a gradient bug could hide behind them)."""
    with torch.no_grad():
        for name, value in reference.named_parameters():
            value.uniform_(0.5, 1.5) if name == "weight" else value.uniform_(-0.5, 0.5)


def _step(torch, layer, reference, x, rng, tol):
    """One forward and backward of both; outputs, the input's and every parameter's gradient agree."""
    dtype = getattr(torch, x.dtype.name)
    a = tinytorch.tensor(x, requires_grad=True)
    ta = torch.tensor(x, requires_grad=True)
    out, expected = layer(a), reference(ta)
    assert out.dtype.name == x.dtype.name
    assert_close(out, expected, **tol)
    weights = rng.standard_normal(tuple(expected.shape)).astype(x.dtype)
    (out * tinytorch.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights, dtype=dtype)).sum().backward()
    assert_close(a.grad, ta.grad, **tol)
    for (name, ours_p), (_, theirs_p) in zip(layer.named_parameters(), reference.named_parameters()):
        assert ours_p.grad is not None, name
        assert_close(ours_p.grad, theirs_p.grad, atol=tol["atol"] * 10, rtol=tol["rtol"] * 10)
        ours_p.grad = None
        theirs_p.grad = None


def _compare_state(layer, reference, tol):
    theirs = reference.state_dict()
    ours_state = layer.state_dict()
    assert list(ours_state) == list(theirs)
    for key, value in theirs.items():
        assert ours_state[key].dtype.name == str(value.dtype).replace("torch.", ""), key
        assert_close(ours_state[key], value, **tol)


def _train_then_eval(name, kwargs, shape, dtype_name, steps=4):
    torch = pytest.importorskip("torch")
    dtype = getattr(torch, dtype_name)
    reference = getattr(torch.nn, name)(**kwargs, dtype=dtype)
    _randomize(torch, reference)
    layer = copy_module(reference, getattr(nn, name)(**kwargs, dtype=getattr(tinytorch, dtype_name)))
    assert repr(layer) == repr(reference)
    tol = TOLERANCE[dtype_name]
    rng = np.random.default_rng(0)
    for step in range(steps):
        x = (rng.standard_normal(shape) * (step + 1) + step).astype(dtype_name)
        _step(torch, layer, reference, x, rng, tol)
        _compare_state(layer, reference, tol)
    layer.eval()
    reference.eval()
    for _ in range(2):  # eval uses (and does not move) the running statistics
        _step(torch, layer, reference, rng.standard_normal(shape).astype(dtype_name) * 2, rng, tol)
        _compare_state(layer, reference, tol)
    return layer


# -- BatchNorm2d/3d ---------------------------------------------------------------------------------
BATCHNORM = [
    ("BatchNorm2d", dict(num_features=3), (4, 3, 5, 5)),
    ("BatchNorm2d", dict(num_features=3, momentum=None), (2, 3, 4, 3)),
    ("BatchNorm2d", dict(num_features=2, momentum=0.4, eps=1e-3), (3, 2, 2, 2)),
    ("BatchNorm2d", dict(num_features=3, affine=False), (2, 3, 3, 4)),
    ("BatchNorm2d", dict(num_features=3, bias=False), (2, 3, 3, 4)),
    ("BatchNorm2d", dict(num_features=3, track_running_stats=False), (2, 3, 3, 4)),  # eval: batch statistics
    ("BatchNorm2d", dict(num_features=4), (1, 4, 1, 2)),  # two values per channel: the smallest batch
    ("BatchNorm3d", dict(num_features=2), (2, 2, 3, 2, 2)),
]


@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
@pytest.mark.parametrize("name, kwargs, shape", BATCHNORM, ids=[f"{n}-{k}" for n, k, _ in BATCHNORM])
def test_batchnorm_train_and_eval_match_torch(name, kwargs, shape, dtype_name):
    layer = _train_then_eval(name, kwargs, shape, dtype_name)
    if layer.track_running_stats:
        assert layer.num_batches_tracked.item() == 4 and layer.num_batches_tracked.dtype == tinytorch.int64


def test_batchnorm2d_momentum_none_is_the_plain_average_of_the_batches():
    layer = nn.BatchNorm2d(1, momentum=None, dtype=tinytorch.float64)
    batches = [np.random.default_rng(k).standard_normal((2, 1, 3, 3)) * (k + 1) + k for k in range(5)]
    for batch in batches:
        layer(tinytorch.tensor(batch))
    np.testing.assert_allclose(layer.running_mean.item(), np.mean([b.mean() for b in batches]), rtol=1e-12)
    np.testing.assert_allclose(layer.running_var.item(), np.mean([b.var(ddof=1) for b in batches]), rtol=1e-12)


def test_batchnorm2d_in_a_cnn_block_matches_torch():
    """BatchNorm2d between two layers: the gradient that reaches the layer below agrees too."""
    torch = pytest.importorskip("torch")
    reference = torch.nn.Sequential(torch.nn.BatchNorm2d(3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(12, 2))
    _randomize(torch, reference[0])
    model = copy_module(reference, nn.Sequential(nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(), nn.Linear(12, 2)))
    rng = np.random.default_rng(1)
    for training in (True, True, False):
        model.train(training)
        reference.train(training)
        _step(torch, model, reference, rng.standard_normal((5, 3, 2, 2)).astype(np.float32), rng, TOLERANCE["float32"])
    _compare_state(model, reference, TOLERANCE["float32"])


def test_batch_norm_argument_errors_match_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)

    def both(**kwargs):
        def call(lib):
            vectors = {k: (lib.ones(v) if isinstance(v, int) else v) for k, v in kwargs.items() if k not in ("training", "eps")}
            return lib.nn.functional.batch_norm(lib.tensor(x), vectors.pop("running_mean", None), vectors.pop("running_var", None),
                                                training=kwargs.get("training", False), eps=kwargs.get("eps", 1e-5), **vectors)
        assert_same_error(lambda: call(tinytorch), lambda: call(torch))

    both(running_mean=4, running_var=3, training=True)
    both(running_mean=3, running_var=5)
    both(running_mean=3, running_var=3, weight=4, training=True)
    both(running_mean=3, running_var=3, bias=2)
    both(running_mean=3, running_var=3, training=True, eps=0.0)
    both(running_mean=3, running_var=3, eps=-1.0)
    both()  # evaluation without running statistics
    assert_same_error(lambda: F.batch_norm(tinytorch.ones(1, 3), None, None, training=True),
                      lambda: torch.nn.functional.batch_norm(torch.ones(1, 3), None, None, training=True))
    assert_same_error(lambda: nn.BatchNorm3d(2)(tinytorch.ones(2, 2, 2)), lambda: torch.nn.BatchNorm3d(2)(torch.ones(2, 2, 2)))


def test_batch_norm_dtype_rules_match_torch():
    """PyTorch's CPU rules: when the first given parameter (weight, bias, running_mean,
    running_var) differs from the input, all must be float32 and the input float16; otherwise each
    must match the input. Integer input is refused."""
    torch = pytest.importorskip("torch")

    def call(lib, x_dtype, dtypes, training):
        x = lib.ones(4, 3, 2, dtype=getattr(lib, x_dtype))
        weight, bias, mean, var = (None if d is None else lib.full((3,), 0.5, dtype=getattr(lib, d)) for d in dtypes)
        return lib.nn.functional.batch_norm(x, mean, var, weight, bias, training=training)

    f16, f32, f64 = "float16", "float32", "float64"
    for training in (True, False):
        for x_dtype, dtypes in [("int64", (None,) * 4), (f64, (f32, f32, f32, f32)), (f32, (f64, None, f32, f32)),
                                (f32, (f32, f32, f64, f64)), (f16, (f16, f16, f32, f32)), (f16, (f32, f16, f32, f32)),
                                (f64, (None, None, f32, f32)), (f32, (None, f64, f32, f32))]:
            assert_same_error_in_both(torch, call, x_dtype, dtypes, training)
        for x_dtype, dtypes in [(f16, (f32, f32, f32, f32)), (f16, (None, None, f32, f32)), (f16, (f16, f16, f16, f16))]:
            ours, theirs = call(tinytorch, x_dtype, dtypes, training), call(torch, x_dtype, dtypes, training)
            assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1] == "float16"
            np.testing.assert_allclose(ours.float().numpy(), theirs.float().numpy(), atol=1e-3)


def test_batch_norm_float16_input_updates_float32_running_stats_like_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).standard_normal((6, 3, 5)).astype(np.float16)
    results = []
    for lib in (tinytorch, torch):
        mean, var = lib.zeros(3), lib.ones(3)
        out = lib.nn.functional.batch_norm(lib.tensor(x), mean, var, lib.ones(3), lib.zeros(3), training=True, momentum=0.5)
        results.append((out.float().numpy(), mean.numpy(), var.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], atol=2e-3)
    for ours, theirs in zip(results[0][1:], results[1][1:]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5)


def test_batch_norm_refuses_running_stats_that_require_grad_like_torch():
    torch = pytest.importorskip("torch")

    def call(lib, grad_enabled):
        with lib.set_grad_enabled(grad_enabled):
            mean = lib.zeros(3, requires_grad=True)
            return lib.nn.functional.batch_norm(lib.ones(2, 3), mean, lib.ones(3), training=False)

    assert_same_error_in_both(torch, call, True)
    assert numpy_of(call(tinytorch, False)).shape == (2, 3) and call(torch, False).shape == (2, 3)


def test_batch_norm_of_an_empty_batch_leaves_the_running_stats_alone():
    mean, var = tinytorch.full((3,), 0.25), tinytorch.full((3,), 2.0)
    x = tinytorch.ones(0, 3, 4, requires_grad=True)
    out = F.batch_norm(x, mean, var, training=True)
    out.sum().backward()
    assert out.shape == (0, 3, 4) and x.grad.shape == (0, 3, 4)
    assert numpy_of(mean).tolist() == [0.25] * 3 and numpy_of(var).tolist() == [2.0] * 3


def test_instance_norm_takes_running_stats_of_another_dtype_like_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(2).standard_normal((3, 4, 5))
    results = []
    for lib in (tinytorch, torch):
        mean, var = lib.zeros(4), lib.ones(4)  # float32, the input float64
        out = lib.nn.functional.instance_norm(lib.tensor(x), mean, var, momentum=0.3)
        results.append((out.numpy(), mean.numpy(), var.numpy(), str(out.dtype).split(".")[-1]))
    assert results[0][3] == results[1][3] == "float64"
    for ours, theirs in zip(results[0][:3], results[1][:3]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)


# -- GroupNorm ------------------------------------------------------------------------------------
GROUPNORM = [
    (dict(num_groups=2, num_channels=4), (3, 4, 5)),
    (dict(num_groups=1, num_channels=3), (2, 3, 4, 4)),  # LayerNorm over (C, H, W)
    (dict(num_groups=3, num_channels=3, eps=1e-3), (2, 3, 2, 2)),  # InstanceNorm with affine
    (dict(num_groups=2, num_channels=6, affine=False), (2, 6, 3, 2, 2)),
    (dict(num_groups=4, num_channels=8, bias=False), (2, 8, 3)),
]


@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
@pytest.mark.parametrize("kwargs, shape", GROUPNORM, ids=[str(k) for k, _ in GROUPNORM])
def test_groupnorm_matches_torch(kwargs, shape, dtype_name):
    layer = _train_then_eval("GroupNorm", kwargs, shape, dtype_name, steps=2)
    assert list(layer.state_dict()) == (["weight", "bias"] if layer.affine and layer.bias is not None else
                                        ["weight"] if layer.affine else [])


def test_groupnorm_normalizes_each_group_of_each_sample():
    x = tinytorch.randn(3, 6, 4, dtype=tinytorch.float64) * 4 + 2
    out = numpy_of(nn.GroupNorm(3, 6, dtype=tinytorch.float64)(x)).reshape(3, 3, -1)
    np.testing.assert_allclose(out.mean(-1), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(-1), 1, rtol=1e-4)


def test_groupnorm_errors_match_torch():
    torch = pytest.importorskip("torch")
    assert_same_error(lambda: nn.GroupNorm(4, 6), lambda: torch.nn.GroupNorm(4, 6))
    def call(lib, shape, groups, weight):
        return lib.nn.functional.group_norm(lib.ones(*shape), groups, None if weight is None else lib.ones(weight))

    for shape, groups, weight in [((2, 3, 4), 2, None), ((3,), 1, None), ((2, 3, 4), 3, 2), ((1, 3), 3, None),
                                  ((2, 3, 4), -3, None), ((2, 3, 4), 0, None)]:
        assert_same_error_in_both(torch, call, shape, groups, weight)
    assert F.group_norm(tinytorch.ones(0, 3, 4), 3).shape == (0, 3, 4)


def test_groupnorm_dtype_rules_match_torch():
    """Integer input, and parameters of another dtype: PyTorch's CPU errors; float32 parameters
    with a float16 input are allowed and give float16."""
    torch = pytest.importorskip("torch")

    def call(lib, dtypes):
        x_dtype, w_dtype, b_dtype = (None if d is None else getattr(lib, d) for d in dtypes)
        weight = None if w_dtype is None else lib.ones(4, dtype=w_dtype)
        bias = None if b_dtype is None else lib.zeros(4, dtype=b_dtype)
        return lib.nn.functional.group_norm(lib.ones(2, 4, 3, dtype=x_dtype), 2, weight, bias)

    for dtypes in [("int64", None, None), ("float64", "float32", None), ("float32", "float64", None),
                   ("float32", None, "float64"), ("float64", None, "float32"), ("float16", "float32", "float16"),
                   ("float64", "float64", "float32"), ("float32", "float16", None)]:
        assert_same_error_in_both(torch, call, dtypes)
    for dtypes in [("float16", "float32", "float32"), ("float16", None, "float32"), ("float16", "float16", "float16")]:
        ours, theirs = call(tinytorch, dtypes), call(torch, dtypes)
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1] == "float16"
        np.testing.assert_allclose(ours.float().numpy(), theirs.float().numpy(), atol=1e-3)


# -- InstanceNorm ---------------------------------------------------------------------------------
INSTANCENORM = [
    ("InstanceNorm1d", dict(num_features=3), (2, 3, 5)),
    ("InstanceNorm1d", dict(num_features=3, affine=True, track_running_stats=True), (4, 3, 6)),
    ("InstanceNorm2d", dict(num_features=3), (2, 3, 4, 4)),
    ("InstanceNorm2d", dict(num_features=2, affine=True), (3, 2, 3, 5)),
    ("InstanceNorm2d", dict(num_features=2, track_running_stats=True, momentum=0.3), (3, 2, 3, 2)),
    ("InstanceNorm2d", dict(num_features=2, affine=True, track_running_stats=True, momentum=None), (2, 2, 3, 3)),
    ("InstanceNorm2d", dict(num_features=3, affine=True, bias=False, eps=1e-3), (2, 3, 2, 2)),
    ("InstanceNorm2d", dict(num_features=3, affine=True, track_running_stats=True), (3, 4, 4)),  # unbatched
    ("InstanceNorm3d", dict(num_features=2, affine=True, track_running_stats=True), (2, 2, 2, 3, 2)),
]


@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
@pytest.mark.parametrize("name, kwargs, shape", INSTANCENORM, ids=[f"{n}-{k}-{s}" for n, k, s in INSTANCENORM])
def test_instancenorm_train_and_eval_match_torch(name, kwargs, shape, dtype_name):
    layer = _train_then_eval(name, kwargs, shape, dtype_name)
    if layer.track_running_stats:  # InstanceNorm never counts its batches (as PyTorch)
        assert layer.num_batches_tracked.item() == 0


def test_instancenorm_normalizes_each_channel_of_each_sample():
    x = tinytorch.randn(2, 3, 5, 4, dtype=tinytorch.float64) * 3 - 1
    out = numpy_of(nn.InstanceNorm2d(3)(x)).reshape(2, 3, -1)
    np.testing.assert_allclose(out.mean(-1), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(-1), 1, rtol=1e-4)


def test_instancenorm_running_stats_by_hand():
    """The running statistics move towards the batch average of each instance's mean and
    unbiased variance."""
    layer = nn.InstanceNorm1d(1, track_running_stats=True, momentum=0.5, dtype=tinytorch.float64)
    x = np.array([[[1.0, 3.0]], [[10.0, 20.0]]])
    layer(tinytorch.tensor(x))
    np.testing.assert_allclose(layer.running_mean.item(), 0.5 * (2.0 + 15.0) / 2, rtol=1e-12)
    np.testing.assert_allclose(layer.running_var.item(), 0.5 + 0.5 * (2.0 + 50.0) / 2, rtol=1e-12)


def test_instancenorm_warns_or_raises_on_a_channel_mismatch_like_torch():
    torch = pytest.importorskip("torch")
    assert_same_error(lambda: nn.InstanceNorm2d(4, affine=True)(tinytorch.ones(2, 3, 2, 2)),
                      lambda: torch.nn.InstanceNorm2d(4, affine=True)(torch.ones(2, 3, 2, 2)))
    with pytest.warns(UserWarning, match="input's size at dim=1 does not match num_features"):
        nn.InstanceNorm2d(4)(tinytorch.ones(2, 3, 2, 2))
    with pytest.warns(UserWarning, match="input's size at dim=0 does not match num_features"):
        nn.InstanceNorm1d(4)(tinytorch.ones(3, 5))
    def call(lib, module, shape):
        return getattr(lib.nn, module)(3)(lib.ones(*shape))

    for module, shape in [("InstanceNorm1d", (3,)), ("InstanceNorm2d", (2, 3, 4, 4, 4)), ("InstanceNorm3d", (2, 2, 2)),
                          ("InstanceNorm1d", (2, 3, 1))]:
        assert_same_error_in_both(torch, call, module, shape)
    # Evaluation with running statistics normalizes even a single spatial element.
    x = np.random.default_rng(2).standard_normal((2, 3, 1, 1)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = nn.InstanceNorm2d(3, track_running_stats=True).eval()(tinytorch.tensor(x))
    assert_close(out, torch.nn.InstanceNorm2d(3, track_running_stats=True).eval()(torch.tensor(x)))


def test_instance_norm_errors_match_torch():
    torch = pytest.importorskip("torch")
    def call(lib, kwargs):
        vectors = {k: (lib.zeros(v) if k != "use_input_stats" else v) for k, v in kwargs.items()}
        return lib.nn.functional.instance_norm(lib.ones(2, 3, 4), **vectors)

    for kwargs in [dict(use_input_stats=False), dict(running_mean=4, running_var=3), dict(weight=4),
                   dict(running_mean=3, running_var=3, bias=2)]:
        assert_same_error_in_both(torch, call, kwargs)
    assert_same_error(lambda: F.instance_norm(tinytorch.ones(2, 3, 1)), lambda: torch.nn.functional.instance_norm(torch.ones(2, 3, 1)))


def test_instancenorm_old_checkpoints_with_running_stats():
    """A checkpoint from before version 1 (no version metadata) with running stats for a layer
    that keeps none: PyTorch's explanation, and the keys are not loaded."""
    torch = pytest.importorskip("torch")
    state = {"running_mean": tinytorch.zeros(3), "running_var": tinytorch.ones(3)}

    def load(lib, module, values):
        module._load_from_state_dict(values, "", {}, True, [], [], errors := [])
        return errors

    ours_errors = load(tinytorch, nn.InstanceNorm2d(3), dict(state))
    theirs_errors = load(torch, torch.nn.InstanceNorm2d(3), {k: torch.tensor(v.numpy()) for k, v in state.items()})
    assert ours_errors == theirs_errors and "Unexpected running stats buffer(s)" in ours_errors[0]
