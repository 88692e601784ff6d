"""A graphics view that pans (drag, arrow keys, Space-drag), zooms with the wheel
around the cursor, fits its content or shows it pixel for pixel, and hands
mouse and key events over the image to the active viewer tool (see tools.py)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter
from PySide6.QtWidgets import QGraphicsScene, QGraphicsView

from cervix_gui.viewer.tools import PanSelectTool, ToolEvent, ViewerTool

BACKGROUND = QColor("#2b2d31")
WHEEL_STEP = 1.25  # zoom factor of one wheel notch
KEY_STEP = 1.5  # zoom factor of the zoom in / zoom out actions
MAX_ZOOM = 32.0  # screen pixels per image pixel
MIN_ZOOM_OF_FIT = 0.25  # zooming out stops at a quarter of the fitted size
ARROW_STEP = 0.125  # an arrow key pans by this share of the window


class ZoomableView(QGraphicsView):
    """The view of an image: pan, zoom around the cursor, fit, 1:1."""

    zoom_changed = Signal(float)  # screen pixels per image pixel
    cursor_moved = Signal(object)  # QPointF in image pixels, or None when away
    view_changed = Signal()  # the visible part of the image moved or zoomed

    def __init__(self, scene: QGraphicsScene, parent=None):
        super().__init__(scene, parent)
        self._content = QRectF()
        self._fitting = False
        self._space_held = False
        self._panning_for_space = False
        self.tool: ViewerTool = PanSelectTool()
        self.foreground_painters = []  # callables(painter, zoom) drawn over the image
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setOptimizationFlag(
            QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing, True
        )
        self.horizontalScrollBar().valueChanged.connect(self.view_changed)
        self.verticalScrollBar().valueChanged.connect(self.view_changed)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setRenderHints(
            QPainter.RenderHint.Antialiasing | QPainter.RenderHint.SmoothPixmapTransform
        )
        # Every layer draws only what is visible, so repainting the whole
        # viewport costs little and never leaves a stale strip.
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
        self.setBackgroundBrush(BACKGROUND)
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self.viewport().setMouseTracking(True)

    # -- what is shown ---------------------------------------------------------

    def set_content(self, rect: QRectF) -> None:
        """Show `rect` (the image, in its pixels) and fit it into the window."""
        self._content = QRectF(rect)
        # A margin of one image on each side lets any point of the image be
        # brought under the cursor or to the centre, even at its edges.
        margin = max(rect.width(), rect.height())
        self.setSceneRect(rect.adjusted(-margin, -margin, margin, margin))
        self.fit()

    def content(self) -> QRectF:
        return QRectF(self._content)

    def is_fitting(self) -> bool:
        """Whether the view follows the window's size (after fit, until a zoom)."""
        return self._fitting

    def zoom(self) -> float:
        """Screen pixels per image pixel."""
        return self.transform().m11()

    def visible_rect(self) -> QRectF:
        """The part of the scene the viewport shows, in image pixels."""
        return self.mapToScene(self.viewport().rect()).boundingRect()

    # -- zooming ---------------------------------------------------------------

    def fit(self) -> None:
        """Zoom so the whole image fits the window, centred."""
        if self._content.isEmpty():
            return
        self.fitInView(self._content, Qt.AspectRatioMode.KeepAspectRatio)
        self._fitting = True
        self.zoom_changed.emit(self.zoom())
        self.view_changed.emit()

    def actual_size(self) -> None:
        """One screen pixel per image pixel, keeping the centre of the view."""
        centre = self.mapToScene(self.viewport().rect().center())
        self.resetTransform()
        self.centerOn(centre)
        self._fitting = False
        self.zoom_changed.emit(self.zoom())
        self.view_changed.emit()

    def zoom_in(self) -> None:
        self.zoom_by(KEY_STEP, self.viewport().rect().center())

    def zoom_out(self) -> None:
        self.zoom_by(1.0 / KEY_STEP, self.viewport().rect().center())

    def minimum_zoom(self) -> float:
        if self._content.isEmpty():
            return MIN_ZOOM_OF_FIT
        viewport = self.viewport().rect()
        fitted = min(
            viewport.width() / max(self._content.width(), 1.0),
            viewport.height() / max(self._content.height(), 1.0),
        )
        return min(fitted * MIN_ZOOM_OF_FIT, 1.0)

    def zoom_by(self, factor: float, anchor: QPoint) -> None:
        """Zoom by `factor`, keeping the image point under `anchor` (viewport
        pixels) where it is."""
        current = self.zoom()
        wanted = min(max(current * factor, self.minimum_zoom()), MAX_ZOOM)
        if wanted == current:
            return
        anchored = self.mapToScene(anchor)
        self.scale(wanted / current, wanted / current)
        drift = self.mapFromScene(anchored) - anchor
        horizontal, vertical = self.horizontalScrollBar(), self.verticalScrollBar()
        horizontal.setValue(horizontal.value() + drift.x())
        vertical.setValue(vertical.value() + drift.y())
        self._fitting = False
        self.zoom_changed.emit(self.zoom())
        self.view_changed.emit()

    def set_zoom(self, zoom: float) -> None:
        """Show the image at `zoom` screen pixels per image pixel, same centre."""
        self.zoom_by(zoom / self.zoom(), self.viewport().rect().center())

    def centre_on(self, point: QPointF) -> None:
        """Bring an image point to the middle of the window."""
        self.centerOn(point)
        self._fitting = False
        self.view_changed.emit()

    def pan_by(self, dx: float, dy: float) -> None:
        """Move the view by (dx, dy) screen pixels."""
        horizontal, vertical = self.horizontalScrollBar(), self.verticalScrollBar()
        horizontal.setValue(round(horizontal.value() + dx))
        vertical.setValue(round(vertical.value() + dy))
        self._fitting = False

    # -- tools -----------------------------------------------------------------

    def set_tool(self, tool: ViewerTool) -> None:
        """Hand mouse and key events over the image to `tool`."""
        self.tool = tool
        self.viewport().setCursor(tool.cursor)

    def _tool_event(self, event, key: int = 0) -> ToolEvent:
        if key:
            position = self.viewport().mapFromGlobal(self.cursor().pos())
            button = buttons = Qt.MouseButton.NoButton
        else:
            position = event.position().toPoint()
            button, buttons = event.button(), event.buttons()
        return ToolEvent(
            QPointF(self.mapToScene(position)),
            position,
            button,
            buttons,
            event.modifiers(),
            key,
        )

    def _pans_regardless(self, event) -> bool:
        return self._space_held or event.button() == Qt.MouseButton.MiddleButton

    def mousePressEvent(self, event) -> None:
        if self._pans_regardless(event):
            self._panning_for_space = True
            if event.button() == Qt.MouseButton.MiddleButton:
                # QGraphicsView's hand drag listens to the left button only.
                event = _as_left_button(event)
            super().mousePressEvent(event)
            return
        if self.tool.mouse_press(self._tool_event(event)):
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if self._panning_for_space:
            self._panning_for_space = False
            super().mouseReleaseEvent(_as_left_button(event))
            return
        if self.tool.mouse_release(self._tool_event(event)):
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event) -> None:
        key = event.key()
        if key == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
            return
        if self.tool.key_press(self._tool_event(event, key=key)):
            event.accept()
            return
        step_x = self.viewport().width() * ARROW_STEP
        step_y = self.viewport().height() * ARROW_STEP
        moves = {
            Qt.Key.Key_Left: (-step_x, 0),
            Qt.Key.Key_Right: (step_x, 0),
            Qt.Key.Key_Up: (0, -step_y),
            Qt.Key.Key_Down: (0, step_y),
        }
        if key in moves:
            self.pan_by(*moves[key])
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = False
            self.viewport().setCursor(self.tool.cursor)
            event.accept()
            return
        super().keyReleaseEvent(event)

    def drawForeground(self, painter, rect) -> None:
        super().drawForeground(painter, rect)
        zoom = self.zoom()
        self.tool.paint(painter, zoom)
        for draw in self.foreground_painters:
            draw(painter, zoom)

    # -- events ----------------------------------------------------------------

    def wheelEvent(self, event) -> None:
        notches = event.angleDelta().y() / 120.0
        if notches == 0:
            event.ignore()
            return
        self.zoom_by(WHEEL_STEP**notches, event.position().toPoint())
        event.accept()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._fitting:
            self.fit()

    def mouseMoveEvent(self, event) -> None:
        if not self._panning_for_space and self.tool.mouse_move(
            self._tool_event(event)
        ):
            event.accept()
        else:
            if (
                self._panning_for_space
                and event.buttons() & Qt.MouseButton.MiddleButton
            ):
                event = _as_left_button(event)
            super().mouseMoveEvent(event)
            if event.buttons() & Qt.MouseButton.LeftButton:
                self._fitting = False  # the user moved the image: keep it there
        self.cursor_moved.emit(QPointF(self.mapToScene(event.position().toPoint())))

    def leaveEvent(self, event) -> None:
        super().leaveEvent(event)
        self.cursor_moved.emit(None)


def _as_left_button(event) -> QMouseEvent:
    """The same mouse event as if made with the left button (for hand dragging)."""
    buttons = event.buttons()
    if buttons & Qt.MouseButton.MiddleButton:
        buttons = (buttons & ~Qt.MouseButton.MiddleButton) | Qt.MouseButton.LeftButton
    button = event.button()
    if button == Qt.MouseButton.MiddleButton:
        button = Qt.MouseButton.LeftButton
    return QMouseEvent(
        event.type(),
        event.position(),
        event.globalPosition(),
        button,
        buttons,
        event.modifiers(),
    )
