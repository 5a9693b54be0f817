"""Sparse COO tensors against PyTorch: construction, conversion, coalescing, products (with the
gradients PyTorch gives), sums, errors, and the GCN example's preprocessing and layer."""

import pickle

import numpy as np
import pytest

import tinytorch

INDICES = [[0, 1, 1, 0, 2], [2, 0, 2, 2, 1]]  # (0, 2) appears twice: an uncoalesced tensor
VALUES = [1.0, 2.0, 3.0, 4.0, -1.5]


def _both(torch, dtype="float64", requires_grad=False, device="cpu"):
    ours = tinytorch.tensor(VALUES, dtype=getattr(tinytorch, dtype), device=device, requires_grad=requires_grad)
    theirs = torch.tensor(VALUES, dtype=getattr(torch, dtype), requires_grad=requires_grad)
    return ours, theirs


def _host(t):
    t = t.to_dense() if t.is_sparse else t
    return t.detach().cpu().numpy()


def _same_sparse(ours, theirs):
    assert ours.is_sparse and theirs.is_sparse
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.is_coalesced() == theirs.is_coalesced()
    np.testing.assert_array_equal(ours._indices().cpu().numpy(), theirs._indices().numpy())
    np.testing.assert_allclose(ours._values().detach().cpu().numpy(), theirs._values().detach().numpy(), rtol=1e-12)


def test_construction_and_attributes_match_torch(device):
    torch = pytest.importorskip("torch")
    values, tvalues = _both(torch, device=device)
    ours = tinytorch.sparse_coo_tensor(INDICES, values, (3, 4))
    theirs = torch.sparse_coo_tensor(INDICES, tvalues, (3, 4))
    _same_sparse(ours, theirs)
    assert ours.device.type == device and ours._indices().device.type == device
    assert (ours.sparse_dim(), ours.dense_dim(), ours._nnz()) == (theirs.sparse_dim(), theirs.dense_dim(), theirs._nnz())
    assert ours.dtype == tinytorch.float64 and ours.layout is tinytorch.sparse_coo and ours.is_sparse
    assert ours.numel() == theirs.numel() and ours.dim() == 2 and len(ours) == 3
    assert ours.shape == tinytorch.Size([3, 4])
    np.testing.assert_array_equal(_host(ours), theirs.to_dense().numpy())
    coalesced, tcoalesced = ours.coalesce(), theirs.coalesce()
    _same_sparse(coalesced, tcoalesced)
    np.testing.assert_array_equal(coalesced.indices().cpu().numpy(), tcoalesced.indices().numpy())
    np.testing.assert_array_equal(coalesced.values().cpu().numpy(), tcoalesced.values().numpy())
    assert coalesced.coalesce() is coalesced
    # the size inferred from the indices, indices given as a NumPy int32 array (the GCN example does)
    inferred = tinytorch.sparse_coo_tensor(np.array(INDICES, dtype=np.int32), tinytorch.ones(5), dtype=tinytorch.int64)
    tinferred = torch.sparse_coo_tensor(np.array(INDICES, dtype=np.int32), torch.ones(5), dtype=torch.int64)
    _same_sparse(inferred, tinferred)
    assert inferred.dtype == tinytorch.int64


def test_hybrid_tensors_and_to_sparse_match_torch():
    torch = pytest.importorskip("torch")
    dense = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0], [2.0, 0.0, -3.0]])
    for sparse_dim in (None, 1, 2):
        ours = tinytorch.tensor(dense).to_sparse(sparse_dim) if sparse_dim else tinytorch.tensor(dense).to_sparse()
        theirs = torch.tensor(dense).to_sparse(sparse_dim) if sparse_dim else torch.tensor(dense).to_sparse()
        _same_sparse(ours, theirs)
        np.testing.assert_array_equal(_host(ours), dense)
    values = np.arange(6.0).reshape(3, 2)
    ours = tinytorch.sparse_coo_tensor([[0, 2, 0]], tinytorch.tensor(values), (3, 2))
    theirs = torch.sparse_coo_tensor([[0, 2, 0]], torch.tensor(values), (3, 2))
    np.testing.assert_array_equal(_host(ours), theirs.to_dense().numpy())
    _same_sparse(ours.coalesce(), theirs.coalesce())
    np.testing.assert_array_equal(_host(tinytorch.sparse.sum(ours, 1)), _host(torch.sparse.sum(theirs, 1)))
    assert tinytorch.sparse.sum(ours, 1).is_sparse == torch.sparse.sum(theirs, 1).is_sparse
    assert tinytorch.sparse.sum(ours, 0).is_sparse == torch.sparse.sum(theirs, 0).is_sparse


def test_repr_matches_torch_with_the_names_changed():
    torch = pytest.importorskip("torch")
    cases = [
        (lambda lib: lib.sparse_coo_tensor(INDICES, lib.tensor(VALUES), (3, 4))),
        (lambda lib: lib.sparse_coo_tensor(INDICES, lib.tensor(VALUES, dtype=lib.float64), (3, 4))),
        (lambda lib: lib.sparse_coo_tensor(INDICES, lib.tensor(VALUES, requires_grad=True), (3, 4))),
        (lambda lib: lib.sparse_coo_tensor(INDICES, lib.tensor(VALUES), (3, 4), requires_grad=True)),
        (lambda lib: lib.sparse_coo_tensor(lib.zeros(2, 0, dtype=lib.int64), lib.zeros(0), (3, 4))),
        (lambda lib: lib.eye(3, dtype=lib.int64).to_sparse()),
    ]
    for case in cases:
        assert repr(case(tinytorch)) == repr(case(torch)).replace("torch.", "tinytorch.")


def _product(lib, name, sparse, other):
    if name == "operator":
        return sparse @ other
    if name == "sparse.mm":
        return lib.sparse.mm(sparse, other)
    return getattr(lib, name)(sparse, other)


@pytest.mark.parametrize("name", ["spmm", "mm", "matmul", "operator", "sparse.mm"])
def test_products_and_gradients_match_torch(name, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    dense, weights = rng.standard_normal((4, 3)), rng.standard_normal((3, 3))
    results = []
    for lib, dev in ((tinytorch, device), (torch, "cpu")):
        values = lib.tensor(VALUES, dtype=lib.float64, device=dev, requires_grad=True)
        other = lib.tensor(dense, device=dev, requires_grad=True)
        sparse = lib.sparse_coo_tensor(lib.tensor(INDICES, device=dev), values, (3, 4))
        product = _product(lib, name, sparse, other)
        assert not product.is_sparse
        (product * lib.tensor(weights, device=dev)).sum().backward()
        results.append((_host(product), _host(values.grad), _host(other.grad)))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def test_dense_times_sparse_and_matrix_vector_match_torch(device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    left, vector = rng.standard_normal((2, 3)), rng.standard_normal(4)
    results = []
    for lib, dev in ((tinytorch, device), (torch, "cpu")):
        values = lib.tensor(VALUES, dtype=lib.float64, device=dev, requires_grad=True)
        a = lib.tensor(left, device=dev, requires_grad=True)
        v = lib.tensor(vector, device=dev, requires_grad=True)
        sparse = lib.sparse_coo_tensor(lib.tensor(INDICES, device=dev), values, (3, 4))
        first, second = a @ sparse, lib.mm(a, sparse)
        third = lib.matmul(sparse, v)
        (first.sum() + (second**2).sum() + (third * lib.arange(3, device=dev)).sum()).backward()
        results.append([_host(t) for t in (first, second, third, values.grad, a.grad, v.grad)])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def test_gradient_of_a_sparse_leaf_matches_torch():
    """sparse.mm and to_dense give a sparse leaf a sparse gradient with its pattern; mm a dense one."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    dense = rng.standard_normal((4, 2))
    grads = {}
    for lib in (tinytorch, torch):
        leaf = lib.sparse_coo_tensor(INDICES, lib.tensor(VALUES, dtype=lib.float64), (3, 4)).requires_grad_()
        other = lib.tensor(dense)
        lib.sparse.mm(leaf, other).sum().backward()
        masked = leaf.grad
        leaf.grad = None
        lib.mm(leaf, other).sum().backward()
        full = leaf.grad
        leaf.grad = None
        (leaf.to_dense() * 3).sum().backward()
        from_dense = leaf.grad
        leaf.grad = None
        lib.sparse.mm(leaf, other).sum().backward()
        lib.sparse.mm(leaf, other).sum().backward()  # accumulation into an existing sparse grad
        grads[lib] = (masked, full, from_dense, leaf.grad)
    for ours, theirs in zip(grads[tinytorch], grads[torch]):
        assert ours.is_sparse == theirs.is_sparse
        if theirs.is_sparse:
            _same_sparse(ours.coalesce(), theirs.coalesce())
        np.testing.assert_allclose(_host(ours), _host(theirs), rtol=1e-12)


def _pieces(lib, sparse, from_dense, dense, scale):
    return [
        (sparse * 2).to_dense(), (-sparse).to_dense(), (sparse / 4).to_dense(),
        (sparse * scale).to_dense(), (sparse + from_dense).to_dense(), (sparse - from_dense).to_dense(),
        scale + sparse, scale - sparse, sparse.t().to_dense(), sparse.coalesce().values(),
        lib.sparse.sum(sparse), lib.sparse.sum(sparse, 0).to_dense(), lib.sparse.sum(sparse, 1).to_dense(),
        lib.sparse.sum(sparse, (0, 1)), from_dense.to_dense() * 3,
        lib.sparse.addmm(scale[:, :2], sparse, dense.t()[:, :2], beta=0.5, alpha=2.0),
    ]


def test_gradients_through_conversions_and_elementwise_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x, d = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    x[0, 1] = x[2, 2] = 0.0
    weights, results = None, []
    for lib in (tinytorch, torch):
        values = lib.tensor(VALUES, dtype=lib.float64, requires_grad=True)
        dense = lib.tensor(x, requires_grad=True)
        scale = lib.tensor(d, requires_grad=True)
        sparse = lib.sparse_coo_tensor(INDICES, values, (3, 4))
        pieces = _pieces(lib, sparse, dense.to_sparse(), dense, scale)
        weights = weights or [rng.standard_normal(tuple(p.shape)) for p in pieces]
        sum((p * lib.tensor(w)).sum() for p, w in zip(pieces, weights)).backward()
        results.append([_host(p) for p in pieces] + [_host(g) for g in (values.grad, dense.grad, scale.grad)])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def test_gcn_example_preprocessing_and_layer_match_torch():
    """The pytorch/examples GCN's load_cora and GraphConv, on a small random graph."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    nodes, features_in = 12, 7
    edges = rng.integers(0, nodes, size=(30, 2)).astype(np.int32)
    features = (rng.random((nodes, features_in)) < 0.3).astype(np.float32)
    kernel = rng.standard_normal((features_in, 5)).astype(np.float32)
    outputs = []
    for lib in (tinytorch, torch):
        feats = lib.tensor(features)
        scale = 1 / lib.sum(feats, dim=1)
        scale[scale == float("inf")] = 0
        feats = lib.diag(scale).to_sparse() @ feats if hasattr(lib, "diag") else _diag(lib, scale).to_sparse() @ feats
        adj = lib.sparse_coo_tensor(edges.T, lib.ones(len(edges)), (nodes, nodes), dtype=lib.int64)
        adj = lib.eye(nodes) + adj
        degree = lib.sqrt(1 / lib.sum(adj, dim=1))
        degree[degree == float("inf")] = 0
        degree = (lib.diag(degree) if hasattr(lib, "diag") else _diag(lib, degree)).to_sparse()
        adj = degree @ adj @ degree
        feats, adj = feats.to_sparse(), adj.to_sparse()
        weight = lib.tensor(kernel, requires_grad=True)
        out = lib.spmm(adj, lib.mm(feats, weight))
        out.square().sum().backward()
        outputs.append((_host(feats), _host(adj), _host(out), _host(weight.grad)))
    for ours, theirs in zip(*outputs):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def _diag(lib, vector):
    n = vector.shape[0]
    return lib.eye(n, dtype=vector.dtype) * vector.unsqueeze(0)


def test_errors_match_torch():
    torch = pytest.importorskip("torch")
    for lib in (tinytorch, torch):
        sparse = lib.sparse_coo_tensor(INDICES, lib.tensor(VALUES), (3, 4))
        with pytest.raises(RuntimeError, match="indices and values must have same nnz, but got nnz from indices: 5, nnz from values: 4"):
            lib.sparse_coo_tensor(INDICES, lib.ones(4), (3, 4))
        with pytest.raises(RuntimeError, match="'len\\(size\\) == sparse_dim \\+ dense_dim' is not satisfied"):
            lib.sparse_coo_tensor(INDICES, lib.ones(5), (3, 4, 2))
        with pytest.raises(RuntimeError, match="indices must be sparse_dim x nnz"):
            lib.sparse_coo_tensor(lib.tensor(INDICES[0][:2]), lib.ones(2), (3, 4))
        with pytest.raises(RuntimeError, match="Cannot get indices on an uncoalesced tensor, please call .coalesce\\(\\) first"):
            sparse.indices()
        with pytest.raises(RuntimeError, match="Cannot get values on an uncoalesced tensor"):
            sparse.values()
        with pytest.raises(RuntimeError, match="add\\(sparse, dense\\) is not supported. Use add\\(dense, sparse\\) instead."):
            sparse + lib.ones(3, 4)
        with pytest.raises(RuntimeError, match="dense_to_sparse: sparse_dim argument must be in \\[0,2\\] range, but 3 is given"):
            lib.ones(2, 2).to_sparse(3)
        with pytest.raises(TypeError, match="can't convert Sparse layout tensor to numpy. Use Tensor.to_dense\\(\\) first."):
            sparse.numpy()
        with pytest.raises(NotImplementedError):
            sparse.exp()
        with pytest.raises(NotImplementedError):
            sparse.view(12)
        with pytest.raises(RuntimeError):
            lib.spmm(sparse, lib.ones(3, 2))  # 3x4 @ 3x2


def test_out_of_range_indices_are_refused():
    """PyTorch checks these only with check_invariants=True (and may crash later); tinytorch always."""
    with pytest.raises(RuntimeError, match="size is inconsistent with indices: for dim 1, size is 2 but found index 2"):
        tinytorch.sparse_coo_tensor(INDICES, tinytorch.ones(5), (3, 2))
    with pytest.raises(RuntimeError, match="found negative index -1 for dim 0"):
        tinytorch.sparse_coo_tensor([[-1], [0]], tinytorch.ones(1), (3, 2))


def test_dense_ops_on_a_sparse_tensor_never_compute_on_the_values_alone():
    sparse = tinytorch.sparse_coo_tensor(INDICES, tinytorch.tensor(VALUES), (3, 4))
    for op in (lambda s: s.exp(), lambda s: s.reshape(12), lambda s: s[0], lambda s: s.sum(dim=0, keepdim=True),
               lambda s: tinytorch.relu(s), lambda s: s + 1, lambda s: np.asarray(s), lambda s: s.tolist()):
        with pytest.raises((NotImplementedError, RuntimeError, TypeError)):
            op(sparse)


def test_to_dtype_device_clone_detach_and_pickle(device):
    values = tinytorch.tensor(VALUES, requires_grad=True)
    sparse = tinytorch.sparse_coo_tensor(INDICES, values, (3, 4))
    moved = sparse.to(device).double()
    assert moved.is_sparse and moved.device.type == device and moved.dtype == tinytorch.float64
    np.testing.assert_array_equal(_host(moved), _host(sparse))
    moved.to_dense().sum().backward()
    np.testing.assert_array_equal(values.grad.numpy(), np.ones(5))
    clone = sparse.clone()
    assert clone._data.values is not sparse._data.values
    detached = sparse.detach()
    assert detached.is_sparse and not detached.requires_grad and detached._data is sparse._data
    restored = pickle.loads(pickle.dumps(sparse.detach()))
    assert restored.is_sparse
    np.testing.assert_array_equal(_host(restored), _host(sparse))
    assert sparse.to("cpu") is sparse


def test_integer_sparse_products(device):
    torch = pytest.importorskip("torch")
    dense = np.arange(8).reshape(4, 2)
    ours = tinytorch.sparse_coo_tensor(tinytorch.tensor(INDICES, device=device), tinytorch.tensor([1, 2, 3, 4, 5], device=device), (3, 4))
    theirs = torch.sparse_coo_tensor(INDICES, torch.tensor([1, 2, 3, 4, 5]), (3, 4))
    result = tinytorch.mm(ours, tinytorch.tensor(dense, device=device))
    assert result.dtype == tinytorch.int64
    np.testing.assert_array_equal(_host(result), torch.mm(theirs, torch.tensor(dense)).numpy())
