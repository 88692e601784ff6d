"""A graphics view that pans by dragging, zooms with the wheel around the cursor,
and fits its content or shows it pixel for pixel."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QGraphicsScene, QGraphicsView

BACKGROUND = QColor("#2b2d31")
WHEEL_STEP = 1.25  # zoom factor of one wheel notch
KEY_STEP = 1.5  # zoom factor of the zoom in / zoom out actions
MAX_ZOOM = 32.0  # screen pixels per image pixel
MIN_ZOOM_OF_FIT = 0.25  # zooming out stops at a quarter of the fitted size


class ZoomableView(QGraphicsView):
    """The view of an image: pan, zoom around the cursor, fit, 1:1."""

    zoom_changed = Signal(float)  # screen pixels per image pixel
    cursor_moved = Signal(object)  # QPointF in image pixels, or None when away

    def __init__(self, scene: QGraphicsScene, parent=None):
        super().__init__(scene, parent)
        self._content = QRectF()
        self._fitting = False
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setRenderHints(
            QPainter.RenderHint.Antialiasing | QPainter.RenderHint.SmoothPixmapTransform
        )
        # Outlines keep their width on screen, so they reach past their item's
        # bounds when zoomed out; repainting the whole viewport avoids clipped
        # edges, and is cheap for a few hundred cells.
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

    def actual_size(self) -> None:
        """One screen pixel per image pixel, keeping the centre of the view."""
        centre = self.mapToScene(self.viewport().rect().center())
        self.resetTransform()
        self.centerOn(centre)
        self._fitting = False
        self.zoom_changed.emit(self.zoom())

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
        super().mouseMoveEvent(event)
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._fitting = False  # the user moved the image: keep it there
        self.cursor_moved.emit(QPointF(self.mapToScene(event.position().toPoint())))

    def leaveEvent(self, event) -> None:
        super().leaveEvent(event)
        self.cursor_moved.emit(None)
