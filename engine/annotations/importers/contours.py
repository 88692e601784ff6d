"""Turning a binary mask into a SIPaKMeD outline: the largest piece of the mask,
traced through the centres of its boundary pixels, as a valid polygon.

Vertices are whole pixel coordinates on the centres of the mask's outermost
pixels, so `cv2.fillPoly` (with rounded or truncated vertices) draws the mask
back exactly. The price is that the polygon's own area leaves out half of the
boundary ring, a few per cent for a small nucleus; docs/decisions explains why
that convention was chosen over tracing pixel edges.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np
import shapely
from shapely.geometry import Polygon

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TracedOutline:
    """An outline traced from a mask, and what of the mask it had to leave out."""

    vertices: np.ndarray  # (n, 2) float64, whole pixel coordinates, x then y
    pixels: int  # pixels of the traced piece, holes included
    pieces: int  # 8-connected pieces the mask was in
    dropped_pixels: int  # pixels of the pieces other than the largest
    holes: int  # holes inside the traced piece, filled by the outline
    hole_pixels: int
    lost_pixels: int  # pixels of the piece the outline misses (one-pixel spurs)


def rasterise(vertices: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The pixels (bool, `shape` = (height, width)) an outline covers, as
    `cv2.fillPoly` draws it."""
    mask = np.zeros(shape, dtype=np.uint8)
    points = np.round(np.asarray(vertices, dtype=np.float64)).astype(np.int32)
    cv2.fillPoly(mask, [points.reshape(-1, 1, 2)], 1)
    return mask.astype(bool)


def largest_piece(mask: np.ndarray) -> tuple[np.ndarray, int, int]:
    """The largest 8-connected piece of a mask, the number of pieces, and how many
    pixels the other pieces hold."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(
        mask.astype(np.uint8), connectivity=8
    )
    if count <= 1:
        return np.zeros(mask.shape, dtype=bool), 0, 0
    areas = stats[1:, cv2.CC_STAT_AREA]
    largest = int(np.argmax(areas)) + 1
    dropped = int(areas.sum() - areas[largest - 1])
    return labels == largest, count - 1, dropped


def _as_valid_ring(vertices: np.ndarray) -> np.ndarray | None:
    """The vertices of a valid polygon close to `vertices`, or None if none is left.

    The tracer walks out and back along a one-pixel-wide spur, which makes a
    ring that touches itself; shapely's repair drops the spur's zero area and
    keeps the body. Where a pinch splits the ring, the largest part stays.
    """
    polygon = Polygon(vertices)
    if polygon.is_valid and polygon.area > 0:
        return vertices
    repaired = shapely.make_valid(polygon)
    parts = [
        part
        for part in getattr(repaired, "geoms", [repaired])
        if isinstance(part, Polygon) and part.area > 0
    ]
    if not parts:
        return None
    body = max(parts, key=lambda part: part.area)
    ring = np.round(np.asarray(body.exterior.coords)[:-1]).astype(np.float64)
    if len(ring) < 3:
        return None
    polygon = Polygon(ring)
    if not polygon.is_valid or polygon.area <= 0:
        return None
    return ring


def trace_outline(mask: np.ndarray) -> TracedOutline | None:
    """The outline of the largest piece of a mask, or None when that piece is too
    small or thin to enclose any area (a stray pixel or a line)."""
    piece, pieces, dropped = largest_piece(np.asarray(mask, dtype=bool))
    if pieces == 0:
        return None
    contours, _ = cv2.findContours(
        piece.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
    )
    contour = max(contours, key=len).reshape(-1, 2).astype(np.float64)
    if len(contour) < 3:
        return None
    vertices = _as_valid_ring(contour)
    if vertices is None:
        return None

    drawn = rasterise(vertices, piece.shape)
    holes_mask = drawn & ~piece
    hole_count, _ = cv2.connectedComponents(holes_mask.astype(np.uint8), connectivity=4)
    lost = int((piece & ~drawn).sum())
    if lost:
        log.debug("Outline leaves out %d pixels of one-pixel spurs", lost)
    return TracedOutline(
        vertices=vertices,
        pixels=int(drawn.sum()),
        pieces=pieces,
        dropped_pixels=dropped,
        holes=hole_count - 1,
        hole_pixels=int(holes_mask.sum()),
        lost_pixels=lost,
    )


def fit_inside(nucleus: np.ndarray, cytoplasm: np.ndarray) -> np.ndarray | None:
    """The nucleus outline, clipped to its cell's outline where it pokes out; None
    when nothing of it lies inside the cell."""
    cell = Polygon(cytoplasm)
    inner = Polygon(nucleus)
    if cell.covers(inner):
        return nucleus
    clipped = inner.intersection(cell)
    parts = [
        part
        for part in getattr(clipped, "geoms", [clipped])
        if isinstance(part, Polygon) and part.area > 0
    ]
    if not parts:
        return None
    body = max(parts, key=lambda part: part.area)
    # Whole-pixel vertices keep the outline drawable by every rasteriser; a vertex
    # rounded across the cell's edge leaves a sliver far below what a reader
    # tolerates (Dataset allows 2 % of the nucleus outside its cell).
    return _as_valid_ring(np.round(np.asarray(body.exterior.coords)[:-1]))
