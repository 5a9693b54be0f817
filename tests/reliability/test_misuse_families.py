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
import math
import pickle
import struct
import tracemalloc
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
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
    # PyTorch's argument parser words this "random_() received an invalid combination of arguments - got (generator=int, )".
    Misuse("shuffling with a generator that is not one", data, lambda o: list(RandomSampler(o["data"], generator=5)), TypeError,
           ("generator must be a tinytorch.Generator, but got int",)),
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


# -- around convolutions: normalization, resampling, channel dropout, their optimizers -----------
def layer_and(layer, *shape, spatial=2):
    """A layer with state (its running statistics moved by one training step) and an input for it."""
    if getattr(layer, "track_running_stats", False):
        layer(tinytorch.randn(2, layer.num_features, *([3] * spatial)))
    return {"model": layer, "x": tinytorch.randn(*shape)}


def image_and_grid(image_shape, grid_shape, grid_dtype=tinytorch.float32):
    return {"x": tinytorch.randn(*image_shape, requires_grad=True),
            "grid": tinytorch.rand(*grid_shape, dtype=grid_dtype, requires_grad=True)}


def thetas(*shape, dtype=tinytorch.float32):
    return {"theta": tinytorch.zeros(*shape, dtype=dtype, requires_grad=dtype.is_floating_point)}


def images(*shape):
    return {"x": tinytorch.randn(*shape, requires_grad=True)}


def sgd_params():
    objects = params()
    objects["opt"] = optim.SGD([objects["p"]], lr=0.1)
    return objects


AROUND_CONV = [
    Misuse("conv3d fed a 3-D tensor", lambda: {"x": tinytorch.randn(4, 5, 6, requires_grad=True),
                                              "w": tinytorch.randn(2, 4, 3, 3, 3, requires_grad=True)},
           lambda o: F.conv3d(o["x"], o["w"]), RuntimeError,
           ("Expected 4D (unbatched) or 5D (batched) input to conv3d, but got input of size: [4, 5, 6]",)),
    Misuse("conv_transpose3d output_padding not below stride or dilation",
           lambda: {"x": tinytorch.randn(1, 4, 2, 2, 2, requires_grad=True), "w": tinytorch.randn(4, 3, 2, 2, 2, requires_grad=True)},
           lambda o: F.conv_transpose3d(o["x"], o["w"], stride=2, output_padding=(0, 2, 0)), RuntimeError,
           ("output padding must be smaller than either stride or dilation", "output_padding_depth: 0 output_padding_height: 2")),
    Misuse("max_pool3d padding above half the kernel", lambda: {"x": tinytorch.randn(1, 2, 4, 4, 4, requires_grad=True)},
           lambda o: F.max_pool3d(o["x"], 2, padding=2), RuntimeError,
           ("pad should be at most half of effective kernel size, but got pad=2, kernel_size=2 and dilation=1",)),
    Misuse("avg_pool3d kernel larger than the input", lambda: {"x": tinytorch.randn(1, 2, 4, 1, 4, requires_grad=True)},
           lambda o: F.avg_pool3d(o["x"], 2, padding=1).sum().backward(), RuntimeError,
           ("input image (T: 4 H: 1 W: 4) smaller than kernel size (kT: 2 kH: 2 kW: 2)",)),
    Misuse("adaptive_max_pool3d two sizes", lambda: {"x": tinytorch.randn(1, 2, 4, 4, 4, requires_grad=True)},
           lambda o: F.adaptive_max_pool3d(o["x"], (2, 2)), RuntimeError,
           ("adaptive_max_pool3d(): internal error: output_size.size() must be 3",)),
    Misuse("max_unpool3d index out of range", lambda: {"x": tinytorch.randn(1, 1, 2, 2, 2, requires_grad=True)},
           lambda o: F.max_unpool3d(o["x"], tinytorch.full((1, 1, 2, 2, 2), 70), 2).sum().backward(), RuntimeError,
           ("Found an invalid max index: 70 (output volumes are of size 4x4x4)",)),
    Misuse("lp_pool3d kernel pair", lambda: {"x": tinytorch.randn(1, 2, 4, 4, 4, requires_grad=True)},
           lambda o: F.lp_pool3d(o["x"], 2, (2, 2)), ValueError, ("not enough values to unpack (expected 3, got 2)",)),
    Misuse("fractional_max_pool2d without output_size or output_ratio", lambda: images(1, 2, 6, 6),
           lambda o: F.fractional_max_pool2d(o["x"], 2), ValueError,
           ("fractional_max_pool2d requires specifying either an output_size or an output_ratio",)),
    Misuse("fractional_max_pool2d output too large for the kernel", lambda: images(1, 2, 6, 6),
           lambda o: F.fractional_max_pool2d(o["x"], 3, output_size=(5, 2)), RuntimeError,
           ("fractional_max_pool2d(): pool height 3 too large relative to input height 6",)),
    Misuse("fractional_max_pool3d samples of another dtype", lambda: {"x": tinytorch.randn(1, 2, 5, 5, 5, requires_grad=True)},
           lambda o: F.fractional_max_pool3d(o["x"], 2, output_size=2, _random_samples=tinytorch.rand(1, 2, 3, dtype=tinytorch.float64)),
           RuntimeError, ("Expect _random_samples to have the same dtype as input",)),
    Misuse("FractionalMaxPool3d ratio of 1", lambda: {}, lambda o: nn.FractionalMaxPool3d(2, output_ratio=(0.5, 1.0, 0.5)),
           ValueError, ("output_ratio must be between 0 and 1 (got (0.5, 1.0, 0.5))",)),
    Misuse("BatchNorm2d wrong channel count", lambda: layer_and(nn.BatchNorm2d(3), 2, 4, 5, 5), lambda o: o["model"](o["x"]),
           RuntimeError, ("running_mean should contain 4 elements not 3",)),
    Misuse("BatchNorm2d of a 3-D input", lambda: layer_and(nn.BatchNorm2d(3), 3, 5, 5), lambda o: o["model"](o["x"]),
           ValueError, ("expected 4D input (got 3D input)",)),
    Misuse("InstanceNorm2d channel mismatch", lambda: layer_and(nn.InstanceNorm2d(4, affine=True, track_running_stats=True), 2, 3, 5, 5),
           lambda o: o["model"](o["x"]), ValueError, ("expected input's size at dim=1 to match num_features (4), but got: 3.",)),
    Misuse("GroupNorm wrong channel count", lambda: layer_and(nn.GroupNorm(2, 4), 2, 6, 3), lambda o: o["model"](o["x"]),
           RuntimeError, ("weight of shape [4]", "input of shape [2, 6, 3]")),
    Misuse("GroupNorm groups that do not divide the channels", lambda: {}, lambda o: nn.GroupNorm(4, 6), ValueError,
           ("num_channels (6) must be divisible by num_groups (4)",)),
    Misuse("interpolate with both size and scale_factor", lambda: images(1, 2, 4, 4),
           lambda o: F.interpolate(o["x"], size=3, scale_factor=2), ValueError, ("only one of size or scale_factor should be defined",)),
    Misuse("interpolate to an empty size", lambda: images(1, 2, 4, 4), lambda o: F.interpolate(o["x"], scale_factor=(0.1, 0.5), mode="bilinear"),
           RuntimeError, ("Input and output sizes should be greater than 0", "output (H: 0, W: 2)")),
    Misuse("bilinear of a 3-D input", lambda: images(2, 4, 4), lambda o: F.interpolate(o["x"], scale_factor=2, mode="bilinear"),
           NotImplementedError, ("Got 3D input, but bilinear mode needs 4D input",)),
    Misuse("pixel_shuffle channels", lambda: images(2, 3, 4, 4), lambda o: F.pixel_shuffle(o["x"], 2), RuntimeError,
           ("divisible by the square of upscale_factor", "input.size(-3)=3 is not divisible by 4")),
    Misuse("grid_sample with mode 'linear'", lambda: image_and_grid((1, 2, 4, 4), (1, 3, 3, 2)),
           lambda o: F.grid_sample(o["x"], o["grid"], mode="linear", align_corners=False), ValueError,
           ("expected mode to be 'bilinear', 'nearest' or 'bicubic', but got: 'linear'",)),
    Misuse("grid_sample with padding_mode 'circular'", lambda: image_and_grid((1, 2, 4, 4), (1, 3, 3, 2)),
           lambda o: F.grid_sample(o["x"], o["grid"], padding_mode="circular", align_corners=False), ValueError,
           ("expected padding_mode to be 'zeros', 'border', or 'reflection', but got: 'circular'",)),
    Misuse("grid_sample grid of another batch size", lambda: image_and_grid((2, 2, 4, 4), (1, 3, 3, 2)),
           lambda o: F.grid_sample(o["x"], o["grid"], align_corners=False), RuntimeError,
           ("expected grid and input to have same batch size", "[2, 2, 4, 4]", "[1, 3, 3, 2]")),
    Misuse("grid_sample 3-D grid for a 4-D input", lambda: image_and_grid((1, 2, 4, 4), (1, 3, 3, 3)),
           lambda o: F.grid_sample(o["x"], o["grid"], align_corners=False), RuntimeError,
           ("expected grid to have size 2 in last dimension",)),
    Misuse("grid_sample bicubic of a 5-D input", lambda: image_and_grid((1, 2, 3, 4, 4), (1, 2, 3, 3, 3)),
           lambda o: F.grid_sample(o["x"], o["grid"], mode="bicubic", align_corners=False), RuntimeError,
           ("bicubic interpolation only supports 4D input",)),
    Misuse("grid_sample float64 grid for a float32 input", lambda: image_and_grid((1, 2, 4, 4), (1, 3, 3, 2), tinytorch.float64),
           lambda o: F.grid_sample(o["x"], o["grid"], align_corners=False), RuntimeError,
           ("expected scalar type Float but found Double",)),
    Misuse("affine_grid theta of the wrong shape", lambda: thetas(2, 3, 3),
           lambda o: F.affine_grid(o["theta"], [2, 1, 4, 4], align_corners=False), ValueError,
           ("Expected a batch of 2D affine matrices of shape Nx2x3", "Got tinytorch.Size([2, 3, 3])")),
    Misuse("affine_grid integer theta", lambda: thetas(2, 2, 3, dtype=tinytorch.int64),
           lambda o: F.affine_grid(o["theta"], [2, 1, 4, 4], align_corners=False), ValueError,
           ("Expected theta to have floating point type, but got tinytorch.int64",)),
    Misuse("affine_grid of a 3-D size", lambda: thetas(2, 2, 3),
           lambda o: F.affine_grid(o["theta"], [2, 1, 4], align_corners=False), NotImplementedError,
           ("affine_grid only supports 4D and 5D sizes",)),
    Misuse("affine_grid to an empty size", lambda: thetas(2, 2, 3),
           lambda o: F.affine_grid(o["theta"], [2, 1, 0, 4], align_corners=False), ValueError,
           ("Expected non-zero, positive output size. Got [2, 1, 0, 4]",)),
    Misuse("affine_grid size of another batch size", lambda: thetas(2, 2, 3),
           lambda o: F.affine_grid(o["theta"], [3, 1, 4, 4], align_corners=False), RuntimeError,
           ("Expected size for first two dimensions of batch2 tensor to be: [3, 3] but got: [2, 3].",)),
    Misuse("dropout1d of a 4-D input", lambda: images(2, 3, 4, 4), lambda o: F.dropout1d(o["x"]), RuntimeError,
           ("dropout1d: Expected 2D or 3D input, but received a 4D input",)),
    Misuse("Dropout2d probability above 1", lambda: {}, lambda o: nn.Dropout2d(1.5), ValueError,
           ("dropout probability has to be between 0 and 1, but got 1.5",)),
    Misuse("Adadelta rho above 1", params, lambda o: optim.Adadelta([o["p"]], rho=1.5), ValueError, ("Invalid rho value: 1.5",)),
    Misuse("NAdam negative momentum_decay", params, lambda o: optim.NAdam([o["p"]], momentum_decay=-0.1), ValueError,
           ("Invalid momentum_decay value: -0.1",)),
    Misuse("RAdam beta2 of 1", params, lambda o: optim.RAdam([o["p"]], betas=(0.9, 1.0)), ValueError, ("Invalid beta parameter at index 1: 1.0",)),
    Misuse("Adamax negative lr", params, lambda o: optim.Adamax([o["p"]], lr=-2e-3), ValueError, ("Invalid learning rate: -0.002",)),
    Misuse("CosineAnnealingWarmRestarts T_0=0", sgd_params, lambda o: optim.lr_scheduler.CosineAnnealingWarmRestarts(o["opt"], T_0=0),
           ValueError, ("Expected positive integer T_0, but got 0",)),
]


# -- convolution, pooling, padding --------------------------------------------------------------
def cnn(in_channels=1, **kwargs):
    """A conv model and an input batch the user owns (a failed call must leave both untouched)."""
    model = nn.Sequential(nn.Conv2d(in_channels, 4, 3, **kwargs), nn.ReLU(), nn.MaxPool2d(2))
    return {"model": model, "w": tinytorch.randn(4, in_channels, 3, 3, requires_grad=True)}


def with_input(*shape, **kwargs):
    return lambda: {**cnn(**kwargs), "x": tinytorch.randn(*shape, requires_grad=True)}


def forward_backward(o):
    o["model"](o["x"]).sum().backward()


CONV = [
    Misuse("Conv2d fed the wrong channel count", with_input(2, 3, 8, 8), forward_backward, RuntimeError,
           ("Given groups=1, weight of size [4, 1, 3, 3], expected input[2, 3, 8, 8] to have 1 channels, but got 3 channels instead",)),
    Misuse("Conv2d kernel larger than the padded input", with_input(2, 1, 2, 2), forward_backward, RuntimeError,
           ("Calculated padded input size per channel: (2 x 2). Kernel size: (3 x 3).", "Kernel size can't be greater than actual input size")),
    Misuse("conv2d zero stride", with_input(2, 1, 8, 8), lambda o: F.conv2d(o["x"], o["w"], stride=0).sum().backward(), RuntimeError,
           ("non-positive stride is not supported",)),
    Misuse("conv2d negative stride", with_input(2, 1, 8, 8), lambda o: F.conv2d(o["x"], o["w"], stride=(1, -2)).sum().backward(),
           RuntimeError, ("non-positive stride is not supported",)),
    Misuse("conv2d groups that do not divide the weight", with_input(2, 4, 8, 8),
           lambda o: F.conv2d(o["x"], tinytorch.ones(3, 2, 3, 3), groups=2), RuntimeError,
           ("Given groups=2, expected weight to be divisible by 2 at dimension 0", "[3, 2, 3, 3]")),
    Misuse("Conv2d groups that do not divide the channels", lambda: {}, lambda o: nn.Conv2d(3, 4, 3, groups=2), ValueError,
           ("in_channels must be divisible by groups",)),
    Misuse("Conv1d fed a 4-D batch", with_input(2, 1, 8, 8), lambda o: nn.Conv1d(1, 4, 3)(o["x"]), RuntimeError,
           ("Expected 2D (unbatched) or 3D (batched) input to conv1d, but got input of size: [2, 1, 8, 8]",)),
    Misuse("conv_transpose2d output that comes out empty", with_input(1, 4, 1, 1),
           lambda o: F.conv_transpose2d(o["x"], o["w"], padding=2).sum().backward(), RuntimeError,
           ("Given input size per channel: (1 x 1). Calculated output size per channel: (-1 x -1). Output size is too small",)),
    Misuse("ConvTranspose2d output_size out of range", with_input(1, 4, 5, 5),
           lambda o: nn.ConvTranspose2d(4, 2, 3, stride=2)(o["x"], output_size=(20, 20)), ValueError,
           ("requested an output size of (20, 20), but valid sizes range from [11, 11] to [12, 12]",)),
    Misuse("max_pool2d output that comes out empty", with_input(2, 1, 5, 5), lambda o: F.max_pool2d(o["model"][0](o["x"]), 4).sum().backward(),
           RuntimeError, ("Given input size: (4x3x3). Calculated output size: (4x0x0). Output size is too small",)),
    Misuse("max_pool2d padding above half the kernel", with_input(2, 1, 8, 8), lambda o: F.max_pool2d(o["x"], 2, padding=2), RuntimeError,
           ("pad should be at most half of effective kernel size, but got pad=2, kernel_size=2 and dilation=1",)),
    Misuse("avg_pool2d zero stride", with_input(2, 1, 8, 8), lambda o: F.avg_pool2d(o["x"], 2, stride=0), RuntimeError,
           ("stride should not be zero",)),
    Misuse("adaptive_avg_pool2d negative size", with_input(2, 1, 8, 8), lambda o: F.adaptive_avg_pool2d(o["x"], (2, -1)), RuntimeError,
           ("elements of output_size must be greater than or equal to 0 but received {2, -1}",)),
    Misuse("max_unpool2d index out of range", with_input(1, 1, 4, 4),
           lambda o: F.max_unpool2d(o["x"][:, :, :2, :2], tinytorch.full((1, 1, 2, 2), 17), 2).sum().backward(), RuntimeError,
           ("Found an invalid max index: 17 (output volumes are of size 4x4)",)),
    Misuse("reflection padding as wide as the input", with_input(2, 1, 3, 3, padding=3, padding_mode="reflect"), forward_backward,
           RuntimeError, ("Padding size should be less than the corresponding input dimension", "padding (3, 3) at dimension 3 of input [2, 1, 3, 3]")),
    Misuse("unfold kernel larger than the input", with_input(2, 1, 4, 4), lambda o: F.unfold(o["x"], 5), RuntimeError,
           ("Given input with spatial size (4, 4), kernel_size=(5, 5)", "calculated shape of the array of sliding blocks as (0, 0)")),
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

# -- rows written once for both libraries ----------------------------------------------------------
# ``setup(lib)`` and ``act(lib, objects)`` take the library (tinytorch or torch), so each row also
# runs on PyTorch: ``test_pytorch_raises_the_same`` checks that torch 2.13 raises exactly this
# exception type with these words ("tinytorch." read as "torch.").
@dataclass
class Mirrored:
    name: str
    setup: Callable
    act: Callable
    error: type
    words: tuple

    def row(self):
        return Misuse(self.name, lambda: self.setup(tinytorch), lambda o: self.act(tinytorch, o), self.error, self.words)


def ones(L, *shape, dtype=None, grad=False):
    return L.ones(*shape, dtype=dtype, requires_grad=grad)


def nothing(L):
    return {}


def with_rng(L):
    """Random factories must leave the generator where it was when they refuse."""
    return {"rng": L.random.default_generator}


def tensor_and_rng(*shape, dtype="float32"):
    """A tensor (distinct values) to fill in place, and the generator a fill would draw from."""
    return lambda L: {"t": L.arange(float(math.prod(shape))).reshape(shape).to(getattr(L, dtype)), "rng": L.random.default_generator}


def leaf_with_grad(L):
    """A leaf whose .grad already holds values: a refused assignment must keep them."""
    w = L.ones(2, 3, requires_grad=True)
    (w * L.arange(6.0).reshape(2, 3)).sum().backward()
    return {"w": w}


M = Mirrored
Long, Float = "Long", "Float"

FACTORIES = [
    M("tensor of a ragged nested list", nothing, lambda L, o: L.tensor([[[1.0]], [[1.0, 2.0]]]), ValueError,
      ("expected sequence of length 1 at dim 2 (got 2)",)),
    M("tensor of a list holding None", nothing, lambda L, o: L.tensor([1.0, None]), RuntimeError, ("Could not infer dtype of NoneType",)),
    M("tensor of strings", nothing, lambda L, o: L.tensor(["a", "b"]), ValueError, ("too many dimensions 'str'",)),
    M("tensor of numbers and a string", nothing, lambda L, o: L.tensor([1.0, "2"]), TypeError, ("new(): invalid data type 'str'",)),
    M("tensor with a number where a row belongs", nothing, lambda L, o: L.tensor([[1.0, 2.0], 3.0]), TypeError, ("not a sequence",)),
    M("tensor with a row where a number belongs", nothing, lambda L, o: L.tensor([1.0, [2.0]]), TypeError, ("must be real number, not list",)),
    M("tensor of an int past int64", nothing, lambda L, o: L.tensor([2**70]), ValueError, ("Overflow when unpacking long long",)),
    M("tensor of a list of multi-element tensors", lambda L: {"a": ones(L, 2), "b": ones(L, 2)}, lambda L, o: L.tensor([o["a"], o["b"]]),
      ValueError, ("only one element tensors can be converted to Python scalars",)),
    M("tensor of 300 as uint8", nothing, lambda L, o: L.tensor([300], dtype=L.uint8), RuntimeError,
      ("value cannot be converted to type uint8 without overflow",)),
    M("tensor with a dtype string", nothing, lambda L, o: L.tensor([1.0], dtype="float32"), TypeError, ("tensor(): argument 'dtype' must be",)),
    M("Tensor() of a float", nothing, lambda L, o: L.Tensor(2.5), TypeError, ("new(): data must be a sequence (got float)",)),
    M("Tensor() of a negative size", nothing, lambda L, o: L.Tensor(2, -1), RuntimeError, ("Trying to create tensor with negative dimension -1: [2, -1]",)),
    M("Tensor() of a ragged list", nothing, lambda L, o: L.Tensor([[1.0], [1.0, 2.0]]), ValueError, ("expected sequence of length 1 at dim 1 (got 2)",)),
    M("zeros of a float size", nothing, lambda L, o: L.zeros(2.5), TypeError, ("zeros(): argument 'size' (position 1) must be tuple of ints, not float",)),
    M("ones of a list holding a float", nothing, lambda L, o: L.ones([2, 1.5]), TypeError,
      ("ones(): argument 'size' failed to unpack the object at pos 2 with error \"type must be tuple of ints,but got float\"",)),
    M("empty of a float first size", nothing, lambda L, o: L.empty([1.5]), TypeError,
      ("empty(): argument 'size' (position 1) must be tuple of ints, but found element of type float at pos 0",)),
    M("zeros of a negative size", nothing, lambda L, o: L.zeros(2, -3), RuntimeError, ("zeros: Dimension size must be non-negative.",)),
    M("full of an int size", nothing, lambda L, o: L.full(3, 1.0), TypeError, ("full(): argument 'size' (position 1) must be tuple of ints, not int",)),
    M("full of a string", nothing, lambda L, o: L.full((2,), "a"), TypeError, ("full(): argument 'fill_value' (position 2) must be Number, not str",)),
    M("full of None", nothing, lambda L, o: L.full((2,), None), TypeError, ("must be Number, not NoneType",)),
    M("full_like of a string", lambda L: {"t": ones(L, 2)}, lambda L, o: L.full_like(o["t"], "a"), TypeError,
      ("full_like(): argument 'fill_value' (position 2) must be Number, not str",)),
    M("zeros_like of a list", nothing, lambda L, o: L.zeros_like([1, 2]), TypeError, ("zeros_like(): argument 'input' (position 1) must be Tensor, not list",)),
    M("arange to NaN", nothing, lambda L, o: L.arange(0, float("nan")), RuntimeError, ("unsupported range: 0 -> nan",)),
    M("arange from -inf", nothing, lambda L, o: L.arange(-float("inf"), 5), RuntimeError, ("unsupported range: -inf -> 5",)),
    M("arange against its step", nothing, lambda L, o: L.arange(10, 0), RuntimeError, ("upper bound and lower bound inconsistent with step sign",)),
    M("arange of 10^40 values", nothing, lambda L, o: L.arange(0, 1e20, 1e-20), RuntimeError, ("invalid size, possible overflow?",)),
    M("arange of bools", nothing, lambda L, o: L.arange(5, dtype=L.bool), NotImplementedError, ('"arange_cpu" not implemented for \'Bool\'',)),
    M("linspace of -1 steps", nothing, lambda L, o: L.linspace(0, 1, -1), RuntimeError, ("number of steps must be non-negative",)),
    M("logspace of 2.5 steps", nothing, lambda L, o: L.logspace(0, 1, 2.5), TypeError,
      ("logspace() received an invalid combination of arguments - got (int, int, float)",)),
    M("linspace of bools", nothing, lambda L, o: L.linspace(0, 1, 3, dtype=L.bool), NotImplementedError, ('"linspace_cpu" not implemented for \'Bool\'',)),
    M("eye of -1 rows", nothing, lambda L, o: L.eye(-1), RuntimeError, ("n must be greater or equal to 0, got -1",)),
    M("eye of -1 columns", nothing, lambda L, o: L.eye(2, -1), RuntimeError, ("m must be greater or equal to 0, got -1",)),
    M("eye of 2.5 rows", nothing, lambda L, o: L.eye(2.5), TypeError, ("eye(): argument 'n' (position 1) must be int, not float",)),
    M("rand of integers", with_rng, lambda L, o: L.rand(2, dtype=L.int64), NotImplementedError, ('"check_uniform_bounds" not implemented for \'Long\'',)),
    M("randn of integers", with_rng, lambda L, o: L.randn(2, dtype=L.int64), NotImplementedError, ('"normal_kernel_cpu" not implemented for \'Long\'',)),
    M("randn_like of an integer tensor", lambda L: {"t": ones(L, 2, dtype=L.int64), **with_rng(L)}, lambda L, o: L.randn_like(o["t"]),
      NotImplementedError, ('"normal_kernel_cpu" not implemented for \'Long\'',)),
    M("randn of a float size", with_rng, lambda L, o: L.randn(2.5), TypeError, ("randn(): argument 'size' (position 1) must be tuple of ints, not float",)),
    M("randint to 300 as uint8", with_rng, lambda L, o: L.randint(0, 300, (3,), dtype=L.uint8), RuntimeError, ("to - 1 is out of bounds for unsigned char",)),
    M("randint to 5 as bool", with_rng, lambda L, o: L.randint(0, 5, (3,), dtype=L.bool), RuntimeError, ("to - 1 is out of bounds for bool",)),
    M("randint of an int size", with_rng, lambda L, o: L.randint(0, 5, 3), TypeError,
      ("randint() received an invalid combination of arguments - got (int, int, int)",)),
    M("randint to a float", with_rng, lambda L, o: L.randint(0, 5.5, (3,)), TypeError,
      ("randint() received an invalid combination of arguments - got (int, float, tuple)",)),
    M("randperm of -1", with_rng, lambda L, o: L.randperm(-1), RuntimeError, ("Trying to create tensor with negative dimension -1: [-1]",)),
    M("randperm of 2.5", with_rng, lambda L, o: L.randperm(2.5), TypeError, ("randperm(): argument 'n' (position 1) must be int, not float",)),
    M("randperm of bools", with_rng, lambda L, o: L.randperm(3, dtype=L.bool), NotImplementedError, ('"randperm" not implemented for \'Bool\'',)),
    M("randperm of 300 as uint8", with_rng, lambda L, o: L.randperm(300, dtype=L.uint8), RuntimeError,
      ("value cannot be converted to type uint8_t without overflow",)),
]

SAMPLERS = [
    M("normal_ with std < 0", tensor_and_rng(2, 3), lambda L, o: o["t"].normal_(std=-1), RuntimeError, ("normal expects std >= 0.0, but found std -1",)),
    M("normal_ with std NaN", tensor_and_rng(2, 3), lambda L, o: o["t"].normal_(std=float("nan")), RuntimeError,
      ("normal expects std >= 0.0, but found std nan",)),
    M("normal_ of integers", tensor_and_rng(2, 3, dtype="int64"), lambda L, o: o["t"].normal_(), NotImplementedError,
      ('"normal_kernel_cpu" not implemented for \'Long\'',)),
    M("normal_ with a string mean", tensor_and_rng(2, 3), lambda L, o: o["t"].normal_(mean="a"), TypeError, ("normal_(): argument 'mean' must be float, not str",)),
    M("uniform_ from above to", tensor_and_rng(2, 3), lambda L, o: o["t"].uniform_(1, 0), RuntimeError,
      ("uniform_ expects to return a [from, to) range, but found from=1 > to=0",)),
    M("uniform_ of integers", tensor_and_rng(2, 3, dtype="int64"), lambda L, o: o["t"].uniform_(), NotImplementedError,
      ('"check_uniform_bounds" not implemented for \'Long\'',)),
    M("uniform_ to infinity", tensor_and_rng(2, 3), lambda L, o: o["t"].uniform_(0, float("inf")), RuntimeError, ("to is out of bounds for float",)),
    M("uniform_ past float32's range", tensor_and_rng(2, 3), lambda L, o: o["t"].uniform_(-3e38, 3e38), RuntimeError,
      ("uniform_ expects to-from <= std::numeric_limits<Float>::max(), but found to=3e+38 and from=-3e+38",)),
    M("exponential_ with lambda < 0", tensor_and_rng(2, 3), lambda L, o: o["t"].exponential_(-1), RuntimeError,
      ("exponential_ expects lambda > 0.0, but found lambda=-1",)),
    M("exponential_ of integers", tensor_and_rng(2, 3, dtype="int64"), lambda L, o: o["t"].exponential_(), RuntimeError,
      ("Exponential distribution is a continuous probability distribution. dtype must be a floating point but you specified Long",)),
    M("bernoulli_ with p = 1.5", tensor_and_rng(2, 3), lambda L, o: o["t"].bernoulli_(1.5), RuntimeError,
      ("bernoulli_ expects p to be in [0, 1], but got p=1.5",)),
    M("bernoulli_ with a tensor p outside [0, 1]", lambda L: {**tensor_and_rng(2, 3)(L), "p": L.full((2, 3), 2.0)},
      lambda L, o: o["t"].bernoulli_(o["p"]), RuntimeError, ("Expected p_in >= 0 && p_in <= 1 to be true, but got false.",)),
    M("bernoulli_ with a p that does not broadcast", lambda L: {**tensor_and_rng(2, 3)(L), "p": L.full((4,), 0.5)},
      lambda L, o: o["t"].bernoulli_(o["p"]), RuntimeError,
      ("The expanded size of the tensor (3) must match the existing size (4) at non-singleton dimension 1.",)),
    M("random_ from above to", tensor_and_rng(2, 3), lambda L, o: o["t"].random_(5, 2), RuntimeError,
      ("random_ expects 'from' to be less than 'to', but got from=5 >= to=2",)),
    M("random_ to 0", tensor_and_rng(2, 3), lambda L, o: o["t"].random_(0), RuntimeError,
      ("random_ expects 'from' to be less than 'to', but got from=0 >= to=0",)),
    M("random_ to 300 in uint8", tensor_and_rng(2, 3, dtype="uint8"), lambda L, o: o["t"].random_(0, 300), RuntimeError,
      ("to - 1 is out of bounds for unsigned char",)),
    M("random_ from -1 in uint8", tensor_and_rng(2, 3, dtype="uint8"), lambda L, o: o["t"].random_(-1, 3), RuntimeError,
      ("from is out of bounds for unsigned char",)),
    M("fill_ with a string", lambda L: {"t": ones(L, 3)}, lambda L, o: o["t"].fill_("a"), TypeError,
      ("fill_() received an invalid combination of arguments - got (str)",)),
    M("fill_ with None", lambda L: {"t": ones(L, 3)}, lambda L, o: o["t"].fill_(None), TypeError,
      ("fill_() received an invalid combination of arguments - got (NoneType)",)),
    M("copy_ from a list", lambda L: {"t": ones(L, 3)}, lambda L, o: o["t"].copy_([1.0, 2.0, 3.0]), TypeError,
      ("copy_(): argument 'other' (position 1) must be Tensor, not list",)),
    M("init.normal_ with std < 0", tensor_and_rng(2, 3), lambda L, o: L.nn.init.normal_(o["t"], std=-1), RuntimeError,
      ("normal expects std >= 0.0, but found std -1",)),
    M("init.uniform_ from above to", tensor_and_rng(2, 3), lambda L, o: L.nn.init.uniform_(o["t"], 1, 0), RuntimeError,
      ("uniform_ expects to return a [from, to) range, but found from=1 > to=0",)),
    M("init.trunc_normal_ with a > b", tensor_and_rng(2, 3), lambda L, o: L.nn.init.trunc_normal_(o["t"], a=2, b=-2), RuntimeError,
      ("uniform_ expects to return a [from, to) range, but found from=2 > to=-2",)),
    M("init.trunc_normal_ of integers", tensor_and_rng(2, 3, dtype="int64"), lambda L, o: L.nn.init.trunc_normal_(o["t"]), NotImplementedError,
      ('"normal_kernel_cpu" not implemented for \'Long\'',)),
    M("init.xavier_normal_ with a negative gain", tensor_and_rng(2, 3), lambda L, o: L.nn.init.xavier_normal_(o["t"], gain=-1), RuntimeError,
      ("normal expects std >= 0.0, but found std -0.632456",)),
    M("init.kaiming_uniform_ of integers", tensor_and_rng(2, 3, dtype="int64"), lambda L, o: L.nn.init.kaiming_uniform_(o["t"]), NotImplementedError,
      ('"check_uniform_bounds" not implemented for \'Long\'',)),
    M("init.orthogonal_ of integers", tensor_and_rng(2, 3, dtype="int64"), lambda L, o: L.nn.init.orthogonal_(o["t"]), NotImplementedError,
      ('"normal_kernel_cpu" not implemented for \'Long\'',)),
    M("init.constant_ with a string", lambda L: {"t": ones(L, 3)}, lambda L, o: L.nn.init.constant_(o["t"], "a"), TypeError,
      ("fill_() received an invalid combination of arguments - got (str)",)),
]

SETTERS = [
    M(".grad of another shape", leaf_with_grad, lambda L, o: setattr(o["w"], "grad", L.ones(3, 2)), RuntimeError,
      ("attempting to assign a gradient of size '[3, 2]' to a tensor of size '[2, 3]'. Please ensure that the gradient and the tensor are the same size",)),
    M(".grad of another dtype", leaf_with_grad, lambda L, o: setattr(o["w"], "grad", L.ones(2, 3, dtype=L.float64)), RuntimeError,
      ("attempting to assign a gradient with dtype 'double' to a tensor with",)),
    M(".grad of integers", leaf_with_grad, lambda L, o: setattr(o["w"], "grad", L.ones(2, 3, dtype=L.int64)), RuntimeError,
      ("attempting to assign a gradient with dtype 'long int' to a tensor with",)),
    M(".grad of a list", leaf_with_grad, lambda L, o: setattr(o["w"], "grad", [[0.0] * 3] * 2), TypeError,
      ("assigned grad expected to be a Tensor or None but got grad of type list",)),
    M(".grad of itself", leaf_with_grad, lambda L, o: setattr(o["w"], "grad", o["w"]), RuntimeError, ("can't assign Variable as its own grad",)),
    M(".data of a list", leaf_with_grad, lambda L, o: setattr(o["w"], "data", [1.0, 2.0]), TypeError, ("Variable data has to be a tensor, but got list",)),
    M(".data of integers on a leaf that requires grad", leaf_with_grad, lambda L, o: setattr(o["w"], "data", L.ones(2, 3, dtype=L.int64)),
      RuntimeError, ("data set to a tensor that requires gradients must be floating point or complex dtype",)),
    M(".requires_grad of a string", lambda L: {"t": ones(L, 3)}, lambda L, o: setattr(o["t"], "requires_grad", "yes"), RuntimeError,
      ("requires_grad must be a bool",)),
    M("requires_grad_ of None", lambda L: {"t": ones(L, 3)}, lambda L, o: o["t"].requires_grad_(None), TypeError,
      ("requires_grad_(): argument 'requires_grad' (position 1) must be bool, not NoneType",)),
    M(".requires_grad = True on a non-leaf", lambda L: {"w": ones(L, 3, grad=True)}, lambda L, o: setattr(o["w"] * 2, "requires_grad", True),
      RuntimeError, ("you can only change requires_grad flags of leaf variables.",)),
]


def linear_model(L, **kwargs):
    L.manual_seed(0)
    return {"model": L.nn.Linear(5, 3, **kwargs), "x": L.randn(4, 5)}


def loss_with(fn, target, **kwargs):
    """The act of a loss row: the model's output, ``target(L)``, then backward (nothing may reach
    the model's grads)."""
    return lambda L, o: fn(L)(o["model"](o["x"]), target(L), **kwargs).backward()


def functional_of(name):
    return lambda L: getattr(L.nn.functional, name)


def probabilities(L):
    return L.sigmoid(L.randn(4, 3))


LOSSES_MIRRORED = [
    M("binary_cross_entropy target outside [0, 1]", linear_model,
      lambda L, o: L.nn.functional.binary_cross_entropy(L.sigmoid(o["model"](o["x"])), L.full((4, 3), 2.0)).backward(), RuntimeError,
      ("all elements of target should be between 0 and 1",)),
    M("binary_cross_entropy input NaN", linear_model,
      lambda L, o: L.nn.functional.binary_cross_entropy(o["model"](o["x"]) * float("nan"), L.full((4, 3), 0.5)).backward(), RuntimeError,
      ("all elements of input should be between 0 and 1",)),
    M("binary_cross_entropy target of another dtype", linear_model,
      lambda L, o: L.nn.functional.binary_cross_entropy(L.sigmoid(o["model"](o["x"])), L.full((4, 3), 0.5, dtype=L.float64)).backward(),
      RuntimeError, ("Found dtype Double but expected Float",)),
    M("binary_cross_entropy of integers", nothing,
      lambda L, o: L.nn.functional.binary_cross_entropy(L.ones(4, dtype=L.int64), L.ones(4, dtype=L.int64)), NotImplementedError,
      ('"binary_cross_entropy" not implemented for \'Long\'',)),
    M("binary_cross_entropy weight that does not broadcast", linear_model,
      lambda L, o: L.nn.functional.binary_cross_entropy(L.sigmoid(o["model"](o["x"])), probabilities(L), weight=L.ones(5)).backward(),
      RuntimeError, ("Attempting to broadcast a dimension of length 5 at -1! Mismatching argument at index 1 had tinytorch.Size([5]); "
                     "but expected shape should be broadcastable to [4, 3]",)),
    M("binary_cross_entropy weight larger than the input", linear_model,
      lambda L, o: L.nn.functional.binary_cross_entropy(L.sigmoid(o["model"](o["x"])), probabilities(L), weight=L.ones(2, 4, 3)).backward(),
      RuntimeError, ("output with shape [4, 3] doesn't match the broadcast shape [2, 4, 3]",)),
    M("bce_with_logits integer target", linear_model, loss_with(functional_of("binary_cross_entropy_with_logits"), lambda L: L.ones(4, 3, dtype=L.int64)),
      RuntimeError, ("result type Float can't be cast to the desired output type Long",)),
    M("bce_with_logits integer logits", nothing,
      lambda L, o: L.nn.functional.binary_cross_entropy_with_logits(L.ones(4, dtype=L.int64), L.ones(4)), NotImplementedError,
      ('"log_sigmoid_cpu" not implemented for \'Long\'',)),
    M("bce_with_logits pos_weight that does not broadcast", linear_model,
      lambda L, o: L.nn.functional.binary_cross_entropy_with_logits(o["model"](o["x"]), probabilities(L), pos_weight=L.ones(5)).backward(),
      RuntimeError,
      ("The size of tensor a (5) must match the size of tensor b (3) at non-singleton dimension 1",)),
    M("bce_with_logits weight that does not broadcast", linear_model,
      lambda L, o: L.nn.functional.binary_cross_entropy_with_logits(o["model"](o["x"]), probabilities(L), weight=L.ones(5)).backward(),
      RuntimeError, ("The size of tensor a (3) must match the size of tensor b (5) at non-singleton dimension 1",)),
    M("mse_loss of integers", nothing, lambda L, o: L.nn.functional.mse_loss(L.ones(3, dtype=L.int64), L.ones(3, dtype=L.int64)),
      NotImplementedError, ('"mse_cpu" not implemented for \'Long\'',)),
    M("mse_loss weight of another size", linear_model, lambda L, o: L.nn.functional.mse_loss(o["model"](o["x"]), L.zeros(4, 3), weight=L.ones(3)).backward(),
      ValueError, ("Weights and input must have the same size.",)),
    M("l1_loss weight of another size", linear_model, lambda L, o: L.nn.functional.l1_loss(o["model"](o["x"]), L.zeros(4, 3), weight=L.ones(3)).backward(),
      ValueError, ("Weights and input must have the same size.",)),
    M("smooth_l1_loss of integers", nothing, lambda L, o: L.nn.functional.smooth_l1_loss(L.ones(3, dtype=L.int64), L.ones(3, dtype=L.int64)),
      NotImplementedError, ('"smooth_l1_cpu" not implemented for \'Long\'',)),
    M("huber_loss of integers", nothing, lambda L, o: L.nn.functional.huber_loss(L.ones(3, dtype=L.int64), L.ones(3, dtype=L.int64)),
      NotImplementedError, ('"huber_cpu" not implemented for \'Long\'',)),
    M("kl_div of integers", nothing, lambda L, o: L.nn.functional.kl_div(L.ones(3, dtype=L.int64), L.ones(3), reduction="sum"), RuntimeError,
      ("kl_div: Integral inputs not supported.",)),
    M("kl_div of a list target", linear_model, lambda L, o: L.nn.functional.kl_div(o["model"](o["x"]), [0.5] * 3, reduction="sum"), TypeError,
      ("kl_div(): argument 'target' (position 2) must be Tensor, not list",)),
    M("nll_loss of integer log-probabilities", nothing,
      lambda L, o: L.nn.functional.nll_loss(L.ones(4, 3, dtype=L.int64), L.zeros(4, dtype=L.int64)), NotImplementedError,
      ('"nll_loss_out_frame" not implemented for \'Long\'',)),
    M("nll_loss 2-D weight", linear_model,
      lambda L, o: L.nn.functional.nll_loss(o["model"](o["x"]), L.zeros(4, dtype=L.int64), weight=L.ones(3, 1)).backward(), RuntimeError,
      ("weight tensor should be defined either for all 3 classes or no classes but got weight tensor of shape: [3, 1]",)),
    M("cross_entropy of integer logits", nothing,
      lambda L, o: L.nn.functional.cross_entropy(L.ones(4, 3, dtype=L.int64), L.zeros(4, dtype=L.int64)), NotImplementedError,
      ('"log_softmax_lastdim_kernel_impl" not implemented for \'Long\'',)),
    M("cross_entropy of a list target", linear_model, lambda L, o: L.nn.functional.cross_entropy(o["model"](o["x"]), [0, 1, 2, 0]), TypeError,
      ("cross_entropy_loss(): argument 'target' (position 2) must be Tensor, not list",)),
    M("cross_entropy probabilities with a 2-D weight", linear_model,
      lambda L, o: L.nn.functional.cross_entropy(o["model"](o["x"]), L.full((4, 3), 1 / 3), weight=L.ones(3, 1)).backward(), RuntimeError,
      ("cross_entropy: weight tensor should be defined either for all 3 classes or no classes but got weight tensor of shape: [3, 1]",)),
]

MATMUL = [
    M("matmul of float32 and int64", lambda L: {"a": ones(L, 2, 3), "b": ones(L, 3, 2, dtype=L.int64)}, lambda L, o: o["a"] @ o["b"], RuntimeError,
      ("expected m1 and m2 to have the same dtype, but got: float != long int",)),
    M("mm of float32 and float64", lambda L: {"a": ones(L, 2, 3), "b": ones(L, 3, 2, dtype=L.float64)}, lambda L, o: L.mm(o["a"], o["b"]), RuntimeError,
      ("expected m1 and m2 to have the same dtype, but got: float != double",)),
    M("dot of float32 and float64", lambda L: {"a": ones(L, 3), "b": ones(L, 3, dtype=L.float64)}, lambda L, o: L.dot(o["a"], o["b"]), RuntimeError,
      ("dot : expected both vectors to have same dtype, but found Float and Double",)),
    M("matrix @ vector of another dtype", lambda L: {"a": ones(L, 2, 3), "b": ones(L, 3, dtype=L.int64)}, lambda L, o: o["a"] @ o["b"], RuntimeError,
      ("addmv input tensors must have the same dtype, but got Long, Float, and Long",)),
    M("bmm of float32 and float64", lambda L: {"a": ones(L, 2, 2, 3), "b": ones(L, 2, 3, 2, dtype=L.float64)}, lambda L, o: L.bmm(o["a"], o["b"]),
      RuntimeError, ("expected scalar type Float but found Double",)),
    M("matmul of bools", lambda L: {"a": ones(L, 2, 3, dtype=L.bool), "b": ones(L, 3, 2, dtype=L.bool)}, lambda L, o: o["a"] @ o["b"],
      NotImplementedError, ('"addmm_impl_cpu_" not implemented for \'Bool\'',)),
    M("linear bias of another dtype", lambda L: {"x": ones(L, 2, 3), "w": ones(L, 4, 3), "b": ones(L, 4, dtype=L.float64)},
      lambda L, o: L.nn.functional.linear(o["x"], o["w"], o["b"]), RuntimeError, ("self and mat2 must have the same dtype, but got Double and Float",)),
    M("Linear on float64 input", lambda L: {**linear_model(L), "x": L.ones(4, 5, dtype=L.float64)}, lambda L, o: o["model"](o["x"]), RuntimeError,
      ("mat1 and mat2 must have the same dtype, but got Double and Float",)),
]

OPTIMIZERS_MIRRORED = [
    M("SGD with a 2-element tensor lr", lambda L: {"p": ones(L, 2, grad=True)}, lambda L, o: L.optim.SGD([o["p"]], lr=L.ones(2)), ValueError,
      ("Tensor lr must be 1-element",)),
    M("Adam with a 2-element tensor lr", lambda L: {"p": ones(L, 2, grad=True)}, lambda L, o: L.optim.Adam([o["p"]], lr=L.ones(2)), ValueError,
      ("Tensor lr must be 1-element",)),
    M("Adam betas of a tensor and a float", lambda L: {"p": ones(L, 2, grad=True)},
      lambda L, o: L.optim.Adam([o["p"]], betas=(L.tensor(0.9), 0.999)), ValueError, ("betas must be either both floats or both Tensors",)),
    M("RMSprop with a 2-element tensor lr", lambda L: {"p": ones(L, 2, grad=True)}, lambda L, o: L.optim.RMSprop([o["p"]], lr=L.ones(2)),
      ValueError, ("Tensor lr must be 1-element",)),
    M("Adagrad with a 2-element tensor lr", lambda L: {"p": ones(L, 2, grad=True)}, lambda L, o: L.optim.Adagrad([o["p"]], lr=L.ones(2)),
      ValueError, ("Tensor lr must be 1-element",)),
]

LOADERS_MIRRORED = [
    M("TensorDataset of a 0-d tensor", lambda L: {"t": L.tensor(1.0)}, lambda L, o: L.utils.data.TensorDataset(o["t"]), IndexError,
      ("Dimension specified as 0 but tensor has no dimensions",)),
    M("weights holding NaN", lambda L: {"w": L.tensor([float("nan"), 1.0]), **with_rng(L)},
      lambda L, o: list(L.utils.data.WeightedRandomSampler(o["w"], 2)), RuntimeError,
      ("invalid multinomial distribution (encountering probability entry < 0)",)),
    M("weights holding infinity", lambda L: {"w": L.tensor([float("inf"), 1.0]), **with_rng(L)},
      lambda L, o: list(L.utils.data.WeightedRandomSampler(o["w"], 2)), RuntimeError,
      ("invalid multinomial distribution (encountering probability entry = infinity or NaN)",)),
    M("collate numbers and strings", nothing, lambda L, o: L.utils.data.default_collate([1, "a"]), TypeError, ("new(): invalid data type 'str'",)),
]

LAYERS = [
    M("batch_norm running_mean of another size", lambda L: {"x": L.randn(2, 3), "mean": L.zeros(4), "var": L.ones(4)},
      lambda L, o: L.nn.functional.batch_norm(o["x"], o["mean"], o["var"]), RuntimeError, ("running_mean should contain 3 elements not 4",)),
    M("BatchNorm1d of other channels", lambda L: {"model": L.nn.BatchNorm1d(4), "x": L.randn(2, 3)}, lambda L, o: o["model"](o["x"]), RuntimeError,
      ("running_mean should contain 3 elements not 4",)),
    M("BatchNorm1d of integers", lambda L: {"model": L.nn.BatchNorm1d(3), "x": L.ones(2, 3, dtype=L.int64)}, lambda L, o: o["model"](o["x"]),
      NotImplementedError, ('"batch_norm" not implemented for \'Long\'',)),
    M("BatchNorm1d of one sample", lambda L: {"model": L.nn.BatchNorm1d(3), "x": L.randn(1, 3)}, lambda L, o: o["model"](o["x"]), ValueError,
      ("Expected more than 1 value per channel when training, got input size tinytorch.Size([1, 3])",)),
    M("layer_norm weight of another shape", lambda L: {"x": L.randn(2, 3), "w": L.ones(4)},
      lambda L, o: L.nn.functional.layer_norm(o["x"], (3,), weight=o["w"]), RuntimeError,
      ("Expected weight to be of same shape as normalized_shape, but got weight of shape [4] and normalized_shape = [3]",)),
    M("LayerNorm of float64 input", lambda L: {"model": L.nn.LayerNorm(3), "x": L.randn(2, 3, dtype=L.float64)}, lambda L, o: o["model"](o["x"]),
      RuntimeError, ("mixed dtype (CPU): all inputs must share same datatype.",)),
    M("LayerNorm of another trailing shape", lambda L: {"model": L.nn.LayerNorm(4), "x": L.randn(2, 3)}, lambda L, o: o["model"](o["x"]),
      RuntimeError, ("Given normalized_shape=[4], expected input with shape [*, 4], but got input of size[2, 3]",)),
    M("Embedding index out of range", lambda L: {"model": L.nn.Embedding(5, 2), "i": L.tensor([1, 7])}, lambda L, o: o["model"](o["i"]),
      IndexError, ("index out of range in self",)),
    M("Embedding of float indices", lambda L: {"model": L.nn.Embedding(5, 2), "i": L.tensor([1.0])}, lambda L, o: o["model"](o["i"]),
      RuntimeError, ("Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int",)),
    M("Embedding padding_idx out of range", nothing, lambda L, o: L.nn.Embedding(5, 2, padding_idx=7), AssertionError,
      ("Padding_idx must be within num_embeddings",)),
    M("Dropout of p = 1.5", nothing, lambda L, o: L.nn.Dropout(1.5), ValueError, ("dropout probability has to be between 0 and 1, but got 1.5",)),
    M("dropout of integers", lambda L: {"x": ones(L, 3, dtype=L.int64), **with_rng(L)}, lambda L, o: L.nn.functional.dropout(o["x"], 0.5),
      RuntimeError, ("result type Float can't be cast to the desired output type Long",)),
    M("leaky_relu of integers", lambda L: {"x": ones(L, 3, dtype=L.int64)}, lambda L, o: L.nn.functional.leaky_relu(o["x"]), NotImplementedError,
      ('"leaky_relu_cpu" not implemented for \'Long\'',)),
    M("gelu of integers", lambda L: {"x": ones(L, 3, dtype=L.int64)}, lambda L, o: L.nn.functional.gelu(o["x"]), NotImplementedError,
      ('"GeluKernelImpl" not implemented for \'Long\'',)),
    M("elu of integers", lambda L: {"x": ones(L, 3, dtype=L.int64)}, lambda L, o: L.nn.functional.elu(o["x"]), NotImplementedError,
      ('"elu_cpu" not implemented for \'Long\'',)),
    M("silu of integers", lambda L: {"x": ones(L, 3, dtype=L.int64)}, lambda L, o: L.nn.functional.silu(o["x"]), NotImplementedError,
      ('"silu_cpu" not implemented for \'Long\'',)),
    M("softplus of integers", lambda L: {"x": ones(L, 3, dtype=L.int64)}, lambda L, o: L.nn.functional.softplus(o["x"]), NotImplementedError,
      ('"softplus_cpu" not implemented for \'Long\'',)),
    M("logsigmoid of integers", lambda L: {"x": ones(L, 3, dtype=L.int64)}, lambda L, o: L.nn.functional.logsigmoid(o["x"]), NotImplementedError,
      ('"log_sigmoid_cpu" not implemented for \'Long\'',)),
    M("softmax of integers", lambda L: {"x": ones(L, 2, 3, dtype=L.int64)}, lambda L, o: L.softmax(o["x"], 1), NotImplementedError,
      ('"softmax_lastdim_kernel_impl" not implemented for \'Long\'',)),
    M("softmax of integers over a middle dim", lambda L: {"x": ones(L, 2, 3, 4, dtype=L.int64)}, lambda L, o: L.softmax(o["x"], 1),
      NotImplementedError, ('"softmax_kernel_impl" not implemented for \'Long\'',)),
    M("Softmax over a dim out of range", lambda L: {"model": L.nn.Softmax(dim=2), "x": L.randn(2, 3)}, lambda L, o: o["model"](o["x"]),
      IndexError, ("Dimension out of range (expected to be in range of [-2, 1], but got 2)",)),
    M("relu of bools", lambda L: {"x": ones(L, 3, dtype=L.bool)}, lambda L, o: L.relu(o["x"]), RuntimeError, ("Boolean inputs not supported for relu",)),
    M("Hardtanh with max below min", nothing, lambda L, o: L.nn.Hardtanh(1.0, -1.0), AssertionError,
      ("max_val (-1.0) must be greater than min_val (1.0)",)),
    M("broadcast_shapes that do not broadcast", nothing, lambda L, o: L.broadcast_shapes((2, 3), (4,)), RuntimeError,
      ("Attempting to broadcast a dimension of length 4 at -1! Mismatching argument at index 1 had (4,); "
       "but expected shape should be broadcastable to [2, 3]",)),
]

PRODUCTS = [
    M("mv of two vectors", lambda L: {"a": ones(L, 3), "b": ones(L, 3)}, lambda L, o: L.mv(o["a"], o["b"]), RuntimeError,
      ("vector + matrix @ vector expected, got 1, 1, 1",)),
    M("addmv of another input size", lambda L: {"x": ones(L, 3), "a": ones(L, 2, 3), "v": ones(L, 3)},
      lambda L, o: L.addmv(o["x"], o["a"], o["v"]), RuntimeError, ("size mismatch, got input (3), mat (2x3), vec (3)",)),
    M("addmv of mixed dtypes", lambda L: {"x": ones(L, 2, dtype=L.float64), "a": ones(L, 2, 3), "v": ones(L, 3)},
      lambda L, o: L.addmv(o["x"], o["a"], o["v"]), RuntimeError, ("addmv input tensors must have the same dtype, but got Double, Float, and Float",)),
    M("addr of integers with a float alpha", lambda L: {"x": ones(L, 2, 2, dtype=L.int64), "a": ones(L, 2, dtype=L.int64), "b": ones(L, 2, dtype=L.int64)},
      lambda L, o: L.addr(o["x"], o["a"], o["b"], alpha=0.5), RuntimeError,
      ("For integral input tensors, argument alpha must not be a floating point number.",)),
    M("addbmm of unequal batch counts", lambda L: {"x": ones(L, 2, 4), "a": ones(L, 5, 2, 3), "b": ones(L, 4, 3, 4)},
      lambda L, o: L.addbmm(o["x"], o["a"], o["b"]), RuntimeError, ("batch1 and batch2 must have same number of batches, got 5 and 4",)),
    M("inner of unequal last dims", lambda L: {"a": ones(L, 2, 3), "b": ones(L, 4, 2)}, lambda L, o: L.inner(o["a"], o["b"]), RuntimeError,
      ("inner() the last dimension must match on both input tensors but got shapes [2, 3] and [4, 2]",)),
    M("tensordot of unequal contracted sizes", lambda L: {"a": ones(L, 2, 3, 4), "b": ones(L, 3, 5, 5)},
      lambda L, o: L.tensordot(o["a"], o["b"]), RuntimeError,
      ("contracted dimensions need to match, but first has size 4 in dim -1 and second has size 5 in dim 1",)),
    M("tensordot of a negative dims", lambda L: {"a": ones(L, 2, 3), "b": ones(L, 3, 2)}, lambda L, o: L.tensordot(o["a"], o["b"], -1),
      RuntimeError, ("tensordot expects dims >= 0, but got dims=-1",)),
    M("multi_dot of one matrix", lambda L: {"a": ones(L, 3, 3)}, lambda L, o: L.linalg.multi_dot([o["a"]]), RuntimeError,
      ("multi_dot(): expected at least 2 tensors but got 1",)),
    M("multi_dot of a vector in the middle", lambda L: {"a": ones(L, 3, 3), "v": ones(L, 3)},
      lambda L, o: L.linalg.multi_dot([o["a"], o["v"], o["a"]]), RuntimeError, ("multi_dot(): tensor 1 must be 2D but got 1D",)),
    M("block_diag of a 3-D tensor", lambda L: {"a": ones(L, 2, 2, 2)}, lambda L, o: L.block_diag(o["a"]), RuntimeError,
      ("torch.block_diag: Input tensors must have 2 or fewer dimensions. Input 0 has 3 dimensions",)),
    M("vander with a negative N", lambda L: {"x": ones(L, 3)}, lambda L, o: L.vander(o["x"], N=-1), RuntimeError, ("N must be non-negative.",)),
    M("linalg.vander of bools", lambda L: {"x": ones(L, 3, dtype=L.bool)}, lambda L, o: L.linalg.vander(o["x"]), RuntimeError,
      ("linalg.vander supports floating point, complex, and integer tensors, but got Bool",)),
]

LAYERS_EXTRA = [
    M("rms_norm weight of another shape", lambda L: {"x": L.randn(2, 3), "w": L.ones(4)},
      lambda L, o: L.nn.functional.rms_norm(o["x"], (3,), weight=o["w"]), RuntimeError,
      ("Expected weight to be of same shape as normalized_shape, but got weight of shape [4] and normalized_shape = [3]",)),
    M("RMSNorm of another trailing shape", lambda L: {"model": L.nn.RMSNorm(4), "x": L.randn(2, 3)}, lambda L, o: o["model"](o["x"]),
      RuntimeError, ("Given normalized_shape=[4], expected input with shape [*4], but got input of size[2, 3]",)),
    M("rms_norm of integers", lambda L: {"x": ones(L, 2, 3, dtype=L.int64)}, lambda L, o: L.nn.functional.rms_norm(o["x"], (3,)),
      NotImplementedError, ('"rms_norm" not implemented for \'Long\'',)),
    M("LocalResponseNorm of a 2-D input", lambda L: {"model": L.nn.LocalResponseNorm(2), "x": L.randn(2, 3)}, lambda L, o: o["model"](o["x"]),
      ValueError, ("input (got 2 dimensions)",)),
    M("CrossMapLRN2d of a 3-D input", lambda L: {"model": L.nn.CrossMapLRN2d(3), "x": L.randn(2, 3, 4)}, lambda L, o: o["model"](o["x"]),
      ValueError, ("CrossMapLRN2d: Expected input to be 4D, got 3D instead.",)),
    M("Bilinear of unequal batch dims", lambda L: {"model": L.nn.Bilinear(3, 4, 5), "a": L.randn(2, 3), "b": L.randn(3, 4)},
      lambda L, o: o["model"](o["a"], o["b"]), RuntimeError, ("bilinear(): input batch dimensions do not match at dim 0: got 2 and 3",)),
    M("Bilinear of float64 input", lambda L: {"model": L.nn.Bilinear(3, 4, 5), "a": L.randn(2, 3, dtype=L.float64), "b": L.randn(2, 4)},
      lambda L, o: o["model"](o["a"], o["b"]), RuntimeError,
      ("All tensors must have the same dtype, got input1: double, input2: float, weight: float, bias: float",)),
    M("ChannelShuffle of indivisible channels", lambda L: {"model": L.nn.ChannelShuffle(4), "x": L.randn(1, 6, 2, 2)},
      lambda L, o: o["model"](o["x"]), RuntimeError, ("Number of channels must be divisible by groups. Got 6 channels and 4 groups.",)),
    M("EmbeddingBag index out of range", lambda L: {"model": L.nn.EmbeddingBag(5, 2), "i": L.tensor([1, 7]), "o": L.tensor([0])},
      lambda L, o: o["model"](o["i"], o["o"]), RuntimeError, ("Index 1 of input takes value 7 which is not in the valid range [0, 5)",)),
    M("EmbeddingBag offsets not starting at 0", lambda L: {"model": L.nn.EmbeddingBag(5, 2), "i": L.tensor([1, 2]), "o": L.tensor([1])},
      lambda L, o: o["model"](o["i"], o["o"]), RuntimeError, ("offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from position 0. However, got 1",)),
    M("EmbeddingBag per_sample_weights in mean mode", lambda L: {"model": L.nn.EmbeddingBag(5, 2), "i": L.tensor([[1, 2]]), "w": L.ones(1, 2)},
      lambda L, o: o["model"](o["i"], per_sample_weights=o["w"]), NotImplementedError,
      ("per_sample_weights is only supported for mode='sum' (got mode='mean')",)),
    M("EmbeddingBag of a 2-D input with offsets", lambda L: {"model": L.nn.EmbeddingBag(5, 2), "i": L.tensor([[1, 2]]), "o": L.tensor([0])},
      lambda L, o: o["model"](o["i"], o["o"]), ValueError, ("if input is 2D, then offsets has to be None",)),
    M("EmbeddingBag padding_idx out of range", nothing, lambda L, o: L.nn.EmbeddingBag(5, 2, padding_idx=7), AssertionError,
      ("padding_idx must be within num_embeddings",)),
]

ADAPTIVE_SOFTMAX = [
    M("AdaptiveLogSoftmaxWithLoss of unsorted cutoffs", nothing, lambda L, o: L.nn.AdaptiveLogSoftmaxWithLoss(16, 10, [6, 3]), ValueError,
      ("cutoffs should be a sequence of unique, positive integers sorted in an increasing order, where each value is between 1 and n_classes-1",)),
    M("AdaptiveLogSoftmaxWithLoss of no cutoffs", nothing, lambda L, o: L.nn.AdaptiveLogSoftmaxWithLoss(16, 10, []), ValueError,
      ("cutoffs should be a sequence of length larger than 0",)),
    M("AdaptiveLogSoftmaxWithLoss target out of range", lambda L: {"model": L.nn.AdaptiveLogSoftmaxWithLoss(16, 10, [3, 6]), "x": L.ones(3, 16),
                                                                   "t": L.tensor([1, 10, 4])},
      lambda L, o: o["model"](o["x"], o["t"]), RuntimeError, ("Target values should be in [0, 9], but values in range [1, 10] were found.",)),
    M("AdaptiveLogSoftmaxWithLoss batch sizes differ", lambda L: {"model": L.nn.AdaptiveLogSoftmaxWithLoss(16, 10, [3, 6]), "x": L.ones(3, 16),
                                                                  "t": L.tensor([1, 2])},
      lambda L, o: o["model"](o["x"], o["t"]), RuntimeError, ("Input and target should have the same size in the batch dimension.",)),
    M("AdaptiveLogSoftmaxWithLoss of a 2-D target", lambda L: {"model": L.nn.AdaptiveLogSoftmaxWithLoss(16, 10, [3, 6]), "x": L.ones(3, 16),
                                                               "t": L.tensor([[1, 2, 3]])},
      lambda L, o: o["model"](o["x"], o["t"]), RuntimeError, ("0D or 1D target tensor expected, multi-target not supported",)),
]

MATMUL += PRODUCTS
LAYERS += LAYERS_EXTRA
LAYERS += ADAPTIVE_SOFTMAX


ACTIVATIONS_MIRRORED = [
    M("celu with alpha 0", lambda L: {"x": L.randn(3)}, lambda L, o: L.nn.functional.celu(o["x"], 0.0), RuntimeError,
      ("ZeroDivisionError: alpha cannot be 0 for CELU",)),
    M("celu_ of integers", lambda L: {"x": ones(L, 3, dtype=L.int64)}, lambda L, o: L.celu_(o["x"]), NotImplementedError,
      ('"elu_cpu" not implemented for \'Long\'',)),
    M("selu of integers in place", lambda L: {"x": ones(L, 3, dtype=L.int64)}, lambda L, o: L.nn.functional.selu(o["x"], inplace=True),
      NotImplementedError, ('"elu_cpu" not implemented for \'Long\'',)),
    M("hardswish of integers", lambda L: {"x": ones(L, 3, dtype=L.int64)}, lambda L, o: L.nn.functional.hardswish(o["x"]),
      NotImplementedError, ('"hardswish_cpu" not implemented for \'Long\'',)),
    M("Mish in place of integers", lambda L: {"model": L.nn.Mish(inplace=True), "x": ones(L, 3, dtype=L.int64)},
      lambda L, o: o["model"](o["x"]), NotImplementedError, ('"mish_cpu" not implemented for \'Long\'',)),
    M("glu over an odd dim", lambda L: {"x": L.randn(2, 3, 4)}, lambda L, o: L.nn.functional.glu(o["x"], 1), RuntimeError,
      ("Halving dimension must be even, but dimension 1 is size 3",)),
    M("glu of a 0-d tensor", lambda L: {"x": L.tensor(1.0)}, lambda L, o: L.nn.functional.glu(o["x"]), RuntimeError,
      ("glu does not support scalars because halving size must be even",)),
    M("softshrink with a negative lambda", lambda L: {"x": L.randn(3)}, lambda L, o: L.nn.functional.softshrink(o["x"], -0.5),
      RuntimeError, ("lambda must be in range [0, 3.40282e+38] for input dtype Float, but found -0.5",)),
    M("hardshrink of integers", lambda L: {"x": ones(L, 3, dtype=L.int64)}, lambda L, o: L.hardshrink(o["x"]), NotImplementedError,
      ('"hardshrink_cpu" not implemented for \'Long\'',)),
    M("threshold_ of bools", lambda L: {"x": ones(L, 3, dtype=L.bool)}, lambda L, o: L.threshold_(o["x"], 0.5, 0.0),
      NotImplementedError, ('"threshold_cpu" not implemented for \'Bool\'',)),
    M("rrelu with lower above upper", lambda L: {"x": L.randn(3), **with_rng(L)},
      lambda L, o: L.nn.functional.rrelu(o["x"], 0.5, 0.1, training=True), RuntimeError,
      ("Lower bound should be less than or equal to the upper bound",)),
    M("rrelu_ of integers while training", lambda L: {"x": ones(L, 3, dtype=L.int64), **with_rng(L)},
      lambda L, o: L.rrelu_(o["x"], training=True), NotImplementedError, ('"rrelu_with_noise_out_cpu" not implemented for \'Long\'',)),
    M("prelu weight of another channel count", lambda L: {"x": L.randn(2, 3, 4), "w": L.ones(4, requires_grad=True)},
      lambda L, o: L.nn.functional.prelu(o["x"], o["w"]), RuntimeError,
      ("Mismatch of parameter numbers and input channel size. Found parameter numbers = 4 and channel size = 3.",)),
    M("PReLU of other channels", lambda L: {"model": L.nn.PReLU(3), "x": L.randn(2, 4)}, lambda L, o: o["model"](o["x"]), RuntimeError,
      ("Mismatch of parameter numbers and input channel size. Found parameter numbers = 3 and channel size = 4.",)),
    M("prelu of float64 input", lambda L: {"model": L.nn.PReLU(), "x": L.randn(2, 3, dtype=L.float64)}, lambda L, o: o["model"](o["x"]),
      RuntimeError, ("prelu: Type promoting not supported. Got Double and Float",)),
    M("prelu with a 2-D weight", lambda L: {"x": L.randn(2, 3), "w": L.ones(3, 1)}, lambda L, o: L.prelu(o["x"], o["w"]), RuntimeError,
      ("prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = 2",)),
    M("prelu with a number for weight", lambda L: {"x": L.randn(3)}, lambda L, o: L.prelu(o["x"], 0.25), TypeError,
      ("prelu(): argument 'weight' (position 2) must be Tensor, not float",)),
    M("alpha_dropout of p = 1.5", lambda L: {"x": L.randn(3), **with_rng(L)}, lambda L, o: L.nn.functional.alpha_dropout(o["x"], 1.5, True),
      ValueError, ("dropout probability has to be between 0 and 1, but got 1.5",)),
    M("AlphaDropout of p = -0.1", nothing, lambda L, o: L.nn.AlphaDropout(-0.1), ValueError,
      ("dropout probability has to be between 0 and 1, but got -0.1",)),
    M("feature_alpha_dropout of a 1-D input", lambda L: {"x": L.randn(3), **with_rng(L)},
      lambda L, o: L.nn.functional.feature_alpha_dropout(o["x"], 0.5, True), RuntimeError,
      ("Feature dropout requires at least 2 dimensions in the input",)),
    M("alpha_dropout_ of integers", lambda L: {"x": ones(L, 3, dtype=L.int64), **with_rng(L)}, lambda L, o: L.alpha_dropout_(o["x"], 0.5, True),
      RuntimeError, ("result type Float can't be cast to the desired output type Long",)),
    M("Softmax2d of a 2-D input", lambda L: {"model": L.nn.Softmax2d(), "x": L.randn(2, 3)}, lambda L, o: o["model"](o["x"]), ValueError,
      ("Softmax2d: expected input to be 3D or 4D, got 2D instead",)),
    M("hardtanh_ of unsigned integers with negative limits", lambda L: {"x": ones(L, 3, dtype=L.uint8)},
      lambda L, o: L.nn.functional.hardtanh_(o["x"]), RuntimeError, ("cannot do hardtanh on an unsigned type with negative limits",)),
    M("elu_ of a leaf that requires grad", lambda L: {"x": ones(L, 3, grad=True)}, lambda L, o: L.nn.functional.elu_(o["x"]), RuntimeError,
      ("a leaf Variable that requires grad is being used in an in-place operation.",)),
]


MARGIN_LOSSES_AND_DISTANCES = [
    M("cdist of a 1-D tensor", linear_model, lambda L, o: L.cdist(o["model"](o["x"])[0], L.randn(2, 3)).sum().backward(), RuntimeError,
      ("cdist only supports at least 2D tensors, X1 got: 1D",)),
    M("cdist with another number of columns", linear_model, lambda L, o: L.cdist(o["model"](o["x"]), L.randn(2, 4)).sum().backward(),
      RuntimeError, ("X1 and X2 must have the same number of columns. X1: 3 X2: 4",)),
    M("cdist with an unknown compute_mode", linear_model,
      lambda L, o: L.cdist(o["model"](o["x"]), L.randn(2, 3), compute_mode="fast").sum().backward(), ValueError,
      ("fast is not a valid value for compute_mode",)),
    M("cdist with a negative p", linear_model, lambda L, o: L.cdist(o["model"](o["x"]), L.randn(2, 3), p=-1.0).sum().backward(),
      RuntimeError, ("cdist only supports non-negative p values",)),
    M("cdist of integers", nothing, lambda L, o: L.cdist(L.ones(2, 3, dtype=L.int64), L.ones(2, 3)), RuntimeError,
      ("cdist only supports floating-point dtypes, X1 got: Long",)),
    M("pdist of a 3-D tensor", nothing, lambda L, o: L.pdist(L.ones(2, 3, 4)), RuntimeError, ("pdist only supports 2D tensors, got: 3D",)),
    M("cosine_similarity of integers", nothing, lambda L, o: L.cosine_similarity(L.ones(2, 3, dtype=L.int64), L.ones(2, 3, dtype=L.int64)),
      RuntimeError, ("expected common dtype to be floating point, yet common dtype is Long",)),
    M("margin_ranking_loss inputs of different dims", linear_model,
      lambda L, o: L.nn.functional.margin_ranking_loss(o["model"](o["x"]), L.zeros(3), L.ones(4, 3)).backward(), RuntimeError,
      ("margin_ranking_loss : All input tensors should have same dimension but got sizes",)),
    M("cosine_embedding_loss 2-D target", linear_model,
      lambda L, o: L.nn.functional.cosine_embedding_loss(o["model"](o["x"]), L.ones(4, 3), L.ones(4, 1)).backward(), RuntimeError,
      ("0D or 1D target tensor expected, multi-target not supported",)),
    M("triplet_margin_loss non-positive margin", linear_model,
      lambda L, o: L.nn.functional.triplet_margin_loss(o["model"](o["x"]), L.ones(4, 3), L.zeros(4, 3), margin=0.0).backward(), ValueError,
      ("margin must be greater than 0, got 0.0",)),
    M("soft_margin_loss target that requires grad", linear_model,
      lambda L, o: L.nn.functional.soft_margin_loss(o["model"](o["x"]), L.ones(4, 3, requires_grad=True)).backward(), RuntimeError,
      ("The function 'soft_margin_loss' is not differentiable with respect to argument 'target'",)),
    M("multi_margin_loss p = 3", linear_model, lambda L, o: L.nn.functional.multi_margin_loss(o["model"](o["x"]), L.tensor([0, 1, 2, 0]), p=3).backward(),
      ValueError, ("only p == 1 and p == 2 supported",)),
    M("multi_margin_loss class index too large", linear_model,
      lambda L, o: L.nn.functional.multi_margin_loss(o["model"](o["x"]), L.tensor([0, 1, 3, 2])).backward(), RuntimeError, ("target out of range",)),
    M("multi_margin_loss weight of another size", linear_model,
      lambda L, o: L.nn.functional.multi_margin_loss(o["model"](o["x"]), L.tensor([0, 1, 2, 0]), weight=L.ones(4)).backward(), RuntimeError,
      ("inconsistent weight size, expected 3 but got [4]",)),
    M("multilabel_margin_loss target of another size", linear_model,
      lambda L, o: L.nn.functional.multilabel_margin_loss(o["model"](o["x"]), L.zeros(4, 2, dtype=L.int64)).backward(), RuntimeError,
      ("inconsistent target size: [4, 2] for input of size: [4, 3]",)),
    M("multilabel_margin_loss class index too large", linear_model,
      lambda L, o: L.nn.functional.multilabel_margin_loss(o["model"](o["x"]), L.full((4, 3), 3, dtype=L.int64)).backward(), RuntimeError,
      ("argument #2 'target' is out of range",)),
    M("MultiMarginLoss with a 2-D weight", nothing, lambda L, o: L.nn.MultiMarginLoss(weight=L.ones(2, 2)), ValueError,
      ("MultiMarginLoss: expected weight to be None or 1D tensor, got 2D instead",)),
    M("TripletMarginLoss with a negative margin", nothing, lambda L, o: L.nn.TripletMarginLoss(margin=-1.0), ValueError,
      ("TripletMarginLoss: expected margin to be greater than 0, got -1.0 instead",)),
]


def ctc_model(L):
    """A model whose (T=5, N=2, C=4) log-probabilities go into ctc_loss (nothing may reach its grads)."""
    L.manual_seed(0)
    return {"model": L.nn.Linear(3, 4), "x": L.randn(5, 2, 3)}


def ctc_with(targets, input_lengths, target_lengths, **kwargs):
    return lambda L, o: L.nn.functional.ctc_loss(o["model"](o["x"]).log_softmax(-1), targets(L), input_lengths(L),
                                                 target_lengths(L), **kwargs).backward()


def padded(L):
    return L.tensor([[1, 2], [1, 1]])


CTC_LOSS = [
    M("ctc_loss of 4-D log_probs", ctc_model,
      lambda L, o: L.nn.functional.ctc_loss(o["model"](o["x"])[None], padded(L), [5, 5], [2, 2]).backward(), RuntimeError,
      ("Expected 3-dimensional tensor, but got 5-dimensional tensor for argument #1 'log_probs'",)),
    M("ctc_loss input length past T", ctc_model, ctc_with(padded, lambda L: [6, 5], lambda L: [2, 2]), RuntimeError,
      ("Expected input_lengths to have value at most 5, but got value 6",)),
    M("ctc_loss negative input length", ctc_model, ctc_with(padded, lambda L: L.tensor([-1, 5]), lambda L: L.tensor([2, 2])),
      RuntimeError, ("Expected input_lengths to have value at least 0, but got value -1",)),
    M("ctc_loss negative target length", ctc_model, ctc_with(padded, lambda L: [5, 5], lambda L: [-1, 2]), RuntimeError,
      ("Expected target_lengths to have value at least 0, but got value -1",)),
    M("ctc_loss target length past the padded width", ctc_model, ctc_with(padded, lambda L: [5, 5], lambda L: [3, 2]),
      RuntimeError, ("Expected tensor to have size at least 3 at dimension 1, but got size 2 for argument #2 'targets'",)),
    M("ctc_loss concatenated targets of another total", ctc_model,
      ctc_with(lambda L: L.tensor([1, 2, 1]), lambda L: [5, 5], lambda L: [2, 2]), RuntimeError,
      ("Expected tensor to have size 4 at dimension 0, but got size 3 for argument #2 'targets'",)),
    M("ctc_loss blank outside the classes", ctc_model, ctc_with(padded, lambda L: [5, 5], lambda L: [2, 2], blank=4), RuntimeError,
      ("blank must be in label range",)),
    M("ctc_loss lengths for another batch", ctc_model, ctc_with(padded, lambda L: [5, 5, 5], lambda L: [2, 2]), RuntimeError,
      ("input_lengths must be of size batch_size",)),
    M("ctc_loss float lengths", ctc_model, ctc_with(padded, lambda L: L.tensor([5.0, 5.0]), lambda L: L.tensor([2, 2])),
      RuntimeError, ("input_lengths must be integral",)),
    M("ctc_loss of integer log_probs", nothing,
      lambda L, o: L.nn.functional.ctc_loss(L.zeros(5, 2, 4, dtype=L.int64), padded(L), [5, 5], [2, 2]), NotImplementedError,
      ('"ctc_loss_cpu" not implemented for \'Long\'',)),
    M("ctc_loss of an unknown reduction", ctc_model, ctc_with(padded, lambda L: [5, 5], lambda L: [2, 2], reduction="avg"),
      ValueError, ("avg is not a valid value for reduction",)),
    M("ctc_loss of int lengths", ctc_model, ctc_with(padded, lambda L: 5, lambda L: 2), TypeError,
      ("ctc_loss() received an invalid combination of arguments",)),
]


SCATTER_EXTRA = [
    M("scatter_reduce with an unknown reduction", lambda L: {"x": ones(L, 3), "s": ones(L, 2)},
      lambda L, o: L.scatter_reduce(o["x"], 0, L.tensor([0, 1]), o["s"], "median"), RuntimeError,
      ("reduce argument must be either sum, prod, mean, amax or amin, got median",)),
    M("scatter_reduce of another src dtype", lambda L: {"x": ones(L, 3), "s": ones(L, 2, dtype=L.float64)},
      lambda L, o: L.scatter_reduce(o["x"], 0, L.tensor([0, 1]), o["s"], "sum"), RuntimeError,
      ("scatter(): Expected self.dtype to be equal to src.dtype",)),
    M("scatter_reduce index larger than src", lambda L: {"x": ones(L, 3), "s": ones(L, 2)},
      lambda L, o: L.scatter_reduce(o["x"], 0, L.tensor([0, 1, 2, 0]), o["s"], "sum"), RuntimeError,
      ("Expected index [4] to be no larger than self [3] apart from dimension 0 and to be no larger size than src [2]",)),
    M("index_reduce with sum", lambda L: {"x": ones(L, 3), "s": ones(L, 2)},
      lambda L, o: L.index_reduce(o["x"], 0, L.tensor([0, 1]), o["s"], "sum"), RuntimeError,
      ("index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got sum.",)),
    M("take out of range", lambda L: {"x": ones(L, 2, 3)}, lambda L, o: L.take(o["x"], L.tensor([6])), IndexError,
      ("out of range: tried to access index 6 on a tensor of 6 elements.",)),
    M("index_put_ of a value that does not broadcast", lambda L: {"x": ones(L, 3), "v": ones(L, 2)},
      lambda L, o: L.index_put_(o["x"], (L.tensor([0]),), o["v"]), RuntimeError,
      ("shape mismatch: value tensor of shape [2] cannot be broadcast to indexing result of shape [1]",)),
    M("masked_scatter with too few source elements", lambda L: {"x": ones(L, 4), "s": ones(L, 3)},
      lambda L, o: L.masked_scatter(o["x"], L.ones(4, dtype=L.bool), o["s"]), RuntimeError,
      ("Number of elements of source < number of ones in mask",)),
    M("masked_scatter with a float mask", lambda L: {"x": ones(L, 4), "s": ones(L, 4)},
      lambda L, o: L.masked_scatter(o["x"], L.ones(4), o["s"]), RuntimeError,
      ("masked_scatter_ only supports boolean masks, but got mask with dtype Float",)),
    M("diagonal_scatter of a src of another size", lambda L: {"x": ones(L, 3, 4), "s": ones(L, 2)},
      lambda L, o: L.diagonal_scatter(o["x"], o["s"]), RuntimeError,
      ("expected src to have a size equal to the slice of self. src size = [2], slice size = [3]",)),
    M("slice_scatter of a src of another size", lambda L: {"x": ones(L, 3, 4), "s": ones(L, 2, 4)},
      lambda L, o: L.slice_scatter(o["x"], o["s"], 0, 0, 1), RuntimeError,
      ("expected src to have a size equal to the slice of self. src size = [2, 4], slice size = [1, 4]",)),
]


STATISTICS = [
    M("cov of a 3-d input", lambda L: {"x": ones(L, 2, 2, 2)}, lambda L, o: L.cov(o["x"]), RuntimeError,
      ("cov(): expected input to have two or fewer dimensions but got an input with 3 dimensions",)),
    M("cov with float fweights", lambda L: {"x": ones(L, 3, 4)}, lambda L, o: L.cov(o["x"], fweights=L.ones(4)), RuntimeError,
      ("cov(): expected fweights to have integral dtype but got fweights with Float dtype",)),
    M("cov with negative aweights", lambda L: {"x": ones(L, 3, 4)},
      lambda L, o: L.cov(o["x"], aweights=L.tensor([1.0, 2.0, 3.0, -1.0])), RuntimeError, ("cov(): aweights cannot be negative",)),
    M("cov with weights of another length", lambda L: {"x": ones(L, 3, 4)},
      lambda L, o: L.cov(o["x"], aweights=L.ones(3)), RuntimeError,
      ("cov(): expected aweights to have the same numel as there are observations in the input but got 3 != 4",)),
    M("logcumsumexp of integers", lambda L: {"x": ones(L, 3, dtype=L.int64)}, lambda L, o: L.logcumsumexp(o["x"], 0),
      NotImplementedError, ("\"logcumsumexp_out_cpu\" not implemented for 'Long'",)),
    M("trapezoid with x of another length", lambda L: {"y": ones(L, 3), "x": ones(L, 2)},
      lambda L, o: L.trapezoid(o["y"], o["x"]), RuntimeError, ("trapezoid: There must be one `x` value for each sample point",)),
    M("renorm of a vector", lambda L: {"x": ones(L, 3)}, lambda L, o: L.renorm(o["x"], 2, 0, 1.0), RuntimeError,
      ("renorm: input needs at least 2 dimensions, got 1 dimensions",)),
    M("renorm_ with a negative maxnorm", lambda L: {"x": ones(L, 2, 3)}, lambda L, o: o["x"].renorm_(2, 0, -1.0), RuntimeError,
      ("renorm: expected maxnorm to be >= 0 but got -1",)),
    M("renorm with p = 0", lambda L: {"x": ones(L, 2, 3)}, lambda L, o: L.renorm(o["x"], 0, 0, 1.0), RuntimeError,
      ("renorm: non-positive-norm not supported",)),
    M("combinations with a negative r", lambda L: {"x": ones(L, 4)}, lambda L, o: L.combinations(o["x"], -1), RuntimeError,
      ("Expect a non-negative number, but got -1",)),
    M("combinations of a matrix", lambda L: {"x": ones(L, 2, 2)}, lambda L, o: L.combinations(o["x"]), RuntimeError,
      ("Expect a 1D vector, but got shape [2, 2]",)),
    M("histogramdd with bins for another number of dims", lambda L: {"x": ones(L, 5, 2)},
      lambda L, o: L.histogramdd(o["x"], [2, 3, 4]), RuntimeError,
      ("histogramdd: The size of bins must be equal to the innermost dimension of the input.",)),
    M("hann_window of negative length", nothing, lambda L, o: L.hann_window(-1), RuntimeError,
      ("hann_window requires non-negative window_length, got window_length=-1",)),
    M("kaiser_window of an integer dtype", nothing, lambda L, o: L.kaiser_window(4, dtype=L.int64), RuntimeError,
      ("kaiser_window expects floating point dtypes, got: ",)),
]


MIRRORED = (FACTORIES + SAMPLERS + SETTERS + LOSSES_MIRRORED + MATMUL + OPTIMIZERS_MIRRORED + LOADERS_MIRRORED + LAYERS
            + ACTIVATIONS_MIRRORED + MARGIN_LOSSES_AND_DISTANCES + CTC_LOSS + SCATTER_EXTRA
            + STATISTICS)


MIRRORED_ROWS = [row.row() for row in MIRRORED]
FAMILIES = MODULES + OPTIMIZERS + LOADERS + LOSSES + AROUND_CONV + CONV + SEQUENCE + RNG + FILES + MIRRORED_ROWS
ALL_ROWS = CORE + FAMILIES


def test_the_table_has_at_least_sixty_rows():
    counts = {"core": len(CORE), "modules": len(MODULES), "optimizers": len(OPTIMIZERS) + len(OPTIMIZERS_MIRRORED),
              "DataLoader": len(LOADERS) + len(LOADERS_MIRRORED), "losses": len(LOSSES) + len(LOSSES_MIRRORED), "around convolutions": len(AROUND_CONV), "convolution": len(CONV), "sequence": len(SEQUENCE), "RNG": len(RNG),
              "files": len(FILES), "factories": len(FACTORIES), "in-place samplers and init": len(SAMPLERS), "setters": len(SETTERS),
              "matmul": len(MATMUL), "layers": len(LAYERS), "activations": len(ACTIVATIONS_MIRRORED),
              "margin losses and distances": len(MARGIN_LOSSES_AND_DISTANCES),
              "ctc loss": len(CTC_LOSS),
              "scatter and put": len(SCATTER_EXTRA),
              "statistics": len(STATISTICS)}
    print(f"\nmisuse table: {len(ALL_ROWS)} rows ({', '.join(f'{k} {v}' for k, v in counts.items())})")
    assert len(ALL_ROWS) >= 250 and len({row.name for row in ALL_ROWS}) == len(ALL_ROWS)
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


def _raised(case, lib):
    objects = case.setup(lib)
    with pytest.raises(BaseException) as info:
        case.act(lib, objects)
    return info.value


@pytest.mark.parametrize("case", MIRRORED, ids=[c.name for c in MIRRORED])
def test_pytorch_raises_the_same(case):
    """Each mirrored row, run on torch 2.13 and on tinytorch: the same exception type exactly
    (not a subclass: NotImplementedError is a RuntimeError) and the row's words in both messages."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("torch.utils.data")  # the rows reach it as torch.utils.data
    for lib, error in ((torch, _raised(case, torch)), (tinytorch, _raised(case, tinytorch))):
        assert type(error) is case.error, f"{case.name}: {lib.__name__} raised {type(error).__name__}: {error}"
        message = str(error)
        for word in case.words:
            word = word.replace("tinytorch.", "torch.") if lib is torch else word
            assert word in message, f"{case.name}: {word!r} not in {lib.__name__}'s {message!r}"


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
