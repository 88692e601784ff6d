"""Viewer tools: what a mouse press on the image does.

The view hands every mouse press, move and release over the image, and every
key press, to its active tool as a `ToolEvent` in image pixels. A tool returns
True when it used the event; otherwise the view pans (a drag) as usual.
Holding Space, or dragging with the middle button, always pans, whatever the
tool. A tool may also draw on top of the image in `paint` (image pixels;
`zoom` is screen pixels per image pixel, for lines of constant screen width).

The default tool, `PanSelectTool`, pans on drag and selects the cell under a
click (Ctrl or Shift adds to or takes from the selection; a click beside every
cell clears it). An editing tool subclasses `ViewerTool`, is given to
`ImageViewer.set_tool`, and reads and changes the selection through
`viewer.selection` (a `CellSelection`).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QPainter

CLICK_TRAVEL_PX = 4  # a press and release closer than this is a click, not a drag


@dataclass
class ToolEvent:
    """A mouse or key event over the viewer, with its position in image pixels."""

    image_pos: QPointF
    view_pos: QPoint
    button: Qt.MouseButton
    buttons: Qt.MouseButton
    modifiers: Qt.KeyboardModifier
    key: int = 0  # for key presses


class ViewerTool:
    """Does nothing: every event falls through to panning."""

    name = "none"
    cursor = Qt.CursorShape.OpenHandCursor

    def __init__(self):
        self.viewer = None

    def activate(self, viewer) -> None:
        """The tool becomes active in `viewer` (an ImageViewer)."""
        self.viewer = viewer

    def deactivate(self) -> None:
        self.viewer = None

    def mouse_press(self, event: ToolEvent) -> bool:
        return False

    def mouse_move(self, event: ToolEvent) -> bool:
        return False

    def mouse_release(self, event: ToolEvent) -> bool:
        return False

    def key_press(self, event: ToolEvent) -> bool:
        return False

    def paint(self, painter: QPainter, zoom: float) -> None:
        """Draw the tool's own marks (a rubber band, handles) over the image."""


class PanSelectTool(ViewerTool):
    """Drag to pan, click a cell to select it."""

    name = "pan/select"

    def __init__(self):
        super().__init__()
        self._pressed_at: QPoint | None = None

    def mouse_press(self, event: ToolEvent) -> bool:
        if event.button == Qt.MouseButton.LeftButton:
            self._pressed_at = QPoint(event.view_pos)
        return False  # the view pans while the button is held

    def mouse_release(self, event: ToolEvent) -> bool:
        pressed_at, self._pressed_at = self._pressed_at, None
        if pressed_at is None or event.button != Qt.MouseButton.LeftButton:
            return False
        travel = (event.view_pos - pressed_at).manhattanLength()
        if travel > CLICK_TRAVEL_PX or self.viewer is None:
            return False
        extend = bool(
            event.modifiers
            & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
        )
        self.viewer.select_at(event.image_pos, extend=extend)
        return False
