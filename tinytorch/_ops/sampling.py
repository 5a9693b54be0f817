"""Sampling ops: ``multinomial``, ``bernoulli``, ``poisson``, ``binomial`` and ``normal``'s tensor forms
(no gradient, or a zero one), drawing from a ``Generator``.

Both take ``generator=`` as PyTorch's do; without one they draw from the device's default
generator, so ``tinytorch.manual_seed`` makes them reproducible. Checks that need the data
(negative or non-finite probabilities) go through ``backend.check_later``: on the CPU they raise
at once, on a GPU at the next synchronization.
"""

import numpy as np

from .. import _backend as backend, _dtypes as dtypes
from ..autograd.function import Function
from .._tensor import Tensor
from ..random import Generator, generator_for
from ._util import check_same_device, quiet, result_dtype, wrap
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
    with quiet():  # inf * 0 and inf - inf give NaN, silently, as in PyTorch
        draws = (draws * s + m).astype(numpy_dtype, copy=False)
    return Normal.apply(mean if isinstance(mean, Tensor) else None, std if isinstance(std, Tensor) else None, draws)


# -- Gamma and Dirichlet draws with implicit reparameterization gradients ---------------------------
def _marsaglia_tsang(alpha, rng):
    """Standard Gamma(alpha) draws (float64) by aten's ``sample_gamma``: Marsaglia and Tsang's
    acceptance-rejection method (doi:10.1145/358407.358414), alpha < 1 boosted to alpha + 1 and
    scaled by U^(1/alpha). Vectorized: each round draws a candidate for every entry not yet
    accepted (over 95% are accepted per round, so a handful of rounds); on a GPU each round reads
    back how many remain (the number of draws depends on the data)."""
    xp = backend.array_module(alpha)
    flat = alpha.reshape(-1)
    small = flat < 1.0
    with quiet():
        # 1 - U lies in (0, 1]; alpha == 0 gives U^inf = 0 (aten returns 0 for it).
        boost = xp.where(small, (1.0 - rng.random(flat.shape)) ** (1.0 / flat), 1.0)
        shape_param = xp.where(small, flat + 1.0, flat)
        d = shape_param - 1.0 / 3.0
        c = 1.0 / xp.sqrt(9.0 * d)
    out = xp.zeros(flat.shape, dtype=xp.float64)
    pending = xp.arange(flat.size)
    while pending.size:
        dd, cc = d[pending], c[pending]
        x = rng.standard_normal(pending.shape)
        y = 1.0 + cc * x
        v = y * y * y
        u = 1.0 - rng.random(pending.shape)
        xx = x * x
        with quiet():
            accept = (y > 0) & ((u < 1.0 - 0.0331 * xx * xx) | (xp.log(u) < 0.5 * xx + dd * (1.0 - v + xp.log(v))))
        # NaN parameters never pass the test: they are accepted as NaN rather than looping forever.
        accept |= xp.isnan(dd)
        out[pending[accept]] = dd[accept] * v[accept]
        pending = pending[~accept]
    return (out * boost).reshape(alpha.shape)


def _standard_gamma_grad_array(alpha, x):
    """aten's ``standard_gamma_grad_one``, vectorized (in float64): d x / d alpha at a fixed value of
    the CDF, for x ~ Gamma(alpha, 1). A Taylor series for x < 0.8, Rice's saddle-point expansion for
    alpha > 8, and a bivariate rational approximation otherwise."""
    xp = backend.array_module(alpha)
    digamma = backend.special_module(alpha).digamma
    with quiet():
        # Taylor series for small x.
        numer = xp.ones_like(x)
        denom = alpha.copy()
        series1 = numer / denom
        series2 = numer / (denom * denom)
        for i in range(1, 6):
            numer = numer * (-x / i)
            denom = denom + 1
            series1 = series1 + numer / denom
            series2 = series2 + numer / (denom * denom)
        pow_x_alpha = x**alpha
        gamma_pdf = x ** (alpha - 1) * xp.exp(-x)
        gamma_cdf = pow_x_alpha * series1
        gamma_cdf_alpha = (xp.log(x) - digamma(alpha)) * gamma_cdf - pow_x_alpha * series2
        small_x = -gamma_cdf_alpha / gamma_pdf
        small_x = xp.where(xp.isnan(small_x), 0.0, small_x)

        # Rice saddle point expansion for large alpha: near the mode, and away from it.
        numer_1 = 1 + 24 * alpha * (1 + 12 * alpha)
        numer_2 = 1440 * (alpha * alpha) + 6 * x * (53 - 120 * x) - 65 * x * x / alpha + alpha * (107 + 3600 * x)
        near_mode = numer_1 * numer_2 / (1244160 * (alpha * alpha) * (alpha * alpha))
        sqrt_8a = xp.sqrt(8 * alpha)
        term2 = sqrt_8a / (alpha - x)
        term3 = (x - alpha - alpha * xp.log(x / alpha)) ** -1.5
        term23 = xp.where(x < alpha, term2 - term3, term2 + term3)
        term1 = xp.log(x / alpha) * term23 - xp.sqrt(2 / alpha) * (alpha + x) / ((alpha - x) * (alpha - x))
        stirling = 1 + 1 / (12 * alpha) * (1 + 1 / (24 * alpha))
        off_mode = -stirling * (x * term1) / sqrt_8a
        large_alpha = xp.where((0.9 * alpha <= x) & (x <= 1.1 * alpha), near_mode, off_mode)

        # Bivariate rational approximation.
        u = xp.log(x / alpha)
        v = xp.log(alpha)
        coef_v = [_GAMMA_GRAD_UV[0][i] + u * (_GAMMA_GRAD_UV[1][i] + u * _GAMMA_GRAD_UV[2][i]) for i in range(8)]
        p = coef_v[0] + v * (coef_v[1] + v * (coef_v[2] + v * coef_v[3]))
        q = coef_v[4] + v * (coef_v[5] + v * (coef_v[6] + v * coef_v[7]))
        rational = xp.exp(p / q)
    return xp.where(x < 0.8, small_x, xp.where(alpha > 8.0, large_alpha, rational))


_GAMMA_GRAD_UV = (
    (0.16009398, -0.094634809, 0.025146376, -0.0030648343, 1, 0.32668115, 0.10406089, 0.0014179084),
    (0.53487893, 0.1298071, 0.065735949, -0.0015649758, 0.16639465, 0.020070113, -0.0035938915, -0.00058392623),
    (0.040121004, -0.0065914022, -0.0026286047, -0.0013441777, 0.017050642, -0.0021309326, 0.00085092367, -1.5247877e-07),
)


def _beta_grad_alpha_small(x, alpha, beta, digamma, xp):
    """aten's ``_beta_grad_alpha_small``: a Taylor expansion for x near 0."""
    factor = digamma(alpha) - digamma(alpha + beta) - xp.log(x)
    numer = xp.ones_like(x)
    series = numer / alpha * (factor + 1 / alpha)
    for i in range(1, 11):
        numer = numer * ((i - beta) * x / i)
        denom = alpha + i
        series = series + numer / denom * (factor + 1 / denom)
    result = x * (1 - x) ** -beta * series
    return xp.where(xp.isnan(result), 0.0, result)


def _beta_grad_beta_small(x, alpha, beta, digamma, xp):
    """aten's ``_beta_grad_beta_small``: a Taylor expansion for x near 0."""
    factor = digamma(alpha + beta) - digamma(beta)
    numer, betas, dbetas = xp.ones_like(x), xp.ones_like(x), xp.zeros_like(x)
    series = factor / alpha
    for i in range(1, 9):
        numer = numer * (-x / i)
        dbetas = dbetas * (beta - i) + betas
        betas = betas * (beta - i)
        series = series + numer / (alpha + i) * (dbetas + factor * betas)
    result = -((1 - x) ** (1 - beta)) * series
    return xp.where(xp.isnan(result), 0.0, result)


def _beta_grad_alpha_mid(x, alpha, beta, xp):
    """aten's ``_beta_grad_alpha_mid``: Rice's saddle-point expansion for large alpha and beta."""
    total = alpha + beta
    mean = alpha / total
    std = xp.sqrt(alpha * beta / (total + 1)) / total
    poly = 47 * x * (beta * beta) * (beta * beta) + alpha * (
        (43 + 20 * (16 + 27 * beta) * x) * (beta * beta) * beta + alpha * (
            3 * (59 + 180 * beta - 90 * x) * (beta * beta) + alpha * (
                (453 + 1620 * beta * (1 - x) - 455 * x) * beta + alpha * (8 * (1 - x) * (135 * beta - 11)))))
    prefactor_num = (1 + 12 * alpha) * (1 + 12 * beta) / (total * total)
    prefactor_den = 12960 * alpha * alpha * alpha * beta * beta * (1 + 12 * total)
    near_mean = prefactor_num / (1 - x) * poly / prefactor_den
    prefactor = -x / xp.sqrt(2 * alpha * beta / total)
    stirling = ((1 + 1 / (12 * alpha) + 1 / (288 * alpha * alpha)) * (1 + 1 / (12 * beta) + 1 / (288 * beta * beta))
                / (1 + 1 / (12 * total) + 1 / (288 * total * total)))
    term1_num = 2 * (alpha * alpha) * (x - 1) + alpha * beta * (x - 1) - x * (beta * beta)
    axbx = alpha * (x - 1) + beta * x
    term1 = term1_num / (xp.sqrt(2 * alpha / beta) * total**1.5 * axbx * axbx)
    term2 = 0.5 * xp.log(alpha / (total * x))
    term3 = xp.sqrt(8 * alpha * beta / total) / (beta * x + alpha * (x - 1))
    term4 = (beta * xp.log(beta / (total * (1 - x))) + alpha * xp.log(alpha / (total * x))) ** -1.5
    term1234 = term1 + term2 * (term3 + xp.where(x < mean, term4, -term4))
    away = stirling * prefactor * term1234
    return xp.where((mean - 0.1 * std <= x) & (x <= mean + 0.1 * std), near_mean, away)


_DIRICHLET_GRAD_C = (
    (((1.003668233, -0.01061107488, -0.0657888334, 0.01201642863),
      (0.6336835991, -0.3557432599, 0.05486251648, -0.001465281033),
      (-0.03276231906, 0.004474107445, 0.002429354597, -0.0001557569013)),
     ((0.221950385, -0.3187676331, 0.01799915743, 0.01074823814),
      (-0.2951249643, 0.06219954479, 0.01535556598, 0.001550077057),
      (0.02155310298, 0.004170831599, 0.001292462449, 6.976601077e-05)),
     ((-0.05980841433, 0.008441916499, 0.01085618172, 0.002319392565),
      (0.02911413504, 0.01400243777, -0.002721828457, 0.000751041181),
      (0.005900514878, -0.001936558688, -9.495446725e-06, 5.385558597e-05))),
    (((1, -0.02924021934, -0.04438342661, 0.007285809825),
      (0.6357567472, -0.3473456711, 0.05454656494, -0.002407477521),
      (-0.03301322327, 0.004845219414, 0.00231480583, -0.0002307248149)),
     ((0.5925320577, -0.1757678135, 0.01505928619, 0.000564515273),
      (0.1014815858, -0.06589186703, 0.01272886114, -0.0007316646956),
      (-0.007258481865, 0.001096195486, 0.0003934994223, -4.12701925e-05)),
     ((0.06469649321, -0.0236701437, 0.002902096474, -5.896963079e-05),
      (0.001925008108, -0.002869809258, 0.0008000589141, -6.063713228e-05),
      (-0.0003477407336, 6.959756487e-05, 1.097287507e-05, -1.650964693e-06))),
)


def _dirichlet_grad_array(x, alpha, total):
    """aten's ``dirichlet_grad_one``, vectorized (in float64): the scaled reparameterized gradient
    -(d/dalpha cdf(x; alpha, total - alpha)) / pdf(x; alpha, total - alpha) / (1 - x) of a Beta
    marginal. Asymptotic expansions near 0 and 1 and for large alpha and beta; otherwise a rational
    correction to an analytic approximation."""
    xp = backend.array_module(x)
    digamma = backend.special_module(x).digamma
    with quiet():
        beta = total - alpha
        boundary = total * x * (1 - x)
        near_zero = _beta_grad_alpha_small(x, alpha, beta, digamma, xp)
        near_one = -_beta_grad_beta_small(1 - x, beta, alpha, digamma, xp)
        mid = _beta_grad_alpha_mid(x, alpha, beta, xp)
        u = xp.log(x)
        a = xp.log(alpha) - u
        b = xp.log(total) - a
        pow_u, pow_a = (1, u, u * u), (1, a, a * a)
        p = q = 0.0
        for i in range(3):
            for j in range(3):
                ua = pow_u[i] * pow_a[j]
                cp, cq = _DIRICHLET_GRAD_C[0][i][j], _DIRICHLET_GRAD_C[1][i][j]
                p = p + ua * (cp[0] + b * (cp[1] + b * (cp[2] + b * cp[3])))
                q = q + ua * (cq[0] + b * (cq[1] + b * (cq[2] + b * cq[3])))
        rational = p / q * (x * (digamma(total) - digamma(alpha)) / beta)
    return xp.where((x <= 0.5) & (boundary < 2.5), near_zero,
                    xp.where((x >= 0.5) & (boundary < 0.75), near_one,
                             xp.where((alpha > 6) & (beta > 6), mid, rational)))


def _as_float64(tensor):
    return tensor._data.astype("float64", copy=False)


class StandardGammaGrad(Function):
    """``_standard_gamma_grad(alpha, sample)``: d sample / d alpha at a fixed CDF value. Like
    PyTorch's, it has no derivative of its own (a second derivative through a Gamma sample raises)."""

    @staticmethod
    def forward(ctx, alpha, sample):
        grad = _standard_gamma_grad_array(_as_float64(alpha), _as_float64(sample))
        return wrap(grad.astype(alpha._data.dtype, copy=False))

    @staticmethod
    def backward(ctx, grad_output):
        raise NotImplementedError("the derivative for '_standard_gamma_grad' is not implemented.")


class StandardGamma(Function):
    """``_standard_gamma(alpha)`` given its ``draws``: the draws, and as the gradient w.r.t. alpha
    PyTorch's implicit reparameterization, grad * _standard_gamma_grad(alpha, draws)."""

    @staticmethod
    def forward(ctx, alpha, draws):
        out = wrap(draws)
        ctx.save_for_backward(alpha, out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        alpha, out = ctx.saved_tensors
        return grad_output * StandardGammaGrad.apply(alpha, out.detach()), None


def _tiny_clamped(samples, dtype):
    """Samples cast to ``dtype`` and kept at or above its smallest normal number (as aten does, so
    that log(sample) stays finite)."""
    xp = backend.array_module(samples)
    return xp.maximum(samples.astype(dtype), np.finfo(dtype).tiny)


def _float_parameter(function, name, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{function}(): argument '{name}' (position 1) must be Tensor, not {type(x).__name__}")
    if x._data.dtype.kind != "f":
        raise NotImplementedError(f"\"{function}_cpu\" not implemented for '{dtypes.scalar_type_name(x._data.dtype)}'")


def _standard_gamma(input, generator=None):
    """Standard Gamma(input) draws (rate 1), element-wise, differentiable w.r.t. ``input`` by
    PyTorch's implicit reparameterization (``torch._standard_gamma``)."""
    _check_generator(generator, "_standard_gamma")
    _float_parameter("_standard_gamma", "input", input)
    rng = generator_for(input.device, generator)
    draws = _marsaglia_tsang(_as_float64(input), rng)
    return StandardGamma.apply(input, _tiny_clamped(draws, input._data.dtype))


def _standard_gamma_grad(input, output):
    """``torch._standard_gamma_grad(alpha, sample)``: d sample / d alpha at a fixed CDF value."""
    _float_parameter("_standard_gamma_grad", "input", input)
    return StandardGammaGrad.apply(input, output)


class DirichletGrad(Function):
    """``_dirichlet_grad(x, alpha, total)``; no derivative of its own, as in PyTorch."""

    @staticmethod
    def forward(ctx, x, alpha, total):
        grad = _dirichlet_grad_array(_as_float64(x), _as_float64(alpha), _as_float64(total))
        return wrap(grad.astype(x._data.dtype, copy=False))

    @staticmethod
    def backward(ctx, grad_output):
        raise NotImplementedError("the derivative for '_dirichlet_grad' is not implemented.")


class DirichletSample(Function):
    """A Dirichlet(concentration) sample given its ``draws`` (normalized Gamma draws); the gradient
    w.r.t. the concentration is PyTorch's ``_Dirichlet_backward``."""

    @staticmethod
    def forward(ctx, concentration, draws):
        out = wrap(draws)
        ctx.save_for_backward(concentration, out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        concentration, x = ctx.saved_tensors
        x = x.detach()
        total = concentration.sum(-1, True).expand_as(concentration)
        grad = DirichletGrad.apply(x, concentration, total)
        return grad * (grad_output - (x * grad_output).sum(-1, True)), None


def _sample_dirichlet(concentration, generator=None):
    """A Dirichlet draw along the last dim of ``concentration``: Gamma draws normalized by their sum
    (kept inside [tiny, 1) as aten does); differentiable by implicit reparameterization."""
    _check_generator(generator, "_sample_dirichlet")
    _float_parameter("_sample_dirichlet", "input", concentration)
    xp = backend.array_module(concentration._data)
    rng = generator_for(concentration.device, generator)
    gammas = _marsaglia_tsang(_as_float64(concentration), rng)
    dtype = concentration._data.dtype
    with quiet():
        ratios = (gammas / gammas.sum(axis=-1, keepdims=True)).astype(dtype)
    below_one = float(np.nextafter(dtype.type(1), dtype.type(0)))
    return DirichletSample.apply(concentration, xp.clip(ratios, np.finfo(dtype).tiny, below_one))


def _dirichlet_grad(x, alpha, total):
    """``torch._dirichlet_grad(x, alpha, total)``."""
    return DirichletGrad.apply(x, alpha, total)
