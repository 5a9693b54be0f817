"""The margin and embedding losses against torch: values and gradients for every reduction and
dtype, the subgradients at the kinks, gradcheck, PyTorch's errors, and the loss modules."""

import numpy as np
import pytest

import tinytorch
from tinytorch.autograd import gradcheck, gradgradcheck
from tinytorch import nn
from tinytorch.nn import functional as F

from .helpers import assert_same_error, normalized, numpy_of

REDUCTIONS = ["mean", "sum", "none"]
TOLERANCE = {"float32": dict(atol=2e-5, rtol=2e-4), "float64": dict(atol=1e-10, rtol=1e-8)}
LABELS = np.array([[3, 0, -1, 1, 2], [0, 1, 2, 3, 4], [-1, 0, 0, 0, 0], [4, 4, 1, -1, 3]])  # -1 ends each list


def _signs(rng, shape):
    return rng.choice([-1.0, 1.0], size=shape)


def _none(lib, dtype):
    return {}


# (id, functional name, module name, inputs(rng) -> [(array, differentiable)], options(lib, dtype) -> kwargs)
CASES = [
    ("margin_ranking", "margin_ranking_loss", "MarginRankingLoss",
     lambda r: [(r.standard_normal(6), True), (r.standard_normal(6), True), (_signs(r, 6), True)], lambda lib, dtype: {"margin": 0.3}),
    ("hinge_embedding", "hinge_embedding_loss", "HingeEmbeddingLoss",
     lambda r: [(r.uniform(0, 2, (4, 5)), True), (_signs(r, (4, 5)), False)], lambda lib, dtype: {"margin": 1.2}),
    ("soft_margin", "soft_margin_loss", "SoftMarginLoss",
     lambda r: [(r.standard_normal((4, 5)) * 3, True), (_signs(r, (4, 5)), False)], _none),
    ("cosine_embedding", "cosine_embedding_loss", "CosineEmbeddingLoss",
     lambda r: [(r.standard_normal((5, 4)), True), (r.standard_normal((5, 4)), True), (_signs(r, 5), False)],
     lambda lib, dtype: {"margin": -0.2}),
    ("cosine_embedding_unbatched", "cosine_embedding_loss", "CosineEmbeddingLoss",
     lambda r: [(r.standard_normal(4), True), (r.standard_normal(4), True), (np.array(-1.0), False)], _none),
    ("triplet", "triplet_margin_loss", "TripletMarginLoss",
     lambda r: [(r.standard_normal((5, 4)), True) for _ in range(3)], lambda lib, dtype: {"margin": 2.0, "p": 3}),
    ("triplet_swap", "triplet_margin_loss", "TripletMarginLoss",
     lambda r: [(r.standard_normal((5, 4)), True) for _ in range(3)], lambda lib, dtype: {"swap": True, "p": 1}),
    ("triplet_distance", "triplet_margin_with_distance_loss", "TripletMarginWithDistanceLoss",
     lambda r: [(r.standard_normal((5, 4)), True) for _ in range(3)], lambda lib, dtype: {"margin": 1.5, "swap": True}),
    ("triplet_cosine_distance", "triplet_margin_with_distance_loss", "TripletMarginWithDistanceLoss",
     lambda r: [(r.standard_normal((5, 4)), True) for _ in range(3)],
     lambda lib, dtype: {"distance_function": lambda a, b: 1 - lib.cosine_similarity(a, b)}),
    ("multi_margin", "multi_margin_loss", "MultiMarginLoss",
     lambda r: [(r.standard_normal((6, 4)), True), (r.integers(0, 4, 6), False)], _none),
    ("multi_margin_p2_weight", "multi_margin_loss", "MultiMarginLoss",
     lambda r: [(r.standard_normal((6, 4)), True), (r.integers(0, 4, 6), False)],
     lambda lib, dtype: {"p": 2, "margin": 0.7, "weight": lib.tensor(np.array([0.5, 2.0, 1.0, 0.25], dtype=dtype))}),
    ("multi_margin_unbatched", "multi_margin_loss", "MultiMarginLoss",
     lambda r: [(r.standard_normal(5), True), (np.array(2), False)], _none),
    ("multilabel_margin", "multilabel_margin_loss", "MultiLabelMarginLoss",
     lambda r: [(r.standard_normal((4, 5)), True), (LABELS, False)], _none),
    ("multilabel_margin_unbatched", "multilabel_margin_loss", "MultiLabelMarginLoss",
     lambda r: [(r.standard_normal(5), True), (LABELS[3], False)], _none),
    ("multilabel_soft_margin", "multilabel_soft_margin_loss", "MultiLabelSoftMarginLoss",
     lambda r: [(r.standard_normal((4, 5)) * 4, True), (r.uniform(0, 1, (4, 5)), True)], _none),
    ("multilabel_soft_margin_weight", "multilabel_soft_margin_loss", "MultiLabelSoftMarginLoss",
     lambda r: [(r.standard_normal((4, 5)), True), (r.integers(0, 2, (4, 5)).astype(float), False)],
     lambda lib, dtype: {"weight": lib.tensor(np.linspace(0.5, 2.0, 5).astype(dtype))}),
]
CASE_IDS = [case[0] for case in CASES]
MODULE_ONLY = {"margin", "p", "swap", "weight", "distance_function"}


def _tensors(lib, inputs, dtype, device=None):
    """Tensors of ``lib`` for the case's arrays: floats in ``dtype``, integer targets as int64."""
    made = []
    for array, differentiable in inputs:
        if array.dtype.kind == "f":
            kwargs = {"device": device} if device else {}
            made.append(lib.tensor(array.astype(dtype), requires_grad=differentiable, **kwargs))
        else:
            made.append(lib.tensor(array.astype(np.int64), **({"device": device} if device else {})))
    return made


def _on(device, options):
    return {k: v.to(device) if isinstance(v, tinytorch.Tensor) else v for k, v in options.items()}


def _check(torch, out, expected, ours, theirs, dtype, device):
    tol = TOLERANCE[dtype]
    assert tuple(out.shape) == tuple(expected.shape)
    assert out.dtype == getattr(tinytorch, dtype) and out.device.type == device
    np.testing.assert_allclose(numpy_of(out), numpy_of(expected), **tol)
    upstream = np.random.default_rng(1).standard_normal(tuple(expected.shape)).astype(dtype)
    out.backward(tinytorch.tensor(upstream, device=device))
    expected.backward(torch.tensor(upstream))
    for x, tx in zip(ours, theirs):
        if tx.requires_grad:
            expected_grad = np.zeros(tuple(tx.shape), dtype) if tx.grad is None else tx.grad.numpy()
            np.testing.assert_allclose(numpy_of(x.grad), expected_grad, **tol)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_functional_matches_torch(case, reduction, dtype, device):
    torch = pytest.importorskip("torch")
    _, name, _, make, options = case
    inputs = make(np.random.default_rng(0))
    ours, theirs = _tensors(tinytorch, inputs, dtype, device), _tensors(torch, inputs, dtype)
    out = getattr(F, name)(*ours, reduction=reduction, **_on(device, options(tinytorch, dtype)))
    expected = getattr(torch.nn.functional, name)(*theirs, reduction=reduction, **options(torch, dtype))
    _check(torch, out, expected, ours, theirs, dtype, device)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_module_matches_torch(case, reduction, device):
    torch = pytest.importorskip("torch")
    _, _, module, make, options = case
    inputs = make(np.random.default_rng(0))
    ours, theirs = _tensors(tinytorch, inputs, "float64", device), _tensors(torch, inputs, "float64")
    loss = getattr(nn, module)(reduction=reduction, **options(tinytorch, "float64")).to(device)
    torch_loss = getattr(torch.nn, module)(reduction=reduction, **options(torch, "float64"))
    assert normalized(repr(loss)) == repr(torch_loss)
    assert list(loss.state_dict()) == list(torch_loss.state_dict())
    for attribute in ("reduction", "margin", "p", "eps", "swap"):
        assert getattr(loss, attribute, None) == getattr(torch_loss, attribute, None)
    _check(torch, loss(*ours), torch_loss(*theirs), ours, theirs, "float64", device)


# -- the kinks ----------------------------------------------------------------------------------
KINKS = [
    # margin - target (x1 - x2) = 0 (clamp_min: the gradient passes), and a target of 0
    ("margin_ranking", lambda f, x, t: f.margin_ranking_loss(x[0], x[1], t, margin=1.0, reduction="sum"),
     [[1.0, 2.0, 3.0, 0.5], [0.0, 2.0, 1.0, 0.5]], [1.0, 1.0, -1.0, 0.0]),
    # margin - x = 0 at x = 1 and a target of neither 1 nor -1 (both terms)
    ("hinge_embedding", lambda f, x, t: f.hinge_embedding_loss(x, t, reduction="sum"), [1.0, 0.0, 2.0, 1.0, 1.0], [-1.0, 1.0, -1.0, 0.5, 1.0]),
    # cos - margin = 0 for parallel vectors; a zero vector
    ("cosine_embedding", lambda f, x, t: f.cosine_embedding_loss(x[0], x[1], t, margin=1.0, reduction="sum"),
     [[[1.0, 2.0], [0.0, 0.0], [1.0, 0.0]], [[2.0, 4.0], [1.0, 1.0], [0.0, 1.0]]], [-1.0, 1.0, 0.0]),
    # z = margin - x[y] + x[i] = 0 (kernel: z > 0 strictly, so no gradient)
    ("multi_margin", lambda f, x, t: f.multi_margin_loss(x, t, reduction="sum"), [[1.0, 0.0, 0.5], [0.0, 1.0, 0.0]], [0, 1]),
    ("multi_margin_p2", lambda f, x, t: f.multi_margin_loss(x, t, p=2, reduction="sum"), [[1.0, 0.0, 0.5], [0.0, 1.0, 0.0]], [0, 1]),
    # a repeated target counts twice; indices after the -1 are ignored; z = 0 gives no gradient
    ("multilabel_margin", lambda f, x, t: f.multilabel_margin_loss(x, t, reduction="sum"), [[1.0, 0.0, 0.5], [0.0, 1.0, 0.0]],
     [[0, 0, -1], [1, -1, 2]]),
    # the triplet's margin reached exactly
    ("triplet", lambda f, x, t: f.triplet_margin_loss(x[0], x[1], x[2], eps=0.0, reduction="sum"),
     [[[0.0, 0.0]], [[1.0, 0.0]], [[2.0, 0.0]]], None),
]


@pytest.mark.parametrize("name, call, points, target", KINKS, ids=[k[0] for k in KINKS])
def test_gradients_at_the_kinks_are_pytorchs(name, call, points, target, device):
    torch = pytest.importorskip("torch")
    points = np.array(points)
    x = tinytorch.tensor(points, requires_grad=True, device=device)
    tx = torch.tensor(points, requires_grad=True)
    if target is None:
        t, tt = None, None
    else:
        target = np.array(target)
        t, tt = tinytorch.tensor(target, device=device), torch.tensor(target)
    ours = call(F, x, t) if target is not None else call(F, x, None)
    theirs = call(torch.nn.functional, tx, tt)
    np.testing.assert_allclose(numpy_of(ours), numpy_of(theirs), atol=1e-12)
    ours.backward()
    theirs.backward()
    np.testing.assert_allclose(numpy_of(x.grad), tx.grad.numpy(), atol=1e-12)


def test_soft_margin_loss_overflows_like_torch():
    torch = pytest.importorskip("torch")
    x = np.array([-200.0, -50.0, 0.0, 50.0, 200.0], dtype=np.float32)
    t = np.ones(5, dtype=np.float32)
    ours = F.soft_margin_loss(tinytorch.tensor(x), tinytorch.tensor(t), reduction="none")
    np.testing.assert_allclose(numpy_of(ours), torch.nn.functional.soft_margin_loss(torch.tensor(x), torch.tensor(t), reduction="none").numpy())


def test_multilabel_soft_margin_loss_is_stable_for_large_logits():
    torch = pytest.importorskip("torch")
    x = np.array([[-1e4, -80.0, 0.0, 80.0, 1e4]])
    t = np.array([[1.0, 0.0, 1.0, 1.0, 0.0]])
    ours = F.multilabel_soft_margin_loss(tinytorch.tensor(x), tinytorch.tensor(t))
    expected = torch.nn.functional.multilabel_soft_margin_loss(torch.tensor(x), torch.tensor(t))
    assert np.isfinite(ours.item())
    np.testing.assert_allclose(ours.item(), expected.item(), rtol=1e-12)


@pytest.mark.parametrize("name, shape, target", [("multi_margin_loss", (0, 4), np.zeros(0, np.int64)),
                                                  ("multilabel_margin_loss", (0, 4), np.zeros((0, 4), np.int64))])
def test_empty_batches(name, shape, target):
    torch = pytest.importorskip("torch")
    for reduction in ("none", "sum"):
        ours = getattr(F, name)(tinytorch.zeros(shape), tinytorch.tensor(target), reduction=reduction)
        expected = getattr(torch.nn.functional, name)(torch.zeros(shape), torch.tensor(target), reduction=reduction)
        assert tuple(ours.shape) == tuple(expected.shape)
        assert (numpy_of(ours) == 0).all()  # PyTorch returns its output uninitialized here
    assert np.isnan(getattr(F, name)(tinytorch.zeros(shape), tinytorch.tensor(target)).item())


# -- gradcheck ----------------------------------------------------------------------------------
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_gradcheck_and_second_derivatives(case):
    _, name, _, make, options = case
    inputs = make(np.random.default_rng(2))
    tensors = _tensors(tinytorch, inputs, "float64")
    kwargs = options(tinytorch, "float64")

    def loss(*xs):
        return getattr(F, name)(*xs, reduction="sum", **kwargs)

    assert gradcheck(loss, tuple(tensors))
    assert gradgradcheck(loss, tuple(tensors))


# -- errors -------------------------------------------------------------------------------------
def _error_cases(lib, fn):
    x, t = lib.randn(3, 4), lib.tensor([1.0, -1.0, 1.0])
    long = lib.tensor([0, 3, 1])
    labels = lib.tensor([[3, 0, -1, 1], [0, 1, 2, 3], [-1, 0, 0, 0]])
    return {
        "margin_ranking_dims": lambda: fn.margin_ranking_loss(t, t[None], t),
        "margin_ranking_sizes": lambda: fn.margin_ranking_loss(t, t[:2], t),
        "margin_ranking_target": lambda: fn.margin_ranking_loss(t, t, t[:2]),
        "margin_ranking_reduction": lambda: fn.margin_ranking_loss(t, t, t, reduction="avg"),
        "hinge_sizes": lambda: fn.hinge_embedding_loss(t, t[:2]),
        "hinge_reduction": lambda: fn.hinge_embedding_loss(t, t, reduction="avg"),
        "hinge_long_mean": lambda: fn.hinge_embedding_loss(long, long),
        "soft_margin_sizes": lambda: fn.soft_margin_loss(t, t[:2]),
        "soft_margin_target_shape": lambda: fn.soft_margin_loss(t, t[None]),
        "soft_margin_long": lambda: fn.soft_margin_loss(long, long),
        "soft_margin_target_grad": lambda: fn.soft_margin_loss(t, t.clone().requires_grad_()),
        "soft_margin_reduction": lambda: fn.soft_margin_loss(t, t, reduction="avg"),
        "cosine_multi_target": lambda: fn.cosine_embedding_loss(x, x, t[:, None]),
        "cosine_1d_target": lambda: fn.cosine_embedding_loss(x[0], x[0], t),
        "cosine_0d_target": lambda: fn.cosine_embedding_loss(x, x, t[0]),
        "cosine_input2_dims": lambda: fn.cosine_embedding_loss(x, x[0], t),
        "cosine_sizes": lambda: fn.cosine_embedding_loss(x, x[:2], t),
        "cosine_target_size": lambda: fn.cosine_embedding_loss(x, x, t[:2]),
        "triplet_dims": lambda: fn.triplet_margin_loss(x, x, x[0]),
        "triplet_margin": lambda: fn.triplet_margin_loss(x, x, x, margin=0),
        "triplet_reduction": lambda: fn.triplet_margin_loss(x, x, x, reduction="avg"),
        "triplet_distance_dims": lambda: fn.triplet_margin_with_distance_loss(x, x, x[0]),
        "triplet_distance_margin": lambda: fn.triplet_margin_with_distance_loss(x, x, x, margin=-1.5),
        "triplet_distance_reduction": lambda: fn.triplet_margin_with_distance_loss(x, x, x, reduction="avg"),
        "multi_margin_p": lambda: fn.multi_margin_loss(x, long, p=3),
        "multi_margin_weight_dims": lambda: fn.multi_margin_loss(x, long, weight=lib.ones(2, 2)),
        "multi_margin_weight_size": lambda: fn.multi_margin_loss(x, long, weight=lib.ones(3)),
        "multi_margin_weight_dtype": lambda: fn.multi_margin_loss(x, long, weight=lib.ones(4, dtype=lib.float64)),
        "multi_margin_weight_grad": lambda: fn.multi_margin_loss(x, long, weight=lib.ones(4, requires_grad=True)),
        "multi_margin_target_size": lambda: fn.multi_margin_loss(x, long[:2]),
        "multi_margin_target_dims": lambda: fn.multi_margin_loss(x, long[:, None]),
        "multi_margin_input_dims": lambda: fn.multi_margin_loss(x[None], long),
        "multi_margin_no_classes": lambda: fn.multi_margin_loss(lib.zeros(3, 0), long),
        "multi_margin_out_of_range": lambda: fn.multi_margin_loss(x, lib.tensor([0, 4, 1])),
        "multi_margin_negative": lambda: fn.multi_margin_loss(x, lib.tensor([0, -1, 1])),
        "multi_margin_float_target": lambda: fn.multi_margin_loss(x, t),
        "multi_margin_long_input": lambda: fn.multi_margin_loss(long[:, None] * lib.ones(3, 4, dtype=lib.int64), t),
        "multi_margin_reduction": lambda: fn.multi_margin_loss(x, long, reduction="avg"),
        "multilabel_target_rows": lambda: fn.multilabel_margin_loss(x, labels[:2]),
        "multilabel_target_columns": lambda: fn.multilabel_margin_loss(x, labels[:, :3]),
        "multilabel_target_1d": lambda: fn.multilabel_margin_loss(x, labels[0]),
        "multilabel_1d_input": lambda: fn.multilabel_margin_loss(x[0], labels[:1]),
        "multilabel_input_dims": lambda: fn.multilabel_margin_loss(x[None], labels),
        "multilabel_out_of_range": lambda: fn.multilabel_margin_loss(x, labels * 2),
        "multilabel_below_minus_one": lambda: fn.multilabel_margin_loss(x, labels - 1),
        "multilabel_float_target": lambda: fn.multilabel_margin_loss(x, labels.double()),
        "multilabel_long_input": lambda: fn.multilabel_margin_loss(labels, labels.double()),
        "multilabel_reduction": lambda: fn.multilabel_margin_loss(x, labels, reduction="avg"),
        "multilabel_soft_reduction": lambda: fn.multilabel_soft_margin_loss(x, x, reduction="avg"),
        "multilabel_soft_long": lambda: fn.multilabel_soft_margin_loss(labels, x),
        "multilabel_soft_0d": lambda: fn.multilabel_soft_margin_loss(lib.tensor(1.0), lib.tensor(1.0)),
    }


@pytest.mark.parametrize("case", list(_error_cases(tinytorch, F)))
def test_errors_match_torch(case):
    torch = pytest.importorskip("torch")
    assert_same_error(_error_cases(tinytorch, F)[case], _error_cases(torch, torch.nn.functional)[case])


@pytest.mark.parametrize("call, message", [
    (lambda x, labels: F.multi_margin_loss(x, labels[:, 0] + 4), "target out of range"),
    (lambda x, labels: F.multilabel_margin_loss(x, labels + 4), "argument #2 'target' is out of range"),
])
def test_out_of_range_targets_are_reported_on_every_device(call, message, device):
    x = tinytorch.randn(3, 4, device=device)
    labels = tinytorch.zeros(3, 4, dtype=tinytorch.int64, device=device)
    with pytest.raises(RuntimeError, match=f"^{message}$"):
        call(x, labels)
        tinytorch.cuda.synchronize() if device == "cuda" else None  # a GPU reports it at the next synchronization


def test_key_errors_without_torch():
    x = tinytorch.randn(3, 4)
    with pytest.raises(ValueError, match="^margin must be greater than 0, got 0$"):
        F.triplet_margin_loss(x, x, x, margin=0)
    with pytest.raises(ValueError, match="^only p == 1 and p == 2 supported$"):
        F.multi_margin_loss(x, tinytorch.tensor([0, 1, 2]), p=3)
    with pytest.raises(RuntimeError, match=r"^inconsistent target size: \[2, 4\] for input of size: \[3, 4\]$"):
        F.multilabel_margin_loss(x, tinytorch.zeros(2, 4, dtype=tinytorch.int64))


@pytest.mark.parametrize("make", [
    lambda lib, nn: nn.TripletMarginLoss(margin=0),
    lambda lib, nn: nn.TripletMarginWithDistanceLoss(margin=-1.0),
    lambda lib, nn: nn.MultiMarginLoss(p=3),
    lambda lib, nn: nn.MultiMarginLoss(weight=lib.ones(2, 2)),
])
def test_module_constructor_errors_match_torch(make):
    torch = pytest.importorskip("torch")
    assert_same_error(lambda: make(tinytorch, nn), lambda: make(torch, torch.nn))


# -- legacy arguments and modules ---------------------------------------------------------------
@pytest.mark.parametrize("legacy, reduction", [({"size_average": False}, "sum"), ({"reduce": False}, "none"),
                                               ({"size_average": True, "reduce": True}, "mean")])
@pytest.mark.parametrize("name, module, args", [
    ("margin_ranking_loss", "MarginRankingLoss", lambda lib: (lib.ones(3), lib.zeros(3), -lib.ones(3))),
    ("hinge_embedding_loss", "HingeEmbeddingLoss", lambda lib: (lib.ones(3) * 0.5, -lib.ones(3))),
    ("soft_margin_loss", "SoftMarginLoss", lambda lib: (lib.ones(3), -lib.ones(3))),
    ("cosine_embedding_loss", "CosineEmbeddingLoss", lambda lib: (lib.ones(3, 2), lib.ones(3, 2), -lib.ones(3))),
    ("triplet_margin_loss", "TripletMarginLoss", lambda lib: (lib.ones(3, 2), lib.ones(3, 2), lib.zeros(3, 2))),
    ("multi_margin_loss", "MultiMarginLoss", lambda lib: (lib.eye(3), lib.tensor([1, 2, 0]))),
    ("multilabel_margin_loss", "MultiLabelMarginLoss", lambda lib: (lib.eye(3), lib.tensor([[1, -1, 0], [2, -1, 0], [0, -1, 0]]))),
    ("multilabel_soft_margin_loss", "MultiLabelSoftMarginLoss", lambda lib: (lib.eye(3), lib.ones(3, 3))),
])
def test_legacy_size_average_and_reduce_like_torch(name, module, args, legacy, reduction):
    torch = pytest.importorskip("torch")
    message = f"size_average and reduce args will be deprecated, please use reduction='{reduction}' instead."
    with pytest.warns(UserWarning, match=message):
        ours = getattr(F, name)(*args(tinytorch), **legacy)
    with pytest.warns(UserWarning, match=message):
        loss = getattr(nn, module)(**legacy)
    assert loss.reduction == reduction
    with pytest.warns(UserWarning, match=message):
        expected = getattr(torch.nn.functional, name)(*args(torch), **legacy)
    np.testing.assert_allclose(numpy_of(ours), expected.numpy(), rtol=1e-6)
    np.testing.assert_allclose(numpy_of(loss(*args(tinytorch))), expected.numpy(), rtol=1e-6)


def test_weighted_modules_keep_weight_as_a_buffer(device):
    weight = tinytorch.tensor([1.0, 2.0, 3.0])
    for loss in (nn.MultiMarginLoss(weight=weight), nn.MultiLabelSoftMarginLoss(weight=weight)):
        assert list(loss.state_dict()) == ["weight"] and list(loss.parameters()) == []
        assert loss.to(device).weight.device.type == device


def test_triplet_with_distance_loss_registers_its_distance_module():
    loss = nn.TripletMarginWithDistanceLoss()
    assert [name for name, _ in loss.named_children()] == ["distance_function"]
    custom = nn.TripletMarginWithDistanceLoss(distance_function=tinytorch.pairwise_distance)
    assert custom.distance_function is tinytorch.pairwise_distance and list(custom.named_children()) == []
