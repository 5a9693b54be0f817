"""Where a train step's time goes, per library, each in its own fresh process.

    python benchmarks/step_profile.py --batch 1024 --rounds 6

The lecture's MLP (784-512-256-128-64-10, SGD lr 0.01, cross-entropy) as ``benchmarks/run.py``
times it, with the step split into its phases, timed with ``time.perf_counter`` at their
boundaries (no profiler running): ``forward`` (the model and the loss), ``backward``, ``step``
(the optimizer) and ``zero_grad``; and the matrix products' share of the step:

- tinytorch: the products go through ``tinytorch._backend.mm`` and ``matmul_transposed``; the
  script wraps those two with timers (a ``perf_counter`` pair per product, ~0.2 us);
- PyTorch: ``aten::addmm`` and ``aten::mm`` self time from ``torch.profiler`` over separate
  profiled steps (the profiler's own cost lands on the other ops, not on these);
- the NumPy loop: its products timed the same way as tinytorch's (``@`` replaced by a timed
  ``numpy.matmul`` of the same operands).

The libraries alternate (A B C, B C A, ...) over ``--rounds`` rounds; each row is the median over
processes, with the processes' spread. Everything that is not a product (bias, ReLU and its mask,
the loss, the bias gradients, the updates, Python) is ``other``.
"""

import argparse
import importlib.util
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

PHASES = ("forward", "backward", "step", "zero_grad")


class _GemmClock:
    """Sums the seconds spent inside the wrapped product functions; a wrapped function called
    from another (``matmul_transposed`` hands MKL's products to ``mm``) is counted once."""

    def __init__(self):
        self.seconds = 0.0
        self.depth = 0

    def wrap(self, function):
        def timed(*args):
            if self.depth:
                return function(*args)
            self.depth += 1
            start = time.perf_counter()
            try:
                return function(*args)
            finally:
                self.seconds += time.perf_counter() - start
                self.depth -= 1

        return timed


def _time_phases(phases, steps, clock=None):
    """Median seconds per phase over ``steps`` steps (and the products' median seconds per step),
    and the minor page faults per step (``faults``: memory the step had to map in again)."""
    times = {name: [] for name in (*PHASES, "total", "gemm")}
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(steps):
        if clock is not None:
            clock.seconds = 0.0
        marks = [time.perf_counter()]
        for name in phases:  # in the model's order (the lecture's loop: zero_grad first)
            phases[name]()
            marks.append(time.perf_counter())
        for name, start, end in zip(phases, marks, marks[1:]):
            times[name].append(end - start)
        times["total"].append(marks[-1] - marks[0])
        if clock is not None:
            times["gemm"].append(clock.seconds)
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) / steps
    return {**{name: statistics.median(v) for name, v in times.items() if v}, "faults": faults}


def _library_phases(lib, batch, model_kind="sequential", optimizer="sgd"):
    """forward / backward / step / zero_grad closures for tinytorch or torch (the same code).

    ``sequential``: benchmarks/run.py's model and batch (``nn.Sequential`` with ``nn.ReLU``, a
    (batch, 784) array drawn by NumPy). ``lecture``: the lecture's class as written (``F.relu`` in
    ``forward``, ``x.view(-1, 784)``) on a ``randn(batch, 1, 28, 28)`` batch made by the library,
    as a user times a step, with nothing of a step kept past it."""
    from run import batch_data

    nn = lib.nn
    lib.manual_seed(0)
    if model_kind == "lecture":
        from lecture_program import lecture_mlp

        model = lecture_mlp(lib)
        x, y = lib.randn(batch, 1, 28, 28), lib.randint(0, 10, (batch,))
    else:
        model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 128),
                              nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
        x, y = batch_data(batch)
        x, y = lib.tensor(x), lib.tensor(y)
    if optimizer == "sgd":
        opt = lib.optim.SGD(model.parameters(), lr=0.01)
    else:  # run.py's Adam case
        opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    state = {}

    def forward():
        state["loss"] = criterion(model(x), y)

    def backward():
        # The lecture's step as a function (``def train_step(x, y)``): its loss, and the graph's
        # activations with it, end with the step; run.py's loop keeps the loss to the next forward.
        loss = state.pop("loss") if model_kind == "lecture" else state["loss"]
        loss.backward()

    if model_kind == "lecture":  # optimizer.zero_grad(); loss = criterion(model(x), y); loss.backward(); optimizer.step()
        return {"zero_grad": opt.zero_grad, "forward": forward, "backward": backward, "step": opt.step}
    return {"forward": forward, "backward": backward, "step": opt.step, "zero_grad": opt.zero_grad}


def child(library, batch, steps, warmup, model_kind="sequential", optimizer="sgd"):
    if library != "pytorch":
        # Alone in its process: run.py (imported for its batch) must not import torch here, whose
        # import alone moves glibc's malloc thresholds and so when a step page-faults.
        sys.modules["torch"] = None
    if library == "tinytorch":
        import tinytorch
        from tinytorch import _backend

        clock = _GemmClock()
        _backend.mm = clock.wrap(_backend.mm)
        _backend.matmul_transposed = clock.wrap(_backend.matmul_transposed)
        phases = _library_phases(tinytorch, batch, model_kind, optimizer)
        _time_phases(phases, warmup)
        return _time_phases(phases, steps, clock)
    if library == "pytorch":
        import torch

        phases = _library_phases(torch, batch, model_kind, optimizer)
        _time_phases(phases, warmup)
        result = _time_phases(phases, steps)
        profiled = max(5, steps // 4)
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
            for _ in range(profiled):
                for name in phases:
                    phases[name]()
        gemm_us = sum(e.self_cpu_time_total for e in prof.key_averages() if e.key in ("aten::addmm", "aten::mm"))
        result["gemm"] = gemm_us * 1e-6 / profiled
        return result
    from numpy_mlp import NumpyMLP
    from run import batch_data

    clock = _GemmClock()
    timed_matmul = clock.wrap(np.matmul)

    class Timed(np.ndarray):
        """An array whose ``@`` is the timed matmul (the loop's code is unchanged)."""

        def __matmul__(self, other):
            return timed_matmul(np.asarray(self), np.asarray(other)).view(Timed)

    model = NumpyMLP()
    model.weights = [w.view(Timed) for w in model.weights]
    x, y = batch_data(batch)
    x = x.view(Timed)
    state = {}

    def forward_backward():
        state["loss"], state["grads"] = model.gradients(x, y)

    def step():
        if optimizer == "adam":
            model.adam_update(state["grads"])
            return
        for k, gw, gb in state["grads"]:
            gw *= 0.01
            model.weights[k] -= gw
            model.biases[k] -= 0.01 * gb

    # The loop computes its gradients with its forward, so its "backward" phase is empty.
    phases = {"forward": forward_backward, "backward": lambda: None, "step": step, "zero_grad": lambda: None}
    _time_phases(phases, warmup)
    return _time_phases(phases, steps, clock)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=0, help="timed steps per process (default: by batch size)")
    parser.add_argument("--libraries", default="tinytorch,pytorch,numpy")
    parser.add_argument("--model", choices=["sequential", "lecture"], default="sequential",
                        help="run.py's Sequential on a NumPy batch, or the lecture's class (F.relu) on a randn batch; "
                             "the NumPy loop has one form")
    parser.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd",
                        help="SGD lr 0.01, or Adam lr 1e-3 (run.py's Adam case)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    steps = args.steps or max(20, int(2400 / max(args.batch, 12) ** 0.8))
    if args.child:
        print(json.dumps(child(args.child, args.batch, steps, warmup=30, model_kind=args.model, optimizer=args.optimizer)))
        return
    names = args.libraries.split(",")
    if "pytorch" in names and importlib.util.find_spec("torch") is None:
        print("PyTorch is not installed: profiling the other libraries only")
        names.remove("pytorch")
    results = {name: [] for name in names}
    print(f"Command: python benchmarks/step_profile.py {' '.join(argv if argv is not None else sys.argv[1:])}")
    for r in range(args.rounds):
        for name in names[r % len(names):] + names[: r % len(names)]:
            out = subprocess.run([sys.executable, __file__, "--child", name, "--batch", str(args.batch), "--steps", str(steps),
                                  "--model", args.model, "--optimizer", args.optimizer],
                                 capture_output=True, text=True, check=True)
            results[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(f"round {r + 1} {name}: " + ", ".join(f"{k} {v:.0f}" if k == "faults" else f"{k} {v * 1e3:.2f}"
                                                       for k, v in results[name][-1].items()), flush=True)
    print(f"\nbatch {args.batch} ({args.model} model, {args.optimizer}), ms per step (faults: minor page faults per step), "
          f"median over {args.rounds} processes (min-max)\n")
    columns = (*PHASES, "total", "gemm", "other", "faults")
    print("| library | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for name in names:
        for res in results[name]:
            res["other"] = res["total"] - res["gemm"]
        cells = []
        for column in columns:
            values = [res[column] * (1 if column == "faults" else 1e3) for res in results[name]]
            digits = 0 if column == "faults" else 2
            cells.append(f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})")
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
