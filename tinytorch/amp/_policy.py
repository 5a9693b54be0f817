"""Autocast's per-thread state, PyTorch's op lists, and the cast an op wrapper asks for.

Every affected public op starts with ``if _policy.armed: args = _policy.cast("op", *args)``:
``armed`` counts the (thread, device type) pairs with autocast on, so with autocast off the
whole cost is that one module attribute read. The lists are PyTorch 2.13's
(aten/src/ATen/autocast_mode.{h,cpp}): CUDA's for cuda tensors, the CPU's for cpu tensors.
"""

import threading
import weakref

from .. import _backend as backend, _dtypes as dtypes
from .._tensor import Tensor

armed = 0  # (thread, device type) pairs with autocast enabled; changed under _arming only
_arming = threading.Lock()

# The device types PyTorch's autocast knows, with their default lower-precision dtype. None stands
# for bfloat16, which tinytorch does not have: autocast with it warns and disables itself.
DEFAULT_DTYPES = {"cpu": None, "cuda": dtypes.float16, "ipu": dtypes.float16, "xpu": dtypes.float16, "maia": None,
                  "xla": None, "mps": dtypes.float16, "hpu": None, "mtia": dtypes.float16,
                  "privateuseone": dtypes.float16, "hip": dtypes.float16}
UNAVAILABLE = frozenset({"hip"})  # has a dtype slot but no autocast dispatch key
DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia", "xla",
                "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")


class _State(threading.local):
    """PyTorch keeps these per thread: a new thread starts with autocast off and the defaults."""

    def __init__(self):
        self.enabled = {}
        self.dtype = dict(DEFAULT_DTYPES)
        self.nesting = 0
        self.cache_enabled = True


state = _State()

# Casts of float32 leaf weights to the lower dtype, reused within the outermost autocast region
# (PyTorch's Apex-like cache): id(weight) -> (weakref(weight), cast). Shared by threads, as PyTorch's.
_cache = {}
_cache_lock = threading.Lock()


def set_enabled(device_type, enabled):
    """Turn autocast on or off for ``device_type`` in this thread, keeping ``armed`` counted."""
    global armed
    enabled = bool(enabled)
    if state.enabled.get(device_type, False) == enabled:
        return
    state.enabled[device_type] = enabled
    with _arming:
        armed += 1 if enabled else -1


def clear_cache():
    with _cache_lock:
        _cache.clear()


LOWER, FP32, SET_OPT_DTYPE, PROMOTE, BANNED = "lower_precision_fp", "fp32", "fp32_set_opt_dtype", "promote", "banned"


def _table(**lists):
    return {name: policy for policy, names in lists.items() for name in names.split()}


_CUDA_FP32 = """acos asin cosh erfinv exp expm1 log log10 log2 log1p reciprocal rsqrt sinh tan pow softplus layer_norm
    rms_norm group_norm frobenius_norm nuclear_norm cosine_similarity poisson_nll_loss cosine_embedding_loss nll_loss
    nll_loss2d hinge_embedding_loss kl_div l1_loss smooth_l1_loss huber_loss mse_loss margin_ranking_loss
    multilabel_margin_loss soft_margin_loss triplet_margin_loss multi_margin_loss binary_cross_entropy_with_logits dist
    pdist cdist renorm logsumexp norm interpolate
    cross_entropy"""  # cross_entropy: PyTorch's CUDA composite runs log_softmax and nll_loss, both in float32

POLICIES = {
    "cuda": _table(
        lower_precision_fp="""conv1d conv2d conv3d conv_tbc conv_transpose1d conv_transpose2d conv_transpose3d prelu
            addmm addmv addr matmul einsum mm mv linalg_vecdot linear addbmm baddbmm bmm chain_matmul linalg_multi_dot
            lstm_cell gru_cell rnn_tanh_cell rnn_relu_cell scaled_dot_product_attention""",
        fp32=_CUDA_FP32,
        fp32_set_opt_dtype="prod softmax log_softmax cumprod cumsum linalg_vector_norm linalg_matrix_norm sum",
        promote="addcdiv addcmul atan2 bilinear cross dot vdot grid_sample index_put tensordot scatter_add",
        banned="binary_cross_entropy",
    ),
    "cpu": _table(
        lower_precision_fp="""conv1d conv2d conv3d bmm mm linalg_vecdot baddbmm addmm addbmm linear matmul conv_tbc
            conv_transpose1d conv_transpose2d conv_transpose3d prelu scaled_dot_product_attention""",
        fp32="""avg_pool3d binary_cross_entropy grid_sample polar prod quantile nanquantile stft cdist trace
            view_as_complex cholesky cholesky_inverse cholesky_solve inverse lu_solve orgqr ormqr pinverse max_pool3d
            max_unpool2d max_unpool3d adaptive_avg_pool3d mse_loss cosine_embedding_loss nll_loss nll_loss2d
            hinge_embedding_loss poisson_nll_loss smooth_l1_loss cross_entropy l1_loss huber_loss margin_ranking_loss
            soft_margin_loss triplet_margin_loss multi_margin_loss ctc_loss kl_div multilabel_margin_loss
            binary_cross_entropy_with_logits qr svd triangular_solve""",
        promote="stack cat index_copy",
    ),
}

_BCE_BANNED = (
    "torch.nn.functional.binary_cross_entropy and torch.nn.BCELoss are unsafe to autocast.\n"
    "Many models use a sigmoid layer right before the binary cross entropy layer.\n"
    "In this case, combine the two layers using torch.nn.functional.binary_cross_entropy_with_logits\n"
    "or torch.nn.BCEWithLogitsLoss.  binary_cross_entropy_with_logits and BCEWithLogits are\n"
    "safe to autocast."
)


def _device_type(args):
    for arg in args:
        if isinstance(arg, Tensor):
            return backend.device_of(arg._data).type
    return None


def _eligible(value, device_type):
    """A floating tensor of ``device_type`` other than float64 (PyTorch leaves doubles alone)."""
    if not isinstance(value, Tensor):
        return False
    kind = value._data.dtype
    return kind.kind == "f" and kind.itemsize < 8 and backend.device_of(value._data).type == device_type


def _to(value, dtype, device_type, cacheable):
    if not _eligible(value, device_type) or value.dtype == dtype:
        return value
    if not (cacheable and value.dtype == dtypes.float32 and value.requires_grad and value.grad_fn is None
            and value._base is None):
        return value.to(dtype)
    with _cache_lock:
        entry = _cache.get(id(value))
        if entry is not None and entry[0]() is value:
            return entry[1]
        result = value.to(dtype)
        _cache[id(value)] = (weakref.ref(value), result)
        return result


def cast(op, *args):
    """``args`` as ``op`` runs them under this thread's autocast (unchanged when it does not apply)."""
    device_type = _device_type(args)
    if not state.enabled.get(device_type, False):
        return args
    policy = POLICIES.get(device_type, {}).get(op)
    if policy is None or policy == SET_OPT_DTYPE:
        return args
    if policy == BANNED:
        raise RuntimeError(_BCE_BANNED)
    lower = state.dtype[device_type]
    if policy == LOWER:
        target = lower
    elif policy == FP32:
        target = dtypes.float32
    else:  # promote: float32 wins over the lower dtype; doubles are ignored (and left as they are)
        target = lower
        for arg in _flat(args):
            if _eligible(arg, device_type) and arg.dtype == dtypes.float32:
                target = dtypes.float32
    if target is None:  # bfloat16 (the CPU default) cannot be made here: autocast(...) refuses it beforehand
        return args
    cacheable = policy == LOWER and state.cache_enabled
    return tuple(_cast_value(arg, target, device_type, cacheable) for arg in args)


def opt_dtype(op, input, dtype):
    """The ``dtype=`` a softmax-like op (PyTorch's fp32_set_opt_dtype list) runs with: float32 when
    autocast applies and the caller gave none."""
    if dtype is not None or not isinstance(input, Tensor):
        return dtype
    device_type = backend.device_of(input._data).type
    if state.enabled.get(device_type, False) and POLICIES.get(device_type, {}).get(op) == SET_OPT_DTYPE \
            and _eligible(input, device_type):
        return dtypes.float32
    return dtype


def _flat(args):
    for arg in args:
        if isinstance(arg, (list, tuple)):
            yield from arg
        else:
            yield arg


def _cast_value(value, dtype, device_type, cacheable):
    if isinstance(value, (list, tuple)):
        return type(value)(_to(v, dtype, device_type, cacheable) for v in value)
    return _to(value, dtype, device_type, cacheable)
