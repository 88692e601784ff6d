"""The window's jobs: one running at a time per device, the others queued in
the order they were asked for; each job's state and what it reported."""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Signal

from cervix_gui.jobs.job_worker import JobWorker

log = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, CANCELLED, FAILED = (
    "queued",
    "running",
    "done",
    "cancelled",
    "failed",
)


def device_slot(device: str) -> str:
    """Jobs on the same slot wait for each other: "auto" picks the first GPU."""
    if device == "auto":
        import torch

        return "cuda:0" if torch.cuda.is_available() else "cpu"
    return "cuda:0" if device == "cuda" else device


@dataclass(eq=False)
class JobRecord:
    """A job asked for in the window, and what became of it."""

    number: int
    job: object  # TrainingJob or InferenceJob
    state: str = QUEUED
    events: list = field(default_factory=list)
    memory: tuple[str, int] | None = None
    result: object = None
    message: str = ""
    worker: JobWorker | None = None

    @property
    def slot(self) -> str:
        return device_slot(self.job.device)

    @property
    def active(self) -> bool:
        return self.state in (QUEUED, RUNNING)


class JobQueue(QObject):
    """Starts jobs in worker threads, one per device at a time."""

    added = Signal(object)  # JobRecord
    started = Signal(object)
    event = Signal(object, object)  # JobRecord, engine event
    ended = Signal(object)  # JobRecord, in state done, cancelled or failed

    def __init__(self, parent=None):
        super().__init__(parent)
        self.records: list[JobRecord] = []
        self._numbers = itertools.count(1)
        self.closed = False

    def submit(self, job) -> JobRecord:
        """Queue `job`; it starts as soon as its device is free."""
        record = JobRecord(next(self._numbers), job)
        self.records.append(record)
        self.added.emit(record)
        log.info("Job %d queued: %s", record.number, job.title)
        self._start_next()
        return record

    def cancel(self, record: JobRecord) -> None:
        """A queued job is dropped; a running one stops at its next step."""
        if record.state == QUEUED:
            record.state = CANCELLED
            self.ended.emit(record)
        elif record.state == RUNNING and record.worker is not None:
            record.worker.cancel()

    def running(self) -> list[JobRecord]:
        return [record for record in self.records if record.state == RUNNING]

    def busy(self) -> bool:
        return any(record.active for record in self.records)

    def wait_all(self, milliseconds: int = 600_000) -> bool:
        """Cancel every job and wait for the threads, as the window closes; what
        they report afterwards is dropped. False when one is still running."""
        self.closed = True
        for record in list(self.records):
            self.cancel(record)
        stopped = True
        for record in self.records:
            if record.worker is not None:
                stopped = record.worker.wait(milliseconds) and stopped
        return stopped

    def _start_next(self) -> None:
        if self.closed:
            return
        taken = {record.slot for record in self.running()}
        for record in self.records:
            if record.state != QUEUED or record.slot in taken:
                continue
            taken.add(record.slot)
            self._start(record)

    def _start(self, record: JobRecord) -> None:
        worker = JobWorker(record.job, self)
        record.worker, record.state = worker, RUNNING
        worker.event.connect(
            lambda event, what, used: self._on_event(record, event, what, used)
        )
        worker.finished_with.connect(lambda result: self._on_finished(record, result))
        worker.failed.connect(lambda message: self._on_failed(record, message))
        worker.start()
        self.started.emit(record)

    def _on_event(self, record: JobRecord, engine_event, what: str, used: int):
        if self.closed:
            return
        record.events.append(engine_event)
        record.memory = (what, used)
        self.event.emit(record, engine_event)

    def _on_finished(self, record: JobRecord, result) -> None:
        if self.closed:
            return
        record.result = result
        record.state = CANCELLED if getattr(result, "cancelled", False) else DONE
        self._end(record)

    def _on_failed(self, record: JobRecord, message: str) -> None:
        if self.closed:
            return
        record.message, record.state = message, FAILED
        self._end(record)

    def _end(self, record: JobRecord) -> None:
        if record.worker is not None:
            record.worker.wait()  # run() has returned: this is immediate
        log.info("Job %d %s: %s", record.number, record.state, record.job.title)
        self.ended.emit(record)
        self._start_next()
