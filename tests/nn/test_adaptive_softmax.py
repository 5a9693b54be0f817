"""AdaptiveLogSoftmaxWithLoss against torch: the layout (attributes, parameter names and shapes,
state_dicts loading both ways), initialization, forward's output and loss, log_prob, predict and
every gradient for hypothesis-drawn sizes, cutoffs, batches (unbatched too), head_bias and dtypes
on every device, and PyTorch's errors for bad constructor arguments and bad inputs."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinytorch
from tinytorch.nn import AdaptiveLogSoftmaxWithLoss, Linear, ModuleList, Sequential

from .helpers import assert_same_error, numpy_of, raised

TOLERANCE = {"float32": dict(atol=2e-5, rtol=2e-4), "float64": dict(atol=1e-11, rtol=1e-9)}
SETTINGS = settings(max_examples=20, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _quiet(make):
    """``make()`` without the warning a zero-feature tail Linear gives (in_features // div_value**i
    can be 0: PyTorch warns "Initializing zero-element tensors is a no-op" too)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return make()


@st.composite
def configurations(draw):
    """Constructor arguments, a batch size (None: unbatched) and a dtype."""
    n_classes = draw(st.integers(2, 24))
    cutoffs = sorted(draw(st.sets(st.integers(1, n_classes - 1), min_size=1, max_size=min(4, n_classes - 1))))
    return dict(
        in_features=draw(st.integers(1, 12)), n_classes=n_classes, cutoffs=cutoffs,
        div_value=draw(st.sampled_from([1.0, 2.0, 4.0, 1.5])), head_bias=draw(st.booleans()),
        batch=draw(st.one_of(st.none(), st.integers(1, 9))), dtype_name=draw(st.sampled_from(["float32", "float64"])),
        seed=draw(st.integers(0, 2**16)),
    )


def _pair(torch, config, device):
    """A torch module and a tinytorch module on ``device`` holding the same parameters (torch's,
    loaded through load_state_dict)."""
    kwargs = {k: config[k] for k in ("in_features", "n_classes", "cutoffs", "div_value", "head_bias")}
    theirs = _quiet(lambda: torch.nn.AdaptiveLogSoftmaxWithLoss(**kwargs, dtype=getattr(torch, config["dtype_name"])))
    ours = _quiet(lambda: AdaptiveLogSoftmaxWithLoss(**kwargs, device=device, dtype=getattr(tinytorch, config["dtype_name"])))
    state = {name: tinytorch.tensor(value.detach().numpy().copy(), device=device) for name, value in theirs.state_dict().items()}
    ours.load_state_dict(state)
    return ours, theirs


def _inputs(torch, config, device, rows, targets=True):
    rng = np.random.default_rng(config["seed"])
    shape = (config["in_features"],) if rows is None else (rows, config["in_features"])
    x = rng.standard_normal(shape).astype(config["dtype_name"])
    ours, theirs = tinytorch.tensor(x, device=device, requires_grad=True), torch.tensor(x, requires_grad=True)
    if not targets:
        return ours, theirs
    # Targets in every cluster as often as the batch allows, so that each tail is exercised.
    t = rng.integers(0, config["n_classes"], size=() if rows is None else (rows,))
    return ours, theirs, tinytorch.tensor(t, device=device), torch.tensor(t)


def _assert_close(actual, expected, dtype_name, device, scale=1):
    tol = TOLERANCE[dtype_name]
    assert tuple(actual.shape) == tuple(expected.shape)
    assert actual.dtype.name == str(expected.dtype).replace("torch.", "")
    assert actual.device.type == device
    np.testing.assert_allclose(numpy_of(actual), numpy_of(expected), atol=tol["atol"] * scale, rtol=tol["rtol"] * scale)


def _assert_same_gradients(ours, theirs, x, tx, dtype_name, device):
    """The input's and every parameter's gradient agree (a parameter no target reached has none in both)."""
    _assert_close(x.grad, tx.grad, dtype_name, device, scale=10)
    names = [name for name, _ in ours.named_parameters()]
    assert names == [name for name, _ in theirs.named_parameters()]
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert (p.grad is None) == (q.grad is None), name
        if q.grad is not None:
            _assert_close(p.grad, q.grad, dtype_name, device, scale=10)


@SETTINGS
@given(config=configurations())
def test_forward_matches_torch(config, device):
    torch = pytest.importorskip("torch")
    ours, theirs = _pair(torch, config, device)
    x, tx, target, ttarget = _inputs(torch, config, device, config["batch"])
    result, expected = ours(x, target), theirs(tx, ttarget)
    assert type(result).__name__ == "_ASMoutput" and result._fields == ("output", "loss")
    assert isinstance(result, tuple) and len(result) == 2
    _assert_close(result.output, expected.output, config["dtype_name"], device)
    _assert_close(result.loss, expected.loss, config["dtype_name"], device)
    # A weighted sum of both outputs, so that backward runs through each.
    rows = 1 if config["batch"] is None else config["batch"]
    weights = np.random.default_rng(config["seed"] + 1).standard_normal(rows).astype(config["dtype_name"]).reshape(tuple(expected.output.shape))
    ((result.output * tinytorch.tensor(weights, device=device)).sum() + 2 * result.loss).backward()
    ((expected.output * torch.tensor(weights)).sum() + 2 * expected.loss).backward()
    _assert_same_gradients(ours, theirs, x, tx, config["dtype_name"], device)


@SETTINGS
@given(config=configurations())
def test_log_prob_and_predict_match_torch(config, device):
    torch = pytest.importorskip("torch")
    ours, theirs = _pair(torch, config, device)
    rows = config["batch"] or 3
    x, tx = _inputs(torch, config, device, rows, targets=False)
    log_prob, expected = ours.log_prob(x), theirs.log_prob(tx)
    _assert_close(log_prob, expected, config["dtype_name"], device)
    np.testing.assert_allclose(numpy_of(log_prob.exp().sum(1)), np.ones(rows), rtol=1e-4)
    weights = np.random.default_rng(config["seed"] + 2).standard_normal((rows, config["n_classes"])).astype(config["dtype_name"])
    (log_prob * tinytorch.tensor(weights, device=device)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    _assert_same_gradients(ours, theirs, x, tx, config["dtype_name"], device)
    with tinytorch.no_grad():
        predicted = ours.predict(x)
    torch_predicted = theirs.predict(tx.detach())
    assert predicted.dtype == tinytorch.int64 and predicted.device.type == device
    np.testing.assert_array_equal(numpy_of(predicted), numpy_of(torch_predicted))
    np.testing.assert_array_equal(numpy_of(predicted), numpy_of(log_prob.argmax(1)))


@pytest.mark.parametrize("head_rows", ["shortlist", "clusters", "mixed"])
def test_predict_takes_each_branch_as_torch_does(head_rows, device):
    """predict's three paths: every head argmax in the shortlist, none, or some (rows chosen by
    setting the head's weights so that its argmax is known)."""
    torch = pytest.importorskip("torch")
    config = dict(in_features=6, n_classes=12, cutoffs=[4, 8], div_value=2.0, head_bias=True, dtype_name="float64", seed=3)
    ours, theirs = _pair(torch, config, device)
    head_size = theirs.head_size  # 4 shortlist classes + 2 clusters
    x = np.abs(np.random.default_rng(0).standard_normal((5, 6))) + 0.5
    weight = np.zeros((head_size, 6))
    bias = np.zeros(head_size)
    if head_rows == "shortlist":
        bias[1] = 50.0
    elif head_rows == "clusters":
        bias[head_size - 1] = 50.0
    else:
        weight[head_size - 2, 0] = 50.0  # rows whose first feature is large go to a cluster
        x[::2, 0] = 3.0
        x[1::2, 0] = 0.0
        bias[2] = 40.0
    with torch.no_grad():
        theirs.head.weight.copy_(torch.tensor(weight))
        theirs.head.bias.copy_(torch.tensor(bias))
    ours.load_state_dict({k: tinytorch.tensor(v.numpy().copy(), device=device) for k, v in theirs.state_dict().items()})
    head_argmax = numpy_of(theirs.head(torch.tensor(x)).argmax(1))
    in_shortlist = head_argmax < theirs.shortlist_size
    assert {"shortlist": in_shortlist.all(), "clusters": not in_shortlist.any(),
            "mixed": in_shortlist.any() and not in_shortlist.all()}[head_rows]
    predicted = ours.predict(tinytorch.tensor(x, device=device))
    np.testing.assert_array_equal(numpy_of(predicted), numpy_of(theirs.predict(torch.tensor(x))))
    np.testing.assert_array_equal(numpy_of(predicted), numpy_of(ours.log_prob(tinytorch.tensor(x, device=device)).argmax(1)))


@pytest.mark.parametrize("kwargs", [
    dict(in_features=16, n_classes=100, cutoffs=[10, 40, 80]),
    dict(in_features=8, n_classes=10, cutoffs=(3, 6), div_value=2.0, head_bias=True),
    dict(in_features=5, n_classes=3, cutoffs=[1], div_value=1.0),
    dict(in_features=3, n_classes=20, cutoffs=[2, 5, 9, 14]),  # later tails have 0 hidden features
])
def test_layout_matches_torch(kwargs, device):
    torch = pytest.importorskip("torch")
    ours = _quiet(lambda: AdaptiveLogSoftmaxWithLoss(**kwargs, device=device))
    theirs = _quiet(lambda: torch.nn.AdaptiveLogSoftmaxWithLoss(**kwargs))
    for name in ("in_features", "n_classes", "cutoffs", "div_value", "head_bias", "shortlist_size", "n_clusters", "head_size"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert isinstance(ours.cutoffs, list)
    assert isinstance(ours.head, Linear) and isinstance(ours.tail, ModuleList)
    assert all(isinstance(s, Sequential) and len(s) == 2 and all(isinstance(lin, Linear) for lin in s) for s in ours.tail)
    assert {n: tuple(p.shape) for n, p in ours.named_parameters()} == {n: tuple(p.shape) for n, p in theirs.named_parameters()}
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert all(p.device.type == device and p.dtype == tinytorch.float32 for p in ours.parameters())
    assert repr(ours) == repr(theirs).replace("torch.", "tinytorch.")
    # tinytorch's state_dict into torch: the same values come out of both.
    theirs.load_state_dict({n: torch.tensor(numpy_of(v).copy()) for n, v in ours.state_dict().items()})
    x = np.random.default_rng(1).standard_normal((4, kwargs["in_features"])).astype(np.float32)
    np.testing.assert_allclose(numpy_of(ours.log_prob(tinytorch.tensor(x, device=device))), numpy_of(theirs.log_prob(torch.tensor(x))),
                               atol=2e-5, rtol=2e-4)


def test_initialization_and_reset_parameters():
    """Linear's initialization in every layer: U(+-1/sqrt(fan_in)); reset_parameters redraws all."""
    module = AdaptiveLogSoftmaxWithLoss(64, 400, [100, 300], div_value=2.0, head_bias=True, dtype=tinytorch.float64)
    before = {n: numpy_of(p).copy() for n, p in module.named_parameters()}
    assert set(before) == {"head.weight", "head.bias", "tail.0.0.weight", "tail.0.1.weight", "tail.1.0.weight", "tail.1.1.weight"}
    for name, p in module.named_parameters():
        fan_in = module.get_parameter(name.replace("bias", "weight")).shape[1]
        bound = 1 / math.sqrt(fan_in)
        values = numpy_of(p)
        assert values.min() >= -bound and values.max() <= bound, name
        assert abs(values.var() - bound**2 / 3) < 0.25 * bound**2 / 3, name  # uniform, not a constant or a normal
    module.reset_parameters()
    for name, p in module.named_parameters():
        assert p.shape == before[name].shape and not np.array_equal(numpy_of(p), before[name]), name


def test_default_dtype_and_float64_module():
    assert AdaptiveLogSoftmaxWithLoss(4, 6, [2]).head.weight.dtype == tinytorch.float32
    module = AdaptiveLogSoftmaxWithLoss(4, 6, [2], dtype=tinytorch.float64)
    assert all(p.dtype == tinytorch.float64 for p in module.parameters())
    result = module(tinytorch.ones(3, 4, dtype=tinytorch.float64), tinytorch.tensor([0, 3, 5]))
    assert result.output.dtype == tinytorch.float64 and result.loss.dtype == tinytorch.float64


def test_int32_targets_match_torch():
    torch = pytest.importorskip("torch")
    config = dict(in_features=6, n_classes=9, cutoffs=[2, 5], div_value=2.0, head_bias=False, dtype_name="float32", seed=0)
    ours, theirs = _pair(torch, config, "cpu")
    x = np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32)
    t = np.array([0, 3, 8, 1], dtype=np.int32)
    result, expected = ours(tinytorch.tensor(x), tinytorch.tensor(t)), theirs(torch.tensor(x), torch.tensor(t))
    _assert_close(result.output, expected.output, "float32", "cpu")
    _assert_close(result.loss, expected.loss, "float32", "cpu")


def test_empty_batch_matches_torch():
    torch = pytest.importorskip("torch")
    config = dict(in_features=4, n_classes=6, cutoffs=[3], div_value=2.0, head_bias=False, dtype_name="float64", seed=0)
    ours, theirs = _pair(torch, config, "cpu")
    result = ours(tinytorch.zeros(0, 4, dtype=tinytorch.float64), tinytorch.zeros(0, dtype=tinytorch.int64))
    expected = theirs(torch.zeros(0, 4, dtype=torch.float64), torch.zeros(0, dtype=torch.int64))
    assert tuple(result.output.shape) == tuple(expected.output.shape) == (0,)
    assert math.isnan(result.loss.item()) and math.isnan(expected.loss.item())


@pytest.mark.parametrize("args", [
    (8, 10, []), (8, 10, [5, 3]), (8, 10, [0, 3]), (8, 10, [-1]), (8, 10, [3, 10]), (8, 10, [3, 3]),
    (8, 10, [2.5]), (8, 10, 5), (8, 10, [3.0, 6]),
])
def test_constructor_errors_match_torch(args):
    torch = pytest.importorskip("torch")
    assert_same_error(lambda: AdaptiveLogSoftmaxWithLoss(*args), lambda: torch.nn.AdaptiveLogSoftmaxWithLoss(*args))
    assert raised(lambda: AdaptiveLogSoftmaxWithLoss(*args))[0] in ("ValueError", "TypeError")


@pytest.mark.parametrize("shape, target", [
    ((3, 8), [1, 2]),  # batch sizes differ
    ((3, 1, 8), [1, 2, 3]),  # 1-D target, 3-D input
    ((3,), [1, 2, 3]),  # 1-D target, 1-D input
    ((3, 8), 1),  # 0-D target, 2-D input
    ((3, 8), [[1, 2, 3]]),  # 2-D target
    ((3, 8), [1, 2, 10]),  # target past n_classes - 1
    ((3, 8), [-1, 2, 3]),  # negative target
    ((3, 8), [-5, 20, 3]),
    ((8,), 12),  # unbatched target out of range
    ((3, 8), [1.0, 2.0, 3.0]),  # float targets: gather refuses the index
    ((3, 5), [1, 2, 7]),  # input features differ from in_features
])
def test_forward_errors_match_torch(shape, target, device):
    torch = pytest.importorskip("torch")
    ours = _quiet(lambda: AdaptiveLogSoftmaxWithLoss(8, 10, [3, 6], device=device))
    theirs = _quiet(lambda: torch.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3, 6]))
    assert_same_error(lambda: ours(tinytorch.ones(*shape, device=device), tinytorch.tensor(target, device=device)),
                      lambda: theirs(torch.ones(*shape), torch.tensor(target)))
    assert raised(lambda: ours(tinytorch.ones(*shape, device=device), tinytorch.tensor(target, device=device)))[0] == "RuntimeError"


def test_output_namedtuple_is_torchs():
    torch = pytest.importorskip("torch")
    from tinytorch.nn.modules import adaptive

    assert adaptive._ASMoutput._fields == torch.nn.modules.adaptive._ASMoutput._fields
    assert adaptive.__all__ == torch.nn.modules.adaptive.__all__
    result = AdaptiveLogSoftmaxWithLoss(4, 6, [2])(tinytorch.ones(4), tinytorch.tensor(4))
    assert isinstance(result, adaptive._ASMoutput)
    output, loss = result
    assert output is result.output and loss is result.loss and output.shape == () and loss.shape == ()
