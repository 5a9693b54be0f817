"""F.linear_cross_entropy, nn.LinearCrossEntropyLoss and nn.LinearCrossEntropyOptions against
torch (values, gradients, warnings, errors), the chunked path against the reference path, and
the deprecated nn.NLLLoss2d and nn.Container."""

import warnings

import numpy as np
import pytest

import tinytorch
import tinytorch.nn.functional as F
from tinytorch import _backend, nn

from .helpers import assert_same_error, copy_module, numpy_of, raised

TOLERANCE = {"float32": dict(atol=1e-5, rtol=1e-4), "float64": dict(atol=1e-11, rtol=1e-9)}
ROWS, FEATURES, CLASSES = 7, 4, 5


def _problem(seed=0, rows=ROWS, features=FEATURES, classes=CLASSES, out_features=()):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, features))
    w = rng.standard_normal((classes, *out_features, features))
    b = rng.standard_normal((classes, *out_features))
    t = rng.integers(0, classes, size=(rows, *out_features))
    return x, w, b, t, rng.uniform(0.5, 2.0, classes)


def _call(lib, dtype, x, w, b, t, class_weight, *, bias=False, use_weight=False, chunk=None, grad_output_seed=None,
          **kwargs):
    """The loss and the gradients of input, linear_weight (and linear_bias) from a backward of a
    random-weighted sum of the output."""
    X, W, B = (lib.tensor(a.astype(dtype), requires_grad=True) for a in (x, w, b))
    options = None if chunk is None else lib.nn.LinearCrossEntropyOptions(**chunk)
    loss = lib.nn.functional.linear_cross_entropy(
        X, W, lib.tensor(t), linear_bias=B if bias else None,
        weight=lib.tensor(class_weight.astype(dtype)) if use_weight else None, options=options, **kwargs)
    weights = np.random.default_rng(5).standard_normal(tuple(loss.shape)).astype(dtype)
    (loss * lib.tensor(weights)).sum().backward()
    grads = [X.grad, W.grad] + ([B.grad] if bias else [])
    return [numpy_of(loss)] + [numpy_of(g) for g in grads]


def _assert_all_close(ours, theirs, dtype):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(a, b, **TOLERANCE[np.dtype(dtype).name])


CHUNKS = [None, dict(batch_chunk_size=1), dict(batch_chunk_size=3), dict(), dict(chunking_method="aspect_ratio"),
          dict(chunking_method=None)]
CHUNK_IDS = ["reference", "chunk1", "chunk3", "auto", "aspect_ratio", "one_chunk"]
VARIANTS = [dict(), dict(bias=True), dict(use_weight=True), dict(ignored=True), dict(ignore_index=2),
            dict(bias=True, use_weight=True, ignored=True)]


@pytest.mark.parametrize("chunk", CHUNKS, ids=CHUNK_IDS)
@pytest.mark.parametrize("variant", VARIANTS, ids=[str(v) for v in VARIANTS])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_class_indices_match_torch(chunk, variant, reduction, dtype):
    torch = pytest.importorskip("torch")
    x, w, b, t, class_weight = _problem()
    variant = dict(variant)
    if variant.pop("ignored", False):
        t[[1, 4]] = -100  # the default ignore_index
    kwargs = dict(variant, reduction=reduction, chunk=chunk)
    ours = _call(tinytorch, dtype, x, w, b, t, class_weight, **kwargs)
    theirs = _call(torch, dtype, x, w, b, t, class_weight, **kwargs)
    _assert_all_close(ours, theirs, dtype)


@pytest.mark.parametrize("chunk", [None, dict(batch_chunk_size=2)], ids=["reference", "chunk2"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_unbatched_input_matches_torch(chunk, reduction):
    torch = pytest.importorskip("torch")
    x, w, b, t, class_weight = _problem()
    kwargs = dict(reduction=reduction, chunk=chunk, bias=True, use_weight=True)
    ours = _call(tinytorch, np.float64, x[3], w, b, t[3], class_weight, **kwargs)
    _assert_all_close(ours, _call(torch, np.float64, x[3], w, b, t[3], class_weight, **kwargs), np.float64)
    # A 1-element 1-d target, as cross_entropy takes it for a (C,) input, gives the same (torch's
    # reference path computes that loss, then fails in its backward).
    _assert_all_close(_call(tinytorch, np.float64, x[3], w, b, t[3:4], class_weight, **kwargs), ours, np.float64)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
def test_k_dimensional_loss_and_bias_match_torch(reduction, label_smoothing):
    torch = pytest.importorskip("torch")
    x, w, b, t, class_weight = _problem(out_features=(3, 2))
    t[0, 1, 1] = -100
    kwargs = dict(reduction=reduction, bias=True, use_weight=True, label_smoothing=label_smoothing)
    _assert_all_close(_call(tinytorch, np.float64, x, w, b, t, class_weight, **kwargs),
                      _call(torch, np.float64, x, w, b, t, class_weight, **kwargs), np.float64)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("out_features", [(), (2,)], ids=["plain", "k_dim"])
def test_class_probabilities_match_torch(reduction, out_features):
    torch = pytest.importorskip("torch")
    x, w, b, _, class_weight = _problem(out_features=out_features)
    rng = np.random.default_rng(2)
    probabilities = rng.uniform(0.1, 1.0, (ROWS, CLASSES, *out_features))
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    kwargs = dict(reduction=reduction, bias=True, use_weight=True, label_smoothing=0.1)
    _assert_all_close(_call(tinytorch, np.float64, x, w, b, probabilities, class_weight, **kwargs),
                      _call(torch, np.float64, x, w, b, probabilities, class_weight, **kwargs), np.float64)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("chunk_size", [1, 2, 3, 7, 50])
def test_chunked_path_equals_reference_path(reduction, chunk_size):
    """No torch needed: every chunking gives the unchunked values and gradients."""
    x, w, b, t, class_weight = _problem(seed=4, rows=9)
    t[[0, 5]] = -100
    kwargs = dict(reduction=reduction, bias=True, use_weight=True)
    reference = _call(tinytorch, np.float64, x, w, b, t, class_weight, **kwargs)
    chunked = _call(tinytorch, np.float64, x, w, b, t, class_weight, chunk=dict(batch_chunk_size=chunk_size), **kwargs)
    _assert_all_close(chunked, reference, np.float64)


def test_chunked_path_never_holds_the_whole_logits(monkeypatch):
    """Every logits block made in forward and backward has at most batch_chunk_size rows."""
    shapes = []
    product = _backend.matmul_transposed

    def recording(a, b, bias=None):
        out = product(a, b, bias)
        shapes.append(out.shape)
        return out

    monkeypatch.setattr(_backend, "matmul_transposed", recording)
    x, w, b, t, _ = _problem(rows=10, classes=6)
    _call(tinytorch, np.float64, x, w, b, t, None, bias=True, chunk=dict(batch_chunk_size=3))
    logits_blocks = [shape for shape in shapes if shape[-1] == 6]
    assert len(logits_blocks) >= 8  # 4 chunks in forward, 4 again in backward
    assert max(rows for rows, _ in logits_blocks) == 3
    shapes.clear()
    _call(tinytorch, np.float64, x, w, b, t, None, bias=True)  # the reference path: one (10, 6) block
    assert (10, 6) in shapes


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_chunked_second_derivatives_equal_reference_path(reduction):
    """create_graph=True works on the chunked path (PyTorch's refuses it): its gradient of a
    gradient equals the reference path's."""
    x, w, b, t, class_weight = _problem(seed=6)
    t[2] = -100

    def second(options):
        X, W, B = (tinytorch.tensor(a, requires_grad=True) for a in (x, w, b))
        loss = F.linear_cross_entropy(X, W, tinytorch.tensor(t), linear_bias=B, weight=tinytorch.tensor(class_weight),
                                      reduction=reduction, options=options)
        grads = tinytorch.autograd.grad((loss * tinytorch.tensor(np.linspace(1, 2, loss.numel()).reshape(tuple(loss.shape)))).sum(),
                                        [X, W, B], create_graph=True)
        total = sum((g * g).sum() for g in grads)
        return [numpy_of(g) for g in tinytorch.autograd.grad(total, [X, W, B])]

    _assert_all_close(second(nn.LinearCrossEntropyOptions(batch_chunk_size=2)), second(None), np.float64)


def test_chunked_backward_twice_with_retain_graph():
    x, w, b, t, _ = _problem()
    X = tinytorch.tensor(x, requires_grad=True)
    loss = F.linear_cross_entropy(X, tinytorch.tensor(w), tinytorch.tensor(t),
                                  options=nn.LinearCrossEntropyOptions(batch_chunk_size=2))
    loss.backward(retain_graph=True)
    first = numpy_of(X.grad).copy()
    loss.backward()
    np.testing.assert_allclose(numpy_of(X.grad), 2 * first, rtol=1e-12)


def test_all_targets_ignored_mean_is_nan_like_torch():
    torch = pytest.importorskip("torch")
    x, w, b, t, _ = _problem()
    t[:] = -100
    for chunk in (None, dict(batch_chunk_size=3)):
        for lib in (tinytorch, torch):
            options = None if chunk is None else lib.nn.LinearCrossEntropyOptions(**chunk)
            loss = lib.nn.functional.linear_cross_entropy(lib.tensor(x), lib.tensor(w), lib.tensor(t), options=options)
            assert np.isnan(numpy_of(loss))


def test_empty_batch_matches_torch():
    torch = pytest.importorskip("torch")
    x, w, _, t, _ = _problem()
    for reduction in ("mean", "sum", "none"):
        for chunk in (None, dict(batch_chunk_size=2)):
            results = []
            for lib in (tinytorch, torch):
                options = None if chunk is None else lib.nn.LinearCrossEntropyOptions(**chunk)
                results.append(numpy_of(lib.nn.functional.linear_cross_entropy(
                    lib.tensor(x[:0]), lib.tensor(w), lib.tensor(t[:0]), reduction=reduction, options=options)))
            np.testing.assert_array_equal(results[0], results[1])


def _warnings(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = call()
    return numpy_of(out), [str(w.message).replace("tinytorch.", "torch.") for w in caught]


@pytest.mark.parametrize("case", ["label_smoothing", "probabilities", "k_dim", "uint8_target"])
def test_unsupported_options_warn_and_fall_back_like_torch(case):
    torch = pytest.importorskip("torch")
    x, w, b, t, _ = _problem(out_features=(2,) if case == "k_dim" else ())
    kwargs = {}
    if case == "label_smoothing":
        kwargs["label_smoothing"] = 0.2
    if case == "probabilities":
        t = np.full((ROWS, CLASSES), 1.0 / CLASSES)
    if case == "uint8_target":
        t = t.astype(np.uint8)

    def run(lib):
        return lib.nn.functional.linear_cross_entropy(
            lib.tensor(x), lib.tensor(w), lib.tensor(t), linear_bias=lib.tensor(b),
            options=lib.nn.LinearCrossEntropyOptions(batch_chunk_size=2), **kwargs)

    ours, ours_warnings = _warnings(lambda: run(tinytorch))
    theirs, their_warnings = _warnings(lambda: run(torch))
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    assert ours_warnings == their_warnings and len(ours_warnings) == 1


def _error_cases():
    x, w, b, t, _ = _problem()
    return {
        "3d_input": (lambda lib: (lib.tensor(x[None]), lib.tensor(w), lib.tensor(t)), {}),
        "1d_weight": (lambda lib: (lib.tensor(x), lib.tensor(w[0]), lib.tensor(t)), {}),
        "in_features": (lambda lib: (lib.tensor(x), lib.tensor(w[:, :3]), lib.tensor(t)), {}),
        "bias_shape": (lambda lib: (lib.tensor(x), lib.tensor(w), lib.tensor(t)), {"linear_bias": np.ones(4)}),
        "k_dim_unbatched": (lambda lib: (lib.tensor(x[0]), lib.tensor(np.ones((5, 3, 4))), lib.tensor(t[:3])), {}),
        "probabilities_with_ignore_index": (
            lambda lib: (lib.tensor(x), lib.tensor(w), lib.tensor(np.full((ROWS, CLASSES), 0.2))), {"ignore_index": 1}),
        "dtype_mismatch": (lambda lib: (lib.tensor(x.astype(np.float32)), lib.tensor(w), lib.tensor(t)), {}),
        "int32_target": (lambda lib: (lib.tensor(x), lib.tensor(w), lib.tensor(t.astype(np.int32))), {}),
        "bad_reduction": (lambda lib: (lib.tensor(x), lib.tensor(w), lib.tensor(t)), {"reduction": "avg"}),
        "label_smoothing_range": (lambda lib: (lib.tensor(x), lib.tensor(w), lib.tensor(t)), {"label_smoothing": 1.5}),
    }


REFERENCE_ONLY = {
    "target_out_of_bounds": lambda lib: (lib.tensor(np.ones((3, 4))), lib.tensor(np.ones((5, 4))), lib.tensor([0, 7, 1])),
    "target_batch": lambda lib: (lib.tensor(np.ones((3, 4))), lib.tensor(np.ones((5, 4))), lib.tensor([0, 1])),
    "class_weight_size": lambda lib: (lib.tensor(np.ones((3, 4))), lib.tensor(np.ones((5, 4))), lib.tensor([0, 1, 2])),
    "multi_target": lambda lib: (lib.tensor(np.ones((3, 4))), lib.tensor(np.ones((5, 4))), lib.tensor([[0], [1], [2]])),
}


@pytest.mark.parametrize("chunked", [False, True], ids=["reference", "chunked"])
@pytest.mark.parametrize("name", list(_error_cases()))
def test_errors_match_torch(name, chunked):
    torch = pytest.importorskip("torch")
    arguments, kwargs = _error_cases()[name]

    def call(lib):
        extra = {k: (lib.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kwargs.items()}
        options = lib.nn.LinearCrossEntropyOptions(batch_chunk_size=2) if chunked else None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the fall-back warning of some cases
            return lib.nn.functional.linear_cross_entropy(*arguments(lib), options=options, **extra)

    assert_same_error(lambda: call(tinytorch), lambda: call(torch))


@pytest.mark.parametrize("name", list(REFERENCE_ONLY))
def test_target_errors_match_torch_reference_path(name):
    """The chunked path raises the same errors as the reference path (PyTorch's chunked op raises
    others, from deep inside its indexing: docs/differences.md)."""
    torch = pytest.importorskip("torch")
    weight = {"class_weight_size": np.ones(3)}.get(name)

    def call(lib, options=None):
        extra = {} if weight is None else {"weight": lib.tensor(weight)}
        return lib.nn.functional.linear_cross_entropy(*REFERENCE_ONLY[name](lib), options=options, **extra)

    theirs = raised(lambda: call(torch))
    assert raised(lambda: call(tinytorch)) == theirs
    assert raised(lambda: call(tinytorch, nn.LinearCrossEntropyOptions(batch_chunk_size=2))) == theirs


def test_chunked_path_casts_class_weights_like_torch():
    torch = pytest.importorskip("torch")
    x, w, _, t, class_weight = _problem()
    results = [numpy_of(lib.nn.functional.linear_cross_entropy(
        lib.tensor(x.astype(np.float32)), lib.tensor(w.astype(np.float32)), lib.tensor(t), weight=lib.tensor(class_weight),
        options=lib.nn.LinearCrossEntropyOptions(batch_chunk_size=3))) for lib in (tinytorch, torch)]
    assert results[0].dtype == np.float32
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6)


# -- LinearCrossEntropyOptions ----------------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [
    dict(), dict(batch_chunk_size=4, allow_retain_graph=True), dict(chunking_method="aspect_ratio:3"),
    dict(acc_policy="accurate", chunking_method=None),
])
def test_options_fields_and_repr_match_torch(kwargs):
    torch = pytest.importorskip("torch")
    ours, theirs = nn.LinearCrossEntropyOptions(**kwargs), torch.nn.LinearCrossEntropyOptions(**kwargs)
    assert repr(ours) == repr(theirs)
    assert ours == nn.LinearCrossEntropyOptions(**kwargs)
    with pytest.raises(AttributeError):
        ours.batch_chunk_size = 2  # frozen, as PyTorch's


@pytest.mark.parametrize("kwargs", [
    dict(acc_policy="fast"), dict(chunking_method="rows"), dict(chunking_method="aspect_ratio:0"),
    dict(chunking_method="aspect_ratio:x"), dict(batch_chunk_size=0), dict(batch_chunk_size=2.0),
])
def test_options_errors_match_torch(kwargs):
    torch = pytest.importorskip("torch")
    assert_same_error(lambda: nn.LinearCrossEntropyOptions(**kwargs), lambda: torch.nn.LinearCrossEntropyOptions(**kwargs))


def test_options_acc_dtype():
    assert nn.LinearCrossEntropyOptions(acc_dtype=tinytorch.float32).acc_dtype is tinytorch.float32
    with pytest.raises(ValueError, match="acc_dtype must be one of"):
        nn.LinearCrossEntropyOptions(acc_dtype=tinytorch.int64)


@pytest.mark.parametrize("rows, features, classes", [(7, 4, 5), (100, 8, 1000), (1, 3, 2), (64, 64, 64), (0, 4, 5)])
@pytest.mark.parametrize("kwargs", [dict(), dict(chunking_method="aspect_ratio"), dict(chunking_method="aspect_ratio:4"),
                                    dict(chunking_method=None), dict(batch_chunk_size=3), dict(batch_chunk_size=200)])
def test_chunk_size_matches_torch(rows, features, classes, kwargs):
    torch = pytest.importorskip("torch")
    theirs = torch.nn.LinearCrossEntropyOptions(**kwargs)._adjust(rows, features, classes, torch.float32,
                                                                   torch.device("cpu")).batch_chunk_size
    assert nn.LinearCrossEntropyOptions(**kwargs)._chunk_size(rows, features, classes, tinytorch.float32, "cpu") == theirs


def test_conflicting_chunk_size_and_method_match_torch():
    torch = pytest.importorskip("torch")
    x, w, _, t, _ = _problem()

    def call(lib):
        options = lib.nn.LinearCrossEntropyOptions(batch_chunk_size=3, chunking_method="aspect_ratio")
        return lib.nn.functional.linear_cross_entropy(lib.tensor(x), lib.tensor(w), lib.tensor(t), options=options)

    assert_same_error(lambda: call(tinytorch), lambda: call(torch))


# -- LinearCrossEntropyLoss -------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [
    dict(), dict(bias=True, reduction="sum"), dict(out_features=(3,), bias=True, label_smoothing=0.1),
    dict(ignore_index=1, reduction="none"), dict(bias=True, chunk=dict(batch_chunk_size=2)),
])
def test_module_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    kwargs = dict(kwargs)
    chunk = kwargs.pop("chunk", None)
    out_features = kwargs.get("out_features", ())
    class_weight = np.random.default_rng(1).uniform(0.5, 2.0, CLASSES)
    theirs = torch.nn.LinearCrossEntropyLoss(FEATURES, CLASSES, weight=torch.tensor(class_weight), dtype=torch.float64,
                                             options=None if chunk is None else torch.nn.LinearCrossEntropyOptions(**chunk),
                                             **kwargs)
    ours = nn.LinearCrossEntropyLoss(FEATURES, CLASSES, weight=tinytorch.tensor(class_weight), dtype=tinytorch.float64,
                                     options=None if chunk is None else nn.LinearCrossEntropyOptions(**chunk), **kwargs)
    assert repr(ours).replace("tinytorch.", "torch.") == repr(theirs)
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    copy_module(theirs, ours)
    x, _, _, t, _ = _problem(out_features=out_features)
    results = []
    for lib, module in ((tinytorch, ours), (torch, theirs)):
        X = lib.tensor(x, requires_grad=True)
        loss = module(X, lib.tensor(t))
        loss.sum().backward()
        results.append([numpy_of(loss), numpy_of(X.grad)] + [numpy_of(p.grad) for p in module.parameters()])
    _assert_all_close(results[0], results[1], np.float64)


def test_module_constructor_errors_match_torch():
    torch = pytest.importorskip("torch")
    assert_same_error(lambda: nn.LinearCrossEntropyLoss(3, 4, weight=tinytorch.ones(3)),
                      lambda: torch.nn.LinearCrossEntropyLoss(3, 4, weight=torch.ones(3)))
    assert_same_error(lambda: nn.LinearCrossEntropyLoss(3, 4, label_smoothing=1.5),
                      lambda: torch.nn.LinearCrossEntropyLoss(3, 4, label_smoothing=1.5))


def test_module_initialization_and_layout():
    loss = nn.LinearCrossEntropyLoss(6, 4, out_features=(2, 3), bias=True)
    assert tuple(loss.linear.weight.shape) == (24, 6) and tuple(loss.linear.bias.shape) == (24,)
    assert np.abs(numpy_of(loss.linear.weight)).max() <= 1 / np.sqrt(6)  # Linear's U(+-1/sqrt(fan_in))
    assert loss.linear.bias.requires_grad and loss.weight is None


# -- deprecated aliases -----------------------------------------------------------------------------
def test_nll_loss_2d_warns_and_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    log_probs = np.ascontiguousarray(np.log(rng.dirichlet(np.ones(3), size=(2, 4, 5)).transpose(0, 3, 1, 2)))
    target = rng.integers(0, 3, (2, 4, 5))
    target[0, 0, 0] = 1
    results = []
    for lib in (tinytorch, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            module = lib.nn.NLLLoss2d(weight=lib.tensor([1.0, 2.0, 0.5], dtype=lib.float64), ignore_index=1)
        assert [w.category for w in caught] == [FutureWarning]
        X = lib.tensor(log_probs, requires_grad=True)
        loss = module(X, lib.tensor(target))
        loss.backward()
        results.append((str(caught[0].message), numpy_of(loss), numpy_of(X.grad), module.ignore_index, module.reduction))
    assert results[0][0] == results[1][0]
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12)
    np.testing.assert_allclose(results[0][2], results[1][2], rtol=1e-12)
    assert results[0][3:] == results[1][3:]
    assert isinstance(module, torch.nn.NLLLoss) and issubclass(nn.NLLLoss2d, nn.NLLLoss)


def test_container_warns_and_registers_its_modules_like_torch():
    torch = pytest.importorskip("torch")
    messages, names, reprs = [], [], []
    for lib in (tinytorch, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            container = lib.nn.Container(encoder=lib.nn.Linear(2, 3), activation=lib.nn.ReLU())
        assert [w.category for w in caught] == [FutureWarning]
        assert caught[0].filename == __file__  # the warning points at the caller
        messages.append(str(caught[0].message))
        names.append([name for name, _ in container.named_parameters()])
        reprs.append(repr(container))
        assert isinstance(container, lib.nn.Module)
    assert messages[0] == messages[1] and names[0] == names[1] == ["encoder.weight", "encoder.bias"]
    assert reprs[0] == reprs[1]


# -- devices ----------------------------------------------------------------------------------------
def test_chunked_path_on_cuda_matches_cpu(device):
    if device != "cuda":
        pytest.skip("the cpu case is the reference")
    x, w, b, t, class_weight = _problem()
    t[1] = -100
    results = []
    for dev in ("cpu", device):
        X, W, B = (tinytorch.tensor(a, requires_grad=True, device=dev) for a in (x, w, b))
        loss = F.linear_cross_entropy(X, W, tinytorch.tensor(t, device=dev), linear_bias=B,
                                      weight=tinytorch.tensor(class_weight, device=dev),
                                      options=nn.LinearCrossEntropyOptions(batch_chunk_size=3))
        loss.backward()
        assert loss.device.type == dev and X.grad.device.type == dev
        results.append([numpy_of(loss), numpy_of(X.grad), numpy_of(W.grad), numpy_of(B.grad)])
    _assert_all_close(results[1], results[0], np.float64)
