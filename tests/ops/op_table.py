"""The op table: one entry per differentiable op (PyTorch's OpInfo idea).

Each entry names the op, calls it the same way on ``tinytorch`` and on ``torch`` (``fn(lib, *args,
**kwargs)``), samples valid inputs (shapes with broadcasting, value domains, dims), and says
which arguments are differentiable. ``test_op_table.py`` checks every entry against float64 finite
differences and against torch; adding an entry adds its tests, and a coverage test fails when a
primitive ``Function`` is exercised by no entry.
"""

from dataclasses import dataclass, field
from collections.abc import Callable

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp


@dataclass
class OpInfo:
    name: str
    fn: Callable  # fn(lib, *args, **kwargs); lib is tinytorch or torch
    sample: Callable  # sample(draw, rng) -> (args, kwargs); float arrays become tensors
    differentiable: tuple = (0,)  # indices of args that get requires_grad
    torch: bool = True  # compare with torch
    finite_differences: bool = True  # False where float64 central differences cannot apply
    gradgrad: bool = True  # check second derivatives too
    atol: float = 1e-5
    rtol: float = 1e-3
    notes: str = ""
    extra: dict = field(default_factory=dict)


# -- samplers -----------------------------------------------------------------------------------
SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)


def values(rng, shape, low=-2.0, high=2.0, away_from=(), gap=0.05):
    """Uniform values in [low, high), pushed away from kinks (finite differences need smoothness)."""
    x = rng.uniform(low, high, size=shape)
    for kink in away_from:
        near = np.abs(x - kink) < gap
        x = np.where(near, kink + np.sign(x - kink + 1e-12) * gap * 2, x)
    return np.asarray(x, dtype=np.float64)


def broadcastable(draw, shape):
    """A shape that broadcasts with ``shape``: leading dims dropped, some dims set to 1."""
    drop = draw(st.integers(0, len(shape)))
    kept = list(shape[drop:])
    return tuple(1 if draw(st.booleans()) else s for s in kept)


def unary(low=-2.0, high=2.0, away_from=(), min_dims=0):
    shapes = hnp.array_shapes(min_dims=min_dims, max_dims=3, min_side=1, max_side=4)

    def sample(draw, rng):
        return [values(rng, draw(shapes), low, high, away_from)], {}

    return sample


def binary(low=-2.0, high=2.0, low_b=None, high_b=None, symmetric_b=False, swap=True):
    def sample(draw, rng):
        shape = draw(SHAPES)
        other = broadcastable(draw, shape)
        if swap and draw(st.booleans()):
            shape, other = other, shape
        b = values(rng, other, low if low_b is None else low_b, high if high_b is None else high_b)
        if symmetric_b:
            b = b * rng.choice([-1.0, 1.0], size=b.shape)
        return [values(rng, shape, low, high), b], {}

    return sample


def binary_apart(gap=0.01):
    """Two broadcastable operands never within ``gap`` of each other (max/min have a kink at ties)."""
    def sample(draw, rng):
        (a, b), kwargs = binary()(draw, rng)
        while (np.abs(a - b) < gap).any():
            b = np.asarray(b + 3 * gap)  # moves every difference; a few shifts clear all near-ties
        return [a, b], kwargs

    return sample


def dims_of(draw, ndim, allow_none=True, allow_tuple=True):
    """None, an int (maybe negative) or a tuple of distinct dims, valid for ``ndim``."""
    choices = ["int"] + (["none"] if allow_none else []) + (["tuple"] if allow_tuple else [])
    kind = draw(st.sampled_from(choices)) if ndim else "none"
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    picked = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(d - ndim if draw(st.booleans()) else d for d in picked)


def reduction(low=-2.0, high=2.0, allow_none=True, allow_tuple=True, keepdim=True, min_dims=0, distinct=False):
    """A tensor and valid reduction dims; ``distinct``: values 0.1 apart, for max/min, whose
    gradient has a kink at ties (two uniform draws 6e-7 apart once put one inside a finite
    difference)."""
    shapes = hnp.array_shapes(min_dims=min_dims, max_dims=3, min_side=1, max_side=4)

    def sample(draw, rng):
        shape = draw(shapes)
        kwargs = {}
        dim = dims_of(draw, len(shape), allow_none, allow_tuple)
        if dim is not None:
            kwargs["dim"] = dim
            if keepdim:
                kwargs["keepdim"] = draw(st.booleans())
        return [_distinct(rng, shape) if distinct else values(rng, shape, low, high)], kwargs

    return sample


def along_dim(low=-2.0, high=2.0, min_dims=1):
    """A tensor and one valid dim (for softmax, cumsum, ...)."""
    def sample(draw, rng):
        shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=3, min_side=1, max_side=4))
        ndim = max(len(shape), 1)
        return [values(rng, shape, low, high)], {"dim": draw(st.integers(-ndim, ndim - 1))}

    return sample


def matmul_shapes(draw, rng):
    n, m, p, b = (draw(st.integers(1, 4)) for _ in range(4))
    case = draw(st.sampled_from(["vv", "mv", "vm", "mm", "bm", "bb", "broadcast"]))
    shapes = {
        "vv": ((n,), (n,)), "mv": ((m, n), (n,)), "vm": ((n,), (n, p)), "mm": ((m, n), (n, p)),
        "bm": ((b, m, n), (n, p)), "bb": ((b, m, n), (b, n, p)), "broadcast": ((1, m, n), (b, 1, n, p)),
    }[case]
    return [values(rng, shapes[0]), values(rng, shapes[1])], {}


def linear_sample(draw, rng):
    batch = draw(st.sampled_from([(), (3,), (2, 3)]))
    fan_in, fan_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    return [values(rng, batch + (fan_in,)), values(rng, (fan_out, fan_in)), values(rng, (fan_out,))], {}


def many(count_low=1, count_high=3, same_shape=False):
    """Several tensors for cat/stack: same shape except (for cat) along the chosen dim."""
    def sample(draw, rng):
        shape = list(draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3)))
        dim = draw(st.integers(-len(shape), len(shape) - 1))
        arrays = []
        for _ in range(draw(st.integers(count_low, count_high))):
            s = list(shape)
            if not same_shape:
                s[dim] = draw(st.integers(1, 3))
            arrays.append(values(rng, tuple(s)))
        return arrays, {"dim": dim if same_shape is False else draw(st.integers(-len(shape) - 1, len(shape)))}

    return sample


def index_sample(draw, rng):
    """A tensor and an index mixing ints, slices, None, Ellipsis, integer arrays and masks."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    kind = draw(st.sampled_from(["int", "slice", "none_ellipsis", "int_array", "mask", "mixed"]))
    if kind == "int":
        index = draw(st.integers(-shape[0], shape[0] - 1))
    elif kind == "slice":
        index = (slice(draw(st.integers(0, shape[0])), None, draw(st.integers(1, 2))),)
    elif kind == "none_ellipsis":
        index = (None, Ellipsis, draw(st.integers(0, shape[-1] - 1)))
    elif kind == "int_array":
        # Repeated indices: their gradients must be summed.
        index = rng.integers(-shape[0], shape[0], size=draw(st.integers(1, 5)))
    elif kind == "mask":
        index = rng.random(shape) < 0.5
    else:
        index = (slice(None), rng.integers(0, shape[1], size=3)) if len(shape) > 1 else (rng.integers(0, shape[0], size=3),)
    return [values(rng, shape)], {"index": index}


def _torch_index(lib, index, like):
    """Index arrays become tensors of the library (so torch sees torch tensors), on ``like``'s device."""
    def convert(item):
        if isinstance(item, np.ndarray):
            return lib.as_tensor(item if item.dtype == bool else item.astype(np.int64), device=like.device)
        return item

    return tuple(convert(i) for i in index) if isinstance(index, tuple) else convert(index)


def gather_sample(draw, rng):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    index_shape = tuple(draw(st.integers(1, s)) for s in shape)
    index_shape = tuple(draw(st.integers(1, 4)) if i == dim % len(shape) else s for i, s in enumerate(index_shape))
    index = rng.integers(0, shape[dim], size=index_shape)
    return [values(rng, shape)], {"dim": dim, "index": index}


def scatter_sample(draw, rng):
    args, kwargs = gather_sample(draw, rng)
    return [args[0], values(rng, kwargs["index"].shape)], kwargs


def masked_fill_sample(draw, rng):
    shape = draw(SHAPES)
    return [values(rng, shape)], {"mask": rng.random(broadcastable(draw, shape)) < 0.5, "value": 0.5}


def _i64(lib, a, like):
    return lib.as_tensor(np.asarray(a, dtype=np.int64), device=like.device)


def _bool(lib, a, like):
    return lib.as_tensor(np.asarray(a, dtype=bool), device=like.device)


def scatter_unique_sample(draw, rng):
    """scatter with repeated targets is order-dependent in PyTorch: keep targets distinct along dim."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    k = draw(st.integers(1, shape[dim]))
    index = np.argsort(rng.random(shape), axis=dim)
    index = np.take(index, np.arange(k), axis=dim)
    return [values(rng, shape), values(rng, index.shape)], {"dim": dim, "index": index}


def division_apart(draw, rng):
    """``a`` and a broadcastable ``b`` (|b| in [0.5, 1.5], either sign) whose quotient is at least
    0.15 from a whole number, where the rounded quotient jumps (remainder's, fmod's and
    floor_divide's kinks)."""
    shape = draw(SHAPES)
    other = broadcastable(draw, shape)
    b = rng.uniform(0.5, 1.5, size=other) * rng.choice([-1.0, 1.0], size=other)
    quotient = rng.integers(-3, 3, size=shape) + rng.uniform(0.15, 0.85, size=shape)
    return [np.asarray(quotient * b, dtype=np.float64), np.asarray(b, dtype=np.float64)], {}


def kthvalue_sample(draw, rng):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4))
    ndim = max(len(shape), 1)
    dim = draw(st.integers(-ndim, ndim - 1))
    size = shape[dim] if shape else 1
    return [values(rng, shape)], {"k": draw(st.integers(1, size)), "dim": dim, "keepdim": draw(st.booleans())}


def quantile_sample(draw, rng):
    """A tensor, ``q`` (a float, or a 0-d or 1-D tensor, which gets a gradient), ``dim``, ``keepdim``
    and ``interpolation``; each q's rank is kept away from the kinks (whole ranks, and halves for
    'nearest')."""
    shape = draw(SHAPES)
    dim = draw(st.sampled_from([None] + list(range(-max(len(shape), 1), max(len(shape), 1)))))
    n = int(np.prod(shape)) if dim is None else (shape[dim] if shape else 1)
    interpolation = draw(st.sampled_from(["linear", "lower", "higher", "midpoint", "nearest"]))
    count = draw(st.sampled_from([None, 1, 2, 3]))  # None: one q

    def one_q():
        if n == 1:
            return float(rng.uniform(0, 1))
        whole = rng.integers(0, n - 1)
        fraction = rng.choice([rng.uniform(0.15, 0.4), rng.uniform(0.6, 0.85)])
        return float((whole + fraction) / (n - 1))

    q = one_q() if count is None else np.array([one_q() for _ in range(count)])
    if count is None and draw(st.booleans()):
        q = np.array(q)  # a 0-d tensor
    kwargs = {"dim": dim, "keepdim": draw(st.booleans()), "interpolation": interpolation}
    return [values(rng, shape), q], kwargs


# -- the table ----------------------------------------------------------------------------------
OPS = [
    # elementwise
    OpInfo("neg", lambda lib, x: -x, unary()),
    OpInfo("abs", lambda lib, x: x.abs(), unary(away_from=(0.0,))),
    OpInfo("exp", lambda lib, x: lib.exp(x), unary()),
    OpInfo("expm1", lambda lib, x: x.expm1(), unary()),
    OpInfo("log", lambda lib, x: x.log(), unary(0.1, 3.0)),
    OpInfo("log1p", lambda lib, x: lib.log1p(x), unary(-0.5, 3.0)),
    OpInfo("log2", lambda lib, x: x.log2(), unary(0.1, 3.0)),
    OpInfo("log10", lambda lib, x: x.log10(), unary(0.1, 3.0)),
    OpInfo("sqrt", lambda lib, x: x.sqrt(), unary(0.1, 3.0)),
    OpInfo("rsqrt", lambda lib, x: x.rsqrt(), unary(0.2, 3.0)),
    OpInfo("sin", lambda lib, x: x.sin(), unary()),
    OpInfo("cos", lambda lib, x: lib.cos(x), unary()),
    OpInfo("tan", lambda lib, x: x.tan(), unary(-1.0, 1.0)),
    OpInfo("tanh", lambda lib, x: x.tanh(), unary()),
    OpInfo("sigmoid", lambda lib, x: lib.sigmoid(x), unary(-6.0, 6.0)),
    OpInfo("relu", lambda lib, x: x.relu(), unary(away_from=(0.0,))),
    OpInfo("square", lambda lib, x: x.square(), unary()),
    OpInfo("reciprocal", lambda lib, x: x.reciprocal(), unary(0.3, 3.0)),
    OpInfo("sign", lambda lib, x: x.sign(), unary(away_from=(0.0,)), gradgrad=False),
    OpInfo("floor", lambda lib, x: x.floor(), unary(away_from=(-1.0, 0.0, 1.0)), gradgrad=False),
    OpInfo("ceil", lambda lib, x: x.ceil(), unary(away_from=(-1.0, 0.0, 1.0)), gradgrad=False),
    OpInfo("trunc", lambda lib, x: x.trunc(), unary(away_from=(-1.0, 0.0, 1.0)), gradgrad=False),
    OpInfo("round", lambda lib, x: x.round(), unary(away_from=(-1.5, -0.5, 0.5, 1.5)), gradgrad=False),
    OpInfo("clamp", lambda lib, x: x.clamp(-0.5, 0.7), unary(away_from=(-0.5, 0.7))),
    OpInfo("clamp_min", lambda lib, x: lib.clamp(x, min=-0.3), unary(away_from=(-0.3,))),
    OpInfo("clamp_tensor_bounds", lambda lib, x, lo, hi: x.clamp(lo, hi),
           lambda draw, rng: _clamp_tensors(draw, rng), differentiable=(0, 1, 2)),
    OpInfo("clone", lambda lib, x: x.clone() * 1, unary()),
    OpInfo("to_dtype", lambda lib, x: x.to(lib.float32).to(lib.float64), unary(), finite_differences=False, gradgrad=False),
    # binary, broadcasting both ways
    OpInfo("add", lambda lib, a, b: a + b, binary(), differentiable=(0, 1)),
    OpInfo("add_alpha", lambda lib, a, b: lib.add(a, b, alpha=-1.5), binary(), differentiable=(0, 1)),
    OpInfo("sub", lambda lib, a, b: a - b, binary(), differentiable=(0, 1)),
    OpInfo("mul", lambda lib, a, b: a * b, binary(), differentiable=(0, 1)),
    OpInfo("div", lambda lib, a, b: a / b, binary(low_b=0.5, high_b=2.0, symmetric_b=True), differentiable=(0, 1)),
    OpInfo("pow", lambda lib, a, b: a**b, binary(0.5, 2.0, -2.0, 2.0), differentiable=(0, 1)),
    OpInfo("pow_scalar", lambda lib, x: x**3 + x**-1.5 * 0 + x**0.5, unary(0.2, 2.0)),
    OpInfo("rpow", lambda lib, x: 2.5**x, unary()),
    OpInfo("scalar_arithmetic", lambda lib, x: (3 - x) * 2 + x / 4 - 1 + 2 / (x + 3), unary(-1.0, 1.0)),
    OpInfo("maximum", lambda lib, a, b: lib.maximum(a, b), binary_apart(), differentiable=(0, 1)),
    OpInfo("minimum", lambda lib, a, b: lib.minimum(a, b), binary_apart(), differentiable=(0, 1)),
    OpInfo("where", lambda lib, a, b, cond: lib.where(_bool(lib, cond, a), a, b),
           lambda draw, rng: _where_sample(draw, rng), differentiable=(0, 1)),
    OpInfo("remainder", lambda lib, a, b: a % b, division_apart, differentiable=(0, 1)),
    OpInfo("fmod", lambda lib, a, b: lib.fmod(a, b), division_apart, differentiable=(0, 1)),
    OpInfo("remainder_scalar", lambda lib, a: lib.remainder(a, 0.75), unary(away_from=(-2.25, -1.5, -0.75, 0.0, 0.75, 1.5))),
    OpInfo("div_floor", lambda lib, a, b: lib.div(a, b, rounding_mode="floor"), division_apart, differentiable=(0, 1), gradgrad=False),
    OpInfo("div_trunc", lambda lib, a, b: lib.div(a, b, rounding_mode="trunc"), division_apart,
           differentiable=(0, 1), gradgrad=False),
    OpInfo("lerp", lambda lib, a, b, w: lib.lerp(a, b, w), lambda draw, rng: _three(draw, rng), differentiable=(0, 1, 2)),
    OpInfo("masked_fill", lambda lib, x, mask, value: x.masked_fill(_bool(lib, mask, x), value), masked_fill_sample),
    OpInfo("masked_fill_tensor_value", lambda lib, x, v, mask: x.masked_fill(_bool(lib, mask, x), v),
           lambda draw, rng: _masked_fill_tensor(draw, rng), differentiable=(0, 1)),
    # linear algebra
    OpInfo("matmul", lambda lib, a, b: a @ b, matmul_shapes, differentiable=(0, 1)),
    OpInfo("linear", lambda lib, x, w, b: lib.nn.functional.linear(x, w, b), linear_sample, differentiable=(0, 1, 2)),
    # reductions (dim: None, int, negative, tuple; keepdim)
    OpInfo("sum", lambda lib, x, **kw: x.sum(**kw), reduction()),
    OpInfo("mean", lambda lib, x, **kw: x.mean(**kw), reduction()),
    OpInfo("var", lambda lib, x, **kw: x.var(**kw, correction=0), reduction()),
    OpInfo("var_unbiased", lambda lib, x, **kw: lib.var(x, **kw), lambda draw, rng: _big_enough(draw, rng)),
    OpInfo("std", lambda lib, x, **kw: x.std(**kw), lambda draw, rng: _big_enough(draw, rng)),
    OpInfo("prod", lambda lib, x, **kw: x.prod(**kw), reduction(0.5, 1.5, allow_tuple=False)),
    OpInfo("prod_with_zero", lambda lib, x: x.prod(), lambda draw, rng: _with_a_zero(draw, rng), gradgrad=False),
    OpInfo("amax", lambda lib, x, **kw: x.amax(**kw) if kw else x.amax(), reduction(distinct=True)),
    OpInfo("amin", lambda lib, x, **kw: lib.amin(x, **kw) if kw else x.amin(), reduction(distinct=True)),
    OpInfo("max_full", lambda lib, x: x.max(), lambda draw, rng: ([_distinct(rng, draw(SHAPES))], {})),
    OpInfo("max_dim", lambda lib, x, dim, keepdim=False: x.max(dim, keepdim).values,
           reduction(allow_none=False, allow_tuple=False, min_dims=1, distinct=True)),
    OpInfo("min_dim", lambda lib, x, dim, keepdim=False: lib.min(x, dim, keepdim)[0],
           reduction(allow_none=False, allow_tuple=False, min_dims=1, distinct=True)),
    OpInfo("logsumexp", lambda lib, x, dim, keepdim=False: x.logsumexp(dim, keepdim),
           reduction(-5.0, 5.0, allow_none=False, min_dims=1)),
    OpInfo("softmax", lambda lib, x, dim: x.softmax(dim), along_dim(-4.0, 4.0, min_dims=0)),
    OpInfo("log_softmax", lambda lib, x, dim: x.log_softmax(dim), along_dim(-4.0, 4.0, min_dims=0)),
    OpInfo("cumsum", lambda lib, x, dim: x.cumsum(dim), along_dim(min_dims=0)),
    OpInfo("norm", lambda lib, x, **kw: x.norm(p=2, **kw), reduction()),
    OpInfo("norm_fro", lambda lib, x: x.norm(), unary()),
    OpInfo("norm_p3", lambda lib, x: x.norm(p=3), unary(away_from=(0.0,))),
    OpInfo("norm_p1", lambda lib, x: x.norm(p=1, dim=-1), unary(away_from=(0.0,))),
    OpInfo("norm_inf", lambda lib, x: lib.norm(x, p=float("inf")), unary()),
    OpInfo("sort_values", lambda lib, x, dim: x.sort(dim, descending=True).values, along_dim(min_dims=0)),
    OpInfo("topk_values", lambda lib, x: x.topk(1, dim=-1).values, unary(min_dims=1)),
    OpInfo("kthvalue", lambda lib, x, k, dim, keepdim: x.kthvalue(k, dim, keepdim).values, kthvalue_sample),
    OpInfo("mode", lambda lib, x, dim, keepdim=False: lib.mode(x, dim, keepdim).values,
           reduction(allow_none=False, allow_tuple=False, min_dims=1)),
    OpInfo("median_all", lambda lib, x: x.median(), unary()),
    OpInfo("median_dim", lambda lib, x, dim, keepdim=False: lib.median(x, dim, keepdim).values,
           reduction(allow_none=False, allow_tuple=False, min_dims=1)),
    OpInfo("nanmedian_all", lambda lib, x: lib.nanmedian(x), unary()),
    OpInfo("nanmedian_dim", lambda lib, x, dim, keepdim=False: x.nanmedian(dim, keepdim)[0],
           reduction(allow_none=False, allow_tuple=False, min_dims=1)),
    OpInfo("quantile", lambda lib, x, q, **kw: lib.quantile(x, q, **kw), quantile_sample, differentiable=(0, 1)),
    OpInfo("nanquantile", lambda lib, x, q, **kw: x.nanquantile(q, **kw), quantile_sample, differentiable=(0, 1)),
    # movement
    OpInfo("reshape", lambda lib, x: x.reshape(-1), unary()),
    OpInfo("view", lambda lib, x: x.view(1, -1, 1), unary()),
    OpInfo("flatten", lambda lib, x: x.flatten(), unary()),
    OpInfo("unflatten", lambda lib, x: x.reshape(-1).unflatten(0, (1, -1)), unary()),
    OpInfo("squeeze", lambda lib, x: x.squeeze(), unary()),
    OpInfo("unsqueeze", lambda lib, x: x.unsqueeze(0).unsqueeze(-1), unary()),
    OpInfo("transpose", lambda lib, x: x.transpose(0, -1), unary(min_dims=1)),
    OpInfo("permute", lambda lib, x: x.permute(*reversed(range(x.dim()))), unary(min_dims=1)),
    OpInfo("mT", lambda lib, x: x.mT, lambda draw, rng: ([values(rng, draw(hnp.array_shapes(min_dims=2, max_dims=3, max_side=4)))], {})),
    OpInfo("t", lambda lib, x: x.t(), lambda draw, rng: ([values(rng, draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=4)))], {})),
    OpInfo("expand", lambda lib, x: x.expand(2, *x.shape), unary()),
    OpInfo("expand_ones", lambda lib, x: x.reshape(1, -1).expand(3, -1), unary()),
    OpInfo("broadcast_to", lambda lib, x, y: lib.broadcast_to(x, lib.broadcast_shapes(x.shape, y.shape)) * 1, binary()),
    OpInfo("sum_to_size", lambda lib, x: x.expand(2, *x.shape).sum_to_size(x.shape), unary()),
    OpInfo("repeat", lambda lib, x: x.repeat(2, *([1] * x.dim())), unary()),
    OpInfo("repeat_inner", lambda lib, x: x.repeat(*([2] * x.dim())), unary(min_dims=1)),
    OpInfo("cat", lambda lib, *xs, dim: lib.cat(xs, dim), many(), differentiable=(0, 1, 2)),
    OpInfo("stack", lambda lib, *xs, dim: lib.stack(xs, dim), many(same_shape=True), differentiable=(0, 1, 2)),
    OpInfo("split", lambda lib, x, dim: x.split(2, dim), along_dim(min_dims=1)),
    OpInfo("split_sizes", lambda lib, x: x.split([1, x.shape[0] - 1]), lambda draw, rng: ([values(rng, (draw(st.integers(2, 5)), 3))], {})),
    OpInfo("chunk", lambda lib, x, dim: x.chunk(2, dim), along_dim(min_dims=1)),
    OpInfo("unbind", lambda lib, x, dim: x.unbind(dim), along_dim(min_dims=1)),
    OpInfo("narrow", lambda lib, x: x.narrow(-1, 0, 1), unary(min_dims=1)),
    OpInfo("flip", lambda lib, x, dim: x.flip(dim), along_dim(min_dims=1)),
    OpInfo("roll", lambda lib, x, dim: x.roll(1, dim), along_dim(min_dims=1)),
    OpInfo("roll_flat", lambda lib, x: x.roll(2), unary()),
    OpInfo("tril", lambda lib, x: x.tril(), lambda draw, rng: ([values(rng, draw(hnp.array_shapes(min_dims=2, max_dims=3, max_side=4)))], {})),
    OpInfo("triu", lambda lib, x: x.triu(1), lambda draw, rng: ([values(rng, draw(hnp.array_shapes(min_dims=2, max_dims=3, max_side=4)))], {})),
    OpInfo("diagonal", lambda lib, x: x.diagonal(), lambda draw, rng: ([values(rng, draw(hnp.array_shapes(min_dims=2, max_dims=3, max_side=4)))], {})),
    OpInfo("movedim", lambda lib, x: x.movedim(0, -1), unary(min_dims=1)),
    OpInfo("diag", lambda lib, x, diagonal: lib.diag(x, diagonal), lambda draw, rng: _diag_sample(draw, rng)),
    # indexing
    OpInfo("getitem", lambda lib, x, index: x[_torch_index(lib, index, x)], index_sample),
    OpInfo("index_select", lambda lib, x, index, dim: x.index_select(dim, _i64(lib, index, x)), lambda draw, rng: _index_select(draw, rng)),
    OpInfo("gather", lambda lib, x, dim, index: x.gather(dim, _i64(lib, index, x)), gather_sample),
    OpInfo("scatter_add", lambda lib, x, src, dim, index: x.scatter_add(dim, _i64(lib, index, x), src), scatter_sample, differentiable=(0, 1)),
    OpInfo("scatter", lambda lib, x, src, dim, index: x.scatter(dim, _i64(lib, index, x), src),
           scatter_unique_sample, differentiable=(0, 1)),
    OpInfo("masked_select", lambda lib, x, mask: x.masked_select(_bool(lib, mask, x)), lambda draw, rng: _mask_same(draw, rng)),
    OpInfo("setitem", lambda lib, x, v, index: _setitem(x, v, _torch_index(lib, index, x)), lambda draw, rng: _setitem_sample(draw, rng), differentiable=(0, 1)),
    OpInfo("copy_", lambda lib, x, src: _copy_into(lib, x, src), binary(swap=False), differentiable=(0, 1)),
    OpInfo("fill_", lambda lib, x, v: _fill(x, v), lambda draw, rng: ([values(rng, draw(SHAPES)), values(rng, ())], {}), differentiable=(0, 1)),
    OpInfo("getitem_double_backward", lambda lib, x, index: _grad_of_indexed_square(lib, x, _torch_index(lib, index, x)), index_sample),
    OpInfo("inplace_chain", lambda lib, x, y: _inplace_chain(x, y), binary(0.5, 2.0, swap=False), differentiable=(0, 1)),
]


def _clamp_tensors(draw, rng):
    shape = draw(SHAPES)
    low = values(rng, broadcastable(draw, shape), -1.0, 0.0)
    high = values(rng, broadcastable(draw, shape), 0.2, 1.0)
    x = values(rng, shape, -1.5, 1.5)
    # Keep x away from the bounds so finite differences do not straddle a kink.
    lo_b, hi_b = np.broadcast_to(low, np.broadcast_shapes(shape, low.shape, high.shape)), np.broadcast_to(high, np.broadcast_shapes(shape, low.shape, high.shape))
    xb = np.broadcast_to(x, lo_b.shape)
    if np.any(np.abs(xb - lo_b) < 0.02) or np.any(np.abs(xb - hi_b) < 0.02):
        x = np.asarray(x + 0.011)
    return [x, low, high], {}


def _where_sample(draw, rng):
    (a, b), _ = binary()(draw, rng)
    cond = rng.random(np.broadcast_shapes(a.shape, b.shape)) < 0.5
    return [a, b, cond], {}


def _three(draw, rng):
    shape = draw(SHAPES)
    return [values(rng, shape), values(rng, broadcastable(draw, shape)), values(rng, broadcastable(draw, shape), 0.0, 1.0)], {}


def _masked_fill_tensor(draw, rng):
    shape = draw(SHAPES)
    return [values(rng, shape), values(rng, ()), rng.random(shape) < 0.5], {}


def _big_enough(draw, rng):
    """Samples for unbiased var/std: reduced dims must hold at least two elements."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=4))
    dim = dims_of(draw, len(shape))
    kwargs = {} if dim is None else {"dim": dim, "keepdim": draw(st.booleans())}
    return [values(rng, shape)], kwargs


def _with_a_zero(draw, rng):
    x = values(rng, draw(hnp.array_shapes(min_dims=1, max_dims=2, min_side=2, max_side=4)), 0.5, 1.5)
    x.reshape(-1)[rng.integers(0, x.size)] = 0.0
    return [x], {}


def _diag_sample(draw, rng):
    """A vector (onto a matrix's diagonal) or a matrix (its diagonal), with an offset either way."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=4))
    reach = shape[-1] if len(shape) == 2 else 3
    return [values(rng, shape)], {"diagonal": draw(st.integers(-reach, reach))}


def _index_select(draw, rng):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    return [values(rng, shape)], {"index": rng.integers(0, shape[dim], size=draw(st.integers(1, 5))), "dim": dim}


def _mask_same(draw, rng):
    shape = draw(SHAPES)
    return [values(rng, shape), rng.random(shape) < 0.5], {}


def _setitem(x, v, index):
    y = x * 1
    y[index] = v
    return y


def _setitem_sample(draw, rng):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=4))
    index = (slice(0, 1),) if draw(st.booleans()) else (0,)
    target = np.zeros(shape)[index].shape
    return [values(rng, shape), values(rng, broadcastable(draw, target))], {"index": index}


def _grad_of_indexed_square(lib, x, index):
    """d/dx sum(x[index]^2) with create_graph: indexing's backward (a scatter) is itself differentiated."""
    with lib.enable_grad():
        source = x if x.requires_grad else x.detach().requires_grad_()
        (grad,) = lib.autograd.grad((source[index] ** 2).sum(), source, create_graph=True)
    return grad


def _copy_into(lib, x, src):
    """copy_ overwrites x (no gradient to its old values) and sends the gradient to src."""
    y = x * 2
    y.copy_(src * 3)
    return y * x


def _fill(x, value):
    y = x * 2
    z = y.clone()
    z.fill_(value * 2)
    return z + y


def _inplace_chain(x, y):
    """In-place ops on a non-leaf record the graph like their out-of-place versions."""
    z = x * 1
    z.mul_(y)
    z.add_(y, alpha=2)
    z.div_(2.0)
    z.sub_(x)
    return z


# -- nn: the fused Functions of tinytorch/_ops/nn_ops.py ----------------------------------------
def _class_logits(draw, rng, extra_dims=True):
    """Logits (C,), (N, C) or (N, C, d) and int64 class indices of the matching shape."""
    classes = draw(st.integers(1, 4))
    layout = draw(st.sampled_from(["unbatched", "batched", "spatial"] if extra_dims else ["batched"]))
    batch = draw(st.integers(1, 3))
    shape = {"unbatched": (classes,), "batched": (batch, classes), "spatial": (batch, classes, draw(st.integers(1, 3)))}[layout]
    target_shape = shape[:1] + shape[2:] if len(shape) > 1 else ()
    return values(rng, shape, -3.0, 3.0), rng.integers(0, classes, size=target_shape), classes


def _cross_entropy_indices(draw, rng):
    logits, target, classes = _class_logits(draw, rng)
    kwargs = {"reduction": draw(st.sampled_from(["mean", "sum", "none"])), "label_smoothing": draw(st.sampled_from([0.0, 0.2, 1.0]))}
    if draw(st.booleans()):
        kwargs["weight"] = list(rng.uniform(0.5, 2.0, size=classes))
    if draw(st.booleans()) and target.size > 1:
        target.reshape(-1)[0] = -100  # ignored; the rest keeps the mean's denominator non-zero
    return [logits, target], kwargs


def _cross_entropy_probabilities(draw, rng):
    logits, _, classes = _class_logits(draw, rng)
    probs = rng.uniform(0.1, 1.0, size=logits.shape)
    probs = probs / probs.sum(axis=1 if probs.ndim > 1 else 0, keepdims=True)
    kwargs = {"reduction": draw(st.sampled_from(["mean", "sum", "none"])), "label_smoothing": draw(st.sampled_from([0.0, 0.1]))}
    if draw(st.booleans()):
        kwargs["weight"] = list(rng.uniform(0.5, 2.0, size=classes))
    return [logits, probs], kwargs


def _cross_entropy(lib, x, target, weight=None, **kwargs):
    weight = None if weight is None else lib.tensor(weight, dtype=x.dtype, device=x.device)
    if not (isinstance(target, np.ndarray) and target.dtype.kind == "f" or getattr(target, "dtype", None) in (lib.float32, lib.float64)):
        target = _i64(lib, target, x)
    return lib.nn.functional.cross_entropy(x, target, weight=weight, **kwargs)


def _binary_sample(low, high):
    def sample(draw, rng):
        shape = draw(SHAPES)
        kwargs = {"reduction": draw(st.sampled_from(["mean", "sum", "none"]))}
        if draw(st.booleans()):
            kwargs["weight"] = values(rng, broadcastable(draw, shape), 0.5, 2.0).tolist()
        return [values(rng, shape, low, high), values(rng, shape, 0.0, 1.0)], kwargs

    return sample


def _bce_with_logits_sample(draw, rng):
    args, kwargs = _binary_sample(-4.0, 4.0)(draw, rng)
    if draw(st.booleans()):
        kwargs["pos_weight"] = values(rng, broadcastable(draw, args[0].shape), 0.5, 3.0).tolist()
    return args, kwargs


def _bce_with_logits_weights_sample(draw, rng):
    """weight and pos_weight as tensors that require grad: tinytorch's fused backward
    differentiates them too (PyTorch refuses them), so finite differences are the only oracle."""
    shape = draw(SHAPES)
    weight, pos_weight = values(rng, broadcastable(draw, shape), 0.5, 2.0), values(rng, broadcastable(draw, shape), 0.5, 3.0)
    return [values(rng, shape, -4.0, 4.0), values(rng, shape, 0.0, 1.0), weight, pos_weight], {"reduction": draw(st.sampled_from(["mean", "sum", "none"]))}


def _as_weights(lib, x, kwargs):
    return {k: (lib.tensor(v, dtype=x.dtype, device=x.device) if k in ("weight", "pos_weight") else v) for k, v in kwargs.items()}


OPS += [
    OpInfo("cross_entropy", _cross_entropy, _cross_entropy_indices),
    OpInfo("cross_entropy_probabilities", _cross_entropy, _cross_entropy_probabilities, differentiable=(0, 1)),
    OpInfo("binary_cross_entropy_with_logits", lambda lib, x, t, **kw: lib.nn.functional.binary_cross_entropy_with_logits(x, t, **_as_weights(lib, x, kw)),
           _bce_with_logits_sample, differentiable=(0, 1)),
    OpInfo("binary_cross_entropy", lambda lib, x, t, **kw: lib.nn.functional.binary_cross_entropy(x, t, **_as_weights(lib, x, kw)),
           _binary_sample(0.05, 0.95), differentiable=(0, 1)),
    OpInfo("binary_cross_entropy_with_logits_weights",
           lambda lib, x, t, w, p, **kw: lib.nn.functional.binary_cross_entropy_with_logits(x, t, weight=w, pos_weight=p, **kw),
           _bce_with_logits_weights_sample, differentiable=(0, 1, 2, 3), torch=False),
    OpInfo("erf", lambda lib, x: lib.erf(x), unary(-3.0, 3.0)),
    OpInfo("gelu_erf", lambda lib, x: lib.nn.functional.gelu(x), unary(-4.0, 4.0)),
]


# -- linear_cross_entropy (tinytorch/nn/_linear_cross_entropy.py) ---------------------------------
def _linear_cross_entropy_sample(draw, rng, chunked=True):
    """(N, F) input, (C, *out_features, F) weight and bias, int64 targets (one ignored at times);
    chunked: (C, F) weight and a chunk size that splits the rows unevenly."""
    rows, features, classes = draw(st.integers(1, 5)), draw(st.integers(1, 3)), draw(st.integers(1, 4))
    out_features = () if chunked else tuple(draw(st.lists(st.integers(1, 2), min_size=0, max_size=2)))
    target = rng.integers(0, classes, size=(rows, *out_features))
    kwargs = {"reduction": draw(st.sampled_from(["mean", "sum", "none"]))}
    if draw(st.booleans()):
        kwargs["weight"] = list(rng.uniform(0.5, 2.0, size=classes))
    if draw(st.booleans()) and target.size > 1:
        target.reshape(-1)[0] = -100  # ignored; the rest keeps the mean's denominator non-zero
    if chunked:
        kwargs["batch_chunk_size"] = draw(st.integers(1, 3))
    elif draw(st.booleans()):
        kwargs["label_smoothing"] = 0.2
    weight = values(rng, (classes, *out_features, features))
    return [values(rng, (rows, features)), weight, values(rng, weight.shape[:-1]), target], kwargs


def _linear_cross_entropy(lib, x, linear_weight, linear_bias, target, weight=None, batch_chunk_size=None, **kwargs):
    weight = None if weight is None else lib.tensor(weight, dtype=x.dtype, device=x.device)
    options = None if batch_chunk_size is None else lib.nn.LinearCrossEntropyOptions(batch_chunk_size=batch_chunk_size)
    return lib.nn.functional.linear_cross_entropy(x, linear_weight, _i64(lib, target, x), linear_bias=linear_bias,
                                                  weight=weight, options=options, **kwargs)


OPS += [
    OpInfo("linear_cross_entropy_chunked", _linear_cross_entropy, _linear_cross_entropy_sample, differentiable=(0, 1, 2)),
    OpInfo("linear_cross_entropy", _linear_cross_entropy, lambda draw, rng: _linear_cross_entropy_sample(draw, rng, False),
           differentiable=(0, 1, 2)),
]


# -- linear algebra: tinytorch.linalg's primitives (tinytorch/_ops/linalg.py) and composites ------
# Inputs are well-conditioned by construction (singular values or eigenvalues kept apart and away
# from 0, as PyTorch's own samples), and outputs whose sign is a convention (singular vectors,
# eigenvectors, QR's factors) are compared through functions that do not depend on it.
BATCHES = st.sampled_from([(), (2,), (2, 1)])


def orthogonal(rng, batch, n):
    q, r = np.linalg.qr(rng.standard_normal(batch + (n, n)))
    return q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]


def spread(rng, batch, k, low=1.0, gap=0.5):
    """k values per batch element, at least ``gap`` apart, from ``low`` up, in random order."""
    values = low + gap * np.arange(k) + rng.uniform(0, gap / 3, size=batch + (k,))
    return rng.permuted(values, axis=-1)


def with_singular_values(rng, batch, m, n, values=None):
    k = min(m, n)
    values = spread(rng, batch, k) if values is None else values
    return (orthogonal(rng, batch, m)[..., :k] * values[..., None, :]) @ orthogonal(rng, batch, n)[..., :k, :]


def symmetric(rng, batch, n, eigenvalues):
    q = orthogonal(rng, batch, n)
    return (q * eigenvalues[..., None, :]) @ q.swapaxes(-2, -1)


def square_sample(draw, rng):
    batch, n = draw(BATCHES), draw(st.integers(1, 4))
    return [with_singular_values(rng, batch, n, n)], {}


def rectangular_sample(draw, rng):
    batch, m, n = draw(BATCHES), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    return [with_singular_values(rng, batch, m, n)], {}


def singular_sample(draw, rng):
    """Square matrices of rank n - 1 (det 0 up to rounding), in a batch with invertible ones: det's
    gradient is the cofactor matrix, from the SVD for the singular ones and the inverse for the others."""
    batch, n = draw(BATCHES), draw(st.integers(1, 4))
    values = spread(rng, batch, n)
    values[..., 0] = np.where(rng.random(batch) < 0.7, 0.0, values[..., 0]) if batch else 0.0
    return [with_singular_values(rng, batch, n, n, values)], {}


def spd_sample(draw, rng):
    batch, n = draw(BATCHES), draw(st.integers(1, 4))
    return [symmetric(rng, batch, n, spread(rng, batch, n))], {"upper": draw(st.booleans())}


def eigh_sample(draw, rng):
    batch, n = draw(BATCHES), draw(st.integers(1, 4))
    eigenvalues = spread(rng, batch, n, low=-1.0 - 0.5 * n) * rng.choice([-1.0, 1.0], size=batch + (1,))
    return [symmetric(rng, batch, n, eigenvalues)], {"UPLO": draw(st.sampled_from(["L", "U"]))}


def solve_sample(draw, rng):
    """A and B, B a vector, a batch of vectors, a matrix or a batch of matrices; batch dims broadcast."""
    batch, n, k = draw(BATCHES), draw(st.integers(1, 4)), draw(st.integers(1, 3))
    a = with_singular_values(rng, batch, n, n)
    kind = draw(st.sampled_from(["vector", "batched_vector", "matrix", "broadcast", "left_false"]))
    if kind == "vector":
        return [a, values(rng, (n,))], {}
    if kind == "batched_vector":
        return [a, values(rng, batch + (n,))], {}
    if kind == "matrix":
        return [a, values(rng, batch + (n, k))], {}
    if kind == "broadcast":
        return [a[..., :1, :, :] if batch else a, values(rng, (3,) + batch + (n, k))], {}
    return [a, values(rng, batch + (k, n))], {"left": False}


def qr_sample(draw, rng):
    [a], _ = rectangular_sample(draw, rng)
    m, n = a.shape[-2:]
    return [a], {"mode": draw(st.sampled_from(["reduced", "complete"] if m <= n else ["reduced"]))}


def svd_sample(draw, rng):
    [a], _ = rectangular_sample(draw, rng)
    return [a], {"full_matrices": draw(st.booleans())}


def pinv_sample(draw, rng):
    if draw(st.booleans()):
        batch, n = draw(BATCHES), draw(st.integers(1, 4))
        eigenvalues = spread(rng, batch, n) * rng.choice([-1.0, 1.0], size=batch + (n,))
        return [symmetric(rng, batch, n, eigenvalues)], {"hermitian": True}
    return rectangular_sample(draw, rng)


def lstsq_sample(draw, rng):
    batch, n = draw(BATCHES), draw(st.integers(1, 3))
    m = draw(st.integers(n, 5))
    a = with_singular_values(rng, batch, m, n)
    b = values(rng, batch + (m,)) if draw(st.booleans()) else values(rng, batch + (m, draw(st.integers(1, 3))))
    return [a, b], {"driver": draw(st.sampled_from(["gelsd", "gelss", "gelsy", "gels"]))}


def matrix_power_sample(draw, rng):
    [a], _ = square_sample(draw, rng)
    return [a * 0.7], {"n": draw(st.integers(-3, 5))}


def cross_sample(draw, rng):
    shape = list(draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3)))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    shape[dim] = 3
    other = [1 if draw(st.booleans()) and i != dim % len(shape) else s for i, s in enumerate(shape)]
    return [values(rng, tuple(shape)), values(rng, tuple(other))], {"dim": dim}


def vector_norm_sample(draw, rng):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4))
    kwargs = {"ord": draw(st.sampled_from([2, 1, 3, 1.5, 0.5, -1, 0, float("inf"), float("-inf")]))}
    dim = dims_of(draw, len(shape))
    if dim is not None:
        kwargs.update(dim=dim, keepdim=draw(st.booleans()))
    return [values(rng, shape, away_from=(0.0,), gap=0.1)], kwargs


def matrix_norm_sample(draw, rng):
    shape = draw(hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=4))
    first = draw(st.integers(0, len(shape) - 1))
    second = draw(st.integers(0, len(shape) - 1).filter(lambda d: d != first))
    kwargs = {"ord": draw(st.sampled_from(["fro", "nuc", 2, -2, 1, -1, float("inf"), float("-inf")])),
              "dim": (first - len(shape) if draw(st.booleans()) else first, second), "keepdim": draw(st.booleans())}
    moved = np.moveaxis(np.zeros(shape), (first, second), (-2, -1)).shape
    # Distinct singular values (2, -2, nuc) and no ties or zeros among |a| (1, inf).
    a = with_singular_values(rng, moved[:-2], *moved[-2:]) + 0.01 * rng.standard_normal(moved)
    # Contiguous: finite differences perturb the array through a flat view.
    return [np.ascontiguousarray(np.moveaxis(np.where(np.abs(a) < 0.05, 0.1, a), (-2, -1), (first, second)))], kwargs


def norm_sample(draw, rng):
    kind = draw(st.sampled_from(["flat", "vector", "matrix"]))
    if kind == "flat":
        return [values(rng, draw(SHAPES), away_from=(0.0,))], {}
    if kind == "vector":
        return [values(rng, (draw(st.integers(1, 4)),), away_from=(0.0,))], {"ord": draw(st.sampled_from([1, 2, 3, float("inf")]))}
    [a], _ = rectangular_sample(draw, rng)
    return [a.reshape((-1,) + a.shape[-2:])[0].copy()], {"ord": draw(st.sampled_from(["fro", "nuc", 2, 1]))}


def _signs_fixed(lib, q, r):
    """Q and R with R's diagonal made positive: the same factors whatever sign convention made them."""
    k = min(q.shape[-1], r.shape[-2])
    signs = r.diagonal(0, -2, -1)[..., :k].sign()  # R's diagonal has no zero: A has full rank
    q = lib.cat([q[..., :k] * signs.unsqueeze(-2), q[..., k:]], -1)
    return q, r * signs.unsqueeze(-1)


def _svd_gauge(lib, a, full_matrices):
    u, s, vh = lib.linalg.svd(a, full_matrices=full_matrices)
    k = s.shape[-1]  # with full_matrices, the columns past k are any basis of the complement
    # Squares, not abs, make the vectors sign-free: a component within a finite-difference step
    # of 0 (seen: 1.3e-7 in a 4x4 eigh) puts abs's kink between the two evaluations.
    return u[..., :k] * u[..., :k], s, vh[..., :k, :] * vh[..., :k, :], u[..., :k] @ vh[..., :k, :]


def _symmetric(a):
    return (a + a.mT) / 2


OPS += [
    OpInfo("linalg_inv", lambda lib, a: lib.linalg.inv(a), square_sample),
    OpInfo("inverse", lambda lib, a: a.inverse(), square_sample),
    OpInfo("linalg_solve", lambda lib, a, b, **kw: lib.linalg.solve(a, b, **kw), solve_sample, differentiable=(0, 1)),
    OpInfo("linalg_det", lambda lib, a: lib.linalg.det(a), square_sample),
    # At a singular matrix the gradient is the cofactor matrix, from the SVD; PyTorch's plain
    # backward gives 0 there (its create_graph path gives the cofactors): finite differences only.
    OpInfo("linalg_det_singular", lambda lib, a: lib.linalg.det(a), singular_sample, torch=False),
    OpInfo("linalg_slogdet", lambda lib, a: lib.linalg.slogdet(a), square_sample),
    OpInfo("logdet", lambda lib, a: lib.logdet(a @ a.mT), square_sample),
    OpInfo("linalg_cholesky", lambda lib, a, upper: lib.linalg.cholesky(_symmetric(a), upper=upper), spd_sample),
    OpInfo("cholesky_inverse", lambda lib, a, upper: lib.cholesky_inverse(lib.linalg.cholesky(_symmetric(a), upper=upper), upper),
           spd_sample),
    OpInfo("cholesky_solve", lambda lib, a, b, upper: lib.cholesky_solve(b, lib.linalg.cholesky(_symmetric(a), upper=upper), upper),
           lambda draw, rng: _cholesky_solve_sample(draw, rng), differentiable=(0, 1)),
    OpInfo("linalg_qr", lambda lib, a, mode: _signs_fixed(lib, *lib.linalg.qr(a, mode=mode)), qr_sample),
    OpInfo("linalg_svd", lambda lib, a, full_matrices: _svd_gauge(lib, a, full_matrices), svd_sample),
    OpInfo("svd_V", lambda lib, a: (lambda u, s, v: (u * u, s, v * v))(*lib.svd(a)), rectangular_sample),
    OpInfo("linalg_svdvals", lambda lib, a: lib.linalg.svdvals(a), rectangular_sample),
    OpInfo("linalg_eigh", lambda lib, a, UPLO: (lambda w, v: (w, v * v, v @ v.mT))(*lib.linalg.eigh(_symmetric(a), UPLO=UPLO)),
           eigh_sample),
    OpInfo("linalg_eigvalsh", lambda lib, a, UPLO: lib.linalg.eigvalsh(_symmetric(a), UPLO=UPLO), eigh_sample),
    OpInfo("linalg_pinv", lambda lib, a, hermitian=False: lib.linalg.pinv(_symmetric(a) if hermitian else a, hermitian=hermitian),
           pinv_sample),
    OpInfo("linalg_lstsq", lambda lib, a, b, driver: lib.linalg.lstsq(a, b, driver=driver)[:2], lstsq_sample, differentiable=(0, 1)),
    OpInfo("linalg_matrix_power", lambda lib, a, n: lib.linalg.matrix_power(a, n), matrix_power_sample),
    OpInfo("linalg_cross", lambda lib, a, b, dim: lib.linalg.cross(a, b, dim=dim), cross_sample, differentiable=(0, 1)),
    OpInfo("linalg_vector_norm", lambda lib, x, **kw: lib.linalg.vector_norm(x, **kw), vector_norm_sample),
    OpInfo("linalg_matrix_norm", lambda lib, a, **kw: lib.linalg.matrix_norm(a, **kw), matrix_norm_sample),
    OpInfo("linalg_norm", lambda lib, a, **kw: lib.linalg.norm(a, **kw), norm_sample),
]


def _cholesky_solve_sample(draw, rng):
    [a], kwargs = spd_sample(draw, rng)
    return [a, values(rng, a.shape[:-1] + (draw(st.integers(1, 3)),))], kwargs


# -- sparse COO tensors: the sparse operand is built from (values, indices) inside the entry, so
# that the values are what gets differentiated (and duplicates in the indices are exercised).
def _sparse_sample(dense_columns=True, sparse_dim_choices=(2,)):
    def sample(draw, rng):
        rows, cols = draw(st.integers(1, 4)), draw(st.integers(1, 4))
        nnz = draw(st.integers(1, 6))
        indices = np.stack([rng.integers(0, rows, nnz), rng.integers(0, cols, nnz)])
        args = [values(rng, (nnz,)), indices, (rows, cols)]
        if dense_columns:
            args.insert(1, values(rng, (cols, draw(st.integers(1, 3)))))
        return args, {}

    return sample


def _sparse(lib, values, indices, shape):
    return lib.sparse_coo_tensor(lib.tensor(indices, device=values.device), values, shape)


def _dense_nonzero(draw, rng):
    """No zeros: a zero is left out of the sparse pattern, so its gradient is 0 (in PyTorch too)
    while finite differences see the entry appear."""
    x = values(rng, draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)), away_from=(0.0,))
    return [x], {"sparse_dim": draw(st.integers(1, x.ndim))}


def _sparse_sum_sample(draw, rng):
    args, _ = _sparse_sample(dense_columns=False)(draw, rng)
    return args, {"dim": draw(st.sampled_from([None, 0, 1, (0, 1)]))}


def _sparse_sum(lib, v, i, shape, dim):
    out = lib.sparse.sum(_sparse(lib, v, i, shape)) if dim is None else lib.sparse.sum(_sparse(lib, v, i, shape), dim)
    return out.to_dense() if out.is_sparse else out


OPS += [
    OpInfo("sparse.mm", lambda lib, v, d, i, shape: lib.sparse.mm(_sparse(lib, v, i, shape), d), _sparse_sample(),
           differentiable=(0, 1)),
    OpInfo("spmm", lambda lib, v, d, i, shape: lib.spmm(_sparse(lib, v, i, shape), d), _sparse_sample(),
           differentiable=(0, 1)),
    OpInfo("dense_mm_sparse", lambda lib, v, d, i, shape: lib.mm(d.t(), _sparse(lib, v, i, shape).t()), _sparse_sample(),
           differentiable=(0, 1)),
    OpInfo("sparse_to_dense", lambda lib, v, i, shape: _sparse(lib, v, i, shape).to_dense(), _sparse_sample(False)),
    OpInfo("sparse_coalesce_values",  # every index twice: always duplicates to sum
           lambda lib, v, i, shape: _sparse(lib, lib.cat([v, v * 2]), np.concatenate([i, i], 1), shape).coalesce().values(),
           _sparse_sample(False)),
    OpInfo("sparse.sum", _sparse_sum, _sparse_sum_sample),
    OpInfo("to_sparse", lambda lib, x, sparse_dim: (x.to_sparse(sparse_dim) * 2).to_dense(), _dense_nonzero),
]


# -- resampling and the norms around convolutions (tinytorch/_ops/resample.py, nn.functional) -----
_LINEAR_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
_FACTORS = [0.5, 0.75, 1.5, 2.0, 2.5, 3.0]


def _interpolate_sample(mode, antialias=False):
    """An (N, C, *spatial) input and interpolate's arguments: a size, or scale factors.

    Steers clear of two places where PyTorch 2.13's own backward disagrees with its forward (so
    neither finite differences nor tinytorch can match it; docs/differences.md): nearest with a
    scale factor whose size comes out unchanged or doubled, and antialiasing with a scale factor;
    and of its antialiased kernel's wrong values for an output width of 1."""
    def sample(draw, rng):
        dims = _LINEAR_DIMS.get(mode) or draw(st.integers(1, 3))
        smallest = 2 if antialias else 1
        spatial = tuple(draw(st.integers(smallest, 5)) for _ in range(dims))
        shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) + spatial
        kwargs = {"mode": mode}
        if mode in _LINEAR_DIMS:
            kwargs["align_corners"] = draw(st.booleans())
        if antialias:
            kwargs["antialias"] = True
        factors = tuple(draw(st.sampled_from(_FACTORS)) for _ in range(dims))
        sizes = [int(s * f) for s, f in zip(spatial, factors)]
        awkward = mode == "nearest" and any(o in (s, 2 * s) and o != s * f for s, o, f in zip(spatial, sizes, factors))
        if antialias or awkward or min(sizes) < 1 or draw(st.booleans()):
            kwargs["size"] = tuple(draw(st.integers(smallest, 7)) for _ in range(dims))
        else:
            kwargs["scale_factor"] = factors
            if mode != "area" and draw(st.booleans()):
                kwargs["recompute_scale_factor"] = True
        return [values(rng, shape)], kwargs

    return sample


# -- convolution, pooling, padding: the Functions of tinytorch/_ops/conv.py, pooling.py, padding.py --
def _conv_sample(spatial, transposed=False):
    """Input, weight and maybe bias, with drawn stride, padding (ints, per-dim, 'same'/'valid'),
    dilation, groups (depthwise included) and, for transposed ones, output_padding; the sizes are
    kept small (finite differences perturb every element) but always valid."""
    def sample(draw, rng):
        groups = draw(st.sampled_from([1, 1, 2, 3]))
        per_group_in, per_group_out = draw(st.integers(1, 2)), draw(st.integers(1, 2))
        c_in, c_out = groups * per_group_in, groups * per_group_out
        kernel = tuple(draw(st.integers(1, 3)) for _ in range(spatial))
        stride = tuple(draw(st.integers(1, 2)) for _ in range(spatial))
        dilation = tuple(draw(st.integers(1, 2)) for _ in range(spatial))
        kwargs = {"groups": groups}
        if transposed:
            padding = tuple(draw(st.integers(0, (d * (k - 1)) // 2 + 1)) for k, d in zip(kernel, dilation))
            output_padding = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
            sizes = tuple(draw(st.integers(1, 3)) for _ in range(spatial))
            # The output size must stay positive: (L - 1) s - 2 p + d (k - 1) + op + 1 >= 1.
            sizes = tuple(max(size, -(-(2 * p - d * (k - 1) - op) // s) + 1)
                          for size, s, p, d, k, op in zip(sizes, stride, padding, dilation, kernel, output_padding))
            kwargs.update(stride=stride, padding=padding, output_padding=output_padding, dilation=dilation)
            weight_shape = (c_in, per_group_out) + kernel
        else:
            mode = draw(st.sampled_from(["ints", "ints", "same", "valid"]))
            if mode == "same":
                stride = (1,) * spatial
                padding = "same"
                sizes = tuple(draw(st.integers(1, 4)) for _ in range(spatial))
            else:
                padding = (0,) * spatial if mode == "valid" else tuple(draw(st.integers(0, 2)) for _ in range(spatial))
                sizes = tuple(max(draw(st.integers(1, 5)), d * (k - 1) + 1 - 2 * p) for k, d, p in zip(kernel, dilation, padding))
                padding = "valid" if mode == "valid" else (padding[0] if draw(st.booleans()) and len(set(padding)) == 1 else padding)
            kwargs.update(stride=stride, padding=padding, dilation=dilation)
            weight_shape = (c_out, per_group_in) + kernel
        batch = draw(st.sampled_from([(), (1,), (2,)]))
        args = [values(rng, batch + (c_in,) + sizes), values(rng, weight_shape)]
        if draw(st.booleans()):
            args.append(values(rng, (c_out,)))
        return args, kwargs

    return sample


# -- sequence models' ops: cumprod, einsum, repeat_interleave, addmm/baddbmm, gelu (tanh) -------
def _cumprod_sample(draw, rng):
    """Values away from 0, sometimes with zeros planted (cumprod's backward has a case for them)."""
    (x,), kwargs = along_dim(0.3, 1.5, min_dims=1)(draw, rng)
    x = x * rng.choice([-1.0, 1.0], size=x.shape)
    if draw(st.booleans()):
        x.reshape(-1)[rng.integers(0, x.size, size=draw(st.integers(1, 2)))] = 0.0
    return [x], kwargs


_EINSUM_CASES = [
    ("ij,jk->ik", ((3, 4), (4, 2))), ("bij,bjk->bik", ((2, 3, 4), (2, 4, 2))), ("ii->i", ((3, 3),)),
    ("ii", ((3, 3),)), ("ij->", ((2, 3),)), ("i,i", ((4,), (4,))), ("i,j->ij", ((3,), (2,))),
    ("...ij,...jk", ((2, 3, 4), (4, 2))), ("ij,ij->ij", ((3, 1), (3, 4))), ("iij->j", ((2, 2, 3),)),
    ("bhqd,bhkd->bhqk", ((2, 2, 3, 4), (2, 2, 2, 4))), ("ijk,jl,lk->il", ((2, 3, 4), (3, 2), (2, 4))),
    ("ba", ((2, 3),)), ("...,...", ((2,), (3, 1))),
]


def _einsum_sample(draw, rng):
    equation, shapes = draw(st.sampled_from(_EINSUM_CASES))
    return [values(rng, shape) for shape in shapes], {"equation": equation}


def _repeat_interleave_sample(draw, rng):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    dim = draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    size = int(np.prod(shape)) if dim is None else shape[dim]
    repeats = draw(st.integers(0, 3)) if draw(st.booleans()) else rng.integers(0, 3, size=size)
    return [values(rng, shape)], {"repeats": repeats, "dim": dim}


def _repeat_interleave(lib, x, repeats, dim):
    if isinstance(repeats, np.ndarray):
        repeats = _i64(lib, repeats, x)
    return x.repeat_interleave(repeats, dim=dim)


def _addmm_sample(draw, rng):
    n, m, p = (draw(st.integers(1, 4)) for _ in range(3))
    shape = draw(st.sampled_from([(n, p), (p,), (1, p), (n, 1), ()]))
    scale = {"beta": draw(st.sampled_from([1, 0.5, 0])), "alpha": draw(st.sampled_from([1, -2.0]))}
    return [values(rng, shape), values(rng, (n, m)), values(rng, (m, p))], scale


def _baddbmm_sample(draw, rng):
    b, n, m, p = (draw(st.integers(1, 3)) for _ in range(4))
    shape = draw(st.sampled_from([(b, n, p), (n, p), (p,), (b, 1, 1)]))
    scale = {"beta": draw(st.sampled_from([1, 0.5])), "alpha": draw(st.sampled_from([1, 0.7]))}
    return [values(rng, shape), values(rng, (b, n, m)), values(rng, (b, m, p))], scale


OPS += [
    OpInfo("cumprod", lambda lib, x, dim: x.cumprod(dim), _cumprod_sample),
    OpInfo("cumprod_0d", lambda lib, x: lib.cumprod(x, 0), unary(0.5, 1.5)),
    OpInfo("einsum", lambda lib, *xs, equation: lib.einsum(equation, *xs), _einsum_sample, differentiable=(0, 1, 2)),
    OpInfo("repeat_interleave", _repeat_interleave, _repeat_interleave_sample),
    OpInfo("addmm", lambda lib, x, a, b, **kw: lib.addmm(x, a, b, **kw), _addmm_sample, differentiable=(0, 1, 2)),
    OpInfo("baddbmm", lambda lib, x, a, b, **kw: x.baddbmm(a, b, **kw) if x.dim() == 3 else lib.baddbmm(x, a, b, **kw),
           _baddbmm_sample, differentiable=(0, 1, 2)),
    OpInfo("gelu_tanh", lambda lib, x: lib.nn.functional.gelu(x, approximate="tanh"), unary(-4.0, 4.0)),
]


# -- fused recurrent cells (torch.lstm_cell & co.; the layers loop over these) -------------------
def _cell_sample(gates, states):
    """input (B, I), states (B, H) each, w_ih (G H, I), w_hh (G H, H), and maybe both biases."""
    def sample(draw, rng):
        batch, size, hidden = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
        arrays = [values(rng, (batch, size))] + [values(rng, (batch, hidden)) for _ in range(states)]
        arrays += [values(rng, (gates * hidden, size), -1.0, 1.0), values(rng, (gates * hidden, hidden), -1.0, 1.0)]
        if draw(st.booleans()):
            arrays += [values(rng, (gates * hidden,), -1.0, 1.0), values(rng, (gates * hidden,), -1.0, 1.0)]
        return arrays, {}

    return sample


def _interpolate(lib, x, **kwargs):
    return lib.nn.functional.interpolate(x, **kwargs)


def _group_norm_sample(draw, rng):
    groups = draw(st.integers(1, 3))
    channels = groups * draw(st.integers(1, 2))
    shape = (draw(st.integers(1, 3)), channels) + tuple(draw(st.integers(1, 3)) for _ in range(draw(st.integers(0, 2))))
    if shape[0] * channels // groups * int(np.prod(shape[2:])) == 1 or np.prod(shape) // shape[0] // groups < 2:
        shape = (2,) + shape[1:2] + (2,)  # at least two values per group (and per channel)
    return [values(rng, shape), values(rng, (channels,), 0.5, 1.5), values(rng, (channels,))], {"num_groups": groups}


def _instance_norm_sample(draw, rng):
    channels = draw(st.integers(1, 3))
    spatial = tuple(draw(st.integers(1, 4)) for _ in range(draw(st.integers(1, 2))))
    if int(np.prod(spatial)) < 2:
        spatial = (2,) + spatial[1:]
    return [values(rng, (draw(st.integers(1, 3)), channels) + spatial), values(rng, (channels,), 0.5, 1.5), values(rng, (channels,))], {}


def _pixel_sample(unshuffle):
    def sample(draw, rng):
        factor = draw(st.integers(1, 3))
        batch = tuple(draw(st.integers(1, 2)) for _ in range(draw(st.integers(0, 2))))
        channels = draw(st.integers(1, 2))
        if unshuffle:
            shape = batch + (channels, factor * draw(st.integers(1, 2)), factor * draw(st.integers(1, 2)))
        else:
            shape = batch + (channels * factor * factor, draw(st.integers(1, 3)), draw(st.integers(1, 3)))
        return [values(rng, shape)], {"factor": factor}

    return sample


def _conv(name):
    def call(lib, x, weight, bias=None, **kwargs):
        return getattr(lib.nn.functional, name)(x, weight, bias, **kwargs)

    return call


def _unfold_sample(draw, rng):
    kernel, dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3))), (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding, stride = (draw(st.integers(0, 1)), draw(st.integers(0, 1))), (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    sizes = tuple(max(draw(st.integers(1, 5)), d * (k - 1) + 1 - 2 * p) for k, d, p in zip(kernel, dilation, padding))
    batch = draw(st.sampled_from([(), (2,)]))
    kwargs = {"kernel_size": kernel, "dilation": dilation, "padding": padding, "stride": stride}
    return [values(rng, batch + (draw(st.integers(1, 2)),) + sizes)], kwargs


def _fold_sample(draw, rng):
    (x,), kwargs = _unfold_sample(draw, rng)
    image = x.shape[-2:]
    blocks = [(s + 2 * p - (d * (k - 1) + 1)) // t + 1
              for s, k, d, p, t in zip(image, kwargs["kernel_size"], kwargs["dilation"], kwargs["padding"], kwargs["stride"])]
    columns = x.shape[-3] * kwargs["kernel_size"][0] * kwargs["kernel_size"][1]
    return [values(rng, x.shape[:-3] + (columns, blocks[0] * blocks[1]))], {"output_size": tuple(image), **kwargs}


def _distinct(rng, shape, step=0.1):
    """Values at least ``step`` apart: the max's kink never falls inside a finite difference."""
    count = int(np.prod(shape))
    return (rng.permutation(count) * step - count * step / 2).reshape(shape).astype(np.float64)


def _every_window_real(size, kernel, stride, pad, dilation, ceil_mode):
    """Whether each pooling window (PyTorch's output size) holds an element of the input."""
    out = (size + 2 * pad - dilation * (kernel - 1) - 1 + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return all(any(0 <= o * stride - pad + a * dilation < size for a in range(kernel)) for o in range(out))


def _pool_sample(spatial, kind):
    """Input and pooling arguments: kernel, stride (or None), padding <= kernel/2, dilation (max),
    ceil_mode, count_include_pad and divisor_override (avg), return_indices (max)."""
    def sample(draw, rng):
        kernel = tuple(draw(st.integers(1, 3)) for _ in range(spatial))
        stride = None if draw(st.booleans()) else tuple(draw(st.integers(1, 3)) for _ in range(spatial))
        dilation = tuple(draw(st.integers(1, 2)) for _ in range(spatial)) if kind == "max" else (1,) * spatial
        padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
        high = 6 if spatial < 3 else 4  # 3-D: fewer elements for the finite differences
        sizes = tuple(max(draw(st.integers(1, high)), d * (k - 1) + 1 - 2 * p) for k, d, p in zip(kernel, dilation, padding))
        ceil_mode = draw(st.booleans())
        strides = kernel if stride is None else stride
        if not all(_every_window_real(*a, ceil_mode) for a in zip(sizes, kernel, strides, padding, dilation)):
            padding = (0,) * spatial  # a window of padding alone: -inf (max) / nothing to differentiate
            sizes = tuple(max(size, d * (k - 1) + 1) for size, k, d in zip(sizes, kernel, dilation))
        if kind == "avg" and spatial == 3:  # avg_pool3d refuses a kernel larger than the unpadded input
            sizes = tuple(max(size, k) for size, k in zip(sizes, kernel))
        kwargs = {"kernel_size": kernel if spatial > 1 else kernel[0], "stride": stride if stride is None or spatial > 1 else stride[0],
                  "padding": padding if spatial > 1 else padding[0], "ceil_mode": ceil_mode}
        if kind == "max":
            kwargs["dilation"] = dilation if spatial > 1 else dilation[0]
            kwargs["return_indices"] = draw(st.booleans())
        else:
            kwargs["count_include_pad"] = draw(st.booleans())
            if spatial > 1 and draw(st.booleans()):
                kwargs["divisor_override"] = draw(st.integers(1, 5))
        shape = draw(st.sampled_from([(), (2,)])) + (draw(st.integers(1, 2)),) + sizes
        return [_distinct(rng, shape) if kind == "max" else values(rng, shape)], kwargs

    return sample


def _grid_sample_sample(dims, mode):
    """An (N, C, *spatial) input and a grid whose pixel positions keep 0.1 pixel from the kinks
    (integers: floor and the borders; half-integers: round and the reflection points), inside
    the input and up to two pixels outside; padding_mode and align_corners drawn."""
    def sample(draw, rng):
        spatial = tuple(draw(st.integers(2, 4)) for _ in range(dims))
        count, channels = draw(st.integers(1, 2)), draw(st.integers(1, 2))
        out = tuple(draw(st.integers(1, 3)) for _ in range(dims))
        align_corners = draw(st.booleans())
        columns = []
        for size in spatial[::-1]:
            fraction = rng.uniform(0.1, 0.4, (count,) + out) + 0.5 * rng.integers(0, 2, (count,) + out)
            pixel = rng.integers(-2, size + 1, (count,) + out) + fraction
            columns.append(2 * pixel / (size - 1) - 1 if align_corners else (2 * pixel + 1) / size - 1)
        kwargs = {"mode": mode, "padding_mode": draw(st.sampled_from(["zeros", "border", "reflection"])),
                  "align_corners": align_corners}
        return [values(rng, (count, channels) + spatial), np.stack(columns, -1)], kwargs

    return sample


def _affine_grid_sample(draw, rng):
    dims = draw(st.integers(2, 3))
    size = (draw(st.integers(1, 2)), draw(st.integers(1, 3))) + tuple(draw(st.integers(2, 4)) for _ in range(dims))
    return [values(rng, (size[0], dims, dims + 1)), size], {"align_corners": draw(st.booleans())}


def _grid_sample(lib, x, grid, **kwargs):
    return lib.nn.functional.grid_sample(x, grid, **kwargs)


def _affine_grid(lib, theta, size, **kwargs):
    return lib.nn.functional.affine_grid(theta, size, **kwargs)


OPS += [
    OpInfo("interpolate_nearest", _interpolate, _interpolate_sample("nearest"), gradgrad=False),
    OpInfo("interpolate_nearest_exact", _interpolate, _interpolate_sample("nearest-exact"), gradgrad=False),
    OpInfo("interpolate_linear", _interpolate, _interpolate_sample("linear"), gradgrad=False),
    OpInfo("interpolate_bilinear", _interpolate, _interpolate_sample("bilinear"), gradgrad=False),
    OpInfo("interpolate_bicubic", _interpolate, _interpolate_sample("bicubic"), gradgrad=False),
    OpInfo("interpolate_trilinear", _interpolate, _interpolate_sample("trilinear"), gradgrad=False),
    OpInfo("interpolate_area", _interpolate, _interpolate_sample("area"), gradgrad=False),
    OpInfo("interpolate_bilinear_antialias", _interpolate, _interpolate_sample("bilinear", antialias=True), gradgrad=False),
    OpInfo("interpolate_bicubic_antialias", _interpolate, _interpolate_sample("bicubic", antialias=True), gradgrad=False),
    # Interpolation is linear: its gradient does not depend on the input, so second derivatives
    # are checked through a square, which puts the transposed Resample on the gradient's graph.
    OpInfo("interpolate_bilinear_squared", lambda lib, x, **kw: _interpolate(lib, x, **kw) ** 2, _interpolate_sample("bilinear"),
           notes="second derivatives through Resample's transpose"),
    OpInfo("grid_sample_bilinear", _grid_sample, _grid_sample_sample(2, "bilinear"), differentiable=(0, 1)),
    OpInfo("grid_sample_nearest", _grid_sample, _grid_sample_sample(2, "nearest"), differentiable=(0, 1)),
    OpInfo("grid_sample_bicubic", _grid_sample, _grid_sample_sample(2, "bicubic"), differentiable=(0, 1)),
    OpInfo("grid_sample_trilinear", _grid_sample, _grid_sample_sample(3, "bilinear"), differentiable=(0, 1)),
    OpInfo("grid_sample_nearest_3d", _grid_sample, _grid_sample_sample(3, "nearest"), differentiable=(0, 1)),
    OpInfo("affine_grid", _affine_grid, _affine_grid_sample),
    OpInfo("pixel_shuffle", lambda lib, x, factor: lib.nn.functional.pixel_shuffle(x, factor), _pixel_sample(False)),
    OpInfo("pixel_unshuffle", lambda lib, x, factor: lib.nn.functional.pixel_unshuffle(x, factor), _pixel_sample(True)),
    OpInfo("group_norm", lambda lib, x, w, b, num_groups: lib.nn.functional.group_norm(x, num_groups, w, b),
           _group_norm_sample, differentiable=(0, 1, 2)),
    OpInfo("instance_norm", lambda lib, x, w, b: lib.nn.functional.instance_norm(x, weight=w, bias=b),
           _instance_norm_sample, differentiable=(0, 1, 2)),
]


def _adaptive_sample(spatial, kind):
    """Output sizes that divide the input or not, bigger than it, and None (2-D, 3-D: keep that size)."""
    def sample(draw, rng):
        high = 6 if spatial < 3 else 4
        sizes = tuple(draw(st.integers(1, high)) for _ in range(spatial))
        out = tuple(draw(st.integers(1, high + 1)) for _ in range(spatial))
        if spatial > 1 and draw(st.booleans()):
            keep = draw(st.integers(0, spatial - 1))
            out = tuple(None if i == keep else o for i, o in enumerate(out))
        shape = draw(st.sampled_from([(), (2,)])) + (draw(st.integers(1, 2)),) + sizes
        kwargs = {"output_size": out if spatial > 1 else out[0]}
        if kind == "max":
            kwargs["return_indices"] = draw(st.booleans())
        return [_distinct(rng, shape) if kind == "max" else values(rng, shape)], kwargs

    return sample


def _unpool_sample(draw, rng):
    """Values and the flat indices max_pool2d (kernel = stride) could have produced: one position
    per window, so no two values land on the same output element."""
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    windows = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    lead = draw(st.sampled_from([(1,), (2, 1), (2, 2)]))
    rows = np.arange(windows[0])[:, None] * kernel[0] + rng.integers(0, kernel[0], size=lead + windows)
    cols = np.arange(windows[1])[None, :] * kernel[1] + rng.integers(0, kernel[1], size=lead + windows)
    width = windows[1] * kernel[1]
    return [values(rng, lead + windows)], {"indices": rows * width + cols, "kernel_size": kernel}


def _unpool3d_sample(draw, rng):
    """Values and the flat indices max_pool3d (kernel = stride) could have produced: one position
    per window, so no two values land on the same output element."""
    kernel = tuple(draw(st.integers(1, 2)) for _ in range(3))
    windows = tuple(draw(st.integers(1, 3)) for _ in range(3))
    lead = draw(st.sampled_from([(1,), (2, 1), (1, 2)]))
    flat = 0
    for axis, (k, w) in enumerate(zip(kernel, windows)):
        shape = [1, 1, 1]
        shape[axis] = w
        position = np.arange(w).reshape(shape) * k + rng.integers(0, k, size=lead + windows)
        flat = flat * (w * k) + position
    return [values(rng, lead + windows)], {"indices": flat, "kernel_size": kernel}


def _unpool3d(lib, x, indices, **kwargs):
    return lib.nn.functional.max_unpool3d(x, _i64(lib, indices, x), **kwargs)


def _lp_sample(spatial):
    """Positive values (every window's sum of x ** p stays positive: no NaN, no kink), p, kernel, stride, ceil_mode."""
    def sample(draw, rng):
        kernel = tuple(draw(st.integers(1, 3)) for _ in range(spatial))
        stride = None if draw(st.booleans()) else tuple(draw(st.integers(1, 2)) for _ in range(spatial))
        sizes = tuple(max(draw(st.integers(1, 5 if spatial < 3 else 4)), k) for k in kernel)
        kwargs = {"norm_type": draw(st.sampled_from([1, 2, 3, 1.5])),
                  "kernel_size": kernel if spatial > 1 else kernel[0],
                  "stride": stride if stride is None or spatial > 1 else stride[0], "ceil_mode": draw(st.booleans())}
        shape = draw(st.sampled_from([(), (2,)])) + (draw(st.integers(1, 2)),) + sizes
        return [values(rng, shape, 0.5, 2.0)], kwargs

    return sample


def _lp(name):
    return lambda lib, x, norm_type, **kw: getattr(lib.nn.functional, name)(x, norm_type, **kw)


def _pad_sample(draw, rng):
    """Every mode, with widths that PyTorch accepts for it (negative ones crop)."""
    mode = draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))
    padded = draw(st.integers(1, 2))
    sizes = tuple(draw(st.integers(2, 4)) for _ in range(padded))
    shape = (draw(st.integers(1, 2)),) * draw(st.integers(1, 2)) + sizes
    pad = []
    for size in reversed(sizes):
        high = {"constant": 3, "reflect": size - 1, "replicate": 3, "circular": size - 1}[mode]
        before, after = draw(st.integers(-1, high)), draw(st.integers(-1, high))
        after = max(after, 1 - size - before)  # cropping may not leave an empty output (PyTorch refuses it)
        pad += [before, after]
    kwargs = {"pad": tuple(pad), "mode": mode}
    if mode == "constant" and draw(st.booleans()):
        kwargs["value"] = 0.5
    return [values(rng, shape)], kwargs


def _unpool(lib, x, indices, **kwargs):
    return lib.nn.functional.max_unpool2d(x, _i64(lib, indices, x), **kwargs)


OPS += [
    OpInfo("conv1d", _conv("conv1d"), _conv_sample(1), differentiable=(0, 1, 2)),
    OpInfo("conv2d", _conv("conv2d"), _conv_sample(2), differentiable=(0, 1, 2)),
    OpInfo("conv_transpose1d", _conv("conv_transpose1d"), _conv_sample(1, transposed=True), differentiable=(0, 1, 2)),
    OpInfo("conv_transpose2d", _conv("conv_transpose2d"), _conv_sample(2, transposed=True), differentiable=(0, 1, 2)),
    OpInfo("unfold", lambda lib, x, **kw: lib.nn.functional.unfold(x, **kw), _unfold_sample),
    OpInfo("fold", lambda lib, x, **kw: lib.nn.functional.fold(x, **kw), _fold_sample),
    OpInfo("max_pool1d", lambda lib, x, **kw: lib.nn.functional.max_pool1d(x, **kw), _pool_sample(1, "max")),
    OpInfo("max_pool2d", lambda lib, x, **kw: lib.nn.functional.max_pool2d(x, **kw), _pool_sample(2, "max")),
    OpInfo("avg_pool1d", lambda lib, x, **kw: lib.nn.functional.avg_pool1d(x, **kw), _pool_sample(1, "avg")),
    OpInfo("avg_pool2d", lambda lib, x, **kw: lib.nn.functional.avg_pool2d(x, **kw), _pool_sample(2, "avg")),
    OpInfo("adaptive_avg_pool1d", lambda lib, x, **kw: lib.nn.functional.adaptive_avg_pool1d(x, **kw), _adaptive_sample(1, "avg")),
    OpInfo("adaptive_avg_pool2d", lambda lib, x, **kw: lib.nn.functional.adaptive_avg_pool2d(x, **kw), _adaptive_sample(2, "avg")),
    OpInfo("adaptive_max_pool1d", lambda lib, x, **kw: lib.nn.functional.adaptive_max_pool1d(x, **kw), _adaptive_sample(1, "max")),
    OpInfo("adaptive_max_pool2d", lambda lib, x, **kw: lib.nn.functional.adaptive_max_pool2d(x, **kw), _adaptive_sample(2, "max")),
    OpInfo("max_unpool2d", _unpool, _unpool_sample),
    OpInfo("pad", lambda lib, x, **kw: lib.nn.functional.pad(x, **kw), _pad_sample),
    OpInfo("conv3d", _conv("conv3d"), _conv_sample(3), differentiable=(0, 1, 2)),
    OpInfo("conv_transpose3d", _conv("conv_transpose3d"), _conv_sample(3, transposed=True), differentiable=(0, 1, 2)),
    OpInfo("max_pool3d", lambda lib, x, **kw: lib.nn.functional.max_pool3d(x, **kw), _pool_sample(3, "max")),
    OpInfo("avg_pool3d", lambda lib, x, **kw: lib.nn.functional.avg_pool3d(x, **kw), _pool_sample(3, "avg")),
    OpInfo("adaptive_avg_pool3d", lambda lib, x, **kw: lib.nn.functional.adaptive_avg_pool3d(x, **kw), _adaptive_sample(3, "avg")),
    OpInfo("adaptive_max_pool3d", lambda lib, x, **kw: lib.nn.functional.adaptive_max_pool3d(x, **kw), _adaptive_sample(3, "max")),
    OpInfo("max_unpool3d", _unpool3d, _unpool3d_sample),
    OpInfo("lp_pool1d", _lp("lp_pool1d"), _lp_sample(1)),
    OpInfo("lp_pool2d", _lp("lp_pool2d"), _lp_sample(2)),
    OpInfo("lp_pool3d", _lp("lp_pool3d"), _lp_sample(3)),
]


def _fractional(dims):
    """fractional_max_pool2d/3d with explicit ``_random_samples`` (a float array, cast to the
    input's dtype): torch and tinytorch pool the same pseudo-random windows."""
    def fn(lib, x, samples, **kwargs):
        pool = getattr(lib.nn.functional, f"fractional_max_pool{dims}d")
        return pool(x, _random_samples=lib.tensor(samples, dtype=x.dtype, device=x.device), **kwargs)

    return fn


def _fractional_sample(dims):
    """Distinct values (no ties), kernel 1-3, an output size that fits (the 3-D op wants each window
    to end before the edge), given as output_size or as an output_ratio, batched or not, samples in [0, 1)."""
    def sample(draw, rng):
        kernel = tuple(draw(st.integers(1, 3)) for _ in range(dims))
        strict = dims == 3
        image = tuple(k + strict + draw(st.integers(0, 4 if dims == 2 else 2)) for k in kernel)
        out = tuple(draw(st.integers(1, s - k + 1 - strict)) for s, k in zip(image, kernel))
        batch = draw(st.sampled_from([(), (2,)]))
        channels = draw(st.integers(1, 2))
        kwargs = {"kernel_size": kernel, "return_indices": draw(st.booleans())}
        if draw(st.booleans()):
            kwargs["output_size"] = out
        else:  # int(size * ratio) == out
            kwargs["output_ratio"] = tuple((o + 0.5) / s for o, s in zip(out, image))
        kwargs["samples"] = rng.uniform(0, 1, size=(batch[0] if batch else 1, channels, dims))
        return [_distinct(rng, batch + (channels,) + image)], kwargs

    return sample


OPS += [
    OpInfo("fractional_max_pool2d", _fractional(2), _fractional_sample(2)),
    OpInfo("fractional_max_pool3d", _fractional(3), _fractional_sample(3)),
]


def _lstm_cell(lib, x, h, c, *weights):
    return lib.lstm_cell(x, (h, c), *weights)


OPS += [
    OpInfo("lstm_cell", _lstm_cell, _cell_sample(4, 2), differentiable=(0, 1, 2, 3, 4, 5, 6)),
    OpInfo("gru_cell", lambda lib, x, h, *w: lib.gru_cell(x, h, *w), _cell_sample(3, 1), differentiable=(0, 1, 2, 3, 4, 5)),
    OpInfo("rnn_tanh_cell", lambda lib, x, h, *w: lib.rnn_tanh_cell(x, h, *w), _cell_sample(1, 1), differentiable=(0, 1, 2, 3, 4, 5)),
    # relu's kink: the pre-activations are kept away from 0 by the sampled values only rarely, so
    # finite differences are skipped; the comparison with torch covers it.
    OpInfo("rnn_relu_cell", lambda lib, x, h, *w: lib.rnn_relu_cell(x, h, *w), _cell_sample(1, 1),
           differentiable=(0, 1, 2, 3, 4, 5), finite_differences=False, gradgrad=False),
]


# -- attention (one fused node) ------------------------------------------------------------------
def _attention_sample(draw, rng):
    batch = draw(st.sampled_from([(), (2,), (2, 1), (1, 2)]))
    length, source, width, value_width = (draw(st.integers(1, 4)) for _ in range(4))
    q = values(rng, batch + (length, width))
    k = values(rng, (2,) * (len(batch) > 0) + (source, width))
    v = values(rng, (2,) * (len(batch) > 0) + (source, value_width))
    kind = draw(st.sampled_from(["none", "bool", "float", "causal", "scale"]))
    kwargs = {}
    if kind == "bool":
        mask = rng.random((length, source)) < 0.7
        mask[:, 0] = True  # no fully masked row: finite differences need a smooth function
        kwargs["mask"] = mask
    elif kind == "float":
        return [q, k, v, values(rng, (length, source))], {}
    elif kind == "causal":
        kwargs["is_causal"] = True
    elif kind == "scale":
        kwargs["scale"] = 0.7
    return [q, k, v], kwargs


def _attention(lib, q, k, v, float_mask=None, mask=None, **kwargs):
    attn_mask = float_mask if float_mask is not None else (None if mask is None else _bool(lib, mask, q))
    return lib.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, **kwargs)


OPS += [
    OpInfo("scaled_dot_product_attention", _attention, _attention_sample, differentiable=(0, 1, 2, 3)),
]


def _layer_norm_sample(draw, rng):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=4))
    count = draw(st.integers(1, len(shape)))
    affine = draw(st.sampled_from(["both", "weight", "none"]))
    arrays = [values(rng, shape)]
    if affine != "none":
        arrays.append(values(rng, shape[len(shape) - count:]))
    if affine == "both":
        arrays.append(values(rng, shape[len(shape) - count:]))
    return arrays, {"count": count, "eps": draw(st.sampled_from([1e-5, 0.1]))}


def _layer_norm(lib, x, weight=None, bias=None, count=1, eps=1e-5):
    return lib.nn.functional.layer_norm(x, tuple(x.shape[x.dim() - count:]), weight, bias, eps)


OPS += [
    OpInfo("layer_norm", _layer_norm, _layer_norm_sample, differentiable=(0, 1, 2)),
]


# -- special functions (tinytorch/_ops/special.py): domains kept away from the poles of Gamma ------
def _polygamma_sample(draw, rng):
    return [values(rng, draw(SHAPES), 0.5, 4.0)], {"n": draw(st.integers(0, 3))}


def _solve_triangular_sample(draw, rng):
    """A triangular system with a diagonal away from 0 (the other triangle holds junk that must be
    ignored), B on either side; batch dims broadcast."""
    batch, n, k = draw(BATCHES), draw(st.integers(1, 4)), draw(st.integers(1, 3))
    a = values(rng, batch + (n, n), -1.0, 1.0) + np.eye(n) * rng.choice([-2.0, 2.0], size=batch + (1, n))
    left = draw(st.booleans())
    b = values(rng, (batch if draw(st.booleans()) else ()) + ((n, k) if left else (k, n)))
    return [a, b], {"upper": draw(st.booleans()), "left": left, "unitriangular": draw(st.booleans())}


OPS += [
    OpInfo("lgamma", lambda lib, x: lib.lgamma(x), unary(0.2, 5.0)),
    OpInfo("lgamma_negative", lambda lib, x: x.lgamma(), unary(-2.8, -2.2)),
    OpInfo("digamma", lambda lib, x: lib.digamma(x), unary(0.3, 5.0)),
    OpInfo("polygamma", lambda lib, x, n: lib.polygamma(n, x), _polygamma_sample),
    OpInfo("erfinv", lambda lib, x: lib.erfinv(x), unary(-0.9, 0.9)),
    OpInfo("xlogy", lambda lib, x, y: lib.xlogy(x, y), binary(-2.0, 2.0, 0.2, 3.0), differentiable=(0, 1)),
    OpInfo("linalg_solve_triangular", lambda lib, a, b, **kw: lib.linalg.solve_triangular(a, b, **kw),
           _solve_triangular_sample, differentiable=(0, 1)),
]


# -- likelihood losses (composites in nn/_functional_losses.py) -------------------------------------
def _gaussian_nll_sample(draw, rng):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    kind = draw(st.sampled_from(["same", "last_dim_dropped", "one_broadcast_dim"]))
    if kind == "same":
        var_shape = shape
    elif kind == "last_dim_dropped":
        var_shape = shape[:-1]
    else:
        ones = draw(st.integers(0, len(shape) - 1))
        var_shape = tuple(1 if i == ones else s for i, s in enumerate(shape))
    return ([values(rng, shape), values(rng, shape), values(rng, var_shape, 0.3, 2.0)],
            {"full": draw(st.booleans()), "reduction": draw(st.sampled_from(["mean", "sum", "none"]))})


def _poisson_nll_sample(draw, rng):
    shape = draw(SHAPES)
    log_input = draw(st.booleans())
    x = values(rng, shape, -1.5, 1.5) if log_input else values(rng, shape, 0.3, 3.0)
    target = rng.integers(0, 6, size=shape).astype(np.float64)
    return [x, target], {"log_input": log_input, "full": draw(st.booleans()),
                         "reduction": draw(st.sampled_from(["mean", "sum", "none"]))}


OPS += [
    OpInfo("gaussian_nll_loss", lambda lib, x, t, v, **kw: lib.nn.functional.gaussian_nll_loss(x, t, v, **kw),
           _gaussian_nll_sample, differentiable=(0, 1, 2)),
    OpInfo("poisson_nll_loss", lambda lib, x, t, **kw: lib.nn.functional.poisson_nll_loss(x, t, **kw), _poisson_nll_sample),
]


# -- shape ops composed of others: meshgrid, cartesian_prod, tile, kron, diff, trace, take_along_dim,
# atleast_nd, flipud/fliplr, column_stack, dstack, rot90, diag_embed, diagflat ----------------------
def _meshgrid_sample(draw, rng):
    shapes = [draw(st.sampled_from([(), (1,), (2,), (3,)])) for _ in range(draw(st.integers(1, 3)))]
    return [values(rng, s) for s in shapes], {"indexing": draw(st.sampled_from(["ij", "xy"]))}


def _cartesian_prod_sample(draw, rng):
    return [values(rng, (draw(st.integers(1, 3)),)) for _ in range(draw(st.integers(1, 3)))], {}


def _tile_sample(draw, rng):
    dims = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=4)))
    return [values(rng, draw(SHAPES))], {"dims": dims}


def _kron_sample(draw, rng):
    small = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)
    return [values(rng, draw(small)), values(rng, draw(small))], {}


def _diff_sample(draw, rng):
    """Input, prepend and append (None or a tensor matching input except along ``dim``), n and dim."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    extra = []
    for _ in range(2):
        side = list(shape)
        side[dim] = draw(st.integers(1, 2))
        extra.append(values(rng, tuple(side)) if draw(st.booleans()) else None)
    return [values(rng, shape), *extra], {"n": draw(st.integers(0, 3)), "dim": dim}


def _matrix_sample(draw, rng):
    return [values(rng, (draw(st.integers(1, 4)), draw(st.integers(1, 4))))], {}


def _take_along_dim_sample(draw, rng):
    """Indices broadcasting against the input in every dim but ``dim`` (or flat indices, dim=None)."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    if draw(st.booleans()):
        size = int(np.prod(shape))
        return [values(rng, shape)], {"indices": rng.integers(0, size, size=draw(st.integers(1, 5))), "dim": None}
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    index_shape = tuple(
        draw(st.integers(1, 4)) if i == dim % len(shape) else draw(st.sampled_from([s, 1])) if s != 1 else draw(st.integers(1, 3))
        for i, s in enumerate(shape)
    )
    return [values(rng, shape)], {"indices": rng.integers(0, shape[dim], size=index_shape), "dim": dim}


def _some_tensors(draw, rng):
    return [values(rng, draw(SHAPES)) for _ in range(draw(st.integers(1, 2)))], {}


def _column_stack_sample(draw, rng):
    """0-d (when one row), 1-D columns and n-D blocks with the same row count (and trailing dims)."""
    rows, tail = draw(st.integers(1, 3)), draw(st.sampled_from([(), (2,)]))
    kinds = ["2d"] + ([] if tail else ["1d"] + (["0d"] if rows == 1 else []))
    shapes = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(kinds))
        shapes.append({"0d": (), "1d": (rows,), "2d": (rows, draw(st.integers(1, 2))) + tail}[kind])
    return [values(rng, s) for s in shapes], {}


def _dstack_sample(draw, rng):
    """Tensors whose atleast_3d forms agree but along dim 2."""
    rows, cols = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kinds = ["2d", "3d"] + (["1d"] if rows == 1 else []) + (["0d"] if rows == cols == 1 else [])
    shapes = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(kinds))
        shapes.append({"0d": (), "1d": (cols,), "2d": (rows, cols), "3d": (rows, cols, draw(st.integers(1, 2)))}[kind])
    return [values(rng, s) for s in shapes], {}


def _rot90_sample(draw, rng):
    shape = draw(hnp.array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=3))
    n = len(shape)
    d0, d1 = draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=2, unique=True))
    dims = tuple(d - n if draw(st.booleans()) else d for d in (d0, d1))
    return [values(rng, shape)], {"k": draw(st.integers(-5, 5)), "dims": dims}


def _diag_embed_sample(draw, rng):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3))
    n = len(shape) + 1
    d1, d2 = draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=2, unique=True))
    dims = [d - n if draw(st.booleans()) else d for d in (d1, d2)]
    return [values(rng, shape)], {"offset": draw(st.integers(-2, 2)), "dim1": dims[0], "dim2": dims[1]}


def _diagflat_sample(draw, rng):
    return [values(rng, draw(SHAPES))], {"offset": draw(st.integers(-2, 2))}


OPS += [
    OpInfo("meshgrid", lambda lib, *xs, indexing: lib.meshgrid(*xs, indexing=indexing), _meshgrid_sample, differentiable=(0, 1, 2)),
    OpInfo("cartesian_prod", lambda lib, *xs: lib.cartesian_prod(*xs), _cartesian_prod_sample, differentiable=(0, 1, 2)),
    OpInfo("tile", lambda lib, x, dims: lib.tile(x, dims), _tile_sample),
    OpInfo("tile_method", lambda lib, x, dims: x.tile(*dims) if dims else x.tile(dims), _tile_sample),
    OpInfo("kron", lambda lib, a, b: lib.kron(a, b), _kron_sample, differentiable=(0, 1)),
    OpInfo("diff", lambda lib, x, prepend, append, n, dim: lib.diff(x, n, dim, prepend, append), _diff_sample, differentiable=(0, 1, 2)),
    OpInfo("trace", lambda lib, x: x.trace(), _matrix_sample),
    OpInfo("take_along_dim", lambda lib, x, indices, dim: lib.take_along_dim(x, _i64(lib, indices, x), dim), _take_along_dim_sample),
    OpInfo("atleast_1d", lambda lib, *xs: lib.atleast_1d(*xs), _some_tensors, differentiable=(0, 1)),
    OpInfo("atleast_2d", lambda lib, *xs: lib.atleast_2d(*xs), _some_tensors, differentiable=(0, 1)),
    OpInfo("atleast_3d", lambda lib, *xs: lib.atleast_3d(list(xs)), _some_tensors, differentiable=(0, 1)),
    OpInfo("flipud", lambda lib, x: lib.flipud(x), unary(min_dims=1)),
    OpInfo("fliplr", lambda lib, x: x.fliplr(), unary(min_dims=2)),
    OpInfo("column_stack", lambda lib, *xs: lib.column_stack(xs), _column_stack_sample, differentiable=(0, 1, 2)),
    OpInfo("dstack", lambda lib, *xs: lib.dstack(list(xs)), _dstack_sample, differentiable=(0, 1, 2)),
    OpInfo("rot90", lambda lib, x, k, dims: lib.rot90(x, k, dims), _rot90_sample),
    OpInfo("diag_embed", lambda lib, x, offset, dim1, dim2: lib.diag_embed(x, offset, dim1, dim2), _diag_embed_sample),
    OpInfo("diagflat", lambda lib, x, offset: x.diagflat(offset), _diagflat_sample),
]


# -- pointwise_extra ----------------------------------------------------------------------------
def _positive_pair(low=0.2, high=2.0):
    """Two broadcastable operands, both in [low, high) (hypot's and float_power's domain)."""
    def sample(draw, rng):
        (a, b), kwargs = binary(low, high)(draw, rng)
        return [a, b], kwargs

    return sample


def _signed_apart_from_zero(draw, rng):
    """Two broadcastable operands, none within 0.1 of 0 (atan2's and copysign's kinks)."""
    (a, b), kwargs = binary()(draw, rng)
    return [np.where(np.abs(a) < 0.1, 0.3, a), np.where(np.abs(b) < 0.1, -0.3, b)], kwargs


def _fmax_sample(draw, rng):
    """fmax/fmin: operands apart (a kink at ties) with a NaN in either now and then."""
    (a, b), kwargs = binary_apart()(draw, rng)
    if a.ndim and draw(st.booleans()):
        a = a.copy()
        a.flat[0] = np.nan
    return [a, b], kwargs


def _with_nans(low=-2.0, high=2.0, min_dims=0):
    """A reduction sample with one NaN now and then (nansum, nanmean)."""
    base = reduction(low, high, min_dims=min_dims)

    def sample(draw, rng):
        (x,), kwargs = base(draw, rng)
        if x.size > 1 and draw(st.booleans()):
            x = x.copy()
            x.flat[0] = np.nan
        return [x], kwargs

    return sample


def _nan_to_num_sample(draw, rng):
    (x,), _ = unary()(draw, rng)
    x = np.array(x)
    if x.size > 2 and draw(st.booleans()):
        x.flat[0], x.flat[1] = np.nan, np.inf
    return [x], {"nan": 0.5, "posinf": 3.0}


def _distinct_along_dim(draw, rng):
    """A tensor with distinct values (no ties: cummax's gradient has a kink there) and one dim."""
    (x,), kwargs = along_dim(min_dims=0)(draw, rng)
    x = np.asarray(x)
    flat = rng.permutation(x.size).astype(np.float64) * 0.3 - 1.0 + rng.uniform(0, 0.05, size=x.size)
    return [flat.reshape(x.shape)], kwargs


def _aminmax_sample(draw, rng):
    shape = draw(SHAPES)
    x = np.asarray(rng.permutation(int(np.prod(shape))) * 0.3 - 1.0, dtype=np.float64).reshape(shape)
    kwargs = {}
    if len(shape) and draw(st.booleans()):
        kwargs = {"dim": draw(st.integers(-len(shape), len(shape) - 1)), "keepdim": draw(st.booleans())}
    return [x], kwargs


OPS += [
    OpInfo("atan2", lambda lib, a, b: lib.atan2(a, b), _signed_apart_from_zero, differentiable=(0, 1)),
    OpInfo("hypot", lambda lib, a, b: lib.hypot(a, b), _positive_pair(), differentiable=(0, 1)),
    OpInfo("logaddexp", lambda lib, a, b: lib.logaddexp(a, b), binary(-3.0, 3.0), differentiable=(0, 1)),
    OpInfo("logaddexp2", lambda lib, a, b: lib.logaddexp2(a, b), binary(-3.0, 3.0), differentiable=(0, 1)),
    OpInfo("copysign", lambda lib, a, b: lib.copysign(a, b), _signed_apart_from_zero, differentiable=(0, 1)),
    OpInfo("fmax", lambda lib, a, b: lib.fmax(a, b), _fmax_sample, differentiable=(0, 1), finite_differences=False, gradgrad=False),
    OpInfo("fmin", lambda lib, a, b: lib.fmin(a, b), _fmax_sample, differentiable=(0, 1), finite_differences=False, gradgrad=False),
    OpInfo("fmax_finite", lambda lib, a, b: lib.fmax(a, b), binary_apart(), differentiable=(0, 1)),
    OpInfo("fmin_finite", lambda lib, a, b: lib.fmin(a, b), binary_apart(), differentiable=(0, 1)),
    OpInfo("float_power", lambda lib, a, b: lib.float_power(a, b), _positive_pair(), differentiable=(0, 1)),
    OpInfo("exp2", lambda lib, x: lib.exp2(x), unary(-3.0, 3.0)),
    OpInfo("erfc", lambda lib, x: lib.erfc(x), unary(-2.5, 2.5)),
    OpInfo("frac", lambda lib, x: lib.frac(x), unary(-3.0, 3.0, away_from=(-3.0, -2.0, -1.0, 0.0, 1.0, 2.0))),
    OpInfo("deg2rad", lambda lib, x: lib.deg2rad(x), unary(-180.0, 180.0)),
    OpInfo("rad2deg", lambda lib, x: lib.rad2deg(x), unary()),
    OpInfo("sgn", lambda lib, x: lib.sgn(x) + x, unary(away_from=(0.0,)), gradgrad=False,
           notes="+ x: torch returns sgn's zero gradient as a ZeroTensor, which cannot be compared"),
    OpInfo("logit", lambda lib, x: lib.logit(x), unary(0.05, 0.95)),
    OpInfo("logit_eps", lambda lib, x: lib.logit(x, eps=0.2), unary(0.0, 1.0, away_from=(0.2, 0.8))),
    OpInfo("nan_to_num", lambda lib, x, **kw: lib.nan_to_num(x, **kw), _nan_to_num_sample, finite_differences=False, gradgrad=False),
    OpInfo("nan_to_num_finite", lambda lib, x: lib.nan_to_num(x), unary()),
    OpInfo("nansum", lambda lib, x, **kw: lib.nansum(x, **kw), _with_nans(), finite_differences=False, gradgrad=False),
    OpInfo("nansum_finite", lambda lib, x, **kw: lib.nansum(x, **kw), reduction()),
    OpInfo("nanmean", lambda lib, x, **kw: lib.nanmean(x, **kw), _with_nans(), finite_differences=False, gradgrad=False),
    OpInfo("nanmean_finite", lambda lib, x, **kw: lib.nanmean(x, **kw), reduction()),
    OpInfo("cummax", lambda lib, x, dim: tuple(lib.cummax(x, dim)), _distinct_along_dim),
    OpInfo("cummin", lambda lib, x, dim: tuple(lib.cummin(x, dim)), _distinct_along_dim),
    OpInfo("aminmax", lambda lib, x, **kw: tuple(lib.aminmax(x, **kw)), _aminmax_sample),
]


# -- index_add, index_copy, index_fill: slices along a dim at a vector of indices ---------------------
def _index_slices_sample(draw, rng, repeats=True):
    """An input, dim, an index vector into it (repeated entries unless ``repeats`` is False) and a
    source whose size along dim is the index's length."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    size = shape[dim]
    if repeats:
        index = rng.integers(0, size, size=draw(st.integers(1, 4)))
    else:
        index = rng.permutation(size)[: draw(st.integers(1, size))]
    source_shape = tuple(len(index) if i == dim % len(shape) else s for i, s in enumerate(shape))
    return [values(rng, shape), values(rng, source_shape)], {"dim": dim, "index": index}


OPS += [
    OpInfo("index_add", lambda lib, x, src, dim, index: lib.index_add(x, dim, _i64(lib, index, x), src, alpha=-1.5),
           _index_slices_sample, differentiable=(0, 1)),
    OpInfo("index_copy", lambda lib, x, src, dim, index: x.index_copy(dim, _i64(lib, index, x), src),
           lambda draw, rng: _index_slices_sample(draw, rng, repeats=False), differentiable=(0, 1)),
    OpInfo("index_fill", lambda lib, x, src, dim, index: lib.index_fill(x, dim, _i64(lib, index, x), 0.25) * 1,
           _index_slices_sample),
]


def _celu_sample(draw, rng):
    return [values(rng, draw(SHAPES), away_from=(0.0,))], {"alpha": draw(st.sampled_from([0.5, 1.0, 2.0]))}


def _shrink_sample(draw, rng):
    lambd = draw(st.sampled_from([0.25, 0.5, 1.0]))
    return [values(rng, draw(SHAPES), away_from=(-lambd, lambd))], {"lambd": lambd}


def _threshold_sample(draw, rng):
    threshold = draw(st.sampled_from([-0.5, 0.3]))
    kwargs = {"threshold": threshold, "value": draw(st.sampled_from([-1.0, 2.0]))}
    return [values(rng, draw(SHAPES), away_from=(threshold,))], kwargs


def _rrelu_sample(draw, rng):
    lower = draw(st.sampled_from([0.1, 0.125]))
    return [values(rng, draw(SHAPES), away_from=(0.0,))], {"lower": lower, "upper": lower + draw(st.sampled_from([0.0, 0.2]))}


def _glu_sample(draw, rng):
    shape = list(draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3)))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    shape[dim] *= 2
    return [values(rng, tuple(shape))], {"dim": dim}


def _prelu_sample(draw, rng):
    """An input of 0 to 4 dims and one slope, or one per channel (dim 1; 1 for a 1-D input)."""
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=3))
    channels = shape[1] if len(shape) > 1 else 1
    count = channels if shape and draw(st.booleans()) else 1
    return [values(rng, shape, away_from=(0.0,)), rng.uniform(-0.5, 1.0, size=(count,))], {}


OPS += [
    OpInfo("celu", lambda lib, x, **kw: lib.nn.functional.celu(x, **kw), _celu_sample),
    OpInfo("selu", lambda lib, x: lib.nn.functional.selu(x), unary(away_from=(0.0,))),
    OpInfo("glu", lambda lib, x, **kw: lib.nn.functional.glu(x, **kw), _glu_sample),
    OpInfo("hardswish", lambda lib, x: lib.nn.functional.hardswish(x), unary(-5.0, 5.0, away_from=(-3.0, 3.0))),
    OpInfo("hardsigmoid", lambda lib, x: lib.nn.functional.hardsigmoid(x), unary(-5.0, 5.0, away_from=(-3.0, 3.0))),
    OpInfo("mish", lambda lib, x: lib.nn.functional.mish(x), unary(-6.0, 6.0)),
    OpInfo("softsign", lambda lib, x: lib.nn.functional.softsign(x), unary(away_from=(0.0,))),
    OpInfo("softshrink", lambda lib, x, **kw: lib.nn.functional.softshrink(x, **kw), _shrink_sample),
    OpInfo("hardshrink", lambda lib, x, **kw: lib.nn.functional.hardshrink(x, **kw), _shrink_sample),
    OpInfo("tanhshrink", lambda lib, x: lib.nn.functional.tanhshrink(x), unary(-3.0, 3.0)),
    OpInfo("threshold", lambda lib, x, **kw: lib.nn.functional.threshold(x, **kw), _threshold_sample),
    OpInfo("rrelu_eval", lambda lib, x, **kw: lib.nn.functional.rrelu(x, **kw), _rrelu_sample),
    OpInfo("prelu", lambda lib, x, w: lib.nn.functional.prelu(x, w), _prelu_sample, differentiable=(0, 1)),
]


# -- distances (tinytorch/_ops/distance.py) and margin losses (nn/_functional_margin_losses.py) --
def _apart_rows(rng, x1, x2, gap=0.05, tie_gap=0.0):
    """x2 redrawn until no component of x1 - x2 (row against row) is within ``gap`` of 0 (the kinks
    of p <= 1 norms) and, with ``tie_gap``, no two components tie for the largest (the inf-norm's)."""
    for _ in range(100):
        diff = np.abs(x1[..., :, None, :] - x2[..., None, :, :])
        ties = np.diff(np.sort(diff, axis=-1), axis=-1)[..., -1:] if diff.shape[-1] > 1 else np.ones(1)
        if diff.min() >= gap and (not tie_gap or ties.min() >= tie_gap):
            break
        x2 = values(rng, x2.shape)
    return x2


def _cdist_sample(mode):
    def sample(draw, rng):
        p = 2.0 if mode == "use_mm_for_euclid_dist" else draw(st.sampled_from([0.5, 1.0, 1.5, 2.0, 3.0, np.inf]))
        batch = draw(st.sampled_from([(), (2,), (2, 1)]))
        other = batch if not batch or draw(st.booleans()) else batch[-1:]
        columns = draw(st.integers(1, 3))
        x1 = values(rng, batch + (draw(st.integers(1, 4)), columns))
        x2 = _apart_rows(rng, x1, values(rng, other + (draw(st.integers(1, 4)), columns)), tie_gap=0.05 if p == np.inf else 0.0)
        return [x1, x2], {"p": p, "compute_mode": mode}

    return sample


def _pdist_sample(draw, rng):
    p = draw(st.sampled_from([0.5, 1.0, 1.5, 2.0, 3.0, np.inf]))
    x = values(rng, (draw(st.integers(1, 5)), draw(st.integers(1, 3))))
    for _ in range(100):  # every pair of rows apart in every component, no ties for the largest
        diff = np.abs(x[:, None, :] - x[None, :, :])[np.triu_indices(len(x), 1)]
        ties = np.diff(np.sort(diff, axis=-1), axis=-1)[:, -1:] if diff.size and diff.shape[-1] > 1 else np.ones(1)
        if not diff.size or (diff.min() >= 0.05 and ties.min() >= 0.05):
            break
        x = values(rng, x.shape)
    return [x], {"p": p}


def _pairwise_distance_sample(draw, rng):
    (a, b), _ = binary_apart(0.05)(draw, rng)
    return [a, b], {"p": draw(st.sampled_from([0.5, 1.0, 1.5, 2.0, 3.0, np.inf, -1.0])), "keepdim": draw(st.booleans())}


def _cosine_similarity_sample(draw, rng):
    (a, b), _ = binary(swap=True)(draw, rng)
    ndim = max(a.ndim, b.ndim)
    dim = draw(st.integers(-ndim, ndim - 1)) if ndim else 0
    if ndim:
        # An operand repeated along ``dim`` by broadcasting is a constant vector, and cosine
        # similarity ignores its scale: its gradient is zero, and both libraries return rounding
        # noise. It gets the full broadcast shape (broadcasting over the other dims stays).
        shape = np.broadcast_shapes(a.shape, b.shape)
        axis = dim % ndim
        a, b = (values(rng, shape) if x.ndim <= ndim - 1 - axis or x.shape[axis - (ndim - x.ndim)] < shape[axis] else x
                for x in (a, b))
    # Nearly parallel vectors put the gradient at float32's rounding noise (b/|a||b| - cos a/|a|^2
    # cancels): redraw the values until every pair is at least ~8 degrees apart.
    for _ in range(20):
        x, y = np.broadcast_arrays(a, b)
        if ndim == 0 or x.shape[dim] < 2:
            break
        cos = (x * y).sum(dim) / np.sqrt((x * x).sum(dim) * (y * y).sum(dim))
        if np.all(np.abs(cos) < 0.99):
            break
        a, b = values(rng, a.shape), values(rng, b.shape)
    return [a, b], {"dim": dim}


def _dist_sample(draw, rng):
    (a, b), _ = binary_apart(0.05)(draw, rng)
    return [a, b], {"p": draw(st.sampled_from([0.5, 1.0, 2.0, 3.0, np.inf]))}


def _signs(rng, shape):
    return rng.choice([-1, 1], size=shape)  # int64: passed through untouched, turned into a tensor by the op's fn


def _margin_ranking_sample(draw, rng):
    shape = draw(SHAPES)
    a, b, target = values(rng, shape), values(rng, shape), _signs(rng, shape).astype(np.float64)
    margin = draw(st.sampled_from([0.0, 0.5]))
    z = -target * (a - b) + margin
    a = np.where(np.abs(z) < 0.05, a + 0.2, a)  # off the kink: |z| >= 0.15 there now
    return [a, b, target], {"margin": margin, "reduction": draw(st.sampled_from(["mean", "sum", "none"]))}


def _hinge_sample(draw, rng):
    shape = draw(SHAPES)
    margin = draw(st.sampled_from([1.0, 0.5]))
    return [values(rng, shape, -2.0, 2.0, away_from=(margin,)), _signs(rng, broadcastable(draw, shape))], {
        "margin": margin, "reduction": draw(st.sampled_from(["mean", "sum", "none"]))}


def _soft_margin_sample(draw, rng):
    shape = draw(SHAPES)
    return [values(rng, shape, -3.0, 3.0), _signs(rng, shape)], {"reduction": draw(st.sampled_from(["mean", "sum", "none"]))}


def _embedding_pair_sample(draw, rng):
    batched = draw(st.booleans())
    shape = (draw(st.integers(1, 4)), draw(st.integers(1, 4))) if batched else (draw(st.integers(1, 4)),)
    target = _signs(rng, shape[:1] if batched else ())
    return [values(rng, shape), values(rng, shape), target], {
        "margin": draw(st.sampled_from([0.0, 0.3, -0.4])), "reduction": draw(st.sampled_from(["mean", "sum", "none"]))}


def _triplet_sample(draw, rng, norm=2.0):
    shape = (draw(st.integers(1, 4)), draw(st.integers(1, 4))) if draw(st.booleans()) else (draw(st.integers(1, 4)),)
    kwargs = {"margin": draw(st.sampled_from([1.0, 0.5, 3.0])), "swap": draw(st.booleans()),
              "reduction": draw(st.sampled_from(["mean", "sum", "none"]))}
    for _ in range(1000):
        anchor, positive, negative = (values(rng, shape) for _ in range(3))
        if _triplet_smooth(anchor, positive, negative, kwargs["margin"], kwargs["swap"], norm):
            break
    return [anchor, positive, negative], kwargs


def _triplet_smooth(anchor, positive, negative, margin, swap, norm, gap=0.05):
    """No kink of the loss within finite differences' reach: every pair of inputs apart in every
    element (a distance's kink is at equal vectors), the hinge away from 0, and with ``swap`` the
    two negative distances apart (their minimum's kink)."""
    pairs = ((anchor, positive), (anchor, negative), (positive, negative))
    if any((np.abs(x - y) < gap).any() for x, y in pairs):
        return False

    def distance(x, y):  # pairwise_distance: ||x - y + eps||_p over the last dim
        return (np.abs(x - y + 1e-6) ** norm).sum(-1) ** (1 / norm)

    d_ap, d_an, d_pn = distance(anchor, positive), distance(anchor, negative), distance(positive, negative)
    if swap and (np.abs(d_an - d_pn) < gap).any():
        return False
    negative_distance = np.minimum(d_an, d_pn) if swap else d_an
    return not (np.abs(d_ap - negative_distance + margin) < gap).any()


def _triplet_p_sample(draw, rng):
    norm = draw(st.sampled_from([1.0, 2.0, 3.0]))
    args, kwargs = _triplet_sample(draw, rng, norm)
    return args, {**kwargs, "p": norm}


def _multi_margin_sample(draw, rng):
    batched = draw(st.booleans())
    classes = draw(st.integers(1, 4))
    shape = (draw(st.integers(1, 3)), classes) if batched else (classes,)
    kwargs = {"p": draw(st.sampled_from([1, 2])), "margin": draw(st.sampled_from([1.0, 0.5])),
              "reduction": draw(st.sampled_from(["mean", "sum", "none"]))}
    if draw(st.booleans()):
        kwargs["weight"] = list(rng.uniform(0.5, 2.0, size=classes))
    return [values(rng, shape), rng.integers(0, classes, size=shape[:1] if batched else ())], kwargs


def _multilabel_margin_sample(draw, rng):
    batched = draw(st.booleans())
    classes = draw(st.integers(1, 4))
    shape = (draw(st.integers(1, 3)), classes) if batched else (classes,)
    labels = rng.integers(-1, classes, size=shape)  # each sample's list ends at its first -1
    return [values(rng, shape), labels], {"reduction": draw(st.sampled_from(["mean", "sum", "none"]))}


def _multilabel_soft_margin_sample(draw, rng):
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 4)))
    kwargs = {"reduction": draw(st.sampled_from(["mean", "sum", "none"]))}
    if draw(st.booleans()):
        kwargs["weight"] = list(rng.uniform(0.5, 2.0, size=shape[1]))
    return [values(rng, shape, -4.0, 4.0), values(rng, shape, 0.0, 1.0)], kwargs


def _ctc_sample(draw, rng):
    """Logits (T, N, C) or (T, C) for ``_ctc``, targets padded (N, S) or concatenated, lengths as
    lists; a blank anywhere; zero_infinity with lengths that may make an alignment impossible."""
    steps, classes = draw(st.integers(1, 5)), draw(st.integers(2, 4))
    batch = draw(st.integers(1, 3))
    blank = draw(st.integers(0, classes - 1))
    labels = [c for c in range(classes) if c != blank]
    target_lengths = rng.integers(0, 3, size=batch)
    zero_infinity = draw(st.booleans())
    input_lengths = rng.integers(0 if zero_infinity else steps, steps + 1, size=batch)
    padded = rng.choice(labels, size=(batch, 2))
    unbatched = batch == 1 and draw(st.booleans())
    if unbatched or draw(st.booleans()):
        targets = np.concatenate([padded[n, :target_lengths[n]] for n in range(batch)])
    else:
        targets = padded
    if not zero_infinity:  # every alignment possible: a repeated label needs a step more
        input_lengths = np.full(batch, steps)
        target_lengths = np.minimum(target_lengths, (steps + 1) // 2 - 1 if steps > 2 else 0)
        targets = padded if targets.ndim == 2 else np.concatenate([padded[n, :target_lengths[n]] for n in range(batch)])
    logits = values(rng, (steps, classes) if unbatched else (steps, batch, classes))
    return [logits, targets.astype(np.int64)], {
        "input_lengths": [int(v) for v in input_lengths], "target_lengths": [int(v) for v in target_lengths], "blank": blank,
        "reduction": draw(st.sampled_from(["mean", "sum", "none"])), "zero_infinity": zero_infinity}


def _ctc(lib, logits, targets, **kwargs):
    """ctc_loss of log_softmax(logits): PyTorch's CTC gradient w.r.t. log_probs is exact only
    through log_softmax (see tinytorch/_ops/ctc.py), which is how CTC is called."""
    return lib.nn.functional.ctc_loss(logits.log_softmax(-1), lib.as_tensor(targets, device=logits.device), **kwargs)


def _loss(name, as_float=False):
    """``lib.nn.functional.<name>``, its int64 target made a tensor (of the input's dtype with
    ``as_float``) and its ``weight`` list a tensor of the input's dtype."""
    def fn(lib, *args, **kwargs):
        x = args[0]
        args = [lib.as_tensor(a, dtype=x.dtype if as_float else lib.int64, device=x.device) if isinstance(a, np.ndarray) else a
                for a in args]
        return getattr(lib.nn.functional, name)(*args, **_as_weights(lib, x, kwargs))

    return fn


OPS += [
    OpInfo("cdist", lambda lib, a, b, **kw: lib.cdist(a, b, **kw), _cdist_sample("donot_use_mm_for_euclid_dist"), differentiable=(0, 1)),
    OpInfo("cdist_mm", lambda lib, a, b, **kw: lib.cdist(a, b, **kw), _cdist_sample("use_mm_for_euclid_dist"), differentiable=(0, 1)),
    OpInfo("pdist", lambda lib, x, **kw: lib.pdist(x, **kw), _pdist_sample),
    OpInfo("pairwise_distance", lambda lib, a, b, **kw: lib.nn.functional.pairwise_distance(a, b, **kw), _pairwise_distance_sample,
           differentiable=(0, 1)),
    OpInfo("cosine_similarity", lambda lib, a, b, **kw: lib.cosine_similarity(a, b, **kw), _cosine_similarity_sample, differentiable=(0, 1)),
    OpInfo("dist", lambda lib, a, b, **kw: lib.dist(a, b, **kw), _dist_sample, differentiable=(0, 1)),
    OpInfo("margin_ranking_loss", _loss("margin_ranking_loss"), _margin_ranking_sample, differentiable=(0, 1, 2)),
    OpInfo("hinge_embedding_loss", _loss("hinge_embedding_loss"), _hinge_sample),
    OpInfo("soft_margin_loss", _loss("soft_margin_loss", as_float=True), _soft_margin_sample),
    OpInfo("cosine_embedding_loss", _loss("cosine_embedding_loss"), _embedding_pair_sample, differentiable=(0, 1)),
    OpInfo("triplet_margin_loss", _loss("triplet_margin_loss"), _triplet_p_sample, differentiable=(0, 1, 2)),
    OpInfo("triplet_margin_with_distance_loss", _loss("triplet_margin_with_distance_loss"), _triplet_sample, differentiable=(0, 1, 2)),
    OpInfo("multi_margin_loss", _loss("multi_margin_loss"), _multi_margin_sample),
    OpInfo("ctc_loss", _ctc, _ctc_sample, gradgrad=False,
           notes="PyTorch has no second derivative of ctc_loss (neither has tinytorch)"),
    OpInfo("multilabel_margin_loss", _loss("multilabel_margin_loss"), _multilabel_margin_sample),
    OpInfo("multilabel_soft_margin_loss", _loss("multilabel_soft_margin_loss"), _multilabel_soft_margin_sample, differentiable=(0, 1)),
]


# -- matrix products (tinytorch/_ops/products.py) and the layers of nn/_functional_layers.py -------
def _mv_sample(draw, rng):
    n, m = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    return [values(rng, (n, m)), values(rng, (m,))], {}


def _inner_sample(draw, rng):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    other = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    if shape and other:
        other = other[:-1] + shape[-1:]
    return [values(rng, shape), values(rng, other)], {}


def _vectors_sample(same_length):
    def sample(draw, rng):
        n = draw(st.integers(1, 5))
        return [values(rng, (n,)), values(rng, (n if same_length else draw(st.integers(1, 5)),))], {}
    return sample


def _addmv_sample(draw, rng):
    n, m = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    shape = draw(st.sampled_from([(n,), (1,), ()]))
    scale = {"beta": draw(st.sampled_from([1, 0.5, 0])), "alpha": draw(st.sampled_from([1, -2.0]))}
    return [values(rng, shape), values(rng, (n, m)), values(rng, (m,))], scale


def _addr_sample(draw, rng):
    n, m = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    shape = draw(st.sampled_from([(n, m), (m,), (1, m), (n, 1), ()]))
    scale = {"beta": draw(st.sampled_from([1, 0.5, 0])), "alpha": draw(st.sampled_from([1, -2.0]))}
    return [values(rng, shape), values(rng, (n,)), values(rng, (m,))], scale


def _addbmm_sample(draw, rng):
    b, n, m, p = (draw(st.integers(1, 3)) for _ in range(4))
    shape = draw(st.sampled_from([(n, p), (p,), (1, 1), ()]))
    scale = {"beta": draw(st.sampled_from([1, 0.5, 0])), "alpha": draw(st.sampled_from([1, 0.7]))}
    return [values(rng, shape), values(rng, (b, n, m)), values(rng, (b, m, p))], scale


def _tensordot_sample(draw, rng):
    """Two tensors with ``count`` contracted dims, given as an int or as (shuffled) lists."""
    count = draw(st.integers(0, 2))
    contracted = [draw(st.integers(1, 3)) for _ in range(count)]
    free_a = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    free_b = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    if draw(st.booleans()):
        return [values(rng, tuple(free_a) + tuple(contracted)), values(rng, tuple(contracted) + tuple(free_b))], {"dims": count}
    order = draw(st.permutations(range(count)))
    dims_a = [len(free_a) + i for i in range(count)]
    dims_b = [order.index(i) for i in range(count)]
    b_shape = [contracted[order[j]] for j in range(count)] + list(free_b)
    return [values(rng, tuple(free_a) + tuple(contracted)), values(rng, tuple(b_shape))], {"dims": (dims_a, dims_b)}


def _chain_sample(vectors):
    def sample(draw, rng):
        sizes = [draw(st.integers(1, 4)) for _ in range(draw(st.integers(3, 5)))]
        arrays = [values(rng, (a, b)) for a, b in zip(sizes, sizes[1:])]
        if vectors and draw(st.booleans()):
            arrays[0] = arrays[0][0]
        if vectors and draw(st.booleans()):
            arrays[-1] = arrays[-1][:, 0]
        return arrays, {}
    return sample


def _block_diag_sample(draw, rng):
    shapes = draw(st.lists(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3), min_size=1, max_size=3))
    return [values(rng, s) for s in shapes], {}


def _vander_sample(draw, rng):
    n = draw(st.integers(1, 4))
    return [values(rng, (n,), -1.5, 1.5)], {"N": draw(st.sampled_from([None, 2, 5])), "increasing": draw(st.booleans())}


def _linalg_vander_sample(draw, rng):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=4))
    return [values(rng, shape, -1.5, 1.5)], {"N": draw(st.sampled_from([None, 2, 5]) if shape and shape[-1] > 1 else st.sampled_from([2, 5]))}


def _rms_norm_sample(draw, rng):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    count = draw(st.integers(1, len(shape)))
    arrays = [values(rng, shape)]
    if draw(st.booleans()):
        arrays.append(values(rng, shape[len(shape) - count:]))
    return arrays, {"count": count, "eps": draw(st.sampled_from([None, 1e-5, 0.1]))}


def _rms_norm(lib, x, weight=None, count=1, eps=None):
    return lib.nn.functional.rms_norm(x, tuple(x.shape[x.dim() - count:]), weight, eps)


def _lrn_sample(draw, rng):
    shape = draw(hnp.array_shapes(min_dims=3, max_dims=4, min_side=1, max_side=4))
    return [values(rng, shape)], {"size": draw(st.integers(1, 5)), "alpha": draw(st.sampled_from([1e-4, 0.5])),
                                  "beta": draw(st.sampled_from([0.75, 1.5])), "k": draw(st.sampled_from([1.0, 2.0]))}


def _bilinear_sample(draw, rng):
    batch = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    in1, in2, out = (draw(st.integers(1, 3)) for _ in range(3))
    arrays = [values(rng, batch + (in1,)), values(rng, batch + (in2,)), values(rng, (out, in1, in2))]
    if draw(st.booleans()):
        arrays.append(values(rng, (out,)))
    return arrays, {}


def _channel_shuffle_sample(draw, rng):
    groups, per_group = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    rest = draw(hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=3))
    return [values(rng, (draw(st.integers(1, 2)), groups * per_group) + rest)], {"groups": groups}


def _embedding_bag_sample(draw, rng):
    """Rows of a (V, D) weight, bags of a 1-D input cut at sorted offsets (some empty) or a 2-D input."""
    rows, width, count = draw(st.integers(1, 5)), draw(st.integers(1, 3)), draw(st.integers(0, 8))
    index = rng.integers(0, rows, size=count)
    kwargs = {"mode": draw(st.sampled_from(["sum", "mean", "max"])), "padding_idx": draw(st.sampled_from([None, 0]))}
    if count and draw(st.booleans()):
        kwargs["offsets"] = np.concatenate([[0], np.sort(rng.integers(0, count + 1, size=draw(st.integers(0, 3))))])
        if draw(st.booleans()):  # the last offset ends the input (PyTorch's kernels disagree on entries past it)
            kwargs.update(offsets=np.concatenate([kwargs["offsets"], [count]]), include_last_offset=True)
    elif count:
        index = index[: count - count % 2].reshape(-1, 2) if count > 1 else index.reshape(1, 1)
    else:
        kwargs["offsets"] = np.zeros(draw(st.integers(1, 2)), dtype=np.int64)
    arrays = [values(rng, (rows, width)), index]
    if kwargs["mode"] == "sum" and draw(st.booleans()):
        arrays.append(values(rng, index.shape))
    # NOTE: max mode's gradient is undefined at ties: the rows are distinct random values, and a row
    # picked twice in one bag gives the same gradient to the same weight row either way.
    return arrays, kwargs


def _embedding_bag(lib, weight, index, samples=None, offsets=None, **kwargs):
    offsets = None if offsets is None else _i64(lib, offsets, weight)
    return lib.nn.functional.embedding_bag(_i64(lib, index, weight), weight, offsets, per_sample_weights=samples, **kwargs)


def _embedding_sample(draw, rng):
    """Rows of a (V, D) weight looked up by a 1-D or 2-D index with repeats (what the frequency scales)."""
    rows, width = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    index = rng.integers(0, rows, size=draw(hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=4)))
    return [values(rng, (rows, width)), index], {"padding_idx": draw(st.sampled_from([None, 0, -1]))}


def _embedding_scaled(lib, weight, index, **kwargs):
    # Squared: a lookup is linear, so its gradient would not depend on the weight, and the
    # gradient's graph (create_graph) would hold no EmbeddingDenseBackward to check.
    return lib.nn.functional.embedding(_i64(lib, index, weight), weight, scale_grad_by_freq=True, **kwargs) ** 2


OPS += [
    OpInfo("mv", lambda lib, a, v: lib.mv(a, v), _mv_sample, differentiable=(0, 1)),
    OpInfo("inner", lambda lib, a, b: lib.inner(a, b), _inner_sample, differentiable=(0, 1)),
    OpInfo("vdot", lambda lib, a, b: lib.vdot(a, b), _vectors_sample(True), differentiable=(0, 1)),
    OpInfo("ger", lambda lib, a, b: lib.ger(a, b), _vectors_sample(False), differentiable=(0, 1)),
    OpInfo("addmv", lambda lib, x, a, v, **kw: lib.addmv(x, a, v, **kw), _addmv_sample, differentiable=(0, 1, 2)),
    OpInfo("addr", lambda lib, x, a, b, **kw: lib.addr(x, a, b, **kw), _addr_sample, differentiable=(0, 1, 2)),
    OpInfo("addbmm", lambda lib, x, a, b, **kw: lib.addbmm(x, a, b, **kw), _addbmm_sample, differentiable=(0, 1, 2)),
    OpInfo("tensordot", lambda lib, a, b, dims: lib.tensordot(a, b, dims=dims), _tensordot_sample, differentiable=(0, 1)),
    OpInfo("chain_matmul", lambda lib, *ms: lib.chain_matmul(*ms), _chain_sample(False), differentiable=(0, 1, 2, 3)),
    OpInfo("linalg.multi_dot", lambda lib, *ms: lib.linalg.multi_dot(ms), _chain_sample(True), differentiable=(0, 1, 2, 3)),
    OpInfo("block_diag", lambda lib, *ts: lib.block_diag(*ts), _block_diag_sample, differentiable=(0, 1, 2)),
    OpInfo("vander", lambda lib, x, **kw: lib.vander(x, **kw), _vander_sample, torch=False,
           notes="torch.vander cannot backward (it writes its cumprod in place); values: tests/ops/test_products.py"),
    OpInfo("linalg.vander", lambda lib, x, N: lib.linalg.vander(x, N=N), _linalg_vander_sample),
    OpInfo("rms_norm", _rms_norm, _rms_norm_sample, differentiable=(0, 1)),
    OpInfo("local_response_norm", lambda lib, x, **kw: lib.nn.functional.local_response_norm(x, **kw), _lrn_sample),
    OpInfo("bilinear", lambda lib, *xs: lib.nn.functional.bilinear(*xs), _bilinear_sample, differentiable=(0, 1, 2, 3)),
    OpInfo("channel_shuffle", lambda lib, x, groups: lib.nn.functional.channel_shuffle(x, groups), _channel_shuffle_sample),
    OpInfo("embedding_bag", _embedding_bag, _embedding_bag_sample, differentiable=(0, 2)),
    # The gradient is scaled on purpose (not the forward's derivative): no finite differences of
    # the forward; the second derivative is the first gradient's own, so gradgrad still checks it.
    OpInfo("embedding_scale_grad_by_freq", _embedding_scaled, _embedding_sample, finite_differences=False,
           notes="scale_grad_by_freq divides each row's gradient by its index's count"),
]


# -- normal: a random draw whose gradient is zero by definition (PyTorch's); what it checks is in
# tests/ops/test_normal.py, the entry puts its Function on the coverage list.
def _normal_sample(draw, rng):
    shape = draw(SHAPES)
    return [values(rng, shape), values(rng, broadcastable(draw, shape), 0.5, 2.0)], {}


OPS += [
    OpInfo("normal", lambda lib, mean, std: lib.normal(mean, std, generator=lib.Generator().manual_seed(0)), _normal_sample,
           differentiable=(0, 1), finite_differences=False, gradgrad=False, torch=False,
           notes="a sample: zero gradients as PyTorch's, checked against torch in tests/ops/test_normal.py"),
]


# -- scatter_reduce, index_reduce, unfold, take/put, index_put, masked_scatter, *_scatter ----------------
def _scatter_reduce_sample(reduce):
    def sample(draw, rng):
        args, kwargs = gather_sample(draw, rng)
        away = (0.0,) if reduce == "prod" else ()
        x = values(rng, args[0].shape, away_from=away)
        src = values(rng, kwargs["index"].shape, away_from=away)
        return [x, src], {**kwargs, "include_self": draw(st.booleans())}

    return sample


def _index_reduce_sample(draw, rng):
    (x, source), kwargs = _index_slices_sample(draw, rng)
    # Distinct magnitudes in (0, 2], random signs: amax/amin see no ties (``values``' push away
    # from zero made exact ones, a kink inside the finite difference) and prod no zero factor.
    count = x.size + source.size
    flat = (rng.permutation(count) + 1) * (2.0 / count) * rng.choice([-1.0, 1.0], count)
    x, source = flat[:x.size].reshape(x.shape), flat[x.size:].reshape(source.shape)
    return [x, source], {**kwargs, "include_self": draw(st.booleans())}


def _tensor_unfold_sample(draw, rng):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    return [values(rng, shape)], {"dimension": dim, "size": draw(st.integers(0, shape[dim])), "step": draw(st.integers(1, 3))}


def _take_sample(draw, rng):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4))
    n = int(np.prod(shape))
    return [values(rng, shape)], {"index": rng.integers(-n, n, size=draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=4)))}


def _put_sample(draw, rng):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    n = int(np.prod(shape))
    accumulate = draw(st.booleans())
    k = draw(st.integers(1, n))
    index = rng.integers(0, n, size=k) if accumulate else rng.permutation(n)[:k]  # put without accumulate: distinct
    return [values(rng, shape), values(rng, (k,))], {"index": index, "accumulate": accumulate}


def _index_put_sample(draw, rng):
    shape = draw(hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=4))
    accumulate = draw(st.booleans())
    k = draw(st.integers(1, shape[0] * shape[1]))
    flat = rng.integers(0, shape[0] * shape[1], size=k) if accumulate else rng.permutation(shape[0] * shape[1])[:k]
    rows, cols = np.unravel_index(flat, shape[:2])
    return [values(rng, shape), values(rng, (k,) + shape[2:])], {"rows": rows, "cols": cols, "accumulate": accumulate}


def _masked_scatter_sample(draw, rng):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    mask = rng.random(shape) < 0.5
    return [values(rng, shape), values(rng, (int(mask.sum()) + draw(st.integers(0, 2)),))], {"mask": mask}


def _select_scatter_sample(draw, rng):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    index = draw(st.integers(-shape[dim], shape[dim] - 1))
    src_shape = shape[: dim % len(shape)] + shape[dim % len(shape) + 1:]
    return [values(rng, shape), values(rng, src_shape)], {"dim": dim, "index": index}


def _slice_scatter_sample(draw, rng):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    start, step = draw(st.integers(0, shape[dim] - 1)), draw(st.integers(1, 3))
    end = draw(st.integers(start + 1, shape[dim]))
    src_shape = tuple(len(range(start, end, step)) if i == dim % len(shape) else s for i, s in enumerate(shape))
    return [values(rng, shape), values(rng, src_shape)], {"dim": dim, "start": start, "end": end, "step": step}


def _diagonal_scatter_sample(draw, rng):
    shape = draw(hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=4))
    dim1, dim2 = draw(st.permutations(range(len(shape))))[:2]
    offset = draw(st.integers(-shape[dim1], shape[dim2]))
    n = max(0, min(shape[dim1] + min(offset, 0), shape[dim2] - max(offset, 0)))
    src_shape = tuple(s for i, s in enumerate(shape) if i not in (dim1, dim2)) + (n,)
    return [values(rng, shape), values(rng, src_shape)], {"offset": offset, "dim1": dim1, "dim2": dim2}


OPS += [
    *(OpInfo(f"scatter_reduce_{r}", lambda lib, x, src, dim, index, include_self, r=r: x.scatter_reduce(
        dim, _i64(lib, index, x), src, r, include_self=include_self), _scatter_reduce_sample(r), differentiable=(0, 1))
      for r in ("sum", "prod", "mean", "amax", "amin")),
    *(OpInfo(f"index_reduce_{r}", lambda lib, x, src, dim, index, include_self, r=r: lib.index_reduce(
        x, dim, _i64(lib, index, x), src, r, include_self=include_self), _index_reduce_sample, differentiable=(0, 1))
      for r in ("prod", "mean", "amax", "amin")),
    OpInfo("Tensor.unfold", lambda lib, x, **kw: x.unfold(**kw), _tensor_unfold_sample),
    OpInfo("take", lambda lib, x, index: lib.take(x, _i64(lib, index, x)), _take_sample),
    OpInfo("put", lambda lib, x, src, index, accumulate: x.put(_i64(lib, index, x), src, accumulate), _put_sample, differentiable=(0, 1)),
    OpInfo("index_put", lambda lib, x, v, rows, cols, accumulate: lib.index_put(
        x, (_i64(lib, rows, x), _i64(lib, cols, x)), v, accumulate), _index_put_sample, differentiable=(0, 1)),
    OpInfo("masked_scatter", lambda lib, x, src, mask: x.masked_scatter(_bool(lib, mask, x), src), _masked_scatter_sample, differentiable=(0, 1)),
    OpInfo("select_scatter", lambda lib, x, src, **kw: lib.select_scatter(x, src, **kw), _select_scatter_sample, differentiable=(0, 1)),
    OpInfo("slice_scatter", lambda lib, x, src, **kw: lib.slice_scatter(x, src, **kw), _slice_scatter_sample, differentiable=(0, 1)),
    OpInfo("diagonal_scatter", lambda lib, x, src, **kw: lib.diagonal_scatter(x, src, **kw), _diagonal_scatter_sample, differentiable=(0, 1)),
    OpInfo("msort", lambda lib, x: lib.msort(x), lambda draw, rng: ([values(rng, draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)))], {})),
    OpInfo("ravel", lambda lib, x: lib.ravel(x), lambda draw, rng: ([values(rng, draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)))], {})),
    OpInfo("clamp_min_function", lambda lib, x: lib.clamp_min(x, -0.5), unary(away_from=(-0.5,))),
    OpInfo("clamp_max_function", lambda lib, x: lib.clamp_max(x, 0.5), unary(away_from=(0.5,))),
]


def _cov_sample(draw, rng):
    """Variables in rows (or one 1-D variable), 3 to 5 observations, optional weights."""
    n = draw(st.integers(3, 5))
    shape = (draw(st.integers(1, 3)), n) if draw(st.booleans()) else (n,)
    aweights = values(rng, (n,), 0.5, 2.0) if draw(st.booleans()) else None
    fweights = rng.integers(1, 4, size=n).tolist() if draw(st.booleans()) else None
    return [values(rng, shape), aweights], {"correction": draw(st.integers(0, 1)), "fweights": fweights}


def _cov(lib, x, aweights, correction, fweights):
    fweights = None if fweights is None else lib.tensor(fweights, device=x.device)
    return lib.cov(x, correction=correction, fweights=fweights, aweights=aweights)


def _corrcoef_sample(draw, rng):
    n = draw(st.integers(3, 5))
    shape = (draw(st.integers(1, 3)), n) if draw(st.booleans()) else (n,)
    return [values(rng, shape)], {}


def _trapezoid_sample(draw, rng):
    """Samples, and either points x (1-D along dim, or y's shape) or a spacing dx."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    how = draw(st.sampled_from(["dx", "x1d", "xfull"]))
    x = None if how == "dx" else values(rng, (shape[dim],) if how == "x1d" else shape)
    return [values(rng, shape), x], {"dim": dim, "dx": draw(st.sampled_from([1, 0.5, 2.0])) if how == "dx" else None}


def _integrate(name):
    def fn(lib, y, x, dim, dx):
        return getattr(lib, name)(y, x, dim=dim) if x is not None else getattr(lib, name)(y, dx=dx, dim=dim)

    return fn


def _renorm_sample(draw, rng):
    """maxnorm well below, above, or between the slices' norms (renorm has a kink where they meet)."""
    shape = draw(hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=4))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    p = draw(st.sampled_from([1, 2, 3, 1.5]))
    x = values(rng, shape, away_from=(0.0,))
    others = tuple(i for i in range(len(shape)) if i != dim % len(shape))
    norms = np.sort((np.abs(x) ** p).sum(others) ** (1 / p))
    gaps = [i for i in range(len(norms) - 1) if norms[i + 1] > 1.3 * norms[i]]
    how = draw(st.sampled_from(["below", "above", "between"]))
    if how == "between" and gaps:
        i = gaps[draw(st.integers(0, len(gaps) - 1))]
        maxnorm = float(np.sqrt(norms[i] * norms[i + 1]))
    else:
        maxnorm = float(norms[0] * 0.5 if how != "above" else norms[-1] * 2)
    return [x], {"p": p, "dim": dim, "maxnorm": maxnorm}


def _combinations_sample(draw, rng):
    return [values(rng, (draw(st.integers(1, 4)),))], {"r": draw(st.integers(1, 3)), "with_replacement": draw(st.booleans())}


STATISTICS_OPS = [
    OpInfo("cov", _cov, _cov_sample, differentiable=(0, 1)),
    OpInfo("cov_method", lambda lib, x: x.cov(correction=0), _corrcoef_sample),
    OpInfo("corrcoef", lambda lib, x: lib.corrcoef(x), _corrcoef_sample),
    OpInfo("corrcoef_method", lambda lib, x: x.corrcoef(), _corrcoef_sample),
    OpInfo("logcumsumexp", lambda lib, x, dim: lib.logcumsumexp(x, dim), along_dim(-4.0, 4.0, min_dims=0)),
    OpInfo("logcumsumexp_method", lambda lib, x, dim: x.logcumsumexp(dim), along_dim(-4.0, 4.0, min_dims=0)),
    OpInfo("trapezoid", _integrate("trapezoid"), _trapezoid_sample, differentiable=(0, 1)),
    OpInfo("trapz", _integrate("trapz"), _trapezoid_sample, differentiable=(0, 1)),
    OpInfo("cumulative_trapezoid", _integrate("cumulative_trapezoid"), _trapezoid_sample, differentiable=(0, 1)),
    OpInfo("renorm", lambda lib, x, p, dim, maxnorm: lib.renorm(x, p, dim, maxnorm), _renorm_sample),
    OpInfo("renorm_method", lambda lib, x, p, dim, maxnorm: x.renorm(p, dim, maxnorm), _renorm_sample),
    OpInfo("combinations", lambda lib, x, r, with_replacement: lib.combinations(x, r, with_replacement), _combinations_sample),
]

OPS += STATISTICS_OPS


# -- tinytorch.special (tinytorch/_ops/special_more.py) --------------------------------------------
OPS += [
    OpInfo("special_i0", lambda lib, x: lib.special.i0(x), unary(-3.0, 3.0)),
    OpInfo("special_i0e", lambda lib, x: lib.special.i0e(x), unary(-3.0, 3.0, away_from=(0.0,))),
    OpInfo("special_i1", lambda lib, x: lib.special.i1(x), unary(-3.0, 3.0)),
    OpInfo("special_i1e", lambda lib, x: lib.special.i1e(x), unary(-3.0, 3.0, away_from=(0.0,))),
    OpInfo("special_ndtr", lambda lib, x: lib.special.ndtr(x), unary(-3.0, 3.0)),
    OpInfo("special_ndtri", lambda lib, x: lib.special.ndtri(x), unary(0.05, 0.95)),
    OpInfo("special_log_ndtr", lambda lib, x: lib.special.log_ndtr(x), unary(-5.0, 3.0)),
    OpInfo("special_erfcx", lambda lib, x: lib.special.erfcx(x), unary(-2.0, 3.0)),
    OpInfo("special_entr", lambda lib, x: lib.special.entr(x), unary(0.1, 3.0)),
    OpInfo("sinc", lambda lib, x: lib.special.sinc(x), unary(-2.5, 2.5, away_from=(0.0,))),
    OpInfo("special_xlog1py", lambda lib, x, y: lib.special.xlog1py(x, y), binary(-2.0, 2.0, -0.8, 3.0), differentiable=(0, 1)),
    OpInfo("special_zeta", lambda lib, x, q: lib.special.zeta(x, q), binary(1.5, 4.0, 0.3, 3.0), differentiable=(1,), torch=False,
            notes="test_matches_torch makes every float argument require grad; PyTorch (and tinytorch) raise NotImplementedError for the first; tests/test_special.py compares with torch"),
    OpInfo("igamma", lambda lib, a, x: lib.special.gammainc(a, x), binary(0.5, 4.0, 0.2, 5.0), differentiable=(1,), torch=False,
            notes="test_matches_torch makes every float argument require grad; PyTorch (and tinytorch) raise NotImplementedError for the first; tests/test_special.py compares with torch"),
    OpInfo("igammac", lambda lib, a, x: lib.special.gammaincc(a, x), binary(0.5, 4.0, 0.2, 5.0), differentiable=(1,), torch=False,
            notes="test_matches_torch makes every float argument require grad; PyTorch (and tinytorch) raise NotImplementedError for the first; tests/test_special.py compares with torch"),
]


# -- inverse trigonometric and hyperbolic functions (asin ... atanh), and the other pointwise ops
#    PyTorch has at its top level (heaviside, ldexp, nextafter...) --------------------------------
OPS += [
    OpInfo("sinh", lambda lib, x: lib.sinh(x), unary()),
    OpInfo("cosh", lambda lib, x: x.cosh(), unary()),
    OpInfo("asin", lambda lib, x: lib.asin(x), unary(-0.9, 0.9)),
    OpInfo("acos", lambda lib, x: x.acos(), unary(-0.9, 0.9)),
    OpInfo("atan", lambda lib, x: lib.arctan(x), unary(-3.0, 3.0)),
    OpInfo("asinh", lambda lib, x: x.arcsinh(), unary(-3.0, 3.0)),
    OpInfo("acosh", lambda lib, x: lib.acosh(x), unary(1.1, 3.0)),
    OpInfo("atanh", lambda lib, x: x.atanh(), unary(-0.9, 0.9)),
    # The in-place forms, on a non-leaf copy: the graph goes through the rewritten tensor.
    OpInfo("asin_", lambda lib, x: (x * 1).asin_(), unary(-0.9, 0.9)),
    OpInfo("arccos_", lambda lib, x: lib.arccos_(x * 1), unary(-0.9, 0.9)),
    OpInfo("arccosh_", lambda lib, x: lib.arccosh_(x * 1), unary(1.1, 3.0), torch=False,
           notes="torch has no derivative for acosh_, asinh_, atanh_ (NotImplementedError); tinytorch has acosh's"),
    OpInfo("sinh_", lambda lib, x: lib.sinh_(x * 1), unary()),
    # frexp's mantissa jumps at powers of two (a uniform draw lands within a finite difference's
    # step of one with negligible probability); its int32 exponent has no gradient.
    OpInfo("frexp", lambda lib, x: tuple(lib.frexp(x)), unary(-4.0, 4.0, away_from=(0.0,))),
    OpInfo("ldexp", lambda lib, a, b: lib.ldexp(a, b), binary(), differentiable=(0, 1)),
    OpInfo("ldexp_", lambda lib, a, b: (a * 1).ldexp_(b), binary(swap=False), differentiable=(0, 1)),
    OpInfo("rsub", lambda lib, a, b: lib.rsub(a, b, alpha=2.0), binary(), differentiable=(0, 1)),
    OpInfo("rsub_number", lambda lib, a: lib.rsub(a, 3.0), unary()),
    OpInfo("fix", lambda lib, x: lib.fix(x), unary(-3.0, 3.0, away_from=(-3.0, -2.0, -1.0, 0.0, 1.0, 2.0)), gradgrad=False),
]


# -- LU factorization and the matrix exponential (torch.linalg) ------------------------------------
# LU with partial pivoting is differentiable where the pivot order does not change: the samples
# are diagonally dominant matrices with their rows shuffled, so each pivot wins its column by a
# wide margin (the pivots undo the shuffle) and finite differences never flip one.
def _pivoted(rng, batch, m, n):
    a = values(rng, batch + (m, n))
    k = min(m, n)
    a[..., np.arange(k), np.arange(k)] += (3.0 * max(m, n) + 1) * rng.choice([-1.0, 1.0], size=batch + (k,))
    return np.ascontiguousarray(a[..., rng.permutation(m), :])


def _lu_sample(draw, rng):
    batch, m, n = draw(BATCHES), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    return [_pivoted(rng, batch, m, n)], {}


def _lu_solve_sample(draw, rng):
    """A square pivoted A and B, batch dims broadcasting both ways, with left / adjoint."""
    batch, n, k = draw(BATCHES), draw(st.integers(1, 4)), draw(st.integers(1, 3))
    left, adjoint = draw(st.booleans()), draw(st.booleans())
    a_batch, b_batch = (batch, (3,) + batch) if draw(st.booleans()) else ((3,) + batch, batch)
    b = values(rng, b_batch + ((n, k) if left else (k, n)))
    return [_pivoted(rng, a_batch, n, n), b], {"left": left, "adjoint": adjoint}


def _matrix_exp_sample(draw, rng):
    """1-norms up to 12: those above 5.4 are scaled by powers of two and squared back (each matrix
    of a batch by its own). Not larger: exp(A) grows as e^norm, and finite differences of a loss
    summed over a batch lose the small matrices' gradients in the rounding of the large ones'."""
    batch, n = draw(BATCHES), draw(st.integers(1, 4))
    scale = draw(st.sampled_from([0.1, 0.5, 1.0])) * rng.choice([1.0, 1.5], size=batch + (1, 1))
    return [values(rng, batch + (n, n)) * scale], {}


def _tensorinv_sample(draw, rng):
    shape, ind = draw(st.sampled_from([((2, 3, 6), 2), ((6, 2, 3), 1), ((4, 2, 2), 1), ((2, 2, 2, 2), 2)]))
    size = int(np.prod(shape[:ind]))
    return [with_singular_values(rng, (), size, size).reshape(shape)], {"ind": ind}


def _tensorsolve_sample(draw, rng):
    """A = M reshaped to B.shape + X.shape (M well-conditioned), with X's dims moved to ``dims``."""
    b_shape, x_shape, dims = draw(st.sampled_from([
        ((2, 3), (6,), None), ((2, 3), (6,), (0,)), ((2, 2), (2, 2), None), ((4,), (2, 2), (1, 2)), ((2, 2), (4,), (0,)),
    ]))
    size = int(np.prod(b_shape))
    a = with_singular_values(rng, (), size, size).reshape(b_shape + x_shape)
    if dims is None:
        return [a, values(rng, b_shape)], {}
    a = np.moveaxis(a, tuple(range(a.ndim - len(dims), a.ndim)), dims)  # tensorsolve moves them back
    return [np.ascontiguousarray(a), values(rng, b_shape)], {"dims": dims}


def _triangular_solve_sample(draw, rng):
    batch, n, k = draw(BATCHES), draw(st.integers(1, 4)), draw(st.integers(1, 3))
    a = values(rng, batch + (n, n)) + (2.0 * n + 1) * np.eye(n)
    b = values(rng, (2,) + batch + (n, k) if draw(st.booleans()) else batch + (n, k))
    return [b, a], {"upper": draw(st.booleans()), "transpose": draw(st.booleans()), "unitriangular": draw(st.booleans())}


def _householder_sample(draw, rng):
    batch, n = draw(BATCHES), draw(st.integers(1, 3))
    m, k = draw(st.integers(n, 4)), draw(st.integers(1, n))
    return [values(rng, batch + (m, n)), values(rng, batch + (k,))], {}


def _square_lu_solve_sample(draw, rng):
    """torch.lu_solve's (b, LU, pivots): left, no adjoint."""
    batch, n, k = draw(BATCHES), draw(st.integers(1, 4)), draw(st.integers(1, 3))
    return [_pivoted(rng, batch, n, n), values(rng, batch + (n, k))], {}


OPS += [
    OpInfo("linalg_lu_factor", lambda lib, a: lib.linalg.lu_factor(a), _lu_sample),
    OpInfo("linalg_lu_factor_ex", lambda lib, a: lib.linalg.lu_factor_ex(a), _lu_sample),
    OpInfo("linalg_lu", lambda lib, a: lib.linalg.lu(a), _lu_sample),
    OpInfo("lu_unpack", lambda lib, a: lib.lu_unpack(*lib.linalg.lu_factor(a)), _lu_sample),
    OpInfo("linalg_lu_solve", lambda lib, a, b, **kw: lib.linalg.lu_solve(*lib.linalg.lu_factor(a), b, **kw),
           _lu_solve_sample, differentiable=(0, 1)),
    OpInfo("lu_solve", lambda lib, a, b: lib.lu_solve(b, *lib.linalg.lu_factor(a)), _square_lu_solve_sample,
           differentiable=(0, 1)),
    OpInfo("linalg_matrix_exp", lambda lib, a: lib.linalg.matrix_exp(a), _matrix_exp_sample),
    OpInfo("matrix_exp", lambda lib, a: lib.matrix_exp(a), _matrix_exp_sample),
    OpInfo("linalg_inv_ex", lambda lib, a: lib.linalg.inv_ex(a), square_sample),
    OpInfo("linalg_cholesky_ex", lambda lib, a, upper: lib.linalg.cholesky_ex(_symmetric(a), upper=upper), spd_sample),
    OpInfo("linalg_solve_ex", lambda lib, a, b, **kw: lib.linalg.solve_ex(a, b, **kw), solve_sample, differentiable=(0, 1)),
    OpInfo("linalg_tensorinv", lambda lib, a, ind: lib.linalg.tensorinv(a, ind=ind), _tensorinv_sample),
    OpInfo("linalg_tensorsolve", lambda lib, a, b, **kw: lib.linalg.tensorsolve(a, b, **kw), _tensorsolve_sample,
           differentiable=(0, 1)),
    OpInfo("triangular_solve", lambda lib, b, a, **kw: lib.triangular_solve(b, a, **kw), _triangular_solve_sample,
           differentiable=(0, 1)),
    OpInfo("linalg_householder_product", lambda lib, a, tau: lib.linalg.householder_product(a, tau), _householder_sample,
           differentiable=(0, 1)),
]


# -- batch_norm (one fused node, training and evaluation) -----------------------------------------
def _batch_norm_sample(training):
    def sample(draw, rng):
        channels = draw(st.integers(1, 3))
        shape = (draw(st.integers(1, 4)), channels) + tuple(draw(st.integers(1, 3)) for _ in range(draw(st.integers(0, 2))))
        if int(np.prod(shape)) // channels < 2:
            shape = (2,) + shape[1:]  # training needs two values per channel
        affine = draw(st.booleans())
        weight, bias = (values(rng, (channels,), 0.5, 1.5), values(rng, (channels,))) if affine else (None, None)
        running = [values(rng, (channels,)), values(rng, (channels,), 0.5, 2.0)]
        return [values(rng, shape, -3.0, 3.0), weight, bias] + running, {"training": training}

    return sample


def _batch_norm(lib, x, weight, bias, running_mean, running_var, training):
    # Detached: test_matches_torch makes every float argument require grad, and running statistics
    # that require grad are refused (as by PyTorch).
    running_mean, running_var = running_mean.detach(), running_var.detach()
    return lib.nn.functional.batch_norm(x, running_mean, running_var, weight, bias, training=training, momentum=0.2, eps=1e-3)


OPS += [
    OpInfo("batch_norm_train", _batch_norm, _batch_norm_sample(True), differentiable=(0, 1, 2)),
    OpInfo("batch_norm_eval", _batch_norm, _batch_norm_sample(False), differentiable=(0, 1, 2)),
]


def _sync_batch_norm(lib, x, weight, bias, running_mean, running_var, training):
    """SyncBatchNorm's Function with one rank (no collectives), against torch's batch norm; its
    backward goes through the batch_norm_* primitives (DerivativeNotImplemented): no second
    derivative, as in PyTorch."""
    if lib.__name__ != "tinytorch":
        return _batch_norm(lib, x, weight, bias, running_mean, running_var, True)
    from tinytorch.nn.modules.batchnorm_sync import _SyncBatchNormFunction

    return _SyncBatchNormFunction.apply(x, weight, bias, running_mean.detach(), running_var.detach(), 1e-3, 0.2, None, 1)


OPS += [
    OpInfo("sync_batch_norm", _sync_batch_norm, _batch_norm_sample(True), differentiable=(0, 1, 2), gradgrad=False),
]


# -- as_strided and as_strided_scatter: drawn sizes, strides (overlapping, zero) and offsets ------------
def _extent(size, stride, offset):
    return offset + 1 + sum((n - 1) * s for n, s in zip(size, stride))


def _as_strided_sample(draw, rng):
    """A 1-D storage, a view of it starting at ``start``, and a (size, stride, offset) that fits
    the storage: strides may be 0 or overlap (gradients add). The offset is not before the view:
    elements there would change the output but get no gradient, as in torch (tests/ops/test_as_strided.py)."""
    ndim = draw(st.integers(0, 3))
    size = tuple(draw(st.integers(1, 3)) for _ in range(ndim))
    stride = tuple(draw(st.integers(0, 3)) for _ in range(ndim))
    start = draw(st.integers(0, 2))
    offset = start + draw(st.integers(0, 3))
    length = _extent(size, stride, offset) + draw(st.integers(0, 2))
    return [values(rng, (length,))], {"size": size, "stride": stride, "offset": offset, "start": start}


def _as_strided(lib, x, size, stride, offset, start):
    return x[start:].as_strided(size, stride, offset)


def _as_strided_scatter_sample(draw, rng):
    """A contiguous input and a non-overlapping (size, stride, offset) inside it, with src of that
    size (overlapping positions would leave the written value to the write order)."""
    ndim = draw(st.integers(0, 3))
    size = [draw(st.integers(1, 3)) for _ in range(ndim)]
    order = draw(st.permutations(range(ndim)))
    stride, reach = [0] * ndim, 1
    for d in order:
        stride[d] = reach + draw(st.integers(0, 1))
        reach = stride[d] * size[d]
    offset = draw(st.integers(0, 2))
    shape = draw(st.sampled_from(["flat", "matrix"]))
    length = _extent(size, stride, offset) + draw(st.integers(0, 2))
    input_shape = (length,) if shape == "flat" or length % 2 else (2, length // 2)
    return [values(rng, input_shape), values(rng, tuple(size))], {"size": tuple(size), "stride": tuple(stride), "offset": offset}


def _as_strided_scatter(lib, x, src, size, stride, offset):
    return lib.as_strided_scatter(x, src, size, stride, offset)


OPS += [
    OpInfo("as_strided", _as_strided, _as_strided_sample),
    # The input's gradient differs from torch 2.13's, which is wrong (its gradcheck fails: it keeps the
    # scattered positions instead of zeroing them): finite differences check both gradients, torch
    # only the values and src's gradient.
    OpInfo("as_strided_scatter", _as_strided_scatter, _as_strided_scatter_sample, differentiable=(0, 1), torch=False),
    OpInfo("as_strided_scatter_src", _as_strided_scatter, _as_strided_scatter_sample, differentiable=(1,)),
]


# -- an in-place write through a view of a tensor that does not require grad (PyTorch's CopySlices) ----
def _view_write_sample(draw, rng):
    """A base that requires no grad, a strided view of it (rows from ``start``, every ``step``-th
    column, or one element picked by integers) and values of the view's shape."""
    rows, cols = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    start, step = draw(st.integers(0, rows - 1)), draw(st.integers(1, 3))
    element = draw(st.booleans())
    shape = () if element else (rows - start, len(range(0, cols, step)))
    return [values(rng, shape), values(rng, (rows, cols))], {"start": start, "step": step, "element": element}


def _view_write(lib, x, base, start, step, element):
    b = base.detach().clone()
    view = b[start, 0] if element else b[start:, ::step]
    view.mul_(x)  # b takes the graph: its other elements stay constants
    return b * 1


OPS += [OpInfo("view_write", _view_write, _view_write_sample)]


# -- Gamma and Dirichlet draws: the gradient at a given (concentration, sample) -------------------------
def _implicit_gradient(lib, alpha, sample, grad_fn, tinytorch_function):
    """``sample`` as drawn from ``alpha``, with the implicit reparameterization gradient w.r.t.
    alpha: tinytorch's Function given the draws, and on torch a Function whose backward is aten's
    formula on the same values (torch's own draws cannot be fed a sample)."""
    if lib.__name__ == "tinytorch":
        return tinytorch_function.apply(alpha, sample.detach()._data)

    class Drawn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, alpha, sample):
            ctx.save_for_backward(alpha, sample)
            return sample.detach().clone()

        @staticmethod
        def backward(ctx, grad_output):
            alpha, sample = ctx.saved_tensors
            return grad_fn(lib, alpha, sample, grad_output), None

    return Drawn.apply(alpha, sample)


def _standard_gamma_given(lib, alpha, sample):
    from tinytorch._ops.sampling import StandardGamma

    return _implicit_gradient(lib, alpha, sample, lambda L, a, x, g: g * L._standard_gamma_grad(a, x), StandardGamma)


def _dirichlet_given(lib, alpha, sample):
    from tinytorch._ops.sampling import DirichletSample

    def grad(L, a, x, g):
        from torch.distributions.dirichlet import _Dirichlet_backward

        return _Dirichlet_backward(x, a, g)

    return _implicit_gradient(lib, alpha, sample, grad, DirichletSample)


def _gamma_draw_sample(draw, rng):
    alpha = values(rng, draw(SHAPES), 0.3, 12.0)
    return [alpha, np.asarray(np.maximum(rng.gamma(alpha), 1e-3), dtype=np.float64)], {}


def _dirichlet_draw_sample(draw, rng):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=4))
    alpha = values(rng, shape, 0.3, 12.0)
    gammas = np.maximum(rng.gamma(alpha), 1e-3)
    return [alpha, gammas / gammas.sum(-1, keepdims=True)], {}


OPS += [
    # The sample is an input here, not drawn: d sample / d alpha is implicit (at a fixed CDF value), so
    # finite differences of this function (zero) do not apply; torch's formula is the oracle, and it
    # has no second derivative (nor has ours: it raises NotImplementedError, as torch's does).
    OpInfo("_standard_gamma", _standard_gamma_given, _gamma_draw_sample, finite_differences=False, gradgrad=False,
           notes="implicit reparameterization gradient, given the sample"),
    OpInfo("_sample_dirichlet", _dirichlet_given, _dirichlet_draw_sample, finite_differences=False, gradgrad=False,
           notes="implicit reparameterization gradient, given the sample"),
]


# -- activation checkpointing (tinytorch/utils/checkpoint.py): both variants' Functions -----------------
def _checkpointed(use_reentrant):
    def fn(lib, a, b):
        if lib.__name__ == "tinytorch":
            from tinytorch.utils.checkpoint import checkpoint
        else:
            from torch.utils.checkpoint import checkpoint
        return checkpoint(lambda a, b: (a * b).tanh() + a.exp(), a, b, use_reentrant=use_reentrant)

    return fn


OPS += [
    # The reentrant variant backpropagates without create_graph inside its backward (as torch's):
    # no second derivative.
    OpInfo("checkpoint_reentrant", _checkpointed(True), binary(), differentiable=(0, 1), gradgrad=False),
    OpInfo("checkpoint", _checkpointed(False), binary(), differentiable=(0, 1)),
]
