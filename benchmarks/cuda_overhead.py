"""Where a CUDA training step's time goes: per-call costs of CuPy and PyTorch, and a step by phase.

    python benchmarks/cuda_overhead.py [--contender tinytorch|pytorch|cupy] [--batches 12,128,1024,8192]

Each contender runs in its own process (``--contender``; without it, this script starts one per
contender). A small op on a GPU costs the host time to launch it, not the GPU time to run it: these
numbers say what a step's launch count costs, which decides the fused kernels worth writing.
"""

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)


def per_call(fn, sync, n=2000):
    for _ in range(20):
        fn()
    sync()
    start = time.perf_counter()
    for _ in range(n):
        fn()
    sync()
    return (time.perf_counter() - start) / n * 1e6


def cupy_calls():
    import cupy

    sync = cupy.cuda.runtime.deviceSynchronize
    a = cupy.ones((12, 512), cupy.float32)
    w = cupy.ones((512, 784), cupy.float32)
    x = cupy.ones((12, 784), cupy.float32)
    relu = cupy.ElementwiseKernel("T x, T b", "T y", "y = max(x + b, (T)0)", "tt_bias_relu_probe")
    b = cupy.ones(512, cupy.float32)
    return {
        "cupy add (12x512)": per_call(lambda: a + a, sync),
        "cupy multiply by scalar": per_call(lambda: a * 0.5, sync),
        "cupy in-place add": per_call(lambda: a.__iadd__(a), sync),
        "cupy matmul x @ w.T (12x784 by 512x784)": per_call(lambda: x @ w.T, sync),
        "cupy sum(axis=0)": per_call(lambda: a.sum(axis=0), sync),
        "cupy ElementwiseKernel bias+relu": per_call(lambda: relu(a, b), sync),
        "cupy empty": per_call(lambda: cupy.empty((12, 512), cupy.float32), sync),
        "cupy asnumpy of a scalar (sync)": per_call(lambda: cupy.asnumpy(a[0, 0]), lambda: None, n=500),
    }


def torch_calls():
    import torch

    sync = torch.cuda.synchronize
    a = torch.ones(12, 512, device="cuda")
    w = torch.ones(512, 784, device="cuda")
    x = torch.ones(12, 784, device="cuda")
    return {
        "torch add (12x512)": per_call(lambda: a + a, sync),
        "torch multiply by scalar": per_call(lambda: a * 0.5, sync),
        "torch in-place add": per_call(lambda: a.add_(a), sync),
        "torch matmul x @ w.T": per_call(lambda: x @ w.T, sync),
        "torch sum(dim=0)": per_call(lambda: a.sum(0), sync),
        "torch relu": per_call(lambda: torch.relu(a), sync),
        "torch .item() (sync)": per_call(lambda: a[0, 0].item(), lambda: None, n=500),
    }


def phases(lib, batch, steps=50):
    """Seconds per phase of the lecture's step (synchronized after each phase) at ``batch``."""
    import numpy as np

    from numpy_mlp import SIZES

    if lib == "tinytorch":
        import tinytorch as t

        sync = t.cuda.synchronize
    else:
        import torch as t

        sync = t.cuda.synchronize
    layers = []
    for k, (fan_in, fan_out) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        layers.append(t.nn.Linear(fan_in, fan_out))
        if k < len(SIZES) - 2:
            layers.append(t.nn.ReLU())
    model = t.nn.Sequential(*layers).to("cuda")
    opt = t.optim.SGD(model.parameters(), lr=0.01)
    rng = np.random.default_rng(0)
    x = t.tensor(rng.standard_normal((batch, 784)).astype(np.float32), device="cuda")
    y = t.tensor(rng.integers(0, 10, batch), device="cuda")
    spent = {"zero_grad": 0.0, "forward": 0.0, "loss": 0.0, "backward": 0.0, "step": 0.0}
    for i in range(steps + 5):
        marks = [time.perf_counter()]
        opt.zero_grad()
        sync()
        marks.append(time.perf_counter())
        out = model(x)
        sync()
        marks.append(time.perf_counter())
        loss = t.nn.functional.cross_entropy(out, y)
        sync()
        marks.append(time.perf_counter())
        loss.backward()
        sync()
        marks.append(time.perf_counter())
        opt.step()
        sync()
        marks.append(time.perf_counter())
        if i >= 5:
            for name, a, b in zip(spent, marks, marks[1:]):
                spent[name] += b - a
    return {name: round(v / steps * 1e6, 1) for name, v in spent.items()}


def kernel_profile(lib, batch, steps=3):
    """The GPU kernels of ``steps`` training steps, through PyTorch's profiler (CUPTI sees every
    kernel in the process, CuPy's included): launches per step, GPU time per step, the top kernels."""
    import numpy as np
    import torch
    from torch.profiler import ProfilerActivity, profile

    from numpy_mlp import SIZES

    t = __import__("tinytorch") if lib == "tinytorch" else torch
    layers = []
    for k, (fan_in, fan_out) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        layers.append(t.nn.Linear(fan_in, fan_out))
        if k < len(SIZES) - 2:
            layers.append(t.nn.ReLU())
    model = t.nn.Sequential(*layers).to("cuda")
    opt = t.optim.SGD(model.parameters(), lr=0.01)
    rng = np.random.default_rng(0)
    x = t.tensor(rng.standard_normal((batch, 784)).astype(np.float32), device="cuda")
    y = t.tensor(rng.integers(0, 10, batch), device="cuda")

    def step():
        opt.zero_grad()
        t.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()

    for _ in range(5):
        step()
    t.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(steps):
            step()
        t.cuda.synchronize()
    kernels = [e for e in prof.key_averages() if e.self_device_time_total > 0]
    kernels.sort(key=lambda e: -e.self_device_time_total)
    launches = sum(e.count for e in kernels) / steps
    gpu_us = sum(e.self_device_time_total for e in kernels) / steps
    top = [(e.key[:60], e.count / steps, e.self_device_time_total / steps) for e in kernels[:12]]
    return {"launches_per_step": launches, "gpu_us_per_step": round(gpu_us, 1), "top": top}


def run_contender(name, batches):
    result = {}
    if name == "cupy":
        result["calls_us"] = cupy_calls()
    elif name == "pytorch":
        result["calls_us"] = torch_calls()
        result["phases_us"] = {b: phases("torch", b) for b in batches}
    else:
        result["phases_us"] = {b: phases("tinytorch", b) for b in batches}
    if name != "cupy" and KERNELS:
        result["kernels"] = {b: kernel_profile("tinytorch" if name == "tinytorch" else "torch", b) for b in KERNELS}
    print(json.dumps(result))


KERNELS = []


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contender", choices=["tinytorch", "pytorch", "cupy"])
    parser.add_argument("--batches", default="12,128,1024,8192")
    parser.add_argument("--kernels", default="", help="batches whose GPU kernels to list (PyTorch's profiler)")
    args = parser.parse_args()
    batches = [int(b) for b in args.batches.split(",")]
    KERNELS.extend(int(b) for b in args.kernels.split(",") if b)
    if args.contender:
        return run_contender(args.contender, batches)
    results = {}
    for name in ("cupy", "pytorch", "tinytorch"):
        out = subprocess.run([sys.executable, __file__, "--contender", name, "--batches", args.batches,
                              "--kernels", args.kernels], capture_output=True, text=True)
        if out.returncode:
            print(f"{name} failed:\n{out.stderr[-3000:]}")
            continue
        results[name] = json.loads(out.stdout.strip().splitlines()[-1])
    for name in ("cupy", "pytorch"):
        for call, us in results.get(name, {}).get("calls_us", {}).items():
            print(f"{call:45s} {us:8.1f} us")
    print("\nstep phases (us, synchronized after each): batch | contender | " + " | ".join(
        ("zero_grad", "forward", "loss", "backward", "step")))
    for b in batches:
        for name in ("pytorch", "tinytorch"):
            row = results.get(name, {}).get("phases_us", {}).get(str(b))
            if row:
                print(f"{b:6d} | {name:9s} | " + " | ".join(f"{v:8.1f}" for v in row.values()) + f" | total {sum(row.values()):8.1f}")
    for b in KERNELS:
        for name in ("pytorch", "tinytorch"):
            k = results.get(name, {}).get("kernels", {}).get(str(b))
            if k:
                print(f"\nkernels of one step, batch {b}, {name}: {k['launches_per_step']:.0f} launches, {k['gpu_us_per_step']} us of GPU time")
                for kernel, count, us in k["top"]:
                    print(f"  {kernel:60s} x{count:4.0f} {us:9.1f} us")


if __name__ == "__main__":
    main()
