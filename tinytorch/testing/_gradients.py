"""Gradient checks shared by tinytorch's own op table and by ``tinytorch.testing.check_op``."""

import numpy as np

from .. import autograd
from .._backend import to_numpy
from .._tensor import Tensor
from ..autograd.gradcheck import _central_differences


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def float_outputs(fn, inputs, kwargs):
    return [o for o in _as_tuple(fn(*inputs, **kwargs)) if isinstance(o, Tensor) and o.dtype.is_floating_point]


def projected_loss(outputs, weights):
    """sum_k <outputs_k, weights_k>: a scalar whose gradient is the vector-Jacobian product."""
    total = None
    for out, w in zip(outputs, weights):
        term = (out * Tensor._make(w)).sum()
        total = term if total is None else total + term
    return total


def finite_difference_gradients(fn, arrays, kwargs, differentiable, weights, eps=1e-6):
    """d(projected loss)/d(input) by float64 central differences, one element at a time."""
    def loss_value():
        with autograd.no_grad():
            inputs = [Tensor._make(a) if isinstance(a, np.ndarray) else a for a in arrays]
            outs = float_outputs(fn, inputs, kwargs)
            return float(sum(float(to_numpy((o * Tensor._make(w)).sum()._data)) for o, w in zip(outs, weights)))

    grads = []
    for i in differentiable:
        flat = arrays[i].reshape(-1)
        grads.append(_central_differences(loss_value, flat, eps, np.zeros(flat.size)).reshape(arrays[i].shape))
    return grads


def analytical_gradients(fn, arrays, kwargs, differentiable, weights, create_graph=False):
    """Gradients of the projected loss by tinytorch's autograd (None where no gradient flows)."""
    inputs = [Tensor._make(a.copy()) if isinstance(a, np.ndarray) else a for a in arrays]
    for i in differentiable:
        inputs[i].requires_grad_(True)
    outs = float_outputs(fn, inputs, kwargs)
    loss = projected_loss(outs, weights)
    if loss is None or not loss.requires_grad:
        return [None for _ in differentiable], inputs, loss
    grads = autograd.grad(loss, [inputs[i] for i in differentiable], allow_unused=True, create_graph=create_graph)
    return list(grads), inputs, loss


def output_weights(fn, arrays, kwargs, rng):
    inputs = [Tensor._make(a) if isinstance(a, np.ndarray) else a for a in arrays]
    with autograd.no_grad():
        outs = float_outputs(fn, inputs, kwargs)
    return [rng.standard_normal(o.shape) for o in outs]


def check_gradients(fn, arrays, kwargs, differentiable, rng, atol=1e-5, rtol=1e-3):
    """Raise AssertionError when autograd and central differences disagree (float64 inputs)."""
    weights = output_weights(fn, arrays, kwargs, rng)
    numeric = finite_difference_gradients(fn, arrays, kwargs, differentiable, weights)
    analytic, _, _ = analytical_gradients(fn, arrays, kwargs, differentiable, weights)
    for i, num, ana in zip(differentiable, numeric, analytic):
        got = np.zeros_like(num) if ana is None else to_numpy(ana._data)
        if got.shape != num.shape:
            raise AssertionError(f"gradient of input {i} has shape {got.shape}, expected {num.shape}")
        if not np.allclose(got, num, atol=atol, rtol=rtol):
            worst = np.abs(got - num).max()
            raise AssertionError(
                f"gradient of input {i} disagrees with finite differences (max abs error {worst:.3g})\n"
                f"autograd:\n{got}\nfinite differences:\n{num}"
            )
