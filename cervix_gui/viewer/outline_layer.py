"""A layer of cell outlines, however many: one scene item that draws the visible
cells, as vectors while they are few and from overlay tiles drawn in worker
threads while tens of thousands are in view, plus the selected cells on top.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPolygonF

from cervix_gui.viewer.layer import Layer
from cervix_gui.viewer.outline_drawing import OutlineStyle, cost, draw_cells
from cervix_gui.viewer.tiles import TiledPainter, TileProvider
from engine.images.cell_outlines import CellOutlines

VECTOR_BUDGET = 12000  # segments (or dots) drawn directly each frame
OVERLAY_TILE = 512
FINEST_POWER = -2  # overlay tiles go down to 4 screen pixels per image pixel
TILE_LINE_SCALE = 1.0  # tiles are drawn at 0.7 to 1.4 times their size
SELECTION_COLOUR = QColor(255, 255, 255)
_generations = itertools.count(1)


class OverlayTiles(TileProvider):
    """The outline layer as tiles at power-of-two downsamples, drawn by QPainter
    on QImages in worker threads."""

    def __init__(self, outlines: CellOutlines, style: OutlineStyle, size):
        self.outlines = outlines
        self.style = OutlineStyle(**{**style.__dict__})
        self.style.width *= TILE_LINE_SCALE
        self.style.nucleus_width *= TILE_LINE_SCALE
        self.style.badges = None
        self._size = (float(size[0]), float(size[1]))
        longest = max(self._size[0], self._size[1], 1.0)
        self._coarsest_power = max(math.ceil(math.log2(longest / OVERLAY_TILE)), 0)
        self.key = ("overlay", next(_generations))

    def _downsample(self, level: int) -> float:
        return 2.0 ** (level + FINEST_POWER)

    def size(self):
        return self._size

    def level_count(self) -> int:
        return self._coarsest_power - FINEST_POWER + 1

    def level_size(self, level: int):
        downsample = self._downsample(level)
        return (
            max(math.ceil(self._size[0] / downsample), 1),
            max(math.ceil(self._size[1] / downsample), 1),
        )

    def tile_size(self) -> int:
        return OVERLAY_TILE

    def level_for_zoom(self, zoom: float) -> int:
        # The level nearest the screen's resolution: tiles are drawn at 0.7
        # to 1.4 times their size, so few pixels are scaled and lines stay
        # about as wide as the vector ones.
        power = round(math.log2(1.0 / max(zoom, 1e-9)))
        return int(min(max(power - FINEST_POWER, 0), self.level_count() - 1))

    def render(self, level: int, tile_x: int, tile_y: int) -> QImage:
        rect = self.tile_rect(level, tile_x, tile_y)
        downsample = self._downsample(level)
        width = max(round(rect.width() / downsample), 1)
        height = max(round(rect.height() / downsample), 1)
        image = QImage(width, height, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.scale(1.0 / downsample, 1.0 / downsample)
        painter.translate(-rect.left(), -rect.top())
        # Lines of cells just outside the tile reach into it.
        margin = 4.0 * downsample
        draw_cells(
            painter,
            self.outlines,
            rect.adjusted(-margin, -margin, margin, margin),
            1.0 / downsample,
            self.style,
        )
        painter.end()
        return image


class OutlineLayer(Layer):
    """The outlines of one set of cells, coloured by class, with a selection."""

    def __init__(self, name: str, title: str, z_value: float):
        super().__init__(name, title, z_value)
        self.outlines: CellOutlines | None = None
        self.style: OutlineStyle | None = None
        self.selected_rows = np.empty(0, dtype=np.int64)
        self.tiles = TiledPainter(self._tile_arrived)
        self.last_mode = ""  # "vector" or "tiles": how the last frame was drawn

    def set_outlines(
        self,
        outlines: CellOutlines | None,
        style: OutlineStyle | None = None,
        extent: QRectF | None = None,
    ) -> None:
        """Show `outlines` (None: nothing) in `style` over `extent` (image pixels)."""
        self.outlines = outlines
        if style is not None:
            self.style = style
        self.selected_rows = np.empty(0, dtype=np.int64)
        if outlines is None or self.style is None:
            self.tiles.set_provider(None)
            self.set_extent(extent or QRectF())
        else:
            if extent is None or extent.isEmpty():
                extent = _extent_of(outlines)
            self.set_extent(extent)
            self.tiles.set_provider(
                OverlayTiles(outlines, self.style, (extent.right(), extent.bottom()))
            )
        self.update()

    def set_style(self, style: OutlineStyle) -> None:
        """Draw in `style` from now on."""
        self.style = style
        self.outlines_changed()

    def outlines_changed(self) -> None:
        """The cells' outlines or classes changed: redraw them everywhere."""
        if self.outlines is not None and self.style is not None:
            rect = self.boundingRect()
            self.tiles.set_provider(
                OverlayTiles(self.outlines, self.style, (rect.right(), rect.bottom()))
            )
        self.update()

    def set_selected_rows(self, rows) -> None:
        self.selected_rows = np.asarray(list(rows), dtype=np.int64)
        self.update()

    def cell_count(self) -> int:
        return 0 if self.outlines is None else len(self.outlines)

    def busy(self) -> bool:
        return self.tiles.busy()

    def paint(self, painter: QPainter, option, widget=None) -> None:
        outlines, style = self.outlines, self.style
        if outlines is None or style is None or len(outlines) == 0:
            return
        exposed = self.exposed_rect(painter, option)
        zoom = self.zoom_of(painter)
        rows = outlines.cytoplasm.query(
            exposed.left(), exposed.top(), exposed.right(), exposed.bottom()
        )
        if cost(outlines, rows, zoom) <= VECTOR_BUDGET:
            self.last_mode = "vector"
            draw_cells(painter, outlines, exposed, zoom, style, rows)
        else:
            self.last_mode = "tiles"
            # Overlay tiles are drawn at 0.7 to 1.4 times their size: nearest
            # pixels keep lines crisp, and cost a quarter of smoothing.
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
            self.tiles.paint(painter, exposed, zoom)
        if len(self.selected_rows):
            self._paint_selection(painter, outlines, zoom)

    def _paint_selection(self, painter, outlines, zoom) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for row in self.selected_rows.tolist():
            vertices = outlines.cytoplasm.outline(row)
            polygon = _polygon(vertices)
            halo = QPen(QColor(0, 0, 0, 200), 6.0)
            halo.setCosmetic(True)
            painter.setPen(halo)
            painter.drawPolygon(polygon)
            pen = QPen(SELECTION_COLOUR, 3.0)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.drawPolygon(polygon)
            colour = self.style.colour(int(outlines.class_codes[row]))
            inner = QPen(colour, 1.5)
            inner.setCosmetic(True)
            painter.setPen(inner)
            painter.drawPolygon(polygon)

    def _tile_arrived(self, rect: QRectF) -> None:
        self.update(rect)


def _polygon(vertices: np.ndarray) -> QPolygonF:
    return QPolygonF([QPointF(float(x), float(y)) for x, y in vertices])


def _extent_of(outlines: CellOutlines) -> QRectF:
    bounds = outlines.cytoplasm.bounds
    if len(bounds) == 0:
        return QRectF()
    return QRectF(0, 0, float(bounds[:, 2].max()) + 1, float(bounds[:, 3].max()) + 1)
