"""The layer of annotated cells: each cell's outline and nucleus in its class colour."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsPolygonItem

from cervix_gui.palette import ClassPalette
from cervix_gui.viewer.layer import Layer
from engine.annotations import Cell

CYTOPLASM_WIDTH = 2.0
NUCLEUS_WIDTH = 1.6
# A thin dark edge under each line keeps it readable on pale and on dark stain.
HALO_COLOUR = QColor(0, 0, 0, 120)
HALO_EXTRA_WIDTH = 1.5


def _polygon(vertices: np.ndarray) -> QPolygonF:
    return QPolygonF([QPointF(float(x), float(y)) for x, y in vertices])


class OutlineItem(QGraphicsPolygonItem):
    """One outline, cytoplasm or nucleus, of one cell, drawn as a line that keeps
    its width on screen at every zoom."""

    def __init__(
        self,
        vertices: np.ndarray,
        colour: QColor,
        width: float,
        role: str,
        cell: Cell,
        parent=None,
    ):
        super().__init__(_polygon(vertices), parent)
        self.role = role  # "cytoplasm" or "nucleus"
        self.cell_index = cell.index
        self.class_name = cell.class_name
        pen = QPen(colour, width)
        pen.setCosmetic(True)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        self.setPen(pen)
        self.setBrush(Qt.BrushStyle.NoBrush)
        self._halo = QPen(HALO_COLOUR, width + HALO_EXTRA_WIDTH)
        self._halo.setCosmetic(True)
        self._halo.setJoinStyle(Qt.PenJoinStyle.RoundJoin)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(self._halo)
        painter.drawPolygon(self.polygon())
        painter.setPen(self.pen())
        painter.drawPolygon(self.polygon())


class CellOutlineLayer(Layer):
    """The saved annotations of the shown image, one pair of outlines per cell."""

    def __init__(self, z_value: float = 10.0):
        super().__init__("annotations", z_value)

    def show_cells(self, cells: list[Cell], palette: ClassPalette) -> None:
        """Replace the drawn outlines with those of `cells`."""
        self.clear()
        for cell in cells:
            outline = OutlineItem(
                cell.cytoplasm,
                palette.colour(cell.class_name),
                CYTOPLASM_WIDTH,
                "cytoplasm",
                cell,
                self,
            )
            outline.setToolTip(f"Cell {cell.index}: {palette.label(cell.class_name)}")
            if cell.nucleus is not None:
                nucleus = OutlineItem(
                    cell.nucleus,
                    palette.nucleus_colour(cell.class_name),
                    NUCLEUS_WIDTH,
                    "nucleus",
                    cell,
                    self,
                )
                # Above every cell outline, so an overlapping cell never hides it.
                nucleus.setZValue(1.0)

    def outline_items(self) -> list[OutlineItem]:
        """Every outline drawn, cytoplasm and nucleus, in drawing order."""
        return [item for item in self.childItems() if isinstance(item, OutlineItem)]
