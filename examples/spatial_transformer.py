"""Spatial Transformer Networks on MNIST, after PyTorch's tutorial (intermediate_source/
spatial_transformer_tutorial.py, Ghassen Hamrouni), on tinytorch.

The tutorial's network: a localization network (two convolutions with max-pooling and ReLU, then
two linear layers) regresses the 2x3 affine matrix theta of each image, initialized to the
identity; F.affine_grid and F.grid_sample resample the image with it, and a small CNN classifies
the result. SGD lr 0.01, batch 64, 20 epochs, inputs normalized with (0.1307, 0.3081). Adds a tqdm
bar, the weights, and a PNG of test digits before and after the learned transformation (the
tutorial's picture).

Run: python examples/spatial_transformer.py [--epochs 2 --device cpu|cuda]
"""

import argparse
import os
import time

from tqdm import tqdm

import tinytorch as torch
import tinytorch.nn as nn
import tinytorch.nn.functional as F
import tinytorch.optim as optim
from tinytorch.utils.data import DataLoader, Subset
from tinytorch.vision import datasets, transforms


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.conv2_drop = nn.Dropout2d()
        self.fc1 = nn.Linear(320, 50)
        self.fc2 = nn.Linear(50, 10)
        # The localization network: it sees the image and proposes where to look.
        self.localization = nn.Sequential(
            nn.Conv2d(1, 8, kernel_size=7), nn.MaxPool2d(2, stride=2), nn.ReLU(True),
            nn.Conv2d(8, 10, kernel_size=5), nn.MaxPool2d(2, stride=2), nn.ReLU(True),
        )
        # Its regressor of the 2x3 affine matrix, starting at the identity transform.
        self.fc_loc = nn.Sequential(nn.Linear(10 * 3 * 3, 32), nn.ReLU(True), nn.Linear(32, 3 * 2))
        self.fc_loc[2].weight.data.zero_()
        self.fc_loc[2].bias.data.copy_(torch.tensor([1, 0, 0, 0, 1, 0], dtype=torch.float))

    def stn(self, x):
        xs = self.localization(x)
        xs = xs.view(-1, 10 * 3 * 3)
        theta = self.fc_loc(xs).view(-1, 2, 3)
        grid = F.affine_grid(theta, x.size(), align_corners=False)
        return F.grid_sample(x, grid, align_corners=False)

    def forward(self, x):
        x = self.stn(x)
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        x = x.view(-1, 320)
        x = F.relu(self.fc1(x))
        x = F.dropout(x, training=self.training)
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)


def train(model, device, loader, optimizer, epoch, no_progress):
    model.train()
    total, count = 0.0, 0
    bar = tqdm(loader, desc=f"epoch {epoch}", disable=no_progress)
    for data, target in bar:
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        loss = F.nll_loss(model(data), target)
        loss.backward()
        optimizer.step()
        total, count = total + loss.item() * len(data), count + len(data)
        bar.set_postfix(loss=f"{total / count:.4f}")
    return total / count


def test(model, device, loader):
    model.eval()
    loss, correct = 0.0, 0
    with torch.no_grad():
        for data, target in loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            loss += F.nll_loss(output, target, reduction="sum").item()
            correct += output.argmax(1).eq(target).sum().item()
    n = len(loader.dataset)
    print(f"Test set: Average loss: {loss / n:.4f}, Accuracy: {correct}/{n} ({100.0 * correct / n:.0f}%)")
    return loss / n, correct / n


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Spatial Transformer Networks on MNIST (PyTorch's tutorial) on tinytorch")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--data", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data"))
    parser.add_argument("--train-subset", type=int, default=None, help="train on the first N images only")
    parser.add_argument("--test-subset", type=int, default=None, help="test on the first N images only")
    parser.add_argument("--out", default="runs/spatial_transformer", help="folder for the weights and the PNG")
    parser.add_argument("--no-progress", action="store_true")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    os.makedirs(args.out, exist_ok=True)
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    trainset = datasets.MNIST(args.data, train=True, download=False, transform=transform)
    testset = datasets.MNIST(args.data, train=False, transform=transform)
    if args.train_subset:
        trainset = Subset(trainset, range(args.train_subset))
    if args.test_subset:
        testset = Subset(testset, range(args.test_subset))
    train_loader = DataLoader(trainset, batch_size=args.batch_size, shuffle=True)
    test_loader = DataLoader(testset, batch_size=args.batch_size)

    model = Net().to(device)
    optimizer = optim.SGD(model.parameters(), lr=args.lr)
    history = []
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        train_loss = train(model, device, train_loader, optimizer, epoch, args.no_progress)
        test_loss, accuracy = test(model, device, test_loader)
        print(f"epoch {epoch}: {time.perf_counter() - start:.1f} s, train loss {train_loss:.4f}, "
              f"test loss {test_loss:.4f}, accuracy {accuracy:.4f}")
        history.append({"train_loss": train_loss, "test_loss": test_loss, "accuracy": accuracy})
    torch.save(model.state_dict(), os.path.join(args.out, "spatial_transformer.safetensors"))
    save_picture(model, testset, device, args.out)
    return history


def save_picture(model, testset, device, out):
    """16 test digits as they come in, and as the spatial transformer resamples them."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no PNG written (pip install 'tinytorch[plots]')")
        return
    images, _ = next(iter(DataLoader(testset, batch_size=16)))
    model.eval()
    with torch.no_grad():
        transformed = model.stn(images.to(device)).cpu()
    figure, axes = plt.subplots(4, 8, figsize=(8, 4.4))
    for k in range(16):
        for column, batch in ((k % 4, images), (4 + k % 4, transformed)):
            ax = axes[k // 4, column]
            ax.imshow(batch[k, 0].numpy() * 0.3081 + 0.1307, cmap="gray", vmin=0, vmax=1)
            ax.axis("off")
    axes[0, 1].set_title("dataset images", loc="left")
    axes[0, 5].set_title("transformed images", loc="left")
    figure.tight_layout()
    path = os.path.join(out, "spatial_transformer.png")
    figure.savefig(path)
    plt.close(figure)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
