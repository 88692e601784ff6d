"""Cell crops for the classifier, cut through an image source by training's rule.

Training cuts the square around a cell's box plus a margin from the whole
image, repeating the edge where the square leaves it, and resizes it to the
input size (`engine.training.tasks.classifier.cell_crop`). Here only the part
of the square inside the image is read, from the most reduced pyramid level
that still has more pixels than the crop, and then the same function cuts it:
at level 0 the crop is the very same as training's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.images import CachedTileReader, ImageSource
from engine.training.tasks.classifier import cell_crop


@dataclass(frozen=True)
class CropWindow:
    """The square a crop is cut from, in level-0 pixels: (x0, y0) and its side."""

    x0: int
    y0: int
    side: int


@dataclass(frozen=True)
class CellBounds:
    """What `cell_crop` needs of a cell: its box."""

    bounds: tuple[float, float, float, float]


def crop_window(bounds: tuple[float, float, float, float], margin: float) -> CropWindow:
    """The square around a cell's box (x_min, y_min, x_max, y_max), as training
    places it."""
    x_min, y_min, x_max, y_max = bounds
    side = max(x_max - x_min, y_max - y_min, 2.0) * (1 + 2 * margin)
    centre_x, centre_y = (x_min + x_max) / 2, (y_min + y_max) / 2
    x0, y0 = round(centre_x - side / 2), round(centre_y - side / 2)
    return CropWindow(int(x0), int(y0), int(max(2, round(side))))


def read_cell_crop(
    source: ImageSource,
    bounds: tuple[float, float, float, float],
    size: int,
    margin: float,
    reader: CachedTileReader | None = None,
) -> np.ndarray:
    """The (size, size, 3) crop of the cell with level-0 box `bounds`, read through
    `reader` (a tile cache) when one is given."""
    window = crop_window(bounds, margin)
    level = source.level_for_downsample(max(1.0, window.side / size))
    downsample = source.levels[level].downsample
    level_width, level_height = source.levels[level][:2]
    # The square and the cell's box in that level's pixels.
    x0 = int(np.floor(window.x0 / downsample))
    y0 = int(np.floor(window.y0 / downsample))
    x1 = int(np.ceil((window.x0 + window.side) / downsample))
    y1 = int(np.ceil((window.y0 + window.side) / downsample))
    left, top = max(x0, 0), max(y0, 0)
    right, bottom = (
        min(max(x1, left + 1), level_width),
        min(max(y1, top + 1), level_height),
    )
    regions = reader or source
    region = regions.read_region(level, left, top, right - left, bottom - top)
    x_min, y_min, x_max, y_max = (value / downsample for value in bounds)
    shifted = CellBounds((x_min - left, y_min - top, x_max - left, y_max - top))
    return cell_crop(region, shifted, size, margin)
