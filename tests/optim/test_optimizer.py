"""Optimizer base behaviour: param groups, argument checks, zero_grad, in-place updates, state_dict."""

import copy
import re

import numpy as np
import pytest

import tinytorch
from tinytorch import optim

ALL = [
    (optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True)),
    (optim.Adam, dict(lr=0.01, amsgrad=True)),
    (optim.AdamW, dict(lr=0.01)),
    (optim.RMSprop, dict(lr=0.01, centered=True, momentum=0.5)),
    (optim.Adagrad, dict(lr=0.1, lr_decay=0.01)),
    (optim.Adadelta, dict(lr=1.0, weight_decay=0.01)),
    (optim.Adamax, dict(lr=0.01)),
    (optim.NAdam, dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    (optim.RAdam, dict(lr=0.01, betas=(0.5, 0.9))),
]
IDS = [cls.__name__ for cls, _ in ALL]


def _params(device="cpu"):
    rng = np.random.default_rng(1)
    return [tinytorch.tensor(rng.standard_normal(shape), device=device, requires_grad=True) for shape in ((3, 2), (2,))]


def _loss(params):
    w, b = params
    x = tinytorch.tensor(np.linspace(-1, 1, 6).reshape(2, 3), device=w.device)
    return ((x @ w + b).tanh() ** 2).sum()


def _train(optimizer, params, steps):
    for _ in range(steps):
        optimizer.zero_grad()
        _loss(params).backward()
        optimizer.step()


# -- construction ---------------------------------------------------------------------------------
def test_params_as_list_makes_one_group_with_defaults():
    params = _params()
    optimizer = optim.SGD(params, lr=0.5, momentum=0.1)
    assert len(optimizer.param_groups) == 1
    group = optimizer.param_groups[0]
    assert len(group["params"]) == 2 and all(a is b for a, b in zip(group["params"], params))
    assert group["lr"] == 0.5 and group["momentum"] == 0.1 and group["nesterov"] is False
    assert len(optimizer.state) == 0


def test_group_values_override_defaults_and_add_param_group():
    w, b = _params()
    optimizer = optim.Adam([{"params": [w], "lr": 0.5}], lr=0.01, betas=(0.8, 0.9))
    optimizer.add_param_group({"params": b, "eps": 1e-3})
    first, second = optimizer.param_groups
    assert first["lr"] == 0.5 and first["betas"] == (0.8, 0.9)
    assert second["params"][0] is b and second["lr"] == 0.01 and second["eps"] == 1e-3


def test_named_parameters_are_accepted():
    w, b = _params()
    optimizer = optim.SGD([("weight", w), ("bias", b)], lr=0.1)
    assert optimizer.param_groups[0]["param_names"] == ["weight", "bias"]
    assert optimizer.state_dict()["param_groups"][0]["param_names"] == ["weight", "bias"]


def test_a_set_of_parameters_is_rejected():
    with pytest.raises(TypeError, match="params argument given to the optimizer should be an iterable of Tensors or dicts, but got set"):
        optim.SGD(set(_params()), lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD([{"params": set(_params())}], lr=0.1)


def test_a_single_tensor_is_rejected():
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        optim.SGD(_params()[0], lr=0.1)


def test_empty_parameter_list_is_rejected():
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        optim.Adam([])


def test_parameter_in_two_groups_is_rejected():
    w, b = _params()
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        optim.SGD([{"params": [w, b]}, {"params": [w]}], lr=0.1)


def test_non_tensors_and_non_leaves_are_rejected():
    w, _ = _params()
    with pytest.raises(TypeError, match="optimizer can only optimize Tensors"):
        optim.SGD([w, 3.0], lr=0.1)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.SGD([w * 2], lr=0.1)


@pytest.mark.parametrize("cls", [optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop, optim.Adagrad, optim.Adadelta,
                                 optim.Adamax, optim.NAdam, optim.RAdam])
def test_negative_learning_rate_is_rejected(cls):
    with pytest.raises(ValueError, match=re.escape("Invalid learning rate: -0.1")):
        cls(_params(), lr=-0.1)


@pytest.mark.parametrize(
    "cls,kwargs,message",
    [
        (optim.SGD, dict(momentum=-1), "Invalid momentum value: -1"),
        (optim.SGD, dict(weight_decay=-1), "Invalid weight_decay value: -1"),
        (optim.SGD, dict(nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
        (optim.SGD, dict(nesterov=True, momentum=0.9, dampening=0.1), "Nesterov momentum requires a momentum and zero dampening"),
        (optim.Adam, dict(betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
        (optim.Adam, dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
        (optim.Adam, dict(eps=-1e-8), "Invalid epsilon value: -1e-08"),
        (optim.AdamW, dict(weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
        (optim.RMSprop, dict(alpha=-0.5), "Invalid alpha value: -0.5"),
        (optim.RMSprop, dict(momentum=-0.5), "Invalid momentum value: -0.5"),
        (optim.Adagrad, dict(lr_decay=-1), "Invalid lr_decay value: -1"),
        (optim.Adagrad, dict(initial_accumulator_value=-1), "Invalid initial_accumulator_value value: -1"),
        (optim.Adadelta, dict(rho=1.5), "Invalid rho value: 1.5"),
        (optim.Adadelta, dict(eps=-1.0), "Invalid epsilon value: -1.0"),
        (optim.Adadelta, dict(weight_decay=-1), "Invalid weight_decay value: -1"),
        (optim.Adamax, dict(betas=(0.9, 1.0)), "Invalid beta parameter at index 1: 1.0"),
        (optim.Adamax, dict(eps=-1e-8), "Invalid epsilon value: -1e-08"),
        (optim.NAdam, dict(momentum_decay=-0.1), "Invalid momentum_decay value: -0.1"),
        (optim.NAdam, dict(betas=(-0.1, 0.999)), "Invalid beta parameter at index 0: -0.1"),
        (optim.RAdam, dict(weight_decay=-0.5), "Invalid weight_decay value: -0.5"),
        (optim.RAdam, dict(betas=(0.9, 1.5)), "Invalid beta parameter at index 1: 1.5"),
    ],
)
def test_invalid_hyperparameters_are_rejected(cls, kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        cls(_params(), **kwargs)


def test_adamw_defaults_to_decoupled_weight_decay_of_0_01():
    group = optim.AdamW(_params()).param_groups[0]
    assert group["weight_decay"] == 1e-2 and group["decoupled_weight_decay"] is True
    assert optim.Adam(_params()).param_groups[0]["decoupled_weight_decay"] is False


def test_repr_lists_the_groups():
    text = repr(optim.SGD(_params(), lr=0.25))
    assert text.startswith("SGD (") and "Parameter Group 0" in text and "lr: 0.25" in text


# -- zero_grad and step ---------------------------------------------------------------------------
def test_zero_grad_sets_to_none_by_default():
    params = _params()
    optimizer = optim.SGD(params, lr=0.1)
    _loss(params).backward()
    optimizer.zero_grad()
    assert all(p.grad is None for p in params)


def test_zero_grad_can_keep_zeroed_tensors():
    params = _params()
    optimizer = optim.SGD(params, lr=0.1)
    _loss(params).backward()
    grads = [p.grad for p in params]
    optimizer.zero_grad(set_to_none=False)
    for p, grad in zip(params, grads):
        assert p.grad is grad and not grad.requires_grad
        np.testing.assert_array_equal(grad.numpy(), 0)


@pytest.mark.parametrize("cls,kwargs", ALL, ids=IDS)
def test_step_updates_in_place_bumps_version_and_leaves_grad_alone(cls, kwargs, device):
    params = _params(device)
    unused = tinytorch.zeros(4, device=device, requires_grad=True)
    optimizer = cls([*params, unused], **kwargs)
    _loss(params).backward()
    arrays = [p._data for p in params]
    before = [p.detach().clone() for p in params]
    grads = [p.grad.detach().clone() for p in params]
    versions = [p._version[0] for p in params]
    with tinytorch.enable_grad():
        optimizer.step()
    for p, array, old, grad, version in zip(params, arrays, before, grads, versions):
        assert p._data is array  # the same memory: views and references stay valid
        assert p._version[0] == version + 1
        assert not np.array_equal(p.detach().cpu().numpy(), old.cpu().numpy())
        np.testing.assert_array_equal(p.grad.cpu().numpy(), grad.cpu().numpy())  # the update doesn't clobber .grad
        assert p.grad_fn is None and p.requires_grad
    assert unused.grad is None and unused._version[0] == 0
    assert unused not in optimizer.state or cls is optim.Adagrad  # Adagrad's state is made eagerly


def test_step_with_closure_evaluates_it_with_grad_enabled_and_returns_its_loss():
    params = _params()
    optimizer = optim.SGD(params, lr=0.1)
    expected = _loss(params).item()
    seen = []

    def closure():
        optimizer.zero_grad()
        seen.append(tinytorch.is_grad_enabled())
        loss = _loss(params)
        loss.backward()
        return loss

    with tinytorch.no_grad():
        loss = optimizer.step(closure)
    assert seen == [True]
    assert loss.item() == pytest.approx(expected)  # the loss before the update
    assert _loss(params).item() < expected


def test_step_runs_without_recording_a_graph():
    params = _params()
    optimizer = optim.Adam(params, lr=0.1)
    _loss(params).backward()
    optimizer.step()
    state = optimizer.state[params[0]]
    assert all(t.grad_fn is None and not t.requires_grad for t in state.values())


def test_learning_rate_changes_take_effect_on_the_next_step():
    (w,) = [tinytorch.tensor([1.0, 2.0], requires_grad=True)]
    optimizer = optim.SGD([w], lr=0.1)
    w.grad = tinytorch.tensor([1.0, 1.0])
    optimizer.step()
    optimizer.param_groups[0]["lr"] = 0.5
    optimizer.step()
    np.testing.assert_allclose(w.detach().numpy(), [1.0 - 0.1 - 0.5, 2.0 - 0.1 - 0.5])


def test_parameters_of_different_shapes_and_dtypes_share_scratch_buffers_safely():
    big = tinytorch.ones(50, dtype=tinytorch.float64, requires_grad=True)
    small = tinytorch.ones(3, dtype=tinytorch.float32, requires_grad=True)
    optimizer = optim.Adam([small, big], lr=0.1, weight_decay=0.1)
    small.grad = tinytorch.full((3,), 2.0)
    big.grad = tinytorch.full((50,), -1.0, dtype=tinytorch.float64)
    optimizer.step()
    # First Adam step moves each coordinate by lr * sign(grad + wd * p) (up to eps).
    np.testing.assert_allclose(small.detach().numpy(), 0.9, rtol=1e-6)
    np.testing.assert_allclose(big.detach().numpy(), 1.1, rtol=1e-6)
    assert small.dtype == tinytorch.float32 and big.dtype == tinytorch.float64


# -- state_dict -----------------------------------------------------------------------------------
def test_state_dict_has_pytorchs_layout():
    w, b = _params()
    optimizer = optim.Adam([{"params": [w]}, {"params": [b], "lr": 0.5}], lr=0.01)
    _loss([w, b]).backward()
    optimizer.step()
    state_dict = optimizer.state_dict()
    assert set(state_dict) == {"state", "param_groups"}
    assert [g["params"] for g in state_dict["param_groups"]] == [[0], [1]]
    assert state_dict["param_groups"][1]["lr"] == 0.5
    assert set(state_dict["state"]) == {0, 1}
    assert set(state_dict["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    step = state_dict["state"][0]["step"]
    assert step.dtype == tinytorch.float32 and step.shape == () and step.item() == 1.0
    # Packing must not change the optimizer's own groups.
    assert optimizer.param_groups[0]["params"][0] is w


@pytest.mark.parametrize("cls,kwargs", ALL, ids=IDS)
def test_resume_from_state_dict_gives_the_same_trajectory(cls, kwargs, tmp_path):
    params = _params()
    optimizer = cls(params, **kwargs)
    _train(optimizer, params, 20)
    expected = [p.detach().numpy().copy() for p in params]

    params = _params()
    optimizer = cls(params, **kwargs)
    _train(optimizer, params, 10)
    tinytorch.save({"params": [p.detach() for p in params], "optimizer": optimizer.state_dict()}, tmp_path / "ckpt")
    del params, optimizer

    checkpoint = tinytorch.load(tmp_path / "ckpt")
    params = [p.clone().requires_grad_() for p in checkpoint["params"]]
    optimizer = cls(params, lr=123.0)  # hyperparameters come from the state_dict
    optimizer.load_state_dict(checkpoint["optimizer"])
    assert optimizer.param_groups[0]["lr"] == kwargs["lr"]
    _train(optimizer, params, 10)
    for p, e in zip(params, expected):
        np.testing.assert_array_equal(p.detach().numpy(), e)


def test_load_state_dict_copies_so_the_source_stays_unchanged():
    params = _params()
    optimizer = optim.SGD(params, lr=0.1, momentum=0.9)
    _train(optimizer, params, 2)
    saved = copy.deepcopy(optimizer.state_dict())
    snapshot = saved["state"][0]["momentum_buffer"].numpy().copy()
    fresh = optim.SGD(params, lr=0.1, momentum=0.9)
    fresh.load_state_dict(saved)
    _train(fresh, params, 3)
    np.testing.assert_array_equal(saved["state"][0]["momentum_buffer"].numpy(), snapshot)
    assert fresh.param_groups[0]["params"][0] is params[0]


def test_load_state_dict_casts_state_to_the_parameter_dtype_but_not_the_step():
    w = tinytorch.ones(3, dtype=tinytorch.float64, requires_grad=True)
    optimizer = optim.Adam([w], lr=0.1)
    w.grad = tinytorch.ones(3, dtype=tinytorch.float64)
    optimizer.step()
    state_dict = optimizer.state_dict()
    w32 = tinytorch.ones(3, requires_grad=True)
    target = optim.Adam([w32], lr=0.1)
    target.load_state_dict(state_dict)
    assert target.state[w32]["exp_avg"].dtype == tinytorch.float32
    assert target.state[w32]["step"].dtype == tinytorch.float32 and target.state[w32]["step"].item() == 1


def test_load_state_dict_moves_state_to_the_parameter_device(device):
    w = tinytorch.ones(3, requires_grad=True)
    optimizer = optim.RMSprop([w], momentum=0.5)
    w.grad = tinytorch.ones(3)
    optimizer.step()
    on_device = tinytorch.ones(3, device=device, requires_grad=True)
    target = optim.RMSprop([on_device], momentum=0.5)
    target.load_state_dict(optimizer.state_dict())
    assert target.state[on_device]["square_avg"].device == on_device.device
    assert target.state[on_device]["momentum_buffer"].device == on_device.device
    on_device.grad = tinytorch.ones(3, device=device)
    target.step()


def test_load_state_dict_rejects_a_different_number_of_groups():
    w, b = _params()
    source = optim.SGD([{"params": [w]}, {"params": [b]}], lr=0.1)
    target = optim.SGD([w, b], lr=0.1)
    with pytest.raises(ValueError, match="loaded state dict has a different number of parameter groups"):
        target.load_state_dict(source.state_dict())


def test_load_state_dict_rejects_groups_of_another_size():
    w, b = _params()
    source = optim.SGD([w], lr=0.1)
    target = optim.SGD([w, b], lr=0.1)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        target.load_state_dict(source.state_dict())


@pytest.mark.parametrize("cls,kwargs", [
    (optim.Adadelta, dict()), (optim.Adamax, dict()), (optim.NAdam, dict()), (optim.RAdam, dict()),
], ids=["Adadelta", "Adamax", "NAdam", "RAdam"])
def test_hyperparameter_defaults_and_errors_are_pytorchs(cls, kwargs):
    """The same defaults in the param groups as torch's, and the same checks with the same messages."""
    torch = pytest.importorskip("torch")
    ours = cls(_params(), **kwargs).param_groups[0]
    theirs = getattr(torch.optim, cls.__name__)([torch.zeros(2, requires_grad=True)], **kwargs).param_groups[0]
    skipped = {"params"}
    assert {k: v for k, v in ours.items() if k not in skipped} == {k: v for k, v in theirs.items() if k not in skipped}
    from tests.nn.helpers import assert_same_error_in_both

    def build(lib, bad):
        return getattr(lib.optim, cls.__name__)([lib.zeros(2)], **bad)

    for bad in (dict(lr=-1.0), dict(eps=-1.0), dict(weight_decay=-1.0)):
        assert_same_error_in_both(torch, build, bad)


def test_nadams_mu_product_stays_a_float32_cpu_scalar_through_a_load(device):
    """So that a resumed run is the uninterrupted one (PyTorch casts it to the parameter's dtype)."""
    w = tinytorch.ones(3, dtype=tinytorch.float64, device=device, requires_grad=True)
    optimizer = optim.NAdam([w], lr=0.1)
    w.grad = tinytorch.ones(3, dtype=tinytorch.float64, device=device)
    optimizer.step()
    target = optim.NAdam([w], lr=0.1)
    target.load_state_dict(optimizer.state_dict())
    product = target.state[w]["mu_product"]
    assert product.dtype == tinytorch.float32 and product.device.type == "cpu"
    assert product.item() == optimizer.state[w]["mu_product"].item() and product is not optimizer.state[w]["mu_product"]


OPTIMIZERS = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Rprop", "ASGD", "Adafactor", "NAdam", "RAdam", "Adamax",
              "Adadelta"]


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_signature_and_param_group_keys_are_pytorchs(name):
    """Every argument in PyTorch's order, kind and default (foreach, fused, capturable and
    differentiable included), and the param groups' keys in PyTorch's order."""
    torch = pytest.importorskip("torch")
    import inspect

    ours, theirs = getattr(optim, name), getattr(torch.optim, name)
    describe = lambda cls: [(k, p.kind, p.default) for k, p in inspect.signature(cls.__init__).parameters.items()]  # noqa: E731
    assert describe(ours) == describe(theirs)
    group = ours(_params(), lr=0.1).param_groups[0]
    reference = theirs([torch.zeros(2, requires_grad=True)], lr=0.1).param_groups[0]
    assert list(group) == list(reference)
    assert {k: v for k, v in group.items() if k != "params"} == {k: v for k, v in reference.items() if k != "params"}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_implementation_choices_change_nothing(name):
    """foreach=True/False (and fused, capturable where PyTorch has them) pick one of PyTorch's
    implementations of the same update: tinytorch's single one gives the same parameters."""
    import inspect

    cls = getattr(optim, name)
    choices = [dict(foreach=True), dict(foreach=False)]
    arguments = inspect.signature(cls.__init__).parameters
    if "fused" in arguments:
        choices.append(dict(fused=True))
    if "capturable" in arguments:
        choices.append(dict(capturable=True))
    results = []
    for kwargs in [dict()] + choices:
        w = tinytorch.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
        optimizer = cls([w], lr=0.1, **kwargs)
        for _ in range(3):
            optimizer.zero_grad()
            ((w * w).sum() + w.sum()).backward()
            optimizer.step()
        assert all(optimizer.param_groups[0][k] == v for k, v in kwargs.items())
        results.append(w.detach().numpy().copy())
    for result in results[1:]:
        np.testing.assert_array_equal(result, results[0])


def test_implementation_choice_errors_are_pytorchs():
    torch = pytest.importorskip("torch")
    from tests.nn.helpers import assert_same_error_in_both

    def build(lib, kwargs):
        return lib.optim.AdamW([lib.zeros(2, requires_grad=True)], **kwargs)

    assert_same_error_in_both(torch, build, dict(fused=True, foreach=True))
    assert_same_error_in_both(torch, build, dict(fused=True, differentiable=True))
    with pytest.raises(NotImplementedError, match="differentiable=True"):
        optim.SGD(_params(), lr=0.1, differentiable=True)
