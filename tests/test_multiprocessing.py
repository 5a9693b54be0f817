"""tinytorch.multiprocessing: tensors and modules in shared memory, updated by forked and spawned
processes (PyTorch's Hogwild example), and PyTorch's names and CUDA behaviour."""

import multiprocessing
import os
import pickle

import numpy as np
import pytest

import tinytorch
import tinytorch.multiprocessing as mp
from tinytorch import nn

START_METHODS = [m for m in ("fork", "spawn") if m in multiprocessing.get_all_start_methods()]


def _add_under_lock(tensor, lock, index, times):
    for _ in range(times):
        with lock:
            tensor[0] += 1.0  # both processes: the shared element
        tensor[index] += 1.0  # this process's own element


def _sgd_steps(model, lock, steps):
    """A few SGD steps on a shared model, as each Hogwild worker does."""
    optimizer = tinytorch.optim.SGD(model.parameters(), lr=0.1)
    inputs = tinytorch.ones(4, 3)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = model(inputs).sum()
        loss.backward()
        with lock:
            optimizer.step()


@pytest.mark.parametrize("method", START_METHODS)
def test_two_processes_update_one_tensor(method):
    context = mp.get_context(method)
    shared = tinytorch.zeros(3).share_memory_()
    assert shared.is_shared()
    lock = context.Lock()
    workers = [context.Process(target=_add_under_lock, args=(shared, lock, rank + 1, 25)) for rank in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    assert shared.tolist() == [50.0, 25.0, 25.0]


@pytest.mark.parametrize("method", START_METHODS)
def test_hogwild_workers_train_one_model(method):
    """model.share_memory(), then workers each run SGD steps: the parent's model moves by both."""
    context = mp.get_context(method)
    model = nn.Linear(3, 2)
    before = [p.detach().clone() for p in model.parameters()]
    model.share_memory()
    assert all(p.is_shared() for p in model.parameters())
    lock = context.Lock()
    workers = [context.Process(target=_sgd_steps, args=(model, lock, 3)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    # d(sum of outputs)/d(weight) = 4 per entry, /d(bias) = 4: six steps of lr 0.1 move each by 2.4
    expected = [b.numpy() - 0.1 * 4 * 6 for b in before]
    for p, e in zip(model.parameters(), expected):
        np.testing.assert_allclose(p.detach().numpy(), e, rtol=1e-6)


def _send_back(queue, tensor):
    tensor.mul_(2)
    queue.put(tensor)


def test_a_shared_tensor_sent_through_a_queue_is_the_same_memory():
    context = mp.get_context("spawn")
    shared = tinytorch.arange(4.0).share_memory_()
    queue = context.Queue()
    worker = context.Process(target=_send_back, args=(queue, shared))
    worker.start()
    returned = queue.get(timeout=120)
    worker.join(timeout=120)
    assert shared.tolist() == [0.0, 2.0, 4.0, 6.0]
    returned[0] = 7.0
    assert shared[0].item() == 7.0 and returned.is_shared()


def test_share_memory_keeps_values_dtype_and_grad_flag_and_views_survive_pickling():
    x = tinytorch.arange(12, dtype=tinytorch.int32).reshape(3, 4)
    values = x.tolist()
    assert x.share_memory_() is x and x.is_shared() and x.tolist() == values and x.dtype == tinytorch.int32
    assert x.share_memory_().is_shared()  # again: a no-op
    view = x[1:, ::2]
    assert view.is_shared()
    from multiprocessing.reduction import ForkingPickler

    restored = pickle.loads(ForkingPickler.dumps(view))
    restored[0, 0] = -1
    assert x[1, 0].item() == -1
    p = nn.Parameter(tinytorch.ones(2)).share_memory_()
    q = pickle.loads(ForkingPickler.dumps(p))
    assert isinstance(q, nn.Parameter) and q.requires_grad and q.is_shared()
    plain = pickle.loads(pickle.dumps(x))  # ordinary pickling copies
    assert not plain.is_shared() and plain.tolist() == x.tolist()


def test_the_file_is_removed_when_the_last_array_goes():
    import gc

    from tinytorch import _shared_memory

    x = tinytorch.ones(5).share_memory_()
    path = _shared_memory.describe(x._data)[0]
    assert os.path.exists(path)
    del x
    gc.collect()
    assert not os.path.exists(path)


def test_cuda_tensors_are_not_moved(device):
    x = tinytorch.ones(3, device=device)
    data = x._data
    assert x.share_memory_() is x
    if device == "cuda":  # PyTorch: a no-op, and is_shared() is always True for CUDA tensors
        assert x._data is data and x.is_shared()
    else:
        assert x.is_shared()


def test_pytorchs_names():
    torch = pytest.importorskip("torch")
    import torch.multiprocessing as torch_mp

    for name in torch_mp.__all__:
        assert hasattr(mp, name), name
    assert mp.get_sharing_strategy() in mp.get_all_sharing_strategies()
    mp.set_sharing_strategy("file_system")
    with pytest.raises(AssertionError):
        mp.set_sharing_strategy("no_such_strategy")
    assert torch.ones(1).share_memory_().is_shared()
