"""The Connectionist Temporal Classification loss (``nn.functional.ctc_loss``).

One fused node, because CTC has no composite form worth the name: the loss is the negative log of
a sum over every alignment of the target with the input, computed by the forward (alpha) recursion
in log space, and its gradient needs the backward (beta) recursion. Both run vectorized over the
batch and the extended label positions (the target with a blank before, between and after its
labels); only time steps are a Python loop. The recursions, the log-sum-exp guard (a maximum of
-inf taken as 0) and the gradient formula are those of PyTorch's CPU kernel
(``aten/src/ATen/native/LossCTC.cpp``), so values and gradients agree to rounding.
"""

import operator
from collections.abc import Sequence

import numpy as np

from .. import _backend as backend, _dtypes as dtypes
from .._tensor import Tensor
from ..autograd.function import Function
from ._util import quiet, wrap

_REDUCTIONS = ("none", "mean", "sum")
_WHERE = "(while checking arguments for ctc_loss_allocate_outputs)"


class _Plan:
    """What the recursions need besides the log-probabilities: the extended labels ``ext`` (N, K)
    with K = 2 max(target_lengths) + 1, where a skip over the previous blank is allowed (``skip``),
    and the lengths (host ints for the loop bound, device arrays for the masks)."""

    def __init__(self, ext, skip, input_lengths, target_lengths, steps):
        self.ext, self.skip = ext, skip
        self.input_lengths, self.target_lengths = input_lengths, target_lengths
        self.steps = steps  # max(input_lengths): the time steps any sample uses


def _lse3(a, b, c):
    """log(exp(a) + exp(b) + exp(c)) as PyTorch's kernel writes it (a maximum of -inf counts as 0)."""
    xp = backend.array_module(a)
    m = xp.maximum(xp.maximum(a, b), c)
    m = xp.where(m == -np.inf, m.dtype.type(0), m)
    return xp.log(xp.exp(a - m) + xp.exp(b - m) + xp.exp(c - m)) + m


def _shift(rows, by, fill):
    """``rows`` (N, K) moved ``by`` columns to the right (left for negative ``by``), ``fill`` let in."""
    xp = backend.array_module(rows)
    out = xp.full(rows.shape, fill, dtype=rows.dtype)
    if by > 0 and by < rows.shape[1]:
        out[:, by:] = rows[:, :-by]
    elif by < 0 and -by < rows.shape[1]:
        out[:, :by] = rows[:, -by:]
    return out


def _emissions(lp, ext):
    """lp[t, n, ext[n, s]]: (T, N, K)."""
    xp = backend.array_module(lp)
    return lp[:, xp.arange(lp.shape[1])[:, None], ext]


class CtcLoss(Function):
    """The per-sample negative log-likelihood (N,) of (T, N, C) log-probabilities; with
    ``zero_infinity``, infinite losses (impossible alignments) become 0 and get no gradient."""

    @staticmethod
    def forward(ctx, log_probs, plan, zero_infinity):
        lp = log_probs._data
        xp = backend.array_module(lp)
        batch = lp.shape[1]
        em = _emissions(lp[:max(plan.steps, 1)], plan.ext)
        neginf = lp.dtype.type(-np.inf)
        alpha = xp.full((max(plan.steps, 1),) + plan.ext.shape, neginf, dtype=lp.dtype)
        columns = xp.arange(plan.ext.shape[1])
        lengths = plan.target_lengths[:, None]
        with quiet():
            # alpha_0: the leading blank, and the first label when there is one.
            alpha[0] = xp.where((columns == 0) | ((columns == 1) & (lengths > 0)), em[0], neginf)
            for t in range(1, plan.steps):
                prev = alpha[t - 1]
                skipped = xp.where(plan.skip, _shift(prev, 2, neginf), neginf)
                alpha[t] = _lse3(prev, _shift(prev, 1, neginf), skipped) + em[t]
            last = alpha[xp.maximum(plan.input_lengths - 1, 0), xp.arange(batch)]  # (N, K) at each sample's last step
            end = 2 * plan.target_lengths
            l1 = xp.take_along_axis(last, end[:, None], 1)[:, 0]
            l2 = xp.take_along_axis(last, xp.maximum(end - 1, 0)[:, None], 1)[:, 0]
            m = xp.maximum(l1, l2)
            m = xp.where(m == -np.inf, lp.dtype.type(0), m)
            both = xp.log(xp.exp(l1 - m) + xp.exp(l2 - m)) + m
            likelihood = xp.where(plan.target_lengths == 0, l1, both)
            # An empty input explains only an empty target.
            empty = xp.where(plan.target_lengths == 0, lp.dtype.type(0), neginf)
            nll = -xp.where(plan.input_lengths == 0, empty, likelihood)
        ctx.save_for_backward(log_probs)
        ctx.plan, ctx.alpha, ctx.nll, ctx.zero_infinity = plan, alpha, nll, zero_infinity
        if zero_infinity:
            nll = xp.where(nll == np.inf, lp.dtype.type(0), nll)
        return wrap(nll)

    @staticmethod
    def backward(ctx, grad_output):
        (log_probs,) = ctx.saved_tensors
        grad = CtcLossBackward.apply(grad_output, log_probs, ctx.plan, ctx.alpha, ctx.nll, ctx.zero_infinity)
        return grad, None, None


class CtcLossBackward(Function):
    """PyTorch's ``_ctc_loss_backward``: the beta recursion and the gradient of the loss.

    The gradient is PyTorch's, which is *not* the derivative of the loss with respect to
    ``log_probs``: it is ``exp(log_probs) - exp(log_alpha_beta + nll - log_probs)`` (times the
    incoming gradient), the true derivative being the second term alone. The extra ``exp(log_probs)``
    makes it the gradient of the loss composed with ``log_softmax``: fed through log_softmax's
    backward (g - softmax * sum(g)) it vanishes when each row of log_probs is normalized, because
    the second term sums to 1 over the classes at every time step. So for log-probabilities from
    ``log_softmax`` (how CTC is used) the gradient reaching the logits is exact, as in PyTorch;
    differentiated on its own, the loss is not what this gradient describes. Steps past a sample's
    input length get 0; an impossible alignment (infinite loss) gets nan without ``zero_infinity``
    and 0 with it (PyTorch's values). PyTorch has no second derivative here, and neither do we.
    """

    @staticmethod
    def forward(ctx, grad_output, log_probs, plan, alpha, nll, zero_infinity):
        lp = log_probs._data
        xp = backend.array_module(lp)
        steps, classes = plan.steps, lp.shape[2]
        ext, dtype = plan.ext, lp.dtype
        neginf = dtype.type(-np.inf)
        em = _emissions(lp[:max(steps, 1)], ext)
        columns = xp.arange(ext.shape[1])
        lengths = plan.target_lengths[:, None]
        # The end states (the trailing blank and the last label) start each sample's beta.
        ends = (columns == 2 * lengths) | ((columns == 2 * lengths - 1) & (lengths > 0))
        skip_back = _shift(plan.skip, -2, False)  # s -> s + 2 allowed where ext[s + 2] != ext[s]
        starts = plan.input_lengths - 1
        # PyTorch's kernel *assigns* the two end states' alpha * beta at a sample's last step, the
        # last label's after the blank's, so a last label equal to the blank hides the trailing
        # blank's share of that step's gradient; we drop it there too (only a target that holds
        # the blank label, itself a misuse, sees this).
        last_label = xp.take_along_axis(ext, xp.maximum(2 * lengths - 1, 0), 1)
        hidden = (columns == 2 * lengths) & (lengths > 0) & (last_label == ext[:, :1])
        log_alpha_beta = xp.full(alpha.shape, neginf, dtype=dtype)
        with quiet():
            beta = xp.full(ext.shape, neginf, dtype=dtype)
            for t in range(steps - 1, -1, -1):
                skipped = xp.where(skip_back, _shift(beta, -2, neginf), neginf)
                recursed = _lse3(beta, _shift(beta, -1, neginf), skipped) + em[t]
                beta = xp.where((starts == t)[:, None], xp.where(ends, em[t], neginf), recursed)
                log_alpha_beta[t] = xp.where(hidden & (starts == t)[:, None], neginf, alpha[t] + beta)
            # Divide each state's alpha * beta by its emission (it counts it twice), so that the
            # per-class sums below lose nothing when a rare label carries a whole alignment; the
            # result, times exp(nll), is each class's posterior occupancy, bounded by 1.
            per_state = xp.where(log_alpha_beta == -np.inf, neginf, log_alpha_beta - em)
            top = per_state.max(axis=2)
            top = xp.where(top == -np.inf, dtype.type(0), top)
            weights = xp.exp(per_state - top[..., None])  # (T, N, K)
            one_hot = (ext[..., None] == xp.arange(classes)).astype(dtype)  # (N, K, C)
            summed = backend.matmul(weights.transpose(1, 0, 2), one_hot).transpose(1, 0, 2)  # (T, N, C)
            occupancy = summed * xp.exp(top + nll)[..., None]
            grad = (xp.exp(lp[:max(steps, 1)]) - occupancy) * grad_output._data.astype(dtype, copy=False)[:, None]
        valid = xp.arange(grad.shape[0])[:, None] < plan.input_lengths  # (T, N)
        if zero_infinity:
            valid = valid & (nll != np.inf)
        out = xp.zeros(lp.shape, dtype=dtype)
        out[:grad.shape[0]] = xp.where(valid[..., None], grad, dtype.type(0))
        return wrap(out)

    @staticmethod
    def backward(ctx, grad_output):
        raise RuntimeError("derivative for aten::_ctc_loss_backward is not implemented")


# -- the public function --------------------------------------------------------------------------
def _host_lengths(name, lengths):
    """The lengths as a 1-D int64 NumPy array. PyTorch copies them to the host too (its ``ctc_loss``
    reads ``input_lengths.to(kCPU)``): the loop bound and the checks need them there."""
    if isinstance(lengths, Tensor):
        if lengths._data.dtype.kind not in "iu":
            raise RuntimeError(f"{name} must be integral")
        return backend.to_numpy(lengths._data).reshape(-1).astype(np.int64)
    return np.array([operator.index(v) for v in lengths], dtype=np.int64).reshape(-1)


def _type_error(log_probs, targets, input_lengths, target_lengths, blank, reduction, zero_infinity):
    got = ", ".join(type(a).__name__ if not isinstance(a, Tensor) else "Tensor"
                    for a in (log_probs, targets, input_lengths, target_lengths, blank, reduction, zero_infinity))
    return TypeError(
        f"ctc_loss() received an invalid combination of arguments - got ({got}), but expected one of:\n"
        " * (Tensor log_probs, Tensor targets, tuple of ints input_lengths, tuple of ints target_lengths, int blank = 0, "
        "int reduction = at::Reduction::Mean, bool zero_infinity = False)\n"
        " * (Tensor log_probs, Tensor targets, Tensor input_lengths, Tensor target_lengths, int blank = 0, "
        "int reduction = at::Reduction::Mean, bool zero_infinity = False)\n"
    )


def _is_int_sequence(value):
    if isinstance(value, Tensor) or not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
        return False
    try:
        [operator.index(v) for v in value]
    except TypeError:
        return False
    return True


def _target_out_of_range():
    raise RuntimeError("ctc_loss: target values must lie in [0, number of classes)")


def _plan(log_probs, targets, inputs, lengths, blank):
    """The checks of PyTorch's ``ctc_loss_allocate_outputs``, in its order, then the extended labels."""
    if log_probs.dim() != 3:
        raise RuntimeError(
            f"Expected 3-dimensional tensor, but got {log_probs.dim()}-dimensional tensor for argument #1 'log_probs' {_WHERE}")
    if targets.dim() not in (1, 2):
        raise RuntimeError(
            f"Expected 1 to 2 dimensions, but got {targets.dim()}-dimensional tensor for argument #2 'targets' {_WHERE}")
    steps, batch, classes = log_probs.shape
    if not 0 <= blank < classes:
        raise RuntimeError("blank must be in label range")
    if len(inputs) != batch:
        raise RuntimeError("input_lengths must be of size batch_size")
    if len(lengths) != batch:
        raise RuntimeError("target_lengths must be of size batch_size")
    for length in lengths:
        if length < 0:
            raise RuntimeError(f"Expected target_lengths to have value at least 0, but got value {length} {_WHERE}")
    longest = int(lengths.max())
    expected = int(lengths.sum()) if targets.dim() == 1 else batch
    if targets.shape[0] != expected:
        raise RuntimeError(
            f"Expected tensor to have size {expected} at dimension 0, but got size {targets.shape[0]} for argument #2 'targets' {_WHERE}")
    if targets.dim() == 2 and targets.shape[1] < longest:
        raise RuntimeError(
            f"Expected tensor to have size at least {longest} at dimension 1, but got size {targets.shape[1]} for argument #2 "
            f"'targets' {_WHERE}")
    for length in inputs:
        if length < 0:
            raise RuntimeError(f"Expected input_lengths to have value at least 0, but got value {length} {_WHERE}")
        if length > steps:
            raise RuntimeError(f"Expected input_lengths to have value at most {steps}, but got value {length} {_WHERE}")
    xp = backend.array_module(log_probs._data)
    # PyTorch moves the targets to the log-probabilities' device as int64 (a service, it says).
    data = backend.to_device(targets._data, log_probs.device)
    data = data.astype(np.int64)
    used = np.arange(longest)[None, :] < lengths[:, None]  # (N, S) on the host: the real labels
    if targets.dim() == 1:
        offsets = np.cumsum(lengths) - lengths
        positions = np.where(used, offsets[:, None] + np.arange(longest)[None, :], 0)
        labels = data[backend.to_device(positions, log_probs.device)] if longest else xp.zeros(positions.shape, dtype=np.int64)
    else:
        labels = data[:, :longest]
    used = backend.to_device(used, log_probs.device)
    if labels.size:
        backend.check_later((used & ((labels < 0) | (labels >= classes))).any(), _target_out_of_range)
    labels = xp.where(used, labels, blank)  # padding reads the blank (never used)
    ext = xp.full((batch, 2 * longest + 1), blank, dtype=np.int64)
    ext[:, 1::2] = labels
    skip = xp.zeros(ext.shape, dtype=bool)
    skip[:, 2:] = ext[:, 2:] != ext[:, :-2]
    return _Plan(ext, skip, backend.to_device(inputs, log_probs.device), backend.to_device(lengths, log_probs.device),
                 int(inputs.max()))


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    """The Connectionist Temporal Classification loss (Graves et al., 2006).

    ``log_probs`` (T, N, C) or unbatched (T, C): log-probabilities over C classes (blank
    included), as from ``log_softmax``. ``targets``: padded (N, S) or concatenated 1-D
    (sum(target_lengths)) label indices. ``input_lengths`` and ``target_lengths``: one length per
    sample, as integer tensors or sequences of ints. ``reduction``: ``'mean'`` divides each loss
    by its target length (at least 1) and averages over the batch; ``'sum'``; ``'none'`` gives
    the (N,) losses. ``zero_infinity`` turns the infinite loss of an impossible alignment (and its
    gradient) into 0. The gradient is PyTorch's, exact for the logits before ``log_softmax``
    (see ``CtcLossBackward``).
    """
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    # PyTorch's functional hands torch.ctc_loss the reduction as an int, and its parser names that.
    arguments = (log_probs, targets, input_lengths, target_lengths, blank, _REDUCTIONS.index(reduction), zero_infinity)
    tensor_lengths = isinstance(input_lengths, Tensor) and isinstance(target_lengths, Tensor)
    if (not isinstance(log_probs, Tensor) or not isinstance(targets, Tensor)
            or not (tensor_lengths or (_is_int_sequence(input_lengths) and _is_int_sequence(target_lengths)))):
        raise _type_error(*arguments)
    inputs = _host_lengths("input_lengths", input_lengths)
    lengths = _host_lengths("target_lengths", target_lengths)
    if log_probs._data.dtype.kind != "f" or log_probs._data.dtype == np.float16:
        raise NotImplementedError(f'"ctc_loss_cpu" not implemented for \'{dtypes.scalar_type_name(log_probs._data.dtype)}\'')
    if log_probs.numel() == 0:
        raise RuntimeError("log_probs tensor must not be empty")
    batched = log_probs.dim() == 3
    batch_input = log_probs if batched else log_probs.unsqueeze(1)
    plan = _plan(batch_input, targets, inputs, lengths, blank)
    losses = CtcLoss.apply(batch_input, plan, bool(zero_infinity))
    if reduction == "mean":
        divisor = backend.to_device(np.maximum(lengths, 1).astype(log_probs._data.dtype), log_probs.device)
        return (losses / wrap(divisor)).mean()
    if reduction == "sum":
        return losses.sum()
    return losses if batched else losses.squeeze(0)
