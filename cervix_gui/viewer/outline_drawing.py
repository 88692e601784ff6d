"""Drawing many cells at once with QPainter: segments gathered by numpy and handed
to Qt in one call per class colour, at the level of detail the zoom needs.

Used both on the GUI thread (a few thousand cells, drawn as vectors) and in
worker threads (tiles of the overlay when tens of thousands are in view).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt.internals import PrimitiveArray
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPen

from engine.images.cell_outlines import CellOutlines

DOT_BELOW_PX = 5.0  # a cell smaller than this on screen is drawn as a dot
NUCLEI_FROM_PX = 4.0  # nuclei are drawn once this big on screen
HALO_BELOW_SEGMENTS = 6000  # a dark edge under each line, while it is cheap
ANTIALIAS_BELOW_SEGMENTS = 4000
BADGES_BELOW_CELLS = 400
BADGE_FROM_PX = 70.0  # a cell this big on screen has room for its badge
HALO = QColor(0, 0, 0, 130)
# PySide6 holds the GIL through a QPainter call, so a worker drawing a tile of
# 100,000 segments in one call would stop the GUI thread meanwhile; in pieces
# of this size it lets the GUI thread in every millisecond or two.
SEGMENTS_PER_CALL = 4000
POLYGONS_PER_FILL = 300


@dataclass
class OutlineStyle:
    """How a layer draws its cells."""

    colours: list[QColor]  # per class code
    nucleus_colours: list[QColor] = field(default_factory=list)
    width: float = 2.0
    nucleus_width: float = 1.6
    fill_alpha: float = 0.0  # > 0: cells are filled in their class colour
    outline: bool = True
    nuclei: bool = True
    badges: list[str] | None = None  # per class code: the label of a badge
    dot_width: float = 3.0

    def colour(self, code: int) -> QColor:
        return self.colours[code] if code < len(self.colours) else QColor("#9e9e9e")

    def nucleus_colour(self, code: int) -> QColor:
        if code < len(self.nucleus_colours):
            return self.nucleus_colours[code]
        return self.colour(code).lighter(160)


def _pen(colour: QColor, width: float) -> QPen:
    pen = QPen(colour, width)
    pen.setCosmetic(True)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    # Square caps close the joints between separate segments, and cost a
    # third of round ones on the raster engine.
    pen.setCapStyle(Qt.PenCapStyle.SquareCap)
    return pen


def draw_segments(painter: QPainter, segments: np.ndarray) -> None:
    """Draw (n, 4) x1, y1, x2, y2 segments in one call."""
    if len(segments) == 0:
        return
    lines = PrimitiveArray(QLineF, 4)
    for start in range(0, len(segments), SEGMENTS_PER_CALL):
        piece = segments[start : start + SEGMENTS_PER_CALL]
        lines.resize(len(piece))
        lines.ndarray()[:] = piece
        painter.drawLines(*lines.drawargs())


def draw_points(painter: QPainter, points: np.ndarray) -> None:
    if len(points) == 0:
        return
    array = PrimitiveArray(QPointF, 2)
    for start in range(0, len(points), SEGMENTS_PER_CALL):
        piece = points[start : start + SEGMENTS_PER_CALL]
        array.resize(len(piece))
        array.ndarray()[:] = piece
        painter.drawPoints(*array.drawargs())


def cost(outlines: CellOutlines, rows: np.ndarray, zoom: float) -> int:
    """How many primitives drawing `rows` at `zoom` takes (a dot counts one)."""
    if outlines.cytoplasm.typical_size * zoom < DOT_BELOW_PX:
        return len(rows)
    detail = outlines.cytoplasm.detail_for(zoom)
    return outlines.cytoplasm.segment_count(rows, detail)


def draw_cells(
    painter: QPainter,
    outlines: CellOutlines,
    rect: QRectF,
    zoom: float,
    style: OutlineStyle,
    rows: np.ndarray | None = None,
) -> None:
    """Draw the cells whose boxes meet `rect` (image pixels), or just `rows`."""
    cytoplasm = outlines.cytoplasm
    if rows is None:
        rows = cytoplasm.query(rect.left(), rect.top(), rect.right(), rect.bottom())
    if len(rows) == 0:
        return
    codes = outlines.class_codes[rows]
    if cytoplasm.typical_size * zoom < DOT_BELOW_PX:
        _draw_dots(painter, outlines, rows, codes, style)
        return

    detail = cytoplasm.detail_for(zoom)
    segment_count = cytoplasm.segment_count(rows, detail)
    painter.setRenderHint(
        QPainter.RenderHint.Antialiasing, segment_count < ANTIALIAS_BELOW_SEGMENTS
    )
    if style.fill_alpha > 0:
        _fill(painter, outlines, rows, codes, detail, style)
    if style.outline:
        painter.setBrush(Qt.BrushStyle.NoBrush)
        segments = cytoplasm.segments(rows, detail)
        counts = cytoplasm.level(detail)[2][rows]
        segment_codes = np.repeat(codes, counts)
        if segment_count < HALO_BELOW_SEGMENTS:
            painter.setPen(_pen(HALO, style.width + 1.5))
            draw_segments(painter, segments)
        for code in np.unique(codes):
            painter.setPen(_pen(style.colour(int(code)), style.width))
            draw_segments(painter, segments[segment_codes == code])
    if style.nuclei:
        _draw_nuclei(painter, outlines, rect, zoom, style)
    if style.badges is not None and len(rows) < BADGES_BELOW_CELLS:
        if cytoplasm.typical_size * zoom >= BADGE_FROM_PX:
            _draw_badges(painter, outlines, rows, zoom, style)


def _draw_dots(painter, outlines, rows, codes, style) -> None:
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
    centres = outlines.cytoplasm.centroids[rows]
    for code in np.unique(codes):
        pen = QPen(style.colour(int(code)), style.dot_width)
        pen.setCosmetic(True)
        painter.setPen(pen)
        draw_points(painter, centres[codes == code])


def _fill(painter, outlines, rows, codes, detail, style) -> None:
    painter.setPen(Qt.PenStyle.NoPen)
    for code in np.unique(codes):
        colour = QColor(style.colour(int(code)))
        colour.setAlphaF(style.fill_alpha)
        of_class = rows[codes == code]
        for start in range(0, len(of_class), POLYGONS_PER_FILL):
            piece = of_class[start : start + POLYGONS_PER_FILL]
            xy, connected = outlines.cytoplasm.rings(piece, detail)
            path = pg.arrayToQPath(
                xy[:, 0], xy[:, 1], connect=connected.astype(np.int32)
            )
            path.setFillRule(Qt.FillRule.WindingFill)
            painter.fillPath(path, QBrush(colour))


def _draw_nuclei(painter, outlines, rect, zoom, style) -> None:
    nuclei = outlines.nuclei
    if len(nuclei) == 0 or nuclei.typical_size * zoom < NUCLEI_FROM_PX:
        return
    found = nuclei.query(rect.left(), rect.top(), rect.right(), rect.bottom())
    if len(found) == 0:
        return
    detail = nuclei.detail_for(zoom)
    segments = nuclei.segments(found, detail)
    codes = outlines.class_codes[outlines.nucleus_rows[found]]
    segment_codes = np.repeat(codes, nuclei.level(detail)[2][found])
    for code in np.unique(codes):
        painter.setPen(_pen(style.nucleus_colour(int(code)), style.nucleus_width))
        draw_segments(painter, segments[segment_codes == code])


def _draw_badges(painter, outlines, rows, zoom, style) -> None:
    """The predicted class and its probability at each cell's centre, drawn at a
    fixed size on screen."""
    painter.save()
    font = QFont()
    font.setPointSizeF(8.5)
    font.setBold(True)
    painter.setFont(font)
    metrics = painter.fontMetrics()
    transform = painter.worldTransform()
    painter.resetTransform()
    for row in rows.tolist():
        code = int(outlines.class_codes[row])
        label = style.badges[code] if code < len(style.badges) else ""
        probability = outlines.probabilities[row, code] if code >= 0 else np.nan
        if not np.isnan(probability):
            label = f"{label} {probability * 100:.0f}%"
        if not label:
            continue
        x, y = outlines.cytoplasm.centroids[row]
        centre = transform.map(QPointF(x, y))
        width = metrics.horizontalAdvance(label) + 10
        height = metrics.height() + 4
        box = QRectF(centre.x() - width / 2, centre.y() - height / 2, width, height)
        colour = style.colour(code)
        painter.setPen(QPen(colour.darker(170), 1))
        painter.setBrush(QColor(255, 255, 255, 225))
        painter.drawRoundedRect(box, 4, 4)
        painter.setPen(colour.darker(190))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, label)
    painter.restore()
