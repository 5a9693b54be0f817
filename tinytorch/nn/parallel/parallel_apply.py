"""``parallel_apply``: run each replica on its own device, one thread per replica."""

import threading

from ... import _backend as backend
from ... import accelerator
from ...autograd.grad_mode import is_grad_enabled, set_grad_enabled
from ..._tensor import Tensor
from ...utils.data._worker import ExceptionWrapper
from ._device_index import get_device_index

__all__ = ["get_a_var", "parallel_apply"]


def get_a_var(obj):
    """The first tensor found in ``obj`` (a tensor, or lists, tuples and dicts of them), else None."""
    if isinstance(obj, Tensor):
        return obj
    if isinstance(obj, (list, tuple)):
        for result in map(get_a_var, obj):
            if isinstance(result, Tensor):
                return result
    if isinstance(obj, dict):
        for result in map(get_a_var, obj.items()):
            if isinstance(result, Tensor):
                return result
    return None


def parallel_apply(modules, inputs, kwargs_tup=None, devices=None):
    """Call ``modules[i](*inputs[i], **kwargs_tup[i])`` on ``devices[i]``, each in its own thread
    (one module runs in the calling thread), and return the outputs in order. An ``inputs[i]``
    that is not a list or tuple is the module's only argument. An exception in a replica is
    re-raised here, of the same type, with the replica's traceback in its message.

    Grad mode is per thread: each replica's thread takes the caller's, as PyTorch's workers do.
    """
    if len(modules) != len(inputs):
        raise AssertionError(f"The number of modules {len(modules)} is not equal to the number of inputs {len(inputs)}")
    if kwargs_tup is not None:
        if len(modules) != len(kwargs_tup):
            raise AssertionError(
                f"The number of modules {len(modules)} is not equal to the number of kwargs_tup {len(kwargs_tup)}"
            )
    else:
        kwargs_tup = ({},) * len(modules)
    if devices is not None:
        if len(modules) != len(devices):
            raise AssertionError(
                f"The number of modules {len(modules)} is not equal to the number of devices {len(devices)}"
            )
    else:
        devices = [None] * len(modules)
    devices = [get_device_index(x, True) for x in devices]
    if not accelerator.is_available():
        # PyTorch fails here too (it asks the accelerator for each device's stream).
        raise RuntimeError("Cannot access accelerator device when none is available.")
    lock = threading.Lock()
    results = {}
    grad_enabled = is_grad_enabled()

    def _worker(i, module, input, kwargs, device=None):
        if device is None:
            t = get_a_var(input)
            if t is None:
                with lock:
                    results[i] = ExceptionWrapper(
                        where=f"in replica {i}, no device was provided and no tensor input was found; "
                        "device cannot be resolved"
                    )
                return
            device = t.get_device()
        try:
            # CuPy's current device is per thread: this replica's new arrays land on its device.
            with backend.on_device(backend.device("cuda", device)), set_grad_enabled(grad_enabled):
                # this also avoids accidental slicing of `input` if it is a Tensor
                if not isinstance(input, (list, tuple)):
                    input = (input,)
                output = module(*input, **kwargs)
            with lock:
                results[i] = output
        except Exception:
            with lock:
                results[i] = ExceptionWrapper(where=f"in replica {i} on device {device}")

    if len(modules) > 1:
        threads = [threading.Thread(target=_worker, args=(i, module, input, kwargs, device))
                   for i, (module, input, kwargs, device) in enumerate(zip(modules, inputs, kwargs_tup, devices, strict=True))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    else:
        _worker(0, modules[0], inputs[0], kwargs_tup[0], devices[0])

    outputs = []
    for i in range(len(inputs)):
        output = results[i]
        if isinstance(output, ExceptionWrapper):
            output.reraise()
        outputs.append(output)
    return outputs
