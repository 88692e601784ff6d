"""Running a tiled model over an image batch by batch, and keeping the U-Net's
output as a band of rows that moves down the image.

`TiledModelRun` reads tiles ahead with a `Prefetcher`, runs the model on one
batch per `step()`, and reports each tile and each finished row of tiles.
`UnetBand` keeps the U-Net's probabilities, each tile contributing its core,
only for the rows still needed by the mask writer or by open cells.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import cv2
import numpy as np

from engine.images import CachedTileReader, ImageSource
from engine.inference.merge import MIN_INSTANCE_PIXELS, TileInstance, tile_piece
from engine.inference.prefetch import Prefetcher
from engine.inference.tiling import Tile, TileGrid, read_tile

log = logging.getLogger(__name__)


class TiledModelRun:
    """One model over one image's tile grid, one batch per `step()`."""

    def __init__(
        self,
        grid: TileGrid,
        source: ImageSource,
        predict: Callable[[np.ndarray], list],
        batch_size: int,
        on_tile: Callable[[Tile, object], None],
        on_row_done: Callable[[int], None],
        *,
        reader_threads: int | None = None,
        prefetch_depth: int = 2,
        reader: CachedTileReader | None = None,
    ):
        self.grid = grid
        self.predict = predict
        self.on_tile = on_tile
        self.on_row_done = on_row_done
        self.tiles_done = 0
        self.rows_done = 0
        self._row_counts = [0] * grid.rows
        self._prefetcher = Prefetcher(
            grid.tiles,
            lambda tile: read_tile(
                source, grid.scale, tile.x, tile.y, tile.size, reader
            ),
            batch_size,
            workers=reader_threads,
            depth=prefetch_depth,
        )
        self._batches = iter(self._prefetcher)

    @property
    def done(self) -> bool:
        return self.tiles_done >= len(self.grid)

    @property
    def prefetcher(self) -> Prefetcher:
        return self._prefetcher

    def step(self) -> int:
        """Run the model on the next batch; the number of tiles it held."""
        try:
            tiles, pixels = next(self._batches)
        except StopIteration:
            return 0
        outputs = self.predict(np.stack(pixels))
        for tile, output in zip(tiles, outputs, strict=True):
            self.on_tile(tile, output)
            self._row_counts[tile.row] += 1
        self.tiles_done += len(tiles)
        columns = self.grid.columns
        while self.rows_done < self.grid.rows and (
            self._row_counts[self.rows_done] == columns
        ):
            self.on_row_done(self.rows_done)
            self.rows_done += 1
        return len(tiles)

    def close(self) -> None:
        self._prefetcher.close()


class UnetBand:
    """The U-Net's (cell, nucleus) probabilities as uint8, in working pixels, for a
    band of rows: each tile row adds the rows of its cores."""

    def __init__(self, grid: TileGrid):
        self.grid = grid
        self._chunks: dict[int, np.ndarray] = {}  # tile row -> its core rows
        self.ready_until = 0  # working rows above this are final
        self.released_until = 0
        self.most_rows_held = 0

    def add_tile(self, tile: Tile, probabilities: np.ndarray) -> None:
        """Keep a tile's (2, T, T) probabilities inside its core."""
        x0, y0, x1, y1 = tile.core
        chunk = self._chunks.get(tile.row)
        if chunk is None:
            chunk = np.zeros((y1 - y0, self.grid.width, 2), np.uint8)
            self._chunks[tile.row] = chunk
        core = probabilities[:, y0 - tile.y : y1 - tile.y, x0 - tile.x : x1 - tile.x]
        scaled = np.clip(core, 0.0, 1.0) * 255.0 + 0.5
        chunk[:, x0:x1] = scaled.astype(np.uint8).transpose(1, 2, 0)
        held = sum(len(c) for c in self._chunks.values())
        self.most_rows_held = max(self.most_rows_held, held)

    def row_done(self, row: int) -> None:
        self.ready_until = self.grid.row_cores[row][1]

    @property
    def complete(self) -> bool:
        return self.ready_until >= self.grid.height

    def rows(self, top: int, bottom: int) -> np.ndarray:
        """Working rows [top, bottom) (clipped to the image), (rows, width, 2)."""
        top, bottom = max(0, top), min(self.grid.height, bottom)
        if bottom > self.ready_until or top < self.released_until:
            raise RuntimeError(
                f"U-Net rows {top}-{bottom} are not held "
                f"({self.released_until}-{self.ready_until})"
            )
        parts = []
        for row, (core_top, core_bottom) in enumerate(self.grid.row_cores):
            a, b = max(top, core_top), min(bottom, core_bottom)
            if a < b:
                parts.append(self._chunks[row][a - core_top : b - core_top])
        if not parts:
            return np.zeros((0, self.grid.width, 2), np.uint8)
        return np.concatenate(parts)

    def release_above(self, row: int) -> None:
        """Forget the rows of tile rows that end above working row `row`."""
        for tile_row in sorted(self._chunks):
            core_bottom = self.grid.row_cores[tile_row][1]
            if core_bottom > min(row, self.ready_until):
                break
            del self._chunks[tile_row]
            self.released_until = core_bottom


def unet_instances(
    tile: Tile, probabilities: np.ndarray, grid: TileGrid, threshold: float = 0.5
) -> list[TileInstance]:
    """Cells as the connected pieces of a tile's cell channel, when no Mask R-CNN
    runs. Touching cells become one piece: the U-Net does not separate them, and
    a region of touching cells stays open until it ends (on a confluent smear,
    run Mask R-CNN)."""
    inside_w = min(tile.size, grid.width - tile.x)
    inside_h = min(tile.size, grid.height - tile.y)
    cell_probability = probabilities[0, :inside_h, :inside_w]
    cell = (cell_probability >= threshold).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(cell, connectivity=8)
    pieces = []
    for label in range(1, count):
        left, top, width, height, area = (int(v) for v in stats[label])
        if area < MIN_INSTANCE_PIXELS:
            continue
        window = (slice(top, top + height), slice(left, left + width))
        crop = labels[window] == label
        score = float(cell_probability[window][crop].mean())
        piece = tile_piece(tile, crop, left, top, score, 0, grid)
        if piece is not None:
            pieces.append(piece)
    return pieces
