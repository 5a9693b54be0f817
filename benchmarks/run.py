"""Benchmarks: tinytorch vs PyTorch vs a hand-written NumPy loop, each library in its own process.

    python benchmarks/run.py            # everything (a few minutes)
    python benchmarks/run.py --quick    # a smoke run (CI runs this so the harness cannot rot)
    python benchmarks/run.py --cases step,ops --repeats 7 --processes 3

As a user measures: the train-step cases (``step``), the whole lecture program (``lecture``), the
models (``lstm``, ``transformer``, ``mnist_cnn``) and peak RSS (``rss``) run every library alone
in its own fresh process, the libraries alternating over ``--processes`` rounds (A B C, B C A,
...); a figure is the median of per-process medians, a ratio the median over rounds of the ratio
within a round. PyTorch's OpenMP threads and OpenBLAS's threads spin against each other when they
share a process on two cores, which flatters whichever is measured second: the cases that still
put every library in one process (``step-shared``, ``epoch``, ``ops``, ``inference``) say so in
their label and are a secondary view. The command and the BLAS libraries in use (threadpoolctl)
are printed first. Results: a Markdown table on stdout and in benchmarks/results/latest.md, raw
numbers in results/latest.json, a bar chart in results/latest.png.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

import tinytorch  # noqa: E402
import model_steps  # noqa: E402
from numpy_mlp import SIZES, NumpyMLP  # noqa: E402

# A peak-RSS or model child measures one contender alone: it must not import torch unless it
# is torch's turn.
_RSS_CHILD_WITHOUT_TORCH = any(flag in sys.argv for flag in ("--rss-child", "--model-child", "--step-child")) and "pytorch" not in " ".join(sys.argv)
try:
    if _RSS_CHILD_WITHOUT_TORCH:
        raise ImportError
    import torch
except ImportError:  # the comparison is skipped, the harness still runs
    torch = None

RESULTS = os.path.join(HERE, "results")
DATA = os.path.join(os.path.dirname(HERE), "data")


# -- the lecture's model, as each framework writes it ----------------------------------------
def tinytorch_mlp(device="cpu"):
    from tinytorch import nn

    layers = []
    for k, (fan_in, fan_out) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        layers.append(nn.Linear(fan_in, fan_out))
        if k < len(SIZES) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers).to(device)


def torch_mlp(device="cpu"):
    layers = []
    for k, (fan_in, fan_out) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        layers.append(torch.nn.Linear(fan_in, fan_out))
        if k < len(SIZES) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers).to(device)


def batch_data(batch, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((batch, 784)).astype(np.float32), rng.integers(0, 10, batch)


# -- contenders: each returns a function that runs n steps -----------------------------------
def tinytorch_step(batch, optimizer="sgd", device="cpu"):
    from tinytorch import nn, optim

    tinytorch.manual_seed(0)
    model = tinytorch_mlp(device)
    opt = optim.SGD(model.parameters(), lr=0.01) if optimizer == "sgd" else optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    x, y = batch_data(batch)
    x, y = tinytorch.tensor(x, device=device), tinytorch.tensor(y, device=device)

    def run(n):
        for _ in range(n):
            opt.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            opt.step()
        if device != "cpu":
            tinytorch.cuda.synchronize()

    return run


def torch_step(batch, optimizer="sgd", device="cpu"):
    torch.manual_seed(0)
    model = torch_mlp(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01) if optimizer == "sgd" else torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = torch.nn.CrossEntropyLoss()
    x, y = batch_data(batch)
    x, y = torch.tensor(x, device=device), torch.tensor(y, device=device)

    def run(n):
        for _ in range(n):
            opt.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            opt.step()
        if device != "cpu":
            torch.cuda.synchronize()

    return run


def numpy_step(batch, optimizer="sgd"):
    model = NumpyMLP()
    x, y = batch_data(batch)
    step = model.sgd_step if optimizer == "sgd" else model.adam_step

    def run(n):
        for _ in range(n):
            step(x, y)

    return run


# -- measurement -----------------------------------------------------------------------------
def summarize(samples):
    """Median, spread and the samples themselves (aligned by repeat: a repeat ran every contender
    back to back, so ratios are taken repeat by repeat)."""
    return {name: {"median": statistics.median(s), "min": min(s), "max": max(s), "samples": s} for name, s in samples.items()}


def measure(contenders, steps, repeats, warmup=3, raw=False):
    """Seconds per step for each contender: median and (min, max) over repeats, interleaved
    (or, with ``raw``, the list of samples)."""
    runs = {name: make() for name, make in contenders.items()}
    for run in runs.values():
        run(warmup)
    samples = {name: [] for name in runs}
    names = list(runs)
    for r in range(repeats):
        order = names[r % len(names):] + names[: r % len(names)]
        for name in order:
            start = time.perf_counter()
            runs[name](steps)
            samples[name].append((time.perf_counter() - start) / steps)
    if raw:
        return samples
    return summarize(samples)


def _step_contenders(device):
    names = ["tinytorch"]
    if torch is not None and (device == "cpu" or torch.cuda.is_available()):
        names.append("pytorch")
    if device == "cpu":
        names.append("numpy")
    return names


def _step_batches(args, device):
    if args.batches:  # only these SGD cases (more rounds of fewer cases)
        return [(int(b), "sgd") for b in args.batches.split(",")]
    batches = [12, 128] if args.quick else [12, 64, 128, 1024]
    if device != "cpu":
        batches = [128, 1024] if args.quick else [12, 128, 1024, 8192]
    return [(b, "sgd") for b in batches] + [(128, "adam")]


def _steps_per_sample(args, batch):
    return max(2, int((20 if args.quick else 400) * 12 / max(batch, 12) ** 0.8))


def step_cases(args, rows, device="cpu"):
    """Train steps as a user measures them: each library alone in its own fresh process.

    A round starts one process per contender, one after the other (the order rotates from round
    to round: A B C, B C A, ...); each process warms up for 30 steps, then times ``--repeats``
    samples of n steps and reports their median. A contender's figure is the median of its
    per-process medians (the spread: their min-max), and a ratio is the median over rounds of
    the ratio within the round. Where arrays land in memory moves a step by up to ~10%,
    differently in each process, so several rounds (``--processes``) are needed.
    """
    names = _step_contenders(device)
    for batch, optimizer in _step_batches(args, device):
        samples = {name: [] for name in names}
        for k in range(args.processes):
            for name in names[k % len(names):] + names[: k % len(names)]:
                spec = json.dumps({"batch": batch, "optimizer": optimizer, "device": device, "steps": _steps_per_sample(args, batch),
                                   "repeats": args.repeats, "order": [name], "warmup": 5 if args.quick else 30})
                out = subprocess.run([sys.executable, __file__, "--step-child", spec], capture_output=True, text=True, check=True)
                samples[name].append(statistics.median(json.loads(out.stdout.strip().splitlines()[-1])[name]))
        rows.append({"case": f"train step, batch {batch}, {optimizer.upper()}" + ("" if device == "cpu" else f" ({device})"),
                     "unit": "ms/step", "scale": 1e3, **summarize(samples)})
        print(format_table(rows[-1:]).splitlines()[-1], flush=True)  # each case as it finishes


def shared_step_cases(args, rows, device="cpu"):
    """Secondary view: every contender in ONE process, alternating within it. On two cores
    PyTorch's OpenMP threads and OpenBLAS's threads then spin against each other and slow
    whichever runs next; this is not what a user sees (``step`` is), kept to show the effect."""
    names = _step_contenders(device)
    for batch, optimizer in _step_batches(args, device):
        samples = {name: [] for name in names}
        for k in range(args.processes):
            order = names[k % len(names):] + names[: k % len(names)]
            spec = json.dumps({"batch": batch, "optimizer": optimizer, "device": device, "steps": _steps_per_sample(args, batch),
                               "repeats": args.repeats, "order": order, "warmup": 3})
            out = subprocess.run([sys.executable, __file__, "--step-child", spec], capture_output=True, text=True, check=True)
            for name, values in json.loads(out.stdout.strip().splitlines()[-1]).items():
                samples[name].extend(values)
        rows.append({"case": f"train step, batch {batch}, {optimizer.upper()}, all in one process (secondary view)",
                     "unit": "ms/step", "scale": 1e3, **summarize(samples)})
        print(format_table(rows[-1:]).splitlines()[-1], flush=True)


def step_child(spec):
    """One process of a step case: print each contender's seconds per step, one per repeat."""
    spec = json.loads(spec)
    makers = {"tinytorch": tinytorch_step, "pytorch": torch_step, "numpy": lambda b, o, d: numpy_step(b, o)}
    contenders = {name: (lambda m=makers[name]: m(spec["batch"], spec["optimizer"], spec["device"])) for name in spec["order"]}
    samples = measure(contenders, spec["steps"], spec["repeats"], warmup=spec["warmup"], raw=True)
    print(json.dumps(samples))


def lecture_cases(args, rows):
    """The lecture's whole program (benchmarks/lecture_program.py) per library, each run a fresh
    process, the libraries alternating over ``--processes`` rounds: wall time of the whole
    process (start-up, imports, data, training, test), and its peak RSS."""
    names = ["tinytorch"] + (["pytorch"] if torch is not None else []) + ["numpy"]
    for epochs in [1] if args.quick else [1, 10]:
        seconds = {name: [] for name in names}
        rss = {name: [] for name in names}
        rounds = 1 if args.quick or epochs > 1 else args.processes
        for k in range(rounds):
            for name in names[k % len(names):] + names[: k % len(names)]:
                command = [sys.executable, os.path.join(HERE, "lecture_program.py"), "--library", name, "--epochs", str(epochs)]
                command += ["--limit", "3000"] if args.quick else []
                start = time.perf_counter()
                out = subprocess.run(command, capture_output=True, text=True, check=True)
                seconds[name].append(time.perf_counter() - start)
                result = json.loads(out.stdout.strip().splitlines()[-1])
                rss[name].append(result["peak_rss_mib"])
                print(f"  {name}: {epochs} epoch(s) {seconds[name][-1]:.1f} s, test accuracy {result['accuracy']:.4f}, "
                      f"peak RSS {result['peak_rss_mib']:.0f} MiB", flush=True)
        images = "3000 training images" if args.quick else "60000 images"
        rows.append({"case": f"the lecture's whole program, {epochs} epoch{'s' if epochs > 1 else ''} of {images} (one process each: start-up, data, training, test)",
                     "unit": "s", "scale": 1, **summarize(seconds)})
        rows.append({"case": f"peak RSS of the lecture's whole program, {epochs} epoch{'s' if epochs > 1 else ''}",
                     "unit": "MiB", "scale": 1, **summarize(rss)})
        print("\n".join(format_table(rows[-2:]).splitlines()[-2:]), flush=True)


def model_case(name):
    """A whole model's train step (benchmarks/model_steps.py): tinytorch and PyTorch each
    alone in a fresh process, ``--processes`` pairs run back to back (the order rotated), the
    samples pooled; a ratio pairs the k-th repeat of each."""

    def case(args, rows, device="cpu"):
        names = ["tinytorch"]
        if torch is not None and (device == "cpu" or torch.cuda.is_available()):
            names.append("pytorch")
        steps = 3 if args.quick else 20
        samples = {n: [] for n in names}
        for k in range(args.processes):
            # One library per process: PyTorch's OpenMP threads and OpenBLAS's spinning threads
            # in one process slow each other down (seen as 2-10x on this 2-core machine).
            for contender in names[k % len(names):] + names[: k % len(names)]:
                spec = json.dumps({"model": name, "device": device, "steps": steps, "repeats": args.repeats, "order": [contender]})
                out = subprocess.run([sys.executable, __file__, "--model-child", spec], capture_output=True, text=True, check=True)
                samples[contender].extend(json.loads(out.stdout.strip().splitlines()[-1])[contender])
        label = model_steps.CASE_NAMES[name] + ("" if device == "cpu" else f" ({device})")
        rows.append({"case": label, "unit": "ms/step", "scale": 1e3, **summarize(samples)})
        print(format_table(rows[-1:]).splitlines()[-1], flush=True)

    return case


def model_child(spec):
    """One process of a model case: each contender's seconds per step, one per repeat."""
    spec = json.loads(spec)
    make = model_steps.MODELS[spec["model"]]
    libraries = {"tinytorch": tinytorch, "pytorch": torch}
    contenders = {name: (lambda lib=libraries[name]: make(lib, spec["device"])) for name in spec["order"]}
    print(json.dumps(measure(contenders, spec["steps"], spec["repeats"], warmup=2, raw=True)))


def op_cases(args, rows):
    """Forward + backward of one op on tiny tensors: the per-op overhead."""
    ops = {
        "add": lambda a, b: a + b,
        "mul": lambda a, b: a * b,
        "matmul": lambda a, b: a @ b,
        "relu": lambda a, b: a.relu(),
        "sum": lambda a, b: a.sum(),
    }
    for name, op in ops.items():
        def ours(op=op):
            a = tinytorch.ones(4, 4, requires_grad=True)
            b = tinytorch.ones(4, 4, requires_grad=True)

            def run(n):
                for _ in range(n):
                    op(a, b).sum().backward()

            return run

        def theirs(op=op):
            a = torch.ones(4, 4, requires_grad=True)
            b = torch.ones(4, 4, requires_grad=True)

            def run(n):
                for _ in range(n):
                    op(a, b).sum().backward()

            return run

        contenders = {"tinytorch": ours}
        if torch is not None:
            contenders["pytorch"] = theirs
        result = measure(contenders, 200 if args.quick else 3000, args.repeats)
        rows.append({"case": f"op {name} (4x4) forward+sum+backward, one process", "unit": "µs/op", "scale": 1e6, **result})


def mnist_arrays(train=True, limit=None):
    from tinytorch.vision.datasets import MNIST

    dataset = MNIST(DATA, train=train)
    images = dataset.data.numpy()[:limit].astype(np.float32) / 255.0
    return (images - 0.1307) / 0.3081, dataset.targets.numpy()[:limit]


def epoch_cases(args, rows, device="cpu"):
    """One epoch of the lecture's program at batch 12, data loading included (on ``device``: each
    batch is moved there as the lecture's loop does, and the GPU is synchronized at chunk ends).

    Each contender's epoch is cut into chunks of 250 batches and the chunks of all contenders
    alternate, so that a slow spell of the machine (seconds long, here) hits all of them alike.
    """
    from tinytorch import nn, optim
    from tinytorch.utils.data import DataLoader, Subset
    from tinytorch.vision import datasets, transforms

    limit = 3000 if args.quick else None
    chunk = 250

    def ours():
        tinytorch.manual_seed(0)
        transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
        dataset = datasets.MNIST(DATA, train=True, transform=transform)
        if limit:
            dataset = Subset(dataset, range(limit))
        loader = DataLoader(dataset, batch_size=12, shuffle=True)
        model, criterion = tinytorch_mlp(device), nn.CrossEntropyLoss()
        opt = optim.SGD(model.parameters(), lr=0.01)

        def epoch():
            for k, (images, labels) in enumerate(loader, 1):
                images, labels = images.to(device), labels.to(device)
                opt.zero_grad()
                criterion(model(images.view(-1, 784)), labels).backward()
                opt.step()
                if k % chunk == 0:
                    if device != "cpu":
                        tinytorch.cuda.synchronize()
                    yield
            if device != "cpu":
                tinytorch.cuda.synchronize()

        return epoch

    def theirs():
        torch.manual_seed(0)
        images, labels = mnist_arrays(True, limit)
        data = torch.utils.data.TensorDataset(torch.tensor(images).reshape(-1, 1, 28, 28), torch.tensor(labels))
        loader = torch.utils.data.DataLoader(data, batch_size=12, shuffle=True)
        model, criterion = torch_mlp(device), torch.nn.CrossEntropyLoss()
        opt = torch.optim.SGD(model.parameters(), lr=0.01)

        def epoch():
            for k, (x, y) in enumerate(loader, 1):
                x, y = x.to(device), y.to(device)
                opt.zero_grad()
                criterion(model(x.view(-1, 784)), y).backward()
                opt.step()
                if k % chunk == 0:
                    if device != "cpu":
                        torch.cuda.synchronize()
                    yield
            if device != "cpu":
                torch.cuda.synchronize()

        return epoch

    def numpy_loop():
        images, labels = mnist_arrays(True, limit)
        model, rng = NumpyMLP(), np.random.default_rng(0)
        flat = images.reshape(len(images), -1)

        def epoch():
            order = rng.permutation(len(flat))
            for k, start in enumerate(range(0, len(order), 12), 1):
                index = order[start : start + 12]
                model.sgd_step(flat[index], labels[index])
                if k % chunk == 0:
                    yield

        return epoch

    contenders = {"tinytorch": ours}
    if device == "cpu":
        contenders["numpy"] = numpy_loop
    if torch is not None and (device == "cpu" or torch.cuda.is_available()):
        contenders["pytorch"] = theirs
    epochs = {name: make() for name, make in contenders.items()}
    samples = {name: [] for name in epochs}
    for _ in range(1 if args.quick else max(1, args.repeats // 2)):
        running = {name: epoch() for name, epoch in epochs.items()}
        spent = dict.fromkeys(running, 0.0)
        while running:
            for name in list(running):
                start = time.perf_counter()
                finished = next(running[name], StopIteration) is StopIteration
                spent[name] += time.perf_counter() - start
                if finished:
                    del running[name]
        for name, seconds in spent.items():
            samples[name].append(seconds)
    result = summarize(samples)
    rows.append({"case": f"epoch of the lecture's program ({limit or 60000} images, batch 12), all in one process (secondary view)" + ("" if device == "cpu" else f" ({device})"),
                 "unit": "s/epoch", "scale": 1, **result})


def inference_cases(args, rows):
    images, _ = mnist_arrays(False, 2000 if args.quick else None)

    def ours():
        model = tinytorch_mlp().eval()
        x = tinytorch.tensor(images.reshape(len(images), -1))

        def run(n):
            with tinytorch.no_grad():
                for _ in range(n):
                    for start in range(0, len(x), 1000):
                        model(x[start : start + 1000]).argmax(1)

        return run

    def theirs():
        model = torch_mlp().eval()
        x = torch.tensor(images.reshape(len(images), -1))

        def run(n):
            with torch.no_grad():
                for _ in range(n):
                    for start in range(0, len(x), 1000):
                        model(x[start : start + 1000]).argmax(1)

        return run

    def numpy_loop():
        model, x = NumpyMLP(), images.reshape(len(images), -1)

        def run(n):
            for _ in range(n):
                for start in range(0, len(x), 1000):
                    model.predict(x[start : start + 1000])

        return run

    contenders = {"tinytorch": ours, "numpy": numpy_loop}
    if torch is not None:
        contenders["pytorch"] = theirs
    result = measure(contenders, 1 if args.quick else 3, args.repeats)
    rows.append({"case": f"inference over {len(images)} test images (batch 1000), one process", "unit": "ms", "scale": 1e3, **result})


def rss_child(contender, steps):
    """Train `steps` steps at batch 12 in this (fresh) process and print the peak RSS in MiB."""
    if contender == "tinytorch":
        run = tinytorch_step(12)
    elif contender == "pytorch":
        run = torch_step(12)
    else:
        run = numpy_step(12)
    run(steps)
    # VmHWM, not ru_maxrss: on Linux ru_maxrss survives fork+exec, so a child would report its
    # parent's peak; VmHWM belongs to this process's own address space.
    with open("/proc/self/status") as f:
        peak_kib = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    print(peak_kib / 1024)


def rss_cases(args, rows):
    steps = 50 if args.quick else 2000
    result = {}
    for contender in ["tinytorch", "numpy"] + (["pytorch"] if torch is not None else []):
        out = subprocess.run([sys.executable, __file__, "--rss-child", contender, "--rss-steps", str(steps)],
                             capture_output=True, text=True, check=True)
        value = float(out.stdout.strip().splitlines()[-1])
        result[contender] = {"median": value, "min": value, "max": value}
    rows.append({"case": f"peak RSS of a training run ({steps} steps, batch 12)", "unit": "MiB", "scale": 1, **result})


# -- report ----------------------------------------------------------------------------------
def format_table(rows):
    lines = [
        "| case | tinytorch | PyTorch | NumPy loop | tinytorch / PyTorch | tinytorch / NumPy |",
        "|---|---|---|---|---|---|",
    ]

    def cell(row, name):
        if name not in row:
            return "—"
        r, s = row[name], row["scale"]
        return f"{r['median'] * s:.3g} {row['unit']} ({r['min'] * s:.3g}–{r['max'] * s:.3g})"

    def ratio(row, other):
        if other not in row or "tinytorch" not in row:
            return "—"
        return f"{paired_ratio(row['tinytorch'], row[other]):.2f}×"

    for row in rows:
        lines.append(f"| {row['case']} | {cell(row, 'tinytorch')} | {cell(row, 'pytorch')} | {cell(row, 'numpy')} | {ratio(row, 'pytorch')} | {ratio(row, 'numpy')} |")
    return "\n".join(lines)


def paired_ratio(ours, theirs):
    """The median over repeats of ours / theirs within each repeat. The machine has slow spells
    lasting seconds that slow every contender; a ratio of medians is off when a spell covers
    many repeats of one case, while each repeat's own ratio compares runs made back to back."""
    a, b = ours.get("samples"), theirs.get("samples")
    if a and b and len(a) == len(b):
        return statistics.median(x / y for x, y in zip(a, b))
    return ours["median"] / theirs["median"]


def machine():
    info = {"python": platform.python_version(), "numpy": np.__version__, "cpus": os.cpu_count(), "machine": platform.machine()}
    if torch is not None:
        info["torch"] = torch.__version__
    try:
        from threadpoolctl import threadpool_info

        info["blas"] = [f"{p['internal_api']} {p.get('version')} ({p.get('architecture')}, {p['num_threads']} threads)" for p in threadpool_info()]
    except ImportError:
        pass
    return info


def plot(rows, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    names = ["tinytorch", "pytorch", "numpy"]
    figure, ax = plt.subplots(figsize=(10, 0.45 * len(rows) + 1.5))
    for i, name in enumerate(names):
        ratios = [row[name]["median"] / row["tinytorch"]["median"] if name in row else 0 for row in rows]
        ax.barh([k + i * 0.27 for k in range(len(rows))], ratios, height=0.27, label=name)
    ax.set_yticks([k + 0.27 for k in range(len(rows))])
    ax.set_yticklabels([row["case"] for row in rows], fontsize=7)
    ax.invert_yaxis()
    ax.axvline(1.0, color="gray", lw=0.8)
    ax.set_xlabel("relative to tinytorch (higher = more time or memory than tinytorch)")
    ax.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True


CASES = {"step": step_cases, "lecture": lecture_cases, "step-shared": shared_step_cases, "ops": op_cases, "epoch": epoch_cases, "inference": inference_cases, "rss": rss_cases,
         "lstm": model_case("lstm"), "transformer": model_case("transformer"), "mnist_cnn": model_case("mnist_cnn")}


def byte_compile():
    """Byte-compile tinytorch's modules, as pip does when it installs a package (PyTorch's and
    NumPy's were compiled when they were installed). An editable install compiles each module at
    its first import, unless PYTHONDONTWRITEBYTECODE is set (some machines, this one included, set
    it): then every process compiles every module again, 0.2 s and 2 MiB more per process."""
    import compileall

    ok = compileall.compile_dir(os.path.join(os.path.dirname(HERE), "tinytorch"), quiet=1)
    print(f"Byte-compiled tinytorch's modules (as pip install does): {'ok' if ok else 'FAILED'}", flush=True)


def _environment():
    """The settings that change which BLAS a contender runs on, as a command's prefix."""
    names = ("TINYTORCH_BLAS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    return "".join(f"{name}={os.environ[name]} " for name in names if name in os.environ)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a smoke run with small sizes")
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated: " + ", ".join(CASES))
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--processes", type=int, default=None, help="fresh processes per train-step case")
    parser.add_argument("--batches", default=None, help="train-step cases: only SGD at these comma-separated batch sizes")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (CUDA cases need CuPy and a GPU)")
    parser.add_argument("--output", default=RESULTS)
    parser.add_argument("--rss-child", help=argparse.SUPPRESS)
    parser.add_argument("--step-child", help=argparse.SUPPRESS)
    parser.add_argument("--model-child", help=argparse.SUPPRESS)
    parser.add_argument("--rss-steps", type=int, default=2000, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rss_child:
        return rss_child(args.rss_child, args.rss_steps)
    if args.step_child:
        return step_child(args.step_child)
    if args.model_child:
        return model_child(args.model_child)
    args.repeats = args.repeats or (3 if args.quick else 7)
    args.processes = args.processes or (1 if args.quick else 3)
    print(f"Command: {_environment()}python benchmarks/run.py {' '.join(sys.argv[1:] if argv is None else argv)}")
    print(f"Machine: {json.dumps(machine())}", flush=True)
    byte_compile()
    rows = []
    for name in args.cases.split(","):
        if args.device != "cpu" and name in ("step", "step-shared", "epoch", "lstm", "transformer", "mnist_cnn"):
            CASES[name](args, rows, args.device)
        elif args.device != "cpu":
            parser.error(f"case {name!r} runs on the CPU only; on {args.device}: step, epoch, lstm, transformer, mnist_cnn")
        else:
            CASES[name](args, rows)
    table = format_table(rows)
    print(table)
    if args.quick and args.output == RESULTS:
        return rows  # a smoke run does not overwrite the published numbers
    os.makedirs(args.output, exist_ok=True)
    stem = "latest" if args.device == "cpu" else f"latest-{args.device}"
    with open(os.path.join(args.output, f"{stem}.json"), "w") as f:
        json.dump({"machine": machine(), "command": " ".join(sys.argv), "rows": rows}, f, indent=2)
    with open(os.path.join(args.output, f"{stem}.md"), "w") as f:
        f.write(f"Command: `{_environment()}python benchmarks/run.py {' '.join(sys.argv[1:])}`\n\nMachine: {json.dumps(machine())}\n\n{table}\n")
    plot(rows, os.path.join(args.output, f"{stem}.png"))
    return rows


if __name__ == "__main__":
    main()
