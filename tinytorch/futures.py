"""``torch.futures``: a value that a computation (often a communication) will set later.

DDP's communication hooks return one (``DistributedDataParallel.register_comm_hook``), and a hook
that does not communicate builds one itself (``fut = Future(); fut.set_result(bucket.buffer())``).
A ``Future`` is set once, by ``set_result`` or ``set_exception``, from any thread; ``wait()`` blocks
until then. Callbacks (``then``, ``add_done_callback``) run in the thread that sets it, or at once
when it is already set. ``Work.get_future()`` returns the distributed package's own future over a
``Work`` (it completes when waited on), which has the same methods.
"""

import threading
import traceback
from typing import Generic, TypeVar

__all__ = ["Future", "collect_all", "wait_all"]

T = TypeVar("T")
S = TypeVar("S")


class Future(Generic[T]):
    """A placeholder for a result that is set once, later (``set_result``/``set_exception``)."""

    def __init__(self, *, devices=None):
        # devices: PyTorch's CUDA stream bookkeeping; one stream per device here, so nothing to record.
        self._devices = devices
        self._condition = threading.Condition()
        self._done = False
        self._value = None
        self._exception = None
        self._callbacks = []

    def done(self):
        """Whether the value (or an exception) is set; never blocks."""
        return self._done

    def wait(self):
        """Block until the future is set; its value (or raise the exception it holds)."""
        with self._condition:
            while not self._done:
                self._condition.wait()
        return self.value()

    def value(self):
        """The value of a completed future (its exception is raised instead, if it holds one)."""
        if not self._done:
            raise RuntimeError("Future::value() called before the future completed: wait() for it first")
        if self._exception is not None:
            raise self._exception
        return self._value

    def then(self, callback):
        """A new future holding ``callback(self)``, run once this one is set (at once if it is)."""
        child = Future(devices=self._devices)

        def run(parent):
            try:
                result = callback(parent)
            except Exception as error:  # noqa: BLE001  (handed to the child, as PyTorch does)
                child.set_exception(RuntimeError(
                    f"Got the following error when running the callback: {type(error).__name__}: {error}\n\n"
                    f"{''.join(traceback.format_exception(error))}"
                ))
            else:
                child.set_result(result)

        self.add_done_callback(run)
        return child

    def add_done_callback(self, callback):
        """Run ``callback(self)`` once the future is set (at once if it is). An exception the
        callback raises is reported on stderr and otherwise ignored, as in PyTorch."""
        if not callable(callback):
            raise TypeError(f"add_done_callback(): the callback must be callable, got {type(callback).__name__}")
        with self._condition:
            if not self._done:
                self._callbacks.append(callback)
                return
        _run_callback(callback, self)

    def set_result(self, result):
        """Set the value, wake the waiters and run the callbacks."""
        self._complete(result, None)

    def set_exception(self, result):
        """Set an exception, which ``wait()`` and ``value()`` will raise."""
        if not isinstance(result, Exception):
            raise AssertionError(f"{result} is of type {type(result)}, not an Exception.")
        self._complete(None, result)

    def _complete(self, value, exception):
        with self._condition:
            if self._done:
                raise RuntimeError(
                    "Attempting to mark a completed Future as complete again. Note that a Future can only be "
                    "marked completed once."
                )
            self._value, self._exception, self._done = value, exception, True
            callbacks, self._callbacks = self._callbacks, []
            self._condition.notify_all()
        for callback in callbacks:
            _run_callback(callback, self)

    def __repr__(self):
        state = "done" if self._done else "pending"
        return f"<tinytorch.futures.Future {state}>"


def _run_callback(callback, future):
    try:
        callback(future)
    except Exception:  # noqa: BLE001  (a done-callback's error does not reach the setter, as in PyTorch)
        traceback.print_exc()


def collect_all(futures):
    """A future that completes when every one of ``futures`` has; its value is the list of them."""
    if not isinstance(futures, (list, tuple)):
        raise TypeError(f"collect_all(): expected a list of futures, got {type(futures).__name__}")
    futures = list(futures)
    combined = Future()
    remaining = [len(futures)]
    lock = threading.Lock()
    if not futures:
        combined.set_result([])
        return combined

    def one_done(_):
        with lock:
            remaining[0] -= 1
            last = remaining[0] == 0
        if last:
            errors = [f for f in futures if _exception_of(f) is not None]
            if errors:
                combined.set_exception(_exception_of(errors[0]))
            else:
                combined.set_result(futures)

    for future in futures:
        if isinstance(future, Future):
            future.add_done_callback(one_done)
        else:  # the distributed package's future over a Work completes only when waited on
            future.wait()
            one_done(future)
    return combined


def wait_all(futures):
    """Wait for every one of ``futures``; the list of their values (the first error is raised)."""
    return [future.wait() for future in collect_all(futures).wait()]


def _exception_of(future):
    try:
        future.value()
    except Exception as error:  # noqa: BLE001  (what the future holds)
        return error
    return None
