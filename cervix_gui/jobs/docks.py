"""Adds the Models and Jobs docks and a Models menu to the main window."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt

from cervix_gui.jobs.job_queue import JobQueue
from cervix_gui.jobs.jobs_panel import JobsPanel
from cervix_gui.jobs.models_dock import ModelsDock


@dataclass
class JobDocks:
    queue: JobQueue
    models: ModelsDock
    jobs: JobsPanel


def add_job_docks(window, settings=None) -> JobDocks:
    """Build the docks on `window`; call `models.refresh()` when a dataset opens."""
    queue = JobQueue(window)
    models = ModelsDock(window, queue, settings)
    jobs = JobsPanel(queue)
    right = Qt.DockWidgetArea.RightDockWidgetArea
    models_dock = window._dock("Models", "modelsDock", models, right)
    jobs_dock = window._dock("Jobs", "jobsDock", jobs, right)
    window.tabifyDockWidget(models_dock, jobs_dock)
    models_dock.raise_()
    menu = window.menuBar().addMenu("&Models")
    menu.addAction("&Fine-tune…", models.open_fine_tune_dialog)
    menu.addAction("&Run inference", lambda: models.run_inference())
    menu.addAction("&Add a checkpoint…", models.choose_checkpoint)
    queue.started.connect(lambda _record: jobs_dock.raise_())
    return JobDocks(queue, models, jobs)
