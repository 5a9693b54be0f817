"""hsplit/vsplit/dsplit, tensor_split by indices, select, moveaxis, row_stack and unravel_index:
pieces, views, gradients and errors against torch."""

import numpy as np
import pytest

import tinytorch


def _pair(shape, device="cpu"):
    torch = pytest.importorskip("torch")
    values = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    return tinytorch.tensor(values, device=device), torch.tensor(values)


def _same_pieces(ours, theirs):
    assert isinstance(ours, tuple) and len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_array_equal(a.cpu().numpy(), b.numpy())


def _same_error(call, shape=(2, 3, 4)):
    x, tx = _pair(shape)
    with pytest.raises(Exception) as expected:
        call(tx)
    with pytest.raises(Exception) as got:
        call(x)
    assert type(got.value) is type(expected.value)
    assert str(got.value).split("\n")[0] == str(expected.value).split("\n")[0]


@pytest.mark.parametrize("name, shape, cuts", [
    ("hsplit", (2, 3, 4), 3), ("hsplit", (2, 3, 4), [1, 2]), ("hsplit", (2, 3, 4), (1,)), ("hsplit", (6,), 2),
    ("hsplit", (2, 3, 4), [5, 1]), ("hsplit", (2, 3, 4), []), ("vsplit", (4, 3), 2), ("vsplit", (4, 3), [-1]),
    ("dsplit", (2, 3, 4), 2), ("dsplit", (2, 3, 4), [1, 3]), ("dsplit", (1, 1, 6, 2), [0, 6]),
])
def test_splits_match_torch(name, shape, cuts, device):
    torch = pytest.importorskip("torch")
    x, tx = _pair(shape, device)
    _same_pieces(getattr(tinytorch, name)(x, cuts), getattr(torch, name)(tx, cuts))
    _same_pieces(getattr(x, name)(cuts), getattr(tx, name)(cuts))


def test_split_methods_take_indices_as_separate_ints_and_keywords():
    torch = pytest.importorskip("torch")
    x, tx = _pair((2, 6, 4))
    _same_pieces(x.hsplit(1, 2), tx.hsplit(1, 2))
    _same_pieces(x.dsplit(1, 3), tx.dsplit(1, 3))
    _same_pieces(tinytorch.hsplit(x, sections=3), torch.hsplit(tx, sections=3))
    _same_pieces(tinytorch.vsplit(x, indices=[1]), torch.vsplit(tx, indices=[1]))


@pytest.mark.parametrize("call", [
    lambda lib, x: lib.hsplit(x, 2), lambda lib, x: lib.hsplit(x, 0), lambda lib, x: lib.hsplit(x, -1),
    lambda lib, x: lib.dsplit(x, 3), lambda lib, x: lib.vsplit(x.flatten(), 2), lambda lib, x: lib.dsplit(x[0], 1),
    lambda lib, x: lib.hsplit(x.sum(), 2), lambda lib, x: lib.hsplit(x, 2.0), lambda lib, x: lib.hsplit(x, True),
])
def test_split_errors_match_torch(call):
    torch = pytest.importorskip("torch")
    _same_error(lambda x: call(torch if x.__class__.__module__.startswith("torch") else tinytorch, x))


def test_split_pieces_are_views_and_carry_gradients():
    x = tinytorch.arange(12.0).reshape(3, 4).requires_grad_()
    pieces = tinytorch.hsplit(x, [1, 3])
    sum(piece.sum() * (i + 1) for i, piece in enumerate(pieces)).backward()
    assert x.grad.tolist() == [[1.0, 2.0, 2.0, 3.0]] * 3
    y = tinytorch.zeros(2, 4)
    y.vsplit(2)[1].fill_(5)
    assert y.tolist() == [[0.0] * 4, [5.0] * 4]


@pytest.mark.parametrize("cuts", [[-1], [-7, 2], [3, -4], [], 3, 7, [1, 3, 3]])
def test_tensor_split_by_indices_cuts_as_torch(cuts):
    torch = pytest.importorskip("torch")
    x, tx = _pair((5, 2))
    _same_pieces(tinytorch.tensor_split(x, cuts), torch.tensor_split(tx, cuts))
    _same_pieces(x.tensor_split(cuts, 1 if isinstance(cuts, int) else 0), tx.tensor_split(cuts, 1 if isinstance(cuts, int) else 0))


def test_tensor_split_takes_index_tensors_and_keywords():
    torch = pytest.importorskip("torch")
    x, tx = _pair((5,))
    _same_pieces(tinytorch.tensor_split(x, tinytorch.tensor([1, 3])), torch.tensor_split(tx, torch.tensor([1, 3])))
    _same_pieces(tinytorch.tensor_split(x, tinytorch.tensor(2)), torch.tensor_split(tx, torch.tensor(2)))
    _same_pieces(tinytorch.tensor_split(x, indices=[2]), torch.tensor_split(tx, indices=[2]))
    _same_pieces(tinytorch.tensor_split(x, sections=2), torch.tensor_split(tx, sections=2))


@pytest.mark.parametrize("call", [
    lambda lib, x: lib.tensor_split(x, 0), lambda lib, x: lib.tensor_split(x, -2),
    lambda lib, x: lib.tensor_split(x, lib.tensor([[2]])), lambda lib, x: lib.tensor_split(x, lib.tensor([2.0])),
    lambda lib, x: lib.tensor_split(x.sum(), 2),
])
def test_tensor_split_errors_match_torch(call):
    torch = pytest.importorskip("torch")
    _same_error(lambda x: call(torch if x.__class__.__module__.startswith("torch") else tinytorch, x), shape=(5,))


@pytest.mark.parametrize("dim, index", [(0, 1), (1, -1), (-1, 0), (2, 3)])
def test_select_matches_torch(dim, index, device):
    torch = pytest.importorskip("torch")
    x, tx = _pair((2, 3, 4), device)
    _same_pieces((tinytorch.select(x, dim, index), x.select(dim, index)), (torch.select(tx, dim, index), tx.select(dim, index)))


def test_select_is_a_view_with_a_gradient():
    x = tinytorch.zeros(2, 3, requires_grad=True)
    (x.select(1, 2) * tinytorch.tensor([2.0, 3.0])).sum().backward()
    assert x.grad.tolist() == [[0.0, 0.0, 2.0], [0.0, 0.0, 3.0]]
    y = tinytorch.zeros(2, 3)
    y.select(0, 1).fill_(1)
    assert y.tolist() == [[0.0] * 3, [1.0] * 3]


@pytest.mark.parametrize("call", [
    lambda lib, x: lib.select(x, 1, 3), lambda lib, x: x.select(-1, -5), lambda lib, x: lib.select(x, 3, 0),
    lambda lib, x: lib.select(x.sum(), 0, 0), lambda lib, x: lib.select(x, 0, 1.0), lambda lib, x: lib.select(x, 0, True),
])
def test_select_errors_match_torch(call):
    torch = pytest.importorskip("torch")
    _same_error(lambda x: call(torch if x.__class__.__module__.startswith("torch") else tinytorch, x))


@pytest.mark.parametrize("source, destination", [(0, 2), (-1, 0), ([0, 1], [2, 0]), ((1,), (0,))])
def test_moveaxis_is_movedim(source, destination, device):
    torch = pytest.importorskip("torch")
    x, tx = _pair((2, 3, 4), device)
    _same_pieces((tinytorch.moveaxis(x, source, destination), x.moveaxis(source, destination)),
                 (torch.moveaxis(tx, source, destination), tx.moveaxis(source, destination)))


def test_row_stack_is_vstack():
    torch = pytest.importorskip("torch")
    a, ta = _pair((3,))
    b, tb = _pair((2, 3))
    _same_pieces((tinytorch.row_stack([a, b]),), (torch.row_stack([ta, tb]),))


@pytest.mark.parametrize("indices, shape", [
    ([4, 1], (2, 3)), (4, (2, 3)), (-1, (2, 3)), (6, (2, 3)), (6, 6), ([[1, 2]], [2, 3]), ([1234, 5678], (10, 10, 10, 10)),
    ([1], ()), ([], (2, 0)),
])
def test_unravel_index_matches_torch(indices, shape, device):
    torch = pytest.importorskip("torch")
    ours = tinytorch.unravel_index(tinytorch.tensor(indices, dtype=tinytorch.int64, device=device), shape)
    theirs = torch.unravel_index(torch.tensor(indices, dtype=torch.int64), shape)
    _same_pieces(ours, theirs)
    assert all(t.dtype == tinytorch.int64 for t in ours)


@pytest.mark.parametrize("indices, shape", [
    ("float", (2, 3)), ("bool", (2, 3)), ([1], (2, -3)), ([1], (2.0, 3)), ([0], (2, 0)), ([1], "ab"),
])
def test_unravel_index_errors_match_torch(indices, shape):
    torch = pytest.importorskip("torch")

    def call(lib):
        made = lib.tensor([1.0]) if indices == "float" else lib.tensor([True]) if indices == "bool" else lib.tensor(indices)
        return lib.unravel_index(made, shape)

    with pytest.raises(Exception) as expected:
        call(torch)
    with pytest.raises(Exception) as got:
        call(tinytorch)
    assert type(got.value) is type(expected.value)
    assert str(got.value).replace("tinytorch.", "torch.") == str(expected.value)
