"""The misuse table, continued: modules and optimizers, DataLoader, losses, RNG state and files.

Each row is a mistake, the exception type PyTorch raises for it (checked against torch 2.13; the
few rows where tinytorch is stricter say so), words the message must contain, and the user's
objects: after the error every tensor, module, optimizer, dataset, generator and file they own
must be exactly as before, and no row may allocate more than ``MEMORY_BOUND`` on the way (a
hostile header must be refused before anything is allocated for it).

``ALL_ROWS`` is this table plus the core table of ``test_misuse.py``.
"""

import gzip
import io
import json
import pickle
import struct
import tracemalloc
import zipfile
from collections.abc import Mapping
from pathlib import Path
from unittest import mock

import numpy as np
import pytest

import tinytorch
from tinytorch import nn, optim
from tinytorch.nn import functional as F
from tinytorch.utils.data import (
    BatchSampler, DataLoader, Dataset, IterableDataset, RandomSampler, TensorDataset, WeightedRandomSampler, random_split,
)
from tinytorch.vision import datasets
from tinytorch.vision.datasets import utils as download_utils

from .test_misuse import CORE, Misuse

MEMORY_BOUND = 16 * 2**20  # bytes a single misuse may allocate (traced) before it raises


# -- what the user owns, frozen for comparison -----------------------------------------------------
def freeze(obj):
    """A comparable deep copy of everything the user owns in ``obj`` (identity included)."""
    if isinstance(obj, tinytorch.Tensor):
        grad = None if obj.grad is None else obj.grad._data.copy()
        return ("tensor", id(obj), obj._data.copy(), grad, obj._version[0], obj.requires_grad)
    if isinstance(obj, nn.Module):
        named = list(obj.named_parameters()) + list(obj.named_buffers())
        return ("module", obj.training, [(name, freeze(t)) for name, t in named], sorted(obj.state_dict()))
    if isinstance(obj, optim.Optimizer):
        ids = [[id(p) for p in group["params"]] for group in obj.param_groups]
        return ("optimizer", ids, freeze(obj.state_dict()))
    if isinstance(obj, tinytorch.Generator):
        return ("generator", obj.get_state()._data.copy())
    if isinstance(obj, TensorDataset):
        return ("dataset", freeze(list(obj.tensors)))
    if isinstance(obj, Path):
        if obj.is_dir():
            return ("folder", sorted((str(p.relative_to(obj)), p.read_bytes() if p.is_file() else None) for p in obj.rglob("*")))
        return ("file", obj.read_bytes() if obj.exists() else None)
    if isinstance(obj, Mapping):
        return ("dict", [(key, freeze(value)) for key, value in obj.items()])
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, [freeze(value) for value in obj])
    if obj is None or isinstance(obj, (bool, int, float, str, bytes)):
        return obj
    raise TypeError(f"freeze: don't know how to snapshot a {type(obj).__name__}")  # rows must not skip anything


def same(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape and a.dtype == b.dtype and (
            np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
        )
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


# -- modules and optimizers ----------------------------------------------------------------------
def mlp():
    return nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))


def model_and_state(edit):
    """A model and a state_dict to load into it: every value differs from the model's (zeros), so
    a load that copied anything before raising would show, and ``edit`` adds the mistake."""
    model = mlp()
    state = {key: tinytorch.zeros_like(value) for key, value in model.state_dict().items()}
    edit(state)
    return {"model": model, "state": state}


def trained(opt_class=optim.SGD, **kwargs):
    """A parameter and an optimizer with state (one step taken), as a user has mid-training."""
    w = tinytorch.randn(3, requires_grad=True)
    b = tinytorch.randn(2, requires_grad=True)
    opt = opt_class([w, b], **kwargs)
    ((w * w).sum() + b.sum()).backward()
    opt.step()
    return {"w": w, "b": b, "opt": opt}


def with_other_state(other):
    """A trained SGD optimizer and the state_dict of ``other(w, b, extra)`` to (wrongly) load into it."""
    objects = trained(optim.SGD, lr=0.1, momentum=0.9)
    extra = tinytorch.ones(4, requires_grad=True)
    foreign = other(objects["w"], objects["b"], extra)
    foreign_state = foreign.state_dict() if hasattr(foreign, "state_dict") else foreign
    return {**objects, "extra": extra, "state": foreign_state}


def params():
    return {"p": tinytorch.ones(2, requires_grad=True), "q": tinytorch.ones(3, requires_grad=True)}


MODULES = [
    Misuse("load_state_dict missing key", lambda: model_and_state(lambda s: s.pop("2.bias")),
           lambda o: o["model"].load_state_dict(o["state"]), RuntimeError,
           ("Error(s) in loading state_dict for Sequential", 'Missing key(s) in state_dict: "2.bias"')),
    Misuse("load_state_dict unexpected key", lambda: model_and_state(lambda s: s.update({"3.weight": tinytorch.ones(2)})),
           lambda o: o["model"].load_state_dict(o["state"]), RuntimeError, ('Unexpected key(s) in state_dict: "3.weight"',)),
    Misuse("load_state_dict wrong shape (last key)", lambda: model_and_state(lambda s: s.update({"2.bias": tinytorch.zeros(5)})),
           lambda o: o["model"].load_state_dict(o["state"]), RuntimeError,
           ("size mismatch for 2.bias", "copying a param with shape", "[5]", "the shape in current model is", "[2]")),
    Misuse("load_state_dict wrong shape, strict=False", lambda: model_and_state(lambda s: s.update({"0.weight": tinytorch.zeros(4, 3)})),
           lambda o: o["model"].load_state_dict(o["state"], strict=False), RuntimeError, ("size mismatch for 0.weight",)),
    Misuse("load_state_dict value not a tensor", lambda: model_and_state(lambda s: s.update({"2.bias": [0.0, 0.0]})),
           lambda o: o["model"].load_state_dict(o["state"]), RuntimeError, ('While copying the parameter named "2.bias"',)),
    Misuse("load_state_dict of a list", lambda: {"model": mlp()},
           lambda o: o["model"].load_state_dict([("0.weight", tinytorch.zeros(3, 4))]), TypeError, ("Expected state_dict to be dict-like",)),
    Misuse("plain tensor assigned to a parameter", lambda: {"model": mlp()},
           lambda o: setattr(o["model"][0], "weight", tinytorch.zeros(3, 4)), TypeError,
           ("cannot assign", "as parameter 'weight'", "Parameter or None expected")),
    Misuse("parameter name with a dot", lambda: {"model": mlp()},
           lambda o: o["model"][0].register_parameter("a.b", nn.Parameter(tinytorch.ones(1))), KeyError, ("parameter name can", 'contain "."')),
    Misuse("Linear input features", lambda: {"model": mlp(), "x": tinytorch.ones(2, 5)},
           lambda o: o["model"](o["x"]), RuntimeError, ("mat1 and mat2 shapes cannot be multiplied (2x5 and 4x3)",)),
]

OPTIMIZERS = [
    # PyTorch 2.13 accepts a set here (in an arbitrary order, so state_dict indices change between
    # runs and a resumed optimizer can pair state with the wrong parameter); tinytorch refuses it.
    Misuse("optimizer given a set", params, lambda o: optim.SGD({o["p"], o["q"]}, lr=0.1), TypeError, ("iterable of Tensors or dicts", "set")),
    Misuse("param group given a set", params, lambda o: optim.SGD([{"params": {o["p"], o["q"]}}], lr=0.1), TypeError,
           ("ordered collections",)),
    Misuse("optimizer given a tensor", params, lambda o: optim.SGD(o["p"], lr=0.1), TypeError, ("iterable of Tensors or dicts", "FloatTensor")),
    Misuse("optimizer given an empty list", lambda: {}, lambda o: optim.Adam([], lr=0.1), ValueError, ("optimizer got an empty parameter list",)),
    Misuse("optimizer given a number", lambda: {}, lambda o: optim.SGD([1.0], lr=0.1), TypeError, ("can only optimize Tensors", "float")),
    Misuse("optimizer given a non-leaf", params, lambda o: optim.SGD([o["p"] * 2], lr=0.1), ValueError, ("can't optimize a non-leaf Tensor",)),
    Misuse("negative lr", params, lambda o: optim.SGD([o["p"]], lr=-0.1), ValueError, ("Invalid learning rate: -0.1",)),
    Misuse("negative momentum", params, lambda o: optim.SGD([o["p"]], lr=0.1, momentum=-0.5), ValueError, ("Invalid momentum value: -0.5",)),
    Misuse("nesterov without momentum", params, lambda o: optim.SGD([o["p"]], lr=0.1, nesterov=True), ValueError,
           ("Nesterov momentum requires a momentum and zero dampening",)),
    Misuse("Adam beta1 of 1", params, lambda o: optim.Adam([o["p"]], betas=(1.0, 0.999)), ValueError, ("Invalid beta parameter at index 0: 1.0",)),
    Misuse("Adam negative beta2", params, lambda o: optim.Adam([o["p"]], betas=(0.9, -0.1)), ValueError, ("Invalid beta parameter at index 1: -0.1",)),
    Misuse("Adam negative eps", params, lambda o: optim.Adam([o["p"]], eps=-1e-8), ValueError, ("Invalid epsilon value: -1e-08",)),
    Misuse("AdamW negative weight decay", params, lambda o: optim.AdamW([o["p"]], weight_decay=-1), ValueError, ("Invalid weight_decay value: -1",)),
    Misuse("parameter in two groups", lambda: trained(optim.SGD, lr=0.1, momentum=0.9),
           lambda o: o["opt"].add_param_group({"params": [o["b"]], "lr": 1.0}), ValueError,
           ("some parameters appear in more than one parameter group",)),
    Misuse("optimizer load_state_dict: more groups", lambda: with_other_state(
               lambda w, b, extra: optim.SGD([{"params": [w, b]}, {"params": [extra]}], lr=5.0, momentum=0.5)),
           lambda o: o["opt"].load_state_dict(o["state"]), ValueError, ("different number of parameter groups",)),
    Misuse("optimizer load_state_dict: group sizes", lambda: with_other_state(lambda w, b, extra: optim.SGD([w, b, extra], lr=5.0)),
           lambda o: o["opt"].load_state_dict(o["state"]), ValueError,
           ("contains a parameter group that doesn't match the size of optimizer's group",)),
    Misuse("optimizer load_state_dict of a model's", lambda: with_other_state(lambda w, b, extra: nn.Linear(2, 2)),
           lambda o: o["opt"].load_state_dict(o["state"]), KeyError, ("param_groups",)),
]


# -- DataLoader ----------------------------------------------------------------------------------
def data():
    """A dataset and the global generator: building a loader must touch neither."""
    return {"data": TensorDataset(tinytorch.arange(20.0).reshape(10, 2), tinytorch.arange(10)), "rng": tinytorch.random.default_generator}


class Stream(IterableDataset):
    def __iter__(self):
        return iter(range(3))


class BrokenAt3(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, index):
        if index == 3:
            raise KeyError(f"bad sample {index}")
        return tinytorch.ones(2)


LOADERS = [
    Misuse("batch_size=0", data, lambda o: DataLoader(o["data"], batch_size=0), ValueError,
           ("batch_size should be a positive integer value, but got batch_size=0",)),
    Misuse("batch_size=2.5", data, lambda o: DataLoader(o["data"], batch_size=2.5), ValueError, ("batch_size=2.5",)),
    Misuse("sampler with shuffle=True", data, lambda o: DataLoader(o["data"], sampler=RandomSampler(o["data"]), shuffle=True),
           ValueError, ("sampler option is mutually exclusive with shuffle",)),
    Misuse("batch_sampler with batch_size", data,
           lambda o: DataLoader(o["data"], batch_sampler=BatchSampler(range(10), 2, False), batch_size=3), ValueError,
           ("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last",)),
    Misuse("batch_sampler with shuffle", data,
           lambda o: DataLoader(o["data"], batch_sampler=BatchSampler(range(10), 2, False), shuffle=True), ValueError,
           ("batch_sampler option is mutually exclusive",)),
    Misuse("negative num_workers", data, lambda o: DataLoader(o["data"], num_workers=-1), ValueError,
           ("num_workers option should be non-negative",)),
    Misuse("negative timeout", data, lambda o: DataLoader(o["data"], timeout=-1), ValueError, ("timeout option should be non-negative",)),
    Misuse("persistent_workers without workers", data, lambda o: DataLoader(o["data"], persistent_workers=True), ValueError,
           ("persistent_workers option needs num_workers > 0",)),
    Misuse("prefetch_factor without workers", data, lambda o: DataLoader(o["data"], prefetch_factor=2), ValueError,
           ("prefetch_factor option could only be specified in multiprocessing",)),
    Misuse("batch_size=None with drop_last", data, lambda o: DataLoader(o["data"], batch_size=None, drop_last=True), ValueError,
           ("batch_size=None option disables auto-batching and is mutually exclusive with drop_last",)),
    Misuse("loader attribute set later", data, lambda o: setattr(DataLoader(o["data"], batch_size=2), "batch_size", 3), ValueError,
           ("batch_size attribute should not be set after DataLoader is initialized",)),
    Misuse("IterableDataset with shuffle", lambda: {"rng": tinytorch.random.default_generator},
           lambda o: DataLoader(Stream(), shuffle=True), ValueError, ("expected unspecified shuffle option, but got shuffle=True",)),
    Misuse("TensorDataset sizes", lambda: {"x": tinytorch.ones(3, 2), "y": tinytorch.ones(4)},
           lambda o: TensorDataset(o["x"], o["y"]), AssertionError, ("Size mismatch between tensors",)),
    Misuse("random_split lengths", data, lambda o: random_split(o["data"], [3, 4]), ValueError,
           ("Sum of input lengths does not equal the length of the input dataset!",)),
    Misuse("weights below zero", lambda: {"w": tinytorch.tensor([1.0, -1.0])}, lambda o: list(WeightedRandomSampler(o["w"], 2)),
           RuntimeError, ("invalid multinomial distribution",)),
    Misuse("collate samples of different sizes", lambda: {"samples": [tinytorch.ones(2), tinytorch.ones(3)]},
           lambda o: next(iter(DataLoader(o["samples"], batch_size=2))), RuntimeError,
           ("stack expects each tensor to be equal size", "[2]", "[3]")),
    Misuse("a worker's exception keeps its type", lambda: {},
           lambda o: list(DataLoader(BrokenAt3(), batch_size=2, num_workers=1)), KeyError,
           ("Caught KeyError in DataLoader worker process 0", "bad sample 3")),
]


# -- losses --------------------------------------------------------------------------------------
def logits(*target_shape, dtype=None, values=None):
    """The model output a user feeds to a loss (the model's grads must stay untouched) and a target."""
    model = nn.Linear(5, 3)
    target = tinytorch.tensor(values) if values is not None else tinytorch.rand(*target_shape)
    return {"model": model, "x": tinytorch.randn(4, 5), "target": target if dtype is None else target.to(dtype)}


def loss_of(fn, **kwargs):
    return lambda o: fn(o["model"](o["x"]), o["target"], **kwargs).backward()


LOSSES = [
    Misuse("cross_entropy float targets of the wrong shape", lambda: logits(4, 5), loss_of(F.cross_entropy), RuntimeError,
           ("0D or 1D target tensor expected, multi-target not supported",)),
    Misuse("cross_entropy float targets of the wrong batch", lambda: logits(3, 3), loss_of(F.cross_entropy), ValueError,
           ("Expected input batch_size (4) to match target batch_size (3).",)),
    Misuse("cross_entropy class index too large", lambda: logits(values=[0, 1, 5, 2]), loss_of(F.cross_entropy), IndexError,
           ("Target 5 is out of bounds.",)),
    Misuse("cross_entropy negative class index", lambda: logits(values=[0, 1, -3, 2]), loss_of(F.cross_entropy), IndexError,
           ("Target -3 is out of bounds.",)),
    Misuse("cross_entropy integer probabilities", lambda: logits(4, 3, dtype=tinytorch.int64), loss_of(F.cross_entropy), RuntimeError,
           ("Expected floating point type for target with class probabilities, got Long",)),
    Misuse("nll_loss float class indices", lambda: logits(4), loss_of(F.nll_loss), RuntimeError,
           ("expected target dtype to be Long or Byte, but got Float",)),
    Misuse("mse_loss shapes that don't broadcast", lambda: logits(4, 2), loss_of(F.mse_loss), RuntimeError,
           ("The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension 1",)),
    Misuse("binary_cross_entropy outside [0, 1]", lambda: logits(4, 3), loss_of(F.binary_cross_entropy), RuntimeError,
           ("all elements of input should be between 0 and 1",)),
    Misuse("bce_with_logits sizes", lambda: logits(4, 1), loss_of(F.binary_cross_entropy_with_logits), ValueError,
           ("Target size", "must be the same as input size")),
    Misuse("unknown reduction", lambda: logits(4, 3), loss_of(F.mse_loss, reduction="avg"), ValueError, ("avg is not a valid value for reduction",)),
    Misuse("label_smoothing above 1", lambda: logits(values=[0, 1, 2, 0]), loss_of(F.cross_entropy, label_smoothing=1.5), RuntimeError,
           ("label_smoothing must be between 0.0 and 1.0. Got: 1.5",)),
]


# -- sequence models: recurrent layers, packing, attention ----------------------------------------
def lstm_and_input(*shape):
    """An LSTM the user trains (grads present, so a half-run forward or backward would show) and an input."""
    model = nn.LSTM(4, 5, num_layers=2)
    model(tinytorch.randn(3, 2, 4))[0].sum().backward()
    return {"model": model, "x": tinytorch.randn(*shape)}


def attention_and_input(**mask):
    model = nn.MultiheadAttention(8, 2)
    return {"model": model, "x": tinytorch.randn(3, 2, 8), **mask}


def attend(o):
    return o["model"](o["x"], o["x"], o["x"], attn_mask=o.get("mask"), key_padding_mask=o.get("padding"))


SEQUENCE = [
    Misuse("LSTM input size", lambda: lstm_and_input(3, 2, 6), lambda o: o["model"](o["x"]), RuntimeError,
           ("input.size(-1) must be equal to input_size. Expected 4, got 6",)),
    Misuse("LSTM hidden state shape", lambda: {**lstm_and_input(3, 2, 4), "h": tinytorch.zeros(2, 3, 5), "c": tinytorch.zeros(2, 2, 5)},
           lambda o: o["model"](o["x"], (o["h"], o["c"])), RuntimeError, ("Expected hidden[0] size (2, 2, 5), got [2, 3, 5]",)),
    Misuse("GRU input of 4 dims", lambda: {"model": nn.GRU(4, 5), "x": tinytorch.randn(3, 2, 4, 1)}, lambda o: o["model"](o["x"]),
           ValueError, ("GRU: Expected input to be 2D or 3D, got 4D instead",)),
    Misuse("RNN input dtype", lambda: {"model": nn.RNN(4, 5), "x": tinytorch.randn(3, 2, 4, dtype=tinytorch.float64)},
           lambda o: o["model"](o["x"]), ValueError, ("RNN input dtype", "does not match weight dtype")),
    Misuse("LSTMCell hidden batch", lambda: {"model": nn.LSTMCell(4, 5), "x": tinytorch.randn(2, 4), "h": tinytorch.zeros(3, 5)},
           lambda o: o["model"](o["x"], (o["h"], o["h"])), RuntimeError, ("Input batch size 2 doesn't match hidden0 batch size 3",)),
    Misuse("pack unsorted lengths with enforce_sorted", lambda: {"x": tinytorch.randn(4, 3, 2)},
           lambda o: nn.utils.rnn.pack_padded_sequence(o["x"], [2, 4, 3]), RuntimeError,
           ("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True",)),
    Misuse("pack more lengths than sequences", lambda: {"x": tinytorch.randn(4, 3, 2)},
           lambda o: nn.utils.rnn.pack_padded_sequence(o["x"], [4, 3, 2, 1]), RuntimeError,
           ("Expected `len(lengths)` to be equal to batch_size, but got 4 (batch_size=3)",)),
    Misuse("attention mask of the wrong shape", lambda: attention_and_input(mask=tinytorch.zeros(3, 4, dtype=tinytorch.bool)), attend,
           RuntimeError, ("The shape of the 2D attn_mask is", "[3, 4]", "but should be (3, 3)")),
    Misuse("attention mask of an integer dtype", lambda: attention_and_input(mask=tinytorch.zeros(3, 3, dtype=tinytorch.int64)), attend,
           AssertionError, ("only bool and floating types of attn_mask are supported",)),
    Misuse("key padding mask of the wrong batch", lambda: attention_and_input(padding=tinytorch.zeros(4, 3, dtype=tinytorch.bool)), attend,
           AssertionError, ("Expected key_padded_mask.shape[0] to be 2, but got 4",)),
    Misuse("embed_dim not divisible by num_heads", lambda: {}, lambda o: nn.MultiheadAttention(10, 4), AssertionError,
           ("embed_dim must be divisible by num_heads",)),
    Misuse("sdpa key and query widths", lambda: {"q": tinytorch.randn(2, 3, 4), "k": tinytorch.randn(2, 5, 6)},
           lambda o: F.scaled_dot_product_attention(o["q"], o["k"], o["k"]), RuntimeError,
           ("Expected size for first two dimensions of batch2 tensor",)),
]


# -- RNG state -----------------------------------------------------------------------------------
def rng():
    return {"rng": tinytorch.random.default_generator}


def state_bytes(obj):
    return tinytorch.tensor(np.frombuffer(json.dumps(obj).encode(), dtype=np.uint8).copy())


RNG = [
    Misuse("set_rng_state of a list", rng, lambda o: tinytorch.set_rng_state([1, 2, 3]), TypeError, ("expected a tinytorch.ByteTensor, but got list",)),
    Misuse("set_rng_state of a float tensor", rng, lambda o: tinytorch.set_rng_state(tinytorch.zeros(3)), TypeError,
           ("RNG state must be a tinytorch.ByteTensor",)),
    Misuse("set_rng_state of garbage bytes", rng, lambda o: tinytorch.set_rng_state(tinytorch.zeros(3, dtype=tinytorch.uint8)),
           RuntimeError, ("Invalid generator state",)),
    Misuse("set_state of another generator kind", rng, lambda o: o["rng"].set_state(state_bytes({"bit_generator": "MT19937"})),
           RuntimeError, ("Invalid generator state", "PCG64")),
    Misuse("set_state with a negative counter", rng, lambda o: o["rng"].set_state(
               state_bytes({"bit_generator": "PCG64", "state": {"state": -5, "inc": 7}, "has_uint32": 0, "uinteger": 0})),
           RuntimeError, ("Invalid generator state",)),
]


# -- files: IDX, checkpoints, downloads ----------------------------------------------------------
def idx_bytes(array, type_code=0x08):
    array = np.asarray(array)
    return struct.pack(">HBB", 0, type_code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape) + array.astype(np.uint8).tobytes()


def mnist_folder(images=None, labels=None, compress=False):
    """An MNIST root (under the test's working folder) with the t10k files; ``images``/``labels``
    replace the valid bytes of either file."""
    raw = Path.cwd() / "mnist" / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    valid_images = idx_bytes(np.arange(3 * 28 * 28).reshape(3, 28, 28) % 256)
    valid_labels = idx_bytes([7, 2, 1])
    for name, payload in (("t10k-images-idx3-ubyte", images or valid_images), ("t10k-labels-idx1-ubyte", labels or valid_labels)):
        path = raw / (name + ".gz" if compress else name)
        path.write_bytes(gzip.compress(payload) if compress else payload)
    return {"root": Path.cwd() / "mnist"}


def gzip_bomb():
    """A valid one-image header, then 64 MiB of zeros: a 64 KiB gzip file."""
    raw = Path.cwd() / "mnist" / "MNIST" / "raw"
    mnist_folder()
    with gzip.open(raw / "t10k-images-idx3-ubyte.gz", "wb", compresslevel=9) as f:
        f.write(idx_bytes(np.zeros((1, 28, 28))))
        zeros = bytes(2**20)
        for _ in range(64):
            f.write(zeros)
    (raw / "t10k-images-idx3-ubyte").unlink()  # the raw file would be found first
    return {"root": Path.cwd() / "mnist"}


def open_mnist(o):
    return datasets.MNIST(o["root"], train=False)


def checkpoint(edit=None):
    """A good checkpoint file (``edit`` turns its bytes into a broken one) and a model to restore."""
    model = mlp()
    path = Path.cwd() / "ckpt.safetensors"
    tinytorch.save({"model": model.state_dict(), "epoch": 3}, path)
    if edit is not None:
        path.write_bytes(edit(path.read_bytes()))
    return {"model": model, "file": path}


def restore(o):
    o["model"].load_state_dict(tinytorch.load(o["file"])["model"])


def with_header(raw, change):
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + length])
    change(header)
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + raw[8 + length :]


def first_tensor(header):
    return next(value for key, value in header.items() if key != "__metadata__")


def offsets_past_end(header):
    first_tensor(header)["data_offsets"][1] += 10**6


def absurd_shape(header):
    entry = first_tensor(header)
    entry["shape"], entry["data_offsets"] = [10**6, 10**6, 10**6], [0, 4 * 10**18]


class Boom:
    def __reduce__(self):
        return (open, (str(Path.cwd() / "pwned"), "w"))


def pickle_file():
    path = Path.cwd() / "model.pt"
    path.write_bytes(pickle.dumps({"weight": Boom()}))
    return {"file": path, "marker": Path.cwd() / "pwned"}


def torch_zip_file():
    """The layout of a PyTorch ``.pt`` file: a zip archive holding a pickle."""
    path = Path.cwd() / "model.pt"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("archive/data.pkl", pickle.dumps({"weight": Boom()}))
    path.write_bytes(buffer.getvalue())
    return {"file": path, "marker": Path.cwd() / "pwned"}


def download_source(existing=None):
    """A file:// source, and the user's download folder (with a file already there)."""
    source = Path.cwd() / "server" / "train-images-idx3-ubyte.gz"
    source.parent.mkdir()
    source.write_bytes(gzip.compress(idx_bytes(np.zeros((2, 28, 28)))))
    folder = Path.cwd() / "downloads"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    if existing is not None:
        (folder / source.name).write_bytes(existing)
    return {"source": source, "folder": folder}


class DroppedConnection(io.BytesIO):
    headers = {"Content-Length": "1000000"}

    def read(self, size=-1):
        if self.tell() >= 100_000:
            raise ConnectionResetError("connection dropped")
        return super().read(size)


def dropped_download(o):
    with mock.patch.object(download_utils, "_urlopen", lambda request, timeout: DroppedConnection(bytes(1_000_000))):
        download_utils.download_url("https://example.invalid/f.gz", o["folder"])


class FileMirrorMNIST(datasets.MNIST):
    resources = [(name, "0" * 32) for name, _ in datasets.MNIST.resources]  # no file matches these


def mnist_download(o):
    FileMirrorMNIST.mirrors = [o["source"].parent.as_uri() + "/"]
    FileMirrorMNIST(o["folder"], train=True, download=True)


def mnist_download_setup():
    objects = download_source()
    (objects["folder"] / "FileMirrorMNIST" / "raw").mkdir(parents=True)
    return objects


FILES = [
    Misuse("IDX file with a wrong magic number", lambda: mnist_folder(images=b"\x12\x34\x08\x03" + bytes(100)), open_mnist, RuntimeError,
           ("t10k-images-idx3-ubyte", "not an IDX file (magic number 0x12340803)")),
    Misuse("IDX file truncated (gz)", lambda: mnist_folder(images=idx_bytes(np.zeros((3, 28, 28)))[:-100], compress=True),
           open_mnist, RuntimeError, ("t10k-images-idx3-ubyte.gz", "truncated")),
    Misuse("IDX header truncated", lambda: mnist_folder(labels=b"\x00\x00\x08\x01\x00"), open_mnist, RuntimeError,
           ("t10k-labels-idx1-ubyte", "shorter than its 8-byte header")),
    Misuse("IDX counts that disagree with the size", lambda: mnist_folder(labels=idx_bytes([7, 2, 1]) + b"xx"), open_mnist, RuntimeError,
           ("t10k-labels-idx1-ubyte", "the header says 3 values of uint8", "holds 13 bytes (trailing data)")),
    Misuse("IDX header claiming 10^9 images", lambda: mnist_folder(images=b"\x00\x00\x08\x03" + struct.pack(">3I", 10**9, 28, 28) + bytes(784)),
           open_mnist, RuntimeError, ("1000000000x28x28", "truncated")),
    Misuse("IDX sizes whose product overflows int64", lambda: mnist_folder(images=b"\x00\x00\x08\x03" + struct.pack(">3I", 2**31, 2**31, 4)),
           open_mnist, RuntimeError, ("2147483648x2147483648x4", "truncated")),
    Misuse("IDX gzip bomb (64 MiB of trailing zeros)", gzip_bomb, open_mnist, RuntimeError,
           ("t10k-images-idx3-ubyte.gz", "trailing data")),
    Misuse("IDX image and label counts differ", lambda: mnist_folder(labels=idx_bytes([7, 2])), open_mnist, RuntimeError,
           ("holds 3 images but", "holds 2 labels")),
    Misuse("IDX labels where images belong", lambda: mnist_folder(images=idx_bytes([1, 2, 3])), open_mnist, RuntimeError,
           ("expected an MNIST image file",)),
    Misuse("checkpoint truncated in its data", lambda: checkpoint(lambda raw: raw[:-20]), restore, RuntimeError,
           ("ckpt.safetensors", "past the end of the data")),
    Misuse("checkpoint truncated in its header", lambda: checkpoint(lambda raw: raw[:40]), restore, RuntimeError,
           ("ckpt.safetensors", "bad header length", "truncated or corrupted")),
    Misuse("checkpoint header corrupted", lambda: checkpoint(lambda raw: raw[:8] + b"#" + raw[9:]), restore, RuntimeError,
           ("ckpt.safetensors", "header not JSON")),
    Misuse("checkpoint header length absurd", lambda: checkpoint(lambda raw: struct.pack("<Q", 2**62) + raw[8:]), restore, RuntimeError,
           ("bad header length 4611686018427387904",)),
    Misuse("checkpoint offsets past its end", lambda: checkpoint(lambda raw: with_header(raw, offsets_past_end)), restore, RuntimeError,
           ("past the end of the data",)),
    Misuse("checkpoint claiming a 4e18-byte tensor", lambda: checkpoint(lambda raw: with_header(raw, absurd_shape)), restore, RuntimeError,
           ("data_offsets [0, 4000000000000000000] past the end of the data",)),
    Misuse("checkpoint metadata corrupted", lambda: checkpoint(lambda raw: raw.replace(b'\\"version\\": 1', b'\\"version\\": 9')),
           restore, RuntimeError, ("metadata", "unknown format version 9")),
    Misuse("a pickle file is not unpickled", pickle_file, lambda o: tinytorch.load(o["file"]), RuntimeError,
           ("model.pt", "not a valid tinytorch/safetensors file")),
    Misuse("a PyTorch zip checkpoint is not unpickled", torch_zip_file, lambda o: tinytorch.load(o["file"]), RuntimeError,
           ("model.pt", "bad header length")),
    Misuse("save into a missing folder", lambda: {"model": mlp(), "folder": Path.cwd()},
           lambda o: tinytorch.save(o["model"].state_dict(), Path.cwd() / "no" / "such" / "ckpt"), RuntimeError,
           ("Parent directory", "does not exist.")),
    Misuse("download with a wrong checksum", download_source,
           lambda o: download_utils.download_url(o["source"].as_uri(), o["folder"], md5="0" * 32), RuntimeError,
           ("Checksum mismatch", "expected 00000000000000000000000000000000", "the download was removed")),
    Misuse("re-download over a corrupt file keeps it", lambda: download_source(existing=b"half a file"),
           lambda o: download_utils.download_url(o["source"].as_uri(), o["folder"], md5="0" * 32), RuntimeError,
           ("Checksum mismatch",)),
    Misuse("download dropped mid-stream", download_source, dropped_download, ConnectionResetError, ("connection dropped",)),
    Misuse("MNIST download from a mirror with wrong files", mnist_download_setup, mnist_download, RuntimeError,
           ("Error downloading train-images-idx3-ubyte.gz", "Checksum mismatch")),
]

FAMILIES = MODULES + OPTIMIZERS + LOADERS + LOSSES + SEQUENCE + RNG + FILES
ALL_ROWS = CORE + FAMILIES


def test_the_table_has_at_least_sixty_rows():
    counts = {"core": len(CORE), "modules": len(MODULES), "optimizers": len(OPTIMIZERS), "DataLoader": len(LOADERS),
              "losses": len(LOSSES), "sequence": len(SEQUENCE), "RNG": len(RNG), "files": len(FILES)}
    print(f"\nmisuse table: {len(ALL_ROWS)} rows ({', '.join(f'{k} {v}' for k, v in counts.items())})")
    assert len(ALL_ROWS) >= 60 and len({row.name for row in ALL_ROWS}) == len(ALL_ROWS)
    assert all(count >= 4 for count in counts.values())


@pytest.mark.parametrize("case", FAMILIES, ids=[c.name for c in FAMILIES])
def test_misuse(case, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the rows' files go here
    objects = case.setup()
    before = freeze(objects)
    tracemalloc.start()
    try:
        with pytest.raises(case.error) as info:
            case.act(objects)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    message = str(info.value)
    for word in case.words:
        assert word in message, f"{case.name}: {word!r} not in {message!r}"
    assert same(before, freeze(objects)), f"{case.name}: the user's objects changed"
    assert peak < MEMORY_BOUND, f"{case.name}: allocated {peak / 2**20:.1f} MiB before raising"
    assert not (tmp_path / "pwned").exists(), f"{case.name}: loading ran code"
    leftovers = [p.name for p in tmp_path.rglob("*") if p.name.endswith((".tmp", ".part"))]
    assert leftovers == [], f"{case.name}: left temporary files {leftovers}"


def test_freeze_sees_every_kind_of_change(tmp_path):
    """The snapshot is what makes 'unchanged' mean something: each kind of change must show."""
    objects = {**trained(optim.Adam, lr=0.1), "model": mlp(), "data": data()["data"], "rng": tinytorch.Generator(), "file": tmp_path / "f"}
    objects["file"].write_bytes(b"1")
    changes = [
        lambda o: o["w"]._data.__iadd__(1),
        lambda o: setattr(o["w"], "grad", None),
        lambda o: o["model"][2].bias._data.__imul__(2),
        lambda o: setattr(o["model"][0], "weight", nn.Parameter(o["model"][0].weight.detach().clone())),  # same values, new object
        lambda o: o["model"].eval(),
        lambda o: o["opt"].state[o["w"]]["exp_avg"].add_(1),
        lambda o: o["opt"].param_groups[0].update(lr=0.2),
        lambda o: o["data"].tensors[1].add_(1),
        lambda o: o["rng"].manual_seed(5),
        lambda o: o["file"].write_bytes(b"2"),
    ]
    for change in changes:
        before = freeze(objects)
        change(objects)
        assert not same(before, freeze(objects))
