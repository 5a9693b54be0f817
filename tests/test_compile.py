"""torch.compile, OptimizedModule, Module.compile and torch.compiler, against torch (tinytorch runs
the compiled code eagerly; these check the interface: wrappers, state_dict keys, reprs, errors)."""

import pytest

import tinytorch
from tinytorch._compile import OptimizedModule


def _model(lib):
    lib.manual_seed(0)
    return lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU(), lib.nn.Linear(4, 2))


def test_optimized_module_state_dict_repr_and_values_match_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = tinytorch.compile(_model(tinytorch)), torch.compile(_model(torch))
    assert isinstance(ours, OptimizedModule) and isinstance(ours, tinytorch.nn.Module)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert repr(ours) == repr(theirs)
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    x = [[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]
    out = ours(tinytorch.tensor(x))
    out.sum().backward()
    with torch.no_grad():
        expected = theirs._orig_mod(torch.tensor(x))  # the eager module: no compiler needed here
    assert out.detach().numpy() == pytest.approx(expected.numpy(), abs=1e-6)
    assert ours._orig_mod[0].weight.grad is not None


def test_optimized_module_attributes_fall_through():
    model = _model(tinytorch)
    compiled = tinytorch.compile(model)
    assert compiled._orig_mod is model and len(compiled) == 3
    assert tinytorch.compile(tinytorch.nn.Linear(2, 5)).out_features == 5  # read from the original
    with pytest.raises(TypeError, match="not subscriptable"):  # indexing is a type's method: not proxied, as torch
        compiled[0]
    compiled.extra = 7  # written on the original, as PyTorch
    assert model.extra == 7 and "extra" not in compiled.__dict__
    compiled.eval()
    assert not model.training and not compiled.training
    with pytest.raises(TypeError, match="Linear does not support len()"):
        len(tinytorch.compile(tinytorch.nn.Linear(2, 2)))
    assert "_orig_mod" in dir(compiled) and "extra" in dir(compiled)


def test_optimized_module_loads_torch_compiled_checkpoint_keys():
    compiled = tinytorch.compile(_model(tinytorch))
    state = {k: v * 0 + 1 for k, v in compiled.state_dict().items()}
    compiled.load_state_dict(state)
    assert float(compiled._orig_mod[2].bias.sum()) == 2.0


def test_compiled_function_is_wrapped_and_runs_eagerly():
    def f(x):
        """doc of f"""
        return x * 2 + 1

    compiled = tinytorch.compile(f)
    assert compiled is not f and compiled.__wrapped__ is f
    assert compiled.__name__ == "f" and compiled.__doc__ == "doc of f"
    assert compiled(tinytorch.tensor([1.0, 2.0])).tolist() == [3.0, 5.0]
    assert tinytorch.compile(f, disable=True) is f


def test_decorator_forms():
    @tinytorch.compile
    def bare(x):
        return x + 1

    @tinytorch.compile(fullgraph=True, dynamic=False, backend="eager")
    def with_arguments(x):
        return x - 1

    assert bare(1) == 2 and with_arguments(1) == 0
    with pytest.raises(RuntimeError, match="Model can't be None"):
        tinytorch.compile()(None)


@pytest.mark.parametrize("kwargs", [
    {"mode": "bogus"}, {"mode": "default", "options": {}}, {"backend": "bogus"}, {"mode": "bogus", "backend": "eager"},
    {"mode": "max-autotune"}, {"mode": "lite"}, {"options": {}, "backend": "eager"}, {"backend": lambda gm, inputs: gm},
])
def test_argument_checks_match_torch(kwargs):
    torch = pytest.importorskip("torch")

    def f(x):
        return x

    def outcome(lib):
        try:
            lib.compile(f, **kwargs)
        except Exception as error:  # noqa: BLE001 - the type and message are what is compared
            return isinstance(error, RuntimeError), str(error)
        return None

    assert outcome(tinytorch) == outcome(torch)


def test_non_callable_is_refused_as_torch():
    torch = pytest.importorskip("torch")
    for lib in (torch, tinytorch):
        with pytest.raises(AssertionError, match="A callable function is expected, but <class 'int'> is provided."):
            lib.compile(3)


def test_module_compile_in_place_matches_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = _model(tinytorch), _model(torch)
    assert ours.compile() is None and theirs.compile() is None
    assert type(ours) is tinytorch.nn.Sequential
    assert list(ours.state_dict()) == list(theirs.state_dict()) and repr(ours) == repr(theirs)
    # A compiled module still pickles (torch.save of a whole model), as PyTorch's does.
    import pickle

    again = pickle.loads(pickle.dumps(ours))
    x = tinytorch.ones(2, 3)
    assert tinytorch.equal(again(x), ours(x)) and type(again) is tinytorch.nn.Sequential
    with pytest.raises(RuntimeError, match="Either mode or options"):
        ours.compile(mode="default", options={})


def test_compiler_namespace_matches_torch():
    torch = pytest.importorskip("torch")
    compiler = tinytorch.compiler
    assert compiler.compile is tinytorch.compile
    for exclude in (("debug", "experimental"), None, ("debug",)):
        assert compiler.list_backends(exclude) == torch.compiler.list_backends(exclude)
    assert compiler.list_backends() == torch.compiler.list_backends()
    assert compiler.is_compiling() is torch.compiler.is_compiling() is False
    assert compiler.is_dynamo_compiling() is False and compiler.is_exporting() is False
    assert compiler.reset() is None and compiler.cudagraph_mark_step_begin() is None
    assert compiler.get_default_backend() == torch.compiler.get_default_backend()
    with pytest.raises(TypeError, match="backend must be a string or callable"):
        compiler.set_default_backend(3)
    assert not hasattr(tinytorch, "_dynamo")


def test_compiler_decorators():
    def f(x):
        return x + 1

    disabled = tinytorch.compiler.disable(f)
    assert disabled(1) == 2 and disabled.__wrapped__ is f and disabled.__name__ == "f"
    assert tinytorch.compiler.disable(recursive=False)(f)(2) == 3
    assert tinytorch.compiler.allow_in_graph(f) is f and tinytorch.compiler.allow_in_graph([f, f]) == [f, f]
    assert tinytorch.compiler.assume_constant_result(f) is f
    for bad in (lambda: tinytorch.compiler.disable(3), lambda: tinytorch.compiler.allow_in_graph(3)):
        with pytest.raises(AssertionError):
            bad()
    with tinytorch.compiler.set_stance("force_eager"):
        assert f(1) == 2
    with pytest.raises(RuntimeError, match="non-default stance cannot have force_backend set"):
        tinytorch.compiler.set_stance("force_eager", force_backend="eager")
    assert tinytorch.compiler.set_stance("default")(f)(1) == 2


def test_is_compiling_inside_compiled_function_is_false():
    seen = []
    tinytorch.compile(lambda: seen.append(tinytorch.compiler.is_compiling()))()
    assert seen == [False]
