"""Running engine work off the GUI thread and hearing back on it.

A job calls one engine function in Qt's thread pool and reports its result, or
the message of the error it raised, through signals that arrive on the GUI
thread, so the window keeps answering while the work runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from engine.errors import CervixError

log = logging.getLogger(__name__)


class JobSignals(QObject):
    """What a job reports: its result, or why it failed, for a person to read."""

    finished = Signal(object)
    failed = Signal(str)


class Job(QRunnable):
    """One call of `function(*args)` in the thread pool."""

    def __init__(self, function: Callable, *args):
        super().__init__()
        self.function = function
        self.args = args
        self.signals = JobSignals()

    def run(self) -> None:
        try:
            result = self.function(*self.args)
        except CervixError as error:
            self.signals.failed.emit(error.user_message())
            return
        except Exception as error:  # nothing may escape a worker thread unreported
            log.exception("A background job failed: %r", self.function)
            self.signals.failed.emit(
                f"an unexpected error stopped the work ({type(error).__name__}: "
                f"{error}); the log has the details"
            )
            return
        self.signals.finished.emit(result)


def start_job(
    function: Callable,
    *args,
    on_finished: Callable[[object], None],
    on_failed: Callable[[str], None],
) -> Job:
    """Run `function(*args)` off the GUI thread; the callbacks run on the GUI
    thread. Keep the returned job until it reports."""
    job = Job(function, *args)
    job.setAutoDelete(False)  # its signals must outlive run() until delivered
    job.signals.finished.connect(on_finished)
    job.signals.failed.connect(on_failed)
    QThreadPool.globalInstance().start(job)
    return job
