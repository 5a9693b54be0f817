"""The user-facing entry points of the engine: ``backward`` and ``grad``."""

from .._backend import array_module, on_device
from . import _engine as engine
from .function import grad_accumulator


def _as_tuple(x):
    if x is None:
        return ()
    return tuple(x) if isinstance(x, (tuple, list)) and x.__class__ is not GradientEdge else (x,)


def _roots(tensors, grad_tensors, create_graph):
    Tensor = _tensor.Tensor
    roots, grads = [], []
    grad_tensors = _as_tuple(grad_tensors) or (None,) * len(tensors)
    if len(grad_tensors) != len(tensors):
        raise RuntimeError(f"got {len(grad_tensors)} gradients but {len(tensors)} tensors")
    for i, (t, g) in enumerate(zip(tensors, grad_tensors)):
        if not t.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        if g is None:
            if t._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            with on_device(t.device):  # CuPy allocates on the current GPU, not the tensor's
                g = Tensor._make(array_module(t._data).ones_like(t._data))
        else:
            if not isinstance(g, Tensor):
                raise TypeError(f"gradient must be a Tensor or None, got {type(g).__name__}")
            if tuple(g.shape) != tuple(t.shape):
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and output[{i}] has a shape of {t.shape}."
                )
            if g.device != t.device:
                raise RuntimeError(f"invalid gradient at index {i} - expected device {t.device} but got {g.device}")
            # The engine may hand this array to a leaf's .grad and accumulate into it later:
            # copy it so the caller's tensor is never written to.
            if not create_graph:
                with on_device(t.device):
                    g = Tensor._make(g._data.copy())
        node = t.grad_fn if t.grad_fn is not None else grad_accumulator(t)
        roots.append((node, t._output_nr if t.grad_fn is not None else 0))
        grads.append(g)
    return roots, grads


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate gradients of ``tensors`` into the ``.grad`` of the leaves (or only ``inputs``)."""
    tensors = _as_tuple(tensors)
    if retain_graph is None:
        retain_graph = create_graph
    roots, grads = _roots(tensors, grad_tensors, create_graph)
    if inputs is not None:
        inputs = _as_tuple(inputs)
        if not inputs:
            raise RuntimeError("'inputs' argument to backward() cannot be empty.")
        # As PyTorch: a non-leaf input retains its grad (its hooks run first), and the inputs'
        # nodes run with those leading to them, no others: the leaves that are not inputs get
        # nothing, and the graph below an input is not walked.
        targets = set()
        for t in inputs:
            targets.add(_node_of(t)[0])
            if t.grad_fn is not None:
                t.retain_grad()
        engine.run_backward(roots, grads, retain_graph, create_graph, targets=targets)
        return
    engine.run_backward(roots, grads, retain_graph, create_graph)


def _node_of(t):
    if t.__class__ is GradientEdge:
        return (t.node, t.output_nr)
    if not t.requires_grad:
        raise RuntimeError("One of the differentiated Tensors does not require grad")
    if t.grad_fn is None:
        return (grad_accumulator(t), 0)
    return (t.grad_fn, t._output_nr)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=None, materialize_grads=False):
    """The gradients of ``outputs`` with respect to ``inputs``, returned (not accumulated)."""
    outputs, inputs = _as_tuple(outputs), _as_tuple(inputs)
    if retain_graph is None:
        retain_graph = create_graph
    roots, grads = _roots(outputs, grad_outputs, create_graph)
    capture = {}
    for slot, t in enumerate(inputs):
        capture.setdefault(_node_of(t), slot)
    captured = engine.run_backward(roots, grads, retain_graph, create_graph, capture=capture, accumulate=False)
    result = []
    for t in inputs:
        g = captured[capture[_node_of(t)]]
        if g is None:
            if materialize_grads:
                if t.__class__ is GradientEdge:
                    raise RuntimeError("materialize_grads cannot be used when the given input is a GradientEdge")
                g = _tensor.Tensor._make(array_module(t._data).zeros_like(t._data))
            elif not allow_unused:
                raise RuntimeError(
                    "One of the differentiated Tensors appears to not have been used in the graph. Set allow_unused=True if this is the desired behavior."
                )
        elif not create_graph:
            g = g.detach()
        result.append(g)
    return tuple(result)


# Imported last (a cycle): _tensor imports the autograd package, and Tensor is looked up at call time.
from .. import _tensor as _tensor  # noqa: E402
from .graph import GradientEdge  # noqa: E402
