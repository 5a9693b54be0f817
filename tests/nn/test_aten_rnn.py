"""torch.lstm / gru / rnn_tanh / rnn_relu (aten's stacked RNNs, both overloads) against torch:
outputs, final states, and the gradients of the input, the initial states and every weight;
torch's argument parsing and errors."""

import numpy as np
import pytest

import tinytorch

TOLERANCE = {"float64": 1e-10, "float32": 2e-5}
# torch warns that its oneDNN path does not take projections: its own concern, not the test's
pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections")
GATES = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}
INPUT, HIDDEN = 4, 5

CONFIGS = [
    ("rnn_tanh", dict(num_layers=1, bias=True, bidirectional=False, batch_first=False)),
    ("rnn_relu", dict(num_layers=2, bias=False, bidirectional=False, batch_first=True)),
    ("rnn_tanh", dict(num_layers=2, bias=True, bidirectional=True, batch_first=False)),
    ("gru", dict(num_layers=1, bias=True, bidirectional=False, batch_first=False)),
    ("gru", dict(num_layers=2, bias=True, bidirectional=True, batch_first=True)),
    ("gru", dict(num_layers=1, bias=False, bidirectional=True, batch_first=False)),
    ("lstm", dict(num_layers=1, bias=True, bidirectional=False, batch_first=False)),
    ("lstm", dict(num_layers=2, bias=True, bidirectional=True, batch_first=False)),
    ("lstm", dict(num_layers=2, bias=False, bidirectional=False, batch_first=True)),
    ("lstm", dict(num_layers=2, bias=True, bidirectional=True, batch_first=True, proj=3)),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in c.items())}" for name, c in CONFIGS]


def param_arrays(name, config, rng, dtype):
    """The flat params, per layer and direction: w_ih, w_hh[, b_ih, b_hh][, w_hr]."""
    gates, proj = GATES[name] * HIDDEN, config.get("proj", 0)
    directions = 2 if config["bidirectional"] else 1
    out = (proj or HIDDEN)
    arrays = []
    for layer in range(config["num_layers"]):
        for _ in range(directions):
            shapes = [(gates, INPUT if layer == 0 else out * directions), (gates, out)]
            shapes += [(gates,), (gates,)] if config["bias"] else []
            shapes += [(proj, HIDDEN)] if proj else []
            arrays += [rng.uniform(-0.5, 0.5, s).astype(dtype) for s in shapes]
    return arrays


def state_arrays(name, config, batch, rng, dtype):
    layers = config["num_layers"] * (2 if config["bidirectional"] else 1)
    shapes = [(layers, batch, config.get("proj") or HIDDEN)] + ([(layers, batch, HIDDEN)] if name == "lstm" else [])
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


def leaves(lib, arrays):
    return [lib.tensor(a, requires_grad=True) for a in arrays]


def call(lib, name, config, x, states, params, batch_sizes=None):
    hx = states if name == "lstm" else states[0]
    common = (params, config["bias"], config["num_layers"], 0.0, False, config["bidirectional"])
    if batch_sizes is not None:
        return getattr(lib, name)(x, batch_sizes, hx, *common)
    return getattr(lib, name)(x, hx, *common, config["batch_first"])


def check_both(torch, name, config, x_array, state_arrays_, param_arrays_, dtype, batch_sizes=None):
    """Runs both libraries, compares every result and every gradient."""
    tol = TOLERANCE[dtype]
    results, grads = [], []
    for lib in (torch, tinytorch):
        x, states, params = leaves(lib, [x_array])[0], leaves(lib, state_arrays_), leaves(lib, param_arrays_)
        sizes = None if batch_sizes is None else lib.tensor(batch_sizes)
        out = call(lib, name, config, x, states, params, sizes)
        assert isinstance(out, tuple) and len(out) == (3 if name == "lstm" else 2)
        rng = np.random.default_rng(7)
        loss = sum((t * lib.tensor(rng.standard_normal(tuple(t.shape)).astype(dtype))).sum() for t in out)
        loss.backward()
        results.append([t.detach().numpy() for t in out])
        grads.append([t.grad.numpy() for t in [x] + states + params])
    for ours, theirs in zip(results[1], results[0]):
        assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
        np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol)
    for ours, theirs in zip(grads[1], grads[0]):
        np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name, config", CONFIGS, ids=IDS)
def test_input_overload_matches_torch(name, config, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    steps, batch = 5, 3
    shape = (batch, steps, INPUT) if config["batch_first"] else (steps, batch, INPUT)
    check_both(torch, name, config, rng.standard_normal(shape).astype(dtype),
               state_arrays(name, config, batch, rng, dtype), param_arrays(name, config, rng, dtype), dtype)


@pytest.mark.parametrize("name, config", CONFIGS, ids=IDS)
def test_packed_overload_matches_torch(name, config):
    """(data, batch_sizes, ...): the rows of a packed batch of lengths 4, 2, 1."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    batch_sizes = [3, 2, 1, 1]
    check_both(torch, name, config, rng.standard_normal((sum(batch_sizes), INPUT)),
               state_arrays(name, config, 3, rng, "float64"), param_arrays(name, config, rng, "float64"),
               "float64", batch_sizes=batch_sizes)


def test_same_as_the_layer_it_reuses():
    """torch.lstm with nn.LSTM's flat weights is nn.LSTM (keywords by aten's names)."""
    layer = tinytorch.nn.LSTM(INPUT, HIDDEN, num_layers=2)
    x = tinytorch.randn(6, 2, INPUT)
    h = [tinytorch.randn(2, 2, HIDDEN), tinytorch.randn(2, 2, HIDDEN)]
    expected, (h_n, c_n) = layer(x, tuple(h))
    out = tinytorch.lstm(input=x, hx=h, params=layer._flat_weights, has_biases=True, num_layers=2, dropout=0.0,
                         train=False, bidirectional=False, batch_first=False)
    for ours, theirs in zip(out, (expected, h_n, c_n)):
        assert tinytorch.equal(ours, theirs)


def test_dropout_between_layers_in_training():
    rng = np.random.default_rng(2)
    config = dict(num_layers=2, bias=True, bidirectional=False, batch_first=False)
    params = [tinytorch.tensor(a) for a in param_arrays("gru", config, rng, "float32")]
    x, h = tinytorch.randn(4, 2, INPUT), tinytorch.zeros(2, 2, HIDDEN)
    plain = tinytorch.gru(x, h, params, True, 2, 0.0, True, False, False)[0]
    assert tinytorch.equal(plain, tinytorch.gru(x, h, params, True, 2, 0.5, False, False, False)[0])  # train=False
    assert not tinytorch.equal(plain, tinytorch.gru(x, h, params, True, 2, 0.5, True, False, False)[0])


def errors(lib, name, args):
    with pytest.raises(Exception) as info:
        getattr(lib, name)(*args)
    return info.type, str(info.value)


@pytest.mark.parametrize("case", ["two_states", "stride", "layers_h", "layers_w", "bidirectional", "batch_sizes"])
def test_errors_as_torch(case):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    one = dict(num_layers=1, bias=True, bidirectional=False, batch_first=False)
    x, h = rng.standard_normal((3, 2, INPUT)), np.zeros((1, 2, HIDDEN))
    found = []
    for lib in (torch, tinytorch):
        t = lib.tensor
        lstm_params = [t(a) for a in param_arrays("lstm", one, rng, "float64")]
        gru_params = [t(a) for a in param_arrays("gru", one, rng, "float64")]
        args = {
            "two_states": ("lstm", (t(x), [t(h)], lstm_params, True, 1, 0.0, False, False, False)),
            "stride": ("lstm", (t(x), [t(h), t(h)], lstm_params[:3], True, 1, 0.0, False, False, False)),
            "layers_h": ("gru", (t(x), t(np.zeros((2, 2, HIDDEN))), gru_params, True, 1, 0.0, False, False, False)),
            "layers_w": ("gru", (t(x), t(h), gru_params + gru_params, True, 1, 0.0, False, False, False)),
            "bidirectional": ("gru", (t(x), t(h), gru_params, True, 1, 0.0, False, True, False)),
            "batch_sizes": ("gru", (t(x[:, 0]), t(np.array([2.0, 1.0])), t(h), gru_params, True, 1, 0.0, False, False)),
        }[case]
        found.append(errors(lib, *args))
    assert found[1][0] is found[0][0]
    assert found[1][1] == found[0][1]


def test_argument_parsing_as_torch():
    torch = pytest.importorskip("torch")
    for name in ("lstm", "gru"):
        messages = [errors(lib, name, (lib.zeros(1),)) for lib in (torch, tinytorch)]
        assert messages[1] == (TypeError, messages[0][1])
    h = np.zeros((1, 2, HIDDEN))
    # has_biases must be a bool: aten's parser refuses 1
    with pytest.raises(TypeError, match="invalid combination of arguments"):
        tinytorch.gru(tinytorch.zeros(3, 2, INPUT), tinytorch.tensor(h), [], 1, 1, 0.0, False, False, False)


def test_hidden_batch_mismatch_is_a_runtime_error():
    rng = np.random.default_rng(4)
    one = dict(num_layers=1, bias=True, bidirectional=False, batch_first=False)
    params = [tinytorch.tensor(a) for a in param_arrays("gru", one, rng, "float32")]
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(1, 2, 5\), got \[1, 3, 5\]"):
        tinytorch.gru(tinytorch.zeros(3, 2, INPUT), tinytorch.zeros(1, 3, HIDDEN), params, True, 1, 0.0, False, False, False)
