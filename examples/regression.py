"""Linear regression with MSELoss: recover y = 3x - 2 from noisy samples.

Run: python examples/regression.py
"""

import argparse

import tinytorch as torch
import tinytorch.nn as nn
import tinytorch.optim as optim


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)
    x = torch.rand(100, 1) * 4 - 2
    y = 3 * x - 2 + torch.randn(100, 1) * 0.1
    model = nn.Linear(1, 1)
    criterion = nn.MSELoss()
    optimizer = optim.SGD(model.parameters(), lr=args.lr)
    for epoch in range(args.epochs):
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        if epoch % 100 == 99:
            print(f"epoch {epoch + 1}: loss {loss.item():.4f}")
    slope, intercept = model.weight.item(), model.bias.item()
    print(f"learned y = {slope:.3f} x + {intercept:.3f} (true: y = 3x - 2)")
    return slope, intercept, loss.item()


if __name__ == "__main__":
    main()
