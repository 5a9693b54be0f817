"""A generative adversarial network (Goodfellow et al., 2014) on MNIST: one of the lecture's ways to
model an arbitrary output distribution without writing down its density.

The generator G maps noise z ~ N(0, I) to an image; the discriminator D outputs one logit, the
log-odds that its input is a real image: a Bernoulli output unit (sigmoid + binary
cross-entropy), as in the lecture's first row. D minimizes the BCE of "real" on data and "fake" on
G(z); G minimizes the BCE of "real" on G(z) (the non-saturating loss). Both are MLPs, trained with
Adam (lr 2e-4, beta1 0.5, as DCGAN). After each epoch a grid of G's digits from a fixed z is
written with ``make_grid`` / ``save_image``.

Run: python examples/gan.py [--epochs 15 --device cpu --out runs/gan]
"""

import argparse
import os
import time

from tqdm import tqdm

import tinytorch as torch
import tinytorch.nn as nn
import tinytorch.nn.functional as F
import tinytorch.optim as optim
from tinytorch.vision import datasets, utils


def generator(latent=64, hidden=256):
    return nn.Sequential(
        nn.Linear(latent, hidden), nn.LeakyReLU(0.2),
        nn.Linear(hidden, hidden * 2), nn.LeakyReLU(0.2),
        nn.Linear(hidden * 2, 784), nn.Tanh(),  # pixels in [-1, 1], as the data below
    )


def discriminator(hidden=256):
    return nn.Sequential(
        nn.Linear(784, hidden * 2), nn.LeakyReLU(0.2),
        nn.Linear(hidden * 2, hidden), nn.LeakyReLU(0.2),
        nn.Linear(hidden, 1),  # one logit: log P(real) - log P(fake)
    )


def load_mnist(root, train, subset=None):
    """MNIST as flattened float images scaled to [-1, 1] (the generator's tanh range)."""
    images = datasets.MNIST(root=root, train=train, download=False).data
    if subset:
        images = images[:subset]
    return images.float().div(127.5).sub(1).reshape(-1, 784)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="An MLP GAN on MNIST with tinytorch.")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--latent", type=int, default=64)
    parser.add_argument("--data", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data"))
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train-subset", type=int, default=None, help="train on the first N images only")
    parser.add_argument("--out", default="runs/gan", help="folder for the PNGs and the weights")
    parser.add_argument("--no-progress", action="store_true", help="hide the tqdm bars")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    os.makedirs(args.out, exist_ok=True)
    images = load_mnist(args.data, True, args.train_subset).to(device)

    G, D = generator(args.latent).to(device), discriminator().to(device)
    optimizer_g = optim.Adam(G.parameters(), lr=args.lr, betas=(0.5, 0.999))
    optimizer_d = optim.Adam(D.parameters(), lr=args.lr, betas=(0.5, 0.999))
    fixed_z = torch.randn(64, args.latent, device=device)
    history = []
    start = time.perf_counter()
    for epoch in range(args.epochs):
        order = torch.randperm(len(images), device=device)
        sums = {"d_loss": 0.0, "g_loss": 0.0, "d_real": 0.0, "d_fake": 0.0}
        batches = range(0, len(order) - args.batch_size + 1, args.batch_size)
        for i in tqdm(batches, desc=f"epoch {epoch + 1}", disable=args.no_progress):
            real = images[order[i:i + args.batch_size]]
            ones, zeros = torch.ones(len(real), 1, device=device), torch.zeros(len(real), 1, device=device)
            fake = G(torch.randn(len(real), args.latent, device=device))

            # D: real -> 1, fake -> 0 (fake detached: this step trains D only)
            real_logits, fake_logits = D(real), D(fake.detach())
            d_loss = F.binary_cross_entropy_with_logits(real_logits, ones) + F.binary_cross_entropy_with_logits(fake_logits, zeros)
            optimizer_d.zero_grad()
            d_loss.backward()
            optimizer_d.step()

            # G: make D call the fakes real (the non-saturating loss)
            g_loss = F.binary_cross_entropy_with_logits(D(fake), ones)
            optimizer_g.zero_grad()
            g_loss.backward()
            optimizer_g.step()

            sums["d_loss"] += d_loss.item()
            sums["g_loss"] += g_loss.item()
            sums["d_real"] += torch.sigmoid(real_logits).mean().item()
            sums["d_fake"] += torch.sigmoid(fake_logits).mean().item()
        means = {k: v / max(len(batches), 1) for k, v in sums.items()}
        history.append(means)
        print(f"epoch {epoch + 1}: D loss {means['d_loss']:.3f}, G loss {means['g_loss']:.3f}, "
              f"D(real) {means['d_real']:.2f}, D(G(z)) {means['d_fake']:.2f}", flush=True)
        save_grid(G, fixed_z, os.path.join(args.out, "gan_samples.png"), quiet=epoch + 1 < args.epochs)
    seconds = time.perf_counter() - start
    print(f"training took {seconds:.1f} s")
    torch.save(G.state_dict(), os.path.join(args.out, "gan_generator.safetensors"))
    torch.save(D.state_dict(), os.path.join(args.out, "gan_discriminator.safetensors"))
    draw_curves(history, os.path.join(args.out, "gan_loss.png"))
    return {"history": history, "seconds": seconds}


def save_grid(G, z, path, quiet=False):
    """G's images for a fixed z, 8 per row (make_grid / save_image; needs Pillow or matplotlib)."""
    with torch.no_grad():
        images = G(z).reshape(-1, 1, 28, 28).cpu().add(1).div(2)  # back to [0, 1]
    try:
        utils.save_image(images, path, nrow=8, padding=2, pad_value=1.0)
    except ImportError:
        if not quiet:
            print("neither Pillow nor matplotlib is installed: no sample grid written (pip install 'tinytorch[plots]')")
        return
    if not quiet:
        print(f"wrote {path}")


def draw_curves(history, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no loss curves written (pip install 'tinytorch[plots]')")
        return
    if not history:
        return
    epochs = range(1, len(history) + 1)
    figure, (losses, outputs) = plt.subplots(1, 2, figsize=(10, 3.5))
    losses.plot(epochs, [h["d_loss"] for h in history], marker="o", label="D")
    losses.plot(epochs, [h["g_loss"] for h in history], marker="o", label="G")
    losses.set_xlabel("epoch")
    losses.set_ylabel("BCE (nats)")
    losses.legend()
    outputs.plot(epochs, [h["d_real"] for h in history], marker="o", label="D(real)")
    outputs.plot(epochs, [h["d_fake"] for h in history], marker="o", label="D(G(z))")
    outputs.set_xlabel("epoch")
    outputs.set_ylabel("mean sigmoid(D)")
    outputs.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
