"""set_num_threads / get_num_threads: PyTorch's names and errors, acting on the BLAS pools."""

import subprocess
import sys

import pytest

import tinytorch


@pytest.mark.parametrize("value, message", [(0, "expects a positive integer"), (-1, "expects a positive integer"),
                                            (2.5, "expects an int, but got float"), ("a", "expects an int, but got str")])
def test_bad_counts_raise_pytorchs_errors(value, message):
    with pytest.raises(RuntimeError, match=message):
        tinytorch.set_num_threads(value)


def test_the_count_reaches_the_blas():
    # In a fresh process: the limit is process-wide and other tests time products.
    code = ("import tinytorch\n"
            "tinytorch.set_num_threads(1)\n"
            "from threadpoolctl import threadpool_info\n"
            "print(tinytorch.get_num_threads(), sorted({p['num_threads'] for p in threadpool_info() if p['user_api'] == 'blas'}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[0] == "1 [1]"
