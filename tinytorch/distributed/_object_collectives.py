"""The object collectives (``all_gather_object``, ``broadcast_object_list``...): picklable Python
objects moved as uint8 tensors over the tensor collectives, as PyTorch does.

Pickle is what PyTorch uses here: these are in-process messages between the user's own ranks of
one job (not files or checkpoints from elsewhere), and unpickling them trusts those ranks just as
PyTorch's do. Objects travel through the CPU on ``mpi`` and through the current GPU on ``nccl``.
"""

import io
import pickle

import numpy as np

from .. import _backend as backend
from . import distributed_c10d as c10d


def _object_device(group):
    """Where the byte tensors live: the current GPU for an NCCL group, else the CPU."""
    if c10d.get_backend(group) == c10d.Backend.NCCL:
        from .. import cuda
        return backend.device("cuda", cuda.current_device())
    return backend.CPU


def _bytes_tensor(data, device):
    import tinytorch
    return tinytorch.tensor(np.frombuffer(data, dtype=np.uint8).copy(), dtype=tinytorch.uint8, device=device)


def _object_to_tensor(obj, device):
    """(uint8 tensor of ``obj``'s pickle, int64 tensor holding its length)."""
    import tinytorch
    buffer = io.BytesIO()
    pickle.Pickler(buffer).dump(obj)
    data = buffer.getvalue()
    return _bytes_tensor(data, device), tinytorch.tensor([len(data)], dtype=tinytorch.int64, device=device)


def _tensor_to_object(tensor, size):
    data = backend.to_numpy(tensor._data).tobytes()[:int(size)]
    return pickle.Unpickler(io.BytesIO(data)).load()


def _empty_bytes(count, device):
    import tinytorch
    return tinytorch.empty(int(count), dtype=tinytorch.uint8, device=device)


def _sizes(tensor):
    return [int(v) for v in backend.to_numpy(tensor._data).reshape(-1)]


def _padded(tensor, length, device):
    """``tensor`` (uint8) zero-padded to ``length`` bytes (PyTorch resizes it in place)."""
    import tinytorch
    if tensor.numel() == length:
        return tensor
    return tinytorch.cat([tensor, tinytorch.zeros(length - tensor.numel(), dtype=tinytorch.uint8, device=device)])


def all_gather_object(object_list, obj, group=None):
    """Every rank's picklable ``obj`` into ``object_list[i]`` (i: the rank) on every rank;
    ``object_list`` must have the group's size."""
    if c10d._rank_not_in_group(group):
        c10d._warn_not_in_group("all_gather_object")
        return None
    device = _object_device(group)
    tensor, local_size = _object_to_tensor(obj, device)
    size = c10d.get_world_size(group=group)
    import tinytorch
    size_list = [tinytorch.zeros(1, dtype=tinytorch.int64, device=device) for _ in range(size)]
    c10d.all_gather(size_list, local_size, group=group)
    sizes = [_sizes(t)[0] for t in size_list]
    longest = max(sizes)
    outputs = [_empty_bytes(longest, device) for _ in range(size)]
    c10d.all_gather(outputs, _padded(tensor, longest, device), group=group)
    for i, (output, length) in enumerate(zip(outputs, sizes)):
        object_list[i] = _tensor_to_object(output, length)
    return None


def broadcast_object_list(object_list, src=None, group=None, device=None, group_src=None):
    """Rank ``src``'s (default 0) ``object_list`` into ``object_list`` on every rank (the same
    length everywhere)."""
    pg = c10d._group_or_default_group(group)
    if src is None and group_src is None:
        src = 0
    group_src = c10d._canonicalize_group_rank(c10d._as_group(group), src, group_src)
    if c10d._rank_not_in_group(group):
        c10d._warn_not_in_group("broadcast_object_list")
        return None
    import tinytorch
    device = backend.as_device(device) if device is not None else _object_device(group)
    is_source = pg.rank() == group_src
    if is_source:
        tensors, lengths = zip(*[_object_to_tensor(obj, device) for obj in object_list])
        sizes_tensor = tinytorch.cat(list(lengths))
    else:
        sizes_tensor = tinytorch.empty(len(object_list), dtype=tinytorch.int64, device=device)
    c10d.broadcast(sizes_tensor, group_src=group_src, group=group)
    sizes = _sizes(sizes_tensor)
    payload = tinytorch.cat(list(tensors)) if is_source else _empty_bytes(sum(sizes), device)
    c10d.broadcast(payload, group_src=group_src, group=group)
    if not is_source:
        data, offset = backend.to_numpy(payload._data).tobytes(), 0
        for i, length in enumerate(sizes):
            object_list[i] = pickle.Unpickler(io.BytesIO(data[offset:offset + length])).load()
            offset += length
    return None


def gather_object(obj, object_gather_list=None, dst=None, group=None, group_dst=None):
    """Every rank's ``obj`` into ``object_gather_list`` on rank ``dst`` (default 0), which must
    pass a list of the group's size; the other ranks pass None."""
    pg = c10d._group_or_default_group(group)
    if dst is None and group_dst is None:
        dst = 0
    group_dst = c10d._canonicalize_group_rank(c10d._as_group(group), dst, group_dst)
    if c10d._rank_not_in_group(group):
        c10d._warn_not_in_group("gather_object")
        return None
    my_rank = pg.rank()
    c10d._validate_output_list_for_rank(my_rank, group_dst, object_gather_list)
    device = _object_device(group)
    tensor, local_size = _object_to_tensor(obj, device)
    size = c10d.get_world_size(group=group)
    import tinytorch
    size_list = [tinytorch.zeros(1, dtype=tinytorch.int64, device=device) for _ in range(size)]
    c10d.all_gather(size_list, local_size, group=group)
    sizes = [_sizes(t)[0] for t in size_list]
    longest = max(sizes)
    outputs = [_empty_bytes(longest, device) for _ in range(size)] if my_rank == group_dst else None
    c10d.gather(_padded(tensor, longest, device), gather_list=outputs, group_dst=group_dst, group=group)
    if my_rank != group_dst:
        return None
    for i, (output, length) in enumerate(zip(outputs, sizes)):
        object_gather_list[i] = _tensor_to_object(output, length)
    return None


def scatter_object_list(scatter_object_output_list, scatter_object_input_list=None, src=None, group=None,
                        group_src=None):
    """Rank ``src`` (default 0) sends ``scatter_object_input_list[i]`` to rank i, which finds it in
    ``scatter_object_output_list[0]``."""
    pg = c10d._group_or_default_group(group)
    if src is None and group_src is None:
        src = 0
    group_src = c10d._canonicalize_group_rank(c10d._as_group(group), src, group_src)
    if c10d._rank_not_in_group(group):
        c10d._warn_not_in_group("scatter_object_list")
        return None
    if not isinstance(scatter_object_output_list, list) or len(scatter_object_output_list) < 1:
        raise ValueError("Expected argument scatter_object_output_list to be a list of size at least 1.")
    import tinytorch
    device = _object_device(group)
    is_source = pg.rank() == group_src
    if is_source:
        if scatter_object_input_list is None:
            raise ValueError("source rank must provide non-None scatter_object_input_list")
        tensors, lengths = zip(*[_object_to_tensor(obj, device) for obj in scatter_object_input_list])
        longest = max(_sizes(t)[0] for t in lengths)
        tensors = [_padded(t, longest, device) for t in tensors]
        longest_tensor = tinytorch.tensor([longest], dtype=tinytorch.int64, device=device)
    else:
        longest_tensor = tinytorch.tensor([0], dtype=tinytorch.int64, device=device)
    c10d.broadcast(longest_tensor, group_src=group_src, group=group)
    output = _empty_bytes(_sizes(longest_tensor)[0], device)
    c10d.scatter(output, scatter_list=tensors if is_source else None, group_src=group_src, group=group)
    length = tinytorch.tensor([0], dtype=tinytorch.int64, device=device)
    c10d.scatter(length, scatter_list=list(lengths) if is_source else None, group_src=group_src, group=group)
    scatter_object_output_list[0] = _tensor_to_object(output, _sizes(length)[0])
    return None


def send_object_list(object_list, dst=None, group=None, device=None, group_dst=None, use_batch=False):
    """Send the picklable objects of ``object_list`` to rank ``dst`` (which calls
    ``recv_object_list`` with a list of the same length)."""
    pg = c10d._group_or_default_group(group)
    group_dst = c10d._canonicalize_group_rank(c10d._as_group(group), dst, group_dst)
    c10d._check_not_self_rank(pg, group_dst, "destination")
    if c10d._rank_not_in_group(group):
        c10d._warn_not_in_group("send_object_list")
        return None
    import tinytorch
    device = backend.as_device(device) if device is not None else _object_device(group)
    tensors, lengths = zip(*[_object_to_tensor(obj, device) for obj in object_list])
    for tensor in (tinytorch.cat(list(lengths)), tinytorch.cat(list(tensors))):
        if use_batch:
            c10d.batch_isend_irecv([c10d.P2POp(c10d.isend, tensor, group_peer=group_dst, group=group)]).pop().wait()
        else:
            c10d.send(tensor, group_dst=group_dst, group=group)
    return None


def recv_object_list(object_list, src=None, group=None, device=None, group_src=None, use_batch=False):
    """Receive into ``object_list`` the objects rank ``src`` sent with ``send_object_list``;
    returns the sender's (global) rank."""
    pg = c10d._group_or_default_group(group)
    group_src = c10d._canonicalize_group_rank(c10d._as_group(group), src, group_src)
    c10d._check_not_self_rank(pg, group_src, "source")
    if c10d._rank_not_in_group(group):
        c10d._warn_not_in_group("recv_object_list")
        return -1
    import tinytorch
    device = backend.as_device(device) if device is not None else _object_device(group)

    def receive(tensor):
        if use_batch:
            c10d.batch_isend_irecv([c10d.P2POp(c10d.irecv, tensor, group_peer=group_src, group=group)]).pop().wait()
            return c10d.get_global_rank(c10d._as_group(group), group_src)
        return c10d.recv(tensor, group=group, group_src=group_src)

    sizes_tensor = tinytorch.empty(len(object_list), dtype=tinytorch.int64, device=device)
    rank_sizes = receive(sizes_tensor)
    sizes = _sizes(sizes_tensor)
    payload = _empty_bytes(sum(sizes), device)
    rank_objects = receive(payload)
    if rank_sizes != rank_objects:
        raise AssertionError("Mismatch in return ranks for object sizes and objects.")
    data, offset = backend.to_numpy(payload._data).tobytes(), 0
    for i, length in enumerate(sizes):
        object_list[i] = pickle.Unpickler(io.BytesIO(data[offset:offset + length])).load()
        offset += length
    return rank_objects


__all__ = ["all_gather_object", "broadcast_object_list", "gather_object", "recv_object_list", "scatter_object_list",
           "send_object_list"]
