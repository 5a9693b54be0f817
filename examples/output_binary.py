"""The lecture's first output type: a binary label. Bernoulli output distribution, sigmoid output
unit, binary cross-entropy cost.

Two interleaved half-moons (generated here) are separated by a small MLP whose last layer
has one unit; sigmoid turns it into P(y = 1 | x), and the cost is the Bernoulli negative
log-likelihood, i.e. the binary cross-entropy. The script checks that the two are the same number
(``-Bernoulli(logits=...).log_prob(y).mean()`` against ``F.binary_cross_entropy``) and draws the
decision boundary (P = 0.5) over the probability map.

Run: python examples/output_binary.py [--epochs 300 --device cpu --out runs/output_binary]
"""

import argparse
import math
import os
import time

from tqdm import tqdm

import tinytorch as torch
import tinytorch.nn as nn
import tinytorch.nn.functional as F
import tinytorch.optim as optim
from tinytorch.distributions import Bernoulli


def two_moons(n, noise, generator):
    """n points on two interleaved half-circles (label 0: upper, 1: lower), with Gaussian noise."""
    half = n // 2
    angle = torch.rand(n, generator=generator) * math.pi
    upper = torch.stack([angle[:half].cos(), angle[:half].sin()], 1)
    lower = torch.stack([1 - angle[half:].cos(), 0.5 - angle[half:].sin()], 1)
    x = torch.cat([upper, lower]) + noise * torch.randn(n, 2, generator=generator)
    y = torch.cat([torch.zeros(half), torch.ones(n - half)])
    return x, y


class Classifier(nn.Module):
    """x -> one logit; sigmoid(logit) = P(y = 1 | x) is the Bernoulli parameter."""

    def __init__(self, hidden=32):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(2, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh())
        self.out = nn.Linear(hidden, 1)  # the output layer: one unit

    def forward(self, x):
        return self.out(self.body(x)).squeeze(-1)  # the logit (log-odds)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Binary output: sigmoid + binary cross-entropy on two moons.")
    parser.add_argument("--epochs", type=int, default=300, help="passes over the training set")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--samples", type=int, default=1000, help="training points (as many again for the test)")
    parser.add_argument("--noise", type=float, default=0.15)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/output_binary", help="folder for the PNG and the weights")
    parser.add_argument("--no-progress", action="store_true", help="hide the tqdm bar")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    os.makedirs(args.out, exist_ok=True)
    generator = torch.Generator().manual_seed(args.seed)
    x_train, y_train = two_moons(args.samples, args.noise, generator)
    x_test, y_test = two_moons(args.samples, args.noise, generator)
    x_train, y_train, x_test, y_test = (t.to(device) for t in (x_train, y_train, x_test, y_test))

    model = Classifier().to(device)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    losses = []
    start = time.perf_counter()
    for _ in tqdm(range(args.epochs), desc="epochs", disable=args.no_progress):
        order = torch.randperm(len(x_train), device=device)
        total = 0.0
        for i in range(0, len(order), args.batch_size):
            batch = order[i:i + args.batch_size]
            p = torch.sigmoid(model(x_train[batch]))  # the output unit
            loss = F.binary_cross_entropy(p, y_train[batch])  # the cost: Bernoulli NLL
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        losses.append(total / len(order))
    seconds = time.perf_counter() - start

    model.eval()
    with torch.no_grad():
        logits = model(x_test)
        test_bce = F.binary_cross_entropy(torch.sigmoid(logits), y_test).item()
        test_nll = -Bernoulli(logits=logits).log_prob(y_test).mean().item()  # the same number, stably
        accuracy = ((logits > 0).float() == y_test).float().mean().item()
    print(f"training took {seconds:.1f} s; final training loss {losses[-1]:.4f} (first epoch {losses[0]:.4f})")
    print(f"test binary cross-entropy {test_bce:.4f} nats = Bernoulli NLL {test_nll:.4f} nats")
    print(f"test accuracy {accuracy:.3f}")
    torch.save(model.state_dict(), os.path.join(args.out, "output_binary.safetensors"))
    draw(model, x_test.cpu(), y_test.cpu(), losses, os.path.join(args.out, "output_binary.png"))
    return {"accuracy": accuracy, "test_nll": test_nll, "test_bce": test_bce, "losses": losses}


def draw(model, x, y, losses, path):
    """The probability map P(y = 1 | x), the boundary P = 0.5, the test points; the loss curve."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no PNG written (pip install 'tinytorch[plots]')")
        return
    device = next(model.parameters()).device
    xs, ys = torch.linspace(-1.6, 2.6, 200), torch.linspace(-1.2, 1.7, 150)
    grid_x, grid_y = xs.reshape(1, -1).expand(150, 200), ys.reshape(-1, 1).expand(150, 200)
    points = torch.stack([grid_x.reshape(-1), grid_y.reshape(-1)], 1).to(device)
    with torch.no_grad():
        probability = torch.sigmoid(model(points)).reshape(150, 200).cpu().numpy()
    figure, (ax, curve) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [1.6, 1]})
    shade = ax.contourf(grid_x.numpy(), grid_y.numpy(), probability, levels=20, cmap="RdBu_r", alpha=0.75)
    ax.contour(grid_x.numpy(), grid_y.numpy(), probability, levels=[0.5], colors="k", linewidths=2)
    ax.scatter(x[:, 0].numpy(), x[:, 1].numpy(), c=y.numpy(), cmap="RdBu_r", edgecolors="k", s=12, linewidths=0.4)
    figure.colorbar(shade, ax=ax, label="P(y = 1 | x) = sigmoid(output)")
    ax.set_title("binary output: sigmoid unit, binary cross-entropy\n(black line: decision boundary P = 0.5)")
    curve.plot(range(1, len(losses) + 1), losses)
    curve.set_xlabel("epoch")
    curve.set_ylabel("training BCE (nats)")
    curve.set_yscale("log")
    curve.set_title("training loss")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
