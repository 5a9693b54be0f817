"""PyTorch's top-level in-place functions whose Tensor method tinytorch already has:
``torch.exp_(x)`` is ``x.exp_()``, ``torch.clamp_(x, min, max)`` is ``x.clamp_(min, max)``.

Each one checks that ``input`` is a tensor (PyTorch's TypeError) and hands the rest of its
arguments to the method, so the two forms can never disagree."""

from ._util import check_tensor_argument

_NAMES = [
    "abs_", "addmv_", "ceil_", "clamp_", "clip_", "cos_", "deg2rad_", "detach_", "erf_", "erfc_", "exp2_", "exp_",
    "expm1_", "floor_", "frac_", "gcd_", "i0_", "lcm_", "log10_", "log1p_", "log2_", "log_", "logit_", "nan_to_num_",
    "neg_", "negative_", "rad2deg_", "reciprocal_", "round_", "rsqrt_", "sigmoid_", "sin_", "sinc_", "sqrt_",
    "square_", "tan_", "tanh_", "trunc_", "xlogy_", "zero_",
]
__all__ = list(_NAMES)


def _inplace_form(name):
    def op(input, *args, **kwargs):
        check_tensor_argument(name, input)
        return getattr(input, name)(*args, **kwargs)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"``input.{name}(...)`` as a function (the in-place form of ``{name[:-1]}``)."
    op.__module__ = __name__
    return op


(abs_, addmv_, ceil_, clamp_, clip_, cos_, deg2rad_, detach_, erf_, erfc_, exp2_, exp_, expm1_, floor_, frac_, gcd_, i0_,
 lcm_, log10_, log1p_, log2_, log_, logit_, nan_to_num_, neg_, negative_, rad2deg_, reciprocal_, round_, rsqrt_,
 sigmoid_, sin_, sinc_, sqrt_, square_, tan_, tanh_, trunc_, xlogy_, zero_) = (_inplace_form(name) for name in _NAMES)
