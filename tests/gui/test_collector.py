"""The application collects garbage from its event loop, not wherever Python
happens to allocate, and holds off while tiles are being made."""

from __future__ import annotations

import gc
import math
import weakref

import pytest

from cervix_gui.collector import (
    PATIENCE_S,
    QuietCollector,
    due_generation,
    install_collector,
    work_in_progress,
)


class Node:
    def __init__(self):
        self.me = self  # a reference cycle: only the collector frees it


def cyclic_garbage() -> weakref.ref:
    """A dropped cycle, and enough other cycles that a collection is due and
    stays due while other objects are freed."""
    kept = Node()
    for _ in range(3 * gc.get_threshold()[0]):
        Node()
    return weakref.ref(kept)


@pytest.fixture
def automatic_gc_on():
    """Collection as Python has it by default; the GUI tests' fixture turns it
    off, and gets it back off afterwards."""
    gc.enable()
    yield
    gc.disable()


def test_the_application_collects_from_its_event_loop(qapp, qtbot, automatic_gc_on):
    gc.collect()  # earlier tests' windows, not finalised in the middle of this one
    collector = install_collector(qapp)
    try:
        assert collector.running
        assert not gc.isenabled()  # no collection starts in another thread
        gone = cyclic_garbage()
        assert due_generation() is not None
        assert gone() is not None
        # At most the patience if tiles or a job were still at work, and
        # generously more on a slow machine.
        try:
            qtbot.waitUntil(
                lambda: gone() is None, timeout=int(PATIENCE_S * 1000) + 30000
            )
        except qtbot.TimeoutError:
            pytest.fail(
                f"not collected: {collector.collections} collections, work in "
                f"progress {work_in_progress()}, counts {gc.get_count()}"
            )
        assert collector.collections >= 1
    finally:
        collector.stop()
    assert gc.isenabled()  # given back as it was


def test_it_collects_only_what_is_due():
    gc.collect()
    collector = QuietCollector()
    assert due_generation() is None
    assert collector.check() is None
    gone = cyclic_garbage()
    assert due_generation() is not None
    assert collector.check() is not None
    assert gone() is None
    assert collector.check() is None  # nothing due once collected


def test_it_holds_off_while_tiles_are_made_and_collects_once_they_are_done():
    working = [True]
    collector = QuietCollector(lambda: working[0], patience_s=math.inf)
    gone = cyclic_garbage()
    assert collector.check() is None
    assert collector.check() is None
    assert gone() is not None
    working[0] = False
    assert collector.check() is not None
    assert gone() is None


def test_it_collects_anyway_once_its_patience_runs_out():
    """A long job must not keep memory from being freed for ever."""
    collector = QuietCollector(lambda: True, patience_s=0.0)
    gone = cyclic_garbage()
    assert collector.check() is not None
    assert gone() is None
