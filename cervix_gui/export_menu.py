"""File ▸ Export: the open dataset's cells as QuPath GeoJSON, COCO JSON, label
masks or a measurements CSV, written off the GUI thread by the same engine
functions as `cervix export`, with the cells as the window shows them."""

from __future__ import annotations

import copy
import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox

from cervix_gui.workers import Job, start_job
from engine.annotations import Dataset
from engine.annotations.interchange import (
    ExportError,
    ExportSummary,
    export_coco,
    export_csv,
    export_geojson,
    export_masks,
)

log = logging.getLogger(__name__)

AS_SHOWN = "Writes the cells as the window shows them, unsaved edits included"
# Dataset images carry no pixel size; `cervix export --microns-per-pixel` has one.
IN_PIXELS = "; measurements in pixels"


@dataclass(frozen=True)
class ExportFormat:
    """One entry of the Export menu and what it writes."""

    name: str  # as `cervix export --format` calls it
    menu_text: str
    description: str  # what is written, for the status bar
    write: Callable[[Dataset, Path], ExportSummary]
    to_folder: bool  # a folder of files rather than one file
    file_filter: str = ""
    suffix: str = ""  # added to a file name given without one

    def default_name(self, dataset: Dataset) -> str:
        if self.to_folder:
            return f"{dataset.root.name}-{self.name}"
        return f"{dataset.root.name}{self.suffix}"


EXPORT_MENU_FORMATS = (
    ExportFormat(
        "geojson",
        "QuPath &GeoJSON\u2026",
        "QuPath GeoJSON, one file per image",
        export_geojson,
        to_folder=True,
    ),
    ExportFormat(
        "coco",
        "&COCO JSON\u2026",
        "COCO instance JSON",
        export_coco,
        to_folder=False,
        file_filter="COCO JSON (*.json);;All files (*)",
        suffix=".coco.json",
    ),
    ExportFormat(
        "masks",
        "Label &masks\u2026",
        "16-bit label masks of cells and nuclei, and labels.csv",
        export_masks,
        to_folder=True,
    ),
    ExportFormat(
        "csv",
        "Measurements C&SV\u2026",
        "per-cell measurements",
        export_csv,
        to_folder=False,
        file_filter="CSV (*.csv);;All files (*)",
        suffix=".csv",
    ),
)


def cells_as_shown(dataset: Dataset) -> Dataset:
    """A copy of `dataset` with copies of its images' cells, so the edits made
    while a worker writes them cannot change what it writes half-way."""
    snapshot = copy.copy(dataset)
    snapshot.images = [
        dataclasses.replace(
            image,
            cells=[
                dataclasses.replace(
                    cell,
                    cytoplasm=cell.cytoplasm.copy(),
                    nucleus=None if cell.nucleus is None else cell.nucleus.copy(),
                )
                for cell in image.cells
            ],
            used_indices=set(image.used_indices),
        )
        for image in dataset.images
    ]
    return snapshot


def run_export(export: ExportFormat, dataset: Dataset, out: Path) -> ExportSummary:
    """Write `dataset` to `out` in `export`'s format; a failure names the path
    and says what to do in the window's words (the engine's hints name --out)."""
    if not export.to_folder and out.is_dir():
        raise ExportError("is a folder", out, "give a file name to export to")
    try:
        return export.write(dataset, out)
    except ExportError as error:
        if "--out" not in error.hint:
            raise
        hint = error.hint.replace("for --out", "to export to")
        raise ExportError(error.message, error.path, hint) from error


class ExportMenu(QObject):
    """The File ▸ Export menu of a MainWindow and the one export it runs."""

    def __init__(self, window, file_menu: QMenu):
        super().__init__(window)
        self.window = window
        self.menu = file_menu.addMenu("E&xport")
        self.menu.setToolTipsVisible(True)
        self.actions: dict[str, QAction] = {}
        for export in EXPORT_MENU_FORMATS:
            action = QAction(export.menu_text, window)
            units = IN_PIXELS if export.name in ("geojson", "csv") else ""
            tip = f"Export the dataset's cells as {export.description}. {AS_SHOWN}"
            tip += f"{units}."
            action.setToolTip(tip)
            action.setStatusTip(tip)
            action.triggered.connect(
                lambda _checked=False, chosen=export: self.export(chosen)
            )
            self.menu.addAction(action)
            self.actions[export.name] = action
        self._job: Job | None = None
        self.menu.aboutToShow.connect(self.update_actions)
        # Queued: the window takes the dataset in its own slot of the same signal.
        window.opener.opened.connect(
            self.update_actions, Qt.ConnectionType.QueuedConnection
        )
        self.update_actions()

    def busy(self) -> bool:
        return self._job is not None

    def update_actions(self, *_) -> None:
        """Exporting needs an open dataset and no export already running."""
        enabled = self.window.dataset is not None and self._job is None
        for action in self.actions.values():
            action.setEnabled(enabled)

    def choose_destination(self, export: ExportFormat) -> Path | None:
        """Ask where to write; None when the user cancels."""
        dataset = self.window.dataset
        start = dataset.root.parent / export.default_name(dataset)
        if export.to_folder:
            chosen = QFileDialog.getExistingDirectory(
                self.window, f"Export {export.description} into a folder", str(start)
            )
            return Path(chosen) if chosen else None
        chosen, _ = QFileDialog.getSaveFileName(
            self.window, f"Export {export.description}", str(start), export.file_filter
        )
        if not chosen:
            return None
        path = Path(chosen)
        return path if path.suffix else path.with_name(path.name + export.suffix)

    def export(self, export: ExportFormat) -> None:
        """Ask for a destination and write the open dataset there in a worker."""
        dataset = self.window.dataset
        if dataset is None or self._job is not None:
            return
        out = self.choose_destination(export)
        if out is None:
            return
        unsaved = len(self.window.editing.session.unsaved_keys())
        snapshot = cells_as_shown(dataset)
        log.info("Exporting %r as %s to %r", str(dataset.root), export.name, str(out))
        self.window.status.showMessage(f"Exporting to {out}\u2026")
        self._job = start_job(
            run_export,
            export,
            snapshot,
            out,
            on_finished=lambda summary: self._finished(
                export, snapshot, out, unsaved, summary
            ),
            on_failed=lambda message: self._failed(out, message),
        )
        self.update_actions()

    def _finished(
        self,
        export: ExportFormat,
        dataset: Dataset,
        out: Path,
        unsaved: int,
        summary: ExportSummary,
    ) -> None:
        self._job = None
        if self.window.closed:
            return
        self.update_actions()
        synthetic = " of the synthetic sample" if dataset.settings.synthetic else ""
        parts = [
            f"Exported {summary.cells} cells of {summary.images} images{synthetic} "
            f"to {out} ({export.description})."
        ]
        if unsaved:
            noun = "image" if unsaved == 1 else "images"
            parts.append(f"Unsaved edits of {unsaved} {noun} included.")
        for warning in summary.warnings:
            log.warning("Export to %r: %s", str(out), warning)
        if summary.warnings:
            parts.append(f"{len(summary.warnings)} warnings; see the log.")
        if dataset.problems:
            parts.append(
                f"{len(dataset.problems)} annotation files with problems left out."
            )
        self.window.status.showMessage(" ".join(parts))

    def _failed(self, out: Path, message: str) -> None:
        self._job = None
        if self.window.closed:
            return
        self.update_actions()
        log.warning("Export to %r failed: %s", str(out), message)
        self.window.status.showMessage(f"Not exported: {message}")
        if self.window.errors_in_dialogs:
            QMessageBox.critical(self.window, "Export failed", message)


def install_export_menu(window) -> ExportMenu:
    """Add File ▸ Export to `window` (a MainWindow) at the end of its File menu
    (`window.file_menu`) as built so far."""
    window.export_menu = ExportMenu(window, window.file_menu)
    return window.export_menu
