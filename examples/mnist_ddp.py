"""The lecture's MLP (examples/mnist_mlp.py) trained data-parallel on several processes.

Run: mpiexec -n 2 python examples/mnist_ddp.py [--epochs 10 --batch-size 12 --lr 0.01]
 or: python -m tinytorch.distributed.run --nproc-per-node 2 examples/mnist_ddp.py
GPUs (one per process): ... examples/mnist_ddp.py --device cuda --backend nccl

``--batch-size`` is the global batch: each of N ranks takes batch-size / N images per step from
its ``DistributedSampler`` share, and ``DistributedDataParallel`` averages the gradients, so a step
is the single-process step on the same 12 images and the hyperparameters carry over unchanged.
Rank 0 alone shows progress (tqdm), logs, evaluates on the test set and saves the weights (the
wrapped model's ``state_dict``, which ``examples/mnist_mlp.py``'s ``MLP`` loads).
"""

import argparse
import os
import sys
import time

from tqdm import tqdm

import tinytorch as torch
import tinytorch.distributed as dist
import tinytorch.nn as nn
import tinytorch.optim as optim
from tinytorch.nn.parallel import DistributedDataParallel as DDP
from tinytorch.utils.data import DataLoader, DistributedSampler, Subset
from tinytorch.vision import datasets, transforms

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mnist_mlp import MLP  # noqa: E402 - the lecture's network, from its own example


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Train the lecture's MLP on MNIST, data-parallel, with tinytorch.")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=12, help="the global batch, split evenly across the ranks")
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--data", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data"))
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--backend", default=None, choices=["mpi", "nccl"], help="default: nccl on cuda, mpi on cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train-subset", type=int, default=None, help="train on the first N images only")
    parser.add_argument("--test-subset", type=int, default=None, help="test on the first N images only")
    parser.add_argument("--out", default="runs/mnist_ddp", help="folder for the weights")
    parser.add_argument("--no-progress", action="store_true", help="hide the tqdm bar")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    dist.init_process_group(args.backend or ("nccl" if args.device == "cuda" else "mpi"))
    rank, world_size = dist.get_rank(), dist.get_world_size()
    if args.batch_size % world_size:
        raise SystemExit(f"--batch-size {args.batch_size} does not split evenly across {world_size} ranks")
    # One GPU per process: the rank's index on its machine (init_process_group sets LOCAL_RANK).
    device = torch.device("cuda", int(os.environ["LOCAL_RANK"])) if args.device == "cuda" else torch.device("cpu")
    torch.manual_seed(args.seed)  # every rank builds the same MLP (DDP copies rank 0's anyway)
    leader = rank == 0
    log = print if leader else (lambda *a, **k: None)

    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    trainset = datasets.MNIST(root=args.data, train=True, download=False, transform=transform)
    if args.train_subset:
        trainset = Subset(trainset, range(args.train_subset))
    sampler = DistributedSampler(trainset, shuffle=True, seed=args.seed)
    trainloader = DataLoader(trainset, batch_size=args.batch_size // world_size, sampler=sampler)

    model = DDP(MLP().to(device))
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=args.lr)
    log(f"{world_size} ranks ({dist.get_backend()}), {len(sampler)} images and {len(trainloader)} steps of "
        f"{args.batch_size // world_size} per rank and epoch", flush=True)

    start = time.perf_counter()
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)  # a new shuffle each epoch, the same on every rank
        epoch_start = time.perf_counter()
        running_loss = 0.0
        for i, (inputs, labels) in enumerate(tqdm(trainloader, desc=f"epoch {epoch + 1}", disable=not leader or args.no_progress)):
            inputs, labels = inputs.to(device), labels.to(device)
            optimizer.zero_grad()
            loss = criterion(model(inputs), labels)
            loss.backward()
            optimizer.step()
            if leader:
                running_loss += loss.item()
                if i % 2000 == 1999:
                    print(f"[{epoch + 1}, {i + 1:5d}] loss (rank 0's batches): {running_loss / 2000:.3f}")
                    running_loss = 0.0
        log(f"epoch {epoch + 1} took {time.perf_counter() - epoch_start:.1f} s", flush=True)
    log("Finished Training")
    log(f"training took {time.perf_counter() - start:.1f} s", flush=True)

    accuracy = None
    if leader:  # the replicas are identical: one evaluates, the others wait at the barrier
        accuracy = evaluate(model.module, args, transform, device)
        os.makedirs(args.out, exist_ok=True)
        torch.save(model.module.state_dict(), os.path.join(args.out, "mnist_ddp.safetensors"))
        print(f"saved {os.path.join(args.out, 'mnist_ddp.safetensors')}")
    dist.barrier()
    dist.destroy_process_group()
    return accuracy


def evaluate(model, args, transform, device):
    testset = datasets.MNIST(root=args.data, train=False, download=False, transform=transform)
    if args.test_subset:
        testset = Subset(testset, range(args.test_subset))
    model.eval()
    n_correct = n_predict = 0
    with torch.no_grad():
        for inputs, labels in DataLoader(testset, batch_size=1000, shuffle=False):
            predictions = model(inputs.to(device)).argmax(1).cpu()
            n_correct += int((predictions == labels).sum())
            n_predict += labels.shape[0]
    print(f"n_correct/n_predict: {n_correct}/{n_predict}")
    print(f"Accuracy: {n_correct / n_predict:.3f}")
    return n_correct / n_predict


if __name__ == "__main__":
    main()
