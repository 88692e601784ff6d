"""Freed memory goes back to the system between batches, a few times a second."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from engine.inference.heap import HeapTrimmer


def resident_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_trimming_returns_the_pages_of_freed_blocks():
    trimmer = HeapTrimmer(interval_s=0.0)
    assert trimmer.available
    trimmer.maybe_trim()
    before = resident_mb()
    # Many mid-sized blocks (below glibc's mmap threshold once it has risen),
    # then every other one freed: the heap keeps those pages until trimmed.
    blocks = [np.ones(3 << 20, np.uint8) for _ in range(2)]  # raise the threshold
    del blocks
    blocks = [np.ones(1 << 20, np.uint8) for _ in range(200)]
    del blocks[::2]
    held = resident_mb()
    trimmer.maybe_trim()
    assert trimmer.trims == 2
    assert resident_mb() < held - 50, (before, held, resident_mb())


def test_trims_are_spaced_out():
    trimmer = HeapTrimmer(interval_s=3600.0)
    for _ in range(100):
        trimmer.maybe_trim()
    assert trimmer.trims == 0
