"""The convolutional layers of PyTorch's MNIST CNN, forward and backward at batch 64, tinytorch and
PyTorch each in its own process (as a user runs them).

    python benchmarks/conv_layers.py                 # both, alternating, 3 processes each
    python benchmarks/conv_layers.py --only tinytorch --steps 30
    python benchmarks/conv_layers.py --parts         # also time each piece (conv2 forward, ...)
    python benchmarks/conv_layers.py --threads 1 --cpu-time  # one thread each, CPU time (a busy machine)

The case: Conv2d(1, 32, 3) -> ReLU -> Conv2d(32, 64, 3) -> ReLU -> max_pool2d(2) on (64, 1, 28, 28)
float32, then backward of the pooled output's sum (conv1 gets a weight gradient only, as the data
batch needs none). Each process warms up, then reports the median and minimum of its steps in
milliseconds; the parent prints the pooled medians and the ratio.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def child(name, steps, parts, clock):
    if name == "torch":
        import torch as lib
    else:
        sys.path.insert(0, os.path.dirname(HERE))
        import tinytorch as lib
    nn, F = lib.nn, lib.nn.functional
    lib.manual_seed(0)
    conv1, conv2 = nn.Conv2d(1, 32, 3, 1), nn.Conv2d(32, 64, 3, 1)
    x = lib.randn(64, 1, 28, 28)

    def step():
        y = F.max_pool2d(F.relu(conv2(F.relu(conv1(x)))), 2)
        y.sum().backward()

    for _ in range(3):
        step()
    times = []
    for _ in range(steps):
        start = clock()
        step()
        times.append(clock() - start)
    result = {"median": statistics.median(times) * 1e3, "min": min(times) * 1e3}
    if parts:
        result["parts"] = _parts(lib, F, conv1, conv2, x, steps, clock)
    print(json.dumps(result))


def _parts(lib, F, conv1, conv2, x, steps, clock):
    """Minimum over steps of each piece alone (ms)."""
    best = {}

    def timed(key, fn, *args):
        start = clock()
        out = fn(*args)
        best[key] = min(best.get(key, float("inf")), (clock() - start) * 1e3)
        return out

    grad = lib.autograd.grad
    for _ in range(steps):
        a = timed("conv1 forward", conv1, x)
        b = F.relu(a)
        c = timed("conv2 forward", conv2, b)
        d = F.relu(c)
        p = timed("max_pool2d forward", F.max_pool2d, d, 2)
        (gd,) = timed("max_pool2d backward", grad, p, d, lib.ones_like(p), True)
        gc = gd * (c > 0)
        timed("conv2 backward", grad, c, [b, conv2.weight, conv2.bias], gc, True)
        timed("conv1 backward", grad, a, [conv1.weight, conv1.bias], lib.ones_like(a))
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["tinytorch", "torch"])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--parts", action="store_true")
    parser.add_argument("--threads", type=int, help="BLAS/OpenMP threads of each contender (default: the library's)")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time with the process's CPU clock: with --threads 1, what the step costs even when other "
                             "programs take turns on the cores")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.steps, args.parts, time.process_time if args.cpu_time else time.perf_counter)
    names = [args.only] if args.only else ["tinytorch", "torch"]
    runs = {name: [] for name in names}
    for _ in range(args.processes):
        for name in names:  # alternate, so that machine drift hits both alike
            command = [sys.executable, __file__, "--child", name, "--steps", str(args.steps)]
            command += (["--parts"] if args.parts else []) + (["--cpu-time"] if args.cpu_time else [])
            env = dict(os.environ)
            if args.threads:  # read at import by OpenBLAS and PyTorch alike
                env.update(OMP_NUM_THREADS=str(args.threads), OPENBLAS_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
            out = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
            runs[name].append(json.loads(out.strip().splitlines()[-1]))
    for name in names:
        medians = [r["median"] for r in runs[name]]
        print(f"{name:10s} step median {statistics.median(medians):7.1f} ms  (min {min(r['min'] for r in runs[name]):.1f})")
        if args.parts:
            keys = runs[name][0]["parts"]
            print("    " + ", ".join(f"{k} {min(r['parts'][k] for r in runs[name]):.1f}" for k in keys))
    if len(names) == 2:
        ratio = statistics.median(r["median"] for r in runs["tinytorch"]) / statistics.median(r["median"] for r in runs["torch"])
        print(f"tinytorch / torch: {ratio:.2f}x")


if __name__ == "__main__":
    main()
