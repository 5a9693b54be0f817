"""``torch.nn.parallel``: ``DistributedDataParallel`` (on ``tinytorch.distributed``)."""

from . import distributed
from .distributed import DistributedDataParallel
