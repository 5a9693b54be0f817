"""PyTorch's top-level nn functions with aten's signatures (``torch.embedding(weight, indices)``,
``torch.batch_norm(...)`` with every argument, the losses' int reduction) against torch: values,
every output of the tuple-returning ones, gradients, the int reductions, and torch's argument errors."""

import numpy as np
import pytest

import tinytorch
from tinytorch.nn import functional as F

from .nn.helpers import numpy_of, raised

# Each case: (id, call(lib, *tensors), inputs(rng) -> [(array, differentiable)]). float64 throughout.
OFFSETS = np.array([0, 2, 2, 5])  # bags [0, 2), [2, 2) (empty), [2, 5), [5, 7)
BAG_INDICES = np.array([0, 3, 4, 1, 3, 2, 2])
LAST_OFFSETS = np.array([0, 2, 2, 5, 7])  # the same bags, with include_last_offset


def _normal(*shape):
    return lambda r: r.standard_normal(shape)


def _inputs(*makers):
    """inputs(rng) from (maker, differentiable) pairs; a maker is an array or a function of the rng."""
    return lambda r: [(m(r) if callable(m) else m, d) for m, d in makers]


def _signs(n):
    return lambda r: r.choice([-1.0, 1.0], size=n)


def _bag(mode, offsets=OFFSETS, last=False, padding_idx=None, weights=False):
    def call(lib, weight, indices, offsets, *per_sample):
        return lib.embedding_bag(weight, indices, offsets, False, mode, False, per_sample[0] if per_sample else None,
                                 last, padding_idx)
    makers = [(_normal(5, 3), True), (BAG_INDICES, False), (offsets, False)]
    return call, _inputs(*makers, *([(lambda r: r.uniform(0.5, 2, BAG_INDICES.size), True)] if weights else []))


CASES = [
    ("conv1d", lambda lib, x, w, b: lib.conv1d(x, w, b, 2, 1, 1, 2),
     _inputs((_normal(2, 4, 9), True), (_normal(6, 2, 3), True), (_normal(6), True))),
    ("conv2d", lambda lib, x, w, b: lib.conv2d(x, w, b, (1, 2), 1),
     _inputs((_normal(1, 2, 5, 6), True), (_normal(3, 2, 3, 3), True), (_normal(3), True))),
    ("conv2d_same", lambda lib, x, w: lib.conv2d(x, w, None, 1, "same", 2),
     _inputs((_normal(1, 2, 6, 6), True), (_normal(3, 2, 2, 3), True))),
    ("conv3d", lambda lib, x, w: lib.conv3d(x, w, padding=1),
     _inputs((_normal(1, 2, 3, 4, 4), True), (_normal(2, 2, 2, 2, 2), True))),
    ("conv_transpose1d", lambda lib, x, w, b: lib.conv_transpose1d(x, w, b, 2, 1, 1),
     _inputs((_normal(2, 4, 5), True), (_normal(4, 3, 3), True), (_normal(3), True))),
    ("conv_transpose2d", lambda lib, x, w: lib.conv_transpose2d(x, w, None, 2, 0, 1, 2, 1),
     _inputs((_normal(1, 4, 3, 3), True), (_normal(4, 1, 2, 3), True))),
    ("conv_transpose3d", lambda lib, x, w: lib.conv_transpose3d(x, w, stride=2),
     _inputs((_normal(1, 2, 2, 2, 3), True), (_normal(2, 1, 2, 2, 2), True))),
    ("convolution_1d", lambda lib, x, w, b: lib.convolution(x, w, b, [2], [1], [2], False, [0], 2),
     _inputs((_normal(2, 4, 9), True), (_normal(6, 2, 3), True), (_normal(6), True))),
    ("convolution_2d", lambda lib, x, w: lib.convolution(x, w, None, (1, 2), (1, 0), (1, 1), False, (0, 0), 1),
     _inputs((_normal(2, 2, 5, 5), True), (_normal(3, 2, 3, 2), True))),
    ("convolution_3d", lambda lib, x, w: lib.convolution(x, w, None, [1] * 3, [0] * 3, [1] * 3, False, [0] * 3, 1),
     _inputs((_normal(1, 2, 3, 3, 3), True), (_normal(2, 2, 2, 2, 2), True))),
    ("convolution_transposed", lambda lib, x, w, b: lib.convolution(x, w, b, [2, 2], [1, 1], [1, 1], True, [1, 0], 2),
     _inputs((_normal(1, 4, 3, 3), True), (_normal(4, 3, 3, 3), True), (_normal(6), True))),
    ("conv_tbc", lambda lib, x, w, b: lib.conv_tbc(x, w, b),
     _inputs((_normal(7, 2, 4), True), (_normal(3, 4, 5), True), (_normal(5), True))),
    ("conv_tbc_pad", lambda lib, x, w, b: lib.conv_tbc(x, w, b, pad=1),
     _inputs((_normal(7, 2, 4), True), (_normal(3, 4, 5), True), (_normal(5), True))),
    ("conv_tbc_crop", lambda lib, x, w, b: lib.conv_tbc(x, w, b, -1),
     _inputs((_normal(7, 2, 4), True), (_normal(2, 4, 5), True), (_normal(5), True))),
    ("layer_norm", lambda lib, x, w, b: lib.layer_norm(x, [3, 5], w, b, 1e-3, False),
     _inputs((_normal(4, 3, 5), True), (_normal(3, 5), True), (_normal(3, 5), True))),
    ("layer_norm_defaults", lambda lib, x: lib.layer_norm(x, (5,)), _inputs((_normal(4, 3, 5), True))),
    ("group_norm", lambda lib, x, w, b: lib.group_norm(x, 3, w, b, 1e-4, True),
     _inputs((_normal(4, 6, 5), True), (_normal(6), True), (_normal(6), True))),
    ("group_norm_defaults", lambda lib, x: lib.group_norm(x, 2), _inputs((_normal(2, 4, 3, 3), True))),
    ("batch_norm_eval", lambda lib, x, w, b, m, v: lib.batch_norm(x, w, b, m, v, False, 0.1, 1e-5, False),
     _inputs((_normal(4, 3, 5), True), (_normal(3), True), (_normal(3), True), (_normal(3), False),
             (lambda r: r.uniform(0.5, 2, 3), False))),
    ("batch_norm_train_no_stats", lambda lib, x: lib.batch_norm(x, None, None, None, None, True, 0.1, 1e-5, True),
     _inputs((_normal(4, 3, 2, 2), True))),
    ("instance_norm", lambda lib, x, w, b: lib.instance_norm(x, w, b, None, None, True, 0.1, 1e-5, False),
     _inputs((_normal(2, 3, 6), True), (_normal(3), True), (_normal(3), True))),
    ("instance_norm_running", lambda lib, x, m, v: lib.instance_norm(x, None, None, m, v, False, 0.1, 1e-5, False),
     _inputs((_normal(2, 3, 6), True), (_normal(3), False), (lambda r: r.uniform(0.5, 2, 3), False))),
    ("rms_norm", lambda lib, x, w: lib.rms_norm(x, [5], w, 1e-6), _inputs((_normal(4, 3, 5), True), (_normal(5), True))),
    ("rms_norm_defaults", lambda lib, x: lib.rms_norm(x, (3, 5)), _inputs((_normal(4, 3, 5), True))),
    ("embedding", lambda lib, w, i: lib.embedding(w, i), _inputs((_normal(5, 3), True), (np.array([[0, 2], [4, 2]]), False))),
    ("embedding_padding", lambda lib, w, i: lib.embedding(w, i, 2, False, False),
     _inputs((_normal(5, 3), True), (np.array([[0, 2], [4, 2]]), False))),
    ("embedding_padding_out_of_rows", lambda lib, w, i: lib.embedding(w, i, padding_idx=9),
     _inputs((_normal(5, 3), True), (np.array([0, 2, 2]), False))),
    ("embedding_padding_negative", lambda lib, w, i: lib.embedding(w, i, -3),  # aten: no entry is -3, no padding
     _inputs((_normal(5, 3), True), (np.array([0, 2, 2]), False))),
    ("embedding_bag_sum", *_bag(0)),
    ("embedding_bag_mean", *_bag(1)),
    ("embedding_bag_max", *_bag(2)),
    ("embedding_bag_sum_padding", *_bag(0, padding_idx=3)),
    ("embedding_bag_mean_padding", *_bag(1, padding_idx=-2)),
    ("embedding_bag_max_padding", *_bag(2, padding_idx=2)),
    ("embedding_bag_sum_weights", *_bag(0, weights=True)),
    ("embedding_bag_sum_last", *_bag(0, LAST_OFFSETS, True)),
    ("embedding_bag_mean_last", *_bag(1, LAST_OFFSETS, True)),
    ("embedding_bag_max_last", *_bag(2, LAST_OFFSETS, True)),
    ("max_pool1d", lambda lib, x: lib.max_pool1d(x, 3), _inputs((_normal(2, 3, 10), True))),
    ("max_pool1d_args", lambda lib, x: lib.max_pool1d(x, [3], 2, 1, 2, True), _inputs((_normal(2, 3, 10), True))),
    ("max_pool1d_with_indices", lambda lib, x: lib.max_pool1d_with_indices(x, 2, [], 1), _inputs((_normal(3, 9), True))),
    ("max_pool2d", lambda lib, x: lib.max_pool2d(x, 2), _inputs((_normal(1, 2, 5, 5), True))),
    ("max_pool2d_args", lambda lib, x: lib.max_pool2d(x, (2, 3), (1, 2), 1, 1, True), _inputs((_normal(2, 5, 6), True))),
    ("max_pool3d", lambda lib, x: lib.max_pool3d(x, 2, stride=1), _inputs((_normal(1, 2, 3, 4, 4), True))),
    ("avg_pool1d", lambda lib, x: lib.avg_pool1d(x, 3, 2, 1, True, False), _inputs((_normal(2, 3, 10), True))),
    ("adaptive_avg_pool1d", lambda lib, x: lib.adaptive_avg_pool1d(x, 4), _inputs((_normal(2, 3, 10), True))),
    ("adaptive_max_pool1d", lambda lib, x: lib.adaptive_max_pool1d(x, (4,)), _inputs((_normal(2, 3, 10), True))),
    ("pixel_shuffle", lambda lib, x: lib.pixel_shuffle(x, 2), _inputs((_normal(1, 8, 2, 3), True))),
    ("pixel_unshuffle", lambda lib, x: lib.pixel_unshuffle(x, 2), _inputs((_normal(1, 2, 4, 6), True))),
    ("channel_shuffle", lambda lib, x: lib.channel_shuffle(x, 3), _inputs((_normal(2, 6, 2), True))),
    # (torch has no derivative for native_channel_shuffle: values only)
    ("native_channel_shuffle", lambda lib, x: lib.native_channel_shuffle(x, 2), _inputs((_normal(2, 6, 2, 2), False))),
    ("bilinear", lambda lib, a, b, w, c: lib.bilinear(a, b, w, c),
     _inputs((_normal(4, 3), True), (_normal(4, 2), True), (_normal(5, 3, 2), True), (_normal(5), True))),
    ("constant_pad_nd", lambda lib, x: lib.constant_pad_nd(x, [1, -2, 0, 2], 1.5), _inputs((_normal(2, 3, 5), True))),
    ("constant_pad_nd_default", lambda lib, x: lib.constant_pad_nd(x, (2, 1)), _inputs((_normal(2, 3, 5), True))),
]

# The losses, for each int reduction (3: anything but 1 and 2 reduces nothing, as aten).
LOSSES = [
    ("binary_cross_entropy_with_logits", lambda lib, r, x, t, w, p: lib.binary_cross_entropy_with_logits(x, t, w, p, r),
     _inputs((_normal(4, 3), True), (lambda r: r.uniform(0, 1, (4, 3)), True), (lambda r: r.uniform(0.5, 2, 3), False),
             (lambda r: r.uniform(0.5, 2, 3), False))),
    # (the input broadcast to the target's shape: values only, torch's backward fails on it)
    ("binary_cross_entropy_with_logits_broadcast", lambda lib, r, x, t: lib.binary_cross_entropy_with_logits(x, t, reduction=r),
     _inputs((_normal(3), False), (lambda r: r.uniform(0, 1, (4, 3)), False))),
    ("kl_div", lambda lib, r, x, t: lib.kl_div(x, t, r),
     _inputs((_normal(4, 3), True), (lambda r: r.uniform(0, 1, (4, 3)), True))),
    ("kl_div_log_target", lambda lib, r, x, t: lib.kl_div(x, t, reduction=r, log_target=True),
     _inputs((_normal(4, 3), True), (_normal(4, 3), True))),
    ("cosine_embedding_loss", lambda lib, r, a, b, t: lib.cosine_embedding_loss(a, b, t, 0.1, r),
     _inputs((_normal(5, 4), True), (_normal(5, 4), True), (_signs(5), False))),
    ("hinge_embedding_loss", lambda lib, r, x, t: lib.hinge_embedding_loss(x, t, 1.2, r),
     _inputs((lambda r: r.uniform(0, 2, (4, 5)), True), (_signs((4, 5)), False))),
    ("margin_ranking_loss", lambda lib, r, a, b, t: lib.margin_ranking_loss(a, b, t, 0.3, r),
     _inputs((_normal(6), True), (_normal(6), True), (_signs(6), True))),
    ("triplet_margin_loss", lambda lib, r, a, p, n: lib.triplet_margin_loss(a, p, n, 0.8, 1.5, 1e-6, True, r),
     _inputs((_normal(5, 4), True), (_normal(5, 4), True), (_normal(5, 4), True))),
    ("poisson_nll_loss", lambda lib, r, x, t: lib.poisson_nll_loss(x, t, True, True, 1e-8, r),
     _inputs((_normal(4, 3), True), (lambda r: r.poisson(2.0, (4, 3)).astype(float), False))),
    ("poisson_nll_loss_rates", lambda lib, r, x, t: lib.poisson_nll_loss(x, t, False, False, 1e-4, r),
     _inputs((lambda r: r.uniform(0.5, 3, (4, 3)), True), (lambda r: r.poisson(2.0, (4, 3)).astype(float), False))),
    ("ctc_loss", lambda lib, r, lp, tg: lib.ctc_loss(lp.log_softmax(2), tg, [6, 5], [3, 2], 0, r),
     _inputs((_normal(6, 2, 4), True), (np.array([[1, 2, 2], [3, 1, 0]]), False))),
    ("ctc_loss_tensor_lengths", lambda lib, r, lp, tg, il, tl: lib.ctc_loss(lp.log_softmax(2), tg, il, tl, reduction=r),
     _inputs((_normal(6, 2, 4), True), (np.array([1, 2, 2, 3, 1]), False), (np.array([6, 5]), False),
             (np.array([3, 2]), False))),
]


def _tensors(lib, inputs, device=None):
    tensors = []
    for array, differentiable in inputs:
        t = lib.tensor(array)
        if device is not None:
            t = t.to(device)
        tensors.append(t.requires_grad_() if differentiable else t)
    return tensors


def _check(torch, out, expected, ours, theirs, device):
    outs = out if isinstance(out, tuple) else (out,)
    expects = expected if isinstance(expected, tuple) else (expected,)
    assert type(out) is type(expected) if isinstance(expected, tuple) else isinstance(out, tinytorch.Tensor)
    assert len(outs) == len(expects)
    for o, e in zip(outs, expects):
        assert tuple(o.shape) == tuple(e.shape)
        assert str(o.dtype).split(".")[-1] == str(e.dtype).split(".")[-1]
        assert o.device.type == device
        np.testing.assert_allclose(numpy_of(o), numpy_of(e), atol=1e-10, rtol=1e-8)
    if not any(t.requires_grad for t in theirs):
        return
    # Gradients through the first output (the values; the others are indices and counts).
    upstream = np.random.default_rng(1).standard_normal(tuple(expects[0].shape))
    outs[0].backward(tinytorch.tensor(upstream, device=device))
    expects[0].backward(torch.tensor(upstream))
    for x, tx in zip(ours, theirs):
        if tx.requires_grad:
            expected_grad = np.zeros(tuple(tx.shape)) if tx.grad is None else tx.grad.numpy()
            assert x.grad is not None
            np.testing.assert_allclose(numpy_of(x.grad), expected_grad, atol=1e-10, rtol=1e-8)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_matches_torch(case, device):
    torch = pytest.importorskip("torch")
    _, call, make = case
    inputs = make(np.random.default_rng(0))
    ours, theirs = _tensors(tinytorch, inputs, device), _tensors(torch, inputs)
    _check(torch, call(tinytorch, *ours), call(torch, *theirs), ours, theirs, device)


@pytest.mark.parametrize("reduction", [0, 1, 2, 3])
@pytest.mark.parametrize("case", LOSSES, ids=[c[0] for c in LOSSES])
def test_losses_match_torch(case, reduction, device):
    torch = pytest.importorskip("torch")
    _, call, make = case
    inputs = make(np.random.default_rng(0))
    ours, theirs = _tensors(tinytorch, inputs, device), _tensors(torch, inputs)
    _check(torch, call(tinytorch, reduction, *ours), call(torch, reduction, *theirs), ours, theirs, device)


DEFAULT_CALLS = [
    lambda lib, x, y, t: lib.margin_ranking_loss(x, y, t),
    lambda lib, x, y, t: lib.cosine_embedding_loss(x[None], y[None], t[:1]),
    lambda lib, x, y, t: lib.hinge_embedding_loss(x, t),
    lambda lib, x, y, t: lib.triplet_margin_loss(x[None], y[None], t[None]),
    lambda lib, x, y, t: lib.kl_div(x, y.abs()),
    lambda lib, x, y, t: lib.binary_cross_entropy_with_logits(x, y.sigmoid()),
    lambda lib, x, y, t: lib.ctc_loss(x.reshape(3, 1, 2).log_softmax(2), lib.tensor([[1]]), [3], [1]),
]


@pytest.mark.parametrize("call", DEFAULT_CALLS)
def test_losses_without_a_reduction_reduce_nothing(call):
    """torch's schemas say Mean, but its Python parser reads that default as 0 (none)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    arrays = rng.standard_normal(6), rng.standard_normal(6), rng.choice([-1.0, 1.0], 6)
    ours, theirs = (call(lib, *(lib.tensor(a) for a in arrays)) for lib in (tinytorch, torch))
    assert ours.dim() == theirs.dim() > 0
    np.testing.assert_allclose(numpy_of(ours), theirs.numpy(), atol=1e-12)


def test_batch_norm_training_updates_the_running_statistics(device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((4, 3, 5)), rng.standard_normal(3), rng.standard_normal(3)
    mean, var = rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    ours = _tensors(tinytorch, [(x, True), (w, True), (b, True), (mean, False), (var, False)], device)
    theirs = _tensors(torch, [(x, True), (w, True), (b, True), (mean, False), (var, False)])
    out = tinytorch.batch_norm(*ours, True, 0.2, 1e-5, True)
    expected = torch.batch_norm(*theirs, True, 0.2, 1e-5, True)
    _check(torch, out, expected, ours, theirs, device)
    for running, their_running in zip(ours[3:], theirs[3:]):
        np.testing.assert_allclose(numpy_of(running), their_running.numpy(), rtol=1e-10)


def test_instance_norm_training_updates_the_running_statistics():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, mean, var = rng.standard_normal((2, 3, 6)), rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    ours, theirs = _tensors(tinytorch, [(x, False), (mean, False), (var, False)]), _tensors(torch, [(x, False), (mean, False), (var, False)])
    out = tinytorch.instance_norm(ours[0], None, None, ours[1], ours[2], True, 0.3, 1e-5, False)
    expected = torch.instance_norm(theirs[0], None, None, theirs[1], theirs[2], True, 0.3, 1e-5, False)
    np.testing.assert_allclose(numpy_of(out), expected.numpy(), atol=1e-10)
    for running, their_running in zip(ours[1:], theirs[1:]):
        np.testing.assert_allclose(numpy_of(running), their_running.numpy(), rtol=1e-10)


def test_embedding_bag_max_indices_take_the_first_of_tied_rows():
    torch = pytest.importorskip("torch")
    results = [lib.embedding_bag(lib.ones(5, 3), lib.tensor(BAG_INDICES), lib.tensor(OFFSETS), False, 2)
               for lib in (tinytorch, torch)]
    for ours, theirs in zip(*results):
        np.testing.assert_array_equal(numpy_of(ours), theirs.numpy())


def test_embedding_bag_int32_indices_give_int32_bookkeeping():
    torch = pytest.importorskip("torch")
    results = [lib.embedding_bag(lib.randn(5, 3), lib.tensor(BAG_INDICES, dtype=lib.int32),
                                 lib.tensor(OFFSETS, dtype=lib.int32), False, 1) for lib in (tinytorch, torch)]
    assert [str(t.dtype) for t in results[0][1:]] == ["tinytorch.int32"] * 3
    assert [str(t.dtype) for t in results[1][1:]] == ["torch.int32"] * 3
    for ours, theirs in zip(results[0][1:], results[1][1:]):
        np.testing.assert_array_equal(numpy_of(ours), theirs.numpy())


def test_embedding_bag_bag_size_is_sized_by_requires_grad():
    """In sum mode PyTorch counts nothing, and sizes bag_size by the bags when weight requires grad."""
    torch = pytest.importorskip("torch")
    for requires_grad in (False, True):
        shapes = [tuple(t.shape) for lib in (tinytorch, torch)
                  for t in lib.embedding_bag(lib.randn(5, 3, requires_grad=requires_grad), lib.tensor(BAG_INDICES),
                                             lib.tensor(LAST_OFFSETS), False, 0, False, None, True)]
        assert shapes[:4] == shapes[4:]


# -- dropout: the random masks differ from torch's; their rules do not ---------------------------------
@pytest.mark.parametrize("name", ["dropout", "feature_dropout", "dropout_", "feature_dropout_"])
def test_dropout_identities_match_torch(name):
    torch = pytest.importorskip("torch")
    for lib in (tinytorch, torch):
        x = lib.randn(3, 4, 2)
        fn = getattr(lib, name)
        assert fn(x, 0.5, False) is x  # evaluation: the input itself
        assert fn(x, 0.0, True) is x
        assert (fn(x.clone(), 1.0, True) == 0).all()
        assert fn(x[0, 0], 0.5, False) is not None  # no dims needed when nothing is dropped


@pytest.mark.parametrize("name", ["dropout", "feature_dropout"])
def test_dropout_zeros_and_scales(name, device):
    x = tinytorch.ones(64, 32, 4, device=device, requires_grad=True)
    out = getattr(tinytorch, name)(x, 0.25, True)
    values = numpy_of(out)
    assert set(np.unique(values).tolist()) <= {0.0, float(np.float32(1 / 0.75))}
    assert 0.15 < (values == 0).mean() < 0.35
    if name == "feature_dropout":  # whole channels: each (sample, channel) is all kept or all dropped
        assert (values.min(axis=2) == values.max(axis=2)).all()
    out.sum().backward()
    np.testing.assert_array_equal(numpy_of(x.grad), values)  # the gradient is the mask


@pytest.mark.parametrize("name", ["dropout_", "feature_dropout_"])
def test_in_place_dropout_writes_into_its_input(name):
    x = tinytorch.ones(16, 8, 3)
    out = getattr(tinytorch, name)(x, 0.5, True)
    assert out is x and (x == 0).any() and (x != 0).any()


# -- torch's errors ---------------------------------------------------------------------------------
def _f(lib, *shape):
    return lib.ones(*shape)


ERRORS = [
    ("convolution_int_stride", lambda lib: lib.convolution(_f(lib, 1, 2, 5), _f(lib, 3, 2, 3), None, 1, [0], [1], False, [0], 1)),
    ("convolution_str_padding", lambda lib: lib.convolution(_f(lib, 1, 2, 5), _f(lib, 3, 2, 3), None, [1], "same", [1], False, [0], 1)),
    ("convolution_unbatched", lambda lib: lib.convolution(_f(lib, 2, 5), _f(lib, 3, 2, 3), None, [1], [0], [1], False, [0], 1)),
    ("convolution_2d_weight", lambda lib: lib.convolution(_f(lib, 1, 2, 5), _f(lib, 3, 2), None, [1], [0], [1], False, [0], 1)),
    ("convolution_4d", lambda lib: lib.convolution(_f(lib, 1, 1, 2, 2, 2, 2), _f(lib, 1, 1, 1, 1, 1, 1), None, [1] * 4,
                                                   [0] * 4, [1] * 4, False, [0] * 4, 1)),
    ("convolution_empty_stride", lambda lib: lib.convolution(_f(lib, 1, 2, 5), _f(lib, 3, 2, 3), None, [], [0], [1], False, [0], 1)),
    ("convolution_groups", lambda lib: lib.convolution(_f(lib, 1, 2, 5), _f(lib, 3, 2, 3), None, [1], [0], [1], False, [0], 0)),
    ("convolution_missing_groups", lambda lib: lib.convolution(_f(lib, 1, 2, 5), _f(lib, 3, 2, 3), None, [1], [0], [1], False, [0])),
    ("conv_tbc_no_bias", lambda lib: lib.conv_tbc(_f(lib, 5, 2, 4), _f(lib, 3, 4, 5), None)),
    ("conv_tbc_2d_input", lambda lib: lib.conv_tbc(_f(lib, 5, 4), _f(lib, 3, 4, 5), _f(lib, 5))),
    ("conv_tbc_2d_weight", lambda lib: lib.conv_tbc(_f(lib, 5, 2, 4), _f(lib, 4, 5), _f(lib, 5))),
    ("conv_tbc_2d_bias", lambda lib: lib.conv_tbc(_f(lib, 5, 2, 4), _f(lib, 3, 4, 5), _f(lib, 1, 5))),
    ("conv_tbc_channels", lambda lib: lib.conv_tbc(_f(lib, 5, 2, 3), _f(lib, 3, 4, 5), _f(lib, 5))),
    ("conv_tbc_bias_size", lambda lib: lib.conv_tbc(_f(lib, 5, 2, 4), _f(lib, 3, 4, 5), _f(lib, 4))),
    ("conv_tbc_kernel_too_long", lambda lib: lib.conv_tbc(_f(lib, 5, 2, 4), _f(lib, 7, 4, 5), _f(lib, 5))),
    ("dropout_p", lambda lib: lib.dropout(_f(lib, 3), 1.5, False)),
    ("dropout_negative_p", lambda lib: lib.dropout_(_f(lib, 3), -1.0, True)),
    ("dropout_missing_train", lambda lib: lib.dropout(_f(lib, 3), 0.5)),
    ("dropout_integer", lambda lib: lib.dropout(lib.ones(3, dtype=lib.int64), 0.5, True)),
    ("feature_dropout_p", lambda lib: lib.feature_dropout(_f(lib, 3, 2), 2.0, True)),
    ("feature_dropout_1d", lambda lib: lib.feature_dropout(_f(lib, 3), 0.5, True)),
    ("layer_norm_int_shape", lambda lib: lib.layer_norm(_f(lib, 3, 5), 5)),
    ("layer_norm_shape", lambda lib: lib.layer_norm(_f(lib, 3, 5), [4])),
    ("group_norm_groups", lambda lib: lib.group_norm(_f(lib, 2, 3, 5), 2)),
    ("batch_norm_missing", lambda lib: lib.batch_norm(_f(lib, 2, 3), None, None, None, None, True, 0.1, 1e-5)),
    ("batch_norm_eval_without_stats", lambda lib: lib.batch_norm(_f(lib, 2, 3), None, None, None, None, False, 0.1, 1e-5, False)),
    ("batch_norm_weight_size", lambda lib: lib.batch_norm(_f(lib, 2, 3), _f(lib, 4), None, None, None, True, 0.1, 1e-5, False)),
    ("instance_norm_eval_without_stats",
     lambda lib: lib.instance_norm(_f(lib, 2, 3, 4), None, None, None, None, False, 0.1, 1e-5, False)),
    ("rms_norm_int_shape", lambda lib: lib.rms_norm(_f(lib, 3, 5), 5)),
    ("embedding_padding_none", lambda lib: lib.embedding(_f(lib, 5, 3), lib.tensor([1]), None)),
    ("embedding_1d_weight", lambda lib: lib.embedding(_f(lib, 5), lib.tensor([1]))),
    ("embedding_float_indices", lambda lib: lib.embedding(_f(lib, 5, 3), lib.tensor([1.0]))),
    ("embedding_out_of_range", lambda lib: lib.embedding(_f(lib, 5, 3), lib.tensor([5]))),
    ("embedding_bag_mode_str", lambda lib: lib.embedding_bag(_f(lib, 5, 3), lib.tensor([1]), lib.tensor([0]), False, "sum")),
    ("embedding_bag_mode", lambda lib: lib.embedding_bag(_f(lib, 5, 3), lib.tensor([1]), lib.tensor([0]), False, 3)),
    ("embedding_bag_1d_weight", lambda lib: lib.embedding_bag(_f(lib, 5), lib.tensor([1]), lib.tensor([0]))),
    ("embedding_bag_2d_offsets", lambda lib: lib.embedding_bag(_f(lib, 5, 3), lib.tensor([1]), lib.tensor([[0]]))),
    ("embedding_bag_no_offsets", lambda lib: lib.embedding_bag(_f(lib, 5, 3), lib.tensor([1]))),
    ("embedding_bag_weights_mean", lambda lib: lib.embedding_bag(_f(lib, 5, 3), lib.tensor([1]), lib.tensor([0]), False, 1,
                                                                 False, _f(lib, 1))),
    ("embedding_bag_first_offset", lambda lib: lib.embedding_bag(_f(lib, 5, 3), lib.tensor([1, 2]), lib.tensor([1]))),
    ("embedding_bag_index", lambda lib: lib.embedding_bag(_f(lib, 5, 3), lib.tensor([7]), lib.tensor([0]))),
    ("embedding_bag_padding", lambda lib: lib.embedding_bag(_f(lib, 5, 3), lib.tensor([1]), lib.tensor([0]), False, 0, False,
                                                            None, False, 9)),
    ("embedding_bag_float_indices", lambda lib: lib.embedding_bag(_f(lib, 5, 3), lib.tensor([1.0]), lib.tensor([0]))),
    ("max_pool1d_kernel_pair", lambda lib: lib.max_pool1d(_f(lib, 1, 2, 6), (2, 2))),
    ("max_pool1d_kernel_zero", lambda lib: lib.max_pool1d(_f(lib, 1, 2, 6), 0)),
    ("max_pool2d_2d_input", lambda lib: lib.max_pool2d(_f(lib, 5, 5), 2)),
    ("adaptive_max_pool1d_pair", lambda lib: lib.adaptive_max_pool1d(_f(lib, 1, 2, 6), (2, 2))),
    ("constant_pad_nd_odd", lambda lib: lib.constant_pad_nd(_f(lib, 2, 3), [1, 1, 1])),
    ("constant_pad_nd_long", lambda lib: lib.constant_pad_nd(_f(lib, 2, 3), [1] * 6)),
    ("constant_pad_nd_int", lambda lib: lib.constant_pad_nd(_f(lib, 2, 3), 1)),
    ("constant_pad_nd_crop", lambda lib: lib.constant_pad_nd(_f(lib, 2, 3), [-2, -2])),
    ("loss_reduction_str", lambda lib: lib.margin_ranking_loss(_f(lib, 3), _f(lib, 3), _f(lib, 3), 0.0, "mean")),
    ("loss_reduction_bool", lambda lib: lib.kl_div(_f(lib, 3), _f(lib, 3), True)),
    ("loss_reduction_float", lambda lib: lib.hinge_embedding_loss(_f(lib, 3), _f(lib, 3), 1.0, 1.0)),
    ("triplet_reduction_str", lambda lib: lib.triplet_margin_loss(_f(lib, 2, 3), _f(lib, 2, 3), _f(lib, 2, 3), reduction="sum")),
    ("poisson_missing_reduction", lambda lib: lib.poisson_nll_loss(_f(lib, 3), _f(lib, 3), True, False, 1e-8)),
    ("kl_div_positional_log_target", lambda lib: lib.kl_div(_f(lib, 3), _f(lib, 3), 1, True)),
    ("bce_logits_shape", lambda lib: lib.binary_cross_entropy_with_logits(_f(lib, 2, 3), _f(lib, 3))),
    ("ctc_mixed_lengths", lambda lib: lib.ctc_loss(_f(lib, 4, 1, 3).log_softmax(2), lib.tensor([[1]]), lib.tensor([4]), [1])),
]


@pytest.mark.parametrize("call", [c[1] for c in ERRORS], ids=[c[0] for c in ERRORS])
def test_errors_match_torch(call):
    torch = pytest.importorskip("torch")
    ours, theirs = raised(lambda: call(tinytorch)), raised(lambda: call(torch))
    assert ours[0] == theirs[0]
    if ours[0] != "TypeError":  # Python's own arity messages name the function differently
        assert ours[1].splitlines()[0] == theirs[1].splitlines()[0]  # (torch may add a tensor's print)


def test_the_functional_ones_are_nn_functionals():
    """As in torch: torch.conv2d is torch.nn.functional.conv2d (one function, two names)."""
    torch = pytest.importorskip("torch")
    for name in ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "avg_pool1d",
                 "adaptive_avg_pool1d", "pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "native_channel_shuffle",
                 "bilinear"):
        assert getattr(torch, name) is getattr(torch.nn.functional, name)
        assert getattr(tinytorch, name) is getattr(F, name)
