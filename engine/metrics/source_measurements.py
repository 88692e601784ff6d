"""Measuring every cell of an image read through an ImageSource: the whole image at
once when it is small, and only each nucleus's neighbourhood on a slide, so a
slide's cells are measured without loading the slide."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import numpy as np

from engine.annotations.cells import Cell
from engine.images import CachedTileReader, ImageSource, TileCache
from engine.metrics.measurements import CellMeasurements, grey_of, measure_cell

log = logging.getLogger(__name__)

WHOLE_IMAGE_UP_TO = 40_000_000  # pixels: smaller images are read in one piece


def measure_cells(
    cells: Sequence[Cell],
    source: ImageSource | None,
    image_key: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    cache: TileCache | None = None,
) -> list[CellMeasurements]:
    """Measure `cells` on `source` (None: without the nuclear intensity), in the
    image's micrometres when it knows its pixel size. On a slide, `cache` keeps
    the tiles that neighbouring nuclei share.

    Stops early, returning what it measured, when `cancelled()` turns true.
    """
    microns = None if source is None else source.microns_per_pixel
    width, height = (0, 0) if source is None else source.size
    whole = None
    if source is not None and width * height <= WHOLE_IMAGE_UP_TO:
        whole = grey_of(source.read_region(0, 0, 0, width, height))
    reader = None
    if source is not None and whole is None:
        reader = CachedTileReader(source, cache or TileCache(64 * 1024 * 1024))
    results = []
    for number, cell in enumerate(cells, start=1):
        if cancelled is not None and cancelled():
            log.info("Measuring stopped after %d of %d cells", number - 1, len(cells))
            break
        if whole is not None or source is None or cell.nucleus is None:
            results.append(measure_cell(cell, whole, microns, image_key))
        else:
            results.append(_measure_on_region(cell, reader, microns, image_key))
        if progress is not None and (number % 500 == 0 or number == len(cells)):
            progress(number, len(cells))
    return results


def _measure_on_region(
    cell: Cell, reader: CachedTileReader, microns: float | None, image_key: str | None
) -> CellMeasurements:
    """Measure a cell on just the pixels around its nucleus."""
    width, height = reader.source.size
    x_min, y_min = np.floor(cell.nucleus.min(axis=0)).astype(int) - 1
    x_max, y_max = np.ceil(cell.nucleus.max(axis=0)).astype(int) + 2
    x_min, y_min = max(int(x_min), 0), max(int(y_min), 0)
    x_max, y_max = min(int(x_max), width), min(int(y_max), height)
    if x_max <= x_min or y_max <= y_min:
        return measure_cell(cell, None, microns, image_key)
    region = grey_of(reader.read_region(0, x_min, y_min, x_max - x_min, y_max - y_min))
    shifted = Cell(
        index=cell.index,
        cytoplasm=cell.cytoplasm - [x_min, y_min],
        nucleus=cell.nucleus - [x_min, y_min],
        class_name=cell.class_name,
    )
    return measure_cell(shifted, region, microns, image_key)
