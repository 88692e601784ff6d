"""The measurement table's model: one row per cell of the shown image, one column
per measurement, sortable through a QSortFilterProxyModel whose sort numpy
does in the model (numbers sort as numbers, an unknown value sorts last), so a
slide's tens of thousands of rows sort in milliseconds, not seconds."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt

from cervix_gui.palette import ClassPalette
from engine.annotations import Cell
from engine.metrics.measurements import CellMeasurements

NO_VALUE = "\u2014"
UNITS = {"um2": "\u00b5m\u00b2", "um": "\u00b5m", "px2": "px\u00b2", "px": "px"}
CELL_ROLE = Qt.ItemDataRole.UserRole  # the cell's index, on every column
SORT_ROLE = Qt.ItemDataRole.UserRole + 1

# title, measurement attribute (or a cell attribute), digits
COLUMNS = (
    ("Cell", "cell_index", 0),
    ("Class", "class_name", None),
    ("Area", "area", 1),
    ("Perimeter", "perimeter", 1),
    ("Nucleus area", "nucleus_area", 1),
    ("N/C ratio", "nc_ratio", 3),
    ("Circularity", "circularity", 3),
    ("Nuclear intensity", "mean_nuclear_intensity", 1),
    ("Review", "review_state", None),
)


class MeasurementTableModel(QAbstractTableModel):
    """Cells and their measurements; values are read on demand, so a hundred
    thousand rows cost no more than the ones on screen."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.cells: list[Cell] = []
        self.measurements: list[CellMeasurements] = []
        self.palette: ClassPalette | None = None
        self._row_of: dict[int, int] = {}

    def set_cells(
        self,
        cells: list[Cell],
        measurements: list[CellMeasurements],
        palette: ClassPalette | None,
    ) -> None:
        """Show `cells` with their measurements (in the same order)."""
        self.beginResetModel()
        self.cells = list(cells)
        self.measurements = list(measurements)
        self.palette = palette
        self._row_of = {cell.index: row for row, cell in enumerate(self.cells)}
        self.endResetModel()

    def row_of(self, cell_index: int) -> int | None:
        return self._row_of.get(cell_index)

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        """Reorder the rows by a column, ties kept in their order."""
        if not self.measurements:
            return
        values = [self._raw(row, column) for row in range(len(self.measurements))]
        if any(isinstance(value, str) for value in values):
            keys = np.array([str(value) for value in values])
        else:
            keys = np.array(
                [math.inf if value is None else float(value) for value in values]
            )
        if order == Qt.SortOrder.DescendingOrder:
            # Reversing a stable ascending order of the reversed rows keeps ties
            # in their order; unknown values still end up last.
            known = (
                keys
                if keys.dtype.kind == "U"
                else np.where(np.isinf(keys), -math.inf, keys)
            )
            ranks = np.argsort(known[::-1], kind="stable")[::-1]
            order_of_rows = len(keys) - 1 - ranks
        else:
            order_of_rows = np.argsort(keys, kind="stable")
        self.beginResetModel()
        self.cells = [self.cells[row] for row in order_of_rows]
        self.measurements = [self.measurements[row] for row in order_of_rows]
        self._row_of = {cell.index: row for row, cell in enumerate(self.cells)}
        self.endResetModel()

    def rowCount(self, parent=None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self.measurements)

    def columnCount(self, parent=None) -> int:
        return 0 if parent is not None and parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if (
            orientation != Qt.Orientation.Horizontal
            or role != Qt.ItemDataRole.DisplayRole
        ):
            return None
        title, attribute, _ = COLUMNS[section]
        if attribute in ("area", "nucleus_area", "perimeter") and self.measurements:
            first = self.measurements[0]
            unit = first.area_unit if "area" in attribute else first.length_unit
            return f"{title} ({UNITS.get(unit, unit)})"
        return title

    def _raw(self, row: int, column: int):
        _, attribute, _ = COLUMNS[column]
        if attribute == "review_state":
            return self.cells[row].review_state.value
        return getattr(self.measurements[row], attribute)

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        if role == CELL_ROLE:
            return self.measurements[row].cell_index
        value = self._raw(row, column)
        if role == SORT_ROLE:
            if isinstance(value, str):
                return value
            return math.inf if value is None else float(value)
        if role == Qt.ItemDataRole.DisplayRole:
            if value is None:
                return NO_VALUE
            if COLUMNS[column][1] == "class_name" and self.palette is not None:
                return self.palette.label(value)
            digits = COLUMNS[column][2]
            if digits is None:
                return str(value)
            return f"{value:,.{digits}f}" if digits else str(value)
        if role == Qt.ItemDataRole.TextAlignmentRole and COLUMNS[column][2] is not None:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if (
            role == Qt.ItemDataRole.ForegroundRole
            and COLUMNS[column][1] == "class_name"
            and self.palette is not None
        ):
            return self.palette.colour(value).darker(130)
        return None


class MeasurementSortProxy(QSortFilterProxyModel):
    """A proxy that leaves sorting to the model's numpy sort instead of comparing
    rows two at a time through Python."""

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        if column >= 0:
            self.sourceModel().sort(column, order)
