"""Work on the CPU split over the cores, as PyTorch's ``parallel_for`` does.

NumPy runs a ufunc on one thread, and releases the GIL inside its loop, so that threads can run
the pieces of a large elementwise job in parallel: ``exp`` of the word-language-model decoder's
(700, 10000) float32 logits takes 11.3 ms on one AMD EPYC core and 5.7 ms on two; Adam's whole
update of the lecture MLP's 575,050 parameters 1.47 ms on one and 0.92 ms on two.

``run(function, bounds)`` runs ``function(lo, hi)`` for each consecutive pair of ``bounds``
(``pieces(count)`` cuts ``range(count)`` into one piece per thread); ``split_rows(function,
*arrays)`` runs ``function`` on row blocks of ``arrays``. The caller's thread takes the first
piece; pieces write only their own part of the output.

Whose threads run the other pieces:

- ``run``: NumPy's own OpenBLAS's (``_blas.POOL``), where NumPy has it. Its threads are already
  there, and after a matrix product they spin for a while waiting for the next one: a second pool
  of threads (Python's, below) then shares the other core with a spinning OpenBLAS thread.
  Measured on two AMD EPYC vCPUs: ``sqrt`` of 575,050 float32 took 199 us on one thread, 233-243
  us split over a Python helper thread, 130-142 us over OpenBLAS's; Adam's update on Python
  helpers was 4-7% slower inside the train step than on one thread, on OpenBLAS's threads 27%
  faster. A piece reaches OpenBLAS's thread through ``blas_level1_thread`` and a ctypes callback;
  BLAS calls made inside a piece run on the piece's own thread (OpenBLAS's count is 1 for the
  duration of a split), so a piece may multiply matrices (a convolution's block of samples). The
  server thread keeps the Python thread state of its first piece, so that later pieces only take
  the GIL (7-8 us a split instead of 18-30).
- ``split_rows`` (the transcendental ufuncs of ``_backend.unary``), and ``run`` where there is no
  such server (conda's MKL NumPy, Accelerate, ``TINYTORCH_BLAS`` set to ``mkl`` or ``numpy``):
  persistent Python helper threads, which sleep on a semaphore between pieces (20-40 us a
  hand-over). ``split_rows`` stays there because the Transformer LM benchmark measured it so:
  with its ``exp`` on OpenBLAS's threads a step took 120-150 ms against 80-100 ms, through some
  15,000 more minor page faults a step (glibc returning the heap's top to the system at each
  step's end and faulting it back; with ``MALLOC_TRIM_THRESHOLD_`` and ``MALLOC_MMAP_THRESHOLD_``
  set neither layout faults). docs/performance.md has the measurements.

The number of threads is ``torch.set_num_threads``'s (through ``set_threads``), by default the
cores this process may run on, and never more than OpenBLAS's own count when its threads are
used. One split runs at a time: a split asked for while another runs (from another thread, or
from inside a piece) runs on its caller's thread alone. A forked child starts without helpers
(threads do not survive a fork) and makes its own; OpenBLAS restarts its server itself.
"""

import ctypes
import os
import threading

import numpy as np

from . import _blas

# Fewest elements per piece: below it the hand-over costs more than the piece's share of the
# work (exp, float32, 2 AMD EPYC cores: 50k elements 64 against 66 us, 100k 128 against 98 us).
MIN_ELEMENTS = 1 << 16
SPLIT_MIN = 2 * MIN_ELEMENTS  # the smallest job worth splitting
# ``pieces`` cuts at multiples of this many elements: 64 bytes of float32, so that no cache
# line is written by two threads.
ALIGN = 16


def _available_cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


_threads = _available_cores()
_in_use = threading.Lock()  # one split at a time owns the other threads


def set_threads(n):
    """The threads parallel work may use (``torch.set_num_threads``)."""
    global _threads
    _threads = max(1, int(n))


class _Job:
    """One split: ``function(bounds[i], bounds[i + 1])`` for piece i, in the caller's NumPy error
    state (``errstate`` is per thread); errors are kept for the caller to raise."""

    __slots__ = ("function", "bounds", "error_state", "errors", "caller")

    def __init__(self, function, bounds):
        self.function, self.bounds = function, bounds
        self.error_state = np.geterr()
        self.errors = []
        self.caller = threading.get_ident()

    def run(self, index):
        try:
            if threading.get_ident() == self.caller:  # the caller's own error state holds here
                self.function(self.bounds[index], self.bounds[index + 1])
            else:
                with np.errstate(**self.error_state):
                    self.function(self.bounds[index], self.bounds[index + 1])
        except BaseException as error:  # handed back to the caller, which raises it
            self.errors.append(error)


class _ServerPool:
    """Pieces run by OpenBLAS's thread server (``_blas.POOL``); see the module's docstring."""

    _MODE = 3  # double precision, real, in both of OpenBLAS's numberings of its mode bits

    def __init__(self, level1, count):
        self._level1, self.count = level1, count
        self._alpha = ctypes.c_double(0.0)  # read by the server, unused here
        self._routine = _blas.POOL_ROUTINE(self._piece)
        self._local = threading.local()
        self._job = None
        self._shift = 0
        self.works = None  # unknown until checked (``check``)

    def _piece(self, m, n, k, alpha, a, lda, b, ldb, c, ldc, sb):
        # Piece i of a split of m = pieces into pieces of one arrives as a = i << shift.
        job = self._job
        if threading.get_ident() != job.caller and not getattr(self._local, "kept", False):
            # ctypes made this server thread a Python thread state for this call and would free it
            # on return; one more reference keeps it for the thread's next pieces.
            ctypes.pythonapi.PyGILState_Ensure()
            self._local.kept = True
        job.run((a or 0) >> self._shift)
        return 0

    def run(self, job, pieces):
        self._job = job
        try:
            with _blas.ONE_THREAD:  # BLAS calls inside a piece stay on its thread
                self._level1(self._MODE, pieces, 0, 0, ctypes.byref(self._alpha), None, 1, None, 1, None, 0,
                             self._routine, pieces)
        finally:
            self._job = None

    def check(self):
        """Whether the server does what this module relies on: two pieces, told apart by their
        offsets, the second on another thread, which sees OpenBLAS's count of 1 (so that a BLAS
        call inside a piece cannot wait for a server thread that is busy running that piece).
        Only with OpenBLAS's count at 2 or more: the server has a thread for the second piece."""
        probe = _Probe(self.count)
        self._shift = 0
        self.run(probe, 2)
        offsets = sorted(offset for offset, _, _ in probe.seen)
        self.works = (len(offsets) == 2 and offsets[0] == 0 and offsets[1] > 0 and offsets[1] & (offsets[1] - 1) == 0
                      and len({ident for _, ident, _ in probe.seen}) == 2 and all(c == 1 for _, _, c in probe.seen))
        self._shift = offsets[1].bit_length() - 1 if self.works else 0
        return self.works


class _Probe:
    """What ``_ServerPool.check`` sends: each piece's raw offset, thread and OpenBLAS count."""

    def __init__(self, count):
        self.count, self.seen, self.caller = count, [], threading.get_ident()

    def run(self, offset):
        self.seen.append((offset, threading.get_ident(), self.count()))


class _Helper:
    """One persistent Python thread that runs the pieces handed to it."""

    def __init__(self):
        self._lock = threading.Lock()
        self._posted = threading.Semaphore(0)
        self._finished = threading.Semaphore(0)
        self._job = None
        threading.Thread(target=self._loop, name="tinytorch-parallel", daemon=True).start()

    def _loop(self):
        while True:
            self._posted.acquire()
            with self._lock:
                job, self._job = self._job, None
            if job is not None:  # else the caller took the piece back
                job()
                self._finished.release()

    def post(self, job):
        self._job = job
        self._posted.release()

    def take_back(self):
        """The posted piece if the thread has not started it (the caller then runs it), else None
        once the thread has finished it."""
        with self._lock:
            job, self._job = self._job, None
        if job is None:
            self._finished.acquire()
        return job


class _HelperPool:
    """Pieces run by persistent Python threads; a piece nobody has picked up when the caller is
    done with its own is run by the caller, so a busy machine costs at most the hand-over."""

    def __init__(self):
        self._helpers = []

    def run(self, job, pieces):
        while len(self._helpers) < pieces - 1:
            self._helpers.append(_Helper())
        helpers = self._helpers[:pieces - 1]
        for index, helper in enumerate(helpers, 1):
            helper.post(lambda index=index: job.run(index))
        try:
            job.run(0)
        finally:
            for helper in helpers:  # every piece finished, here or there, before returning
                piece = helper.take_back()
                if piece is not None:
                    piece()


_server = _ServerPool(*_blas.POOL) if _blas.POOL else None
_helpers = _HelperPool()


def _forget_helpers():
    global _helpers, _in_use
    _helpers, _in_use = _HelperPool(), threading.Lock()
    if _server is not None:
        _server._local = threading.local()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_helpers)


def _width():
    """How many pieces may run at once."""
    if _server is not None and _server.works is not False:
        return min(_threads, _server.count())
    return _threads


def on_server():
    """Whether a split would run on OpenBLAS's threads now: work that calls BLAS inside its pieces
    is split only there (on Python's threads each piece's products would start OpenBLAS's threads
    as well), and only when no other split holds them."""
    return (_threads > 1 and _server is not None and _server.works is not False and _server.count() > 1
            and not _in_use.locked())


def _pool(pieces):
    """Whose threads run ``pieces`` pieces (called holding ``_in_use``): OpenBLAS's once they have
    passed the check and while it has that many, else Python's."""
    if (_server is not None and _server.works is not False and _server.count() >= pieces
            and (_server.works or _server.check())):
        return _server
    return _helpers


def blocks(rows, elements):
    """How many row blocks ``split_rows`` would use for ``rows`` rows of ``elements`` elements."""
    if _threads < 2 or elements < SPLIT_MIN or rows < 2:
        return 1
    return min(_threads, rows, elements // MIN_ELEMENTS)


def run(function, bounds, helpers=False):
    """``function(lo, hi)`` for each consecutive pair of ``bounds``, in parallel when the threads
    are free (on Python's helper threads with ``helpers``), and every error raised after every
    piece has finished (the caller's first). The pieces' own Python should be short: the threads
    take turns at the GIL, and a thread that waits for it sleeps (20-40 us to wake on a VM)."""
    pieces = len(bounds) - 1
    if pieces > 1 and _in_use.acquire(blocking=False):
        try:
            job = _Job(function, bounds)
            (_helpers if helpers else _pool(pieces)).run(job, pieces)
        finally:
            _in_use.release()
        if job.errors:
            raise job.errors[0]
        return
    for lo, hi in zip(bounds, bounds[1:]):  # another split holds the threads: this one runs here
        function(lo, hi)


def split_rows(function, *arrays):
    """``function(*arrays)``, run as ``function(*(a[lo:hi] for a in arrays))`` on row blocks in
    parallel when the arrays are large enough. ``function`` must only write into its blocks; the
    caller's NumPy error state (``errstate``) holds in every thread."""
    rows = arrays[0].shape[0] if arrays[0].ndim else 0
    count = blocks(rows, arrays[0].size)
    if count == 1:
        function(*arrays)
        return
    run(lambda lo, hi: function(*(a[lo:hi] for a in arrays)), [rows * i // count for i in range(count + 1)], helpers=True)


def server_pieces(count, minimum=0, align=ALIGN):
    """``pieces(count, minimum, align)`` where they would run on OpenBLAS's threads now
    (``on_server``), else ``[0, count]``: the bounds for ``run`` of every split that is measured
    to gain only there (the optimizers' updates, convolutions, pooling, ReLU)."""
    if count < minimum or count < 2 * align or not on_server():  # the cheap tests first: a hot path
        return [0, count]
    return pieces(count, minimum, align)


def pieces(count, minimum=SPLIT_MIN, align=ALIGN):
    """Where ``range(count)`` is cut for ``run``: the bounds of as many pieces as there are threads,
    at multiples of ``align`` (``ALIGN`` elements: no cache line shared), or ``[0, count]`` (one
    piece) below ``minimum``."""
    width = 1
    if _threads > 1 and count >= minimum and count >= 2 * align:
        width = min(_width(), count // align)
    if width <= 1:
        return [0, count]
    units = -(-count // align)
    return [min(count, units * i // width * align) for i in range(width)] + [count]
