"""Forward-mode AD (``torch.autograd.forward_ad``): dual tensors on the reverse-mode engine.

tinytorch has no forward-mode kernels. A dual tensor is an alias of its primal that requires grad
and owns a node of the ordinary backward graph (a same-shape view); ops on it record the usual graph;
``unpack_dual(y)`` computes the tangent ``J t`` by the double-vjp trick: ``g = Jᵀu`` is linear in
a dummy ``u``, so the vjp of ``g`` with the tangent ``t`` is ``J t`` (two reverse passes, summed
over every dual of the level that ``y`` depends on). Tangents are exact (up to rounding) wherever
the backward formulas on the path are differentiable, i.e. wherever ``create_graph=True`` works.
"""

import functools
import weakref
from typing import NamedTuple

from .._backend import array_module as _array_module
from . import _observe
from ._api import grad as _autograd_grad
from .function import AccumulateGrad as _AccumulateGrad
from .grad_mode import state as _grad_state

__all__ = ["UnpackedDualTensor", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual", "dual_level"]

# The level the functions use by default (-1: none), as PyTorch's module global of the same name.
_current_level = -1
_level = None  # the live _Level, or None

_NO_LEVEL = "Trying to create a dual Tensor for forward AD but no level exists, make sure to enter_dual_level() first."
_DEAD_LEVEL = (
    "Trying to access a forward AD level with an invalid index. This index was either not created or is already deleted."
)


class _Level:
    """The live dual level: its dual nodes (held weakly: a dual that dies needs no tangent) and a
    memo of which graph nodes reach one of them (a node's edges never change, and a node can only
    reach older nodes, so an answer stays true for the level's whole life)."""

    def __init__(self):
        self.duals = weakref.WeakSet()
        self.reaches = weakref.WeakKeyDictionary()


class _TangentPass:
    active = False  # set while unpack_dual differentiates: a primal stops the tangent there


_tangent_pass = _TangentPass()


def _alias_node(tensor):
    """A view of ``tensor`` with the same shape (tinytorch's Reshape op): a new tensor on the same
    memory and version counter, with a node of its own, recorded even under no_grad."""
    previous = _grad_state.enabled
    _grad_state.enabled = True
    try:
        alias = tensor.view(tuple(tensor.shape))
    finally:
        _grad_state.enabled = previous
    # Not marked as the view of ``tensor`` (``_base``): then a view of a dual is the dual's own
    # view, so an in-place op on it is refused (tinytorch does not rebase views) instead of
    # silently missing the dual's tangent; and in-place ops on the alias itself stay allowed.
    alias._base = None
    return alias


def _stop_tangent(grads):
    """Pre-hook of a primal's node: a primal carries no tangent, so the tangent pass gets zeros
    there; ordinary backward passes gradients on (the primal stays backward differentiable)."""
    if not _tangent_pass.active:
        return None
    return [None if g is None else _tensor.Tensor._make(_array_module(g._data).zeros_like(g._data)) for g in grads]


class _ForwardADUnderNoGrad:
    """An observer, registered while a level is live. PyTorch's forward AD ignores grad mode, but
    here tangents travel on the backward graph: an op that reads a dual-dependent tensor under
    ``no_grad`` records its node anyway (out-of-place ops; see docs/autograd.md section 8)."""

    def forward_call(self, function, args, kwargs, run):
        if _grad_state.enabled or _level is None or not _reads_dual(args, kwargs):
            return run()
        _grad_state.enabled = True
        try:
            return run()
        finally:
            _grad_state.enabled = False

    def backward(self, node, run):
        return run()


_observer = _ForwardADUnderNoGrad()


def _reads_dual(args, kwargs):
    for a in (*args, *kwargs.values()):
        if a.__class__ in (list, tuple):
            if any(_has_tangent(t) for t in a):
                return True
        elif _has_tangent(a):
            return True
    return False


def _has_tangent(tensor):
    """Whether ``tensor`` depends on a dual tensor of the live level (has a forward gradient)."""
    if _level is None or getattr(tensor, "_requires_grad", False) is not True or tensor.grad_fn is None:
        return False
    return _reaches_dual(tensor.grad_fn)


def _reaches_dual(root):
    """Iterative walk (a deep graph must not overflow the stack), memoized on the level."""
    memo, duals = _level.reaches, _level.duals
    stack = [root]
    while stack:
        node = stack[-1]
        if node in memo:
            stack.pop()
            continue
        if node in duals:
            memo[node] = True
        elif node.__class__ is _AccumulateGrad or "_no_tangent" in node.__dict__:
            memo[node] = False
        else:
            children = [e[0] for e in node._edges if e is not None]
            pending = [c for c in children if c not in memo]
            if pending:
                stack.extend(pending)
                continue
            memo[node] = any(memo[c] for c in children)
        stack.pop()
    return memo[root]


def _duals_of(tensor):
    """The live dual nodes that ``tensor``'s graph reaches (their tangents make its tangent)."""
    if not _has_tangent(tensor):
        return []
    duals = _level.duals
    found, seen, stack = [], {tensor.grad_fn}, [tensor.grad_fn]
    while stack:
        node = stack.pop()
        if node in duals:
            found.append(node)
            continue  # the primal's graph holds no dual of this level (make_dual refuses one)
        for edge in node._edges:
            if edge is not None and edge[0] not in seen and _reaches_dual(edge[0]):
                seen.add(edge[0])
                stack.append(edge[0])
    return found


def _reaches_user_grad(tensor):
    """Whether ``tensor`` depends on a tensor the user made require grad (not only on the hidden
    leaves behind duals of tensors that did not): then its primal keeps a graph, as in PyTorch."""
    if not tensor._requires_grad:
        return False
    if tensor.grad_fn is None:
        return True
    seen, stack = {tensor.grad_fn}, [tensor.grad_fn]
    while stack:
        node = stack.pop()
        if node.__class__ is _AccumulateGrad:
            return True
        if "_user_grad" in node.__dict__:  # a dual's node
            if node._user_grad:
                return True
            continue
        for edge in node._edges:
            if edge is not None and edge[0] not in seen:
                seen.add(edge[0])
                stack.append(edge[0])
    return False


def enter_dual_level():
    """Enter a new forward grad level (only one may exist at a time) and return its index."""
    global _current_level, _level
    if _current_level >= 0:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _level = _Level()
    _current_level = 0
    _observe.add(_observer)
    return _current_level


def exit_dual_level(*, level=None):
    """Exit the forward grad level, deleting the tangents of its dual tensors."""
    global _current_level, _level
    if level is None:
        level = _current_level
    if level != _current_level:
        raise RuntimeError(
            "Trying to exit a forward AD level that was not the last one that was created. This is not supported."
        )
    if level < 0:
        raise RuntimeError("Dual level must be a positive number.")
    for node in list(_level.duals):
        node._tangent = None
    _level = None
    _observe.remove(_observer)
    _current_level = level - 1


def make_dual(tensor, tangent, *, level=None):
    """A dual tensor: an alias of ``tensor`` that carries ``tangent`` in the current level
    (``unpack_dual`` then gives ``J tangent`` for any ``y = f(dual)``)."""
    if level is None:
        level = _current_level
    if level < 0:
        raise RuntimeError(_NO_LEVEL)
    if not (tensor.is_floating_point() or tensor.is_complex()):
        raise ValueError(f"Expected primal to be floating point or complex, but got: {tensor.dtype}")
    if not (tangent.is_floating_point() or tangent.is_complex()):
        raise ValueError(f"Expected tangent to be floating point or complex, but got: {tangent.dtype}")
    if level != 0:
        raise RuntimeError("Invalid level given to _make_dual")
    if _has_tangent(tensor):
        raise RuntimeError(
            f"Making a dual Tensor based on a Tensor that already has a forward gradient at the same level {level} "
            "is not supported."
        )
    if tuple(tangent.shape) != tuple(tensor.shape):
        raise RuntimeError(
            "Trying to set a forward gradient that has a different size than that of the original Tensor, this is "
            f"not supported. Tensor is of size {list(tensor.shape)} while the given forward gradient is of size "
            f"{list(tangent.shape)}."
        )
    if _level is None:
        raise RuntimeError(_DEAD_LEVEL)
    if tangent.device != tensor.device:
        raise RuntimeError(
            f"Expected the tangent to be on the same device as the primal, but got tangent on {tangent.device} "
            f"and primal on {tensor.device}."
        )
    user_grad = tensor._requires_grad
    # A primal that does not require grad gets a hidden leaf: the dual's node needs an edge to hang on.
    dual = _alias_node(tensor if user_grad else tensor.detach().requires_grad_())
    node = dual.grad_fn
    node._tangent, node._user_grad, node._dual_data = tangent, user_grad, tensor._data
    _level.duals.add(node)
    return dual


class UnpackedDualTensor(NamedTuple):
    """Namedtuple returned by :func:`unpack_dual`: the primal and the tangent (or None) of a tensor."""

    primal: object
    tangent: object


def unpack_dual(tensor, *, level=None):
    """``(primal, tangent)`` of ``tensor``: a view of its value without the tangent, and its
    tangent (``J t`` summed over the level's dual tensors it depends on), None where it has none."""
    if level is None:
        level = _current_level
    if level < 0:
        return UnpackedDualTensor(tensor, None)
    if not isinstance(tensor, _tensor.Tensor):
        raise TypeError(f"_unpack_dual(): argument 'dual' (position 1) must be Tensor, not {type(tensor).__name__}")
    duals = _duals_of(tensor)
    if duals and level != 0:
        raise RuntimeError("Invalid level given to _fw_primal")
    primal = _primal(tensor)
    if not duals:
        return UnpackedDualTensor(primal, None)
    node = tensor.grad_fn
    if node in _level.duals and len(duals) == 1:
        return UnpackedDualTensor(primal, node._tangent)  # the tangent as given, as PyTorch returns it
    return UnpackedDualTensor(primal, _tangent(tensor, duals))


def _primal(tensor):
    if not _reaches_user_grad(tensor):
        return tensor.detach()
    primal = _alias_node(tensor)
    primal.grad_fn._no_tangent = True
    primal.grad_fn.register_prehook(_stop_tangent)
    return primal


def _tangent(tensor, duals):
    """``J t`` by two reverse passes: ``g = Jᵀu`` for a dummy ``u`` (with its graph), then the vjp
    of ``g`` with the tangents ``t``, which is ``J t`` since ``g`` is linear in ``u``."""
    Tensor = _tensor.Tensor
    stand_ins = [Tensor._make(node._dual_data, True, node, 0) for node in duals]
    tangents = [node._tangent for node in duals]
    # NOTE: u's value is irrelevant to d(Jᵀu)/du, but ones, not zeros: a backward may take the log
    # of its incoming gradient (logcumsumexp's), and log(0) would make the derivative NaN.
    dummy = Tensor._make(_array_module(tensor._data).ones_like(tensor._data), True)
    _tangent_pass.active = True
    try:
        vjps = _autograd_grad(tensor, stand_ins, dummy, create_graph=True, allow_unused=True)
    finally:
        _tangent_pass.active = False
    # The tangent keeps a graph (is backward differentiable) where PyTorch's would: when the
    # primal or a tangent reaches a tensor the user made require grad.
    keep_graph = _reaches_user_grad(tensor) or any(t.requires_grad for t in tangents)
    outputs, grad_outputs, constant = [], [], []
    for vjp, t in zip(vjps, tangents):
        if vjp is None:
            continue
        if vjp.requires_grad:
            outputs.append(vjp)
            grad_outputs.append(t if t.dtype == vjp.dtype else t.to(vjp.dtype))
        else:
            constant.append(vjp)
    result = None
    if outputs:
        (result,) = _autograd_grad(
            outputs, dummy, grad_outputs, retain_graph=True, create_graph=keep_graph, allow_unused=True
        )
    if result is None or constant:
        # A vjp that does not depend on u is zero (J = 0, round's backward) or comes from a
        # backward that is not differentiable (computed outside tensor ops): refuse a wrong tangent.
        if result is None and outputs or any(bool((v._data != 0).any()) for v in constant):
            raise RuntimeError(_NOT_TWICE_DIFFERENTIABLE)
    if result is None:
        return Tensor._make(_array_module(tensor._data).zeros_like(tensor._data))
    return result


_NOT_TWICE_DIFFERENTIABLE = (
    "unpack_dual: cannot compute the tangent: tinytorch computes forward-mode AD with two reverse passes, "
    "and the backward of an op between the dual tensor and this tensor is not differentiable "
    "(it would fail with create_graph=True as well)."
)


class dual_level:
    """Context manager (and decorator) for forward AD: enters a dual level and exits it (deleting
    its tangents) on the way out. Only one level may exist at a time, as in PyTorch."""

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return func(*args, **kwargs)

        return wrapper

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, exc_type, exc_value, traceback):
        exit_dual_level()


# Imported last (a cycle): _tensor imports the autograd package, and Tensor is looked up at call time.
from .. import _tensor as _tensor  # noqa: E402
