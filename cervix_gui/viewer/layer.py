"""An overlay layer of the viewer: a scene item that only groups its children.

Layers stack by z value, and each can be shown, hidden or faded on its own, so
later overlays (model masks, instances, class maps) add a layer each.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QGraphicsItem


class Layer(QGraphicsItem):
    """A named group of scene items; it draws nothing itself."""

    def __init__(self, name: str, z_value: float):
        super().__init__()
        self.name = name
        self.setZValue(z_value)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents)

    def boundingRect(self) -> QRectF:
        return QRectF()

    def paint(self, painter, option, widget=None) -> None:
        """Nothing to draw: the layer's children draw themselves."""

    def clear(self) -> None:
        """Remove every item of the layer from the scene."""
        scene = self.scene()
        for child in self.childItems():
            if scene is not None:
                scene.removeItem(child)
            else:
                child.setParentItem(None)
