"""Activations at NaN, +-inf and their kinks: forward and gradient as PyTorch's.

Each case is checked twice: against values written out from PyTorch's formulas (so the file
asserts behaviour without torch), and, when torch is importable, against torch itself.

PyTorch's CPU kernels have a scalar loop and a vectorized loop, and for a few backward kernels the
two disagree at NaN (hardtanh/relu6, the ELU family, hardswish, softshrink/hardshrink: the scalar
``x <= min || x >= max ? 0 : grad`` passes the gradient at NaN, the vectorized
``(x > min) & (x < max) & grad`` gives 0 or NaN). The scalar loop is the reference here: it is the
formula PyTorch writes, its CUDA kernels compute, and what CPU tensors of fewer than two SIMD
vectors get. So the torch comparison evaluates each point as its own one-element tensor.
"""

import math
import warnings

import numpy as np
import pytest

import tinytorch
import tinytorch.nn.functional as F

NAN, INF = math.nan, math.inf
X = [NAN, -1.0, 0.0, 2.0, INF, -INF, 6.0, 3.0, -3.0]
DTYPES = ["float32", "float64"]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_e = math.exp


def _phi(x):
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def _gelu_tanh(x):
    return 0.5 * x * (1 + math.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def _gelu_tanh_grad(x):
    t = math.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3))
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * math.sqrt(2 / math.pi) * (1 + 3 * 0.044715 * x * x)


def _sigmoid(x):
    return 1 / (1 + math.exp(-x))


def _finite(f, values=X, special=None):
    """f at each finite point of ``values``; ``special`` gives the non-finite ones (by position)."""
    return [special[i] if not math.isfinite(v) else f(v) for i, v in enumerate(values)]


# name: (call(F, x), expected forward at X, expected gradient at X (of sum(f(x))))
CASES = {
    # threshold_backward: result <= 0 ? 0 : grad -- NaN passes.
    "relu": (lambda F, x: F.relu(x),
             [NAN, 0, 0, 2, INF, 0, 6, 3, 0],
             [1, 0, 0, 1, 1, 0, 1, 1, 0]),
    # hardtanh_backward: x <= min || x >= max ? 0 : grad -- NaN passes.
    "relu6": (lambda F, x: F.relu6(x),
              [NAN, 0, 0, 2, 6, 0, 6, 3, 0],
              [1, 0, 0, 1, 0, 0, 0, 1, 0]),
    "hardtanh": (lambda F, x: F.hardtanh(x),
                 [NAN, -1, 0, 1, 1, -1, 1, 1, -1],
                 [1, 0, 1, 0, 0, 0, 0, 0, 0]),
    "hardtanh(-2, 4)": (lambda F, x: F.hardtanh(x, -2.0, 4.0),
                        [NAN, -1, 0, 2, 4, -2, 4, 3, -2],
                        [1, 1, 1, 1, 0, 0, 0, 1, 0]),
    # elu_backward: x <= 0 ? grad * negiptcoef * negcoef * exp(x * negiptcoef) : grad * poscoef.
    "elu": (lambda F, x: F.elu(x),
            [NAN, _e(-1) - 1, 0, 2, INF, -1, 6, 3, _e(-3) - 1],
            [1, _e(-1), 1, 1, 1, 0, 1, 1, _e(-3)]),
    "elu(0.5)": (lambda F, x: F.elu(x, 0.5),
                 [NAN, 0.5 * (_e(-1) - 1), 0, 2, INF, -0.5, 6, 3, 0.5 * (_e(-3) - 1)],
                 [1, 0.5 * _e(-1), 0.5, 1, 1, 0, 1, 1, 0.5 * _e(-3)]),
    "selu": (lambda F, x: F.selu(x),
             [NAN, _SELU_SCALE * _SELU_ALPHA * (_e(-1) - 1), 0, 2 * _SELU_SCALE, INF, -_SELU_SCALE * _SELU_ALPHA,
              6 * _SELU_SCALE, 3 * _SELU_SCALE, _SELU_SCALE * _SELU_ALPHA * (_e(-3) - 1)],
             [_SELU_SCALE, _SELU_SCALE * _SELU_ALPHA * _e(-1), _SELU_SCALE * _SELU_ALPHA, _SELU_SCALE, _SELU_SCALE, 0,
              _SELU_SCALE, _SELU_SCALE, _SELU_SCALE * _SELU_ALPHA * _e(-3)]),
    "celu": (lambda F, x: F.celu(x),
             [NAN, _e(-1) - 1, 0, 2, INF, -1, 6, 3, _e(-3) - 1],
             [1, _e(-1), 1, 1, 1, 0, 1, 1, _e(-3)]),
    "celu(2)": (lambda F, x: F.celu(x, 2.0),
                [NAN, 2 * (_e(-0.5) - 1), 0, 2, INF, -2, 6, 3, 2 * (_e(-1.5) - 1)],
                [1, _e(-0.5), 1, 1, 1, 0, 1, 1, _e(-1.5)]),
    # hardswish: x * min(max(x + 3, 0), 6) / 6 (-inf * 0 = NaN); backward: x <= -3 ? 0 : x < 3 ?
    # grad * (x / 3 + 0.5) : grad -- NaN and inf pass.
    "hardswish": (lambda F, x: F.hardswish(x),
                  [NAN, -1 / 3, 0, 5 / 3, INF, NAN, 6, 3, 0],
                  [1, 1 / 6, 0.5, 7 / 6, 1, 0, 1, 1, 0]),
    # hardsigmoid: min(max(x + 3, 0), 6) / 6; backward: -3 < x < 3 ? grad / 6 : 0 -- NaN gets 0.
    "hardsigmoid": (lambda F, x: F.hardsigmoid(x),
                    [NAN, 1 / 3, 0.5, 5 / 6, 1, 0, 1, 1, 0],
                    [0, 1 / 6, 1 / 6, 1 / 6, 0, 0, 0, 0, 0]),
    # abs backward: grad * sgn(x), and sgn(NaN) is 0.
    "abs": (lambda F, x: x.abs(),
            [NAN, 1, 0, 2, INF, INF, 6, 3, 3],
            [0, -1, 0, 1, 1, -1, 1, 1, -1]),
    # sign(NaN) is 0 in PyTorch ((0 < x) - (x < 0)); NumPy's is NaN.
    "sign": (lambda F, x: x.sign(),
             [0, -1, 0, 1, 1, -1, 1, 1, -1],
             [0] * 9),
    # gelu: x * Phi(x); -inf * 0 is NaN and the gradient at +-inf is inf * 0 = NaN.
    "gelu": (lambda F, x: F.gelu(x),
             _finite(lambda v: v * _phi(v), special=[NAN, None, None, None, INF, NAN]),
             _finite(lambda v: _phi(v) + v * math.exp(-v * v / 2) / math.sqrt(2 * math.pi),
                     special=[NAN, None, None, None, NAN, NAN])),
    "gelu(tanh)": (lambda F, x: F.gelu(x, approximate="tanh"),
                   _finite(_gelu_tanh, special=[NAN, None, None, None, INF, NAN]),
                   _finite(_gelu_tanh_grad, special=[NAN, None, None, None, NAN, NAN])),
    # leaky_relu: x > 0 ? x : x * slope (NaN takes the slope branch, in both loops).
    "leaky_relu(0.1)": (lambda F, x: F.leaky_relu(x, 0.1),
                        [NAN, -0.1, 0, 2, INF, -INF, 6, 3, -0.3],
                        [0.1, 0.1, 0.1, 1, 1, 0.1, 1, 1, 0.1]),
    "softshrink": (lambda F, x: F.softshrink(x, 0.5),
                   [NAN, -0.5, 0, 1.5, INF, -INF, 5.5, 2.5, -2.5],
                   [1, 1, 0, 1, 1, 1, 1, 1, 1]),
    "hardshrink": (lambda F, x: F.hardshrink(x, 0.5),
                   [NAN, -1, 0, 2, INF, -INF, 6, 3, -3],
                   [1, 1, 0, 1, 1, 1, 1, 1, 1]),
    "threshold": (lambda F, x: F.threshold(x, 1.0, -7.0),
                  [NAN, -7, -7, 2, INF, -7, 6, 3, -7],
                  [1, 0, 0, 1, 1, 0, 1, 1, 0]),
    # silu: x * sigmoid(x); -inf * 0 = NaN; backward sigmoid * (1 + x (1 - sigmoid)) is NaN at +-inf.
    "silu": (lambda F, x: F.silu(x),
             _finite(lambda v: v * _sigmoid(v), special=[NAN, None, None, None, INF, NAN]),
             _finite(lambda v: _sigmoid(v) * (1 + v * (1 - _sigmoid(v))), special=[NAN, None, None, None, NAN, NAN])),
    "softplus": (lambda F, x: F.softplus(x),
                 _finite(lambda v: math.log1p(math.exp(v)), special=[NAN, None, None, None, INF, 0]),
                 _finite(_sigmoid, special=[NAN, None, None, None, 1, 0])),
    "sigmoid": (lambda F, x: x.sigmoid(),
                _finite(_sigmoid, special=[NAN, None, None, None, 1, 0]),
                _finite(lambda v: _sigmoid(v) * (1 - _sigmoid(v)), special=[NAN, None, None, None, 0, 0])),
    "tanh": (lambda F, x: x.tanh(),
             _finite(math.tanh, special=[NAN, None, None, None, 1, -1]),
             _finite(lambda v: 1 - math.tanh(v) ** 2, special=[NAN, None, None, None, 0, 0])),
}

# Only compared with torch: their values at the specials follow from the cases above.
TORCH_ONLY = {
    "softplus(beta=2, threshold=5)": lambda F, x: F.softplus(x, beta=2.0, threshold=5.0),
    "softplus(beta=-1)": lambda F, x: F.softplus(x, beta=-1.0),
    "mish": lambda F, x: F.mish(x),
    "logsigmoid": lambda F, x: F.logsigmoid(x),
    "rrelu(eval)": lambda F, x: F.rrelu(x, training=False),
    "tanhshrink": lambda F, x: F.tanhshrink(x),
    "softsign": lambda F, x: F.softsign(x),
}

# Rows for softmax and friends: an inf, two infs, all -inf, a NaN.
ROWS = [[INF, 1.0, 0.0], [INF, INF, 0.0], [-INF, 1.0, 0.0], [-INF, -INF, -INF], [NAN, 1.0, 0.0], [INF, -INF, 2.0]]
ROW_GRAD = [1.0, 2.0, 3.0]


def _ours(call, values, dtype):
    """(forward, gradient) of ``call`` in tinytorch as float64 arrays; any NumPy warning raises."""
    x = tinytorch.tensor(values, dtype=getattr(tinytorch, dtype), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = call(F, x)
        y.backward(tinytorch.ones_like(y))
    return np.asarray(y.detach().tolist(), dtype=np.float64), np.asarray(x.grad.tolist(), dtype=np.float64)


def _theirs(torch, call, values, dtype):
    """(forward, gradient) of ``call`` in torch, one single-element tensor per point (the scalar loop)."""
    ys, gs = [], []
    for v in values:
        x = torch.tensor([v], dtype=getattr(torch, dtype), requires_grad=True)
        y = call(torch.nn.functional, x)
        y.backward(torch.ones_like(y))
        ys.append(y.item())
        gs.append(x.grad.item())
    return np.asarray(ys), np.asarray(gs)


# Exact values against a float32 computation: 1 - s, 1 - t^2 and 1 + tanh cancel, leaving errors
# of a float32 ulp of 1 (6e-8) in absolute terms. The kinks and the special points differ by far
# more than that, and NaN and inf positions are compared exactly.
_FORMULA_ATOL = {"float32": 2e-7, "float64": 1e-15}
# Against torch the same expressions round the same way, except where NumPy's float32 tanh (not
# correctly rounded, one ulp off on about a third of its inputs) or a fused multiply-add in
# PyTorch's kernel (tanh_backward's 1 - y * y, div's backward) gives the last bit otherwise.
# Cancellation magnifies that bit to a few float32 ulps of 1 (gelu(tanh)'(-3): 3.4e-7).
_LAST_BIT_CASES = {"tanh", "softsign", "gelu(tanh)"}
_LAST_BIT_ATOL = {"float32": 5e-7, "float64": 1e-15}


def _assert_close(actual, expected, dtype, what, atol=1e-30):
    np.testing.assert_allclose(actual, np.asarray(expected, dtype=np.float64), equal_nan=True, err_msg=what,
                               rtol=2e-6 if dtype == "float32" else 1e-12, atol=atol)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(CASES))
def test_matches_pytorchs_formulas(name, dtype):
    call, forward, gradient = CASES[name]
    y, g = _ours(call, X, dtype)
    _assert_close(y, forward, dtype, f"{name} forward", atol=_FORMULA_ATOL[dtype])
    _assert_close(g, gradient, dtype, f"{name} gradient", atol=_FORMULA_ATOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(CASES) + list(TORCH_ONLY))
def test_matches_torch(name, dtype):
    torch = pytest.importorskip("torch")
    call = CASES[name][0] if name in CASES else TORCH_ONLY[name]
    values = X + [-0.5, 0.5, -2.5, 2.5, -10.0, 10.0, -25.0, 25.0, 1e-3, -1e-3]
    y, g = _ours(call, values, dtype)
    ty, tg = _theirs(torch, call, values, dtype)
    atol = _LAST_BIT_ATOL[dtype] if name in _LAST_BIT_CASES else 1e-30
    _assert_close(y, ty, dtype, f"{name} forward", atol=atol)
    if name == "hardsigmoid" and dtype == "float64":
        # A deliberate difference (docs/differences.md): PyTorch's slope is the float32 1/6 even
        # in float64, ours is float64's. Every other point, NaN's 0 included, is compared exactly.
        np.testing.assert_array_equal(g == 0, tg == 0)
        np.testing.assert_allclose(g, tg, rtol=1e-7, err_msg=f"{name} gradient")
        return
    _assert_close(g, tg, dtype, f"{name} gradient", atol=atol)


def test_a_nan_gets_the_same_gradient_at_every_position():
    """The fixed cases do not depend on where the NaN sits in a longer tensor (in PyTorch's CPU
    kernels they do: its vectorized loop takes whole SIMD vectors, its scalar loop the rest)."""
    for name in ("relu", "relu6", "hardtanh", "elu", "selu", "celu", "hardswish", "hardsigmoid", "abs"):
        call, forward, gradient = CASES[name]
        values = X * 7
        y, g = _ours(call, values, "float32")
        _assert_close(y, forward * 7, "float32", name, atol=_FORMULA_ATOL["float32"])
        _assert_close(g, gradient * 7, "float32", name, atol=_FORMULA_ATOL["float32"])


# -- softmax rows -------------------------------------------------------------------------------
def _rows_ours(name, dtype):
    x = tinytorch.tensor(ROWS, dtype=getattr(tinytorch, dtype), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = getattr(F, name)(x, dim=1)
        y.backward(tinytorch.tensor([ROW_GRAD] * len(ROWS), dtype=getattr(tinytorch, dtype)))
    return np.asarray(y.detach().tolist()), np.asarray(x.grad.tolist())


def _row_expected():
    """PyTorch's softmax shifts each row by its max, so a row holding +inf (inf - inf = NaN) or only
    -inf is NaN throughout, forward and backward; -inf beside finite values weighs 0."""
    s1, s0 = 1 / (1 + _e(-1)), _e(-1) / (1 + _e(-1))  # softmax([1, 0])
    nan_row = [NAN] * 3
    g = ROW_GRAD
    dot = g[1] * s1 + g[2] * s0  # sum(grad * softmax) of the finite row [-inf, 1, 0]
    softmax = ([nan_row, nan_row, [0, s1, s0], nan_row, nan_row, nan_row],
               [nan_row, nan_row, [0, s1 * (g[1] - dot), s0 * (g[2] - dot)], nan_row, nan_row, nan_row])
    log_softmax = ([nan_row, nan_row, [-INF, -math.log1p(_e(-1)), -1 - math.log1p(_e(-1))], nan_row, nan_row, nan_row],
                   [nan_row, nan_row, [g[0], g[1] - sum(g) * s1, g[2] - sum(g) * s0], nan_row, nan_row, nan_row])
    # softmin(x) = softmax(-x): the rows with +inf (and no -inf) are the finite ones now.
    dot0 = g[1] * s0 + g[2] * s1  # softmax([-inf, -1, 0]) = [0, s0, s1]
    softmin = ([[0, s0, s1], [0, 0, 1], nan_row, nan_row, nan_row, nan_row],
               [[0, -s0 * (g[1] - dot0), -s1 * (g[2] - dot0)], [0, 0, 0], nan_row, nan_row, nan_row, nan_row])
    return {"softmax": softmax, "log_softmax": log_softmax, "softmin": softmin}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
def test_softmax_rows_with_inf_and_nan(name, dtype):
    y, g = _rows_ours(name, dtype)  # raises on any NumPy warning
    forward, gradient = _row_expected()[name]
    _assert_close(y, forward, dtype, f"{name} forward", atol=_FORMULA_ATOL[dtype])
    _assert_close(g, gradient, dtype, f"{name} gradient", atol=_FORMULA_ATOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
def test_softmax_rows_match_torch(name, dtype):
    torch = pytest.importorskip("torch")
    y, g = _rows_ours(name, dtype)
    x = torch.tensor(ROWS, dtype=getattr(torch, dtype), requires_grad=True)
    ty = getattr(torch.nn.functional, name)(x, dim=1)
    ty.backward(torch.tensor([ROW_GRAD] * len(ROWS), dtype=getattr(torch, dtype)))
    _assert_close(y, ty.tolist(), dtype, f"{name} forward", atol=_FORMULA_ATOL[dtype])
    _assert_close(g, x.grad.tolist(), dtype, f"{name} gradient", atol=_FORMULA_ATOL[dtype])


# -- the relu RNN -------------------------------------------------------------------------------
RNN_X = [NAN, -1.0, 2.0, INF, 0.0]


def _relu_rnn_input_grad(lib, cell, create_graph=False):
    """d sum(h) / d x for a one-step relu RNN (or RNNCell) with weight 1 and bias 0 on a batch of
    scalar inputs, so that h = relu(x) element by element."""
    module = (lib.nn.RNNCell(1, 1, nonlinearity="relu") if cell else lib.nn.RNN(1, 1, nonlinearity="relu"))
    with lib.no_grad():
        for name, p in module.named_parameters():
            p.fill_(1.0 if name.startswith("weight") else 0.0)
    x = lib.tensor(RNN_X, dtype=lib.float64).reshape(len(RNN_X), 1)
    if not cell:
        x = x.reshape(1, len(RNN_X), 1)  # (seq, batch, feature)
    x.requires_grad_(True)
    module = module.double()
    h = module(x) if cell else module(x)[0]
    (grad,) = lib.autograd.grad(h.sum(), x, create_graph=create_graph)
    return np.asarray(grad.detach().reshape(-1).tolist())


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("cell", [False, True])
def test_relu_rnn_passes_the_gradient_at_nan(cell, create_graph):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        grad = _relu_rnn_input_grad(tinytorch, cell, create_graph)
    np.testing.assert_array_equal(grad, [1.0, 0.0, 1.0, 1.0, 0.0])


@pytest.mark.parametrize("cell", [False, True])
def test_relu_rnn_matches_torch(cell):
    torch = pytest.importorskip("torch")
    np.testing.assert_array_equal(_relu_rnn_input_grad(tinytorch, cell), _relu_rnn_input_grad(torch, cell))


# -- create_graph keeps the same first derivative ----------------------------------------------
@pytest.mark.parametrize("name", ["relu", "relu6", "elu", "selu", "celu(2)", "hardswish", "hardsigmoid", "gelu", "gelu(tanh)"])
def test_create_graph_gives_the_same_gradient(name):
    call, _, gradient = CASES[name]
    x = tinytorch.tensor(X, dtype=tinytorch.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (g,) = tinytorch.autograd.grad(call(F, x).sum(), x, create_graph=True)
    _assert_close(np.asarray(g.detach().tolist()), gradient, "float64", name, atol=_FORMULA_ATOL["float64"])


@pytest.mark.parametrize("name", ["elu", "selu", "celu(2)", "hardswish", "gelu", "gelu(tanh)"])
def test_second_derivative_matches_torch_at_finite_points(name):
    torch = pytest.importorskip("torch")
    call = CASES[name][0]
    values = [-2.5, -1.0, -0.5, 0.5, 1.0, 2.5]
    results = []
    for lib, functional in ((tinytorch, F), (torch, torch.nn.functional)):
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            (g,) = lib.autograd.grad(call(functional, x).sum(), x, create_graph=True)
            (gg,) = lib.autograd.grad(g.sum(), x)
        results.append(np.asarray(gg.tolist()))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12, atol=1e-15, err_msg=name)
