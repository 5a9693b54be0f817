"""PyTorch's official MNIST example (pytorch/examples, mnist/main.py) on tinytorch.

The network, optimizer and schedule are the example's: two 3x3 convolutions (1->32->64), ReLU,
2x2 max-pooling, dropout, two linear layers and log_softmax with F.nll_loss; Adadelta(lr=1.0)
with StepLR(step_size=1, gamma=0.7); batch 64, test batch 1000, inputs normalized with
(0.1307, 0.3081). Only the imports say tinytorch; the device is picked with torch.accelerator as
the example does. Adds a tqdm bar, a checkpoint per epoch (--resume), the weights, and a PNG of
the first layer's filters and some test predictions.

Run: python examples/mnist_cnn.py [--epochs 1 --device cpu|cuda]
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
from tinytorch.optim.lr_scheduler import StepLR
from tinytorch.utils.data import DataLoader, Subset
from tinytorch.vision import datasets, transforms


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)


def train(args, model, device, train_loader, optimizer, epoch):
    model.train()
    total, seen = 0.0, 0
    bar = tqdm(train_loader, desc=f"epoch {epoch}", disable=args.no_progress)
    for batch_idx, (data, target) in enumerate(bar):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        if batch_idx % args.log_interval == 0:
            value = loss.item()
            total, seen = total + value, seen + 1
            bar.set_postfix(loss=f"{value:.4f}")
            if args.no_progress:
                print(f"Train Epoch: {epoch} [{batch_idx * len(data)}/{len(train_loader.dataset)} "
                      f"({100.0 * batch_idx / len(train_loader):.0f}%)]\tLoss: {value:.6f}")
            if args.dry_run:
                break
    return total / max(seen, 1)


def test(model, device, test_loader):
    model.eval()
    test_loss, correct = 0.0, 0
    with torch.no_grad():
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction="sum").item()
            pred = output.argmax(dim=1, keepdim=True)
            correct += pred.eq(target.view_as(pred)).sum().item()
    test_loss /= len(test_loader.dataset)
    accuracy = correct / len(test_loader.dataset)
    print(f"\nTest set: Average loss: {test_loss:.4f}, Accuracy: {correct}/{len(test_loader.dataset)} ({100.0 * accuracy:.2f}%)\n")
    return test_loss, accuracy


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="PyTorch's MNIST example on tinytorch")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--test-batch-size", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=14)
    parser.add_argument("--lr", type=float, default=1.0)
    parser.add_argument("--gamma", type=float, default=0.7)
    parser.add_argument("--device", choices=["cpu", "cuda"], default=None, help="default: the accelerator if there is one")
    parser.add_argument("--dry-run", action="store_true", help="quickly check a single pass")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--log-interval", type=int, default=10)
    parser.add_argument("--data", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data"))
    parser.add_argument("--train-subset", type=int, default=None, help="train on the first N images only")
    parser.add_argument("--test-subset", type=int, default=None, help="test on the first N images only")
    parser.add_argument("--out", default="runs/mnist_cnn", help="folder for the weights, checkpoint and PNG")
    parser.add_argument("--resume", action="store_true", help="continue from the last finished epoch's checkpoint")
    parser.add_argument("--no-progress", action="store_true", help="print the example's log lines instead of a bar")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    if args.device is None:
        use_accel = torch.accelerator.is_available()
        device = torch.accelerator.current_accelerator() if use_accel else torch.device("cpu")
    else:
        device = torch.device(args.device)
    os.makedirs(args.out, exist_ok=True)

    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    dataset1 = datasets.MNIST(args.data, train=True, download=False, transform=transform)
    dataset2 = datasets.MNIST(args.data, train=False, transform=transform)
    if args.train_subset:
        dataset1 = Subset(dataset1, range(args.train_subset))
    if args.test_subset:
        dataset2 = Subset(dataset2, range(args.test_subset))
    train_loader = DataLoader(dataset1, batch_size=args.batch_size, shuffle=True)
    test_loader = DataLoader(dataset2, batch_size=args.test_batch_size)

    model = Net().to(device)
    optimizer = optim.Adadelta(model.parameters(), lr=args.lr)
    scheduler = StepLR(optimizer, step_size=1, gamma=args.gamma)

    checkpoint_path = os.path.join(args.out, "checkpoint.safetensors")
    first_epoch = 1
    if args.resume and os.path.isfile(checkpoint_path):
        checkpoint = torch.load(checkpoint_path)
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        scheduler.load_state_dict(checkpoint["scheduler"])
        torch.set_rng_state(checkpoint["rng"])
        first_epoch = checkpoint["epoch"] + 1
        print(f"resumed from {checkpoint_path}: {first_epoch - 1} epoch(s) done")

    accuracy = None
    try:
        for epoch in range(first_epoch, args.epochs + 1):
            start = time.perf_counter()
            train_loss = train(args, model, device, train_loader, optimizer, epoch)
            seconds = time.perf_counter() - start
            test_loss, accuracy = test(model, device, test_loader)
            print(f"epoch {epoch}: {seconds:.1f} s of training, train loss {train_loss:.4f}, "
                  f"test loss {test_loss:.4f}, accuracy {accuracy:.4f}")
            scheduler.step()
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                        "epoch": epoch, "rng": torch.get_rng_state()}, checkpoint_path)
    except KeyboardInterrupt:
        print(f"\ninterrupted; {checkpoint_path} holds the last finished epoch: rerun with --resume to continue")
        sys.exit(130)

    torch.save(model.state_dict(), os.path.join(args.out, "mnist_cnn.safetensors"))
    save_picture(model, dataset2, device, args.out)
    return accuracy


def save_picture(model, testset, device, out):
    """The 32 filters of the first convolution and 12 test digits with their predictions (matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no PNG written (pip install 'tinytorch[plots]')")
        return
    images, labels = next(iter(DataLoader(testset, batch_size=12)))
    model.eval()
    with torch.no_grad():
        predicted = model(images.to(device)).argmax(1).cpu()
    filters = model.conv1.weight.detach().cpu().numpy()[:, 0]
    figure, axes = plt.subplots(4, 11, figsize=(11, 4.4))
    for k, ax in enumerate(axes[:, :8].flat):
        ax.imshow(filters[k], cmap="RdBu_r")
        ax.axis("off")
    for ax, image, label, guess in zip(axes[:, 8:].flat, images, labels, predicted):
        ax.imshow(image.numpy().reshape(28, 28), cmap="gray")
        ax.set_title(f"{int(label)} / {int(guess)}", fontsize=8, color="black" if int(label) == int(guess) else "red")
        ax.axis("off")
    figure.suptitle("conv1's 32 filters; test digits (true / predicted)")
    figure.tight_layout()
    path = os.path.join(out, "mnist_cnn.png")
    figure.savefig(path)
    plt.close(figure)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
