"""Every op-table entry, checked against float64 finite differences and against torch."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinytorch
from tinytorch.testing._gradients import analytical_gradients, check_gradients, float_outputs, output_weights

from .op_table import OPS

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _draw(data, op):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    return op.sample(data.draw, rng)


def _differentiable(op, args):
    return tuple(i for i in op.differentiable if i < len(args) and isinstance(args[i], np.ndarray))


def _tinytorch_fn(op):
    return lambda *a, **k: op.fn(tinytorch, *a, **k)


FD_OPS = [op for op in OPS if op.finite_differences]


@pytest.mark.parametrize("op", FD_OPS, ids=[op.name for op in FD_OPS])
@SETTINGS
@given(data=st.data())
def test_gradient_matches_finite_differences(op, data):
    args, kwargs = _draw(data, op)
    rng = np.random.default_rng(0)
    check_gradients(_tinytorch_fn(op), args, kwargs, _differentiable(op, args), rng, op.atol, op.rtol)


@pytest.mark.parametrize("op", [op for op in OPS if op.gradgrad], ids=[op.name for op in OPS if op.gradgrad])
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_second_derivative_matches_finite_differences(op, data):
    """create_graph=True: the gradient (a vector-Jacobian product) is itself differentiated."""
    args, kwargs = _draw(data, op)
    diff = _differentiable(op, args)
    fn = _tinytorch_fn(op)
    weights = output_weights(fn, args, kwargs, np.random.default_rng(1))

    def first_derivative(*inputs, **kw):
        inputs = list(inputs)
        outs = float_outputs(fn, inputs, kw)
        loss = sum((o * tinytorch.Tensor._make(w)).sum() for o, w in zip(outs, weights))
        if not isinstance(loss, tinytorch.Tensor) or not loss.requires_grad:
            return ()
        grads = tinytorch.autograd.grad(loss, [inputs[i] for i in diff], create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None and g.requires_grad)

    check_gradients(first_derivative, args, kwargs, diff, np.random.default_rng(2), 1e-4, 1e-3)


def _to_torch(torch, value, dtype, device):
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return torch.tensor(value, dtype=dtype, device=device, requires_grad=True)
    return value


def _to_tinytorch(value, dtype, device):
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return tinytorch.tensor(value.astype(dtype), device=device, requires_grad=True)
    return value


def _host(tensor):
    return tensor.detach().cpu().numpy()


@pytest.mark.parametrize("dtype_name", ["float64", "float32"])
@pytest.mark.parametrize("op", [op for op in OPS if op.torch], ids=[op.name for op in OPS if op.torch])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_matches_torch(op, dtype_name, data, device):
    """Forward values and input gradients match torch's; on cuda, torch runs on cuda too when it can."""
    torch = pytest.importorskip("torch")
    torch_device = "cuda" if device == "cuda" and torch.cuda.is_available() else "cpu"
    args, kwargs = _draw(data, op)
    tol = {"float64": (1e-10, 1e-7), "float32": (1e-4, 1e-4)}[dtype_name]
    numpy_dtype = np.dtype(dtype_name)
    cast = [a.astype(numpy_dtype) if isinstance(a, np.ndarray) and a.dtype == np.float64 else a for a in args]
    ours = [_to_tinytorch(a, numpy_dtype, device) for a in cast]
    theirs = [_to_torch(torch, a, getattr(torch, dtype_name), torch_device) for a in cast]
    out_ours = op.fn(tinytorch, *ours, **kwargs)
    out_theirs = op.fn(torch, *theirs, **kwargs)
    out_ours = out_ours if isinstance(out_ours, (tuple, list)) else (out_ours,)
    out_theirs = out_theirs if isinstance(out_theirs, (tuple, list)) else (out_theirs,)
    assert len(out_ours) == len(out_theirs)
    rng = np.random.default_rng(3)
    loss_ours = loss_theirs = 0
    for a, b in zip(out_ours, out_theirs):
        assert tuple(a.shape) == tuple(b.shape), f"{op.name}: shape {tuple(a.shape)} vs torch {tuple(b.shape)}"
        assert a.dtype.name == str(b.dtype).replace("torch.", ""), f"{op.name}: dtype {a.dtype} vs torch {b.dtype}"
        assert a.device.type == device, f"{op.name}: output on {a.device}, inputs on {device}"
        np.testing.assert_allclose(_host(a), _host(b), atol=tol[0], rtol=tol[1])
        if a.requires_grad:
            w = rng.standard_normal(tuple(a.shape)).astype(numpy_dtype)
            loss_ours = loss_ours + (a * tinytorch.tensor(w, device=device)).sum()
            loss_theirs = loss_theirs + (b * torch.tensor(w, device=torch_device)).sum()
    if isinstance(loss_ours, int):
        return
    loss_ours.backward()
    loss_theirs.backward()
    for i in _differentiable(op, args):
        expected = theirs[i].grad
        got = ours[i].grad
        if expected is None:
            assert got is None or not _host(got).any()
            continue
        assert got is not None, f"{op.name}: no gradient for input {i}; torch has one"
        assert got.device.type == device, f"{op.name}: gradient on {got.device}, input on {device}"
        np.testing.assert_allclose(_host(got), _host(expected), atol=tol[0] * 10, rtol=tol[1] * 10)


def _functions_in_graph(outputs):
    found, stack, seen = set(), [o.grad_fn for o in outputs if o.grad_fn is not None], set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if hasattr(node, "function"):
            found.add(node.function.__name__)
        stack.extend(n for n, _ in node.next_functions)
    return found


def test_every_primitive_is_covered_by_the_table():
    """Adding a Function without a table entry fails here: each primitive must be exercised,
    in a forward graph or in the graph of a gradient (create_graph=True)."""
    covered = set()
    for op in OPS:
        rng = np.random.default_rng(0)
        args, kwargs = _example(op)
        diff = _differentiable(op, args)
        fn = _tinytorch_fn(op)
        weights = output_weights(fn, args, kwargs, rng)
        grads, inputs, loss = analytical_gradients(fn, args, kwargs, diff, weights, create_graph=True)
        covered |= _functions_in_graph([loss] if loss is not None else [])
        covered |= _functions_in_graph([g for g in grads if g is not None])
    primitives = set(tinytorch._ops.primitives())
    missing = sorted(primitives - covered)
    assert not missing, f"primitives with no op-table entry: {missing}"


def _example(op):
    """One deterministic sample of an entry (hypothesis' minimal example)."""
    from hypothesis import find

    box = {}

    def keep(data):
        box["value"] = op.sample(data.draw, np.random.default_rng(0))
        return True

    find(st.data(), keep)
    return box["value"]
