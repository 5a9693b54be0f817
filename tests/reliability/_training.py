"""A small, random training run (Dropout, a shuffled DataLoader, SGD with momentum or Adam) for the
resume and determinism tests, also runnable in a fresh process:

    python -m tests.reliability._training resume CHECKPOINT STOP OUT   # load, train to STOP, save params
    python -m tests.reliability._training losses SEED OPTIMIZER STEPS  # print the losses (float.hex)

A checkpoint holds the model, the optimizer, the global RNG state (Dropout and, without a loader
generator, the shuffle draw from it) and, when the DataLoader has its own generator, that
generator's state at the start of the current epoch, so a run can also resume mid-epoch: it
replays the epoch's shuffle and skips the batches already done.
"""

import json
import sys

import numpy as np

import tinytorch
from tinytorch import nn, optim
from tinytorch.nn import functional as F
from tinytorch.utils.data import DataLoader, TensorDataset

SAMPLES, BATCH = 60, 8  # 8 batches an epoch, the last one of 4 samples


def dataset():
    rng = np.random.default_rng(1234)
    x = rng.standard_normal((SAMPLES, 10)).astype(np.float32)
    y = rng.integers(0, 3, SAMPLES)
    return TensorDataset(tinytorch.from_numpy(x), tinytorch.from_numpy(y))


class Run:
    """Everything a training run has: model, optimizer, loader (maybe with its own generator), step."""

    def __init__(self, seed, optimizer, loader_generator):
        tinytorch.manual_seed(seed)
        self.model = nn.Sequential(
            nn.Linear(10, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3)
        )
        params = self.model.parameters()
        self.optimizer = optim.SGD(params, lr=0.05, momentum=0.9) if optimizer == "sgd" else optim.Adam(params, lr=0.01)
        self.generator = tinytorch.Generator().manual_seed(seed + 1) if loader_generator else None
        self.loader = DataLoader(dataset(), batch_size=BATCH, shuffle=True, generator=self.generator)
        self.optimizer_name, self.step, self.epoch_start, self.losses = optimizer, 0, None, []

    def train(self, stop):
        """Train until global step ``stop``; a run resumed mid-epoch replays that epoch's shuffle
        (its loader generator's state at the epoch's start) and skips the batches already done."""
        per_epoch = len(self.loader)
        while self.step < stop:
            skip = self.step % per_epoch
            if skip:
                if self.generator is None:
                    raise RuntimeError("without a loader generator a run resumes at an epoch boundary only")
                self.generator.set_state(self.epoch_start)
            elif self.generator is not None:
                self.epoch_start = self.generator.get_state()
            for i, (x, y) in enumerate(self.loader):
                if i < skip:
                    continue
                if self.step == stop:
                    break
                self.optimizer.zero_grad()
                loss = F.cross_entropy(self.model(x), y)
                loss.backward()
                self.optimizer.step()
                self.losses.append(loss.item())
                self.step += 1

    def checkpoint(self):
        state = {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(), "step": self.step,
                 "optimizer_name": self.optimizer_name, "rng": tinytorch.get_rng_state()}
        if self.generator is not None:
            state["loader_rng"] = self.epoch_start if self.step % len(self.loader) else self.generator.get_state()
        return state

    @classmethod
    def resume(cls, state, restore_rng=True):
        """A run rebuilt from ``state``: built with another seed first, so only the checkpoint counts."""
        run = cls(seed=999, optimizer=state["optimizer_name"], loader_generator="loader_rng" in state)
        run.model.load_state_dict(state["model"])
        run.optimizer.load_state_dict(state["optimizer"])
        run.step = state["step"]
        if "loader_rng" in state:
            run.epoch_start = state["loader_rng"]
            run.generator.set_state(state["loader_rng"])
        if restore_rng:
            tinytorch.set_rng_state(state["rng"])
        return run

    def parameters(self):
        return {name: p.detach().numpy().copy() for name, p in self.model.named_parameters()}


def main(argv):
    command, *args = argv
    if command == "resume":
        checkpoint, stop, out = args
        run = Run.resume(tinytorch.load(checkpoint))
        run.train(int(stop))
        tinytorch.save({name: p.detach() for name, p in run.model.named_parameters()}, out)
    elif command == "losses":
        seed, optimizer, steps = args
        run = Run(int(seed), optimizer, loader_generator=False)
        run.train(int(steps))
        print(json.dumps([loss.hex() for loss in run.losses]))
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
