"""``check_op`` (property-based gradient checks) and ``assert_close`` (like torch.testing's)."""

import inspect

import numpy as np

from .. import autograd
from .._backend import to_numpy
from .._tensor import Tensor
from ..autograd.function import Function
from ._gradients import analytical_gradients, check_gradients, output_weights

# torch.testing.assert_close's defaults: (rtol, atol) by dtype; exact for everything else.
_TOLERANCES = {"float16": (1e-3, 1e-5), "float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7)}


def check_op(fn, torch_fn=None, *, n_inputs=None, domain=(-2.0, 2.0), shapes=None, max_examples=50, atol=1e-5,
             rtol=1e-3, broadcast=True, away_from=(), differentiable=None, max_side=4, seed=None):
    """Check ``fn``'s gradients (and values) on inputs that hypothesis draws, shrinking a failure.

    ``fn(*tensors)`` is called on ``n_inputs`` float64 tensors and returns a tensor (or a tuple).
    ``n_inputs`` defaults to the number of ``fn``'s required positional parameters (for
    ``SomeFunction.apply``, those of its ``forward`` after ``ctx``), else to the number of fixed
    ``shapes``; a TypeError asks for it when neither tells (``*args``, no readable signature).
    Its gradients are compared with central finite differences and, when ``torch_fn`` is given
    and torch is installed, ``torch_fn(*torch_tensors)``'s values and gradients. ``shapes`` is
    None (draw shapes: 0 to 3 dims of size 0 to ``max_side``; with ``broadcast`` the others
    broadcast against the first), a list of fixed shapes (one per input) or a hypothesis strategy
    of such lists. Values are uniform in ``domain``, at least 0.01 from each point of ``away_from``
    (kinks like ReLU's 0). ``differentiable``: indices of the inputs to check (default: all).
    Raises AssertionError naming the minimal failing shapes and values.
    """
    try:
        from hypothesis import HealthCheck, Phase, given, settings
        from hypothesis import seed as hypothesis_seed
        from hypothesis import strategies as st
    except ImportError:
        raise ImportError("check_op needs hypothesis: pip install hypothesis") from None
    if n_inputs is None:
        n_inputs = _count_inputs(fn, shapes)
    shape_strategy = _shape_strategy(st, shapes, n_inputs, broadcast, max_side)
    indices = tuple(range(n_inputs)) if differentiable is None else tuple(differentiable)

    # Every phase named: the promised minimal example must not depend on the caller's profile.
    @settings(max_examples=max_examples, deadline=None, database=None, print_blob=False, phases=tuple(Phase),
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
    @given(st.data())
    def run(data):
        drawn = [_draw_values(st, data, shape, domain, away_from, i) for i, shape in enumerate(data.draw(shape_strategy, label="shapes"))]
        try:
            check_gradients(fn, [a.copy() for a in drawn], {}, indices, np.random.default_rng(0), atol, rtol)
            if torch_fn is not None:
                _compare_with_torch(fn, torch_fn, drawn, indices, atol, rtol)
        except AssertionError as error:
            raise AssertionError(f"{error}\ninputs (shapes {[a.shape for a in drawn]}):\n{_show(drawn)}") from None

    if seed is not None:
        run = hypothesis_seed(seed)(run)
    run()


def _count_inputs(fn, shapes):
    """How many tensors ``fn`` takes: its required positional parameters, else len(shapes)."""
    target, skip = fn, 0
    owner = getattr(fn, "__self__", None)
    if getattr(fn, "__name__", None) == "apply" and isinstance(owner, type) and issubclass(owner, Function):
        target, skip = owner.forward, 1  # apply(*args) passes them on to forward(ctx, *args)
    try:
        parameters = list(inspect.signature(target).parameters.values())[skip:]
    except (TypeError, ValueError):  # builtins and C functions may have no signature
        parameters, reason = None, "Python cannot read its signature"
    if parameters is not None:
        count = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty for p in parameters)
        if any(p.kind is p.VAR_POSITIONAL for p in parameters):
            reason = "it takes *args"
        elif count == 0:
            reason = "it has no required positional parameter"
        else:
            return count
    if shapes is not None and not hasattr(shapes, "example"):
        return len(shapes)
    name = getattr(fn, "__qualname__", None) or repr(fn)
    raise TypeError(f"check_op cannot tell how many inputs {name} takes ({reason}): pass n_inputs")


def _shape_strategy(st, shapes, n_inputs, broadcast, max_side):
    if shapes is not None and hasattr(shapes, "example"):
        return shapes  # already a strategy
    if shapes is not None:
        if len(shapes) != n_inputs:
            raise ValueError(f"shapes has {len(shapes)} entries but n_inputs is {n_inputs}")
        return st.just([tuple(s) for s in shapes])
    from hypothesis.extra import numpy as hnp

    first = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=max_side)

    @st.composite
    def draw(draw):
        shape = draw(first)
        result = [shape]
        for _ in range(n_inputs - 1):
            if not broadcast:
                result.append(shape)
                continue
            # Leading dims dropped and some dims set to 1: broadcasting both ways, sizes 1 and 0.
            other = tuple(1 if draw(st.booleans()) else s for s in shape[draw(st.integers(0, len(shape))):])
            result.append(other)
        if n_inputs > 1 and draw(st.booleans()):
            result.reverse()
        return result

    return draw()


def _draw_values(st, data, shape, domain, away_from, index):
    from hypothesis.extra import numpy as hnp

    low, high = domain
    elements = st.floats(low, high, allow_nan=False, allow_infinity=False)
    if away_from:
        elements = elements.filter(lambda v: all(abs(v - k) >= 0.01 for k in away_from))
    return data.draw(hnp.arrays(np.float64, shape, elements=elements), label=f"input {index}")


def _compare_with_torch(fn, torch_fn, arrays, indices, atol, rtol):
    try:
        import torch
    except ImportError:
        return  # torch is an optional oracle
    weights = output_weights(fn, arrays, {}, np.random.default_rng(0))
    ours, _, _ = analytical_gradients(fn, arrays, {}, indices, weights)
    theirs_in = [torch.tensor(a, requires_grad=i in indices) for i, a in enumerate(arrays)]
    outputs = torch_fn(*theirs_in)
    outputs = outputs if isinstance(outputs, (tuple, list)) else (outputs,)
    with autograd.no_grad():
        mine = fn(*[Tensor._make(a) for a in arrays])
    mine = mine if isinstance(mine, (tuple, list)) else (mine,)
    for k, (a, b) in enumerate(zip(mine, outputs)):
        if tuple(a.shape) != tuple(b.shape):
            raise AssertionError(f"output {k} has shape {tuple(a.shape)}, torch's has {tuple(b.shape)}")
        if not np.allclose(to_numpy(a._data), b.detach().numpy(), atol=atol, rtol=rtol, equal_nan=True):
            raise AssertionError(f"output {k} differs from torch's:\nours:\n{to_numpy(a._data)}\ntorch:\n{b.detach().numpy()}")
    loss = sum((o * torch.tensor(w)).sum() for o, w in zip(outputs, weights) if o.dtype.is_floating_point)
    if not isinstance(loss, torch.Tensor) or not loss.requires_grad:
        return
    loss.backward()
    for i, grad in zip(indices, ours):
        expected = theirs_in[i].grad
        expected = np.zeros(arrays[i].shape) if expected is None else expected.numpy()
        got = np.zeros(arrays[i].shape) if grad is None else to_numpy(grad._data)
        if not np.allclose(got, expected, atol=atol, rtol=rtol):
            raise AssertionError(f"gradient of input {i} differs from torch's:\nours:\n{got}\ntorch:\n{expected}")


def _show(arrays):
    with np.printoptions(precision=6, threshold=50):
        return "\n".join(f"  input {i}: {np.array2string(a)}" for i, a in enumerate(arrays))


def assert_close(actual, expected, *, rtol=None, atol=None, equal_nan=False, check_dtype=True, check_device=True, msg=None):
    """Raise AssertionError unless ``actual`` and ``expected`` are close, as ``torch.testing.assert_close``.

    Tensors, NumPy arrays, Python numbers and (nested) sequences or mappings of them. Elements
    match when ``|actual - expected| <= atol + rtol * |expected|``; the default tolerances
    follow the dtype (float32: rtol 1.3e-6, atol 1e-5; float64: 1e-7, 1e-7; integers and bool:
    exact). ``msg`` (a string, or a callable given the generated message) replaces the message.
    """
    if (rtol is None) != (atol is None):
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but got no {'rtol' if rtol is None else 'atol'}.")
    _compare(actual, expected, rtol, atol, equal_nan, check_dtype, check_device, msg, path="")


def _compare(actual, expected, rtol, atol, equal_nan, check_dtype, check_device, msg, path):
    where = f" at {path}" if path else ""
    if isinstance(actual, dict) and isinstance(expected, dict):
        if list(actual) != list(expected):
            _fail(f"The keys of the mappings do not match{where}: {list(actual)} != {list(expected)}", msg)
        for key in actual:
            _compare(actual[key], expected[key], rtol, atol, equal_nan, check_dtype, check_device, msg, f"{path}[{key!r}]")
        return
    if isinstance(actual, (list, tuple)) and isinstance(expected, (list, tuple)):
        if len(actual) != len(expected):
            _fail(f"The length of the sequences mismatch{where}: {len(actual)} != {len(expected)}", msg)
        for i, (a, e) in enumerate(zip(actual, expected)):
            _compare(a, e, rtol, atol, equal_nan, check_dtype, check_device, msg, f"{path}[{i}]")
        return
    a, a_dtype, a_device = _as_array(actual)
    e, e_dtype, e_device = _as_array(expected)
    same_dtype = a_dtype[0] == e_dtype[0]
    if a.shape != e.shape:
        _fail(f"The values for attribute 'shape' do not match{where}: {a.shape} != {e.shape}.", msg)
    if check_device and a_device is not None and e_device is not None and a_device != e_device:
        _fail(f"The values for attribute 'device' do not match{where}: {a_device} != {e_device}.", msg)
    if check_dtype and not same_dtype:
        _fail(f"The values for attribute 'dtype' do not match{where}: {a_dtype[1]} != {e_dtype[1]}.", msg)
    if rtol is None:
        rtol, atol = (max(t) for t in zip(_TOLERANCES.get(a.dtype.name, (0.0, 0.0)), _TOLERANCES.get(e.dtype.name, (0.0, 0.0))))
    if a.dtype.kind == "b" or e.dtype.kind == "b":
        close = a == e
    else:
        close = np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if bool(np.all(close)):
        return
    kind = "Scalars" if a.ndim == 0 and not isinstance(actual, (Tensor, np.ndarray)) else "Tensor-likes"
    _fail(f"{kind} are not close{where}!\n\n" + _mismatch_report(a, e, close, rtol, atol), msg)


def _as_array(value):
    """(NumPy array, (dtype key, dtype shown), device or None) of a tensor, an array or a number."""
    if isinstance(value, Tensor):
        return to_numpy(value._data), (value._data.dtype, str(value.dtype)), value.device
    if isinstance(value, np.ndarray | np.generic):
        array = np.asarray(value)
        return array, (array.dtype, str(array.dtype)), None
    if isinstance(value, bool | int | float):
        # Python numbers: the type must match (1 is not 1.0 when check_dtype), as in torch.
        return np.asarray(value, dtype=np.float64 if isinstance(value, float) else None), (type(value), type(value).__name__), None
    raise TypeError(f"assert_close compares tensors, arrays, numbers and sequences or mappings of them, got {type(value).__name__}")


def _mismatch_report(actual, expected, close, rtol, atol):
    mismatched = int((~close).sum())
    total = close.size
    a, e = actual.astype(np.float64), expected.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        abs_diff = np.where(close, 0.0, np.abs(a - e))
        rel_diff = np.where(close, 0.0, abs_diff / np.abs(e))
    abs_diff, rel_diff = np.nan_to_num(abs_diff, nan=np.inf), np.nan_to_num(rel_diff, nan=np.inf)
    lines = [f"Mismatched elements: {mismatched} / {total} ({100 * mismatched / total:.1f}%)"]
    for name, diff, allowed in (("absolute", abs_diff, atol), ("relative", rel_diff, rtol)):
        at = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.ndim else ()
        index = f" at index {tuple(int(i) for i in at)}" if diff.ndim else ""
        lines.append(f"Greatest {name} difference: {diff[at]:.6g}{index} (up to {allowed:g} allowed)")
    return "\n".join(lines)


def _fail(message, msg):
    if callable(msg):
        message = msg(message)
    elif msg is not None:
        message = msg
    raise AssertionError(message)
