"""The smallest data-parallel training program: a linear regression on every rank's share of the data.

Run: mpiexec -n 2 python examples/ddp_minimal.py
 or: python -m tinytorch.distributed.run --nproc-per-node 2 examples/ddp_minimal.py
"""

import tinytorch as torch
import tinytorch.distributed as dist
import tinytorch.nn as nn
from tinytorch.nn.parallel import DistributedDataParallel as DDP
from tinytorch.utils.data import DataLoader, DistributedSampler, TensorDataset


def main(epochs=10):
    dist.init_process_group("mpi")  # rank and world size come from mpiexec
    rank = dist.get_rank()

    torch.manual_seed(0)  # the same data on every rank; each trains on its share
    inputs = torch.randn(512, 3)
    targets = inputs @ torch.tensor([[2.0], [-1.0], [0.5]]) + 3.0 + 0.1 * torch.randn(512, 1)
    dataset = TensorDataset(inputs, targets)
    sampler = DistributedSampler(dataset)  # rank r of N gets every N-th sample
    loader = DataLoader(dataset, batch_size=32, sampler=sampler)

    model = DDP(nn.Linear(3, 1))  # rank 0's initial weights go to every rank
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for epoch in range(epochs):
        sampler.set_epoch(epoch)  # a new shuffle each epoch, the same on every rank
        for x, y in loader:
            optimizer.zero_grad()
            loss = nn.functional.mse_loss(model(x), y)
            loss.backward()  # gradients are averaged across the ranks here
            optimizer.step()
        if rank == 0 and epoch % 3 == 0:
            print(f"epoch {epoch + 1}: loss {loss.item():.5f}")
    if rank == 0:
        print("weight", [round(w, 3) for w in model.module.weight.flatten().tolist()],
              "bias", round(model.module.bias.item(), 3))
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
