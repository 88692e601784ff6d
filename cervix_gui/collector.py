"""Python's garbage collector run by the window's event loop, never in the middle
of other work.

Left automatic, the collector starts in whichever thread happens to allocate:
a training or inference worker, a tile thread, or the GUI thread in the middle
of a slot. Collecting there can destroy a closed window's Qt objects outside
the GUI thread, and the test suite twice hung with the GUI thread collecting
while tile threads were opening a slide. So the application turns automatic
collection off and collects from a timer in the GUI thread instead: only the
generations whose counts passed Python's own thresholds, and not while tiles
are being made, unless that has kept a collection waiting for `patience_s`.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

from cervix_gui import workers
from cervix_gui.viewer.tiles import tile_pool

log = logging.getLogger(__name__)

CHECK_INTERVAL_MS = 1000
PATIENCE_S = 10.0


def due_generation() -> int | None:
    """The oldest generation whose allocation count passed its threshold, as
    automatic collection would judge it; None when nothing is due."""
    counts, thresholds = gc.get_count(), gc.get_threshold()
    due = None
    for generation, (count, threshold) in enumerate(
        zip(counts, thresholds, strict=False)
    ):
        if threshold > 0 and count > threshold:
            due = generation
    return due


class QuietCollector(QObject):
    """Collects garbage from the GUI thread's event loop while it is started."""

    def __init__(
        self,
        busy: Callable[[], bool] = lambda: False,
        *,
        interval_ms: int = CHECK_INTERVAL_MS,
        patience_s: float = PATIENCE_S,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.busy = busy
        self.patience_s = patience_s
        self.collections = 0
        self._waiting_since: float | None = None
        self._was_enabled = gc.isenabled()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check)

    @property
    def running(self) -> bool:
        return self._timer.isActive()

    def start(self) -> None:
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer.start()

    def stop(self) -> None:
        """Stop the timer and give collection back to Python as it was."""
        self._timer.stop()
        if self._was_enabled:
            gc.enable()

    def check(self) -> int | None:
        """Collect the generation that is due, unless tiles are being made and
        it has waited less than the patience; the generation collected, if any."""
        generation = due_generation()
        if generation is None:
            self._waiting_since = None
            return None
        now = time.monotonic()
        if self._waiting_since is None:
            self._waiting_since = now
        if self.busy() and now - self._waiting_since < self.patience_s:
            return None
        found = gc.collect(generation)
        self._waiting_since = None
        self.collections += 1
        if found:
            log.debug("collected generation %d: %d objects", generation, found)
        return generation


def work_in_progress() -> bool:
    """Whether tiles are being made or a background job has not reported."""
    return bool(workers.running_jobs() or tile_pool().activeThreadCount())


def install_collector(app: QObject) -> QuietCollector:
    """Collect garbage from `app`'s event loop from now until it quits."""
    collector = QuietCollector(work_in_progress, parent=app)
    collector.start()
    if hasattr(app, "aboutToQuit"):
        app.aboutToQuit.connect(collector.stop)
    return collector
