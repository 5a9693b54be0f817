"""``torch.autograd.graph``: hooks on the tensors a graph saves for backward, and the graph's
node type.

- ``saved_tensors_hooks(pack_hook, unpack_hook)``: while open, every tensor an op saves for
  backward is stored as ``pack_hook(tensor)`` and handed back as ``unpack_hook(packed)`` when
  backward needs it (to offload, compress or log activations);
- ``save_on_cpu()``: those hooks, keeping saved tensors in CPU memory;
- ``disable_saved_tensors_hooks(message)``: opening saved-tensor hooks inside it raises;
- ``Node``: the type of ``grad_fn`` (``isinstance(t.grad_fn, Node)``); ``increment_version``.
"""

import abc
import contextlib

from . import _saved_hooks
from .function import AccumulateGrad, Node as _Node

__all__ = ["Node", "disable_saved_tensors_hooks", "increment_version", "save_on_cpu", "saved_tensors_hooks"]


class Node(abc.ABC):
    """What ``grad_fn`` (and a leaf's ``AccumulateGrad``) is an instance of."""

    @abc.abstractmethod
    def name(self):
        """The node's name (``"MulBackward0"``)."""

    @property
    @abc.abstractmethod
    def next_functions(self):
        """((node, output_nr), ...) for each input of the op."""

    @abc.abstractmethod
    def register_prehook(self, hook):
        """``hook(grad_outputs)`` before the node runs; returns a handle."""

    @classmethod
    def __subclasshook__(cls, subclass):
        if cls is Node and issubclass(subclass, (_Node, AccumulateGrad)):
            return True
        return NotImplemented


class saved_tensors_hooks:
    """Context manager: the tensors saved for backward inside it go through ``pack_hook`` when
    saved and ``unpack_hook`` when backward reads them.

    ``pack_hook(tensor)`` may return anything and must not modify the tensor in place;
    ``unpack_hook(packed)`` must return a tensor with the original's values. The innermost
    open pair applies; they hold on this thread.
    """

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        _saved_hooks.push(self.pack_hook, self.unpack_hook)

    def __exit__(self, *args):
        _saved_hooks.pop()


class save_on_cpu(saved_tensors_hooks):
    """Saved tensors kept in CPU memory and moved back to their device for backward (a GPU model's
    activations in host memory). ``pin_memory`` is accepted; tinytorch's CPU tensors are not
    page-locked, so it copies as without it."""

    def __init__(self, pin_memory=False, device_type="cuda"):
        def pack_to_cpu(tensor):
            return tensor.device, tensor.cpu()

        def unpack_from_cpu(packed):
            device, tensor = packed
            return tensor.to(device, non_blocking=pin_memory)

        super().__init__(pack_to_cpu, unpack_from_cpu)


@contextlib.contextmanager
def disable_saved_tensors_hooks(error_message):
    """Inside it, opening ``saved_tensors_hooks`` raises ``RuntimeError(error_message)``."""
    previous = _saved_hooks.disabled_message()
    _saved_hooks.set_disabled_message(error_message)
    try:
        yield
    finally:
        _saved_hooks.set_disabled_message(previous)


def increment_version(tensor):
    """Bump the tensor's version counter, as an in-place op would (for ops that write into a
    tensor's memory behind autograd's back): a graph that saved it then refuses to use it."""
    tensor._version[0] += 1
