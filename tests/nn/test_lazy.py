"""Lazy modules (nn/modules/lazy.py) and uninitialized parameters/buffers (nn/parameter.py)."""

import copy
import math
import pickle

import numpy as np
import pytest

import tinytorch
from tinytorch.nn import Linear, Parameter
from tinytorch.nn.modules import lazy as L
from tinytorch.nn.modules.lazy import LazyModuleMixin
from tinytorch.nn import UninitializedBuffer, UninitializedParameter
from tinytorch.nn.parameter import is_lazy

# (class name, constructor args, input shape)
CASES = [
    ("LazyLinear", (3,), (2, 5)),
    ("LazyConv1d", (4, 3), (2, 6, 8)),
    ("LazyConv2d", (4, 3), (2, 6, 7, 7)),
    ("LazyConv3d", (4, 2), (2, 6, 4, 4, 4)),
    ("LazyConvTranspose1d", (4, 3), (2, 6, 8)),
    ("LazyConvTranspose2d", (4, 3), (6, 5, 5)),
    ("LazyConvTranspose3d", (4, 2), (2, 6, 3, 3, 3)),
    ("LazyBatchNorm1d", (), (4, 6)),
    ("LazyBatchNorm2d", (), (4, 6, 3, 3)),
    ("LazyBatchNorm3d", (), (4, 6, 2, 2, 2)),
    ("LazyInstanceNorm1d", (), (4, 6, 5)),
    ("LazyInstanceNorm2d", (), (4, 6, 3, 3)),
    ("LazyInstanceNorm3d", (), (4, 6, 2, 2, 2)),
]
IDS = [c[0] for c in CASES]


@pytest.mark.parametrize("name,args,shape", CASES, ids=IDS)
def test_repr_keys_shapes_and_class_before_and_after_forward_match_torch(name, args, shape, device):
    torch = pytest.importorskip("torch")
    m, tm = getattr(L, name)(*args).to(device), getattr(torch.nn, name)(*args)
    assert repr(m) == repr(tm)
    assert list(m.state_dict()) == list(tm.state_dict())
    assert m.has_uninitialized_params() and isinstance(m, LazyModuleMixin)
    for key, value in m.state_dict().items():
        assert type(value).__name__ == type(tm.state_dict()[key]).__name__
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    out, tout = m(tinytorch.tensor(x, device=device)), tm(torch.tensor(x))
    assert type(m) is getattr(L, name).cls_to_become and type(m).__name__ == type(tm).__name__
    assert not isinstance(m, LazyModuleMixin) and not m._forward_pre_hooks
    assert repr(m) == repr(tm)
    assert tuple(out.shape) == tuple(tout.shape) and out.device.type == device
    assert {k: tuple(v.shape) for k, v in m.state_dict().items()} == {k: tuple(v.shape) for k, v in tm.state_dict().items()}
    assert all(type(p) is Parameter for p in m.parameters())
    assert all(type(b) is tinytorch.Tensor for b in m.buffers())
    # Same values as torch once the weights agree: the module behaves as the regular one.
    tm.load_state_dict({k: torch.tensor(v.detach().cpu().numpy()) for k, v in m.state_dict().items()})
    np.testing.assert_allclose(m(tinytorch.tensor(x, device=device)).detach().cpu().numpy(),
                               tm(torch.tensor(x)).detach().numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_linear_init_follows_reset_parameters_bounds(dtype):
    m = L.LazyLinear(400, dtype=getattr(tinytorch, dtype))
    m(tinytorch.zeros(2, 300, dtype=getattr(tinytorch, dtype)))
    bound = 1 / math.sqrt(300)
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    assert m.weight.dtype == getattr(tinytorch, dtype) and m.in_features == 300
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound  # kaiming_uniform(a=sqrt 5)
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound
    assert np.abs(b).max() <= bound and np.abs(b).max() > 0.9 * bound


def test_conv_and_norm_init():
    c = L.LazyConv2d(64, 3)
    c(tinytorch.zeros(1, 16, 5, 5))
    bound = 1 / math.sqrt(16 * 9)
    assert c.in_channels == 16 and tuple(c.weight.shape) == (64, 16, 3, 3)
    assert np.abs(c.weight.detach().numpy()).max() <= bound
    t = L.LazyConvTranspose2d(6, 3, groups=2)
    t(tinytorch.zeros(1, 4, 5, 5))
    assert tuple(t.weight.shape) == (4, 3, 3, 3)
    n = L.LazyBatchNorm1d()
    n(tinytorch.randn(8, 5))
    assert (n.weight.detach().numpy() == 1).all() and (n.bias.detach().numpy() == 0).all()
    assert int(n.num_batches_tracked) == 1 and tuple(n.running_var.shape) == (5,)


def test_optimizer_built_before_first_forward_updates_the_materialized_parameters():
    m = L.LazyLinear(2)
    weight, bias = m.weight, m.bias
    opt = tinytorch.optim.SGD(m.parameters(), lr=0.5)
    m(tinytorch.ones(3, 4)).sum().backward()
    assert m.weight is weight and m.bias is bias and type(weight) is Parameter
    before = weight.detach().clone()
    opt.step()
    np.testing.assert_allclose(weight.detach().numpy(), before.numpy() - 0.5 * 3, rtol=1e-6)
    np.testing.assert_allclose(bias.grad.numpy(), [3.0, 3.0])


def test_conversions_before_forward_set_dtype_and_buffers_stay_uninitialized():
    m = L.LazyBatchNorm2d().double()
    assert type(m.running_mean) is UninitializedBuffer and m.running_mean.dtype == tinytorch.float64
    assert type(m.weight) is UninitializedParameter and m.weight.dtype == tinytorch.float64
    m(tinytorch.randn(2, 3, 2, 2, dtype=tinytorch.float64))
    assert m.weight.dtype == m.running_mean.dtype == tinytorch.float64 and type(m).__name__ == "BatchNorm2d"


def test_uninitialized_parameter_allowed_and_refused_uses_match_torch():
    torch = pytest.importorskip("torch")
    p, tp = UninitializedParameter(), torch.nn.UninitializedParameter()
    assert repr(p) == repr(tp) == "<UninitializedParameter>"
    assert p.requires_grad and p.is_leaf and p.grad is None and p.is_floating_point()
    assert str(p.dtype).split(".")[1] == str(tp.dtype).split(".")[1] and p.device.type == "cpu"
    assert tuple(p.size()) == tuple(tp.size()) == (0,) and p.get_device() == -1
    assert type(p.float()) is UninitializedParameter and p.double().dtype == tinytorch.float64
    assert UninitializedParameter(dtype=tinytorch.float64).dtype == tinytorch.float64
    assert not UninitializedBuffer().requires_grad and repr(UninitializedBuffer()) == "<UninitializedBuffer>"
    for call in [lambda t: t.shape, lambda t: t.share_memory_()]:
        with pytest.raises(RuntimeError) as ours:
            call(p)
        with pytest.raises(RuntimeError) as theirs:
            call(tp)
        assert str(ours.value) == str(theirs.value)
    tail = "This error happens when you are using a `LazyModule` or explicitly manipulating"
    for call in [lambda t: t + 1, lambda t: t.dim(), lambda t: t.numel(), lambda t: t.detach(), lambda t: t.sum()]:
        with pytest.raises(ValueError, match="Attempted to use an uninitialized parameter") as ours:
            call(p)
        with pytest.raises(ValueError, match="Attempted to use an uninitialized parameter") as theirs:
            call(tp)
        assert tail in str(ours.value) and tail in str(theirs.value)
    with pytest.raises(ValueError, match="uninitialized parameter"):
        tinytorch.add(p, 1)


def test_materialize_fills_the_same_object_in_place(device):
    p = UninitializedParameter(device=device, dtype=tinytorch.float64)
    ident = id(p)
    p.materialize((2, 3))
    assert id(p) == ident and type(p) is Parameter and tuple(p.shape) == (2, 3)
    assert p.dtype == tinytorch.float64 and p.device.type == device and p.requires_grad
    b = UninitializedBuffer()
    b.materialize((4,), dtype=tinytorch.float64)
    assert type(b) is tinytorch.Tensor and b.dtype == tinytorch.float64 and not b.requires_grad
    assert is_lazy(UninitializedBuffer()) and not is_lazy(p) and not is_lazy(b)


def test_pickle_and_deepcopy_keep_uninitialized():
    p = UninitializedParameter(requires_grad=False, dtype=tinytorch.float64)
    q = pickle.loads(pickle.dumps(p))
    assert type(q) is UninitializedParameter and not q.requires_grad
    r = copy.deepcopy(p)
    assert type(r) is UninitializedParameter and r.dtype == tinytorch.float64 and r is not p
    m = copy.deepcopy(L.LazyLinear(3))
    m(tinytorch.zeros(1, 2))
    assert type(m) is Linear and m.in_features == 2


def test_state_dict_loading_materializes_a_lazy_module():
    full = Linear(4, 3)
    m = L.LazyLinear(3)
    assert repr(m.load_state_dict(full.state_dict())) == "<All keys matched successfully>"
    assert not m.has_uninitialized_params() and type(m) is L.LazyLinear  # as torch 2.13: class kept
    np.testing.assert_array_equal(m.weight.detach().numpy(), full.weight.detach().numpy())
    m(tinytorch.zeros(2, 4))
    assert type(m) is Linear and m.in_features == 4
    np.testing.assert_array_equal(m.weight.detach().numpy(), full.weight.detach().numpy())  # not re-initialized


def test_state_dict_loading_uninitialized_into_lazy_and_initialized():
    torch = pytest.importorskip("torch")
    m = L.LazyLinear(3)
    assert repr(m.load_state_dict(L.LazyLinear(3).state_dict())) == "<All keys matched successfully>"
    assert m.has_uninitialized_params()
    with pytest.raises(RuntimeError, match="Missing key") as ours:
        L.LazyLinear(3).load_state_dict({"weight": tinytorch.zeros(3, 4)})
    with pytest.raises(RuntimeError, match="Missing key") as theirs:
        torch.nn.LazyLinear(3).load_state_dict({"weight": torch.zeros(3, 4)})
    assert str(ours.value).split(":")[1:] == str(theirs.value).split(":")[1:]
    with pytest.raises(RuntimeError) as ours:
        Linear(4, 3).load_state_dict(L.LazyLinear(3).state_dict())
    with pytest.raises(RuntimeError) as theirs:
        torch.nn.Linear(4, 3).load_state_dict(torch.nn.LazyLinear(3).state_dict())
    assert str(ours.value) == str(theirs.value)


def test_errors_match_torch():
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError) as ours:
        L.LazyConv2d(4, 3)(tinytorch.zeros(2, 3))
    with pytest.raises(RuntimeError) as theirs:
        torch.nn.LazyConv2d(4, 3)(torch.zeros(2, 3))
    assert str(ours.value).replace("tinytorch", "torch") == str(theirs.value)
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        L.LazyConv1d(4, 3, groups=2)(tinytorch.zeros(1, 3, 8))
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        torch.nn.LazyConv1d(4, 3, groups=2)(torch.zeros(1, 3, 8))

    class Never(LazyModuleMixin, tinytorch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = UninitializedParameter()

        def initialize_parameters(self, x):
            pass

    with pytest.raises(RuntimeError, match="module Never has not been fully initialized"):
        Never()(tinytorch.zeros(1))
    with pytest.raises(NotImplementedError, match="initialize_parameters is not implemented for"):
        LazyModuleMixin.initialize_parameters(Never())


def test_hook_runs_only_once_and_custom_lazy_module():
    class Scale(LazyModuleMixin, tinytorch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = UninitializedParameter()
            self.register_buffer("b", UninitializedBuffer())

        def initialize_parameters(self, x):
            with tinytorch.no_grad():
                self.w.materialize(x.shape[-1:])
                self.b.materialize(x.shape[-1:])
                self.w.fill_(2.0)
                self.b.zero_()

        def forward(self, x):
            return x * self.w + self.b

    m = Scale()
    assert list(m.state_dict()) == ["w", "b"]
    np.testing.assert_allclose(m(tinytorch.ones(2, 3)).detach().numpy(), 2.0)
    assert not m._forward_pre_hooks and not hasattr(m, "_initialize_hook") and type(m) is Scale
    np.testing.assert_allclose(m(tinytorch.ones(2, 3)).detach().numpy(), 2.0)


def test_adam_built_before_first_forward_and_adagrad_refuses_as_torch():
    torch = pytest.importorskip("torch")
    m = L.LazyLinear(2)
    opt = tinytorch.optim.Adam(m.parameters(), lr=0.1)
    m(tinytorch.ones(3, 4)).sum().backward()
    before = m.weight.detach().clone()
    opt.step()
    np.testing.assert_allclose(m.weight.detach().numpy(), before.numpy() - 0.1, rtol=1e-5)  # Adam's first step: lr * sign
    with pytest.raises(ValueError, match="uninitialized parameter"):
        tinytorch.optim.Adagrad(L.LazyLinear(2).parameters())
    with pytest.raises(ValueError, match="uninitialized parameter"):
        torch.optim.Adagrad(torch.nn.LazyLinear(2).parameters())


@pytest.mark.parametrize("name,args,kwargs,shape", [
    ("LazyLinear", (3,), {"bias": False}, (2, 4)),
    ("LazyBatchNorm1d", (), {"affine": False}, (4, 3)),
    ("LazyBatchNorm1d", (), {"track_running_stats": False}, (4, 3)),
    ("LazyBatchNorm2d", (), {"bias": False}, (2, 3, 2, 2)),
    ("LazyConv2d", (4, 3), {"padding": "same", "bias": False, "padding_mode": "reflect"}, (1, 2, 5, 5)),
    ("LazyConvTranspose1d", (4, 3), {"stride": 2, "output_padding": 1, "dilation": 2}, (1, 2, 5)),
])
def test_options_match_torch(name, args, kwargs, shape):
    torch = pytest.importorskip("torch")
    m, tm = getattr(L, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(m) == repr(tm) and list(m.state_dict()) == list(tm.state_dict())
    out, tout = m(tinytorch.randn(*shape)), tm(torch.randn(*shape))
    assert repr(m) == repr(tm) and list(m.state_dict()) == list(tm.state_dict())
    assert tuple(out.shape) == tuple(tout.shape)
