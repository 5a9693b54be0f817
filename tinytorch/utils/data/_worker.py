"""What runs in a DataLoader worker process: the fetchers (index batch -> collated batch, also used
in the main process), ``get_worker_info``, exception forwarding, and the worker loop."""

import os
import pickle
import queue
import random
import sys
import traceback
from dataclasses import dataclass

import numpy as np

from ... import random as tinytorch_random

# How often a waiting worker checks that its parent is still alive (seconds).
POLL_INTERVAL = 1.0


# -- fetchers ----------------------------------------------------------------------------------------
class MapDatasetFetcher:
    """Index (or list of indices) -> collated sample(s) of a map-style dataset."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        # A dataset's __getitems__ fetches a whole batch in one call (PyTorch's batched fetch).
        self.getitems = getattr(dataset, "__getitems__", None) if auto_collation else None

    def fetch(self, possibly_batched_index):
        if self.getitems:
            data = self.getitems(possibly_batched_index)
        elif self.auto_collation:
            data = [self.dataset[idx] for idx in possibly_batched_index]
        else:
            data = self.dataset[possibly_batched_index]
        return self.collate_fn(data)


class IterableDatasetFetcher:
    """The next sample(s) of an iterable dataset; raises StopIteration when it ends."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset_iter = iter(dataset)
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        self.ended = False

    def fetch(self, possibly_batched_index):
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self.dataset_iter))
        data = []
        for _ in possibly_batched_index:
            try:
                data.append(next(self.dataset_iter))
            except StopIteration:
                self.ended = True
                break
        if not data or (self.drop_last and len(data) < len(possibly_batched_index)):
            raise StopIteration
        return self.collate_fn(data)


def create_fetcher(is_iterable, dataset, auto_collation, collate_fn, drop_last):
    kind = IterableDatasetFetcher if is_iterable else MapDatasetFetcher
    return kind(dataset, auto_collation, collate_fn, drop_last)


# -- worker info ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class WorkerInfo:
    """What ``get_worker_info()`` reports inside a worker: its id, the worker count, its seed and
    its own copy of the dataset."""

    id: int
    num_workers: int
    seed: int
    dataset: object


_worker_info = None


def get_worker_info():
    """This worker's ``WorkerInfo`` inside a DataLoader worker process; None in the main process."""
    return _worker_info


# -- exceptions cross the process boundary as text -------------------------------------------------
class KeyErrorMessage(str):
    """A KeyError prints its message with repr(); this str keeps the traceback readable."""

    def __repr__(self):
        return self


class ExceptionWrapper:
    """An exception with its formatted traceback, to re-raise in another process."""

    def __init__(self, exc_info=None, where="in background"):
        exc_info = exc_info or sys.exc_info()
        self.exc_type = exc_info[0]
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        message = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            message = KeyErrorMessage(message)
        try:
            exception = self.exc_type(message)
        except Exception:  # an exception type whose constructor wants other arguments
            raise RuntimeError(message) from None
        raise exception


@dataclass(frozen=True)
class IterableDatasetStopIteration:
    """A worker's copy of an iterable dataset is exhausted."""

    worker_id: int


class ResumeIteration:
    """Start a new epoch (persistent workers): rebuild the fetcher, then acknowledge."""


# -- the loop ------------------------------------------------------------------------------------
def _seed_worker(base_seed, worker_id):
    seed = base_seed + worker_id
    random.seed(seed)
    tinytorch_random.manual_seed(seed)
    # Distinct NumPy streams per worker (a plain seed + id would overlap across epochs' base seeds).
    np.random.seed(np.random.SeedSequence([worker_id, base_seed]).generate_state(4))
    return seed


def _pack(message):
    """Pickle here, not in the queue's feeder thread: an unpicklable batch then becomes an
    exception the main process sees, instead of a batch silently lost (and a hang)."""
    return pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)


def unpack(payload):
    return pickle.loads(payload)


def worker_loop(is_iterable, dataset, index_queue, result_queue, done_event, auto_collation, collate_fn,
                drop_last, base_seed, init_fn, worker_id, num_workers, parent_pid):
    """Fetch the index batches from ``index_queue`` and put ``(task index, batch)`` on ``result_queue``
    until told to stop (None) or the parent process dies."""
    global _worker_info
    where = f"in DataLoader worker process {worker_id}"
    try:
        seed = _seed_worker(base_seed, worker_id)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
        init_exception = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = create_fetcher(is_iterable, dataset, auto_collation, collate_fn, drop_last)
        except Exception:
            init_exception = ExceptionWrapper(where=where)
        iteration_end = False
        while True:
            try:
                task = index_queue.get(timeout=POLL_INTERVAL)
            except queue.Empty:
                if os.getppid() != parent_pid:  # orphaned: the main process is gone
                    break
                continue
            if task is None:
                break
            if isinstance(task, ResumeIteration):
                result_queue.put(_pack((task, None)))
                iteration_end = False
                fetcher = create_fetcher(is_iterable, dataset, auto_collation, collate_fn, drop_last)
                continue
            if done_event.is_set() or iteration_end:
                continue  # only a None (shutdown) or a ResumeIteration matters now
            task_index, index = task
            if init_exception is not None:
                data = init_exception  # every task reports it: this worker can't load anything
            else:
                try:
                    data = fetcher.fetch(index)
                except StopIteration:
                    if not is_iterable:
                        data = ExceptionWrapper(where=where)
                    else:
                        data, iteration_end = IterableDatasetStopIteration(worker_id), True
                except Exception:
                    data = ExceptionWrapper(where=where)
            try:
                payload = _pack((task_index, data))
            except Exception:
                payload = _pack((task_index, ExceptionWrapper(where=where + " while pickling the batch")))
            result_queue.put(payload)
            del data, payload, task, index  # don't hold a batch while waiting for the next task
    except KeyboardInterrupt:
        pass  # Ctrl-C reaches the workers too; the main process handles it
    if done_event.is_set():
        # Nobody reads the results any more: don't block exit flushing them into the pipe.
        result_queue.cancel_join_thread()
        result_queue.close()
