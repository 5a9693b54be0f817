"""tinytorch.vmap / tinytorch.func.vmap: values and gradients against a Python loop and torch.vmap,
in_dims/out_dims pytrees, nesting, chunk_size, randomness modes, and torch's errors."""

import functools

import numpy as np
import pytest

import tinytorch

try:
    import torch
except ImportError:  # the comparisons with torch are skipped; the loop references still run
    torch = None

LIBS = [tinytorch] + ([torch] if torch is not None else [])
RANDOM_ERROR = (
    "vmap: called random operation while in randomness error mode. Please either use the 'same' or "
    "'different' randomness flags on vmap or perform the randomness operation out of vmap"
)


def _rng():
    return np.random.default_rng(1234)


def _numpy(value):
    return value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)


def _leaves(tree):
    if isinstance(tree, (tuple, list)):
        return [leaf for child in tree for leaf in _leaves(child)]
    if isinstance(tree, dict):
        return [leaf for key in sorted(tree) for leaf in _leaves(tree[key])]
    return [tree]


def _run(lib, case, arrays, device="cpu"):
    """Outputs and the inputs' gradients of sum(output * fixed cotangent) for one library."""
    make, in_dims, out_dims, wrap = case
    tensors = [lib.tensor(a, requires_grad=True, device=device) for a in arrays]
    func = make(lib)
    output = lib.vmap(func, in_dims, out_dims)(*wrap(tensors))
    outputs = _leaves(output)
    rng = np.random.default_rng(7)
    loss = sum((o * lib.tensor(rng.standard_normal(tuple(o.shape)), device=device)).sum() for o in outputs)
    grads = lib.autograd.grad(loss, tensors, allow_unused=True)
    return output, [_numpy(o) for o in outputs], [None if g is None else _numpy(g) for g in grads]


def _plain(tensors):
    return tensors


def _linear(lib):
    layer = lib.nn.Linear(4, 3).double()
    rng = _rng()
    with lib.no_grad():
        layer.weight.copy_(lib.tensor(rng.standard_normal((3, 4))))
        layer.bias.copy_(lib.tensor(rng.standard_normal(3)))
    return layer


# name: (make(lib) -> func, in_dims, out_dims, wrap(tensors) -> args), input shapes
CASES = {
    "elementwise": ((lambda lib: lambda x: lib.sin(x) * x + x.exp(), 0, 0, _plain), [(3, 4)]),
    "broadcast_unmapped": ((lambda lib: lambda x, w: x * w - w.tanh(), (0, None), 0, _plain), [(3, 4), (4,)]),
    "matmul": ((lambda lib: lambda a, b: a @ b, (0, None), 0, _plain), [(5, 2, 3), (3, 4)]),
    "matmul_both_mapped_dims": ((lambda lib: lib.matmul, (1, 0), 1, _plain), [(2, 5, 3), (5, 3, 4)]),
    "reductions": ((lambda lib: lambda x: (x.sum(0), x.mean(), x.max(dim=1).values, x.logsumexp(-1)),
                    0, (1, 0, -1, 0), _plain), [(3, 4, 5)]),
    "indexing": ((lambda lib: lambda x: x[1:, ::2] * x[0, :3], 0, 0, _plain), [(3, 4, 6)]),
    "index_tensor": ((lambda lib: lambda x: x[lib.tensor([2, 0, 2], device=x.device)] + x.gather(0, lib.tensor([1, 1, 0], device=x.device)),
                      0, 0, _plain), [(4, 3)]),
    "softmax_negative_in_dim": ((lambda lib: lambda x: lib.softmax(x, 0), -1, 0, _plain), [(4, 3)]),
    "dot": ((lambda lib: lib.dot, 0, 0, _plain), [(5, 4), (5, 4)]),
    "dot_in_dims_1": ((lambda lib: lib.dot, 1, 0, _plain), [(4, 5), (4, 5)]),
    "dot_unmapped": ((lambda lib: lib.dot, (0, None), 0, _plain), [(5, 4), (4,)]),
    "linear_closure": ((lambda lib: (lambda layer: lambda x: layer.to(x.device)(x).relu())(_linear(lib)), 0, 0, _plain),
                       [(6, 4)]),
    "dict_input": ((lambda lib: lambda d: lib.dot(d["x"], d["y"]), ({"x": 0, "y": None},), 0,
                    lambda t: ({"x": t[0], "y": t[1]},)), [(3, 5), (5,)]),
    "nested_list_input": ((lambda lib: lambda pair, z: pair[0] * pair[1] + z, ([0, 1], None), 0,
                           lambda t: ([t[0], t[1]], t[2])), [(3, 4), (4, 3), (4,)]),
    "dict_outputs": ((lambda lib: lambda x: {"double": 2 * x, "parts": [x.sum(), x[0]]},
                      0, {"double": 1, "parts": 0}, _plain), [(3, 4)]),
    "one_tuple_out_dims": ((lambda lib: lambda x: x.cos(), 0, (1,), _plain), [(3, 4)]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_gradients_match_a_loop_and_torch(name, device):
    case, shapes = CASES[name]
    rng = _rng()
    arrays = [rng.standard_normal(shape) for shape in shapes]
    _, ours, our_grads = _run(tinytorch, case, arrays, device)
    if torch is not None:
        _, theirs, their_grads = _run(torch, case, arrays)
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            assert a.shape == b.shape
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
        for a, b in zip(our_grads, their_grads):
            assert (a is None) == (b is None)
            if a is not None:
                np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_matches_an_explicit_loop_without_torch():
    """The same values and gradients as calling the function row by row (no torch needed)."""
    rng = _rng()
    x = tinytorch.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    w = tinytorch.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    func = lambda row, w: (row @ w).tanh() * row.sum()  # noqa: E731
    mapped = tinytorch.vmap(func, in_dims=(0, None))(x, w)
    loop = tinytorch.stack([func(row, w) for row in x])
    np.testing.assert_array_equal(_numpy(mapped), _numpy(loop))
    gx, gw = tinytorch.autograd.grad(mapped.square().sum(), (x, w))
    lx, lw = tinytorch.autograd.grad(loop.square().sum(), (x, w))
    np.testing.assert_array_equal(_numpy(gx), _numpy(lx))
    np.testing.assert_array_equal(_numpy(gw), _numpy(lw))


def test_second_derivatives_flow_through_vmap():
    rng = _rng()
    data = rng.standard_normal((3, 4))
    results = []
    for lib in LIBS:
        x = lib.tensor(data, requires_grad=True)
        y = lib.vmap(lambda row: (row.sin() * row).sum())(x)
        (first,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        (second,) = lib.autograd.grad(first.pow(2).sum(), x)
        results.append((_numpy(first), _numpy(second)))
    reference = np.sin(data) + data * np.cos(data)
    np.testing.assert_allclose(results[0][0], reference, rtol=1e-12)
    for first, second in results[1:]:
        np.testing.assert_allclose(results[0][0], first, rtol=1e-12)
        np.testing.assert_allclose(results[0][1], second, rtol=1e-12)


def test_nested_vmap_matches_torch():
    rng = _rng()
    a, b = rng.standard_normal((3, 5)), rng.standard_normal((4, 5))
    outs = []
    for lib in LIBS:
        x, y = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        pairwise = lib.vmap(lib.vmap(lib.dot, in_dims=(None, 0)), in_dims=(0, None))(x, y)
        assert tuple(pairwise.shape) == (3, 4)
        pairwise.pow(2).sum().backward()
        outs.append((_numpy(pairwise), _numpy(x.grad), _numpy(y.grad)))
    np.testing.assert_allclose(outs[0][0], a @ b.T, rtol=1e-12)
    for other in outs[1:]:
        for ours, theirs in zip(outs[0], other):
            np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_func_namespace_and_wrapping():
    assert tinytorch.func.vmap is tinytorch.vmap

    def scale(x, factor=2.0):
        """Scale x."""
        return x * factor

    mapped = tinytorch.vmap(scale)
    assert mapped.__name__ == "scale" and mapped.__doc__ == "Scale x."
    x = tinytorch.arange(6.0).reshape(2, 3)
    # keyword arguments are not mapped: each call sees the whole tensor
    assert tuple(mapped(x, factor=x).shape) == (2, 2, 3)
    np.testing.assert_array_equal(_numpy(mapped(x, factor=3.0)), _numpy(x) * 3)


def test_non_tensor_inputs_and_unmapped_outputs():
    x = tinytorch.arange(6.0).reshape(3, 2)
    w = tinytorch.ones(2)
    out, power, same = tinytorch.vmap(lambda row, n, w: (row ** n, n, w), in_dims=(0, None, None),
                                      out_dims=(0, None, None))(x, 2, w)
    np.testing.assert_array_equal(_numpy(out), _numpy(x) ** 2)
    assert power == 2 and same is w
    # an unmapped output computed inside (equal for every element) comes back once, as in torch
    ones = tinytorch.vmap(lambda row: tinytorch.ones(2), out_dims=None)(x)
    assert tuple(ones.shape) == (2,)


def test_chunk_size_gives_the_same_result():
    rng = _rng()
    x = tinytorch.tensor(rng.standard_normal((7, 3)), requires_grad=True)
    full = tinytorch.vmap(lambda row: row.softmax(0) * row)(x)
    for chunk_size in (1, 2, 3, 7, 10):
        chunked = tinytorch.vmap(lambda row: row.softmax(0) * row, chunk_size=chunk_size)(x)
        np.testing.assert_array_equal(_numpy(chunked), _numpy(full))
    (grad,) = tinytorch.autograd.grad(chunked.sum(), x)
    (reference,) = tinytorch.autograd.grad(full.sum(), x)
    np.testing.assert_array_equal(_numpy(grad), _numpy(reference))


def test_empty_batch_keeps_shapes_like_torch():
    for lib in LIBS:
        out, total = lib.vmap(lambda row: (row * 2, row.sum()), out_dims=(1, 0))(lib.zeros(0, 3))
        assert tuple(out.shape) == (3, 0) and tuple(total.shape) == (0,)


def test_in_place_on_a_mapped_input_writes_through_like_torch():
    for lib in LIBS:
        x = lib.zeros(3, 2)
        lib.vmap(lambda row: row.add_(1))(x)
        assert (x == 1).all().item()


# -- randomness --------------------------------------------------------------------------------------
RANDOM_OPS = {
    "rand": lambda lib, row: row + lib.rand(row.shape),
    "randn_like": lambda lib, row: lib.randn_like(row),
    "randint": lambda lib, row: lib.randint(0, 5, (2,)),
    "randperm": lambda lib, row: lib.randperm(4),
    "normal_": lambda lib, row: row.clone().normal_(),
    "uniform_": lambda lib, row: row.clone().uniform_(),
    "bernoulli": lambda lib, row: lib.bernoulli(row.sigmoid()),
    "dropout": lambda lib, row: lib.nn.functional.dropout(row, 0.5),
    "multinomial": lambda lib, row: lib.multinomial(row.exp(), 2),
    "generator": lambda lib, row: lib.rand(3, generator=lib.Generator()),
}


@pytest.mark.parametrize("op", sorted(RANDOM_OPS))
def test_random_ops_raise_in_error_mode_like_torch(op):
    for lib in LIBS:
        x = lib.zeros(3, 4)
        with pytest.raises(RuntimeError) as error:
            lib.vmap(functools.partial(RANDOM_OPS[op], lib))(x)
        assert str(error.value) == RANDOM_ERROR
    tinytorch.rand(2)  # the check is gone once vmap has returned (or raised)


def test_error_mode_of_any_enclosing_vmap_wins_like_torch():
    for lib in LIBS:
        x = lib.zeros(2, 3)
        draw = lambda v, lib=lib: v + lib.rand(())  # noqa: E731
        for mapped in (lib.vmap(lib.vmap(draw, randomness="different")), lib.vmap(lib.vmap(draw), randomness="different")):
            with pytest.raises(RuntimeError, match="randomness error mode"):
                mapped(x)
        # not drawing is fine, and dropout that does not draw (eval) is not random
        lib.vmap(lambda row, lib=lib: lib.nn.functional.dropout(row, 0.5, training=False))(x)


def _rows_all_equal(rows):
    return all(np.array_equal(rows[0], row) for row in rows[1:])


def _rows_all_different(rows):
    return all(not np.array_equal(rows[i], rows[j]) for i in range(len(rows)) for j in range(i))


@pytest.mark.parametrize("op", ["rand", "normal_", "dropout", "generator_reused"])
def test_randomness_different_and_same(op, device):
    def draw(lib, generator, row):
        if op == "rand":
            return row + lib.rand(row.shape, device=row.device)
        if op == "normal_":
            return row.clone().normal_()
        if op == "dropout":
            return lib.nn.functional.dropout(row, 0.5)
        return row + lib.rand(row.shape, generator=generator, device=row.device)

    for lib in LIBS:
        dev = device if lib is tinytorch else "cpu"
        generator = lib.Generator(dev) if op == "generator_reused" else None
        x = lib.ones(5, 16, device=dev)
        func = functools.partial(draw, lib, generator)
        different = _numpy(lib.vmap(func, randomness="different")(x))
        same = _numpy(lib.vmap(func, randomness="same")(x))
        assert _rows_all_different(different)
        assert _rows_all_equal(same)
        again = _numpy(lib.vmap(func, randomness="same")(x))
        assert not np.array_equal(same[0], again[0])  # the generator moved on: the next call draws anew


def test_same_randomness_nested_with_different():
    for lib in LIBS:
        x = lib.zeros(3, 4, 6)
        draw = lambda v, lib=lib: v + lib.rand(v.shape)  # noqa: E731
        outer_same = _numpy(lib.vmap(lib.vmap(draw, randomness="different"), randomness="same")(x))
        assert _rows_all_equal(list(outer_same)) and _rows_all_different(list(outer_same[0]))
        inner_same = _numpy(lib.vmap(lib.vmap(draw, randomness="same"), randomness="different")(x))
        assert _rows_all_different(list(inner_same[:, 0])) and _rows_all_equal(list(inner_same[1]))
        both_same = _numpy(lib.vmap(lib.vmap(draw, randomness="same"), randomness="same")(x)).reshape(12, 6)
        assert _rows_all_equal(list(both_same))


def test_same_randomness_restores_the_generator_after_an_error():
    tinytorch.manual_seed(3)
    expected = _numpy(tinytorch.rand(4))

    def fail(row):
        tinytorch.rand(2)
        raise KeyError("boom")

    tinytorch.manual_seed(3)
    with pytest.raises(KeyError):
        tinytorch.vmap(fail, randomness="same")(tinytorch.zeros(2, 2))
    after = _numpy(tinytorch.rand(4))
    # the generator is the default one again (advanced by the one seed draw), not the shared stream
    assert not np.array_equal(after, expected)
    tinytorch.manual_seed(3)
    np.testing.assert_array_equal(_numpy(tinytorch.rand(4)), expected)
    with pytest.raises(RuntimeError, match="randomness error mode"):
        tinytorch.vmap(lambda row: tinytorch.rand(2))(tinytorch.zeros(2, 2))


# -- errors: torch's types and messages --------------------------------------------------------------
def f(a, b=None):
    return a


def returns_float(a):
    return 1.0


ERROR_CASES = {
    "batch_sizes": (lambda lib: lib.vmap(lambda a, b: a + b), lambda lib: (lib.zeros(3, 4), lib.zeros(4, 3))),
    "no_inputs": (lambda lib: lib.vmap(lambda: 0), lambda lib: ()),
    "in_dims_list": (lambda lib: lib.vmap(f, in_dims=[0]), lambda lib: (lib.zeros(3),)),
    "in_dims_none": (lambda lib: lib.vmap(f, in_dims=None), lambda lib: (lib.zeros(3),)),
    "in_dims_too_long": (lambda lib: lib.vmap(f, in_dims=(0, 0)), lambda lib: (lib.zeros(3),)),
    "in_dims_too_deep": (lambda lib: lib.vmap(f, in_dims=((0,),)), lambda lib: (lib.zeros(3),)),
    "in_dims_list_for_tuple": (lambda lib: lib.vmap(lambda t: t[0], in_dims=([0],)), lambda lib: ((lib.zeros(3),),)),
    "in_dims_dict_keys": (lambda lib: lib.vmap(lambda d: d["a"], in_dims=({"a": 0, "c": None},)),
                          lambda lib: ({"a": lib.zeros(3), "b": 1},)),
    "in_dim_string": (lambda lib: lib.vmap(f, in_dims=("a",)), lambda lib: (lib.zeros(3),)),
    "in_dim_non_tensor": (lambda lib: lib.vmap(f, in_dims=(0, 0)), lambda lib: (lib.zeros(3), 3)),
    "in_dim_range": (lambda lib: lib.vmap(f, in_dims=2), lambda lib: (lib.zeros(3, 4),)),
    "in_dim_negative_range": (lambda lib: lib.vmap(f, in_dims=-3), lambda lib: (lib.zeros(3, 4),)),
    "in_dim_zero_dim": (lambda lib: lib.vmap(f), lambda lib: (lib.tensor(1.0),)),
    "nothing_mapped": (lambda lib: lib.vmap(f, in_dims=(None,)), lambda lib: (lib.zeros(3),)),
    "partial_name": (lambda lib: lib.vmap(functools.partial(f), in_dims=0.5), lambda lib: (lib.zeros(3),)),
    "returns_float": (lambda lib: lib.vmap(returns_float), lambda lib: (lib.zeros(3),)),
    "returns_none": (lambda lib: lib.vmap(lambda a: None), lambda lib: (lib.zeros(3),)),
    "mapped_output_with_out_dim_none": (lambda lib: lib.vmap(f, out_dims=None), lambda lib: (lib.arange(6.0).reshape(3, 2),)),
    "out_dims_string": (lambda lib: lib.vmap(f, out_dims="a"), lambda lib: (lib.zeros(3),)),
    "out_dims_float_leaf": (lambda lib: lib.vmap(lambda a: (a, a), out_dims=(0, 1.5)), lambda lib: (lib.zeros(3),)),
    "out_dims_list": (lambda lib: lib.vmap(f, out_dims=[0]), lambda lib: (lib.zeros(3),)),
    "out_dims_too_long": (lambda lib: lib.vmap(lambda a: (a, a), out_dims=(0, 0, 0)), lambda lib: (lib.zeros(3),)),
    "out_dim_range": (lambda lib: lib.vmap(f, out_dims=2), lambda lib: (lib.zeros(3, 4),)),
    "out_dim_negative_range": (lambda lib: lib.vmap(f, out_dims=-3), lambda lib: (lib.zeros(3, 4),)),
    "randomness": (lambda lib: lib.vmap(f, randomness="foo"), None),
    "chunk_size": (lambda lib: lib.vmap(f, chunk_size=0), None),
}
EXPECTED_TYPES = {"randomness": RuntimeError, "out_dim_range": IndexError, "out_dim_negative_range": IndexError}


def _error(lib, name):
    make, args = ERROR_CASES[name]
    with pytest.raises(Exception) as error:
        mapped = make(lib)
        mapped(*args(lib))
    return error.value


@pytest.mark.parametrize("name", sorted(ERROR_CASES))
def test_errors_match_torch(name):
    ours = _error(tinytorch, name)
    assert type(ours) is EXPECTED_TYPES.get(name, ValueError)
    assert str(ours).startswith("vmap") or name in EXPECTED_TYPES
    if torch is not None:
        theirs = _error(torch, name)
        assert type(ours) is type(theirs)
        assert str(ours) == str(theirs)


def test_batch_size_message():
    with pytest.raises(ValueError) as error:
        tinytorch.vmap(lambda a, b: a + b)(tinytorch.zeros(3, 4), tinytorch.zeros(4, 3))
    assert str(error.value) == (
        "vmap: Expected all tensors to have the same size in the mapped dimension, got sizes [3, 4] for the mapped dimension"
    )


def test_module_as_func_and_parameter_gradients_match_the_batched_layer():
    rng = _rng()
    data = rng.standard_normal((5, 4))
    grads = []
    for lib in LIBS:
        layer = _linear(lib)
        x = lib.tensor(data)
        mapped = lib.vmap(layer)(x)  # a Module has no __name__: vmap still wraps it
        np.testing.assert_allclose(_numpy(mapped), _numpy(layer(x)), rtol=1e-12)
        mapped.square().sum().backward()
        grads.append((_numpy(layer.weight.grad), _numpy(layer.bias.grad)))
        layer.zero_grad()
        layer(x).square().sum().backward()
        np.testing.assert_allclose(grads[-1][0], _numpy(layer.weight.grad), rtol=1e-12)
        np.testing.assert_allclose(grads[-1][1], _numpy(layer.bias.grad), rtol=1e-12)
    for weight, bias in grads[1:]:
        np.testing.assert_allclose(grads[0][0], weight, rtol=1e-12)
        np.testing.assert_allclose(grads[0][1], bias, rtol=1e-12)
