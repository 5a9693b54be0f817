"""Nothing leaks: a long training run keeps its memory flat, a step's graph dies with its loss
(by reference counting alone: the graph has no cycles), and evaluation under no_grad builds no
graph at all."""

import gc
import time
import tracemalloc

import numpy as np
import pytest

import tinytorch
from tinytorch import nn, optim
from tinytorch.autograd import function as autograd_function

Node = autograd_function.Node
AccumulateGrad = autograd_function.AccumulateGrad


def _lecture_mlp_class():
    """The lecture's MLP, from examples/mnist_mlp.py itself (so the test follows the example)."""
    import importlib.util
    import os

    path = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "mnist_mlp.py")
    spec = importlib.util.spec_from_file_location("mnist_mlp_example", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.MLP


MLP = _lecture_mlp_class()


def batches(count=50, size=12, seed=0):
    """Random MNIST-shaped batches, in memory."""
    rng = np.random.default_rng(seed)
    return [
        (tinytorch.from_numpy(rng.random((size, 1, 28, 28), dtype=np.float32)), tinytorch.from_numpy(rng.integers(0, 10, size)))
        for _ in range(count)
    ]


def step(model, optimizer, criterion, inputs, labels):
    """One step of the lecture's loop; returns the loss as a number (the tensor dies here)."""
    optimizer.zero_grad()
    loss = criterion(model(inputs), labels)
    loss.backward()
    optimizer.step()
    return loss.item()


def live(kind):
    return sum(1 for obj in gc.get_objects() if isinstance(obj, kind))


@pytest.mark.parametrize("make_optimizer,steps,state_copies", [
    pytest.param(lambda p: optim.SGD(p, lr=0.01, momentum=0.9), 2000, 1, id="SGD-momentum"),
    pytest.param(lambda p: optim.Adam(p, lr=1e-3), 600, 2, id="Adam"),  # fewer steps: Adam is slower under tracemalloc
])
def test_training_keeps_traced_memory_flat(make_optimizer, steps, state_copies):
    model, criterion, data = MLP(), nn.CrossEntropyLoss(), batches()
    optimizer = make_optimizer(model.parameters())
    warm_up, every = 200, 100
    tracemalloc.start()  # after the model: its parameters are not traced, what training allocates is
    try:
        start = time.perf_counter()
        running = 0.0
        samples = []  # traced bytes after each block of steps, once warmed up
        for i in range(steps):
            running += step(model, optimizer, criterion, *data[i % len(data)])
            if i + 1 >= warm_up and (i + 1) % every == 0:
                samples.append(tracemalloc.get_traced_memory()[0])
        seconds = time.perf_counter() - start
    finally:
        tracemalloc.stop()
    growth = max(samples) - samples[0]
    print(f"\n{steps} steps in {seconds:.1f} s (traced); memory after warm-up {samples[0] / 2**20:.2f} MiB, "
          f"growth over {steps - warm_up} steps {growth / 2**10:.1f} KiB (samples: {[s - samples[0] for s in samples]})")
    assert np.isfinite(running)
    assert growth < 2**20  # < 1 MiB after warm-up: nothing accumulates step by step
    # and the second half is flatter still (here about 1 KiB over 1,000 steps; a few small caches
    # inside NumPy's errstate fill up during the first thousand steps, then stop).
    assert samples[-1] - samples[len(samples) // 2] < 256 * 2**10
    # The samples do see what training allocates: the gradients and the optimizer state (2.3 MB
    # each copy, as the parameters) are in them, so a per-step leak of anything that size would show.
    parameter_bytes = sum(p.numel() * 4 for p in model.parameters())
    assert samples[0] > (1 + state_copies) * parameter_bytes


def test_a_steps_graph_dies_with_its_loss_by_reference_counting():
    model, criterion = MLP(), nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    (inputs, labels), = batches(count=1)
    gc.collect()
    assert live(Node) == 0 and live(AccumulateGrad) == 0
    gc.disable()  # only reference counting may free the graph: it must hold no cycles
    try:
        optimizer.zero_grad()
        loss = criterion(model(inputs), labels)
        assert live(Node) >= 10 and live(AccumulateGrad) == 10  # the graph exists while the loss does
        loss.backward()
        optimizer.step()
        del loss
        assert live(Node) == 0 and live(AccumulateGrad) == 0
        assert all(p.grad is not None and p.grad.grad_fn is None for p in model.parameters())
        # A loop that keeps only numbers (running_loss += loss.item()) keeps no graph either.
        running = sum(step(model, optimizer, criterion, inputs, labels) for _ in range(5))
        assert np.isfinite(running) and live(Node) == 0 and live(AccumulateGrad) == 0
    finally:
        gc.enable()


def test_keeping_the_loss_tensor_keeps_its_graph():
    """The counter of the previous test is not blind: a list of loss tensors (the classic leak,
    ``losses.append(loss)`` instead of ``loss.item()``) keeps every step's graph alive."""
    model, criterion = MLP(), nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.01)
    (inputs, labels), = batches(count=1)
    kept = []
    for _ in range(3):
        optimizer.zero_grad()
        loss = criterion(model(inputs), labels)
        loss.backward(retain_graph=True)
        optimizer.step()
        kept.append(loss)
    per_step = live(Node) // 3
    assert per_step >= 10 and live(Node) == 3 * per_step
    kept.clear()
    del loss
    assert live(Node) == 0


def test_evaluation_under_no_grad_creates_no_node(monkeypatch):
    created = {"Node": 0, "AccumulateGrad": 0}

    def counting(cls):
        init = cls.__init__

        def __init__(self, *args, **kwargs):
            created[cls.__name__] += 1
            init(self, *args, **kwargs)

        monkeypatch.setattr(cls, "__init__", __init__)

    counting(Node)
    counting(AccumulateGrad)
    model, criterion = MLP(), nn.CrossEntropyLoss()
    data = batches(count=20)
    criterion(model(data[0][0]), data[0][1]).backward()  # the counters see a training step
    assert created["Node"] >= 10 and created["AccumulateGrad"] == 10
    created.update(Node=0, AccumulateGrad=0)

    model.eval()
    correct = total = 0
    with tinytorch.no_grad():
        for _ in range(25):  # 500 batches
            for inputs, labels in data:
                outputs = model(inputs)
                loss = criterion(outputs, labels)
                correct += (outputs.argmax(1) == labels).sum().item()
                total += labels.numel()
                assert outputs.grad_fn is None and not loss.requires_grad
    assert total == 500 * 12 and 0 <= correct <= total
    assert created == {"Node": 0, "AccumulateGrad": 0}
    with tinytorch.inference_mode() if hasattr(tinytorch, "inference_mode") else tinytorch.no_grad():
        model(data[0][0]).sum()
    assert created == {"Node": 0, "AccumulateGrad": 0}
