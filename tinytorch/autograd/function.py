"""``Function``: the one mechanism behind every differentiable op, built-in or user-written.

``Function.apply`` runs ``forward`` with grad mode off and, when an input requires grad and grad
mode is on, records a ``Node`` (which is also the ``ctx`` that forward and backward see) holding
the edges to the inputs' nodes and the tensors saved for backward.
"""

import itertools
import traceback
import weakref

from .._backend import array_module, is_writeable
from .._float_errors import ignore as _ignore_float_errors, restore as _restore_float_errors
from .._hooks import add_hook
from . import _observe as observe, _saved_hooks, anomaly_mode as anomaly
from .grad_mode import state

_observed = observe.state


_NO_VERSION = (None,)
FREED_GRAPH = (
    "Trying to backward through the graph a second time (or directly access saved "
    "tensors after they have already been freed). Saved intermediate values of the graph "
    "are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if "
    "you need to backward through the graph a second time or if you need to access saved "
    "tensors after calling backward."
)
_sequence = itertools.count()


class Node:
    """A node of the backward graph; the ``ctx`` of one call of a Function."""

    __slots__ = ("function", "needs_input_grad", "_edges", "_saved", "_sequence_nr", "__dict__", "__weakref__")
    # Rarely set: class-level defaults keep Node creation (once per recorded op) cheap.
    _outputs = 1
    _saved_versions = ()
    _freed = False
    _pre_hooks = None
    _tensor_pre_hooks = None  # its output tensors' hooks (``Tensor.register_hook``)
    _retains_grad_hooks = None  # output_nr -> the hook that stores a retained ``.grad``
    _forward_trace = None
    non_differentiable = ()

    def __init__(self, function, needs_input_grad):
        self.function = function
        self.needs_input_grad = needs_input_grad
        self._saved = ()
        # Creation order: a node's inputs' nodes are always older, so running nodes from the
        # newest to the oldest is a topological order (PyTorch's sequence_nr).
        self._sequence_nr = next(_sequence)

    # -- what forward calls -------------------------------------------------------------------
    def save_for_backward(self, *tensors):
        """Keep tensors (inputs, outputs or other) for backward; in-place changes are detected."""
        self._saved = tensors
        # Plain values (numbers, None) are saved as they are, with no version to check.
        self._saved_versions = [getattr(t, "_version", _NO_VERSION)[0] for t in tensors]

    def mark_non_differentiable(self, *tensors):
        """Outputs that get no grad_fn (e.g. the indices of max)."""
        self.non_differentiable = tensors

    def set_materialize_grads(self, value):
        self.__dict__["materialize_grads"] = bool(value)

    @property
    def saved_tensors(self):
        if self._freed:
            raise RuntimeError(FREED_GRAPH)
        tensors = []
        for t, version in zip(self._saved, self._saved_versions):
            if t.__class__ is _SavedOutput:
                t = t.unpack(self)
            elif t.__class__ is _saved_hooks.Packed:  # no version check through hooks, as PyTorch
                tensors.append(t.unpack(self))
                continue
            if version is not None and t._version[0] != version:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by an "
                    f"inplace operation: [{t.dtype} {list(t.shape)}], which is saved by {self.name()}, "
                    f"is at version {t._version[0]}; expected version {version} instead."
                )
            tensors.append(t)
        return tuple(tensors)

    # -- graph inspection ---------------------------------------------------------------------
    def name(self):
        suffix = "Backward0" if self.function.__module__.startswith("tinytorch.") else "Backward"
        return self.function.__name__ + suffix

    @property
    def next_functions(self):
        return tuple((e[0], e[1]) if e is not None else (None, 0) for e in self._edges)

    def register_prehook(self, hook):
        """hook(grad_outputs) -> new grad_outputs or None, called before this node's backward."""
        if self._pre_hooks is None:
            self._pre_hooks = {}
        return add_hook(self._pre_hooks, hook)

    def _run_pre_hooks(self, grads):
        grads = list(grads)
        for hook in list(self._pre_hooks.values()):
            result = hook(grads)
            if result is not None:
                grads = list(result)
        return grads

    def _run_tensor_pre_hooks(self, grads):
        """The output tensors' hooks, then the ``retain_grad`` stores (which see what the hooks
        made, whatever the order they were registered in): PyTorch's ``call_tensor_pre_hooks``,
        run before the node's own pre-hooks, and before a gradient is captured for
        ``autograd.grad`` at a node that does not run."""
        if self._tensor_pre_hooks:
            for hook in list(self._tensor_pre_hooks.values()):
                result = hook(grads)
                if result is not None:
                    grads = result
        if self._retains_grad_hooks:
            for store in list(self._retains_grad_hooks.values()):
                store(grads)
        return grads

    def __repr__(self):
        return f"<{self.name()} object at {id(self):#x}>"

    def _apply_backward(self, grad_outputs):
        grads = self.function.backward(self, *grad_outputs)
        return grads if isinstance(grads, tuple) else (grads,)


class AccumulateGrad:
    """The node of a leaf tensor: it adds the incoming gradient into ``variable.grad``."""

    __slots__ = ("variable", "_pre_hooks", "__weakref__")
    _edges = ()
    _sequence_nr = -1  # a leaf has no inputs: it can run after every other node
    _outputs = 1
    next_functions = ()

    def __init__(self, variable):
        self.variable = variable
        self._pre_hooks = None

    def name(self):
        return "AccumulateGrad"

    def __repr__(self):
        return f"<AccumulateGrad object at {id(self):#x}>"

    register_prehook = Node.register_prehook
    _run_pre_hooks = Node._run_pre_hooks

    def _run_tensor_pre_hooks(self, grads):
        """The leaf's own hooks (``Tensor.register_hook``) on its gradient."""
        grad = grads[0]
        if self.variable._hooks and grad is not None:
            for hook in list(self.variable._hooks.values()):
                result = hook(grad)
                if result is not None:
                    grad = result
        return [grad]

    def accumulate(self, grad, create_graph, handed_out, hooked=False):
        """Run the hooks on ``grad`` and add it into ``variable.grad``: the last step of a backward.

        ``handed_out`` holds the ids of the arrays given to a ``.grad`` in this backward run;
        ``hooked``: the tensor's hooks have already run on ``grad``.
        """
        tensor = self.variable
        # The tensor's hooks first, then the node's pre-hooks, in PyTorch's order.
        if tensor._hooks and not hooked:
            grad = self._run_tensor_pre_hooks([grad])[0]
        if self._pre_hooks:
            grad = self._run_pre_hooks([grad])[0]
        if tensor.grad is None:
            if not create_graph and not grad.is_sparse:
                data = grad._data
                if not _ownable_as_grad(data, handed_out):
                    data = data.copy()
                handed_out.add(id(data))
                if grad.grad_fn is not None or grad._base is not None or data is not grad._data:
                    grad = grad.__class__._make(data)
            tensor.grad = grad
        elif create_graph or state.enabled or grad.is_sparse or tensor.grad.is_sparse:
            # A sparse sum is a new tensor: nothing to add into. sparse + dense is refused (as in
            # PyTorch), so a dense gradient arriving at a sparse .grad goes first: the sum is dense.
            sparse_first = tensor.grad.is_sparse and not grad.is_sparse
            tensor.grad = grad + tensor.grad if sparse_first else tensor.grad + grad
        else:
            # PyTorch accumulates into an existing .grad in place.
            existing = tensor.grad._data
            if existing.shape == grad._data.shape and is_writeable(existing):
                existing += grad._data
                tensor.grad._version[0] += 1
            else:
                tensor.grad = tensor.grad + grad
        if tensor._post_accumulate_hooks:
            for hook in list(tensor._post_accumulate_hooks.values()):
                hook(tensor)


def _ownable_as_grad(array, handed_out):
    """Whether ``array`` can become a ``.grad`` as it is: a ``.grad`` owns writable, contiguous
    memory that no other leaf's ``.grad`` shares (Add's backward hands one array to both inputs),
    because optimizers write into it in place."""
    return (
        id(array) not in handed_out
        and array.base is None
        and array.flags.c_contiguous
        and is_writeable(array)
    )


class _SavedOutput:
    """An output saved for backward, kept as its array so that output -> node -> output is no cycle."""

    __slots__ = ("data", "_version", "output_nr")

    def __init__(self, tensor, output_nr):
        self.data, self._version, self.output_nr = tensor._data, tensor._version, output_nr

    def unpack(self, node):
        t = _tensor.Tensor._make(self.data, True, node, self.output_nr)
        t._version = self._version
        return t


class _NoGradContext:
    """The ctx forward sees when nothing is recorded: saving is a no-op. A new one per call, so
    that what forward puts on it dies with the call."""

    needs_input_grad = ()

    def save_for_backward(self, *tensors):
        pass

    def mark_non_differentiable(self, *tensors):
        pass

    def set_materialize_grads(self, value):
        pass


def grad_accumulator(tensor):
    """The leaf's AccumulateGrad node, one per leaf for as long as a graph uses it."""
    ref = tensor._accumulator
    node = ref() if ref is not None else None
    if node is None:
        node = AccumulateGrad(tensor)
        tensor._accumulator = weakref.ref(node)
    return node


class Function:
    """Base class of differentiable ops: subclass with static ``forward(ctx, ...)`` and ``backward(ctx, ...)``.

    ``forward`` gets the inputs as given (tensors, numbers, ...) with grad mode off and returns a
    tensor or a tuple of tensors; ``backward`` gets one gradient per output and returns one
    gradient (or None) per input of ``forward``, written with tensor ops so that
    ``create_graph=True`` can differentiate it again.
    """

    # Built-in ops only: True where, without create_graph, every gradient backward returns is a
    # new array that nothing else holds. The engine then lets the node that receives it alone
    # overwrite it (see ``donated`` in autograd/_engine.py).
    _fresh_grads = False
    # tinytorch's own ops: the engine drops the arrays their ctx holds once backward has run
    # (``_release_arrays`` in autograd/_engine.py); a user's Function keeps its ctx, as in PyTorch.
    _built_in = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._built_in = cls.__module__.startswith("tinytorch.")

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement the backward function for custom autograd.Function.")

    @classmethod
    def apply(cls, *args, **kwargs):
        # With several GPUs, tinytorch/_device_guard.py wraps this to run on the args' GPU.
        if _observed.active:
            return observe.run_forward(cls, lambda: _run(cls, args, kwargs), args, kwargs)
        return _run(cls, args, kwargs)


def _run(cls, args, kwargs):
    # NumPy's floating-point warnings off: inf and NaN come out silently, as in PyTorch
    # (tinytorch/_float_errors.py).
    token = _ignore_float_errors()
    try:
        if state.enabled:
            # _requires_grad is a slot: reading it skips the property (this runs for every op).
            for a in args:
                if getattr(a, "_requires_grad", False) is True:
                    return _record(cls, args, kwargs)
        return cls.forward(_NoGradContext(), *args, **kwargs)
    finally:
        _restore_float_errors(token)


def _record(cls, args, kwargs):
    needs = []
    edges = []
    for arg in args:
        if getattr(arg, "_requires_grad", False) is True:
            needs.append(True)
            data = arg._data
            node = arg.grad_fn
            if node is None:
                edges.append((grad_accumulator(arg), 0, data.shape, data.dtype))
            else:
                edges.append((node, arg._output_nr, data.shape, data.dtype))
        else:
            needs.append(False)
            edges.append(None)
    ctx = Node(cls, tuple(needs))
    ctx._edges = edges
    state.enabled = False
    try:
        result = cls.forward(ctx, *args, **kwargs)
    finally:
        state.enabled = True
    if result.__class__ is tuple:
        wrapped = tuple(_attach(ctx, out, nr, args) for nr, out in enumerate(result))
        ctx._outputs = len(wrapped)
        ctx.__dict__["_output_specs"] = [
            (o._data.shape, o._data.dtype, array_module(o._data)) if isinstance(o, _tensor.Tensor) else ((), None, None)
            for o in wrapped
        ]
        _save_outputs_as_arrays(ctx, wrapped)
    else:
        wrapped = _attach(ctx, result, 0, args)
        _save_outputs_as_arrays(ctx, (wrapped,))
    if _saved_hooks.active and ctx._saved:  # autograd.graph.saved_tensors_hooks
        ctx._saved = _saved_hooks.pack(ctx, ctx._saved, _SavedOutput)
    if _observed.active or anomaly.state.enabled:
        if anomaly.state.enabled:
            ctx._forward_trace = "".join(traceback.format_stack()[:-2])
        elif _observed.record_source:
            ctx._forward_trace = observe.user_source_line()
    return wrapped


def _attach(ctx, out, nr, args):
    """Make ``out`` the ``nr``-th output of ``ctx`` (a differentiable tensor with grad_fn)."""
    if out.__class__ is not _tensor.Tensor and not isinstance(out, _tensor.Tensor):
        return out
    for a in args:
        if out is a:  # forward returned an input: the output is a new tensor
            out = _tensor.Tensor._make(out._data)
            break
    if out._data.dtype.kind in "fc" and not (ctx.non_differentiable and any(out is t for t in ctx.non_differentiable)):
        out._requires_grad = True
        out.grad_fn = ctx
        out._output_nr = nr
    return out


def _save_outputs_as_arrays(ctx, outputs):
    """Saved outputs are kept as arrays (no output -> node -> output cycle); others as they are."""
    for t in ctx._saved:
        for out in outputs:
            if t is out:
                ctx._saved = tuple([_saved_form(s, outputs) for s in ctx._saved])
                return


def _saved_form(tensor, outputs):
    for nr, out in enumerate(outputs):
        if tensor is out:
            return _SavedOutput(tensor, nr)
    return tensor


class once_differentiable:
    """Decorator for a backward that is not itself differentiable (kept for PyTorch compatibility)."""

    def __new__(cls, fn):
        return fn


# Imported last (a cycle): _tensor imports this module, and Tensor is looked up at call time.
from .. import _tensor as _tensor  # noqa: E402
