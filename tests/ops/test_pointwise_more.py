"""heaviside, positive, fix / fix_, rsub, and PyTorch's top-level in-place functions
(tinytorch.exp_(x) is x.exp_()): values, dtypes and errors against torch, gradients, and the
in-place contract (same tensor back, version bumped)."""

import numpy as np
import pytest

import tinytorch
from tinytorch._ops import inplace_forms

CASES = [
    "lib.heaviside(lib.tensor([-1., 0., 2., float('nan')]), lib.tensor([0.5]))",
    "lib.heaviside(lib.tensor([-1, 0, 2]), lib.tensor([5]))",
    "lib.heaviside(lib.tensor([True, False]), lib.tensor([True]))",
    "lib.heaviside(lib.tensor([[0.], [1.]]), lib.tensor([0.5, 0.25]))",
    "lib.heaviside(lib.tensor([-1., 0, 2]), lib.tensor([5]))",
    "lib.heaviside(lib.tensor([-1., 0, 2]), 0.5)",
    "lib.heaviside(lib.ones(2), lib.ones(3))",
    "lib.heaviside(lib.ones(2), lib.ones(2), out=lib.empty(2, dtype=lib.float64))",
    "lib.heaviside(lib.tensor([0., -3.]), lib.tensor(0.5), out=lib.empty(2))",
    "lib.tensor([0., 1., -1.]).heaviside_(lib.tensor([0.5]))",
    "lib.tensor([0., 1.]).heaviside(lib.tensor(7.))",
    "lib.positive(lib.tensor([1, 2]))",
    "lib.positive(lib.tensor([True]))",
    "lib.positive([1])",
    "lib.tensor([1.5]).positive()",
    "lib.fix(lib.tensor([1.5, -2.5, 0.2]))",
    "lib.fix(lib.tensor([1, -2]))",
    "lib.fix(lib.tensor([1.5, -0.5]), out=lib.empty(2))",
    "lib.fix_(lib.tensor([1.5, -2.5]))",
    "lib.tensor([1.5, -2.5]).fix_()",
    "lib.tensor([1.5, -2.5]).fix()",
    "lib.rsub(lib.tensor([1., 2.]), 5)",
    "lib.rsub(lib.tensor([1., 2.]), lib.tensor([5.]), alpha=2)",
    "lib.rsub(lib.tensor([1, 2]), 5.5)",
    "lib.rsub(lib.tensor([1, 2]), 5)",
    "lib.rsub(lib.tensor([1, 2], dtype=lib.int32), lib.tensor([5]))",
    "lib.rsub(lib.tensor([True]), lib.tensor([True]))",
    "lib.rsub(lib.tensor([1, 2]), 5, alpha=0.5)",
    "lib.rsub(lib.tensor([1., 2]), 5, alpha=0.5)",
    # the top-level in-place forms
    "lib.exp_(lib.tensor([1.]))",
    "lib.exp_(input=lib.tensor([1.]))",
    "lib.exp_([1.])",
    "lib.exp_(lib.tensor([1]))",
    "lib.clamp_(lib.tensor([1., 5.]), max=2)",
    "lib.clip_(lib.tensor([1., 5.]), 0, 2)",
    "lib.addmv_(lib.zeros(2), lib.ones(2, 2), lib.ones(2), beta=2, alpha=3)",
    "lib.xlogy_(lib.tensor([1.]), lib.tensor([2.]))",
    "lib.zero_(lib.tensor([1.]))",
    "lib.detach_(lib.tensor([1.]))",
    "lib.nan_to_num_(lib.tensor([float('nan')]), 1.0)",
    "lib.sqrt_(lib.tensor([4.]))",
    "lib.tanh_(lib.tensor([0.5]))",
    "lib.sigmoid_(lib.tensor([0.5]))",
    "lib.abs_(lib.tensor([-2]))",
    "lib.neg_(lib.tensor([-2]))",
    "lib.log_(lib.tensor([2.]))",
    "lib.gcd_(lib.tensor([4]), lib.tensor([6]))",
    "lib.lcm_(lib.tensor([4]), lib.tensor([6]))",
    "lib.logit_(lib.tensor([0.5, 0.01]), 0.1)",
    "lib.frac_(lib.tensor([1.5]))",
    "lib.deg2rad_(lib.tensor([180.]))",
    "lib.rad2deg_(lib.tensor([0.5]))",
    "lib.erfc_(lib.tensor([0.5]))",
    "lib.exp2_(lib.tensor([3.]))",
    "lib.i0_(lib.tensor([0.5]))",
    "lib.sinc_(lib.tensor([0.5]))",
]


def _evaluate(lib, case):
    try:
        return "value", eval(case, {"lib": lib})
    except Exception as error:  # the error is what is compared
        return "error", error


@pytest.mark.parametrize("case", CASES)
def test_matches_torch(case):
    torch = pytest.importorskip("torch")
    kind, expected = _evaluate(torch, case)
    got_kind, got = _evaluate(tinytorch, case)
    assert got_kind == kind, f"torch gave {expected!r}, tinytorch {got!r}"
    if kind == "error":
        assert type(got) is type(expected) and str(got) == str(expected)
        return
    assert str(got.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-6)


def test_heaviside_on_device(device):
    x = tinytorch.tensor([-1.0, 0.0, 3.0], device=device)
    result = tinytorch.heaviside(x, tinytorch.tensor([0.25], device=device))
    assert result.device.type == device and result.tolist() == [0.0, 0.25, 1.0]


def test_heaviside_has_no_gradient():
    x = tinytorch.tensor([-1.0, 2.0], requires_grad=True)
    assert not tinytorch.heaviside(x, tinytorch.tensor(0.5)).requires_grad


def test_positive_is_the_input():
    x = tinytorch.tensor([1.0, -2.0], requires_grad=True)
    assert tinytorch.positive(x) is x and x.positive() is x


def test_rsub_gradients_match_torch():
    torch = pytest.importorskip("torch")
    a = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    b = tinytorch.tensor([3.0], requires_grad=True)
    at = torch.tensor([1.0, 2.0], requires_grad=True)
    bt = torch.tensor([3.0], requires_grad=True)
    tinytorch.rsub(a, b, alpha=3).sum().backward()
    torch.rsub(at, bt, alpha=3).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), at.grad.numpy())
    np.testing.assert_allclose(b.grad.numpy(), bt.grad.numpy())


def test_fix_gradient_is_zero():
    x = tinytorch.tensor([1.5, -0.5], requires_grad=True)
    tinytorch.fix(x).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("name", inplace_forms.__all__)
def test_top_level_in_place_forms_exist_in_torch_and_write_into_input(name):
    """Each form is torch's (torch.<name> exists), returns its input and bumps its version."""
    torch = pytest.importorskip("torch")
    assert hasattr(torch, name)
    assert getattr(tinytorch, name) is getattr(inplace_forms, name)
    args = {"addmv_": (tinytorch.ones(2, 2), tinytorch.ones(2)), "gcd_": (tinytorch.tensor([6, 4]),),
            "lcm_": (tinytorch.tensor([6, 4]),), "xlogy_": (tinytorch.tensor([2.0, 3.0]),), "clamp_": (0.0, 0.6),
            "clip_": (0.0, 0.6)}.get(name, ())
    x = tinytorch.tensor([4, 2]) if name in ("gcd_", "lcm_") else tinytorch.tensor([0.5, 0.75])
    expected = getattr(x.clone(), name)(*args)
    version = x._version[0]
    assert getattr(tinytorch, name)(x, *args) is x
    assert tinytorch.equal(x, expected)
    if name != "detach_":
        assert x._version[0] > version


def test_top_level_in_place_form_keeps_the_graph():
    x = tinytorch.tensor([0.5, 1.5], requires_grad=True)
    y = x * 2
    tinytorch.exp_(y)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp(np.array([1.0, 3.0], dtype=np.float32)), rtol=1e-6)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        tinytorch.sqrt_(x)
