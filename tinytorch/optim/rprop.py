"""Rprop: resilient backpropagation, steps of a per-coordinate size that only the gradient's sign steers."""

from .. import _backend as backend
from ..autograd.grad_mode import no_grad
from .optimizer import Optimizer, _check_tensor_lr, _each_on_its_gpu, _refuse_sparse_grads


class Rprop(Optimizer):
    """PyTorch's Rprop: where the gradient keeps its sign the step size grows by ``etas[1]``, where
    it flips the step size shrinks by ``etas[0]`` (and that coordinate skips this step), clamped
    to ``step_sizes``; ``p -= sign(g) * step_size``."""

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        _check_tensor_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    @no_grad()
    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns the closure's loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            _refuse_sparse_grads(group, "Rprop does not support sparse gradients")
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            for p in _each_on_its_gpu(group["params"]):
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = self._step_counter()
                    state["prev"] = self._zeros_like(p)
                    state["step_size"] = self._zeros_like(p)
                    state["step_size"]._data.fill(float(group["lr"]))
                self._advance(state["step"])
                param, prev, step_size = p._data, state["prev"]._data, state["step_size"]._data
                grad = self._grad(p, group["maximize"], 0)  # -grad (scratch slot 0) when maximizing
                xp = backend.array_module(param)

                # The factor per coordinate, from the sign of grad * prev as PyTorch writes it: a
                # NaN product is neither > 0 nor < 0 (PyTorch's sign(NaN) is 0), so its factor is 1.
                factor = xp.multiply(grad, prev, out=self._buffer(param, 1))
                # copyto with where=, not boolean indexing: CuPy's masked assignment waits on the GPU.
                grown, flipped = factor > 0, factor < 0
                factor.fill(1)
                xp.copyto(factor, etaplus, where=grown)
                xp.copyto(factor, etaminus, where=flipped)
                step_size *= factor
                xp.clip(step_size, step_size_min, step_size_max, out=step_size)

                # Where the sign flipped the gradient counts as 0: no step now, and no flip next time.
                xp.copyto(prev, grad)
                xp.copyto(prev, 0, where=flipped)
                direction = xp.sign(prev, out=factor)
                xp.copyto(direction, 0, where=direction != direction)  # sign(NaN) is 0: no step there
                direction *= step_size
                param -= direction
                p._version[0] += 1
        return loss
