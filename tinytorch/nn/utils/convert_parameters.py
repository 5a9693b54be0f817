"""Flatten parameters into one vector and back."""

from ... import _ops as ops
from ..._tensor import Tensor


def _check_param_device(param, old_param_device):
    """The device index of the first parameter (-1 for CPU); TypeError when parameters disagree."""
    device = param.get_device()
    if old_param_device is not None and device != old_param_device:
        raise TypeError("Found two parameters on different devices, this is currently not supported.")
    return device


def parameters_to_vector(parameters):
    """One 1-D tensor holding every parameter's values, in order (differentiable)."""
    device, pieces = None, []
    for param in parameters:
        device = _check_param_device(param, device)
        pieces.append(param.reshape(-1))
    return ops.cat(pieces)


def vector_to_parameters(vec, parameters):
    """Point each parameter's data at its slice of ``vec`` (the inverse of parameters_to_vector)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    device, pointer = None, 0
    for param in parameters:
        device = _check_param_device(param, device)
        count = param.numel()
        param.data = vec[pointer:pointer + count].view_as(param).data
        pointer += count
