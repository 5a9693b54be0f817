"""The ``*_copy`` view variants, split_with_sizes and the unsafe_* splits, fill, nonzero_static, the
deprecated nuclear_norm/frobenius_norm and the runtime flags, against torch."""

import warnings

import numpy as np
import pytest

import tinytorch


def _pair(shape, device="cpu"):
    torch = pytest.importorskip("torch")
    values = (np.arange(int(np.prod(shape))) - 3).astype(np.float32).reshape(shape)
    return tinytorch.tensor(values, device=device), torch.tensor(values)


def _same(ours, theirs):
    if isinstance(theirs, (list, tuple)):
        assert isinstance(ours, (list, tuple)) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _same(a, b)
        return
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
    np.testing.assert_allclose(ours.detach().cpu().numpy(), theirs.detach().numpy(), rtol=1e-5, atol=1e-6)


def _same_error(call_ours, call_theirs):
    with pytest.raises(Exception) as expected:
        call_theirs()
    with pytest.raises(Exception) as got:
        call_ours()
    assert type(got.value) is type(expected.value)
    assert str(got.value).split("\n")[0] == str(expected.value).split("\n")[0]


COPIES = [
    ("alias_copy", ()), ("detach_copy", ()), ("diagonal_copy", (1,)), ("diagonal_copy", (0, 2, 1)),
    ("narrow_copy", (1, 1, 2)), ("permute_copy", ((2, 0, 1),)), ("select_copy", (1, -1)),
    ("slice_copy", ()), ("slice_copy", (2, 1, 4, 2)), ("slice_copy", (-1, -10, 10)), ("slice_copy", (1, 2, 1)),
    ("split_copy", (1,)), ("split_copy", (2, 2)), ("split_with_sizes_copy", ([1, 2], 1)),
    ("squeeze_copy", ()), ("t_copy", ()), ("transpose_copy", (0, 2)), ("unbind_copy", (1,)),
    ("unfold_copy", (2, 2, 1)), ("unsqueeze_copy", (-1,)), ("view_copy", ([4, 3, 2],)),
    ("view_copy", ("int32",)), ("expand_copy", ((2, 2, 3, 4),)),
]


@pytest.mark.parametrize("name, args", COPIES)
def test_copies_match_torch_and_own_their_memory(name, args, device):
    torch = pytest.importorskip("torch")
    shape = (3, 3) if name == "t_copy" else (1, 3, 2) if name == "squeeze_copy" else (2, 3, 4)
    x, tx = _pair(shape, device)
    ours_args = tuple(getattr(tinytorch, a) if a == "int32" else a for a in args)
    theirs_args = tuple(getattr(torch, a) if a == "int32" else a for a in args)
    ours, theirs = getattr(tinytorch, name)(x, *ours_args), getattr(torch, name)(tx, *theirs_args)
    _same(ours, theirs)
    for piece in ours if isinstance(ours, (list, tuple)) else [ours]:
        assert piece.is_contiguous() and piece._base is None and piece._version is not x._version


@pytest.mark.parametrize("name, args", [a for a in COPIES if a[0] not in ("detach_copy", "view_copy")] + [("view_copy", ([4, 6],))])
def test_copies_gradients_match_torch(name, args):
    torch = pytest.importorskip("torch")
    shape = (3, 3) if name == "t_copy" else (1, 3, 2) if name == "squeeze_copy" else (2, 3, 4)
    grads = []
    for lib, (x, _) in ((tinytorch, _pair(shape)), (torch, _pair(shape)[::-1])):
        x.requires_grad_()
        out = getattr(lib, name)(x, *args)
        pieces = out if isinstance(out, (list, tuple)) else [out]
        sum((p * (i + 2)).sum() for i, p in enumerate(pieces)).backward()
        grads.append(x.grad)
    _same(*grads)


def test_copies_out_and_errors_as_torch():
    torch = pytest.importorskip("torch")
    x, tx = _pair((2, 3))
    out, tout = tinytorch.empty(3, 2), torch.empty(3, 2)
    assert tinytorch.t_copy(x, out=out) is out
    torch.t_copy(tx, out=tout)
    _same(out, tout)
    pieces = [tinytorch.empty(1, 3), tinytorch.empty(1, 3)]
    assert tinytorch.split_copy(x, 1, out=pieces) is None
    _same(pieces, torch.split_copy(tx, 1))
    _same_error(lambda: tinytorch.slice_copy(x, 1, 0, 3, 0), lambda: torch.slice_copy(tx, 1, 0, 3, 0))
    _same_error(lambda: tinytorch.slice_copy(x, 1, 0, 3, -1), lambda: torch.slice_copy(tx, 1, 0, 3, -1))
    _same_error(lambda: tinytorch.select_copy(x, 1, 5), lambda: torch.select_copy(tx, 1, 5))
    _same_error(lambda: tinytorch.view_copy(x, [4]), lambda: torch.view_copy(tx, [4]))


# -- splits ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda lib, x: lib.split_with_sizes(x, [1, 2], 1), lambda lib, x: x.split_with_sizes([1, 1], dim=0),
    lambda lib, x: lib.unsafe_split(x, 2, 1), lambda lib, x: x.unsafe_split(1),
    lambda lib, x: lib.unsafe_chunk(x, 2, 1), lambda lib, x: x.unsafe_chunk(3, -1),
    lambda lib, x: lib.unsafe_split_with_sizes(x, [2, 1], 1), lambda lib, x: x.unsafe_split_with_sizes([2], 0),
])
def test_splits_match_torch(call):
    torch = pytest.importorskip("torch")
    x, tx = _pair((2, 3))
    _same(call(tinytorch, x), call(torch, tx))


def test_split_with_sizes_errors_as_torch():
    torch = pytest.importorskip("torch")
    x, tx = _pair((2, 3))
    _same_error(lambda: tinytorch.split_with_sizes(x, 2, 1), lambda: torch.split_with_sizes(tx, 2, 1))
    _same_error(lambda: tinytorch.split_with_sizes(x, [1, 1], 1), lambda: torch.split_with_sizes(tx, [1, 1], 1))


# -- fill, nonzero_static -------------------------------------------------------------------------
@pytest.mark.parametrize("dtype, value", [("float32", 2), ("int64", 2.5), ("float64", "tensor"), ("bool", 1)])
def test_fill_matches_torch(dtype, value, device):
    torch = pytest.importorskip("torch")
    x = tinytorch.zeros(2, 3, dtype=getattr(tinytorch, dtype), device=device)
    tx = torch.zeros(2, 3, dtype=getattr(torch, dtype))
    ours = tinytorch.fill(x, tinytorch.tensor(3.0) if value == "tensor" else value)
    _same(ours, torch.fill(tx, torch.tensor(3.0) if value == "tensor" else value))
    assert not x.any().item()  # out of place


def test_fill_is_differentiable_in_a_tensor_value_and_refuses_others_as_torch():
    torch = pytest.importorskip("torch")
    grads = []
    for lib in (tinytorch, torch):
        v = lib.tensor(2.0, requires_grad=True)
        (lib.fill(lib.zeros(2, 3), v) * 3).sum().backward()
        grads.append(v.grad)
    _same(*grads)
    x, tx = _pair((2,))
    _same_error(lambda: tinytorch.fill(x, tinytorch.ones(1)), lambda: torch.fill(tx, torch.ones(1)))


@pytest.mark.parametrize("values, size, fill_value", [
    ([0, 1, 2, 0, 3], 2, -1), ([[0, 1], [2, 0]], 4, -1), ([[0, 1], [2, 0]], 4, 7), ([[0, 0]], 0, -1),
    (3, 2, -1), ([0.0, 0.5], 3, 9),
])
def test_nonzero_static_matches_torch(values, size, fill_value, device):
    torch = pytest.importorskip("torch")
    ours = tinytorch.nonzero_static(tinytorch.tensor(values, device=device), size=size, fill_value=fill_value)
    _same(ours, torch.nonzero_static(torch.tensor(values), size=size, fill_value=fill_value))


def test_nonzero_static_errors_as_torch():
    torch = pytest.importorskip("torch")
    _same_error(lambda: tinytorch.nonzero_static(tinytorch.ones(2), size=-1), lambda: torch.nonzero_static(torch.ones(2), size=-1))


# -- deprecated norms, flags ----------------------------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda lib, x: lib.nuclear_norm(x), lambda lib, x: lib.nuclear_norm(x, keepdim=True),
    lambda lib, x: lib.nuclear_norm(x, (0, 2)), lambda lib, x: lib.nuclear_norm(x, (2, 1), True),
    lambda lib, x: lib.frobenius_norm(x, 1), lambda lib, x: lib.frobenius_norm(x, (0, 1), keepdim=True),
    lambda lib, x: lib.frobenius_norm(x, ()),
])
def test_deprecated_norms_match_torch_and_warn(call):
    torch = pytest.importorskip("torch")
    x, tx = _pair((2, 3, 4))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours = call(tinytorch, x)
    assert any("deprecated" in str(w.message) for w in caught)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _same(ours, call(torch, tx))
        _same_error(lambda: tinytorch.nuclear_norm(x, 1), lambda: torch.nuclear_norm(tx, 1))
        _same_error(lambda: tinytorch.nuclear_norm(x[0, 0]), lambda: torch.nuclear_norm(tx[0, 0]))


def test_runtime_flags():
    assert tinytorch.has_lapack is True and tinytorch.has_spectral is False and tinytorch.has_openmp is False
    assert isinstance(tinytorch.has_mkl, bool)
    assert tinytorch.set_flush_denormal(True) is False and tinytorch.set_flush_denormal(False) is False
    assert tinytorch.init_num_threads() is None
    assert tinytorch.is_anomaly_check_nan_enabled() is True
    try:
        tinytorch.set_anomaly_enabled(True, check_nan=False)
        assert tinytorch.is_anomaly_enabled() is True and tinytorch.is_anomaly_check_nan_enabled() is False
    finally:
        tinytorch.set_anomaly_enabled(False)
    assert tinytorch.is_anomaly_enabled() is False and tinytorch.is_anomaly_check_nan_enabled() is True
