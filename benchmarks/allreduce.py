"""All-reduce bandwidth of tinytorch.distributed's MPI backend against the same mpi4py call by hand.

    mpiexec -n 2 python benchmarks/allreduce.py [--min-bytes 1024 --max-bytes 67108864 --rounds 7]

For each size (float32, 1 KB to 64 MB by factors of 4) three ways to sum a buffer across the ranks,
interleaved round by round so that load from other programs falls on all three alike:

- ``tinytorch``: ``dist.all_reduce(tensor)`` (argument checks, ``Iallreduce`` polled against the
  group's deadline, the result in place);
- ``Iallreduce``: ``comm.Iallreduce(MPI.IN_PLACE, array).Wait()`` by hand, the MPI call tinytorch makes;
- ``Allreduce``: ``comm.Allreduce(MPI.IN_PLACE, array)`` by hand, the blocking call.

Each number is the median over rounds of the mean time per call in a round; bandwidth is the
algorithm bandwidth (bytes / time). Overhead is tinytorch against the by-hand Iallreduce.
"""

import argparse
import json
import statistics
import time

import numpy as np
from mpi4py import MPI

import tinytorch
import tinytorch.distributed as dist


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-bytes", type=int, default=1 << 10)
    parser.add_argument("--max-bytes", type=int, default=1 << 26)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds-per-round", type=float, default=0.05, help="time each way spends per size and round")
    parser.add_argument("--json", help="write the results here too")
    return parser.parse_args()


def time_calls(call, repetitions, comm):
    comm.Barrier()
    start = time.perf_counter()
    for _ in range(repetitions):
        call()
    return (time.perf_counter() - start) / repetitions


def main():
    args = parse_args()
    dist.init_process_group("mpi")
    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    results = []
    nbytes = args.min_bytes
    while nbytes <= args.max_bytes:
        tensor = tinytorch.zeros(nbytes // 4)
        array = np.zeros(nbytes // 4, dtype=np.float32)
        ways = {
            "tinytorch": lambda tensor=tensor: dist.all_reduce(tensor),
            "Iallreduce": lambda array=array: comm.Iallreduce(MPI.IN_PLACE, array).Wait(),
            "Allreduce": lambda array=array: comm.Allreduce(MPI.IN_PLACE, array),
        }
        # Repetitions from a first estimate, agreed on by all ranks so that they run the same calls.
        estimate = comm.allreduce(time_calls(ways["Allreduce"], 3, comm), op=MPI.MAX)
        repetitions = max(3, min(20000, int(args.seconds_per_round / max(estimate, 1e-7))))
        samples = {name: [] for name in ways}
        for _ in range(args.rounds):
            for name, call in ways.items():
                samples[name].append(time_calls(call, repetitions, comm))
        times = {name: statistics.median(values) for name, values in samples.items()}
        times = {name: comm.allreduce(value, op=MPI.MAX) for name, value in times.items()}  # the slowest rank's
        results.append({"bytes": nbytes, "repetitions": repetitions, **{f"{name}_s": value for name, value in times.items()}})
        nbytes *= 4
    if rank == 0:
        print(f"all-reduce of float32, {size} ranks, MPI: {MPI.Get_library_version().splitlines()[0]}")
        print("| size | tinytorch | by hand: Iallreduce | by hand: Allreduce | tinytorch GB/s | Iallreduce GB/s | overhead vs Iallreduce |")
        print("|---|---|---|---|---|---|---|")
        for row in results:
            ours, hand, blocking = row["tinytorch_s"], row["Iallreduce_s"], row["Allreduce_s"]
            print(f"| {_size(row['bytes'])} | {ours * 1e6:.1f} us | {hand * 1e6:.1f} us | {blocking * 1e6:.1f} us | "
                  f"{row['bytes'] / ours / 1e9:.2f} | {row['bytes'] / hand / 1e9:.2f} | {100 * (ours / hand - 1):+.0f}% |")
        if args.json:
            with open(args.json, "w") as file:
                json.dump({"ranks": size, "results": results}, file, indent=1)
    dist.destroy_process_group()


def _size(nbytes):
    for unit, scale in (("MB", 1 << 20), ("KB", 1 << 10)):
        if nbytes >= scale:
            return f"{nbytes // scale} {unit}"
    return f"{nbytes} B"


if __name__ == "__main__":
    main()
