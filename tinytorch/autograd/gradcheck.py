"""Check analytical gradients against float64 central finite differences."""

import warnings

import numpy as np

from .._backend import array_module, to_numpy
from ._api import grad as autograd_grad
from .grad_mode import enable_grad, no_grad


class GradcheckError(RuntimeError):
    """Raised by gradcheck when analytical and numerical gradients disagree."""


def _differentiable(inputs):
    return [i for i, x in enumerate(inputs) if isinstance(x, _tensor.Tensor) and x.requires_grad]


def _outputs(fn, inputs):
    out = fn(*inputs)
    return out if isinstance(out, (tuple, list)) else (out,)


def _central_differences(evaluate, flat, eps, out):
    """``out[k] = (evaluate() at flat[k] + eps - evaluate() at flat[k] - eps) / (2 eps)`` for each
    element k of ``flat`` (an array changed in place and restored); returns ``out``. The one
    finite-difference loop: gradcheck and tinytorch.testing both use it."""
    for k in range(flat.size):
        original = flat[k].item()
        flat[k] = original + eps
        plus = evaluate()
        flat[k] = original - eps
        minus = evaluate()
        flat[k] = original
        out[k] = (plus - minus) / (2 * eps)
    return out


def numerical_jacobian(fn, inputs, index, output_index, eps):
    """d outputs[output_index] / d inputs[index], by central differences on each element."""
    flat = inputs[index]._data.reshape(-1)

    def output():
        return to_numpy(_outputs(fn, inputs)[output_index]._data).astype(np.float64).ravel()

    with no_grad():
        size = _outputs(fn, inputs)[output_index]._data.size
        return _central_differences(output, flat, eps, np.zeros((flat.size, size)))


def analytical_jacobian(fn, inputs, index, output_index):
    out = _outputs(fn, inputs)[output_index]
    rows = np.zeros((inputs[index]._data.size, out._data.size))
    xp_zeros = np.zeros(out._data.shape, dtype=out._data.dtype)
    for j in range(out._data.size):
        seed = xp_zeros.copy()
        seed.reshape(-1)[j] = 1
        seed_t = _tensor.Tensor._make(seed)
        if out.device.type != "cpu":
            seed_t = seed_t.to(out.device)
        (g,) = autograd_grad(out, inputs[index], seed_t, retain_graph=True, allow_unused=True)
        if g is not None:
            rows[:, j] = to_numpy(g._data).astype(np.float64).ravel()
    return rows


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, **_ignored):
    """True when ``func``'s gradients match central differences; inputs should be float64."""
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    for x in inputs:
        if isinstance(x, _tensor.Tensor) and x.requires_grad and x._data.dtype != np.float64:
            warnings.warn("Input is not a double precision floating point tensor: gradcheck may fail with float32 precision.", UserWarning, stacklevel=2)
    outputs = _outputs(func, inputs)
    for output_index, out in enumerate(outputs):
        if not isinstance(out, _tensor.Tensor) or not out.requires_grad:
            continue
        for index in _differentiable(inputs):
            numerical = numerical_jacobian(func, inputs, index, output_index, eps)
            analytical = analytical_jacobian(func, inputs, index, output_index)
            if not np.allclose(analytical, numerical, rtol=rtol, atol=atol, equal_nan=False):
                if raise_exception:
                    raise GradcheckError(
                        f"Jacobian mismatch for output {output_index} with respect to input {index},\n"
                        f"numerical:{numerical}\nanalytical:{analytical}\n"
                    )
                return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """gradcheck of the gradient itself (second derivatives through create_graph=True)."""
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    diff = _differentiable(inputs)

    def first_derivative(*xs):
        with enable_grad():
            return _first_derivative(*xs)

    def _first_derivative(*xs):
        outs = _outputs(func, xs)
        # Ones on each output's own device (a NumPy seed for a CUDA output is refused by the engine).
        seeds = grad_outputs or tuple(_tensor.Tensor._make(array_module(o._data).ones(o._data.shape, dtype=o._data.dtype)) for o in outs)
        grads = autograd_grad(outs, [xs[i] for i in diff], seeds, create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivative, inputs, eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception)


# Imported last (a cycle): _tensor imports the autograd package, and Tensor is looked up at call time.
from .. import _tensor as _tensor  # noqa: E402
