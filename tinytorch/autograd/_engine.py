"""The backward engine: iterative topological order, gradient accumulation, hooks, freeing."""

from .. import _backend as backend
from . import _observe as observe, anomaly_mode as anomaly
from .function import AccumulateGrad
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
    """The nodes from which a gradient can reach one of ``targets`` (reverse topological sweep)."""
    useful = set(targets)
    for node in reversed(order):
        if node not in useful and any(e is not None and e[0] in useful for e in node._edges):
            useful.add(node)
    return useful


def run_backward(roots, grad_roots, retain_graph, create_graph, capture=None, accumulate=True):
    """Propagate ``grad_roots`` from ``roots`` (a list of (node, output_nr)) to the leaves.

    ``capture`` maps (node, output_nr) to a slot index: the gradient arriving there is returned in
    that slot instead of being accumulated (this is how ``autograd.grad`` works).
    """
    buffers = {}
    for (node, nr), grad in zip(roots, grad_roots):
        _add_to_buffer(buffers, node, nr, grad)
    order, producers = _topological_order(list(dict.fromkeys(node for node, _ in roots)))
    # A leaf fed by exactly one edge gets its gradient the moment it is computed: no buffer,
    # no extra visit (with several producers it waits, so its hooks see the total).
    direct_leaves = accumulate and not capture
    useful = _nodes_leading_to(order, {node for node, _ in capture}) if capture else None
    captured = [None] * len(capture) if capture else None
    given = set()  # ids of the arrays handed to leaves' .grad in this run

    observed, anomaly_mode = observe.state, anomaly.state
    previous = state.enabled
    state.enabled = create_graph
    try:
        for node in order:
            grads = buffers.pop(node, None)
            if grads is None or (useful is not None and node not in useful):
                continue
            if capture:
                for nr, grad in enumerate(grads):
                    slot = capture.get((node, nr))
                    if slot is not None:
                        captured[slot] = grad if captured[slot] is None else captured[slot] + grad
            if node.__class__ is AccumulateGrad:
                if accumulate:
                    _accumulate(node, grads[0], create_graph, given)
                continue
            if node._pre_hooks:
                grads = _run_pre_hooks(node, grads)
            if node._outputs > 1 and getattr(node, "materialize_grads", True):
                grads = _materialize(node, grads)
            if observed.active:
                input_grads = observe.run_backward(node, lambda node=node, grads=grads: node._apply_backward(grads))
            else:
                input_grads = node._apply_backward(grads)
            edges = node._edges
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
                    grad = grad.to(_dtype_of(dtype))
                if direct_leaves and child.__class__ is AccumulateGrad and producers[child] == 1:
                    _accumulate(child, grad, create_graph, given)
                else:
                    _add_to_buffer(buffers, child, nr, grad)
            if not retain_graph:
                node._saved = ()
                node._freed = True
    finally:
        state.enabled = previous
    return captured


def _add_to_buffer(buffers, node, nr, grad):
    slots = buffers.get(node)
    if slots is None:
        slots = buffers[node] = [None] * node._outputs
    slots[nr] = grad if slots[nr] is None else slots[nr] + grad


def _reduce_to_shape(node, grad, shape):
    """Undo broadcasting: the one place where a gradient is summed back to its input's shape."""
    try:
        return grad.sum_to_size(shape)
    except RuntimeError:
        raise RuntimeError(
            f"Function {node.name()} returned an invalid gradient - got {list(grad.shape)} "
            f"but expected shape compatible with {list(shape)}"
        ) from None


def _dtype_of(numpy_dtype):
    from .._dtypes import from_numpy_dtype

    return from_numpy_dtype(numpy_dtype)


def _materialize(node, grads):
    from .._tensor import Tensor

    if all(g is not None for g in grads):
        return grads
    # Zeros for outputs nobody used, shaped like the outputs recorded at forward.
    specs = node.__dict__["_output_specs"]
    return [
        g if g is not None else Tensor._make(xp.zeros(shape, dtype), False, None, 0)
        for g, (shape, dtype, xp) in zip(grads, specs)
    ]


def _run_pre_hooks(node, grads):
    grads = list(grads)
    for hook in list(node._pre_hooks):
        result = hook(grads)
        if result is not None:
            grads = list(result)
    return grads


def _accumulate(node, grad, create_graph, given):
    tensor = node.variable
    if node._pre_hooks:
        grad = _run_pre_hooks(node, [grad])[0]
    if tensor._hooks:
        for hook in list(tensor._hooks):
            result = hook(grad)
            if result is not None:
                grad = result
    if tensor.grad is None:
        if not create_graph and not grad.is_sparse:
            data = grad._data
            # .grad must own writable, contiguous memory that no other leaf's .grad shares (Add's
            # backward hands one array to both inputs): optimizers write to it in place.
            if id(data) in given or data.base is not None or not (data.flags.c_contiguous and backend.is_writeable(data)):
                data = data.copy()
            given.add(id(data))
            grad = grad.__class__._make(data) if grad.grad_fn is not None or grad._base is not None or data is not grad._data else grad
        tensor.grad = grad
    elif create_graph or state.enabled or grad.is_sparse or tensor.grad.is_sparse:
        tensor.grad = tensor.grad + grad  # a sparse sum is a new tensor: nothing to add into
    else:
        # PyTorch accumulates into an existing .grad in place.
        existing = tensor.grad._data
        if existing.shape == grad._data.shape and backend.is_writeable(existing):
            existing += grad._data
            tensor.grad._version[0] += 1
        else:
            tensor.grad = tensor.grad + grad
    for hook in tensor._post_accumulate_hooks or ():
        hook(tensor)


def _check_anomaly(node, input_grads):
    for i, grad in enumerate(input_grads):
        if grad is None:
            continue
        xp_data = grad._data
        if xp_data.dtype.kind in "fc" and not bool((abs(xp_data) < float("inf")).all()):
            kind = "nan" if bool((xp_data != xp_data).any()) else "inf"
            where = node._forward_trace or "(forward trace not recorded: the graph was built outside detect_anomaly)\n"
            raise RuntimeError(
                f"Function '{node.name()}' returned {kind} values in its {i}th output.\n"
                f"The forward call that created it:\n{where}"
            )
