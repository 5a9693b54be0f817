"""``replicate``: copies of a module on several GPUs whose parameters backpropagate into the original's."""

from collections import OrderedDict

from ... import _backend as backend
from ._device_index import get_device_index

__all__ = ["replicate"]


def _broadcast(tensors, devices, detach):
    """One list of copies of ``tensors`` per device. Without ``detach`` the copies are
    differentiable (``Tensor.to``, whose backward sums each replica's gradient into the source,
    PyTorch's ``Broadcast``/``ReduceAddCoalesced``); on the source device they share its storage."""
    if not tensors:
        return []
    if not all(t.device.type != "cpu" for t in tensors):
        raise AssertionError("Broadcast function not implemented for CPU tensors")
    source = tensors[0].device
    if devices[0] != (source.index or 0):
        raise RuntimeError("device of broadcasted tensor must appear as the first on devices list")
    copies = []
    for index in devices:
        target = backend.device("cuda", index)
        if detach:
            # Detached copies on the source device are the tensors themselves: in-place updates of a
            # replica's buffers there (BatchNorm's running statistics) reach the original module.
            copies.append([t if t.device == target else t.detach().to(target) for t in tensors])
        else:
            # A view, not the Parameter itself: replicas hold no parameters of their own, as PyTorch's.
            copies.append([t.view_as(t) if t.device == target else t.to(target) for t in tensors])
    return copies


def _replica(module):
    """A shallow copy of ``module`` without parameters (PyTorch's ``Module._replicate_for_data_parallel``)."""
    replica = module.__new__(type(module))
    replica.__dict__ = module.__dict__.copy()
    setattr_ = object.__setattr__
    setattr_(replica, "_parameters", {})
    setattr_(replica, "_buffers", replica._buffers.copy())
    setattr_(replica, "_modules", replica._modules.copy())
    setattr_(replica, "_is_replica", True)
    # DistributedDataParallel in PyTorch reads a replica's parameters here.
    setattr_(replica, "_former_parameters", OrderedDict())
    return replica


def replicate(network, devices, detach=False):
    """Copies of ``network``, one per device in ``devices``, whose parameters are differentiable
    copies of the original's (gradients of every replica sum into the original parameters;
    ``detach=True`` cuts them off). Buffers are copied detached unless they require grad."""
    if not devices:
        return []
    devices = [get_device_index(x, True) for x in devices]
    num_replicas = len(devices)

    params = list(network.parameters())
    param_indices = {id(param): idx for idx, param in enumerate(params)}
    param_copies = _broadcast(params, devices, detach)

    buffers = list(network.buffers())
    buffers_rg = [buf for buf in buffers if buf.requires_grad and not detach]
    buffers_not_rg = [buf for buf in buffers if not (buf.requires_grad and not detach)]
    buffer_indices_rg = {id(buf): idx for idx, buf in enumerate(buffers_rg)}
    buffer_indices_not_rg = {id(buf): idx for idx, buf in enumerate(buffers_not_rg)}
    buffer_copies_rg = _broadcast(buffers_rg, devices, detach)
    buffer_copies_not_rg = _broadcast(buffers_not_rg, devices, True)

    modules = list(network.modules())
    module_indices = {id(module): i for i, module in enumerate(modules)}
    module_copies = [[_replica(module) for module in modules] for _ in devices]

    for i, module in enumerate(modules):
        for key, child in module._modules.items():
            for j in range(num_replicas):
                replica = module_copies[j][i]
                if child is None:
                    replica._modules[key] = None
                else:
                    setattr(replica, key, module_copies[j][module_indices[id(child)]])
        for key, param in module._parameters.items():
            for j in range(num_replicas):
                replica = module_copies[j][i]
                if param is None:
                    replica._parameters[key] = None
                else:
                    # No longer a leaf: a plain attribute, as in PyTorch.
                    param_copy = param_copies[j][param_indices[id(param)]]
                    setattr(replica, key, param_copy)
                    replica._former_parameters[key] = param_copy
        for key, buf in module._buffers.items():
            for j in range(num_replicas):
                replica = module_copies[j][i]
                if buf is None:
                    replica._buffers[key] = None
                elif buf.requires_grad and not detach:
                    setattr(replica, key, buffer_copies_rg[j][buffer_indices_rg[id(buf)]])
                else:
                    setattr(replica, key, buffer_copies_not_rg[j][buffer_indices_not_rg[id(buf)]])

    return [module_copies[j][0] for j in range(num_replicas)]
