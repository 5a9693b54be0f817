"""A fully visible belief network on binarized MNIST: MADE, the masked autoencoder for
distribution estimation (Germain, Gregor, Murray and Larochelle, 2015).

An FVBN writes p(x) = prod_d p(x_d | x_<d) with no latent variables: each pixel is a Bernoulli
whose logit depends on the pixels before it (in raster order). MADE computes all 784 conditionals
in one pass of an autoencoder whose weights are masked: each hidden unit k gets a degree m(k) in
[1, D-1] and sees only inputs d <= m(k); output d sees only hidden units with m(k) < d. So output
d depends on x_<d alone, and

    -log p(x) = sum_d BCE(logit_d, x_d)

is an exact negative log-likelihood, reported in nats per test image. The paper's one hidden
layer of 500 units reaches 88.40 nats on binarized MNIST (Larochelle and Murray's: each pixel drawn
once as a Bernoulli of its grey level, then fixed). ``--binarize sample`` (the default) makes such
a dataset the same way, with a fixed seed (the same process, another draw);
``--binarize threshold`` sets pixels above 0.5 to 1, an easier dataset whose numbers are lower.
Sampling runs the network 784 times, one pixel each.

Run: python examples/made.py [--epochs 20 --hidden 500 --device cpu --out runs/made]
"""

import argparse
import os
import time

from tqdm import tqdm

import tinytorch as torch
import tinytorch.nn as nn
import tinytorch.nn.functional as F
import tinytorch.optim as optim
from tinytorch.distributions import Bernoulli, Independent
from tinytorch.vision import datasets, utils


class MaskedLinear(nn.Linear):
    """A Linear layer whose weight is multiplied by a fixed 0/1 mask (a buffer: it moves with .to()
    and is saved with the weights)."""

    def __init__(self, in_features, out_features, mask):
        super().__init__(in_features, out_features)
        self.register_buffer("mask", mask.to(self.weight.dtype))

    def forward(self, x):
        return F.linear(x, self.weight * self.mask, self.bias)


class MADE(nn.Module):
    """D inputs -> hidden layers -> D logits, masked so that logit d depends on x_<d only."""

    def __init__(self, dim=784, hidden=(500,), seed=0):
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        degrees = [torch.arange(1, dim + 1)]  # the inputs' degrees: their positions
        for size in hidden:  # hidden degrees in [1, D - 1], drawn at random (the paper's choice)
            degrees.append(torch.randint(1, dim, (size,), generator=generator))
        layers = []
        for previous, current in zip(degrees[:-1], degrees[1:]):
            mask = current.reshape(-1, 1) >= previous.reshape(1, -1)  # unit k sees inputs d <= m(k)
            layers += [MaskedLinear(len(previous), len(current), mask), nn.ReLU()]
        output_mask = degrees[0].reshape(-1, 1) > degrees[-1].reshape(1, -1)  # output d sees m(k) < d
        layers.append(MaskedLinear(len(degrees[-1]), dim, output_mask))
        self.net = nn.Sequential(*layers)
        self.dim = dim

    def forward(self, x):
        return self.net(x)  # the logits of p(x_d = 1 | x_<d), d = 1..D

    def distribution(self, x):
        """p(x) as one event of D Bernoullis with the autoregressive logits."""
        return Independent(Bernoulli(logits=self(x)), 1)

    def sample(self, n, device="cpu"):
        """Ancestral sampling: pixel d from p(x_d | x_<d), one network pass per pixel."""
        x = torch.zeros(n, self.dim, device=device)
        with torch.no_grad():
            for d in range(self.dim):
                x[:, d] = torch.bernoulli(torch.sigmoid(self(x)[:, d]))
        return x


def load_binarized(root, train, subset=None, how="sample"):
    """MNIST as flattened 0/1 pixels: each drawn once from Bernoulli(grey level) with a fixed seed
    (``sample``, the usual binarized MNIST) or thresholded at 0.5 (``threshold``)."""
    images = datasets.MNIST(root=root, train=train, download=False).data
    if subset:
        images = images[:subset]
    grey = images.reshape(-1, 784).float() / 255
    if how == "threshold":
        return (grey > 0.5).float()
    generator = torch.Generator().manual_seed(1234 if train else 4321)  # one fixed dataset, whatever --seed
    return torch.bernoulli(grey, generator=generator)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="MADE, a fully visible belief network, on binarized MNIST.")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--lr", type=float, default=3e-3, help="Adam's, annealed to 0 over the epochs (cosine)")
    parser.add_argument("--hidden", type=int, nargs="+", default=[500], help="hidden layer sizes")
    parser.add_argument("--samples", type=int, default=64, help="digits to draw for the grid (0: none)")
    parser.add_argument("--binarize", default="sample", choices=["sample", "threshold"],
                        help="pixels drawn once from Bernoulli(grey level), or thresholded at 0.5")
    parser.add_argument("--data", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data"))
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train-subset", type=int, default=None, help="train on the first N images only")
    parser.add_argument("--test-subset", type=int, default=None, help="test on the first N images only")
    parser.add_argument("--out", default="runs/made", help="folder for the PNGs and the weights")
    parser.add_argument("--no-progress", action="store_true", help="hide the tqdm bars")
    return parser.parse_args(argv)


def test_nll(model, images, batch_size=1000):
    """Mean -log p(x) over a set, nats per image (exact: MADE's likelihood needs no bound)."""
    total = 0.0
    with torch.no_grad():
        for i in range(0, len(images), batch_size):
            total += -model.distribution(images[i:i + batch_size]).log_prob(images[i:i + batch_size]).sum().item()
    return total / len(images)


def main(argv=None):
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    os.makedirs(args.out, exist_ok=True)
    train_images = load_binarized(args.data, True, args.train_subset, args.binarize).to(device)
    test_images = load_binarized(args.data, False, args.test_subset, args.binarize).to(device)

    model = MADE(hidden=tuple(args.hidden), seed=args.seed).to(device)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    schedule = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(args.epochs, 1))
    history = []
    start = time.perf_counter()
    for epoch in range(args.epochs):
        order = torch.randperm(len(train_images), device=device)
        total, batches = 0.0, range(0, len(order), args.batch_size)
        for i in tqdm(batches, desc=f"epoch {epoch + 1}", disable=args.no_progress):
            x = train_images[order[i:i + args.batch_size]]
            # -log p(x) = sum over pixels of the Bernoulli NLL (BCE with logits), per image
            loss = F.binary_cross_entropy_with_logits(model(x), x, reduction="sum") / len(x)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(x)
        schedule.step()
        nll = test_nll(model, test_images)
        history.append((total / len(order), nll))
        print(f"epoch {epoch + 1}: train NLL {total / len(order):.2f}, test NLL {nll:.2f} nats/image", flush=True)
    seconds = time.perf_counter() - start
    print(f"training took {seconds:.1f} s; test NLL {history[-1][1]:.2f} nats ({args.binarize} binarization; "
          "the paper: 88.40 on Larochelle and Murray's)" if history else "no epochs run")
    torch.save(model.state_dict(), os.path.join(args.out, "made.safetensors"))
    written = None
    if args.samples:
        torch.manual_seed(args.seed + 1)
        sample_start = time.perf_counter()
        samples = model.sample(args.samples, device=device).reshape(-1, 1, 28, 28).cpu()
        print(f"drew {args.samples} digits in {time.perf_counter() - sample_start:.1f} s ({model.dim} passes)")
        written = save_grid(samples, os.path.join(args.out, "made_samples.png"))
    return {"test_nll": history[-1][1] if history else None, "history": history, "seconds": seconds, "grid": written}


def save_grid(images, path):
    try:
        utils.save_image(images, path, nrow=8, padding=2, pad_value=0.5)
    except ImportError:
        print("neither Pillow nor matplotlib is installed: no sample grid written (pip install 'tinytorch[plots]')")
        return None
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()
