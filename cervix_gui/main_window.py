"""The main window: the viewer in the middle, the dataset, classes and layers on
the left, the selected cell on the right and the measurements below. It only
composes the widgets and passes what one shows on to the others; each long job
(opening, measuring, reading predictions) runs in a worker."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

from PySide6.QtCore import QPointF, QSettings, Qt
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QMainWindow,
    QMessageBox,
    QScrollArea,
)

from cervix_gui.cell_inspector import CellInspector
from cervix_gui.dataset_browser import DatasetBrowser
from cervix_gui.editing import WindowEditing
from cervix_gui.jobs.docks import add_job_docks
from cervix_gui.layers_dock import LayersDock
from cervix_gui.legend import ClassLegend
from cervix_gui.measurements_dock import MeasurementsDock
from cervix_gui.opening import IMAGE_FILTER, Opener, what_is_opened
from cervix_gui.palette import ClassPalette
from cervix_gui.prediction_loading import PredictionLayers
from cervix_gui.preferences import install_preferences
from cervix_gui.recent_files import RecentFiles
from cervix_gui.review.install import install_review
from cervix_gui.status_bar import ViewerStatusBar
from cervix_gui.viewer import ImageViewer
from cervix_gui.window_actions import build_menus
from cervix_gui.workers import Job, start_job
from engine.annotations import ClassScheme, Dataset, ImageRecord
from engine.images import open_image
from engine.images.slide_cells import cells_beside
from engine.metrics.source_measurements import measure_cells
from engine.predictions import PredictionStore
from engine.sample import ensure_sample

log = logging.getLogger(__name__)

APP_NAME = "Cervix Studio"
DOCK_WIDTH = 330  # wide enough for "Superficial-intermediate" and its count
SYNTHETIC_SUFFIX = " \u2014 synthetic sample"


def _measure_file(record: ImageRecord, cells: tuple):
    """The measurements of `cells`, a copy taken when measuring was asked for, so
    that an edit made meanwhile cannot change the list under the worker."""
    with open_image(record.path) as source:
        return cells, measure_cells(list(cells), source, record.key)


def _scrolling(widget) -> QScrollArea:
    """`widget` in a scroll area, so a short window can still show all of it."""
    area = QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    return area


class MainWindow(QMainWindow):
    """Cervix Studio's window on one dataset, image or slide."""

    def __init__(self, parent=None, settings: QSettings | None = None):
        super().__init__(parent)
        self.dataset: Dataset | None = None
        self.single_image: ImageRecord | None = None
        self.class_palette: ClassPalette | None = None
        self.settings = settings if settings is not None else QSettings()
        # Set once the window closed: what a worker reports later is dropped.
        self.closed = False
        self.setWindowTitle(APP_NAME)
        self.resize(1400, 900)
        self.setAcceptDrops(True)
        # A window rendered for a screenshot must never wait on a dialog.
        self.errors_in_dialogs = True

        self.viewer = ImageViewer(self)
        self.setCentralWidget(self.viewer)
        self.browser = DatasetBrowser()
        self.legend = ClassLegend()
        self.layers_dock = LayersDock(
            self.viewer.layers.ordered(), self.viewer.layers.shortcuts
        )
        self.inspector = CellInspector()
        self.measurements = MeasurementsDock()
        left = Qt.DockWidgetArea.LeftDockWidgetArea
        self.browser_dock = self._dock("Dataset", "datasetDock", self.browser, left)
        self.legend_dock = self._dock(
            "Classes", "legendDock", _scrolling(self.legend), left
        )
        right = Qt.DockWidgetArea.RightDockWidgetArea
        self.layers_dock_widget = self._dock(
            "Layers", "layersDock", _scrolling(self.layers_dock), right
        )
        self.inspector_dock = self._dock(
            "Cell", "cellDock", _scrolling(self.inspector), right
        )
        self.measurements_dock = self._dock(
            "Measurements",
            "measurementsDock",
            self.measurements,
            Qt.DockWidgetArea.BottomDockWidgetArea,
        )
        self.docks = [
            self.browser_dock,
            self.legend_dock,
            self.layers_dock_widget,
            self.inspector_dock,
            self.measurements_dock,
        ]
        self.status = ViewerStatusBar(self)
        self.setStatusBar(self.status)
        self.opener = Opener(self)
        self.predictions = PredictionLayers(self.viewer, self.layers_dock, self)
        self.recent = RecentFiles(self.settings, self)
        self._jobs: dict[str, Job] = {}
        self._sample_job: Job | None = None

        build_menus(self)
        self.editing = WindowEditing(self)
        self.predictions.shown.connect(self.editing.predictions_shown)
        self.review = install_review(self)
        self.jobs = add_job_docks(self, self.settings)
        self.preferences = install_preferences(self)
        self.resizeDocks([self.browser_dock], [DOCK_WIDTH], Qt.Orientation.Horizontal)
        self.resizeDocks([self.inspector_dock], [300], Qt.Orientation.Horizontal)
        self.resizeDocks([self.measurements_dock], [300], Qt.Orientation.Vertical)
        self.browser.image_selected.connect(self.show_image)
        self.opener.opened.connect(self._on_opened)
        self.opener.failed.connect(self._on_open_failed)
        self.viewer.zoom_changed.connect(self.status.show_zoom)
        self.viewer.cursor_moved.connect(self._on_cursor_moved)
        self.viewer.selection.selection_changed.connect(self._on_selection)
        self.viewer.image_failed.connect(
            lambda _key, message: self.status.showMessage(f"Image not shown: {message}")
        )
        self.measurements.cells_selected.connect(self._select_cells)
        self.measurements.cell_clicked.connect(self._on_point_clicked)

    def _dock(self, title: str, name: str, widget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        self.addDockWidget(area, dock)
        return dock

    def busy(self) -> bool:
        """Whether something shown is still being opened, read, measured or drawn."""
        return (
            self.opener.busy()
            or self.predictions.busy()
            or bool(self._jobs)
            or self.viewer.busy()
            or self.editing.busy()
            or self.jobs.busy()
            or self.export_menu.busy()
        )

    # -- opening ------------------------------------------------------------------

    def choose_dataset(self) -> None:
        """Ask for a dataset folder and open it."""
        start = str(self.dataset.root.parent) if self.dataset else str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Open a dataset folder", start)
        if folder:
            self.open_path(Path(folder))

    def choose_image(self) -> None:
        """Ask for an image or slide file and open it."""
        path, _ = QFileDialog.getOpenFileName(
            self, "Open an image or slide", str(Path.home()), IMAGE_FILTER
        )
        if path:
            self.open_path(Path(path))

    def open_path(self, path: Path) -> None:
        """Open a dataset folder, image or slide in a worker; shown when ready."""
        if not self.editing.may_leave("opening another"):
            return
        self.status.showMessage(f"Opening {Path(path).name}\u2026")
        self.opener.open(Path(path))

    open_dataset = open_path

    def open_sample(self) -> None:
        """Open the built-in sample, drawing it first (off the GUI thread) if needed."""
        if self._sample_job is not None:
            return
        self.open_sample_action.setEnabled(False)
        self.status.showMessage("Preparing the synthetic sample\u2026")
        self._sample_job = start_job(
            ensure_sample,
            on_finished=self._on_sample_ready,
            on_failed=self._on_sample_failed,
        )

    def _on_sample_ready(self, path: Path) -> None:
        self._sample_job = None
        if self.closed:
            return
        self.open_sample_action.setEnabled(True)
        self.open_path(path)

    def _on_sample_failed(self, message: str) -> None:
        self._sample_job = None
        self.open_sample_action.setEnabled(True)
        self.status.clearMessage()
        QMessageBox.critical(self, "No sample dataset", message)

    def _on_opened(self, path: Path, opened) -> None:
        self.status.clearMessage()
        self.recent.add(path)
        if isinstance(opened, Dataset):
            self.set_dataset(opened)
        else:
            self.set_single_image(opened)

    def _on_open_failed(self, path: Path, message: str) -> None:
        self.status.clearMessage()
        log.warning("Cannot open %r: %s", str(path), message)
        if self.errors_in_dialogs:
            what = what_is_opened(path)
            QMessageBox.critical(self, f"Cannot open this {what}", message)
        else:
            self.status.showMessage(message)

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls()]
        paths = [path for path in paths if str(path)]
        if paths:
            event.acceptProposedAction()
            self.open_path(paths[0])

    def set_dataset(self, dataset: Dataset) -> None:
        """Show `dataset`: list its images and show the first one."""
        self.dataset, self.single_image = dataset, None
        self.class_palette = ClassPalette(dataset.scheme)
        synthetic = dataset.settings.synthetic
        title = f"{dataset.root.name} \u2014 {APP_NAME}[*]"
        self.setWindowTitle(title + (SYNTHETIC_SUFFIX if synthetic else ""))
        self.status.show_dataset(dataset.root.name, synthetic)
        self.legend.set_palette(self.class_palette)
        self.browser.set_dataset(dataset, self.class_palette)
        self.browser_dock.show()
        self.viewer.clear()
        self.editing.set_dataset(dataset)
        self.jobs.models.refresh()
        self.status.clear_image()
        keys = self.browser.image_keys()
        if keys:
            self.browser.select_image(keys[0])
        else:
            self.status.showMessage("This dataset has no images to show.")
        if dataset.problems:
            count = len(dataset.problems)
            noun = "problem" if count == 1 else "problems"
            self.status.showMessage(
                f"{count} {noun} found while reading the dataset; see the list "
                "under the images."
            )

    def set_single_image(self, record: ImageRecord) -> None:
        """Show one image or slide opened on its own."""
        self.dataset, self.single_image = None, record
        self.class_palette = ClassPalette(ClassScheme())
        self.setWindowTitle(f"{record.path.name} \u2014 {APP_NAME}")
        self.status.show_dataset(record.path.parent.name, False)
        self.legend.set_palette(self.class_palette)
        self.browser_dock.hide()
        self.editing.set_single_image(record)
        self.jobs.models.refresh()
        self._show_record(record, measure=False)
        self.status.showMessage(f"Reading the cells of {record.path.name}\u2026")
        self._start("cells", cells_beside, record.path, self._on_cells_read, record.key)

    def _on_cells_read(self, cells) -> None:
        record = self.current_record()
        record.cells = cells
        record.used_indices = {cell.index for cell in cells}
        self.status.clearMessage()
        self.viewer.show_annotations()
        self.cells_edited(record)

    def prediction_store(self) -> PredictionStore | None:
        if self.dataset is not None:
            return PredictionStore.for_dataset(self.dataset.root)
        if self.single_image is not None:
            return PredictionStore.for_slide(self.single_image.path)
        return None

    # -- the shown image -------------------------------------------------------

    def current_record(self) -> ImageRecord | None:
        return self.viewer.record

    def show_image(self, key: str) -> None:
        """Show the image `key` of the open dataset and its cells."""
        if self.dataset is None or self.class_palette is None:
            return
        if self.browser.current_key() != key:
            self.browser.select_image(key)  # comes back here through the signal
            return
        self._show_record(self.dataset.image(key))

    def _show_record(self, record: ImageRecord, measure: bool = True) -> None:
        self.viewer.show_image(record, self.class_palette)
        self.editing.show_image(record)
        self.status.clearMessage()
        self.inspector.show_cell(None, self.class_palette)
        if measure:
            self.cells_edited(record)
        else:
            self.status.show_image(record.size, 0)
        self.predictions.load(record, self.prediction_store(), self.class_palette)

    def cells_edited(self, record: ImageRecord) -> None:
        """The shown image's cells were edited: count and measure them again."""
        self.status.show_image(record.size, len(record.cells))
        self.legend.show_counts(Counter(cell.class_name for cell in record.cells))
        self.measurements.show_measuring(len(record.cells))
        cells = tuple(record.cells)
        self._start(
            "measure", _measure_file, (record, cells), self._on_measured, record.key
        )

    def _start(self, name: str, function, argument, on_done, key: str) -> None:
        def forget() -> None:
            # A newer job of the same name may have replaced this one; it stays.
            if self._jobs.get(name) is job:
                del self._jobs[name]

        def finished(result) -> None:
            forget()
            if self.closed:
                return
            if self.current_record() is not None and self.current_record().key == key:
                on_done(result)

        def failed(message: str) -> None:
            forget()
            if self.closed:
                return
            log.warning("%s of %r failed: %s", name, key, message)
            if name == "measure":
                self.measurements.show_failure(message)
            elif name == "cells":
                self.status.showMessage(f"The cells were not read: {message}")

        job = self._jobs[name] = start_job(
            function,
            *argument if isinstance(argument, tuple) else (argument,),
            on_finished=finished,
            on_failed=failed,
        )

    def _on_measured(self, result) -> None:
        cells, measured = result
        record = self.current_record()
        if list(cells) != list(record.cells):
            # An edit came in while measuring; its own measuring shows the result.
            return
        self.measurements.show_measurements(record.cells, measured, self.class_palette)
        self._on_selection(self.viewer.selection.image_key, self.viewer.selection.cells)

    # -- selection -------------------------------------------------------------

    def _select_cells(self, cells: tuple) -> None:
        record = self.current_record()
        if record is not None:
            self.viewer.selection.select(record.key, cells)

    def _on_point_clicked(self, cell_index: int) -> None:
        self._select_cells((cell_index,))
        self.viewer.centre_on_cell(cell_index)

    def _on_selection(self, key: str, cells: tuple) -> None:
        record = self.current_record()
        if record is None or key != record.key:
            return
        self.measurements.set_selection(cells)
        current = cells[-1] if cells else None
        cell = None
        if current is not None:
            cell = next((c for c in record.cells if c.index == current), None)
        measured = (
            None if current is None else self.measurements.measurement_of(current)
        )
        self.inspector.show_cell(cell, self.class_palette, measured, record.key)

    def _on_cursor_moved(self, point: QPointF | None) -> None:
        self.status.show_cursor(point)

    def closeEvent(self, event) -> None:
        """Ask about unsaved edits first; Cancel keeps the window open. Running
        jobs stop at their next step and their threads are waited for."""
        if not self.editing.may_leave("closing"):
            event.ignore()
            return
        if self.jobs.queue.busy():
            self.status.showMessage("Stopping the running jobs\u2026")
        self.closed = True
        self.jobs.shutdown()
        self.editing.close()
        super().closeEvent(event)
