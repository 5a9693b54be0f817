"""``out=`` on ops and factories, NumPy's ``axis=``/``keepdims=``, ``size=`` and the
``randint(high, size)`` forms, against PyTorch."""

import warnings

import numpy as np
import pytest

import tinytorch

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
A, B = RNG.uniform(0.5, 2.0, (3, 4)), RNG.uniform(0.5, 2.0, (3, 4))
M, N = RNG.standard_normal((3, 4)), RNG.standard_normal((4, 2))

# name -> (call, inputs): call(lib, *tensors, out=...) with the inputs as float32 tensors
OPS = {
    "add": (lambda lib, a, b, **k: lib.add(a, b, alpha=2, **k), (A, B)),
    "sub": (lambda lib, a, b, **k: lib.sub(a, b, **k), (A, B)),
    "mul": (lambda lib, a, b, **k: lib.mul(a, b, **k), (A, B)),
    "div": (lambda lib, a, b, **k: lib.div(a, b, **k), (A, B)),
    "div_floor": (lambda lib, a, b, **k: lib.div(a, b, rounding_mode="floor", **k), (A * 3, B)),
    "pow": (lambda lib, a, b, **k: lib.pow(a, b, **k), (A, B)),
    "remainder": (lambda lib, a, b, **k: lib.remainder(a, b, **k), (A * 3, B)),
    "maximum": (lambda lib, a, b, **k: lib.maximum(a, b, **k), (A, B)),
    "minimum": (lambda lib, a, b, **k: lib.minimum(a, b, **k), (A, B)),
    "addcmul": (lambda lib, a, b, **k: lib.addcmul(a, b, b, value=0.5, **k), (A, B)),
    "lerp": (lambda lib, a, b, **k: lib.lerp(a, b, 0.25, **k), (A, B)),
    "exp": (lambda lib, a, **k: lib.exp(a, **k), (A,)),
    "log": (lambda lib, a, **k: lib.log(a, **k), (A,)),
    "sqrt": (lambda lib, a, **k: lib.sqrt(a, **k), (A,)),
    "tanh": (lambda lib, a, **k: lib.tanh(a, **k), (A,)),
    "sigmoid": (lambda lib, a, **k: lib.sigmoid(a, **k), (A,)),
    "neg": (lambda lib, a, **k: lib.neg(a, **k), (A,)),
    "abs": (lambda lib, a, **k: lib.abs(a, **k), (M,)),
    "clamp": (lambda lib, a, **k: lib.clamp(a, -0.5, 0.5, **k), (M,)),
    "round": (lambda lib, a, **k: lib.round(a, **k), (M * 3,)),
    "matmul": (lambda lib, a, b, **k: lib.matmul(a, b, **k), (M, N)),
    "mm": (lambda lib, a, b, **k: lib.mm(a, b, **k), (M, N)),
    "bmm": (lambda lib, a, b, **k: lib.bmm(a[None], b[None], **k), (M, N)),
    "addmm": (lambda lib, a, b, **k: lib.addmm(lib.ones(3, 2), a, b, beta=0.5, **k), (M, N)),
    "dot": (lambda lib, a, **k: lib.dot(a[0], a[1], **k), (M,)),
    "outer": (lambda lib, a, **k: lib.outer(a[0], a[1], **k), (M,)),
    "sum": (lambda lib, a, **k: lib.sum(a, 1, **k), (M,)),
    "mean": (lambda lib, a, **k: lib.mean(a, 0, keepdim=True, **k), (M,)),
    "prod": (lambda lib, a, **k: lib.prod(a, 1, **k), (A,)),
    "cumsum": (lambda lib, a, **k: lib.cumsum(a, 1, **k), (M,)),
    "amax": (lambda lib, a, **k: lib.amax(a, 0, **k), (M,)),
    "logsumexp": (lambda lib, a, **k: lib.logsumexp(a, 1, **k), (M,)),
    "std": (lambda lib, a, **k: lib.std(a, 1, **k), (M,)),
    "cat": (lambda lib, a, b, **k: lib.cat([a, b], 1, **k), (A, B)),
    "stack": (lambda lib, a, b, **k: lib.stack([a, b], **k), (A, B)),
    "diag": (lambda lib, a, **k: lib.diag(a, 1, **k), (M,)),
    "eq": (lambda lib, a, b, **k: lib.eq(a, b, **k), (A, A * (B > 1))),
    "gt": (lambda lib, a, b, **k: lib.gt(a, b, **k), (A, B)),
    "logical_and": (lambda lib, a, b, **k: lib.logical_and(a > 1, b > 1, **k), (A, B)),
}


def _inputs(lib, arrays, requires_grad=False):
    return [lib.tensor(a, dtype=lib.float32, requires_grad=requires_grad) for a in arrays]


@pytest.mark.parametrize("name", sorted(OPS))
def test_out_gets_the_result_and_is_returned(name):
    call, arrays = OPS[name]
    expected = call(torch, *_inputs(torch, arrays))
    ours_out, theirs_out = tinytorch.empty(expected.shape, dtype=getattr(tinytorch, str(expected.dtype)[6:])), torch.empty_like(expected)
    result = call(tinytorch, *_inputs(tinytorch, arrays), out=ours_out)
    assert result is ours_out
    assert call(torch, *_inputs(torch, arrays), out=theirs_out) is theirs_out
    np.testing.assert_allclose(ours_out.numpy(), theirs_out.numpy(), rtol=1e-5, atol=1e-6)
    assert ours_out._version_number > 0  # in-place writes bump the version counter


@pytest.mark.parametrize("name", ["add", "matmul", "sum", "exp"])
def test_out_of_another_shape_is_resized_with_pytorchs_warning(name):
    call, arrays = OPS[name]
    for lib in (tinytorch, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = lib.empty(0)
            call(lib, *_inputs(lib, arrays), out=out)
            assert not [w for w in caught if "resized" in str(w.message)]  # an empty out resizes silently
            out = lib.empty(7)
            call(lib, *_inputs(lib, arrays), out=out)
        messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
        assert any("An output with one or more elements was resized since it had shape [7]" in m for m in messages), lib
        assert tuple(out.shape) == tuple(call(lib, *_inputs(lib, arrays)).shape)


def test_out_casts_as_pytorch_and_refuses_what_pytorch_refuses():
    for lib in (tinytorch, torch):
        out = lib.empty(3, dtype=lib.float64)
        lib.add(lib.tensor([1, 2, 3]), 1, out=out)  # int result into a float out: fine
        assert out.tolist() == [2.0, 3.0, 4.0] and out.dtype == lib.float64
        with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
            lib.add(lib.ones(2), 1.5, out=lib.empty(2, dtype=lib.int64))
        with pytest.raises(RuntimeError, match="result type Long can't be cast to the desired output type Bool"):
            lib.add(lib.tensor([1]), 1, out=lib.empty(1, dtype=lib.bool))


BOOL_RESULTS = ("eq", "gt", "logical_and")


@pytest.mark.parametrize("name", sorted(set(OPS) - set(BOOL_RESULTS) - {"diag"}))
def test_out_refuses_autograd_as_pytorch(name):
    # (PyTorch 2.13's diag(out=) alone drops the graph silently; tinytorch refuses it as the rest.)
    call, arrays = OPS[name]
    for lib in (tinytorch, torch):
        inputs = _inputs(lib, arrays, requires_grad=True)
        out = lib.empty(0)
        with pytest.raises(RuntimeError, match=r"\(\): functions with out=\.\.\. arguments don't support automatic differentiation"):
            call(lib, *inputs, out=out)
        with lib.no_grad():
            call(lib, *inputs, out=out)  # outside grad mode it is allowed


@pytest.mark.parametrize("name", BOOL_RESULTS)
def test_out_takes_results_without_gradients_from_inputs_that_require_grad(name):
    call, arrays = OPS[name]
    for lib in (tinytorch, torch):
        out = lib.empty(0, dtype=lib.bool)
        assert call(lib, *_inputs(lib, arrays, requires_grad=True), out=out) is out
        assert not out.requires_grad
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        tinytorch.diag(tinytorch.ones(2, requires_grad=True), out=tinytorch.empty(0))


def test_out_into_a_leaf_that_requires_grad_is_refused():
    for lib in (tinytorch, torch):
        with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
            lib.add(lib.ones(2), 1, out=lib.zeros(2, requires_grad=True))


def test_out_must_be_a_tensor():
    with pytest.raises(TypeError, match="argument 'out' must be Tensor"):
        tinytorch.add(tinytorch.ones(2), 1, out=[0.0, 0.0])


FACTORIES = {
    "zeros": lambda lib, **k: lib.zeros(2, 3, **k),
    "ones": lambda lib, **k: lib.ones((2, 3), **k),
    "full": lambda lib, **k: lib.full((2,), 7, **k),
    "arange": lambda lib, **k: lib.arange(1, 7, 2, **k),
    "linspace": lambda lib, **k: lib.linspace(0, 1, 5, **k),
    "eye": lambda lib, **k: lib.eye(3, 2, **k),
}


@pytest.mark.parametrize("name", sorted(FACTORIES))
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_factories_fill_out_in_its_dtype(name, dtype):
    make = FACTORIES[name]
    ours_out, theirs_out = tinytorch.empty(0, dtype=getattr(tinytorch, dtype)), torch.empty(0, dtype=getattr(torch, dtype))
    assert make(tinytorch, out=ours_out) is ours_out
    make(torch, out=theirs_out)
    assert ours_out.dtype == getattr(tinytorch, dtype) and tuple(ours_out.shape) == tuple(theirs_out.shape)
    np.testing.assert_allclose(ours_out.numpy(), theirs_out.numpy(), rtol=1e-6)


def test_random_factories_fill_out():
    for make in (lambda lib, o: lib.rand(3, 2, out=o), lambda lib, o: lib.randn(3, 2, out=o)):
        out = tinytorch.empty(0)
        assert make(tinytorch, out) is out and tuple(out.shape) == (3, 2)
    out = tinytorch.empty(0, dtype=tinytorch.int32)
    tinytorch.randint(2, 5, (100,), out=out)
    assert out.dtype == tinytorch.int32 and 2 <= out.min().item() and out.max().item() < 5
    out = tinytorch.empty(0, dtype=tinytorch.int64)
    assert sorted(tinytorch.randperm(6, out=out).tolist()) == list(range(6))
    for lib in (tinytorch, torch):
        with pytest.raises(NotImplementedError, match="\"normal_kernel_cpu\" not implemented for 'Long'"):
            lib.randn(3, out=lib.empty(3, dtype=lib.int64))


def test_a_factory_dtype_must_match_out():
    for lib in (tinytorch, torch):
        with pytest.raises(RuntimeError, match=r"dtype Double does not match dtype of out parameter \(Float\)"):
            lib.zeros(3, out=lib.empty(3), dtype=lib.float64)


@pytest.mark.parametrize("name", ["zeros", "ones", "empty", "rand", "randn"])
def test_size_keyword(name):
    for size in [(2, 3), [4], (), tinytorch.Size([1, 2])]:
        assert tuple(getattr(tinytorch, name)(size=size).shape) == tuple(getattr(torch, name)(size=tuple(size)).shape)
    with pytest.raises(TypeError):
        getattr(torch, name)(2, size=(2,))
    with pytest.raises(TypeError, match="got multiple values for argument 'size'"):
        getattr(tinytorch, name)(2, size=(2,))


def test_randint_forms_match_pytorchs():
    for args, kwargs in [((5, (3,)), {}), ((5,), {"size": (3,)}), ((), {"high": 5, "size": (3,)}), ((2, 5, (3,)), {}),
                         ((2, 5), {"size": (4, 2)}), ((), {"low": 2, "high": 5, "size": (3,)})]:
        ours, theirs = tinytorch.randint(*args, **kwargs), torch.randint(*args, **kwargs)
        assert tuple(ours.shape) == tuple(theirs.shape) and ours.dtype == tinytorch.int64
        low = kwargs.get("low", args[0] if len(args) == 3 or (len(args) == 2 and "size" in kwargs) else 0)
        high = kwargs.get("high", args[1] if len(args) == 3 or (len(args) == 2 and "size" in kwargs) else args[0] if args else None)
        assert low <= ours.min().item() and ours.max().item() < high
    for lib in (tinytorch, torch):
        with pytest.raises(TypeError):
            lib.randint(5)


@pytest.mark.parametrize("name, call", [
    ("sum", lambda x, **k: x.sum(**k)), ("mean", lambda x, **k: x.mean(**k)), ("prod", lambda x, **k: x.prod(**k)),
    ("std", lambda x, **k: x.std(**k)), ("var", lambda x, **k: x.var(**k)), ("amax", lambda x, **k: x.amax(**k)),
    ("amin", lambda x, **k: x.amin(**k)), ("argmax", lambda x, **k: x.argmax(**k)), ("argmin", lambda x, **k: x.argmin(**k)),
    ("logsumexp", lambda x, **k: x.logsumexp(**k)), ("all", lambda x, **k: (x > 0).all(**k)),
    ("any", lambda x, **k: (x > 0).any(**k)), ("max", lambda x, **k: x.max(**k)[0]), ("min", lambda x, **k: x.min(**k)[1]),
])
def test_numpy_argument_names_on_reductions(name, call):
    method = lambda lib, x, **k: call(x, **k)  # noqa: E731
    function = lambda lib, x, **k: getattr(lib, name)(x if name not in ("all", "any") else x > 0, **k)  # noqa: E731
    for lib_call in (method, function):
        for kwargs in [{"axis": 1, "keepdims": True}, {"axis": 0}, {"dim": 0, "keepdims": True}]:
            ours = lib_call(tinytorch, tinytorch.tensor(M), **kwargs)
            theirs = lib_call(torch, torch.tensor(M), **kwargs)
            if isinstance(theirs, tuple):
                ours, theirs = ours[0], theirs[0]
            np.testing.assert_allclose(np.asarray(ours.numpy(), dtype=float), np.asarray(theirs.numpy(), dtype=float), rtol=1e-5)


@pytest.mark.parametrize("call", [
    lambda lib, x: lib.cat([x, x], axis=1), lambda lib, x: lib.stack([x, x], axis=1), lambda lib, x: x.softmax(axis=0),
    lambda lib, x: x.log_softmax(axis=1), lambda lib, x: x.cumsum(axis=1), lambda lib, x: x.unsqueeze(axis=0),
    lambda lib, x: x[:1].squeeze(axis=0), lambda lib, x: x.sort(axis=0)[0], lambda lib, x: x.topk(2, axis=1)[1],
    lambda lib, x: x.count_nonzero(axis=0), lambda lib, x: lib.var_mean(x, axis=1, keepdims=True)[1],
])
def test_numpy_argument_names_elsewhere(call):
    np.testing.assert_allclose(call(tinytorch, tinytorch.tensor(M)).numpy(), call(torch, torch.tensor(M)).numpy(), rtol=1e-5)


def test_a_name_given_twice_is_refused():
    with pytest.raises(TypeError, match="multiple values for argument 'dim'"):
        tinytorch.ones(2).sum(dim=0, axis=0)
