"""tinytorch.autograd.forward_ad (dual tensors, tangents by the double-vjp trick): tangents against
closed forms and against torch.autograd.forward_ad (elementwise, matmul, reductions, softmax,
broadcasting, several dual inputs, an MLP w.r.t. its input and a weight), in-place ops, no_grad,
backward through make_dual/unpack_dual, the level's lifecycle, and the errors with PyTorch's
types and messages."""

import types

import numpy as np
import pytest

import tinytorch
import tinytorch.autograd.forward_ad as fwAD

RNG = np.random.default_rng(0)
X, T = RNG.uniform(0.5, 1.5, (2, 3)), RNG.standard_normal((2, 3))
Y, S = RNG.uniform(-1, 1, (3, 4)), RNG.standard_normal((3, 4))
B, U = RNG.uniform(-1, 1, (3,)), RNG.standard_normal((3,))


def _tangent_of(lib, fn, primals, tangents, device="cpu"):
    """(primal, tangent) of fn(*duals) as arrays, with one dual per (primal, tangent) pair."""
    forward_ad = lib.autograd.forward_ad
    with forward_ad.dual_level():
        duals = [
            forward_ad.make_dual(lib.tensor(p, dtype=lib.float64, device=device), lib.tensor(t, dtype=lib.float64, device=device))
            for p, t in zip(primals, tangents)
        ]
        primal, tangent = forward_ad.unpack_dual(fn(lib, *duals))
        return primal.detach().cpu().numpy(), None if tangent is None else tangent.detach().cpu().numpy()


def fwAD_of(lib):
    return lib.autograd.forward_ad


def _raised(call):
    try:
        call()
    except Exception as error:  # noqa: BLE001 - the comparison is the point
        return error
    return None


def _assert_same_error(ours, theirs):
    a, b = _raised(ours), _raised(theirs)
    assert b is not None and type(a) is type(b), (a, b)
    assert str(a).replace("tinytorch.", "torch.") == str(b)


# -- closed forms (no torch needed) ------------------------------------------------------------------
def test_tangent_of_sin_is_cos_times_tangent(device):
    primal, tangent = _tangent_of(tinytorch, lambda lib, x: x.sin(), [X], [T], device)
    np.testing.assert_allclose(primal, np.sin(X))
    np.testing.assert_allclose(tangent, np.cos(X) * T, rtol=1e-12)


def test_tangents_of_several_duals_add_up(device):
    # d(x * y + y**2) = t_x * y + x * t_y + 2 y t_y
    fn = lambda lib, x, y: x * y + y**2  # noqa: E731
    _, tangent = _tangent_of(tinytorch, fn, [B, U + 2], [U, B], device)
    np.testing.assert_allclose(tangent, U * (U + 2) + B * B + 2 * (U + 2) * B, rtol=1e-12)


def test_matmul_tangent_is_the_product_rule(device):
    fn = lambda lib, a, b: a @ b  # noqa: E731
    _, tangent = _tangent_of(tinytorch, fn, [X, Y], [T, S], device)
    np.testing.assert_allclose(tangent, T @ Y + X @ S, rtol=1e-12)


# -- against torch -----------------------------------------------------------------------------------
CASES = {
    # name: (fn(lib, *duals), primals, tangents)
    "exp_tanh_log": (lambda lib, x: (x.tanh() * x.log()).exp(), [X], [T]),
    "polynomial": (lambda lib, x: x**3 - 2 * x**2 + x, [X], [T]),
    "sigmoid_relu_gelu": (lambda lib, x: lib.sigmoid(x) + lib.relu(x - 1) + lib.nn.functional.gelu(x), [X], [T]),
    "division_and_sqrt": (lambda lib, x, y: x.sqrt() / (y.abs() + 1), [X, X[::-1].copy()], [T, T[::-1].copy()]),
    "matmul": (lambda lib, a, b: lib.matmul(a, b).tanh(), [X, Y], [T, S]),
    "sum_dim": (lambda lib, x: x.sum(dim=1), [X], [T]),
    "mean_keepdim": (lambda lib, x: x.mean(0, keepdim=True), [X], [T]),
    "max_amax": (lambda lib, x: x.amax(1) + x.max(), [X], [T]),
    "var_std_norm": (lambda lib, x: x.var(1) + x.std() + lib.linalg.vector_norm(x), [X], [T]),
    "logsumexp": (lambda lib, x: lib.logsumexp(x, dim=0), [X], [T]),
    "softmax": (lambda lib, x: lib.softmax(x, dim=1), [X], [T]),
    "log_softmax": (lambda lib, x: lib.nn.functional.log_softmax(x, dim=0), [X], [T]),
    "broadcast_row": (lambda lib, x, b: x * b + b.exp(), [X, B], [T, U]),
    "broadcast_column": (lambda lib, x, c: x - c, [X, X[:, :1]], [T, T[:, :1]]),
    "reshape_transpose_index": (lambda lib, x: x.reshape(3, 2).t()[1] * x[0, 1:2], [X], [T]),
    "cat_stack_where": (lambda lib, x, y: lib.where(x > 1, lib.cat([x, y]).sum(0), lib.stack([x, y]).prod(0)), [X, T], [T, X]),
    "mse_loss": (lambda lib, x, y: lib.nn.functional.mse_loss(x, y), [X, X + T], [T, X]),
    "cross_entropy": (lambda lib, logits: lib.nn.functional.cross_entropy(logits, lib.tensor([2, 0])), [X], [T]),
    "scalar_output_of_two": (lambda lib, x, y: (x.exp() * y.sin()).sum(), [X, X + 1], [T, T * 2]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_tangent_matches_torch(name):
    torch = pytest.importorskip("torch")
    fn, primals, tangents = CASES[name]
    ours, theirs = _tangent_of(tinytorch, fn, primals, tangents), _tangent_of(torch, fn, primals, tangents)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-10, atol=1e-12)


def _mlp(lib):
    lib.manual_seed(0)
    model = lib.nn.Sequential(lib.nn.Linear(3, 5), lib.nn.Tanh(), lib.nn.Linear(5, 2)).double()
    rng = np.random.default_rng(1)
    with lib.no_grad():
        for p in model.parameters():  # the same weights in both libraries
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape))))
    return model


def _mlp_tangents(lib, device="cpu"):
    """The MLP's output tangent w.r.t. its input, and w.r.t. its first weight (swapped in with
    func.functional_call), as arrays."""
    model = _mlp(lib).to(device)
    x = lib.tensor(np.concatenate([X, T]), device=device)  # a batch of 4 rows of 3 features
    forward_ad = lib.autograd.forward_ad
    weight = model[0].weight
    weight_tangent = lib.tensor(np.random.default_rng(2).standard_normal(tuple(weight.shape)), device=device)
    with forward_ad.dual_level():
        dual_input = forward_ad.make_dual(x, lib.ones_like(x))
        by_input = forward_ad.unpack_dual(model(dual_input)).tangent
        dual_weight = forward_ad.make_dual(weight.detach(), weight_tangent)
        out = lib.func.functional_call(model, {"0.weight": dual_weight}, (x,))
        by_weight = forward_ad.unpack_dual(out).tangent
    return by_input.detach().cpu().numpy(), by_weight.detach().cpu().numpy()


def test_mlp_tangents_against_closed_form(device):
    model = _mlp(tinytorch)
    w1, b1 = model[0].weight.detach().numpy(), model[0].bias.detach().numpy()
    w2 = model[2].weight.detach().numpy()
    x = np.concatenate([X, T])
    hidden = np.tanh(x @ w1.T + b1)
    by_input, by_weight = _mlp_tangents(tinytorch, device)
    np.testing.assert_allclose(by_input, ((1 - hidden**2) * (np.ones_like(x) @ w1.T)) @ w2.T, rtol=1e-10)
    weight_tangent = np.random.default_rng(2).standard_normal(w1.shape)
    np.testing.assert_allclose(by_weight, ((1 - hidden**2) * (x @ weight_tangent.T)) @ w2.T, rtol=1e-10)


def test_mlp_tangents_match_torch():
    torch = pytest.importorskip("torch")
    for ours, theirs in zip(_mlp_tangents(tinytorch), _mlp_tangents(torch)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_float32_tangent_matches_torch():
    torch = pytest.importorskip("torch")
    results = []
    for lib in (tinytorch, torch):
        with lib.autograd.forward_ad.dual_level():
            dual = fwAD_of(lib).make_dual(lib.tensor(X, dtype=lib.float32), lib.tensor(T, dtype=lib.float32))
            tangent = fwAD_of(lib).unpack_dual(lib.softmax(dual * 3, dim=1)).tangent
            results.append(tangent)
    assert results[0].dtype == tinytorch.float32
    np.testing.assert_allclose(results[0].numpy(), results[1].numpy(), rtol=1e-5, atol=1e-6)


# -- what unpack_dual returns ------------------------------------------------------------------------
def test_unpack_dual_returns_the_tangent_as_given_and_a_primal_on_the_same_memory():
    x, t = tinytorch.tensor(X), tinytorch.tensor(T)
    with fwAD.dual_level():
        dual = fwAD.make_dual(x, t)
        unpacked = fwAD.unpack_dual(dual)
        assert isinstance(unpacked, fwAD.UnpackedDualTensor) and isinstance(unpacked, tuple)
        assert unpacked.tangent is t and unpacked[1] is t
        primal = unpacked.primal
        assert primal is not dual and not primal.requires_grad and primal.grad_fn is None
        assert fwAD.unpack_dual(primal).tangent is None  # the primal is no dual
        dual.mul_(1)  # the dual, the primal and x share memory (and the version counter)
        x[0, 0] = 7.0
        assert dual[0, 0].item() == 7.0 and primal[0, 0].item() == 7.0
        assert dual._version[0] == x._version[0] == primal._version[0]


def test_a_tensor_that_does_not_depend_on_a_dual_has_no_tangent():
    torch = pytest.importorskip("torch")
    for lib in (tinytorch, torch):
        forward_ad = lib.autograd.forward_ad
        plain = lib.tensor(X)
        assert forward_ad.unpack_dual(plain).primal is plain  # no level: the tensor itself
        with forward_ad.dual_level():
            dual = forward_ad.make_dual(lib.tensor(X), lib.tensor(T))
            assert forward_ad.unpack_dual(plain).tangent is None
            assert forward_ad.unpack_dual(plain * 2).tangent is None
            assert forward_ad.unpack_dual(dual.argmax()).tangent is None  # integer output
            assert forward_ad.unpack_dual(dual.detach() * 2).tangent is None
            assert forward_ad.unpack_dual(plain, level=5).tangent is None
            np.testing.assert_array_equal(forward_ad.unpack_dual(plain).primal.numpy(), X)


def test_constant_output_has_a_zero_tangent():
    torch = pytest.importorskip("torch")
    outputs = []
    for lib in (tinytorch, torch):
        with lib.autograd.forward_ad.dual_level():
            dual = fwAD_of(lib).make_dual(lib.tensor(X), lib.tensor(T))
            outputs.append(fwAD_of(lib).unpack_dual(dual.round() + dual * 0).tangent)
    np.testing.assert_array_equal(outputs[0].numpy(), outputs[1].numpy())
    assert not outputs[0].numpy().any()


# -- in-place ops and no_grad -------------------------------------------------------------------------
def _inplace_story(lib):
    forward_ad = lib.autograd.forward_ad
    x = lib.tensor(X)
    with forward_ad.dual_level():
        dual = forward_ad.make_dual(x, lib.tensor(T))
        second = forward_ad.make_dual(lib.tensor(X + 1), lib.tensor(X))
        dual.mul_(3)  # in place on the dual itself
        dual.add_(second.sin())
        other = lib.zeros(2, 3, dtype=lib.float64)
        other.add_(dual)  # in place on a tensor without tangent, with a dual operand
        rows = lib.zeros(2, 3, dtype=lib.float64)
        rows[1] = dual[0]  # index_put with a dual value
        return [x.numpy().copy()] + [forward_ad.unpack_dual(t).tangent.numpy() for t in (dual, other, rows)]


def test_inplace_ops_carry_tangents_as_in_torch():
    torch = pytest.importorskip("torch")
    for ours, theirs in zip(_inplace_story(tinytorch), _inplace_story(torch)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_inplace_change_of_a_tensor_saved_for_the_tangent_is_refused():
    # PyTorch computes tangents eagerly, so this works there; here the tangent is a reverse pass
    # that needs sin's saved input, as backward would (docs/autograd.md section 8).
    with fwAD.dual_level():
        dual = fwAD.make_dual(tinytorch.tensor(X), tinytorch.tensor(T))
        dual.add_(dual.sin())
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            fwAD.unpack_dual(dual)


def test_inplace_op_on_a_view_of_a_dual_is_refused():
    with fwAD.dual_level():
        dual = fwAD.make_dual(tinytorch.tensor(X), tinytorch.tensor(T))
        with pytest.raises(RuntimeError, match="in-place operations on a view"):
            dual[0].mul_(2)


def _no_grad_story(lib):
    forward_ad = lib.autograd.forward_ad
    with forward_ad.dual_level():
        with lib.no_grad():
            dual = forward_ad.make_dual(lib.tensor(X), lib.tensor(T))
            out = (dual.exp() * 2).sum(0)
        return forward_ad.unpack_dual(out).tangent.numpy()


def test_forward_ad_is_not_disabled_by_no_grad():
    np.testing.assert_allclose(_no_grad_story(tinytorch), (2 * np.exp(X) * T).sum(0), rtol=1e-12)
    torch = pytest.importorskip("torch")
    np.testing.assert_allclose(_no_grad_story(tinytorch), _no_grad_story(torch), rtol=1e-12)


# -- backward through make_dual and unpack_dual ------------------------------------------------------
def _backward_story(lib):
    forward_ad = lib.autograd.forward_ad
    x = lib.tensor(X, requires_grad=True)
    tangent = lib.tensor(T, requires_grad=True)
    with forward_ad.dual_level():
        primal, out_tangent = forward_ad.unpack_dual(forward_ad.make_dual(x, tangent).sin() * 2)
        flags = (primal.requires_grad, out_tangent.requires_grad, forward_ad.unpack_dual(primal).tangent is None)
        (primal.sum() + (out_tangent * out_tangent).sum()).backward()
    return flags, x.grad.numpy(), tangent.grad.numpy()


def test_make_dual_and_unpack_dual_are_backward_differentiable():
    flags, x_grad, tangent_grad = _backward_story(tinytorch)
    assert flags == (True, True, True)
    # d/dx [2 sin x + (2 cos(x) t)²] and d/dt of the same
    np.testing.assert_allclose(x_grad, 2 * np.cos(X) - 8 * np.cos(X) * np.sin(X) * T**2, rtol=1e-10)
    np.testing.assert_allclose(tangent_grad, 8 * np.cos(X) ** 2 * T, rtol=1e-10)
    torch = pytest.importorskip("torch")
    theirs = _backward_story(torch)
    assert flags == theirs[0]
    np.testing.assert_allclose(x_grad, theirs[1], rtol=1e-10)
    np.testing.assert_allclose(tangent_grad, theirs[2], rtol=1e-10)


def _primal_times_dual(lib, requires_grad):
    forward_ad = lib.autograd.forward_ad
    with forward_ad.dual_level():
        dual = forward_ad.make_dual(lib.tensor(X, requires_grad=requires_grad), lib.tensor(T))
        primal = forward_ad.unpack_dual(dual * 3).primal
        return forward_ad.unpack_dual(primal * dual).tangent.detach().numpy()  # only the dual's path counts


@pytest.mark.parametrize("requires_grad", [False, True])
def test_a_primal_carries_no_tangent_into_later_ops(requires_grad):
    ours = _primal_times_dual(tinytorch, requires_grad)
    np.testing.assert_allclose(ours, 3 * X * T, rtol=1e-12)
    torch = pytest.importorskip("torch")
    np.testing.assert_allclose(ours, _primal_times_dual(torch, requires_grad), rtol=1e-12)


def test_tangent_and_primal_need_no_graph_when_nothing_requires_grad():
    with fwAD.dual_level():
        primal, tangent = fwAD.unpack_dual(fwAD.make_dual(tinytorch.tensor(X), tinytorch.tensor(T)).exp())
        assert not primal.requires_grad and not tangent.requires_grad


# -- the level's lifecycle ----------------------------------------------------------------------------
def test_level_lifecycle_matches_torch():
    torch = pytest.importorskip("torch")
    for lib in (tinytorch, torch):
        forward_ad = lib.autograd.forward_ad
        assert forward_ad._current_level == -1
        with forward_ad.dual_level() as level:
            assert level == 0 and forward_ad._current_level == 0
            dual = forward_ad.make_dual(lib.tensor(X), lib.tensor(T))
            out = dual * 2
            assert forward_ad.unpack_dual(out).tangent is not None
        assert forward_ad._current_level == -1
        assert forward_ad.unpack_dual(out).tangent is None  # leaving the level drops the tangents
        assert forward_ad.unpack_dual(dual).tangent is None
        assert forward_ad.enter_dual_level() == 0  # a new level, which the old duals are not in
        try:
            assert forward_ad.unpack_dual(out).tangent is None
            assert forward_ad.unpack_dual(dual).tangent is None
        finally:
            forward_ad.exit_dual_level()
        assert forward_ad._current_level == -1


def test_dual_level_is_a_decorator_and_exits_on_error():
    @fwAD.dual_level()
    def inside():
        return fwAD._current_level

    assert inside() == 0 and fwAD._current_level == -1
    with pytest.raises(ValueError, match="boom"):
        with fwAD.dual_level():
            raise ValueError("boom")
    assert fwAD._current_level == -1


def test_the_level_holds_no_dual_alive():
    import gc
    import weakref

    with fwAD.dual_level():
        dual = fwAD.make_dual(tinytorch.tensor(X), tinytorch.tensor(T))
        tangent_ref = weakref.ref(fwAD.unpack_dual(dual).tangent)
        del dual
        gc.collect()
        assert tangent_ref() is None


# -- errors, as torch raises them ---------------------------------------------------------------------
def _errors(lib):
    forward_ad = lib.autograd.forward_ad
    x, t = lib.tensor(X), lib.tensor(T)
    calls = {
        "make_dual outside a level": lambda: forward_ad.make_dual(x, t),
        "exit without a level": lambda: forward_ad.exit_dual_level(),
        "exit a level that is not the last": lambda: forward_ad.exit_dual_level(level=0),
        "make_dual at level 0 after the level is gone": lambda: forward_ad.make_dual(x, t, level=0),
        "size mismatch before the level check": lambda: forward_ad.make_dual(x, lib.ones(3, dtype=lib.float64), level=0),
    }
    inside = {
        "nested level": lambda: forward_ad.enter_dual_level(),
        "exit another level": lambda: forward_ad.exit_dual_level(level=1),
        "integer primal": lambda: forward_ad.make_dual(lib.arange(6).reshape(2, 3), t),
        "integer tangent": lambda: forward_ad.make_dual(x, lib.arange(6).reshape(2, 3)),
        "number primal": lambda: forward_ad.make_dual(3.0, t),
        "size mismatch": lambda: forward_ad.make_dual(x, lib.ones(3, dtype=lib.float64)),
        "size mismatch with a broadcastable tangent": lambda: forward_ad.make_dual(x, lib.ones(1, 3, dtype=lib.float64)),
        "scalar tangent": lambda: forward_ad.make_dual(x, lib.tensor(1.0, dtype=lib.float64)),
        "invalid level": lambda: forward_ad.make_dual(x, t, level=1),
        "already a dual": lambda: forward_ad.make_dual(dual * 2, t),
        "the dual itself": lambda: forward_ad.make_dual(dual, t),
        "unpack at another level": lambda: forward_ad.unpack_dual(dual, level=3),
        "unpack a number": lambda: forward_ad.unpack_dual(3),
    }
    results = {name: _raised(call) for name, call in calls.items()}
    with forward_ad.dual_level():
        dual = forward_ad.make_dual(x, t)
        results.update({name: _raised(call) for name, call in inside.items()})
    return results


def test_errors_match_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = _errors(tinytorch), _errors(torch)
    for name, expected in theirs.items():
        assert expected is not None, name
        assert type(ours[name]) is type(expected), (name, ours[name], expected)
        assert str(ours[name]).replace("tinytorch.", "torch.") == str(expected), name
    assert fwAD._current_level == -1


def test_errors_without_torch():
    with pytest.raises(RuntimeError, match="no level exists, make sure to enter_dual_level"):
        fwAD.make_dual(tinytorch.tensor(X), tinytorch.tensor(T))
    with fwAD.dual_level():
        with pytest.raises(RuntimeError, match="Nested forward mode AD is not supported"):
            fwAD.enter_dual_level()
        with pytest.raises(RuntimeError, match=r"Tensor is of size \[2, 3\] while the given forward gradient is of size \[3\]"):
            fwAD.make_dual(tinytorch.tensor(X), tinytorch.tensor(U))
    assert fwAD._current_level == -1


def test_tangent_on_another_device_is_refused(device):
    if device == "cpu":
        pytest.skip("needs a second device")
    with fwAD.dual_level():
        with pytest.raises(RuntimeError, match="same device as the primal"):
            fwAD.make_dual(tinytorch.tensor(X, device=device), tinytorch.tensor(T))


def test_a_backward_that_is_not_differentiable_is_refused():
    class OnceDifferentiable(tinytorch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 1

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return tinytorch.tensor(grad_output.detach().numpy() * 2)  # outside tensor ops: no graph

    with fwAD.dual_level():
        out = OnceDifferentiable.apply(fwAD.make_dual(tinytorch.tensor(X), tinytorch.tensor(T)))
        with pytest.raises(RuntimeError, match="backward of an op between the dual tensor and this tensor is not differentiable"):
            fwAD.unpack_dual(out)


# -- the namespace -----------------------------------------------------------------------------------
def test_namespace_matches_torch():
    pytest.importorskip("torch")
    import torch.autograd.forward_ad as theirs

    public = {
        name for name in dir(fwAD)
        if not name.startswith("_") and not isinstance(getattr(fwAD, name), types.ModuleType)
    }
    assert public <= set(dir(theirs))
    assert fwAD.__all__ == theirs.__all__
    assert fwAD.UnpackedDualTensor._fields == theirs.UnpackedDualTensor._fields
    assert tinytorch.autograd.forward_ad is fwAD
