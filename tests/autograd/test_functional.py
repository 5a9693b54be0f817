"""tinytorch.autograd.functional (vjp, jvp, jacobian, hessian, hvp, vhp): values against closed forms
and against torch.autograd.functional (values, output structure, requires_grad, create_graph, the
strict-mode and argument errors with PyTorch's messages)."""

import numpy as np
import pytest

import tinytorch
import tinytorch.autograd.functional as F

RNG = np.random.default_rng(0)
X, Y, M = RNG.uniform(0.5, 1.5, 3), RNG.uniform(0.5, 1.5, 3), RNG.uniform(-1, 1, (2, 3))


def _ours(a):
    return tinytorch.tensor(a, dtype=tinytorch.float64)


def _theirs(torch, a):
    return torch.tensor(a, dtype=torch.float64)


def _assert_same(ours, theirs, requires_grad=True):
    """Same nesting (tuple vs list vs tensor), shapes, values, and (optionally) requires_grad."""
    if isinstance(theirs, (tuple, list)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs), (ours, theirs)
        for a, b in zip(ours, theirs):
            _assert_same(a, b, requires_grad)
        return
    assert isinstance(ours, tinytorch.Tensor), type(ours)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    if requires_grad:
        assert ours.requires_grad == theirs.requires_grad


def _raised(call):
    try:
        call()
    except Exception as error:  # noqa: BLE001 - the comparison is the point
        return error
    return None


def _assert_same_error(ours, theirs):
    a, b = _raised(ours), _raised(theirs)
    assert b is not None and type(a) is type(b), (a, b)
    assert str(a).replace("tinytorch.Size", "torch.Size") == str(b)


# name -> (function of the library, inputs, v for vjp (per output), v for jvp (per input)); inputs as arrays
FUNCTIONS = {
    "polynomial": (lambda lib: lambda x: x**3 - 2 * x**2 + x, X, Y, Y),
    "tanh_exp_log": (lambda lib: lambda x: (x.tanh() * x.log()).exp(), X, Y, Y),
    "matrix_product": (lambda lib: lambda w, x: lib.matmul(w, x).tanh(), (M, X), Y[:2], (M * 0.5, Y)),
    "two_outputs": (lambda lib: lambda x, y: (x * y.exp(), (x**2 * y).sum()), (X, Y), (Y, 2.0), (Y, X)),
    "scalar": (lambda lib: lambda x: (x.exp() * x**2).sum(), X, 1.5, Y),
}
SCALAR_FUNCTIONS = {
    "scalar": (lambda lib: lambda x: (x.exp() * x**2).sum(), X, Y),
    "two_inputs": (lambda lib: lambda x, y: (x * y.exp()).sum() + (x**2).sum() * y[0], (X, Y), (Y, X)),
    "quadratic_form": (lambda lib: lambda x: (x * lib.matmul(lib.ones(3, 3, dtype=x.dtype), x)).sum(), X, Y),
}


def _args(lib_tensor, spec):
    return tuple(lib_tensor(a) for a in spec) if isinstance(spec, tuple) else lib_tensor(spec)


# -- closed forms (no torch needed) ------------------------------------------------------------
def test_vjp_and_jvp_of_a_square_are_elementwise_products():
    x, v = _ours(X), _ours(Y)
    out, vjp = F.vjp(lambda t: t**2, x, v)
    np.testing.assert_allclose(out.numpy(), X**2)
    np.testing.assert_allclose(vjp.numpy(), 2 * X * Y)
    _, jvp = F.jvp(lambda t: t**2, x, v)
    np.testing.assert_allclose(jvp.numpy(), 2 * X * Y)
    assert not vjp.requires_grad and not jvp.requires_grad


def test_jacobian_of_a_linear_map_is_its_matrix_and_hessian_of_a_quadratic_form():
    a = _ours(M)
    np.testing.assert_allclose(F.jacobian(lambda x: tinytorch.matmul(a, x), _ours(X)).numpy(), M)
    square = RNG.uniform(-1, 1, (3, 3))
    b = _ours(square)
    hessian = F.hessian(lambda x: (x * tinytorch.matmul(b, x)).sum(), _ours(X))
    np.testing.assert_allclose(hessian.numpy(), square + square.T, rtol=1e-12)
    _, hvp = F.hvp(lambda x: (x * tinytorch.matmul(b, x)).sum(), _ours(X), _ours(Y))
    np.testing.assert_allclose(hvp.numpy(), (square + square.T) @ Y, rtol=1e-12)
    _, vhp = F.vhp(lambda x: (x * tinytorch.matmul(b, x)).sum(), _ours(X), _ours(Y))
    np.testing.assert_allclose(vhp.numpy(), Y @ (square + square.T), rtol=1e-12)


def test_vectorize_gives_exactly_the_loop_results():
    f = FUNCTIONS["two_outputs"][0](tinytorch)
    inputs = (_ours(X), _ours(Y))
    plain, vectorized = F.jacobian(f, inputs), F.jacobian(f, inputs, vectorize=True)
    for row_a, row_b in zip(plain, vectorized):
        for a, b in zip(row_a, row_b):
            assert np.array_equal(a.numpy(), b.numpy())


def test_forward_mode_strategy_matches_reverse_mode():
    f = FUNCTIONS["matrix_product"][0](tinytorch)
    inputs = (_ours(M), _ours(X))
    reverse = F.jacobian(f, inputs)
    forward = F.jacobian(f, inputs, vectorize=True, strategy="forward-mode")
    assert isinstance(forward, list)  # PyTorch's forward-mode jacobian nests lists
    for a, b in zip(reverse, forward):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)


def test_inputs_are_not_modified_and_get_no_grad():
    x = _ours(X)
    F.hessian(lambda t: (t**3).sum(), x)
    assert not x.requires_grad and x.grad is None
    np.testing.assert_array_equal(x.numpy(), X)


def test_create_graph_results_are_differentiable_with_respect_to_the_inputs():
    x = _ours(X).requires_grad_()
    _, vjp = F.vjp(lambda t: t**3, x, _ours(Y), create_graph=True)
    (gradient,) = tinytorch.autograd.grad(vjp.sum(), x)
    np.testing.assert_allclose(gradient.numpy(), 6 * X * Y)
    _, vjp = F.vjp(lambda t: t**3, x, _ours(Y))
    assert not vjp.requires_grad


# -- against torch ---------------------------------------------------------------------------
@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_vjp_jvp_jacobian_match_torch(name, create_graph):
    torch = pytest.importorskip("torch")
    import torch.autograd.functional as TF

    make, inputs, v_out, v_in = FUNCTIONS[name]
    ours_f, theirs_f = make(tinytorch), make(torch)
    ours_in, theirs_in = _args(_ours, inputs), _args(lambda a: _theirs(torch, a), inputs)
    ours_vo, theirs_vo = _args(_ours, v_out), _args(lambda a: _theirs(torch, a), v_out)
    ours_vi, theirs_vi = _args(_ours, v_in), _args(lambda a: _theirs(torch, a), v_in)
    _assert_same(F.vjp(ours_f, ours_in, ours_vo, create_graph=create_graph),
                 TF.vjp(theirs_f, theirs_in, theirs_vo, create_graph=create_graph))
    _assert_same(F.jvp(ours_f, ours_in, ours_vi, create_graph=create_graph),
                 TF.jvp(theirs_f, theirs_in, theirs_vi, create_graph=create_graph))
    for vectorize in (False, True):
        _assert_same(F.jacobian(ours_f, ours_in, create_graph=create_graph, vectorize=vectorize),
                     TF.jacobian(theirs_f, theirs_in, create_graph=create_graph, vectorize=vectorize))
    if not create_graph:
        _assert_same(F.jacobian(ours_f, ours_in, vectorize=True, strategy="forward-mode"),
                     TF.jacobian(theirs_f, theirs_in, vectorize=True, strategy="forward-mode"))


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("name", list(SCALAR_FUNCTIONS))
def test_hessian_hvp_vhp_match_torch(name, create_graph):
    torch = pytest.importorskip("torch")
    import torch.autograd.functional as TF

    make, inputs, v = SCALAR_FUNCTIONS[name]
    ours_f, theirs_f = make(tinytorch), make(torch)
    ours_in, theirs_in = _args(_ours, inputs), _args(lambda a: _theirs(torch, a), inputs)
    ours_v, theirs_v = _args(_ours, v), _args(lambda a: _theirs(torch, a), v)
    for vectorize in (False, True):
        _assert_same(F.hessian(ours_f, ours_in, create_graph=create_graph, vectorize=vectorize),
                     TF.hessian(theirs_f, theirs_in, create_graph=create_graph, vectorize=vectorize))
    _assert_same(F.hvp(ours_f, ours_in, ours_v, create_graph=create_graph),
                 TF.hvp(theirs_f, theirs_in, theirs_v, create_graph=create_graph))
    _assert_same(F.vhp(ours_f, ours_in, ours_v, create_graph=create_graph),
                 TF.vhp(theirs_f, theirs_in, theirs_v, create_graph=create_graph))
    # torch's forward-mode hessian keeps a graph into its internal tensors; ours is detached
    _assert_same(F.hessian(ours_f, ours_in, vectorize=True, outer_jacobian_strategy="forward-mode"),
                 TF.hessian(theirs_f, theirs_in, vectorize=True, outer_jacobian_strategy="forward-mode"),
                 requires_grad=False)


def test_single_element_input_and_output_need_no_v():
    torch = pytest.importorskip("torch")
    import torch.autograd.functional as TF

    f = lambda t: (t * 3).exp()  # noqa: E731
    for name in ("vjp", "jvp"):
        _assert_same(getattr(F, name)(f, _ours([0.2])), getattr(TF, name)(f, _theirs(torch, [0.2])))
    g = lambda t: (t**3).sum()  # noqa: E731
    for name in ("hvp", "vhp"):
        _assert_same(getattr(F, name)(g, _ours([0.2])), getattr(TF, name)(g, _theirs(torch, [0.2])))


def test_create_graph_second_derivatives_match_torch():
    torch = pytest.importorskip("torch")
    import torch.autograd.functional as TF

    f = FUNCTIONS["tanh_exp_log"][0]
    ours_x, theirs_x = _ours(X).requires_grad_(), _theirs(torch, X).requires_grad_()
    ours = F.jacobian(f(tinytorch), ours_x, create_graph=True)
    theirs = TF.jacobian(f(torch), theirs_x, create_graph=True)
    _assert_same(ours, theirs)
    _assert_same(tinytorch.autograd.grad(ours.sum(), ours_x), torch.autograd.grad(theirs.sum(), theirs_x))


def test_under_no_grad_matches_torch():
    torch = pytest.importorskip("torch")
    import torch.autograd.functional as TF

    f = FUNCTIONS["polynomial"][0]
    with tinytorch.no_grad(), torch.no_grad():
        for create_graph in (False, True):
            _assert_same(F.vjp(f(tinytorch), _ours(X), _ours(Y), create_graph=create_graph),
                         TF.vjp(f(torch), _theirs(torch, X), _theirs(torch, Y), create_graph=create_graph))


def _independent(lib):
    return lambda x, y: x * 2


STRICT_CASES = {
    "vjp": lambda m, lib, t: m.vjp(_independent(lib), (t(X), t(Y)), t(X), strict=True),
    "jvp": lambda m, lib, t: m.jvp(_independent(lib), (t(X), t(Y)), (t(X), t(Y)), strict=True),
    "jacobian": lambda m, lib, t: m.jacobian(_independent(lib), (t(X), t(Y)), strict=True),
    "jacobian_create_graph": lambda m, lib, t: m.jacobian(lambda x: x * 2, t(X), strict=True, create_graph=True),
    "hessian_linear": lambda m, lib, t: m.hessian(lambda x: x.sum(), t(X), strict=True),
    "hvp_linear": lambda m, lib, t: m.hvp(lambda x: (x * 2).sum(), t(X), t(Y), strict=True),
    "vhp_linear": lambda m, lib, t: m.vhp(lambda x: (x * 2).sum(), t(X), t(Y), strict=True),
    "vhp_independent": lambda m, lib, t: m.vhp(lambda x, y: (x**2).sum(), (t(X), t(Y)), (t(X), t(Y)), strict=True),
    "detached_output": lambda m, lib, t: m.vjp(lambda x: x.detach(), t(X), t(X), strict=True),
    "vectorize": lambda m, lib, t: m.jacobian(lambda x: x * x, t(X), strict=True, vectorize=True),
    "forward_mode": lambda m, lib, t: m.jacobian(lambda x: x * x, t(X), strict=True, vectorize=True,
                                                 strategy="forward-mode"),
}


@pytest.mark.parametrize("case", list(STRICT_CASES))
def test_strict_errors_match_torch(case):
    torch = pytest.importorskip("torch")
    import torch.autograd.functional as TF

    call = STRICT_CASES[case]
    _assert_same_error(lambda: call(F, tinytorch, _ours), lambda: call(TF, torch, lambda a: _theirs(torch, a)))


def test_strict_vjp_message():
    with pytest.raises(RuntimeError, match="The output of the user-provided function is independent of input 1. "
                                           "This is not allowed in strict mode."):
        F.vjp(_independent(tinytorch), (_ours(X), _ours(Y)), _ours(X), strict=True)


ERROR_CASES = {
    "v_missing": lambda m, lib, t: m.vjp(lambda x: x * 2, t(X)),
    "v_missing_jvp": lambda m, lib, t: m.jvp(lambda x: x * 2, t(X)),
    "list_inputs": lambda m, lib, t: m.vjp(lambda x: x * 2, [t(X)], t(X)),
    "number_in_inputs": lambda m, lib, t: m.jacobian(lambda x, y: x * 2, (t(X), 3)),
    "number_output": lambda m, lib, t: m.vjp(lambda x: 3, t(X), t(X)),
    "v_bad_size": lambda m, lib, t: m.vjp(lambda x: x * 2, t(X), t(M)),
    "v_bad_length": lambda m, lib, t: m.jvp(lambda x, y: x * y, (t(X), t(Y)), (t(X),)),
    "v_entry_bad_size": lambda m, lib, t: m.jvp(lambda x, y: x * y, (t(X), t(Y)), (t(X), t(M))),
    "v_tuple_for_tensor": lambda m, lib, t: m.vjp(lambda x: x * 2, t(X), (t(X), t(X))),
    "hessian_vector_output": lambda m, lib, t: m.hessian(lambda x: x * 2, t(X)),
    "hessian_tuple_output": lambda m, lib, t: m.hessian(lambda x: (x.sum(), x.sum()), t(X)),
    "hvp_vector_output": lambda m, lib, t: m.hvp(lambda x: x * 2, t(X), t(X)),
    "vhp_tuple_output": lambda m, lib, t: m.vhp(lambda x: (x.sum(),), t(X), t(X)),
    "bad_strategy": lambda m, lib, t: m.jacobian(lambda x: x * 2, t(X), strategy="sideways"),
    "bad_outer_strategy": lambda m, lib, t: m.hessian(lambda x: x.sum(), t(X), outer_jacobian_strategy="sideways"),
    "forward_mode_unvectorized": lambda m, lib, t: m.jacobian(lambda x: x * 2, t(X), strategy="forward-mode"),
    "forward_mode_create_graph": lambda m, lib, t: m.jacobian(lambda x: x * 2, t(X), create_graph=True,
                                                              strategy="forward-mode"),
}


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_argument_errors_match_torch(case):
    torch = pytest.importorskip("torch")
    import torch.autograd.functional as TF

    call = ERROR_CASES[case]
    _assert_same_error(lambda: call(F, tinytorch, _ours), lambda: call(TF, torch, lambda a: _theirs(torch, a)))


def test_namespace():
    assert set(F.__all__) == {"vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"}
    assert tinytorch.autograd.functional is F


def test_every_function_on_every_device(device):
    """The same results on each device (the CUDA case checks the array code follows CuPy's rules)."""
    def on(a):
        return tinytorch.tensor(a, dtype=tinytorch.float64, device=device)

    f = FUNCTIONS["matrix_product"][0](tinytorch)
    g = SCALAR_FUNCTIONS["two_inputs"][0](tinytorch)
    for make in (on, _ours):
        inputs, v = (make(M), make(X)), make(Y[:2])
        results = [
            F.vjp(f, inputs, v), F.jvp(f, inputs, (make(M), make(Y))), F.jacobian(f, inputs),
            F.jacobian(f, inputs, vectorize=True, strategy="forward-mode"),
            F.hessian(g, (make(X), make(Y))), F.hvp(g, (make(X), make(Y)), (make(Y), make(X))),
            F.vhp(g, (make(X), make(Y)), (make(Y), make(X))),
        ]
        if make is on:
            on_device = results
    for a, b in zip(_flat(on_device), _flat(results)):
        assert a.device.type == device
        np.testing.assert_allclose(a.cpu().numpy(), b.numpy(), rtol=1e-10, atol=1e-12)


def _flat(tree):
    if isinstance(tree, (tuple, list)):
        return [leaf for child in tree for leaf in _flat(child)]
    return [tree]
