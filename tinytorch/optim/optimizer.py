"""``Optimizer``: parameter groups, per-parameter state, state_dict, and the scratch buffers
that let the subclasses update parameters in place without allocating on every step."""

from collections import defaultdict
from copy import deepcopy
from itertools import chain
import warnings

import numpy as np

from .. import _backend as backend
from .. import _float_errors
from .. import _threads
from ..autograd.grad_mode import enable_grad
from .._tensor import Tensor


def _check_implementation_choice(defaults):
    """PyTorch's ``foreach``/``fused``/``capturable``/``differentiable`` arguments. The first three
    choose among PyTorch's implementations of one update; tinytorch has one (PyTorch's for-loop
    formulas, over flat state for Adam: the same bits), so they are kept in the param groups,
    checked as PyTorch checks them, and change nothing (there are no CUDA graphs to capture).
    ``differentiable=True`` asks for a step that autograd can differentiate through, which
    tinytorch's in-place array updates are not: refused."""
    if defaults.get("fused"):
        if defaults.get("differentiable"):
            raise RuntimeError("`fused` does not support `differentiable`")
        if defaults.get("foreach"):
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
    if defaults.get("differentiable"):
        raise NotImplementedError(
            "differentiable=True is not supported: tinytorch's optimizers update the parameters in place, outside "
            "autograd (docs/differences.md)")


def _check_tensor_lr(lr):
    """PyTorch takes a tensor learning rate only if it holds one element."""
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")


def _refuse_sparse_grads(group, message):
    """PyTorch's check (in each optimizer's ``_init_group``, before any parameter of the group is
    updated) for the optimizers whose update needs a dense gradient."""
    for p in group["params"]:
        if p.grad is not None and p.grad.is_sparse:
            raise RuntimeError(message)


def _each_on_its_gpu(params):
    """``params``; with several GPUs, each parameter's GPU is made current while the caller's loop
    body updates it (CuPy runs kernels and allocates on the current GPU), and the caller's GPU
    comes back when the loop ends."""
    if not backend.SEVERAL_GPUS:
        return params
    return _switching_gpus(params)


def _switching_gpus(params):
    caller = backend.current_cuda_index()
    try:
        for p in params:
            backend.make_current((p,))
            yield p
    finally:
        backend.restore_current(caller)


class Optimizer:
    """Base class: ``param_groups`` (dicts of params and hyperparameters) and ``state`` (per param).

    Subclasses write ``step()``; it runs with grad mode off and updates ``p._data`` in place.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # tinytorch's own steps run with NumPy's floating-point warnings off: an inf or NaN
        # gradient makes inf or NaN parameters silently, as in PyTorch (tinytorch/_float_errors.py).
        if cls.__module__.startswith("tinytorch.") and "step" in cls.__dict__:
            cls.step = _float_errors.quietly(cls.__dict__["step"])

    def __init__(self, params, defaults):
        _check_implementation_choice(defaults)
        self.defaults = defaults
        if isinstance(params, (Tensor, set)):
            # A set has no stable order, so state_dict indices would not match between runs.
            name = "set" if isinstance(params, set) else params.type()
            raise TypeError(f"params argument given to the optimizer should be an iterable of Tensors or dicts, but got {name}")
        self.state = defaultdict(dict)
        self.param_groups = []
        self._buffers = {}
        self._flat_runs = {}  # _flat_state's runs, by the parameters they update
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def __getstate__(self):
        # A copy (deepcopy, pickle) gets its state arrays copied one by one: the flat runs, whose
        # flat arrays those were views of, would no longer be, so the copy builds its own.
        state = self.__dict__.copy()
        state["_flat_runs"] = {}
        return state

    def __repr__(self):
        lines = [self.__class__.__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {key}: {group[key]}" for key in sorted(group) if key != "params"]
        return "\n".join(lines) + "\n)"

    def add_param_group(self, param_group):
        """Add a dict with ``params`` (and optional hyperparameters; the rest come from defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the ordering of "
                "tensors in sets will change between runs. Please use a list instead."
            )
        params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            param_group["param_names"] = names
        param_group["params"] = params
        for param in params:
            if not isinstance(param, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is " + type(param).__name__)
            if not (param.is_leaf or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            param_group.setdefault(name, default)
        if len({id(p) for p in params}) != len(params):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; in future, this will cause an error",
                stacklevel=3,
            )
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        for group in self.param_groups:
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError(
                    f"all optimizer param groups should be with/without names. cannot add param group {which} to the optimizer"
                )
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none=True):
        """Forget the gradients: set them to None (default) or to zeros."""
        for group in self.param_groups:
            for p in _each_on_its_gpu(group["params"]):
                grad = p.grad
                if grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                    continue
                if grad.grad_fn is not None:
                    grad.detach_()
                else:
                    grad.requires_grad_(False)
                if grad.is_sparse:  # PyTorch's sparse zero_: no entries left
                    grad.zero_()
                    continue
                grad._data.fill(0)
                grad._version[0] += 1

    def step(self, closure=None):
        raise NotImplementedError

    # -- helpers for subclasses -------------------------------------------------------------------
    @staticmethod
    def _evaluate(closure):
        """Run the closure (if any) with grad mode on, as PyTorch does inside ``step``."""
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def _buffer(self, like, slot):
        """A scratch array shaped like ``like``: a view of one flat buffer per (slot, dtype, device),
        grown to the largest parameter, so that a step allocates nothing after the first."""
        device = backend.device_of(like)
        key = (slot, like.dtype, device)
        flat = self._buffers.get(key)
        if flat is None or flat.size < like.size:
            with backend.on_device(device):  # CuPy allocates on the current device otherwise
                flat = backend.array_module(like).empty(like.size, dtype=like.dtype)
            self._buffers[key] = flat
        return flat[: like.size].reshape(like.shape)

    def _grad(self, p, maximize, weight_decay, out=None):
        """The gradient to use: ``-grad`` when maximizing, plus ``weight_decay * p`` (L2 penalty),
        in ``out`` (default: scratch slot 0). Returns ``p.grad``'s own array when neither applies
        (no copy)."""
        grad = p.grad._data
        if not maximize and not weight_decay:
            return grad
        xp = backend.array_module(grad)
        if out is None:
            out = self._buffer(grad, 0)
        if weight_decay:
            xp.multiply(p._data, weight_decay, out=out)
            (xp.subtract if maximize else xp.add)(out, grad, out=out)
        else:
            xp.negative(grad, out=out)
        return out

    def _lerp(self, start, end, weight):
        """``start.lerp_(end, weight)`` in place, with PyTorch's two formulas (exact at both ends)."""
        difference = self._buffer(start, 1)
        _lerp_parts(start, [start], [end], weight, difference, [difference])

    def _addcdiv(self, param, numerator, denominator, value):
        """``param.addcdiv_(numerator, denominator, value=value)`` in PyTorch's order, ``(value *
        numerator) / denominator``, through scratch slot 0 (``numerator`` may be that slot)."""
        update = self._buffer(param, 0)
        _addcdiv_parts([param], numerator, denominator, value, update, [update])

    @staticmethod
    def _zeros_like(p):
        with backend.on_device(p.device):
            return Tensor._make(backend.array_module(p._data).zeros_like(p._data))

    @staticmethod
    def _step_counter():
        # PyTorch keeps the step count as a float32 CPU tensor (so it lands in the state_dict).
        return Tensor._make(np.zeros((), dtype=np.float32))

    @staticmethod
    def _advance(step):
        step._data += 1
        return float(step._data)

    # -- state_dict -------------------------------------------------------------------------------
    def state_dict(self):
        """``{'state': {index: {...}}, 'param_groups': [{..., 'params': [index, ...]}]}``, as PyTorch."""
        index_of = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index_of.setdefault(id(p), len(index_of))
            packed["params"] = [index_of[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {(index_of[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyperparameters and state saved by ``state_dict`` (tensors are copied to the
        parameter's device, and floating state to its dtype)."""
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of optimizer's group")
        param_of = dict(
            zip(chain.from_iterable(s["params"] for s in saved_groups), chain.from_iterable(g["params"] for g in groups))
        )
        state = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key in param_of:
                state[param_of[key]] = _cast(param_of[key], value)
            else:
                state[key] = value
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
        self.state = state
        self.param_groups = saved_groups


# Updates of this many elements or more run on every core (``_per_core``, ``_flat_state.update``):
# below it the threads' turns at the GIL cost more than the second core gains (Adam on 2 AMD EPYC
# vCPUs, paired in-process: 38,170 elements 138 -> 269 us, 127,210 elements 275 -> 368 us, 305,290
# 794 -> 644 us, the lecture MLP's 575,050 1,479 -> 1,077 us).
PER_CORE_MIN = 1 << 18


def _per_core(function, *arrays):
    """``function(*arrays)``, an update's passes over arrays of one size (a parameter, its gradient,
    its state, scratch): on the CPU, with every array C-contiguous and ``PER_CORE_MIN`` elements or
    more, run as ``function(*pieces)`` over flat pieces of them, one per core on OpenBLAS's threads
    (tinytorch/_threads.py), each making every pass over its piece; elementwise, so the same bits.
    ``function`` must only write into the arrays it is given."""
    first = arrays[0]
    bounds = [0, first.size]
    if all(a.__class__ is np.ndarray and a.size == first.size and a.flags.c_contiguous for a in arrays):
        bounds = _threads.server_pieces(first.size, PER_CORE_MIN)
    if len(bounds) == 2:
        function(*arrays)
        return
    flats = [a.reshape(-1) for a in arrays]
    _threads.run(lambda lo, hi: function(*(flat[lo:hi] for flat in flats)), bounds)


def _lerp_parts(start, parts, ends, weight, difference, differences):
    """``lerp_(end, weight)`` in place for each part of ``start`` (one part: ``start`` itself; a flat
    run of state: each parameter's view), as PyTorch's CPU kernel computes it: ``fma(weight, end -
    start, start)`` for ``|weight| < 0.5``, else ``fma(weight - 1, end - start, end)`` (exact at
    both ends). The differences are taken per part; the fused multiply-add is BLAS's axpy
    (``backend.add_scaled_``), over the whole of ``start`` at once in the first case, and rounds
    twice where no BLAS here fuses (CuPy, ``TINYTORCH_BLAS=numpy``; docs/differences.md).
    ``difference`` is scratch shaped like ``start``, cut into ``differences`` as it is."""
    xp = backend.array_module(start)
    for part, end, d in zip(parts, ends, differences):
        xp.subtract(end, part, out=d)
    if abs(weight) < 0.5:
        backend.add_scaled_(start, difference, weight, fused=True)
    else:
        coefficient = float(start.dtype.type(weight) - 1)  # weight - 1 in the state's dtype, as the kernel
        for part, end, d in zip(parts, ends, differences):
            xp.copyto(part, end)
            backend.add_scaled_(part, d, coefficient, fused=True)


def _addcdiv_parts(targets, numerator, denominator, value, update, updates):
    """``target.addcdiv_(numerator_part, denominator_part, value=value)`` for each target, where
    ``targets`` pair with the parts ``updates`` of ``update`` (scratch shaped like ``numerator``):
    ``(value * numerator) / denominator`` in PyTorch's order over the whole at once, then each
    target adds its part."""
    backend.array_module(update).multiply(numerator, value, out=update)
    update /= denominator
    for target, part in zip(targets, updates):
        target += part


def _cast(param, value, key=None):
    """Move saved state onto ``param``'s device; a floating param's dtype applies to all but the
    step counter (PyTorch's policy). Unlike PyTorch, tensors are always copied, so the loaded
    optimizer never shares memory with the state_dict it came from."""
    if isinstance(value, Tensor):
        if key == "step":  # the counter stays where it was (a CPU scalar), as in PyTorch
            return Tensor._make(value._data.copy())
        if key == "mu_product":
            # NAdam's running product stays a float32 CPU scalar, so that a resumed run goes on
            # exactly as the uninterrupted one (PyTorch casts it to the parameter's dtype and device).
            return Tensor._make(backend.to_numpy(value._data).copy())
        array = backend.to_device(value._data, param.device)
        with backend.on_device(param.device):  # the cast and copy run on the parameter's GPU
            if param._data.dtype.kind == "f":
                return Tensor._make(array.astype(param._data.dtype, copy=True))
            return Tensor._make(array.copy() if array is value._data else array)
    if isinstance(value, dict):
        return {k: _cast(param, v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast(param, v) for v in value)
    return value
