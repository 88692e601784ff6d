"""The jobs dock: each job's progress and time left, live loss and metric
plots per epoch, its device's memory, a Cancel button, and how it ended.

The engine's event classes are imported when the first event arrives (the
worker has imported torch by then), so the dock costs the window's start
nothing."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from cervix_gui.jobs.job_queue import CANCELLED, DONE, FAILED, JobQueue, JobRecord

# The figure each task is judged by, as the engine's evaluation names it.
TASK_METRIC = {"classifier": "accuracy", "unet": "dice", "maskrcnn": "AP50"}


def clock(seconds: float) -> str:
    seconds = int(max(0, seconds))
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds // 60 % 60:02d} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds} s"


def megabytes(count: int) -> str:
    return f"{count / 2**20:,.0f} MB"


class JobView(QFrame):
    """One job in the dock."""

    def __init__(self, record: JobRecord, queue: JobQueue, parent=None):
        super().__init__(parent)
        self.record = record
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.title = QLabel(f"{record.number}. {record.job.title}")
        self.title.setWordWrap(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip(
            "Stop at the next step; the last saved checkpoint is kept"
        )
        self.cancel_button.clicked.connect(lambda: queue.cancel(record))
        top.addWidget(self.title, 1)
        top.addWidget(self.cancel_button)
        layout.addLayout(top)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        layout.addWidget(self.progress)
        self.state = QLabel("Waiting for the device")
        self.state.setWordWrap(True)
        self.state.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.state)
        self.memory = QLabel("")
        layout.addWidget(self.memory)
        self.loss_plot = self.metric_plot = None
        if record.job.kind == "training":
            self._add_plots(layout, record.job.config.task)
        self.result = QLabel("")
        self.result.setWordWrap(True)
        layout.addWidget(self.result)

    def _add_plots(self, layout, task: str) -> None:
        self.metric_name = TASK_METRIC.get(task, "")
        self.loss_plot = pg.PlotWidget(title="Loss per epoch")
        self.loss_plot.setMinimumHeight(140)
        self.loss_plot.addLegend(offset=(-5, 5))
        self.loss_plot.setLabel("bottom", "epoch")
        self.train_curve = self.loss_plot.plot(
            [], [], pen=pg.mkPen("#1f77b4", width=2), symbol="o", name="training"
        )
        self.val_curve = self.loss_plot.plot(
            [], [], pen=pg.mkPen("#ff7f0e", width=2), symbol="o", name="validation"
        )
        self.metric_plot = pg.PlotWidget(title=f"Validation {self.metric_name}")
        self.metric_plot.setMinimumHeight(120)
        self.metric_plot.setLabel("bottom", "epoch")
        self.metric_curve = self.metric_plot.plot(
            [], [], pen=pg.mkPen("#2ca02c", width=2), symbol="o"
        )
        self.epochs: list = []  # engine EpochEnded events
        layout.addWidget(self.loss_plot)
        layout.addWidget(self.metric_plot)

    def show_event(self, engine_event) -> None:
        """Follow what the job reported."""
        from engine.inference import ImageDone, TilesProgress
        from engine.training import EpochEnded, StepEnded, TrainingStarted

        record = self.record
        if record.memory is not None:
            what, used = record.memory
            device = getattr(self, "device_name", record.slot)
            self.memory.setText(f"{device}: {what} {megabytes(used)}")
        if isinstance(engine_event, TrainingStarted):
            self.device_name = engine_event.device
            self.state.setText(
                f"Training on {engine_event.device}: {engine_event.train_images} "
                f"training and {engine_event.validation_images} validation samples"
            )
        elif isinstance(engine_event, StepEnded):
            done = engine_event.epoch - 1 + engine_event.step / engine_event.steps
            total = max(1, record.job.config.epochs)
            self.progress.setValue(round(1000 * min(1.0, done / total)))
            self.state.setText(
                f"Epoch {engine_event.epoch}/{total}, step {engine_event.step}/"
                f"{engine_event.steps}, loss {engine_event.loss:.4f}, "
                f"{engine_event.images_per_s:.1f} images/s; about "
                f"{clock(engine_event.eta_s)} left"
            )
        elif isinstance(engine_event, EpochEnded):
            self._plot_epoch(engine_event)
        elif isinstance(engine_event, TilesProgress):
            part = engine_event.done / max(1, engine_event.total)
            whole = (engine_event.image_index + part) / max(1, engine_event.image_count)
            self.progress.setValue(round(1000 * whole))
            self.state.setText(
                f"Image {engine_event.image_index + 1}/{engine_event.image_count} "
                f"{engine_event.image_key}: {engine_event.done}/{engine_event.total} "
                f"tiles, {engine_event.cells_so_far} cells"
            )
        elif isinstance(engine_event, ImageDone):
            whole = (engine_event.image_index + 1) / max(1, engine_event.image_count)
            self.progress.setValue(round(1000 * whole))
            self.state.setText(
                f"Image {engine_event.image_index + 1}/{engine_event.image_count} "
                f"{engine_event.key}: {engine_event.cells} cells"
            )

    def _plot_epoch(self, epoch) -> None:
        self.epochs.append(epoch)
        numbers = [e.epoch for e in self.epochs]
        self.train_curve.setData(numbers, [e.train_loss for e in self.epochs])
        validated = [e for e in self.epochs if e.val_loss is not None]
        self.val_curve.setData(
            [e.epoch for e in validated], [e.val_loss for e in validated]
        )
        scored = [e for e in self.epochs if self.metric_name in e.metrics]
        self.metric_curve.setData(
            [e.epoch for e in scored], [e.metrics[self.metric_name] for e in scored]
        )
        done = epoch.epoch / max(1, epoch.epochs)
        self.progress.setValue(round(1000 * done))

    def show_end(self) -> None:
        """The job is over: how it ended, and its figures beside the start's."""
        record = self.record
        self.cancel_button.setEnabled(False)
        if record.state == FAILED:
            self.state.setText(f"Failed: {record.message}")
            self.state.setStyleSheet("color: #b00020")
            return
        if record.state == CANCELLED and record.result is None:
            self.state.setText("Cancelled before it started")
            return
        if record.state == DONE:
            self.progress.setValue(1000)
        result = record.result
        if record.job.kind == "training":
            self.state.setText(self._training_end(result))
            self.result.setText(self._figures(result))
        else:
            stopped = "Cancelled" if record.state == CANCELLED else "Done"
            self.state.setText(
                f"{stopped}: {result.images} images, {result.cells} cells in "
                f"{result.seconds:.1f} s (run {result.run})"
            )

    @staticmethod
    def _training_end(result) -> str:
        where = result.checkpoint or "no checkpoint (no epoch finished)"
        if result.cancelled:
            return f"Cancelled after {result.epochs_done} epochs; kept {where}"
        return f"Done: {result.epochs_done} epochs; best checkpoint {where}"

    def _figures(self, result) -> str:
        """Final figures, each beside the starting model's where known."""
        job = self.record.job
        final = dict(job.final_metrics or result.test_metrics)
        if not final and getattr(self, "epochs", None):
            final = dict(self.epochs[-1].metrics)
        if not final:
            return ""
        start = job.starting_metrics or {}
        parts = []
        for name, value in final.items():
            before = start.get(name)
            was = f" (start {before:.3f})" if before is not None else ""
            parts.append(f"{name} {value:.3f}{was}")
        text = "Figures: " + ", ".join(parts)
        if start and job.comparison:
            text += f"; {job.comparison}"
        elif not start:
            text += "; no starting model to compare with (not a checkpoint)"
        return text


class JobsPanel(QScrollArea):
    """Every job of the session, newest first."""

    def __init__(self, queue: JobQueue, parent=None):
        super().__init__(parent)
        self.queue = queue
        self.setWidgetResizable(True)
        inner = QWidget()
        self.column = QVBoxLayout(inner)
        self.column.addStretch(1)
        self.setWidget(inner)
        self.views: dict[int, JobView] = {}
        self.empty = QLabel(
            "No jobs yet: fine-tune or run a model from the Models dock."
        )
        self.empty.setWordWrap(True)
        self.column.insertWidget(0, self.empty)
        queue.added.connect(self._on_added)
        queue.event.connect(self._on_event)
        queue.ended.connect(self._on_ended)

    def view(self, record: JobRecord) -> JobView:
        return self.views[record.number]

    def _on_added(self, record: JobRecord) -> None:
        self.empty.hide()
        view = JobView(record, self.queue)
        self.views[record.number] = view
        self.column.insertWidget(0, view)

    def _on_event(self, record: JobRecord, engine_event) -> None:
        self.views[record.number].show_event(engine_event)

    def _on_ended(self, record: JobRecord) -> None:
        self.views[record.number].show_end()
