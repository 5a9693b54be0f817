"""Optimizers and learning-rate schedules with PyTorch's API: ``optim.SGD(model.parameters(), lr=0.1)``."""

from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam
from .adamax import Adamax
from .adamw import AdamW
from .lbfgs import LBFGS
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .sgd import SGD

# As torch.optim does: the classes are the public names, not the files that define them.
del adadelta, adagrad, adam, adamax, adamw, lbfgs, nadam, optimizer, radam, rmsprop, sgd  # noqa: F821

__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "LBFGS", "NAdam", "Optimizer", "RAdam", "RMSprop",
           "lr_scheduler"]
