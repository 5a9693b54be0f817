"""as_strided / as_strided_ / as_strided_copy / as_strided_scatter and the legacy Tensor methods
(new, narrow_copy, resize, resize_as, nonzero_static, lu): values, storage geometry, gradients,
warnings and errors against torch. Random shapes and strides are checked by the op table."""

import warnings

import numpy as np
import pytest

import tinytorch


def _torch():
    return pytest.importorskip("torch")


def _result(fn, lib):
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = fn(lib)
    except Exception as error:  # noqa: BLE001 - the type and words are compared
        return type(error).__name__, str(error)
    if hasattr(value, "detach"):
        value = (str(value.dtype).split(".")[-1], value.detach().cpu().numpy().tolist())
    return "ok", value, [str(w.message) for w in caught]


def _same(fn):
    torch = _torch()
    assert _result(fn, tinytorch) == _result(fn, torch)


def _leaf(lib, values):
    return lib.tensor(values, requires_grad=True)


def _grad_of_as_strided(lib, base_view, size, stride, offset, weights):
    a = _leaf(lib, [float(i) for i in range(8)])
    out = base_view(a).as_strided(size, stride, offset)
    out.backward(lib.tensor(weights).reshape(size))
    return a.grad


CASES = [
    ("plain", lambda L: L.arange(10.0).as_strided((3, 3), (1, 1))),
    ("offset", lambda L: L.arange(10.0).as_strided((3, 3), (1, 1), 1)),
    ("zero stride", lambda L: L.arange(10.0).as_strided((2, 3), (0, 2), 3)),
    ("scalar", lambda L: L.arange(10.0).as_strided((), (), 9)),
    ("empty past the end", lambda L: L.arange(10.0).as_strided((0, 3), (1, 1), 11)),
    ("of a view: storage offset kept", lambda L: L.arange(10.0)[2:].view(2, 4).as_strided((2, 2), (1, 1))),
    ("of a view: offset 0 reads before it", lambda L: L.arange(10.0)[2:].view(2, 4).t().as_strided((2, 2), (1, 1), 0)),
    ("offset of the result", lambda L: L.arange(10.0)[2:].as_strided((2,), (1,)).storage_offset()),
    ("function", lambda L: L.as_strided(L.arange(6).view(2, 3), (2, 2), (1, 2), 1)),
    ("copy", lambda L: L.as_strided_copy(L.arange(6.0), (2, 2), (1, 1))),
    ("out of bounds", lambda L: L.arange(10.0).as_strided((3, 3), (1, 4))),
    ("negative stride", lambda L: L.arange(10.0).as_strided((3, 3), (-1, 1))),
    ("negative size", lambda L: L.arange(10.0).as_strided((-3, 3), (1, 1))),
    ("lengths", lambda L: L.arange(10.0).as_strided((3, 3), (1,))),
    ("negative offset", lambda L: L.arange(10.0).as_strided((3,), (1,), -1)),
    ("int size", lambda L: L.arange(10.0).as_strided(3, 1)),
    ("float size", lambda L: L.arange(10.0).as_strided((3.0,), (1,))),
    ("function int size", lambda L: L.as_strided(L.arange(10.0), 3, 1)),
    ("shares memory", lambda L: L.arange(4.0).as_strided((2,), (2,)).add_(1)._base.tolist()),
    # as_strided_: the tensor becomes the view, its storage stays
    ("in place", lambda L: [(w := L.arange(10.0)).as_strided_((2, 2), (3, 1), 2) is w, w.tolist(), w.stride(),
                            w.storage_offset(), w.as_strided((2,), (1,)).tolist()]),
    ("in place on a leaf", lambda L: _leaf(L, [1.0, 2.0]).as_strided_((1,), (1,))),
    # gradients: overlapping outputs add, positions outside the input are dropped, an overlapping input averages
    ("grad overlap", lambda L: _grad_of_as_strided(L, lambda a: a, (3, 3), (1, 1), 0, [float(i) for i in range(9)])),
    ("grad outside the input", lambda L: _grad_of_as_strided(L, lambda a: a[1:], (2, 2), (2, 1), 0, [1.0] * 4)),
    ("grad expanded input", lambda L: _grad_of_as_strided(L, lambda a: a[:3].expand(2, 3), (2, 2), (1, 1), 0, [0.0, 1, 2, 3])),
    ("grad in place", lambda L: [(q := _leaf(L, [0.0, 1, 2, 3]).clone()).as_strided_((2,), (2,)).sum().backward(),
                                 q.tolist()]),
    # as_strided_scatter: a fresh copy keeping the input's strides when dense
    ("scatter", lambda L: L.as_strided_scatter(L.zeros(6), L.ones(2, 2) * 5, (2, 2), (1, 2), 1)),
    ("scatter method", lambda L: L.arange(6.0).as_strided_scatter(L.ones(2, 2), (2, 2), (1, 2))),
    ("scatter overlap", lambda L: L.as_strided_scatter(L.zeros(6), L.ones(2, 2), (2, 2), (1, 1), 1)),
    ("scatter transposed", lambda L: L.as_strided_scatter(L.arange(6.0).view(2, 3).t(), L.ones(2, 2), (2, 2), (1, 2), 1)),
    ("scatter strides", lambda L: L.as_strided_scatter(L.arange(6.0).view(2, 3).t(), L.ones(2, 2), (2, 2), (1, 2)).stride()),
    ("scatter sliced", lambda L: L.as_strided_scatter(L.arange(6.0).view(2, 3)[:, 1:], L.ones(2, 2), (2, 2), (1, 2))),
    ("scatter keeps the offset", lambda L: [(o := L.as_strided_scatter(L.arange(6.0).view(2, 3)[:, 1:], L.ones(1) * 9, (1,), (1,), 2)).tolist(),
                                            o.stride(), o.storage_offset()]),
    ("scatter before the input", lambda L: L.as_strided_scatter(L.arange(6.0)[1:], L.ones(1) * 9, (1,), (1,), 0)),
    ("scatter cast", lambda L: L.as_strided_scatter(L.zeros(6), L.ones(2, 2, dtype=L.float64), (2, 2), (1, 2))),
    ("scatter bounds", lambda L: L.as_strided_scatter(L.zeros(6), L.ones(2, 2), (2, 2), (1, 4), 1)),
    ("scatter src size", lambda L: L.as_strided_scatter(L.zeros(6), L.ones(3), (2, 2), (1, 2), 1)),
    ("scatter src grad", lambda L: [(s := _leaf(L, [[1.0, 2.0], [3.0, 4.0]])),
                                    L.as_strided_scatter(L.zeros(6), s, (2, 2), (1, 1), 1).backward(L.arange(6.0)),
                                    s.grad.tolist()][2]),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_as_strided_matches_torch(case):
    _same(case[1])


def test_scatter_input_gradient_is_the_complement_of_the_view():
    """PyTorch 2.13 returns the gradient on the scattered positions (its gradcheck fails); the
    output does not depend on the input there, so ours is zero there and one elsewhere."""
    x = tinytorch.arange(6.0, requires_grad=True)
    src = tinytorch.ones(2, 2, requires_grad=True)
    tinytorch.as_strided_scatter(x, src, (2, 2), (1, 1), 1).backward(tinytorch.arange(6.0) * 10)
    assert x.grad.tolist() == [0.0, 0.0, 0.0, 0.0, 40.0, 50.0]
    assert src.grad.tolist() == [[10.0, 20.0], [20.0, 30.0]]
    # An input with a storage offset: src lands on the input's elements 1 and 2, so its gradient is
    # the output gradient there (PyTorch 2.13 reads it one element further on: [3, 4]).
    x = tinytorch.arange(5.0, requires_grad=True)
    src = tinytorch.tensor([7.0, 8.0], requires_grad=True)
    out = tinytorch.as_strided_scatter(x[1:], src, (2,), (1,), 2)
    assert out.tolist() == [1.0, 7.0, 8.0, 4.0]
    out.backward(tinytorch.arange(4.0) + 1)
    assert src.grad.tolist() == [2.0, 3.0] and x.grad.tolist() == [0.0, 1.0, 0.0, 0.0, 4.0]
    assert tinytorch.autograd.gradcheck(
        lambda a, b: tinytorch.as_strided_scatter(a, b, (2, 2), (1, 2), 1),
        (tinytorch.randn(6, dtype=tinytorch.float64, requires_grad=True),
         tinytorch.randn(2, 2, dtype=tinytorch.float64, requires_grad=True)),
    )


def test_scatter_refuses_non_contiguous_input_under_autograd():
    x = tinytorch.arange(6.0).view(2, 3).requires_grad_()
    with pytest.raises(RuntimeError, match="only supported for contiguous inputs"):
        tinytorch.as_strided_scatter(x.t(), tinytorch.ones(2, 2), (2, 2), (1, 2), 1)


def test_as_strided_twice_differentiable():
    a = tinytorch.arange(6.0, dtype=tinytorch.float64).requires_grad_()
    y = a.as_strided((3, 3), (1, 1)) ** 2
    (grad,) = tinytorch.autograd.grad(y.sum(), a, create_graph=True)
    (second,) = tinytorch.autograd.grad(grad.sum(), a)
    counts = np.array([1, 2, 3, 2, 1, 0.0])  # how many of the 9 elements read each a[k]
    np.testing.assert_allclose(grad.detach().numpy(), 2 * counts * np.arange(6.0))
    np.testing.assert_allclose(second.numpy(), 2 * counts)


# -- the legacy methods ---------------------------------------------------------------------------
LEGACY = [
    ("new sizes", lambda L: L.arange(6.0).new(2, 3).shape),
    ("new Size", lambda L: L.arange(6.0).new(L.Size([2, 3])).shape),
    ("new tuple is data", lambda L: L.arange(6.0).new((2, 3))),
    ("new list", lambda L: L.arange(6.0).new([[1, 2], [3, 4]])),
    ("new empty", lambda L: L.arange(6.0).new()),
    ("new cast", lambda L: L.arange(6).new([1.5, 2.7])),
    ("new numpy", lambda L: L.arange(6.0).new(np.array([1, 2]))),
    ("new alias", lambda L: [(x := L.arange(3.0)).new(x).add_(1), x][1]),
    ("new no grad", lambda L: L.arange(3.0).requires_grad_().new(2).requires_grad),
    ("new dtype mismatch", lambda L: L.arange(3.0).new(L.arange(3))),
    ("new scalar", lambda L: L.arange(3.0).new(2.5)),
    ("new bool", lambda L: L.arange(3.0).new(True)),
    ("new negative", lambda L: L.arange(3.0).new(-1)),
    ("new tensor and device", lambda L: L.arange(3.0).new(L.arange(3.0), device="cpu")),
    ("new device", lambda L: L.arange(3.0).new([1, 2], device="cpu")),
    ("narrow_copy", lambda L: L.arange(6.0).view(2, 3).narrow_copy(1, 1, 2)),
    ("resize", lambda L: L.arange(6.0).view(2, 3).resize(3, 2)),
    ("resize tuple", lambda L: L.arange(6.0).resize((3, 2))),
    ("resize count", lambda L: L.arange(6.0).resize(4, 2)),
    ("resize transposed", lambda L: L.arange(6.0).view(2, 3).t().resize(6)),
    ("resize grad", lambda L: [(z := _leaf(L, [0.0, 1, 2, 3, 4, 5])).resize(2, 3).mul(L.arange(6.0).view(2, 3)).sum().backward(),
                               z.grad][1]),
    ("resize_as", lambda L: L.arange(6.0).resize_as(L.zeros(3, 2))),
    ("resize_as count", lambda L: L.arange(6.0).resize_as(L.zeros(4, 2))),
    ("nonzero_static", lambda L: L.tensor([[0, 1], [2, 0]]).nonzero_static(size=3)),
    ("nonzero_static cut", lambda L: L.tensor([[0, 1], [2, 0]]).nonzero_static(size=1, fill_value=5)),
    ("lu", lambda L: [t.tolist() for t in L.tensor([[1.0, 2.0], [3.0, 4.0]]).lu()]),
    ("lu infos", lambda L: [t.tolist() for t in L.zeros(2, 2).lu(get_infos=True)]),
    ("lu singular", lambda L: [t.tolist() for t in L.zeros(2, 3, 3).lu()]),
    ("lu no pivot", lambda L: L.eye(2).lu(pivot=False)),
]


@pytest.mark.parametrize("case", LEGACY, ids=[c[0] for c in LEGACY])
def test_legacy_methods_match_torch(case):
    if case[0].startswith("lu"):  # torch warns once per process (TORCH_WARN_ONCE): compare values only
        torch = _torch()
        assert _result(case[1], tinytorch)[:2] == _result(case[1], torch)[:2]
        return
    _same(case[1])


def test_lu_is_differentiable():
    a = tinytorch.tensor([[4.0, 3.0], [6.0, 3.0]], requires_grad=True)
    with pytest.warns(UserWarning, match="torch.lu is deprecated"):
        LU, pivots = a.lu()
    LU.sum().backward()
    assert a.grad is not None and tuple(pivots.shape) == (2,)
