"""Many closed outlines in flat arrays, for drawing and picking tens of thousands of
cells at once.

Every outline's vertices sit end to end in one array, so the viewer gathers the
line segments of all visible cells with a few numpy operations instead of a
loop, and coarser levels of detail (every 2nd, 4th, ... vertex, never fewer
than `MIN_VERTICES`) keep a zoomed-out frame cheap.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence

import numpy as np

from engine.images.spatial import GridIndex

MIN_VERTICES = 8  # a coarser outline keeps at least this many, so cells stay round
MAX_DETAIL_LEVELS = 8


class OutlineSet:
    """Closed outlines (each at least one x, y vertex) with their boxes and centres.

    Read-only after construction, so drawing threads may share it.
    """

    def __init__(self, outlines: Sequence[np.ndarray]):
        count = len(outlines)
        self.counts = np.fromiter(
            (len(outline) for outline in outlines), np.int64, count
        )
        if count and self.counts.min() < 1:
            raise ValueError("every outline needs at least one vertex")
        if count:
            self.vertices = np.ascontiguousarray(
                np.concatenate([np.asarray(o, dtype=np.float64) for o in outlines])
            ).reshape(-1, 2)
        else:
            self.vertices = np.empty((0, 2), dtype=np.float64)
        self.starts = np.cumsum(self.counts) - self.counts
        if count:
            low = np.minimum.reduceat(self.vertices, self.starts, axis=0)
            high = np.maximum.reduceat(self.vertices, self.starts, axis=0)
            self.centroids = (
                np.add.reduceat(self.vertices, self.starts, axis=0)
                / self.counts[:, None]
            )
        else:
            low = high = self.centroids = np.empty((0, 2), dtype=np.float64)
        self.bounds = np.column_stack([low, high]).reshape(-1, 4)
        self.index = GridIndex(self.bounds)
        self._levels: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {
            0: (self.vertices, self.starts, self.counts)
        }
        self._lock = threading.Lock()
        # A sample of outlines tells the typical edge length well enough.
        sample = np.unique(
            np.linspace(0, max(count - 1, 0), min(count, 2000)).astype(int)
        )
        edges = self._perimeters(sample) / np.maximum(self.counts[sample], 1)
        self.typical_edge = max(float(np.median(edges)), 1e-6) if count else 1.0
        sizes = np.maximum(self.bounds[:, 2] - self.bounds[:, 0], 0.0)
        self.typical_size = float(np.median(sizes)) if count else 0.0

    def __len__(self) -> int:
        return len(self.counts)

    def outline(self, index: int) -> np.ndarray:
        """The vertices of one outline."""
        start = self.starts[index]
        return self.vertices[start : start + self.counts[index]]

    def query(
        self, x_min: float, y_min: float, x_max: float, y_max: float
    ) -> np.ndarray:
        """Indices of the outlines whose boxes overlap the rectangle."""
        return self.index.query(x_min, y_min, x_max, y_max)

    # -- levels of detail --------------------------------------------------------

    def detail_for(self, zoom: float, target_edge_px: float = 4.0) -> int:
        """The coarsest level whose edges are still about `target_edge_px` on screen
        at `zoom` (screen pixels per image pixel)."""
        on_screen = max(self.typical_edge * zoom, 1e-9)
        level = math.floor(math.log2(max(target_edge_px / on_screen, 1.0)))
        return int(min(max(level, 0), MAX_DETAIL_LEVELS))

    def level(self, detail: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(vertices, starts, counts) at a level of detail: about every
        2**detail-th vertex of each outline, keeping at least MIN_VERTICES."""
        detail = int(min(max(detail, 0), MAX_DETAIL_LEVELS))
        with self._lock:
            cached = self._levels.get(detail)
        if cached is not None:
            return cached
        # Each level halves the one before, so all of them together cost
        # about as much as the first.
        vertices, starts, counts = self.level(detail - 1)
        if counts.max(initial=0) < 2 * MIN_VERTICES:
            return vertices, starts, counts  # nothing left to thin out
        halved = counts >= 2 * MIN_VERTICES
        stride = np.where(halved, 2, 1)
        owner = np.repeat(np.arange(len(counts)), counts)
        local = np.arange(len(vertices)) - starts[owner]
        keep = local % stride[owner] == 0
        vertices = np.ascontiguousarray(vertices[keep])
        counts = -(-counts // stride)  # ceiling division
        starts = np.cumsum(counts) - counts
        with self._lock:
            self._levels[detail] = (vertices, starts, counts)
        return vertices, starts, counts

    def prepare_levels(self, up_to: int = MAX_DETAIL_LEVELS) -> None:
        """Compute the coarser levels now (e.g. in a worker) rather than while
        drawing; stops where outlines cannot get any coarser."""
        for detail in range(1, up_to + 1):
            self.level(detail)

    # -- geometry for drawing ------------------------------------------------------

    def segment_count(self, indices: np.ndarray, detail: int = 0) -> int:
        """How many line segments `segments` would return."""
        return int(self.level(detail)[2][indices].sum())

    def segments(
        self, indices: np.ndarray, detail: int = 0, out: np.ndarray | None = None
    ) -> np.ndarray:
        """(x1, y1, x2, y2) of every edge of the given outlines, closing edge
        included, written into `out` when given (shape (n, 4), float64)."""
        vertices, starts, counts = self.level(detail)
        first, ends = _vertex_positions(starts, counts, indices)
        total = len(first)
        following = first + 1
        if total:
            lasts = np.cumsum(counts[indices]) - 1
            following[lasts] = starts[indices]
        if out is None:
            out = np.empty((total, 4), dtype=np.float64)
        out[:, :2] = vertices[first]
        out[:, 2:] = vertices[following]
        return out

    def rings(self, indices: np.ndarray, detail: int = 0):
        """(xy, connected): the outlines one after another, each closed by
        repeating its first vertex; connected[i] says whether point i joins i+1."""
        vertices, starts, counts = self.level(detail)
        closed_counts = counts[indices] + 1
        total = int(closed_counts.sum())
        positions = np.arange(total) - np.repeat(
            np.cumsum(closed_counts) - closed_counts, closed_counts
        )
        lengths = np.repeat(counts[indices], closed_counts)
        positions = np.repeat(starts[indices], closed_counts) + positions % lengths
        connected = np.ones(total, dtype=bool)
        connected[np.cumsum(closed_counts) - 1] = False
        return vertices[positions], connected

    # -- picking ----------------------------------------------------------------

    def containing(self, x: float, y: float) -> np.ndarray:
        """Indices of the outlines that contain the point (even-odd rule)."""
        candidates = self.index.at_point(x, y)
        if len(candidates) == 0:
            return candidates
        edges = self.segments(candidates)
        x1, y1, x2, y2 = edges.T
        straddles = (y1 > y) != (y2 > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            crossing_x = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
        crossings = straddles & (x < crossing_x)
        counts = self.counts[candidates]
        per_outline = np.add.reduceat(
            crossings.astype(np.int64), np.cumsum(counts) - counts
        )
        return candidates[per_outline % 2 == 1]

    def areas(self, indices: np.ndarray | None = None) -> np.ndarray:
        """Shoelace areas (absolute) of the outlines."""
        if indices is None:
            indices = np.arange(len(self))
        if len(indices) == 0:
            return np.empty(0)
        x1, y1, x2, y2 = self.segments(indices).T
        cross = x1 * y2 - x2 * y1
        counts = self.counts[indices]
        return np.abs(np.add.reduceat(cross, np.cumsum(counts) - counts)) / 2.0

    def _perimeters(self, indices: np.ndarray) -> np.ndarray:
        if len(indices) == 0:
            return np.empty(0)
        x1, y1, x2, y2 = self.segments(indices).T
        counts = self.counts[indices]
        return np.add.reduceat(np.hypot(x2 - x1, y2 - y1), np.cumsum(counts) - counts)


def _vertex_positions(starts: np.ndarray, counts: np.ndarray, indices: np.ndarray):
    """The positions in the flat vertex array of the given outlines' vertices,
    one outline after another, and where each outline's block ends."""
    wanted = counts[indices]
    block_starts = np.cumsum(wanted) - wanted
    positions = np.repeat(starts[indices] - block_starts, wanted) + np.arange(
        wanted.sum()
    )
    return positions, block_starts + wanted
