"""Adds the Models and Jobs docks and a Models menu to the main window."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget

from cervix_gui.jobs.job_queue import JobQueue
from cervix_gui.jobs.jobs_panel import JobsPanel
from cervix_gui.jobs.models_dock import ModelsDock


@dataclass
class JobDocks:
    """The window's job queue and the two docks that show it."""

    queue: JobQueue
    models: ModelsDock
    jobs: JobsPanel
    models_dock: QDockWidget
    jobs_dock: QDockWidget

    def busy(self) -> bool:
        """Whether a job is queued or running, or the models are being listed."""
        return self.queue.busy() or self.models.busy()

    def shutdown(self, milliseconds: int = 600_000) -> bool:
        """Cancel every job and wait for its thread; False if one did not stop."""
        return self.queue.wait_all(milliseconds)


def add_job_docks(window, settings=None) -> JobDocks:
    """Build the docks on `window`; call `models.refresh()` when a dataset opens."""
    queue = JobQueue(window)
    models = ModelsDock(window, queue, settings)
    jobs = JobsPanel(queue)
    right = Qt.DockWidgetArea.RightDockWidgetArea
    # Tabbed with the cell inspector: a dock stacked in the right column would
    # add its minimum height to the window's. Each is tabbed as soon as it is
    # added: a window not yet shown keeps the minimum its layout had with the
    # docks stacked, and a resize before show() would be held to it.
    inspector = getattr(window, "inspector_dock", None)
    models_dock = window._dock("Models", "modelsDock", models, right)
    if inspector is not None:
        window.tabifyDockWidget(inspector, models_dock)
    jobs_dock = window._dock("Jobs", "jobsDock", jobs, right)
    window.tabifyDockWidget(models_dock, jobs_dock)
    # The undo history, hidden until asked for, joins the same tabs: alone in
    # the column it would split it, and Qt left a stale tab bar over it.
    history = window.findChild(QDockWidget, "historyDock")
    if history is not None:
        window.tabifyDockWidget(jobs_dock, history)
        history.hide()
    (inspector or models_dock).raise_()
    menu = window.menuBar().addMenu("&Models")
    menu.addAction("&Fine-tune\u2026", models.open_fine_tune_dialog)
    menu.addAction("&Run inference", lambda: models.run_inference())
    menu.addAction("&Add a checkpoint\u2026", models.choose_checkpoint)
    menu.addSeparator()
    menu.addAction(models_dock.toggleViewAction())
    menu.addAction(jobs_dock.toggleViewAction())
    queue.started.connect(lambda _record: (jobs_dock.show(), jobs_dock.raise_()))
    return JobDocks(queue, models, jobs, models_dock, jobs_dock)
