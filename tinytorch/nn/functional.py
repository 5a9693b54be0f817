"""``tinytorch.nn.functional``: the stateless form of every layer and loss.

Composites of the core ops (so their gradients come for free), except the losses that call a
fused Function of ``tinytorch._ops.nn_ops`` for stability. Losses live in ``_functional_losses.py`` and are
re-exported here, so ``F.cross_entropy`` is where PyTorch users expect it.
"""

import warnings

from .. import _backend, _creation, _dtypes, _ops
from ..autograd.grad_mode import no_grad as _no_grad
from .._ops import nn_ops as _nn_ops
from .._ops.indexing import inplace as _inplace
from .._ops.matmul import linear
from .._tensor import Tensor
from ._functional_attention import multi_head_attention_forward, scaled_dot_product_attention
from ._functional_losses import (
    binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, huber_loss, kl_div,
    l1_loss, mse_loss, nll_loss, smooth_l1_loss,
)

__all__ = [
    "batch_norm", "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy",
    "dropout", "elu", "embedding", "gelu", "hardtanh", "huber_loss", "kl_div", "l1_loss",
    "layer_norm", "leaky_relu", "linear", "log_softmax", "logsigmoid", "mse_loss",
    "multi_head_attention_forward", "nll_loss", "normalize", "one_hot", "pad", "relu", "relu6",
    "scaled_dot_product_attention", "sigmoid", "silu", "smooth_l1_loss", "softmax", "softmin",
    "softplus", "tanh",
]


def _maybe_inplace(input, inplace, fn, *args):  # noqa: A002
    """``fn(input, *args)``, written back into ``input`` when ``inplace`` (PyTorch's ``relu_`` etc.)."""
    if inplace:
        return _inplace(input, fn, *args)
    return fn(input, *args)


# -- activations --------------------------------------------------------------------------------
def relu(input, inplace=False):  # noqa: A002
    """max(x, 0); the gradient at 0 is 0."""
    return input.relu_() if inplace else _ops.relu(input)


def _hardtanh(input, min_val, max_val):  # noqa: A002
    # NOTE: PyTorch's gradient is 1 only strictly inside (min, max); clamp's would be 1 at the ends.
    inside = (input > min_val) & (input < max_val)
    return _ops.where(inside, input, input.detach().clamp(min_val, max_val))


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):  # noqa: A002
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _maybe_inplace(input, inplace, _hardtanh, min_val, max_val)


def relu6(input, inplace=False):  # noqa: A002
    """min(max(x, 0), 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def _leaky_relu(input, negative_slope):  # noqa: A002
    return _ops.where(input > 0, input, input * negative_slope)


def leaky_relu(input, negative_slope=0.01, inplace=False):  # noqa: A002
    """x for x > 0, else negative_slope * x."""
    return _maybe_inplace(input, inplace, _leaky_relu, negative_slope)


def _elu(input, alpha):  # noqa: A002
    # clamp(max=0) keeps expm1 from overflowing on the branch that where() discards.
    return _ops.where(input > 0, input, input.clamp(max=0).expm1() * alpha)


def elu(input, alpha=1.0, inplace=False):  # noqa: A002
    """x for x > 0, else alpha * (exp(x) - 1)."""
    return _maybe_inplace(input, inplace, _elu, alpha)


def gelu(input, approximate="none"):  # noqa: A002
    """x * Phi(x) (Phi the standard normal CDF), or its tanh approximation (one fused node)."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return _nn_ops.gelu(input, approximate)


def silu(input, inplace=False):  # noqa: A002
    """x * sigmoid(x) (swish)."""
    return _maybe_inplace(input, inplace, lambda x: x * x.sigmoid())


def softplus(input, beta=1.0, threshold=20.0):  # noqa: A002
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (for stability)."""
    scaled = input * beta
    # Clamping before exp keeps the discarded branch finite, so its zero gradient is not nan.
    smooth = scaled.clamp(max=threshold).exp().log1p() / beta
    return _ops.where(scaled > threshold, input, smooth)


def logsigmoid(input):  # noqa: A002
    """log(sigmoid(x)) = -softplus(-x), computed without overflow."""
    # Two branches, each clamped so exp never overflows; no |x|, whose kink would zero the
    # gradient at 0 (it is 1/2 there).
    negative = input - input.clamp(max=0).exp().log1p()
    positive = -(-input.clamp(min=0)).exp().log1p()
    return _ops.where(input < 0, negative, positive)


def sigmoid(input):  # noqa: A002
    return _ops.sigmoid(input)


def tanh(input):  # noqa: A002
    return _ops.tanh(input)


def _get_softmax_dim(name, ndim, stacklevel):
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as an argument.",
        stacklevel=stacklevel,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):  # noqa: A002
    """exp(x) / sum(exp(x)) along ``dim``."""
    if dim is None:
        dim = _get_softmax_dim("softmax", input.dim(), _stacklevel)
    return _ops.softmax(input, dim, dtype=dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):  # noqa: A002
    if dim is None:
        dim = _get_softmax_dim("softmin", input.dim(), _stacklevel)
    return _ops.softmax(-input, dim, dtype=dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):  # noqa: A002
    """log(softmax(x)) along ``dim``, computed stably in one op."""
    if dim is None:
        dim = _get_softmax_dim("log_softmax", input.dim(), _stacklevel)
    return _ops.log_softmax(input, dim, dtype=dtype)


# -- dropout ------------------------------------------------------------------------------------
def dropout(input, p=0.5, training=True, inplace=False):  # noqa: A002
    """Zero each element with probability p and scale the rest by 1/(1-p); identity when not training."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    mask = _creation.empty_like(input)
    if p == 1.0:
        mask.zero_()
    else:
        mask.bernoulli_(1 - p)
        mask._data *= 1 / (1 - p)
    return input.mul_(mask) if inplace else input * mask


# -- normalization ------------------------------------------------------------------------------
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):  # noqa: A002
    """Normalize over the batch (and spatial) dims per channel (dim 1).

    Training uses the batch's statistics and moves the running ones towards them (the variance
    unbiased, as PyTorch); evaluation uses the running statistics.
    """
    shape = input.shape
    channels = shape[1] if input.dim() > 1 else 1
    view = (1, channels) + (1,) * (input.dim() - 2)
    dims = (0,) + tuple(range(2, input.dim()))
    if training:
        count = input.numel() // max(channels, 1)
        if count == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {shape}")
    if training or running_mean is None:
        if running_mean is None and not training:
            raise RuntimeError("running_mean must be defined in evaluation mode")
        mean = input.mean(dims, keepdim=True)
        centered = input - mean
        var = (centered * centered).mean(dims, keepdim=True)
        if running_mean is not None:
            _update_running_stats(running_mean, running_var, mean, var, momentum, count)
    else:
        centered = input - running_mean.reshape(view)
        var = running_var.reshape(view)
    out = centered * (var + eps).rsqrt()
    if weight is not None:
        out = out * weight.reshape(view)
    if bias is not None:
        out = out + bias.reshape(view)
    return out


def _update_running_stats(running_mean, running_var, mean, var, momentum, count):
    """running = (1 - momentum) running + momentum batch, in place (the variance made unbiased)."""
    new_mean = mean._data.reshape(-1)
    new_var = var._data.reshape(-1) * (count / (count - 1))
    running_mean._data *= 1 - momentum
    running_mean._data += (momentum * new_mean).astype(running_mean._data.dtype, copy=False)
    running_var._data *= 1 - momentum
    running_var._data += (momentum * new_var).astype(running_var._data.dtype, copy=False)
    running_mean._version[0] += 1
    running_var._version[0] += 1


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):  # noqa: A002
    """Normalize over the trailing ``normalized_shape`` dims of each sample (one fused node,
    ``tinytorch._ops.nn_ops.LayerNorm``), then scale by ``weight`` and shift by ``bias``."""
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    count = len(normalized_shape)
    if count == 0 or tuple(input.shape[input.dim() - count:]) != normalized_shape or input.dim() < count:
        raise RuntimeError(
            f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
            f"[*, {', '.join(str(s) for s in normalized_shape)}], but got input of size{list(input.shape)}"
        )
    return _nn_ops.layer_norm(input, count, weight, bias, eps)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):  # noqa: A002
    """input / max(||input||_p along dim, eps)."""
    return input / input.norm(p, dim, keepdim=True).clamp(min=eps)


# -- embeddings and indices ---------------------------------------------------------------------
def _dtype_title(t):
    return {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
            "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}[t._data.dtype.name]


def _embedding_index_out_of_range():
    raise IndexError("index out of range in self")


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, sparse=False):  # noqa: A002
    """Rows of ``weight`` picked by the integer ``input``; the ``padding_idx`` row gets no gradient."""
    if input._data.dtype.kind not in "iu" or input._data.dtype.itemsize < 4:
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; "
            f"but got {input.type().replace('tinytorch.', 'torch.')} instead (while checking arguments for embedding)"
        )
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("tinytorch's embedding supports neither scale_grad_by_freq nor sparse gradients")
    rows = weight.shape[0]
    if padding_idx is not None:
        if not -rows <= padding_idx < rows:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx %= rows
    data = input._data
    if data.size:
        _backend.check_later(((data < 0) | (data >= rows)).any(), _embedding_index_out_of_range)
    if max_norm is not None:
        _embedding_renorm_(weight, input, max_norm, norm_type)
    out = weight[input]
    if padding_idx is not None and out.requires_grad:
        # Same values, but the gradient of padding positions stops here (PyTorch's rule).
        keep = (input != padding_idx).unsqueeze(-1)
        out = _ops.where(keep, out, out.detach())
    return out


def _embedding_renorm_(weight, input, max_norm, norm_type):  # noqa: A002
    """Rescale, in place, the looked-up rows whose norm exceeds max_norm (PyTorch's embedding_renorm_)."""
    xp = _backend.array_module(weight._data)
    rows = xp.unique(input._data.reshape(-1))
    with _no_grad():
        picked = weight._data[rows]
        norms = (abs(picked) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
        scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(picked.dtype)
        weight._data[rows] = picked * scale[:, None]
        weight._version[0] += 1


def one_hot(tensor, num_classes=-1):
    """An int64 tensor with one more dim of size num_classes, 1 at each index (num_classes=-1: max + 1)."""
    if tensor._data.dtype != _dtypes.int64.numpy:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    data = tensor._data
    xp = _backend.array_module(data)
    if num_classes == -1:
        if data.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(data.max()) + 1
    if data.size:
        if int(data.min()) < 0:
            raise RuntimeError("Class values must be non-negative.")
        if int(data.max()) >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    return Tensor._make((data[..., None] == xp.arange(num_classes)).astype(_dtypes.int64.numpy))


# -- padding ------------------------------------------------------------------------------------
_PAD_SUPPORT = (
    "\nSupported combinations for non-constant padding:\n"
    "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
    "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
    "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)"
)


def pad(input, pad, mode="constant", value=None):  # noqa: A002
    """Pad the last len(pad)/2 dims: ``pad = (left, right, top, bottom, ...)``, the last dim first.

    Modes: 'constant' (negative sizes crop), 'reflect', 'replicate', 'circular'; all differentiable.
    """
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.dim():
        raise RuntimeError(
            "Padding length should be less than or equal to two times the input dimension but got "
            f"padding length {len(pad)} and input of dimension {input.dim()}"
        )
    if mode == "constant":
        return _pad_constant(input, pad, 0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if input.dim() not in (len(pad) // 2 + 1, len(pad) // 2 + 2):
        raise NotImplementedError(f"Padding size {len(pad)} is not supported for {input.dim()}D input tensor." + _PAD_SUPPORT)
    out = input
    for i in range(len(pad) // 2):
        dim = input.dim() - 1 - i
        before, after = pad[2 * i], pad[2 * i + 1]
        size = out.shape[dim]
        if mode == "reflect" and (before >= size or after >= size):
            raise RuntimeError(
                f"Argument #4: Padding size should be less than the corresponding input dimension, but got: "
                f"padding ({before}, {after}) at dimension {dim} of input {list(input.shape)}"
            )
        out = out.index_select(dim, _pad_index(mode, size, before, after, out))
    return out


def _pad_index(mode, size, before, after, like):
    """The source position of every output position along one padded dim."""
    xp = _backend.array_module(like._data)
    positions = xp.arange(-before, size + after)
    if mode == "replicate":
        index = xp.clip(positions, 0, size - 1)
    elif mode == "circular":
        index = positions % size
    else:  # reflect about the first and last elements, which are not repeated
        period = 2 * (size - 1)
        folded = abs(positions) % period if period else positions * 0
        index = xp.where(folded >= size, period - folded, folded)
    return Tensor._make(index.astype(_dtypes.int64.numpy))


def _pad_constant(input, pad, value):  # noqa: A002
    out = input
    for i in range(len(pad) // 2):
        dim = input.dim() - 1 - i
        before, after = pad[2 * i], pad[2 * i + 1]
        for amount, start in ((before, True), (after, False)):
            if amount < 0:  # negative padding crops
                length = out.shape[dim] + amount
                if length < 0:
                    raise RuntimeError("narrow(): length must be non-negative.")
                out = out.narrow(dim, -amount if start else 0, length)
        pieces = []
        for amount in (before, after):
            shape = list(out.shape)
            shape[dim] = max(amount, 0)
            pieces.append(_creation.full(tuple(shape), value, dtype=out.dtype, device=out.device))
        out = _ops.cat([pieces[0], out, pieces[1]], dim) if before > 0 or after > 0 else out
    return out
