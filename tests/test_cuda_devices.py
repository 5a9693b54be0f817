"""``tinytorch.cuda``'s device management (``set_device``, ``device``, ``device_of``, properties,
memory, streams and events) and PyTorch's rule that an op, its backward and an optimizer's update
run on the tensors' GPU whatever the current GPU is.

Without a GPU the errors and CPU answers are checked against PyTorch's CPU build. Several GPUs run
on tests/fake_cupy.py with two fake devices in a subprocess (the fake must be installed before
tinytorch is imported); the fake refuses a kernel whose operand lives on another GPU than the
current one (CuPy without peer access), so a missing device switch fails there.
"""

import sys

import numpy as np
import pytest

import tinytorch
from tinytorch import cuda

NO_GPU = pytest.mark.skipif(cuda.is_available(), reason="the CPU behaviour: no CUDA device")


@NO_GPU
def test_without_a_gpu_the_device_functions_answer_or_refuse_as_torch():
    torch = pytest.importorskip("torch")
    for call in (lambda lib: lib.cuda.set_device("cpu"), lambda lib: lib.cuda.set_device("cuda"),
                 lambda lib: lib.cuda.set_device(1.5)):
        with pytest.raises(ValueError) as theirs:
            call(torch)
        with pytest.raises(ValueError) as ours:
            call(tinytorch)
        assert str(ours.value) == str(theirs.value)
    assert cuda.set_device(-1) is None and torch.cuda.set_device(-1) is None
    assert cuda.device("cuda:1").idx == torch.cuda.device("cuda:1").idx == 1
    assert cuda.device(-1).idx == torch.cuda.device(-1).idx == -1
    assert cuda.device_of(tinytorch.zeros(1)).idx == torch.cuda.device_of(torch.zeros(1)).idx == -1
    with cuda.device(-1), cuda.stream(None):
        pass
    for name in ("memory_allocated", "memory_reserved", "is_bf16_supported", "is_initialized", "empty_cache", "seed",
                 "seed_all"):
        assert getattr(cuda, name)() == getattr(torch.cuda, name)(), name
    # The GPUs' generators only, as PyTorch: the CPU's draws are unchanged.
    tinytorch.manual_seed(5)
    expected = tinytorch.rand(3).tolist()
    tinytorch.manual_seed(5)
    cuda.manual_seed(6), cuda.manual_seed_all(7), cuda.seed(), cuda.seed_all()
    assert tinytorch.rand(3).tolist() == expected
    for call in (cuda.current_device, lambda: cuda.set_device(0), cuda.Stream, cuda.Event, cuda.current_stream,
                 cuda.default_stream, cuda.get_device_properties, cuda.get_device_capability, cuda.get_device_name,
                 cuda.mem_get_info, cuda.init, cuda.initial_seed, lambda: cuda.can_device_access_peer(0, 1)):
        with pytest.raises(RuntimeError, match="not compiled with CUDA|no NVIDIA driver|CuPy sees no CUDA GPU"):
            call()


def test_the_namespace_has_torch_names():
    torch = pytest.importorskip("torch")
    for name in ("set_device", "current_device", "device", "device_of", "get_device_properties",
                 "get_device_capability", "get_device_name", "memory_allocated", "memory_reserved", "empty_cache",
                 "mem_get_info", "Stream", "Event", "current_stream", "default_stream", "stream", "set_stream",
                 "StreamContext", "is_bf16_supported", "is_initialized", "init", "manual_seed", "manual_seed_all", "seed",
                 "seed_all", "initial_seed", "can_device_access_peer"):
        assert hasattr(torch.cuda, name) and hasattr(cuda, name), name
    assert cuda.device.__name__ == "device"


# -- one GPU (the fake under TINYTORCH_FAKE_CUDA=1, or a real one) -------------------------------------
@pytest.mark.skipif(not cuda.is_available(), reason="needs a CUDA device (or TINYTORCH_FAKE_CUDA=1)")
def test_cuda_streams_events_memory_and_properties():
    assert cuda.current_device() == 0 and cuda.set_device(0) is None
    properties = cuda.get_device_properties(0)
    assert properties.name == cuda.get_device_name() and isinstance(properties.total_memory, int)
    assert cuda.get_device_capability() == (properties.major, properties.minor)
    assert "total_memory=" in repr(properties)
    x = tinytorch.ones(1000, device="cuda")
    assert cuda.memory_allocated() >= 0 and cuda.memory_reserved() >= cuda.memory_allocated()
    free, total = cuda.mem_get_info()
    assert 0 <= free <= total
    start, end = cuda.Event(enable_timing=True), cuda.Event(enable_timing=True)
    start.record()
    (x * 2).sum()
    end.record()
    end.synchronize()
    assert start.query() and end.query() and start.elapsed_time(end) >= 0
    with pytest.raises(RuntimeError, match="enable_timing=True"):
        cuda.Event().elapsed_time(end)
    with pytest.raises(ValueError, match="must be recorded"):
        cuda.Event(enable_timing=True).elapsed_time(end)
    cuda.manual_seed(11)
    assert cuda.initial_seed() == 11
    first = tinytorch.rand(4, device="cuda").tolist()
    cuda.manual_seed_all(11)
    assert tinytorch.rand(4, device="cuda").tolist() == first
    tinytorch.manual_seed(3)
    on_cpu = tinytorch.rand(2).tolist()
    tinytorch.manual_seed(3)
    cuda.manual_seed(12)
    assert tinytorch.rand(2).tolist() == on_cpu  # the CPU's generator is not the GPU's
    assert cuda.can_device_access_peer(0, 0) is False
    side = cuda.Stream()
    assert cuda.current_stream() == cuda.default_stream() and side != cuda.default_stream()
    with cuda.stream(side):
        assert cuda.current_stream() == side
        y = x + 1
    assert cuda.current_stream() == cuda.default_stream()
    side.wait_stream(cuda.current_stream())
    event = side.record_event()
    event.wait()
    side.synchronize()
    assert side.query() and side.device == tinytorch.device("cuda", 0)
    assert float(y.sum()) == 2000.0
    cuda.empty_cache()


# -- several GPUs ----------------------------------------------------------------------------------
def _optimizers(params):
    optim = tinytorch.optim
    return [
        optim.SGD(params, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01), optim.Adam(params, lr=0.1),
        optim.AdamW(params, lr=0.1, amsgrad=True), optim.Adamax(params, lr=0.1), optim.Adagrad(params, lr=0.1),
        optim.Adadelta(params), optim.RMSprop(params, lr=0.1, momentum=0.5, centered=True), optim.Rprop(params, lr=0.1),
        optim.NAdam(params, lr=0.1), optim.RAdam(params, lr=0.1), optim.ASGD(params, lr=0.1),
        optim.Adafactor(params, lr=0.1), optim.Muon(params, lr=0.1),
    ]


def _several_gpu_checks():
    """Ops, backward and updates on cuda:1 while cuda:0 is current (and the other way round) give
    cuda:1 tensors with the CPU's values, and leave the current GPU as it was."""
    from tinytorch import nn

    assert cuda.device_count() >= 2 and cuda.current_device() == 0
    gpu1 = tinytorch.device("cuda", 1)
    tinytorch.manual_seed(0)
    data = tinytorch.randn(4, 3)
    x = data.to(gpu1).requires_grad_()
    y = (x * 2).exp().sum()
    assert y.device == gpu1
    y.backward()
    assert x.grad.device == gpu1 and cuda.current_device() == 0
    expected = data.clone().requires_grad_()
    (expected * 2).exp().sum().backward()
    assert np.allclose(x.grad.cpu().numpy(), expected.grad.numpy())
    (g,) = tinytorch.autograd.grad((x * x).sum(), x)
    assert g.device == gpu1 and np.allclose(g.cpu().numpy(), 2 * data.numpy())

    # A model split over two GPUs (PyTorch's model-parallel tutorial), against the same on the CPU.
    def split(device_a, device_b):
        tinytorch.manual_seed(1)
        first, second = nn.Linear(3, 5).to(device_a), nn.Linear(5, 2).to(device_b)
        out = second(tinytorch.relu(first(data.to(device_a))).to(device_b))
        nn.functional.cross_entropy(out, tinytorch.tensor([0, 1, 1, 0], device=device_b)).backward()
        return first, second

    first, second = split("cuda:0", "cuda:1")
    reference_first, reference_second = split("cpu", "cpu")
    assert first.weight.grad.device == tinytorch.device("cuda", 0) and second.weight.grad.device == gpu1
    assert np.allclose(second.weight.grad.cpu().numpy(), reference_second.weight.grad.numpy(), atol=1e-6)
    assert np.allclose(first.weight.grad.cpu().numpy(), reference_first.weight.grad.numpy(), atol=1e-6)

    # Every optimizer updates a cuda:1 parameter there, as on the CPU.
    start = tinytorch.randn(3, 4)
    for ours, reference in zip(_optimizers([start.to(gpu1).requires_grad_()]), _optimizers([start.clone().requires_grad_()])):
        for optimizer in (ours, reference):
            (param,) = optimizer.param_groups[0]["params"]
            for _ in range(2):
                optimizer.zero_grad()
                (param * param).sum().backward()
                optimizer.step()
        (param,), (expected_param,) = ours.param_groups[0]["params"], reference.param_groups[0]["params"]
        assert param.device == gpu1 and cuda.current_device() == 0, type(ours).__name__
        assert np.allclose(param.detach().cpu().numpy(), expected_param.detach().numpy(), atol=1e-5), type(ours).__name__
    # Loading a checkpoint into a cuda:1 model, and the usual utilities on its parameters.
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.LazyLinear(2)).to(gpu1)
    model(tinytorch.randn(2, 3, 6, 6, device=gpu1)).sum().backward()
    assert nn.utils.clip_grad_norm_(model.parameters(), 1.0).device == gpu1
    state = {key: value.cpu() * 0 for key, value in model.state_dict().items()}
    model.load_state_dict(state)
    assert all(p.device == gpu1 and float(p.abs().sum()) == 0 for p in model.parameters())
    nn.init.orthogonal_(model[0].weight)
    # An optimizer resumed from its state_dict, zero_grad to zeros and a GradScaler step, on cuda:1.
    optimizer = tinytorch.optim.Adam(model.parameters())
    scaler = tinytorch.amp.GradScaler("cuda")
    for _ in range(2):
        optimizer.zero_grad(set_to_none=False)
        scaler.scale(model(tinytorch.randn(2, 3, 6, 6, device=gpu1)).sum()).backward()
        scaler.step(optimizer)
        scaler.update()
    resumed = tinytorch.optim.Adam(model.parameters())
    resumed.load_state_dict(optimizer.state_dict())
    model(tinytorch.randn(2, 3, 6, 6, device=gpu1)).sum().backward()
    resumed.step()
    assert resumed.state[model[0].weight]["exp_avg"].device == gpu1 and cuda.current_device() == 0
    embedding = nn.Embedding(5, 2, sparse=True).to(gpu1)
    sparse = tinytorch.optim.SparseAdam(embedding.parameters(), lr=0.1)
    embedding(tinytorch.tensor([1, 3], device=gpu1)).sum().backward()
    sparse.step()
    assert embedding.weight.device == gpu1

    # The current GPU: set_device, the device context, a plain "cuda".
    cuda.set_device(1)
    assert cuda.current_device() == 1 and tinytorch.zeros(2, device="cuda").device == gpu1
    on_one = tinytorch.ones(2).cuda()
    assert on_one.device == gpu1 and on_one.to("cuda") is on_one
    with cuda.device(0):
        assert cuda.current_device() == 0 and tinytorch.ones(1, device="cuda").device == tinytorch.device("cuda", 0)
        z = on_one * 3  # cuda:1 data while cuda:0 is current
        assert z.device == gpu1
    assert cuda.current_device() == 1
    with cuda.device_of(tinytorch.ones(1, device="cuda:0")):
        assert cuda.current_device() == 0
    cuda.manual_seed(21)  # the current GPU's generator only
    assert cuda.initial_seed() == 21
    cuda.set_device(0)
    assert cuda.initial_seed() != 21
    cuda.manual_seed_all(22)
    assert tinytorch.rand(3, device="cuda:0").tolist() == tinytorch.rand(3, device="cuda:1").tolist()
    assert isinstance(cuda.can_device_access_peer(0, 1), bool) and cuda.can_device_access_peer(1, 1) is False
    assert cuda.get_device_properties(1).name == cuda.get_device_name(1)
    assert cuda.default_stream(1).device == gpu1 and cuda.Stream(device=1).device == gpu1

    # DataParallel with the output gathered on cuda:1 backpropagates.
    model = nn.Linear(3, 2).to("cuda:0")
    parallel = nn.DataParallel(model, device_ids=[0, 1], output_device=1)
    out = parallel(data.to("cuda:0"))
    assert out.device == gpu1
    out.sum().backward()
    assert model.weight.grad.device == tinytorch.device("cuda", 0)
    assert np.allclose(model.weight.grad.cpu().numpy(), data.numpy().sum(0)[None].repeat(2, 0), atol=1e-5)


def _fake_is_strict():
    """The fake refuses an operand on another GPU (so the checks above can fail), as CuPy does
    between GPUs without peer access."""
    import cupy

    assert cuda.can_device_access_peer(0, 1) is False

    with cupy.cuda.Device(1):
        on_one = cupy.ones(3)
    try:
        on_one * 2
    except ValueError as error:
        assert "different from the current device (0)" in str(error)
    else:
        raise AssertionError("the fake ran a kernel on another GPU's array")


@pytest.mark.skipif(cuda.device_count() < 2, reason="needs two CUDA devices")
def test_several_gpus():
    _several_gpu_checks()


@pytest.mark.skipif("cupy" in sys.modules, reason="CuPy (or the one-device fake) is already imported here")
def test_several_gpus_on_two_fake_gpus():
    from tests import fake_cupy

    fake_cupy.run_on_fake_gpus("tests.test_cuda_devices", "_fake_is_strict", "_several_gpu_checks")
