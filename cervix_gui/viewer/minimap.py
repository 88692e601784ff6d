"""The minimap of a slide: the whole slide small, from its coarsest pyramid level,
with the part in view outlined; a click or drag there moves the view."""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QWidget

from cervix_gui.viewer.tile_sources import rgb_image
from cervix_gui.workers import start_job
from engine.images import ImageSource

MINIMAP_FROM_PX = 4096  # any image at least this long on a side gets a minimap
SIDE_PX = 200  # the minimap's longest side
MARGIN_PX = 10


def overview(source: ImageSource) -> QImage:
    """The whole image, at most SIDE_PX long, from the coarsest level that will do."""
    levels = source.levels
    level = len(levels) - 1
    for index, candidate in enumerate(levels):
        if max(candidate.width, candidate.height) <= 4 * SIDE_PX:
            level = index
            break
    width, height = levels[level].width, levels[level].height
    pixels = source.read_region(level, 0, 0, width, height)
    scale = SIDE_PX / max(width, height)
    size = (max(round(width * scale), 1), max(round(height * scale), 1))
    return rgb_image(
        np.ascontiguousarray(cv2.resize(pixels, size, interpolation=cv2.INTER_AREA))
    )


def is_slide(source: ImageSource) -> bool:
    """A whole-slide file (stored as a pyramid of tiles) or any very large image."""
    stored_as_pyramid = source.level_count > 1 and not type(source).__name__.startswith(
        "OpenCV"
    )
    return stored_as_pyramid or max(source.size) >= MINIMAP_FROM_PX


class Minimap(QWidget):
    """Floats over the view's top-right corner; hidden for small images."""

    def __init__(self, view):
        super().__init__(view)
        self.view = view
        self.image: QImage | None = None
        self._image_size = (1.0, 1.0)
        self._job = None
        self._source_id = None
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("The whole slide; click or drag to move the view")
        self.hide()
        view.installEventFilter(self)
        view.view_changed.connect(self.update)

    def show_source(self, source: ImageSource | None, _cache) -> None:
        """Show the overview of `source` when it is slide-sized (None: hide)."""
        self.image = None
        self.hide()
        if source is None or not is_slide(source):
            self._source_id = None
            return
        self._source_id = source.source_id
        self._image_size = (float(source.size[0]), float(source.size[1]))
        wanted = source.source_id
        self._job = start_job(
            overview,
            source,
            on_finished=lambda image: self._on_overview(wanted, image),
            on_failed=lambda _message: None,  # the slide itself says what is wrong
        )

    def _on_overview(self, source_id, image: QImage) -> None:
        self._job = None
        if source_id != self._source_id:
            return
        self.image = image
        self.resize(image.width() + 4, image.height() + 4)
        self._place()
        self.show()
        self.raise_()

    def _place(self) -> None:
        viewport = self.view.viewport().geometry()
        self.move(
            viewport.right() - self.width() - MARGIN_PX, viewport.top() + MARGIN_PX
        )

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.view and event.type() == QEvent.Type.Resize:
            self._place()
        return False

    def view_rect(self) -> QRectF:
        """The part of the image in view, in minimap pixels."""
        scale = self._scale()
        visible = self.view.visible_rect()
        return QRectF(
            2 + visible.left() * scale,
            2 + visible.top() * scale,
            visible.width() * scale,
            visible.height() * scale,
        ).intersected(QRectF(self.rect()))

    def _scale(self) -> float:
        if self.image is None:
            return 1.0
        return self.image.width() / self._image_size[0]

    def paintEvent(self, event) -> None:
        if self.image is None:
            return
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(20, 20, 24, 200))
        painter.drawImage(QPointF(2, 2), self.image)
        painter.setPen(QPen(QColor("#ffd400"), 2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(self.view_rect())
        painter.end()

    def mousePressEvent(self, event) -> None:
        self._jump(event.position())

    def mouseMoveEvent(self, event) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._jump(event.position())

    def _jump(self, position: QPointF) -> None:
        scale = self._scale()
        self.view.centre_on(
            QPointF((position.x() - 2) / scale, (position.y() - 2) / scale)
        )
