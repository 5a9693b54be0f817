"""Adafactor: Adam-like steps without the first moment, and with the second moment of a matrix
kept as row and column factors (memory per matrix: rows + columns, not rows x columns)."""

import math

import numpy as np

from .. import _backend as backend
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from .optimizer import Optimizer, _each_on_its_gpu, _refuse_sparse_grads


class Adafactor(Optimizer):
    """PyTorch's Adafactor (``torch.optim.Adafactor``): at step ``t`` the second-moment estimate
    moves towards ``g**2`` with weight ``t**beta2_decay``; for a gradient of two or more dimensions
    it is the outer product of its row and column means (factored over the last two dimensions),
    divided by the mean of the row factor. The update ``g / sqrt(v)`` is scaled down to an RMS of at
    most ``d``; the step is ``max(eps[1], RMS(p)) * min(lr, 1 / sqrt(t))`` times that update.
    ``weight_decay`` is decoupled (``p *= 1 - lr * weight_decay``); ``eps[0]`` None means the
    parameter dtype's machine epsilon."""

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, *,
                 foreach=None, maximize=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _init_state(self, state, grad):
        xp = backend.array_module(grad)
        state["step"] = self._step_counter()
        with backend.on_device(backend.device_of(grad)):
            if grad.ndim > 1:
                # Row and column factors: the means over the last and over the second-to-last dimension.
                state["row_var"] = Tensor._make(xp.zeros(grad.shape[:-1] + (1,), dtype=grad.dtype))
                state["col_var"] = Tensor._make(xp.zeros(grad.shape[:-2] + (1, grad.shape[-1]), dtype=grad.dtype))
            else:
                state["variance"] = Tensor._make(xp.zeros_like(grad))

    @no_grad()
    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns the closure's loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            _refuse_sparse_grads(group, "Adafactor does not support sparse gradients")
            lr, beta2_decay, d, weight_decay = float(group["lr"]), group["beta2_decay"], group["d"], group["weight_decay"]
            eps1, eps2 = group["eps"]
            for p in _each_on_its_gpu(group["params"]):
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    self._init_state(state, p.grad._data)
                # As PyTorch: the first parameter's epsilon stands for the rest of its group.
                if eps1 is None:
                    eps1 = float(np.finfo(p._data.dtype).eps)
                step = self._advance(state["step"])
                param = p._data
                grad = self._grad(p, group["maximize"], 0)  # -grad (scratch slot 0) when maximizing
                xp = backend.array_module(param)

                one_minus_beta2_t = step**beta2_decay
                rho_t = min(lr, 1 / (step**0.5))
                alpha = max(eps2, float(xp.linalg.norm(param)) / (param.size**0.5)) * rho_t
                if weight_decay != 0:
                    param *= 1 - lr * weight_decay

                square = xp.multiply(grad, grad, out=self._buffer(param, 2))
                if grad.ndim > 1:
                    row_var, col_var = state["row_var"]._data, state["col_var"]._data
                    row_mean = square.sum(axis=-1, keepdims=True)
                    row_mean /= grad.shape[-1]
                    self._lerp(row_var, row_mean, one_minus_beta2_t)
                    col_mean = square.sum(axis=-2, keepdims=True)
                    col_mean /= grad.shape[-2]
                    self._lerp(col_var, col_mean, one_minus_beta2_t)
                    estimate = xp.matmul(row_var, col_var, out=square)
                    estimate /= xp.maximum(row_var.mean(axis=-2, keepdims=True), eps1)
                else:
                    variance = state["variance"]._data
                    self._lerp(variance, square, one_minus_beta2_t)
                    xp.copyto(square, variance)  # the estimate, in scratch: variance itself stays
                    estimate = square
                # eps1 squared: the square root below brings it back to eps1's magnitude.
                xp.maximum(estimate, eps1 * eps1, out=estimate)
                xp.sqrt(estimate, out=estimate)
                update = xp.divide(1, estimate, out=estimate)
                update *= grad
                denom = max(1.0, float(xp.linalg.norm(update)) / (math.sqrt(update.size) * d))
                backend.add_scaled_(param, update, -alpha / denom)
                p._version[0] += 1
        return loss
