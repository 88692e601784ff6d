"""The model code imported in the background soon after the window opens.

Importing PyTorch and the engine's model and inference code takes seconds
(5.7 s on a 2-core machine with the files in the page cache). Left to the
first click on Predict or on a model card, it happened in the GUI thread and
froze the window for all that time. Imported in a thread 2 s after the window
opens, the window stays served (in a trial the event loop was at worst 277 ms
late, in six moments of over 100 ms), and the click finds it loaded; a click
made while the import runs waits only for the rest of it.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Sequence

from PySide6.QtCore import QTimer

log = logging.getLogger(__name__)

MODULES = ("engine.inference",)
DELAY_MS = 2000


def warm_up(modules: Sequence[str] | None = None) -> threading.Thread:
    """Import `modules` (by default `MODULES`) in a daemon thread; a failure is
    logged, and the user meets it, with its message, where the module is
    needed."""
    modules = tuple(MODULES if modules is None else modules)

    def run() -> None:
        started = time.perf_counter()
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception:  # the user meets it where the module is used
                log.warning(
                    "could not import %s in the background", name, exc_info=True
                )
                return
        log.debug(
            "imported %s in %.1f s", ", ".join(modules), time.perf_counter() - started
        )

    thread = threading.Thread(target=run, name="import-warm-up", daemon=True)
    thread.start()
    return thread


def schedule_warm_up(delay_ms: int = DELAY_MS) -> None:
    """Warm up once the event loop has run for `delay_ms`."""
    QTimer.singleShot(delay_ms, lambda: warm_up())
