"""``Work``: the handle of a communication in flight (what ``async_op=True`` returns).

Every wait polls against a deadline, so a peer that died or never joins the collective makes this
rank raise ``DistBackendError`` after the group's timeout instead of hanging for ever.
"""

import datetime
import os
import threading
import time

from ._errors import DistBackendError

# How a wait polls: as MPICH's own blocking calls do, it spins and yields the CPU every so many
# polls (a peer on the same core gets to run and make progress); a wait that has lasted long
# (a peer still computing, rank 0 evaluating) sleeps between polls instead of burning a core.
_POLLS_BEFORE_YIELD = 100
_SPIN_SECONDS = 0.1
_SLEEP_SECONDS = 0.001
_yield = getattr(os, "sched_yield", lambda: time.sleep(0))


def _check_timeout(timeout):
    if timeout is not None and not isinstance(timeout, datetime.timedelta):
        raise TypeError(f"wait(): timeout must be a datetime.timedelta, got {type(timeout).__name__}")


class Work:
    """A collective or point-to-point operation started by ``tinytorch.distributed``.

    ``wait()`` blocks until it is done (and raises ``DistBackendError`` after the timeout);
    ``is_completed()`` asks without blocking. The tensors it writes hold the result once either
    says it is done.
    """

    def __init__(self, description, group, poll, finish=None, result=()):
        self._description = description  # e.g. "all_reduce (SeqNum=3, numel=10, dtype=float32)"
        self._group = group
        self._poll = poll  # () -> bool: whether the transport has finished
        self._finish = finish  # run once when done: copies out of staging buffers, AVG's division
        self._result = list(result)
        self._done = False
        self._exception = None
        self._source_rank = -1
        # MPI forbids two threads testing one request at once (MPICH fails with "INTERNAL ERROR:
        # unexpected value in case statement"); DDP's progress thread and this rank's own calls
        # (``_keep``, ``wait``) both test, so every test goes through ``_test`` and this lock.
        self._testing = threading.Lock()
        group._keep(self)

    def _test(self):
        """Whether the transport has finished; False while another thread is testing it."""
        if not self._testing.acquire(blocking=False):
            return False
        try:
            return self._poll()
        finally:
            self._testing.release()

    def _complete(self):
        if not self._done:
            self._done = True
            if self._finish is not None:
                finish, self._finish = self._finish, None
                finish(self)

    def is_completed(self):
        """Whether the operation has finished (never blocks)."""
        if not self._done and self._test():
            self._complete()
        return self._done

    def is_success(self):
        if not self._done:
            raise RuntimeError("Invalid call to Work::isSuccess before work has completed")
        return self._exception is None

    def exception(self):
        return self._exception

    def wait(self, timeout=None):
        """Block until the operation has finished; ``DistBackendError`` after ``timeout`` (a
        ``datetime.timedelta``; the process group's timeout by default). Returns True."""
        if timeout is not None:
            _check_timeout(timeout)
        if self._done:
            return True
        if self._test():  # the common case: already done, no deadline to compute
            self._complete()
            return True
        if timeout is None or timeout == datetime.timedelta(0):
            timeout = self._group._timeout
        self._group._check_usable()
        start = time.monotonic()
        deadline = start + timeout.total_seconds()
        poll = self._test
        polls = 0
        while not poll():
            polls += 1
            if polls % _POLLS_BEFORE_YIELD:
                continue
            now = time.monotonic()
            if now > deadline:
                self._exception = DistBackendError(
                    f"[Rank {self._group._global_rank}] {self._description} timed out after {timeout} "
                    f"(backend {self._group._backend_name}, ranks {self._group._ranks}): a peer rank exited, "
                    "crashed or is stuck, or the ranks called different collectives. This process group "
                    "cannot be used any more."
                )
                self._group._break(self._exception)
                raise self._exception
            if now - start > _SPIN_SECONDS:
                time.sleep(_SLEEP_SECONDS)
            else:
                _yield()
        self._complete()
        return True

    def synchronize(self):
        self.wait()

    def source_rank(self):
        """The rank a ``recv`` from any source got its message from."""
        if not self._done:
            raise RuntimeError("source_rank() is only valid once the work has completed")
        return self._source_rank

    def result(self):
        """The tensors this operation wrote."""
        return list(self._result)

    def get_future(self):
        """A future of this operation: its ``wait()`` waits and returns the tensors written."""
        return _Future(self)

    def __repr__(self):
        state = "completed" if self._done else "in flight"
        return f"<tinytorch.distributed.Work {self._description}: {state}>"


class _Future:
    """What ``Work.get_future()`` (and the deprecated coalesced collectives with ``async_op=True``)
    return: the part of ``torch.futures.Future`` a caller of them uses (``wait``, ``value``,
    ``done``, ``then``, ``add_done_callback``), over a ``Work``. Callbacks run when ``wait()``
    or ``done()`` first sees the work finished (no thread runs them earlier)."""

    def __init__(self, work):
        self._work = work
        self._callbacks = []

    def done(self):
        """Whether the operation has finished (never blocks)."""
        if self._work.is_completed():
            self._run_callbacks()
            return True
        return False

    def wait(self):
        """Block until the operation has finished; the tensors it wrote."""
        self._work.wait()
        self._run_callbacks()
        return self._work.result()

    def value(self):
        """The tensors written (the operation must have finished)."""
        if not self._work.is_completed():
            raise RuntimeError("Future::value() called before the future completed")
        return self._work.result()

    def add_done_callback(self, callback):
        """Run ``callback(future)`` once the operation has finished."""
        self._callbacks.append(callback)
        if self._work._done:
            self._run_callbacks()

    def then(self, callback):
        """A future of ``callback(this future)``, run once the operation has finished."""
        return _ThenFuture(self, callback)

    def _run_callbacks(self):
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback(self)


class _ThenFuture(_Future):
    """``future.then(callback)``: waits for its parent, then holds ``callback(parent)``."""

    def __init__(self, parent, callback):
        self._parent, self._callback, self._callbacks = parent, callback, []
        self._has_value, self._value = False, None

    def done(self):
        return self._has_value or (self._parent.done() and self._resolve())

    def _resolve(self):
        if not self._has_value:
            self._value, self._has_value = self._callback(self._parent), True
            self._run_callbacks()
        return True

    def wait(self):
        self._parent.wait()
        self._resolve()
        return self._value

    def value(self):
        if not self.done():
            raise RuntimeError("Future::value() called before the future completed")
        return self._value

    def add_done_callback(self, callback):
        self._callbacks.append(callback)
        if self._has_value:
            self._run_callbacks()
