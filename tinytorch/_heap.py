"""Where glibc's malloc starts, so that a training step does not hand its memory back to the
system at the end of every step and fault it in again in the next.

glibc serves a block of 128 KiB or more with a fresh ``mmap`` (freed with ``munmap``) until the
program frees such a block; from then on blocks up to that size come from the heap, and the free
top of the heap is returned to the system (trimmed) once it exceeds twice that size. A training
step frees its activations and gradients at its end. At batch 1024, the lecture's MLP written with
``F.relu`` (784-512-256-128-64-10) frees ~7.5 MiB at the heap's top; where the largest block freed
before was the 3.1 MiB input batch (threshold 3.1 MiB, trimming from 6.3 MiB), every step trimmed
the heap and then page-faulted the same memory back: 1,506 minor faults a step, 19.5-22.9 ms a
step against 16.2-19.7 ms without them (AMD EPYC, 2 vCPUs, the same process code alternating).

``prime_mmap_threshold`` frees one 6 MiB block at import (allocated, never written: no memory is
touched), as a program that had already freed a 6 MiB array: blocks up to 6 MiB come from the
heap, trimmed beyond 12 MiB, and glibc goes on raising the threshold for larger blocks as before
(up to its 32 MiB maximum). 6 MiB: no fault a step up to batch 2048 (at 2048, 2,444 faults and
42.4 ms a step before, none and 37.0 ms after), and the lecture's whole program keeps its peak
resident memory (114.07-114.15 MiB against 114.05-114.09; 8 MiB, which also covers batch 3072,
cost it 0.35 MiB, and a fixed 16 MiB threshold 10 MiB). Only on glibc; a process whose thresholds
were set (``mallopt``, ``MALLOC_*_`` in the environment) keeps them, since glibc then adjusts
nothing.

That is not enough once a step's memory outgrows the trim threshold (twice the largest block
freed so far, at most 64 MiB): a Transformer encoder LM's step (benchmarks/model_steps.py) frees
more than that at the heap's top and faulted 1,200 to 17,000 pages back in every step, the count
set by where long-lived blocks happened to land (unrelated changes moved it: 17,000 faults made a
step 145 ms instead of 115). ``keep_heap_top``, called when the first backward pass ends (training
has begun), fixes both thresholds: blocks below 32 MiB (glibc's own ceiling for the moving
threshold) come from the heap, and up to 256 MiB of free heap top is kept for the next step.
Memory the process already held at its peak stays resident instead of going back and forth, so
peak resident memory is unchanged (the lecture's program, 1 epoch: 113.3-113.4 MiB either way),
while the steps stop faulting (per process, medians of 15 steps, 4 rounds, AMD EPYC: Transformer
LM 4,800 -> 32 faults a step, 0.89x the time; LSTM word LM 966 -> 3, 0.96x; MNIST CNN 1,900-4,000
-> 2, 0.83x). A program that stops training keeps up to that much freed memory resident.
"""

import ctypes
import os
import platform

PRIME_BYTES = 6 << 20


def prime_mmap_threshold(size=PRIME_BYTES):
    """Free one never-written ``size``-byte block through glibc's ``malloc``/``free``; returns
    whether it ran (False off glibc)."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(None)
        malloc, free = libc.malloc, libc.free
    except (OSError, AttributeError):  # a static or unusual build: nothing to adjust
        return False
    malloc.restype, malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    free.restype, free.argtypes = None, [ctypes.c_void_p]
    block = malloc(size)
    if not block:
        return False
    free(block)
    return True


# glibc's mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
HEAP_BLOCKS_BELOW = 32 << 20
KEEP_TOP = 256 << 20
_kept = False


def keep_heap_top():
    """Once per process (the first call; later calls return at once): fix glibc's thresholds so
    that freed step memory stays in the heap for the next step (see the module's docstring).
    Returns whether it set them: not off glibc, nor where the environment sets malloc's
    parameters (``MALLOC_*_``, ``GLIBC_TUNABLES``), which are the user's."""
    global _kept
    if _kept:
        return False
    _kept = True
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    if any(name.startswith("MALLOC_") for name in os.environ) or "malloc" in os.environ.get("GLIBC_TUNABLES", ""):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.restype, mallopt.argtypes = ctypes.c_int, [ctypes.c_int, ctypes.c_int]
    return bool(mallopt(_M_MMAP_THRESHOLD, HEAP_BLOCKS_BELOW)) and bool(mallopt(_M_TRIM_THRESHOLD, KEEP_TOP))
