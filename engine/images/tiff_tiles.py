"""Decoding a tiled TIFF level's tiles straight from the file, for the common case
of one RGB (or grey) plane of 8-bit tiles.

Going through tifffile's Zarr store costs an event-loop round trip and a copy
per chunk, as much again as decoding a JPEG tile; reading the tile's bytes and
handing them to tifffile's own decoder halves what a slide tile costs. Levels
this does not cover (planar, multi-plane, deep or odd tiles) keep the Zarr path.
"""

from __future__ import annotations

import logging
import math
import threading
from pathlib import Path
from typing import BinaryIO

import numpy as np
import tifffile

log = logging.getLogger(__name__)


class DirectTiles:
    """One tiled level read tile by tile: file bytes, then tifffile's decoder."""

    def __init__(self, page: tifffile.TiffPage, file: BinaryIO, lock: threading.Lock):
        self.page = page
        self.width = int(page.imagewidth)
        self.height = int(page.imagelength)
        self.tile_width = int(page.tilewidth)
        self.tile_height = int(page.tilelength)
        self.samples = int(page.samplesperpixel)
        self.columns = math.ceil(self.width / self.tile_width)
        self.offsets = page.dataoffsets
        self.byte_counts = page.databytecounts
        self._decode = page.decode
        self._file = file
        self._lock = lock

    @classmethod
    def for_level(
        cls, series: tifffile.TiffPageSeries, file: BinaryIO, lock: threading.Lock
    ) -> DirectTiles | None:
        """The direct reader of a level, or None where the Zarr path must serve."""
        if len(series.pages) != 1 or series.pages[0] is None:
            return None
        page = series.pages[0]
        if not isinstance(page, tifffile.TiffPage):
            return None
        simple = (
            page.is_tiled
            and page.imagedepth == 1
            and page.tiledepth == 1
            and page.dtype == np.uint8
            and page.samplesperpixel in (1, 3, 4)
            and (page.samplesperpixel == 1 or page.planarconfig == 1)
        )
        if not simple:
            return None
        columns = math.ceil(page.imagewidth / page.tilewidth)
        rows = math.ceil(page.imagelength / page.tilelength)
        if len(page.dataoffsets) != columns * rows:
            return None
        return cls(page, file, lock)

    def tile(self, column: int, row: int) -> np.ndarray:
        """The decoded tile, (tile height, tile width, samples), padding included."""
        index = row * self.columns + column
        count = int(self.byte_counts[index])
        shape = (self.tile_height, self.tile_width, self.samples)
        if count == 0:
            # An empty tile: tifffile's Zarr store fills it with zeros as well.
            return np.zeros(shape, np.uint8)
        with self._lock:
            self._file.seek(int(self.offsets[index]))
            data = self._file.read(count)
        if len(data) != count:
            raise EOFError(f"tile {index} ends past the end of the file")
        segment = self._decode(data, index, jpegtables=self.page.jpegtables)[0]
        if segment is None:
            return np.zeros(shape, np.uint8)
        return np.asarray(segment).reshape(shape)

    def read(self, x: int, y: int, width: int, height: int) -> np.ndarray:
        """Pixels [y, y + height) x [x, x + width) inside the level, (h, w, samples)."""
        region = np.empty((height, width, self.samples), np.uint8)
        tile_w, tile_h = self.tile_width, self.tile_height
        for row in range(y // tile_h, (y + height - 1) // tile_h + 1):
            for column in range(x // tile_w, (x + width - 1) // tile_w + 1):
                pixels = self.tile(column, row)
                left, top = column * tile_w, row * tile_h
                x0, x1 = max(x, left), min(x + width, left + tile_w)
                y0, y1 = max(y, top), min(y + height, top + tile_h)
                region[y0 - y : y1 - y, x0 - x : x1 - x] = pixels[
                    y0 - top : y1 - top, x0 - left : x1 - left
                ]
        return region


def open_direct_levels(
    path: Path, series: tifffile.TiffPageSeries
) -> tuple[list[DirectTiles | None], BinaryIO | None]:
    """Direct readers of a series' levels (None for a level Zarr must read), and
    the file they share, which the caller closes; no file when none qualifies."""
    if series.axes not in ("YXS", "YX"):
        return [None] * len(series.levels), None
    file = open(path, "rb")  # noqa: SIM115 - closed with the source
    lock = threading.Lock()
    readers = [DirectTiles.for_level(level, file, lock) for level in series.levels]
    if not any(readers):
        file.close()
        return readers, None
    log.debug(
        "%s: %d of %d levels decoded directly",
        path.name,
        sum(map(bool, readers)),
        len(readers),
    )
    return readers, file
