"""Draw the documentation's figures into docs/images (run: python docs/make_figures.py).

Derivatives are computed by tinytorch's autograd, not written by hand: the plots show what
``backward`` returns. Needs matplotlib; the graph picture also needs Graphviz (skipped without).
"""

import argparse
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch

import tinytorch
import tinytorch.nn.functional as F
from tinytorch import nn

HERE = os.path.dirname(os.path.abspath(__file__))


def activations(out):
    """tanh, ReLU and LeakyReLU with the derivatives autograd computes for them."""
    functions = [("tanh", tinytorch.tanh), ("ReLU", F.relu), ("LeakyReLU (slope 0.1)", lambda x: F.leaky_relu(x, 0.1))]
    figure, axes = plt.subplots(1, 3, figsize=(11, 3.2))
    for ax, (name, fn) in zip(axes, functions):
        x = tinytorch.linspace(-3, 3, 601, requires_grad=True)
        y = fn(x)
        y.sum().backward()  # d(sum y)/dx_i = f'(x_i): the elements are independent
        ax.plot(x.detach().numpy(), y.detach().numpy(), label=name)
        ax.plot(x.detach().numpy(), x.grad.numpy(), "--", label="derivative (autograd)")
        ax.axhline(0, color="grey", linewidth=0.5)
        ax.axvline(0, color="grey", linewidth=0.5)
        ax.set_title(name)
        ax.set_ylim(-1.5, 3)
        ax.legend(fontsize=8, loc="upper left")
    figure.tight_layout()
    figure.savefig(os.path.join(out, "activations.png"), dpi=100)
    plt.close(figure)


def xor(out):
    """Logistic regression cannot separate XOR; one hidden layer of tanh units can."""
    x = tinytorch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = tinytorch.tensor([[0.0], [1.0], [1.0], [0.0]])
    tinytorch.manual_seed(1)
    models = {
        "logistic regression": nn.Linear(2, 1),
        "one hidden layer (4 tanh units)": nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1)),
    }
    axis = tinytorch.linspace(-0.5, 1.5, 101)
    grid = tinytorch.stack([axis.expand(101, 101), axis.reshape(-1, 1).expand(101, 101)], -1)  # [row, col] = (x, y)
    figure, axes = plt.subplots(1, 2, figsize=(8, 3.6))
    for ax, (name, model) in zip(axes, models.items()):
        optimizer = tinytorch.optim.SGD(model.parameters(), lr=0.5)
        for _ in range(2000):
            optimizer.zero_grad()
            loss = F.binary_cross_entropy_with_logits(model(x), y)
            loss.backward()
            optimizer.step()
        with tinytorch.no_grad():
            probability = model(grid.reshape(-1, 2)).sigmoid().reshape(101, 101)
        ax.contourf(grid[..., 0].numpy(), grid[..., 1].numpy(), probability.numpy(), levels=20, cmap="RdBu_r", vmin=0, vmax=1)
        ax.scatter(x[:, 0].numpy(), x[:, 1].numpy(), c=y[:, 0].numpy(), cmap="RdBu_r", edgecolors="black", s=80, vmin=0, vmax=1)
        ax.set_title(f"{name}\nloss {loss.item():.3f}", fontsize=9)
        ax.set_aspect("equal")
    figure.tight_layout()
    figure.savefig(os.path.join(out, "xor.png"), dpi=100)
    plt.close(figure)


def autograd_pipeline(out):
    """Tensor -> Function.apply -> graph of Nodes -> engine.backward -> .grad, hand-drawn."""
    figure, ax = plt.subplots(figsize=(11, 2.8))
    boxes = [
        ("Tensor ops\nx * w, x.relu()", "#d9ead3"),
        ("Function.apply\nforward(ctx, ...)\nrecords a Node", "#cfe2f3"),
        ("graph of Nodes\nMulBackward0 -> ...\nedges + saved tensors", "#eeeeee"),
        ("engine.backward\ntopological order,\nbackward(ctx, grad)", "#fce5cd"),
        ("leaf .grad\nsummed to the\nleaf's shape", "#d0e0e3"),
    ]
    width, gap = 1.8, 0.45
    for i, (text, color) in enumerate(boxes):
        left = i * (width + gap)
        ax.add_patch(FancyBboxPatch((left, 0), width, 1.2, boxstyle="round,pad=0.05", facecolor=color, edgecolor="black"))
        ax.text(left + width / 2, 0.6, text, ha="center", va="center", fontsize=9, family="monospace")
        if i:
            ax.annotate("", xy=(left - 0.05, 0.6), xytext=(left - gap + 0.05, 0.6), arrowprops=dict(arrowstyle="->", lw=1.5))
    ax.text(1 * (width + gap) + width / 2, -0.35, "forward: grad mode on, an input requires grad", ha="center", fontsize=8)
    ax.text(3 * (width + gap) + width / 2, -0.35, "loss.backward(): the chain rule, output to inputs", ha="center", fontsize=8)
    ax.set_xlim(-0.2, len(boxes) * (width + gap) - gap + 0.2)
    ax.set_ylim(-0.6, 1.4)
    ax.axis("off")
    figure.tight_layout()
    figure.savefig(os.path.join(out, "autograd_pipeline.png"), dpi=100)
    plt.close(figure)


def graph(out):
    """make_dot of a two-layer MLP's loss (needs the graphviz package and the dot program)."""
    from tinytorch.viz import make_dot

    tinytorch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    loss = F.cross_entropy(model(tinytorch.randn(5, 4)), tinytorch.tensor([0, 1, 1, 0, 1]))
    try:
        make_dot(loss, params=dict(model.named_parameters())).render(os.path.join(out, "graph"), format="svg")
    except RuntimeError as error:
        print(f"skipped graph.svg: {error}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(HERE, "images"))
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    for draw in (activations, xor, autograd_pipeline, graph):
        draw(args.out)
    print(f"wrote the figures to {args.out}")


if __name__ == "__main__":
    main()
