"""The editing tool for outlines that are nearly right: select cells, drag a vertex,
add one on an edge, delete vertices, move whole cells.

Gestures, on the cells selected: drag a vertex handle to move it; click a handle
to choose it (Ctrl or Shift: add more) and press Delete, or right-click a handle,
to delete vertices; double-click or Ctrl+click an edge to insert a vertex there;
drag inside a selected cell to move it (and every other selected cell) with its
nucleus. Shift+drag on empty image draws a box that selects the cells inside it.
A click selects a cell as in the viewer; a drag anywhere else pans.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QPainter

from cervix_gui.editing.box_select_tool import ADDING, RubberBand, select_in_box
from cervix_gui.editing.tool_base import (
    EditingTool,
    as_array,
    paint_handles,
    paint_preview,
    polygon,
)
from cervix_gui.viewer.tools import CLICK_TRAVEL_PX, ToolEvent
from engine.annotations.cell_json import PARTS
from engine.annotations.edit_tools import move_cell_edit, outline_edit
from engine.annotations.edits import EditGroup
from engine.annotations.geometry import (
    delete_vertices,
    insert_vertex,
    move_vertex,
    nearest_edge,
    nearest_vertex,
)

MAX_HANDLE_CELLS = 12  # more selected cells than this: no handles, too crowded
Vertex = tuple[int, str, int]  # cell index, part, vertex index


def _part_words(part: str) -> str:
    return "nucleus vertex" if part == "nucleus" else "vertex"


@dataclass
class _Drag:
    """A drag under way: of one vertex (`vertex`), or of the selected cells."""

    view_start: QPoint
    start: QPointF
    point: QPointF
    vertex: Vertex | None = None
    cells: tuple[int, ...] = ()

    def moved(self, event: ToolEvent) -> bool:
        return (event.view_pos - self.view_start).manhattanLength() > CLICK_TRAVEL_PX


class VertexTool(EditingTool):
    """Select cells and correct their outlines vertex by vertex."""

    name = "edit outlines"
    cursor = Qt.CursorShape.ArrowCursor

    def __init__(self, session, proposals=None):
        super().__init__(session)
        self.proposals = proposals
        self.chosen: set[Vertex] = set()
        self._drag: _Drag | None = None
        self._band: RubberBand | None = None

    def reset(self) -> None:
        self._drag = self._band = None
        self.chosen.clear()

    def cells_changed(self) -> None:
        present = {cell.index: cell for cell in self.selected_cells()}
        self.chosen = {
            (cell, part, index)
            for cell, part, index in self.chosen
            if cell in present
            and getattr(present[cell], part) is not None
            and index < len(getattr(present[cell], part))
        }
        self.repaint()

    # -- finding what is under the cursor ---------------------------------------------

    def _handle_cells(self) -> list:
        cells = self.selected_cells() if self.session.editable else []
        return cells if len(cells) <= MAX_HANDLE_CELLS else []

    def _nearest(self, point: QPointF, measure) -> Vertex | None:
        """The (cell, part, vertex or edge) nearest to `point` within reach."""
        target, reach = as_array(point), self.tolerance()
        best, best_distance = None, reach
        for cell in self._handle_cells():
            for part in PARTS:
                outline = getattr(cell, part)
                if outline is None or len(outline) < 3:
                    continue
                index, distance = measure(outline, target)
                if distance <= best_distance:
                    best, best_distance = (cell.index, part, index), distance
        return best

    def handle_at(self, point: QPointF) -> Vertex | None:
        return self._nearest(point, nearest_vertex)

    def edge_at(self, point: QPointF) -> Vertex | None:
        return self._nearest(point, nearest_edge)

    def _selected_cell_at(self, point: QPointF) -> int | None:
        for cell in reversed(self.selected_cells()):
            if polygon(cell.cytoplasm).containsPoint(point, Qt.FillRule.OddEvenFill):
                return cell.index
        return None

    # -- mouse -------------------------------------------------------------------------

    def mouse_press(self, event: ToolEvent) -> bool:
        if self.record is None:
            return False
        point = event.image_pos
        if event.button == Qt.MouseButton.RightButton:
            handle = self.handle_at(point) if self.session.editable else None
            if handle is None:
                return False
            self._delete_vertices({handle})
            return True
        if event.button != Qt.MouseButton.LeftButton:
            return False
        adding = bool(event.modifiers & ADDING)
        if self.session.editable:
            handle = self.handle_at(point)
            if handle is not None:
                if adding:
                    self.chosen ^= {handle}
                else:
                    if handle not in self.chosen:
                        self.chosen = {handle}
                    self._drag = _Drag(event.view_pos, point, point, vertex=handle)
                self.repaint()
                return True
            if event.modifiers & Qt.KeyboardModifier.ControlModifier:
                edge = self.edge_at(point)
                if edge is not None:
                    self._insert_vertex(edge, point)
                    return True
            inside = self._selected_cell_at(point)
            if inside is not None and not adding:
                cells = tuple(cell.index for cell in self.selected_cells())
                self._drag = _Drag(event.view_pos, point, point, cells=cells)
                return True
        if event.modifiers & Qt.KeyboardModifier.ShiftModifier:
            self._band = RubberBand(point, event.view_pos)
            return True
        self.chosen.clear()
        self.repaint()
        return super().mouse_press(event)

    def mouse_move(self, event: ToolEvent) -> bool:
        if self._drag is not None:
            self._drag.point = self.clamp(event.image_pos)
            self.repaint()
            return True
        if self._band is not None:
            self._band.end = QPointF(event.image_pos)
            self.repaint()
            return True
        self._show_cursor(event.image_pos)
        return False

    def mouse_release(self, event: ToolEvent) -> bool:
        drag, self._drag = self._drag, None
        band, self._band = self._band, None
        if drag is not None:
            drag.point = self.clamp(event.image_pos)
            if drag.moved(event):
                self._finish_drag(drag)
            elif drag.cells:
                # A click inside a selected cell selects that cell alone.
                self._select_at(event.image_pos, extend=False)
            self.repaint()
            return True
        if band is not None:
            if band.is_click(event):
                self._select_at(event.image_pos, extend=True)
            else:
                band.end = QPointF(event.image_pos)
                select_in_box(self.viewer, band.rect(), adding=True)
            self.repaint()
            return True
        pressed_at, self._pressed_at = self._pressed_at, None
        if pressed_at is None or event.button != Qt.MouseButton.LeftButton:
            return False
        if (event.view_pos - pressed_at).manhattanLength() <= CLICK_TRAVEL_PX:
            self._select_at(event.image_pos, extend=bool(event.modifiers & ADDING))
        return False

    def mouse_double_click(self, event: ToolEvent) -> bool:
        if event.button != Qt.MouseButton.LeftButton or not self.session.editable:
            return False
        edge = self.edge_at(event.image_pos)
        if edge is None:
            return False
        self._insert_vertex(edge, event.image_pos)
        return True

    def key_press(self, event: ToolEvent) -> bool:
        if event.key != Qt.Key.Key_Escape:
            return False
        if self._drag is not None or self._band is not None:
            self._drag = self._band = None
        elif self.chosen:
            self.chosen.clear()
        elif self.viewer is not None:
            self.viewer.selection.clear()
            if self.proposals is not None:
                self.proposals.clear_selection()
        self.repaint()
        return True

    def _select_at(self, point: QPointF, extend: bool) -> None:
        self.viewer.select_at(point, extend=extend)
        if self.proposals is None:
            return
        if self.viewer.cell_at(point) is None and not extend:
            self.proposals.select_at(point)
        else:
            self.proposals.clear_selection()

    def _show_cursor(self, point: QPointF) -> None:
        if self.viewer is None or not self.session.editable:
            return
        if self.handle_at(point) is not None:
            shape = Qt.CursorShape.CrossCursor
        elif self._selected_cell_at(point) is not None:
            shape = Qt.CursorShape.SizeAllCursor
        else:
            shape = self.cursor
        self.viewer.view.viewport().setCursor(shape)

    # -- edits -------------------------------------------------------------------------

    def _outline(self, cell_index: int, part: str) -> np.ndarray:
        return getattr(self.record.cell(cell_index), part)

    def _finish_drag(self, drag: _Drag) -> None:
        record = self.record
        if drag.vertex is not None:
            cell, part, index = drag.vertex
            moved = move_vertex(self._outline(cell, part), index, as_array(drag.point))
            self.session.attempt(
                lambda: outline_edit(record, cell, part, moved),
                f"Move {_part_words(part)} of cell {cell}",
            )
            self.cells_changed()
            return
        dx, dy = drag.point.x() - drag.start.x(), drag.point.y() - drag.start.y()
        cells = drag.cells
        text = (
            f"Move cell {cells[0]}" if len(cells) == 1 else f"Move {len(cells)} cells"
        )
        self.session.attempt(
            lambda: EditGroup(
                [move_cell_edit(record, cell, dx, dy) for cell in cells], text
            ),
            text,
        )

    def _insert_vertex(self, edge: Vertex, point: QPointF) -> None:
        cell, part, edge_index = edge
        record = self.record
        outline = insert_vertex(
            self._outline(cell, part), edge_index, as_array(self.clamp(point))
        )
        done = self.session.attempt(
            lambda: outline_edit(record, cell, part, outline),
            f"Insert {_part_words(part)} in cell {cell}",
        )
        if done is not None:
            self.chosen = {(cell, part, edge_index + 1)}
            self.cells_changed()

    def delete_selection(self) -> bool:
        if not self.chosen:
            return False
        self._delete_vertices(self.chosen)
        return True

    def _delete_vertices(self, vertices: set[Vertex]) -> None:
        record = self.record
        by_outline: dict[tuple[int, str], list[int]] = {}
        for cell, part, index in sorted(vertices):
            by_outline.setdefault((cell, part), []).append(index)
        cells = sorted({cell for cell, _ in by_outline})
        count = len(vertices)
        noun = "vertex" if count == 1 else f"{count} vertices"
        if len(cells) == 1:
            text = f"Delete {noun} of cell {cells[0]}"
        else:
            text = f"Delete {noun} of {len(cells)} cells"

        def build() -> EditGroup:
            edits = [
                outline_edit(
                    record,
                    cell,
                    part,
                    delete_vertices(self._outline(cell, part), indices),
                )
                for (cell, part), indices in by_outline.items()
            ]
            return EditGroup(edits, text)

        if self.session.attempt(build, text) is not None:
            self.chosen.clear()
        self.repaint()

    # -- drawing -----------------------------------------------------------------------

    def paint(self, painter: QPainter, zoom: float) -> None:
        drag = self._drag
        if drag is not None and drag.point != drag.start:
            self._paint_drag(painter, drag)
        for cell in self._handle_cells():
            for part in PARTS:
                outline = getattr(cell, part)
                if outline is None:
                    continue
                chosen = [i for c, p, i in self.chosen if c == cell.index and p == part]
                paint_handles(painter, outline, zoom, chosen)
        if self._band is not None:
            self._band.paint(painter)

    def _paint_drag(self, painter: QPainter, drag: _Drag) -> None:
        if drag.vertex is not None:
            cell, part, index = drag.vertex
            outline = move_vertex(
                self._outline(cell, part), index, as_array(drag.point)
            )
            paint_preview(painter, outline)
            return
        dx, dy = drag.point.x() - drag.start.x(), drag.point.y() - drag.start.y()
        for cell in self.selected_cells():
            for part in PARTS:
                outline = getattr(cell, part)
                if outline is not None:
                    paint_preview(painter, outline + np.array([dx, dy]))
