"""``torch.autograd.graph``: hooks on the tensors a graph saves for backward, and the graph's
node type.

- ``saved_tensors_hooks(pack_hook, unpack_hook)``: while open, every tensor an op saves for
  backward is stored as ``pack_hook(tensor)`` and handed back as ``unpack_hook(packed)`` when
  backward needs it (to offload, compress or log activations);
- ``save_on_cpu()``: those hooks, keeping saved tensors in CPU memory;
- ``disable_saved_tensors_hooks(message)``: opening saved-tensor hooks inside it raises;
- ``register_multi_grad_hook(tensors, fn)``: ``fn`` once per backward, with the gradients of all
  of ``tensors`` that it computes (``mode="all"``) or with the first of them (``mode="any"``);
- ``Node``: the type of ``grad_fn`` (``isinstance(t.grad_fn, Node)``); ``GradientEdge`` and
  ``get_gradient_edge`` (an input of ``autograd.grad`` that names a node's output); ``increment_version``.
"""

import abc
import contextlib
import functools
import threading
from typing import NamedTuple

from .._hooks import RemovableHandle
from . import _engine, _saved_hooks
from .function import AccumulateGrad, Node as _Node, grad_accumulator

__all__ = [
    "GradientEdge", "Node", "disable_saved_tensors_hooks", "get_gradient_edge", "increment_version",
    "register_multi_grad_hook", "save_on_cpu", "saved_tensors_hooks",
]


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


class GradientEdge(NamedTuple):
    """A node's output: ``autograd.grad`` takes one as an input to differentiate with respect to."""

    node: Node
    output_nr: int


def _grad_fn_or_accumulator(tensor):
    if tensor._requires_grad and tensor.grad_fn is None:
        return grad_accumulator(tensor)
    return tensor.grad_fn


def get_gradient_edge(tensor):
    """The ``GradientEdge`` of ``tensor``: its grad_fn (a leaf's AccumulateGrad) and output number."""
    if not tensor.requires_grad:
        raise RuntimeError("It is not possible to get the gradient edge for a Tensor that does not require gradients")
    return GradientEdge(_grad_fn_or_accumulator(tensor), tensor._output_nr)


class _MultiHandle(RemovableHandle):
    def __init__(self, handles):
        self.handles = handles

    def remove(self):
        for handle in self.handles:
            handle.remove()


def register_multi_grad_hook(tensors, fn, *, mode="all"):
    """Call ``fn`` once per backward in which ``tensors`` get gradients.

    ``mode="all"``: ``fn(grads)`` after every one of ``tensors`` whose gradient this backward
    computes has it, ``grads`` holding None for the others; ``mode="any"``: ``fn(grad)`` with the
    first gradient computed. Returns a handle whose ``remove()`` unregisters it.
    """
    if mode not in ("all", "any"):
        raise ValueError(f"Expects mode to be one of {('all', 'any')} but got {mode}")
    lock = threading.Lock()
    if mode == "all":
        count, buffer, expected = {}, {}, {}
        nodes = [_grad_fn_or_accumulator(t) for t in tensors]

        def inner(index):
            def hook(grad):
                run = _engine.current_run()
                if run is None:
                    raise RuntimeError("expected this hook to be called inside a backward call")
                with lock:
                    seen = count.get(run.id, 0)
                    count[run.id] = seen + 1
                    if not seen:  # first gradient of this backward: how many will come
                        expected[run.id] = sum(1 for node in nodes if node is not None and run.will_execute(node))
                        buffer[run.id] = [None] * len(tensors)
                buffer[run.id][index] = grad
                if seen == expected[run.id] - 1:
                    grads = buffer.pop(run.id)
                    del count[run.id], expected[run.id]
                    fn(grads)

            return hook

        handles = tuple(t.register_hook(inner(i)) for i, t in enumerate(tensors))
    else:
        ran = set()

        @functools.wraps(fn)
        def once(grad):
            run = _engine.current_run()
            if run is None:
                raise RuntimeError("expected this hook to be called inside a backward call")
            with lock:
                if run.id in ran:
                    return
                ran.add(run.id)
            fn(grad)

        handles = tuple(t.register_hook(once) for t in tensors if t.requires_grad)
    return _MultiHandle(handles)
