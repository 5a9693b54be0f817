"""DistributedDataParallel on this machine: an epoch of the lecture's MLP, and how much of the
gradient communication hides behind backward.

    python benchmarks/ddp.py epoch [--repeats 3]
        One epoch of examples/mnist_mlp.py in 1 process with 2 BLAS threads (and with 1) against
        examples/mnist_ddp.py in 2 processes with 1 thread each (same global batch of 12),
        alternating, with the load average next to each run.

    mpiexec -n 2 python benchmarks/ddp.py overlap [--batch 6 --bucket-cap-mb 25 --steps 300]
        Per step of the lecture's MLP: backward alone (no_sync), backward with DDP (buckets
        all-reduced while backward runs), and backward followed by the same bucketed all-reduces
        done afterwards. Overlap share = (afterwards - DDP) / (afterwards - alone): the part of
        the communication (with its bucket copies) that DDP hides behind backward.

    mpiexec -n 2 python benchmarks/ddp.py progress [--megabytes 1.6 --gemms 8]
        Why the reducer polls from a helper thread: an all-reduce started before a run of
        matrix products (NumPy releases the GIL in them), then waited for. Without polling MPI
        does not move it during the products; with the reducer's progress thread it is done
        when they are.
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "examples"))


def threads(n):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.update(OMP_NUM_THREADS=str(n), OPENBLAS_NUM_THREADS=str(n), MKL_NUM_THREADS=str(n))
    return env


def epoch_seconds(command, env):
    output = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=1800).stdout
    return float(re.search(r"epoch 1 took ([\d.]+) s", output).group(1)), float(re.search(r"Accuracy: ([\d.]+)", output).group(1))


def epoch(args):
    mpiexec = shutil.which("mpiexec")
    rows = []
    with tempfile.TemporaryDirectory() as out:
        single = [sys.executable, "examples/mnist_mlp.py", "--epochs", "1", "--no-progress", "--out", out]
        ddp = [mpiexec, "-n", "2", sys.executable, "examples/mnist_ddp.py", "--epochs", "1", "--no-progress", "--out", out]
        ways = (("1 process x 2 threads", single, threads(2)), ("1 process x 1 thread", single, threads(1)),
                ("2 processes x 1 thread", ddp, threads(1)))
        for _ in range(args.repeats):
            for name, command, env in ways:
                load = os.getloadavg()[0]
                seconds, accuracy = epoch_seconds(command, env)
                rows.append((name, seconds, accuracy, load))
                print(f"{name}: epoch {seconds:.1f} s, test accuracy {accuracy:.3f} (load average before: {load:.2f})", flush=True)
    for name, _, _ in ways:
        times = [seconds for n, seconds, _, _ in rows if n == name]
        print(f"| {name} | median {statistics.median(times):.1f} s | runs {', '.join(f'{t:.1f}' for t in times)} |")


def overlap(args):
    import numpy as np

    import tinytorch as torch
    import tinytorch.distributed as dist
    import tinytorch.nn.functional as F
    from mnist_mlp import MLP
    from tinytorch.nn.parallel import DistributedDataParallel as DDP

    dist.init_process_group("mpi")
    rank = dist.get_rank()
    torch.manual_seed(0)
    model = DDP(MLP(), bucket_cap_mb=args.bucket_cap_mb)
    reducer = model.reducer
    if args.no_progress_thread:
        reducer.progress = None  # all-reduces move only when the final wait polls them
    rng = np.random.default_rng(rank)
    inputs = torch.tensor(rng.standard_normal((args.batch, 784)).astype(np.float32))
    labels = torch.tensor(rng.integers(0, 10, args.batch))

    def backward_alone():
        with model.no_sync():
            loss = F.cross_entropy(model(inputs), labels)
            start = time.perf_counter()
            loss.backward()
            return time.perf_counter() - start

    def backward_with_ddp():
        loss = F.cross_entropy(model(inputs), labels)
        start = time.perf_counter()
        loss.backward()
        return time.perf_counter() - start

    def backward_then_all_reduce():
        with model.no_sync():
            loss = F.cross_entropy(model(inputs), labels)
            start = time.perf_counter()
            loss.backward()
        for bucket in reducer.buckets:  # what the reducer does, after backward instead of during it
            for position, param in enumerate(bucket.params):
                bucket.slot(position)[...] = param.grad._data
            bucket.buffer._data /= reducer.world_size
            dist.all_reduce(bucket.buffer)
            for position, param in enumerate(bucket.params):
                param.grad._data[...] = bucket.slot(position)
        return time.perf_counter() - start

    ways = {"alone": backward_alone, "ddp": backward_with_ddp, "afterwards": backward_then_all_reduce}
    samples = {name: [] for name in ways}
    for step in range(args.steps + 20):
        for name, way in ways.items():
            model.zero_grad()
            dist.barrier()
            seconds = way()
            if step >= 20:  # warm-up
                samples[name].append(seconds)
    times = {name: statistics.median(values) for name, values in samples.items()}
    times = {name: dist_max(value) for name, value in times.items()}
    if rank == 0:
        hidden = (times["afterwards"] - times["ddp"]) / max(times["afterwards"] - times["alone"], 1e-12)
        sizes = ", ".join(f"{bucket.buffer.numel() * 4 / 1e6:.2f} MB" for bucket in reducer.buckets)
        print(f"batch {args.batch} per rank, bucket_cap_mb={args.bucket_cap_mb}, progress thread "
              f"{'off' if reducer.progress is None else 'on'}: {len(reducer.buckets)} bucket(s) ({sizes}); "
              f"load average {os.getloadavg()[0]:.2f}")
        print(f"| backward alone | {times['alone'] * 1e3:.2f} ms |\n| backward with DDP | {times['ddp'] * 1e3:.2f} ms |\n"
              f"| backward, then the same all-reduces | {times['afterwards'] * 1e3:.2f} ms |\n"
              f"| communication hidden behind backward | {100 * hidden:.0f}% |")
    dist.destroy_process_group()


def progress(args):
    import numpy as np

    import tinytorch as torch
    import tinytorch.distributed as dist
    from tinytorch.nn.parallel._reducer import _Progress

    dist.init_process_group("mpi")
    buffer = torch.ones(int(args.megabytes * 1e6 / 4))
    matrix = np.random.default_rng(0).random((600, 600), dtype=np.float32)
    poller = _Progress()
    samples = {"products alone": [], "wait, no polling": [], "products, thread polling": [], "wait, thread polling": []}

    def products():
        start = time.perf_counter()
        for _ in range(args.gemms):
            matrix @ matrix
        return time.perf_counter() - start

    for step in range(args.steps + 3):
        dist.barrier()
        alone = products()
        dist.barrier()
        work = dist.all_reduce(buffer, async_op=True)
        products()
        start = time.perf_counter()
        work.wait()
        unpolled = time.perf_counter() - start
        dist.barrier()
        work = dist.all_reduce(buffer, async_op=True)
        poller.add(work)
        polled_products = products()
        poller.stop()
        start = time.perf_counter()
        work.wait()
        polled = time.perf_counter() - start
        if step >= 3:
            for name, value in zip(samples, (alone, unpolled, polled_products, polled)):
                samples[name].append(value)
    times = {name: dist_max(statistics.median(values)) for name, values in samples.items()}
    if dist.get_rank() == 0:
        print(f"all-reduce of {args.megabytes} MB started before {args.gemms} products of 600x600 float32 matrices; "
              f"load average {os.getloadavg()[0]:.2f}")
        for name, value in times.items():
            print(f"| {name} | {value * 1e3:.2f} ms |")
    dist.destroy_process_group()


def dist_max(value):
    """The slowest rank's time (a step is as slow as its slowest rank)."""
    import tinytorch as torch
    import tinytorch.distributed as dist

    tensor = torch.tensor([value], dtype=torch.float64)
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return tensor.item()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    epoch_parser = sub.add_parser("epoch")
    epoch_parser.add_argument("--repeats", type=int, default=3)
    overlap_parser = sub.add_parser("overlap")
    overlap_parser.add_argument("--batch", type=int, default=6, help="images per rank and step")
    overlap_parser.add_argument("--bucket-cap-mb", type=float, default=None)
    overlap_parser.add_argument("--steps", type=int, default=300)
    overlap_parser.add_argument("--no-progress-thread", action="store_true", help="turn off the reducer's polling thread")
    progress_parser = sub.add_parser("progress")
    progress_parser.add_argument("--megabytes", type=float, default=1.6)
    progress_parser.add_argument("--gemms", type=int, default=8)
    progress_parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    {"epoch": epoch, "overlap": overlap, "progress": progress}[args.what](args)


if __name__ == "__main__":
    main()
