"""Muon: momentum SGD whose update is orthogonalized by a Newton-Schulz iteration (2-D parameters only)."""

import math

import numpy as np

from .. import _backend as backend
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from .optimizer import Optimizer, _each_on_its_gpu

# Keller Jordan's constants, as torch.optim.Muon has them.
EPS = 1e-7
DEFAULT_A = 3.4445
DEFAULT_B = -4.7750
DEFAULT_C = 2.0315
DEFAULT_NS_STEPS = 5


def _round_to_bfloat16(array):
    """Round a float32 array to the nearest bfloat16 value (ties to even), in place, and return it.

    NOTE: PyTorch runs the Newton-Schulz iteration in bfloat16 on every device; tinytorch has no
    bfloat16 dtype, so each step is computed in float32 and rounded as a bfloat16 result would
    be. On small matrices this gives PyTorch's CPU results bit for bit; on larger ones the sums of
    the matrix products run in another order and an element can differ by a bfloat16 ulp."""
    xp = backend.array_module(array)
    bits = array.view(xp.uint32)
    nan = xp.isnan(array)  # adding the rounding bias could carry a NaN's payload into the sign bit
    bits += xp.uint32(0x7FFF) + ((bits >> 16) & xp.uint32(1))
    bits &= xp.uint32(0xFFFF0000)
    array[nan] = xp.nan
    return array


def _zeropower_via_newtonschulz(grad, ns_coefficients, ns_steps, eps):
    """``ns_steps`` quintic Newton-Schulz iterations towards the orthogonal factor of ``grad``
    (an array; float32 values on the bfloat16 grid come back)."""
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if grad.ndim != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = ns_coefficients
    xp = backend.array_module(grad)
    ortho = _round_to_bfloat16(grad.astype(np.float32, copy=True))
    tall = grad.shape[0] > grad.shape[1]
    if tall:  # iterate on the wide orientation: the Gram matrix is then the smaller one
        ortho = ortho.T
    # Scale the spectral norm to at most 1 (the Frobenius norm bounds it).
    norm = _round_to_bfloat16(xp.maximum(xp.linalg.norm(ortho), xp.float32(eps)).astype(np.float32).reshape(1))
    ortho = _round_to_bfloat16(ortho / norm)
    for _ in range(ns_steps):
        gram = _round_to_bfloat16(backend.mm(ortho, ortho.T))
        gram_update = _round_to_bfloat16(b * gram + c * backend.mm(gram, gram))  # addmm(gram, gram, gram, beta=b, alpha=c)
        ortho = _round_to_bfloat16(a * ortho + backend.mm(gram_update, ortho))  # addmm(ortho, gram_update, ortho, beta=a)
    return ortho.T if tall else ortho


def _adjust_lr(lr, adjust_lr_fn, param_shape):
    """The learning rate scaled for the shape (A, B): ``sqrt(max(1, A / B))`` ("original", the
    default) or ``0.2 * sqrt(max(A, B))`` ("match_rms_adamw", which matches AdamW's update RMS)."""
    rows, columns = param_shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        ratio = math.sqrt(max(1, rows / columns))
    elif adjust_lr_fn == "match_rms_adamw":
        ratio = 0.2 * math.sqrt(max(rows, columns))
    else:
        ratio = 1.0
    return lr * ratio


class Muon(Optimizer):
    """PyTorch's Muon (``torch.optim.Muon``), for the 2-D parameters of hidden layers (use AdamW or
    SGD for biases and embeddings).

    Per parameter: ``buf = momentum * buf + (1 - momentum) * g`` (``buf.lerp_(g, 1 - momentum)``);
    the update is ``g.lerp(buf, momentum)`` with ``nesterov`` (the default), else ``buf``; it is
    orthogonalized by ``ns_steps`` Newton-Schulz iterations with coefficients ``ns_coefficients``
    (in bfloat16 precision, as PyTorch); then ``p *= 1 - lr * weight_decay`` and
    ``p -= adjusted_lr * update``, ``adjusted_lr`` from ``adjust_lr_fn``: ``"original"`` (or None)
    scales lr by ``sqrt(max(1, A / B))``, ``"match_rms_adamw"`` by ``0.2 * sqrt(max(A, B))`` for an
    (A, B) parameter. The state holds ``momentum_buffer``."""

    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                 ns_coefficients=(DEFAULT_A, DEFAULT_B, DEFAULT_C), eps=EPS, ns_steps=DEFAULT_NS_STEPS,
                 adjust_lr_fn=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ["original", "match_rms_adamw"]:
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
                        ns_coefficients=ns_coefficients, eps=eps, ns_steps=ns_steps, adjust_lr_fn=adjust_lr_fn)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError(
                        f"Muon only supports 2D parameters whereas we found a parameter with size: {p.size()}")

    @no_grad()
    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns the closure's loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, weight_decay, momentum = float(group["lr"]), group["weight_decay"], group["momentum"]
            # As PyTorch: every parameter's state is made (and checked) before any is updated.
            params = [p for p in group["params"] if p.grad is not None]
            for p in params:
                if p.grad.is_sparse:
                    raise RuntimeError("Muon does not support sparse gradients")
                state = self.state[p]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = self._zeros_like(p)
            for p in _each_on_its_gpu(params):
                grad = p.grad._data
                if grad.ndim != 2:
                    raise ValueError("Param gradient must be a 2D matrix")
                buf = self.state[p]["momentum_buffer"]._data
                self._lerp(buf, grad, 1 - momentum)
                if group["nesterov"]:
                    update = self._buffer(grad, 2)
                    backend.array_module(grad).copyto(update, grad)
                    self._lerp(update, buf, momentum)
                else:
                    update = buf
                update = _zeropower_via_newtonschulz(update, group["ns_coefficients"], group["ns_steps"], group["eps"])
                adjusted_lr = _adjust_lr(lr, group["adjust_lr_fn"], p.shape)
                param = p._data
                if weight_decay != 0:  # a factor of exactly 1 otherwise
                    param *= 1 - lr * weight_decay
                # The bfloat16-grid update joins the parameter in its dtype (float64 stays float64).
                backend.add_scaled_(param, update.astype(param.dtype, copy=False), -adjusted_lr)
                p._version[0] += 1
        return loss
