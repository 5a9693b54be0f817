"""``expand`` gives PyTorch's strides (``inferExpandGeometry``): a kept size-1 dim keeps its stride
and a new leading size-1 dim gets the next dim's extent, where NumPy's ``broadcast_to`` puts 0;
an expand that repeats no element is a writeable view (PyTorch writes through it)."""

import numpy as np
import pytest

import tinytorch

# (input shape, how it is made, expanded shape, PyTorch 2.13's strides)
CASES = [
    ((3, 1), "contiguous", (3, 1), (1, 1)),
    ((3, 1), "contiguous", (3, 4), (1, 0)),
    ((3, 1), "contiguous", (2, 3, 1), (0, 1, 1)),
    ((3, 1), "contiguous", (1, 3, 4), (3, 1, 0)),
    ((3, 1), "contiguous", (1, 1, 3, 1), (3, 3, 1, 1)),
    ((1, 3), "contiguous", (2, 1, 3), (0, 3, 1)),
    ((2, 1, 3), "contiguous", (2, 5, 3), (3, 0, 1)),
    ((2, 3), "contiguous", (-1, 3), (3, 1)),
    ((2, 1), "column of (2, 3)", (4, 2, 1), (0, 3, 1)),
    ((1, 2), "row of (2, 3).T", (2, 1, 2), (0, 1, 3)),
    ((), "contiguous", (1,), (0,)),
    ((), "contiguous", (1, 1), (0, 0)),
    ((), "contiguous", (2, 3), (0, 0)),
]


def _make(lib, shape, how):
    data = np.arange(1.0, 7.0, dtype=np.float32)
    if how == "column of (2, 3)":
        return lib.tensor(data.reshape(2, 3))[:, :1]
    if how == "row of (2, 3).T":
        return lib.tensor(data.reshape(2, 3)).t()[:1]
    return lib.tensor(data[: int(np.prod(shape))].reshape(shape))


@pytest.mark.parametrize("shape,how,target,strides", CASES, ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in CASES])
def test_strides_and_values(shape, how, target, strides):
    x = _make(tinytorch, shape, how)
    out = x.expand(*target)
    assert out.stride() == strides
    np.testing.assert_array_equal(out.numpy(), np.broadcast_to(x.numpy(), out.shape))
    assert out._base is (x if x._base is None else x._base)


@pytest.mark.parametrize("shape,how,target,strides", CASES, ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in CASES])
def test_strides_match_torch(shape, how, target, strides):
    torch = pytest.importorskip("torch")
    assert _make(torch, shape, how).expand(*target).stride() == strides


def test_an_expand_that_repeats_nothing_writes_through():
    for lib in (tinytorch, pytest.importorskip("torch")) if _has_torch() else (tinytorch,):
        z = lib.zeros(3, 1)
        view = z.expand(1, 3, 1)
        view.add_(1)
        assert z.flatten().tolist() == [1.0, 1.0, 1.0]
        assert _version(z) == _version(view) == 1


def test_an_expand_that_repeats_refuses_writes_and_keeps_the_data():
    z = tinytorch.zeros(3, 1)
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        z.expand(3, 4).add_(1)
    assert z.flatten().tolist() == [0.0, 0.0, 0.0]


def test_gradient_sums_over_the_expanded_dims():
    x = tinytorch.randn(3, 1, requires_grad=True)
    x.expand(2, 3, 4).sum().backward()
    assert x.grad.flatten().tolist() == [8.0, 8.0, 8.0]


def _version(tensor):
    return tensor._version[0] if isinstance(tensor._version, list) else tensor._version


def _has_torch():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True
