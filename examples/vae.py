"""A variational autoencoder (Kingma and Welling, 2014) on MNIST: one of the lecture's ways to model
an arbitrary output distribution, here the distribution of the images themselves.

The encoder maps an image x to a Gaussian q(z | x) = Normal(mu, sigma) over a 20-dimensional code;
a code is drawn with ``rsample`` (z = mu + sigma * eps, the reparameterization trick, so the
gradient reaches the encoder); the decoder maps z to 784 Bernoulli logits p(x | z). The cost is
the negative evidence lower bound,

    -ELBO = E_q[-log p(x | z)] + KL(q(z | x) || N(0, I))

with the KL term from ``kl_divergence`` (a closed form for two Normals). -ELBO bounds -log p(x)
from above; the test value is reported in nats per image. New digits are decoded from z ~ N(0, I)
and written as a grid with ``make_grid`` / ``save_image``.

As PyTorch's VAE example does, the grey levels (in [0, 1]) serve as the Bernoulli targets.

Run: python examples/vae.py [--epochs 10 --device cpu --out runs/vae]
"""

import argparse
import os
import time

from tqdm import tqdm

import tinytorch as torch
import tinytorch.nn as nn
import tinytorch.nn.functional as F
import tinytorch.optim as optim
from tinytorch.distributions import Normal, kl_divergence
from tinytorch.vision import datasets, utils


class VAE(nn.Module):
    def __init__(self, latent=20, hidden=400):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(784, hidden), nn.ReLU())
        self.mu = nn.Linear(hidden, latent)
        self.log_var = nn.Linear(hidden, latent)
        self.decoder = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, 784))
        self.latent = latent

    def posterior(self, x):
        """q(z | x): a diagonal Gaussian (its batch shape: images x latent dims)."""
        h = self.encoder(x)
        return Normal(self.mu(h), (0.5 * self.log_var(h)).exp())

    def forward(self, x):
        """-ELBO per image: reconstruction NLL (Bernoulli, via BCE with logits) + KL to the prior."""
        q = self.posterior(x)
        z = q.rsample()  # reparameterized: gradients flow to mu and sigma
        logits = self.decoder(z)
        reconstruction = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(-1)
        prior = Normal(torch.zeros_like(z), torch.ones_like(z))
        kl = kl_divergence(q, prior).sum(-1)
        return reconstruction, kl


def load_mnist(root, train, subset=None):
    """MNIST as a float tensor of flattened images in [0, 1] (one conversion, no per-image transform)."""
    images = datasets.MNIST(root=root, train=train, download=False).data
    if subset:
        images = images[:subset]
    return images.float().div(255).reshape(-1, 784)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="A variational autoencoder on MNIST with tinytorch.distributions.")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--latent", type=int, default=20)
    parser.add_argument("--data", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data"))
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train-subset", type=int, default=None, help="train on the first N images only")
    parser.add_argument("--test-subset", type=int, default=None, help="test on the first N images only")
    parser.add_argument("--out", default="runs/vae", help="folder for the PNGs and the weights")
    parser.add_argument("--no-progress", action="store_true", help="hide the tqdm bars")
    return parser.parse_args(argv)


def evaluate(model, images, batch_size):
    """Mean -ELBO, reconstruction and KL over a set, in nats per image."""
    totals = [0.0, 0.0]
    with torch.no_grad():
        for i in range(0, len(images), batch_size):
            reconstruction, kl = model(images[i:i + batch_size])
            totals[0] += reconstruction.sum().item()
            totals[1] += kl.sum().item()
    reconstruction, kl = (t / len(images) for t in totals)
    return reconstruction + kl, reconstruction, kl


def main(argv=None):
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    os.makedirs(args.out, exist_ok=True)
    train_images = load_mnist(args.data, True, args.train_subset).to(device)
    test_images = load_mnist(args.data, False, args.test_subset).to(device)

    model = VAE(args.latent).to(device)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    history = []
    start = time.perf_counter()
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(train_images), device=device)
        total, batches = 0.0, range(0, len(order), args.batch_size)
        for i in tqdm(batches, desc=f"epoch {epoch + 1}", disable=args.no_progress):
            x = train_images[order[i:i + args.batch_size]]
            reconstruction, kl = model(x)
            loss = (reconstruction + kl).mean()  # -ELBO per image
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(x)
        model.eval()
        test_elbo, test_reconstruction, test_kl = evaluate(model, test_images, 1000)
        history.append((total / len(order), test_elbo))
        print(f"epoch {epoch + 1}: train -ELBO {total / len(order):.2f}, test -ELBO {test_elbo:.2f} nats/image "
              f"(reconstruction {test_reconstruction:.2f} + KL {test_kl:.2f})", flush=True)
    seconds = time.perf_counter() - start
    print(f"training took {seconds:.1f} s")
    torch.save(model.state_dict(), os.path.join(args.out, "vae.safetensors"))

    with torch.no_grad():
        z = torch.randn(64, args.latent, device=device)  # from the prior
        samples = torch.sigmoid(model.decoder(z)).reshape(-1, 1, 28, 28).cpu()  # Bernoulli means
        x = test_images[:32]
        reconstructions = torch.sigmoid(model.decoder(model.posterior(x).mean)).cpu()
        pairs = torch.stack([x.cpu(), reconstructions], 1).reshape(-1, 1, 28, 28)  # original, reconstruction
    written = save_grids({"vae_samples.png": (samples, 8), "vae_reconstructions.png": (pairs, 16)}, args.out)
    draw_curve(history, os.path.join(args.out, "vae_loss.png"))
    return {"test_elbo": history[-1][1] if history else None, "history": history, "seconds": seconds, "written": written}


def save_grids(grids, out):
    """Each (images, per row) as a PNG grid with make_grid / save_image (needs Pillow or matplotlib)."""
    written = []
    try:
        for name, (images, nrow) in grids.items():
            path = os.path.join(out, name)
            utils.save_image(images, path, nrow=nrow, padding=2, pad_value=1.0)
            written.append(path)
            print(f"wrote {path}")
    except ImportError:
        print("neither Pillow nor matplotlib is installed: no sample grids written (pip install 'tinytorch[plots]')")
    return written


def draw_curve(history, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no loss curve written (pip install 'tinytorch[plots]')")
        return
    if not history:
        return
    figure, ax = plt.subplots(figsize=(6, 3.5))
    epochs = range(1, len(history) + 1)
    ax.plot(epochs, [h[0] for h in history], marker="o", label="train")
    ax.plot(epochs, [h[1] for h in history], marker="o", label="test")
    ax.set_xlabel("epoch")
    ax.set_ylabel("-ELBO (nats per image)")
    ax.set_title("VAE on MNIST")
    ax.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
