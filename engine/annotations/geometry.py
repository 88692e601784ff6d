"""Outline geometry for editing: keeping cell and nucleus outlines valid polygons,
keeping a nucleus inside its cell, and the pure vertex operations the tools use.

Outlines come back as new (n, 2) float64 arrays of x, y pixel coordinates and
inputs are never changed; an outline that cannot be made valid without guessing
what the reviewer meant raises GeometryError with a message for the reviewer.
A mask is turned into an outline by `importers.contours.trace_outline`.
"""

from __future__ import annotations

import re

import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.validation import explain_validity

from engine.annotations.dataset import NUCLEUS_OUTSIDE_TOLERANCE, check_nucleus_inside
from engine.annotations.errors import GeometryError

# A repair may drop a small twisted loop, never a real part of what was drawn.
REPAIR_KEEPS_AT_LEAST = 0.9

# Clipping a nucleus may cut off a rim, not the larger part of it.
CLIP_KEEPS_AT_LEAST = 0.5

_POINT_IN_REASON = re.compile(r"\[\s*([-+0-9.eE]+)\s+([-+0-9.eE]+)")


def as_vertices(vertices) -> np.ndarray:
    """The vertices as a new (n, 2) float64 array."""
    return np.array(vertices, dtype=np.float64).reshape(-1, 2)


def drop_repeated(vertices) -> np.ndarray:
    """The outline without vertices equal to the one before them, and without a
    last vertex that repeats the first (the outline is closed implicitly)."""
    vertices = as_vertices(vertices)
    if len(vertices) < 2:
        return vertices
    differs = np.r_[True, np.any(vertices[1:] != vertices[:-1], axis=1)]
    vertices = vertices[differs]
    while len(vertices) > 1 and np.array_equal(vertices[-1], vertices[0]):
        vertices = vertices[:-1]
    return vertices


def snap_to_image(vertices, image_size: tuple[int, int]) -> np.ndarray:
    """The vertices moved onto the image where they lie outside it; `image_size`
    is (width, height)."""
    width, height = image_size
    vertices = as_vertices(vertices)
    vertices[:, 0] = np.clip(vertices[:, 0], 0, width - 1)
    vertices[:, 1] = np.clip(vertices[:, 1], 0, height - 1)
    return vertices


def _crossing_point(polygon: Polygon) -> str:
    """Where shapely found the outline's fault, as `(x, y)` for a message."""
    match = _POINT_IN_REASON.search(explain_validity(polygon))
    if match is None:
        return "somewhere"
    return f"near ({float(match[1]):.0f}, {float(match[2]):.0f})"


def signed_area(vertices) -> float:
    """The shoelace area: positive when the outline runs anticlockwise in x, y."""
    x, y = as_vertices(vertices).T
    return float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y)) / 2


def _follow_drawing_order(ring: np.ndarray, drawn: np.ndarray) -> np.ndarray:
    """The repaired ring turned to run the way it was drawn and start where the
    drawn outline started, so a repair changes as little of the file as it can."""
    if np.sign(signed_area(ring)) != np.sign(signed_area(drawn)):
        ring = ring[::-1]
    position = {tuple(vertex): index for index, vertex in enumerate(drawn)}
    order = [position.get(tuple(vertex), len(drawn)) for vertex in ring]
    return np.roll(ring, -int(np.argmin(order)), axis=0)


def clean_outline(vertices, image_size: tuple[int, int] | None = None) -> np.ndarray:
    """The outline as a valid simple polygon: repeated vertices dropped, vertices
    snapped onto the image when `image_size` (width, height) is given, and a
    small twisted loop removed. Raise GeometryError when what is left is not an
    outline or the repair would have to guess."""
    vertices = as_vertices(vertices)
    if not np.isfinite(vertices).all():
        raise GeometryError("the outline has a point that is not a number; redraw it")
    if image_size is not None:
        vertices = snap_to_image(vertices, image_size)
    vertices = drop_repeated(vertices)
    distinct = len(np.unique(vertices, axis=0))
    if distinct < 3:
        raise GeometryError(
            f"an outline needs at least 3 distinct points, this one has {distinct}"
        )

    polygon = Polygon(vertices)
    if polygon.is_valid:
        if polygon.area <= 0:
            raise GeometryError("the outline encloses no area; redraw it")
        return vertices

    repaired = shapely.make_valid(polygon)
    pieces = [
        piece
        for piece in getattr(repaired, "geoms", [repaired])
        if isinstance(piece, Polygon) and piece.area > 0
    ]
    if not pieces:
        raise GeometryError("the outline encloses no area; redraw it")
    largest = max(pieces, key=lambda piece: piece.area)
    enclosed = sum(piece.area for piece in pieces)
    if largest.interiors or largest.area < REPAIR_KEEPS_AT_LEAST * enclosed:
        raise GeometryError(
            f"the outline crosses itself {_crossing_point(polygon)}; redraw it"
        )
    ring = drop_repeated(np.asarray(largest.exterior.coords)[:-1])
    return _follow_drawing_order(ring, vertices)


def nucleus_fits(cytoplasm, nucleus) -> bool:
    """Whether the nucleus lies inside its cell, as closely as a saved dataset
    requires (a pixel or two across the cell's outline is tolerated)."""
    outside = check_nucleus_inside(as_vertices(cytoplasm), as_vertices(nucleus))
    return outside <= NUCLEUS_OUTSIDE_TOLERANCE


def fit_nucleus(cytoplasm, nucleus) -> np.ndarray:
    """The nucleus clipped to its cell where it pokes out; unchanged when it lies
    inside. Raise GeometryError when most of the nucleus lies outside the cell."""
    cytoplasm, nucleus = as_vertices(cytoplasm), as_vertices(nucleus)
    cell, inner = Polygon(cytoplasm), Polygon(nucleus)
    if not (cell.is_valid and inner.is_valid and inner.area > 0):
        raise GeometryError(
            "the cell or nucleus outline is not a valid polygon; clean it first"
        )
    if cell.covers(inner):
        return nucleus

    clipped = inner.intersection(cell)
    pieces = [
        piece
        for piece in getattr(clipped, "geoms", [clipped])
        if isinstance(piece, Polygon) and piece.area > 0
    ]
    kept = max(pieces, key=lambda piece: piece.area) if pieces else None
    if kept is None or kept.area < CLIP_KEEPS_AT_LEAST * inner.area:
        lost = 1 - (kept.area / inner.area if kept is not None else 0)
        raise GeometryError(
            f"the nucleus lies mostly outside its cell: fitting it in would cut off "
            f"{lost:.0%} of it; keep the nucleus inside the cell outline"
        )
    ring = drop_repeated(np.asarray(kept.exterior.coords)[:-1])
    return _follow_drawing_order(ring, nucleus)


def insert_vertex(vertices, edge_index: int, point) -> np.ndarray:
    """The outline with `point` added on edge `edge_index`, the edge from vertex
    `edge_index` to the next one (the last edge closes the outline)."""
    vertices = as_vertices(vertices)
    if not 0 <= edge_index < len(vertices):
        raise IndexError(f"edge {edge_index} is not one of {len(vertices)} edges")
    return np.insert(vertices, edge_index + 1, as_vertices(point)[0], axis=0)


def delete_vertices(vertices, indices) -> np.ndarray:
    """The outline without the vertices at `indices`; refuse to leave fewer than 3."""
    vertices = as_vertices(vertices)
    doomed = {int(index) for index in indices}
    if any(not 0 <= index < len(vertices) for index in doomed):
        raise IndexError(f"a vertex to delete is not one of {len(vertices)} vertices")
    if len(vertices) - len(doomed) < 3:
        raise GeometryError(
            "an outline needs at least 3 points; delete the cell instead"
        )
    keep = [index for index in range(len(vertices)) if index not in doomed]
    return vertices[keep]


def move_vertex(vertices, index: int, point) -> np.ndarray:
    """The outline with vertex `index` at `point`."""
    vertices = as_vertices(vertices)
    vertices[index] = as_vertices(point)[0]
    return vertices


def translate(vertices, dx: float, dy: float) -> np.ndarray:
    """The outline moved by (dx, dy) pixels."""
    return as_vertices(vertices) + np.array([dx, dy], dtype=np.float64)


def nearest_vertex(vertices, point) -> tuple[int, float]:
    """The index of the vertex nearest to `point`, and its distance."""
    distances = np.linalg.norm(as_vertices(vertices) - as_vertices(point)[0], axis=1)
    index = int(np.argmin(distances))
    return index, float(distances[index])


def nearest_edge(vertices, point) -> tuple[int, float]:
    """The index of the edge nearest to `point` (edge i runs from vertex i to the
    next), and the distance from `point` to it."""
    starts = as_vertices(vertices)
    ends = np.roll(starts, -1, axis=0)
    target = as_vertices(point)[0]
    along = ends - starts
    lengths = np.einsum("ij,ij->i", along, along)
    # A zero-length edge's nearest point is its start.
    share = np.where(
        lengths > 0,
        np.einsum("ij,ij->i", target - starts, along)
        / np.where(lengths > 0, lengths, 1),
        0.0,
    )
    nearest = starts + np.clip(share, 0.0, 1.0)[:, None] * along
    distances = np.linalg.norm(nearest - target, axis=1)
    index = int(np.argmin(distances))
    return index, float(distances[index])
