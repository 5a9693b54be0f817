"""ASGD: SGD with a decaying step size and a running (Polyak) average of the iterates."""

import numpy as np

from .. import _backend as backend
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from .optimizer import Optimizer, _check_tensor_lr, _each_on_its_gpu, _refuse_sparse_grads


class ASGD(Optimizer):
    """PyTorch's averaged SGD: ``p = p * (1 - lambd * eta) - eta * g``; from step ``t0`` on, ``ax``
    averages the iterates (``ax += mu * (p - ax)``, before that ``ax = p``); then
    ``eta = lr / (1 + lambd * lr * t)**alpha`` and ``mu = 1 / max(1, t - t0)``.

    ``eta`` and ``mu`` are float32 scalars on the parameter's device, as PyTorch keeps them."""

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None, maximize=False,
                 differentiable=False, capturable=False):
        _check_tensor_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    @staticmethod
    def _scalar_like(p, value):
        with backend.on_device(p.device):
            return Tensor._make(backend.array_module(p._data).full((), value, dtype=np.float32))

    @no_grad()
    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns the closure's loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            _refuse_sparse_grads(group, "ASGD does not support sparse gradients")
            lr, lambd, alpha, t0 = float(group["lr"]), group["lambd"], group["alpha"], group["t0"]
            for p in _each_on_its_gpu(group["params"]):
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = self._step_counter()
                    state["eta"] = self._scalar_like(p, lr)
                    state["mu"] = self._scalar_like(p, 1.0)
                    state["ax"] = self._zeros_like(p)
                step = self._advance(state["step"])
                param, ax = p._data, state["ax"]._data
                grad = self._grad(p, group["maximize"], group["weight_decay"])

                eta = float(state["eta"]._data)  # a device-to-host read on the GPU, as PyTorch's .item()
                param *= 1 - lambd * eta
                backend.add_scaled_(param, grad, -eta)

                mu = state["mu"]._data
                if float(mu) != 1:
                    # ax += (p - ax) * mu, with mu as stored (float32 unless loaded onto a float64 param)
                    difference = backend.array_module(param).subtract(param, ax, out=self._buffer(param, 1))
                    difference *= mu.astype(param.dtype, copy=False)
                    ax += difference
                else:
                    backend.array_module(ax).copyto(ax, param)

                state["eta"]._data[...] = lr / ((1 + lambd * lr * step) ** alpha)
                state["mu"]._data[...] = 1 / max(1, step - t0)
                p._version[0] += 1
        return loss
