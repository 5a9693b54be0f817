"""Optimizers and learning-rate schedules with PyTorch's API: ``optim.SGD(model.parameters(), lr=0.1)``."""

from .adadelta import Adadelta
from .adafactor import Adafactor
from .adagrad import Adagrad
from .adam import Adam
from .adamax import Adamax
from .adamw import AdamW
from .asgd import ASGD
from .muon import Muon
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD
from .sparse_adam import SparseAdam

# As torch.optim does: the classes are the public names, not the files that define them.
del adadelta, adafactor, adagrad, adam, adamax, adamw, asgd, muon, nadam, optimizer, radam, rmsprop, rprop, sgd, sparse_adam  # noqa: F821

__all__ = ["ASGD", "SGD", "Adadelta", "Adafactor", "Adagrad", "Adam", "AdamW", "Adamax", "LBFGS", "Muon", "NAdam", "Optimizer",
           "RAdam", "RMSprop", "Rprop", "SparseAdam", "lr_scheduler", "swa_utils"]


# Loaded at first use (most programs never average weights, schedule the learning rate or run
# L-BFGS; every import would pay for them: ~0.3 MiB of the lecture's peak memory).
_LAZY = {"swa_utils": ("swa_utils", None), "lr_scheduler": ("lr_scheduler", None), "LBFGS": ("lbfgs", "LBFGS")}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        value = importlib.import_module(f"{__name__}.{module}")
        if attribute is not None:
            value = getattr(value, attribute)
            globals().pop(module, None)  # the import bound the file's name: only the class is public
        globals()[name] = value  # bound here: called once per name
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
