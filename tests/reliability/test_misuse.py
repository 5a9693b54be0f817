"""The misuse table: each row is a mistake a user makes, the exception type PyTorch raises for it,
words the message must contain, and a check that nothing the user owns was changed."""

import gzip
import os
from dataclasses import dataclass
from collections.abc import Callable

import numpy as np
import pytest

import tinytorch
from tinytorch import _backend as backend


@dataclass
class Misuse:
    name: str
    setup: Callable[[], dict]  # the user's objects
    act: Callable[[dict], object]  # the mistake
    error: type
    words: tuple  # the message must contain each of these


def _snapshot(objects):
    """Copies of every array the user owns (tensors, grads, module and optimizer state)."""
    shot = {}
    for key, obj in objects.items():
        if key.startswith("_"):  # the mistake itself changes these (e.g. an in-place op)
            continue
        if isinstance(obj, tinytorch.Tensor):
            shot[key] = (obj._data.copy(), None if obj.grad is None else obj.grad._data.copy(), obj._version[0])
        elif hasattr(obj, "state_dict") and hasattr(obj, "parameters"):
            shot[key] = {k: v._data.copy() for k, v in obj.state_dict().items()}
        elif isinstance(obj, (bytes, str)):
            shot[key] = obj
        elif isinstance(obj, os.PathLike):
            shot[key] = open(obj, "rb").read() if os.path.exists(obj) else None
    return shot


def _same(a, b):
    if isinstance(a, tuple):
        return all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray):
        return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)
    return a == b


def t(*shape, grad=False, dtype=None):
    return tinytorch.ones(*shape, dtype=dtype, requires_grad=grad)


def leaf_and_loss():
    w = t(3, grad=True)
    return {"w": w, "loss": (w * 2).sum()}


def used_graph():
    w = t(3, grad=True)
    loss = (w * w).sum()
    loss.backward()
    return {"w": w, "loss": loss}


def saved_then_modified():
    w = t(3, grad=True)
    y = w.exp()
    return {"w": w, "_y": y}


class FakeDeviceArray(np.ndarray):
    """An array the backend reports as living on cuda:0, to test device checks without a GPU."""


@pytest.fixture
def fake_cuda(monkeypatch):
    real = backend.device_of

    def device_of(array):
        return backend.device("cuda", 0) if isinstance(array, FakeDeviceArray) else real(array)

    monkeypatch.setattr(backend, "device_of", device_of)


def on_fake_cuda(*shape):
    return tinytorch.Tensor._make(np.ones(shape, dtype=np.float32).view(FakeDeviceArray))


CORE = [
    # shapes
    Misuse("matmul shapes", lambda: {"a": t(12, 784), "b": t(512, 256)}, lambda o: o["a"] @ o["b"], RuntimeError, ("12x784", "512x256")),
    Misuse("matmul 1-D sizes", lambda: {"a": t(3), "b": t(4)}, lambda o: o["a"] @ o["b"], RuntimeError, ("[3]", "[4]")),
    Misuse("batched matmul", lambda: {"a": t(2, 3, 4), "b": t(2, 5, 6)}, lambda o: o["a"] @ o["b"], RuntimeError, ("[2, 3, 4]", "[2, 5, 6]")),
    Misuse("broadcast add", lambda: {"a": t(2, 3), "b": t(2, 4)}, lambda o: o["a"] + o["b"], RuntimeError, ("size of tensor a (3)", "tensor b (4)", "[2, 3]", "[2, 4]")),
    Misuse("broadcast mul", lambda: {"a": t(5), "b": t(4)}, lambda o: o["a"] * o["b"], RuntimeError, ("(5)", "(4)")),
    Misuse("reshape size", lambda: {"a": t(3, 4)}, lambda o: o["a"].reshape(5, 5), RuntimeError, ("[5, 5]", "size 12")),
    Misuse("reshape two -1", lambda: {"a": t(3, 4)}, lambda o: o["a"].reshape(-1, -1), RuntimeError, ("only one dimension can be inferred",)),
    Misuse("view of non-contiguous", lambda: {"a": t(3, 4)}, lambda o: o["a"].t().view(12), RuntimeError, ("view size is not compatible", ".reshape")),
    Misuse("dim out of range", lambda: {"a": t(2, 3)}, lambda o: o["a"].sum(2), IndexError, ("Dimension out of range", "[-2, 1]", "got 2")),
    Misuse("negative dim out of range", lambda: {"a": t(2, 3)}, lambda o: o["a"].softmax(-3), IndexError, ("Dimension out of range",)),
    Misuse("repeated dim", lambda: {"a": t(2, 3)}, lambda o: o["a"].sum((1, -1)), RuntimeError, ("dim 1 appears multiple times",)),
    Misuse("index out of range", lambda: {"a": t(3)}, lambda o: o["a"][3], IndexError, ("index 3 is out of bounds for dimension 0 with size 3",)),
    Misuse("narrow past the end", lambda: {"a": t(3)}, lambda o: o["a"].narrow(0, 1, 5), RuntimeError, ("start (1) + length (5) exceeds dimension size (3).",)),
    Misuse("narrow start out of range", lambda: {"a": t(3)}, lambda o: o["a"].narrow(0, -4, 1), IndexError, ("start out of range (expected to be in range of [-3, 3], but got -4)",)),
    Misuse("narrow negative length", lambda: {"a": t(3)}, lambda o: o["a"].narrow_copy(0, 1, -1), RuntimeError, ("narrow(): length must be non-negative.",)),
    Misuse("index tensor out of range", lambda: {"a": t(3, 2)}, lambda o: o["a"][tinytorch.tensor([0, 7])], IndexError, ("index 7", "size 3")),
    Misuse("too many indices", lambda: {"a": t(3)}, lambda o: o["a"][0, 1], IndexError, ("too many indices",)),
    Misuse("float index", lambda: {"a": t(3)}, lambda o: o["a"][tinytorch.tensor([1.0])], IndexError, ("long, int, byte or bool",)),
    Misuse("mask shape", lambda: {"a": t(3)}, lambda o: o["a"][tinytorch.tensor([True, False])], IndexError, ("mask [2]", "[3]")),
    Misuse("cat shapes", lambda: {"a": t(2, 3), "b": t(2, 4)}, lambda o: tinytorch.cat([o["a"], o["b"]]), RuntimeError, ("Sizes of tensors must match except in dimension 0", "Expected size 3 but got size 4")),
    Misuse("cat ranks", lambda: {"a": t(2, 3), "b": t(3)}, lambda o: tinytorch.cat([o["a"], o["b"]]), RuntimeError, ("same number of dimensions",)),
    Misuse("cat empty", lambda: {}, lambda o: tinytorch.cat([]), RuntimeError, ("non-empty",)),
    Misuse("stack shapes", lambda: {"a": t(2), "b": t(3)}, lambda o: tinytorch.stack([o["a"], o["b"]]), RuntimeError, ("stack expects each tensor to be equal size", "[2]", "[3]")),
    Misuse("expand", lambda: {"a": t(2, 3)}, lambda o: o["a"].expand(2, 4), RuntimeError, ("expanded size", "(4)", "existing size (3)")),
    Misuse("split sizes", lambda: {"a": t(5)}, lambda o: o["a"].split([2, 2]), RuntimeError, ("sum exactly to 5",)),
    Misuse("gather index rank", lambda: {"a": t(2, 3)}, lambda o: o["a"].gather(1, tinytorch.tensor([0])), RuntimeError, ("same number of dimensions",)),
    Misuse("gather index range", lambda: {"a": t(2, 3)}, lambda o: o["a"].gather(1, tinytorch.tensor([[5], [0]])), RuntimeError, ("index 5 is out of bounds for dimension 1 with size 3",)),
    Misuse("permute length", lambda: {"a": t(2, 3)}, lambda o: o["a"].permute(1, 0, 2), RuntimeError, ("does not match the length",)),
    Misuse("masked_fill float mask", lambda: {"a": t(3)}, lambda o: o["a"].masked_fill(t(3), 0.0), RuntimeError, ("boolean masks",)),
    Misuse("in-place broadcast to larger", lambda: {"a": t(3)}, lambda o: o["a"].add_(t(2, 3)), RuntimeError, ("[3]", "[2, 3]")),
    # dtypes
    Misuse("int tensor requires grad", lambda: {}, lambda o: tinytorch.tensor([1, 2], requires_grad=True), RuntimeError, ("floating point",)),
    Misuse("int requires_grad_", lambda: {"a": tinytorch.tensor([1, 2])}, lambda o: o["a"].requires_grad_(), RuntimeError, ("floating point",)),
    Misuse("mean of ints", lambda: {"a": tinytorch.tensor([1, 2])}, lambda o: o["a"].mean(), RuntimeError, ("mean(): could not infer output dtype", "Long")),
    Misuse("in-place float into int", lambda: {"a": tinytorch.tensor([1, 2])}, lambda o: o["a"].mul_(1.5), RuntimeError, ("Float", "Long")),
    Misuse("negative int power", lambda: {"a": tinytorch.tensor([1, 2])}, lambda o: o["a"] ** -1, RuntimeError, ("negative integer powers",)),
    Misuse("unsupported numpy dtype", lambda: {}, lambda o: tinytorch.from_numpy(np.zeros(2, dtype=np.complex64)), TypeError, ("complex64",)),
    Misuse("ragged list", lambda: {}, lambda o: tinytorch.tensor([[1.0], [1.0, 2.0]]), ValueError, ("expected sequence of length 1 at dim 1 (got 2)",)),
    Misuse("bool negation", lambda: {"a": tinytorch.tensor([True])}, lambda o: -o["a"], RuntimeError, ("logical_not",)),
    Misuse("linear dtype mix", lambda: {"x": t(2, 3, dtype=tinytorch.float64), "w": t(4, 3)}, lambda o: tinytorch._ops.linear(o["x"], o["w"]), RuntimeError,
           ("expected m1 and m2 to have the same dtype, but got: double != float",)),
    # autograd
    Misuse("second backward", used_graph, lambda o: o["loss"].backward(), RuntimeError, ("backward through the graph a second time", "retain_graph=True")),
    Misuse("non-scalar backward", lambda: {"w": t(3, grad=True)}, lambda o: (o["w"] * 2).backward(), RuntimeError, ("grad can be implicitly created only for scalar outputs",)),
    Misuse("backward without grad", lambda: {"a": t(3)}, lambda o: o["a"].sum().backward(), RuntimeError, ("does not require grad",)),
    Misuse("in-place on leaf", lambda: {"w": t(3, grad=True)}, lambda o: o["w"].add_(1), RuntimeError, ("leaf Variable that requires grad", "in-place")),
    Misuse("setitem on leaf", lambda: {"w": t(3, grad=True)}, lambda o: o["w"].__setitem__(0, 5.0), RuntimeError, ("leaf Variable",)),
    Misuse("in-place on view of leaf", lambda: {"w": t(3, grad=True)}, lambda o: o["w"][:2].mul_(2), RuntimeError, ("view of a leaf Variable",)),
    Misuse("saved tensor modified", saved_then_modified, lambda o: (o["_y"].mul_(2), o["_y"].sum().backward()), RuntimeError, ("modified by an inplace operation", "version 1", "expected version 0")),
    Misuse("numpy of grad tensor", lambda: {"w": t(3, grad=True)}, lambda o: o["w"].numpy(), RuntimeError, ("Can't call numpy() on Tensor that requires grad", "detach")),
    Misuse("grad of tensor without grad", lambda: {"a": t(3), "b": t(3, grad=True)}, lambda o: tinytorch.autograd.grad((o["b"] * o["a"]).sum(), o["a"]), RuntimeError, ("does not require grad",)),
    Misuse("grad of unused input", lambda: {"a": t(3, grad=True), "b": t(3, grad=True)}, lambda o: tinytorch.autograd.grad(o["b"].sum(), o["a"]), RuntimeError, ("allow_unused=True",)),
    Misuse("wrong gradient shape", lambda: {"w": t(3, grad=True)}, lambda o: (o["w"] * 2).backward(t(4)), RuntimeError, ("Mismatch in shape",)),
    Misuse("requires_grad off on non-leaf", lambda: {"w": t(3, grad=True)}, lambda o: setattr(o["w"] * 2, "requires_grad", False), RuntimeError, ("leaf variables",)),
    Misuse("item of many", lambda: {"a": t(3)}, lambda o: o["a"].item(), RuntimeError, ("3 elements cannot be converted to Scalar",)),
    Misuse("bool of many", lambda: {"a": t(3)}, lambda o: bool(o["a"]), RuntimeError, ("ambiguous",)),
    # order statistics
    Misuse("quantile q out of range", lambda: {"a": t(5)}, lambda o: o["a"].quantile(1.5), RuntimeError, ("q must be in the range [0, 1] but got 1.5",)),
    Misuse("quantile q tensor out of range", lambda: {"a": t(5), "q": tinytorch.tensor([0.5, -0.1])},
           lambda o: tinytorch.quantile(o["a"], o["q"]), RuntimeError, ("q values must be in the range [0, 1]",)),
    Misuse("quantile q of another dtype", lambda: {"a": t(5), "q": tinytorch.tensor([0.5], dtype=tinytorch.float64)},
           lambda o: tinytorch.quantile(o["a"], o["q"]), RuntimeError, ("q tensor must be same dtype as the input tensor",)),
    Misuse("quantile of integers", lambda: {"a": t(5, dtype=tinytorch.int64)}, lambda o: o["a"].quantile(0.5), RuntimeError, ("must be either float or double dtype",)),
    Misuse("quantile of nothing", lambda: {"a": t(0)}, lambda o: o["a"].quantile(0.5), RuntimeError, ("input tensor must be non-empty",)),
    Misuse("quantile interpolation", lambda: {"a": t(5)}, lambda o: o["a"].quantile(0.5, interpolation="cubic"), RuntimeError, ("linear, lower, higher, midpoint or nearest", "cubic")),
    Misuse("median along an empty dim", lambda: {"a": t(2, 0)}, lambda o: o["a"].median(1), IndexError, ("median(): Expected reduction dim 1 to have non-zero size",)),
    Misuse("median of bools", lambda: {"a": t(3, dtype=tinytorch.bool)}, lambda o: o["a"].median(), NotImplementedError, ("median_cpu", "Bool")),
    Misuse("kthvalue k too large", lambda: {"a": t(2, 3)}, lambda o: o["a"].kthvalue(4), RuntimeError, ("kthvalue(): selected number k out of range for dimension 1",)),
    # devices
    Misuse("device string", lambda: {}, lambda o: tinytorch.device("gpu"), RuntimeError, ("Expected one of cpu, cuda", "gpu")),
    Misuse("cpu index", lambda: {}, lambda o: tinytorch.device("cpu:1"), RuntimeError, ("CPU device index",)),
]

if not tinytorch.cuda.is_available():
    CORE.append(Misuse("cuda without a GPU", lambda: {"a": t(3)}, lambda o: o["a"].cuda(), RuntimeError, ("CUDA",)))


@pytest.mark.parametrize("case", CORE, ids=[c.name for c in CORE])
def test_core_misuse(case):
    objects = case.setup()
    before = _snapshot(objects)
    with pytest.raises(case.error) as info:
        case.act(objects)
    for word in case.words:
        assert word in str(info.value), f"{case.name}: {word!r} not in {str(info.value)!r}"
    after = _snapshot(objects)
    assert _same(before, after), f"{case.name}: the user's objects changed"


DEVICE_MIX = [
    ("add", lambda a, b: a + b),
    ("matmul", lambda a, b: a @ b.reshape(3, 1)),
    ("cat", lambda a, b: tinytorch.cat([a, b])),
    ("where", lambda a, b: tinytorch.where(a > 0, a, b)),
    ("linear", lambda a, b: tinytorch._ops.linear(a.reshape(1, 3), b.reshape(1, 3))),
]


@pytest.mark.parametrize("name,op", DEVICE_MIX, ids=[n for n, _ in DEVICE_MIX])
def test_device_mix_names_both_devices(fake_cuda, name, op):
    cpu = tinytorch.ones(3)
    gpu = on_fake_cuda(3)
    with pytest.raises(RuntimeError, match=r"Expected all tensors to be on the same device, but found at least two devices, (cuda:0 and cpu|cpu and cuda:0)!"):
        op(cpu, gpu)


def write_idx(path, magic, dims, payload, compress=False):
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims)
    data = header + payload
    with (gzip.open if compress else open)(path, "wb") as f:
        f.write(data)
    return path
