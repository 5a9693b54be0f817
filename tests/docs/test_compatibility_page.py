"""docs/compatibility.md is generated from the code and the tests: it must be up to date."""

import importlib.util
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _script():
    spec = importlib.util.spec_from_file_location("compat_table", os.path.join(ROOT, "scripts", "compat_table.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_page_is_up_to_date():
    script = _script()
    names, version = script.read_names()
    expected = script.table(names, version, script.torch_test_text())
    with open(script.PAGE) as f:
        assert f.read() == expected, "docs/compatibility.md is out of date: run python scripts/compat_table.py"


def test_the_name_list_matches_the_installed_torch():
    pytest.importorskip("torch")
    script = _script()
    listed, version = script.read_names()
    names, installed = script.torch_names()
    if installed != version:
        pytest.skip(f"the list is from torch {version}, torch {installed} is installed")
    assert names == listed


def test_the_table_reflects_code_and_tests():
    script = _script()
    names = {"torch.nn": ["Linear", "NotALayer"], "torch.Tensor": ["relu", "not_a_method"]}
    page = script.table(names, "x", "nn.Linear(2, 3) ... x.relu()")
    assert "| `torch.nn.Linear` | yes | yes |" in page
    assert "| `torch.nn.NotALayer` | — | — |" in page
    assert "| `torch.Tensor.relu` | yes | yes |" in page
    assert "| `torch.Tensor.not_a_method` | — | — |" in page
    assert "| `torch.Tensor.relu` | yes | — |" in script.table(names, "x", "")
