"""The lecture's whole program, as one library runs it in a fresh process: import, load MNIST,
train the 784-512-256-128-64-10 MLP (SGD lr 0.01, batch 12, shuffled), test accuracy.

    python benchmarks/lecture_program.py --library tinytorch --epochs 1
    python benchmarks/lecture_program.py --library pytorch --epochs 10
    python benchmarks/lecture_program.py --library numpy --epochs 1

The data come as the lecture's program gets them: ``datasets.MNIST(transform=Compose([ToTensor(),
Normalize((0.1307,), (0.3081,))]))`` in a shuffled DataLoader, each image turned into a tensor as
it is drawn. tinytorch runs its own ``tinytorch.vision``. For PyTorch, torchvision's wheels do not
load beside torch 2.13 on this machine, so ``TorchvisionMNIST`` below does what torchvision 0.2x's
MNIST, ToTensor and Normalize do per image (uint8 storage, a PIL image, ``to_tensor``,
``normalize``). The NumPy loop is the no-framework baseline: normalized arrays, shuffled by hand. The last line printed is JSON: seconds from the start of the
process (interpreter start-up excluded, imports included), the training seconds, the test
accuracy, the peak RSS (VmHWM) in MiB and the minor page faults from the data's loading to the
test's end (memory the process had to map in, ``--batch-size`` 1024 shows them). benchmarks/run.py (case ``lecture``) runs it for each
library in turn, in fresh processes, and times the whole process from outside as well.
"""

import argparse
import gzip
import json
import os
import resource
import sys
import time

START = time.perf_counter()

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
RAW = os.path.join(os.path.dirname(HERE), "data", "MNIST", "raw")
SIZES = (784, 512, 256, 128, 64, 10)


def read_idx(name):
    """An MNIST idx file (gzipped or not) as a NumPy array."""
    path = os.path.join(RAW, name)
    with (open(path, "rb") if os.path.exists(path) else gzip.open(path + ".gz", "rb")) as f:
        data = f.read()
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def mnist(train):
    prefix = "train" if train else "t10k"
    images = read_idx(f"{prefix}-images-idx3-ubyte").astype(np.float32) / 255.0
    labels = read_idx(f"{prefix}-labels-idx1-ubyte").astype(np.int64)
    return ((images - 0.1307) / 0.3081).reshape(-1, 1, 28, 28), labels


class TorchvisionMNIST:
    """torchvision.datasets.MNIST(train=True) with ToTensor() and Normalize((0.1307,), (0.3081,)),
    per image as torchvision 0.2x does it (vision/torchvision/datasets/mnist.py, transforms/
    functional.py): a PIL image from the uint8 array, ``to_tensor``, then ``normalize``."""

    def __init__(self, torch, train=True):
        self.torch = torch
        prefix = "train" if train else "t10k"
        self.data = torch.from_numpy(read_idx(f"{prefix}-images-idx3-ubyte").copy())
        self.targets = torch.from_numpy(read_idx(f"{prefix}-labels-idx1-ubyte").astype(np.int64))
        self.mean = torch.tensor([0.1307]).view(-1, 1, 1)
        self.std = torch.tensor([0.3081]).view(-1, 1, 1)

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        from PIL import Image

        image, target = Image.fromarray(self.data[index].numpy(), mode="L"), int(self.targets[index])
        array = np.array(image, np.uint8, copy=True)  # to_tensor
        tensor = self.torch.from_numpy(array).view(image.size[1], image.size[0], 1).permute((2, 0, 1)).contiguous()
        tensor = tensor.to(dtype=self.torch.get_default_dtype()).div(255)
        return tensor.sub_(self.mean).div_(self.std), target  # normalize


def lecture_mlp(lib):
    """The lecture's model as its class is written (``F.relu`` in ``forward``), for tinytorch or
    PyTorch (``lib`` is either module); benchmarks/step_profile.py and step_faults.py use it too."""
    nn, F = lib.nn, lib.nn.functional

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2, self.fc3 = nn.Linear(784, 512), nn.Linear(512, 256), nn.Linear(256, 128)
            self.fc4, self.fc5 = nn.Linear(128, 64), nn.Linear(64, 10)

        def forward(self, x):
            x = x.view(-1, 784)
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            x = F.relu(self.fc3(x))
            x = F.relu(self.fc4(x))
            return self.fc5(x)

    return MLP()


def framework(lib, epochs, seed, limit=None, batch_size=12):
    """The lecture's loop, written once for tinytorch and PyTorch (``lib`` is either module)."""
    lib.manual_seed(seed)
    nn = lib.nn

    if lib.__name__ == "tinytorch":
        from tinytorch.vision import datasets, transforms

        transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
        data = datasets.MNIST(os.path.dirname(os.path.dirname(RAW)), train=True, transform=transform)
        test = datasets.MNIST(os.path.dirname(os.path.dirname(RAW)), train=False, transform=transform)
    else:
        data, test = TorchvisionMNIST(lib), TorchvisionMNIST(lib, train=False)
    if limit:
        data = lib.utils.data.Subset(data, range(limit))
    loader = lib.utils.data.DataLoader(data, batch_size=batch_size, shuffle=True)
    test_loader = lib.utils.data.DataLoader(test, batch_size=1000)
    model = lecture_mlp(lib)
    criterion = nn.CrossEntropyLoss()
    optimizer = lib.optim.SGD(model.parameters(), lr=0.01)
    train_start = time.perf_counter()
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
    train_seconds = time.perf_counter() - train_start
    correct = 0
    with lib.no_grad():
        for x, y in test_loader:
            correct += int((model(x).argmax(1) == y).sum())
    return train_seconds, correct / len(test)


def numpy_loop(epochs, seed, limit=None, batch_size=12):
    from numpy_mlp import NumpyMLP

    images, labels = mnist(True)
    test_images, test_labels = mnist(False)
    flat, model, rng = images.reshape(len(images), -1)[:limit], NumpyMLP(seed), np.random.default_rng(seed)
    train_start = time.perf_counter()
    for _ in range(epochs):
        order = rng.permutation(len(flat))
        for start in range(0, len(order), batch_size):
            index = order[start : start + batch_size]
            model.sgd_step(flat[index], labels[index])
    train_seconds = time.perf_counter() - train_start
    accuracy = float((model.predict(test_images.reshape(len(test_images), -1)) == test_labels).mean())
    return train_seconds, accuracy


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--library", choices=["tinytorch", "pytorch", "numpy"], required=True)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=None, help="train on the first N images only (a smoke run)")
    parser.add_argument("--batch-size", type=int, default=12, help="the training batch (the lecture's: 12)")
    args = parser.parse_args()
    if args.library == "tinytorch":
        sys.path.insert(0, os.path.dirname(HERE))
        import tinytorch as lib
    elif args.library == "pytorch":
        import torch as lib
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    if args.library == "numpy":
        sys.path.insert(0, HERE)
        train_seconds, accuracy = numpy_loop(args.epochs, args.seed, args.limit, args.batch_size)
    else:
        train_seconds, accuracy = framework(lib, args.epochs, args.seed, args.limit, args.batch_size)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
    with open("/proc/self/status") as f:  # VmHWM: this process's own peak, not a parent's
        peak_mib = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024
    print(json.dumps({"library": args.library, "epochs": args.epochs, "seconds": time.perf_counter() - START,
                      "train_seconds": train_seconds, "accuracy": accuracy, "peak_rss_mib": peak_mib,
                      "batch_size": args.batch_size, "page_faults": faults}))


if __name__ == "__main__":
    main()
