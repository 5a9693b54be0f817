"""inf and NaN come out of tinytorch silently, as out of PyTorch: no NumPy ``RuntimeWarning``
("invalid value encountered in reduce", "overflow encountered in cast", "... in matmul") from any
op's forward or backward, an optimizer's step or a tensor's construction; the caller's own NumPy
error state is left as it was (tinytorch/_float_errors.py)."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinytorch

from .op_table import OPS

INF, NAN = math.inf, math.nan
# Values that make NumPy warn: inf - inf, inf * 0, 0 / 0, sums and products past the float range,
# squares of 1e38 (float32) or 1e300 (float64), NaN and inf cast to integers.
SPECIAL = [INF, -INF, NAN, 0.0, -0.0, 1e38, -1e38, 3e4, -3e4, 100.0, -100.0, 1.0, -1.0, 1e-40]


def _special(rng, array, dtype):
    """``array`` with about 70% of its values replaced by special ones (the rest keeps the
    op's domain, so that most samples still reach the op's arithmetic)."""
    values = SPECIAL + ([1e300] if dtype == np.float64 else [])
    replaced = rng.choice(np.array(values), size=array.shape)
    return np.where(rng.random(array.shape) < 0.3, array, replaced).astype(dtype)


def _run_quietly(function):
    """``function()``; errors (an op refusing a NaN where PyTorch refuses it too, e.g. a
    singular matrix) are not what this file tests, warnings are: returns the NumPy warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            function()
        except Exception:  # noqa: BLE001 - refusals are tested elsewhere; warnings here
            pass
    return [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]


@pytest.mark.parametrize("op", OPS, ids=[op.name for op in OPS])
@settings(max_examples=4, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_no_numpy_warning_from_special_values(op, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    args, kwargs = op.sample(data.draw, rng)
    dtype = data.draw(st.sampled_from([np.float32, np.float64]), label="dtype")
    inputs = [
        tinytorch.tensor(_special(rng, a, dtype), requires_grad=i in op.differentiable)
        if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a
        for i, a in enumerate(args)
    ]

    def forward_and_backward():
        out = op.fn(tinytorch, *inputs, **kwargs)
        outs = out if isinstance(out, (tuple, list)) else [out]
        loss = sum((o * 1.0).sum() for o in outs if isinstance(o, tinytorch.Tensor) and o.requires_grad)
        if isinstance(loss, tinytorch.Tensor):
            loss.backward()

    assert _run_quietly(forward_and_backward) == []


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "Adagrad", "Adadelta", "RMSprop",
                                  "Rprop", "ASGD", "Adafactor"])
def test_optimizer_steps_with_inf_and_nan_gradients_are_silent_and_match_torch(name):
    kwargs = {"lr": 0.1, **({"momentum": 0.9} if name == "SGD" else {})}
    grads = [[INF, 1e38, NAN, 1.0], [1e38, 1e38, 1.0, 0.0]]  # no cancellation: rounding stays small

    def run(lib):
        p = lib.nn.Parameter(lib.ones(4))
        opt = getattr(lib.optim, name)([p], **kwargs)
        for g in grads:
            p.grad = lib.tensor(g)
            opt.step()
        return p.detach().numpy().copy()

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        ours = run(tinytorch)
    torch = pytest.importorskip("torch")
    np.testing.assert_allclose(ours, run(torch), rtol=1e-6, equal_nan=True)  # inf, -inf and NaN where PyTorch has them


@pytest.mark.parametrize("make, expected", [
    (lambda: tinytorch.tensor([INF, -INF]).sum(), NAN),
    (lambda: tinytorch.tensor([INF, -INF]).mean(), NAN),
    (lambda: tinytorch.tensor([3e38, 3e38]).sum(), INF),
    (lambda: tinytorch.tensor([INF, 0.0]) @ tinytorch.tensor([0.0, 1.0]), NAN),
    (lambda: tinytorch.tensor([1e40], dtype=tinytorch.float32)[0], INF),
    (lambda: tinytorch.tensor([1e300], dtype=tinytorch.float64).float()[0], INF),
    (lambda: tinytorch.tensor([1e5]).half()[0].float(), INF),
    (lambda: tinytorch.tensor([INF, -INF]).cumsum(0)[1], NAN),
])
def test_results_are_inf_and_nan_without_a_warning(make, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        value = float(make())
    assert (math.isnan(value) and math.isnan(expected)) or value == expected


def test_a_nan_cast_to_int_is_silent():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        tinytorch.tensor([NAN, INF]).int()


def test_the_callers_numpy_error_state_is_kept():
    with np.errstate(all="raise"):
        tinytorch.tensor([INF, -INF]).sum()  # PyTorch's semantics inside tinytorch ...
        x = tinytorch.tensor([INF, 1.0], requires_grad=True)
        (x * 0).sum().backward()
        assert np.geterr()["invalid"] == "raise"  # ... the caller's own NumPy code keeps its state
        with pytest.raises(FloatingPointError):
            np.add.reduce(np.array([INF, -INF]))
