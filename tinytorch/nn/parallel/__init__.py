"""``torch.nn.parallel``: ``DistributedDataParallel`` (on ``tinytorch.distributed``)."""

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
