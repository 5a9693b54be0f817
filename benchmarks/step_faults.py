"""A train step written as a function, as a user times one, with the minor page faults it makes.

    python benchmarks/step_faults.py --library tinytorch --batch 1024
    python benchmarks/step_faults.py --library pytorch --batch 1024

The lecture's MLP class (``F.relu`` in ``forward``), a ``randn(batch, 1, 28, 28)`` batch reused,
and ``def step(): zero_grad; loss = criterion(model(x), y); loss.backward(); optimizer.step()``:
everything a step allocates is freed when it returns. Whether glibc then trims the heap's top and
the next step faults the same memory back depends on the process's allocation history
(docs/performance.md, "Memory a step maps in again"); run each library in its own process. Prints
the median milliseconds per step over ``--steps`` steps after 30 warm-up steps, the minor page
faults per step and the peak RSS.
"""

import argparse
import resource
import statistics
import sys
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--library", choices=["tinytorch", "pytorch"], default="tinytorch")
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--steps", type=int, default=60)
    args = parser.parse_args()
    if args.library == "pytorch":
        import torch as lib
    else:
        import os

        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        import tinytorch as lib
    from lecture_program import lecture_mlp

    lib.manual_seed(0)
    model = lecture_mlp(lib)
    optimizer = lib.optim.SGD(model.parameters(), lr=0.01)
    criterion = lib.nn.CrossEntropyLoss()
    x, y = lib.randn(args.batch, 1, 28, 28), lib.randint(0, 10, (args.batch,))

    def step():
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()

    for _ in range(30):
        step()
    times = []
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(args.steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) / args.steps
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.library}, batch {args.batch}: {statistics.median(times) * 1e3:.2f} ms a step, "
          f"{faults:.0f} minor page faults a step, peak RSS {peak:.1f} MiB")


if __name__ == "__main__":
    main()
