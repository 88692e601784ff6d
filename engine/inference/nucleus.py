"""A cell's nucleus from the cell's own pixels, for cells outlined by Mask R-CNN
when no U-Net says where nuclei are.

A Papanicolaou-stained nucleus is the darkest part of its cell (haematoxylin
binds its chromatin). Inside the cell's outline, Otsu's threshold splits the
grey values into dark and light; the largest compact dark piece is the
nucleus. The cell is read at a resolution that resolves its nucleus, however
coarse the grid the instance model worked on.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from engine.images import CachedTileReader, ImageSource

# The cell's longer side is read with at least this many pixels (from the most
# reduced pyramid level that has them): a nucleus is a tenth to a third of it.
CELL_DETAIL = 128
MIN_CELL_PIXELS = 40
# Dark and light must differ by this many grey levels (of 255) for the dark part
# to be stain rather than noise in an evenly coloured cell.
MIN_CONTRAST = 12.0
# A nucleus is smaller than its cytoplasm; a larger dark part is a darker cell
# body (or an overlap), and the nucleus is looked for inside it once more.
MAX_NUCLEUS_SHARE = 0.5


def _otsu(values: np.ndarray) -> float:
    threshold, _ = cv2.threshold(
        values.reshape(-1, 1), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU
    )
    return float(threshold)


def stain_nucleus_mask(pixels: np.ndarray, cell: np.ndarray) -> np.ndarray | None:
    """The nucleus inside boolean mask `cell` of RGB uint8 `pixels`, as a mask of
    the same shape; None when the cell shows no darker part."""
    grey = cv2.cvtColor(np.ascontiguousarray(pixels), cv2.COLOR_RGB2GRAY)
    grey = cv2.GaussianBlur(grey, (3, 3), 0)
    values = grey[cell]
    if values.size < MIN_CELL_PIXELS:
        return None
    candidates = values
    threshold = None
    for _ in range(3):
        if candidates.size < MIN_CELL_PIXELS // 4:
            break
        split = _otsu(candidates)
        dark, light = candidates[candidates <= split], candidates[candidates > split]
        if not dark.size or not light.size:
            break
        if light.mean() - dark.mean() < MIN_CONTRAST:
            break
        threshold = split
        if dark.size <= MAX_NUCLEUS_SHARE * values.size:
            break
        candidates = dark
    if threshold is None:
        return None
    nucleus = ((grey <= threshold) & cell).astype(np.uint8)
    if nucleus.sum() > MAX_NUCLEUS_SHARE * values.size:
        return None  # no part darker than the rest: an evenly stained cell
    # A pixel-wide opening drops dark specks and the thin dark rims where
    # cells overlap, which are no nucleus; a pixel off the cell's edge keeps
    # the nucleus's outline inside the cell's.
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    nucleus &= cv2.erode(cell.astype(np.uint8), kernel)
    nucleus = cv2.morphologyEx(nucleus, cv2.MORPH_OPEN, kernel)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(nucleus, connectivity=8)
    if count < 2:
        return None
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return labels == largest


def cell_pixels(
    source: ImageSource,
    cytoplasm: np.ndarray,
    reader: CachedTileReader | None = None,
) -> tuple[np.ndarray, np.ndarray, tuple[float, float], float] | None:
    """The pixels around a cell with level-0 outline `cytoplasm`, read with enough
    detail for its nucleus; the cell's mask on them; their level-0 origin and
    their size in level-0 pixels. None for a cell outside the image."""
    x_min, y_min = cytoplasm.min(axis=0)
    x_max, y_max = cytoplasm.max(axis=0)
    side = max(x_max - x_min, y_max - y_min, 1.0)
    level = source.level_for_downsample(max(1.0, side / CELL_DETAIL))
    downsample = source.levels[level].downsample
    level_width, level_height = source.levels[level][:2]
    left = max(0, math.floor((x_min + 0.5) / downsample - 0.5))
    top = max(0, math.floor((y_min + 0.5) / downsample - 0.5))
    right = min(level_width, math.ceil((x_max + 0.5) / downsample - 0.5) + 1)
    bottom = min(level_height, math.ceil((y_max + 0.5) / downsample - 0.5) + 1)
    if right <= left or bottom <= top:
        return None
    pixels = (reader or source).read_region(
        level, left, top, right - left, bottom - top
    )

    # The cell's outline in the region's pixels (centres), filled with
    # sub-pixel precision.
    outline = (np.asarray(cytoplasm, np.float64) + 0.5) / downsample - 0.5
    outline -= (left, top)
    cell = np.zeros(pixels.shape[:2], np.uint8)
    cv2.fillPoly(cell, [np.round(outline * 16).astype(np.int32)], 1, shift=4)
    origin = ((left + 0.5) * downsample - 0.5, (top + 0.5) * downsample - 0.5)
    return pixels, cell.astype(bool), origin, downsample
