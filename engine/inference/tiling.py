"""Tiles at a model's scale: how much to resize an image, where the tiles lie, and
reading one tile through the image source at the pyramid level that fits.

Coordinates come in two kinds. Level-0 pixels are the image's own. Working
pixels are level-0 pixels times the model's scale, the grid the model sees.
Tiles overlap; the core of a tile is its part nearer to it than to any
neighbour (borders halfway through each overlap), so the cores of a grid
cover the image once.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import cv2
import numpy as np

from engine.images import CachedTileReader, ImageSource, TileCache
from engine.models import ModelCard

log = logging.getLogger(__name__)

# An image of one level and at most this side is a cluster image, scaled as
# training scaled them: its shorter side to the model's input size.
CLUSTER_IMAGE_MAX_SIDE = 4096


def card_microns_per_pixel(card: ModelCard) -> float | None:
    """The pixel size of the model's input, when its card states it.

    Training records it as `inference.microns_per_pixel` when the dataset's
    pixel size is known; a card edited by hand may carry it as
    `data.microns_per_pixel`.
    """
    for section in (card.inference, card.data):
        value = section.get("microns_per_pixel") if isinstance(section, dict) else None
        if value:
            return float(value)
    return None


def model_scale(
    card: ModelCard, source: ImageSource, scale: float | None = None
) -> float:
    """Working pixels per level-0 pixel for a model on an image.

    An explicit `scale` wins. Otherwise, when both the model's and the image's
    pixel sizes are known, the image is resized to the model's pixel size; a
    small single-level image is scaled as training scaled cluster images (its
    shorter side to the input size); anything else is read at level 0.
    """
    if scale:
        return float(scale)
    model_mpp = card_microns_per_pixel(card)
    image_mpp = source.microns_per_pixel
    if model_mpp and image_mpp:
        return float(image_mpp) / model_mpp
    width, height = source.size
    if source.level_count == 1 and max(width, height) <= CLUSTER_IMAGE_MAX_SIDE:
        return card.input_size / min(width, height)
    log.warning(
        "%s: the pixel size of the %s model or of the image is unknown; reading "
        "it at full resolution",
        source.path.name,
        card.task,
    )
    return 1.0


@dataclass(frozen=True)
class Tile:
    """One tile: its place in the grid and in working pixels, and its core."""

    index: int
    row: int
    column: int
    x: int
    y: int
    size: int
    core: tuple[int, int, int, int]  # x0, y0, x1, y1 in working pixels

    @property
    def box(self) -> tuple[int, int, int, int]:
        return self.x, self.y, self.x + self.size, self.y + self.size


def _starts(extent: int, size: int, overlap: int) -> list[int]:
    """Tile origins along one axis: a fixed stride, the last flush with the end."""
    if extent <= size:
        return [0]
    stride = max(1, size - overlap)
    starts = list(range(0, extent - size, stride))
    starts.append(extent - size)
    return starts


def _core_bounds(starts: list[int], size: int, extent: int) -> list[tuple[int, int]]:
    """Each tile's core along one axis: from the middle of the overlap with the
    previous tile to the middle of the overlap with the next."""
    borders = [0]
    for before, after in zip(starts, starts[1:], strict=False):
        borders.append((after + before + size) // 2)
    borders.append(extent)
    return [(borders[i], borders[i + 1]) for i in range(len(starts))]


class TileGrid:
    """Overlapping square tiles covering an image at a model's scale, row by row."""

    def __init__(
        self, image_size: tuple[int, int], scale: float, tile: int, overlap: int
    ):
        if not 0 <= overlap <= tile // 2:
            raise ValueError(f"the overlap must be 0 to half the tile, not {overlap}")
        self.scale = float(scale)
        self.tile_size = int(tile)
        self.overlap = int(overlap)
        width, height = image_size
        self.image_size = (int(width), int(height))
        self.width = max(1, math.ceil(width * self.scale))
        self.height = max(1, math.ceil(height * self.scale))
        self.x_starts = _starts(self.width, tile, overlap)
        self.y_starts = _starts(self.height, tile, overlap)
        x_cores = _core_bounds(self.x_starts, tile, self.width)
        y_cores = _core_bounds(self.y_starts, tile, self.height)
        self.tiles: list[Tile] = []
        for row, (y, (cy0, cy1)) in enumerate(zip(self.y_starts, y_cores, strict=True)):
            for column, (x, (cx0, cx1)) in enumerate(
                zip(self.x_starts, x_cores, strict=True)
            ):
                core = (cx0, cy0, cx1, cy1)
                self.tiles.append(Tile(len(self.tiles), row, column, x, y, tile, core))
        self.row_cores = y_cores

    @property
    def rows(self) -> int:
        return len(self.y_starts)

    @property
    def columns(self) -> int:
        return len(self.x_starts)

    def __len__(self) -> int:
        return len(self.tiles)

    def row_top(self, row: int) -> int:
        """Working y where tile row `row` starts; the height past the last row."""
        return self.y_starts[row] if row < self.rows else self.height

    # -- between working and level-0 pixels ----------------------------------

    def to_level0(self, vertices: np.ndarray) -> np.ndarray:
        """Working-pixel coordinates (pixel centres) as level-0 coordinates."""
        return (np.asarray(vertices, np.float64) + 0.5) / self.scale - 0.5

    def working_y(self, level0_y: float) -> float:
        return (level0_y + 0.5) * self.scale - 0.5

    def level0_y(self, working_y: float) -> float:
        return (working_y + 0.5) / self.scale - 0.5


def read_tile(
    source: ImageSource,
    scale: float,
    x: int,
    y: int,
    size: int,
    reader: CachedTileReader | None = None,
) -> np.ndarray:
    """The (size, size, 3) working-pixel tile at (x, y), read from the most reduced
    pyramid level that still has the detail the scale needs; white outside.
    Pixels come through `reader` (a tile cache) when one is given."""
    regions = reader or source
    if scale == 1.0:
        return regions.read_region(0, x, y, size, size)
    level = source.level_for_downsample(1.0 / scale) if scale < 1 else 0
    downsample = source.levels[level].downsample
    factor = scale * downsample  # working pixels per pixel of that level
    left = round(x / factor)
    top = round(y / factor)
    side = max(1, round(size / factor))
    region = regions.read_region(level, left, top, side, side)
    interpolation = cv2.INTER_AREA if side > size else cv2.INTER_LINEAR
    return cv2.resize(region, (size, size), interpolation=interpolation)


# Overlapping tiles share the file's tiles: the last few rows of them stay
# decoded, within these bounds.
READ_CACHE_ROWS = 3
READ_CACHE_MIN_BYTES = 16 * 1024 * 1024
READ_CACHE_MAX_BYTES = 96 * 1024 * 1024


def tile_reader(
    source: ImageSource, scales: list[float], crops: bool = False
) -> CachedTileReader | None:
    """A cached reader for a tiled file (a slide), where overlapping tiles would
    decode the same file tiles again; None for an image held whole in memory.

    The cache holds a few rows of file tiles of each level the models read
    (`scales`, and level 0 for cell crops), within fixed bounds.
    """
    if source.level_count == 1 and max(source.size) <= CLUSTER_IMAGE_MAX_SIDE:
        return None
    levels = {source.level_for_downsample(1 / s) if s < 1 else 0 for s in scales}
    if crops:
        levels.add(0)
    side = source.tile_size
    row_bytes = sum(
        math.ceil(source.levels[level].width / side) * side * side * 3
        for level in levels
    )
    budget = min(
        max(READ_CACHE_ROWS * row_bytes, READ_CACHE_MIN_BYTES), READ_CACHE_MAX_BYTES
    )
    return CachedTileReader(source, TileCache(budget))
