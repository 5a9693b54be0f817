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
"""

import ctypes
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
