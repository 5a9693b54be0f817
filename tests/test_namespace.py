"""The public namespace holds PyTorch's names: ``dir(tinytorch)`` shows no internals."""

import importlib
import importlib.util
import types

import pytest

import tinytorch

# Where tinytorch goes beyond torch's top level (docs/differences.md says why).
EXTRAS = {"vision": "torchvision's datasets and transforms", "viz": "graph pictures of autograd"}


def public(module):
    """The public names a module defines (a standard-library module it imported is not one)."""
    return {
        name for name in dir(module)
        if not name.startswith("_")
        and not (isinstance(getattr(module, name), types.ModuleType) and not getattr(module, name).__name__.startswith("tinytorch"))
    }


def test_no_internal_module_or_helper_is_public():
    leaked = public(tinytorch) & {"backend", "creation", "dtypes", "ops", "binary", "elementwise", "indexing",
                                   "movement", "reduce", "Function", "primitives", "inplace", "normalize_dims",
                                   "getitem", "setitem", "to_copy", "copy_from"}
    assert not leaked
    assert callable(tinytorch.tensor)  # the function, not the module that defines Tensor


def test_every_public_name_is_pytorchs():
    torch = pytest.importorskip("torch")
    lazy = set(getattr(torch, "_lazy_modules", ()))  # torch.onnx: imported on first use, so not in dir(torch)
    assert public(tinytorch) - set(dir(torch)) - lazy == set(EXTRAS)


@pytest.mark.parametrize("name, extras", [
    ("nn", set()), ("nn.functional", set()), ("nn.init", set()), ("optim", set()), ("optim.lr_scheduler", set()),
    ("optim.swa_utils", set()), ("utils.checkpoint", set()),
    ("autograd", {"trace"}),  # the tool that records what autograd does (docs/tools.md)
    ("cuda", set()), ("utils.data", set()), ("sparse", set()),
    ("multiprocessing", set()), ("linalg", set()), ("backends", set()), ("backends.mps", set()), ("backends.cuda", set()), ("serialization", set()),
    ("distributions", set()), ("distributions.constraints", set()), ("distributions.transforms", set()),
    ("distributions.kl", set()), ("distributions.utils", set()),
    ("distributed", set()), ("nn.parallel", set()), ("utils.data.distributed", set()),
    ("func", set()), ("autograd.functional", set()), ("compiler", set()), ("amp", set()), ("cuda.amp", set()),
    ("cpu", set()), ("cpu.amp", set()), ("futures", set()), ("autograd.forward_ad", set()),
    ("distributed.algorithms", set()), ("distributed.algorithms.ddp_comm_hooks", set()),
    ("distributed.algorithms.ddp_comm_hooks.default_hooks", set()),
])
def test_subpackages_hold_pytorchs_names(name, extras):
    pytest.importorskip("torch")
    ours, theirs = importlib.import_module(f"tinytorch.{name}"), importlib.import_module(f"torch.{name}")
    for attribute in public(ours):  # a submodule another test imported (distributed.run): torch loads its own lazily
        if (isinstance(getattr(ours, attribute), types.ModuleType) and not hasattr(theirs, attribute) and hasattr(theirs, "__path__")
                and importlib.util.find_spec(f"{theirs.__name__}.{attribute}")):
            importlib.import_module(f"{theirs.__name__}.{attribute}")
    assert public(ours) - set(dir(theirs)) == extras


@pytest.mark.parametrize("name, needs", [("onnx", None), ("utils.dlpack", None), ("utils.tensorboard", "tensorboard")])
def test_ecosystem_modules_hold_pytorchs_names(name, needs):
    """The modules that PyTorch imports on demand (torch.utils.tensorboard needs tensorboard)."""
    import importlib

    pytest.importorskip("torch")
    if needs:
        pytest.importorskip(needs)
    ours, theirs = importlib.import_module(f"tinytorch.{name}"), importlib.import_module(f"torch.{name}")
    assert public(ours) - set(dir(theirs)) == set()

