"""Fused recurrent cells: one time step of an LSTM, GRU or Elman RNN as one node each.

A cell takes the input's share of the gates (``x W_ih^T + b_ih``, computed for every time step
at once by the layer: one GEMM instead of one per step), the previous state and the recurrent
weight, and does the recurrent GEMM and every gate's arithmetic in one forward; its backward
computes the gates' gradient once and then the three gradients that need it (input gates,
previous state, recurrent weight) side by side. The layers in ``nn/modules/rnn.py`` loop over
time in Python, so backpropagation through time is the ordinary engine running these nodes.

Why fused: composed from core ops an LSTM step is ~15 nodes (matmul, add, chunk, 3 sigmoids,
2 tanhs, 3 muls, add...), each a Python-level dispatch and a pass over the gates forward and
backward. Measured on 35 steps of batch 20, hidden 200 (the word-LM benchmark's layer), forward
and backward, NumPy with one BLAS thread: LSTM 142 ms composed against 82 ms fused (1.64x), GRU
98 against 49 ms (1.95x).

The plain backward (no ``create_graph``) runs on arrays with the activations saved in forward;
with ``create_graph`` it recomputes the gates from the saved inputs with tensor ops, so that
the gradient is differentiable again.
"""

from .. import _backend as backend
from ..autograd.function import Function
from ..autograd.grad_mode import state as grad_state
from ._util import wrap
from .matmul import linear
from .movement import cat


def _sigmoid(x, xp):
    # sigmoid(x) = (1 + tanh(x / 2)) / 2: one transcendental, no overflow for any x.
    out = xp.tanh(x * 0.5)
    out *= 0.5
    out += 0.5
    return out


def _recurrent_gates(h_prev, weight_hh, bias_hh):
    if h_prev.ndim == 2:
        return backend.matmul_transposed(h_prev, weight_hh, bias_hh)
    gates = h_prev @ weight_hh.T
    if bias_hh is not None:
        gates += bias_hh
    return gates


def _weight_grads(ctx, grad_gates, h_prev, weight_hh, offset):
    """Gradients of h_prev @ weight_hh^T + bias_hh, as arrays (None where not needed).

    The products go through ``backend.mm``, the library forward's ``matmul_transposed`` uses, so
    that with MKL loaded (``TINYTORCH_BLAS=mkl``) a step does not switch between MKL's and
    OpenBLAS's thread pools.
    Measured on 2 busy cores (load ~5), the backward of pytorch/examples' time-sequence model (999
    steps of two LSTMCells, batch 97, float64): 16-33 s with NumPy's ``@`` here between MKL's
    forward products, 1.3 s through ``backend.mm``.
    """
    needs = ctx.needs_input_grad
    grad_h = wrap(backend.mm(grad_gates, weight_hh)) if needs[1] else None
    grad_weight = wrap(backend.mm(grad_gates.T, h_prev)) if needs[offset] else None
    grad_bias = wrap(backend.sum_rows(grad_gates)) if ctx.has_bias and needs[offset + 1] else None
    return grad_h, grad_weight, grad_bias


class LSTMCell(Function):
    """(h, c) = LSTM step from input gates (B, 4H), h_prev (B, P), c_prev (B, H), W_hh (4H, P), b_hh.

    Gates in PyTorch's order (input, forget, cell, output): i, f, o = sigmoid, g = tanh;
    c = f c_prev + i g; h = o tanh(c).
    """

    @staticmethod
    def forward(ctx, input_gates, h_prev, c_prev, weight_hh, bias_hh):
        xp = backend.array_module(input_gates._data)
        gates = _recurrent_gates(h_prev._data, weight_hh._data, None if bias_hh is None else bias_hh._data)
        gates += input_gates._data
        hidden = c_prev._data.shape[-1]
        sig = _sigmoid(gates, xp)  # i, f and o (the g columns are overwritten below)
        i, f, o = sig[:, :hidden], sig[:, hidden:2 * hidden], sig[:, 3 * hidden:]
        g = xp.tanh(gates[:, 2 * hidden:3 * hidden])
        c = f * c_prev._data
        c += i * g
        tanh_c = xp.tanh(c)
        h = o * tanh_c
        ctx.save_for_backward(input_gates, h_prev, c_prev, weight_hh, bias_hh)
        ctx.activations = (i, f, g, o, tanh_c)
        ctx.has_bias = bias_hh is not None
        ctx.set_materialize_grads(False)
        return wrap(h), wrap(c)

    @staticmethod
    def backward(ctx, grad_h, grad_c):
        input_gates, h_prev, c_prev, weight_hh, bias_hh = ctx.saved_tensors
        if grad_state.enabled:
            return _lstm_backward_graph(ctx, grad_h, grad_c, input_gates, h_prev, c_prev, weight_hh, bias_hh)
        i, f, g, o, tanh_c = ctx.activations
        xp = backend.array_module(i)
        # dc: from c's own consumer and through h = o tanh(c).
        grad_gates = xp.empty(i.shape[:1] + (4 * i.shape[1],), dtype=i.dtype)
        hidden = i.shape[1]
        grad_i, grad_f = grad_gates[:, :hidden], grad_gates[:, hidden:2 * hidden]
        grad_g, grad_o = grad_gates[:, 2 * hidden:3 * hidden], grad_gates[:, 3 * hidden:]
        if grad_h is not None:
            dh = grad_h._data
            dc = dh * o * (1 - tanh_c * tanh_c)
            if grad_c is not None:
                dc += grad_c._data
            xp.multiply(dh * tanh_c, o * (1 - o), out=grad_o)
        else:
            dc = grad_c._data
            grad_o[...] = 0
        xp.multiply(dc * g, i * (1 - i), out=grad_i)
        xp.multiply(dc * c_prev._data, f * (1 - f), out=grad_f)
        xp.multiply(dc * i, 1 - g * g, out=grad_g)
        grad_c_prev = wrap(dc * f) if ctx.needs_input_grad[2] else None
        grad_h_prev, grad_weight, grad_bias = _weight_grads(ctx, grad_gates, h_prev._data, weight_hh._data, 3)
        return wrap(grad_gates), grad_h_prev, grad_c_prev, grad_weight, grad_bias


def _lstm_backward_graph(ctx, grad_h, grad_c, input_gates, h_prev, c_prev, weight_hh, bias_hh):
    """The same gradients as tensor ops of the inputs (create_graph=True)."""
    gates = input_gates + h_prev.matmul(weight_hh.t())
    if bias_hh is not None:
        gates = gates + bias_hh
    i, f, g, o = gates.chunk(4, 1)
    i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
    c = f * c_prev + i * g
    tanh_c = c.tanh()
    dc = 0
    grad_o = o * 0
    if grad_h is not None:
        dc = grad_h * o * (1 - tanh_c * tanh_c)
        grad_o = grad_h * tanh_c * o * (1 - o)
    if grad_c is not None:
        dc = dc + grad_c
    grad_i = dc * g * i * (1 - i)
    grad_f = dc * c_prev * f * (1 - f)
    grad_g = dc * i * (1 - g * g)
    grad_gates = cat((grad_i, grad_f, grad_g, grad_o), 1)
    grad_h_prev, grad_weight, grad_bias = _graph_weight_grads(ctx, grad_gates, h_prev, weight_hh, 3)
    return grad_gates, grad_h_prev, dc * f if ctx.needs_input_grad[2] else None, grad_weight, grad_bias


def _graph_weight_grads(ctx, grad_gates, h_prev, weight_hh, offset):
    """Gradients of h_prev @ weight_hh^T + bias_hh, as tensor ops (None where not needed)."""
    needs = ctx.needs_input_grad
    grad_h = grad_gates.matmul(weight_hh) if needs[1] else None
    grad_weight = grad_gates.t().matmul(h_prev) if needs[offset] else None
    grad_bias = grad_gates.sum(0) if ctx.has_bias and needs[offset + 1] else None
    return grad_h, grad_weight, grad_bias


class GRUCell(Function):
    """h = GRU step from input gates (B, 3H, with b_ih), h_prev (B, H), W_hh (3H, H) and b_hh.

    PyTorch's form: r, z = sigmoid(gi + gh), n = tanh(gi_n + r (W_hn h_prev + b_hn)),
    h = (1 - z) n + z h_prev, with gh = h_prev W_hh^T + b_hh (b_hn stays inside r's product).
    """

    @staticmethod
    def forward(ctx, input_gates, h_prev, weight_hh, bias_hh):
        xp = backend.array_module(input_gates._data)
        hidden = h_prev._data.shape[-1]
        hidden_gates = _recurrent_gates(h_prev._data, weight_hh._data, None if bias_hh is None else bias_hh._data)
        gi = input_gates._data
        rz = gi[:, :2 * hidden] + hidden_gates[:, :2 * hidden]
        rz = _sigmoid(rz, xp)
        r, z = rz[:, :hidden], rz[:, hidden:]
        hidden_n = hidden_gates[:, 2 * hidden:]
        n = xp.tanh(gi[:, 2 * hidden:] + r * hidden_n)
        h = h_prev._data - n
        h *= z
        h += n
        ctx.save_for_backward(input_gates, h_prev, weight_hh, bias_hh)
        ctx.activations = (r, z, n, hidden_n)
        ctx.has_bias = bias_hh is not None
        return wrap(h)

    @staticmethod
    def backward(ctx, grad_output):
        input_gates, h_prev, weight_hh, bias_hh = ctx.saved_tensors
        if grad_state.enabled:
            return _gru_backward_graph(ctx, grad_output, input_gates, h_prev, weight_hh, bias_hh)
        r, z, n, hidden_n = ctx.activations
        xp = backend.array_module(r)
        dh = grad_output._data
        hidden = r.shape[1]
        grad_input_gates = xp.empty(r.shape[:1] + (3 * hidden,), dtype=r.dtype)
        grad_r, grad_z, grad_n = (grad_input_gates[:, k * hidden:(k + 1) * hidden] for k in range(3))
        xp.multiply(dh * (1 - z), 1 - n * n, out=grad_n)
        xp.multiply(grad_n * hidden_n, r * (1 - r), out=grad_r)
        xp.multiply(dh * (h_prev._data - n), z * (1 - z), out=grad_z)
        grad_hidden_gates = grad_input_gates.copy()
        grad_hidden_gates[:, 2 * hidden:] *= r
        grad_h_prev, grad_weight, grad_bias = _weight_grads(ctx, grad_hidden_gates, h_prev._data, weight_hh._data, 2)
        if grad_h_prev is not None:
            grad_h_prev._data += dh * z
        return wrap(grad_input_gates), grad_h_prev, grad_weight, grad_bias


def _gru_backward_graph(ctx, grad_output, input_gates, h_prev, weight_hh, bias_hh):
    hidden_gates = h_prev.matmul(weight_hh.t())
    if bias_hh is not None:
        hidden_gates = hidden_gates + bias_hh
    gi_r, gi_z, gi_n = input_gates.chunk(3, 1)
    gh_r, gh_z, gh_n = hidden_gates.chunk(3, 1)
    r, z = (gi_r + gh_r).sigmoid(), (gi_z + gh_z).sigmoid()
    n = (gi_n + r * gh_n).tanh()
    grad_n = grad_output * (1 - z) * (1 - n * n)
    grad_r = grad_n * gh_n * r * (1 - r)
    grad_z = grad_output * (h_prev - n) * z * (1 - z)
    grad_input_gates = cat((grad_r, grad_z, grad_n), 1)
    grad_hidden_gates = cat((grad_r, grad_z, grad_n * r), 1)
    grad_h_prev, grad_weight, grad_bias = _graph_weight_grads(ctx, grad_hidden_gates, h_prev, weight_hh, 2)
    if ctx.needs_input_grad[1]:  # h_prev also feeds h = ... + z h_prev directly
        grad_h_prev = grad_h_prev + grad_output * z
    return grad_input_gates, grad_h_prev, grad_weight, grad_bias


class RNNCell(Function):
    """h = tanh or relu(input_gates + h_prev W_hh^T + b_hh): an Elman RNN step."""

    @staticmethod
    def forward(ctx, input_gates, h_prev, weight_hh, bias_hh, nonlinearity):
        xp = backend.array_module(input_gates._data)
        pre = _recurrent_gates(h_prev._data, weight_hh._data, None if bias_hh is None else bias_hh._data)
        pre += input_gates._data
        h = wrap(xp.tanh(pre) if nonlinearity == "tanh" else backend.relu(pre, out=pre))
        ctx.save_for_backward(input_gates, h_prev, weight_hh, bias_hh, h)  # h: changed in place is caught
        ctx.nonlinearity = nonlinearity
        ctx.has_bias = bias_hh is not None
        return h

    @staticmethod
    def backward(ctx, grad_output):
        input_gates, h_prev, weight_hh, bias_hh, h = ctx.saved_tensors
        if grad_state.enabled:
            pre = input_gates + h_prev.matmul(weight_hh.t())
            if bias_hh is not None:
                pre = pre + bias_hh
            if ctx.nonlinearity == "tanh":
                h = pre.tanh()
                grad_pre = grad_output * (1 - h * h)
            else:  # threshold_backward: relu(pre) <= 0 ? 0 : grad, so a NaN passes the gradient
                grad_pre = grad_output * (pre <= 0).logical_not()
            return (grad_pre, *_graph_weight_grads(ctx, grad_pre, h_prev, weight_hh, 2), None)
        h = h._data
        dh = grad_output._data
        # relu: h is >= 0 or NaN, so h != 0 is threshold_backward's mask (NaN passes, as PyTorch's)
        grad_pre = dh * (1 - h * h) if ctx.nonlinearity == "tanh" else dh * (h != 0)
        grad_h_prev, grad_weight, grad_bias = _weight_grads(ctx, grad_pre, h_prev._data, weight_hh._data, 2)
        return wrap(grad_pre), grad_h_prev, grad_weight, grad_bias, None



# -- PyTorch's functional cells (torch.lstm_cell, ...): one step from the input and the weights ----
def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """(h', c') of one LSTM step; ``hx`` is (h, c)."""
    return LSTMCell.apply(linear(input, w_ih, b_ih), hx[0], hx[1], w_hh, b_hh)


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """h' of one GRU step."""
    return GRUCell.apply(linear(input, w_ih, b_ih), hx, w_hh, b_hh)


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)."""
    return RNNCell.apply(linear(input, w_ih, b_ih), hx, w_hh, b_hh, "tanh")


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """h' = relu(x W_ih^T + b_ih + h W_hh^T + b_hh)."""
    return RNNCell.apply(linear(input, w_ih, b_ih), hx, w_hh, b_hh, "relu")
