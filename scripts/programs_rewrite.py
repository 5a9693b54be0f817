"""The import rewriter of scripts/run_programs.py: a PyTorch program's imports pointed at tinytorch.

Only import statements change, found with ``ast`` (so strings, comments and attribute uses are left
alone), and every line keeps its number, so a traceback's line is the upstream line:

    import torch                          ->  import tinytorch as torch
    import torch.nn as nn                 ->  import tinytorch.nn as nn
    import torch.utils.data               ->  import tinytorch.utils.data, tinytorch as torch
    import torchvision                    ->  import tinytorch.vision as torchvision
    import torchvision.transforms as T    ->  import tinytorch.vision.transforms as T
    from torch.utils.data import X        ->  from tinytorch.utils.data import X
    from torchvision import datasets      ->  from tinytorch.vision import datasets

The rest of the program still says ``torch.``/``torchvision.``: those names are now bound to
tinytorch's modules. Relative imports and every other package are untouched.
"""

import ast
import re

# The packages renamed, longest first: torchvision is not a submodule of torch.
MODULES = (("torchvision", "tinytorch.vision"), ("torch", "tinytorch"))


def map_module(name):
    """tinytorch's module for the PyTorch module ``name`` ("torch.nn" -> "tinytorch.nn"), or None."""
    for old, new in MODULES:
        if name == old or name.startswith(old + "."):
            return new + name[len(old):]
    return None


def _import_text(node):
    """The rewritten text of an ``import a, b.c as d`` statement, or None when no name is PyTorch's."""
    parts, changed = [], False
    for alias in node.names:
        mapped = map_module(alias.name)
        if mapped is None:
            parts.append(alias.name if alias.asname is None else f"{alias.name} as {alias.asname}")
        elif alias.asname is not None:
            parts.append(f"{mapped} as {alias.asname}")
            changed = True
        else:
            # ``import torch.nn`` binds ``torch`` and loads torch.nn: load tinytorch.nn, bind torch to tinytorch.
            top = alias.name.split(".")[0]
            if mapped != map_module(top):
                parts.append(mapped)
            parts.append(f"{map_module(top)} as {top}")
            changed = True
    return "import " + ", ".join(parts) if changed else None


def rewrite_imports(source):
    """``(new_source, changes)``: ``source`` with its PyTorch imports pointed at tinytorch.

    ``changes`` lists ``(line, old_text, new_text)`` for each rewritten statement. Raises
    SyntaxError when ``source`` does not parse.
    """
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    edits = []  # (first line, last line, col, end_col, new text) on 0-based line indices
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            new = _import_text(node)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and map_module(node.module):
            new = None  # done below: only the module name changes, the imported names stay as written
        else:
            continue
        first, last = node.lineno - 1, node.end_lineno - 1
        # ast columns count UTF-8 bytes; convert them to character offsets on their lines.
        col = len(lines[first].encode("utf-8")[: node.col_offset].decode("utf-8"))
        end_col = len(lines[last].encode("utf-8")[: node.end_col_offset].decode("utf-8"))
        old = "".join(lines[first:last + 1])
        old = old[col: len(old) - (len(lines[last]) - end_col)]
        if isinstance(node, ast.ImportFrom):
            new, count = re.subn(r"^(from\s+)" + re.escape(node.module) + r"(?=\s)", r"\g<1>" + map_module(node.module), old)
            if count != 1:
                raise ValueError(f"line {node.lineno}: cannot find the module name in {old!r}")
        elif new is None:
            continue
        elif last > first:
            # Keep the line count: continue the one-line statement over the lines it used to fill.
            new = new + " \\\n" * (last - first)
        edits.append((first, last, col, end_col, old, new))
    changes = []
    for first, last, col, end_col, old, new in sorted(edits, reverse=True):
        head, tail = lines[first][:col], lines[last][end_col:]
        lines[first:last + 1] = [head + new + tail]
        changes.append((first + 1, old, new))
    return "".join(lines), sorted(changes)
