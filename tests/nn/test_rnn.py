"""Recurrent layers and cells against torch with copied weights: outputs, final states, the input's,
the initial states' and every parameter's gradient, in float32 and float64; packed sequences;
names, reprs, initialization and PyTorch's errors."""

import math

import numpy as np
import pytest

import tinytorch
from tinytorch import nn
from tinytorch.nn.utils import rnn as rnn_utils

TOLERANCE = {"float64": 1e-10, "float32": 2e-5}

CONFIGS = [
    ("RNN", {}),
    ("RNN", {"nonlinearity": "relu", "num_layers": 2}),
    ("RNN", {"bias": False, "batch_first": True}),
    ("LSTM", {}),
    ("LSTM", {"num_layers": 2, "bidirectional": True}),
    ("LSTM", {"proj_size": 2}),
    ("LSTM", {"proj_size": 3, "num_layers": 2, "bidirectional": True, "batch_first": True, "bias": False}),
    ("GRU", {}),
    ("GRU", {"num_layers": 3, "bidirectional": True, "batch_first": True}),
    ("GRU", {"bias": False, "num_layers": 2}),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'default'}" for name, kw in CONFIGS]


def twins(torch, name, kwargs, dtype, input_size=4, hidden_size=5):
    """A torch layer and a tinytorch layer holding the same weights."""
    theirs = getattr(torch.nn, name)(input_size, hidden_size, **kwargs).to(getattr(torch, dtype))
    ours = getattr(nn, name)(input_size, hidden_size, **kwargs).to(getattr(tinytorch, dtype))
    ours.load_state_dict({k: tinytorch.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    return theirs, ours


def leaf_pair(torch, array, dtype, device="cpu"):
    array = np.asarray(array, dtype=dtype)
    return torch.tensor(array, requires_grad=True), tinytorch.tensor(array, requires_grad=True, device=device)


def as_tuple(state):
    return state if isinstance(state, tuple) else (state,)


def close(ours, theirs, dtype):
    tol = TOLERANCE[dtype]
    np.testing.assert_allclose(ours.detach().cpu().numpy(), theirs.detach().numpy(), rtol=tol, atol=tol)


def state_shapes(name, kwargs, batch, hidden_size=5):
    layers = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    shapes = [(layers, batch, kwargs.get("proj_size") or hidden_size)]
    if name == "LSTM":
        shapes.append((layers, batch, hidden_size))
    return shapes


def backward_both(torch, out_theirs, out_ours, states_theirs, states_ours, dtype, device="cpu"):
    """A loss using the output and every final state with random weights, backward in both."""
    rng = np.random.default_rng(5)
    loss_theirs, loss_ours = 0, 0
    for a, b in zip((out_theirs,) + states_theirs, (out_ours,) + states_ours):
        w = rng.standard_normal(tuple(a.shape)).astype(dtype)
        loss_theirs = loss_theirs + (a * torch.tensor(w)).sum()
        loss_ours = loss_ours + (b * tinytorch.tensor(w, device=device)).sum()
    loss_theirs.backward()
    loss_ours.backward()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=IDS)
def test_layer_matches_torch(name, kwargs, dtype, device):
    torch = pytest.importorskip("torch")
    theirs, ours = twins(torch, name, kwargs, dtype)
    ours.to(device)
    rng = np.random.default_rng(0)
    steps, batch = 6, 3
    shape = (batch, steps, 4) if kwargs.get("batch_first") else (steps, batch, 4)
    x_theirs, x_ours = leaf_pair(torch, rng.standard_normal(shape), dtype, device)
    states = [leaf_pair(torch, rng.standard_normal(s), dtype, device) for s in state_shapes(name, kwargs, batch)]
    hx_theirs = tuple(s[0] for s in states) if name == "LSTM" else states[0][0]
    hx_ours = tuple(s[1] for s in states) if name == "LSTM" else states[0][1]
    out_theirs, final_theirs = theirs(x_theirs, hx_theirs)
    out_ours, final_ours = ours(x_ours, hx_ours)
    assert out_ours.device.type == device
    close(out_ours, out_theirs, dtype)
    for a, b in zip(as_tuple(final_ours), as_tuple(final_theirs)):
        close(a, b, dtype)
    backward_both(torch, out_theirs, out_ours, as_tuple(final_theirs), as_tuple(final_ours), dtype, device)
    close(x_ours.grad, x_theirs.grad, dtype)
    for theirs_state, ours_state in states:
        close(ours_state.grad, theirs_state.grad, dtype)
    for (n1, p1), (n2, p2) in zip(theirs.named_parameters(), ours.named_parameters()):
        assert n1 == n2
        assert p2.grad is not None and p2.grad.device.type == device, n2
        close(p2.grad, p1.grad, dtype)


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=IDS)
def test_default_zero_states_and_unbatched_input(name, kwargs):
    torch = pytest.importorskip("torch")
    theirs, ours = twins(torch, name, kwargs, "float64")
    rng = np.random.default_rng(1)
    x_theirs, x_ours = leaf_pair(torch, rng.standard_normal((5, 4)), "float64")  # (L, H_in): no batch dim
    out_theirs, final_theirs = theirs(x_theirs)
    out_ours, final_ours = ours(x_ours)
    assert tuple(out_ours.shape) == tuple(out_theirs.shape)
    close(out_ours, out_theirs, "float64")
    for a, b in zip(as_tuple(final_ours), as_tuple(final_theirs)):
        assert tuple(a.shape) == tuple(b.shape)
        close(a, b, "float64")
    backward_both(torch, out_theirs, out_ours, as_tuple(final_theirs), as_tuple(final_ours), "float64")
    close(x_ours.grad, x_theirs.grad, "float64")
    for p1, p2 in zip(theirs.parameters(), ours.parameters()):
        close(p2.grad, p1.grad, "float64")


@pytest.mark.parametrize("enforce_sorted", [True, False])
@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=IDS)
def test_packed_sequences_match_torch(name, kwargs, enforce_sorted, device):
    torch = pytest.importorskip("torch")
    theirs, ours = twins(torch, name, kwargs, "float64")
    ours.to(device)
    batch_first = kwargs.get("batch_first", False)
    lengths = [6, 4, 4, 1] if enforce_sorted else [3, 6, 1, 4]
    rng = np.random.default_rng(2)
    shape = (4, 6, 4) if batch_first else (6, 4, 4)
    x_theirs, x_ours = leaf_pair(torch, rng.standard_normal(shape), "float64", device)
    states = [leaf_pair(torch, rng.standard_normal(s), "float64", device) for s in state_shapes(name, kwargs, 4)]
    packed_theirs = torch.nn.utils.rnn.pack_padded_sequence(x_theirs, lengths, batch_first, enforce_sorted)
    packed_ours = rnn_utils.pack_padded_sequence(x_ours, lengths, batch_first, enforce_sorted)
    hx_theirs = tuple(s[0] for s in states) if name == "LSTM" else states[0][0]
    hx_ours = tuple(s[1] for s in states) if name == "LSTM" else states[0][1]
    out_theirs, final_theirs = theirs(packed_theirs, hx_theirs)
    out_ours, final_ours = ours(packed_ours, hx_ours)
    assert isinstance(out_ours, rnn_utils.PackedSequence)
    assert out_ours.batch_sizes.tolist() == out_theirs.batch_sizes.tolist()
    padded_theirs, _ = torch.nn.utils.rnn.pad_packed_sequence(out_theirs, batch_first)
    padded_ours, lengths_ours = rnn_utils.pad_packed_sequence(out_ours, batch_first)
    assert lengths_ours.tolist() == lengths
    close(padded_ours, padded_theirs, "float64")
    for a, b in zip(as_tuple(final_ours), as_tuple(final_theirs)):
        close(a, b, "float64")
    backward_both(torch, padded_theirs, padded_ours, as_tuple(final_theirs), as_tuple(final_ours), "float64", device)
    close(x_ours.grad, x_theirs.grad, "float64")
    for theirs_state, ours_state in states:
        close(ours_state.grad, theirs_state.grad, "float64")
    for p1, p2 in zip(theirs.parameters(), ours.parameters()):
        close(p2.grad, p1.grad, "float64")


CELLS = [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu", "bias": False}), ("LSTMCell", {}), ("LSTMCell", {"bias": False}),
         ("GRUCell", {}), ("GRUCell", {"bias": False})]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("name, kwargs", CELLS, ids=[f"{n}-{kw}" for n, kw in CELLS])
def test_cell_matches_torch_over_steps(name, kwargs, batched, dtype, device):
    """A cell driven for 4 steps (its state fed back), as a user's loop does."""
    torch = pytest.importorskip("torch")
    theirs, ours = twins(torch, name, kwargs, dtype)
    ours.to(device)
    rng = np.random.default_rng(3)
    x_theirs, x_ours = leaf_pair(torch, rng.standard_normal((4, 3, 4) if batched else (4, 4)), dtype, device)
    state_shape = (3, 5) if batched else (5,)
    states = [leaf_pair(torch, rng.standard_normal(state_shape), dtype, device) for _ in range(2 if name == "LSTMCell" else 1)]
    h_theirs = tuple(s[0] for s in states) if name == "LSTMCell" else states[0][0]
    h_ours = tuple(s[1] for s in states) if name == "LSTMCell" else states[0][1]
    for t in range(4):
        h_theirs = theirs(x_theirs[t], h_theirs)
        h_ours = ours(x_ours[t], h_ours)
        for a, b in zip(as_tuple(h_ours), as_tuple(h_theirs)):
            assert tuple(a.shape) == tuple(b.shape)
            close(a, b, dtype)
    first_theirs, first_ours = as_tuple(h_theirs)[0], as_tuple(h_ours)[0]
    backward_both(torch, first_theirs, first_ours, as_tuple(h_theirs)[1:], as_tuple(h_ours)[1:], dtype, device)
    close(x_ours.grad, x_theirs.grad, dtype)
    for theirs_state, ours_state in states:
        close(ours_state.grad, theirs_state.grad, dtype)
    for p1, p2 in zip(theirs.parameters(), ours.parameters()):
        close(p2.grad, p1.grad, dtype)


def test_cell_without_state_starts_from_zeros():
    torch = pytest.importorskip("torch")
    for name in ("RNNCell", "LSTMCell", "GRUCell"):
        theirs, ours = twins(torch, name, {}, "float64")
        x = np.random.default_rng(0).standard_normal((2, 4))
        for a, b in zip(as_tuple(ours(tinytorch.tensor(x))), as_tuple(theirs(torch.tensor(x)))):
            close(a, b, "float64")


@pytest.mark.parametrize("name, kwargs", CONFIGS + CELLS, ids=IDS + [f"{n}-{kw}" for n, kw in CELLS])
def test_names_shapes_repr_and_state_dict_match_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    theirs = getattr(torch.nn, name)(4, 5, **kwargs)
    ours = getattr(nn, name)(4, 5, **kwargs)
    assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    if hasattr(theirs, "all_weights"):
        assert [[tuple(w.shape) for w in ws] for ws in ours.all_weights] == [[tuple(w.shape) for w in ws] for ws in theirs.all_weights]


def test_repr_with_every_option():
    torch = pytest.importorskip("torch")
    kwargs = {"num_layers": 2, "bias": False, "batch_first": True, "dropout": 0.25, "bidirectional": True}
    assert repr(nn.LSTM(3, 4, proj_size=2, **kwargs)) == repr(torch.nn.LSTM(3, 4, proj_size=2, **kwargs))
    assert repr(nn.RNN(3, 4, nonlinearity="relu")) == repr(torch.nn.RNN(3, 4, nonlinearity="relu"))
    assert repr(nn.RNNCell(3, 4, nonlinearity="relu")) == repr(torch.nn.RNNCell(3, 4, nonlinearity="relu"))


def test_init_is_uniform_within_one_over_sqrt_hidden():
    layer = nn.LSTM(30, 64, num_layers=2)
    bound = 1 / math.sqrt(64)
    values = np.concatenate([p.detach().numpy().ravel() for p in layer.parameters()])
    assert values.min() >= -bound and values.max() <= bound
    # Uniform on (-b, b): mean 0 and variance b^2 / 3, within a few standard errors.
    assert abs(values.mean()) < 5 * bound / math.sqrt(3 * values.size)
    assert abs(values.var() / (bound * bound / 3) - 1) < 0.02


def test_dropout_between_layers_only_while_training():
    tinytorch.manual_seed(0)
    layer = nn.GRU(3, 8, num_layers=2, dropout=0.5)
    x = tinytorch.randn(5, 2, 3)
    layer.eval()
    first, _ = layer(x)
    again, _ = layer(x)
    assert tinytorch.equal(first, again)  # no dropout in eval mode
    layer.train()
    outputs = {tuple(layer(x)[0].detach().numpy().ravel().round(8)) for _ in range(4)}
    assert len(outputs) > 1  # dropout draws a new mask each call
    no_dropout = nn.GRU(3, 8, num_layers=2)
    no_dropout.load_state_dict(layer.state_dict())
    assert tinytorch.allclose(no_dropout(x)[0], first)


def test_dropout_with_one_layer_warns():
    torch = pytest.importorskip("torch")
    with pytest.warns(UserWarning) as ours:
        nn.LSTM(3, 4, dropout=0.2)
    with pytest.warns(UserWarning) as theirs:
        torch.nn.LSTM(3, 4, dropout=0.2)
    assert str(ours[0].message) == str(theirs[0].message)


def test_to_and_load_keep_the_flat_weights_current():
    layer = nn.LSTM(3, 4)
    layer.double()
    assert all(w.dtype == tinytorch.float64 for w in layer._flat_weights)
    out, _ = layer(tinytorch.randn(2, 1, 3, dtype=tinytorch.float64))
    assert out.dtype == tinytorch.float64
    layer.weight_hh_l0 = nn.Parameter(tinytorch.zeros(16, 4, dtype=tinytorch.float64))
    assert layer._flat_weights[1] is layer.weight_hh_l0
    layer.flatten_parameters()  # accepted, nothing to do


def test_double_backward_through_a_layer():
    """create_graph through the fused cells: the gradient's gradient matches torch's."""
    torch = pytest.importorskip("torch")
    for name in ("LSTM", "GRU", "RNN"):
        theirs, ours = twins(torch, name, {"num_layers": 2}, "float64", 3, 4)
        x_theirs, x_ours = leaf_pair(torch, np.random.default_rng(4).standard_normal((3, 2, 3)), "float64")
        (g_theirs,) = torch.autograd.grad((theirs(x_theirs)[0] ** 2).sum(), x_theirs, create_graph=True)
        (g_ours,) = tinytorch.autograd.grad((ours(x_ours)[0] ** 2).sum(), x_ours, create_graph=True)
        close(g_ours, g_theirs, "float64")
        (g_theirs ** 2).sum().backward()
        (g_ours ** 2).sum().backward()
        close(x_ours.grad, x_theirs.grad, "float64")
        for p1, p2 in zip(theirs.parameters(), ours.parameters()):
            close(p2.grad, p1.grad, "float64")


def test_final_cell_state_unused_still_gives_gradients():
    """Only the output is used: the last step's c gets no gradient (the cell skips it)."""
    torch = pytest.importorskip("torch")
    theirs, ours = twins(torch, "LSTM", {}, "float64")
    x_theirs, x_ours = leaf_pair(torch, np.random.default_rng(6).standard_normal((4, 2, 4)), "float64")
    theirs(x_theirs)[1][0].sum().backward()  # h_n only
    ours(x_ours)[1][0].sum().backward()
    close(x_ours.grad, x_theirs.grad, "float64")


# -- errors, as torch ---------------------------------------------------------------------------
def error_cases():
    return [
        ("input size", lambda lib: lib.nn.LSTM(4, 5)(lib.ones(3, 2, 6))),
        ("input dims", lambda lib: lib.nn.GRU(4, 5)(lib.ones(3, 2, 4, 1))),
        ("input dims RNN", lambda lib: lib.nn.RNN(4, 5)(lib.ones(4))),
        ("hidden size", lambda lib: lib.nn.GRU(4, 5)(lib.ones(3, 2, 4), lib.ones(1, 2, 6))),
        ("hidden batch", lambda lib: lib.nn.RNN(4, 5, num_layers=2)(lib.ones(3, 2, 4), lib.ones(2, 3, 5))),
        ("hidden layers", lambda lib: lib.nn.RNN(4, 5, num_layers=2)(lib.ones(3, 2, 4), lib.ones(1, 2, 5))),
        ("lstm h size", lambda lib: lib.nn.LSTM(4, 5)(lib.ones(3, 2, 4), (lib.ones(1, 2, 4), lib.ones(1, 2, 5)))),
        ("lstm c size", lambda lib: lib.nn.LSTM(4, 5, proj_size=2)(lib.ones(3, 2, 4), (lib.ones(1, 2, 2), lib.ones(1, 2, 2)))),
        ("lstm batched hx dims", lambda lib: lib.nn.LSTM(4, 5)(lib.ones(3, 2, 4), (lib.ones(2, 5), lib.ones(2, 5)))),
        ("lstm unbatched hx dims", lambda lib: lib.nn.LSTM(4, 5)(lib.ones(3, 4), (lib.ones(1, 1, 5), lib.ones(1, 1, 5)))),
        ("gru unbatched hx dims", lambda lib: lib.nn.GRU(4, 5)(lib.ones(3, 4), lib.ones(1, 1, 5))),
        ("gru batched hx dims", lambda lib: lib.nn.GRU(4, 5)(lib.ones(3, 2, 4), lib.ones(2, 5))),
        ("dtype", lambda lib: lib.nn.GRU(4, 5)(lib.ones(3, 2, 4, dtype=lib.float64))),
        ("proj_size too big", lambda lib: lib.nn.LSTM(4, 5, proj_size=5)),
        ("proj_size negative", lambda lib: lib.nn.LSTM(4, 5, proj_size=-1)),
        ("proj_size on GRU", lambda lib: lib.nn.GRU(4, 5, proj_size=2)),
        ("dropout", lambda lib: lib.nn.LSTM(4, 5, dropout=1.5)),
        ("num_layers", lambda lib: lib.nn.LSTM(4, 5, num_layers=0)),
        ("hidden_size 0", lambda lib: lib.nn.LSTM(4, 0)),
        ("hidden_size float", lambda lib: lib.nn.LSTM(4, 5.0)),
        ("nonlinearity", lambda lib: lib.nn.RNN(4, 5, nonlinearity="sigmoid")),
        ("cell input dims", lambda lib: lib.nn.LSTMCell(4, 5)(lib.ones(2, 3, 4))),
        ("cell hidden dims", lambda lib: lib.nn.GRUCell(4, 5)(lib.ones(2, 4), lib.ones(1, 2, 5))),
        ("cell input size", lambda lib: lib.nn.GRUCell(4, 5)(lib.ones(2, 3))),
        ("cell hidden size", lambda lib: lib.nn.RNNCell(4, 5)(lib.ones(2, 4), lib.ones(2, 6))),
        ("cell hidden batch", lambda lib: lib.nn.LSTMCell(4, 5)(lib.ones(2, 4), (lib.ones(3, 5), lib.ones(3, 5)))),
        ("pack unsorted", lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.ones(4, 3), [4, 2, 3])),
        ("pack zero length", lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.ones(4, 3), [4, 3, 0])),
        ("pack lengths count", lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.ones(4, 3), [4, 3])),
        ("pack 2-D lengths", lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.ones(4, 3), lib.tensor([[4, 3, 2]]))),
        ("pad empty", lambda lib: lib.nn.utils.rnn.pad_sequence([])),
        ("pad side", lambda lib: lib.nn.utils.rnn.pad_sequence([lib.ones(2)], padding_side="middle")),
        ("pad not iterable", lambda lib: lib.nn.utils.rnn.pad_sequence(5)),
        ("total_length too short", lambda lib: lib.nn.utils.rnn.pad_packed_sequence(
            lib.nn.utils.rnn.pack_padded_sequence(lib.ones(4, 3), [4, 3, 2]), total_length=3)),
    ]


@pytest.mark.parametrize("name, make", error_cases(), ids=[name for name, _ in error_cases()])
def test_errors_match_torch(name, make):
    torch = pytest.importorskip("torch")
    with pytest.raises(Exception) as theirs:
        make(torch)
    with pytest.raises(theirs.type) as ours:
        make(tinytorch)
    assert str(ours.value).replace("tinytorch.", "torch.") == str(theirs.value)


def test_bad_input_changes_nothing():
    layer = nn.LSTM(4, 5)
    before = {k: v.numpy().copy() for k, v in layer.state_dict().items()}
    h = tinytorch.ones(1, 2, 5)
    for bad in (lambda: layer(tinytorch.ones(3, 2, 6)), lambda: layer(tinytorch.ones(3, 2, 4), (h, tinytorch.ones(1, 3, 5)))):
        with pytest.raises(RuntimeError):
            bad()
    assert all(np.array_equal(before[k], v.numpy()) for k, v in layer.state_dict().items())
    assert all(p.grad is None for p in layer.parameters())
