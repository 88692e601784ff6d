"""The editing gestures one by one: inserting and deleting vertices, moving a whole
cell, box selection, redrawing a nucleus, and outlines that must stay valid
(snapped onto the image, refused with the reason when they cross themselves or
their nucleus lies outside)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, Qt

SHIFT = Qt.KeyboardModifier.ShiftModifier
CTRL = Qt.KeyboardModifier.ControlModifier
PIXEL = 0.5


def _undo_text(window) -> str:
    return window.editing.menu.undo.text().replace("&", "")


def test_vertices_inserted_on_edges_and_deleted(window, open_in, hands, small_dataset):
    open_in(small_dataset)
    cell = window.viewer.record.cell(1)
    count = len(cell.cytoplasm)
    # Zoomed in, as for any fine work: vertices lie far apart on the screen.
    window.viewer.view.set_zoom(6.0)
    window.viewer.view.centre_on(QPointF(60, 60))
    hands.click(60, 60)

    # A double click on the edge from vertex 0 to vertex 1 adds a vertex there.
    middle = (cell.cytoplasm[0] + cell.cytoplasm[1]) / 2
    hands.double_click(*middle)
    outline = window.viewer.record.cell(1).cytoplasm
    assert len(outline) == count + 1
    assert np.allclose(outline[1], middle, atol=PIXEL)
    assert _undo_text(window) == "Undo Insert vertex in cell 1"

    # Ctrl+click on another edge adds one too.
    middle = (outline[5] + outline[6]) / 2
    hands.click(*middle, modifier=CTRL)
    outline = window.viewer.record.cell(1).cytoplasm
    assert len(outline) == count + 2

    # Choose two vertices (click, Shift+click) and press Delete.
    hands.click(*outline[10])
    hands.click(*outline[12], modifier=SHIFT)
    hands.key(Qt.Key.Key_Delete)
    remaining = window.viewer.record.cell(1).cytoplasm
    assert len(remaining) == count
    assert not any(np.array_equal(vertex, outline[10]) for vertex in remaining)
    assert _undo_text(window) == "Undo Delete 2 vertices of cell 1"
    assert window.viewer.record.cells[0].index == 1  # the cell is still there

    # A right click on a handle deletes that vertex.
    hands.click(*remaining[3], button=Qt.MouseButton.RightButton)
    assert len(window.viewer.record.cell(1).cytoplasm) == count - 1


def test_dragging_inside_a_selected_cell_moves_it_with_its_nucleus(
    window, open_in, hands, small_dataset
):
    open_in(small_dataset)
    record = window.viewer.record
    cytoplasm, nucleus = record.cell(2).cytoplasm.copy(), record.cell(2).nucleus.copy()
    hands.click(150, 90)
    hands.drag((175, 85), (195, 95))  # beside the nucleus, not on its vertices
    moved = record.cell(2)
    shift = moved.cytoplasm - cytoplasm
    assert np.allclose(shift, shift[0], atol=0.02)  # moved as one piece
    assert np.allclose(shift[0], [20, 10], atol=PIXEL)
    assert np.allclose(moved.nucleus - nucleus, shift[0], atol=0.02)
    assert _undo_text(window) == "Undo Move cell 2"


def test_a_vertex_dragged_off_the_image_stays_on_its_edge(
    window, open_in, hands, small_dataset
):
    open_in(small_dataset)
    hands.click(60, 60)
    left = window.viewer.record.cell(1).cytoplasm[12]  # the cell's leftmost vertex
    hands.drag(left, (-25, left[1]))
    assert window.viewer.record.cell(1).cytoplasm[12][0] == 0


def test_a_box_selects_the_cells_wholly_inside_it(
    window, open_in, hands, small_dataset
):
    open_in(small_dataset)
    hands.drag((20, 20), (200, 140), modifier=SHIFT)  # Shift+drag in the edit tool
    assert window.viewer.selection.cells == (1, 2)

    hands.key(Qt.Key.Key_B)
    hands.drag((205, 120), (300, 210))
    assert window.viewer.selection.cells == (3,)
    hands.drag((205, 120), (300, 210), modifier=SHIFT)
    hands.drag((20, 20), (100, 100), modifier=SHIFT)
    assert set(window.viewer.selection.cells) == {1, 3}


def test_drawing_refuses_bad_outlines_and_redraws_a_nucleus(
    window, open_in, hands, small_dataset
):
    open_in(small_dataset)
    record = window.viewer.record
    count = len(record.cells)
    hands.key(Qt.Key.Key_D)
    hands.draw([(230, 30), (300, 100), (300, 30), (230, 100)])  # a bow tie
    assert len(record.cells) == count
    assert "crosses itself" in window.status.currentMessage()
    assert len(window.editing.tool.points) == 4
    assert not window.editing.menu.undo.isEnabled()

    # Backspace takes points back; the corrected outline becomes cell 4.
    for _ in range(3):
        hands.key(Qt.Key.Key_Backspace)
    hands.draw([(300, 30), (300, 100), (230, 100)])
    assert len(record.cells) == count + 1
    assert window.viewer.selection.cells == (4,)

    # A nucleus outside its cell is refused; Esc twice leaves the cell without one.
    hands.draw([(305, 40), (318, 40), (318, 90), (305, 90)])
    assert "outside its cell" in window.status.currentMessage()
    assert record.cell(4).nucleus is None
    hands.key(Qt.Key.Key_Escape)
    hands.key(Qt.Key.Key_Escape)
    assert "Cell 4 has no nucleus" in window.status.currentMessage()

    # Redraw nucleus (N) draws it for the selected cell, and again replaces it.
    hands.key(Qt.Key.Key_N)
    hands.draw([(250, 50), (270, 50), (270, 70), (250, 70)])
    assert np.allclose(record.cell(4).nucleus[0], [250, 50], atol=PIXEL)
    assert _undo_text(window) == "Undo Draw the nucleus of cell 4"
    hands.draw([(255, 60), (280, 60), (280, 80)])
    assert len(record.cell(4).nucleus) == 3
    assert _undo_text(window) == "Undo Redraw the nucleus of cell 4"


def test_escape_cancels_a_drawing(window, open_in, hands, small_dataset):
    open_in(small_dataset)
    count = len(window.viewer.record.cells)
    hands.key(Qt.Key.Key_D)
    for point in [(230, 30), (300, 30), (300, 100)]:
        hands.click(*point)
    hands.key(Qt.Key.Key_Escape)
    hands.key(Qt.Key.Key_Return)
    assert len(window.viewer.record.cells) == count
    assert window.editing.tool.points == []
