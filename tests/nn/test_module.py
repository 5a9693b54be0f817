"""Module: registration, naming, state_dict round trips and failures, modes, devices/dtypes, hooks, repr."""

import copy
import re
from collections import OrderedDict

import numpy as np
import pytest

import tinytorch
from tinytorch import nn

from .helpers import normalized, numpy_of


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 3)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(3, 2)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class WithState(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(tinytorch.ones(2))
        self.register_buffer("running", tinytorch.zeros(2))
        self.register_buffer("scratch", tinytorch.zeros(2), persistent=False)
        self.inner = MLP()

    def forward(self, x):
        return self.inner(x) * self.scale + self.running


# -- Parameter ----------------------------------------------------------------------------------
def test_parameter_shares_memory_and_requires_grad():
    t = tinytorch.zeros(2, 3)
    p = nn.Parameter(t)
    assert isinstance(p, tinytorch.Tensor) and p.requires_grad and p.is_leaf
    p.data[0, 0] = 5.0
    assert t[0, 0].item() == 5.0
    assert not nn.Parameter(t, requires_grad=False).requires_grad
    assert nn.Parameter().shape == (0,)


def test_parameter_repr():
    p = nn.Parameter(tinytorch.tensor([1.0, 2.0]))
    assert repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"


def test_parameter_repr_matches_torch():
    torch = pytest.importorskip("torch")
    values = [[0.5, -1.25], [2.0, 3.0]]
    assert repr(nn.Parameter(tinytorch.tensor(values))) == repr(torch.nn.Parameter(torch.tensor(values)))


def test_lecture_custom_module():
    class MyLinear(nn.Module):
        def __init__(self, in_features, out_features):
            super().__init__()
            self.weight = nn.Parameter(tinytorch.randn(in_features, out_features))
            self.bias = nn.Parameter(tinytorch.randn(out_features))

        def forward(self, input):
            return (input @ self.weight) + self.bias

    layer = MyLinear(4, 3)
    x = tinytorch.randn(5, 4)
    out = layer(x)
    assert out.shape == (5, 3)
    np.testing.assert_allclose(numpy_of(out), numpy_of(x) @ numpy_of(layer.weight) + numpy_of(layer.bias), rtol=1e-6)
    out.sum().backward()
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    assert layer.weight.grad.shape == (4, 3)


# -- registration -------------------------------------------------------------------------------
def test_setattr_registers_parameters_modules_and_buffers_in_order():
    m = WithState()
    assert list(m._parameters) == ["scale"]
    assert list(m._buffers) == ["running", "scratch"]
    assert list(m._modules) == ["inner"]
    assert "scale" not in m.__dict__ and "inner" not in m.__dict__


def test_plain_tensor_assigned_to_buffer_name_updates_the_buffer():
    m = WithState()
    new = tinytorch.ones(2)
    m.running = new
    assert m._buffers["running"] is new
    m.scratch = tinytorch.ones(2)
    assert "scratch" not in m.state_dict()  # stays non-persistent


def test_assigning_none_to_a_parameter_is_allowed_but_a_tensor_is_not():
    m = WithState()
    m.scale = None
    assert m.scale is None and "scale" in m._parameters
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in m.named_parameters() if n != "scale"]
    m.scale = nn.Parameter(tinytorch.ones(2))
    with pytest.raises(TypeError, match=r"cannot assign 'tinytorch.FloatTensor' as parameter 'scale' \(torch.nn.Parameter or None expected\)"):
        m.scale = tinytorch.ones(2)


def test_reassigning_a_name_moves_it_between_kinds():
    m = WithState()
    m.running = nn.Parameter(tinytorch.ones(2))  # buffer -> parameter
    assert "running" in m._parameters and "running" not in m._buffers
    m.plain = 3
    m.plain = nn.Linear(1, 1)  # attribute -> module
    assert "plain" in m._modules and "plain" not in m.__dict__


def test_delattr_unregisters():
    m = WithState()
    del m.scale, m.running, m.inner
    assert not m._parameters and "running" not in m._buffers and not m._modules
    with pytest.raises(AttributeError, match="'WithState' object has no attribute 'scale'"):
        getattr(m, "scale")  # noqa: B009 - the attribute lookup is what is tested


@pytest.mark.parametrize("call, error, message", [
    (lambda m: m.register_parameter("a.b", None), KeyError, 'parameter name can\'t contain "."'),
    (lambda m: m.register_parameter("", None), KeyError, "parameter name can't be empty string"),
    (lambda m: m.register_parameter(1, None), TypeError, "parameter name should be a string. Got int"),
    (lambda m: m.register_parameter("fc1", None), KeyError, "attribute 'fc1' already exists"),
    (lambda m: m.register_parameter("w", tinytorch.ones(1)), TypeError, r"cannot assign 'tinytorch.FloatTensor' object to parameter 'w' \(torch.nn.Parameter or None required\)"),
    (lambda m: m.register_buffer("a.b", None), KeyError, 'buffer name can\'t contain "."'),
    (lambda m: m.register_buffer("b", 3), TypeError, r"cannot assign 'int' object to buffer 'b' \(torch Tensor or None required\)"),
    (lambda m: m.add_module("x", 3), TypeError, "int is not a Module subclass"),
    (lambda m: m.add_module("a.b", nn.ReLU()), KeyError, 'module name can\'t contain ".", got: a.b'),
    (lambda m: setattr(m, "fc1", 3), TypeError, r"cannot assign 'int' as child module 'fc1' \(torch.nn.Module or None expected\)"),
])
def test_registration_errors(call, error, message):
    with pytest.raises(error) as info:
        call(MLP())
    assert re.search(message, str(info.value.args[0]))  # args[0]: KeyError's str() adds quotes


def test_non_leaf_parameter_is_rejected():
    p = nn.Parameter(tinytorch.ones(2))
    non_leaf = nn.Parameter(tinytorch.ones(2))
    non_leaf.grad_fn = (p * 2).grad_fn  # a Parameter that is the output of an op
    with pytest.raises(ValueError, match="Cannot assign non-leaf Tensor to parameter 'w'"):
        MLP().register_parameter("w", non_leaf)


def test_assigning_before_init_is_an_error():
    class Broken(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(tinytorch.ones(1))

    with pytest.raises(AttributeError, match=r"cannot assign parameters before Module.__init__\(\) call"):
        Broken()


def test_missing_forward():
    with pytest.raises(NotImplementedError, match=r'Module \[Module\] is missing the required "forward" function'):
        nn.Module()(1)


# -- naming -------------------------------------------------------------------------------------
def test_named_parameters_buffers_and_modules_are_dotted_and_ordered():
    m = WithState()
    assert [n for n, _ in m.named_parameters()] == ["scale", "inner.fc1.weight", "inner.fc1.bias", "inner.fc2.weight", "inner.fc2.bias"]
    assert [n for n, _ in m.named_parameters(prefix="model")][0] == "model.scale"
    assert [n for n, _ in m.named_parameters(recurse=False)] == ["scale"]
    assert [n for n, _ in m.named_buffers()] == ["running", "scratch"]
    assert [n for n, _ in m.named_modules()] == ["", "inner", "inner.fc1", "inner.act", "inner.fc2"]
    assert [n for n, _ in m.named_children()] == ["inner"]
    assert list(m.children()) == [m.inner]
    assert len(list(m.modules())) == 5
    assert len(list(m.parameters())) == 5 and len(list(m.buffers())) == 2


def test_shared_parameters_and_modules_are_yielded_once():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias"]
    assert len(list(model.named_parameters(remove_duplicate=False))) == 4
    assert [n for n, _ in model.named_modules()] == ["", "0", "1"]
    assert len(list(model.modules(remove_duplicate=False))) == 4
    tied = MLP()
    tied.extra = nn.Linear(4, 3)
    tied.extra.weight = tied.fc1.weight  # weight tying: one Parameter under two names
    names = [n for n, _ in tied.named_parameters()]
    assert "fc1.weight" in names and "extra.weight" not in names and "extra.bias" in names


def test_get_submodule_parameter_and_buffer():
    m = WithState()
    assert m.get_submodule("inner.fc1") is m.inner.fc1
    assert m.get_submodule("") is m
    assert m.get_parameter("inner.fc2.bias") is m.inner.fc2.bias
    assert m.get_buffer("running") is m.running
    with pytest.raises(AttributeError, match="MLP has no attribute `fc9`"):
        m.get_submodule("inner.fc9")
    with pytest.raises(AttributeError, match="`weight` is not an nn.Module"):
        m.get_submodule("inner.fc1.weight")
    with pytest.raises(AttributeError, match="`running` is not an nn.Parameter"):
        m.get_parameter("running")
    with pytest.raises(AttributeError, match="`scale` is not a buffer"):
        m.get_buffer("scale")


def test_dir_lists_registered_names():
    names = dir(WithState())
    for name in ("scale", "running", "inner", "forward", "training"):
        assert name in names


# -- state_dict ---------------------------------------------------------------------------------
def test_state_dict_is_ordered_detached_and_skips_non_persistent_buffers():
    m = WithState()
    state = m.state_dict()
    assert isinstance(state, OrderedDict)
    assert list(state) == ["scale", "running", "inner.fc1.weight", "inner.fc1.bias", "inner.fc2.weight", "inner.fc2.bias"]
    assert not state["scale"].requires_grad and state["scale"].grad_fn is None
    state["scale"][0] = 7.0  # detached tensors share memory with the module's
    assert m.scale[0].item() == 7.0
    assert m.state_dict(keep_vars=True)["scale"] is m.scale
    assert list(m.state_dict(prefix="net."))[0] == "net.scale"
    assert state._metadata[""] == {"version": 1} and "inner.fc1" in state._metadata


def test_load_state_dict_round_trip_keeps_parameter_identity():
    source, target = MLP(), MLP()
    weight = target.fc1.weight
    result = target.load_state_dict(source.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    assert target.fc1.weight is weight
    assert np.array_equal(numpy_of(weight), numpy_of(source.fc1.weight))
    assert weight._version[0] > 0  # a graph that saved the old values would notice


def test_load_state_dict_missing_and_unexpected_keys_strict():
    model = MLP()
    state = model.state_dict()
    del state["fc2.bias"]
    state["fc3.weight"] = tinytorch.zeros(1)
    before = numpy_of(model.fc1.weight).copy()
    state["fc1.weight"] = tinytorch.zeros(3, 4)
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(state)
    assert str(info.value) == (
        'Error(s) in loading state_dict for MLP:\n\tMissing key(s) in state_dict: "fc2.bias". \n\t'
        'Unexpected key(s) in state_dict: "fc3.weight". '
    )
    assert np.array_equal(numpy_of(model.fc1.weight), before)  # nothing was copied


def test_load_state_dict_non_strict_returns_the_incompatible_keys():
    model = MLP()
    state = model.state_dict()
    del state["fc2.bias"]
    state["fc3.weight"] = tinytorch.zeros(1)
    state["fc1.weight"] = tinytorch.ones(3, 4)
    result = model.load_state_dict(state, strict=False)
    assert result == (["fc2.bias"], ["fc3.weight"])
    assert result.missing_keys == ["fc2.bias"]
    assert (numpy_of(model.fc1.weight) == 1).all()


def test_shape_mismatch_names_the_key_and_changes_nothing():
    model = MLP()
    before = {k: numpy_of(v).copy() for k, v in model.state_dict().items()}
    state = {k: tinytorch.ones(v.shape) for k, v in model.state_dict().items()}
    state["fc2.weight"] = tinytorch.ones(5, 3)  # fc1.* come first and are valid
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(state, strict=False)
    assert str(info.value) == (
        "Error(s) in loading state_dict for MLP:\n\tsize mismatch for fc2.weight: copying a param with shape "
        "tinytorch.Size([5, 3]) from checkpoint, the shape in current model is tinytorch.Size([2, 3])."
    )
    for k, v in model.state_dict().items():
        assert np.array_equal(numpy_of(v), before[k]), k


def test_load_error_messages_match_torch():
    torch = pytest.importorskip("torch")

    def broken_load(lib):
        class MLP(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = lib.nn.Linear(4, 3)
                self.fc2 = lib.nn.Linear(3, 2)

        model = MLP()
        state = {k: lib.ones(*v.shape) for k, v in model.state_dict().items()}
        state["fc1.weight"] = lib.ones(3, 5)
        del state["fc2.bias"]
        state["extra"] = lib.ones(1)
        return lambda: model.load_state_dict(state)

    from .helpers import raised

    assert raised(broken_load(tinytorch)) == raised(broken_load(torch))


def test_load_state_dict_assign_replaces_the_tensors():
    model = MLP()
    state = {k: tinytorch.ones(v.shape) for k, v in model.state_dict().items()}
    model.load_state_dict(state, assign=True)
    assert isinstance(model.fc1.weight, nn.Parameter) and model.fc1.weight.requires_grad
    assert model.fc1.weight.data_ptr() == state["fc1.weight"].data_ptr()


def test_load_into_a_scalar_from_a_one_element_vector():
    m = nn.Module()
    m.register_buffer("step", tinytorch.tensor(0.0))
    m.load_state_dict({"step": tinytorch.tensor([3.0])})
    assert m.step.item() == 3.0 and m.step.shape == ()


def test_load_state_dict_rejects_non_mappings_and_non_tensors():
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        MLP().load_state_dict([1, 2])
    state = MLP().state_dict()
    state["fc1.bias"] = [1.0, 2.0, 3.0]
    with pytest.raises(RuntimeError, match='While copying the parameter named "fc1.bias", expected torch.Tensor'):
        MLP().load_state_dict(state)


def test_extra_state_round_trips():
    class Counter(nn.Module):
        def __init__(self):
            super().__init__()
            self.count = 0

        def get_extra_state(self):
            return {"count": self.count}

        def set_extra_state(self, state):
            self.count = state["count"]

    a, b = Counter(), Counter()
    a.count = 5
    assert list(a.state_dict()) == ["_extra_state"]
    b.load_state_dict(a.state_dict())
    assert b.count == 5


# -- modes, gradients, devices and dtypes -------------------------------------------------------
def test_train_and_eval_propagate_and_return_self():
    m = WithState()
    assert m.training and m.inner.fc1.training
    assert m.eval() is m
    assert not m.training and not m.inner.act.training
    assert m.train() is m and m.inner.fc2.training
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        m.train("yes")


def test_zero_grad_and_requires_grad():
    m = MLP()
    m(tinytorch.randn(2, 4)).sum().backward()
    m.zero_grad(set_to_none=False)
    assert (numpy_of(m.fc1.weight.grad) == 0).all()
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    assert m.requires_grad_(False) is m
    assert not any(p.requires_grad for p in m.parameters())


def test_apply_visits_children_first_then_self():
    seen = []
    m = MLP()
    assert m.apply(lambda module: seen.append(type(module).__name__)) is m
    assert seen == ["Linear", "ReLU", "Linear", "MLP"]


def test_to_dtype_keeps_parameter_identity_and_converts_grads():
    m = WithState()
    m(tinytorch.randn(2, 4)).sum().backward()
    held = list(m.parameters())  # what an optimizer would hold
    assert m.double() is m
    assert [p is q for p, q in zip(held, m.parameters())] == [True] * 5
    assert all(p.dtype == tinytorch.float64 and p.grad.dtype == tinytorch.float64 for p in m.parameters())
    assert m.running.dtype == tinytorch.float64
    m.to(tinytorch.float32)
    assert held[0].dtype == tinytorch.float32
    assert m(tinytorch.randn(2, 4)).dtype == tinytorch.float32
    m.half().float()
    assert held[1].dtype == tinytorch.float32


def test_to_keeps_integer_buffers_and_rejects_integer_dtypes():
    bn = nn.BatchNorm1d(3).double()
    assert bn.num_batches_tracked.dtype == tinytorch.int64 and bn.running_mean.dtype == tinytorch.float64
    with pytest.raises(TypeError, match="nn.Module.to only accepts floating point or complex dtypes, but got desired dtype=tinytorch.int64"):
        bn.to(tinytorch.int64)
    assert bn.to("cpu") is bn and bn.cpu() is bn
    assert bn.to(tinytorch.zeros(1)).running_mean.dtype == tinytorch.float32


def test_to_device(device):
    m = MLP().to(device)
    assert all(p.device.type == device for p in m.parameters())
    assert m(tinytorch.randn(2, 4, device=device)).device.type == device


def test_deepcopy_copies_parameters():
    m = MLP()
    clone = copy.deepcopy(m)
    assert clone.fc1.weight is not m.fc1.weight
    assert isinstance(clone.fc1.weight, nn.Parameter)
    assert np.array_equal(numpy_of(clone.fc1.weight), numpy_of(m.fc1.weight))


# -- hooks --------------------------------------------------------------------------------------
def test_forward_pre_hook_can_replace_the_input_and_be_removed():
    m = nn.Identity()
    handle = m.register_forward_pre_hook(lambda module, args: args[0] * 2)
    assert m(tinytorch.tensor(3.0)).item() == 6.0
    handle.remove()
    assert m(tinytorch.tensor(3.0)).item() == 3.0


def test_forward_hook_sees_input_and_output_and_can_replace_the_output():
    m = nn.Linear(2, 1)
    seen = []
    handle = m.register_forward_hook(lambda module, args, output: seen.append((module, args[0].shape, output.shape)))
    m(tinytorch.zeros(5, 2))
    assert seen == [(m, (5, 2), (5, 1))]
    handle.remove()
    with m.register_forward_hook(lambda module, args, output: output + 100):
        assert m(tinytorch.zeros(1, 2)).item() == pytest.approx(m.bias.item() + 100)
    assert m(tinytorch.zeros(1, 2)).item() == pytest.approx(m.bias.item())


def test_hooks_with_kwargs_prepend_and_always_call():
    class Scale(nn.Module):
        def forward(self, x, factor=1.0):
            if factor < 0:
                raise ValueError("negative")
            return x * factor

    m = Scale()
    order = []
    m.register_forward_pre_hook(lambda mod, args, kwargs: (args, {"factor": kwargs.get("factor", 1.0) * 10}), with_kwargs=True)
    m.register_forward_hook(lambda mod, args, out: order.append("second"))
    m.register_forward_hook(lambda mod, args, out: order.append("first"), prepend=True)
    m.register_forward_hook(lambda mod, args, kwargs, out: order.append(kwargs["factor"]), with_kwargs=True)
    assert m(tinytorch.tensor(1.0), factor=2.0).item() == 20.0
    assert order == ["first", "second", 20.0]
    called = []
    m.register_forward_hook(lambda mod, args, out: called.append(out), always_call=True)
    with pytest.raises(ValueError):
        m(tinytorch.tensor(1.0), factor=-1.0)
    assert called == [None]


def test_module_without_hooks_calls_forward_directly():
    m = MLP()
    assert not m._forward_hooks and not m._forward_pre_hooks
    x = tinytorch.randn(3, 4)
    assert np.array_equal(numpy_of(m(x)), numpy_of(m.forward(x)))


# -- repr ---------------------------------------------------------------------------------------
def test_repr_is_nested_like_torch():
    assert repr(WithState()) == (
        "WithState(\n"
        "  (inner): MLP(\n"
        "    (fc1): Linear(in_features=4, out_features=3, bias=True)\n"
        "    (act): ReLU()\n"
        "    (fc2): Linear(in_features=3, out_features=2, bias=True)\n"
        "  )\n"
        ")"
    )


def test_multiline_extra_repr():
    class Custom(nn.Module):
        def __init__(self):
            super().__init__()
            self.child = nn.Identity()

        def extra_repr(self):
            return "a=1\nb=2"

    assert repr(Custom()) == "Custom(\n  a=1\n  b=2\n  (child): Identity()\n)"


def _zoo(lib):
    n = lib.nn
    return n.Sequential(
        OrderedDict([
            ("embed", n.Embedding(10, 4, padding_idx=0)),
            ("flatten", n.Flatten()),
            ("unflatten", n.Unflatten(1, (2, 2))),
            ("linear", n.Linear(4, 8, bias=False)),
            ("norm", n.LayerNorm(8)),
            ("bn", n.BatchNorm1d(8, momentum=None, affine=False)),
            ("drop", n.Dropout(0.25)),
            ("acts", n.ModuleList([n.ELU(), n.SiLU(inplace=True), n.Softplus(beta=2), n.Tanh(), n.Sigmoid(), n.LogSoftmax(dim=1)])),
            ("same", n.ModuleList([n.Linear(2, 2) for _ in range(3)])),
            ("heads", n.ModuleDict({"a": n.Identity(), "b": n.ReLU6()})),
            ("params", n.ParameterList([n.Parameter(lib.zeros(2, 3)), lib.zeros(4)])),
            ("pdict", n.ParameterDict({"w": n.Parameter(lib.zeros(2))})),
            ("losses", n.ModuleList([n.CrossEntropyLoss(), n.MSELoss(), n.BCEWithLogitsLoss(), n.KLDivLoss()])),
        ])
    )


def test_repr_of_every_layer_matches_torch():
    torch = pytest.importorskip("torch")
    assert normalized(repr(_zoo(tinytorch))) == repr(_zoo(torch))


def test_state_dict_keys_of_every_layer_match_torch():
    torch = pytest.importorskip("torch")
    ours = {k: tuple(v.shape) for k, v in _zoo(tinytorch).state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in _zoo(torch).state_dict().items()}
    assert list(ours) == list(theirs) and ours == theirs


def test_buffer_marker_registers_a_buffer():
    m = nn.Module()
    m.steps = nn.Buffer(tinytorch.zeros(1), persistent=False)
    m.total = nn.Buffer(tinytorch.ones(2))
    assert list(m._buffers) == ["steps", "total"]
    assert list(m.state_dict()) == ["total"]
    assert type(m.total) is tinytorch.Tensor


def test_type_converts_floating_state():
    m = MLP()
    assert m.type(tinytorch.float64) is m and m.fc1.weight.dtype == tinytorch.float64
