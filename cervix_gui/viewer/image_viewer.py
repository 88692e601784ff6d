"""The viewer of one image: its pixels, its cells' outlines, and why it is missing
when it cannot be shown."""

from __future__ import annotations

import logging

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QImage, QPen, QPixmap
from PySide6.QtWidgets import (
    QGraphicsPixmapItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from cervix_gui.palette import ClassPalette
from cervix_gui.viewer.cell_outlines import CellOutlineLayer
from cervix_gui.viewer.zoomable_view import ZoomableView
from engine.annotations import ImageRecord

log = logging.getLogger(__name__)

PLACEHOLDER = QColor("#45474d")  # where the image would be, until it is loaded
# Beyond this zoom the pixels are shown as squares, as a reviewer zooming in on
# a nucleus expects, rather than blurred.
SHARP_PIXELS_FROM_ZOOM = 2.0


class ImageViewer(QWidget):
    """Shows an image record: a frame of its size at once, its outlines, and its
    pixels when they arrive through `set_pixels`."""

    zoom_changed = Signal(float)
    cursor_moved = Signal(object)  # QPointF in image pixels, or None

    def __init__(self, parent=None):
        super().__init__(parent)
        self.scene = QGraphicsScene(self)
        self.frame_item = QGraphicsRectItem()
        self.frame_item.setBrush(QBrush(PLACEHOLDER))
        self.frame_item.setPen(QPen(Qt.PenStyle.NoPen))
        self.frame_item.setZValue(-1.0)
        self.image_item = QGraphicsPixmapItem()
        self.image_item.setTransformationMode(
            Qt.TransformationMode.SmoothTransformation
        )
        self.outlines = CellOutlineLayer(z_value=10.0)
        for item in (self.frame_item, self.image_item, self.outlines):
            self.scene.addItem(item)

        self.view = ZoomableView(self.scene, self)
        self.message = QLabel(self)
        self.message.setObjectName("viewerMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(
            "#viewerMessage { background: #5c1f24; color: #ffffff; padding: 6px 10px; }"
        )
        self.message.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.message)
        layout.addWidget(self.view)

        self._record: ImageRecord | None = None
        self.view.zoom_changed.connect(self._on_zoom)
        self.view.cursor_moved.connect(self.cursor_moved)

    @property
    def record(self) -> ImageRecord | None:
        """The image shown, or None."""
        return self._record

    @property
    def has_pixels(self) -> bool:
        return not self.image_item.pixmap().isNull()

    def show_image(self, record: ImageRecord, palette: ClassPalette) -> None:
        """Show `record`'s frame and outlines now; its pixels follow by `set_pixels`."""
        self._record = record
        self.message.hide()
        self.image_item.setPixmap(QPixmap())
        width, height = record.size or self._outline_extent(record)
        rect = QRectF(0, 0, width, height)
        self.frame_item.setRect(rect)
        self.outlines.show_cells(record.cells, palette)
        self.view.set_content(rect)

    def set_pixels(self, key: str, image: QImage) -> None:
        """The pixels of image `key`; ignored if another image is shown by now."""
        if self._record is None or key != self._record.key:
            return
        if image.size() != self.frame_item.rect().size().toSize():
            log.warning(
                "Image %r is %dx%d on disk, not %s as when the dataset was opened",
                key,
                image.width(),
                image.height(),
                self._record.size,
            )
        self.image_item.setPixmap(QPixmap.fromImage(image))

    def show_failure(self, key: str, message: str) -> None:
        """Say in the viewer why image `key` cannot be shown; its outlines stay."""
        if self._record is None or key != self._record.key:
            return
        self.image_item.setPixmap(QPixmap())
        self.message.setText(f"This image cannot be shown. {message}")
        self.message.show()

    def clear(self) -> None:
        """Show nothing: no dataset, or a dataset without images."""
        self._record = None
        self.message.hide()
        self.image_item.setPixmap(QPixmap())
        self.frame_item.setRect(QRectF())
        self.outlines.clear()

    def _on_zoom(self, zoom: float) -> None:
        sharp = zoom >= SHARP_PIXELS_FROM_ZOOM
        self.image_item.setTransformationMode(
            Qt.TransformationMode.FastTransformation
            if sharp
            else Qt.TransformationMode.SmoothTransformation
        )
        self.zoom_changed.emit(zoom)

    @staticmethod
    def _outline_extent(record: ImageRecord) -> tuple[float, float]:
        """The size to frame when the image's own size is unknown."""
        if not record.cells:
            return 1.0, 1.0
        right = max(cell.bounds[2] for cell in record.cells)
        bottom = max(cell.bounds[3] for cell in record.cells)
        return right + 1.0, bottom + 1.0
