"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""

from .. import _backend as backend
from ..autograd.grad_mode import no_grad
from .optimizer import Optimizer, _check_tensor_lr, _each_on_its_gpu, _refuse_sparse_grads


class RMSprop(Optimizer):
    """PyTorch's RMSprop: ``v = alpha * v + (1 - alpha) * g**2``; ``p -= lr * g / (sqrt(v) + eps)``;
    ``centered`` subtracts the squared mean gradient from ``v``; ``momentum`` smooths the step."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        _check_tensor_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach, maximize=maximize,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    @no_grad()
    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns the closure's loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            _refuse_sparse_grads(group, "RMSprop does not support sparse gradients")
            lr, alpha, eps = float(group["lr"]), group["alpha"], group["eps"]
            momentum, centered = group["momentum"], group["centered"]
            for p in _each_on_its_gpu(group["params"]):
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = self._step_counter()
                    state["square_avg"] = self._zeros_like(p)
                    if momentum > 0:
                        state["momentum_buffer"] = self._zeros_like(p)
                    if centered:
                        state["grad_avg"] = self._zeros_like(p)
                self._advance(state["step"])
                param, square_avg = p._data, state["square_avg"]._data
                grad = self._grad(p, group["maximize"], group["weight_decay"])
                xp = backend.array_module(param)

                # square_avg = alpha * square_avg + ((1 - alpha) * grad) * grad (addcmul's order)
                square_avg *= alpha
                square = xp.multiply(grad, 1 - alpha, out=self._buffer(param, 1))
                square *= grad
                square_avg += square
                if centered:
                    grad_avg = state["grad_avg"]._data
                    self._lerp(grad_avg, grad, 1 - alpha)
                    avg = xp.multiply(grad_avg, -1, out=self._buffer(param, 1))
                    avg *= grad_avg
                    avg += square_avg
                    xp.sqrt(avg, out=avg)
                else:
                    avg = xp.sqrt(square_avg, out=self._buffer(param, 1))
                avg += eps
                if momentum > 0:
                    buf = state["momentum_buffer"]._data
                    buf *= momentum
                    buf += xp.divide(grad, avg, out=avg)
                    param += xp.multiply(buf, -lr, out=avg)
                else:
                    self._addcdiv(param, grad, avg, -lr)
                p._version[0] += 1
        return loss
