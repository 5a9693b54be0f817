"""Memory formats (channels_last): the constants, strides and contiguity rules against torch, the
memory_format arguments of Tensor methods, factories and Module.to, and ops on channels-last
inputs (values and gradients against torch; output strides may differ: docs/differences.md)."""

import pickle

import numpy as np
import pytest

import tinytorch

FORMATS = ["contiguous_format", "channels_last", "channels_last_3d", "preserve_format"]


def _significant(t):
    """The strides of the dims longer than 1 (a size-1 dim's stride addresses nothing)."""
    return [stride for stride, size in zip(t.stride(), t.shape) if size > 1]


def _pair(torch, shape, seed=0):
    data = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return tinytorch.tensor(data), torch.tensor(data)


# Views whose strides exercise the rules: permutations, slices, size-1 and expanded dims.
VIEWS = {
    "plain": lambda t: t,
    "channels_last": lambda t: t.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2),
    "transposed": lambda t: t.transpose(1, 2),
    "sliced": lambda t: t[:, :, ::2],
    "sliced_channels_last": lambda t: t.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)[:, :, ::2],
    "reversed": lambda t: t.permute(3, 2, 1, 0),
}
SHAPES = [(2, 3, 4, 5), (2, 1, 4, 4), (2, 3, 1, 1), (1, 3, 1, 1), (2, 1, 1, 1), (1, 1, 4, 1)]


def test_constants_and_type():
    torch = pytest.importorskip("torch")
    for name in FORMATS:
        ours = getattr(tinytorch, name)
        assert isinstance(ours, tinytorch.memory_format)
        assert repr(ours) == repr(getattr(torch, name)).replace("torch.", "tinytorch.")
        assert pickle.loads(pickle.dumps(ours)) is ours
    with pytest.raises(TypeError, match="cannot create 'torch.memory_format' instances"):
        tinytorch.memory_format()


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("view", list(VIEWS))
def test_strides_and_contiguity_match_torch(shape, view):
    torch = pytest.importorskip("torch")
    ours, theirs = (VIEWS[view](t) for t in _pair(torch, shape))
    assert ours.stride() == theirs.stride()
    for name in FORMATS:
        kw = {"memory_format": getattr(tinytorch, name)}
        assert ours.is_contiguous(**kw) == theirs.is_contiguous(memory_format=getattr(torch, name)), name
    # preserve_format keeps the order of the strides; a size-1 dim's stride may differ from PyTorch's.
    assert _significant(ours.clone()) == _significant(theirs.clone())
    for name in ("zeros_like", "ones_like", "empty_like", "rand_like", "randn_like"):
        assert _significant(getattr(tinytorch, name)(ours)) == _significant(getattr(torch, name)(theirs)), name
    assert _significant(tinytorch.full_like(ours, 2.0)) == _significant(torch.full_like(theirs, 2.0))
    # to(dtype) casts with the array library's order "K": the same layout, size-1 dims' strides aside.
    assert _significant(ours.to(tinytorch.float64)) == _significant(theirs.to(torch.float64))
    for name in ("contiguous_format", "channels_last"):
        mine = ours.contiguous(memory_format=getattr(tinytorch, name))
        torchs = theirs.contiguous(memory_format=getattr(torch, name))
        assert mine.stride() == torchs.stride() and (mine is ours) == (torchs is theirs), name
        assert ours.clone(memory_format=getattr(tinytorch, name)).stride() == theirs.clone(
            memory_format=getattr(torch, name)).stride()
        mine, torchs = ours.to(memory_format=getattr(tinytorch, name)), theirs.to(memory_format=getattr(torch, name))
        assert mine.stride() == torchs.stride() and (mine is ours) == (torchs is theirs), name
        assert np.array_equal(mine.numpy(), torchs.numpy())
        assert tinytorch.empty_like(ours, memory_format=getattr(tinytorch, name)).stride() == torch.empty_like(
            theirs, memory_format=getattr(torch, name)).stride()


@pytest.mark.parametrize("shape, name", [((2, 3, 4, 5), "channels_last"), ((2, 3, 4, 5, 6), "channels_last_3d"),
                                         ((1, 3, 1, 2), "channels_last"), ((2, 3), "contiguous_format")])
def test_empty_strides_match_torch(shape, name):
    torch = pytest.importorskip("torch")
    ours = tinytorch.empty(shape, memory_format=getattr(tinytorch, name))
    assert ours.stride() == torch.empty(shape, memory_format=getattr(torch, name)).stride()
    assert ours.is_contiguous(memory_format=getattr(tinytorch, name))


def _outcome(call):
    try:
        call()
    except Exception as error:  # noqa: BLE001 - the type and message are what is compared
        return type(error).__name__, str(error)
    return None


@pytest.mark.parametrize("call", [
    lambda lib, x, y: x.contiguous(memory_format=lib.preserve_format),
    lambda lib, x, y: y.contiguous(memory_format=lib.channels_last),
    lambda lib, x, y: x.contiguous(memory_format=lib.channels_last_3d),
    lambda lib, x, y: y.clone(memory_format=lib.channels_last),
    lambda lib, x, y: y.to(memory_format=lib.channels_last),
    lambda lib, x, y: lib.empty(2, 3, 4, memory_format=lib.channels_last),
    lambda lib, x, y: lib.empty(2, 3, 4, 5, memory_format=lib.preserve_format),
    lambda lib, x, y: lib.zeros_like(y, memory_format=lib.channels_last),
    lambda lib, x, y: x.contiguous(memory_format="channels_last"),
    lambda lib, x, y: x.is_contiguous(memory_format="channels_last"),
    lambda lib, x, y: lib.empty(2, memory_format="channels_last"),
])
def test_errors_match_torch(call):
    torch = pytest.importorskip("torch")

    def run(lib):
        x = lib.zeros(2, 3, 4, 5).transpose(2, 3)
        return _outcome(lambda: call(lib, x, lib.zeros(2, 3, 4)))

    assert run(tinytorch) == run(torch)


@pytest.mark.parametrize("method", ["contiguous", "is_contiguous", "clone"])
def test_memory_format_is_keyword_only(method):
    with pytest.raises(TypeError, match="positional"):
        getattr(tinytorch.zeros(2, 3, 4, 5), method)(tinytorch.channels_last)


def test_to_with_bad_memory_format_is_a_type_error():
    with pytest.raises(TypeError, match="memory_format"):
        tinytorch.zeros(2, 3, 4, 5).to(memory_format="channels_last")
    with pytest.raises(TypeError, match="memory_format"):
        tinytorch.nn.Linear(2, 2).to(memory_format="channels_last")


def test_channels_last_clone_is_differentiable_and_not_a_view():
    torch = pytest.importorskip("torch")
    ours, theirs = _pair(torch, (2, 3, 4, 5))
    ours.requires_grad_(), theirs.requires_grad_()
    weights = np.arange(120, dtype=np.float32).reshape(2, 3, 4, 5)
    for lib, x in ((tinytorch, ours), (torch, theirs)):
        y = x.clone(memory_format=lib.channels_last)
        assert not y._is_view() if lib is torch else y._base is None
        y.add_(1)  # in place on the copy: the gradient still reaches x
        (y * lib.tensor(weights)).sum().backward()
    assert np.array_equal(ours.grad.numpy(), theirs.grad.numpy())
    g = tinytorch.autograd.grad(ours.to(memory_format=tinytorch.channels_last).pow(2).sum(), ours, create_graph=True)[0]
    (second,) = tinytorch.autograd.grad(g.sum(), ours)
    assert np.allclose(second.numpy(), 2.0)


def test_module_to_channels_last_matches_torch():
    torch = pytest.importorskip("torch")

    def build(lib):
        lib.manual_seed(0)
        return lib.nn.Sequential(lib.nn.Conv2d(3, 4, 3), lib.nn.BatchNorm2d(4), lib.nn.Linear(2, 2))

    ours, theirs = build(tinytorch), build(torch)
    weight = ours[0].weight
    assert ours.to(memory_format=tinytorch.channels_last) is ours
    theirs.to(memory_format=torch.channels_last)
    assert ours[0].weight is weight  # the Parameter keeps its identity, as PyTorch
    assert [p.stride() for p in ours.parameters()] == [p.stride() for p in theirs.parameters()]
    three_d = [tinytorch.nn.Conv3d(3, 4, 1), torch.nn.Conv3d(3, 4, 1)]
    assert _outcome(lambda: three_d[0].to(memory_format=tinytorch.channels_last)) == _outcome(
        lambda: three_d[1].to(memory_format=torch.channels_last))


def _ops(lib, x, weight):
    functional = lib.nn.functional
    conv = functional.conv2d(x, weight, padding=1)
    relu = functional.relu(x)
    added = x + relu
    normalized = functional.batch_norm(x, None, None, training=True)
    pooled = functional.max_pool2d(x, 2)
    return {"conv2d": conv, "relu": relu, "add": added, "batch_norm": normalized, "max_pool2d": pooled}


def test_ops_on_channels_last_inputs_match_torch():
    torch = pytest.importorskip("torch")
    (x, tx), (w, tw) = _pair(torch, (2, 3, 6, 6)), _pair(torch, (4, 3, 3, 3), seed=1)
    inputs = [t.to(memory_format=lib.channels_last).requires_grad_() for t, lib in
              ((x, tinytorch), (w, tinytorch), (tx, torch), (tw, torch))]
    ours, theirs = _ops(tinytorch, *inputs[:2]), _ops(torch, *inputs[2:])
    for name in ours:
        assert np.allclose(ours[name].detach().numpy(), theirs[name].detach().numpy(), atol=1e-5), name
        ours[name].pow(2).sum().backward(retain_graph=True)
        theirs[name].pow(2).sum().backward(retain_graph=True)
    for mine, torchs in zip(inputs[:2], inputs[2:]):
        assert np.allclose(mine.grad.numpy(), torchs.grad.numpy(), atol=1e-4)
    # PyTorch keeps channels_last through these ops (a CPU kernel choice); tinytorch's elementwise ops
    # (batch_norm's too) keep the input's layout (NumPy's order "K"); its conv2d and max_pool2d return row-major.
    for name in ("relu", "add", "batch_norm"):
        assert ours[name].stride() == theirs[name].stride(), name
    assert all(ours[name].is_contiguous() for name in ("conv2d", "max_pool2d"))


def test_small_cnn_channels_last_forward_backward_matches_torch():
    torch = pytest.importorskip("torch")

    def build(lib):
        lib.manual_seed(0)
        nn = lib.nn
        return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(8, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4, 2))

    ours, theirs = build(tinytorch), build(torch)
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    ours.to(memory_format=tinytorch.channels_last), theirs.to(memory_format=torch.channels_last)
    x, tx = _pair(torch, (2, 3, 6, 6))
    x, tx = x.to(memory_format=tinytorch.channels_last), tx.to(memory_format=torch.channels_last)
    out, tout = ours(x), theirs(tx)
    assert np.allclose(out.detach().numpy(), tout.detach().numpy(), atol=1e-5)
    out.pow(2).sum().backward()
    tout.pow(2).sum().backward()
    for (name, p), tp in zip(ours.named_parameters(), theirs.parameters()):
        assert np.allclose(p.grad.numpy(), tp.grad.numpy(), atol=1e-4), name


def test_cuda_channels_last(device):
    x = tinytorch.randn(2, 3, 4, 5, device=device)
    y = x.to(memory_format=tinytorch.channels_last)
    assert y.device == x.device and y.stride() == (60, 1, 15, 3)
    assert tinytorch.zeros_like(y).stride() == (60, 1, 15, 3)
    assert np.array_equal(y.cpu().numpy(), x.cpu().numpy())
    assert tinytorch.empty(2, 3, 4, 5, device=device, memory_format=tinytorch.channels_last).is_contiguous(
        memory_format=tinytorch.channels_last)


@pytest.mark.parametrize("view", ["plain", "channels_last", "transposed", "reversed"])
def test_deepcopy_keeps_the_order_of_the_strides_as_torch(view):
    """PyTorch's deepcopy keeps the strides (it copies the storage): a channels_last tensor or a
    transposed one stays so, with its values and a leaf's requires_grad and grad."""
    import copy

    torch = pytest.importorskip("torch")
    ours, theirs = (VIEWS[view](t) for t in _pair(torch, (2, 3, 4, 5)))
    ours, theirs = ours.detach().requires_grad_(), theirs.detach().requires_grad_()
    ours.grad, theirs.grad = tinytorch.ones(ours.shape), torch.ones(theirs.shape)
    mine, reference = copy.deepcopy(ours), copy.deepcopy(theirs)
    assert mine.stride() == reference.stride() == theirs.stride()
    assert mine.is_contiguous(memory_format=tinytorch.channels_last) == reference.is_contiguous(memory_format=torch.channels_last)
    assert np.array_equal(mine.detach().numpy(), reference.detach().numpy()) and mine.requires_grad
    assert np.array_equal(mine.grad.numpy(), reference.grad.numpy())
    assert not np.shares_memory(mine.detach().numpy(), ours.detach().numpy())
