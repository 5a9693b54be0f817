"""nn.DataParallel and torch.nn.parallel's functions (scatter, gather, replicate, parallel_apply,
data_parallel).

Without a GPU (the CPU cases) DataParallel must be PyTorch's exact pass-through, checked against
torch's own DataParallel. The multi-GPU path runs on tests/fake_cupy.py with two fake devices in a
subprocess (the fake must be installed before tinytorch is imported), and in-process on a machine
with two real GPUs.
"""

import collections
import sys
import warnings

import numpy as np
import pytest

import tinytorch
from tinytorch import nn

from .helpers import numpy_of

NO_GPU = pytest.mark.skipif(tinytorch.cuda.is_available(), reason="the CPU behaviour: no CUDA device")


def _mlp(lib):
    return lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Dropout(0.0), lib.nn.Linear(4, 2))


def _copy_weights(ours, theirs):
    for (name, ours_p), (their_name, their_p) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
        assert name == their_name
        ours_p.data = tinytorch.tensor(their_p.detach().numpy().copy())


# -- the CPU: DataParallel calls the module --------------------------------------------------------
@NO_GPU
def test_cpu_data_parallel_matches_torch():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    theirs = torch.nn.DataParallel(_mlp(torch))
    ours = nn.DataParallel(_mlp(tinytorch))
    _copy_weights(ours.module, theirs.module)
    assert repr(ours) == repr(theirs)
    assert ours.device_ids == theirs.device_ids == []
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [name for name, _ in ours.named_parameters()] == [name for name, _ in theirs.named_parameters()]
    for attribute in ("dim", "output_device", "src_device_obj"):  # set only when a GPU is used
        assert not hasattr(ours, attribute) and not hasattr(theirs, attribute)

    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    ours_out, their_out = ours(tinytorch.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(numpy_of(ours_out), numpy_of(their_out), rtol=1e-5, atol=1e-6)
    ours_out.pow(2).sum().backward()
    their_out.pow(2).sum().backward()
    for ours_p, their_p in zip(ours.parameters(), theirs.parameters(), strict=True):
        np.testing.assert_allclose(numpy_of(ours_p.grad), numpy_of(their_p.grad), rtol=1e-5, atol=1e-6)

    assert ours.eval() is ours and not ours.module[0].training and not ours.training
    theirs.eval()
    assert ours.module[3].training == theirs.module[3].training
    ours.train()
    assert ours.module[2].training


@NO_GPU
def test_cpu_data_parallel_passes_keyword_arguments_and_loads_state_dict():
    class Scale(nn.Module):
        def forward(self, x, factor=1.0):
            return x * factor

    x = tinytorch.arange(6.0).reshape(3, 2)
    out = nn.DataParallel(Scale(), device_ids=[0, 1], output_device=1, dim=1)(x, factor=tinytorch.tensor(2.0))
    np.testing.assert_array_equal(numpy_of(out), np.arange(6.0).reshape(3, 2) * 2)
    wrapped = nn.parallel.DataParallel(nn.Linear(2, 2))
    plain = nn.Linear(2, 2)
    plain.load_state_dict({key.removeprefix("module."): value for key, value in wrapped.state_dict().items()})
    np.testing.assert_array_equal(numpy_of(plain(x)), numpy_of(wrapped(x)))


def _same_error(call_ours, call_theirs):
    """Both raise the same exception type with the same message; returns the message."""
    with pytest.raises(Exception) as ours:
        call_ours()
    with pytest.raises(Exception) as theirs:
        call_theirs()
    assert type(ours.value) is type(theirs.value)
    assert str(ours.value) == str(theirs.value)
    return str(ours.value)


@NO_GPU
def test_cpu_errors_match_torch():
    torch = pytest.importorskip("torch")
    P, TP = nn.parallel, torch.nn.parallel
    x, tx = tinytorch.ones(4, 3), torch.ones(4, 3)
    m, tm = nn.Linear(3, 2), torch.nn.Linear(3, 2)
    assert "CPU tensors" in _same_error(lambda: P.gather([x, x], 0), lambda: TP.gather([tx, tx], 0))
    assert "CPU tensors" in _same_error(lambda: P.replicate(m, [0, 1]), lambda: TP.replicate(tm, [0, 1]))
    _same_error(lambda: P.replicate(m, ["cpu"]), lambda: TP.replicate(tm, ["cpu"]))
    _same_error(lambda: P.gather([{"a": 1}, {"a": 1, "b": 2}], 0), lambda: TP.gather([{"a": 1}, {"a": 1, "b": 2}], 0))
    _same_error(lambda: P.parallel_apply([m, m], [x]), lambda: TP.parallel_apply([tm, tm], [tx]))
    _same_error(lambda: P.parallel_apply([m], [x], [{}, {}]), lambda: TP.parallel_apply([tm], [tx], [{}, {}]))
    _same_error(lambda: P.parallel_apply([m], [x], None, [0, 1]), lambda: TP.parallel_apply([tm], [tx], None, [0, 1]))
    _same_error(lambda: P.parallel_apply([m], [x]), lambda: TP.parallel_apply([tm], [tx]))
    _same_error(lambda: P.data_parallel(m, x), lambda: TP.data_parallel(tm, tx))
    assert P.replicate(m, []) == TP.replicate(tm, []) == []
    # torch's CPU-only build fails inside its C++ scatter; tinytorch says it has no CUDA.
    with pytest.raises(RuntimeError):
        P.scatter(x, [0, 1])


def test_scatter_and_gather_of_non_tensors_match_torch():
    torch = pytest.importorskip("torch")
    P, TP = nn.parallel, torch.nn.parallel
    for obj in (5, "text", None, [], (), {}):
        assert P.scatter(obj, [0, 1]) == TP.scatter(obj, [0, 1])
    assert P.scatter((1, [2, {"k": 3}]), [0, 1, 2]) == TP.scatter((1, [2, {"k": 3}]), [0, 1, 2])
    assert P.gather([None, None], 0) is TP.gather([None, None], 0) is None


# -- one GPU (TINYTORCH_FAKE_CUDA=1 runs these on the fake) ------------------------------------------
@pytest.mark.skipif(not tinytorch.cuda.is_available(), reason="needs CUDA")
def test_single_device_calls_the_module_on_cuda():
    model = _mlp(tinytorch)
    x = tinytorch.randn(5, 3)
    expected = model(x)
    wrapped = nn.DataParallel(model, device_ids=[0])
    assert wrapped.device_ids == [0] and wrapped.output_device == 0 and wrapped.dim == 0
    assert all(p.device == tinytorch.device("cuda:0") for p in model.parameters())  # moved there
    out = wrapped(x)  # a CPU input is scattered (moved) to cuda:0
    assert out.device == tinytorch.device("cuda:0")
    np.testing.assert_allclose(numpy_of(out), numpy_of(expected), rtol=1e-6)
    out.sum().backward()
    assert model[0].weight.grad.device == tinytorch.device("cuda:0")
    model.to("cpu")
    with pytest.raises(RuntimeError, match=r"module must have its parameters and buffers on device cuda:0 "
                                           r"\(device_ids\[0\]\) but found one of them on device: cpu"):
        wrapped(x)


@pytest.mark.skipif(not tinytorch.cuda.is_available(), reason="needs CUDA")
def test_parallel_apply_threads_and_reraises_cuda():
    class Fail(nn.Module):
        def forward(self, x):
            if x.shape[0] == 1:
                raise KeyError("bad key")
            return x * 2

    x = tinytorch.ones(2, 3, device="cuda")
    outputs = nn.parallel.parallel_apply([Fail(), Fail()], [x, (x,)], None, [0, 0])
    assert [numpy_of(o).tolist() for o in outputs] == [[[2.0] * 3] * 2] * 2
    with pytest.raises(KeyError) as raised:
        nn.parallel.parallel_apply([Fail(), Fail()], [x, x[:1]], None, [0, 0])
    message = str(raised.value)
    assert message.startswith("Caught KeyError in replica 1 on device 0.\nOriginal Traceback")
    assert "raise KeyError(\"bad key\")" in message and "KeyError: 'bad key'" in message


# -- several GPUs: real ones in-process, else two fake ones in a subprocess ----------------------------
class Pair(collections.namedtuple("Pair", "first second")):
    pass


class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = _mlp(tinytorch)
        self.norm = nn.BatchNorm1d(2)
        self.extras = []  # replicas share the module's attributes (a shallow copy, as PyTorch's)

    def forward(self, x, extra=None, *, scale):
        out = self.body(x) * scale
        self.extras.append(extra)
        return {"out": out, "pair": Pair(out.sum(), out[:, :1]), "nothing": None}


def _multi_device_checks():
    cuda0, cuda1 = tinytorch.device("cuda:0"), tinytorch.device("cuda:1")
    P = nn.parallel
    net = _Net().to(cuda0)
    x = tinytorch.randn(5, 3)
    scale = tinytorch.full((5, 1), 2.0)  # scattered along dim 0 with x (a 0-d tensor cannot be chunked)

    # Reference: the module itself on one device.
    ref = net(x.to(cuda0), scale=scale.to(cuda0))["out"]
    ref.pow(2).sum().backward()
    ref_grads = [p.grad.clone() for p in net.body.parameters()]  # (norm only lends its buffers)
    net.zero_grad()
    net.extras.clear()

    wrapped = nn.DataParallel(net)
    assert wrapped.device_ids == [0, 1] and wrapped.output_device == 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = wrapped(x, "same", scale=scale)
    assert [str(w.message).startswith("Was asked to gather along dimension 0") for w in caught] == [True]
    out = result["out"]
    assert out.device == cuda0 and out.shape == (5, 2)
    np.testing.assert_allclose(numpy_of(out), numpy_of(ref), rtol=1e-5, atol=1e-6)
    assert net.extras == ["same", "same"] and result["nothing"] is None  # two replicas ran
    assert isinstance(result["pair"], Pair) and result["pair"].first.shape == (2,)  # 0-d: a vector, with a warning
    np.testing.assert_allclose(numpy_of(result["pair"].second), numpy_of(ref[:, :1]), rtol=1e-5, atol=1e-6)
    out.pow(2).sum().backward()
    for p, expected in zip(net.body.parameters(), ref_grads, strict=True):
        assert p.grad.device == cuda0
        np.testing.assert_allclose(numpy_of(p.grad), numpy_of(expected), rtol=1e-4, atol=1e-6)

    # Output device, batch smaller than the device count, no_grad, the functional form.
    on_one = nn.DataParallel(net, output_device=1)(x, scale=scale)["out"]
    assert on_one.device == cuda1
    assert nn.DataParallel(net, output_device=-1)(x, scale=scale)["out"].device == tinytorch.device("cpu")
    single = wrapped(x[:1], scale=scale[:1])["out"]
    np.testing.assert_allclose(numpy_of(single), numpy_of(ref[:1]), rtol=1e-5, atol=1e-6)
    with tinytorch.no_grad():
        assert not wrapped(x, scale=scale)["out"].requires_grad
    functional = P.data_parallel(net.body, x, module_kwargs=None)
    np.testing.assert_allclose(numpy_of(functional), numpy_of(ref / 2), rtol=1e-5, atol=1e-6)

    # The module must live on device_ids[0].
    try:
        nn.DataParallel(net, device_ids=[1, 0])(x, scale=scale)
    except RuntimeError as error:
        assert str(error) == ("module must have its parameters and buffers on device cuda:1 (device_ids[0]) "
                              "but found one of them on device: cuda:0")
    else:
        raise AssertionError("DataParallel ran with the module on the wrong device")

    # scatter: chunks on each device, structures recursed into, other objects shared.
    chunks = P.scatter(x, [0, 1])
    assert isinstance(chunks, tuple) and [c.device for c in chunks] == [cuda0, cuda1]
    assert [c.shape[0] for c in chunks] == [3, 2]
    pairs = P.scatter(Pair(x, "s"), [0, 1])
    assert [type(p) for p in pairs] == [Pair, Pair] and pairs[1].first.device == cuda1 and pairs[1].second == "s"
    dicts = P.scatter({"a": x, "b": [x, 7]}, [0, 1], dim=1)
    assert dicts[1]["a"].shape == (5, 1) and dicts[1]["b"][1] == 7 and dicts[0]["b"][0].shape == (5, 2)
    args, kwargs = P.scatter_gather.scatter_kwargs((x,), {"scale": scale}, [0, 1])
    assert len(args) == len(kwargs) == 2 and kwargs[1]["scale"].device == cuda1

    # gather: back along dim on the target; gradients flow to every piece's device.
    pieces = [tinytorch.ones(2, 3, device=cuda0, requires_grad=True), tinytorch.ones(1, 3, device=cuda1, requires_grad=True)]
    assert P.gather(pieces, 1).device == cuda1
    # (backward from a loss on cuda:0: tinytorch's engine runs on the current device, 0)
    joined = P.gather(pieces, 0)
    assert joined.device == cuda0 and joined.shape == (3, 3)
    (joined * tinytorch.arange(3.0, device=cuda0).reshape(3, 1)).sum().backward()
    assert pieces[1].grad.device == cuda1 and numpy_of(pieces[1].grad).tolist() == [[2.0] * 3]
    assert numpy_of(pieces[0].grad).tolist() == [[0.0] * 3, [1.0] * 3]
    assert P.gather([x.to(cuda0), x.to(cuda1)], "cpu", dim=1).shape == (5, 6)

    # replicate: parameter-free copies whose gradients sum into the original; buffers shared on device 0.
    replicas = P.replicate(net, [0, 1])
    assert list(replicas[1].parameters()) == [] and replicas[1].body[0].weight.device == cuda1
    assert replicas[0].norm.running_mean is net.norm.running_mean
    assert replicas[1].norm.running_mean.device == cuda1
    net.zero_grad()
    net.body(x.to(cuda0)).sum().backward()
    single_grad = net.body[0].weight.grad.clone()
    net.zero_grad()
    outputs = P.parallel_apply([replicas[0].body, replicas[1].body], [x.to(cuda0), x.to(cuda1)], None, [0, 1])
    assert [o.device for o in outputs] == [cuda0, cuda1]
    P.gather(outputs, 0).sum().backward()
    np.testing.assert_allclose(numpy_of(net.body[0].weight.grad), 2 * numpy_of(single_grad), rtol=1e-5)
    assert all(not r.requires_grad for r in P.replicate(net, [0, 1], detach=True)[1].body[0].__dict__.values()
               if isinstance(r, tinytorch.Tensor))

    # parallel_apply: each replica on its device; an exception comes back with its traceback.
    class Double(nn.Module):
        def forward(self, x, fail=False):
            if fail:
                raise ValueError("replica failed")
            return x * 2

    doubled = P.parallel_apply([Double(), Double()], [x.to(cuda0), (x.to(cuda1),)], None, [0, cuda1])
    assert [d.device for d in doubled] == [cuda0, cuda1]  # each thread computes on its replica's device
    try:
        P.parallel_apply([Double(), Double()], [x.to(cuda0), x.to(cuda1)], [{}, {"fail": True}], [0, 1])
    except ValueError as error:
        assert str(error).startswith("Caught ValueError in replica 1 on device 1.\nOriginal Traceback")
        assert "ValueError: replica failed" in str(error)
    else:
        raise AssertionError("parallel_apply swallowed the exception")
    assert P.parallel_apply([Double()], [(x.to(cuda1),)], [{}], [cuda1])[0].device == cuda1


@pytest.mark.skipif(tinytorch.cuda.device_count() < 2, reason="needs two CUDA devices")
def test_multi_device_cuda():
    _multi_device_checks()


@pytest.mark.skipif("cupy" in sys.modules, reason="CuPy (or the one-device fake) is already imported here")
def test_multi_device_on_two_fake_gpus():
    from tests import fake_cupy

    fake_cupy.run_on_fake_gpus("tests.nn.test_data_parallel", "_multi_device_checks")
