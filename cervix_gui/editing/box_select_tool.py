"""Selecting many cells at once by dragging a box around them: every cell lying
wholly inside the box is selected (with Shift or Ctrl, added to the selection),
so a box around one cell of a crowded cluster does not catch its neighbours."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter

from cervix_gui.editing.tool_base import EditingTool, cosmetic_pen
from cervix_gui.viewer.tools import CLICK_TRAVEL_PX, ToolEvent

BOX_FILL = QColor(255, 209, 102, 40)
BOX_EDGE = QColor("#ffd166")
ADDING = Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.ControlModifier


class RubberBand:
    """A box dragged over the image, in image pixels."""

    def __init__(self, start: QPointF, view_start: QPoint):
        self.start = QPointF(start)
        self.end = QPointF(start)
        self.view_start = QPoint(view_start)

    def rect(self) -> QRectF:
        return QRectF(self.start, self.end).normalized()

    def is_click(self, event: ToolEvent) -> bool:
        return (event.view_pos - self.view_start).manhattanLength() <= CLICK_TRAVEL_PX

    def paint(self, painter: QPainter) -> None:
        painter.setPen(cosmetic_pen(BOX_EDGE, 1.2, Qt.PenStyle.DashLine))
        painter.setBrush(BOX_FILL)
        painter.drawRect(self.rect())


def cells_inside(record, rect: QRectF) -> list[int]:
    """The indices of the record's cells whose outline lies wholly inside `rect`."""
    inside = []
    for cell in record.cells:
        x_min, y_min, x_max, y_max = cell.bounds
        if (
            rect.left() <= x_min
            and rect.top() <= y_min
            and x_max <= rect.right()
            and y_max <= rect.bottom()
        ):
            inside.append(cell.index)
    return inside


def select_in_box(viewer, rect: QRectF, adding: bool) -> None:
    """Select the shown image's cells inside `rect`, added to the selection when
    `adding`."""
    record = viewer.record
    if record is None:
        return
    cells = cells_inside(record, rect)
    if adding and viewer.selection.image_key == record.key:
        cells = list(viewer.selection.cells) + cells
    viewer.selection.select(record.key, cells)


class BoxSelectTool(EditingTool):
    """Drag a box to select the cells inside it; a click selects as usual."""

    name = "box select"
    cursor = Qt.CursorShape.CrossCursor

    def __init__(self, session):
        super().__init__(session)
        self.band: RubberBand | None = None

    def reset(self) -> None:
        self.band = None

    def mouse_press(self, event: ToolEvent) -> bool:
        if event.button != Qt.MouseButton.LeftButton or self.record is None:
            return False
        self.band = RubberBand(event.image_pos, event.view_pos)
        return True

    def mouse_move(self, event: ToolEvent) -> bool:
        if self.band is None:
            return False
        self.band.end = QPointF(event.image_pos)
        self.repaint()
        return True

    def mouse_release(self, event: ToolEvent) -> bool:
        band, self.band = self.band, None
        if band is None or event.button != Qt.MouseButton.LeftButton:
            return False
        adding = bool(event.modifiers & ADDING)
        if band.is_click(event):
            self.viewer.select_at(event.image_pos, extend=adding)
        else:
            band.end = QPointF(event.image_pos)
            select_in_box(self.viewer, band.rect(), adding)
        self.repaint()
        return True

    def key_press(self, event: ToolEvent) -> bool:
        if event.key == Qt.Key.Key_Escape and self.band is not None:
            self.band = None
            self.repaint()
            return True
        return False

    def paint(self, painter: QPainter, zoom: float) -> None:
        if self.band is not None:
            self.band.paint(painter)
