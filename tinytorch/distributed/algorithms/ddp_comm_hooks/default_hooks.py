"""``torch.distributed.algorithms.ddp_comm_hooks.default_hooks``: the all-reduce DDP does by
itself, as a hook, and its float16-compressed form."""

from .... import _dtypes
from ... import distributed_c10d as dist

__all__ = ["allreduce_hook", "fp16_compress_hook", "fp16_compress_wrapper"]


def _allreduce_fut(process_group, tensor):
    """Average ``tensor`` across the group: a future of it."""
    group_to_use = process_group if process_group is not None else dist.group.WORLD
    tensor.div_(group_to_use.size())  # divide first: no overflow in float16
    return dist.all_reduce(tensor, group=group_to_use, async_op=True).get_future().then(lambda fut: fut.value()[0])


def allreduce_hook(process_group, bucket):
    """Average the bucket across ``process_group`` (None: the default group): the same gradients
    as DDP without a hook."""
    return _allreduce_fut(process_group, bucket.buffer())


def fp16_compress_hook(process_group, bucket):
    """Cast the bucket to float16, divide it by the group's size, all-reduce it, and cast the sum
    back into the bucket's dtype: half the bytes on the wire, float16's rounding in the average."""
    group_to_use = process_group if process_group is not None else dist.group.WORLD
    world_size = group_to_use.size()
    buffer = bucket[0] if isinstance(bucket, tuple) else bucket.buffer()
    compressed_tensor = buffer.to(_dtypes.float16).div_(world_size)

    def decompress(fut):
        # In place, into the bucket's own buffer: no second full-precision copy.
        buffer.copy_(fut.value()[0])
        return buffer

    return dist.all_reduce(compressed_tensor, group=group_to_use, async_op=True).get_future().then(decompress)


def fp16_compress_wrapper(hook):
    """A hook that hands ``hook`` the bucket cast to float16 and casts its result back."""

    def fp16_compress_wrapper_hook(hook_state, bucket):
        bucket.set_buffer(bucket.buffer().to(_dtypes.float16))
        fut = hook(hook_state, bucket)

        def decompress(fut):
            decompressed_tensor = bucket.buffer()
            decompressed_tensor.copy_(fut.value())
            return decompressed_tensor

        return fut.then(decompress)

    return fp16_compress_wrapper_hook
