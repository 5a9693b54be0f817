"""tinytorch.func (grad, grad_and_value, vjp, jvp, jacrev, jacfwd, hessian, functional_call,
stack_module_state): closed forms, and against torch.func: values, output structures (pytrees),
has_aux, argnums, nesting, what keeps a graph on the way out, and errors with PyTorch's messages."""

import numpy as np
import pytest

import tinytorch
import tinytorch.func as F

RNG = np.random.default_rng(1)
X, Y, M = RNG.uniform(0.5, 1.5, 3), RNG.uniform(0.5, 1.5, 3), RNG.uniform(-1, 1, (2, 3))


def _ours(a, requires_grad=False):
    return tinytorch.tensor(a, dtype=tinytorch.float64).requires_grad_(requires_grad)


def _theirs(torch, a, requires_grad=False):
    return torch.tensor(a, dtype=torch.float64).requires_grad_(requires_grad)


def _assert_same(ours, theirs, requires_grad=True):
    """Same pytree (types, dict keys), shapes, values and (optionally) requires_grad."""
    if isinstance(theirs, dict):
        assert type(ours) is type(theirs) and list(ours) == list(theirs)
        for key in theirs:
            _assert_same(ours[key], theirs[key], requires_grad)
        return
    if isinstance(theirs, (tuple, list)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs), (ours, theirs)
        for a, b in zip(ours, theirs):
            _assert_same(a, b, requires_grad)
        return
    assert isinstance(ours, tinytorch.Tensor), type(ours)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    if requires_grad:
        assert ours.requires_grad == theirs.requires_grad, (ours.requires_grad, theirs.requires_grad)


def _assert_same_error(ours, theirs):
    def raised(call):
        try:
            call()
        except Exception as error:  # noqa: BLE001 - the comparison is the point
            return error
        return None

    a, b = raised(ours), raised(theirs)
    assert b is not None and type(a) is type(b), (a, b)
    assert str(a).replace("tinytorch.", "torch.") == str(b)


def scalar(x):
    return ((x**3).tanh().exp() * x.log()).sum()


def two_inputs(x, y):
    return (x * y.exp()).sum() + (x**2).sum() * y[0]


def vector(x):
    return (x**3).tanh()


def matrix_product(lib):
    return lambda w, x: lib.matmul(w, x).tanh()


def dict_function(d):
    return {"p": d["a"] * d["b"], "q": (d["a"] ** 2).sum()}


# -- closed forms (no torch needed) ------------------------------------------------------------
def test_grad_of_a_cube_and_grad_of_grad():
    x = _ours(X)
    np.testing.assert_allclose(F.grad(lambda t: (t**3).sum())(x).numpy(), 3 * X**2)
    second = F.grad(lambda t: F.grad(lambda u: (u**3).sum())(t).sum())(x)
    np.testing.assert_allclose(second.numpy(), 6 * X)
    assert not second.requires_grad and second.grad_fn is None


def test_hessian_of_a_quadratic_form_and_jacobians_of_a_linear_map():
    square = RNG.uniform(-1, 1, (3, 3))
    a = _ours(square)
    np.testing.assert_allclose(F.hessian(lambda x: (x * tinytorch.matmul(a, x)).sum())(_ours(X)).numpy(),
                               square + square.T, rtol=1e-12)
    np.testing.assert_allclose(F.jacrev(lambda x: tinytorch.matmul(a, x))(_ours(X)).numpy(), square)
    np.testing.assert_allclose(F.jacfwd(lambda x: tinytorch.matmul(a, x))(_ours(X)).numpy(), square)


def test_jvp_and_vjp_of_a_product():
    x, v = _ours(X), _ours(Y)
    out, tangent = F.jvp(lambda t: t * t, (x,), (v,))
    np.testing.assert_allclose(out.numpy(), X * X)
    np.testing.assert_allclose(tangent.numpy(), 2 * X * Y)
    out, vjp_fn = F.vjp(lambda t: t * t, x)
    (cotangent,) = vjp_fn(v)
    np.testing.assert_allclose(cotangent.numpy(), 2 * X * Y)


def test_inputs_are_left_alone():
    x = _ours(X)
    F.hessian(scalar)(x)
    assert not x.requires_grad and x.grad is None and x.grad_fn is None


def test_results_stay_differentiable_for_the_caller():
    x = _ours(X, requires_grad=True)
    g = F.grad(lambda t: (t**3).sum())(x)
    assert g.requires_grad
    (second,) = tinytorch.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(second.numpy(), 6 * X)


def test_jacrev_chunk_size_does_not_change_the_result():
    x = _ours(X)
    assert np.array_equal(F.jacrev(vector, chunk_size=1)(x).numpy(), F.jacrev(vector)(x).numpy())


# -- against torch ---------------------------------------------------------------------------
@pytest.mark.parametrize("requires_grad", [False, True])
def test_grad_and_grad_and_value_match_torch(requires_grad):
    torch = pytest.importorskip("torch")
    import torch.func as TF

    def ours(a):
        return _ours(a, requires_grad)

    def theirs(a):
        return _theirs(torch, a, requires_grad)

    _assert_same(F.grad(scalar)(ours(X)), TF.grad(scalar)(theirs(X)))
    _assert_same(F.grad_and_value(scalar)(ours(X)), TF.grad_and_value(scalar)(theirs(X)))
    for argnums in (0, 1, -1, (0, 1), (1, 0)):
        _assert_same(F.grad(two_inputs, argnums=argnums)(ours(X), _ours(Y)),
                     TF.grad(two_inputs, argnums=argnums)(theirs(X), _theirs(torch, Y)))
    with_aux = lambda t: (scalar(t), {"twice": t * 2, "sum": t.sum()})  # noqa: E731
    ours_grad, ours_aux = F.grad(with_aux, has_aux=True)(ours(X))
    theirs_grad, theirs_aux = TF.grad(with_aux, has_aux=True)(theirs(X))
    _assert_same(ours_grad, theirs_grad)
    _assert_same(ours_aux["twice"], theirs_aux["twice"])
    _assert_same(ours_aux["sum"], theirs_aux["sum"])
    _assert_same(F.grad_and_value(with_aux, has_aux=True)(ours(X))[1][0],
                 TF.grad_and_value(with_aux, has_aux=True)(theirs(X))[1][0])
    pytree = lambda p: (p[0] * p[1]["y"]).sum()  # noqa: E731
    _assert_same(F.grad(pytree)((ours(X), {"y": _ours(Y)})), TF.grad(pytree)((theirs(X), {"y": _theirs(torch, Y)})))
    keyword = lambda x, *, scale: (x * scale).sum()  # noqa: E731
    _assert_same(F.grad(keyword)(ours(X), scale=_ours(Y)), TF.grad(keyword)(theirs(X), scale=_theirs(torch, Y)))


@pytest.mark.parametrize("requires_grad", [False, True])
def test_nesting_matches_torch(requires_grad):
    torch = pytest.importorskip("torch")
    import torch.func as TF

    x, t = _ours(X, requires_grad), _theirs(torch, X, requires_grad)
    _assert_same(F.grad(lambda a: F.grad(scalar)(a).sum())(x), TF.grad(lambda a: TF.grad(scalar)(a).sum())(t))
    _assert_same(F.jacrev(F.jacrev(scalar))(x), TF.jacrev(TF.jacrev(scalar))(t))
    _assert_same(F.jacfwd(F.jacrev(scalar))(x), TF.jacfwd(TF.jacrev(scalar))(t))
    _assert_same(F.jacrev(F.jacfwd(vector))(x), TF.jacrev(TF.jacfwd(vector))(t))
    _assert_same(F.hessian(scalar)(x), TF.hessian(scalar)(t))
    _assert_same(F.hessian(two_inputs, argnums=(0, 1))(x, _ours(Y)),
                 TF.hessian(two_inputs, argnums=(0, 1))(t, _theirs(torch, Y)))
    _assert_same(F.hessian(scalar)(x), torch.autograd.functional.hessian(scalar, t), requires_grad=False)


def test_hessian_matches_autograd_functional_hessian():
    torch = pytest.importorskip("torch")
    ours = F.hessian(two_inputs, argnums=(0, 1))(_ours(X), _ours(Y))
    theirs = torch.autograd.functional.hessian(two_inputs, (_theirs(torch, X), _theirs(torch, Y)))
    _assert_same(ours, theirs)
    _assert_same(tinytorch.autograd.functional.hessian(two_inputs, (_ours(X), _ours(Y))), theirs)


@pytest.mark.parametrize("requires_grad", [False, True])
def test_vjp_and_jvp_match_torch(requires_grad):
    torch = pytest.importorskip("torch")
    import torch.func as TF

    x, t = _ours(X, requires_grad), _theirs(torch, X, requires_grad)
    out, fn = F.vjp(vector, x)
    out_t, fn_t = TF.vjp(vector, t)
    _assert_same(out, out_t)
    _assert_same(fn(_ours(Y)), fn_t(_theirs(torch, Y)))
    out, fn, aux = F.vjp(lambda a: (vector(a), a.sum()), x, has_aux=True)
    out_t, fn_t, aux_t = TF.vjp(lambda a: (vector(a), a.sum()), t, has_aux=True)
    _assert_same((out, aux), (out_t, aux_t))
    _assert_same(fn(_ours(Y)), fn_t(_theirs(torch, Y)))
    out, fn = F.vjp(dict_function, {"a": x, "b": _ours(Y)})
    out_t, fn_t = TF.vjp(dict_function, {"a": t, "b": _theirs(torch, Y)})
    _assert_same(out, out_t)
    _assert_same(fn({"p": _ours(Y), "q": _ours(1.0)}), fn_t({"p": _theirs(torch, Y), "q": _theirs(torch, 1.0)}))
    _assert_same(F.jvp(vector, (x,), (_ours(Y),)), TF.jvp(vector, (t,), (_theirs(torch, Y),)))
    two = lambda a, b: (a * b, b.exp())  # noqa: E731
    _assert_same(F.jvp(two, (x, _ours(Y)), (_ours(Y), _ours(X))),
                 TF.jvp(two, (t, _theirs(torch, Y)), (_theirs(torch, Y), _theirs(torch, X))))
    aux = lambda a: (vector(a), a * 0 + 1)  # noqa: E731
    _assert_same(F.jvp(aux, (x,), (_ours(Y),), has_aux=True), TF.jvp(aux, (t,), (_theirs(torch, Y),), has_aux=True))
    detached = lambda a: a.detach() * 2  # noqa: E731
    _assert_same(F.jvp(detached, (x,), (_ours(Y),)), TF.jvp(detached, (t,), (_theirs(torch, Y),)))


@pytest.mark.parametrize("requires_grad", [False, True])
@pytest.mark.parametrize("transform", ["jacrev", "jacfwd"])
def test_jacobians_match_torch(transform, requires_grad):
    torch = pytest.importorskip("torch")
    import torch.func as TF

    ours_j, theirs_j = getattr(F, transform), getattr(TF, transform)
    x, t = _ours(X, requires_grad), _theirs(torch, X, requires_grad)
    w, tw = _ours(M), _theirs(torch, M)
    _assert_same(ours_j(vector)(x), theirs_j(vector)(t))
    for argnums in (0, 1, (0, 1)):
        _assert_same(ours_j(matrix_product(tinytorch), argnums=argnums)(w, x),
                     theirs_j(matrix_product(torch), argnums=argnums)(tw, t))
    two = lambda a, b: (a * b, (a * b).sum())  # noqa: E731
    _assert_same(ours_j(two, argnums=(0, 1))(x, _ours(Y)), theirs_j(two, argnums=(0, 1))(t, _theirs(torch, Y)))
    aux = lambda a: (vector(a), a.sum())  # noqa: E731
    _assert_same(ours_j(aux, has_aux=True)(x), theirs_j(aux, has_aux=True)(t))
    # torch's vmap marks even the all-zero blocks as requiring grad here: compare values and structure
    _assert_same(ours_j(dict_function)({"a": x, "b": _ours(Y)}), theirs_j(dict_function)({"a": t, "b": _theirs(torch, Y)}),
                 requires_grad=not requires_grad)


def test_closures_and_grad_mode_match_torch():
    torch = pytest.importorskip("torch")
    import torch.func as TF

    w, tw = _ours(Y, True), _theirs(torch, Y, True)
    _assert_same(F.grad(lambda a: (a * w).sum() ** 2)(_ours(X)), TF.grad(lambda a: (a * tw).sum() ** 2)(_theirs(torch, X)))
    x, t = _ours(X, True), _theirs(torch, X, True)
    with tinytorch.no_grad(), torch.no_grad():
        _assert_same(F.grad(scalar)(x), TF.grad(scalar)(t))
        _assert_same(F.jacrev(vector)(x), TF.jacrev(vector)(t))
        _assert_same(F.vjp(vector, x)[1](_ours(Y)), TF.vjp(vector, t)[1](_theirs(torch, Y)))
    g, gt = F.grad(scalar)(x), TF.grad(scalar)(t)
    _assert_same(tinytorch.autograd.grad(g.sum(), x), torch.autograd.grad(gt.sum(), t))


def _models(torch, seed=0):
    torch.manual_seed(seed)
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)).double()
    ours = tinytorch.nn.Sequential(tinytorch.nn.Linear(3, 4), tinytorch.nn.Tanh(), tinytorch.nn.Linear(4, 2)).double()
    ours.load_state_dict({k: tinytorch.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    return ours, theirs


def test_functional_call_of_a_linear_model_and_its_gradients_match_torch():
    torch = pytest.importorskip("torch")
    import torch.func as TF

    ours, theirs = _models(torch)
    inputs = RNG.uniform(-1, 1, (5, 3))
    params = {k: v.detach() * 2 for k, v in ours.named_parameters()}
    params_t = {k: v.detach() * 2 for k, v in theirs.named_parameters()}
    _assert_same(F.functional_call(ours, params, (_ours(inputs),)), TF.functional_call(theirs, params_t, (_theirs(torch, inputs),)))
    assert all(isinstance(p, tinytorch.nn.Parameter) for p in ours.parameters())  # restored

    def loss(lib, model):
        return lambda p, x: (lib.func.functional_call(model, p, (x,)) ** 2).mean()

    _assert_same(F.grad(loss(tinytorch, ours))(params, _ours(inputs)), TF.grad(loss(torch, theirs))(params_t, _theirs(torch, inputs)))
    # the module's own parameters (they require grad): the gradients stay connected to them
    _assert_same(F.grad(loss(tinytorch, ours))(dict(ours.named_parameters()), _ours(inputs)),
                 TF.grad(loss(torch, theirs))(dict(theirs.named_parameters()), _theirs(torch, inputs)))
    x, t = _ours(inputs), _theirs(torch, inputs)
    _assert_same(F.jacrev(lambda p: F.functional_call(ours, p, (x,)))(params),
                 TF.jacrev(lambda p: TF.functional_call(theirs, p, (t,)))(params_t))


def test_functional_call_restores_the_module_when_the_forward_raises():
    class Failing(tinytorch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = tinytorch.nn.Linear(2, 2)

        def forward(self, x):
            raise ValueError("boom")

    module = Failing()
    weight = module.linear.weight
    with pytest.raises(ValueError, match="boom"):
        F.functional_call(module, {"linear.weight": tinytorch.zeros(2, 2), "linear.extra": tinytorch.ones(1)},
                          (tinytorch.ones(2),))
    assert module.linear.weight is weight and not hasattr(module.linear, "extra")


def test_functional_call_args_kwargs_and_tied_weights():
    linear = tinytorch.nn.Linear(2, 1)
    params = {"weight": tinytorch.ones(1, 2), "bias": tinytorch.zeros(1)}
    np.testing.assert_allclose(F.functional_call(linear, params, tinytorch.ones(2)).numpy(), [2.0])
    np.testing.assert_allclose(F.functional_call(linear, params, (), {"input": tinytorch.ones(2)}).numpy(), [2.0])
    np.testing.assert_allclose(F.functional_call(linear, [{"weight": params["weight"]}, {"bias": params["bias"]}],
                                                 (tinytorch.ones(2),)).numpy(), [2.0])

    class Tied(tinytorch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = tinytorch.nn.Linear(2, 2, bias=False), tinytorch.nn.Linear(2, 2, bias=False)
            self.b.weight = self.a.weight

        def forward(self, x):
            return self.b(self.a(x))

    tied = Tied()
    out = F.functional_call(tied, {"a.weight": tinytorch.eye(2) * 2}, (tinytorch.ones(1, 2),))
    np.testing.assert_allclose(out.numpy(), [[4.0, 4.0]])  # both uses see the new weight
    with pytest.raises(ValueError, match="which are tied. Consider using tie_weights=False"):
        F.functional_call(tied, {"a.weight": tinytorch.eye(2), "b.weight": tinytorch.eye(2)}, (tinytorch.ones(1, 2),))


def test_stack_module_state_matches_torch():
    torch = pytest.importorskip("torch")
    import torch.func as TF

    pairs = [_models(torch, seed) for seed in range(3)]
    params, buffers = F.stack_module_state([p[0] for p in pairs])
    params_t, buffers_t = TF.stack_module_state([p[1] for p in pairs])
    _assert_same(params, params_t)
    assert all(p.is_leaf for p in params.values()) and buffers == {} == buffers_t
    norms = [tinytorch.nn.BatchNorm1d(3), tinytorch.nn.BatchNorm1d(3)]
    _, buffers = F.stack_module_state(norms)
    assert list(buffers) == ["running_mean", "running_var", "num_batches_tracked"]
    assert tuple(buffers["running_mean"].shape) == (2, 3)


def _fn_errors(m, lib, t):
    return {
        "vector_output": lambda: m.grad(vector)(t(X)),
        "list_output": lambda: m.grad(lambda a: [a.sum()])(t(X)),
        "number_input": lambda: m.grad(scalar)(3.0),
        "integer_input": lambda: m.grad(lambda a: a.sum())(lib.ones(2, dtype=lib.long)),
        "argnum_out_of_range": lambda: m.grad(scalar, argnums=2)(t(X)),
        "argnums_repeated": lambda: m.grad(scalar, argnums=(0, 0))(t(X)),
        "argnums_empty": lambda: m.grad(scalar, argnums=())(t(X)),
        "argnums_list": lambda: m.grad(scalar, argnums=[0])(t(X)),
        "argnums_float": lambda: m.grad(scalar, argnums=0.5)(t(X)),
        "grad_aux_missing": lambda: m.grad(scalar, has_aux=True)(t(X)),
        "vjp_aux_missing": lambda: m.vjp(scalar, t(X), has_aux=True),
        "aux_not_a_tensor": lambda: m.grad(lambda a: (a.sum(), 3), has_aux=True)(t(X)),
        "aux_none": lambda: m.vjp(lambda a: (a, None), t(X), has_aux=True),
        "vjp_number_output": lambda: m.vjp(lambda a: 3, t(X)),
        "vjp_none_output": lambda: m.vjp(lambda a: None, t(X)),
        "vjp_bool_output": lambda: m.vjp(lambda a: a > 0, t(X)),
        "vjp_cotangent_structure": lambda: m.vjp(lambda a: (a, a), t(X))[1](t(X)),
        "jvp_primals_not_tuple": lambda: m.jvp(vector, t(X), t(X)),
        "jvp_structure": lambda: m.jvp(vector, (t(X),), t(X)),
        "jvp_tangent_size": lambda: m.jvp(vector, (t(X),), (t(M),)),
        "jvp_empty": lambda: m.jvp(vector, (), ()),
        "jvp_numbers": lambda: m.jvp(vector, (3.0,), (3.0,)),
        "jvp_strict": lambda: m.jvp(lambda a: a.detach() * 2, (t(X),), (t(X),), strict=True),
        "jvp_aux_missing": lambda: m.jvp(vector, (t(X),), (t(X),), has_aux=True),
        "jacrev_chunk_size": lambda: m.jacrev(vector, chunk_size=0),
        "jacrev_aux_missing": lambda: m.jacrev(vector, has_aux=True)(t(X)),
        "jacfwd_aux_missing": lambda: m.jacfwd(vector, has_aux=True)(t(X)),
        "jacfwd_argnums": lambda: m.jacfwd(vector, argnums=3)(t(X)),
        "jacfwd_randomness": lambda: m.jacfwd(vector, randomness="sometimes")(t(X)),
        "call_bad_dicts": lambda: m.functional_call(lib.nn.Linear(3, 1), 3, (t(X),)),
        "call_bad_dict_list": lambda: m.functional_call(lib.nn.Linear(3, 1), [3], (t(X),)),
        "call_repeated_keys": lambda: m.functional_call(lib.nn.Linear(3, 1), [{"bias": t([1.0])}, {"bias": t([1.0])}], (t(X),)),
        "call_not_a_tensor": lambda: m.functional_call(lib.nn.Linear(3, 1), {"bias": 3}, (t(X),)),
        "call_strict": lambda: m.functional_call(lib.nn.Linear(3, 1), {"other": t([1.0])}, (t(X),), strict=True),
        "stack_empty": lambda: m.stack_module_state([]),
        "stack_classes": lambda: m.stack_module_state([lib.nn.Linear(3, 1), lib.nn.Tanh()]),
        "stack_modes": lambda: m.stack_module_state([lib.nn.Linear(3, 1), lib.nn.Linear(3, 1).eval()]),
    }


@pytest.mark.parametrize("case", list(_fn_errors(F, tinytorch, _ours)))
def test_errors_match_torch(case):
    torch = pytest.importorskip("torch")
    import torch.func as TF

    ours = _fn_errors(F, tinytorch, _ours)[case]
    theirs = _fn_errors(TF, torch, lambda a: _theirs(torch, a))[case]
    _assert_same_error(ours, theirs)


def test_transforms_on_every_device(device):
    """The same results on each device (the CUDA case checks the array code follows CuPy's rules)."""
    x = tinytorch.tensor(X, dtype=tinytorch.float64, device=device)
    w = tinytorch.tensor(M, dtype=tinytorch.float64, device=device)
    results = {
        "grad": F.grad(scalar)(x),
        "jacrev": F.jacrev(matrix_product(tinytorch), argnums=(0, 1))(w, x),
        "jacfwd": F.jacfwd(matrix_product(tinytorch), argnums=(0, 1))(w, x),
        "hessian": F.hessian(scalar)(x),
        "jvp": F.jvp(vector, (x,), (x * 0.5,)),
        "vjp": F.vjp(vector, x)[1](x * 0.5),
    }
    x_cpu, w_cpu = _ours(X), _ours(M)
    expected = {
        "grad": F.grad(scalar)(x_cpu),
        "jacrev": F.jacrev(matrix_product(tinytorch), argnums=(0, 1))(w_cpu, x_cpu),
        "jacfwd": F.jacrev(matrix_product(tinytorch), argnums=(0, 1))(w_cpu, x_cpu),
        "hessian": F.hessian(scalar)(x_cpu),
        "jvp": F.jvp(vector, (x_cpu,), (x_cpu * 0.5,)),
        "vjp": F.vjp(vector, x_cpu)[1](x_cpu * 0.5),
    }
    for name, result in results.items():
        flat_result, flat_expected = _leaves(result), _leaves(expected[name])
        assert len(flat_result) == len(flat_expected)
        for a, b in zip(flat_result, flat_expected):
            assert a.device.type == device
            np.testing.assert_allclose(a.cpu().numpy(), b.numpy(), rtol=1e-10, atol=1e-12)


def _leaves(tree):
    if isinstance(tree, (tuple, list)):
        return [leaf for child in tree for leaf in _leaves(child)]
    return [tree]
