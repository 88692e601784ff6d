"""An overlay layer of the viewer: one scene item that draws a whole kind of thing
(the image, the outlines of all cells, a model's mask) for the visible region.

Layers stack by z value and each is shown, hidden or faded on its own. A layer
that has nothing to show for this image (no predictions yet) says why, so the
layers dock can grey it out with that reason instead of showing an empty layer.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Signal
from PySide6.QtWidgets import QGraphicsItem, QGraphicsObject


class Layer(QGraphicsObject):
    """A named layer covering the image; subclasses paint the exposed part."""

    availability_changed = Signal()

    def __init__(self, name: str, title: str, z_value: float):
        super().__init__()
        self.name = name
        self.title = title
        self.setZValue(z_value)
        # Paint gets the exposed rectangle, so a layer draws only what is seen.
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)
        self._rect = QRectF()
        self._reason = ""

    def boundingRect(self) -> QRectF:
        return QRectF(self._rect)

    def set_extent(self, rect: QRectF) -> None:
        """The region the layer covers, in image pixels."""
        if rect != self._rect:
            self.prepareGeometryChange()
            self._rect = QRectF(rect)

    @property
    def available(self) -> bool:
        """Whether the layer has anything to show for the current image."""
        return not self._reason

    @property
    def unavailable_reason(self) -> str:
        """Why not, for a person to read; empty when available."""
        return self._reason

    def set_unavailable(self, reason: str) -> None:
        """Say why the layer has nothing to show; an empty reason makes it available."""
        if reason != self._reason:
            self._reason = reason
            self.availability_changed.emit()

    def busy(self) -> bool:
        """Whether the layer is still fetching what it will show."""
        return False

    @staticmethod
    def exposed_rect(painter, option) -> QRectF:
        """The part of the layer to draw, in image pixels: what Qt says is
        exposed, cut to what the painter's device can show (rendering a view
        into an image reports the whole item as exposed)."""
        device = painter.device()
        inverse, invertible = painter.worldTransform().inverted()
        if device is None or not invertible:
            return QRectF(option.exposedRect)
        shown = inverse.mapRect(QRectF(0, 0, device.width(), device.height()))
        return QRectF(option.exposedRect).intersected(shown)

    @staticmethod
    def zoom_of(painter) -> float:
        """Screen pixels per image pixel for the painter's current transform."""
        transform = painter.worldTransform()
        return max(abs(transform.m11()), abs(transform.m12()), 1e-9)
