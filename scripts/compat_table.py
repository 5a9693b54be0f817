"""Write docs/compatibility.md: which PyTorch names tinytorch has, and which are tested against PyTorch.

    python scripts/compat_table.py          # regenerate the page (and the name list, when torch is installed)
    python scripts/compat_table.py --check  # exit 1 when the committed page is out of date

The PyTorch names come from the installed torch (and are saved to scripts/torch_names.txt), or
from that checked-in list when torch is not installed. A name "exists" when the same attribute
path resolves in tinytorch; it is "tested" when it appears in tests/ops/op_table.py or in a test
module that imports torch, or runs its tests for ``["tinytorch", "torch"]`` alike (the tests that
compare tinytorch with PyTorch) — a textual heuristic over the test files git tracks.
"""

import argparse
import importlib
import os
import re
import subprocess
import sys
import types
import warnings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAMES_FILE = os.path.join(ROOT, "scripts", "torch_names.txt")
PAGE = os.path.join(ROOT, "docs", "compatibility.md")

# namespace -> (tinytorch module path, attribute on it or None, regex template of a use in a test)
NAMESPACES = {
    "torch": ("tinytorch", None, r"\b(?:torch|lib)\.{name}\b"),
    "torch.Tensor": ("tinytorch", "Tensor", r"(?<!torch)(?<!\blib)(?<!\bnn)(?<!\bF)\.{name}\b"),
    "torch.nn": ("tinytorch.nn", None, r"\bnn\.{name}\b"),
    "torch.nn.functional": ("tinytorch.nn.functional", None, r"\b(?:F|functional)\.{name}\b"),
    "torch.nn.init": ("tinytorch.nn.init", None, r"\binit\.{name}\b"),
    "torch.optim": ("tinytorch.optim", None, r"\boptim\.{name}\b"),
    "torch.optim.lr_scheduler": ("tinytorch.optim.lr_scheduler", None, r"\blr_scheduler\.{name}\b"),
    "torch.utils.data": ("tinytorch.utils.data", None, r"\b(?:data\.)?{name}\b"),
    "torch.autograd": ("tinytorch.autograd", None, r"\bautograd\.{name}\b"),
    "torch.autograd.graph": ("tinytorch.autograd.graph", None, r"\bgraph\.{name}\b"),
    "torch.linalg": ("tinytorch.linalg", None, r"\blinalg\.{name}\b"),
    "torch.distributions": ("tinytorch.distributions", None, r"(?:\bdistributions|\bd|\b_?d\(L\))\.{name}\b"),
    "torch.distributed": ("tinytorch.distributed", None, r"\bdist(?:ributed)?\.{name}\b"),
    "torch.nn.parallel": ("tinytorch.nn.parallel", None, r"\b(?:parallel\.)?{name}\b"),
    "torch.cuda": ("tinytorch.cuda", None, r"\bcuda\.{name}\b"),
}


def torch_names():
    """{namespace: sorted public names} from the installed torch."""
    import torch
    import torch.autograd.graph
    import torch.distributed.distributed_c10d
    import torch.nn.functional as F
    import torch.nn.init
    import torch.optim.lr_scheduler
    import torch.distributions
    import torch.utils.data

    def public(obj, names=None):
        names = dir(obj) if names is None else names
        return sorted(
            n for n in set(names)
            if not n.startswith("_") and hasattr(obj, n) and not isinstance(getattr(obj, n), types.ModuleType)
        )

    def functions(module):
        return [n for n in public(module) if callable(getattr(module, n)) and not isinstance(getattr(module, n), type)
                and not getattr(getattr(module, n), "__module__", "").startswith("typing")]

    warnings.simplefilter("ignore", FutureWarning)  # reading torch.distributed.reduce_op warns that it is deprecated
    return {
        "torch": public(torch, torch.__all__),
        "torch.Tensor": public(torch.Tensor),
        "torch.nn": public(torch.nn),
        "torch.nn.functional": [n for n in functions(F) if not n.startswith(("has_torch_function", "handle_torch_function", "boolean_dispatch"))],
        "torch.nn.init": [n for n in functions(torch.nn.init) if getattr(getattr(torch.nn.init, n), "__module__", "") == "torch.nn.init"],
        "torch.optim": public(torch.optim, torch.optim.__all__),
        "torch.optim.lr_scheduler": public(torch.optim.lr_scheduler, torch.optim.lr_scheduler.__all__),
        "torch.utils.data": public(torch.utils.data, torch.utils.data.__all__),
        "torch.autograd": public(torch.autograd, torch.autograd.__all__),
        "torch.autograd.graph": public(torch.autograd.graph, torch.autograd.graph.__all__),
        "torch.linalg": [n for n in public(torch.linalg) if callable(getattr(torch.linalg, n))],
        "torch.distributions": public(torch.distributions, torch.distributions.__all__),
        "torch.distributed": public(torch.distributed, torch.distributed.distributed_c10d.__all__),
        "torch.nn.parallel": public(torch.nn.parallel, torch.nn.parallel.__all__),
        "torch.cuda": public(torch.cuda, torch.cuda.__all__),
    }, torch.__version__


def write_names(names, version, path=NAMES_FILE):
    with open(path, "w") as f:
        f.write(f"# PyTorch public names, from torch {version} (scripts/compat_table.py writes this file)\n")
        for namespace, members in names.items():
            f.writelines(f"{namespace}.{name}\n" for name in members)


def read_names(path=NAMES_FILE):
    """({namespace: names}, torch version) from the checked-in list."""
    names = {namespace: [] for namespace in NAMESPACES}
    version = None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("#"):
                version = re.search(r"from torch (\S+)", line).group(1)
            elif line:
                namespace, _, name = line.rpartition(".")
                names[namespace].append(name)
    return names, version


def test_files():
    """The test modules git tracks (so that untracked work in progress does not change the page),
    or every .py file under tests/ outside a git checkout."""
    try:
        listed = subprocess.run(["git", "ls-files", "tests"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        listed = [os.path.relpath(os.path.join(folder, name), ROOT) for folder, _, files in os.walk(os.path.join(ROOT, "tests")) for name in files]
    return sorted(os.path.join(ROOT, path) for path in listed if path.endswith(".py") and os.path.exists(os.path.join(ROOT, path)))


def torch_test_text():
    """The text of the tests that compare with PyTorch: the op table and test modules importing torch."""
    texts = []
    for path in test_files():
        with open(path) as f:
            text = f.read()
        if os.path.basename(path) == "op_table.py" or re.search(r"^\s*import torch\b|importorskip\(['\"]torch['\"]\)|['\"]tinytorch['\"],\s*['\"]torch['\"]\]", text, re.M):
            texts.append(text)
    return "\n".join(texts)


def exists(namespace, name):
    module_path, attribute, _ = NAMESPACES[namespace]
    target = importlib.import_module(module_path)
    if attribute:
        target = getattr(target, attribute)
    return hasattr(target, name)


def table(names, version, tested_text):
    """The page's Markdown."""
    rows, summary = [], []
    for namespace, members in names.items():
        pattern = NAMESPACES[namespace][2]
        lines = ["| name | in tinytorch | tested against PyTorch |", "| --- | :---: | :---: |"]
        have = tested = 0
        for name in members:
            present = exists(namespace, name)
            # A use in code, or the name as a string (tests parametrized by name: getattr(optim, "Adam")).
            used = pattern.format(name=re.escape(name)) + rf"|[\"']{re.escape(name)}[\"']"
            checked = present and re.search(used, tested_text) is not None
            have += present
            tested += checked
            lines.append(f"| `{namespace}.{name}` | {'yes' if present else '—'} | {'yes' if checked else '—'} |")
        summary.append(f"| [`{namespace}`](#{namespace.replace('.', '').lower()}) | {len(members)} | {have} | {tested} |")
        rows.append(f"## {namespace}\n\n" + "\n".join(lines) + "\n")
    header = (
        "# Compatibility table\n\n"
        f"Which public names of PyTorch {version} exist in tinytorch, and which of those are exercised by\n"
        "a test that compares tinytorch with PyTorch. Generated by `python scripts/compat_table.py` from\n"
        "the code and the tests (a test checks that this page is up to date). \"Tested\" is textual: the\n"
        "name is used in `tests/ops/op_table.py` or in a test module that imports torch. See\n"
        "[Differences from PyTorch](differences.md) for what behaves differently.\n\n"
        "| namespace | PyTorch names | in tinytorch | tested against PyTorch |\n| --- | ---: | ---: | ---: |\n"
        + "\n".join(summary) + "\n\n"
    )
    return header + "\n".join(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/compatibility.md is out of date")
    args = parser.parse_args(argv)
    sys.path.insert(0, ROOT)
    if not args.check:
        try:
            names, version = torch_names()
            write_names(names, version)
        except ImportError:
            print("torch is not installed: using the names in scripts/torch_names.txt")
    names, version = read_names()
    page = table(names, version, torch_test_text())
    if args.check:
        with open(PAGE) as f:
            if f.read() != page:
                print("docs/compatibility.md is out of date: run python scripts/compat_table.py")
                return 1
        return 0
    with open(PAGE, "w") as f:
        f.write(page)
    print(f"wrote {os.path.relpath(PAGE, ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
