"""The lecture's program: a 784-512-256-128-64-10 ReLU MLP trained on MNIST with SGD.

Written as a PyTorch user writes it; only the import line says tinytorch.
Run: python examples/mnist_mlp.py [--epochs 10 --batch-size 12 --lr 0.01 --device cpu] [--tensorboard]

After each epoch the model, the optimizer, the epoch number and the RNG state are saved to
OUT/checkpoint.safetensors (``tinytorch.save`` replaces the file atomically, so a crash or Ctrl-C
mid-save leaves the previous one whole). Ctrl-C stops the run; ``--resume`` continues it from the
last finished epoch, with the same batches and the same numbers as a run that never stopped.

``--tensorboard`` also logs the training loss (every 100 batches), the accuracy on the training
batches (each epoch) and on the test set, the weights' histograms and the model's graph to
OUT/tensorboard, through ``tinytorch.utils.tensorboard.SummaryWriter``: watch them with
``tensorboard --logdir runs/mnist_mlp``.
"""

import argparse
import os
import sys
import time

from tqdm import tqdm

import tinytorch as torch
import tinytorch.nn as nn
import tinytorch.nn.functional as F
import tinytorch.optim as optim
from tinytorch.utils.data import DataLoader, Subset
from tinytorch.vision import datasets, transforms


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(28 * 28, 512)
        self.fc2 = nn.Linear(512, 256)
        self.fc3 = nn.Linear(256, 128)
        self.fc4 = nn.Linear(128, 64)
        self.fc5 = nn.Linear(64, 10)

    def forward(self, x):
        x = x.view(-1, 28 * 28)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = F.relu(self.fc3(x))
        x = F.relu(self.fc4(x))
        return self.fc5(x)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Train the lecture's MLP on MNIST with tinytorch.")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=12)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--data", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data"))
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train-subset", type=int, default=None, help="train on the first N images only")
    parser.add_argument("--test-subset", type=int, default=None, help="test on the first N images only")
    parser.add_argument("--out", default="runs/mnist_mlp", help="folder for the PNGs and the weights")
    parser.add_argument("--no-progress", action="store_true", help="hide the tqdm bars")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.safetensors")
    parser.add_argument("--tensorboard", action="store_true", help="log loss and accuracy to OUT/tensorboard")
    return parser.parse_args(argv)


def save_checkpoint(path, model, optimizer, epoch, losses):
    """Everything a resumed run needs to go on exactly as if it had never stopped."""
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch,
                "rng": torch.get_rng_state(), "losses": losses}, path)


def load_checkpoint(path, model, optimizer):
    """Restore a checkpoint into the model and the optimizer; returns (epochs done, losses)."""
    checkpoint = torch.load(path)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    torch.set_rng_state(checkpoint["rng"])  # the next epoch shuffles as the uninterrupted run would
    return checkpoint["epoch"], list(checkpoint["losses"])


def main(argv=None):
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    os.makedirs(args.out, exist_ok=True)

    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    trainset = datasets.MNIST(root=args.data, train=True, download=False, transform=transform)
    testset = datasets.MNIST(root=args.data, train=False, download=False, transform=transform)
    if args.train_subset:
        trainset = Subset(trainset, range(args.train_subset))
    if args.test_subset:
        testset = Subset(testset, range(args.test_subset))
    trainloader = DataLoader(trainset, batch_size=args.batch_size, shuffle=True)
    testloader = DataLoader(testset, batch_size=args.batch_size, shuffle=False)

    model = MLP().to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=args.lr)

    losses = []
    first_epoch = 0
    checkpoint_path = os.path.join(args.out, "checkpoint.safetensors")
    if args.resume:
        if os.path.isfile(checkpoint_path):
            first_epoch, losses = load_checkpoint(checkpoint_path, model, optimizer)
            print(f"resumed from {checkpoint_path}: {first_epoch} epoch(s) done", flush=True)
        else:
            print(f"no checkpoint at {checkpoint_path}: starting from scratch", flush=True)
    log = TensorBoardLog(args.out, model, len(trainloader), first_epoch) if args.tensorboard else None
    start = time.perf_counter()
    epoch, batches_done = first_epoch, 0
    try:
        for epoch in range(first_epoch, args.epochs):
            print(f"epoch {epoch + 1} starts", flush=True)
            running_loss, batches_done = 0.0, 0
            epoch_start = time.perf_counter()
            for i, (inputs, labels) in enumerate(tqdm(trainloader, desc=f"epoch {epoch + 1}", disable=args.no_progress)):
                inputs, labels = inputs.to(device), labels.to(device)
                optimizer.zero_grad()
                outputs = model(inputs)
                loss = criterion(outputs, labels)
                loss.backward()
                optimizer.step()
                batches_done += 1

                running_loss += loss.item()
                if log is not None:
                    log.batch(epoch * len(trainloader) + i, loss, outputs, labels)
                if i % 2000 == 1999:
                    print(f"[{epoch + 1}, {i + 1:5d}] loss: {running_loss / 2000:.3f}")
                    losses.append(running_loss / 2000)
                    running_loss = 0.0
            save_checkpoint(checkpoint_path, model, optimizer, epoch + 1, losses)
            if log is not None:
                log.epoch(epoch + 1, model)
            print(f"epoch {epoch + 1} took {time.perf_counter() - epoch_start:.1f} s (checkpoint saved)", flush=True)
    except KeyboardInterrupt:
        print(f"\ninterrupted in epoch {epoch + 1} after {batches_done} of {len(trainloader)} batches; {checkpoint_path} "
              f"holds the last finished epoch: rerun with --resume to continue", flush=True)
        if log is not None:
            log.close()
        sys.exit(130)  # the shell's code for a run ended by Ctrl-C
    print("Finished Training")
    print(f"training took {time.perf_counter() - start:.1f} s")

    model.eval()
    first_images, first_labels = next(iter(DataLoader(testset, batch_size=12, shuffle=False)))
    with torch.no_grad():
        first_predicted = model(first_images.to(device)).argmax(1).cpu()
    print("GroundTruth: ", " ".join(f"{int(label):5d}" for label in first_labels))
    print("Prediction:  ", " ".join(f"{int(label):5d}" for label in first_predicted))

    n_correct = n_predict = 0
    with torch.no_grad():
        for inputs, labels in testloader:
            outputs = model(inputs.to(device))
            predictions = outputs.argmax(1).cpu()
            n_correct += int((predictions == labels).sum())
            n_predict += labels.shape[0]
    print(f"n_correct/n_predict: {n_correct}/{n_predict}")
    print(f"Accuracy: {n_correct / n_predict:.3f}")
    if log is not None:
        log.close(n_correct / n_predict, args.epochs)
        print(f"TensorBoard logs in {log.writer.get_logdir()}: tensorboard --logdir {args.out}")

    torch.save(model.state_dict(), os.path.join(args.out, "mnist_mlp.safetensors"))
    save_pictures(first_images, first_labels, first_predicted, losses, args.out)
    return n_correct / n_predict


class TensorBoardLog:
    """What --tensorboard logs to OUT/tensorboard: the model's graph, the loss every 100 batches,
    the accuracy on the training batches each epoch and on the test set at the end, and the
    weights' histograms. A resumed run hides what its interrupted predecessor logged after the
    last checkpoint (``purge_step``)."""

    def __init__(self, out, model, batches_per_epoch, first_epoch):
        from tinytorch.utils.tensorboard import SummaryWriter  # the optional tensorboard package

        self.writer = SummaryWriter(os.path.join(out, "tensorboard"), purge_step=first_epoch * batches_per_epoch or None)
        self.writer.add_graph(model, torch.zeros(1, 28 * 28, device=next(model.parameters()).device))
        self.correct = self.seen = 0

    def batch(self, step, loss, outputs, labels):
        self.correct += int((outputs.argmax(1) == labels).sum())
        self.seen += labels.shape[0]
        if step % 100 == 0:
            self.writer.add_scalar("train/loss", loss.item(), step)

    def epoch(self, epoch, model):
        self.writer.add_scalar("train/accuracy", self.correct / max(self.seen, 1), epoch)
        self.correct = self.seen = 0
        for name, parameter in model.named_parameters():
            self.writer.add_histogram(name, parameter.detach(), epoch)
        self.writer.flush()

    def close(self, test_accuracy=None, epoch=None):
        if test_accuracy is not None:
            self.writer.add_scalar("test/accuracy", test_accuracy, epoch)
        self.writer.close()


def save_pictures(images, labels, predicted, losses, out):
    """The 12 test images with true and predicted labels, and the loss curve (needs matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no PNGs written (pip install 'tinytorch[plots]')")
        return
    figure, axes = plt.subplots(2, 6, figsize=(9, 3.6))
    for ax, image, label, guess in zip(axes.flat, images, labels, predicted):
        ax.imshow(image.numpy().reshape(28, 28), cmap="gray")
        ax.set_title(f"true {int(label)} / pred {int(guess)}", fontsize=8, color="black" if int(label) == int(guess) else "red")
        ax.axis("off")
    figure.tight_layout()
    figure.savefig(os.path.join(out, "predictions.png"))
    plt.close(figure)
    if losses:
        figure, ax = plt.subplots(figsize=(6, 3.5))
        ax.plot(range(1, len(losses) + 1), losses)
        ax.set_xlabel("2000 mini-batches")
        ax.set_ylabel("training loss")
        ax.set_title("MNIST MLP training loss")
        figure.tight_layout()
        figure.savefig(os.path.join(out, "loss.png"))
        plt.close(figure)
    print(f"wrote {out}/predictions.png" + (f" and {out}/loss.png" if losses else ""))


if __name__ == "__main__":
    main()
