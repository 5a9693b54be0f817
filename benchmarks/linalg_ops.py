"""tinytorch.linalg against torch.linalg: microseconds per call (forward, and forward + backward).

    python benchmarks/linalg_ops.py [--device cpu|cuda] [--threads 1]

Each library runs in its own process (``--contender``), on the same inputs, with the BLAS/LAPACK
threads limited alike. Inputs are made once, outside the timed calls.
"""

import argparse
import subprocess
import sys
import time

import numpy as np


def cases(lib, device):
    rng = np.random.default_rng(0)

    def tensor(array, grad=False):
        return lib.tensor(array, device=device, requires_grad=grad)

    small = tensor(rng.standard_normal((3, 3)) + 3 * np.eye(3))
    batch_np = rng.standard_normal((512, 8, 8)) + 8 * np.eye(8)
    batch, batch_grad = tensor(batch_np), tensor(batch_np, True)
    vectors = tensor(batch_np[..., 0])
    spd_np = batch_np @ batch_np.swapaxes(-1, -2)
    spd, spd_grad = tensor(spd_np), tensor(spd_np, True)
    mid_np = rng.standard_normal((64, 32, 32))
    mid, mid_grad = tensor(mid_np), tensor(mid_np, True)
    sym = tensor(mid_np + mid_np.swapaxes(-1, -2))

    def backward(loss, leaf):
        leaf.grad = None
        loss.backward()

    def svd_loss():
        u, s, vh = lib.linalg.svd(mid_grad, full_matrices=False)
        return (u @ vh).sum() + s.sum()

    return {
        "inv 3x3": lambda: lib.linalg.inv(small),
        "inv 512x8x8": lambda: lib.linalg.inv(batch),
        "solve 512x8x8, vectors": lambda: lib.linalg.solve(batch, vectors),
        "cholesky 512x8x8": lambda: lib.linalg.cholesky(spd),
        "svd 64x32x32": lambda: lib.linalg.svd(mid),
        "eigh 64x32x32": lambda: lib.linalg.eigh(sym),
        "det + backward 512x8x8": lambda: backward(lib.linalg.det(batch_grad).sum(), batch_grad),
        "cholesky + backward 512x8x8": lambda: backward(lib.linalg.cholesky(spd_grad).sum(), spd_grad),
        "svd + backward 64x32x32": lambda: backward(svd_loss(), mid_grad),
    }


def run(contender, device, threads):
    from threadpoolctl import threadpool_limits

    threadpool_limits(threads)
    if contender == "torch":
        import torch as lib

        lib.set_num_threads(threads)
        sync = (lambda: lib.cuda.synchronize()) if device == "cuda" else (lambda: None)
    else:
        import tinytorch as lib

        sync = (lambda: lib.cuda.synchronize()) if device == "cuda" else (lambda: None)
    for name, fn in cases(lib, device).items():
        fn()
        sync()
        calls, start = 0, time.perf_counter()
        while time.perf_counter() - start < 0.5:
            fn()
            calls += 1
        sync()
        print(f"{name}\t{(time.perf_counter() - start) / calls * 1e6:.0f}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--contender", choices=["tinytorch", "torch"])
    args = parser.parse_args()
    if args.contender:
        return run(args.contender, args.device, args.threads)
    results = {}
    for contender in ("tinytorch", "torch"):
        command = [sys.executable, __file__, "--contender", contender, "--device", args.device, "--threads", str(args.threads)]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        results[contender] = dict(line.split("\t") for line in output.strip().splitlines())
    print(f"| case ({args.device}, {args.threads} thread) | tinytorch (us) | PyTorch (us) | ratio |\n| --- | ---: | ---: | ---: |")
    for name, ours in results["tinytorch"].items():
        theirs = results["torch"][name]
        print(f"| {name} | {ours} | {theirs} | {int(ours) / int(theirs):.2f} |")


if __name__ == "__main__":
    main()
