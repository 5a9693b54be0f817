"""``DataLoader``: batches from a dataset, in the main process or in worker processes, with
PyTorch's arguments, validation and semantics."""

import contextlib
import itertools
import math
import os
import queue
import signal
import threading
import time
import warnings
import weakref

from ... import cuda as _cuda
from . import _worker
from ._collate import default_collate, default_convert
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler, _draw_seed

# How long the main process waits for a worker to exit before terminating it (seconds).
_SHUTDOWN_TIMEOUT = 5.0


def _multiprocessing():
    """The standard library's multiprocessing, imported when workers are first asked for: most
    programs load in the main process, and importing it (with its socket, selectors and subprocess
    modules) costs every process ~1 MiB."""
    import multiprocessing.connection

    return multiprocessing


class _InfiniteConstantSampler:
    """The sampler of an IterableDataset: the dataset decides what comes next."""

    def __iter__(self):
        return itertools.repeat(None)


class DataLoader:
    """Iterate over ``dataset`` in batches: ``for x, y in DataLoader(ds, batch_size=64, shuffle=True)``.

    ``num_workers > 0`` loads batches in that many worker processes and still yields them in order.
    ``pin_memory`` is accepted and ignored (tinytorch copies host arrays to a GPU with CuPy).
    """

    _initialized = False

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 to enable "
                "multiprocessing, otherwise set prefetch_factor to None."
            )
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context

        self._is_iterable = isinstance(dataset, IterableDataset)
        if self._is_iterable:
            if shuffle not in {False, None}:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(
                    f"DataLoader with IterableDataset: expected unspecified batch_sampler option, but got batch_sampler={batch_sampler}"
                )
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")

        if sampler is None:
            if self._is_iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self._iterator = None
        self._initialized = True
        self._check_worker_number()

    @property
    def multiprocessing_context(self):
        return self._multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, context):
        if context is not None:
            if self.num_workers == 0:
                raise ValueError(
                    "multiprocessing_context can only be used with multi-process loading (num_workers > 0), "
                    f"but got num_workers={self.num_workers}"
                )
            if isinstance(context, str):
                methods = _multiprocessing().get_all_start_methods()
                if context not in methods:
                    raise ValueError(
                        f"multiprocessing_context option should specify a valid start method in {methods!r}, "
                        f"but got multiprocessing_context={context!r}"
                    )
                context = _multiprocessing().get_context(context)
            if not isinstance(context, _multiprocessing().context.BaseContext):
                raise TypeError(
                    "multiprocessing_context option should be a valid context object or a string specifying "
                    f"the start method, but got multiprocessing_context={context}"
                )
        self._multiprocessing_context = context

    def __setattr__(self, name, value):
        if self._initialized and name in ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers"):
            raise ValueError(f"{name} attribute should not be set after {type(self).__name__} is initialized")
        super().__setattr__(name, value)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        # What the fetcher is fed: lists of indices when batching, single indices otherwise.
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self):
        """A fresh iterator (a new epoch); persistent workers are reused across epochs."""
        if self.persistent_workers and self.num_workers > 0:
            if self._iterator is None:
                self._iterator = _MultiProcessingIterator(self)
            else:
                self._iterator._reset(self)
            return self._iterator
        if self.num_workers == 0:
            return _SingleProcessIterator(self)
        return _MultiProcessingIterator(self)

    def __len__(self):
        if self._is_iterable:
            length = len(self.dataset)
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last else math.ceil(length / self.batch_size)
            return length
        return len(self._index_sampler)

    def _check_worker_number(self):
        try:
            cpus = len(os.sched_getaffinity(0))
        except AttributeError:
            cpus = os.cpu_count()
        if self.num_workers > 1 and cpus and self.num_workers > cpus:
            warnings.warn(
                f"This DataLoader will create {self.num_workers} worker processes in total. Our suggested max number "
                f"of worker in current system is {cpus}, which is smaller than what this DataLoader is going to create. "
                "Please be aware that excessive worker creation might get DataLoader running slow or even freeze, "
                "lower the worker number to avoid potential slowness/freeze if necessary.",
                stacklevel=3,
            )


class _BaseIterator:
    def __init__(self, loader):
        self._dataset = loader.dataset
        self._is_iterable = loader._is_iterable
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        self._timeout = loader.timeout
        self._collate_fn = loader.collate_fn
        self._persistent_workers = loader.persistent_workers
        self._sampler_iter = iter(self._index_sampler)
        # Drawn in both modes, so the random stream (and shuffling) is the same with and without workers.
        self._base_seed = _draw_seed(loader.generator)
        if loader.pin_memory:
            if not _cuda.is_available():
                warnings.warn(
                    "'pin_memory' argument is set as true but no accelerator is found, then device pinned memory won't be used.",
                    stacklevel=3,
                )

    def __iter__(self):
        return self

    def __next__(self):
        return self._next_data()

    def __len__(self):
        return len(self._index_sampler)

    def _reset(self, loader, first_iter=False):
        self._sampler_iter = iter(self._index_sampler)

    def _next_index(self):
        return next(self._sampler_iter)  # StopIteration ends the epoch

    def __getstate__(self):
        raise NotImplementedError(f"{type(self).__name__} cannot be pickled")


class _SingleProcessIterator(_BaseIterator):
    def __init__(self, loader):
        super().__init__(loader)
        self._fetcher = _worker.create_fetcher(
            self._is_iterable, self._dataset, self._auto_collation, self._collate_fn, self._drop_last
        )

    def _next_data(self):
        return self._fetcher.fetch(self._next_index())


class _MultiProcessingIterator(_BaseIterator):
    """Workers fetch index batches sent round-robin; results are reordered by task number.

    Each worker has its own index queue; all share one result queue. At most
    ``prefetch_factor * num_workers`` tasks are outstanding.
    """

    def __init__(self, loader):
        super().__init__(loader)
        self._prefetch_factor = loader.prefetch_factor
        context = loader.multiprocessing_context or _multiprocessing().get_context()
        self._result_queue = context.Queue()
        self._done_event = context.Event()
        self._worker_error = None
        self._index_queues, self._workers = [], []
        for worker_id in range(self._num_workers):
            index_queue = context.Queue()
            index_queue.cancel_join_thread()  # never block our exit on a dead worker's pipe
            worker = context.Process(
                target=_worker.worker_loop,
                args=(self._is_iterable, self._dataset, index_queue, self._result_queue, self._done_event,
                      self._auto_collation, self._collate_fn, self._drop_last, self._base_seed,
                      loader.worker_init_fn, worker_id, self._num_workers, os.getpid()),
                daemon=True,
            )
            worker.start()
            self._index_queues.append(index_queue)
            self._workers.append(worker)
        # Runs when this iterator is collected, or at interpreter exit: workers never outlive us.
        self._shutdown = weakref.finalize(
            self, _shutdown_workers, self._workers, self._index_queues, self._result_queue, self._done_event
        )
        self._reset(loader, first_iter=True)

    def _reset(self, loader, first_iter=False):
        super()._reset(loader, first_iter)
        self._send_idx = 0  # next task number to send
        self._rcvd_idx = 0  # next task number to yield
        self._task_info = {}  # task number -> (worker id,) while pending, (worker id, data) when early
        self._workers_status = [True] * self._num_workers
        self._worker_cycle = itertools.cycle(range(self._num_workers))
        if not first_iter:
            # Persistent workers: start a new epoch and drop the previous epoch's late results.
            for index_queue in self._index_queues:
                index_queue.put(_worker.ResumeIteration())
            acknowledged = 0
            while acknowledged < self._num_workers:
                task_index, _ = self._get_data()
                acknowledged += isinstance(task_index, _worker.ResumeIteration)
        for _ in range(max(1, self._prefetch_factor * self._num_workers)):  # prefetch_factor=0 still loads
            self._try_put_index()

    def _try_put_index(self):
        try:
            index = self._next_index()
        except StopIteration:
            return
        for _ in range(self._num_workers):
            worker_id = next(self._worker_cycle)
            if self._workers_status[worker_id]:
                break
        else:
            return  # every worker's copy of an iterable dataset is exhausted
        self._index_queues[worker_id].put((self._send_idx, index))
        self._task_info[self._send_idx] = (worker_id,)
        self._send_idx += 1

    def _next_data(self):
        while True:
            # Skip tasks sent to workers whose iterable dataset ended (they will never answer).
            while self._rcvd_idx < self._send_idx:
                info = self._task_info[self._rcvd_idx]
                if len(info) == 2 or self._workers_status[info[0]]:
                    break
                del self._task_info[self._rcvd_idx]
                self._rcvd_idx += 1
            else:
                if not self._persistent_workers:
                    self._shutdown()
                raise StopIteration
            info = self._task_info[self._rcvd_idx]
            if len(info) == 2:  # arrived earlier, out of order
                del self._task_info[self._rcvd_idx]
                return self._process_data(info[1])
            task_index, data = self._get_data()
            if isinstance(data, _worker.IterableDatasetStopIteration):
                self._workers_status[data.worker_id] = False  # its pending tasks are skipped above
                self._try_put_index()
                continue
            if task_index != self._rcvd_idx:
                self._task_info[task_index] += (data,)
                continue
            del self._task_info[task_index]
            return self._process_data(data)

    def _process_data(self, data):
        self._rcvd_idx += 1
        self._try_put_index()
        if isinstance(data, _worker.ExceptionWrapper):
            data.reraise()
        return data

    def _get_data(self):
        """The next ``(task number, data)`` from any worker; raises if a worker died or on timeout.

        A worker killed while writing a batch leaves part of a message in the pipe, and reading it
        would block forever. So the workers are checked before each read (``connection.wait``
        returns when data arrives or a worker's process ends), and, in the main thread, a SIGCHLD
        handler interrupts a read already under way when a worker dies (as PyTorch's does)."""
        deadline = time.monotonic() + self._timeout if self._timeout > 0 else None
        reader = self._result_queue._reader
        sentinels = [worker.sentinel for worker in self._workers]
        with self._raise_on_worker_death():
            while True:
                wait = _worker.POLL_INTERVAL if deadline is None else max(0.0, deadline - time.monotonic())
                ready = _multiprocessing().connection.wait([reader, *sentinels], timeout=wait)
                self._check_workers()
                if reader in ready:
                    try:
                        return _worker.unpack(self._result_queue.get(timeout=wait))
                    except queue.Empty:  # another reader took it (it cannot be: but never block here)
                        continue
                if deadline is not None and time.monotonic() >= deadline:
                    raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")

    def _check_workers(self, from_signal=False):
        """Raise, naming the worker and how it died, if a worker process has ended. The shutdown
        that follows ends the other workers (their SIGCHLDs find the error already made); every
        later call raises the same error."""
        if self._worker_error is not None:
            if from_signal:
                return
            raise self._worker_error
        for worker_id, worker in enumerate(self._workers):
            code = worker.exitcode
            if code is None:
                continue
            where = f"(worker {worker_id} of {self._num_workers})"
            if code < 0:
                message = f"DataLoader worker (pid {worker.pid}) is killed by signal: {signal.strsignal(-code)}. {where}"
            else:
                message = (
                    f"DataLoader worker (pid {worker.pid}) exited unexpectedly with exit code {code}. Details are lost due to "
                    f"multiprocessing. Rerunning with num_workers=0 may give better error trace. {where}"
                )
            self._worker_error = RuntimeError(message)
            self._shutdown()
            raise self._worker_error

    @contextlib.contextmanager
    def _raise_on_worker_death(self):
        """While the main thread waits for a batch, a worker's death (SIGCHLD) raises at once."""
        if not hasattr(signal, "SIGCHLD") or threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = signal.getsignal(signal.SIGCHLD)

        def on_child_exit(signum, frame):
            self._check_workers(from_signal=True)
            if callable(previous):
                previous(signum, frame)

        signal.signal(signal.SIGCHLD, on_child_exit)
        try:
            yield
        finally:
            signal.signal(signal.SIGCHLD, previous if previous is not None else signal.SIG_DFL)


def _shutdown_workers(workers, index_queues, result_queue, done_event):
    """Tell the workers to stop, wait a little, then terminate the ones that did not."""
    done_event.set()
    for index_queue in index_queues:
        try:
            index_queue.put(None)
        except (OSError, ValueError):  # the queue is already closed
            pass
    for worker in workers:
        worker.join(timeout=_SHUTDOWN_TIMEOUT)
    for worker in workers:
        if worker.is_alive():
            worker.terminate()
            worker.join()
    for index_queue in index_queues:
        index_queue.close()
    result_queue.cancel_join_thread()
    result_queue.close()
