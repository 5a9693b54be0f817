"""The lecture's continuous output: a Gaussian output distribution, a linear output layer, and the
Gaussian negative log-likelihood as the cost (with a fixed variance: the squared error).

Data: y = sin(x) + 0.3 x + noise whose standard deviation grows with x (heteroscedastic). Two
networks of the same body are trained on it:

- **MSE**: one linear output unit, the mean; the cost is the mean squared error, which is the
  Gaussian NLL with one fixed variance. After training, that variance's maximum-likelihood value
  is the mean squared residual, so its band has the same width everywhere;
- **Gaussian NLL**: two linear output units, the mean and the log-variance of y given x; the cost
  is ``F.gaussian_nll_loss(mean, y, var)``, so the band follows the noise.

Both are drawn with their +-2 sigma bands, and scored by test negative log-likelihood (nats per
point, lower is better) and by how many test points fall inside the band (95% is right).

Run: python examples/output_gaussian.py [--steps 3000 --device cpu --out runs/output_gaussian]
"""

import argparse
import os
import time

from tqdm import tqdm

import tinytorch as torch
import tinytorch.nn as nn
import tinytorch.nn.functional as F
import tinytorch.optim as optim
from tinytorch.distributions import Normal


def true_mean(x):
    return x.sin() + 0.3 * x


def true_std(x):
    return 0.05 + 0.12 * (x + 3)  # 0.05 at x = -3, 0.77 at x = 3


def make_data(n, generator):
    x = torch.rand(n, 1, generator=generator) * 6 - 3
    y = true_mean(x) + true_std(x) * torch.randn(n, 1, generator=generator)
    return x, y


def body(hidden):
    return nn.Sequential(nn.Linear(1, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh())


class MeanNet(nn.Module):
    """x -> mean: one linear output unit (trained with MSE)."""

    def __init__(self, hidden=64):
        super().__init__()
        self.body = body(hidden)
        self.mean = nn.Linear(hidden, 1)

    def forward(self, x):
        return self.mean(self.body(x))


class GaussianNet(nn.Module):
    """x -> (mean, variance): two linear output units; the variance is exp(log-variance) > 0."""

    def __init__(self, hidden=64):
        super().__init__()
        self.body = body(hidden)
        self.mean = nn.Linear(hidden, 1)
        self.log_var = nn.Linear(hidden, 1)

    def forward(self, x):
        h = self.body(x)
        return self.mean(h), self.log_var(h).exp()


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Gaussian output: heteroscedastic Gaussian NLL against plain MSE.")
    parser.add_argument("--steps", type=int, default=3000, help="full-batch Adam steps for each model")
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--samples", type=int, default=1000, help="training points (as many again for the test)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/output_gaussian", help="folder for the PNG and the weights")
    parser.add_argument("--no-progress", action="store_true", help="hide the tqdm bars")
    return parser.parse_args(argv)


def fit(model, loss_of, x, y, steps, lr, label, progress):
    optimizer = optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in tqdm(range(steps), desc=label, disable=not progress):
        loss = loss_of(model, x, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def mse_cost(model, x, y):
    return F.mse_loss(model(x), y)  # = Gaussian NLL with a fixed variance, up to a constant and a scale


def gaussian_cost(model, x, y):
    mean, var = model(x)
    return F.gaussian_nll_loss(mean, y, var)  # 0.5 (log var + (y - mean)^2 / var), averaged


def main(argv=None):
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    os.makedirs(args.out, exist_ok=True)
    generator = torch.Generator().manual_seed(args.seed)
    x_train, y_train = (t.to(device) for t in make_data(args.samples, generator))
    x_test, y_test = (t.to(device) for t in make_data(args.samples, generator))

    start = time.perf_counter()
    mse_model, gaussian_model = MeanNet().to(device), GaussianNet().to(device)
    mse_losses = fit(mse_model, mse_cost, x_train, y_train, args.steps, args.lr, "MSE", not args.no_progress)
    nll_losses = fit(gaussian_model, gaussian_cost, x_train, y_train, args.steps, args.lr, "Gaussian NLL",
                     not args.no_progress)
    seconds = time.perf_counter() - start

    with torch.no_grad():
        # The MSE model's variance: the maximum-likelihood value for a fixed-variance Gaussian,
        # the mean squared training residual.
        sigma = (mse_model(x_train) - y_train).pow(2).mean().sqrt()
        models = {"MSE (one fixed variance)": (mse_model(x_test), sigma.expand_as(y_test)),
                  "Gaussian NLL (mean and variance)": tuple_std(gaussian_model(x_test))}
        results = {}
        for name, (mean, std) in models.items():
            nll = -Normal(mean, std).log_prob(y_test).mean().item()
            inside = ((y_test - mean).abs() <= 2 * std).float().mean().item()
            mse = (mean - y_test).pow(2).mean().item()
            results[name] = {"nll": nll, "coverage": inside, "mse": mse}
            print(f"{name:34s} test NLL {nll:6.3f} nats/point, MSE {mse:.4f}, inside +-2 sigma {100 * inside:.1f}%")
        exact = -Normal(true_mean(x_test), true_std(x_test)).log_prob(y_test).mean().item()
    print(f"{'the true distribution':34s} test NLL {exact:6.3f} nats/point")
    print(f"training took {seconds:.1f} s")
    torch.save(mse_model.state_dict(), os.path.join(args.out, "output_gaussian_mse.safetensors"))
    torch.save(gaussian_model.state_dict(), os.path.join(args.out, "output_gaussian_nll.safetensors"))
    draw(mse_model, sigma.item(), gaussian_model, x_train.cpu(), y_train.cpu(), results,
         os.path.join(args.out, "output_gaussian.png"))
    return {"mse": results["MSE (one fixed variance)"], "gaussian": results["Gaussian NLL (mean and variance)"],
            "true_nll": exact, "mse_losses": mse_losses, "nll_losses": nll_losses}


def tuple_std(mean_and_var):
    mean, var = mean_and_var
    return mean, var.sqrt()


def draw(mse_model, sigma, gaussian_model, x, y, results, path):
    """Both fits over the data, each with its +-2 sigma band and the true one dashed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no PNG written (pip install 'tinytorch[plots]')")
        return
    device = next(mse_model.parameters()).device
    grid = torch.linspace(-3, 3, 300).reshape(-1, 1)
    with torch.no_grad():
        mse_mean = mse_model(grid.to(device)).cpu()
        mean, var = gaussian_model(grid.to(device))
        mean, std = mean.cpu(), var.sqrt().cpu()
    fits = [("MSE (one fixed variance)", mse_mean, torch.full_like(mse_mean, sigma), "tab:orange"),
            ("Gaussian NLL (mean and variance)", mean, std, "tab:blue")]
    g = grid[:, 0].numpy()
    figure, axes = plt.subplots(1, 2, figsize=(12, 4.3), sharey=True)
    for ax, (name, m, s, color) in zip(axes, fits):
        ax.scatter(x[:, 0].numpy(), y[:, 0].numpy(), s=4, color="0.6", label="training data")
        ax.plot(g, m[:, 0].numpy(), color=color, lw=2, label="predicted mean")
        ax.fill_between(g, (m - 2 * s)[:, 0].numpy(), (m + 2 * s)[:, 0].numpy(), color=color, alpha=0.25,
                        label="predicted mean +- 2 sigma")
        truth, spread = true_mean(grid)[:, 0].numpy(), true_std(grid)[:, 0].numpy()
        ax.plot(g, truth - 2 * spread, "k--", lw=0.8, label="true +- 2 sigma")
        ax.plot(g, truth + 2 * spread, "k--", lw=0.8)
        r = results[name]
        ax.set_title(f"{name}\ntest NLL {r['nll']:.3f} nats, {100 * r['coverage']:.0f}% inside the band")
        ax.set_xlabel("x")
        ax.legend(loc="upper left", fontsize=8)
    axes[0].set_ylabel("y")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
