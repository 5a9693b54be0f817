"""Adagrad: per-coordinate learning rates from the sum of all past squared gradients."""

from .. import _backend as backend
from .._sparse_coo import _coalesced_arrays
from ..autograd.grad_mode import no_grad
from .optimizer import Optimizer, _check_tensor_lr, _each_on_its_gpu, _refuse_sparse_grads


class Adagrad(Optimizer):
    """PyTorch's Adagrad: ``sum += g**2``; ``p -= lr / (1 + (t - 1) * lr_decay) * g / (sqrt(sum) + eps)``."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, foreach=None, *,
                 maximize=False, differentiable=False, fused=None):
        _check_tensor_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        # PyTorch creates Adagrad's state eagerly, so a fresh optimizer's state_dict already has it.
        for group in self.param_groups:
            for p in _each_on_its_gpu(group["params"]):
                self._init_state(p, group)

    def _init_state(self, p, group):
        state = self.state[p]
        state["step"] = self._step_counter()
        state["sum"] = self._zeros_like(p)
        state["sum"]._data += group["initial_accumulator_value"]

    @no_grad()
    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns the closure's loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, lr_decay, eps = float(group["lr"]), group["lr_decay"], group["eps"]
            if group["fused"]:
                _refuse_sparse_grads(group, "`fused` does not support sparse grad or complex param")
            for p in _each_on_its_gpu(group["params"]):
                if p.grad is None:
                    continue
                if len(self.state[p]) == 0:  # a group added after construction
                    self._init_state(p, group)
                state = self.state[p]
                step = self._advance(state["step"])
                if p.grad.is_sparse:
                    self._sparse_update(p, state["sum"]._data, lr / (1 + (step - 1) * lr_decay), eps, group)
                    continue
                param, state_sum = p._data, state["sum"]._data
                grad = self._grad(p, group["maximize"], group["weight_decay"])
                xp = backend.array_module(param)

                clr = lr / (1 + (step - 1) * lr_decay)
                square = xp.multiply(grad, grad, out=self._buffer(param, 1))
                state_sum += square
                std = xp.sqrt(state_sum, out=square)
                std += eps
                self._addcdiv(param, grad, std, -clr)
                p._version[0] += 1
        return loss

    @staticmethod
    def _sparse_update(p, state_sum, clr, eps, group):
        """PyTorch's update for a sparse gradient: only the stored rows (duplicates summed first,
        as the update is not linear) of the sum and of the parameter change."""
        if group["weight_decay"] != 0:
            raise RuntimeError("weight_decay option is not compatible with sparse gradients")
        indices, values = _coalesced_arrays(p.grad._data)
        if group["maximize"]:
            values = -values
        rows = tuple(indices)  # unique after coalescing: fancy-index updates are safe
        state_sum[rows] += values * values
        std = backend.array_module(state_sum).sqrt(state_sum[rows])
        std += eps
        p._data[rows] += -clr * (values / std)
        p._version[0] += 1
