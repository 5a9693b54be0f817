"""Logistic regression on two Gaussian blobs: nn.Linear + sigmoid + BCELoss, trained with SGD.

Run: python examples/logistic_regression.py
"""

import argparse

import tinytorch as torch
import tinytorch.nn as nn
import tinytorch.optim as optim


def make_blobs(n=200):
    """Two classes: points around (-1, -1) labelled 0 and around (1, 1) labelled 1."""
    labels = torch.randint(0, 2, (n, 1)).float()
    points = torch.randn(n, 2) * 0.7 + (labels * 2 - 1)
    return points, labels


class LogisticRegression(nn.Module):
    def __init__(self, in_features=2):
        super().__init__()
        self.linear = nn.Linear(in_features, 1)

    def forward(self, x):
        return torch.sigmoid(self.linear(x))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)
    x, y = make_blobs()
    model = LogisticRegression()
    criterion = nn.BCELoss()
    optimizer = optim.SGD(model.parameters(), lr=args.lr)
    for epoch in range(args.epochs):
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        if epoch % 50 == 49:
            print(f"epoch {epoch + 1}: loss {loss.item():.4f}")
    with torch.no_grad():
        accuracy = ((model(x) > 0.5).float() == y).float().mean().item()
    w, b = model.linear.weight.detach().tolist()[0], model.linear.bias.item()
    print(f"decision boundary: {w[0]:.2f}*x1 + {w[1]:.2f}*x2 + {b:.2f} = 0")
    print(f"accuracy: {accuracy:.3f}")
    return accuracy


if __name__ == "__main__":
    main()
