"""Unary elementwise ops: forward and backward side by side, backward written with tensor ops."""

import math

import numpy as np

from .. import _backend as backend, _dtypes as dtypes
from ..autograd.function import Function
from ..autograd.grad_mode import state as grad_state
from .._tensor import Tensor
from ._util import checked_scalar, promote, quiet, result_dtype, value, wrap, write_out
from .binary import Mul


def _float_input(x):
    if x._data.dtype.kind not in "fc":
        # NumPy would give float64; PyTorch gives the default float dtype for integer input.
        return x._data.astype(dtypes.default_float_numpy())
    return x._data


class Neg(Function):
    @staticmethod
    def forward(ctx, x):
        if x._data.dtype.kind == "b":
            raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.")
        return wrap(-x._data)

    @staticmethod
    def backward(ctx, grad_output):
        return -grad_output


class Abs(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return wrap(backend.array_module(x._data).abs(x._data))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        # NOTE: the subgradient at 0 is 0, as sign(0) = 0 in PyTorch.
        return grad_output * x.sign()


class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        with quiet():
            out = wrap(backend.unary(np.exp, _float_input(x)))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return grad_output * out


class Expm1(Function):
    @staticmethod
    def forward(ctx, x):
        with quiet():
            out = wrap(backend.array_module(x._data).expm1(_float_input(x)))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return grad_output * (out + 1)


class Log(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with quiet():
            return wrap(backend.unary(np.log, _float_input(x)))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output / x


class Log1p(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with quiet():
            return wrap(backend.array_module(x._data).log1p(_float_input(x)))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output / (x + 1)


class Sqrt(Function):
    @staticmethod
    def forward(ctx, x):
        with quiet():
            out = wrap(backend.array_module(x._data).sqrt(_float_input(x)))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return grad_output / (out * 2)


class Rsqrt(Function):
    @staticmethod
    def forward(ctx, x):
        with quiet():
            out = wrap(1 / backend.array_module(x._data).sqrt(_float_input(x)))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return grad_output * out.pow(3) * -0.5


class Sin(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return wrap(backend.array_module(x._data).sin(_float_input(x)))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * x.cos()


class Cos(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return wrap(backend.array_module(x._data).cos(_float_input(x)))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return -grad_output * x.sin()


class Tan(Function):
    @staticmethod
    def forward(ctx, x):
        with quiet():
            out = wrap(backend.array_module(x._data).tan(_float_input(x)))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return grad_output * (out * out + 1)


class Tanh(Function):
    @staticmethod
    def forward(ctx, x):
        out = wrap(backend.unary(np.tanh, _float_input(x)))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return grad_output * (1 - out * out)


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, x):
        data = _float_input(x)
        xp = backend.array_module(data)
        # NOTE: exp(-|x|) never overflows, so sigmoid(+-1e4) is exactly 1 or 0 with no warning.
        e = xp.exp(-xp.abs(data))
        out = wrap(xp.where(data >= 0, 1 / (1 + e), e / (1 + e)).astype(data.dtype, copy=False))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return grad_output * out * (1 - out)


class Relu(Function):
    # The gradient it returns is either new or the owned one it was handed, masked in place.
    _fresh_grads = True

    @staticmethod
    def forward(ctx, x):
        data = x._data
        out = wrap(backend.relu(data))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        owned = ctx.__dict__.pop("_owned_grad", False)
        (out,) = ctx.saved_tensors
        # PyTorch's threshold_backward(grad, result, 0): result <= 0 ? 0 : grad. The saved result is
        # >= 0 or NaN, so that mask is out != 0, one pass like out > 0 (mask and multiply measured
        # within ~1-2% of it, 1024 x 512 float32): relu'(0) is 0 and a NaN passes the gradient.
        if grad_state.enabled:  # create_graph: the mask is a constant factor of a differentiable Mul
            return Mul.apply(grad_output, wrap(out._data != 0))
        data = grad_output._data
        if owned and data.dtype == out._data.dtype and data.shape == out._data.shape and backend.is_writeable(data):
            # The incoming gradient is a new array nobody else holds (the engine says so): masking
            # it in place saves a fresh array per layer, written while the product that made it
            # is still in cache (~2% of the lecture MLP's step at batch 128 and 1024).
            backend.relu_backward(data, out._data, out=data)
            return grad_output
        return wrap(backend.relu_backward(data, out._data))


class Clamp(Function):
    """clamp(x, min, max); bounds are numbers, tensors or None."""

    @staticmethod
    def forward(ctx, x, low, high):
        data = x._data
        xp = backend.array_module(data)
        out = data
        if low is not None:
            out = xp.maximum(out, value(low))
        if high is not None:
            out = xp.minimum(out, value(high))
        ctx.save_for_backward(x, low, high)
        return wrap(out.astype(data.dtype, copy=False) if out is not data else out.copy())

    @staticmethod
    def backward(ctx, grad_output):
        x, low, high = ctx.saved_tensors
        inside = True
        if low is not None:
            inside = x >= low
        if high is not None:
            inside = (x <= high) if inside is True else inside & (x <= high)
        grad_x = grad_output * inside if ctx.needs_input_grad[0] else None
        grad_low = grad_output * (x < low) if ctx.needs_input_grad[1] else None
        # PyTorch's tie-break: where min > max the output is max, and the gradient goes to max.
        grad_high = grad_output * (x > high) if ctx.needs_input_grad[2] else None
        if grad_low is not None and high is not None:
            grad_low = grad_low * (low <= high)
        return grad_x, grad_low, grad_high


def _zero_gradient(name, compute):
    """A piecewise-constant op: differentiable with zero gradient everywhere, as in PyTorch.
    ``compute`` is the NumPy/CuPy function's name, or a function of the array."""
    if not callable(compute):
        function_name = compute

        def compute(data):
            return getattr(backend.array_module(data), function_name)(data)

    def forward(ctx, x):
        return wrap(compute(x._data))

    def backward(ctx, grad_output):
        return grad_output * 0

    return type(name, (Function,), {"forward": staticmethod(forward), "backward": staticmethod(backward), "__module__": __name__})


def _sign(data):
    """NumPy's sign, but sign(NaN) is 0 as PyTorch's (0 < x) - (x < 0)."""
    xp = backend.array_module(data)
    out = xp.sign(data)
    if data.dtype.kind == "f":
        out = xp.where(data != data, 0, out).astype(data.dtype, copy=False)
    return out


Sign = _zero_gradient("Sign", _sign)
Floor = _zero_gradient("Floor", "floor")
Ceil = _zero_gradient("Ceil", "ceil")
Trunc = _zero_gradient("Trunc", "trunc")


class Round(Function):
    @staticmethod
    def forward(ctx, x, decimals):
        return wrap(backend.array_module(x._data).round(x._data, decimals))

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * 0, None


class ToCopy(Function):
    """A copy to another dtype and/or device; the engine casts the gradient back to the input dtype."""

    @staticmethod
    def forward(ctx, x, dtype, device):
        data = x._data
        ctx.device = backend.device_of(data)
        if device is not None:
            data = backend.to_device(data, device)
        if dtype is not None and data.dtype != dtype:
            data = data.astype(dtype)
        elif data is x._data:
            data = data.copy()
        return wrap(data)

    @staticmethod
    def backward(ctx, grad_output):
        if grad_output.device != ctx.device:
            grad_output = grad_output.to(ctx.device)
        return grad_output, None, None


class Clone(Function):
    @staticmethod
    def forward(ctx, x):
        return wrap(x._data.copy())

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


def to_copy(x, dtype=None, device=None, copy=False):
    numpy_dtype = None if dtype is None else dtypes.to_numpy_dtype(dtype)
    target = None if device is None else backend.as_device(device)
    if target is not None and target.type == "cuda" and target.index is None and backend.SEVERAL_GPUS:
        target = backend.device("cuda", backend.current_cuda_index())  # a plain "cuda" is the current GPU
    if not copy and (numpy_dtype is None or numpy_dtype == x._data.dtype) and (target is None or target == x.device):
        return x
    if numpy_dtype is not None and numpy_dtype.kind not in "fc" and x.requires_grad:
        # The result cannot carry a gradient; PyTorch returns it detached from the graph.
        return wrap(backend.to_device(x._data, target or x.device).astype(numpy_dtype))
    return ToCopy.apply(x, numpy_dtype, target)


def clone(x):
    return Clone.apply(x)


def neg(x, *, out=None):
    if out is not None:
        return write_out(out, "neg", neg, x)
    return Neg.apply(x)


def abs(x, *, out=None):
    if out is not None:
        return write_out(out, "abs", abs, x)
    return Abs.apply(x)


def exp(x, *, out=None):
    if out is not None:
        return write_out(out, "exp", exp, x)
    return Exp.apply(x)


def expm1(x, *, out=None):
    if out is not None:
        return write_out(out, "expm1", expm1, x)
    return Expm1.apply(x)


def log(x, *, out=None):
    if out is not None:
        return write_out(out, "log", log, x)
    return Log.apply(x)


def log1p(x, *, out=None):
    if out is not None:
        return write_out(out, "log1p", log1p, x)
    return Log1p.apply(x)


def log2(x, *, out=None):
    if out is not None:
        return write_out(out, "log2", log2, x)
    return Log.apply(x) * (1 / math.log(2))


def log10(x, *, out=None):
    if out is not None:
        return write_out(out, "log10", log10, x)
    return Log.apply(x) * (1 / math.log(10))


def sqrt(x, *, out=None):
    if out is not None:
        return write_out(out, "sqrt", sqrt, x)
    return Sqrt.apply(x)


def rsqrt(x, *, out=None):
    if out is not None:
        return write_out(out, "rsqrt", rsqrt, x)
    return Rsqrt.apply(x)


def sin(x, *, out=None):
    if out is not None:
        return write_out(out, "sin", sin, x)
    return Sin.apply(x)


def cos(x, *, out=None):
    if out is not None:
        return write_out(out, "cos", cos, x)
    return Cos.apply(x)


def tan(x, *, out=None):
    if out is not None:
        return write_out(out, "tan", tan, x)
    return Tan.apply(x)


def tanh(x, *, out=None):
    if out is not None:
        return write_out(out, "tanh", tanh, x)
    return Tanh.apply(x)


def sigmoid(x, *, out=None):
    if out is not None:
        return write_out(out, "sigmoid", sigmoid, x)
    return Sigmoid.apply(x)


def relu(x):
    if x._data.dtype.kind == "b":
        raise RuntimeError("Boolean inputs not supported for relu")
    return Relu.apply(x)


def sign(x, *, out=None):
    if out is not None:
        return write_out(out, "sign", sign, x)
    return Sign.apply(x)


def floor(x, *, out=None):
    if out is not None:
        return write_out(out, "floor", floor, x)
    return Floor.apply(x) if x._data.dtype.kind == "f" else x.clone()


def ceil(x, *, out=None):
    if out is not None:
        return write_out(out, "ceil", ceil, x)
    return Ceil.apply(x) if x._data.dtype.kind == "f" else x.clone()


def trunc(x, *, out=None):
    if out is not None:
        return write_out(out, "trunc", trunc, x)
    return Trunc.apply(x) if x._data.dtype.kind == "f" else x.clone()


def round(x, *, decimals=0, out=None):
    if out is not None:
        return write_out(out, "round", round, x, decimals=decimals)
    return Round.apply(x, decimals)


def square(x, *, out=None):
    if out is not None:
        return write_out(out, "square", square, x)
    return x * x


def reciprocal(x, *, out=None):
    if out is not None:
        return write_out(out, "reciprocal", reciprocal, x)
    return 1 / x if x._data.dtype.kind in "fc" else 1.0 / x


def clamp(x, min=None, max=None, *, out=None):
    """Limit x to [min, max]; either bound may be None, a number or a tensor."""
    if out is not None:
        return write_out(out, "clamp", clamp, x, min, max)
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    for bound in (min, max):  # the result has the dtype of x and the bounds together
        if isinstance(bound, Tensor):
            target = result_dtype(x, bound)
            if x._data.dtype != target:
                x = x.to(dtypes.from_numpy_dtype(target))
        elif bound is not None:
            x, _ = promote(x, bound)
    if x._data.dtype.kind == "b":
        _check_bool_clamp(min, max)
    if isinstance(min, Tensor):
        min = min.to(x.dtype)
    if isinstance(max, Tensor):
        max = max.to(x.dtype)
    # Number bounds are converted to the result's dtype, refused where they do not fit (PyTorch).
    min, max = (b if b is None or isinstance(b, Tensor) else checked_scalar(b, x._data.dtype) for b in (min, max))
    return Clamp.apply(x, min, max)


def _check_bool_clamp(min, max):
    """PyTorch clamps a bool tensor only against one tensor bound (its minimum/maximum kernels)."""
    if min is None or max is None:
        if isinstance(min, Tensor) or isinstance(max, Tensor):
            return
        kernel = "clamp_min_scalar_cpu" if max is None else "clamp_max_scalar_cpu"
    else:
        kernel = "clamp_cpu" if isinstance(min, Tensor) or isinstance(max, Tensor) else "clamp_scalar_cpu"
    raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')


clip = clamp
