"""RAdam: Adam whose adaptive step is switched on, and rectified, once the variance estimate is reliable."""

from .. import _backend as backend
from ..autograd.grad_mode import no_grad
from .optimizer import Optimizer, _each_on_its_gpu, _refuse_sparse_grads


class RAdam(Optimizer):
    """PyTorch's RAdam: Adam's moments; with ``rho_t`` the length of the approximated simple moving
    average, ``p -= lr * m_hat * sqrt(1 - beta2**t) / (sqrt(v) + eps) * r_t`` once ``rho_t > 5``
    (``r_t`` the variance rectification), and ``p -= lr * m_hat`` (momentum SGD) before."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False):
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
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    @no_grad()
    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns the closure's loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            _refuse_sparse_grads(group, "RAdam does not support sparse gradients")
            lr, eps = float(group["lr"]), group["eps"]
            beta1, beta2 = (float(b) for b in group["betas"])
            weight_decay, decoupled = group["weight_decay"], group["decoupled_weight_decay"]
            rho_inf = 2 / (1 - beta2) - 1  # the longest the approximated SMA gets
            for p in _each_on_its_gpu(group["params"]):
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = self._step_counter()
                    state["exp_avg"] = self._zeros_like(p)
                    state["exp_avg_sq"] = self._zeros_like(p)
                step = self._advance(state["step"])
                param, exp_avg, exp_avg_sq = p._data, state["exp_avg"]._data, state["exp_avg_sq"]._data
                if weight_decay != 0 and decoupled:
                    param *= 1 - lr * weight_decay
                grad = self._grad(p, group["maximize"], 0 if decoupled else weight_decay)
                xp = backend.array_module(param)

                self._lerp(exp_avg, grad, 1 - beta1)
                exp_avg_sq *= beta2
                square = xp.multiply(grad, 1 - beta2, out=self._buffer(param, 1))
                square *= grad
                exp_avg_sq += square
                bias_correction1 = 1 - beta1**step
                bias_correction2 = 1 - beta2**step
                rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
                # The gradient (maybe in slot 0) is no longer needed: slot 0 holds the update.
                update = xp.divide(exp_avg, bias_correction1, out=self._buffer(param, 0))
                update *= lr
                if rho_t > 5.0:  # the variance is tractable: the adaptive, rectified step
                    adaptive = xp.sqrt(exp_avg_sq, out=self._buffer(param, 1))
                    adaptive += eps
                    xp.divide(bias_correction2**0.5, adaptive, out=adaptive)
                    update *= adaptive
                    update *= ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                param -= update
                p._version[0] += 1
        return loss
