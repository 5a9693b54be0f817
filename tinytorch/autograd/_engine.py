"""The backward engine: iterative topological order, gradient accumulation, hooks, freeing."""

import itertools
import threading

from .. import _backend as backend, _heap
from .._backend import is_array
from .._dtypes import from_numpy_dtype
from .._float_errors import ignore as _ignore_float_errors, restore as _restore_float_errors
from . import _observe as observe, anomaly_mode as anomaly
from .function import FREED_GRAPH, AccumulateGrad
from .grad_mode import state


def _topological_order(roots):
    """Nodes reachable from ``roots``, each after every node that feeds it a gradient, and how
    many edges lead into each (its producers). One walk (no recursion) finds them; newest-first
    creation order is already topological, so a sort by sequence number orders them."""
    producers = dict.fromkeys(roots, 0)
    stack = list(roots)
    while stack:
        for edge in stack.pop()._edges:
            if edge is not None:
                child = edge[0]
                if child in producers:
                    producers[child] += 1
                else:
                    producers[child] = 1
                    stack.append(child)
    return sorted(producers, key=_newest_first), producers


def _newest_first(node):
    return -node._sequence_nr


def _nodes_leading_to(order, targets):
    """The nodes whose backward sends a gradient on towards one of ``targets`` (a reverse
    topological sweep). A target itself is in it only when another target lies beyond it: the
    gradient arriving at a target is captured there, and its own backward does not run (nor is
    its graph freed), as in PyTorch."""
    targets = set(targets)
    leads = set()
    for node in reversed(order):
        if any(e is not None and (e[0] in leads or e[0] in targets) for e in node._edges):
            leads.add(node)
    return leads


def run_backward(roots, grad_roots, retain_graph, create_graph, capture=None, accumulate=True, targets=None):
    """Propagate ``grad_roots`` from ``roots`` (a list of (node, output_nr)) to the leaves.

    ``capture`` maps (node, output_nr) to a slot index: the gradient arriving there is returned in
    that slot instead of being accumulated (this is how ``autograd.grad`` works). ``targets``
    (``backward(inputs=)``): only these nodes and those leading to them run.
    """
    buffers = {}
    # (node, output_nr) whose buffered gradient is an array nothing else holds: made by a backward
    # that declares its gradients fresh (``Function._fresh_grads``) and handed to this one slot.
    # The node's backward may then overwrite it (ReLU's mask, in place) instead of allocating.
    donated = set()
    # (node, output_nr) whose buffered gradient is a sum the engine made: nothing else holds it,
    # so further gradients are added into it in place (_add_to_buffer).
    summed = set() if not create_graph else None
    for (node, nr), grad in zip(roots, grad_roots):
        _add_to_buffer(buffers, node, nr, grad, summed)
    order, producers = _topological_order(list(dict.fromkeys(node for node, _ in roots)))
    # A leaf fed by exactly one edge gets its gradient the moment it is computed: no buffer,
    # no extra visit (with several producers it waits, so its hooks see the total).
    direct_leaves = accumulate and not capture and not targets
    useful = _nodes_leading_to(order, {node for node, _ in capture}) if capture else None
    if targets:
        useful = _nodes_leading_to(order, targets) | targets
    captured = [None] * len(capture) if capture else None
    handed_out = set()  # ids of the arrays handed to leaves' .grad in this run

    observed, anomaly_mode = observe.state, anomaly.state
    previous = state.enabled
    state.enabled = create_graph
    # With several GPUs each node runs on its gradients' GPU (PyTorch runs it on that device's
    # thread): CuPy would run it on the current one. The caller's current GPU comes back at the end.
    several_gpus = backend.SEVERAL_GPUS
    caller_gpu = backend.current_cuda_index() if several_gpus else None
    running = _Run(producers, useful, capture)
    _runs.stack.append(running)
    quiet = _ignore_float_errors()  # inf and NaN silently, as PyTorch (tinytorch/_float_errors.py)
    try:
        for node in order:
            grads = buffers.pop(node, None)
            if grads is None:
                continue
            if several_gpus:
                backend.make_current(grads)
            if useful is not None and node not in useful:
                if capture and any((node, nr) in capture for nr in range(len(grads))):
                    # A node that does not run still runs its tensors' hooks on the gradient that
                    # is captured there (PyTorch's order; a node that runs captures it before).
                    _capture(capture, captured, node, node._run_tensor_pre_hooks(grads))
                continue
            if capture:
                _capture(capture, captured, node, grads)
            if node.__class__ is AccumulateGrad:
                if accumulate:
                    node.accumulate(grads[0], create_graph, handed_out)
                continue
            if node._freed and "_arrays_released" in node.__dict__:
                raise RuntimeError(FREED_GRAPH)
            hooked = node._tensor_pre_hooks or node._retains_grad_hooks
            if hooked:  # the output tensors' hooks, then the node's own, as PyTorch
                grads = node._run_tensor_pre_hooks(grads)
            if node._pre_hooks:
                grads = node._run_pre_hooks(grads)
            elif not hooked and (node, 0) in donated and node._outputs == 1 and not capture and not observed.active:
                # No hook, capture or observer has seen the array: the backward may write into it
                # (it reads the flag with ``ctx.__dict__.pop("_owned_grad", False)``).
                node._owned_grad = True
            if node._outputs > 1 and getattr(node, "materialize_grads", True):
                grads = _materialize(node, grads)
            if observed.active:
                input_grads = observe.run_backward(node, lambda node=node, grads=grads: node._apply_backward(grads))
            else:
                input_grads = node._apply_backward(grads)
            edges = node._edges
            fresh = not create_graph and node.function._fresh_grads
            if len(input_grads) < len(edges):
                raise RuntimeError(
                    f"function {node.name()} returned an incorrect number of gradients "
                    f"(expected {len(edges)}, got {len(input_grads)})"
                )
            if anomaly_mode.enabled:
                _check_anomaly(node, input_grads)
            for edge, grad in zip(edges, input_grads):
                if edge is None or grad is None:
                    continue
                child, nr, shape, dtype = edge
                data = grad._data
                if data.shape != shape:
                    grad = _reduce_to_shape(node, grad, shape)
                if data.dtype is not dtype and data.dtype != dtype:
                    grad = grad.to(from_numpy_dtype(dtype))
                if direct_leaves and child.__class__ is AccumulateGrad and producers[child] == 1:
                    if several_gpus:  # a .to() backward hands the leaf a gradient on its own GPU
                        backend.make_current((grad,))
                    child.accumulate(grad, create_graph, handed_out)
                elif _add_to_buffer(buffers, child, nr, grad, summed) and fresh and grad._data is data:
                    donated.add((child, nr))
                else:
                    donated.discard((child, nr))  # a sum of two, or not declared fresh
            if not retain_graph:
                node._saved = ()
                node._freed = True
                if node.function._built_in:
                    _release_arrays(node)
    finally:
        _restore_float_errors(quiet)
        _runs.stack.pop()
        state.enabled = previous
        if not _heap._kept:  # training has begun: its memory stays in the heap between steps
            _heap.keep_heap_top()
        if several_gpus:
            backend.restore_current(caller_gpu)
    return captured


class _Run:
    """What a backward run in progress will execute: ``autograd.graph``'s multi-grad hooks ask
    (PyTorch's ``_current_graph_task_id`` and ``_will_engine_execute_node``)."""

    _ids = itertools.count()

    def __init__(self, reachable, useful, capture):
        self.id = next(self._ids)
        self.reachable, self.useful = reachable, useful
        self.captured_nodes = {node for node, _ in capture} if capture else ()

    def will_execute(self, node):
        if node not in self.reachable:
            return False
        return self.useful is None or node in self.useful or node in self.captured_nodes


class _Runs(threading.local):
    def __init__(self):
        self.stack = []  # nested runs (a hook that calls backward) on this thread


_runs = _Runs()


def current_run():
    """The innermost backward run on this thread, or None."""
    return _runs.stack[-1] if _runs.stack else None


def _capture(capture, captured, node, grads):
    for nr, grad in enumerate(grads):
        slot = capture.get((node, nr))
        if slot is not None and grad is not None:
            captured[slot] = grad if captured[slot] is None else captured[slot] + grad


def _release_arrays(node):
    """Drop the arrays a built-in op kept on its ctx beside its saved tensors (cross-entropy's
    softmax, an LSTM's gates), as PyTorch frees saved variables at backward: otherwise they live
    as long as the graph, i.e. until the next step's loss replaces it, and add to that step's
    peak. A user's Function keeps its ctx attributes, as in PyTorch. Running the node again
    raises PyTorch's "backward through the graph a second time" error (``saved_tensors``)."""
    attributes = node.__dict__
    # Ops name their ctx attributes plainly; "_" ones are the node's own (``_saved_versions``).
    released = [
        name for name, value in attributes.items()
        if name[0] != "_" and (is_array(value) or (value.__class__ in (tuple, list) and any(map(is_array, value))))
    ]
    for name in released:
        del attributes[name]
    if released:
        attributes["_arrays_released"] = True


def _add_to_buffer(buffers, node, nr, grad, summed=None):
    """Put ``grad`` in the node's slot, or add it to what is there; True when it went in alone.

    Without ``create_graph`` (``summed`` is a set then) dense gradients of one dtype are added as
    arrays: the first sum is a new array that only the buffer holds (recorded in ``summed``), and
    the next ones go into it in place. A weight used at every step of a sequence (an LSTM's
    recurrent weight: 35 gradients per layer in the word-LM benchmark) then costs one allocation,
    not one per step, and no op dispatch per sum (same bits: the same additions in the same order).
    """
    slots = buffers.get(node)
    if slots is None:
        slots = buffers[node] = [None] * node._outputs
    held = slots[nr]
    if held is None:
        slots[nr] = grad
        return True
    if summed is not None:
        a, b = held._data, grad._data
        if (a.__class__ is b.__class__ and a.dtype == b.dtype and a.shape == b.shape and a.ndim
                and not held.is_sparse and not grad.is_sparse and backend.is_array(a)):
            if (node, nr) in summed:
                backend.array_module(a).add(a, b, out=a)
            else:
                slots[nr] = held.__class__._make(a + b) if held.__class__ is _tensor.Tensor else held + grad
                summed.add((node, nr))
            return False
    # sparse + dense is refused (PyTorch's rule), so a sparse gradient (an embedding's, say, whose
    # weight is also used densely) goes second: the sum is dense, as PyTorch's InputBuffer makes it.
    slots[nr] = grad + slots[nr] if slots[nr].is_sparse and not grad.is_sparse else slots[nr] + grad
    return False


def summed_axes(grad_shape, input_shape):
    """The axes summed to bring a gradient of ``grad_shape`` back to a broadcast input of
    ``input_shape``: the leading ones, and those where the input has size 1 (SumTo sums them,
    the trace shows them)."""
    lead = len(grad_shape) - len(input_shape)
    if lead < 0:
        return ()
    return tuple(range(lead)) + tuple(i + lead for i, s in enumerate(input_shape) if s == 1 and grad_shape[i + lead] != 1)


def _reduce_to_shape(node, grad, shape):
    """Undo broadcasting: the one place where a gradient is summed back to its input's shape."""
    try:
        return grad.sum_to_size(shape)
    except RuntimeError:
        raise RuntimeError(
            f"Function {node.name()} returned an invalid gradient - got {list(grad.shape)} "
            f"but expected shape compatible with {list(shape)}"
        ) from None


def _materialize(node, grads):
    if all(g is not None for g in grads):
        return grads
    # Zeros for outputs nobody used, shaped like the outputs recorded at forward; a non-tensor
    # output (no array module recorded) gets None, as in PyTorch.
    specs = node.__dict__["_output_specs"]
    return [
        g if g is not None or xp is None else _tensor.Tensor._make(xp.zeros(shape, dtype), False, None, 0)
        for g, (shape, dtype, xp) in zip(grads, specs)
    ]


def _check_anomaly(node, input_grads):
    for i, grad in enumerate(input_grads):
        if grad is None:
            continue
        xp_data = grad._data.values if grad.is_sparse else grad._data
        if xp_data.dtype.kind in "fc" and not bool((abs(xp_data) < float("inf")).all()):
            kind = "nan" if bool((xp_data != xp_data).any()) else "inf"
            where = node._forward_trace or "(forward trace not recorded: the graph was built outside detect_anomaly)\n"
            raise RuntimeError(
                f"Function '{node.name()}' returned {kind} values in its {i}th output.\n"
                f"The forward call that created it:\n{where}"
            )


# Imported last (a cycle): _tensor imports the autograd package, and Tensor is looked up at call time.
from .. import _tensor as _tensor  # noqa: E402
