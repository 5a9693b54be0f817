"""mv, inner, vdot, ger, addmv, addr, addbmm, chain_matmul, tensordot, block_diag, vander,
linalg.multi_dot and linalg.vander against torch: values and gradients in float32 and float64 on
every device, gradcheck (second derivatives too), alpha/beta (beta=0 ignores NaN), in-place forms,
out=, integer and bool dtypes, and PyTorch's errors."""

import warnings

import numpy as np
import pytest

import tinytorch
from tinytorch._ops import products as P
from tinytorch.autograd import gradcheck, gradgradcheck

RNG = np.random.default_rng(0)
TOLERANCE = {"float32": dict(atol=1e-4, rtol=1e-4), "float64": dict(atol=1e-10, rtol=1e-8)}


def _host(tensor):
    return tensor.detach().cpu().numpy()


def _raised(call):
    try:
        call()
    except Exception as error:  # the point is to capture any error
        return type(error).__name__, str(error).replace("tinytorch", "torch")
    raise AssertionError("expected an exception, none was raised")


def _same_error(ours, theirs):
    assert _raised(ours) == _raised(theirs)


# name, our function, torch's, argument shapes, keyword arguments
CASES = [
    ("mv", tinytorch.mv, "mv", [(3, 4), (4,)], {}),
    ("mv_empty", tinytorch.mv, "mv", [(2, 0), (0,)], {}),
    ("inner", tinytorch.inner, "inner", [(2, 3), (4, 3)], {}),
    ("inner_vectors", tinytorch.inner, "inner", [(3,), (3,)], {}),
    ("inner_scalar", tinytorch.inner, "inner", [(), (2, 3)], {}),
    ("vdot", tinytorch.vdot, "vdot", [(5,), (5,)], {}),
    ("ger", tinytorch.ger, "ger", [(3,), (2,)], {}),
    ("addmv", tinytorch.addmv, "addmv", [(3,), (3, 4), (4,)], dict(beta=0.5, alpha=-2.0)),
    ("addmv_broadcast", tinytorch.addmv, "addmv", [(1,), (3, 4), (4,)], {}),
    ("addmv_scalar", tinytorch.addmv, "addmv", [(), (3, 4), (4,)], dict(beta=0)),
    ("addr", tinytorch.addr, "addr", [(3, 2), (3,), (2,)], dict(beta=2.0, alpha=0.5)),
    ("addr_broadcast", tinytorch.addr, "addr", [(2,), (3,), (2,)], dict(beta=0)),
    ("addbmm", tinytorch.addbmm, "addbmm", [(2, 4), (5, 2, 3), (5, 3, 4)], dict(beta=0.3, alpha=-1.0)),
    ("addbmm_broadcast", tinytorch.addbmm, "addbmm", [(4,), (5, 2, 3), (5, 3, 4)], {}),
    ("addbmm_no_batch", tinytorch.addbmm, "addbmm", [(2, 4), (0, 2, 3), (0, 3, 4)], dict(beta=0)),
    ("tensordot", tinytorch.tensordot, "tensordot", [(2, 3, 4), (3, 4, 5)], {}),
    ("tensordot_one", tinytorch.tensordot, "tensordot", [(2, 3, 4), (4, 5)], dict(dims=1)),
    ("tensordot_outer", tinytorch.tensordot, "tensordot", [(2, 3), (4,)], dict(dims=0)),
    ("tensordot_lists", tinytorch.tensordot, "tensordot", [(2, 3, 4), (4, 3, 5)], dict(dims=([1, 2], [1, 0]))),
    ("tensordot_negative", tinytorch.tensordot, "tensordot", [(2, 3, 4), (4, 3, 5)], dict(dims=([-1], [0]))),
    ("tensordot_broadcast", tinytorch.tensordot, "tensordot", [(2, 1, 4), (3, 4, 5)], dict(dims=([1, 2], [0, 1]))),
    ("tensordot_broadcast_b", tinytorch.tensordot, "tensordot", [(2, 3, 4), (1, 4, 5)], dict(dims=([1, 2], [0, 1]))),
    ("block_diag", tinytorch.block_diag, "block_diag", [(2, 3), (4,), (), (0, 2), (2, 0), (1, 1)], {}),
    ("block_diag_one", tinytorch.block_diag, "block_diag", [(2, 3)], {}),
    ("vander", tinytorch.vander, "vander", [(4,)], {}),
    ("vander_wide", tinytorch.vander, "vander", [(3,)], dict(N=5, increasing=True)),
    ("vander_one", tinytorch.vander, "vander", [(3,)], dict(N=1)),
    ("vander_none", tinytorch.vander, "vander", [(3,)], dict(N=0)),
]


def _torch_fn(torch, name):
    return getattr(torch, name)


@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
@pytest.mark.parametrize("name, ours, theirs, shapes, kwargs", CASES, ids=[c[0] for c in CASES])
def test_matches_torch(name, ours, theirs, shapes, kwargs, dtype_name, device):
    torch = pytest.importorskip("torch")
    arrays = [RNG.uniform(-2, 2, size=s).astype(dtype_name) for s in shapes]
    mine = [tinytorch.tensor(a, device=device, requires_grad=True) for a in arrays]
    reference = [torch.tensor(a, requires_grad=True) for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out, expected = ours(*mine, **kwargs), _torch_fn(torch, theirs)(*reference, **kwargs)
    tol = TOLERANCE[dtype_name]
    assert tuple(out.shape) == tuple(expected.shape) and out.dtype.name == dtype_name and out.device.type == device
    np.testing.assert_allclose(_host(out), _host(expected), **tol)
    if theirs == "vander":  # PyTorch's vander cannot backward (its cumprod output is written in place)
        return
    weights = RNG.standard_normal(tuple(expected.shape)).astype(dtype_name)
    (out * tinytorch.tensor(weights, device=device)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    for a, b in zip(mine, reference):
        expected_grad = np.zeros(tuple(b.shape), dtype_name) if b.grad is None else _host(b.grad)
        assert a.grad is not None and a.grad.device.type == device
        np.testing.assert_allclose(_host(a.grad), expected_grad, atol=tol["atol"] * 10, rtol=tol["rtol"] * 10)


GRADCHECK_CASES = [c for c in CASES if c[0] not in ("vander_one", "vander_none")]  # constant results


@pytest.mark.parametrize("name, ours, theirs, shapes, kwargs", GRADCHECK_CASES, ids=[c[0] for c in GRADCHECK_CASES])
def test_gradcheck(name, ours, theirs, shapes, kwargs):
    inputs = tuple(tinytorch.tensor(RNG.uniform(-2, 2, size=s), requires_grad=True) for s in shapes)
    assert gradcheck(lambda *xs: ours(*xs, **kwargs), inputs)
    assert gradgradcheck(lambda *xs: ours(*xs, **kwargs), inputs)


@pytest.mark.parametrize("shapes, N", [([(2, 3)], None), ([(3,)], 5), ([()], 3), ([(2, 2, 4)], 2)])
def test_linalg_vander_matches_torch(shapes, N, device):
    torch = pytest.importorskip("torch")
    for dtype_name in ("float32", "float64"):
        x = RNG.uniform(-2, 2, size=shapes[0]).astype(dtype_name)
        ours = tinytorch.tensor(x, device=device, requires_grad=True)
        theirs = torch.tensor(x, requires_grad=True)
        out, expected = tinytorch.linalg.vander(ours, N=N), torch.linalg.vander(theirs, N=N)
        np.testing.assert_allclose(_host(out), _host(expected), **TOLERANCE[dtype_name])
        out.sum().backward()
        expected.sum().backward()
        np.testing.assert_allclose(_host(ours.grad), _host(theirs.grad), **TOLERANCE[dtype_name])
    x = tinytorch.tensor(RNG.uniform(-2, 2, size=(2, 3)), requires_grad=True)
    assert gradcheck(lambda x: tinytorch.linalg.vander(x, N=4), (x,))
    assert gradgradcheck(lambda x: tinytorch.linalg.vander(x, N=4), (x,))


def test_vander_gradient_at_zero():
    """Products only: exact at x = 0 (x^k's derivative k x^(k-1) is 1 for k = 1 and 0 beyond) to
    every order; the constant columns of N <= 1 need no gradient."""
    x = tinytorch.tensor([0.0, 1.5, -1.0], requires_grad=True)
    tinytorch.vander(x, N=4).sum().backward()
    np.testing.assert_allclose(_host(x.grad), [1.0, 1 + 2 * 1.5 + 3 * 1.5**2, 1 - 2 + 3])
    zero = tinytorch.tensor([0.0, 0.5, -1.0], dtype=tinytorch.float64, requires_grad=True)
    assert gradgradcheck(lambda x: tinytorch.vander(x, N=7, increasing=True), (zero,))
    assert gradgradcheck(lambda x: tinytorch.linalg.vander(x, N=5), (zero,))
    assert not tinytorch.vander(x, N=1).requires_grad and not tinytorch.vander(x, N=0).requires_grad


@pytest.mark.parametrize("shapes", [
    [(2, 3), (3, 4), (4, 5)], [(3,), (3, 4), (4,)], [(3,), (3,)], [(2, 3), (3,)], [(3,), (3, 4)],
    [(10, 2), (2, 30), (30, 3), (3, 40), (40, 1)], [(1, 5), (5, 5), (5, 5), (5, 1)], [(2, 0), (0, 3)],
])
def test_multi_dot_and_chain_matmul_match_torch(shapes, device):
    torch = pytest.importorskip("torch")
    arrays = [RNG.uniform(-1, 1, size=s) for s in shapes]
    ours = [tinytorch.tensor(a, device=device, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, expected = tinytorch.linalg.multi_dot(ours), torch.linalg.multi_dot(theirs)
    np.testing.assert_allclose(_host(out), _host(expected), rtol=1e-10, atol=1e-12)
    out.sum().backward()
    expected.sum().backward()
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(_host(a.grad), _host(b.grad), rtol=1e-10, atol=1e-12)
    assert gradgradcheck(lambda *xs: tinytorch.linalg.multi_dot(xs), tuple(tinytorch.tensor(a, requires_grad=True) for a in arrays))
    if all(len(s) == 2 for s in shapes):
        with pytest.warns(UserWarning, match="torch.chain_matmul is deprecated"):
            chained = tinytorch.chain_matmul(*[tinytorch.tensor(a, device=device) for a in arrays])
        np.testing.assert_allclose(_host(chained), _host(expected), rtol=1e-10, atol=1e-12)


def test_multi_dot_picks_the_cheapest_order():
    """(10x2)(2x30)(30x3)(3x40)(40x1): the cheapest order multiplies from the right."""
    split = P._chain_order([10, 2, 30, 3, 40, 1])
    assert split[0][4] == 0  # A (B C D E)
    assert P._chain_order([10, 100, 5, 50])[0][2] == 1  # (A B) C: 7500 multiplications against 75000


def test_alpha_beta_semantics_match_torch():
    torch = pytest.importorskip("torch")
    nan = np.array([np.nan, 1.0], dtype=np.float32)
    for call in (
        lambda L, f: f(L.tensor(nan), L.ones(2, 3), L.ones(3), beta=0),
        lambda L, f: f(L.tensor(nan).reshape(2, 1), L.ones(2), L.ones(3), beta=0),
        lambda L, f: f(L.tensor(nan).reshape(2, 1), L.ones(4, 2, 3), L.ones(4, 3, 1), beta=0),
    ):
        for name in ("addmv", "addr", "addbmm"):
            try:
                out = call(tinytorch, getattr(P, name))
            except (RuntimeError, IndexError):
                continue  # the shapes of another of the three
            expected = call(torch, getattr(torch, name))
            assert not np.isnan(_host(out)).any()
            np.testing.assert_allclose(_host(out), _host(expected))
    grads = tinytorch.tensor(nan, requires_grad=True)
    tinytorch.addmv(grads, tinytorch.ones(2, 3), tinytorch.ones(3), beta=0).sum().backward()
    np.testing.assert_array_equal(_host(grads.grad), [0.0, 0.0])  # zeros, as PyTorch's
    ints = dict(dtype=np.int64)
    for fn in ("addmv", "addbmm"):
        shapes = {"addmv": [(2,), (2, 3), (3,)], "addbmm": [(2, 2), (2, 2, 3), (2, 3, 2)]}[fn]
        arrays = [RNG.integers(-3, 4, size=s, **ints) for s in shapes]
        out = getattr(P, fn)(*(tinytorch.tensor(a) for a in arrays), alpha=1.5, beta=2.7)
        expected = getattr(torch, fn)(*(torch.tensor(a) for a in arrays), alpha=1.5, beta=2.7)
        assert out.dtype == tinytorch.int64
        np.testing.assert_array_equal(_host(out), _host(expected))  # alpha and beta truncated to ints
    bools = [np.array([[True, False], [False, False]]), np.array([True, False]), np.array([False, True])]
    for kwargs in (dict(), dict(beta=0), dict(alpha=0), dict(alpha=2, beta=False)):
        out = tinytorch.addr(*(tinytorch.tensor(b) for b in bools), **kwargs)
        expected = torch.addr(*(torch.tensor(b) for b in bools), **kwargs)
        assert out.dtype == tinytorch.bool
        np.testing.assert_array_equal(_host(out), _host(expected))
    mixed = tinytorch.addr(tinytorch.ones(2, 2), tinytorch.ones(2, dtype=tinytorch.float64), tinytorch.ones(2, dtype=tinytorch.int64))
    assert mixed.dtype == torch_dtype_name(torch.addr(torch.ones(2, 2), torch.ones(2, dtype=torch.float64), torch.ones(2, dtype=torch.int64)))


def torch_dtype_name(tensor):
    return getattr(tinytorch, str(tensor.dtype).replace("torch.", ""))


def test_integer_products_match_torch():
    torch = pytest.importorskip("torch")
    for name, shapes in (("mv", [(2, 3), (3,)]), ("inner", [(2, 3), (4, 3)]), ("vdot", [(3,), (3,)]), ("ger", [(3,), (2,)]),
                         ("tensordot", [(2, 3), (3, 2)])):
        arrays = [RNG.integers(-3, 4, size=s) for s in shapes]
        kwargs = {"dims": 1} if name == "tensordot" else {}
        out = getattr(tinytorch, name)(*(tinytorch.tensor(a) for a in arrays), **kwargs)
        expected = getattr(torch, name)(*(torch.tensor(a) for a in arrays), **kwargs)
        assert out.dtype == tinytorch.int64
        np.testing.assert_array_equal(_host(out), _host(expected))
    for dtype in ("int32", "bool", "int64"):
        x = np.array([1, 0, 2]).astype(dtype)
        out, expected = tinytorch.vander(tinytorch.tensor(x)), torch.vander(torch.tensor(x))
        assert out.dtype == tinytorch.int64
        np.testing.assert_array_equal(_host(out), _host(expected))
    out = tinytorch.linalg.vander(tinytorch.tensor([1, 2, 3], dtype=tinytorch.int32))
    np.testing.assert_array_equal(_host(out), _host(torch.linalg.vander(torch.tensor([1, 2, 3], dtype=torch.int32))))
    assert out.dtype == tinytorch.int64
    for tensors in ([np.ones((2, 2), np.float32), np.ones(2, np.int64)], [np.ones(2, np.int32), np.ones(2, np.int16)],
                    [np.ones(2, bool)], [np.ones(2, bool), np.ones(1, np.int8)]):
        out = tinytorch.block_diag(*(tinytorch.tensor(t) for t in tensors))
        expected = torch.block_diag(*(torch.tensor(t) for t in tensors))
        assert out.dtype == torch_dtype_name(expected)
        np.testing.assert_array_equal(_host(out), _host(expected))
    assert tinytorch.block_diag().shape == (1, 0) and tinytorch.block_diag().dtype == tinytorch.float32


def test_inplace_forms_and_out_match_torch():
    torch = pytest.importorskip("torch")
    arrays = {"vec": RNG.uniform(-1, 1, 3), "mat": RNG.uniform(-1, 1, (3, 4)), "v4": RNG.uniform(-1, 1, 4),
              "b1": RNG.uniform(-1, 1, (2, 3, 5)), "b2": RNG.uniform(-1, 1, (2, 5, 4))}

    def run(lib, addmv, addr, addbmm):
        t = {k: lib.tensor(v) for k, v in arrays.items()}
        a, b, c = t["vec"].clone(), t["mat"].clone(), t["mat"].clone()
        addmv(a, t["mat"], t["v4"], beta=0.5, alpha=2)
        addr(b, t["vec"], t["v4"], alpha=3)
        addbmm(c, t["b1"], t["b2"], beta=0)
        return a, b, c

    in_place = (lambda s, *a, **k: s.addmv_(*a, **k), lambda s, *a, **k: s.addr_(*a, **k), lambda s, *a, **k: s.addbmm_(*a, **k))
    ours, theirs = run(tinytorch, *in_place), run(torch, *in_place)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(_host(a), _host(b), rtol=1e-12)
    out = tinytorch.empty(3)
    assert tinytorch.mv(tinytorch.tensor(arrays["mat"]), tinytorch.tensor(arrays["v4"]), out=out.double()) is not None
    target = tinytorch.zeros(3, dtype=tinytorch.float64)
    result = tinytorch.addmv(tinytorch.tensor(arrays["vec"]), tinytorch.tensor(arrays["mat"]), tinytorch.tensor(arrays["v4"]), out=target)
    assert result is target
    np.testing.assert_allclose(_host(target), _host(torch.addmv(*(torch.tensor(arrays[k]) for k in ("vec", "mat", "v4")))))
    for name, args in (("tensordot", ("b1", "b2")), ("inner", ("vec", "vec")), ("vdot", ("vec", "vec")), ("ger", ("vec", "v4"))):
        target = tinytorch.empty(0, dtype=tinytorch.float64)
        kwargs = {"dims": 0} if name == "tensordot" else {}
        getattr(tinytorch, name)(*(tinytorch.tensor(arrays[k]) for k in args), out=target, **kwargs)
        np.testing.assert_allclose(_host(target), _host(getattr(torch, name)(*(torch.tensor(arrays[k]) for k in args), **kwargs)))
    target = tinytorch.empty(0, dtype=tinytorch.float64)
    tinytorch.linalg.multi_dot([tinytorch.tensor(arrays["mat"]), tinytorch.tensor(arrays["v4"])], out=target)
    np.testing.assert_allclose(_host(target), arrays["mat"] @ arrays["v4"])
    with pytest.raises(RuntimeError, match="Bad in-place call|doesn't match the broadcast shape"):
        tinytorch.ones(1).addmv_(tinytorch.ones(2, 3), tinytorch.ones(3))


ERRORS = [
    ("mv", [(3,), (3,)]), ("mv", [(2, 3), (3, 1)]), ("mv", [(2, 2, 3), (3,)]), ("mv", [(2, 3), (4,)]), ("mv", [(2, 3), "d(3,)"]),
    ("mv", ["d(2, 3)", (3,)]), ("mv", [(2, 3), "d(4,)"]), ("mv", ["b(2, 3)", "b(3,)"]),
    ("inner", [(2, 3), (4, 2)]), ("inner", [(2, 3), "d(4, 3)"]), ("inner", ["l(3,)", (3,)]),
    ("vdot", [(3, 1), (3,)]), ("vdot", [(3,), (4,)]), ("vdot", [(3,), "d(3,)"]), ("vdot", ["b(3,)", "b(3,)"]),
    ("ger", [(3, 1), (2,)]), ("ger", [(3,), (2, 1)]), ("outer", [(3, 1), (2,)]), ("outer", [(3,), (2, 1)]), ("outer", [(), (2,)]),
    ("addmv", [(3,), (2, 3), (3,)]), ("addmv", [(1, 2), (2, 3), (3,)]), ("addmv", [(2,), (3,), (3,)]), ("addmv", [(2,), (2, 3), (3, 1)]),
    ("addmv", [(2,), (2, 3), (4,)]), ("addmv", ["d(2,)", (2, 3), (3,)]), ("addmv", [(2,), "d(2, 3)", (3,)]), ("addmv", [(), (2, 3), (4,)]),
    ("addr", [(3,), (3,), (2,)]), ("addr", [(3, 2), (3, 1), (2,)]), ("addr", [(3, 2), (3,), (2, 1)]),
    ("addbmm", [(3, 4), (5, 2, 3), (5, 3, 4)]), ("addbmm", [(2, 4), (2, 3), (5, 3, 4)]), ("addbmm", [(2, 4), (5, 2, 3), (3, 4)]),
    ("addbmm", [(2, 4), (5, 2, 3), (4, 3, 4)]), ("addbmm", [(2, 4), (5, 2, 3), (5, 2, 4)]), ("addbmm", [(2, 4), "d(5, 2, 3)", (5, 3, 4)]),
    ("addbmm", ["d(2, 4)", (5, 2, 3), (5, 3, 4)]), ("addbmm", [(1, 2, 4), (5, 2, 3), (5, 3, 4)]),
    ("block_diag", [(2, 2, 2)]), ("block_diag", [(2,), (1, 2, 1)]),
    ("vander", [(3, 2)]), ("vander", [()]),
]


def _make(lib, spec):
    if isinstance(spec, str):
        dtype = {"d": lib.float64, "b": lib.bool, "l": lib.int64}[spec[0]]
        return lib.ones(eval(spec[1:]), dtype=dtype)  # noqa: S307 - a shape literal from the table above
    return lib.ones(spec)


@pytest.mark.parametrize("name, specs", ERRORS, ids=[f"{n}-{s}" for n, s in ERRORS])
def test_errors_match_torch(name, specs):
    torch = pytest.importorskip("torch")
    _same_error(lambda: getattr(tinytorch, name)(*(_make(tinytorch, s) for s in specs)), lambda: getattr(torch, name)(*(_make(torch, s) for s in specs)))


@pytest.mark.parametrize("kwargs", [
    dict(dims=-1), dict(dims=3), dict(dims=2.0), dict(dims=([1, 2], [0])), dict(dims=[1, 1]), dict(dims=([5], [0])),
    dict(dims=([1, 1], [0, 1])), dict(dims=2, other="d"), dict(dims=2, other=(3, 5, 5)),
])
def test_tensordot_errors_match_torch(kwargs):
    torch = pytest.importorskip("torch")
    kwargs = dict(kwargs)
    other = kwargs.pop("other", (3, 3, 5))

    def call(lib):
        b = lib.ones(3, 3, 5, dtype=lib.float64) if other == "d" else lib.ones(other)
        return lambda: (tinytorch.tensordot if lib is tinytorch else torch.tensordot)(lib.ones(2, 3, 3), b, **kwargs)

    _same_error(call(tinytorch), call(torch))


def test_tensor_dims_match_torch():
    torch = pytest.importorskip("torch")
    a, b = RNG.uniform(-1, 1, (2, 3, 4)), RNG.uniform(-1, 1, (4, 3, 5))
    for ours_dims, torch_dims in ((tinytorch.tensor([[1, 2], [1, 0]]), torch.tensor([[1, 2], [1, 0]])), (tinytorch.tensor(1), torch.tensor(1))):
        out = tinytorch.tensordot(tinytorch.tensor(a), tinytorch.tensor(b if ours_dims.numel() > 1 else b.transpose(0, 2, 1).reshape(4, 15)), dims=ours_dims)
        expected = torch.tensordot(torch.tensor(a), torch.tensor(b if torch_dims.numel() > 1 else b.transpose(0, 2, 1).reshape(4, 15)), dims=torch_dims)
        np.testing.assert_allclose(_host(out), _host(expected), rtol=1e-12)
    _same_error(lambda: tinytorch.tensordot(tinytorch.ones(2, 3), tinytorch.ones(3, 2), dims=tinytorch.tensor(-1)),
                lambda: torch.tensordot(torch.ones(2, 3), torch.ones(3, 2), dims=torch.tensor(-1)))


@pytest.mark.parametrize("call", [
    lambda L, md: md([]), lambda L, md: md([L.ones(3, 3)]), lambda L, md: md([L.ones(2, 3, 3), L.ones(3, 3)]),
    lambda L, md: md([L.ones(3, 3), L.ones(3, 3, 3)]), lambda L, md: md([L.ones(3, 3), L.ones(3), L.ones(3, 3)]),
    lambda L, md: md([L.ones(2, 3), L.ones(4, 5)]), lambda L, md: md([L.ones(2), L.ones(4, 5)]),
    lambda L, md: md([L.ones(2, 3), L.ones(3, 4, dtype=L.float64)]), lambda L, md: md([L.ones(()), L.ones(3)]),
])
def test_multi_dot_errors_match_torch(call):
    torch = pytest.importorskip("torch")
    _same_error(lambda: call(tinytorch, tinytorch.linalg.multi_dot), lambda: call(torch, torch.linalg.multi_dot))


@pytest.mark.parametrize("call", [
    lambda L, f: f(), lambda L, f: f(L.ones(3), L.ones(3, 4)), lambda L, f: f(L.ones(3)), lambda L, f: f(L.ones(2, 3), L.ones(4, 5)),
])
def test_chain_matmul_errors_match_torch(call):
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _same_error(lambda: call(tinytorch, tinytorch.chain_matmul), lambda: call(torch, torch.chain_matmul))
    with pytest.warns(UserWarning, match="deprecated"):
        single = tinytorch.ones(2, 3)
        copy = tinytorch.chain_matmul(single)
    assert copy is not single and np.array_equal(_host(copy), _host(single))


@pytest.mark.parametrize("call", [
    lambda L, f: f(L.ones(3), N=-1), lambda L, f, lin=True: f(L.ones(3), N=1), lambda L, f, lin=True: f(L.ones(1)),
    lambda L, f, lin=True: f(L.ones(3, dtype=L.bool)), lambda L, f, lin=True: f(L.ones(3, dtype=L.float16)),
])
def test_vander_errors_match_torch(call):
    torch = pytest.importorskip("torch")
    linalg = "lin" in call.__code__.co_varnames
    ours = tinytorch.linalg.vander if linalg else tinytorch.vander
    theirs = torch.linalg.vander if linalg else torch.vander
    _same_error(lambda: call(tinytorch, ours), lambda: call(torch, theirs))


def test_integer_addr_refuses_float_scalars_like_torch():
    torch = pytest.importorskip("torch")
    for kwargs in (dict(alpha=0.5), dict(beta=1.5)):
        for dtype in ("int64", "bool"):
            def call(lib, fn, dtype=dtype, kwargs=kwargs):
                return lambda: fn(*(lib.ones(s, dtype=getattr(lib, dtype)) for s in ((2, 2), 2, 2)), **kwargs)
            _same_error(call(tinytorch, tinytorch.addr), call(torch, torch.addr))


@pytest.mark.parametrize("name", ["outer", "ger"])
def test_outer_and_ger_refuse_numbers_as_torch(name):
    torch = pytest.importorskip("torch")
    _same_error(lambda: getattr(tinytorch, name)(tinytorch.ones(3), 2.0), lambda: getattr(torch, name)(torch.ones(3), 2.0))
    _same_error(lambda: getattr(tinytorch, name)([1.0], tinytorch.ones(3)), lambda: getattr(torch, name)([1.0], torch.ones(3)))


_ARGUMENTS = {
    "addr": ((2, 2), (2,), (2,)), "addmv": ((2,), (2, 3), (3,)), "addbmm": ((2, 4), (5, 2, 3), (5, 3, 4)), "mv": ((2, 3), (3,)),
    "inner": ((3,), (3,)), "vdot": ((3,), (3,)), "tensordot": ((3,), (3,)), "block_diag": ((3,), (3,)),
    "chain_matmul": ((3, 3), (3, 3)), "vander": ((3,),), "outer": ((3,), (2,)), "ger": ((3,), (2,)),
}


@pytest.mark.filterwarnings("ignore:torch.chain_matmul is deprecated")
@pytest.mark.parametrize("name, position", [(name, k) for name, shapes in _ARGUMENTS.items() for k in range(len(shapes))])
def test_a_list_for_a_tensor_is_torchs_type_error(name, position):
    torch = pytest.importorskip("torch")

    def call(lib):
        args = [lib.ones(*shape) for shape in _ARGUMENTS[name]]
        args[position] = [1.0]
        return getattr(lib, name)(*args)

    _same_error(lambda: call(tinytorch), lambda: call(torch))
