"""Counts the synchronizing CUDA operations in a few training steps (issue 8).

    python benchmarks/sync_audit.py

Runs with ``tinytorch.cuda.set_sync_debug_mode("warn")`` and prints each synchronization with the
line that caused it; a training step should cause none (exit status 1 if it does).
"""

import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tinytorch
from tinytorch import nn, optim


def audit(name, make_optimizer, steps=3, batch=128):
    tinytorch.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 10)).cuda()
    opt = make_optimizer(model.parameters())
    x = tinytorch.randn(batch, 784, device="cuda")
    y = tinytorch.randint(0, 10, (batch,), device="cuda")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(steps):
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
    for w in caught:
        print(w.message)
    print(f"{name}: {len(caught)} implicit synchronizations in {steps} training steps")
    return len(caught)


if __name__ == "__main__":
    tinytorch.cuda.set_sync_debug_mode("warn")
    total = audit("SGD", lambda p: optim.SGD(p, lr=0.01))
    total += audit("SGD momentum", lambda p: optim.SGD(p, lr=0.01, momentum=0.9))
    total += audit("Adam", lambda p: optim.Adam(p, lr=1e-3))
    sys.exit(1 if total else 0)
