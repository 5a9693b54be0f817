"""torch.amp: autocast's op dtypes (CPU float16 against torch; CUDA's list on the fake GPU), its
state (nesting, decorator, threads), gradients through the casts, and GradScaler's trajectory,
state_dict, errors and warnings against torch.amp.GradScaler("cpu")."""

import pickle
import threading
import warnings

import numpy as np
import pytest

import tinytorch
import tinytorch.nn.functional as F
from tinytorch.amp import _policy


@pytest.fixture(autouse=True)
def _autocast_off():
    yield
    assert _policy.state.nesting == 0 and not any(_policy.state.enabled.values()), "a test left autocast on"


def _libraries():
    """tinytorch, then torch as the oracle when it is installed (its comparisons are skipped otherwise)."""
    try:
        import torch
    except ImportError:
        return [tinytorch]
    return [tinytorch, torch]


def _same(results):
    """tinytorch's result equals torch's (nothing to compare without torch)."""
    return len(results) == 1 or results[0] == results[1]


def _dtype_name(dtype):
    return str(dtype).split(".")[-1]


def _inputs(lib):
    rng = np.random.default_rng(0)
    make = lambda *shape: lib.tensor(rng.standard_normal(shape).astype(np.float32))  # noqa: E731
    return {"x": make(3, 4), "w": make(5, 4), "b": make(5), "m": make(4, 2), "batch": make(2, 3, 4),
            "batch2": make(2, 4, 2), "image": make(1, 2, 5, 5), "kernel": make(3, 2, 3, 3), "v": make(4),
            "target": lib.tensor([0, 1, 2])}


# Each case: fn(lib, inputs) -> tensor. The dtype PyTorch gives under CPU float16 autocast is the oracle.
CASES = {
    "mm": lambda lib, t: lib.mm(t["x"], t["m"]),
    "matmul": lambda lib, t: lib.matmul(t["x"], t["m"]),
    "matmul_vectors": lambda lib, t: lib.matmul(t["v"], t["v"]),
    "mm_half_float": lambda lib, t: lib.mm(t["x"].half(), t["m"]),
    "mm_double": lambda lib, t: lib.mm(t["x"].double(), t["m"].double()),
    "bmm": lambda lib, t: lib.bmm(t["batch"], t["batch2"]),
    "addmm": lambda lib, t: lib.addmm(t["b"][:2], t["x"], t["m"]),
    "baddbmm": lambda lib, t: lib.baddbmm(t["b"][:2], t["batch"], t["batch2"]),
    "dot": lambda lib, t: lib.dot(t["v"], t["v"]),  # not on the CPU's list: float32 stays
    "linear": lambda lib, t: lib.nn.functional.linear(t["x"], t["w"], t["b"]),
    "linear_module": lambda lib, t: lib.nn.Linear(4, 2)(t["x"]),
    "conv2d": lambda lib, t: lib.nn.functional.conv2d(t["image"], t["kernel"]),
    "conv_transpose2d": lambda lib, t: lib.nn.functional.conv_transpose2d(t["image"], t["kernel"].transpose(0, 1)),
    "conv1d": lambda lib, t: lib.nn.functional.conv1d(t["batch"], t["kernel"][:2, 0, :, :2]),
    "softmax_half": lambda lib, t: lib.nn.functional.softmax(t["x"].half(), -1),  # not on the CPU's list
    "log_softmax": lambda lib, t: lib.nn.functional.log_softmax(t["x"], -1),
    "layer_norm_half": lambda lib, t: lib.nn.functional.layer_norm(t["x"].half(), (4,)),
    "cross_entropy_half": lambda lib, t: lib.nn.functional.cross_entropy(t["x"].half(), t["target"]),
    "nll_loss_half": lambda lib, t: lib.nn.functional.nll_loss(t["x"].half(), t["target"]),
    "mse_loss_half": lambda lib, t: lib.nn.functional.mse_loss(t["x"].half(), t["x"].half()),
    "l1_loss_half": lambda lib, t: lib.nn.functional.l1_loss(t["x"].half(), t["x"].half()),
    "bce_half": lambda lib, t: lib.nn.functional.binary_cross_entropy(t["x"].sigmoid().half(), t["x"].sigmoid().half()),
    "bce_logits_half": lambda lib, t: lib.nn.functional.binary_cross_entropy_with_logits(t["x"].half(), t["x"].half()),
    "add": lambda lib, t: t["x"] + t["x"],  # on no list
    "linear_then_loss": lambda lib, t: lib.nn.functional.mse_loss(lib.nn.functional.linear(t["x"], t["w"]),
                                                                  lib.zeros(3, 5)),
}

EXPECTED_CPU = {"mm": "float16", "matmul": "float16", "matmul_vectors": "float16", "mm_half_float": "float16",
                "mm_double": "float64", "bmm": "float16", "addmm": "float16", "baddbmm": "float16", "dot": "float32",
                "linear": "float16", "linear_module": "float16", "conv2d": "float16", "conv_transpose2d": "float16",
                "conv1d": "float16", "softmax_half": "float16", "log_softmax": "float32", "layer_norm_half": "float16",
                "cross_entropy_half": "float32", "nll_loss_half": "float32", "mse_loss_half": "float32",
                "l1_loss_half": "float32", "bce_half": "float32", "bce_logits_half": "float32", "add": "float32",
                "linear_then_loss": "float32"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_cpu_float16_autocast_dtypes(name):
    with tinytorch.autocast("cpu", dtype=tinytorch.float16):
        ours = _dtype_name(CASES[name](tinytorch, _inputs(tinytorch)).dtype)
    assert ours == EXPECTED_CPU[name]
    if name != "mm_half_float":  # mixed dtypes: an error outside autocast
        outside = _dtype_name(CASES[name](tinytorch, _inputs(tinytorch)).dtype)
        assert outside == ("float64" if name == "mm_double" else "float16" if name.endswith("_half") else "float32")
    torch = pytest.importorskip("torch")
    with torch.autocast("cpu", dtype=torch.float16):
        assert _dtype_name(CASES[name](torch, _inputs(torch)).dtype) == ours


def test_cpu_autocast_values_close_to_torch():
    torch = pytest.importorskip("torch")
    results = []
    for lib in (tinytorch, torch):
        t = _inputs(lib)
        with lib.autocast("cpu", dtype=lib.float16):
            results.append(lib.nn.functional.linear(t["x"], t["w"], t["b"]).float().numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=2e-3, atol=2e-3)


def test_mixed_dtype_error_inside_autocast_is_torchs():
    torch = pytest.importorskip("torch")
    messages = []
    for lib in (tinytorch, torch):
        t = _inputs(lib)
        with lib.autocast("cpu", dtype=lib.float16), pytest.raises(RuntimeError) as error:
            lib.mm(t["x"].double(), t["m"])  # doubles are left alone, so float16 meets float64
        messages.append(str(error.value))
    assert _same(messages)


def test_gradients_flow_back_in_the_parameters_dtype():
    torch = pytest.importorskip("torch")
    grads = []
    for lib in (tinytorch, torch):
        t = _inputs(lib)
        w, b = t["w"].requires_grad_(), t["b"].requires_grad_()
        with lib.autocast("cpu", dtype=lib.float16):
            out = lib.nn.functional.linear(t["x"], w, b)
            loss = lib.nn.functional.mse_loss(out, lib.zeros(3, 5))
        assert out.dtype == lib.float16 and loss.dtype == lib.float32
        loss.backward()
        assert w.grad.dtype == lib.float32 and b.grad.dtype == lib.float32
        grads.append((w.grad.numpy(), b.grad.numpy()))
    for ours, theirs in zip(grads[0], grads[-1]):
        np.testing.assert_allclose(ours, theirs, rtol=5e-3, atol=5e-3)


def test_nesting_disable_and_restore():
    x, m = tinytorch.randn(3, 4), tinytorch.randn(4, 2)
    with tinytorch.autocast("cpu", dtype=tinytorch.float16):
        assert tinytorch.is_autocast_enabled("cpu") and not tinytorch.is_autocast_enabled("cuda")
        assert tinytorch.get_autocast_dtype("cpu") == tinytorch.float16
        with tinytorch.autocast("cpu", enabled=False):
            assert not tinytorch.is_autocast_enabled("cpu")
            assert tinytorch.mm(x, m).dtype == tinytorch.float32
            assert tinytorch.autocast_increment_nesting() == 3  # two regions, then this call
            assert tinytorch.autocast_decrement_nesting() == 2
        assert tinytorch.mm(x, m).dtype == tinytorch.float16
    assert not tinytorch.is_autocast_enabled("cpu")
    assert tinytorch.get_autocast_dtype("cpu") is None  # bfloat16 in PyTorch, which tinytorch lacks
    assert tinytorch.mm(x, m).dtype == tinytorch.float32


def test_decorator_and_thread_local_state():
    @tinytorch.autocast("cpu", dtype=tinytorch.float16)
    def product(a, b):
        return tinytorch.mm(a, b)

    x, m = tinytorch.randn(3, 4), tinytorch.randn(4, 2)
    assert product(x, m).dtype == tinytorch.float16
    assert tinytorch.mm(x, m).dtype == tinytorch.float32
    seen = {}

    def other_thread():
        seen["enabled"] = tinytorch.is_autocast_enabled("cpu")
        seen["dtype"] = tinytorch.mm(x, m).dtype
        seen["nesting"] = tinytorch.autocast_increment_nesting()
        tinytorch.autocast_decrement_nesting()

    with tinytorch.autocast("cpu", dtype=tinytorch.float16):
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
        assert tinytorch.mm(x, m).dtype == tinytorch.float16
    assert seen == {"enabled": False, "dtype": tinytorch.float32, "nesting": 1}
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError) as theirs:
        torch.autocast("cpu", dtype=torch.float16)(3)
    with pytest.raises(TypeError) as ours:
        tinytorch.autocast("cpu", dtype=tinytorch.float16)(3)
    assert str(ours.value) == str(theirs.value)


def test_weight_casts_are_cached_within_the_outermost_region():
    weight = tinytorch.randn(5, 4, requires_grad=True)
    x = tinytorch.randn(3, 4)
    with tinytorch.autocast("cpu", dtype=tinytorch.float16):
        first, second = F.linear(x, weight), F.linear(x, weight)
        assert first.grad_fn.next_functions[1][0] is second.grad_fn.next_functions[1][0]  # one cast of the weight
        with tinytorch.autocast("cpu", dtype=tinytorch.float16, cache_enabled=False):
            third = F.linear(x, weight)
        assert third.grad_fn.next_functions[1][0] is not first.grad_fn.next_functions[1][0]
    assert not _policy._cache  # cleared at the outermost exit
    (first.float().sum() + second.float().sum()).backward()
    np.testing.assert_allclose(weight.grad.numpy(), 2 * x.numpy().sum(0, keepdims=True).repeat(5, 0), rtol=1e-2)


def test_state_functions_match_torch():
    libraries = _libraries()
    for lib in libraries:
        assert lib.is_autocast_enabled() is False and lib.is_autocast_cache_enabled() is True
        lib.set_autocast_enabled("cpu", True)
        lib.set_autocast_dtype("cpu", lib.float16)
        lib.set_autocast_cache_enabled(False)
        assert lib.is_autocast_enabled("cpu") and lib.get_autocast_dtype("cpu") == lib.float16
        assert not lib.is_autocast_cache_enabled()
        lib.set_autocast_enabled(True)  # the old form: cuda
        assert lib.is_autocast_enabled() and lib.is_autocast_enabled("cuda:0")
        lib.set_autocast_enabled(False)
        lib.set_autocast_enabled("cpu", False)
        lib.set_autocast_cache_enabled(True)
        assert lib.get_autocast_dtype("cuda") == lib.float16
        with pytest.warns(DeprecationWarning, match=r"get_autocast_gpu_dtype\(\) is deprecated"):
            assert lib.get_autocast_gpu_dtype() == lib.float16
        with pytest.warns(DeprecationWarning, match=r"is_autocast_cpu_enabled\(\) is deprecated"):
            assert lib.is_autocast_cpu_enabled() is False
        lib.clear_autocast_cache()
    tinytorch.set_autocast_dtype("cpu", tinytorch.float32)  # PyTorch accepts any dtype here
    assert tinytorch.get_autocast_dtype("cpu") == tinytorch.float32
    _policy.state.dtype["cpu"] = None
    if len(libraries) > 1:
        libraries[1].set_autocast_dtype("cpu", libraries[1].bfloat16)  # torch's default back


@pytest.mark.parametrize("call", [
    lambda lib: lib.is_autocast_enabled("foo"),
    lambda lib: lib.is_autocast_enabled(1),
    lambda lib: lib.is_autocast_enabled("meta"),
    lambda lib: lib.get_autocast_dtype(1),
    lambda lib: lib.set_autocast_enabled("cpu", 1),
    lambda lib: lib.set_autocast_enabled(1),
    lambda lib: lib.set_autocast_dtype("cpu", 3),
    lambda lib: lib.set_autocast_cache_enabled(1),
    lambda lib: lib.autocast(1),
    lambda lib: lib.autocast("hip"),
    lambda lib: lib.autocast("foo"),
    lambda lib: lib.amp.custom_fwd(device_type=1),
    lambda lib: lib.amp.GradScaler("cpu", growth_factor=1.0),
    lambda lib: lib.amp.GradScaler("cpu", backoff_factor=1.0),
])
def test_bad_arguments_raise_torchs_errors(call):
    torch = pytest.importorskip("torch")
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(Exception) as ours:
        call(tinytorch)
    assert type(ours.value) is type(theirs.value)
    assert str(ours.value) == str(theirs.value)


def test_unsupported_dtype_warns_and_disables():
    with pytest.warns(UserWarning, match="In CPU autocast, but the target dtype is not supported. Disabling autocast.") as record:
        region = tinytorch.autocast("cpu")  # PyTorch's default there is bfloat16
    assert "pass dtype=torch.float16" in str(record[0].message)
    with region:
        assert not tinytorch.is_autocast_enabled("cpu")
        assert tinytorch.mm(tinytorch.randn(2, 2), tinytorch.randn(2, 2)).dtype == tinytorch.float32
    for lib in _libraries():
        with pytest.warns(UserWarning, match="In CPU autocast, but the target dtype is not supported"):
            assert lib.autocast("cpu", dtype=lib.float32)._enabled is False
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert lib.autocast("cpu", dtype=lib.float64, enabled=False)._enabled is False


def test_deprecated_forms_warn_as_torch():
    for lib in _libraries():
        with pytest.warns(FutureWarning, match=r"`torch.cpu.amp.autocast\(args...\)` is deprecated"):
            region = lib.cpu.amp.autocast(dtype=lib.float16)
        with region:
            assert lib.is_autocast_enabled("cpu")
        with pytest.warns(FutureWarning, match=r"`torch.cpu.amp.GradScaler\(args...\)` is deprecated"):
            assert lib.cpu.amp.GradScaler().is_enabled()
        with pytest.warns(FutureWarning, match=r"`torch.cuda.amp.custom_fwd\(args...\)` is deprecated"):
            lib.cuda.amp.custom_fwd(lambda ctx, x: x)
        with pytest.warns(FutureWarning, match=r"`torch.cuda.amp.custom_bwd\(args...\)` is deprecated"):
            lib.cuda.amp.custom_bwd(lambda ctx, x: x)


@pytest.mark.skipif(tinytorch.cuda.is_available(), reason="checks the behaviour without a GPU")
def test_cuda_forms_without_a_gpu_warn_and_disable():
    for lib in _libraries():
        with pytest.warns(UserWarning, match="CUDA is not available or torch_xla is imported. Disabling autocast."):
            assert lib.autocast("cuda")._enabled is False
        with pytest.warns(UserWarning, match="torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  Disabling."):
            scaler = lib.amp.GradScaler()
        assert not scaler.is_enabled() and scaler.state_dict() == {} and scaler.get_scale() == 1.0
        with pytest.warns(FutureWarning, match=r"`torch.cuda.amp.GradScaler\(args...\)` is deprecated"):
            lib.cuda.amp.GradScaler()
        with pytest.warns(FutureWarning, match=r"`torch.cuda.amp.autocast\(args...\)` is deprecated"):
            lib.cuda.amp.autocast()


def _custom_function(lib):
    class Product(lib.autograd.Function):
        @staticmethod
        @lib.amp.custom_fwd(device_type="cpu", cast_inputs=lib.float32)
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            ctx.inside = lib.is_autocast_enabled("cpu")
            return a.mm(b)

        @staticmethod
        @lib.amp.custom_bwd(device_type="cpu")
        def backward(ctx, grad):
            a, b = ctx.saved_tensors
            ctx.backward_inside = lib.is_autocast_enabled("cpu")
            return grad.mm(b.t()), a.t().mm(grad)

    return Product


def test_custom_fwd_casts_inputs_and_runs_without_autocast():
    for lib in _libraries():
        a = lib.ones(2, 3, dtype=lib.float16, requires_grad=True)
        b = lib.ones(3, 2, requires_grad=True)
        with lib.autocast("cpu", dtype=lib.float16):
            out = _custom_function(lib).apply(a, b)
        assert out.dtype == lib.float32 and out.grad_fn.inside is False
        out.sum().backward()
        assert out.grad_fn.backward_inside is False and a.grad.dtype == lib.float16
        assert float(a.grad.sum()) == 12.0


# -- GradScaler -----------------------------------------------------------------------------------
def _train(lib, steps, inf_at, **scaler_args):
    """A few SGD steps with a GradScaler; step ``inf_at`` gets an inf gradient. Returns the trajectory."""
    model = lib.nn.Linear(3, 2)
    with lib.no_grad():
        model.weight.copy_(lib.tensor([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]]))
        model.bias.copy_(lib.tensor([0.01, -0.02]))
    optimizer = lib.optim.SGD(model.parameters(), lr=0.1)
    scaler = lib.amp.GradScaler("cpu", **scaler_args)
    x = lib.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]])
    trajectory = []
    for step in range(steps):
        optimizer.zero_grad()
        loss = model(x).pow(2).mean() * (float("inf") if step in inf_at else 1.0)
        scaled = scaler.scale(loss)
        scaled.backward()
        result = scaler.step(optimizer)
        scaler.update()
        trajectory.append((scaler.get_scale(), scaler._get_growth_tracker(), result,
                           model.weight.detach().numpy().copy(), model.bias.detach().numpy().copy()))
    return trajectory, scaler


def test_grad_scaler_trajectory_matches_torch():
    ours, scaler = _train(tinytorch, 7, {2, 5}, init_scale=256.0, growth_interval=2)
    scales = [step[0] for step in ours]
    assert scales == [256.0, 512.0, 256.0, 256.0, 512.0, 256.0, 256.0]  # growth after 2 clean steps, backoff on inf
    assert [step[1] for step in ours] == [1, 0, 0, 1, 0, 0, 1]
    np.testing.assert_array_equal(ours[2][3], ours[1][3])  # the inf step was skipped
    torch = pytest.importorskip("torch")
    theirs, torch_scaler = _train(torch, 7, {2, 5}, init_scale=256.0, growth_interval=2)
    for mine, reference in zip(ours, theirs):
        assert mine[:3] == reference[:3]
        np.testing.assert_allclose(mine[3], reference[3], rtol=1e-6)
        np.testing.assert_allclose(mine[4], reference[4], rtol=1e-6)
    assert scaler.state_dict() == torch_scaler.state_dict()


def test_grad_scaler_unscale_then_step_and_new_scale():
    for lib in _libraries():
        weight = lib.nn.Parameter(lib.tensor([1.0, 2.0]))
        optimizer = lib.optim.SGD([weight], lr=1.0)
        scaler = lib.amp.GradScaler("cpu", init_scale=4.0)
        scaler.scale((weight * weight).sum()).backward()
        assert weight.grad.tolist() == [8.0, 16.0]
        scaler.unscale_(optimizer)
        assert weight.grad.tolist() == [2.0, 4.0]
        scaler.step(optimizer)
        assert weight.tolist() == [-1.0, -2.0]
        scaler.update(new_scale=3.0)
        assert scaler.get_scale() == 3.0
        scaler.scale(weight.sum()).backward()
        scaler.step(optimizer)
        scaler.update(lib.tensor(5.0))
        assert scaler.get_scale() == 5.0
        scales = scaler.scale([weight.sum(), (weight.sum(), weight.sum())])
        assert isinstance(scales, list) and isinstance(scales[1], tuple) and float(scales[1][0]) == -35.0  # (grads accumulated: no zero_grad)


def test_grad_scaler_state_machine_errors_match_torch():
    for lib in _libraries():
        weight = lib.nn.Parameter(lib.tensor([1.0, 2.0]))
        optimizer = lib.optim.SGD([weight], lr=0.1)
        scaler = lib.amp.GradScaler("cpu")
        with pytest.raises(AssertionError, match=r"Attempted unscale_ but _scale is None.  This may indicate"):
            scaler.unscale_(optimizer)
        with pytest.raises(AssertionError, match=r"Attempted update but _scale is None"):
            scaler.update()
        scaler.scale(weight.sum()).backward()
        with pytest.raises(RuntimeError, match=r"^Closure use is not currently supported if GradScaler is enabled.$"):
            scaler.step(optimizer, closure=lambda: None)
        with pytest.raises(AssertionError, match=r"^No inf checks were recorded prior to update.$"):
            scaler.update()
        scaler.unscale_(optimizer)
        with pytest.raises(RuntimeError, match=r"^unscale_\(\) has already been called on this optimizer since the last update\(\).$"):
            scaler.unscale_(optimizer)
        scaler.step(optimizer)
        with pytest.raises(RuntimeError, match=r"^unscale_\(\) is being called after step\(\).$"):
            scaler.unscale_(optimizer)
        with pytest.raises(RuntimeError, match=r"^step\(\) has already been called since the last update\(\).$"):
            scaler.step(optimizer)
        with pytest.raises(AssertionError, match="A GradScaler instance may only be pickled"):
            pickle.dumps(scaler)
        scaler.update()
        copy = pickle.loads(pickle.dumps(scaler))
        assert copy.get_scale() == scaler.get_scale() and copy._scale is None
        half = lib.nn.Parameter(lib.tensor([1.0], dtype=lib.float16))
        half.grad = lib.tensor([1.0], dtype=lib.float16)
        with pytest.raises(ValueError, match=r"^Attempting to unscale FP16 gradients.$"):
            scaler.unscale_(lib.optim.SGD([half], lr=0.1))
        with pytest.raises(RuntimeError, match="The source state dict is empty"):
            scaler.load_state_dict({})


def test_grad_scaler_state_dict_round_trip_and_disabled_passthrough():
    for lib in _libraries():
        scaler = lib.amp.GradScaler("cpu", init_scale=8.0, growth_interval=3)
        assert scaler.state_dict() == {"scale": 8.0, "growth_factor": 2.0, "backoff_factor": 0.5,
                                       "growth_interval": 3, "_growth_tracker": 0}
        scaler.load_state_dict({"scale": 32.0, "growth_factor": 4.0, "backoff_factor": 0.25, "growth_interval": 5,
                                "_growth_tracker": 2})
        weight = lib.nn.Parameter(lib.tensor([1.0]))
        assert float(scaler.scale(weight * 1.0)) == 32.0
        assert scaler.get_growth_factor() == 4.0 and scaler.get_backoff_factor() == 0.25
        assert scaler.get_growth_interval() == 5 and scaler._get_growth_tracker() == 2
        disabled = lib.amp.GradScaler("cpu", enabled=False)
        loss = weight.sum()
        assert disabled.scale(loss) is loss and disabled.get_scale() == 1.0 and disabled.state_dict() == {}
        loss.backward()
        optimizer = lib.optim.SGD([weight], lr=1.0)
        disabled.unscale_(optimizer)
        disabled.step(optimizer)
        disabled.update()
        assert weight.tolist() == [0.0]


# -- CUDA (a GPU, or the fake one: TINYTORCH_FAKE_CUDA=1) --------------------------------------------
def test_cuda_autocast_uses_cudas_list(device):
    if device != "cuda":
        pytest.skip("CUDA's op list applies to cuda tensors")
    x, w = tinytorch.randn(3, 4, device=device), tinytorch.randn(5, 4, device=device, requires_grad=True)
    cpu_x = tinytorch.randn(3, 4)
    with tinytorch.autocast("cuda"):
        assert tinytorch.get_autocast_dtype("cuda") == tinytorch.float16
        out = F.linear(x, w)
        assert out.dtype == tinytorch.float16 and out.device.type == "cuda"
        assert F.softmax(out, -1).dtype == tinytorch.float32  # fp32_set_opt_dtype on CUDA
        assert F.softmax(out, -1, dtype=tinytorch.float16).dtype == tinytorch.float16  # an explicit dtype wins
        assert F.layer_norm(out, (5,)).dtype == tinytorch.float32
        assert tinytorch.dot(x[0], x[0].half()).dtype == tinytorch.float32  # promote
        assert tinytorch.mm(cpu_x, cpu_x.t()).dtype == tinytorch.float32  # cpu tensors: the CPU's autocast is off
        with pytest.raises(RuntimeError, match="unsafe to autocast"):
            F.binary_cross_entropy(out.sigmoid(), out.sigmoid())
        loss = F.cross_entropy(out, tinytorch.tensor([0, 1, 2], device=device))
    assert loss.dtype == tinytorch.float32
    loss.backward()
    assert w.grad.dtype == tinytorch.float32 and w.grad.device.type == "cuda"


def test_cuda_grad_scaler_skips_inf_steps(device):
    if device != "cuda":
        pytest.skip("GradScaler('cuda') needs a GPU")
    weight = tinytorch.nn.Parameter(tinytorch.tensor([1.0, 2.0], device=device))
    optimizer = tinytorch.optim.SGD([weight], lr=1.0)
    scaler = tinytorch.amp.GradScaler(init_scale=4.0, growth_interval=1)
    scaler.scale(weight.sum()).backward()
    scaler.step(optimizer)
    scaler.update()
    assert weight.tolist() == [0.0, 1.0] and scaler.get_scale() == 8.0
    optimizer.zero_grad()
    scaler.scale(weight.sum() * float("inf")).backward()
    assert scaler.step(optimizer) is None
    scaler.update()
    assert weight.tolist() == [0.0, 1.0] and scaler.get_scale() == 4.0
    assert scaler._scale.device.type == "cuda"


def test_grad_scaler_unscales_sparse_gradients():
    for lib in _libraries():
        embedding = lib.nn.Embedding(5, 2, sparse=True)
        optimizer = lib.optim.SGD(embedding.parameters(), lr=1.0)
        scaler = lib.amp.GradScaler("cpu", init_scale=8.0)
        scaler.scale(embedding(lib.tensor([1, 2, 1])).sum()).backward()
        scaler.unscale_(optimizer)
        assert embedding.weight.grad.is_sparse
        assert embedding.weight.grad.to_dense().sum(1).tolist() == [0.0, 4.0, 2.0, 0.0, 0.0]


def _self_scaling_optimizer(lib, seen):
    class SelfScaling(lib.optim.SGD):
        _step_supports_amp_scaling = True

        def step(self, closure=None):
            seen.append((float(self.grad_scale), float(self.found_inf)))

    return SelfScaling


def test_grad_scaler_hands_scale_and_found_inf_to_a_self_scaling_optimizer():
    torch = pytest.importorskip("torch")
    results = []
    for lib in (tinytorch, torch):
        seen = []
        weight = lib.nn.Parameter(lib.tensor([1.0]))
        optimizer = _self_scaling_optimizer(lib, seen)([weight], lr=1.0)
        scaler = lib.amp.GradScaler("cpu", init_scale=4.0)
        for factor in (1.0, float("inf")):
            optimizer.zero_grad()
            scaler.scale(weight.sum() * factor).backward()
            scaler.step(optimizer)
            assert not hasattr(optimizer, "grad_scale") and not hasattr(optimizer, "found_inf")
            scaler.update()
        results.append((seen, scaler.get_scale(), weight.grad.tolist()))
    assert _same(results)
    assert results[0][0] == [(4.0, 0.0), (4.0, 1.0)]  # the optimizer, not the scaler, skips on inf


def test_the_deprecated_submodules_import_as_training_scripts_write_them():
    from tinytorch.cpu.amp import autocast as cpu_autocast
    from tinytorch.cuda.amp import GradScaler, autocast

    assert GradScaler is tinytorch.cuda.amp.GradScaler and autocast is tinytorch.cuda.amp.autocast
    assert cpu_autocast is tinytorch.cpu.amp.autocast
