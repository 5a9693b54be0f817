"""The lecture's XOR problem: logistic regression cannot separate it; one hidden layer can.

Run: python examples/xor.py [--activation tanh|relu|leaky_relu] [--out runs/xor]
"""

import argparse
import os

import tinytorch as torch
import tinytorch.nn as nn
import tinytorch.optim as optim

X = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y = torch.tensor([[0.0], [1.0], [1.0], [0.0]])
ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "leaky_relu": nn.LeakyReLU}


def logistic_regression():
    return nn.Sequential(nn.Linear(2, 1))


def hidden_layer_network(activation="tanh", hidden=8):
    return nn.Sequential(nn.Linear(2, hidden), ACTIVATIONS[activation](), nn.Linear(hidden, 1))


def train(model, epochs=2000, lr=0.1):
    criterion = nn.BCEWithLogitsLoss()
    optimizer = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = criterion(model(X), Y)
        loss.backward()
        optimizer.step()
    return loss.item()


def accuracy(model):
    with torch.no_grad():
        return ((model(X) > 0).float() == Y).float().mean().item()


def draw(models, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no decision-boundary plot (pip install 'tinytorch[plots]')")
        return
    grid = torch.linspace(-0.5, 1.5, 200)
    xx, yy = grid.reshape(1, -1).expand(200, 200), grid.reshape(-1, 1).expand(200, 200)
    points = torch.stack([xx.reshape(-1), yy.reshape(-1)], 1)
    figure, axes = plt.subplots(1, len(models), figsize=(4.5 * len(models), 4))
    for ax, (title, model) in zip(axes, models.items()):
        with torch.no_grad():
            z = torch.sigmoid(model(points)).reshape(200, 200).numpy()
        ax.contourf(xx.numpy(), yy.numpy(), z, levels=20, cmap="RdBu_r", alpha=0.8)
        ax.contour(xx.numpy(), yy.numpy(), z, levels=[0.5], colors="k")
        ax.scatter(X[:, 0].numpy(), X[:, 1].numpy(), c=Y[:, 0].numpy(), cmap="RdBu_r", edgecolors="k", s=120)
        ax.set_title(f"{title}: accuracy {accuracy(model):.2f}")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    print(f"wrote {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--activation", default="tanh", choices=sorted(ACTIVATIONS))
    parser.add_argument("--epochs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/xor")
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)
    linear = logistic_regression()
    network = hidden_layer_network(args.activation)
    train(linear, args.epochs)
    train(network, args.epochs)
    results = {"logistic regression": accuracy(linear), f"one hidden layer ({args.activation})": accuracy(network)}
    for name, value in results.items():
        print(f"{name}: accuracy {value:.2f}")
    os.makedirs(args.out, exist_ok=True)
    draw({"logistic regression": linear, f"hidden layer ({args.activation})": network}, os.path.join(args.out, "xor.png"))
    return results


if __name__ == "__main__":
    main()
