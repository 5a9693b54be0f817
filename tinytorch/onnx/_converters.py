"""How each recorded op is written in ONNX: one function per Function class (or opaque module),
``convert(g) -> output name(s)``, reading the call pair ``g.a`` / ``g.b`` (see ``_graph``)."""

import math

import numpy as np

from .._ops.attention import ScaledDotProductAttention
from .._ops.binary import Add, Div, Lerp, Maximum, Minimum, Mul, Pow, Sub, Where
from .._ops.conv import ConvNd
from .._ops.einsum import Einsum
from .._ops.embedding import Embedding
from .._ops.elementwise import Abs, Ceil, Clamp, Clone, Cos, Exp, Expm1, Floor, Log, Log1p, Neg, Relu, Round, Rsqrt, Sigmoid, Sign, Sin, Sqrt, Tan, Tanh, ToCopy, Trunc
from .._ops.indexing import Gather, GetItem, MaskedFill
from .._ops.matmul import Linear, MatMul
from .._ops.movement import Cat, Expand, Flip, Permute, Repeat, Reshape, Split, Triangle
from .._ops.nn_ops import Erf, Gelu
from .._ops.normalization import BatchNorm, LayerNorm
from .._ops.padding import Pad
from .._ops.pooling import AvgPool, FixedWindows, MaxPool
from .._ops.reduce import Amax, CumSum, LogSoftmax, Max, Min, Norm, Softmax, Sum
from ..nn.modules.normalization import _BatchNorm
from ._graph import INT64_MAX, INT64_MIN

CONVERTERS = {}
# Argument positions that may differ between the two runs (shapes that follow a dynamic axis):
# the converter handles them; every other non-tensor argument must be the same in both runs.
DYNAMIC_ARGUMENTS = {}


def converts(*functions, dynamic=()):
    def register(convert):
        for function in functions:
            CONVERTERS[function] = convert
            DYNAMIC_ARGUMENTS[function] = frozenset(dynamic)
        return convert

    return register


# -- elementwise ---------------------------------------------------------------------------------
_UNARY = {
    Neg: "Neg", Abs: "Abs", Exp: "Exp", Log: "Log",
    Sqrt: "Sqrt", Sin: "Sin", Cos: "Cos", Tan: "Tan",
    Tanh: "Tanh", Sigmoid: "Sigmoid", Relu: "Relu", Erf: "Erf",
    Sign: "Sign", Floor: "Floor", Ceil: "Ceil",
}


@converts(*_UNARY)
def _unary(g):
    return g.node(_UNARY[g.a.function], [g.input(0)])


@converts(Rsqrt)
def _rsqrt(g):
    return g.node("Reciprocal", [g.node("Sqrt", [g.input(0)])])


@converts(Expm1)
def _expm1(g):
    return g.node("Sub", [g.node("Exp", [g.input(0)]), g.scalar(1, g.out_dtype)])


@converts(Log1p)
def _log1p(g):
    return g.node("Log", [g.node("Add", [g.input(0), g.scalar(1, g.out_dtype)])])


@converts(Trunc)
def _trunc(g):
    x = g.input(0)
    return g.node("Mul", [g.node("Sign", [x]), g.node("Floor", [g.node("Abs", [x])])])


@converts(Round)
def _round(g):
    decimals = g.static(1, "decimals")
    x = g.input(0)
    if not decimals:
        return g.node("Round", [x])
    scale = g.scalar(10.0**decimals, g.out_dtype)
    return g.node("Div", [g.node("Round", [g.node("Mul", [x, scale])]), scale])


@converts(Clamp)
def _clamp(g):
    x = g.input(0)
    low, high = g.a.args[1], g.a.args[2]
    if all(bound is None or isinstance(bound, (int, float)) for bound in (low, high)):
        return g.node("Clip", [x, g.input(1), g.input(2)])
    if low is not None:
        x = g.node("Max", [x, g.input(1)])
    if high is not None:
        x = g.node("Min", [x, g.input(2)])
    return x


@converts(ToCopy)
def _to_copy(g):
    x = g.input(0)
    return g.cast(x, g.out_dtype) if g.a.args[0]._data.dtype != g.out_dtype else g.node("Identity", [x])


@converts(Clone)
def _clone(g):
    return g.node("Identity", [g.input(0)])


_BINARY = {Add: "Add", Sub: "Sub", Mul: "Mul", Div: "Div", Pow: "Pow",
           Maximum: "Max", Minimum: "Min"}


@converts(*_BINARY)
def _binary(g):
    dtype = g.out_dtype
    return g.node(_BINARY[g.a.function], [g.input(0, dtype), g.input(1, dtype)])


@converts(Where)
def _where(g):
    return g.node("Where", [g.input(0, np.bool_), g.input(1, g.out_dtype), g.input(2, g.out_dtype)])


@converts(Lerp)
def _lerp(g):
    dtype = g.out_dtype
    start, end, weight = g.input(0, dtype), g.input(1, dtype), g.input(2, dtype)
    return g.node("Add", [start, g.node("Mul", [weight, g.node("Sub", [end, start])])])


# -- activations and normalization ---------------------------------------------------------------
@converts(Softmax, LogSoftmax)
def _softmax(g):
    op = "Softmax" if g.a.function is Softmax else "LogSoftmax"
    return g.node(op, [g.input(0)], axis=g.static(1, "dim"))


@converts(Gelu)
def _gelu(g):
    approximate = g.static(1, "approximate")
    x = g.input(0)
    if g.opset >= 20:
        return g.node("Gelu", [x], approximate=approximate)
    dtype = g.out_dtype
    if approximate == "tanh":  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        cube = g.node("Mul", [g.node("Mul", [x, x]), x])
        inner = g.node("Add", [x, g.node("Mul", [cube, g.scalar(0.044715, dtype)])])
        gate = g.node("Tanh", [g.node("Mul", [inner, g.scalar(math.sqrt(2 / math.pi), dtype)])])
    else:  # 0.5 x (1 + erf(x / sqrt(2)))
        gate = g.node("Erf", [g.node("Mul", [x, g.scalar(1 / math.sqrt(2), dtype)])])
    half_x = g.node("Mul", [x, g.scalar(0.5, dtype)])
    return g.node("Mul", [half_x, g.node("Add", [gate, g.scalar(1, dtype)])])


@converts(LayerNorm)
def _layer_norm(g):
    if g.opset < 17:
        g.fail("LayerNormalization needs opset_version 17 or later")
    count, eps = g.static(1, "normalized dims"), g.static(4, "eps")
    x = g.input(0)
    scale = g.input(2)
    if not scale:
        scale = g.constant(np.ones(g.a.args[0]._data.shape[-count:], dtype=g.out_dtype), "ones")
    inputs = [x, scale] + ([g.input(3)] if g.a.args[3] is not None else [])
    return g.node("LayerNormalization", inputs, axis=-count, epsilon=float(eps))


@converts(_BatchNorm)
def _batch_norm(g):
    """A BatchNorm module in eval mode (recorded whole): BatchNormalization on its running statistics."""
    module = g.a.module
    x = g.input(0)
    channels = module.num_features
    dtype = g.out_dtype
    scale = g.tensor(module.weight, module.weight, None, None, "weight") if module.weight is not None else g.constant(np.ones(channels, dtype), "ones")
    bias = g.tensor(module.bias, module.bias, None, None, "bias") if module.bias is not None else g.constant(np.zeros(channels, dtype), "zeros")
    mean = g.tensor(module.running_mean, module.running_mean, None, None, "running_mean")
    var = g.tensor(module.running_var, module.running_var, None, None, "running_var")
    return g.node("BatchNormalization", [x, scale, bias, mean, var], epsilon=float(module.eps))


@converts(BatchNorm)
def _batch_norm_function(g):
    """``F.batch_norm`` outside a BatchNorm module (which records whole, above): evaluation as
    BatchNormalization on the running statistics; training statistics (``instance_norm``'s path
    too) as reductions over the batch and spatial axes. Running-statistic updates are not exported."""
    ndim, channels = g.a.args[0].dim(), g.a.args[0].shape[1]
    dtype, eps = g.out_dtype, float(g.static(7, "eps"))
    x = g.input(0, dtype)
    weight = g.input(1, dtype) or g.constant(np.ones(channels, dtype), "ones")
    bias = g.input(2, dtype) or g.constant(np.zeros(channels, dtype), "zeros")
    if not g.static(5, "training"):
        return g.node("BatchNormalization", [x, weight, bias, g.input(3, dtype), g.input(4, dtype)], epsilon=eps)
    axes = (0,) + tuple(range(2, ndim))
    view = g.int64s((1, channels) + (1,) * (ndim - 2))
    centered = g.node("Sub", [x, _reduce(g, "ReduceMean", x, axes, True)])
    variance = _reduce(g, "ReduceMean", g.node("Mul", [centered, centered]), axes, True)
    rstd = g.node("Reciprocal", [g.node("Sqrt", [g.node("Add", [variance, g.scalar(eps, dtype)])])])
    scaled = g.node("Mul", [g.node("Mul", [centered, rstd]), g.node("Reshape", [weight, view])])
    return g.node("Add", [scaled, g.node("Reshape", [bias, view])])


# -- matrix products -----------------------------------------------------------------------------
@converts(Linear)
def _linear(g):
    x, weight, bias = g.input(0), g.input(1), g.input(2)
    if g.a.args[0]._data.ndim == 2:
        return g.node("Gemm", [x, weight] + ([bias] if bias else []), transB=1)
    out = g.node("MatMul", [x, g.node("Transpose", [weight], perm=[1, 0])])
    return g.node("Add", [out, bias]) if bias else out


@converts(MatMul)
def _matmul(g):
    return g.node("MatMul", [g.input(0), g.input(1)])


@converts(Einsum)
def _einsum(g):
    spec = g.static(0, "equation")
    return g.node("Einsum", [g.input(i) for i in range(1, len(g.a.args))], equation=spec.replace(" ", ""))


@converts(ScaledDotProductAttention)
def _attention(g):
    """softmax(q k^T * scale + bias) v, written out (ONNX's Attention op is newer than most runtimes)."""
    if g.a.args[4] is not None:
        g.fail("attention dropout is active: export the model in eval mode")
    dtype = g.out_dtype
    query, key, value = g.input(0), g.input(1), g.input(2)
    rank = g.a.args[1]._data.ndim
    perm = list(range(rank - 2)) + [rank - 1, rank - 2]
    scores = g.node("MatMul", [query, g.node("Transpose", [key], perm=perm)])
    scores = g.node("Mul", [scores, g.scalar(g.static(5, "scale"), dtype)])
    if g.a.args[3] is not None:
        scores = g.node("Add", [scores, g.input(3, dtype)])
    return g.node("MatMul", [g.node("Softmax", [scores], axis=-1), value])


# -- reductions ----------------------------------------------------------------------------------
def _reduce(g, op, x, dims, keepdim):
    """ReduceX over ``dims`` (None: all); the axes are an input from opset 13 (Sum) / 18 (others)."""
    attributes = {"keepdims": int(bool(keepdim))}
    if dims is None:
        return g.node(op, [x], **attributes)
    axes = [dims] if isinstance(dims, int) else list(dims)
    if not axes:
        return g.node("Identity", [x])
    if op == "ReduceSum" or g.opset >= 18:
        return g.node(op, [x, g.int64s(axes)], **attributes)
    return g.node(op, [x], axes=axes, **attributes)


@converts(Sum)
def _sum(g):
    return _reduce(g, "ReduceSum", g.input(0, g.out_dtype), g.static(1, "dims"), g.static(2, "keepdim"))


@converts(Amax)
def _amax(g):
    op = "ReduceMax" if g.static(3, "largest") else "ReduceMin"
    return _reduce(g, op, g.input(0), g.static(1, "dims"), g.static(2, "keepdim"))


@converts(Max, Min)
def _max(g):
    dim, keepdim = g.static(1, "dim"), g.static(2, "keepdim")
    if dim is None or g.a.args[0]._data.ndim == 0:
        g.fail("a 0-d input")
    largest = g.a.function.largest
    x = g.input(0)
    values = _reduce(g, "ReduceMax" if largest else "ReduceMin", x, (dim,), keepdim)
    indices = g.node("ArgMax" if largest else "ArgMin", [x], axis=dim, keepdims=int(bool(keepdim)))
    return [values, indices]


@converts(Norm)
def _norm(g):
    p = g.static(1, "p")
    if p not in (1, 2):
        g.fail(f"the {p}-norm: ONNX has the 1- and 2-norms")
    return _reduce(g, "ReduceL1" if p == 1 else "ReduceL2", g.input(0), g.static(2, "dims"), g.static(3, "keepdim"))


@converts(CumSum)
def _cumsum(g):
    return g.node("CumSum", [g.input(0, g.out_dtype), g.constant(np.asarray(g.static(1, "dim"), np.int64), "axis")])


# -- shapes --------------------------------------------------------------------------------------
@converts(Reshape, dynamic=(1,))
def _reshape(g):
    shape = g.shape_vector(g.a.args[1], g.b.args[1], g.shapes(0), mode="reshape")
    return g.node("Reshape", [g.input(0), shape])


@converts(Permute)
def _permute(g):
    return g.node("Transpose", [g.input(0)], perm=list(g.static(1, "dims")))


@converts(Expand, dynamic=(1,))
def _expand(g):
    shape = g.shape_vector(g.a.args[1], g.b.args[1], g.shapes(0), mode="expand")
    return g.node("Expand", [g.input(0), shape])


@converts(Cat)
def _cat(g):
    dtype = g.out_dtype
    return g.node("Concat", [g.input(i, dtype) for i in range(1, len(g.a.args))], axis=g.static(0, "dim"))


@converts(Split)
def _split(g):
    sizes, dim = g.static(1, "sizes"), g.static(2, "dim")
    if g.opset >= 18 or len(sizes) > 1:
        outputs = g.node("Split", [g.input(0), g.int64s(sizes)], outputs=len(sizes), axis=dim)
    else:
        outputs = g.node("Split", [g.input(0), g.int64s(sizes)], axis=dim)
    return outputs if len(sizes) > 1 else [outputs]


@converts(Repeat)
def _repeat(g):
    repeats = g.static(1, "repeats")
    x = g.input(0)
    extra = len(repeats) - g.a.args[0]._data.ndim
    if extra:
        x = g.node("Unsqueeze", [x, g.int64s(range(extra))])
    return g.node("Tile", [x, g.int64s(repeats)])


@converts(Flip)
def _flip(g):
    dims = list(g.static(1, "dims"))
    count = len(dims)
    return g.node("Slice", [g.input(0), g.int64s([-1] * count), g.int64s([INT64_MIN] * count), g.int64s(dims), g.int64s([-1] * count)])


@converts(Triangle)
def _triangle(g):
    k = g.constant(np.asarray(g.static(1, "diagonal"), np.int64), "diagonal")
    return g.node("Trilu", [g.input(0), k], upper=int(g.static(2, "upper")))


_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


@converts(Pad, dynamic=(4,))
def _pad(g):
    widths, mode, transposed = g.static(1, "widths"), g.static(2, "mode"), g.static(5, "transposed")
    if transposed:
        g.fail("the adjoint of padding")
    if mode == "circular" and g.opset < 19:
        g.fail("circular padding needs opset_version 19 or later")
    rank = g.a.args[0]._data.ndim
    before, after = [0] * rank, [0] * rank
    for i, (b, a) in enumerate(widths):
        before[rank - 1 - i], after[rank - 1 - i] = b, a
    inputs = [g.input(0), g.int64s(before + after)]
    if mode == "constant":
        inputs.append(g.scalar(g.static(3, "value") or 0, g.out_dtype))
    return g.node("Pad", inputs, mode=_PAD_MODES[mode])


# -- indexing ------------------------------------------------------------------------------------
@converts(GetItem, dynamic=(1,))
def _getitem(g):
    index_a, index_b = g.a.args[1], g.b.args[1]
    x = g.input(0)
    rank = g.a.args[0]._data.ndim
    arrays = [i for i, item in enumerate(index_a) if hasattr(item, "dtype") and getattr(item, "ndim", 0) > 0]
    if arrays:
        # One index array (an embedding lookup, x[:, idx]): Gather along its dim.
        if len(arrays) > 1 or any(not _full(item) for i, item in enumerate(index_a) if i != arrays[0]):
            g.fail("only one index array with full slices elsewhere (x[idx], x[:, idx]) can be exported")
        position = arrays[0]
        if any(item is Ellipsis or item is None for item in index_a):
            g.fail("an index array mixed with ... or None")
        indices = g.array_input(index_a[position], index_b[position], "index")
        return g.node("Gather", [x, indices], axis=position)
    if len(index_a) != len(index_b) or not all(_same_basic(p, q) for p, q in zip(index_a, index_b)):
        g.fail("its index changes with the dynamic axes")
    items = list(index_a)
    if Ellipsis in items:
        at = items.index(Ellipsis)
        used = sum(1 for item in items if item is not None and item is not Ellipsis)
        items[at : at + 1] = [slice(None)] * (rank - used)
    starts, ends, axes, steps, integers, new_axes = [], [], [], [], [], []
    dim = out = 0
    for item in items:
        if item is None:
            new_axes.append(out)
            out += 1
            continue
        if isinstance(item, slice):
            if not _full(item):
                step = 1 if item.step is None else item.step
                starts.append(item.start if item.start is not None else (0 if step > 0 else INT64_MAX))
                ends.append(item.stop if item.stop is not None else (INT64_MAX if step > 0 else INT64_MIN))
                axes.append(dim)
                steps.append(step)
            out += 1
        else:
            integers.append(dim)
        dim += 1
    if axes:
        x = g.node("Slice", [x, g.int64s(starts), g.int64s(ends), g.int64s(axes), g.int64s(steps)])
    for axis in reversed(integers):
        value = items[_item_position(items, axis)]
        x = g.node("Gather", [x, g.constant(np.asarray(int(value), np.int64), "index")], axis=axis)
    if new_axes:
        x = g.node("Unsqueeze", [x, g.int64s(new_axes)])
    return x if (axes or integers or new_axes) else g.node("Identity", [x])


def _full(item):
    return isinstance(item, slice) and item.start is None and item.stop is None and item.step in (None, 1)


def _same_basic(p, q):
    return (p is q) or (isinstance(p, (int, slice)) and p == q)


def _item_position(items, dim):
    """The position in ``items`` of the item that indexes input dim ``dim``."""
    seen = 0
    for i, item in enumerate(items):
        if item is None:
            continue
        if seen == dim:
            return i
        seen += 1
    raise IndexError(dim)


@converts(MaskedFill)
def _masked_fill(g):
    return g.node("Where", [g.input(1, np.bool_), g.input(2, g.out_dtype), g.input(0)])


@converts(Embedding)
def _embedding(g):
    """The lookup of ``Embedding(sparse=True)`` or ``scale_grad_by_freq=True`` (the flags change
    only the gradient): rows of the weight, as ONNX's Gather."""
    return g.node("Gather", [g.input(0), g.input(1)], axis=0)


@converts(Gather)
def _gather(g):
    return g.node("GatherElements", [g.input(0), g.input(2)], axis=g.static(1, "dim"))


# -- convolution and pooling ---------------------------------------------------------------------
def _window_attributes(geometry, spatial):
    """kernel_shape, strides, dilations, pads of a 2-D or 3-D geometry (or a 1-D one's second half:
    1-D windows run as 2-D ones of height 1)."""
    keep = slice(1, 2) if spatial == 1 else slice(None)
    return {
        "kernel_shape": list(geometry.kernel[keep]),
        "strides": list(geometry.stride[keep]),
        "dilations": list(geometry.dilation[keep]),
        "pads": list(geometry.pad_before[keep]) + list(geometry.pad_after[keep]),
    }


def _static_geometry(g, geometry_a, geometry_b):
    fields = ("kernel", "stride", "dilation", "pad_before", "pad_after", "spatial")
    if any(getattr(geometry_a, f) != getattr(geometry_b, f) for f in fields):
        g.fail("its windows change with the dynamic axes")


@converts(ConvNd, dynamic=(3,))
def _conv(g):
    geometry, groups, transposed = g.a.args[3], g.static(4, "groups"), g.static(5, "transposed")
    _static_geometry(g, geometry, g.b.args[3])
    attributes = _window_attributes(geometry, geometry.spatial)
    inputs = [g.input(0), g.input(1)] + ([g.input(2)] if g.a.args[2] is not None else [])
    if not transposed:
        return g.node("Conv", inputs, group=groups, **attributes)
    # The image side is the output: output_padding makes up what the strides leave over.
    keep = slice(1, 2) if geometry.spatial == 1 else slice(None)
    extra = [
        image - (stride * (out - 1) + dilation * (kernel - 1) + 1 - before - after)
        for image, out, stride, dilation, kernel, before, after in zip(
            geometry.image[keep], geometry.out[keep], geometry.stride[keep], geometry.dilation[keep],
            geometry.kernel[keep], geometry.pad_before[keep], geometry.pad_after[keep])
    ]
    return g.node("ConvTranspose", inputs, group=groups, output_padding=extra, **attributes)


@converts(MaxPool, dynamic=(1,))
def _max_pool(g):
    spatial, return_indices = g.static(2, "spatial"), g.static(3, "return_indices")
    if return_indices:
        g.fail("max pooling's indices (PyTorch's and ONNX's count differently)")
    windows = g.a.args[1]
    x = g.input(0)
    if isinstance(windows, FixedWindows):
        _static_geometry(g, windows.geometry, g.b.args[1].geometry)
        return g.node("MaxPool", [x], **_window_attributes(windows.geometry, spatial))
    if all(o == 1 for o in windows.out):
        return g.node("GlobalMaxPool", [x])
    if any(i % o for i, o in zip(windows.image, windows.out)):
        g.fail("adaptive max pooling whose windows differ in size")
    kernel = [i // o for i, o in zip(windows.image, windows.out)][len(windows.image) - spatial :]
    return g.node("MaxPool", [x], kernel_shape=kernel, strides=kernel)


@converts(AvgPool, dynamic=(1, 3))
def _avg_pool(g):
    geometry, divisor, transposed = g.a.args[1], g.a.args[2], g.static(4, "transposed")
    if transposed:
        g.fail("the adjoint of average pooling")
    _static_geometry(g, geometry, g.b.args[1])
    attributes = _window_attributes(geometry, geometry.spatial)
    out = g.node("AveragePool", [g.input(0)], count_include_pad=1, **attributes)
    window = math.prod(geometry.kernel)
    if isinstance(divisor, (int, float)) and divisor == window:
        return out
    # count_include_pad=False or divisor_override: the window sums over another divisor.
    factor = window / np.asarray(divisor, dtype=np.float64)
    if factor.ndim == 2 and geometry.spatial == 1:
        factor = factor.reshape(factor.shape[-1])
    return g.node("Mul", [out, g.constant(factor.astype(g.out_dtype), "divisor")])
