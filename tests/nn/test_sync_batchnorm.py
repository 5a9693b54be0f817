"""nn.SyncBatchNorm and the primitives it is built from (torch.batch_norm_stats and friends), and
the native_* normalization forms. PyTorch runs the batch_norm_* primitives on GPUs only, so their
values are checked against torch's batch norm on the CPU (the statistics, outputs and gradients
they are pieces of); the multi-rank test runs tests/distributed/workers/sync_batchnorm.py."""

import numpy as np
import pytest

import tinytorch
from tinytorch import nn

from ..distributed.launch import run_ranks
from .helpers import copy_module, numpy_of, raised


def assert_close(actual, expected, atol=1e-6, rtol=1e-5):
    values = [a if isinstance(a, np.ndarray) else numpy_of(a) for a in (actual, expected)]
    np.testing.assert_allclose(*values, atol=atol, rtol=rtol)


def _batch(shape=(6, 3, 4), seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape) * 2 + 0.5, rng.standard_normal(shape), rng.uniform(0.5, 1.5, shape[1]), rng.standard_normal(shape[1])


def _torch_batch_norm_grads(torch, x, g, w, b):
    """Output and (input, weight, bias) gradients of torch's training batch norm, float64."""
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    out = torch.nn.functional.batch_norm(xt, None, None, wt, bt, True, 0.1, 1e-5)
    out.backward(torch.tensor(g))
    return out, xt.grad, wt.grad, bt.grad


@pytest.mark.parametrize("shape", [(6, 3, 4), (5, 2), (2, 3, 2, 3)])
def test_stats_elemt_and_backward_pieces_rebuild_torchs_batch_norm(shape):
    torch = pytest.importorskip("torch")
    x, g, w, b = _batch(shape)
    dims = (0,) + tuple(range(2, len(shape)))
    mean, invstd = tinytorch.batch_norm_stats(tinytorch.tensor(x), 1e-5)
    assert mean.dtype == invstd.dtype == tinytorch.float64 and tuple(mean.shape) == (shape[1],)
    assert_close(mean, x.mean(dims), atol=1e-12)
    assert_close(invstd, 1 / np.sqrt(x.var(dims) + 1e-5), atol=1e-12)
    out = tinytorch.batch_norm_elemt(tinytorch.tensor(x), tinytorch.tensor(w), tinytorch.tensor(b), mean, invstd, 1e-5)
    expected, grad_x, grad_w, grad_b = _torch_batch_norm_grads(torch, x, g, w, b)
    assert_close(out, expected.detach(), atol=1e-12)
    sum_dy, sum_dy_xmu, grad_weight, grad_bias = tinytorch.batch_norm_backward_reduce(
        tinytorch.tensor(g), tinytorch.tensor(x), mean, invstd, tinytorch.tensor(w), True, True, True)
    assert_close(grad_weight, grad_w, atol=1e-12)
    assert_close(grad_bias, grad_b, atol=1e-12)
    count = tinytorch.tensor([x.size // shape[1]], dtype=tinytorch.int32)
    grad = tinytorch.batch_norm_backward_elemt(tinytorch.tensor(g), tinytorch.tensor(x), mean, invstd, tinytorch.tensor(w),
                                               sum_dy, sum_dy_xmu, count)
    assert grad.dtype == tinytorch.float64
    assert_close(grad, grad_x, atol=1e-12)


def test_backward_reduce_leaves_out_what_is_not_asked_for():
    x, g, w, _ = _batch()
    mean, invstd = tinytorch.batch_norm_stats(tinytorch.tensor(x), 1e-5)
    args = (tinytorch.tensor(g), tinytorch.tensor(x), mean, invstd, tinytorch.tensor(w))
    assert [r is None for r in tinytorch.batch_norm_backward_reduce(*args, False, True, False)] == [True, True, False, True]
    assert [r is None for r in tinytorch.batch_norm_backward_reduce(*args, True, False, False)] == [False, False, True, True]


def test_gather_stats_with_counts_equals_one_batch_norm_over_the_union():
    """Three batches of different sizes (one empty, as SyncBatchNorm sends from a rank without data):
    the gathered statistics and running statistics are torch's over their concatenation."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    parts = [rng.standard_normal((n, 3, 2)) + k for k, n in enumerate((4, 0, 7))]
    stats = [tinytorch.batch_norm_stats(tinytorch.tensor(p), 1e-5) if len(p) else (tinytorch.zeros(3, dtype=tinytorch.float64),) * 2
             for p in parts]
    mean_all = tinytorch.stack([m for m, _ in stats])
    invstd_all = tinytorch.stack([i for _, i in stats])
    counts = tinytorch.tensor([float(len(p) * 2) for p in parts], dtype=tinytorch.float64)
    running_mean, running_var = tinytorch.zeros(3, dtype=tinytorch.float64), tinytorch.ones(3, dtype=tinytorch.float64)
    whole = np.concatenate(parts)
    mean, invstd = tinytorch.batch_norm_gather_stats_with_counts(
        tinytorch.tensor(whole), mean_all, invstd_all, running_mean, running_var, 0.2, 1e-5, counts)
    expected_mean, expected_var = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    torch.nn.functional.batch_norm(torch.tensor(whole), expected_mean, expected_var, training=True, momentum=0.2, eps=1e-5)
    assert_close(mean, whole.mean((0, 2)), atol=1e-12)
    assert_close(invstd, 1 / np.sqrt(whole.var((0, 2)) + 1e-5), atol=1e-12)
    assert_close(running_mean, expected_mean, atol=1e-12)
    assert_close(running_var, expected_var, atol=1e-12)
    # batch_norm_gather_stats: one int count for every batch.
    same = [rng.standard_normal((4, 3)) for _ in range(2)]
    stats = [tinytorch.batch_norm_stats(tinytorch.tensor(p), 1e-5) for p in same]
    mean, invstd = tinytorch.batch_norm_gather_stats(tinytorch.tensor(same[0]), tinytorch.stack([m for m, _ in stats]),
                                                     tinytorch.stack([i for _, i in stats]), None, None, 0.1, 1e-5, 4)
    assert_close(mean, np.concatenate(same).mean(0), atol=1e-12)
    with pytest.raises(TypeError, match="'count' must be int"):
        tinytorch.batch_norm_gather_stats(tinytorch.tensor(same[0]), mean[None], invstd[None], None, None, 0.1, 1e-5, 4.0)


def test_update_stats_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(4).standard_normal((5, 3, 2)).astype(np.float32)
    ours_running = [tinytorch.zeros(3), tinytorch.ones(3)]
    theirs_running = [torch.zeros(3), torch.ones(3)]
    ours = tinytorch.batch_norm_update_stats(tinytorch.tensor(x), *ours_running, 0.3)
    theirs = torch.batch_norm_update_stats(torch.tensor(x), *theirs_running, 0.3)
    for a, e in zip(list(ours) + ours_running, list(theirs) + theirs_running):
        assert a.dtype == tinytorch.float32
        assert_close(a, e)


def test_primitives_are_not_differentiable_as_in_torch():
    """Their outputs require grad when an input does, and backward through them raises."""
    torch = pytest.importorskip("torch")
    x = tinytorch.randn(4, 3, requires_grad=True)
    mean, invstd = tinytorch.batch_norm_stats(x, 1e-5)
    assert mean.requires_grad and invstd.requires_grad
    assert not tinytorch.batch_norm_stats(x.detach(), 1e-5)[0].requires_grad
    with pytest.raises(RuntimeError, match="derivative for aten::batch_norm_stats is not implemented"):
        mean.sum().backward()
    ours = tinytorch.batch_norm_update_stats(x, None, None, 0.1)[0]
    theirs = torch.batch_norm_update_stats(torch.randn(4, 3, requires_grad=True), None, None, 0.1)[0]
    assert ours.requires_grad == theirs.requires_grad
    assert raised(lambda: ours.sum().backward()) == raised(lambda: theirs.sum().backward())


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_native_batch_norm_matches_torch(training, affine):
    torch = pytest.importorskip("torch")
    x, g, w, b = _batch((4, 3, 5))
    running = [np.zeros(3), np.ones(3) * 1.5]
    ours_running = [tinytorch.tensor(r) for r in running]
    theirs_running = [torch.tensor(r) for r in running]
    ours_in = [tinytorch.tensor(x, requires_grad=True)] + ([tinytorch.tensor(w), tinytorch.tensor(b)] if affine else [None, None])
    theirs_in = [torch.tensor(x, requires_grad=True)] + ([torch.tensor(w), torch.tensor(b)] if affine else [None, None])
    ours = tinytorch.native_batch_norm(*ours_in, *ours_running, training, 0.1, 1e-5)
    theirs = torch.native_batch_norm(*theirs_in, *theirs_running, training, 0.1, 1e-5)
    for a, e in zip(list(ours) + ours_running, list(theirs) + theirs_running):
        assert tuple(a.shape) == tuple(e.shape) and a.requires_grad == e.requires_grad
        assert_close(a.detach(), e.detach(), atol=1e-12)
    ours[0].backward(tinytorch.tensor(g))
    theirs[0].backward(torch.tensor(g))
    assert_close(ours_in[0].grad, theirs_in[0].grad, atol=1e-12)


def test_native_layer_and_group_norm_match_torch():
    torch = pytest.importorskip("torch")
    x, _, _, _ = _batch((2, 4, 6))
    w, b = np.linspace(0.5, 1.5, 6), np.linspace(-1, 1, 6)
    ours = tinytorch.native_layer_norm(tinytorch.tensor(x, requires_grad=True), [6], tinytorch.tensor(w), tinytorch.tensor(b), 1e-5)
    theirs = torch.native_layer_norm(torch.tensor(x, requires_grad=True), [6], torch.tensor(w), torch.tensor(b), 1e-5)
    for a, e in zip(ours, theirs):
        assert tuple(a.shape) == tuple(e.shape) and a.requires_grad == e.requires_grad
        assert_close(a.detach(), e.detach(), atol=1e-12)
    wg, bg = np.linspace(0.5, 1.5, 4), np.linspace(-1, 1, 4)
    ours_x, theirs_x = tinytorch.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours = tinytorch.native_group_norm(ours_x, tinytorch.tensor(wg), tinytorch.tensor(bg), 2, 4, 6, 2, 1e-5)
    theirs = torch.native_group_norm(theirs_x, torch.tensor(wg), torch.tensor(bg), 2, 4, 6, 2, 1e-5)
    for a, e in zip(ours, theirs):
        assert tuple(a.shape) == tuple(e.shape) and a.requires_grad == e.requires_grad
        assert_close(a.detach(), e.detach(), atol=1e-12)
    (ours[0].sum() + ours[1].sum() * 2 + ours[2].sum()).backward()
    (theirs[0].sum() + theirs[1].sum() * 2 + theirs[2].sum()).backward()
    assert_close(ours_x.grad, theirs_x.grad, atol=1e-10)


def test_native_dropout_mask_scale_and_eval():
    torch = pytest.importorskip("torch")
    x = tinytorch.ones(200, 50, requires_grad=True)
    out, mask = tinytorch.native_dropout(x, 0.25, True)
    theirs = torch.native_dropout(torch.ones(2, 2, requires_grad=True), 0.25, True)
    assert (mask.dtype, out.requires_grad, mask.requires_grad) == (tinytorch.bool, theirs[0].requires_grad, theirs[1].requires_grad)
    np.testing.assert_allclose(out.detach().numpy(), mask.numpy() / 0.75)
    assert abs(mask.float().mean().item() - 0.75) < 0.01
    out, mask = tinytorch.native_dropout(x, 0.25, False)
    assert bool(mask.all()) and tinytorch.equal(out, x) and out is not x


def test_native_norm_is_the_vector_norm():
    x = tinytorch.randn(3, 4)
    assert_close(tinytorch.native_norm(x), tinytorch.linalg.vector_norm(x))
    assert_close(tinytorch.native_norm(x, 3, [1], True, tinytorch.float64), tinytorch.linalg.vector_norm(x.double(), 3, 1, True))


@pytest.mark.parametrize("momentum", [0.1, None])
def test_sync_batchnorm_in_one_process_is_torchs(momentum):
    """Without a process group both fall back to batch norm (torch's runs on the CPU then)."""
    torch = pytest.importorskip("torch")
    reference = torch.nn.SyncBatchNorm(3, momentum=momentum)
    with torch.no_grad():
        reference.weight.uniform_(0.5, 1.5), reference.bias.uniform_(-1, 1)
    layer = copy_module(reference, nn.SyncBatchNorm(3, momentum=momentum))
    rng = np.random.default_rng(5)
    for training in (True, True, False):
        reference.train(training), layer.train(training)
        x = rng.standard_normal((4, 3, 2, 2)).astype(np.float32)
        ours_x, theirs_x = tinytorch.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ours, theirs = layer(ours_x), reference(theirs_x)
        assert_close(ours, theirs.detach())
        (ours * ours).sum().backward(), (theirs * theirs).sum().backward()
        assert_close(ours_x.grad, theirs_x.grad, atol=1e-5)
        for name, value in reference.state_dict().items():
            assert_close(layer.state_dict()[name], value)
    assert repr(layer) == repr(reference)


def test_sync_batchnorm_input_checks_match_torch():
    torch = pytest.importorskip("torch")
    assert raised(lambda: nn.SyncBatchNorm(3)(tinytorch.ones(3))) == raised(lambda: torch.nn.SyncBatchNorm(3)(torch.ones(3)))
    assert raised(lambda: nn.SyncBatchNorm(0)(tinytorch.ones(2, 0))) == raised(lambda: torch.nn.SyncBatchNorm(0)(torch.ones(2, 0)))


def test_convert_sync_batchnorm_replaces_and_shares_state():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(),
                          nn.Sequential(nn.Flatten(), nn.Linear(16, 5), nn.BatchNorm1d(5, affine=False, momentum=None)))
    model(tinytorch.randn(3, 1, 4, 4))  # moves the running statistics away from their start
    model[1].weight.requires_grad_(False)
    model[3].eval()
    state = {name: value.clone() for name, value in model.state_dict().items()}
    bn = model[1]
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    assert converted is model
    assert [type(m).__name__ for m in converted.modules()] == [
        "Sequential", "Conv2d", "SyncBatchNorm", "ReLU", "Sequential", "Flatten", "Linear", "SyncBatchNorm"]
    assert list(converted.state_dict()) == list(state)
    for name, value in converted.state_dict().items():
        assert tinytorch.equal(value, state[name]), name
    assert converted[1].weight is bn.weight and not converted[1].weight.requires_grad
    assert converted[3][2].training is False and converted[3][2].momentum is None and converted[3][2].weight is None
    single = nn.SyncBatchNorm.convert_sync_batchnorm(nn.BatchNorm1d(2))
    assert type(single) is nn.SyncBatchNorm


def test_sync_function_without_collectives_matches_batch_norm():
    """The autograd Function with one rank (no collectives) against F.batch_norm: outputs, the
    three gradients and the running statistics."""
    from tinytorch.nn.modules.batchnorm_sync import _SyncBatchNormFunction

    x, g, w, b = _batch((5, 3, 3))
    running = [tinytorch.zeros(3, dtype=tinytorch.float64), tinytorch.ones(3, dtype=tinytorch.float64)]
    expected_running = [r.clone() for r in running]
    inputs = [tinytorch.tensor(a, requires_grad=True) for a in (x, w, b)]
    reference = [tinytorch.tensor(a, requires_grad=True) for a in (x, w, b)]
    out = _SyncBatchNormFunction.apply(*inputs, *running, 1e-5, 0.1, None, 1)
    expected = tinytorch.nn.functional.batch_norm(reference[0], *expected_running, reference[1], reference[2], True, 0.1, 1e-5)
    out.backward(tinytorch.tensor(g)), expected.backward(tinytorch.tensor(g))
    assert_close(out, expected, atol=1e-12)
    for a, e in zip(inputs, reference):
        assert_close(a.grad, e.grad, atol=1e-12)
    for a, e in zip(running, expected_running):
        assert_close(a, e, atol=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("nprocs", [2, 3])
def test_ranks_on_parts_of_a_batch_match_one_batch_norm(nprocs):
    """2 ranks on halves (3: uneven parts, one rank empty): outputs, input gradients, summed affine
    gradients and running statistics equal one BatchNorm over the whole batch; and a converted CNN
    under DistributedDataParallel trains as one process."""
    result = run_ranks("sync_batchnorm.py", nprocs)
    passed = [line.split()[1] for line in result.stdout.splitlines() if line.startswith("ok ")]
    assert passed == ["halves_match_one_batch_norm", "uneven_and_empty_batches", "converted_model_under_ddp"]
