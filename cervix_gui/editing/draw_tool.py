"""Drawing outlines point by point: a new cell and then its nucleus, or a new
nucleus for the selected cell.

Click to add a point (a drag still pans); Enter, a double click or a click on
the first point closes the outline; Backspace takes the last point back; Esc
drops the points, or, when only the new cell's nucleus is left to draw, leaves
the cell without one. An outline that cannot be made valid is refused with the
reason in the status bar, and its points stay to be corrected.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter

from cervix_gui.editing.tool_base import EditingTool, cosmetic_pen, polygon
from cervix_gui.viewer.tools import CLICK_TRAVEL_PX, ToolEvent
from engine.annotations.edit_tools import new_cell_edit, outline_edit

CELL_COLOUR = QColor("#ffd166")
NUCLEUS_COLOUR = QColor("#ef476f")
POINT_PX = 5
CLOSING_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class DrawTool(EditingTool):
    """Draw a new cell then its nucleus; with `nucleus_only`, redraw the nucleus
    of the selected cell."""

    cursor = Qt.CursorShape.CrossCursor

    def __init__(self, session, nucleus_only: bool = False):
        super().__init__(session)
        self.nucleus_only = nucleus_only
        self.name = "redraw nucleus" if nucleus_only else "draw cell"
        self.points: list[QPointF] = []
        self.nucleus_of: int | None = None  # the cell whose nucleus is drawn now
        self._hover: QPointF | None = None

    def activate(self, viewer) -> None:
        super().activate(viewer)
        self.session.message.emit(self._prompt())

    def reset(self) -> None:
        self.points.clear()
        self._hover = None
        if not self.nucleus_only:
            self.nucleus_of = None

    def cells_changed(self) -> None:
        record = self.record
        present = set() if record is None else {cell.index for cell in record.cells}
        if self.nucleus_of is not None and self.nucleus_of not in present:
            self.nucleus_of = None
            self.points.clear()
        self.repaint()

    def _prompt(self) -> str:
        if self.nucleus_of is not None:
            return (
                f"Click around the nucleus of cell {self.nucleus_of}; Enter or a "
                "double click closes it"
                + ("." if self.nucleus_only else ", Esc leaves the cell without one.")
            )
        if self.nucleus_only:
            return "Click the cell whose nucleus to redraw."
        return (
            "Click around the new cell; Enter or a double click closes it, "
            "Backspace takes a point back, Esc cancels."
        )

    def _target(self) -> int | None:
        """The cell whose nucleus the points are for, in nucleus-only mode the one
        selected."""
        if self.nucleus_only:
            cells = self.selected_cells()
            self.nucleus_of = cells[0].index if len(cells) == 1 else None
        return self.nucleus_of

    # -- mouse and keys ----------------------------------------------------------------

    def mouse_press(self, event: ToolEvent) -> bool:
        if event.button == Qt.MouseButton.LeftButton and self.session.editable:
            self._pressed_at = event.view_pos
        return False  # a drag pans the view while drawing

    def mouse_move(self, event: ToolEvent) -> bool:
        self._hover = self.clamp(event.image_pos)
        if self.points:
            self.repaint()
        return False

    def mouse_release(self, event: ToolEvent) -> bool:
        pressed_at, self._pressed_at = self._pressed_at, None
        if pressed_at is None or event.button != Qt.MouseButton.LeftButton:
            return False
        if (event.view_pos - pressed_at).manhattanLength() > CLICK_TRAVEL_PX:
            return False
        point = self.clamp(event.image_pos)
        if self.nucleus_only and self._target() is None:
            self.viewer.select_at(point)
            self.session.message.emit(self._prompt() if self._target() else "")
            return True
        if len(self.points) >= 3 and self._near_first(point):
            self.close_outline()
            return True
        self.points.append(point)
        self.repaint()
        return True

    def mouse_double_click(self, event: ToolEvent) -> bool:
        if event.button != Qt.MouseButton.LeftButton or not self.points:
            return False
        point = self.clamp(event.image_pos)
        last = self.points[-1]
        reach = self.tolerance()
        # A double click's first click has usually added its point already.
        if abs(point.x() - last.x()) > reach or abs(point.y() - last.y()) > reach:
            self.points.append(point)
        self.close_outline()
        return True

    def key_press(self, event: ToolEvent) -> bool:
        if event.key in CLOSING_KEYS and self.points:
            self.close_outline()
        elif event.key == Qt.Key.Key_Backspace and self.points:
            self.points.pop()
        elif event.key == Qt.Key.Key_Escape:
            self._cancel()
        else:
            return False
        self.repaint()
        return True

    def _near_first(self, point: QPointF) -> bool:
        first = self.points[0]
        reach = self.tolerance()
        return (
            abs(point.x() - first.x()) <= reach and abs(point.y() - first.y()) <= reach
        )

    def _cancel(self) -> None:
        if self.points:
            self.points.clear()
            self.session.message.emit("Drawing cancelled. " + self._prompt())
        elif self.nucleus_of is not None and not self.nucleus_only:
            left = self.nucleus_of
            self.nucleus_of = None
            self.session.message.emit(
                f"Cell {left} has no nucleus; draw one later with Redraw nucleus (N)."
            )

    # -- the edits ---------------------------------------------------------------------

    def close_outline(self) -> None:
        """Make the outline drawn so far a cell, or the nucleus of the cell."""
        record = self.record
        if record is None or not self.points:
            return
        vertices = [(point.x(), point.y()) for point in self.points]
        target = self._target()
        if target is None and self.nucleus_only:
            self.session.message.emit(self._prompt())
            return
        if target is None:
            edit = self.session.attempt(lambda: new_cell_edit(record, vertices))
            if edit is None:
                return
            self.points.clear()
            self.nucleus_of = edit.cell.index
            self.viewer.selection.select(record.key, (edit.cell.index,))
        else:
            had_nucleus = record.cell(target).nucleus is not None
            verb = "Redraw" if had_nucleus else "Draw"
            done = self.session.attempt(
                lambda: outline_edit(record, target, "nucleus", vertices),
                f"{verb} the nucleus of cell {target}",
            )
            if done is None:
                return
            self.points.clear()
            if not self.nucleus_only:
                self.nucleus_of = None
        self.session.message.emit(self._prompt())
        self.repaint()

    # -- drawing -----------------------------------------------------------------------

    def paint(self, painter: QPainter, zoom: float) -> None:
        if not self.points:
            return
        colour = NUCLEUS_COLOUR if self.nucleus_of is not None else CELL_COLOUR
        painter.setBrush(Qt.BrushStyle.NoBrush)
        line = list(self.points) + ([self._hover] if self._hover is not None else [])
        painter.setPen(cosmetic_pen(QColor(0, 0, 0, 170), 3.5))
        painter.drawPolyline(polygon([(p.x(), p.y()) for p in line]))
        painter.setPen(cosmetic_pen(colour, 1.8))
        painter.drawPolyline(polygon([(p.x(), p.y()) for p in line]))
        radius = POINT_PX / zoom / 2
        painter.setBrush(colour)
        painter.setPen(cosmetic_pen(QColor(0, 0, 0), 1.0))
        for index, point in enumerate(self.points):
            scale = 1.8 if index == 0 else 1.0  # the first point closes the outline
            painter.drawEllipse(
                QRectF(
                    point.x() - radius * scale,
                    point.y() - radius * scale,
                    2 * radius * scale,
                    2 * radius * scale,
                )
            )
