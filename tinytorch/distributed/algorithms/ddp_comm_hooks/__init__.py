"""``torch.distributed.algorithms.ddp_comm_hooks``: ready-made communication hooks for
``DistributedDataParallel.register_comm_hook`` (``default_hooks``), and ``DDPCommHookType`` /
``register_ddp_comm_hook`` to register one by name."""

import enum
import functools

from . import default_hooks as default

__all__ = ["DDPCommHookType", "register_ddp_comm_hook"]


def _member(value):
    # A function would become a method, not a member: Python 3.11's enum.member says so
    # (3.10 makes a partial a member by itself).
    member = getattr(enum, "member", None)
    return member(value) if member is not None else value


def _ddp_comm_hook_wrapper(comm_hook, model, state):
    model.register_comm_hook(state, comm_hook)


class DDPCommHookType(enum.Enum):
    """The hooks of ``default_hooks`` by name: ``DDPCommHookType.ALLREDUCE.value(model=ddp, state=group)``
    registers ``allreduce_hook`` on ``ddp``."""

    ALLREDUCE = _member(functools.partial(_ddp_comm_hook_wrapper, comm_hook=default.allreduce_hook))
    FP16_COMPRESS = _member(functools.partial(_ddp_comm_hook_wrapper, comm_hook=default.fp16_compress_hook))


def register_ddp_comm_hook(comm_hook_type, model, state=None):
    """Register the hook ``comm_hook_type`` (a ``DDPCommHookType``) on the DDP ``model``, with ``state``."""
    comm_hook_type.value(model=model, state=state)
