"""The lecture's mixture row: a mixture of Gaussians as the output distribution, a mixture density
network (MDN) as the output layer, its negative log-likelihood as the cost.

Bishop's inverse problem (Pattern Recognition and Machine Learning, section 5.6): draw y uniformly
in [0, 1], set x = y + 0.3 sin(2 pi y) + noise, and predict y from x. For x in the middle there
are three y's, so p(y | x) has three modes:

- a network trained with **MSE** predicts E[y | x], one curve through the middle of the branches,
  where hardly any data lie;
- an **MDN** outputs, for each x, the mixing logits, means and scales of K Gaussians and is
  trained on ``-MixtureSameFamily(Categorical(logits), Normal(means, scales)).log_prob(y)``; its
  density follows every branch.

Run: python examples/output_mdn.py [--components 3 --steps 4000 --device cpu --out runs/output_mdn]
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
from tinytorch.distributions import Categorical, MixtureSameFamily, Normal


def make_data(n, generator, noise=0.1):
    """Bishop's data: y ~ U(0, 1), x = y + 0.3 sin(2 pi y) + U(-noise, noise); we predict y from x."""
    y = torch.rand(n, 1, generator=generator)
    x = y + 0.3 * (2 * math.pi * y).sin() + (torch.rand(n, 1, generator=generator) * 2 - 1) * noise
    return x, y


class MDN(nn.Module):
    """x -> a mixture of K Gaussians over y: K mixing logits, K means, K scales (exp keeps them > 0)."""

    def __init__(self, components=3, hidden=32):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(1, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh())
        self.logits = nn.Linear(hidden, components)
        self.means = nn.Linear(hidden, components)
        self.log_scales = nn.Linear(hidden, components)

    def forward(self, x):
        h = self.body(x)
        mixture = Categorical(logits=self.logits(h))
        components = Normal(self.means(h), self.log_scales(h).exp())
        return MixtureSameFamily(mixture, components)  # batch shape (n,), one y each


class Regressor(nn.Module):
    """x -> E[y | x]: one linear output unit, trained with MSE."""

    def __init__(self, hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(1, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, 1))

    def forward(self, x):
        return self.net(x)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Mixture density network on Bishop's inverse problem, against MSE.")
    parser.add_argument("--components", type=int, default=3, help="K, the Gaussians in the mixture")
    parser.add_argument("--steps", type=int, default=4000, help="full-batch Adam steps for each model")
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument("--samples", type=int, default=1000, help="training points (as many again for the test)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/output_mdn", help="folder for the PNG and the weights")
    parser.add_argument("--no-progress", action="store_true", help="hide the tqdm bars")
    return parser.parse_args(argv)


def train(model, cost, steps, lr, label, progress):
    optimizer = optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in tqdm(range(steps), desc=label, disable=not progress):
        loss = cost()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def main(argv=None):
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    os.makedirs(args.out, exist_ok=True)
    generator = torch.Generator().manual_seed(args.seed)
    x_train, y_train = (t.to(device) for t in make_data(args.samples, generator))
    x_test, y_test = (t.to(device) for t in make_data(args.samples, generator))

    start = time.perf_counter()
    regressor, mdn = Regressor().to(device), MDN(args.components).to(device)
    mse_losses = train(regressor, lambda: F.mse_loss(regressor(x_train), y_train), args.steps, args.lr, "MSE",
                       not args.no_progress)
    # The cost: the mixture's negative log-likelihood of each y (y[:, 0]: one value per batch element).
    mdn_losses = train(mdn, lambda: -mdn(x_train).log_prob(y_train[:, 0]).mean(), args.steps, args.lr, "MDN",
                       not args.no_progress)
    seconds = time.perf_counter() - start

    with torch.no_grad():
        sigma = (regressor(x_train) - y_train).pow(2).mean().sqrt()  # the MSE model's Gaussian, fitted
        mse_nll = -Normal(regressor(x_test), sigma).log_prob(y_test).mean().item()
        mse_error = (regressor(x_test) - y_test).pow(2).mean().item()
        mdn_nll = -mdn(x_test).log_prob(y_test[:, 0]).mean().item()
        # How far is a y drawn from each model from the nearest true branch? (0 for a perfect model)
        grid = torch.linspace(0, 1, 2001, device=device)
        branches = grid + 0.3 * (2 * math.pi * grid).sin()  # x of each y on the noise-free curve
        mdn_y = mdn(x_test).sample()
        mse_y = regressor(x_test)[:, 0]
        mdn_off = _distance_to_curve(x_test[:, 0], mdn_y, branches, grid)
        mse_off = _distance_to_curve(x_test[:, 0], mse_y, branches, grid)
    print(f"MSE network: test NLL {mse_nll:.3f} nats/point (Gaussian with the fitted sigma {sigma.item():.3f}), "
          f"test MSE {mse_error:.4f}, mean |x - curve(y)| of its predictions {mse_off:.3f}")
    print(f"MDN, K = {args.components}: test NLL {mdn_nll:.3f} nats/point, mean |x - curve(y)| of its samples "
          f"{mdn_off:.3f}")
    print(f"training took {seconds:.1f} s")
    torch.save(regressor.state_dict(), os.path.join(args.out, "output_mdn_mse.safetensors"))
    torch.save(mdn.state_dict(), os.path.join(args.out, "output_mdn.safetensors"))
    draw(regressor, mdn, x_train.cpu(), y_train.cpu(), mse_nll, mdn_nll, os.path.join(args.out, "output_mdn.png"))
    return {"mse_nll": mse_nll, "mdn_nll": mdn_nll, "mse_off": mse_off, "mdn_off": mdn_off, "mse_error": mse_error,
            "mse_losses": mse_losses, "mdn_losses": mdn_losses}


def _distance_to_curve(x, y, branches, grid):
    """Mean |x - (y + 0.3 sin 2 pi y)|: how far (x, y) lies from the data's curve along x."""
    index = (y.clamp(0, 1) * (len(grid) - 1)).round().long()
    return (x - branches[index]).abs().mean().item()


def draw(regressor, mdn, x, y, mse_nll, mdn_nll, path):
    """Left: the data and the MSE fit. Right: the MDN's conditional density p(y | x), its component
    means (shaded by their weight) and samples drawn from it."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no PNG written (pip install 'tinytorch[plots]')")
        return
    device = next(mdn.parameters()).device
    xs = torch.linspace(-0.15, 1.15, 260)
    ys = torch.linspace(-0.1, 1.1, 240)
    with torch.no_grad():
        fit = regressor(xs.reshape(-1, 1).to(device))[:, 0].cpu()
        mixture = mdn(xs.reshape(-1, 1).to(device))
        density = mixture.log_prob(ys.reshape(-1, 1).to(device)).exp().cpu()  # (len(ys), len(xs))
        weights = mixture.mixture_distribution.probs.cpu()
        means = mixture.component_distribution.mean.cpu()
        torch.manual_seed(1)
        samples = mixture.sample().cpu()
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.6), sharey=True)
    left.scatter(x[:, 0].numpy(), y[:, 0].numpy(), s=4, color="0.55", label="training data")
    left.plot(xs.numpy(), fit.numpy(), color="tab:orange", lw=2.5, label="MSE network: E[y | x]")
    left.set_title(f"MSE: one wrong average curve (test NLL {mse_nll:.2f} nats)")
    from matplotlib.colors import PowerNorm

    # a power norm: the narrow outer branches are far denser than the three-way middle
    right.pcolormesh(xs.numpy(), ys.numpy(), density.numpy(), cmap="Blues", shading="auto", norm=PowerNorm(0.35))
    for k in range(means.shape[1]):
        colors = [(0.85, 0.1, 0.1, float(w)) for w in weights[:, k]]
        right.scatter(xs.numpy(), means[:, k].numpy(), c=colors, s=6)
    right.scatter(xs.numpy(), samples.numpy(), s=5, color="k", marker="x", linewidths=0.6, label="samples from the MDN")
    right.set_title(f"MDN, K = {means.shape[1]}: density p(y | x), component means (red, by weight)\n"
                    f"test NLL {mdn_nll:.2f} nats")
    for ax in (left, right):
        ax.set_xlabel("x")
        ax.set_xlim(-0.15, 1.15)
        ax.set_ylim(-0.1, 1.1)
        ax.legend(loc="upper left", fontsize=8)
    left.set_ylabel("y")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
