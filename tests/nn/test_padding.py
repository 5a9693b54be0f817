"""The padding layers and F.pad in every mode: against torch (values and gradients, negative
widths included), reprs, and PyTorch's errors."""

import numpy as np
import pytest

import tinytorch
import tinytorch.nn.functional as F

from .helpers import assert_close, assert_same_error, ours, theirs

RNG = np.random.default_rng(0)

LAYERS = [
    ("ZeroPad1d", lambda lib: lib.nn.ZeroPad1d(2), (2, 3, 5)),
    ("ZeroPad2d", lambda lib: lib.nn.ZeroPad2d((1, 2, 0, 3)), (2, 3, 4, 5)),
    ("ZeroPad2d cropping", lambda lib: lib.nn.ZeroPad2d((-1, 2, 1, -2)), (3, 4, 5)),
    ("ConstantPad1d", lambda lib: lib.nn.ConstantPad1d((3, 1), 2.5), (3, 4)),
    ("ConstantPad2d", lambda lib: lib.nn.ConstantPad2d(1, -1.0), (2, 3, 4, 5)),
    ("ReflectionPad1d", lambda lib: lib.nn.ReflectionPad1d((3, 1)), (2, 3, 5)),
    ("ReflectionPad2d", lambda lib: lib.nn.ReflectionPad2d((1, 3, 2, 0)), (2, 3, 4, 5)),
    ("ReflectionPad2d unbatched", lambda lib: lib.nn.ReflectionPad2d(2), (3, 4, 5)),
    ("ReplicationPad1d", lambda lib: lib.nn.ReplicationPad1d((4, 0)), (2, 3, 5)),
    ("ReplicationPad2d", lambda lib: lib.nn.ReplicationPad2d((1, 1, 2, 4)), (2, 3, 4, 5)),
    ("CircularPad1d", lambda lib: lib.nn.CircularPad1d((2, 5)), (2, 3, 5)),
    ("CircularPad2d", lambda lib: lib.nn.CircularPad2d((1, 2, 4, 0)), (2, 3, 4, 5)),
    ("CircularPad2d unbatched", lambda lib: lib.nn.CircularPad2d(1), (3, 4, 5)),
]


@pytest.mark.parametrize("name, make, shape", LAYERS, ids=[layer[0] for layer in LAYERS])
def test_padding_layers_match_torch(name, make, shape):
    torch = pytest.importorskip("torch")
    module, reference = make(tinytorch), make(torch)
    assert repr(module) == repr(reference)
    x = RNG.standard_normal(shape)
    a, ta = ours(x, True), theirs(torch, x, True)
    out, expected = module(a), reference(ta)
    assert_close(out, expected, atol=0, rtol=0)
    weights = RNG.standard_normal(tuple(expected.shape))
    (out * tinytorch.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    assert_close(a.grad, ta.grad, atol=1e-12)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("pad", [(1, 2, 0, 0), (2, 1, 1, 2), (-1, 2, 1, 1), (2, -1, 0, 1), (3, 3, 2, -2), (4, 4, 3, 3), (0, 0, 0, 0)])
def test_pad_every_mode_with_cropping_matches_torch(mode, pad):
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((2, 3, 4, 5))
    try:
        expected = torch.nn.functional.pad(theirs(torch, x, True), pad, mode)
    except (RuntimeError, NotImplementedError):
        assert_same_error(lambda: F.pad(ours(x), pad, mode), lambda: torch.nn.functional.pad(theirs(torch, x), pad, mode))
        return
    a = ours(x, True)
    out = F.pad(a, pad, mode)
    assert_close(out, expected, atol=0, rtol=0)


def test_pad_of_nothing_is_a_new_tensor():
    x = tinytorch.ones(2, 3)
    out = F.pad(x, (0, 0))
    out.add_(1)
    assert x.sum().item() == 6.0


def _pad_errors(lib):
    fn = lib.nn.functional
    x = lib.zeros(2, 3, 5)
    return {
        "reflect as wide as the input": lambda: fn.pad(x, (5, 5), mode="reflect"),
        "reflect 2-D, too tall": lambda: fn.pad(lib.zeros(2, 3, 5, 5), (1, 1, 5, 0), mode="reflect"),
        "reflect cropping everything": lambda: fn.pad(x, (0, -5), mode="reflect"),
        "replicate cropping everything": lambda: fn.pad(x, (0, -5), mode="replicate"),
        "circular wrapping twice": lambda: fn.pad(x, (6, 0), mode="circular"),
        "circular cropping below zero": lambda: fn.pad(x, (-3, -3), mode="circular"),
        "constant cropping below zero": lambda: fn.pad(x, (-3, -3)),
        "reflect on an empty channel dim": lambda: fn.pad(lib.zeros(2, 0, 5), (1, 1), mode="reflect"),
        "replicate on an empty height": lambda: fn.pad(lib.zeros(2, 3, 0, 5), (1, 1, 1, 1), mode="replicate"),
        "value with reflect": lambda: fn.pad(x, (1, 1), mode="reflect", value=2.0),
        "unknown mode": lambda: fn.pad(x, (1, 1), mode="zeros"),
        "odd length": lambda: fn.pad(x, (1,)),
        "too long": lambda: fn.pad(x, (1,) * 8),
        "reflect of a 1-D tensor": lambda: fn.pad(lib.zeros(5), (1, 1), mode="reflect"),
        "reflect of 2 dims on a 5-D tensor": lambda: fn.pad(lib.zeros(1, 1, 1, 5, 5), (1, 1, 1, 1), mode="reflect"),
        "CircularPad2d of a 2-D tensor": lambda: lib.nn.CircularPad2d(1)(lib.zeros(4, 4)),
        "CircularPad1d of a 4-D tensor": lambda: lib.nn.CircularPad1d(1)(lib.zeros(1, 1, 4, 4)),
    }


@pytest.mark.parametrize("case", list(_pad_errors(tinytorch)))
def test_pad_errors_match_torch(case):
    torch = pytest.importorskip("torch")
    assert_same_error(_pad_errors(tinytorch)[case], _pad_errors(torch)[case])
