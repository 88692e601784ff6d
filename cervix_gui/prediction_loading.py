"""Reading what the models predicted for one image from the PredictionStore, in a
worker (the runs stored, the cells of the chosen run indexed for drawing, where
its U-Net mask and Grad-CAM heatmap are), and showing it in the model layers."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from cervix_gui.workers import Job, start_job
from engine.errors import CervixError
from engine.images.cell_outlines import CellOutlines
from engine.predictions import ImagePredictions, PredictionStore

log = logging.getLogger(__name__)

NO_RUNS = "No predictions stored yet: run the models on this image first."
# How often cells a running analysis has found are drawn again: often enough to
# watch a slide fill, seldom enough that redrawing costs the window little.
FOUND_REDRAW_MS = 1000


@dataclass
class StoredPredictions:
    """What one run holds for one image; `reason` says why something is missing."""

    image_key: str
    runs: list[str]
    run: str | None
    predictions: ImagePredictions | None = None
    outlines: CellOutlines | None = None
    mask_path: Path | None = None
    gradcam_path: Path | None = None
    reason: str = NO_RUNS


def load_predictions(
    store: PredictionStore, image_key: str, run: str | None, class_names: list[str]
) -> StoredPredictions:
    """The stored predictions of `run` (None: the newest) for `image_key`."""
    runs = store.runs()
    if not runs:
        return StoredPredictions(image_key, [], None)
    run = run if run in runs else runs[0]
    predictions = store.load_cells(run, image_key)
    outlines = None
    if predictions is not None and predictions.cells:
        outlines = CellOutlines.from_predictions(predictions.cells, class_names)
        outlines.prepare()
    return StoredPredictions(
        image_key,
        runs,
        run,
        predictions,
        outlines,
        store.find_mask(run, image_key),
        store.find_gradcam(run, image_key),
        reason=f"Run {run!r} has no such prediction for this image.",
    )


class PredictionLayers(QObject):
    """Reads the chosen run's predictions for the shown image in a worker and
    shows them in the model layers; `shown` tells who else needs them."""

    shown = Signal(object)  # StoredPredictions
    found_drawn = Signal(int)  # cells of a running analysis drawn so far

    def __init__(self, viewer, layers_dock, parent=None):
        super().__init__(parent)
        self.viewer = viewer
        self.layers_dock = layers_dock
        self.stored: StoredPredictions | None = None
        self._job: Job | None = None
        self._record = None
        self._store: PredictionStore | None = None
        self._palette = None
        self._found: list = []  # cells a running analysis found in the shown image
        self._found_key: str | None = None
        self._found_timer = QTimer(self)
        self._found_timer.setSingleShot(True)
        self._found_timer.setInterval(FOUND_REDRAW_MS)
        self._found_timer.timeout.connect(self._draw_found)
        layers_dock.run_chosen.connect(self._on_run_chosen)

    def busy(self) -> bool:
        return self._job is not None

    def load(self, record, store: PredictionStore | None, palette, run=None) -> None:
        """Read `run` (None: the newest) of `store` for `record`, then show it."""
        self._record, self._store, self._palette = record, store, palette
        self.stored = None
        self._forget_found()
        if store is None:
            return
        names = [cell_class.name for cell_class in palette.scheme.classes]
        key = record.key
        self._job = start_job(
            load_predictions,
            store,
            key,
            run,
            names,
            on_finished=lambda stored: self._on_loaded(key, stored),
            on_failed=lambda message: self._on_failed(key, message),
        )

    def add_found(self, record, cells, palette) -> None:
        """Cells that a running analysis has just written for `record`, the shown
        image: drawn within a second, before the run ends (a slide fills as its
        tiles are analysed); the finished run is read in full by `load`."""
        if self._found_key != record.key:
            self._forget_found()
            self._found_key = record.key
        self._record, self._palette = record, palette
        first = not self._found
        self._found.extend(cells)
        if first:
            self._draw_found()  # the first cells at once, the rest in a while
        elif not self._found_timer.isActive():
            self._found_timer.start()

    def found_count(self) -> int:
        return len(self._found)

    def _forget_found(self) -> None:
        self._found, self._found_key = [], None
        self._found_timer.stop()

    def _draw_found(self) -> None:
        if not self._found or not self._current(self._found_key):
            return
        names = [cell_class.name for cell_class in self._palette.scheme.classes]
        outlines = CellOutlines.from_predictions(self._found, names)
        outlines.prepare()
        self.viewer.layers.show_predicted_cells(
            outlines, self._palette, self.viewer.content_rect()
        )
        self.found_drawn.emit(len(self._found))

    def _current(self, key: str) -> bool:
        return self._record is not None and self._record.key == key

    def _on_failed(self, key: str, message: str) -> None:
        self._job = None
        if self._current(key):
            log.warning("Predictions of %r not shown: %s", key, message)
            self.viewer.layers.clear_predictions(f"Cannot be read: {message}")

    def _on_loaded(self, key: str, stored: StoredPredictions) -> None:
        self._job = None
        if not self._current(key):
            return
        self.stored = stored
        layers, extent = self.viewer.layers, self.viewer.content_rect()
        self.layers_dock.set_runs(stored.runs)
        if stored.run:
            self.layers_dock.runs.setCurrentText(stored.run)
        layers.show_predicted_cells(
            stored.outlines, self._palette, extent, stored.reason
        )
        size = (extent.width(), extent.height())
        for name, path in (
            ("mask", stored.mask_path),
            ("heatmap", stored.gradcam_path),
        ):
            try:
                layers.show_raster(name, path, stored.reason, size)
            except CervixError as error:  # a damaged file greys out its layer only
                log.warning("Cannot show the %s %s: %s", name, path, error)
                layers.show_raster(
                    name, None, f"Cannot be read: {error.user_message()}"
                )
        self.shown.emit(stored)

    def _on_run_chosen(self, run: str) -> None:
        if self._record is not None and (self.stored is None or run != self.stored.run):
            self.load(self._record, self._store, self._palette, run)
