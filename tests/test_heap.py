"""tinytorch/_heap.py: after ``import tinytorch`` glibc serves blocks up to 6 MiB from its heap, so
a block freed and allocated again is not page-faulted back in (a training step's activations and
gradients, every step)."""

import os
import platform
import subprocess
import sys

import pytest

from tinytorch import _heap

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"

# Allocate 4 MiB, write it, free it, three times; print the minor page faults of the last two rounds
# (4 MiB written into fresh pages: 1,024 faults).
ROUNDS = """
import ctypes, resource
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
size = 4 << 20
def round_trip():
    block = libc.malloc(size)
    ctypes.memset(block, 1, size)
    libc.free(block)
round_trip()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
round_trip(); round_trip()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(script):
    """The last line ``script`` prints, run by a fresh interpreter without site's start-up imports
    (this process's module path given instead) and with glibc's default malloc settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    path = f"import sys; sys.path[:0] = {[ROOT] + sys.path!r}\n"
    out = subprocess.run([sys.executable, "-S", "-c", path + script], capture_output=True, text=True,
                         check=True, env=env, cwd=ROOT)
    return int(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not GLIBC, reason="glibc's malloc thresholds: Linux with glibc only")
def test_a_freed_block_is_reused_after_import():
    # Without tinytorch the first round's block is mmapped; freeing it raises glibc's threshold, so
    # the second round grows the heap by 4 MiB and faults it in (the third reuses it).
    assert _run(ROUNDS) >= 1000
    # After import the first round's block already comes from the heap: later rounds fault nothing.
    assert _run("import tinytorch\n" + ROUNDS) < 50


@pytest.mark.skipif(not GLIBC, reason="glibc's malloc thresholds: Linux with glibc only")
def test_priming_itself_touches_no_memory():
    # The primed block is freed without being written: no resident memory for it.
    script = (
        "import resource\n"
        "from tinytorch import _heap\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
        "assert _heap.prime_mmap_threshold(64 << 20)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)\n"
    )
    assert _run(script) < 64  # 64 MiB written would be 16,384 faults


def test_off_glibc_it_does_nothing(monkeypatch):
    monkeypatch.setattr(platform, "libc_ver", lambda *a, **k: ("", ""))
    assert _heap.prime_mmap_threshold() is False
    monkeypatch.setattr(platform, "system", lambda: "Darwin")
    assert _heap.prime_mmap_threshold() is False


# A step's worth of memory: 96 blocks of 1 MiB, written, then freed (the heap's top is then 96 MiB
# of free memory, past glibc's trim threshold); the minor faults of the second and third rounds.
STEPS = """
import ctypes, resource
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
def step():
    blocks = [libc.malloc(1 << 20) for _ in range(96)]
    for block in blocks:
        ctypes.memset(block, 1, 1 << 20)
    for block in reversed(blocks):
        libc.free(block)
step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
step(); step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""
BACKWARD = "import tinytorch\nx = tinytorch.ones(3, requires_grad=True)\n(x * 2).sum().backward()\n"


@pytest.mark.skipif(not GLIBC, reason="glibc's malloc thresholds: Linux with glibc only")
def test_after_the_first_backward_a_step_keeps_its_memory():
    # Before training (import only) the freed 96 MiB are trimmed and faulted back in every step
    # (2 x 24,576 pages); once a backward pass has run they stay in the heap.
    assert _run("import tinytorch\n" + STEPS) > 40000
    assert _run(BACKWARD + STEPS) < 500


@pytest.mark.skipif(not GLIBC, reason="glibc's malloc thresholds: Linux with glibc only")
def test_the_users_malloc_settings_are_kept():
    script = "import os\nos.environ['MALLOC_TRIM_THRESHOLD_'] = '131072'\nfrom tinytorch import _heap\nprint(int(_heap.keep_heap_top()))\n"
    assert _run(script) == 0
    assert _run("from tinytorch import _heap\nprint(int(_heap.keep_heap_top()) + int(_heap.keep_heap_top()))\n") == 1  # once


def test_keeping_the_top_off_glibc_does_nothing(monkeypatch):
    monkeypatch.setattr(_heap, "_kept", False)
    monkeypatch.setattr(platform, "libc_ver", lambda *a, **k: ("", ""))
    assert _heap.keep_heap_top() is False
