"""The review summary of the shown image, the selected images, or the dataset or
slide: cells per predicted and per reviewed class, and per image the cells still
to review and the abnormal cells confirmed, as tables and a bar chart, exported
as CSV or as a PDF report."""

from __future__ import annotations

import logging
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cervix_gui.review.context import review_source, scope_keys
from engine.errors import CervixError
from engine.review import region_reader_for, summarise, write_report, write_summary_csv

log = logging.getLogger(__name__)

MESSAGE_MS = 10000
SCOPES = (
    ("Dataset or slide", "all"),
    ("Selected images", "selected"),
    ("Shown image", "image"),
)
PREDICTED_COLOUR = (120, 144, 156)
REVIEWED_COLOUR = (214, 39, 40)
IMAGE_COLUMNS = [
    "Image",
    "Cells",
    "To review",
    "Accepted",
    "Corrected",
    "Rejected",
    "Abnormal",
]


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().hide()
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.setMinimumHeight(40)
    return table


class ReviewSummaryDock(QWidget):
    """Counts of the review so far, and their export."""

    def __init__(self, window, parent=None):
        super().__init__(parent)
        self.window = window
        self.summary = None
        self.source = None
        self.scope = QComboBox()
        for text, value in SCOPES:
            self.scope.addItem(text, value)
        self.refresh_button = QPushButton("Refresh")
        self.csv_button = QPushButton("Export CSV\u2026")
        self.pdf_button = QPushButton("Export PDF report\u2026")
        self.totals = QLabel()
        self.totals.setWordWrap(True)
        self.table = _table(["Class", "Predicted", "Reviewed"])
        self.images_table = _table(IMAGE_COLUMNS)
        self.images_table.setToolTip("Double-click an image to show it")
        self.images_table.horizontalHeaderItem(6).setToolTip(
            "Abnormal cells a reviewer confirmed (accepted or corrected)"
        )
        self.chart = pg.PlotWidget(background="w")
        self.chart.setMinimumHeight(60)
        self.chart.setLabel("left", "cells")
        self.chart.getAxis("bottom").setHeight(44)  # two lines of class names
        self.chart.addLegend(offset=(-10, 10))
        buttons = QHBoxLayout()
        for widget in (
            self.scope,
            self.refresh_button,
            self.csv_button,
            self.pdf_button,
        ):
            buttons.addWidget(widget)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.totals)
        self.parts = QSplitter(Qt.Orientation.Horizontal)
        for widget in (self.table, self.images_table, self.chart):
            self.parts.addWidget(widget)
        self.parts.setStretchFactor(2, 1)
        self._fitted = False
        layout.addWidget(self.parts, 1)
        self.images_table.cellDoubleClicked.connect(self._show_image)
        self.scope.currentIndexChanged.connect(self.refresh)
        self.refresh_button.clicked.connect(self.refresh)
        self.csv_button.clicked.connect(self.export_csv)
        self.pdf_button.clicked.connect(self.export_pdf)
        # Counted again once a burst of edits (an undo of many steps) has ended,
        # and only while the summary is in sight.
        self._stale = False
        self._refresh_soon = QTimer(self)
        self._refresh_soon.setSingleShot(True)
        self._refresh_soon.setInterval(0)
        self._refresh_soon.timeout.connect(self.refresh)
        window.editing.session.cells_changed.connect(self._on_cells_changed)

    def _on_cells_changed(self, _key: str) -> None:
        self.refresh_soon()

    def refresh_soon(self) -> None:
        """Count again once a burst of edits has ended, and only while the
        summary is in sight (else when it comes into sight)."""
        if self.isVisible():
            self._refresh_soon.start()
        else:
            self._stale = True

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        if self._stale:
            self._stale = False
            self._refresh_soon.start()

    def refresh(self) -> None:
        """Count the review again."""
        self.summary = None
        try:
            self.source = review_source(self.window)
            if self.source is not None:
                keys = scope_keys(self.window, self.source, self.scope.currentData())
                self.summary = summarise(self.source, keys)
        except CervixError as error:
            self._say(error.user_message())
        self._show()

    def _show(self) -> None:
        summary = self.summary
        has = summary is not None
        self.csv_button.setEnabled(has)
        self.pdf_button.setEnabled(has)
        self.chart.clear()
        if not has:
            self.table.setRowCount(0)
            self.images_table.setRowCount(0)
            self.totals.setText("Open a dataset or a slide with predictions.")
            return
        total = summary.total
        self.totals.setText(
            f"{summary.name}: {total.cells} cells, {total.unreviewed} unreviewed, "
            f"{total.accepted} accepted, {total.corrected} corrected, "
            f"{total.rejected} rejected; {total.confirmed_abnormal} confirmed "
            "abnormal" + (" (synthetic data)" if summary.synthetic else "")
        )
        names = summary.class_names()
        self.table.setRowCount(len(names))
        for row, name in enumerate(names):
            values = (name, total.predicted.get(name, 0), total.reviewed.get(name, 0))
            for column, value in enumerate(values):
                self.table.setItem(row, column, QTableWidgetItem(str(value)))
        self.table.resizeColumnsToContents()
        self.images_table.setRowCount(len(summary.images))
        for row, counts in enumerate(summary.images):
            values = (
                counts.image_key,
                counts.cells,
                counts.unreviewed,
                counts.accepted,
                counts.corrected,
                counts.rejected,
                counts.confirmed_abnormal,
            )
            for column, value in enumerate(values):
                self.images_table.setItem(row, column, QTableWidgetItem(str(value)))
        self.images_table.resizeColumnsToContents()
        self._fit_tables()
        positions = list(range(len(names)))
        self.chart.addItem(
            pg.BarGraphItem(
                x=[p - 0.2 for p in positions],
                height=[total.predicted.get(n, 0) for n in names],
                width=0.4,
                brush=PREDICTED_COLOUR,
                name="predicted",
            )
        )
        self.chart.addItem(
            pg.BarGraphItem(
                x=[p + 0.2 for p in positions],
                height=[total.reviewed.get(n, 0) for n in names],
                width=0.4,
                brush=REVIEWED_COLOUR,
                name="reviewed",
            )
        )
        axis = self.chart.getAxis("bottom")
        # Long names break at their hyphen, so five classes fit a narrow chart.
        labels = [name.replace("-", "-\n", 1) for name in names]
        axis.setTicks([list(zip(positions, labels, strict=True))])

    def _fit_tables(self) -> None:
        """The first time there are counts, the tables get about the width of
        their columns; later the reviewer's split stays."""
        if self._fitted or not self.isVisible():
            return
        self._fitted = True
        widths = []
        for table in (self.table, self.images_table):
            columns = sum(table.columnWidth(c) for c in range(table.columnCount()))
            frame = (
                2 * table.frameWidth() + table.verticalScrollBar().sizeHint().width()
            )
            widths.append(columns + frame)
        # The splitter shares its width in these proportions: the chart keeps
        # room for the class names under its bars.
        self.parts.setSizes([*widths, int(0.8 * sum(widths))])

    def _show_image(self, row: int, _column: int) -> None:
        item = self.images_table.item(row, 0)
        if item is not None and self.window.dataset is not None:
            self.window.show_image(item.text())

    def _ask_path(self, title: str, suffix: str, kind: str) -> Path | None:
        default = Path.home() / f"{self.summary.name}-review.{suffix}"
        if self.source is not None and self.source.dataset is not None:
            default = self.source.dataset.root.parent / default.name
        path, _ = QFileDialog.getSaveFileName(
            self, title, str(default), f"{kind} (*.{suffix})"
        )
        if not path:
            return None
        path = Path(path)
        return path if path.suffix else path.with_suffix(f".{suffix}")

    def export_csv(self) -> Path | None:
        """Write the summary as CSV where the user says."""
        if self.summary is None:
            return None
        path = self._ask_path("Export the review summary", "csv", "CSV")
        if path is None:
            return None
        try:
            write_summary_csv(self.summary, path)
        except (CervixError, OSError) as error:
            self._say(f"The summary was not written: {error}")
            return None
        self._say(f"Review summary written to {path}")
        return path

    def export_pdf(self) -> Path | None:
        """Write the review report as PDF where the user says."""
        if self.summary is None:
            return None
        path = self._ask_path("Export the review report", "pdf", "PDF")
        if path is None:
            return None
        reader = region_reader_for(self.source) if self.source else None
        try:
            write_report(self.summary, path, reader)
        except (CervixError, OSError) as error:
            self._say(f"The report was not written: {error}")
            return None
        finally:
            if reader is not None:
                reader.close()
        self._say(f"Review report written to {path}")
        return path

    def _say(self, text: str) -> None:
        self.window.status.showMessage(text, MESSAGE_MS)
