"""The main window: the dataset browser and legend beside the image viewer, with
the actions to open a dataset and to zoom."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QMainWindow,
    QMessageBox,
    QToolBar,
)

from cervix_gui.dataset_browser import DatasetBrowser
from cervix_gui.image_loading import ImageLoader
from cervix_gui.legend import ClassLegend
from cervix_gui.palette import ClassPalette
from cervix_gui.status_bar import ViewerStatusBar
from cervix_gui.viewer import ImageViewer
from cervix_gui.workers import Job, start_job
from engine.annotations import Dataset
from engine.errors import CervixError
from engine.sample import ensure_sample

log = logging.getLogger(__name__)

APP_NAME = "Cervix Studio"
DOCK_WIDTH = 330  # wide enough for "Superficial-intermediate" and its count
SYNTHETIC_SUFFIX = " \u2014 synthetic sample"


class MainWindow(QMainWindow):
    """Cervix Studio's window on one dataset."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.dataset: Dataset | None = None
        self.class_palette: ClassPalette | None = None
        self.setWindowTitle(APP_NAME)
        self.resize(1400, 900)

        self.viewer = ImageViewer(self)
        self.setCentralWidget(self.viewer)
        self.browser = DatasetBrowser()
        self.legend = ClassLegend()
        self.browser_dock = self._dock("Dataset", "datasetDock", self.browser)
        self.legend_dock = self._dock("Classes", "legendDock", self.legend)
        self.status = ViewerStatusBar(self)
        self.setStatusBar(self.status)
        self.loader = ImageLoader(self)
        self._sample_job: Job | None = None

        self._make_actions()
        self.browser.image_selected.connect(self.show_image)
        self.loader.loaded.connect(self.viewer.set_pixels)
        self.loader.failed.connect(self._on_image_failed)
        self.viewer.zoom_changed.connect(self.status.show_zoom)
        self.viewer.cursor_moved.connect(self._on_cursor_moved)

    def _dock(self, title: str, name: str, widget) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        return dock

    def _action(self, text: str, keys, slot, tip: str) -> QAction:
        action = QAction(text, self)
        action.setShortcuts([QKeySequence(key) for key in keys])
        action.setToolTip(
            f"{tip} ({QKeySequence(keys[0]).toString()})" if keys else tip
        )
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _make_actions(self) -> None:
        view = self.viewer.view
        self.open_action = self._action(
            "&Open dataset\u2026",
            [QKeySequence.StandardKey.Open],
            self.choose_dataset,
            "Open a SIPaKMeD dataset folder",
        )
        self.open_sample_action = self._action(
            "Open the &synthetic sample",
            [],
            self.open_sample,
            "Open the built-in synthetic sample (drawn on first use)",
        )
        self.quit_action = self._action(
            "&Quit", [QKeySequence.StandardKey.Quit], self.close, "Close the window"
        )
        self.fit_action = self._action(
            "&Fit to window", ["F", "Ctrl+0"], view.fit, "Show the whole image"
        )
        self.actual_size_action = self._action(
            "&Actual pixels (1:1)",
            ["1", "Ctrl+1"],
            view.actual_size,
            "One screen pixel per image pixel",
        )
        self.zoom_in_action = self._action(
            "Zoom &in",
            [QKeySequence.StandardKey.ZoomIn, "+", "="],
            view.zoom_in,
            "Zoom in",
        )
        self.zoom_out_action = self._action(
            "Zoom &out",
            [QKeySequence.StandardKey.ZoomOut, "-"],
            view.zoom_out,
            "Zoom out",
        )
        self.fit_action.setIconText("Fit")
        self.actual_size_action.setIconText("1:1")
        self.zoom_in_action.setIconText("Zoom in")
        self.zoom_out_action.setIconText("Zoom out")
        self.open_action.setIconText("Open\u2026")

        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.open_action)
        file_menu.addAction(self.open_sample_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        view_menu = self.menuBar().addMenu("&View")
        for action in (
            self.fit_action,
            self.actual_size_action,
            self.zoom_in_action,
            self.zoom_out_action,
        ):
            view_menu.addAction(action)
        view_menu.addSeparator()
        view_menu.addAction(self.browser_dock.toggleViewAction())
        view_menu.addAction(self.legend_dock.toggleViewAction())

        toolbar = QToolBar("View", self)
        toolbar.setObjectName("viewToolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        toolbar.addAction(self.open_action)
        toolbar.addSeparator()
        for action in (
            self.fit_action,
            self.actual_size_action,
            self.zoom_in_action,
            self.zoom_out_action,
        ):
            toolbar.addAction(action)
        self.addToolBar(toolbar)
        self.resizeDocks([self.browser_dock], [DOCK_WIDTH], Qt.Orientation.Horizontal)

    # -- the dataset -----------------------------------------------------------

    def choose_dataset(self) -> None:
        """Ask for a dataset folder and open it."""
        start = str(self.dataset.root.parent) if self.dataset else str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Open a dataset folder", start)
        if folder:
            self.open_dataset(Path(folder))

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
        self.open_sample_action.setEnabled(True)
        self.status.clearMessage()
        self.open_dataset(path)

    def _on_sample_failed(self, message: str) -> None:
        self._sample_job = None
        self.open_sample_action.setEnabled(True)
        self.status.clearMessage()
        QMessageBox.critical(self, "No sample dataset", message)

    def open_dataset(self, path: Path) -> bool:
        """Open the dataset at `path`; say why in a message box when it cannot be."""
        try:
            dataset = Dataset.open(path)
        except CervixError as error:
            log.warning("Cannot open %r: %s", str(path), error.user_message())
            QMessageBox.critical(self, "Cannot open this dataset", error.user_message())
            return False
        self.set_dataset(dataset)
        return True

    def set_dataset(self, dataset: Dataset) -> None:
        """Show `dataset`: list its images and show the first one."""
        self.dataset = dataset
        self.class_palette = ClassPalette(dataset.scheme)
        synthetic = dataset.settings.synthetic
        title = f"{dataset.root.name} \u2014 {APP_NAME}"
        self.setWindowTitle(title + (SYNTHETIC_SUFFIX if synthetic else ""))
        self.status.show_dataset(dataset.root.name, synthetic)
        self.legend.set_palette(self.class_palette)
        self.browser.set_dataset(dataset, self.class_palette)
        self.viewer.clear()
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

    def show_image(self, key: str) -> None:
        """Show the image `key` of the open dataset and its cells."""
        if self.dataset is None or self.class_palette is None:
            return
        record = self.dataset.image(key)
        if self.browser.current_key() != key:
            self.browser.select_image(key)  # comes back here through the signal
            return
        self.viewer.show_image(record, self.class_palette)
        self.status.show_image(record.size, len(record.cells))
        self.status.clearMessage()
        self.legend.show_counts(Counter(cell.class_name for cell in record.cells))
        self.loader.request(record.key, record.path)

    def _on_image_failed(self, key: str, message: str) -> None:
        self.viewer.show_failure(key, message)
        self.status.showMessage(f"Image not shown: {message}")

    def _on_cursor_moved(self, point: QPointF | None) -> None:
        self.status.show_cursor(point)
