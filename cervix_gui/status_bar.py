"""The status bar: which dataset and image are shown, the zoom, and the cursor's
position in image pixels."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QLabel, QStatusBar

NO_VALUE = "\u2014"  # an em dash: nothing to show


class ViewerStatusBar(QStatusBar):
    """Permanent fields on the right, passing messages on the left."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.dataset_label = QLabel(NO_VALUE)
        self.image_label = QLabel(NO_VALUE)
        self.cells_label = QLabel(NO_VALUE)
        self.zoom_label = QLabel(NO_VALUE)
        self.cursor_label = QLabel(NO_VALUE)
        # Wide enough for the longest value, so the fields do not jump about
        # while the cursor moves.
        self.zoom_label.setMinimumWidth(
            self.fontMetrics().horizontalAdvance("Zoom 3200%")
        )
        self.cursor_label.setMinimumWidth(
            self.fontMetrics().horizontalAdvance("x 100000, y 100000")
        )
        for label in (
            self.dataset_label,
            self.image_label,
            self.cells_label,
            self.zoom_label,
            self.cursor_label,
        ):
            label.setContentsMargins(6, 0, 6, 0)
            self.addPermanentWidget(label)
        self._image_size: tuple[int, int] | None = None

    def show_dataset(self, name: str, synthetic: bool) -> None:
        self.dataset_label.setText(f"{name} (synthetic)" if synthetic else name)

    def show_image(self, size: tuple[int, int] | None, cell_count: int) -> None:
        self._image_size = size
        if size is None:
            self.image_label.setText(NO_VALUE)
        else:
            self.image_label.setText(f"{size[0]} \u00d7 {size[1]} px")
        self.cells_label.setText("1 cell" if cell_count == 1 else f"{cell_count} cells")

    def clear_image(self) -> None:
        self._image_size = None
        for label in (self.image_label, self.cells_label, self.zoom_label):
            label.setText(NO_VALUE)
        self.show_cursor(None)

    def show_zoom(self, zoom: float) -> None:
        self.zoom_label.setText(f"Zoom {zoom * 100:.0f}%")

    def show_cursor(self, point: QPointF | None) -> None:
        """The image pixel under the cursor; nothing when it is off the image."""
        if point is None or self._image_size is None:
            self.cursor_label.setText(NO_VALUE)
            return
        x, y = math.floor(point.x()), math.floor(point.y())
        width, height = self._image_size
        if 0 <= x < width and 0 <= y < height:
            self.cursor_label.setText(f"x {x}, y {y}")
        else:
            self.cursor_label.setText(NO_VALUE)
