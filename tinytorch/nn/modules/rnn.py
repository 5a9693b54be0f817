"""Recurrent layers: ``RNN`` (tanh/relu), ``LSTM`` (with ``proj_size``), ``GRU`` and their cells.

PyTorch's API: constructor arguments and checks, parameter names (``weight_ih_l0``,
``bias_hh_l1_reverse``, ``weight_hr_l0``...), initialization U(-1/sqrt(hidden), 1/sqrt(hidden)),
``batch_first``, dropout between layers, bidirectional layers, initial states, unbatched input
and ``PackedSequence`` input, with PyTorch's errors.

How a layer runs: for each layer and direction, the input's share of every time step's gates is
one GEMM (``F.linear`` over the whole sequence, both biases folded in where the cell allows);
then a Python loop over time calls one fused cell node per step (``tinytorch/_ops/rnn.py``:
the recurrent GEMM and the gates' arithmetic, with its backward beside it). Backpropagation
through time is the ordinary engine running those nodes in reverse. A packed batch shrinks as
its sequences end: the finished rows' states are set aside (they are the final states of those
sequences) and the loop continues on the rest.
"""

import math
import numbers
import warnings

from ... import _backend as backend, _creation as creation, _dtypes, _ops as ops
from ..._ops import rnn as cells
from ..._tensor import Tensor
from .. import functional as F
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


class RNNBase(Module):
    """What RNN, LSTM and GRU share: parameters, checks, the layer loop and the repr."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        if not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an element being zeroed")
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects "
                f"num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                stacklevel=3,
            )
        for name, value, kind in (("bias", bias, bool), ("batch_first", batch_first, bool), ("input_size", input_size, int),
                                  ("hidden_size", hidden_size, int)):
            if not isinstance(value, kind):
                raise TypeError(f"{name} should be of type {kind.__name__}, got: {type(value).__name__}")
            if kind is int and value <= 0:
                raise ValueError(f"{name} must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        gate_size = _GATES[mode] * hidden_size
        directions = 2 if bidirectional else 1
        real_hidden = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(directions):
                layer_input = input_size if layer == 0 else real_hidden * directions
                suffix = "_reverse" if direction == 1 else ""
                shapes = [("weight_ih_l{}{}", (gate_size, layer_input)), ("weight_hh_l{}{}", (gate_size, real_hidden))]
                if bias:
                    shapes += [("bias_ih_l{}{}", (gate_size,)), ("bias_hh_l{}{}", (gate_size,))]
                if proj_size > 0:
                    shapes += [("weight_hr_l{}{}", (proj_size, hidden_size))]
                names = []
                for pattern, shape in shapes:
                    name = pattern.format(layer, suffix)
                    setattr(self, name, Parameter(creation.empty(shape, device=device, dtype=dtype)))
                    names.append(name)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    @property
    def _flat_weights(self):
        return [self._parameters.get(name) for name in self._flat_weights_names]

    @property
    def all_weights(self):
        """The parameters of each layer and direction, in PyTorch's order."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def flatten_parameters(self):
        """Kept for PyTorch compatibility: there is no cuDNN weight buffer to compact here."""

    def reset_parameters(self):
        """Every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    # -- checks, as PyTorch's -------------------------------------------------------------------
    def check_input(self, input, batch_sizes):
        weight = self._flat_weights[0]
        if input.dtype != weight.dtype:
            raise ValueError(
                f"RNN input dtype ({input.dtype}) does not match weight dtype ({weight.dtype}). "
                f"Convert input: input.to({weight.dtype}), or convert model: model.to({input.dtype})"
            )
        if input.device != weight.device:
            raise RuntimeError(
                f"Input and parameter tensors are not at the same device, found input tensor at {input.device} "
                f"and parameter tensor at {weight.device}"
            )
        expected_input_dim = 2 if batch_sizes is not None else 3
        if input.dim() != expected_input_dim:
            raise RuntimeError(f"input must have {expected_input_dim} dimensions, got {input.dim()}")
        if self.input_size != input.size(-1):
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got {input.size(-1)}")

    def get_expected_hidden_size(self, input, batch_sizes):
        if batch_sizes is not None:
            mini_batch = int(batch_sizes[0])
        else:
            mini_batch = input.size(0) if self.batch_first else input.size(1)
        directions = 2 if self.bidirectional else 1
        size = self.proj_size if self.proj_size > 0 else self.hidden_size
        return (self.num_layers * directions, mini_batch, size)

    def check_hidden_size(self, hx, expected_hidden_size, msg="Expected hidden size {}, got {}"):
        if tuple(hx.size()) != tuple(expected_hidden_size):
            raise RuntimeError(msg.format(tuple(expected_hidden_size), list(hx.size())))

    def check_forward_args(self, input, hidden, batch_sizes):
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden, self.get_expected_hidden_size(input, batch_sizes))
        _check_state_dtype(input, hidden)

    def permute_hidden(self, hx, permutation):
        if permutation is None:
            return hx
        return hx.index_select(1, permutation)

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)

    # -- the forward shared by the three layers -------------------------------------------------
    def _prepare(self, input, hx, name, cell_state=False):
        """(input, batch_sizes, sorted/unsorted indices, hidden states, is_batched, batch_dim) from the arguments."""
        if isinstance(input, PackedSequence):
            data, batch_sizes, sorted_indices, unsorted_indices = input
            sizes = [int(b) for b in backend.to_numpy(batch_sizes._data)]
            return data, sizes, sorted_indices, unsorted_indices, True, None
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: expected a Tensor or a PackedSequence as input, got {type(input).__name__}")
        if input.dim() not in (2, 3):
            text = f"{input.dim()}D tensor instead" if name == "RNN" else f"{input.dim()}D instead"
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {text}")
        is_batched = input.dim() == 3
        batch_dim = 0 if self.batch_first else 1
        if not is_batched:
            input = input.unsqueeze(batch_dim)
        return input, None, None, None, is_batched, batch_dim

    def _zeros(self, input, batch, size):
        directions = 2 if self.bidirectional else 1
        return creation.zeros(self.num_layers * directions, batch, size, dtype=input.dtype, device=input.device)

    def _run(self, input, batch_sizes, h0, c0=None):
        """Every layer and direction over ``input`` ((T, B, I), (B, T, I) or packed rows (N, I)).
        Returns (output, h_n, c_n)."""
        directions = 2 if self.bidirectional else 1
        time_dim = None if batch_sizes is not None else (1 if self.batch_first else 0)
        steps = len(batch_sizes) if batch_sizes is not None else input.shape[time_dim]
        initial_h = h0.unbind(0)
        initial_c = c0.unbind(0) if c0 is not None else None
        final_h, final_c = [], []
        layer_input = input
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout and self.training:
                layer_input = F.dropout(layer_input, self.dropout, True)
            outputs = []
            for direction in range(directions):
                k = layer * directions + direction
                weights = [self._parameters[name] for name in self._all_weights[k]]
                out, h_n, c_n = self._direction(layer_input, time_dim, steps, batch_sizes, weights, initial_h[k],
                                                None if initial_c is None else initial_c[k], direction == 1)
                outputs.append(out)
                final_h.append(h_n)
                final_c.append(c_n)
            layer_input = outputs[0] if directions == 1 else ops.cat(outputs, -1)
        h_n = ops.stack(final_h)
        return layer_input, h_n, (ops.stack(final_c) if c0 is not None else None)

    def _direction(self, input, time_dim, steps, batch_sizes, weights, h0, c0, reverse):
        """One layer in one direction: the gates' input GEMM for all steps, then the cells in a loop."""
        if self.bias:
            weight_ih, weight_hh, bias_ih, bias_hh = weights[:4]
        else:
            (weight_ih, weight_hh), bias_ih, bias_hh = weights[:2], None, None
        weight_hr = weights[-1] if self.proj_size > 0 else None
        mode = self.mode
        if mode == "GRU" or bias_ih is None:
            input_bias, recurrent_bias = bias_ih, bias_hh  # GRU: b_hn sits inside r's product
        else:
            input_bias, recurrent_bias = bias_ih + bias_hh, None
        gates = F.linear(input, weight_ih, input_bias)
        per_step = gates.unbind(time_dim) if batch_sizes is None else gates.split(batch_sizes)
        sizes = batch_sizes
        order = range(steps - 1, -1, -1) if reverse else range(steps)
        h, c = h0, c0
        if sizes is not None:
            if reverse:  # the last steps hold only the longest sequences
                h = h[: sizes[-1]]
                c = c[: sizes[-1]] if c is not None else None
            finished_h, finished_c = [], []
        outputs = [None] * steps
        for t in order:
            if sizes is not None:
                size, current = sizes[t], h.shape[0]
                if size < current:  # forward: sequences ended; their states are final
                    h, done_h = h.split([size, current - size])
                    finished_h.append(done_h)
                    if c is not None:
                        c, done_c = c.split([size, current - size])
                        finished_c.append(done_c)
                elif size > current:  # reverse: sequences start
                    h = ops.cat([h, h0[current:size]])
                    c = ops.cat([c, c0[current:size]]) if c is not None else None
            if mode == "LSTM":
                h, c = cells.LSTMCell.apply(per_step[t], h, c, weight_hh, recurrent_bias)
                if weight_hr is not None:
                    h = F.linear(h, weight_hr)
            elif mode == "GRU":
                h = cells.GRUCell.apply(per_step[t], h, weight_hh, recurrent_bias)
            else:
                h = cells.RNNCell.apply(per_step[t], h, weight_hh, recurrent_bias, "tanh" if mode == "RNN_TANH" else "relu")
            outputs[t] = h
        if sizes is not None:
            if finished_h:  # rows in batch order: the ones still running, then those that ended last
                h = ops.cat([h] + finished_h[::-1])
                c = ops.cat([c] + finished_c[::-1]) if c is not None else None
            return ops.cat(outputs), h, c
        return ops.stack(outputs, time_dim), h, c

    def _finish(self, output, hidden, packed, batch_sizes, sorted_indices, unsorted_indices, is_batched, batch_dim):
        if packed:
            return PackedSequence(output, batch_sizes, sorted_indices, unsorted_indices), self.permute_hidden(hidden, unsorted_indices)
        if not is_batched:
            output = output.squeeze(batch_dim)
            hidden = _squeeze_state(hidden)
        return output, hidden


def _squeeze_state(hidden):
    return tuple(h.squeeze(1) for h in hidden) if isinstance(hidden, tuple) else hidden.squeeze(1)


def _check_state_dtype(input, hidden):
    if hidden.dtype != input.dtype:
        raise RuntimeError(
            "Input and hidden tensors are not the same dtype, found input tensor with "
            f"{_title(input)} and hidden tensor with {_title(hidden)}"
        )
    if hidden.device != input.device:
        raise RuntimeError(
            f"Input and hidden tensors are not at the same device, found input tensor at {input.device} "
            f"and hidden tensor at {hidden.device}"
        )


def _title(t):
    return _dtypes.scalar_type_name(t._data.dtype)


class RNN(RNNBase):
    """A multi-layer Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu)."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(mode, *args, **kwargs)

    def forward(self, input, hx=None):
        """(output, h_n) for input (L, N, H_in), (N, L, H_in) with batch_first, (L, H_in) or a PackedSequence."""
        data, batch_sizes, sorted_indices, unsorted_indices, is_batched, batch_dim = self._prepare(input, hx, "RNN")
        packed = batch_sizes is not None
        if not packed and hx is not None:
            if not is_batched and hx.dim() != 2:
                raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D but got {hx.dim()}-D tensor")
            if is_batched and hx.dim() != 3:
                raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got {hx.dim()}-D tensor")
            if not is_batched:
                hx = hx.unsqueeze(1)
        if hx is None:
            hx = self._zeros(data, *self.get_expected_hidden_size(data, batch_sizes)[1:])
        else:
            hx = self.permute_hidden(hx, sorted_indices)
        self.check_forward_args(data, hx, batch_sizes)
        output, h_n, _ = self._run(data, batch_sizes, hx)
        return self._finish(output, h_n, packed, input[1] if packed else None, sorted_indices, unsorted_indices, is_batched, batch_dim)


class LSTM(RNNBase):
    """A multi-layer LSTM (gates i, f, g, o in PyTorch's order; ``proj_size`` projects h)."""

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)

    def get_expected_cell_size(self, input, batch_sizes):
        if batch_sizes is not None:
            mini_batch = int(batch_sizes[0])
        else:
            mini_batch = input.size(0) if self.batch_first else input.size(1)
        directions = 2 if self.bidirectional else 1
        return (self.num_layers * directions, mini_batch, self.hidden_size)

    def check_forward_args(self, input, hidden, batch_sizes):
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden[0], self.get_expected_hidden_size(input, batch_sizes), "Expected hidden[0] size {}, got {}")
        self.check_hidden_size(hidden[1], self.get_expected_cell_size(input, batch_sizes), "Expected hidden[1] size {}, got {}")
        _check_state_dtype(input, hidden[0])
        _check_state_dtype(input, hidden[1])

    def permute_hidden(self, hx, permutation):
        if permutation is None:
            return hx
        return hx[0].index_select(1, permutation), hx[1].index_select(1, permutation)

    def forward(self, input, hx=None):
        """(output, (h_n, c_n)); ``hx`` is (h_0, c_0) or None (zeros)."""
        data, batch_sizes, sorted_indices, unsorted_indices, is_batched, batch_dim = self._prepare(input, hx, "LSTM")
        packed = batch_sizes is not None
        if hx is None:
            expected = self.get_expected_hidden_size(data, batch_sizes)
            hx = (self._zeros(data, expected[1], expected[2]), self._zeros(data, expected[1], self.hidden_size))
        else:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise RuntimeError("LSTM: hx must be a tuple (h_0, c_0) of two tensors")
            if not packed:
                if is_batched and (hx[0].dim() != 3 or hx[1].dim() != 3):
                    raise RuntimeError(f"For batched 3-D input, hx and cx should also be 3-D but got ({hx[0].dim()}-D, {hx[1].dim()}-D) tensors")
                if not is_batched:
                    if hx[0].dim() != 2 or hx[1].dim() != 2:
                        raise RuntimeError(f"For unbatched 2-D input, hx and cx should also be 2-D but got ({hx[0].dim()}-D, {hx[1].dim()}-D) tensors")
                    hx = (hx[0].unsqueeze(1), hx[1].unsqueeze(1))
            hx = self.permute_hidden(hx, sorted_indices)
        self.check_forward_args(data, hx, batch_sizes)
        output, h_n, c_n = self._run(data, batch_sizes, hx[0], hx[1])
        return self._finish(output, (h_n, c_n), packed, input[1] if packed else None, sorted_indices, unsorted_indices, is_batched, batch_dim)


class GRU(RNNBase):
    """A multi-layer GRU: r, z = sigmoid(...), n = tanh(W_in x + b_in + r (W_hn h + b_hn)), h' = (1 - z) n + z h."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)

    def forward(self, input, hx=None):
        """(output, h_n), as ``RNN.forward``."""
        data, batch_sizes, sorted_indices, unsorted_indices, is_batched, batch_dim = self._prepare(input, hx, "GRU")
        packed = batch_sizes is not None
        if not packed and hx is not None:
            if not is_batched and hx.dim() != 2:
                raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D but got {hx.dim()}-D tensor")
            if is_batched and hx.dim() != 3:
                raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got {hx.dim()}-D tensor")
            if not is_batched:
                hx = hx.unsqueeze(1)
        if hx is None:
            hx = self._zeros(data, *self.get_expected_hidden_size(data, batch_sizes)[1:])
        else:
            hx = self.permute_hidden(hx, sorted_indices)
        self.check_forward_args(data, hx, batch_sizes)
        output, h_n, _ = self._run(data, batch_sizes, hx)
        return self._finish(output, h_n, packed, input[1] if packed else None, sorted_indices, unsorted_indices, is_batched, batch_dim)


# -- cells ------------------------------------------------------------------------------------------
class RNNCellBase(Module):
    """What the cells share: weight_ih, weight_hh, bias_ih, bias_hh and their initialization."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.weight_ih = Parameter(creation.empty((num_chunks * hidden_size, input_size), device=device, dtype=dtype))
        self.weight_hh = Parameter(creation.empty((num_chunks * hidden_size, hidden_size), device=device, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(creation.empty(num_chunks * hidden_size, device=device, dtype=dtype))
            self.bias_hh = Parameter(creation.empty(num_chunks * hidden_size, device=device, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _check(self, input, states):
        """PyTorch's cell checks (sizes of the input and of each state)."""
        if input.size(1) != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.size(1)} expected {self.input_size}")
        for k, state in enumerate(states):
            if state.size(0) != input.size(0):
                raise RuntimeError(f"Input batch size {input.size(0)} doesn't match hidden{k} batch size {state.size(0)}")
            if state.size(1) != self.hidden_size:
                raise RuntimeError(f"hidden{k} has inconsistent hidden_size: got {state.size(1)}, expected {self.hidden_size}")
            _check_state_dtype(input, state)
        if input.dtype != self.weight_ih.dtype:
            raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {input.dtype} and {self.weight_ih.dtype}")


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        if input.dim() not in (1, 2):
            raise ValueError(f"RNNCell: Expected input to be 1D or 2D, got {input.dim()}D instead")
        if hx is not None and hx.dim() not in (1, 2):
            raise ValueError(f"RNNCell: Expected hidden to be 1D or 2D, got {hx.dim()}D instead")
        is_batched = input.dim() == 2
        if not is_batched:
            input = input.unsqueeze(0)
        hx = creation.zeros(input.size(0), self.hidden_size, dtype=input.dtype, device=input.device) if hx is None else (
            hx if is_batched else hx.unsqueeze(0))
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        self._check(input, (hx,))
        cell = cells.rnn_tanh_cell if self.nonlinearity == "tanh" else cells.rnn_relu_cell
        h = cell(input, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return h if is_batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step: (h', c') from x and (h, c)."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        if input.dim() not in (1, 2):
            raise ValueError(f"LSTMCell: Expected input to be 1D or 2D, got {input.dim()}D instead")
        if hx is not None:
            for index, value in enumerate(hx):
                if value.dim() not in (1, 2):
                    raise ValueError(f"LSTMCell: Expected hx[{index}] to be 1D or 2D, got {value.dim()}D instead")
        is_batched = input.dim() == 2
        if not is_batched:
            input = input.unsqueeze(0)
        if hx is None:
            zeros = creation.zeros(input.size(0), self.hidden_size, dtype=input.dtype, device=input.device)
            hx = (zeros, zeros)
        elif not is_batched:
            hx = (hx[0].unsqueeze(0), hx[1].unsqueeze(0))
        self._check(input, hx)
        h, c = cells.lstm_cell(input, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return (h, c) if is_batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step: h' from x and h."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        if input.dim() not in (1, 2):
            raise ValueError(f"GRUCell: Expected input to be 1D or 2D, got {input.dim()}D instead")
        if hx is not None and hx.dim() not in (1, 2):
            raise ValueError(f"GRUCell: Expected hidden to be 1D or 2D, got {hx.dim()}D instead")
        is_batched = input.dim() == 2
        if not is_batched:
            input = input.unsqueeze(0)
        hx = creation.zeros(input.size(0), self.hidden_size, dtype=input.dtype, device=input.device) if hx is None else (
            hx if is_batched else hx.unsqueeze(0))
        self._check(input, (hx,))
        h = cells.gru_cell(input, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return h if is_batched else h.squeeze(0)
