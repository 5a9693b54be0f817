"""Adadelta: steps scaled by the ratio of two running root-mean-squares (of updates and of gradients)."""

import functools

from .. import _backend as backend
from ..autograd.grad_mode import no_grad
from .optimizer import Optimizer, _each_on_its_gpu, _per_core, _refuse_sparse_grads


class Adadelta(Optimizer):
    """PyTorch's Adadelta: ``v = rho * v + (1 - rho) * g**2``;
    ``delta = sqrt(u + eps) / sqrt(v + eps) * g``; ``u = rho * u + (1 - rho) * delta**2``;
    ``p -= lr * delta``."""

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False, maximize=False,
                 differentiable=False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize, capturable=capturable,
                        foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    @no_grad()
    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns the closure's loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            _refuse_sparse_grads(group, "Adadelta does not support sparse gradients")
            lr, rho, eps = float(group["lr"]), group["rho"], group["eps"]
            for p in _each_on_its_gpu(group["params"]):
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = self._step_counter()
                    state["square_avg"] = self._zeros_like(p)
                    state["acc_delta"] = self._zeros_like(p)
                self._advance(state["step"])
                grad = self._grad(p, group["maximize"], group["weight_decay"])
                xp = backend.array_module(p._data)

                # Every pass over each core's piece of a large parameter, on its core.
                _per_core(functools.partial(_passes, xp=xp, rho=rho, eps=eps, lr=lr), p._data, grad, state["square_avg"]._data, state["acc_delta"]._data,
                          self._buffer(p._data, 1), self._buffer(p._data, 2))
                p._version[0] += 1
        return loss


def _passes(param, grad, square_avg, acc_delta, std, delta, *, xp, rho, eps, lr):
    """One parameter's update (or a piece of it), in PyTorch's order of operations; ``std`` and
    ``delta`` are scratch."""
    # square_avg = rho * square_avg + ((1 - rho) * grad) * grad (addcmul's order)
    square_avg *= rho
    square = xp.multiply(grad, 1 - rho, out=std)
    square *= grad
    square_avg += square
    xp.add(square_avg, eps, out=std)
    xp.sqrt(std, out=std)
    xp.add(acc_delta, eps, out=delta)
    xp.sqrt(delta, out=delta)
    delta /= std
    delta *= grad
    acc_delta *= rho
    square = xp.multiply(delta, 1 - rho, out=std)
    square *= delta
    acc_delta += square
    delta *= -lr
    param += delta
