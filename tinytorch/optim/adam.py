"""Adam (and the decoupled weight decay that AdamW switches on)."""

from .. import _backend as backend
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from .optimizer import Optimizer, _check_tensor_lr, _each_on_its_gpu, _refuse_sparse_grads


class Adam(Optimizer):
    """PyTorch's Adam: moving averages ``m``, ``v`` of the gradient and its square, bias-corrected;
    ``p -= lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)``."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        _check_tensor_lr(lr)
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
        if not (all(isinstance(b, float) for b in betas[:2]) or all(isinstance(b, Tensor) for b in betas[:2])):
            raise ValueError("betas must be either both floats or both Tensors")
        for index, beta in enumerate(betas[:2]):
            if isinstance(beta, Tensor) and beta.numel() != 1:
                raise ValueError(f"Tensor betas[{index}] must be 1-element")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable, differentiable=differentiable,
                        fused=fused, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    @no_grad()
    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns the closure's loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            _refuse_sparse_grads(group, "Adam does not support sparse gradients, please consider SparseAdam instead")
            lr, eps, amsgrad = float(group["lr"]), group["eps"], group["amsgrad"]
            beta1, beta2 = (float(b) for b in group["betas"])
            weight_decay, decoupled = group["weight_decay"], group["decoupled_weight_decay"]
            for p in _each_on_its_gpu(group["params"]):
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = self._step_counter()
                    state["exp_avg"] = self._zeros_like(p)
                    state["exp_avg_sq"] = self._zeros_like(p)
                    if amsgrad:
                        state["max_exp_avg_sq"] = self._zeros_like(p)
                step = self._advance(state["step"])
                param, exp_avg, exp_avg_sq = p._data, state["exp_avg"]._data, state["exp_avg_sq"]._data
                if weight_decay != 0 and decoupled:
                    param *= 1 - lr * weight_decay
                grad = self._grad(p, group["maximize"], 0 if decoupled else weight_decay)
                xp = backend.array_module(param)

                self._lerp(exp_avg, grad, 1 - beta1)
                # exp_avg_sq = beta2 * exp_avg_sq + ((1 - beta2) * grad) * grad (addcmul's order)
                exp_avg_sq *= beta2
                square = xp.multiply(grad, 1 - beta2, out=self._buffer(param, 1))
                square *= grad
                exp_avg_sq += square

                step_size = lr / (1 - beta1**step)
                bias_correction2_sqrt = (1 - beta2**step) ** 0.5
                if amsgrad:
                    second_moment = state["max_exp_avg_sq"]._data
                    xp.maximum(second_moment, exp_avg_sq, out=second_moment)
                else:
                    second_moment = exp_avg_sq
                denom = xp.sqrt(second_moment, out=self._buffer(param, 1))
                denom /= bias_correction2_sqrt
                denom += eps
                self._addcdiv(param, exp_avg, denom, -step_size)  # grad (maybe slot 0) is no longer needed
                p._version[0] += 1
        return loss
