"""``tinytorch.utils.checkpoint``: activation checkpointing (PyTorch's module).

``checkpoint(function, *args)`` runs ``function`` under ``no_grad``, so the intermediates of its
graph are not kept; backward runs it again with grad enabled and backpropagates through that
recomputation. Two variants, as in PyTorch:

- ``use_reentrant=True``: ``CheckpointFunction``, a ``Function`` whose backward recomputes and
  calls ``autograd.backward`` inside the outer backward (parameters get their ``.grad`` there).
  Only the tensor arguments are its inputs, so when none requires grad nothing does.
- ``use_reentrant=False``: tinytorch has no saved-tensor hooks, so this variant is a ``Function``
  too: while the no-grad forward runs, an op-stream observer (``autograd/_observe.py``) collects
  every tensor from outside the function that requires grad (arguments, parameters, captured
  tensors); they become the node's inputs, so parameters get gradients even when no argument
  requires grad, and ``autograd.grad`` works through it. Backward recomputes with those tensors
  detached and takes ``autograd.grad`` of the recomputed outputs with respect to them.

RNG: with ``preserve_rng_state`` the CPU generator's state is saved before the forward and
restored for the recomputation (then the surrounding state comes back), so dropout replays the
same mask. tinytorch cannot save a CuPy generator's state: on CUDA the recomputation draws new
random numbers, so random ops inside a checkpoint on a GPU do not replay.
"""

import contextlib
import threading
import warnings

from .. import random as _random
from .._tensor import Tensor as _Tensor
from ..autograd import _observe, grad_mode as _grad_mode
from ..autograd._api import backward as _backward, grad as _grad
from ..autograd.function import Function as _Function
from ..nn import Sequential as _Sequential

__all__ = [
    "checkpoint", "checkpoint_sequential", "CheckpointError", "CheckpointFunction",
    "check_backward_validity", "detach_variable", "noop_context_fn",
    "set_checkpoint_early_stop", "set_checkpoint_debug_enabled",
]

_DETERMINISM_CHECKS = ("default", "none")


class CheckpointError(RuntimeError):
    """Raised when the recomputation does not match the original forward."""


def noop_context_fn():
    """The default ``context_fn``: two null context managers."""
    return contextlib.nullcontext(), contextlib.nullcontext()


@contextlib.contextmanager
def set_checkpoint_early_stop(enable):
    """Accepted for PyTorch compatibility: tinytorch always recomputes the whole function."""
    yield


@contextlib.contextmanager
def set_checkpoint_debug_enabled(enabled):
    """Accepted for PyTorch compatibility: tinytorch's checkpoint has no debug trace."""
    yield


def check_backward_validity(inputs):
    """Warn when no tensor among ``inputs`` requires grad (the reentrant variant then gives no grads)."""
    if not any(inp.requires_grad for inp in inputs if isinstance(inp, _Tensor)):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", stacklevel=2)


def detach_variable(inputs):
    """Detached copies of the tensors of the tuple ``inputs``, keeping their ``requires_grad``."""
    if not isinstance(inputs, tuple):
        raise RuntimeError(
            f"Only tuple of tensors is supported. Got Unsupported input type: {type(inputs).__name__}"
        )
    out = []
    for inp in inputs:
        if not isinstance(inp, _Tensor):
            out.append(inp)
            continue
        x = inp.detach()
        x.requires_grad = inp.requires_grad
        out.append(x)
    return tuple(out)


def _cpu_rng_state(preserve):
    return _random.get_rng_state() if preserve else None


@contextlib.contextmanager
def _replayed_rng(saved_state):
    """Run with the CPU generator at ``saved_state``, then put the surrounding state back."""
    if saved_state is None:
        yield
        return
    surrounding = _random.get_rng_state()
    _random.set_rng_state(saved_state)
    try:
        yield
    finally:
        _random.set_rng_state(surrounding)


def _as_tuple(outputs):
    return outputs if isinstance(outputs, tuple) else (outputs,)


class CheckpointFunction(_Function):
    """The reentrant checkpoint: forward without a graph, backward recomputes and backpropagates."""

    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        check_backward_validity(args)
        # Unused outputs get None, not zeros: the engine cannot make zeros for a non-tensor output.
        ctx.set_materialize_grads(False)
        ctx.run_function = run_function
        ctx.rng_state = _cpu_rng_state(preserve_rng_state)
        ctx.inputs = [None if isinstance(a, _Tensor) else a for a in args]
        ctx.tensor_indices = [i for i, a in enumerate(args) if isinstance(a, _Tensor)]
        ctx.save_for_backward(*[a for a in args if isinstance(a, _Tensor)])
        with _grad_mode.no_grad():
            return run_function(*args)

    @staticmethod
    def backward(ctx, *grad_outputs):
        inputs = list(ctx.inputs)
        for i, tensor in zip(ctx.tensor_indices, ctx.saved_tensors):
            inputs[i] = tensor
        with _replayed_rng(ctx.rng_state):
            detached = detach_variable(tuple(inputs))
            with _grad_mode.enable_grad():
                outputs = _as_tuple(ctx.run_function(*detached))
        with_grad = [(o, g) for o, g in zip(outputs, grad_outputs) if isinstance(o, _Tensor) and o.requires_grad]
        if not with_grad:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not necessary")
        with_grad = [(o, g) for o, g in with_grad if g is not None]  # None: an output nobody used
        if with_grad:
            _backward([o for o, _ in with_grad], [g for _, g in with_grad])
        return (None, None) + tuple(inp.grad if isinstance(inp, _Tensor) else None for inp in detached)


class _ExternalTensors:
    """An observer of the op stream (this thread only): the tensors that ops read and that
    require grad. Under ``no_grad`` nothing made inside the function requires grad, so each of
    them comes from outside it."""

    def __init__(self):
        self.thread = threading.get_ident()
        self.found = {}

    def forward_call(self, function, args, kwargs, run):
        if threading.get_ident() == self.thread:
            for a in (*args, *kwargs.values()):
                for t in a if a.__class__ in (list, tuple) else (a,):
                    if isinstance(t, _Tensor) and t.requires_grad:
                        self.found.setdefault(id(t), t)
        return run()

    def backward(self, node, run):
        return run()


class _Substitute:
    """An observer that hands each op of this thread detached stand-ins for the outer tensors
    (so that the recomputed graph ends at them and never reaches into the outer graph)."""

    def __init__(self, stand_ins):
        self.thread = threading.get_ident()
        self.stand_ins = stand_ins

    def _swap(self, a):
        if a.__class__ in (list, tuple):
            swapped = [self.stand_ins.get(id(t), t) for t in a]
            # A new container only when something changed: ``x is y`` below ends the re-dispatch.
            return a if all(x is y for x, y in zip(swapped, a)) else a.__class__(swapped)
        return self.stand_ins.get(id(a), a)

    def forward_call(self, function, args, kwargs, run):
        if threading.get_ident() != self.thread:
            return run()
        new_args = tuple(self._swap(a) for a in args)
        new_kwargs = {k: self._swap(v) for k, v in kwargs.items()}
        if all(x is y for x, y in zip(new_args, args)) and all(new_kwargs[k] is v for k, v in kwargs.items()):
            return run()
        return function.apply(*new_args, **new_kwargs)

    def backward(self, node, run):
        return run()


@contextlib.contextmanager
def _observing(observer):
    _observe.add(observer)
    try:
        yield
    finally:
        _observe.remove(observer)


def _metadata(outputs):
    return [(tuple(o.shape), o.dtype, o.device) if isinstance(o, _Tensor) else None for o in outputs]


class _NonReentrantCheckpoint(_Function):
    """The non-reentrant checkpoint's node: its inputs are the outer tensors the function read;
    the outputs were computed already (under no_grad) and are handed in through ``state``."""

    @staticmethod
    def forward(ctx, state, *external):
        ctx.state = state
        ctx.set_materialize_grads(False)  # as in CheckpointFunction
        ctx.save_for_backward(*external)
        return state["outputs"]

    @staticmethod
    def backward(ctx, *grad_outputs):
        state = ctx.state
        external = ctx.saved_tensors
        create_graph = _grad_mode.is_grad_enabled()  # the engine enables grad under create_graph
        stand_ins = {}
        for t in external:
            if create_graph:
                # Differentiable aliases: the gradients' graph must lead back to the real inputs.
                stand_in = t.view_as(t)
            else:
                stand_in = t.detach()
                stand_in.requires_grad_(True)
            stand_ins[id(t)] = stand_in
        args = tuple(stand_ins.get(id(a), a) for a in state["args"])
        kwargs = {k: stand_ins.get(id(v), v) for k, v in state["kwargs"].items()}
        with _replayed_rng(state["rng_state"]), state["recompute_context"]:
            with _grad_mode.enable_grad(), _observing(_Substitute(stand_ins)):
                outputs = _as_tuple(state["function"](*args, **kwargs))
        if state["check"] and _metadata(outputs) != state["metadata"]:
            raise CheckpointError(
                "torch.utils.checkpoint: Recomputed values have different metadata than during the "
                f"forward pass: the outputs were {state['metadata']}, recomputed {_metadata(outputs)}"
            )
        pairs = [
            (o, g) for o, g in zip(outputs, grad_outputs)
            if isinstance(o, _Tensor) and o.requires_grad and g is not None
        ]
        inputs = [stand_ins[id(t)] for t in external]
        if not pairs:
            return (None,) + (None,) * len(external)
        grads = _grad(
            [o for o, _ in pairs], inputs, [g for _, g in pairs],
            create_graph=create_graph, allow_unused=True,
        )
        return (None,) + tuple(grads)


def _checkpoint_without_reentrant(function, preserve, context_fn, determinism_check, args, kwargs):
    if determinism_check not in _DETERMINISM_CHECKS:
        raise ValueError(
            f"determinism_check should be one of {list(_DETERMINISM_CHECKS)}, but got {determinism_check}"
        )
    forward_context, recompute_context = context_fn()
    if not _grad_mode.is_grad_enabled():  # no graph is recorded: nothing to recompute
        with forward_context:
            return function(*args, **kwargs)
    rng_state = _cpu_rng_state(preserve)
    finder = _ExternalTensors()
    # An argument that requires grad is an input even when no op reads it (an identity function).
    for a in (*args, *kwargs.values()):
        if isinstance(a, _Tensor) and a.requires_grad:
            finder.found.setdefault(id(a), a)
    with forward_context, _grad_mode.no_grad(), _observing(finder):
        outputs = function(*args, **kwargs)
    if not finder.found:
        return outputs
    state = {
        "function": function, "args": args, "kwargs": kwargs, "rng_state": rng_state,
        "recompute_context": recompute_context, "check": determinism_check == "default",
        "outputs": outputs, "metadata": _metadata(_as_tuple(outputs)),
    }
    result = _NonReentrantCheckpoint.apply(state, *finder.found.values())
    del state["outputs"]  # the node must not keep its own outputs alive
    return result


def checkpoint(function, *args, use_reentrant=None, context_fn=noop_context_fn, determinism_check="default",
               debug=False, early_stop=True, **kwargs):
    """Run ``function(*args, **kwargs)`` without keeping its intermediates; backward recomputes them.

    Keyword ``preserve_rng_state`` (default True) replays the CPU generator's random numbers in
    the recomputation (not CUDA's: see the module docstring). ``debug`` and ``early_stop`` are
    accepted and have no effect: the whole function is recomputed.
    """
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint: the use_reentrant parameter should be "
            "passed explicitly. Starting in PyTorch 2.9, calling checkpoint "
            "without use_reentrant will raise an exception. use_reentrant=False is "
            "recommended, but if you need to preserve the current default "
            "behavior, you can pass use_reentrant=True. Refer to docs for more "
            "details on the differences between the two variants.",
            stacklevel=2,
        )
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    if use_reentrant:
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
        return CheckpointFunction.apply(function, preserve, *args)
    return _checkpoint_without_reentrant(function, preserve, context_fn, determinism_check, args, kwargs)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run a sequential model in ``segments`` chunks, checkpointing all but the last."""
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint.checkpoint_sequential: the use_reentrant "
            "parameter should be passed explicitly. "
            "In version 2.9 we will raise an exception if use_reentrant "
            "is not passed. use_reentrant=False is "
            "recommended, but if you need to preserve the current default "
            "behavior, you can pass use_reentrant=True. Refer to docs for more "
            "details on the differences between the two variants.",
            stacklevel=2,
        )
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))

    def run_function(start, end, functions):
        def forward(input):
            for j in range(start, end + 1):
                input = functions[j](input)
            return input

        return forward

    if isinstance(functions, _Sequential):
        functions = list(functions.children())
    segment_size = len(functions) // segments
    end = -1  # the last chunk runs without checkpoint: backward needs its graph at once
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(
            run_function(start, end, functions), input, use_reentrant=use_reentrant, preserve_rng_state=preserve
        )
    return run_function(end + 1, len(functions) - 1, functions)(input)
