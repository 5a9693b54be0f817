"""Large elementwise work on the CPU split over the cores, as PyTorch's ``parallel_for`` does.

NumPy runs a ufunc on one thread. For transcendental functions over large arrays that is
compute-bound: ``exp`` of the word-language-model decoder's (700, 10000) float32 logits takes
11.3 ms on one AMD EPYC core, against 5.7 ms split over two threads (PyTorch: 3.6 ms on two).
NumPy releases the GIL inside a ufunc's loop, so Python threads run the pieces in parallel.

``split_rows(function, *arrays)`` runs ``function`` on row blocks of ``arrays`` (their first
dimension), the caller's thread taking the first block and persistent helper threads the others.
Handing a block over costs some 20-40 us (a semaphore and the GIL), so only arrays of at least
``MIN_ELEMENTS`` per block are split; a block nobody has picked up when the caller is done is run
by the caller, so a busy machine costs at most that hand-over. Memory-bound work (a ReLU, an add)
does not gain from a second thread on two cores and is not sent here (measured: ReLU of 1024 x 512
float32, 113 against 104 us).

The number of threads is ``torch.set_num_threads``'s (through ``set_threads``), by default the
cores this process may run on. A forked child starts without helpers (threads do not survive a
fork) and makes its own when it needs them.
"""

import os
import threading

import numpy as np

# Fewest elements per block: below it the hand-over costs more than the block's share of the
# work (exp, float32, 2 AMD EPYC cores: 50k elements 64 against 66 us, 100k 128 against 98 us).
MIN_ELEMENTS = 1 << 16
SPLIT_MIN = 2 * MIN_ELEMENTS  # the smallest array worth splitting


def _available_cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


_threads = _available_cores()
_helpers = []
_helpers_lock = threading.Lock()
_in_use = threading.Lock()  # one split at a time owns the helpers


def set_threads(n):
    """The threads elementwise work may use (``torch.set_num_threads``)."""
    global _threads
    _threads = max(1, int(n))


class _Helper:
    """One persistent thread that runs the blocks handed to it."""

    def __init__(self):
        self._lock = threading.Lock()
        self._posted = threading.Semaphore(0)
        self._finished = threading.Semaphore(0)
        self._job = None
        self.error = None
        threading.Thread(target=self._loop, name="tinytorch-elementwise", daemon=True).start()

    def _loop(self):
        while True:
            self._posted.acquire()
            with self._lock:
                job, self._job = self._job, None
            if job is None:  # the caller took the block back
                continue
            try:
                job()
            except BaseException as error:  # handed back to the caller, which raises it
                self.error = error
            self._finished.release()

    def post(self, job):
        self._job = job
        self._posted.release()

    def take_back(self):
        """The posted job if the thread has not started it (the caller then runs it), else None
        once the thread has finished it; an error the job raised there is kept in ``error``."""
        with self._lock:
            job, self._job = self._job, None
        if job is None:
            self._finished.acquire()
        return job


def _get_helpers(count):
    with _helpers_lock:
        while len(_helpers) < count:
            _helpers.append(_Helper())
        return _helpers[:count]


def _forget_helpers():
    global _helpers_lock, _in_use
    _helpers.clear()
    _helpers_lock, _in_use = threading.Lock(), threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_helpers)


def blocks(rows, elements):
    """How many row blocks ``split_rows`` would use for ``rows`` rows of ``elements`` elements."""
    if _threads < 2 or elements < SPLIT_MIN or rows < 2:
        return 1
    return min(_threads, rows, elements // MIN_ELEMENTS)


def split_rows(function, *arrays):
    """``function(*arrays)``, run as ``function(*(a[lo:hi] for a in arrays))`` on row blocks in
    parallel when the arrays are large enough. ``function`` must only write into its blocks; the
    caller's NumPy error state (``errstate``) holds in every thread."""
    rows = arrays[0].shape[0] if arrays[0].ndim else 0
    count = blocks(rows, arrays[0].size)
    if count == 1:
        function(*arrays)
        return
    bounds = [rows * i // count for i in range(count + 1)]
    error_state = np.geterr()

    def block(lo, hi):
        def run():
            with np.errstate(**error_state):
                function(*(a[lo:hi] for a in arrays))
        return run

    if not _in_use.acquire(blocking=False):  # another thread's split is running: no helpers free
        function(*arrays)
        return
    try:
        helpers = _get_helpers(count - 1)
        for helper, lo, hi in zip(helpers, bounds[1:], bounds[2:]):
            helper.post(block(lo, hi))
        errors = []
        try:
            function(*(a[: bounds[1]] for a in arrays))
        finally:
            # Every posted block is finished (here or there) and every helper's error collected
            # before anything returns or raises (the caller's own error first).
            for helper in helpers:
                job = helper.take_back()
                if job is not None:
                    try:
                        job()
                    except BaseException as error:
                        errors.append(error)
                elif helper.error is not None:
                    errors.append(helper.error)
                helper.error = None
        if errors:
            raise errors[0]
    finally:
        _in_use.release()
