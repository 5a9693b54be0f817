"""cdist, pdist, dist, pairwise_distance, cosine_similarity and the distance modules: values and
gradients against torch (zero distances and ties included), cdist's matrix-product rule,
gradcheck, PyTorch's errors."""

import math

import numpy as np
import pytest

import tinytorch
from tinytorch.autograd import gradcheck, gradgradcheck
from tinytorch import nn

from .helpers import assert_same_error, normalized, numpy_of

TOLERANCE = {"float32": dict(atol=1e-5, rtol=1e-4), "float64": dict(atol=1e-10, rtol=1e-8)}
NORMS = [0, 0.5, 1, 1.5, 2, 3, math.inf]


def _both(torch, arrays, dtype, device):
    """Our tensors and torch's (each requiring grad) holding the same float values."""
    ours = [tinytorch.tensor(a.astype(dtype), requires_grad=True, device=device) for a in arrays]
    theirs = [torch.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    return ours, theirs


def _compare(torch, our_fn, their_fn, arrays, dtype, device):
    """Same values (dtype, shape) and the same gradients for a random upstream gradient."""
    ours, theirs = _both(torch, arrays, dtype, device)
    out, expected = our_fn(*ours), their_fn(*theirs)
    assert tuple(out.shape) == tuple(expected.shape)
    assert out.dtype == getattr(tinytorch, dtype) and out.device.type == device
    np.testing.assert_allclose(numpy_of(out), numpy_of(expected), **TOLERANCE[dtype])
    upstream = np.random.default_rng(1).standard_normal(tuple(expected.shape)).astype(dtype)
    out.backward(tinytorch.tensor(upstream, device=device))
    expected.backward(torch.tensor(upstream))
    for x, tx in zip(ours, theirs):
        expected_grad = np.zeros(tuple(tx.shape), dtype) if tx.grad is None else tx.grad.numpy()
        np.testing.assert_allclose(numpy_of(x.grad), expected_grad, **TOLERANCE[dtype])


# -- cdist ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("p", NORMS)
def test_cdist_matches_torch(p, dtype, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x1, x2 = rng.standard_normal((5, 4)), rng.standard_normal((3, 4))
    x2[1] = x1[2]  # a zero distance
    x2[2, :2] = x1[0, :2]  # zero components
    x2[0] = x1[1] + np.array([1.0, -1.0, 0.5, 0.25])  # a tie in the inf-norm
    mode = "donot_use_mm_for_euclid_dist"
    _compare(torch, lambda a, b: tinytorch.cdist(a, b, p, mode), lambda a, b: torch.cdist(a, b, p, mode), [x1, x2], dtype, device)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shapes", [((30, 3), (4, 3)), ((4, 3), (27, 3)), ((2, 1, 30, 4), (5, 2, 4)), ((3, 26, 2), (3, 26, 2))])
def test_cdist_matrix_product_form_matches_torch(shapes, dtype, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(shape) * 3 for shape in shapes]  # well apart: no cancellation near 0
    _compare(torch, tinytorch.cdist, torch.cdist, arrays, dtype, device)


@pytest.mark.parametrize("shapes", [((2, 5, 3), (1, 4, 3)), ((1, 3, 2), (4, 2, 2)), ((2, 3, 4), (4, 4))])
@pytest.mark.parametrize("p", [1, 2, math.inf])
def test_cdist_batches_broadcast_like_torch(shapes, p, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(shape) for shape in shapes]
    _compare(torch, lambda a, b: tinytorch.cdist(a, b, p), lambda a, b: torch.cdist(a, b, p), arrays, "float64", device)


@pytest.mark.parametrize("mode", ["use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist", "use_mm_for_euclid_dist_if_necessary"])
@pytest.mark.parametrize("rows", [(3, 4), (25, 25), (26, 2), (2, 26)])
@pytest.mark.parametrize("p", [2, 2.0, 1, 3])
def test_cdist_uses_the_matrix_product_when_pytorch_does(p, rows, mode):
    torch = pytest.importorskip("torch")
    x1, x2 = tinytorch.randn(rows[0], 3, requires_grad=True), tinytorch.randn(rows[1], 3)
    ours = tinytorch.cdist(x1, x2, p, mode).grad_fn.name()
    theirs = type(torch.cdist(torch.randn(rows[0], 3, requires_grad=True), torch.randn(rows[1], 3), p, mode).grad_fn).__name__
    assert (ours == "EuclideanDistanceBackward0") == (theirs != "CdistBackward0")
    assert ours in ("EuclideanDistanceBackward0", "PNormDistanceBackward0")


@pytest.mark.parametrize("mode", ["use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist"])
def test_cdist_gradient_at_zero_distance_is_zero_like_torch(mode, device):
    torch = pytest.importorskip("torch")
    x = np.array([[1.0, 2.0], [1.0, 2.0], [0.0, 0.0]])
    ours, theirs = _both(torch, [x], "float64", device)
    out, expected = tinytorch.cdist(ours[0], ours[0], compute_mode=mode), torch.cdist(theirs[0], theirs[0], compute_mode=mode)
    out.sum().backward()
    expected.sum().backward()
    assert np.isfinite(numpy_of(ours[0].grad)).all()
    np.testing.assert_allclose(numpy_of(ours[0].grad), theirs[0].grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(numpy_of(out), expected.detach().numpy(), atol=1e-7)


@pytest.mark.parametrize("shapes", [((0, 3), (2, 3)), ((3, 0), (2, 0)), ((2, 0, 3), (2, 4, 3))])
@pytest.mark.parametrize("p", [2, math.inf, 0.5])
def test_cdist_empty_inputs_like_torch(shapes, p, device):
    torch = pytest.importorskip("torch")
    x1 = tinytorch.zeros(shapes[0], requires_grad=True, device=device)
    x2 = tinytorch.zeros(shapes[1], device=device)
    out = tinytorch.cdist(x1, x2, p, "use_mm_for_euclid_dist")
    expected = torch.cdist(torch.zeros(shapes[0]), torch.zeros(shapes[1]), p, "use_mm_for_euclid_dist")
    assert tuple(out.shape) == tuple(expected.shape)
    assert (numpy_of(out) == 0).all()
    out.sum().backward()
    assert tuple(x1.grad.shape) == shapes[0] and (numpy_of(x1.grad) == 0).all()


# -- pdist ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("p", NORMS)
def test_pdist_matches_torch(p, dtype, device):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((5, 3))
    x[3] = x[1]  # a zero distance
    x[4, 0] = x[0, 0]  # a zero component
    x[2] = x[0] + np.array([2.0, -2.0, 1.0])  # a tie in the inf-norm
    _compare(torch, lambda a: tinytorch.pdist(a, p), lambda a: torch.pdist(a, p), [x], dtype, device)


@pytest.mark.parametrize("shape", [(1, 3), (0, 3), (4, 0)])
def test_pdist_degenerate_shapes_like_torch(shape, device):
    torch = pytest.importorskip("torch")
    out = tinytorch.pdist(tinytorch.ones(shape, device=device))
    expected = torch.pdist(torch.ones(shape))
    assert tuple(out.shape) == tuple(expected.shape)
    np.testing.assert_array_equal(numpy_of(out), expected.numpy())


# -- dist, pairwise_distance, cosine_similarity -------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("p", [0.5, 1, 2, 3, math.inf, -math.inf, -1])
def test_dist_matches_torch(p, dtype, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((3, 4)), rng.standard_normal(4)]
    _compare(torch, lambda a, b: tinytorch.dist(a, b, p), lambda a, b: torch.dist(a, b, p), arrays, dtype, device)


def test_dist_zero_norm_counts_nonzeros_with_zero_gradient(device):
    x = tinytorch.tensor([[1.0, 2.0], [3.0, 2.0]], requires_grad=True, device=device)
    out = tinytorch.dist(x, tinytorch.tensor([1.0, 0.0], device=device), 0)
    assert out.item() == 3.0
    out.backward()
    assert (numpy_of(x.grad) == 0).all()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("p", [0.5, 1, 1.5, 2, 3, math.inf, -1])
@pytest.mark.parametrize("shapes, keepdim", [(((5, 4), (5, 4)), False), (((5, 4), (4,)), True), (((4,), (2, 3, 4)), False),
                                             (((4,), (4,)), False), (((), ()), True), (((3, 1), (1, 2)), False)])
def test_pairwise_distance_matches_torch(shapes, keepdim, p, dtype, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    arrays = [np.asarray(rng.standard_normal(shape)) for shape in shapes]
    _compare(torch, lambda a, b: tinytorch.pairwise_distance(a, b, p, 1e-6, keepdim),
             lambda a, b: torch.pairwise_distance(a, b, p, 1e-6, keepdim), arrays, dtype, device)


def test_pairwise_distance_inf_norm_shares_the_gradient_between_ties(device):
    torch = pytest.importorskip("torch")
    x = np.array([[3.0, -3.0, 1.0]])
    _compare(torch, lambda a, b: tinytorch.pairwise_distance(a, b, math.inf, 0.0), lambda a, b: torch.pairwise_distance(a, b, math.inf, 0.0),
             [x, np.zeros((1, 3))], "float64", device)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shapes, dim", [(((5, 4), (5, 4)), 1), (((5, 4), (4,)), -1), (((3, 4), (4,)), 0), (((2, 3, 4), (3, 1)), 1),
                                         (((), ()), 0)])
def test_cosine_similarity_matches_torch(shapes, dim, dtype, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    arrays = [np.asarray(rng.standard_normal(shape)) for shape in shapes]
    _compare(torch, lambda a, b: tinytorch.cosine_similarity(a, b, dim), lambda a, b: torch.cosine_similarity(a, b, dim), arrays, dtype, device)


def test_cosine_similarity_at_a_zero_vector_like_torch(device):
    torch = pytest.importorskip("torch")
    x1 = np.array([[0.0, 0.0, 0.0], [1e-9, 0.0, 0.0], [1.0, 2.0, 2.0]])
    x2 = np.array([[1.0, -2.0, 0.5], [1e-9, 0.0, 0.0], [2.0, 4.0, 4.0]])
    _compare(torch, tinytorch.cosine_similarity, torch.cosine_similarity, [x1, x2], "float64", device)


def test_cosine_similarity_stays_in_range_for_large_inputs():
    x = tinytorch.full((3, 100), 1e30, dtype=tinytorch.float64)
    out = tinytorch.cosine_similarity(x, x)
    assert np.isfinite(numpy_of(out)).all() and (numpy_of(out) <= 1.0).all()


@pytest.mark.parametrize("dtypes", [("int64", "float32"), ("int64", "float64"), ("float32", "float64"), ("bool", "float32")])
def test_promotion_like_torch(dtypes):
    torch = pytest.importorskip("torch")
    arrays = [np.array([[1, 0, 1], [0, 1, 1]]).astype(d) for d in dtypes]
    pairs = [(tinytorch.cosine_similarity, torch.cosine_similarity), (tinytorch.pairwise_distance, torch.pairwise_distance), (tinytorch.dist, torch.dist)]
    for ours, theirs in pairs:
        if dtypes[0] == "bool" and ours is not tinytorch.cosine_similarity:
            continue
        out, expected = ours(*[tinytorch.tensor(a) for a in arrays]), theirs(*[torch.tensor(a) for a in arrays])
        assert str(out.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
        np.testing.assert_allclose(numpy_of(out), expected.numpy(), rtol=1e-6)
    integral = [tinytorch.tensor(arrays[0]), tinytorch.tensor(arrays[0])]
    if dtypes[0] == "int64":
        expected = torch.pairwise_distance(torch.tensor(arrays[0]), torch.tensor(arrays[0]))
        assert tinytorch.pairwise_distance(*integral).dtype == tinytorch.float32 == getattr(tinytorch, str(expected.dtype).split(".")[-1])


# -- gradcheck ----------------------------------------------------------------------------------
GRADCHECKS = [
    ("cdist-p2", lambda a, b: tinytorch.cdist(a, b, 2.0, "donot_use_mm_for_euclid_dist")),
    ("cdist-mm", lambda a, b: tinytorch.cdist(a, b, 2.0, "use_mm_for_euclid_dist")),
    ("cdist-p1.5", lambda a, b: tinytorch.cdist(a, b, 1.5)),
    ("cdist-p3", lambda a, b: tinytorch.cdist(a, b, 3)),
    ("cdist-p0.5", lambda a, b: tinytorch.cdist(a, b, 0.5)),
    ("cdist-inf", lambda a, b: tinytorch.cdist(a, b, math.inf)),
    ("pdist-p2", lambda a, b: tinytorch.pdist(a)),
    ("pdist-p3", lambda a, b: tinytorch.pdist(a, 3)),
    ("pairwise-p2", lambda a, b: tinytorch.pairwise_distance(a, b)),
    ("pairwise-p0.5", lambda a, b: tinytorch.pairwise_distance(a, b, 0.5)),
    ("dist-p3", lambda a, b: tinytorch.dist(a, b, 3)),
    ("cosine", lambda a, b: tinytorch.cosine_similarity(a, b)),
]


@pytest.mark.parametrize("name, fn", GRADCHECKS, ids=[name for name, _ in GRADCHECKS])
def test_gradcheck_and_second_derivatives(name, fn):
    rng = np.random.default_rng(3)
    a = tinytorch.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    b = tinytorch.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    assert gradcheck(fn, (a, b))
    assert gradgradcheck(fn, (a, b))


# -- errors -------------------------------------------------------------------------------------
def _error_cases(lib):
    x, long = lib.randn(3, 4), lib.ones(3, 4, dtype=lib.int64)
    return {
        "cdist_mode": lambda: lib.cdist(x, x, compute_mode="fast"),
        "cdist_1d": lambda: lib.cdist(x[0], x),
        "cdist_1d_x2": lambda: lib.cdist(x, x[0]),
        "cdist_columns": lambda: lib.cdist(x, lib.randn(2, 5)),
        "cdist_long_x1": lambda: lib.cdist(long, x),
        "cdist_long_x2": lambda: lib.cdist(x, long),
        "cdist_negative_p": lambda: lib.cdist(x, x, p=-1.0),
        "cdist_batch": lambda: lib.cdist(lib.randn(2, 3, 4), lib.randn(3, 2, 4)),
        "cdist_dtypes": lambda: lib.cdist(x, x.double(), p=1.0),
        "cdist_dtypes_mm": lambda: lib.cdist(lib.randn(30, 4), x.double()),
        "cdist_not_tensor": lambda: lib.cdist(x, 2.0),
        "pdist_1d": lambda: lib.pdist(x[0]),
        "pdist_long": lambda: lib.pdist(long),
        "pdist_negative_p": lambda: lib.pdist(x, -1),
        "dist_long": lambda: lib.dist(long, long),
        "dist_broadcast": lambda: lib.dist(x, lib.randn(5)),
        "dist_not_tensor": lambda: lib.dist(x, 2.0),
        "pairwise_broadcast": lambda: lib.pairwise_distance(x, lib.randn(3, 5)),
        "pairwise_bool": lambda: lib.pairwise_distance(x.bool(), x.bool()),
        "pairwise_not_tensor": lambda: lib.pairwise_distance(x, 2.0),
        "cosine_long": lambda: lib.cosine_similarity(long, long),
        "cosine_bool": lambda: lib.cosine_similarity(x.bool(), x.bool()),
        "cosine_dim": lambda: lib.cosine_similarity(x, x, dim=2),
        "cosine_dim_0d": lambda: lib.cosine_similarity(lib.tensor(1.0), lib.tensor(2.0)),
        "cosine_dim_float": lambda: lib.cosine_similarity(x, x, dim=1.0),
        "cosine_broadcast": lambda: lib.cosine_similarity(x, lib.randn(5)),
        "cosine_not_tensor": lambda: lib.cosine_similarity(x, 2.0),
    }


@pytest.mark.parametrize("case", list(_error_cases(tinytorch)))
def test_errors_match_torch(case):
    torch = pytest.importorskip("torch")
    assert_same_error(_error_cases(tinytorch)[case], _error_cases(torch)[case])


def test_key_errors_without_torch():
    x = tinytorch.randn(3, 4)
    with pytest.raises(ValueError, match="^fast is not a valid value for compute_mode$"):
        tinytorch.cdist(x, x, compute_mode="fast")
    with pytest.raises(RuntimeError, match="^cdist only supports non-negative p values$"):
        tinytorch.cdist(x, x, p=-1.0)
    with pytest.raises(RuntimeError, match="^pdist only supports 2D tensors, got: 1D$"):
        tinytorch.pdist(x[0])


# -- modules ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, kwargs, args", [
    ("PairwiseDistance", {}, ((4, 3), (4, 3))),
    ("PairwiseDistance", {"p": 1.0, "eps": 0.0, "keepdim": True}, ((4, 3), (3,))),
    ("CosineSimilarity", {}, ((4, 3), (4, 3))),
    ("CosineSimilarity", {"dim": 0, "eps": 1e-3}, ((4, 3), (4, 1))),
])
def test_modules_match_torch(name, kwargs, args, device):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    assert normalized(repr(ours)) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == []
    for attribute in ("norm", "eps", "keepdim", "dim"):
        assert getattr(ours, attribute, None) == getattr(theirs, attribute, None)
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(shape) for shape in args]
    _compare(torch, ours, theirs, arrays, "float64", device)
