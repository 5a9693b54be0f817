"""meshgrid, cartesian_prod, tile, kron, diff, trace, take_along_dim, triu/tril_indices,
atleast_1d/2d/3d, flipud, fliplr, column_stack, dstack, rot90, diag_embed and diagflat.

Values are checked against NumPy (an independent oracle) and against torch when it is installed;
gradients against float64 finite differences and torch's; bad inputs against torch's error types
and messages."""

import itertools
import warnings

import numpy as np
import pytest

import tinytorch
from tinytorch._ops import shaping as ops
from tinytorch.testing._gradients import check_gradients


def fn(name):
    """The function under test: tinytorch's top-level one once wired in, else the module's."""
    return getattr(tinytorch, name, None) or getattr(ops, name)


def _torch():
    return pytest.importorskip("torch")


def T(array, dtype=None):
    return tinytorch.tensor(np.asarray(array), dtype=dtype)


def _np(t):
    return t.detach().cpu().numpy()


RNG = np.random.default_rng(0)


def _r(*shape):
    return RNG.standard_normal(shape)


# -- values against NumPy -----------------------------------------------------------------------------
@pytest.mark.parametrize("indexing", ["ij", "xy"])
@pytest.mark.parametrize("shapes", [[(3,)], [(3,), (2,)], [(3,), (2,), (4,)], [(), (2,)], [(3,), ()], [(0,), (2,)]])
def test_meshgrid_matches_numpy(shapes, indexing):
    arrays = [_r(*s) for s in shapes]
    grids = fn("meshgrid")(*[T(a) for a in arrays], indexing=indexing)
    expected = np.meshgrid(*[a.reshape(-1) for a in arrays], indexing=indexing)
    assert isinstance(grids, tuple) and len(grids) == len(arrays)
    for g, e in zip(grids, expected):
        assert tuple(g.shape) == e.shape
        np.testing.assert_array_equal(_np(g), e)
    as_list = fn("meshgrid")([T(a) for a in arrays], indexing=indexing)
    for g, e in zip(as_list, expected):
        np.testing.assert_array_equal(_np(g), e)


def test_meshgrid_without_indexing_warns_and_uses_ij():
    a, b = T([1.0, 2.0, 3.0]), T([4.0, 5.0])
    with pytest.warns(UserWarning, match="it will be required to pass the indexing argument"):
        x, y = fn("meshgrid")(a, b)
    assert tuple(x.shape) == (3, 2) and tuple(y.shape) == (3, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fn("meshgrid")(a, b, indexing="ij")  # no warning with indexing given


@pytest.mark.parametrize("sizes", [(3,), (3, 2), (2, 1, 3), (2, 0)])
def test_cartesian_prod_matches_itertools(sizes):
    arrays = [np.arange(s, dtype=np.float64) + 10 * i for i, s in enumerate(sizes)]
    got = fn("cartesian_prod")(*[T(a) for a in arrays])
    expected = np.array(list(itertools.product(*arrays)), dtype=np.float64)
    if len(sizes) == 1:
        expected = arrays[0]
    elif expected.size == 0:
        expected = expected.reshape(0, len(sizes))
    assert tuple(got.shape) == expected.shape
    np.testing.assert_array_equal(_np(got), expected)


@pytest.mark.parametrize("shape,dims", [((3,), (2,)), ((3,), (2, 2)), ((2, 3), (2,)), ((2, 3), ()), ((), ()),
                                        ((), (2, 3)), ((2, 1, 3), (1, 2, 1, 2)), ((2, 3), [0, 2]), ((2, 3), tinytorch.Size([3]))])
def test_tile_matches_numpy(shape, dims):
    x = _r(*shape)
    got = fn("tile")(T(x), dims)
    expected = np.tile(x, tuple(dims))
    assert tuple(got.shape) == expected.shape
    np.testing.assert_array_equal(_np(got), expected)


@pytest.mark.parametrize("a,b", [((3,), (2,)), ((2, 3), (4,)), ((2, 2), (3, 1)), ((), (3,)), ((), ()), ((2, 1, 3), (2, 2)),
                                 ((0, 2), (3, 1))])
def test_kron_matches_numpy(a, b):
    x, y = _r(*a), _r(*b)
    got = fn("kron")(T(x), T(y))
    expected = np.kron(x, y)
    assert tuple(got.shape) == expected.shape
    np.testing.assert_allclose(_np(got), expected)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_diff_matches_numpy(n, dim):
    x = _r(3, 4)
    np.testing.assert_allclose(_np(fn("diff")(T(x), n=n, dim=dim)), np.diff(x, n=n, axis=dim))
    shape = list(x.shape)
    shape[dim] = 2
    pre, app = _r(*shape), _r(*shape)
    got = fn("diff")(T(x), n, dim, prepend=T(pre), append=T(app))
    expected = x if n == 0 else np.diff(x, n=n, axis=dim, prepend=pre, append=app)
    np.testing.assert_allclose(_np(got), expected)


def test_diff_of_bool_is_xor_and_of_ints_keeps_dtype():
    flags = np.array([True, False, False, True, True])
    got = fn("diff")(T(flags), n=2)
    assert got.dtype == tinytorch.bool
    np.testing.assert_array_equal(_np(got), np.diff(flags, n=2))
    ints = fn("diff")(T(np.array([1, 4, 9], dtype=np.int32)))
    assert ints.dtype == tinytorch.int32 and ints.tolist() == [3, 5]


@pytest.mark.parametrize("shape", [(3, 3), (2, 4), (4, 2), (0, 3), (1, 1)])
def test_trace_matches_numpy(shape):
    x = _r(*shape)
    got = fn("trace")(T(x))
    assert got.shape == () and np.isclose(got.item(), np.trace(x))


def test_trace_dtypes():
    assert fn("trace")(T(np.arange(6, dtype=np.int32).reshape(2, 3))).dtype == tinytorch.int64
    assert fn("trace")(T(np.ones((2, 2), dtype=np.uint8))).dtype == tinytorch.int64
    assert fn("trace")(T(np.ones((2, 2), dtype=np.float16))).dtype == tinytorch.float16


@pytest.mark.parametrize("shape,index_shape,dim", [((3, 4), (2, 4), 0), ((3, 4), (3, 2), 1), ((3, 4), (2, 1), 0),
                                                   ((1, 4), (2, 3), 1), ((2, 3, 4), (2, 1, 5), -1), ((5,), (3,), 0)])
def test_take_along_dim_matches_numpy(shape, index_shape, dim):
    x = _r(*shape)
    index = RNG.integers(0, shape[dim], size=index_shape)
    got = fn("take_along_dim")(T(x), T(index), dim)
    # NumPy's take_along_axis broadcasts the same way once the index spans input's dims.
    expected_shape = tuple(max(a, b) if i != dim % len(shape) else b for i, (a, b) in enumerate(zip(shape, index_shape)))
    full_index = np.broadcast_to(index, expected_shape)
    other = list(expected_shape)
    other[dim] = shape[dim]
    expected = np.take_along_axis(np.broadcast_to(x, other), full_index, axis=dim)
    assert tuple(got.shape) == expected.shape
    np.testing.assert_array_equal(_np(got), expected)


def test_take_along_dim_without_dim_indexes_the_flattened_input():
    x = _r(3, 4)
    index = np.array([[0, 11], [5, 3]])
    got = fn("take_along_dim")(T(x), T(index))
    np.testing.assert_array_equal(_np(got), x.reshape(-1)[index.reshape(-1)])
    int32 = fn("take_along_dim")(T(x), T(index.astype(np.int32)))
    np.testing.assert_array_equal(_np(int32), x.reshape(-1)[index.reshape(-1)])
    assert tuple(fn("take_along_dim")(T(2.0), T(0)).shape) == (1,)


@pytest.mark.parametrize("row,col,offset", [(3, 3, 0), (3, 4, 1), (4, 3, -1), (3, 4, 100), (3, 4, -100), (0, 4, 0), (5, 2, -2), (1, 1, 0)])
def test_triu_tril_indices_match_numpy(row, col, offset):
    for name, numpy_fn in (("triu_indices", np.triu_indices), ("tril_indices", np.tril_indices)):
        got = fn(name)(row, col, offset)
        assert got.dtype == tinytorch.int64 and not got.requires_grad
        expected = np.stack(numpy_fn(row, offset, col)).reshape(2, -1)
        np.testing.assert_array_equal(_np(got), expected)
        assert fn(name)(row, col, offset, dtype=tinytorch.int32).dtype == tinytorch.int32


@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 3, 4), (2, 3, 4, 5)])
def test_atleast_matches_numpy(shape):
    x = _r(*shape)
    for name, numpy_fn in (("atleast_1d", np.atleast_1d), ("atleast_2d", np.atleast_2d), ("atleast_3d", np.atleast_3d)):
        got = fn(name)(T(x))
        assert isinstance(got, tinytorch.Tensor)
        assert tuple(got.shape) == numpy_fn(x).shape
        np.testing.assert_array_equal(_np(got), numpy_fn(x))


def test_atleast_takes_several_tensors_or_one_sequence():
    a, b = T(1.0), T([1.0, 2.0])
    for name, numpy_fn in (("atleast_1d", np.atleast_1d), ("atleast_2d", np.atleast_2d), ("atleast_3d", np.atleast_3d)):
        for got in (fn(name)(a, b), fn(name)([a, b]), fn(name)((a, b))):
            assert isinstance(got, tuple) and [tuple(t.shape) for t in got] == [numpy_fn(1.0).shape, numpy_fn([1.0, 2.0]).shape]
        assert fn(name)() == () and fn(name)([]) == ()
        single = fn(name)((b,))
        assert isinstance(single, tuple) and len(single) == 1


@pytest.mark.parametrize("shape", [(3,), (2, 3), (2, 3, 4)])
def test_flipud_fliplr_match_numpy(shape):
    x = _r(*shape)
    np.testing.assert_array_equal(_np(fn("flipud")(T(x))), np.flipud(x))
    if len(shape) >= 2:
        np.testing.assert_array_equal(_np(fn("fliplr")(T(x))), np.fliplr(x))


@pytest.mark.parametrize("shapes", [[(3,), (3,)], [(), ()], [(3,), (3, 2)], [(2, 3, 4), (2, 1, 4)], [(4,)]])
def test_column_stack_matches_numpy(shapes):
    arrays = [_r(*s) for s in shapes]
    got = fn("column_stack")([T(a) for a in arrays])
    expected = np.column_stack(arrays)
    assert tuple(got.shape) == expected.shape
    np.testing.assert_array_equal(_np(got), expected)


@pytest.mark.parametrize("shapes", [[(), ()], [(3,), (3,)], [(2, 3), (2, 3, 2)], [(2, 3, 1, 2), (2, 3, 4, 2)]])
def test_dstack_matches_numpy(shapes):
    arrays = [_r(*s) for s in shapes]
    got = fn("dstack")(tuple(T(a) for a in arrays))
    expected = np.dstack(arrays)
    assert tuple(got.shape) == expected.shape
    np.testing.assert_array_equal(_np(got), expected)


@pytest.mark.parametrize("k", [-5, -2, -1, 0, 1, 2, 3, 4, 5])
@pytest.mark.parametrize("shape,dims", [((2, 3), (0, 1)), ((2, 3), (1, 0)), ((2, 3, 4), (0, 2)), ((2, 3, 4), (-1, 1)), ((2, 3), [-2, -1])])
def test_rot90_matches_numpy(k, shape, dims):
    x = _r(*shape)
    got = fn("rot90")(T(x), k, dims)
    expected = np.rot90(x, k, axes=tuple(dims))
    assert tuple(got.shape) == expected.shape
    np.testing.assert_array_equal(_np(got), expected)


def _diag_embed_numpy(x, offset, dim1, dim2):
    n = x.shape[-1] + abs(offset)
    out = np.zeros(x.shape[:-1] + (n, n), dtype=x.dtype)
    i = np.arange(x.shape[-1])
    rows, cols = (i, i + offset) if offset >= 0 else (i - offset, i)
    out[..., rows, cols] = x
    nd = x.ndim + 1
    return np.moveaxis(out, (-2, -1), (dim1 % nd, dim2 % nd))


@pytest.mark.parametrize("shape", [(3,), (2, 3), (2, 1, 4), (0,)])
@pytest.mark.parametrize("offset", [0, 1, -2])
@pytest.mark.parametrize("dims", [(-2, -1), (-1, -2), (0, -1), (0, 1)])
def test_diag_embed_matches_numpy(shape, offset, dims):
    x = _r(*shape)
    got = fn("diag_embed")(T(x), offset, *dims)
    expected = _diag_embed_numpy(x, offset, *dims)
    assert tuple(got.shape) == expected.shape
    np.testing.assert_array_equal(_np(got), expected)
    torch = _torch()
    np.testing.assert_array_equal(_np(got), torch.diag_embed(torch.tensor(x), offset, *dims).numpy())


def test_diag_embed_keeps_inf_and_nan_on_the_diagonal_only():
    x = np.array([np.inf, np.nan, 1.0])
    got = _np(fn("diag_embed")(T(x), 1))
    np.testing.assert_array_equal(got, _diag_embed_numpy(x, 1, -2, -1))
    assert fn("diag_embed")(T(np.array([True, False]))).dtype == tinytorch.bool


@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (0,)])
@pytest.mark.parametrize("offset", [0, 2, -1])
def test_diagflat_matches_numpy(shape, offset):
    x = _r(*shape)
    got = fn("diagflat")(T(x), offset)
    expected = np.diagflat(x, offset)
    assert tuple(got.shape) == expected.shape
    np.testing.assert_array_equal(_np(got), expected)


# -- values and dtypes against torch ----------------------------------------------------------------
def _both(torch, call):
    """``call(get, make)`` on tinytorch and on torch: get(name) -> function, make(array) -> tensor."""
    return call(fn, _Maker(tinytorch)), call(lambda n: getattr(torch, n), _Maker(torch))


def _same(ours, theirs):
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _same(a, b)
        return
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.dtype.name == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_array_equal(_np(ours), theirs.numpy())


A = np.arange(6.0).reshape(2, 3)
TORCH_CASES = {
    "meshgrid_xy_3": lambda g, m: g("meshgrid")(m([1.0, 2.0]), m([3.0, 4.0, 5.0]), m(7.0), indexing="xy"),
    "meshgrid_int": lambda g, m: g("meshgrid")([m([1, 2]), m([3, 4, 5])], indexing="ij"),
    "meshgrid_one_xy": lambda g, m: g("meshgrid")(m([1.0, 2.0]), indexing="xy"),
    "cartesian_prod_int": lambda g, m: g("cartesian_prod")(m([1, 2]), m([3, 4, 5])),
    "cartesian_prod_one": lambda g, m: g("cartesian_prod")(m([1.0, 2.0])),
    "tile": lambda g, m: g("tile")(m(A), (2, 1, 2)),
    "tile_zero": lambda g, m: g("tile")(m(A), (0, 2)),
    "kron_promotes": lambda g, m: g("kron")(m([1, 2], "int32"), m(2.5, "float64")),
    "kron_0d_same_kind": lambda g, m: g("kron")(m([1.0, 2.0], "float32"), m(2.5, "float64")),
    "kron_bool": lambda g, m: g("kron")(m([[True, False]]), m([True, True])),
    "kron_int_float": lambda g, m: g("kron")(m([[1, 2]], "int32"), m([0.5, 1.5], "float32")),
    "diff_prepend_promotes": lambda g, m: g("diff")(m(A, "float32"), dim=0, prepend=m(A[:1], "float64")),
    "diff_int_append_float": lambda g, m: g("diff")(m([1, 4, 9]), append=m([1.5], "float32")),
    "diff_long_n": lambda g, m: g("diff")(m(A), n=5),
    "diff_empty_dim": lambda g, m: g("diff")(m(np.ones((2, 0))), n=2),
    "diff_n0_with_prepend": lambda g, m: g("diff")(m(A), n=0, prepend=m(A)),
    "diff_bool_append": lambda g, m: g("diff")(m([[True, False]]), append=m([[1.0]], "float32")),
    "trace_int8": lambda g, m: g("trace")(m(np.ones((2, 3)), "int8")),
    "take_along_dim_broadcast": lambda g, m: g("take_along_dim")(m(A), m(np.array([[2], [0]])), 1),
    "take_along_dim_broadcast_input": lambda g, m: g("take_along_dim")(m(A[:1]), m(np.array([[2, 0, 1, 1], [0, 0, 1, 2]])), 1),
    "take_along_dim_flat": lambda g, m: g("take_along_dim")(m(A), m(np.array([[5, 0]]))),
    "triu_indices_int32": lambda g, m: g("triu_indices")(4, 3, -1, dtype=m.int32),
    "tril_indices": lambda g, m: g("tril_indices")(3, 5, 1),
    "atleast_3d_list": lambda g, m: g("atleast_3d")([m(1.0), m([1.0, 2.0]), m(A)]),
    "atleast_2d_one": lambda g, m: g("atleast_2d")(m([1, 2])),
    "column_stack_promotes": lambda g, m: g("column_stack")([m([1.0, 2.0], "float32"), m([1, 2]), m(np.ones((2, 2)), "float64")]),
    "dstack_int": lambda g, m: g("dstack")([m([1, 2]), m([3, 4])]),
    "rot90_int": lambda g, m: g("rot90")(m(np.arange(24).reshape(2, 3, 4)), 3, (2, 0)),
    "diag_embed_int": lambda g, m: g("diag_embed")(m(np.arange(6).reshape(2, 3)), -1, 0, 2),
    "diagflat_int": lambda g, m: g("diagflat")(m(np.arange(4).reshape(2, 2), "int32"), 1),
    "flipud_fliplr": lambda g, m: (g("flipud")(m(A)), g("fliplr")(m(A))),
}


@pytest.mark.parametrize("case", sorted(TORCH_CASES))
def test_values_and_dtypes_match_torch(case):
    torch = _torch()
    ours, theirs = _both(torch, TORCH_CASES[case])
    _same(ours, theirs)


# -- gradients --------------------------------------------------------------------------------------
GRAD_CASES = {
    # name: (function name, call(f, *tensors), input shapes)
    "meshgrid_ij": ("meshgrid", lambda f, a, b: f(a, b, indexing="ij"), [(3,), (2,)]),
    "meshgrid_xy_0d": ("meshgrid", lambda f, a, b, c: f([a, b, c], indexing="xy"), [(3,), (2,), ()]),
    "cartesian_prod": ("cartesian_prod", lambda f, a, b, c: f(a, b, c), [(3,), (2,), (2,)]),
    "tile": ("tile", lambda f, a: f(a, (2, 1, 3)), [(2, 3)]),
    "tile_short_dims": ("tile", lambda f, a: f(a, (2,)), [(2, 3)]),
    "kron": ("kron", lambda f, a, b: f(a, b), [(2, 3), (3, 1, 2)]),
    "kron_0d": ("kron", lambda f, a, b: f(a, b), [(), (3,)]),
    "diff": ("diff", lambda f, a: f(a, n=2, dim=0), [(4, 3)]),
    "diff_prepend_append": ("diff", lambda f, a, p, q: f(a, 2, -1, prepend=p, append=q), [(2, 3), (2, 1), (2, 2)]),
    "trace": ("trace", lambda f, a: f(a), [(3, 4)]),
    "take_along_dim": ("take_along_dim", lambda f, a, i: f(a, i, 1), [(3, 4), None]),
    "take_along_dim_flat": ("take_along_dim", lambda f, a, i: f(a, i), [(3, 4), None]),
    "atleast_3d": ("atleast_3d", lambda f, a, b: f(a, b), [(), (3,)]),
    "atleast_2d": ("atleast_2d", lambda f, a: f(a), [(3,)]),
    "atleast_1d": ("atleast_1d", lambda f, a: f(a), [()]),
    "flipud": ("flipud", lambda f, a: f(a), [(3, 2)]),
    "fliplr": ("fliplr", lambda f, a: f(a), [(3, 2)]),
    "column_stack": ("column_stack", lambda f, a, b, c: f([a, b, c]), [(3,), (3, 2), (3,)]),
    "column_stack_0d": ("column_stack", lambda f, a, b: f([a, b]), [(), ()]),
    "dstack": ("dstack", lambda f, a, b: f((a, b)), [(2, 3), (2, 3, 2)]),
    "rot90": ("rot90", lambda f, a: f(a, 1, (0, 2)), [(2, 3, 4)]),
    "rot90_k3": ("rot90", lambda f, a: f(a, -1), [(2, 3)]),
    "rot90_k2": ("rot90", lambda f, a: f(a, 2, (1, 0)), [(2, 3)]),
    "rot90_k0": ("rot90", lambda f, a: f(a, 4), [(2, 3)]),
    "diag_embed": ("diag_embed", lambda f, a: f(a, 1, 0, 2), [(2, 3)]),
    "diag_embed_negative": ("diag_embed", lambda f, a: f(a, -2), [(2, 3)]),
    "diagflat": ("diagflat", lambda f, a: f(a, -1), [(2, 2)]),
}
_INDEX = {"take_along_dim": np.array([[0, 3], [2, 2], [1, 0]]), "take_along_dim_flat": np.array([[0, 11, 11], [4, 5, 0]])}
_INDEX_BROADCAST = np.array([[0, 3, 3]])


def _grad_inputs(case):
    name, call, shapes = GRAD_CASES[case]
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(s) if s is not None else _INDEX[case] for s in shapes]
    differentiable = tuple(i for i, s in enumerate(shapes) if s is not None)
    return name, call, arrays, differentiable


def _with_lib(name, call, get, make_index):
    f = get(name)

    def run(*args):
        args = [make_index(a) if isinstance(a, np.ndarray) and a.dtype.kind == "i" else a for a in args]
        return call(f, *args)

    return run


@pytest.mark.parametrize("case", sorted(GRAD_CASES))
def test_gradients_match_finite_differences(case):
    name, call, arrays, differentiable = _grad_inputs(case)
    run = _with_lib(name, call, fn, lambda a: tinytorch.tensor(a))
    check_gradients(run, arrays, {}, differentiable, np.random.default_rng(2))


@pytest.mark.parametrize("case", sorted(GRAD_CASES))
def test_gradients_match_torch(case):
    torch = _torch()
    name, call, arrays, differentiable = _grad_inputs(case)
    ours_in = [tinytorch.tensor(a, requires_grad=i in differentiable) for i, a in enumerate(arrays)]
    theirs_in = [torch.tensor(a, requires_grad=i in differentiable) for i, a in enumerate(arrays)]
    ours = call(fn(name), *ours_in)
    theirs = call(getattr(torch, name), *theirs_in)
    ours = ours if isinstance(ours, tuple) else (ours,)
    theirs = theirs if isinstance(theirs, tuple) else (theirs,)
    rng = np.random.default_rng(3)
    loss_ours = loss_theirs = 0
    for a, b in zip(ours, theirs, strict=True):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(_np(a), b.detach().numpy(), rtol=1e-12, atol=1e-12)
        w = rng.standard_normal(tuple(a.shape))
        loss_ours = loss_ours + (a * tinytorch.tensor(w)).sum()
        loss_theirs = loss_theirs + (b * torch.tensor(w)).sum()
    loss_ours.backward()
    loss_theirs.backward()
    for i in differentiable:
        np.testing.assert_allclose(_np(ours_in[i].grad), theirs_in[i].grad.numpy(), rtol=1e-10, atol=1e-12)


def test_take_along_dim_gradient_accumulates_over_broadcast_indices():
    torch = _torch()
    x = np.random.default_rng(4).standard_normal((1, 4))
    index = np.array([[0, 3, 3], [3, 0, 1]])
    ours = tinytorch.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    fn("take_along_dim")(ours, tinytorch.tensor(index), 1).sum().backward()
    torch.take_along_dim(theirs, torch.tensor(index), 1).sum().backward()
    np.testing.assert_array_equal(_np(ours.grad), theirs.grad.numpy())


def test_second_derivatives_flow_through_kron_and_diag_embed():
    x = tinytorch.tensor(_r(2, 2), requires_grad=True)
    y = (fn("kron")(x, x) ** 2).sum() + (fn("diag_embed")(x) ** 3).sum()
    (g,) = tinytorch.autograd.grad(y, [x], create_graph=True)
    (h,) = tinytorch.autograd.grad(g.sum(), [x])
    torch = _torch()
    tx = torch.tensor(_np(x), requires_grad=True)
    ty = (torch.kron(tx, tx) ** 2).sum() + (torch.diag_embed(tx) ** 3).sum()
    (tg,) = torch.autograd.grad(ty, [tx], create_graph=True)
    (th,) = torch.autograd.grad(tg.sum(), [tx])
    np.testing.assert_allclose(_np(g), tg.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(_np(h), th.numpy(), rtol=1e-10)


# -- errors: the same type and message as torch ------------------------------------------------------
ERROR_CASES = {
    "meshgrid_empty": lambda g, m: g("meshgrid")(indexing="ij"),
    "meshgrid_dtypes": lambda g, m: g("meshgrid")(m([1.0]), m([1]), indexing="ij"),
    "meshgrid_indexing": lambda g, m: g("meshgrid")(m([1.0]), m([2.0]), indexing="foo"),
    "meshgrid_2d": lambda g, m: g("meshgrid")(m(A), indexing="ij"),
    "meshgrid_not_tensor": lambda g, m: g("meshgrid")(m([1.0]), 1, indexing="ij"),
    "meshgrid_nested": lambda g, m: g("meshgrid")([m([1.0])], [m([1.0])], indexing="ij"),
    "cartesian_prod_2d": lambda g, m: g("cartesian_prod")(m(A)),
    "cartesian_prod_0d": lambda g, m: g("cartesian_prod")(m([1.0]), m(1.0)),
    "cartesian_prod_empty": lambda g, m: g("cartesian_prod")(),
    "cartesian_prod_dtypes": lambda g, m: g("cartesian_prod")(m([1.0]), m([1])),
    "tile_int": lambda g, m: g("tile")(m(A), 2),
    "tile_float_element": lambda g, m: g("tile")(m(A), (2.0,)),
    "tile_negative": lambda g, m: g("tile")(m(A), (-1,)),
    "tile_negative_both": lambda g, m: g("tile")(m(A), (-1, -2)),
    "kron_number_other": lambda g, m: g("kron")(m(A), 2.0),
    "kron_number_input": lambda g, m: g("kron")(2.0, m(A)),
    "diff_0d": lambda g, m: g("diff")(m(1.0)),
    "diff_negative_n": lambda g, m: g("diff")(m(A), n=-1),
    "diff_float_n": lambda g, m: g("diff")(m(A), n=1.5),
    "diff_dim": lambda g, m: g("diff")(m(A), dim=2),
    "diff_prepend_ndim": lambda g, m: g("diff")(m(A), prepend=m([1.0])),
    "diff_prepend_shape": lambda g, m: g("diff")(m(A), dim=0, prepend=m(np.ones((1, 2)))),
    "diff_append_shape": lambda g, m: g("diff")(m(A), dim=1, append=m(np.ones((3, 2)))),
    "diff_prepend_number": lambda g, m: g("diff")(m(A), prepend=1.0),
    "diff_0d_negative_n": lambda g, m: g("diff")(m(1.0), n=-1),
    "trace_1d": lambda g, m: g("trace")(m([1.0, 2.0])),
    "trace_3d": lambda g, m: g("trace")(m(np.ones((2, 2, 2)))),
    "trace_bool": lambda g, m: g("trace")(m(np.ones((2, 2), dtype=bool))),
    "take_along_dim_ndim": lambda g, m: g("take_along_dim")(m(A), m(np.array([0])), 0),
    "take_along_dim_int32": lambda g, m: g("take_along_dim")(m(A), m(np.array([[0]]), "int32"), 0),
    "take_along_dim_float_flat": lambda g, m: g("take_along_dim")(m(A), m(np.array([0.0]))),
    "take_along_dim_shapes": lambda g, m: g("take_along_dim")(m(A), m(np.zeros((2, 2), dtype=np.int64)), 0),
    "take_along_dim_dim": lambda g, m: g("take_along_dim")(m(A), m(np.zeros((2, 2), dtype=np.int64)), 2),
    "take_along_dim_0d": lambda g, m: g("take_along_dim")(m(1.0), m(0), -1),
    "take_along_dim_list": lambda g, m: g("take_along_dim")(m(A), [[0]], 0),
    "take_along_dim_flat_out_of_range": lambda g, m: g("take_along_dim")(m(A), m(np.array([6]))),
    "triu_indices_row": lambda g, m: g("triu_indices")(-1, 3),
    "tril_indices_col": lambda g, m: g("tril_indices")(3, -2),
    "triu_indices_float_dtype": lambda g, m: g("triu_indices")(3, 3, dtype=m.float32),
    "tril_indices_int16": lambda g, m: g("tril_indices")(3, 3, dtype=m.int16),
    "tril_indices_float_row": lambda g, m: g("tril_indices")(3.0, 3),
    "triu_indices_float_offset": lambda g, m: g("triu_indices")(3, 3, 1.5),
    "flipud_0d": lambda g, m: g("flipud")(m(1.0)),
    "fliplr_1d": lambda g, m: g("fliplr")(m([1.0])),
    "column_stack_empty": lambda g, m: g("column_stack")([]),
    "column_stack_tensor": lambda g, m: g("column_stack")(m(A)),
    "column_stack_sizes": lambda g, m: g("column_stack")([m([1.0, 2.0]), m([1.0, 2.0, 3.0])]),
    "dstack_empty": lambda g, m: g("dstack")(()),
    "dstack_tensor": lambda g, m: g("dstack")(m(A)),
    "rot90_three_dims": lambda g, m: g("rot90")(m(A), 1, (0, 1, 2)),
    "rot90_1d": lambda g, m: g("rot90")(m([1.0]), 1, (0, 1)),
    "rot90_same": lambda g, m: g("rot90")(m(A), 1, (0, -2)),
    "rot90_out_of_range": lambda g, m: g("rot90")(m(A), 1, (0, 2)),
    "rot90_float_k": lambda g, m: g("rot90")(m(A), 1.5),
    "rot90_int_dims": lambda g, m: g("rot90")(m(A), 1, 0),
    "diag_embed_same": lambda g, m: g("diag_embed")(m([1.0, 2.0]), 0, 1, -1),
    "diag_embed_range": lambda g, m: g("diag_embed")(m([1.0]), 0, 0, 2),
    "diag_embed_0d": lambda g, m: g("diag_embed")(m(1.0)),
}
# Where tinytorch's message is its own (PyTorch prints the whole tensor, or lists every overload).
_PREFIX_ONLY = {"meshgrid_2d": "torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: ",
                "atleast": "received an invalid combination of arguments"}


class _Maker:
    """make(array, dtype_name) for one library, with its dtypes as attributes (m.float32)."""

    def __init__(self, lib):
        self.lib = lib

    def __call__(self, a, dtype=None):
        return self.lib.tensor(np.asarray(a), dtype=None if dtype is None else getattr(self.lib, dtype))

    def __getattr__(self, name):
        return getattr(self.lib, name)


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_errors_match_torch(case):
    torch = _torch()
    with pytest.raises(Exception) as theirs:
        ERROR_CASES[case](lambda n: getattr(torch, n), _Maker(torch))
    with pytest.raises(Exception) as ours:
        ERROR_CASES[case](fn, _Maker(tinytorch))
    assert ours.type is theirs.type, f"{ours.value!r} vs torch's {theirs.value!r}"
    if case in _PREFIX_ONLY:
        assert str(ours.value).startswith(_PREFIX_ONLY[case]) and str(theirs.value).startswith(_PREFIX_ONLY[case])
    else:
        assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("name", ["atleast_1d", "atleast_2d", "atleast_3d"])
def test_atleast_refuses_numbers(name):
    torch = _torch()
    for bad in (1.0, [T(1.0), 2]):
        with pytest.raises(TypeError, match=_PREFIX_ONLY["atleast"]):
            fn(name)(bad)
    with pytest.raises(TypeError, match=_PREFIX_ONLY["atleast"]):
        getattr(torch, name)(1.0)


def test_tril_indices_refuses_requires_grad_as_torch():
    with pytest.raises(RuntimeError, match="Only Tensors of floating point and complex dtype can require gradients"):
        fn("tril_indices")(3, 3, requires_grad=True)


# -- Tensor methods (once wired into tinytorch.Tensor) ---------------------------------------------------
_METHODS = ["tile", "kron", "diff", "trace", "take_along_dim", "flipud", "fliplr", "rot90", "diag_embed", "diagflat"]


@pytest.mark.skipif(not all(hasattr(tinytorch.Tensor, m) for m in _METHODS), reason="Tensor methods not wired in yet")
def test_tensor_methods_match_torch():
    torch = _torch()
    x = _r(2, 3)
    ours, theirs = tinytorch.tensor(x), torch.tensor(x)
    calls = [
        lambda t, lib: t.tile(2, 1, 2), lambda t, lib: t.tile((2,)), lambda t, lib: t.tile([1, 2]), lambda t, lib: t.tile(2),
        lambda t, lib: t.kron(t), lambda t, lib: t.diff(), lambda t, lib: t.diff(2, 0, prepend=t),
        lambda t, lib: t.trace(), lambda t, lib: t.take_along_dim(lib.tensor([[0], [2]]), dim=1),
        lambda t, lib: t.take_along_dim(lib.tensor([5, 0])), lambda t, lib: t.flipud(), lambda t, lib: t.fliplr(),
        lambda t, lib: t.rot90(), lambda t, lib: t.rot90(3, [1, 0]), lambda t, lib: t.diag_embed(1),
        lambda t, lib: t.diag_embed(dim1=0, dim2=2), lambda t, lib: t.diagflat(-1),
    ]
    for call in calls:
        _same(call(ours, tinytorch), call(theirs, torch))
    with pytest.raises(TypeError, match="missing 1 required positional argument"):
        ours.tile()


# -- devices ----------------------------------------------------------------------------------------------
def test_results_stay_on_the_input_device(device):
    x = tinytorch.tensor(_r(2, 3), device=device)
    index = tinytorch.tensor(np.array([[0], [2]]), device=device)
    results = [
        *fn("meshgrid")(x[0], x[1], indexing="xy"), fn("cartesian_prod")(x[0], x[1]), fn("tile")(x, (2,)),
        fn("kron")(x, x), fn("diff")(x, prepend=x), fn("trace")(x), fn("take_along_dim")(x, index, 1),
        fn("atleast_3d")(x), fn("flipud")(x), fn("fliplr")(x), fn("column_stack")([x, x]), fn("dstack")([x, x]),
        fn("rot90")(x), fn("diag_embed")(x, 1), fn("diagflat")(x),
        fn("triu_indices")(3, 3, device=device), fn("tril_indices")(3, 3, device=device),
    ]
    for r in results:
        assert r.device.type == tinytorch.device(device).type
    np.testing.assert_array_equal(_np(fn("diag_embed")(x, 1)), _diag_embed_numpy(_np(x), 1, -2, -1))
