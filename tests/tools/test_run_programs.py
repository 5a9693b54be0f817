"""scripts/run_programs.py's import rewriter and failure parser, on sample sources (no network, no upstream code)."""

import ast
import importlib.util
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPTS = os.path.join(ROOT, "scripts")


def _load(name):
    sys.path.insert(0, SCRIPTS)
    try:
        spec = importlib.util.spec_from_file_location(name, os.path.join(SCRIPTS, name + ".py"))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(SCRIPTS)


rewrite = _load("programs_rewrite")


@pytest.mark.parametrize("old, new", [
    ("import torch\n", "import tinytorch as torch\n"),
    ("import torch.nn as nn\n", "import tinytorch.nn as nn\n"),
    ("import torch.nn.functional as F\n", "import tinytorch.nn.functional as F\n"),
    ("import torch.utils.data\n", "import tinytorch.utils.data, tinytorch as torch\n"),
    ("import torchvision\n", "import tinytorch.vision as torchvision\n"),
    ("import torchvision.transforms as transforms\n", "import tinytorch.vision.transforms as transforms\n"),
    ("import torchvision.utils\n", "import tinytorch.vision.utils, tinytorch.vision as torchvision\n"),
    ("from torch import nn, optim\n", "from tinytorch import nn, optim\n"),
    ("from torch.utils.data import DataLoader\n", "from tinytorch.utils.data import DataLoader\n"),
    ("from torchvision import datasets\n", "from tinytorch.vision import datasets\n"),
    ("from torchvision.transforms import ToTensor, Lambda\n", "from tinytorch.vision.transforms import ToTensor, Lambda\n"),
    ("import os, torch, numpy as np\n", "import os, tinytorch as torch, numpy as np\n"),
    ("import torch  # the framework\n", "import tinytorch as torch  # the framework\n"),
])
def test_one_statement(old, new):
    assert rewrite.rewrite_imports(old)[0] == new


@pytest.mark.parametrize("source", [
    "import numpy as np\n",
    "import torchaudio\n",  # another package whose name starts with "torch"
    "from torchtext import data\n",
    "from . import model\n",
    "from .torch import x\n",
    "x = 'import torch'\n# import torch\n",
    "print(torch.nn.Linear)\n",
])
def test_leaves_everything_else_alone(source):
    new, changes = rewrite.rewrite_imports(source)
    assert new == source and changes == []


def test_keeps_line_numbers_and_the_rest_of_the_program():
    source = (
        "# -*- coding: utf-8 -*-\n"
        '"""Uses torch. import torch in a docstring stays."""\n'
        "import torch, \\\n"
        "    math\n"
        "from torch.utils.data import (\n"
        "    DataLoader,\n"
        "    Dataset,\n"
        ")\n"
        "def f():\n"
        "    import torch.nn.functional as F\n"
        "    return F\n"
        "s = 'é'; import torch.optim as optim\n"
        "x = torch.zeros(3)\n"
    )
    new, changes = rewrite.rewrite_imports(source)
    assert len(new.splitlines()) == len(source.splitlines())
    old_lines, new_lines = source.splitlines(), new.splitlines()
    for number in (1, 2, 6, 7, 8, 9, 11, 13):
        assert new_lines[number - 1] == old_lines[number - 1]
    assert new_lines[4] == "from tinytorch.utils.data import ("
    assert new_lines[9] == "    import tinytorch.nn.functional as F"
    assert new_lines[11] == "s = 'é'; import tinytorch.optim as optim"
    assert [line for line, _, _ in changes] == [3, 5, 10, 12]
    # The rewritten program binds the same names as the upstream one.
    names = {a.asname or a.name.split(".")[0] for node in ast.walk(ast.parse(new))
             if isinstance(node, ast.Import) for a in node.names}
    assert {"torch", "math", "F", "optim"} <= names
    compile(new, "<rewritten>", "exec")


def test_rewritten_imports_resolve_to_tinytorch():
    """Executing the rewritten imports binds tinytorch's modules under PyTorch's names."""
    source = ("import torch\nimport torch.nn as nn\nfrom torch.utils.data import DataLoader\n"
              "import torchvision.transforms as transforms\nfrom torchvision import datasets\n")
    namespace = {}
    exec(rewrite.rewrite_imports(source)[0], namespace)
    import tinytorch
    import tinytorch.vision

    assert namespace["torch"] is tinytorch
    assert namespace["nn"] is tinytorch.nn
    assert namespace["DataLoader"] is tinytorch.utils.data.DataLoader
    assert namespace["transforms"] is tinytorch.vision.transforms
    assert namespace["datasets"] is tinytorch.vision.datasets


def test_bad_source_is_a_syntax_error():
    with pytest.raises(SyntaxError):
        rewrite.rewrite_imports("import torch as\n")


def test_failure_parser_names_the_exception_and_both_lines(tmp_path):
    runner = _load("run_programs")
    work = tmp_path / "prog"
    work.mkdir()
    tiny = os.path.join(ROOT, "tinytorch", "nn", "functional.py")
    stderr = (
        "some warning\n"
        "Traceback (most recent call last):\n"
        f'  File "{work}/main.py", line 12, in <module>\n'
        "    out = model(x)\n"
        "          ^^^^^^^^\n"
        f'  File "{tiny}", line 40, in linear\n'
        "    return x @ w\n"
        "TypeError: linear() got an unexpected keyword argument 'foo'\n"
    )
    exception, program, tinytorch_line = runner.parse_failure(stderr, str(work))
    assert exception == "TypeError: linear() got an unexpected keyword argument 'foo'"
    assert program == "main.py:12 `out = model(x)`"
    assert tinytorch_line == os.path.join("tinytorch", "nn", "functional.py") + ":40"
    assert runner.parse_failure("Killed\n", str(work)) == ("Killed", "", "")
