"""0-d edges of nonzero and chunk, and unbind's one node with numbered outputs, against PyTorch."""

import numpy as np
import pytest

import tinytorch


@pytest.mark.parametrize("value", [3.0, 0.0, -0.5, True, False, 7, 0])
def test_nonzero_of_a_0d_tensor(value, device):
    x = tinytorch.tensor(value, device=device)
    expected_rows = 1 if value else 0
    for out in (tinytorch.nonzero(x), x.nonzero()):
        assert out.shape == (expected_rows, 0) and out.dtype == tinytorch.int64 and out.device == x.device
    for parts in (tinytorch.nonzero(x, as_tuple=True), x.nonzero(as_tuple=True)):
        assert len(parts) == 1 and parts[0].dtype == tinytorch.int64
        assert parts[0].cpu().tolist() == ([0] if value else [])


@pytest.mark.parametrize("value", [3.0, 0.0, True, 0])
def test_nonzero_of_a_0d_tensor_matches_pytorch(value):
    torch = pytest.importorskip("torch")
    ours, theirs = tinytorch.tensor(value), torch.tensor(value)
    assert tuple(tinytorch.nonzero(ours).shape) == tuple(torch.nonzero(theirs).shape)
    assert [p.tolist() for p in tinytorch.nonzero(ours, as_tuple=True)] == [p.tolist() for p in torch.nonzero(theirs, as_tuple=True)]


def _error(fn):
    try:
        fn()
    except Exception as error:  # noqa: BLE001 - the error itself is what is compared
        return type(error), str(error)
    return None


@pytest.mark.parametrize("call", [
    lambda lib: lib.tensor(3.0).chunk(2),
    lambda lib: lib.tensor(3.0).chunk(0),  # the dimension is checked before the count, as PyTorch
    lambda lib: lib.chunk(lib.tensor(3.0), 1),
    lambda lib: lib.tensor(3.0).unbind(),
    lambda lib: lib.unbind(lib.tensor(3.0), -1),
    lambda lib: lib.tensor(3.0).unbind(1),
])
def test_0d_chunk_and_unbind_raise_as_pytorch(call):
    torch = pytest.importorskip("torch")
    expected = _error(lambda: call(torch))
    assert expected is not None
    assert _error(lambda: call(tinytorch)) == expected


def test_0d_chunk_raises_without_torch():
    with pytest.raises(RuntimeError, match="chunk expects at least a 1-dimensional tensor"):
        tinytorch.tensor(3.0).chunk(2)


@pytest.mark.parametrize("shape, dim", [((3, 2), 0), ((3, 2), 1), ((3, 2), -1), ((4,), 0), ((1, 2), 0)])
def test_unbind_pieces_are_numbered_outputs_of_one_node(shape, dim, device):
    x = tinytorch.randn(*shape, device=device, requires_grad=True)
    pieces = x.unbind(dim)
    assert len(pieces) == shape[dim]
    assert all(p.grad_fn is pieces[0].grad_fn for p in pieces)
    assert pieces[0].grad_fn.name() == "UnbindBackward0"
    assert [p.output_nr for p in pieces] == list(range(len(pieces)))
    for i, p in enumerate(pieces):
        np.testing.assert_array_equal(p.detach().cpu().numpy(), np.take(x.detach().cpu().numpy(), i, axis=dim))
        assert p._base is x and p._version is x._version  # views, as PyTorch's


def test_unbind_matches_pytorch_numbering_and_gradients():
    torch = pytest.importorskip("torch")
    data = np.random.default_rng(0).standard_normal((3, 4))
    grads = {}
    for lib in (tinytorch, torch):
        x = lib.tensor(data, requires_grad=True)
        pieces = x.unbind(1)
        assert [p.output_nr for p in pieces] == [0, 1, 2, 3]
        assert pieces[0].grad_fn.name() == "UnbindBackward0"
        # Only some pieces used: the others' gradients are zeros.
        (pieces[1] * pieces[3] ** 2).sum().backward()
        grads[lib] = x.grad.numpy()
    np.testing.assert_allclose(grads[tinytorch], grads[torch])


def test_unbind_second_derivative():
    x = tinytorch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=tinytorch.float64, requires_grad=True)
    (g,) = tinytorch.autograd.grad((x.unbind(0)[1] ** 3).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), [[0.0, 0.0], [27.0, 48.0]])
    (gg,) = tinytorch.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), [[0.0, 0.0], [18.0, 24.0]])


def test_unbind_of_an_empty_dim_and_without_grad():
    assert tinytorch.zeros(0, 2).unbind(0) == ()
    pieces = tinytorch.arange(6.0).reshape(2, 3).unbind(1)
    assert [p.tolist() for p in pieces] == [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]
    assert all(p.grad_fn is None for p in pieces)
    base = tinytorch.arange(6.0).reshape(2, 3)
    base.unbind(1)[0].add_(10)  # a view: the base sees it
    assert base.tolist() == [[10.0, 1.0, 2.0], [13.0, 4.0, 5.0]]
