"""Shared fixtures: ``device`` runs a test on the CPU and, when CuPy sees a GPU, on CUDA too."""

import os

import numpy as np
import pytest

if os.environ.get("TINYTORCH_FAKE_CUDA", "") not in ("", "0"):  # the CUDA path on NumPy (tests/fake_cupy.py)
    from tests import fake_cupy

    fake_cupy.install()

from hypothesis import Phase, settings

import tinytorch

# No deadlines: hypothesis's default (200 ms a case) is a timed assertion, and on a shared 2-core
# machine a case that takes 0.4 ms once took 2 s (a fuzz test failed CI that way).
settings.register_profile("tinytorch", deadline=None)
settings.load_profile("tinytorch")
# The GPU check runs with --hypothesis-profile=noshrink: a failing case is reported as found, not
# minimized (shrinking on a GPU costs minutes that a short device lease does not have).
settings.register_profile("noshrink", deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate])

DEVICES = ["cpu"] + (["cuda"] if tinytorch.cuda.is_available() else [])


@pytest.fixture(params=DEVICES)
def device(request):
    return request.param


@pytest.fixture
def splits_made(monkeypatch):
    """The bounds of every split (two pieces or more) ``tinytorch._threads.run`` makes during the test, for tests of work
    that runs on every core (convolutions, pooling, optimizer updates); skips where that work is
    not split (no NumPy OpenBLAS thread server with two or more threads)."""
    from tinytorch import _threads

    if not _threads.on_server():
        pytest.skip("work is split over the cores only on NumPy's OpenBLAS thread server, with two or more threads")
    made = []
    run = _threads.run
    monkeypatch.setattr(_threads, "run",
                        lambda function, bounds, **kw: (len(bounds) > 2 and made.append(bounds), run(function, bounds, **kw)))
    return made


@pytest.fixture(autouse=True)
def _seed():
    tinytorch.manual_seed(0)
    np.random.seed(0)
    yield


def pytest_runtest_logreport(report):
    """With TINYTORCH_FAILURE_LOG=path, each failure's id and error are appended to ``path`` as it
    happens (the GPU check reads it: a run cut short by its lease still explains its failures)."""
    path = os.environ.get("TINYTORCH_FAILURE_LOG")
    if path and report.failed:
        message = getattr(report.longrepr, "reprcrash", None)
        with open(path, "a") as log:
            log.write(f"{report.nodeid} ({report.when}): {message.message if message else str(report.longrepr)[-800:]}\n")
