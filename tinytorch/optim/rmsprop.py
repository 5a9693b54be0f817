"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""

import functools

from .. import _backend as backend
from ..autograd.grad_mode import no_grad
from .optimizer import Optimizer, _addcdiv_parts, _check_tensor_lr, _each_on_its_gpu, _lerp_parts, _per_core, _refuse_sparse_grads


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
                grad = self._grad(p, group["maximize"], group["weight_decay"])
                states = [state["square_avg"]._data]
                if centered:
                    states.append(state["grad_avg"]._data)
                if momentum > 0:
                    states.append(state["momentum_buffer"]._data)
                # Every pass over each core's piece of a large parameter, on its core.
                _per_core(functools.partial(_passes, xp=backend.array_module(p._data), lr=lr, alpha=alpha, eps=eps,
                                            momentum=momentum, centered=centered),
                          p._data, grad, self._buffer(p._data, 0), self._buffer(p._data, 1), *states)
                p._version[0] += 1
        return loss


def _passes(param, grad, update, scratch, square_avg, *states, xp, lr, alpha, eps, momentum, centered):
    """One parameter's update (or a piece of it), in PyTorch's order of operations: ``states`` are
    ``grad_avg`` (centered) and ``momentum_buffer`` (momentum), in that order; ``update`` and
    ``scratch`` are scratch (``grad`` may be ``update``: it is read before ``update`` is written)."""
    # square_avg = alpha * square_avg + ((1 - alpha) * grad) * grad (addcmul's order)
    square_avg *= alpha
    square = xp.multiply(grad, 1 - alpha, out=scratch)
    square *= grad
    square_avg += square
    if centered:
        grad_avg = states[0]
        _lerp_parts(grad_avg, [grad_avg], [grad], 1 - alpha, scratch, [scratch])
        avg = xp.multiply(grad_avg, -1, out=scratch)
        avg *= grad_avg
        avg += square_avg
        xp.sqrt(avg, out=avg)
    else:
        avg = xp.sqrt(square_avg, out=scratch)
    avg += eps
    if momentum > 0:
        buf = states[-1]
        buf *= momentum
        buf += xp.divide(grad, avg, out=avg)
        param += xp.multiply(buf, -lr, out=avg)
    else:
        _addcdiv_parts([param], grad, avg, -lr, update, [update])
