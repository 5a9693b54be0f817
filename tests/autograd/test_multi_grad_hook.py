"""autograd.graph.register_multi_grad_hook and GradientEdge, for both libraries alike."""

import pytest

import tinytorch

LIBS = ["tinytorch", "torch"]


def _values(grads):
    return [None if g is None else g.tolist() for g in grads]


@pytest.mark.parametrize("lib_name", LIBS)
def test_all_mode_fires_once_with_the_gradients_this_backward_computes(lib_name):
    lib = pytest.importorskip(lib_name)
    graph = lib.autograd.graph
    a, b, c = (lib.tensor(v, requires_grad=True) for v in ([1.0, 2.0], [3.0], [5.0]))
    calls = []
    handle = graph.register_multi_grad_hook((a, b, c), lambda grads: calls.append(_values(grads)))
    (a.sum() * b.sum()).backward()
    assert calls == [[[3.0, 3.0], [3.0], None]]
    (a.sum() * b.sum() * c.sum()).backward()
    assert calls[1:] == [[[15.0, 15.0], [15.0], [9.0]]]
    handle.remove()
    (a.sum() * b.sum()).backward()
    assert len(calls) == 2
    h1, h2 = a * 2, b * 3  # non-leaves, through autograd.grad of one of them
    graph.register_multi_grad_hook((h1, h2), lambda grads: calls.append(_values(grads)))
    lib.autograd.grad((h1.sum() * h2.sum()), h1)
    assert calls[2:] == [[[9.0, 9.0], None]]


@pytest.mark.parametrize("lib_name", LIBS)
def test_any_mode_fires_with_the_first_gradient(lib_name):
    lib = pytest.importorskip(lib_name)
    graph = lib.autograd.graph
    a, b = lib.tensor([1.0, 2.0], requires_grad=True), lib.tensor([3.0], requires_grad=True)
    seen = []
    graph.register_multi_grad_hook((a, b), lambda g: seen.append(g.tolist()), mode="any")
    (a.sum() * b.sum()).backward()
    (a.sum() * 2).backward()
    assert seen == [[3.0], [2.0, 2.0]]
    with pytest.raises(ValueError, match="Expects mode to be one of"):
        graph.register_multi_grad_hook((a,), print, mode="first")


def test_all_mode_counts_leaves_under_autograd_grad():
    """PyTorch refuses a leaf here ("not supported" from _will_engine_execute_node); tinytorch
    knows which leaves the call captures and fires once with theirs."""
    graph = tinytorch.autograd.graph
    a, b, c = (tinytorch.tensor(v, requires_grad=True) for v in ([1.0, 2.0], [3.0], [5.0]))
    calls = []
    graph.register_multi_grad_hook((a, b, c), lambda grads: calls.append(_values(grads)))
    tinytorch.autograd.grad(a.sum() * b.sum() * c.sum(), (a, b))
    assert calls == [[[15.0, 15.0], [15.0], None]]


@pytest.mark.parametrize("lib_name", LIBS)
def test_gradient_edges_as_inputs_of_grad(lib_name):
    lib = pytest.importorskip(lib_name)
    graph = lib.autograd.graph
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    hidden = x * 3
    edge = graph.get_gradient_edge(hidden)
    assert isinstance(edge, graph.GradientEdge) and edge.node is hidden.grad_fn and edge.output_nr == 0
    assert lib.autograd.grad((hidden * hidden).sum(), edge)[0].tolist() == [6.0, 12.0]
    grads = lib.autograd.grad((hidden * hidden).sum(), [graph.get_gradient_edge(x), edge])
    assert [g.tolist() for g in grads] == [[18.0, 36.0], [6.0, 12.0]]
    with pytest.raises(RuntimeError, match="materialize_grads cannot be used when the given input is a GradientEdge"):
        lib.autograd.grad((x * 2).sum(), edge, materialize_grads=True, allow_unused=True)
    with pytest.raises(RuntimeError, match="not possible to get the gradient edge"):
        graph.get_gradient_edge(lib.tensor([1.0]))
