"""``trace``: print the chain rule as the backward engine runs it, node by node.

For each node, in the engine's (topological) order: the op, the user's line that created it,
the shape and norm of the gradient arriving at its output(s), and of each gradient it returns,
which axes the engine summed to undo broadcasting, and a flag on NaN or inf.
"""

import os
import sys
import weakref

from .._backend import array_module
from . import _observe as observe
from ._api import backward
from ._engine import summed_axes
from .function import AccumulateGrad

_NOT_RECORDED = "(source line not recorded: build the graph inside `with tinytorch.autograd.trace():`)"


class trace:
    """Context manager: record each op's source line during forward and print every backward node.

    ``with tinytorch.autograd.trace(): loss = f(x); loss.backward()`` prints to ``file``
    (default ``sys.stdout``). ``params`` (name -> tensor, e.g. ``dict(model.named_parameters())``)
    names the leaves that gradients reach.
    """

    def __init__(self, file=None, params=None, record_source=True):
        self.file = file
        self.record_source = record_source
        self._names = {id(t): name for name, t in (params or {}).items()}
        # The gradient each node will receive, gathered from its parents as they run (the engine
        # keeps its own buffers private, so the trace mirrors them): node -> {output_nr: array}.
        self._incoming = weakref.WeakKeyDictionary()
        self._roots = weakref.WeakSet()
        self._output_shapes = weakref.WeakKeyDictionary()  # node -> its outputs' shapes, seen at forward
        self._count = 0

    def __enter__(self):
        observe.add(self)
        return self

    def __exit__(self, *exc):
        observe.remove(self)
        return False

    def seed(self, node, output_nr, array):
        """Tell the trace the gradient a backward starts from (``Tensor.backward(trace=True)`` does)."""
        self._incoming.setdefault(node, {})[output_nr] = array
        self._roots.add(node)

    # -- observer protocol ------------------------------------------------------------------------
    def forward(self, function, run):
        result = run()
        outputs = result if isinstance(result, tuple) else (result,)
        node = next((o.grad_fn for o in outputs if getattr(o, "grad_fn", None) is not None), None)
        if node is not None:
            self._output_shapes[node] = [tuple(getattr(o, "shape", ())) for o in outputs]
        return result

    def backward(self, node, run):
        incoming = self._incoming.pop(node, None)
        grads = run()
        try:
            self._print(node, incoming, grads)
        except Exception as error:  # a trace must never break the backward it watches
            self._write(f"    (trace could not describe this node: {error!r})\n")
        return grads

    # -- printing ---------------------------------------------------------------------------------
    def _write(self, text):
        (self.file or sys.stdout).write(text)

    def _print(self, node, incoming, grads):
        self._count += 1
        if incoming is None or node in self._roots:
            self._roots.discard(node)
            self._count = 1
            self._write(f"backward starts at {node.name()}\n")
        lines = [f"[{self._count}] {node.name()}  {_source(node)}"]
        for nr, array in sorted((incoming or {}).items()):
            lines.append(f"    grad_output[{nr}]: {_describe(array)}")
        if incoming is None:
            shapes = self._output_shapes.get(node)
            shown = f"shape {shapes[0]} " if shapes and len(shapes) == 1 else ""
            lines.append(f"    grad_output[0]: {shown}(the gradient backward started from: 1 for a scalar loss)")
        for i, (edge, grad) in enumerate(zip(node._edges, grads)):
            if edge is None:
                continue
            child, nr, shape, _ = edge
            if grad is None:
                lines.append(f"    grad_input[{i}]: None (no gradient flows to {self._target(child, shape)})")
                continue
            array = grad._data
            summed = summed_axes(array.shape, shape)
            note = ""
            if summed:
                array = array.sum(axis=summed).reshape(shape)
                note = f" (broadcast: summed over axes {summed} of {tuple(grad._data.shape)})"
            lines.append(f"    grad_input[{i}]: {_describe(array)}{note} -> {self._target(child, shape)}")
            if child.__class__ is not AccumulateGrad:
                slots = self._incoming.setdefault(child, {})
                slots[nr] = array if nr not in slots else slots[nr] + array
        self._write("\n".join(lines) + "\n")

    def _target(self, child, shape):
        if child.__class__ is AccumulateGrad:
            name = self._names.get(id(child.variable))
            return f"leaf {name} {tuple(shape)}" if name else f"leaf tensor {tuple(shape)}"
        return child.name()


def _source(node):
    where = node._forward_trace
    if not where:
        return _NOT_RECORDED
    # Anomaly mode stores a whole stack: its last frame ('File ..., line N' + code) is the user's.
    lines = [line.strip() for line in where.strip().splitlines() if line.strip()]
    if len(lines) > 1:
        return "at " + " ".join(lines[-2:])
    path, _, rest = lines[0].partition(":")
    if os.path.isabs(path) and path.startswith(os.getcwd() + os.sep):
        path = os.path.relpath(path)  # the line is easier to read relative to where you run
    return f"at {path}:{rest}"


def _describe(array):
    xp = array_module(array)
    text = f"shape {tuple(array.shape)}"
    if array.dtype.kind not in "fc":
        return text
    norm = float(xp.sqrt((abs(array.astype("float64")) ** 2).sum()))
    text += f" norm {norm:.4g}"
    if not bool(xp.isfinite(array).all()):
        nans, infs = int(xp.isnan(array).sum()), int(xp.isinf(array).sum())
        text += f"  !! NaN x{nans}, inf x{infs}" if nans and infs else (f"  !! NaN x{nans}" if nans else f"  !! inf x{infs}")
    return text


def traced_backward(tensor, gradient=None, retain_graph=None, create_graph=False, inputs=None, file=None):
    """``tensor.backward(...)`` printing the trace (what ``Tensor.backward(trace=True)`` calls)."""
    # The graph exists already: only lines recorded at forward (inside trace()) can be shown.
    with trace(file=file, record_source=False) as tracer:
        if tensor.grad_fn is not None:
            seed = gradient._data if isinstance(gradient, _tensor.Tensor) else array_module(tensor._data).ones_like(tensor._data)
            tracer.seed(tensor.grad_fn, tensor._output_nr, seed)
        backward(tensor, gradient, retain_graph, create_graph, inputs=inputs)


# Imported last (a cycle): _tensor imports the autograd package, and Tensor is looked up at call time.
from .. import _tensor as _tensor  # noqa: E402
