"""The measurements dock: the table of every cell of the shown image, sortable,
over the N/C histogram and the area scatter; selecting a row or a point
selects the cell everywhere."""

from __future__ import annotations

from PySide6.QtCore import (
    QItemSelection,
    QItemSelectionModel,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from cervix_gui.measurement_table import (
    CELL_ROLE,
    SORT_ROLE,
    MeasurementSortProxy,
    MeasurementTableModel,
)
from cervix_gui.palette import ClassPalette
from cervix_gui.plots import AreaScatter, NcHistogram
from engine.annotations import Cell
from engine.metrics.measurements import CellMeasurements


class MeasurementsDock(QWidget):
    """Table and plots of one image's cells."""

    cells_selected = Signal(tuple)  # cell indices chosen in the table
    cell_clicked = Signal(int)  # a point of the scatter plot

    def __init__(self, parent=None):
        super().__init__(parent)
        self.status = QLabel("No image shown.")
        self.status.setStyleSheet("color: #5f6368;")
        self.model = MeasurementTableModel(self)
        self.proxy = MeasurementSortProxy(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        # Widths from the first rows only: measuring every row of a slide's
        # table would read tens of thousands of values on each layout.
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setResizeContentsPrecision(64)
        self.table.selectionModel().selectionChanged.connect(self._on_table_selection)
        self.histogram = NcHistogram()
        self.scatter = AreaScatter()
        self.scatter.cell_clicked.connect(self.cell_clicked)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.table)
        splitter.addWidget(self.histogram)
        splitter.addWidget(self.scatter)
        # The table gets the room of its nine columns; the plots share the rest.
        splitter.setStretchFactor(0, 5)
        splitter.setStretchFactor(1, 3)
        splitter.setStretchFactor(2, 3)
        splitter.setSizes([500, 300, 300])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addWidget(self.status)
        layout.addWidget(splitter, 1)
        self._updating = False
        self._selected: tuple = ()
        self.model.modelReset.connect(lambda: self.set_selection(self._selected))

    def show_measuring(self, count: int) -> None:
        self.status.setText(f"Measuring {count} cells\u2026")
        self.model.set_cells([], [], None)
        self.histogram.show_measurements([], None)
        self.scatter.show_measurements([], None)

    def show_progress(self, done: int, total: int) -> None:
        self.status.setText(f"Measuring: {done} of {total} cells\u2026")

    def show_measurements(
        self,
        cells: list[Cell],
        measurements: list[CellMeasurements],
        palette: ClassPalette | None,
    ) -> None:
        """Fill the table and plots; `measurements` are in the order of `cells`."""
        self.model.set_cells(cells, measurements, palette)
        self.table.resizeColumnsToContents()
        self.histogram.show_measurements(measurements, palette)
        self.scatter.show_measurements(measurements, palette)
        count = len(measurements)
        unit = ""
        if measurements and measurements[0].microns_per_pixel:
            unit = (
                f", in \u00b5m ({measurements[0].microns_per_pixel:g} \u00b5m a pixel)"
            )
        elif measurements:
            unit = ", in pixels (the image does not say its pixel size)"
        self.status.setText(f"{count} {'cell' if count == 1 else 'cells'}{unit}")

    def show_failure(self, message: str) -> None:
        self.status.setText(f"Not measured: {message}")

    def measurement_of(self, cell_index: int) -> CellMeasurements | None:
        row = self.model.row_of(cell_index)
        return None if row is None else self.model.measurements[row]

    def set_selection(self, cells: tuple) -> None:
        """Select the rows of `cells` (the view's selection), without echoing it."""
        self._selected = tuple(cells)
        self._updating = True
        try:
            selection = QItemSelection()
            first = None
            for cell in cells:
                row = self.model.row_of(cell)
                if row is None:
                    continue
                index = self.proxy.mapFromSource(self.model.index(row, 0))
                last = self.proxy.index(index.row(), self.proxy.columnCount() - 1)
                selection.select(index, last)
                first = first or index
            self.table.selectionModel().select(
                selection, QItemSelectionModel.SelectionFlag.ClearAndSelect
            )
            if first is not None:
                self.table.scrollTo(first)
            self.scatter.show_selection(cells)
        finally:
            self._updating = False

    def _on_table_selection(self, *_args) -> None:
        if self._updating:
            return
        rows = self.table.selectionModel().selectedRows()
        cells = tuple(int(index.data(CELL_ROLE)) for index in rows)
        self._selected = cells
        self.scatter.show_selection(cells)
        self.cells_selected.emit(cells)
