"""The ops. Each differentiable primitive is one ``Function`` subclass, forward and backward side
by side, in the module of its family (``binary``, ``elementwise``, ``indexing``, ``matmul``,
``movement``, ``order``, ``shaping``, ``activations``, ``distance``, ``grid_sample``, ``products``, ``scatter_reduce``, ``indexing_extra``, ``statistics``, ``windows``, ``special_more``, ``pointwise_extra``, ``trigonometric``, ``bits``, ``inplace_forms``, ``reduce``, ``linalg``, ``special``; ``nn_ops`` and ``normalization`` hold the fused Functions behind ``nn.functional``; ``lu`` the LU factorization and matrix exponential).
``primitives()`` lists every Function subclass defined in tinytorch, and the op table
(tests/ops/op_table.py) must exercise each one.

``__all__`` holds the functions PyTorch has at its top level (``torch.add``...): ``tinytorch``
re-exports exactly those. The rest (``getitem``, ``inplace``, ``view``...) serve the Tensor
methods and stay internal."""

from ..autograd.function import Function
from ._util import normalize_dim, normalize_dims
from .activations import (
    alpha_dropout, alpha_dropout_, celu, celu_, feature_alpha_dropout, feature_alpha_dropout_, hardshrink, prelu, relu_,
    rrelu, rrelu_, selu, selu_, threshold, threshold_,
)
from .binary import arithmetic_  # noqa: F401 (the Tensor methods add_, sub_, mul_, div_)
from .binary import (
    add, addcdiv, addcmul, allclose, bitwise_and, bitwise_not, bitwise_or, bitwise_xor, div,
    eq, equal, floor_divide, fmod, ge, greater, greater_equal, gt, isclose, isfinite,
    isinf, isnan, le, lerp, less, less_equal, logical_and, logical_not, logical_or, logical_xor,
    lt, maximum, minimum, mul, ne, not_equal, pow, remainder, sub, where,
)
from .elementwise import (
    abs, ceil, clamp, clip, clone, cos, exp, expm1, floor, log, log1p, log2, log10, neg,
    reciprocal, relu, round, rsqrt, sigmoid, sign, sin, sqrt, square, tan, tanh, to_copy, trunc,
)
from .indexing import (
    copy_from, fill_, gather, getitem, index_add, index_copy, index_fill, index_select, inplace, masked_fill, masked_select,
    nonzero, scatter, scatter_add, setitem,
)
from .indexing_extra import (
    argwhere, clamp_max, clamp_max_, clamp_min, clamp_min_, diagonal_scatter, fill_diagonal_, index_put, index_put_,
    masked_scatter, msort, put, ravel, select_scatter, slice_scatter, take, unfold,
)
from .scatter_reduce import index_reduce, scatter_reduce
from .distance import cdist, cosine_similarity, dist, pairwise_distance, pdist
from .statistics import (
    combinations, corrcoef, cov, cumulative_trapezoid, histogramdd, logcumsumexp, renorm, trapezoid, trapz,
)
from .windows import bartlett_window, blackman_window, hamming_window, hann_window, kaiser_window
from .special_more import i0, igamma, igammac, mvlgamma, sinc
from .counting import bincount, histc, histogram, unique, unique_consecutive
from .einsum import einsum
from .grid_sample import affine_grid_generator, grid_sampler, grid_sampler_2d, grid_sampler_3d
from .matmul import addmm, baddbmm, bmm, dot, linear, matmul, mm, outer
from .products import addbmm, addmv, addr, block_diag, chain_matmul, ger, inner, mv, tensordot, vander, vdot
from .movement import (
    broadcast_shapes, broadcast_tensors, broadcast_to, cat, chunk, concat, concatenate,
    diag, diagonal, expand, flatten, flip, hstack, movedim, narrow, permute, repeat, repeat_interleave, reshape, roll,
    split, squeeze, stack, sum_to_size, swapaxes, swapdims, t, tensor_split, transpose, tril,
    triu, unbind, unflatten, unsqueeze, view, view_dtype, vstack,
)
from .movement import dsplit, hsplit, moveaxis, row_stack, select, vsplit
from .unravel import unravel_index
from .pointwise_extra import (
    aminmax, arctan2, atan2, bucketize, copysign, cummax, cummin, deg2rad, erfc, exp2, float_power,
    fmax, fmin, frac, gcd, hypot, isin, isneginf, isposinf, isreal, lcm, logaddexp, logaddexp2,
    logit, nan_to_num, nanmean, nansum, rad2deg, searchsorted, sgn, signbit,
)
from .shaping import (
    atleast_1d, atleast_2d, atleast_3d, cartesian_prod, column_stack, diag_embed, diagflat, diff,
    dstack, fliplr, flipud, kron, meshgrid, rot90, take_along_dim, tile, trace, tril_indices,
    triu_indices,
)
from .order import argsort, kthvalue, median, mode, nanmedian, nanquantile, quantile, sort, topk
from .reduce import (
    all, amax, amin, any, argmax, argmin, count_nonzero, cumprod, cumsum, log_softmax,
    logsumexp, max, mean, min, norm, prod, softmax, std, std_mean, sum, var,
    var_mean,
)
from .rnn import gru_cell, lstm_cell, rnn_relu_cell, rnn_tanh_cell
from .sampling import bernoulli, binomial, multinomial, poisson
from .special import digamma, erfinv, lgamma, polygamma, xlogy
from .trigonometric import (
    acos, acos_, acosh, acosh_, arccos, arccos_, arccosh, arccosh_, arcsin, arcsin_, arcsinh, arcsinh_, arctan, arctan_,
    arctanh, arctanh_, asin, asin_, asinh, asinh_, atan, atan_, atanh, atanh_, cosh, cosh_, sinh, sinh_,
)
from .pointwise_extra import fix, fix_, heaviside, positive, rsub
from .bits import bitwise_left_shift, bitwise_right_shift, frexp, ldexp, ldexp_, nextafter
from .views_extra import (
    adjoint, fill, nonzero_static, split_with_sizes, unsafe_chunk, unsafe_split, unsafe_split_with_sizes,
)
from .copies import (
    alias_copy, detach_copy, diagonal_copy, expand_copy, narrow_copy, permute_copy, select_copy, slice_copy, split_copy,
    split_with_sizes_copy, squeeze_copy, t_copy, transpose_copy, unbind_copy, unfold_copy, unsqueeze_copy, view_copy,
)
from .gradient import gradient
from .batch_norm_primitives import (
    batch_norm_backward_elemt, batch_norm_backward_reduce, batch_norm_elemt, batch_norm_gather_stats,
    batch_norm_gather_stats_with_counts, batch_norm_stats, batch_norm_update_stats, native_batch_norm, native_dropout,
    native_group_norm, native_layer_norm, native_norm,
)
from . import inplace_forms as _inplace_forms  # its names join __all__ at the end
from .inplace_forms import *  # noqa: F403 (torch.exp_(x) and the other top-level in-place forms: its __all__)

subtract, multiply, negative, absolute, divide, true_divide = sub, mul, neg, abs, div, div

__all__ = [
    "acos", "acos_", "acosh", "acosh_", "arccos", "arccos_", "arccosh", "arccosh_", "arcsin", "arcsin_", "arcsinh", "arcsinh_",
    "arctan", "arctan_", "arctanh", "arctanh_", "asin", "asin_", "asinh", "asinh_", "atan", "atan_", "atanh", "atanh_", "cosh", "cosh_", "sinh", "sinh_",
    "bitwise_left_shift", "bitwise_right_shift", "fix", "fix_", "frexp", "heaviside", "ldexp", "ldexp_", "nextafter", "positive", "rsub",
    "i0", "igamma", "igammac", "mvlgamma", "sinc",
    "dsplit", "hsplit", "moveaxis", "row_stack", "select", "unravel_index", "vsplit",
    "bartlett_window", "blackman_window", "combinations", "corrcoef", "cov", "cumulative_trapezoid", "hamming_window", "hann_window", "histogramdd", "kaiser_window", "logcumsumexp", "renorm", "trapezoid", "trapz",
    "argwhere", "clamp_max", "clamp_max_", "clamp_min", "clamp_min_", "diagonal_scatter", "index_put", "index_put_", "index_reduce", "masked_scatter", "msort", "put", "ravel", "scatter_reduce", "select_scatter", "slice_scatter", "take",
    "addbmm", "addmv", "addr", "block_diag", "chain_matmul", "ger", "inner", "mv", "tensordot", "vander", "vdot",
    "affine_grid_generator", "grid_sampler", "grid_sampler_2d", "grid_sampler_3d",
    "cdist", "cosine_similarity", "dist", "pairwise_distance", "pdist",
    "alpha_dropout", "alpha_dropout_", "celu", "celu_", "feature_alpha_dropout", "feature_alpha_dropout_", "hardshrink", "prelu", "relu_", "rrelu", "rrelu_", "selu", "selu_", "threshold", "threshold_",
    "abs", "absolute", "add", "addcdiv", "addcmul", "addmm", "all", "allclose", "amax", "amin",
    "aminmax", "any", "arctan2", "argmax", "argmin", "argsort", "atan2", "atleast_1d",
    "atleast_2d", "atleast_3d", "baddbmm", "bernoulli", "bincount", "binomial", "bitwise_and",
    "bitwise_not", "bitwise_or", "bitwise_xor", "bmm", "broadcast_shapes", "broadcast_tensors",
    "broadcast_to", "bucketize", "cartesian_prod", "cat", "ceil", "chunk", "clamp", "clip",
    "clone", "column_stack", "concat", "concatenate", "copysign", "cos", "count_nonzero", "cummax",
    "cummin", "cumprod", "cumsum", "deg2rad", "diag", "diag_embed", "diagflat", "diagonal", "diff",
    "digamma", "div", "divide", "dot", "dstack", "einsum", "eq", "equal", "erfc", "erfinv", "exp",
    "exp2", "expm1", "fill_", "flatten", "flip", "fliplr", "flipud", "float_power", "floor",
    "floor_divide", "fmax", "fmin", "fmod", "frac", "gather", "gcd", "ge", "greater",
    "greater_equal", "gru_cell", "gt", "histc", "histogram", "hstack", "hypot", "index_add",
    "index_copy", "index_fill", "index_select", "isclose", "isfinite", "isin", "isinf", "isnan",
    "isneginf", "isposinf", "isreal", "kron", "kthvalue", "lcm", "le", "lerp", "less",
    "less_equal", "lgamma", "log", "log10", "log1p", "log2", "log_softmax", "logaddexp",
    "logaddexp2", "logical_and", "logical_not", "logical_or", "logical_xor", "logit", "logsumexp",
    "lstm_cell", "lt", "masked_fill", "masked_select", "matmul", "max", "maximum", "mean",
    "median", "meshgrid", "min", "minimum", "mm", "mode", "movedim", "mul", "multinomial",
    "multiply", "nan_to_num", "nanmean", "nanmedian", "nanquantile", "nansum", "narrow", "ne",
    "neg", "negative", "nonzero", "norm", "not_equal", "outer", "permute", "poisson", "polygamma",
    "pow", "prod", "quantile", "rad2deg", "reciprocal", "relu", "remainder", "repeat_interleave",
    "reshape", "rnn_relu_cell", "rnn_tanh_cell", "roll", "rot90", "round", "rsqrt", "scatter",
    "scatter_add", "searchsorted", "sgn", "sigmoid", "sign", "signbit", "sin", "softmax", "sort",
    "split", "sqrt", "square", "squeeze", "stack", "std", "std_mean", "sub", "subtract", "sum",
    "swapaxes", "swapdims", "t", "take_along_dim", "tan", "tanh", "tensor_split", "tile", "topk",
    "trace", "transpose", "tril", "tril_indices", "triu", "triu_indices", "true_divide", "trunc",
    "unbind", "unflatten", "unique", "unique_consecutive", "unsqueeze", "var", "var_mean",
    "vstack", "where", "xlogy",
]
__all__ += [
    "adjoint", "fill", "nonzero_static", "split_with_sizes", "unsafe_chunk", "unsafe_split", "unsafe_split_with_sizes",
    "alias_copy", "detach_copy", "diagonal_copy", "expand_copy", "narrow_copy", "permute_copy", "select_copy", "slice_copy",
    "split_copy", "split_with_sizes_copy", "squeeze_copy", "t_copy", "transpose_copy", "unbind_copy", "unfold_copy",
    "unsqueeze_copy", "view_copy", "gradient",
    "batch_norm_backward_elemt", "batch_norm_backward_reduce", "batch_norm_elemt", "batch_norm_gather_stats",
    "batch_norm_gather_stats_with_counts", "batch_norm_stats", "batch_norm_update_stats", "native_batch_norm",
    "native_dropout", "native_group_norm", "native_layer_norm", "native_norm",
]
__all__ += _inplace_forms.__all__


def primitives():
    """Every Function subclass defined in tinytorch (built-in ops), by name."""
    found, pending = {}, list(Function.__subclasses__())
    while pending:
        cls = pending.pop()
        if cls.__module__.startswith("tinytorch."):
            found[cls.__name__] = cls
        pending.extend(cls.__subclasses__())
    return found
