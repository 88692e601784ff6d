"""What the editing tools share: the session they edit through, double clicks
(which the view does not hand to tools), distances that stay the same on screen
at any zoom, and how outlines and handles are drawn over the image."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen, QPolygonF

from cervix_gui.viewer.tools import PanSelectTool, ToolEvent

PICK_PX = 7  # how near, in screen pixels, the cursor must be to a vertex or edge
HANDLE_PX = 7  # the side of a vertex handle on screen
HANDLE_FILL = QColor(255, 255, 255)
HANDLE_CHOSEN = QColor("#ff9f1c")
HANDLE_EDGE = QColor(20, 20, 20)
PREVIEW_COLOUR = QColor("#ffd166")


class _DoubleClicks(QObject):
    """Hands the viewport's double clicks to the tool, in image pixels."""

    def __init__(self, tool):
        super().__init__()
        self.tool = tool

    def eventFilter(self, watched, event) -> bool:
        if event.type() != QEvent.Type.MouseButtonDblClick:
            return False
        viewer = self.tool.viewer
        if viewer is None:
            return False
        position = event.position().toPoint()
        tool_event = ToolEvent(
            QPointF(viewer.view.mapToScene(position)),
            position,
            event.button(),
            event.buttons(),
            event.modifiers(),
        )
        return bool(self.tool.mouse_double_click(tool_event))


class EditingTool(PanSelectTool):
    """A viewer tool that changes the shown image's cells through an EditSession.

    Where it does not use an event, the viewer's own behaviour stays: a drag pans
    and a click selects the cell under it.
    """

    def __init__(self, session):
        super().__init__()
        self.session = session
        self._double_clicks = _DoubleClicks(self)

    def activate(self, viewer) -> None:
        super().activate(viewer)
        viewer.view.viewport().installEventFilter(self._double_clicks)

    def deactivate(self) -> None:
        if self.viewer is not None:
            self.viewer.view.viewport().removeEventFilter(self._double_clicks)
            self.reset()
            self.viewer.view.viewport().update()
        super().deactivate()

    # -- what a tool may add to the base --------------------------------------------

    def mouse_double_click(self, event: ToolEvent) -> bool:
        return False

    def reset(self) -> None:
        """Forget a gesture half made (Esc, another image, another tool)."""

    def cells_changed(self) -> None:
        """The shown image's cells changed: drop what no longer exists."""

    def delete_selection(self) -> bool:
        """Delete what the tool has chosen (vertices, say); False when the tool
        has nothing of its own, so the selected cells are deleted instead."""
        return False

    # -- helpers ----------------------------------------------------------------------

    @property
    def record(self):
        return None if self.viewer is None else self.viewer.record

    def zoom(self) -> float:
        return max(self.viewer.view.zoom(), 1e-6) if self.viewer is not None else 1.0

    def tolerance(self) -> float:
        """PICK_PX screen pixels, in image pixels at the present zoom."""
        return PICK_PX / self.zoom()

    def repaint(self) -> None:
        if self.viewer is not None:
            self.viewer.view.viewport().update()

    def selected_cells(self) -> list:
        """The shown image's selected cells, in selection order."""
        record, viewer = self.record, self.viewer
        if record is None or viewer.selection.image_key != record.key:
            return []
        present = {cell.index: cell for cell in record.cells}
        return [present[i] for i in viewer.selection.cells if i in present]

    def clamp(self, point: QPointF) -> QPointF:
        """The point moved onto the image where it lies beyond its edge."""
        record = self.record
        if record is None or record.size is None:
            return QPointF(point)
        width, height = record.size
        return QPointF(
            min(max(point.x(), 0.0), width - 1.0),
            min(max(point.y(), 0.0), height - 1.0),
        )


def as_array(point: QPointF) -> np.ndarray:
    return np.array([point.x(), point.y()], dtype=np.float64)


def polygon(vertices) -> QPolygonF:
    return QPolygonF([QPointF(float(x), float(y)) for x, y in vertices])


def cosmetic_pen(colour: QColor, width: float, style=Qt.PenStyle.SolidLine) -> QPen:
    pen = QPen(colour, width, style)
    pen.setCosmetic(True)
    return pen


def paint_handles(painter: QPainter, vertices, zoom: float, chosen=()) -> None:
    """A small square on each vertex, the chosen ones filled orange."""
    side = HANDLE_PX / zoom
    painter.setPen(cosmetic_pen(HANDLE_EDGE, 1.0))
    chosen = set(chosen)
    for index, (x, y) in enumerate(vertices):
        colour = HANDLE_CHOSEN if index in chosen else HANDLE_FILL
        painter.setBrush(QBrush(colour))
        painter.drawRect(QRectF(x - side / 2, y - side / 2, side, side))


def paint_preview(painter: QPainter, vertices, closed: bool = True) -> None:
    """An outline being changed, dashed, over what is saved."""
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.setPen(cosmetic_pen(QColor(0, 0, 0, 180), 3.5))
    shape = polygon(vertices)
    draw = painter.drawPolygon if closed else painter.drawPolyline
    draw(shape)
    painter.setPen(cosmetic_pen(PREVIEW_COLOUR, 1.8, Qt.PenStyle.DashLine))
    draw(shape)
