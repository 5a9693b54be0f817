"""Strides, contiguity and storage offsets of tensors with a zero-size dim, as PyTorch gives them.

NumPy 2 gives new empty arrays all-zero strides; PyTorch gives them row-major strides (zero sizes
counted as 1) and keeps them through views. Each case runs on tinytorch and, where it is
installed, on PyTorch, against values taken from PyTorch."""

import itertools

import pytest
from hypothesis import given, settings, strategies as st

import tinytorch


def _torch():
    return pytest.importorskip("torch")


@pytest.fixture(params=["tinytorch", "torch"])
def lib(request):
    return tinytorch if request.param == "tinytorch" else _torch()


def geometry(t):
    return tuple(t.shape), t.stride(), t.storage_offset()


@pytest.mark.parametrize("shape, strides", [
    ((0,), (1,)), ((0, 3), (3, 1)), ((3, 0), (1, 1)), ((2, 0, 4), (4, 4, 1)), ((0, 0), (1, 1)),
])
def test_new_empty_tensor_strides(lib, shape, strides):
    for t in (lib.empty(shape), lib.zeros(shape), lib.ones(shape), lib.empty(0).new_empty(shape)):
        assert t.stride() == strides
        assert t.is_contiguous()


@pytest.mark.parametrize("shape, strides", [
    ((0, 3), (1, 3)), ((3, 0), (1, 1)), ((0, 0), (1, 1)),
])
def test_transpose_keeps_permuted_strides(lib, shape, strides):
    x = lib.empty(shape)
    for t in (x.T, x.t(), x.transpose(0, 1), x.permute(1, 0), x.mT):
        assert t.stride() == strides
        assert t.is_contiguous()  # numel() == 0: always contiguous in PyTorch
        assert t.contiguous().stride() == strides  # contiguous() returns the view itself
    assert x.T.T.stride() == x.stride()


def test_permute_3d(lib):
    x = lib.empty(2, 0, 4)
    assert x.permute(2, 0, 1).stride() == (1, 4, 4)
    assert x.permute(1, 2, 0).stride() == (4, 1, 4)
    assert x.permute(2, 1, 0).stride() == (1, 4, 4)
    assert x.transpose(0, 2).stride() == (1, 4, 4)


def test_clone_and_like_keep_the_strides_of_an_empty_tensor(lib):
    t = lib.empty(0, 3).T
    assert t.clone().stride() == (1, 3)
    assert lib.empty_like(t).stride() == (1, 3)
    assert lib.zeros_like(t).stride() == (1, 3)
    assert t.clone(memory_format=lib.contiguous_format).stride() == (1, 1)
    assert lib.empty_like(t, memory_format=lib.contiguous_format).stride() == (1, 1)
    assert lib.empty(2, 0, 4).permute(2, 0, 1).clone().stride() == (1, 4, 4)
    assert lib.empty(3, 4)[:, :0].clone().stride() == (4, 1)
    assert lib.empty_like(lib.empty(3, 4).T[:, :0]).stride() == (1, 4)


def test_view_and_reshape(lib):
    t = lib.empty(0, 3).T  # (3, 0), strides (1, 3)
    assert t.view(3, 0).stride() == (1, 3)  # same shape: the strides stay
    assert t.reshape(3, 0).stride() == (1, 3)
    assert t.view(0, 3).stride() == (3, 1)  # another shape: row-major, zero sizes as 1
    assert t.reshape(-1).stride() == (1,)
    assert t.flatten().stride() == (1,)
    assert lib.empty(2, 0, 4).view(4, 0, 2).stride() == (2, 2, 1)


def test_unsqueeze_and_squeeze(lib):
    t = lib.empty(0, 3).T  # (3, 0), strides (1, 3)
    assert t.unsqueeze(0).stride() == (3, 1, 3)
    assert t.unsqueeze(1).stride() == (1, 0, 3)
    assert t.unsqueeze(-1).stride() == (1, 3, 1)
    assert t.unsqueeze(1).squeeze(1).stride() == (1, 3)
    assert t.unsqueeze(0).squeeze().stride() == (1, 3)
    assert lib.empty(0, 3).unsqueeze(0).stride() == (0, 3, 1)
    u = lib.empty(0, 3).T
    u.unsqueeze_(1)
    assert u.stride() == (1, 0, 3)


def test_expand(lib):
    t = lib.empty(0, 3).T
    assert t.expand(2, 3, 0).stride() == (0, 1, 3)
    assert lib.empty(0, 3).expand(2, 0, 3).stride() == (0, 3, 1)
    assert lib.empty(0, 3).expand(2, 0, 3).clone().stride() == (0, 3, 1)


def test_slicing_and_narrow_keep_strides_and_offset(lib):
    x = lib.empty(3, 4)
    assert geometry(x[:, :0]) == ((3, 0), (4, 1), 0)
    assert geometry(x[:0]) == ((0, 4), (4, 1), 0)
    assert geometry(x[1:1]) == ((0, 4), (4, 1), 4)
    assert geometry(x[:, 2:2]) == ((3, 0), (4, 1), 2)
    assert geometry(x.narrow(1, 4, 0)) == ((3, 0), (4, 1), 4)
    assert geometry(x[::2, :0]) == ((2, 0), (8, 1), 0)
    assert geometry(x.T[:0]) == ((0, 3), (1, 4), 0)
    assert geometry(lib.arange(6.0)[4:4:2]) == ((0,), (2,), 4)
    assert geometry(lib.empty(0, 3)[:, 1:]) == ((0, 2), (3, 1), 1)
    assert geometry(lib.empty(0, 3)[None]) == ((1, 0, 3), (0, 3, 1), 0)
    assert geometry(lib.empty(0, 3)[..., None]) == ((0, 3, 1), (3, 1, 1), 0)
    assert geometry(lib.empty(0, 3).T[1:]) == ((2, 0), (1, 3), 1)
    assert x[:, :0].contiguous().stride() == (4, 1)
    assert x[:, :0].T.stride() == (1, 4)


def test_slice_of_an_empty_slice_shares_memory_and_version(lib):
    x = lib.zeros(3, 4)
    v = x[1:1]
    assert v._base is x
    x.add_(1)
    assert v._version == x._version


def test_empty_slice_backward():
    x = tinytorch.ones(3, 4, requires_grad=True)
    x[:, 2:2].sum().backward()
    assert x.grad.shape == (3, 4) and float(x.grad.abs().sum()) == 0.0


def test_as_strided_and_empty_strided(lib):
    assert lib.empty(0, 3).as_strided((3, 0), (1, 3)).stride() == (1, 3)
    assert geometry(lib.empty(10).as_strided((0, 3), (1, 2), 2)) == ((0, 3), (1, 2), 2)
    assert lib.empty_strided((0, 3), (1, 5)).stride() == (1, 5)
    assert lib.empty_strided((2, 0, 4), (1, 2, 3)).permute(2, 1, 0).stride() == (3, 2, 1)


def test_channels_last(lib):
    x = lib.empty(0, 3, 2, 2)
    assert x.is_contiguous()
    assert not x.is_contiguous(memory_format=lib.channels_last)
    y = x.permute(0, 2, 3, 1)  # (0, 2, 2, 3), strides (12, 2, 1, 4)
    assert y.stride() == (12, 2, 1, 4)
    cl = x.clone(memory_format=lib.channels_last)
    assert cl.stride() == (12, 1, 6, 3)
    assert cl.is_contiguous(memory_format=lib.channels_last)
    assert lib.empty(2, 3, 0, 2).clone(memory_format=lib.channels_last).stride() == (0, 1, 6, 3)
    assert lib.empty((2, 0, 2, 2), memory_format=lib.channels_last).stride() == (0, 1, 0, 0)
    assert lib.empty(2, 0, 2, 2).permute(0, 2, 3, 1).permute(0, 3, 1, 2).stride() == (4, 4, 2, 1)


# -- random shapes and permutations, against PyTorch where it is installed ------------------------
def _reference_permuted_strides(shape, perm):
    steps, step = [0] * len(shape), 1
    for d in range(len(shape) - 1, -1, -1):
        steps[d] = step
        step *= max(shape[d], 1)
    return tuple(steps[p] for p in perm)


@st.composite
def empty_shapes_and_perms(draw):
    ndim = draw(st.integers(1, 4))
    shape = draw(st.lists(st.integers(0, 3), min_size=ndim, max_size=ndim))
    shape[draw(st.integers(0, ndim - 1))] = 0
    perm = draw(st.permutations(range(ndim)))
    return tuple(shape), tuple(perm), draw(st.integers(0, ndim))


@settings(max_examples=150, deadline=None)
@given(empty_shapes_and_perms())
def test_random_empty_permutations(case):
    shape, perm, dim = case
    t = tinytorch.empty(shape).permute(perm)
    expected = _reference_permuted_strides(shape, perm)
    assert t.stride() == expected
    assert t.is_contiguous() and t.contiguous().stride() == expected
    assert t.clone().stride() == expected and tinytorch.empty_like(t).stride() == expected
    try:
        import torch
    except ImportError:
        return
    r = torch.empty(shape).permute(perm)
    assert r.stride() == expected
    results = [
        (t.unsqueeze(dim), r.unsqueeze(dim)),
        (t.reshape(-1), r.reshape(-1)),
        (t.view(t.shape), r.view(r.shape)),
        (t.unsqueeze(dim).squeeze(), r.unsqueeze(dim).squeeze()),
        (t.clone(memory_format=tinytorch.contiguous_format), r.clone(memory_format=torch.contiguous_format)),
        (t[1:], r[1:]),
        (t.narrow(-1, 0, 0), r.narrow(-1, 0, 0)),
    ]
    if 1 not in shape:  # expand gives kept size-1 dims stride 0, empty or not (a NumPy broadcast_to difference)
        results.append((t.expand(2, *t.shape), r.expand(2, *r.shape)))
    if len(shape) == 4:
        assert t.is_contiguous(memory_format=tinytorch.channels_last) == r.is_contiguous(memory_format=torch.channels_last)
        results.append((t.clone(memory_format=tinytorch.channels_last), r.clone(memory_format=torch.channels_last)))
    for ours, theirs in results:
        assert geometry(ours) == geometry(theirs)
        assert ours.is_contiguous() == theirs.is_contiguous()


@pytest.mark.parametrize("shape", [(0,), (0, 3), (3, 0), (2, 0, 4), (0, 0), (0, 3, 2, 2)])
def test_all_permutations_match_torch(shape):
    torch = _torch()
    for perm in itertools.permutations(range(len(shape))):
        ours, theirs = tinytorch.empty(shape).permute(perm), torch.empty(shape).permute(perm)
        assert geometry(ours) == geometry(theirs)
        assert geometry(ours.T if ours.dim() == 2 else ours.mT if ours.dim() > 2 else ours) == geometry(
            theirs.T if theirs.dim() == 2 else theirs.mT if theirs.dim() > 2 else theirs)
        if len(shape) == 4:
            assert ours.is_contiguous(memory_format=tinytorch.channels_last) == theirs.is_contiguous(
                memory_format=torch.channels_last)
