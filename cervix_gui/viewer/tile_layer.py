"""A layer drawn from tiles: the image itself, the U-Net mask or a heatmap."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Signal
from PySide6.QtGui import QPainter

from cervix_gui.viewer.layer import Layer
from cervix_gui.viewer.tiles import TiledPainter, TileProvider

# Beyond this zoom pixels are shown as squares, as a reviewer zooming in on a
# nucleus expects, rather than blurred.
SHARP_PIXELS_FROM_ZOOM = 2.0


class TileLayer(Layer):
    """Shows a tile provider's picture, sharper tiles replacing coarse ones as
    they arrive from the worker threads."""

    tile_failed = Signal(str)  # why a tile cannot be shown, for a person

    def __init__(self, name: str, title: str, z_value: float):
        super().__init__(name, title, z_value)
        self.tiles = TiledPainter(self._tile_arrived, on_failed=self.tile_failed.emit)

    @property
    def provider(self) -> TileProvider | None:
        return self.tiles.provider

    def set_provider(self, provider: TileProvider | None) -> None:
        """Show `provider`'s picture (None: show nothing)."""
        self.tiles.set_provider(provider)
        if provider is None:
            self.set_extent(QRectF())
        else:
            width, height = provider.size()
            self.set_extent(QRectF(0, 0, width, height))
        self.update()

    def busy(self) -> bool:
        """Tiles on their way, or a picture shown that has not drawn yet."""
        tiles = self.tiles
        waiting = (
            self.isVisible()
            and tiles.provider is not None
            and tiles.cached_count() == 0
            and not tiles.failures
        )
        return waiting or tiles.busy()

    def paint(self, painter: QPainter, option, widget=None) -> None:
        zoom = self.zoom_of(painter)
        painter.setRenderHint(
            QPainter.RenderHint.SmoothPixmapTransform, zoom < SHARP_PIXELS_FROM_ZOOM
        )
        self.tiles.paint(painter, self.exposed_rect(painter, option), zoom)

    def _tile_arrived(self, rect: QRectF) -> None:
        self.update(rect)
