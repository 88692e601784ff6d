"""A synthetic whole-slide image and its true cells, for tests and benchmarks.

`write_synthetic_slide` writes a pyramidal JPEG OME-TIFF painted by
`SlidePainter` and, beside it, every painted cell as QuPath GeoJSON: each a
cell object with its classification and its nucleus. Nothing in either file
comes from a person; both say so.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import tifffile

from engine.images.pyramid_writer import (
    Progress,
    PyramidLevel,
    SlideWriteError,
    write_pyramidal_ome_tiff,
)
from engine.images.slide_painter import SlidePainter, SlideRecipe
from engine.images.tiff_source import TIFF_OPENING
from engine.synthetic import SyntheticCell

log = logging.getLogger(__name__)

SYNTHETIC_MARK = "SYNTHETIC "  # how a synthetic slide's OME description starts

SYNTHETIC_NOTICE = (
    "SYNTHETIC slide drawn by Cervix Studio from random numbers; "
    "not a patient's cells, not for diagnosis"
)
SLIDE_SUFFIXES = (".ome.tiff", ".ome.tif", ".tiff", ".tif")
MIN_SIDE = 64


@dataclass(frozen=True)
class SyntheticSlide:
    """What `write_synthetic_slide` wrote."""

    path: Path
    cells_path: Path
    levels: list[PyramidLevel]
    cell_count: int
    seconds: float


def cells_path_for(slide_path: Path) -> Path:
    """`name.ome.tif` -> `name.cells.geojson`, beside the slide."""
    name = slide_path.name
    for suffix in SLIDE_SUFFIXES:
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    return slide_path.with_name(f"{name}.cells.geojson")


def write_synthetic_slide(
    path: Path | str,
    size: tuple[int, int],
    *,
    seed: int = 0,
    tile_size: int = 512,
    microns_per_pixel: float = 0.25,
    progress: Progress | None = None,
    workers: int | None = None,
) -> SyntheticSlide:
    """Paint a slide of `size` (width, height) into `path`, with its cells beside it.

    The same seed and size give the same pixels and cells, with any number
    of `workers` (threads that paint tiles ahead of the writer). Memory stays
    bounded whatever the size: tiles are painted and written a few at a time.
    """
    width, height = (int(side) for side in size)
    if width < MIN_SIDE or height < MIN_SIDE:
        raise ValueError(f"a slide must be at least {MIN_SIDE}x{MIN_SIDE} pixels")
    started = time.perf_counter()
    path = Path(path)
    cells_path = cells_path_for(path)
    recipe = SlideRecipe(width, height, seed=seed, microns_per_pixel=microns_per_pixel)
    painter = SlidePainter(recipe)
    geojson = _CellWriter(cells_path, painter, seed)

    def paint(tile_x: int, tile_y: int):
        return painter.paint_tile(
            tile_x * tile_size, tile_y * tile_size, tile_size, tile_size
        )

    def row_done(rows_done: int, rows: int) -> None:
        # Cells are listed one row of squares at a time, in a fixed order,
        # once painting has passed them.
        geojson.write_rows_above(rows_done * tile_size - recipe.margin)
        if progress is not None:
            progress(rows_done, rows)

    try:
        levels = write_pyramidal_ome_tiff(
            path,
            (width, height),
            paint,
            tile_size=tile_size,
            microns_per_pixel=microns_per_pixel,
            name=f"synthetic Pap smear, seed {seed}",
            description=SYNTHETIC_NOTICE,
            progress=row_done,
            workers=workers,
        )
        geojson.write_rows_above(None)
        geojson.finish()
    except BaseException:
        geojson.abandon()
        raise
    seconds = time.perf_counter() - started
    log.info(
        "synthetic slide %s: %d cells in %.1f s", path, geojson.cell_count, seconds
    )
    return SyntheticSlide(path, cells_path, levels, geojson.cell_count, seconds)


def cell_feature(cell: SyntheticCell, feature_id: str) -> dict:
    """One cell as a QuPath GeoJSON cell object with its nucleus."""
    return {
        "type": "Feature",
        "id": feature_id,
        "geometry": _polygon(cell.cytoplasm),
        "properties": {
            "objectType": "cell",
            "classification": {"name": cell.class_name},
            "nucleusGeometry": _polygon(cell.nucleus),
            "isLocked": False,
        },
    }


def _polygon(vertices) -> dict:
    ring = [[round(float(x), 2), round(float(y), 2)] for x, y in vertices]
    if ring[0] != ring[-1]:
        ring.append(ring[0])  # GeoJSON rings end where they start
    return {"type": "Polygon", "coordinates": [ring]}


class _CellWriter:
    """Streams the cells of each row of squares into a GeoJSON FeatureCollection."""

    def __init__(self, path: Path, painter: SlidePainter, seed: int):
        self.path = path
        self.partial = path.with_name(f".{path.name}.partial")
        self.painter = painter
        self.seed = seed
        self.cell_count = 0
        self._rows_written = 0
        try:
            self._file = self.partial.open("w", encoding="utf-8")
        except OSError as error:
            raise SlideWriteError(
                f"cannot write the cells file: {error.strerror or error}",
                path,
                "check that the folder exists and is writable",
            ) from error
        header = {
            "type": "FeatureCollection",
            # A foreign member (RFC 7946, 6.1): readers that do not know it skip it.
            "cervix": {"synthetic": True, "seed": seed, "notice": SYNTHETIC_NOTICE},
        }
        self._file.write(json.dumps(header)[:-1] + ', "features": [\n')

    def write_rows_above(self, y: int | None) -> None:
        """Write the cells of the rows of squares that end above row `y` (or all)."""
        recipe = self.painter.recipe
        columns, rows = recipe.grid
        while self._rows_written < rows and (
            y is None or (self._rows_written + 1) * recipe.square_size <= y
        ):
            row = self._rows_written
            for column in range(columns):
                for index, cell in enumerate(self.painter.take_cells(column, row)):
                    feature_id = uuid.uuid5(
                        uuid.NAMESPACE_URL,
                        f"cervix-synthetic-slide/{self.seed}/{column}/{row}/{index}",
                    )
                    separator = ",\n" if self.cell_count else ""
                    feature = cell_feature(cell, str(feature_id))
                    self._file.write(separator + json.dumps(feature))
                    self.cell_count += 1
            self._rows_written += 1

    def finish(self) -> None:
        try:
            self._file.write("\n]}\n")
            self._file.close()
            os.replace(self.partial, self.path)
        except OSError as error:
            raise SlideWriteError(
                f"cannot write the cells file: {error.strerror or error}",
                self.path,
                "check that the disk has free space",
            ) from error

    def abandon(self) -> None:
        self._file.close()
        self.partial.unlink(missing_ok=True)


def is_synthetic_slide(path: Path) -> bool:
    """Whether an OME-TIFF says in its image description that Cervix Studio drew
    it (`cervix synth-slide` writes "SYNTHETIC slide drawn by ..." there)."""
    if not path.name.lower().endswith((".ome.tif", ".ome.tiff")):
        return False
    try:
        with TIFF_OPENING, tifffile.TiffFile(path) as tiff:
            ome_xml = tiff.ome_metadata or ""
    except (OSError, ValueError, tifffile.TiffFileError) as error:
        log.debug("No OME description read from %s: %s", path, error)
        return False
    try:
        root = ElementTree.fromstring(ome_xml)
    except ElementTree.ParseError as error:
        log.debug("The OME-XML of %s does not parse: %s", path, error)
        return False
    return any(
        (element.text or "").startswith(SYNTHETIC_MARK)
        for element in root.iter()
        if element.tag.endswith("}Description") or element.tag == "Description"
    )
