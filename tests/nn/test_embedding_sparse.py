"""Embedding gradients as PyTorch's embedding_backward gives them: sparse COO (``sparse=True``)
and scaled by each index's frequency (``scale_grad_by_freq=True``), for ``embedding`` and
``embedding_bag``; their accumulation into ``.grad``, ``zero_grad`` and double backward."""

import numpy as np
import pytest

import tinytorch
import tinytorch.nn.functional as F

WEIGHT = np.random.default_rng(0).standard_normal((6, 3))
INDEX = [[0, 2, 0], [4, 2, 1]]
GRAD = np.arange(18.0).reshape(2, 3, 3)


def _weight(lib, device="cpu", dtype=np.float64):
    return lib.tensor(WEIGHT.astype(dtype), device=device, requires_grad=True)


def _backward(lib, weight, index, grad=GRAD, device="cpu", **kwargs):
    out = lib.nn.functional.embedding(lib.tensor(index, device=device), weight, **kwargs)
    (out * lib.tensor(grad.astype(WEIGHT.dtype), device=device)).sum().backward()
    return weight.grad


def _host(t):
    return t.detach().cpu().numpy()


def _dense(grad):
    return _host(grad.to_dense() if grad.is_sparse else grad)


# -- sparse=True ------------------------------------------------------------------------------------
def test_sparse_gradient_holds_one_entry_per_lookup(device):
    weight = _weight(tinytorch, device)
    grad = _backward(tinytorch, weight, INDEX, device=device, sparse=True)
    assert grad.is_sparse and not grad.is_coalesced()
    assert grad.device.type == device and tuple(grad.shape) == (6, 3)
    np.testing.assert_array_equal(_host(grad._indices()), [[0, 2, 0, 4, 2, 1]])
    np.testing.assert_array_equal(_host(grad._values()), GRAD.reshape(6, 3))
    expected = np.zeros((6, 3))
    np.add.at(expected, [0, 2, 0, 4, 2, 1], GRAD.reshape(6, 3))
    np.testing.assert_array_equal(_dense(grad), expected)


def test_sparse_gradient_leaves_out_padding(device):
    weight = _weight(tinytorch, device)
    grad = _backward(tinytorch, weight, INDEX, device=device, sparse=True, padding_idx=2)
    np.testing.assert_array_equal(_host(grad._indices()), [[0, 0, 4, 1]])
    np.testing.assert_array_equal(_host(grad._values()), GRAD.reshape(6, 3)[[0, 2, 3, 5]])


def test_sparse_gradient_of_padding_only_is_empty(device):
    weight = _weight(tinytorch, device)
    grad = _backward(tinytorch, weight, [[1, 1, 1], [1, 1, 1]], device=device, sparse=True, padding_idx=1)
    assert grad.is_sparse and grad._nnz() == 0
    assert tuple(grad._indices().shape) == (1, 0) and tuple(grad._values().shape) == (0, 3)


@pytest.mark.parametrize("kwargs", [dict(), dict(padding_idx=1), dict(padding_idx=-2), dict(max_norm=1.0)])
@pytest.mark.parametrize("index_dtype", ["int64", "int32"])
def test_sparse_gradient_matches_torch(kwargs, index_dtype):
    torch = pytest.importorskip("torch")
    grads = []
    for lib in (tinytorch, torch):
        weight = _weight(lib)
        index = lib.tensor(INDEX, dtype=getattr(lib, index_dtype))
        out = lib.nn.functional.embedding(index, weight, sparse=True, **kwargs)
        (out * lib.tensor(GRAD)).sum().backward()
        grads.append(weight.grad)
    ours, theirs = grads
    assert ours.is_sparse and theirs.is_sparse
    np.testing.assert_array_equal(_host(ours._indices()), theirs._indices().numpy())
    np.testing.assert_allclose(_host(ours._values()), theirs._values().numpy())
    np.testing.assert_allclose(_dense(ours), theirs.to_dense().numpy())


def test_sparse_with_scale_grad_by_freq_is_refused_at_backward():
    weight = _weight(tinytorch)
    out = F.embedding(tinytorch.tensor(INDEX), weight, sparse=True, scale_grad_by_freq=True)  # as PyTorch: no error yet
    with pytest.raises(RuntimeError, match="embedding_backward: scale_grad_by_freq not supported with sparse gradients"):
        out.sum().backward()


def test_module_sparse_flag():
    embedding = tinytorch.nn.Embedding(10, 4, sparse=True)
    embedding(tinytorch.tensor([1, 7, 1])).sum().backward()
    assert embedding.weight.grad.is_sparse
    np.testing.assert_array_equal(_host(embedding.weight.grad._indices()), [[1, 7, 1]])


# -- scale_grad_by_freq ---------------------------------------------------------------------------
def test_scale_grad_by_freq_divides_by_each_index_count(device):
    weight = _weight(tinytorch, device)
    grad = _backward(tinytorch, weight, INDEX, device=device, scale_grad_by_freq=True)
    rows = GRAD.reshape(6, 3)
    expected = np.zeros((6, 3))
    expected[0] = (rows[0] + rows[2]) / 2
    expected[2] = (rows[1] + rows[4]) / 2
    expected[4], expected[1] = rows[3], rows[5]
    assert not grad.is_sparse
    np.testing.assert_allclose(_host(grad), expected)


@pytest.mark.parametrize("padding_idx", [None, 2, 0])
def test_scale_grad_by_freq_matches_torch(padding_idx):
    torch = pytest.importorskip("torch")
    ours = _backward(tinytorch, _weight(tinytorch), INDEX, scale_grad_by_freq=True, padding_idx=padding_idx)
    theirs = _backward(torch, _weight(torch), INDEX, scale_grad_by_freq=True, padding_idx=padding_idx)
    np.testing.assert_allclose(_host(ours), theirs.numpy())


def test_scale_grad_by_freq_drops_nonfinite_gradients_at_padding():
    grad = GRAD.copy()
    grad[0, 1] = np.nan  # position (0, 1) holds index 2, the padding row
    weight = _weight(tinytorch)
    result = _host(_backward(tinytorch, weight, INDEX, grad=grad, scale_grad_by_freq=True, padding_idx=2))
    assert np.isfinite(result).all() and (result[2] == 0).all()


# -- double backward --------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [dict(sparse=True), dict(scale_grad_by_freq=True), dict(sparse=True, padding_idx=1)])
def test_create_graph_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    index = [0, 2, 0, 4, 2, 1]
    results = []
    for lib in (tinytorch, torch):
        weight = _weight(lib)
        out = lib.nn.functional.embedding(lib.tensor(index), weight, **kwargs)
        (grad,) = lib.autograd.grad((out**3).sum(), weight, create_graph=True)
        assert grad.requires_grad and grad.is_sparse == bool(kwargs.get("sparse"))
        total = grad.coalesce().values().sum() if grad.is_sparse else grad.sum()
        (second,) = lib.autograd.grad(total, weight)
        results.append((_dense(grad), _dense(second)))
    np.testing.assert_allclose(results[0][0], results[1][0])
    np.testing.assert_allclose(results[0][1], results[1][1])


# -- accumulation into .grad --------------------------------------------------------------------
def test_two_sparse_backwards_accumulate_into_a_sparse_grad(device):
    weight = _weight(tinytorch, device)
    F.embedding(tinytorch.tensor([0, 2], device=device), weight, sparse=True).sum().backward()
    F.embedding(tinytorch.tensor([0, 4], device=device), weight, sparse=True).mul(2).sum().backward()
    assert weight.grad.is_sparse
    expected = np.zeros((6, 3))
    expected[0], expected[2], expected[4] = 3, 1, 2
    np.testing.assert_array_equal(_dense(weight.grad), expected)


def _mixed_grad(lib, sparse_first, one_graph):
    """A weight used by a sparse embedding and densely, in one graph or in two backwards."""
    weight = _weight(lib)

    def sparse_loss():
        return lib.nn.functional.embedding(lib.tensor([4, 1, 4]), weight, sparse=True).sum()

    def dense_loss():
        return (weight * 3).sum()

    losses = [sparse_loss, dense_loss] if sparse_first else [dense_loss, sparse_loss]
    if one_graph:
        (losses[0]() + losses[1]()).backward()
    else:
        for loss in losses:
            loss().backward()
    return weight.grad


@pytest.mark.parametrize("sparse_first", [True, False])
@pytest.mark.parametrize("one_graph", [False, True])
def test_sparse_and_dense_gradients_sum_to_a_dense_grad(sparse_first, one_graph):
    torch = pytest.importorskip("torch")
    grads = [_mixed_grad(lib, sparse_first, one_graph) for lib in (tinytorch, torch)]
    assert not grads[0].is_sparse and not grads[1].is_sparse
    np.testing.assert_allclose(_host(grads[0]), grads[1].numpy())


def test_zero_grad_and_set_to_none_on_a_sparse_grad():
    embedding = tinytorch.nn.Embedding(6, 3, sparse=True)
    optimizer = tinytorch.optim.SGD(embedding.parameters(), lr=0.1)
    embedding(tinytorch.tensor([1, 2])).sum().backward()
    grad = embedding.weight.grad
    optimizer.zero_grad(set_to_none=False)
    assert embedding.weight.grad is grad and grad.is_sparse and grad._nnz() == 0
    embedding(tinytorch.tensor([3])).sum().backward()
    np.testing.assert_array_equal(_host(embedding.weight.grad._indices()), [[3]])
    embedding.zero_grad(set_to_none=False)
    assert embedding.weight.grad._nnz() == 0
    np.testing.assert_array_equal(_dense(embedding.weight.grad), np.zeros((6, 3)))
    optimizer.zero_grad()
    assert embedding.weight.grad is None


def test_clip_grad_norm_refuses_sparse_grads_as_torch():
    # PyTorch has no norm of a sparse tensor: clip_grad_norm_ raises NotImplementedError for it.
    weight = _weight(tinytorch)
    F.embedding(tinytorch.tensor([0, 1]), weight, sparse=True).sum().backward()
    with pytest.raises(NotImplementedError):
        tinytorch.nn.utils.clip_grad_norm_([weight], 1.0)


# -- embedding_bag ----------------------------------------------------------------------------------
BAG_INPUT, BAG_OFFSETS = [0, 2, 0, 4, 2, 1, 5], [0, 3, 3, 5]
BAG_GRAD = np.arange(12.0).reshape(4, 3)


def _bag_backward(lib, device="cpu", samples=None, **kwargs):
    weight = _weight(lib, device)
    if samples is not None:
        kwargs["per_sample_weights"] = lib.tensor(samples, device=device)
    out = lib.nn.functional.embedding_bag(lib.tensor(BAG_INPUT, device=device), weight,
                                          lib.tensor(BAG_OFFSETS, device=device), **kwargs)
    (out * lib.tensor(BAG_GRAD, device=device)).sum().backward()
    return weight.grad


def test_embedding_bag_sparse_gradient(device):
    grad = _bag_backward(tinytorch, device, mode="sum", sparse=True)
    assert grad.is_sparse
    np.testing.assert_array_equal(_host(grad._indices()), [BAG_INPUT])
    # each entry gets its bag's gradient row (bag 1 is empty)
    np.testing.assert_array_equal(_host(grad._values()), BAG_GRAD[[0, 0, 0, 2, 2, 3, 3]])


@pytest.mark.parametrize("mode,padding_idx,samples", [
    ("sum", None, None), ("sum", 2, None), ("sum", None, np.arange(7.0)), ("sum", 2, np.arange(7.0)),
    ("mean", None, None), ("mean", 2, None),
])
def test_embedding_bag_sparse_matches_torch(mode, padding_idx, samples):
    torch = pytest.importorskip("torch")
    kwargs = dict(mode=mode, sparse=True, padding_idx=padding_idx, samples=samples)
    ours, theirs = _bag_backward(tinytorch, **kwargs), _bag_backward(torch, **kwargs)
    assert ours.is_sparse
    np.testing.assert_array_equal(_host(ours._indices()), theirs._indices().numpy())
    np.testing.assert_allclose(_host(ours._values()), theirs._values().numpy())


def test_embedding_bag_sparse_2d_input_matches_torch():
    torch = pytest.importorskip("torch")
    grads = []
    for lib in (tinytorch, torch):
        weight = _weight(lib)
        lib.nn.functional.embedding_bag(lib.tensor([[0, 2], [2, 5]]), weight, mode="mean", sparse=True).pow(2).sum().backward()
        grads.append(weight.grad)
    np.testing.assert_array_equal(_host(grads[0]._indices()), grads[1]._indices().numpy())
    np.testing.assert_allclose(_host(grads[0]._values()), grads[1]._values().numpy())


@pytest.mark.parametrize("mode", ["sum", "mean"])
@pytest.mark.parametrize("padding_idx", [None, 2])
def test_embedding_bag_scale_grad_by_freq(mode, padding_idx):
    """Each entry's share divided by its index's count over the whole input. (PyTorch's CPU
    kernel looks the count up at the wrong position; its CUDA kernel, and ``embedding``, divide
    as here: the expected gradient is built from per-entry shares.)"""
    grad = _host(_bag_backward(tinytorch, mode=mode, scale_grad_by_freq=True, padding_idx=padding_idx))
    bag_of = [0, 0, 0, 2, 2, 3, 3]
    counts = np.bincount(BAG_INPUT)
    keep = np.array([i != padding_idx for i in BAG_INPUT])
    sizes = np.bincount(bag_of, weights=keep, minlength=4)
    expected = np.zeros((6, 3))
    for position, (row, bag) in enumerate(zip(BAG_INPUT, bag_of)):
        if keep[position]:
            share = BAG_GRAD[bag] / (sizes[bag] if mode == "mean" else 1)
            expected[row] += share / counts[row]
    np.testing.assert_allclose(grad, expected)


@pytest.mark.parametrize("mode", ["sum", "mean"])
def test_embedding_bag_scale_grad_by_freq_agrees_with_torch_embedding(mode):
    """The oracle: torch's embedding (whose frequency scaling is right) summed per bag."""
    torch = pytest.importorskip("torch")
    ours = _bag_backward(tinytorch, mode=mode, scale_grad_by_freq=True)
    weight = _weight(torch)
    rows = torch.nn.functional.embedding(torch.tensor(BAG_INPUT), weight, scale_grad_by_freq=True)
    bags = [rows[start:end] for start, end in zip(BAG_OFFSETS, BAG_OFFSETS[1:] + [len(BAG_INPUT)])]
    out = torch.stack([(b.mean(0) if mode == "mean" else b.sum(0)) if len(b) else rows.new_zeros(3) for b in bags])
    (out * torch.tensor(BAG_GRAD)).sum().backward()
    np.testing.assert_allclose(_host(ours), weight.grad.numpy())


@pytest.mark.parametrize("flag,message", [
    ("scale_grad_by_freq", "max mode does not support scaling the gradient by the frequency"),
    ("sparse", "max mode does not support sparse weights"),
])
def test_embedding_bag_max_refuses_as_torch(flag, message):
    with pytest.raises(ValueError, match=message):
        F.embedding_bag(tinytorch.tensor(BAG_INPUT), _weight(tinytorch), tinytorch.tensor(BAG_OFFSETS), mode="max", **{flag: True})


def test_embedding_bag_sparse_with_scale_grad_by_freq_is_refused():
    with pytest.raises(RuntimeError, match="scale_grad_by_freq not supported with sparse gradients"):
        _bag_backward(tinytorch, mode="sum", sparse=True, scale_grad_by_freq=True)


# -- training ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("sparse,scale_grad_by_freq", [(True, False), (False, True)])
def test_embedding_model_trains_as_torch(sparse, scale_grad_by_freq):
    torch = pytest.importorskip("torch")
    batches = [[[1, 2, 1], [0, 5, 5]], [[3, 3, 3], [2, 1, 0]], [[4, 1, 2], [1, 1, 1]]]
    weights = []
    for lib in (tinytorch, torch):
        embedding = lib.nn.Embedding(6, 3, padding_idx=0, sparse=sparse, scale_grad_by_freq=scale_grad_by_freq,
                                     _weight=lib.tensor(WEIGHT))
        optimizer = lib.optim.SGD(embedding.parameters(), lr=0.1)
        for batch in batches:
            optimizer.zero_grad()
            (embedding(lib.tensor(batch)) ** 2).sum().backward()
            optimizer.step()
        weights.append(embedding.weight.detach())
    np.testing.assert_allclose(_host(weights[0]), weights[1].numpy(), rtol=1e-12)
