"""PyTorch's top-level recurrent functions ``torch.lstm``, ``torch.gru``, ``torch.rnn_tanh`` and
``torch.rnn_relu``, each with aten's two overloads:

- ``(input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first)``
- ``(data, batch_sizes, hx, params, has_biases, num_layers, dropout, train, bidirectional)``: a
  packed sequence's rows and its batch sizes.

``params`` is the flat list of weights, per layer and direction ``w_ih, w_hh[, b_ih, b_hh][, w_hr]``
(what ``nn.LSTM._flat_weights`` holds); ``hx`` is ``[h_0, c_0]`` for ``lstm``, a tensor otherwise.
They return a plain tuple ``(output, h_n[, c_n])``.

The layers themselves are ``nn.RNNBase``'s loop (``_run``/``_direction``, on the fused cells of
``_ops/rnn.py``): ``_Stack`` gives that loop the few attributes it reads, so the cell math lives in
one place. It sits above ``nn`` (``tinytorch/__init__.py`` imports it after ``nn``).
"""

import numbers

from . import _backend as backend, _dtypes as dtypes
from ._tensor import Tensor

__all__ = ["gru", "lstm", "rnn_relu", "rnn_tanh"]


class _Stack:
    """What ``RNNBase._run``/``_direction`` read from a layer, built from aten's arguments."""

    # nn.RNNBase's own methods, looked up when called: nn's recurrent layers load at first use.
    def _run(self, *args, **kwargs):
        from .nn.modules.rnn import RNNBase

        return RNNBase._run(self, *args, **kwargs)

    def _direction(self, *args, **kwargs):
        from .nn.modules.rnn import RNNBase

        return RNNBase._direction(self, *args, **kwargs)

    def __init__(self, mode, params, has_biases, num_layers, dropout, train, bidirectional, batch_first, proj_size):
        self.mode = mode
        self.bias = has_biases
        self.num_layers = num_layers
        self.dropout = float(dropout)
        self.training = train
        self.bidirectional = bidirectional
        self.batch_first = batch_first
        self.proj_size = proj_size
        self._parameters = params  # indexed by position: _all_weights holds indices, not names
        stride = (4 if has_biases else 2) + (1 if proj_size else 0)
        self._all_weights = [list(range(k, k + stride)) for k in range(0, len(params), stride)]


# -- aten's argument parser: the two overloads ------------------------------------------------------
_COMMON = (("params", "tuple of Tensors"), ("has_biases", "bool"), ("num_layers", "int"), ("dropout", "float"),
           ("train", "bool"), ("bidirectional", "bool"))


def _overloads(hx_kind):
    data = (("data", "Tensor"), ("batch_sizes", "Tensor"), ("hx", hx_kind)) + _COMMON
    dense = (("input", "Tensor"), ("hx", hx_kind)) + _COMMON + (("batch_first", "bool"),)
    return data, dense


def _fits(kind, value):
    if kind == "Tensor":
        return isinstance(value, Tensor)
    if kind == "tuple of Tensors":
        return isinstance(value, (list, tuple)) and all(isinstance(v, Tensor) for v in value)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, numbers.Integral) and not isinstance(value, bool)
    return isinstance(value, numbers.Real) and not isinstance(value, bool)  # float: an int is taken too


def _bind(signature, args, kwargs):
    """The arguments by name if they fit ``signature`` (all required, as aten's), else None."""
    if len(args) > len(signature):
        return None
    bound = dict(zip((name for name, _ in signature), args))
    for name, value in kwargs.items():
        if name in bound or name not in dict(signature):
            return None
        bound[name] = value
    if len(bound) != len(signature) or not all(_fits(kind, bound[name]) for name, kind in signature):
        return None
    return bound


def _type_name(value):
    return "Tensor" if isinstance(value, Tensor) else type(value).__name__


def _parse(name, hx_kind, args, kwargs):
    """(packed, arguments) for the overload the call fits, or PyTorch's TypeError."""
    data, dense = _overloads(hx_kind)
    for packed, signature in ((True, data), (False, dense)):
        bound = _bind(signature, args, kwargs)
        if bound is not None:
            return packed, bound
    got = ", ".join([_type_name(a) for a in args] + [f"{k}={_type_name(v)}" for k, v in kwargs.items()])
    expected = "".join(
        " * (" + ", ".join(f"{kind} {arg}" for arg, kind in signature) + ")\n" for signature in (data, dense)
    )
    raise TypeError(f"{name}() received an invalid combination of arguments - got ({got}), but expected one of:\n{expected}")


# -- aten's checks, then nn.RNNBase's loop -----------------------------------------------------------
def _batch_sizes(batch_sizes, data):
    """The packed batch sizes as ints, with aten's checks (int64 on the CPU, rows that add up)."""
    if batch_sizes._data.dtype != dtypes.int64.numpy:
        raise RuntimeError(f"expected scalar type Long but found {dtypes.scalar_type_name(batch_sizes.dtype)}")
    if batch_sizes.dim() != 1:
        raise RuntimeError(f"batch_sizes must be a 1-D tensor, got {batch_sizes.dim()}-D")
    sizes = [int(b) for b in backend.to_numpy(batch_sizes._data)]
    if not sizes or sizes[-1] < 1 or any(b > a for a, b in zip(sizes, sizes[1:])):
        raise RuntimeError(f"batch_sizes must be positive and non-increasing, got {sizes}")
    if sum(sizes) != data.shape[0]:
        raise RuntimeError(f"batch_sizes add up to {sum(sizes)} rows, but data has {data.shape[0]}")
    return sizes


def _layer_states(state, directions, num_layers):
    """aten's count checks on the initial states (one per layer and direction)."""
    if state.dim() != 3:
        raise RuntimeError(f"Expected hidden states of 3 dimensions (layers * directions, batch, size), got {state.dim()}")
    count = state.shape[0]
    if directions == 2 and count % 2:
        raise RuntimeError("Odd number of params or hiddens given to a bidirectional RNN")
    if count // directions != num_layers:
        raise RuntimeError("Expected more hidden states in stacked_rnn")


def _run(mode, name, hx_kind, args, kwargs):
    packed, a = _parse(name, hx_kind, args, kwargs)
    input = a["data"] if packed else a["input"]
    params, has_biases, num_layers = list(a["params"]), a["has_biases"], a["num_layers"]
    bidirectional, directions = a["bidirectional"], 2 if a["bidirectional"] else 1
    batch_first = False if packed else a["batch_first"]
    if mode == "LSTM":
        if len(a["hx"]) != 2:
            raise RuntimeError("lstm expects two hidden states")
        h0, c0 = a["hx"]
        proj_size = h0.shape[-1] if h0.dim() and c0.dim() and h0.shape[-1] != c0.shape[-1] else 0
    else:
        h0, c0, proj_size = a["hx"], None, 0
    stride = (4 if has_biases else 2) + (1 if proj_size else 0)
    if len(params) % stride:
        # torch's message on its native path (float32 on oneDNN says "MatrixRef: ArrayRef size ... not divisible")
        raise RuntimeError("got an incorrect number of RNN parameters")
    for state in (h0,) if c0 is None else (h0, c0):
        _layer_states(state, directions, num_layers)
    if directions == 2 and (len(params) // stride) % 2:
        raise RuntimeError("Odd number of params or hiddens given to a bidirectional RNN")
    if len(params) // stride // directions != num_layers:
        raise RuntimeError("Expected more weights in stacked_rnn")
    if packed:
        if input.dim() != 2:
            raise RuntimeError(f"packed input data must have 2 dimensions, got {input.dim()}")
        sizes = _batch_sizes(a["batch_sizes"], input)
        batch = sizes[0]
    else:
        if input.dim() != 3:
            raise RuntimeError(f"input must have 3 dimensions, got {input.dim()}")
        sizes, batch = None, input.shape[0 if batch_first else 1]
    for state in (h0,) if c0 is None else (h0, c0):
        if state.shape[1] != batch:
            raise RuntimeError(
                f"Expected hidden size {(state.shape[0], batch, state.shape[2])}, got {list(state.shape)}"
            )
    stack = _Stack(mode, params, has_biases, num_layers, a["dropout"], a["train"], bidirectional, batch_first, proj_size)
    output, h_n, c_n = stack._run(input, sizes, h0, c0)
    return (output, h_n, c_n) if mode == "LSTM" else (output, h_n)


def lstm(*args, **kwargs):
    """A stacked LSTM over ``input`` (or a packed ``data``/``batch_sizes``) with flat ``params``;
    ``hx = [h_0, c_0]``. Returns ``(output, h_n, c_n)``, as ``torch.lstm``."""
    return _run("LSTM", "lstm", "tuple of Tensors", args, kwargs)


def gru(*args, **kwargs):
    """A stacked GRU over ``input`` (or a packed ``data``/``batch_sizes``) with flat ``params``.
    Returns ``(output, h_n)``, as ``torch.gru``."""
    return _run("GRU", "gru", "Tensor", args, kwargs)


def rnn_tanh(*args, **kwargs):
    """A stacked Elman RNN with tanh over ``input`` (or packed ``data``/``batch_sizes``). Returns
    ``(output, h_n)``, as ``torch.rnn_tanh``."""
    return _run("RNN_TANH", "rnn_tanh", "Tensor", args, kwargs)


def rnn_relu(*args, **kwargs):
    """A stacked Elman RNN with ReLU over ``input`` (or packed ``data``/``batch_sizes``). Returns
    ``(output, h_n)``, as ``torch.rnn_relu``."""
    return _run("RNN_RELU", "rnn_relu", "Tensor", args, kwargs)
