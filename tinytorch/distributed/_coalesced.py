"""The coalesced collectives (``all_reduce_coalesced``, ``all_gather_coalesced``): several tensors
in one operation, packed into one buffer. PyTorch deprecates them (FutureWarning) and runs them
on gloo (and NCCL's all-reduce); tinytorch runs them on both of its backends.

With ``async_op=True`` they return a future (``wait()`` gives the tensors written), as
PyTorch's return ``work.get_future()``, where the other collectives return the ``Work``.
"""

import warnings

from . import distributed_c10d as c10d
from ._process_group import check_reduce_op
from ._reduce_op import ReduceOp


def _deprecated(name):
    warnings.warn(f"`torch.distributed.{name}` will be deprecated. If you must use it, please revisit our "
                  "documentation later at https://pytorch.org/docs/main/distributed.html#collective-functions",
                  FutureWarning, stacklevel=3)


def _no_tensors(name):
    # PyTorch's dispatcher refuses an empty tensor list with NotImplementedError.
    return NotImplementedError(f"{name} needs at least one tensor: there were no tensor arguments")


def _finish(work, async_op):
    if async_op:
        return work.get_future()
    work.wait()
    return None


def all_reduce_coalesced(tensors, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce every tensor of ``tensors`` (one tensor, or a list of one dtype) across ``group``
    in place, as one operation. Deprecated in PyTorch (FutureWarning)."""
    _deprecated("all_reduce_coalesced")
    if isinstance(tensors, c10d.Tensor):
        tensors = [tensors]
    c10d._check_tensor_list(tensors, "tensor")
    c10d._ensure_all_tensors_same_dtype(tensors)
    if c10d._rank_not_in_group(group):
        c10d._warn_not_in_group("all_reduce_coalesced")
        return None
    if any(t.is_complex() for t in tensors) and not c10d.supports_complex(op):
        raise ValueError(f"all_reduce does not support {op} on complex tensors")
    check_reduce_op(op, "all_reduce_coalesced")
    if not tensors:
        raise _no_tensors("all_reduce_coalesced")
    return _finish(c10d._group_or_default_group(group).allreduce_coalesced(tensors, op), async_op)


def all_gather_coalesced(output_tensor_lists, input_tensor_list, group=None, async_op=False):
    """Every rank's ``input_tensor_list`` into ``output_tensor_lists[rank]`` on every rank, as one
    operation (each output list has the inputs' shapes and dtypes). Deprecated in PyTorch
    (FutureWarning)."""
    _deprecated("all_gather_coalesced")
    if c10d._rank_not_in_group(group):
        c10d._warn_not_in_group("all_gather_coalesced")
        return None
    c10d._check_tensor_list(input_tensor_list, "input_tensor_list")
    c10d._ensure_all_tensors_same_dtype(input_tensor_list)
    if not isinstance(output_tensor_lists, list):
        raise TypeError("Invalid function argument: output_tensor_lists should be a list")
    for output_tensor_list in output_tensor_lists:
        c10d._check_tensor_list(output_tensor_list, "output_tensor_lists")
        c10d._ensure_all_tensors_same_dtype(output_tensor_list)
    if not input_tensor_list:
        raise _no_tensors("all_gather_coalesced")
    pg = c10d._group_or_default_group(group)
    return _finish(pg.allgather_coalesced(output_tensor_lists, input_tensor_list), async_op)
