"""The everyday Tensor methods added last (addcdiv/addcmul, bitwise_*, comparison aliases, outer,
char, ndimension, mH, adjoint, output_nr, storage_offset, new_empty_strided) and the in-place view
methods (squeeze_, unsqueeze_, t_, transpose_, swapaxes_/swapdims_, resize_, resize_as_), against torch."""

import numpy as np
import pytest

import tinytorch


def _pair(shape, dtype=np.float32, device="cpu"):
    torch = pytest.importorskip("torch")
    values = (np.arange(int(np.prod(shape))) - 2).astype(dtype).reshape(shape)
    return tinytorch.tensor(values, device=device), torch.tensor(values)


def _same(ours, theirs):
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
    np.testing.assert_allclose(ours.detach().cpu().numpy(), theirs.detach().numpy(), rtol=1e-6)


def _same_error(call_ours, call_theirs):
    with pytest.raises(Exception) as expected:
        call_theirs()
    with pytest.raises(Exception) as got:
        call_ours()
    assert type(got.value) is type(expected.value)
    assert str(got.value).split("\n")[0] == str(expected.value).split("\n")[0]


@pytest.mark.parametrize("call", [
    lambda lib, x, y, z: x.addcdiv(y, z + 10, value=0.5),
    lambda lib, x, y, z: x.addcmul(y, z, value=-2),
    lambda lib, x, y, z: x[0].outer(y.flatten()),
    lambda lib, x, y, z: x.greater(y), lambda lib, x, y, z: x.greater_equal(2),
    lambda lib, x, y, z: x.less(z), lambda lib, x, y, z: x.less_equal(y), lambda lib, x, y, z: x.not_equal(z),
    lambda lib, x, y, z: x.long().bitwise_and(y.long()), lambda lib, x, y, z: x.long().bitwise_or(3),
    lambda lib, x, y, z: x.long().bitwise_xor(z.long()), lambda lib, x, y, z: x.long().bitwise_not(),
    lambda lib, x, y, z: (x > 0).bitwise_not(), lambda lib, x, y, z: x.char(), lambda lib, x, y, z: (x * 40).char(),
    lambda lib, x, y, z: x.mH, lambda lib, x, y, z: x.adjoint(), lambda lib, x, y, z: lib.adjoint(x),
])
def test_methods_match_torch(call):
    x, tx = _pair((2, 3))
    y, ty = _pair((2, 3))
    z, tz = _pair((2, 3))
    _same(call(tinytorch, x, y.flip(1), z * 2), call(pytest.importorskip("torch"), tx, ty.flip(1), tz * 2))


def test_addcdiv_and_addcmul_methods_are_differentiable():
    torch = pytest.importorskip("torch")
    grads = []
    for lib in (tinytorch, torch):
        a, b, c = (lib.tensor([1.0, -2.0, 3.0], requires_grad=True) for _ in range(3))
        (a.addcdiv(b, c, value=2) * a.addcmul(b, c)).sum().backward()
        grads.append([t.grad.numpy() for t in (a, b, c)])
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_matrix_only_properties_refuse_vectors_as_torch():
    x, tx = _pair((3,))
    _same_error(lambda: x.mH, lambda: tx.mH)
    _same_error(lambda: x.adjoint(), lambda: tx.adjoint())
    x, tx = _pair((2, 3, 4))
    _same(x.mH, tx.mH)


def test_ndimension_output_nr_and_new_empty_strided():
    torch = pytest.importorskip("torch")
    x, tx = _pair((2, 3, 1))
    assert x.ndimension() == tx.ndimension() == 3
    assert x.output_nr == tx.output_nr == 0
    x.requires_grad_()
    tx.requires_grad_()
    ours, theirs = x.split(1, 1), tx.split(1, 1)
    assert [p.output_nr for p in ours] == [p.output_nr for p in theirs] == [0, 1, 2]
    out = x.new_empty_strided((2, 3), (1, 2), dtype=tinytorch.float64)
    expected = tx.new_empty_strided((2, 3), (1, 2), dtype=torch.float64)
    assert out.stride() == expected.stride() and tuple(out.shape) == tuple(expected.shape)
    assert out.dtype == tinytorch.float64 and not out.requires_grad


@pytest.mark.parametrize("view", [
    lambda x: x, lambda x: x[1:], lambda x: x.view(3, 4)[1], lambda x: x.view(3, 4)[:, 2], lambda x: x.view(3, 4).t()[1:, 1:],
    lambda x: x.view(2, 6)[1][::2], lambda x: x.view(3, 4)[2:].unsqueeze(0),
])
def test_storage_offset_matches_torch(view):
    # CPU only: the offset of a CuPy array comes from ``array.data.ptr``, which tests/fake_cupy.py lacks
    x, tx = _pair((12,))
    assert view(x).storage_offset() == view(tx).storage_offset()


# -- in-place views ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name, args", [
    ("squeeze_", ()), ("squeeze_", (0,)), ("squeeze_", (2,)), ("squeeze_", ((0, 2),)), ("unsqueeze_", (0,)),
    ("unsqueeze_", (-1,)), ("transpose_", (1, 2)), ("swapaxes_", (0, 1)), ("swapdims_", (0, -1)),
])
def test_inplace_views_change_shape_as_torch(name, args, device):
    x, tx = _pair((1, 3, 2), device=device)
    assert getattr(x, name)(*args) is x
    getattr(tx, name)(*args)
    _same(x, tx)
    assert x.stride() == tx.stride() and x._version[0] == tx._version == 1


@pytest.mark.parametrize("shape", [(2, 3), (3,), ()])
def test_t_inplace_as_torch(shape):
    x, tx = _pair(shape)
    x.t_()
    tx.t_()
    _same(x, tx)
    y, ty = _pair((2, 3, 4))
    _same_error(lambda: y.t_(), lambda: ty.t_())


def test_inplace_views_errors_as_torch():
    torch = pytest.importorskip("torch")
    x, tx = _pair((2, 3))
    _same_error(lambda: x.transpose_(0, 5), lambda: tx.transpose_(0, 5))
    _same_error(lambda: x.unsqueeze_(3), lambda: tx.unsqueeze_(3))
    leaf, tleaf = tinytorch.ones(2, 1, requires_grad=True), torch.ones(2, 1, requires_grad=True)
    _same_error(lambda: leaf.squeeze_(), lambda: tleaf.squeeze_())


def test_inplace_views_keep_sharing_memory():
    x = tinytorch.arange(6.0).view(2, 3)
    row = x[0]
    row.unsqueeze_(0)
    row[0, 1] = 10.0
    assert x[0, 1].item() == 10.0
    x.t_()
    x[2, 1] = -1.0  # x's storage is shared with row's
    assert row[0, 2].item() == 2.0 and x[1, 0].item() == 10.0
    assert x._version is row._version


def test_inplace_views_record_autograd_as_torch():
    torch = pytest.importorskip("torch")
    grads = []
    for lib in (tinytorch, torch):
        a = lib.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
        b = a * lib.tensor([[1.0, 2.0, 3.0]])
        b.squeeze_(0)
        b.unsqueeze_(1)
        b.t_()
        assert tuple(b.shape) == (1, 3) and b.grad_fn is not None
        (b * lib.tensor([[4.0, 5.0, 6.0]])).sum().backward()
        grads.append(a.grad.numpy())
    np.testing.assert_allclose(*grads)


def test_saved_tensor_then_inplace_view_fails_backward_as_torch():
    torch = pytest.importorskip("torch")
    errors = []
    for lib in (tinytorch, torch):
        a = lib.ones(2, 1, requires_grad=True)
        b = a * 2
        c = b * b  # saves b
        b.squeeze_()
        with pytest.raises(RuntimeError) as caught:
            c.sum().backward()
        errors.append(str(caught.value))
    assert "modified by an inplace operation" in errors[0] and "modified by an inplace operation" in errors[1]


@pytest.mark.parametrize("size", [(2, 2), (6,), (3, 2), (1,), (0,), (2, 4), (3, 3)])
def test_resize_as_torch(size):
    x, tx = _pair((2, 3))
    assert x.resize_(*size) is x
    tx.resize_(*size)
    assert tuple(x.shape) == tuple(tx.shape) and x._version[0] == tx._version
    kept = min(6, int(np.prod(size)))
    np.testing.assert_array_equal(x.numpy().ravel()[:kept], tx.numpy().ravel()[:kept])
    assert not x.numpy().ravel()[kept:].any()  # grown elements: zeros here (uninitialized in torch)


def test_resize_shrink_shares_memory_and_same_size_is_a_no_op():
    x = tinytorch.arange(6.0)
    view = x[1:5]
    view.resize_(2)
    view[0] = 9.0
    assert x[1].item() == 9.0 and view.storage_offset() == 1
    y = tinytorch.zeros(2, 3)
    y.resize_((2, 3))
    assert y._version[0] == 0


def test_resize_as_and_errors_as_torch():
    torch = pytest.importorskip("torch")
    x, tx = _pair((6,))
    _same(x.resize_as_(tinytorch.zeros(3, 2)), tx.resize_as_(torch.zeros(3, 2)))
    _same_error(lambda: x.resize_as_([2]), lambda: tx.resize_as_([2]))
    _same_error(lambda: x.resize_(2.0), lambda: tx.resize_(2.0))
    _same_error(lambda: (tinytorch.ones(3, requires_grad=True) * 1).resize_(2), lambda: (torch.ones(3, requires_grad=True) * 1).resize_(2))
    leaf, tleaf = tinytorch.ones(3, requires_grad=True), torch.ones(3, requires_grad=True)
    with tinytorch.no_grad(), torch.no_grad():
        _same_error(lambda: leaf.resize_(2), lambda: tleaf.resize_(2))
    with pytest.raises(RuntimeError):
        tinytorch.ones(3).resize_(2, -2)
