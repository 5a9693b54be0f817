"""DataLoader with worker processes: same batches as the main process, errors, clean shutdown."""

import ctypes
import faulthandler
import gc
import multiprocessing
import os
import signal
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import tinytorch
from tinytorch.utils.data import DataLoader, Dataset, IterableDataset, get_worker_info


@pytest.fixture(autouse=True)
def _no_hang():
    """Fail (instead of hanging the suite) if a test waits on workers for a minute."""

    def fail(signum, frame):
        raise TimeoutError("DataLoader test hung")

    previous = signal.signal(signal.SIGALRM, fail)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


class Samples(Dataset):
    """Sample i: a dict with an image-like array, a float and a string, to exercise collate."""

    def __init__(self, n=23):
        self.n = n

    def __getitem__(self, i):
        return {"x": np.full((2, 3), i, np.float32), "y": float(i) / 2, "name": f"s{i}"}, i

    def __len__(self):
        return self.n


class FailsAt(Dataset):
    def __init__(self, bad, error=ValueError):
        self.bad, self.error = bad, error

    def __getitem__(self, i):
        if i == self.bad:
            raise self.error(f"sample {i} is broken")
        return i

    def __len__(self):
        return 10


class WhoLoads(Dataset):
    offset = 0

    def __getitem__(self, i):
        info = get_worker_info()
        return [info.id, info.num_workers, info.seed, self.offset, i, os.getpid()]

    def __len__(self):
        return 8


class Split(IterableDataset):
    """range(n), split between workers when ``split`` (else every worker yields all of it)."""

    def __init__(self, n, split=True):
        self.n, self.split = n, split

    def __iter__(self):
        info = get_worker_info()
        if info is None or not self.split:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))


class Slow(Dataset):
    def __getitem__(self, i):
        time.sleep(1.5)
        return i

    def __len__(self):
        return 4


class ExitsAt(Dataset):
    def __getitem__(self, i):
        if i == 3:
            os._exit(1)  # a crash: the worker dies without reporting
        return i

    def __len__(self):
        return 8


def _flatten(batches):
    """Batches as nested Python values, for equality."""
    out = []
    for sample, index in batches:
        out.append((sample["x"].tolist(), sample["x"].dtype, sample["y"].tolist(), sample["y"].dtype, sample["name"], index.tolist()))
    return out


def _set_offset(worker_id):
    get_worker_info().dataset.offset = 100 * (worker_id + 1)


@pytest.mark.parametrize("shuffle", [False, True])
def test_workers_give_the_same_batches_as_the_main_process(shuffle):
    tinytorch.manual_seed(11)
    main = [_flatten(DataLoader(Samples(), batch_size=4, shuffle=shuffle)) for _ in range(2)]
    tinytorch.manual_seed(11)
    workers = [_flatten(DataLoader(Samples(), batch_size=4, shuffle=shuffle, num_workers=2)) for _ in range(2)]
    assert workers == main
    assert len(main[0]) == 6  # 23 samples in batches of 4
    if shuffle:
        assert main[0] != main[1]


def test_workers_yield_in_order_with_prefetch_and_many_batches():
    loader = DataLoader(list(range(200)), batch_size=3, num_workers=2, prefetch_factor=3)
    assert [i for batch in loader for i in batch.tolist()] == list(range(200))


@pytest.mark.parametrize("error", [ValueError, KeyError, IndexError])
def test_worker_exception_reaches_the_caller_with_the_worker_traceback(error):
    loader = DataLoader(FailsAt(5, error), batch_size=2, num_workers=2)
    it = iter(loader)
    assert next(it).tolist() == [0, 1] and next(it).tolist() == [2, 3]
    with pytest.raises(error) as caught:
        next(it)
    message = str(caught.value)
    assert f"Caught {error.__name__} in DataLoader worker process 0." in message
    assert "Original Traceback (most recent call last):" in message
    assert "sample 5 is broken" in message and "in __getitem__" in message
    assert next(it).tolist() == [6, 7]  # loading goes on, as in PyTorch
    workers = it._workers
    del it, caught
    gc.collect()
    assert not any(w.is_alive() for w in workers)


def _broken_init(worker_id):
    raise OSError(f"worker {worker_id} has no disk")


def test_worker_init_fn_error_is_reported_for_its_batches():
    it = iter(DataLoader(list(range(8)), batch_size=2, num_workers=2, worker_init_fn=_broken_init))
    for worker_id in (0, 1, 0):
        with pytest.raises(OSError, match=f"Caught OSError in DataLoader worker process {worker_id}.(.|\n)*has no disk"):
            next(it)


def test_worker_init_fn_and_worker_info():
    assert get_worker_info() is None
    loader = DataLoader(WhoLoads(), batch_size=2, num_workers=2, worker_init_fn=_set_offset, collate_fn=list)
    rows = [row for batch in loader for row in batch]
    by_index = {row[4]: row for row in rows}
    assert sorted(by_index) == list(range(8))
    # Batches go round-robin: batch k (indices 2k, 2k+1) to worker k % 2.
    assert all(by_index[i][0] == (i // 2) % 2 for i in range(8))
    assert all(row[1] == 2 for row in rows)
    assert all(row[3] == 100 * (row[0] + 1) for row in rows)
    seeds = {row[0]: row[2] for row in rows}
    assert seeds[1] == seeds[0] + 1  # base seed + worker id
    assert os.getpid() not in {row[5] for row in rows}


def test_workers_stop_after_the_epoch_on_break_and_on_delete():
    it = iter(DataLoader(list(range(20)), batch_size=2, num_workers=2))
    workers = it._workers
    assert len(list(it)) == 10
    assert not any(w.is_alive() for w in workers)  # exhausted: shut down at once

    for _batch in DataLoader(list(range(20)), batch_size=2, num_workers=2):
        break
    it = iter(DataLoader(list(range(20)), batch_size=2, num_workers=2))
    next(it)
    workers = it._workers
    del it
    gc.collect()
    assert not any(w.is_alive() for w in workers)


def test_interpreter_exits_promptly_with_live_workers():
    script = (
        "import tinytorch\n"
        "from tinytorch.utils.data import DataLoader\n"
        "it = iter(DataLoader(list(range(1000)), batch_size=2, num_workers=2))\n"
        "print(next(it).tolist())\n"
    )
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=45, cwd=root, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[0, 1]"


def test_iterable_dataset_with_workers():
    split = sorted(i for batch in DataLoader(Split(11), batch_size=2, num_workers=2) for i in batch.tolist())
    assert split == list(range(11))
    copies = sorted(i for batch in DataLoader(Split(5, split=False), batch_size=2, num_workers=2) for i in batch.tolist())
    assert copies == sorted(list(range(5)) * 2)  # each worker iterates its own copy, as in PyTorch


def test_persistent_workers_reuse_processes_across_epochs():
    loader = DataLoader(WhoLoads(), batch_size=4, num_workers=2, persistent_workers=True, collate_fn=list)
    epochs = [[row for batch in loader for row in batch] for _ in range(3)]
    assert all(sorted(row[4] for row in epoch) == list(range(8)) for epoch in epochs)
    assert len({row[5] for epoch in epochs for row in epoch}) == 2  # the same two processes
    it = iter(loader)
    next(it)  # a half-read epoch: the next one must not see its late batches
    assert [row[4] for batch in loader for row in batch] == list(range(8))


def test_timeout_raises():
    loader = DataLoader(Slow(), batch_size=1, num_workers=1, timeout=0.3)
    with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0.3 seconds"):
        next(iter(loader))


def test_dead_worker_is_reported_not_waited_for():
    it = iter(DataLoader(ExitsAt(), batch_size=1, num_workers=2))
    with pytest.raises(RuntimeError) as info:
        list(it)
    # Sample 3 is batch 3, which goes to worker 3 % 2 = 1.
    assert str(info.value) == (
        f"DataLoader worker (pid {it._workers[1].pid}) exited unexpectedly with exit code 1. Details are lost due to "
        "multiprocessing. Rerunning with num_workers=0 may give better error trace. (worker 1 of 2)"
    )


class DiesBySignal(Dataset):
    """Sample 3 ends its worker with a signal: SIGKILL (as the OOM killer does), or a real
    segmentation fault (reading address 0)."""

    def __init__(self, signum):
        self.signum = signum

    def __getitem__(self, i):
        if i == 3:
            if self.signum == signal.SIGSEGV:
                faulthandler.disable()  # no traceback dump: the default action, death by SIGSEGV
                ctypes.string_at(0)
            os.kill(os.getpid(), self.signum)
        return i

    def __len__(self):
        return 8


START_METHODS = [method for method in ("fork", "spawn") if method in multiprocessing.get_all_start_methods()]


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")
@pytest.mark.parametrize("start_method", START_METHODS)
@pytest.mark.parametrize("signum", [getattr(signal, "SIGKILL", 9), signal.SIGSEGV], ids=["SIGKILL", "SIGSEGV"])
def test_a_worker_killed_by_a_signal_is_named_never_waited_for(signum, start_method):
    """The error names the worker (pid and id) and the signal, the other workers are ended, and
    asking again raises again (a hang would trip the fixture's alarm)."""
    it = iter(DataLoader(DiesBySignal(signum), batch_size=1, num_workers=2, multiprocessing_context=start_method))
    seen = []
    with pytest.raises(RuntimeError) as info:
        for batch in it:
            seen += batch.tolist()
    victim = it._workers[1]  # batch 3 goes to worker 3 % 2 = 1
    assert str(info.value) == f"DataLoader worker (pid {victim.pid}) is killed by signal: {signal.strsignal(signum)}. (worker 1 of 2)"
    assert victim.exitcode == -signum
    assert 3 not in seen and set(seen) <= {0, 1, 2, 4, 5, 6, 7}
    assert not any(worker.is_alive() for worker in it._workers)
    with pytest.raises(RuntimeError, match="is killed by signal"):
        next(it)


@pytest.mark.skipif(not hasattr(signal, "SIGCHLD"), reason="POSIX signals")
@pytest.mark.parametrize("start_method", START_METHODS)
def test_a_worker_killed_mid_message_does_not_hang_the_read(start_method):
    """A worker killed while writing a batch leaves half a message in the result pipe: the main
    process, already reading it, would wait forever for the rest. Here the half message is written
    by hand (the length header of a 1 MiB message, then 16 bytes of it) while both workers are busy,
    then worker 0 is killed: the read must end with the worker's error."""
    it = iter(DataLoader(Slow(), batch_size=1, num_workers=2, multiprocessing_context=start_method))
    writer = it._result_queue._writer
    os.write(writer.fileno(), struct.pack("!i", 2**20) + bytes(16))
    victim = it._workers[0]
    killer = threading.Timer(0.5, os.kill, (victim.pid, signal.SIGKILL))
    killer.start()
    try:
        with pytest.raises(RuntimeError) as info:
            next(it)
    finally:
        killer.cancel()
    assert str(info.value) == f"DataLoader worker (pid {victim.pid}) is killed by signal: Killed. (worker 0 of 2)"
    assert not any(worker.is_alive() for worker in it._workers)


def test_unpicklable_batch_is_an_error_not_a_hang():
    loader = DataLoader(list(range(4)), batch_size=2, num_workers=1, collate_fn=lambda batch: (lambda: batch))
    with pytest.raises(Exception, match="in DataLoader worker process 0 while pickling the batch"):
        next(iter(loader))
