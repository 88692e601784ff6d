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


# Every job that has not reported yet. A window that closes while its job runs
# may become garbage, and with it the job and its signals: the garbage
# collector, on the GUI thread, would then delete them under the running
# worker. A full test run hung once with the GUI thread collecting garbage
# while two such jobs (opening and measuring a slide) waited.
_running: set[Job] = set()


def start_job(
    function: Callable,
    *args,
    on_finished: Callable[[object], None],
    on_failed: Callable[[str], None],
) -> Job:
    """Run `function(*args)` off the GUI thread; the callbacks run on the GUI
    thread. The job is kept alive here until it has reported."""
    job = Job(function, *args)
    job.setAutoDelete(False)  # its signals must outlive run() until delivered
    _running.add(job)

    def reported(_=None) -> None:
        _running.discard(job)

    job.signals.finished.connect(reported)
    job.signals.failed.connect(reported)
    job.signals.finished.connect(on_finished)
    job.signals.failed.connect(on_failed)
    QThreadPool.globalInstance().start(job)
    return job


def running_jobs() -> int:
    """How many jobs have not reported yet."""
    return len(_running)
