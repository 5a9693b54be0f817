"""``torch.nn.parallel``: ``DataParallel`` (one process, several GPUs), its functions (``scatter``,
``gather``, ``replicate``, ``parallel_apply``, ``data_parallel``), and ``DistributedDataParallel``
(on ``tinytorch.distributed``)."""

from .data_parallel import DataParallel, data_parallel
from .parallel_apply import parallel_apply
from .replicate import replicate
from .scatter_gather import gather, scatter

__all__ = ["replicate", "scatter", "parallel_apply", "gather", "data_parallel", "DataParallel", "DistributedDataParallel"]

# Both load ``tinytorch.distributed`` (with its MPI and NCCL backends' code), which a program that
# never wraps a model does not need: imported at first use, like ``tinytorch.distributed`` itself.
_LAZY = ("distributed", "DistributedDataParallel")


def __getattr__(name):
    if name in _LAZY:
        import importlib

        distributed = importlib.import_module(f"{__name__}.distributed")  # binds it here too
        return distributed if name == "distributed" else distributed.DistributedDataParallel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
