"""``tinytorch.normal``: PyTorch's four forms, dtypes, shapes, errors and zero gradients, and draws
with the right mean and spread (the random streams differ from PyTorch's, as all of tinytorch's)."""

import numpy as np
import pytest

import tinytorch


def _forms(lib, device="cpu"):
    """(name, call) for each of PyTorch's overloads."""
    mean, std = lib.tensor([[-3.0], [2.0]], device=device), lib.tensor([0.5, 2.0, 4.0], device=device)
    return [
        ("tensor, tensor", lambda: lib.normal(mean, std)),
        ("tensor, number", lambda: lib.normal(mean, 1.5)),
        ("number, tensor", lambda: lib.normal(-1.0, std)),
        ("numbers and a size", lambda: lib.normal(3.0, 0.25, (2, 3), device=device)),
    ]


@pytest.mark.parametrize("form", range(4))
def test_shapes_and_dtypes_match_torch(form, device):
    torch = pytest.importorskip("torch")
    name, ours = _forms(tinytorch, device)[form]
    _, theirs = _forms(torch)[form]
    a, b = ours(), theirs()
    assert tuple(a.shape) == tuple(b.shape) and str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1], name
    assert a.device.type == device


def test_the_draws_have_the_asked_mean_and_spread():
    tinytorch.manual_seed(0)
    mean = tinytorch.tensor([[-3.0], [2.0]]).expand(2, 100000)
    std = tinytorch.tensor([0.5, 4.0]).reshape(2, 1).expand(2, 100000)
    draws = tinytorch.normal(mean, std).numpy()
    np.testing.assert_allclose(draws.mean(1), [-3.0, 2.0], atol=0.05)
    np.testing.assert_allclose(draws.std(1), [0.5, 4.0], rtol=0.02)
    sample = tinytorch.normal(3.0, 0.25, size=(200000,), dtype=tinytorch.float64).numpy()
    assert sample.dtype == np.float64 and abs(sample.mean() - 3.0) < 0.005 and abs(sample.std() - 0.25) < 0.005


def test_a_generator_makes_it_reproducible_and_zero_std_gives_the_mean():
    g = tinytorch.Generator().manual_seed(7)
    first = tinytorch.normal(tinytorch.zeros(5), 1.0, generator=g)
    g.manual_seed(7)
    assert tinytorch.equal(first, tinytorch.normal(tinytorch.zeros(5), 1.0, generator=g))
    assert tinytorch.normal(tinytorch.tensor([1.5, -2.0]), 0.0).tolist() == [1.5, -2.0]


def test_gradients_are_zero_as_torchs():
    torch = pytest.importorskip("torch")
    for lib in (tinytorch, torch):
        mean, std = lib.zeros(3, requires_grad=True), lib.ones(3, requires_grad=True)
        draws = lib.normal(mean, std) + lib.normal(mean, 2.0) + lib.normal(1.0, std)
        assert draws.requires_grad
        draws.sum().backward()
        assert mean.grad.tolist() == [0.0] * 3 and std.grad.tolist() == [0.0] * 3
        assert not lib.normal(0.0, 1.0, (2,)).requires_grad and lib.normal(0.0, 1.0, (2,), requires_grad=True).requires_grad


def _errors(lib):
    return {
        "negative std": lambda: lib.normal(lib.zeros(2), -1.0),
        "a negative element of std": lambda: lib.normal(lib.zeros(2), lib.tensor([1.0, -1.0])),
        "negative std with a size": lambda: lib.normal(0.0, -1.0, size=(2,)),
        "two numbers without a size": lambda: lib.normal(0.0, 1.0),
        "integer mean": lambda: lib.normal(lib.zeros(2, dtype=lib.int64), 1.0),
        "integer std": lambda: lib.normal(0.0, lib.ones(2, dtype=lib.int64)),
        "shapes that do not broadcast": lambda: lib.normal(lib.zeros(2), lib.ones(3)),
        "integer dtype for a size": lambda: lib.normal(0.0, 1.0, (2,), dtype=lib.int64),
    }


@pytest.mark.parametrize("case", list(_errors(tinytorch)))
def test_errors_match_torch(case):
    torch = pytest.importorskip("torch")
    errors = []
    for lib in (tinytorch, torch):
        with pytest.raises(Exception) as info:
            _errors(lib)[case]()
        errors.append((type(info.value), str(info.value)))
    assert errors[0][0] is errors[1][0]
    first_line = errors[1][1].split("\n")[0].split(" - got")[0].split(";")[0]
    assert errors[0][1].startswith(first_line), (errors[0][1], errors[1][1])


def test_out_takes_the_draws():
    out = tinytorch.empty(4)
    result = tinytorch.normal(tinytorch.zeros(4), 1.0, out=out)
    assert result is out and np.isfinite(out.numpy()).all() and out.numpy().std() > 0
