"""A grid index of bounding boxes: which of many cells lie in a region of an image.

The viewer asks it, every frame, for the cells inside the visible rectangle,
and the selection asks it for the cells under a click, so both stay immediate
with a hundred thousand cells on a slide.
"""

from __future__ import annotations

import math

import numpy as np

MAX_BINS_PER_SIDE = 2048  # a bin grid larger than this costs memory, not speed
BINS_PER_MEDIAN_BOX = 2.0  # a bin is about twice a typical box's size


class GridIndex:
    """Boxes (x_min, y_min, x_max, y_max) put into the square bins of a grid.

    Each box is listed in every bin it overlaps, in one array sorted by bin,
    so the boxes of a row of bins are one contiguous slice of it.
    """

    def __init__(self, bounds: np.ndarray):
        bounds = np.asarray(bounds, dtype=np.float64).reshape(-1, 4)
        self.bounds = bounds
        self.count = len(bounds)
        if self.count == 0:
            self.origin = (0.0, 0.0)
            self.bin_size = 1.0
            self.columns = self.rows = 1
            self._sorted = np.empty(0, dtype=np.int64)
            self._bin_starts = np.zeros(2, dtype=np.int64)
            return

        left, top = bounds[:, 0].min(), bounds[:, 1].min()
        right, bottom = bounds[:, 2].max(), bounds[:, 3].max()
        extent = max(right - left, bottom - top, 1.0)
        sizes = np.maximum(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1])
        typical = float(np.median(sizes)) if self.count else 1.0
        self.bin_size = max(typical * BINS_PER_MEDIAN_BOX, extent / MAX_BINS_PER_SIDE)
        self.bin_size = max(self.bin_size, 1.0)
        self.origin = (float(left), float(top))
        self.columns = int((right - left) // self.bin_size) + 1
        self.rows = int((bottom - top) // self.bin_size) + 1

        first_x, first_y, last_x, last_y = self._bin_ranges(bounds)
        spans_x = last_x - first_x + 1
        spans_y = last_y - first_y + 1
        per_box = spans_x * spans_y
        box_of_entry = np.repeat(np.arange(self.count), per_box)
        # The position of each entry within its box's block of bins.
        local = np.arange(per_box.sum()) - np.repeat(
            np.cumsum(per_box) - per_box, per_box
        )
        span_x = spans_x[box_of_entry]
        bin_x = first_x[box_of_entry] + local % span_x
        bin_y = first_y[box_of_entry] + local // span_x
        bin_id = bin_y * self.columns + bin_x
        order = np.argsort(bin_id, kind="stable")
        self._sorted = box_of_entry[order]
        self._bin_starts = np.searchsorted(
            bin_id[order], np.arange(self.columns * self.rows + 1)
        )

    def _bin_ranges(self, bounds: np.ndarray):
        left, top = self.origin
        first_x = np.floor((bounds[:, 0] - left) / self.bin_size).astype(np.int64)
        first_y = np.floor((bounds[:, 1] - top) / self.bin_size).astype(np.int64)
        last_x = np.floor((bounds[:, 2] - left) / self.bin_size).astype(np.int64)
        last_y = np.floor((bounds[:, 3] - top) / self.bin_size).astype(np.int64)
        return (
            np.clip(first_x, 0, self.columns - 1),
            np.clip(first_y, 0, self.rows - 1),
            np.clip(last_x, 0, self.columns - 1),
            np.clip(last_y, 0, self.rows - 1),
        )

    def query(
        self, x_min: float, y_min: float, x_max: float, y_max: float
    ) -> np.ndarray:
        """Indices, ascending, of the boxes that overlap the rectangle (edges count)."""
        if self.count == 0 or x_max < x_min or y_max < y_min:
            return np.empty(0, dtype=np.int64)
        left, top = self.origin
        column_first = max(math.floor((x_min - left) / self.bin_size), 0)
        column_last = min(math.floor((x_max - left) / self.bin_size), self.columns - 1)
        row_first = max(math.floor((y_min - top) / self.bin_size), 0)
        row_last = min(math.floor((y_max - top) / self.bin_size), self.rows - 1)
        if column_first > column_last or row_first > row_last:
            return np.empty(0, dtype=np.int64)

        bins = (column_last - column_first + 1) * (row_last - row_first + 1)
        if bins * 4 >= self.columns * self.rows:
            # Most of the grid: testing every box at once is quicker than
            # gathering nearly all bins.
            return np.flatnonzero(self._overlaps(x_min, y_min, x_max, y_max))

        pieces = []
        for row in range(row_first, row_last + 1):
            start = self._bin_starts[row * self.columns + column_first]
            end = self._bin_starts[row * self.columns + column_last + 1]
            if end > start:
                pieces.append(self._sorted[start:end])
        if not pieces:
            return np.empty(0, dtype=np.int64)
        candidates = np.unique(np.concatenate(pieces))
        boxes = self.bounds[candidates]
        inside = (
            (boxes[:, 0] <= x_max)
            & (boxes[:, 2] >= x_min)
            & (boxes[:, 1] <= y_max)
            & (boxes[:, 3] >= y_min)
        )
        return candidates[inside]

    def _overlaps(self, x_min, y_min, x_max, y_max) -> np.ndarray:
        bounds = self.bounds
        return (
            (bounds[:, 0] <= x_max)
            & (bounds[:, 2] >= x_min)
            & (bounds[:, 1] <= y_max)
            & (bounds[:, 3] >= y_min)
        )

    def at_point(self, x: float, y: float) -> np.ndarray:
        """Indices of the boxes that contain the point."""
        return self.query(x, y, x, y)
