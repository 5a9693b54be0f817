"""DistributedDataParallel's communication hooks (register_comm_hook, GradBucket, default_hooks)
and join for uneven inputs, on 2 and 3 ranks (tests/distributed/workers/ddp_hooks_join.py); their
argument rules in one process against torch (workers/ddp_hooks_errors.py); torch.futures.Future."""

import importlib.util
import json
import os
import socket
import subprocess
import sys
import threading

import pytest

import tinytorch
from tinytorch.futures import Future, collect_all, wait_all

from .launch import ROOT, WORKERS, run_ranks

CHECKS = [
    "allreduce_hook_gives_the_gradients_of_no_hook", "fp16_compress_hook_is_close_to_no_hook",
    "a_hook_that_does_not_communicate_leaves_local_gradients", "hook_errors",
    "uneven_inputs_divide_by_the_initial_world_size", "uneven_inputs_divide_by_the_ranks_still_training",
    "uneven_inputs_with_unused_parameter_detection_and_a_hook", "throw_on_early_termination_raises_on_every_rank",
    "join_runs_any_joinable",
]


@pytest.mark.slow
@pytest.mark.parametrize("backend, device, nprocs", [
    ("mpi", "cpu", 2),
    ("mpi", "cpu", 3),  # three different batch counts: two ranks join before the last
    ("nccl", "cuda", 2),  # on the CuPy stand-in and tests/distributed/fake_nccl.py
])
def test_hooks_and_join_on_ranks(backend, device, nprocs):
    result = run_ranks("ddp_hooks_join.py", nprocs, backend, device, fake_cuda=device == "cuda")
    assert [line.split()[1] for line in result.stdout.splitlines() if line.startswith("ok ")] == CHECKS
    assert "pending" not in result.stderr  # every nonblocking request of the join protocol was completed


# -- argument rules in one process, against torch --------------------------------------------------
# PyTorch's own messages for these come from deep inside it (an internal assert, a storage size):
# only the error type is compared, and for a number the start of the message.
TYPE_ONLY = {"future_of_a_list", "future_of_a_wrong_size"}
PREFIX = {"future_of_a_number": "Unable to cast 3 to Tensor"}


def _outcomes(stdout):
    return {line["case"]: line for line in map(json.loads, stdout.splitlines()) if "case" in line}


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def ours():
    return _outcomes(run_ranks("ddp_hooks_errors.py", 1, "tinytorch", timeout=120).stdout)


def test_one_process_outcomes_are_what_they_should_be(ours):
    """Without torch too: the rules hold (values from the formula, errors as PyTorch's)."""
    # d/dW sum((x W^T + b)^2) = 2 (x W^T + b)^T x: a world of one rank leaves it as it is.
    assert ours["no_hook"]["value"] == [[[0.828, 0.972, 1.116], [0.324, 0.336, 0.348]], [1.44, 0.12]]
    for case in ("allreduce_hook", "right_annotations", "join_one_rank", "join_one_rank_throwing",
                 "join_one_rank_dividing_by_active", "join_disabled"):
        assert ours[case]["value"] == ours["no_hook"]["value"], case
    seen = ours["bucket_seen_and_doubled"]["value"]
    assert seen["gradients"] == [[[2 * g for g in row] for row in ours["no_hook"]["value"][0]],
                                 [2 * g for g in ours["no_hook"]["value"][1]]]
    assert (seen["index"], seen["is_last"], seen["numel"], seen["shapes"]) == (0, True, 8, [[2], [2, 3]])
    assert ours["registered_twice"] == {"case": "registered_twice", "error": "RuntimeError",
                                        "message": "register_comm_hook or register_builtin_comm_hook can only be called once."}
    assert ours["hook_not_callable"]["error"] == "TypeError"
    assert ours["future_of_a_wrong_size"]["error"] == "RuntimeError"
    assert ours["join_nothing"]["message"] == "The join context manager requires at least one joinable"


def test_one_process_outcomes_match_torch(ours):
    if importlib.util.find_spec("torch") is None:
        pytest.skip("torch is not installed")
    env = dict(os.environ, PORT=str(_free_port()), PYTHONPATH=ROOT, OMP_NUM_THREADS="1")
    theirs = subprocess.run([sys.executable, os.path.join(WORKERS, "ddp_hooks_errors.py"), "torch"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=180)
    assert theirs.returncode == 0, theirs.stderr
    theirs = _outcomes(theirs.stdout)
    assert set(ours) == set(theirs)
    for case, expected in theirs.items():
        got = ours[case]
        if case in TYPE_ONLY:
            assert got.get("error") == expected.get("error") == "RuntimeError", case
        elif case in PREFIX:
            assert got["error"] == expected["error"] and got["message"].startswith(PREFIX[case]), case
            assert expected["message"].startswith(PREFIX[case])
        else:
            assert got == expected, case


# -- torch.futures ------------------------------------------------------------------------------------
def _run_futures(lib):
    """The same uses of ``lib.futures``; what each gave (value, or exception type and message)."""
    def outcome(call):
        try:
            return ("value", call())
        except Exception as error:  # noqa: BLE001  (compared)
            return (type(error).__name__, str(error).split("\n")[0])

    results = {}
    calls = []
    first = lib.futures.Future()
    child = first.then(lambda fut: fut.value() + 1)
    first.add_done_callback(lambda fut: calls.append(fut.value()))
    results["done_before"] = first.done()
    first.set_result(3)
    results["child"] = outcome(child.wait)
    results["callbacks"] = list(calls)
    results["set_twice"] = outcome(lambda: first.set_result(4))
    results["exception_after_result"] = outcome(lambda: first.set_exception(ValueError("x")))
    failed = lib.futures.Future()
    failed.set_exception(ValueError("bad"))
    results["wait_failed"] = outcome(failed.wait)
    results["value_failed"] = outcome(failed.value)
    results["done_failed"] = failed.done()
    results["then_of_failed"] = outcome(failed.then(lambda fut: 1).wait)
    raising = lib.futures.Future()
    raised = raising.then(lambda fut: 1 / 0)
    raising.set_result(1)
    results["callback_raising"] = outcome(raised.wait)
    results["set_exception_of_a_number"] = outcome(lambda: lib.futures.Future().set_exception(5))
    five, six = lib.futures.Future(), lib.futures.Future()
    five.set_result(5)
    six.set_result(6)
    results["collect_all"] = outcome(lambda: [f.value() for f in lib.futures.collect_all([five, six]).wait()])
    results["wait_all"] = outcome(lambda: lib.futures.wait_all([five, six]))
    results["wait_all_failed"] = outcome(lambda: lib.futures.wait_all([five, failed]))
    inline = []
    five.add_done_callback(lambda fut: inline.append(fut.value()))
    results["callback_on_done"] = inline
    results["annotation"] = lib.futures.Future[lib.Tensor] == lib.futures.Future[lib.Tensor]
    return results


def test_futures_behave_as_torchs():
    ours = _run_futures(tinytorch)
    assert ours["child"] == ("value", 4) and ours["callbacks"] == [3] and ours["callback_on_done"] == [5]
    assert ours["set_twice"][0] == "RuntimeError" and ours["wait_failed"] == ("ValueError", "bad")
    assert ours["callback_raising"] == (
        "RuntimeError", "Got the following error when running the callback: ZeroDivisionError: division by zero")
    torch = pytest.importorskip("torch")
    assert ours == _run_futures(torch)


def test_a_future_set_from_another_thread_wakes_its_waiter():
    future = Future()
    threading.Timer(0.05, future.set_result, args=(tinytorch.ones(2),)).start()
    assert future.wait().tolist() == [1.0, 1.0]
    assert wait_all([future])[0] is future.value()
    assert collect_all([]).wait() == []


def test_futures_are_loaded_lazily():
    code = "import sys, tinytorch; print('tinytorch.futures' in sys.modules, tinytorch.futures.Future.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.split() == ["False", "Future"]
