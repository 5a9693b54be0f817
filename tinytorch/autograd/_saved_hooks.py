"""The saved-tensor hooks of ``autograd.graph.saved_tensors_hooks``: the stack of (pack, unpack)
pairs in force on this thread, and the packed form a node keeps instead of a saved tensor.

A node's saved tensors (``ctx.save_for_backward``: a custom Function's, and the inputs and outputs
the built-in ops save) go through the innermost pack hook once the op has run, and come back
through its unpack hook each time backward reads them, as PyTorch's ``SavedVariable`` does. Arrays
a built-in op keeps on its ctx beside them (cross-entropy's softmax, say) are not tensors the
user could see and do not go through the hooks (docs/differences.md).
"""

import threading
import weakref

_local = threading.local()
active = 0  # hook contexts open on any thread: the one check a recorded op pays when it is 0


def stack():
    frames = getattr(_local, "stack", None)
    if frames is None:
        frames = _local.stack = []
    return frames


def push(pack_hook, unpack_hook):
    global active
    message = getattr(_local, "disabled", None)
    if message is not None:
        raise RuntimeError(message)
    stack().append((pack_hook, unpack_hook))
    active += 1


def disabled_message():
    return getattr(_local, "disabled", None)


def set_disabled_message(message):
    _local.disabled = message


def pop():
    global active
    stack().pop()
    active -= 1


class Packed:
    """A saved tensor as its pack hook returned it, with what the unpacked tensor needs to stand
    in for it in the graph: its grad_fn and output number, or, for a leaf, its AccumulateGrad."""

    __slots__ = ("value", "unpack_hook", "requires_grad", "grad_fn", "output_nr", "accumulator", "_version")

    def __init__(self, tensor, value, unpack_hook, accumulator, output):
        self.value, self.unpack_hook = value, unpack_hook
        # An output of the saving node is not tied to it here (no node -> packed -> node cycle):
        # ``unpack`` is handed the node.
        self.requires_grad, self.grad_fn, self.output_nr = tensor._requires_grad, None if output else tensor.grad_fn, tensor._output_nr
        self.accumulator = accumulator
        self._version = tensor._version

    def unpack(self, node):
        from .._tensor import Tensor

        value = self.unpack_hook(self.value)
        if not isinstance(value, Tensor):
            raise TypeError(f"Output of saved tensor unpack_hook expected to be a Tensor but got result of type {type(value).__name__}")
        grad_fn = self.grad_fn
        if grad_fn is None and self.requires_grad and self.accumulator is None:
            grad_fn = node  # an output of the node that saved it
        tensor = Tensor._make(value._data, self.requires_grad, grad_fn, self.output_nr)
        if self.accumulator is not None:  # a leaf: gradients of a double backward still reach it
            tensor._accumulator = weakref.ref(self.accumulator)
        tensor._version = self._version
        return tensor


def pack(ctx, saved, output_type):
    """``ctx``'s saved tensors (``saved``; its outputs as ``output_type``) through the innermost
    pack hook."""
    frames = stack()
    if not frames:  # hooks open on another thread only
        return tuple(saved)
    pack_hook, unpack_hook = frames[-1]
    from .._tensor import Tensor
    from .function import grad_accumulator

    packed = []
    for entry in saved:
        output = entry.__class__ is output_type
        tensor = entry.unpack(ctx) if output else entry
        if not isinstance(tensor, Tensor):
            packed.append(tensor)
            continue
        version = tensor._version[0]
        value = pack_hook(tensor)
        if tensor._version[0] != version:
            raise RuntimeError(
                "A saved tensor pack hook is modifying its input in place. Tensors provided as input to pack hook can not be "
                "modified by in-place operations as this can lead to unexpected side-effects. Please open an issue if you "
                "need to perform in-place operations on the input to a pack hook."
            )
        leaf = tensor._requires_grad and tensor.grad_fn is None
        packed.append(Packed(tensor, value, unpack_hook, grad_accumulator(tensor) if leaf else None, output))
    return tuple(packed)
