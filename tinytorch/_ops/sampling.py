"""Sampling ops: ``multinomial``, ``bernoulli``, ``poisson``, ``binomial`` and ``normal``'s tensor forms
(no gradient, or a zero one), drawing from a ``Generator``.

Both take ``generator=`` as PyTorch's do; without one they draw from the device's default
generator, so ``tinytorch.manual_seed`` makes them reproducible. Checks that need the data
(negative or non-finite probabilities) go through ``backend.check_later``: on the CPU they raise
at once, on a GPU at the next synchronization.
"""

from .. import _backend as backend, _dtypes as dtypes
from ..autograd.function import Function
from .._tensor import Tensor
from ..random import Generator, generator_for
from ._util import check_same_device, result_dtype, wrap
from .binary import _broadcast_error
from .movement import broadcast_shapes

_TITLES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _check_generator(generator, name):
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"{name}(): argument 'generator' must be tinytorch.Generator, not {type(generator).__name__}")


def _bad_probabilities():
    raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")


def _zero_sum():
    raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Indices drawn from the categories of each row of ``input`` (non-negative weights, not
    necessarily normalized): an int64 tensor of shape (num_samples,) or (rows, num_samples).

    With replacement: inverse-CDF sampling (one uniform per sample, found in the row's running
    sum). Without: the exponential race PyTorch uses (keys E / p with E ~ Exp(1); the
    ``num_samples`` smallest win), which draws the same distribution as sampling one at a time
    and renormalizing; zero-weight categories come last.
    """
    _check_generator(generator, "multinomial")
    data = input._data
    if data.dtype.kind != "f":
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: {_TITLES.get(data.dtype.name, data.dtype.name)}")
    if data.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    categories = data.shape[-1]
    if categories == 0:
        raise RuntimeError("multinomial(): the probability distribution has no categories (its last dimension is 0)")
    num_samples = int(num_samples)
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and num_samples > categories:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    xp = backend.array_module(data)
    rows = data.reshape(-1, categories).astype(xp.float64)
    if rows.size:
        backend.check_later(~(xp.isfinite(rows) & (rows >= 0)).all(), _bad_probabilities)
        backend.check_later((rows.sum(axis=1) <= 0).any(), _zero_sum)
    rng = generator_for(input.device, generator)
    count = rows.shape[0]
    if replacement:
        cdf = rows.cumsum(axis=1)
        # Normalized by each row's total, so the last category with weight ends at exactly 1.0 and
        # a uniform in [0, 1) never lands on a zero-weight category after it.
        cdf /= cdf[:, -1:]
        # One search for all rows: row r's values are shifted into [r, r + 1].
        offsets = xp.arange(count, dtype=xp.float64)[:, None]
        uniforms = rng.random((count, num_samples)) + offsets
        found = xp.searchsorted((cdf + offsets).reshape(-1), uniforms.reshape(-1), side="right").reshape(count, num_samples)
        samples = xp.minimum(found - xp.arange(count)[:, None] * categories, categories - 1)
    else:
        with_weight = rows > 0
        keys = rng.standard_exponential((count, categories)) / xp.where(with_weight, rows, 1.0)
        keys = xp.where(with_weight, keys, xp.inf)
        samples = xp.argsort(keys, axis=1, kind="stable")[:, :num_samples]
    samples = samples.astype(dtypes.int64.numpy, copy=False)
    return wrap(samples.reshape(data.shape[:-1] + (num_samples,)))


def _probability_out_of_range():
    raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")


def bernoulli(input, p=None, *, generator=None):
    """1 with probability ``input`` (or ``p``) element-wise, else 0; the dtype of ``input``."""
    _check_generator(generator, "bernoulli")
    data = input._data
    if data.dtype.kind != "f":
        raise NotImplementedError(f"\"bernoulli_tensor_cpu_p_\" not implemented for '{_TITLES.get(data.dtype.name, data.dtype.name)}'")
    probability = data if p is None else p
    if p is None:
        if data.size:
            backend.check_later(~((data >= 0) & (data <= 1)).all(), _probability_out_of_range)
    elif not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
    rng = generator_for(input.device, generator)
    draws = rng.random(data.shape) < probability
    return Tensor._make(draws.astype(data.dtype))


def _negative_rate():
    raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")


def poisson(input, generator=None):
    """A Poisson draw with rate ``input``, element-wise, in ``input``'s (floating) dtype. No
    gradient flows back to the rate (PyTorch's is zero too)."""
    _check_generator(generator, "poisson")
    if not isinstance(input, Tensor):
        raise TypeError(f"poisson(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    data = input._data
    if data.dtype.kind != "f":
        raise NotImplementedError(f"\"poisson_cpu\" not implemented for '{dtypes.scalar_type_name(data.dtype)}'")
    xp = backend.array_module(data)
    if data.size:
        backend.check_later((data < 0).any(), _negative_rate)
    rng = generator_for(input.device, generator)
    return wrap(rng.poisson(xp.maximum(data, 0).astype(xp.float64)).astype(data.dtype))


def binomial(count, prob, generator=None):
    """The number of successes in ``count`` trials of probability ``prob``, element-wise (both
    floating tensors, broadcast); the result has ``count``'s dtype."""
    _check_generator(generator, "binomial")
    for position, (x, name) in enumerate(((count, "count"), (prob, "prob")), 1):
        if not isinstance(x, Tensor):
            raise TypeError(f"binomial(): argument '{name}' (position {position}) must be Tensor, not {type(x).__name__}")
        if x._data.dtype.kind != "f":
            raise ValueError(f"binomial only supports floating-point dtypes for {name}, got: {dtypes.scalar_type_name(x._data.dtype)}")
    n, p = count._data, prob._data
    xp = backend.array_module(n)
    shape = broadcast_shapes(n.shape, p.shape)
    trials = xp.broadcast_to(xp.maximum(n, 0), shape).astype(xp.int64)
    chance = xp.broadcast_to(xp.clip(p, 0, 1), shape).astype(xp.float64)
    rng = generator_for(count.device, generator)
    return wrap(rng.binomial(trials, chance).astype(n.dtype))


class Normal(Function):
    """``normal(mean, std)``: the draws, with PyTorch's zero gradient for ``mean`` and ``std`` (a
    sample is not differentiated through; ``distributions.Normal.rsample`` is)."""

    @staticmethod
    def forward(ctx, mean, std, draws):
        return wrap(draws)

    @staticmethod
    def backward(ctx, grad_output):
        zero = grad_output * 0
        return (zero if ctx.needs_input_grad[0] else None), (zero if ctx.needs_input_grad[1] else None), None


def _negative_std():
    raise RuntimeError("normal expects all elements of std >= 0.0")


def normal_of_tensors(mean, std, generator=None):
    """``normal`` when ``mean`` or ``std`` (or both) is a tensor: one draw per element of their
    broadcast shape, ``mean + std * N(0, 1)``, in their floating dtype."""
    for value in (mean, std):
        if isinstance(value, Tensor) and value._data.dtype.kind != "f":
            raise NotImplementedError(f"\"normal_kernel_cpu\" not implemented for '{dtypes.scalar_type_name(value._data.dtype)}'")
    if isinstance(std, Tensor):
        if std._data.size:
            backend.check_later((std._data < 0).any(), _negative_std)
    elif std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
    if len(tensors) == 2:
        check_same_device(mean, std)
        try:
            shape = broadcast_shapes(mean._data.shape, std._data.shape)
        except RuntimeError:
            raise _broadcast_error(mean, std) from None
        numpy_dtype = result_dtype(mean, std)  # a NumPy dtype
    else:
        shape, numpy_dtype = tensors[0]._data.shape, tensors[0]._data.dtype
    xp = backend.array_module(tensors[0]._data)
    rng = generator_for(tensors[0].device, generator)
    # float16: drawn in float32 and rounded (NumPy draws no half-precision normals).
    draws = rng.standard_normal(shape, dtype=numpy_dtype if numpy_dtype.itemsize >= 4 else xp.float32)
    m = mean._data if isinstance(mean, Tensor) else mean
    s = std._data if isinstance(std, Tensor) else std
    draws = (draws * s + m).astype(numpy_dtype, copy=False)
    return Normal.apply(mean if isinstance(mean, Tensor) else None, std if isinstance(std, Tensor) else None, draws)
