"""NAdam: Adam with Nesterov momentum (and the momentum schedule of Dozat's paper)."""

import numpy as np

from .. import _backend as backend
from ..autograd.grad_mode import no_grad
from .._tensor import Tensor
from .optimizer import Optimizer, _each_on_its_gpu, _refuse_sparse_grads


class NAdam(Optimizer):
    """PyTorch's NAdam: Adam's moments, with ``mu_t = beta1 (1 - 0.96**(t * momentum_decay) / 2)``;
    ``p -= lr ((1 - mu_t) / (1 - prod mu) g + mu_{t+1} / (1 - prod mu * mu_{t+1}) m) / (sqrt(v_hat) + eps)``."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False, differentiable=False):
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
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    @no_grad()
    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns the closure's loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            _refuse_sparse_grads(group, "NAdam does not support sparse gradients")
            lr, eps, momentum_decay = float(group["lr"]), group["eps"], group["momentum_decay"]
            beta1, beta2 = (float(b) for b in group["betas"])
            weight_decay, decoupled = group["weight_decay"], group["decoupled_weight_decay"]
            for p in _each_on_its_gpu(group["params"]):
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = self._step_counter()
                    # A CPU scalar like the step (float32, as PyTorch's: the product accumulates in it).
                    state["mu_product"] = Tensor._make(np.ones((), dtype=np.float32))
                    state["exp_avg"] = self._zeros_like(p)
                    state["exp_avg_sq"] = self._zeros_like(p)
                step = self._advance(state["step"])
                param, exp_avg, exp_avg_sq = p._data, state["exp_avg"]._data, state["exp_avg_sq"]._data
                mu_product = state["mu_product"]._data
                if weight_decay != 0 and decoupled:
                    param *= 1 - lr * weight_decay
                grad = self._grad(p, group["maximize"], 0 if decoupled else weight_decay)
                xp = backend.array_module(param)

                bias_correction2 = 1 - beta2**step
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
                mu_product *= mu
                product = float(mu_product)
                self._lerp(exp_avg, grad, 1 - beta1)
                exp_avg_sq *= beta2
                square = xp.multiply(grad, 1 - beta2, out=self._buffer(param, 1))
                square *= grad
                exp_avg_sq += square
                denom = xp.divide(exp_avg_sq, bias_correction2, out=self._buffer(param, 1))
                xp.sqrt(denom, out=denom)
                denom += eps
                self._addcdiv(param, grad, denom, -lr * (1.0 - mu) / (1.0 - product))
                self._addcdiv(param, exp_avg, denom, (-lr * mu_next) / (1.0 - product * mu_next))
                p._version[0] += 1
        return loss
