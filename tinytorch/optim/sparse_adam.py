"""SparseAdam: Adam for dense parameters with sparse gradients (``nn.Embedding(sparse=True)``)."""

import math

from .. import _backend as backend
from .._sparse_coo import _coalesced_arrays
from ..autograd.grad_mode import no_grad
from .optimizer import Optimizer, _check_tensor_lr, _each_on_its_gpu


class SparseAdam(Optimizer):
    """PyTorch's SparseAdam: Adam's moments and parameter updated only at the rows a sparse
    gradient stores; the other rows, and their moments, stay as they are (a masked Adam)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        _check_tensor_lr(lr)
        if not 0.0 < lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, maximize=maximize))
        sparse_params, complex_params = [], []
        for index, group in enumerate(self.param_groups):
            for d_index, param in enumerate(group["params"]):
                if param.is_sparse:
                    sparse_params.append([index, d_index])
                if param.is_complex():
                    complex_params.append([index, d_index])
        if sparse_params:
            raise ValueError(f"Sparse params at indices {sparse_params}: SparseAdam requires dense parameter tensors")
        if complex_params:
            raise ValueError(f"Complex params at indices {complex_params}: SparseAdam does not support complex parameters")

    @no_grad()
    def step(self, closure=None):
        """One update of every parameter that has a (sparse) gradient; returns the closure's loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, eps, maximize = float(group["lr"]), group["eps"], group.get("maximize", False)
            # PyTorch checks a group's gradients (and counts their steps) before updating any of it.
            with_grad = [p for p in group["params"] if p.grad is not None]
            for p in _each_on_its_gpu(with_grad):
                if not p.grad.is_sparse:
                    raise RuntimeError("SparseAdam does not support dense gradients, please consider Adam instead")
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0  # a Python int, as PyTorch's SparseAdam keeps it
                    state["exp_avg"] = self._zeros_like(p)
                    state["exp_avg_sq"] = self._zeros_like(p)
                state["step"] += 1
            for p in _each_on_its_gpu(with_grad):
                state = self.state[p]
                self._update(p, state["exp_avg"]._data, state["exp_avg_sq"]._data, state["step"],
                             lr, beta1, beta2, eps, maximize)
        return loss

    @staticmethod
    def _update(p, exp_avg, exp_avg_sq, step, lr, beta1, beta2, eps, maximize):
        """PyTorch's ``_functional.sparse_adam`` for one parameter, on the coalesced gradient
        (the update is not linear, so duplicate rows are summed first)."""
        indices, grad = _coalesced_arrays(p.grad._data)
        if grad.shape[0] == 0:  # nothing stored: nothing moves
            return
        if maximize:
            grad = -grad
        rows = tuple(indices)  # unique: fancy-index updates are safe
        # old <- b * old + (1 - b) * new, written as old += (1 - b) * (new - old), as PyTorch does
        old_exp_avg = exp_avg[rows]
        exp_avg_update = (grad - old_exp_avg) * (1 - beta1)
        exp_avg[rows] += exp_avg_update
        old_exp_avg_sq = exp_avg_sq[rows]
        exp_avg_sq_update = (grad * grad - old_exp_avg_sq) * (1 - beta2)
        exp_avg_sq[rows] += exp_avg_sq_update
        numerator = exp_avg_update + old_exp_avg
        denominator = backend.array_module(grad).sqrt(exp_avg_sq_update + old_exp_avg_sq) + eps
        step_size = lr * math.sqrt(1 - beta2**step) / (1 - beta1**step)
        p._data[rows] += -step_size * (numerator / denominator)
        p._version[0] += 1
