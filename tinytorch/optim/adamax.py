"""Adamax: Adam with the infinity norm of past gradients in place of their root-mean-square."""

from .. import _backend as backend
from ..autograd.grad_mode import no_grad
from .optimizer import Optimizer, _each_on_its_gpu, _refuse_sparse_grads


class Adamax(Optimizer):
    """PyTorch's Adamax: ``m = beta1 * m + (1 - beta1) * g``; ``u = max(beta2 * u, |g| + eps)``;
    ``p -= lr / (1 - beta1**t) * m / u``."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *, maximize=False,
                 differentiable=False, capturable=False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    @no_grad()
    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns the closure's loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            _refuse_sparse_grads(group, "Adamax does not support sparse gradients")
            lr, eps = float(group["lr"]), group["eps"]
            beta1, beta2 = (float(b) for b in group["betas"])
            for p in _each_on_its_gpu(group["params"]):
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = self._step_counter()
                    state["exp_avg"] = self._zeros_like(p)
                    state["exp_inf"] = self._zeros_like(p)
                step = self._advance(state["step"])
                param, exp_avg, exp_inf = p._data, state["exp_avg"]._data, state["exp_inf"]._data
                grad = self._grad(p, group["maximize"], group["weight_decay"])
                xp = backend.array_module(param)

                self._lerp(exp_avg, grad, 1 - beta1)
                exp_inf *= beta2
                bound = xp.abs(grad, out=self._buffer(param, 1))
                bound += eps
                xp.maximum(exp_inf, bound, out=exp_inf)
                self._addcdiv(param, exp_avg, exp_inf, -lr / (1 - beta1**step))
                p._version[0] += 1
        return loss
