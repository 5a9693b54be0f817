"""Optimizers and learning-rate schedules with PyTorch's API: ``optim.SGD(model.parameters(), lr=0.1)``."""

from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam
from .adamw import AdamW
from .lbfgs import LBFGS
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

# As torch.optim does: the classes are the public names, not the files that define them.
del adagrad, adam, adamw, lbfgs, optimizer, rmsprop, sgd  # noqa: F821

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "LBFGS", "Optimizer", "RMSprop", "lr_scheduler"]
