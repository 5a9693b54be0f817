"""Adam (and the decoupled weight decay that AdamW switches on)."""

from .. import _backend as backend
from .._dtypes import cpp_type_name
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from . import _flat_state
from .optimizer import PER_CORE_MIN, Optimizer, _addcdiv_parts, _check_tensor_lr, _lerp_parts, _refuse_sparse_grads


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
            params = [p for p in group["params"] if p.grad is not None]
            names = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq") if group["amsgrad"] else ("exp_avg", "exp_avg_sq")
            for p in params:
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = self._step_counter()
                    state["exp_avg"] = self._zeros_like(p)
                    state["exp_avg_sq"] = self._zeros_like(p)
                    if group["amsgrad"]:
                        state["max_exp_avg_sq"] = self._zeros_like(p)
                kept, given = state["exp_avg"]._data.dtype, p.grad._data.dtype
                if kept != given:  # the model cast after a step: PyTorch's lerp_ refuses, before any update here
                    raise RuntimeError(f"expected dtype {cpp_type_name(kept)} for `end` but got dtype {cpp_type_name(given)}")
            for run in _flat_state.runs(self, params, names, _step_count):
                with backend.on_device(run.device):
                    self._update(run, group)
        return loss

    def _update(self, run, group):
        """Adam's update of one run of parameters (their state in flat arrays; see _flat_state):
        PyTorch's single-tensor formulas, with each pass that touches only state and scratch made
        once over the run."""
        lr, eps, amsgrad = float(group["lr"]), group["eps"], group["amsgrad"]
        beta1, beta2 = (float(b) for b in group["betas"])
        weight_decay, decoupled = group["weight_decay"], group["decoupled_weight_decay"]
        step = [self._advance(state["step"]) for state in run.states][0]
        exp_avg, exp_avg_sq = run.flats["exp_avg"], run.flats["exp_avg_sq"]
        xp = backend.array_module(exp_avg)
        difference, differences = run.scratch(self, 1)
        square, squares = run.scratch(self, 0)
        if weight_decay != 0 and decoupled:
            for p in run.params:
                p._data *= 1 - lr * weight_decay
        outs = run.scratch(self, 2)[1] if group["maximize"] or (weight_decay and not decoupled) else [None] * len(run.params)
        grads = [self._grad(p, group["maximize"], 0 if decoupled else weight_decay, out)
                 for p, out in zip(run.params, outs)]

        step_size = lr / (1 - beta1**step)
        bias_correction2_sqrt = (1 - beta2**step) ** 0.5
        flats = {"exp_avg": (exp_avg, run.views["exp_avg"]), "exp_avg_sq": (exp_avg_sq, run.views["exp_avg_sq"]),
                 "difference": (difference, differences), "square": (square, squares)}
        if amsgrad:
            flats["max_exp_avg_sq"] = (run.flats["max_exp_avg_sq"], run.views["max_exp_avg_sq"])

        def passes(cut):
            flat, parts = cut.flat, cut.parts
            _lerp_parts(flat["exp_avg"], parts["exp_avg"], parts["grad"], 1 - beta1, flat["difference"], parts["difference"])
            # exp_avg_sq = beta2 * exp_avg_sq + ((1 - beta2) * grad) * grad (addcmul's order)
            for grad, s in zip(parts["grad"], parts["square"]):
                xp.multiply(grad, 1 - beta2, out=s)
                s *= grad
            second_moment = flat["exp_avg_sq"]
            second_moment *= beta2
            second_moment += flat["square"]
            if amsgrad:
                second_moment = xp.maximum(flat["max_exp_avg_sq"], second_moment, out=flat["max_exp_avg_sq"])
            denom = xp.sqrt(second_moment, out=flat["difference"])
            denom /= bias_correction2_sqrt
            denom += eps
            _addcdiv_parts(parts["param"], flat["exp_avg"], denom, -step_size, flat["square"], parts["square"])

        # Every pass over each core's piece of the run, on its core (tinytorch/_threads.py).
        _flat_state.update(run, flats, {"grad": grads, "param": [p._data for p in run.params]}, passes, PER_CORE_MIN)
        for p in run.params:
            p._version[0] += 1


def _step_count(state):
    return float(state["step"]._data)
