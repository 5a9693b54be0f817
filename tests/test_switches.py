"""The global switches (deterministic algorithms, float32 matmul precision, warn-always, inter-op
threads): the state each reports back, and the errors and warnings, against torch."""

import subprocess
import sys
import warnings

import numpy as np
import pytest

import tinytorch


@pytest.fixture(autouse=True)
def _restore():
    yield
    tinytorch.use_deterministic_algorithms(False)
    tinytorch.set_float32_matmul_precision("highest")
    tinytorch.set_warn_always(False)


def _state(lib):
    return (lib.are_deterministic_algorithms_enabled(), lib.is_deterministic_algorithms_warn_only_enabled(),
            lib.get_deterministic_debug_mode())


@pytest.mark.parametrize("calls", [
    [("use", True, False)], [("use", True, True)], [("use", False, True)], [("use", True, True), ("use", False, False)],
    [("debug", "warn")], [("debug", "error")], [("debug", 1)], [("debug", 2), ("debug", "default")], [("debug", True)],
])
def test_deterministic_state_reads_back_as_torchs(calls):
    torch = pytest.importorskip("torch")
    try:
        for lib in (tinytorch, torch):
            for call in calls:
                if call[0] == "use":
                    lib.use_deterministic_algorithms(call[1], warn_only=call[2])
                else:
                    lib.set_deterministic_debug_mode(call[1])
        assert _state(tinytorch) == _state(torch)
    finally:
        torch.use_deterministic_algorithms(False)


@pytest.mark.parametrize("call", [
    lambda lib: lib.use_deterministic_algorithms(1), lambda lib: lib.use_deterministic_algorithms("x"),
    lambda lib: lib.use_deterministic_algorithms(True, warn_only=1),
    lambda lib: lib.set_deterministic_debug_mode("bad"), lambda lib: lib.set_deterministic_debug_mode(3),
    lambda lib: lib.set_deterministic_debug_mode(1.0), lambda lib: lib.set_float32_matmul_precision(1),
    lambda lib: lib.set_warn_always(1), lambda lib: lib.set_warn_always("a"),
])
def test_bad_arguments_raise_torchs_errors(call):
    torch = pytest.importorskip("torch")
    with pytest.raises(Exception) as expected:
        call(torch)
    with pytest.raises(Exception) as got:
        call(tinytorch)
    assert type(got.value) is type(expected.value)
    assert str(got.value) == str(expected.value)
    assert _state(tinytorch) == (False, False, 0)  # a refused call changes nothing


def test_deterministic_mode_fills_empty_strided_as_torch():
    torch = pytest.importorskip("torch")
    tinytorch.use_deterministic_algorithms(True)
    torch.use_deterministic_algorithms(True)
    try:
        for name in ("float32", "int32", "uint8", "bool"):
            ours = tinytorch.empty_strided((2, 3), (3, 1), dtype=getattr(tinytorch, name)).numpy()
            theirs = torch.empty_strided((2, 3), (3, 1), dtype=getattr(torch, name)).numpy()
            np.testing.assert_array_equal(ours, theirs)
    finally:
        torch.use_deterministic_algorithms(False)


def test_float32_matmul_precision_round_trips_and_warns_on_unknown_values():
    assert tinytorch.get_float32_matmul_precision() == "highest"
    for value in ("high", "medium", "highest"):
        tinytorch.set_float32_matmul_precision(value)
        assert tinytorch.get_float32_matmul_precision() == value
    tinytorch.set_float32_matmul_precision("medium")
    with pytest.warns(UserWarning, match="low is not one of 'highest', 'high', or 'medium'"):
        tinytorch.set_float32_matmul_precision("low")
    with pytest.warns(UserWarning, match="HIGH is not one of"):
        tinytorch.set_float32_matmul_precision("HIGH")
    assert tinytorch.get_float32_matmul_precision() == "medium"


def test_float32_matmul_precision_warning_matches_torch():
    torch = pytest.importorskip("torch")
    messages = []
    for lib in (torch, tinytorch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lib.set_float32_matmul_precision("low")
        messages.append(str(caught[0].message).split(" (Triggered")[0])
    assert messages[0] == messages[1]


def test_warn_always_round_trips():
    assert tinytorch.is_warn_always_enabled() is False
    tinytorch.set_warn_always(True)
    assert tinytorch.is_warn_always_enabled() is True
    tinytorch.set_warn_always(False)
    assert tinytorch.is_warn_always_enabled() is False


@pytest.mark.parametrize("value, message", [(0, "expects a positive integer"), (-1, "expects a positive integer"),
                                            (2.0, "expects an int, but got float"), (True, "expects an int, but got bool"),
                                            ("a", "expects an int, but got str")])
def test_bad_interop_thread_counts_raise_torchs_errors(value, message):
    with pytest.raises(RuntimeError, match=message):
        tinytorch.set_num_interop_threads(value)


def test_interop_threads_are_set_once_per_process():
    # In a fresh process: PyTorch (and tinytorch) refuse a second set_num_interop_threads.
    code = ("import os, tinytorch\n"
            "assert tinytorch.get_num_interop_threads() == os.cpu_count()\n"
            "tinytorch.set_num_interop_threads(3)\n"
            "print(tinytorch.get_num_interop_threads())\n"
            "try:\n"
            "    tinytorch.set_num_interop_threads(4)\n"
            "except RuntimeError as error:\n"
            "    print(error)\n"
            "print(tinytorch.get_num_interop_threads())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "3" and out[2] == "3"
    assert out[1] == ("Error: cannot set number of interop threads after parallel work has started or "
                      "set_num_interop_threads called")
