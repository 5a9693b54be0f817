"""scatter_reduce, index_reduce and the composite indexing ops (unfold, take, put, index_put,
masked_scatter, *_scatter, fill_diagonal_, argwhere, ravel, msort, clamp_min/max) against torch."""

import numpy as np
import pytest

import tinytorch
from tinytorch.autograd import gradcheck, gradgradcheck
from tinytorch import (
    argwhere, clamp_max, clamp_min, diagonal_scatter, index_put, index_reduce, masked_scatter, msort, ravel, scatter_reduce,
    select_scatter, slice_scatter, take,
)


def unfold(x, dimension, size, step):
    return x.unfold(dimension, size, step)


def fill_diagonal_(x, fill_value, wrap=False):
    return x.fill_diagonal_(fill_value, wrap)


def put(x, index, source, accumulate=False):
    return x.put(index, source, accumulate)

REDUCTIONS = ["sum", "prod", "mean", "amax", "amin"]


def _t(array, device, requires_grad=False):
    return tinytorch.tensor(array, device=device, requires_grad=requires_grad)


def _np(tensor):
    return tinytorch.tensor(tensor.detach()).cpu().numpy() if tensor.device.type != "cpu" else tensor.detach().numpy()


def _gradgradcheck(fn, inputs):
    """gradgradcheck with the output seeds on the inputs' device (its default seeds are CPU arrays)."""
    seeds = tuple(tinytorch.ones_like(out) for out in [fn(*inputs)])
    return gradgradcheck(fn, inputs, seeds)


def _compare(ours, theirs, inputs, torch_inputs, rng, atol=1e-6):
    """Values and the gradients of every input against torch for one random output gradient."""
    grad = rng.normal(size=tuple(theirs.shape)).astype(_np(inputs[0]).dtype)
    np.testing.assert_allclose(_np(ours), theirs.detach().numpy(), rtol=1e-5, atol=atol)
    ours.backward(_t(grad, inputs[0].device))
    import torch

    theirs.backward(torch.tensor(grad))
    for a, b in zip(inputs, torch_inputs):
        np.testing.assert_allclose(_np(a.grad), b.grad.numpy(), rtol=1e-5, atol=atol)


# -- scatter_reduce -------------------------------------------------------------------------------
@pytest.mark.parametrize("reduce", REDUCTIONS)
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scatter_reduce_matches_torch(reduce, include_self, dtype, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    for dim, shape, index_shape in [(0, (3, 4), (5, 3)), (1, (3, 4), (2, 6)), (-1, (2, 3, 4), (2, 2, 5)), (0, (5,), (7,))]:
        x, src = rng.normal(size=shape).astype(dtype), rng.normal(size=index_shape).astype(dtype)
        if reduce == "prod":  # zeros take the exclusive-product path
            x.flat[0], src.flat[1] = 0, 0
        index = rng.integers(0, shape[dim], size=index_shape)
        ours_x, ours_src = _t(x, device, True), _t(src, device, True)
        ours = scatter_reduce(ours_x, dim, _t(index, device), ours_src, reduce, include_self=include_self)
        tx, ts = torch.tensor(x, requires_grad=True), torch.tensor(src, requires_grad=True)
        theirs = torch.scatter_reduce(tx, dim, torch.tensor(index), ts, reduce, include_self=include_self)
        _compare(ours, theirs, [ours_x, ours_src], [tx, ts], rng, atol=1e-5 if dtype == np.float32 else 1e-10)


@pytest.mark.parametrize("reduce", REDUCTIONS)
def test_scatter_reduce_ties_and_integers_match_torch(reduce, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x, src = rng.integers(-3, 4, size=(4, 3)), rng.integers(-3, 4, size=(6, 3))
    index = rng.integers(0, 4, size=(6, 3))
    for include_self in (True, False):
        ours = scatter_reduce(_t(x, device), 0, _t(index, device), _t(src, device), reduce, include_self=include_self)
        theirs = torch.tensor(x).scatter_reduce(0, torch.tensor(index), torch.tensor(src), reduce, include_self=include_self)
        np.testing.assert_array_equal(_np(ours), theirs.numpy())
        # ties (equal values) share the amax/amin gradient as torch does
        ox, osrc = _t(x.astype(np.float64), device, True), _t(src.astype(np.float64), device, True)
        tx = torch.tensor(x.astype(np.float64), requires_grad=True)
        ts = torch.tensor(src.astype(np.float64), requires_grad=True)
        if reduce == "prod":  # repeated zeros: torch refuses only the double backward
            continue
        _compare(scatter_reduce(ox, 0, _t(index, device), osrc, reduce, include_self=include_self),
                 tx.scatter_reduce(0, torch.tensor(index), ts, reduce, include_self=include_self), [ox, osrc], [tx, ts], rng)


@pytest.mark.parametrize("reduce", REDUCTIONS)
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_gradcheck(reduce, include_self, device):
    rng = np.random.default_rng(3)
    x = _t(rng.uniform(0.5, 2.0, size=(3, 4)) * rng.choice([-1, 1], size=(3, 4)), device, True)
    src = _t(rng.uniform(0.5, 2.0, size=(4, 4)) * rng.choice([-1, 1], size=(4, 4)), device, True)
    index = _t(rng.integers(0, 3, size=(4, 4)), device)

    def fn(x, src):
        return scatter_reduce(x, 0, index, src, reduce, include_self=include_self)

    assert gradcheck(fn, (x, src))
    assert _gradgradcheck(fn, (x, src))


def test_scatter_reduce_larger_src_and_0d(device):
    x = _t(np.zeros(3), device, True)
    src = _t(np.arange(5.0), device, True)
    out = scatter_reduce(x, 0, _t(np.array([0, 0, 2]), device), src, "sum")
    np.testing.assert_allclose(_np(out), [1.0, 0.0, 2.0])
    out.sum().backward()
    np.testing.assert_allclose(_np(src.grad), [1, 1, 1, 0, 0])
    zero_d = scatter_reduce(_t(np.array(2.0), device), 0, _t(np.array(0), device), _t(np.array(3.0), device), "prod")
    assert zero_d.shape == () and float(zero_d) == 6.0


def test_scatter_reduce_errors_match_torch():
    torch = pytest.importorskip("torch")
    x, i, s = tinytorch.zeros(3), tinytorch.tensor([0, 1]), tinytorch.ones(2)
    tx, ti, ts = torch.zeros(3), torch.tensor([0, 1]), torch.ones(2)
    cases = [
        (lambda: scatter_reduce(x, 0, i, s, "foo"), lambda: tx.scatter_reduce(0, ti, ts, "foo")),
        (lambda: scatter_reduce(x, 0, i, s.double(), "sum"), lambda: tx.scatter_reduce(0, ti, ts.double(), "sum")),
        (lambda: scatter_reduce(x, 0, tinytorch.tensor([0, 1, 2, 0]), s, "sum"),
         lambda: tx.scatter_reduce(0, torch.tensor([0, 1, 2, 0]), ts, "sum")),
        (lambda: index_reduce(x, 0, i, s, "sum"), lambda: tx.index_reduce(0, ti, ts, "sum")),
    ]
    for ours, theirs in cases:
        with pytest.raises(RuntimeError) as expected:
            theirs()
        with pytest.raises(RuntimeError) as got:
            ours()
        assert str(got.value) == str(expected.value)
    with pytest.raises(RuntimeError, match="out of bounds"):
        scatter_reduce(x, 0, tinytorch.tensor([5]), tinytorch.ones(1), "sum")


# -- index_reduce ---------------------------------------------------------------------------------
@pytest.mark.parametrize("reduce", REDUCTIONS[1:])
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_index_reduce_matches_torch(reduce, include_self, dtype, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x, source = rng.normal(size=(4, 3)).astype(dtype), rng.normal(size=(4, 5)).astype(dtype)
    index = np.array([0, 2, 0, 1, 2])
    ox, os_ = _t(x, device, True), _t(source, device, True)
    tx, ts = torch.tensor(x, requires_grad=True), torch.tensor(source, requires_grad=True)
    ours = index_reduce(ox, 1, _t(index, device), os_, reduce, include_self=include_self)
    theirs = tx.index_reduce(1, torch.tensor(index), ts, reduce, include_self=include_self)
    _compare(ours, theirs, [ox, os_], [tx, ts], rng, atol=1e-5)


def test_index_reduce_gradcheck(device):
    rng = np.random.default_rng(5)
    x, source = _t(rng.normal(size=(3, 2)), device, True), _t(rng.normal(size=(4, 2)), device, True)
    index = _t(np.array([2, 0, 2, 1]), device)
    for reduce in REDUCTIONS[1:]:
        assert gradcheck(lambda x, s, reduce=reduce: index_reduce(x, 0, index, s, reduce), (x, source))


# -- unfold ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unfold_matches_torch(dtype, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    for shape, dim, size, step in [((7,), 0, 3, 2), ((3, 8), 1, 4, 1), ((4, 5, 2), 0, 2, 3), ((4, 5), -1, 5, 1), ((3,), 0, 0, 1)]:
        x = rng.normal(size=shape).astype(dtype)
        ox, tx = _t(x, device, True), torch.tensor(x, requires_grad=True)
        _compare(unfold(ox, dim, size, step), tx.unfold(dim, size, step), [ox], [tx], rng)
    zero_d = unfold(_t(np.array(3.0, dtype=dtype), device), 0, 1, 1)
    assert tuple(zero_d.shape) == tuple(torch.tensor(3.0).unfold(0, 1, 1).shape)


def test_unfold_gradcheck_and_errors(device):
    torch = pytest.importorskip("torch")
    x = _t(np.random.default_rng(7).normal(size=(2, 6)), device, True)
    assert gradcheck(lambda x: unfold(x, 1, 3, 2), (x,))
    assert _gradgradcheck(lambda x: unfold(x, 1, 3, 2), (x,))
    for args in [(0, 6, 1), (0, 2, 0), (0, -1, 1)]:
        with pytest.raises(RuntimeError) as expected:
            torch.arange(5.0).unfold(*args)
        with pytest.raises(RuntimeError, match=str(expected.value)):
            unfold(tinytorch.arange(5.0), *args)


# -- take, put, index_put, masked_scatter ---------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_take_put_index_put_match_torch(dtype, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    x = rng.normal(size=(3, 4)).astype(dtype)
    index = np.array([[0, -1], [5, 5]])
    ox, tx = _t(x, device, True), torch.tensor(x, requires_grad=True)
    _compare(take(ox, _t(index, device)), torch.take(tx, torch.tensor(index)), [ox], [tx], rng)
    values = rng.normal(size=4).astype(dtype)
    for accumulate in (False, True):
        flat = np.array([1, 7, 7, -2]) if accumulate else np.array([1, 7, 3, -2])
        ox, ov = _t(x, device, True), _t(values, device, True)
        tx, tv = torch.tensor(x, requires_grad=True), torch.tensor(values, requires_grad=True)
        _compare(put(ox, _t(flat, device), ov, accumulate), tx.put(torch.tensor(flat), tv, accumulate), [ox, ov], [tx, tv], rng)
        rows, cols = np.array([0, 2, 2]), np.array([1, 3, 3 if accumulate else 0])
        ox, ov = _t(x, device, True), _t(values[:3], device, True)
        tx, tv = torch.tensor(x, requires_grad=True), torch.tensor(values[:3], requires_grad=True)
        _compare(index_put(ox, (_t(rows, device), _t(cols, device)), ov, accumulate),
                 tx.index_put((torch.tensor(rows), torch.tensor(cols)), tv, accumulate), [ox, ov], [tx, tv], rng)


def test_take_put_errors_match_torch():
    torch = pytest.importorskip("torch")
    with pytest.raises(IndexError, match="out of range: tried to access index 7 on a tensor of 6 elements."):
        take(tinytorch.arange(6.0), tinytorch.tensor([7]))
    with pytest.raises(IndexError, match="out of range: tried to access index 7 on a tensor of 6 elements."):
        torch.arange(6.0).put(torch.tensor([7]), torch.tensor([1.0]))
    with pytest.raises(IndexError, match="out of range"):
        put(tinytorch.arange(6.0), tinytorch.tensor([7]), tinytorch.tensor([1.0]))
    for ours, theirs, error in [
        (lambda: take(tinytorch.ones(3), tinytorch.tensor([0.0])), lambda: torch.take(torch.ones(3), torch.tensor([0.0])), RuntimeError),
        (lambda: put(tinytorch.ones(3), tinytorch.tensor([0.0]), tinytorch.ones(1)),
         lambda: torch.ones(3).put(torch.tensor([0.0]), torch.ones(1)), RuntimeError),
        (lambda: put(tinytorch.ones(3), tinytorch.tensor([0]), tinytorch.ones(1).double()),
         lambda: torch.ones(3).put(torch.tensor([0]), torch.ones(1).double()), RuntimeError),
        (lambda: put(tinytorch.ones(3), tinytorch.tensor([0]), tinytorch.ones(2)),
         lambda: torch.ones(3).put(torch.tensor([0]), torch.ones(2)), IndexError),
    ]:
        with pytest.raises(error) as expected:
            theirs()
        with pytest.raises(error) as got:
            ours()
        assert str(got.value) == str(expected.value)
    with pytest.raises(RuntimeError, match="shape mismatch: value tensor of shape \\[2\\] cannot be broadcast to indexing result of shape \\[1\\]"):
        index_put(tinytorch.zeros(3), (tinytorch.tensor([0]),), tinytorch.ones(2))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_masked_scatter_matches_torch(dtype, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    x, source = rng.normal(size=(3, 4)).astype(dtype), rng.normal(size=(14,)).astype(dtype)
    for mask in (rng.random((3, 4)) > 0.5, rng.random(4) > 0.3):
        ox, os_ = _t(x, device, True), _t(source, device, True)
        tx, ts = torch.tensor(x, requires_grad=True), torch.tensor(source, requires_grad=True)
        _compare(masked_scatter(ox, _t(mask, device), os_), tx.masked_scatter(torch.tensor(mask), ts), [ox, os_], [tx, ts], rng)
    assert gradcheck(lambda x, s: masked_scatter(x, _t(np.array([True, False, True]), device), s),
                     (_t(np.ones(3), device, True), _t(np.arange(4.0), device, True)))
    with pytest.raises(RuntimeError, match="Number of elements of source < number of ones in mask"):
        masked_scatter(tinytorch.zeros(6), tinytorch.ones(6, dtype=tinytorch.bool), tinytorch.ones(3))
    with pytest.raises(RuntimeError, match="masked_scatter_ only supports boolean masks, but got mask with dtype Float"):
        masked_scatter(tinytorch.zeros(6), tinytorch.ones(6), tinytorch.ones(6))


# -- *_scatter, fill_diagonal_ --------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scatter_family_matches_torch(dtype, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(10)
    x = rng.normal(size=(3, 4, 5)).astype(dtype)
    cases = [
        (lambda lib, a, s: a.select_scatter(s, 1, -1) if lib is torch else select_scatter(a, s, 1, -1), (3, 5)),
        (lambda lib, a, s: a.slice_scatter(s, 2, 1, None, 2) if lib is torch else slice_scatter(a, s, 2, 1, None, 2), (3, 4, 2)),
        (lambda lib, a, s: a.diagonal_scatter(s, 1, 0, 2) if lib is torch else diagonal_scatter(a, s, 1, 0, 2), (4, 3)),
        (lambda lib, a, s: a.diagonal_scatter(s, -1, 2, 1) if lib is torch else diagonal_scatter(a, s, -1, 2, 1), (3, 4)),
    ]
    for fn, src_shape in cases:
        src = rng.normal(size=src_shape).astype(dtype)
        ox, os_ = _t(x, device, True), _t(src, device, True)
        tx, ts = torch.tensor(x, requires_grad=True), torch.tensor(src, requires_grad=True)
        _compare(fn(tinytorch, ox, os_), fn(torch, tx, ts), [ox, os_], [tx, ts], rng)
        assert gradcheck(lambda a, s, fn=fn: fn(tinytorch, a, s), (_t(x.astype(np.float64), device, True), _t(src.astype(np.float64), device, True)))


def test_scatter_family_errors_match_torch():
    torch = pytest.importorskip("torch")
    cases = [
        (lambda lib: lib.zeros(3, 4).diagonal_scatter(lib.ones(2)), lambda: diagonal_scatter(tinytorch.zeros(3, 4), tinytorch.ones(2))),
        (lambda lib: lib.zeros(3, 4).select_scatter(lib.ones(2), 0, 0), lambda: select_scatter(tinytorch.zeros(3, 4), tinytorch.ones(2), 0, 0)),
        (lambda lib: lib.zeros(3, 4).slice_scatter(lib.ones(2, 4), 0, 0, 1), lambda: slice_scatter(tinytorch.zeros(3, 4), tinytorch.ones(2, 4), 0, 0, 1)),
        (lambda lib: lib.zeros(3).fill_diagonal_(1.0), lambda: fill_diagonal_(tinytorch.zeros(3), 1.0)),
        (lambda lib: lib.zeros(3, 4, 5).fill_diagonal_(1.0), lambda: fill_diagonal_(tinytorch.zeros(3, 4, 5), 1.0)),
    ]
    for theirs, ours in cases:
        with pytest.raises(RuntimeError) as expected:
            theirs(torch)
        with pytest.raises(RuntimeError) as got:
            ours()
        assert str(got.value) == str(expected.value)


def test_fill_diagonal_matches_torch(device):
    torch = pytest.importorskip("torch")
    for shape in [(3, 4), (7, 3), (3, 3, 3)]:
        for wrap in (False, True):
            ours = fill_diagonal_(_t(np.zeros(shape), device), 2.5, wrap=wrap)
            theirs = torch.zeros(shape, dtype=torch.float64).fill_diagonal_(2.5, wrap=wrap)
            np.testing.assert_array_equal(_np(ours), theirs.numpy())
    # in place on a non-leaf, with the gradient of the kept entries
    leaf = _t(np.ones((3, 3)), device, True)
    y = leaf * 2
    assert fill_diagonal_(y, 0.0) is y
    y.sum().backward()
    np.testing.assert_array_equal(_np(leaf.grad), 2 * (1 - np.eye(3)))
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        fill_diagonal_(tinytorch.ones(2, 2, requires_grad=True), 0.0)


# -- argwhere, ravel, msort, clamp_min/max --------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_small_ops_match_torch(dtype, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    x = rng.normal(size=(4, 3)).astype(dtype)
    x[1, 2] = 0
    np.testing.assert_array_equal(_np(argwhere(_t(x > 0, device))), torch.argwhere(torch.tensor(x > 0)).numpy())
    for ours_fn, torch_fn in [(ravel, torch.ravel), (msort, torch.msort),
                              (lambda a: clamp_min(a, -0.3), lambda a: torch.clamp_min(a, -0.3)),
                              (lambda a: clamp_max(a, 0.4), lambda a: torch.clamp_max(a, 0.4))]:
        ox, tx = _t(x, device, True), torch.tensor(x, requires_grad=True)
        _compare(ours_fn(ox), torch_fn(tx), [ox], [tx], rng)


# -- the in-place forms, as the Tensor methods will run them (_ops.inplace) ------------------------
def test_inplace_forms_match_torch(device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(12)
    x, src = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    index = rng.integers(0, 3, size=(3, 4))
    mask = rng.random((3, 4)) > 0.5
    leaf, tleaf = _t(src, device, True), torch.tensor(src, requires_grad=True)
    cases = [
        (lambda y: y.scatter_reduce_(0, _t(index, device), leaf, "amax", include_self=False),
         lambda y: y.scatter_reduce_(0, torch.tensor(index), tleaf, "amax", include_self=False)),
        (lambda y: y.index_reduce_(1, _t(np.array([3, 0, 3, 1]), device), leaf, "prod"),
         lambda y: y.index_reduce_(1, torch.tensor([3, 0, 3, 1]), tleaf, "prod")),
        (lambda y: y.masked_scatter_(_t(mask, device), leaf), lambda y: y.masked_scatter_(torch.tensor(mask), tleaf)),
        (lambda y: y.put_(_t(np.array([0, 0, 5]), device), leaf[0, :3], True),
         lambda y: y.put_(torch.tensor([0, 0, 5]), tleaf[0, :3], True)),
        (lambda y: tinytorch.index_put_(y, (_t(np.array([1, 2]), device),), leaf[:2]),
         lambda y: torch.index_put_(y, (torch.tensor([1, 2]),), tleaf[:2])),
        (lambda y: y.clamp_min_(0.1), lambda y: torch.clamp_min_(y, 0.1)),
        (lambda y: y.clamp_max_(0.1), lambda y: torch.clamp_max_(y, 0.1)),
    ]
    for ours, theirs in cases:
        base, tbase = _t(x, device, True), torch.tensor(x, requires_grad=True)
        y, ty = base * 1, tbase * 1
        version = y._version[0]
        assert ours(y) is y and y._version[0] > version
        theirs(ty)
        np.testing.assert_allclose(_np(y), ty.detach().numpy(), atol=1e-12)
        (y * y).sum().backward()
        (ty * ty).sum().backward()
        np.testing.assert_allclose(_np(base.grad), tbase.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(_np(leaf.grad), tleaf.grad.numpy(), atol=1e-12)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place operation."):
        tinytorch.ones(3, requires_grad=True).scatter_reduce_(0, tinytorch.tensor([0]), tinytorch.ones(1), "sum")
